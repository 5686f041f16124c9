/**
 * @file sw_calllog_sum.c  Ladder labels for recorded SIP and STUN/TURN
 * messages: "INVITE (SDP)", "200 OK (BYE)", "Allocate Error 401",
 * "ConnectionAttempt Ind." with a detail line ("XOR-PEER 1.2.3.4:5").
 *
 * These run on the writer thread, on bytes a producer recorded; they read
 * only what they need and never trust a length they have not checked.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>

#include "sw_calllog_int.h"

#define STUN_COOKIE 0x2112a442u

__attribute__((format(printf, 4, 5))) static void add(char *buf, size_t sz,
						      size_t *n,
						      const char *fmt, ...)
{
	va_list ap;

	if (*n >= sz)
		return;
	if (*n)
		*n += (size_t)snprintf(buf + *n, sz - *n, ", ");
	if (*n >= sz)
		return;
	va_start(ap, fmt);
	*n += (size_t)vsnprintf(buf + *n, sz - *n, fmt, ap);
	va_end(ap);
}


/* ---- SIP --------------------------------------------------------------- */

/* Value of header name (or its compact form) in the header block, or
 * NULL; *vlen gets its length up to the end of the line */
static const char *sip_header(const char *p, const char *end,
			      const char *name, const char *compact,
			      size_t *vlen)
{
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *le = eol ? eol : end, *colon;
		size_t nl;

		if (le > p && le[-1] == '\r')
			--le;
		if (le == p)
			return NULL; /* end of headers */
		colon = memchr(p, ':', (size_t)(le - p));
		if (colon) {
			const char *ne = colon;

			while (ne > p && (ne[-1] == ' ' || ne[-1] == '\t'))
				--ne;
			nl = (size_t)(ne - p);
			if ((nl == strlen(name) && !strncasecmp(p, name, nl)) ||
			    (compact && nl == 1 && tolower((unsigned char)*p) == *compact)) {
				const char *v = colon + 1;

				while (v < le && (*v == ' ' || *v == '\t'))
					++v;
				*vlen = (size_t)(le - v);
				return v;
			}
		}
		p = eol ? eol + 1 : end;
	}
	return NULL;
}


static bool has_sdp(const char *p, const char *end)
{
	size_t n;
	const char *ct = sip_header(p, end, "Content-Type", "c", &n);

	if (!ct)
		return false;
	if (n >= 15 && !strncasecmp(ct, "application/sdp", 15))
		return true;
	return n >= 9 && !strncasecmp(ct, "multipart", 9);
}


/**
 * Label a SIP message: "INVITE (SDP)", "re-INVITE (SDP)", "180 Ringing",
 * "200 OK (BYE)"; detail: a request's Request-URI
 */
void cl_sum_sip(const uint8_t *data, size_t len, char *label, size_t lsz,
		char *detail, size_t dsz)
{
	const char *p = (const char *)data, *end = p + len;
	const char *eol = memchr(p, '\n', len), *hdr, *v;
	size_t fl, n = 0, vl;
	bool sdp;

	detail[0] = '\0';
	fl = eol ? (size_t)(eol - p) : len;
	if (fl && p[fl - 1] == '\r')
		--fl;
	hdr = eol ? eol + 1 : end;
	sdp = has_sdp(hdr, end);
	if (fl > 12 && !strncmp(p, "SIP/2.0 ", 8)) {
		const char *cseq = sip_header(hdr, end, "CSeq", NULL, &vl);
		const char *m = cseq ? memchr(cseq, ' ', vl) : NULL;
		size_t ml = m ? vl - (size_t)(m + 1 - cseq) : 0;

		n = (size_t)snprintf(label, lsz, "%.*s", (int)(fl - 8), p + 8);
		if (m && !(ml == 6 && !strncmp(m + 1, "INVITE", 6)))
			n += (size_t)snprintf(label + (n < lsz ? n : lsz - 1),
					      n < lsz ? lsz - n : 1, " (%.*s)",
					      (int)ml, m + 1);
	}
	else {
		const char *sp = memchr(p, ' ', fl);
		size_t ml = sp ? (size_t)(sp - p) : fl;
		const char *uri_end = sp ? memchr(sp + 1, ' ', fl - ml - 1) :
					   NULL;
		bool re = false;

		if (ml == 6 && !strncmp(p, "INVITE", 6)) {
			v = sip_header(hdr, end, "To", "t", &vl);
			re = v && memmem(v, vl, ";tag=", 5);
		}
		n = (size_t)snprintf(label, lsz, "%s%.*s", re ? "re-" : "",
				     (int)(ml > 32 ? 32 : ml), p);
		if (sp && uri_end)
			snprintf(detail, dsz, "%.*s", (int)(uri_end - sp - 1),
				 sp + 1);
	}
	if (sdp && n < lsz)
		snprintf(label + n, lsz - n, " (SDP)");
}


/* ---- STUN / TURN ------------------------------------------------------- */

static const char *stun_method_name(unsigned m)
{
	switch (m) {
	case 0x001: return "Binding";
	case 0x003: return "Allocate";
	case 0x004: return "Refresh";
	case 0x006: return "Send";
	case 0x007: return "Data";
	case 0x008: return "CreatePermission";
	case 0x009: return "ChannelBind";
	case 0x00a: return "Connect";
	case 0x00b: return "ConnectionBind";
	case 0x00c: return "ConnectionAttempt";
	default: return NULL;
	}
}


static void xor_addr(const uint8_t *v, size_t vl, const uint8_t *hdr,
		     char *out, size_t osz)
{
	char ip[INET6_ADDRSTRLEN];
	uint8_t a[16];
	uint16_t port;

	out[0] = '\0';
	if (vl < 8)
		return;
	port = (uint16_t)((v[2] << 8 | v[3]) ^ (STUN_COOKIE >> 16));
	if (v[1] == 0x01) {
		for (int i = 0; i < 4; ++i)
			a[i] = v[4 + i] ^ hdr[4 + i];
		inet_ntop(AF_INET, a, ip, sizeof(ip));
		snprintf(out, osz, "%s:%u", ip, port);
	}
	else if (v[1] == 0x02 && vl >= 20) {
		for (int i = 0; i < 16; ++i)
			a[i] = v[4 + i] ^ hdr[4 + i]; /* cookie + tid */
		inet_ntop(AF_INET6, a, ip, sizeof(ip));
		snprintf(out, osz, "[%s]:%u", ip, port);
	}
}


static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}


/* One attribute into the detail; *errcode gets ERROR-CODE */
static void stun_attr(unsigned type, const uint8_t *v, size_t vl,
		      const uint8_t *hdr, char *d, size_t dsz, size_t *n,
		      int *errcode)
{
	char a[80];

	switch (type) {
	case 0x0006: add(d, dsz, n, "user %.*s", (int)(vl > 40 ? 40 : vl), v);
		break;
	case 0x0009:
		if (vl < 4)
			break;
		*errcode = (v[2] & 7) * 100 + v[3];
		add(d, dsz, n, "%d %.*s", *errcode,
		    (int)(vl - 4 > 40 ? 40 : vl - 4), v + 4);
		break;
	case 0x000d: if (vl >= 4) add(d, dsz, n, "lifetime %u", be32(v));
		break;
	case 0x0012: case 0x0016: case 0x0020:
		xor_addr(v, vl, hdr, a, sizeof(a));
		add(d, dsz, n, "%s %s", type == 0x0012 ? "XOR-PEER" :
		    type == 0x0016 ? "XOR-RELAYED" : "XOR-MAPPED", a);
		break;
	case 0x0014: add(d, dsz, n, "realm %.*s", (int)(vl > 40 ? 40 : vl), v);
		break;
	case 0x0015: add(d, dsz, n, "with nonce"); break;
	case 0x0019:
		if (vl >= 1)
			add(d, dsz, n, "%s", v[0] == 6 ? "TCP" :
			    v[0] == 17 ? "UDP" : "transport ?");
		break;
	case 0x0025: add(d, dsz, n, "USE-CANDIDATE"); break;
	case 0x8029: add(d, dsz, n, "ICE-CONTROLLED"); break;
	case 0x802a: add(d, dsz, n, "ICE-CONTROLLING"); break;
	case 0x002a: if (vl >= 4) add(d, dsz, n, "CONNECTION-ID %u", be32(v));
		break;
	default: break;
	}
}


/* Skip an RFC 4571 length prefix if the bytes after it are STUN */
static const uint8_t *unframe(const uint8_t *p, size_t *len)
{
	if (*len >= 22 && (size_t)(p[0] << 8 | p[1]) == *len - 2 &&
	    (p[2] & 0xc0) == 0 && be32(p + 6) == STUN_COOKIE) {
		*len -= 2;
		return p + 2;
	}
	return p;
}


/**
 * Label a STUN/TURN message: "Allocate Request", "Allocate Error 401",
 * "ConnectionAttempt Ind.", "Binding Success"; detail: the attributes an
 * operator reads (lifetime, XOR-PEER, error reason, USE-CANDIDATE)
 *
 * @return true if it is a Binding (an ICE check), false for TURN
 */
bool cl_sum_stun(const uint8_t *data, size_t len, char *label, size_t lsz,
		 char *detail, size_t dsz)
{
	static const char *const cls[] = {"Request", "Indication", "Success",
					  "Error"};
	const uint8_t *p = unframe(data, &len);
	unsigned type, m, c;
	size_t alen, off = 20, n = 0;
	const char *mn;
	int errcode = 0;

	detail[0] = '\0';
	if (len < 20 || (p[0] & 0xc0)) {
		snprintf(label, lsz, "STUN? (%zu bytes)", len);
		return false;
	}
	type = (unsigned)(p[0] << 8 | p[1]);
	alen = (size_t)(p[2] << 8 | p[3]);
	m = (type & 0x000f) | (type & 0x00e0) >> 1 | (type & 0x3e00) >> 2;
	c = (type & 0x0010) >> 4 | (type & 0x0100) >> 7;
	mn = stun_method_name(m);
	while (off + 4 <= 20 + alen && off + 4 <= len) {
		unsigned at = (unsigned)(p[off] << 8 | p[off + 1]);
		size_t vl = (size_t)(p[off + 2] << 8 | p[off + 3]);

		if (off + 4 + vl > len)
			break;
		stun_attr(at, p + off + 4, vl, p, detail, dsz, &n, &errcode);
		off += 4 + ((vl + 3) & ~(size_t)3);
	}
	if (mn)
		snprintf(label, lsz, "%s %s", mn, cls[c]);
	else
		snprintf(label, lsz, "method 0x%03x %s", m, cls[c]);
	if (c == 3 && errcode && strlen(label) + 5 < lsz)
		snprintf(label + strlen(label), lsz - strlen(label), " %d",
			 errcode);
	if (c == 1 && strlen(label) > 24)
		snprintf(label + strlen(label) - strlen("Indication"),
			 lsz - (strlen(label) - strlen("Indication")), "Ind.");
	return m == 0x001;
}
