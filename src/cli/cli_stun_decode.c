/**
 * @file cli_stun_decode.c  `shareway stun-decode [options] [FILE|-]`
 *
 * Shows the STUN/TURN messages in a pcap or pcapng capture, in a hex dump
 * with an offset column (Wireshark's "Offset Hex ASCII", hexdump -C), or
 * in plain hex. A dumped frame is parsed down to its TCP/UDP payload; the
 * payload may be RFC 4571-framed, TURN-over-TCP or a datagram. Damaged
 * input is decoded as far as it makes sense and the point where it stops
 * is given by message, payload and dump offset; the dump's own offset
 * column locates lines that lost bytes in transcription.
 *
 * Exit: 0 every message found decodes, 1 something is damaged or nothing
 * was found or the input is unreadable, 2 usage.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_stun.h"
#include "turn_msg.h"

#define INPUT_MAX ((size_t)256 << 20)
#define DUMP_WIDTH 16 /* bytes per dump line, at most */

/* Bytes read from text; off[] is each byte's dump offset (dumps only) */
struct hexin {
	uint8_t *b;
	size_t *off;
	size_t n, cap;
};

struct opts {
	const char *path, *user, *realm, *password;
	bool json;
};


static void usage(FILE *f)
{
	fprintf(f,
		"usage: shareway stun-decode [--password P [--user U --realm R]]\n"
		"                            [--json] [FILE|-]\n"
		"\n"
		"Find and decode the STUN/TURN messages in FILE (or stdin):\n"
		"  - a pcap or pcapng capture (Ethernet, Linux cooked, raw IP,\n"
		"    loopback; IPv4/IPv6; UDP datagrams, TCP streams with RFC\n"
		"    4571 or TURN framing, messages split over segments),\n"
		"  - a hex dump with an offset column (Wireshark, hexdump -C);\n"
		"    a whole frame is parsed down to its TCP/UDP payload,\n"
		"  - plain hex (spaces and colons optional).\n"
		"Each message is shown with every attribute decoded. Damaged\n"
		"input is shown as far as it decodes, then where it stops\n"
		"making sense (message, payload and dump offset).\n"
		"\n"
		"  --password P  check MESSAGE-INTEGRITY with P (ICE short-term)\n"
		"  --user U --realm R --password P\n"
		"                long-term key MD5(U:R:P) (TURN)\n"
		"  --json        one JSON object per message, one per line\n"
		"  --help        this text\n"
		"\n"
		"Exit: 0 all messages decode, 1 damaged input (or a bad\n"
		"FINGERPRINT) or no message found, 2 usage.\n");
}


static int parse_opts(struct opts *o, int argc, char **argv)
{
	for (int i = 1; i < argc; ++i) {
		const char *a = argv[i];
		const char **val = !strcmp(a, "--password") ? &o->password :
				   !strcmp(a, "--user")	    ? &o->user :
				   !strcmp(a, "--realm")    ? &o->realm :
							      NULL;

		if (val) {
			if (i + 1 >= argc)
				return EINVAL;
			*val = argv[++i];
		}
		else if (!strcmp(a, "--json")) {
			o->json = true;
		}
		else if (a[0] == '-' && a[1] != '\0') {
			return EINVAL;
		}
		else if (o->path) {
			return EINVAL;
		}
		else {
			o->path = a;
		}
	}
	if ((o->user || o->realm) &&
	    (!o->user || !o->realm || !o->password))
		return EINVAL;
	return 0;
}


/* The whole input, NUL-terminated so text can be scanned as a string */
static int read_all(const char *path, uint8_t **bufp, size_t *lenp)
{
	FILE *f = stdin;
	uint8_t *buf = NULL, *nb;
	size_t len = 0, cap = 0, n;
	int err = 0;

	if (path && strcmp(path, "-")) {
		f = fopen(path, "rb");
		if (!f)
			return errno;
	}
	do {
		if (cap - len < 65536 + 1) {
			cap = cap ? cap * 2 : 65536 * 2;
			nb = cap <= INPUT_MAX ? realloc(buf, cap) : NULL;
			if (!nb) {
				err = cap > INPUT_MAX ? EFBIG : ENOMEM;
				goto out;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
	} while (n > 0);
	if (ferror(f))
		err = EIO;
out:
	if (f != stdin)
		fclose(f);
	if (err) {
		free(buf);
		return err;
	}
	buf[len] = '\0';
	*bufp = buf;
	*lenp = len;
	return 0;
}

/* --- text input ------------------------------------------------------------- */

static int hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' :
	       c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 :
				      -1;
}


static int hexin_push(struct hexin *h, uint8_t b, size_t off, bool dump)
{
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 4096;
		uint8_t *nb = realloc(h->b, cap);
		size_t *no;

		if (!nb)
			return ENOMEM;
		h->b = nb;
		if (dump) {
			no = realloc(h->off, cap * sizeof(*no));
			if (!no)
				return ENOMEM;
			h->off = no;
		}
		h->cap = cap;
	}
	if (dump)
		h->off[h->n] = off;
	h->b[h->n++] = b;
	return 0;
}


static const char *next_line(const char *l)
{
	l = strchr(l, '\n');
	return l ? l + 1 : NULL;
}


/* "0030<TAB>00 e5 ...": a 4..8-digit offset, a tab or spaces (or ':'),
 * then a 2-digit hex byte */
static bool dump_line(const char *s, size_t *offp, const char **hexp)
{
	size_t nd = 0, off = 0;

	while (*s == ' ')
		++s;
	while (nd < 9 && hexval(s[nd]) >= 0)
		off = off * 16 + (size_t)hexval(s[nd++]);
	if (nd < 4 || nd > 8)
		return false;
	s += nd;
	if (*s == ':')
		++s;
	if (*s != ' ' && *s != '\t')
		return false;
	while (*s == ' ' || *s == '\t')
		++s;
	if (hexval(s[0]) < 0 || hexval(s[1]) < 0 || hexval(s[2]) >= 0)
		return false;
	*offp = off;
	*hexp = s;
	return true;
}


static bool text_is_dump(const char *t)
{
	unsigned lines = 0;
	bool zero = false;

	for (const char *l = t; l && *l; l = next_line(l)) {
		size_t off;
		const char *hex;

		if (dump_line(l, &off, &hex)) {
			zero |= lines == 0 && off == 0;
			++lines;
		}
	}
	return lines >= 2 || zero;
}


/* The bytes of one dump line: 2-digit tokens until a tab, a gap of three
 * spaces, DUMP_WIDTH bytes or anything else (the ASCII column, which may
 * be glued to the last byte, as in the seed's "a4 42l...X!..B") */
static int dump_line_bytes(struct hexin *h, const char *p, size_t off,
			   size_t *count)
{
	size_t k = 0;
	int err;

	while (k < DUMP_WIDTH) {
		size_t sp = 0;

		while (p[sp] == ' ')
			++sp;
		if (p[sp] == '\t' || (k && sp >= 3))
			break;
		p += sp;
		if (hexval(p[0]) < 0 || hexval(p[1]) < 0 || hexval(p[2]) >= 0)
			break;
		err = hexin_push(h, (uint8_t)(hexval(p[0]) << 4 | hexval(p[1])),
				 off + k, true);
		if (err)
			return err;
		++k;
		if (p[2] != ' ' && p[2] != '\t' && p[2] != '\n' &&
		    p[2] != '\r' && p[2] != '\0')
			break; /* ASCII column glued to this byte */
		p += 2;
	}
	*count = k;
	return 0;
}


static int parse_dump(struct sdec *sd, const char *t, struct hexin *h)
{
	size_t prev_off = 0, prev_n = 0, off, n;
	bool have_prev = false;
	const char *hex;
	int err;

	for (const char *l = t; l && *l; l = next_line(l)) {
		if (!dump_line(l, &off, &hex))
			continue;
		if (have_prev && off != prev_off + prev_n)
			sdec_note(sd, "dump line 0x%04zx holds %zu bytes where "
				      "the next line's offset 0x%04zx implies "
				      "%zd: %s",
				  prev_off, prev_n, off,
				  (ssize_t)(off - prev_off),
				  off > prev_off + prev_n ?
					  "bytes were lost in transcription" :
					  "bytes were added or lines reordered");
		err = dump_line_bytes(h, hex, off, &n);
		if (err)
			return err;
		prev_off = off;
		prev_n = n;
		have_prev = true;
	}
	return 0;
}


static int parse_plain(const char *t, struct hexin *h)
{
	int hi = -1, v;

	for (const char *p = t; *p; ++p) {
		if (isspace((unsigned char)*p) || *p == ':')
			continue;
		v = hexval(*p);
		if (v < 0) {
			fprintf(stderr, "stun-decode: neither a capture, a hex "
					"dump nor hex: '%c' at byte %zu\n",
				isprint((unsigned char)*p) ? *p : '?',
				(size_t)(p - t));
			return EBADMSG;
		}
		if (hi < 0) {
			hi = v;
		}
		else {
			if (hexin_push(h, (uint8_t)(hi << 4 | v), 0, false))
				return ENOMEM;
			hi = -1;
		}
	}
	if (hi >= 0) {
		fprintf(stderr, "stun-decode: odd number of hex digits\n");
		return EBADMSG;
	}
	return 0;
}


static int decode_text(struct sdec *sd, const char *text, size_t len)
{
	struct hexin h = {NULL, NULL, 0, 0};
	int err;

	if (memchr(text, '\0', len)) {
		fprintf(stderr, "stun-decode: binary input that is not a "
				"pcap/pcapng capture\n");
		return EBADMSG;
	}
	if (text_is_dump(text)) {
		err = parse_dump(sd, text, &h);
		sd->dump_off = h.off;
		sd->dump_len = h.n;
	}
	else {
		err = parse_plain(text, &h);
	}
	if (!err && h.n == 0) {
		fprintf(stderr, "stun-decode: no bytes in the input\n");
		err = ENODATA;
	}
	if (!err)
		sdec_packet(sd, h.b, h.n);
	sdec_notes_flush(sd);
	sd->dump_off = NULL;
	free(h.b);
	free(h.off);
	return err;
}


static void set_key(struct sdec *sd, const struct opts *o)
{
	if (o->user) {
		turn_key_longterm(sd->ltkey, o->user, o->realm, o->password);
		sd->key = sd->ltkey;
		sd->keylen = sizeof(sd->ltkey);
		sd->longterm = true;
	}
	else if (o->password) {
		sd->key = (const uint8_t *)o->password;
		sd->keylen = strlen(o->password);
	}
}


static int run(const struct cli_env *env, int argc, char **argv)
{
	struct opts o = {NULL, NULL, NULL, NULL, false};
	static struct sdec sd;
	uint8_t *in = NULL;
	size_t len = 0;
	int err;

	for (int i = 1; i < argc; ++i) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		}
	}
	if (parse_opts(&o, argc, argv)) {
		usage(stderr);
		return 2;
	}
	memset(&sd, 0, sizeof(sd));
	sd.out = stdout;
	sd.json = o.json;
	set_key(&sd, &o);

	err = read_all(o.path, &in, &len);
	if (err) {
		fprintf(stderr, "stun-decode: %s: %s\n", o.path ? o.path : "-",
			strerror(err));
		return 1;
	}
	if (sdec_is_pcap(in, len))
		err = sdec_pcap(&sd, in, len);
	else
		err = decode_text(&sd, (const char *)in, len);
	free(in);

	fprintf(sd.json ? stderr : stdout,
		"%u STUN message(s), %u damaged, %u other frame(s)\n",
		sd.n_msgs, sd.n_damaged, sd.n_other);
	if (!err && sd.n_msgs == 0)
		fprintf(stderr, "stun-decode: no STUN message found\n");
	return err || sd.n_msgs == 0 || sd.n_damaged ? 1 : 0;
}

const struct cli_cmd cli_cmd_stun_decode = {
	"stun-decode", "decode STUN/TURN messages (pcap, hex dump, hex)", run};
