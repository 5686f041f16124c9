/**
 * @file turnbench.c  turnbench: RFC 6062 TURN-TCP benchmark client.
 *
 *   turnbench probe      --server A:P --user U --pass P
 *   turnbench throughput [--direct] --peer A:P [--bytes N] [--seconds S]
 *   turnbench setup      [--direct] --peer A:P [--count N]
 *   turnbench alloc      [--count N] [--clients N]
 *   turnbench conns      [--conns N] [--allocs N]
 *
 * --pid PID names the server process whose CPU time (and, in conns mode,
 * RSS and fds) is read from /proc around the measured part. Results end
 * in one "RESULT mode=... label=..." line; errors go to stderr and make
 * the exit status non-zero. bench/turn.sh runs it; see docs/BENCHMARKS.md.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "turnbench.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: turnbench MODE [options]\n"
		"MODE: probe, throughput, setup, alloc or conns\n"
		"  -s, --server A:P   TURN server, TCP    (127.0.0.1:3478)\n"
		"  -P, --peer A:P     peer listener       (127.0.0.1:30010)\n"
		"  -u, --user NAME    long-term user      (cms)\n"
		"  -w, --pass PASS    its password        (cmssecret)\n"
		"  -D, --direct       no relay: the same flow over plain TCP\n"
		"  -b, --bytes N[KMG] throughput: bytes to send (2G)\n"
		"  -t, --seconds S    throughput: at most this long (15)\n"
		"  -W, --write N[KMG] throughput: write size (64K)\n"
		"  -n, --count N      setup: connections (500); alloc: cycles "
		"(2000)\n"
		"  -c, --clients N    alloc: parallel clients (1)\n"
		"  -C, --conns N      conns: bridged connections (10000)\n"
		"  -A, --allocs N     conns: allocations they use (10)\n"
		"  -p, --pid PID      server process for CPU/RSS/fd figures\n"
		"  -l, --label NAME   system name in the RESULT line\n"
		"  -T, --timeout S    give up after S seconds (120)\n");
}


static void opts_default(struct tb_opts *o)
{
	memset(o, 0, sizeof(*o));
	sw_sa_parse(&o->server, "127.0.0.1", 3478);
	sw_sa_parse(&o->peer, "127.0.0.1", 30010);
	o->user = "cms";
	o->pass = "cmssecret";
	o->bytes = 2ull << 30;
	o->seconds = 15;
	o->wsize = 64 * 1024;
	o->count = 0;
	o->clients = 1;
	o->conns = 10000;
	o->allocs = 10;
	o->label = "server";
	o->timeout = 120;
}


static int opt_one(struct tb_opts *o, int c, const char *arg)
{
	uint64_t v;
	int err = 0;

	switch (c) {
	case 's': err = sw_sa_parse(&o->server, arg, 3478); break;
	case 'P': err = sw_sa_parse(&o->peer, arg, 30010); break;
	case 'u': o->user = arg; break;
	case 'w': o->pass = arg; break;
	case 'D': o->direct = true; break;
	case 'b': err = tb_parse_size(arg, 1ull << 40, &o->bytes); break;
	case 't': o->seconds = atof(arg); err = o->seconds > 0 ? 0 : EINVAL;
		  break;
	case 'W': err = tb_parse_size(arg, 1ull << 40, &v);
		  err = err || v > (64u << 20) ? EINVAL : 0;
		  o->wsize = (size_t)v;
		  break;
	case 'n': err = tb_parse_uint(arg, 1000000000, &o->count); break;
	case 'c': err = tb_parse_uint(arg, 1000000000, &o->clients); break;
	case 'C': err = tb_parse_uint(arg, 1000000000, &o->conns); break;
	case 'A': err = tb_parse_uint(arg, 1000000000, &o->allocs); break;
	case 'p': o->server_pid = atoi(arg); break;
	case 'l': o->label = arg; break;
	case 'T': err = tb_parse_uint(arg, 1000000000, &o->timeout); break;
	default: err = EINVAL; break;
	}
	return err;
}


static int opts_parse(struct tb_opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{"server", 1, NULL, 's'},  {"peer", 1, NULL, 'P'},
		{"user", 1, NULL, 'u'},    {"pass", 1, NULL, 'w'},
		{"direct", 0, NULL, 'D'},  {"bytes", 1, NULL, 'b'},
		{"seconds", 1, NULL, 't'}, {"write", 1, NULL, 'W'},
		{"count", 1, NULL, 'n'},   {"clients", 1, NULL, 'c'},
		{"conns", 1, NULL, 'C'},   {"allocs", 1, NULL, 'A'},
		{"pid", 1, NULL, 'p'},     {"label", 1, NULL, 'l'},
		{"timeout", 1, NULL, 'T'},
		{NULL, 0, NULL, 0},
	};
	int c;

	opts_default(o);
	if (argc < 2 || argv[1][0] == '-')
		return EINVAL;
	o->mode = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "s:P:u:w:Db:t:W:n:c:C:A:p:l:T:",
				lo, NULL)) != -1) {
		if (opt_one(o, c, optarg)) {
			fprintf(stderr, "turnbench: bad option -%c %s\n", c,
				optarg ? optarg : "");
			return EINVAL;
		}
	}
	if (!o->count)
		o->count = strcmp(o->mode, "alloc") ? 500 : 2000;
	if (optind != argc || !o->clients || !o->allocs ||
	    o->allocs > o->conns || o->clients > o->count)
		return EINVAL;
	return 0;
}


int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(const struct tb_opts *o);
	} modes[] = {
		{"probe", tb_mode_probe},   {"throughput", tb_mode_throughput},
		{"setup", tb_mode_setup},   {"alloc", tb_mode_alloc},
		{"conns", tb_mode_conns},
	};
	struct tb_opts o;

	if (argc == 2 && (!strcmp(argv[1], "--help") ||
			  !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	if (opts_parse(&o, argc, argv)) {
		usage(stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	tb_alarm("turnbench: run timed out\n", o.timeout);
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); ++i) {
		if (!strcmp(o.mode, modes[i].name))
			return modes[i].run(&o) ? 1 : 0;
	}
	fprintf(stderr, "turnbench: unknown mode %s\n", o.mode);
	usage(stderr);
	return 2;
}
