/**
 * @file cli_export.c  `shareway export <tag> --pcap FILE`: the call's SIP
 * messages and STUN/TURN control messages as a pcap file that Wireshark,
 * tshark and sngrep open.
 *
 * Each recorded message becomes packets with its real addresses and
 * ports: link type RAW (101), synthesized IPv4 or IPv6 headers, UDP or
 * TCP with correct checksums. A TCP connection gets a three-way handshake
 * before its first segment (the first sender is taken as the client),
 * sequence and acknowledgement numbers that follow the bytes, and
 * segments of at most 1448 bytes, so stream reassembly works. SIP that
 * went over TLS is written as the cleartext the gateway saw, on TCP with
 * the real ports: decode it with tshark -d tcp.port==5061,sip.
 *
 * STUN/TURN messages are recorded as they crossed the relay's sockets
 * (see turn/relay_pump.c and relay_ctrl.c): TURN control messages bare,
 * as RFC 5766/6062 send them over TCP, ICE checks with their RFC 4571
 * length, on the connection where Wireshark's STUN dissector recognises
 * them with no option. Only those messages are recorded, not the bytes
 * between them (media after the checks, spliced), so a connection's
 * segments are its recorded messages, one each, with sequence numbers
 * that count only those bytes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"
#include "sw_calllog.h"

#define LINKTYPE_RAW 101
#define MSS 1448
#define MAX_FLOWS 64

static const char usage_text[] =
	"usage: shareway export [--json] TAG|CALL-ID --pcap FILE\n"
	"Write the call's SIP messages, TURN messages and ICE checks as a pcap\n"
	"(raw IPv4/IPv6 + UDP/TCP with their real addresses, ports and times)\n"
	"for Wireshark or tshark: tshark -r FILE -Y stun shows every STUN/TURN\n"
	"step of `shareway ladder`. FILE - writes to standard output. SIP\n"
	"carried over TLS appears as cleartext on TCP: decode it with\n"
	"tshark -d tcp.port==5061,sip.\n"
	"  --json   what was written as JSON {\"file\", \"call\", \"messages\",\n"
	"           \"packets\"} (on standard error when FILE is -)\n";

/* one direction of a TCP connection */
struct flow {
	struct sw_sa src, dst;
	uint32_t next_seq;
};

struct pcap_out {
	FILE *f;
	struct flow flows[MAX_FLOWS];
	unsigned n_flows;
	uint16_t ip_id;
	unsigned written;
};


static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}


static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}


static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}


static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}


static bool is_v6(const struct sw_sa *a)
{
	return sw_sa_af(a) == AF_INET6;
}


static size_t addr_bytes(const struct sw_sa *a, const uint8_t **p)
{
	if (is_v6(a)) {
		*p = a->u.in6.sin6_addr.s6_addr;
		return 16;
	}
	*p = (const uint8_t *)&a->u.in.sin_addr;
	return 4;
}


/* Transport checksum over the pseudo header and the segment */
static uint16_t l4_sum(const struct sw_sa *src, const struct sw_sa *dst,
		       uint8_t proto, const uint8_t *seg, size_t len)
{
	const uint8_t *s, *d;
	size_t al = addr_bytes(src, &s);
	uint8_t tail[8] = {0};
	uint32_t sum;

	addr_bytes(dst, &d);
	sum = sum16(s, al, 0);
	sum = sum16(d, al, sum);
	put32(tail, (uint32_t)len);
	tail[7] = proto;
	sum = sum16(tail, 8, sum);
	return fold(sum16(seg, len, sum));
}


/* IP header for l4len bytes of protocol proto; returns its length */
static size_t ip_header(struct pcap_out *o, uint8_t *h, const struct sw_sa *src,
			const struct sw_sa *dst, uint8_t proto, size_t l4len)
{
	const uint8_t *s, *d;
	size_t al = addr_bytes(src, &s);

	addr_bytes(dst, &d);
	if (al == 16) {
		memset(h, 0, 40);
		h[0] = 0x60;
		put16(h + 4, (uint16_t)l4len);
		h[6] = proto;
		h[7] = 64;
		memcpy(h + 8, s, 16);
		memcpy(h + 24, d, 16);
		return 40;
	}
	memset(h, 0, 20);
	h[0] = 0x45;
	put16(h + 2, (uint16_t)(20 + l4len));
	put16(h + 4, o->ip_id++);
	put16(h + 6, 0x4000); /* DF */
	h[8] = 64;
	h[9] = proto;
	memcpy(h + 12, s, 4);
	memcpy(h + 16, d, 4);
	put16(h + 10, fold(sum16(h, 20, 0)));
	return 20;
}


static void write_record(struct pcap_out *o, int64_t t_us, const uint8_t *p,
			 size_t len)
{
	uint32_t hdr[4] = {(uint32_t)(t_us / 1000000),
			   (uint32_t)(t_us % 1000000), (uint32_t)len,
			   (uint32_t)len};

	fwrite(hdr, sizeof(hdr), 1, o->f);
	fwrite(p, 1, len, o->f);
	o->written++;
}


static void emit_udp(struct pcap_out *o, int64_t t, const struct sw_sa *src,
		     const struct sw_sa *dst, const uint8_t *data, size_t len)
{
	static uint8_t pkt[65536 + 48];
	size_t ulen = 8 + len, hl;
	uint8_t *u;
	uint16_t ck;

	if (ulen > 65507)
		ulen = 65507, len = ulen - 8; /* cannot be larger on UDP */
	hl = ip_header(o, pkt, src, dst, 17, ulen);
	u = pkt + hl;
	put16(u, sw_sa_port(src));
	put16(u + 2, sw_sa_port(dst));
	put16(u + 4, (uint16_t)ulen);
	put16(u + 6, 0);
	memcpy(u + 8, data, len);
	ck = l4_sum(src, dst, 17, u, ulen);
	put16(u + 6, ck ? ck : 0xffff);
	write_record(o, t, pkt, hl + ulen);
}


static void emit_tcp(struct pcap_out *o, int64_t t, const struct sw_sa *src,
		     const struct sw_sa *dst, uint8_t flags, uint32_t seq,
		     uint32_t ack, const uint8_t *data, size_t len)
{
	static uint8_t pkt[MSS + 80];
	size_t hl = ip_header(o, pkt, src, dst, 6, 20 + len);
	uint8_t *tcp = pkt + hl;

	memset(tcp, 0, 20);
	put16(tcp, sw_sa_port(src));
	put16(tcp + 2, sw_sa_port(dst));
	put32(tcp + 4, seq);
	put32(tcp + 8, ack);
	tcp[12] = 5 << 4;
	tcp[13] = flags;
	put16(tcp + 14, 65535);
	if (len)
		memcpy(tcp + 20, data, len);
	put16(tcp + 16, l4_sum(src, dst, 6, tcp, 20 + len));
	write_record(o, t, pkt, hl + 20 + len);
}


static struct flow *flow_find(struct pcap_out *o, const struct sw_sa *src,
			      const struct sw_sa *dst)
{
	for (unsigned i = 0; i < o->n_flows; ++i)
		if (sw_sa_cmp(&o->flows[i].src, src, true) &&
		    sw_sa_cmp(&o->flows[i].dst, dst, true))
			return &o->flows[i];
	return NULL;
}


/* An initial sequence number that depends on the endpoints only */
static uint32_t isn(const struct sw_sa *a, const struct sw_sa *b)
{
	const uint8_t *p;
	size_t n = addr_bytes(a, &p);
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; ++i)
		h = (h ^ p[i]) * 16777619u;
	n = addr_bytes(b, &p);
	for (size_t i = 0; i < n; ++i)
		h = (h ^ p[i]) * 16777619u;
	return h ^ (uint32_t)sw_sa_port(a) << 16 ^ sw_sa_port(b);
}


/* Both directions of a new connection, and its handshake */
static struct flow *flow_open(struct pcap_out *o, int64_t t,
			      const struct sw_sa *src, const struct sw_sa *dst)
{
	struct flow *c, *s;

	if (o->n_flows + 2 > MAX_FLOWS)
		return NULL;
	c = &o->flows[o->n_flows++];
	s = &o->flows[o->n_flows++];
	c->src = *src, c->dst = *dst, c->next_seq = isn(src, dst);
	s->src = *dst, s->dst = *src, s->next_seq = isn(dst, src);
	emit_tcp(o, t - 3, src, dst, 0x02, c->next_seq++, 0, NULL, 0);
	emit_tcp(o, t - 2, dst, src, 0x12, s->next_seq++, c->next_seq, NULL, 0);
	emit_tcp(o, t - 1, src, dst, 0x10, c->next_seq, s->next_seq, NULL, 0);
	return c;
}


static int emit_stream(struct pcap_out *o, const struct sw_rec_packet *p)
{
	struct flow *f = flow_find(o, &p->src, &p->dst), *r;
	size_t off = 0;

	if (!f)
		f = flow_open(o, p->t_us, &p->src, &p->dst);
	if (!f)
		return ENOSPC;
	r = flow_find(o, &p->dst, &p->src);
	while (off < p->len) {
		size_t n = p->len - off > MSS ? MSS : p->len - off;

		emit_tcp(o, p->t_us, &p->src, &p->dst, 0x18, f->next_seq,
			 r ? r->next_seq : 0, p->data + off, n);
		f->next_seq += (uint32_t)n;
		off += n;
	}
	return 0;
}


static int write_pcap(struct pcap_out *o, const struct sw_callrec *r)
{
	const uint32_t gh[6] = {0xa1b2c3d4, 2 | 4u << 16, 0, 0, 262144,
				LINKTYPE_RAW};
	int err = 0;

	fwrite(gh, sizeof(gh), 1, o->f);
	for (unsigned i = 0; i < r->n_packets && !err; ++i) {
		const struct sw_rec_packet *p = &r->packets[i];

		if (sw_sa_af(&p->src) != sw_sa_af(&p->dst))
			continue; /* a v4/v6 pair cannot be one packet */
		if (p->transport == SW_PKT_UDP)
			emit_udp(o, p->t_us, &p->src, &p->dst, p->data, p->len);
		else
			err = emit_stream(o, p);
	}
	if (fflush(o->f) || ferror(o->f))
		err = errno ? errno : EIO;
	return err;
}


/* What was written: a line, or with --json one object; on stderr when
 * the pcap itself goes to stdout */
static void summary(FILE *f, const struct sw_callrec *r, const char *path,
		    unsigned packets, bool json)
{
	struct sw_json j;

	if (!json) {
		fprintf(f, "%s: %u packets from %u recorded messages of %s\n",
			path, packets, r->n_packets, r->tag);
		return;
	}
	sw_json_init(&j, false);
	sw_json_obj_open(&j, NULL);
	sw_json_str(&j, "file", path);
	sw_json_str(&j, "call", r->tag);
	sw_json_int(&j, "messages", r->n_packets);
	sw_json_int(&j, "packets", packets);
	sw_json_obj_close(&j);
	if (!sw_json_finish(&j))
		fprintf(f, "%s\n", j.buf);
	sw_json_free(&j);
}


static int export(const struct sw_callrec *r, const char *path, bool json)
{
	struct pcap_out o = {0};
	bool to_stdout = !strcmp(path, "-");
	int err;

	if (!r->n_packets) {
		fprintf(stderr, "shareway: %s has no recorded SIP or STUN/TURN "
			"messages to export\n", r->tag);
		return CLI_FAIL;
	}
	o.f = to_stdout ? stdout : fopen(path, "wb");
	if (!o.f) {
		fprintf(stderr, "shareway: %s: %s\n", path, strerror(errno));
		return CLI_FAIL;
	}
	err = write_pcap(&o, r);
	if (!to_stdout && fclose(o.f) && !err)
		err = errno;
	if (err) {
		fprintf(stderr, "shareway: %s: %s\n", path,
			err == ENOSPC ? "too many TCP connections in one call" :
					strerror(err));
		return CLI_FAIL;
	}
	summary(to_stdout ? stderr : stdout, r, path, o.written, json);
	return CLI_OK;
}


static int run(const struct cli_env *env, int argc, char **argv)
{
	struct sw_callrec *rec = NULL;
	const char *key = NULL, *file = NULL;
	bool json = false;
	int rc;

	if (cli_is_help(argc, argv))
		return cli_usage(stdout, usage_text, CLI_OK);
	for (int i = 1; i < argc; ++i) {
		if (!strcmp(argv[i], "--pcap") && i + 1 < argc && !file)
			file = argv[++i];
		else if (!strcmp(argv[i], "--json"))
			json = true;
		else if (argv[i][0] == '-' || key)
			return cli_usage(stderr, usage_text, CLI_USAGE);
		else
			key = argv[i];
	}
	if (!key || !file)
		return cli_usage(stderr, usage_text, CLI_USAGE);
	rc = cli_load_call(env, key, &rec);
	if (!rc)
		rc = export(rec, file, json);
	sw_callrec_free(rec);
	return rc;
}

const struct cli_cmd cli_cmd_export = {
	"export", "write a call's SIP and STUN/TURN messages as pcap", run};
