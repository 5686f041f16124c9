/**
 * @file sipua_caplog.c  Sofia's transport log back into SIP messages.
 *
 * Sofia-SIP 1.12.11's tport_log_msg() (TPTAG_LOG(1)) prints each message
 * it sends or receives, once, whole and framed by Sofia's parser (TLS:
 * the cleartext), with one su_log() call per piece:
 *
 *   "recv 1816 bytes from udp/[127.0.0.2]:5070 at 00:09:05.678795:\n"
 *   "   ------...------\n"       (72 dashes; same call as the stamp)
 *   "   INVITE sip:4321@conf.example SIP/2.0"    a line: "   " + text
 *   "\n"                                         its line break
 *   "..."                a line continued across Sofia's buffers: text
 *   "   ------...------\n"       the end; "\n   ---...\n" when the last
 *                                line had no line break
 *   "   *** message truncated at N ***\n"   after a truncated message
 *
 * The parser rebuilds the bytes: text as is, line breaks as CRLF, or as
 * bare LF when only that gives the stamp's byte count (for the body, or
 * the whole message). What the log loses stays lost: Sofia cuts a
 * message at a NUL byte, a line over 2047 bytes and after 80 buffers;
 * the part logged is kept (counted as inexact).
 *
 * Anything that is not a stamp, outside a message, is not ours (Sofia's
 * other diagnostics share the logger). Every length is checked; garbage
 * never gets further than a dropped message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "sipua.h"
#include "sipua_caplog.h"

#define CAPLOG_SEP "   ----------------------------------------" \
		   "--------------------------------\n"
#define CAPLOG_TRUNC "   *** message truncated at "


static int64_t caplog_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}


/* Is the header line [s, s+n) the header name (or its compact form)?
 * *valp: the value, after the colon and its whitespace */
static bool caplog_hdr_is(const char *s, size_t n, const char *name,
			  const char *compact, const char **valp)
{
	const char *c = memchr(s, ':', n);
	size_t k;

	if (!c)
		return false;
	k = (size_t)(c - s);
	while (k && (s[k - 1] == ' ' || s[k - 1] == '\t'))
		--k;
	if ((k != strlen(name) || strncasecmp(s, name, k)) &&
	    (k != strlen(compact) || strncasecmp(s, compact, k)))
		return false;
	for (++c; c < s + n && (*c == ' ' || *c == '\t'); ++c)
		;
	*valp = c;
	return true;
}


/* The value of the first header NAME (or COMPACT) of a raw message,
 * trailing whitespace cut; folded lines are not joined (Sofia prints
 * every header on one line) */
static bool caplog_header(const char *m, size_t len, const char *name,
			  const char *compact, const char **vp, size_t *np)
{
	const char *p, *end = m + len;

	p = m ? memchr(m, '\n', len) : NULL; /* after the start line */
	while (p && ++p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t n = eol ? (size_t)(eol - p) : (size_t)(end - p);
		const char *v;

		if (n && p[n - 1] == '\r')
			--n;
		if (!n)
			return false; /* the end of the headers */
		if (*p != ' ' && *p != '\t' &&
		    caplog_hdr_is(p, n, name, compact, &v)) {
			size_t k = n - (size_t)(v - p);

			while (k && (v[k - 1] == ' ' || v[k - 1] == '\t'))
				--k;
			if (!k)
				return false;
			*vp = v;
			*np = k;
			return true;
		}
		p = eol;
	}
	return false;
}


/**
 * The Call-ID of a raw message (RFC 3261 20.8, compact form "i")
 *
 * @return true with *offp and *lenp set, false if the headers have none
 */
bool sipua_caplog_call_id(const char *m, size_t len, size_t *offp,
			  size_t *lenp)
{
	const char *v;

	if (!caplog_header(m, len, "Call-ID", "i", &v, lenp))
		return false;
	*offp = (size_t)(v - m);
	return true;
}


/**
 * The tag parameter of the To (to) or From header of a raw message
 * (RFC 3261 19.3; compact forms "t" and "f"), outside the <URI>
 *
 * @return true with *offp and *lenp set, false if the header has none
 */
bool sipua_caplog_tag(const char *m, size_t len, bool to, size_t *offp,
		      size_t *lenp)
{
	const char *v, *e, *p;
	size_t n;

	if (!caplog_header(m, len, to ? "To" : "From", to ? "t" : "f", &v,
			   &n))
		return false;
	e = v + n;
	p = memchr(v, '<', n);
	if (p) { /* name-addr: the parameters follow the '>' */
		p = memchr(p, '>', (size_t)(e - p));
		if (!p)
			return false;
	}
	else {
		p = v;
	}
	for (; p < e; ++p) {
		const char *t = p + 1;
		size_t k;

		if (*p != ';')
			continue;
		while (t < e && (*t == ' ' || *t == '\t'))
			++t;
		if ((size_t)(e - t) < 4 || strncasecmp(t, "tag", 3))
			continue;
		t += 3;
		while (t < e && (*t == ' ' || *t == '\t'))
			++t;
		if (t >= e || *t != '=')
			continue;
		for (++t; t < e && (*t == ' ' || *t == '\t'); ++t)
			;
		for (k = 0; t + k < e && !memchr(";, \t", t[k], 4); ++k)
			;
		if (!k)
			return false;
		*offp = (size_t)(t - m);
		*lenp = k;
		return true;
	}
	return false;
}


static void caplog_append(struct sipua_caplog *cl, const char *s, size_t n)
{
	size_t want = cl->len + n;
	char *b;

	if (cl->skip || !n)
		return;
	if (want > SW_SIP_MSG_MAX) {
		cl->skip = true;
		return;
	}
	if (want > cl->size) {
		size_t size = cl->size ? cl->size : 4096;

		while (size < want)
			size *= 2;
		b = realloc(cl->buf, size);
		if (!b) {
			cl->skip = true;
			return;
		}
		cl->buf = b;
		cl->size = size;
	}
	memcpy(cl->buf + cl->len, s, n);
	cl->len = want;
}


static void caplog_break(struct sipua_caplog *cl)
{
	bool empty = cl->len == cl->line_off;

	caplog_append(cl, "\r\n", 2);
	cl->breaks++;
	if (cl->in_body)
		cl->body_breaks++;
	else if (empty && cl->breaks > 1) {
		cl->in_body = true; /* the empty line ends the headers */
		cl->body_off = cl->len;
	}
	cl->line_off = cl->len;
	cl->at_bol = true;
}


/* The line breaks were bare LF if only that fits the stamp's count:
 * drop the CR put before each (the text of a line holds none) */
static void caplog_fix_breaks(struct sipua_caplog *cl)
{
	size_t from, o;

	if (cl->len == cl->wire_len)
		return;
	if (cl->in_body && cl->len - cl->body_breaks == cl->wire_len)
		from = cl->body_off;
	else if (cl->len - cl->breaks == cl->wire_len)
		from = 0;
	else {
		cl->n_inexact++; /* truncated by Sofia, or mixed breaks */
		return;
	}
	o = from;
	for (size_t i = from; i < cl->len; ++i)
		if (cl->buf[i] != '\r')
			cl->buf[o++] = cl->buf[i];
	cl->len = o;
}


/* The text of a line, a then b: the indent Sofia puts before a line's
 * first piece ("   ") is not the message's */
static void caplog_text(struct sipua_caplog *cl, const char *a, size_t na,
			const char *b, size_t nb)
{
	if (cl->at_bol && na + nb >= 3) {
		size_t k = 0;

		while (k < 3 && (k < na ? a[k] : b[k - na]) == ' ')
			++k;
		if (k == 3) {
			size_t ka = na < 3 ? na : 3;

			a += ka, na -= ka;
			b += 3 - ka, nb -= 3 - ka;
		}
	}
	cl->at_bol = false;
	caplog_append(cl, a, na);
	caplog_append(cl, b, nb);
}


/* "recv|send N bytes from|to PROTO/[ADDR]:PORT... at T:\n" CAPLOG_SEP */
static bool caplog_stamp(struct sipua_caplog *cl, const char *s, size_t n)
{
	static const char *const protos[] = {
		[SW_TP_UDP] = "udp", [SW_TP_TCP] = "tcp", [SW_TP_TLS] = "tls"};
	size_t sep = strlen(CAPLOG_SEP);
	unsigned long long len;
	char dir[8], proto[8], addr[64];
	unsigned port;
	bool recv = n > 5 && !strncmp(s, "recv ", 5);

	if (n <= sep || strcmp(s + n - sep, CAPLOG_SEP) ||
	    (!recv && strncmp(s, "send ", 5)) ||
	    sscanf(s + 5, "%llu bytes %7s %7[a-z0-9]/[%63[^]]]:%u", &len,
		   dir, proto, addr, &port) != 5 ||
	    strcmp(dir, recv ? "from" : "to"))
		return false;
	memset(&cl->meta, 0, sizeof(cl->meta));
	cl->in_body = false;
	cl->breaks = cl->body_breaks = 0;
	cl->skip = true; /* a transport without a pcap form */
	for (unsigned i = 0; i < sizeof(protos) / sizeof(protos[0]); ++i)
		if (!strcmp(proto, protos[i])) {
			cl->meta.tp = (enum sw_transport)i;
			cl->skip = false;
		}
	if (port > 65535 || len > SW_SIP_MSG_MAX ||
	    sw_sa_set_ip(&cl->meta.peer, addr, (uint16_t)port))
		cl->skip = true;
	sw_sa_unmap_v4(&cl->meta.peer, &cl->meta.peer);
	cl->meta.t_us = caplog_now_us();
	cl->meta.received = recv;
	cl->wire_len = (size_t)len;
	cl->len = cl->line_off = cl->body_off = 0;
	cl->at_bol = true;
	cl->in_msg = true;
	return true;
}


/* The end line: the message is whole */
static enum sipua_caplog_res caplog_end(struct sipua_caplog *cl)
{
	cl->in_msg = false;
	if (cl->skip || !cl->len) {
		cl->n_skipped++;
		return SIPUA_CAPLOG_TAKEN;
	}
	caplog_fix_breaks(cl);
	cl->n_msgs++;
	return SIPUA_CAPLOG_MSG;
}


/**
 * A whole message given at once, as the buffers Sofia holds it in (the
 * message tport_log_msg() would log, taken before it is printed): the
 * same result as its log's pieces, without a line count to guess from
 * and nothing cut at a NUL or a long line
 *
 * @param meta      direction, transport and peer (t_us is set here)
 * @param known_tp  meta->tp is a transport with a pcap form
 * @return SIPUA_CAPLOG_MSG (cl->buf, cl->len, cl->meta valid until the
 *         next call), or SIPUA_CAPLOG_TAKEN when it cannot be kept
 *         (unknown transport, empty, over SW_SIP_MSG_MAX, no memory)
 */
enum sipua_caplog_res sipua_caplog_whole(struct sipua_caplog *cl,
					 const struct sipua_caplog_meta *meta,
					 bool known_tp,
					 const struct sipua_caplog_part *parts,
					 size_t n_parts)
{
	if (!cl || !meta)
		return SIPUA_CAPLOG_OTHER;
	cl->meta = *meta;
	cl->meta.t_us = caplog_now_us();
	cl->in_msg = cl->in_body = false;
	cl->skip = !known_tp;
	cl->len = cl->line_off = cl->body_off = 0;
	cl->breaks = cl->body_breaks = 0;
	for (size_t i = 0; i < n_parts && !cl->skip; ++i)
		caplog_append(cl, parts[i].p, parts[i].n);
	cl->wire_len = cl->len;
	if (cl->skip || !cl->len) {
		cl->n_skipped++;
		return SIPUA_CAPLOG_TAKEN;
	}
	cl->n_msgs++;
	return SIPUA_CAPLOG_MSG;
}


/**
 * One piece of Sofia's log, as formatted (one su_log() call)
 *
 * @param s    the piece, NUL-terminated at n
 * @param cut  the piece was longer than the caller's buffer (s holds
 *             its start): never Sofia's transport log
 * @return SIPUA_CAPLOG_MSG when a message is whole (cl->buf, cl->len,
 *         cl->meta, valid until the next call), SIPUA_CAPLOG_TAKEN for
 *         any other piece of the transport log, SIPUA_CAPLOG_OTHER for
 *         anything else
 */
enum sipua_caplog_res sipua_caplog_piece(struct sipua_caplog *cl,
					 const char *s, size_t n, bool cut)
{
	if (!cl || !s)
		return SIPUA_CAPLOG_OTHER;
	if (!cl->in_msg) {
		if (!cut && caplog_stamp(cl, s, n))
			return SIPUA_CAPLOG_TAKEN;
		return strncmp(s, CAPLOG_TRUNC, strlen(CAPLOG_TRUNC))
			       ? SIPUA_CAPLOG_OTHER
			       : SIPUA_CAPLOG_TAKEN;
	}
	if (cut)
		cl->skip = true; /* longer than any line Sofia logs */
	else if (!strcmp(s, CAPLOG_SEP) ||
		 (s[0] == '\n' && !strcmp(s + 1, CAPLOG_SEP)))
		return caplog_end(cl);
	else if (n == 1 && s[0] == '\n')
		caplog_break(cl);
	else
		caplog_text(cl, s, n, "", 0);
	return SIPUA_CAPLOG_TAKEN;
}


/**
 * A piece of Sofia's log given as the two strings it is made of, a and b
 * (its "%s%.*s" pieces: a line's indent and its text), unformatted: the
 * same as sipua_caplog_piece() of a followed by b, without the copy
 *
 * @return false (nothing done) unless this is the text of a message's
 *         line (in a message, no line break in either part): then the
 *         caller formats the piece and calls sipua_caplog_piece()
 */
bool sipua_caplog_text(struct sipua_caplog *cl, const char *a, size_t na,
		       const char *b, size_t nb)
{
	if (!cl || !a || !b || !cl->in_msg || memchr(a, '\n', na) ||
	    memchr(b, '\n', nb))
		return false;
	caplog_text(cl, a, na, b, nb);
	return true;
}


/** Free the parser's buffer; it can be used again */
void sipua_caplog_reset(struct sipua_caplog *cl)
{
	if (!cl)
		return;
	free(cl->buf);
	memset(cl, 0, sizeof(*cl));
}
