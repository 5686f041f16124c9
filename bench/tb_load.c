/**
 * @file tb_load.c  turnbench modes under load: "alloc" (authenticated
 * allocation cycles, sequential or in parallel threads) and "conns"
 * (many bridged RFC 6062 connections held at once, and what they cost
 * the server in memory and file descriptors).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "turnbench.h"

#define TB_BATCH 64 /* peer connections in flight per allocation */

/** One allocation-cycle client thread */
struct alloc_worker {
	const struct tb_opts *o;
	pthread_t th;
	unsigned n;   /* cycles to run */
	double *lat;  /* their durations, s */
	unsigned done;
	int err;
};

/** What the peer process is asked to do (conns mode) */
enum peer_op {
	PEER_CONNECT = 1, /* n more connections to dst */
	PEER_SEND,        /* one byte on connections first..first+n-1 */
	PEER_RECV,        /* read one byte on each of them */
	PEER_QUIT,
};

struct peer_cmd {
	enum peer_op op;
	unsigned first;
	unsigned n;
	struct sw_sa dst;
};

struct peer_ans {
	int err;
	unsigned done;
};

/** Everything the conns mode holds open */
struct conns {
	struct tb_turn *allocs; /* o->allocs control connections */
	int *data;              /* bound data connections */
	unsigned n;             /* bridged so far */
	unsigned target;        /* to bridge, after the fd-limit cap */
	long fd_limit;          /* the server's, when it capped target */
	double fds_per_conn;    /* the server's, measured on the first batch */
	int ctl;                /* command socket to the peer process */
	pid_t peer_pid;
};


/*
 * One cycle on a fresh TCP connection: Allocate → 401 → Allocate with
 * credentials → Refresh lifetime 0 (RFC 6062 5.1, RFC 5766 7)
 */
static int alloc_cycle(const struct tb_opts *o)
{
	struct tb_turn t;
	int err;

	err = tb_turn_cycle(&t, o);
	if (!err && t.auth_retries != 1)
		err = EPROTO; /* the 401 round trip is part of the cycle */
	return err;
}


static void *alloc_thread(void *arg)
{
	struct alloc_worker *w = arg;

	while (w->done < w->n) {
		double t0 = tb_now();

		w->err = alloc_cycle(w->o);
		if (w->err)
			break;
		w->lat[w->done++] = tb_now() - t0;
	}
	return NULL;
}


static void alloc_print(const struct tb_opts *o, double *lat, unsigned n,
			double wall, double cpu)
{
	printf("RESULT mode=alloc label=%s clients=%u n=%u of=%u "
	       "per_s=%.0f p50_ms=%.3f p99_ms=%.3f "
	       "server_cpu_ms_per_cycle=%.3f\n",
	       o->label, o->clients, n, o->count, wall > 0 ? n / wall : 0,
	       tb_pctl(lat, n, 0.5) * 1e3, tb_pctl(lat, n, 0.99) * 1e3,
	       cpu >= 0 && n ? cpu * 1e3 / n : -1);
}


/* Gather the workers' latencies into one array; returns how many */
static unsigned alloc_gather(struct alloc_worker *w, unsigned nw,
			     double *all, int *errp)
{
	unsigned n = 0;

	for (unsigned i = 0; i < nw; ++i) {
		if (w[i].done)
			memcpy(all + n, w[i].lat, w[i].done * sizeof(*all));
		n += w[i].done;
		if (w[i].err && !*errp)
			*errp = w[i].err;
	}
	return n;
}


static int alloc_run(const struct tb_opts *o, struct alloc_worker *w,
		     double *slots)
{
	unsigned per = o->count / o->clients + 1, started = 0;

	for (unsigned i = 0; i < o->clients; ++i, ++started) {
		w[i].o = o;
		w[i].n = o->count / o->clients + (i < o->count % o->clients);
		w[i].lat = slots + (size_t)i * per;
		if (pthread_create(&w[i].th, NULL, alloc_thread, &w[i]))
			break;
	}
	for (unsigned i = 0; i < started; ++i)
		pthread_join(w[i].th, NULL);
	return started < o->clients ? EAGAIN : 0;
}


/** alloc: o->count cycles spread over o->clients threads */
int tb_mode_alloc(const struct tb_opts *o)
{
	size_t nslots = (size_t)o->clients * (o->count / o->clients + 1);
	struct alloc_worker *w = calloc(o->clients, sizeof(*w));
	double *slots = calloc(nslots, sizeof(*slots));
	double *all = calloc(o->count, sizeof(*all));
	double t0, cpu0, cpu1, wall;
	unsigned n;
	int err;

	if (!w || !slots || !all) {
		err = ENOMEM;
		goto out;
	}
	cpu0 = tb_proc_cpu(o->server_pid);
	t0 = tb_now();
	err = alloc_run(o, w, slots);
	wall = tb_now() - t0;
	cpu1 = tb_proc_cpu(o->server_pid);
	n = alloc_gather(w, o->clients, all, &err);
	if (err)
		fprintf(stderr, "turnbench: alloc: %s\n", strerror(err));
	if (n)
		alloc_print(o, all, n, wall, cpu0 < 0 ? -1 : cpu1 - cpu0);
out:
	free(all);
	free(slots);
	free(w);
	return err;
}


static void peer_do(int *fds, unsigned *n, unsigned max,
		    const struct peer_cmd *cmd, struct peer_ans *ans)
{
	uint8_t b = 'p';

	switch (cmd->op) {
	case PEER_CONNECT:
		while (ans->done < cmd->n && !ans->err && *n < max) {
			ans->err = tb_tcp_connect(&fds[*n], &cmd->dst);
			if (!ans->err) {
				++*n;
				++ans->done;
			}
		}
		break;
	case PEER_SEND:
	case PEER_RECV:
		if (cmd->first > *n || cmd->n > *n - cmd->first) {
			ans->err = ERANGE;
			break;
		}
		while (ans->done < cmd->n && !ans->err) {
			int fd = fds[cmd->first + ans->done];

			if (cmd->op == PEER_SEND)
				ans->err = tb_write_full(fd, &b, 1);
			else
				ans->err = tb_read_full(fd, &b, 1);
			ans->done += !ans->err;
		}
		break;
	default:
		ans->err = EINVAL;
		break;
	}
}


/*
 * The peer process holds the peer side of every connection: one process
 * cannot hold both sides of 10,000 connections under a 20,000 fd limit
 */
static void __attribute__((noreturn)) peer_main(int ctl, unsigned max)
{
	int *fds = malloc(max * sizeof(*fds));
	struct peer_cmd cmd;
	unsigned n = 0;

	while (fds && read(ctl, &cmd, sizeof(cmd)) == (ssize_t)sizeof(cmd) &&
	       cmd.op != PEER_QUIT) {
		struct peer_ans ans = {0, 0};

		peer_do(fds, &n, max, &cmd, &ans);
		if (write(ctl, &ans, sizeof(ans)) != (ssize_t)sizeof(ans))
			break;
	}
	_exit(0);
}


static int peer_start(struct conns *c, unsigned max)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return errno;
	c->peer_pid = fork();
	if (c->peer_pid == 0) {
		close(sv[0]);
		peer_main(sv[1], max);
	}
	close(sv[1]);
	if (c->peer_pid < 0) {
		close(sv[0]);
		return errno;
	}
	c->ctl = sv[0];
	return 0;
}


/* One command to the peer process; fails unless all n were done */
static int peer_call(struct conns *c, enum peer_op op, unsigned first,
		     unsigned n, const struct sw_sa *dst)
{
	struct peer_cmd cmd = {.op = op, .first = first, .n = n};
	struct pollfd p = {c->ctl, POLLIN, 0};
	struct peer_ans ans;

	if (dst)
		cmd.dst = *dst;
	if (write(c->ctl, &cmd, sizeof(cmd)) != (ssize_t)sizeof(cmd))
		return EPIPE;
	if (poll(&p, 1, 2 * TB_IO_TIMEOUT_MS) <= 0 ||
	    read(c->ctl, &ans, sizeof(ans)) != (ssize_t)sizeof(ans))
		return ETIMEDOUT;
	if (!ans.err && ans.done != n)
		ans.err = EIO;
	return ans.err;
}


static void peer_stop(struct conns *c)
{
	struct peer_cmd cmd = {.op = PEER_QUIT};

	if (c->peer_pid <= 0)
		return;
	if (write(c->ctl, &cmd, sizeof(cmd)) != (ssize_t)sizeof(cmd))
		kill(c->peer_pid, SIGKILL);
	close(c->ctl);
	waitpid(c->peer_pid, NULL, 0);
	c->peer_pid = 0;
}


static int conns_open(struct conns *c, const struct tb_opts *o)
{
	int err;

	c->allocs = calloc(o->allocs, sizeof(*c->allocs));
	c->data = malloc(o->conns * sizeof(*c->data));
	if (!c->allocs || !c->data)
		return ENOMEM;
	c->target = o->conns;
	for (unsigned i = 0; i < o->conns; ++i)
		c->data[i] = -1;
	for (unsigned k = 0; k < o->allocs; ++k)
		tb_turn_init(&c->allocs[k], o);
	err = peer_start(c, o->conns);
	for (unsigned k = 0; k < o->allocs && !err; ++k) {
		err = tb_turn_open(&c->allocs[k]);
		if (!err)
			err = tb_turn_allocate(&c->allocs[k]);
		if (!err)
			err = tb_turn_permit(&c->allocs[k], &o->peer);
	}
	return err;
}


static void conns_close(struct conns *c, const struct tb_opts *o)
{
	peer_stop(c);
	for (unsigned i = 0; c->data && i < c->n; ++i) {
		if (c->data[i] >= 0)
			close(c->data[i]);
	}
	for (unsigned k = 0; c->allocs && k < o->allocs; ++k)
		tb_turn_close(&c->allocs[k]);
	free(c->allocs);
	free(c->data);
}


/*
 * Bridge b more connections through allocation t (RFC 6062 4.5): the
 * peer process connects b times to the relayed address, each
 * ConnectionAttempt gets its data connection and ConnectionBind in
 * arrival order, then the b answers are read: b binds in flight.
 */
static int conns_batch(struct conns *c, struct tb_turn *t, unsigned b)
{
	uint32_t connid;
	unsigned k;
	int err;

	err = peer_call(c, PEER_CONNECT, 0, b, &t->relayed);
	for (k = 0; k < b && !err; ++k) {
		err = tb_turn_attempt_wait(t, &connid, NULL);
		if (!err)
			err = tb_turn_bind_send(t, connid, &c->data[c->n + k]);
	}
	for (unsigned j = 0; j < k && !err; ++j)
		err = tb_turn_bind_recv(c->data[c->n + j]);
	c->n += k; /* the data connections opened, bound or not */
	return err;
}


/* One byte each way over connections first..first+n-1; 0 if all passed */
static int conns_verify(struct conns *c, unsigned first, unsigned n)
{
	uint8_t b = 'p';
	int err;

	err = peer_call(c, PEER_SEND, first, n, NULL);
	for (unsigned i = first; i < first + n && !err; ++i) {
		err = tb_read_full(c->data[i], &b, 1);
		if (!err)
			err = tb_write_full(c->data[i], &b, 1);
	}
	if (!err)
		err = peer_call(c, PEER_RECV, first, n, NULL);
	return err;
}


/*
 * After the first batch has carried data (a server may set up per-
 * connection resources, such as splice pipes, only then): how many
 * connections fit under the server's open-file limit
 */
static void conns_cap(struct conns *c, const struct tb_opts *o, long fds0)
{
	long limit = tb_proc_limit_nofile(o->server_pid);
	long fds;
	double per;
	long fit;

	if (conns_verify(c, 0, c->n))
		return; /* the final verification reports it */
	fds = tb_proc_fds(o->server_pid);
	if (limit <= 0 || fds0 < 0 || fds <= fds0 || !c->n)
		return;
	per = (double)(fds - fds0) / c->n;
	c->fds_per_conn = per;
	fit = (long)((double)(limit - fds0 - 64) / per);
	if (fit >= (long)c->target)
		return;
	c->target = fit > (long)c->n ? (unsigned)fit : c->n;
	c->fd_limit = limit;
	fprintf(stderr, "turnbench: conns: capped at %u: the server's "
		"open-file limit is %ld and it uses %.1f fds per bridged "
		"connection\n", c->target, limit, per);
}


static int conns_bridge(struct conns *c, const struct tb_opts *o,
			long fds0)
{
	int err = 0;

	for (unsigned k = 0; k < o->allocs && !err; ++k) {
		while (!err) {
			unsigned target = (unsigned)((uint64_t)(k + 1) *
						     c->target / o->allocs);
			unsigned b = target > c->n ? target - c->n : 0;

			if (!b)
				break;
			err = conns_batch(c, &c->allocs[k],
					  b < TB_BATCH ? b : TB_BATCH);
			if (c->n == TB_BATCH)
				conns_cap(c, o, fds0);
		}
	}
	return err;
}




struct mem_sample {
	long rss, priv, fds; /* kB, kB, count */
	double cpu;
};


static void mem_take(int pid, struct mem_sample *m)
{
	m->rss = tb_proc_status_kb(pid, "VmRSS");
	m->priv = tb_proc_private_kb(pid);
	m->fds = tb_proc_fds(pid);
	m->cpu = tb_proc_cpu(pid);
}


static void conns_print(const struct tb_opts *o, const struct conns *c,
			unsigned verified, double setup_s,
			const struct mem_sample *m0,
			const struct mem_sample *m1)
{
	double n = c->n ? c->n : 1;

	printf("RESULT mode=conns label=%s conns=%u of=%u allocs=%u "
	       "verified=%u setup_s=%.2f per_s=%.0f rss_kb_before=%ld "
	       "rss_kb_after=%ld rss_b_per_conn=%.0f priv_b_per_conn=%.0f "
	       "fds_before=%ld fds_after=%ld fds_per_conn=%.1f "
	       "capped_by_fd_limit=%ld server_cpu_s=%.2f\n",
	       o->label, c->n, o->conns, o->allocs, verified, setup_s,
	       setup_s > 0 ? c->n / setup_s : 0, m0->rss, m1->rss,
	       (double)(m1->rss - m0->rss) * 1024 / n,
	       (double)(m1->priv - m0->priv) * 1024 / n, m0->fds, m1->fds,
	       c->fds_per_conn, c->fd_limit,
	       m0->cpu < 0 ? -1 : m1->cpu - m0->cpu);
}


/** conns: hold o->conns bridged connections; memory and fds per conn */
int tb_mode_conns(const struct tb_opts *o)
{
	struct mem_sample m0, m1, m2;
	struct conns c = {0};
	unsigned verified = 0;
	double t0, setup_s;
	int err, verr;

	tb_raise_nofile(o->conns + 2 * o->allocs + 256);
	err = conns_open(&c, o);
	usleep(200000); /* let the server settle before the baseline */
	mem_take(o->server_pid, &m0);
	t0 = tb_now();
	if (!err)
		err = conns_bridge(&c, o, m0.fds);
	setup_s = tb_now() - t0;
	if (err)
		fprintf(stderr, "turnbench: conns: after %u: %s\n", c.n,
			strerror(err));
	verr = conns_verify(&c, 0, c.n);
	verified = verr ? 0 : c.n;
	if (verr)
		fprintf(stderr, "turnbench: conns: verify: %s\n",
			strerror(verr));
	usleep(200000);
	mem_take(o->server_pid, &m1);
	conns_print(o, &c, verified, setup_s, &m0, &m1);
	conns_close(&c, o);
	sleep(1);
	mem_take(o->server_pid, &m2);
	printf("after close: server rss_kb=%ld fds=%ld\n", m2.rss, m2.fds);
	return err ? err : verr;
}
