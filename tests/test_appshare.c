/**
 * @file test_appshare.c  The application-sharing coordinator's state
 * machine: every (state, event) pair of the session's table and every
 * (state, event) pair of an ICE direction's, each against what this file
 * expects, the impossible ones included; then a session driven through
 * the coordinator itself, with a host of the test's own in place of the
 * daemon's glue (src/appshare/sw_appshare.h), where impossible events are
 * refused and counted and change nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "relay.h"
#include "sw_appshare.h"
#include "sw_appshare_int.h"
#include "sw_conf.h"
#include "sw_calllog.h"
#include "sw_callstore.h"
#include "sw_log.h"

#define X AS_ST_IMPOSSIBLE

/* Written from the states' meaning (sw_appshare_int.h), not copied from
 * the coordinator's table: what each event may do in each state */
static const struct {
	enum as_state st;
	enum as_event ev;
	enum as_state to;
} valid[] = {
	/* no session: an offer begins one; glare offers, a port 0, the
	 * tick and the call's end change nothing */
	{AS_ST_IDLE, AS_EV_OFFER, AS_ST_OFFERED},
	{AS_ST_IDLE, AS_EV_LOCAL_OFFER, AS_ST_IDLE},
	{AS_ST_IDLE, AS_EV_STOP, AS_ST_IDLE},
	{AS_ST_IDLE, AS_EV_TICK, AS_ST_IDLE},
	{AS_ST_IDLE, AS_EV_END, AS_ST_IDLE},
	/* offered: a relay is taken or not; no relay event yet */
	{AS_ST_OFFERED, AS_EV_OFFER, AS_ST_OFFERED},
	{AS_ST_OFFERED, AS_EV_ANSWER, AS_ST_OFFERED},
	{AS_ST_OFFERED, AS_EV_LOCAL_OFFER, AS_ST_OFFERED},
	{AS_ST_OFFERED, AS_EV_STOP, AS_ST_IDLE},
	{AS_ST_OFFERED, AS_EV_RESTART, AS_ST_IDLE},
	{AS_ST_OFFERED, AS_EV_TAKEN, AS_ST_CHECKING},
	{AS_ST_OFFERED, AS_EV_NO_RELAY, AS_ST_NO_RELAY},
	{AS_ST_OFFERED, AS_EV_TICK, AS_ST_OFFERED},
	{AS_ST_OFFERED, AS_EV_END, AS_ST_OFFERED},
	/* no relay: SDP passes until the session ends */
	{AS_ST_NO_RELAY, AS_EV_OFFER, AS_ST_NO_RELAY},
	{AS_ST_NO_RELAY, AS_EV_ANSWER, AS_ST_NO_RELAY},
	{AS_ST_NO_RELAY, AS_EV_LOCAL_OFFER, AS_ST_NO_RELAY},
	{AS_ST_NO_RELAY, AS_EV_STOP, AS_ST_IDLE},
	{AS_ST_NO_RELAY, AS_EV_RESTART, AS_ST_IDLE},
	{AS_ST_NO_RELAY, AS_EV_TICK, AS_ST_NO_RELAY},
	{AS_ST_NO_RELAY, AS_EV_END, AS_ST_NO_RELAY},
	/* checking: everything may happen */
	{AS_ST_CHECKING, AS_EV_OFFER, AS_ST_CHECKING},
	{AS_ST_CHECKING, AS_EV_ANSWER, AS_ST_CHECKING},
	{AS_ST_CHECKING, AS_EV_LOCAL_OFFER, AS_ST_CHECKING},
	{AS_ST_CHECKING, AS_EV_STOP, AS_ST_IDLE},
	{AS_ST_CHECKING, AS_EV_RESTART, AS_ST_IDLE},
	{AS_ST_CHECKING, AS_EV_TAKEN, AS_ST_CHECKING},
	{AS_ST_CHECKING, AS_EV_NO_RELAY, AS_ST_NO_RELAY},
	{AS_ST_CHECKING, AS_EV_COMPLETION, AS_ST_CHECKING},
	{AS_ST_CHECKING, AS_EV_BYPASS, AS_ST_DIRECT},
	{AS_ST_CHECKING, AS_EV_SELECTED, AS_ST_COMPLETED},
	{AS_ST_CHECKING, AS_EV_RELAY, AS_ST_CHECKING},
	{AS_ST_CHECKING, AS_EV_ALLOC_GONE, AS_ST_CHECKING},
	{AS_ST_CHECKING, AS_EV_TICK, AS_ST_CHECKING},
	{AS_ST_CHECKING, AS_EV_END, AS_ST_CHECKING},
	/* completed: no second selection, no new relay */
	{AS_ST_COMPLETED, AS_EV_OFFER, AS_ST_COMPLETED},
	{AS_ST_COMPLETED, AS_EV_ANSWER, AS_ST_COMPLETED},
	{AS_ST_COMPLETED, AS_EV_LOCAL_OFFER, AS_ST_COMPLETED},
	{AS_ST_COMPLETED, AS_EV_STOP, AS_ST_IDLE},
	{AS_ST_COMPLETED, AS_EV_RESTART, AS_ST_IDLE},
	{AS_ST_COMPLETED, AS_EV_COMPLETION, AS_ST_COMPLETED},
	{AS_ST_COMPLETED, AS_EV_BYPASS, AS_ST_DIRECT},
	{AS_ST_COMPLETED, AS_EV_RELAY, AS_ST_COMPLETED},
	{AS_ST_COMPLETED, AS_EV_ALLOC_GONE, AS_ST_COMPLETED},
	{AS_ST_COMPLETED, AS_EV_TICK, AS_ST_COMPLETED},
	{AS_ST_COMPLETED, AS_EV_END, AS_ST_COMPLETED},
	/* direct: the relay's last events, nothing of the gateway's */
	{AS_ST_DIRECT, AS_EV_OFFER, AS_ST_DIRECT},
	{AS_ST_DIRECT, AS_EV_ANSWER, AS_ST_DIRECT},
	{AS_ST_DIRECT, AS_EV_LOCAL_OFFER, AS_ST_DIRECT},
	{AS_ST_DIRECT, AS_EV_STOP, AS_ST_IDLE},
	{AS_ST_DIRECT, AS_EV_RESTART, AS_ST_IDLE},
	{AS_ST_DIRECT, AS_EV_RELAY, AS_ST_DIRECT},
	{AS_ST_DIRECT, AS_EV_ALLOC_GONE, AS_ST_DIRECT},
	{AS_ST_DIRECT, AS_EV_TICK, AS_ST_DIRECT},
	{AS_ST_DIRECT, AS_EV_END, AS_ST_DIRECT},
};


UNIT_TEST(test_session_table, "session transitions, every pair")
{
	unsigned n_valid = 0, n_impossible = 0;

	for (int st = 0; st < AS_ST_COUNT; ++st) {
		for (int ev = 0; ev < AS_EV_COUNT; ++ev) {
			enum as_state want = X, got;

			for (size_t i = 0; i < sizeof(valid) / sizeof(*valid);
			     ++i)
				if (valid[i].st == (enum as_state)st &&
				    valid[i].ev == (enum as_event)ev)
					want = valid[i].to;
			got = sw_as_next((enum as_state)st,
					 (enum as_event)ev);
			if (got != want)
				fprintf(stderr, "\n  %s + %s: %s, want %s",
					sw_as_state_name((enum as_state)st),
					sw_as_event_name((enum as_event)ev),
					got == X ? "impossible"
						 : sw_as_state_name(got),
					want == X ? "impossible"
						  : sw_as_state_name(want));
			CU_ASSERT_EQUAL(got, want);
			if (want == X)
				n_impossible++;
			else
				n_valid++;
		}
	}
	CU_ASSERT_EQUAL(n_valid, sizeof(valid) / sizeof(*valid));
	CU_ASSERT_EQUAL(n_valid + n_impossible, AS_ST_COUNT * AS_EV_COUNT);
	/* out of range: impossible, named "?" */
	CU_ASSERT_EQUAL(sw_as_next(AS_ST_COUNT, AS_EV_OFFER), X);
	CU_ASSERT_EQUAL(sw_as_next(AS_ST_IDLE, AS_EV_COUNT), X);
	CU_ASSERT_STRING_EQUAL(sw_as_state_name(AS_ST_COUNT), "?");
	CU_ASSERT_STRING_EQUAL(sw_as_event_name(AS_EV_COUNT), "?");
	for (int st = 0; st < AS_ST_COUNT; ++st)
		CU_ASSERT_STRING_NOT_EQUAL(
			sw_as_state_name((enum as_state)st), "?");
	for (int ev = 0; ev < AS_EV_COUNT; ++ev)
		CU_ASSERT_STRING_NOT_EQUAL(
			sw_as_event_name((enum as_event)ev), "?");
}


/* An ICE direction: request, success, timeout in each state */
UNIT_TEST(test_ice_table, "ICE direction transitions, every pair")
{
	static const enum sw_ice_state want[][AS_ICE_EV_COUNT] = {
		[SW_ICE_UNKNOWN] = {SW_ICE_CHECKING, SW_ICE_SUCCEEDED,
				    SW_ICE_FAILED},
		[SW_ICE_WAITING] = {SW_ICE_CHECKING, SW_ICE_SUCCEEDED,
				    SW_ICE_FAILED},
		[SW_ICE_CHECKING] = {SW_ICE_CHECKING, SW_ICE_SUCCEEDED,
				     SW_ICE_FAILED},
		/* a timeout of a direction that succeeded or already
		 * failed is impossible (SW_ICE_UNKNOWN) */
		[SW_ICE_SUCCEEDED] = {SW_ICE_SUCCEEDED, SW_ICE_SUCCEEDED,
				      SW_ICE_UNKNOWN},
		[SW_ICE_FAILED] = {SW_ICE_FAILED, SW_ICE_SUCCEEDED,
				   SW_ICE_UNKNOWN},
	};

	for (int s = SW_ICE_UNKNOWN; s <= SW_ICE_FAILED; ++s)
		for (int ev = 0; ev < AS_ICE_EV_COUNT; ++ev)
			CU_ASSERT_EQUAL(sw_as_ice_next((enum sw_ice_state)s,
						       (enum as_ice_event)ev),
					want[s][ev]);
	CU_ASSERT_EQUAL(sw_as_ice_next(SW_ICE_FAILED + 1, AS_ICE_REQUEST),
			SW_ICE_UNKNOWN);
	CU_ASSERT_EQUAL(sw_as_ice_next(SW_ICE_WAITING, AS_ICE_EV_COUNT),
			SW_ICE_UNKNOWN);
}


/* ---- a host of the test's own ------------------------------------- */

struct fake {
	struct sw_gwcall call;
	bool released;
	unsigned takes;
	unsigned cmds[RELAY_CMD_WATCH + 1];
};

static struct fake fk;

static struct sw_gwcall *fake_call(struct sw_gw *gw, uint64_t id)
{
	(void)gw;
	return id == fk.call.id && !fk.released ? &fk.call : NULL;
}


static void fake_release(struct sw_gw *gw, struct sw_gwcall *c)
{
	(void)gw;
	sw_appshare_free(c->as);
	c->as = NULL;
	fk.released = true;
}


static int fake_take(struct sw_gw *gw, struct sw_gwcall *c,
		     struct relay_cmd *permit, struct sw_gw_pooled *out)
{
	(void)gw;
	(void)c;
	(void)permit;
	memset(out, 0, sizeof(*out));
	out->alloc_id = 7;
	sw_sa_set_ip(&out->relayed, "192.0.2.10", 40000);
	fk.takes++;
	return 0;
}


static void fake_cmd(struct sw_gw *gw, const struct relay_cmd *cmd)
{
	(void)gw;
	if ((unsigned)cmd->type <= RELAY_CMD_WATCH)
		fk.cmds[cmd->type]++;
}


static const char *fake_cmd_name(int type)
{
	(void)type;
	return "CMD";
}


#define SDP_HEAD "v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"

/* An SDP of one side with m=applicationsharing at port (0: off) */
static char *as_sdp(const char *ip, unsigned port, const char *ufrag)
{
	static char buf[1024];

	snprintf(buf, sizeof(buf), SDP_HEAD
		 "m=applicationsharing %u TCP/RTP/AVP 127\r\n"
		 "a=ice-ufrag:%s\r\na=ice-pwd:%spassword0123456789\r\n"
		 "a=candidate:1 1 TCP-PASS 2120613887 %s %u typ host\r\n"
		 "a=candidate:1 2 TCP-PASS 2120613887 %s %u typ host\r\n"
		 "a=rtpmap:127 x-data/90000\r\n",
		 ip, ip, port, ufrag, ufrag, ip, port ? port : 9, ip,
		 port ? port : 9);
	return buf;
}


static int cross(struct sw_as_host *h, enum sipua_leg_id from,
		 enum sipua_sdp_kind kind, const char *body, char **out)
{
	struct sipua_call_info call;
	struct sipua_sdp sdp = {.body = body, .len = strlen(body)};
	size_t olen = 0;
	int ret;

	memset(&call, 0, sizeof(call)); /* no route: no default policy */
	*out = NULL;
	(void)sdpr_parse(&sdp.model, body, sdp.len, &sdp.err);
	ret = sw_appshare_sdp(h, &fk.call, &call, SW_MP_RELAY, from, kind,
			      &sdp, out, &olen);
	sdpr_free(sdp.model);
	return ret;
}


static void relay_ev(struct sw_as_host *h, enum relay_ev_type type,
		     uint32_t alloc_id)
{
	struct relay_ev ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.call_id = fk.call.id;
	ev.alloc_id = alloc_id;
	ev.conn_id = 3;
	sw_sa_set_ip(&ev.addr, "192.0.2.1", 5000);
	sw_appshare_relay_event(h, &ev);
}


/* A relay session through the coordinator: impossible events (a relay
 * event before the session has a relay, an answer with no session) are
 * refused, counted and change nothing; possible ones take it through
 * offered, checking (both ICE directions failing at the timeout) and
 * idle again, and an earlier session's late event is its own */
UNIT_TEST(test_session_driven, "a session driven with impossible events")
{
	struct relay *not_used = (struct relay *)&fk; /* only compared */
	struct sw_conf conf;
	struct sw_as_host h = {
		.relay = not_used, .conf = &conf, .call = fake_call,
		.call_release = fake_release, .pool_take = fake_take,
		.cmd = fake_cmd, .cmd_name = fake_cmd_name,
	};
	char *out = NULL;

	sw_conf_defaults(&conf);
	memset(&fk, 0, sizeof(fk));
	fk.call.id = 5;
	fk.call.edge_leg = SIPUA_LEG_A;
	snprintf(fk.call.tag, sizeof(fk.call.tag), "t-1");

	/* the Edge offers: a session, no relay before the conference's
	 * answer */
	CU_ASSERT_EQUAL(cross(&h, SIPUA_LEG_A, SIPUA_SDP_OFFER,
			      as_sdp("192.0.2.1", 5000, "edge"), &out), 0);
	free(out);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fk.call.as);
	CU_ASSERT_EQUAL(fk.call.as->st, AS_ST_OFFERED);
	CU_ASSERT_EQUAL(fk.call.as->session, 1);
	CU_ASSERT_EQUAL(fk.takes, 0);
	/* a connection to a relay the session does not have: impossible */
	relay_ev(&h, RELAY_EV_CONN_ATTEMPT, 7);
	CU_ASSERT_EQUAL(fk.call.as->n_impossible, 1);
	CU_ASSERT_EQUAL(fk.call.as->st, AS_ST_OFFERED);
	CU_ASSERT_EQUAL(fk.call.as->n_conns, 0);
	CU_ASSERT_EQUAL(fk.cmds[RELAY_CMD_BIND], 0);

	/* the conference answers: the relay is taken, its candidates go
	 * into the answer toward the Edge */
	CU_ASSERT_EQUAL(cross(&h, SIPUA_LEG_B, SIPUA_SDP_ANSWER,
			      as_sdp("198.51.100.7", 6000, "conf"), &out), 0);
	CU_ASSERT_PTR_NOT_NULL(out);
	CU_ASSERT_PTR_NOT_NULL(out ? strstr(out, "192.0.2.10 40000 typ relay")
				   : NULL);
	free(out);
	CU_ASSERT_EQUAL(fk.takes, 1);
	CU_ASSERT_EQUAL(fk.call.as->st, AS_ST_CHECKING);
	CU_ASSERT_EQUAL(fk.call.as->alloc, AS_AL_HELD);
	/* every sharing call holds this state for its life: its lists are
	 * allocated to what was learnt (7.4 KB when each was an array for
	 * the worst case) */
	CU_ASSERT(sizeof(*fk.call.as) <= 1024);
	CU_ASSERT_EQUAL(fk.call.as->n_conf, 2); /* components 1 and 2 */
	CU_ASSERT_EQUAL(fk.call.as->n_edge, 2);
	CU_ASSERT_EQUAL(fk.call.as->n_edge_ips, 1);
	CU_ASSERT(fk.call.as->conf && fk.call.as->edge &&
		  fk.call.as->edge_ips);
	/* the check timeout runs on CLOCK_MONOTONIC (the tick's clock), not
	 * on the wall clock that NTP or an operator may step */
	CU_ASSERT(fk.call.as->checks_start_us <= sw_gw_mono_us() &&
		  fk.call.as->checks_start_us > sw_gw_mono_us() - 60000000);
	/* now the Edge's connection is bound to the conference */
	relay_ev(&h, RELAY_EV_CONN_ATTEMPT, 7);
	CU_ASSERT_EQUAL(fk.call.as->n_impossible, 1);
	CU_ASSERT_EQUAL(fk.call.as->n_conns, 1);
	CU_ASSERT_EQUAL(fk.cmds[RELAY_CMD_BIND], 1);

	/* no check at all within check_timeout: both directions fail */
	sw_appshare_tick(&h, &fk.call, fk.call.as->checks_start_us +
				       (int64_t)conf.as_check_timeout *
					       1000000 + 1);
	CU_ASSERT_EQUAL(fk.call.as->dir[SW_ICE_E2C].rec.state, SW_ICE_FAILED);
	CU_ASSERT_EQUAL(fk.call.as->dir[SW_ICE_C2E].rec.state, SW_ICE_FAILED);
	CU_ASSERT_EQUAL(fk.call.as->st, AS_ST_CHECKING);

	/* the Edge stops sharing: the relay is deleted, the session over */
	CU_ASSERT_EQUAL(cross(&h, SIPUA_LEG_A, SIPUA_SDP_OFFER,
			      as_sdp("192.0.2.1", 0, "edge"), &out), 0);
	CU_ASSERT_PTR_NULL(out);
	CU_ASSERT_EQUAL(fk.call.as->st, AS_ST_IDLE);
	CU_ASSERT_EQUAL(fk.call.as->alloc, AS_AL_NONE);
	CU_ASSERT_EQUAL(fk.cmds[RELAY_CMD_DELETE], 1);
	CU_ASSERT_EQUAL(fk.call.as->n_old, 1);
	/* an answer opening a stream no offer opened: impossible,
	 * forwarded as it came, no relay taken */
	CU_ASSERT_EQUAL(cross(&h, SIPUA_LEG_B, SIPUA_SDP_ANSWER,
			      as_sdp("198.51.100.7", 6000, "conf"), &out), 0);
	CU_ASSERT_PTR_NULL(out);
	CU_ASSERT_EQUAL(fk.call.as->n_impossible, 2);
	CU_ASSERT_EQUAL(fk.call.as->st, AS_ST_IDLE);
	CU_ASSERT_EQUAL(fk.takes, 1);
	/* the old session's allocation is gone: its own event, not an
	 * impossible one of the idle session */
	relay_ev(&h, RELAY_EV_ALLOC_GONE, 7);
	CU_ASSERT_EQUAL(fk.call.as->n_impossible, 2);
	CU_ASSERT_EQUAL(fk.call.as->n_old, 0);

	/* the call is over: nothing left to wait for */
	fk.call.ended = true;
	sw_appshare_call_ended(&h, &fk.call);
	CU_ASSERT_PTR_NULL(fk.call.as);
}


/* The call log's "Allocate Success" names the relayed address at every
 * log level: it was formatted inside sw_info(), which evaluates nothing
 * below info, so at notice (the shipped level) the detail was printed
 * from an uninitialised buffer */
UNIT_TEST(test_taken_logged_at_notice,
	  "relay taken: the call log names it at notice level")
{
	char dir[] = "/tmp/swasclXXXXXX", path[64];
	struct sw_conf conf;
	struct sw_as_host h = {
		.conf = &conf, .call = fake_call, .call_release = fake_release,
		.pool_take = fake_take, .cmd = fake_cmd,
		.cmd_name = fake_cmd_name,
	};
	struct sw_rec_start st = {1000000, "sip:a@x", "sip:b@y", 'e', false};
	struct sw_calllog_opts o = {.path = path};
	enum sw_log_level was = sw_log_get_level();
	struct sw_callstore *db = NULL;
	struct sw_callrec *r = NULL;
	char err[128], *out = NULL;
	unsigned found = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/cl.db", dir);
	CU_ASSERT_EQUAL_FATAL(sw_calllog_open(&h.cl, &o), 0);
	sw_conf_defaults(&conf);
	memset(&fk, 0, sizeof(fk));
	fk.call.id = 9;
	fk.call.edge_leg = SIPUA_LEG_A;
	snprintf(fk.call.tag, sizeof(fk.call.tag), "t-2");
	fk.call.uid = sw_calllog_call_start(h.cl, &st, NULL, 0);
	CU_ASSERT(fk.call.uid != 0);

	sw_log_set_level(SW_LOG_NOTICE);
	CU_ASSERT_EQUAL(cross(&h, SIPUA_LEG_A, SIPUA_SDP_OFFER,
			      as_sdp("192.0.2.1", 5000, "edge"), &out), 0);
	free(out);
	CU_ASSERT_EQUAL(cross(&h, SIPUA_LEG_B, SIPUA_SDP_ANSWER,
			      as_sdp("198.51.100.7", 6000, "conf"), &out), 0);
	free(out);
	sw_log_set_level(was);
	CU_ASSERT_EQUAL(fk.takes, 1);
	sw_appshare_free(fk.call.as);
	fk.call.as = NULL;

	CU_ASSERT_EQUAL(sw_calllog_flush(h.cl, 5000), 0);
	sw_calllog_close(h.cl);
	CU_ASSERT_EQUAL_FATAL(sw_callstore_open(&db, path, false, err,
						sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(sw_callstore_load(db, (int64_t)fk.call.uid,
						SW_PART_ALL, &r), 0);
	for (unsigned i = 0; i < r->n_events; ++i)
		if (r->events[i].label &&
		    !strncmp(r->events[i].label, "Allocate Success", 16)) {
			found++;
			CU_ASSERT_STRING_EQUAL(r->events[i].detail,
				"XOR-RELAYED-ADDRESS 192.0.2.10:40000");
		}
	CU_ASSERT_EQUAL(found, 1);
	sw_callrec_free(r);
	sw_callstore_close(db);
	unlink(path);
	snprintf(err, sizeof(err), "%s-wal", path);
	unlink(err);
	snprintf(err, sizeof(err), "%s-shm", path);
	unlink(err);
	rmdir(dir);
}


UNIT_SUITE("appshare", NULL, NULL, NULL, NULL);
