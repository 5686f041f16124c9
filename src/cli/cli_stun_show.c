/**
 * @file cli_stun_show.c  `shareway stun-decode`: one STUN message shown
 * like a protocol analyser (text) or as one JSON object per line.
 *
 * Every attribute is named and its value decoded: XOR addresses un-XOR'd,
 * error codes with their phrase, MS-ICE2 NUL padding counted, PRIORITY
 * split into its RFC 8445 5.1.2 parts, roles with their tie-breaker.
 * MESSAGE-INTEGRITY is checked when a key was given, FINGERPRINT always.
 * A damaged message is shown up to the last attribute that decodes, then
 * where it stops making sense, by message, payload and dump offset.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "cli_stun.h"
#include "sw_addr.h"
#include "sw_json.h"
#include "turn_msg.h"

#define HEX_TEXT_MAX 64  /* value bytes shown as hex in text */
#define REST_MAX 64      /* undecoded bytes shown after damage */

/* Text of one attribute, and its JSON members when --json */
struct desc {
	char text[1200];
	size_t tlen;
	struct sw_json *j;
};

/* Integrity and fingerprint verdicts of one message: a JSON word and a
 * sentence for the text */
struct verdict {
	const char *mi, *mi256, *fp;
	char mi_text[128], mi256_text[64], fp_text[64];
};


/** Remember a note about the packet at hand; shown with its next message */
void sdec_note(struct sdec *sd, const char *fmt, ...)
{
	va_list ap;

	if (sd->n_notes >= SDEC_MAX_NOTES)
		return;
	va_start(ap, fmt);
	vsnprintf(sd->notes[sd->n_notes], SDEC_NOTE_LEN, fmt, ap);
	va_end(ap);
	++sd->n_notes;
}


/** Print notes no message took (stderr with --json: stdout is JSON) */
void sdec_notes_flush(struct sdec *sd)
{
	for (unsigned i = 0; i < sd->n_notes; ++i)
		fprintf(sd->json ? stderr : sd->out, "note: %s\n",
			sd->notes[i]);
	sd->n_notes = 0;
}


/**
 * " (dump offset 0x005a)" for a payload offset of a hex dump input, ""
 * otherwise; the dump's own offset column is used, so a line that lost
 * bytes does not shift the lines after it
 */
void sdec_dump_pos(const struct sdec *sd, const struct sdec_where *w,
		   size_t off, char *buf, size_t sz)
{
	size_t i;

	buf[0] = '\0';
	if (!sd->dump_off || w->dump_base == SDEC_NO_DUMP || !sd->dump_len)
		return;
	i = w->dump_base + off;
	if (i < sd->dump_len)
		snprintf(buf, sz, " (dump offset 0x%04zx)", sd->dump_off[i]);
	else
		snprintf(buf, sz, " (dump offset 0x%04zx, past the dump's end)",
			 sd->dump_off[sd->dump_len - 1] + 1 +
				 (i - sd->dump_len));
}

/* --- building one attribute's description -------------------------------- */

static void tx(struct desc *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void tx(struct desc *d, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (d->tlen >= sizeof(d->text) - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(d->text + d->tlen, sizeof(d->text) - d->tlen, fmt, ap);
	va_end(ap);
	if (n > 0)
		d->tlen += (size_t)n < sizeof(d->text) - d->tlen ?
				   (size_t)n :
				   sizeof(d->text) - d->tlen - 1;
}


static void jint(struct desc *d, const char *key, int64_t v)
{
	if (d->j)
		sw_json_int(d->j, key, v);
}


static void jstr(struct desc *d, const char *key, const char *s)
{
	if (d->j)
		sw_json_str(d->j, key, s);
}


static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}


static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}


static void hex_into(char *buf, size_t sz, const uint8_t *p, size_t n,
		     bool spaced)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n; ++i) {
		size_t w = spaced && i ? 3 : 2;

		if (o + w >= sz)
			break;
		o += (size_t)snprintf(buf + o, sz - o, spaced && i ? " %02x" :
								   "%02x",
				      p[i]);
	}
}


/* Raw value: hex in text (first HEX_TEXT_MAX bytes), all of it in JSON */
static void desc_hex(struct desc *d, const struct turn_attr *a)
{
	size_t n = a->len < HEX_TEXT_MAX ? a->len : HEX_TEXT_MAX;
	char *hex = malloc(2 * (size_t)a->len + 1);

	if (!hex)
		return;
	hex_into(hex, 2 * n + 1, a->val, n, false);
	tx(d, "%s%s", hex, n < a->len ? "..." : "");
	if (d->j) {
		hex_into(hex, 2 * (size_t)a->len + 1, a->val, a->len, false);
		sw_json_str(d->j, "hex", hex);
	}
	free(hex);
}


/* A string; trailing NULs (MS-ICE2 padding) counted, not shown */
static void desc_str(struct desc *d, const struct turn_attr *a)
{
	size_t n = a->len;
	unsigned nuls;

	while (n && a->val[n - 1] == '\0')
		--n;
	nuls = (unsigned)(a->len - n);
	tx(d, "\"");
	for (size_t i = 0; i < n; ++i) {
		uint8_t c = a->val[i];

		if (c >= 0x20 && c != 0x7f && c != '"' && c != '\\')
			tx(d, "%c", c);
		else
			tx(d, "\\x%02x", c);
	}
	tx(d, "\"");
	if (nuls)
		tx(d, " (+%u NUL padding)", nuls);
	if (d->j) {
		sw_json_strn(d->j, "value", (const char *)a->val, n);
		sw_json_int(d->j, "nul_padding", nuls);
	}
}


static void desc_addr(struct desc *d, const struct turn_msg *m,
		      const struct turn_attr *a, bool xor)
{
	char s[SW_SA_STRLEN];
	struct sw_sa sa;

	if (turn_attr_addr(m, a, xor, &sa)) {
		tx(d, "malformed address (family 0x%02x): ",
		   a->len >= 2 ? a->val[1] : 0);
		desc_hex(d, a);
		return;
	}
	sw_sa_str(&sa, s, sizeof(s));
	tx(d, "%s (%s%s)", s, sw_sa_af(&sa) == AF_INET ? "IPv4" : "IPv6",
	   xor ? ", XOR-decoded" : "");
	jstr(d, "family", sw_sa_af(&sa) == AF_INET ? "IPv4" : "IPv6");
	sw_sa_ntop(&sa, s, sizeof(s));
	jstr(d, "address", s);
	jint(d, "port", sw_sa_port(&sa));
}


static void desc_error(struct desc *d, const struct turn_attr *a)
{
	char reason[800];
	uint16_t code;
	const char *std;

	if (turn_attr_error(a, &code, reason, sizeof(reason))) {
		tx(d, "malformed: class %u number %u",
		   a->len >= 4 ? a->val[2] & 7 : 0, a->len >= 4 ? a->val[3] : 0);
		return;
	}
	std = turn_error_phrase(code);
	tx(d, "%u %s", code, std ? std : "(unassigned code)");
	if (reason[0] && (!std || strcmp(reason, std)))
		tx(d, ", reason \"%s\"", reason);
	jint(d, "code", code);
	if (d->j)
		sw_json_strn(d->j, "reason", (const char *)a->val + 4,
			     a->len - 4u);
}


static void desc_unknown_list(struct desc *d, const struct turn_attr *a)
{
	if (d->j)
		sw_json_arr_open(d->j, "types");
	for (size_t i = 0; i + 1 < a->len; i += 2) {
		uint16_t t = be16(a->val + i);
		const char *n = turn_attr_name(t);
		char hex[8];

		tx(d, "%s0x%04x%s%s%s", i ? ", " : "", t, n ? " (" : "",
		   n ? n : "", n ? ")" : "");
		snprintf(hex, sizeof(hex), "0x%04x", t);
		if (d->j)
			sw_json_str(d->j, NULL, hex);
	}
	if (d->j)
		sw_json_arr_close(d->j);
}


/* RFC 8445 5.1.2.1: 2^24 type pref + 2^8 local pref + (256 - component) */
static void desc_priority(struct desc *d, uint32_t v)
{
	unsigned tp = v >> 24, lp = (v >> 8) & 0xffff, comp = 256 - (v & 0xff);
	const char *tn = tp == 126 ? "host" :
			 tp == 110 ? "peer-reflexive" :
			 tp == 100 ? "server-reflexive" :
			 tp == 0   ? "relayed" :
				     NULL;

	tx(d, "%u (0x%08x): type preference %u", v, v, tp);
	if (tn)
		tx(d, " (%s)", tn);
	tx(d, ", local preference %u, component %u", lp, comp);
	jint(d, "value", v);
	jint(d, "type_preference", tp);
	jint(d, "local_preference", lp);
	jint(d, "component", comp);
}


static void desc_role(struct desc *d, const struct turn_attr *a)
{
	uint64_t tb = (uint64_t)be32(a->val) << 32 | be32(a->val + 4);
	char hex[24];
	bool ctl = a->type == TURN_A_ICE_CONTROLLING;

	snprintf(hex, sizeof(hex), "0x%016llx", (unsigned long long)tb);
	tx(d, "tie-breaker %s: the sender is %s", hex,
	   ctl ? "controlling" : "controlled");
	jstr(d, "role", ctl ? "controlling" : "controlled");
	jstr(d, "tiebreaker", hex);
}


static void desc_version(struct desc *d, const struct turn_attr *a)
{
	static const char *const ms[] = {
		NULL,
		"ICE",
		"MS-ICE2",
		"MS-ICE2 with SHA256",
		"MS-ICE2 with SHA256 and IPv6",
		"multiplexed TURN over UDP",
		"multiplexed TURN over UDP and TCP"};
	uint32_t v = be32(a->val);

	jint(d, "value", v);
	if (a->type == TURN_A_IMPLEMENTATION_VERSION) {
		/* MS-ICE2 2.2.2.2, as Wireshark words it */
		tx(d, "%u (%s)", v,
		   v < 3 ? "supports only RFC 3489bis-02 message formats" :
			   "supports RFC 5389 message formats");
		return;
	}
	tx(d, "%u", v);
	if (v < sizeof(ms) / sizeof(ms[0]) && ms[v])
		tx(d, " (%s)", ms[v]);
}


static void desc_transport(struct desc *d, const struct turn_attr *a)
{
	unsigned p = a->val[0];
	const char *n = p == 17 ? "UDP" : p == 6 ? "TCP" : "unassigned";

	tx(d, "%s (protocol %u)", n, p);
	jstr(d, "protocol", n);
	jint(d, "value", p);
}


static void desc_family(struct desc *d, const struct turn_attr *a)
{
	unsigned f = a->val[0];

	tx(d, "%s (0x%02x)",
	   f == 1 ? "IPv4" : f == 2 ? "IPv6" : "unassigned family", f);
	jint(d, "value", f);
}


static void desc_u32(struct desc *d, const struct turn_attr *a,
		     const char *unit)
{
	uint32_t v = be32(a->val);

	tx(d, "%u%s", v, unit);
	jint(d, "value", v);
}


static void desc_ms_seq(struct desc *d, const struct turn_attr *a)
{
	char hex[48];

	hex_into(hex, sizeof(hex), a->val, 20, false);
	tx(d, "connection %s, sequence number %u", hex, be32(a->val + 20));
	jstr(d, "connection_id", hex);
	jint(d, "sequence_number", be32(a->val + 20));
}


static void desc_ms_quality(struct desc *d, const struct turn_attr *a)
{
	static const char *const st[] = {NULL, "audio", "video",
					 "supplemental video", "data"};
	unsigned s = be16(a->val), q = be16(a->val + 2);

	tx(d, "stream type %u (%s), service quality %u (%s)", s,
	   s < 5 && st[s] ? st[s] : "unknown", q,
	   q == 0 ? "best effort" : q == 1 ? "reliable" : "unknown");
	jint(d, "stream_type", s);
	jint(d, "service_quality", q);
}


static void desc_check(struct desc *d, const struct turn_attr *a,
		       const char *verdict)
{
	desc_hex(d, a);
	tx(d, " (%s)", verdict);
}


/* Value renderers: one per kind of value, all with the same arguments.
 * Values of fixed-size types were length-checked by the decoder. */
#define VARGS                                                                 \
	struct desc *d, const struct turn_msg *m, const struct turn_attr *a,  \
		const struct verdict *v

static void v_hex(VARGS)
{
	desc_hex(d, a);
}


static void v_xaddr(VARGS)
{
	desc_addr(d, m, a, true);
}


static void v_addr(VARGS)
{
	desc_addr(d, m, a, false);
}


/* 0x0012 is XOR-PEER-ADDRESS, but MS-TURN's plain REMOTE-ADDRESS in a
 * message without the magic cookie */
static void v_peer(VARGS)
{
	desc_addr(d, m, a, m->cookie);
}


static void v_str(VARGS)
{
	desc_str(d, a);
}


static void v_error(VARGS)
{
	desc_error(d, a);
}


static void v_unknown(VARGS)
{
	desc_unknown_list(d, a);
}


static void v_seconds(VARGS)
{
	desc_u32(d, a, " s");
}


static void v_kbps(VARGS)
{
	desc_u32(d, a, " kbit/s");
}


static void v_channel(VARGS)
{
	tx(d, "0x%04x", be16(a->val));
	jint(d, "value", be16(a->val));
}


static void v_hex32(VARGS)
{
	tx(d, "0x%08x", be32(a->val));
	jint(d, "value", be32(a->val));
}


static void v_ms_cookie(VARGS)
{
	v_hex32(d, m, a, v);
	tx(d, be32(a->val) == 0x72c64bc6 ? " (MS-TURN)" : " (not MS-TURN's)");
}


static void v_transport(VARGS)
{
	desc_transport(d, a);
}


static void v_family(VARGS)
{
	desc_family(d, a);
}


static void v_even_port(VARGS)
{
	tx(d, "R=%u%s", a->val[0] >> 7,
	   a->val[0] & 0x80 ? " (reserve the next port)" : "");
	jint(d, "reserve_next", a->val[0] >> 7);
}


static void v_use_cand(VARGS)
{
	tx(d, "(flag: the controlling agent nominates this pair)");
}


static void v_flag(VARGS)
{
	tx(d, "(flag)");
}


static void v_priority(VARGS)
{
	desc_priority(d, be32(a->val));
}


static void v_role(VARGS)
{
	desc_role(d, a);
}


static void v_version(VARGS)
{
	desc_version(d, a);
}


static void v_ms_seq(VARGS)
{
	desc_ms_seq(d, a);
}


static void v_ms_quality(VARGS)
{
	desc_ms_quality(d, a);
}


static void v_mi(VARGS)
{
	desc_check(d, a, v->mi_text);
}


static void v_mi256(VARGS)
{
	desc_check(d, a, v->mi256_text);
}


static void v_fp(VARGS)
{
	tx(d, "0x%08x (%s)", be32(a->val), v->fp_text);
	jint(d, "value", be32(a->val));
}


static void v_data(VARGS)
{
	tx(d, "%u bytes: ", a->len);
	desc_hex(d, a);
}

/* clang-format off */
static const struct {
	uint16_t type;
	void (*fn)(VARGS);
} renderers[] = {
	{0x0001, v_addr}, {0x0002, v_addr}, {0x0004, v_addr},
	{0x0005, v_addr}, {0x000b, v_addr}, {0x000e, v_addr},
	{0x0011, v_addr}, {0x8023, v_addr}, {0x802b, v_addr},
	{0x802c, v_addr}, {0x8090, v_addr},
	{0x0012, v_peer},
	{0x0016, v_xaddr}, {0x0020, v_xaddr}, {0x8020, v_xaddr},
	{0x0006, v_str}, {0x0007, v_str}, {0x0014, v_str}, {0x0015, v_str},
	{0x8003, v_str}, {0x8022, v_str}, {0x8032, v_str}, {0x8054, v_str},
	{0x8061, v_str}, {0x8062, v_str},
	{0x0009, v_error}, {0x000a, v_unknown},
	{0x000d, v_seconds}, {0x8027, v_seconds}, {0x0010, v_kbps},
	{0x000c, v_channel}, {0x002a, v_hex32}, {0x000f, v_ms_cookie},
	{0x0019, v_transport}, {0x0017, v_family}, {0x8000, v_family},
	{0x0018, v_even_port}, {0x0025, v_use_cand}, {0x001a, v_flag},
	{0x0024, v_priority}, {0x8029, v_role}, {0x802a, v_role},
	{0x8070, v_version}, {0x8008, v_version},
	{0x8050, v_ms_seq}, {0x8055, v_ms_quality},
	{0x0008, v_mi}, {0x001c, v_mi256}, {0x8028, v_fp},
	{0x0013, v_data},
};
/* clang-format on */


static void desc_value(struct desc *d, const struct turn_msg *m,
		       const struct turn_attr *a, const struct verdict *v)
{
	for (size_t i = 0; i < sizeof(renderers) / sizeof(renderers[0]); ++i) {
		if (renderers[i].type == a->type) {
			renderers[i].fn(d, m, a, v);
			return;
		}
	}
	v_hex(d, m, a, v);
}

/* --- one message ------------------------------------------------------------ */

static void verdict_mi(const struct sdec *sd, const struct turn_msg *m,
		       struct verdict *v)
{
	const char *kind = sd->longterm ? "long-term key" : "short-term key";
	size_t sz = sizeof(v->mi_text);

	v->mi = "absent";
	snprintf(v->mi_text, sz, "absent");
	if (!turn_msg_attr(m, TURN_A_MESSAGE_INTEGRITY))
		return;
	if (!sd->key) {
		v->mi = "unchecked";
		snprintf(v->mi_text, sz, "not checked: no --password");
	}
	else if (!turn_msg_check_integrity(m, sd->key, sd->keylen)) {
		v->mi = "ok";
		snprintf(v->mi_text, sz, "ok, HMAC-SHA1 RFC 5389, %s", kind);
	}
	else if (!turn_msg_check_integrity_msice2(m, sd->key, sd->keylen)) {
		v->mi = "ok-msice2";
		snprintf(v->mi_text, sz,
			 "ok, HMAC-SHA1 MS-ICE2 legacy (length with "
			 "FINGERPRINT, input padded to 64), %s",
			 kind);
	}
	else {
		v->mi = "mismatch";
		snprintf(v->mi_text, sz, "MISMATCH with this %s", kind);
	}
}


static void verdict_mi256(const struct sdec *sd, const struct turn_msg *m,
			  struct verdict *v)
{
	size_t sz = sizeof(v->mi256_text);

	v->mi256 = "absent";
	snprintf(v->mi256_text, sz, "absent");
	if (!turn_msg_attr(m, TURN_A_MESSAGE_INTEGRITY_SHA256))
		return;
	if (!sd->key) {
		v->mi256 = "unchecked";
		snprintf(v->mi256_text, sz, "not checked: no --password");
	}
	else if (!turn_msg_check_integrity_sha256(m, sd->key, sd->keylen)) {
		v->mi256 = "ok";
		snprintf(v->mi256_text, sz, "ok, HMAC-SHA256");
	}
	else {
		v->mi256 = "mismatch";
		snprintf(v->mi256_text, sz, "MISMATCH");
	}
}


static void verdict_make(const struct sdec *sd, const struct turn_msg *m,
			 struct verdict *v)
{
	size_t sz = sizeof(v->fp_text);

	verdict_mi(sd, m, v);
	verdict_mi256(sd, m, v);
	v->fp = "absent";
	snprintf(v->fp_text, sz, "absent");
	if (!turn_msg_attr(m, TURN_A_FINGERPRINT))
		return;
	if (!turn_msg_check_fingerprint(m)) {
		v->fp = "ok";
		snprintf(v->fp_text, sz, "ok");
	}
	else if (!turn_msg_check_fingerprint_mslegacy(m)) {
		v->fp = "ok-mslegacy";
		snprintf(v->fp_text, sz,
			 "ok with Microsoft's legacy CRC-32 table");
	}
	else {
		v->fp = "bad";
		snprintf(v->fp_text, sz, "BAD: the bytes were changed");
	}
}


static void show_attr(struct sdec *sd, const struct sdec_where *w,
		      const struct turn_msg *m, const struct turn_attr *a,
		      const struct verdict *v, struct sw_json *j)
{
	const char *name = m->cookie ? turn_attr_name(a->type) :
				       turn_attr_name_legacy(a->type);
	struct desc d = {.tlen = 0, .j = j};
	char type[8];

	d.text[0] = '\0';
	snprintf(type, sizeof(type), "0x%04x", a->type);
	if (j) {
		sw_json_obj_open(j, NULL);
		sw_json_int(j, "offset", (int64_t)a->off);
		sw_json_str(j, "type", type);
		sw_json_str_or_null(j, "name", name);
		sw_json_int(j, "length", a->len);
	}
	desc_value(&d, m, a, v);
	if (j) {
		sw_json_str(j, "text", d.text);
		sw_json_bool(j, "ignored", a->ignored);
		sw_json_obj_close(j);
		return;
	}
	fprintf(sd->out, "    +%zu %s%s (%s), length %u%s%s%s\n", a->off,
		name ? "" : "unknown attribute", name ? name : "", type,
		a->len, d.tlen ? ": " : "", d.text,
		a->ignored ? " [after MESSAGE-INTEGRITY: ignored, RFC 5389 "
			     "15.4]" :
			     "");
}


static void type_name(const struct turn_msg *m, char *buf, size_t sz)
{
	const char *mn = turn_method_name(m->method);
	const char *cn = turn_class_name(m->cls);

	if (mn)
		snprintf(buf, sz, "%s %s", mn, cn);
	else
		snprintf(buf, sz, "method 0x%03x %s", m->method, cn);
}


static void text_header(struct sdec *sd, const struct sdec_where *w,
			const struct turn_msg *m, size_t avail)
{
	char name[64], tid[40];

	fprintf(sd->out, "Message %u: %s, payload offset %zu\n", sd->n_msgs,
		w->label, w->msg_off);
	if (w->rfc4571_len >= 0)
		fprintf(sd->out, "  RFC 4571 length: %ld (0x%04lx)\n",
			w->rfc4571_len, w->rfc4571_len);
	if (avail < TURN_HDR_LEN)
		return;
	type_name(m, name, sizeof(name));
	fprintf(sd->out, "  %s (type 0x%04x)\n", name, be16(m->buf));
	fprintf(sd->out, "  Length: %u (0x%04x)\n", m->len, m->len);
	if (m->cookie) {
		fprintf(sd->out, "  Magic cookie: 0x2112a442\n");
		hex_into(tid, sizeof(tid), m->tid, TURN_TID_LEN, false);
	}
	else {
		fprintf(sd->out, "  Magic cookie: absent (RFC 3489 / MS-TURN "
				 "header, 16-byte transaction ID)\n");
		hex_into(tid, sizeof(tid), m->buf + 4, 16, false);
	}
	fprintf(sd->out, "  Transaction ID: %s\n", tid);
	fprintf(sd->out, "  Attributes:%s\n", m->n_attrs ? "" : " none");
}


static void text_damage(struct sdec *sd, const struct sdec_where *w,
			const struct turn_decode_err *err, const uint8_t *msg,
			size_t avail)
{
	size_t from = err->attr ? err->attr_off : err->off, n;
	char at[64], at2[64], rest[3 * REST_MAX + 1];

	sdec_dump_pos(sd, w, w->msg_off + err->off, at, sizeof(at));
	fprintf(sd->out,
		"  DAMAGED at payload offset %zu%s, message offset %zu: %s\n",
		w->msg_off + err->off, at, err->off, err->reason);
	if (err->attr) {
		sdec_dump_pos(sd, w, w->msg_off + err->attr_off, at2,
			      sizeof(at2));
		fprintf(sd->out,
			"    that attribute starts at payload offset %zu%s\n",
			w->msg_off + err->attr_off, at2);
	}
	if (from >= avail)
		return;
	n = avail - from < REST_MAX ? avail - from : REST_MAX;
	hex_into(rest, sizeof(rest), msg + from, n, true);
	fprintf(sd->out, "    not decoded: %zu bytes from message offset "
			 "%zu: %s%s\n",
		avail - from, from, rest, n < avail - from ? " ..." : "");
}


static void text_verdict(struct sdec *sd, const struct turn_msg *m,
			 const struct verdict *v)
{
	if (turn_msg_attr(m, TURN_A_MESSAGE_INTEGRITY))
		fprintf(sd->out, "  MESSAGE-INTEGRITY: %s\n", v->mi_text);
	if (turn_msg_attr(m, TURN_A_MESSAGE_INTEGRITY_SHA256))
		fprintf(sd->out, "  MESSAGE-INTEGRITY-SHA256: %s\n",
			v->mi256_text);
	if (turn_msg_attr(m, TURN_A_FINGERPRINT))
		fprintf(sd->out, "  FINGERPRINT: %s\n", v->fp_text);
	if (m->n_unknown_req)
		fprintf(sd->out, "  %u unknown comprehension-required "
				 "attribute(s): an RFC 5389 agent answers 420\n",
			m->n_unknown_req);
}


static void show_text(struct sdec *sd, const struct sdec_where *w,
		      const struct turn_msg *m, int derr,
		      const struct turn_decode_err *err, const uint8_t *msg,
		      size_t avail, const struct verdict *v)
{
	text_header(sd, w, m, avail);
	for (unsigned i = 0; i < m->n_attrs; ++i)
		show_attr(sd, w, m, &m->attrs[i], v, NULL);
	if (derr)
		text_damage(sd, w, err, msg, avail);
	else
		text_verdict(sd, m, v);
	for (unsigned i = 0; i < sd->n_notes; ++i)
		fprintf(sd->out, "  Note: %s\n", sd->notes[i]);
	sd->n_notes = 0;
	fputc('\n', sd->out);
}


static void json_where(struct sw_json *j, const struct sdec *sd,
		       const struct sdec_where *w)
{
	sw_json_int(j, "index", sd->n_msgs);
	sw_json_str(j, "source", w->label);
	if (w->frame >= 0)
		sw_json_int(j, "frame", w->frame);
	else
		sw_json_null(j, "frame");
	sw_json_str_or_null(j, "transport", w->transport);
	sw_json_str_or_null(j, "src", w->src[0] ? w->src : NULL);
	sw_json_str_or_null(j, "dst", w->dst[0] ? w->dst : NULL);
	sw_json_str(j, "framing", w->framing);
	sw_json_int(j, "offset", (int64_t)w->msg_off);
	if (w->rfc4571_len >= 0)
		sw_json_int(j, "rfc4571_length", w->rfc4571_len);
	else
		sw_json_null(j, "rfc4571_length");
}


static void json_header(struct sw_json *j, const struct turn_msg *m,
			size_t avail)
{
	char s[64], tid[40];

	if (avail < TURN_HDR_LEN) {
		sw_json_null(j, "type");
		return;
	}
	snprintf(s, sizeof(s), "0x%04x", be16(m->buf));
	sw_json_str(j, "type", s);
	sw_json_str_or_null(j, "method", turn_method_name(m->method));
	sw_json_int(j, "method_code", m->method);
	sw_json_str(j, "class", turn_class_name(m->cls));
	sw_json_int(j, "length", m->len);
	sw_json_bool(j, "magic_cookie", m->cookie);
	hex_into(tid, sizeof(tid), m->cookie ? m->tid : m->buf + 4,
		 m->cookie ? TURN_TID_LEN : 16, false);
	sw_json_str(j, "transaction_id", tid);
}


static void json_damage(struct sw_json *j, const struct sdec *sd,
			const struct sdec_where *w,
			const struct turn_decode_err *err)
{
	char s[16];
	size_t i = w->dump_base + w->msg_off + err->off;

	sw_json_obj_open(j, "damage");
	sw_json_int(j, "message_offset", (int64_t)err->off);
	sw_json_int(j, "payload_offset", (int64_t)(w->msg_off + err->off));
	if (sd->dump_off && w->dump_base != SDEC_NO_DUMP && i < sd->dump_len)
		sw_json_int(j, "dump_offset", (int64_t)sd->dump_off[i]);
	else
		sw_json_null(j, "dump_offset");
	if (err->attr) {
		snprintf(s, sizeof(s), "0x%04x", err->attr);
		sw_json_str(j, "attribute_type", s);
		sw_json_str_or_null(j, "attribute", turn_attr_name(err->attr));
		sw_json_int(j, "attribute_offset", (int64_t)err->attr_off);
	}
	sw_json_str(j, "reason", err->reason);
	sw_json_obj_close(j);
}


static void show_json(struct sdec *sd, const struct sdec_where *w,
		      const struct turn_msg *m, int derr,
		      const struct turn_decode_err *err, size_t avail,
		      const struct verdict *v)
{
	struct sw_json j;

	sw_json_init(&j, false);
	sw_json_obj_open(&j, NULL);
	json_where(&j, sd, w);
	json_header(&j, m, avail);
	sw_json_arr_open(&j, "attributes");
	for (unsigned i = 0; i < m->n_attrs; ++i)
		show_attr(sd, w, m, &m->attrs[i], v, &j);
	sw_json_arr_close(&j);
	sw_json_str(&j, "integrity", derr ? "unchecked" : v->mi);
	sw_json_str(&j, "integrity_sha256", derr ? "unchecked" : v->mi256);
	sw_json_str(&j, "fingerprint", derr ? "unchecked" : v->fp);
	sw_json_bool(&j, "damaged", derr != 0 || !strcmp(v->fp, "bad"));
	if (derr)
		json_damage(&j, sd, w, err);
	else
		sw_json_null(&j, "damage");
	sw_json_arr_open(&j, "notes");
	for (unsigned i = 0; i < sd->n_notes; ++i)
		sw_json_str(&j, NULL, sd->notes[i]);
	sw_json_arr_close(&j);
	sw_json_obj_close(&j);
	sd->n_notes = 0;
	if (sw_json_finish(&j) == 0)
		fprintf(sd->out, "%s\n", j.buf);
	else
		fprintf(stderr, "stun-decode: JSON output failed\n");
	sw_json_free(&j);
}


/**
 * Show one STUN message found in a payload or stream
 *
 * @param w      Where it was found
 * @param msg    Its first byte (the STUN header)
 * @param avail  Bytes present from msg on; fewer than the header's length
 *               field announces when the input was cut or damaged
 */
void sdec_show(struct sdec *sd, const struct sdec_where *w,
	       const uint8_t *msg, size_t avail)
{
	struct verdict v = {"unchecked", "unchecked", "unchecked", "", "",
			    ""};
	struct turn_decode_err err;
	struct turn_msg m;
	int derr;

	++sd->n_msgs;
	derr = turn_msg_decode_partial(&m, msg, avail, &err);
	if (!derr)
		verdict_make(sd, &m, &v);
	if (derr || !strcmp(v.fp, "bad"))
		++sd->n_damaged;

	if (sd->json)
		show_json(sd, w, &m, derr, &err, avail, &v);
	else
		show_text(sd, w, &m, derr, &err, msg, avail, &v);
}
