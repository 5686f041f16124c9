/**
 * @file sw_gw_metrics.c  What /metrics says ([metrics] enable), and the
 * HEP copies of a call's messages ([hep] enable).
 *
 * Metrics. The page is rendered on the metrics thread
 * (src/metrics/sw_metrics.c) by sw_gw_metrics_collect(), from what each
 * thread publishes without a lock: the SIP thread's struct sw_gw_metrics
 * (sw_gw.h: counted as things happen, and at each 1 s tick a copy of the
 * values the SIP thread keeps in plain fields), the relay threads' own
 * counters (relaxed atomics, relay_counters()), the logger's suppressed
 * lines. Series are bounded: labels are the program's constants (state,
 * outcome, method, class, direction), never a call, user or address.
 *
 * HEP. Every SIP message of a call as the capture rebuilt it (real
 * addresses, ports, transport; TLS as its cleartext) goes as HEPv3 type 1
 * with correlation id = leg A's Call-ID, so Homer shows both legs of the
 * B2BUA as one call (leg B also carries X-CID). The TURN and ICE messages
 * the relay copied for the call go as type 100 (log) lines with the same
 * correlation id: HEP has no STUN type, and this is how Kamailio and
 * rtpengine send a call's non-SIP events to Homer. Sent from the SIP
 * thread with one non-blocking send() each (base/sw_hep.c).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define SW_LOG_MODULE "hep"
#include "relay.h"
#include "sw_calllog.h"
#include "sw_gw.h"
#include "sw_hep.h"
#include "sw_log.h"

/* Buckets of the call setup time and of the app-sharing completion */
static const struct sw_hist_bounds setup_b = {
	10, {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}};
static const struct sw_hist_bounds completion_b = {
	9, {0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30}};

#define LOAD(x) atomic_load_explicit(&(x), memory_order_relaxed)
#define STORE(x, v) atomic_store_explicit(&(x), (v), memory_order_relaxed)


void sw_gw_metrics_init(struct sw_gw *gw)
{
	sw_hist_init(&gw->m.setup, &setup_b);
	sw_hist_init(&gw->m.as.completion, &completion_b);
}




/* The zones' peers as probed (sip/sipua_peers.c), summed: up, down,
 * failed probes, calls moved on to another peer */
static void peers_publish(struct sw_gw *gw)
{
	static struct sipua_peer_info v[SIPUA_MAX_PEERS]; /* SIP thread */
	unsigned n = sipua_peers_info(gw->ua, v, SIPUA_MAX_PEERS);
	uint64_t up = 0, failed = 0, fo = 0;

	for (unsigned i = 0; i < n; ++i) {
		up += v[i].up;
		failed += v[i].probes_failed;
		fo += v[i].failovers;
	}
	STORE(gw->m.peers_up, up);
	STORE(gw->m.peers_down, n - up);
	STORE(gw->m.peer_probes_failed, failed);
	STORE(gw->m.peer_failovers, fo);
}


/** The SIP thread's 1 s tick: publish what it keeps in plain fields */
void sw_gw_metrics_tick(struct sw_gw *gw)
{
	uint64_t calls[SW_GWM_CALL_N] = {0}, as[SW_AS_M_COUNT] = {0};
	struct sipua_conn_stats cs;
	struct sipua_msg_counts mc;

	for (const struct sw_gwcall *c = gw->calls; c; c = c->next) {
		int s;

		if (!c->ended)
			calls[c->answered ? SW_GWM_CONNECTED
					  : SW_GWM_SETUP]++;
		if (!c->ended &&
		    (s = sw_appshare_metrics_state(c->as)) >= 0 &&
		    s < SW_AS_M_COUNT)
			as[s]++;
	}
	for (unsigned i = 0; i < SW_GWM_CALL_N; ++i)
		STORE(gw->m.calls[i], calls[i]);
	for (unsigned i = 0; i < SW_AS_M_COUNT; ++i)
		STORE(gw->m.as_sessions[i], as[i]);
	STORE(gw->m.sheds, sipua_overload_rejects(gw->ua));
	sipua_conn_stats(gw->ua, &cs);
	STORE(gw->m.tcp_refused, cs.refused);
	STORE(gw->m.tcp_shed, cs.shed);
	STORE(gw->m.cmd_delayed, gw->cmd_delayed);
	STORE(gw->m.cmd_lost, gw->cmd_lost);
	peers_publish(gw);
	sipua_msg_counts(gw->ua, &mc);
	for (unsigned d = 0; d < 2; ++d) {
		for (unsigned k = 0; k < SIPUA_M_N; ++k)
			STORE(gw->m.req[d][k], mc.req[d][k]);
		for (unsigned k = 0; k < 6; ++k)
			STORE(gw->m.resp[d][k], mc.resp[d][k]);
	}
	if (gw->hep) {
		STORE(gw->m.hep_sent, LOAD(gw->hep->sent));
		STORE(gw->m.hep_failed, LOAD(gw->hep->failed));
	}
}


static void fam(struct sw_prom *p, const char *name, const char *type,
		const char *help)
{
	sw_prom_family(p, name, type, help);
}


/* a family of one sample, no label */
static void one(struct sw_prom *p, const char *name, const char *type,
		const char *help, uint64_t v)
{
	sw_prom_family(p, name, type, help);
	sw_prom_u64(p, name, NULL, v);
}


static void lbl1(struct sw_prom *p, const char *name, const char *k,
		 const char *v, uint64_t n)
{
	char l[96];

	snprintf(l, sizeof(l), "%s=\"%s\"", k, v);
	sw_prom_u64(p, name, l, n);
}


static void collect_sip(struct sw_prom *p, const struct sw_gw_metrics *m)
{
	static const char *const call_st[SW_GWM_CALL_N] = {"setup",
							   "connected"};
	static const char *const as_st[SW_AS_M_COUNT] = {
		[SW_AS_M_OFFERED] = "offered", [SW_AS_M_NO_RELAY] = "no_relay",
		[SW_AS_M_CHECKING] = "checking", [SW_AS_M_FAILED] = "failed",
		[SW_AS_M_COMPLETED] = "completed", [SW_AS_M_DIRECT] = "direct"};
	static const char *const dirs[2] = {"in", "out"};
	char l[96];

	fam(p, "shareway_calls_in_progress", "gauge",
	    "Calls in progress by state (setup: no 2xx toward the caller yet).");
	for (unsigned i = 0; i < SW_GWM_CALL_N; ++i)
		lbl1(p, "shareway_calls_in_progress", "state", call_st[i],
		     LOAD(m->calls[i]));
	fam(p, "shareway_appsharing_sessions", "gauge",
	    "Application-sharing sessions of calls in progress by state.");
	for (unsigned i = 0; i < SW_AS_M_COUNT; ++i)
		lbl1(p, "shareway_appsharing_sessions", "state", as_st[i],
		     LOAD(m->as_sessions[i]));
	fam(p, "shareway_calls_ended_total", "counter",
	    "Calls ended, by outcome.");
	for (int s = SW_CS_COMPLETED; s <= SW_CS_FAILED; ++s)
		lbl1(p, "shareway_calls_ended_total", "outcome",
		     sw_call_state_name((enum sw_call_state)s),
		     LOAD(m->ended[s]));
	fam(p, "shareway_sip_requests_total", "counter",
	    "SIP requests received (in) and sent (out) by method, as the "
	    "capture sees them ([calllog] capture_sip).");
	for (unsigned d = 0; d < 2; ++d)
		for (unsigned k = 0; k < SIPUA_M_N; ++k) {
			snprintf(l, sizeof(l), "direction=\"%s\",method=\"%s\"",
				 dirs[d], sipua_method_name(k));
			sw_prom_u64(p, "shareway_sip_requests_total", l,
				    LOAD(m->req[d][k]));
		}
	fam(p, "shareway_sip_responses_total", "counter",
	    "SIP responses received (in) and sent (out) by class.");
	for (unsigned d = 0; d < 2; ++d)
		for (unsigned k = 0; k < 6; ++k) {
			snprintf(l, sizeof(l), "direction=\"%s\",class=\"%uxx\"",
				 dirs[d], k + 1);
			sw_prom_u64(p, "shareway_sip_responses_total", l,
				    LOAD(m->resp[d][k]));
		}
	one(p, "shareway_sip_shed_total", "counter",
	    "New INVITEs answered 503 by admission control (max_calls, "
	    "max_cps).",
	    LOAD(m->sheds));
	one(p, "shareway_sip_tcp_refused_total", "counter",
	    "TCP/TLS connections reset at accept (tcp_max_per_source, out of "
	    "descriptors).",
	    LOAD(m->tcp_refused));
	fam(p, "shareway_zone_peers", "gauge",
	    "Peers of the zones' peer lists by state (OPTIONS probing).");
	lbl1(p, "shareway_zone_peers", "state", "up", LOAD(m->peers_up));
	lbl1(p, "shareway_zone_peers", "state", "down", LOAD(m->peers_down));
	one(p, "shareway_zone_peer_probes_failed_total", "counter",
	    "OPTIONS probes of zone peers unanswered or failed.",
	    LOAD(m->peer_probes_failed));
	one(p, "shareway_zone_peer_failovers_total", "counter",
	    "Calls moved on from a zone peer (408, 503, transport error).",
	    LOAD(m->peer_failovers));
	one(p, "shareway_sip_tcp_shed_total", "counter",
	    "TCP/TLS connections closed for bringing no request in time.",
	    LOAD(m->tcp_shed));
}


static void collect_as(struct sw_prom *p, const struct sw_gw_metrics *m)
{
	static const char *const dirs[2] = {"edge_to_conference",
					    "conference_to_edge"};
	static const char *const ri[SW_AS_RI_COUNT] = {"ok", "refused",
						       "abandoned"};
	char l[96];

	fam(p, "shareway_ice_checks_total", "counter",
	    "ICE connectivity checks through the relay by direction and "
	    "outcome, once per session and direction.");
	for (unsigned d = 0; d < 2; ++d)
		for (unsigned o = 0; o < 2; ++o) {
			snprintf(l, sizeof(l), "direction=\"%s\",outcome=\"%s\"",
				 dirs[d], o ? "failed" : "succeeded");
			sw_prom_u64(p, "shareway_ice_checks_total", l,
				    LOAD(m->as.ice[d][o]));
		}
	fam(p, "shareway_completion_reinvites_total", "counter",
	    "The gateway's completion re-INVITEs by outcome (abandoned: the "
	    "call ended first).");
	for (unsigned i = 0; i < SW_AS_RI_COUNT; ++i)
		lbl1(p, "shareway_completion_reinvites_total", "outcome", ri[i],
		     LOAD(m->as.reinvite[i]));
	sw_prom_hist(p, "shareway_call_setup_seconds",
		     "From the INVITE to the 2xx toward the caller.", &m->setup);
	sw_prom_hist(p, "shareway_appsharing_completion_seconds",
		     "From the first relay connection of a session to its "
		     "completion re-INVITE.", &m->as.completion);
}


static void collect_turn(struct sw_prom *p, const struct relay *r,
			 const struct sw_conf *conf)
{
	uint32_t range = conf->turn_port_max - conf->turn_port_min + 1;
	struct turn_counters c;
	uint64_t live;

	relay_counters(r, &c);
	/* the counters shown as they are, one sample each */
	const struct {
		const char *name, *type, *help;
		uint64_t v;
	} t1[] = {
		{"shareway_turn_auth_failures_total", "counter",
		 "TURN requests refused for their credentials.",
		 c.auth_failures},
		{"shareway_turn_denied_peers_total", "counter",
		 "Peers refused by the peer policy.",
		 c.denied_peers},
		{"shareway_turn_bad_messages_total", "counter",
		 "Malformed STUN/TURN messages.",
		 c.bad_messages},
		{"shareway_turn_dropped_total", "counter",
		 "Packets the relay dropped (a full queue or socket).",
		 c.dropped},
		{"shareway_turn_accept_shed_total", "counter",
		 "Connections closed at once for want of descriptors.",
		 c.accept_shed},
		{"shareway_turn_redirects_total", "counter",
		 "Allocates answered 300 Try Alternate (drain, load).",
		 c.redirects},
		{"shareway_turn_prebind_bytes", "gauge",
		 "Peer bytes held awaiting a ConnectionBind.",
		 c.prebind_bytes},
	};

	live = c.allocs_udp + c.allocs_tcp;
	/* one relayed port per allocation (an EVEN-PORT reservation holds
	 * one more): the estimate the cluster registry reports too */
	one(p, "shareway_turn_relay_ports_free", "gauge",
	    "Relay ports not held by an allocation (estimate: one each).",
	    live < range ? range - live : 0);
	fam(p, "shareway_turn_allocations", "gauge",
	    "TURN allocations live, by transport (tcp: RFC 6062).");
	lbl1(p, "shareway_turn_allocations", "transport", "udp", c.allocs_udp);
	lbl1(p, "shareway_turn_allocations", "transport", "tcp", c.allocs_tcp);
	fam(p, "shareway_turn_allocations_created_total", "counter",
	    "TURN allocations created, by transport (the gateway's own "
	    "in-process ones included).");
	lbl1(p, "shareway_turn_allocations_created_total", "transport", "udp",
	     c.allocs_total - c.allocs_tcp_total);
	lbl1(p, "shareway_turn_allocations_created_total", "transport", "tcp",
	     c.allocs_tcp_total);
	one(p, "shareway_turn_connections", "gauge",
	    "RFC 6062 peer connections live.",
	    c.conns_active);
	one(p, "shareway_turn_connections_created_total", "counter",
	    "RFC 6062 peer connections created.",
	    c.conns_total);
	fam(p, "shareway_turn_relayed_bytes_total", "counter",
	    "Bytes relayed, by direction.");
	lbl1(p, "shareway_turn_relayed_bytes_total", "direction", "to_peer",
	     c.bytes_to_peer);
	lbl1(p, "shareway_turn_relayed_bytes_total", "direction", "to_client",
	     c.bytes_to_client);
	for (size_t i = 0; i < sizeof(t1) / sizeof(t1[0]); ++i)
		one(p, t1[i].name, t1[i].type, t1[i].help, t1[i].v);
}


/* The call-log writer's counters (its relaxed atomics) */
static void collect_calllog(struct sw_prom *p, struct sw_calllog *cl)
{
	struct sw_calllog_stats st;

	sw_calllog_stats(cl, &st);
	fam(p, "shareway_calls_verdict_total", "counter",
	    "Calls ended, by the class of their call-log verdict (info: ended "
	    "early, no fault; fail: something to fix).");
	lbl1(p, "shareway_calls_verdict_total", "class", "ok", st.verdict_ok);
	lbl1(p, "shareway_calls_verdict_total", "class", "info",
	     st.verdict_info);
	lbl1(p, "shareway_calls_verdict_total", "class", "fail",
	     st.verdict_fail);
	one(p, "shareway_calllog_dropped_total", "counter",
	    "Call-log messages dropped (queue full or out of memory).",
	    st.dropped);
	one(p, "shareway_calllog_pending", "gauge",
	    "Call-log messages waiting in the writer's queue.", st.pending);
}


/** The page (the metrics thread; reads only what others publish) */
void sw_gw_metrics_collect(struct sw_prom *p, void *arg)
{
	const struct sw_gw *gw = arg;
	const struct sw_gw_metrics *m = &gw->m;

	fam(p, "shareway_build_info", "gauge",
	    "The running version (value 1).");
	lbl1(p, "shareway_build_info", "version", PACKAGE_VERSION, 1);
	collect_sip(p, m);
	collect_as(p, m);
	if (gw->relay)
		collect_turn(p, gw->relay, gw->conf);
	if (gw->cl)
		collect_calllog(p, gw->cl);
	one(p, "shareway_relay_commands_delayed_total", "counter",
	    "Commands to a relay thread its full queue refused at first.",
	    LOAD(m->cmd_delayed));
	one(p, "shareway_relay_commands_lost_total", "counter",
	    "Commands to a relay thread lost after 5 s of full queue.",
	    LOAD(m->cmd_lost));
	one(p, "shareway_log_suppressed_total", "counter",
	    "Log lines suppressed by rate limits.",
	    sw_log_suppressed_total());
	fam(p, "shareway_hep_packets_total", "counter",
	    "HEP packets sent to the collector, and those that could not be.");
	lbl1(p, "shareway_hep_packets_total", "result", "sent",
	     LOAD(m->hep_sent));
	lbl1(p, "shareway_hep_packets_total", "result", "failed",
	     LOAD(m->hep_failed));
}


/* ---- HEP ----------------------------------------------------------- */

/* A failed send is counted (metrics); a collector that is down would
 * make every message fail: one line a second at most */
static void hep_send(struct sw_gw *gw, const struct sw_hep_msg *m)
{
	int e = sw_hep_send(gw->hep, m);

	if (e)
		sw_log_limited(SW_LOG_WARN, "[hep] not sent: %s", strerror(e));
}


/* A TURN/ICE message of a call, as a log line correlated with it (the
 * coordinator's host operation hep_log) */
static void hep_log(struct sw_gw *gw, const struct sw_gwcall *c,
		    const struct sw_sa *src, const struct sw_sa *dst,
		    int64_t t_us, const char *text)
{
	struct sw_hep_msg m = {0};

	if (!gw->hep || !c->call_id[0])
		return;
	m.src = src;
	m.dst = dst;
	m.ip_proto = 6;
	m.t_us = t_us;
	m.proto_type = SW_HEP_LOG;
	m.correlation = c->call_id;
	m.payload = text;
	m.len = strlen(text);
	hep_send(gw, &m);
}


/** [hep] as configured: the sender, and the coordinator's TURN/ICE
 *  messages with [hep] ice. A failure is logged; calls go on. */
int sw_gw_hep_open(struct sw_gw *gw, const struct sw_conf *conf)
{
	char a[SW_SA_STRLEN];
	int e;

	if (!conf->hep_enable)
		return 0;
	e = sw_hep_open(&gw->hep, &conf->hep_collector, conf->hep_capture_id,
			conf->hep_node_name, conf->hep_password);
	sw_sa_str(&conf->hep_collector, a, sizeof(a));
	if (e) {
		sw_error("[hep] cannot send to %s: %s", a, strerror(e));
		return e;
	}
	gw->host.hep_log = conf->hep_ice ? hep_log : NULL;
	sw_notice("HEP capture to %s (capture id %u, node %s)", a,
		  conf->hep_capture_id, conf->hep_node_name);
	return 0;
}


void sw_gw_hep_close(struct sw_gw *gw)
{
	gw->host.hep_log = NULL;
	sw_hep_close(gw->hep);
	gw->hep = NULL;
}


/** A SIP message of a call, as on the wire */
void sw_gw_hep_sip(struct sw_gw *gw, const char *call_id,
		   const struct sipua_msg *msg)
{
	struct sw_hep_msg m = {0};

	if (!gw->hep)
		return;
	m.src = &msg->src;
	m.dst = &msg->dst;
	m.ip_proto = msg->tp == SW_TP_UDP ? 17 : 6;
	m.t_us = msg->t_us;
	m.proto_type = SW_HEP_SIP;
	m.correlation = call_id;
	m.payload = msg->data;
	m.len = msg->len;
	hep_send(gw, &m);
}
