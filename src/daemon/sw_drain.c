/**
 * @file sw_drain.c  Drain and TURN redirects (see sw_drain.h): the
 * control commands "drain" (args {"action": "on" | "off" | "query"}) and
 * the "drain" member of "status", and the redirect the relay threads are
 * told whenever it changes: on while draining or while the instance holds
 * [turn] redirect_allocations allocations or more, to the alternate the
 * cluster view names.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "relay.h"
#include "sw_calllog.h"
#include "sw_drain.h"
#include "sw_log.h"


/* At redirect_allocations, and only toward a lighter instance: two
 * loaded instances must not send a client to and fro */
static bool loaded(const struct sw_drain *d)
{
	return d->conf->turn_redirect_allocs &&
	       d->allocs >= d->conf->turn_redirect_allocs &&
	       d->alt_allocs < d->allocs;
}


/* Tell the relay threads when what they should do changed */
static void redirect_update(struct sw_drain *d)
{
	struct turn_redirect rd;
	bool on = (d->on || loaded(d)) && sw_sa_isset(&d->alt);
	char a[SW_SA_STRLEN];

	if (!d->relay)
		return;
	if (on == d->redirecting &&
	    (!on || (sw_sa_cmp(&d->alt, &d->sent_alt, true) &&
		     sw_sa_cmp(&d->alt_tls, &d->sent_tls, true))))
		return;
	memset(&rd, 0, sizeof(rd));
	rd.on = on;
	rd.server = d->alt;
	rd.tls = d->alt_tls;
	if (relay_set_redirect(d->relay, &rd))
		return; /* a queue stayed full: the next tick tries again */
	d->redirecting = on;
	d->sent_alt = d->alt;
	d->sent_tls = d->alt_tls;
	if (on)
		sw_notice("TURN: new external allocations go to %s (%s) with "
			  "300 Try Alternate: %s", d->alt_name,
			  sw_sa_str(&d->alt, a, sizeof(a)),
			  d->on ? "draining" : "redirect_allocations reached");
	else
		sw_notice("TURN: new external allocations are made here");
}


static void on_tick(int fd, void *arg)
{
	struct sw_drain *d = arg;
	struct turn_counters c;
	uint64_t n;

	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		sw_debug("drain tick: %s", strerror(errno));
	if (!d->relay)
		return;
	relay_counters(d->relay, &c);
	d->allocs = c.allocs_udp + c.allocs_tcp;
	redirect_update(d);
}


void sw_drain_set(struct sw_drain *d, bool on)
{
	if (d->on == on)
		return;
	d->on = on;
	d->since_us = on ? sw_calllog_now() : 0;
	sipua_drain(d->ua, on);
	redirect_update(d);
}


void sw_drain_alternate(struct sw_drain *d, const char *name,
			const struct sw_sa *turn, const struct sw_sa *tls,
			uint32_t allocs)
{
	d->alt_allocs = allocs;
	memset(&d->alt, 0, sizeof(d->alt));
	memset(&d->alt_tls, 0, sizeof(d->alt_tls));
	if (turn)
		d->alt = *turn;
	if (tls)
		d->alt_tls = *tls;
	snprintf(d->alt_name, sizeof(d->alt_name), "%s", name ? name : "-");
	redirect_update(d);
}


/* What is left: calls in progress and relayed connections (the media of
 * calls, the gateway's own and those of external clients) */
static void drain_json(struct sw_drain *d, struct sw_json *res)
{
	struct turn_counters c;

	memset(&c, 0, sizeof(c));
	if (d->relay)
		relay_counters(d->relay, &c);
	sw_json_obj_open(res, "drain");
	sw_json_bool(res, "draining", d->on);
	sw_json_int(res, "since_us", d->since_us);
	sw_json_int(res, "calls", sipua_call_count(d->ua));
	sw_json_int(res, "relay_conns", (int64_t)c.conns_active);
	sw_json_int(res, "allocations", (int64_t)(c.allocs_udp + c.allocs_tcp));
	sw_json_int(res, "rejected", (int64_t)sipua_drain_rejects(d->ua));
	sw_json_int(res, "redirects", (int64_t)c.redirects);
	sw_json_bool(res, "redirecting", d->redirecting);
	if (sw_sa_isset(&d->alt)) {
		char a[SW_SA_STRLEN];

		sw_json_str(res, "alternate", d->alt_name);
		sw_json_str(res, "alternate_turn",
			    sw_sa_str(&d->alt, a, sizeof(a)));
	}
	sw_json_obj_close(res);
}


static int ctl_drain(struct sw_json *res, const struct sw_jval *args,
		     void *arg)
{
	struct sw_drain *d = arg;
	const char *action = sw_jval_str(args, "action", "on");

	if (!strcmp(action, "on") || !strcmp(action, "off")) {
		bool on = !strcmp(action, "on");

		if (on != d->on)
			sw_notice("control socket: %s", on ? "drain" :
				  "undrain");
		sw_drain_set(d, on);
	} else if (strcmp(action, "query")) {
		return EINVAL;
	}
	drain_json(d, res);
	return 0;
}


static int ctl_status(struct sw_json *res, const struct sw_jval *args,
		      void *arg)
{
	(void)args;
	drain_json(arg, res);
	return 0;
}


int sw_drain_init(struct sw_drain *d, struct sipua *ua, struct relay *relay,
		  const struct sw_conf *conf, struct sw_ctl *ctl)
{
	struct itimerspec its = {{1, 0}, {1, 0}};
	int err;

	memset(d, 0, sizeof(*d));
	d->tick_fd = -1;
	d->ua = ua;
	d->relay = relay;
	d->conf = conf;
	d->tick_fd = timerfd_create(CLOCK_MONOTONIC,
				    TFD_NONBLOCK | TFD_CLOEXEC);
	if (d->tick_fd < 0)
		return errno;
	timerfd_settime(d->tick_fd, 0, &its, NULL);
	err = sipua_fd_watch(ua, d->tick_fd, on_tick, d);
	if (!err && ctl)
		err = sw_ctl_register(ctl, "drain", ctl_drain, d);
	if (!err && ctl)
		err = sw_ctl_register(ctl, "status", ctl_status, d);
	return err;
}


void sw_drain_close(struct sw_drain *d)
{
	if (d->tick_fd >= 0) {
		sipua_fd_unwatch(d->ua, d->tick_fd);
		close(d->tick_fd);
	}
	d->tick_fd = -1;
}
