/**
 * @file as_sdp.c  asbench: the SDP bodies of the app-sharing flow, in the
 * shape tests/harness/sdp.py writes them (tieto/sipe#89), and the
 * checks each side makes on what it receives (read with sdp/'s parser).
 *
 *  - Edge offer: TCP-ACT and TCP-PASS `typ relay` candidates for
 *    components 1 and 2 on the Edge relay's port, role viewer;
 *  - conference answer: TCP-PASS and TCP-ACT host candidates on the shared
 *    listener, role sharer;
 *  - completion offers (MS-ICE2): the used candidates only, with
 *    a=remote-candidates naming the remote one, sorted by component.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "asbench.h"
#include "sdpr.h"

/** One candidate pair (components 1 and 2) of a body we build */
struct cand_spec {
	const char *foundation;
	enum sdpr_transport tp;
	unsigned type_pref;
	enum sdpr_ctype type;
};

/** A body we build */
struct body_spec {
	const char *ip;
	uint16_t port;
	const char *ufrag, *pwd;
	const struct cand_spec *cands;
	size_t ncands;
	bool raddr;              /* raddr/rport = ip/port (the Edge relay's) */
	const struct sw_sa *rem; /* a=remote-candidates for comps 1, 2 */
	const char *role;
	unsigned version;
};


static int cand_lines(char *buf, size_t sz, size_t *off,
		      const struct body_spec *b)
{
	struct sdpr_cand c;
	int n, err;

	for (size_t i = 0; i < b->ncands; ++i) {
		for (unsigned comp = 1; comp <= 2; ++comp) {
			memset(&c, 0, sizeof(c));
			snprintf(c.foundation, sizeof(c.foundation), "%s",
				 b->cands[i].foundation);
			c.component = comp;
			c.transport = b->cands[i].tp;
			c.form = SDPR_FORM_MS;
			c.port = b->port;
			c.type = b->cands[i].type;
			snprintf(c.addr, sizeof(c.addr), "%s", b->ip);
			if (b->raddr) {
				c.has_raddr = c.has_rport = true;
				snprintf(c.raddr, sizeof(c.raddr), "%s", b->ip);
				c.rport = b->port;
			}
			err = sdpr_ms_priority(&c.priority,
					       b->cands[i].type_pref, c.transport,
					       comp, 0);
			err = err ? err : sdpr_cand_print(&c, buf + *off,
							  sz - *off);
			if (err)
				return err;
			*off += strlen(buf + *off);
			n = snprintf(buf + *off, sz - *off, "\r\n");
			if (n < 0 || (size_t)n >= sz - *off)
				return ERANGE;
			*off += (size_t)n;
		}
	}
	return 0;
}


static int body_build(char *buf, size_t sz, const struct body_spec *b)
{
	char rem[SW_SA_STRLEN * 2 + 64] = "", ip[SW_SA_STRLEN];
	size_t off;
	int n, err;

	if (b->rem) {
		sw_sa_ntop(b->rem, ip, sizeof(ip));
		snprintf(rem, sizeof(rem), "a=remote-candidates:1 %s %u "
			 "2 %s %u\r\n", ip, sw_sa_port(b->rem), ip,
			 sw_sa_port(b->rem));
	}
	n = snprintf(buf, sz, "v=0\r\no=- 0 %u IN IP4 %s\r\ns=session\r\n"
		     "c=IN IP4 %s\r\nb=CT:99980\r\nt=0 0\r\n"
		     "m=applicationsharing %u TCP/RTP/AVP 127\r\n"
		     "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\n", b->version, b->ip,
		     b->ip, b->port, b->ufrag, b->pwd);
	if (n < 0 || (size_t)n >= sz)
		return ERANGE;
	off = (size_t)n;
	err = cand_lines(buf, sz, &off, b);
	if (err)
		return err;
	n = snprintf(buf + off, sz - off, "%sa=rtpmap:127 x-data/90000\r\n"
		     "a=rtcp:%u\r\na=connection:new\r\na=setup:active\r\n"
		     "a=x-applicationsharing-session-id:1\r\n"
		     "a=x-applicationsharing-role:%s\r\n"
		     "a=x-applicationsharing-media-type:rdp\r\n", rem,
		     b->port, b->role);
	return n < 0 || (size_t)n >= sz - off ? ERANGE : 0;
}


/**
 * The Edge's body: the offer of its INVITE, or (final) the completion
 * offer of its own re-INVITE (its TCP-ACT relay candidates, the gateway's
 * relay as a=remote-candidates)
 */
int as_sdp_offer(char *buf, size_t sz, const struct as_call *c,
		 unsigned version, bool final)
{
	static const struct cand_spec cands[] = {
		{"1", SDPR_TP_TCP_ACT, SDPR_MS_TYPEPREF_RELAY, SDPR_CT_RELAY},
		{"2", SDPR_TP_TCP_PASS, SDPR_MS_TYPEPREF_RELAY, SDPR_CT_RELAY},
	};
	struct body_spec b = {
		.ip = "127.0.0.2", .port = c->e_port, .ufrag = c->e_ufrag,
		.pwd = c->e_pwd, .cands = cands, .ncands = final ? 1 : 2,
		.raddr = true, .rem = final ? &c->relay : NULL,
		.role = "viewer", .version = version,
	};

	return body_build(buf, sz, &b);
}


/**
 * The conference's body: its answer (TCP-PASS and TCP-ACT host on the
 * listener), or (final) the answer to the completion offer (the used
 * TCP-PASS candidate only)
 */
int as_sdp_answer(char *buf, size_t sz, const struct as_call *c,
		  const struct sw_sa *listen, unsigned version, bool final)
{
	static const struct cand_spec cands[] = {
		{"1", SDPR_TP_TCP_PASS, SDPR_MS_TYPEPREF_HOST, SDPR_CT_HOST},
		{"2", SDPR_TP_TCP_ACT, SDPR_MS_TYPEPREF_HOST, SDPR_CT_HOST},
	};
	char ip[SW_SA_STRLEN];
	struct body_spec b = {
		.ip = sw_sa_ntop(listen, ip, sizeof(ip)),
		.port = sw_sa_port(listen), .ufrag = c->c_ufrag,
		.pwd = c->c_pwd, .cands = cands, .ncands = final ? 1 : 2,
		.role = "sharer", .version = version,
	};

	return body_build(buf, sz, &b);
}


/* Parse a body and find its m=applicationsharing */
static int media_of(const struct as_str body, struct sdpr **sdpp, int *mp)
{
	int err;

	err = sdpr_parse(sdpp, body.p, body.n, NULL);
	if (err)
		return EBADMSG;
	err = sdpr_media_find(*sdpp, "applicationsharing", 0, mp);
	if (err) {
		sdpr_free(*sdpp);
		*sdpp = NULL;
		return EBADMSG;
	}
	return 0;
}


static bool cand_addr(const struct sdpr_cand *c, struct sw_sa *sa)
{
	return !sw_sa_set_ip(sa, c->addr, c->port);
}


/* The ICE credentials of the section; EBADMSG if either is missing */
static int creds(const struct sdpr *sdp, int m, char *ufrag, char *pwd)
{
	if (sdpr_ice_ufrag(sdp, m, ufrag, AS_UFRAG_SIZE) ||
	    sdpr_ice_pwd(sdp, m, pwd, AS_PWD_SIZE))
		return EBADMSG;
	return 0;
}


/**
 * The Edge reads the answer of the 200: the gateway's TCP-PASS relay
 * candidates (components 1 and 2, same address; the highest priority
 * one) and the conference's ICE credentials
 *
 * @return 0, ENOENT (no relay candidate for both components), EBADMSG
 */
int as_sdp_relay(const struct as_str body, struct sw_sa *relay, char *ufrag,
		 char *pwd)
{
	struct sdpr_cand cand;
	struct sdpr *sdp;
	struct sw_sa sa, c2 = {0};
	uint32_t best = 0;
	bool have1 = false;
	int m, err;

	err = media_of(body, &sdp, &m);
	if (err)
		return err;
	err = creds(sdp, m, ufrag, pwd);
	for (unsigned i = 0; !err && i < sdpr_cand_count(sdp, m); ++i) {
		if (sdpr_cand_get(sdp, m, i, &cand) ||
		    cand.transport != SDPR_TP_TCP_PASS ||
		    cand.type != SDPR_CT_RELAY || !cand_addr(&cand, &sa))
			continue;
		if (cand.component == 2)
			c2 = sa;
		if (cand.component == 1 && (!have1 || cand.priority > best)) {
			*relay = sa;
			best = cand.priority;
			have1 = true;
		}
	}
	if (!err && (!have1 || !sw_sa_cmp(relay, &c2, true)))
		err = ENOENT;
	sdpr_free(sdp);
	return err;
}


/** The conference reads the offer: the Edge's ICE credentials */
int as_sdp_offer_creds(const struct as_str body, char *ufrag, char *pwd)
{
	struct sdpr *sdp;
	int m, err;

	err = media_of(body, &sdp, &m);
	if (err)
		return err;
	err = creds(sdp, m, ufrag, pwd);
	sdpr_free(sdp);
	return err;
}


/* a=remote-candidates: sorted by component, every one our listener */
static const char *final_remote(const struct sdpr *sdp, int m,
				const struct sw_sa *listen)
{
	struct sdpr_remcand rc[8];
	struct sw_sa sa;
	size_t n = 0;

	if (sdpr_remcand_get(sdp, m, rc, 8, &n) || !n)
		return "no a=remote-candidates";
	for (size_t i = 0; i < n; ++i) {
		if (i && rc[i].component < rc[i - 1].component)
			return "a=remote-candidates not sorted by component";
		if (sw_sa_set_ip(&sa, rc[i].addr, rc[i].port) ||
		    !sw_sa_cmp(&sa, listen, true))
			return "a=remote-candidates names a candidate not ours";
	}
	return NULL;
}


/**
 * The conference checks the gateway's completion offer (MS-ICE2): its
 * a=remote-candidates name our candidate, sorted by component; its
 * candidates are ones of the offer or the peer of our connection
 *
 * @return 0, or EPROTO with *why set, or EBADMSG
 */
int as_sdp_final_check(const struct as_str body, const struct as_call *c,
		       const struct sw_sa *listen, const char **why)
{
	struct sdpr_cand cand;
	struct sdpr *sdp;
	struct sw_sa sa, edge;
	unsigned n;
	int m, err;

	err = media_of(body, &sdp, &m);
	if (err)
		return err;
	sw_sa_set_ip(&edge, "127.0.0.2", c->e_port);
	*why = final_remote(sdp, m, listen);
	n = sdpr_cand_count(sdp, m);
	if (!*why && !n)
		*why = "no a=candidate";
	for (unsigned i = 0; !*why && i < n; ++i) {
		if (sdpr_cand_get(sdp, m, i, &cand) || !cand_addr(&cand, &sa))
			*why = "a candidate does not parse";
		else if (!sw_sa_cmp(&sa, &edge, true) &&
			 !sw_sa_cmp(&sa, &c->c.peer, true))
			*why = "a candidate is neither offered nor our peer";
	}
	sdpr_free(sdp);
	return *why ? EPROTO : 0;
}


/**
 * The Edge checks the gateway's answer to its own completion offer: two
 * candidates (components 1 and 2), both the relay it used, and no
 * a=remote-candidates
 */
int as_sdp_edge_final_check(const struct as_str body, const struct as_call *c)
{
	struct sdpr_remcand rc[8];
	struct sdpr_cand cand;
	struct sdpr *sdp;
	struct sw_sa sa;
	size_t nrc = 0;
	unsigned n;
	int m, err;

	err = media_of(body, &sdp, &m);
	if (err)
		return err;
	n = sdpr_cand_count(sdp, m);
	if (n != 2 || sdpr_remcand_get(sdp, m, rc, 8, &nrc) != ENOENT)
		err = EPROTO;
	for (unsigned i = 0; !err && i < n; ++i) {
		if (sdpr_cand_get(sdp, m, i, &cand) || !cand_addr(&cand, &sa) ||
		    cand.type != SDPR_CT_RELAY ||
		    !sw_sa_cmp(&sa, &c->relay, true))
			err = EPROTO;
	}
	sdpr_free(sdp);
	return err;
}
