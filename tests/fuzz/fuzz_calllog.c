/**
 * @file fuzz_calllog.c  The call log's parsers of untrusted bytes: the
 * JSON reader (control-socket requests), JSON writer round trip of what
 * it read, the ladder labels of recorded SIP and STUN/TURN messages, the
 * app-sharing candidate check the verdict runs on a peer's SDP, and the
 * lines of an SDP the call-log writer keeps for the verdict (the verdict
 * and media flags of a call must not change when they replace the SDP).
 * Corpus: tests/data/stun, $SW_SHARED/corpus/sdp, the JSON files of
 * tests/data/cli
 */
#include <stdbool.h>
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


struct judged {
	int sev;
	char verdict[512], media[64];
};


/* A relayed app-sharing call whose conference answers (or offers) sdp */
static void judge(const char *sdp, bool conf_offers, struct judged *j)
{
	static const char offer[] = "m=applicationsharing 5 TCP/RTP/AVP 127\r\n";
	struct sw_rec_neg n = {.seq = 1, .from_leg = 'e', .to_leg = 'c',
			       .offer_in = offer, .answer_in = sdp};
	struct sw_rec_relay r = {.relay = 1, .alloc_us = 2, .relayed = "x"};
	struct sw_callrec rec = {.tag = "c-1", .state = SW_CS_COMPLETED,
				 .start_us = 1, .answer_us = 2, .end_us = 3,
				 .final_code = 200, .has_route = true,
				 .negs = &n, .n_negs = 1, .relays = &r,
				 .n_relays = 1};

	rec.route.media_policy = "relay";
	if (conf_offers) {
		n.from_leg = 'c';
		n.to_leg = 'e';
		n.offer_in = sdp;
		n.answer_in = NULL;
	}
	memset(j, 0, sizeof(*j));
	j->sev = (int)sw_verdict(&rec, j->verdict, sizeof(j->verdict));
	sw_callrec_media_flags(&rec, j->media, sizeof(j->media));
}


/* The lines the writer keeps of an SDP judge as the whole SDP does */
static void verdict_lines(const char *text)
{
	char *lines = sw_sdp_verdict_lines(text, NULL);
	struct judged a, b;

	if (!lines)
		return;
	if (sw_sdp_has_usable_tcp_candidate(text) !=
	    sw_sdp_has_usable_tcp_candidate(lines))
		abort();
	for (int i = 0; i < 2; ++i) {
		judge(text, i, &a);
		judge(lines, i, &b);
		if (memcmp(&a, &b, sizeof(a)))
			abort();
	}
	free(lines);
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
	verdict_lines(text);
	free(text);
	return 0;
}
