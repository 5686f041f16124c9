/**
 * @file fuzz_stun.c  libFuzzer: STUN decode, integrity, re-encode.
 *
 * Any input: turn_msg_decode() and turn_msg_decode_partial() must agree
 * and report offsets inside the input. A decoded message is checked with a
 * fixed key, its typed readers are exercised, then every attribute is
 * re-encoded through turn_enc with a fresh MESSAGE-INTEGRITY and
 * FINGERPRINT: the result must decode to the same attributes and verify.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "turn_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t key[] = "fuzz-key";

#define CHECK(c)                                                              \
	do {                                                                  \
		if (!(c))                                                     \
			abort();                                              \
	} while (0)


static void read_all(const struct turn_msg *m)
{
	struct sw_sa sa;
	char s[256];
	uint64_t v64;
	uint32_t v32;
	uint16_t code;

	for (unsigned i = 0; i < m->n_attrs; ++i) {
		uint16_t t = m->attrs[i].type;

		(void)turn_msg_get_u32(m, t, &v32);
		(void)turn_msg_get_u64(m, t, &v64);
		(void)turn_msg_get_xaddr(m, t, &sa);
		(void)turn_msg_get_addr(m, t, &sa);
		(void)turn_msg_get_str(m, t, s, sizeof(s), NULL);
		(void)turn_attr_name(t);
		(void)turn_attr_name_legacy(t);
	}
	if (turn_msg_get_error(m, &code, s, sizeof(s)) == 0)
		CHECK(code >= 300 && code <= 699 && strlen(s) < sizeof(s));
	(void)turn_msg_check_integrity(m, key, sizeof(key) - 1);
	(void)turn_msg_check_integrity_sha256(m, key, sizeof(key) - 1);
	(void)turn_msg_check_integrity_msice2(m, key, sizeof(key) - 1);
	(void)turn_msg_check_fingerprint(m);
	(void)turn_msg_check_fingerprint_mslegacy(m);
}


static bool is_seal(uint16_t type)
{
	return type == TURN_A_MESSAGE_INTEGRITY ||
	       type == TURN_A_MESSAGE_INTEGRITY_SHA256 ||
	       type == TURN_A_FINGERPRINT;
}


static void reencode(const struct turn_msg *m)
{
	size_t cap = m->buflen + 64, len = 0, kept = 0;
	uint8_t *buf = malloc(cap);
	struct turn_msg m2;
	struct turn_enc e;
	unsigned j = 0;
	int err;

	CHECK(buf != NULL);
	turn_enc_init(&e, buf, cap, m->method, m->cls, m->tid);
	for (unsigned i = 0; i < m->n_attrs; ++i) {
		if (is_seal(m->attrs[i].type))
			continue;
		turn_enc_attr(&e, m->attrs[i].type, m->attrs[i].val,
			      m->attrs[i].len);
		++kept;
	}
	turn_enc_integrity(&e, key, sizeof(key) - 1);
	turn_enc_fingerprint(&e);
	err = turn_enc_finish(&e, &len);
	if (err == ENOSPC) {
		/* only when MI + FP push the length past 65532 */
		CHECK(m->len + 32 > 65532);
		goto out;
	}
	CHECK(err == 0);

	err = turn_msg_decode(&m2, buf, len, NULL);
	if (kept + 2 > TURN_MAX_ATTRS) {
		CHECK(err == EBADMSG);
		goto out;
	}
	CHECK(err == 0);
	CHECK(m2.n_attrs == kept + 2 && m2.n_ignored == 0);
	for (unsigned i = 0; i < m->n_attrs; ++i) {
		const struct turn_attr *a = &m->attrs[i], *b = &m2.attrs[j];

		if (is_seal(a->type))
			continue;
		CHECK(a->type == b->type && a->len == b->len);
		CHECK(memcmp(a->val, b->val, a->len) == 0);
		++j;
	}
	CHECK(turn_msg_check_integrity(&m2, key, sizeof(key) - 1) == 0);
	CHECK(turn_msg_check_fingerprint(&m2) == 0);
out:
	free(buf);
}


/* Every attribute lies inside the input (and the message): touch each
 * value byte so ASan sees any pointer past the end */
static void check_bounds(const struct turn_msg *m, size_t size, bool whole)
{
	unsigned sum = 0;

	for (unsigned i = 0; i < m->n_attrs; ++i) {
		const struct turn_attr *a = &m->attrs[i];

		CHECK(a->off >= TURN_HDR_LEN && a->val == m->buf + a->off + 4);
		CHECK(a->off + 4 + (size_t)a->len <= size);
		CHECK(!whole || a->off + 4 + (size_t)a->len <= m->buflen);
		for (size_t k = 0; k < a->len; ++k)
			sum += a->val[k];
	}
	CHECK(sum <= 255u * 65536u * TURN_MAX_ATTRS);
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct turn_decode_err err, perr;
	static struct turn_msg m, pm;
	int e, pe;

	e = turn_msg_decode(&m, data, size, &err);
	pe = turn_msg_decode_partial(&pm, data, size, &perr);
	CHECK(e == 0 || e == EBADMSG);
	CHECK(pe == 0 || pe == EBADMSG);
	if (pe)
		CHECK(perr.off <= size && perr.reason[0] != '\0');
	check_bounds(&pm, size, false);
	if (e) {
		CHECK(err.off <= size && err.reason[0] != '\0');
		return 0;
	}
	CHECK(pe == 0 && pm.n_attrs == m.n_attrs);
	check_bounds(&m, size, true);
	CHECK(m.buflen <= size && turn_frame_len(data, size, &(size_t){0}) ==
					  0);
	read_all(&m);
	reencode(&m);
	return 0;
}
