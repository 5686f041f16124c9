/**
 * @file as_conf.c  asbench: the conference side of a call (127.0.0.3).
 *
 * SIP UAS over UDP: the INVITE sharewayd sends (matched to its call by
 * X-CID, the Edge-side Call-ID) is answered 180 then 200 with a TCP-PASS
 * candidate on the one shared listener; the 200 is resent until the ACK.
 * The completion re-INVITE is checked (MS-ICE2: a=remote-candidates name
 * our candidate, its candidates are known) and answered with the used
 * candidate; BYE gets 200. In-dialog requests are matched by our To tag.
 *
 * The gateway's connection to the listener is named by the USERNAME of
 * its first Binding request (the Edge's check, "ourufrag:edgeufrag");
 * until then it waits in a pending slot.
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


static void contact_of(const struct as_run *r, char *buf, size_t sz)
{
	char a[SW_SA_STRLEN];

	snprintf(buf, sz, "sip:asmcu@%s;transport=udp",
		 sw_sa_str(&r->o->conf_sip, a, sizeof(a)));
}


/* Send a response; an INVITE's 2xx is kept and resent until the ACK */
static void respond(struct as_run *r, struct as_call *c,
		    const struct as_sipmsg *m, const struct sw_sa *src,
		    unsigned status, const char *sdp)
{
	char buf[AS_SIP_MAX], contact[AS_URI_SIZE];
	bool inv = as_str_eq(m->method, "INVITE");
	struct as_str br = {"", 0};
	size_t len;
	double now;

	contact_of(r, contact, sizeof(contact));
	if (as_sip_response(buf, sizeof(buf), &len, m, status,
			    c ? c->c_tag : "asbench",
			    inv && status > 100 && status < 300 ? contact : NULL,
			    sdp))
		return;
	as_udp_send(r, r->conf_sip, src, buf, len);
	if (!c || !inv || status < 200)
		return;
	free(c->stx.resp);
	memset(&c->stx, 0, sizeof(c->stx));
	c->stx.resp = malloc(len);
	if (!c->stx.resp)
		return;
	memcpy(c->stx.resp, buf, len);
	c->stx.len = len;
	c->stx.cseq = m->cseq_num;
	as_sip_param(m->via[0], "branch", &br);
	as_str_copy(br, c->stx.branch, sizeof(c->stx.branch));
	now = tb_now();
	c->stx.interval = AS_T1;
	c->stx.next = now + AS_T1;
	c->stx.give_up = now + 64 * AS_T1;
}


/* The same request again (same top Via branch and CSeq): answer again */
static bool retransmission(struct as_run *r, struct as_call *c,
			   const struct as_sipmsg *m, const struct sw_sa *src)
{
	struct as_str br;

	if (!c->stx.resp || c->stx.cseq != m->cseq_num ||
	    as_sip_param(m->via[0], "branch", &br) ||
	    !as_str_eq(br, c->stx.branch))
		return false;
	r->st.sip_rtx_in++;
	as_udp_send(r, r->conf_sip, src, c->stx.resp, c->stx.len);
	return true;
}


/* The INVITE of a new call: 180, then 200 with our TCP-PASS candidate */
static void initial_invite(struct as_run *r, const struct as_sipmsg *m,
			   const struct sw_sa *src)
{
	char sdp[AS_SDP_MAX], ufrag[AS_UFRAG_SIZE], pwd[AS_PWD_SIZE];
	struct as_call *c = m->xcid.p ? as_call_by_id(r, "ae", m->xcid) : NULL;

	if (!c || !as_str_eq(m->xcid, c->e_callid)) {
		r->st.sip_stray++;
		respond(r, NULL, m, src, 481, NULL);
		return;
	}
	if (c->prog & AS_P_C_INVITE) {
		if (!retransmission(r, c, m, src))
			r->st.sip_stray++;
		return;
	}
	if (as_str_copy(m->callid, c->c_callid, sizeof(c->c_callid)) ||
	    as_sdp_offer_creds(m->body, ufrag, pwd) ||
	    strcmp(ufrag, c->e_ufrag) || strcmp(pwd, c->e_pwd) ||
	    as_sdp_answer(sdp, sizeof(sdp), c, &r->o->conf_media, 0, false)) {
		respond(r, c, m, src, 488, NULL);
		as_call_fail(r, c, AS_F_BAD_ANSWER);
		return;
	}
	c->c_inv_cseq = m->cseq_num;
	respond(r, c, m, src, 180, NULL);
	respond(r, c, m, src, 200, sdp);
	as_call_progress(r, c, AS_P_C_INVITE);
	as_call_sched(r, c);
}


/* A re-INVITE: the completion offer if it has a=remote-candidates */
static void reinvite(struct as_run *r, struct as_call *c,
		     const struct as_sipmsg *m, const struct sw_sa *src)
{
	char sdp[AS_SDP_MAX];
	const char *why = NULL;
	int err;

	if (retransmission(r, c, m, src))
		return;
	err = as_sdp_final_check(m->body, c, &r->o->conf_media, &why);
	if (err == EPROTO && !strcmp(why, "no a=remote-candidates")) {
		/* not the completion offer: the current answer again */
		if (!as_sdp_answer(sdp, sizeof(sdp), c, &r->o->conf_media, 1,
				   false))
			respond(r, c, m, src, 200, sdp);
		return;
	}
	if (err || as_sdp_answer(sdp, sizeof(sdp), c, &r->o->conf_media, 1,
				 true)) {
		respond(r, c, m, src, 488, NULL);
		fprintf(stderr, "asbench: call %u: completion offer refused: "
			"%s\n", c->idx, why ? why : "SDP does not parse");
		as_call_fail(r, c, AS_F_FINAL_OFFER);
		return;
	}
	c->t_final = tb_now();
	respond(r, c, m, src, 200, sdp);
	c->c_final_cseq = m->cseq_num;
	as_call_progress(r, c, AS_P_C_FINAL);
}


/* An ACK: of the INVITE's 200 or of the completion re-INVITE's */
static void ack(struct as_run *r, struct as_call *c, const struct as_sipmsg *m)
{
	bool cur = c->stx.resp && c->stx.cseq == m->cseq_num;

	if (cur) {
		c->stx.acked = true;
		free(c->stx.resp);
		c->stx.resp = NULL;
	}
	if (m->cseq_num == c->c_inv_cseq && !(c->prog & AS_P_C_ACK))
		as_call_progress(r, c, AS_P_C_ACK);
	else if (c->c_final_cseq && m->cseq_num == c->c_final_cseq &&
		 !(c->prog & AS_P_C_FACK))
		as_call_progress(r, c, AS_P_C_FACK);
	else if (!cur)
		r->st.sip_rtx_in++;
}


/* A request with our To tag, in the dialog of its Call-ID */
static void in_dialog(struct as_run *r, const struct as_sipmsg *m,
		      const struct sw_sa *src, struct as_str tag)
{
	struct as_call *c = as_call_by_id(r, "ct", tag);

	if (!c || !as_str_eq(tag, c->c_tag) ||
	    !as_str_eq(m->callid, c->c_callid)) {
		r->st.sip_stray++;
		if (!as_str_eq(m->method, "ACK"))
			respond(r, NULL, m, src, 481, NULL);
		return;
	}
	if (as_str_eq(m->method, "ACK")) {
		ack(r, c, m);
	} else if (as_str_eq(m->method, "INVITE")) {
		reinvite(r, c, m, src);
	} else if (as_str_eq(m->method, "BYE")) {
		respond(r, c, m, src, 200, NULL);
		as_ice_close(&c->c);
		if (c->prog & AS_P_C_BYE)
			r->st.sip_rtx_in++;
		else if (c->fail)
			c->prog |= AS_P_C_BYE;
		else
			as_call_progress(r, c, AS_P_C_BYE);
	} else {
		respond(r, c, m, src, 200, NULL);
	}
	as_call_sched(r, c);
}


/** A SIP message on the conference's socket */
void as_conf_sip(struct as_run *r, const struct as_sipmsg *m,
		 const struct sw_sa *src)
{
	struct as_str tag;

	if (!m->req) {
		r->st.sip_stray++; /* we send no requests */
		return;
	}
	if (!as_sip_param(m->to, "tag", &tag)) {
		in_dialog(r, m, src, tag);
	} else if (as_str_eq(m->method, "INVITE")) {
		initial_invite(r, m, src);
	} else {
		r->st.sip_stray++;
		if (!as_str_eq(m->method, "ACK"))
			respond(r, NULL, m, src, 481, NULL);
	}
}


/** New connections on the listener wait in a slot until named */
void as_conf_accept(struct as_run *r)
{
	static unsigned hint;
	struct as_pending *p;
	int fd, one = 1;

	while ((fd = accept4(r->listen_fd, NULL, NULL,
			     SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		unsigned i, slot = AS_PENDING_MAX;

		for (i = 0; i < AS_PENDING_MAX && slot == AS_PENDING_MAX; ++i) {
			if (!r->pend[(hint + i) % AS_PENDING_MAX])
				slot = (hint + i) % AS_PENDING_MAX;
		}
		p = slot < AS_PENDING_MAX ? calloc(1, sizeof(*p)) : NULL;
		if (!p || as_fd_add(r, fd, AS_FD_PENDING, slot, false)) {
			r->st.pending_bad++;
			free(p);
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		p->fd = fd;
		p->t = tb_now();
		r->pend[slot] = p;
		hint = slot + 1;
	}
}


static void pending_drop(struct as_run *r, unsigned slot, const char *why)
{
	if (r->st.pending_bad++ < 3)
		fprintf(stderr, "asbench: a connection to the conference "
			"dropped: %s\n", why);
	close(r->pend[slot]->fd);
	free(r->pend[slot]);
	r->pend[slot] = NULL;
}


/* The call a first frame names, if it waits for its connection */
static struct as_call *pending_call(struct as_run *r, struct as_pending *p,
				    const char **why)
{
	char ufrag[AS_UFRAG_SIZE];
	struct as_call *c;
	size_t n = (size_t)p->buf[0] << 8 | p->buf[1];

	*why = "first frame not a Binding request with a USERNAME";
	if (as_ice_username(p->buf + 2, n, ufrag, sizeof(ufrag)))
		return NULL;
	*why = "USERNAME names no call of ours";
	c = as_call_by_id(r, "c", (struct as_str){ufrag, strlen(ufrag)});
	if (!c || strcmp(ufrag, c->c_ufrag))
		return NULL;
	*why = c->fail ? "its call failed already" :
	       !(c->prog & AS_P_C_INVITE) ? "its call has no INVITE yet" :
	       c->prog & AS_P_C_CONN ? "its call has a connection already" :
	       NULL;
	return *why ? NULL : c;
}


/* Named: the connection becomes the call's, the controlled agent starts */
static void pending_attach(struct as_run *r, unsigned slot, struct as_call *c)
{
	struct as_creds cr = {c->c_ufrag, c->c_pwd, c->e_ufrag, c->e_pwd};
	struct as_pending *p = r->pend[slot];
	socklen_t sl = sizeof(c->c.peer.u);
	int err;

	as_ice_init(&c->c, p->fd, false, &cr);
	getpeername(p->fd, &c->c.peer.u.sa, &sl);
	memcpy(c->c.rx, p->buf, p->len);
	c->c.rxlen = p->len;
	free(p);
	r->pend[slot] = NULL;
	err = as_fd_mod(r, c->c.fd, AS_FD_CONF_TCP, c->idx, false);
	as_call_progress(r, c, AS_P_C_CONN);
	err = err ? err : as_ice_start(&c->c);
	if (err) {
		as_call_fail(r, c, AS_F_CLOSED);
		return;
	}
	as_conf_tcp(r, c, EPOLLIN);
}


/** Bytes on a connection not yet named: its first RFC 4571 frame names it */
void as_conf_pending(struct as_run *r, unsigned slot)
{
	struct as_pending *p = slot < AS_PENDING_MAX ? r->pend[slot] : NULL;
	const char *why = NULL;
	struct as_call *c;
	ssize_t n;

	if (!p)
		return;
	n = read(p->fd, p->buf + p->len, sizeof(p->buf) - p->len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		pending_drop(r, slot, n ? strerror(errno) :
			     "closed before its first frame");
		return;
	}
	p->len += (size_t)n;
	if (p->len < 2 || p->len < 2 + ((size_t)p->buf[0] << 8 | p->buf[1])) {
		if (p->len == sizeof(p->buf))
			pending_drop(r, slot, "first frame too long");
		return;
	}
	c = pending_call(r, p, &why);
	if (!c) {
		pending_drop(r, slot, why);
		return;
	}
	pending_attach(r, slot, c);
}


/** Events on the gateway's connection to the conference */
void as_conf_tcp(struct as_run *r, struct as_call *c, uint32_t events)
{
	int err = 0;

	if (c->c.fd < 0)
		return;
	if (events & EPOLLOUT)
		err = as_ice_flush(&c->c);
	if (!err && events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		err = as_ice_read(&c->c);
	if (err == ECONNRESET && c->prog & AS_P_C_BYE) {
		as_ice_close(&c->c);
	} else if (err) {
		as_media_error(r, c, err, &c->c);
	} else {
		as_media_arm(r, c, &c->c, AS_FD_CONF_TCP);
		if (!(c->prog & AS_P_C_ICE) && as_ice_done(&c->c))
			as_call_progress(r, c, AS_P_C_ICE);
	}
	as_call_sched(r, c);
}


/** Resend the 2xx not yet ACKed and unanswered checks that are due */
void as_conf_timers(struct as_run *r, struct as_call *c, double now)
{
	struct as_stxn *t = &c->stx;

	if (t->resp && !t->acked && now >= t->next && now < t->give_up) {
		as_udp_send(r, r->conf_sip, &r->o->gw, t->resp, t->len);
		r->st.sip_rtx_out++;
		t->interval = t->interval * 2 > AS_T2 ? AS_T2 : t->interval * 2;
		t->next = now + t->interval;
	}
	if (c->c.fd >= 0 && c->c.started && !c->fail &&
	    as_ice_timers(&c->c, now, &r->st.check_rtx))
		as_call_fail(r, c, AS_F_CLOSED);
	else if (c->c.fd >= 0)
		as_media_arm(r, c, &c->c, AS_FD_CONF_TCP);
}


/** When as_conf_timers() has something to do; 0: nothing */
double as_conf_next(const struct as_call *c)
{
	double t = 0, ice;

	if (c->stx.resp && !c->stx.acked && c->stx.next < c->stx.give_up)
		t = c->stx.next;
	if (c->c.fd >= 0 && c->c.started) {
		ice = as_ice_next(&c->c);
		if (ice && (!t || ice < t))
			t = ice;
	}
	return t;
}
