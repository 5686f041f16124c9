/**
 * @file as_sip.c  asbench: a small, strict SIP text parser and response
 * builder for exactly the messages of the app-sharing flow (RFC 3261).
 *
 * Strict on purpose: CRLF line ends, no header folding, a Content-Length
 * that matches the datagram, the five headers every message must carry.
 * A message that breaks a rule is counted by the caller, not guessed at.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "asbench.h"

#define UA_NAME "shareway-asbench"


bool as_str_eq(struct as_str s, const char *z)
{
	size_t n = strlen(z);

	return s.n == n && !memcmp(s.p, z, n);
}


/** Copy into a NUL-terminated buffer; ERANGE if it does not fit */
int as_str_copy(struct as_str s, char *buf, size_t sz)
{
	if (!sz || s.n >= sz)
		return ERANGE;
	memcpy(buf, s.p, s.n);
	buf[s.n] = '\0';
	return 0;
}


static bool name_is(const char *p, size_t n, const char *full,
		    const char *compact)
{
	return (strlen(full) == n && !strncasecmp(p, full, n)) ||
	       (compact && n == 1 && tolower((unsigned char)*p) == *compact);
}


/* The header a line names, or NULL for one we do not read */
static struct as_str *header_slot(struct as_sipmsg *m, const char *p,
				  size_t n, bool *is_via, bool *is_clen)
{
	*is_via = name_is(p, n, "Via", "v");
	*is_clen = name_is(p, n, "Content-Length", "l");
	if (*is_via || *is_clen)
		return NULL;
	if (name_is(p, n, "From", "f"))
		return &m->from;
	if (name_is(p, n, "To", "t"))
		return &m->to;
	if (name_is(p, n, "Call-ID", "i"))
		return &m->callid;
	if (name_is(p, n, "CSeq", NULL))
		return &m->cseq;
	if (name_is(p, n, "Contact", "m"))
		return &m->contact;
	if (name_is(p, n, "Content-Type", "c"))
		return &m->ctype;
	if (name_is(p, n, "X-CID", NULL))
		return &m->xcid;
	if (name_is(p, n, "Record-Route", NULL))
		return m->rroute.p ? NULL : &m->rroute;
	return NULL;
}


/* "SIP/2.0 200 OK" or "INVITE sip:x SIP/2.0" */
static int start_line(struct as_sipmsg *m, const char *p, size_t n)
{
	const char *sp1, *sp2, *end = p + n;

	if (n > 12 && !memcmp(p, "SIP/2.0 ", 8)) {
		if (!isdigit((unsigned char)p[8]) ||
		    !isdigit((unsigned char)p[9]) ||
		    !isdigit((unsigned char)p[10]) || p[11] != ' ')
			return EBADMSG;
		m->status = (unsigned)atoi(p + 8);
		return m->status >= 100 && m->status < 700 ? 0 : EBADMSG;
	}
	sp1 = memchr(p, ' ', n);
	if (!sp1 || sp1 == p)
		return EBADMSG;
	sp2 = memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1));
	if (!sp2 || sp2 == sp1 + 1 || end - sp2 != 8 ||
	    memcmp(sp2 + 1, "SIP/2.0", 7))
		return EBADMSG;
	for (const char *q = p; q < sp1; ++q) {
		if (!isupper((unsigned char)*q))
			return EBADMSG;
	}
	m->req = true;
	m->method = (struct as_str){p, (size_t)(sp1 - p)};
	m->uri = (struct as_str){sp1 + 1, (size_t)(sp2 - sp1 - 1)};
	return 0;
}


/* One "Name: value" line */
static int header_line(struct as_sipmsg *m, const char *p, size_t n,
		       long *clen)
{
	const char *colon = memchr(p, ':', n), *v, *end = p + n, *ne;
	struct as_str *slot;
	bool via, cl;
	char num[16];

	if (!colon || colon == p || *p == ' ' || *p == '\t')
		return EBADMSG; /* no name, or a folded line */
	for (ne = colon; ne > p && (ne[-1] == ' ' || ne[-1] == '\t'); --ne)
		;
	for (v = colon + 1; v < end && (*v == ' ' || *v == '\t'); ++v)
		;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		--end;
	slot = header_slot(m, p, (size_t)(ne - p), &via, &cl);
	if (via) {
		if (m->nvia == AS_VIA_MAX)
			return EMSGSIZE;
		m->via[m->nvia++] = (struct as_str){v, (size_t)(end - v)};
	} else if (cl) {
		if (*clen >= 0 || end == v || (size_t)(end - v) >= sizeof(num))
			return EBADMSG;
		memcpy(num, v, (size_t)(end - v));
		num[end - v] = '\0';
		for (char *q = num; *q; ++q) {
			if (!isdigit((unsigned char)*q))
				return EBADMSG;
		}
		*clen = atol(num);
	} else if (slot) {
		if (slot->p)
			return EBADMSG; /* twice */
		*slot = (struct as_str){v, (size_t)(end - v)};
	}
	return 0;
}


static int parse_cseq(struct as_sipmsg *m)
{
	const char *p = m->cseq.p, *end = p + m->cseq.n;
	unsigned long n = 0;

	if (p == end || !isdigit((unsigned char)*p))
		return EBADMSG;
	for (; p < end && isdigit((unsigned char)*p); ++p) {
		n = n * 10 + (unsigned long)(*p - '0');
		if (n > 0x7fffffff)
			return EBADMSG;
	}
	if (p == end || *p != ' ')
		return EBADMSG;
	while (p < end && *p == ' ')
		++p;
	if (p == end)
		return EBADMSG;
	m->cseq_num = (unsigned)n;
	m->cseq_method = (struct as_str){p, (size_t)(end - p)};
	return 0;
}


/**
 * Parse one SIP message (one UDP datagram)
 *
 * @return 0, or EBADMSG (malformed / incomplete), EMSGSIZE (too many Vias)
 */
int as_sip_parse(struct as_sipmsg *m, const char *buf, size_t len)
{
	const char *hend, *p, *eol;
	long clen = -1;
	int err;

	memset(m, 0, sizeof(*m));
	hend = memmem(buf, len, "\r\n\r\n", 4);
	if (!hend)
		return EBADMSG;
	eol = memmem(buf, (size_t)(hend - buf) + 2, "\r\n", 2);
	err = start_line(m, buf, (size_t)(eol - buf));
	for (p = eol + 2; !err && p < hend + 2; p = eol + 2) {
		eol = memmem(p, (size_t)(hend + 2 - p), "\r\n", 2);
		err = header_line(m, p, (size_t)(eol - p), &clen);
	}
	if (err)
		return err;
	if (!m->nvia || !m->from.p || !m->to.p || !m->callid.p ||
	    !m->cseq.p || clen < 0)
		return EBADMSG;
	if ((size_t)clen != len - (size_t)(hend + 4 - buf))
		return EBADMSG;
	m->body = (struct as_str){hend + 4, (size_t)clen};
	return parse_cseq(m);
}


/**
 * A ";name=value" parameter of a header value (after the URI of a
 * name-addr); ENOENT if absent
 */
int as_sip_param(struct as_str hdr, const char *name, struct as_str *val)
{
	const char *p = hdr.p, *end = hdr.p + hdr.n, *gt;
	size_t nl = strlen(name);

	gt = memchr(p, '>', hdr.n);
	if (gt)
		p = gt + 1;
	while ((p = memchr(p, ';', (size_t)(end - p))) != NULL) {
		const char *v;

		++p;
		while (p < end && *p == ' ')
			++p;
		if ((size_t)(end - p) <= nl || strncasecmp(p, name, nl) ||
		    p[nl] != '=')
			continue;
		v = p + nl + 1;
		for (p = v; p < end && *p != ';' && *p != ',' && *p != ' ';)
			++p;
		*val = (struct as_str){v, (size_t)(p - v)};
		return 0;
	}
	return ENOENT;
}


/** The URI of a name-addr ("<sip:a@b>;x") or addr-spec ("sip:a@b;x") */
int as_sip_uri(struct as_str hdr, struct as_str *uri)
{
	const char *lt = memchr(hdr.p, '<', hdr.n), *gt, *semi;

	if (lt) {
		gt = memchr(lt, '>', (size_t)(hdr.p + hdr.n - lt));
		if (!gt)
			return EBADMSG;
		*uri = (struct as_str){lt + 1, (size_t)(gt - lt - 1)};
		return 0;
	}
	semi = memchr(hdr.p, ';', hdr.n);
	*uri = (struct as_str){hdr.p, semi ? (size_t)(semi - hdr.p) : hdr.n};
	return uri->n ? 0 : EBADMSG;
}


const char *as_sip_reason(unsigned status)
{
	switch (status) {
	case 100: return "Trying";
	case 180: return "Ringing";
	case 200: return "OK";
	case 481: return "Call/Transaction Does Not Exist";
	case 488: return "Not Acceptable Here";
	case 501: return "Not Implemented";
	default: return "Unknown";
	}
}


/* snprintf at *off; ERANGE once the buffer is full */
static int put(char *buf, size_t sz, size_t *off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int put(char *buf, size_t sz, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*off >= sz)
		return ERANGE;
	va_start(ap, fmt);
	n = vsnprintf(buf + *off, sz - *off, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sz - *off)
		return ERANGE;
	*off += (size_t)n;
	return 0;
}


/**
 * A response to req: its Vias, From, To (with our tag unless it has one),
 * Call-ID and CSeq; Contact and an SDP body when given
 *
 * @return 0 or ERANGE
 */
int as_sip_response(char *buf, size_t sz, size_t *lenp,
		    const struct as_sipmsg *req, unsigned status,
		    const char *tag, const char *contact, const char *sdp)
{
	struct as_str tv;
	size_t off = 0, blen = sdp ? strlen(sdp) : 0;
	bool add_tag = tag && status > 100 &&
		       as_sip_param(req->to, "tag", &tv) == ENOENT;
	int err;

	err = put(buf, sz, &off, "SIP/2.0 %u %s\r\n", status,
		  as_sip_reason(status));
	for (unsigned i = 0; !err && i < req->nvia; ++i)
		err = put(buf, sz, &off, "Via: %.*s\r\n", (int)req->via[i].n,
			  req->via[i].p);
	err = err ? err : put(buf, sz, &off, "From: %.*s\r\nTo: %.*s%s%s\r\n"
			      "Call-ID: %.*s\r\nCSeq: %.*s\r\n",
			      (int)req->from.n, req->from.p, (int)req->to.n,
			      req->to.p, add_tag ? ";tag=" : "",
			      add_tag ? tag : "", (int)req->callid.n,
			      req->callid.p, (int)req->cseq.n, req->cseq.p);
	if (!err && contact)
		err = put(buf, sz, &off, "Contact: <%s>\r\n", contact);
	err = err ? err : put(buf, sz, &off, "User-Agent: " UA_NAME "\r\n");
	if (!err && sdp)
		err = put(buf, sz, &off, "Content-Type: application/sdp\r\n");
	err = err ? err : put(buf, sz, &off, "Content-Length: %zu\r\n\r\n%s",
			      blen, sdp ? sdp : "");
	if (!err)
		*lenp = off;
	return err;
}
