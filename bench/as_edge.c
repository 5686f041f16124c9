/**
 * @file as_edge.c  asbench: the Edge side of a call (127.0.0.2).
 *
 * SIP UAC over UDP toward sharewayd: INVITE with the app-sharing offer
 * (retransmitted per Timer A until a provisional answer), ACK of the 2xx
 * (again for every retransmitted 2xx), its own completion re-INVITE once
 * its checks are complete, BYE (Timer E). Its relay connects from the
 * port of the offer, bound before the INVITE, to the gateway's TCP-PASS
 * relay candidate, and runs the controlling MS-ICE2 agent there.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "asbench.h"

#define UA_NAME "shareway-asbench"
#define ALLOW "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE"
#define EDGE_491_RETRIES 5 /* as the gateway's own re-INVITE */


/* The request line and headers every request of ours has */
static int req_head(const struct as_run *r, const struct as_call *c,
		    char *buf, size_t sz, const char *method, unsigned cseq,
		    const char *branch)
{
	char via[SW_SA_STRLEN];
	bool dialog = c->prog & AS_P_E_200;
	unsigned cport = sw_sa_port(&r->o->conf_sip);
	char ruri[AS_URI_SIZE];
	int n;

	if (dialog)
		snprintf(ruri, sizeof(ruri), "%s", c->e_target);
	else
		snprintf(ruri, sizeof(ruri), "sip:conf-%u@example.com", cport);
	/* in a dialog behind a dispatcher (Kamailio's record_route), the
	 * request goes to it (-g) with its Record-Route as Route and the
	 * gateway's Contact as Request-URI, and it follows the Route to the
	 * instance that owns the dialog (RFC 3261 12.2.1.1, loose routing);
	 * asbench takes one Record-Route value: one proxy in front */
	n = snprintf(buf, sz, "%s %s SIP/2.0\r\n"
		     "Via: SIP/2.0/UDP %s;branch=%s;rport\r\n"
		     "Max-Forwards: 70\r\n"
		     "From: <sip:edge@127.0.0.2>;tag=%s\r\n"
		     "To: <sip:conf-%u@example.com>%s%s\r\n"
		     "Call-ID: %s\r\nCSeq: %u %s\r\n%s%s%s",
		     method, ruri, sw_sa_str(&r->o->edge_sip, via, sizeof(via)),
		     branch, c->e_tag, cport, dialog ? ";tag=" : "",
		     dialog ? c->e_rtag : "", c->e_callid, cseq, method,
		     dialog && c->e_route[0] ? "Route: " : "",
		     dialog ? c->e_route : "",
		     dialog && c->e_route[0] ? "\r\n" : "");
	return n < 0 || (size_t)n >= sz ? ERANGE : n;
}


/* A request of a new client transaction, sent and kept for resending */
static int ctx_start(struct as_run *r, struct as_call *c, const char *method,
		     unsigned cseq, const char *sdp)
{
	char buf[AS_SIP_MAX], contact[AS_URI_SIZE] = "", via[SW_SA_STRLEN];
	bool inv = !strcmp(method, "INVITE");
	int n, m;

	free(c->ctx.msg);
	memset(&c->ctx, 0, sizeof(c->ctx));
	snprintf(c->ctx.branch, sizeof(c->ctx.branch), "z9hG4bK.ae%06x.%u.%08x",
		 c->idx, cseq, r->run_id);
	if (inv)
		snprintf(contact, sizeof(contact), "Contact: <sip:edge@%s;"
			 "transport=udp>\r\n%s",
			 sw_sa_str(&r->o->edge_sip, via, sizeof(via)),
			 cseq == 1 ? "Allow: " ALLOW "\r\n" : "");
	n = req_head(r, c, buf, sizeof(buf), method, cseq, c->ctx.branch);
	if (n < 0)
		return ERANGE;
	m = snprintf(buf + n, sizeof(buf) - (size_t)n,
		     "%sUser-Agent: " UA_NAME "\r\n%sContent-Length: %zu\r\n"
		     "\r\n%s", contact,
		     sdp ? "Content-Type: application/sdp\r\n" : "",
		     sdp ? strlen(sdp) : 0, sdp ? sdp : "");
	if (m < 0 || (size_t)m >= sizeof(buf) - (size_t)n)
		return ERANGE;
	c->ctx.msg = malloc((size_t)(n + m));
	if (!c->ctx.msg)
		return ENOMEM;
	memcpy(c->ctx.msg, buf, (size_t)(n + m));
	c->ctx.len = (size_t)(n + m);
	c->ctx.cseq = cseq;
	c->ctx.invite = inv;
	c->ctx.interval = AS_T1;
	c->ctx.next = tb_now() + AS_T1;
	as_udp_send(r, r->edge_sip, &r->o->gw, c->ctx.msg, c->ctx.len);
	return 0;
}


static void ctx_done(struct as_call *c)
{
	free(c->ctx.msg);
	c->ctx.msg = NULL;
}


/* ACK of a 2xx: a transaction of its own, the same bytes every time */
static void ack_2xx(struct as_run *r, struct as_call *c, unsigned cseq)
{
	static const char tail[] = "Content-Length: 0\r\n\r\n";
	char buf[AS_SIP_MAX], branch[AS_ID_SIZE];
	int n;

	snprintf(branch, sizeof(branch), "z9hG4bK.ak%06x.%u.%08x", c->idx, cseq,
		 r->run_id);
	n = req_head(r, c, buf, sizeof(buf), "ACK", cseq, branch);
	if (n < 0 || (size_t)n + sizeof(tail) > sizeof(buf))
		return;
	memcpy(buf + n, tail, sizeof(tail));
	as_udp_send(r, r->edge_sip, &r->o->gw, buf,
		    (size_t)n + sizeof(tail) - 1);
}


/* ACK of a non-2xx final answer: the INVITE's branch and To tag */
static void ack_error(struct as_run *r, struct as_call *c,
		      const struct as_sipmsg *m)
{
	char buf[AS_SIP_MAX];
	struct as_str br = {"", 0};
	int n;

	as_sip_param(m->via[0], "branch", &br);
	n = snprintf(buf, sizeof(buf), "ACK sip:conf-%u@example.com SIP/2.0\r\n"
		     "Via: %.*s\r\nMax-Forwards: 70\r\nFrom: %.*s\r\n"
		     "To: %.*s\r\nCall-ID: %s\r\nCSeq: %u ACK\r\n"
		     "Content-Length: 0\r\n\r\n", sw_sa_port(&r->o->conf_sip),
		     (int)m->via[0].n, m->via[0].p, (int)m->from.n, m->from.p,
		     (int)m->to.n, m->to.p, c->e_callid, m->cseq_num);
	if (n > 0 && (size_t)n < sizeof(buf))
		as_udp_send(r, r->edge_sip, &r->o->gw, buf, (size_t)n);
}


/**
 * Bind the Edge relay's socket (its port goes into the offer) and send
 * the INVITE
 */
int as_edge_invite(struct as_run *r, struct as_call *c)
{
	char sdp[AS_SDP_MAX];
	struct sw_sa local;
	socklen_t len = sizeof(local.u);
	int fd, one = 1, err;

	sw_sa_set_ip(&local, "127.0.0.2", 0);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	c->e.fd = fd;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (bind(fd, &local.u.sa, sw_sa_len(&local)) ||
	    getsockname(fd, &local.u.sa, &len))
		return errno;
	c->e_port = sw_sa_port(&local);
	err = as_sdp_offer(sdp, sizeof(sdp), c, 0, false);
	if (err)
		return err;
	c->e_cseq = 1;
	err = ctx_start(r, c, "INVITE", 1, sdp);
	if (!err)
		c->prog |= AS_P_INVITE;
	return err;
}


/* The relay's active connection to the gateway's relay candidate */
static void edge_connect(struct as_run *r, struct as_call *c)
{
	int err = 0;

	c->t_connect = tb_now();
	if (connect(c->e.fd, &c->relay.u.sa, sw_sa_len(&c->relay)) &&
	    errno != EINPROGRESS)
		err = errno;
	err = err ? err : as_fd_add(r, c->e.fd, AS_FD_EDGE_TCP, c->idx, true);
	if (err)
		as_call_fail(r, c, AS_F_CONNECT);
}


/* The first 2xx to the INVITE: the answer's relay candidate, then connect */
static void invite_ok(struct as_run *r, struct as_call *c,
		      const struct as_sipmsg *m)
{
	char ufrag[AS_UFRAG_SIZE], pwd[AS_PWD_SIZE];
	struct as_str tag, uri;
	int err;

	if (as_sip_param(m->to, "tag", &tag) ||
	    as_str_copy(tag, c->e_rtag, sizeof(c->e_rtag)) || !m->contact.p ||
	    as_sip_uri(m->contact, &uri) ||
	    as_str_copy(uri, c->e_target, sizeof(c->e_target)) ||
	    (m->rroute.p &&
	     as_str_copy(m->rroute, c->e_route, sizeof(c->e_route)))) {
		r->st.sip_bad++;
		return; /* no dialog: Timer A goes on, the deadline decides */
	}
	ctx_done(c);
	c->prog |= AS_P_E_200;
	ack_2xx(r, c, 1);
	if (c->fail) {
		as_edge_bye(r, c); /* answered after we gave up: clear it */
		return;
	}
	err = as_sdp_relay(m->body, &c->relay, ufrag, pwd);
	if (!err && (strcmp(ufrag, c->c_ufrag) || strcmp(pwd, c->c_pwd)))
		err = EBADMSG; /* not the conference's credentials */
	if (err) {
		as_call_fail(r, c, err == ENOENT ? AS_F_NO_RELAY :
			     AS_F_BAD_ANSWER);
		return;
	}
	as_call_progress(r, c, AS_P_E_200);
	if (!c->fail)
		edge_connect(r, c);
}


static void invite_resp(struct as_run *r, struct as_call *c,
			const struct as_sipmsg *m)
{
	bool current = c->ctx.msg && c->ctx.cseq == 1;

	if (m->status < 200) {
		if (current)
			c->ctx.provisional = true;
	} else if (m->status >= 300) {
		ack_error(r, c, m);
		if (current) {
			ctx_done(c);
			as_call_fail(r, c, m->status == 503 ? AS_F_SHED
							    : AS_F_INVITE_STATUS);
		}
	} else if (c->prog & AS_P_E_200) {
		r->st.sip_rtx_in++;
		ack_2xx(r, c, 1);
	} else {
		invite_ok(r, c, m); /* the first 2xx */
	}
}


/* RFC 3261 14.1: the owner of the Call-ID waits 2.1 to 4 s after a 491 */
static double glare_wait(void)
{
	uint16_t x;

	tb_random(&x, sizeof(x));
	return 2.1 + 1.9 * x / 65535.0;
}


/* The answer to the Edge's own completion re-INVITE; 491 is retried */
static void reinvite_resp(struct as_run *r, struct as_call *c,
			  const struct as_sipmsg *m)
{
	bool current = c->ctx.msg && c->ctx.invite &&
		       c->ctx.cseq == m->cseq_num;

	if (m->status < 200) {
		if (current)
			c->ctx.provisional = true;
		return;
	}
	if (m->status >= 300) {
		ack_error(r, c, m);
	} else {
		ack_2xx(r, c, m->cseq_num);
		if (!current)
			r->st.sip_rtx_in++;
	}
	if (!current)
		return;
	ctx_done(c);
	if (m->status == 491 && c->e_491++ < EDGE_491_RETRIES) {
		r->st.edge_491++;
		c->e_retry_at = tb_now() + glare_wait();
		return;
	}
	if (m->status >= 300 || as_sdp_edge_final_check(m->body, c)) {
		if (r->st.fail[AS_F_EDGE_REINVITE] < 3)
			fprintf(stderr, "asbench: call %u: the Edge's completion "
				"re-INVITE answered %u%s\n%.*s\n", c->idx,
				m->status, m->status < 300 ? " with:" : "",
				m->status < 300 ? (int)m->body.n : 0, m->body.p);
		as_call_fail(r, c, AS_F_EDGE_REINVITE);
	} else {
		as_call_progress(r, c, AS_P_E_FINAL);
	}
}


static void bye_resp(struct as_run *r, struct as_call *c,
		     const struct as_sipmsg *m)
{
	if (!c->ctx.msg || c->ctx.invite || c->ctx.cseq != m->cseq_num) {
		r->st.sip_rtx_in++;
		return;
	}
	if (m->status < 200) {
		c->ctx.provisional = true;
		return;
	}
	ctx_done(c);
	if (m->status >= 300)
		as_call_fail(r, c, AS_F_BYE);
	c->prog |= AS_P_E_BYE;
	if (c->fail)
		as_call_end(r, c);
	else
		as_call_progress(r, c, AS_P_E_BYE);
}


/* A request from the gateway toward the Edge: BYE ends the call */
static void edge_request(struct as_run *r, struct as_call *c,
			 const struct as_sipmsg *m, const struct sw_sa *src)
{
	char buf[AS_SIP_MAX];
	unsigned status = 501;
	size_t len;

	if (as_str_eq(m->method, "ACK"))
		return;
	if (as_str_eq(m->method, "BYE") || as_str_eq(m->method, "UPDATE") ||
	    as_str_eq(m->method, "OPTIONS") || as_str_eq(m->method, "INFO"))
		status = 200;
	if (!as_sip_response(buf, sizeof(buf), &len, m, status, c->e_tag,
			     NULL, NULL))
		as_udp_send(r, r->edge_sip, src, buf, len);
	if (as_str_eq(m->method, "BYE")) {
		as_call_fail(r, c, AS_F_GW_BYE);
		if (!(c->prog & AS_P_DONE))
			as_call_end(r, c);
	}
}


/** A SIP message on the Edge's socket, routed by its Call-ID */
void as_edge_sip(struct as_run *r, const struct as_sipmsg *m,
		 const struct sw_sa *src)
{
	struct as_call *c = as_call_by_id(r, "ae", m->callid);

	if (!c || !as_str_eq(m->callid, c->e_callid)) {
		r->st.sip_stray++;
		return;
	}
	if (m->req)
		edge_request(r, c, m, src);
	else if (as_str_eq(m->cseq_method, "INVITE") && m->cseq_num == 1)
		invite_resp(r, c, m);
	else if (as_str_eq(m->cseq_method, "INVITE"))
		reinvite_resp(r, c, m);
	else if (as_str_eq(m->cseq_method, "BYE"))
		bye_resp(r, c, m);
	else
		r->st.sip_stray++;
	as_call_sched(r, c);
}


/** The Edge's checks are complete: its completion re-INVITE (MS-ICE2) */
void as_edge_checks_done(struct as_run *r, struct as_call *c)
{
	char sdp[AS_SDP_MAX];

	if (as_sdp_offer(sdp, sizeof(sdp), c, 1, true) ||
	    ctx_start(r, c, "INVITE", ++c->e_cseq, sdp))
		as_call_fail(r, c, AS_F_SOCKET);
}


/**
 * Hang up: BYE in the dialog (a pending transaction is abandoned)
 *
 * @return 0, or EINVAL when there is no dialog, or ERANGE/ENOMEM
 */
int as_edge_bye(struct as_run *r, struct as_call *c)
{
	int err;

	if (!(c->prog & AS_P_E_200) || c->prog & AS_P_BYE)
		return EINVAL;
	c->prog |= AS_P_BYE;
	err = ctx_start(r, c, "BYE", ++c->e_cseq, NULL);
	if (err)
		return err;
	c->deadline = tb_now() + r->o->call_timeout;
	as_call_sched(r, c);
	return 0;
}


/* The connection is up: the controlling agent begins its checks */
static void edge_connected(struct as_run *r, struct as_call *c)
{
	struct as_creds cr = {c->e_ufrag, c->e_pwd, c->c_ufrag, c->c_pwd};
	socklen_t len = sizeof(int);
	int fd = c->e.fd, soerr = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) || soerr) {
		as_call_fail(r, c, AS_F_CONNECT);
		return;
	}
	as_ice_init(&c->e, fd, true, &cr);
	c->e.peer = c->relay;
	c->e.out_armed = true;
	as_call_progress(r, c, AS_P_E_CONN);
	if (as_ice_start(&c->e))
		as_call_fail(r, c, AS_F_CLOSED);
}


/** Map an agent's error to the call's failure */
void as_media_error(struct as_run *r, struct as_call *c, int err,
			struct as_ice *ice)
{
	if (err == ECONNRESET && c->prog & AS_P_BYE) {
		as_ice_close(ice); /* the gateway cleared the allocation */
		return;
	}
	if (r->st.fail[AS_F_CLOSED] < 3 && err != EBADMSG && err != EPROTO)
		fprintf(stderr, "asbench: call %u: %s connection: %s\n",
			c->idx, ice == &c->e ? "the Edge relay's" :
			"the conference's", strerror(err));
	as_call_fail(r, c, err == EBADMSG ? AS_F_BAD_CHECK :
		     err == EPROTO ? AS_F_PROBE : AS_F_CLOSED);
}


/** Arm EPOLLOUT exactly while bytes wait */
void as_media_arm(struct as_run *r, struct as_call *c, struct as_ice *ice,
		  enum as_fdtype type)
{
	bool want = ice->txlen > 0;

	if (ice->fd < 0 || want == ice->out_armed)
		return;
	if (as_fd_mod(r, ice->fd, type, c->idx, want))
		as_call_fail(r, c, AS_F_CLOSED);
	else
		ice->out_armed = want;
}


/** Events on the Edge relay's connection */
void as_edge_tcp(struct as_run *r, struct as_call *c, uint32_t events)
{
	int err = 0;

	if (c->e.fd < 0)
		return;
	if (!(c->prog & AS_P_E_CONN)) {
		edge_connected(r, c);
		events &= ~(uint32_t)EPOLLOUT;
	}
	if (!c->fail && c->e.fd >= 0 && events & EPOLLOUT)
		err = as_ice_flush(&c->e);
	if (!c->fail && c->e.fd >= 0 && !err &&
	    events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		err = as_ice_read(&c->e);
	if (err) {
		as_media_error(r, c, err, &c->e);
	} else if (!c->fail) {
		as_media_arm(r, c, &c->e, AS_FD_EDGE_TCP);
		if (!(c->prog & AS_P_E_ICE) && as_ice_done(&c->e))
			as_call_progress(r, c, AS_P_E_ICE);
	}
	as_call_sched(r, c);
}


/** Resend the pending request and unanswered checks that are due */
void as_edge_timers(struct as_run *r, struct as_call *c, double now)
{
	struct as_ctxn *t = &c->ctx;

	if (t->msg && !(t->invite && t->provisional) && now >= t->next) {
		as_udp_send(r, r->edge_sip, &r->o->gw, t->msg, t->len);
		r->st.sip_rtx_out++;
		t->interval = t->provisional ? AS_T2 : t->interval * 2;
		if (!t->invite && t->interval > AS_T2)
			t->interval = AS_T2;
		t->next = now + t->interval;
	}
	if (c->e_retry_at && now >= c->e_retry_at) {
		c->e_retry_at = 0;
		if (!c->fail && !(c->prog & AS_P_BYE))
			as_edge_checks_done(r, c);
	}
	if (c->e.fd >= 0 && c->e.started && !c->fail &&
	    as_ice_timers(&c->e, now, &r->st.check_rtx))
		as_call_fail(r, c, AS_F_CLOSED);
	else if (c->e.fd >= 0)
		as_media_arm(r, c, &c->e, AS_FD_EDGE_TCP);
}


/** When as_edge_timers() has something to do; 0: nothing */
double as_edge_next(const struct as_call *c)
{
	double t = 0, ice;

	if (c->ctx.msg && !(c->ctx.invite && c->ctx.provisional))
		t = c->ctx.next;
	if (c->e_retry_at && (!t || c->e_retry_at < t))
		t = c->e_retry_at;
	if (c->e.fd >= 0 && c->e.started) {
		ice = as_ice_next(&c->e);
		if (ice && (!t || ice < t))
			t = ice;
	}
	return t;
}
