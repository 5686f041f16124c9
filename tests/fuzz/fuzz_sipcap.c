/**
 * @file fuzz_sipcap.c  Sofia's transport log back into SIP messages
 * (sip/sipua_caplog.c): the input is a run of log pieces separated by
 * 0x01 bytes (each one su_log() call as formatted; 0x02 marks a piece
 * cut by the caller's buffer), fed in order; every message rebuilt is
 * checked against the limits and searched for its Call-ID and the tags
 * of its From and To.
 * Corpus: tests/data/sipcap
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sipua.h"
#include "sipua_caplog.h"


static void check_msg(const struct sipua_caplog *cl)
{
	size_t off, n;

	if (cl->len > SW_SIP_MSG_MAX || cl->len > cl->size)
		abort();
	if (sipua_caplog_call_id(cl->buf, cl->len, &off, &n) &&
	    (!n || off + n > cl->len))
		abort();
	for (int to = 0; to < 2; ++to)
		if (sipua_caplog_tag(cl->buf, cl->len, to, &off, &n) &&
		    (!n || off + n > cl->len))
			abort();
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sipua_caplog cl = {0};
	char *piece = malloc(size + 1);
	size_t i = 0;

	if (!piece)
		return 0;
	while (i <= size) {
		size_t j = i, n;
		bool cut = false;

		while (j < size && data[j] != 0x01)
			++j;
		n = j - i;
		memcpy(piece, data + i, n);
		piece[n] = '\0';
		if (n && piece[0] == 0x02)
			cut = true;
		if (sipua_caplog_piece(&cl, piece, strlen(piece), cut) ==
		    SIPUA_CAPLOG_MSG)
			check_msg(&cl);
		i = j + 1;
	}
	sipua_caplog_reset(&cl);
	free(piece);
	return 0;
}
