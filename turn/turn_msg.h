/**
 * @file turn_msg.h  STUN/TURN message codec (pure: libc + OpenSSL crypto).
 *
 * RFC 8489/5389 STUN, RFC 8656/5766 TURN, RFC 6062 TURN-TCP, RFC 8445 ICE,
 * MS-ICE2 and MS-TURN attributes. Decoding never copies: a decoded message
 * points into the caller's buffer, which must outlive it. Unknown
 * attributes are kept as (type, raw bytes) so a message can be shown or
 * re-encoded unchanged; unknown comprehension-required ones are listed so
 * a server can answer 420 with UNKNOWN-ATTRIBUTES.
 *
 * No sockets, no Sofia, no src/ headers but sw_log.h and sw_addr.h.
 */
#ifndef TURN_MSG_H
#define TURN_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sw_addr.h"

#define TURN_MAGIC_COOKIE 0x2112a442u
#define TURN_HDR_LEN 20
#define TURN_TID_LEN 12
#define TURN_MAX_ATTRS 64
#define TURN_MAX_UNKNOWN 16
#define TURN_FP_XOR 0x5354554eu

/* Methods */
enum turn_method {
	TURN_M_BINDING = 0x001,
	TURN_M_ALLOCATE = 0x003,
	TURN_M_REFRESH = 0x004,
	TURN_M_SEND = 0x006,
	TURN_M_DATA = 0x007,
	TURN_M_CREATEPERM = 0x008,
	TURN_M_CHANBIND = 0x009,
	TURN_M_CONNECT = 0x00a,     /* RFC 6062 */
	TURN_M_CONNBIND = 0x00b,    /* RFC 6062 */
	TURN_M_CONNATTEMPT = 0x00c, /* RFC 6062 */
};

/* Classes */
enum turn_class {
	TURN_C_REQUEST = 0,
	TURN_C_INDICATION = 1,
	TURN_C_SUCCESS = 2,
	TURN_C_ERROR = 3,
};

/* Attributes (those the gateway reads or writes; turn_attr_name() knows
 * every MS-TURN 2.2.2 and MS-ICE2 2.2.2 type for display) */
enum turn_attr_type {
	TURN_A_MAPPED_ADDRESS = 0x0001,
	TURN_A_USERNAME = 0x0006,
	TURN_A_MESSAGE_INTEGRITY = 0x0008,
	TURN_A_ERROR_CODE = 0x0009,
	TURN_A_UNKNOWN_ATTRIBUTES = 0x000a,
	TURN_A_CHANNEL_NUMBER = 0x000c,
	TURN_A_LIFETIME = 0x000d,
	TURN_A_XOR_PEER_ADDRESS = 0x0012,
	TURN_A_DATA = 0x0013,
	TURN_A_REALM = 0x0014,
	TURN_A_NONCE = 0x0015,
	TURN_A_XOR_RELAYED_ADDRESS = 0x0016,
	TURN_A_REQUESTED_ADDRESS_FAMILY = 0x0017,
	TURN_A_EVEN_PORT = 0x0018,
	TURN_A_REQUESTED_TRANSPORT = 0x0019,
	TURN_A_DONT_FRAGMENT = 0x001a,
	TURN_A_MESSAGE_INTEGRITY_SHA256 = 0x001c,
	TURN_A_PASSWORD_ALGORITHM = 0x001d,
	TURN_A_USERHASH = 0x001e,
	TURN_A_XOR_MAPPED_ADDRESS = 0x0020,
	TURN_A_RESERVATION_TOKEN = 0x0022,
	TURN_A_PRIORITY = 0x0024,
	TURN_A_USE_CANDIDATE = 0x0025,
	TURN_A_CONNECTION_ID = 0x002a, /* RFC 6062 */
	TURN_A_PASSWORD_ALGORITHMS = 0x8002,
	TURN_A_ALTERNATE_DOMAIN = 0x8003,
	TURN_A_SOFTWARE = 0x8022,
	TURN_A_ALTERNATE_SERVER = 0x8023,
	TURN_A_FINGERPRINT = 0x8028,
	TURN_A_ICE_CONTROLLED = 0x8029,
	TURN_A_ICE_CONTROLLING = 0x802a,
	TURN_A_MS_VERSION = 0x8008,
	TURN_A_MS_XOR_MAPPED_ADDRESS = 0x8020,
	TURN_A_MS_SEQUENCE_NUMBER = 0x8050,
	TURN_A_CANDIDATE_IDENTIFIER = 0x8054, /* MS-ICE2 */
	TURN_A_MS_SERVICE_QUALITY = 0x8055,
	TURN_A_IMPLEMENTATION_VERSION = 0x8070, /* MS-ICE2 */
};

/** One attribute as found in the message: value points into the buffer */
struct turn_attr {
	uint16_t type;
	uint16_t len;       /* value length, without padding */
	size_t off;         /* offset of the 4-byte attribute header */
	const uint8_t *val; /* len bytes */
	bool ignored;       /* follows MESSAGE-INTEGRITY(-SHA256): kept for
			       display only, never returned by
			       turn_msg_attr() (RFC 5389 15.4) */
};

/** A decoded message; points into the buffer given to turn_msg_decode() */
struct turn_msg {
	uint16_t method;
	uint8_t cls;
	uint16_t len; /* header length field (attributes, bytes) */
	uint8_t tid[TURN_TID_LEN];
	bool cookie; /* RFC 5389 magic cookie present */
	const uint8_t *buf;
	size_t buflen; /* TURN_HDR_LEN + len */
	struct turn_attr attrs[TURN_MAX_ATTRS];
	unsigned n_attrs;
	uint16_t unknown_req[TURN_MAX_UNKNOWN]; /* unknown, < 0x8000 */
	unsigned n_unknown_req;
	unsigned n_ignored; /* attributes flagged ignored */
};

/** Where and why decoding stopped */
struct turn_decode_err {
	size_t off;       /* byte offset of the problem in the message */
	char reason[160]; /* "attribute 0x8054 at offset 56: length 4 overruns ..." */
	uint16_t attr;    /* type of the attribute at fault, 0 if the header */
	size_t attr_off;  /* offset of that attribute's header */
};

int turn_msg_decode(struct turn_msg *m, const uint8_t *buf, size_t len,
		    struct turn_decode_err *err);
/* For display of damaged or cut input: like turn_msg_decode() but on
 * EBADMSG *m still holds the header and every attribute before the fault */
int turn_msg_decode_partial(struct turn_msg *m, const uint8_t *buf,
			    size_t len, struct turn_decode_err *err);
bool turn_msg_is_stun(const uint8_t *buf, size_t len);
const struct turn_attr *turn_msg_attr(const struct turn_msg *m, uint16_t type);

/* Typed readers; return 0, ENOENT (absent) or EBADMSG (malformed) */
int turn_msg_get_u32(const struct turn_msg *m, uint16_t type, uint32_t *v);
int turn_msg_get_u64(const struct turn_msg *m, uint16_t type, uint64_t *v);
int turn_msg_get_xaddr(const struct turn_msg *m, uint16_t type,
		       struct sw_sa *sa);
int turn_msg_get_addr(const struct turn_msg *m, uint16_t type,
		      struct sw_sa *sa);
int turn_msg_get_error(const struct turn_msg *m, uint16_t *code,
		       char *reason, size_t sz);
/* The same on one given attribute (any instance, even an ignored one) */
int turn_attr_addr(const struct turn_msg *m, const struct turn_attr *a,
		   bool xor, struct sw_sa *sa);
int turn_attr_error(const struct turn_attr *a, uint16_t *code, char *reason,
		    size_t sz);
/* String attribute (USERNAME, REALM, NONCE, SOFTWARE...): trailing NULs
 * (MS-ICE2 padding) stripped; *nuls says how many were stripped */
int turn_msg_get_str(const struct turn_msg *m, uint16_t type, char *buf,
		     size_t sz, unsigned *nuls);

/* Integrity: 0 ok, ENOENT no such attribute, EBADMSG mismatch */
int turn_msg_check_integrity(const struct turn_msg *m, const uint8_t *key,
			     size_t keylen);
int turn_msg_check_integrity_sha256(const struct turn_msg *m,
				    const uint8_t *key, size_t keylen);
int turn_msg_check_fingerprint(const struct turn_msg *m);
/* MS-ICE2 with IMPLEMENTATION-VERSION < 3 (libnice OC2007R2/MSICE2): the
 * length field covers FINGERPRINT too, the input is zero-padded to 64 */
int turn_msg_check_integrity_msice2(const struct turn_msg *m,
				    const uint8_t *key, size_t keylen);
/* Microsoft's legacy CRC-32 table (entry 0x8bbeb8ea typed 0x8bbe8ea) */
int turn_msg_check_fingerprint_mslegacy(const struct turn_msg *m);
/* Long-term key: MD5(username ":" realm ":" password) (RFC 5389 15.4) */
void turn_key_longterm(uint8_t key[16], const char *user, const char *realm,
		       const char *password);

/** Encoder writing into a caller buffer; errors are sticky (checked once) */
struct turn_enc {
	uint8_t *buf;
	size_t cap;
	size_t len;
	int err;     /* 0 or ENOSPC/EINVAL */
	bool sealed; /* FINGERPRINT written: nothing may follow */
};

void turn_enc_init(struct turn_enc *e, uint8_t *buf, size_t cap,
		   uint16_t method, uint8_t cls, const uint8_t tid[12]);
void turn_enc_attr(struct turn_enc *e, uint16_t type, const void *val,
		   size_t len);
void turn_enc_u32(struct turn_enc *e, uint16_t type, uint32_t v);
void turn_enc_u64(struct turn_enc *e, uint16_t type, uint64_t v);
void turn_enc_str(struct turn_enc *e, uint16_t type, const char *s);
void turn_enc_xaddr(struct turn_enc *e, uint16_t type, const struct sw_sa *sa);
void turn_enc_addr(struct turn_enc *e, uint16_t type, const struct sw_sa *sa);
void turn_enc_error(struct turn_enc *e, uint16_t code, const char *reason);
void turn_enc_integrity(struct turn_enc *e, const uint8_t *key,
			size_t keylen);
void turn_enc_integrity_sha256(struct turn_enc *e, const uint8_t *key,
			       size_t keylen);
void turn_enc_fingerprint(struct turn_enc *e);
int turn_enc_finish(struct turn_enc *e, size_t *lenp);

/* Names for display */
const char *turn_method_name(uint16_t method);
const char *turn_class_name(uint8_t cls);
const char *turn_attr_name(uint16_t type); /* "0x1234" style never: NULL if unknown */
const char *turn_error_phrase(uint16_t code);
/* Same, for a message without the magic cookie (RFC 3489 / MS-TURN): the
 * numbers MS-TURN gives other meanings (0x0012, 0x0014, 0x0015...) */
const char *turn_attr_name_legacy(uint16_t type);

/* --- stream framers (incremental over partial reads) -------------------- */

/**
 * Length of the frame at the start of a TURN-over-TCP stream: a STUN
 * message (20 + length) or ChannelData (4 + length, padded to 4 on TCP).
 * @return 0 (*lenp = whole frame), ENODATA (need more; *lenp = bytes needed
 *         if known, else 0), EBADMSG (cannot start a frame)
 */
int turn_frame_len(const uint8_t *p, size_t avail, size_t *lenp);

/** Same for RFC 4571 framing: 2-byte length + payload */
int rfc4571_frame_len(const uint8_t *p, size_t avail, size_t *lenp);

enum turn_framing {
	TURN_FRAMING_TURN,    /* RFC 5766/6062 control: STUN or ChannelData */
	TURN_FRAMING_RFC4571, /* 2-byte length + payload (ICE-TCP, MS-ICE2) */
};

#define TURN_FRAME_MAX (TURN_HDR_LEN + 65532) /* largest frame of either */

/** Accumulates partial reads into whole frames; owned by one thread */
struct turn_framer {
	enum turn_framing kind;
	size_t len;  /* bytes held in buf */
	size_t need; /* length of the frame being assembled, 0 if unknown */
	bool done;   /* buf held a whole frame, handed out by the last push */
	uint8_t buf[TURN_FRAME_MAX];
};

void turn_framer_init(struct turn_framer *f, enum turn_framing kind);
int turn_framer_push(struct turn_framer *f, const uint8_t *p, size_t n,
		     size_t *used, const uint8_t **frame, size_t *framelen);

#endif
