/**
 * @file tb_flow.c  turnbench modes on one flow: "probe", "throughput"
 * (one stream, client to peer) and "setup" (peer-initiated connection
 * latency, RFC 6062 4.5 ConnectionAttempt → ConnectionBind).
 *
 * The throughput peer is a separate process, so that sender, relay and
 * receiver are three schedulable entities as in a real deployment; it
 * times the stream from its first to its last read.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "turnbench.h"

#define TB_RX_BUF (256 * 1024)
#define TB_RX_IDLE_S 3 /* the stream has ended when nothing comes for this */

/** What the peer process reports through its pipe */
struct rx_report {
	uint64_t bytes;       /* all bytes received */
	uint64_t first_bytes; /* bytes of the first read (not timed) */
	double t_first, t_last;
	int err;
};


/** probe: can an authenticated TCP allocation be made at all? */
int tb_mode_probe(const struct tb_opts *o)
{
	char a[SW_SA_STRLEN];
	struct tb_turn t;
	int err;

	err = tb_turn_cycle(&t, o);
	if (err) {
		printf("PROBE fail: %s\n", strerror(err));
		return err;
	}
	printf("PROBE ok: TCP allocation %s after %u auth round trip(s)\n",
	       sw_sa_str(&t.relayed, a, sizeof(a)), t.auth_retries);
	return 0;
}


static void rx_count(int fd, struct rx_report *rep)
{
	struct timeval tv = {TB_RX_IDLE_S, 0};
	uint8_t *buf = malloc(TB_RX_BUF);

	if (!buf) {
		rep->err = ENOMEM;
		return;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (;;) {
		ssize_t n = read(fd, buf, TB_RX_BUF);
		double now;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		now = tb_now();
		if (!rep->bytes) {
			rep->t_first = now;
			rep->first_bytes = (uint64_t)n;
		}
		rep->t_last = now;
		rep->bytes += (uint64_t)n;
	}
	free(buf);
}


/* The peer process: accept one connection, count what arrives */
static void __attribute__((noreturn)) rx_main(int lfd, int wfd)
{
	struct rx_report rep = {0};
	int fd;

	rep.err = tb_accept(lfd, &fd, TB_IO_TIMEOUT_MS);
	close(lfd);
	if (!rep.err) {
		rx_count(fd, &rep);
		close(fd);
	}
	if (write(wfd, &rep, sizeof(rep)) != (ssize_t)sizeof(rep))
		_exit(1);
	_exit(0);
}


static int rx_start(const struct tb_opts *o, pid_t *pidp, int *rfdp)
{
	int lfd, pfd[2], err;
	pid_t pid;

	err = tb_tcp_listen(&lfd, &o->peer, 4);
	if (err) {
		fprintf(stderr, "turnbench: peer listen: %s\n", strerror(err));
		return err;
	}
	if (pipe2(pfd, O_CLOEXEC)) {
		err = errno;
		close(lfd);
		return err;
	}
	pid = fork();
	if (pid == 0) {
		close(pfd[0]);
		rx_main(lfd, pfd[1]);
	}
	err = pid < 0 ? errno : 0;
	close(lfd);
	close(pfd[1]);
	if (err) {
		close(pfd[0]);
		return err;
	}
	*pidp = pid;
	*rfdp = pfd[0];
	return 0;
}


static int rx_wait(pid_t pid, int rfd, struct rx_report *rep)
{
	struct pollfd p = {rfd, POLLIN, 0};
	int err = 0;

	if (poll(&p, 1, (TB_RX_IDLE_S + 10) * 1000) <= 0 ||
	    read(rfd, rep, sizeof(*rep)) != (ssize_t)sizeof(*rep)) {
		kill(pid, SIGKILL);
		err = ETIMEDOUT;
	}
	close(rfd);
	waitpid(pid, NULL, 0);
	return err ? err : rep->err;
}


/* Allocate, permit, Connect (RFC 6062 4.3), bind: a pipe to the peer */
static int relay_open(struct tb_turn *t, const struct tb_opts *o, int *fdp)
{
	uint32_t connid;
	int err;

	err = tb_turn_open(t);
	if (!err)
		err = tb_turn_allocate(t);
	if (!err)
		err = tb_turn_permit(t, &o->peer);
	if (!err)
		err = tb_turn_connect(t, &o->peer, &connid);
	if (!err)
		err = tb_turn_bind(t, connid, fdp);
	return err;
}


static int blast(int fd, const struct tb_opts *o, uint64_t *sentp)
{
	uint8_t *buf = malloc(o->wsize);
	double end = tb_now() + o->seconds;
	uint64_t sent = 0;
	int err = 0;

	if (!buf)
		return ENOMEM;
	memset(buf, 'x', o->wsize);
	while (sent < o->bytes && tb_now() < end) {
		size_t n = o->wsize;

		if (o->bytes - sent < n)
			n = (size_t)(o->bytes - sent);
		err = tb_write_full(fd, buf, n);
		if (err)
			break;
		sent += n;
	}
	free(buf);
	*sentp = sent;
	return err;
}


static void tput_print(const struct tb_opts *o, const struct rx_report *r,
		       uint64_t sent, double cpu)
{
	double secs = r->t_last - r->t_first;
	double gbps = secs > 0 ? (double)(r->bytes - r->first_bytes) * 8 /
					 secs / 1e9
			       : 0;
	double gb = (double)r->bytes / 1e9;

	printf("RESULT mode=throughput label=%s gbps=%.2f sent=%llu "
	       "received=%llu secs=%.3f wsize=%zu server_cpu_s=%.2f "
	       "server_cpu_s_per_gb=%.2f\n",
	       o->label, gbps, (unsigned long long)sent,
	       (unsigned long long)r->bytes, secs, o->wsize, cpu,
	       cpu >= 0 && gb > 0 ? cpu / gb : -1);
}


/** throughput: one stream client → peer, direct or through the relay */
int tb_mode_throughput(const struct tb_opts *o)
{
	struct rx_report rep = {0};
	struct tb_turn t;
	uint64_t sent = 0;
	int fd = -1, rfd = -1, err;
	double cpu0, cpu1;
	pid_t pid = -1;

	err = rx_start(o, &pid, &rfd);
	if (err)
		return err;
	tb_turn_init(&t, o);
	err = o->direct ? tb_tcp_connect(&fd, &o->peer)
			: relay_open(&t, o, &fd);
	cpu0 = tb_proc_cpu(o->server_pid);
	if (!err)
		err = blast(fd, o, &sent);
	if (fd >= 0)
		close(fd);
	if (err)
		fprintf(stderr, "turnbench: throughput: %s\n", strerror(err));
	err = rx_wait(pid, rfd, &rep) ? EIO : err;
	cpu1 = tb_proc_cpu(o->server_pid);
	tb_turn_close(&t);
	if (!err)
		tput_print(o, &rep, sent, cpu0 < 0 ? -1 : cpu1 - cpu0);
	return err;
}


/* Direct: connect, write one byte, accept, read it */
static int setup_one_direct(int lfd, const struct tb_opts *o, double *lat)
{
	int p = -1, a = -1, err;
	uint8_t b = 'x';
	double t0 = tb_now();

	err = tb_tcp_connect(&p, &o->peer);
	if (!err)
		err = tb_write_full(p, &b, 1);
	if (!err)
		err = tb_accept(lfd, &a, TB_IO_TIMEOUT_MS);
	if (!err)
		err = tb_read_full(a, &b, 1);
	*lat = tb_now() - t0;
	if (p >= 0)
		close(p);
	if (a >= 0)
		close(a);
	return err;
}


/*
 * Through the relay (RFC 6062 4.5): the peer connects to the relayed
 * address and writes one byte at once (the server buffers it until the
 * bind); the client gets ConnectionAttempt, binds a new connection and
 * reads the byte.
 */
static int setup_one_relay(struct tb_turn *t, double *lat)
{
	int p = -1, d = -1, err;
	uint8_t b = 'x';
	uint32_t connid;
	double t0 = tb_now();

	err = tb_tcp_connect(&p, &t->relayed);
	if (!err)
		err = tb_write_full(p, &b, 1);
	if (!err)
		err = tb_turn_attempt_wait(t, &connid, NULL);
	if (!err)
		err = tb_turn_bind(t, connid, &d);
	if (!err)
		err = tb_read_full(d, &b, 1);
	*lat = tb_now() - t0;
	if (p >= 0)
		close(p);
	if (d >= 0)
		close(d);
	return err;
}


static int setup_prepare(const struct tb_opts *o, struct tb_turn *t,
			 int *lfdp)
{
	int err;

	if (o->direct)
		return tb_tcp_listen(lfdp, &o->peer, 16);
	err = tb_turn_open(t);
	if (!err)
		err = tb_turn_allocate(t);
	if (!err)
		err = tb_turn_permit(t, &o->peer);
	return err;
}


static void setup_print(const struct tb_opts *o, double *lat, unsigned n,
			double cpu)
{
	double sum = 0;

	for (unsigned i = 0; i < n; ++i)
		sum += lat[i];
	printf("RESULT mode=setup label=%s n=%u of=%u p50_ms=%.3f "
	       "p99_ms=%.3f mean_ms=%.3f server_cpu_ms_per_conn=%.3f\n",
	       o->label, n, o->count, tb_pctl(lat, n, 0.5) * 1e3,
	       tb_pctl(lat, n, 0.99) * 1e3, n ? sum / n * 1e3 : 0,
	       cpu >= 0 && n ? cpu * 1e3 / n : -1);
}


/** setup: connect-to-first-relayed-byte latency, o->count times */
int tb_mode_setup(const struct tb_opts *o)
{
	double *lat = calloc(o->count, sizeof(*lat));
	double cpu0, cpu1;
	struct tb_turn t;
	unsigned n = 0;
	int lfd = -1, err;

	if (!lat)
		return ENOMEM;
	tb_turn_init(&t, o);
	err = setup_prepare(o, &t, &lfd);
	cpu0 = tb_proc_cpu(o->server_pid);
	while (!err && n < o->count) {
		err = o->direct ? setup_one_direct(lfd, o, &lat[n])
				: setup_one_relay(&t, &lat[n]);
		n += !err;
	}
	cpu1 = tb_proc_cpu(o->server_pid);
	if (err)
		fprintf(stderr, "turnbench: setup: connection %u: %s\n", n + 1,
			strerror(err));
	if (n)
		setup_print(o, lat, n, cpu0 < 0 ? -1 : cpu1 - cpu0);
	tb_turn_close(&t);
	if (lfd >= 0)
		close(lfd);
	free(lat);
	return err;
}
