/**
 * @file test_resolve.c  The resolver thread against a DNS server of its own.
 *
 * A tiny authoritative server on 127.0.0.1 (a thread of this test, UDP)
 * answers A for cms.test (127.0.0.3, then 127.0.0.4: the second lookup
 * must come when the TTL ran out), SRV for _sip._tcp.srv.test (cms.test
 * port 5080), nothing for AAAA and NXDOMAIN for anything else. Every wait
 * is bounded; no assertion is about time.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "unit.h"
#include "sw_resolve.h"

struct fake_dns {
	int fd;
	uint16_t port;
	pthread_t th;
	atomic_bool stop;
	atomic_uint a_queries;   /* A cms.test */
	atomic_uint srv_queries; /* SRV _sip._tcp.srv.test */
};

/* qname of a query as "a.b.c" and the offset past the question */
static int q_parse(const uint8_t *m, size_t len, char *name, size_t sz,
		   uint16_t *qtype, size_t *end)
{
	size_t i = 12, o = 0;

	while (i < len && m[i]) {
		size_t n = m[i];

		if (n & 0xc0 || i + 1 + n > len || o + n + 1 >= sz)
			return -1;
		if (o)
			name[o++] = '.';
		memcpy(name + o, m + i + 1, n);
		o += n;
		i += 1 + n;
	}
	name[o] = '\0';
	if (i + 5 > len)
		return -1;
	*qtype = (uint16_t)(m[i + 1] << 8 | m[i + 2]);
	*end = i + 5;
	return 0;
}


static size_t put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return 2;
}


static size_t put_name(uint8_t *p, const char *name)
{
	size_t o = 0;

	while (*name) {
		size_t n = strcspn(name, ".");

		p[o++] = (uint8_t)n;
		memcpy(p + o, name, n);
		o += n;
		name += n;
		if (*name == '.')
			++name;
	}
	p[o++] = 0;
	return o;
}


static void *fake_main(void *arg)
{
	struct fake_dns *f = arg;

	while (!atomic_load(&f->stop)) {
		struct pollfd pfd = {f->fd, POLLIN, 0};
		uint8_t q[512], r[512];
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		char name[256];
		uint16_t qtype;
		size_t end, o;
		ssize_t n;
		int rcode = 3, an = 0;

		if (poll(&pfd, 1, 100) <= 0)
			continue;
		n = recvfrom(f->fd, q, sizeof(q), 0, (struct sockaddr *)&from,
			     &fl);
		if (n < 12 || q_parse(q, (size_t)n, name, sizeof(name), &qtype,
				      &end))
			continue;
		memcpy(r, q, end);
		o = end;
		if (!strcmp(name, "cms.test") && qtype == 1) {
			unsigned k = atomic_fetch_add(&f->a_queries, 1);

			o += put16(r + o, 0xc00c);
			o += put16(r + o, 1);
			o += put16(r + o, 1);
			o += put16(r + o, 0);
			o += put16(r + o, 1); /* TTL 1 s */
			o += put16(r + o, 4);
			r[o++] = 127, r[o++] = 0, r[o++] = 0;
			r[o++] = k ? 4 : 3;
			rcode = 0, an = 1;
		} else if (!strcmp(name, "_sip._tcp.srv.test") && qtype == 33) {
			size_t rd;

			atomic_fetch_add(&f->srv_queries, 1);
			o += put16(r + o, 0xc00c);
			o += put16(r + o, 33);
			o += put16(r + o, 1);
			o += put16(r + o, 0);
			o += put16(r + o, 60);
			rd = o;
			o += 2;
			o += put16(r + o, 0);    /* priority */
			o += put16(r + o, 5);    /* weight */
			o += put16(r + o, 5080); /* port */
			o += put_name(r + o, "cms.test");
			put16(r + rd, (uint16_t)(o - rd - 2));
			rcode = 0, an = 1;
		} else if (!strcmp(name, "cms.test") ||
			   !strcmp(name, "srv.test")) {
			rcode = 0; /* NODATA */
		}
		r[2] = 0x84 | (q[2] & 0x01); /* QR AA, RD copied */
		r[3] = (uint8_t)rcode;
		put16(r + 6, (uint16_t)an);
		put16(r + 8, 0);
		put16(r + 10, 0);
		sendto(f->fd, r, o, 0, (struct sockaddr *)&from, fl);
	}
	return NULL;
}


static int fake_start(struct fake_dns *f)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);

	memset(f, 0, sizeof(*f));
	f->fd = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (f->fd < 0 || bind(f->fd, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(f->fd, (struct sockaddr *)&a, &al))
		return -1;
	f->port = ntohs(a.sin_port);
	return pthread_create(&f->th, NULL, fake_main, f);
}


static void fake_stop(struct fake_dns *f)
{
	atomic_store(&f->stop, true);
	pthread_join(f->th, NULL);
	close(f->fd);
}


/* The next answer within 10 s (bounded), false if none came */
static bool next_answer(struct sw_resolve *r, struct sw_resolve_answer *a)
{
	for (int i = 0; i < 100; ++i) {
		struct pollfd pfd = {sw_resolve_fd(r), POLLIN, 0};

		if (sw_resolve_pop(r, a))
			return true;
		if (poll(&pfd, 1, 100) > 0)
			sw_resolve_drain_fd(r);
	}
	return sw_resolve_pop(r, a);
}


static const char *addr_str(const struct sw_sa *sa, char *buf, size_t sz)
{
	return sw_sa_str(sa, buf, sz);
}


/* The fake server and a resolver that asks it, TTLs clamped to ttl_s */
static struct sw_resolve *resolver_up(struct fake_dns *f, uint32_t ttl_s)
{
	/* c-ares waits 5 s for the fake server's answer: with a shorter wait
	 * a loaded machine made it ask twice (srv_queries 2, a flaky fail) */
	struct sw_resolve_opts o = {NULL, ttl_s, ttl_s, ttl_s, 5000};
	struct sw_resolve *r = NULL;
	char srv[32];

	if (fake_start(f))
		return NULL;
	snprintf(srv, sizeof(srv), "127.0.0.1:%u", f->port);
	o.servers = srv;
	if (sw_resolve_start(&r, &o)) {
		fake_stop(f);
		return NULL;
	}
	return r;
}


UNIT_TEST(test_a_then_ttl, "A record, looked up again at its TTL")
{
	struct fake_dns f;
	struct sw_resolve *r = resolver_up(&f, 1);
	struct sw_resolve_answer a;
	char s[SW_SA_STRLEN];

	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT(sw_resolve_want(r, "sip:cms.test:5070", "cms.test", 5070,
				  SW_TP_UDP) == 0);
	CU_ASSERT_FATAL(next_answer(r, &a));
	CU_ASSERT_STRING_EQUAL(a.key, "sip:cms.test:5070");
	CU_ASSERT_EQUAL(a.n, 1);
	CU_ASSERT_STRING_EQUAL(addr_str(&a.addr[0], s, sizeof(s)),
			       "127.0.0.3:5070");
	CU_ASSERT_EQUAL(a.ttl_s, 1);
	/* the TTL ran out: looked up again, the new address */
	CU_ASSERT_FATAL(next_answer(r, &a));
	CU_ASSERT_STRING_EQUAL(addr_str(&a.addr[0], s, sizeof(s)),
			       "127.0.0.4:5070");
	CU_ASSERT(atomic_load(&f.a_queries) >= 2);
	sw_resolve_stop(r);
	fake_stop(&f);
}


UNIT_TEST(test_srv_and_nxdomain, "SRV first, NXDOMAIN, reset")
{
	struct fake_dns f;
	struct sw_resolve *r = resolver_up(&f, 60);
	struct sw_resolve_answer a;
	char s[SW_SA_STRLEN];
	bool got_srv = false, got_nx = false;

	CU_ASSERT_FATAL(r != NULL);
	/* a reset drops what was wanted before it */
	CU_ASSERT(sw_resolve_want(r, "sip:gone.test", "gone.test", 0,
				  SW_TP_UDP) == 0);
	CU_ASSERT(sw_resolve_reset(r) == 0);
	CU_ASSERT(sw_resolve_want(r, "sip:srv.test;transport=tcp", "srv.test",
				  0, SW_TP_TCP) == 0);
	CU_ASSERT(sw_resolve_want(r, "sip:nx.test:5060", "nx.test", 5060,
				  SW_TP_UDP) == 0);
	for (int i = 0; i < 2 && next_answer(r, &a); ++i) {
		CU_ASSERT(strcmp(a.key, "sip:gone.test") != 0);
		if (!strcmp(a.key, "sip:srv.test;transport=tcp")) {
			got_srv = true;
			CU_ASSERT_EQUAL(a.n, 1);
			CU_ASSERT_STRING_EQUAL(addr_str(&a.addr[0], s, sizeof(s)),
					       "127.0.0.3:5080");
			CU_ASSERT_EQUAL(a.ttl_s, 60);
		} else if (!strcmp(a.key, "sip:nx.test:5060")) {
			got_nx = true;
			CU_ASSERT_EQUAL(a.n, 0);
			CU_ASSERT(a.why[0] != '\0');
			CU_ASSERT_EQUAL(a.ttl_s, 60); /* retry_s */
		}
	}
	CU_ASSERT(got_srv);
	CU_ASSERT(got_nx);
	CU_ASSERT_EQUAL(atomic_load(&f.srv_queries), 1);
	sw_resolve_stop(r);
	fake_stop(&f);
}


/* A server that refuses (nothing listens): a failed answer, no loop */
UNIT_TEST(test_dead_server, "dead server: one failed answer")
{
	struct sw_resolve *r = NULL;
	struct sw_resolve_answer a;
	struct sw_resolve_opts o = {NULL, 60, 60, 60, 300};
	char srv[32];
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);

	/* a port nobody listens on: bind one, note it, close it */
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CU_ASSERT_FATAL(fd >= 0 && !bind(fd, (struct sockaddr *)&sa, sizeof(sa)) &&
			!getsockname(fd, (struct sockaddr *)&sa, &sl));
	close(fd);
	snprintf(srv, sizeof(srv), "127.0.0.1:%u", ntohs(sa.sin_port));
	o.servers = srv;
	CU_ASSERT_FATAL(sw_resolve_start(&r, &o) == 0);
	CU_ASSERT(sw_resolve_want(r, "sip:cms.test:5060", "cms.test", 5060,
				  SW_TP_UDP) == 0);
	CU_ASSERT_FATAL(next_answer(r, &a));
	CU_ASSERT_EQUAL(a.n, 0);
	CU_ASSERT_EQUAL(a.ttl_s, 60);
	/* one failure per retry period: nothing more comes meanwhile */
	CU_ASSERT_FALSE(sw_resolve_pop(r, &a));
	sw_resolve_stop(r);
}


UNIT_SUITE("resolve", NULL, NULL, NULL, NULL);
