/**
 * @file cli_tail.c  `shareway tail [-f]`: the last calls to end, in the
 * order they ended, with the verdict under each failed one; -f keeps
 * following the call log (works with the daemon down or restarting).
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_common.h"
#include "sw_callstore.h"

static const char usage_text[] =
	"usage: shareway tail [-f] [-n N] [--json]\n"
	"The last N (default 10) calls to end, oldest first, each with its\n"
	"verdict when it failed.\n"
	"  -f       keep following: print each call when it ends\n"
	"  -n N     how many to start with\n"
	"  --json   one JSON object per line\n";

struct tail_ctx {
	struct sw_callstore *db;
	bool json;
	int64_t last_end;
	struct sw_callrec **rows; /* newest first, printed reversed */
	unsigned n, cap;
};

static volatile sig_atomic_t stop;


static void on_int(int sig)
{
	(void)sig;
	stop = 1;
}


static void print_one(struct tail_ctx *t, const struct sw_callrec *r)
{
	if (r->end_us > t->last_end)
		t->last_end = r->end_us;
	if (t->json) {
		struct sw_json j;

		sw_json_init(&j, false);
		cli_calls_json_row(&j, t->db, r);
		cli_json_print(&j);
		sw_json_free(&j);
	}
	else {
		cli_calls_row(stdout, t->db, r, CLI_RULE_W);
		if (r->failed && r->verdict)
			cli_wrap(stdout, "  ✗", r->verdict, 15);
	}
	fflush(stdout);
}


static int keep_h(const struct sw_callrec *r, void *arg)
{
	struct tail_ctx *t = arg;
	struct sw_callrec *copy;

	if (t->n == t->cap)
		return ENOSPC;
	if (sw_callstore_load(t->db, r->id, SW_PART_FACTS, &copy))
		return EIO;
	t->rows[t->n++] = copy;
	return 0;
}


static int print_h(const struct sw_callrec *r, void *arg)
{
	print_one(arg, r);
	return 0;
}


static int first(struct tail_ctx *t, unsigned n)
{
	struct sw_callstore_query q = {.ended_after_us = 1, .limit = n,
				     .newest_first = true, .by_end = true};
	int err;

	t->rows = calloc(n ? n : 1, sizeof(*t->rows));
	if (!t->rows)
		return ENOMEM;
	t->cap = n;
	err = n ? sw_callstore_list(t->db, &q, keep_h, t) : 0;
	for (unsigned i = t->n; i-- > 0;) {
		if (!err)
			print_one(t, t->rows[i]);
		sw_callrec_free(t->rows[i]);
	}
	free(t->rows);
	return err;
}


static int follow(struct tail_ctx *t)
{
	struct timespec half = {0, 500000000};
	int err = 0;

	signal(SIGINT, on_int);
	signal(SIGTERM, on_int);
	if (!t->last_end)
		t->last_end = cli_now();
	while (!stop && !err) {
		struct sw_callstore_query q = {.ended_after_us = t->last_end,
					     .by_end = true};

		err = sw_callstore_list(t->db, &q, print_h, t);
		if (!err)
			nanosleep(&half, NULL);
	}
	return err;
}


static int run(const struct cli_env *env, int argc, char **argv)
{
	struct tail_ctx t = {0};
	bool f = false;
	unsigned n = 10;
	int err;

	if (cli_is_help(argc, argv))
		return cli_usage(stdout, usage_text, CLI_OK);
	for (int i = 1; i < argc; ++i) {
		char *end = NULL;

		if (!strcmp(argv[i], "-f"))
			f = true;
		else if (!strcmp(argv[i], "--json"))
			t.json = true;
		else if (!strcmp(argv[i], "-n") && i + 1 < argc)
			n = (unsigned)strtoul(argv[++i], &end, 10);
		else
			return cli_usage(stderr, usage_text, CLI_USAGE);
		if (end && (*end || end == argv[i] || n > 100000))
			return cli_usage(stderr, usage_text, CLI_USAGE);
	}
	if (cli_db_open(env, &t.db))
		return CLI_FAIL;
	if (!t.json)
		cli_calls_header(stdout, CLI_RULE_W);
	err = first(&t, n);
	if (!err && f)
		err = follow(&t);
	sw_callstore_close(t.db);
	if (err)
		fprintf(stderr, "shareway: reading the call log: %s\n",
			strerror(err));
	return err ? CLI_FAIL : CLI_OK;
}

const struct cli_cmd cli_cmd_tail = {"tail", "the last calls to end; -f "
				     "follows", run};
