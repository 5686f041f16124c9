/**
 * @file test_turn_alloc.c  Suite turn_alloc: the TURN server core with a
 * fake clock and a recorder for its I/O requests (no sockets): nonces,
 * credentials, quotas, the peer policy, allocation, permission, channel
 * and RFC 6062 connection lifetimes, and the timer heap.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "turn_alloc.h"
#include "turn_auth.h"
#include "turn_msg.h"
#include "unit.h"

/* --- the recorder standing in for the relay layer ------------------------ */

struct fake {
	uint8_t last[4096];
	size_t last_len;
	struct turn_src last_dst;
	unsigned sent, opened, closed, relayed, connects, binds, conn_closes;
	unsigned released;
	uint16_t port;
	struct turn_conn *tc;
};

static struct fake fk;
static struct sw_conf conf;
static struct turn_srv *srv;
static uint64_t now_ms;
static struct turn_src udp_src, tcp_src, data_src;
static unsigned tid_seq;


static void f_send(void *arg, const struct turn_src *dst, const uint8_t *buf,
		   size_t len)
{
	(void)arg;
	if (len > sizeof(fk.last))
		len = sizeof(fk.last);
	memcpy(fk.last, buf, len);
	fk.last_len = len;
	fk.last_dst = *dst;
	++fk.sent;
}


static int f_open(void *arg, struct turn_alloc *al, int af,
		  struct sw_sa *relayed)
{
	(void)arg;
	(void)al;
	++fk.opened;
	if (af != AF_INET)
		return EAFNOSUPPORT;
	sw_sa_set_ip(relayed, "192.0.2.10", fk.port++);
	return 0;
}


static void f_close(void *arg, struct turn_alloc *al)
{
	(void)arg;
	(void)al;
	++fk.closed;
}


static void f_release(void *arg, int af, uint16_t port)
{
	(void)arg;
	(void)af;
	(void)port;
	++fk.released;
}


static void f_rsend(void *arg, struct turn_alloc *al,
		    const struct sw_sa *peer, const uint8_t *b, size_t n)
{
	(void)arg;
	(void)al;
	(void)peer;
	(void)b;
	(void)n;
	++fk.relayed;
}


static int f_connect(void *arg, struct turn_conn *tc)
{
	(void)arg;
	fk.tc = tc;
	++fk.connects;
	return 0;
}


static int f_bind(void *arg, struct turn_conn *tc, const struct turn_src *d)
{
	(void)arg;
	(void)tc;
	(void)d;
	++fk.binds;
	return 0;
}


static void f_cclose(void *arg, struct turn_conn *tc)
{
	(void)arg;
	(void)tc;
	++fk.conn_closes;
}


static void f_inproc(void *arg, enum turn_inproc_ev ev, struct turn_alloc *al,
		     struct turn_conn *tc)
{
	(void)arg;
	(void)ev;
	(void)al;
	fk.tc = tc;
}


static const struct turn_ops fops = {
	.send = f_send,
	.relay_open = f_open,
	.relay_close = f_close,
	.port_release = f_release,
	.relay_send = f_rsend,
	.peer_connect = f_connect,
	.conn_bind = f_bind,
	.conn_close = f_cclose,
	.inproc = f_inproc,
};


static void clock_set(uint64_t ms)
{
	now_ms = ms;
	turn_srv_set_clock(srv, now_ms, 1700000000 + (int64_t)(ms / 1000));
}


static void advance(uint64_t ms)
{
	clock_set(now_ms + ms);
	turn_srv_run_timers(srv);
}


static void setup(void)
{
	struct turn_srv_cfg cfg;

	sw_conf_defaults(&conf);
	snprintf(conf.turn_realm, sizeof(conf.turn_realm), "TANDBERG");
	snprintf(conf.turn_users[0].name, 128, "cms");
	snprintf(conf.turn_users[0].password, 128, "cmssecret");
	snprintf(conf.turn_users[1].name, 128, "other");
	snprintf(conf.turn_users[1].password, 128, "othersecret");
	conf.n_turn_users = 2;
	snprintf(conf.turn_static_auth_secret,
		 sizeof(conf.turn_static_auth_secret), "restsecret");
	sw_sa_set_ip(&conf.turn_relay_ip, "192.0.2.10", 0);
	sw_cidr_parse(&conf.turn_allow[0], "127.0.0.0/8");
	conf.n_turn_allow = 1;
	memset(&cfg, 0, sizeof(cfg));
	cfg.conf = &conf;
	cfg.thread_idx = 3;
	memset(cfg.nonce_key, 7, sizeof(cfg.nonce_key));
	cfg.ops = &fops;
	if (turn_srv_alloc(&srv, &cfg))
		abort();
	memset(&fk, 0, sizeof(fk));
	fk.port = 50000;
	clock_set(1000000);
	memset(&udp_src, 0, sizeof(udp_src));
	udp_src.tp = TURN_TP_UDP;
	udp_src.tport = 1;
	sw_sa_set_ip(&udp_src.client, "198.51.100.1", 4000);
	tcp_src = udp_src;
	tcp_src.tp = TURN_TP_TCP;
	tcp_src.tport = 2;
	data_src = tcp_src; /* another connection: another source port */
	data_src.tport = 3;
	sw_sa_set_port(&data_src.client, 4001);
}


static void teardown(void)
{
	turn_srv_free(srv);
	srv = NULL;
}


/* --- building requests, reading answers ----------------------------------- */

struct rq {
	struct turn_enc e;
	uint8_t buf[1024];
	uint8_t tid[TURN_TID_LEN];
};


static void rq_start(struct rq *q, uint16_t method)
{
	memset(q->tid, 0, sizeof(q->tid));
	memcpy(q->tid, &tid_seq, sizeof(tid_seq));
	++tid_seq;
	turn_enc_init(&q->e, q->buf, sizeof(q->buf), method, TURN_C_REQUEST,
		      q->tid);
}


/* Authenticate as user with nonce (NULL: no MI), send from src */
static void rq_send(struct rq *q, const struct turn_src *src,
		    const char *user, const char *pw, const char *nonce)
{
	size_t len = 0;

	if (nonce) {
		uint8_t key[16];

		turn_enc_str(&q->e, TURN_A_USERNAME, user);
		turn_enc_str(&q->e, TURN_A_REALM, "TANDBERG");
		turn_enc_str(&q->e, TURN_A_NONCE, nonce);
		turn_key_longterm(key, user, "TANDBERG", pw);
		turn_enc_integrity(&q->e, key, sizeof(key));
	}
	CU_ASSERT_EQUAL_FATAL(turn_enc_finish(&q->e, &len), 0);
	fk.last_len = 0;
	turn_srv_recv(srv, src, q->buf, len);
}


/* The code of the last answer: 200 success, 4xx/5xx, 0 none, -1 junk */
static int last_code(struct turn_msg *m)
{
	uint16_t code = 0;

	if (!fk.last_len)
		return 0;
	if (turn_msg_decode(m, fk.last, fk.last_len, NULL))
		return -1;
	if (m->cls == TURN_C_SUCCESS)
		return 200;
	if (m->cls != TURN_C_ERROR || turn_msg_get_error(m, &code, NULL, 0))
		return -1;
	return code;
}


/* The nonce of a 401 on src (a nonce is good on its transport only) */
static void get_nonce_on(const struct turn_src *src, char nonce[64])
{
	struct turn_msg m;
	struct rq q;

	rq_start(&q, TURN_M_ALLOCATE);
	turn_enc_u32(&q.e, TURN_A_REQUESTED_TRANSPORT, 17u << 24);
	rq_send(&q, src, NULL, NULL, NULL);
	CU_ASSERT_EQUAL_FATAL(last_code(&m), 401);
	CU_ASSERT_EQUAL_FATAL(turn_msg_get_str(&m, TURN_A_NONCE, nonce, 64,
					       NULL), 0);
	CU_ASSERT_PTR_NULL(turn_msg_attr(&m, TURN_A_MESSAGE_INTEGRITY));
}


static void get_nonce(char nonce[64])
{
	get_nonce_on(&udp_src, nonce);
}


static int allocate(const struct turn_src *src, uint8_t proto,
		    const char *nonce, uint32_t lifetime)
{
	struct turn_msg m;
	struct rq q;

	rq_start(&q, TURN_M_ALLOCATE);
	turn_enc_u32(&q.e, TURN_A_REQUESTED_TRANSPORT, (uint32_t)proto << 24);
	if (lifetime)
		turn_enc_u32(&q.e, TURN_A_LIFETIME, lifetime);
	rq_send(&q, src, "cms", "cmssecret", nonce);
	return last_code(&m);
}


static int refresh(const struct turn_src *src, const char *nonce,
		   uint32_t lifetime)
{
	struct turn_msg m;
	struct rq q;

	rq_start(&q, TURN_M_REFRESH);
	turn_enc_u32(&q.e, TURN_A_LIFETIME, lifetime);
	rq_send(&q, src, "cms", "cmssecret", nonce);
	return last_code(&m);
}


static int permit(const struct turn_src *src, const char *nonce,
		  const char *ip)
{
	struct turn_msg m;
	struct sw_sa peer;
	struct rq q;

	sw_sa_set_ip(&peer, ip, 0);
	rq_start(&q, TURN_M_CREATEPERM);
	turn_enc_xaddr(&q.e, TURN_A_XOR_PEER_ADDRESS, &peer);
	rq_send(&q, src, "cms", "cmssecret", nonce);
	return last_code(&m);
}


/* --- credentials ---------------------------------------------------------- */

UNIT_TEST(test_nonce, "nonces")
{
	uint8_t key[TURN_NONCE_KEY_LEN] = {1, 2, 3};
	const uint8_t a[] = {1, 2, 3, 4}, b[] = {1, 2, 3, 5};
	char n[TURN_NONCE_LEN + 1];

	turn_nonce_make(key, 5000, a, sizeof(a), n);
	CU_ASSERT_EQUAL(strlen(n), TURN_NONCE_LEN);
	CU_ASSERT_EQUAL(turn_nonce_check(key, n, a, sizeof(a), 5000, 1000), 0);
	CU_ASSERT_EQUAL(turn_nonce_check(key, n, a, sizeof(a), 6000, 1000), 0);
	CU_ASSERT_EQUAL(turn_nonce_check(key, n, a, sizeof(a), 6001, 1000),
			ETIMEDOUT);
	CU_ASSERT_EQUAL(turn_nonce_check(key, n, a, sizeof(a), 4999, 1000),
			ETIMEDOUT);
	/* bound: good only for what it was made for */
	CU_ASSERT_EQUAL(turn_nonce_check(key, n, b, sizeof(b), 5000, 1000),
			EBADMSG);
	CU_ASSERT_EQUAL(turn_nonce_check(key, n, a, 3, 5000, 1000), EBADMSG);
	n[20] ^= 1;
	CU_ASSERT_EQUAL(turn_nonce_check(key, n, a, sizeof(a), 5000, 1000),
			EBADMSG);
	CU_ASSERT_EQUAL(turn_nonce_check(key, "short", a, sizeof(a), 5000,
					 1000),
			EBADMSG);
	turn_nonce_make(key, 5000, a, sizeof(a), n);
	key[0] = 9; /* another process's nonce */
	CU_ASSERT_EQUAL(turn_nonce_check(key, n, a, sizeof(a), 5000, 1000),
			EBADMSG);
}


UNIT_TEST(test_credentials, "credentials")
{
	char pw[64];

	/* base64(HMAC-SHA1("restsecret", "1700000000:alice")) */
	CU_ASSERT_EQUAL(turn_rest_password("restsecret", "1700000000:alice",
					   pw, sizeof(pw)), 0);
	CU_ASSERT_STRING_EQUAL(pw, "Fth76ucAQamd/55BJisB9SsWB1k=");
	CU_ASSERT_EQUAL(turn_auth_password(&conf, "cms", 0, pw, sizeof(pw)),
			0);
	CU_ASSERT_STRING_EQUAL(pw, "cmssecret");
	CU_ASSERT_EQUAL(turn_auth_password(&conf, "1700000000:alice",
					   1700000000, pw, sizeof(pw)), 0);
	CU_ASSERT_STRING_EQUAL(pw, "Fth76ucAQamd/55BJisB9SsWB1k=");
	CU_ASSERT_EQUAL(turn_auth_password(&conf, "1700000000:alice",
					   1700000001, pw, sizeof(pw)),
			ETIMEDOUT);
	CU_ASSERT_EQUAL(turn_auth_password(&conf, "mallory", 0, pw,
					   sizeof(pw)), ENOENT);
	CU_ASSERT_EQUAL(turn_auth_password(&conf, "x:alice", 0, pw,
					   sizeof(pw)), ENOENT);
	CU_ASSERT_STRING_EQUAL(turn_auth_quota_name(&conf, "17:alice"),
			       "alice");
	CU_ASSERT_STRING_EQUAL(turn_auth_quota_name(&conf, "cms"), "cms");
}


/* REST secrets in rotation ([cluster]'s sw_turn_secrets): a password
 * made with any secret in force authenticates; none other does */
UNIT_TEST(test_rest_rotation, "REST secrets in rotation")
{
	const char *user = "4000000000:alice";
	char nonce[64], pw[64];
	struct turn_msg m;
	struct rq q;

	CU_ASSERT_EQUAL_FATAL(turn_rest_password("newsecret", user, pw,
						 sizeof(pw)), 0);
	get_nonce(nonce);
	rq_start(&q, TURN_M_ALLOCATE);
	turn_enc_u32(&q.e, TURN_A_REQUESTED_TRANSPORT, 17u << 24);
	rq_send(&q, &udp_src, user, pw, nonce);
	CU_ASSERT_EQUAL(last_code(&m), 401);
	snprintf(conf.turn_secrets[0], sizeof(conf.turn_secrets[0]),
		 "oldsecret");
	snprintf(conf.turn_secrets[1], sizeof(conf.turn_secrets[1]),
		 "newsecret");
	conf.n_turn_secrets = 2;
	CU_ASSERT_EQUAL(turn_auth_password_n(&conf, user, 0, 2, nonce,
					     sizeof(nonce)), 0);
	CU_ASSERT_STRING_EQUAL(nonce, pw);
	CU_ASSERT_EQUAL(turn_auth_password_n(&conf, user, 0, 3, nonce,
					     sizeof(nonce)), ENOENT);
	CU_ASSERT_EQUAL(turn_auth_password_n(&conf, "cms", 0, 1, nonce,
					     sizeof(nonce)), ENOENT);
	get_nonce(nonce);
	rq_start(&q, TURN_M_ALLOCATE);
	turn_enc_u32(&q.e, TURN_A_REQUESTED_TRANSPORT, 17u << 24);
	rq_send(&q, &udp_src, user, pw, nonce);
	CU_ASSERT_EQUAL(last_code(&m), 200);
	conf.n_turn_secrets = 0;
}


UNIT_TEST(test_quota, "quota ledger")
{
	struct turn_quota *q;

	CU_ASSERT_EQUAL_FATAL(turn_quota_alloc(&q, 2, 3), 0);
	CU_ASSERT_EQUAL(turn_quota_take(q, "a"), 0);
	CU_ASSERT_EQUAL(turn_quota_take(q, "a"), 0);
	CU_ASSERT_EQUAL(turn_quota_take(q, "a"), EDQUOT);
	CU_ASSERT_EQUAL(turn_quota_take(q, "b"), 0);
	CU_ASSERT_EQUAL(turn_quota_take(q, "c"), ENOSPC);
	turn_quota_release(q, "a");
	CU_ASSERT_EQUAL(turn_quota_take(q, "c"), 0);
	turn_quota_release(q, "nobody"); /* no underflow */
	CU_ASSERT_EQUAL(turn_quota_take(q, "d"), ENOSPC);
	turn_quota_free(q);
	CU_ASSERT_EQUAL(turn_quota_take(NULL, "x"), 0);
}


/* An authenticated Allocate captured and replayed verbatim on a new TCP
 * connection, from another UDP port or over another transport gets 438
 * and a fresh nonce (its nonce is bound to the victim's transport
 * address): it creates nothing and takes none of the victim's quota
 * (user_quota 1 here). The victim's own retransmission still gets its
 * answer. */
UNIT_TEST(test_replay, "a replayed Allocate gets 438")
{
	struct turn_src conn2 = tcp_src, udp2 = udp_src;
	struct turn_srv_cfg cfg;
	struct turn_quota *quota;
	char nonce[64], fresh[64];
	uint8_t wire[1024], copy[1024];
	struct turn_msg m;
	struct rq q;
	size_t len;

	turn_srv_free(srv);
	memset(&cfg, 0, sizeof(cfg));
	cfg.conf = &conf;
	cfg.thread_idx = 3;
	memset(cfg.nonce_key, 7, sizeof(cfg.nonce_key));
	cfg.ops = &fops;
	CU_ASSERT_EQUAL_FATAL(turn_quota_alloc(&quota, 1, 0), 0);
	cfg.quota = quota;
	CU_ASSERT_EQUAL_FATAL(turn_srv_alloc(&srv, &cfg), 0);
	clock_set(now_ms);
	conn2.tport = 9;
	sw_sa_set_port(&conn2.client, 4002);
	sw_sa_set_port(&udp2.client, 4003);

	get_nonce_on(&tcp_src, nonce);
	rq_start(&q, TURN_M_ALLOCATE);
	turn_enc_u32(&q.e, TURN_A_REQUESTED_TRANSPORT, 6u << 24);
	rq_send(&q, &tcp_src, "cms", "cmssecret", nonce);
	CU_ASSERT_EQUAL_FATAL(last_code(&m), 200);
	len = 20 + ((size_t)q.buf[2] << 8 | q.buf[3]);
	memcpy(wire, q.buf, len);

	for (int i = 0; i < 3; ++i) {
		const struct turn_src *from = i == 0 ? &conn2 : &udp2;
		struct turn_src udp_as_tcp = tcp_src;

		udp_as_tcp.tp = TURN_TP_UDP; /* the same address, over UDP */
		if (i == 2)
			from = &udp_as_tcp;
		memcpy(copy, wire, len);
		fk.last_len = 0;
		turn_srv_recv(srv, from, copy, len);
		CU_ASSERT_EQUAL(last_code(&m), 438);
		CU_ASSERT_EQUAL(turn_msg_get_str(&m, TURN_A_NONCE, fresh,
						 sizeof(fresh), NULL), 0);
		CU_ASSERT_STRING_NOT_EQUAL(fresh, nonce);
		CU_ASSERT_PTR_NULL(turn_srv_find(srv, from));
	}
	CU_ASSERT_EQUAL(turn_srv_counters(srv)->allocs_tcp, 1);
	CU_ASSERT_EQUAL(fk.opened, 1);

	memcpy(copy, wire, len); /* the victim's retransmission */
	turn_srv_recv(srv, &tcp_src, copy, len);
	CU_ASSERT_EQUAL(last_code(&m), 200);
	CU_ASSERT_EQUAL(fk.opened, 1);

	/* the quota holds the victim's one allocation only: gone with its
	 * connection, the victim allocates again from a new one */
	turn_srv_transport_closed(srv, &tcp_src);
	get_nonce_on(&conn2, nonce);
	CU_ASSERT_EQUAL(allocate(&conn2, 6, nonce, 0), 200);
	turn_srv_free(srv);
	srv = NULL;
	turn_quota_free(quota);
}


UNIT_TEST(test_auth_errors, "401, 438, nonce expiry")
{
	char nonce[64];
	struct turn_msg m;
	struct rq q;

	get_nonce(nonce);
	rq_start(&q, TURN_M_ALLOCATE);
	turn_enc_u32(&q.e, TURN_A_REQUESTED_TRANSPORT, 17u << 24);
	rq_send(&q, &udp_src, "cms", "wrong", nonce);
	CU_ASSERT_EQUAL(last_code(&m), 401);
	CU_ASSERT_PTR_NOT_NULL(turn_msg_attr(&m, TURN_A_NONCE));
	rq_start(&q, TURN_M_ALLOCATE);
	turn_enc_u32(&q.e, TURN_A_REQUESTED_TRANSPORT, 17u << 24);
	rq_send(&q, &udp_src, "cms", "cmssecret", "0000000000000000deadbeef"
						  "deadbeef");
	CU_ASSERT_EQUAL(last_code(&m), 438);
	CU_ASSERT_EQUAL(turn_srv_counters(srv)->auth_failures, 1);
	/* nonce expiry (nonce_lifetime 600 s) -> 438 with a fresh one */
	advance(conf.turn_nonce_lifetime * 1000ull + 1);
	CU_ASSERT_EQUAL(allocate(&udp_src, 17, nonce, 0), 438);
	get_nonce(nonce);
	CU_ASSERT_EQUAL(allocate(&udp_src, 17, nonce, 0), 200);
	CU_ASSERT_EQUAL(turn_srv_counters(srv)->allocs_udp, 1);
}


/* --- allocations, permissions, channels -------------------------------------- */

UNIT_TEST(test_alloc_lifetime, "allocation lifetime")
{
	char nonce[64];
	struct turn_alloc *al;

	get_nonce(nonce);
	CU_ASSERT_EQUAL(allocate(&udp_src, 17, nonce, 0), 200);
	al = turn_srv_find(srv, &udp_src);
	CU_ASSERT_PTR_NOT_NULL_FATAL(al);
	CU_ASSERT_EQUAL(al->lifetime, 600);
	CU_ASSERT_EQUAL(turn_srv_thread(al->id), 3);
	CU_ASSERT_EQUAL(allocate(&udp_src, 17, nonce, 0), 437);
	/* lifetime: requested 777 granted, capped at max_lifetime */
	CU_ASSERT_EQUAL(refresh(&udp_src, nonce, 777), 200);
	CU_ASSERT_EQUAL(al->lifetime, 777);
	CU_ASSERT_EQUAL(refresh(&udp_src, nonce, 100000), 200);
	CU_ASSERT_EQUAL(al->lifetime, 3600);
	CU_ASSERT_EQUAL(refresh(&udp_src, nonce, 60), 200);
	CU_ASSERT_EQUAL(al->lifetime, 600);
	advance(599999);
	CU_ASSERT_PTR_NOT_NULL(turn_srv_find(srv, &udp_src));
	CU_ASSERT_EQUAL(fk.closed, 0);
	advance(1);
	CU_ASSERT_PTR_NULL(turn_srv_find(srv, &udp_src));
	CU_ASSERT_EQUAL(fk.closed, 1);
	CU_ASSERT_EQUAL(turn_srv_counters(srv)->allocs_udp, 0);
	/* Refresh 0 deletes; then Refresh gets 437 */
	get_nonce(nonce);
	CU_ASSERT_EQUAL(allocate(&udp_src, 17, nonce, 0), 200);
	CU_ASSERT_EQUAL(refresh(&udp_src, nonce, 0), 200);
	CU_ASSERT_PTR_NULL(turn_srv_find(srv, &udp_src));
	CU_ASSERT_EQUAL(refresh(&udp_src, nonce, 600), 437);
	CU_ASSERT_EQUAL(turn_srv_next_timeout(srv), -1);
}


UNIT_TEST(test_alloc_validation, "Allocate validation")
{
	char nonce[64];
	struct turn_msg m;
	struct rq q;

	get_nonce(nonce);
	CU_ASSERT_EQUAL(allocate(&udp_src, 6, nonce, 0), 400); /* 6062 5.1 */
	CU_ASSERT_EQUAL(allocate(&udp_src, 99, nonce, 0), 442);
	rq_start(&q, TURN_M_ALLOCATE);
	rq_send(&q, &udp_src, "cms", "cmssecret", nonce);
	CU_ASSERT_EQUAL(last_code(&m), 400); /* no REQUESTED-TRANSPORT */
	rq_start(&q, TURN_M_ALLOCATE);
	turn_enc_u32(&q.e, TURN_A_REQUESTED_TRANSPORT, 17u << 24);
	turn_enc_u32(&q.e, TURN_A_REQUESTED_ADDRESS_FAMILY, 2u << 24);
	rq_send(&q, &udp_src, "cms", "cmssecret", nonce);
	CU_ASSERT_EQUAL(last_code(&m), 440); /* no relay_ip6 */
	rq_start(&q, 0x0ff); /* unknown method */
	rq_send(&q, &udp_src, "cms", "cmssecret", nonce);
	CU_ASSERT_EQUAL(last_code(&m), 400);
	CU_ASSERT_EQUAL(fk.opened, 0);
}


/* Draining or loaded: an authenticated Allocate gets 300 Try Alternate
 * with ALTERNATE-SERVER for its transport and MESSAGE-INTEGRITY (RFC 8489
 * 10); a TLS client gets ALTERNATE-DOMAIN too (14.16); an unauthenticated
 * one still gets 401 (no redirect an attacker could use); an alternate of
 * another family, or redirect off, allocates here */
UNIT_TEST(test_alloc_redirect, "Allocate redirected: 300 Try Alternate")
{
	struct turn_redirect rd;
	struct turn_src tls_src = tcp_src;
	struct sw_sa alt;
	char nonce[64], dom[64];
	uint8_t key[16];
	struct turn_msg m;
	struct rq q;

	memset(&rd, 0, sizeof(rd));
	rd.on = true;
	sw_sa_set_ip(&rd.server, "192.0.2.12", 3478);
	sw_sa_set_ip(&rd.tls, "192.0.2.12", 5349);
	snprintf(rd.domain, sizeof(rd.domain), "turn2.example.com");
	turn_srv_set_redirect(srv, &rd);
	/* unauthenticated: 401 first, as ever */
	get_nonce(nonce);
	CU_ASSERT_EQUAL(allocate(&udp_src, 17, nonce, 0), 300);
	CU_ASSERT_EQUAL(last_code(&m), 300);
	CU_ASSERT_EQUAL(turn_msg_get_addr(&m, TURN_A_ALTERNATE_SERVER, &alt), 0);
	CU_ASSERT(sw_sa_cmp(&alt, &rd.server, true));
	CU_ASSERT_PTR_NULL(turn_msg_attr(&m, TURN_A_ALTERNATE_DOMAIN));
	turn_key_longterm(key, "cms", "TANDBERG", "cmssecret");
	CU_ASSERT_EQUAL(turn_msg_check_integrity(&m, key, sizeof(key)), 0);
	CU_ASSERT_PTR_NULL(turn_srv_find(srv, &udp_src));
	CU_ASSERT_EQUAL(turn_srv_counters(srv)->redirects, 1);
	/* TLS: the TLS listener and the name its certificate carries */
	tls_src.tp = TURN_TP_TLS;
	tls_src.tport = 9;
	get_nonce_on(&tls_src, nonce);
	CU_ASSERT_EQUAL(allocate(&tls_src, 6, nonce, 0), 300);
	CU_ASSERT_EQUAL(last_code(&m), 300);
	CU_ASSERT_EQUAL(turn_msg_get_addr(&m, TURN_A_ALTERNATE_SERVER, &alt), 0);
	CU_ASSERT(sw_sa_cmp(&alt, &rd.tls, true));
	CU_ASSERT_EQUAL(turn_msg_get_str(&m, TURN_A_ALTERNATE_DOMAIN, dom,
					 sizeof(dom), NULL), 0);
	CU_ASSERT_STRING_EQUAL(dom, "turn2.example.com");
	/* an unauthenticated Allocate learns nothing of the alternate */
	rq_start(&q, TURN_M_ALLOCATE);
	turn_enc_u32(&q.e, TURN_A_REQUESTED_TRANSPORT, 17u << 24);
	rq_send(&q, &udp_src, NULL, NULL, NULL);
	CU_ASSERT_EQUAL(last_code(&m), 401);
	CU_ASSERT_PTR_NULL(turn_msg_attr(&m, TURN_A_ALTERNATE_SERVER));
	/* an IPv6 alternate is none for an IPv4 client: allocated here */
	sw_sa_set_ip(&rd.server, "2001:db8::12", 3478);
	turn_srv_set_redirect(srv, &rd);
	get_nonce(nonce);
	CU_ASSERT_EQUAL(allocate(&udp_src, 17, nonce, 0), 200);
	CU_ASSERT_PTR_NOT_NULL(turn_srv_find(srv, &udp_src));
	/* off again: allocations here */
	rd.on = false;
	sw_sa_set_ip(&rd.server, "192.0.2.12", 3478);
	turn_srv_set_redirect(srv, &rd);
	get_nonce_on(&tcp_src, nonce);
	CU_ASSERT_EQUAL(allocate(&tcp_src, 6, nonce, 0), 200);
	CU_ASSERT_EQUAL(turn_srv_counters(srv)->redirects, 2);
}


/* A UDP allocation for an hour, and the peer address 203.0.113.5:7000 */
static struct turn_alloc *alloc_udp_peer(char nonce[64], struct sw_sa *peer)
{
	struct turn_alloc *al;

	get_nonce(nonce);
	CU_ASSERT_EQUAL(allocate(&udp_src, 17, nonce, 3600), 200);
	al = turn_srv_find(srv, &udp_src);
	CU_ASSERT_PTR_NOT_NULL_FATAL(al);
	sw_sa_set_ip(peer, "203.0.113.5", 7000);
	return al;
}


UNIT_TEST(test_permission_expiry, "permission expiry")
{
	uint8_t data[TURN_HEADROOM + 64];
	char nonce[64];
	struct turn_alloc *al;
	struct sw_sa peer;

	al = alloc_udp_peer(nonce, &peer);
	CU_ASSERT_EQUAL(permit(&udp_src, nonce, "203.0.113.5"), 200);
	CU_ASSERT(turn_alloc_permitted(al, &peer, now_ms));
	fk.sent = 0;
	turn_alloc_peer_data(srv, al, &peer, data + TURN_HEADROOM, 10);
	CU_ASSERT_EQUAL(fk.sent, 1); /* a Data indication */
	advance(TURN_PERM_LIFETIME_MS - 1);
	CU_ASSERT(turn_alloc_permitted(al, &peer, now_ms));
	advance(1);
	CU_ASSERT(!turn_alloc_permitted(al, &peer, now_ms));
	turn_alloc_peer_data(srv, al, &peer, data + TURN_HEADROOM, 10);
	CU_ASSERT_EQUAL(fk.sent, 1); /* dropped */
	CU_ASSERT_EQUAL(permit(&udp_src, nonce, "0.0.0.1"), 403);
	CU_ASSERT_EQUAL(permit(&udp_src, nonce, "2001:db8::1"), 443);
	CU_ASSERT_EQUAL(turn_srv_counters(srv)->denied_peers, 1);
}


UNIT_TEST(test_channel_expiry, "channel expiry")
{
	uint8_t data[TURN_HEADROOM + 64];
	struct turn_msg m;
	char nonce[64];
	struct turn_alloc *al;
	struct sw_sa peer;
	struct rq q;

	al = alloc_udp_peer(nonce, &peer);
	rq_start(&q, TURN_M_CHANBIND);
	turn_enc_u32(&q.e, TURN_A_CHANNEL_NUMBER, 0x4001u << 16);
	turn_enc_xaddr(&q.e, TURN_A_XOR_PEER_ADDRESS, &peer);
	rq_send(&q, &udp_src, "cms", "cmssecret", nonce);
	CU_ASSERT_EQUAL(last_code(&m), 200);
	turn_alloc_peer_data(srv, al, &peer, data + TURN_HEADROOM, 10);
	CU_ASSERT_EQUAL(fk.last_len, 14); /* ChannelData, unpadded on UDP */
	CU_ASSERT_EQUAL(fk.last[0], 0x40);
	CU_ASSERT_EQUAL(fk.last[1], 0x01);
	/* the same channel to another peer: 400 */
	sw_sa_set_port(&peer, 7001);
	rq_start(&q, TURN_M_CHANBIND);
	turn_enc_u32(&q.e, TURN_A_CHANNEL_NUMBER, 0x4001u << 16);
	turn_enc_xaddr(&q.e, TURN_A_XOR_PEER_ADDRESS, &peer);
	rq_send(&q, &udp_src, "cms", "cmssecret", nonce);
	CU_ASSERT_EQUAL(last_code(&m), 400);
	sw_sa_set_port(&peer, 7000);
	/* refresh the permission past the channel's 600 s */
	advance(299000);
	CU_ASSERT_EQUAL(permit(&udp_src, nonce, "203.0.113.5"), 200);
	advance(299000);
	CU_ASSERT_EQUAL(permit(&udp_src, nonce, "203.0.113.5"), 200);
	turn_alloc_peer_data(srv, al, &peer, data + TURN_HEADROOM, 10);
	CU_ASSERT_EQUAL(fk.last_len, 14); /* the channel still holds */
	advance(TURN_CHAN_LIFETIME_MS - 598000);
	turn_alloc_peer_data(srv, al, &peer, data + TURN_HEADROOM, 10);
	CU_ASSERT(fk.last_len > 14); /* a Data indication again */
	CU_ASSERT_EQUAL(turn_msg_decode(&m, fk.last, fk.last_len, NULL), 0);
	CU_ASSERT_EQUAL(m.method, TURN_M_DATA);
}


/* --- RFC 6062 ------------------------------------------------------------------ */

static uint32_t tcp_connect(const char *nonce, const char *ip, uint16_t port,
			    int *code)
{
	struct turn_msg m;
	struct sw_sa peer;
	uint32_t id = 0;
	struct rq q;

	sw_sa_set_ip(&peer, ip, port);
	rq_start(&q, TURN_M_CONNECT);
	turn_enc_xaddr(&q.e, TURN_A_XOR_PEER_ADDRESS, &peer);
	rq_send(&q, &tcp_src, "cms", "cmssecret", nonce);
	*code = last_code(&m);
	if (*code == 0 && fk.tc) { /* answered once connected */
		turn_conn_connected(srv, fk.tc, 0);
		*code = last_code(&m);
		turn_msg_get_u32(&m, TURN_A_CONNECTION_ID, &id);
	}
	return id;
}


static int conn_bind(const struct turn_src *src, const char *user,
		     const char *pw, const char *nonce, uint32_t id)
{
	struct turn_msg m;
	struct rq q;

	rq_start(&q, TURN_M_CONNBIND);
	turn_enc_u32(&q.e, TURN_A_CONNECTION_ID, id);
	rq_send(&q, src, user, pw, nonce);
	return last_code(&m);
}


UNIT_TEST(test_tcp_connect, "Connect, ConnectionBind")
{
	char nonce[64], dnonce[64], unonce[64];
	struct turn_conn *tc;
	uint32_t id;
	int code;

	get_nonce_on(&data_src, dnonce);
	get_nonce_on(&udp_src, unonce);
	get_nonce_on(&tcp_src, nonce);
	CU_ASSERT_EQUAL(allocate(&tcp_src, 6, nonce, 0), 200);
	CU_ASSERT_EQUAL(turn_srv_counters(srv)->allocs_tcp, 1);
	id = tcp_connect(nonce, "127.0.0.1", 9000, &code);
	CU_ASSERT_EQUAL(code, 200);
	CU_ASSERT_EQUAL(turn_srv_thread(id), 3);
	tc = turn_srv_find_conn(srv, id);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tc);
	CU_ASSERT_EQUAL(tc->state, TURN_CONN_PENDING);
	tcp_connect(nonce, "127.0.0.1", 9000, &code);
	CU_ASSERT_EQUAL(code, 446);
	tcp_connect(nonce, "224.0.0.1", 9000, &code);
	CU_ASSERT_EQUAL(code, 403);
	CU_ASSERT_EQUAL(conn_bind(&data_src, "cms", "cmssecret", dnonce,
				  id + 1),
			400);
	CU_ASSERT_EQUAL(conn_bind(&data_src, "other", "othersecret", dnonce,
				  id),
			441);
	CU_ASSERT_EQUAL(conn_bind(&tcp_src, "cms", "cmssecret", nonce, id),
			400); /* the control connection */
	/* a nonce of neither this connection nor the allocation's control
	 * connection (bound to the other transport) */
	CU_ASSERT_EQUAL(conn_bind(&data_src, "cms", "cmssecret", unonce, id),
			438);
	CU_ASSERT_EQUAL(tc->state, TURN_CONN_PENDING);
	/* the control connection's nonce, as clients send it (coturn
	 * takes it) */
	CU_ASSERT_EQUAL(conn_bind(&data_src, "cms", "cmssecret", nonce, id),
			200);
	CU_ASSERT_EQUAL(tc->state, TURN_CONN_BOUND);
	CU_ASSERT_EQUAL(fk.binds, 1);
	CU_ASSERT_EQUAL(conn_bind(&data_src, "cms", "cmssecret", dnonce, id),
			400); /* already bound */
	advance(conf.turn_bind_timeout * 1000ull + 1);
	CU_ASSERT_PTR_NOT_NULL(turn_srv_find_conn(srv, id)); /* bound stays */
	/* the control connection goes: allocation and connection with it */
	turn_srv_transport_closed(srv, &tcp_src);
	CU_ASSERT_PTR_NULL(turn_srv_find_conn(srv, id));
	CU_ASSERT_EQUAL(fk.conn_closes, 1);
	CU_ASSERT_EQUAL(turn_srv_counters(srv)->conns_active, 0);
	CU_ASSERT_EQUAL(turn_srv_counters(srv)->allocs_tcp, 0);
}


UNIT_TEST(test_tcp_timeouts, "bind and connect timeouts")
{
	char nonce[64];
	struct turn_msg m;
	uint32_t id;
	int code;

	get_nonce_on(&tcp_src, nonce);
	CU_ASSERT_EQUAL(allocate(&tcp_src, 6, nonce, 0), 200);
	id = tcp_connect(nonce, "127.0.0.1", 9000, &code);
	CU_ASSERT_EQUAL(code, 200);
	advance(conf.turn_bind_timeout * 1000ull - 1);
	CU_ASSERT_PTR_NOT_NULL(turn_srv_find_conn(srv, id));
	advance(1);
	CU_ASSERT_PTR_NULL(turn_srv_find_conn(srv, id));
	CU_ASSERT_EQUAL(fk.conn_closes, 1);
	/* Connect whose outbound connection never completes: 447 */
	fk.tc = NULL;
	{
		struct sw_sa peer;
		struct rq q;

		sw_sa_set_ip(&peer, "127.0.0.1", 9001);
		rq_start(&q, TURN_M_CONNECT);
		turn_enc_xaddr(&q.e, TURN_A_XOR_PEER_ADDRESS, &peer);
		rq_send(&q, &tcp_src, "cms", "cmssecret", nonce);
	}
	CU_ASSERT_EQUAL(fk.last_len, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fk.tc);
	advance(conf.turn_connect_timeout * 1000ull);
	CU_ASSERT_EQUAL(last_code(&m), 447);
	CU_ASSERT_EQUAL(fk.conn_closes, 2);
	CU_ASSERT_EQUAL(turn_srv_counters(srv)->conns_active, 0);
}


UNIT_TEST(test_tcp_incoming, "ConnectionAttempt")
{
	char nonce[64], dnonce[64];
	struct turn_alloc *al;
	struct turn_conn *tc = NULL;
	struct turn_msg m;
	struct sw_sa peer;
	uint32_t id = 0;

	get_nonce_on(&tcp_src, nonce);
	CU_ASSERT_EQUAL(allocate(&tcp_src, 6, nonce, 0), 200);
	al = turn_srv_find(srv, &tcp_src);
	CU_ASSERT_PTR_NOT_NULL_FATAL(al);
	sw_sa_set_ip(&peer, "127.0.0.1", 40000);
	CU_ASSERT_EQUAL(turn_conn_incoming(srv, al, &peer, &tc), EPERM);
	CU_ASSERT_EQUAL(permit(&tcp_src, nonce, "127.0.0.1"), 200);
	fk.last_len = 0;
	CU_ASSERT_EQUAL(turn_conn_incoming(srv, al, &peer, &tc), 0);
	CU_ASSERT_EQUAL_FATAL(turn_msg_decode(&m, fk.last, fk.last_len, NULL),
			      0);
	CU_ASSERT_EQUAL(m.method, TURN_M_CONNATTEMPT);
	CU_ASSERT_EQUAL(m.cls, TURN_C_INDICATION);
	CU_ASSERT_EQUAL(turn_msg_get_u32(&m, TURN_A_CONNECTION_ID, &id), 0);
	CU_ASSERT_EQUAL(id, tc->id);
	get_nonce_on(&data_src, dnonce);
	CU_ASSERT_EQUAL(conn_bind(&data_src, "cms", "cmssecret", dnonce, id),
			200);
	/* allocation expiry closes its connections */
	advance(600000);
	CU_ASSERT_PTR_NULL(turn_srv_find_conn(srv, id));
	CU_ASSERT_EQUAL(fk.conn_closes, 1);
	CU_ASSERT_EQUAL(fk.closed, 1);
}


UNIT_TEST(test_inproc, "in-process allocation")
{
	struct turn_alloc *al;
	struct turn_conn *tc = NULL;
	struct sw_sa peer;
	struct turn_src data;

	CU_ASSERT_EQUAL_FATAL(turn_alloc_inproc(srv, 42, AF_INET, &al), 0);
	CU_ASSERT(al->tcp);
	CU_ASSERT_EQUAL(al->call_id, 42);
	CU_ASSERT_EQUAL(turn_srv_next_timeout(srv), -1); /* no expiry */
	sw_sa_set_ip(&peer, "127.0.0.1", 40000);
	CU_ASSERT_EQUAL(turn_alloc_permit(srv, al, &peer), 0);
	sw_sa_set_ip(&peer, "0.0.0.0", 1);
	CU_ASSERT_EQUAL(turn_alloc_permit(srv, al, &peer), EPERM);
	sw_sa_set_ip(&peer, "127.0.0.1", 40000);
	fk.tc = NULL;
	fk.sent = 0;
	CU_ASSERT_EQUAL(turn_conn_incoming(srv, al, &peer, &tc), 0);
	CU_ASSERT_PTR_EQUAL(fk.tc, tc); /* an event, not an indication */
	CU_ASSERT_EQUAL(fk.sent, 0);
	memset(&data, 0, sizeof(data));
	data.tp = TURN_TP_INPROC;
	CU_ASSERT_EQUAL(turn_conn_bind_inproc(srv, tc, &data), 0);
	CU_ASSERT_EQUAL(tc->state, TURN_CONN_BOUND);
	CU_ASSERT_EQUAL(turn_conn_bind_inproc(srv, tc, &data), EALREADY);
	turn_alloc_delete(srv, al, "test");
	CU_ASSERT_EQUAL(fk.conn_closes, 1);
}


/* --- policy, robustness, timers ----------------------------------------------- */

static bool denied(const char *ip)
{
	struct sw_sa sa;

	CU_ASSERT_EQUAL_FATAL(sw_sa_set_ip(&sa, ip, 1), 0);
	return turn_srv_check_peer(srv, &sa) == EPERM;
}


UNIT_TEST(test_peer_policy, "peer policy")
{
	static const char *const deny[] = {
		"0.0.0.0", "0.1.2.3", "224.0.0.1", "239.1.1.1",
		"255.255.255.255", "169.254.10.1", "192.0.2.10", /* relay */
		"::", "::1", "fe80::1", "ff02::1", "::ffff:0.0.0.1",
		"::ffff:224.0.0.1", "::ffff:169.254.1.1",
		"::ffff:255.255.255.255", "::ffff:192.0.2.10",
	};

	for (size_t i = 0; i < sizeof(deny) / sizeof(*deny); ++i) {
		if (!denied(deny[i]))
			fprintf(stderr, "\n  %s not denied\n", deny[i]);
		CU_ASSERT(denied(deny[i]));
	}
	/* allow_peer 127.0.0.0/8 in this suite, also in mapped form */
	CU_ASSERT(!denied("127.0.0.1"));
	CU_ASSERT(!denied("::ffff:127.0.0.1"));
	CU_ASSERT(!denied("198.51.100.7"));
	CU_ASSERT(!denied("2001:db8::7"));
	conf.n_turn_allow = 0;
	CU_ASSERT(denied("127.0.0.1"));
	CU_ASSERT(denied("::ffff:127.0.0.1"));
	sw_cidr_parse(&conf.turn_deny[0], "198.51.100.0/24");
	conf.n_turn_deny = 1;
	CU_ASSERT(denied("198.51.100.7"));
	CU_ASSERT(denied("::ffff:198.51.100.7"));
	conf.n_turn_deny = 0;
	conf.n_turn_allow = 1;
}


static bool addr_denied(const char *ip, uint16_t port)
{
	struct sw_sa sa;

	CU_ASSERT_EQUAL_FATAL(sw_sa_set_ip(&sa, ip, port), 0);
	return turn_srv_check_peer_addr(srv, &sa) == EPERM;
}


/* IPv6 addresses that carry an IPv4 address are checked against the
 * IPv4 rules too: IPv4-compatible, 6to4, Teredo (server, and client
 * inverted), NAT64 */
UNIT_TEST(test_peer_embedded, "peer policy: IPv4 inside IPv6")
{
	static const char *const deny[] = {
		"::224.0.0.1", "::169.254.1.1", "::192.0.2.10", /* compatible */
		"2002:e000:1::1", "2002:a9fe:101::", /* 6to4 */
		"2002:c000:20a:1::5",                /* 6to4 of the relay */
		"2001:0:e000:1::",                   /* Teredo server 224/4 */
		"2001:0:cb00:7101:0:0:5601:fefe",    /* Teredo client
							169.254.1.1 */
		"64:ff9b::a9fe:101", "64:ff9b::c000:20a", /* NAT64 */
		"64:ff9b::e000:1",
	};

	for (size_t i = 0; i < sizeof(deny) / sizeof(*deny); ++i) {
		if (!denied(deny[i]))
			fprintf(stderr, "\n  %s not denied\n", deny[i]);
		CU_ASSERT(denied(deny[i]));
	}
	CU_ASSERT(!denied("2001:db8::7"));
	CU_ASSERT(!denied("64:ff9b::cb00:7101"));       /* 203.0.113.1 */
	CU_ASSERT(!denied("2002:cb00:7101::1"));
	CU_ASSERT(!denied("2001:0:cb00:7101:0:0:34ff:8efe")); /* 203.0.113.1 */
	CU_ASSERT(!denied("::127.0.0.1")); /* allow_peer 127.0.0.0/8 here */
	CU_ASSERT(!denied("64:ff9b::7f00:1"));
	sw_cidr_parse(&conf.turn_deny[0], "198.51.100.0/24");
	conf.n_turn_deny = 1;
	CU_ASSERT(denied("64:ff9b::c633:6407"));
	CU_ASSERT(denied("2002:c633:6407::1"));
	CU_ASSERT(denied("::198.51.100.7"));
	conf.n_turn_deny = 0;
	conf.n_turn_allow = 0;
	CU_ASSERT(denied("64:ff9b::7f00:1"));
	CU_ASSERT(denied("2002:7f00:1::"));
	CU_ASSERT(denied("::127.0.0.1"));
	conf.n_turn_allow = 1;
}


/* A Send indication to peer from udp_src */
static void send_ind(const struct sw_sa *peer, const char *data)
{
	struct rq q;

	memset(q.tid, 7, sizeof(q.tid));
	turn_enc_init(&q.e, q.buf, sizeof(q.buf), TURN_M_SEND,
		      TURN_C_INDICATION, q.tid);
	turn_enc_xaddr(&q.e, TURN_A_XOR_PEER_ADDRESS, peer);
	turn_enc_attr(&q.e, TURN_A_DATA, (const uint8_t *)data, strlen(data));
	rq_send(&q, &udp_src, NULL, NULL, NULL);
}


/* The gateway's own transport addresses stay denied where allow_peer
 * covers them: its TURN and SIP listeners (a wildcard one on every
 * address of the host), the relay and inside port ranges; in Connect,
 * ChannelBind and Send alike; only allow_own_addresses lifts that */
UNIT_TEST(test_peer_own, "peer policy: the gateway's own addresses")
{
	char nonce[64];
	struct turn_msg m;
	struct sw_sa peer;
	struct rq q;
	int code;

	conf.turn_listen[0].tp = SW_TP_TCP;
	sw_sa_set_ip(&conf.turn_listen[0].addr, "192.0.2.20", 3478);
	conf.n_turn_listen = 1;
	conf.sip_listen[0].tp = SW_TP_UDP;
	sw_sa_set_ip(&conf.sip_listen[0].addr, "192.0.2.30", 5060);
	conf.sip_listen[1].tp = SW_TP_TCP;
	sw_sa_set_ip(&conf.sip_listen[1].addr, "0.0.0.0", 5070);
	conf.n_sip_listen = 2;
	sw_sa_set_ip(&conf.as_inside_ip, "192.0.2.40", 0);
	sw_cidr_parse(&conf.turn_allow[1], "192.0.2.0/24");
	conf.n_turn_allow = 2;

	CU_ASSERT(addr_denied("192.0.2.20", 3478));  /* TURN listener */
	CU_ASSERT(!addr_denied("192.0.2.20", 3479));
	CU_ASSERT(addr_denied("192.0.2.10", 50000)); /* another allocation */
	CU_ASSERT(!addr_denied("192.0.2.10", 1000));
	CU_ASSERT(addr_denied("192.0.2.40", 49200)); /* an inside listener */
	CU_ASSERT(addr_denied("192.0.2.30", 5060));  /* SIP */
	CU_ASSERT(addr_denied("127.0.0.5", 5070));   /* SIP on 0.0.0.0 */
	CU_ASSERT(addr_denied("192.0.2.10", 5070));
	CU_ASSERT(!addr_denied("203.0.113.9", 5070));
	CU_ASSERT(!addr_denied("127.0.0.1", 9000));
	CU_ASSERT(addr_denied("64:ff9b::c000:214", 3478)); /* NAT64 of it */
	CU_ASSERT(!denied("192.0.2.20")); /* a permission names the IP */

	get_nonce_on(&tcp_src, nonce);
	CU_ASSERT_EQUAL(allocate(&tcp_src, 6, nonce, 0), 200);
	CU_ASSERT_EQUAL(permit(&tcp_src, nonce, "192.0.2.20"), 200);
	tcp_connect(nonce, "192.0.2.20", 3478, &code);
	CU_ASSERT_EQUAL(code, 403);
	tcp_connect(nonce, "192.0.2.30", 5060, &code);
	CU_ASSERT_EQUAL(code, 403);
	turn_srv_transport_closed(srv, &tcp_src);

	get_nonce(nonce);
	CU_ASSERT_EQUAL(allocate(&udp_src, 17, nonce, 0), 200);
	CU_ASSERT_EQUAL(permit(&udp_src, nonce, "192.0.2.30"), 200);
	sw_sa_set_ip(&peer, "192.0.2.30", 5060);
	rq_start(&q, TURN_M_CHANBIND);
	turn_enc_u32(&q.e, TURN_A_CHANNEL_NUMBER, 0x4001u << 16);
	turn_enc_xaddr(&q.e, TURN_A_XOR_PEER_ADDRESS, &peer);
	rq_send(&q, &udp_src, "cms", "cmssecret", nonce);
	CU_ASSERT_EQUAL(last_code(&m), 403);
	send_ind(&peer, "OPTIONS");
	CU_ASSERT_EQUAL(fk.relayed, 0);
	sw_sa_set_port(&peer, 5061); /* not a listener: relayed */
	send_ind(&peer, "OPTIONS");
	CU_ASSERT_EQUAL(fk.relayed, 1);

	conf.turn_allow_own = true;
	CU_ASSERT(!addr_denied("192.0.2.20", 3478));
	CU_ASSERT(!addr_denied("192.0.2.10", 50000));
	conf.turn_allow_own = false;
	conf.n_turn_listen = conf.n_sip_listen = 0;
	memset(&conf.as_inside_ip, 0, sizeof(conf.as_inside_ip));
	conf.n_turn_allow = 1;
}


/* At most max_unbound_peers connections of an allocation await their
 * bind: a peer beyond is refused, a Connect beyond gets 508; a bind
 * makes room */
UNIT_TEST(test_unbound_cap, "unbound connections capped")
{
	char nonce[64], dnonce[64];
	struct turn_alloc *al;
	struct turn_conn *tc[3] = {NULL};
	struct sw_sa peer;
	int code;

	conf.turn_max_unbound = 2;
	get_nonce_on(&tcp_src, nonce);
	get_nonce_on(&data_src, dnonce);
	CU_ASSERT_EQUAL(allocate(&tcp_src, 6, nonce, 0), 200);
	al = turn_srv_find(srv, &tcp_src);
	CU_ASSERT_PTR_NOT_NULL_FATAL(al);
	CU_ASSERT_EQUAL(permit(&tcp_src, nonce, "127.0.0.1"), 200);
	for (int i = 0; i < 3; ++i) {
		sw_sa_set_ip(&peer, "127.0.0.1", (uint16_t)(40001 + i));
		CU_ASSERT_EQUAL(turn_conn_incoming(srv, al, &peer, &tc[i]),
				i < 2 ? 0 : ENOSPC);
	}
	CU_ASSERT_EQUAL(al->n_unbound, 2);
	tcp_connect(nonce, "127.0.0.1", 9000, &code);
	CU_ASSERT_EQUAL(code, 508);
	CU_ASSERT_EQUAL(conn_bind(&data_src, "cms", "cmssecret", dnonce,
				  tc[0]->id),
			200);
	CU_ASSERT_EQUAL(al->n_unbound, 1);
	CU_ASSERT_EQUAL(turn_conn_incoming(srv, al, &peer, &tc[2]), 0);
	turn_conn_close(srv, tc[1], "test");
	CU_ASSERT_EQUAL(al->n_unbound, 1);
	turn_srv_transport_closed(srv, &tcp_src);
	conf.turn_max_unbound = 32;
}


UNIT_TEST(test_garbage, "garbage input")
{
	uint8_t buf[600];
	unsigned seed = 12345;

	for (int i = 0; i < 20000; ++i) {
		size_t len = (size_t)(rand_r(&seed) % sizeof(buf));

		for (size_t k = 0; k < len; ++k)
			buf[k] = (uint8_t)rand_r(&seed);
		if (i % 3 == 0 && len >= 20) { /* a sound header, junk after */
			buf[0] = 0;
			buf[1] = (uint8_t)(rand_r(&seed) % 16);
			buf[2] = (uint8_t)((len - 20) >> 8);
			buf[3] = (uint8_t)((len - 20) & 0xfc);
			buf[4] = 0x21;
			buf[5] = 0x12;
			buf[6] = 0xa4;
			buf[7] = 0x42;
		}
		turn_srv_recv(srv, i & 1 ? &udp_src : &tcp_src, buf, len);
	}
	CU_ASSERT(turn_srv_counters(srv)->bad_messages > 0);
	CU_ASSERT_EQUAL(fk.opened, 0);
}


static unsigned fired[64], n_fired;

static void on_timer(struct turn_timer *t, void *arg)
{
	(void)t;
	fired[n_fired++] = (unsigned)(uintptr_t)arg;
}


UNIT_TEST(test_timers, "timer heap")
{
	struct turn_timer t[40];
	unsigned seed = 7;

	memset(t, 0, sizeof(t));
	n_fired = 0;
	for (unsigned i = 0; i < 40; ++i)
		turn_timer_start(srv, &t[i], 1 + rand_r(&seed) % 1000, on_timer,
				 (void *)(uintptr_t)i);
	for (unsigned i = 0; i < 40; i += 4)
		turn_timer_cancel(srv, &t[i]);
	turn_timer_start(srv, &t[1], 5000, on_timer, (void *)(uintptr_t)1);
	advance(1000);
	CU_ASSERT_EQUAL(n_fired, 29);
	for (unsigned i = 1; i < n_fired; ++i)
		CU_ASSERT(t[fired[i - 1]].due <= t[fired[i]].due);
	for (unsigned i = 0; i < n_fired; ++i)
		CU_ASSERT(fired[i] % 4 != 0 && fired[i] != 1);
	CU_ASSERT_EQUAL(turn_srv_next_timeout(srv), 4000);
	advance(4000);
	CU_ASSERT_EQUAL(n_fired, 30);
	CU_ASSERT_EQUAL(turn_srv_next_timeout(srv), -1);
}


/* A snapshot copies and a sum adds every counter, each by its name */
UNIT_TEST(test_counters, "counters: snapshot and sum by name")
{
	struct turn_counters a, b, sum;
	uint64_t v = 1;

	memset(&a, 0, sizeof(a));
	memset(&sum, 0, sizeof(sum));
#define CNT_SET(f) a.f = v, v *= 3;
	TURN_COUNTERS(CNT_SET)
#undef CNT_SET
	turn_counters_snapshot(&a, &b);
	CU_ASSERT(!memcmp(&a, &b, sizeof(a)));
	turn_counters_add(&sum, &a);
	turn_counters_add(&sum, &b);
#define CNT_CHECK(f) CU_ASSERT_EQUAL(sum.f, 2 * a.f);
	TURN_COUNTERS(CNT_CHECK)
#undef CNT_CHECK
	CU_ASSERT_EQUAL(sum.allocs_udp, 2);
	CU_ASSERT_EQUAL(sum.prebind_bytes, 2 * 1594323); /* 3^13 */
}


UNIT_SUITE("turn_alloc", NULL, NULL, setup, teardown);
