/**
 * @file test_calllog.c  Suite "calllog": JSON writer/reader, the verdict
 * (one case per failure the operator must be told about), ladder labels,
 * emit -> writer -> load round trip with every field of the fixture calls,
 * upsert rules, verdicts the writer computes from the facts it holds in
 * memory against those of the calls read back (random calls, with the
 * facts held, none held, and a bound that forgets calls half-way), lost
 * calls, retention by age and count, dropped messages, and the v1 -> v2
 * schema migration.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "unit.h"
#include "calllog_fixture.h"
#include <sqlite3.h>

#include "sw_calllog_int.h"
#include "sw_callstore_sqlite.h"
#include "sw_ctl.h"
#include "sw_json.h"
#include "sw_log.h"

static char tmpdir[] = "/tmp/swclogXXXXXX";


static const char *dbpath(const char *name)
{
	static char path[512];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	return path;
}


static struct sw_calllog *open_log(const char *name, uint32_t days,
				   uint32_t max_calls, uint32_t qlen)
{
	struct sw_calllog_opts o = {dbpath(name), days, max_calls, qlen, 0, 0,
				    0};
	struct sw_calllog *cl = NULL;

	CU_ASSERT_EQUAL(sw_calllog_open(&cl, &o), 0);
	return cl;
}


/* The store's reading handle (sw_callstore.h) */
static struct sw_callstore *open_ro(const char *name)
{
	char err[256];
	struct sw_callstore *db = NULL;

	CU_ASSERT_EQUAL(sw_callstore_open(&db, dbpath(name), false, err,
					  sizeof(err)), 0);
	return db;
}


/* The file itself, to check what is on disk */
static sqlite3 *open_raw(const char *name)
{
	sqlite3 *db = NULL;

	CU_ASSERT_EQUAL(sqlite3_open_v2(dbpath(name), &db,
					SQLITE_OPEN_READONLY, NULL), 0);
	return db;
}


static int64_t count(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int64_t n = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL))
		return -2;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}


static int64_t count_in(const char *name, const char *sql)
{
	sqlite3 *db = open_raw(name);
	int64_t n = count(db, sql);

	sqlite3_close(db);
	return n;
}


/* ---- JSON ---------------------------------------------------------------- */

UNIT_TEST(test_json_writer, "json writer")
{
	struct sw_json j;

	sw_json_init(&j, false);
	sw_json_obj_open(&j, NULL);
	sw_json_str(&j, "s", "a\"b\\c\n\x01 é →");
	sw_json_int(&j, "i", -42);
	sw_json_bool(&j, "b", true);
	sw_json_null(&j, "n");
	sw_json_arr_open(&j, "a");
	sw_json_int(&j, NULL, 1);
	sw_json_str(&j, NULL, "x");
	sw_json_arr_close(&j);
	sw_json_strn(&j, "bad", "\xff\xfe" "ok", 4);
	sw_json_obj_close(&j);
	CU_ASSERT_EQUAL(sw_json_finish(&j), 0);
	CU_ASSERT_STRING_EQUAL(j.buf,
			       "{\"s\":\"a\\\"b\\\\c\\n\\u0001 é →\",\"i\":-42,"
			       "\"b\":true,\"n\":null,\"a\":[1,\"x\"],"
			       "\"bad\":\"\\ufffd\\ufffdok\"}");
	sw_json_reset(&j);
	sw_json_obj_open(&j, NULL);
	CU_ASSERT_NOT_EQUAL(sw_json_finish(&j), 0); /* still open */
	sw_json_obj_close(&j);
	sw_json_obj_close(&j); /* one close too many latches */
	CU_ASSERT_EQUAL(sw_json_finish(&j), EPROTO);
	sw_json_free(&j);
}


UNIT_TEST(test_json_pretty, "json pretty")
{
	struct sw_json j;

	sw_json_init(&j, true);
	sw_json_obj_open(&j, NULL);
	sw_json_arr_open(&j, "e");
	sw_json_arr_close(&j);
	sw_json_obj_open(&j, "o");
	sw_json_int(&j, "k", 1);
	sw_json_obj_close(&j);
	sw_json_obj_close(&j);
	CU_ASSERT_EQUAL(sw_json_finish(&j), 0);
	CU_ASSERT_STRING_EQUAL(j.buf, "{\n  \"e\": [],\n  \"o\": {\n    \"k\": 1"
				      "\n  }\n}");
	sw_json_free(&j);
}


UNIT_TEST(test_json_reader, "json reader")
{
	static const char txt[] =
		" {\"cmd\":\"status\",\"args\":{\"n\":12,\"f\":false,"
		"\"u\":\"\\u00e9\\ud83d\\ude00\\n\",\"l\":[1,2,[3]],"
		"\"z\":null}} ";
	struct sw_jval *v = NULL;
	const struct sw_jval *args;

	CU_ASSERT_EQUAL_FATAL(sw_jval_parse(&v, txt, strlen(txt)), 0);
	CU_ASSERT_STRING_EQUAL(sw_jval_str(v, "cmd", ""), "status");
	args = sw_jval_get(v, "args");
	CU_ASSERT_EQUAL(sw_jval_int(args, "n", 0), 12);
	CU_ASSERT_EQUAL(sw_jval_bool(args, "f", true), false);
	CU_ASSERT_STRING_EQUAL(sw_jval_str(args, "u", ""),
			       "é\xf0\x9f\x98\x80\n");
	CU_ASSERT_EQUAL(sw_jval_get(args, "z")->type, SW_JNULL);
	CU_ASSERT_EQUAL(sw_jval_get(args, "l")->child->next->next->type,
			SW_JARR);
	CU_ASSERT_PTR_NULL(sw_jval_get(args, "missing"));
	CU_ASSERT_EQUAL(sw_jval_int(args, "missing", 7), 7);
	sw_jval_free(v);
}


UNIT_TEST(test_json_reader_errors, "json reader errors")
{
	static const char *const bad[] = {
		"", "{", "{\"a\"}", "{\"a\":1,}", "[1 2]", "\"abc", "{} x",
		"\"\\ud800\"", "\"\\x\"", "tru", "\"a\nb\"", "{\"a\":-}",
	};
	char deep[200];
	struct sw_jval *v;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i) {
		v = NULL;
		CU_ASSERT_EQUAL(sw_jval_parse(&v, bad[i], strlen(bad[i])),
				EBADMSG);
		CU_ASSERT_PTR_NULL(v);
	}
	memset(deep, '[', sizeof(deep));
	CU_ASSERT_EQUAL(sw_jval_parse(&v, deep, sizeof(deep)), EBADMSG);
}


/* The reader's limits: 32 nested containers parse, 33 do not; invalid
 * UTF-8 and a value given twice; a \u0000 ends the C string */
UNIT_TEST(test_json_reader_limits, "json reader limits")
{
	char deep[2 * SW_JSON_MAX_DEPTH + 3];
	struct sw_jval *v = NULL;
	size_t n = SW_JSON_MAX_DEPTH;

	memset(deep, '[', n);
	memset(deep + n, ']', n);
	CU_ASSERT_EQUAL(sw_jval_parse(&v, deep, 2 * n), 0);
	sw_jval_free(v);
	v = NULL;
	memset(deep, '[', n + 1);
	memset(deep + n + 1, ']', n + 1);
	CU_ASSERT_EQUAL(sw_jval_parse(&v, deep, 2 * n + 2), EBADMSG);
	CU_ASSERT_PTR_NULL(v);
	CU_ASSERT_EQUAL(sw_jval_parse(&v, "\"\xff\"", 3), EBADMSG);
	CU_ASSERT_PTR_NULL(v);
	CU_ASSERT_EQUAL(sw_jval_parse(&v, "{\"a\":\"x\\u0000y\"}", 16), 0);
	CU_ASSERT_STRING_EQUAL(sw_jval_str(v, "a", ""), "x");
	sw_jval_free(v);
	v = NULL;
	CU_ASSERT_EQUAL(sw_jval_parse(&v, "{\"a\":1,\"b\":2,\"a\":3}", 19), 0);
	CU_ASSERT_EQUAL(sw_jval_int(v, "a", 0), 3);
	CU_ASSERT_STRING_EQUAL(v->child->key, "a");
	CU_ASSERT_STRING_EQUAL(v->child->next->key, "b");
	sw_jval_free(v);
}


/* ---- verdict --------------------------------------------------------------- */

struct vcase {
	struct sw_callrec r;
	struct sw_rec_relay relay;
	struct sw_rec_conn conn;
	struct sw_rec_neg neg;
	char buf[512];
};


/* An answered relay-policy app-sharing call, Edge -> conference */
static void vc_init(struct vcase *v)
{
	memset(v, 0, sizeof(*v));
	v->r.tag = "c-9";
	v->r.state = SW_CS_COMPLETED;
	v->r.inbound_leg = 'e';
	v->r.start_us = 1000000;
	v->r.answer_us = 1500000;
	v->r.end_us = 61500000;
	v->r.final_code = 200;
	v->r.legs[0] = (struct sw_rec_leg){.leg = 'e', .inbound = true,
					   .peer = "192.0.2.1:5061",
					   .final_code = 200};
	v->r.legs[1] = (struct sw_rec_leg){.leg = 'c', .peer = "10.0.0.2:5060",
					   .final_code = 200};
	v->r.has_leg[0] = v->r.has_leg[1] = true;
	v->r.has_route = true;
	v->r.route.rule = "sfb";
	v->r.route.target = "sip:10.0.0.2";
	v->r.route.media_policy = "relay";
	v->neg = (struct sw_rec_neg){.seq = 1, .from_leg = 'e', .to_leg = 'c',
				     .offer_in = "v=0\r\nm=applicationsharing "
						 "5 TCP/RTP/AVP 127\r\n",
				     .answer_in = "v=0\r\nm=applicationsharing"
						  " 3390 TCP/RTP/AVP 127\r\n"
						  "a=candidate:1 1 TCP-PASS 2 "
						  "10.0.0.2 3390 typ host\r\n"};
	v->r.negs = &v->neg;
	v->r.n_negs = 1;
	v->relay = (struct sw_rec_relay){.relay = 1, .relayed = "10.0.0.1:24000",
					 .alloc_us = 1600000};
	v->r.relays = &v->relay;
	v->r.n_relays = 1;
	v->conn = (struct sw_rec_conn){.relay = 1, .conn = 1,
				       .peer = "192.0.2.9:5000",
				       .bind_code = 200};
	v->r.conns = &v->conn;
	v->r.n_conns = 1;
	for (int d = 0; d < 2; ++d) {
		v->r.has_ice[d] = true;
		v->r.ice[d] = (struct sw_rec_ice){
			(enum sw_ice_dir)d, SW_ICE_SUCCEEDED, 2000000, 2100000,
			0, NULL, true, NULL, 30, 1, 1};
	}
	v->r.has_reinvite = true;
	v->r.reinvite = (struct sw_rec_reinvite){.leg = 'e', .result = 200,
						 .latency_ms = 95};
}


static enum sw_verdict_sev vc_run(struct vcase *v)
{
	return sw_verdict(&v->r, v->buf, sizeof(v->buf));
}


#define VERDICT_HAS(v, sev, text)                                             \
	do {                                                                  \
		CU_ASSERT_EQUAL(vc_run(v), sev);                              \
		if (!strstr((v)->buf, text))                                  \
			fprintf(stderr, "\nverdict: %s\nwanted: %s\n",        \
				(v)->buf, text);                              \
		CU_ASSERT_PTR_NOT_NULL(strstr((v)->buf, text));               \
	} while (0)


UNIT_TEST(test_verdict_success, "verdict success")
{
	struct vcase v;

	vc_init(&v);
	VERDICT_HAS(&v, SW_VERDICT_OK, "Application sharing worked: relay, "
		    "ICE succeeded both ways, completion re-INVITE answered "
		    "200 in 95 ms, connected 1m00s.");
	v.r.negs = NULL;
	v.r.n_negs = 0;
	v.r.route.media_policy = NULL;
	VERDICT_HAS(&v, SW_VERDICT_OK, "Call completed normally after 1m00s");
	/* an audio call is judged by what it carried: every routed call has
	 * an application-sharing policy, its offer had no such m= line */
	vc_init(&v);
	v.neg.offer_in = v.neg.offer_out = "v=0\r\nm=audio 5 RTP/AVP 0\r\n";
	v.neg.answer_in = v.neg.answer_out = "v=0\r\nm=audio 7 RTP/AVP 0\r\n";
	v.r.n_relays = v.r.n_conns = 0;
	v.r.has_ice[0] = v.r.has_ice[1] = v.r.has_reinvite = false;
	VERDICT_HAS(&v, SW_VERDICT_OK, "Call completed normally after 1m00s "
		    "connected.");
	CU_ASSERT(!sw_callrec_is_appsharing(&v.r));
	/* application sharing stripped by the rule: not a decline */
	vc_init(&v);
	v.r.route.media_policy = "strip";
	v.neg.answer_in = "v=0\r\nm=applicationsharing 0 TCP/RTP/AVP 127\r\n";
	v.r.n_relays = v.r.n_conns = 0;
	v.r.has_ice[0] = v.r.has_ice[1] = v.r.has_reinvite = false;
	VERDICT_HAS(&v, SW_VERDICT_OK, "application sharing was removed as "
		    "dial plan rule sfb says (media.applicationsharing = "
		    "strip)");
}


/* The controlling agent nominated a direct pair: the relay was released
 * on purpose, even if the Edge never connected to it, and there was no
 * completion re-INVITE */
UNIT_TEST(test_verdict_direct, "verdict direct path")
{
	struct vcase v;

	vc_init(&v);
	v.r.has_reinvite = false;
	v.relay.close_reason = SW_MEDIA_DIRECT;
	VERDICT_HAS(&v, SW_VERDICT_OK, "Application sharing worked: media "
		    "took a direct path (not through the gateway), the relay "
		    "was released, connected 1m00s.");
	v.r.n_conns = 0;
	v.r.has_ice[0] = v.r.has_ice[1] = false;
	VERDICT_HAS(&v, SW_VERDICT_OK, "media took a direct path");
	v.r.state = SW_CS_ACTIVE;
	VERDICT_HAS(&v, SW_VERDICT_PENDING, "In progress");
}


UNIT_TEST(test_verdict_diagnostics, "verdict diagnostics")
{
	struct vcase v;

	vc_init(&v);
	v.r.state = SW_CS_REJECTED;
	v.r.legs[1].final_code = 403;
	v.r.legs[1].ms_diag_public = "21002;reason=\"Attendees cannot share "
				     "in this conference\";component=\"ASMCU\"";
	VERDICT_HAS(&v, SW_VERDICT_FAIL, "21002 \"Attendees cannot share in "
		    "this conference\": the Skype meeting does not let this "
		    "participant share; make them a presenter");
	v.r.legs[1].ms_diag_public = NULL;
	v.r.legs[1].ms_diag = "24012;reason=\"Error parsing SDP: Cannot "
			      "support any media offered by client\"";
	VERDICT_HAS(&v, SW_VERDICT_FAIL, "payload type 127");
	v.r.legs[1].ms_diag = "24000;reason=\"Error parsing SDP\"";
	VERDICT_HAS(&v, SW_VERDICT_FAIL, "zero-port TCP-ACT");
	v.r.legs[1].ms_diag = NULL;
	v.r.legs[0].ms_client_diag = "52017;reason=\"Encryption levels dont "
				     "match\"";
	VERDICT_HAS(&v, SW_VERDICT_FAIL, "encryption levels do not match");
}


/* Every ms-diagnostics code the verdict knows, in each header it may come
 * in: the verdict names it (not the bare SIP status), with the far end's
 * reason when the header has one */
UNIT_TEST(test_verdict_diag_table, "verdict diagnostics table")
{
	static const char *const hdrs[] = {"ms-diagnostics-public",
					   "ms-diagnostics",
					   "ms-client-diagnostics"};
	int code;
	bool client_ice;
	size_t n = 0;
	char val[128], want[64];

	for (size_t i = 0; sw_verdict_diag_code(i, &code, &client_ice); ++i) {
		for (int h = 0; h < 3; ++h) {
			struct vcase v;
			const char **slot;

			vc_init(&v);
			if (client_ice) { /* after a media path that explains
					   * nothing: passthrough, no checks seen */
				v.r.route.media_policy = "passthrough";
				v.r.n_relays = v.r.n_conns = 0;
				v.r.has_ice[0] = v.r.has_ice[1] = false;
				v.r.has_reinvite = false;
			}
			else {
				v.r.state = SW_CS_REJECTED;
				v.r.answer_us = 0;
				v.r.legs[1].final_code = 488;
				v.r.legs[1].final_phrase = "Not Acceptable Here";
			}
			slot = h == 0 ? &v.r.legs[1].ms_diag_public
			       : h == 1 ? &v.r.legs[1].ms_diag
					: &v.r.legs[1].ms_client_diag;
			snprintf(val, sizeof(val), "%d;reason=\"Reason %d\";"
				 "source=\"far.example\"", code, code);
			*slot = val;
			vc_run(&v);
			snprintf(want, sizeof(want), "%s %d", hdrs[h], code);
			if (!strstr(v.buf, want))
				fprintf(stderr, "\n%d in %s: %s\n", code,
					hdrs[h], v.buf);
			CU_ASSERT_PTR_NOT_NULL(strstr(v.buf, want));
			CU_ASSERT_PTR_NULL(strstr(v.buf, "rejected the offer"));
			/* the far end's own reason, quoted, when the text
			 * shows one */
			snprintf(want, sizeof(want), "\"Reason %d\"", code);
			if (code != 52017 && !client_ice)
				CU_ASSERT_PTR_NOT_NULL(strstr(v.buf, want));
		}
		++n;
	}
	CU_ASSERT(n >= 11);
	/* 21006, the conference MCU's RDP connection, and 21000, a new
	 * sharer: what they mean */
	{
		struct vcase v;

		vc_init(&v);
		v.r.legs[1].ms_diag = "21006;reason=\"x\";component=\"ASMCU\"";
		VERDICT_HAS(&v, SW_VERDICT_FAIL, "could not establish the RDP "
			    "connection over the sharing media path");
		v.r.legs[1].ms_diag = "21000";
		VERDICT_HAS(&v, SW_VERDICT_INFO, "ms-diagnostics 21000 \"New "
			    "sharer joined conference\": this sharing session "
			    "ended because another participant started "
			    "sharing");
		/* a code the table does not know: quoted after the status */
		vc_init(&v);
		v.r.state = SW_CS_REJECTED;
		v.r.answer_us = 0;
		v.r.legs[1].final_code = 480;
		v.r.legs[1].final_phrase = "Temporarily Unavailable";
		v.r.legs[1].ms_diag = "13004;reason=\"Request was proxied\"";
		VERDICT_HAS(&v, SW_VERDICT_INFO, "declined the call (480 "
			    "Temporarily Unavailable): the callee was busy, "
			    "unavailable or refused; no gateway fault. It said "
			    "ms-diagnostics 13004 \"Request was proxied\".");
	}
}


/* A fault of the gateway explains what followed from it */
UNIT_TEST(test_verdict_fault, "verdict fault")
{
	struct vcase v;

	vc_init(&v);
	v.r.n_conns = 0;
	v.r.has_ice[0] = v.r.has_ice[1] = v.r.has_reinvite = false;
	v.r.legs[1].ms_client_diag = "23;reason=\"Call failed to establish "
				     "due to a media connectivity failure\"";
	v.r.gw_fault = "the relay command PERMIT could not be handed to its "
		       "relay thread (its command queue stayed full for 5000 "
		       "ms) and was lost: the relay never permitted the "
		       "Edge's addresses, so it refused their connections";
	VERDICT_HAS(&v, SW_VERDICT_FAIL, "shareway failed this call: the relay "
		    "command PERMIT could not be handed to its relay thread");
	v.r.state = SW_CS_ACTIVE;
	v.r.end_us = 0;
	VERDICT_HAS(&v, SW_VERDICT_FAIL, "was lost");
}


UNIT_TEST(test_verdict_status, "verdict status")
{
	struct vcase v;

	vc_init(&v);
	v.r.state = SW_CS_REJECTED;
	v.r.answer_us = 0;
	v.r.legs[1].final_code = 488;
	v.r.legs[1].final_phrase = "Not Acceptable Here";
	VERDICT_HAS(&v, SW_VERDICT_FAIL, "(10.0.0.2:5060) rejected the offer "
		    "with 488 Not Acceptable Here: no common media");
	v.r.legs[1].final_code = 0;
	v.r.final_code = 408;
	v.r.final_phrase = "Request Timeout";
	VERDICT_HAS(&v, SW_VERDICT_FAIL, "No answer from the conference side "
		    "(10.0.0.2:5060) (408 Request Timeout)");
	v.r.legs[1].final_code = 503;
	v.r.legs[1].final_phrase = "Service Unavailable";
	VERDICT_HAS(&v, SW_VERDICT_FAIL, "was unreachable or failing (503 "
		    "Service Unavailable)");
	v.r.has_leg[1] = false;
	v.r.route.rule = "";
	v.r.final_code = 404;
	v.r.final_phrase = "Not Found";
	VERDICT_HAS(&v, SW_VERDICT_FAIL, "No dial plan rule matched");
	v.r.route.rule = "block";
	v.r.route.target = NULL;
	v.r.final_code = 403;
	v.r.final_phrase = "Forbidden";
	VERDICT_HAS(&v, SW_VERDICT_INFO, "Dial plan rule block answered 403 "
		    "Forbidden as configured");
}


/* A response the gateway gave itself: its reason and fix, never a far
 * end's fault; a status-based fix when no reason was recorded */
UNIT_TEST(test_verdict_gateway, "verdict gateway")
{
	static const struct {
		int code;
		const char *why, *words;
	} fb[] = {
		{400, NULL, "broke SIP syntax or a limit of the gateway"},
		{414, NULL, "broke SIP syntax or a limit of the gateway"},
		{403, NULL, "match.source"},
		{404, NULL, "shareway locate"},
		{408, NULL, "no final answer within invite_timeout"},
		{483, NULL, "Max-Forwards reached 0"},
		{488, NULL, "could not accept the offer (shareway sdp c-9 "
			    "shows the offer)."},
		{503, NULL, "no dial plan, a call limit"},
		{599, NULL, "see the gateway's log lines of the call"},
		{403, "the source 192.0.2.7:5060 matches no zone",
		 "shareway answered 403 Forbidden itself: the source "
		 "192.0.2.7:5060 matches no zone."},
	};
	struct vcase v;

	for (size_t i = 0; i < sizeof(fb) / sizeof(fb[0]); ++i) {
		vc_init(&v);
		v.r.state = SW_CS_REJECTED;
		v.r.answer_us = 0;
		v.r.has_leg[1] = false;
		v.r.final_code = fb[i].code;
		v.r.final_phrase = "Forbidden";
		v.r.answered_by = "gw";
		v.r.gw_reason = fb[i].why;
		VERDICT_HAS(&v, SW_VERDICT_FAIL, fb[i].words);
		CU_ASSERT_PTR_NULL(strstr(v.buf, "trusted peer"));
	}
	/* the gateway's 408 for a far end that said nothing: not blamed on
	 * a leg's response (leg B has none) */
	vc_init(&v);
	v.r.state = SW_CS_REJECTED;
	v.r.answer_us = 0;
	v.r.legs[1].final_code = 0;
	v.r.final_code = 408;
	v.r.final_phrase = "Request Timeout";
	v.r.answered_by = "gw";
	v.r.gw_reason = "no final answer from 10.0.0.2:5060 (zone cms) within "
			"invite_timeout 5 s";
	VERDICT_HAS(&v, SW_VERDICT_FAIL, "shareway answered 408 Request "
		    "Timeout itself: no final answer from 10.0.0.2:5060");
	/* as the dial plan says: not a fault */
	v.r.final_code = 488;
	v.r.final_phrase = "Not Acceptable Here";
	v.r.answered_by = "rule";
	v.r.gw_reason = "dial plan rule x refuses offers with "
			"m=applicationsharing (media.applicationsharing = "
			"reject)";
	VERDICT_HAS(&v, SW_VERDICT_INFO, "shareway answered 488 Not "
		    "Acceptable Here as the dial plan says: dial plan rule x");
	/* a far end's refusal relayed: the far end's */
	v.r.answered_by = "c";
	v.r.legs[1].final_code = 403;
	v.r.legs[1].final_phrase = "Forbidden";
	VERDICT_HAS(&v, SW_VERDICT_FAIL, "The conference side (10.0.0.2:5060) "
		    "refused the call (403 Forbidden)");
}


UNIT_TEST(test_verdict_transport, "verdict transport")
{
	struct vcase v;

	vc_init(&v);
	v.r.state = SW_CS_FAILED;
	v.r.answer_us = 0;
	v.r.legs[1].tls_subject = "CN=cms.example.local";
	v.r.legs[1].zone = "cms";
	v.r.legs[1].error = "TLS handshake failed: certificate subject not "
			    "trusted";
	VERDICT_HAS(&v, SW_VERDICT_FAIL, "TLS handshake with the conference "
		    "server (10.0.0.2:5060) failed: certificate subject "
		    "CN=cms.example.local not trusted; add it to tls.subjects of "
		    "zone cms or install its CA in tls_ca.");
	v.r.legs[1].error = "connection refused";
	VERDICT_HAS(&v, SW_VERDICT_FAIL, "Transport failure toward the "
		    "conference server (10.0.0.2:5060): connection refused.");
}


UNIT_TEST(test_verdict_cancel_lost_active, "verdict cancel/lost/active")
{
	struct vcase v;

	vc_init(&v);
	v.r.state = SW_CS_CANCELLED;
	v.r.answer_us = 0;
	v.r.end_us = v.r.start_us + 4200000;
	VERDICT_HAS(&v, SW_VERDICT_INFO, "Cancelled by the caller after 4.2s");
	v.r.state = SW_CS_LOST;
	VERDICT_HAS(&v, SW_VERDICT_FAIL, "sharewayd stopped during this call");
	vc_init(&v);
	v.r.state = SW_CS_ACTIVE;
	v.r.end_us = 0;
	v.r.ice[1].state = SW_ICE_CHECKING;
	v.r.reinvite.result = 0;
	VERDICT_HAS(&v, SW_VERDICT_PENDING, "In progress (answered)");
	v.r.ice[1].state = SW_ICE_FAILED;
	VERDICT_HAS(&v, SW_VERDICT_FAIL, "ICE c→e");
}


UNIT_TEST(test_verdict_media_path, "verdict media path")
{
	struct vcase v;

	vc_init(&v);
	v.neg.answer_in = "v=0\r\nm=applicationsharing 3390 TCP/RTP/AVP 127"
			  "\r\na=candidate:1 1 UDP 2 10.0.0.2 3390 typ host\r\n"
			  "a=candidate:2 1 TCP-ACT 2 10.0.0.2 0 typ host\r\n";
	VERDICT_HAS(&v, SW_VERDICT_FAIL, "answer had no usable TCP candidate");
	v.neg.answer_in = "v=0\r\nm=applicationsharing 0 TCP/RTP/AVP 127\r\n";
	VERDICT_HAS(&v, SW_VERDICT_FAIL, "declined application sharing");
	/* SfB's reused dialog: an audio call, sharing added by re-INVITE, then
	 * stopped with port 0: the conference took it, it declined nothing */
	{
		struct sw_rec_neg negs[3] = {
			{.seq = 1, .from_leg = 'e', .to_leg = 'c',
			 .answer_in = "v=0\r\nm=audio 4000 RTP/AVP 0\r\n"},
			{.seq = 2, .from_leg = 'e', .to_leg = 'c',
			 .offer_in = v.neg.offer_in,
			 .answer_in = v.neg.answer_in},
			{.seq = 3, .from_leg = 'e', .to_leg = 'c',
			 .offer_in = "v=0\r\nm=applicationsharing 0 "
				     "TCP/RTP/AVP 127\r\n",
			 .answer_in = "v=0\r\nm=applicationsharing 0 "
				      "TCP/RTP/AVP 127\r\n"},
		};

		vc_init(&v);
		negs[1].answer_in = v.neg.answer_in;
		v.r.negs = negs;
		v.r.n_negs = 3;
		VERDICT_HAS(&v, SW_VERDICT_OK, "Application sharing worked");
		negs[1].answer_in = negs[2].answer_in;
		VERDICT_HAS(&v, SW_VERDICT_FAIL, "declined application sharing");
	}
	vc_init(&v);
	v.relay.alloc_us = 0;
	v.relay.error_code = 508;
	v.relay.error = "Insufficient Capacity";
	VERDICT_HAS(&v, SW_VERDICT_FAIL, "TURN allocation for the client "
		    "failed (508 Insufficient Capacity)");
	vc_init(&v);
	v.r.n_conns = 0;
	VERDICT_HAS(&v, SW_VERDICT_FAIL, "The Edge never connected to the "
		    "relayed address 10.0.0.1:24000 within 59.9s (no "
		    "ConnectionAttempt): check the firewall");
	vc_init(&v);
	v.conn.bind_code = 447;
	v.conn.bind_error = "Connection Timeout or Failure";
	VERDICT_HAS(&v, SW_VERDICT_FAIL, "ConnectionBind for the Edge's "
		    "connection from 192.0.2.9:5000 failed (447 Connection "
		    "Timeout or Failure)");
	v.conn.bind_code = 0;
	VERDICT_HAS(&v, SW_VERDICT_FAIL, "no ConnectionBind followed");
}


UNIT_TEST(test_verdict_ice, "verdict ice")
{
	struct vcase v;

	vc_init(&v);
	v.r.ice[SW_ICE_E2C].state = SW_ICE_FAILED;
	v.r.ice[SW_ICE_E2C].first_success_us = 0;
	VERDICT_HAS(&v, SW_VERDICT_FAIL, "ICE e→c: no Binding success from "
		    "the conference side within 30 s");
	v.r.ice[SW_ICE_E2C].error_code = 401;
	v.r.ice[SW_ICE_E2C].error = "Unauthorized";
	VERDICT_HAS(&v, SW_VERDICT_FAIL, "answered the Edge's Binding requests "
		    "with 401 Unauthorized");
	vc_init(&v);
	v.r.ice[SW_ICE_C2E].state = SW_ICE_CHECKING; /* ended unanswered */
	VERDICT_HAS(&v, SW_VERDICT_FAIL, "ICE c→e: no Binding success from "
		    "the Edge side within 30 s");
	v.r.ice[SW_ICE_C2E].first_request_us = 0;
	VERDICT_HAS(&v, SW_VERDICT_FAIL, "the conference sent no Binding "
		    "request within 30 s");
	vc_init(&v);
	v.r.ice[0].state = v.r.ice[1].state = SW_ICE_FAILED;
	VERDICT_HAS(&v, SW_VERDICT_FAIL, "ICE failed both ways");
}


UNIT_TEST(test_verdict_reinvite, "verdict reinvite")
{
	struct vcase v;

	vc_init(&v);
	v.r.reinvite.result = 491;
	v.r.reinvite.retries_491 = 3;
	VERDICT_HAS(&v, SW_VERDICT_FAIL, "491 Request Pending 3 times");
	v.r.reinvite.result = 488;
	v.r.reinvite.phrase = "Not Acceptable Here";
	VERDICT_HAS(&v, SW_VERDICT_FAIL, "re-INVITE to the Edge was refused "
		    "with 488 Not Acceptable Here");
	v.r.reinvite.result = 0;
	v.r.reinvite.reason = "no answer in 32 s";
	VERDICT_HAS(&v, SW_VERDICT_FAIL, "got no final answer: no answer in "
		    "32 s");
}


UNIT_TEST(test_verdict_client_diag_fallback, "verdict client diag")
{
	struct vcase v;

	vc_init(&v);
	v.r.legs[0].ms_client_diag = "23;reason=\"Call failed to establish "
				     "due to a media connectivity failure\"";
	VERDICT_HAS(&v, SW_VERDICT_FAIL, "ms-client-diagnostics 23");
	/* the gateway's own observation wins over the client's summary */
	v.r.ice[SW_ICE_C2E].state = SW_ICE_FAILED;
	VERDICT_HAS(&v, SW_VERDICT_FAIL, "ICE c→e");
}


/* ---- ladder labels ---------------------------------------------------- */

UNIT_TEST(test_summaries, "ladder labels")
{
	static const char inv[] = "INVITE sip:a@b SIP/2.0\r\nTo: <sip:a@b>;"
				  "tag=x\r\nCSeq: 2 INVITE\r\nContent-Type: "
				  "application/sdp\r\n\r\nv=0\r\n";
	static const char ok[] = "SIP/2.0 200 OK\r\nCSeq: 3 BYE\r\n\r\n";
	static const uint8_t err401[] = {
		0x01, 0x13, 0x00, 0x10, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4,
		5, 6, 7, 8, 9, 10, 11, 12, 0x00, 0x09, 0x00, 0x0c, 0, 0, 4, 1,
		'U', 'n', 'a', 'u', 't', 'h', 'o', 'r'};
	static const uint8_t bind4571[] = {
		0x00, 0x18, 0x00, 0x01, 0x00, 0x04, 0x21, 0x12, 0xa4, 0x42, 1,
		2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x00, 0x25, 0x00, 0x00};
	char l[128], d[256];

	cl_sum_sip((const uint8_t *)inv, strlen(inv), l, sizeof(l), d,
		   sizeof(d));
	CU_ASSERT_STRING_EQUAL(l, "re-INVITE (SDP)");
	CU_ASSERT_STRING_EQUAL(d, "sip:a@b");
	cl_sum_sip((const uint8_t *)ok, strlen(ok), l, sizeof(l), d, sizeof(d));
	CU_ASSERT_STRING_EQUAL(l, "200 OK (BYE)");
	CU_ASSERT_FALSE(cl_sum_stun(err401, sizeof(err401), l, sizeof(l), d,
				    sizeof(d)));
	CU_ASSERT_STRING_EQUAL(l, "Allocate Error 401");
	CU_ASSERT_STRING_EQUAL(d, "401 Unauthor");
	CU_ASSERT_TRUE(cl_sum_stun(bind4571, sizeof(bind4571), l, sizeof(l),
				   d, sizeof(d)));
	CU_ASSERT_STRING_EQUAL(l, "Binding Request");
	CU_ASSERT_STRING_EQUAL(d, "USE-CANDIDATE");
	CU_ASSERT_FALSE(cl_sum_stun(err401, 10, l, sizeof(l), d, sizeof(d)));
	CU_ASSERT_PTR_NOT_NULL(strstr(l, "STUN?"));
	/* fuzz finding: a last line of only CR looped forever */
	CU_ASSERT_FALSE(sw_sdp_has_usable_tcp_candidate("\r"));
	CU_ASSERT_FALSE(sw_sdp_has_usable_tcp_candidate("v=0\r\nm=x\r"));
	CU_ASSERT_TRUE(sw_sdp_has_usable_tcp_candidate(
		"m=applicationsharing 1 TCP/RTP/AVP 127\r\na=candidate:1 1 "
		"TCP-PASS 1 10.0.0.1 5 typ host\r"));
}


/* ---- round trip -------------------------------------------------------- */

static uint64_t fx_uids[FX_N];


static void write_fixture(const char *name)
{
	struct sw_calllog *cl = open_log(name, 0, 0, 0);

	CU_ASSERT_FATAL(cl != NULL);
	CU_ASSERT_EQUAL(fx_write_all(cl, fx_uids), 0);
	CU_ASSERT_EQUAL(sw_calllog_flush(cl, 10000), 0);
	sw_calllog_close(cl);
}


static struct sw_callrec *load_tag(struct sw_callstore *db, const char *key)
{
	struct sw_callrec *rec = NULL;
	int64_t id = 0;

	CU_ASSERT_EQUAL(sw_callstore_find(db, key, &id), 0);
	CU_ASSERT_EQUAL(sw_callstore_load(db, id, SW_PART_ALL, &rec), 0);
	return rec;
}


static void check_seed_head(const struct sw_callrec *r)
{
	CU_ASSERT_STRING_EQUAL(r->tag, "c-1");
	CU_ASSERT_EQUAL(r->start_us, FX_T0);
	CU_ASSERT_EQUAL(r->answer_us, FX_T0 + 600000);
	CU_ASSERT_EQUAL(r->end_us, FX_T0 + 183012000);
	CU_ASSERT_EQUAL(r->state, SW_CS_COMPLETED);
	CU_ASSERT_EQUAL(r->final_code, 200);
	CU_ASSERT_STRING_EQUAL(r->disconnect_by, "e");
	CU_ASSERT_EQUAL(r->inbound_leg, 'e');
	CU_ASSERT_FALSE(r->failed);
	CU_ASSERT_STRING_EQUAL(r->media, "AS observe✓ ICE e→c✓ c→e✓");
	CU_ASSERT_PTR_NOT_NULL(strstr(r->verdict, "Application sharing "
					       "worked: observe"));
	CU_ASSERT_STRING_EQUAL(r->legs[0].tls_subject, "CN=sfbedge.contoso.com");
	CU_ASSERT_STRING_EQUAL(r->legs[1].x_cid,
			       "a84b4c76e66710@sfbedge.contoso.com");
	CU_ASSERT_STRING_EQUAL(r->legs[1].user_agent, "Acano CallBridge");
	CU_ASSERT_STRING_EQUAL(r->route.captures, "$1=123456");
	CU_ASSERT_EQUAL(r->route.priority, 10);
}


static void check_seed_parts(const struct sw_callrec *r)
{
	CU_ASSERT_EQUAL_FATAL(r->n_negs, 2);
	CU_ASSERT_EQUAL(r->negs[0].latency_ms, 596);
	CU_ASSERT_PTR_NOT_NULL(strstr(r->negs[0].answer_in, "a=candidate:1 1 "
				      "TCP-PASS 174326015 10.48.54.229 24000"));
	CU_ASSERT_PTR_NULL(r->negs[1].answer_in);
	CU_ASSERT_EQUAL(r->negs[1].from_leg, 'e');
	CU_ASSERT_EQUAL_FATAL(r->n_relays, 1);
	CU_ASSERT_STRING_EQUAL(r->relays[0].relayed, "10.48.54.229:24000");
	CU_ASSERT_EQUAL(r->relays[0].alloc_us, FX_T0 + 484888);
	CU_ASSERT_STRING_EQUAL(r->relays[0].close_reason,
			       "client refresh lifetime 0");
	CU_ASSERT_STRING_EQUAL(r->relays[0].client, "turn");
	CU_ASSERT_EQUAL_FATAL(r->n_conns, 1);
	CU_ASSERT_EQUAL(r->conns[0].bind_code, 200);
	CU_ASSERT_EQUAL(r->conns[0].bytes_in, 1843210);
	CU_ASSERT_EQUAL(r->conns[0].attempt_us, FX_T0 + 968097);
	CU_ASSERT(r->has_ice[0] && r->has_ice[1]);
	CU_ASSERT(r->ice[0].nominated);
	CU_ASSERT_EQUAL(r->ice[1].first_success_us, FX_T0 + 1310000);
	CU_ASSERT(r->has_reinvite);
	CU_ASSERT_EQUAL(r->reinvite.latency_ms, 100);
	/* 16 SIP + 13 STUN/TURN packets, each a ladder step, + 1 TCP note */
	CU_ASSERT_EQUAL(r->n_packets, 29);
	CU_ASSERT_EQUAL_FATAL(r->n_events, 30);
	CU_ASSERT_STRING_EQUAL(r->events[0].label, "INVITE (SDP)");
	CU_ASSERT_EQUAL(r->events[0].src, SW_ACT_EDGE);
	CU_ASSERT_STRING_EQUAL(r->events[5].label, "Allocate Error 401");
	CU_ASSERT_EQUAL(r->events[5].kind, SW_EV_TURN);
	CU_ASSERT_EQUAL(r->events[5].dst, SW_ACT_TURNC);
	CU_ASSERT_STRING_EQUAL(r->events[r->n_events - 1].label,
			       "200 OK (BYE)");
}


UNIT_TEST(test_roundtrip, "round trip")
{
	struct sw_callrec *r;
	struct sw_callstore *db;

	write_fixture("rt.db");
	db = open_ro("rt.db");
	CU_ASSERT_FATAL(db != NULL);
	r = load_tag(db, "c-1");
	CU_ASSERT_FATAL(r != NULL);
	check_seed_head(r);
	check_seed_parts(r);
	sw_callrec_free(r);
	/* found by either leg's Call-ID and by bare number */
	r = load_tag(db, "sw-1-9f2c@10.48.54.229");
	CU_ASSERT(r && r->id == 1);
	sw_callrec_free(r);
	r = load_tag(db, "3");
	CU_ASSERT(r && r->legs[0].ms_diag_public &&
		  !strncmp(r->legs[0].ms_diag_public, "21002", 5));
	sw_callrec_free(r);
	sw_callstore_close(db);
}


static const struct {
	enum fx_call c;
	bool failed;
	const char *words;
	const char *media;
} fx_expect[] = {
	{FX_RELAY_OK, false, "Application sharing worked: relay",
	 "AS relay✓ ICE e→c✓ c→e✓"},
	{FX_21002, true, "make them a presenter", "AS relay-"},
	{FX_ICE_C2E, true, "ICE c→e: no Binding success from the Edge side "
			   "within 30 s", "AS relay✓ ICE e→c✓ c→e✗"},
	{FX_NO_ATTEMPT, true, "The Edge never connected to the relayed "
			      "address 10.48.54.229:24000", "AS relay✗"},
	{FX_CANCEL, false, "Cancelled by the caller after 4.2s",
	 "AS observe-"},
	{FX_408, true, "shareway answered 408 Request Timeout itself: no "
		       "final answer from 10.48.54.230:5060 (zone cms) within "
		       "invite_timeout 32 s", "AS observe-"},
	{FX_TLS, true, "certificate subject CN=edge.fabrikam.com not trusted",
	 "-"},
	{FX_NO_TCP_CAND, true, "no usable TCP candidate", "AS relay-"},
};


UNIT_TEST(test_fixture_verdicts, "fixture verdicts")
{
	struct sw_callstore *db = open_ro("rt.db");

	CU_ASSERT_FATAL(db != NULL);
	for (size_t i = 0; i < sizeof(fx_expect) / sizeof(fx_expect[0]); ++i) {
		struct sw_callrec *r = NULL;

		CU_ASSERT_EQUAL(sw_callstore_load(db,
						  (int64_t)fx_uids[fx_expect[i].c],
						  SW_PART_ALL, &r), 0);
		if (!r)
			continue;
		if (!strstr(r->verdict, fx_expect[i].words) ||
		    strcmp(r->media, fx_expect[i].media))
			fprintf(stderr, "\n%s: %s [%s]\n", r->tag, r->verdict,
				r->media);
		CU_ASSERT_EQUAL(r->failed, fx_expect[i].failed);
		CU_ASSERT_PTR_NOT_NULL(strstr(r->verdict, fx_expect[i].words));
		CU_ASSERT_STRING_EQUAL(r->media, fx_expect[i].media);
		sw_callrec_free(r);
	}
	CU_ASSERT_EQUAL(count_in("rt.db", "SELECT COUNT(*) FROM calls WHERE"
				 " end_us IS NULL"), 1);
	sw_callstore_close(db);
}


static int list_count(const struct sw_callrec *rec, void *arg)
{
	(void)rec;
	++*(int *)arg;
	return 0;
}


UNIT_TEST(test_list_queries, "list queries")
{
	struct sw_callstore_query q = {0};
	struct sw_callstore *db = open_ro("rt.db");
	int n = 0;

	CU_ASSERT_FATAL(db != NULL);
	CU_ASSERT_EQUAL(sw_callstore_list(db, &q, list_count, &n), 0);
	CU_ASSERT_EQUAL(n, FX_N);
	n = 0;
	q.failed = true;
	CU_ASSERT_EQUAL(sw_callstore_list(db, &q, list_count, &n), 0);
	CU_ASSERT_EQUAL(n, 6);
	n = 0;
	q.failed = false;
	q.rule = "sfb-relay";
	CU_ASSERT_EQUAL(sw_callstore_list(db, &q, list_count, &n), 0);
	CU_ASSERT_EQUAL(n, 5);
	n = 0;
	q.rule = NULL;
	q.match = "FABRIKAM";
	CU_ASSERT_EQUAL(sw_callstore_list(db, &q, list_count, &n), 0);
	CU_ASSERT_EQUAL(n, 1);
	n = 0;
	q.match = NULL;
	q.since_us = FX_T0 + 3000000000LL;
	q.active = true;
	CU_ASSERT_EQUAL(sw_callstore_list(db, &q, list_count, &n), 0);
	CU_ASSERT_EQUAL(n, 1);
	sw_callstore_close(db);
}


/* ---- the store's interface: shipping cursor, counters ------------------ */

struct fin_walk {
	int64_t last_seq;
	unsigned n, in_order, with_facts, with_ladder;
	int64_t ids[16];
};


static int fin_h(const struct sw_callrec *rec, void *arg)
{
	struct fin_walk *w = arg;

	if (rec->done_seq > w->last_seq)
		w->in_order++;
	w->last_seq = rec->done_seq;
	if (rec->id == (int64_t)fx_uids[FX_SEED_OBSERVE] && rec->n_negs == 2 &&
	    rec->has_route && rec->n_relays == 1)
		w->with_facts++;
	if (rec->n_events || rec->n_packets)
		w->with_ladder++;
	if (w->n < 16)
		w->ids[w->n] = rec->id;
	w->n++;
	return 0;
}


/* A shipper's walk: batches of 3 after a cursor, every ended call once,
 * in finish order, with the parts asked for; then nothing new; a late
 * fact about an ended call brings that call back, alone */
UNIT_TEST(test_finished_cursor, "store: finished cursor")
{
	struct sw_callstore *db = open_ro("rt.db");
	struct fin_walk w = {0};
	struct sw_calllog *cl;
	unsigned before;

	CU_ASSERT_FATAL(db != NULL);
	do {
		before = w.n;
		CU_ASSERT_EQUAL(sw_callstore_finished(db, w.last_seq, 3,
						      SW_PART_FACTS, fin_h, &w),
				0);
		CU_ASSERT(w.n - before <= 3);
	} while (w.n > before);
	CU_ASSERT_EQUAL(w.n, FX_N - 1); /* all but FX_ACTIVE */
	CU_ASSERT_EQUAL(w.in_order, w.n);
	CU_ASSERT_EQUAL(w.with_facts, 1);
	CU_ASSERT_EQUAL(w.with_ladder, 0);
	for (unsigned i = 0; i < w.n && i < 16; ++i)
		CU_ASSERT_NOT_EQUAL(w.ids[i], (int64_t)fx_uids[FX_ACTIVE]);
	sw_callstore_close(db);

	cl = open_log("rt.db", 0, 0, 0); /* FX_ACTIVE is marked lost */
	CU_ASSERT_FATAL(cl != NULL);
	CU_ASSERT_EQUAL(sw_calllog_relay(cl, fx_uids[FX_408],
					 &(struct sw_rec_relay){
						 .relay = 9,
						 .close_reason = "late"}),
			0);
	CU_ASSERT_EQUAL(sw_calllog_flush(cl, 5000), 0);
	sw_calllog_close(cl);
	db = open_ro("rt.db");
	before = w.n;
	CU_ASSERT_EQUAL(sw_callstore_finished(db, w.last_seq, 0, SW_PART_ALL,
					      fin_h, &w), 0);
	CU_ASSERT_EQUAL_FATAL(w.n - before, 2);
	CU_ASSERT_EQUAL(w.ids[before], (int64_t)fx_uids[FX_ACTIVE]);
	CU_ASSERT_EQUAL(w.ids[before + 1], (int64_t)fx_uids[FX_408]);
	CU_ASSERT_EQUAL(w.in_order, w.n);
	CU_ASSERT_EQUAL(w.with_ladder, 2);
	sw_callstore_close(db);
}


static void code_h(int code, int64_t calls, void *arg)
{
	int64_t *by = arg;

	if (code >= 300 && code < 700)
		by[code - 300] += calls;
}


/* The counters of `shareway stats`, each against the SQL it stands for */
UNIT_TEST(test_counts, "store: counts")
{
	struct sw_callstore *db = open_ro("rt.db");
	struct sw_callstore_counts c;
	int64_t by[400] = {0};
	char sql[128];

	CU_ASSERT_FATAL(db != NULL);
	CU_ASSERT_EQUAL(sw_callstore_counts(db, 0, &c, code_h, by), 0);
	CU_ASSERT_EQUAL(c.calls, FX_N);
	CU_ASSERT_EQUAL(c.failed, count_in("rt.db", "SELECT COUNT(*) FROM"
					   " calls WHERE failed = 1"));
	CU_ASSERT(c.failed >= 6);
	CU_ASSERT_EQUAL(c.synthetic, 0);
	CU_ASSERT_EQUAL(c.ice_c2e_failures, 1); /* FX_ICE_C2E */
	CU_ASSERT_EQUAL(c.ice_e2c_failures, 0);
	CU_ASSERT_EQUAL(c.relay_alloc_failures,
			count_in("rt.db", "SELECT COUNT(*) FROM relays WHERE"
				 " alloc_us IS NULL AND error_code IS NOT"
				 " NULL"));
	CU_ASSERT_EQUAL(by[408 - 300], 1); /* FX_408 */
	CU_ASSERT_EQUAL(by[487 - 300],
			count_in("rt.db", "SELECT COUNT(*) FROM calls WHERE"
				 " final_code = 487"));
	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM calls WHERE"
		 " start_us >= %lld", (long long)(FX_T0 + 3000000000LL));
	CU_ASSERT_EQUAL(sw_callstore_counts(db, FX_T0 + 3000000000LL, &c,
					    NULL, NULL), 0);
	CU_ASSERT_EQUAL(c.calls, count_in("rt.db", sql));
	CU_ASSERT(c.calls > 0 && c.calls < FX_N);
	sw_callstore_close(db);
}


/* ---- upserts, lost calls, retention, drops, migration ---------------- */

UNIT_TEST(test_upsert_rules, "upsert rules")
{
	struct sw_calllog *cl = open_log("up.db", 0, 0, 0);
	struct sw_rec_start st = {FX_T0, "sip:a@x", "sip:b@y", 'e', false};
	struct sw_rec_conn c1 = {1, 2, "1.2.3.4:5", NULL, 100, 0, 0, NULL,
				 500, 10, 0, NULL};
	struct sw_rec_conn c2 = {1, 2, NULL, "5.6.7.8:9", 200, 300, 200, NULL,
				 400, 20, 0, NULL};
	struct sw_rec_leg l1 = {.leg = 'c', .peer = "p1", .final_code = 180};
	struct sw_rec_leg l2 = {.leg = 'c', .user_agent = "ua"};
	struct sw_callrec *r = NULL;
	uint64_t uid;
	struct sw_callstore *db;

	CU_ASSERT_FATAL(cl != NULL);
	uid = sw_calllog_call_start(cl, &st, NULL, 0);
	CU_ASSERT_EQUAL(sw_calllog_conn(cl, uid, &c1), 0);
	CU_ASSERT_EQUAL(sw_calllog_conn(cl, uid, &c2), 0);
	CU_ASSERT_EQUAL(sw_calllog_leg(cl, uid, &l1), 0);
	CU_ASSERT_EQUAL(sw_calllog_leg(cl, uid, &l2), 0);
	CU_ASSERT_EQUAL(sw_calllog_leg(cl, 0, &l2), 0); /* log off: no-op */
	CU_ASSERT_EQUAL(sw_calllog_ice(cl, uid, &(struct sw_rec_ice){
				.dir = (enum sw_ice_dir)7}), EINVAL);
	CU_ASSERT_EQUAL(sw_calllog_flush(cl, 5000), 0);
	sw_calllog_close(cl);
	db = open_ro("up.db");
	CU_ASSERT_EQUAL_FATAL(sw_callstore_load(db, (int64_t)uid, SW_PART_ALL,
						&r), 0);
	CU_ASSERT_STRING_EQUAL(r->conns[0].peer, "1.2.3.4:5"); /* kept */
	CU_ASSERT_STRING_EQUAL(r->conns[0].target, "5.6.7.8:9");
	CU_ASSERT_EQUAL(r->conns[0].attempt_us, 100);          /* first */
	CU_ASSERT_EQUAL(r->conns[0].bind_us, 300);
	CU_ASSERT_EQUAL(r->conns[0].bytes_in, 500);            /* max */
	CU_ASSERT_EQUAL(r->conns[0].bytes_out, 20);
	CU_ASSERT_STRING_EQUAL(r->legs[1].peer, "p1");
	CU_ASSERT_STRING_EQUAL(r->legs[1].user_agent, "ua");
	CU_ASSERT_EQUAL(r->legs[1].final_code, 180);
	sw_callrec_free(r);
	sw_callstore_close(db);
}


/* ---- verdicts from the writer's memory (sw_callfacts.c) --------------- */

/* SDPs whose reading by the verdict is easy to get wrong: the lines
 * sw_sdp_verdict_lines() keeps must be read exactly as the whole text */
static const char *const vm_sdps[] = {
	"",
	"v=0\r\nm=applicationsharing 5 TCP/RTP/AVP 127\r\n",
	"v=0\r\nm=applicationsharing 0 TCP/RTP/AVP 127\r\na=candidate:1 1 "
	"TCP-PASS 1 10.0.0.1 5 typ host\r\n",
	"v=0\r\nm=audio 5 RTP/AVP 0\r\na=candidate:1 1 TCP-PASS 1 10.0.0.1 5 "
	"typ host\r\n",
	"v=0\r\nm=APPLICATIONSHARING 5 TCP/RTP/AVP 127\r\na=candidate:1 1 "
	"TCP-PASS 1 10.0.0.1 5 typ host\r\n",
	"a=x-note m=applicationsharing 5\r\nm=applicationsharing 6 TCP/RTP/AVP"
	" 127\r\na=candidate:1 1 TCP-PASS 1 10.0.0.1 5 typ host\r\n",
	"v=0\r\nm=applicationsharing 5 TCP/RTP/AVP 127\r\nm=audio 4 RTP/AVP 0"
	"\r\na=candidate:1 1 TCP-PASS 1 10.0.0.1 5 typ host\r\n",
	"v=0\r\nm=applicationsharing 5 TCP/RTP/AVP 127\r\na=candidate:1 1 UDP "
	"1 10.0.0.1 5 typ host\r\na=candidate:2 1 TCP-ACT 1 10.0.0.1 0 typ "
	"host\r\na=candidate:3 1 TCP 1 10.0.0.1 6 typ host tcptype passive\r\n",
	"v=0\nm=applicationsharing 5 TCP/RTP/AVP 127\na=candidate:1 1 TCP-PASS"
	" 1 0.0.0.0 5 typ host\na=candidate:1 1 TCP-PASS 1 10.0.0.9 7 typ host",
	"m=applicationsharing 0\nm=applicationsharing 9 TCP/RTP/AVP 127\n"
	"a=candidate:1 1 TCP 1 10.0.0.1 6 typ host tcptype so",
	"m=applicationsharing ",
	"\n\r\nm=applicationsharing 3 x\r\r\n",
	/* fuzz finding: a candidate of another section naming
	 * m=applicationsharing was read in the one before */
	"m=applicationsharing 5 TCP/RTP/AVP 127\r\nm=video 4 RTP/AVP 0\r\n"
	"a=candidate:1 1 TCP-PASS 1 10.0.0.1 5 typ host m=applicationsharing "
	"x\r\n",
};


/* A record whose verdict reads sdp where the conference's answer, the
 * conference's offer or the Edge's offer go */
static void vm_rec(struct vcase *v, int shape, const char *sdp,
		   const char *policy)
{
	vc_init(v);
	v->r.route.media_policy = policy;
	if (shape == 0) {
		v->neg.answer_in = sdp;
	}
	else if (shape == 1) {
		v->neg.from_leg = 'c';
		v->neg.to_leg = 'e';
		v->neg.answer_in = NULL;
		v->neg.offer_in = sdp;
	}
	else {
		v->neg.offer_in = sdp;
		v->neg.offer_out = NULL;
	}
}


/* The verdict and the media flags of a record with sdp and with the
 * lines of it the writer keeps: the same */
static void vm_sdp_same(const char *sdp, const char *what)
{
	static const char *const policies[] = {"relay", "observe", NULL};
	size_t n = 0;
	char *lines = sw_sdp_verdict_lines(sdp, &n);

	CU_ASSERT_FATAL(lines != NULL);
	CU_ASSERT(n <= strlen(sdp));
	CU_ASSERT_EQUAL(sw_sdp_has_usable_tcp_candidate(sdp),
			sw_sdp_has_usable_tcp_candidate(lines));
	for (int shape = 0; shape < 3; ++shape) {
		for (size_t p = 0; p < 3; ++p) {
			struct vcase a, b;
			char ma[64], mb[64];
			enum sw_verdict_sev sa, sb;

			vm_rec(&a, shape, sdp, policies[p]);
			vm_rec(&b, shape, lines, policies[p]);
			sa = vc_run(&a);
			sb = vc_run(&b);
			sw_callrec_media_flags(&a.r, ma, sizeof(ma));
			sw_callrec_media_flags(&b.r, mb, sizeof(mb));
			CU_ASSERT_EQUAL(sa, sb);
			CU_ASSERT_STRING_EQUAL(a.buf, b.buf);
			CU_ASSERT_STRING_EQUAL(ma, mb);
			if (strcmp(a.buf, b.buf) || strcmp(ma, mb))
				fprintf(stderr, "\n%s (%d, %zu): %s [%s] / %s "
					"[%s]\n", what, shape, p, a.buf, ma,
					b.buf, mb);
		}
	}
	free(lines);
}


static char *vm_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long len;

	if (!f)
		return NULL;
	if (!fseek(f, 0, SEEK_END) && (len = ftell(f)) >= 0 &&
	    !fseek(f, 0, SEEK_SET) && (buf = malloc((size_t)len + 1))) {
		buf[fread(buf, 1, (size_t)len, f)] = '\0';
	}
	fclose(f);
	return buf;
}


UNIT_TEST(test_verdict_sdp_lines, "verdict: the SDP lines it reads")
{
	static const char *const corpus[] = {
		"cisco-expressway-b2bua-answer-candidates-fragment.sdp",
		"ms-sdp-2.2-lcs-era-example-msdata.sdp",
		"sipe-issue76-appshare-offer-rejected-24000.sdp",
		"sipe-issue83-appshare-offer-to-asmcu-pt96-rejected-24012.sdp",
		"sipe-issue119-sky-linux-sfb-compatible-audio-invite.sip",
	};
	char path[1024], *s, *lines;
	size_t n = 1;

	for (size_t i = 0; i < sizeof(vm_sdps) / sizeof(vm_sdps[0]); ++i)
		vm_sdp_same(vm_sdps[i], vm_sdps[i]);
	for (size_t i = 0; i < sizeof(corpus) / sizeof(corpus[0]); ++i) {
		snprintf(path, sizeof(path), "%s/corpus/sdp/%s",
			 unit_shared_dir(), corpus[i]);
		s = vm_file(path);
		CU_ASSERT_PTR_NOT_NULL(s);
		if (s)
			vm_sdp_same(s, corpus[i]);
		free(s);
	}
	CU_ASSERT_PTR_NULL(sw_sdp_verdict_lines(NULL, &n));
	/* what is kept: the m= lines, the first usable candidate */
	lines = sw_sdp_verdict_lines(vm_sdps[6], &n);
	CU_ASSERT_STRING_EQUAL(lines, "m=applicationsharing 5 TCP/RTP/AVP "
			       "127\r\nm=audio 4 RTP/AVP 0\r\n");
	free(lines);
	lines = sw_sdp_verdict_lines(vm_sdps[7], &n);
	CU_ASSERT_STRING_EQUAL(lines, "m=applicationsharing 5 TCP/RTP/AVP "
			       "127\r\na=candidate:3 1 TCP 1 10.0.0.1 6 typ "
			       "host tcptype passive\r\n");
	free(lines);
}


/* Random calls, each fact drawn from values that steer the verdict
 * (states, codes, diagnostics, SDPs, relays, ICE, re-INVITEs) and every
 * column filled, the ones the writer does not keep too */
enum vm_kind {
	VK_START, VK_RINGING, VK_ANSWER, VK_LEG, VK_ROUTE, VK_NEG, VK_RELAY,
	VK_CONN, VK_ICE, VK_REINVITE, VK_FAULT, VK_EVENT, VK_END,
};

struct vm_op {
	enum vm_kind kind;
	int64_t t;
	union {
		struct sw_rec_start start;
		struct sw_rec_end end;
		struct sw_rec_leg leg;
		struct sw_rec_route route;
		struct sw_rec_neg neg;
		struct sw_rec_relay relay;
		struct sw_rec_conn conn;
		struct sw_rec_ice ice;
		struct sw_rec_reinvite ri;
		struct sw_rec_event ev;
		const char *fault;
	} u;
};

#define VM_CALLS 320
#define VM_OPS   48

struct vm_call {
	struct vm_op op[VM_OPS];
	unsigned n, next;
	uint64_t uid;
};

static uint64_t vm_seed;


static unsigned vm_rnd(unsigned n)
{
	vm_seed ^= vm_seed << 13;
	vm_seed ^= vm_seed >> 7;
	vm_seed ^= vm_seed << 17;
	return (unsigned)(vm_seed % n);
}


#define VM_PICK(a) ((a)[vm_rnd(sizeof(a) / sizeof((a)[0]))])
/* NULL half the time: "not known, keep" */
#define VM_MAYBE(a) (vm_rnd(2) ? VM_PICK(a) : NULL)

static const char *const vm_text[] = {"x", "sip:a@b", "10.0.0.1:5060",
				      "zone-a", "udp", ""};
static const char *const vm_diag[] = {
	"21002;reason=\"Attendees cannot share\";component=\"ASMCU\"",
	"21006", "24012", "52017", "23", "1234;reason=\"odd\"", "x"};
static const char *const vm_err[] = {
	"TLS handshake failed: certificate not trusted",
	"connection refused", "tls alert", NULL};
static const char *const vm_policy[] = {"relay", "observe", "passthrough",
					"remove", "reject", ""};
static const char *const vm_ice_err[] = {
	"no success in 30 s", "USERNAME \"ab:cd\" unknown", "Unauthorized"};
static const char *const vm_close[] = {
	SW_MEDIA_DIRECT, "client refresh lifetime 0", "call ended"};


static struct vm_op *vm_add(struct vm_call *c, enum vm_kind k, int64_t t)
{
	struct vm_op *o = &c->op[c->n++];

	memset(o, 0, sizeof(*o));
	o->kind = k;
	o->t = t;
	return o;
}


static void vm_leg(struct vm_call *c, char leg, int64_t t)
{
	struct sw_rec_leg *l = &vm_add(c, VK_LEG, t)->u.leg;
	static const int codes[] = {0, 180, 200, 404, 486, 488, 503, 408};

	*l = (struct sw_rec_leg){
		leg, leg == 'e', VM_MAYBE(vm_text), VM_MAYBE(vm_text),
		VM_MAYBE(vm_text), VM_MAYBE(vm_text), VM_MAYBE(vm_text),
		VM_MAYBE(vm_text), VM_MAYBE(vm_text), VM_MAYBE(vm_text),
		VM_MAYBE(vm_text), VM_MAYBE(vm_text), VM_MAYBE(vm_text),
		VM_MAYBE(vm_text), VM_PICK(codes), VM_MAYBE(vm_text),
		vm_rnd(12) ? NULL : VM_PICK(vm_diag),
		vm_rnd(12) ? NULL : VM_PICK(vm_diag),
		vm_rnd(12) ? NULL : VM_PICK(vm_diag),
		vm_rnd(12) ? NULL : VM_PICK(vm_err)};
}


static void vm_gen(struct vm_call *c, int64_t t0)
{
	static const char *const why[] = {"Request Timeout", "BYE",
					  "no ACK", "media failed"};
	static const int rej[] = {404, 408, 486, 488, 403, 503, 603, 500,
				  415, 480, 484};
	static const char *const by[] = {"gw", "rule", "e", "c"};
	int64_t t = t0;
	unsigned k, nneg = vm_rnd(4), nrel = vm_rnd(3), ncon = vm_rnd(3);
	/* half the calls share applications through a relay or observed,
	 * answered and ended well: the verdict walks their media path */
	bool media = vm_rnd(2), answered = media || vm_rnd(5) < 3;
	bool ended = vm_rnd(8) > 0;
	struct vm_op *o;

	c->n = c->next = 0;
	o = vm_add(c, VK_START, t);
	o->u.start = (struct sw_rec_start){t, "sip:a@x", "sip:b@y",
					   vm_rnd(2) ? 'e' : 'c', false};
	if (vm_rnd(2))
		vm_add(c, VK_RINGING, t += 1000);
	for (k = vm_rnd(3) + 1; k; --k)
		vm_leg(c, vm_rnd(2) ? 'e' : 'c', t += 10);
	for (k = vm_rnd(10) ? vm_rnd(2) + 1 : 0; k; --k) {
		o = vm_add(c, VK_ROUTE, t += 10);
		o->u.route = (struct sw_rec_route){
			vm_rnd(4) ? VM_PICK(vm_text) : NULL, vm_rnd(20),
			VM_MAYBE(vm_text), VM_MAYBE(vm_text),
			VM_MAYBE(vm_text), VM_MAYBE(vm_text),
			VM_MAYBE(vm_text), VM_MAYBE(vm_text),
			VM_MAYBE(vm_text), VM_MAYBE(vm_text),
			VM_MAYBE(vm_policy)};
	}
	if (media) {
		o = vm_add(c, VK_ROUTE, t += 10);
		o->u.route = (struct sw_rec_route){
			.rule = "sfb", .target = "sip:10.0.0.2",
			.media_policy = vm_rnd(3) ? "relay" : "observe"};
		o = vm_add(c, VK_NEG, t += 10);
		o->u.neg = (struct sw_rec_neg){
			.seq = 3, .from_leg = 'e', .to_leg = 'c',
			.offer_in = vm_sdps[1], .answer_in = vm_sdps[7]};
	}
	for (k = 0; k < 2 * nneg; ++k) {
		o = vm_add(c, VK_NEG, t += 10);
		o->u.neg = (struct sw_rec_neg){
			k % nneg + 1 + vm_rnd(2) * 4, VM_MAYBE(vm_text),
			"ecg"[vm_rnd(3)], "ecg"[vm_rnd(3)], vm_rnd(700),
			vm_rnd(900), VM_MAYBE(vm_sdps), VM_MAYBE(vm_sdps),
			VM_MAYBE(vm_sdps), VM_MAYBE(vm_sdps),
			VM_MAYBE(vm_text)};
	}
	if (answered)
		vm_add(c, VK_ANSWER, t += 1000);
	for (k = 0; k < 2 * nrel; ++k) {
		o = vm_add(c, VK_RELAY, t += 10);
		o->u.relay = (struct sw_rec_relay){
			k % nrel + 1, VM_MAYBE(vm_text), VM_MAYBE(vm_text),
			VM_MAYBE(vm_text), VM_MAYBE(vm_text),
			VM_MAYBE(vm_text), vm_rnd(2) ? t : 0,
			vm_rnd(4) ? t : 0, vm_rnd(600), vm_rnd(3),
			VM_MAYBE(vm_text), vm_rnd(2) ? 0 : 486,
			VM_MAYBE(vm_text), vm_rnd(2) ? t : 0,
			vm_rnd(3) ? NULL : VM_PICK(vm_close)};
	}
	for (k = 0; k < 2 * ncon; ++k) {
		static const int bind[] = {0, 200, 400, 487, 200};

		o = vm_add(c, VK_CONN, t += 10);
		o->u.conn = (struct sw_rec_conn){
			vm_rnd(2) + 1, k % ncon + 1, VM_MAYBE(vm_text),
			VM_MAYBE(vm_text), vm_rnd(2) ? t : 0,
			vm_rnd(2) ? t : 0, VM_PICK(bind), VM_MAYBE(vm_text),
			vm_rnd(1000), vm_rnd(1000), vm_rnd(2) ? t : 0,
			VM_MAYBE(vm_text)};
	}
	for (k = vm_rnd(5); k; --k) {
		static const int ecode[] = {0, 0, 400, 487};

		o = vm_add(c, VK_ICE, t += 10);
		o->u.ice = (struct sw_rec_ice){
			(enum sw_ice_dir)vm_rnd(2),
			(enum sw_ice_state)vm_rnd(5), vm_rnd(2) ? t : 0,
			vm_rnd(2) ? t : 0, VM_PICK(ecode),
			VM_MAYBE(vm_ice_err), vm_rnd(2) != 0,
			VM_MAYBE(vm_text), vm_rnd(2) ? 30 : 0, vm_rnd(9),
			vm_rnd(3)};
	}
	if (vm_rnd(3) == 0) {
		static const int res[] = {0, 200, 491, 488, 408};

		o = vm_add(c, VK_REINVITE, t += 10);
		o->u.ri = (struct sw_rec_reinvite){
			vm_rnd(2) ? 'e' : 'c', t, VM_PICK(res),
			VM_MAYBE(vm_text), vm_rnd(300), vm_rnd(4),
			VM_MAYBE(vm_text)};
	}
	if (vm_rnd(24) == 0)
		vm_add(c, VK_FAULT, t += 10)->u.fault = "a relay command lost";
	vm_add(c, VK_EVENT, t += 10)->u.ev = (struct sw_rec_event){
		t, SW_EV_NOTE, SW_ACT_GW, SW_ACT_GW, "note", NULL};
	if (!ended)
		return;
	o = vm_add(c, VK_END, t += 5000000);
	k = media && vm_rnd(4) ? 0 : vm_rnd(4);
	o->u.end = (struct sw_rec_end){
		t, answered && k == 0 ? SW_CS_COMPLETED
		   : k == 1	     ? SW_CS_REJECTED
		   : k == 2	     ? SW_CS_CANCELLED
				     : SW_CS_FAILED,
		k == 0 ? 200 : k == 1 ? VM_PICK(rej) : vm_rnd(2) ? 487 : 0,
		VM_MAYBE(vm_text), VM_MAYBE(vm_text),
		vm_rnd(3) ? NULL : VM_PICK(why), VM_MAYBE(by),
		VM_MAYBE(vm_text)};
	if (!o->u.end.state)
		o->u.end.state = SW_CS_FAILED;
	/* late facts: a relay's close, a direction's result */
	for (k = vm_rnd(3); k && nrel; --k) {
		o = vm_add(c, VK_RELAY, t += 10);
		o->u.relay = (struct sw_rec_relay){
			.relay = 1, .released_us = t,
			.close_reason = VM_MAYBE(vm_close)};
	}
	if (vm_rnd(4) == 0) {
		o = vm_add(c, VK_ICE, t += 10);
		o->u.ice = (struct sw_rec_ice){
			.dir = (enum sw_ice_dir)vm_rnd(2),
			.state = SW_ICE_FAILED, .error = "no success in 30 s"};
	}
}


static void vm_emit(struct sw_calllog *cl, struct vm_call *c,
		    const struct vm_op *o)
{
	int err = 0;

	switch (o->kind) {
	case VK_START:
		c->uid = sw_calllog_call_start(cl, &o->u.start, NULL, 0);
		err = c->uid ? 0 : EIO;
		break;
	case VK_RINGING: err = sw_calllog_call_ringing(cl, c->uid, o->t); break;
	case VK_ANSWER: err = sw_calllog_call_answer(cl, c->uid, o->t); break;
	case VK_LEG: err = sw_calllog_leg(cl, c->uid, &o->u.leg); break;
	case VK_ROUTE: err = sw_calllog_route(cl, c->uid, &o->u.route); break;
	case VK_NEG: err = sw_calllog_negotiation(cl, c->uid, &o->u.neg); break;
	case VK_RELAY: err = sw_calllog_relay(cl, c->uid, &o->u.relay); break;
	case VK_CONN: err = sw_calllog_conn(cl, c->uid, &o->u.conn); break;
	case VK_ICE: err = sw_calllog_ice(cl, c->uid, &o->u.ice); break;
	case VK_REINVITE:
		err = sw_calllog_reinvite(cl, c->uid, &o->u.ri);
		break;
	case VK_FAULT:
		err = sw_calllog_call_fault(cl, c->uid, o->u.fault);
		break;
	case VK_EVENT: err = sw_calllog_event(cl, c->uid, &o->u.ev); break;
	case VK_END: err = sw_calllog_call_end(cl, c->uid, &o->u.end); break;
	}
	CU_ASSERT_EQUAL(err, 0);
}


/*
 * The random calls into a fresh log with facts_kib, their facts
 * interleaved as concurrent calls send them, in batches of a few hundred
 * messages; then the log is opened again (the calls without an end are
 * marked lost, judged from the store). *st: the first run's counters.
 */
static void vm_write(const char *name, uint32_t facts_kib,
		     struct vm_call *calls, struct sw_calllog_stats *st)
{
	struct sw_calllog_opts o = {dbpath(name), 0, 0, 0, 0, 0, facts_kib};
	struct sw_calllog *cl = NULL;
	unsigned open = 0, done = 0, sent = 0;

	unlink(dbpath(name));
	vm_seed = 0x9e3779b97f4a7c15ULL;
	for (unsigned i = 0; i < VM_CALLS; ++i)
		vm_gen(&calls[i], FX_T0 + (int64_t)i * 1000000);
	CU_ASSERT_EQUAL_FATAL(sw_calllog_open(&cl, &o), 0);
	while (done < VM_CALLS) {
		unsigned i;

		/* up to 24 calls in progress at once */
		if (open < VM_CALLS &&
		    (open == done || (open - done < 24 && vm_rnd(3))))
			++open;
		i = done + vm_rnd(open - done);
		if (calls[i].next == calls[i].n)
			continue;
		vm_emit(cl, &calls[i], &calls[i].op[calls[i].next++]);
		while (done < open && calls[done].next == calls[done].n)
			++done;
		if (++sent % 300 == 0)
			CU_ASSERT_EQUAL(sw_calllog_flush(cl, 10000), 0);
	}
	CU_ASSERT_EQUAL(sw_calllog_flush(cl, 10000), 0);
	sw_calllog_stats(cl, st);
	sw_calllog_close(cl);
	CU_ASSERT_EQUAL(st->errors, 0);
	cl = open_log(name, 0, 0, 0);
	sw_calllog_close(cl);
}


/* Every call's stored verdict, failed flag and media flags equal what
 * the call read back gives; ver[i] gets call i's verdict (or "") */
static void vm_check(const char *name, struct vm_call *calls,
		     char ver[][512])
{
	struct sw_callstore *db = open_ro(name);

	CU_ASSERT_FATAL(db != NULL);
	for (unsigned i = 0; i < VM_CALLS; ++i) {
		struct sw_callrec *r = NULL;
		char buf[512], media[64];
		enum sw_verdict_sev sev;

		CU_ASSERT_EQUAL(sw_callstore_load(db, (int64_t)calls[i].uid,
						  SW_PART_FACTS, &r), 0);
		if (!r)
			continue;
		CU_ASSERT_PTR_NOT_NULL(r->verdict);
		sev = sw_verdict(r, buf, sizeof(buf));
		sw_callrec_media_flags(r, media, sizeof(media));
		if (!r->verdict || strcmp(r->verdict, buf) ||
		    strcmp(r->media, media))
			fprintf(stderr, "\n%s %s: stored %s [%s], read back %s"
				" [%s]\n", name, r->tag, r->verdict, r->media,
				buf, media);
		CU_ASSERT_STRING_EQUAL(r->verdict ? r->verdict : "", buf);
		CU_ASSERT_STRING_EQUAL(r->media ? r->media : "", media);
		CU_ASSERT_EQUAL(r->failed, sev == SW_VERDICT_FAIL);
		snprintf(ver[i], 512, "%.440s [%s]", buf, media);
		sw_callrec_free(r);
	}
	sw_callstore_close(db);
}


/* The fixture's calls in rt.db, judged when it was written */
static void vm_check_fixture(void)
{
	struct sw_callstore *db = open_ro("rt.db");
	unsigned n = 0;

	CU_ASSERT_FATAL(db != NULL);
	for (int i = 0; i < FX_N; ++i) {
		struct sw_callrec *r = NULL;
		char buf[512], media[64];

		CU_ASSERT_EQUAL(sw_callstore_load(db, (int64_t)fx_uids[i],
						  SW_PART_FACTS, &r), 0);
		if (r && r->verdict) {
			sw_verdict(r, buf, sizeof(buf));
			sw_callrec_media_flags(r, media, sizeof(media));
			CU_ASSERT_STRING_EQUAL(r->verdict, buf);
			CU_ASSERT_STRING_EQUAL(r->media, media);
			++n;
		}
		sw_callrec_free(r);
	}
	CU_ASSERT(n >= FX_N - 1); /* FX_ACTIVE: once marked lost */
	sw_callstore_close(db);
}


/*
 * The verdict of a call the writer judged from the facts it holds equals
 * the verdict of the call read back from the store: random calls (app
 * sharing with relays and ICE, rejected, cancelled, failed, cut by a
 * restart, late facts after the end) with the facts held, with none held
 * (every verdict read back, as before), and with a bound so small that
 * calls are forgotten half-way (both ways in one run).
 */
UNIT_TEST(test_verdict_memory, "verdict: memory = reload")
{
	static struct vm_call calls[VM_CALLS];
	static char v_mem[VM_CALLS][512], v_none[VM_CALLS][512],
		v_bound[VM_CALLS][512];
	struct sw_calllog_stats st;
	unsigned differ = 0;

	vm_write("vm.db", 0, calls, &st);
	vm_check("vm.db", calls, v_mem);
	CU_ASSERT(st.verdicts >= VM_CALLS / 2);
	CU_ASSERT_EQUAL(st.reloaded, 0);

	vm_write("vn.db", SW_CALLLOG_FACTS_NONE, calls, &st);
	vm_check("vn.db", calls, v_none);
	CU_ASSERT_EQUAL(st.reloaded, st.verdicts);

	vm_write("vb.db", 12, calls, &st);
	vm_check("vb.db", calls, v_bound);
	CU_ASSERT(st.reloaded > 0 && st.reloaded < st.verdicts);

	for (unsigned i = 0; i < VM_CALLS; ++i)
		differ += strcmp(v_mem[i], v_none[i]) != 0 ||
			  strcmp(v_bound[i], v_none[i]) != 0;
	CU_ASSERT_EQUAL(differ, 0);
	/* the fixture's calls, judged from memory when rt.db was written */
	vm_check_fixture();
}


UNIT_TEST(test_lost_on_restart, "lost on restart")
{
	struct sw_calllog *cl;
	struct sw_callrec *r = NULL;
	struct sw_callstore *db;

	/* rt.db holds one call with no end (FX_ACTIVE) */
	cl = open_log("rt.db", 0, 0, 0);
	CU_ASSERT_FATAL(cl != NULL);
	sw_calllog_close(cl);
	db = open_ro("rt.db");
	CU_ASSERT_EQUAL_FATAL(sw_callstore_load(db,
						(int64_t)fx_uids[FX_ACTIVE],
						SW_PART_ALL, &r), 0);
	CU_ASSERT_EQUAL(r->state, SW_CS_LOST);
	CU_ASSERT_EQUAL(r->end_us, FX_T0 + 4200000000LL + 903000);
	CU_ASSERT(r->failed);
	CU_ASSERT_PTR_NOT_NULL(strstr(r->verdict, "sharewayd stopped"));
	sw_callrec_free(r);
	sw_callstore_close(db);
}


static void synth_calls(struct sw_calllog *cl, int n, int64_t start)
{
	for (int i = 0; i < n; ++i)
		CU_ASSERT_EQUAL(sw_calllog_synth_call(cl, (uint64_t)i,
						      start + i * 1000000LL,
						      true), 0);
}


UNIT_TEST(test_retention, "retention")
{
	int64_t now = sw_calllog_now(), old = now - 40LL * 86400 * 1000000;
	struct sw_calllog *cl = open_log("ret.db", 0, 0, 0);
	sqlite3 *db;

	CU_ASSERT_FATAL(cl != NULL);
	synth_calls(cl, 4, old);
	synth_calls(cl, 6, now - 3600000000LL);
	CU_ASSERT_EQUAL(sw_calllog_flush(cl, 10000), 0);
	sw_calllog_close(cl);
	cl = open_log("ret.db", 30, 0, 0); /* by age: the 4 old ones go */
	CU_ASSERT_EQUAL(sw_calllog_flush(cl, 10000), 0);
	sw_calllog_close(cl);
	db = open_raw("ret.db");
	CU_ASSERT_EQUAL(count(db, "SELECT COUNT(*) FROM calls"), 6);
	CU_ASSERT_EQUAL(count(db, "SELECT MIN(id) FROM calls"), 5);
	CU_ASSERT_EQUAL(count(db, "SELECT COUNT(*) FROM events WHERE call"
			       " < 5"), 0);
	CU_ASSERT_EQUAL(count(db, "SELECT COUNT(*) FROM legs WHERE call < 5"),
			0);
	sqlite3_close(db);
	cl = open_log("ret.db", 30, 2, 0); /* by count: the newest 2 stay */
	CU_ASSERT_EQUAL(sw_calllog_flush(cl, 10000), 0);
	sw_calllog_close(cl);
	db = open_raw("ret.db");
	CU_ASSERT_EQUAL(count(db, "SELECT COUNT(*) FROM calls"), 2);
	CU_ASSERT_EQUAL(count(db, "SELECT MIN(id) FROM calls"), 9);
	CU_ASSERT_EQUAL(count(db, "SELECT COUNT(DISTINCT call) FROM ice"), 2);
	sqlite3_close(db);
}


UNIT_TEST(test_drops_counted, "drops counted")
{
	struct sw_calllog *cl = open_log("drop.db", 0, 0, 8);
	struct sw_calllog_stats st;
	sqlite3 *blocker;
	int rejected = 0;

	CU_ASSERT_FATAL(cl != NULL);
	/* hold the write lock: the writer stalls on its first message */
	CU_ASSERT_EQUAL_FATAL(sqlite3_open(dbpath("drop.db"), &blocker), 0);
	CU_ASSERT_EQUAL(sqlite3_exec(blocker, "BEGIN IMMEDIATE", NULL, NULL,
				     NULL), 0);
	for (int i = 0; i < 100; ++i) {
		struct sw_rec_start s = {FX_T0 + i, "a", "b", 'e', true};

		if (!sw_calllog_call_start(cl, &s, NULL, 0))
			++rejected;
	}
	sqlite3_exec(blocker, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(blocker);
	CU_ASSERT_EQUAL(sw_calllog_flush(cl, 10000), 0);
	sw_calllog_stats(cl, &st);
	CU_ASSERT(rejected >= 100 - 9);
	CU_ASSERT_EQUAL(st.dropped, (uint64_t)rejected);
	CU_ASSERT_EQUAL(st.queued, 100 - (uint64_t)rejected + 1); /* +flush */
	CU_ASSERT_EQUAL(st.written, 100 - (uint64_t)rejected);
	sw_calllog_close(cl);
}


UNIT_TEST(test_migration_v1, "migration v1->current")
{
	char err[256];
	sqlite3 *db = NULL;
	struct sw_callstore *store = NULL;
	struct sw_calllog *cl;
	int n = 0;
	struct sw_callstore_query q = {.failed = true};

	CU_ASSERT_EQUAL(sw_callstore_sqlite_schema(dbpath("v1.db"), 1, err,
						   sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(sqlite3_open(dbpath("v1.db"), &db), 0);
	CU_ASSERT_EQUAL(count(db, "PRAGMA user_version"), 1);
	CU_ASSERT_EQUAL(sqlite3_exec(db, "INSERT INTO calls(id, tag, start_us,"
				     " end_us, state) VALUES(7, 'c-7', 1, 2,"
				     " 'rejected')", NULL, NULL, NULL), 0);
	sqlite3_close(db);
	/* the CLI refuses an old file; the daemon migrates it */
	CU_ASSERT_EQUAL(sw_callstore_open(&store, dbpath("v1.db"), false, err,
					  sizeof(err)), EPROTO);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "start sharewayd once"));
	cl = open_log("v1.db", 0, 0, 0);
	CU_ASSERT_FATAL(cl != NULL);
	synth_calls(cl, 1, FX_T0);
	CU_ASSERT_EQUAL(sw_calllog_flush(cl, 5000), 0);
	sw_calllog_close(cl);
	db = open_raw("v1.db");
	CU_ASSERT_FATAL(db != NULL);
	CU_ASSERT_EQUAL(count(db, "PRAGMA user_version"), SW_CALLLOG_SCHEMA);
	CU_ASSERT_EQUAL(count(db, "SELECT MAX(id) FROM calls"), 8);
	/* v3: who answered, the gateway's reason and fault */
	CU_ASSERT_EQUAL(count(db, "SELECT COUNT(*) FROM calls WHERE id = 7 AND"
			      " answered_by IS NULL AND gw_reason IS NULL"
			      " AND gw_fault IS NULL"), 1);
	CU_ASSERT_EQUAL(count(db, "SELECT COUNT(*) FROM packets"),
			count(db, "SELECT COUNT(*) FROM packets WHERE call = 8"));
	store = open_ro("v1.db");
	CU_ASSERT_EQUAL(sw_callstore_list(store, &q, list_count, &n), 0);
	CU_ASSERT(n >= 1); /* the v1 rejected call, flagged by the migration */
	sw_callstore_close(store);
	sqlite3_close(db);
	/* a file from the future is refused */
	CU_ASSERT_EQUAL(sqlite3_open(dbpath("v1.db"), &db), 0);
	sqlite3_exec(db, "PRAGMA user_version = 9", NULL, NULL, NULL);
	sqlite3_close(db);
	CU_ASSERT_EQUAL(sw_callstore_sqlite_schema(dbpath("v1.db"),
						   SW_CALLLOG_SCHEMA, err,
						   sizeof(err)), EPROTO);
}


/* A captured message of call uid, its ladder step and its bytes */
static void v5_msg(struct sw_calllog *cl, uint64_t uid, int64_t t,
		   const char *text)
{
	struct sw_rec_packet p = {.t_us = t, .proto = SW_PKT_SIP,
				  .transport = SW_PKT_UDP,
				  .data = (const uint8_t *)text,
				  .len = strlen(text)};

	CU_ASSERT_EQUAL(sw_sa_parse(&p.src, "192.0.2.1:5060", 0), 0);
	CU_ASSERT_EQUAL(sw_sa_parse(&p.dst, "192.0.2.2:5061", 0), 0);
	CU_ASSERT_EQUAL(sw_calllog_sipmsg(cl, uid, 'e', true, &p), 0);
}


/*
 * Schema v5: a captured message is one row of events (its ladder step
 * with its bytes); the messages a v4 file keeps in packets are still
 * exported after the migration, each call's in time order
 */
UNIT_TEST(test_schema_v5_messages, "schema v5: a message is one row")
{
	static const char inv[] = "INVITE sip:a@b SIP/2.0\r\n\r\n";
	static const char ok[] = "SIP/2.0 200 OK\r\nCSeq: 1 INVITE\r\n\r\n";
	struct sw_rec_start st = {FX_T0, "sip:a@x", "sip:b@y", 'e', false};
	struct sw_calllog *cl;
	struct sw_callstore *store;
	struct sw_callrec *r = NULL;
	char err[256];
	uint64_t uid;
	sqlite3 *db = NULL;

	CU_ASSERT_EQUAL(sw_callstore_sqlite_schema(dbpath("v4.db"), 4, err,
						   sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(sqlite3_open(dbpath("v4.db"), &db), 0);
	CU_ASSERT_EQUAL(sqlite3_exec(db, "INSERT INTO calls(id, tag, start_us,"
				     " end_us, state) VALUES(3, 'c-3', 1, 9,"
				     " 'completed');"
				     "INSERT INTO packets VALUES(3, 5, 1, 1,"
				     " '192.0.2.1:5060', '192.0.2.2:5061',"
				     " 'SIP/2.0 200 OK');"
				     "INSERT INTO packets VALUES(3, 2, 1, 1,"
				     " '192.0.2.1:5060', '192.0.2.2:5061',"
				     " 'INVITE sip:a@b SIP/2.0');"
				     "INSERT INTO events VALUES(3, 2, 1, 1, 3,"
				     " 'INVITE', NULL)", NULL, NULL, NULL), 0);
	sqlite3_close(db);
	cl = open_log("v4.db", 0, 0, 0);
	CU_ASSERT_FATAL(cl != NULL);
	uid = sw_calllog_call_start(cl, &st, NULL, 0);
	CU_ASSERT_EQUAL(uid, 4);
	v5_msg(cl, uid, FX_T0 + 20, ok);
	v5_msg(cl, uid, FX_T0 + 10, inv);
	CU_ASSERT_EQUAL(sw_calllog_event(cl, uid, &(struct sw_rec_event){
				FX_T0 + 15, SW_EV_NOTE, SW_ACT_GW, SW_ACT_GW,
				"routed", NULL}), 0);
	CU_ASSERT_EQUAL(sw_calllog_flush(cl, 5000), 0);
	sw_calllog_close(cl);

	db = open_raw("v4.db");
	CU_ASSERT_EQUAL(count(db, "PRAGMA user_version"), SW_CALLLOG_SCHEMA);
	CU_ASSERT_EQUAL(count(db, "SELECT COUNT(*) FROM events WHERE call = 4"
			      " AND data IS NOT NULL AND proto = 1 AND"
			      " transport = 1 AND src_addr = '192.0.2.1:5060'"),
			2);
	CU_ASSERT_EQUAL(count(db, "SELECT COUNT(*) FROM packets WHERE call ="
			      " 4"), 0);
	sqlite3_close(db);
	store = open_ro("v4.db");
	CU_ASSERT_FATAL(store != NULL);
	CU_ASSERT_EQUAL_FATAL(sw_callstore_load(store, 4, SW_PART_ALL, &r), 0);
	CU_ASSERT_EQUAL_FATAL(r->n_packets, 2);
	CU_ASSERT_EQUAL(r->packets[0].t_us, FX_T0 + 10);
	CU_ASSERT_EQUAL(r->packets[0].len, strlen(inv));
	CU_ASSERT(!memcmp(r->packets[0].data, inv, strlen(inv)));
	CU_ASSERT_EQUAL(r->packets[1].proto, SW_PKT_SIP);
	CU_ASSERT_EQUAL(r->packets[1].transport, SW_PKT_UDP);
	CU_ASSERT_EQUAL(sw_sa_port(&r->packets[1].dst), 5061);
	CU_ASSERT_EQUAL_FATAL(r->n_events, 3);
	CU_ASSERT_STRING_EQUAL(r->events[0].label, "INVITE");
	CU_ASSERT_EQUAL(r->events[0].src, SW_ACT_EDGE);
	CU_ASSERT_STRING_EQUAL(r->events[1].label, "routed");
	CU_ASSERT_STRING_EQUAL(r->events[2].label, "200 OK");
	sw_callrec_free(r);
	r = NULL;
	/* the v4 call: its messages from packets, its step from events */
	CU_ASSERT_EQUAL_FATAL(sw_callstore_load(store, 3, SW_PART_ALL, &r), 0);
	CU_ASSERT_EQUAL_FATAL(r->n_packets, 2);
	CU_ASSERT_EQUAL(r->packets[0].t_us, 2);
	CU_ASSERT_EQUAL(r->packets[1].len, 14);
	CU_ASSERT_EQUAL(r->n_events, 1);
	sw_callrec_free(r);
	sw_callstore_close(store);
}


/* Every table's columns (name, type, NOT NULL, default) and every index
 * of a file, one per line, sorted */
static char *schema_text(const char *name)
{
	static const char sql[] =
		"SELECT m.name || '.' || p.name || ' ' || p.type || ' ' ||"
		" p.\"notnull\" || ' ' || COALESCE(p.dflt_value, '-')"
		" FROM sqlite_master m, pragma_table_info(m.name) p"
		" WHERE m.type = 'table'"
		" UNION ALL SELECT 'index ' || name || ' ON ' || tbl_name"
		" FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
		" ORDER BY 1";
	sqlite3 *db = open_raw(name);
	sqlite3_stmt *st;
	char *out = calloc(1, 16384);
	size_t n = 0;

	if (!db || !out || sqlite3_prepare_v2(db, sql, -1, &st, NULL)) {
		sqlite3_close(db);
		return out;
	}
	while (sqlite3_step(st) == SQLITE_ROW && n < 16000)
		n += (size_t)snprintf(out + n, 16384 - n, "%s\n",
				      (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return out;
}


/* A new file gets the schema generated from the field lists; a v1 file
 * the migrations: both must be the same schema, column for column */
UNIT_TEST(test_schema_migrated_is_created, "schema: migrated = created")
{
	char err[256], *fresh, *migrated;
	struct sw_calllog *cl;

	CU_ASSERT_EQUAL(sw_callstore_sqlite_schema(dbpath("mig.db"), 1, err,
						   sizeof(err)), 0);
	cl = open_log("mig.db", 0, 0, 0);
	CU_ASSERT_FATAL(cl != NULL);
	sw_calllog_close(cl);
	cl = open_log("new.db", 0, 0, 0);
	CU_ASSERT_FATAL(cl != NULL);
	sw_calllog_close(cl);
	fresh = schema_text("new.db");
	migrated = schema_text("mig.db");
	CU_ASSERT_FATAL(fresh && migrated);
	CU_ASSERT_PTR_NOT_NULL(strstr(fresh, "calls.done_seq INTEGER 0 -\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(fresh, "legs.leg TEXT 1 -\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(fresh, "index calls_done ON calls\n"));
	if (strcmp(fresh, migrated))
		fprintf(stderr, "\ncreated:\n%s\nmigrated:\n%s\n", fresh,
			migrated);
	CU_ASSERT_STRING_EQUAL(fresh, migrated);
	CU_ASSERT_EQUAL(count_in("new.db", "PRAGMA user_version"),
			SW_CALLLOG_SCHEMA);
	free(fresh);
	free(migrated);
}


/* ---- control socket -------------------------------------------------- */

struct ctl_req {
	const char *path, *cmd, *args;
	struct sw_jval *res;
	char err[256];
	int rc;
	bool done;
};


static void *ctl_client(void *arg)
{
	struct ctl_req *r = arg;

	r->rc = sw_ctl_request(r->path, r->cmd, r->args, 5000, &r->res,
			       r->err, sizeof(r->err));
	__atomic_store_n(&r->done, true, __ATOMIC_RELEASE);
	return NULL;
}


/* One request from another thread, served by this one's "loop" */
static int ctl_ask(struct sw_ctl *ctl, const char *path, const char *cmd,
		   const char *args, struct ctl_req *r)
{
	pthread_t t;

	memset(r, 0, sizeof(*r));
	r->path = path;
	r->cmd = cmd;
	r->args = args;
	if (pthread_create(&t, NULL, ctl_client, r))
		return -1;
	for (int i = 0; i < 500 && !__atomic_load_n(&r->done,
						    __ATOMIC_ACQUIRE); ++i) {
		struct pollfd p = {sw_ctl_fd(ctl), POLLIN, 0};

		if (poll(&p, 1, 10) > 0)
			sw_ctl_process(ctl);
	}
	pthread_join(t, NULL);
	return r->rc;
}


static int h_one(struct sw_json *res, const struct sw_jval *args, void *arg)
{
	sw_json_int(res, "one", sw_jval_int(args, "n", 0) + 1);
	sw_json_str(res, "tag", arg);
	return 0;
}


static int h_two(struct sw_json *res, const struct sw_jval *args, void *arg)
{
	(void)args;
	(void)arg;
	sw_json_bool(res, "two", true);
	return 0;
}


static int h_fail(struct sw_json *res, const struct sw_jval *args,
		  void *arg)
{
	(void)res;
	(void)args;
	(void)arg;
	return EPERM;
}


static int count_children(const struct sw_jval *v)
{
	int n = 0;

	for (const struct sw_jval *c = v ? v->child : NULL; c; c = c->next)
		++n;
	return n;
}


UNIT_TEST(test_ctl, "control socket")
{
	const char *path = dbpath("ctl.sock");
	struct sw_ctl *ctl = NULL, *ctl2 = NULL;
	struct ctl_req r;
	struct stat stb;

	CU_ASSERT_EQUAL_FATAL(sw_ctl_open(&ctl, path), 0);
	CU_ASSERT_EQUAL(stat(path, &stb), 0);
	CU_ASSERT_EQUAL(stb.st_mode & 0777, 0660);
	CU_ASSERT_EQUAL(sw_ctl_open(&ctl2, path), EADDRINUSE); /* live */
	CU_ASSERT_EQUAL(sw_ctl_register(ctl, "stats", h_one, "x"), 0);
	CU_ASSERT_EQUAL(sw_ctl_register(ctl, "stats", h_two, NULL), 0);
	CU_ASSERT_EQUAL(sw_ctl_register(ctl, "bad", h_fail, NULL), 0);
	/* several handlers of one name share the result object */
	CU_ASSERT_EQUAL(ctl_ask(ctl, path, "stats", "{\"n\":41}", &r), 0);
	CU_ASSERT_EQUAL(sw_jval_int(r.res, "one", 0), 42);
	CU_ASSERT_STRING_EQUAL(sw_jval_str(r.res, "tag", ""), "x");
	CU_ASSERT(sw_jval_bool(r.res, "two", false));
	sw_jval_free(r.res);
	CU_ASSERT_EQUAL(ctl_ask(ctl, path, "nosuch", NULL, &r), EREMOTEIO);
	CU_ASSERT_STRING_EQUAL(r.err, "unknown command 'nosuch'");
	CU_ASSERT_EQUAL(ctl_ask(ctl, path, "bad", NULL, &r), EREMOTEIO);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "bad: "));
	CU_ASSERT_EQUAL(ctl_ask(ctl, path, "help", NULL, &r), 0);
	CU_ASSERT_EQUAL(count_children(sw_jval_get(r.res, "commands")), 3);
	sw_jval_free(r.res); /* help, stats, bad: each name once */
	sw_ctl_close(ctl);
	CU_ASSERT_NOT_EQUAL(stat(path, &stb), 0); /* removed */
	memset(&r, 0, sizeof(r));
	CU_ASSERT_EQUAL(sw_ctl_request(path, "stats", NULL, 1000, &r.res,
				       r.err, sizeof(r.err)), ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "sharewayd is not running"));
}


/* A socket file left by a killed daemon is replaced; a request that is
 * not JSON gets an error answer, and the server carries on */
UNIT_TEST(test_ctl_stale_and_bad, "control socket: stale file, bad request")
{
	const char *path = dbpath("stale.sock");
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct sw_ctl *ctl = NULL;
	struct ctl_req r;
	char buf[256] = "";
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	CU_ASSERT_FATAL(strlen(path) < sizeof(sun.sun_path));
	memcpy(sun.sun_path, path, strlen(path) + 1);
	CU_ASSERT_EQUAL(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd); /* the file stays, nobody listens */
	CU_ASSERT_EQUAL_FATAL(sw_ctl_open(&ctl, path), 0);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CU_ASSERT_EQUAL(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	CU_ASSERT_EQUAL(write(fd, "not json\n", 9), 9);
	for (int i = 0; i < 100 && !buf[0]; ++i) {
		struct pollfd p = {sw_ctl_fd(ctl), POLLIN, 0};

		if (poll(&p, 1, 10) > 0)
			sw_ctl_process(ctl);
		if (recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT) < 0)
			buf[0] = '\0';
	}
	close(fd);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\"ok\":false"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "bad request"));
	CU_ASSERT_EQUAL(ctl_ask(ctl, path, "help", NULL, &r), 0);
	sw_jval_free(r.res);
	sw_ctl_close(ctl);
}


/* Out of descriptors, a CLI connection cannot be accepted: it is closed
 * at once (the reserve descriptor) and the socket is not left readable,
 * which would spin the SIP loop */
UNIT_TEST(test_ctl_no_fds, "control socket: out of descriptors")
{
	const char *path = dbpath("nofds.sock");
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct sw_ctl *ctl = NULL;
	struct rlimit old, low;
	struct pollfd p;
	char b;
	int fd, lowest;

	CU_ASSERT_EQUAL_FATAL(sw_ctl_open(&ctl, path), 0);
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CU_ASSERT_FATAL(fd >= 0);
	lowest = dup(0);
	CU_ASSERT_FATAL(lowest >= 0);
	close(lowest);
	CU_ASSERT_FATAL(getrlimit(RLIMIT_NOFILE, &old) == 0);
	low = old;
	low.rlim_cur = (rlim_t)lowest;
	CU_ASSERT_FATAL(setrlimit(RLIMIT_NOFILE, &low) == 0);
	CU_ASSERT_EQUAL(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	sw_ctl_process(ctl);
	p = (struct pollfd){sw_ctl_fd(ctl), POLLIN, 0};
	CU_ASSERT_EQUAL(poll(&p, 1, 0), 0); /* nothing left to spin on */
	CU_ASSERT_EQUAL(setrlimit(RLIMIT_NOFILE, &old), 0);
	CU_ASSERT_EQUAL(recv(fd, &b, 1, MSG_DONTWAIT), 0); /* closed */
	close(fd);
	sw_ctl_close(ctl);
}


static int suite_init(void)
{
	sw_log_set_level(SW_LOG_ERROR);
	return mkdtemp(tmpdir) ? 0 : -1;
}


static int suite_clean(void)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}


UNIT_SUITE("calllog", suite_init, suite_clean, NULL, NULL);
