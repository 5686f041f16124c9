/**
 * @file sw_hep.c  HEPv3 encoder and UDP sender (sw_hep.h).
 *
 * Layout (HEP3 rev 37): "HEP3", a 16-bit total length including this
 * 6-byte header, then chunks of vendor id (0 = generic), type, length
 * (including their own 6 bytes) and value, all big-endian. The generic
 * chunks a receiver needs to accept a packet (Kamailio's sipcapture
 * counts them): IP family, IP protocol, source and destination address
 * and port, seconds and microseconds, protocol type, capture id, and
 * the payload. Optional: the password (0x000e), the correlation id
 * (0x0011: Homer groups a call's logs and legs by it) and the node name
 * (0x0013).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sw_hep.h"

struct hep_buf {
	uint8_t *p;
	size_t n, cap;
	bool over;
};


static void put(struct hep_buf *b, const void *v, size_t n)
{
	if (b->over || n > b->cap - b->n) {
		b->over = true;
		return;
	}
	memcpy(b->p + b->n, v, n);
	b->n += n;
}


static void put16(struct hep_buf *b, uint16_t v)
{
	uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};

	put(b, x, 2);
}


static void chunk(struct hep_buf *b, uint16_t type, const void *v, size_t n)
{
	if (n > SW_HEP_MAX - 6) {
		b->over = true;
		return;
	}
	put16(b, 0);
	put16(b, type);
	put16(b, (uint16_t)(n + 6));
	put(b, v, n);
}


static void chunk8(struct hep_buf *b, uint16_t type, uint8_t v)
{
	chunk(b, type, &v, 1);
}


static void chunk16(struct hep_buf *b, uint16_t type, uint16_t v)
{
	uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};

	chunk(b, type, x, 2);
}


static void chunk32(struct hep_buf *b, uint16_t type, uint32_t v)
{
	uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16),
			(uint8_t)(v >> 8), (uint8_t)v};

	chunk(b, type, x, 4);
}


static void chunk_str(struct hep_buf *b, uint16_t type, const char *s)
{
	if (s && *s)
		chunk(b, type, s, strlen(s));
}


/**
 * Encode one message as a HEPv3 packet
 *
 * @return its length, or 0 when it does not fit cap or 65535 bytes, or
 *         the addresses are not of one family
 */
size_t sw_hep_encode(const struct sw_hep_msg *m, uint8_t *out, size_t cap)
{
	struct hep_buf b = {out, 0, cap < SW_HEP_MAX ? cap : SW_HEP_MAX, false};
	int af = sw_sa_af(m->src);

	if (af != sw_sa_af(m->dst) || (af != AF_INET && af != AF_INET6))
		return 0;
	put(&b, "HEP3", 4);
	put16(&b, 0); /* total length, below */
	chunk8(&b, 0x0001, af == AF_INET ? 2 : 10);
	chunk8(&b, 0x0002, m->ip_proto);
	if (af == AF_INET) {
		chunk(&b, 0x0003, &m->src->u.in.sin_addr, 4);
		chunk(&b, 0x0004, &m->dst->u.in.sin_addr, 4);
	}
	else {
		chunk(&b, 0x0005, &m->src->u.in6.sin6_addr, 16);
		chunk(&b, 0x0006, &m->dst->u.in6.sin6_addr, 16);
	}
	chunk16(&b, 0x0007, sw_sa_port(m->src));
	chunk16(&b, 0x0008, sw_sa_port(m->dst));
	chunk32(&b, 0x0009, (uint32_t)(m->t_us / 1000000));
	chunk32(&b, 0x000a, (uint32_t)(m->t_us % 1000000));
	chunk8(&b, 0x000b, m->proto_type);
	chunk32(&b, 0x000c, m->capture_id);
	chunk_str(&b, 0x000e, m->password);
	chunk_str(&b, 0x0011, m->correlation);
	chunk_str(&b, 0x0013, m->node);
	chunk(&b, 0x000f, m->payload, m->len);
	if (b.over)
		return 0;
	out[4] = (uint8_t)(b.n >> 8);
	out[5] = (uint8_t)b.n;
	return b.n;
}


/**
 * A sender toward collector (UDP). The socket is connected, so that an
 * ICMP unreachable from a collector that is down shows as a failed send
 * instead of nothing.
 *
 * @return 0 or an errno value
 */
int sw_hep_open(struct sw_hep **hp, const struct sw_sa *collector,
		uint32_t capture_id, const char *node, const char *password)
{
	struct sw_hep *h = calloc(1, sizeof(*h));
	int e;

	if (!h)
		return ENOMEM;
	h->fd = socket(sw_sa_af(collector), SOCK_DGRAM | SOCK_NONBLOCK |
		       SOCK_CLOEXEC, 0);
	if (h->fd < 0 ||
	    connect(h->fd, &collector->u.sa, sw_sa_len(collector))) {
		e = errno;
		if (h->fd >= 0)
			close(h->fd);
		free(h);
		return e;
	}
	h->collector = *collector;
	h->capture_id = capture_id;
	snprintf(h->node, sizeof(h->node), "%s", node ? node : "");
	snprintf(h->password, sizeof(h->password), "%s",
		 password ? password : "");
	*hp = h;
	return 0;
}


void sw_hep_close(struct sw_hep *h)
{
	if (!h)
		return;
	close(h->fd);
	free(h);
}


/**
 * Send one message (the sender's capture id, node and password fill
 * those of m). Never blocks.
 *
 * @return 0, or an errno value (the message is counted as failed)
 */
int sw_hep_send(struct sw_hep *h, const struct sw_hep_msg *m)
{
	static _Thread_local uint8_t buf[SW_HEP_MAX];
	struct sw_hep_msg x = *m;
	size_t n;

	x.capture_id = h->capture_id;
	x.node = h->node;
	x.password = h->password;
	n = sw_hep_encode(&x, buf, sizeof(buf));
	if (!n) {
		atomic_fetch_add_explicit(&h->failed, 1, memory_order_relaxed);
		return EMSGSIZE;
	}
	if (send(h->fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
		atomic_fetch_add_explicit(&h->failed, 1, memory_order_relaxed);
		return errno;
	}
	atomic_fetch_add_explicit(&h->sent, 1, memory_order_relaxed);
	return 0;
}
