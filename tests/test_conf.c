/**
 * @file test_conf.c  shareway.conf loader and the shared INI reader.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "sw_addr.h"
#include "sw_check.h"
#include "sw_cluview.h"
#include "sw_conf.h"
#include "sw_idmap.h"
#include "sw_ini.h"
#include "sw_log.h"
#include "sw_mq.h"

static char tmpdir[] = "/tmp/swconfXXXXXX";


static const char *write_conf(const char *name, const char *text)
{
	static char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	CU_ASSERT_FATAL(f != NULL);
	fputs(text, f);
	fclose(f);
	return path;
}


static int load(const char *text, char *err, size_t errsz)
{
	static struct sw_conf conf;

	return sw_conf_load(&conf, write_conf("t.conf", text), err, errsz);
}


UNIT_TEST(test_defaults, "defaults")
{
	static struct sw_conf conf;

	sw_conf_defaults(&conf);
	CU_ASSERT_EQUAL(conf.turn_port_min, 49152);
	CU_ASSERT_EQUAL(conf.turn_port_max, 65535);
	CU_ASSERT_EQUAL(conf.turn_bind_timeout, 30);
	CU_ASSERT_EQUAL(conf.as_check_timeout, 30);
	CU_ASSERT_STRING_EQUAL(conf.turn_realm, "shareway");
	CU_ASSERT(conf.turn_enable);
	CU_ASSERT_EQUAL(conf.sip_max_uri_length, 1024);
}


UNIT_TEST(test_shipped_conf, "shipped conf/shareway.conf")
{
	static struct sw_conf conf;
	char path[512], err[512] = "";
	int e;

	snprintf(path, sizeof(path), "%s/../../conf/shareway.conf",
		 unit_data_dir());
	e = sw_conf_load(&conf, path, err, sizeof(err));
	if (e)
		fprintf(stderr, "%s\n", err);
	CU_ASSERT_EQUAL(e, 0);
	CU_ASSERT(conf.n_sip_listen >= 1);
	CU_ASSERT(conf.n_turn_listen >= 1);
	CU_ASSERT(conf.n_zones >= 2);
}


UNIT_TEST(test_values, "values and lists")
{
	static struct sw_conf conf;
	char err[512] = "";
	const char *p = write_conf(
		"v.conf",
		"# comment\n[general]\nrelay_threads = 2\n"
		"[turn]\nlisten = udp:127.0.0.1:3478 tcp:[::1]:3478\n"
		"listen = tcp:127.0.0.1:3479\n"
		"relay_ports = 40000-40100\nuser = cms:sec ret\n"
		"user = a:b\ndeny_peer = 10.0.0.0/8 ::ffff:0:0/96\n"
		"realm = TANDBERG\n"
		"[zone edge]\nmatch.source = 127.0.0.2/32\ntransport = tls\n"
		"edge = yes\nfqdn = sbc-1.Edge.example.com\n"
		"[zone cms]\ntarget = sip:127.0.0.1:5080\nfqdn = 2001:db8::7\n");

	CU_ASSERT_EQUAL_FATAL(sw_conf_load(&conf, p, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(conf.relay_threads, 2);
	CU_ASSERT_EQUAL(conf.n_turn_listen, 3);
	CU_ASSERT_EQUAL(conf.turn_listen[1].tp, SW_TP_TCP);
	CU_ASSERT_EQUAL(sw_sa_af(&conf.turn_listen[1].addr), AF_INET6);
	CU_ASSERT_EQUAL(conf.turn_port_min, 40000);
	CU_ASSERT_EQUAL(conf.n_turn_users, 2);
	CU_ASSERT_STRING_EQUAL(conf.turn_users[0].password, "sec ret");
	CU_ASSERT_EQUAL(conf.n_turn_deny, 2);
	CU_ASSERT_EQUAL(conf.n_zones, 2);
	CU_ASSERT(conf.zones[0].edge);
	CU_ASSERT_EQUAL(conf.zones[0].transport, SW_TP_TLS);
	CU_ASSERT_EQUAL(conf.zones[1].invite_timeout, 32);
	CU_ASSERT_STRING_EQUAL(conf.zones[0].fqdn, "sbc-1.Edge.example.com");
	CU_ASSERT_STRING_EQUAL(conf.zones[1].fqdn, "2001:db8::7");
	CU_ASSERT_PTR_NOT_NULL(sw_conf_zone_find(&conf, "cms"));
}


UNIT_TEST(test_errors, "errors name file:line:key")
{
	char err[512];

	CU_ASSERT_NOT_EQUAL(load("[turn]\nbogus = 1\n", err, sizeof(err)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "t.conf:2:bogus"));
	CU_ASSERT_NOT_EQUAL(
		load("[general]\n\nrelay_threads = 99\n", err, sizeof(err)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, ":3:relay_threads"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "out of range 1..64"));
	/* the routing buffers hold SW_CONF_MAX_URI bytes, no more */
	CU_ASSERT_NOT_EQUAL(load("[sip]\nmax_uri_length = 2048\n", err,
				 sizeof(err)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "out of range 64..2047"));
	CU_ASSERT_NOT_EQUAL(load("[nosuch]\n", err, sizeof(err)), 0);
	CU_ASSERT_NOT_EQUAL(load("relay_threads = 1\n", err, sizeof(err)), 0);
	CU_ASSERT_NOT_EQUAL(load("[turn]\nlisten = sctp:1.2.3.4:1\n", err,
				 sizeof(err)),
			    0);
	CU_ASSERT_NOT_EQUAL(load("[turn]\nrelay_ports = 9-8\n", err,
				 sizeof(err)),
			    0);
	CU_ASSERT_NOT_EQUAL(load("[zone a]\n[zone a]\n", err, sizeof(err)),
			    0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "defined twice"));
	CU_ASSERT_NOT_EQUAL(load("[turn\n", err, sizeof(err)), 0);
	CU_ASSERT_NOT_EQUAL(load("[turn]\nnovalue\n", err, sizeof(err)), 0);
	CU_ASSERT_NOT_EQUAL(load("[turn]\nlisten = tls:127.0.0.1:5349\n", err,
				 sizeof(err)),
			    0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "tls_cert"));
	/* what would not be a URI host as it is: a header injection, a
	 * scheme, an empty label, a label edge hyphen, a 64-byte label */
	static const char *const bad_hosts[] = {
		"gw.example.com>;x=1", "sip:gw.example.com", "gw..example.com",
		"-gw.example.com", "gw-.example.com", "gw.example.com.",
		"[::1]", "gw example.com",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com",
	};
	for (size_t i = 0; i < sizeof(bad_hosts) / sizeof(bad_hosts[0]); ++i) {
		char text[256];

		snprintf(text, sizeof(text), "[zone a]\nfqdn = %s\n",
			 bad_hosts[i]);
		CU_ASSERT_NOT_EQUAL(load(text, err, sizeof(err)), 0);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, ":2:fqdn"));
	}
	/* a key set twice is refused (last wins would hide the first),
	 * also across two [sip] sections and inside a zone */
	CU_ASSERT_NOT_EQUAL(load("[sip]\nmin_se = 100\n\nmin_se = 120\n", err,
				 sizeof(err)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "t.conf:4:min_se: set twice "
					   "(first at line 2)"));
	CU_ASSERT_NOT_EQUAL(load("[sip]\nmin_se = 100\n[turn]\n[sip]\n"
				 "min_se = 100\n", err, sizeof(err)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "t.conf:5:min_se"));
	CU_ASSERT_NOT_EQUAL(load("[zone a]\ntarget = sip:x\ntarget = sip:y\n",
				 err, sizeof(err)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "t.conf:3:target: set twice"));
	/* the same key in two sections, or in two zones, is no repeat */
	CU_ASSERT_EQUAL(load("[sip]\nlisten = udp:127.0.0.1:5060\n[turn]\n"
			     "listen = udp:127.0.0.1:3478\n[zone a]\nedge = "
			     "yes\n[zone b]\nedge = yes\n", err,
			     sizeof(err)), 0);
}


/* [zone] peer: "URI [priority=N] [weight=N]" per line, at most 8; what
 * the configuration check (sw_check_zones) refuses, by file:line:key */
UNIT_TEST(test_peers, "zone peer lists")
{
	static struct sw_conf conf;
	static const struct {
		const char *text, *err;
	} bad[] = {
		{"[zone c]\ntarget = sip:10.0.0.1\npeer = sip:10.0.0.2\n",
		 ":2:target: set together with peer lines"},
		{"[zone c]\npeer = sips:10.0.0.2\n",
		 ":2:peer: [zone c] sips:10.0.0.2 is a sips: URI, but"},
		{"[zone c]\npeer = tel:+15551234\n", "is not a sip: or sips:"},
		{"[zone c]\npeer = sip:\n", "sip: names no host"},
		{"[zone c]\npeer = sip:10.0.0.2\npeer = SIP:10.0.0.2\n",
		 ":3:peer: [zone c] SIP:10.0.0.2 listed twice (first at line 2)"},
		{"[zone c]\npeer = sip:10.0.0.2\nprobe_interval = 2\n"
		 "probe_timeout = 3\n", "probe_timeout"},
	};
	char err[512] = "";
	int e;

	e = sw_conf_load(&conf, write_conf("p.conf", "[zone c]\ntransport = "
				  "tls\npeer = sips:10.0.0.2:5061 priority=2 "
				  "weight=30\npeer = sips:cms.example.com\n"),
			 err, sizeof(err));
	CU_ASSERT_EQUAL_FATAL(e, 0);
	CU_ASSERT_EQUAL(conf.zones[0].n_peers, 2);
	CU_ASSERT_STRING_EQUAL(conf.zones[0].peers[0].uri,
			       "sips:10.0.0.2:5061");
	CU_ASSERT_EQUAL(conf.zones[0].peers[0].priority, 2);
	CU_ASSERT_EQUAL(conf.zones[0].peers[0].weight, 30);
	CU_ASSERT_EQUAL(conf.zones[0].peers[1].priority, 1);
	CU_ASSERT_EQUAL(conf.zones[0].peers[1].weight, 1);
	CU_ASSERT_EQUAL(conf.zones[0].peers[1].line, 4);
	CU_ASSERT_EQUAL(conf.zones[0].probe_interval, 10);
	CU_ASSERT_EQUAL(conf.zones[0].probe_timeout, 5);
	CU_ASSERT_EQUAL(sw_check_zones(&conf, err, sizeof(err)), 0);
	/* the loader refuses what is no peer line */
	CU_ASSERT_NOT_EQUAL(load("[zone c]\npeer = sip:10.0.0.2 weight=0\n",
				 err, sizeof(err)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, ":2:peer: 'sip:10.0.0.2 weight=0'"));
	CU_ASSERT_NOT_EQUAL(load("[zone c]\npeer = sip:10.0.0.2 prio=1\n",
				 err, sizeof(err)), 0);
	CU_ASSERT_NOT_EQUAL(load("[zone c]\npeer = sip:a\npeer = sip:b\n"
				 "peer = sip:c\npeer = sip:d\npeer = sip:e\n"
				 "peer = sip:f\npeer = sip:g\npeer = sip:h\n"
				 "peer = sip:i\n", err, sizeof(err)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, ":10:peer: too many values (max 8)"));
	/* the configuration check refuses what no call could use */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i) {
		CU_ASSERT_EQUAL_FATAL(sw_conf_load(&conf, write_conf("p.conf",
							bad[i].text),
						   err, sizeof(err)), 0);
		CU_ASSERT_NOT_EQUAL(sw_check_zones(&conf, err, sizeof(err)),
				    0);
		if (!strstr(err, bad[i].err))
			fprintf(stderr, "\n%s: '%s'\n", bad[i].err, err);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, bad[i].err));
	}
}


/* Lists add up across lines; the line of every key is kept for later
 * messages (sw_conf_fail) */
UNIT_TEST(test_key_lines, "key lines, lists repeat")
{
	static struct sw_conf conf;
	char err[512] = "";
	const char *p = write_conf(
		"l.conf", "[turn]\nuser = a:b\nuser = c:d\n"
			  "allow_peer = 10.0.0.0/8\nallow_peer = 10.1.0.0/16\n"
			  "[sip]\ntls_cert = x.pem\n[zone z]\n\ntls.ca = ca.pem\n");

	CU_ASSERT_EQUAL_FATAL(sw_conf_load(&conf, p, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(conf.n_turn_users, 2);
	CU_ASSERT_EQUAL(conf.n_turn_allow, 2);
	CU_ASSERT_EQUAL(sw_conf_key_line(&conf, "turn", NULL, "user"), 2);
	CU_ASSERT_EQUAL(sw_conf_key_line(&conf, "sip", NULL, "tls_cert"), 7);
	CU_ASSERT_EQUAL(sw_conf_key_line(&conf, "turn", NULL, "tls_cert"), 0);
	CU_ASSERT_EQUAL(sw_conf_key_line(&conf, NULL, &conf.zones[0],
					 "tls.ca"), 10);
	sw_conf_fail(&conf, "sip", NULL, "tls_cert", err, sizeof(err), "x%d",
		     1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "l.conf:7:tls_cert: x1"));
	sw_conf_fail(&conf, "turn", NULL, "tls_cert", err, sizeof(err), "y");
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "l.conf: [turn] tls_cert "
					   "(default): y"));
	sw_conf_fail(&conf, NULL, &conf.zones[0], "tls.key", err, sizeof(err),
		     "z");
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "l.conf:8: [zone z] tls.key (not "
					   "set): z"));
}


/* sw_log_limited(): a burst a second per call site, then a count of the
 * suppressed lines on the first line of a later second. */
/* What a reload cannot apply is named; what it applies is not */
UNIT_TEST(test_restart_keys, "what a reload cannot apply")
{
	static struct sw_conf a, b;
	const char *base = "[general]\nlog_level = info\n[sip]\n"
			   "listen = udp:127.0.0.1:5060\n[turn]\nuser = a:b\n"
			   "[zone e]\ntarget = sip:127.0.0.2\n";
	char err[512] = "", out[512];
	char text[1024];

	CU_ASSERT_EQUAL_FATAL(sw_conf_load(&a, write_conf("a.conf", base), err,
					   sizeof(err)), 0);
	/* the log level, users, a zone's target and a new plain zone: all
	 * applied by a reload */
	snprintf(text, sizeof(text), "[general]\nlog_level = debug\n[sip]\n"
		 "listen = udp:127.0.0.1:5060\n[turn]\nuser = c:d\n"
		 "static_auth_secret = s\n[zone e]\ntarget = sip:127.0.0.9\n"
		 "[zone new]\nmatch.source = 10.0.0.1\n");
	CU_ASSERT_EQUAL_FATAL(sw_conf_load(&b, write_conf("b.conf", text), err,
					   sizeof(err)), 0);
	sw_conf_restart_keys(&a, &b, out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, "");
	/* a listener, a zone's TLS identity and a zone's own listener */
	snprintf(text, sizeof(text), "[general]\nlog_level = info\n[sip]\n"
		 "listen = udp:127.0.0.1:5062\n[turn]\nuser = a:b\n"
		 "[zone e]\ntarget = sip:127.0.0.2\ntls.verify = yes\n"
		 "[zone z]\nlisten = udp:127.0.0.1:5070\n");
	CU_ASSERT_EQUAL_FATAL(sw_conf_load(&b, write_conf("b.conf", text), err,
					   sizeof(err)), 0);
	sw_conf_restart_keys(&a, &b, out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, "[sip] listen, [zone e] tls.verify, "
				    "[zone z] listen");
}


UNIT_TEST(test_log_ratelimit, "log rate limit per kind")
{
	struct sw_log_rl rl = {0};
	unsigned sup, reported = 0, passed = 0;
	unsigned long long before = sw_log_suppressed_total();

	for (int i = 0; i < 100; ++i) {
		if (sw_log_rl_pass(&rl, SW_LOG_RL_BURST, &sup))
			passed++;
		reported += sup;
	}
	/* 2 bursts if the loop happened to cross a second */
	CU_ASSERT(passed >= SW_LOG_RL_BURST && passed <= 2 * SW_LOG_RL_BURST);
	CU_ASSERT_EQUAL(sw_log_suppressed_total() - before, 100 - passed);
	/* the next second: its first line carries what was suppressed */
	atomic_fetch_sub(&rl.sec, 1);
	CU_ASSERT_TRUE(sw_log_rl_pass(&rl, SW_LOG_RL_BURST, &sup));
	CU_ASSERT_EQUAL(reported + sup, 100 - passed);
	CU_ASSERT_TRUE(sw_log_rl_pass(&rl, SW_LOG_RL_BURST, &sup));
	CU_ASSERT_EQUAL(sup, 0);
}


static int setup(void)
{
	return mkdtemp(tmpdir) ? 0 : -1;
}


static int teardown(void)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}


/* The 300 ALTERNATE-SERVER target: the least-loaded active instance
 * other than this one, with a TURN address and ports; the same pick from
 * the same view on every instance */
UNIT_TEST(test_cluview_pick, "cluster view: least-loaded instance")
{
	struct sw_cluview v;
	const struct sw_cluview_inst *p;
	static const struct {
		const char *name, *turn;
		enum sw_inst_state st;
		uint32_t allocs, calls, ports;
		bool self;
	} in[] = {
		{"a", "127.0.0.11:3478", SW_INST_ACTIVE, 0, 0, 100, true},
		{"b", "127.0.0.12:3478", SW_INST_DRAINING, 0, 0, 100, false},
		{"c", "127.0.0.13:3478", SW_INST_GONE, 0, 0, 100, false},
		{"d", "", SW_INST_ACTIVE, 0, 0, 100, false},
		{"e", "127.0.0.15:3478", SW_INST_ACTIVE, 5, 1, 100, false},
		{"f", "127.0.0.16:3478", SW_INST_ACTIVE, 5, 0, 0, false},
		{"g", "127.0.0.17:3478", SW_INST_ACTIVE, 5, 1, 200, false},
		{"h", "127.0.0.18:3478", SW_INST_ACTIVE, 9, 0, 900, false},
	};
	enum sw_inst_state st;

	memset(&v, 0, sizeof(v));
	CU_ASSERT_PTR_NULL(sw_cluview_least_loaded(&v));
	for (unsigned i = 0; i < sizeof(in) / sizeof(in[0]); ++i) {
		struct sw_cluview_inst *c = &v.inst[v.n++];

		snprintf(c->name, sizeof(c->name), "%s", in[i].name);
		if (in[i].turn[0])
			sw_sa_parse(&c->turn, in[i].turn, 3478);
		c->state = in[i].st;
		c->allocs = in[i].allocs;
		c->calls = in[i].calls;
		c->ports_free = in[i].ports;
		c->self = in[i].self;
	}
	p = sw_cluview_least_loaded(&v);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_STRING_EQUAL(p->name, "g"); /* e ties: fewer ports free */
	v.inst[6].state = SW_INST_DRAINING;
	CU_ASSERT_STRING_EQUAL(sw_cluview_least_loaded(&v)->name, "e");
	CU_ASSERT_EQUAL(sw_inst_state_parse("draining", &st), 0);
	CU_ASSERT_EQUAL(st, SW_INST_DRAINING);
	CU_ASSERT_NOT_EQUAL(sw_inst_state_parse("up", &st), 0);
	CU_ASSERT_STRING_EQUAL(sw_inst_state_name(SW_INST_GONE), "gone");
}


/* Has a push made the consumer's eventfd readable since the last look? */
static bool mq_woken(struct sw_mq *mq)
{
	uint64_t v;

	return read(sw_mq_fd(mq), &v, sizeof(v)) == sizeof(v);
}


/* The call-log writer defers wake-ups while its batch is open: a push
 * writes the eventfd only at half capacity then, and turning deferral
 * off tells what is waiting (no push woke the consumer for it) */
UNIT_TEST(test_mq_defer, "value queue: deferred wake-ups")
{
	struct sw_mq *mq = NULL;
	int v = 0;

	CU_ASSERT_FATAL(sw_mq_alloc(&mq, sizeof(int), 8) == 0);
	CU_ASSERT(sw_mq_push(mq, &v) == 0);
	CU_ASSERT(mq_woken(mq));      /* empty -> one message: a wake-up */
	CU_ASSERT(sw_mq_push(mq, &v) == 0);
	CU_ASSERT(!mq_woken(mq));     /* not empty: the consumer knows */
	CU_ASSERT(sw_mq_defer(mq, true) == 2);
	while (sw_mq_pop(mq, &v))
		;
	CU_ASSERT(sw_mq_push(mq, &v) == 0);
	CU_ASSERT(!mq_woken(mq));     /* deferred: no write per record */
	for (int i = 0; i < 2; ++i)
		CU_ASSERT(sw_mq_push(mq, &v) == 0);
	CU_ASSERT(!mq_woken(mq));
	CU_ASSERT(sw_mq_push(mq, &v) == 0);
	CU_ASSERT(mq_woken(mq));      /* half full (4 of 8): wake anyway */
	CU_ASSERT(sw_mq_push(mq, &v) == 0);
	CU_ASSERT(!mq_woken(mq));
	CU_ASSERT(sw_mq_defer(mq, false) == 5);
	while (sw_mq_pop(mq, &v))
		;
	CU_ASSERT(sw_mq_push(mq, &v) == 0);
	CU_ASSERT(mq_woken(mq));      /* not deferred: woken again */
	sw_mq_free(mq);
}


/* sw_sa_str() writes IPv4 by hand (the capture's hot path): the same
 * text as inet_ntop() + snprintf(), cut alike */
UNIT_TEST(test_sa_str, "addresses as text")
{
	static const char *const v[] = {
		"0.0.0.0:0", "255.255.255.255:65535", "10.0.100.9:5060",
		"127.0.0.1:7", "1.20.199.0:10"};
	char buf[SW_SA_STRLEN], ip[32];
	struct sw_sa sa;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); ++i) {
		unsigned port;

		CU_ASSERT_FATAL(sscanf(v[i], "%31[0-9.]:%u", ip, &port) == 2);
		CU_ASSERT_FATAL(sw_sa_set_ip(&sa, ip, (uint16_t)port) == 0);
		CU_ASSERT_STRING_EQUAL(sw_sa_str(&sa, buf, sizeof(buf)), v[i]);
	}
	CU_ASSERT_STRING_EQUAL(sw_sa_str(&sa, buf, 5), "1.20");
	CU_ASSERT_FATAL(sw_sa_set_ip(&sa, "::1", 5061) == 0);
	CU_ASSERT_STRING_EQUAL(sw_sa_str(&sa, buf, sizeof(buf)), "[::1]:5061");
}


struct idobj {
	int v;
	struct sw_idmap_node node;
};


/* Longest chain of m: the lookup's cost */
static size_t idmap_longest(const struct sw_idmap *m)
{
	size_t best = 0;

	for (size_t i = 0; i < m->n_b; ++i) {
		size_t k = 0;

		for (const struct sw_idmap_node *e = m->b[i]; e; e = e->next)
			++k;
		if (k > best)
			best = k;
	}
	return best;
}


/* Calls by id: every one found, none after removal, the table grows with
 * what it holds so that a lookup does not walk the calls (it did: a list
 * of all calls at the SIP thread, once per app-sharing call) */
UNIT_TEST(test_idmap, "calls by id (sw_idmap)")
{
	enum { N = 20000 };
	struct idobj *o = calloc(N, sizeof(*o));
	struct sw_idmap m = {0};

	CU_ASSERT_FATAL(o != NULL);
	CU_ASSERT_PTR_NULL(sw_idmap_find(&m, 1));
	for (int i = 0; i < N; ++i) {
		o[i].v = i;
		/* sequential like the calls', then a stride with high bits */
		o[i].node.id = i < N / 2 ? (uint64_t)i + 1
					 : ((uint64_t)i << 32) | 4096u;
		CU_ASSERT_EQUAL_FATAL(sw_idmap_add(&m, &o[i].node), 0);
	}
	CU_ASSERT_EQUAL(m.n, N);
	CU_ASSERT(m.n_b >= N && m.n_b <= 4 * N);
	CU_ASSERT(idmap_longest(&m) <= 12);
	for (int i = 0; i < N; ++i) {
		struct sw_idmap_node *e = sw_idmap_find(&m, o[i].node.id);

		CU_ASSERT_FATAL(e != NULL);
		CU_ASSERT_EQUAL(sw_idmap_entry(e, struct idobj, node)->v, i);
	}
	CU_ASSERT_PTR_NULL(sw_idmap_find(&m, N / 2 + 1));
	for (int i = 0; i < N; i += 2)
		sw_idmap_remove(&m, &o[i].node);
	sw_idmap_remove(&m, &o[0].node); /* twice: no harm */
	CU_ASSERT_EQUAL(m.n, N / 2);
	for (int i = 0; i < N; ++i)
		CU_ASSERT_EQUAL(sw_idmap_find(&m, o[i].node.id) != NULL,
				i % 2 == 1);
	sw_idmap_free(&m);
	CU_ASSERT_PTR_NULL(sw_idmap_find(&m, o[1].node.id));
	free(o);
}


UNIT_SUITE("conf", setup, teardown, NULL, NULL);
