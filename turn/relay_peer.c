/**
 * @file relay_peer.c  The peer side of allocations: relayed UDP sockets,
 * relayed TCP listeners (RFC 6062 5.3) and outbound connections from the
 * relayed address (RFC 6062 5.2).
 *
 * Relayed ports come from this thread's slice of relay_ports (see
 * thread_ports) and a bitmap of ports in use. A TCP relayed address is a
 * listener with SO_REUSEADDR + SO_REUSEPORT, so that outbound Connect
 * sockets can bind the very same address and port, as RFC 6062 requires
 * (pion/turn#511): the slices keep two allocations of this process from
 * ever sharing a port.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#define SW_LOG_MODULE "relay"
#include "sw_log.h"
#include "relay_int.h"

#define PORT_TRIES 256
#define RELAY_BATCH 64

static bool port_used(const struct relay_thread *rt, uint16_t p)
{
	return rt->ports[p / 8] & (1u << (p % 8));
}


static void port_mark(struct relay_thread *rt, uint16_t p, bool used)
{
	if (used)
		rt->ports[p / 8] |= (uint8_t)(1u << (p % 8));
	else
		rt->ports[p / 8] &= (uint8_t)~(1u << (p % 8));
}


static uint16_t port_next(struct relay_thread *rt, bool even)
{
	uint16_t p = rt->port_cur;

	p = p >= rt->port_hi ? rt->port_lo : (uint16_t)(p + 1);
	if (even && (p & 1))
		p = p >= rt->port_hi ? rt->port_lo : (uint16_t)(p + 1);
	rt->port_cur = p;
	return p;
}


/* Is a.port a TCP port some other socket listens on? The relayed
 * listeners need SO_REUSEPORT (see the file comment), which would let
 * two processes of one user share a port and split its connections: a
 * plain bind probes it first. */
static bool tcp_port_taken(const struct sw_sa *a)
{
	int one = 1, fd = socket(sw_sa_af(a), SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool taken;

	if (fd < 0)
		return false;
	if (sw_sa_af(a) == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	taken = bind(fd, &a->u.sa, sw_sa_len(a)) && errno == EADDRINUSE;
	close(fd);
	return taken;
}


static int relayed_socket(const struct sw_sa *ip, bool tcp, uint16_t port,
			  bool df, int *fdp)
{
	struct sw_sa a = *ip;
	int one = 1, err = 0;
	int fd;

	sw_sa_set_port(&a, port);
	if (tcp && tcp_port_taken(&a))
		return EADDRINUSE;
	fd = socket(sw_sa_af(ip),
		    (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0)
		return errno;
	if (sw_sa_af(ip) == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (tcp) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	}
	if (df && sw_sa_af(ip) == AF_INET) {
		int v = IP_PMTUDISC_DO;

		setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &v, sizeof(v));
	}
	if (bind(fd, &a.u.sa, sw_sa_len(&a)) || (tcp && listen(fd, 64)))
		err = errno;
	if (err)
		close(fd);
	else
		*fdp = fd;
	return err;
}


/**
 * The core's relay_open: a UDP socket or a TCP listener on a free port
 * of this thread's slice
 *
 * @return 0, EADDRINUSE (no free port: 508), ENOMEM, errno
 */
int relay_op_relay_open(void *arg, struct turn_alloc *al, int af,
			struct sw_sa *relayed)
{
	struct relay_thread *rt = arg;
	const struct sw_sa *ip = af == AF_INET6 ? &rt->conf.turn_relay_ip6
						: &rt->conf.turn_relay_ip;
	struct relay_relayed *rs = calloc(1, sizeof(*rs));
	int err = EADDRINUSE;

	if (!rs)
		return ENOMEM;
	if (al->want_port) { /* held for this allocation's token */
		err = relayed_socket(ip, al->tcp, al->want_port,
				     al->dont_fragment, &rs->io.fd);
		rs->port = al->want_port;
	}
	for (int i = 0; i < PORT_TRIES && err == EADDRINUSE &&
			!al->want_port;
	     ++i) {
		uint16_t p = port_next(rt, al->even_port || al->reserve_next);

		if (port_used(rt, p) ||
		    (al->reserve_next &&
		     (p == rt->port_hi || port_used(rt, (uint16_t)(p + 1)))))
			continue;
		err = relayed_socket(ip, al->tcp, p, al->dont_fragment,
				     &rs->io.fd);
		if (!err)
			rs->port = p;
	}
	if (err) {
		sw_log_limited(SW_LOG_WARN, "[turn] no relayed port: %s",
			       strerror(err));
		free(rs);
		return err;
	}
	rs->io.kind = al->tcp ? RIO_RELAY_TCP : RIO_RELAY_UDP;
	relay_accept_init(rt, &rs->acc, &rs->io, "relayed");
	err = relay_io_set(rt, &rs->io, EPOLLIN);
	if (err) {
		close(rs->io.fd);
		free(rs);
		return err;
	}
	port_mark(rt, rs->port, true);
	rs->rt = rt;
	if (al->reserve_next)
		port_mark(rt, (uint16_t)(rs->port + 1), true);
	rs->al = al;
	al->io = rs;
	*relayed = *ip;
	sw_sa_set_port(relayed, rs->port);
	return 0;
}


/**
 * A TCP listener on ip, on a free port of this thread's slice (the inside
 * candidate of an in-process relay)
 *
 * @return 0, EADDRINUSE (no free port), errno
 */
int relay_port_listen(struct relay_thread *rt, const struct sw_sa *ip,
		      int *fdp, uint16_t *portp)
{
	int err = EADDRINUSE;

	for (int i = 0; i < PORT_TRIES && err == EADDRINUSE; ++i) {
		uint16_t p = port_next(rt, false);

		if (port_used(rt, p))
			continue;
		err = relayed_socket(ip, true, p, false, fdp);
		if (!err) {
			port_mark(rt, p, true);
			*portp = p;
		}
	}
	return err;
}


void relay_port_free(struct relay_thread *rt, uint16_t port)
{
	port_mark(rt, port, false);
}


void relay_op_port_release(void *arg, int af, uint16_t port)
{
	(void)af;
	port_mark(arg, port, false);
}


void relay_op_relay_close(void *arg, struct turn_alloc *al)
{
	struct relay_thread *rt = arg;
	struct relay_relayed *rs = al->io;

	if (!rs)
		return;
	while (rs->n_held)
		close(rs->held[--rs->n_held].fd);
	turn_timer_cancel(rt->srv, &rs->held_tmr);
	relay_accept_stop(&rs->acc);
	if (rs->inside)
		relay_inside_close(rt, rs->inside);
	rs->inside = NULL;
	port_mark(rt, rs->port, false);
	rs->al = NULL;
	al->io = NULL;
	relay_io_retire(rt, &rs->io, true);
}


void relay_op_relay_send(void *arg, struct turn_alloc *al,
			 const struct sw_sa *peer, const uint8_t *buf,
			 size_t len)
{
	struct relay_thread *rt = arg;
	struct relay_relayed *rs = al->io;

	if (sendto(rs->io.fd, buf, len, 0, &peer->u.sa, sw_sa_len(peer)) < 0)
		TURN_CNT_ADD(turn_srv_counters(rt->srv), dropped, 1);
}


static void udp_relayed_read(struct relay_thread *rt,
			     struct relay_relayed *rs)
{
	uint8_t *buf = rt->rx + TURN_HEADROOM;

	for (int i = 0; i < RELAY_BATCH && rs->al; ++i) {
		struct sw_sa peer;
		socklen_t sl = sizeof(peer.u);
		ssize_t n;

		memset(&peer, 0, sizeof(peer));
		n = recvfrom(rs->io.fd, buf, 65536, 0, &peer.u.sa, &sl);
		if (n < 0)
			return;
		turn_alloc_peer_data(rt->srv, rs->al, &peer, buf, (size_t)n);
	}
}


/* A permitted peer's connection: the ConnectionAttempt (RFC 6062 5.3) */
static void peer_accepted(struct relay_thread *rt, struct relay_relayed *rs,
			  int fd, const struct sw_sa *peer)
{
	struct turn_conn *tc;
	char a[SW_SA_STRLEN];
	int err;

	err = turn_conn_incoming(rt->srv, rs->al, peer, &tc);
	if (err) {
		sw_log_limited(SW_LOG_INFO, "[alloc %08x] peer %s refused: %s",
			       rs->al->id, sw_sa_str(peer, a, sizeof(a)),
			       err == EPERM    ? "no permission"
			       : err == ENOSPC ? "max_unbound_peers "
						 "connections await a bind"
					       : strerror(err));
		close(fd);
		return;
	}
	if (relay_pair_new(rt, tc, fd, false)) {
		close(fd);
		turn_conn_close(rt->srv, tc, "out of memory");
	}
}


static void held_timeout(struct turn_timer *t, void *arg);


/* Announce the held peers that have a permission now, refuse those whose
 * wait is over, and arm the timer for the next one */
static void held_run(struct relay_thread *rt, struct relay_relayed *rs)
{
	uint64_t now = turn_srv_now(rt->srv), next = 0;
	char a[SW_SA_STRLEN];
	unsigned i = 0;

	while (i < rs->n_held && rs->al) {
		struct relay_held h = rs->held[i];

		if (turn_alloc_permitted(rs->al, &h.peer, now) ||
		    now >= h.until) {
			rs->held[i] = rs->held[--rs->n_held];
			if (now < h.until) {
				peer_accepted(rt, rs, h.fd, &h.peer);
				continue;
			}
			sw_info("[alloc %08x] peer %s refused: no permission "
				"within %u s",
				rs->al->id, sw_sa_str(&h.peer, a, sizeof(a)),
				rt->conf.as_permit_wait);
			TURN_CNT_ADD(turn_srv_counters(rt->srv), denied_peers,
				     1);
			close(h.fd);
			continue;
		}
		if (!next || h.until < next)
			next = h.until;
		++i;
	}
	if (next)
		turn_timer_start(rt->srv, &rs->held_tmr, next - now,
				 held_timeout, rs);
	else
		turn_timer_cancel(rt->srv, &rs->held_tmr);
}


static void held_timeout(struct turn_timer *t, void *arg)
{
	struct relay_relayed *rs = arg;

	(void)t;
	held_run(rs->rt, rs);
}


/* An in-process relay holds an allowed peer it has no permission for
 * yet ([appsharing] permit_wait): when the conference offers, the Edge's
 * relay may connect before the Edge's answer brought its addresses */
static bool peer_hold(struct relay_thread *rt, struct relay_relayed *rs,
		      int fd, const struct sw_sa *peer)
{
	uint64_t now = turn_srv_now(rt->srv);
	char a[SW_SA_STRLEN];

	if (rs->al->src.tp != TURN_TP_INPROC || !rt->conf.as_permit_wait ||
	    rs->n_held == RELAY_HELD_MAX ||
	    turn_alloc_permitted(rs->al, peer, now) ||
	    turn_srv_check_peer(rt->srv, peer))
		return false;
	rs->held[rs->n_held].fd = fd;
	rs->held[rs->n_held].peer = *peer;
	rs->held[rs->n_held].until = now + rt->conf.as_permit_wait * 1000ull;
	++rs->n_held;
	sw_info("[alloc %08x] peer %s held: no permission yet (up to %u s)",
		rs->al->id, sw_sa_str(peer, a, sizeof(a)),
		rt->conf.as_permit_wait);
	held_run(rt, rs);
	return true;
}


/** RELAY_CMD_PERMIT gave al new permissions: its held peers may go on */
void relay_relayed_permitted(struct relay_thread *rt, struct turn_alloc *al)
{
	struct relay_relayed *rs = al->io;

	if (rs && rs->n_held)
		held_run(rt, rs);
}


/* A peer connects to a TCP relayed address (RFC 6062 5.3) */
static void tcp_relayed_accept(struct relay_thread *rt,
			       struct relay_relayed *rs)
{
	for (int i = 0; i < RELAY_BATCH && rs->al; ++i) {
		struct sw_sa peer;
		int fd = relay_accept(&rs->acc, &peer);

		if (fd < 0)
			return;
		if (!peer_hold(rt, rs, fd, &peer))
			peer_accepted(rt, rs, fd, &peer);
	}
}


void relay_relayed_event(struct relay_thread *rt, struct relay_relayed *rs,
			 uint32_t ev)
{
	(void)ev;
	if (rs->io.kind == RIO_RELAY_UDP)
		udp_relayed_read(rt, rs);
	else
		tcp_relayed_accept(rt, rs);
}


/**
 * The core's peer_connect: a non-blocking connect from the relayed
 * address itself (RFC 6062 5.2); relay_pump.c reports the outcome
 */
int relay_op_peer_connect(void *arg, struct turn_conn *tc)
{
	struct relay_thread *rt = arg;
	int one = 1, fd, err = 0;

	fd = socket(sw_sa_af(&tc->peer),
		    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (bind(fd, &tc->al->relayed.u.sa, sw_sa_len(&tc->al->relayed)) ||
	    (connect(fd, &tc->peer.u.sa, sw_sa_len(&tc->peer)) &&
	     errno != EINPROGRESS))
		err = errno;
	if (!err)
		err = relay_pair_new(rt, tc, fd, true);
	if (err) {
		char a[SW_SA_STRLEN];

		sw_log_limited(SW_LOG_INFO,
			       "[conn %08x] connect to %s failed: %s", tc->id,
			       sw_sa_str(&tc->peer, a, sizeof(a)),
			       strerror(err));
		close(fd);
	}
	return err;
}
