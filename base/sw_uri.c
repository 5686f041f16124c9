/**
 * @file sw_uri.c  URI pieces for the dial plan: the URI of a From/To value,
 * its user and host, and a copy with another user.
 *
 * The grammar is RFC 3261 §25.1: userinfo has no unescaped '@', so the
 * first '@' after the scheme ends it; a ':' inside userinfo starts the
 * password. Header values (§20.10): a URI with parameters is inside <>,
 * a bare addr-spec ends at ';' (header parameters), ',' or whitespace.
 * Display names may be quoted strings with backslash escapes and may
 * contain '<'. tel: URIs (RFC 3966) have a number and no host.
 *
 * Why not a library: Sofia-SIP's url and address parsers stay in sip/
 * (base/ includes no Sofia header: the dial plan would climb a layer to
 * reach them). libre's sip_addr_decode() matches the display name with
 * the pattern [~ \t\r\n<]* and takes the first '<' as the URI's start,
 * so the header value "A \"<x>\" B" <tel:+15550100> of test_rules' cases
 * (a quoted display name may hold '<', RFC 3261 §25.1) yields the URI
 * "x".
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "sw_uri.h"

enum uri_kind {
	URI_SIP,
	URI_TEL,
};


static int put(char *out, size_t sz, size_t *len, const char *s, size_t n)
{
	if (*len + n >= sz)
		return ERANGE;
	memcpy(out + *len, s, n);
	*len += n;
	out[*len] = '\0';
	return 0;
}


static int copy_span(char *out, size_t sz, const char *s, size_t n)
{
	size_t len = 0;

	if (!out || !sz)
		return ERANGE;
	out[0] = '\0';
	return put(out, sz, &len, s, n);
}


/* scheme of uri; *hier points after the ':' */
static int uri_kind(const char *uri, enum uri_kind *kind, const char **hier)
{
	if (!uri)
		return EINVAL;
	if (!strncasecmp(uri, "sip:", 4) || !strncasecmp(uri, "sips:", 5)) {
		*kind = URI_SIP;
		*hier = strchr(uri, ':') + 1;
		return 0;
	}
	if (!strncasecmp(uri, "tel:", 4)) {
		*kind = URI_TEL;
		*hier = uri + 4;
		return 0;
	}
	return EINVAL;
}


/* the '@' ending sip userinfo, or NULL */
static const char *userinfo_end(const char *hier)
{
	return strchr(hier, '@');
}


/* end of a quoted-string starting at q ('"'), at its closing quote */
static const char *quoted_end(const char *q)
{
	for (++q; *q; ++q) {
		if (*q == '\\') {
			if (!q[1])
				return NULL;
			++q;
		}
		else if (*q == '"') {
			return q;
		}
	}
	return NULL;
}


static bool is_lws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}


/**
 * Get the URI of a From/To/Contact-style header value
 *
 * `"A \"x\" <y" <sip:a@b;p>;tag=1` gives `sip:a@b;p`; `sip:a@b;tag=1`
 * gives `sip:a@b`.
 *
 * @return 0, EINVAL if the value has no URI, ERANGE if sz is too small
 */
int sw_uri_from_header(const char *hv, char *uri, size_t sz)
{
	const char *p, *b, *e, *lt = NULL;
	bool quoted = false;

	if (!hv || !uri || !sz)
		return EINVAL;
	uri[0] = '\0';
	while (is_lws(*hv))
		++hv;
	for (p = hv; *p && !lt; ++p) {
		if (*p == '"') {
			p = quoted_end(p);
			if (!p)
				return EINVAL;
			quoted = true;
		}
		else if (*p == '<') {
			lt = p;
		}
	}
	if (lt) {
		b = lt + 1;
		e = strchr(b, '>');
		if (!e)
			return EINVAL;
	}
	else {
		if (quoted)
			return EINVAL;
		b = hv;
		e = b + strcspn(b, " \t\r\n;,");
	}
	while (b < e && is_lws(*b))
		++b;
	while (e > b && is_lws(e[-1]))
		--e;
	if (e == b || memchr(b, ':', (size_t)(e - b)) == NULL)
		return EINVAL;
	return copy_span(uri, sz, b, (size_t)(e - b));
}


/**
 * Get the user part of a sip:/sips: URI, or the number of a tel: URI
 *
 * The user keeps its own ;parameters (`+1234;phone-context=x`), as
 * Kamailio's $rU does, but not a :password.
 *
 * @return 0, EINVAL if not such a URI, ENOENT if it has no user, ERANGE
 */
int sw_uri_user(const char *uri, char *user, size_t sz)
{
	enum uri_kind kind;
	const char *hier, *at;
	size_t n;
	int err;

	if (!user || !sz)
		return EINVAL;
	user[0] = '\0';
	err = uri_kind(uri, &kind, &hier);
	if (err)
		return err;
	if (kind == URI_TEL) {
		n = strcspn(hier, ";?");
		return n ? copy_span(user, sz, hier, n) : EINVAL;
	}
	at = userinfo_end(hier);
	if (!at)
		return ENOENT;
	n = strcspn(hier, ":@");
	if (n == 0)
		return ENOENT;
	return copy_span(user, sz, hier, n);
}


/**
 * Get the host of a sip:/sips: URI (an IPv6 reference keeps its brackets)
 *
 * @return 0, EINVAL if not a SIP URI or no host, ENOENT for tel:, ERANGE
 */
int sw_uri_host(const char *uri, char *host, size_t sz)
{
	enum uri_kind kind;
	const char *hier, *at, *h, *e;
	int err;

	if (!host || !sz)
		return EINVAL;
	host[0] = '\0';
	err = uri_kind(uri, &kind, &hier);
	if (err)
		return err;
	if (kind == URI_TEL)
		return ENOENT;
	at = userinfo_end(hier);
	h = at ? at + 1 : hier;
	if (*h == '[') {
		e = strchr(h, ']');
		if (!e)
			return EINVAL;
		++e;
	}
	else {
		e = h + strcspn(h, ":;?>");
	}
	if (e == h)
		return EINVAL;
	return copy_span(host, sz, h, (size_t)(e - h));
}


static int set_sip_user(const char *uri, const char *hier, const char *user,
			char *out, size_t sz)
{
	const char *at = userinfo_end(hier);
	size_t len = 0, un = strlen(user);
	int err;

	err = put(out, sz, &len, uri, (size_t)(hier - uri));
	if (err)
		return err;
	if (!at) {
		if (un) {
			err = put(out, sz, &len, user, un);
			if (!err)
				err = put(out, sz, &len, "@", 1);
		}
		return err ? err : put(out, sz, &len, hier, strlen(hier));
	}
	if (!un) /* no user: drop the whole userinfo, password too */
		return put(out, sz, &len, at + 1, strlen(at + 1));
	err = put(out, sz, &len, user, un);
	if (err)
		return err;
	hier += strcspn(hier, ":@"); /* keep ":password@" or "@" */
	return put(out, sz, &len, hier, strlen(hier));
}


/**
 * Write uri with its user part replaced by user ("" removes it)
 *
 * @return 0, EINVAL if uri is not sip:/sips:/tel: (or tel: with an empty
 *         number), ERANGE if the result does not fit in sz
 */
int sw_uri_set_user(const char *uri, const char *user, char *out, size_t sz)
{
	enum uri_kind kind;
	const char *hier;
	size_t len = 0;
	int err;

	if (!user || !out || !sz)
		return EINVAL;
	out[0] = '\0';
	err = uri_kind(uri, &kind, &hier);
	if (err)
		return err;
	if (kind == URI_SIP) {
		err = set_sip_user(uri, hier, user, out, sz);
		goto out;
	}
	if (!*user)
		return EINVAL;
	err = put(out, sz, &len, uri, (size_t)(hier - uri));
	if (!err)
		err = put(out, sz, &len, user, strlen(user));
	hier += strcspn(hier, ";?");
	if (!err)
		err = put(out, sz, &len, hier, strlen(hier));
out:
	if (err)
		out[0] = '\0';
	return err;
}
