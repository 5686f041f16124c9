/**
 * @file turn_msg.c  STUN/TURN message decoding, typed readers, integrity,
 * fingerprint and encoding.
 *
 * The decoder never copies and never reads outside [buf, buf + len): every
 * header and attribute length is checked against the message before it is
 * used, and the first problem is reported with its byte offset. Integrity
 * follows RFC 5389 15.4 (HMAC-SHA1), RFC 8489 14.6 (HMAC-SHA256) and the
 * MS-ICE2 legacy variant libnice implements; the fingerprint is CRC-32 XOR
 * 0x5354554e (RFC 5389 15.5). Crypto goes through OpenSSL 3 EVP only.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "turn_msg.h"

#define ATTR_HDR_LEN 4
#define MI_LEN 20
#define MI256_MIN 16
#define MI256_MAX 32
#define FP_LEN 4

/* --- small helpers ------------------------------------------------------ */

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}


static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}


static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}


static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}


static size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}


static const char *attr_label(uint16_t type)
{
	const char *name = turn_attr_name(type);

	return name ? name : "unknown";
}


static int fail(struct turn_decode_err *err, size_t off, uint16_t attr,
		size_t attr_off, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int fail(struct turn_decode_err *err, size_t off, uint16_t attr,
		size_t attr_off, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return EBADMSG;
	err->off = off;
	err->attr = attr;
	err->attr_off = attr_off;
	va_start(ap, fmt);
	vsnprintf(err->reason, sizeof(err->reason), fmt, ap);
	va_end(ap);
	return EBADMSG;
}

/* --- decoding ------------------------------------------------------------ */

/* Value lengths fixed by the specifications. ADDR: 8 (IPv4) or 20 (IPv6). */
enum len_rule {
	LEN_EXACT,
	LEN_ADDR,
	LEN_MIN,
	LEN_MI256, /* 16..32, multiple of 4 (RFC 8489 14.6) */
	LEN_EVEN,
};

struct len_spec {
	uint16_t type;
	uint8_t rule;
	uint16_t n;
};

/* clang-format off */
static const struct len_spec len_specs[] = {
	{0x0001, LEN_ADDR, 0},  /* MAPPED-ADDRESS */
	{0x0002, LEN_ADDR, 0},  /* RESPONSE-ADDRESS (RFC 3489) */
	{0x0003, LEN_EXACT, 4}, /* CHANGE-REQUEST */
	{0x0004, LEN_ADDR, 0},  /* SOURCE-ADDRESS (RFC 3489) */
	{0x0005, LEN_ADDR, 0},  /* CHANGED-ADDRESS (RFC 3489) */
	{0x0008, LEN_EXACT, MI_LEN},
	{0x0009, LEN_MIN, 4},   /* ERROR-CODE */
	{0x000a, LEN_EVEN, 0},  /* UNKNOWN-ATTRIBUTES */
	{0x000b, LEN_ADDR, 0},  /* REFLECTED-FROM (RFC 3489) */
	{0x000c, LEN_EXACT, 4}, /* CHANNEL-NUMBER */
	{0x000d, LEN_EXACT, 4}, /* LIFETIME */
	{0x000e, LEN_ADDR, 0},  /* ALTERNATE-SERVER (MS-TURN) */
	{0x000f, LEN_EXACT, 4}, /* MAGIC-COOKIE (MS-TURN) */
	{0x0010, LEN_EXACT, 4}, /* BANDWIDTH (MS-TURN) */
	{0x0011, LEN_ADDR, 0},  /* DESTINATION-ADDRESS (MS-TURN) */
	{0x0012, LEN_ADDR, 0},  /* XOR-PEER-ADDRESS / REMOTE-ADDRESS */
	{0x0016, LEN_ADDR, 0},  /* XOR-RELAYED-ADDRESS */
	{0x0017, LEN_EXACT, 4}, /* REQUESTED-ADDRESS-FAMILY */
	{0x0018, LEN_EXACT, 1}, /* EVEN-PORT */
	{0x0019, LEN_EXACT, 4}, /* REQUESTED-TRANSPORT */
	{0x001a, LEN_EXACT, 0}, /* DONT-FRAGMENT */
	{0x001c, LEN_MI256, 0}, /* MESSAGE-INTEGRITY-SHA256 */
	{0x001d, LEN_MIN, 4},   /* PASSWORD-ALGORITHM */
	{0x001e, LEN_EXACT, 32}, /* USERHASH */
	{0x0020, LEN_ADDR, 0},  /* XOR-MAPPED-ADDRESS */
	{0x0022, LEN_EXACT, 8}, /* RESERVATION-TOKEN */
	{0x0024, LEN_EXACT, 4}, /* PRIORITY */
	{0x0025, LEN_EXACT, 0}, /* USE-CANDIDATE */
	{0x002a, LEN_EXACT, 4}, /* CONNECTION-ID */
	{0x8000, LEN_EXACT, 4}, /* ADDITIONAL-ADDRESS-FAMILY */
	{0x8001, LEN_MIN, 4},   /* ADDRESS-ERROR-CODE */
	{0x8004, LEN_EXACT, 8}, /* ICMP */
	{0x8008, LEN_EXACT, 4}, /* MS-VERSION */
	{0x8020, LEN_ADDR, 0},  /* MS XOR-MAPPED-ADDRESS */
	{0x8023, LEN_ADDR, 0},  /* ALTERNATE-SERVER */
	{0x8025, LEN_EXACT, 4}, /* TRANSACTION-TRANSMIT-COUNTER */
	{0x8027, LEN_EXACT, 4}, /* CACHE-TIMEOUT */
	{0x8028, LEN_EXACT, FP_LEN},
	{0x8029, LEN_EXACT, 8}, /* ICE-CONTROLLED */
	{0x802a, LEN_EXACT, 8}, /* ICE-CONTROLLING */
	{0x802b, LEN_ADDR, 0},  /* RESPONSE-ORIGIN */
	{0x802c, LEN_ADDR, 0},  /* OTHER-ADDRESS */
	{0x8050, LEN_EXACT, 24}, /* MS-SEQUENCE-NUMBER */
	{0x8055, LEN_EXACT, 4}, /* MS-SERVICE-QUALITY */
	{0x8070, LEN_EXACT, 4}, /* IMPLEMENTATION-VERSION */
	{0x8090, LEN_ADDR, 0},  /* MS-ALT-MAPPED-ADDRESS */
};
/* clang-format on */


/* Check a value length against len_specs; on mismatch write what was
 * expected into exp and return false */
static bool len_ok(uint16_t type, uint16_t len, char *exp, size_t sz)
{
	const struct len_spec *s = NULL;

	for (size_t i = 0; i < sizeof(len_specs) / sizeof(len_specs[0]); ++i) {
		if (len_specs[i].type == type) {
			s = &len_specs[i];
			break;
		}
	}
	if (!s)
		return true;

	switch (s->rule) {

	case LEN_EXACT:
		snprintf(exp, sz, "%u", s->n);
		return len == s->n;

	case LEN_ADDR:
		snprintf(exp, sz, "8 (IPv4) or 20 (IPv6)");
		return len == 8 || len == 20;

	case LEN_MIN:
		snprintf(exp, sz, "at least %u", s->n);
		return len >= s->n;

	case LEN_MI256:
		snprintf(exp, sz, "16 to 32, a multiple of 4");
		return len >= MI256_MIN && len <= MI256_MAX && len % 4 == 0;

	default:
		snprintf(exp, sz, "an even number");
		return len % 2 == 0;
	}
}


/* Comprehension-required types an RFC 8489/8656/6062/8445 agent
 * understands; any other type below 0x8000 goes to unknown_req (RFC 5389
 * 7.3.1). RFC 3489 and MS-TURN numbers are not among them: they have
 * names for display but an RFC 5389 agent cannot act on them. */
static bool type_understood(uint16_t type)
{
	switch (type) {

	case TURN_A_MAPPED_ADDRESS:
	case TURN_A_USERNAME:
	case TURN_A_MESSAGE_INTEGRITY:
	case TURN_A_ERROR_CODE:
	case TURN_A_UNKNOWN_ATTRIBUTES:
	case TURN_A_CHANNEL_NUMBER:
	case TURN_A_LIFETIME:
	case TURN_A_XOR_PEER_ADDRESS:
	case TURN_A_DATA:
	case TURN_A_REALM:
	case TURN_A_NONCE:
	case TURN_A_XOR_RELAYED_ADDRESS:
	case TURN_A_REQUESTED_ADDRESS_FAMILY:
	case TURN_A_EVEN_PORT:
	case TURN_A_REQUESTED_TRANSPORT:
	case TURN_A_DONT_FRAGMENT:
	case TURN_A_MESSAGE_INTEGRITY_SHA256:
	case TURN_A_PASSWORD_ALGORITHM:
	case TURN_A_USERHASH:
	case TURN_A_XOR_MAPPED_ADDRESS:
	case TURN_A_RESERVATION_TOKEN:
	case TURN_A_PRIORITY:
	case TURN_A_USE_CANDIDATE:
	case TURN_A_CONNECTION_ID:
		return true;

	default:
		return false;
	}
}


static int decode_header(struct turn_msg *m, const uint8_t *buf, size_t len,
			 bool partial, struct turn_decode_err *err)
{
	uint16_t type;

	if (len < TURN_HDR_LEN)
		return fail(err, len, 0, 0,
			    "%zu bytes: shorter than the 20-byte STUN header",
			    len);

	type = rd16(buf);
	m->method = (uint16_t)((type & 0x3e00) >> 2 | (type & 0x00e0) >> 1 |
			       (type & 0x000f));
	m->cls = (uint8_t)((type & 0x0100) >> 7 | (type & 0x0010) >> 4);
	m->len = rd16(buf + 2);
	m->cookie = rd32(buf + 4) == TURN_MAGIC_COOKIE;
	memcpy(m->tid, buf + 8, TURN_TID_LEN);
	m->buf = buf;
	m->buflen = TURN_HDR_LEN + (size_t)m->len;

	if (type & 0xc000)
		return fail(err, 0, 0, 0,
			    "message type 0x%04x: the first two bits are not "
			    "00, this is not STUN",
			    type);
	if (m->len % 4)
		return fail(err, 2, 0, 0,
			    "length field %u is not a multiple of 4", m->len);
	if (m->buflen > len && !partial)
		return fail(err, 2, 0, 0,
			    "length field says %u attribute bytes, only %zu "
			    "follow the header",
			    m->len, len - TURN_HDR_LEN);
	return 0;
}


/* Where an attribute may sit relative to MI, MI-SHA256 and FINGERPRINT */
struct order {
	bool mi, mi256, fp;
};


static int check_order(struct turn_msg *m, struct turn_attr *a,
		       struct order *o, struct turn_decode_err *err)
{
	if (o->fp)
		return fail(err, a->off, a->type, a->off,
			    "%s (0x%04x) at offset %zu follows FINGERPRINT, "
			    "which must be the last attribute",
			    attr_label(a->type), a->type, a->off);

	switch (a->type) {

	case TURN_A_FINGERPRINT:
		o->fp = true;
		break;

	case TURN_A_MESSAGE_INTEGRITY_SHA256:
		a->ignored = o->mi256;
		o->mi256 = true;
		break;

	case TURN_A_MESSAGE_INTEGRITY:
		/* RFC 8489 14.5: MI may only precede MI-SHA256 */
		a->ignored = o->mi || o->mi256;
		o->mi = true;
		break;

	default:
		/* RFC 5389 15.4: ignore what follows MESSAGE-INTEGRITY */
		a->ignored = o->mi || o->mi256;
		break;
	}
	if (a->ignored)
		++m->n_ignored;
	return 0;
}


static int decode_attr(struct turn_msg *m, size_t off, size_t end,
		       struct order *o, size_t *next,
		       struct turn_decode_err *err)
{
	struct turn_attr *a;
	char exp[48];
	uint16_t type, alen;
	size_t room;

	/* end < m->buflen only when turn_msg_decode_partial() got less than
	 * the length field announced */
	if (end - off < ATTR_HDR_LEN)
		return fail(err, end, 0, off,
			    "input ends inside the attribute header at offset "
			    "%zu (%zu of 4 bytes)",
			    off, end - off);
	type = rd16(m->buf + off);
	alen = rd16(m->buf + off + 2);

	room = m->buflen - off - ATTR_HDR_LEN;
	if (pad4(alen) > room)
		return fail(err, off + 2, type, off,
			    "%s (0x%04x) at offset %zu: length %u (%zu "
			    "padded) overruns the message by %zu bytes",
			    attr_label(type), type, off, alen, pad4(alen),
			    pad4(alen) - room);
	room = end - off - ATTR_HDR_LEN;
	if (pad4(alen) > room)
		return fail(err, end, type, off,
			    "%s (0x%04x) at offset %zu: input ends after %zu "
			    "of its %zu value bytes",
			    attr_label(type), type, off, room, pad4(alen));
	if (!len_ok(type, alen, exp, sizeof(exp)))
		return fail(err, off + 2, type, off,
			    "%s (0x%04x) at offset %zu: length %u, expected %s",
			    attr_label(type), type, off, alen, exp);
	if (m->n_attrs >= TURN_MAX_ATTRS)
		return fail(err, off, type, off,
			    "more than %u attributes", TURN_MAX_ATTRS);

	a = &m->attrs[m->n_attrs];
	a->type = type;
	a->len = alen;
	a->off = off;
	a->val = m->buf + off + ATTR_HDR_LEN;
	a->ignored = false;
	if (check_order(m, a, o, err))
		return EBADMSG;
	++m->n_attrs;

	if (type < 0x8000 && !type_understood(type) && !a->ignored &&
	    m->n_unknown_req < TURN_MAX_UNKNOWN)
		m->unknown_req[m->n_unknown_req++] = type;

	*next = off + ATTR_HDR_LEN + pad4(alen);
	return 0;
}


static int decode(struct turn_msg *m, const uint8_t *buf, size_t len,
		  bool partial, struct turn_decode_err *err)
{
	struct order o = {false, false, false};
	size_t off, end;
	int e;

	if (!m || (!buf && len))
		return EINVAL;
	memset(m, 0, sizeof(*m));
	if (err)
		memset(err, 0, sizeof(*err));

	e = decode_header(m, buf, len, partial, err);
	if (e)
		return e;

	end = m->buflen <= len ? m->buflen : len;
	for (off = TURN_HDR_LEN; off < end;) {
		e = decode_attr(m, off, end, &o, &off, err);
		if (e)
			return e;
	}
	if (end < m->buflen)
		return fail(err, end, 0, 0,
			    "message cut short: length field says %zu bytes "
			    "in all, only %zu present",
			    m->buflen, len);
	return 0;
}


/**
 * Decode a STUN message (RFC 5389/8489 header, with or without the magic
 * cookie) and index its attributes
 *
 * @param m    Decoded message; points into buf
 * @param buf  Buffer starting with the header; may hold more than one
 *             message (only 20 + length field bytes are used)
 * @param len  Bytes available in buf
 * @param err  Optional: offset and reason of the first problem
 *
 * @return 0, EINVAL or EBADMSG
 */
int turn_msg_decode(struct turn_msg *m, const uint8_t *buf, size_t len,
		    struct turn_decode_err *err)
{
	return decode(m, buf, len, false, err);
}


/**
 * Decode what can be decoded of a damaged or cut-short message, for
 * display. Unlike turn_msg_decode() the length field may exceed len.
 *
 * @return 0 if the whole message is sound (then *m equals what
 *         turn_msg_decode() gives), EBADMSG with *m holding the header
 *         (if len >= 20) and every attribute before err->off, or EINVAL
 */
int turn_msg_decode_partial(struct turn_msg *m, const uint8_t *buf,
			    size_t len, struct turn_decode_err *err)
{
	return decode(m, buf, len, true, err);
}


/**
 * Tell whether a buffer starts with an RFC 5389 STUN message: first two
 * bits 00, length a multiple of 4 that fits in len, magic cookie present
 */
bool turn_msg_is_stun(const uint8_t *buf, size_t len)
{
	uint16_t mlen;

	if (!buf || len < TURN_HDR_LEN || (buf[0] & 0xc0))
		return false;
	mlen = rd16(buf + 2);
	return mlen % 4 == 0 && TURN_HDR_LEN + (size_t)mlen <= len &&
	       rd32(buf + 4) == TURN_MAGIC_COOKIE;
}


/**
 * First attribute of a type, skipping those RFC 5389 15.4 says to ignore
 *
 * @return the attribute, or NULL
 */
const struct turn_attr *turn_msg_attr(const struct turn_msg *m, uint16_t type)
{
	if (!m)
		return NULL;
	for (unsigned i = 0; i < m->n_attrs; ++i) {
		if (m->attrs[i].type == type && !m->attrs[i].ignored)
			return &m->attrs[i];
	}
	return NULL;
}

/* --- typed readers -------------------------------------------------------- */

static int attr_get(const struct turn_msg *m, uint16_t type,
		    const struct turn_attr **ap)
{
	*ap = turn_msg_attr(m, type);
	return *ap ? 0 : ENOENT;
}


/** Read a 32-bit attribute (LIFETIME, PRIORITY, CONNECTION-ID...) */
int turn_msg_get_u32(const struct turn_msg *m, uint16_t type, uint32_t *v)
{
	const struct turn_attr *a;
	int err = attr_get(m, type, &a);

	if (err)
		return err;
	if (a->len != 4)
		return EBADMSG;
	if (v)
		*v = rd32(a->val);
	return 0;
}


/** Read a 64-bit attribute (ICE-CONTROLLED/-CONTROLLING, tokens) */
int turn_msg_get_u64(const struct turn_msg *m, uint16_t type, uint64_t *v)
{
	const struct turn_attr *a;
	int err = attr_get(m, type, &a);

	if (err)
		return err;
	if (a->len != 8)
		return EBADMSG;
	if (v)
		*v = (uint64_t)rd32(a->val) << 32 | rd32(a->val + 4);
	return 0;
}


/* Address value (RFC 5389 15.1/15.2); mask: header bytes 4..19 or NULL */
static int addr_read(const struct turn_attr *a, const uint8_t *mask,
		     struct sw_sa *sa)
{
	uint8_t ip[16];
	uint16_t port;
	size_t iplen;

	if (a->len < 4 || a->val[0] != 0)
		return EBADMSG;
	if (a->val[1] == 0x01 && a->len == 8)
		iplen = 4;
	else if (a->val[1] == 0x02 && a->len == 20)
		iplen = 16;
	else
		return EBADMSG;

	port = rd16(a->val + 2);
	memcpy(ip, a->val + 4, iplen);
	if (mask) {
		port ^= rd16(mask);
		for (size_t i = 0; i < iplen; ++i)
			ip[i] ^= mask[i];
	}
	if (!sa)
		return 0;

	memset(sa, 0, sizeof(*sa));
	if (iplen == 4) {
		sa->u.in.sin_family = AF_INET;
		sa->u.in.sin_port = htons(port);
		memcpy(&sa->u.in.sin_addr, ip, 4);
	}
	else {
		sa->u.in6.sin6_family = AF_INET6;
		sa->u.in6.sin6_port = htons(port);
		memcpy(&sa->u.in6.sin6_addr, ip, 16);
	}
	return 0;
}


/**
 * Read an XOR'd address (XOR-MAPPED/-PEER/-RELAYED-ADDRESS). The mask is
 * header bytes 4..19: the magic cookie and transaction ID (RFC 5389 15.2),
 * or for a cookie-less MS-TURN message the first transaction ID bytes, as
 * MS-TURN's 0x8020 XOR-MAPPED-ADDRESS uses them.
 */
int turn_msg_get_xaddr(const struct turn_msg *m, uint16_t type,
		       struct sw_sa *sa)
{
	const struct turn_attr *a;
	int err = attr_get(m, type, &a);

	return err ? err : turn_attr_addr(m, a, true, sa);
}


/** Read a plain address (MAPPED-ADDRESS, ALTERNATE-SERVER...) */
int turn_msg_get_addr(const struct turn_msg *m, uint16_t type,
		      struct sw_sa *sa)
{
	const struct turn_attr *a;
	int err = attr_get(m, type, &a);

	return err ? err : turn_attr_addr(m, a, false, sa);
}


/**
 * Read the address in one attribute of m, XOR'd (RFC 5389 15.2) or plain
 *
 * @return 0, EINVAL or EBADMSG (bad family or length)
 */
int turn_attr_addr(const struct turn_msg *m, const struct turn_attr *a,
		   bool xor, struct sw_sa *sa)
{
	if (!m || !a || !m->buf)
		return EINVAL;
	return addr_read(a, xor ? m->buf + 4 : NULL, sa);
}


/**
 * Read ERROR-CODE (RFC 5389 15.6): class 3..6, number 0..99
 *
 * @param reason  Optional buffer for the reason phrase (NUL-terminated,
 *                cut to sz - 1 bytes)
 */
int turn_msg_get_error(const struct turn_msg *m, uint16_t *code,
		       char *reason, size_t sz)
{
	const struct turn_attr *a;
	int err = attr_get(m, TURN_A_ERROR_CODE, &a);

	return err ? err : turn_attr_error(a, code, reason, sz);
}


/** Read ERROR-CODE from one attribute; 0, EINVAL or EBADMSG */
int turn_attr_error(const struct turn_attr *a, uint16_t *code, char *reason,
		    size_t sz)
{
	unsigned cls, num;
	size_t n;

	if (!a)
		return EINVAL;
	if (a->len < 4)
		return EBADMSG;
	cls = a->val[2] & 0x07;
	num = a->val[3];
	if (cls < 3 || cls > 6 || num > 99)
		return EBADMSG;
	if (code)
		*code = (uint16_t)(cls * 100 + num);
	if (reason && sz) {
		n = a->len - 4u < sz - 1 ? a->len - 4u : sz - 1;
		memcpy(reason, a->val + 4, n);
		reason[n] = '\0';
	}
	return 0;
}


/**
 * Read a string attribute, stripping trailing NULs (MS-ICE2 pads USERNAME
 * and CANDIDATE-IDENTIFIER with NULs counted in the length)
 *
 * @return 0, ENOENT, or ERANGE if buf (sz bytes with the NUL) is too small
 */
int turn_msg_get_str(const struct turn_msg *m, uint16_t type, char *buf,
		     size_t sz, unsigned *nuls)
{
	const struct turn_attr *a;
	int err = attr_get(m, type, &a);
	size_t n;

	if (err)
		return err;
	n = a->len;
	while (n && a->val[n - 1] == '\0')
		--n;
	if (!buf || n >= sz)
		return ERANGE;
	memcpy(buf, a->val, n);
	buf[n] = '\0';
	if (nuls)
		*nuls = (unsigned)(a->len - n);
	return 0;
}

/* --- crypto ---------------------------------------------------------------- */

struct chunk {
	const uint8_t *p;
	size_t n;
};


/* HMAC over a list of chunks; outsz must be the digest size */
static int hmac(const char *digest, const uint8_t *key, size_t keylen,
		const struct chunk *c, size_t nc, uint8_t *out, size_t outsz)
{
	static const uint8_t nokey[1];
	OSSL_PARAM params[2];
	EVP_MAC_CTX *ctx = NULL;
	EVP_MAC *mac;
	size_t outl = 0;
	int err = EPROTO;

	mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (!mac)
		return EPROTO;
	ctx = EVP_MAC_CTX_new(mac);
	if (!ctx) {
		err = ENOMEM;
		goto out;
	}
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						     (char *)digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	/* a NULL key means "keep the previous key" to EVP_MAC_init() */
	if (!EVP_MAC_init(ctx, keylen ? key : nokey, keylen, params))
		goto out;
	for (size_t i = 0; i < nc; ++i) {
		if (c[i].n && !EVP_MAC_update(ctx, c[i].p, c[i].n))
			goto out;
	}
	if (EVP_MAC_final(ctx, out, &outl, outsz) && outl == outsz)
		err = 0;
out:
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return err;
}


/* HMAC of msg[0..off) with the length field replaced by fakelen, the input
 * then zero-padded to a multiple of pad bytes (0: none) */
static int hmac_msg(const char *digest, const uint8_t *key, size_t keylen,
		    const uint8_t *msg, size_t off, uint16_t fakelen,
		    size_t pad, uint8_t *out, size_t outsz)
{
	static const uint8_t zeros[64];
	uint8_t lenf[2];
	struct chunk c[4];

	wr16(lenf, fakelen);
	c[0] = (struct chunk){msg, 2};
	c[1] = (struct chunk){lenf, 2};
	c[2] = (struct chunk){msg + 4, off - 4};
	c[3] = (struct chunk){zeros, pad && off % pad ? pad - off % pad : 0};
	return hmac(digest, key, keylen, c, 4, out, outsz);
}


static int check_mac(const struct turn_msg *m, uint16_t type,
		     const char *digest, size_t dlen, bool msice2,
		     const uint8_t *key, size_t keylen)
{
	const struct turn_attr *a;
	uint8_t mac[MI256_MAX];
	uint16_t fakelen;
	int err;

	if (!m || (!key && keylen))
		return EINVAL;
	a = turn_msg_attr(m, type);
	if (!a)
		return ENOENT;
	if (a->len > dlen || a->off < TURN_HDR_LEN)
		return EBADMSG;

	/* RFC 5389 15.4: the length field as if the message ended with MI */
	fakelen = (uint16_t)(a->off + ATTR_HDR_LEN + a->len - TURN_HDR_LEN);
	if (msice2)
		fakelen = m->len;
	err = hmac_msg(digest, key ? key : (const uint8_t *)"", keylen,
		       m->buf, a->off, fakelen, msice2 ? 64 : 0, mac, dlen);
	if (err)
		return err;
	return CRYPTO_memcmp(mac, a->val, a->len) ? EBADMSG : 0;
}


/** Check MESSAGE-INTEGRITY (HMAC-SHA1, RFC 5389 15.4) */
int turn_msg_check_integrity(const struct turn_msg *m, const uint8_t *key,
			     size_t keylen)
{
	return check_mac(m, TURN_A_MESSAGE_INTEGRITY, "SHA1", MI_LEN, false,
			 key, keylen);
}


/** Check MESSAGE-INTEGRITY-SHA256 (RFC 8489 14.6; may be truncated) */
int turn_msg_check_integrity_sha256(const struct turn_msg *m,
				    const uint8_t *key, size_t keylen)
{
	return check_mac(m, TURN_A_MESSAGE_INTEGRITY_SHA256, "SHA256",
			 MI256_MAX, false, key, keylen);
}


/**
 * Check MESSAGE-INTEGRITY the MS-ICE2 legacy way (IMPLEMENTATION-VERSION
 * below 3): the length field holds the whole message including
 * FINGERPRINT and the HMAC input is zero-padded to a multiple of 64 bytes
 */
int turn_msg_check_integrity_msice2(const struct turn_msg *m,
				    const uint8_t *key, size_t keylen)
{
	return check_mac(m, TURN_A_MESSAGE_INTEGRITY, "SHA1", MI_LEN, true,
			 key, keylen);
}


/**
 * Long-term credential key (RFC 5389 15.4): MD5(user ":" realm ":" pass).
 * The strings are used as given (SASLprep is the caller's business). On a
 * crypto failure the key is all zeros, which matches no peer.
 */
void turn_key_longterm(uint8_t key[16], const char *user, const char *realm,
		       const char *password)
{
	EVP_MD_CTX *ctx;
	unsigned int n = 0;
	bool ok;

	if (!key)
		return;
	memset(key, 0, 16);
	if (!user || !realm || !password)
		return;
	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return;
	ok = EVP_DigestInit_ex(ctx, EVP_md5(), NULL) &&
	     EVP_DigestUpdate(ctx, user, strlen(user)) &&
	     EVP_DigestUpdate(ctx, ":", 1) &&
	     EVP_DigestUpdate(ctx, realm, strlen(realm)) &&
	     EVP_DigestUpdate(ctx, ":", 1) &&
	     EVP_DigestUpdate(ctx, password, strlen(password)) &&
	     EVP_DigestFinal_ex(ctx, key, &n) && n == 16;
	if (!ok)
		memset(key, 0, 16);
	EVP_MD_CTX_free(ctx);
}

/* --- CRC-32 (IEEE 802.3, reflected, polynomial 0xedb88320) --------------- */

/* The table is generated by the preprocessor: CRC_T(n) runs the eight
 * shift/xor steps of the bitwise algorithm on byte n, so the table is
 * constant, shared by every thread and needs no initialisation call. */
#define CRC_S(c) (((c) >> 1) ^ (0xedb88320u & (0u - ((c) & 1u))))
#define CRC_T(n) CRC_S(CRC_S(CRC_S(CRC_S(CRC_S(CRC_S(CRC_S(CRC_S( \
	(uint32_t)(n)))))))))
#define CRC_R4(n)   CRC_T(n), CRC_T((n) + 1), CRC_T((n) + 2), CRC_T((n) + 3)
#define CRC_R16(n)  CRC_R4(n), CRC_R4((n) + 4), CRC_R4((n) + 8), \
	CRC_R4((n) + 12)
#define CRC_R64(n)  CRC_R16(n), CRC_R16((n) + 16), CRC_R16((n) + 32), \
	CRC_R16((n) + 48)

static const uint32_t crc_table[256] = {
	CRC_R64(0), CRC_R64(64), CRC_R64(128), CRC_R64(192),
};

/* Microsoft's table has 0x8bbeb8ea mistyped as 0x08bbe8ea (libnice
 * stun/stuncrc32.c); libnice's "legacy" FINGERPRINT copies use it */
#define CRC_MS_GOOD 0x8bbeb8eau
#define CRC_MS_BAD 0x08bbe8eau


static uint32_t crc32_calc(const uint8_t *p, size_t n, bool mslegacy)
{
	uint32_t crc = 0xffffffffu, t;

	for (size_t i = 0; i < n; ++i) {
		t = crc_table[(crc ^ p[i]) & 0xff];
		if (mslegacy && t == CRC_MS_GOOD)
			t = CRC_MS_BAD;
		crc = t ^ (crc >> 8);
	}
	return crc ^ 0xffffffffu;
}


static int check_fp(const struct turn_msg *m, bool mslegacy)
{
	const struct turn_attr *a;
	uint32_t crc;

	if (!m)
		return EINVAL;
	a = turn_msg_attr(m, TURN_A_FINGERPRINT);
	if (!a)
		return ENOENT;
	if (a->len != FP_LEN)
		return EBADMSG;
	crc = crc32_calc(m->buf, a->off, mslegacy) ^ TURN_FP_XOR;
	return crc == rd32(a->val) ? 0 : EBADMSG;
}


/** Check FINGERPRINT (RFC 5389 15.5): CRC-32 of what precedes, XOR 'STUN' */
int turn_msg_check_fingerprint(const struct turn_msg *m)
{
	return check_fp(m, false);
}


/** Check FINGERPRINT as computed with Microsoft's legacy CRC-32 table */
int turn_msg_check_fingerprint_mslegacy(const struct turn_msg *m)
{
	return check_fp(m, true);
}

/* --- encoding ---------------------------------------------------------------- */

/**
 * Start a message: header with the magic cookie and a zero length. Later
 * calls append attributes and keep the length field current.
 */
void turn_enc_init(struct turn_enc *e, uint8_t *buf, size_t cap,
		   uint16_t method, uint8_t cls, const uint8_t tid[12])
{
	uint16_t type;

	if (!e)
		return;
	memset(e, 0, sizeof(*e));
	e->buf = buf;
	e->cap = cap;
	if (!buf || !tid || method > 0x0fff || cls > 3) {
		e->err = EINVAL;
		return;
	}
	if (cap < TURN_HDR_LEN) {
		e->err = ENOSPC;
		return;
	}
	/* RFC 5389 6: M11..M7 C1 M6..M4 C0 M3..M0 */
	type = (uint16_t)((method & 0x0f80) << 2 | (method & 0x0070) << 1 |
			  (method & 0x000f) | (cls & 2) << 7 | (cls & 1) << 4);
	wr16(buf, type);
	wr16(buf + 2, 0);
	wr32(buf + 4, TURN_MAGIC_COOKIE);
	memcpy(buf + 8, tid, TURN_TID_LEN);
	e->len = TURN_HDR_LEN;
}


/* Room for an attribute of vlen value bytes, or set the sticky error */
static bool enc_room(struct turn_enc *e, size_t vlen)
{
	if (!e)
		return false;
	if (e->err)
		return false;
	if (e->sealed || vlen > 0xffff) {
		e->err = EINVAL;
		return false;
	}
	if (e->cap - e->len < ATTR_HDR_LEN + pad4(vlen) ||
	    e->len - TURN_HDR_LEN + ATTR_HDR_LEN + pad4(vlen) > 0xffff) {
		e->err = ENOSPC;
		return false;
	}
	return true;
}


/** Append one attribute; the padding is zeroed (RFC 5389 15) */
void turn_enc_attr(struct turn_enc *e, uint16_t type, const void *val,
		   size_t len)
{
	uint8_t *p;

	if (!enc_room(e, len))
		return;
	if (!val && len) {
		e->err = EINVAL;
		return;
	}
	p = e->buf + e->len;
	wr16(p, type);
	wr16(p + 2, (uint16_t)len);
	if (len)
		memcpy(p + ATTR_HDR_LEN, val, len);
	memset(p + ATTR_HDR_LEN + len, 0, pad4(len) - len);
	e->len += ATTR_HDR_LEN + pad4(len);
	wr16(e->buf + 2, (uint16_t)(e->len - TURN_HDR_LEN));
}


/** Append a 32-bit attribute (LIFETIME, PRIORITY, CONNECTION-ID...) */
void turn_enc_u32(struct turn_enc *e, uint16_t type, uint32_t v)
{
	uint8_t b[4];

	wr32(b, v);
	turn_enc_attr(e, type, b, sizeof(b));
}


/** Append a 64-bit attribute (ICE-CONTROLLED/-CONTROLLING...) */
void turn_enc_u64(struct turn_enc *e, uint16_t type, uint64_t v)
{
	uint8_t b[8];

	wr32(b, (uint32_t)(v >> 32));
	wr32(b + 4, (uint32_t)v);
	turn_enc_attr(e, type, b, sizeof(b));
}


/** Append a string attribute without its NUL (USERNAME, REALM...) */
void turn_enc_str(struct turn_enc *e, uint16_t type, const char *s)
{
	if (e && !s && !e->err)
		e->err = EINVAL;
	turn_enc_attr(e, type, s, s ? strlen(s) : 0);
}


static void enc_address(struct turn_enc *e, uint16_t type,
			const struct sw_sa *sa, bool xor)
{
	uint8_t v[20] = {0};
	size_t iplen;
	uint16_t port;

	if (!e || e->err)
		return;
	if (!sa) {
		e->err = EINVAL;
		return;
	}
	if (sa->u.sa.sa_family == AF_INET) {
		v[1] = 0x01;
		iplen = 4;
		port = ntohs(sa->u.in.sin_port);
		memcpy(v + 4, &sa->u.in.sin_addr, 4);
	}
	else if (sa->u.sa.sa_family == AF_INET6) {
		v[1] = 0x02;
		iplen = 16;
		port = ntohs(sa->u.in6.sin6_port);
		memcpy(v + 4, &sa->u.in6.sin6_addr, 16);
	}
	else {
		e->err = EINVAL;
		return;
	}
	if (xor) {
		/* RFC 5389 15.2: cookie, then transaction ID */
		port ^= rd16(e->buf + 4);
		for (size_t i = 0; i < iplen; ++i)
			v[4 + i] ^= e->buf[4 + i];
	}
	wr16(v + 2, port);
	turn_enc_attr(e, type, v, 4 + iplen);
}


/** Append an XOR'd address (RFC 5389 15.2) */
void turn_enc_xaddr(struct turn_enc *e, uint16_t type, const struct sw_sa *sa)
{
	enc_address(e, type, sa, true);
}


/** Append a plain address (RFC 5389 15.1) */
void turn_enc_addr(struct turn_enc *e, uint16_t type, const struct sw_sa *sa)
{
	enc_address(e, type, sa, false);
}


/**
 * Append ERROR-CODE (RFC 5389 15.6); a NULL reason takes the standard
 * phrase. Codes outside 300..699 are EINVAL.
 */
void turn_enc_error(struct turn_enc *e, uint16_t code, const char *reason)
{
	uint8_t v[4 + 763];
	size_t n;

	if (!e || e->err)
		return;
	if (!reason)
		reason = turn_error_phrase(code);
	if (!reason)
		reason = "";
	n = strlen(reason);
	if (code < 300 || code > 699 || n > sizeof(v) - 4) {
		e->err = EINVAL;
		return;
	}
	v[0] = 0;
	v[1] = 0;
	v[2] = (uint8_t)(code / 100);
	v[3] = (uint8_t)(code % 100);
	memcpy(v + 4, reason, n);
	turn_enc_attr(e, TURN_A_ERROR_CODE, v, 4 + n);
}


static void enc_mac(struct turn_enc *e, uint16_t type, const char *digest,
		    size_t dlen, const uint8_t *key, size_t keylen)
{
	uint8_t mac[MI256_MAX];
	int err;

	if (!enc_room(e, dlen))
		return;
	if (!key && keylen) {
		e->err = EINVAL;
		return;
	}
	/* RFC 5389 15.4: hash with the length field already counting MI */
	wr16(e->buf + 2,
	     (uint16_t)(e->len + ATTR_HDR_LEN + dlen - TURN_HDR_LEN));
	err = hmac_msg(digest, key ? key : (const uint8_t *)"", keylen,
		       e->buf, e->len, rd16(e->buf + 2), 0, mac, dlen);
	if (err) {
		wr16(e->buf + 2, (uint16_t)(e->len - TURN_HDR_LEN));
		e->err = err;
		return;
	}
	turn_enc_attr(e, type, mac, dlen);
}


/** Append MESSAGE-INTEGRITY (HMAC-SHA1 over everything so far) */
void turn_enc_integrity(struct turn_enc *e, const uint8_t *key, size_t keylen)
{
	enc_mac(e, TURN_A_MESSAGE_INTEGRITY, "SHA1", MI_LEN, key, keylen);
}


/** Append MESSAGE-INTEGRITY-SHA256 (full 32 bytes, RFC 8489 14.6) */
void turn_enc_integrity_sha256(struct turn_enc *e, const uint8_t *key,
			       size_t keylen)
{
	enc_mac(e, TURN_A_MESSAGE_INTEGRITY_SHA256, "SHA256", MI256_MAX, key,
		keylen);
}


/** Append FINGERPRINT; nothing may be appended after it */
void turn_enc_fingerprint(struct turn_enc *e)
{
	uint8_t v[FP_LEN];

	if (!enc_room(e, FP_LEN))
		return;
	wr16(e->buf + 2,
	     (uint16_t)(e->len + ATTR_HDR_LEN + FP_LEN - TURN_HDR_LEN));
	wr32(v, crc32_calc(e->buf, e->len, false) ^ TURN_FP_XOR);
	turn_enc_attr(e, TURN_A_FINGERPRINT, v, FP_LEN);
	e->sealed = true;
}


/**
 * Finish: the sticky error of every call so far
 *
 * @return 0 with *lenp the message length, or ENOSPC/EINVAL/EPROTO
 */
int turn_enc_finish(struct turn_enc *e, size_t *lenp)
{
	if (!e)
		return EINVAL;
	if (!e->err && lenp)
		*lenp = e->len;
	return e->err;
}
