/**
 * @file sw_gwcluster.c  The cluster thread's SIP-thread side (sw_gwcluster.h).
 *
 * Every second the SIP thread tells the cluster thread its load (calls,
 * TURN allocations, relay ports free, draining or not) in a value
 * message; it keeps the last registry view and status the cluster thread
 * sent back, for the control socket's `cluster` command and for whoever
 * needs the registry (the TURN redirect of issue 15); and it hands the
 * TURN users and REST secrets read from PostgreSQL to the relay threads,
 * added to those of shareway.conf.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define SW_LOG_MODULE "cluster"
#include "relay.h"
#include "sw_ctl.h"
#include "sw_gwcluster.h"
#include "sw_json.h"
#include "sw_log.h"


/**
 * Add the TURN users and REST secrets last read from PostgreSQL to those
 * of nc (a name in both: the file's user wins); nothing before the first
 * read or without [cluster]
 */
void sw_gwcluster_merge_creds(const struct sw_gwcluster *g, struct sw_conf *nc)
{
	const struct sw_cluster_creds *cr = g->creds;
	unsigned file_users = nc->n_turn_users;

	if (!cr)
		return;
	for (unsigned i = 0; i < cr->n_users; ++i) {
		bool dup = false;

		for (unsigned j = 0; j < file_users && !dup; ++j)
			dup = !strcmp(nc->turn_users[j].name,
				      cr->users[i].name);
		if (dup || nc->n_turn_users >= SW_CONF_MAX_USERS)
			continue;
		nc->turn_users[nc->n_turn_users++] = cr->users[i];
	}
	nc->n_turn_secrets = 0;
	for (unsigned i = 0; i < cr->n_secrets &&
			     nc->n_turn_secrets < SW_CONF_MAX_SECRETS; ++i)
		memcpy(nc->turn_secrets[nc->n_turn_secrets++], cr->secrets[i],
		       sizeof(nc->turn_secrets[0]));
}


/* New credentials from PostgreSQL: the configuration's users and secret
 * in force (the last reload's) with them, to every relay thread */
static void creds_apply(struct sw_gwcluster *g, struct sw_cluster_creds *cr)
{
	struct sw_conf *nc = malloc(sizeof(*nc));
	int e;

	free(g->creds);
	g->creds = cr;
	if (!nc)
		return;
	*nc = *g->base;
	sw_gwcluster_merge_creds(g, nc);
	e = g->relay ? relay_set_users(g->relay, nc) : 0;
	if (e)
		sw_error("TURN credentials from PostgreSQL not handed to every "
			 "relay thread (%s): the next change is", strerror(e));
	free(nc);
}


/** A reload's configuration is in force: its TURN users and secret are
 * the base the next credentials from PostgreSQL are added to */
void sw_gwcluster_reloaded(struct sw_gwcluster *g, const struct sw_conf *nc)
{
	if (g->base)
		*g->base = *nc;
}


static void on_cluster(int fd, void *arg)
{
	struct sw_gwcluster *g = arg;
	struct sw_cluster_msg m;

	(void)fd;
	while (sw_cluster_pop(g->cl, &m)) {
		if (m.type == SW_CLUSTER_VIEW) {
			g->view = m.view;
			g->status = m.status;
			if (g->on_view)
				g->on_view(g->view_arg, &g->view);
		} else if (m.type == SW_CLUSTER_CREDS && m.creds) {
			creds_apply(g, m.creds);
			continue; /* g keeps it */
		}
		free(m.creds);
	}
}


static void on_tick(int fd, void *arg)
{
	struct sw_gwcluster *g = arg;
	struct sw_cluster_load l = {
		.draining = g->draining_src ? *g->draining_src : g->draining};
	uint64_t n;

	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return;
	l.calls = sipua_call_count(g->ua);
	if (g->relay) {
		struct turn_counters tc;
		uint32_t range = g->conf->turn_port_max - g->conf->turn_port_min
				 + 1;

		relay_counters(g->relay, &tc);
		l.allocs = (uint32_t)(tc.allocs_udp + tc.allocs_tcp);
		l.ports_free = l.allocs < range ? range - l.allocs : 0;
	}
	sw_cluster_report(g->cl, &l); /* full: the next tick's will do */
}


static int ctl_cluster(struct sw_json *res, const struct sw_jval *args,
		       void *arg)
{
	const struct sw_gwcluster *g = arg;
	const struct sw_cluster_status *st = &g->status;
	char a[SW_SA_STRLEN];

	(void)args;
	sw_json_obj_open(res, "cluster");
	sw_json_str(res, "instance", g->conf->cluster_instance);
	sw_json_bool(res, "db_up", st->db_up);
	sw_json_int(res, "since_us", st->since_us);
	sw_json_int(res, "shipped", (int64_t)st->shipped);
	sw_json_int(res, "ship_batches", (int64_t)st->ship_batches);
	sw_json_int(res, "shipped_end_us", st->shipped_end_us);
	sw_json_int(res, "gone_marked", (int64_t)st->gone_marked);
	sw_json_int(res, "calls_cut", (int64_t)st->calls_cut);
	sw_json_int(res, "turn_users_db", g->creds ? g->creds->n_users : 0);
	sw_json_int(res, "turn_secrets_db",
		    g->creds ? g->creds->n_secrets : 0);
	if (st->error[0])
		sw_json_str(res, "error", st->error);
	sw_json_int(res, "view_at_us", g->view.at_us);
	sw_json_arr_open(res, "instances");
	for (unsigned i = 0; i < g->view.n; ++i) {
		const struct sw_cluview_inst *in = &g->view.inst[i];

		sw_json_obj_open(res, NULL);
		sw_json_str(res, "name", in->name);
		sw_json_str(res, "sip", sw_sa_isset(&in->sip) ?
			    sw_sa_str(&in->sip, a, sizeof(a)) : "");
		sw_json_str(res, "turn", sw_sa_isset(&in->turn) ?
			    sw_sa_str(&in->turn, a, sizeof(a)) : "");
		sw_json_str(res, "state", sw_inst_state_name(in->state));
		sw_json_int(res, "calls", in->calls);
		sw_json_int(res, "allocs", in->allocs);
		sw_json_int(res, "ports_free", in->ports_free);
		sw_json_int(res, "heartbeat_age_ms", in->hb_age_ms);
		sw_json_bool(res, "self", in->self);
		sw_json_obj_close(res);
	}
	sw_json_arr_close(res);
	sw_json_obj_close(res);
	return 0;
}


/**
 * Start the cluster thread and its SIP-thread side ([cluster] enable =
 * yes; otherwise nothing happens and g stays inert). relay may be NULL.
 *
 * @return 0 or an errno value
 */
int sw_gwcluster_start(struct sw_gwcluster *g, const struct sw_conf *conf,
		       struct sipua *ua, struct relay *relay,
		       struct sw_ctl *ctl)
{
	struct itimerspec its = {{1, 0}, {1, 0}};
	int e;

	g->tick_fd = -1; /* hooks set by the caller stay */
	if (!conf->cluster_enable)
		return 0;
	g->conf = conf;
	g->ua = ua;
	g->relay = relay;
	g->base = malloc(sizeof(*g->base));
	if (!g->base)
		return ENOMEM;
	*g->base = *conf;
	e = sw_cluster_start(&g->cl, conf);
	if (e)
		return e;
	g->tick_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK |
				    TFD_CLOEXEC);
	if (g->tick_fd < 0) {
		e = errno;
		goto fail;
	}
	timerfd_settime(g->tick_fd, 0, &its, NULL);
	e = sipua_fd_watch(ua, g->tick_fd, on_tick, g);
	if (!e)
		e = sipua_fd_watch(ua, sw_cluster_fd(g->cl), on_cluster, g);
	if (!e)
		e = sw_ctl_register(ctl, "cluster", ctl_cluster, g);
	if (!e) /* shareway status: one more member */
		e = sw_ctl_register(ctl, "status", ctl_cluster, g);
	if (!e) {
		on_tick(g->tick_fd, g); /* the first heartbeat has a load */
		return 0;
	}
fail:
	sw_gwcluster_stop(g);
	return e;
}


/** SIP thread, after the calls ended and the call log was flushed: the
 * cluster thread ships the rest and leaves the registry */
void sw_gwcluster_stop(struct sw_gwcluster *g)
{
	free(g->creds);
	g->creds = NULL;
	free(g->base);
	g->base = NULL;
	if (!g->cl)
		return;
	if (g->tick_fd >= 0) {
		sipua_fd_unwatch(g->ua, g->tick_fd);
		close(g->tick_fd);
		g->tick_fd = -1;
	}
	sipua_fd_unwatch(g->ua, sw_cluster_fd(g->cl));
	sw_cluster_stop(g->cl);
	g->cl = NULL;
}


/** Draining: the registry says so from the next heartbeat on */
void sw_gwcluster_set_draining(struct sw_gwcluster *g, bool draining)
{
	g->draining = draining;
}


/** The last registry view read (n = 0 before the first, or without
 * [cluster]) */
const struct sw_cluview *sw_gwcluster_view(const struct sw_gwcluster *g)
{
	return &g->view;
}
