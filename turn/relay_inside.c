/**
 * @file relay_inside.c  The inside candidate of an in-process relay.
 *
 * A conference server that only connects actively (TCP-ACT) cannot reach
 * the Edge's passive relay candidate through the gateway's relayed
 * address, which only accepts. With [appsharing] inside_candidate the
 * allocation also listens on inside_ip; the coordinator offers that
 * address to the conference. A connection arriving there is bridged
 * through the allocation by an in-process Connect (RFC 6062 5.2, the same
 * state machine as a client's Connect) from the relayed address to the
 * Edge's passive candidates, in the priority order RELAY_CMD_PERMIT gave
 * (struct relay_relayed targets): the first that answers is bound to the
 * conference's connection in inspect mode, as a ConnectionBind would. A
 * target that refuses or times out is followed by the next one, as a
 * client sends a new Connect after a 447; that retry runs from a timer,
 * never from inside the core's callbacks. A connection that comes before
 * the targets (the conference may connect as soon as it has the offer,
 * before the relay thread has the PERMIT sent ahead of it) waits for them
 * up to [appsharing] permit_wait.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#define SW_LOG_MODULE "relay"
#include "sw_log.h"
#include "relay_int.h"

#define INSIDE_BATCH 16

/* A conference connection between two Connect attempts */
struct inside_try {
	int fd;
	struct sw_sa src;
	unsigned next;  /* index of the next target */
	uint64_t until; /* ms: waiting for the targets until then; 0 = go */
};

struct relay_inside {
	struct relay_io io; /* RIO_INSIDE: the listener */
	struct relay_accept acc;
	struct relay_thread *rt;
	struct relay_relayed *rs;
	uint16_t port;
	struct inside_try tries[RELAY_HELD_MAX];
	unsigned n_tries;
	struct turn_timer retry_tmr;
};


static void inside_post(struct relay_inside *ins, enum relay_ev_type type,
			const struct sw_sa *src, int err)
{
	struct relay_ev ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.call_id = ins->rs->al->call_id;
	ev.alloc_id = ins->rs->al->id;
	ev.addr = *src;
	ev.err = err;
	relay_ev_post(ins->rt, &ev);
}


/* Connect to the targets from index next on; the first Connect that
 * starts takes fd with it (relay_pair_inside) */
static void inside_try(struct relay_inside *ins, int fd,
		       const struct sw_sa *src, unsigned next)
{
	struct relay_relayed *rs = ins->rs;
	char a[SW_SA_STRLEN], b[SW_SA_STRLEN];
	int err = ENOENT;

	while (rs->al && next < rs->n_targets) {
		const struct sw_sa *t = &rs->targets[next++];
		struct turn_conn *tc;

		err = turn_conn_connect_inproc(ins->rt->srv, rs->al, t, &tc);
		if (!err) {
			relay_pair_inside(tc, fd, src, ins, next);
			return;
		}
		sw_log_limited(SW_LOG_INFO,
			       "[alloc %08x] inside connection from %s: "
			       "Connect to %s refused: %s",
			       rs->al->id, sw_sa_str(src, a, sizeof(a)),
			       sw_sa_str(t, b, sizeof(b)), strerror(err));
	}
	if (rs->al) {
		sw_log_limited(SW_LOG_INFO,
			       "[alloc %08x] inside connection from %s "
			       "closed: %s",
			       rs->al->id, sw_sa_str(src, a, sizeof(a)),
			       rs->n_targets ? "no Edge candidate answered"
					     : "no Edge candidate known yet");
		inside_post(ins, RELAY_EV_INSIDE_FAILED, src,
			    rs->n_targets ? ECONNREFUSED : ENOENT);
	}
	close(fd);
}


/* Go on with the connections whose next Connect can start: now, or
 * their targets came, or their wait for them is over */
static void retry_run(struct turn_timer *t, void *arg)
{
	struct relay_inside *ins = arg;
	uint64_t now = turn_srv_now(ins->rt->srv), next = 0;
	unsigned i = 0;

	(void)t;
	while (i < ins->n_tries) {
		struct inside_try tr = ins->tries[i];

		if (tr.until && !ins->rs->n_targets && now < tr.until) {
			if (!next || tr.until < next)
				next = tr.until;
			++i;
			continue;
		}
		ins->tries[i] = ins->tries[--ins->n_tries];
		inside_try(ins, tr.fd, &tr.src, tr.next);
	}
	if (next)
		turn_timer_start(ins->rt->srv, &ins->retry_tmr, next - now,
				 retry_run, ins);
}


static void try_queue(struct relay_inside *ins, int fd,
		      const struct sw_sa *src, unsigned next, uint64_t wait)
{
	struct inside_try *tr;

	if (ins->n_tries == RELAY_HELD_MAX) {
		close(fd);
		return;
	}
	tr = &ins->tries[ins->n_tries++];
	tr->fd = fd;
	tr->src = *src;
	tr->next = next;
	tr->until = wait ? turn_srv_now(ins->rt->srv) + wait : 0;
	if (!wait || !ins->retry_tmr.slot || ins->retry_tmr.due > tr->until)
		turn_timer_start(ins->rt->srv, &ins->retry_tmr, wait,
				 retry_run, ins);
}


/**
 * The Connect of an inside connection failed before its bind (the pair
 * is being closed): carry on with the next target from a timer
 */
void relay_inside_retry(struct relay_inside *ins, int fd,
			const struct sw_sa *src, unsigned next)
{
	try_queue(ins, fd, src, next, 0);
}


/** RELAY_CMD_PERMIT brought targets: the connections waiting go on */
void relay_inside_targets(struct relay_inside *ins)
{
	if (ins->n_tries)
		turn_timer_start(ins->rt->srv, &ins->retry_tmr, 0, retry_run,
				 ins);
}


/** The conference connects to the inside address */
void relay_inside_event(struct relay_thread *rt, struct relay_io *io)
{
	struct relay_inside *ins = (struct relay_inside *)io;

	for (int i = 0; i < INSIDE_BATCH && ins->rs->al; ++i) {
		struct sw_sa src;
		int fd = relay_accept(&ins->acc, &src);

		if (fd < 0)
			return;
		inside_post(ins, RELAY_EV_INSIDE_ACCEPT, &src, 0);
		if (!ins->rs->n_targets && rt->conf.as_permit_wait)
			try_queue(ins, fd, &src, 0,
				  rt->conf.as_permit_wait * 1000ull);
		else
			inside_try(ins, fd, &src, 0);
	}
}


/**
 * Open the inside listener of the in-process allocation al (its relayed
 * socket is open) on [appsharing] inside_ip, else the relay address
 *
 * @return 0, EADDRINUSE (no free port), ENOMEM, errno
 */
int relay_inside_open(struct relay_thread *rt, struct turn_alloc *al,
		      struct sw_sa *addr)
{
	const struct sw_sa *ip = sw_sa_isset(&rt->conf.as_inside_ip)
					 ? &rt->conf.as_inside_ip
					 : &rt->conf.turn_relay_ip;
	struct relay_relayed *rs = al->io;
	struct relay_inside *ins;
	int err;

	if (!rs || !al->tcp)
		return EINVAL;
	ins = calloc(1, sizeof(*ins));
	if (!ins)
		return ENOMEM;
	err = relay_port_listen(rt, ip, &ins->io.fd, &ins->port);
	if (err) {
		free(ins);
		return err;
	}
	ins->io.kind = RIO_INSIDE;
	relay_accept_init(rt, &ins->acc, &ins->io, "inside");
	ins->rt = rt;
	ins->rs = rs;
	err = relay_io_set(rt, &ins->io, EPOLLIN);
	if (err) {
		close(ins->io.fd);
		relay_port_free(rt, ins->port);
		free(ins);
		return err;
	}
	rs->inside = ins;
	*addr = *ip;
	sw_sa_set_port(addr, ins->port);
	return 0;
}


/** With its allocation: the listener, and connections between Connects */
void relay_inside_close(struct relay_thread *rt, struct relay_inside *ins)
{
	while (ins->n_tries)
		close(ins->tries[--ins->n_tries].fd);
	turn_timer_cancel(rt->srv, &ins->retry_tmr);
	relay_accept_stop(&ins->acc);
	relay_port_free(rt, ins->port);
	relay_io_retire(rt, &ins->io, true);
}
