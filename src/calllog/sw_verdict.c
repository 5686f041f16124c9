/**
 * @file sw_verdict.c  One sentence that tells the operator what went wrong
 * with a call, in words they can act on.
 *
 * sw_verdict() is a pure function of the stored facts. The checks run from
 * the most specific cause to the most general: what the far end said in
 * ms-diagnostics beats a bare SIP status; a transport failure beats a
 * timeout it caused; a response the gateway gave itself is explained by
 * its own reason, never blamed on a far end; for answered calls that
 * offered application sharing the media path is walked in the order it
 * is built (the conference's answer, the allocation, the Edge's
 * connection to the relayed port, ConnectionBind, ICE each way, the
 * completion re-INVITE), and the first broken link is reported.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sw_callrec.h"
#include "sw_mpolicy.h"

struct vctx {
	const struct sw_callrec *rec;
	char *buf;
	size_t sz;
};

#define NOT_MINE (-1)

__attribute__((format(printf, 3, 4))) static int say(struct vctx *v,
						     enum sw_verdict_sev sev,
						     const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v->buf, v->sz, fmt, ap);
	va_end(ap);
	return (int)sev;
}


static const char *tag(const struct vctx *v)
{
	return v->rec->tag ? v->rec->tag : "TAG";
}


/* The SIP peer of a leg for the sentence: zone name, else address */
static const char *leg_peer(const struct sw_callrec *rec, char leg)
{
	const struct sw_rec_leg *l = sw_callrec_leg(rec, leg);

	if (l && l->peer)
		return l->peer;
	if (leg == 'c' && rec->route.target)
		return rec->route.target;
	return leg == 'e' ? "the Edge" : "the conference server";
}


/* ---- ms-diagnostics ------------------------------------------------ */

struct diag {
	int code;
	char reason[160];
	char leg;
	const char *header;
};


/* "21002;reason=\"Attendees cannot share\";component=\"ASMCU\"" */
static bool diag_parse(const char *s, struct diag *d)
{
	const char *r;
	char *end;
	long code;

	if (!s)
		return false;
	code = strtol(s, &end, 10);
	if (end == s || code <= 0 || code > 99999)
		return false;
	d->code = (int)code;
	d->reason[0] = '\0';
	r = strstr(end, "reason=\"");
	if (r) {
		const char *q;

		r += 8;
		q = strchr(r, '"');
		snprintf(d->reason, sizeof(d->reason), "%.*s",
			 (int)(q ? q - r : (long)strlen(r)), r);
	}
	return true;
}


/*
 * The ms-diagnostics codes the verdict knows (MS-OCER lists them all;
 * these are the ones application sharing through a gateway runs into):
 * the far end's own words beat the bare SIP status. In the text, {H} is
 * the header, {C} the code, {R} its reason in quotes (the entry's when
 * the header has none), {T} the call's tag. client_ice codes are the
 * Skype client's own ICE verdict, used only when the gateway's
 * observations of the media path did not explain the failure.
 */
static const struct diag_known {
	int code;
	bool client_ice;
	enum sw_verdict_sev sev;
	const char *reason;
	const char *text;
} diag_known[] = {
	{21002, false, SW_VERDICT_FAIL,
	 "Attendees cannot share in this conference",
	 "{H} {C}{R}: the Skype meeting does not let this participant share; "
	 "make them a presenter (right-click the participant, Make a "
	 "presenter)."},
	{21006, false, SW_VERDICT_FAIL, NULL,
	 "{H} {C}{R}: the conference's application-sharing MCU could not "
	 "establish the RDP connection over the sharing media path, so "
	 "nothing was shared; check that the relayed TCP connections carried "
	 "data both ways once the checks passed (shareway ladder {T}), then "
	 "that the sharer's client can share at all."},
	{21000, false, SW_VERDICT_INFO, "New sharer joined conference",
	 "{H} {C}{R}: this sharing session ended because another participant "
	 "started sharing; no gateway fault."},
	{24012, false, SW_VERDICT_FAIL,
	 "Cannot support any media offered by client",
	 "{H} {C}{R}: the conference accepted none of the offered media; "
	 "application sharing must be TCP/RTP/AVP with payload type 127 "
	 "x-data/90000 (shareway sdp {T} --diff)."},
	{24000, false, SW_VERDICT_FAIL, "Error parsing SDP",
	 "{H} {C}{R}: the far end could not parse the SDP it was sent; look "
	 "for zero-port TCP-ACT candidates, duplicate or blank lines "
	 "(shareway sdp {T} --diff)."},
	{7008, false, SW_VERDICT_FAIL, "Error parsing SDP",
	 "{H} {C}{R}: the far end could not parse the SDP it was sent; look "
	 "for zero-port TCP-ACT candidates, duplicate or blank lines "
	 "(shareway sdp {T} --diff)."},
	{52017, false, SW_VERDICT_FAIL, NULL,
	 "{H} {C}: encryption levels do not match; one side requires SRTP "
	 "and the other refuses it, so align the encryption policy of Skype "
	 "for Business and the conference server."},
	{52063, false, SW_VERDICT_FAIL, "Unsupported session description",
	 "{H} {C}{R}: the client could not parse the SDP it was sent "
	 "(shareway sdp {T} --diff)."},
	{4141, false, SW_VERDICT_FAIL, "User disabled",
	 "{H} {C}{R}: the target user is disabled in Skype for Business; "
	 "enable them there."},
	{23, true, SW_VERDICT_FAIL, NULL,
	 "{H} {C}: the Skype client reported a media connectivity failure; "
	 "check that the Edge can reach shareway's relay ports and that the "
	 "conference answers its connectivity checks (shareway ladder {T})."},
	{21, true, SW_VERDICT_FAIL, NULL,
	 "{H} {C}: the Skype client reported a media connectivity failure; "
	 "check that the Edge can reach shareway's relay ports and that the "
	 "conference answers its connectivity checks (shareway ladder {T})."},
};

#define N_DIAG (sizeof(diag_known) / sizeof(diag_known[0]))


/**
 * The ms-diagnostics codes the verdict knows, for the table test
 *
 * @return false past the last one
 */
bool sw_verdict_diag_code(size_t i, int *code, bool *client_ice)
{
	if (i >= N_DIAG)
		return false;
	*code = diag_known[i].code;
	*client_ice = diag_known[i].client_ice;
	return true;
}


/* The first diagnostic the verdict knows (of the client's ICE codes, or
 * of the others), on either leg */
static const struct diag_known *diag_find(const struct sw_callrec *rec,
					  bool client_ice, struct diag *d)
{
	for (int li = 0; li < 2; ++li) {
		const struct sw_rec_leg *l = &rec->legs[li];
		const char *h[3] = {l->ms_diag_public, l->ms_diag,
				    l->ms_client_diag};
		static const char *const hn[3] = {"ms-diagnostics-public",
						  "ms-diagnostics",
						  "ms-client-diagnostics"};

		if (!rec->has_leg[li])
			continue;
		for (int k = 0; k < 3; ++k) {
			if (!diag_parse(h[k], d))
				continue;
			for (size_t i = 0; i < N_DIAG; ++i) {
				if (d->code == diag_known[i].code &&
				    diag_known[i].client_ice == client_ice) {
					d->leg = l->leg;
					d->header = hn[k];
					return &diag_known[i];
				}
			}
		}
	}
	return NULL;
}


static int diag_say(struct vctx *v, const struct diag_known *k,
		    const struct diag *d)
{
	const char *reason = d->reason[0] ? d->reason : k->reason;
	size_t n = 0;

	for (const char *p = k->text; *p && n + 1 < v->sz; ++p) {
		char tmp[256];
		const char *ins = NULL;

		if (!strncmp(p, "{H}", 3))
			ins = d->header;
		else if (!strncmp(p, "{C}", 3))
			snprintf(tmp, sizeof(tmp), "%d", d->code), ins = tmp;
		else if (!strncmp(p, "{R}", 3))
			snprintf(tmp, sizeof(tmp), "%s%s%s", reason ? " \"" : "",
				 reason ? reason : "", reason ? "\"" : ""),
				ins = tmp;
		else if (!strncmp(p, "{T}", 3))
			ins = tag(v);
		if (!ins) {
			v->buf[n++] = *p;
			continue;
		}
		n += (size_t)snprintf(v->buf + n, v->sz - n, "%s", ins);
		if (n >= v->sz)
			n = v->sz - 1;
		p += 2;
	}
	v->buf[n] = '\0';
	return (int)k->sev;
}


/* A far end's ms-diagnostics the table does not know is still its own
 * words: quoted after the sentence its status gave */
static int diag_unknown(struct vctx *v, const struct sw_rec_leg *l, int sev)
{
	const char *h[3], *hn[3] = {"ms-diagnostics-public", "ms-diagnostics",
				    "ms-client-diagnostics"};
	size_t n = strlen(v->buf);
	struct diag d;

	if (!l)
		return sev;
	h[0] = l->ms_diag_public;
	h[1] = l->ms_diag;
	h[2] = l->ms_client_diag;
	for (int k = 0; k < 3; ++k) {
		if (!diag_parse(h[k], &d))
			continue;
		snprintf(v->buf + n, v->sz - n, " It said %s %d%s%s%s.", hn[k],
			 d.code, d.reason[0] ? " \"" : "", d.reason,
			 d.reason[0] ? "\"" : "");
		break;
	}
	return sev;
}


static int check_diag(struct vctx *v)
{
	struct diag d;
	const struct diag_known *k = diag_find(v->rec, false, &d);

	return k ? diag_say(v, k, &d) : NOT_MINE;
}


/* ms-client-diagnostics 21/23: the client's own ICE verdict, used only
 * when the gateway's observations did not explain the failure */
static int check_client_ice_diag(struct vctx *v)
{
	struct diag d;
	const struct diag_known *k = diag_find(v->rec, true, &d);

	return k ? diag_say(v, k, &d) : NOT_MINE;
}


/* ---- transport and SIP status ------------------------------------- */

static int say_tls(struct vctx *v, const struct sw_rec_leg *l,
		   const char *side)
{
	const char *e = l->error;

	if (!strncasecmp(e, "TLS handshake failed: ", 22))
		e += 22;
	if (l->tls_subject && strstr(e, "not trusted"))
		return say(v, SW_VERDICT_FAIL,
			   "TLS handshake with %s (%s) failed: certificate "
			   "subject %s not trusted; add it to tls.subjects of "
			   "zone %s or install its CA in tls_ca.", side,
			   leg_peer(v->rec, l->leg), l->tls_subject,
			   l->zone ? l->zone : "?");
	if (l->tls_subject)
		return say(v, SW_VERDICT_FAIL,
			   "TLS handshake with %s (%s, certificate subject %s) "
			   "failed: %s; check certificates and tls_ca on both "
			   "sides.", side, leg_peer(v->rec, l->leg),
			   l->tls_subject, e);
	return say(v, SW_VERDICT_FAIL,
		   "TLS handshake with %s (%s) failed: %s; check certificates "
		   "and tls_ca on both sides.", side, leg_peer(v->rec, l->leg),
		   e);
}


static int check_transport(struct vctx *v)
{
	for (int li = 0; li < 2; ++li) {
		const struct sw_rec_leg *l = &v->rec->legs[li];
		const char *side = l->leg == 'e' ? "the Edge" :
						  "the conference server";

		if (!v->rec->has_leg[li] || !l->error)
			continue;
		if (strstr(l->error, "TLS") || strstr(l->error, "tls") ||
		    strstr(l->error, "certificate"))
			return say_tls(v, l, side);
		return say(v, SW_VERDICT_FAIL,
			   "Transport failure toward %s (%s): %s.", side,
			   leg_peer(v->rec, l->leg), l->error);
	}
	return NOT_MINE;
}


/* The outbound leg (toward the callee), if it was created */
static const struct sw_rec_leg *outbound_leg(const struct sw_callrec *rec)
{
	for (int li = 0; li < 2; ++li)
		if (rec->has_leg[li] && !rec->legs[li].inbound &&
		    rec->legs[li].leg != rec->inbound_leg)
			return &rec->legs[li];
	return NULL;
}


static int say_status(struct vctx *v, int code, const char *phrase,
		      const char *who_lc)
{
	char who[300]; /* at the start of the sentence */

	snprintf(who, sizeof(who), "%s", who_lc);
	who[0] = (char)toupper((unsigned char)who[0]);
	switch (code) {
	case 488:
	case 606:
	case 415:
		return say(v, SW_VERDICT_FAIL,
			   "%s rejected the offer with %d %s: no common media; "
			   "compare what was offered with what it supports "
			   "(shareway sdp %s --diff).", who, code, phrase,
			   tag(v));
	case 408:
		return say(v, SW_VERDICT_FAIL,
			   "No answer from %s (408 %s): it did not respond in "
			   "time; check that it is up and reachable from "
			   "shareway.", who_lc, phrase);
	case 503:
	case 502:
	case 500:
	case 504:
		return say(v, SW_VERDICT_FAIL,
			   "%s was unreachable or failing (%d %s): check DNS, "
			   "routing, and that its SIP port accepts connections "
			   "from shareway.", who, code, phrase);
	case 404:
	case 604:
	case 484:
		return say(v, SW_VERDICT_FAIL,
			   "%s does not know the called address (%d %s): check "
			   "the rule's Request-URI rewrite (shareway show %s).",
			   who, code, phrase, tag(v));
	case 401:
	case 403:
	case 407:
		return say(v, SW_VERDICT_FAIL,
			   "%s refused the call (%d %s): it does not trust "
			   "shareway as a source; add the gateway as a trusted "
			   "peer there.", who, code, phrase);
	case 480:
	case 486:
	case 600:
	case 603:
		return say(v, SW_VERDICT_INFO,
			   "%s declined the call (%d %s): the callee was busy, "
			   "unavailable or refused; no gateway fault.", who,
			   code, phrase);
	default:
		return say(v, SW_VERDICT_FAIL, "%s rejected the call with %d %s.",
			   who, code, phrase);
	}
}


/* Who gave the failure: "The conference side (10.0.0.20:5061)" */
static int say_rejected(struct vctx *v, const struct sw_rec_leg *out,
			int code, const char *phrase)
{
	const struct sw_callrec *rec = v->rec;
	const char *rule = rec->has_route ? rec->route.rule : NULL;
	char who[300];

	if (out) {
		snprintf(who, sizeof(who), "the %s (%s)",
			 out->leg == 'c' ? "conference side" : "Edge side",
			 leg_peer(rec, out->leg));
	}
	else if (rec->has_route && (!rule || !*rule)) {
		return say(v, SW_VERDICT_FAIL,
			   "No dial plan rule matched, so shareway answered "
			   "%d %s; check rules.conf (shareway locate URI).",
			   code, phrase);
	}
	else if (rec->has_route && !rec->route.target) {
		return say(v, SW_VERDICT_INFO,
			   "Dial plan rule %s answered %d %s as configured "
			   "(action = reject).", rule, code, phrase);
	}
	else {
		snprintf(who, sizeof(who), "the target %s",
			 rec->has_route && rec->route.target ?
				 rec->route.target : "(none)");
	}
	return say_status(v, code, phrase, who);
}


static int check_rejected(struct vctx *v)
{
	const struct sw_callrec *rec = v->rec;
	const struct sw_rec_leg *out = outbound_leg(rec);
	int code = rec->final_code;
	const char *phrase = rec->final_phrase;

	if (rec->state != SW_CS_REJECTED &&
	    !(rec->state == SW_CS_FAILED && !rec->answer_us))
		return NOT_MINE;
	if (out && out->final_code >= 300) {
		code = out->final_code;
		phrase = out->final_phrase;
	}
	if (code < 300) {
		if (rec->disconnect_reason)
			return say(v, SW_VERDICT_FAIL,
				   "The call failed before it was answered: "
				   "%s.", rec->disconnect_reason);
		return NOT_MINE;
	}
	return diag_unknown(v, out, say_rejected(v, out, code,
						 phrase ? phrase : ""));
}


/* A fault of the gateway during the call explains what followed from it
 * (a refused connection, a far end's 21006 or ms-client-diagnostics 23) */
static int check_fault(struct vctx *v)
{
	if (!v->rec->gw_fault)
		return NOT_MINE;
	return say(v, SW_VERDICT_FAIL, "shareway failed this call: %s (see "
		   "its log lines of the call; shareway ladder %s).",
		   v->rec->gw_fault, tag(v));
}


/* What a refusal of the gateway's own means when it did not say why */
static const char *gw_status_fix(int code)
{
	switch (code) {
	case 400:
	case 414:
	case 416:
	case 420:
		return "the request broke SIP syntax or a limit of the gateway; "
		       "its sender must fix it (shareway ladder shows the "
		       "request)";
	case 403:
		return "the source matches no zone: add its address to a "
		       "zone's match.source, or mark a zone default = yes";
	case 404:
		return "no dial plan rule gave the request a target: add one "
		       "(shareway locate URI --source IP)";
	case 408:
		return "the far end sent no final answer within invite_timeout: "
		       "check that it is up and reachable from shareway";
	case 483:
		return "Max-Forwards reached 0: the request loops or crossed "
		       "too many hops; check that no zone's target leads back "
		       "to its caller";
	case 488:
		return "the gateway could not accept the offer";
	case 503:
		return "the gateway could not take the call (no dial plan, a "
		       "call limit, or the outbound leg failed); see its log "
		       "lines of the call";
	default:
		return "see the gateway's log lines of the call";
	}
}


/*
 * A final response the gateway gave itself (answered_by "gw" or "rule"):
 * its reason and fix, never blamed on a far end. A dial plan's refusal
 * is as configured; anything else is for the operator to fix.
 */
static int check_gateway(struct vctx *v)
{
	const struct sw_callrec *rec = v->rec;
	const char *by = rec->answered_by, *why = rec->gw_reason;
	const char *phrase = rec->final_phrase ? rec->final_phrase : "";
	char sdp[64] = "";

	if (!by || (strcmp(by, "gw") && strcmp(by, "rule")) ||
	    rec->final_code < 300 ||
	    (rec->state != SW_CS_REJECTED && rec->state != SW_CS_FAILED))
		return NOT_MINE;
	if (rec->final_code == 488 || rec->final_code == 400)
		snprintf(sdp, sizeof(sdp), " (shareway sdp %s shows the offer)",
			 tag(v));
	if (!strcmp(by, "rule"))
		return say(v, SW_VERDICT_INFO,
			   "shareway answered %d %s as the dial plan says: "
			   "%s.", rec->final_code, phrase,
			   why && *why ? why : "a rule refuses these calls");
	return say(v, SW_VERDICT_FAIL, "shareway answered %d %s itself: %s%s.",
		   rec->final_code, phrase,
		   why && *why ? why : gw_status_fix(rec->final_code), sdp);
}


static int check_cancelled(struct vctx *v)
{
	char d[16];

	if (v->rec->state != SW_CS_CANCELLED)
		return NOT_MINE;
	return say(v, SW_VERDICT_INFO,
		   "Cancelled by the caller after %s, before the callee "
		   "answered; no gateway fault.",
		   sw_fmt_dur(v->rec->end_us - v->rec->start_us, d,
			      sizeof(d)));
}


/* ---- the app-sharing media path ------------------------------------ */

static bool as_mline_accepted(const char *sdp)
{
	const char *m = strstr(sdp, "m=applicationsharing ");

	return m && (m == sdp || m[-1] == '\n') && strncmp(m + 21, "0 ", 2);
}


/* The SDP the conference sent in the first exchange that took application
 * sharing (a port in its m=applicationsharing), else in the first exchange
 * of the call. SfB reuses a call's dialog: sharing is added to an audio
 * call by re-INVITE, set to port 0 when it stops and added again, so only
 * a conference that never took it declined it. */
static const char *conference_sdp(const struct sw_callrec *rec)
{
	const char *first = NULL;

	for (unsigned i = 0; i < rec->n_negs; ++i) {
		const struct sw_rec_neg *n = &rec->negs[i];
		const char *sdp = n->to_leg == 'c' && n->answer_in ? n->answer_in
				: n->from_leg == 'c'		   ? n->offer_in
								   : NULL;

		if (sdp && as_mline_accepted(sdp))
			return sdp;
		if (!first)
			first = sdp;
	}
	return first;
}


static int check_conference_sdp(struct vctx *v)
{
	const char *sdp = conference_sdp(v->rec);
	unsigned tr = sw_media_policy_traits_of(v->rec->route.media_policy);

	if (!sdp)
		return NOT_MINE;
	if (!as_mline_accepted(sdp))
		return say(v, SW_VERDICT_FAIL,
			   "The conference server declined application sharing "
			   "(no m=applicationsharing with a port in its SDP); "
			   "check that content sharing with Skype for Business "
			   "is enabled on it.");
	if ((tr & SW_MPF_ANCHOR) && !sw_sdp_has_usable_tcp_candidate(sdp))
		return say(v, SW_VERDICT_FAIL,
			   "The conference server's answer had no usable TCP "
			   "candidate for application sharing (no TCP-PASS or "
			   "passive TCP candidate with a port), so the relay "
			   "had nothing to connect to; check its ICE/TURN TCP "
			   "settings (shareway sdp %s).", tag(v));
	return NOT_MINE;
}


static int check_allocation(struct vctx *v)
{
	const struct sw_callrec *rec = v->rec;

	for (unsigned i = 0; i < rec->n_relays; ++i) {
		const struct sw_rec_relay *r = &rec->relays[i];

		if (r->alloc_us || !r->error_code)
			continue;
		return say(v, SW_VERDICT_FAIL,
			   "The TURN allocation for %s failed (%d %s); check "
			   "the TURN users, quotas and relay_ports in "
			   "shareway.conf.",
			   r->client ? r->client : "the client", r->error_code,
			   r->error ? r->error : "");
	}
	return NOT_MINE;
}


static const struct sw_rec_relay *bound_relay(const struct sw_callrec *rec)
{
	for (unsigned i = 0; i < rec->n_relays; ++i)
		if (rec->relays[i].alloc_us)
			return &rec->relays[i];
	return NULL;
}


static int check_connection(struct vctx *v)
{
	const struct sw_callrec *rec = v->rec;
	const struct sw_rec_relay *r = bound_relay(rec);
	char d[16];
	int64_t from;

	if (!r)
		return NOT_MINE;
	for (unsigned i = 0; i < rec->n_conns; ++i) {
		const struct sw_rec_conn *c = &rec->conns[i];

		if (c->bind_code == 200)
			return NOT_MINE;
		if (c->bind_code)
			return say(v, SW_VERDICT_FAIL,
				   "ConnectionBind for the Edge's connection "
				   "from %s failed (%d %s): the TURN client "
				   "could not take the connection; check its "
				   "credentials and bind_timeout.",
				   c->peer ? c->peer : "?", c->bind_code,
				   c->bind_error ? c->bind_error : "");
	}
	if (rec->n_conns) {
		const struct sw_rec_conn *c = &rec->conns[0];

		return say(v, SW_VERDICT_FAIL,
			   "The Edge connected from %s but no ConnectionBind "
			   "followed%s%s: the TURN client never claimed the "
			   "connection.", c->peer ? c->peer : "?",
			   c->close_reason ? " (" : "",
			   c->close_reason ? c->close_reason : "");
	}
	if (rec->state == SW_CS_ACTIVE)
		return NOT_MINE;
	from = r->alloc_us ? r->alloc_us : rec->answer_us;
	return say(v, SW_VERDICT_FAIL,
		   "The Edge never connected to the relayed address %s within "
		   "%s (no ConnectionAttempt): check the firewall between the "
		   "Edge and shareway's relay ports, and that the relay "
		   "candidate is reachable from the Edge.",
		   r->relayed ? r->relayed : "?",
		   sw_fmt_dur(rec->end_us - from, d, sizeof(d)));
}


static int say_ice_dir(struct vctx *v, const struct sw_rec_ice *x)
{
	bool e2c = x->dir == SW_ICE_E2C;
	const char *sender = e2c ? "the Edge" : "the conference";
	const char *answerer = e2c ? "the conference side" : "the Edge side";
	const char *user;
	char t[32];

	if (x->timeout_s)
		snprintf(t, sizeof(t), "within %u s", x->timeout_s);
	else
		snprintf(t, sizeof(t), "before the call ended");
	if (!x->first_request_us)
		return say(v, SW_VERDICT_FAIL,
			   "ICE %s: %s sent no Binding request %s; it did not "
			   "try the candidates it was given (shareway sdp %s).",
			   sw_ice_dir_name(x->dir), sender, t, tag(v));
	user = x->error ? strstr(x->error, "USERNAME \"") : NULL;
	if (user)
		return say(v, SW_VERDICT_FAIL,
			   "ICE %s: %s's Binding requests carry %s, so %s "
			   "%s; the ICE credentials changed between the SDP "
			   "and the checks (shareway sdp %s --diff).",
			   sw_ice_dir_name(x->dir), sender, user, answerer,
			   x->error_code ? "refused them" : "did not answer",
			   tag(v));
	if (x->error_code)
		return say(v, SW_VERDICT_FAIL,
			   "ICE %s: %s answered %s's Binding requests with %d "
			   "%s; check the ICE credentials (ice-ufrag/ice-pwd) "
			   "carried across (shareway sdp %s --diff).",
			   sw_ice_dir_name(x->dir), answerer, sender,
			   x->error_code, x->error ? x->error : "", tag(v));
	return say(v, SW_VERDICT_FAIL,
		   "ICE %s: no Binding success from %s %s; %s's checks went "
		   "unanswered, so check the path from the relay to %s and the "
		   "candidates in the SDP (shareway ladder %s).",
		   sw_ice_dir_name(x->dir), answerer, t, sender,
		   e2c ? "the conference" : "the Edge", tag(v));
}


static bool ice_bad(const struct sw_callrec *rec, int d)
{
	if (!rec->has_ice[d])
		return false;
	if (rec->ice[d].state == SW_ICE_FAILED)
		return true;
	return rec->state != SW_CS_ACTIVE &&
	       rec->ice[d].state != SW_ICE_SUCCEEDED;
}


static int check_ice(struct vctx *v)
{
	const struct sw_callrec *rec = v->rec;
	bool e2c = ice_bad(rec, SW_ICE_E2C), c2e = ice_bad(rec, SW_ICE_C2E);

	if (e2c && c2e && rec->ice[0].first_request_us &&
	    rec->ice[1].first_request_us && !rec->ice[0].error_code &&
	    !rec->ice[1].error_code)
		return say(v, SW_VERDICT_FAIL,
			   "ICE failed both ways: Binding requests went out "
			   "from both sides but no success came back within "
			   "%u s; the relayed TCP path does not carry the "
			   "checks (shareway ladder %s).",
			   rec->ice[0].timeout_s, tag(v));
	if (e2c)
		return say_ice_dir(v, &rec->ice[SW_ICE_E2C]);
	if (c2e)
		return say_ice_dir(v, &rec->ice[SW_ICE_C2E]);
	return NOT_MINE;
}


static int check_reinvite(struct vctx *v)
{
	const struct sw_rec_reinvite *r = &v->rec->reinvite;
	const char *who;

	if (!v->rec->has_reinvite || (r->result >= 200 && r->result < 300))
		return NOT_MINE;
	who = r->leg == 'e' ? "the Edge" : "the conference";
	if (r->result == 491)
		return say(v, SW_VERDICT_FAIL,
			   "The completion re-INVITE to %s lost every glare "
			   "retry (491 Request Pending %u times); both sides "
			   "kept re-INVITEing at once.", who, r->retries_491);
	if (r->result >= 300)
		return say(v, SW_VERDICT_FAIL,
			   "The completion re-INVITE to %s was refused with %d "
			   "%s after ICE succeeded; the final offer's candidates "
			   "did not match what it knows (shareway sdp %s).",
			   who, r->result, r->phrase ? r->phrase : "", tag(v));
	if (v->rec->state == SW_CS_ACTIVE)
		return NOT_MINE;
	return say(v, SW_VERDICT_FAIL,
		   "The completion re-INVITE to %s got no final answer%s%s; "
		   "the sharing session could not switch to the relayed path.",
		   who, r->reason ? ": " : "", r->reason ? r->reason : "");
}


/* The controlling agent nominated a pair without the gateway: the relay
 * was released on purpose (sw_appshare.c), not a broken link */
static bool media_direct(const struct sw_callrec *rec)
{
	for (unsigned i = 0; i < rec->n_relays; ++i)
		if (rec->relays[i].close_reason &&
		    !strcmp(rec->relays[i].close_reason, SW_MEDIA_DIRECT))
			return true;
	return false;
}


static int check_media(struct vctx *v)
{
	static int (*const steps[])(struct vctx *) = {
		check_conference_sdp, check_allocation, check_connection,
		check_ice, check_reinvite,
	};
	unsigned tr = sw_media_policy_traits_of(v->rec->route.media_policy);
	bool relayed = tr & SW_MPF_TURN;

	if (!sw_callrec_is_appsharing(v->rec) || !v->rec->answer_us ||
	    media_direct(v->rec) || (tr & SW_MPF_REMOVE))
		return NOT_MINE;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); ++i) {
		int r;

		if (!relayed && (steps[i] == check_allocation ||
				 steps[i] == check_connection))
			continue;
		r = steps[i](v);
		if (r != NOT_MINE)
			return r;
	}
	return NOT_MINE;
}


/* ---- outcomes -------------------------------------------------------- */

static int say_success(struct vctx *v)
{
	const struct sw_callrec *rec = v->rec;
	char d[16], ri[96] = "";

	sw_fmt_dur(rec->end_us - (rec->answer_us ? rec->answer_us :
						   rec->start_us), d, sizeof(d));
	if (!sw_callrec_is_appsharing(rec))
		return say(v, SW_VERDICT_OK,
			   "Call completed normally after %s connected.", d);
	if (media_direct(rec))
		return say(v, SW_VERDICT_OK,
			   "Application sharing worked: %s, the relay was "
			   "released, connected %s.", SW_MEDIA_DIRECT, d);
	if (sw_media_policy_traits_of(rec->route.media_policy) & SW_MPF_REMOVE)
		return say(v, SW_VERDICT_OK,
			   "Call completed normally after %s connected; "
			   "application sharing was removed as dial plan rule "
			   "%s says (media.applicationsharing = %s).", d,
			   rec->route.rule && *rec->route.rule ?
				   rec->route.rule : "?",
			   rec->route.media_policy);
	if (rec->has_reinvite)
		snprintf(ri, sizeof(ri),
			 ", completion re-INVITE answered %d in %u ms",
			 rec->reinvite.result, rec->reinvite.latency_ms);
	return say(v, SW_VERDICT_OK,
		   "Application sharing worked: %s%s%s, connected %s.",
		   rec->route.media_policy && *rec->route.media_policy ?
			   rec->route.media_policy : "passthrough",
		   rec->has_ice[0] || rec->has_ice[1] ?
			   ", ICE succeeded both ways" : "",
		   ri, d);
}


static int check_failed(struct vctx *v)
{
	const struct sw_callrec *rec = v->rec;

	if (rec->state != SW_CS_FAILED)
		return NOT_MINE;
	return say(v, SW_VERDICT_FAIL, "shareway ended the call%s%s%s.",
		   rec->disconnect_reason ? ": " : "",
		   rec->disconnect_reason ? rec->disconnect_reason : "",
		   rec->final_code ? "" : " (no final response)");
}


/**
 * Explain a call in one sentence
 *
 * @param rec  the record (loaded or assembled in memory)
 * @param buf  receives the sentence, NUL-terminated, cut to sz
 *
 * @return how bad it is: OK, INFO (ended early without a fault), FAIL
 *         (something to fix), PENDING (still active, nothing wrong yet)
 */
enum sw_verdict_sev sw_verdict(const struct sw_callrec *rec, char *buf,
			       size_t sz)
{
	static int (*const checks[])(struct vctx *) = {
		check_diag, check_transport, check_gateway, check_rejected,
		check_cancelled,
		check_media, check_client_ice_diag, check_failed,
	};
	struct vctx v = {rec, buf, sz};
	int r;

	if (!buf || !sz)
		return SW_VERDICT_PENDING;
	if (rec->state == SW_CS_LOST)
		return (enum sw_verdict_sev)say(
			&v, SW_VERDICT_FAIL,
			"sharewayd stopped during this call (crash, kill or "
			"power loss); the record ends at its last event.");
	if (check_fault(&v) != NOT_MINE)
		return SW_VERDICT_FAIL;
	if (rec->state == SW_CS_ACTIVE) {
		r = check_media(&v);
		if (r == SW_VERDICT_FAIL)
			return SW_VERDICT_FAIL;
		return (enum sw_verdict_sev)say(
			&v, SW_VERDICT_PENDING,
			"In progress (%s); no fault seen so far.",
			rec->answer_us ? "answered" :
			rec->ringing_us ? "ringing" : "trying");
	}
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); ++i) {
		r = checks[i](&v);
		if (r != NOT_MINE)
			return (enum sw_verdict_sev)r;
	}
	return (enum sw_verdict_sev)say_success(&v);
}
