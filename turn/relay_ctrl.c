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
 *
 * The TURN messages of an RFC 6062 control connection, and the
 * ConnectionBind of its data connections, are copied for the call log
 * of the call the allocation serves (observe mode: the conference is
 * itself the TURN client), as they cross the socket.
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


/* One non-blocking SSL_read or SSL_write; *want_write when the session
 * waits for the socket to be writable */
static enum relay_io_res tls_io(SSL *ssl, void *buf, size_t len, bool wr,
				bool *want_write, size_t *np)
{
	int n, e;

	ERR_clear_error();
	n = wr ? SSL_write(ssl, buf, (int)len) : SSL_read(ssl, buf, (int)len);
	*want_write = false;
	if (n > 0) {
		*np = (size_t)n;
		return RELAY_IO_BYTES;
	}
	e = SSL_get_error(ssl, n);
	if (e == SSL_ERROR_WANT_READ)
		return RELAY_IO_AGAIN;
	if (e == SSL_ERROR_WANT_WRITE) {
		*want_write = true;
		return RELAY_IO_AGAIN;
	}
	return e == SSL_ERROR_ZERO_RETURN ? RELAY_IO_EOF : RELAY_IO_ERROR;
}


/**
 * One non-blocking read or write, plain or TLS, on a client connection
 * (control or data) or a peer connection
 *
 * @param np  bytes moved, set (> 0) only with RELAY_IO_BYTES, else 0
 */
enum relay_io_res relay_stream_io(int fd, SSL *ssl, bool *want_write,
				  void *buf, size_t len, bool wr, size_t *np)
{
	ssize_t n;

	*np = 0;
	if (ssl)
		return tls_io(ssl, buf, len, wr, want_write, np);
	n = wr ? send(fd, buf, len, MSG_NOSIGNAL) : recv(fd, buf, len, 0);
	if (n > 0) {
		*np = (size_t)n;
		return RELAY_IO_BYTES;
	}
	if (n == 0)
		return RELAY_IO_EOF;
	return errno == EAGAIN || errno == EINTR ? RELAY_IO_AGAIN
						 : RELAY_IO_ERROR;
}


static enum relay_io_res ctrl_io(struct relay_ctrl *c, void *buf,
				 size_t len, bool wr, size_t *np)
{
	return relay_stream_io(c->io.fd, c->ssl, &c->want_write, buf, len, wr,
			       np);
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


/* --- capture for the call log -------------------------------------------- */

/*
 * An allocation is tied to a call only when the conference's SDP names
 * its relayed address (RELAY_CMD_WATCH), after its Allocate and often a
 * Refresh. Until then its control connection keeps its first HIST_HEAD
 * messages (the Allocate, its 401 challenge, the authenticated Allocate
 * and its answer) and its latest HIST_TAIL (the last Refresh), at most
 * HIST_BYTES in all, and counts those it let go: a client that refreshes
 * for hours costs no more. A connection that turns out to control a UDP
 * allocation (its Send and Data indications are media) keeps nothing.
 */
#define HIST_HEAD 4
#define HIST_TAIL 4
#define HIST_MAX (HIST_HEAD + HIST_TAIL)
#define HIST_BYTES 2048

struct hist_msg {
	uint8_t *data;
	size_t len;
	int64_t t_us;
	bool sent;
};

struct ctrl_hist {
	struct hist_msg m[HIST_MAX];
	unsigned n;
	size_t bytes;
	uint32_t lost;
};


static void hist_free(struct relay_ctrl *c)
{
	if (!c->hist)
		return;
	for (unsigned i = 0; i < c->hist->n; ++i)
		free(c->hist->m[i].data);
	free(c->hist);
	c->hist = NULL;
}


/* Let message i go (the oldest of the tail) */
static void hist_drop(struct ctrl_hist *h, unsigned i)
{
	h->bytes -= h->m[i].len;
	free(h->m[i].data);
	memmove(&h->m[i], &h->m[i + 1], (h->n - i - 1) * sizeof(h->m[0]));
	h->n--;
	h->lost++;
}


static void hist_add(struct relay_ctrl *c, const uint8_t *buf, size_t len,
		     bool sent)
{
	struct ctrl_hist *h = c->hist;
	struct hist_msg *m;

	if (!h) {
		h = c->hist = calloc(1, sizeof(*h));
		if (!h)
			return;
	}
	while (h->n > HIST_HEAD &&
	       (h->n == HIST_MAX || h->bytes + len > HIST_BYTES))
		hist_drop(h, HIST_HEAD);
	if (h->n == HIST_MAX || h->bytes + len > HIST_BYTES) {
		h->lost++;
		return;
	}
	m = &h->m[h->n];
	m->data = malloc(len);
	if (!m->data) {
		h->lost++;
		return;
	}
	memcpy(m->data, buf, len);
	m->len = len;
	m->t_us = relay_now_us();
	m->sent = sent;
	h->bytes += len;
	h->n++;
}


/* Post one message of c for call: data is owned (moved into the event),
 * or NULL for n_lost messages that were not kept */
static void cap_post(struct relay_thread *rt, struct relay_ctrl *c,
		     uint64_t call, uint32_t alloc_id, uint8_t *data,
		     size_t len, int64_t t_us, bool sent, uint32_t n_lost)
{
	struct relay_ev ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = RELAY_EV_TURN_MSG;
	ev.call_id = call;
	ev.alloc_id = alloc_id;
	ev.sent = sent;
	ev.wire.data = data;
	ev.wire.len = len;
	ev.wire.n_lost = n_lost;
	ev.wire.tls = c->src.tp == TURN_TP_TLS;
	ev.wire.t_us = t_us;
	ev.wire.src = sent ? c->src.local : c->src.client;
	ev.wire.dst = sent ? c->src.client : c->src.local;
	relay_ev_post(rt, &ev);
}


/* A ConnectionBind request for a connection of a watched allocation: the
 * call it serves, else 0 */
static uint64_t connbind_call(struct relay_thread *rt, const uint8_t *buf,
			      size_t len, uint32_t *alloc_id)
{
	struct turn_conn *tc;
	struct turn_msg m;
	uint32_t id;

	if (buf[0] != 0x00 || buf[1] != TURN_M_CONNBIND ||
	    turn_msg_decode(&m, buf, len, NULL) ||
	    turn_msg_get_u32(&m, TURN_A_CONNECTION_ID, &id))
		return 0;
	tc = turn_srv_find_conn(rt->srv, id);
	if (!tc || tc->al->src.tp == TURN_TP_INPROC)
		return 0;
	*alloc_id = tc->al->id;
	return tc->al->call_id;
}


/* One STUN message received on c or sent on it: copied for the call its
 * allocation (or, on a data connection, its ConnectionBind's) serves, or
 * kept in the history until the allocation is watched */
static void ctrl_capture(struct relay_thread *rt, struct relay_ctrl *c,
			 const uint8_t *buf, size_t len, bool sent)
{
	const struct turn_alloc *al;
	uint64_t call = c->cap_call;
	uint32_t alloc_id = c->cap_alloc;
	uint8_t *copy;

	if (c->cap_off || len < TURN_HDR_LEN || (buf[0] & 0xc0))
		return; /* ChannelData: a UDP allocation's media */
	al = turn_srv_find(rt->srv, &c->src);
	if (al && !al->tcp) {
		c->cap_off = true;
		hist_free(c);
		return;
	}
	if (al && al->call_id) {
		call = al->call_id;
		alloc_id = al->id;
	}
	else if (!al && !call && !sent) {
		call = connbind_call(rt, buf, len, &alloc_id);
	}
	if (!call) {
		hist_add(c, buf, len, sent);
		return;
	}
	c->cap_call = call; /* its answers too, and those after a delete */
	c->cap_alloc = alloc_id;
	if (c->n_cap >= RELAY_WIRE_MAX) {
		cap_post(rt, c, call, alloc_id, NULL, 0, relay_now_us(), sent,
			 1);
		return;
	}
	c->n_cap++;
	copy = malloc(len);
	if (copy)
		memcpy(copy, buf, len);
	cap_post(rt, c, call, alloc_id, copy, copy ? len : 0, relay_now_us(),
		 sent, copy ? 0 : 1);
}


/**
 * WATCH tied al, controlled by c, to a call: the messages c kept from
 * before go to it, at the times they crossed
 */
void relay_ctrl_hist_flush(struct relay_thread *rt, struct relay_ctrl *c,
			   const struct turn_alloc *al)
{
	struct ctrl_hist *h = c ? c->hist : NULL;

	if (!h || c->io.kind != RIO_CTRL || !al->call_id)
		return;
	c->cap_call = al->call_id;
	c->cap_alloc = al->id;
	if (h->lost) /* before the tail it kept */
		cap_post(rt, c, al->call_id, al->id, NULL, 0,
			 h->n > HIST_HEAD ? h->m[HIST_HEAD].t_us
					  : relay_now_us(),
			 false, h->lost);
	for (unsigned i = 0; i < h->n; ++i) {
		struct hist_msg *m = &h->m[i];

		c->n_cap++;
		cap_post(rt, c, al->call_id, al->id, m->data, m->len, m->t_us,
			 m->sent, 0);
		m->data = NULL;
	}
	h->n = 0;
	hist_free(c);
}


/* --- client connections ------------------------------------------------------ */

static void ctrl_free(struct relay_io *io)
{
	struct relay_ctrl *c = (struct relay_ctrl *)io;

	hist_free(c);
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
	size_t n = 0;

	if (c->broken || c->converted || c->io.kind == RIO_DEAD)
		return;
	ctrl_capture(rt, c, buf, len, true);
	if (!c->out_len) {
		enum relay_io_res r = ctrl_io(c, (void *)buf, len, true, &n);

		if (r == RELAY_IO_ERROR || r == RELAY_IO_EOF) {
			ctrl_break(rt, c);
			return;
		}
	}
	if (n == len)
		return;
	if (out_append(c, buf + n, len - n)) {
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
		size_t n;
		enum relay_io_res r = ctrl_io(c, c->out, c->out_len, true, &n);

		if (r == RELAY_IO_AGAIN)
			break;
		if (r != RELAY_IO_BYTES) {
			ctrl_break(rt, c);
			return;
		}
		memmove(c->out, c->out + n, c->out_len - n);
		c->out_len -= n;
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
		ctrl_capture(rt, c, c->in + off, flen, false);
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
		enum relay_io_res r;
		size_t n;

		if (c->in_len == c->in_cap && in_reserve(c, c->in_cap * 2)) {
			relay_ctrl_close(rt, c);
			return;
		}
		r = ctrl_io(c, c->in + c->in_len, c->in_cap - c->in_len, false,
			    &n);
		if (r == RELAY_IO_AGAIN)
			break;
		if (r != RELAY_IO_BYTES) {
			relay_ctrl_close(rt, c);
			return;
		}
		c->in_len += n;
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
