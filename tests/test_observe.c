/**
 * @file test_observe.c  What an operator observes the daemon with: the
 * HEPv3 encoder and sender (base/sw_hep.c), the Prometheus text writer
 * (src/metrics/sw_prom.c), the per-module log levels and the syslog
 * facility (base/sw_log.c).
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SW_LOG_MODULE "sip"
#include "sw_hep.h"
#include "sw_log.h"
#include "sw_prom.h"
#include "unit.h"

/* The HEP3 rev 37 layout written out by hand, chunk by chunk */
static const uint8_t hep_v4[] = {
	'H', 'E', 'P', '3', 0x00, 0x7b,
	0, 0, 0, 0x01, 0, 7, 2,                    /* IPv4 */
	0, 0, 0, 0x02, 0, 7, 17,                   /* UDP */
	0, 0, 0, 0x03, 0, 10, 192, 0, 2, 1,        /* source */
	0, 0, 0, 0x04, 0, 10, 192, 0, 2, 2,        /* destination */
	0, 0, 0, 0x07, 0, 8, 0x13, 0xc4,           /* 5060 */
	0, 0, 0, 0x08, 0, 8, 0x13, 0xc5,           /* 5061 */
	0, 0, 0, 0x09, 0, 10, 0x65, 0x53, 0xf1, 0x00, /* 1700000000 s */
	0, 0, 0, 0x0a, 0, 10, 0x00, 0x01, 0xe2, 0x40, /* 123456 us */
	0, 0, 0, 0x0b, 0, 7, 1,                    /* SIP */
	0, 0, 0, 0x0c, 0, 10, 0, 0, 0x07, 0xd1,    /* capture id 2001 */
	0, 0, 0, 0x11, 0, 9, 'a', 'b', 'c',        /* correlation */
	0, 0, 0, 0x13, 0, 8, 'n', '1',             /* node */
	0, 0, 0, 0x0f, 0, 13, 'O', 'P', 'T', 'I', 'O', 'N', 'S',
};


static void hep_msg(struct sw_hep_msg *m, struct sw_sa *s, struct sw_sa *d)
{
	sw_sa_parse(s, "192.0.2.1:5060", 0);
	sw_sa_parse(d, "192.0.2.2:5061", 0);
	memset(m, 0, sizeof(*m));
	m->src = s;
	m->dst = d;
	m->ip_proto = 17;
	m->t_us = 1700000000123456LL;
	m->proto_type = SW_HEP_SIP;
	m->capture_id = 2001;
	m->correlation = "abc";
	m->node = "n1";
	m->payload = "OPTIONS";
	m->len = 7;
}


UNIT_TEST(test_hep_bytes, "HEPv3 packet, byte for byte")
{
	struct sw_sa s, d;
	struct sw_hep_msg m;
	uint8_t out[256];
	size_t n;

	hep_msg(&m, &s, &d);
	n = sw_hep_encode(&m, out, sizeof(out));
	CU_ASSERT_EQUAL(n, sizeof(hep_v4));
	CU_ASSERT(n == sizeof(hep_v4) && !memcmp(out, hep_v4, n));
	/* a buffer one byte short: nothing, not a cut packet */
	CU_ASSERT_EQUAL(sw_hep_encode(&m, out, sizeof(hep_v4) - 1), 0);
	/* IPv6: 16-byte address chunks 0x0005 and 0x0006 */
	sw_sa_parse(&s, "[2001:db8::1]:5060", 0);
	sw_sa_parse(&d, "[2001:db8::2]:5061", 0);
	n = sw_hep_encode(&m, out, sizeof(out));
	CU_ASSERT_EQUAL(n, sizeof(hep_v4) + 2 * 12);
	CU_ASSERT(out[22] == 0 && out[23] == 0x05 && out[25] == 22);
	CU_ASSERT_EQUAL(out[19], 17);
	CU_ASSERT_EQUAL(out[12], 10); /* AF_INET6 as HEP says it */
	/* mixed families cannot be one packet */
	sw_sa_parse(&d, "192.0.2.2:5061", 0);
	CU_ASSERT_EQUAL(sw_hep_encode(&m, out, sizeof(out)), 0);
}


/* What the sender puts on the wire is the encoder's packet, with its own
 * capture id, node and password */
UNIT_TEST(test_hep_send, "HEPv3 sender: the encoder's packet")
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t al = sizeof(a);
	struct sw_sa coll, s, d;
	struct sw_hep_msg m;
	struct sw_hep *h;
	uint8_t got[512], want[512];
	ssize_t n;
	size_t wn;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CU_ASSERT_FATAL(fd >= 0 && !bind(fd, (struct sockaddr *)&a, al) &&
			!getsockname(fd, (struct sockaddr *)&a, &al));
	memset(&coll, 0, sizeof(coll));
	memcpy(&coll.u.in, &a, sizeof(a));
	CU_ASSERT_FATAL(sw_hep_open(&h, &coll, 77, "node-x", "pw") == 0);
	hep_msg(&m, &s, &d);
	CU_ASSERT_EQUAL(sw_hep_send(h, &m), 0);
	n = recv(fd, got, sizeof(got), 0);
	m.capture_id = 77;
	m.node = "node-x";
	m.password = "pw";
	wn = sw_hep_encode(&m, want, sizeof(want));
	CU_ASSERT(n > 0 && (size_t)n == wn && !memcmp(got, want, wn));
	CU_ASSERT_EQUAL(atomic_load(&h->sent), 1);
	sw_hep_close(h);
	close(fd);
}


UNIT_TEST(test_log_modules, "log levels per module, facility")
{
	int lv[64], fac;
	char err[256];
	int sip = sw_log_module_index("sip"), turn = sw_log_module_index("turn");

	CU_ASSERT_FATAL(sip >= 0 && turn >= 0);
	CU_ASSERT_EQUAL(sw_log_modules_parse("sip=debug, turn=error", lv, err,
					     sizeof(err)), 0);
	CU_ASSERT_EQUAL(lv[sip], SW_LOG_DEBUG);
	CU_ASSERT_EQUAL(lv[turn], SW_LOG_ERROR);
	CU_ASSERT_EQUAL(lv[sw_log_module_index("gw")], SW_LOG_MOD_FOLLOW);
	CU_ASSERT_NOT_EQUAL(sw_log_modules_parse("sipp=debug", lv, err,
						 sizeof(err)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "no module 'sipp'"));
	CU_ASSERT_NOT_EQUAL(sw_log_modules_parse("sip=loud", lv, err,
						 sizeof(err)), 0);
	CU_ASSERT_NOT_EQUAL(sw_log_modules_parse("sip", lv, err, sizeof(err)),
			    0);
	/* a module raised above the global level, the others not */
	sw_log_set_level(SW_LOG_WARN);
	sw_log_modules_parse("sip=debug", lv, err, sizeof(err));
	sw_log_modules_apply(lv);
	CU_ASSERT_TRUE(sw_log_enabled(SW_LOG_DEBUG)); /* this file is "sip" */
	CU_ASSERT_FALSE(sw_log_enabled_mod(SW_LOG_INFO, "turn"));
	CU_ASSERT_TRUE(sw_log_enabled_mod(SW_LOG_WARN, "turn"));
	CU_ASSERT_FALSE(sw_log_enabled_mod(SW_LOG_INFO, "not-a-module"));
	/* and lowered below it */
	sw_log_module_set((unsigned)sip, SW_LOG_ERROR);
	CU_ASSERT_FALSE(sw_log_enabled(SW_LOG_WARN));
	CU_ASSERT_TRUE(sw_log_enabled_mod(SW_LOG_WARN, "gw"));
	sw_log_modules_parse("", lv, err, sizeof(err));
	sw_log_modules_apply(lv);
	sw_log_set_level(SW_LOG_ERROR);
	CU_ASSERT_EQUAL(sw_log_facility_parse("local3", &fac), 0);
	CU_ASSERT_EQUAL(fac, 19 << 3);
	CU_ASSERT_NOT_EQUAL(sw_log_facility_parse("kern", &fac), 0);
}


/* The text format: HELP/TYPE then samples; a histogram's buckets
 * cumulative, le="+Inf" equal to _count, the sum in seconds */
UNIT_TEST(test_prom, "Prometheus text format, histograms")
{
	static const struct sw_hist_bounds b = {3, {0.1, 0.5, 2}};
	struct sw_hist h;
	struct sw_prom p;

	sw_hist_init(&h, &b);
	sw_hist_observe(&h, 50000);   /* 0.05 s: le 0.1 */
	sw_hist_observe(&h, 100000);  /* 0.1 s: le 0.1 (le is inclusive) */
	sw_hist_observe(&h, 700000);  /* le 2 */
	sw_hist_observe(&h, 9000000); /* above every bound */
	sw_prom_init(&p);
	sw_prom_family(&p, "x_total", "counter", "X.");
	sw_prom_u64(&p, "x_total", "a=\"b\"", 7);
	sw_prom_u64(&p, "x_total", NULL, 18446744073709551615ull);
	sw_prom_hist(&p, "d_seconds", "D.", &h);
	CU_ASSERT_FATAL(!p.err && p.buf);
	CU_ASSERT_STRING_EQUAL(p.buf,
		"# HELP x_total X.\n# TYPE x_total counter\n"
		"x_total{a=\"b\"} 7\n"
		"x_total 18446744073709551615\n"
		"# HELP d_seconds D.\n# TYPE d_seconds histogram\n"
		"d_seconds_bucket{le=\"0.1\"} 2\n"
		"d_seconds_bucket{le=\"0.5\"} 2\n"
		"d_seconds_bucket{le=\"2\"} 3\n"
		"d_seconds_bucket{le=\"+Inf\"} 4\n"
		"d_seconds_sum 9.850000\n"
		"d_seconds_count 4\n");
	CU_ASSERT_EQUAL(p.len, strlen(p.buf));
	sw_prom_free(&p);
	/* a page larger than the first buffer grows, whole */
	sw_prom_init(&p);
	for (int i = 0; i < 2000; ++i)
		sw_prom_u64(&p, "a_long_metric_name_total", "k=\"v\"", (uint64_t)i);
	CU_ASSERT(!p.err && p.len == strlen(p.buf) && p.len > 16384);
	CU_ASSERT_PTR_NOT_NULL(strstr(p.buf, "a_long_metric_name_total{k=\"v\"} 1999\n"));
	sw_prom_free(&p);
}


UNIT_SUITE("observe", NULL, NULL, NULL, NULL);
