/**
 * @file test_stun_decode.c  The `shareway stun-decode` pipeline below its
 * text parsing (cli_stun_net.c, cli_stun_show.c): one dumped frame down
 * to its STUN messages, damage located by dump offset, JSON output, and
 * the fuzz findings.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "cli_stun.h"

/* clang-format off */

/* The seed's frame as its hex dump gives it (163 of 164 bytes: line 0x70
 * lost one); Ethernet + IPv4 + TCP + RFC 4571 + STUN */
static const uint8_t seed_frame[] = {
	0x00, 0x0c, 0x29, 0x48, 0x9e, 0x5f, 0x00, 0x50, 0x56, 0x98, 0x98, 0x98,
	0x08, 0x00, 0x45, 0x00, 0x00, 0x96, 0xba, 0x17, 0x40, 0x00, 0x40, 0x06,
	0xfe, 0x1f, 0x0a, 0x30, 0x36, 0xe6, 0x0a, 0x30, 0x36, 0xe5, 0xad, 0x36,
	0x0d, 0x96, 0xf2, 0xeb, 0xb4, 0xab, 0x00, 0x89, 0xc7, 0x5f, 0x50, 0x18,
	0x00, 0xe5, 0xc7, 0x82, 0x00, 0x00, 0x00, 0x6c, 0x00, 0x01, 0x00, 0x58,
	0x21, 0x12, 0xa4, 0x42, 0xa7, 0xd4, 0x2d, 0x51, 0x9e, 0x4d, 0x78, 0xc5,
	0x93, 0x81, 0x95, 0x21, 0x00, 0x25, 0x00, 0x00, 0x00, 0x24, 0x00, 0x04,
	0x6e, 0xff, 0xff, 0xff, 0x80, 0x29, 0x00, 0x00, 0x08, 0xb2, 0x67, 0x4a,
	0x8b, 0xee, 0xcd, 0x68, 0x00, 0x06, 0x00, 0x0c, 0x6c, 0x30, 0x4d, 0x52,
	0x3a, 0x41, 0x6f, 0x56, 0x79, 0x00, 0x00, 0x00, 0x54, 0x00, 0x04, 0x33,
	0x00, 0x00, 0x00, 0x88, 0x70, 0x00, 0x04, 0x00, 0x00, 0x00, 0x02, 0x00,
	0x08, 0x00, 0x14, 0x1d, 0xa4, 0x84, 0x25, 0x29, 0x57, 0x5b, 0x38, 0xe0,
	0x6b, 0x72, 0xef, 0x45, 0x8c, 0x3e, 0x17, 0x2b, 0x65, 0xc7, 0x6c, 0x80,
	0x28, 0x00, 0x04, 0xff, 0x2f, 0xa7, 0x18,
};

/* clang-format on */

struct run {
	struct sdec sd;
	char *text;
	size_t len;
	size_t map[256];
};


/* Run sdec_packet() on bytes as a dump input with a one-byte hole after
 * dump offset hole (SIZE_MAX: none); the output lands in r->text */
static void run_packet(struct run *r, const uint8_t *p, size_t n, bool json,
		       size_t hole)
{
	FILE *f;

	memset(r, 0, sizeof(*r));
	CU_ASSERT_FATAL(n <= 256);
	for (size_t i = 0; i < n; ++i)
		r->map[i] = i + (i > hole ? 1 : 0);
	f = open_memstream(&r->text, &r->len);
	CU_ASSERT_FATAL(f != NULL);
	r->sd.out = f;
	r->sd.json = json;
	r->sd.dump_off = r->map;
	r->sd.dump_len = n;
	sdec_packet(&r->sd, p, n);
	sdec_notes_flush(&r->sd);
	fclose(f);
}


UNIT_TEST(test_seed_frame, "seed frame")
{
	struct run r;

	/* line 0x70 holds 15 bytes: dump offsets skip one from 0x7f on */
	run_packet(&r, seed_frame, sizeof(seed_frame), false, 0x7e);
	CU_ASSERT_EQUAL(r.sd.n_msgs, 1);
	CU_ASSERT_EQUAL(r.sd.n_damaged, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.text, "RFC 4571 length: 108 (0x006c)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.text, "+24 PRIORITY (0x0024)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.text,
				      "DAMAGED at payload offset 36 (dump "
				      "offset 0x005a), message offset 34"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.text,
				      "IPv4 total length 150 but only 149"));
	CU_ASSERT_PTR_NULL(strstr(r.text, "+32 ICE-CONTROLLED"));
	free(r.text);

	run_packet(&r, seed_frame, sizeof(seed_frame), true, 0x7e);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.text, "\"dump_offset\":90"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.text, "\"attribute\":\"ICE-CONTROLLED\""));
	free(r.text);
}


/* With the lost byte put back and ICE-CONTROLLED's length made 8, the
 * frame decodes as far as the next damage, 0x5400 where 0x8054 was */
UNIT_TEST(test_seed_repaired, "seed frame repaired")
{
	uint8_t f[sizeof(seed_frame) + 1];
	struct run r;

	memcpy(f, seed_frame, 0x74);
	f[0x74] = 0x80; /* CANDIDATE-IDENTIFIER's lost first byte */
	memcpy(f + 0x75, seed_frame + 0x74, sizeof(seed_frame) - 0x74);
	f[0x5b] = 0x08;
	run_packet(&r, f, sizeof(f), false, SIZE_MAX);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.text, "+32 ICE-CONTROLLED (0x8029), "
					      "length 8: tie-breaker "
					      "0x08b2674a8beecd68"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.text, "\"l0MR:AoVy\" (+3 NUL padding)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.text, "CANDIDATE-IDENTIFIER (0x8054), "
					      "length 4: \"3\" (+3 NUL "
					      "padding)"));
	/* "88 70" in the dump: type 0x8870, an unknown attribute */
	CU_ASSERT_PTR_NOT_NULL(strstr(r.text, "unknown attribute (0x8870)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.text, "FINGERPRINT: BAD"));
	CU_ASSERT_EQUAL(r.sd.n_damaged, 1);
	free(r.text);
}


/* The third transcription error: "88 70" was "80 70" (IMPLEMENTATION-
 * VERSION). With all three repaired the sender's FINGERPRINT 0xff2fa718
 * matches: the reconstruction is exact */
UNIT_TEST(test_seed_fingerprint, "seed FINGERPRINT")
{
	uint8_t f[sizeof(seed_frame) + 1];
	struct run r;

	memcpy(f, seed_frame, 0x74);
	f[0x74] = 0x80;
	memcpy(f + 0x75, seed_frame + 0x74, sizeof(seed_frame) - 0x74);
	f[0x5b] = 0x08;
	CU_ASSERT_EQUAL_FATAL(f[0x7c], 0x88);
	f[0x7c] = 0x80;
	run_packet(&r, f, sizeof(f), false, SIZE_MAX);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.text, "IMPLEMENTATION-VERSION (0x8070), "
					      "length 4: 2"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.text, "0xff2fa718 (ok)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.text, "FINGERPRINT: ok"));
	CU_ASSERT_EQUAL(r.sd.n_msgs, 1);
	CU_ASSERT_EQUAL(r.sd.n_damaged, 0);
	free(r.text);
}


/* fuzz finding: an IPv6 version nibble on a 5-byte input made parse_ip6()
 * read the payload length before checking for 40 header bytes */
UNIT_TEST(test_short_ipv6, "short IPv6 (fuzz)")
{
	static const uint8_t in[] = {0x6a, 0xf1, 0xd3, 0xa5, 0x00};
	uint8_t *p = malloc(sizeof(in)); /* exact size: ASan sees over-reads */
	struct run r;

	CU_ASSERT_FATAL(p != NULL);
	memcpy(p, in, sizeof(in));
	run_packet(&r, p, sizeof(in), false, SIZE_MAX);
	CU_ASSERT_EQUAL(r.sd.n_msgs, 0);
	free(r.text);
	free(p);
}


UNIT_TEST(test_is_pcap, "pcap magic")
{
	CU_ASSERT(sdec_is_pcap((const uint8_t *)"\xd4\xc3\xb2\xa1", 4));
	CU_ASSERT(sdec_is_pcap((const uint8_t *)"\x0a\x0d\x0d\x0a", 4));
	CU_ASSERT_FALSE(sdec_is_pcap((const uint8_t *)"0000", 4));
	CU_ASSERT_FALSE(sdec_is_pcap((const uint8_t *)"\xd4\xc3", 2));
}


UNIT_SUITE("stun_decode", NULL, NULL, NULL, NULL);
