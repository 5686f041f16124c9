/**
 * @file cli_common.c  Shared helpers of the call-log and live-state
 * commands (see cli_common.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_common.h"
#include "sw_callstore.h"
#include "sw_cluster.h"
#include "sw_conf.h"
#include "sw_ctl.h"


/**
 * The control socket and call-log paths: from the configuration (-c),
 * with -s overriding state_dir as sharewayd --state-dir does. With -s and
 * no readable configuration, the default names under STATE_DIR are used.
 * With neither, SW_CONF_DEFAULT's, or where there is none every key's
 * default: those of a daemon started with the default state_dir (`make
 * run` as root).
 */
int cli_paths(const struct cli_env *env, struct cli_paths *p)
{
	static struct sw_conf conf;
	char err[512];
	int e;

	if (env->conf_given || env->state_dir)
		e = sw_conf_load(&conf, env->conf_path, err, sizeof(err));
	else
		e = sw_conf_load_default(&conf, err, sizeof(err));
	if (e) {
		if (!env->state_dir) {
			fprintf(stderr, "shareway: %s\n", err);
			return CLI_FAIL;
		}
		sw_conf_defaults(&conf);
	}
	if (env->state_dir)
		sw_conf_set_state_dir(&conf, env->state_dir);
	snprintf(p->socket, sizeof(p->socket), "%s", conf.control_socket);
	snprintf(p->calllog, sizeof(p->calllog), "%s", conf.calllog_path);
	p->cluster = conf.cluster_enable;
	snprintf(p->conninfo, sizeof(p->conninfo), "%s",
		 conf.cluster_conninfo);
	return CLI_OK;
}


/** Connect to the cluster's PostgreSQL ([cluster] of the configuration);
 *  on failure say why on stderr */
int cli_cluster_open(const struct cli_env *env, struct pg_conn **pgp)
{
	struct cli_paths p;
	char err[512];

	if (cli_paths(env, &p))
		return CLI_FAIL;
	if (!p.cluster || !p.conninfo[0]) {
		fprintf(stderr, "shareway: --cluster: this configuration has "
			"no [cluster] (enable = yes, conninfo = ...)\n");
		return CLI_FAIL;
	}
	if (sw_cluster_read_open(pgp, p.conninfo, err, sizeof(err))) {
		fprintf(stderr, "shareway: PostgreSQL: %s\n", err);
		return CLI_FAIL;
	}
	return CLI_OK;
}


/** Open the call log read-only; on failure say why on stderr */
int cli_db_open(const struct cli_env *env, struct sw_callstore **dbp)
{
	struct cli_paths p;
	char err[512];

	if (cli_paths(env, &p))
		return CLI_FAIL;
	if (sw_callstore_open(dbp, p.calllog, false, err, sizeof(err))) {
		fprintf(stderr, "shareway: cannot read the call log: %s\n", err);
		return CLI_FAIL;
	}
	return CLI_OK;
}


/**
 * Find a call by tag, number or Call-ID in the call log and load it;
 * errors on stderr
 *
 * @return CLI_OK with *recp set (the caller frees it), or CLI_FAIL
 */
int cli_load_call(const struct cli_env *env, const char *key,
		  struct sw_callrec **recp)
{
	struct sw_callstore *db;
	int err;

	if (cli_db_open(env, &db))
		return CLI_FAIL;
	err = sw_callstore_get(db, key, SW_PART_ALL, recp);
	sw_callstore_close(db);
	if (err == ENOENT) {
		fprintf(stderr, "shareway: no call '%s' in the call log (a tag "
			"such as c-42, its number, or a Call-ID)\n", key);
		return CLI_FAIL;
	}
	if (err) {
		fprintf(stderr, "shareway: cannot load call '%s': %s\n", key,
			strerror(err));
		return CLI_FAIL;
	}
	return CLI_OK;
}


/**
 * The whole of a command `CMD [--json] CALL` that prints one call as text
 * (to stdout) or as JSON
 *
 * @return the command's exit code
 */
int cli_call_run(const struct cli_env *env, int argc, char **argv,
		 const char *usage,
		 void (*text)(FILE *f, const struct sw_callrec *r),
		 void (*json)(const struct sw_callrec *r))
{
	struct sw_callrec *rec;
	const char *key = NULL;
	bool as_json = false;

	if (cli_is_help(argc, argv))
		return cli_usage(stdout, usage, CLI_OK);
	for (int i = 1; i < argc; ++i) {
		if (!strcmp(argv[i], "--json"))
			as_json = true;
		else if (argv[i][0] == '-' || key)
			return cli_usage(stderr, usage, CLI_USAGE);
		else
			key = argv[i];
	}
	if (!key)
		return cli_usage(stderr, usage, CLI_USAGE);
	if (cli_load_call(env, key, &rec))
		return CLI_FAIL;
	if (as_json)
		json(rec);
	else
		text(stdout, rec);
	sw_callrec_free(rec);
	return CLI_OK;
}


/**
 * Ask the daemon; prints why it failed unless quiet
 *
 * @return CLI_OK with *resultp set, or CLI_FAIL
 */
int cli_ctl(const struct cli_env *env, const char *cmd, const char *args,
	    struct sw_jval **resultp, bool quiet)
{
	struct cli_paths p;
	char err[512];

	if (cli_paths(env, &p))
		return CLI_FAIL;
	if (sw_ctl_request(p.socket, cmd, args, CLI_CTL_TIMEOUT_MS, resultp,
			   err, sizeof(err))) {
		if (!quiet && !strncmp(err, "unknown command", 15))
			fprintf(stderr, "shareway: sharewayd does not answer "
				"'%s' (the module that provides it is not "
				"running in this daemon)\n", cmd);
		else if (!quiet)
			fprintf(stderr, "shareway: %s\n", err);
		return CLI_FAIL;
	}
	return CLI_OK;
}


/**
 * The start of a command `CMD [--json]` that shows sharewayd's answer to
 * cmd: the help, usage errors, asking the daemon
 *
 * @return CLI_OK with *resultp set (the caller frees it); else the exit
 *         code, with *resultp NULL (CLI_OK when the help was printed)
 */
int cli_ctl_cmd(const struct cli_env *env, int argc, char **argv,
		const char *usage, const char *cmd, bool *jsonp,
		struct sw_jval **resultp)
{
	*resultp = NULL;
	*jsonp = argc == 2 && !strcmp(argv[1], "--json");
	if (cli_is_help(argc, argv))
		return cli_usage(stdout, usage, CLI_OK);
	if (argc > 2 || (argc == 2 && !*jsonp))
		return cli_usage(stderr, usage, CLI_USAGE);
	if (cli_ctl(env, cmd, NULL, resultp, false)) {
		*resultp = NULL;
		return CLI_FAIL;
	}
	return CLI_OK;
}


bool cli_is_help(int argc, char **argv)
{
	for (int i = 1; i < argc; ++i)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return true;
	return false;
}


int cli_usage(FILE *f, const char *text, int code)
{
	fputs(text, f);
	return code;
}


void cli_json_print(struct sw_json *j)
{
	if (sw_json_finish(j)) {
		fprintf(stderr, "shareway: out of memory\n");
		return;
	}
	fputs(j->buf, stdout);
	fputc('\n', stdout);
}


/** Display width: one column per UTF-8 character */
size_t cli_width(const char *s)
{
	size_t n = 0;

	for (; s && *s; ++s)
		if (((unsigned char)*s & 0xc0) != 0x80)
			++n;
	return n;
}


/**
 * Print s in exactly width columns: padded with spaces, or cut with "…"
 * (on a character boundary) when longer
 */
void cli_cell(FILE *f, const char *s, size_t width, bool right)
{
	size_t w = cli_width(s ? s : ""), n = 0;
	const char *p = s ? s : "";

	if (w <= width) {
		if (right)
			fprintf(f, "%*s", (int)(width - w), "");
		fputs(p, f);
		if (!right)
			fprintf(f, "%*s", (int)(width - w), "");
		return;
	}
	if (!width)
		return;
	while (*p && n < width - 1) {
		fputc(*p++, f);
		while (((unsigned char)*p & 0xc0) == 0x80)
			fputc(*p++, f);
		++n;
	}
	fputs("…", f);
}


/**
 * Local time: "11-23 08:03:51" or, with date, "2026-11-23 08:03:51.600
 * UTC"; "-" for 0
 */
const char *cli_fmt_time(int64_t us, char *buf, size_t sz, bool date)
{
	time_t s = (time_t)(us / 1000000);
	struct tm tm;
	size_t n;

	if (!us) {
		snprintf(buf, sz, "-");
		return buf;
	}
	localtime_r(&s, &tm);
	if (!date) {
		strftime(buf, sz, "%m-%d %H:%M:%S", &tm);
		return buf;
	}
	n = strftime(buf, sz, "%Y-%m-%d %H:%M:%S", &tm);
	n += (size_t)snprintf(buf + n, sz > n ? sz - n : 0, ".%03d ",
			      (int)(us % 1000000 / 1000));
	if (n < sz)
		strftime(buf + n, sz - n, "%Z", &tm);
	return buf;
}


/** Seconds relative to a reference with milliseconds: "+183.012" */
const char *cli_fmt_rel(int64_t us, char *buf, size_t sz)
{
	int64_t ms = us / 1000;

	snprintf(buf, sz, "%s%" PRId64 ".%03" PRId64, ms < 0 ? "-" : "+",
		 (ms < 0 ? -ms : ms) / 1000, (ms < 0 ? -ms : ms) % 1000);
	return buf;
}


/**
 * "90s", "15m", "1h", "2d", "1w" (a bare number is seconds)
 *
 * @return 0 or EINVAL
 */
int cli_parse_duration(const char *s, int64_t *us)
{
	char *end;
	long long v;
	int64_t unit;

	if (!s || !*s)
		return EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || v < 0 || v > 100000000)
		return EINVAL;
	switch (*end) {
	case '\0': case 's': unit = 1; break;
	case 'm': unit = 60; break;
	case 'h': unit = 3600; break;
	case 'd': unit = 86400; break;
	case 'w': unit = 7 * 86400; break;
	default: return EINVAL;
	}
	if (*end && end[1])
		return EINVAL;
	*us = (int64_t)v * unit * 1000000;
	return 0;
}


/**
 * Now in microseconds; SHAREWAY_NOW (seconds since the epoch) pins it so
 * that output about calls in progress is reproducible in tests
 */
int64_t cli_now(void)
{
	const char *e = getenv("SHAREWAY_NOW");
	struct timespec ts;

	if (e && *e)
		return strtoll(e, NULL, 10) * 1000000;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}


/* Print one line of text from p (no newline inside), wrapped at
 * CLI_WIDTH on spaces, continuation lines indented */
static void wrap_line(FILE *f, const char *p, size_t len, size_t indent,
		      size_t col)
{
	while (len) {
		size_t room = CLI_WIDTH > col ? CLI_WIDTH - col : 1, take = 0;
		size_t w = 0, i = 0, last_sp = 0;

		/* take as many characters as fit, breaking at a space */
		while (i < len && w < room) {
			if (p[i] == ' ')
				last_sp = i;
			++i;
			while (i < len && ((unsigned char)p[i] & 0xc0) == 0x80)
				++i;
			++w;
		}
		take = i == len || !last_sp ? i : last_sp;
		{
			size_t out = take;

			while (out && p[out - 1] == ' ')
				--out;
			fwrite(p, 1, out, f);
		}
		fputc('\n', f);
		p += take;
		len -= take;
		while (len && *p == ' ') {
			++p;
			--len;
		}
		if (len)
			fprintf(f, "%*s", (int)indent, "");
		col = indent;
	}
}


/**
 * "label      text" with label padded to indent columns and text wrapped
 * to CLI_WIDTH; each '\n' in text starts a new indented line
 */
void cli_wrap(FILE *f, const char *label, const char *text, size_t indent)
{
	const char *p = text ? text : "-";
	size_t col = cli_width(label);

	fputs(label, f);
	if (col < indent) {
		fprintf(f, "%*s", (int)(indent - col), "");
		col = indent;
	}
	else {
		fputc(' ', f);
		++col;
	}
	for (;;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		if (len)
			wrap_line(f, p, len, indent, col);
		else
			fputc('\n', f);
		if (!nl || !nl[1])
			break;
		p = nl + 1;
		fprintf(f, "%*s", (int)indent, "");
		col = indent;
	}
}


static void scalar(FILE *f, const struct sw_jval *v)
{
	switch (v->type) {
	case SW_JSTR: fputs(v->str, f); break;
	case SW_JNUM:
		if (v->num == (double)(int64_t)v->num)
			fprintf(f, "%" PRId64, (int64_t)v->num);
		else
			fprintf(f, "%g", v->num);
		break;
	case SW_JBOOL: fputs(v->b ? "yes" : "no", f); break;
	case SW_JNULL: fputs("-", f); break;
	default: fputs("[...]", f); break;
	}
}


/**
 * Print a JSON tree as "a.b.c  value" lines (arrays as a.b[0].c), the
 * names padded to a common column
 */
void cli_json_flatten(FILE *f, const struct sw_jval *v, const char *prefix)
{
	char name[256];
	unsigned i = 0;

	if (v->type != SW_JOBJ && v->type != SW_JARR) {
		fprintf(f, "%-44s ", prefix);
		scalar(f, v);
		fputc('\n', f);
		return;
	}
	for (const struct sw_jval *c = v->child; c; c = c->next, ++i) {
		if (v->type == SW_JOBJ)
			snprintf(name, sizeof(name), "%s%s%s", prefix,
				 *prefix ? "." : "", c->key ? c->key : "?");
		else
			snprintf(name, sizeof(name), "%s[%u]", prefix, i);
		cli_json_flatten(f, c, name);
	}
}


/** Print the daemon's JSON answer (pretty) */
void cli_jval_print(const struct sw_jval *v)
{
	struct sw_json j;

	sw_json_init(&j, true);
	cli_jval_write(&j, NULL, v);
	cli_json_print(&j);
	sw_json_free(&j);
}


/** Re-encode a parsed value (key: member name, NULL inside arrays) */
void cli_jval_write(struct sw_json *j, const char *key,
		    const struct sw_jval *v)
{
	switch (v->type) {
	case SW_JSTR: sw_json_str(j, key, v->str); break;
	case SW_JNUM:
		if (v->num == (double)(int64_t)v->num)
			sw_json_int(j, key, (int64_t)v->num);
		else
			sw_json_dbl(j, key, v->num);
		break;
	case SW_JBOOL: sw_json_bool(j, key, v->b); break;
	case SW_JNULL: sw_json_null(j, key); break;
	case SW_JARR:
	case SW_JOBJ:
		if (v->type == SW_JARR)
			sw_json_arr_open(j, key);
		else
			sw_json_obj_open(j, key);
		for (const struct sw_jval *c = v->child; c; c = c->next)
			cli_jval_write(j, v->type == SW_JOBJ ? c->key : NULL,
				       c);
		if (v->type == SW_JARR)
			sw_json_arr_close(j);
		else
			sw_json_obj_close(j);
		break;
	}
}
