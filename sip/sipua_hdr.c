/**
 * @file sipua_hdr.c  What crosses from one leg to the other: headers, SDP.
 *
 * Extension headers (ms-*, P-Asserted-Identity, User-Agent, Reason,
 * Warning, ...) are copied as header objects; dialog-forming, transport,
 * body and per-leg negotiation headers never are (each leg is its own
 * dialog, RFC 3261 12; Session-Expires/Min-SE/Require/Supported belong to
 * one leg's session timer and 100rel, RFC 4028 and RFC 3262). The
 * [sip] strip_headers list removes more by name.
 *
 * Every SDP body crossing the B2BUA goes through the media-policy hook
 * (sipua_sdp_cross); the default hook applies the rule's media policies
 * with sdp/ (passthrough keeps the body byte-identical, RFC 3264 8.2
 * port 0 for strip, 488 for reject).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SW_LOG_MODULE "sip"
#include "sw_log.h"
#include "sipua_int.h"
#include "sdpr.h"

#include <sofia-sip/su_string.h>
#include <sofia-sip/sip_extra.h>
#include <sofia-sip/msg_header.h>


/* Headers of a leg, never copied to the other (compared on class) */
static bool hdr_is_leg_local(const msg_hclass_t *hc)
{
	static msg_hclass_t *const never[] = {
		sip_request_class, sip_status_class, sip_via_class,
		sip_route_class, sip_record_route_class, sip_max_forwards_class,
		sip_from_class, sip_to_class, sip_call_id_class, sip_cseq_class,
		sip_contact_class, sip_rseq_class, sip_rack_class,
		sip_content_length_class, sip_content_type_class,
		sip_content_encoding_class, sip_content_disposition_class,
		sip_mime_version_class, sip_payload_class,
		sip_separator_class, sip_error_class, sip_session_expires_class,
		sip_min_se_class, sip_require_class, sip_proxy_require_class,
		sip_supported_class, sip_unsupported_class, sip_allow_class,
		sip_authorization_class, sip_proxy_authorization_class,
		sip_www_authenticate_class, sip_proxy_authenticate_class,
		sip_authentication_info_class,
		sip_proxy_authentication_info_class, sip_replaces_class,
		sip_path_class, sip_service_route_class,
		sip_security_client_class, sip_security_server_class,
		sip_security_verify_class, sip_refer_to_class,
		sip_event_class, sip_subscription_state_class,
	};

	for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); ++i)
		if (hc == never[i])
			return true;
	return false;
}


static const char *hdr_name(const msg_header_t *h)
{
	if (h->sh_class == sip_unknown_class)
		return h->sh_unknown->un_name;
	return h->sh_class->hc_name;
}


/* Case-insensitive membership in a space/comma separated list */
static bool name_listed(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list;

	while (p && *p) {
		size_t l;

		p += strspn(p, " \t,");
		l = strcspn(p, " \t,");
		if (l == n && l && !strncasecmp(p, name, n))
			return true;
		p += l;
	}
	return false;
}


/* Extension headers that only make sense on the other leg's dialog */
static bool hdr_is_unknown_local(const char *name)
{
	/* our own correlation header is set per leg, never relayed */
	return !strcasecmp(name, "X-CID");
}


/**
 * Call fn for every header of a parsed message: the sip_t is an array of
 * per-class lists (RFC order is kept within a class, not across classes)
 */
void sipua_hdr_each(const sip_t *sip, sipua_hdr_h *fn, void *arg)
{
	msg_header_t *const *p = (msg_header_t *const *)&sip->sip_request;
	const char *end = (const char *)sip + sip->sip_size;

	for (; (const char *)(p + 1) <= end; ++p) {
		const msg_header_t *h;

		for (h = *p; h; h = h->sh_next)
			if (h->sh_class && fn(h, arg))
				return;
	}
}


struct copy_ctx {
	su_home_t *home;
	const struct sw_conf *conf;
	bool request;
	tagi_t *tl;
	size_t n, max;
};


static bool hdr_count(const msg_header_t *h, void *arg)
{
	(void)h;
	++((struct copy_ctx *)arg)->max;
	return false;
}


static bool hdr_take(const msg_header_t *h, void *arg)
{
	struct copy_ctx *c = arg;
	const char *name;

	if (c->n >= c->max || hdr_is_leg_local(h->sh_class))
		return false;
	name = hdr_name(h);
	if (!name || !*name)
		return false;
	if (h->sh_class == sip_unknown_class && hdr_is_unknown_local(name))
		return false;
	if (c->conf->sip_strip_headers[0] &&
	    name_listed(c->conf->sip_strip_headers, name))
		return false;
	if (!c->request && h->sh_class == sip_user_agent_class)
		return false;
	/* one header: SIPTAG_HEADER of a list head would copy its list */
	h = msg_header_dup_one(c->home, h);
	if (!h)
		return false;
	c->tl[c->n].t_tag = siptag_header;
	c->tl[c->n++].t_value = (tag_value_t)h;
	return false;
}


/**
 * Tags copying the extension headers of a message to the other leg
 *
 * @param request  true for a request (User-Agent), false for a response
 * @return a TAG_END-terminated list in home (never NULL: home failure
 *         gives an empty static list)
 */
tagi_t *sipua_hdr_copy(su_home_t *home, const struct sw_conf *conf,
		       const sip_t *sip, bool request)
{
	static tagi_t empty[1] = {{TAG_END()}};
	struct copy_ctx c = {home, conf, request, NULL, 0, 0};

	if (!sip)
		return empty;
	sipua_hdr_each(sip, hdr_count, &c);
	c.tl = su_zalloc(home, (c.max + 1) * sizeof(*c.tl));
	if (!c.tl)
		return empty;
	sipua_hdr_each(sip, hdr_take, &c);
	c.tl[c.n].t_tag = NULL; /* TAG_END */
	return c.tl;
}


/** Value of the first unknown (extension) header called name */
const char *sipua_hdr_find(const sip_t *sip, const char *name)
{
	const sip_unknown_t *u;

	for (u = sip ? sip->sip_unknown : NULL; u; u = u->un_next)
		if (u->un_name && su_casematch(u->un_name, name))
			return u->un_value;
	return NULL;
}


/** Copy of the message body (NUL-terminated, *lenp bytes), or NULL */
char *sipua_body_dup(su_home_t *home, const sip_t *sip, size_t *lenp)
{
	char *b;

	*lenp = 0;
	if (!sip || !sip->sip_payload || !sip->sip_payload->pl_len)
		return NULL;
	b = su_alloc(home, sip->sip_payload->pl_len + 1);
	if (!b)
		return NULL;
	memcpy(b, sip->sip_payload->pl_data, sip->sip_payload->pl_len);
	b[sip->sip_payload->pl_len] = '\0';
	*lenp = sip->sip_payload->pl_len;
	return b;
}


/** True if the body is SDP (or multipart, reduced before use) */
bool sipua_body_is_sdp(const sip_t *sip)
{
	const char *t;

	if (!sip || !sip->sip_payload || !sip->sip_payload->pl_len)
		return false;
	if (!sip->sip_content_type) /* RFC 3261 20.15: SDP is the default */
		return true;
	t = sip->sip_content_type->c_type;
	return t && (su_casematch(t, "application/sdp") ||
		     su_casenmatch(t, "multipart/", 10));
}


static void leg_info_fill(const struct sipua_leg *l,
			  struct sipua_leg_info *li)
{
	li->call_id = l->call_id;
	li->local_tag = l->local_tag;
	li->remote_tag = l->remote_tag;
	li->peer = l->peer;
	li->zone = l->zone ? l->zone->name : NULL;
	li->transport = l->tp;
	li->tls_subject = (l->tp == SW_TP_TLS && l->ep && l->ep->tls_verify)
				  ? (l->ep->tls_subjects ? l->ep->tls_subjects
							 : "(CA-verified)")
				  : NULL;
	li->user_agent = l->user_agent;
	li->from_uri = l->from_uri;
	li->to_uri = l->to_uri;
	li->final_status = l->final_status;
	li->final_phrase = l->final_phrase;
	li->ms_diagnostics = l->ms_diag;
	li->ms_diagnostics_public = l->ms_diag_public;
	li->ms_client_diagnostics = l->ms_client_diag;
}


void sipua_call_info_fill(const struct sw_call *call,
			  struct sipua_call_info *ci)
{
	memset(ci, 0, sizeof(*ci));
	ci->id = call->id;
	ci->tag = call->tag;
	ci->route = call->route;
	ci->zones = sipua_zones(call->ua, call->plan, &ci->n_zones);
	leg_info_fill(&call->leg[SIPUA_LEG_A], &ci->leg[SIPUA_LEG_A]);
	leg_info_fill(&call->leg[SIPUA_LEG_B], &ci->leg[SIPUA_LEG_B]);
	ci->start_ms = call->start_ms;
	ci->ringing_ms = call->ringing_ms;
	ci->answer_ms = call->answer_ms;
	ci->end_ms = call->end_ms;
	ci->ended_by = call->ended_by;
	ci->end_reason = call->end_reason;
	ci->answered_by = call->answered_by;
	ci->gw_reason = call->gw_reason;
}


/* The SDP of a message: the body, or for a multipart body (the
 * ms-proxy-2007fallback form) its ICE-19 application/sdp part; 0
 * (*bodyp points into the message), or sdpr's errno value */
static int sdp_extract(su_home_t *home, const sip_t *sip, const char **bodyp,
		       size_t *lenp)
{
	const char *ct = sip->sip_content_type ? sip->sip_content_type->c_type
					       : NULL;
	struct sdpr_err perr;
	int err;

	*bodyp = sip->sip_payload->pl_data;
	*lenp = sip->sip_payload->pl_len;
	if (!ct || !su_casenmatch(ct, "multipart/", 10))
		return 0;
	/* the whole Content-Type, with its boundary parameter */
	ct = sip_header_as_string(home,
				  (const sip_header_t *)sip->sip_content_type);
	if (!ct)
		return ENOMEM;
	err = sdpr_multipart_reduce(ct, *bodyp, *lenp, bodyp, lenp, &perr);
	if (err)
		sw_info("[sip] multipart body refused: %s", perr.reason);
	return err;
}


/**
 * The SDP of a message, parsed once for its crossing (s->body NULL: the
 * message has none); sipua_sdp_close() frees the parse
 *
 * @return 0, or sdpr's errno value for a multipart body without a usable
 *         application/sdp part (logged)
 */
int sipua_sdp_open(su_home_t *home, const sip_t *sip, struct sipua_sdp *s)
{
	int err;

	memset(s, 0, sizeof(*s));
	if (!sipua_body_is_sdp(sip))
		return 0;
	err = sdp_extract(home, sip, &s->body, &s->len);
	if (err) {
		s->body = NULL;
		s->len = 0;
		return err;
	}
	(void)sdpr_parse(&s->model, s->body, s->len, &s->err);
	return 0;
}


void sipua_sdp_close(struct sipua_sdp *s)
{
	sdpr_free(s->model);
	s->model = NULL;
}


/**
 * Pass the SDP body of a message from a leg through the media-policy hook
 *
 * @param can_local  the caller can answer the offer itself
 * @param outp     the body to send to the other leg (call home), or NULL
 *                 if the message has no SDP body
 * @return 0, a SIP status to refuse the offer with, or SIPUA_SDP_LOCAL
 *         (only if can_local): *outp answers the offer on its own leg
 */
int sipua_sdp_cross(struct sw_call *call, enum sipua_leg_id from,
		    enum sipua_sdp_kind kind, const sip_t *sip, bool can_local,
		    char **outp, size_t *outlenp)
{
	struct sipua_sdp s;
	int status;

	*outp = NULL;
	*outlenp = 0;
	memset(&call->sdp_refusal, 0, sizeof(call->sdp_refusal));
	if (sipua_sdp_open(call->home, sip, &s)) {
		snprintf(call->sdp_refusal.why, sizeof(call->sdp_refusal.why),
			 "the multipart body has no usable application/sdp "
			 "part; its sender must send one");
		call->sdp_refusal.status = 400;
		return 400;
	}
	status = sipua_sdp_cross_on(call, from, kind, &s, can_local, outp,
				    outlenp);
	sipua_sdp_close(&s);
	return status;
}


/**
 * The same for an SDP already opened (sipua_sdp_open()): the INVITE's,
 * whose parse the dial plan read first
 */
int sipua_sdp_cross_on(struct sw_call *call, enum sipua_leg_id from,
		       enum sipua_sdp_kind kind, struct sipua_sdp *s,
		       bool can_local, char **outp, size_t *outlenp)
{
	struct sipua *ua = call->ua;
	struct sipua_call_info ci;
	const char *body = s->body;
	char *hout = NULL, *out;
	size_t len = s->len, in_len = s->len, hlen = 0;
	int status = 0;

	*outp = NULL;
	*outlenp = 0;
	memset(&call->sdp_refusal, 0, sizeof(call->sdp_refusal));
	if (!body)
		return 0;
	sipua_call_info_fill(call, &ci);
	ci.refusal = &call->sdp_refusal;
	if (ua->sdph)
		status = ua->sdph(ua->sdp_arg, &ci, from, kind, s, &hout,
				  &hlen);
	/* a hook that edited the model in place: printed once, here */
	if (!status && !hout && s->edited && s->model &&
	    sdpr_print(s->model, &hout, &hlen))
		status = 500;
	if (kind == SIPUA_SDP_OFFER_LOCAL_ONLY &&
	    (status != SIPUA_SDP_LOCAL || !hout))
		status = 491;
	if (status == SIPUA_SDP_LOCAL && can_local && hout &&
	    kind != SIPUA_SDP_ANSWER) {
		/* answered by the gateway: *outp is the answer, not forwarded */
		out = su_strndup(call->home, hout, hlen);
		free(hout);
		if (!out)
			return 500;
		if (ua->obs.sdp)
			ua->obs.sdp(ua->obs.arg, &ci, from, SIPUA_SDP_OFFER,
				    body, in_len, out, hlen, SIPUA_SDP_LOCAL);
		*outp = out;
		*outlenp = hlen;
		return SIPUA_SDP_LOCAL;
	}
	if (status) {
		free(hout);
		if (status < 400 || status > 699)
			status = 488;
		call->sdp_refusal.status = status;
		if (ua->obs.sdp && kind != SIPUA_SDP_ANSWER)
			ua->obs.sdp(ua->obs.arg, &ci, from, SIPUA_SDP_OFFER,
				    body, in_len, NULL, 0, status);
		return status;
	}
	if (hout) {
		out = su_alloc(call->home, hlen + 1);
		if (out) {
			memcpy(out, hout, hlen);
			out[hlen] = '\0';
		}
		free(hout);
		len = hlen;
	}
	else {
		out = su_strndup(call->home, body, len);
	}
	if (!out)
		return 500;
	if (ua->obs.sdp)
		ua->obs.sdp(ua->obs.arg, &ci, from, kind, body, in_len, out, len,
			    0);
	*outp = out;
	*outlenp = len;
	return 0;
}


/* Apply strip/reject of the route's media policies to a parsed body, in
 * place (*changed set if it was) */
static int sdp_apply_policy(struct sdpr *sdp, const struct sw_route_kept *r,
			    enum sipua_sdp_kind kind, bool *changed,
			    struct sipua_refusal *why)
{
	unsigned n = sdpr_media_count(sdp);

	for (unsigned i = 0; i < n; ++i) {
		const char *type = sdpr_media_type(sdp, (int)i);
		unsigned tr;
		uint16_t port = 0;

		if (!type)
			continue;
		tr = sw_media_policy_traits(sw_route_kept_policy(r, type));
		if ((tr & SW_MPF_REFUSE) && kind == SIPUA_SDP_OFFER) {
			if (why) {
				why->by_rule = true;
				snprintf(why->why, sizeof(why->why),
					 "dial plan rule %s refuses offers "
					 "with m=%s (media.%s = %s)",
					 r->rule[0] ? r->rule : "[defaults]",
					 type, type,
					 sw_media_policy_name(
						 sw_route_kept_policy(r,
								      type)));
			}
			return 488;
		}
		if (!(tr & SW_MPF_PORT0))
			continue;
		if (sdpr_media_port(sdp, (int)i, &port) || !port)
			continue;
		if (sdpr_media_set_port(sdp, (int)i, 0))
			return 500;
		*changed = true;
	}
	return 0;
}


/**
 * The default media-policy hook: passthrough, relay and observe forward
 * the body byte-identical; a policy with SW_MPF_PORT0 (strip) sets the
 * port of the type's m= lines to 0 (RFC 3264 8.2); one with SW_MPF_REFUSE
 * (reject) refuses an offer that has the type with 488.
 */
int sipua_sdp_hook_default(void *arg, const struct sipua_call_info *call,
			   enum sipua_leg_id from, enum sipua_sdp_kind kind,
			   struct sipua_sdp *sdp, char **outp,
			   size_t *outlenp)
{
	const struct sdpr_err *perr = &sdp->err;

	(void)arg;
	(void)from;
	(void)outlenp;
	*outp = NULL;
	if (!call->route || kind == SIPUA_SDP_OFFER_LOCAL_ONLY)
		return 0;
	if (!sdp->model) {
		if (kind != SIPUA_SDP_OFFER)
			return 0;
		if (call->refusal && perr->line)
			snprintf(call->refusal->why, sizeof(call->refusal->why),
				 "the offer's SDP line %u is malformed (%s); "
				 "its sender must send valid SDP", perr->line,
				 perr->reason);
		else if (call->refusal)
			snprintf(call->refusal->why, sizeof(call->refusal->why),
				 "the offer's SDP is malformed (%s); its "
				 "sender must send valid SDP", perr->reason);
		return 488;
	}
	return sdp_apply_policy(sdp->model, call->route, kind, &sdp->edited,
				call->refusal);
}


/** Tags of the Warning a media refusal carries (RFC 3261 20.43, 304) */
tagi_t *sipua_warning_tags(su_home_t *home)
{
	tagi_t *t = su_zalloc(home, 2 * sizeof(*t));

	if (!t)
		return NULL;
	t[0].t_tag = siptag_warning_str;
	t[0].t_value = (tag_value_t) "304 shareway \"Media type not available\"";
	return t;
}
