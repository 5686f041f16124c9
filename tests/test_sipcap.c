/**
 * @file test_sipcap.c  Sofia's transport log back into SIP messages
 * (sip/sipua_caplog.c): the pieces tport_log_msg() prints, one su_log()
 * each, as 1.12.11 prints them; bare-LF bodies, lines continued across
 * buffers, IPv6, transports without a pcap form, truncation, garbage,
 * and the Call-ID of raw messages.
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "sipua.h"
#include "sipua_caplog.h"

#define SEP "   ------------------------------------------------------------------------\n"

/* Feed the pieces; the result of the last one */
static enum sipua_caplog_res feed(struct sipua_caplog *cl,
				  const char *const *pieces)
{
	enum sipua_caplog_res r = SIPUA_CAPLOG_OTHER;

	for (; *pieces; ++pieces)
		r = sipua_caplog_piece(cl, *pieces, strlen(*pieces), false);
	return r;
}


UNIT_TEST(test_udp_received, "udp_received")
{
	static const char want[] = "OPTIONS sip:gw SIP/2.0\r\n"
				   "Call-ID: abc@h\r\n"
				   "Content-Length: 0\r\n\r\n";
	char stamp[160];
	const char *const p[] = {
		stamp, "   OPTIONS sip:gw SIP/2.0", "\n", "   Call-ID: abc@h",
		"\n", "   Content-Length: 0", "\n", "   ", "\n", SEP, NULL};
	struct sipua_caplog cl = {0};
	char a[SW_SA_STRLEN];

	snprintf(stamp, sizeof(stamp),
		 "recv %zu bytes from udp/[127.0.0.2]:5070 at 00:09:05.678795:\n" SEP,
		 strlen(want));
	CU_ASSERT_EQUAL(feed(&cl, p), SIPUA_CAPLOG_MSG);
	CU_ASSERT(cl.len == strlen(want) && !memcmp(cl.buf, want, cl.len));
	CU_ASSERT(cl.meta.received);
	CU_ASSERT_EQUAL(cl.meta.tp, SW_TP_UDP);
	CU_ASSERT_STRING_EQUAL(sw_sa_str(&cl.meta.peer, a, sizeof(a)),
			       "127.0.0.2:5070");
	CU_ASSERT(cl.meta.t_us > 0);
	CU_ASSERT_EQUAL(cl.n_msgs, 1);
	CU_ASSERT_EQUAL(cl.n_inexact, 0);
	sipua_caplog_reset(&cl);
}


/* sent over TLS to IPv6, a line continued across two buffers, a body
 * with bare LF and no final line break ("\n" before the end line) */
UNIT_TEST(test_tls_v6_lf_body, "tls_v6_lf_body")
{
	static const char want[] = "INVITE sip:x SIP/2.0\r\n"
				   "Via: SIP/2.0/TLS [::1]:5061\r\n"
				   "Call-ID: z\r\n\r\n"
				   "v=0\no=- 1 1 IN IP6 ::1";
	char stamp[160];
	const char *p[] = {
		stamp, "   INVITE sip:x SIP/2.0", "\n", "   Via: SIP/2.0/TLS ",
		"[::1]:5061", "\n", "   Call-ID: z", "\n", "   ", "\n",
		"   v=0", "\n", "   o=- 1 1 IN IP6 ::1", "\n" SEP, NULL};
	struct sipua_caplog cl = {0};
	char a[SW_SA_STRLEN];

	snprintf(stamp, sizeof(stamp),
		 "send %zu bytes to tls/[::1]:5061 at 00:00:00.000001:\n" SEP,
		 strlen(want));
	CU_ASSERT_EQUAL(feed(&cl, p), SIPUA_CAPLOG_MSG);
	CU_ASSERT_EQUAL(cl.len, strlen(want));
	CU_ASSERT(cl.len == strlen(want) && !memcmp(cl.buf, want, cl.len));
	CU_ASSERT(!cl.meta.received);
	CU_ASSERT_EQUAL(cl.meta.tp, SW_TP_TLS);
	CU_ASSERT_STRING_EQUAL(sw_sa_str(&cl.meta.peer, a, sizeof(a)),
			       "[::1]:5061");
	CU_ASSERT_EQUAL(cl.n_inexact, 0);
	sipua_caplog_reset(&cl);
}


/* A line's text given as its indent and its text ("%s%.*s", unformatted:
 * sipua_caplog_text()) rebuilds the same bytes as the formatted pieces,
 * the indent found across the two parts too; anything but a line's text
 * inside a message is refused (the caller formats it) */
UNIT_TEST(test_text_unformatted, "text_unformatted")
{
	static const char want[] = "INVITE sip:x SIP/2.0\r\n"
				   "Via: SIP/2.0/TLS [::1]:5061\r\n"
				   "Call-ID: z\r\n\r\n"
				   "v=0\no=- 1 1 IN IP6 ::1";
	/* pairs (a, b); a NULL a: b is a formatted piece */
	const char *const p[][2] = {
		{NULL, NULL}, {"   ", "INVITE sip:x SIP/2.0"}, {NULL, "\n"},
		{"   ", "Via: SIP/2.0/TLS "}, {"", "[::1]:5061"}, {NULL, "\n"},
		{" ", "  Call-ID: z"}, {NULL, "\n"}, {"   ", ""}, {NULL, "\n"},
		{"", "   v=0"}, {NULL, "\n"}, {"   ", "o=- 1 1 IN IP6 ::1"},
		{NULL, "\n" SEP}};
	struct sipua_caplog cl = {0};
	enum sipua_caplog_res r = SIPUA_CAPLOG_OTHER;
	char stamp[160];

	snprintf(stamp, sizeof(stamp),
		 "send %zu bytes to tls/[::1]:5061 at 00:00:00.000001:\n" SEP,
		 strlen(want));
	CU_ASSERT(!sipua_caplog_text(&cl, "   ", 3, "x", 1)); /* no message */
	for (size_t i = 0; i < sizeof(p) / sizeof(p[0]); ++i) {
		const char *b = i ? p[i][1] : stamp;

		if (p[i][0]) {
			CU_ASSERT(sipua_caplog_text(&cl, p[i][0],
						    strlen(p[i][0]), b,
						    strlen(b)));
			continue;
		}
		if (i)
			CU_ASSERT(!sipua_caplog_text(&cl, "", 0, b,
						     strlen(b)));
		r = sipua_caplog_piece(&cl, b, strlen(b), false);
	}
	CU_ASSERT_EQUAL(r, SIPUA_CAPLOG_MSG);
	CU_ASSERT(cl.len == strlen(want) && !memcmp(cl.buf, want, cl.len));
	CU_ASSERT_EQUAL(cl.n_inexact, 0);
	sipua_caplog_reset(&cl);
}


/* every line with bare LF; then a message Sofia truncated (kept as
 * logged, counted inexact); the truncation note is taken, not passed on */
UNIT_TEST(test_lf_and_truncated, "lf_and_truncated")
{
	const char *const lf[] = {
		"recv 21 bytes from tcp/[10.0.0.1]:5060 at 00:00:00.000001:\n" SEP,
		"   SIP/2.0 200 OK", "\n", "   i: q", "\n", "   ", "\n", SEP,
		NULL};
	const char *const cut[] = {
		"recv 5000 bytes from tcp/[10.0.0.1]:5060 at 00:00:00.000001:\n" SEP,
		"   SIP/2.0 200 OK", "\n", "   i: q", "\n" SEP, NULL};
	static const char trunc[] = "   *** message truncated at 20 ***\n";
	struct sipua_caplog cl = {0};

	CU_ASSERT_EQUAL(feed(&cl, lf), SIPUA_CAPLOG_MSG);
	CU_ASSERT_EQUAL(cl.meta.tp, SW_TP_TCP);
	CU_ASSERT(cl.len == 21 &&
		  !memcmp(cl.buf, "SIP/2.0 200 OK\ni: q\n\n", 21));
	CU_ASSERT_EQUAL(feed(&cl, cut), SIPUA_CAPLOG_MSG);
	CU_ASSERT(cl.len == 20 &&
		  !memcmp(cl.buf, "SIP/2.0 200 OK\r\ni: q", 20));
	CU_ASSERT_EQUAL(cl.n_inexact, 1);
	CU_ASSERT_EQUAL(sipua_caplog_piece(&cl, trunc, strlen(trunc), false),
			SIPUA_CAPLOG_TAKEN);
	CU_ASSERT_EQUAL(cl.n_msgs, 2);
	sipua_caplog_reset(&cl);
}


/* what is not a stamp outside a message is Sofia's own diagnostics */
UNIT_TEST(test_other_lines, "other_lines")
{
	static const char *const other[] = {
		"nta: timer not set\n",
		"recv 12 bytes from udp/[127.0.0.1]:5060 at 1:\n", /* no SEP */
		"recv x bytes from udp/[127.0.0.1]:5060 at 1:\n" SEP,
		"recv 12 bytes to udp/[127.0.0.1]:5060 at 1:\n" SEP,
		"send 12 bytes from udp/[127.0.0.1]:5060 at 1:\n" SEP,
		"recv 12 bytes from udp[127.0.0.1]:5060 at 1:\n" SEP,
		SEP, "\n", "", "   ", "re", NULL};
	struct sipua_caplog cl = {0};

	for (unsigned i = 0; other[i]; ++i) {
		CU_ASSERT_EQUAL(sipua_caplog_piece(&cl, other[i],
						   strlen(other[i]), false),
				SIPUA_CAPLOG_OTHER);
		CU_ASSERT(!cl.in_msg);
	}
	CU_ASSERT_EQUAL(sipua_caplog_piece(NULL, "x", 1, false),
			SIPUA_CAPLOG_OTHER);
	CU_ASSERT_EQUAL(sipua_caplog_piece(&cl, NULL, 0, false),
			SIPUA_CAPLOG_OTHER);
	CU_ASSERT_EQUAL(cl.n_msgs, 0);
	sipua_caplog_reset(&cl);
}


/* taken but dropped: a transport without a pcap form, a bad address or
 * port, a size over the limit, a piece longer than Sofia's lines */
UNIT_TEST(test_skipped, "skipped")
{
	static const char *const stamps[] = {
		"recv 9 bytes from sctp/[127.0.0.1]:5060 at 1:\n" SEP,
		"recv 9 bytes from udp/[127.0.0.999]:5060 at 1:\n" SEP,
		"recv 9 bytes from udp/[127.0.0.1]:70000 at 1:\n" SEP,
		"recv 999999999 bytes from udp/[127.0.0.1]:5060 at 1:\n" SEP,
		NULL};
	struct sipua_caplog cl = {0};
	unsigned n = 0;

	for (; stamps[n]; ++n) {
		const char *const p[] = {stamps[n], "   SIP/2.0 200 OK", "\n",
					 "   i: a", "\n", SEP, NULL};

		CU_ASSERT_EQUAL(feed(&cl, p), SIPUA_CAPLOG_TAKEN);
	}
	{
		const char *const p[] = {
			"recv 9 bytes from udp/[127.0.0.1]:5060 at 1:\n" SEP,
			"   SIP/2.0 200 OK", NULL};

		CU_ASSERT_EQUAL(feed(&cl, p), SIPUA_CAPLOG_TAKEN);
		CU_ASSERT_EQUAL(sipua_caplog_piece(&cl, "   x", 4, true),
				SIPUA_CAPLOG_TAKEN);
		CU_ASSERT_EQUAL(sipua_caplog_piece(&cl, SEP, strlen(SEP),
						   false),
				SIPUA_CAPLOG_TAKEN);
		++n;
	}
	CU_ASSERT_EQUAL(cl.n_skipped, n);
	CU_ASSERT_EQUAL(cl.n_msgs, 0);
	/* and the next good message comes through */
	{
		const char *const p[] = {
			"recv 16 bytes from udp/[127.0.0.1]:5060 at 1:\n" SEP,
			"   SIP/2.0 200 OK", "\n", SEP, NULL};

		CU_ASSERT_EQUAL(feed(&cl, p), SIPUA_CAPLOG_MSG);
		CU_ASSERT_EQUAL(cl.len, 16);
		CU_ASSERT_EQUAL(cl.n_inexact, 0);
	}
	sipua_caplog_reset(&cl);
}


/* longer than SW_SIP_MSG_MAX in pieces although the stamp said less */
UNIT_TEST(test_too_long, "too_long")
{
	static char line[2048];
	struct sipua_caplog cl = {0};
	const char *const st[] = {
		"recv 100 bytes from udp/[127.0.0.1]:5060 at 1:\n" SEP, NULL};

	memset(line, 'a', sizeof(line) - 1);
	CU_ASSERT_EQUAL(feed(&cl, st), SIPUA_CAPLOG_TAKEN);
	for (size_t n = 0; n <= SW_SIP_MSG_MAX; n += sizeof(line) - 1)
		sipua_caplog_piece(&cl, line, sizeof(line) - 1, false);
	CU_ASSERT(cl.len <= SW_SIP_MSG_MAX);
	CU_ASSERT_EQUAL(sipua_caplog_piece(&cl, SEP, strlen(SEP), false),
			SIPUA_CAPLOG_TAKEN);
	CU_ASSERT_EQUAL(cl.n_skipped, 1);
	sipua_caplog_reset(&cl);
}


UNIT_TEST(test_call_id, "call_id")
{
	static const struct {
		const char *msg, *cid;
	} t[] = {
		{"INVITE x SIP/2.0\r\nCall-ID: a@b\r\n\r\n", "a@b"},
		{"INVITE x SIP/2.0\r\nVia: y\r\ni:  c-1 \t\r\n", "c-1"},
		{"SIP/2.0 200 OK\ncall-id\t:zz\n", "zz"},
		{"SIP/2.0 200 OK\r\nX: 1\r\n Call-ID: folded\r\nCALL-ID: k", "k"},
		{"SIP/2.0 200 OK\r\n\r\nCall-ID: in-the-body\r\n", NULL},
		{"SIP/2.0 200 OK\r\nCall-ID:   \r\n", NULL},
		{"SIP/2.0 200 OK\r\nCall-IDs: x\r\n", NULL},
		{"Call-ID: on-the-start-line", NULL},
		{"", NULL},
	};

	for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); ++i) {
		size_t off = 0, n = 0;
		bool found = sipua_caplog_call_id(t[i].msg, strlen(t[i].msg),
						  &off, &n);

		CU_ASSERT_EQUAL(found, t[i].cid != NULL);
		if (found && t[i].cid)
			CU_ASSERT(n == strlen(t[i].cid) &&
				  !memcmp(t[i].msg + off, t[i].cid, n));
	}
	CU_ASSERT(!sipua_caplog_call_id(NULL, 0, &(size_t){0}, &(size_t){0}));
}


/* The gateway's own tag of a leg, from the To of its responses (leg A)
 * or the From of its requests */
UNIT_TEST(test_caplog_tag, "tag")
{
	static const struct {
		const char *msg;
		bool to;
		const char *tag;
	} t[] = {
		{"SIP/2.0 403 F\r\nTo: <sip:a@b>;tag=gw7\r\n\r\n", true,
		 "gw7"},
		{"SIP/2.0 200 OK\r\nt: \"X\" <sip:a@b;tag=uri>; TAG = k9 ;x\r\n",
		 true, "k9"},
		{"INVITE x SIP/2.0\r\nFrom: sip:a@b;tag=f1,x\r\nTo: <sip:c>\r\n",
		 false, "f1"},
		{"INVITE x SIP/2.0\r\nFrom: sip:a@b;tag=f1\r\nTo: <sip:c>\r\n",
		 true, NULL},
		{"SIP/2.0 180 R\r\nTo: <sip:a@b;tag=in-uri>\r\n", true, NULL},
		{"SIP/2.0 180 R\r\nTo: <sip:a@b;tag=x\r\n", true, NULL},
		{"SIP/2.0 180 R\r\nTo: <sip:a@b>;tag=\r\n", true, NULL},
		{"SIP/2.0 180 R\r\nTo: <sip:a@b>;tagx=1\r\n", true, NULL},
		{"SIP/2.0 180 R\r\n\r\nTo: <sip:a@b>;tag=body\r\n", true, NULL},
	};

	for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); ++i) {
		size_t off = 0, n = 0;
		bool found = sipua_caplog_tag(t[i].msg, strlen(t[i].msg),
					      t[i].to, &off, &n);

		CU_ASSERT_EQUAL(found, t[i].tag != NULL);
		if (found && t[i].tag)
			CU_ASSERT(n == strlen(t[i].tag) &&
				  !memcmp(t[i].msg + off, t[i].tag, n));
	}
	CU_ASSERT(!sipua_caplog_tag(NULL, 0, true, &(size_t){0},
				    &(size_t){0}));
}


/* A message taken whole from Sofia's buffers (sipua_cap.c's
 * tport_log_msg()): the bytes as they are, where the log would cut a line
 * over 2047 bytes and stop at a NUL; what has no pcap form is dropped */
UNIT_TEST(test_whole, "whole message from Sofia's buffers")
{
	static char head[] = "INVITE sip:x SIP/2.0\r\nCall-ID: w\r\nX-Long: ";
	static char tail[] = "\r\nContent-Length: 3\r\n\r\na\0b";
	char *lng = malloc(3000), *big;
	struct sipua_caplog_part parts[3];
	struct sipua_caplog_meta m = {0};
	struct sipua_caplog cl = {0};

	CU_ASSERT_FATAL(lng != NULL);
	memset(lng, 'z', 3000);
	parts[0] = (struct sipua_caplog_part){head, strlen(head)};
	parts[1] = (struct sipua_caplog_part){lng, 3000};
	parts[2] = (struct sipua_caplog_part){tail, sizeof(tail) - 1};
	m.received = true;
	m.tp = SW_TP_TCP;
	CU_ASSERT_EQUAL(sw_sa_set_ip(&m.peer, "192.0.2.7", 5060), 0);
	CU_ASSERT_EQUAL(sipua_caplog_whole(&cl, &m, true, parts, 3),
			SIPUA_CAPLOG_MSG);
	CU_ASSERT_EQUAL_FATAL(cl.len, strlen(head) + 3000 + sizeof(tail) - 1);
	CU_ASSERT(!memcmp(cl.buf, head, strlen(head)));
	CU_ASSERT(!memcmp(cl.buf + strlen(head), lng, 3000));
	CU_ASSERT(!memcmp(cl.buf + strlen(head) + 3000, tail,
			  sizeof(tail) - 1));
	CU_ASSERT(cl.meta.received && cl.meta.tp == SW_TP_TCP &&
		  sw_sa_cmp(&cl.meta.peer, &m.peer, true) && cl.meta.t_us > 0);
	CU_ASSERT_EQUAL(cl.n_msgs, 1);
	CU_ASSERT_EQUAL(cl.n_inexact, 0);
	/* no pcap form (sctp), nothing at all, larger than any SIP message */
	CU_ASSERT_EQUAL(sipua_caplog_whole(&cl, &m, false, parts, 3),
			SIPUA_CAPLOG_TAKEN);
	CU_ASSERT_EQUAL(sipua_caplog_whole(&cl, &m, true, parts, 0),
			SIPUA_CAPLOG_TAKEN);
	big = calloc(1, SW_SIP_MSG_MAX + 1);
	CU_ASSERT_FATAL(big != NULL);
	parts[1] = (struct sipua_caplog_part){big, SW_SIP_MSG_MAX + 1};
	CU_ASSERT_EQUAL(sipua_caplog_whole(&cl, &m, true, parts, 2),
			SIPUA_CAPLOG_TAKEN);
	CU_ASSERT_EQUAL(cl.n_skipped, 3);
	CU_ASSERT_EQUAL(cl.n_msgs, 1);
	free(big);
	free(lng);
	sipua_caplog_reset(&cl);
}


/* libsofia-sip-ua's calls to tport_log_msg() land in sipua_cap.c's (the
 * executable's definition interposes: exported, called through Sofia's
 * PLT), else every message would be printed and parsed back again */
UNIT_TEST(test_interposed, "tport_log_msg interposed")
{
	void *ours = dlsym(RTLD_DEFAULT, "tport_log_msg");
	void *sofia = dlsym(RTLD_NEXT, "tport_log_msg");
	void *here = (void *)(uintptr_t)sipua_caplog_reset;
	Dl_info a, b;

	CU_ASSERT_FATAL(ours != NULL && sofia != NULL);
	CU_ASSERT(ours != sofia);
	CU_ASSERT_FATAL(dladdr(ours, &a) && dladdr(here, &b));
	CU_ASSERT_PTR_EQUAL(a.dli_fbase, b.dli_fbase);
}


UNIT_SUITE("sipcap", NULL, NULL, NULL, NULL);
