/**
 * @file relay_pump.c  RFC 6062 connection pairs: the peer side before
 * the bind (bounded buffer, then backpressure), the bridge after it, and
 * the inspect mode for the app-sharing coordinator.
 *
 * One pump function moves one direction (dir[s]: bytes read from side s,
 * written to side !s), choosing the method once per call:
 *  - SPLICE (both sides plain TCP): splice() socket -> pipe -> socket,
 *    zero copy, pipes from a small per-thread pool, held only while they
 *    hold bytes;
 *  - COPY (a TLS side, which splice cannot serve): SSL_read/SSL_write or
 *    read/write through a buffer of 2 KB that doubles, up to 16 KB, while
 *    reads fill it;
 *  - INSPECT: COPY plus an RFC 4571 deframer per direction that hands
 *    each STUN frame to the observer, until it asks for SPLICE.
 * Buffers are the memory of a call in its checks (thousands set up at
 * once): a direction that turns to SPLICE frees its buffer as soon as it
 * holds no unsent byte, and its deframer at once, whether or not it
 * carries anything after the switch (pair_shed); the copy_bytes counter
 * says what all hold.
 * Backpressure: a side is read only while its direction holds no unsent
 * byte; unsent bytes arm EPOLLOUT on the other side. Before the bind a
 * peer is read up to [turn] prebind_buffer, and all the unbound peers of
 * an allocation up to prebind_total together. Nothing here is done
 * per byte. Sockets are level-triggered, so a direction left with data
 * after its batch of rounds is simply woken again.
 *
 * Callbacks from the core (conn_bind, conn_close) never pump: they only
 * set interest, so a pair can never vanish under the core's feet.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#define SW_LOG_MODULE "relay"
#include "sw_log.h"
#include "relay_int.h"
#include "turn_msg.h"

#define PIPE_SIZE (256 * 1024)
#define PUMP_ROUNDS 32

enum { SIDE_CLIENT = 0, SIDE_PEER = 1 };

enum pair_mode {
	PM_PREBIND = 0, /* not bound yet: only the peer side is read */
	PM_COPY,
	PM_INSPECT,
	PM_SPLICE,
};

struct relay_pair;

struct relay_side {
	struct relay_io io; /* kind RIO_SIDE while open */
	struct relay_pair *pair;
	unsigned idx;
	SSL *ssl;
	bool want_write;
	bool eof;
	bool connecting;
};

/* RFC 4571 frame boundaries of one direction, in inspect mode */
struct deframer {
	uint8_t hdr[2];
	unsigned hdr_n;
	size_t flen, remain, acc_n;
	uint8_t acc[RELAY_ACC_MAX];
};

struct relay_dirbuf {
	uint8_t *buf;
	size_t cap, off, len; /* unsent bytes: buf[off .. off+len) */
	size_t step;          /* the next read's size (RELAY_COPY_MIN ..
				 RELAY_COPY_BUF), 0 before the first */
	int pipe[2];
	size_t in_pipe;
	uint64_t bytes; /* delivered to the other side */
	struct deframer *df;
};

struct relay_pair {
	struct relay_io dead_io; /* retire handle of the whole pair */
	struct relay_thread *rt;
	struct turn_conn *tc;
	uint32_t id;
	uint64_t call_id;
	bool inproc;
	enum pair_mode mode;
	bool inspect;          /* bind into PM_INSPECT */
	uint64_t inspect_left; /* bytes, 0 = no cap */
	size_t prebind;        /* read before the bind, counted in rs->prebind */
	struct relay_side side[2];
	struct relay_dirbuf dir[2];
	struct sw_sa targets[RELAY_MAX_ADDRS];
	unsigned n_targets, target_i;
	struct relay_inside *inside; /* an inside connection's Connect */
	unsigned inside_next;        /* its next target if this one fails */
	struct sw_sa inside_src;     /* the conference, connected inside */
	struct sw_sa peer_far, peer_near; /* inspect: the peer side's ends */
	unsigned n_cap;              /* frames copied for the call log */
	struct relay_pair *prev, *next;
};


/* --- pipes ------------------------------------------------------------------- */

static int pipe_get(struct relay_thread *rt, int p[2])
{
	if (rt->n_pipes) {
		--rt->n_pipes;
		p[0] = rt->pipes[rt->n_pipes][0];
		p[1] = rt->pipes[rt->n_pipes][1];
		return 0;
	}
	if (pipe2(p, O_NONBLOCK | O_CLOEXEC))
		return errno;
	fcntl(p[1], F_SETPIPE_SZ, PIPE_SIZE); /* a hint: 64 KB works too */
	return 0;
}


/* Back to the pool if empty; closed if it still holds bytes */
static void pipe_put(struct relay_thread *rt, int p[2], bool dirty)
{
	if (p[0] < 0)
		return;
	if (dirty || rt->n_pipes == RELAY_POOL_PIPES) {
		close(p[0]);
		close(p[1]);
	}
	else {
		rt->pipes[rt->n_pipes][0] = p[0];
		rt->pipes[rt->n_pipes][1] = p[1];
		++rt->n_pipes;
	}
	p[0] = p[1] = -1;
}


void relay_pipes_free(struct relay_thread *rt)
{
	while (rt->n_pipes) {
		--rt->n_pipes;
		close(rt->pipes[rt->n_pipes][0]);
		close(rt->pipes[rt->n_pipes][1]);
	}
}


/* --- copy buffers ------------------------------------------------------------- */

static void copy_count(struct relay_pair *p, size_t n, bool add)
{
	TURN_CNT_ADD(turn_srv_counters(p->rt->srv), copy_bytes,
		     add ? n : -n);
}


static void dir_free_buf(struct relay_pair *p, struct relay_dirbuf *d)
{
	if (!d->buf)
		return;
	copy_count(p, d->cap, false);
	free(d->buf);
	d->buf = NULL;
	d->cap = d->off = d->len = 0;
	d->step = 0;
}


static void dir_free_df(struct relay_pair *p, struct relay_dirbuf *d)
{
	if (!d->df)
		return;
	copy_count(p, sizeof(*d->df), false);
	free(d->df);
	d->df = NULL;
}


/* Room for want more bytes after the unsent ones */
static int buf_reserve(struct relay_pair *p, struct relay_dirbuf *d,
		       size_t want)
{
	uint8_t *b;

	if (!d->len)
		d->off = 0;
	if (d->cap - d->off - d->len >= want)
		return 0;
	if (d->off) {
		memmove(d->buf, d->buf + d->off, d->len);
		d->off = 0;
		if (d->cap - d->len >= want)
			return 0;
	}
	b = realloc(d->buf, d->len + want);
	if (!b)
		return ENOMEM;
	copy_count(p, d->cap, false);
	d->buf = b;
	d->cap = d->len + want;
	copy_count(p, d->cap, true);
	return 0;
}


/*
 * What a direction no longer needs goes, at the end of an event on the
 * pair (pair_interest), never while a read is under way: out of inspect
 * mode its deframer; spliced, its copy buffer once it holds no unsent
 * byte (otherwise dir_flush frees it when they are gone). Without this a
 * direction that carries nothing after the switch kept both for the
 * call's life.
 */
static void pair_shed(struct relay_pair *p)
{
	if (p->mode == PM_PREBIND || p->mode == PM_INSPECT)
		return;
	for (unsigned s = 0; s < 2; ++s) {
		dir_free_df(p, &p->dir[s]);
		if (p->mode == PM_SPLICE && !p->dir[s].len)
			dir_free_buf(p, &p->dir[s]);
	}
}


/* --- pair lifecycle ---------------------------------------------------------- */

static void pair_free(struct relay_io *io)
{
	struct relay_pair *p = (struct relay_pair *)io;

	for (int i = 0; i < 2; ++i) {
		free(p->dir[i].buf);
		free(p->dir[i].df);
	}
	free(p);
}


static void side_init(struct relay_pair *p, unsigned s, int fd)
{
	struct relay_side *sd = &p->side[s];

	sd->io.kind = RIO_SIDE;
	sd->io.fd = fd;
	sd->pair = p;
	sd->idx = s;
	if (fd >= 0)
		relay_sock_nodelay(fd);
}


static void post_watched(struct relay_pair *p, enum relay_ev_type type,
			 const struct sw_sa *addr);
static void prebind_release(struct relay_pair *p);


/**
 * A pair for tc whose peer side is fd: accepted from a peer, or
 * connecting to it (Connect). fd is not taken on error.
 */
int relay_pair_new(struct relay_thread *rt, struct turn_conn *tc, int fd,
		   bool connecting)
{
	struct relay_pair *p = calloc(1, sizeof(*p));
	int err;

	if (!p)
		return ENOMEM;
	p->dead_io.kind = RIO_SIDE;
	p->dead_io.fd = -1;
	p->dead_io.free_h = pair_free;
	p->rt = rt;
	p->tc = tc;
	p->id = tc->id;
	p->call_id = tc->al->call_id;
	p->inproc = tc->al->src.tp == TURN_TP_INPROC;
	p->inspect = tc->al->inspect; /* a watched allocation (observe mode) */
	p->inspect_left = tc->al->inspect_max;
	side_init(p, SIDE_CLIENT, -1);
	side_init(p, SIDE_PEER, fd);
	p->side[SIDE_PEER].connecting = connecting;
	for (int i = 0; i < 2; ++i)
		p->dir[i].pipe[0] = p->dir[i].pipe[1] = -1;
	err = relay_io_set(rt, &p->side[SIDE_PEER].io,
			   connecting ? EPOLLOUT : EPOLLIN);
	if (err) {
		free(p);
		return err;
	}
	p->next = rt->pairs;
	if (rt->pairs)
		rt->pairs->prev = p;
	rt->pairs = p;
	tc->io = p;
	if (!connecting)
		post_watched(p, RELAY_EV_CONN_ATTEMPT, &tc->peer);
	return 0;
}


static void side_close(struct relay_thread *rt, struct relay_side *sd)
{
	relay_io_set(rt, &sd->io, 0);
	if (sd->ssl) {
		SSL_free(sd->ssl);
		sd->ssl = NULL;
	}
	if (sd->io.fd >= 0)
		close(sd->io.fd);
	sd->io.fd = -1;
	sd->io.kind = RIO_DEAD;
}


static void pair_post_closed(struct relay_pair *p, int err)
{
	struct relay_ev ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = RELAY_EV_CONN_CLOSED;
	ev.call_id = p->call_id;
	ev.alloc_id = p->tc->al->id;
	ev.conn_id = p->id;
	ev.err = err;
	ev.bytes[RELAY_DIR_TO_PEER] = p->dir[SIDE_CLIENT].bytes;
	ev.bytes[RELAY_DIR_TO_CLIENT] = p->dir[SIDE_PEER].bytes;
	relay_ev_post(p->rt, &ev);
}


/** The core's conn_close: both sockets, the pipes; the pair is retired */
void relay_op_conn_close(void *arg, struct turn_conn *tc)
{
	struct relay_thread *rt = arg;
	struct relay_pair *p = tc->io;

	if (!p)
		return;
	sw_debug("[conn %08x] usage: %llu bytes to peer, %llu to client",
		 p->id, (unsigned long long)p->dir[SIDE_CLIENT].bytes,
		 (unsigned long long)p->dir[SIDE_PEER].bytes);
	prebind_release(p);
	if (p->inside && p->mode == PM_PREBIND) {
		/* this Connect failed: the conference's connection goes on
		 * to the next target (not while the allocation goes away) */
		int fd = p->side[SIDE_CLIENT].io.fd;

		p->side[SIDE_CLIENT].io.fd = -1;
		if (tc->al->io)
			relay_inside_retry(p->inside, fd, &p->inside_src,
					   p->inside_next);
		else
			close(fd);
	}
	else if (p->inproc || p->call_id) {
		pair_post_closed(p, 0);
	}
	for (int i = 0; i < 2; ++i) {
		side_close(rt, &p->side[i]);
		pipe_put(rt, p->dir[i].pipe, p->dir[i].in_pipe > 0);
		dir_free_buf(p, &p->dir[i]);
		dir_free_df(p, &p->dir[i]);
	}
	if (p->prev)
		p->prev->next = p->next;
	else
		rt->pairs = p->next;
	if (p->next)
		p->next->prev = p->prev;
	tc->io = NULL;
	p->tc = NULL;
	relay_io_retire(rt, &p->dead_io, false);
	if (!rt->pairs)
		relay_pipes_free(rt); /* idle thread: no spare pipes kept */
}


/* --- I/O of one side ----------------------------------------------------------- */

static enum relay_io_res side_io(struct relay_side *sd, void *buf,
				 size_t len, bool wr, size_t *np)
{
	return relay_stream_io(sd->io.fd, sd->ssl, &sd->want_write, buf, len,
			       wr, np);
}


static bool dir_pending(const struct relay_dirbuf *d)
{
	return d->len || d->in_pipe;
}


/* Peer bytes this unbound pair may still read: its own prebind_buffer
 * and what its allocation has left of prebind_total */
static size_t prebind_room(const struct relay_pair *p)
{
	const struct relay_relayed *rs = p->tc->al->io;
	const struct sw_conf *c = &p->rt->conf;
	size_t own = p->dir[SIDE_PEER].len < c->turn_prebind_buffer
			     ? c->turn_prebind_buffer - p->dir[SIDE_PEER].len
			     : 0;
	size_t all = !rs ? own
		     : rs->prebind < c->turn_prebind_total
			     ? c->turn_prebind_total - rs->prebind
			     : 0;

	return own < all ? own : all;
}


static void pair_interest(struct relay_pair *p);


/* The bytes of an unbound pair read so far stop counting against its
 * allocation (it binds or closes): the unbound pairs paused for want of
 * room are read again */
static void prebind_release(struct relay_pair *p)
{
	struct relay_relayed *rs = p->tc ? p->tc->al->io : NULL;
	size_t n = p->prebind;
	bool full;

	if (!rs || !n)
		return;
	p->prebind = 0;
	full = rs->prebind >= p->rt->conf.turn_prebind_total;
	rs->prebind -= n < rs->prebind ? n : rs->prebind;
	TURN_CNT_ADD(turn_srv_counters(p->rt->srv), prebind_bytes, -n);
	for (struct turn_conn *tc = p->tc->al->conns; full && tc;
	     tc = tc->next) {
		struct relay_pair *o = tc->io;

		if (o && o != p && o->mode == PM_PREBIND)
			pair_interest(o);
	}
}


static bool side_readable(const struct relay_pair *p, unsigned s)
{
	const struct relay_side *sd = &p->side[s];

	if (sd->eof || sd->connecting || sd->io.fd < 0)
		return false;
	if (p->mode == PM_PREBIND)
		return s == SIDE_PEER && prebind_room(p) > 0;
	return !dir_pending(&p->dir[s]);
}


static void pair_interest(struct relay_pair *p)
{
	pair_shed(p);
	for (unsigned s = 0; s < 2; ++s) {
		struct relay_side *sd = &p->side[s];
		uint32_t ev = 0;

		if (sd->io.kind != RIO_SIDE || sd->io.fd < 0)
			continue;
		if (sd->connecting)
			ev = EPOLLOUT;
		else if (side_readable(p, s))
			ev = EPOLLIN;
		if (!sd->connecting && p->mode != PM_PREBIND &&
		    (dir_pending(&p->dir[!s]) || sd->want_write))
			ev |= EPOLLOUT;
		if (relay_io_set(p->rt, &sd->io, ev))
			sw_warn("[conn %08x] epoll: %s", p->id,
				strerror(errno));
	}
}


/* --- inspect mode: RFC 4571 frames, STUN to the observer ------------------------ */

/*
 * The frame, RFC 4571 length included, as it crossed the peer side's
 * socket (read from the peer, or written to it unchanged), for the call
 * log's capture; at most RELAY_WIRE_MAX per connection. Both directions
 * go on the peer side because that connection carries nothing but these
 * frames, so Wireshark's STUN heuristics decode them as they are, while
 * on the client side of a ConnectionBind (observe mode) it takes what
 * follows the bind for opaque peer data (RFC 6062 5.4) and decodes no
 * check there: the trouble of Cisco doc 212580.
 */
static void wire_copy(struct relay_pair *p, unsigned s, const uint8_t *f,
		      size_t n, struct relay_wire *w)
{
	const uint8_t len[2] = {(uint8_t)(n >> 8), (uint8_t)n};

	if (p->n_cap >= RELAY_WIRE_MAX) {
		memset(w, 0, sizeof(*w));
		w->n_lost = 1;
		return;
	}
	p->n_cap++;
	if (s == SIDE_PEER)
		relay_wire_copy(w, len, 2, f, n, &p->peer_far, &p->peer_near);
	else
		relay_wire_copy(w, len, 2, f, n, &p->peer_near, &p->peer_far);
}


static enum relay_inspect builtin_observe(struct relay_pair *p, unsigned s,
					  const uint8_t *f, size_t n)
{
	struct relay_ev ev;
	struct turn_msg m;
	uint32_t prio;

	if (turn_msg_decode(&m, f, n, NULL))
		return RELAY_INSPECT_CONTINUE;
	memset(&ev, 0, sizeof(ev));
	ev.type = RELAY_EV_STUN;
	ev.call_id = p->call_id;
	ev.alloc_id = p->tc->al->id;
	ev.conn_id = p->id;
	ev.dir = s == SIDE_CLIENT ? RELAY_DIR_TO_PEER : RELAY_DIR_TO_CLIENT;
	ev.stun.method = m.method;
	ev.stun.cls = m.cls;
	memcpy(ev.stun.tid, m.tid, sizeof(ev.stun.tid));
	ev.stun.use_candidate = turn_msg_attr(&m, TURN_A_USE_CANDIDATE);
	ev.stun.role = turn_msg_attr(&m, TURN_A_ICE_CONTROLLING) ? 1
		     : turn_msg_attr(&m, TURN_A_ICE_CONTROLLED) ? 2 : 0;
	if (m.cls == TURN_C_ERROR)
		turn_msg_get_error(&m, &ev.stun.error_code, NULL, 0);
	if (!turn_msg_get_u32(&m, TURN_A_PRIORITY, &prio))
		ev.stun.priority = prio;
	if (turn_msg_get_str(&m, TURN_A_USERNAME, ev.stun.username,
			     sizeof(ev.stun.username), NULL))
		ev.stun.username[0] = '\0';
	wire_copy(p, s, f, n, &ev.wire);
	relay_ev_post(p->rt, &ev);
	return RELAY_INSPECT_CONTINUE;
}


static void pair_leave_inspect(struct relay_pair *p)
{
	struct relay_ev ev;

	if (p->mode != PM_INSPECT)
		return;
	p->mode = p->side[0].ssl || p->side[1].ssl ? PM_COPY : PM_SPLICE;
	sw_debug("[conn %08x] inspect -> %s", p->id,
		 p->mode == PM_SPLICE ? "splice" : "copy");
	memset(&ev, 0, sizeof(ev));
	ev.type = RELAY_EV_SPLICED;
	ev.call_id = p->call_id;
	ev.alloc_id = p->tc->al->id;
	ev.conn_id = p->id;
	relay_ev_post(p->rt, &ev);
}


static void frame_done(struct relay_pair *p, unsigned s, struct deframer *df)
{
	struct relay *r = p->rt->r;
	enum relay_dir dir = s == SIDE_CLIENT ? RELAY_DIR_TO_PEER
					      : RELAY_DIR_TO_CLIENT;
	enum relay_inspect want;

	df->hdr_n = 0;
	if (df->flen > RELAY_ACC_MAX || !turn_msg_is_stun(df->acc, df->flen))
		return;
	if (r->observe)
		want = r->observe(r->observe_arg, p->id, dir, df->acc,
				  df->flen);
	else
		want = builtin_observe(p, s, df->acc, df->flen);
	if (want == RELAY_INSPECT_SPLICE)
		pair_leave_inspect(p);
}


static void deframe(struct relay_pair *p, unsigned s, const uint8_t *b,
		    size_t n)
{
	struct deframer *df = p->dir[s].df;

	while (n && p->mode == PM_INSPECT) {
		size_t k;

		if (df->hdr_n < 2) {
			df->hdr[df->hdr_n++] = *b++;
			--n;
			if (df->hdr_n == 2) {
				df->flen = df->remain =
					(size_t)df->hdr[0] << 8 | df->hdr[1];
				df->acc_n = 0;
			}
			if (df->hdr_n == 2 && !df->remain)
				frame_done(p, s, df);
			continue;
		}
		k = n < df->remain ? n : df->remain;
		if (df->acc_n < RELAY_ACC_MAX) {
			size_t c = RELAY_ACC_MAX - df->acc_n;

			c = c < k ? c : k;
			memcpy(df->acc + df->acc_n, b, c);
			df->acc_n += c;
		}
		b += k;
		n -= k;
		df->remain -= k;
		if (!df->remain)
			frame_done(p, s, df);
	}
}


static void inspect_account(struct relay_pair *p, unsigned s,
			    const uint8_t *b, size_t n)
{
	deframe(p, s, b, n);
	if (p->mode != PM_INSPECT || !p->inspect_left)
		return;
	if (p->inspect_left <= n) {
		sw_debug("[conn %08x] inspect_max reached", p->id);
		pair_leave_inspect(p);
	}
	else {
		p->inspect_left -= n;
	}
}


/* --- the pump -------------------------------------------------------------------- */

static void count_out(struct relay_pair *p, unsigned s, size_t n)
{
	struct turn_counters *c = turn_srv_counters(p->rt->srv);

	p->dir[s].bytes += n;
	if (s == SIDE_CLIENT)
		TURN_CNT_ADD(c, bytes_to_peer, n);
	else
		TURN_CNT_ADD(c, bytes_to_client, n);
}


/* Write dir[s]'s unsent bytes to the other side: 0 all gone, EAGAIN,
 * EPIPE */
static int dir_flush(struct relay_pair *p, unsigned s)
{
	struct relay_dirbuf *d = &p->dir[s];
	struct relay_side *dst = &p->side[!s];

	while (d->len) {
		size_t n;
		enum relay_io_res r =
			side_io(dst, d->buf + d->off, d->len, true, &n);

		if (r == RELAY_IO_AGAIN)
			return EAGAIN;
		if (r != RELAY_IO_BYTES)
			return EPIPE;
		d->off += n;
		d->len -= n;
		count_out(p, s, n);
	}
	if (p->mode == PM_SPLICE) {
		/* spliced for good: a held call keeps no copy buffers */
		dir_free_buf(p, d);
		dir_free_df(p, d);
	}
	while (d->in_pipe) {
		ssize_t n = splice(d->pipe[0], NULL, dst->io.fd, NULL,
				   d->in_pipe,
				   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);

		if (n < 0 && errno == EAGAIN)
			return EAGAIN;
		if (n <= 0)
			return EPIPE;
		d->in_pipe -= (size_t)n;
		count_out(p, s, (size_t)n);
	}
	pipe_put(p->rt, d->pipe, false);
	return 0;
}


/* Read from side s into dir[s] */
static enum relay_io_res dir_fill(struct relay_pair *p, unsigned s)
{
	struct relay_dirbuf *d = &p->dir[s];
	size_t room, n;
	enum relay_io_res r;

	if (p->mode == PM_SPLICE) {
		ssize_t sn;

		if (d->pipe[0] < 0 && pipe_get(p->rt, d->pipe))
			return RELAY_IO_ERROR;
		sn = splice(p->side[s].io.fd, NULL, d->pipe[1], NULL, PIPE_SIZE,
			    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (sn > 0)
			d->in_pipe += (size_t)sn;
		else if (!d->in_pipe) /* an idle side holds no pipe */
			pipe_put(p->rt, d->pipe, false);
		if (sn < 0)
			return errno == EAGAIN ? RELAY_IO_AGAIN
					       : RELAY_IO_ERROR;
		return sn ? RELAY_IO_BYTES : RELAY_IO_EOF;
	}
	if (!d->step)
		d->step = RELAY_COPY_MIN;
	room = d->step;
	if (p->mode == PM_PREBIND && prebind_room(p) < room)
		room = prebind_room(p);
	if (buf_reserve(p, d, room))
		return RELAY_IO_ERROR;
	r = side_io(&p->side[s], d->buf + d->off + d->len, room, false, &n);
	if (r != RELAY_IO_BYTES)
		return r;
	if (n == d->step && d->step < RELAY_COPY_BUF)
		d->step *= 2; /* a stream, not checks: bigger reads */
	if (p->mode == PM_INSPECT)
		inspect_account(p, s, d->buf + d->off + d->len, n);
	if (p->mode == PM_PREBIND && p->tc->al->io) {
		((struct relay_relayed *)p->tc->al->io)->prebind += n;
		p->prebind += n;
		TURN_CNT_ADD(turn_srv_counters(p->rt->srv), prebind_bytes, n);
	}
	d->len += n;
	return RELAY_IO_BYTES;
}


static void pair_close(struct relay_pair *p, const char *why)
{
	turn_conn_close(p->rt->srv, p->tc, why);
}


/* Move direction s as far as it goes now. false if the pair is gone. */
static bool pump(struct relay_pair *p, unsigned s)
{
	for (int round = 0; round < PUMP_ROUNDS; ++round) {
		enum relay_io_res r;

		if (p->mode != PM_PREBIND) {
			int err = dir_flush(p, s);

			if (err == EAGAIN)
				break;
			if (err) {
				pair_close(p, "write failed");
				return false;
			}
		}
		if (p->side[s].eof) {
			if (p->mode != PM_PREBIND || !p->dir[s].len) {
				pair_close(p, s == SIDE_PEER
						      ? "closed by the peer"
						      : "closed by the client");
				return false;
			}
			break;
		}
		if (!side_readable(p, s) && p->mode == PM_PREBIND)
			break;
		r = dir_fill(p, s);
		if (r == RELAY_IO_AGAIN)
			break;
		if (r == RELAY_IO_ERROR) {
			pair_close(p, "read failed");
			return false;
		}
		if (r == RELAY_IO_EOF)
			p->side[s].eof = true;
	}
	return true;
}


static void inside_bind(struct relay_pair *p);


/* The outbound connection of a Connect finished (RFC 6062 5.2) */
static void peer_connected(struct relay_pair *p)
{
	struct relay_side *sd = &p->side[SIDE_PEER];
	socklen_t sl = sizeof(int);
	int err = 0;

	if (getsockopt(sd->io.fd, SOL_SOCKET, SO_ERROR, &err, &sl))
		err = errno;
	sd->connecting = false;
	turn_conn_connected(p->rt->srv, p->tc, err);
	if (err)
		return;
	if (p->inside)
		inside_bind(p);
	else
		pair_interest(p);
}


static void dial_next(struct relay_pair *p);


static void local_addr(int fd, struct sw_sa *sa)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	memset(sa, 0, sizeof(*sa));
	if (!getsockname(fd, (struct sockaddr *)&ss, &sl))
		sw_sa_from_sockaddr(sa, (struct sockaddr *)&ss);
}


/* A watched (observe mode) external connection: tell the SIP thread */
static void post_watched(struct relay_pair *p, enum relay_ev_type type,
			 const struct sw_sa *addr)
{
	struct relay_ev ev;

	if (!p->call_id || p->inproc)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.call_id = p->call_id;
	ev.alloc_id = p->tc->al->id;
	ev.conn_id = p->id;
	ev.addr = *addr;
	relay_ev_post(p->rt, &ev);
}


/* Bind an in-process connection (the ConnectionBind of the same state
 * machine), its client side being the gateway's own socket toward
 * client, and report it: addr = what was reached, local = the other end */
static void bind_inproc(struct relay_pair *p, const struct sw_sa *client,
			const struct sw_sa *addr, const struct sw_sa *local,
			bool inside)
{
	struct relay_ev ev;
	struct turn_src data;

	memset(&data, 0, sizeof(data));
	data.tp = TURN_TP_INPROC;
	data.client = *client;
	data.io = p;
	memset(&ev, 0, sizeof(ev));
	ev.type = RELAY_EV_CONN_BOUND;
	ev.call_id = p->call_id;
	ev.alloc_id = p->tc->al->id;
	ev.conn_id = p->id;
	ev.addr = *addr;
	ev.local = *local;
	ev.is_inside = inside;
	if (turn_conn_bind_inproc(p->rt->srv, p->tc, &data))
		return; /* the core closed it */
	relay_ev_post(p->rt, &ev);
}


static void dial_done(struct relay_pair *p)
{
	struct relay_side *sd = &p->side[SIDE_CLIENT];
	struct sw_sa local;
	socklen_t sl = sizeof(int);
	int err = 0;

	if (getsockopt(sd->io.fd, SOL_SOCKET, SO_ERROR, &err, &sl) || err) {
		side_close(p->rt, sd);
		dial_next(p);
		return;
	}
	sd->connecting = false;
	local_addr(sd->io.fd, &local); /* how the far side sees us */
	bind_inproc(p, &p->targets[p->target_i - 1],
		    &p->targets[p->target_i - 1], &local, false);
}


void relay_side_event(struct relay_thread *rt, struct relay_io *io,
		      uint32_t ev)
{
	struct relay_side *sd = (struct relay_side *)io;
	struct relay_pair *p = sd->pair;
	unsigned s = sd->idx;

	(void)rt;
	if (sd->connecting) {
		if (s == SIDE_PEER)
			peer_connected(p);
		else
			dial_done(p);
		return;
	}
	if ((ev & EPOLLOUT || sd->ssl) && p->mode != PM_PREBIND &&
	    !pump(p, !s))
		return;
	if (ev & (EPOLLIN | EPOLLERR | EPOLLHUP) || sd->ssl)
		if (!pump(p, s))
			return;
	pair_interest(p);
}


/* --- bind: the client side joins ------------------------------------------------- */

static enum pair_mode bound_mode(const struct relay_pair *p)
{
	if (p->inspect)
		return PM_INSPECT;
	return p->side[0].ssl || p->side[1].ssl ? PM_COPY : PM_SPLICE;
}


/* The real addresses of the peer side, for the frames it carries: the
 * peer (tc->peer), and the relayed address as the socket has it */
static void peer_addrs(struct relay_pair *p)
{
	local_addr(p->side[SIDE_PEER].io.fd, &p->peer_near);
	p->peer_far = p->tc->peer;
}


/* dir[PEER] must send what the client connection had not yet sent (the
 * ConnectionBind answer) before the peer's buffered bytes */
static int prepend(struct relay_pair *p, struct relay_dirbuf *d,
		   const uint8_t *b, size_t n)
{
	if (!n)
		return 0;
	if (buf_reserve(p, d, n))
		return ENOMEM;
	memmove(d->buf + d->off + n, d->buf + d->off, d->len);
	memcpy(d->buf + d->off, b, n);
	d->len += n;
	return 0;
}


static int take_ctrl(struct relay_pair *p, struct relay_ctrl *c)
{
	struct relay_dirbuf *up = &p->dir[SIDE_CLIENT];
	size_t rest = c->in_len - c->in_off;

	if (prepend(p, &p->dir[SIDE_PEER], c->out, c->out_len) ||
	    buf_reserve(p, up, rest))
		return ENOMEM;
	if (rest)
		memcpy(up->buf + up->off + up->len, c->in + c->in_off, rest);
	up->len += rest;
	side_init(p, SIDE_CLIENT, c->io.fd);
	p->side[SIDE_CLIENT].ssl = c->ssl;
	relay_ctrl_detach(p->rt, c); /* fd and SSL are the pair's now */
	return 0;
}


/* Bytes that arrived before the bind are inspected as well: a peer's
 * first checks often come before it (the bind waits on a dial), and a
 * client may send right after its ConnectionBind. dir[PEER] ends with the
 * peer's early bytes (the ConnectionBind answer comes first), dir[CLIENT]
 * holds what the client sent after its ConnectionBind. */
static void inspect_early(struct relay_pair *p, size_t early)
{
	struct relay_dirbuf *d = &p->dir[SIDE_PEER];
	struct relay_dirbuf *up = &p->dir[SIDE_CLIENT];

	if (early)
		inspect_account(p, SIDE_PEER, d->buf + d->off + d->len - early,
				early);
	if (up->len && p->mode == PM_INSPECT)
		inspect_account(p, SIDE_CLIENT, up->buf + up->off, up->len);
}



/* The bridging connection leaves from the instance's relay address, not
 * from whatever address the route picks: on a host with several gateways
 * (or several addresses) the conference server sees, and the completion
 * re-INVITE names (candidate 102), this instance's own. Not fatal: an
 * address that cannot be bound leaves the choice to the route. */
static void bind_relay_ip(const struct relay_thread *rt, int fd, int af)
{
	struct sw_sa b = af == AF_INET6 ? rt->conf.turn_relay_ip6
					: rt->conf.turn_relay_ip;

	if (!sw_sa_isset(&b) || sw_sa_af(&b) != af)
		return;
	sw_sa_set_port(&b, 0);
	if (bind(fd, &b.u.sa, sw_sa_len(&b)))
		sw_log_limited(SW_LOG_INFO, "relay: bind to the relay address "
			       "for a bridging connection: %s",
			       strerror(errno));
}

/**
 * The core's conn_bind: data (a client connection after its successful
 * ConnectionBind, or the gateway's dialled connection) becomes the
 * client side; the peer's buffered bytes go first
 */
int relay_op_conn_bind(void *arg, struct turn_conn *tc,
		       const struct turn_src *data)
{
	struct relay_pair *p = tc->io;
	size_t early;
	int err;

	(void)arg;
	if (!p)
		return ENOTCONN;
	early = p->dir[SIDE_PEER].len; /* the peer's, read before the bind */
	prebind_release(p);
	if (data->tp != TURN_TP_INPROC) {
		err = take_ctrl(p, data->io);
		if (err)
			return err;
		post_watched(p, RELAY_EV_CONN_BOUND, &data->client);
	}
	p->mode = bound_mode(p);
	if (p->mode == PM_INSPECT) {
		for (int i = 0; i < 2; ++i) {
			p->dir[i].df = calloc(1, sizeof(*p->dir[i].df));
			if (!p->dir[i].df)
				return ENOMEM;
			copy_count(p, sizeof(*p->dir[i].df), true);
		}
		peer_addrs(p);
		inspect_early(p, early);
	}
	pair_interest(p);
	return 0;
}


static void dial_next(struct relay_pair *p)
{
	struct relay_side *sd = &p->side[SIDE_CLIENT];

	while (p->target_i < p->n_targets) {
		const struct sw_sa *t = &p->targets[p->target_i++];
		int fd;

		/* a candidate from an SDP: the peer policy, as a Connect */
		if (turn_srv_check_peer_addr(p->rt->srv, t)) {
			char a[SW_SA_STRLEN];

			TURN_CNT_ADD(turn_srv_counters(p->rt->srv),
				     denied_peers, 1);
			sw_log_limited(SW_LOG_INFO, "[conn %08x] candidate %s "
				       "denied by policy", p->id,
				       sw_sa_str(t, a, sizeof(a)));
			continue;
		}
		fd = socket(sw_sa_af(t), SOCK_STREAM | SOCK_NONBLOCK |
					 SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		bind_relay_ip(p->rt, fd, sw_sa_af(t));
		if (connect(fd, &t->u.sa, sw_sa_len(t)) && errno != EINPROGRESS) {
			close(fd);
			continue;
		}
		side_init(p, SIDE_CLIENT, fd);
		sd->connecting = true;
		pair_interest(p);
		return;
	}
	pair_close(p, "no far-side candidate answered");
}


/**
 * RELAY_CMD_BIND for an in-process connection: dial the targets in
 * order; the first that answers is bound through the core
 *
 * @return 0 (dialling), EALREADY (not pending), EINVAL (no target)
 */
int relay_pair_dial(struct relay_thread *rt, struct turn_conn *tc,
		    const struct relay_cmd *cmd)
{
	struct relay_pair *p = tc->io;

	(void)rt;
	if (!p || tc->state != TURN_CONN_PENDING || p->n_targets)
		return EALREADY;
	if (!cmd->n_addrs || cmd->n_addrs > RELAY_MAX_ADDRS)
		return EINVAL;
	memcpy(p->targets, cmd->addrs, cmd->n_addrs * sizeof(*cmd->addrs));
	p->n_targets = cmd->n_addrs;
	p->inspect = cmd->inspect;
	p->inspect_left = cmd->inspect_max;
	dial_next(p);
	return 0;
}


/**
 * Leave inspect mode (RELAY_CMD_SPLICE, relay_conn_set_splice)
 *
 * @return 0, ENOTCONN (not bridged yet: it will bind in splice mode)
 */
int relay_pair_splice(struct relay_thread *rt, struct turn_conn *tc)
{
	struct relay_pair *p = tc->io;

	(void)rt;
	if (!p)
		return ENOTCONN;
	if (p->mode == PM_PREBIND) {
		p->inspect = false;
		return ENOTCONN;
	}
	pair_leave_inspect(p);
	pair_interest(p);
	return 0;
}


/**
 * An in-process Connect for the conference's connection fd to the inside
 * address: fd becomes the client side, bound once the peer answers
 */
void relay_pair_inside(struct turn_conn *tc, int fd, const struct sw_sa *src,
		       struct relay_inside *ins, unsigned next)
{
	struct relay_pair *p = tc->io;

	side_init(p, SIDE_CLIENT, fd); /* not polled before the bind */
	p->inside = ins;
	p->inside_next = next;
	p->inside_src = *src;
	p->inspect = true;
	p->inspect_left = p->rt->conf.as_inspect_max_bytes;
}


/* The Connect of an inside connection succeeded (tc is PENDING): bind
 * the conference's connection to it, as a ConnectionBind would */
static void inside_bind(struct relay_pair *p)
{
	bind_inproc(p, &p->inside_src, &p->tc->peer, &p->inside_src, true);
}


/**
 * RELAY_CMD_WATCH: a connection of a newly watched allocation that is not
 * bound yet will bind in the allocation's inspect mode and report
 */
void relay_pair_watch(struct relay_thread *rt, struct turn_conn *tc)
{
	struct relay_pair *p = tc->io;

	(void)rt;
	if (!p || p->mode != PM_PREBIND)
		return;
	p->call_id = tc->al->call_id;
	p->inspect = tc->al->inspect;
	p->inspect_left = tc->al->inspect_max;
	post_watched(p, RELAY_EV_CONN_ATTEMPT, &tc->peer);
}
