/**
 * @file as_loop.c  asbench: the epoll loop, the timer heap, the SIP and
 * listening sockets, and the life of a call (start, progress, setup,
 * failure, end) that both sides report to.
 *
 * Timers: each call has at most one live heap entry, for the earliest of
 * its SIP retransmissions, check retransmissions and deadline; an entry
 * whose time no longer matches the call's is stale and skipped.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "asbench.h"

#define SIP_BUF_BYTES (4 << 20) /* SO_RCVBUF/SO_SNDBUF of the SIP sockets */
#define EVENTS_MAX 256
#define RECV_BATCH 256          /* datagrams per socket per turn */

/** A heap entry: when the call wants its timers run */
struct as_heap_ent {
	double due;
	unsigned idx;
};

static const uint32_t setup_bits = AS_P_E_200 | AS_P_C_ACK | AS_P_E_CONN |
				   AS_P_C_CONN | AS_P_E_ICE | AS_P_C_ICE |
				   AS_P_C_FINAL | AS_P_C_FACK;

static const struct {
	uint32_t bit;
	const char *name;
} stages[] = {
	{AS_P_C_INVITE, "conf_invite"}, {AS_P_E_200, "edge_200"},
	{AS_P_C_ACK, "conf_ack"},       {AS_P_E_CONN, "edge_connect"},
	{AS_P_C_CONN, "conf_conn"},     {AS_P_E_ICE, "edge_checks"},
	{AS_P_C_ICE, "conf_checks"},    {AS_P_C_FINAL, "completion_reinvite"},
	{AS_P_C_FACK, "completion_ack"}, {AS_P_E_FINAL, "edge_reinvite"},
	{AS_P_PROBED, "probe"},         {AS_P_E_BYE, "bye_200"},
	{AS_P_C_BYE, "conf_bye"},
};


const char *as_fail_name(enum as_fail f)
{
	static const char *names[AS_F_MAX] = {
		"none", "socket", "invite_status", "no_relay_candidate",
		"bad_answer", "connect", "closed", "bad_check", "final_offer",
		"edge_reinvite", "probe", "bye_status", "gateway_bye", "timeout",
		"inflight_cap", "shed_503",
	};

	return f < AS_F_MAX ? names[f] : "?";
}


const char *as_stage_name(uint32_t bit)
{
	for (size_t i = 0; i < sizeof(stages) / sizeof(stages[0]); ++i) {
		if (stages[i].bit == bit)
			return stages[i].name;
	}
	return "?";
}


/** n random ICE characters (ALPHA / DIGIT / "+" / "/"), NUL-terminated */
void as_rand_token(char *buf, size_t n)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
				  "qrstuvwxyz0123456789+/";
	uint8_t r[64];

	if (n > sizeof(r))
		n = sizeof(r);
	tb_random(r, n);
	for (size_t i = 0; i < n; ++i)
		buf[i] = abc[r[i] % 64];
	buf[n] = '\0';
}


static uint64_t ev_data(enum as_fdtype type, unsigned idx)
{
	return (uint64_t)type << 32 | idx;
}


int as_fd_add(struct as_run *r, int fd, enum as_fdtype type, unsigned idx,
	      bool out)
{
	struct epoll_event ev = {EPOLLIN | (out ? EPOLLOUT : 0u),
				 {.u64 = ev_data(type, idx)}};

	return epoll_ctl(r->ep, EPOLL_CTL_ADD, fd, &ev) ? errno : 0;
}


int as_fd_mod(struct as_run *r, int fd, enum as_fdtype type, unsigned idx,
	      bool out)
{
	struct epoll_event ev = {EPOLLIN | (out ? EPOLLOUT : 0u),
				 {.u64 = ev_data(type, idx)}};

	return epoll_ctl(r->ep, EPOLL_CTL_MOD, fd, &ev) ? errno : 0;
}


static int udp_open(int *fdp, const struct sw_sa *local)
{
	int fd, sz = SIP_BUF_BYTES, err;

	fd = socket(sw_sa_af(local), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0)
		return errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	if (bind(fd, &local->u.sa, sw_sa_len(local))) {
		err = errno;
		close(fd);
		return err;
	}
	*fdp = fd;
	return 0;
}


static int listen_open(int *fdp, const struct sw_sa *local)
{
	int fd, one = 1, err;

	fd = socket(sw_sa_af(local),
		    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, &local->u.sa, sw_sa_len(local)) || listen(fd, 4096)) {
		err = errno;
		close(fd);
		return err;
	}
	*fdp = fd;
	return 0;
}


static int sockets_open(struct as_run *r)
{
	char a[SW_SA_STRLEN];
	int err;

	err = udp_open(&r->edge_sip, &r->o->edge_sip);
	if (err) {
		sw_sa_str(&r->o->edge_sip, a, sizeof(a));
		goto out;
	}
	err = udp_open(&r->conf_sip, &r->o->conf_sip);
	if (err) {
		sw_sa_str(&r->o->conf_sip, a, sizeof(a));
		goto out;
	}
	err = listen_open(&r->listen_fd, &r->o->conf_media);
	if (err) {
		sw_sa_str(&r->o->conf_media, a, sizeof(a));
		goto out;
	}
	err = as_fd_add(r, r->edge_sip, AS_FD_EDGE_SIP, 0, false);
	err = err ? err : as_fd_add(r, r->conf_sip, AS_FD_CONF_SIP, 0, false);
	err = err ? err : as_fd_add(r, r->listen_fd, AS_FD_LISTEN, 0, false);
	snprintf(a, sizeof(a), "epoll");
out:
	if (err)
		fprintf(stderr, "asbench: %s: %s\n", a, strerror(err));
	return err;
}


/**
 * Sockets, epoll and room for maxcalls calls
 *
 * @return 0 or an errno value (said on stderr)
 */
int as_run_init(struct as_run *r, const struct as_opts *o, unsigned maxcalls)
{
	memset(r, 0, sizeof(*r));
	r->o = o;
	r->edge_sip = r->conf_sip = r->listen_fd = -1;
	r->maxcalls = maxcalls;
	tb_random(&r->run_id, sizeof(r->run_id));
	r->calls = calloc(maxcalls ? maxcalls : 1, sizeof(*r->calls));
	r->lat_setup = calloc(maxcalls ? maxcalls : 1, sizeof(double));
	r->lat_connect = calloc(maxcalls ? maxcalls : 1, sizeof(double));
	r->ep = epoll_create1(EPOLL_CLOEXEC);
	if (!r->calls || !r->lat_setup || !r->lat_connect || r->ep < 0) {
		fprintf(stderr, "asbench: out of memory or epoll\n");
		return ENOMEM;
	}
	r->deadline = tb_now() + o->timeout;
	return sockets_open(r);
}


static void call_release(struct as_call *c)
{
	as_ice_close(&c->e);
	as_ice_close(&c->c);
	free(c->ctx.msg);
	c->ctx.msg = NULL;
	free(c->stx.resp);
	c->stx.resp = NULL;
}


void as_run_free(struct as_run *r)
{
	for (unsigned i = 0; r->calls && i < r->ncalls; ++i)
		call_release(&r->calls[i]);
	for (unsigned i = 0; i < AS_PENDING_MAX; ++i) {
		if (r->pend[i]) {
			close(r->pend[i]->fd);
			free(r->pend[i]);
		}
	}
	if (r->edge_sip >= 0)
		close(r->edge_sip);
	if (r->conf_sip >= 0)
		close(r->conf_sip);
	if (r->listen_fd >= 0)
		close(r->listen_fd);
	if (r->ep >= 0)
		close(r->ep);
	free(r->calls);
	free(r->lat_setup);
	free(r->lat_connect);
	free(r->heap);
}


/* --- the timer heap ------------------------------------------------------- */

static void heap_push(struct as_run *r, double due, unsigned idx)
{
	size_t i;

	if (r->nheap == r->heapcap) {
		size_t cap = r->heapcap ? r->heapcap * 2 : 1024;
		struct as_heap_ent *h = realloc(r->heap, cap * sizeof(*h));

		if (!h) {
			fprintf(stderr, "asbench: out of memory (timers)\n");
			exit(3);
		}
		r->heap = h;
		r->heapcap = cap;
	}
	for (i = r->nheap++; i && r->heap[(i - 1) / 2].due > due;
	     i = (i - 1) / 2)
		r->heap[i] = r->heap[(i - 1) / 2];
	r->heap[i] = (struct as_heap_ent){due, idx};
}


static struct as_heap_ent heap_pop(struct as_run *r)
{
	struct as_heap_ent top = r->heap[0], last = r->heap[--r->nheap];
	size_t i = 0, k;

	while ((k = 2 * i + 1) < r->nheap) {
		if (k + 1 < r->nheap && r->heap[k + 1].due < r->heap[k].due)
			++k;
		if (last.due <= r->heap[k].due)
			break;
		r->heap[i] = r->heap[k];
		i = k;
	}
	r->heap[i] = last;
	return top;
}


/** (Re)schedule a call's timers: its earliest retransmission or deadline */
void as_call_sched(struct as_run *r, struct as_call *c)
{
	double due = 0, t;

	if (c->prog & AS_P_DONE)
		return;
	t = as_edge_next(c);
	due = t;
	t = as_conf_next(c);
	if (t && (!due || t < due))
		due = t;
	if (c->deadline && (!due || c->deadline < due))
		due = c->deadline;
	if (c->bye_at && (!due || c->bye_at < due))
		due = c->bye_at;
	if (due && (!c->sched || due < c->sched)) {
		heap_push(r, due, c->idx);
		c->sched = due;
	}
}


static void call_timers(struct as_run *r, struct as_call *c, double now)
{
	bool teardown = c->prog & AS_P_BYE;

	as_edge_timers(r, c, now);
	as_conf_timers(r, c, now);
	if (c->bye_at && now >= c->bye_at) {
		c->bye_at = 0;
		if (!c->fail && !(c->prog & (AS_P_DONE | AS_P_BYE)))
			as_edge_bye(r, c);
	}
	if (c->prog & AS_P_DONE || !c->deadline || now < c->deadline)
		return;
	c->deadline = 0;
	as_call_fail(r, c, AS_F_TIMEOUT);
	if (teardown)
		as_call_end(r, c); /* the teardown itself timed out */
}


static void timers_run(struct as_run *r, double now)
{
	while (r->nheap && r->heap[0].due <= now) {
		struct as_heap_ent e = heap_pop(r);
		struct as_call *c = &r->calls[e.idx];

		if (c->sched != e.due)
			continue; /* stale */
		c->sched = 0;
		call_timers(r, c, now);
		as_call_sched(r, c);
	}
}


/* --- the life of a call ------------------------------------------------------ */

/**
 * Start the next call: its identities, the Edge relay's socket, the INVITE
 *
 * @return 0, or ENOSPC when every call slot is used
 */
int as_call_start(struct as_run *r)
{
	struct as_call *c;

	if (r->ncalls == r->maxcalls)
		return ENOSPC;
	c = &r->calls[r->ncalls];
	memset(c, 0, sizeof(*c));
	c->idx = r->ncalls++;
	c->e.fd = c->c.fd = -1;
	snprintf(c->e_callid, sizeof(c->e_callid), "ae%06x.%08x@127.0.0.2",
		 c->idx, r->run_id);
	snprintf(c->e_tag, sizeof(c->e_tag), "et%06x.%08x", c->idx, r->run_id);
	snprintf(c->c_tag, sizeof(c->c_tag), "ct%06x.%08x", c->idx, r->run_id);
	snprintf(c->e_ufrag, sizeof(c->e_ufrag), "e%06x", c->idx);
	snprintf(c->c_ufrag, sizeof(c->c_ufrag), "c%06x", c->idx);
	as_rand_token(c->e_pwd, 24);
	as_rand_token(c->c_pwd, 24);
	r->st.started++;
	r->inflight++;
	r->live++;
	c->t_invite = tb_now();
	c->deadline = c->t_invite + r->o->call_timeout;
	if (as_edge_invite(r, c))
		as_call_fail(r, c, AS_F_SOCKET);
	as_call_sched(r, c);
	return 0;
}


/* Setup complete (the gateway's completion re-INVITE answered and ACKed,
 * both agents' checks complete): counted, its latencies kept */
static void call_setup(struct as_run *r, struct as_call *c)
{
	c->prog |= AS_P_SETUP;
	c->t_setup = tb_now();
	r->st.setups++;
	r->lat_setup[r->nlat] = (c->t_final - c->t_invite) * 1e3;
	r->lat_connect[r->nlat] = (c->t_final - c->t_connect) * 1e3;
	r->nlat++;
}


/* Ready (set up, and the Edge's own re-INVITE answered): hang up or hold */
static void call_ready(struct as_run *r, struct as_call *c)
{
	c->prog |= AS_P_READY;
	c->deadline = 0;
	r->inflight--;
	if (r->after != AS_AFTER_BYE)
		return;
	if (r->o->hold_time > 0) { /* up for a while, its media open */
		c->bye_at = tb_now() + r->o->hold_time;
		as_call_sched(r, c);
		return;
	}
	as_edge_bye(r, c);
}


/** A milestone reached; setup and the end of the teardown follow from
 *  them */
void as_call_progress(struct as_run *r, struct as_call *c, uint32_t bit)
{
	uint32_t bye = AS_P_E_BYE | AS_P_C_BYE;

	c->prog |= bit;
	if (c->fail || c->prog & AS_P_DONE)
		return;
	if (bit == AS_P_E_ICE && r->o->edge_reinvite)
		as_edge_checks_done(r, c);
	if (!(c->prog & AS_P_SETUP) && (c->prog & setup_bits) == setup_bits)
		call_setup(r, c);
	if (c->prog & AS_P_SETUP && !(c->prog & AS_P_READY) &&
	    (c->prog & AS_P_E_FINAL || !r->o->edge_reinvite))
		call_ready(r, c);
	if ((c->prog & bye) == bye)
		as_call_end(r, c);
}


/* The first milestone a timed-out call had not reached */
static uint32_t missing_stage(const struct as_run *r, const struct as_call *c)
{
	for (size_t i = 0; i < sizeof(stages) / sizeof(stages[0]); ++i) {
		uint32_t b = stages[i].bit;

		if (b == AS_P_PROBED ||
		    (b == AS_P_E_FINAL && !r->o->edge_reinvite))
			continue;
		if (!(c->prog & b))
			return b;
	}
	return 0;
}


/**
 * A call failed (once; later failures of the same call are not counted):
 * its media connections close, and a BYE clears it in sharewayd when
 * there is a dialog
 */
void as_call_fail(struct as_run *r, struct as_call *c, enum as_fail why)
{
	if (c->fail || c->prog & AS_P_DONE)
		return;
	c->fail = why;
	if (why == AS_F_TIMEOUT) {
		c->fail_stage = missing_stage(r, c);
		for (unsigned i = 0; i < AS_P_BITS; ++i) {
			if (c->fail_stage == 1u << i)
				r->st.fail_stage[i]++;
		}
	}
	r->st.failed++;
	r->st.fail[why]++;
	if (!(c->prog & AS_P_READY))
		r->inflight--;
	as_ice_close(&c->e);
	as_ice_close(&c->c);
	if (c->prog & AS_P_E_200 && !(c->prog & AS_P_BYE) &&
	    !as_edge_bye(r, c))
		return;
	if (!(c->prog & AS_P_BYE))
		as_call_end(r, c);
}


/** The call is over for good: sockets closed, counted as ended */
void as_call_end(struct as_run *r, struct as_call *c)
{
	if (c->prog & AS_P_DONE)
		return;
	c->prog |= AS_P_DONE;
	c->deadline = 0;
	r->live--;
	r->st.ended++;
	as_ice_close(&c->e);
	as_ice_close(&c->c);
	free(c->ctx.msg);
	c->ctx.msg = NULL;
}


/**
 * The call an id we made names: prefix, 6 hex digits of its index, and
 * (checked by the caller) the rest as we wrote it; NULL if none
 */
struct as_call *as_call_by_id(struct as_run *r, const char *prefix,
			      struct as_str id)
{
	size_t pl = strlen(prefix);
	unsigned idx = 0;

	if (id.n < pl + 6 || memcmp(id.p, prefix, pl))
		return NULL;
	for (size_t i = pl; i < pl + 6; ++i) {
		char ch = id.p[i];
		unsigned d = ch >= '0' && ch <= '9' ? (unsigned)(ch - '0') :
			     ch >= 'a' && ch <= 'f' ? (unsigned)(ch - 'a' + 10) :
			     16;

		if (d == 16)
			return NULL;
		idx = idx * 16 + d;
	}
	return idx < r->ncalls ? &r->calls[idx] : NULL;
}


/* --- sockets ------------------------------------------------------------------ */

void as_udp_send(struct as_run *r, int fd, const struct sw_sa *dst,
		 const char *buf, size_t len)
{
	ssize_t n;

	do {
		n = sendto(fd, buf, len, 0, &dst->u.sa, sw_sa_len(dst));
	} while (n < 0 && errno == EINTR);
	if (n != (ssize_t)len)
		r->st.sip_send_err++;
}


static void sip_read(struct as_run *r, int fd, bool edge)
{
	static char buf[AS_SIP_MAX];
	struct as_sipmsg m;
	struct sw_sa src;

	for (unsigned i = 0; i < RECV_BATCH; ++i) {
		socklen_t sl = sizeof(src.u);
		ssize_t n = recvfrom(fd, buf, AS_SIP_MAX, MSG_TRUNC, &src.u.sa,
				     &sl);

		if (n < 0)
			return;
		if (n > AS_SIP_MAX || as_sip_parse(&m, buf, (size_t)n)) {
			r->st.sip_bad++;
			continue;
		}
		if (edge)
			as_edge_sip(r, &m, &src);
		else
			as_conf_sip(r, &m, &src);
	}
}


static void dispatch(struct as_run *r, const struct epoll_event *ev)
{
	enum as_fdtype type = (enum as_fdtype)(ev->data.u64 >> 32);
	unsigned idx = (unsigned)ev->data.u64;

	switch (type) {
	case AS_FD_EDGE_SIP: sip_read(r, r->edge_sip, true); break;
	case AS_FD_CONF_SIP: sip_read(r, r->conf_sip, false); break;
	case AS_FD_LISTEN: as_conf_accept(r); break;
	case AS_FD_EDGE_TCP:
		if (idx < r->ncalls)
			as_edge_tcp(r, &r->calls[idx], ev->events);
		break;
	case AS_FD_CONF_TCP:
		if (idx < r->ncalls)
			as_conf_tcp(r, &r->calls[idx], ev->events);
		break;
	case AS_FD_PENDING: as_conf_pending(r, idx); break;
	default: break;
	}
}


/**
 * One turn of the loop: wait for events until `until` at most (or the
 * next timer), handle them, run due timers
 *
 * @return 0, or ETIMEDOUT past the global deadline, or an errno value
 */
int as_run_turn(struct as_run *r, double until)
{
	struct epoll_event evs[EVENTS_MAX];
	double now = tb_now(), wake = until;
	int n, ms;

	if (now >= r->deadline)
		return ETIMEDOUT;
	if (r->nheap && r->heap[0].due < wake)
		wake = r->heap[0].due;
	if (wake > r->deadline)
		wake = r->deadline;
	ms = wake <= now ? 0 : (int)((wake - now) * 1e3) + 1;
	n = epoll_wait(r->ep, evs, EVENTS_MAX, ms > 100 ? 100 : ms);
	if (n < 0)
		return errno == EINTR ? 0 : errno;
	for (int i = 0; i < n; ++i)
		dispatch(r, &evs[i]);
	timers_run(r, tb_now());
	return 0;
}
