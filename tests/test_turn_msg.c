/**
 * @file test_turn_msg.c  STUN/TURN codec: RFC 5769 vectors, RFC 6062 and
 * MS-ICE2 round trips, malformed input with offsets, framers, and a cross
 * check against libre's independent decoder.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <openssl/evp.h>

#include <re.h>

#include "unit.h"
#include "turn_msg.h"

/* clang-format off */

/* RFC 5769 2.1: request, short-term MI ("VOkJxbRl1RmTxUk/WvJxBt") + FP */
static const uint8_t rfc5769_req[] = {
	0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42,
	0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
	0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10,
	0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73,
	0x74, 0x20, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74,
	0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff,
	0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1,
	0x51, 0x26, 0x3b, 0x36, 0x00, 0x06, 0x00, 0x09,
	0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76,
	0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14,
	0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56,
	0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49,
	0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28, 0x00, 0x04,
	0xe5, 0x7a, 0x3b, 0xcf,
};

/* RFC 5769 2.2: IPv4 response, 192.0.2.1:32853 */
static const uint8_t rfc5769_resp4[] = {
	0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42,
	0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
	0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b,
	0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
	0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x08,
	0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
	0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99,
	0xfd, 0x9e, 0x90, 0xc3, 0x8c, 0x74, 0x89, 0xf9,
	0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7,
	0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96,
};

/* RFC 5769 2.3: IPv6 response, [2001:db8:1234:5678:11:2233:4455:6677]:32853 */
static const uint8_t rfc5769_resp6[] = {
	0x01, 0x01, 0x00, 0x48, 0x21, 0x12, 0xa4, 0x42,
	0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
	0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b,
	0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
	0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x14,
	0x00, 0x02, 0xa1, 0x47, 0x01, 0x13, 0xa9, 0xfa,
	0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5,
	0xbe, 0xd2, 0xb9, 0xd9, 0x00, 0x08, 0x00, 0x14,
	0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6, 0x7b, 0xf1,
	0x17, 0x84, 0xc9, 0x7c, 0x82, 0x92, 0xc2, 0x75,
	0xbf, 0xe3, 0xed, 0x41, 0x80, 0x28, 0x00, 0x04,
	0xc8, 0xfb, 0x0b, 0x4c,
};

/* RFC 5769 2.4: long-term request; USERNAME U+30DE U+30C8 U+30EA U+30C3
 * U+30AF U+30B9, REALM "example.org", password "TheMatrIX" (SASLprep'd) */
static const uint8_t rfc5769_lt[] = {
	0x00, 0x01, 0x00, 0x60, 0x21, 0x12, 0xa4, 0x42,
	0x78, 0xad, 0x34, 0x33, 0xc6, 0xad, 0x72, 0xc0,
	0x29, 0xda, 0x41, 0x2e, 0x00, 0x06, 0x00, 0x12,
	0xe3, 0x83, 0x9e, 0xe3, 0x83, 0x88, 0xe3, 0x83,
	0xaa, 0xe3, 0x83, 0x83, 0xe3, 0x82, 0xaf, 0xe3,
	0x82, 0xb9, 0x00, 0x00, 0x00, 0x15, 0x00, 0x1c,
	0x66, 0x2f, 0x2f, 0x34, 0x39, 0x39, 0x6b, 0x39,
	0x35, 0x34, 0x64, 0x36, 0x4f, 0x4c, 0x33, 0x34,
	0x6f, 0x4c, 0x39, 0x46, 0x53, 0x54, 0x76, 0x79,
	0x36, 0x34, 0x73, 0x41, 0x00, 0x14, 0x00, 0x0b,
	0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e,
	0x6f, 0x72, 0x67, 0x00, 0x00, 0x08, 0x00, 0x14,
	0xf6, 0x70, 0x24, 0x65, 0x6d, 0xd6, 0x4a, 0x3e,
	0x02, 0xb8, 0xe0, 0x71, 0x2e, 0x85, 0xc9, 0xa2,
	0x8c, 0xa8, 0x96, 0x66,
};

/* The TCP payload of the shared seed's hex dump (frame bytes 0x36..),
 * as transcribed: RFC 4571 length 0x6c then a Binding request whose
 * ICE-CONTROLLED length reads 0 and whose tail lost a byte */
static const uint8_t seed_payload[] = {
	0x00, 0x6c, 0x00, 0x01, 0x00, 0x58, 0x21, 0x12,
	0xa4, 0x42, 0xa7, 0xd4, 0x2d, 0x51, 0x9e, 0x4d,
	0x78, 0xc5, 0x93, 0x81, 0x95, 0x21, 0x00, 0x25,
	0x00, 0x00, 0x00, 0x24, 0x00, 0x04, 0x6e, 0xff,
	0xff, 0xff, 0x80, 0x29, 0x00, 0x00, 0x08, 0xb2,
	0x67, 0x4a, 0x8b, 0xee, 0xcd, 0x68, 0x00, 0x06,
	0x00, 0x0c, 0x6c, 0x30, 0x4d, 0x52, 0x3a, 0x41,
	0x6f, 0x56, 0x79, 0x00, 0x00, 0x00, 0x54, 0x00,
	0x04, 0x33, 0x00, 0x00, 0x00, 0x88, 0x70, 0x00,
	0x04, 0x00, 0x00, 0x00, 0x02, 0x00, 0x08, 0x00,
	0x14, 0x1d, 0xa4, 0x84, 0x25, 0x29, 0x57, 0x5b,
	0x38, 0xe0, 0x6b, 0x72, 0xef, 0x45, 0x8c, 0x3e,
	0x17, 0x2b, 0x65, 0xc7, 0x6c, 0x80, 0x28, 0x00,
	0x04, 0xff, 0x2f, 0xa7, 0x18,
};

/* clang-format on */

static const char rfc5769_pwd[] = "VOkJxbRl1RmTxUk/WvJxBt";
static const char lt_user[] = "\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa"
			      "\xe3\x83\x83\xe3\x82\xaf\xe3\x82\xb9";
static const uint8_t tid0[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
static const char ice_pwd[] = "xS4HBhPkD3O4zxy9PjZ7LRj5";


static void addr_set(struct sw_sa *sa, const char *ip, uint16_t port)
{
	memset(sa, 0, sizeof(*sa));
	if (strchr(ip, ':')) {
		sa->u.in6.sin6_family = AF_INET6;
		sa->u.in6.sin6_port = htons(port);
		CU_ASSERT_FATAL(inet_pton(AF_INET6, ip,
					  &sa->u.in6.sin6_addr) == 1);
	}
	else {
		sa->u.in.sin_family = AF_INET;
		sa->u.in.sin_port = htons(port);
		CU_ASSERT_FATAL(inet_pton(AF_INET, ip, &sa->u.in.sin_addr) ==
				1);
	}
}


static bool addr_is(const struct sw_sa *sa, const char *ip, uint16_t port)
{
	struct sw_sa want;

	addr_set(&want, ip, port);
	if (sa->u.sa.sa_family != want.u.sa.sa_family)
		return false;
	if (sa->u.sa.sa_family == AF_INET)
		return sa->u.in.sin_port == want.u.in.sin_port &&
		       !memcmp(&sa->u.in.sin_addr, &want.u.in.sin_addr, 4);
	return sa->u.in6.sin6_port == want.u.in6.sin6_port &&
	       !memcmp(&sa->u.in6.sin6_addr, &want.u.in6.sin6_addr, 16);
}

/* --- RFC 5769 ------------------------------------------------------------ */

UNIT_TEST(test_rfc5769_request, "RFC 5769 2.1 request")
{
	const uint8_t *key = (const uint8_t *)rfc5769_pwd;
	struct turn_decode_err err;
	struct turn_msg m;
	char s[64];
	unsigned nuls = 9;
	uint32_t prio;
	uint64_t tb;

	CU_ASSERT_EQUAL_FATAL(turn_msg_decode(&m, rfc5769_req,
					      sizeof(rfc5769_req), &err),
			      0);
	CU_ASSERT_EQUAL(m.method, TURN_M_BINDING);
	CU_ASSERT_EQUAL(m.cls, TURN_C_REQUEST);
	CU_ASSERT_EQUAL(m.len, 0x58);
	CU_ASSERT(m.cookie);
	CU_ASSERT_EQUAL(m.buflen, sizeof(rfc5769_req));
	CU_ASSERT_EQUAL(memcmp(m.tid, rfc5769_req + 8, 12), 0);
	CU_ASSERT_EQUAL(m.n_attrs, 6);
	CU_ASSERT_EQUAL(m.n_unknown_req, 0);
	CU_ASSERT(turn_msg_is_stun(rfc5769_req, sizeof(rfc5769_req)));

	CU_ASSERT_EQUAL(turn_msg_get_str(&m, TURN_A_SOFTWARE, s, sizeof(s),
					 NULL),
			0);
	CU_ASSERT_STRING_EQUAL(s, "STUN test client");
	/* 2.1 pads USERNAME with spaces, which are not stripped */
	CU_ASSERT_EQUAL(turn_msg_get_str(&m, TURN_A_USERNAME, s, sizeof(s),
					 &nuls),
			0);
	CU_ASSERT_STRING_EQUAL(s, "evtj:h6vY");
	CU_ASSERT_EQUAL(nuls, 0);
	CU_ASSERT_EQUAL(turn_msg_get_u32(&m, TURN_A_PRIORITY, &prio), 0);
	CU_ASSERT_EQUAL(prio, 0x6e0001ff);
	CU_ASSERT_EQUAL(turn_msg_get_u64(&m, TURN_A_ICE_CONTROLLED, &tb), 0);
	CU_ASSERT_EQUAL(tb, 0x932ff9b151263b36ull);
	CU_ASSERT_EQUAL(turn_msg_get_u64(&m, TURN_A_ICE_CONTROLLING, &tb),
			ENOENT);

	CU_ASSERT_EQUAL(turn_msg_check_integrity(&m, key, strlen(rfc5769_pwd)),
			0);
	CU_ASSERT_EQUAL(turn_msg_check_integrity(&m, key,
						 strlen(rfc5769_pwd) - 1),
			EBADMSG);
	CU_ASSERT_EQUAL(turn_msg_check_integrity_sha256(&m, key, 4), ENOENT);
	CU_ASSERT_EQUAL(turn_msg_check_fingerprint(&m), 0);
}


static void check_resp(const uint8_t *msg, size_t len, const char *ip)
{
	const uint8_t *key = (const uint8_t *)rfc5769_pwd;
	struct turn_msg m;
	struct sw_sa sa;
	char s[32];

	CU_ASSERT_EQUAL_FATAL(turn_msg_decode(&m, msg, len, NULL), 0);
	CU_ASSERT_EQUAL(m.method, TURN_M_BINDING);
	CU_ASSERT_EQUAL(m.cls, TURN_C_SUCCESS);
	CU_ASSERT_EQUAL(turn_msg_get_xaddr(&m, TURN_A_XOR_MAPPED_ADDRESS, &sa),
			0);
	CU_ASSERT(addr_is(&sa, ip, 32853));
	/* per attribute: the same, and the raw (un-XOR'd) value differs */
	CU_ASSERT_EQUAL(m.attrs[1].type, TURN_A_XOR_MAPPED_ADDRESS);
	CU_ASSERT_EQUAL(turn_attr_addr(&m, &m.attrs[1], true, &sa), 0);
	CU_ASSERT(addr_is(&sa, ip, 32853));
	CU_ASSERT_EQUAL(turn_attr_addr(&m, &m.attrs[1], false, &sa), 0);
	CU_ASSERT_FALSE(addr_is(&sa, ip, 32853));
	CU_ASSERT_EQUAL(turn_attr_addr(&m, &m.attrs[0], true, &sa), EBADMSG);
	CU_ASSERT_EQUAL(turn_msg_get_str(&m, TURN_A_SOFTWARE, s, sizeof(s),
					 NULL),
			0);
	CU_ASSERT_STRING_EQUAL(s, "test vector");
	CU_ASSERT_EQUAL(turn_msg_check_integrity(&m, key, strlen(rfc5769_pwd)),
			0);
	CU_ASSERT_EQUAL(turn_msg_check_fingerprint(&m), 0);
}


/* The encoder must give the vector's XOR-MAPPED-ADDRESS bytes */
static void check_xaddr_bytes(const uint8_t *vec, size_t off, size_t n,
			      const char *ip)
{
	uint8_t buf[64];
	struct turn_enc e;
	struct sw_sa sa;
	size_t len = 0;

	addr_set(&sa, ip, 32853);
	turn_enc_init(&e, buf, sizeof(buf), TURN_M_BINDING, TURN_C_SUCCESS,
		      vec + 8);
	turn_enc_xaddr(&e, TURN_A_XOR_MAPPED_ADDRESS, &sa);
	CU_ASSERT_EQUAL_FATAL(turn_enc_finish(&e, &len), 0);
	CU_ASSERT_EQUAL_FATAL(len, 20 + n);
	CU_ASSERT_EQUAL(memcmp(buf + 20, vec + off, n), 0);
}


UNIT_TEST(test_rfc5769_responses, "RFC 5769 2.2/2.3 responses")
{
	check_resp(rfc5769_resp4, sizeof(rfc5769_resp4), "192.0.2.1");
	check_resp(rfc5769_resp6, sizeof(rfc5769_resp6),
		   "2001:db8:1234:5678:11:2233:4455:6677");
	check_xaddr_bytes(rfc5769_resp4, 36, 12, "192.0.2.1");
	check_xaddr_bytes(rfc5769_resp6, 36, 24,
			  "2001:db8:1234:5678:11:2233:4455:6677");
}


UNIT_TEST(test_rfc5769_longterm, "RFC 5769 2.4 long-term")
{
	static const char nonce[] = "f//499k954d6OL34oL9FSTvy64sA";
	uint8_t key[16], buf[256];
	struct turn_enc e;
	struct turn_msg m;
	char s[64];
	size_t len = 0;

	turn_key_longterm(key, lt_user, "example.org", "TheMatrIX");
	CU_ASSERT_EQUAL_FATAL(turn_msg_decode(&m, rfc5769_lt,
					      sizeof(rfc5769_lt), NULL),
			      0);
	CU_ASSERT_EQUAL(turn_msg_get_str(&m, TURN_A_USERNAME, s, sizeof(s),
					 NULL),
			0);
	CU_ASSERT_STRING_EQUAL(s, lt_user);
	CU_ASSERT_EQUAL(turn_msg_get_str(&m, TURN_A_REALM, s, sizeof(s),
					 NULL),
			0);
	CU_ASSERT_STRING_EQUAL(s, "example.org");
	CU_ASSERT_EQUAL(turn_msg_check_integrity(&m, key, sizeof(key)), 0);
	CU_ASSERT_EQUAL(turn_msg_check_fingerprint(&m), ENOENT);

	/* the encoder reproduces the vector byte for byte (NUL padding) */
	turn_enc_init(&e, buf, sizeof(buf), TURN_M_BINDING, TURN_C_REQUEST,
		      rfc5769_lt + 8);
	turn_enc_str(&e, TURN_A_USERNAME, lt_user);
	turn_enc_str(&e, TURN_A_NONCE, nonce);
	turn_enc_str(&e, TURN_A_REALM, "example.org");
	turn_enc_integrity(&e, key, sizeof(key));
	CU_ASSERT_EQUAL_FATAL(turn_enc_finish(&e, &len), 0);
	CU_ASSERT_EQUAL_FATAL(len, sizeof(rfc5769_lt));
	CU_ASSERT_EQUAL(memcmp(buf, rfc5769_lt, len), 0);
}


/* Decoded attributes re-encoded raw give the same bytes */
UNIT_TEST(test_raw_reencode, "raw re-encode")
{
	uint8_t buf[256];
	struct turn_enc e;
	struct turn_msg m;
	size_t len = 0;

	CU_ASSERT_EQUAL_FATAL(turn_msg_decode(&m, rfc5769_lt,
					      sizeof(rfc5769_lt), NULL),
			      0);
	turn_enc_init(&e, buf, sizeof(buf), m.method, m.cls, m.tid);
	for (unsigned i = 0; i < m.n_attrs; ++i)
		turn_enc_attr(&e, m.attrs[i].type, m.attrs[i].val,
			      m.attrs[i].len);
	CU_ASSERT_EQUAL_FATAL(turn_enc_finish(&e, &len), 0);
	CU_ASSERT_EQUAL(len, sizeof(rfc5769_lt));
	CU_ASSERT_EQUAL(memcmp(buf, rfc5769_lt, len), 0);
}

/* --- RFC 6062 round trips --------------------------------------------------- */

static struct sw_sa peer6062;
static uint8_t key6062[16];


static void rfc6062_setup(void)
{
	addr_set(&peer6062, "192.168.1.252", 53577);
	turn_key_longterm(key6062, "turn", "TANDBERG", "secret");
}


/* Connect request with XOR-PEER-ADDRESS (RFC 6062 4.3), and its success
 * with CONNECTION-ID, understood (not in unknown_req) */
UNIT_TEST(test_rfc6062_connect, "RFC 6062 Connect")
{
	uint8_t buf[512];
	struct turn_enc e;
	struct turn_msg m;
	struct sw_sa got;
	uint32_t cid = 0;
	size_t len = 0;

	rfc6062_setup();
	turn_enc_init(&e, buf, sizeof(buf), TURN_M_CONNECT, TURN_C_REQUEST,
		      tid0);
	turn_enc_xaddr(&e, TURN_A_XOR_PEER_ADDRESS, &peer6062);
	turn_enc_str(&e, TURN_A_USERNAME, "turn");
	turn_enc_str(&e, TURN_A_REALM, "TANDBERG");
	turn_enc_str(&e, TURN_A_NONCE, "abcd1234");
	turn_enc_integrity(&e, key6062, sizeof(key6062));
	turn_enc_fingerprint(&e);
	CU_ASSERT_EQUAL_FATAL(turn_enc_finish(&e, &len), 0);
	CU_ASSERT_EQUAL_FATAL(turn_msg_decode(&m, buf, len, NULL), 0);
	CU_ASSERT_EQUAL(buf[0] << 8 | buf[1], 0x000a);
	CU_ASSERT_EQUAL(m.method, TURN_M_CONNECT);
	CU_ASSERT_EQUAL(m.cls, TURN_C_REQUEST);
	CU_ASSERT_EQUAL(turn_msg_get_xaddr(&m, TURN_A_XOR_PEER_ADDRESS, &got),
			0);
	CU_ASSERT(addr_is(&got, "192.168.1.252", 53577));
	CU_ASSERT_EQUAL(turn_msg_check_integrity(&m, key6062,
						 sizeof(key6062)),
			0);
	CU_ASSERT_EQUAL(turn_msg_check_fingerprint(&m), 0);

	turn_enc_init(&e, buf, sizeof(buf), TURN_M_CONNECT, TURN_C_SUCCESS,
		      tid0);
	turn_enc_u32(&e, TURN_A_CONNECTION_ID, 0x01000007);
	turn_enc_integrity(&e, key6062, sizeof(key6062));
	CU_ASSERT_EQUAL_FATAL(turn_enc_finish(&e, &len), 0);
	CU_ASSERT_EQUAL_FATAL(turn_msg_decode(&m, buf, len, NULL), 0);
	CU_ASSERT_EQUAL(buf[0] << 8 | buf[1], 0x010a);
	CU_ASSERT_EQUAL(m.cls, TURN_C_SUCCESS);
	CU_ASSERT_EQUAL(m.n_unknown_req, 0);
	CU_ASSERT_EQUAL(turn_msg_get_u32(&m, TURN_A_CONNECTION_ID, &cid), 0);
	CU_ASSERT_EQUAL(cid, 0x01000007);
}


/* ConnectionBind request on the data connection; ConnectionAttempt
 * indication 0x001c with CONNECTION-ID and XOR-PEER-ADDRESS */
UNIT_TEST(test_rfc6062_bind_attempt, "RFC 6062 ConnectionBind/Attempt")
{
	uint8_t buf[512];
	struct turn_enc e;
	struct turn_msg m;
	struct sw_sa got;
	uint32_t cid = 0;
	size_t len = 0;

	rfc6062_setup();
	turn_enc_init(&e, buf, sizeof(buf), TURN_M_CONNBIND, TURN_C_REQUEST,
		      tid0);
	turn_enc_u32(&e, TURN_A_CONNECTION_ID, 0x01000007);
	turn_enc_str(&e, TURN_A_USERNAME, "turn");
	turn_enc_integrity(&e, key6062, sizeof(key6062));
	CU_ASSERT_EQUAL_FATAL(turn_enc_finish(&e, &len), 0);
	CU_ASSERT_EQUAL_FATAL(turn_msg_decode(&m, buf, len, NULL), 0);
	CU_ASSERT_EQUAL(buf[0] << 8 | buf[1], 0x000b);
	CU_ASSERT_EQUAL(m.method, TURN_M_CONNBIND);
	CU_ASSERT_EQUAL(turn_msg_check_integrity(&m, key6062,
						 sizeof(key6062)),
			0);

	turn_enc_init(&e, buf, sizeof(buf), TURN_M_CONNATTEMPT,
		      TURN_C_INDICATION, tid0);
	turn_enc_u32(&e, TURN_A_CONNECTION_ID, 0x02000001);
	turn_enc_xaddr(&e, TURN_A_XOR_PEER_ADDRESS, &peer6062);
	CU_ASSERT_EQUAL_FATAL(turn_enc_finish(&e, &len), 0);
	CU_ASSERT_EQUAL_FATAL(turn_msg_decode(&m, buf, len, NULL), 0);
	CU_ASSERT_EQUAL(buf[0] << 8 | buf[1], 0x001c);
	CU_ASSERT_EQUAL(m.method, TURN_M_CONNATTEMPT);
	CU_ASSERT_EQUAL(m.cls, TURN_C_INDICATION);
	CU_ASSERT_EQUAL(turn_msg_get_u32(&m, TURN_A_CONNECTION_ID, &cid), 0);
	CU_ASSERT_EQUAL(cid, 0x02000001);
	CU_ASSERT_EQUAL(turn_msg_get_xaddr(&m, TURN_A_XOR_PEER_ADDRESS, &got),
			0);
	CU_ASSERT(addr_is(&got, "192.168.1.252", 53577));
}


/* 446 and 447 error responses to Connect (RFC 6062 6.3) */
UNIT_TEST(test_rfc6062_errors, "RFC 6062 446/447")
{
	uint8_t buf[128];
	struct turn_enc e;
	struct turn_msg m;
	uint16_t code = 0;
	char reason[64];
	size_t len = 0;

	for (uint16_t c = 446; c <= 447; ++c) {
		turn_enc_init(&e, buf, sizeof(buf), TURN_M_CONNECT,
			      TURN_C_ERROR, tid0);
		turn_enc_error(&e, c, NULL);
		CU_ASSERT_EQUAL_FATAL(turn_enc_finish(&e, &len), 0);
		CU_ASSERT_EQUAL_FATAL(turn_msg_decode(&m, buf, len, NULL), 0);
		CU_ASSERT_EQUAL(buf[0] << 8 | buf[1], 0x011a);
		CU_ASSERT_EQUAL(turn_msg_get_error(&m, &code, reason,
						   sizeof(reason)),
				0);
		CU_ASSERT_EQUAL(code, c);
		CU_ASSERT_STRING_EQUAL(reason, turn_error_phrase(c));
	}
	CU_ASSERT_STRING_EQUAL(turn_error_phrase(446),
			       "Connection Already Exists");
	CU_ASSERT_STRING_EQUAL(turn_error_phrase(447),
			       "Connection Timeout or Failure");
}

/* --- MS-ICE2 -------------------------------------------------------------- */

/* The nominating Binding request of Cisco doc 212580 (libnice's layout) */
static size_t build_msice2(uint8_t *buf, size_t cap, const char *pwd)
{
	struct turn_enc e;
	size_t len = 0;

	turn_enc_init(&e, buf, cap, TURN_M_BINDING, TURN_C_REQUEST, tid0);
	turn_enc_attr(&e, TURN_A_USE_CANDIDATE, NULL, 0);
	turn_enc_u32(&e, TURN_A_PRIORITY, 0x6e6403ff);
	turn_enc_u64(&e, TURN_A_ICE_CONTROLLING, 0xe23e43f20e158973ull);
	turn_enc_attr(&e, TURN_A_USERNAME, "EBoK:ewyh\0\0\0", 12);
	turn_enc_attr(&e, TURN_A_CANDIDATE_IDENTIFIER, "2\0\0\0", 4);
	turn_enc_u32(&e, TURN_A_IMPLEMENTATION_VERSION, 2);
	turn_enc_integrity(&e, (const uint8_t *)pwd, strlen(pwd));
	turn_enc_fingerprint(&e);
	CU_ASSERT_EQUAL(turn_enc_finish(&e, &len), 0);
	return len;
}


UNIT_TEST(test_msice2_request, "MS-ICE2 Binding request")
{
	uint8_t buf[256];
	struct turn_msg m;
	char s[32];
	unsigned nuls = 0;
	uint32_t v = 0;
	size_t len = build_msice2(buf, sizeof(buf), ice_pwd);

	CU_ASSERT_EQUAL_FATAL(len, 20 + 0x58);
	CU_ASSERT_EQUAL(buf[2] << 8 | buf[3], 0x58);
	CU_ASSERT_EQUAL_FATAL(turn_msg_decode(&m, buf, len, NULL), 0);
	CU_ASSERT_EQUAL(m.n_attrs, 8);
	CU_ASSERT_PTR_NOT_NULL(turn_msg_attr(&m, TURN_A_USE_CANDIDATE));
	CU_ASSERT_EQUAL(turn_msg_get_str(&m, TURN_A_USERNAME, s, sizeof(s),
					 &nuls),
			0);
	CU_ASSERT_STRING_EQUAL(s, "EBoK:ewyh");
	CU_ASSERT_EQUAL(nuls, 3);
	CU_ASSERT_EQUAL(turn_msg_attr(&m, TURN_A_USERNAME)->len, 12);
	CU_ASSERT_EQUAL(turn_msg_get_str(&m, TURN_A_CANDIDATE_IDENTIFIER, s,
					 sizeof(s), &nuls),
			0);
	CU_ASSERT_STRING_EQUAL(s, "2");
	CU_ASSERT_EQUAL(nuls, 3);
	CU_ASSERT_EQUAL(turn_msg_get_u32(&m, TURN_A_IMPLEMENTATION_VERSION,
					 &v),
			0);
	CU_ASSERT_EQUAL(v, 2);
	CU_ASSERT_EQUAL(turn_msg_check_integrity(
				&m, (const uint8_t *)ice_pwd, strlen(ice_pwd)),
			0);
	CU_ASSERT_EQUAL(turn_msg_check_integrity(&m, (const uint8_t *)"x", 1),
			EBADMSG);
	CU_ASSERT_EQUAL(turn_msg_check_fingerprint(&m), 0);
	/* ERANGE when the caller's buffer is too small */
	CU_ASSERT_EQUAL(turn_msg_get_str(&m, TURN_A_USERNAME, s, 9, NULL),
			ERANGE);
}


/* HMAC-SHA1 computed here, independently, the MS-ICE2 legacy way:
 * length field = whole message, input zero-padded to 64 (libnice) */
UNIT_TEST(test_msice2_legacy_integrity, "MS-ICE2 legacy MI")
{
	uint8_t buf[256], in[192] = {0}, mac[20];
	const uint8_t *key = (const uint8_t *)ice_pwd;
	struct turn_msg m;
	size_t len = build_msice2(buf, sizeof(buf), ice_pwd);
	size_t mi = len - 8 - 24, outl = 0;
	size_t n = (mi + 63) / 64 * 64;

	memcpy(in, buf, mi); /* length field stays 0x58: includes FP */
	CU_ASSERT_FATAL(EVP_Q_mac(NULL, "HMAC", NULL, "SHA1", NULL, key,
				  strlen(ice_pwd), in, n, mac, sizeof(mac),
				  &outl) != NULL);
	memcpy(buf + mi + 4, mac, 20);

	CU_ASSERT_EQUAL_FATAL(turn_msg_decode(&m, buf, len, NULL), 0);
	CU_ASSERT_EQUAL(turn_msg_check_integrity_msice2(&m, key,
							strlen(ice_pwd)),
			0);
	CU_ASSERT_EQUAL(turn_msg_check_integrity(&m, key, strlen(ice_pwd)),
			EBADMSG);
	/* FINGERPRINT now covers a different MI: bad until recomputed */
	CU_ASSERT_EQUAL(turn_msg_check_fingerprint(&m), EBADMSG);
}


/* A message whose CRC hits table entry 0x8bbeb8ea: Microsoft's table
 * gives a different fingerprint, and only that check accepts it */
UNIT_TEST(test_fingerprint_mslegacy, "MS legacy CRC table")
{
	uint8_t buf[64];
	struct turn_enc e;
	struct turn_msg m;
	size_t len = 0;
	bool seen = false;

	for (uint32_t i = 0; i < 4096 && !seen; ++i) {
		turn_enc_init(&e, buf, sizeof(buf), TURN_M_BINDING,
			      TURN_C_INDICATION, tid0);
		turn_enc_u32(&e, 0x8fff, i);
		turn_enc_fingerprint(&e);
		CU_ASSERT_EQUAL_FATAL(turn_enc_finish(&e, &len), 0);
		CU_ASSERT_EQUAL_FATAL(turn_msg_decode(&m, buf, len, NULL), 0);
		CU_ASSERT_EQUAL_FATAL(turn_msg_check_fingerprint(&m), 0);
		seen = turn_msg_check_fingerprint_mslegacy(&m) == EBADMSG;
	}
	CU_ASSERT_FATAL(seen);
}

/* --- libre cross-check --------------------------------------------------- */

UNIT_TEST(test_libre_decodes_ours, "libre decodes ours")
{
	uint8_t buf[256];
	size_t len = build_msice2(buf, sizeof(buf), ice_pwd);
	struct stun_msg *msg = NULL;
	struct stun_attr *a;
	struct mbuf *mb = mbuf_alloc(len); /* heap: libre refs it */

	CU_ASSERT_FATAL(mb != NULL);
	CU_ASSERT_EQUAL_FATAL(mbuf_write_mem(mb, buf, len), 0);
	mb->pos = 0;
	CU_ASSERT_EQUAL_FATAL(stun_msg_decode(&msg, mb, NULL), 0);
	CU_ASSERT_EQUAL(stun_msg_method(msg), STUN_METHOD_BINDING);
	CU_ASSERT_EQUAL(stun_msg_class(msg), STUN_CLASS_REQUEST);
	CU_ASSERT_EQUAL(memcmp(stun_msg_tid(msg), tid0, 12), 0);
	a = stun_msg_attr(msg, STUN_ATTR_PRIORITY);
	CU_ASSERT(a && a->v.priority == 0x6e6403ff);
	a = stun_msg_attr(msg, STUN_ATTR_CONTROLLING);
	CU_ASSERT(a && a->v.controlling == 0xe23e43f20e158973ull);
	CU_ASSERT_PTR_NOT_NULL(stun_msg_attr(msg, STUN_ATTR_USE_CAND));
	CU_ASSERT_EQUAL(stun_msg_chk_mi(msg, (const uint8_t *)ice_pwd,
					strlen(ice_pwd)),
			0);
	CU_ASSERT_NOT_EQUAL(stun_msg_chk_mi(msg, (const uint8_t *)"x", 1), 0);
	CU_ASSERT_EQUAL(stun_msg_chk_fingerprint(msg), 0);
	mem_deref(msg);
	mem_deref(mb);
}


UNIT_TEST(test_ours_decodes_libre, "ours decodes libre")
{
	static const char user[] = "EBoK:ewyh";
	uint32_t prio = 0x7e7f00ff, got = 0;
	uint64_t tb = 0x0123456789abcdefull, gtb = 0;
	struct mbuf *mb = mbuf_alloc(256);
	struct turn_msg m;
	char s[32];

	CU_ASSERT_FATAL(mb != NULL);
	CU_ASSERT_EQUAL_FATAL(
		stun_msg_encode(mb, STUN_METHOD_BINDING, STUN_CLASS_REQUEST,
				tid0, NULL, (const uint8_t *)ice_pwd,
				strlen(ice_pwd), true, 0x00, 3,
				STUN_ATTR_USERNAME, user, STUN_ATTR_PRIORITY,
				&prio, STUN_ATTR_CONTROLLED, &tb),
		0);
	CU_ASSERT_EQUAL_FATAL(turn_msg_decode(&m, mb->buf, mb->end, NULL), 0);
	CU_ASSERT_EQUAL(m.method, TURN_M_BINDING);
	CU_ASSERT_EQUAL(turn_msg_get_str(&m, TURN_A_USERNAME, s, sizeof(s),
					 NULL),
			0);
	CU_ASSERT_STRING_EQUAL(s, user);
	CU_ASSERT_EQUAL(turn_msg_get_u32(&m, TURN_A_PRIORITY, &got), 0);
	CU_ASSERT_EQUAL(got, prio);
	CU_ASSERT_EQUAL(turn_msg_get_u64(&m, TURN_A_ICE_CONTROLLED, &gtb), 0);
	CU_ASSERT_EQUAL(gtb, tb);
	CU_ASSERT_EQUAL(turn_msg_check_integrity(&m, (const uint8_t *)ice_pwd,
						 strlen(ice_pwd)),
			0);
	CU_ASSERT_EQUAL(turn_msg_check_fingerprint(&m), 0);
	mem_deref(mb);
}

/* --- malformed input ------------------------------------------------------- */

static int decode_copy(const uint8_t *src, size_t len, struct turn_msg *m,
		       struct turn_decode_err *err)
{
	/* exact-size heap copy so ASan sees any over-read */
	uint8_t *p = malloc(len ? len : 1);
	int e;

	CU_ASSERT_FATAL(p != NULL);
	memcpy(p, src, len);
	e = turn_msg_decode(m, p, len, err);
	free(p);
	return e;
}


UNIT_TEST(test_reject_header, "header rejects")
{
	uint8_t b[sizeof(rfc5769_req)];
	struct turn_decode_err err;
	struct turn_msg m;

	/* every truncation of a valid message fails */
	for (size_t n = 0; n < sizeof(rfc5769_req); ++n)
		CU_ASSERT_EQUAL(decode_copy(rfc5769_req, n, &m, &err),
				EBADMSG);
	CU_ASSERT_EQUAL(decode_copy(rfc5769_req, 19, &m, &err), EBADMSG);
	CU_ASSERT_EQUAL(err.off, 19);
	CU_ASSERT_EQUAL(decode_copy(rfc5769_req, 60, &m, &err), EBADMSG);
	CU_ASSERT_EQUAL(err.off, 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.reason, "only 40 follow"));

	memcpy(b, rfc5769_req, sizeof(b));
	b[0] = 0x80; /* not STUN */
	CU_ASSERT_EQUAL(decode_copy(b, sizeof(b), &m, &err), EBADMSG);
	CU_ASSERT_EQUAL(err.off, 0);
	CU_ASSERT_FALSE(turn_msg_is_stun(b, sizeof(b)));

	memcpy(b, rfc5769_req, sizeof(b));
	b[3] = 0x57; /* length not a multiple of 4 */
	CU_ASSERT_EQUAL(decode_copy(b, sizeof(b), &m, &err), EBADMSG);
	CU_ASSERT_EQUAL(err.off, 2);

	/* no magic cookie: still decodable (RFC 3489, MS-TURN) */
	memcpy(b, rfc5769_req, sizeof(b));
	b[4] = 0x00;
	CU_ASSERT_EQUAL(decode_copy(b, sizeof(b), &m, &err), 0);
	CU_ASSERT_FALSE(m.cookie);
	CU_ASSERT_FALSE(turn_msg_is_stun(b, sizeof(b)));

	/* the header alone: its length field promises 88 more bytes */
	CU_ASSERT_EQUAL(turn_msg_decode(&m, rfc5769_req, 20, NULL), EBADMSG);
}


UNIT_TEST(test_reject_attrs, "attribute rejects")
{
	uint8_t b[sizeof(rfc5769_req)];
	struct turn_decode_err err;
	struct turn_msg m;

	/* SOFTWARE at 20: length 0x0040 runs past the end */
	memcpy(b, rfc5769_req, sizeof(b));
	b[23] = 0x60;
	CU_ASSERT_EQUAL(decode_copy(b, sizeof(b), &m, &err), EBADMSG);
	CU_ASSERT_EQUAL(err.off, 22);
	CU_ASSERT_EQUAL(err.attr, TURN_A_SOFTWARE);
	CU_ASSERT_EQUAL(err.attr_off, 20);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.reason, "overruns"));

	/* MESSAGE-INTEGRITY (at 76) with length 16 */
	memcpy(b, rfc5769_req, sizeof(b));
	b[79] = 0x10;
	CU_ASSERT_EQUAL(decode_copy(b, sizeof(b), &m, &err), EBADMSG);
	CU_ASSERT_EQUAL(err.off, 78);
	CU_ASSERT_EQUAL(err.attr_off, 76);
	CU_ASSERT_EQUAL(err.attr, TURN_A_MESSAGE_INTEGRITY);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.reason, "expected 20"));

	/* FINGERPRINT (at 100) with length 8 */
	memcpy(b, rfc5769_req, sizeof(b));
	b[103] = 0x08;
	CU_ASSERT_EQUAL(decode_copy(b, sizeof(b), &m, &err), EBADMSG);
	CU_ASSERT_EQUAL(err.off, 102);
	CU_ASSERT_EQUAL(err.attr, TURN_A_FINGERPRINT);

	/* mis-padded: USERNAME (at 60) length 9 -> 13 pads to 16, so the
	 * next header is read at 80, inside MI's value: 0x9aea, length
	 * 0xa70c, which overruns */
	memcpy(b, rfc5769_req, sizeof(b));
	b[63] = 13;
	CU_ASSERT_EQUAL(decode_copy(b, sizeof(b), &m, &err), EBADMSG);
	CU_ASSERT_EQUAL(err.off, 82);
	CU_ASSERT_EQUAL(err.attr, 0x9aea);
	CU_ASSERT_EQUAL(err.attr_off, 80);
	CU_ASSERT_EQUAL(m.n_attrs, 4);
}


UNIT_TEST(test_order_rules, "MI/FP order")
{
	uint8_t buf[256];
	struct turn_decode_err err;
	struct turn_enc e;
	struct turn_msg m;
	size_t len = 0;

	/* an attribute after MESSAGE-INTEGRITY is kept but ignored */
	turn_enc_init(&e, buf, sizeof(buf), TURN_M_BINDING, TURN_C_REQUEST,
		      tid0);
	turn_enc_str(&e, TURN_A_USERNAME, "a:b");
	turn_enc_integrity(&e, (const uint8_t *)"k", 1);
	turn_enc_u32(&e, TURN_A_PRIORITY, 7);
	turn_enc_fingerprint(&e);
	CU_ASSERT_EQUAL_FATAL(turn_enc_finish(&e, &len), 0);
	CU_ASSERT_EQUAL_FATAL(turn_msg_decode(&m, buf, len, &err), 0);
	CU_ASSERT_EQUAL(m.n_attrs, 4);
	CU_ASSERT_EQUAL(m.n_ignored, 1);
	CU_ASSERT(m.attrs[2].ignored);
	CU_ASSERT_PTR_NULL(turn_msg_attr(&m, TURN_A_PRIORITY));
	CU_ASSERT_EQUAL(turn_msg_get_u32(&m, TURN_A_PRIORITY, NULL), ENOENT);
	CU_ASSERT_EQUAL(turn_msg_check_fingerprint(&m), 0);
	/* MI still checks: the ignored attribute is after it */
	CU_ASSERT_EQUAL(turn_msg_check_integrity(&m, (const uint8_t *)"k", 1),
			0);

	/* nothing may follow FINGERPRINT */
	turn_enc_init(&e, buf, sizeof(buf), TURN_M_BINDING, TURN_C_REQUEST,
		      tid0);
	turn_enc_attr(&e, TURN_A_FINGERPRINT, "abcd", 4);
	turn_enc_u32(&e, TURN_A_LIFETIME, 600);
	CU_ASSERT_EQUAL_FATAL(turn_enc_finish(&e, &len), 0);
	CU_ASSERT_EQUAL(turn_msg_decode(&m, buf, len, &err), EBADMSG);
	CU_ASSERT_EQUAL(err.off, 28);
	CU_ASSERT_EQUAL(err.attr, TURN_A_LIFETIME);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.reason, "follows FINGERPRINT"));
}


UNIT_TEST(test_unknown_attrs, "unknown attributes")
{
	uint8_t buf[128];
	struct turn_enc e;
	struct turn_msg m;
	uint32_t v = 0;
	size_t len = 0;

	turn_enc_init(&e, buf, sizeof(buf), TURN_M_ALLOCATE, TURN_C_REQUEST,
		      tid0);
	turn_enc_attr(&e, 0x0030, "xyz", 3);      /* unknown, required */
	turn_enc_attr(&e, 0x8fff, "12345678", 8); /* unknown, optional */
	turn_enc_u32(&e, 0x000f, 0x72c64bc6);     /* MS-TURN MAGIC-COOKIE */
	turn_enc_u32(&e, TURN_A_REQUESTED_TRANSPORT, 6u << 24);
	CU_ASSERT_EQUAL_FATAL(turn_enc_finish(&e, &len), 0);
	CU_ASSERT_EQUAL_FATAL(turn_msg_decode(&m, buf, len, NULL), 0);
	CU_ASSERT_EQUAL(m.n_attrs, 4);
	CU_ASSERT_EQUAL(m.n_unknown_req, 2);
	CU_ASSERT_EQUAL(m.unknown_req[0], 0x0030);
	CU_ASSERT_EQUAL(m.unknown_req[1], 0x000f);
	CU_ASSERT_EQUAL(m.attrs[0].len, 3);
	CU_ASSERT_EQUAL(memcmp(m.attrs[0].val, "xyz", 3), 0);
	CU_ASSERT_EQUAL(m.attrs[0].val[3], 0); /* padding zeroed */
	CU_ASSERT_EQUAL(turn_msg_get_u32(&m, 0x8fff, &v), EBADMSG);
	CU_ASSERT_EQUAL(turn_msg_get_u32(&m, TURN_A_REQUESTED_TRANSPORT, &v),
			0);
	CU_ASSERT_EQUAL(v >> 24, 6);
}


/* The seed dump's payload: decoding stops at ICE-CONTROLLED whose length
 * field (message offset 34 = payload offset 36) reads 0, not 8 */
UNIT_TEST(test_seed_damage, "seed dump damage")
{
	const uint8_t *msg = seed_payload + 2;
	struct turn_decode_err err;
	struct turn_msg m;
	size_t n = sizeof(seed_payload) - 2;

	CU_ASSERT_EQUAL(seed_payload[0] << 8 | seed_payload[1], 108);
	CU_ASSERT_EQUAL(n, 107); /* one byte was lost */
	CU_ASSERT_EQUAL(turn_msg_decode(&m, msg, n, &err), EBADMSG);
	CU_ASSERT_EQUAL(err.off, 2);
	CU_ASSERT_EQUAL(turn_msg_decode_partial(&m, msg, n, &err), EBADMSG);
	CU_ASSERT_EQUAL(m.method, TURN_M_BINDING);
	CU_ASSERT_EQUAL(m.cls, TURN_C_REQUEST);
	CU_ASSERT_EQUAL(m.len, 0x58);
	CU_ASSERT_EQUAL(m.n_attrs, 2);
	CU_ASSERT_EQUAL(m.attrs[0].type, TURN_A_USE_CANDIDATE);
	CU_ASSERT_EQUAL(m.attrs[1].type, TURN_A_PRIORITY);
	CU_ASSERT_EQUAL(err.off, 34);
	CU_ASSERT_EQUAL(err.attr, TURN_A_ICE_CONTROLLED);
	CU_ASSERT_EQUAL(err.attr_off, 32);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.reason, "length 0, expected 8"));
}


UNIT_TEST(test_partial, "partial decode")
{
	struct turn_decode_err err;
	struct turn_msg m;

	/* whole: same as turn_msg_decode */
	CU_ASSERT_EQUAL(turn_msg_decode_partial(&m, rfc5769_req,
						sizeof(rfc5769_req), &err),
			0);
	CU_ASSERT_EQUAL(m.n_attrs, 6);
	/* cut inside USERNAME's value (at 60, value 64..75) */
	CU_ASSERT_EQUAL(turn_msg_decode_partial(&m, rfc5769_req, 70, &err),
			EBADMSG);
	CU_ASSERT_EQUAL(m.n_attrs, 3);
	CU_ASSERT_EQUAL(err.off, 70);
	CU_ASSERT_EQUAL(err.attr, TURN_A_USERNAME);
	CU_ASSERT_EQUAL(err.attr_off, 60);
	/* cut at an attribute boundary */
	CU_ASSERT_EQUAL(turn_msg_decode_partial(&m, rfc5769_req, 76, &err),
			EBADMSG);
	CU_ASSERT_EQUAL(m.n_attrs, 4);
	CU_ASSERT_EQUAL(err.off, 76);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.reason, "cut short"));
	/* cut inside the header */
	CU_ASSERT_EQUAL(turn_msg_decode_partial(&m, rfc5769_req, 7, &err),
			EBADMSG);
	CU_ASSERT_EQUAL(err.off, 7);
}


UNIT_TEST(test_getters_malformed, "malformed values")
{
	uint8_t buf[128];
	struct turn_enc e;
	struct turn_msg m;
	struct sw_sa sa;
	uint16_t code;
	size_t len = 0;

	turn_enc_init(&e, buf, sizeof(buf), TURN_M_ALLOCATE, TURN_C_ERROR,
		      tid0);
	turn_enc_attr(&e, TURN_A_ERROR_CODE, "\0\0\x07\x01", 4);
	turn_enc_attr(&e, TURN_A_XOR_MAPPED_ADDRESS, "\0\x03\0\0\0\0\0\0", 8);
	turn_enc_attr(&e, TURN_A_MAPPED_ADDRESS, "\0\x02\0\0\0\0\0\0", 8);
	CU_ASSERT_EQUAL_FATAL(turn_enc_finish(&e, &len), 0);
	CU_ASSERT_EQUAL_FATAL(turn_msg_decode(&m, buf, len, NULL), 0);
	CU_ASSERT_EQUAL(turn_msg_get_error(&m, &code, NULL, 0), EBADMSG);
	CU_ASSERT_EQUAL(turn_msg_get_xaddr(&m, TURN_A_XOR_MAPPED_ADDRESS, &sa),
			EBADMSG);
	CU_ASSERT_EQUAL(turn_msg_get_addr(&m, TURN_A_MAPPED_ADDRESS, &sa),
			EBADMSG);
	CU_ASSERT_EQUAL(turn_msg_get_addr(&m, TURN_A_ALTERNATE_SERVER, &sa),
			ENOENT);
}

/* --- encoder ------------------------------------------------------------------ */

UNIT_TEST(test_encoder_errors, "encoder errors")
{
	uint8_t buf[40];
	struct turn_enc e;
	size_t len = 0;

	memset(buf, 0xaa, sizeof(buf));
	turn_enc_init(&e, buf, sizeof(buf), TURN_M_BINDING, TURN_C_REQUEST,
		      tid0);
	turn_enc_attr(&e, TURN_A_SOFTWARE, "x", 1);
	CU_ASSERT_EQUAL(turn_enc_finish(&e, &len), 0);
	CU_ASSERT_EQUAL(len, 28);
	CU_ASSERT(buf[25] == 0 && buf[26] == 0 && buf[27] == 0);
	CU_ASSERT_EQUAL(buf[3], 8);
	turn_enc_attr(&e, TURN_A_SOFTWARE, "too long!", 9); /* 16 > 12 */
	CU_ASSERT_EQUAL(turn_enc_finish(&e, &len), ENOSPC);
	turn_enc_u32(&e, TURN_A_LIFETIME, 1); /* sticky */
	CU_ASSERT_EQUAL(turn_enc_finish(&e, &len), ENOSPC);
	CU_ASSERT_EQUAL(len, 28);

	turn_enc_init(&e, buf, sizeof(buf), TURN_M_BINDING, TURN_C_REQUEST,
		      tid0);
	turn_enc_fingerprint(&e);
	turn_enc_u32(&e, TURN_A_LIFETIME, 1); /* after FINGERPRINT */
	CU_ASSERT_EQUAL(turn_enc_finish(&e, &len), EINVAL);

	turn_enc_init(&e, buf, sizeof(buf), TURN_M_BINDING, TURN_C_ERROR,
		      tid0);
	turn_enc_error(&e, 200, NULL);
	CU_ASSERT_EQUAL(turn_enc_finish(&e, &len), EINVAL);

	turn_enc_init(&e, buf, 19, TURN_M_BINDING, TURN_C_REQUEST, tid0);
	CU_ASSERT_EQUAL(turn_enc_finish(&e, &len), ENOSPC);
	turn_enc_init(&e, buf, sizeof(buf), 0x1000, TURN_C_REQUEST, tid0);
	CU_ASSERT_EQUAL(turn_enc_finish(&e, &len), EINVAL);

	/* no room for MI: the length field is left consistent */
	turn_enc_init(&e, buf, sizeof(buf), TURN_M_BINDING, TURN_C_REQUEST,
		      tid0);
	turn_enc_integrity(&e, (const uint8_t *)"k", 1);
	CU_ASSERT_EQUAL(turn_enc_finish(&e, &len), ENOSPC);
	CU_ASSERT_EQUAL(buf[2] << 8 | buf[3], 0);
}


UNIT_TEST(test_sha256, "SHA256 integrity")
{
	uint8_t buf[128];
	struct turn_enc e;
	struct turn_msg m;
	size_t len = 0;

	turn_enc_init(&e, buf, sizeof(buf), TURN_M_REFRESH, TURN_C_REQUEST,
		      tid0);
	turn_enc_u32(&e, TURN_A_LIFETIME, 0);
	turn_enc_integrity(&e, (const uint8_t *)"key", 3);
	turn_enc_integrity_sha256(&e, (const uint8_t *)"key", 3);
	turn_enc_fingerprint(&e);
	CU_ASSERT_EQUAL_FATAL(turn_enc_finish(&e, &len), 0);
	CU_ASSERT_EQUAL_FATAL(turn_msg_decode(&m, buf, len, NULL), 0);
	CU_ASSERT_EQUAL(m.n_ignored, 0);
	CU_ASSERT_EQUAL(turn_msg_check_integrity(&m, (const uint8_t *)"key",
						 3),
			0);
	CU_ASSERT_EQUAL(turn_msg_check_integrity_sha256(
				&m, (const uint8_t *)"key", 3),
			0);
	CU_ASSERT_EQUAL(turn_msg_check_integrity_sha256(
				&m, (const uint8_t *)"kez", 3),
			EBADMSG);
	CU_ASSERT_EQUAL(turn_msg_check_fingerprint(&m), 0);
}

/* --- corpus files (built by Python: an independent encoder) ----------- */

static size_t read_data(const char *name, uint8_t *buf, size_t cap)
{
	char path[512];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/stun/%s", unit_data_dir(), name);
	f = fopen(path, "rb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	n = fread(buf, 1, cap, f);
	fclose(f);
	return n;
}


UNIT_TEST(test_corpus_files, "corpus files")
{
	static const char *const msgs[] = {
		"rfc6062_connect_req.bin",     "rfc6062_connect_ok.bin",
		"rfc6062_connbind_req.bin",    "rfc6062_connattempt_ind.bin",
		"rfc6062_connect_err447.bin",  "rfc5769_longterm.bin",
		"rfc5769_resp6.bin",           "rfc5769_resp4.bin"};
	uint8_t file[512], ours[256];
	struct turn_msg m;
	size_t n, len;
	uint16_t code = 0;

	n = read_data("rfc5769_req.bin", file, sizeof(file));
	CU_ASSERT(n == sizeof(rfc5769_req) && !memcmp(file, rfc5769_req, n));
	/* the MS-ICE2 request: Python and turn_enc agree byte for byte */
	n = read_data("msice2_binding_req.bin", file, sizeof(file));
	len = build_msice2(ours, sizeof(ours), ice_pwd);
	CU_ASSERT(n == len && !memcmp(file, ours, n));
	for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); ++i) {
		n = read_data(msgs[i], file, sizeof(file));
		CU_ASSERT_EQUAL(turn_msg_decode(&m, file, n, NULL), 0);
		CU_ASSERT_EQUAL(m.buflen, n);
	}
	n = read_data("rfc6062_connect_err447.bin", file, sizeof(file));
	CU_ASSERT_EQUAL_FATAL(turn_msg_decode(&m, file, n, NULL), 0);
	CU_ASSERT_EQUAL(turn_msg_get_error(&m, &code, NULL, 0), 0);
	CU_ASSERT_EQUAL(code, 447);
	n = read_data("seed_damaged_4571.bin", file, sizeof(file));
	CU_ASSERT(n == sizeof(seed_payload) && !memcmp(file, seed_payload, n));
}

/* --- framers --------------------------------------------------------------- */

struct collect {
	uint8_t out[1024];
	size_t len;
	unsigned frames;
};


static int feed(struct turn_framer *f, const uint8_t *p, size_t n,
		struct collect *c)
{
	const uint8_t *fr;
	size_t used, fl;
	int err;

	while (n) {
		err = turn_framer_push(f, p, n, &used, &fr, &fl);
		p += used;
		n -= used;
		if (err == ENODATA)
			break;
		if (err)
			return err;
		CU_ASSERT_FATAL(c->len + fl <= sizeof(c->out));
		memcpy(c->out + c->len, fr, fl);
		c->len += fl;
		++c->frames;
	}
	return 0;
}


UNIT_TEST(test_frame_turn, "TURN framer")
{
	static const uint8_t cd[] = {0x40, 0x01, 0x00, 0x05, 'h', 'e',
				     'l',  'l',  'o',  0,    0,    0};
	static struct turn_framer f;
	struct collect one = {{0}, 0, 0}, bytes = {{0}, 0, 0};
	uint8_t stream[512];
	size_t n = 0, len;

	memcpy(stream + n, rfc5769_req, sizeof(rfc5769_req));
	n += sizeof(rfc5769_req);
	memcpy(stream + n, cd, sizeof(cd));
	n += sizeof(cd);
	memcpy(stream + n, rfc5769_resp6, sizeof(rfc5769_resp6));
	n += sizeof(rfc5769_resp6);

	CU_ASSERT_EQUAL(turn_frame_len(stream, 3, &len), ENODATA);
	CU_ASSERT_EQUAL(turn_frame_len(stream, 30, &len), ENODATA);
	CU_ASSERT_EQUAL(len, sizeof(rfc5769_req));
	CU_ASSERT_EQUAL(turn_frame_len(cd, sizeof(cd), &len), 0);
	CU_ASSERT_EQUAL(len, 12); /* 4 + 5 padded to 8 */
	CU_ASSERT_EQUAL(turn_frame_len((const uint8_t *)"\x80\0\0\0", 4, &len),
			EBADMSG);
	CU_ASSERT_EQUAL(turn_frame_len((const uint8_t *)"\0\1\0\3", 4, &len),
			EBADMSG);

	turn_framer_init(&f, TURN_FRAMING_TURN);
	CU_ASSERT_EQUAL(feed(&f, stream, n, &one), 0);
	CU_ASSERT_EQUAL(one.frames, 3);
	turn_framer_init(&f, TURN_FRAMING_TURN);
	for (size_t i = 0; i < n; ++i)
		CU_ASSERT_EQUAL(feed(&f, stream + i, 1, &bytes), 0);
	CU_ASSERT_EQUAL(bytes.frames, 3);
	CU_ASSERT_EQUAL(bytes.len, n);
	CU_ASSERT_EQUAL(memcmp(bytes.out, stream, n), 0);

	turn_framer_init(&f, TURN_FRAMING_TURN);
	CU_ASSERT_EQUAL(feed(&f, (const uint8_t *)"\xc0\0\0\0", 4, &bytes),
			EBADMSG);
}


UNIT_TEST(test_frame_4571, "RFC 4571 framer")
{
	static struct turn_framer f;
	struct collect bytes = {{0}, 0, 0};
	uint8_t stream[512];
	size_t n = 0, len;

	stream[n++] = 0;
	stream[n++] = sizeof(rfc5769_resp4);
	memcpy(stream + n, rfc5769_resp4, sizeof(rfc5769_resp4));
	n += sizeof(rfc5769_resp4);
	stream[n++] = 0; /* an empty frame */
	stream[n++] = 0;
	stream[n++] = 0;
	stream[n++] = 3; /* three bytes of RTP, say */
	stream[n++] = 0x80;
	stream[n++] = 0x60;
	stream[n++] = 0x01;

	CU_ASSERT_EQUAL(rfc4571_frame_len(stream, 1, &len), ENODATA);
	CU_ASSERT_EQUAL(len, 0);
	CU_ASSERT_EQUAL(rfc4571_frame_len(stream, 10, &len), ENODATA);
	CU_ASSERT_EQUAL(len, 2 + sizeof(rfc5769_resp4));

	turn_framer_init(&f, TURN_FRAMING_RFC4571);
	for (size_t i = 0; i < n; ++i)
		CU_ASSERT_EQUAL(feed(&f, stream + i, 1, &bytes), 0);
	CU_ASSERT_EQUAL(bytes.frames, 3);
	CU_ASSERT_EQUAL(bytes.len, n);
	CU_ASSERT_EQUAL(memcmp(bytes.out, stream, n), 0);
}

/* --- names ---------------------------------------------------------------------- */

UNIT_TEST(test_names, "names")
{
	/* every MS-TURN 2.2.2, MS-ICE2 2.2.2 and MS-TURNBWM type */
	static const uint16_t listed[] = {
		0x0001, 0x0006, 0x0008, 0x0009, 0x000a, 0x0020, 0x0024,
		0x0025, 0x8028, 0x8029, 0x802a, 0x000d, 0x000e, 0x000f,
		0x0010, 0x0011, 0x0012, 0x0013, 0x0014, 0x0015, 0x0017,
		0x8006, 0x8008, 0x8020, 0x8032, 0x8037, 0x8039, 0x8050,
		0x8054, 0x8055, 0x8056, 0x8057, 0x8058, 0x8059, 0x805a,
		0x805b, 0x805c, 0x805d, 0x805e, 0x805f, 0x8060, 0x8061,
		0x8062, 0x8068, 0x8070, 0x8090, 0x8095, 0x002a, 0x001c,
		0x001d, 0x001e, 0x8002, 0x8003, 0x0016, 0x0018, 0x0019,
		0x001a, 0x0022, 0x000c, 0x8022, 0x8023, 0x8000, 0x8001};

	for (size_t i = 0; i < sizeof(listed) / sizeof(listed[0]); ++i)
		CU_ASSERT_PTR_NOT_NULL(turn_attr_name(listed[i]));
	CU_ASSERT_STRING_EQUAL(turn_attr_name(0x8054), "CANDIDATE-IDENTIFIER");
	CU_ASSERT_STRING_EQUAL(turn_attr_name(0x8070),
			       "IMPLEMENTATION-VERSION");
	CU_ASSERT_STRING_EQUAL(turn_attr_name_legacy(0x0014),
			       "NONCE (MS-TURN)");
	CU_ASSERT_STRING_EQUAL(turn_attr_name_legacy(0x0006), "USERNAME");
	CU_ASSERT_PTR_NULL(turn_attr_name(0x0054));
	CU_ASSERT_STRING_EQUAL(turn_method_name(0x00b), "ConnectionBind");
	CU_ASSERT_STRING_EQUAL(turn_method_name(0x00c), "ConnectionAttempt");
	CU_ASSERT_PTR_NULL(turn_method_name(0x0fff));
	CU_ASSERT_STRING_EQUAL(turn_class_name(TURN_C_SUCCESS),
			       "Success Response");
	CU_ASSERT_STRING_EQUAL(turn_error_phrase(487), "Role Conflict");
	CU_ASSERT_STRING_EQUAL(turn_error_phrase(274), "Disable Candidate");
	CU_ASSERT_PTR_NULL(turn_error_phrase(499));
}


UNIT_SUITE("turn_msg", NULL, NULL, NULL, NULL);
