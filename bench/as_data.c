/**
 * @file as_data.c  asbench: bulk data through a bridged call, and through
 * a plain TCP pair (direct loopback) for reference, with the same code.
 *
 * The stream is RFC 4571-framed RTP (PT 127), as app-sharing media is:
 * each write carries whole-frame-aligned buffers of wsize bytes; the
 * receiver follows the framing across reads and checks each frame's
 * length, RTP header and sequence number (not every payload byte: the
 * gateway splices and never looks inside). Rates are received bits from
 * the first write to the last read.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "asbench.h"

#define FRAME_MAX 16384   /* bytes of one frame, length field included */
#define RX_BUF (256 * 1024)
#define DRAIN_IDLE_S 5.0  /* after the phase: give up when nothing comes */

/** One direction's sender */
struct flow_tx {
	int fd;
	uint8_t *buf;
	size_t size, off, frame;
	uint16_t seq;
	uint64_t sent;
};

/** One direction's receiver */
struct flow_rx {
	int fd;
	size_t frame;
	uint8_t hdr[14];
	size_t hlen, skip;
	uint16_t seq;
	uint64_t received;
	unsigned bad;
	double t_last;
};


static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}


/* Sequence numbers of the frames of the next round of the buffer */
static void tx_number(struct flow_tx *t)
{
	for (size_t off = 0; off < t->size; off += t->frame)
		put16(t->buf + off + 4, t->seq++);
}


static int tx_init(struct flow_tx *t, int fd, size_t wsize)
{
	memset(t, 0, sizeof(*t));
	t->fd = fd;
	t->frame = wsize < FRAME_MAX ? wsize : FRAME_MAX;
	t->size = wsize / t->frame * t->frame;
	if (t->frame < 64)
		return EINVAL;
	t->buf = malloc(t->size);
	if (!t->buf)
		return ENOMEM;
	for (size_t off = 0; off < t->size; off += t->frame) {
		uint8_t *f = t->buf + off;

		put16(f, (uint16_t)(t->frame - 2));
		f[2] = 0x80;
		f[3] = 127;
		memset(f + 6, 0, 8);
		for (size_t i = 14; i < t->frame; ++i)
			f[i] = (uint8_t)(i * 7);
	}
	tx_number(t);
	return 0;
}


/* Write until the socket is full; 0 or an errno value */
static int tx_pump(struct flow_tx *t)
{
	for (;;) {
		ssize_t n = write(t->fd, t->buf + t->off, t->size - t->off);

		if (n < 0)
			return errno == EAGAIN ? 0 : errno == EINTR ? 0 : errno;
		t->sent += (uint64_t)n;
		t->off += (size_t)n;
		if (t->off == t->size) {
			t->off = 0;
			tx_number(t);
		}
	}
}


/* Follow the framing over one read's bytes */
static void rx_frames(struct flow_rx *x, const uint8_t *p, size_t n)
{
	while (n) {
		size_t k;

		if (x->skip) {
			k = n < x->skip ? n : x->skip;
			x->skip -= k;
			p += k;
			n -= k;
			continue;
		}
		k = sizeof(x->hdr) - x->hlen;
		k = n < k ? n : k;
		memcpy(x->hdr + x->hlen, p, k);
		x->hlen += k;
		p += k;
		n -= k;
		if (x->hlen < sizeof(x->hdr))
			break;
		x->hlen = 0;
		if (((size_t)x->hdr[0] << 8 | x->hdr[1]) != x->frame - 2 ||
		    x->hdr[2] != 0x80 || x->hdr[3] != 127 ||
		    ((uint16_t)(x->hdr[4] << 8 | x->hdr[5])) != x->seq)
			x->bad++;
		x->seq = (uint16_t)(x->hdr[4] << 8 | x->hdr[5]) + 1;
		x->skip = x->frame - sizeof(x->hdr);
	}
}


/* Read until the socket is empty; 0, ECONNRESET at EOF, or errno */
static int rx_pump(struct flow_rx *x, uint8_t *buf)
{
	for (;;) {
		ssize_t n = read(x->fd, buf, RX_BUF);

		if (n == 0)
			return ECONNRESET;
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : errno;
		x->received += (uint64_t)n;
		x->t_last = tb_now();
		rx_frames(x, buf, (size_t)n);
	}
}


/* One poll round over the flows; sending only while `send` */
static int data_round(struct flow_tx *tx, struct flow_rx *rx, unsigned n,
		      bool send, uint8_t *buf)
{
	struct pollfd pfd[4];
	int err = 0;

	for (unsigned i = 0; i < n; ++i) {
		pfd[2 * i] = (struct pollfd){tx[i].fd, send ? POLLOUT : 0, 0};
		pfd[2 * i + 1] = (struct pollfd){rx[i].fd, POLLIN, 0};
	}
	if (poll(pfd, 2 * n, 100) < 0)
		return errno == EINTR ? 0 : errno;
	for (unsigned i = 0; !err && i < n; ++i) {
		if (send && pfd[2 * i].revents)
			err = tx_pump(&tx[i]);
		if (!err && pfd[2 * i + 1].revents)
			err = rx_pump(&rx[i], buf);
	}
	return err;
}


/* Send for `seconds`, then wait until every byte sent has arrived */
static int data_loop(struct flow_tx *tx, struct flow_rx *rx, unsigned n,
		     double t0, double seconds, uint8_t *buf)
{
	double idle_since = 0;
	uint64_t seen = 0;
	int err = 0;

	while (!err) {
		double now = tb_now();
		uint64_t got = 0, sent = 0;

		for (unsigned i = 0; i < n; ++i) {
			got += rx[i].received;
			sent += tx[i].sent;
		}
		if (now >= t0 + seconds && got == sent)
			break;
		if (got != seen || !idle_since)
			idle_since = now;
		seen = got;
		if (now >= t0 + seconds && now - idle_since > DRAIN_IDLE_S)
			return ETIMEDOUT;
		err = data_round(tx, rx, n, now < t0 + seconds, buf);
	}
	return err;
}


static void flow_result(const struct flow_tx *tx, const struct flow_rx *rx,
			unsigned n, double t0, struct as_flow_result *res)
{
	double t_end = t0;

	memset(res, 0, sizeof(*res));
	for (unsigned i = 0; i < n; ++i) {
		double s = rx[i].t_last > t0 ? rx[i].t_last - t0 : 0;
		double g = s > 0 ? (double)rx[i].received * 8 / s / 1e9 : 0;

		if (i)
			res->gbps_ba = g;
		else
			res->gbps_ab = g;
		if (rx[i].t_last > t_end)
			t_end = rx[i].t_last;
		res->sent += tx[i].sent;
		res->received += rx[i].received;
		res->bad_frames += rx[i].bad;
	}
	if (t_end > t0)
		res->gbps = (double)res->received * 8 / (t_end - t0) / 1e9;
}


/**
 * Push data a→b (and b→a when `both`) for `seconds`, writes of wsize
 * bytes; both sockets non-blocking
 *
 * @return 0, ETIMEDOUT (bytes never arrived), or an errno value
 */
int as_data_run(int afd, int bfd, bool both, double seconds, size_t wsize,
		struct as_flow_result *res)
{
	struct flow_tx tx[2];
	struct flow_rx rx[2];
	unsigned n = both ? 2 : 1;
	uint8_t *buf = malloc(RX_BUF);
	double t0;
	int err = buf ? 0 : ENOMEM;

	memset(tx, 0, sizeof(tx));
	memset(rx, 0, sizeof(rx));
	err = err ? err : tx_init(&tx[0], afd, wsize);
	err = err || !both ? err : tx_init(&tx[1], bfd, wsize);
	for (unsigned i = 0; !err && i < n; ++i) {
		rx[i].fd = i ? afd : bfd;
		rx[i].frame = tx[i].frame;
	}
	t0 = tb_now();
	err = err ? err : data_loop(tx, rx, n, t0, seconds, buf);
	flow_result(tx, rx, n, t0, res);
	free(tx[0].buf);
	free(tx[1].buf);
	free(buf);
	return err;
}


/**
 * Direct loopback: a plain TCP pair 127.0.0.2 → 127.0.0.3, both ends
 * non-blocking with TCP_NODELAY, as the relay's sockets are
 */
int as_data_direct_pair(int *afd, int *bfd)
{
	struct sw_sa la, lb;
	socklen_t sl = sizeof(lb.u);
	int l = -1, a = -1, b = -1, one = 1, err = 0;

	sw_sa_set_ip(&la, "127.0.0.2", 0);
	sw_sa_set_ip(&lb, "127.0.0.3", 0);
	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	a = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0 || a < 0 || bind(l, &lb.u.sa, sw_sa_len(&lb)) ||
	    listen(l, 1) || getsockname(l, &lb.u.sa, &sl) ||
	    bind(a, &la.u.sa, sw_sa_len(&la)) ||
	    connect(a, &lb.u.sa, sw_sa_len(&lb))) {
		err = errno;
		goto out;
	}
	b = accept4(l, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (b < 0) {
		err = errno;
		goto out;
	}
	setsockopt(a, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(b, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (fcntl(a, F_SETFL, fcntl(a, F_GETFL) | O_NONBLOCK)) {
		err = errno;
		goto out;
	}
	*afd = a;
	*bfd = b;
	a = b = -1;
out:
	if (l >= 0)
		close(l);
	if (a >= 0)
		close(a);
	if (b >= 0)
		close(b);
	return err;
}
