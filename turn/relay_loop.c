/**
 * @file relay_loop.c  Relay threads: start and stop, the epoll loop, the
 * command queue from the SIP thread, and the in-process client commands.
 *
 * Objects closed while an epoll batch is being handled are retired, not
 * freed: their kind becomes RIO_DEAD so later events of the same batch
 * are ignored, and they are freed once the batch is done.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <ifaddrs.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <openssl/rand.h>

#define SW_LOG_MODULE "relay"
#include "sw_log.h"
#include "relay_int.h"

#define MAX_EVENTS 128
#define CMDQ_CAP 1024
#define EVQ_CAP 4096
#define LOST_RETRY_MS 50 /* reports of lost events waiting for room */

static __thread struct relay_thread *cur_rt; /* for relay_conn_set_splice */


static void op_inproc(void *arg, enum turn_inproc_ev tev,
		      struct turn_alloc *al, struct turn_conn *tc)
{
	struct relay_ev ev;

	memset(&ev, 0, sizeof(ev));
	ev.call_id = al->call_id;
	ev.alloc_id = al->id;
	if (tev == TURN_INPROC_ATTEMPT) {
		ev.type = RELAY_EV_CONN_ATTEMPT;
		ev.conn_id = tc->id;
		ev.addr = tc->peer;
	}
	else {
		ev.type = RELAY_EV_ALLOC_GONE;
	}
	relay_ev_post(arg, &ev);
}


const struct turn_ops relay_turn_ops = {
	.send = relay_op_send,
	.relay_open = relay_op_relay_open,
	.relay_close = relay_op_relay_close,
	.port_release = relay_op_port_release,
	.relay_send = relay_op_relay_send,
	.peer_connect = relay_op_peer_connect,
	.conn_bind = relay_op_conn_bind,
	.conn_close = relay_op_conn_close,
	.inproc = op_inproc,
};


/**
 * No Nagle on relayed TCP: a check or a screen update is written as soon
 * as it is read (Nagle with the far end's delayed ACK holds a small frame
 * behind an unacknowledged one for up to 40 ms)
 */
void relay_sock_nodelay(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}


int relay_sock_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return errno;
	return 0;
}


/* --- accept, descriptors or not (sw_accept.h) --------------------------- */

void relay_accept_init(struct relay_thread *rt, struct relay_accept *ra,
		       struct relay_io *io, const char *what)
{
	ra->rt = rt;
	ra->io = io;
	ra->what = what;
}


static void accept_resume(struct turn_timer *t, void *arg)
{
	struct relay_accept *ra = arg;

	(void)t;
	if (ra->io->kind != RIO_DEAD)
		relay_io_set(ra->rt, ra->io, EPOLLIN);
}


/* Out of descriptors: shed the waiting connections, leave the listener
 * alone for a while, say so once in a while */
static void accept_pause(struct relay_accept *ra, int err)
{
	struct relay_thread *rt = ra->rt;
	struct turn_counters *cnt = turn_srv_counters(rt->srv);
	unsigned shed = sw_accept_shed(&rt->reserve, ra->io->fd,
				       SW_ACCEPT_SHED_MAX);
	struct sw_sa local;
	socklen_t sl = sizeof(local.u);
	char a[SW_SA_STRLEN];

	relay_io_set(rt, ra->io, 0);
	turn_timer_start(rt->srv, &ra->tmr, SW_ACCEPT_BACKOFF_MS,
			 accept_resume, ra);
	TURN_CNT_ADD(cnt, accept_paused, 1);
	TURN_CNT_ADD(cnt, accept_shed, shed);
	memset(&local, 0, sizeof(local));
	getsockname(ra->io->fd, &local.u.sa, &sl);
	sw_log_limited(SW_LOG_WARN,
		       "[relay %u] accept on %s:%s: %s: listener paused %u "
		       "ms, %u waiting connections closed",
		       rt->idx, ra->what, sw_sa_str(&local, a, sizeof(a)),
		       strerror(err), SW_ACCEPT_BACKOFF_MS, shed);
}


/**
 * Accept one connection on the listener of ra, non-blocking, close on
 * exec. When the process or the system is out of descriptors the
 * listener is paused (see sw_accept.h); the caller just stops.
 *
 * @return the new fd, or -1: nothing (more) to accept now
 */
int relay_accept(struct relay_accept *ra, struct sw_sa *peer)
{
	for (int tries = 0; tries < 8; ++tries) {
		socklen_t sl = sizeof(peer->u);
		int fd;

		memset(peer, 0, sizeof(*peer));
		fd = accept4(ra->io->fd, &peer->u.sa, &sl,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0)
			return fd;
		if (errno == EAGAIN)
			return -1;
		if (sw_accept_transient(errno))
			continue; /* that connection is gone: the next */
		if (sw_accept_exhausted(errno))
			accept_pause(ra, errno);
		else
			sw_log_limited(SW_LOG_ERROR, "[relay %u] accept on "
				       "%s: %s", ra->rt->idx, ra->what,
				       strerror(errno));
		return -1;
	}
	return -1;
}


/** The listener of ra is closing: no more back-off for it */
void relay_accept_stop(struct relay_accept *ra)
{
	if (ra->rt && ra->rt->srv)
		turn_timer_cancel(ra->rt->srv, &ra->tmr);
}


/**
 * Set the epoll interest of io (0 removes it)
 */
int relay_io_set(struct relay_thread *rt, struct relay_io *io,
		 uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = io};
	int op;

	if (events == io->events)
		return 0;
	if (!events)
		op = EPOLL_CTL_DEL;
	else
		op = io->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	if (epoll_ctl(rt->epfd, op, io->fd, &ev) < 0)
		return errno;
	io->events = events;
	return 0;
}


/**
 * Retire io: out of epoll (and closed if close_fd), freed after the batch
 */
void relay_io_retire(struct relay_thread *rt, struct relay_io *io,
		     bool close_fd)
{
	if (io->kind == RIO_DEAD)
		return;
	relay_io_set(rt, io, 0);
	if (close_fd && io->fd >= 0)
		close(io->fd);
	io->fd = -1;
	io->kind = RIO_DEAD;
	io->dnext = rt->dead;
	rt->dead = io;
}


static void reap_dead(struct relay_thread *rt)
{
	while (rt->dead) {
		struct relay_io *io = rt->dead;

		rt->dead = io->dnext;
		if (io->free_h)
			io->free_h(io);
		else
			free(io);
	}
}


const char *relay_ev_name(enum relay_ev_type type)
{
	static const char *const names[] = {
		[RELAY_EV_ALLOCATED] = "ALLOCATED",
		[RELAY_EV_ALLOC_FAILED] = "ALLOC_FAILED",
		[RELAY_EV_ALLOC_GONE] = "ALLOC_GONE",
		[RELAY_EV_CONN_ATTEMPT] = "CONN_ATTEMPT",
		[RELAY_EV_CONN_BOUND] = "CONN_BOUND",
		[RELAY_EV_CONN_CLOSED] = "CONN_CLOSED",
		[RELAY_EV_STUN] = "STUN",
		[RELAY_EV_SPLICED] = "SPLICED",
		[RELAY_EV_WATCHING] = "WATCHING",
		[RELAY_EV_INSIDE_ACCEPT] = "INSIDE_ACCEPT",
		[RELAY_EV_INSIDE_FAILED] = "INSIDE_FAILED",
		[RELAY_EV_TURN_MSG] = "TURN_MSG",
		[RELAY_EV_LOST] = "LOST",
	};

	if ((unsigned)type >= sizeof(names) / sizeof(names[0]) ||
	    !names[type])
		return "?";
	return names[type];
}


/** Test aid: posts of events of this type are refused as a full event
 * queue would refuse them, n times (-1: always; 0: off) */
void relay_test_refuse_ev(struct relay *r, enum relay_ev_type type, long n)
{
	__atomic_store_n(&r->test_refuse_left, n, __ATOMIC_RELAXED);
	__atomic_store_n(&r->test_refuse_type, (int)type, __ATOMIC_RELAXED);
}


static bool test_refused(struct relay *r, enum relay_ev_type type)
{
	long left;

	if (__atomic_load_n(&r->test_refuse_type, __ATOMIC_RELAXED) !=
	    (int)type)
		return false;
	left = __atomic_load_n(&r->test_refuse_left, __ATOMIC_RELAXED);
	while (left > 0 &&
	       !__atomic_compare_exchange_n(&r->test_refuse_left, &left,
					    left - 1, false, __ATOMIC_RELAXED,
					    __ATOMIC_RELAXED))
		;
	return left != 0;
}


/* Report the refused events of each call, in order, as far as the event
 * queue takes the reports */
static void lost_flush(struct relay_thread *rt)
{
	unsigned done = 0;

	for (; done < rt->n_lost; ++done) {
		struct relay_ev ev;

		memset(&ev, 0, sizeof(ev));
		ev.type = RELAY_EV_LOST;
		ev.call_id = rt->lost[done].call_id;
		ev.lost_type = rt->lost[done].type;
		ev.lost_n = rt->lost[done].n;
		if (sw_mq_push(rt->r->evq, &ev))
			break;
	}
	memmove(rt->lost, rt->lost + done,
		(rt->n_lost - done) * sizeof(rt->lost[0]));
	rt->n_lost -= done;
}


/* A refused event of a call, to report to it */
static void lost_note(struct relay_thread *rt, const struct relay_ev *ev)
{
	unsigned i;

	for (i = 0; i < rt->n_lost; ++i) {
		if (rt->lost[i].call_id == ev->call_id) {
			rt->lost[i].n++;
			return;
		}
	}
	if (rt->n_lost == RELAY_LOST_MAX) {
		sw_log_limited(SW_LOG_WARN, "[relay %u] %u calls already wait "
			       "to hear of lost events: the loss of event %s "
			       "of call %llu goes unreported", rt->idx,
			       rt->n_lost, relay_ev_name(ev->type),
			       (unsigned long long)ev->call_id);
		return;
	}
	rt->lost[i].call_id = ev->call_id;
	rt->lost[i].type = ev->type;
	rt->lost[i].n = 1;
	rt->n_lost++;
}


/**
 * Post an event to the SIP thread; the event's wire copy goes with it,
 * or is freed. An event of a call that the full queue refuses is lost,
 * but not unseen: the call hears of it by a RELAY_EV_LOST as soon as the
 * queue takes one (this post or the thread's loop)
 */
void relay_ev_post(struct relay_thread *rt, const struct relay_ev *ev)
{
	if (rt->n_lost)
		lost_flush(rt);
	if (!test_refused(rt->r, ev->type) && !sw_mq_push(rt->r->evq, ev))
		return;
	free(ev->wire.data);
	sw_log_limited(SW_LOG_WARN, "[relay %u] event queue full: event %s "
		       "of call %llu dropped", rt->idx, relay_ev_name(ev->type),
		       (unsigned long long)ev->call_id);
	if (ev->call_id)
		lost_note(rt, ev);
}


/** CLOCK_REALTIME in microseconds: when a captured message crossed */
int64_t relay_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}


/**
 * Fill w with an owned copy of one message as it crossed a socket: hlen
 * bytes of framing (may be 0) then the message; on ENOMEM w counts it
 * lost instead
 */
void relay_wire_copy(struct relay_wire *w, const uint8_t *hdr, size_t hlen,
		     const uint8_t *msg, size_t len, const struct sw_sa *src,
		     const struct sw_sa *dst)
{
	memset(w, 0, sizeof(*w));
	w->t_us = relay_now_us();
	w->src = *src;
	w->dst = *dst;
	w->data = malloc(hlen + len);
	if (!w->data) {
		w->n_lost = 1;
		return;
	}
	if (hlen)
		memcpy(w->data, hdr, hlen);
	memcpy(w->data + hlen, msg, len);
	w->len = hlen + len;
}


static void set_clock(struct relay_thread *rt)
{
	struct timespec m, w;

	clock_gettime(CLOCK_MONOTONIC, &m);
	clock_gettime(CLOCK_REALTIME, &w);
	turn_srv_set_clock(rt->srv,
			   (uint64_t)m.tv_sec * 1000 + m.tv_nsec / 1000000,
			   w.tv_sec);
}


/* --- in-process client commands ------------------------------------------- */

static void cmd_alloc(struct relay_thread *rt, const struct relay_cmd *cmd)
{
	struct relay_ev ev;
	struct turn_alloc *al;
	int err;

	memset(&ev, 0, sizeof(ev));
	ev.call_id = cmd->call_id;
	ev.token = cmd->token;
	err = turn_alloc_inproc(rt->srv, cmd->call_id,
				cmd->af ? cmd->af : AF_INET, &al);
	for (unsigned i = 0; !err && i < cmd->n_addrs; ++i) {
		err = turn_alloc_permit(rt->srv, al, &cmd->addrs[i]);
		if (err)
			turn_alloc_delete(rt->srv, al, "permission refused");
	}
	if (err) {
		ev.type = RELAY_EV_ALLOC_FAILED;
		ev.err = err;
		relay_ev_post(rt, &ev);
		return;
	}
	if (cmd->inside) {
		err = relay_inside_open(rt, al, &ev.inside);
		if (err) {
			sw_warn("[alloc %08x] no inside listener: %s", al->id,
				strerror(err));
			turn_alloc_delete(rt->srv, al, "no inside listener");
			ev.type = RELAY_EV_ALLOC_FAILED;
			ev.err = err;
			relay_ev_post(rt, &ev);
			return;
		}
	}
	ev.type = RELAY_EV_ALLOCATED;
	ev.alloc_id = al->id;
	ev.addr = al->advertised;
	ev.local = al->relayed;
	relay_ev_post(rt, &ev);
}


static struct turn_alloc *inproc_alloc(struct relay_thread *rt, uint32_t id)
{
	struct turn_alloc *al = turn_srv_find_id(rt->srv, id);

	if (!al || al->src.tp != TURN_TP_INPROC) {
		sw_warn("[relay %u] command for unknown allocation %08x",
			rt->idx, id);
		return NULL;
	}
	return al;
}


/* PERMIT: more peers, and where inside connections go */
static void cmd_permit(struct relay_thread *rt, const struct relay_cmd *cmd)
{
	struct turn_alloc *al = inproc_alloc(rt, cmd->alloc_id);
	struct relay_relayed *rs;

	if (!al)
		return;
	if (cmd->call_id) /* a pooled allocation given to a call */
		al->call_id = cmd->call_id;
	for (unsigned i = 0; i < cmd->n_addrs && i < RELAY_MAX_ADDRS; ++i)
		if (turn_alloc_permit(rt->srv, al, &cmd->addrs[i]))
			sw_warn("[alloc %08x] permission refused", al->id);
	rs = al->io;
	if (rs && cmd->n_targets && cmd->n_targets <= RELAY_MAX_ADDRS) {
		memcpy(rs->targets, cmd->targets,
		       cmd->n_targets * sizeof(*cmd->targets));
		rs->n_targets = cmd->n_targets;
		if (rs->inside)
			relay_inside_targets(rs->inside);
	}
	relay_relayed_permitted(rt, al);
}


static void cmd_conn(struct relay_thread *rt, const struct relay_cmd *cmd)
{
	struct turn_conn *tc = turn_srv_find_conn(rt->srv, cmd->conn_id);
	struct relay_ev ev;
	int err;

	/* SPLICE also serves a watched (observe mode) connection of the
	 * call; a connection may have closed since the command was sent */
	if (!tc || (tc->al->src.tp != TURN_TP_INPROC &&
		    (cmd->type != RELAY_CMD_SPLICE || !tc->al->call_id ||
		     tc->al->call_id != cmd->call_id))) {
		sw_info("[relay %u] %s for connection %08x: it is gone",
			rt->idx, cmd->type == RELAY_CMD_SPLICE ? "splice"
							       : "bind",
			cmd->conn_id);
		return;
	}
	if (cmd->type == RELAY_CMD_SPLICE) {
		relay_pair_splice(rt, tc);
		return;
	}
	err = relay_pair_dial(rt, tc, cmd);
	if (!err)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.type = RELAY_EV_CONN_CLOSED;
	ev.call_id = tc->al->call_id;
	ev.alloc_id = tc->al->id;
	ev.conn_id = tc->id;
	ev.err = err;
	relay_ev_post(rt, &ev);
	turn_conn_close(rt->srv, tc, "bind refused");
}


/* Observe mode: tie this thread's allocations with these relayed
 * addresses to a call */
static void cmd_watch(struct relay_thread *rt, const struct relay_cmd *cmd)
{
	for (unsigned i = 0; i < cmd->n_addrs && i < RELAY_MAX_ADDRS; ++i) {
		struct turn_alloc *al =
			turn_srv_find_relayed(rt->srv, &cmd->addrs[i]);
		struct relay_ev ev;

		if (!al || !al->tcp || al->src.tp == TURN_TP_INPROC)
			continue;
		al->call_id = cmd->call_id;
		al->inspect = cmd->inspect;
		al->inspect_max = cmd->inspect_max;
		for (struct turn_conn *tc = al->conns; tc; tc = tc->next)
			relay_pair_watch(rt, tc);
		memset(&ev, 0, sizeof(ev));
		ev.type = RELAY_EV_WATCHING;
		ev.call_id = cmd->call_id;
		ev.token = cmd->token;
		ev.alloc_id = al->id;
		ev.addr = cmd->addrs[i];
		ev.local = al->src.client; /* the client's control connection */
		snprintf(ev.user, sizeof(ev.user), "%.63s", al->user);
		relay_ev_post(rt, &ev);
		/* its Allocate, Refresh... made before the SDP named it */
		if (al->src.tp == TURN_TP_TCP || al->src.tp == TURN_TP_TLS)
			relay_ctrl_hist_flush(rt, al->src.io, al);
	}
}


/* A reload's TURN users and REST secret: new authentications use them;
 * allocations in progress keep the key of their Allocate (turn_alloc.c) */
static void cmd_users(struct relay_thread *rt, struct relay_users *u)
{
	memcpy(rt->conf.turn_users, u->users, sizeof(rt->conf.turn_users));
	rt->conf.n_turn_users = u->n_users;
	memcpy(rt->conf.turn_static_auth_secret, u->static_auth_secret,
	       sizeof(rt->conf.turn_static_auth_secret));
	memcpy(rt->conf.turn_secrets, u->secrets,
	       sizeof(rt->conf.turn_secrets));
	rt->conf.n_turn_secrets = u->n_secrets;
	free(u);
	sw_notice("[relay %u] TURN credentials reloaded: %u users, REST secret "
		"%s, %u more REST secrets", rt->idx, rt->conf.n_turn_users,
		rt->conf.turn_static_auth_secret[0] ? "set" : "unset",
		rt->conf.n_turn_secrets);
}


static void cmd_run(struct relay_thread *rt, struct relay_cmd *cmd)
{
	struct turn_alloc *al;

	switch (cmd->type) {
	case RELAY_CMD_ALLOC:
		cmd_alloc(rt, cmd);
		break;
	case RELAY_CMD_PERMIT:
		cmd_permit(rt, cmd);
		break;
	case RELAY_CMD_BIND:
	case RELAY_CMD_SPLICE:
		cmd_conn(rt, cmd);
		break;
	case RELAY_CMD_DELETE:
		al = inproc_alloc(rt, cmd->alloc_id);
		if (al)
			turn_alloc_delete(rt->srv, al, "deleted by the gateway");
		break;
	case RELAY_CMD_WATCH:
		cmd_watch(rt, cmd);
		break;
	case RELAY_CMD_HANDOFF:
		relay_ctrl_adopt(rt, cmd->handoff);
		break;
	case RELAY_CMD_USERS:
		cmd_users(rt, cmd->users);
		break;
	case RELAY_CMD_REDIRECT:
		turn_srv_set_redirect(rt->srv, cmd->redirect);
		free(cmd->redirect);
		break;
	case RELAY_CMD_STOP:
		rt->stop = true;
		break;
	}
}


static void cmdq_event(struct relay_thread *rt)
{
	struct relay_cmd cmd;

	sw_mq_drain_fd(rt->cmdq);
	while (sw_mq_pop(rt->cmdq, &cmd))
		cmd_run(rt, &cmd);
}


/* --- the loop ---------------------------------------------------------------- */

static void dispatch(struct relay_thread *rt, struct relay_io *io,
		     uint32_t ev)
{
	switch (io->kind) {
	case RIO_CMDQ:
		cmdq_event(rt);
		break;
	case RIO_UDP_LISTEN:
	case RIO_TCP_LISTEN:
		relay_listener_event(rt, (struct relay_listener *)io, ev);
		break;
	case RIO_CTRL:
		relay_ctrl_event(rt, (struct relay_ctrl *)io, ev);
		break;
	case RIO_RELAY_UDP:
	case RIO_RELAY_TCP:
		relay_relayed_event(rt, (struct relay_relayed *)io, ev);
		break;
	case RIO_SIDE:
		relay_side_event(rt, io, ev);
		break;
	case RIO_INSIDE:
		relay_inside_event(rt, io);
		break;
	case RIO_DEAD:
		break;
	}
}


static void *thread_main(void *arg)
{
	struct relay_thread *rt = arg;
	struct epoll_event evs[MAX_EVENTS];

	cur_rt = rt;
	while (!rt->stop) {
		int n, tmo;

		set_clock(rt);
		turn_srv_run_timers(rt->srv);
		relay_ctrl_reap(rt);
		reap_dead(rt);
		tmo = turn_srv_next_timeout(rt->srv);
		if (rt->n_lost)
			lost_flush(rt);
		if (rt->n_lost && (tmo < 0 || tmo > LOST_RETRY_MS))
			tmo = LOST_RETRY_MS;
		n = epoll_wait(rt->epfd, evs, MAX_EVENTS, tmo);
		if (n < 0 && errno != EINTR) {
			sw_error("[relay %u] epoll_wait: %s", rt->idx,
				 strerror(errno));
			break;
		}
		set_clock(rt);
		for (int i = 0; i < n; ++i)
			dispatch(rt, evs[i].data.ptr, evs[i].events);
		relay_ctrl_reap(rt);
		reap_dead(rt);
	}
	return NULL;
}


/* --- start and stop -------------------------------------------------------------- */

/* Handoffs still queued when the thread stops own an fd each */
static void cmdq_discard(struct relay_thread *rt)
{
	struct relay_cmd cmd;

	while (rt->cmdq && sw_mq_pop(rt->cmdq, &cmd)) {
		if (cmd.type == RELAY_CMD_USERS)
			free(cmd.users);
		if (cmd.type == RELAY_CMD_REDIRECT)
			free(cmd.redirect);
		if (cmd.type != RELAY_CMD_HANDOFF)
			continue;
		if (cmd.handoff->ssl)
			SSL_free(cmd.handoff->ssl);
		close(cmd.handoff->fd);
		free(cmd.handoff);
	}
}


static void thread_free(struct relay_thread *rt)
{
	cmdq_discard(rt);
	turn_srv_free(rt->srv); /* closes allocations and connections */
	rt->srv = NULL;
	while (rt->ctrls)
		relay_ctrl_close(rt, rt->ctrls);
	relay_listeners_close(rt);
	reap_dead(rt);
	relay_pipes_free(rt);
	sw_accept_reserve_close(&rt->reserve);
	if (rt->tls)
		SSL_CTX_free(rt->tls);
	if (rt->epfd >= 0)
		close(rt->epfd);
	free(rt->ports);
	sw_mq_free(rt->cmdq);
}


/* Each thread takes an equal slice of relay_ports: ports never collide
 * between threads, so SO_REUSEPORT on relayed listeners is safe */
static void thread_ports(struct relay_thread *rt, unsigned n)
{
	uint32_t lo = rt->conf.turn_port_min, hi = rt->conf.turn_port_max;
	uint32_t span = (hi - lo + 1) / n;
	uint16_t r = 0;

	if (span == 0)
		span = 1;
	rt->port_lo = (uint16_t)(lo + rt->idx * span);
	rt->port_hi = rt->idx + 1 == n ? (uint16_t)hi
				       : (uint16_t)(rt->port_lo + span - 1);
	if (rt->port_lo > hi)
		rt->port_lo = rt->port_hi = (uint16_t)hi;
	RAND_bytes((uint8_t *)&r, sizeof(r));
	rt->port_cur = (uint16_t)(rt->port_lo +
				  r % (rt->port_hi - rt->port_lo + 1u));
}


static int thread_init(struct relay *r, struct relay_thread *rt, unsigned idx)
{
	struct turn_srv_cfg cfg;
	int err;

	rt->r = r;
	rt->idx = idx;
	rt->conf = r->conf;
	rt->reserve.fd = -1;
	if (sw_accept_reserve_open(&rt->reserve))
		return errno;
	rt->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (rt->epfd < 0)
		return errno;
	rt->ports = calloc(65536 / 8, 1);
	if (!rt->ports)
		return ENOMEM;
	thread_ports(rt, r->n);
	memset(&cfg, 0, sizeof(cfg));
	cfg.conf = &rt->conf;
	cfg.thread_idx = idx;
	memcpy(cfg.nonce_key, r->nonce_key, sizeof(cfg.nonce_key));
	cfg.quota = r->quota;
	cfg.host_ips = r->host_ips;
	cfg.n_host_ips = r->n_host_ips;
	cfg.ops = &relay_turn_ops;
	cfg.arg = rt;
	err = turn_srv_alloc(&rt->srv, &cfg);
	if (!err)
		err = sw_mq_alloc(&rt->cmdq, sizeof(struct relay_cmd),
				  CMDQ_CAP);
	if (err)
		return err;
	rt->cmd_io.kind = RIO_CMDQ;
	rt->cmd_io.fd = sw_mq_fd(rt->cmdq);
	err = relay_io_set(rt, &rt->cmd_io, EPOLLIN);
	if (!err)
		err = relay_tls_init(rt);
	if (!err)
		err = relay_listeners_open(rt, idx == 0);
	return err;
}


/* This host's interface addresses, at start: a wildcard listener (SIP on
 * 0.0.0.0) answers on each of them, so no relay may be looped onto them
 * (turn_srv_check_peer_addr) */
static void host_ips(struct relay *r)
{
	struct ifaddrs *ifs, *i;

	if (getifaddrs(&ifs))
		return;
	for (i = ifs; i && r->n_host_ips < RELAY_HOST_IPS; i = i->ifa_next)
		if (i->ifa_addr && (i->ifa_addr->sa_family == AF_INET ||
				    i->ifa_addr->sa_family == AF_INET6))
			sw_sa_from_sockaddr(&r->host_ips[r->n_host_ips++],
					    i->ifa_addr);
	freeifaddrs(ifs);
}


/**
 * Start relay_threads relay threads. Listeners are bound before this
 * returns, so a bind error is reported here and "ready" means ready.
 *
 * @param observe  inspect-mode observer, NULL for the built-in one
 */
int relay_start(struct relay **rp, const struct sw_conf *conf,
		relay_observe_h *observe, void *observe_arg)
{
	struct relay *r;
	int err;

	if (!rp || !conf)
		return EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return ENOMEM;
	r->conf = *conf;
	r->n = conf->relay_threads ? conf->relay_threads : 1;
	r->observe = observe;
	r->observe_arg = observe_arg;
	host_ips(r);
	RAND_bytes(r->nonce_key, sizeof(r->nonce_key));
	r->t = calloc(r->n, sizeof(*r->t));
	err = r->t ? sw_mq_alloc(&r->evq, sizeof(struct relay_ev), EVQ_CAP)
		   : ENOMEM;
	if (!err && (conf->turn_user_quota || conf->turn_total_quota))
		err = turn_quota_alloc(&r->quota, conf->turn_user_quota,
				       conf->turn_total_quota);
	for (unsigned i = 0; r->t && i < r->n; ++i)
		r->t[i].epfd = -1;
	for (unsigned i = 0; !err && i < r->n; ++i)
		err = thread_init(r, &r->t[i], i);
	for (unsigned i = 0; !err && i < r->n; ++i) {
		err = pthread_create(&r->t[i].th, NULL, thread_main, &r->t[i]);
		r->t[i].started = !err;
	}
	if (err) {
		relay_stop(r);
		return err;
	}
	*rp = r;
	return 0;
}


/**
 * Stop every relay thread, join it, close everything it owned
 */
void relay_stop(struct relay *r)
{
	struct relay_cmd stop;

	if (!r)
		return;
	memset(&stop, 0, sizeof(stop));
	stop.type = RELAY_CMD_STOP;
	for (unsigned i = 0; r->t && i < r->n; ++i) {
		if (!r->t[i].started)
			continue;
		while (sw_mq_push(r->t[i].cmdq, &stop) == ENOBUFS)
			usleep(1000);
		pthread_join(r->t[i].th, NULL);
	}
	for (unsigned i = 0; r->t && i < r->n; ++i)
		if (r->t[i].r)
			thread_free(&r->t[i]);
	free(r->t);
	if (r->evq) { /* events nobody popped may own wire copies */
		struct relay_ev ev;

		while (sw_mq_pop(r->evq, &ev))
			relay_ev_release(&ev);
	}
	sw_mq_free(r->evq);
	turn_quota_free(r->quota);
	free(r);
}


/**
 * The [turn] users and REST secret of a reload, to every relay thread:
 * each gets its own copy, owned by the message. SIP thread only.
 *
 * @return 0, or ENOMEM / ENOBUFS (a thread's queue stayed full for
 *         100 ms): the threads from that one on keep the old users
 */
int relay_set_users(struct relay *r, const struct sw_conf *conf)
{
	struct relay_cmd cmd;
	int err = 0;

	memcpy(r->conf.turn_users, conf->turn_users, sizeof(r->conf.turn_users));
	r->conf.n_turn_users = conf->n_turn_users;
	memcpy(r->conf.turn_static_auth_secret, conf->turn_static_auth_secret,
	       sizeof(r->conf.turn_static_auth_secret));
	memcpy(r->conf.turn_secrets, conf->turn_secrets,
	       sizeof(r->conf.turn_secrets));
	r->conf.n_turn_secrets = conf->n_turn_secrets;
	memset(&cmd, 0, sizeof(cmd));
	cmd.type = RELAY_CMD_USERS;
	for (unsigned t = 0; !err && t < r->n; ++t) {
		int tries = 100;

		cmd.users = malloc(sizeof(*cmd.users));
		if (!cmd.users)
			return ENOMEM;
		memcpy(cmd.users->users, conf->turn_users,
		       sizeof(cmd.users->users));
		cmd.users->n_users = conf->n_turn_users;
		memcpy(cmd.users->static_auth_secret,
		       conf->turn_static_auth_secret,
		       sizeof(cmd.users->static_auth_secret));
		memcpy(cmd.users->secrets, conf->turn_secrets,
		       sizeof(cmd.users->secrets));
		cmd.users->n_secrets = conf->n_turn_secrets;
		/* a reload is rare: wait for room rather than lose it */
		while ((err = sw_mq_push(r->t[t].cmdq, &cmd)) == ENOBUFS &&
		       --tries)
			usleep(1000);
		if (err)
			free(cmd.users);
	}
	return err;
}


/**
 * Where new external Allocates go instead (draining, or loaded; see
 * struct turn_redirect), to every relay thread, each its own copy owned
 * by the message. SIP thread only; sent again when the cluster view
 * changes, so a thread whose queue stayed full keeps the previous one
 * until the next.
 *
 * @return 0, or ENOMEM / ENOBUFS (a thread's queue stayed full for 100 ms)
 */
int relay_set_redirect(struct relay *r, const struct turn_redirect *rd)
{
	struct relay_cmd cmd;
	int err = 0;

	memset(&cmd, 0, sizeof(cmd));
	cmd.type = RELAY_CMD_REDIRECT;
	for (unsigned t = 0; t < r->n; ++t) {
		int tries = 100, e;

		cmd.redirect = malloc(sizeof(*cmd.redirect));
		if (!cmd.redirect)
			return ENOMEM;
		*cmd.redirect = *rd;
		while ((e = sw_mq_push(r->t[t].cmdq, &cmd)) == ENOBUFS &&
		       --tries)
			usleep(1000);
		if (e) {
			free(cmd.redirect);
			err = e;
		}
	}
	return err;
}


/**
 * Send a command to the relay thread that owns its id (ALLOC: chosen by
 * call_id). SIP thread only.
 *
 * @return 0, EINVAL (no such thread), ENOBUFS (queue full)
 */
int relay_cmd_send(struct relay *r, const struct relay_cmd *cmd)
{
	unsigned t;

	switch (cmd->type) {
	case RELAY_CMD_ALLOC:
		t = (unsigned)(cmd->call_id % r->n);
		break;
	case RELAY_CMD_PERMIT:
	case RELAY_CMD_DELETE:
		t = turn_srv_thread(cmd->alloc_id);
		break;
	case RELAY_CMD_BIND:
	case RELAY_CMD_SPLICE:
		t = turn_srv_thread(cmd->conn_id);
		break;
	case RELAY_CMD_WATCH: /* the addresses may live on any thread */
		for (t = 0; t < r->n; ++t)
			if (sw_mq_push(r->t[t].cmdq, cmd))
				return ENOBUFS;
		return 0;
	default:
		return EINVAL;
	}
	if (t >= r->n)
		return EINVAL;
	return sw_mq_push(r->t[t].cmdq, cmd);
}


/** Hand a ConnectionBind connection to its owner thread (relay threads) */
int relay_handoff_send(struct relay_thread *rt, unsigned owner,
		       struct relay_handoff *h)
{
	struct relay_cmd cmd;

	if (owner >= rt->r->n)
		return EINVAL;
	memset(&cmd, 0, sizeof(cmd));
	cmd.type = RELAY_CMD_HANDOFF;
	cmd.handoff = h;
	return sw_mq_push(rt->r->t[owner].cmdq, &cmd);
}


int relay_ev_fd(const struct relay *r)
{
	return sw_mq_fd(r->evq);
}


/** Clear relay_ev_fd()'s readiness; then pop until empty (SIP thread) */
void relay_ev_ack(struct relay *r)
{
	sw_mq_drain_fd(r->evq);
}


/** Make relay_ev_fd() readable again: the SIP thread put events aside */
void relay_ev_kick(struct relay *r)
{
	sw_mq_kick(r->evq);
}


/** Pop one event (SIP thread); false when none is left */
bool relay_ev_pop(struct relay *r, struct relay_ev *ev)
{
	return sw_mq_pop(r->evq, ev);
}


/** Free what a popped event owns (its wire copy); any thread */
void relay_ev_release(struct relay_ev *ev)
{
	free(ev->wire.data);
	ev->wire.data = NULL;
	ev->wire.len = 0;
}


/** Sum of every relay thread's counters (a snapshot; any thread) */
void relay_counters(const struct relay *r, struct turn_counters *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (unsigned i = 0; i < r->n; ++i) {
		struct turn_counters c;

		if (!r->t[i].srv)
			continue;
		turn_counters_snapshot(turn_srv_counters(r->t[i].srv), &c);
		turn_counters_add(sum, &c);
	}
}


/**
 * Switch an inspected connection to splice mode. Relay threads only (the
 * observer may call it); from the SIP thread send RELAY_CMD_SPLICE.
 *
 * @return 0, EPERM (not on a relay thread), ENOENT
 */
int relay_conn_set_splice(uint32_t conn_id)
{
	struct turn_conn *tc;

	if (!cur_rt)
		return EPERM;
	tc = turn_srv_find_conn(cur_rt->srv, conn_id);
	if (!tc)
		return ENOENT;
	return relay_pair_splice(cur_rt, tc);
}
