/**
 * @file as_ice.c  asbench: one MS-ICE2 agent on one TCP connection, RFC
 * 4571 framed, as tests/harness/iceagent.py plays it (MS-ICE2 2.2.2).
 *
 * A check is a Binding request in libnice's OC2007R2 attribute order:
 * [USE-CANDIDATE], PRIORITY, ICE-CONTROLLING/-CONTROLLED, USERNAME
 * "remote:local" NUL-padded, CANDIDATE-IDENTIFIER, IMPLEMENTATION-VERSION
 * 2, MESSAGE-INTEGRITY (key: the remote ice-pwd), FINGERPRINT. The Edge
 * (controlling) writes MESSAGE-INTEGRITY in the RFC 3489bis-02 form and
 * sends every message twice, the copy with Microsoft's legacy CRC, until
 * the peer shows IMPLEMENTATION-VERSION; it nominates in a second check.
 * Requests are answered after USERNAME, MESSAGE-INTEGRITY (either form)
 * and FINGERPRINT (either CRC) verify. An unanswered check is resent
 * every AS_CHECK_RTX s. After the checks, RTP (PT 127) probes of hold
 * mode travel the same way.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "asbench.h"

#define IMPL_VERSION 2
#define RTP_PT 127
#define PROBE_PAYLOAD 20
#define STUN_MAX 512
#define CRC_MS_GOOD 0x8bbeb8eau
#define CRC_MS_BAD 0x08bbe8eau

static uint32_t crc_tab[256];


static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; ++i) {
		uint32_t c = i;

		for (int k = 0; k < 8; ++k)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_tab[i] = c;
	}
}


/* CRC-32, optionally with Microsoft's mistyped table entry */
static uint32_t crc32_ms(const uint8_t *p, size_t n, bool legacy)
{
	uint32_t crc = 0xffffffffu, t;

	if (!crc_tab[1])
		crc_init();
	for (size_t i = 0; i < n; ++i) {
		t = crc_tab[(crc ^ p[i]) & 0xff];
		if (legacy && t == CRC_MS_GOOD)
			t = CRC_MS_BAD;
		crc = t ^ (crc >> 8);
	}
	return crc ^ 0xffffffffu;
}


static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}


static void wr32(uint8_t *p, uint32_t v)
{
	wr16(p, (uint16_t)(v >> 16));
	wr16(p + 2, (uint16_t)v);
}


/** An agent on a connected socket; credentials point into its call */
void as_ice_init(struct as_ice *ice, int fd, bool controlling,
		 const struct as_creds *cr)
{
	memset(ice, 0, sizeof(*ice));
	ice->fd = fd;
	ice->controlling = controlling;
	ice->msice2 = controlling;
	ice->legacy_dup = controlling;
	ice->cr = *cr;
	/* MS priorities: prflx TCP-ACT (Edge) / TCP-PASS (conference) */
	ice->priority = controlling ? 0x6e6a03ffu : 0x6e6403ffu;
	tb_random(&ice->tiebreaker, sizeof(ice->tiebreaker));
}


/* MESSAGE-INTEGRITY as MS-ICE2 IMPLEMENTATION-VERSION 2 peers write it:
 * the length field counts the FINGERPRINT that follows, and the HMAC input
 * is zero-padded to a multiple of 64 bytes */
static void enc_mi_msice2(struct turn_enc *e, const char *pwd)
{
	uint8_t tmp[STUN_MAX + 64] = {0}, mac[EVP_MAX_MD_SIZE];
	unsigned maclen = 0;
	size_t n;

	if (e->err || e->len > STUN_MAX) {
		e->err = e->err ? e->err : ENOSPC;
		return;
	}
	memcpy(tmp, e->buf, e->len);
	wr16(tmp + 2, (uint16_t)(e->len - TURN_HDR_LEN + 24 + 8));
	n = (e->len + 63) / 64 * 64;
	if (!HMAC(EVP_sha1(), pwd, (int)strlen(pwd), tmp, n, mac, &maclen) ||
	    maclen != 20) {
		e->err = EPROTO;
		return;
	}
	turn_enc_attr(e, TURN_A_MESSAGE_INTEGRITY, mac, 20);
}


/* MESSAGE-INTEGRITY in our agent's form, then FINGERPRINT */
static int enc_seal(struct as_ice *ice, struct turn_enc *e, const char *pwd,
		    size_t *lenp)
{
	if (ice->msice2)
		enc_mi_msice2(e, pwd);
	else
		turn_enc_integrity(e, (const uint8_t *)pwd, strlen(pwd));
	turn_enc_fingerprint(e);
	return turn_enc_finish(e, lenp);
}


/* Queue one message as an RFC 4571 frame, and its legacy-CRC copy while
 * the peer has not shown IMPLEMENTATION-VERSION */
static int queue_stun(struct as_ice *ice, const uint8_t *msg, size_t len)
{
	unsigned copies = ice->legacy_dup && !ice->peer_v2 ? 2 : 1;
	uint8_t *p;

	if (ice->txlen + copies * (len + 2) > sizeof(ice->tx))
		return ENOBUFS;
	for (unsigned i = 0; i < copies; ++i) {
		p = ice->tx + ice->txlen;
		wr16(p, (uint16_t)len);
		memcpy(p + 2, msg, len);
		if (i)
			wr32(p + 2 + len - 4,
			     crc32_ms(p + 2, len - 8, true) ^ TURN_FP_XOR);
		ice->txlen += len + 2;
	}
	return 0;
}


/* USERNAME "first:second", NUL-padded to 4 as MS-ICE2 writes it */
static void enc_username(struct turn_enc *e, const char *first,
			 const char *second)
{
	char u[2 * AS_UFRAG_SIZE + 4] = {0};
	int n = snprintf(u, sizeof(u) - 3, "%s:%s", first, second);

	if (n < 0 || (size_t)n >= sizeof(u) - 3) {
		e->err = EINVAL;
		return;
	}
	turn_enc_attr(e, TURN_A_USERNAME, u, ((size_t)n + 3) / 4 * 4);
}


static int send_check(struct as_ice *ice, struct as_check *k)
{
	static const char cand_id[4] = "1";
	uint8_t buf[STUN_MAX];
	struct turn_enc e;
	size_t len;
	int err;

	turn_enc_init(&e, buf, sizeof(buf), TURN_M_BINDING, TURN_C_REQUEST,
		      k->tid);
	if (k->nominating)
		turn_enc_attr(&e, TURN_A_USE_CANDIDATE, NULL, 0);
	turn_enc_u32(&e, TURN_A_PRIORITY, ice->priority);
	turn_enc_u64(&e, ice->controlling ? TURN_A_ICE_CONTROLLING :
		     TURN_A_ICE_CONTROLLED, ice->tiebreaker);
	enc_username(&e, ice->cr.rufrag, ice->cr.lufrag);
	turn_enc_attr(&e, TURN_A_CANDIDATE_IDENTIFIER, cand_id,
		      sizeof(cand_id));
	turn_enc_u32(&e, TURN_A_IMPLEMENTATION_VERSION, IMPL_VERSION);
	err = enc_seal(ice, &e, ice->cr.rpwd, &len);
	err = err ? err : queue_stun(ice, buf, len);
	if (err)
		return err;
	k->sends++;
	k->last = tb_now();
	return 0;
}


static int new_check(struct as_ice *ice, bool nominating)
{
	struct as_check *k;

	if (ice->nchk == 2)
		return EALREADY;
	k = &ice->chk[ice->nchk++];
	memset(k, 0, sizeof(*k));
	tb_random(k->tid, sizeof(k->tid));
	k->nominating = nominating;
	return send_check(ice, k);
}


/** Begin the checks: the first (non-nominating) request */
int as_ice_start(struct as_ice *ice)
{
	int err;

	ice->started = true;
	err = new_check(ice, false);
	return err ? err : as_ice_flush(ice);
}


/** Write what is queued; 0 also when some is left (EPOLLOUT will tell) */
int as_ice_flush(struct as_ice *ice)
{
	while (ice->txlen) {
		ssize_t n = write(ice->fd, ice->tx, ice->txlen);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? 0 : errno;
		}
		memmove(ice->tx, ice->tx + n, ice->txlen - (size_t)n);
		ice->txlen -= (size_t)n;
	}
	return 0;
}


static int answer(struct as_ice *ice, const struct turn_msg *req, bool ok)
{
	const struct turn_attr *u = turn_msg_attr(req, TURN_A_USERNAME);
	uint8_t buf[STUN_MAX];
	struct turn_enc e;
	size_t len;
	int err;

	turn_enc_init(&e, buf, sizeof(buf), TURN_M_BINDING,
		      ok ? TURN_C_SUCCESS : TURN_C_ERROR, req->tid);
	if (!ok) {
		turn_enc_error(&e, 401, "Unauthorized");
		turn_enc_u32(&e, TURN_A_IMPLEMENTATION_VERSION, IMPL_VERSION);
		turn_enc_fingerprint(&e);
		err = turn_enc_finish(&e, &len);
		return err ? err : queue_stun(ice, buf, len);
	}
	turn_enc_xaddr(&e, TURN_A_XOR_MAPPED_ADDRESS, &ice->peer);
	if (u)
		turn_enc_attr(&e, TURN_A_USERNAME, u->val, u->len);
	turn_enc_u32(&e, TURN_A_IMPLEMENTATION_VERSION, IMPL_VERSION);
	err = enc_seal(ice, &e, ice->cr.lpwd, &len);
	return err ? err : queue_stun(ice, buf, len);
}


/* MESSAGE-INTEGRITY in either form and FINGERPRINT with either CRC */
static bool authentic(const struct turn_msg *m, const char *pwd)
{
	const uint8_t *k = (const uint8_t *)pwd;
	size_t kl = strlen(pwd);

	if (turn_msg_check_integrity(m, k, kl) &&
	    turn_msg_check_integrity_msice2(m, k, kl))
		return false;
	return !turn_msg_check_fingerprint(m) ||
	       !turn_msg_check_fingerprint_mslegacy(m);
}


/* A peer's check: USERNAME "ours:theirs", its role the other one */
static int on_request(struct as_ice *ice, const struct turn_msg *m)
{
	char user[2 * AS_UFRAG_SIZE + 4], want[sizeof(user)];
	uint16_t role = ice->controlling ? TURN_A_ICE_CONTROLLED :
		      TURN_A_ICE_CONTROLLING;
	bool ok;

	snprintf(want, sizeof(want), "%s:%s", ice->cr.lufrag,
		 ice->cr.rufrag);
	ok = !turn_msg_get_str(m, TURN_A_USERNAME, user, sizeof(user), NULL) &&
	     !strcmp(user, want) && turn_msg_attr(m, role) &&
	     authentic(m, ice->cr.lpwd);
	if (answer(ice, m, ok))
		return ENOBUFS;
	if (!ok)
		return EBADMSG;
	ice->in_ok = true;
	if (turn_msg_attr(m, TURN_A_USE_CANDIDATE))
		ice->use_cand = true;
	return 0;
}


/* The answer to one of our checks; a duplicate answer is ignored */
static int on_response(struct as_ice *ice, const struct turn_msg *m)
{
	struct as_check *k = NULL;

	for (unsigned i = 0; i < ice->nchk; ++i) {
		if (!memcmp(ice->chk[i].tid, m->tid, TURN_TID_LEN))
			k = &ice->chk[i];
	}
	if (!k || k->answered)
		return 0;
	if (m->cls != TURN_C_SUCCESS || !authentic(m, ice->cr.rpwd))
		return EBADMSG;
	k->answered = true;
	ice->out_ok = true;
	if (k->nominating)
		ice->nominated = true;
	else if (ice->controlling)
		return new_check(ice, true);
	return 0;
}


static int on_stun(struct as_ice *ice, const uint8_t *p, size_t n)
{
	struct turn_msg m;

	if (turn_msg_decode(&m, p, n, NULL) || m.method != TURN_M_BINDING)
		return EBADMSG;
	if (turn_msg_attr(&m, TURN_A_IMPLEMENTATION_VERSION))
		ice->peer_v2 = true;
	if (m.cls == TURN_C_REQUEST)
		return on_request(ice, &m);
	if (m.cls == TURN_C_SUCCESS || m.cls == TURN_C_ERROR)
		return on_response(ice, &m);
	return 0; /* an indication (keepalive) */
}


/* An RTP probe: PT 127, sequence numbers from 0 without a gap */
static int on_rtp(struct as_ice *ice, const uint8_t *p, size_t n)
{
	uint16_t seq;

	if (n != 12 + PROBE_PAYLOAD || (p[1] & 0x7f) != RTP_PT)
		return EPROTO;
	seq = (uint16_t)(p[2] << 8 | p[3]);
	if (seq != ice->probe_seq)
		return EPROTO;
	ice->probe_seq++;
	ice->probes_rx++;
	return 0;
}


/* Every complete frame at the head of rx */
static int frames(struct as_ice *ice)
{
	size_t off = 0, n;
	int err = 0;

	while (!err && ice->rxlen - off >= 2) {
		n = (size_t)ice->rx[off] << 8 | ice->rx[off + 1];
		if (n + 2 > sizeof(ice->rx))
			return EMSGSIZE;
		if (ice->rxlen - off - 2 < n)
			break;
		if (turn_msg_is_stun(ice->rx + off + 2, n))
			err = on_stun(ice, ice->rx + off + 2, n);
		else if (n >= 12 && (ice->rx[off + 2] & 0xc0) == 0x80)
			err = on_rtp(ice, ice->rx + off + 2, n);
		else
			err = EPROTO;
		off += n + 2;
	}
	memmove(ice->rx, ice->rx + off, ice->rxlen - off);
	ice->rxlen -= off;
	return err;
}


/**
 * Read and handle what arrived; answers are queued and flushed
 *
 * @return 0, ECONNRESET (peer closed), EBADMSG (a check or answer did not
 *         verify), EPROTO/EMSGSIZE (bad framing or probe), or errno
 */
int as_ice_read(struct as_ice *ice)
{
	int err = ice->rxlen ? frames(ice) : 0;

	while (!err) {
		ssize_t n = read(ice->fd, ice->rx + ice->rxlen,
				 sizeof(ice->rx) - ice->rxlen);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = errno == EAGAIN ? 0 : errno;
			break;
		}
		if (n == 0) {
			err = ECONNRESET;
			break;
		}
		ice->rxlen += (size_t)n;
		err = frames(ice);
		if (err)
			break;
	}
	if (!err || err == ECONNRESET) {
		int ferr = as_ice_flush(ice);

		err = err ? err : ferr;
	}
	return err;
}


/** Resend unanswered checks that are due; *rtx counts resends */
int as_ice_timers(struct as_ice *ice, double now, unsigned *rtx)
{
	int err = 0;

	for (unsigned i = 0; !err && i < ice->nchk; ++i) {
		struct as_check *k = &ice->chk[i];

		if (k->answered || k->sends >= AS_CHECK_SENDS ||
		    now - k->last < AS_CHECK_RTX)
			continue;
		err = send_check(ice, k);
		++*rtx;
	}
	return err ? err : as_ice_flush(ice);
}


/** When as_ice_timers() has something to do next; 0: nothing */
double as_ice_next(const struct as_ice *ice)
{
	double t = 0;

	for (unsigned i = 0; i < ice->nchk; ++i) {
		const struct as_check *k = &ice->chk[i];
		double due = k->last + AS_CHECK_RTX;

		if (!k->answered && k->sends < AS_CHECK_SENDS &&
		    (!t || due < t))
			t = due;
	}
	return t;
}


/** Checks complete: ours answered (nominated if controlling), the
 *  peer's answered (with USE-CANDIDATE if controlled) */
bool as_ice_done(const struct as_ice *ice)
{
	if (ice->controlling)
		return ice->nominated && ice->in_ok;
	return ice->out_ok && ice->in_ok && ice->use_cand;
}


/** Queue and send one RTP probe (PT 127, this sequence number) */
int as_ice_probe(struct as_ice *ice, uint16_t seq)
{
	uint8_t *p;

	if (ice->txlen + 2 + 12 + PROBE_PAYLOAD > sizeof(ice->tx))
		return ENOBUFS;
	p = ice->tx + ice->txlen;
	memset(p, 0, 2 + 12 + PROBE_PAYLOAD);
	wr16(p, 12 + PROBE_PAYLOAD);
	p[2] = 0x80;
	p[3] = RTP_PT;
	wr16(p + 4, seq);
	wr32(p + 6, (uint32_t)seq * 3000u);
	wr32(p + 10, ice->controlling ? 0xed9e0001u : 0xc0f00001u);
	memcpy(p + 14, "asbench probe", 13);
	ice->txlen += 2 + 12 + PROBE_PAYLOAD;
	return as_ice_flush(ice);
}


/**
 * The first part of the USERNAME of a Binding request ("ours" of
 * "ours:theirs"): how the conference names a new connection
 */
int as_ice_username(const uint8_t *frame, size_t len, char *ufrag, size_t sz)
{
	char user[2 * AS_UFRAG_SIZE + 4], *colon;
	struct turn_msg m;

	if (turn_msg_decode(&m, frame, len, NULL) ||
	    m.method != TURN_M_BINDING || m.cls != TURN_C_REQUEST ||
	    turn_msg_get_str(&m, TURN_A_USERNAME, user, sizeof(user), NULL))
		return EBADMSG;
	colon = strchr(user, ':');
	if (!colon || (size_t)(colon - user) >= sz)
		return EBADMSG;
	memcpy(ufrag, user, (size_t)(colon - user));
	ufrag[colon - user] = '\0';
	return 0;
}


void as_ice_close(struct as_ice *ice)
{
	if (ice->fd >= 0)
		close(ice->fd);
	ice->fd = -1;
	ice->txlen = ice->rxlen = 0;
}
