/**
 * @file sipua_dlg.c  Inside an established call: requests relayed across.
 *
 * re-INVITE and UPDATE (offer/answer through the media-policy hook), INFO
 * and MESSAGE (bodies as they are) arriving on one leg are saved
 * (nua_save_event) and re-issued on the other leg; the other leg's final
 * response answers the saved request (NUTAG_WITH_SAVED). A 2xx whose
 * INVITE carried no offer holds its ACK until the answer arrives in the
 * other leg's ACK (RFC 3264 late offer).
 *
 * Glare: nua itself answers 491 to a re-INVITE arriving while our own is
 * outstanding on that leg (RFC 3261 14.2); a re-INVITE relayed onto a leg
 * where the gateway's own is outstanding is answered 491 here, unless the
 * media hook answers it itself (SIPUA_SDP_OFFER_LOCAL_ONLY). The
 * gateway's own re-INVITE (sipua_leg_reinvite) is retried after a 491
 * with the RFC 3261 14.1 back-off: 2.1-4 s on leg B, whose Call-ID the
 * gateway owns, 0-2 s on leg A.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SW_LOG_MODULE "sip"
#include "sw_log.h"
#include "sipua_int.h"

#include <sofia-sip/su_uniqueid.h>

#define OWN_MAX_RETRIES 5

static void own_send(struct sipua_leg *l);


static enum sipua_pend pend_of(nua_event_t ev)
{
	switch (ev) {
	case nua_i_update:
	case nua_r_update:
		return SIPUA_PEND_UPDATE;
	case nua_i_info:
	case nua_r_info:
		return SIPUA_PEND_INFO;
	case nua_i_message:
	case nua_r_message:
		return SIPUA_PEND_MESSAGE;
	default:
		return SIPUA_PEND_INVITE;
	}
}


/* Tags for an SDP body (none if sdp is NULL), then the list next */
static tagi_t *body_tags(su_home_t *home, const char *sdp, size_t len,
			 tagi_t *next)
{
	tagi_t *t = su_zalloc(home, 3 * sizeof(*t));
	int i = 0;

	if (!t)
		return next;
	if (sdp) {
		t[i].t_tag = siptag_content_type_str;
		t[i++].t_value = (tag_value_t) "application/sdp";
		t[i].t_tag = siptag_payload;
		t[i++].t_value =
			(tag_value_t)sip_payload_create(home, sdp, len);
	}
	t[i].t_tag = tag_next;
	t[i].t_value = (tag_value_t)next;
	return t;
}


/* Issue method k on leg p with the given body and extension headers */
static void dlg_send(struct sipua_leg *p, enum sipua_pend k, const sip_t *sip,
		     const char *sdp, size_t len)
{
	/* what the tags carry only: nua_signal() copies the list (tl_dup),
	 * so none of it stays in the call's home, request after request */
	su_home_t home[1] = {SU_HOME_INIT(home)};
	tagi_t *hdr = sipua_hdr_copy(home, p->call->ua->conf, sip, true);

	switch (k) {
	case SIPUA_PEND_INVITE:
		p->offer_out = sdp != NULL;
		nua_invite(p->nh, NUTAG_MEDIA_ENABLE(0),
			   TAG_NEXT(body_tags(home, sdp, len, hdr)));
		break;
	case SIPUA_PEND_UPDATE:
		nua_update(p->nh, TAG_NEXT(body_tags(home, sdp, len, hdr)));
		break;
	case SIPUA_PEND_INFO:
	case SIPUA_PEND_MESSAGE:
		(k == SIPUA_PEND_INFO ? nua_info : nua_message)(
			p->nh, TAG_IF(sip->sip_content_type,
				      SIPTAG_CONTENT_TYPE(sip->sip_content_type)),
			TAG_IF(sip->sip_payload,
			       SIPTAG_PAYLOAD(sip->sip_payload)),
			TAG_NEXT(hdr));
		break;
	default:
		break;
	}
	su_home_deinit(home);
}


/* Relaying a re-INVITE from l would glare with one going out on the
 * other leg (the gateway's own, or one it relays) */
static bool dlg_glare(const struct sipua_leg *l)
{
	const struct sipua_leg *p = &l->call->leg[!l->id];

	return p->own.active || p->pending[SIPUA_PEND_INVITE];
}


/* Why a request on l cannot be relayed now, as a SIP status (0: it can) */
static int dlg_check(struct sipua_leg *l, enum sipua_pend k)
{
	struct sw_call *call = l->call;
	struct sipua_leg *p = &call->leg[!l->id];

	if (!p->nh || p->ended || call->state >= SW_CALL_ENDING)
		return 481;
	if (k == SIPUA_PEND_INVITE && call->state != SW_CALL_ACTIVE)
		return 491;
	if (k != SIPUA_PEND_INVITE && call->state < SW_CALL_EARLY)
		return 481;
	if (l->pending[k])
		return 500; /* RFC 3261 14.2: one at a time */
	if (k == SIPUA_PEND_INVITE && dlg_glare(l))
		return 491; /* glare with a re-INVITE going out on p */
	return 0;
}


/** A request inside the dialog of leg l: relay it to the other leg */
void sipua_dlg_request(struct sipua_leg *l, nua_event_t ev, const sip_t *sip)
{
	struct sw_call *call = l->call;
	enum sipua_pend k = pend_of(ev);
	nua_t *nua = l->ep->nua;
	char *sdp = NULL;
	size_t len = 0;
	const char *why;
	int st;

	if ((k == SIPUA_PEND_INVITE || k == SIPUA_PEND_UPDATE) &&
	    (why = sipua_dialog_uris_check(sip, false))) {
		/* a target refresh (RFC 3261 12.2.2) to something that is not
		 * a SIP URI: refused, the dialog keeps its remote target */
		nua_respond(l->nh, 400, why, NUTAG_WITH_THIS(nua), TAG_END());
		return;
	}
	if (k == SIPUA_PEND_UPDATE && !sip->sip_payload) {
		/* a session refresh: each leg has its own (RFC 4028) */
		nua_respond(l->nh, SIP_200_OK, NUTAG_WITH_THIS(nua), TAG_END());
		return;
	}
	st = dlg_check(l, k);
	if (st == 491 && k == SIPUA_PEND_INVITE &&
	    call->state == SW_CALL_ACTIVE)
		/* glare, unless the gateway answers it itself (the controlling
		 * ICE agent's completion re-INVITE is never relayed) */
		st = sipua_sdp_cross(call, l->id, SIPUA_SDP_OFFER_LOCAL_ONLY,
				     sip, true, &sdp, &len);
	else if (!st && (k == SIPUA_PEND_INVITE || k == SIPUA_PEND_UPDATE))
		st = sipua_sdp_cross(call, l->id, SIPUA_SDP_OFFER, sip,
				     k == SIPUA_PEND_INVITE, &sdp, &len);
	if (st == SIPUA_SDP_LOCAL) {
		/* the gateway answers this offer itself; the ACK that follows
		 * finds nothing deferred on the other leg and stays here */
		nua_respond(l->nh, SIP_200_OK, NUTAG_WITH_THIS(nua),
			    TAG_NEXT(body_tags(call->home, sdp, len, NULL)));
		return;
	}
	if (st) {
		nua_respond(l->nh, st, sip_status_phrase(st),
			    NUTAG_WITH_THIS(nua),
			    TAG_IF(st == 500, SIPTAG_RETRY_AFTER_STR("1")),
			    TAG_NEXT(st == 488 ? sipua_warning_tags(call->home)
					       : NULL));
		return;
	}
	if (nua_save_event(nua, l->saved[k]) <= 0) {
		nua_respond(l->nh, SIP_500_INTERNAL_SERVER_ERROR,
			    NUTAG_WITH_THIS(nua), TAG_END());
		return;
	}
	l->pending[k] = true;
	dlg_send(&call->leg[!l->id], k, sip, sdp, len);
}


/** A final response on leg l to a request relayed from the other leg */
void sipua_dlg_response(struct sipua_leg *l, nua_event_t ev, int status,
			const char *phrase, const sip_t *sip)
{
	struct sw_call *call = l->call;
	struct sipua_leg *p = &call->leg[!l->id];
	enum sipua_pend k = pend_of(ev);
	enum sipua_sdp_kind kind = SIPUA_SDP_ANSWER;
	su_home_t tmp[1] = {SU_HOME_INIT(tmp)}; /* tags only (tl_dup) */
	char *sdp = NULL;
	size_t len = 0;
	int st = 0;

	if (status < 200)
		return;
	if (!p->pending[k] || !p->nh) {
		/* nua's own request (session refresh): ACK its 2xx */
		if (ev == nua_r_invite && status < 300 && l->nh)
			nua_ack(l->nh, TAG_END());
		return;
	}
	if (k == SIPUA_PEND_INVITE && !l->offer_out)
		kind = SIPUA_SDP_OFFER;
	if (status < 300 && (k == SIPUA_PEND_INVITE || k == SIPUA_PEND_UPDATE))
		st = sipua_sdp_cross(call, l->id, kind, sip, false, &sdp,
				     &len);
	nua_respond(p->nh, st ? st : status,
		    st ? sip_status_phrase(st) : su_strdup(call->home, phrase),
		    NUTAG_WITH_SAVED(p->saved[k]),
		    TAG_NEXT(body_tags(tmp, sdp, len,
				       sipua_hdr_copy(tmp, call->ua->conf, sip,
						      false))));
	su_home_deinit(tmp);
	nua_destroy_event(p->saved[k]);
	p->pending[k] = false;
	if (ev != nua_r_invite || status >= 300)
		return;
	if (kind == SIPUA_SDP_OFFER && sdp && !st)
		l->ack_deferred = true;
	else
		nua_ack(l->nh, TAG_END());
}


/** ACK on leg l: release the other leg's ACK held for the answer */
void sipua_dlg_ack(struct sipua_leg *l, const sip_t *sip)
{
	struct sw_call *call = l->call;
	struct sipua_leg *p = &call->leg[!l->id];
	char *sdp = NULL;
	size_t len = 0;

	if (!p->ack_deferred || !p->nh)
		return;
	p->ack_deferred = false;
	if (sipua_sdp_cross(call, l->id, SIPUA_SDP_ANSWER, sip, false, &sdp,
			    &len))
		sdp = NULL;
	nua_ack(p->nh, TAG_NEXT(body_tags(call->home, sdp, len, NULL)));
}


static void own_report(struct sipua_leg *l, int status, const sip_t *sip)
{
	struct sipua_own_reinvite *o = &l->own;
	struct sipua_reinvite_result res;

	memset(&res, 0, sizeof(res));
	res.call_id = l->call->id;
	res.leg = l->id;
	res.status = status;
	res.latency_ms = (uint32_t)(sipua_now_ms(false) - o->t0_ms);
	res.retries = o->retries;
	if (sip && sip->sip_payload) {
		res.answer = sip->sip_payload->pl_data;
		res.answer_len = sip->sip_payload->pl_len;
	}
	o->active = false;
	o->sent = false;
	if (o->timer) {
		su_timer_destroy(o->timer);
		o->timer = NULL;
	}
	if (o->h)
		o->h(o->arg, &res);
}


static void own_retry(struct sipua *ua, su_timer_t *t, void *arg)
{
	struct sipua_leg *l = arg;

	(void)ua;
	(void)t;
	if (l->own.active && !l->own.sent)
		own_send(l);
}


/* RFC 3261 14.1: wait, then try the re-INVITE again */
static void own_backoff(struct sipua_leg *l)
{
	struct sipua_own_reinvite *o = &l->own;
	struct sipua *ua = l->call->ua;
	/* the gateway generated leg B's Call-ID, not leg A's */
	int ms = l->id == SIPUA_LEG_B ? su_randint(210, 400) * 10
				      : su_randint(0, 200) * 10;

	if (++o->retries > OWN_MAX_RETRIES) {
		own_report(l, 491, NULL);
		return;
	}
	sw_debug("[call %s leg %c] re-INVITE glare: retry %u in %d ms",
		 l->call->tag, "AB"[l->id], o->retries, ms);
	if (o->timer)
		su_timer_destroy(o->timer);
	o->timer = su_timer_create(su_root_task(ua->root), (su_duration_t)ms);
	if (!o->timer || su_timer_set(o->timer, own_retry, l) < 0)
		own_report(l, 500, NULL);
}


static void own_send(struct sipua_leg *l)
{
	struct sw_call *call = l->call;
	struct sipua_leg *p = &call->leg[!l->id];

	if (!l->nh || l->ended || call->state != SW_CALL_ACTIVE) {
		own_report(l, 0, NULL);
		return;
	}
	if (l->pending[SIPUA_PEND_INVITE] || p->pending[SIPUA_PEND_INVITE]) {
		own_backoff(l); /* a relayed re-INVITE is in progress here */
		return;
	}
	l->own.sent = true;
	l->offer_out = true;
	nua_invite(l->nh, NUTAG_MEDIA_ENABLE(0),
		   TAG_NEXT(body_tags(call->home, l->own.sdp, l->own.len,
				      NULL)));
}


/**
 * A response on leg l to the gateway's own re-INVITE
 *
 * @return true if it was (and has been handled), false otherwise
 */
bool sipua_dlg_own_response(struct sipua_leg *l, int status, const sip_t *sip)
{
	if (!l->own.active || !l->own.sent)
		return false;
	if (status < 200)
		return true;
	l->own.sent = false;
	if (status == 491) {
		own_backoff(l);
		return true;
	}
	if (status < 300)
		nua_ack(l->nh, TAG_END());
	own_report(l, status, sip);
	return true;
}


/**
 * Send the gateway's own re-INVITE with sdp on one leg of an active call;
 * h gets the final result (also after 491 retries, or status 0 if the
 * call ends first). The answer is not relayed to the other leg.
 *
 * @return 0, ENOENT (no such call), ENOTCONN (not active), EBUSY (one
 *         is already in progress on that leg), EINVAL, ENOMEM
 */
int sipua_leg_reinvite(struct sipua *ua, uint64_t call_id,
		       enum sipua_leg_id leg, const char *sdp, size_t len,
		       sipua_reinvite_h *h, void *arg)
{
	struct sw_call *call;
	struct sipua_leg *l;

	if (!ua || !sdp || !len || (leg != SIPUA_LEG_A && leg != SIPUA_LEG_B))
		return EINVAL;
	call = sipua_call_find(ua, call_id);
	if (!call)
		return ENOENT;
	l = &call->leg[leg];
	if (call->state != SW_CALL_ACTIVE || !l->nh || l->ended)
		return ENOTCONN;
	if (l->own.active)
		return EBUSY;
	l->own.sdp = su_strndup(call->home, sdp, len);
	if (!l->own.sdp)
		return ENOMEM;
	l->own.len = len;
	l->own.h = h;
	l->own.arg = arg;
	l->own.retries = 0;
	l->own.t0_ms = sipua_now_ms(false);
	l->own.active = true;
	own_send(l);
	return 0;
}


/** Forget what a leg has pending (the call or the leg is ending) */
void sipua_dlg_cleanup(struct sipua_leg *l)
{
	for (int k = 0; k < SIPUA_PEND_N; ++k) {
		if (!l->pending[k])
			continue;
		if (l->nh)
			nua_respond(l->nh, SIP_481_NO_TRANSACTION,
				    NUTAG_WITH_SAVED(l->saved[k]), TAG_END());
		nua_destroy_event(l->saved[k]);
		l->pending[k] = false;
	}
	if (l->own.active)
		own_report(l, 0, NULL);
}
