/**
 * @file sw_appshare.c  The application-sharing coordinator (SIP thread).
 *
 * For an `m=applicationsharing` stream whose rule says `relay`, the
 * gateway anchors the media on its own RFC 6062 relay: when SDP crosses
 * from the conference side toward the Edge, it allocates a TCP relay for
 * an in-process TURN client (same state machine as external clients) and
 * inserts `TCP-PASS typ relay` candidates for components 1 and 2. When the
 * Edge's relay connects, the in-process client binds the connection and
 * bridges it to the conference's TCP-PASS candidates in priority order, in
 * inspect mode: every STUN Binding message is reported here.
 *
 * Valid pair rule: a connection is a valid pair when a Binding success
 * answered a Binding request in both directions on it. Microsoft endpoints
 * put components 1 and 2 on the same TCP port, so one connection to that
 * address serves both; a component is complete when a valid connection
 * reached the address its conference candidate names (observe mode, where
 * the gateway does not choose the target, one valid connection serves all).
 *
 * Selected pair rule: the pair is the one the controlling agent (the side
 * that offered the stream) nominated, with USE-CANDIDATE on a check that
 * succeeded (aggressive or regular nomination alike). When every
 * component is complete on nominated connections, they switch to splice
 * and the gateway sends the completion re-INVITE toward the controlled
 * agent; the controlling agent's own completion re-INVITE is answered
 * here, with the candidates it knows, and never forwarded. The relay sees
 * only the checks that go through it, so a nomination elsewhere (a direct
 * path) is inferred, never guessed: from the controlling agent's own
 * completion offer naming a pair without the gateway (that re-INVITE is
 * then forwarded as it is), or when check_timeout passes with the
 * controlling agent's own checks succeeded through the relay and no
 * nomination there (its pair is valid once its own check succeeds, and a
 * conforming agent nominates a valid pair at once). Then no
 * completion re-INVITE names the relay, the relay is released, and the
 * call log says the media took a direct path.
 *
 * `observe`: the conference is itself a TURN client of the gateway; SDP
 * passes unchanged, relay candidates naming one of the gateway's relayed
 * addresses tie that allocation to the call (RELAY_CMD_WATCH).
 *
 * With [appsharing] inside_candidate, the conference also gets a passive
 * candidate on the gateway's inside address, for a conference server that
 * only connects actively; its connection is bridged by the in-process
 * client's Connect to the Edge's passive candidates (turn/relay_inside.c).
 *
 * SfB reuses a call's dialog for several sharing sessions (stopped with
 * port 0, restarted with new ICE credentials by the next presenter): each
 * gets its own relay, checks and completion; an SDP crossing once a
 * session's pair is selected (hold, resume) leaves the relay as it is.
 *
 * A session is a state machine (enum as_state in sw_appshare_int.h):
 * every SDP crossing, relay event, tick and call end becomes an event of
 * it, and as_step() alone changes its state, from one table, before the
 * event's actions run; what the table says cannot happen is logged and
 * changes nothing. This file reaches the glue's calls, pool and relay
 * commands only through struct sw_as_host (sw_appshare.h); relay and
 * observe are its policies' operations (struct sw_as_policy, at the end).
 *
 * The SDP side (candidates read and written, the selected pair) is in
 * sw_appshare_sdp.c; the per-call state in sw_appshare_int.h.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SW_LOG_MODULE "appshare"
#include "relay.h"
#include "sdpr.h"
#include "sw_appshare.h"
#include "sw_appshare_int.h"
#include "sw_calllog.h"
#include "sw_json.h"
#include "sw_log.h"
#include "sw_rules.h"
#include "turn_msg.h"


/* An event and what it carries: an SDP crossing and the hook's answer to
 * it, a relay event, a pooled allocation, the tick's time, a reason */
struct as_in {
	enum as_event ev;
	enum sw_media_policy p;
	bool from_edge;
	enum sipua_sdp_kind kind;
	struct sdpr *sdp; /* body's parse, edited in place by a rewrite */
	int m;
	const char *body;
	size_t len;
	char **outp;
	size_t *outlenp;
	int ret; /* the SDP hook's answer: 0, a status, SIPUA_SDP_LOCAL */
	const struct relay_ev *rev;
	const struct sw_gw_pooled *pooled;
	int err;
	int64_t now;
	const char *why;
};

static bool as_step(struct sw_as_host *h, struct sw_gwcall *c,
		    struct as_in *in);


static const char *const state_names[AS_ST_COUNT] = {
	[AS_ST_IDLE] = "idle",         [AS_ST_OFFERED] = "offered",
	[AS_ST_NO_RELAY] = "no-relay", [AS_ST_CHECKING] = "checking",
	[AS_ST_COMPLETED] = "completed", [AS_ST_DIRECT] = "direct",
};

static const char *const event_names[AS_EV_COUNT] = {
	[AS_EV_OFFER] = "offer",
	[AS_EV_ANSWER] = "answer",
	[AS_EV_LOCAL_OFFER] = "offer answered here or 491",
	[AS_EV_STOP] = "port 0",
	[AS_EV_RESTART] = "ICE restart",
	[AS_EV_TAKEN] = "relay taken",
	[AS_EV_NO_RELAY] = "no relay",
	[AS_EV_COMPLETION] = "completion offer",
	[AS_EV_BYPASS] = "nominated elsewhere",
	[AS_EV_SELECTED] = "pair selected",
	[AS_EV_RELAY] = "relay event",
	[AS_EV_ALLOC_GONE] = "allocation gone",
	[AS_EV_TICK] = "tick",
	[AS_EV_END] = "call end",
};


const char *sw_as_state_name(enum as_state st)
{
	return (unsigned)st < AS_ST_COUNT ? state_names[st] : "?";
}


const char *sw_as_event_name(enum as_event ev)
{
	return (unsigned)ev < AS_EV_COUNT ? event_names[ev] : "?";
}


/*
 * The session's transitions: next[state][event], AS_ST_IMPOSSIBLE where
 * the event cannot happen in the state (an answer with no session
 * offered, a relay event before the session has a relay, a restart of
 * nothing). A relay event of an earlier session never gets here
 * (old_event()).
 */
#define IDLE AS_ST_IDLE
#define OFFR AS_ST_OFFERED
#define NORL AS_ST_NO_RELAY
#define CHKG AS_ST_CHECKING
#define CMPL AS_ST_COMPLETED
#define DRCT AS_ST_DIRECT
#define NONE AS_ST_IMPOSSIBLE
static const uint8_t next_state[AS_ST_COUNT][AS_EV_COUNT] = {
	/*        OFFER ANSWR LOCAL STOP  RSTRT TAKEN NORLY COMPL BYPAS
	 *        SELCT RELAY GONE  TICK  END */
	[IDLE] = {OFFR, NONE, IDLE, IDLE, NONE, NONE, NONE, NONE, NONE,
		  NONE, NONE, NONE, IDLE, IDLE},
	[OFFR] = {OFFR, OFFR, OFFR, IDLE, IDLE, CHKG, NORL, NONE, NONE,
		  NONE, NONE, NONE, OFFR, OFFR},
	[NORL] = {NORL, NORL, NORL, IDLE, IDLE, NONE, NONE, NONE, NONE,
		  NONE, NONE, NONE, NORL, NORL},
	[CHKG] = {CHKG, CHKG, CHKG, IDLE, IDLE, CHKG, NORL, CHKG, DRCT,
		  CMPL, CHKG, CHKG, CHKG, CHKG},
	[CMPL] = {CMPL, CMPL, CMPL, IDLE, IDLE, NONE, NONE, CMPL, DRCT,
		  NONE, CMPL, CMPL, CMPL, CMPL},
	[DRCT] = {DRCT, DRCT, DRCT, IDLE, IDLE, NONE, NONE, NONE, NONE,
		  NONE, DRCT, DRCT, DRCT, DRCT},
};
#undef IDLE
#undef OFFR
#undef NORL
#undef CHKG
#undef CMPL
#undef DRCT
#undef NONE


/** @return the session's state after ev in st, AS_ST_IMPOSSIBLE if ev
 *          cannot happen in st */
enum as_state sw_as_next(enum as_state st, enum as_event ev)
{
	if ((unsigned)st >= AS_ST_COUNT || (unsigned)ev >= AS_EV_COUNT)
		return AS_ST_IMPOSSIBLE;
	return (enum as_state)next_state[st][ev];
}


/* An ICE direction's transitions: a request starts the checks (a failed
 * direction stays failed until a success), a success is a success
 * whatever came before, a timeout fails a direction not yet succeeded
 * (once: the tick skips a failed one). SW_ICE_UNKNOWN on impossible. */
static const uint8_t ice_next[SW_ICE_FAILED + 1][AS_ICE_EV_COUNT] = {
	[SW_ICE_UNKNOWN] = {SW_ICE_CHECKING, SW_ICE_SUCCEEDED, SW_ICE_FAILED},
	[SW_ICE_WAITING] = {SW_ICE_CHECKING, SW_ICE_SUCCEEDED, SW_ICE_FAILED},
	[SW_ICE_CHECKING] = {SW_ICE_CHECKING, SW_ICE_SUCCEEDED, SW_ICE_FAILED},
	[SW_ICE_SUCCEEDED] = {SW_ICE_SUCCEEDED, SW_ICE_SUCCEEDED,
			      SW_ICE_UNKNOWN},
	[SW_ICE_FAILED] = {SW_ICE_FAILED, SW_ICE_SUCCEEDED, SW_ICE_UNKNOWN},
};


/** @return an ICE direction's state after ev, SW_ICE_UNKNOWN if ev
 *          cannot happen in s */
enum sw_ice_state sw_as_ice_next(enum sw_ice_state s, enum as_ice_event ev)
{
	if ((unsigned)s > SW_ICE_FAILED || (unsigned)ev >= AS_ICE_EV_COUNT)
		return SW_ICE_UNKNOWN;
	return (enum sw_ice_state)ice_next[s][ev];
}


/* The only writer of an ICE direction's state */
static void as_ice_step(struct sw_gwcall *c, enum sw_ice_dir d,
			enum as_ice_event ev)
{
	struct as_dir *dir = &c->as->dir[d];
	enum sw_ice_state to = sw_as_ice_next(dir->rec.state, ev);

	static const char *const evn[AS_ICE_EV_COUNT] = {"request", "success",
							 "timeout"};

	if (to == SW_ICE_UNKNOWN) {
		c->as->n_impossible++;
		sw_log_limited(SW_LOG_INFO, "[call %s] ICE %s: %s impossible in "
			       "state %s, ignored", c->tag, sw_ice_dir_name(d),
			       (unsigned)ev < AS_ICE_EV_COUNT ? evn[ev] : "?",
			       sw_ice_state_name(dir->rec.state));
		return;
	}
	if (to != dir->rec.state)
		sw_debug("[call %s] ICE %s: %s -> %s", c->tag,
			 sw_ice_dir_name(d), sw_ice_state_name(dir->rec.state),
			 sw_ice_state_name(to));
	dir->rec.state = to;
}


/* The session's allocation changes (an action of as_step()'s) */
static void as_set_alloc(struct sw_gwcall *c, enum as_alloc a)
{
	static const char *const names[] = {"none", "held", "watched",
					    "deleting"};

	if (a != c->as->alloc)
		sw_debug("[call %s] application sharing relay: %s -> %s",
			 c->tag, names[c->as->alloc], names[a]);
	c->as->alloc = a;
}


/** @return whether the session holds the gateway's own allocation */
bool sw_as_allocated(const struct sw_appshare_call *as)
{
	return as->alloc == AS_AL_HELD || as->alloc == AS_AL_DELETING;
}


/* The session's state changes: the only place it is written */
static void as_set_state(struct sw_gwcall *c, enum as_state to,
			 enum as_event ev)
{
	if (to != c->as->st)
		sw_debug("[call %s] application sharing session %u: %s -> %s "
			 "(%s)", c->tag, c->as->session,
			 sw_as_state_name(c->as->st), sw_as_state_name(to),
			 sw_as_event_name(ev));
	c->as->st = to;
}


/* What the current session allocated (the lists are allocated to their
 * size); the fields are cleared by the caller */
static void session_free(struct sw_appshare_call *as)
{
	free(as->to_conf);
	free(as->to_edge);
	free(as->edge_ips);
	free(as->conf);
	free(as->conf_act);
	free(as->edge);
	for (unsigned i = 0; i < as->n_conns; ++i)
		free(as->conns[i]);
	for (int d = 0; d < 2; ++d)
		free(as->dir[d].bad_user);
}


void sw_appshare_free(struct sw_appshare_call *as)
{
	if (!as)
		return;
	session_free(as);
	free(as);
}


/* The SDP body going on from one side to the other: the last sent to
 * that side, the base of the selected pair's SDP toward it */
static void save_sent(struct sw_appshare_call *as, bool from_edge,
		      const char *b, size_t len)
{
	char **dst = from_edge ? &as->to_conf : &as->to_edge;
	char *n = malloc(len + 1);

	if (!n)
		return;
	memcpy(n, b, len);
	n[len] = '\0';
	free(*dst);
	*dst = n;
	*(from_edge ? &as->to_conf_len : &as->to_edge_len) = len;
}


/* A ladder step at time t_us (the call log orders steps by time) */
static void log_event_at(struct sw_as_host *h, struct sw_gwcall *c, int64_t t_us,
			 enum sw_actor src, enum sw_actor dst,
			 enum sw_ev_kind kind, const char *label,
			 const char *detail)
{
	struct sw_rec_event ev = {.t_us = t_us, .src = src, .dst = dst,
				  .kind = kind, .label = label,
				  .detail = detail};

	/* with SIP capture on, the messages themselves are in the ladder */
	if (kind == SW_EV_SIP && h->conf->calllog_capture_sip)
		return;
	if (h->cl)
		sw_calllog_event(h->cl, c->uid, &ev);
}


static void log_event(struct sw_as_host *h, struct sw_gwcall *c,
		      enum sw_actor src, enum sw_actor dst,
		      enum sw_ev_kind kind, const char *label,
		      const char *detail)
{
	log_event_at(h, c, sw_gw_now_us(), src, dst, kind, label, detail);
}


static void take_relay(struct sw_as_host *h, struct sw_gwcall *c);
static void went_direct(struct sw_as_host *h, struct sw_gwcall *c,
			const char *why);


/* The in-process relay of session number relay is released */
static void log_released(struct sw_as_host *h, struct sw_gwcall *c,
			 uint32_t relay, const char *why)
{
	struct sw_rec_relay r;

	if (!h->cl || !sw_as_inprocess(c->as))
		return;
	memset(&r, 0, sizeof(r));
	r.relay = relay;
	r.released_us = sw_gw_now_us();
	r.close_reason = why;
	sw_calllog_relay(h->cl, c->uid, &r);
}


/* The in-process client's TURN steps are calls into the relay thread's
 * state machine, not messages on a wire: the ladder shows them as notes,
 * so that its STUN/TURN messages are exactly those of `export --pcap` */
#define INPROC " (in-process)"


/* A STUN/TURN message of the call to the HEP collector as a log line
 * (h->hep_log): its method and class from its header. An inspected
 * frame keeps its RFC 4571 length; a control message is bare. */
static void hep_wire(struct sw_as_host *h, struct sw_gwcall *c,
		     const struct relay_wire *w)
{
	static const uint8_t cookie[4] = {0x21, 0x12, 0xa4, 0x42};
	const uint8_t *s = w->data;
	char text[160];
	uint16_t t;

	if (!h->hep_log || !s || w->len < 20)
		return;
	if (memcmp(s + 4, cookie, 4)) {
		if (w->len < 22 || memcmp(s + 6, cookie, 4))
			return;
		s += 2;
	}
	t = (uint16_t)(s[0] << 8 | s[1]);
	snprintf(text, sizeof(text),
		 "{\"event\":\"stun\",\"method\":\"%s\",\"class\":\"%s\","
		 "\"bytes\":%zu,\"tls\":%s}",
		 turn_method_name((uint16_t)((t & 0x000f) | (t & 0x00e0) >> 1 |
					     (t & 0x3e00) >> 2)),
		 turn_class_name((uint8_t)((t & 0x0010) >> 4 |
					   (t & 0x0100) >> 7)),
		 w->len, w->tls ? "true" : "false");
	h->hep_log(h->gw, c, &w->src, &w->dst, w->t_us, text);
}


/*
 * A STUN/TURN message the relay copied as it crossed a socket (an ICE
 * check on an inspected connection, the TURN control messages of a
 * watched allocation): stored for `shareway export --pcap`, and drawn on
 * the ladder from its bytes. At most AS_WIRE_MAX per call; what is not
 * recorded (this cap, the relay's, memory) is counted and said.
 */
static void log_wire(struct sw_as_host *h, struct sw_gwcall *c,
		     const struct relay_wire *w, enum sw_actor src,
		     enum sw_actor dst)
{
	struct sw_appshare_call *as = c->as;
	struct sw_rec_packet pkt;
	char d[96];

	hep_wire(h, c, w);
	if (!h->cl || !c->uid)
		return;
	if (w->data && as->n_wire < AS_WIRE_MAX) {
		memset(&pkt, 0, sizeof(pkt));
		pkt.t_us = w->t_us;
		pkt.transport = w->tls ? SW_PKT_TLS : SW_PKT_TCP;
		pkt.src = w->src;
		pkt.dst = w->dst;
		pkt.data = w->data;
		pkt.len = w->len;
		if (!sw_calllog_stunmsg(h->cl, c->uid, src, dst, &pkt)) {
			as->n_wire++;
			return;
		}
	}
	if (!as->wire_lost) {
		snprintf(d, sizeof(d), "some STUN/TURN messages are not in "
			 "the ladder nor the export (at most %u per call)",
			 AS_WIRE_MAX);
		log_event_at(h, c, w->t_us, SW_ACT_GW, SW_ACT_GW, SW_EV_NOTE,
			     "capture incomplete", d);
	}
	as->wire_lost += w->n_lost ? w->n_lost : 1;
}


/* The call is over: how many messages its capture missed */
static void log_wire_lost(struct sw_as_host *h, struct sw_gwcall *c)
{
	char d[64];

	if (!c->as->wire_lost)
		return;
	sw_info("[call %s] %u STUN/TURN messages not recorded for export",
		c->tag, c->as->wire_lost);
	snprintf(d, sizeof(d), "%u STUN/TURN messages not recorded",
		 c->as->wire_lost);
	log_event(h, c, SW_ACT_GW, SW_ACT_GW, SW_EV_NOTE,
		  "capture incomplete", d);
}


/* The Edge's candidate addresses, the relay's permissions: "ip ip ..." */
static const char *perms_str(const struct sw_appshare_call *as, char *buf,
			     size_t sz)
{
	char ip[SW_SA_STRLEN];
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < as->n_edge_ips && n < sz; ++i)
		n += (size_t)snprintf(buf + n, sz - n, "%s%s", n ? " " : "",
				      sw_sa_ntop(&as->edge_ips[i], ip,
						 sizeof(ip)));
	return buf;
}


/* The PERMIT of the call's allocation: the Edge's candidate addresses,
 * and its passive candidates as targets of inside connections */
static void permit_fill(const struct sw_appshare_call *as,
			struct relay_cmd *cmd)
{
	memset(cmd, 0, sizeof(*cmd));
	for (unsigned i = 0; i < as->n_edge_ips && i < RELAY_MAX_ADDRS; ++i)
		cmd->addrs[cmd->n_addrs++] = as->edge_ips[i];
	cmd->n_targets = sw_as_cand_addrs(as->edge, as->n_edge, cmd->targets);
}


/* Permit Edge addresses learnt after the allocation was taken (when the
 * conference side offered, the Edge's candidates come with its answer),
 * and give the inside connections the Edge's latest passive candidates */
static void send_permit(struct sw_as_host *h, struct sw_gwcall *c)
{
	struct sw_appshare_call *as = c->as;
	struct sw_rec_relay r;
	struct relay_cmd cmd;
	char perms[512];
	bool new_ips = as->n_edge_ips > as->n_permitted;

	if (!sw_as_allocated(as) ||
	    (!new_ips && !(as->targets_dirty && sw_sa_isset(&as->inside))))
		return;
	permit_fill(as, &cmd);
	cmd.type = RELAY_CMD_PERMIT;
	cmd.call_id = c->id;
	cmd.alloc_id = as->alloc_id;
	h->cmd(h->gw, &cmd); /* sent, or late: the call hears of it */
	as->n_permitted = as->n_edge_ips;
	as->targets_dirty = false;
	if (!h->cl || !new_ips)
		return;
	perms_str(as, perms, sizeof(perms));
	log_event(h, c, SW_ACT_TURNC, SW_ACT_GW, SW_EV_NOTE,
		  "CreatePermission" INPROC, perms);
	memset(&r, 0, sizeof(r));
	r.relay = as->session;
	r.permissions = perms;
	sw_calllog_relay(h->cl, c->uid, &r);
}


static void session_clear(struct sw_appshare_call *as)
{
	session_free(as);
	memset(&as->alloc, 0,
	       sizeof(*as) - offsetof(struct sw_appshare_call, alloc));
	as->dir[SW_ICE_E2C].rec.dir = SW_ICE_E2C;
	as->dir[SW_ICE_C2E].rec.dir = SW_ICE_C2E;
}


static struct sw_appshare_call *as_get(struct sw_gwcall *c,
				       enum sw_media_policy p)
{
	if (!c->as) {
		c->as = calloc(1, sizeof(*c->as));
		if (!c->as)
			return NULL;
		c->as->policy = p;
		session_clear(c->as);
	}
	return c->as;
}


/* The allocation of the session that ends is remembered until it is
 * gone (the oldest is forgotten when more than AS_MAX_OLD are pending) */
static void old_push(struct sw_appshare_call *as)
{
	if (!as->alloc_id)
		return;
	if (as->n_old == AS_MAX_OLD)
		memmove(&as->old[0], &as->old[1],
			--as->n_old * sizeof(as->old[0]));
	as->old[as->n_old].alloc_id = as->alloc_id;
	as->old[as->n_old++].session = as->session;
}


static struct as_old *old_find(struct sw_appshare_call *as, uint32_t id)
{
	for (unsigned i = 0; id && i < as->n_old; ++i)
		if (as->old[i].alloc_id == id)
			return &as->old[i];
	return NULL;
}


static void old_drop(struct sw_appshare_call *as, struct as_old *o)
{
	unsigned i = (unsigned)(o - as->old);

	memmove(o, o + 1, (--as->n_old - i) * sizeof(*o));
}


/*
 * The sharing session ends (the stream set to port 0, or a new presenter
 * restarted ICE): its relay is released at once, which closes its
 * connections, and the call goes on without it. The call log keeps the
 * session as its relay record, released with why.
 */
static bool release_relay(struct sw_as_host *h, struct sw_gwcall *c);


static void session_end(struct sw_as_host *h, struct sw_gwcall *c,
			const char *why)
{
	struct sw_appshare_call *as = c->as;
	char d[160];

	release_relay(h, c);
	if (as->alloc != AS_AL_NONE)
		old_push(as);
	sw_info("[call %s] application sharing session %u ended: %s", c->tag,
		as->session, why);
	snprintf(d, sizeof(d), "session %u: %s", as->session, why);
	log_event(h, c, SW_ACT_GW, SW_ACT_GW, SW_EV_NOTE,
		  "application sharing stopped", d);
	if (sw_as_allocated(as))
		log_released(h, c, as->session, why);
	session_clear(as);
}


/* An offer whose sender's ICE credentials changed restarts ICE (RFC 8445
 * 9, MS-ICE2 likewise): SfB does so when another participant presents */
static bool ice_restart(const struct sw_appshare_call *as,
			const struct sdpr *sdp, int m, bool from_edge)
{
	const char *was = from_edge ? as->ufrag_edge : as->ufrag_conf;
	char now[sizeof(as->ufrag_edge)];

	return was[0] && !sdpr_ice_ufrag(sdp, m, now, sizeof(now)) &&
	       now[0] && strcmp(now, was);
}


static void session_begin(struct sw_as_host *h, struct sw_gwcall *c,
			  bool from_edge)
{
	struct sw_appshare_call *as = c->as;
	char d[96];

	as->edge_offered = from_edge;
	if (++as->session == 1)
		return;
	sw_info("[call %s] application sharing session %u, offered by the "
		"%s side", c->tag, as->session,
		from_edge ? "Edge" : "conference");
	snprintf(d, sizeof(d), "session %u, offered by the %s side",
		 as->session, from_edge ? "Edge" : "conference");
	log_event(h, c, SW_ACT_GW, SW_ACT_GW, SW_EV_NOTE,
		  "application sharing started", d);
}


/* observe: relay candidates naming one of the gateway's relayed
 * addresses tie that external allocation to this call */
static void watch_relay_cands(struct sw_as_host *h, struct sw_gwcall *c,
			      const struct sdpr *sdp, int m)
{
	unsigned n = sdpr_cand_count(sdp, m);
	struct relay_cmd cmd;
	struct sdpr_cand cand;

	memset(&cmd, 0, sizeof(cmd));
	cmd.type = RELAY_CMD_WATCH;
	cmd.call_id = c->id;
	cmd.inspect = true;
	cmd.inspect_max = h->conf->as_inspect_max_bytes;
	for (unsigned i = 0; i < n && cmd.n_addrs < RELAY_MAX_ADDRS; ++i) {
		struct sw_sa sa;

		bool dup = false;

		if (sdpr_cand_kind(sdp, m, i) != SDPR_CAND_ICE ||
		    sdpr_cand_get(sdp, m, i, &cand) ||
		    cand.type != SDPR_CT_RELAY ||
		    sw_sa_set_ip(&sa, cand.addr, cand.port))
			continue;
		for (unsigned j = 0; j < cmd.n_addrs; ++j)
			dup = dup || sw_sa_cmp(&cmd.addrs[j], &sa, true);
		if (!dup) /* components 1 and 2 share one address */
			cmd.addrs[cmd.n_addrs++] = sa;
	}
	if (cmd.n_addrs) {
		struct as_in in = {.ev = AS_EV_TAKEN};

		h->cmd(h->gw, &cmd);
		as_step(h, c, &in);
	}
}


static int local_answer(struct sw_as_host *h, struct sw_gwcall *c,
			bool from_edge, char **outp, size_t *outlenp)
{
	int err = sw_as_pair_sdp(c->as, sw_as_valid_conn(c->as), from_edge,
				 false, outp, outlenp);

	if (err) {
		sw_warn("[call %s] cannot answer the %s side's completion "
			"re-INVITE: %s",
			c->tag, from_edge ? "Edge" : "conference",
			strerror(err));
		return 488;
	}
	c->as->ctl_answered = true;
	log_event(h, c, from_edge ? SW_ACT_EDGE : SW_ACT_CONF, SW_ACT_GW,
		  SW_EV_SIP, "re-INVITE (completion)",
		  "answered by shareway with the selected pair");
	return SIPUA_SDP_LOCAL;
}


static int on_relay_sdp(struct sw_as_host *h, struct sw_gwcall *c, bool from_edge,
			const char *body, size_t len, struct sdpr *sdp,
			char **outp, size_t *outlenp)
{
	struct sw_appshare_call *as = c->as;
	bool inside = h->conf->as_inside_candidate;
	int err;

	if (!sw_as_allocated(as) && as->st != AS_ST_NO_RELAY &&
	    (!from_edge || inside))
		take_relay(h, c);
	if (from_edge)
		send_permit(h, c);
	if (!sw_as_allocated(as) || (from_edge && !sw_sa_isset(&as->inside))) {
		/* nothing to add: the SDP goes on as it came */
		save_sent(as, from_edge, body, len);
		return 0;
	}
	err = from_edge ? sw_as_insert_inside(as, sdp, outp, outlenp)
			: sw_as_insert_relay(as, h->conf->as_set_default_to_relay,
					     sdp, outp, outlenp);
	if (err) {
		sw_warn("[call %s] cannot insert the %s candidates: %s",
			c->tag, from_edge ? "inside" : "relay", strerror(err));
		return 500;
	}
	save_sent(as, from_edge, *outp, *outlenp);
	return 0;
}


/* The controlling agent's completion offer (a=remote-candidates, from
 * the side that offered the stream, once the relay is the session's): the
 * gateway answers it, it is never relayed. Later offers of that side
 * (hold, resume, refresh) carry a=remote-candidates too (RFC 8445 9.2.2):
 * they are the call's, and are relayed */
static bool is_completion(const struct sw_appshare_call *as,
			  const struct sdpr *sdp, int m, bool from_edge)
{
	return sdpr_attr_count(sdp, m, "remote-candidates") &&
	       as->alloc != AS_AL_NONE && !as->ctl_answered &&
	       from_edge == as->edge_offered;
}


/*
 * An SDP crossing once the session's pair is selected and spliced (hold
 * with a=inactive or a=sendonly, resume, a re-INVITE repeating the same
 * candidates): the relay, its connections and their splice stay as they
 * are, no check or completion re-INVITE follows. Toward the other side it
 * goes on in the selected pair's form, a=remote-candidates in an offer of
 * the controlling side only.
 */
static int selected_sdp(struct sw_as_host *h, struct sw_gwcall *c,
			bool from_edge, enum sipua_sdp_kind kind,
			struct sdpr *sdp, char **outp, size_t *outlenp)
{
	struct sw_appshare_call *as = c->as;
	bool offer = kind == SIPUA_SDP_OFFER && from_edge == as->edge_offered;
	int err = sw_as_pair_sdp_on(as, sw_as_valid_conn(as), !from_edge,
				    offer, sdp, outp, outlenp);

	if (err) {
		sw_warn("[call %s] cannot write the selected pair into the %s "
			"side's SDP: %s (forwarded as it came)",
			c->tag, from_edge ? "Edge" : "conference",
			strerror(err));
		return 0;
	}
	save_sent(as, from_edge, *outp, *outlenp);
	return 0;
}


/* An offer or answer with the stream on, once the event is decided:
 * what it tells and what goes on toward the other side */
static void sdp_cross(struct sw_as_host *h, struct sw_gwcall *c,
		      struct as_in *in)
{
	struct sw_appshare_call *as = c->as;

	if (as->st == AS_ST_DIRECT) /* the media bypass the gateway: the */
		return;             /* SDP is the two sides' own */
	if (as->st == AS_ST_COMPLETED && sw_as_policy(in->p)->inprocess) {
		in->ret = selected_sdp(h, c, in->from_edge, in->kind, in->sdp,
				       in->outp, in->outlenp);
		return;
	}
	sw_as_learn(as, in->sdp, in->m, in->from_edge);
	if (!sw_as_policy(in->p)->inprocess) {
		if (!in->from_edge && as->alloc != AS_AL_WATCHED)
			watch_relay_cands(h, c, in->sdp, in->m);
		save_sent(as, in->from_edge, in->body, in->len);
		return;
	}
	in->ret = on_relay_sdp(h, c, in->from_edge, in->body, in->len,
			       in->sdp, in->outp, in->outlenp);
}


/* The event an offer or answer with the stream on is: the controlling
 * agent's completion offer (naming the gateway's pair or not) is one of
 * its own */
static enum as_event sdp_event(const struct sw_appshare_call *as,
			       const struct as_in *in)
{
	if (in->kind != SIPUA_SDP_OFFER)
		return AS_EV_ANSWER;
	if (as->st == AS_ST_DIRECT ||
	    !is_completion(as, in->sdp, in->m, in->from_edge))
		return AS_EV_OFFER;
	return sw_as_offer_via_gateway(as, in->sdp, in->m) ? AS_EV_COMPLETION
							    : AS_EV_BYPASS;
}


/* An SDP with an m=applicationsharing under relay or observe, turned into
 * the session's events; 0 with *outp NULL forwards body as it is */
static int appshare_sdp(struct sw_as_host *h, struct sw_gwcall *c,
			enum sw_media_policy p, bool from_edge,
			enum sipua_sdp_kind kind, const char *body, size_t len,
			struct sdpr *sdp, char **outp, size_t *outlenp)
{
	struct as_in in = {
		.p = p, .from_edge = from_edge, .kind = kind, .body = body,
		.len = len, .sdp = sdp, .outp = outp, .outlenp = outlenp,
	};
	uint16_t port = 0;

	if (!sdp || sdpr_media_find(sdp, AS_MTYPE, 0, &in.m))
		return 0;
	if (kind == SIPUA_SDP_OFFER_LOCAL_ONLY) { /* nothing is recorded */
		in.ev = AS_EV_LOCAL_OFFER;
		in.ret = 491;
		if (c->as)
			as_step(h, c, &in);
	}
	else if (!as_get(c, p)) {
		in.ret = 503;
	}
	else if (sdpr_media_port(sdp, in.m, &port) || !port) {
		in.ev = AS_EV_STOP;
		as_step(h, c, &in);
	}
	else if (kind == SIPUA_SDP_OFFER && c->as->st != AS_ST_IDLE &&
		 ice_restart(c->as, sdp, in.m, from_edge)) {
		in.ev = AS_EV_RESTART;
		as_step(h, c, &in);
		in.ev = AS_EV_OFFER; /* then the new session's offer */
		as_step(h, c, &in);
	}
	else {
		in.ev = sdp_event(c->as, &in);
		as_step(h, c, &in);
	}
	return in.ret;
}


/**
 * The media-policy hook for one SDP crossing (see sipua_sdp_h), p the
 * call's application-sharing policy as the glue resolved it
 *
 * @return 0 to forward (*outp may hold a rewrite), a SIP status to refuse,
 *         or SIPUA_SDP_LOCAL (*outp is the answer the gateway gives itself)
 */
int sw_appshare_sdp(struct sw_as_host *h, struct sw_gwcall *c,
		    const struct sipua_call_info *call, enum sw_media_policy p,
		    enum sipua_leg_id from, enum sipua_sdp_kind kind,
		    struct sipua_sdp *sdp, char **outp, size_t *outlenp)
{
	const struct sw_as_policy *ops = sw_as_policy(p);
	int (*op)(struct sw_as_host *, struct sw_gwcall *,
		  enum sw_media_policy, bool, enum sipua_sdp_kind,
		  const char *, size_t, struct sdpr *, char **, size_t *) =
		kind == SIPUA_SDP_ANSWER ? ops->answer : ops->offer;
	char *pre = NULL;
	size_t prelen = 0;
	int ret;

	/* the rule's policies for the other m-lines (strip, reject) first,
	 * in the crossing's parse (the B2BUA prints it if nothing else
	 * does) */
	ret = sipua_sdp_hook_default(NULL, call, from, kind, sdp, outp,
				     outlenp);
	if (ret || !op)
		return ret;
	if (sdp->edited) { /* what the coordinator keeps is what is sent */
		if (sdpr_print(sdp->model, &pre, &prelen))
			return 500;
		sdp->edited = false; /* pre or the rewrite below goes */
	}
	ret = op(h, c, p, from == c->edge_leg, kind, pre ? pre : sdp->body,
		 pre ? prelen : sdp->len, sdp->model, outp, outlenp);
	if (!ret && !*outp && pre) { /* no app-sharing rewrite: keep pre */
		*outp = pre;
		*outlenp = prelen;
		pre = NULL;
	}
	free(pre);
	return ret;
}


static void log_relay(struct sw_as_host *h, struct sw_gwcall *c,
		      const struct relay_ev *ev, const char *error)
{
	struct sw_appshare_call *as = c->as;
	struct sw_rec_relay r;
	char relayed[SW_SA_STRLEN], perms[512];

	if (!h->cl)
		return;
	memset(&r, 0, sizeof(r));
	r.relay = as->session;
	r.server = "in-process";
	r.transport = "tcp";
	r.client = "in-process";
	r.relayed = error ? NULL
			  : sw_sa_str(&ev->addr, relayed, sizeof(relayed));
	r.alloc_us = error ? 0 : sw_gw_now_us();
	r.lifetime_s = h->conf->turn_max_lifetime;
	r.permissions = as->n_edge_ips ? perms_str(as, perms, sizeof(perms))
				       : NULL;
	r.error_code = error ? 508 : 0;
	r.error = error;
	sw_calllog_relay(h->cl, c->uid, &r);
}


/* Take a ready allocation from the pool for this call, permitting the
 * Edge's candidate addresses: AS_EV_TAKEN, or AS_EV_NO_RELAY */
static void take_relay(struct sw_as_host *h, struct sw_gwcall *c)
{
	struct sw_gw_pooled pa;
	struct relay_cmd permit;
	struct as_in in = {.pooled = &pa};

	permit_fill(c->as, &permit);
	in.err = h->pool_take(h->gw, c, &permit, &pa);
	in.ev = in.err ? AS_EV_NO_RELAY : AS_EV_TAKEN;
	as_step(h, c, &in);
}


static void on_no_relay(struct sw_as_host *h, struct sw_gwcall *c, int err)
{
	struct relay_ev ev;

	memset(&ev, 0, sizeof(ev));
	sw_warn("[call %s] no in-process relay allocation ready (%s): "
		"application sharing goes without the gateway's relay",
		c->tag, err == ENOSPC ? "the relay threads gave none "
					"within 100 ms"
				      : strerror(err));
	log_relay(h, c, &ev, "no relay allocation ready");
}


/* The session has its allocation: pa, taken from the pool, or (NULL) the
 * conference's own that a WATCH ties to the call */
static void on_taken(struct sw_as_host *h, struct sw_gwcall *c,
		     const struct sw_gw_pooled *pa)
{
	struct sw_appshare_call *as = c->as;
	struct relay_ev ev;
	char a[SW_SA_STRLEN], d[128];

	as->checks_start_us = sw_gw_mono_us();
	if (!pa) {
		as_set_alloc(c, AS_AL_WATCHED);
		return;
	}
	as_set_alloc(c, AS_AL_HELD);
	as->n_permitted = as->n_edge_ips;
	as->targets_dirty = false;
	as->alloc_id = pa->alloc_id;
	as->relayed = pa->relayed;
	as->inside = pa->inside;
	memset(&ev, 0, sizeof(ev));
	ev.addr = pa->relayed;
	/* formatted outside sw_info(): the call log's detail below needs it
	 * at every log level, and sw_info() evaluates nothing at notice */
	sw_sa_str(&pa->relayed, a, sizeof(a));
	sw_info("[call %s] relay %s allocated for application sharing",
		c->tag, a);
	log_event(h, c, SW_ACT_TURNC, SW_ACT_GW, SW_EV_NOTE,
		  "Allocate TCP" INPROC, "taken from the ready pool");
	snprintf(d, sizeof(d), "XOR-RELAYED-ADDRESS %s", a);
	log_event(h, c, SW_ACT_GW, SW_ACT_TURNC, SW_EV_NOTE,
		  "Allocate Success" INPROC, d);
	if (sw_sa_isset(&as->inside)) {
		snprintf(d, sizeof(d), "inside candidate %s",
			 sw_sa_str(&as->inside, a, sizeof(a)));
		log_event(h, c, SW_ACT_GW, SW_ACT_GW, SW_EV_NOTE,
			  "inside listener", d);
	}
	if (as->n_edge_ips)
		log_event(h, c, SW_ACT_TURNC, SW_ACT_GW, SW_EV_NOTE,
			  "CreatePermission" INPROC, "the Edge's candidates");
	log_relay(h, c, &ev, NULL);
}


static struct as_conn *conn_find(struct sw_appshare_call *as, uint32_t id,
				 bool create)
{
	struct as_conn *k;

	for (unsigned i = 0; i < as->n_conns; ++i)
		if (as->conns[i]->conn_id == id)
			return as->conns[i];
	if (!create || as->n_conns >= AS_MAX_CONNS)
		return NULL;
	k = calloc(1, sizeof(*k));
	if (!k)
		return NULL;
	k->conn_id = id;
	as->conns[as->n_conns++] = k;
	return k;
}


/* A connection's record under relay number relay; k is NULL for a
 * connection of an earlier session (what the record has is kept) */
static void log_conn(struct sw_as_host *h, struct sw_gwcall *c, uint32_t relay,
		     const struct as_conn *k, const struct relay_ev *ev)
{
	struct sw_rec_conn rc;
	char peer[SW_SA_STRLEN], target[SW_SA_STRLEN];

	if (!h->cl)
		return;
	memset(&rc, 0, sizeof(rc));
	rc.relay = relay;
	rc.conn = ev->conn_id;
	rc.peer = k && sw_sa_isset(&k->peer)
			  ? sw_sa_str(&k->peer, peer, sizeof(peer))
			  : NULL;
	rc.target = k && sw_sa_isset(&k->target)
			    ? sw_sa_str(&k->target, target, sizeof(target))
			    : NULL;
	switch (ev->type) {
	case RELAY_EV_CONN_ATTEMPT:
		rc.attempt_us = sw_gw_now_us();
		break;
	case RELAY_EV_CONN_BOUND:
		rc.bind_us = sw_gw_now_us();
		rc.bind_code = 200;
		break;
	case RELAY_EV_CONN_CLOSED:
		rc.closed_us = sw_gw_now_us();
		rc.bytes_in = ev->bytes[RELAY_DIR_TO_CLIENT];
		rc.bytes_out = ev->bytes[RELAY_DIR_TO_PEER];
		rc.close_reason = ev->err ? strerror(ev->err) : "closed";
		if (k && !k->bound) {
			rc.bind_code = 447;
			rc.bind_error = "no conference candidate answered";
		}
		break;
	default:
		return;
	}
	sw_calllog_conn(h->cl, c->uid, &rc);
}


static void bind_conn(struct sw_as_host *h, struct sw_gwcall *c,
		      const struct as_conn *k)
{
	struct sw_appshare_call *as = c->as;
	struct relay_cmd cmd;

	memset(&cmd, 0, sizeof(cmd));
	cmd.type = RELAY_CMD_BIND;
	cmd.call_id = c->id;
	cmd.conn_id = k->conn_id;
	cmd.alloc_id = as->alloc_id;
	cmd.inspect = true;
	cmd.inspect_max = h->conf->as_inspect_max_bytes;
	cmd.n_addrs = sw_as_cand_addrs(as->conf, as->n_conf, cmd.addrs);
	if (!cmd.n_addrs && sw_sa_isset(&as->inside))
		sw_info("[call %s] connection %u to the relay is closed: the "
			"conference has no passive candidate (it connects to "
			"the inside candidate)", c->tag, k->conn_id);
	else if (!cmd.n_addrs)
		sw_warn("[call %s] the conference's answer has no usable TCP "
			"candidate to bridge connection %u to",
			c->tag, k->conn_id);
	h->cmd(h->gw, &cmd);
}


static void on_conn(struct sw_as_host *h, struct sw_gwcall *c,
		    const struct relay_ev *ev)
{
	struct sw_appshare_call *as = c->as;
	struct as_conn *k = conn_find(as, ev->conn_id,
				      ev->type == RELAY_EV_CONN_ATTEMPT ||
					      ev->is_inside);
	char a[SW_SA_STRLEN], d[160];

	if (!k)
		return;
	switch (ev->type) {
	case RELAY_EV_CONN_ATTEMPT:
		k->peer = ev->addr;
		snprintf(d, sizeof(d), "XOR-PEER-ADDRESS %s CONNECTION-ID %u",
			 sw_sa_str(&ev->addr, a, sizeof(a)), ev->conn_id);
		log_event(h, c, SW_ACT_EDGE, SW_ACT_GW, SW_EV_TCP,
			  "TCP connect to relay", d);
		if (!sw_as_inprocess(as))
			break; /* observe: the real indication is captured */
		log_event(h, c, SW_ACT_GW, SW_ACT_TURNC, SW_EV_NOTE,
			  "ConnectionAttempt" INPROC, d);
		bind_conn(h, c, k);
		break;
	case RELAY_EV_CONN_BOUND:
		k->bound = true;
		k->target = ev->addr;
		k->local = ev->local;
		if (ev->is_inside) {
			k->inside = true;
			k->peer = ev->local;
			k->local = as->relayed;
			snprintf(d, sizeof(d), "CONNECTION-ID %u, "
				 "XOR-PEER-ADDRESS %s", ev->conn_id,
				 sw_sa_str(&ev->addr, a, sizeof(a)));
			log_event(h, c, SW_ACT_GW, SW_ACT_TURNC, SW_EV_NOTE,
				  "Connect Success" INPROC, d);
		}
		if (!sw_as_inprocess(as))
			break; /* observe: the real ConnectionBind is captured */
		snprintf(d, sizeof(d), "CONNECTION-ID %u -> %s", ev->conn_id,
			 sw_sa_str(&ev->addr, a, sizeof(a)));
		log_event(h, c, SW_ACT_TURNC, SW_ACT_GW, SW_EV_NOTE,
			  "ConnectionBind" INPROC, d);
		log_event(h, c, SW_ACT_GW, SW_ACT_TURNC, SW_EV_NOTE,
			  "ConnectionBind Success" INPROC, NULL);
		break;
	case RELAY_EV_CONN_CLOSED:
		k->closed = true;
		snprintf(d, sizeof(d), "%llu bytes to the conference, %llu to "
			 "the Edge",
			 (unsigned long long)ev->bytes[RELAY_DIR_TO_CLIENT],
			 (unsigned long long)ev->bytes[RELAY_DIR_TO_PEER]);
		log_event(h, c, SW_ACT_GW, SW_ACT_GW, SW_EV_TCP,
			  "relay connection closed", d);
		break;
	default:
		break;
	}
	log_conn(h, c, as->session, k, ev);
}


/* The direction's record as it stands, with the valid pair and the
 * reason of a failure in words (pair and why may be NULL): those strings
 * live on the caller's stack, so they go into a copy, never into the
 * call's long-lived state (the call log copies what it is given) */
static void log_ice_why(struct sw_as_host *h, struct sw_gwcall *c,
			enum sw_ice_dir d, const char *pair, const char *why)
{
	struct sw_rec_ice r;

	if (!h->cl)
		return;
	r = c->as->dir[d].rec;
	r.pair = pair;
	r.error = why;
	sw_calllog_ice(h->cl, c->uid, &r);
}


static void log_ice(struct sw_as_host *h, struct sw_gwcall *c, enum sw_ice_dir d)
{
	log_ice_why(h, c, d, NULL, NULL);
}


static struct as_tid *tid_find(struct as_conn *k, enum sw_ice_dir d,
			       const uint8_t *tid)
{
	for (unsigned i = 0; i < k->n_tids[d]; ++i)
		if (!memcmp(k->tids[d][i].tid, tid, TURN_TID_LEN))
			return &k->tids[d][i];
	return NULL;
}


/* A request's USERNAME is "<receiver ufrag>:<sender ufrag>" (RFC 8445
 * 7.2.2, MS-ICE2 likewise) of the SDP the two sides exchanged: the first
 * that is not is noted, for the ladder and for a direction that fails */
static void check_username(struct sw_as_host *h, struct sw_gwcall *c,
			   enum sw_ice_dir d, const struct relay_stun *st)
{
	struct sw_appshare_call *as = c->as;
	struct as_dir *dir = &as->dir[d];
	const char *rcv = d == SW_ICE_E2C ? as->ufrag_conf : as->ufrag_edge;
	const char *snd = d == SW_ICE_E2C ? as->ufrag_edge : as->ufrag_conf;
	size_t n = strlen(rcv);

	char bad[160];

	if (dir->bad_user || !st->username[0] || !rcv[0] || !snd[0])
		return;
	if (!strncmp(st->username, rcv, n) && st->username[n] == ':' &&
	    !strcmp(st->username + n + 1, snd))
		return;
	snprintf(bad, sizeof(bad),
		 "USERNAME \"%.40s\" where the SDP says \"%.40s:%.40s\"",
		 st->username, rcv, snd);
	dir->bad_user = strdup(bad);
	if (!dir->bad_user)
		return;
	sw_info("[call %s] ICE %s: Binding request with %s", c->tag,
		d == SW_ICE_E2C ? "e->c" : "c->e", dir->bad_user);
	log_event(h, c, SW_ACT_GW, SW_ACT_GW, SW_EV_NOTE,
		  "ICE credentials mismatch", dir->bad_user);
}


/* The direction of the controlling agent's checks: the side that offered
 * the stream controls (RFC 8445 6.1.1, MS-ICE2 likewise) */
static enum sw_ice_dir ctl_dir(const struct sw_appshare_call *as)
{
	return as->edge_offered ? SW_ICE_E2C : SW_ICE_C2E;
}


/* A Binding request: counted once per transaction id (MS-ICE2 legacy
 * duplicates carry the same one) */
static void on_request(struct sw_as_host *h, struct sw_gwcall *c,
		       struct as_conn *k, enum sw_ice_dir d,
		       const struct relay_stun *st)
{
	struct as_dir *dir = &c->as->dir[d];
	struct as_tid *t = tid_find(k, d, st->tid);

	if (t) {
		t->nominating |= st->use_candidate;
		return;
	}
	if (k->n_tids[d] < AS_MAX_TIDS) {
		t = &k->tids[d][k->n_tids[d]++];
		memcpy(t->tid, st->tid, TURN_TID_LEN);
		t->nominating = st->use_candidate;
		t->answered = false;
	}
	dir->rec.requests++;
	check_username(h, c, d, st);
	if (dir->rec.first_request_us)
		return;
	dir->rec.first_request_us = sw_gw_now_us();
	as_ice_step(c, d, AS_ICE_REQUEST);
	dir->rec.timeout_s = h->conf->as_check_timeout;
	log_ice(h, c, d);
}


static void on_response(struct sw_as_host *h, struct sw_gwcall *c,
			struct as_conn *k, enum sw_ice_dir d,
			const struct relay_stun *st)
{
	struct as_dir *dir = &c->as->dir[d];
	struct as_tid *t = tid_find(k, d, st->tid);
	char pair[2 * SW_SA_STRLEN + 8], a[SW_SA_STRLEN], b[SW_SA_STRLEN];

	if (st->cls == TURN_C_ERROR) {
		dir->rec.error_code = st->error_code;
		log_ice(h, c, d);
		return;
	}
	if (!t || t->answered)
		return; /* unmatched, or a legacy duplicate */
	t->answered = true;
	k->succ[d] = true;
	dir->rec.successes++;
	if (t->nominating && d == ctl_dir(c->as) && !k->nominated) {
		k->nominated = true;
		dir->rec.nominated = true;
		snprintf(pair, sizeof(pair), "connection %u: %s -> %s",
			 k->conn_id, sw_sa_str(&k->peer, a, sizeof(a)),
			 sw_sa_str(&k->target, b, sizeof(b)));
		log_event(h, c, SW_ACT_GW, SW_ACT_GW, SW_EV_NOTE,
			  "nominated (USE-CANDIDATE)", pair);
	}
	if (dir->rec.state != SW_ICE_SUCCEEDED) {
		as_ice_step(c, d, AS_ICE_SUCCESS);
		if (dir->rec.state == SW_ICE_SUCCEEDED && h->m)
			SW_PROM_OWN_INC(h->m->ice[d][0]);
		dir->rec.first_success_us = sw_gw_now_us();
		snprintf(pair, sizeof(pair), "%s -> %s",
			 sw_sa_str(&k->peer, a, sizeof(a)),
			 sw_sa_str(&k->target, b, sizeof(b)));
		log_ice_why(h, c, d, sw_sa_isset(&k->target) ? pair : NULL,
			    NULL);
	}
	else if (t->nominating) {
		log_ice(h, c, d);
	}
}


/* Every component has a selected pair through the gateway: a valid
 * connection, nominated by the controlling agent (or named by its own
 * completion offer), reached the address a candidate of that component
 * names (the conference's, or the Edge's for inside connections) */
static bool all_components_selected(const struct sw_appshare_call *as)
{
	unsigned need = sw_as_components(as), have = 0;
	unsigned need_in = sw_as_cand_comps(as->edge, as->n_edge, NULL);
	unsigned have_in = 0;

	for (unsigned i = 0; i < as->n_conns; ++i) {
		const struct as_conn *k = as->conns[i];

		if (!k->valid || !(k->nominated || as->offer_selected))
			continue;
		if (!sw_as_inprocess(as) || !sw_sa_isset(&k->target))
			return true;
		if (k->inside)
			have_in |= sw_as_cand_comps(as->edge, as->n_edge,
						    &k->target);
		else
			have |= sw_as_cand_comps(as->conf, as->n_conf,
						 &k->target);
	}
	return (have && (need & ~have) == 0) ||
	       (have_in && (need_in & ~have_in) == 0);
}


/*
 * The gateway's completion re-INVITE as an exchange of the call's SDP
 * history: from 'g', its offer (it has no "before": the gateway wrote
 * it) when sent, then the answer it got (kept by the gateway, never
 * forwarded) and the result
 */
static void log_own_offer(struct sw_as_host *h, struct sw_gwcall *c,
			  enum sipua_leg_id leg, const char *sdp, size_t len,
			  const struct sipua_reinvite_result *r)
{
	struct sw_rec_neg neg;
	char *body = NULL;

	if (!h->cl || !c->uid || !c->as || (r && !c->as->reinvite_seq))
		return;
	memset(&neg, 0, sizeof(neg));
	if (!r) {
		neg.seq = c->as->reinvite_seq = ++c->neg_seq;
		neg.trigger = "gw-reinvite";
		neg.from_leg = 'g';
		neg.to_leg = sw_gw_side(c, leg);
		neg.offer_out = body = strndup(sdp, len);
	}
	else {
		neg.seq = c->as->reinvite_seq;
		neg.result = r->status;
		neg.latency_ms = r->latency_ms;
		if (r->answer)
			neg.answer_in = body = strndup(r->answer,
						       r->answer_len);
	}
	sw_calllog_negotiation(h->cl, c->uid, &neg);
	free(body);
}


static void on_reinvite_done(void *arg, const struct sipua_reinvite_result *r)
{
	struct sw_as_host *h = arg;
	struct sw_gwcall *c = h->call(h->gw, r->call_id);
	struct sw_rec_reinvite ri;
	char d[64];

	if (!c)
		return;
	if (h->m)
		SW_PROM_OWN_INC(h->m->reinvite[!r->status ? SW_AS_RI_ABANDONED
					       : r->status < 300 ? SW_AS_RI_OK
								 : SW_AS_RI_REFUSED]);
	snprintf(d, sizeof(d), "%d after %u ms, %u retries after 491",
		 r->status, r->latency_ms, r->retries);
	if (r->status >= 200 && r->status < 300)
		sw_info("[call %s] completion re-INVITE answered %s", c->tag,
			d);
	else
		sw_warn("[call %s] completion re-INVITE failed: %s "
			"(the call goes on)",
			c->tag, r->status ? d : "the call ended first");
	log_event(h, c, sw_gw_side(c, r->leg) == 'e' ? SW_ACT_EDGE
						      : SW_ACT_CONF,
		  SW_ACT_GW, SW_EV_SIP, r->status ? "re-INVITE response" :
						    "re-INVITE abandoned", d);
	if (!h->cl)
		return;
	log_own_offer(h, c, r->leg, NULL, 0, r);
	memset(&ri, 0, sizeof(ri));
	ri.leg = sw_gw_side(c, r->leg);
	ri.result = r->status;
	ri.phrase = r->status >= 200 && r->status < 300 ? "OK" : NULL;
	ri.latency_ms = r->latency_ms;
	ri.retries_491 = r->retries;
	ri.reason = r->status ? NULL : "the call ended before the answer";
	sw_calllog_reinvite(h->cl, c->uid, &ri);
}


/* Every component has a valid pair: splice, then the completion
 * re-INVITE toward the controlled agent */
static void complete(struct sw_as_host *h, struct sw_gwcall *c)
{
	struct sw_appshare_call *as = c->as;
	enum sipua_leg_id leg = as->edge_offered
					? (c->edge_leg == SIPUA_LEG_A
						   ? SIPUA_LEG_B
						   : SIPUA_LEG_A)
					: c->edge_leg;
	struct sw_rec_reinvite ri;
	char *sdp = NULL;
	size_t len = 0;
	int err;

	for (unsigned i = 0; i < as->n_conns; ++i) {
		struct relay_cmd cmd;

		if (!as->conns[i]->valid || as->conns[i]->spliced)
			continue;
		memset(&cmd, 0, sizeof(cmd));
		cmd.type = RELAY_CMD_SPLICE;
		cmd.call_id = c->id;
		cmd.conn_id = as->conns[i]->conn_id;
		h->cmd(h->gw, &cmd);
		as->conns[i]->spliced = true;
	}
	err = sw_as_pair_sdp(as, sw_as_valid_conn(as), !as->edge_offered, true,
			     &sdp, &len);
	if (!err)
		err = sipua_leg_reinvite(h->ua, c->id, leg, sdp, len,
					 on_reinvite_done, h);
	if (!err)
		log_own_offer(h, c, leg, sdp, len, NULL);
	free(sdp);
	if (err) {
		sw_warn("[call %s] cannot send the completion re-INVITE: %s",
			c->tag, strerror(err));
		return;
	}
	if (h->m && as->checks_start_us)
		sw_hist_observe(&h->m->completion,
				sw_gw_mono_us() - as->checks_start_us);
	sw_info("[call %s] ICE checks succeeded both ways and the pair "
		"through the relay is nominated: completion re-INVITE toward "
		"the %s side",
		c->tag, sw_gw_side(c, leg) == 'e' ? "Edge" : "conference");
	log_event(h, c, SW_ACT_GW, sw_gw_side(c, leg) == 'e' ? SW_ACT_EDGE
							      : SW_ACT_CONF,
		  SW_EV_SIP, "re-INVITE (completion)", "selected pair");
	if (!h->cl)
		return;
	memset(&ri, 0, sizeof(ri));
	ri.leg = sw_gw_side(c, leg);
	ri.sent_us = sw_gw_now_us();
	sw_calllog_reinvite(h->cl, c->uid, &ri);
}


static void on_stun(struct sw_as_host *h, struct sw_gwcall *c,
		    const struct relay_ev *ev)
{
	struct sw_appshare_call *as = c->as;
	struct as_conn *k = conn_find(as, ev->conn_id, true);
	/* TO_CLIENT: sent by the peer (the Edge's relay) toward the client
	 * side (the conference); TO_PEER the other way */
	bool by_edge = ev->dir == RELAY_DIR_TO_CLIENT;

	log_wire(h, c, &ev->wire, by_edge ? SW_ACT_EDGE : SW_ACT_CONF,
		 by_edge ? SW_ACT_CONF : SW_ACT_EDGE);
	if (!k || ev->stun.method != TURN_M_BINDING)
		return;
	if (ev->stun.cls == TURN_C_REQUEST)
		on_request(h, c, k, by_edge ? SW_ICE_E2C : SW_ICE_C2E,
			   &ev->stun);
	else if (ev->stun.cls != TURN_C_INDICATION)
		on_response(h, c, k, by_edge ? SW_ICE_C2E : SW_ICE_E2C,
			    &ev->stun);
	if (!k->valid && k->succ[SW_ICE_E2C] && k->succ[SW_ICE_C2E])
		k->valid = true;
	if (k->valid && as->st == AS_ST_CHECKING &&
	    all_components_selected(as)) {
		struct as_in in = {.ev = AS_EV_SELECTED};

		as_step(h, c, &in);
	}
}


/* observe: the conference's own allocation is now tied to the call */
static void on_watching(struct sw_as_host *h, struct sw_gwcall *c,
			const struct relay_ev *ev)
{
	struct sw_rec_relay r;
	char a[SW_SA_STRLEN], cli[SW_SA_STRLEN], d[256];

	/* a WATCH sent again after a full queue refused it on some thread
	 * ties the same allocation twice: once is the news */
	if (c->as->alloc_id == ev->alloc_id &&
	    sw_sa_cmp(&c->as->relayed, &ev->addr, true))
		return;
	c->as->relayed = ev->addr;
	c->as->alloc_id = ev->alloc_id;
	sw_sa_str(&ev->addr, a, sizeof(a));
	sw_sa_str(&ev->local, cli, sizeof(cli));
	sw_info("[call %s] observing the conference's relay %s (TURN user %s, "
		"control connection %s)",
		c->tag, a, ev->user, cli);
	snprintf(d, sizeof(d), "%s: allocation of TURN user %s from %s", a,
		 ev->user, cli);
	log_event(h, c, SW_ACT_GW, SW_ACT_TURNC, SW_EV_NOTE,
		  "relay candidate recognised", d);
	if (!h->cl)
		return;
	memset(&r, 0, sizeof(r));
	r.relay = c->as->session;
	r.transport = "tcp";
	r.client = ev->user[0] ? ev->user : "the conference";
	r.client_addr = cli;
	r.relayed = a;
	sw_calllog_relay(h->cl, c->uid, &r);
}


/* The conference connected to the inside candidate: the in-process
 * client's Connect toward the Edge's passive candidates, or its failure */
static void on_inside(struct sw_as_host *h, struct sw_gwcall *c,
		      const struct relay_ev *ev)
{
	struct sw_appshare_call *as = c->as;
	char a[SW_SA_STRLEN], t[SW_SA_STRLEN], d[SW_SA_STRLEN + 96];

	sw_sa_str(&ev->addr, a, sizeof(a));
	if (ev->type == RELAY_EV_INSIDE_FAILED) {
		sw_warn("[call %s] the conference's connection from %s to the "
			"inside candidate is closed: %s",
			c->tag, a, ev->err == ENOENT
					   ? "the Edge offered no passive "
					     "candidate"
					   : "no Edge passive candidate "
					     "answered the relay's Connect");
		log_event(h, c, SW_ACT_GW, SW_ACT_TURNC, SW_EV_NOTE,
			  "Connect Error 447" INPROC,
			  "no Edge candidate answered");
		return;
	}
	log_event(h, c, SW_ACT_CONF, SW_ACT_GW, SW_EV_TCP,
		  "TCP connect to inside candidate", a);
	if (as->n_edge)
		snprintf(d, sizeof(d), "XOR-PEER-ADDRESS %s (the first of the "
			 "Edge's %u passive candidates)",
			 sw_sa_str(&as->edge[0].addr, t, sizeof(t)), as->n_edge);
	else
		snprintf(d, sizeof(d), "no Edge passive candidate");
	log_event(h, c, SW_ACT_TURNC, SW_ACT_GW, SW_EV_NOTE,
		  "Connect" INPROC, d);
}


/* An event of an earlier session's allocation: its connections' ends are
 * recorded under that session's relay number, nothing else is done. An
 * observed allocation the conference uses again is the current one. */
static bool old_event(struct sw_as_host *h, struct sw_gwcall *c,
		      const struct relay_ev *ev)
{
	struct as_old *o = old_find(c->as, ev->alloc_id);

	if (!o)
		return false;
	if (ev->type == RELAY_EV_WATCHING) {
		old_drop(c->as, o);
		return false;
	}
	if (ev->type == RELAY_EV_CONN_CLOSED)
		log_conn(h, c, o->session, NULL, ev);
	else if (ev->type == RELAY_EV_ALLOC_GONE)
		old_drop(c->as, o);
	return true;
}


/** A relay thread's event (struct relay_ev), on the SIP thread: to the
 * operations of the call's policy */
void sw_appshare_relay_event(struct sw_as_host *h, const void *arg)
{
	const struct relay_ev *ev = arg;
	struct sw_gwcall *c = h->call(h->gw, ev->call_id);

	if (!c || !c->as)
		return; /* the call is gone: nothing to tie the event to */
	if (sw_as_policy(c->as->policy)->relay_event)
		sw_as_policy(c->as->policy)->relay_event(h, c, ev);
}


/* relay, observe: an event of the call's allocation, of an earlier
 * session's, or the current session's event */
static void as_relay_event(struct sw_as_host *h, struct sw_gwcall *c,
			   const struct relay_ev *ev)
{
	struct as_in in = {.ev = AS_EV_RELAY, .rev = ev};

	if (old_event(h, c, ev))
		return;
	if (ev->type == RELAY_EV_ALLOC_GONE)
		in.ev = AS_EV_ALLOC_GONE;
	as_step(h, c, &in);
}


/* AS_EV_RELAY: what the relay saw of the session's allocation */
static void on_relay(struct sw_as_host *h, struct sw_gwcall *c,
		     const struct relay_ev *ev)
{
	switch (ev->type) {
	case RELAY_EV_CONN_ATTEMPT:
	case RELAY_EV_CONN_BOUND:
	case RELAY_EV_CONN_CLOSED:
		on_conn(h, c, ev);
		break;
	case RELAY_EV_STUN:
		on_stun(h, c, ev);
		break;
	case RELAY_EV_WATCHING:
		on_watching(h, c, ev);
		break;
	case RELAY_EV_TURN_MSG: /* the conference's own TURN client */
		log_wire(h, c, &ev->wire, ev->sent ? SW_ACT_GW : SW_ACT_TURNC,
			 ev->sent ? SW_ACT_TURNC : SW_ACT_GW);
		break;
	case RELAY_EV_INSIDE_ACCEPT:
	case RELAY_EV_INSIDE_FAILED:
		on_inside(h, c, ev);
		break;
	case RELAY_EV_SPLICED:
		log_event(h, c, SW_ACT_GW, SW_ACT_GW, SW_EV_NOTE,
			  "relay switched to splice", NULL);
		break;
	default:
		break;
	}
}


/* The controlling agent nominated a connection through the relay */
static bool any_nominated(const struct sw_appshare_call *as)
{
	for (unsigned i = 0; i < as->n_conns; ++i)
		if (as->conns[i]->nominated)
			return true;
	return false;
}


/** Once a second, now on CLOCK_MONOTONIC (sw_gw_mono_us()): report a
 * direction whose checks did not succeed in time (the call is not hung up
 * for it) */
void sw_appshare_tick(struct sw_as_host *h, struct sw_gwcall *c, int64_t now)
{
	if (c->as && sw_as_policy(c->as->policy)->tick)
		sw_as_policy(c->as->policy)->tick(h, c, now);
}


/* relay, observe */
static void as_tick(struct sw_as_host *h, struct sw_gwcall *c, int64_t now)
{
	struct as_in in = {.ev = AS_EV_TICK, .now = now};

	as_step(h, c, &in);
}


/* AS_EV_TICK while checking: the completion its checks came in time for,
 * or the timeout of checks that did not */
static void on_tick(struct sw_as_host *h, struct sw_gwcall *c, int64_t now)
{
	struct sw_appshare_call *as = c->as;
	static const char *const who[] = {"the conference side",
					  "the Edge side"};
	struct as_in in = {.ev = AS_EV_SELECTED};
	char why[320];

	if (as->st != AS_ST_CHECKING || !as->checks_start_us || c->ended ||
	    as->alloc == AS_AL_DELETING)
		return;
	if (as->offer_selected && all_components_selected(as)) {
		/* its checks came after its completion offer */
		as_step(h, c, &in);
		return;
	}
	if (now - as->checks_start_us <
	    (int64_t)h->conf->as_check_timeout * 1000000)
		return;
	if (as->dir[ctl_dir(as)].rec.state == SW_ICE_SUCCEEDED &&
	    !any_nominated(as)) {
		snprintf(why, sizeof(why), "the controlling agent's checks "
			 "succeeded through the relay, but it nominated "
			 "nothing there within %u s",
			 h->conf->as_check_timeout);
		in.ev = AS_EV_BYPASS;
		in.why = why;
		as_step(h, c, &in);
		return;
	}
	for (int d = SW_ICE_E2C; d <= SW_ICE_C2E; ++d) {
		struct as_dir *dir = &as->dir[d];

		if (dir->rec.state == SW_ICE_SUCCEEDED || dir->failed_logged)
			continue;
		dir->failed_logged = true;
		snprintf(why, sizeof(why),
			 "no Binding success from %s within %u s%s%s", who[d],
			 h->conf->as_check_timeout,
			 dir->bad_user ? "; the requests carry " : "",
			 dir->bad_user ? dir->bad_user : "");
		as_ice_step(c, (enum sw_ice_dir)d, AS_ICE_TIMEOUT);
		if (dir->rec.state == SW_ICE_FAILED && h->m)
			SW_PROM_OWN_INC(h->m->ice[d][1]);
		dir->rec.timeout_s = h->conf->as_check_timeout;
		sw_warn("[call %s] ICE %s: %s", c->tag,
			d == SW_ICE_E2C ? "e->c" : "c->e", why);
		log_ice_why(h, c, (enum sw_ice_dir)d, NULL, why);
	}
}


/* Delete the call's in-process allocation (closing its connections);
 * true while the deletion is under way (RELAY_EV_ALLOC_GONE to come). An
 * observed allocation is the conference's, never deleted here. */
static bool release_relay(struct sw_as_host *h, struct sw_gwcall *c)
{
	struct sw_appshare_call *as = c->as;
	struct relay_cmd cmd;

	if (!sw_as_allocated(as) || !sw_as_inprocess(as) || !h->relay)
		return false;
	if (as->alloc == AS_AL_DELETING)
		return true;
	memset(&cmd, 0, sizeof(cmd));
	cmd.type = RELAY_CMD_DELETE;
	cmd.call_id = c->id;
	cmd.alloc_id = as->alloc_id;
	h->cmd(h->gw, &cmd); /* a lost one: sw_appshare_cmd_late() */
	as_set_alloc(c, AS_AL_DELETING);
	return true;
}


/* The controlling agent's nomination went to a pair that does not run
 * through the gateway: no completion re-INVITE, the relay released, and
 * the call log says so (the relay's close reason, read by the verdict) */
static void went_direct(struct sw_as_host *h, struct sw_gwcall *c,
			const char *why)
{
	struct sw_appshare_call *as = c->as;
	struct sw_rec_relay r;

	sw_info("[call %s] media took a direct path (not through the "
		"gateway): %s; the relay is released", c->tag, why);
	log_event(h, c, SW_ACT_GW, SW_ACT_GW, SW_EV_NOTE,
		  "media took a direct path (not through the gateway)", why);
	release_relay(h, c);
	if (!h->cl)
		return;
	memset(&r, 0, sizeof(r));
	r.relay = as->session ? as->session : 1;
	r.released_us = sw_as_inprocess(as) ? sw_gw_now_us() : 0;
	r.close_reason = SW_MEDIA_DIRECT;
	sw_calllog_relay(h->cl, c->uid, &r);
}


/**
 * The call is ending (B2BUA "ending": one side hung up) or over ("ended"):
 * its allocation is deleted at once, so the relay connections close with
 * the first BYE; the state stays until the call is over and the relay
 * thread confirmed (RELAY_EV_ALLOC_GONE)
 */
void sw_appshare_call_ended(struct sw_as_host *h, struct sw_gwcall *c)
{
	if (c->as && sw_as_policy(c->as->policy)->ended)
		sw_as_policy(c->as->policy)->ended(h, c);
}


/* relay, observe */
static void as_ended(struct sw_as_host *h, struct sw_gwcall *c)
{
	struct as_in in = {.ev = AS_EV_END};

	as_step(h, c, &in);
}


/* AS_EV_END, in any state */
static void on_end(struct sw_as_host *h, struct sw_gwcall *c)
{
	struct sw_appshare_call *as = c->as;

	if (c->ended) /* once: the B2BUA reports the end once */
		log_wire_lost(h, c);
	if (release_relay(h, c))
		return;
	if (!c->ended)
		return; /* ending: kept for what the call's end records */
	/* observe: the allocation is the conference's, not ours */
	sw_appshare_free(as);
	c->as = NULL;
}


/**
 * A relay command of the call went late (a full command queue), or never
 * (lost after SW_GW_CMD_GIVEUP_US): the ladder and the log say so, and a
 * loss that breaks the media path is the call's fault, which its verdict
 * names instead of the symptoms that follow from it
 */
void sw_appshare_cmd_late(struct sw_as_host *h, struct sw_gwcall *c,
			  const struct relay_cmd *cmd, int64_t waited_us,
			  bool lost)
{
	static const char *const what[] = {
		[RELAY_CMD_PERMIT] = "the relay never permitted the Edge's "
				     "addresses, so it refused their "
				     "connections",
		[RELAY_CMD_BIND] = "the Edge's connection to the relay was "
				   "never bridged to the conference",
		[RELAY_CMD_WATCH] = "the conference's own allocation was "
				    "never tied to the call",
		[RELAY_CMD_SPLICE] = "the relay kept inspecting the media "
				     "instead of splicing it (slower, not "
				     "broken)",
		[RELAY_CMD_DELETE] = "the call's allocation stays until its "
				     "lifetime ends",
	};
	const char *name = h->cmd_name(cmd->type);
	const char *why = (unsigned)cmd->type < sizeof(what) / sizeof(what[0])
				  ? what[cmd->type] : NULL;
	char d[SW_GW_FAULT_MAX];

	if (!lost) {
		snprintf(d, sizeof(d), "sent %lld ms late: the relay thread's "
			 "command queue was full", (long long)(waited_us / 1000));
		sw_info("[call %s] relay command %s %s", c->tag, name, d);
		log_event(h, c, SW_ACT_GW, SW_ACT_GW, SW_EV_NOTE,
			  name, d);
		return;
	}
	snprintf(d, sizeof(d), "the relay command %s could not be handed to "
		 "its relay thread (its command queue stayed full for %lld "
		 "ms) and was lost: %s", name, (long long)(waited_us / 1000),
		 why ? why : "?");
	sw_warn("[call %s] %s", c->tag, d);
	log_event(h, c, SW_ACT_GW, SW_ACT_GW, SW_EV_NOTE, "relay command lost",
		  d);
	if (cmd->type == RELAY_CMD_DELETE && c->as) {
		/* no RELAY_EV_ALLOC_GONE will come: do not wait for it */
		struct as_old *o = old_find(c->as, cmd->alloc_id);

		if (o) {
			old_drop(c->as, o);
		}
		else if (sw_as_allocated(c->as) &&
			 c->as->alloc_id == cmd->alloc_id) {
			struct as_in in = {.ev = AS_EV_ALLOC_GONE};

			as_step(h, c, &in); /* no event: nothing to record */
		}
		return;
	}
	if (cmd->type != RELAY_CMD_SPLICE && h->cl && c->uid)
		sw_calllog_call_fault(h->cl, c->uid, d);
}


/** Media flags of a call in progress, as `shareway calls` shows them */
void sw_appshare_flags(const struct sw_appshare_call *as, char *buf,
		       size_t sz)
{
	static const char *const mark[] = {"…", "…", "…", "✓", "✗"};

	if (!as) {
		snprintf(buf, sz, "-");
		return;
	}
	snprintf(buf, sz, "AS %s ICE e→c %s c→e %s",
		 sw_media_policy_name(as->policy),
		 mark[as->dir[SW_ICE_E2C].rec.state],
		 mark[as->dir[SW_ICE_C2E].rec.state]);
}


/** The call's allocation for the control socket's "relays" answer */
void sw_appshare_relay_json(const struct sw_appshare_call *as,
			    const char *tag, struct sw_json *j)
{
	char a[SW_SA_STRLEN];

	if (!as || as->alloc == AS_AL_NONE)
		return;
	sw_json_obj_open(j, NULL);
	sw_json_int(j, "id", as->alloc_id);
	sw_json_str(j, "call", tag);
	sw_json_str(j, "client", as->alloc == AS_AL_WATCHED ? "conference"
					     : "in-process");
	sw_json_str(j, "transport", "tcp");
	sw_json_str(j, "relayed", sw_sa_str(&as->relayed, a, sizeof(a)));
	if (sw_sa_isset(&as->inside))
		sw_json_str(j, "inside", sw_sa_str(&as->inside, a,
						   sizeof(a)));
	sw_json_arr_open(j, "permissions");
	for (unsigned i = 0; i < as->n_edge_ips; ++i)
		sw_json_str(j, NULL, sw_sa_ntop(&as->edge_ips[i], a,
						 sizeof(a)));
	sw_json_arr_close(j);
	sw_json_arr_open(j, "connections");
	for (unsigned i = 0; i < as->n_conns; ++i) {
		const struct as_conn *k = as->conns[i];

		sw_json_obj_open(j, NULL);
		sw_json_int(j, "id", k->conn_id);
		sw_json_str(j, "peer", sw_sa_str(&k->peer, a, sizeof(a)));
		sw_json_str(j, "state", k->closed ? "closed"
				      : k->spliced ? "splice"
				      : k->bound   ? "inspect"
						   : "attempt");
		sw_json_obj_close(j);
	}
	sw_json_arr_close(j);
	sw_json_obj_close(j);
}


/*
 * An event of the session: the next state from the table, then the
 * event's actions (which may raise further events: a pool take raises
 * AS_EV_TAKEN or AS_EV_NO_RELAY, a check AS_EV_SELECTED). An event
 * impossible in the state is logged, bounded (a peer's SDP or checks can
 * repeat it at will), and changes nothing.
 *
 * @return false if the event was impossible
 */
static bool as_step(struct sw_as_host *h, struct sw_gwcall *c,
		    struct as_in *in)
{
	struct sw_appshare_call *as = c->as;
	enum as_state from = as->st, to = sw_as_next(from, in->ev);
	bool mine;

	if (to == AS_ST_IMPOSSIBLE) {
		as->n_impossible++;
		sw_log_limited(SW_LOG_INFO, "[call %s] application sharing "
			       "session %u: %s impossible in state %s, ignored",
			       c->tag, as->session, sw_as_event_name(in->ev),
			       sw_as_state_name(from));
		return false;
	}
	as_set_state(c, to, in->ev);
	switch (in->ev) {
	case AS_EV_OFFER:
		if (from == AS_ST_IDLE)
			session_begin(h, c, in->from_edge);
		sdp_cross(h, c, in);
		break;
	case AS_EV_ANSWER:
		sdp_cross(h, c, in);
		break;
	case AS_EV_LOCAL_OFFER:
		mine = to != AS_ST_DIRECT &&
		       is_completion(as, in->sdp, in->m, in->from_edge) &&
		       sw_as_offer_via_gateway(as, in->sdp, in->m);
		in->ret = mine ? local_answer(h, c, in->from_edge, in->outp,
					      in->outlenp)
			       : 491;
		break;
	case AS_EV_STOP:
		/* the stream is off (RFC 3264 8.2): the session ends, nothing
		 * is inserted into an m-line at port 0 */
		if (from != AS_ST_IDLE)
			session_end(h, c, in->kind == SIPUA_SDP_OFFER
						  ? "sharing stopped (port 0)"
						  : "sharing refused (port 0)");
		break;
	case AS_EV_RESTART:
		session_end(h, c, "new ICE credentials (a new presenter)");
		break;
	case AS_EV_TAKEN:
		on_taken(h, c, in->pooled);
		break;
	case AS_EV_NO_RELAY:
		on_no_relay(h, c, in->err);
		break;
	case AS_EV_COMPLETION:
		as->offer_selected = true;
		in->ret = local_answer(h, c, in->from_edge, in->outp,
				       in->outlenp);
		break;
	case AS_EV_BYPASS: /* a completion offer goes on: the other's news */
		went_direct(h, c, in->why ? in->why
					  : "the controlling agent's "
					    "completion re-INVITE names a "
					    "pair without the gateway");
		break;
	case AS_EV_SELECTED:
		complete(h, c);
		break;
	case AS_EV_RELAY:
		on_relay(h, c, in->rev);
		break;
	case AS_EV_ALLOC_GONE: /* rev NULL: its DELETE was lost */
		if (in->rev)
			log_released(h, c, as->session,
				     from == AS_ST_DIRECT ? SW_MEDIA_DIRECT
							  : "the call ended");
		if (sw_as_allocated(as))
			as_set_alloc(c, AS_AL_NONE);
		if (c->ended)
			h->call_release(h->gw, c); /* c->as with it */
		break;
	case AS_EV_TICK:
		on_tick(h, c, in->now);
		break;
	case AS_EV_END:
		on_end(h, c); /* may free c->as */
		break;
	default:
		break;
	}
	return true;
}


/* relay and observe share the session's machinery; they differ in whose
 * allocation is in the path */
#define AS_SESSION_OPS                                                        \
	.offer = appshare_sdp, .answer = appshare_sdp,                        \
	.relay_event = as_relay_event, .tick = as_tick, .ended = as_ended

/** relay: the gateway's in-process allocation in the media path */
const struct sw_as_policy sw_as_mp_relay = {AS_SESSION_OPS,
					    .inprocess = true};

/** observe: the conference's own allocation on the gateway, watched */
const struct sw_as_policy sw_as_mp_observe = {AS_SESSION_OPS,
					      .inprocess = false};


/** The session's state for /metrics (enum sw_as_mstate), -1: none */
int sw_appshare_metrics_state(const struct sw_appshare_call *as)
{
	if (!as)
		return -1;
	switch (as->st) {
	case AS_ST_OFFERED:
		return SW_AS_M_OFFERED;
	case AS_ST_NO_RELAY:
		return SW_AS_M_NO_RELAY;
	case AS_ST_CHECKING:
		return as->dir[SW_ICE_E2C].failed_logged ||
			       as->dir[SW_ICE_C2E].failed_logged
			       ? SW_AS_M_FAILED
			       : SW_AS_M_CHECKING;
	case AS_ST_COMPLETED:
		return SW_AS_M_COMPLETED;
	case AS_ST_DIRECT:
		return SW_AS_M_DIRECT;
	default:
		return -1;
	}
}
