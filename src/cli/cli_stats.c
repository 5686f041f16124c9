/**
 * @file cli_stats.c  `shareway stats`: the daemon's live counters (call
 * log writer, TURN, and whatever other modules report) and, from the call
 * log, the last hour and day: calls, calls per second, failures by final
 * code, 491 glare retries, relay, ConnectionBind and ICE failures.
 * Needs the daemon: exit 1 with a clear message when it is not running.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"
#include "sw_callstore.h"

static const char usage_text[] =
	"usage: shareway stats [--json]\n"
	"Live counters from sharewayd (call-log writer, TURN, ...) and, from\n"
	"the call log, the last hour and day: calls, calls per second,\n"
	"final codes >= 300, 491 retries, relay / ConnectionBind / ICE\n"
	"failures.\n"
	"  --json   {\"daemon\": {...}, \"history\": {...}}\n";

/* The final codes >= 300 and their counts, most frequent first */
struct codes {
	struct {
		int code;
		int64_t calls;
	} *v;
	size_t n, cap;
};


static void code_h(int code, int64_t calls, void *arg)
{
	struct codes *c = arg;

	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		void *v = realloc(c->v, cap * sizeof(*c->v));

		if (!v)
			return;
		c->v = v;
		c->cap = cap;
	}
	c->v[c->n].code = code;
	c->v[c->n++].calls = calls;
}


static void period(struct sw_json *j, struct sw_callstore *db,
		   const char *name, int64_t span_us)
{
	struct sw_callstore_counts c, last_minute;
	struct codes codes = {0};
	char code[16];

	sw_callstore_counts(db, cli_now() - span_us, &c, code_h, &codes);
	sw_callstore_counts(db, cli_now() - 60000000, &last_minute, NULL,
			    NULL);
	sw_json_obj_open(j, name);
#define COUNT_JSON(f, what) sw_json_int(j, #f, c.f);
	SW_CALLSTORE_COUNTS(COUNT_JSON)
#undef COUNT_JSON
	sw_json_dbl(j, "cps_last_minute", (double)last_minute.calls / 60.0);
	sw_json_obj_open(j, "non_2xx_by_code");
	for (size_t i = 0; i < codes.n; ++i) {
		snprintf(code, sizeof(code), "%d", codes.v[i].code);
		sw_json_int(j, code, codes.v[i].calls);
	}
	sw_json_obj_close(j);
	sw_json_obj_close(j);
	free(codes.v);
}


/* The call-log part: skipped with a note when the file is unreadable */
static void history(const struct cli_env *env, struct sw_json *j)
{
	struct sw_callstore *db;

	if (cli_db_open(env, &db)) {
		sw_json_null(j, "history");
		return;
	}
	sw_json_obj_open(j, "history");
	period(j, db, "last_hour", 3600LL * 1000000);
	period(j, db, "last_day", 86400LL * 1000000);
	sw_json_obj_close(j);
	sw_callstore_close(db);
}


static int run(const struct cli_env *env, int argc, char **argv)
{
	struct sw_jval *res, *all = NULL;
	struct sw_json j;
	bool json;
	int rc;

	rc = cli_ctl_cmd(env, argc, argv, usage_text, "stats", &json, &res);
	if (!res)
		return rc;
	sw_json_init(&j, json);
	sw_json_obj_open(&j, NULL);
	cli_jval_write(&j, "daemon", res);
	history(env, &j);
	sw_json_obj_close(&j);
	if (json)
		cli_json_print(&j);
	else if (sw_json_finish(&j) ||
		 sw_jval_parse(&all, j.buf, j.len))
		rc = CLI_FAIL;
	else
		cli_json_flatten(stdout, all, "");
	sw_jval_free(all);
	sw_jval_free(res);
	sw_json_free(&j);
	return rc;
}

const struct cli_cmd cli_cmd_stats = {"stats", "live counters and call-log "
				      "failure counts", run};
