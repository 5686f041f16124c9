/**
 * @file cli_common.h  What the call-log and live-state commands of
 * `shareway` share: finding the socket and the database from the
 * configuration, talking to sharewayd, column output that counts UTF-8
 * characters, times and durations.
 *
 * Exit codes of every command: 0 success, 1 failure (not found, daemon
 * down, unreadable database), 2 usage error.
 */
#ifndef SW_CLI_COMMON_H
#define SW_CLI_COMMON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cli.h"
#include "sw_callrec.h"
#include "sw_json.h"

#define CLI_OK 0
#define CLI_FAIL 1
#define CLI_USAGE 2
#define CLI_WIDTH 100
#define CLI_CTL_TIMEOUT_MS 5000

struct sw_callstore;

struct cli_paths {
	char socket[4096];
	char calllog[4096];
	bool cluster;         /* [cluster] enable */
	char conninfo[512];   /* [cluster] conninfo */
};

struct pg_conn;
int cli_cluster_open(const struct cli_env *env, struct pg_conn **pgp);

int cli_paths(const struct cli_env *env, struct cli_paths *p);
int cli_db_open(const struct cli_env *env, struct sw_callstore **dbp);
int cli_load_call(const struct cli_env *env, const char *key,
		  struct sw_callrec **recp);
int cli_call_run(const struct cli_env *env, int argc, char **argv,
		 const char *usage,
		 void (*text)(FILE *f, const struct sw_callrec *r),
		 void (*json)(const struct sw_callrec *r));
int cli_ctl(const struct cli_env *env, const char *cmd, const char *args,
	    struct sw_jval **resultp, bool quiet);
int cli_ctl_cmd(const struct cli_env *env, int argc, char **argv,
		const char *usage, const char *cmd, bool *jsonp,
		struct sw_jval **resultp);
bool cli_is_help(int argc, char **argv);
int cli_usage(FILE *f, const char *text, int code);
void cli_json_print(struct sw_json *j);

size_t cli_width(const char *s);
void cli_cell(FILE *f, const char *s, size_t width, bool right);
const char *cli_fmt_time(int64_t us, char *buf, size_t sz, bool date);
const char *cli_fmt_rel(int64_t us, char *buf, size_t sz);
int cli_parse_duration(const char *s, int64_t *us);
int64_t cli_now(void);
void cli_wrap(FILE *f, const char *label, const char *text, size_t indent);
void cli_json_flatten(FILE *f, const struct sw_jval *v, const char *prefix);
void cli_jval_write(struct sw_json *j, const char *key,
		    const struct sw_jval *v);
void cli_jval_print(const struct sw_jval *v);

/* the rules in force and the last reload (cli_status.c, also `reload`) */
void cli_rules_print(FILE *f, const struct sw_jval *res);
void cli_drain_print(FILE *f, const char *label, const struct sw_jval *d);

/* the line format of `calls`, shared with `tail` (cli_calls.c) */
#define CLI_RULE_W 10 /* the RULE column's least width */
unsigned cli_calls_rule_width(struct sw_callrec *const *recs, unsigned n);
void cli_calls_header(FILE *f, unsigned rule_w);
void cli_calls_row(FILE *f, struct sw_callstore *db, const struct sw_callrec *rec,
		   unsigned rule_w);
void cli_calls_json_row(struct sw_json *j, struct sw_callstore *db,
			const struct sw_callrec *rec);

#endif
