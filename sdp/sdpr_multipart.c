/**
 * @file sdpr_multipart.c  Reduce a multipart body to its ICE-19 SDP part.
 *
 * Lync sends `multipart/alternative` offers with two application/sdp
 * parts: an MS-ICE v1 one marked `Content-Disposition: session;
 * handling=optional; ms-proxy-2007fallback` and the ICE-19 one
 * (tieto/sipe issue #56, Stack Overflow 13815094). The CMS leg gets the
 * ICE-19 part alone as a single-part body.
 *
 * Framing is RFC 2046 5.1.1: a delimiter is "--" boundary at the start of
 * a line, optional "--" for the close delimiter, optional blanks, then the
 * line end; the line end before a delimiter belongs to the delimiter, not
 * to the part. Text before the first delimiter (preamble) and after the
 * close delimiter (epilogue) is ignored. CRLF and bare LF are both read.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sdpr_int.h"

#define BOUNDARY_MAX 70 /* RFC 2046 5.1.1 */
#define PARTS_MAX 16
#define HDR_VALUE_MAX 256

/** One body part: where it is, and the headers a choice needs */
struct mp_part {
	const char *start, *end;  /* the whole part: headers + body */
	const char *body;         /* after the empty line */
	char ctype[HDR_VALUE_MAX];
	char disp[HDR_VALUE_MAX];
	char cte[HDR_VALUE_MAX];
};

/** A scan of the body */
struct mp_scan {
	const char *base, *end;
	const char *boundary;
	size_t blen;
	struct sdpr_err *err;
};


static void mp_fail(struct mp_scan *s, const char *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));


static void mp_fail(struct mp_scan *s, const char *at, const char *fmt, ...)
{
	va_list ap;

	s->err->line = 0;
	if (at) {
		s->err->line = 1;
		for (const char *p = s->base; p < at; ++p)
			s->err->line += *p == '\n';
	}
	va_start(ap, fmt);
	vsnprintf(s->err->reason, sizeof(s->err->reason), fmt, ap);
	va_end(ap);
}


static bool is_ws(char c)
{
	return c == ' ' || c == '\t';
}


/* Copy s[0..len) trimmed of blanks into dst; false if it does not fit */
static bool copy_trim(char *dst, size_t size, const char *s, size_t len)
{
	while (len && is_ws(*s)) {
		++s;
		--len;
	}
	while (len && (is_ws(s[len - 1]) || s[len - 1] == '\r'))
		--len;
	if (len >= size)
		return false;
	memcpy(dst, s, len);
	dst[len] = '\0';
	return true;
}


/* A parameter value: token or quoted-string (RFC 2045 5.1) */
static const char *param_value(const char *p, char *val, size_t size)
{
	size_t n = 0;

	if (*p != '"') {
		while (*p && *p != ';' && !is_ws(*p) && n + 1 < size)
			val[n++] = *p++;
		val[n] = '\0';
		return *p && *p != ';' && !is_ws(*p) ? NULL : p;
	}
	for (++p; *p && *p != '"'; ++p) {
		if (*p == '\\' && p[1])
			++p;
		if (n + 1 >= size)
			return NULL;
		val[n++] = *p;
	}
	val[n] = '\0';
	return *p == '"' ? p + 1 : NULL;
}


/* Media type (lower-cased into type) and boundary parameter of ctype */
static int ctype_parse(const char *ctype, char *type, size_t tsize,
		       char *boundary, size_t bsize)
{
	const char *p = ctype + strspn(ctype, " \t");
	size_t n = strcspn(p, "; \t");
	char name[32], val[BOUNDARY_MAX + 2];

	if (!n || n >= tsize)
		return EBADMSG;
	for (size_t i = 0; i < n; ++i)
		type[i] = (char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] + 32 : p[i]);
	type[n] = '\0';
	boundary[0] = '\0';
	for (p += n;;) {
		p += strspn(p, " \t");
		if (!*p)
			return 0;
		if (*p++ != ';')
			return EBADMSG;
		p += strspn(p, " \t");
		n = strcspn(p, "= \t;");
		if (!n || n >= sizeof(name) || p[n + strspn(p + n, " \t")] != '=')
			return EBADMSG;
		memcpy(name, p, n);
		name[n] = '\0';
		p += n;
		p += strspn(p, " \t") + 1;
		p += strspn(p, " \t");
		p = param_value(p, val, sizeof(val));
		if (!p)
			return EBADMSG;
		if (!strcasecmp(name, "boundary") &&
		    !copy_trim(boundary, bsize, val, strlen(val)))
			return EBADMSG;
	}
}


/* If a delimiter line starts at p: true, *closep, *nextp = after it */
static bool delim_at(const struct mp_scan *s, const char *p, bool *closep,
		     const char **nextp)
{
	const char *q = p + 2 + s->blen;

	if ((size_t)(s->end - p) < 2 + s->blen || p[0] != '-' ||
	    p[1] != '-' || memcmp(p + 2, s->boundary, s->blen))
		return false;
	*closep = s->end - q >= 2 && q[0] == '-' && q[1] == '-';
	if (*closep)
		q += 2;
	while (q < s->end && is_ws(*q))
		++q;
	if (q < s->end && *q == '\r' && q + 1 < s->end && q[1] == '\n')
		++q;
	if (q < s->end && *q != '\n')
		return false;
	*nextp = q < s->end ? q + 1 : q;
	return true;
}


/* Next delimiter line at or after p (p at a line start), or NULL */
static const char *delim_find(const struct mp_scan *s, const char *p,
			      bool *closep, const char **nextp)
{
	while (p < s->end) {
		const char *nl;

		if (delim_at(s, p, closep, nextp))
			return p;
		nl = memchr(p, '\n', (size_t)(s->end - p));
		if (!nl)
			return NULL;
		p = nl + 1;
	}
	return NULL;
}


/* Store the value of a header this code reads; ignore others */
static bool hdr_store(struct mp_part *pt, const char *line, size_t len)
{
	static const char *const names[] = {
		"Content-Type", "Content-Disposition",
		"Content-Transfer-Encoding",
	};
	char *const dst[] = {pt->ctype, pt->disp, pt->cte};
	const char *colon = memchr(line, ':', len);

	if (!colon)
		return false;
	for (size_t i = 0; i < 3; ++i) {
		size_t nl = strlen(names[i]);

		if ((size_t)(colon - line) == nl &&
		    !strncasecmp(line, names[i], nl))
			return copy_trim(dst[i], HDR_VALUE_MAX, colon + 1,
					 len - nl - 1);
	}
	return true;
}


/* Read the headers of a part up to its empty line (none: empty body) */
static int part_headers(struct mp_scan *s, struct mp_part *pt)
{
	const char *p = pt->start;

	pt->ctype[0] = pt->disp[0] = pt->cte[0] = '\0';
	pt->body = pt->end;
	while (p < pt->end) {
		const char *nl = memchr(p, '\n', (size_t)(pt->end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(pt->end - p);

		if (len && p[len - 1] == '\r')
			--len;
		if (!len) {
			pt->body = nl ? nl + 1 : pt->end;
			return 0;
		}
		/* folded headers (RFC 5322 2.2.3) are not used by SIP UAs
		 * for these three; reject rather than misread them */
		if (is_ws(*p) || !hdr_store(pt, p, len)) {
			mp_fail(s, p, "malformed part header");
			return EBADMSG;
		}
		if (!nl)
			break;
		p = nl + 1;
	}
	/* headers only: the line end before the delimiter ended the last */
	return 0;
}


/* True if a ';'-separated header value has the bare parameter name */
static bool has_param(const char *value, const char *name)
{
	size_t nl = strlen(name);

	for (const char *p = strchr(value, ';'); p; p = strchr(p, ';')) {
		++p;
		p += strspn(p, " \t");
		if (!strncasecmp(p, name, nl) &&
		    (!p[nl] || p[nl] == ';' || is_ws(p[nl]) || p[nl] == '='))
			return true;
	}
	return false;
}


static bool part_is_ice19_sdp(const struct mp_part *pt)
{
	size_t n = strcspn(pt->ctype, "; \t");

	return n == 15 && !strncasecmp(pt->ctype, "application/sdp", n) &&
	       !has_param(pt->disp, "ms-proxy-2007fallback");
}


static bool cte_identity(const char *cte)
{
	return !*cte || !strcasecmp(cte, "7bit") || !strcasecmp(cte, "8bit") ||
	       !strcasecmp(cte, "binary");
}


/* Walk every part up to the close delimiter; pick the first ICE-19 SDP */
static int parts_scan(struct mp_scan *s, struct mp_part *pick)
{
	const char *p, *next;
	bool close, found = false;
	unsigned nparts = 0;
	int err;

	p = delim_find(s, s->base, &close, &next);
	if (!p) {
		mp_fail(s, NULL, "no boundary delimiter");
		return EBADMSG;
	}
	while (!close) {
		struct mp_part pt;

		pt.start = next;
		p = delim_find(s, next, &close, &next);
		if (!p) {
			mp_fail(s, s->end, "missing closing delimiter");
			return EBADMSG;
		}
		if (++nparts > PARTS_MAX) {
			mp_fail(s, p, "more than %d parts", PARTS_MAX);
			return EMSGSIZE;
		}
		/* the line end before a delimiter belongs to it */
		pt.end = p;
		if (pt.end > pt.start && pt.end[-1] == '\n')
			--pt.end;
		if (pt.end > pt.start && pt.end[-1] == '\r')
			--pt.end;
		err = part_headers(s, &pt);
		if (err)
			return err;
		if (!found && part_is_ice19_sdp(&pt)) {
			*pick = pt;
			found = true;
		}
	}
	if (!found) {
		mp_fail(s, NULL, "no application/sdp part without "
			"ms-proxy-2007fallback");
		return ENOENT;
	}
	return 0;
}


/**
 * Reduce a SIP body to a single-part SDP body
 *
 * @param ctype     the Content-Type header value of the body
 * @param partp     receives a pointer into body: the bytes of the chosen
 *                  part (application/sdp: the whole body)
 * @param partlenp  receives its length
 * @param err       optional: line number (in body) and reason of a failure
 * @return 0; EINVAL; EMSGSIZE (over SDPR_MAX_MULTIPART bytes or 16 parts);
 *         ENOTSUP (neither application/sdp nor multipart/..., or a part
 *         transfer encoding other than 7bit/8bit/binary); EBADMSG
 *         (malformed: no boundary, missing closing delimiter, ...); ENOENT
 *         (no application/sdp part without ms-proxy-2007fallback)
 */
int sdpr_multipart_reduce(const char *ctype, const char *body, size_t len,
			  const char **partp, size_t *partlenp,
			  struct sdpr_err *err)
{
	char type[64], boundary[BOUNDARY_MAX + 1];
	struct sdpr_err lerr;
	struct mp_scan s = {body, body + len, boundary, 0, err ? err : &lerr};
	struct mp_part pick;
	int e;

	memset(s.err, 0, sizeof(*s.err));
	if (!ctype || (!body && len) || !partp || !partlenp)
		return EINVAL;
	if (ctype_parse(ctype, type, sizeof(type), boundary, sizeof(boundary))) {
		mp_fail(&s, NULL, "malformed Content-Type");
		return EBADMSG;
	}
	if (!strcmp(type, "application/sdp")) {
		*partp = body;
		*partlenp = len;
		return 0;
	}
	if (strncmp(type, "multipart/", 10)) {
		mp_fail(&s, NULL, "content type '%.60s' is not SDP", type);
		return ENOTSUP;
	}
	if (len > SDPR_MAX_MULTIPART) {
		mp_fail(&s, NULL, "body of %zu bytes exceeds %d", len,
			SDPR_MAX_MULTIPART);
		return EMSGSIZE;
	}
	s.blen = strlen(boundary);
	if (!s.blen) {
		mp_fail(&s, NULL, "multipart Content-Type without boundary");
		return EBADMSG;
	}
	e = parts_scan(&s, &pick);
	if (e)
		return e;
	if (!cte_identity(pick.cte)) {
		mp_fail(&s, pick.start, "unsupported Content-Transfer-Encoding "
			"'%.40s'", pick.cte);
		return ENOTSUP;
	}
	*partp = pick.body;
	*partlenp = (size_t)(pick.end - pick.body);
	return 0;
}
