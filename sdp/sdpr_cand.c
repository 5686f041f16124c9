/**
 * @file sdpr_cand.c  ICE candidate syntax, without a model: a=candidate in
 * its Microsoft (MS-ICE2, "ICE-19") and RFC 5245/6544 forms, the MS-ICE v1
 * (OC2007, draft-6) shape, a=remote-candidates, and Microsoft priorities.
 *
 * The two forms differ only in how TCP is written: Microsoft puts the
 * direction in the transport token (TCP-ACT, TCP-PASS, TCP-SO; no
 * tcptype, MS-ICE2 / [MS-SDPEXT] 4.1.3), RFC 6544 4.5 writes TCP and a
 * tcptype extension. Both normalise to enum sdpr_transport. MS-ICE v1
 * lines are told apart as SIPE does: their 7th token is not "typ".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sdpr_int.h"

/* Longest candidate line sdpr_cand_parse() reads; real ones are < 200 */
#define CAND_LINE_MAX 1024
#define CAND_TOK_MAX 64

static const char prefix_cand[] = "a=candidate:";
static const char prefix_ipv6[] = "a=x-candidate-ipv6:";
static const char prefix_remc[] = "a=remote-candidates:";

static const char *const tp_ms[] = {"UDP", "TCP-ACT", "TCP-PASS", "TCP-SO"};
static const char *const tcptypes[] = {"", "active", "passive", "so"};
static const char *const ctypes[] = {"host", "srflx", "prflx", "relay"};


/** True for a candidate address: 1..63 of ALNUM . : - _ % */
bool sdpr_addr_valid(const char *addr)
{
	size_t n = strlen(addr);

	if (!n || n >= SDPR_ADDR_SIZE)
		return false;
	for (; *addr; ++addr) {
		char c = *addr;

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		      (c >= 'A' && c <= 'Z') || strchr(".:-_%", c)))
			return false;
	}
	return true;
}


/* foundation = 1*32ice-char, ice-char = ALPHA / DIGIT / "+" / "/" */
static bool foundation_valid(const char *s)
{
	size_t n = strlen(s);

	if (!n || n >= SDPR_FOUNDATION_SIZE)
		return false;
	for (; *s; ++s) {
		char c = *s;

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		      (c >= 'A' && c <= 'Z') || c == '+' || c == '/'))
			return false;
	}
	return true;
}


static int dec(const char *s, uint64_t max, uint64_t *vp)
{
	return sdpr_dec_u64(s, strlen(s), max, vp);
}


static int comp_parse(const char *s, unsigned *compp)
{
	uint64_t v;

	if (dec(s, 256, &v) || !v)
		return EBADMSG;
	*compp = (unsigned)v;
	return 0;
}


static int port_parse(const char *s, uint16_t *portp)
{
	uint64_t v;

	if (dec(s, 65535, &v))
		return EBADMSG;
	*portp = (uint16_t)v;
	return 0;
}


static int name_index(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; i < n; ++i) {
		if (!strcasecmp(names[i], s))
			return (int)i;
	}
	return -1;
}


/* Copy s without its "a=<attr>:" prefix into buf and tokenise it */
static int cand_split(const char *s, char *buf, char **tok, size_t *np,
		      bool *ipv6p)
{
	size_t len;

	*ipv6p = false;
	if (!strncmp(s, prefix_cand, sizeof(prefix_cand) - 1)) {
		s += sizeof(prefix_cand) - 1;
	}
	else if (!strncmp(s, prefix_ipv6, sizeof(prefix_ipv6) - 1)) {
		s += sizeof(prefix_ipv6) - 1;
		*ipv6p = true;
	}
	len = strlen(s);
	if (len >= CAND_LINE_MAX)
		return EMSGSIZE;
	memcpy(buf, s, len + 1);
	*np = sdpr_tokens(buf, tok, CAND_TOK_MAX);
	return *np > CAND_TOK_MAX ? EMSGSIZE : 0;
}


/* q-value, RFC 3261 25.1: "0" [ "." 0*3DIGIT ] / "1" [ "." 0*3"0" ] */
static bool qvalue_valid(const char *q)
{
	size_t n = strlen(q);

	if (q[0] != '0' && q[0] != '1')
		return false;
	if (n == 1)
		return true;
	if (q[1] != '.' || n > 5)
		return false;
	return strspn(q + 2, q[0] == '0' ? "0123456789" : "0") == n - 2;
}


static bool base64_valid(const char *s)
{
	return *s && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrs"
			       "tuvwxyz0123456789+/=") == strlen(s);
}


/* MS-ICE v1: <user b64> <comp> <pass b64> <UDP|TCP> <q 0.xxx> <ip> <port> */
static bool icev1_tokens(char **tok, size_t n)
{
	unsigned comp;
	uint16_t port;

	if (n != 7 || comp_parse(tok[1], &comp) ||
	    port_parse(tok[6], &port) || !sdpr_addr_valid(tok[5]))
		return false;
	if (strcasecmp(tok[3], "UDP") && strcasecmp(tok[3], "TCP"))
		return false;
	return base64_valid(tok[0]) && base64_valid(tok[2]) &&
	       qvalue_valid(tok[4]);
}


/**
 * Tell whether a line (or its value) is an MS-ICE v1 candidate
 */
bool sdpr_cand_is_icev1(const char *s)
{
	char buf[CAND_LINE_MAX], *tok[CAND_TOK_MAX];
	size_t n;
	bool ipv6;

	if (!s || cand_split(s, buf, tok, &n, &ipv6))
		return false;
	return icev1_tokens(tok, n);
}


static int bad(const char **reasonp, const char *why)
{
	if (reasonp)
		*reasonp = why;
	return EBADMSG;
}


/* The 8 fixed fields: foundation .. typ <type> */
static int cand_fixed(struct sdpr_cand *c, char **tok, bool *tcpp,
		      const char **reasonp)
{
	uint64_t prio;
	int tp, type;

	if (!foundation_valid(tok[0]))
		return bad(reasonp, "foundation is not 1-32 ice-chars");
	strcpy(c->foundation, tok[0]);
	if (comp_parse(tok[1], &c->component))
		return bad(reasonp, "component is not a number from 1 to 256");
	*tcpp = !strcasecmp(tok[2], "TCP");
	tp = name_index(tp_ms, 4, tok[2]);
	if (tp < 0 && !*tcpp)
		return bad(reasonp, "unknown transport");
	c->transport = tp < 0 ? SDPR_TP_TCP_ACT : (enum sdpr_transport)tp;
	c->form = tp > 0 ? SDPR_FORM_MS : SDPR_FORM_RFC;
	if (dec(tok[3], UINT32_MAX, &prio))
		return bad(reasonp, "priority is not a 32-bit number");
	c->priority = (uint32_t)prio;
	if (!sdpr_addr_valid(tok[4]))
		return bad(reasonp, "malformed connection address");
	strcpy(c->addr, tok[4]);
	if (port_parse(tok[5], &c->port))
		return bad(reasonp, "port is not a number from 0 to 65535");
	type = name_index(ctypes, 4, tok[7]);
	if (type < 0)
		return bad(reasonp, "unknown candidate type");
	c->type = (enum sdpr_ctype)type;
	return 0;
}


static int ext_append(struct sdpr_cand *c, const char *name,
		      const char *value)
{
	size_t len = strlen(c->ext);
	int n;

	n = snprintf(c->ext + len, sizeof(c->ext) - len, "%s%s %s",
		     len ? " " : "", name, value);
	return n < 0 || (size_t)n >= sizeof(c->ext) - len ? EMSGSIZE : 0;
}


/* The extension pairs after "typ <type>" (RFC 5245 15.1, RFC 6544 4.5) */
static int cand_ext(struct sdpr_cand *c, char **tok, size_t n, bool tcp,
		    const char **reasonp)
{
	bool has_tcptype = false;

	if (n % 2)
		return bad(reasonp, "extension name without a value");
	for (size_t i = 0; i < n; i += 2) {
		const char *name = tok[i], *val = tok[i + 1];
		int t;

		if (!strcmp(name, "raddr") && !c->has_raddr) {
			if (!sdpr_addr_valid(val))
				return bad(reasonp, "malformed raddr");
			strcpy(c->raddr, val);
			c->has_raddr = true;
		}
		else if (!strcmp(name, "rport") && !c->has_rport) {
			if (port_parse(val, &c->rport))
				return bad(reasonp, "malformed rport");
			c->has_rport = true;
		}
		else if (tcp && !strcmp(name, "tcptype") && !has_tcptype) {
			t = name_index(tcptypes + 1, 3, val);
			if (t < 0)
				return bad(reasonp, "unknown tcptype");
			c->transport = (enum sdpr_transport)(t + 1);
			has_tcptype = true;
		}
		else if (!sdpr_text_valid(name) || !sdpr_text_valid(val)) {
			return bad(reasonp, "control character in extension");
		}
		else if (ext_append(c, name, val)) {
			return bad(reasonp, "extensions too long");
		}
	}
	if (tcp && !has_tcptype)
		return bad(reasonp, "TCP candidate without tcptype");
	return 0;
}


/**
 * Parse a candidate: the whole line ("a=candidate:..." or
 * "a=x-candidate-ipv6:...") or its value
 *
 * @param c        filled only on success
 * @param reasonp  optional: why a line is malformed (static text)
 * @return 0, EPROTO for an MS-ICE v1 line (recognised, not parsed),
 *         EBADMSG for a malformed line, EINVAL for NULL arguments
 */
int sdpr_cand_parse(struct sdpr_cand *c, const char *s, const char **reasonp)
{
	char buf[CAND_LINE_MAX], *tok[CAND_TOK_MAX];
	struct sdpr_cand t;
	bool tcp;
	size_t n;
	int err;

	if (!c || !s)
		return EINVAL;
	memset(&t, 0, sizeof(t));
	if (cand_split(s, buf, tok, &n, &t.ipv6attr))
		return bad(reasonp, "candidate line too long or too many "
			   "fields");
	if (n >= 7 && strcmp(tok[6], "typ")) {
		if (icev1_tokens(tok, n))
			return EPROTO;
		return bad(reasonp, "7th field is not 'typ'");
	}
	if (n < 8)
		return bad(reasonp, "fewer than 8 fields");
	err = cand_fixed(&t, tok, &tcp, reasonp);
	if (!err)
		err = cand_ext(&t, tok + 8, n - 8, tcp, reasonp);
	if (!err)
		*c = t;
	return err;
}


/** Transport token of a form: "TCP-PASS" (Microsoft), "TCP" (RFC), ... */
const char *sdpr_transport_name(enum sdpr_transport tp, enum sdpr_cform form)
{
	if ((unsigned)tp > SDPR_TP_TCP_SO)
		return NULL;
	if (form == SDPR_FORM_RFC && tp != SDPR_TP_UDP)
		return "TCP";
	return tp_ms[tp];
}


/** Name of a candidate type: "host", "srflx", "prflx", "relay" */
const char *sdpr_ctype_name(enum sdpr_ctype type)
{
	return (unsigned)type <= SDPR_CT_RELAY ? ctypes[type] : NULL;
}


static bool terminated(const char *field, size_t size)
{
	return memchr(field, '\0', size) != NULL;
}


static bool cand_valid(const struct sdpr_cand *c)
{
	if (!terminated(c->foundation, sizeof(c->foundation)) ||
	    !terminated(c->addr, sizeof(c->addr)) ||
	    (c->has_raddr && !terminated(c->raddr, sizeof(c->raddr))) ||
	    !terminated(c->ext, sizeof(c->ext)))
		return false;
	return foundation_valid(c->foundation) && c->component >= 1 &&
	       c->component <= 256 && (unsigned)c->transport <= 3 &&
	       (unsigned)c->form <= SDPR_FORM_RFC &&
	       (unsigned)c->type <= SDPR_CT_RELAY &&
	       sdpr_addr_valid(c->addr) &&
	       (!c->has_raddr || sdpr_addr_valid(c->raddr)) &&
	       sdpr_text_valid(c->ext);
}


/**
 * Print a candidate line, without line ending, in the form of c->form
 *
 * @return 0, EINVAL (a field out of range) or ERANGE (buf too small)
 */
int sdpr_cand_print(const struct sdpr_cand *c, char *buf, size_t size)
{
	char raddr[SDPR_ADDR_SIZE + 8] = "", rport[16] = "", tcpt[24] = "";
	int n;

	if (!c || !buf || !cand_valid(c))
		return EINVAL;
	if (c->has_raddr)
		snprintf(raddr, sizeof(raddr), " raddr %s", c->raddr);
	if (c->has_rport)
		snprintf(rport, sizeof(rport), " rport %u", c->rport);
	if (c->form == SDPR_FORM_RFC && c->transport != SDPR_TP_UDP)
		snprintf(tcpt, sizeof(tcpt), " tcptype %s",
			 tcptypes[c->transport]);
	n = snprintf(buf, size, "%s%s %u %s %u %s %u typ %s%s%s%s%s%s",
		     c->ipv6attr ? prefix_ipv6 : prefix_cand, c->foundation,
		     c->component, sdpr_transport_name(c->transport, c->form),
		     (unsigned)c->priority, c->addr, c->port,
		     ctypes[c->type], raddr, rport, tcpt, c->ext[0] ? " " : "",
		     c->ext);
	return n < 0 || (size_t)n >= size ? ERANGE : 0;
}


/** True if two candidates have the same fields (form and attr included) */
bool sdpr_cand_equal(const struct sdpr_cand *a, const struct sdpr_cand *b)
{
	return !strcmp(a->foundation, b->foundation) &&
	       a->component == b->component && a->transport == b->transport &&
	       a->form == b->form && a->ipv6attr == b->ipv6attr &&
	       a->priority == b->priority && !strcmp(a->addr, b->addr) &&
	       a->port == b->port && a->type == b->type &&
	       a->has_raddr == b->has_raddr &&
	       (!a->has_raddr || !strcmp(a->raddr, b->raddr)) &&
	       a->has_rport == b->has_rport &&
	       (!a->has_rport || a->rport == b->rport) &&
	       !strcmp(a->ext, b->ext);
}


/**
 * Parse a=remote-candidates (the line or its value): <comp> <ip> <port> ...
 *
 * @return 0, EBADMSG (malformed), ERANGE (more than max entries), EINVAL
 */
int sdpr_remcand_parse(struct sdpr_remcand *v, size_t max, size_t *np,
		       const char *s)
{
	char buf[CAND_LINE_MAX], *tok[CAND_TOK_MAX];
	size_t n, len;

	if (!v || !np || !s)
		return EINVAL;
	if (!strncmp(s, prefix_remc, sizeof(prefix_remc) - 1))
		s += sizeof(prefix_remc) - 1;
	len = strlen(s);
	if (len >= sizeof(buf))
		return EBADMSG;
	memcpy(buf, s, len + 1);
	n = sdpr_tokens(buf, tok, CAND_TOK_MAX);
	if (!n || n % 3 || n > CAND_TOK_MAX)
		return EBADMSG;
	if (n / 3 > max)
		return ERANGE;
	for (size_t i = 0; i < n; i += 3) {
		struct sdpr_remcand *r = &v[i / 3];

		if (comp_parse(tok[i], &r->component) ||
		    !sdpr_addr_valid(tok[i + 1]) ||
		    port_parse(tok[i + 2], &r->port))
			return EBADMSG;
		strcpy(r->addr, tok[i + 1]);
	}
	*np = n / 3;
	return 0;
}


/**
 * Print an a=remote-candidates line (no ending), entries in the given order
 *
 * @return 0, EINVAL (n == 0 or an entry out of range) or ERANGE
 */
int sdpr_remcand_print(const struct sdpr_remcand *v, size_t n, char *buf,
		       size_t size)
{
	size_t off;
	int k;

	if (!v || !n || !buf)
		return EINVAL;
	if (size < sizeof(prefix_remc))
		return ERANGE;
	memcpy(buf, prefix_remc, sizeof(prefix_remc));
	off = sizeof(prefix_remc) - 1;
	for (size_t i = 0; i < n; ++i) {
		if (v[i].component < 1 || v[i].component > 256 ||
		    !terminated(v[i].addr, sizeof(v[i].addr)) ||
		    !sdpr_addr_valid(v[i].addr))
			return EINVAL;
		k = snprintf(buf + off, size - off, "%s%u %s %u",
			     i ? " " : "", v[i].component, v[i].addr,
			     v[i].port);
		if (k < 0 || (size_t)k >= size - off)
			return ERANGE;
		off += (size_t)k;
	}
	return 0;
}


/**
 * Priority of a candidate with Microsoft's local-preference layout
 * ([MS-SDPEXT] 4.1.3 priorities; libnice
 * nice_candidate_ms_ice_local_preference):
 *
 *	priority   = 2^24 type_pref + 2^8 local_pref + (256 - component)
 *	local_pref = 2^12 transport (UDP 15, TCP 6)
 *		   + 2^9 direction (UDP 7, TCP-ACT and TCP-SO 5, TCP-PASS 2)
 *		   + other (0..511)
 *
 * A TCP-PASS relay (type_pref 0, other 0) is 6553855 for component 1 and
 * 6553854 for component 2.
 *
 * @return 0, or EINVAL if type_pref > 126, component not in 1..256,
 *         other > 511 or tp unknown
 */
int sdpr_ms_priority(uint32_t *priop, unsigned type_pref,
		     enum sdpr_transport tp, unsigned component,
		     unsigned other)
{
	static const uint32_t tp_pref[] = {15, 6, 6, 6};
	static const uint32_t dir_pref[] = {7, 5, 2, 5};
	uint32_t local;

	if (!priop || type_pref > 126 || component < 1 || component > 256 ||
	    other > 511 || (unsigned)tp > SDPR_TP_TCP_SO)
		return EINVAL;
	local = tp_pref[tp] << 12 | dir_pref[tp] << 9 | other;
	*priop = (uint32_t)type_pref << 24 | local << 8 | (256 - component);
	return 0;
}
