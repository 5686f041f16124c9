/**
 * @file sw_calllog_synth.c  Synthetic call records for load tests and
 * benchmarks, written through the real emit API and writer thread.
 *
 * Every record is flagged synthetic and its URIs say so
 * (sip:synthetic-N@load.invalid). One call in five fails, in rotation:
 * 486 busy, ICE c->e timeout, cancelled, ms-diagnostics 21002, 408, so
 * `calls --failed` and the verdicts have realistic work to do.
 *
 * sharewayd --synthetic-load RATE runs a generator thread (the kill -9
 * test); tools/calllog-load writes N records into a file (the benchmark).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SW_LOG_MODULE "clog"
#include "sw_calllog.h"
#include "sw_log.h"

static const char synth_offer[] =
	"v=0\r\no=- 0 0 IN IP4 192.0.2.10\r\ns=session\r\n"
	"c=IN IP4 192.0.2.10\r\nt=0 0\r\n"
	"m=applicationsharing 50006 TCP/RTP/AVP 127\r\n"
	"a=ice-ufrag:syn1\r\na=ice-pwd:synthetic-password-0001\r\n"
	"a=candidate:1 1 TCP-PASS 174326015 192.0.2.10 50006 typ relay "
	"raddr 10.0.0.10 rport 50006\r\n"
	"a=rtpmap:127 x-data/90000\r\n";

static const char synth_answer[] =
	"v=0\r\no=- 1 1 IN IP4 198.51.100.20\r\ns=-\r\n"
	"c=IN IP4 198.51.100.20\r\nt=0 0\r\n"
	"m=applicationsharing 3390 TCP/RTP/AVP 127\r\n"
	"a=ice-ufrag:syn2\r\na=ice-pwd:synthetic-password-0002\r\n"
	"a=candidate:1 1 TCP-PASS 2019819775 198.51.100.20 3390 typ host\r\n"
	"a=rtpmap:127 x-data/90000\r\n";

enum synth_outcome {
	SY_OK = 0,
	SY_BUSY,
	SY_ICE,
	SY_CANCEL,
	SY_21002,
	SY_408,
};


static enum synth_outcome outcome_of(uint64_t seq)
{
	switch (seq % 20) {
	case 3: return SY_BUSY;
	case 7: return SY_ICE;
	case 11: return SY_CANCEL;
	case 13: return SY_21002;
	case 17: return SY_408;
	default: return SY_OK;
	}
}


static void synth_ev(struct sw_calllog *cl, uint64_t uid, int64_t t,
		     enum sw_actor s, enum sw_actor d, enum sw_ev_kind k,
		     const char *label)
{
	struct sw_rec_event e = {.t_us = t, .src = s, .dst = d, .kind = k,
				 .label = label};

	sw_calllog_event(cl, uid, &e);
}


static void synth_legs(struct sw_calllog *cl, uint64_t uid, uint64_t seq,
		       enum synth_outcome oc)
{
	char cid[64], xcid[64];
	struct sw_rec_leg e = {.leg = 'e', .inbound = true, .peer =
			       "192.0.2.1:5061", .zone = "edge",
			       .transport = "tls", .user_agent = "synthetic"};
	struct sw_rec_leg c = {.leg = 'c', .peer = "198.51.100.20:5060",
			       .zone = "cms", .transport = "tcp",
			       .user_agent = "synthetic"};
	struct sw_rec_route r = {"synthetic", 10, "edge", "cms",
				 "sip:meet@load.invalid",
				 "sip:conf@cms.load.invalid",
				 "sip:198.51.100.20:5060", "tcp",
				 "synthetic (10): source = edge PASS -> stop",
				 NULL, "relay"};

	snprintf(cid, sizeof(cid), "synthetic-%" PRIu64 "-e", seq);
	snprintf(xcid, sizeof(xcid), "synthetic-%" PRIu64 "-c", seq);
	e.call_id = cid;
	c.call_id = xcid;
	c.x_cid = cid;
	e.final_code = c.final_code = oc == SY_BUSY ? 486 :
				      oc == SY_CANCEL ? 487 :
				      oc == SY_21002 ? 403 :
				      oc == SY_408 ? 408 : 200;
	if (oc == SY_408)
		c.final_code = 0;
	if (oc == SY_21002)
		c.ms_diag_public = "21002;reason=\"Attendees cannot share in "
				   "this conference\";component=\"ASMCU\"";
	sw_calllog_leg(cl, uid, &e);
	sw_calllog_leg(cl, uid, &c);
	sw_calllog_route(cl, uid, &r);
}


static void synth_media(struct sw_calllog *cl, uint64_t uid, int64_t t,
			enum synth_outcome oc)
{
	struct sw_rec_relay rl = {1, "in-process", "tcp", "in-process", NULL,
				  "203.0.113.5:24000", t + 5000, t + 6000, 600,
				  0, "192.0.2.9", 0, NULL, 0, NULL};
	struct sw_rec_conn cn = {1, 1, "192.0.2.9:53577", "198.51.100.20:3390",
				 t + 400000, t + 401000, 200, NULL, 1048576,
				 65536, 0, NULL};
	struct sw_rec_ice ice[2] = {
		{SW_ICE_E2C, SW_ICE_SUCCEEDED, t + 500000, t + 550000, 0, NULL,
		 true, "192.0.2.9:53577 -> 198.51.100.20:3390", 30, 1, 1},
		{SW_ICE_C2E, SW_ICE_SUCCEEDED, t + 600000, t + 610000, 0, NULL,
		 false, NULL, 30, 1, 1}};
	struct sw_rec_reinvite ri = {'e', t + 700000, 200, "OK", 80, 0, NULL};

	if (oc == SY_ICE) {
		ice[1].state = SW_ICE_FAILED;
		ice[1].first_success_us = 0;
		ice[1].successes = 0;
		ice[1].error = "no Binding success in 30 s";
	}
	sw_calllog_relay(cl, uid, &rl);
	synth_ev(cl, uid, t + 6000, SW_ACT_GW, SW_ACT_TURNC, SW_EV_TURN,
		 "Allocate Success");
	sw_calllog_conn(cl, uid, &cn);
	synth_ev(cl, uid, t + 400000, SW_ACT_GW, SW_ACT_TURNC, SW_EV_TURN,
		 "ConnectionAttempt Ind.");
	synth_ev(cl, uid, t + 401000, SW_ACT_GW, SW_ACT_TURNC, SW_EV_TURN,
		 "ConnectionBind Success");
	sw_calllog_ice(cl, uid, &ice[0]);
	sw_calllog_ice(cl, uid, &ice[1]);
	synth_ev(cl, uid, t + 500000, SW_ACT_EDGE, SW_ACT_CONF, SW_EV_STUN,
		 "Binding Request");
	synth_ev(cl, uid, t + 550000, SW_ACT_CONF, SW_ACT_EDGE, SW_EV_STUN,
		 "Binding Success");
	if (oc == SY_ICE)
		return;
	sw_calllog_reinvite(cl, uid, &ri);
	synth_ev(cl, uid, t + 700000, SW_ACT_GW, SW_ACT_EDGE, SW_EV_SIP,
		 "re-INVITE (SDP)");
}


static void synth_end(struct sw_calllog *cl, uint64_t uid, int64_t end,
		      enum synth_outcome oc)
{
	static const struct {
		enum sw_call_state st;
		int code;
		const char *phrase;
	} res[] = {
		[SY_OK] = {SW_CS_COMPLETED, 200, "OK"},
		[SY_BUSY] = {SW_CS_REJECTED, 486, "Busy Here"},
		[SY_ICE] = {SW_CS_COMPLETED, 200, "OK"},
		[SY_CANCEL] = {SW_CS_CANCELLED, 487, "Request Terminated"},
		[SY_21002] = {SW_CS_REJECTED, 403, "Forbidden"},
		[SY_408] = {SW_CS_REJECTED, 408, "Request Timeout"},
	};
	/* a timeout and a CANCEL are answered by the gateway itself */
	bool gw = oc == SY_408 || oc == SY_CANCEL;
	struct sw_rec_end e = {end, res[oc].st, res[oc].code, res[oc].phrase,
			       "e", oc == SY_OK || oc == SY_ICE ? "BYE" : NULL,
			       gw ? "gw" : "c",
			       oc == SY_408 ? "no final answer within "
					      "invite_timeout" : NULL};

	synth_ev(cl, uid, end, SW_ACT_EDGE, SW_ACT_GW, SW_EV_SIP,
		 oc == SY_CANCEL ? "CANCEL" : "BYE");
	sw_calllog_call_end(cl, uid, &e);
}


/**
 * Emit one synthetic call (flagged synthetic) that ends at end_us and
 * lasted a duration derived from seq; with full, the SDP bodies too
 *
 * @return 0, or ENOBUFS if its start could not be queued
 */
int sw_calllog_synth_call(struct sw_calllog *cl, uint64_t seq,
			  int64_t end_us, bool full)
{
	enum synth_outcome oc = outcome_of(seq);
	int64_t dur = oc == SY_OK || oc == SY_ICE ?
			      (int64_t)(30 + seq % 600) * 1000000 : 900000;
	int64_t start_us = end_us - dur;
	char from[64];
	struct sw_rec_start st = {start_us, from, "sip:meet@load.invalid",
				  'e', true};
	struct sw_rec_neg n = {1, "initial-invite", 'e', 'c', 200, 300,
			       NULL, NULL, NULL, NULL, NULL};
	uint64_t uid;

	snprintf(from, sizeof(from), "sip:synthetic-%" PRIu64 "@load.invalid",
		 seq);
	uid = sw_calllog_call_start(cl, &st, NULL, 0);
	if (!uid)
		return ENOBUFS;
	synth_legs(cl, uid, seq, oc);
	synth_ev(cl, uid, start_us, SW_ACT_EDGE, SW_ACT_GW, SW_EV_SIP,
		 "INVITE (SDP)");
	if (full) {
		n.offer_in = n.offer_out = synth_offer;
		n.answer_in = n.answer_out = synth_answer;
	}
	else { /* what makes it an app-sharing call: its offer's m= line */
		n.offer_in = "v=0\r\nm=applicationsharing 50000 TCP/RTP/AVP "
			     "127\r\n";
	}
	n.result = oc == SY_OK || oc == SY_ICE ? 200 : 0;
	sw_calllog_negotiation(cl, uid, &n);
	if (oc == SY_OK || oc == SY_ICE) {
		sw_calllog_call_answer(cl, uid, start_us + 300000);
		synth_media(cl, uid, start_us + 300000, oc);
	}
	synth_end(cl, uid, end_us, oc);
	return 0;
}


/* ---- generator thread (sharewayd --synthetic-load) ----------------------- */

struct sw_calllog_synth {
	struct sw_calllog *cl;
	uint32_t rate;       /* calls per second */
	pthread_t thread;
	atomic_bool stop;
	uint64_t emitted;    /* generator thread only, read after join */
};


static void *synth_main(void *arg)
{
	struct sw_calllog_synth *sy = arg;
	struct timespec next;
	double due = 0;

	clock_gettime(CLOCK_MONOTONIC, &next);
	while (!atomic_load(&sy->stop)) {
		/* 100 ticks a second; each emits its share of the rate */
		next.tv_nsec += 10000000;
		if (next.tv_nsec >= 1000000000) {
			next.tv_nsec -= 1000000000;
			next.tv_sec++;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
		due += sy->rate / 100.0;
		while (due >= 1 && !atomic_load(&sy->stop)) {
			if (sw_calllog_synth_call(sy->cl, sy->emitted,
						  sw_calllog_now(), false) == 0)
				sy->emitted++;
			due -= 1;
		}
	}
	return NULL;
}


/**
 * Start a thread that emits rate synthetic calls per second, each ending
 * when it is emitted (so end order is uid order)
 */
int sw_calllog_synth_start(struct sw_calllog_synth **syp,
			   struct sw_calllog *cl, uint32_t rate)
{
	struct sw_calllog_synth *sy;
	int err;

	if (!syp || !cl || !rate)
		return EINVAL;
	sy = calloc(1, sizeof(*sy));
	if (!sy)
		return ENOMEM;
	sy->cl = cl;
	sy->rate = rate;
	err = pthread_create(&sy->thread, NULL, synth_main, sy);
	if (err) {
		free(sy);
		return err;
	}
	sw_warn("synthetic load: %u calls/s into the call log (records "
		"flagged synthetic)", rate);
	*syp = sy;
	return 0;
}


void sw_calllog_synth_stop(struct sw_calllog_synth *sy)
{
	if (!sy)
		return;
	atomic_store(&sy->stop, true);
	pthread_join(sy->thread, NULL);
	sw_notice("synthetic load stopped after %" PRIu64 " calls",
		  sy->emitted);
	free(sy);
}
