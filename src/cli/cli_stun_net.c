/**
 * @file cli_stun_net.c  `shareway stun-decode`: where the STUN messages
 * are in a capture or in one dumped frame.
 *
 * pcap and pcapng files are read with libpcap (Ethernet, Linux cooked SLL
 * and SLL2, raw IPv4/IPv6, BSD null/loopback); IPv4 and IPv6 (extension
 * headers skipped), TCP and UDP. A UDP datagram is taken whole. TCP
 * payloads go to a per-flow buffer in sequence-number order and are
 * framed there, so a message split over segments decodes. Framing is
 * decided per frame: RFC 4571 when the magic cookie sits at offset 6,
 * TURN (STUN at offset 0, then also ChannelData) when it sits at 4; an
 * RFC 6062 data connection switches from the second to the first after
 * ConnectionBind. Bytes that start no frame are skipped up to the next
 * plausible STUN header, and said so.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <pcap/pcap.h>

#include "cli_stun.h"
#include "turn_msg.h"

#define FLOW_MAX 256
#define FLOW_BUF_MAX (4 * (size_t)TURN_FRAME_MAX)
#define IP6_EXT_MAX 8

enum smode {
	SM_UNKNOWN,
	SM_TURN,
	SM_4571,
};

enum fkind {
	F_NEED,     /* cannot tell yet */
	F_JUNK,     /* starts no frame */
	F_STUN4571, /* RFC 4571 frame holding STUN */
	F_STUN,     /* bare STUN (TURN-over-TCP framing) */
	F_4571,     /* RFC 4571 frame holding something else (RTP...) */
	F_CHAN,     /* TURN ChannelData */
};

/* Unframed bytes of one TCP stream (one direction) */
struct stream {
	uint8_t *buf;
	size_t len, cap;
	size_t base; /* stream offset of buf[0] */
	enum smode mode;
	struct sdec_where w;
};

/* A packet, parsed down to its TCP or UDP payload */
struct pkt {
	int af;
	uint8_t src[16], dst[16];
	int proto; /* IPPROTO_TCP, IPPROTO_UDP */
	uint16_t sport, dport;
	uint32_t seq;
	uint8_t tcpflags;
	const uint8_t *pl;
	size_t pllen;
	size_t pl_index; /* offset of the payload in the frame */
};

/* One direction of a TCP connection in a capture */
struct flow {
	int af;
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	bool seq_ok;
	uint32_t next_seq;
	struct stream st;
};

/* One capture being read */
struct net {
	struct sdec *sd;
	int dlt;
	long frame;
	struct flow *flows[FLOW_MAX];
	unsigned n_flows;
	bool flows_full;
};


static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}


static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}


static bool cookie_at(const uint8_t *p, size_t n, size_t off)
{
	return n >= off + 4 && be32(p + off) == TURN_MAGIC_COOKIE;
}

/* --- link, IP, transport ---------------------------------------------------- */

static void addr_str(int af, const uint8_t *ip, uint16_t port, char *buf,
		     size_t sz)
{
	char a[INET6_ADDRSTRLEN];

	if (!inet_ntop(af, ip, a, sizeof(a)))
		snprintf(a, sizeof(a), "?");
	snprintf(buf, sz, af == AF_INET6 ? "[%s]:%u" : "%s:%u", a, port);
}


static int parse_l4(struct sdec *sd, const uint8_t *p, size_t n,
		    size_t base, struct pkt *k)
{
	size_t hl;

	if (k->proto == IPPROTO_TCP) {
		if (n < 20 || (hl = (size_t)(p[12] >> 4) * 4) < 20 || hl > n)
			return EBADMSG;
		k->seq = be32(p + 4);
		k->tcpflags = p[13];
	}
	else if (k->proto == IPPROTO_UDP) {
		if (n < 8 || be16(p + 4) < 8)
			return EBADMSG;
		hl = 8;
		if (be16(p + 4) > n)
			sdec_note(sd, "UDP length %u but only %zu bytes present",
				  be16(p + 4), n);
		else
			n = be16(p + 4);
	}
	else {
		return ENOENT;
	}
	k->sport = be16(p);
	k->dport = be16(p + 2);
	k->pl = p + hl;
	k->pllen = n - hl;
	k->pl_index = base + hl;
	return 0;
}


static int parse_ip4(struct sdec *sd, const uint8_t *p, size_t n,
		     size_t base, struct pkt *k)
{
	size_t hl = (size_t)(p[0] & 0x0f) * 4, tot;

	if (n < 20 || hl < 20 || hl > n || be16(p + 2) < hl)
		return EBADMSG;
	tot = be16(p + 2);
	if (tot > n)
		sdec_note(sd, "IPv4 total length %zu but only %zu bytes "
			      "present (%zu missing)",
			  tot, n, tot - n);
	else
		n = tot; /* drop Ethernet padding */
	if (be16(p + 6) & 0x1fff)
		return ENOENT; /* not the first fragment */
	if (p[6] & 0x20)
		sdec_note(sd, "first fragment of an IPv4 datagram: the "
			      "rest is not reassembled");
	k->af = AF_INET;
	k->proto = p[9];
	memcpy(k->src, p + 12, 4);
	memcpy(k->dst, p + 16, 4);
	return parse_l4(sd, p + hl, n - hl, base + hl, k);
}


static int parse_ip6(struct sdec *sd, const uint8_t *p, size_t n,
		     size_t base, struct pkt *k)
{
	size_t off = 40, tot;
	int nh;

	if (n < 40)
		return EBADMSG;
	tot = 40 + (size_t)be16(p + 4);
	nh = p[6];
	if (tot > n)
		sdec_note(sd, "IPv6 payload length %zu but only %zu bytes "
			      "present",
			  tot - 40, n - 40);
	else
		n = tot;
	/* hop-by-hop, routing, fragment, destination options, AH */
	for (int i = 0; i < IP6_EXT_MAX && (nh == 0 || nh == 43 ||
					    nh == 44 || nh == 60 || nh == 51);
	     ++i) {
		size_t el;

		if (off + 8 > n)
			return EBADMSG;
		if (nh == 44 && (be16(p + off + 2) & 0xfff8))
			return ENOENT; /* not the first fragment */
		el = nh == 44 ? 8 :
		     nh == 51 ? ((size_t)p[off + 1] + 2) * 4 :
				((size_t)p[off + 1] + 1) * 8;
		nh = p[off];
		off += el;
	}
	if (off > n)
		return EBADMSG;
	k->af = AF_INET6;
	k->proto = nh;
	memcpy(k->src, p + 8, 16);
	memcpy(k->dst, p + 24, 16);
	return parse_l4(sd, p + off, n - off, base + off, k);
}


static int parse_ip(struct sdec *sd, const uint8_t *p, size_t n, size_t base,
		    struct pkt *k)
{
	if (n < 1)
		return EBADMSG;
	if (p[0] >> 4 == 4)
		return parse_ip4(sd, p, n, base, k);
	if (p[0] >> 4 == 6)
		return parse_ip6(sd, p, n, base, k);
	return ENOENT;
}


static int parse_ethertype(struct sdec *sd, uint16_t et, const uint8_t *p,
			   size_t n, size_t base, struct pkt *k)
{
	if (et == 0x0800 && n >= 1 && p[0] >> 4 == 4)
		return parse_ip4(sd, p, n, base, k);
	if (et == 0x86dd && n >= 1 && p[0] >> 4 == 6)
		return parse_ip6(sd, p, n, base, k);
	return ENOENT;
}


static int parse_eth(struct sdec *sd, const uint8_t *p, size_t n,
		     struct pkt *k)
{
	size_t off = 12;
	uint16_t et;

	if (n < 14)
		return ENOENT;
	et = be16(p + off);
	/* 802.1Q / 802.1ad tags */
	while ((et == 0x8100 || et == 0x88a8) && off + 6 <= n) {
		off += 4;
		et = be16(p + off);
	}
	off += 2;
	return parse_ethertype(sd, et, p + off, n - off, off, k);
}


/* BSD null/loopback: address family, host (DLT_NULL) or network order */
static int parse_null(struct sdec *sd, const uint8_t *p, size_t n,
		      struct pkt *k)
{
	uint32_t le, be;

	if (n < 4)
		return EBADMSG;
	be = be32(p);
	le = (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 |
	     (uint32_t)p[1] << 8 | p[0];
	if (be == 2 || le == 2)
		return parse_ethertype(sd, 0x0800, p + 4, n - 4, 4, k);
	if (be == 10 || be == 24 || be == 28 || be == 30 || le == 10 ||
	    le == 24 || le == 28 || le == 30)
		return parse_ethertype(sd, 0x86dd, p + 4, n - 4, 4, k);
	return ENOENT;
}


static int parse_link(struct sdec *sd, int dlt, const uint8_t *p, size_t n,
		      struct pkt *k)
{
	switch (dlt) {

	case DLT_EN10MB:
		return parse_eth(sd, p, n, k);
	case DLT_LINUX_SLL:
		return n < 16 ? EBADMSG :
				parse_ethertype(sd, be16(p + 14), p + 16,
						n - 16, 16, k);
	case DLT_LINUX_SLL2:
		return n < 20 ? EBADMSG :
				parse_ethertype(sd, be16(p), p + 20, n - 20,
						20, k);
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		return parse_ip(sd, p, n, 0, k);
	case DLT_NULL:
	case DLT_LOOP:
		return parse_null(sd, p, n, k);
	default:
		return ENOTSUP;
	}
}


static void where_set(struct sdec_where *w, long frame, const struct pkt *k,
		      size_t dump_base)
{
	memset(w, 0, sizeof(*w));
	w->frame = frame;
	w->transport = k->proto == IPPROTO_TCP ? "tcp" : "udp";
	addr_str(k->af, k->src, k->sport, w->src, sizeof(w->src));
	addr_str(k->af, k->dst, k->dport, w->dst, sizeof(w->dst));
	w->dump_base = dump_base;
	w->rfc4571_len = -1;
	if (frame >= 0)
		snprintf(w->label, sizeof(w->label), "frame %ld: %s %s -> %s",
			 frame, k->proto == IPPROTO_TCP ? "TCP" : "UDP",
			 w->src, w->dst);
	else
		snprintf(w->label, sizeof(w->label), "dumped frame: %s %s -> %s",
			 k->proto == IPPROTO_TCP ? "TCP" : "UDP", w->src,
			 w->dst);
}

/* --- UDP datagrams ---------------------------------------------------------------- */

/* An RFC 3489 / MS-TURN message without the cookie: accepted on a
 * datagram only, when it decodes whole and its method is known */
static bool legacy_stun(const uint8_t *p, size_t n)
{
	struct turn_msg m;

	return n >= TURN_HDR_LEN && (p[0] & 0xc0) == 0 &&
	       TURN_HDR_LEN + (size_t)be16(p + 2) == n &&
	       turn_msg_decode(&m, p, n, NULL) == 0 &&
	       turn_method_name(m.method);
}


static void datagram(struct sdec *sd, struct sdec_where *w, const uint8_t *p,
		     size_t n)
{
	w->framing = "udp";
	w->msg_off = 0;
	if (n >= 8 && (p[0] & 0xc0) == 0 && cookie_at(p, n, 4)) {
		if (TURN_HDR_LEN + (size_t)be16(p + 2) < n)
			sdec_note(sd, "datagram of %zu bytes holds a %zu-byte "
				      "STUN message and %zu more bytes",
				  n, TURN_HDR_LEN + (size_t)be16(p + 2),
				  n - TURN_HDR_LEN - be16(p + 2));
		sdec_show(sd, w, p, n);
	}
	else if (legacy_stun(p, n)) {
		sdec_show(sd, w, p, n);
	}
	else {
		++sd->n_other; /* ChannelData, RTP, DTLS... */
	}
}

/* --- TCP streams -------------------------------------------------------------- */

static enum fkind classify(const uint8_t *p, size_t n, enum smode mode,
			   size_t *flen)
{
	*flen = 0;
	if (n >= 10 && (p[2] & 0xc0) == 0 && cookie_at(p, n, 6)) {
		(void)rfc4571_frame_len(p, n, flen);
		return F_STUN4571;
	}
	if (n >= 8 && (p[0] & 0xc0) == 0 && cookie_at(p, n, 4) &&
	    be16(p + 2) % 4 == 0) {
		(void)turn_frame_len(p, n, flen);
		return F_STUN;
	}
	if (mode == SM_4571 && n >= 2) {
		(void)rfc4571_frame_len(p, n, flen);
		/* a frame long enough to be STUN needs its cookie seen */
		return *flen >= 12 && n < 10 ? F_NEED : F_4571;
	}
	if (mode == SM_TURN && n >= 4 && (p[0] & 0xc0) == 0x40) {
		(void)turn_frame_len(p, n, flen);
		return F_CHAN;
	}
	return n < 10 ? F_NEED : F_JUNK;
}


/* Bytes to skip before the next plausible STUN header */
static size_t resync(const uint8_t *p, size_t n, bool eof)
{
	for (size_t i = 1; i + 8 <= n; ++i) {
		if ((p[i + 2] & 0xc0) == 0 && cookie_at(p + i, n - i, 6))
			return i;
		if ((p[i] & 0xc0) == 0 && cookie_at(p + i, n - i, 4) &&
		    be16(p + i + 2) % 4 == 0)
			return i;
	}
	return eof || n < 10 ? n : n - 9;
}


static void stream_frame(struct sdec *sd, struct stream *st, enum fkind kind,
			 const uint8_t *p, size_t have, size_t flen,
			 size_t soff)
{
	struct sdec_where w = st->w;

	if (have < flen)
		sdec_note(sd, "%s frame at stream offset %zu announces %zu "
			      "bytes, only %zu present (%zu missing)",
			  kind == F_STUN ? "STUN" :
			  kind == F_CHAN ? "ChannelData" :
					   "RFC 4571",
			  soff, flen, have, flen - have);
	if (kind == F_STUN4571) {
		if (st->mode == SM_TURN)
			sdec_note(sd, "framing turns to RFC 4571 at stream "
				      "offset %zu (an RFC 6062 data "
				      "connection after ConnectionBind)",
				  soff);
		st->mode = SM_4571;
		w.framing = "rfc4571";
		w.msg_off = soff + 2;
		w.rfc4571_len = (long)flen - 2;
		sdec_show(sd, &w, p + 2, have - 2);
	}
	else if (kind == F_STUN) {
		if (st->mode == SM_UNKNOWN)
			st->mode = SM_TURN;
		w.framing = "turn-tcp";
		w.msg_off = soff;
		sdec_show(sd, &w, p, have);
	}
	else {
		++sd->n_other;
	}
}


/* Frame and show what the buffer holds; at eof also the incomplete rest */
static void stream_drain(struct sdec *sd, struct stream *st, bool eof)
{
	size_t pos = 0, flen, skip;

	while (pos < st->len) {
		const uint8_t *p = st->buf + pos;
		size_t n = st->len - pos;
		enum fkind kind = classify(p, n, st->mode, &flen);

		if (kind == F_NEED && !eof)
			break;
		if (kind == F_NEED || kind == F_JUNK) {
			skip = resync(p, n, eof);
			sdec_note(sd, "skipped %zu bytes at stream offset %zu "
				      "that start no STUN, RFC 4571 or TURN "
				      "frame",
				  skip, st->base + pos);
			pos += skip;
			continue;
		}
		if (n < flen && !eof)
			break;
		stream_frame(sd, st, kind, p, n < flen ? n : flen, flen,
			     st->base + pos);
		pos += n < flen ? n : flen;
	}
	if (pos < st->len)
		memmove(st->buf, st->buf + pos, st->len - pos);
	st->len -= pos;
	st->base += pos;
}


static int stream_feed(struct sdec *sd, struct stream *st, const uint8_t *p,
		       size_t n)
{
	if (st->len + n > st->cap) {
		size_t cap = st->len + n;
		uint8_t *b;

		if (cap > FLOW_BUF_MAX)
			return ENOBUFS;
		b = realloc(st->buf, cap);
		if (!b)
			return ENOMEM;
		st->buf = b;
		st->cap = cap;
	}
	memcpy(st->buf + st->len, p, n);
	st->len += n;
	stream_drain(sd, st, false);
	return 0;
}

/* --- one dumped frame --------------------------------------------------------------- */

/**
 * Find and show the STUN messages of one frame given as bytes (a hex dump
 * or hex): an Ethernet frame, an IP packet, or a bare payload (a TCP
 * stream chunk with RFC 4571 or TURN framing, or a datagram)
 */
void sdec_packet(struct sdec *sd, const uint8_t *p, size_t n)
{
	unsigned keep = sd->n_notes;
	struct stream st;
	struct pkt k;
	size_t flen;

	memset(&k, 0, sizeof(k));
	memset(&st, 0, sizeof(st));
	if (parse_eth(sd, p, n, &k) == 0 || parse_ip(sd, p, n, 0, &k) == 0) {
		where_set(&st.w, -1, &k, k.pl_index);
		if (sd->dump_off && k.pl_index < sd->dump_len)
			snprintf(st.w.label + strlen(st.w.label),
				 sizeof(st.w.label) - strlen(st.w.label),
				 " (payload at dump offset 0x%04zx)",
				 sd->dump_off[k.pl_index]);
		if (k.proto == IPPROTO_UDP) {
			datagram(sd, &st.w, k.pl, k.pllen);
			return;
		}
		p = k.pl;
		n = k.pllen;
	}
	else {
		/* no headers: the bytes are the payload */
		sd->n_notes = keep; /* drop notes of failed header guesses */
		st.w.frame = -1;
		st.w.dump_base = 0;
		st.w.rfc4571_len = -1;
		snprintf(st.w.label, sizeof(st.w.label), "input");
		if (classify(p, n, SM_UNKNOWN, &flen) < F_STUN4571 &&
		    legacy_stun(p, n)) {
			datagram(sd, &st.w, p, n);
			return;
		}
	}
	/* drained in place to the end (eof), so never written */
	st.buf = (uint8_t *)p;
	st.len = st.cap = n;
	stream_drain(sd, &st, true);
}

/* --- captures ------------------------------------------------------------------ */

static struct flow *flow_get(struct net *nt, const struct pkt *k)
{
	size_t al = k->af == AF_INET ? 4 : 16;
	struct flow *f;

	for (unsigned i = 0; i < nt->n_flows; ++i) {
		f = nt->flows[i];
		if (f->af == k->af && f->sport == k->sport &&
		    f->dport == k->dport && !memcmp(f->src, k->src, al) &&
		    !memcmp(f->dst, k->dst, al))
			return f;
	}
	if (nt->n_flows >= FLOW_MAX) {
		if (!nt->flows_full)
			fprintf(stderr, "stun-decode: more than %u TCP flows: "
					"later ones are skipped\n",
				FLOW_MAX);
		nt->flows_full = true;
		return NULL;
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->af = k->af;
	memcpy(f->src, k->src, al);
	memcpy(f->dst, k->dst, al);
	f->sport = k->sport;
	f->dport = k->dport;
	nt->flows[nt->n_flows++] = f;
	return f;
}


/* Keep the stream in sequence order: drop what was seen, and start over
 * after a hole (what it cut is shown as damaged) */
static void flow_tcp(struct net *nt, const struct pkt *k)
{
	struct flow *f = flow_get(nt, k);
	const uint8_t *p = k->pl;
	size_t n = k->pllen;
	int32_t d;

	if (!f)
		return;
	if (k->tcpflags & 0x02) { /* SYN */
		f->seq_ok = true;
		f->next_seq = k->seq + 1;
		return;
	}
	if (!f->seq_ok) {
		f->seq_ok = true;
		f->next_seq = k->seq;
	}
	d = (int32_t)(k->seq - f->next_seq);
	if (d < 0) {
		if ((size_t)-(int64_t)d >= n)
			return; /* retransmission */
		p += -(int64_t)d;
		n -= (size_t)-(int64_t)d;
	}
	else if (d > 0) {
		sdec_note(nt->sd, "%d bytes of this TCP stream are missing "
				  "from the capture before frame %ld",
			  d, nt->frame);
		stream_drain(nt->sd, &f->st, true);
		f->st.len = 0;
		f->st.base += (size_t)d;
		f->st.mode = SM_UNKNOWN;
	}
	/* a FIN takes one sequence number after the data */
	f->next_seq += (uint32_t)n + (k->tcpflags & 0x01 ? 1 : 0);
	where_set(&f->st.w, nt->frame, k, SDEC_NO_DUMP);
	if (n && stream_feed(nt->sd, &f->st, p, n))
		sdec_note(nt->sd, "TCP stream buffer full at frame %ld: "
				  "bytes dropped",
			  nt->frame);
}


static void net_packet(struct net *nt, const struct pcap_pkthdr *h,
		       const uint8_t *p)
{
	struct sdec_where w;
	struct pkt k;

	memset(&k, 0, sizeof(k));
	if (h->caplen < h->len)
		sdec_note(nt->sd, "frame %ld was captured with %u of its %u "
				  "bytes",
			  nt->frame, h->caplen, h->len);
	if (parse_link(nt->sd, nt->dlt, p, h->caplen, &k) == 0) {
		if (k.proto == IPPROTO_UDP) {
			where_set(&w, nt->frame, &k, SDEC_NO_DUMP);
			datagram(nt->sd, &w, k.pl, k.pllen);
		}
		else {
			flow_tcp(nt, &k);
		}
	}
	sdec_notes_flush(nt->sd);
}


static void net_close(struct net *nt)
{
	for (unsigned i = 0; i < nt->n_flows; ++i) {
		struct flow *f = nt->flows[i];

		stream_drain(nt->sd, &f->st, true);
		sdec_notes_flush(nt->sd);
		free(f->st.buf);
		free(f);
	}
	nt->n_flows = 0;
}


/** Does this look like a pcap or pcapng file? */
bool sdec_is_pcap(const uint8_t *d, size_t len)
{
	uint32_t m;

	if (len < 4)
		return false;
	m = be32(d);
	return m == 0xa1b2c3d4 || m == 0xd4c3b2a1 || m == 0xa1b23c4d ||
	       m == 0x4d3cb2a1 || m == 0x0a0d0d0a;
}


/**
 * Show every STUN message of a pcap/pcapng capture held in memory
 *
 * @return 0, or EBADMSG if libpcap cannot read it (said on stderr)
 */
int sdec_pcap(struct sdec *sd, const uint8_t *data, size_t len)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	struct pcap_pkthdr *h;
	struct net nt;
	const u_char *p;
	pcap_t *pc;
	FILE *f;
	int r;

	f = fmemopen((void *)data, len, "rb");
	if (!f)
		return errno;
	pc = pcap_fopen_offline(f, errbuf); /* owns f from here */
	if (!pc) {
		fclose(f);
		fprintf(stderr, "stun-decode: not a readable capture: %s\n",
			errbuf);
		return EBADMSG;
	}
	memset(&nt, 0, sizeof(nt));
	nt.sd = sd;
	nt.dlt = pcap_datalink(pc);
	while ((r = pcap_next_ex(pc, &h, &p)) == 1) {
		++nt.frame;
		net_packet(&nt, h, p);
	}
	if (r == PCAP_ERROR) {
		fprintf(stderr, "stun-decode: capture damaged after frame "
				"%ld: %s\n",
			nt.frame, pcap_geterr(pc));
		++sd->n_damaged;
	}
	net_close(&nt);
	pcap_close(pc);
	return 0;
}
