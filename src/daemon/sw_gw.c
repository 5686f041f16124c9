/**
 * @file sw_gw.c  Per-call glue on the SIP thread: the B2BUA's observer
 * feeds the call log; relay events and a 1 s tick are pumped from the
 * Sofia loop (sipua_fd_watch) into the app-sharing coordinator.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define SW_LOG_MODULE "gw"
#include "relay.h"
#include "sw_calllog.h"
#include "sw_ctl.h"
#include "sw_gw.h"
#include "sw_json.h"
#include "sw_log.h"
#include "sw_mem.h"
#include "sw_rules.h"


/* Looked up 14-29 times per app-sharing setup: by id in O(1), not along
 * a chain that grows with the calls held */
struct sw_gwcall *sw_gw_call(struct sw_gw *gw, uint64_t id)
{
	struct sw_idmap_node *n = sw_idmap_find(&gw->call_ids, id);

	return n ? sw_idmap_entry(n, struct sw_gwcall, by_id) : NULL;
}


/* zone is one of the call's zones: those of its plan, the rule set it
 * was routed by (a reload's new zones reach new calls only) */
static bool zone_is_edge(const struct sipua_call_info *call,
			 const char *zone)
{
	const struct sw_zone *z = sw_zone_find(call->zones, call->n_zones,
					       zone);

	return z && z->edge;
}


/* The leg whose zone is marked edge; the caller's leg when neither is */
static enum sipua_leg_id edge_leg_of(const struct sipua_call_info *call)
{
	if (zone_is_edge(call, call->leg[SIPUA_LEG_A].zone))
		return SIPUA_LEG_A;
	if (zone_is_edge(call, call->leg[SIPUA_LEG_B].zone) ||
	    zone_is_edge(call,
			 call->route ? call->route->target_zone : NULL))
		return SIPUA_LEG_B;
	return SIPUA_LEG_A;
}


/**
 * The application-sharing policy a call gets: the dial plan's
 * (sw_route_media_policy(), default relay), except that relay and observe
 * need the TURN server: with [turn] enable = no they pass through, and
 * the call log says so
 */
enum sw_media_policy sw_gw_as_policy(const struct sw_gw *gw,
				     const struct sw_route_kept *r)
{
	enum sw_media_policy p = sw_route_kept_policy(r, "applicationsharing");

	if ((sw_media_policy_traits(p) & SW_MPF_TURN) && !gw->relay)
		return SW_MP_PASSTHROUGH;
	return p;
}


static void log_route(struct sw_gw *gw, struct sw_gwcall *c,
		      const struct sipua_call_info *call,
		      const struct sw_route_result *r);
static void log_leg(struct sw_gw *gw, struct sw_gwcall *c,
		    const struct sipua_call_info *call, enum sipua_leg_id id);


static struct sw_gwcall *call_new(struct sw_gw *gw,
				  const struct sipua_call_info *call)
{
	struct sw_gwcall *c;

	c = calloc(1, sizeof(*c));
	if (c) {
		c->id = c->by_id.id = call->id;
		if (sw_idmap_add(&gw->call_ids, &c->by_id))
			free(c), c = NULL;
	}
	if (!c) {
		sw_error("[call %s] out of memory", call->tag);
		return NULL;
	}
	c->edge_leg = edge_leg_of(call);
	snprintf(c->from, sizeof(c->from), "%s",
		 call->leg[SIPUA_LEG_A].from_uri ? call->leg[SIPUA_LEG_A].from_uri
						 : "");
	snprintf(c->to, sizeof(c->to), "%s",
		 call->leg[SIPUA_LEG_A].to_uri ? call->leg[SIPUA_LEG_A].to_uri
					       : "");
	c->start_us = call->start_ms ? call->start_ms * 1000 : sw_gw_now_us();
	snprintf(c->call_id, sizeof(c->call_id), "%s",
		 call->leg[SIPUA_LEG_A].call_id ? call->leg[SIPUA_LEG_A].call_id
						: "");
	/* the call log's tag from the start, in every log line of the call
	 * (the B2BUA's too), so that a line leads to `shareway show TAG` */
	c->uid_reserved = sw_calllog_reserve(gw->cl, c->tag, sizeof(c->tag));
	if (!c->uid_reserved)
		snprintf(c->tag, sizeof(c->tag), "%llu",
			 (unsigned long long)c->id);
	sipua_call_set_tag(gw->ua, c->id, c->tag);
	c->next = NULL;
	c->prevp = gw->calls_last ? &gw->calls_last->next : &gw->calls;
	*c->prevp = c;
	gw->calls_last = c;
	return c;
}


/* edge_leg is final: start the call log's record (it names the inbound
 * leg 'e' or 'c') with the legs known so far */
static void call_settle(struct sw_gw *gw, struct sw_gwcall *c,
			const struct sipua_call_info *call)
{
	struct sw_rec_start st;

	c->settled = true;
	c->edge_leg = edge_leg_of(call);
	if (!c->uid_reserved)
		return;
	memset(&st, 0, sizeof(st));
	st.t_us = c->start_us;
	st.from_uri = call->leg[SIPUA_LEG_A].from_uri;
	st.to_uri = call->leg[SIPUA_LEG_A].to_uri;
	st.inbound_leg = sw_gw_side(c, SIPUA_LEG_A);
	if (sw_calllog_call_start_uid(gw->cl, c->uid_reserved, &st)) {
		sw_warn("[call %s] not in the call log: its queue is full",
			c->tag);
		return; /* the tag stays: the log lines already carry it */
	}
	c->uid = c->uid_reserved;
	log_leg(gw, c, call, SIPUA_LEG_A);
	if (call->leg[SIPUA_LEG_B].call_id)
		log_leg(gw, c, call, SIPUA_LEG_B);
}


/**
 * The call's glue. The B2BUA reports a call before it routes it, and the
 * leg facing the Edge may depend on the route's target zone: a call from
 * an Edge zone has it on leg A at once, a call from the conference side
 * on leg B once the dial plan has decided. edge_leg is settled and the
 * call log's record started then, or when `final` (the dial plan has run,
 * or the call was answered or ended, routed or not).
 */
static struct sw_gwcall *call_get(struct sw_gw *gw,
				  const struct sipua_call_info *call,
				  bool final)
{
	struct sw_gwcall *c = sw_gw_call(gw, call->id);
	bool decided = call->route && call->route->outcome != SW_ROUTE_NONE;

	if (!c)
		c = call_new(gw, call);
	if (!c)
		return NULL;
	if (!c->settled &&
	    (decided || final ||
	     zone_is_edge(call, call->leg[SIPUA_LEG_A].zone)))
		call_settle(gw, c, call);
	if (decided && !c->rule[0]) /* the first decision holds (reload) */
		snprintf(c->rule, sizeof(c->rule), "%s", call->route->rule);
	return c;
}


void sw_gw_call_release(struct sw_gw *gw, struct sw_gwcall *c)
{
	sw_idmap_remove(&gw->call_ids, &c->by_id);
	*c->prevp = c->next;
	if (c->next)
		c->next->prevp = c->prevp;
	else
		gw->calls_last = c->prevp == &gw->calls
			? NULL : sw_idmap_entry(c->prevp, struct sw_gwcall, next);
	sw_appshare_free(c->as);
	free(c);
}


static void log_leg(struct sw_gw *gw, struct sw_gwcall *c,
		    const struct sipua_call_info *call, enum sipua_leg_id id)
{
	const struct sipua_leg_info *li = &call->leg[id];
	struct sw_rec_leg leg;

	memset(&leg, 0, sizeof(leg));
	leg.leg = sw_gw_side(c, id);
	leg.inbound = id == SIPUA_LEG_A;
	leg.call_id = li->call_id;
	leg.from_tag = id == SIPUA_LEG_A ? li->remote_tag : li->local_tag;
	leg.to_tag = id == SIPUA_LEG_A ? li->local_tag : li->remote_tag;
	leg.peer = li->peer;
	leg.zone = li->zone;
	leg.transport = li->call_id ? sw_transport_name(li->transport) : NULL;
	leg.tls_subject = li->tls_subject;
	leg.user_agent = li->user_agent;
	leg.from_uri = id == SIPUA_LEG_A ? li->from_uri : NULL;
	leg.to_uri = id == SIPUA_LEG_A ? li->to_uri : NULL;
	leg.x_cid = id == SIPUA_LEG_B ? call->leg[SIPUA_LEG_A].call_id : NULL;
	leg.final_code = li->final_status;
	leg.final_phrase = li->final_phrase;
	leg.ms_diag = li->ms_diagnostics;
	leg.ms_diag_public = li->ms_diagnostics_public;
	leg.ms_client_diag = li->ms_client_diagnostics;
	sw_calllog_leg(gw->cl, c->uid, &leg);
}


/* The whole decision, trace included, into the call's record: the call
 * keeps no trace (sipua_observer.routed hands it over once) */
static void log_route(struct sw_gw *gw, struct sw_gwcall *c,
		      const struct sipua_call_info *call,
		      const struct sw_route_result *r)
{
	struct sw_rec_route rr;
	char trace[4096], caps[512] = "";
	size_t n = 0;

	memset(&rr, 0, sizeof(rr));
	if (sw_route_trace_format(r, trace, sizeof(trace)) < 0)
		trace[0] = '\0';
	for (unsigned i = 1; i < r->n_captures && n < sizeof(caps); ++i)
		n += (size_t)snprintf(caps + n, sizeof(caps) - n, "%s$%u=%s",
				      n ? " " : "", i, r->captures[i]);
	rr.rule = r->rule;
	rr.priority = r->priority;
	rr.source_zone = r->source_zone;
	rr.target_zone = r->target_zone;
	rr.ruri_in = r->ruri_in;
	rr.ruri_out = r->ruri;
	rr.target = r->target_uri[0] ? r->target_uri : r->ruri;
	rr.transport = sw_transport_name(r->transport);
	rr.trace = trace;
	rr.captures = caps;
	rr.media_policy = sw_media_policy_name(sw_gw_as_policy(gw,
							       call->route));
	sw_calllog_route(gw->cl, c->uid, &rr);
}


/* The record starts in call_get() once the leg facing the Edge is known,
 * with the legs known then */
static void obs_started(void *arg, const struct sipua_call_info *call)
{
	call_get(arg, call, false);
}


static void obs_ringing(void *arg, const struct sipua_call_info *call)
{
	struct sw_gw *gw = arg;
	struct sw_gwcall *c = call_get(gw, call, false);

	if (c && c->uid)
		sw_calllog_call_ringing(gw->cl, c->uid,
					call->ringing_ms * 1000);
}


static void obs_answered(void *arg, const struct sipua_call_info *call)
{
	struct sw_gw *gw = arg;
	struct sw_gwcall *c = call_get(gw, call, true);

	if (c && !c->answered) {
		c->answered = true;
		if (call->answer_ms && call->start_ms)
			sw_hist_observe(&gw->m.setup, (call->answer_ms -
						       call->start_ms) * 1000);
	}
	if (!c || !c->uid)
		return;
	sw_calllog_call_answer(gw->cl, c->uid,
			       call->answer_ms ? call->answer_ms * 1000
					       : sw_gw_now_us());
	log_leg(gw, c, call, SIPUA_LEG_A);
	log_leg(gw, c, call, SIPUA_LEG_B);
}


static enum sw_call_state end_state(const struct sipua_call_info *call)
{
	const char *why = call->end_reason ? call->end_reason : "";

	if (!strcmp(why, "CANCEL"))
		return SW_CS_CANCELLED;
	if (call->answer_ms && !strcmp(why, "BYE"))
		return SW_CS_COMPLETED;
	if (!call->answer_ms && call->leg[SIPUA_LEG_A].final_status >= 300)
		return SW_CS_REJECTED;
	return SW_CS_FAILED;
}


/* Who gave the final response toward the caller, as the call log says
 * it: "gw", "rule", or the side of the leg whose peer gave it */
static const char *answerer(const struct sw_gwcall *c,
			    const struct sipua_call_info *call, char buf[2])
{
	switch (call->answered_by) {
	case SIPUA_ANS_GW:
		return "gw";
	case SIPUA_ANS_RULE:
		return "rule";
	case SIPUA_ANS_PEER:
		buf[0] = sw_gw_side(c, SIPUA_LEG_B);
		buf[1] = '\0';
		return buf;
	default:
		return NULL;
	}
}


/* One side hung up (or the call failed): the media stops at once, not
 * when the other leg's BYE transaction is over */
static void obs_ending(void *arg, const struct sipua_call_info *call)
{
	struct sw_gw *gw = arg;
	struct sw_gwcall *c = sw_gw_call(gw, call->id);

	if (c)
		sw_appshare_call_ended(&gw->host, c);
}


static void obs_ended(void *arg, const struct sipua_call_info *call)
{
	struct sw_gw *gw = arg;
	struct sw_gwcall *c = call_get(gw, call, true);
	struct sw_rec_end end;
	char by[2] = "", ans[2] = "";

	if (!c)
		return;
	c->ended = true;
	SW_PROM_OWN_INC(gw->m.ended[end_state(call)]);
	if (c->uid) {
		log_leg(gw, c, call, SIPUA_LEG_A);
		if (call->leg[SIPUA_LEG_B].call_id)
			log_leg(gw, c, call, SIPUA_LEG_B);
		memset(&end, 0, sizeof(end));
		end.t_us = call->end_ms ? call->end_ms * 1000 : sw_gw_now_us();
		end.state = end_state(call);
		end.final_code = call->leg[SIPUA_LEG_A].final_status;
		end.final_phrase = call->leg[SIPUA_LEG_A].final_phrase;
		by[0] = sw_gw_side(c, call->ended_by);
		end.disconnect_by = by;
		end.disconnect_reason = call->end_reason;
		end.answered_by = answerer(c, call, ans);
		end.gw_reason = call->gw_reason;
		sw_calllog_call_end(gw->cl, c->uid, &end);
	}
	sw_appshare_call_ended(&gw->host, c);
	if (!c->as)
		sw_gw_call_release(gw, c);
}


/*
 * One offer or answer crossing the B2BUA: an exchange of the call's SDP
 * history (`shareway sdp`). An offer starts exchange N: forwarded (its
 * answer, when it comes back, completes N), answered by the gateway
 * itself (the controlling agent's completion re-INVITE: to 'g', the
 * answer is the gateway's), or refused by it (to 'g', result the status).
 * The gateway's own re-INVITEs are recorded by whoever sends them.
 */
static void obs_sdp(void *arg, const struct sipua_call_info *call,
		    enum sipua_leg_id from, enum sipua_sdp_kind kind,
		    const char *in, size_t in_len, const char *out,
		    size_t out_len, int status)
{
	struct sw_gw *gw = arg;
	struct sw_gwcall *c = call_get(gw, call, false);
	enum sipua_leg_id to = from == SIPUA_LEG_A ? SIPUA_LEG_B : SIPUA_LEG_A;
	struct sw_rec_neg neg;
	char *i = NULL, *o = NULL, refused[SIPUA_WHY_MAX + 32];

	if (!c || !c->uid)
		return;
	memset(&neg, 0, sizeof(neg));
	i = in ? strndup(in, in_len) : NULL;
	o = out ? strndup(out, out_len) : NULL;
	if (kind == SIPUA_SDP_OFFER) {
		neg.seq = ++c->neg_seq;
		neg.trigger = neg.seq == 1 ? "initial-invite" : "re-invite";
		neg.from_leg = sw_gw_side(c, from);
		neg.to_leg = status ? 'g' : sw_gw_side(c, to);
		neg.offer_in = i;
		if (status == SIPUA_SDP_LOCAL) {
			neg.answer_out = o;
			neg.result = 200;
		}
		else if (status) {
			neg.result = status;
		}
		else {
			neg.offer_out = o;
			c->fwd_seq = neg.seq;
		}
	}
	else { /* the answer to the offer forwarded last */
		neg.seq = c->fwd_seq ? c->fwd_seq : 1;
		neg.from_leg = sw_gw_side(c, to);
		neg.to_leg = sw_gw_side(c, from);
		neg.answer_in = i;
		neg.answer_out = o;
		neg.result = 200;
	}
	if (kind == SIPUA_SDP_OFFER && status >= 400 && call->refusal &&
	    call->refusal->why[0]) { /* why the gateway refused it */
		snprintf(refused, sizeof(refused), "refused with %d: %s",
			 status, call->refusal->why);
		neg.rewrites = refused;
	}
	sw_calllog_negotiation(gw->cl, c->uid, &neg);
	free(i);
	free(o);
}


/* A SIP message of the call as on the wire: the bytes for `export
 * --pcap` and a step of the ladder. The B2BUA reports messages only once
 * the dial plan has run, so the side of each leg is final then (even for
 * a call no rule routed): the record is started if it was not yet. */
static void obs_message(void *arg, const struct sipua_call_info *call,
			const struct sipua_msg *m)
{
	static const enum sw_pkt_transport tps[] = {
		[SW_TP_UDP] = SW_PKT_UDP,
		[SW_TP_TCP] = SW_PKT_TCP,
		[SW_TP_TLS] = SW_PKT_TLS,
	};
	struct sw_gw *gw = arg;
	struct sw_gwcall *c = gw->cl ? call_get(gw, call, true) : NULL;
	struct sw_rec_packet pkt;

	sw_gw_hep_sip(gw, call->leg[SIPUA_LEG_A].call_id, m);
	if (!c || !c->uid || (unsigned)m->tp >= sizeof(tps) / sizeof(tps[0]))
		return;
	memset(&pkt, 0, sizeof(pkt));
	pkt.t_us = m->t_us;
	pkt.proto = SW_PKT_SIP;
	pkt.transport = tps[m->tp];
	pkt.src = m->src;
	pkt.dst = m->dst;
	pkt.data = (const uint8_t *)m->data;
	pkt.len = m->len;
	sw_calllog_sipmsg(gw->cl, c->uid, sw_gw_side(c, m->leg), m->received,
			  &pkt);
}


/* The dial plan has run (or run again after a peer failed: the target is
 * the next peer): the sides are final, the record is started if it was
 * not yet, and the route goes into it */
static void obs_routed(void *arg, const struct sipua_call_info *call,
		       const struct sw_route_result *res)
{
	struct sw_gw *gw = arg;
	struct sw_gwcall *c = call_get(gw, call, true);

	if (c && c->uid)
		log_route(gw, c, call, res);
}


/* A fact of the call from the B2BUA (a peer of a peer list that failed,
 * and the next one): a note on the gateway's column of the ladder (the
 * route again follows, obs_routed) */
static void obs_note(void *arg, const struct sipua_call_info *call,
		     const char *label, const char *detail)
{
	struct sw_gw *gw = arg;
	struct sw_gwcall *c = gw->cl ? call_get(gw, call, true) : NULL;
	struct sw_rec_event ev = {.t_us = sw_gw_now_us(), .src = SW_ACT_GW,
				  .dst = SW_ACT_GW, .kind = SW_EV_NOTE,
				  .label = label, .detail = detail};

	if (!c || !c->uid)
		return;
	sw_calllog_event(gw->cl, c->uid, &ev);
}


static int hook(void *arg, const struct sipua_call_info *call,
		enum sipua_leg_id from, enum sipua_sdp_kind kind,
		struct sipua_sdp *sdp, char **outp, size_t *outlenp)
{
	struct sw_gw *gw = arg;
	struct sw_gwcall *c = call_get(gw, call, false);
	int ret;

	if (!c) {
		if (call->refusal)
			snprintf(call->refusal->why, sizeof(call->refusal->why),
				 "the gateway is out of memory");
		return 503;
	}
	ret = sw_appshare_sdp(&gw->host, c, call,
			      sw_gw_as_policy(gw, call->route), from, kind,
			      sdp, outp, outlenp);
	/* every refusal says why: a hook that did not is pointed at its
	 * log lines, which name the call */
	if (ret >= 400 && call->refusal && !call->refusal->why[0])
		snprintf(call->refusal->why, sizeof(call->refusal->why),
			 "application sharing could not be set up (%d); the "
			 "log lines of call %s say why", ret, c->tag);
	return ret;
}


/* ---- relay commands: sent, or kept until they can be ------------- */

static const char *const cmd_names[] = {
	[RELAY_CMD_ALLOC] = "ALLOC",   [RELAY_CMD_PERMIT] = "PERMIT",
	[RELAY_CMD_BIND] = "BIND",     [RELAY_CMD_SPLICE] = "SPLICE",
	[RELAY_CMD_DELETE] = "DELETE", [RELAY_CMD_WATCH] = "WATCH",
};


const char *sw_gw_cmd_name(int type)
{
	if (type <= 0 || (unsigned)type >= sizeof(cmd_names) /
						sizeof(cmd_names[0]) ||
	    !cmd_names[type])
		return "?";
	return cmd_names[type];
}


/* One attempt; the test aid refuses what it was told to, as a full queue
 * would */
static int cmd_try(struct sw_gw *gw, const struct relay_cmd *cmd)
{
	if (gw->test_full_type && (int)cmd->type == gw->test_full_type &&
	    gw->test_full_left) {
		if (gw->test_full_left > 0)
			gw->test_full_left--;
		return ENOBUFS;
	}
	return relay_cmd_send(gw->relay, cmd);
}


/* A command that went late, or never: the call it served hears of it */
static void cmd_late(struct sw_gw *gw, const struct sw_gw_pend *p, bool lost)
{
	const struct relay_cmd *cmd = p->cmd;
	int64_t waited = sw_gw_mono_us() - p->first_us;
	struct sw_gwcall *c = cmd->call_id & SW_GW_POOL_CALL
				      ? NULL : sw_gw_call(gw, cmd->call_id);

	if (lost)
		gw->cmd_lost++;
	if (c) {
		sw_appshare_cmd_late(&gw->host, c, cmd, waited, lost);
		return;
	}
	if (lost)
		sw_log_limited(SW_LOG_WARN, "relay command %s of %s lost: the "
			       "relay thread's command queue stayed full for "
			       "%lld ms", sw_gw_cmd_name(cmd->type),
			       cmd->call_id & SW_GW_POOL_CALL ? "the ready pool"
							      : "a call gone",
			       (long long)(waited / 1000));
}


/* Send the waiting commands, in order, as far as the queues take them;
 * give up on the head once it waited SW_GW_CMD_GIVEUP_US */
static void cmd_flush(struct sw_gw *gw)
{
	unsigned done = 0;

	while (done < gw->n_pend) {
		struct sw_gw_pend *p = &gw->pend[done];

		p->tries++;
		if (!cmd_try(gw, p->cmd)) {
			cmd_late(gw, p, false);
		}
		else if (sw_gw_mono_us() - p->first_us >= SW_GW_CMD_GIVEUP_US) {
			cmd_late(gw, p, true);
		}
		else {
			break;
		}
		free(p->cmd);
		++done;
	}
	if (!done)
		return;
	memmove(gw->pend, gw->pend + done,
		(gw->n_pend - done) * sizeof(gw->pend[0]));
	gw->n_pend -= done;
}


/**
 * Send a relay command to its relay thread. When its queue is full the
 * command waits, behind any earlier one, and goes from the next pump or
 * tick; if it still cannot go after SW_GW_CMD_GIVEUP_US it is lost and
 * the call it served says so in its record (sw_appshare_cmd_late()).
 * The caller goes on as if it were sent: the relay thread will do it,
 * late, or the call learns it never will.
 */
void sw_gw_cmd(struct sw_gw *gw, const struct relay_cmd *cmd)
{
	struct sw_gw_pend p;

	if (!gw->relay)
		return;
	if (gw->n_pend)
		cmd_flush(gw);
	if (!gw->n_pend && !cmd_try(gw, cmd))
		return;
	memset(&p, 0, sizeof(p));
	p.first_us = sw_gw_mono_us();
	p.tries = 1;
	p.cmd = malloc(sizeof(*cmd));
	if (p.cmd)
		*p.cmd = *cmd;
	if (gw->n_pend == gw->cap_pend && p.cmd &&
	    gw->cap_pend < SW_GW_PEND_MAX) {
		unsigned cap = gw->cap_pend ? 2 * gw->cap_pend : 16;
		struct sw_gw_pend *n = realloc(gw->pend, cap * sizeof(*n));

		if (n) {
			gw->pend = n;
			gw->cap_pend = cap;
		}
	}
	if (!p.cmd || gw->n_pend == gw->cap_pend) { /* no room to wait */
		struct relay_cmd copy = *cmd;

		p.cmd = p.cmd ? p.cmd : &copy;
		cmd_late(gw, &p, true);
		if (p.cmd != &copy)
			free(p.cmd);
		return;
	}
	gw->cmd_delayed++;
	sw_log_limited(SW_LOG_WARN, "relay command %s delayed: the relay "
		       "thread's command queue is full (%llu delayed so far)",
		       sw_gw_cmd_name(cmd->type),
		       (unsigned long long)gw->cmd_delayed);
	gw->pend[gw->n_pend++] = p;
}


/* Keep pool_want allocations ready (or on their way) */
static void pool_fill(struct sw_gw *gw)
{
	while (gw->relay && gw->n_pool + gw->pool_inflight < gw->pool_want) {
		struct relay_cmd cmd;

		memset(&cmd, 0, sizeof(cmd));
		cmd.type = RELAY_CMD_ALLOC;
		cmd.call_id = SW_GW_POOL_CALL | ++gw->pool_seq;
		cmd.token = ++gw->next_token;
		cmd.af = sw_sa_isset(&gw->conf->turn_relay_ip) ||
					 !sw_sa_isset(&gw->conf->turn_relay_ip6)
				 ? AF_INET
				 : AF_INET6;
		cmd.inside = gw->conf->as_inside_candidate;
		if (relay_cmd_send(gw->relay, &cmd))
			return;
		gw->pool_inflight++;
	}
}


static void pool_event(struct sw_gw *gw, const struct relay_ev *ev)
{
	if (gw->pool_inflight)
		gw->pool_inflight--;
	if (ev->type == RELAY_EV_ALLOC_FAILED) {
		sw_warn("relay pool: allocation failed: %s",
			strerror(ev->err));
		return; /* refilled by the next take or tick */
	}
	if (ev->type != RELAY_EV_ALLOCATED)
		return;
	if (gw->n_pool >= SW_GW_POOL_MAX) {
		struct relay_cmd cmd;

		memset(&cmd, 0, sizeof(cmd));
		cmd.type = RELAY_CMD_DELETE;
		cmd.call_id = SW_GW_POOL_CALL;
		cmd.alloc_id = ev->alloc_id;
		sw_gw_cmd(gw, &cmd);
		return;
	}
	gw->pool[gw->n_pool].alloc_id = ev->alloc_id;
	gw->pool[gw->n_pool].relayed = ev->addr;
	gw->pool[gw->n_pool].inside = ev->inside;
	gw->n_pool++;
}


/* What the call misses when a relay event of this type never reached
 * the SIP thread */
static const char *ev_lost_what(enum relay_ev_type type)
{
	switch (type) {
	case RELAY_EV_ALLOCATED:
		return "the call's relay allocation was made but never given "
		       "to it";
	case RELAY_EV_ALLOC_FAILED:
		return "the gateway never heard that the call's relay "
		       "allocation failed";
	case RELAY_EV_ALLOC_GONE:
		return "the gateway never heard that the call's allocation "
		       "was deleted";
	case RELAY_EV_CONN_ATTEMPT:
		return "the gateway never heard of the Edge's connection to "
		       "the relay, so it never bridged it to the conference";
	case RELAY_EV_CONN_BOUND:
		return "the gateway never heard that the relay bridged the "
		       "Edge's connection to the conference";
	case RELAY_EV_CONN_CLOSED:
		return "the gateway never heard that a relayed connection "
		       "closed";
	case RELAY_EV_STUN:
		return "the gateway missed ICE checks it watches, so it may "
		       "never see ICE succeed";
	case RELAY_EV_WATCHING:
		return "the conference's own allocation was never tied to "
		       "the call";
	case RELAY_EV_INSIDE_ACCEPT:
	case RELAY_EV_INSIDE_FAILED:
		return "the gateway never heard of the conference's inside "
		       "connection";
	default:
		return NULL; /* SPLICED, TURN_MSG: the call goes on as it is */
	}
}


/* Events a relay thread could not hand over (its event queue was full):
 * the call they served hears of it in its record and, when it matters,
 * its verdict, as for a lost relay command */
static void ev_lost(struct sw_gw *gw, const struct relay_ev *ev)
{
	const char *name = relay_ev_name(ev->lost_type);
	const char *what = ev_lost_what(ev->lost_type);
	struct sw_gwcall *c = ev->call_id & SW_GW_POOL_CALL
				      ? NULL : sw_gw_call(gw, ev->call_id);
	char d[SW_GW_FAULT_MAX];
	struct sw_rec_event rev;

	gw->ev_lost += ev->lost_n;
	if (ev->call_id & SW_GW_POOL_CALL &&
	    (ev->lost_type == RELAY_EV_ALLOCATED ||
	     ev->lost_type == RELAY_EV_ALLOC_FAILED))
		gw->pool_inflight -= ev->lost_n < gw->pool_inflight
					     ? ev->lost_n : gw->pool_inflight;
	snprintf(d, sizeof(d), "%u relay event%s (%s first) could not be "
		 "handed to the SIP thread (the relay's event queue was full) "
		 "and %s lost%s%s", ev->lost_n, ev->lost_n > 1 ? "s" : "",
		 name, ev->lost_n > 1 ? "were" : "was", what ? ": " : "",
		 what ? what : "");
	if (!c) {
		sw_log_limited(SW_LOG_WARN, "%s: %s",
			       ev->call_id & SW_GW_POOL_CALL ? "relay pool"
							     : "a call gone", d);
		return;
	}
	sw_warn("[call %s] %s", c->tag, d);
	if (!gw->cl || !c->uid)
		return;
	memset(&rev, 0, sizeof(rev));
	rev.t_us = sw_gw_now_us();
	rev.src = rev.dst = SW_ACT_GW;
	rev.kind = SW_EV_NOTE;
	rev.label = "relay event lost";
	rev.detail = d;
	sw_calllog_event(gw->cl, c->uid, &rev);
	if (what)
		sw_calllog_call_fault(gw->cl, c->uid, d);
}


/* One relay event to whom it concerns */
static void relay_event(struct sw_gw *gw, const struct relay_ev *ev)
{
	if (ev->type == RELAY_EV_LOST)
		ev_lost(gw, ev);
	else if (ev->call_id & SW_GW_POOL_CALL)
		pool_event(gw, ev);
	else
		sw_appshare_relay_event(&gw->host, ev);
}


#define POOL_WAIT_MS 100

static void backlog_push(struct sw_gw *gw, const struct relay_ev *ev)
{
	if (gw->n_backlog == gw->cap_backlog) {
		unsigned cap = gw->cap_backlog ? 2 * gw->cap_backlog : 64;
		struct relay_ev *b = realloc(gw->backlog, cap * sizeof(*b));

		if (!b) {
			const struct sw_gwcall *c = sw_gw_call(gw, ev->call_id);

			sw_error("[call %s] relay event %d lost: out of memory",
				 c ? c->tag : "?", ev->type);
			free(ev->wire.data);
			return;
		}
		gw->backlog = b;
		gw->cap_backlog = cap;
	}
	gw->backlog[gw->n_backlog++] = *ev;
}


/*
 * The pool is empty (a burst of calls took it all): wait up to
 * POOL_WAIT_MS for a refill, the relay threads allocate in microseconds.
 * Only pool events are handled meanwhile; the others are put aside, in
 * order, for on_relay_events, so nothing re-enters the B2BUA from inside
 * its own SDP hook.
 */
static int pool_wait(struct sw_gw *gw)
{
	int64_t end = sw_gw_mono_us() + POOL_WAIT_MS * 1000;
	struct relay_ev ev;

	pool_fill(gw);
	while (!gw->n_pool && gw->pool_inflight) {
		struct pollfd p = {relay_ev_fd(gw->relay), POLLIN, 0};
		int64_t left = end - sw_gw_mono_us();

		if (left <= 0 ||
		    (poll(&p, 1, (int)((left + 999) / 1000)) < 0 &&
		     errno != EINTR))
			break;
		relay_ev_ack(gw->relay);
		while (relay_ev_pop(gw->relay, &ev)) {
			if (ev.call_id & SW_GW_POOL_CALL) {
				relay_event(gw, &ev);
				relay_ev_release(&ev);
			}
			else {
				backlog_push(gw, &ev); /* its wire copy too */
			}
		}
	}
	if (gw->n_backlog)
		relay_ev_kick(gw->relay);
	return gw->n_pool ? 0 : ENOSPC;
}


/**
 * Give a ready in-process allocation to call c: it is re-tagged with the
 * call's id and gets the permissions (and inside targets) of permit, a
 * RELAY_CMD_PERMIT whose addrs and targets the caller filled
 *
 * @return 0, or ENOSPC when the pool stayed empty for POOL_WAIT_MS (a
 *         refill is on its way)
 */
int sw_gw_pool_take(struct sw_gw *gw, struct sw_gwcall *c,
		    struct relay_cmd *permit, struct sw_gw_pooled *out)
{
	if (!gw->relay)
		return ENOTSUP;
	if (!gw->n_pool && pool_wait(gw))
		return ENOSPC;
	*out = gw->pool[--gw->n_pool];
	permit->type = RELAY_CMD_PERMIT;
	permit->call_id = c->id;
	permit->alloc_id = out->alloc_id;
	sw_gw_cmd(gw, permit);
	pool_fill(gw);
	return 0;
}


static void on_relay_events(int fd, void *arg)
{
	struct sw_gw *gw = arg;
	struct relay_ev ev;

	(void)fd;
	relay_ev_ack(gw->relay);
	if (gw->n_pend) /* the relay threads drained some commands */
		cmd_flush(gw);
	if (gw->n_backlog) { /* first what the pool's wait put aside */
		struct relay_ev *b = gw->backlog;
		unsigned n = gw->n_backlog;

		gw->backlog = NULL;
		gw->n_backlog = gw->cap_backlog = 0;
		for (unsigned i = 0; i < n; ++i) {
			relay_event(gw, &b[i]);
			relay_ev_release(&b[i]);
		}
		free(b);
	}
	while (relay_ev_pop(gw->relay, &ev)) {
		relay_event(gw, &ev);
		relay_ev_release(&ev);
	}
}


static void on_tick(int fd, void *arg)
{
	struct sw_gw *gw = arg;
	uint64_t n;
	int64_t now = sw_gw_mono_us();
	size_t freed;

	if (read(fd, &n, sizeof(n)) < 0)
		return;
	if (gw->n_pend)
		cmd_flush(gw);
	if (sw_mem_tick(&freed) && freed >= (1u << 20))
		sw_info("heap trimmed after a load: about %zu MB free returned",
			freed >> 20);
	pool_fill(gw);
	sw_gw_metrics_tick(gw);
	for (struct sw_gwcall *c = gw->calls, *next; c; c = next) {
		next = c->next;
		sw_appshare_tick(&gw->host, c, now);
	}
}


/* SHAREWAY_TEST_RELAY_FULL=TYPE[:N] (PERMIT, BIND, ...): a test aid that
 * makes the sends of one relay command type fail as a full queue would,
 * always or the first N times (tests/integration/62-appshare-cmdq.sh) */
static void test_full_init(struct sw_gw *gw)
{
	const char *e = getenv("SHAREWAY_TEST_RELAY_FULL");
	size_t n;

	if (!e || !*e)
		return;
	n = strcspn(e, ":");
	for (int t = 1; t < (int)(sizeof(cmd_names) / sizeof(cmd_names[0]));
	     ++t) {
		if (cmd_names[t] && strlen(cmd_names[t]) == n &&
		    !strncasecmp(e, cmd_names[t], n)) {
			gw->test_full_type = t;
			gw->test_full_left = e[n] == ':' ? atol(e + n + 1) : -1;
			sw_warn("test aid SHAREWAY_TEST_RELAY_FULL: relay "
				"command %s refused %s", cmd_names[t],
				gw->test_full_left < 0 ? "always" : "at first");
			return;
		}
	}
	sw_warn("SHAREWAY_TEST_RELAY_FULL=%s names no relay command", e);
}


/* SHAREWAY_TEST_RELAY_EVQ_FULL=TYPE[:N] (CONN_ATTEMPT, STUN, ...): the
 * other way, a test aid that makes the relay threads' posts of one event
 * type fail as a full event queue would, always or the first N times
 * (tests/integration/62-appshare-cmdq.sh) */
static void test_evq_full_init(struct sw_gw *gw)
{
	const char *e = getenv("SHAREWAY_TEST_RELAY_EVQ_FULL");
	size_t n;

	if (!e || !*e || !gw->relay)
		return;
	n = strcspn(e, ":");
	for (int t = RELAY_EV_ALLOCATED; t <= RELAY_EV_LOST; ++t) {
		const char *name = relay_ev_name((enum relay_ev_type)t);
		long left = e[n] == ':' ? atol(e + n + 1) : -1;

		if (strlen(name) != n || strncasecmp(e, name, n))
			continue;
		relay_test_refuse_ev(gw->relay, (enum relay_ev_type)t, left);
		sw_warn("test aid SHAREWAY_TEST_RELAY_EVQ_FULL: relay event %s "
			"refused %s", name, left < 0 ? "always" : "at first");
		return;
	}
	sw_warn("SHAREWAY_TEST_RELAY_EVQ_FULL=%s names no relay event", e);
}


/**
 * Wire the B2BUA, the relay threads and the call log together
 *
 * @return 0 or an errno value
 */
int sw_gw_init(struct sw_gw *gw, struct sipua *ua, struct relay *relay,
	       struct sw_calllog *cl, const struct sw_conf *conf)
{
	struct sipua_observer obs = {
		.started = obs_started,
		.routed = obs_routed,
		.ringing = obs_ringing,
		.answered = obs_answered,
		.ending = obs_ending,
		.ended = obs_ended,
		.sdp = obs_sdp,
		.message = obs_message,
		.note = obs_note,
		.arg = gw,
	};
	struct itimerspec its = {{1, 0}, {1, 0}};
	int err;

	memset(gw, 0, sizeof(*gw));
	gw->ua = ua;
	gw->relay = relay;
	gw->cl = cl;
	gw->conf = conf;
	gw->host = (struct sw_as_host){
		.gw = gw, .ua = ua, .relay = relay, .cl = cl, .conf = conf,
		.call = sw_gw_call, .call_release = sw_gw_call_release,
		.pool_take = sw_gw_pool_take, .cmd = sw_gw_cmd,
		.cmd_name = sw_gw_cmd_name, .m = &gw->m.as,
	};
	sw_gw_metrics_init(gw);
	test_full_init(gw);
	test_evq_full_init(gw);
	gw->tick_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (gw->tick_fd < 0)
		return errno;
	timerfd_settime(gw->tick_fd, 0, &its, NULL);
	err = sipua_fd_watch(ua, gw->tick_fd, on_tick, gw);
	if (!err && relay)
		err = sipua_fd_watch(ua, relay_ev_fd(relay), on_relay_events,
				     gw);
	if (err)
		return err;
	sipua_set_observer(ua, &obs);
	sipua_set_sdp_hook(ua, hook, gw);
	/* the pool must not crowd out external clients: at most an eighth
	 * of the relay port range */
	gw->pool_want = conf->as_relay_pool;
	if (gw->pool_want > (conf->turn_port_max - conf->turn_port_min + 1) / 8)
		gw->pool_want = (conf->turn_port_max - conf->turn_port_min + 1) / 8;
	if (gw->pool_want > SW_GW_POOL_MAX)
		gw->pool_want = SW_GW_POOL_MAX;
	pool_fill(gw);
	if (!relay)
		sw_info("[turn] enable = no: application sharing passes through "
			"unchanged whatever the dial plan's media policy");
	return 0;
}


void sw_gw_close(struct sw_gw *gw)
{
	gw->n_pool = 0; /* the relay threads delete what they own at stop */
	for (unsigned i = 0; i < gw->n_backlog; ++i)
		relay_ev_release(&gw->backlog[i]);
	free(gw->backlog);
	gw->backlog = NULL;
	gw->n_backlog = gw->cap_backlog = 0;
	for (unsigned i = 0; i < gw->n_pend; ++i)
		free(gw->pend[i].cmd);
	free(gw->pend);
	gw->pend = NULL;
	gw->n_pend = gw->cap_pend = 0;
	while (gw->calls)
		sw_gw_call_release(gw, gw->calls);
	sw_idmap_free(&gw->call_ids);
	if (gw->relay) /* relay_stop() closes it */
		sipua_fd_unwatch(gw->ua, relay_ev_fd(gw->relay));
	if (gw->tick_fd >= 0) {
		sipua_fd_unwatch(gw->ua, gw->tick_fd);
		close(gw->tick_fd);
	}
	gw->tick_fd = -1;
}


/* `shareway calls --active`: the calls the SIP thread holds */
static int ctl_active(struct sw_json *res, const struct sw_jval *args,
		      void *arg)
{
	struct sw_gw *gw = arg;
	char media[128];

	(void)args;
	sw_json_arr_open(res, "calls");
	for (struct sw_gwcall *c = gw->calls; c; c = c->next) {
		if (c->ended)
			continue;
		media[0] = '\0';
		sw_appshare_flags(c->as, media, sizeof(media));
		sw_json_obj_open(res, NULL);
		sw_json_str(res, "tag", c->tag);
		sw_json_int(res, "start_us", c->start_us);
		sw_json_str(res, "from", c->from);
		sw_json_str(res, "to", c->to);
		sw_json_str(res, "rule", c->rule);
		sw_json_str(res, "media", media);
		sw_json_int(res, "final", 0);
		sw_json_obj_close(res);
	}
	sw_json_arr_close(res);
	return 0;
}


/* `shareway relays`: the allocations the SIP thread knows (its calls'
 * in-process and observed ones, and the ready pool); the relay threads'
 * counters give the total, external allocations included */
static int ctl_relays(struct sw_json *res, const struct sw_jval *args,
		      void *arg)
{
	struct sw_gw *gw = arg;
	struct turn_counters cnt;
	char a[SW_SA_STRLEN];

	(void)args;
	sw_json_arr_open(res, "allocations");
	for (struct sw_gwcall *c = gw->calls; c; c = c->next)
		sw_appshare_relay_json(c->as, c->tag, res);
	for (unsigned i = 0; i < gw->n_pool; ++i) {
		sw_json_obj_open(res, NULL);
		sw_json_int(res, "id", gw->pool[i].alloc_id);
		sw_json_null(res, "call");
		sw_json_str(res, "client", "ready pool");
		sw_json_str(res, "transport", "tcp");
		sw_json_str(res, "relayed", sw_sa_str(&gw->pool[i].relayed, a,
						      sizeof(a)));
		sw_json_arr_open(res, "permissions");
		sw_json_arr_close(res);
		sw_json_arr_open(res, "connections");
		sw_json_arr_close(res);
		sw_json_obj_close(res);
	}
	sw_json_arr_close(res);
	if (gw->relay) {
		relay_counters(gw->relay, &cnt);
		sw_json_int(res, "total_tcp", (int64_t)cnt.allocs_tcp);
		sw_json_int(res, "total_udp", (int64_t)cnt.allocs_udp);
		sw_json_int(res, "connections_active",
			    (int64_t)cnt.conns_active);
		sw_json_int(res, "commands_waiting", gw->n_pend);
		sw_json_int(res, "commands_delayed", (int64_t)gw->cmd_delayed);
		sw_json_int(res, "commands_lost", (int64_t)gw->cmd_lost);
		sw_json_int(res, "events_lost", (int64_t)gw->ev_lost);
	}
	return 0;
}


int sw_gw_ctl_register(struct sw_gw *gw, struct sw_ctl *ctl)
{
	int err = sw_ctl_register(ctl, "active", ctl_active, gw);

	return err ? err : sw_ctl_register(ctl, "relays", ctl_relays, gw);
}
