/**
 * @file test_sip.c  The SIP adapter: message routing on the RFC 4475 corpus
 * and the gateway's own re-INVITE with the RFC 3261 14.1 back-off.
 *
 * The re-INVITE test runs the real stack (sipua_create/sipua_run) on
 * 127.0.0.1 between two SIPp processes: the caller on 127.0.0.2 (zone
 * edge) and a callee on 127.0.0.3 (tests/sipp/uas_own491.xml) that
 * refuses the gateway's first re-INVITE with 491 and accepts the retry.
 * Everything is bounded: a timerfd stops the stack after 20 s.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"
#include "sipua.h"
#include "sw_conf.h"
#include "sw_rules.h"

struct own_state {
	struct sipua *ua;
	int reinvite_err;
	bool done;
	struct sipua_reinvite_result res;
	char answer[512];
};

static const char own_sdp[] = "v=0\r\no=- 0 2 IN IP4 127.0.0.1\r\n"
			      "s=own-reinvite\r\nc=IN IP4 127.0.0.1\r\n"
			      "t=0 0\r\n"
			      "m=applicationsharing 50340 TCP/RTP/AVP 127\r\n";


/* Read a message of the shared SIP torture corpus into buf */
static size_t torture_read(const char *name, char *buf)
{
	char path[1024];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/corpus/sip-torture/%s",
		 unit_shared_dir(), name);
	f = fopen(path, "rb");
	CU_ASSERT_FATAL(f != NULL);
	n = fread(buf, 1, SW_SIP_MSG_MAX, f);
	fclose(f);
	return n;
}


UNIT_TEST(test_msg_route_torture, "msg_route_torture")
{
	static const char rules_text[] = "[rule edge-to-cms]\n"
					 "priority = 10\n"
					 "source = edge\n"
					 "match.ruri = regex ^sip:([^@]+)@\n"
					 "rewrite.ruri = sip:$1@127.0.0.3\n"
					 "target = cms\n";
	static struct sw_conf conf;
	static struct sw_route_result res;
	const struct sw_router *rt = &sw_rules_router;
	struct sw_rules *rules = NULL;
	char err[256], *buf;
	size_t n;
	struct sw_zone *z;

	sw_conf_defaults(&conf);
	z = &conf.zones[conf.n_zones++];
	snprintf(z->name, sizeof(z->name), "edge");
	z = &conf.zones[conf.n_zones++];
	snprintf(z->name, sizeof(z->name), "cms");
	snprintf(z->target, sizeof(z->target), "sip:127.0.0.3:5080");
	CU_ASSERT_EQUAL_FATAL(sw_rules_load_buf(&rules, "t", rules_text,
						strlen(rules_text), &conf, err,
						sizeof(err)),
			      0);
	buf = malloc(SW_SIP_MSG_MAX);
	CU_ASSERT_FATAL(buf != NULL);

	/* a valid INVITE routes; a response and garbage do not */
	n = torture_read("esc01.dat", buf);
	CU_ASSERT_EQUAL(sipua_msg_route(rt, rules, &conf, buf, n, "edge", &res),
			0);
	CU_ASSERT_EQUAL(res.outcome, SW_ROUTE_FORWARD);
	CU_ASSERT_STRING_EQUAL(res.target_zone, "cms");
	CU_ASSERT(strncmp(res.ruri, "sip:sips%3Auser%40example.com@127.0.0.3",
			  39) == 0);

	n = torture_read("unreason.dat", buf);
	CU_ASSERT_EQUAL(sipua_msg_route(rt, rules, &conf, buf, n, "edge", &res),
			EBADMSG);
	CU_ASSERT_EQUAL(sipua_msg_route(rt, rules, &conf, "\x01\x02 garbage", 10,
					"edge", &res),
			EBADMSG);
	CU_ASSERT_EQUAL(sipua_msg_route(rt, rules, &conf, buf, SW_SIP_MSG_MAX + 1,
					"edge", &res),
			EINVAL);
	free(buf);
	sw_rules_unref(rules);
}


/* Copy src to dst replacing each "@KEY@" of the pairs */
static int file_subst(const char *src, const char *dst, const char **kv,
		      size_t nkv)
{
	char line[1024];
	FILE *in = fopen(src, "r"), *out = fopen(dst, "w");

	if (!in || !out) {
		if (in)
			fclose(in);
		if (out)
			fclose(out);
		return EIO;
	}
	while (fgets(line, sizeof(line), in)) {
		bool done = false;

		for (size_t i = 0; i + 1 < nkv && !done; i += 2) {
			char *p = strstr(line, kv[i]);

			if (!p)
				continue;
			fprintf(out, "%.*s%s%s", (int)(p - line), line,
				kv[i + 1], p + strlen(kv[i]));
			done = true;
		}
		if (!done)
			fputs(line, out);
	}
	fclose(in);
	return fclose(out) ? EIO : 0;
}


static pid_t spawn(char *const argv[])
{
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		dup2(fd, 1);
		dup2(fd, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	return pid;
}


static void own_done(void *arg, const struct sipua_reinvite_result *res)
{
	struct own_state *st = arg;

	st->res = *res;
	st->done = true;
	if (res->answer)
		snprintf(st->answer, sizeof(st->answer), "%.*s",
			 (int)res->answer_len, res->answer);
}


static void own_answered(void *arg, const struct sipua_call_info *call)
{
	struct own_state *st = arg;

	st->reinvite_err = sipua_leg_reinvite(st->ua, call->id, SIPUA_LEG_B,
					      own_sdp, strlen(own_sdp),
					      own_done, st);
}


static void own_ended(void *arg, const struct sipua_call_info *call)
{
	(void)call;
	sipua_shutdown(((struct own_state *)arg)->ua);
}


static void own_timeout(int fd, void *arg)
{
	uint64_t v;

	if (read(fd, &v, sizeof(v)) == sizeof(v))
		sipua_shutdown(((struct own_state *)arg)->ua);
}


static void own_conf(struct sw_conf *conf, unsigned pg, unsigned pe,
		     unsigned pc)
{
	struct sw_zone *z;

	sw_conf_defaults(conf);
	snprintf(conf->state_dir, sizeof(conf->state_dir), "/tmp");
	conf->sip_listen[0].tp = SW_TP_UDP;
	sw_sa_set_ip(&conf->sip_listen[0].addr, "127.0.0.1", (uint16_t)pg);
	conf->n_sip_listen = 1;
	z = &conf->zones[conf->n_zones++];
	snprintf(z->name, sizeof(z->name), "edge");
	sw_cidr_parse(&z->match_source[z->n_match_source++], "127.0.0.2/32");
	snprintf(z->target, sizeof(z->target), "sip:127.0.0.2:%u", pe);
	z->invite_timeout = 5;
	z = &conf->zones[conf->n_zones++];
	snprintf(z->name, sizeof(z->name), "cms");
	sw_cidr_parse(&z->match_source[z->n_match_source++], "127.0.0.3/32");
	snprintf(z->target, sizeof(z->target), "sip:127.0.0.3:%u", pc);
	z->invite_timeout = 5;
}


UNIT_TEST(test_own_reinvite_491, "own_reinvite_491")
{
	static struct sw_conf conf;
	struct own_state st = {0};
	struct sipua_observer obs = {0};
	struct sw_rules *rules = NULL;
	unsigned base = 40000 + (unsigned)getpid() % 20000;
	char rt[512], err[256], uac[64], uas[64], gw[32], ps[8], pe[8];
	const char *kv[] = {"@SDP@\n", "v=0\no=- 0 0 IN IP4 127.0.0.2\n"
			    "s=first\nc=IN IP4 127.0.0.2\nt=0 0\n"
			    "m=applicationsharing 50040 TCP/RTP/AVP 127\n",
			    "@HOLD@", "6000", "@CTYPE@", "application/sdp"};
	struct itimerspec its = {{0, 0}, {20, 0}};
	int tfd;
	pid_t p_uas, p_uac;

	own_conf(&conf, base, base + 1, base + 2);
	snprintf(rt, sizeof(rt),
		 "[rule edge-to-cms]\npriority = 10\nsource = edge\n"
		 "match.ruri = regex ^sip:([^@]+)@\n"
		 "rewrite.ruri = sip:$1@127.0.0.3:%u\ntarget = cms\n",
		 base + 2);
	CU_ASSERT_EQUAL_FATAL(sw_rules_load_buf(&rules, "t", rt, strlen(rt),
						&conf, err, sizeof(err)),
			      0);
	CU_ASSERT_EQUAL_FATAL(
		sipua_create(&st.ua, &conf, &sw_rules_router, rules), 0);
	sw_rules_unref(rules);
	CU_ASSERT_EQUAL(sipua_leg_reinvite(st.ua, 99, SIPUA_LEG_B, own_sdp,
					   strlen(own_sdp), own_done, &st),
			ENOENT);
	obs.answered = own_answered;
	obs.ended = own_ended;
	obs.arg = &st;
	sipua_set_observer(st.ua, &obs);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	CU_ASSERT_FATAL(tfd >= 0);
	timerfd_settime(tfd, 0, &its, NULL);
	CU_ASSERT_EQUAL(sipua_fd_watch(st.ua, tfd, own_timeout, &st), 0);

	snprintf(uac, sizeof(uac), "/tmp/sw-own-uac-%d.xml", (int)getpid());
	snprintf(uas, sizeof(uas), "%s/tests/sipp/uas_own491.xml", ".");
	CU_ASSERT_EQUAL_FATAL(file_subst("tests/sipp/uac_multipart.xml", uac,
					 kv, 6),
			      0);
	snprintf(gw, sizeof(gw), "127.0.0.1:%u", base);
	snprintf(ps, sizeof(ps), "%u", base + 2);
	snprintf(pe, sizeof(pe), "%u", base + 1);
	p_uas = spawn((char *[]){"sipp", "-sf", uas, "-i", "127.0.0.3", "-p",
				 ps, "-m", "1", "-timeout", "20s", "-nostdin",
				 NULL});
	usleep(300000);
	p_uac = spawn((char *[]){"sipp", gw, "-sf", uac, "-i", "127.0.0.2",
				 "-p", pe, "-s", "4321", "-m", "1", "-timeout",
				 "20s", "-recv_timeout", "10000", "-nostdin",
				 NULL});
	sipua_run(st.ua);
	sipua_destroy(st.ua);
	close(tfd);
	kill(p_uas, SIGTERM);
	kill(p_uac, SIGTERM);
	waitpid(p_uas, NULL, 0);
	waitpid(p_uac, NULL, 0);
	unlink(uac);

	CU_ASSERT_EQUAL(st.reinvite_err, 0);
	CU_ASSERT(st.done);
	CU_ASSERT_EQUAL(st.res.status, 200);
	CU_ASSERT_EQUAL(st.res.retries, 1);
	CU_ASSERT_EQUAL(st.res.leg, SIPUA_LEG_B);
	/* leg B: the gateway owns the Call-ID, so 2.1-4 s (RFC 3261 14.1) */
	CU_ASSERT(st.res.latency_ms >= 2100 && st.res.latency_ms < 5000);
	CU_ASSERT(strstr(st.answer, "s=own-answer") != NULL);
}


UNIT_SUITE("sip", NULL, NULL, NULL, NULL);
