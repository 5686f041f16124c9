/**
 * @file test_relay.c  Suite relay: the in-process client API of the relay
 * threads, as the app-sharing coordinator drives it, on 127.0.0.1 with
 * real sockets: ALLOC -> ALLOCATED, a peer (the "Edge") connects ->
 * CONN_ATTEMPT, BIND to far-side candidates in order (the first refuses)
 * -> CONN_BOUND, STUN in RFC 4571 frames -> STUN events both ways,
 * SPLICE -> SPLICED and 1 MB each way intact, close -> CONN_CLOSED with
 * byte counts, DELETE -> ALLOC_GONE; a custom observer that asks for
 * splice itself; the copy buffers of inspect mode (small for checks,
 * grown for a stream, freed at the splice); and observe mode: WATCH ties an external RFC 6062
 * client's allocation to a call, its connection is inspected; out of
 * descriptors, a relayed listener is paused and sheds its waiting peers;
 * relay_stream_io()'s four results on a plain stream.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "relay.h"
#include "relay_int.h"
#include "turn_msg.h"
#include "unit.h"

static struct sw_conf conf;


/* Ports below the kernel's ephemeral range (32768-60999), away from the
 * integration tests (21000-22999) and the benchmarks (30000-30999) */
static void conf_init(void)
{
	sw_conf_defaults(&conf);
	sw_sa_set_ip(&conf.turn_relay_ip, "127.0.0.1", 0);
	conf.turn_port_min = 31500;
	conf.turn_port_max = 31599;
	sw_cidr_parse(&conf.turn_allow[0], "127.0.0.0/8");
	conf.n_turn_allow = 1;
}


/* Wait up to ms milliseconds for an event of this type (others are
 * skipped) */
static bool ev_within(struct relay *r, enum relay_ev_type type,
		      struct relay_ev *ev, int ms)
{
	for (int i = 0; i < ms / 10; ++i) {
		struct pollfd p = {relay_ev_fd(r), POLLIN, 0};

		while (relay_ev_pop(r, ev)) {
			if (ev->type == type)
				return true;
			relay_ev_release(ev);
		}
		poll(&p, 1, 10);
		relay_ev_ack(r);
	}
	return false;
}


static bool ev_wait(struct relay *r, enum relay_ev_type type,
		    struct relay_ev *ev)
{
	return ev_within(r, type, ev, 3000);
}


static int tcp_listen(struct sw_sa *addr)
{
	socklen_t sl = sizeof(addr->u);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sw_sa_set_ip(addr, "127.0.0.1", 0);
	if (fd < 0 || bind(fd, &addr->u.sa, sw_sa_len(addr)) ||
	    listen(fd, 4) || getsockname(fd, &addr->u.sa, &sl))
		return -1;
	return fd;
}


/* The conference's side of a bridged connection: accepted, reads bounded
 * at 3 s so a test that waits for bytes that never come fails, not hangs */
static int accept_bounded(int lfd)
{
	int fd = accept(lfd, NULL, NULL);

	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO,
			   &(struct timeval){3, 0}, sizeof(struct timeval));
	return fd;
}


/* A connection to addr, from the address ip if not NULL */
static int tcp_connect_from(const char *ip, const struct sw_sa *addr)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct timeval tv = {3, 0};
	struct sw_sa src;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if ((ip && (sw_sa_set_ip(&src, ip, 0) ||
		    bind(fd, &src.u.sa, sw_sa_len(&src)))) ||
	    connect(fd, &addr->u.sa, sw_sa_len(addr))) {
		close(fd);
		return -1;
	}
	return fd;
}


static int tcp_connect(const struct sw_sa *addr)
{
	return tcp_connect_from(NULL, addr);
}


/* An in-process allocation for call_id permitting 127.0.0.1 (or no one),
 * with an inside listener if asked */
static void alloc_inproc(struct relay *r, uint64_t call_id, bool permit,
			 bool inside, struct relay_ev *ev)
{
	struct relay_cmd cmd;

	memset(&cmd, 0, sizeof(cmd));
	cmd.type = RELAY_CMD_ALLOC;
	cmd.call_id = call_id;
	cmd.token = 7;
	cmd.af = AF_INET;
	cmd.inside = inside;
	if (permit)
		sw_sa_set_ip(&cmd.addrs[cmd.n_addrs++], "127.0.0.1", 0);
	CU_ASSERT_EQUAL_FATAL(relay_cmd_send(r, &cmd), 0);
	CU_ASSERT_FATAL(ev_wait(r, RELAY_EV_ALLOCATED, ev));
	CU_ASSERT_EQUAL(ev->token, 7);
	CU_ASSERT_EQUAL(sw_sa_port(&ev->addr) / 100, 315);
}


static bool read_all(int fd, uint8_t *buf, size_t n)
{
	while (n) {
		ssize_t k = recv(fd, buf, n, 0);

		if (k <= 0)
			return false;
		buf += k;
		n -= (size_t)k;
	}
	return true;
}


/* An RFC 4571 frame holding a STUN Binding request or success */
static size_t stun_frame(uint8_t *out, size_t cap, uint8_t cls, bool nominate)
{
	static const uint8_t tid[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
	struct turn_enc e;
	size_t len = 0;

	turn_enc_init(&e, out + 2, cap - 2, TURN_M_BINDING, cls, tid);
	if (nominate) {
		turn_enc_attr(&e, TURN_A_USE_CANDIDATE, NULL, 0);
		turn_enc_u64(&e, TURN_A_ICE_CONTROLLING, 42);
		turn_enc_u32(&e, TURN_A_PRIORITY, 0x6e0001ff);
	}
	if (turn_enc_finish(&e, &len))
		return 0;
	out[0] = (uint8_t)(len >> 8);
	out[1] = (uint8_t)len;
	return len + 2;
}


/* The next n RELAY_EV_TURN_MSG events (others are skipped): "M/C/s"
 * per message, method and class in hex, s when sent by the server, ' '
 * between; each between the client's address cli and the server's srv */
static bool turn_msgs(struct relay *r, unsigned n, const struct sw_sa *cli,
		      const struct sw_sa *srv, char *out, size_t sz)
{
	struct relay_ev ev;
	size_t len = 0;

	out[0] = '\0';
	while (n--) {
		struct turn_msg m;
		bool ok;

		if (!ev_wait(r, RELAY_EV_TURN_MSG, &ev))
			return false;
		ok = ev.wire.data && !ev.wire.n_lost &&
		     !turn_msg_decode(&m, ev.wire.data, ev.wire.len, NULL) &&
		     sw_sa_cmp(ev.sent ? &ev.wire.dst : &ev.wire.src, cli,
			       true) &&
		     sw_sa_cmp(ev.sent ? &ev.wire.src : &ev.wire.dst, srv,
			       true) &&
		     ev.wire.t_us > 0;
		if (ok)
			len += (size_t)snprintf(out + len, sz - len,
						"%s%x/%x%s", len ? " " : "",
						m.method, m.cls,
						ev.sent ? "s" : "");
		relay_ev_release(&ev);
		if (!ok || len >= sz)
			return false;
	}
	return true;
}


/* The local address of a connected socket */
static void sock_name(int fd, struct sw_sa *sa)
{
	socklen_t sl = sizeof(sa->u);

	memset(sa, 0, sizeof(*sa));
	getsockname(fd, &sa->u.sa, &sl);
}


/* ALLOC, a peer connects, BIND to cms; returns the connection id */
static uint32_t call_setup(struct relay *r, const struct sw_sa *cms,
			   bool inspect, int *edge, uint32_t *alloc_id)
{
	struct relay_cmd cmd;
	struct relay_ev ev;

	alloc_inproc(r, 99, true, false, &ev);
	*alloc_id = ev.alloc_id;
	*edge = tcp_connect(&ev.addr);
	CU_ASSERT_FATAL(*edge >= 0);
	CU_ASSERT_FATAL(ev_wait(r, RELAY_EV_CONN_ATTEMPT, &ev));
	CU_ASSERT_EQUAL(ev.call_id, 99);
	memset(&cmd, 0, sizeof(cmd));
	cmd.type = RELAY_CMD_BIND;
	cmd.conn_id = ev.conn_id;
	sw_sa_set_ip(&cmd.addrs[0], "127.0.0.1", 1); /* refused */
	cmd.addrs[1] = *cms;
	cmd.n_addrs = 2;
	cmd.inspect = inspect;
	CU_ASSERT_EQUAL_FATAL(relay_cmd_send(r, &cmd), 0);
	CU_ASSERT_FATAL(ev_wait(r, RELAY_EV_CONN_BOUND, &ev));
	CU_ASSERT(sw_sa_cmp(&ev.addr, cms, true));
	return ev.conn_id;
}


static void bulk_both_ways(int a, int b, size_t n)
{
	uint8_t *out = malloc(n), *in = malloc(n);

	CU_ASSERT_FATAL(out && in);
	for (size_t i = 0; i < n; ++i)
		out[i] = (uint8_t)(i * 7 + 3);
	for (int dir = 0; dir < 2; ++dir) {
		int src = dir ? b : a, dst = dir ? a : b;
		size_t sent = 0, got = 0;

		while (got < n) {
			ssize_t k;

			if (sent < n) {
				k = send(src, out + sent, n - sent,
					 MSG_DONTWAIT);
				sent += k > 0 ? (size_t)k : 0;
			}
			k = recv(dst, in + got, n - got, 0);
			if (k <= 0)
				break;
			got += (size_t)k;
		}
		CU_ASSERT_EQUAL(got, n);
		CU_ASSERT(!memcmp(in, out, n));
	}
	free(out);
	free(in);
}


UNIT_TEST(test_inproc_call, "in-process call: inspect, splice")
{
	struct relay *r = NULL;
	struct relay_cmd cmd;
	struct relay_ev ev;
	struct turn_counters c;
	struct sw_sa cms;
	uint8_t f[256], g[256];
	struct sw_sa edge_sa, relayed;
	uint32_t conn, alloc;
	int lfd, edge, cfd;
	size_t n, n_req;

	conf_init();
	CU_ASSERT_EQUAL_FATAL(relay_start(&r, &conf, NULL, NULL), 0);
	lfd = tcp_listen(&cms);
	CU_ASSERT_FATAL(lfd >= 0);
	conn = call_setup(r, &cms, true, &edge, &alloc);
	sock_name(edge, &edge_sa);
	CU_ASSERT_EQUAL_FATAL(getpeername(edge, &relayed.u.sa,
					  &(socklen_t){sizeof(relayed.u)}), 0);
	cfd = accept_bounded(lfd);
	CU_ASSERT_FATAL(cfd >= 0);

	n = n_req = stun_frame(f, sizeof(f), TURN_C_REQUEST, true);
	CU_ASSERT_EQUAL((size_t)send(edge, f, n, 0), n);
	CU_ASSERT(read_all(cfd, g, n) && !memcmp(f, g, n));
	CU_ASSERT_FATAL(ev_wait(r, RELAY_EV_STUN, &ev));
	CU_ASSERT_EQUAL(ev.conn_id, conn);
	CU_ASSERT_EQUAL(ev.dir, RELAY_DIR_TO_CLIENT); /* from the peer */
	CU_ASSERT_EQUAL(ev.stun.cls, TURN_C_REQUEST);
	CU_ASSERT(ev.stun.use_candidate);
	CU_ASSERT_EQUAL(ev.stun.role, 1);
	CU_ASSERT_EQUAL(ev.stun.priority, 0x6e0001ff);
	/* a copy for the call log: the frame as it came, from the peer to
	 * the relayed address */
	CU_ASSERT(ev.wire.data && ev.wire.len == n && ev.wire.t_us > 0 &&
		  !memcmp(ev.wire.data, f, n));
	CU_ASSERT(sw_sa_cmp(&ev.wire.src, &edge_sa, true));
	CU_ASSERT(sw_sa_cmp(&ev.wire.dst, &relayed, true));
	relay_ev_release(&ev);

	n = stun_frame(f, sizeof(f), TURN_C_SUCCESS, false);
	CU_ASSERT_EQUAL((size_t)send(cfd, f, n, 0), n);
	CU_ASSERT(read_all(edge, g, n) && !memcmp(f, g, n));
	CU_ASSERT_FATAL(ev_wait(r, RELAY_EV_STUN, &ev));
	CU_ASSERT_EQUAL(ev.dir, RELAY_DIR_TO_PEER);
	CU_ASSERT_EQUAL(ev.stun.cls, TURN_C_SUCCESS);
	/* the conference's answer, as written to the peer */
	CU_ASSERT(ev.wire.data && ev.wire.len == n &&
		  !memcmp(ev.wire.data, f, n));
	CU_ASSERT(sw_sa_cmp(&ev.wire.src, &relayed, true));
	CU_ASSERT(sw_sa_cmp(&ev.wire.dst, &edge_sa, true));
	relay_ev_release(&ev);

	memset(&cmd, 0, sizeof(cmd));
	cmd.type = RELAY_CMD_SPLICE;
	cmd.conn_id = conn;
	CU_ASSERT_EQUAL(relay_cmd_send(r, &cmd), 0);
	CU_ASSERT(ev_wait(r, RELAY_EV_SPLICED, &ev));
	bulk_both_ways(edge, cfd, 1 << 20);

	close(edge);
	CU_ASSERT_FATAL(ev_wait(r, RELAY_EV_CONN_CLOSED, &ev));
	CU_ASSERT_EQUAL(ev.bytes[RELAY_DIR_TO_CLIENT], (1u << 20) + n_req);
	CU_ASSERT_EQUAL(ev.bytes[RELAY_DIR_TO_PEER], (1u << 20) + n);
	CU_ASSERT_EQUAL(recv(cfd, g, 1, 0), 0); /* the other side closed */
	memset(&cmd, 0, sizeof(cmd));
	cmd.type = RELAY_CMD_DELETE;
	cmd.alloc_id = alloc;
	CU_ASSERT_EQUAL(relay_cmd_send(r, &cmd), 0);
	CU_ASSERT(ev_wait(r, RELAY_EV_ALLOC_GONE, &ev));
	relay_counters(r, &c);
	CU_ASSERT_EQUAL(c.allocs_tcp, 0);
	CU_ASSERT_EQUAL(c.conns_active, 0);
	CU_ASSERT(c.bytes_to_client >= 1u << 20);
	close(cfd);
	close(lfd);
	relay_stop(r);
}


static unsigned observed;

static enum relay_inspect splice_at_once(void *arg, uint32_t conn_id,
					 enum relay_dir dir,
					 const uint8_t *frame, size_t len)
{
	(void)arg;
	(void)conn_id;
	(void)dir;
	++observed;
	return turn_msg_is_stun(frame, len) ? RELAY_INSPECT_SPLICE
					    : RELAY_INSPECT_CONTINUE;
}


UNIT_TEST(test_observer_hook, "observer hook asks for splice")
{
	struct relay *r = NULL;
	struct relay_ev ev;
	struct sw_sa cms;
	uint8_t f[256], g[256];
	uint32_t alloc;
	int lfd, edge, cfd;
	size_t n;

	conf_init();
	observed = 0;
	CU_ASSERT_EQUAL_FATAL(relay_start(&r, &conf, splice_at_once, NULL), 0);
	lfd = tcp_listen(&cms);
	CU_ASSERT_FATAL(lfd >= 0);
	call_setup(r, &cms, true, &edge, &alloc);
	cfd = accept(lfd, NULL, NULL);
	CU_ASSERT_FATAL(cfd >= 0);
	n = stun_frame(f, sizeof(f), TURN_C_REQUEST, true);
	/* a non-STUN frame first: not observed */
	CU_ASSERT_EQUAL(send(edge, "\x00\x03" "abc", 5, 0), 5);
	CU_ASSERT_EQUAL((size_t)send(edge, f, n, 0), n);
	CU_ASSERT(read_all(cfd, g, 5) && read_all(cfd, g, n));
	CU_ASSERT(ev_wait(r, RELAY_EV_SPLICED, &ev));
	CU_ASSERT_EQUAL(observed, 1);
	bulk_both_ways(edge, cfd, 256 * 1024);
	CU_ASSERT_EQUAL(observed, 1); /* nothing inspected after the switch */
	close(edge);
	close(cfd);
	close(lfd);
	relay_stop(r); /* deletes the allocation, closes everything */
}


static uint64_t copy_bytes_now(struct relay *r)
{
	struct turn_counters c;

	relay_counters(r, &c);
	return c.copy_bytes;
}


/* The copy buffers become 0 within 3 s (the relay thread frees them
 * after it has posted SPLICED) */
static bool copy_bytes_gone(struct relay *r)
{
	for (int i = 0; i < 300 && copy_bytes_now(r); ++i)
		poll(NULL, 0, 10);
	return copy_bytes_now(r) == 0;
}


/* A connection in its checks holds small buffers (2 KB a direction and
 * the deframers), a stream through inspect mode grows them, the splice
 * frees them all, and the spliced bytes need none */
UNIT_TEST(test_inspect_buffers, "inspect buffers: small, grown, freed")
{
	struct relay *r = NULL;
	struct relay_cmd cmd;
	struct relay_ev ev;
	struct sw_sa cms;
	uint8_t f[256], g[256];
	const uint64_t dfs = 2 * (RELAY_ACC_MAX + 64); /* two deframers */
	uint64_t held;
	uint32_t conn, alloc;
	int lfd, edge, cfd;
	size_t n;

	conf_init();
	CU_ASSERT_EQUAL_FATAL(relay_start(&r, &conf, NULL, NULL), 0);
	lfd = tcp_listen(&cms);
	CU_ASSERT_FATAL(lfd >= 0);
	conn = call_setup(r, &cms, true, &edge, &alloc);
	cfd = accept_bounded(lfd);
	CU_ASSERT_FATAL(cfd >= 0);
	n = stun_frame(f, sizeof(f), TURN_C_REQUEST, true);
	CU_ASSERT_EQUAL((size_t)send(edge, f, n, 0), n);
	CU_ASSERT(read_all(cfd, g, n));
	n = stun_frame(f, sizeof(f), TURN_C_SUCCESS, false);
	CU_ASSERT_EQUAL((size_t)send(cfd, f, n, 0), n);
	CU_ASSERT(read_all(edge, g, n));
	CU_ASSERT(ev_wait(r, RELAY_EV_STUN, &ev));
	relay_ev_release(&ev);
	held = copy_bytes_now(r);
	CU_ASSERT(held > dfs / 2);
	CU_ASSERT(held <= 2 * RELAY_COPY_MIN + dfs);

	bulk_both_ways(edge, cfd, 256 * 1024); /* still inspected */
	held = copy_bytes_now(r);
	CU_ASSERT(held > 2 * RELAY_COPY_MIN + dfs);
	CU_ASSERT(held <= 2 * RELAY_COPY_BUF + dfs);

	memset(&cmd, 0, sizeof(cmd));
	cmd.type = RELAY_CMD_SPLICE;
	cmd.conn_id = conn;
	CU_ASSERT_EQUAL(relay_cmd_send(r, &cmd), 0);
	CU_ASSERT(ev_wait(r, RELAY_EV_SPLICED, &ev));
	CU_ASSERT(copy_bytes_gone(r)); /* neither direction sent since */
	bulk_both_ways(edge, cfd, 256 * 1024);
	CU_ASSERT_EQUAL(copy_bytes_now(r), 0); /* zero copy */
	close(edge);
	CU_ASSERT(ev_wait(r, RELAY_EV_CONN_CLOSED, &ev));
	close(cfd);
	close(lfd);
	relay_stop(r);
}


/* --- observe mode: a minimal external RFC 6062 client ------------------- */

/* One request on fd (TURN framing), authenticated if nonce[0]; the
 * response lands in rb and *m */
static int turn_rq(int fd, uint16_t method, uint8_t transport,
		   const struct sw_sa *peer, uint32_t connid, char nonce[64],
		   uint8_t *rb, struct turn_msg *m)
{
	static uint8_t tid[12] = {9};
	uint8_t b[512], key[16];
	struct turn_enc e;
	size_t len = 0, flen = 0;
	uint16_t code = 0;

	++tid[11];
	turn_enc_init(&e, b, sizeof(b), method, TURN_C_REQUEST, tid);
	if (transport)
		turn_enc_u32(&e, TURN_A_REQUESTED_TRANSPORT,
			     (uint32_t)transport << 24);
	if (peer)
		turn_enc_xaddr(&e, TURN_A_XOR_PEER_ADDRESS, peer);
	if (connid)
		turn_enc_u32(&e, TURN_A_CONNECTION_ID, connid);
	if (nonce[0]) {
		turn_enc_str(&e, TURN_A_USERNAME, "cms");
		turn_enc_str(&e, TURN_A_REALM, "TANDBERG");
		turn_enc_str(&e, TURN_A_NONCE, nonce);
		turn_key_longterm(key, "cms", "TANDBERG", "cmssecret");
		turn_enc_integrity(&e, key, sizeof(key));
	}
	if (turn_enc_finish(&e, &len) || send(fd, b, len, 0) != (ssize_t)len ||
	    !read_all(fd, rb, 20) || turn_frame_len(rb, 20, &flen) != ENODATA ||
	    !read_all(fd, rb + 20, flen - 20) ||
	    turn_msg_decode(m, rb, flen, NULL))
		return -1;
	if (m->cls == TURN_C_SUCCESS)
		return 200;
	turn_msg_get_error(m, &code, NULL, 0);
	if (code == 401 || code == 438)
		turn_msg_get_str(m, TURN_A_NONCE, nonce, 64, NULL);
	return code;
}


UNIT_TEST(test_watch, "observe mode: WATCH an external allocation")
{
	struct relay *r = NULL;
	struct relay_cmd cmd;
	struct relay_ev ev;
	struct turn_msg m;
	struct sw_sa lis, relayed, lo, cli;
	uint8_t rb[1024], f[256];
	char nonce[64] = "", got[128];
	uint32_t id = 0;
	int ctl, edge, data;
	size_t n;

	conf_init();
	conf.turn_listen[0].tp = SW_TP_TCP;
	sw_sa_set_ip(&conf.turn_listen[0].addr, "127.0.0.1", 31690);
	conf.n_turn_listen = 1;
	snprintf(conf.turn_realm, sizeof(conf.turn_realm), "TANDBERG");
	snprintf(conf.turn_users[0].name, 128, "cms");
	snprintf(conf.turn_users[0].password, 128, "cmssecret");
	conf.n_turn_users = 1;
	lis = conf.turn_listen[0].addr;
	sw_sa_set_ip(&lo, "127.0.0.1", 0);
	CU_ASSERT_EQUAL_FATAL(relay_start(&r, &conf, NULL, NULL), 0);
	ctl = tcp_connect(&lis);
	CU_ASSERT_FATAL(ctl >= 0);
	CU_ASSERT_EQUAL(turn_rq(ctl, TURN_M_ALLOCATE, 6, NULL, 0, nonce, rb, &m),
			401);
	CU_ASSERT_EQUAL_FATAL(turn_rq(ctl, TURN_M_ALLOCATE, 6, NULL, 0, nonce,
				      rb, &m), 200);
	CU_ASSERT_EQUAL_FATAL(turn_msg_get_xaddr(&m, TURN_A_XOR_RELAYED_ADDRESS,
						 &relayed), 0);
	CU_ASSERT_EQUAL(turn_rq(ctl, TURN_M_CREATEPERM, 0, &lo, 0, nonce, rb,
				&m), 200);

	memset(&cmd, 0, sizeof(cmd));
	cmd.type = RELAY_CMD_WATCH;
	cmd.call_id = 77;
	cmd.token = 5;
	cmd.inspect = true;
	cmd.addrs[0] = relayed;
	cmd.n_addrs = 1;
	CU_ASSERT_EQUAL_FATAL(relay_cmd_send(r, &cmd), 0);
	CU_ASSERT_FATAL(ev_wait(r, RELAY_EV_WATCHING, &ev));
	CU_ASSERT_EQUAL(ev.token, 5);
	/* what the control connection carried before the WATCH, at the
	 * times it crossed: Allocate, 401, Allocate, 200, CreatePermission */
	sock_name(ctl, &cli);
	CU_ASSERT(turn_msgs(r, 6, &cli, &lis, got, sizeof(got)));
	CU_ASSERT_STRING_EQUAL(got, "3/0 3/3s 3/0 3/2s 8/0 8/2s");

	edge = tcp_connect(&relayed);
	CU_ASSERT_FATAL(edge >= 0);
	CU_ASSERT_FATAL(read_all(ctl, rb, 20));
	n = 0;
	CU_ASSERT_EQUAL_FATAL(turn_frame_len(rb, 20, &n), ENODATA);
	CU_ASSERT_FATAL(read_all(ctl, rb + 20, n - 20));
	CU_ASSERT_EQUAL_FATAL(turn_msg_decode(&m, rb, n, NULL), 0);
	CU_ASSERT_EQUAL(m.method, TURN_M_CONNATTEMPT);
	CU_ASSERT_EQUAL(turn_msg_get_u32(&m, TURN_A_CONNECTION_ID, &id), 0);
	data = tcp_connect(&lis);
	CU_ASSERT_FATAL(data >= 0);
	CU_ASSERT_EQUAL(turn_rq(data, TURN_M_CONNBIND, 0, NULL, id, nonce, rb,
				&m), 200);
	/* then as they come: the ConnectionAttempt on the control
	 * connection, the ConnectionBind on the data connection */
	CU_ASSERT(turn_msgs(r, 1, &cli, &lis, got, sizeof(got)));
	CU_ASSERT_STRING_EQUAL(got, "c/1s");
	sock_name(data, &cli);
	CU_ASSERT(turn_msgs(r, 2, &cli, &lis, got, sizeof(got)));
	CU_ASSERT_STRING_EQUAL(got, "b/0 b/2s");

	n = stun_frame(f, sizeof(f), TURN_C_REQUEST, true);
	CU_ASSERT_EQUAL((size_t)send(edge, f, n, 0), n);
	CU_ASSERT(read_all(data, rb, n) && !memcmp(f, rb, n));
	CU_ASSERT_FATAL(ev_wait(r, RELAY_EV_STUN, &ev));
	CU_ASSERT_EQUAL(ev.call_id, 77);
	CU_ASSERT_EQUAL(ev.conn_id, id);
	CU_ASSERT(ev.stun.use_candidate);
	CU_ASSERT(ev.wire.data && ev.wire.len == n &&
		  sw_sa_cmp(&ev.wire.dst, &relayed, true));
	relay_ev_release(&ev);
	/* the call's checks are done: its watched connection splices */
	memset(&cmd, 0, sizeof(cmd));
	cmd.type = RELAY_CMD_SPLICE;
	cmd.call_id = 77;
	cmd.conn_id = id;
	CU_ASSERT_EQUAL(relay_cmd_send(r, &cmd), 0);
	CU_ASSERT(ev_wait(r, RELAY_EV_SPLICED, &ev));
	CU_ASSERT_EQUAL(ev.conn_id, id);
	close(edge);
	CU_ASSERT_FATAL(ev_wait(r, RELAY_EV_CONN_CLOSED, &ev));
	CU_ASSERT_EQUAL(ev.call_id, 77);
	CU_ASSERT_EQUAL(ev.bytes[RELAY_DIR_TO_CLIENT], n);
	close(data);
	close(ctl);
	relay_stop(r);
}


/* [appsharing] permit_wait: an in-process relay holds a peer without a
 * permission; PERMIT lets it on (ConnectionAttempt then), the end of the
 * wait refuses it, and permit_wait = 0 refuses at once */
UNIT_TEST(test_permit_wait, "permit_wait holds an early peer")
{
	struct relay *r = NULL;
	struct relay_cmd cmd;
	struct relay_ev ev;
	struct turn_counters c;
	char ip[SW_SA_STRLEN];
	uint8_t b[8];
	int early, stranger;

	conf_init();
	conf.as_permit_wait = 1;
	CU_ASSERT_EQUAL_FATAL(relay_start(&r, &conf, NULL, NULL), 0);
	alloc_inproc(r, 98, false, false, &ev);
	memset(&cmd, 0, sizeof(cmd));
	cmd.alloc_id = ev.alloc_id;
	early = tcp_connect_from("127.0.0.2", &ev.addr);
	stranger = tcp_connect_from("127.0.0.4", &ev.addr);
	CU_ASSERT_FATAL(early >= 0 && stranger >= 0);
	CU_ASSERT(!ev_within(r, RELAY_EV_CONN_ATTEMPT, &ev, 300));

	cmd.type = RELAY_CMD_PERMIT;
	sw_sa_set_ip(&cmd.addrs[0], "127.0.0.2", 0);
	cmd.n_addrs = 1;
	CU_ASSERT_EQUAL_FATAL(relay_cmd_send(r, &cmd), 0);
	CU_ASSERT_FATAL(ev_wait(r, RELAY_EV_CONN_ATTEMPT, &ev));
	CU_ASSERT_EQUAL(ev.call_id, 98);
	CU_ASSERT_STRING_EQUAL(sw_sa_ntop(&ev.addr, ip, sizeof(ip)),
			       "127.0.0.2");
	/* the stranger is refused when its wait is over */
	CU_ASSERT_EQUAL(recv(stranger, b, 1, 0), 0);
	CU_ASSERT(!ev_within(r, RELAY_EV_CONN_ATTEMPT, &ev, 100));
	relay_counters(r, &c);
	CU_ASSERT_EQUAL(c.denied_peers, 1);
	close(stranger);
	close(early);
	relay_stop(r);

	conf.as_permit_wait = 0;
	CU_ASSERT_EQUAL_FATAL(relay_start(&r, &conf, NULL, NULL), 0);
	alloc_inproc(r, 98, false, false, &ev);
	early = tcp_connect_from("127.0.0.2", &ev.addr);
	CU_ASSERT_FATAL(early >= 0);
	CU_ASSERT_EQUAL(recv(early, b, 1, 0), 0); /* refused at once */
	close(early);
	relay_stop(r);
}


/* A check the peer sent before the bind (which waits on the dial) is
 * inspected like the ones after it */
UNIT_TEST(test_early_check, "a check before the bind is inspected")
{
	struct relay *r = NULL;
	struct relay_cmd cmd;
	struct relay_ev ev;
	struct sw_sa cms;
	uint8_t f[256], g[256];
	int lfd, edge, cfd;
	size_t n;

	conf_init();
	CU_ASSERT_EQUAL_FATAL(relay_start(&r, &conf, NULL, NULL), 0);
	lfd = tcp_listen(&cms);
	CU_ASSERT_FATAL(lfd >= 0);
	alloc_inproc(r, 96, true, false, &ev);
	edge = tcp_connect(&ev.addr);
	CU_ASSERT_FATAL(edge >= 0);
	CU_ASSERT_FATAL(ev_wait(r, RELAY_EV_CONN_ATTEMPT, &ev));
	n = stun_frame(f, sizeof(f), TURN_C_REQUEST, true);
	CU_ASSERT_EQUAL((size_t)send(edge, f, n, 0), n);
	CU_ASSERT(!ev_within(r, RELAY_EV_STUN, &ev, 100)); /* not bound */
	memset(&cmd, 0, sizeof(cmd));
	cmd.type = RELAY_CMD_BIND;
	cmd.conn_id = ev.conn_id;
	cmd.addrs[0] = cms;
	cmd.n_addrs = 1;
	cmd.inspect = true;
	CU_ASSERT_EQUAL_FATAL(relay_cmd_send(r, &cmd), 0);
	CU_ASSERT_FATAL(ev_wait(r, RELAY_EV_STUN, &ev));
	CU_ASSERT_EQUAL(ev.dir, RELAY_DIR_TO_CLIENT);
	CU_ASSERT_EQUAL(ev.stun.cls, TURN_C_REQUEST);
	CU_ASSERT(ev.stun.use_candidate);
	/* copied as it came, the peer's address known at the bind */
	CU_ASSERT(ev.wire.data && ev.wire.len == n &&
		  !memcmp(ev.wire.data, f, n) && sw_sa_port(&ev.wire.src));
	relay_ev_release(&ev);
	cfd = accept_bounded(lfd);
	CU_ASSERT_FATAL(cfd >= 0);
	CU_ASSERT(read_all(cfd, g, n) && !memcmp(f, g, n));
	close(cfd);
	close(edge);
	close(lfd);
	relay_stop(r);
}


/* Inside candidate: the conference connects to the allocation's inside
 * listener; the relay's in-process Connect tries the targets in order
 * (the first refuses) from the relayed address and binds the first that
 * answers, in inspect mode */
UNIT_TEST(test_inside, "inside candidate: Connect to the targets in order")
{
	struct relay *r = NULL;
	struct relay_cmd cmd;
	struct relay_ev ev;
	struct sw_sa edge_addr, relayed, inside, from;
	socklen_t sl = sizeof(from.u);
	uint8_t f[256], g[256];
	int lfd, cms, edge, late;
	size_t n;

	conf_init();
	conf.as_permit_wait = 1;
	CU_ASSERT_EQUAL_FATAL(relay_start(&r, &conf, NULL, NULL), 0);
	lfd = tcp_listen(&edge_addr);
	CU_ASSERT_FATAL(lfd >= 0);
	alloc_inproc(r, 97, false, true, &ev);
	memset(&cmd, 0, sizeof(cmd));
	CU_ASSERT_FATAL(sw_sa_isset(&ev.inside));
	CU_ASSERT(sw_sa_port(&ev.inside) != sw_sa_port(&ev.addr));
	relayed = ev.addr;
	inside = ev.inside;
	cmd.alloc_id = ev.alloc_id;

	/* no targets within permit_wait: closed */
	late = tcp_connect_from("127.0.0.3", &inside);
	CU_ASSERT_FATAL(late >= 0);
	CU_ASSERT(ev_wait(r, RELAY_EV_INSIDE_FAILED, &ev));
	CU_ASSERT_EQUAL(ev.err, ENOENT);
	CU_ASSERT_EQUAL(recv(late, g, 1, 0), 0);
	close(late);

	/* a connection before the targets waits for them */
	cms = tcp_connect_from("127.0.0.3", &inside);
	CU_ASSERT_FATAL(cms >= 0);
	CU_ASSERT_FATAL(ev_wait(r, RELAY_EV_INSIDE_ACCEPT, &ev));
	cmd.type = RELAY_CMD_PERMIT;
	sw_sa_set_ip(&cmd.addrs[0], "127.0.0.1", 0);
	cmd.n_addrs = 1;
	sw_sa_set_ip(&cmd.targets[0], "127.0.0.1", 1); /* refused */
	cmd.targets[1] = edge_addr;
	cmd.n_targets = 2;
	CU_ASSERT_EQUAL_FATAL(relay_cmd_send(r, &cmd), 0);
	CU_ASSERT_FATAL(ev_wait(r, RELAY_EV_CONN_BOUND, &ev));
	CU_ASSERT(ev.is_inside);
	CU_ASSERT(sw_sa_cmp(&ev.addr, &edge_addr, true));
	edge = accept(lfd, &from.u.sa, &sl);
	CU_ASSERT_FATAL(edge >= 0);
	CU_ASSERT(sw_sa_cmp(&from, &relayed, true)); /* RFC 6062 5.2 */
	setsockopt(edge, SOL_SOCKET, SO_RCVTIMEO,
		   &(struct timeval){3, 0}, sizeof(struct timeval));

	n = stun_frame(f, sizeof(f), TURN_C_REQUEST, true);
	CU_ASSERT_EQUAL((size_t)send(edge, f, n, 0), n);
	CU_ASSERT(read_all(cms, g, n) && !memcmp(f, g, n));
	CU_ASSERT_FATAL(ev_wait(r, RELAY_EV_STUN, &ev));
	CU_ASSERT_EQUAL(ev.call_id, 97);
	CU_ASSERT_EQUAL(ev.dir, RELAY_DIR_TO_CLIENT); /* from the Edge */
	relay_ev_release(&ev);
	n = stun_frame(f, sizeof(f), TURN_C_SUCCESS, false);
	CU_ASSERT_EQUAL((size_t)send(cms, f, n, 0), n);
	CU_ASSERT(read_all(edge, g, n) && !memcmp(f, g, n));
	CU_ASSERT_FATAL(ev_wait(r, RELAY_EV_STUN, &ev));
	CU_ASSERT_EQUAL(ev.dir, RELAY_DIR_TO_PEER);
	relay_ev_release(&ev);

	memset(&cmd, 0, sizeof(cmd));
	cmd.type = RELAY_CMD_SPLICE;
	cmd.conn_id = ev.conn_id;
	CU_ASSERT_EQUAL(relay_cmd_send(r, &cmd), 0);
	CU_ASSERT(ev_wait(r, RELAY_EV_SPLICED, &ev));
	bulk_both_ways(edge, cms, 1 << 20);
	close(cms);
	CU_ASSERT(ev_wait(r, RELAY_EV_CONN_CLOSED, &ev));
	CU_ASSERT_EQUAL(recv(edge, g, 1, 0), 0);
	close(edge);
	close(lfd);
	relay_stop(r);
}


/* Out of descriptors (EMFILE): the relayed listener does not spin; the
 * peers waiting in its backlog are accepted on the reserve descriptor and
 * closed at once, the listener is paused; with descriptors back it
 * accepts again (sw_accept.h) */
UNIT_TEST(test_fd_shortage, "out of descriptors: paused, waiting peers shed")
{
	struct relay *r = NULL;
	struct relay_ev ev;
	struct turn_counters c;
	struct rlimit old, low;
	struct timeval tv = {3, 0};
	int peers[4], late, lowest;
	uint8_t b;

	conf_init();
	CU_ASSERT_EQUAL_FATAL(relay_start(&r, &conf, NULL, NULL), 0);
	alloc_inproc(r, 95, true, false, &ev);
	for (int i = 0; i < 4; ++i) {
		peers[i] = socket(AF_INET, SOCK_STREAM, 0);
		CU_ASSERT_FATAL(peers[i] >= 0);
		setsockopt(peers[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	/* no descriptor free below the limit: accept() gets EMFILE */
	lowest = dup(0);
	CU_ASSERT_FATAL(lowest >= 0);
	close(lowest);
	CU_ASSERT_FATAL(getrlimit(RLIMIT_NOFILE, &old) == 0);
	low = old;
	low.rlim_cur = (rlim_t)lowest;
	CU_ASSERT_FATAL(setrlimit(RLIMIT_NOFILE, &low) == 0);
	for (int i = 0; i < 4; ++i)
		CU_ASSERT(connect(peers[i], &ev.addr.u.sa,
				  sw_sa_len(&ev.addr)) == 0);
	for (int i = 0; i < 4; ++i) /* closed at once, not left waiting */
		CU_ASSERT_EQUAL(recv(peers[i], &b, 1, 0), 0);
	CU_ASSERT(!ev_within(r, RELAY_EV_CONN_ATTEMPT, &ev, 100));
	relay_counters(r, &c);
	CU_ASSERT(c.accept_paused >= 1);
	CU_ASSERT(c.accept_paused <= 8); /* paused, not spinning */
	CU_ASSERT_EQUAL(c.accept_shed, 4);
	CU_ASSERT_EQUAL(setrlimit(RLIMIT_NOFILE, &old), 0);
	for (int i = 0; i < 4; ++i)
		close(peers[i]);

	late = tcp_connect(&ev.addr); /* accepted after the back-off */
	CU_ASSERT_FATAL(late >= 0);
	CU_ASSERT(ev_wait(r, RELAY_EV_CONN_ATTEMPT, &ev));
	close(late);
	relay_stop(r);
}


static uint64_t prebind_now(struct relay *r)
{
	struct turn_counters c;

	relay_counters(r, &c);
	return c.prebind_bytes;
}


/* Before their bind, the peers of an allocation are read up to
 * prebind_buffer each and prebind_total together, and at most
 * max_unbound_peers of them are taken; each bind makes room for the
 * others, and every byte arrives */
UNIT_TEST(test_prebind_caps, "pre-bind bytes and unbound peers capped")
{
	struct relay *r = NULL;
	struct relay_cmd cmd;
	struct relay_ev ev;
	struct sw_sa far, relayed;
	uint8_t out[4096], in[4096];
	int lfd, peers[5];
	uint32_t conn[4];
	int n = 0;

	conf_init();
	conf.turn_prebind_buffer = 4096;
	conf.turn_prebind_total = 8192;
	conf.turn_max_unbound = 4;
	CU_ASSERT_EQUAL_FATAL(relay_start(&r, &conf, NULL, NULL), 0);
	lfd = tcp_listen(&far);
	CU_ASSERT_FATAL(lfd >= 0);
	alloc_inproc(r, 94, true, false, &ev);
	relayed = ev.addr;
	for (int i = 0; i < 4; ++i) {
		peers[i] = tcp_connect(&relayed);
		CU_ASSERT_FATAL(peers[i] >= 0);
		CU_ASSERT_FATAL(ev_wait(r, RELAY_EV_CONN_ATTEMPT, &ev));
		conn[i] = ev.conn_id;
		memset(out, 'a' + i, sizeof(out));
		CU_ASSERT_EQUAL(send(peers[i], out, sizeof(out), 0),
				(ssize_t)sizeof(out));
	}
	peers[4] = tcp_connect(&relayed); /* a fifth: refused */
	CU_ASSERT_FATAL(peers[4] >= 0);
	CU_ASSERT_EQUAL(recv(peers[4], in, 1, 0), 0);
	for (int i = 0; i < 300 && prebind_now(r) < 8192; ++i)
		usleep(10000);
	usleep(100000);
	CU_ASSERT_EQUAL(prebind_now(r), 8192); /* not 16384 */

	for (int i = 0; i < 4; ++i) {
		int cfd;

		memset(&cmd, 0, sizeof(cmd));
		cmd.type = RELAY_CMD_BIND;
		cmd.conn_id = conn[i];
		cmd.addrs[0] = far;
		cmd.n_addrs = 1;
		CU_ASSERT_EQUAL_FATAL(relay_cmd_send(r, &cmd), 0);
		CU_ASSERT_FATAL(ev_wait(r, RELAY_EV_CONN_BOUND, &ev));
		cfd = accept_bounded(lfd);
		CU_ASSERT_FATAL(cfd >= 0);
		memset(out, 'a' + i, sizeof(out));
		n += read_all(cfd, in, sizeof(in)) && !memcmp(in, out,
							       sizeof(in));
		close(cfd);
	}
	CU_ASSERT_EQUAL(n, 4);
	CU_ASSERT_EQUAL(prebind_now(r), 0);
	for (int i = 0; i < 5; ++i)
		close(peers[i]);
	close(lfd);
	relay_stop(r);
}


/* The one read/write of the control and data connections: bytes, would
 * block, end of stream, broken (plain TCP; TLS maps onto the same four) */
UNIT_TEST(test_stream_io, "one stream read/write, four results")
{
	int sv[2];
	uint8_t buf[8];
	size_t n = 99;
	bool ww = true;

	CU_ASSERT_FATAL(!socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
				    sv));
	CU_ASSERT_EQUAL(relay_stream_io(sv[0], NULL, &ww, "abc", 3, true, &n),
			RELAY_IO_BYTES);
	CU_ASSERT_EQUAL(n, 3);
	CU_ASSERT_EQUAL(relay_stream_io(sv[1], NULL, &ww, buf, sizeof(buf),
					false, &n),
			RELAY_IO_BYTES);
	CU_ASSERT_EQUAL(n, 3);
	CU_ASSERT(!memcmp(buf, "abc", 3));
	CU_ASSERT_EQUAL(relay_stream_io(sv[1], NULL, &ww, buf, sizeof(buf),
					false, &n),
			RELAY_IO_AGAIN);
	CU_ASSERT_EQUAL(n, 0);
	shutdown(sv[0], SHUT_WR);
	CU_ASSERT_EQUAL(relay_stream_io(sv[1], NULL, &ww, buf, sizeof(buf),
					false, &n),
			RELAY_IO_EOF);
	CU_ASSERT_EQUAL(n, 0);
	close(sv[0]);
	n = 99;
	CU_ASSERT_EQUAL(relay_stream_io(sv[1], NULL, &ww, "x", 1, true, &n),
			RELAY_IO_ERROR); /* EPIPE, and no SIGPIPE */
	CU_ASSERT_EQUAL(n, 0);
	close(sv[1]);
}


UNIT_SUITE("relay", NULL, NULL, NULL, NULL);
