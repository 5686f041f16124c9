/**
 * @file asbench.c  asbench: application-sharing calls through sharewayd,
 * end to end, both neighbours in one process (see asbench.h).
 *
 *   asbench rate N [--duration S]   start N calls/s for S s (open loop,
 *                                   in-flight capped), each hung up once
 *                                   set up (or --hold-time S later):
 *                                   setups/s, failures by reason, setup
 *                                   latency
 *   asbench hold N [--window W]     set up N calls (W at a time), probe
 *                                   each one both ways, then BYE all and
 *                                   check sharewayd's fds come back; its
 *                                   RSS right after the setups, --settle
 *                                   S (35) after the last setup (steady:
 *                                   Sofia keeps each setup's INVITE
 *                                   transactions 32 s, Timer D), and 1 s
 *                                   and S s after the BYEs
 *   asbench throughput S            one call, then S s of data one way and
 *                                   S s both ways through it, each next
 *                                   to the same through a plain TCP pair
 *
 * A call is set up when the conference has answered (and got the ACK of)
 * the gateway's completion re-INVITE, both agents' checks are complete
 * and the Edge's own completion re-INVITE got 200. Setup latency: INVITE
 * sent → 200 to the completion re-INVITE sent; connect latency: the Edge
 * relay's connect() → the same 200. --pid names sharewayd for its CPU,
 * RSS and fds. Each mode prints one "RESULT mode=..." line; any failure
 * makes the exit status 1 (with the reason on stderr).
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "asbench.h"

#define PROBE_WAIT_S 10.0
#define FDS_WAIT_S 30.0

/** sharewayd as seen from /proc at one moment */
struct as_snap {
	double cpu; /* s */
	long rss_kb, fds;
	double t;
	double self_cpu; /* asbench's own CPU, s */
};


static void usage(FILE *f)
{
	fprintf(f,
		"usage: asbench rate N | hold N | throughput S [options]\n"
		"  -g, --gateway A:P     sharewayd SIP, UDP   (127.0.0.1:5060)\n"
		"  -e, --edge-sip A:P    the Edge's SIP       (127.0.0.2:39002)\n"
		"  -c, --conf-sip A:P    the conference's SIP (127.0.0.3:39003)\n"
		"  -m, --conf-media A:P  its TCP-PASS listener (127.0.0.3:39004)\n"
		"  -d, --duration S      rate: seconds of calls (10)\n"
		"  -w, --window N        rate: in-flight cap (1000); hold: "
		"calls set up at a time (200)\n"
		"  -r, --rate N          hold: calls started per second at "
		"most (200)\n"
		"  -o, --call-timeout S  one call, INVITE to setup (15)\n"
		"  -H, --hold-time S     rate: keep each call up S s, its "
		"media open, before its BYE (0)\n"
		"  -s, --settle S        hold: RSS again S s after the last "
		"setup and S s after the BYEs (35; 0: not)\n"
		"  -R, --no-edge-reinvite  the Edge sends no completion "
		"re-INVITE\n"
		"  -W, --write N[KMG]    throughput: write size (64K)\n"
		"  -p, --pid PID         sharewayd, for CPU/RSS/fd figures\n"
		"  -T, --timeout S       give up after S seconds (300)\n");
}


static void snap(int pid, struct as_snap *s)
{
	struct rusage ru;

	s->t = tb_now();
	s->cpu = tb_proc_cpu(pid);
	s->rss_kb = tb_proc_status_kb(pid, "VmRSS");
	s->fds = tb_proc_fds(pid);
	s->self_cpu = -1;
	if (!getrusage(RUSAGE_SELF, &ru))
		s->self_cpu = (double)ru.ru_utime.tv_sec +
			      ru.ru_utime.tv_usec / 1e6 +
			      (double)ru.ru_stime.tv_sec +
			      ru.ru_stime.tv_usec / 1e6;
}


/* "timeout@conf_checks:2,no_relay_candidate:1" or "none" */
static void fail_list(const struct as_stats *st, char *buf, size_t sz)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int f = 1; f < AS_F_MAX; ++f) {
		if (!st->fail[f] || f == AS_F_TIMEOUT)
			continue;
		off += (size_t)snprintf(buf + off, off < sz ? sz - off : 0,
					"%s%s:%u", off ? "," : "",
					as_fail_name((enum as_fail)f),
					st->fail[f]);
	}
	for (unsigned i = 0; i < AS_P_BITS; ++i) {
		if (!st->fail_stage[i])
			continue;
		off += (size_t)snprintf(buf + off, off < sz ? sz - off : 0,
					"%stimeout@%s:%u", off ? "," : "",
					as_stage_name(1u << i),
					st->fail_stage[i]);
	}
	if (!buf[0])
		snprintf(buf, sz, "none");
}


/* p50/p99 of setup and connect → completion-200 latencies, ms */
static void lat_fields(struct as_run *r, char *buf, size_t sz)
{
	double s50 = tb_pctl(r->lat_setup, r->nlat, 0.5);
	double s99 = tb_pctl(r->lat_setup, r->nlat, 0.99);
	double c50 = tb_pctl(r->lat_connect, r->nlat, 0.5);
	double c99 = tb_pctl(r->lat_connect, r->nlat, 0.99);

	snprintf(buf, sz, "setup_p50_ms=%.2f setup_p99_ms=%.2f "
		 "connect_p50_ms=%.2f connect_p99_ms=%.2f", s50, s99, c50, c99);
}


static void sip_fields(const struct as_run *r, char *buf, size_t sz)
{
	snprintf(buf, sz, "sip_rtx_out=%u sip_rtx_in=%u sip_bad=%u "
		 "sip_stray=%u edge_491=%u check_rtx=%u pending_bad=%u",
		 r->st.sip_rtx_out, r->st.sip_rtx_in, r->st.sip_bad,
		 r->st.sip_stray, r->st.edge_491, r->st.check_rtx,
		 r->st.pending_bad);
}


/* Turn the loop until cond() or the global deadline */
static int run_until(struct as_run *r, bool (*cond)(struct as_run *r),
		     double step)
{
	int err = 0;

	while (!err && !cond(r))
		err = as_run_turn(r, tb_now() + step);
	if (err == ETIMEDOUT)
		fprintf(stderr, "asbench: run timed out (--timeout %u s)\n",
			r->o->timeout);
	return err;
}


static bool all_ended(struct as_run *r)
{
	return r->live == 0;
}


static double last_setup(const struct as_run *r)
{
	double t = 0;

	for (unsigned i = 0; i < r->ncalls; ++i) {
		if (r->calls[i].t_setup > t)
			t = r->calls[i].t_setup;
	}
	return t;
}


/* Open loop: call i starts at t0 + i/N unless the in-flight cap is hit */
static int rate_calls(struct as_run *r, unsigned total, double rate,
		      double t0)
{
	unsigned i = 0;
	int err = 0;

	while (!err && i < total) {
		double now = tb_now();

		for (; i < total && t0 + i / rate <= now; ++i) {
			if (r->inflight >= r->o->max_inflight) {
				r->st.fail[AS_F_CAP]++;
				r->st.failed++;
				continue;
			}
			err = as_call_start(r);
		}
		if (!err && i < total)
			err = as_run_turn(r, t0 + i / rate);
	}
	return err;
}


static void rate_report(struct as_run *r, const struct as_snap *b,
			const struct as_snap *a, double t0, unsigned total)
{
	char lat[160], fails[512], sip[200];
	double span = last_setup(r) - t0;
	double cpu = a->cpu >= 0 && b->cpu >= 0 ? a->cpu - b->cpu : -1;

	lat_fields(r, lat, sizeof(lat));
	fail_list(&r->st, fails, sizeof(fails));
	sip_fields(r, sip, sizeof(sip));
	printf("RESULT mode=rate offered_cps=%u duration_s=%g calls=%u "
	       "setups=%u failed=%u setups_per_s=%.1f %s "
	       "server_cpu_ms_per_call=%.3f driver_cpu_ms_per_call=%.3f "
	       "rss_kb_before=%ld rss_kb_after=%ld fds_before=%ld "
	       "fds_after=%ld %s failures=%s\n",
	       r->o->count, r->o->seconds, total, r->st.setups, r->st.failed,
	       span > 0 ? r->st.setups / span : 0, lat,
	       r->st.setups && cpu >= 0 ? cpu * 1e3 / r->st.setups : -1.0,
	       r->st.setups ? (a->self_cpu - b->self_cpu) * 1e3 /
	       r->st.setups : -1.0, b->rss_kb, a->rss_kb, b->fds, a->fds, sip,
	       fails);
	fprintf(stderr, "asbench rate: %u calls offered at %u/s, %u set up "
		"(%.1f/s), %u failed (%s); setup p50 %s\n", total, r->o->count,
		r->st.setups, span > 0 ? r->st.setups / span : 0,
		r->st.failed, fails, lat);
}


static int mode_rate(const struct as_opts *o)
{
	unsigned total = (unsigned)ceil(o->count * o->seconds);
	struct as_snap b, a;
	struct as_run r;
	double t0;
	int err;

	err = as_run_init(&r, o, total);
	if (err)
		goto out;
	r.after = AS_AFTER_BYE;
	snap(o->server_pid, &b);
	t0 = tb_now();
	err = rate_calls(&r, total, o->count, t0);
	err = err ? err : run_until(&r, all_ended, 0.1);
	snap(o->server_pid, &a);
	if (!err)
		rate_report(&r, &b, &a, t0, total);
	if (!err && r.st.failed)
		fprintf(stderr, "asbench: %u of %u calls failed\n", r.st.failed,
			total);
	err = err ? err : r.st.failed || !r.st.setups ? EPROTO : 0;
out:
	as_run_free(&r);
	return err;
}


/* hold: set up every call, at most `window` at a time and `rate` per s */
static int hold_setup(struct as_run *r, unsigned n)
{
	double t0 = tb_now(), rate = r->o->hold_rate;
	int err = 0;

	while (!err && (r->ncalls < n || r->inflight)) {
		while (!err && r->ncalls < n &&
		       r->inflight < r->o->max_inflight &&
		       t0 + r->ncalls / rate <= tb_now())
			err = as_call_start(r);
		err = err ? err : as_run_turn(r, r->ncalls < n ?
					      t0 + r->ncalls / rate :
					      tb_now() + 0.05);
	}
	return err;
}


static bool probed(const struct as_call *c)
{
	return c->e.probes_rx >= 1 && c->c.probes_rx >= 1;
}


/* One RTP probe each way through every held call */
static unsigned hold_probe(struct as_run *r)
{
	double until = tb_now() + PROBE_WAIT_S;
	unsigned left = 0, held = 0;

	for (unsigned i = 0; i < r->ncalls; ++i) {
		struct as_call *c = &r->calls[i];

		if (!(c->prog & AS_P_READY) || c->fail)
			continue;
		if (as_ice_probe(&c->e, 0) || as_ice_probe(&c->c, 0))
			as_call_fail(r, c, AS_F_PROBE);
		as_media_arm(r, c, &c->e, AS_FD_EDGE_TCP);
		as_media_arm(r, c, &c->c, AS_FD_CONF_TCP);
	}
	do {
		if (as_run_turn(r, tb_now() + 0.05))
			break;
		left = 0;
		for (unsigned i = 0; i < r->ncalls; ++i) {
			const struct as_call *c = &r->calls[i];

			left += c->prog & AS_P_READY && !c->fail && !probed(c);
		}
	} while (left && tb_now() < until);
	for (unsigned i = 0; i < r->ncalls; ++i) {
		struct as_call *c = &r->calls[i];

		if (!(c->prog & AS_P_READY) || c->fail)
			continue;
		if (probed(c)) {
			c->prog |= AS_P_PROBED;
			held++;
		} else {
			as_call_fail(r, c, AS_F_PROBE);
		}
	}
	return held;
}


/* BYE every call still up, at most `window` teardowns at a time */
static int hold_bye(struct as_run *r)
{
	unsigned next = 0, ended0 = r->st.ended, sent = 0;
	int err = 0;

	while (!err && (next < r->ncalls || r->live)) {
		while (next < r->ncalls &&
		       sent - (r->st.ended - ended0) < r->o->max_inflight) {
			struct as_call *c = &r->calls[next++];

			if (c->prog & AS_P_DONE || c->prog & AS_P_BYE)
				continue;
			if (as_edge_bye(r, c))
				as_call_end(r, c);
			else
				sent++;
		}
		err = as_run_turn(r, tb_now() + 0.05);
	}
	return err;
}


/* The held calls kept up (their sockets served) until `settle` s after
 * the last setup, at s[1].t: the steady state, without the setups'
 * transactions */
static int hold_steady(struct as_run *r, const struct as_snap *s,
		       struct as_snap *steady)
{
	double until = s[1].t + r->o->settle;
	int err = 0;

	while (!err && tb_now() < until)
		err = as_run_turn(r, until);
	if (!err)
		snap(r->o->server_pid, steady);
	return err;
}


/* After the last BYE was answered: sharewayd's fds back to where they
 * were before the first call (*secs: how long that took) and its RSS 1 s
 * after (*at1), both polled every 100 ms */
static long fds_settle(int pid, long before, double *secs,
		       struct as_snap *at1)
{
	double t0 = tb_now();
	long fds = tb_proc_fds(pid);

	*secs = -1;
	at1->t = 0;
	for (;;) {
		double now = tb_now();

		if (*secs < 0 && fds <= before)
			*secs = now - t0;
		if (!at1->t && now >= t0 + 1.0)
			snap(pid, at1);
		if (at1->t && (*secs >= 0 || now >= t0 + FDS_WAIT_S))
			break;
		usleep(100000);
		fds = tb_proc_fds(pid);
	}
	if (*secs < 0)
		*secs = tb_now() - t0;
	return fds;
}


/* RSS per held call of the snapshot s against before, in kB */
static double kb_per(const struct as_snap *s, const struct as_snap *before,
		     unsigned held)
{
	return held && s->t ? (double)(s->rss_kb - before->rss_kb) / held : 0;
}


/* s: before the first call, right after the setups, 35 s later (steady,
 * t 0 if not taken), 1 s and 35 s after the BYEs */
static void hold_report(struct as_run *r, const struct as_snap *s,
			unsigned held, long fds_after, double settle)
{
	char lat[160], fails[512], sip[200];
	double span = s[1].t - s[0].t;
	long dfds = s[1].fds - s[0].fds;

	lat_fields(r, lat, sizeof(lat));
	fail_list(&r->st, fails, sizeof(fails));
	sip_fields(r, sip, sizeof(sip));
	printf("RESULT mode=hold asked=%u setups=%u held=%u window=%u rate=%g "
	       "setup_s=%.2f setups_per_s=%.1f %s rss_kb_before=%ld "
	       "rss_kb_held=%ld kb_per_call=%.1f settle_s=%u "
	       "rss_kb_steady=%ld kb_per_call_steady=%.1f rss_kb_bye1=%ld "
	       "rss_kb_bye_settle=%ld fds_before=%ld fds_held=%ld "
	       "fds_per_call=%.2f fds_after=%ld fds_returned=%s "
	       "fds_return_s=%.1f "
	       "server_cpu_ms_per_setup=%.3f %s failures=%s\n",
	       r->o->count, r->st.setups, held, r->o->max_inflight,
	       r->o->hold_rate, span,
	       span > 0 ? r->st.setups / span : 0, lat, s[0].rss_kb,
	       s[1].rss_kb, kb_per(&s[1], &s[0], held), r->o->settle,
	       s[2].t ? s[2].rss_kb : -1, kb_per(&s[2], &s[0], held),
	       s[3].t ? s[3].rss_kb : -1, s[4].t ? s[4].rss_kb : -1,
	       s[0].fds, s[1].fds, held ? (double)dfds / held : 0, fds_after,
	       fds_after >= 0 && fds_after <= s[0].fds ? "yes" : "no", settle,
	       r->st.setups && s[1].cpu >= 0 ?
	       (s[1].cpu - s[0].cpu) * 1e3 / r->st.setups : -1.0, sip, fails);
	fprintf(stderr, "asbench hold: %u of %u calls held and probed both "
		"ways; sharewayd fds %ld -> %ld -> %ld, RSS %ld -> %ld kB "
		"(%ld %u s later; after the BYEs %ld at 1 s, %ld at %u s); "
		"failures: %s\n", held, r->o->count, s[0].fds, s[1].fds,
		fds_after, s[0].rss_kb, s[1].rss_kb, s[2].rss_kb,
		r->o->settle, s[3].rss_kb, s[4].rss_kb, r->o->settle, fails);
}


static int mode_hold(const struct as_opts *o)
{
	struct as_snap s[5];
	unsigned held = 0;
	struct as_run r;
	long fds_after = -1;
	double settle = 0;
	int err;

	err = as_run_init(&r, o, o->count);
	if (err)
		goto out;
	r.after = AS_AFTER_HOLD;
	memset(s, 0, sizeof(s));
	snap(o->server_pid, &s[0]);
	err = hold_setup(&r, o->count);
	snap(o->server_pid, &s[1]);
	held = err ? 0 : hold_probe(&r);
	/* the phases on stderr as they end, for profiling scripts that
	 * take their own measures of sharewayd at the same points */
	fprintf(stderr, "asbench hold: %u held, probed\n", held);
	if (!err && o->settle)
		err = hold_steady(&r, s, &s[2]);
	err = err ? err : hold_bye(&r);
	fprintf(stderr, "asbench hold: every BYE answered\n");
	if (!err && o->server_pid > 0)
		fds_after = fds_settle(o->server_pid, s[0].fds, &settle,
				       &s[3]);
	if (!err && o->server_pid > 0 && o->settle) {
		double at = s[3].t - 1.0 + o->settle; /* the BYEs + settle */

		while (tb_now() < at)
			usleep(100000);
		snap(o->server_pid, &s[4]);
	}
	if (!err)
		hold_report(&r, s, held, fds_after, settle);
	if (!err && (held < o->count ||
		     (o->server_pid > 0 && fds_after > s[0].fds))) {
		fprintf(stderr, "asbench: %u of %u calls held; sharewayd fds "
			"%ld after the BYEs, %ld before\n", held, o->count,
			fds_after, s[0].fds);
		err = EPROTO;
	}
out:
	as_run_free(&r);
	return err;
}


/* throughput: one phase through the call and one through the pair */
static int tp_phase(const struct as_run *r, const struct as_call *c,
		    const int pair[2], bool both, struct as_flow_result *res)
{
	const struct as_opts *o = r->o;
	int err;

	err = as_data_run(pair[0], pair[1], both, o->seconds, o->wsize,
			  &res[0]);
	err = err ? err : as_data_run(c->e.fd, c->c.fd, both, o->seconds,
				      o->wsize, &res[1]);
	return err;
}


static void tp_report(const struct as_run *r, const struct as_call *c,
		      const struct as_flow_result *res, double cpu)
{
	uint64_t lost = res[1].sent - res[1].received +
			res[3].sent - res[3].received;
	double gb = (double)(res[1].received + res[3].received) / 1e9;

	printf("RESULT mode=throughput seconds=%g wsize=%zu "
	       "direct_gbps=%.2f bridged_gbps=%.2f direct_both_gbps=%.2f "
	       "bridged_both_gbps=%.2f bridged_both_ab_gbps=%.2f "
	       "bridged_both_ba_gbps=%.2f bridged_pct=%.0f "
	       "bridged_both_pct=%.0f bridged_lost_bytes=%llu bad_frames=%u "
	       "server_cpu_s_per_gb=%.3f setup_ms=%.2f connect_ms=%.2f\n",
	       r->o->seconds, r->o->wsize, res[0].gbps, res[1].gbps,
	       res[2].gbps, res[3].gbps, res[3].gbps_ab, res[3].gbps_ba,
	       res[0].gbps > 0 ? 100 * res[1].gbps / res[0].gbps : 0,
	       res[2].gbps > 0 ? 100 * res[3].gbps / res[2].gbps : 0,
	       (unsigned long long)lost,
	       res[0].bad_frames + res[1].bad_frames + res[2].bad_frames +
	       res[3].bad_frames, cpu >= 0 && gb > 0 ? cpu / gb : -1.0,
	       (c->t_final - c->t_invite) * 1e3,
	       (c->t_final - c->t_connect) * 1e3);
	fprintf(stderr, "asbench throughput: one way %.2f Gbit/s bridged, "
		"%.2f direct; both ways %.2f bridged, %.2f direct\n",
		res[1].gbps, res[0].gbps, res[3].gbps, res[2].gbps);
}


static bool setup_or_failed(struct as_run *r)
{
	return r->ncalls && (r->calls[0].prog & AS_P_READY || r->calls[0].fail);
}


/* One call up, then one way and both ways, each direct then bridged */
static int tp_measure(struct as_run *r, struct as_call *c)
{
	struct as_flow_result res[4];
	struct as_snap a, b;
	int pair[2], err;

	err = as_data_direct_pair(&pair[0], &pair[1]);
	if (err) {
		fprintf(stderr, "asbench: direct pair: %s\n", strerror(err));
		return err;
	}
	snap(r->o->server_pid, &b);
	err = tp_phase(r, c, pair, false, &res[0]);
	err = err ? err : tp_phase(r, c, pair, true, &res[2]);
	snap(r->o->server_pid, &a);
	close(pair[0]);
	close(pair[1]);
	if (err)
		fprintf(stderr, "asbench: data phase: %s\n", strerror(err));
	else
		tp_report(r, c, res, a.cpu >= 0 && b.cpu >= 0 ?
			  a.cpu - b.cpu : -1);
	if (!err && (res[1].sent != res[1].received ||
		     res[3].sent != res[3].received || res[1].bad_frames ||
		     res[3].bad_frames))
		err = EPROTO;
	return err;
}


static int mode_throughput(const struct as_opts *o)
{
	struct as_run r;
	struct as_call *c;
	int err;

	err = as_run_init(&r, o, 1);
	if (err)
		goto out;
	r.after = AS_AFTER_HOLD;
	err = as_call_start(&r);
	err = err ? err : run_until(&r, setup_or_failed, 0.05);
	c = &r.calls[0];
	if (!err && c->fail) {
		fprintf(stderr, "asbench: the call failed: %s\n",
			as_fail_name(c->fail));
		err = EPROTO;
	}
	err = err ? err : tp_measure(&r, c);
	if (!(c->prog & AS_P_DONE) && as_edge_bye(&r, c))
		as_call_end(&r, c);
	if (!err)
		err = run_until(&r, all_ended, 0.05);
out:
	as_run_free(&r);
	return err;
}


static int parse_secs(const char *s, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	return errno || end == s || *end || !(*v > 0) || *v > 86400 ?
	       EINVAL : 0;
}


static void opts_default(struct as_opts *o)
{
	memset(o, 0, sizeof(*o));
	sw_sa_parse(&o->gw, "127.0.0.1", 5060);
	sw_sa_parse(&o->edge_sip, "127.0.0.2", 39002);
	sw_sa_parse(&o->conf_sip, "127.0.0.3", 39003);
	sw_sa_parse(&o->conf_media, "127.0.0.3", 39004);
	o->seconds = 10;
	o->call_timeout = 15;
	o->edge_reinvite = true;
	o->timeout = 300;
	o->wsize = 64 * 1024;
	o->hold_rate = 200;
	o->settle = 35;
}


static int opt_one(struct as_opts *o, int c, const char *arg)
{
	uint64_t v;
	unsigned n = 0;
	int err = 0;

	switch (c) {
	case 'g': err = sw_sa_parse(&o->gw, arg, 5060); break;
	case 'e': err = sw_sa_parse(&o->edge_sip, arg, 0); break;
	case 'c': err = sw_sa_parse(&o->conf_sip, arg, 0); break;
	case 'm': err = sw_sa_parse(&o->conf_media, arg, 0); break;
	case 'd': err = parse_secs(arg, &o->seconds); break;
	case 'w': err = tb_parse_uint(arg, 1000000, &o->max_inflight); break;
	case 'r': err = tb_parse_uint(arg, 1000000, &n);
		  o->hold_rate = n;
		  err = err || !n ? EINVAL : 0;
		  break;
	case 'o': err = parse_secs(arg, &o->call_timeout); break;
	case 'H': err = parse_secs(arg, &o->hold_time); break;
	case 's': o->settle = 0; /* "0": no settle (tb_parse_uint refuses 0) */
		  err = strcmp(arg, "0") ? tb_parse_uint(arg, 86400, &o->settle)
					 : 0;
		  break;
	case 'R': o->edge_reinvite = false; break;
	case 'W': err = tb_parse_size(arg, 1ull << 40, &v);
		  err = err || v < 64 || v > (64u << 20) ? EINVAL : 0;
		  o->wsize = (size_t)v;
		  break;
	case 'p': err = tb_parse_uint(arg, 1000000, &n);
		  o->server_pid = (int)n;
		  break;
	case 'T': err = tb_parse_uint(arg, 1000000, &o->timeout); break;
	default: err = EINVAL; break;
	}
	return err;
}


/* MODE and its number: calls/s (rate), calls (hold), seconds (throughput) */
static int opts_mode(struct as_opts *o, const char *mode, const char *arg)
{
	o->mode = mode;
	if (!strcmp(mode, "rate") || !strcmp(mode, "hold")) {
		if (tb_parse_uint(arg, 1000000, &o->count) || !o->count)
			return EINVAL;
		if (!o->max_inflight)
			o->max_inflight = strcmp(mode, "rate") ? 200 : 1000;
		return 0;
	}
	if (!strcmp(mode, "throughput"))
		return parse_secs(arg, &o->seconds);
	return EINVAL;
}


static int opts_parse(struct as_opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{"gateway", 1, NULL, 'g'},   {"edge-sip", 1, NULL, 'e'},
		{"conf-sip", 1, NULL, 'c'},  {"conf-media", 1, NULL, 'm'},
		{"duration", 1, NULL, 'd'},  {"window", 1, NULL, 'w'},
		{"rate", 1, NULL, 'r'},
		{"call-timeout", 1, NULL, 'o'},
		{"hold-time", 1, NULL, 'H'},
		{"settle", 1, NULL, 's'},
		{"no-edge-reinvite", 0, NULL, 'R'},
		{"write", 1, NULL, 'W'},     {"pid", 1, NULL, 'p'},
		{"timeout", 1, NULL, 'T'},   {NULL, 0, NULL, 0},
	};
	int c;

	opts_default(o);
	if (argc < 3 || argv[1][0] == '-' || argv[2][0] == '-')
		return EINVAL;
	optind = 3;
	while ((c = getopt_long(argc, argv, "g:e:c:m:d:w:r:o:H:s:RW:p:T:", lo,
				NULL)) != -1) {
		if (opt_one(o, c, optarg)) {
			fprintf(stderr, "asbench: bad option -%c %s\n", c,
				optarg ? optarg : "");
			return EINVAL;
		}
	}
	if (optind != argc)
		return EINVAL;
	return opts_mode(o, argv[1], argv[2]);
}


int main(int argc, char **argv)
{
	struct as_opts o;
	int err;

	if (argc == 2 && (!strcmp(argv[1], "--help") ||
			  !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	if (opts_parse(&o, argc, argv)) {
		usage(stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	tb_alarm("asbench: run timed out (alarm)\n",
		 o.timeout + 30); /* the loop's own deadline comes first */
	setvbuf(stdout, NULL, _IOLBF, 0);
	tb_raise_nofile(20000);
	if (!strcmp(o.mode, "rate"))
		err = mode_rate(&o);
	else if (!strcmp(o.mode, "hold"))
		err = mode_hold(&o);
	else
		err = mode_throughput(&o);
	return err ? 1 : 0;
}
