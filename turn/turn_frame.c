/**
 * @file turn_frame.c  Frame boundaries on TCP streams: TURN (STUN messages
 * and ChannelData, RFC 5766 11.5 / RFC 6062) and RFC 4571 (2-byte length,
 * used by ICE-TCP and MS-ICE2), plus an accumulator over partial reads.
 */
#include <errno.h>
#include <string.h>

#include "turn_msg.h"


/**
 * Length of the frame at the start of a TURN-over-TCP stream
 *
 * @param p      Stream bytes
 * @param avail  Bytes available at p
 * @param lenp   Frame length (0), bytes needed (ENODATA, 0 if unknown)
 *
 * @return 0 if a whole frame is buffered, ENODATA if more bytes are needed,
 *         EBADMSG if these bytes cannot start a frame, EINVAL
 */
int turn_frame_len(const uint8_t *p, size_t avail, size_t *lenp)
{
	size_t len, field;

	if (!lenp || (!p && avail))
		return EINVAL;
	*lenp = 0;
	if (avail < 4)
		return ENODATA;

	field = (size_t)p[2] << 8 | p[3];
	switch (p[0] >> 6) {

	case 0: /* STUN: 20-byte header + length, a multiple of 4 */
		if (field % 4)
			return EBADMSG;
		len = TURN_HDR_LEN + field;
		break;

	case 1: /* ChannelData 0x4000-0x7fff, padded to 4 on TCP (11.5) */
		len = 4 + ((field + 3) & ~(size_t)3);
		break;

	default: /* 0x8000-0xffff: reserved, never a TURN frame */
		return EBADMSG;
	}
	*lenp = len;
	return avail >= len ? 0 : ENODATA;
}


/**
 * Length of the frame at the start of an RFC 4571 stream: 2-byte length
 * then that many bytes
 *
 * @return 0, ENODATA (*lenp: bytes needed, 0 if unknown), EINVAL
 */
int rfc4571_frame_len(const uint8_t *p, size_t avail, size_t *lenp)
{
	size_t len;

	if (!lenp || (!p && avail))
		return EINVAL;
	*lenp = 0;
	if (avail < 2)
		return ENODATA;
	len = 2 + ((size_t)p[0] << 8 | p[1]);
	*lenp = len;
	return avail >= len ? 0 : ENODATA;
}


static int frame_len(enum turn_framing kind, const uint8_t *p, size_t avail,
		     size_t *lenp)
{
	if (kind == TURN_FRAMING_RFC4571)
		return rfc4571_frame_len(p, avail, lenp);
	return turn_frame_len(p, avail, lenp);
}


/** Reset a framer to the start of a stream */
void turn_framer_init(struct turn_framer *f, enum turn_framing kind)
{
	if (!f)
		return;
	f->kind = kind;
	f->len = 0;
	f->need = 0;
	f->done = false;
}


/* Take bytes from p until the frame (or, while its length is unknown, its
 * header) is complete; returns how many were taken */
static size_t framer_fill(struct turn_framer *f, const uint8_t *p, size_t n)
{
	size_t want = f->need ? f->need : (f->kind == TURN_FRAMING_RFC4571 ?
						   2 : 4);
	size_t take = want - f->len;

	if (take > n)
		take = n;
	memcpy(f->buf + f->len, p, take);
	f->len += take;
	return take;
}


/**
 * Feed stream bytes; hands out one whole frame at a time
 *
 * @param f         Framer
 * @param p         New bytes (n of them)
 * @param used      Bytes of p consumed; call again with the rest
 * @param frame     On 0: the frame, valid until the next call
 * @param framelen  On 0: its length
 *
 * @return 0 (a frame is ready), ENODATA (p consumed, no frame yet),
 *         EBADMSG (the stream cannot be framed; reinitialise), EINVAL
 */
int turn_framer_push(struct turn_framer *f, const uint8_t *p, size_t n,
		     size_t *used, const uint8_t **frame, size_t *framelen)
{
	size_t len, off = 0;
	int err;

	if (!f || !used || !frame || !framelen || (!p && n))
		return EINVAL;
	*used = 0;
	if (f->done) {
		f->len = 0;
		f->need = 0;
		f->done = false;
	}

	/* fast path: a whole frame at the start of p, nothing buffered */
	if (f->len == 0) {
		err = frame_len(f->kind, p, n, &len);
		if (err == 0) {
			*used = len;
			*frame = p;
			*framelen = len;
			return 0;
		}
		if (err != ENODATA)
			return err;
	}

	while (off < n) {
		off += framer_fill(f, p + off, n - off);
		err = frame_len(f->kind, f->buf, f->len, &len);
		if (err != 0 && err != ENODATA) {
			*used = off;
			return err;
		}
		f->need = len;
		if (err == 0) {
			f->done = true;
			*used = off;
			*frame = f->buf;
			*framelen = len;
			return 0;
		}
	}
	*used = off;
	return ENODATA;
}
