/**
 * @file turnbench.h  turnbench: an RFC 6062 TURN-TCP benchmark client.
 *
 * One binary, four modes (throughput, setup, alloc, conns) and a probe;
 * each mode runs against a TURN server or, with --direct, against the
 * same peer without a relay, and ends with one machine-readable line
 * "RESULT key=value ..." that bench/turn.sh turns into a table row.
 * Every blocking call is bounded (socket timeouts, poll, alarm).
 */
#ifndef TURNBENCH_H
#define TURNBENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sw_addr.h"
#include "turn_msg.h"

#define TB_IO_TIMEOUT_MS 10000 /* any single socket wait */
#define TB_MSG_MAX 2048        /* largest STUN message we send or take */

/** Command-line options, read once in main() and never changed */
struct tb_opts {
	const char *mode;
	const char *label;     /* system name printed in RESULT lines */
	struct sw_sa server;   /* TURN server, TCP */
	struct sw_sa peer;     /* the peer's listener (throughput, direct) */
	const char *user;
	const char *pass;
	bool direct;           /* no relay: the same flow over plain TCP */
	uint64_t bytes;        /* throughput: stop after this many */
	double seconds;        /* throughput: or after this long */
	size_t wsize;          /* throughput: write size */
	unsigned count;        /* setup: connections; alloc: cycles */
	unsigned clients;      /* alloc: parallel clients (threads) */
	unsigned conns;        /* conns: bridged connections to hold */
	unsigned allocs;       /* conns: allocations they spread over */
	int server_pid;        /* for CPU/RSS/fd accounting, 0 = none */
	unsigned timeout;      /* s, whole run (alarm) */
};

/** One TURN client session: its control connection and credentials */
struct tb_turn {
	int fd;                /* control connection */
	const struct tb_opts *o;
	char realm[128];
	char nonce[256];
	uint8_t key[16];       /* long-term key, valid once realm known */
	bool have_key;
	struct sw_sa relayed;  /* XOR-RELAYED-ADDRESS of the allocation */
	unsigned auth_retries; /* 401/438 round trips taken */
};

/** A message as received: the bytes and their decoded view */
struct tb_msg {
	uint8_t buf[TB_MSG_MAX];
	size_t len;
	struct turn_msg m;
};

/* tb_net.c: sockets, time and /proc */
double tb_now(void);
int tb_tcp_connect(int *fdp, const struct sw_sa *dst);
int tb_tcp_listen(int *fdp, const struct sw_sa *local, int backlog);
int tb_accept(int lfd, int *fdp, int timeout_ms);
int tb_read_full(int fd, void *buf, size_t n);
int tb_write_full(int fd, const void *buf, size_t n);
int tb_local_port(int fd, uint16_t *port);
void tb_raise_nofile(unsigned want);
void tb_random(void *buf, size_t n);
double tb_proc_cpu(int pid);
long tb_proc_status_kb(int pid, const char *field);
long tb_proc_private_kb(int pid);
long tb_proc_fds(int pid);
long tb_proc_limit_nofile(int pid);
double tb_pctl(double *v, size_t n, double p);
int tb_parse_size(const char *s, uint64_t max, uint64_t *v);
int tb_parse_uint(const char *s, unsigned max, unsigned *v);
void tb_alarm(const char *msg, unsigned secs);

/* tb_turn.c: the RFC 5766/6062 client side */
void tb_turn_init(struct tb_turn *t, const struct tb_opts *o);
int tb_turn_open(struct tb_turn *t);
void tb_turn_close(struct tb_turn *t);
int tb_turn_cycle(struct tb_turn *t, const struct tb_opts *o);
int tb_msg_read(int fd, struct tb_msg *msg);
int tb_turn_allocate(struct tb_turn *t);
int tb_turn_refresh(struct tb_turn *t, uint32_t lifetime);
int tb_turn_permit(struct tb_turn *t, const struct sw_sa *peer);
int tb_turn_connect(struct tb_turn *t, const struct sw_sa *peer,
		    uint32_t *connid);
int tb_turn_bind(struct tb_turn *t, uint32_t connid, int *fdp);
int tb_turn_attempt_wait(struct tb_turn *t, uint32_t *connid,
			 struct sw_sa *peer);
int tb_turn_bind_send(struct tb_turn *t, uint32_t connid, int *fdp);
int tb_turn_bind_recv(int fd);

/* tb_modes.c: one function per mode, 0 on success */
int tb_mode_probe(const struct tb_opts *o);
int tb_mode_throughput(const struct tb_opts *o);
int tb_mode_setup(const struct tb_opts *o);
int tb_mode_alloc(const struct tb_opts *o);
int tb_mode_conns(const struct tb_opts *o);

#endif
