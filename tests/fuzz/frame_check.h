/**
 * @file frame_check.h  Shared body of the framer fuzz targets: the input is
 * cut into pseudo-random chunks (sizes drawn from its first byte) and fed
 * to the incremental framer; the frames must equal those the one-shot
 * length function finds on the whole input, and both must stop alike.
 */
#ifndef FRAME_CHECK_H
#define FRAME_CHECK_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "turn_msg.h"

#define FUZZ_CHECK(c)                                                         \
	do {                                                                  \
		if (!(c))                                                     \
			abort();                                              \
	} while (0)


static int fuzz_frame_one(enum turn_framing kind, const uint8_t *p,
			  size_t n, size_t *lenp)
{
	if (kind == TURN_FRAMING_RFC4571)
		return rfc4571_frame_len(p, n, lenp);
	return turn_frame_len(p, n, lenp);
}


/* One-shot: frame ends over the whole stream (every frame is at least
 * 2 bytes, so n / 2 + 1 slots suffice); returns how it stopped and where
 * the unframed rest starts */
static int fuzz_frame_oneshot(enum turn_framing kind, const uint8_t *p,
			      size_t n, size_t *ends, size_t *nends,
			      size_t *rest)
{
	size_t off = 0, len;
	int err;

	*nends = 0;
	for (;;) {
		err = fuzz_frame_one(kind, p + off, n - off, &len);
		if (err)
			break;
		FUZZ_CHECK(len >= 2 && len <= n - off && len <= TURN_FRAME_MAX);
		off += len;
		ends[(*nends)++] = off;
	}
	*rest = off;
	return err;
}


/* Feed p in chunks of 1..97 bytes; check each frame against ends[] */
static int fuzz_frame_chunks(struct turn_framer *f, const uint8_t *p,
			     size_t n, uint32_t rnd, const size_t *ends,
			     size_t nends, size_t *offp)
{
	const uint8_t *fr;
	size_t off = 0, used, fl, k = 0;
	int err = ENODATA;

	while (off < n) {
		size_t left = 1 + (rnd >> 16) % 97;

		rnd = rnd * 1103515245u + 12345u;
		if (left > n - off)
			left = n - off;
		while (left) {
			err = turn_framer_push(f, p + off, left, &used, &fr,
					       &fl);
			FUZZ_CHECK(used <= left);
			off += used;
			left -= used;
			if (err)
				break;
			/* the same frame, ending at the same stream offset */
			FUZZ_CHECK(k < nends && off == ends[k]);
			FUZZ_CHECK(memcmp(fr, p + off - fl, fl) == 0);
			++k;
		}
		if (err == EBADMSG)
			break;
		FUZZ_CHECK(err == 0 || (err == ENODATA && left == 0));
	}
	FUZZ_CHECK(k == nends);
	*offp = off;
	return err;
}


static int fuzz_frame_run(enum turn_framing kind, const uint8_t *data,
			  size_t size)
{
	static struct turn_framer f;
	size_t *ends, nends, rest, off;
	int e1, e2;

	if (size < 1)
		return 0;
	ends = malloc((size / 2 + 1) * sizeof(*ends));
	FUZZ_CHECK(ends != NULL);
	e1 = fuzz_frame_oneshot(kind, data + 1, size - 1, ends, &nends,
				&rest);
	FUZZ_CHECK(e1 == ENODATA || e1 == EBADMSG);

	turn_framer_init(&f, kind);
	e2 = fuzz_frame_chunks(&f, data + 1, size - 1,
			       data[0] * 2654435761u + 1, ends, nends, &off);
	if (e1 == EBADMSG)
		/* both stop at the bad frame, once its header is seen */
		FUZZ_CHECK(e2 == EBADMSG && off >= rest && off <= rest + 4);
	else
		FUZZ_CHECK(e2 != EBADMSG && off == size - 1);
	free(ends);
	return 0;
}

#endif
