/**
 * @file fuzz_calllog.c  The call log's parsers of untrusted bytes: the
 * JSON reader (control-socket requests), JSON writer round trip of what
 * it read, the ladder labels of recorded SIP and STUN/TURN messages, and
 * the app-sharing candidate check the verdict runs on a peer's SDP.
 * Corpus: tests/data/stun, $SW_SHARED/corpus/sdp, the JSON files of
 * tests/data/cli
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sw_calllog_int.h"
#include "sw_json.h"


static void rewrite(struct sw_json *j, const char *key,
		    const struct sw_jval *v)
{
	switch (v->type) {
	case SW_JSTR: sw_json_str(j, key, v->str); break;
	case SW_JNUM: sw_json_dbl(j, key, v->num); break;
	case SW_JBOOL: sw_json_bool(j, key, v->b); break;
	case SW_JNULL: sw_json_null(j, key); break;
	default:
		if (v->type == SW_JARR)
			sw_json_arr_open(j, key);
		else
			sw_json_obj_open(j, key);
		for (const struct sw_jval *c = v->child; c; c = c->next)
			rewrite(j, v->type == SW_JOBJ ? c->key : NULL, c);
		if (v->type == SW_JARR)
			sw_json_arr_close(j);
		else
			sw_json_obj_close(j);
	}
}


/* What the reader accepts, the writer writes as JSON the reader accepts */
static void json_round_trip(const uint8_t *data, size_t size)
{
	struct sw_jval *v = NULL, *w = NULL;
	struct sw_json j;

	if (sw_jval_parse(&v, (const char *)data, size))
		return;
	sw_json_init(&j, size & 1);
	rewrite(&j, NULL, v);
	if (sw_json_finish(&j) == 0 &&
	    sw_jval_parse(&w, j.buf, j.len) != 0)
		abort();
	sw_jval_free(w);
	sw_jval_free(v);
	sw_json_free(&j);
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char label[128], detail[256];
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	json_round_trip(data, size);
	cl_sum_sip(data, size, label, sizeof(label), detail, sizeof(detail));
	cl_sum_stun(data, size, label, sizeof(label), detail, sizeof(detail));
	memcpy(text, data, size);
	text[size] = '\0';
	sw_sdp_has_usable_tcp_candidate(text);
	free(text);
	return 0;
}
