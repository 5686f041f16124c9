/**
 * @file cli_stats.c  `shareway stats`: the daemon's live counters (call
 * log writer, TURN, and whatever other modules report) and, from the call
 * log, the last hour and day: calls, calls per second, failures by final
 * code, 491 glare retries, relay, ConnectionBind and ICE failures.
 * Needs the daemon: exit 1 with a clear message when it is not running.
 */
#include <inttypes.h>
#include <string.h>

#include "cli_common.h"
#include "sw_calllog.h"

static const char usage_text[] =
	"usage: shareway stats [--json]\n"
	"Live counters from sharewayd (call-log writer, TURN, ...) and, from\n"
	"the call log, the last hour and day: calls, calls per second,\n"
	"final codes >= 300, 491 retries, relay / ConnectionBind / ICE\n"
	"failures.\n"
	"  --json   {\"daemon\": {...}, \"history\": {...}}\n";

#define IN_PERIOD " call IN (SELECT id FROM calls WHERE start_us >= ?1)"

static const struct {
	const char *name;
	const char *sql;
} db_counters[] = {
	{"calls", "SELECT COUNT(*) FROM calls WHERE start_us >= ?1"},
	{"failed", "SELECT COUNT(*) FROM calls WHERE failed = 1 AND"
		   " start_us >= ?1"},
	{"synthetic", "SELECT COUNT(*) FROM calls WHERE synthetic = 1 AND"
		      " start_us >= ?1"},
	{"glare_491_retries", "SELECT COALESCE(SUM(retries_491), 0) FROM"
			      " reinvite WHERE" IN_PERIOD},
	{"relay_alloc_failures", "SELECT COUNT(*) FROM relays WHERE alloc_us"
				 " IS NULL AND error_code IS NOT NULL AND"
				 IN_PERIOD},
	{"connectionbind_failures", "SELECT COUNT(*) FROM conns WHERE"
				    " bind_code IS NOT NULL AND bind_code !="
				    " 200 AND" IN_PERIOD},
	{"ice_e2c_failures", "SELECT COUNT(*) FROM ice WHERE dir = 0 AND"
			     " state = 4 AND" IN_PERIOD},
	{"ice_c2e_failures", "SELECT COUNT(*) FROM ice WHERE dir = 1 AND"
			     " state = 4 AND" IN_PERIOD},
};


static int64_t db_count(sqlite3 *db, const char *sql, int64_t since)
{
	sqlite3_stmt *st;
	int64_t n = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL))
		return -1;
	sqlite3_bind_int64(st, 1, since);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}


static void by_code(struct sw_json *j, sqlite3 *db, int64_t since)
{
	sqlite3_stmt *st;
	char code[8];

	sw_json_obj_open(j, "non_2xx_by_code");
	if (sqlite3_prepare_v2(db, "SELECT final_code, COUNT(*) FROM calls"
			       " WHERE start_us >= ?1 AND final_code >= 300"
			       " GROUP BY final_code ORDER BY 2 DESC, 1",
			       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, since);
		while (sqlite3_step(st) == SQLITE_ROW) {
			snprintf(code, sizeof(code), "%d",
				 sqlite3_column_int(st, 0));
			sw_json_int(j, code, sqlite3_column_int64(st, 1));
		}
		sqlite3_finalize(st);
	}
	sw_json_obj_close(j);
}


static void period(struct sw_json *j, sqlite3 *db, const char *name,
		   int64_t span_us)
{
	int64_t since = cli_now() - span_us;

	sw_json_obj_open(j, name);
	for (size_t i = 0; i < sizeof(db_counters) / sizeof(db_counters[0]);
	     ++i)
		sw_json_int(j, db_counters[i].name,
			    db_count(db, db_counters[i].sql, since));
	sw_json_dbl(j, "cps_last_minute",
		    (double)db_count(db, db_counters[0].sql,
				     cli_now() - 60000000) / 60.0);
	by_code(j, db, since);
	sw_json_obj_close(j);
}


/* The call-log part: skipped with a note when the file is unreadable */
static void history(const struct cli_env *env, struct sw_json *j)
{
	sqlite3 *db;

	if (cli_db_open(env, &db)) {
		sw_json_null(j, "history");
		return;
	}
	sw_json_obj_open(j, "history");
	period(j, db, "last_hour", 3600LL * 1000000);
	period(j, db, "last_day", 86400LL * 1000000);
	sw_json_obj_close(j);
	sqlite3_close(db);
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
