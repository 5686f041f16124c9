/**
 * @file relay_ctrl.c  Client transports of a relay thread: the UDP, TCP
 * and TLS listeners (SO_REUSEPORT, one socket per thread) and the TCP/TLS
 * client connections with their TURN framing (RFC 5766 11.5).
 *
 * A client connection is a control connection (Allocate, Connect...) or,
 * once its first request is a successful ConnectionBind, the client side
 * of an RFC 6062 pair: relay_pump.c then takes its fd, its TLS session,
 * its unread bytes and its unsent bytes. A ConnectionBind whose
 * CONNECTION-ID belongs to another thread is handed to that thread.
 * Send errors found while the core is running only mark the connection
 * broken; it is closed after the batch, never under the core's feet.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <openssl/err.h>

#define SW_LOG_MODULE "relay"
#include "sw_log.h"
#include "relay_int.h"
#include "turn_msg.h"

#define CTRL_IN_START 2048
#define UDP_BATCH 64


/* --- TLS ----------------------------------------------------------------- */

/**
 * Load the TLS listener certificate, key and CA for this thread
 */
int relay_tls_init(struct relay_thread *rt)
{
	const struct sw_conf *c = &rt->conf;
	bool need = false;

	for (unsigned i = 0; i < c->n_turn_listen; ++i)
		need |= c->turn_listen[i].tp == SW_TP_TLS;
	if (!need)
		return 0;
	if (!c->turn_tls_cert[0] || !c->turn_tls_key[0]) {
		sw_error("[turn] a tls listener needs tls_cert and tls_key");
		return EINVAL;
	}
	rt->tls = SSL_CTX_new(TLS_server_method());
	if (!rt->tls)
		return ENOMEM;
	SSL_CTX_set_min_proto_version(rt->tls, TLS1_2_VERSION);
	SSL_CTX_set_mode(rt->tls, SSL_MODE_ENABLE_PARTIAL_WRITE |
				  SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (SSL_CTX_use_certificate_chain_file(rt->tls, c->turn_tls_cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(rt->tls, c->turn_tls_key,
					SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(rt->tls) != 1 ||
	    (c->turn_tls_ca[0] &&
	     SSL_CTX_load_verify_locations(rt->tls, c->turn_tls_ca, NULL) !=
		     1)) {
		sw_error("[turn] cannot load tls_cert %s / tls_key %s: %s",
			 c->turn_tls_cert, c->turn_tls_key,
			 ERR_reason_error_string(ERR_get_error()));
		return EINVAL;
	}
	return 0;
}


/**
 * One non-blocking SSL_read or SSL_write
 *
 * @return bytes (> 0), 0 closed, -1 would block, -2 error;
 *         *want_write when the session waits for the socket to be writable
 */
ssize_t relay_tls_io(SSL *ssl, void *buf, size_t len, bool wr,
		     bool *want_write)
{
	int n, e;

	ERR_clear_error();
	n = wr ? SSL_write(ssl, buf, (int)len) : SSL_read(ssl, buf, (int)len);
	*want_write = false;
	if (n > 0)
		return n;
	e = SSL_get_error(ssl, n);
	if (e == SSL_ERROR_WANT_READ)
		return -1;
	if (e == SSL_ERROR_WANT_WRITE) {
		*want_write = true;
		return -1;
	}
	return e == SSL_ERROR_ZERO_RETURN ? 0 : -2;
}


/* Plain or TLS read/write with one convention: > 0, 0 EOF, -1, -2 */
static ssize_t ctrl_io(struct relay_ctrl *c, void *buf, size_t len, bool wr)
{
	ssize_t n;

	if (c->ssl)
		return relay_tls_io(c->ssl, buf, len, wr, &c->want_write);
	n = wr ? send(c->io.fd, buf, len, MSG_NOSIGNAL)
	       : recv(c->io.fd, buf, len, 0);
	if (n >= 0)
		return n;
	return errno == EAGAIN || errno == EINTR ? -1 : -2;
}


/* --- listeners ------------------------------------------------------------ */

static int listener_bind(const struct sw_listen *ls, int *fdp)
{
	int one = 1, fd, err = 0;
	int type = ls->tp == SW_TP_UDP ? SOCK_DGRAM : SOCK_STREAM;

	fd = socket(sw_sa_af(&ls->addr), type | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0)
		return errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) ||
	    (sw_sa_af(&ls->addr) == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one))) ||
	    bind(fd, &ls->addr.u.sa, sw_sa_len(&ls->addr)) ||
	    (type == SOCK_STREAM && listen(fd, 1024)))
		err = errno;
	if (err)
		close(fd);
	else
		*fdp = fd;
	return err;
}


/**
 * Bind this thread's socket of every configured TURN listener
 *
 * @param log  log "TURN listening on" (once per listener, thread 0)
 */
int relay_listeners_open(struct relay_thread *rt, bool log)
{
	const struct sw_conf *c = &rt->conf;
	char a[SW_SA_STRLEN];

	for (unsigned i = 0; i < c->n_turn_listen; ++i) {
		const struct sw_listen *ls = &c->turn_listen[i];
		struct relay_listener *l = calloc(1, sizeof(*l));
		int err;

		if (!l)
			return ENOMEM;
		err = listener_bind(ls, &l->io.fd);
		if (err) {
			sw_error("[turn] cannot listen on %s:%s: %s",
				 sw_transport_name(ls->tp),
				 sw_sa_str(&ls->addr, a, sizeof(a)),
				 strerror(err));
			free(l);
			return err;
		}
		l->io.kind = ls->tp == SW_TP_UDP ? RIO_UDP_LISTEN
						 : RIO_TCP_LISTEN;
		l->tp = ls->tp == SW_TP_UDP ? TURN_TP_UDP
		      : ls->tp == SW_TP_TCP ? TURN_TP_TCP : TURN_TP_TLS;
		l->id = i + 1;
		l->addr = ls->addr;
		relay_accept_init(rt, &l->acc, &l->io,
				  sw_transport_name(ls->tp));
		l->next = rt->listeners;
		rt->listeners = l;
		err = relay_io_set(rt, &l->io, EPOLLIN);
		if (err)
			return err;
		if (log)
			sw_notice("TURN listening on %s:%s",
				  sw_transport_name(ls->tp),
				  sw_sa_str(&ls->addr, a, sizeof(a)));
	}
	return 0;
}


void relay_listeners_close(struct relay_thread *rt)
{
	while (rt->listeners) {
		struct relay_listener *l = rt->listeners;

		rt->listeners = l->next;
		relay_accept_stop(&l->acc);
		relay_io_retire(rt, &l->io, true);
	}
}


/* --- client connections ------------------------------------------------------ */

static void ctrl_free(struct relay_io *io)
{
	struct relay_ctrl *c = (struct relay_ctrl *)io;

	if (c->ssl)
		SSL_free(c->ssl);
	free(c->in);
	free(c->out);
	free(c);
}


static void ctrl_unlink(struct relay_thread *rt, struct relay_ctrl *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else if (rt->ctrls == c)
		rt->ctrls = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	if (rt->srv)
		turn_timer_cancel(rt->srv, &c->idle);
}


/** Close a client connection and delete the allocation it controls */
void relay_ctrl_close(struct relay_thread *rt, struct relay_ctrl *c)
{
	if (c->io.kind == RIO_DEAD)
		return;
	ctrl_unlink(rt, c);
	if (rt->srv)
		turn_srv_transport_closed(rt->srv, &c->src);
	relay_io_retire(rt, &c->io, true);
}


/** Take a connection out of this module (it became a pair side, or moved
 * to another thread); its fd stays open and its SSL is the taker's */
void relay_ctrl_detach(struct relay_thread *rt, struct relay_ctrl *c)
{
	c->converted = true;
	ctrl_unlink(rt, c);
	c->ssl = NULL;
	relay_io_retire(rt, &c->io, false);
}


static void ctrl_break(struct relay_thread *rt, struct relay_ctrl *c)
{
	if (c->broken || c->io.kind == RIO_DEAD)
		return;
	c->broken = true;
	c->bnext = rt->broken;
	rt->broken = c;
}


/** Close the connections that failed while the core was running */
void relay_ctrl_reap(struct relay_thread *rt)
{
	while (rt->broken) {
		struct relay_ctrl *c = rt->broken;

		rt->broken = c->bnext;
		if (c->io.kind != RIO_DEAD && !c->converted)
			relay_ctrl_close(rt, c);
	}
}


static void ctrl_interest(struct relay_thread *rt, struct relay_ctrl *c)
{
	uint32_t ev = EPOLLIN;

	if (c->out_len || c->want_write)
		ev |= EPOLLOUT;
	if (relay_io_set(rt, &c->io, ev))
		ctrl_break(rt, c);
}


static void ctrl_idle(struct turn_timer *t, void *arg)
{
	struct relay_ctrl *c = arg;
	char a[SW_SA_STRLEN];

	(void)t;
	if (turn_srv_find(c->rt->srv, &c->src))
		return; /* it controls an allocation: lives as long as that */
	sw_debug("[%s] idle connection closed",
		 sw_sa_str(&c->src.client, a, sizeof(a)));
	relay_ctrl_close(c->rt, c);
}


static int ctrl_new(struct relay_thread *rt, int fd, SSL *ssl,
		    enum turn_tp tp, const struct sw_sa *client,
		    struct relay_ctrl **cp)
{
	struct relay_ctrl *c = calloc(1, sizeof(*c));
	socklen_t sl = sizeof(c->src.local);

	if (!c)
		return ENOMEM;
	c->in = malloc(CTRL_IN_START);
	if (!c->in) {
		free(c);
		return ENOMEM;
	}
	c->in_cap = CTRL_IN_START;
	c->rt = rt;
	c->io.kind = RIO_CTRL;
	c->io.fd = fd;
	c->io.free_h = ctrl_free;
	c->src.tp = tp;
	c->src.tport = ++rt->next_tport;
	c->src.client = *client;
	c->src.io = c;
	getsockname(fd, &c->src.local.u.sa, &sl);
	c->ssl = ssl;
	if (tp == TURN_TP_TLS && !ssl) {
		c->ssl = SSL_new(rt->tls);
		if (!c->ssl || !SSL_set_fd(c->ssl, fd)) {
			ctrl_free(&c->io);
			return ENOMEM;
		}
		SSL_set_accept_state(c->ssl);
	}
	c->next = rt->ctrls;
	if (rt->ctrls)
		rt->ctrls->prev = c;
	rt->ctrls = c;
	turn_timer_start(rt->srv, &c->idle, RELAY_CTRL_IDLE_MS, ctrl_idle, c);
	*cp = c;
	return 0;
}


static int out_append(struct relay_ctrl *c, const uint8_t *buf, size_t len)
{
	if (c->out_len + len > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 4096;
		uint8_t *p;

		while (cap < c->out_len + len)
			cap *= 2;
		if (cap > RELAY_CTRL_OUT_MAX)
			return ENOBUFS;
		p = realloc(c->out, cap);
		if (!p)
			return ENOMEM;
		c->out = p;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, buf, len);
	c->out_len += len;
	return 0;
}


/* Queue or write one whole message; a message is never cut short */
static void ctrl_send(struct relay_thread *rt, struct relay_ctrl *c,
		      const uint8_t *buf, size_t len)
{
	ssize_t n = 0;

	if (c->broken || c->converted || c->io.kind == RIO_DEAD)
		return;
	if (!c->out_len) {
		n = ctrl_io(c, (void *)buf, len, true);
		if (n == -2 || n == 0) {
			ctrl_break(rt, c);
			return;
		}
		if (n < 0)
			n = 0;
	}
	if ((size_t)n == len)
		return;
	if (out_append(c, buf + n, len - (size_t)n)) {
		if (n == 0 && len < 65536 + 64 && c->out_len) {
			TURN_CNT_ADD(turn_srv_counters(rt->srv), dropped, 1);
			return; /* a whole datagram's worth: drop it */
		}
		ctrl_break(rt, c);
		return;
	}
	ctrl_interest(rt, c);
}


static void ctrl_flush(struct relay_thread *rt, struct relay_ctrl *c)
{
	while (c->out_len) {
		ssize_t n = ctrl_io(c, c->out, c->out_len, true);

		if (n == -1)
			break;
		if (n <= 0) {
			ctrl_break(rt, c);
			return;
		}
		memmove(c->out, c->out + n, c->out_len - (size_t)n);
		c->out_len -= (size_t)n;
	}
	ctrl_interest(rt, c);
}


/** The core's send: to a UDP client through its listener, or on a
 * client connection */
void relay_op_send(void *arg, const struct turn_src *dst, const uint8_t *buf,
		   size_t len)
{
	struct relay_thread *rt = arg;

	if (dst->tp == TURN_TP_UDP) {
		struct relay_listener *l = dst->io;

		if (sendto(l->io.fd, buf, len, 0, &dst->client.u.sa,
			   sw_sa_len(&dst->client)) < 0)
			TURN_CNT_ADD(turn_srv_counters(rt->srv), dropped, 1);
		return;
	}
	if (dst->tp == TURN_TP_TCP || dst->tp == TURN_TP_TLS)
		ctrl_send(rt, dst->io, buf, len);
}


/* A first message that is a ConnectionBind for another thread's
 * connection: move the whole connection there. true if moved. */
static bool ctrl_handoff(struct relay_thread *rt, struct relay_ctrl *c,
			 const uint8_t *frame, size_t flen)
{
	struct relay_handoff *h;
	struct turn_msg m;
	uint32_t id;
	size_t rest = c->in_len - (size_t)(frame - c->in);

	if (rt->r->n == 1 || flen < TURN_HDR_LEN || frame[0] != 0x00 ||
	    frame[1] != TURN_M_CONNBIND || c->out_len ||
	    turn_msg_decode(&m, frame, flen, NULL) ||
	    turn_msg_get_u32(&m, TURN_A_CONNECTION_ID, &id) ||
	    turn_srv_thread(id) == rt->idx || turn_srv_thread(id) >= rt->r->n ||
	    turn_srv_find(rt->srv, &c->src))
		return false;
	h = malloc(sizeof(*h) + rest);
	if (!h)
		return false;
	h->fd = c->io.fd;
	h->ssl = c->ssl;
	h->tp = c->src.tp;
	h->client = c->src.client;
	h->local = c->src.local;
	h->len = rest;
	memcpy(h->data, frame, rest);
	relay_io_set(rt, &c->io, 0);
	if (relay_handoff_send(rt, turn_srv_thread(id), h)) {
		free(h);
		relay_ctrl_close(rt, c);
		return true;
	}
	sw_debug("[%08x] ConnectionBind handed to relay thread %u",
		 c->src.tport, turn_srv_thread(id));
	relay_ctrl_detach(rt, c);
	return true;
}


static int in_reserve(struct relay_ctrl *c, size_t need)
{
	uint8_t *p;

	if (need <= c->in_cap)
		return 0;
	if (need > TURN_FRAME_MAX + 4)
		return EMSGSIZE;
	p = realloc(c->in, need);
	if (!p)
		return ENOMEM;
	c->in = p;
	c->in_cap = need;
	return 0;
}


/* Hand every whole frame to the core. false if c is gone or converted. */
static bool ctrl_frames(struct relay_thread *rt, struct relay_ctrl *c)
{
	size_t off = 0, flen;
	int err;

	while (c->io.kind == RIO_CTRL && !c->converted) {
		err = turn_frame_len(c->in + off, c->in_len - off, &flen);
		if (err == ENODATA) {
			err = in_reserve(c, flen);
			if (!err)
				break;
		}
		if (err) {
			TURN_CNT_ADD(turn_srv_counters(rt->srv), bad_messages,
				     1);
			relay_ctrl_close(rt, c);
			return false;
		}
		if (ctrl_handoff(rt, c, c->in + off, flen))
			return false;
		c->in_off = off + flen;
		turn_srv_recv(rt->srv, &c->src, c->in + off, flen);
		off += flen;
	}
	if (c->io.kind != RIO_CTRL || c->converted)
		return false;
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
	c->in_off = 0;
	return true;
}


static void ctrl_read(struct relay_thread *rt, struct relay_ctrl *c)
{
	for (;;) {
		ssize_t n;

		if (c->in_len == c->in_cap && in_reserve(c, c->in_cap * 2)) {
			relay_ctrl_close(rt, c);
			return;
		}
		n = ctrl_io(c, c->in + c->in_len, c->in_cap - c->in_len,
			    false);
		if (n == -1)
			break;
		if (n <= 0) {
			relay_ctrl_close(rt, c);
			return;
		}
		c->in_len += (size_t)n;
		if (!ctrl_frames(rt, c))
			return;
	}
	ctrl_interest(rt, c);
}


void relay_ctrl_event(struct relay_thread *rt, struct relay_ctrl *c,
		      uint32_t ev)
{
	if (ev & EPOLLOUT)
		ctrl_flush(rt, c);
	if (c->io.kind == RIO_CTRL && !c->broken &&
	    (ev & (EPOLLIN | EPOLLERR | EPOLLHUP) || c->ssl))
		ctrl_read(rt, c);
}


/**
 * Take over a connection handed from another thread, and run the
 * ConnectionBind it carries
 */
int relay_ctrl_adopt(struct relay_thread *rt, struct relay_handoff *h)
{
	struct relay_ctrl *c;
	int err;

	err = ctrl_new(rt, h->fd, h->ssl, h->tp, &h->client, &c);
	if (!err)
		err = in_reserve(c, h->len);
	if (err) {
		if (h->ssl)
			SSL_free(h->ssl);
		close(h->fd);
		free(h);
		return err;
	}
	memcpy(c->in, h->data, h->len);
	c->in_len = h->len;
	c->src.local = h->local;
	free(h);
	if (ctrl_frames(rt, c))
		ctrl_interest(rt, c);
	return 0;
}


/* --- listener events ---------------------------------------------------------- */

static void udp_listener_read(struct relay_thread *rt,
			      struct relay_listener *l)
{
	uint8_t *buf = rt->rx + TURN_HEADROOM;
	struct turn_src src;

	memset(&src, 0, sizeof(src));
	src.tp = TURN_TP_UDP;
	src.tport = l->id;
	src.local = l->addr;
	src.io = l;
	for (int i = 0; i < UDP_BATCH; ++i) {
		socklen_t sl = sizeof(src.client.u);
		ssize_t n = recvfrom(l->io.fd, buf, 65536, 0,
				     &src.client.u.sa, &sl);

		if (n < 0)
			return;
		turn_srv_recv(rt->srv, &src, buf, (size_t)n);
	}
}


static void tcp_listener_accept(struct relay_thread *rt,
				struct relay_listener *l)
{
	for (int i = 0; i < UDP_BATCH; ++i) {
		struct sw_sa client;
		struct relay_ctrl *c;
		int fd = relay_accept(&l->acc, &client);

		if (fd < 0)
			return;
		relay_sock_nodelay(fd);
		if (ctrl_new(rt, fd, NULL, l->tp, &client, &c)) {
			close(fd);
			continue;
		}
		ctrl_interest(rt, c);
	}
}


void relay_listener_event(struct relay_thread *rt, struct relay_listener *l,
			  uint32_t ev)
{
	(void)ev;
	if (l->io.kind == RIO_UDP_LISTEN)
		udp_listener_read(rt, l);
	else
		tcp_listener_accept(rt, l);
}
