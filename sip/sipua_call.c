/**
 * @file sipua_call.c  The B2BUA call: an inbound leg A, an outbound leg B.
 *
 * An INVITE from a zone is routed by the dial plan and re-issued on leg B
 * with its own Call-ID, tags and CSeq (X-CID carries A's Call-ID for
 * sngrep/Homer); provisional and final responses come back with their
 * reason phrases and extension headers; ACK is per leg; CANCEL before the
 * answer gives 487 on both legs; a BYE on either leg ends both. The call
 * is one su_home: everything it copies hangs off it and goes with it when
 * both nua handles have terminated (sipua_call_maybe_free).
 *
 * State is one enum changed by call_set_state(). In-dialog requests and
 * the gateway's own re-INVITEs are in sipua_dlg.c.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define SW_LOG_MODULE "sip"
#include "sw_log.h"
#include "sipua_int.h"

#include <sofia-sip/su_string.h>
#include <sofia-sip/url.h>
#include <sofia-sip/msg_addr.h>
#include <sofia-sip/msg.h>

static const char *const state_names[] = {
	"calling", "early", "active", "ending", "done",
};

static void call_invite_timeout(struct sipua *ua, su_timer_t *t, void *arg);

/* Sofia's transaction layer marks the responses it makes up itself (a
 * transport error, timer B) with this bit of sip_flags: NTA_INTERNAL_MSG
 * of nta_internal.h, which Sofia-SIP 1.12.11 does not install */
#define SIPUA_NTA_INTERNAL_MSG (1 << 15)


static void call_notify(struct sw_call *call,
			void (*fn)(void *, const struct sipua_call_info *))
{
	struct sipua_call_info ci;

	if (!fn)
		return;
	sipua_call_info_fill(call, &ci);
	fn(call->ua->obs.arg, &ci);
}


static void call_set_state(struct sw_call *call, enum sw_call_state st)
{
	if (call->state == st)
		return;
	sw_debug("[call %s] %s -> %s", call->tag, state_names[call->state],
		 state_names[st]);
	call->state = st;
	if (st == SW_CALL_ENDING)
		call_notify(call, call->ua->obs.ending);
}


static void call_free(struct sw_call *call)
{
	struct sipua *ua = call->ua;

	if (!call->end_ms)
		call->end_ms = sipua_now_ms(true);
	sipua_cap_call_remove(call);
	call_notify(call, ua->obs.ended);
	sipua_dlg_cleanup(&call->leg[SIPUA_LEG_A]);
	sipua_dlg_cleanup(&call->leg[SIPUA_LEG_B]);
	if (call->invite_timer)
		su_timer_destroy(call->invite_timer);
	if (call->invite_msg)
		msg_destroy(call->invite_msg);
	*call->prevp = call->next;
	if (call->next)
		call->next->prevp = call->prevp;
	sw_idmap_remove(&ua->call_ids, &call->by_id);
	--ua->n_calls;
	if (call->plan)
		call->ua->router->unref(call->plan);
	/* a call refused before its leg B has said so in one line */
	sw_log(call->leg[SIPUA_LEG_B].call_id ? SW_LOG_INFO : SW_LOG_DEBUG,
	       "[call %s] ended (%s)", call->tag,
	       call->end_reason ? call->end_reason : "-");
	su_home_unref(call->home);
	if (ua->stopping && !ua->calls)
		sipua_stop_endpoints(ua); /* the last call hung up */
}


/* Free the call once no nua handle refers to it any more */
static void call_maybe_free(struct sw_call *call)
{
	if (call->leg[SIPUA_LEG_A].nh || call->leg[SIPUA_LEG_B].nh)
		return;
	call_set_state(call, SW_CALL_DONE);
	call_free(call);
}


/** Drop a call at once (shutdown): handles are destroyed, not hung up */
void sipua_call_abort(struct sw_call *call)
{
	for (int i = 0; i < 2; ++i) {
		struct sipua_leg *l = &call->leg[i];

		if (l->nh) {
			nua_handle_bind(l->nh, NULL);
			nua_handle_destroy(l->nh);
			l->nh = NULL;
		}
	}
	if (!call->end_reason)
		call->end_reason = "shutdown";
	call_maybe_free(call);
}


struct sw_call *sipua_call_find(struct sipua *ua, uint64_t id)
{
	struct sw_idmap_node *n = sw_idmap_find(&ua->call_ids, id);

	return n ? sw_idmap_entry(n, struct sw_call, by_id) : NULL;
}


static struct sw_call *call_alloc(struct sipua *ua)
{
	struct sw_call *call = su_home_new(sizeof(*call));

	if (!call)
		return NULL;
	call->ua = ua;
	call->id = ua->next_id++;
	call->by_id.id = call->id;
	if (sw_idmap_add(&ua->call_ids, &call->by_id)) {
		su_home_unref(call->home);
		return NULL;
	}
	snprintf(call->tag, sizeof(call->tag), "%llu",
		 (unsigned long long)call->id);
	call->start_ms = sipua_now_ms(true);
	call->peer = -1;
	for (int i = 0; i < 2; ++i) {
		call->leg[i].call = call;
		call->leg[i].id = (enum sipua_leg_id)i;
	}
	call->next = ua->calls;
	if (ua->calls)
		ua->calls->prevp = &call->next;
	call->prevp = &ua->calls;
	ua->calls = call;
	++ua->n_calls;
	return call;
}


/* Remember what a leg's peer said about itself */
static void leg_note(struct sipua_leg *l, const sip_t *sip)
{
	su_home_t *home = l->call->home;
	const char *d;

	if (!sip)
		return;
	d = sipua_hdr_find(sip, "ms-diagnostics");
	if (d)
		l->ms_diag = su_strdup(home, d);
	d = sipua_hdr_find(sip, "ms-diagnostics-public");
	if (d)
		l->ms_diag_public = su_strdup(home, d);
	d = sipua_hdr_find(sip, "ms-client-diagnostics");
	if (d)
		l->ms_client_diag = su_strdup(home, d);
	if (!l->user_agent && sip->sip_user_agent)
		l->user_agent = su_strdup(home, sip->sip_user_agent->g_string);
	if (!l->user_agent && sip->sip_server)
		l->user_agent = su_strdup(home, sip->sip_server->g_string);
	if (!l->call_id && sip->sip_call_id)
		l->call_id = su_strdup(home, sip->sip_call_id->i_id);
	if (!l->local_tag) {
		/* the gateway's own tag: in the From of the responses on leg B
		 * (nua_handle_local() has none: nta adds it on sending), in
		 * the To of leg A's in-dialog requests (a refused call's tag
		 * comes from the capture, sipua_cap.c) */
		const sip_addr_t *own = sip->sip_request ? sip->sip_to
							 : sip->sip_from;

		if (own && own->a_tag)
			l->local_tag = su_strdup(home, own->a_tag);
	}
	if (!l->remote_tag) {
		const sip_to_t *t = sip->sip_request ? sip->sip_from
						     : sip->sip_to;

		if (t && t->a_tag)
			l->remote_tag = su_strdup(home, t->a_tag);
	}
}


static void leg_a_init(struct sipua_leg *a, struct sipua_ep *ep,
		       nua_handle_t *nh, const sip_t *sip,
		       const struct sw_sa *src)
{
	su_home_t *home = a->call->home;
	char s[SW_SA_STRLEN];
	const char *proto = sip->sip_via ? sip->sip_via->v_protocol : NULL;

	a->ep = ep;
	a->nh = nh;
	nua_handle_bind(nh, a);
	if (sip->sip_call_id)
		a->call_id = su_strdup(home, sip->sip_call_id->i_id);
	if (sip->sip_from)
		a->from_uri = url_as_string(home, sip->sip_from->a_url);
	if (sip->sip_to)
		a->to_uri = url_as_string(home, sip->sip_to->a_url);
	a->peer = su_strdup(home, sw_sa_str(src, s, sizeof(s)));
	a->tp = SW_TP_UDP;
	if (proto && su_casematch(proto, "SIP/2.0/TCP"))
		a->tp = SW_TP_TCP;
	else if (proto && su_casematch(proto, "SIP/2.0/TLS"))
		a->tp = SW_TP_TLS;
	leg_note(a, sip);
}


/* The gateway's Contact toward a zone named by a host name ([zone]
 * fqdn), in the form Lync sends itself (a Lync Mediation Server's INVITE
 * on msxfaq.de: <sip:HOST:5067;transport=Tls>): a Lync or SfB peer sends
 * in-dialog requests only to a host its TLS peer's certificate names.
 * The port is that of the endpoint's listener for the leg's transport.
 * NULL: nua's own Contact, the listen address. Given with the dialog's
 * first 2xx or INVITE, nua keeps it as the dialog's local target. */
static char *zone_contact(su_home_t *home, const struct sipua_ep *ep,
			  const struct sw_zone *z, enum sw_transport tp)
{
	const struct sw_sa *a = tp == SW_TP_TLS && sw_sa_isset(&ep->tls_addr)
					? &ep->tls_addr
					: &ep->addr;
	bool v6 = z && strchr(z->fqdn, ':');

	if (!z || !z->fqdn[0])
		return NULL;
	return su_sprintf(home, "<sip:%s%s%s:%u;transport=%s>", v6 ? "[" : "",
			  z->fqdn, v6 ? "]" : "", sw_sa_port(a),
			  sw_transport_name(tp));
}


/*
 * Answer leg A's INVITE with a final failure and end the call. The
 * response is the gateway's own unless the caller set answered_by first
 * (it relays leg B's, or a rule asked for it): a new refusal anywhere is
 * recorded as the gateway's, with why (the cause and its fix, or NULL
 * when the status says it all) for the call log's verdict.
 */
static void call_reject(struct sw_call *call, int status, const char *phrase,
			const char *why, tagi_t *extra)
{
	struct sipua_leg *a = &call->leg[SIPUA_LEG_A];

	if (call->answered_by == SIPUA_ANS_NONE)
		call->answered_by = SIPUA_ANS_GW;
	if (why && *why && call->answered_by != SIPUA_ANS_PEER &&
	    !call->gw_reason)
		call->gw_reason = su_strdup(call->home, why);
	a->final_status = status;
	a->final_phrase = su_strdup(call->home, phrase);
	if (a->nh && !a->ended)
		nua_respond(a->nh, status, a->final_phrase, TAG_NEXT(extra));
	a->ended = true;
	if (!call->end_reason)
		call->end_reason = "rejected";
	call_set_state(call, SW_CALL_ENDING);
}


/* The gateway's own refusal of an offer (the SDP hook's, with its
 * reason): 488 carries RFC 3261 20.43 Warning 304 */
static void call_reject_media(struct sw_call *call, int status)
{
	tagi_t *w = status == 488 ? sipua_warning_tags(call->home) : NULL;
	const struct sipua_refusal *r = &call->sdp_refusal;

	if (r->by_rule && call->answered_by == SIPUA_ANS_NONE)
		call->answered_by = SIPUA_ANS_RULE;
	call_reject(call, status, sip_status_phrase(status),
		    r->why[0] ? r->why : "the gateway could not accept the "
					 "offer (see its log for this call)",
		    w);
}


/* Source address of the request being delivered */
static void request_source(struct sipua_ep *ep, struct sw_sa *src)
{
	msg_t *msg = nua_current_request(ep->nua);
	su_addrinfo_t *ai = msg ? msg_addrinfo(msg) : NULL;

	memset(src, 0, sizeof(*src));
	if (ai && ai->ai_addr)
		sw_sa_from_sockaddr(src, ai->ai_addr);
}


/* Next hop of leg B: the target URI with the route's transport (TLS as
 * a sips: URI, which nta honours for the next hop) */
/* "host:port" of the URI a leg's requests go to, for the call log */
static char *uri_hostport(su_home_t *home, const char *uri)
{
	url_t *u = uri ? url_make(home, uri) : NULL;

	if (!u || !u->url_host)
		return NULL;
	return su_sprintf(home, "%s:%s", u->url_host,
			  u->url_port ? u->url_port
				      : u->url_type == url_sips ? "5061" : "5060");
}


/* Supported of leg B: ours plus the caller's other option tags */
static char *supported_merge(su_home_t *home, const sip_t *sip)
{
	char *s = su_strdup(home, "timer, 100rel");
	const sip_supported_t *k = sip->sip_supported;

	for (int i = 0; k && k->k_items && k->k_items[i] && s; ++i) {
		const char *t = k->k_items[i];

		if (su_casematch(t, "timer") || su_casematch(t, "100rel"))
			continue;
		s = su_sprintf(home, "%s, %s", s, t);
	}
	return s;
}


static const char *to_value(su_home_t *home, const sip_t *sip,
			    const struct sw_route_kept *r)
{
	sip_to_t *to;

	if (r->to[0]) /* a rule rewrote it */
		return r->to;
	if (!sip->sip_to)
		return r->ruri;
	to = sip_to_create(home, (const url_string_t *)sip->sip_to->a_url);
	if (!to)
		return r->ruri;
	to->a_display = sip->sip_to->a_display;
	return sip_header_as_string(home, (const sip_header_t *)to);
}


static sip_from_t *from_value(su_home_t *home, const sip_t *sip)
{
	sip_from_t *f;

	if (!sip->sip_from)
		return NULL;
	/* tag-less: nua picks leg B's own From-tag (Sofia pitfall 2) */
	f = sip_from_create(home, (const url_string_t *)sip->sip_from->a_url);
	if (f && sip->sip_from->a_display)
		f->a_display = su_strdup(home, sip->sip_from->a_display);
	return f;
}


/* Leg B: a new dialog toward the route's target, carrying A's offer */
static int leg_b_start(struct sw_call *call, const sip_t *sip,
		       const char *sdp, size_t sdp_len)
{
	struct sipua *ua = call->ua;
	const struct sw_route_kept *r = call->route;
	const struct sw_zone *tz = sipua_zone_find(ua, call->plan,
						   r->target_zone);
	struct sipua_leg *b = &call->leg[SIPUA_LEG_B];
	su_home_t *home = call->home;
	su_home_t tmp[1] = {SU_HOME_INIT(tmp)};
	uint32_t mf = ua->conf->sip_max_forwards;
	char *proxy = b->hop; /* pinned by call_route() */
	/* our own Call-ID (as nta would make it), known before the INVITE
	 * leaves: the capture attributes that INVITE by it */
	sip_call_id_t *cid = sip_call_id_create(home, NULL);

	if (sip->sip_max_forwards && sip->sip_max_forwards->mf_count <= mf)
		mf = (uint32_t)sip->sip_max_forwards->mf_count - 1;
	b->zone = tz;
	b->tp = r->transport;
	b->ep = sipua_ep_for_zone(ua, tz);
	b->contact = zone_contact(home, b->ep, tz, b->tp);
	b->peer = uri_hostport(home, proxy ? proxy : r->ruri);
	if (!cid)
		return ENOMEM;
	b->call_id = su_strdup(home, cid->i_id);
	b->nh = nua_handle(b->ep->nua, b, SIPTAG_TO_STR(to_value(home, sip, r)),
			   SIPTAG_FROM(from_value(home, sip)),
			   SIPTAG_CALL_ID(cid), TAG_END());
	if (!b->nh)
		return ENOMEM;
	sipua_hop_pin(b, b->hop);
	sipua_cap_leg_add(b);
	b->offer_out = sdp != NULL;
	call->b_sdp = (char *)sdp; /* call home: kept for a next peer */
	call->b_sdp_len = sdp_len;
	/* the next hop goes with the request: 1.12.11 ignores it per handle;
	 * what only the tags carry goes into tmp (nua_signal() copies the
	 * tag list, tl_dup()), not into the call's home for its life */
	nua_invite(b->nh, NUTAG_URL(r->ruri), NUTAG_MEDIA_ENABLE(0),
		   TAG_IF(proxy, NUTAG_PROXY(proxy)),
		   TAG_IF(b->contact, SIPTAG_CONTACT_STR(b->contact)),
		   SIPTAG_MAX_FORWARDS_STR(su_sprintf(tmp, "%u", mf)),
		   SIPTAG_HEADER_STR(su_sprintf(tmp, "X-CID: %s",
						call->leg[0].call_id)),
		   SIPTAG_SUPPORTED_STR(supported_merge(tmp, sip)),
		   TAG_IF(sdp, SIPTAG_CONTENT_TYPE_STR("application/sdp")),
		   TAG_IF(sdp, SIPTAG_PAYLOAD(sip_payload_create(tmp, sdp,
								 sdp_len))),
		   TAG_NEXT(sipua_hdr_copy(tmp, ua->conf, sip, true)));
	su_home_deinit(tmp);
	call->invite_timer = su_timer_create(
		su_root_task(ua->root),
		1000 * (tz ? tz->invite_timeout : ua->conf->sip_invite_timeout));
	if (call->invite_timer)
		su_timer_set(call->invite_timer, call_invite_timeout, call);
	return 0;
}


/* What a peer of the call's peer list did, for the call's refusal when
 * none is left: "sip:A 503 Service Unavailable; sip:B ..." */
static void peers_log_add(struct sw_call *call, const char *uri,
			  const char *what)
{
	call->peers_log = su_sprintf(call->home, "%s%s%s %s",
				     call->peers_log ? call->peers_log : "",
				     call->peers_log ? "; " : "", uri, what);
}


/* Leg B toward a zone's peer list: the next peer that is up, has an
 * address, and was not tried yet (sipua_peers.c chooses); the route's
 * target becomes its URI. 0, or 503 when none is left. */
static int leg_b_peer(struct sw_call *call, const struct sw_zone *tz,
		      const char **phrasep, const char **whyp)
{
	struct sw_route_kept *r = call->route;
	struct sipua_leg *b = &call->leg[SIPUA_LEG_B];
	int i;

	while ((i = sipua_peers_pick(call->ua, tz, call->peers_tried)) >= 0) {
		const char *uri = tz->peers[i].uri;

		call->peers_tried |= 1u << i;
		b->hop = sipua_names_hop(call->ua, call->home, uri,
					 r->transport);
		if (b->hop) {
			call->peer = i;
			/* the zone is the call's plan's, which the call
			 * holds: the URI lives as long as the call */
			r->target_uri = uri;
			return 0;
		}
		peers_log_add(call, uri, "(its name has no address yet)");
	}
	call->peer = -1;
	if (call->peers_log)
		*whyp = su_sprintf(call->home, "every peer of zone %s tried "
				   "failed: %s (its peers now: %s); check that "
				   "they are up and reachable from shareway",
				   tz->name, call->peers_log,
				   sipua_peers_text(call->ua, call->home, tz));
	else
		*whyp = su_sprintf(call->home, "no peer of zone %s is up: %s; "
				   "check that they are up and reachable from "
				   "shareway", tz->name,
				   sipua_peers_text(call->ua, call->home, tz));
	return *phrasep = call->peers_log ? "All peers of the zone failed"
					  : "No peer of the zone is up",
	       503;
}


/* Leg B's next hop, an address: the route's target from the
 * configuration; without one, the Request-URI's host only if it is an IP
 * address (a name there may come from the message). 0 or a status. */
static int leg_b_hop(struct sw_call *call, const char **phrasep,
		     const char **whyp)
{
	const struct sw_route_kept *r = call->route;
	struct sipua_leg *b = &call->leg[SIPUA_LEG_B];
	const struct sw_zone *tz = sipua_zone_find(call->ua, call->plan,
						   r->target_zone);

	if (tz && tz->n_peers)
		return leg_b_peer(call, tz, phrasep, whyp);
	if (r->target_uri[0]) {
		/* an IP address, or a name in the configuration: its address
		 * as last resolved by the resolver thread */
		b->hop = sipua_names_hop(call->ua, call->home, r->target_uri,
					 r->transport);
		if (!b->hop)
			return *phrasep = "Target not resolved", 503;
		return 0;
	}
	b->hop = sipua_hop_numeric(call->home, r->ruri, r->transport);
	if (!b->hop) {
		*whyp = su_sprintf(call->home, "dial plan rule %s sends the "
				   "call to %s, which names no IP address, and "
				   "gives no target: add target = ZONE or a "
				   "numeric URI to the rule", r->rule, r->ruri);
		return *phrasep = "No route (no target, and the Request-URI "
				  "names no IP address)", 404;
	}
	return 0;
}


static size_t uri_len(su_home_t *home, const url_t *u)
{
	char *t = u ? url_as_string(home, u) : NULL;
	size_t n = t ? strlen(t) : 0;

	su_free(home, t);
	return n;
}


/* [sip] max_uri_length: an over-long Request-URI gets 414 (RFC 3261
 * 21.4.12), an over-long To or From URI 400; 0 if they fit */
static int uris_too_long(struct sw_call *call, const sip_t *sip,
			 const char **phrasep)
{
	size_t max = call->ua->conf->sip_max_uri_length;

	if (uri_len(call->home, sip->sip_request->rq_url) > max)
		return *phrasep = "Request-URI Too Long", 414;
	if ((sip->sip_to && uri_len(call->home, sip->sip_to->a_url) > max) ||
	    (sip->sip_from && uri_len(call->home, sip->sip_from->a_url) > max))
		return *phrasep = "To or From URI too long", 400;
	return 0;
}


/*
 * The router's decision on leg A's INVITE, in the SIP thread's one result
 * (made at the first INVITE, reset, not zeroed, for each): read it at
 * once, it is the next call's at the next INVITE. NULL without memory;
 * *errp the router's error.
 */
static struct sw_route_result *route_run(struct sw_call *call,
					 const sip_t *sip,
					 const struct sdpr *offer, int *errp)
{
	struct sipua *ua = call->ua;
	struct sipua_leg *a = &call->leg[SIPUA_LEG_A];

	if (!ua->route_res)
		ua->route_res = su_alloc(ua->home, sizeof(*ua->route_res));
	if (!ua->route_res)
		return NULL;
	sw_route_result_reset(ua->route_res);
	*errp = sipua_route(ua->router, call->plan, sip, a->zone->name,
			    a->peer, offer, ua->route_res);
	return ua->route_res;
}


/*
 * The whole decision, trace included, to the observer while it is at hand
 * (the call keeps only its struct sw_route_kept): the call log records
 * it. The target is the call's now: the peer chosen from a zone's peer
 * list.
 */
static void call_routed(struct sw_call *call, struct sw_route_result *res)
{
	struct sipua_call_info ci;

	if (!call->ua->obs.routed || !call->route)
		return;
	if (strcmp(res->target_uri, call->route->target_uri))
		snprintf(res->target_uri, sizeof(res->target_uri), "%s",
			 call->route->target_uri);
	sipua_call_info_fill(call, &ci);
	call->ua->obs.routed(call->ua->obs.arg, &ci, res);
}


/*
 * After a peer of a zone's peer list failed, the route again for the
 * observer, whose target is now the next peer: the same plan and the same
 * INVITE give the same decision and trace, which the call did not keep
 * (a failover is rare; a trace kept per call is 40 KB, or its text)
 */
static void call_rerouted(struct sw_call *call, const sip_t *sip)
{
	su_home_t tmp[1] = {SU_HOME_INIT(tmp)};
	struct sipua_sdp offer;
	struct sw_route_result *res;
	int err;

	if (!call->ua->obs.routed || !sip || !call->plan ||
	    !call->leg[SIPUA_LEG_A].zone)
		return;
	(void)sipua_sdp_open(tmp, sip, &offer); /* it opened at routing */
	res = route_run(call, sip, offer.model, &err);
	if (res)
		call_routed(call, res);
	sipua_sdp_close(&offer);
	su_home_deinit(tmp);
}


/* What the call does with the decision res (the router's err): 0 to
 * forward, or the status to reject with, as call_route() */
static int route_status(struct sw_call *call,
			const struct sw_route_result *res, int err,
			const char **phrasep, const char **whyp)
{
	su_home_t *home = call->home;

	if (err == ERANGE) { /* a To value or a rewrite the dial plan
			      * cannot hold */
		*whyp = "its To value, or a rewrite of the dial plan, does not "
			"fit the gateway's URI buffers (2047 bytes)";
		return *phrasep = "URI too long", 400;
	}
	if (err) {
		*whyp = su_sprintf(home, "the dial plan could not be "
				   "evaluated (%s)", strerror(err));
		return 500;
	}
	if (res->outcome == SW_ROUTE_REJECT) {
		call->answered_by = SIPUA_ANS_RULE;
		*whyp = su_sprintf(home, "dial plan rule %s: action = reject "
				   "%u %s", res->rule, res->reject_code,
				   res->reject_phrase);
		*phrasep = su_strdup(home, res->reject_phrase);
		return res->reject_code;
	}
	if (res->outcome != SW_ROUTE_FORWARD) {
		*whyp = su_sprintf(home, "no dial plan rule gives %s from zone "
				   "%s a target: add one (the rules tried are "
				   "under Route; shareway locate URI --source "
				   "IP replays them)", res->ruri_in,
				   call->leg[SIPUA_LEG_A].zone->name);
		return *phrasep = "No route", 404;
	}
	return leg_b_hop(call, phrasep, whyp);
}


/*
 * Validate and route: 0 to forward, or the status to reject with; *whyp
 * the cause and its fix for the call log (a refusal that sets none is
 * still the gateway's, explained by its status). offer (zeroed by the
 * caller, who closes it) gets the INVITE's SDP, parsed once for the dial
 * plan and the crossing.
 */
static int call_route(struct sw_call *call, const sip_t *sip,
		      struct sipua_sdp *offer, const char **phrasep,
		      const char **whyp)
{
	struct sipua_leg *a = &call->leg[SIPUA_LEG_A];
	su_home_t *home = call->home;
	struct sw_route_result *res;
	int err = 0;

	*phrasep = NULL;
	*whyp = NULL;
	if (!a->zone) {
		*whyp = su_sprintf(home, "the source %s matches no zone: add "
				   "its address to a zone's match.source (over "
				   "TLS, its certificate subject to "
				   "tls.subjects), or mark a zone default = "
				   "yes", a->peer ? a->peer : "?");
		return *phrasep = "Forbidden (unknown zone)", 403;
	}
	if (sip->sip_max_forwards && sip->sip_max_forwards->mf_count == 0) {
		/* RFC 3261 16.3: a loop, or too many hops */
		*whyp = "Max-Forwards reached 0: the request loops or crossed "
			"too many hops; check that no zone's target leads "
			"back to its caller";
		return 483;
	}
	if ((*phrasep = sipua_dialog_uris_check(sip, true))) {
		/* before a dialog exists on either leg */
		*whyp = su_sprintf(home, "the INVITE's dialog URIs are unusable "
				   "(%s): its sender must send exactly one SIP "
				   "or SIPS Contact, and SIP URIs in "
				   "Record-Route", *phrasep);
		return 400;
	}
	if ((err = uris_too_long(call, sip, phrasep))) {
		*whyp = su_sprintf(home, "%s is longer than [sip] "
				   "max_uri_length (%u bytes): its sender must "
				   "send a shorter one, or raise max_uri_length",
				   err == 414 ? "the Request-URI"
					      : "its To or From URI",
				   call->ua->conf->sip_max_uri_length);
		return err;
	}
	if (!a->hop) {
		*whyp = "the gateway could not tell where the INVITE came "
			"from, so it has nowhere to answer (see the log lines "
			"of the call)";
		return *phrasep = "No return path", 503;
	}
	if (!call->plan) {
		*whyp = "no dial plan is loaded: fix rules_file (sharewayd "
			"--check-config), then shareway reload";
		return *phrasep = "No dial plan", 503;
	}
	if (sipua_sdp_open(home, sip, offer)) {
		*whyp = "the multipart body has no usable application/sdp "
			"part; its sender must send one";
		return *phrasep = "Bad multipart body", 400;
	}
	res = route_run(call, sip, offer->model, &err);
	if (res) { /* the call keeps this much of it */
		size_t n = sw_route_keep_size(res);

		call->route = sw_route_keep(res, su_alloc(home, n), n);
	}
	if (!call->route)
		return *whyp = "out of memory while routing", 500;
	err = route_status(call, res, err, phrasep, whyp);
	call_routed(call, res);
	return err;
}


static void call_start(struct sw_call *call, const sip_t *sip)
{
	struct sipua_sdp offer = {0};
	const char *phrase, *why;
	bool media = false;
	char *sdp = NULL;
	size_t len = 0;
	int status, err;

	status = call_route(call, sip, &offer, &phrase, &why);
	if (!status) {
		status = sipua_sdp_cross_on(call, SIPUA_LEG_A, SIPUA_SDP_OFFER,
					    &offer, false, &sdp, &len);
		media = status != 0;
		if (media)
			why = call->sdp_refusal.why;
	}
	sipua_sdp_close(&offer);
	if (!status && call->peer >= 0) /* to start leg B again, if need be */
		call->invite_msg = msg_ref_create(
			nua_current_request(call->leg[SIPUA_LEG_A].ep->nua));
	if (!status && (err = leg_b_start(call, sip, sdp, len))) {
		status = 500;
		why = su_sprintf(call->home, "the outbound leg could not be "
				 "started (%s)", strerror(err));
	}
	if (!phrase && status)
		phrase = sip_status_phrase(status);
	if (status) /* what any sender can repeat at will: rate-limited */
		sw_log_limited(SW_LOG_INFO, "[call %s] INVITE %s from %s zone "
			       "%s: rejected %d %s%s%s", call->tag,
			       call->route ? call->route->ruri_in : "-",
			       call->leg[0].peer,
			       call->leg[0].zone ? call->leg[0].zone->name
						 : "(none)",
			       status, phrase ? phrase : "",
			       why && *why ? ": " : "", why ? why : "");
	else
		sw_info("[call %s] INVITE %s from %s zone %s: -> %s",
			call->tag, call->route->ruri_in, call->leg[0].peer,
			call->leg[0].zone->name, call->route->ruri);
	if (status && media)
		call_reject_media(call, status);
	else if (status)
		call_reject(call, status, phrase, why, NULL);
}


/* Admission control ([sip] max_calls, max_cps): the Retry-After of a new
 * INVITE the gateway sheds, NULL to take it */
static const char *overloaded(struct sipua *ua)
{
	const struct sw_conf *conf = ua->conf;
	int64_t now = sipua_now_ms(false);
	const char *retry = NULL;

	if (conf->sip_max_cps) {
		ua->cps_tokens += (double)(now - ua->cps_ms) *
				  conf->sip_max_cps / 1000.0;
		if (ua->cps_tokens > conf->sip_max_cps)
			ua->cps_tokens = conf->sip_max_cps;
		ua->cps_ms = now;
		if (ua->cps_tokens < 1.0)
			retry = "1";
	}
	if (!retry && conf->sip_max_calls && ua->n_calls >= conf->sip_max_calls)
		retry = "5";
	if (!retry) {
		if (conf->sip_max_cps)
			ua->cps_tokens -= 1.0;
		return NULL;
	}
	if (!ua->overload_rejects || now - ua->overload_warn_ms >= 1000) {
		sw_warn("overload: new INVITEs answered 503 (%u calls, limits "
			"max_calls %u, max_cps %u; %llu shed so far)",
			ua->n_calls, conf->sip_max_calls, conf->sip_max_cps,
			(unsigned long long)ua->overload_rejects + 1);
		ua->overload_warn_ms = now;
	}
	++ua->overload_rejects;
	return retry;
}


/** A new INVITE (nua_i_invite on a handle nua created) */
void sipua_call_incoming(struct sipua *ua, struct sipua_ep *ep,
			 nua_handle_t *nh, const sip_t *sip)
{
	struct sw_call *call;
	struct sw_sa src;
	const char *retry = NULL;

	if (!ua->stopping && ua->draining) {
		/* shareway drain: not an overload, counted apart */
		++ua->drain_rejects;
		retry = SIPUA_DRAIN_RETRY_AFTER;
	} else if (!ua->stopping) {
		retry = overloaded(ua);
	}
	if (retry) {
		nua_respond(nh, SIP_503_SERVICE_UNAVAILABLE,
			    SIPTAG_RETRY_AFTER_STR(retry),
			    NUTAG_WITH_THIS(ep->nua), TAG_END());
		nua_handle_destroy(nh);
		return;
	}
	if (ua->stopping || !(call = call_alloc(ua))) {
		nua_respond(nh, SIP_503_SERVICE_UNAVAILABLE,
			    NUTAG_WITH_THIS(ep->nua), TAG_END());
		nua_handle_destroy(nh);
		return;
	}
	request_source(ep, &src);
	leg_a_init(&call->leg[SIPUA_LEG_A], ep, nh, sip, &src);
	/* the caller's in-dialog requests come back the way it came */
	sipua_hop_pin(&call->leg[SIPUA_LEG_A],
		      sipua_hop_uri(call->home, &src,
				    call->leg[SIPUA_LEG_A].tp));
	/* the plan and zones in force now are the call's for its life */
	call->plan = ua->plan ? ua->router->ref(ua->plan) : NULL;
	call->leg[SIPUA_LEG_A].zone = sipua_zone_match(ua, call->plan, ep,
						       &src);
	call->leg[SIPUA_LEG_A].contact =
		zone_contact(call->home, ep, call->leg[SIPUA_LEG_A].zone,
			     call->leg[SIPUA_LEG_A].tp);
	call_notify(call, ua->obs.started);
	call_start(call, sip);
	/* the sides are known now: the INVITE and our 100 Trying, captured
	 * before the call existed, go to the observer */
	sipua_cap_leg_add(&call->leg[SIPUA_LEG_A]);
}


static void call_note(struct sw_call *call, const char *label,
		      const char *detail)
{
	struct sipua_call_info ci;

	if (!call->ua->obs.note)
		return;
	sipua_call_info_fill(call, &ci);
	call->ua->obs.note(call->ua->obs.arg, &ci, label, detail);
}


/*
 * Leg B's peer, one of its zone's peer list, is down (408, 503, a
 * transport error, nothing at all within invite_timeout) before any
 * final answer toward the caller: leg B is dropped (its handle
 * destroyed: its transaction has completed, or is abandoned with its
 * retransmissions) and starts again, with leg A's INVITE and the offer
 * already sent, toward the next peer; none left, the caller gets 503
 * naming each peer tried and what it did.
 */
static void call_failover(struct sw_call *call, int status, const char *phrase)
{
	struct sipua_leg *b = &call->leg[SIPUA_LEG_B];
	const struct sw_zone *tz = b->zone;
	const sip_t *sip = call->invite_msg ? sip_object(call->invite_msg)
					    : NULL;
	char *failed = su_strdup(call->home, call->route->target_uri);
	const char *phr = NULL, *why = NULL;
	int st, err;

	peers_log_add(call, failed,
		      su_sprintf(call->home, "%03d %s", status,
				 phrase ? phrase : ""));
	if (call->invite_timer) {
		su_timer_destroy(call->invite_timer);
		call->invite_timer = NULL;
	}
	sipua_cap_leg_remove(b);
	sipua_dlg_cleanup(b);
	if (b->nh) {
		nua_handle_bind(b->nh, NULL);
		nua_handle_destroy(b->nh);
	}
	memset(b, 0, sizeof(*b));
	b->call = call;
	b->id = SIPUA_LEG_B;
	call->b_heard = false;
	st = tz && sip ? leg_b_peer(call, tz, &phr, &why) : 500;
	call_note(call, "peer failed",
		  su_sprintf(call->home, "%s (zone %s): %03d %s; %s%s",
			     failed, tz ? tz->name : "-", status,
			     phrase ? phrase : "",
			     st ? "no peer left" : "next: ",
			     st ? "" : call->route->target_uri));
	call_rerouted(call, sip);
	if (!st) {
		sw_info("[call %s] peer %s (zone %s) failed (%03d %s): trying "
			"%s", call->tag, failed, tz->name, status,
			phrase ? phrase : "", call->route->target_uri);
		err = leg_b_start(call, sip, call->b_sdp, call->b_sdp_len);
		if (!err)
			return;
		st = 500;
		why = su_sprintf(call->home, "the outbound leg could not be "
				 "started again (%s)", strerror(err));
	}
	sw_info("[call %s] peer %s (zone %s) failed (%03d %s): %s", call->tag,
		failed, tz ? tz->name : "-", status, phrase ? phrase : "",
		why ? why : "no peer left");
	call->ended_by = SIPUA_LEG_B;
	call->end_reason = "no peer";
	call_reject(call, st, phr ? phr : sip_status_phrase(st), why, NULL);
}


/* Leg B did not answer within the zone's invite_timeout */
static void call_invite_timeout(struct sipua *ua, su_timer_t *t, void *arg)
{
	struct sw_call *call = arg;
	struct sipua_leg *b = &call->leg[SIPUA_LEG_B];

	(void)ua;
	(void)t;
	if (call->state >= SW_CALL_ACTIVE)
		return;
	if (call->peer >= 0 && !call->b_heard &&
	    call->state < SW_CALL_ENDING && b->zone) {
		/* not even a 100 from this peer of a list: the next one */
		sipua_peers_call_result(call->ua, b->zone,
					(unsigned)call->peer, 408,
					"No answer within invite_timeout",
					NULL);
		call_failover(call, 408, "No answer within invite_timeout");
		return;
	}
	sw_info("[call %s] no answer from %s: 408", call->tag,
		b->peer ? b->peer : "-");
	if (b->nh && !b->ended) {
		nua_cancel(b->nh, TAG_END());
		b->ended = true;
	}
	call->ended_by = SIPUA_LEG_B;
	call->end_reason = "no answer";
	call_reject(call, SIP_408_REQUEST_TIMEOUT,
		    su_sprintf(call->home, "no final answer from %s (zone %s) "
			       "within invite_timeout %u s: check that it is "
			       "up and reachable from shareway, or raise the "
			       "zone's invite_timeout", b->peer ? b->peer : "?",
			       b->zone ? b->zone->name : "-",
			       b->zone ? b->zone->invite_timeout
				       : call->ua->conf->sip_invite_timeout),
		    NULL);
}


/* Relay a 18x of leg B to leg A, with its SDP */
static void call_provisional(struct sw_call *call, int status,
			     const char *phrase, const sip_t *sip)
{
	struct sipua_leg *a = &call->leg[SIPUA_LEG_A];
	struct sipua_leg *b = &call->leg[SIPUA_LEG_B];
	su_home_t tmp[1] = {SU_HOME_INIT(tmp)}; /* tags only (tl_dup) */
	char *sdp;
	size_t len;

	if (status == 100 || call->state > SW_CALL_EARLY || a->ended)
		return; /* late 1xx after 2xx: never relayed (pitfall 9) */
	if (sipua_sdp_cross(call, SIPUA_LEG_B,
			    b->offer_out ? SIPUA_SDP_ANSWER : SIPUA_SDP_OFFER,
			    sip, false, &sdp, &len))
		sdp = NULL; /* a refused early answer: relay the 18x alone */
	/* the phrase is not copied by nua_respond(): the call's home */
	nua_respond(a->nh, status, su_strdup(call->home, phrase),
		    TAG_IF(a->contact, SIPTAG_CONTACT_STR(a->contact)),
		    TAG_IF(sdp, SIPTAG_CONTENT_TYPE_STR("application/sdp")),
		    TAG_IF(sdp, SIPTAG_PAYLOAD(sip_payload_create(tmp, sdp,
								  len))),
		    TAG_NEXT(sipua_hdr_copy(tmp, call->ua->conf, sip, false)));
	su_home_deinit(tmp);
	call_set_state(call, SW_CALL_EARLY);
	if (!call->ringing_ms && (status == 180 || status == 183)) {
		call->ringing_ms = sipua_now_ms(true);
		call_notify(call, call->ua->obs.ringing);
	}
}


static void leg_bye(struct sipua_leg *l, tagi_t *extra)
{
	if (!l->nh || l->ended)
		return;
	l->ended = true;
	if (l->ack_deferred) { /* a 2xx we never ACKed: ACK before BYE */
		nua_ack(l->nh, TAG_END());
		l->ack_deferred = false;
	}
	nua_bye(l->nh, TAG_NEXT(extra));
}


/* Relay leg B's 2xx to leg A */
static void call_answered(struct sw_call *call, int status, const char *phrase,
			  const sip_t *sip)
{
	struct sipua_leg *a = &call->leg[SIPUA_LEG_A];
	struct sipua_leg *b = &call->leg[SIPUA_LEG_B];
	enum sipua_sdp_kind kind = b->offer_out ? SIPUA_SDP_ANSWER
						: SIPUA_SDP_OFFER;
	su_home_t tmp[1] = {SU_HOME_INIT(tmp)}; /* tags only (tl_dup) */
	char *sdp;
	size_t len;
	int st;

	b->final_status = status;
	b->final_phrase = su_strdup(call->home, phrase);
	if (call->state >= SW_CALL_ACTIVE || a->ended || !a->nh) {
		nua_ack(b->nh, TAG_END()); /* answered after CANCEL/timeout */
		b->ended = false; /* the CANCEL came too late: BYE it */
		leg_bye(b, NULL);
		return;
	}
	st = sipua_sdp_cross(call, SIPUA_LEG_B, kind, sip, false, &sdp, &len);
	if (st) {
		nua_ack(b->nh, TAG_END());
		leg_bye(b, NULL);
		call_reject_media(call, st);
		return;
	}
	a->final_status = status;
	a->final_phrase = b->final_phrase;
	call->answered_by = SIPUA_ANS_PEER;
	nua_respond(a->nh, status, b->final_phrase,
		    TAG_IF(a->contact, SIPTAG_CONTACT_STR(a->contact)),
		    TAG_IF(sdp, SIPTAG_CONTENT_TYPE_STR("application/sdp")),
		    TAG_IF(sdp, SIPTAG_PAYLOAD(sip_payload_create(tmp, sdp,
								  len))),
		    TAG_NEXT(sipua_hdr_copy(tmp, call->ua->conf, sip, false)));
	su_home_deinit(tmp);
	if (kind == SIPUA_SDP_OFFER && sdp)
		b->ack_deferred = true; /* the answer comes in A's ACK */
	else
		nua_ack(b->nh, TAG_END());
	call->answer_ms = sipua_now_ms(true);
	call_set_state(call, SW_CALL_ACTIVE);
	if (call->invite_msg) { /* no next peer any more */
		msg_destroy(call->invite_msg);
		call->invite_msg = NULL;
	}
	call_notify(call, call->ua->obs.answered);
}


/* Leg B's 1xx/2xx would form a dialog whose Contact or Record-Route
 * is not a SIP URI (sipua_dialog_uris_check): that leg ends (CANCEL, or
 * ACK and BYE, sent to its pinned hop) and the caller gets 502 */
static void call_b_refuse(struct sw_call *call, int status, const char *why)
{
	struct sipua_leg *b = &call->leg[SIPUA_LEG_B];

	sw_log_limited(SW_LOG_WARN, "[call %s leg B] %03d from %s: %s "
		       "(RFC 3261 12.1.2): leg ended", call->tag, status,
		       b->peer ? b->peer : "-", why);
	if (call->invite_timer && status >= 200) {
		su_timer_destroy(call->invite_timer);
		call->invite_timer = NULL;
	}
	if (!call->end_reason) {
		call->ended_by = SIPUA_LEG_B;
		call->end_reason = "bad response";
	}
	if (status >= 200) {
		b->final_status = status;
		nua_ack(b->nh, TAG_END());
		b->ended = false; /* a CANCEL crossed this 2xx: BYE it */
		leg_bye(b, NULL);
	} else if (!b->ended) {
		nua_cancel(b->nh, TAG_END());
		b->ended = true;
	}
	if (call->state < SW_CALL_ENDING)
		call_reject(call, 502, why,
			    su_sprintf(call->home, "%s (zone %s) answered %d "
				       "with a dialog the gateway cannot use "
				       "(%s, RFC 3261 12.1.2): it must send "
				       "exactly one SIP or SIPS Contact, and SIP "
				       "URIs in Record-Route",
				       b->peer ? b->peer : "?",
				       b->zone ? b->zone->name : "-", status,
				       why),
			    NULL);
}


/* Leg B's response to the initial INVITE */
static void call_b_response(struct sw_call *call, int status,
			    const char *phrase, const sip_t *sip)
{
	struct sipua_leg *b = &call->leg[SIPUA_LEG_B];
	const char *why;

	if (sip && !(sip->sip_flags & SIPUA_NTA_INTERNAL_MSG))
		call->b_heard = true; /* the peer is there */
	if (status > 100 && status < 300 && sip && sip->sip_to &&
	    sip->sip_to->a_tag &&
	    (why = sipua_dialog_uris_check(sip, false))) {
		call_b_refuse(call, status, why);
		return;
	}
	if (status < 200) {
		call_provisional(call, status, phrase, sip);
		return;
	}
	if (call->invite_timer) {
		su_timer_destroy(call->invite_timer);
		call->invite_timer = NULL;
	}
	if (call->peer >= 0 && b->zone &&
	    sipua_peers_call_result(call->ua, b->zone, (unsigned)call->peer,
				    status, phrase, sip) &&
	    status >= 300 && call->state < SW_CALL_ENDING &&
	    !call->leg[SIPUA_LEG_A].ended) {
		call_failover(call, status, phrase);
		return;
	}
	if (status < 300) {
		call_answered(call, status, phrase, sip);
		return;
	}
	b->final_status = status;
	b->final_phrase = su_strdup(call->home, phrase);
	b->ended = true;
	if (call->state >= SW_CALL_ENDING)
		return; /* A already has its final answer (CANCEL, timeout) */
	call->ended_by = SIPUA_LEG_B;
	if (sip && !(sip->sip_flags & SIPUA_NTA_INTERNAL_MSG)) {
		/* the peer's response, relayed */
		call->answered_by = SIPUA_ANS_PEER;
		call_reject(call, status, b->final_phrase, NULL,
			    sipua_hdr_copy(call->home, call->ua->conf, sip,
					   false));
		return;
	}
	/* no response came, the SIP stack made one up (a transport error,
	 * timer B): the gateway answers for a peer it could not reach */
	call_reject(call, status, b->final_phrase,
		    su_sprintf(call->home, "%s (zone %s, %s) could not be "
			       "reached: the SIP stack got %d %s sending the "
			       "INVITE; check that it is up and accepts %s "
			       "from shareway", b->peer ? b->peer : "?",
			       b->zone ? b->zone->name : "-",
			       sw_transport_name(b->tp), status,
			       phrase ? phrase : "", sw_transport_name(b->tp)),
		    NULL);
}


/** Shutdown: end a call as its state allows; call_free() follows when
 *  both handles are gone */
void sipua_call_hangup(struct sw_call *call)
{
	struct sipua_leg *b = &call->leg[SIPUA_LEG_B];

	if (call->state >= SW_CALL_ENDING)
		return;
	if (!call->end_reason)
		call->end_reason = "shutdown";
	if (call->state == SW_CALL_ACTIVE) {
		call_set_state(call, SW_CALL_ENDING);
		leg_bye(&call->leg[SIPUA_LEG_A], NULL);
		leg_bye(b, NULL);
		return;
	}
	if (b->nh && !b->ended) {
		nua_cancel(b->nh, TAG_END());
		b->ended = true;
	}
	call_reject(call, SIP_503_SERVICE_UNAVAILABLE,
		    "sharewayd was shutting down", NULL);
}


/* A leg's handle is gone: end the other leg too */
static void leg_terminated(struct sipua_leg *l)
{
	struct sw_call *call = l->call;
	struct sipua_leg *p = &call->leg[!l->id];

	sipua_dlg_cleanup(l);
	nua_handle_bind(l->nh, NULL);
	nua_handle_destroy(l->nh);
	l->nh = NULL;
	l->ended = true;
	if (!call->end_reason) {
		call->ended_by = l->id;
		call->end_reason = "leg terminated";
	}
	if (p->nh && !p->ended) {
		if (call->state >= SW_CALL_ACTIVE)
			leg_bye(p, NULL);
		else if (p->id == SIPUA_LEG_B)
			nua_cancel(p->nh, TAG_END()), p->ended = true;
		else
			call_reject(call, SIP_503_SERVICE_UNAVAILABLE,
				    "the outbound leg ended before any "
				    "answer (see the log for this call)",
				    NULL);
	}
	call_set_state(call, SW_CALL_ENDING);
	call_maybe_free(call);
}


static void call_bye(struct sipua_leg *l, const sip_t *sip)
{
	struct sw_call *call = l->call;

	l->ended = true;
	if (!call->end_reason) {
		call->ended_by = l->id;
		call->end_reason = "BYE";
	}
	call_set_state(call, SW_CALL_ENDING);
	leg_bye(&call->leg[!l->id],
		sipua_hdr_copy(call->home, call->ua->conf, sip, true));
}


static void call_cancel(struct sipua_leg *l)
{
	struct sw_call *call = l->call;
	struct sipua_leg *b = &call->leg[SIPUA_LEG_B];

	l->ended = true; /* nua answered 200 to CANCEL and 487 to INVITE */
	l->final_status = 487;
	if (l->id == SIPUA_LEG_A && call->answered_by == SIPUA_ANS_NONE)
		call->answered_by = SIPUA_ANS_GW;
	if (!call->end_reason) {
		call->ended_by = l->id;
		call->end_reason = "CANCEL";
	}
	call_set_state(call, SW_CALL_ENDING);
	if (b->nh && !b->ended) {
		nua_cancel(b->nh, TAG_END());
		b->ended = true;
	}
}


static void call_state(struct sipua_leg *l, tagi_t tags[])
{
	int cs = nua_callstate_init;

	tl_gets(tags, NUTAG_CALLSTATE_REF(cs), TAG_END());
	if (cs == nua_callstate_terminated)
		leg_terminated(l);
}


static void call_invite_event(struct sipua_leg *l, int status,
			      const char *phrase, const sip_t *sip)
{
	struct sw_call *call = l->call;

	if (sipua_dlg_own_response(l, status, sip))
		return;
	if (l->id == SIPUA_LEG_B && call->state < SW_CALL_ACTIVE)
		call_b_response(call, status, phrase, sip);
	else
		sipua_dlg_response(l, nua_r_invite, status, phrase, sip);
}


/* nua could not build or send one of this leg's requests (its own
 * statuses 900-999; nta never got it on the wire): the leg ends here,
 * locally and once, and the other leg is ended as for any lost leg.
 * Nothing is retried, so nothing can loop. */
static void leg_cannot_send(struct sipua_leg *l, nua_event_t ev, int status,
			    const char *phrase)
{
	struct sw_call *call = l->call;

	sw_log_limited(SW_LOG_WARN, "[call %s leg %c] %s: %03d %s: leg "
		       "ended locally", call->tag, "AB"[l->id],
		       nua_event_name(ev), status, phrase ? phrase : "");
	if (!call->end_reason) {
		call->ended_by = l->id;
		call->end_reason = "request not sent";
	}
	if (l->id == SIPUA_LEG_B && !l->final_status)
		l->final_status = 500;
	leg_terminated(l);
}


static bool is_response_event(nua_event_t ev)
{
	switch (ev) {
	case nua_r_invite:
	case nua_r_bye:
	case nua_r_cancel:
	case nua_r_update:
	case nua_r_info:
	case nua_r_message:
	case nua_r_ack:
		return true;
	default:
		return false;
	}
}


/** Every nua event on a handle bound to a leg */
void sipua_call_event(nua_event_t ev, int status, const char *phrase,
		      struct sipua_leg *l, const sip_t *sip, tagi_t tags[])
{
	if (!l->nh)
		return;
	if (status >= 900 && is_response_event(ev)) {
		leg_cannot_send(l, ev, status, phrase);
		return;
	}
	leg_note(l, sip);
	switch (ev) {
	case nua_r_invite:
		call_invite_event(l, status, phrase, sip);
		break;
	case nua_r_update:
	case nua_r_info:
	case nua_r_message:
		sipua_dlg_response(l, ev, status, phrase, sip);
		break;
	case nua_i_invite:
	case nua_i_update:
	case nua_i_info:
	case nua_i_message:
		sipua_dlg_request(l, ev, sip);
		break;
	case nua_i_ack:
		sipua_dlg_ack(l, sip);
		break;
	case nua_i_bye:
		call_bye(l, sip);
		break;
	case nua_i_cancel:
		call_cancel(l);
		break;
	case nua_i_state:
		call_state(l, tags);
		break;
	case nua_i_error:
		sw_info("[call %s leg %c] %03d %s", l->call->tag, "AB"[l->id],
			status, phrase ? phrase : "");
		break;
	default:
		break;
	}
}
