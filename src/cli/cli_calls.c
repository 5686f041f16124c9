/**
 * @file cli_calls.c  `shareway calls`: one line per call.
 *
 *   TIME           TAG       FROM→TO             RULE       STATE  CODE    DUR MEDIA
 *   11-23 08:03:51 c-1       alice→meet.123456   sfb-to-cms done    200  3m03s AS observe✓ ICE e→c✓ c→e✓
 *
 * A rule name is never cut: the RULE column is as wide as the longest
 * name listed (a name longer than the column on a streamed line pushes
 * the rest of that line right).
 *
 * History comes from the call log (works with the daemon down). With
 * --active the daemon is asked first (its "active" control command);
 * when it is down or does not answer that command, calls with no end in
 * the call log are shown instead.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"
#include "sw_callstore.h"
#include "sw_cluster.h"

static const char usage_text[] =
	"usage: shareway calls [--active] [--since DURATION] [--failed]\n"
	"                      [--rule NAME] [--match TEXT] [--limit N] "
	"[--json]\n"
	"                      [--cluster]\n"
	"One line per call: time, tag, from→to, rule, state, final code,\n"
	"duration, media flags (AS policy + relay, ICE per direction:\n"
	"✓ succeeded, ✗ failed, … in progress).\n"
	"  --active          calls in progress (asks sharewayd; falls back to\n"
	"                    calls with no end in the call log)\n"
	"  --since DURATION  started within DURATION (30s, 15m, 1h, 2d, 1w)\n"
	"  --failed          only calls whose verdict is a failure\n"
	"  --rule NAME       only calls routed by this dial plan rule\n"
	"  --match TEXT      tag, From, To or a Call-ID contains TEXT\n"
	"  --limit N         the newest N calls (default 100 without --since;\n"
	"                    0: no limit)\n"
	"  --json            one JSON document {\"calls\": [...]}\n"
	"  --cluster         the cluster call log in PostgreSQL ([cluster]):\n"
	"                    every instance's calls, tagged INSTANCE/TAG\n";

struct calls_opts {
	struct sw_callstore_query q;
	bool json, active, limit_set, cluster;
};

struct row_ctx {
	struct sw_callstore *db;
	unsigned rule_w;          /* RULE column width */
	struct sw_json *j;        /* --json, else NULL */
	struct sw_callrec **buf;  /* rows kept to print oldest first */
	unsigned n, cap;
};


static const char *short_state(enum sw_call_state s)
{
	static const char *const n[] = {"active", "done",   "reject",
					"cancel", "failed", "lost"};

	return (unsigned)s < sizeof(n) / sizeof(n[0]) ? n[s] : "?";
}


/* "sip:alice@contoso.com;x" -> "alice" (or the host if no user) */
static void uri_user(const char *uri, char *out, size_t sz)
{
	const char *p = uri ? uri : "?", *at, *end;

	if (!strncmp(p, "<", 1))
		++p;
	if (!strncmp(p, "sips:", 5))
		p += 5;
	else if (!strncmp(p, "sip:", 4))
		p += 4;
	end = p + strcspn(p, ";>?");
	at = memchr(p, '@', (size_t)(end - p));
	if (at)
		end = at;
	snprintf(out, sz, "%.*s", (int)(end - p), p);
}


/* Media flags: stored at the end of the call, computed while active */
static void media_of(struct sw_callstore *db, const struct sw_callrec *rec, char *buf,
		     size_t sz)
{
	struct sw_callrec *full = NULL;

	if (rec->media) {
		snprintf(buf, sz, "%s", rec->media);
		return;
	}
	snprintf(buf, sz, "-");
	if (db && sw_callstore_load(db, rec->id, SW_PART_FACTS, &full) == 0)
		sw_callrec_media_flags(full, buf, sz);
	sw_callrec_free(full);
}


static int64_t dur_of(const struct sw_callrec *rec)
{
	return (rec->end_us ? rec->end_us : cli_now()) - rec->start_us;
}


/* The RULE cell: the whole name, padded to width (never cut: an
 * operator greps the log and the rule file for it) */
static void rule_cell(FILE *f, const char *rule, unsigned width)
{
	size_t w = cli_width(rule);

	fputs(rule, f);
	if (w < width)
		fprintf(f, "%*s", (int)(width - w), "");
}


/** The width of the RULE column for these calls: the longest name, at
 *  least CLI_RULE_W */
unsigned cli_calls_rule_width(struct sw_callrec *const *recs, unsigned n)
{
	size_t w = CLI_RULE_W;

	for (unsigned i = 0; i < n; ++i)
		if (recs[i]->route.rule && cli_width(recs[i]->route.rule) > w)
			w = cli_width(recs[i]->route.rule);
	return (unsigned)w;
}


void cli_calls_header(FILE *f, unsigned rule_w)
{
	fprintf(f, "%-14s %-9s ", "TIME", "TAG");
	cli_cell(f, "FROM→TO", 19, false);
	fputc(' ', f);
	rule_cell(f, "RULE", rule_w);
	fprintf(f, " %-6s %4s %6s %s\n", "STATE", "CODE", "DUR", "MEDIA");
}


/** One line for a call (calls-table columns): at most 100 columns with
 *  rule names up to CLI_RULE_W wide */
void cli_calls_row(FILE *f, struct sw_callstore *db, const struct sw_callrec *rec,
		   unsigned rule_w)
{
	char t[32], ft[160], fu[64], tu[64], code[8], d[16], media[64];

	uri_user(rec->from_uri, fu, sizeof(fu));
	uri_user(rec->to_uri, tu, sizeof(tu));
	snprintf(ft, sizeof(ft), "%s→%s", fu, tu);
	if (rec->final_code)
		snprintf(code, sizeof(code), "%d", rec->final_code);
	else
		snprintf(code, sizeof(code), "-");
	media_of(db, rec, media, sizeof(media));
	cli_cell(f, cli_fmt_time(rec->start_us, t, sizeof(t), false), 14,
		 false);
	fputc(' ', f);
	cli_cell(f, rec->tag, 9, false);
	fputc(' ', f);
	cli_cell(f, ft, 19, false);
	fputc(' ', f);
	rule_cell(f, rec->route.rule ? rec->route.rule : "-", rule_w);
	fprintf(f, " %-6s %4s ", short_state(rec->state), code);
	cli_cell(f, sw_fmt_dur(dur_of(rec), d, sizeof(d)), 6, true);
	fputc(' ', f);
	if (cli_width(media) > 26)
		cli_cell(f, media, 26, false);
	else
		fputs(media, f);
	fputc('\n', f);
}


/** The same call as one JSON object */
void cli_calls_json_row(struct sw_json *j, struct sw_callstore *db,
			const struct sw_callrec *rec)
{
	char media[64];

	media_of(db, rec, media, sizeof(media));
	sw_json_obj_open(j, NULL);
	sw_json_int(j, "id", rec->id);
	sw_json_str(j, "tag", rec->tag);
	sw_json_int(j, "start_us", rec->start_us);
	if (rec->end_us)
		sw_json_int(j, "end_us", rec->end_us);
	else
		sw_json_null(j, "end_us");
	sw_json_int(j, "duration_ms", dur_of(rec) / 1000);
	sw_json_str(j, "state", sw_call_state_name(rec->state));
	sw_json_str_or_null(j, "from", rec->from_uri);
	sw_json_str_or_null(j, "to", rec->to_uri);
	sw_json_str_or_null(j, "rule", rec->route.rule);
	sw_json_int(j, "final", rec->final_code);
	sw_json_str(j, "media", media);
	sw_json_bool(j, "failed", rec->failed);
	sw_json_bool(j, "synthetic", rec->synthetic);
	sw_json_str_or_null(j, "verdict", rec->verdict);
	sw_json_obj_close(j);
}


static int row_emit(struct row_ctx *c, const struct sw_callrec *rec)
{
	if (c->j)
		cli_calls_json_row(c->j, c->db, rec);
	else
		cli_calls_row(stdout, c->db, rec, c->rule_w);
	return 0;
}


/* A copy of the calls-table part of a row (the list frees its rows) */
static struct sw_callrec *head_copy(const struct sw_callrec *r)
{
	struct sw_callrec *c;

	if (sw_callrec_alloc(&c))
		return NULL;
	*c = (struct sw_callrec){.id = r->id, .synthetic = r->synthetic,
				 .start_us = r->start_us,
				 .ringing_us = r->ringing_us,
				 .answer_us = r->answer_us, .end_us = r->end_us,
				 .state = r->state, .final_code = r->final_code,
				 .failed = r->failed};
#define DUP(f) c->f = sw_callrec_strdup(c, r->f, r->f ? strlen(r->f) : 0)
	DUP(tag);
	DUP(from_uri);
	DUP(to_uri);
	DUP(final_phrase);
	DUP(media);
	DUP(verdict);
	DUP(route.rule);
#undef DUP
	return c;
}


static int row_h(const struct sw_callrec *rec, void *arg)
{
	struct row_ctx *c = arg;

	if (!c->buf)
		return row_emit(c, rec);
	if (c->n == c->cap) {
		unsigned cap = c->cap ? c->cap * 2 : 64;
		struct sw_callrec **b = realloc(c->buf, cap * sizeof(*b));

		if (!b)
			return ENOMEM;
		c->buf = b;
		c->cap = cap;
	}
	c->buf[c->n] = head_copy(rec);
	return c->buf[c->n++] ? 0 : ENOMEM;
}


/* A row of the cluster log: tagged INSTANCE/TAG, the cluster's key */
static int cluster_row_h(const struct sw_cluster_row *row, void *arg)
{
	char key[SW_CLUSTER_NAME + SW_CALLLOG_TAG_LEN + 2];
	struct sw_callrec r = *row->rec;

	snprintf(key, sizeof(key), "%s/%s", row->instance, row->rec->tag);
	r.tag = key;
	return row_h(&r, arg);
}


static int parse_opts(int argc, char **argv, struct calls_opts *o)
{
	static const struct option lo[] = {
		{"active", no_argument, NULL, 'a'},
		{"since", required_argument, NULL, 's'},
		{"failed", no_argument, NULL, 'f'},
		{"rule", required_argument, NULL, 'r'},
		{"match", required_argument, NULL, 'm'},
		{"limit", required_argument, NULL, 'n'},
		{"json", no_argument, NULL, 'j'},
		{"cluster", no_argument, NULL, 'C'},
		{NULL, 0, NULL, 0},
	};
	int64_t d;
	char *end;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'a': o->active = o->q.active = true; break;
		case 'f': o->q.failed = true; break;
		case 'r': o->q.rule = optarg; break;
		case 'm': o->q.match = optarg; break;
		case 'j': o->json = true; break;
		case 'C': o->cluster = true; break;
		case 's':
			if (cli_parse_duration(optarg, &d))
				return EINVAL;
			o->q.since_us = cli_now() - d;
			break;
		case 'n':
			o->q.limit = (unsigned)strtoul(optarg, &end, 10);
			if (*end || !*optarg)
				return EINVAL;
			o->limit_set = true;
			break;
		default: return EINVAL;
		}
	}
	if (optind != argc)
		return EINVAL;
	if (!o->limit_set && !o->q.since_us)
		o->q.limit = 100;
	return 0;
}


/* --active from the daemon: the B2BUA's "active" command */
static int active_from_daemon(const struct cli_env *env, bool json)
{
	struct sw_jval *res = NULL;
	const struct sw_jval *calls, *c;
	struct sw_json j;
	unsigned rule_w = CLI_RULE_W;

	if (cli_ctl(env, "active", NULL, &res, true))
		return ENOENT;
	calls = sw_jval_get(res, "calls");
	if (!calls || calls->type != SW_JARR) {
		sw_jval_free(res);
		return ENOENT;
	}
	for (c = calls->child; c; c = c->next) {
		const char *rule = sw_jval_str(c, "rule", "");

		if (cli_width(rule) > rule_w)
			rule_w = (unsigned)cli_width(rule);
	}
	sw_json_init(&j, false);
	if (!json)
		cli_calls_header(stdout, rule_w);
	sw_json_obj_open(&j, NULL);
	sw_json_arr_open(&j, "calls");
	for (c = calls->child; c; c = c->next) {
		struct sw_callrec rec = {0};

		rec.tag = sw_jval_str(c, "tag", "?");
		rec.start_us = sw_jval_int(c, "start_us", 0);
		rec.from_uri = sw_jval_str(c, "from", NULL);
		rec.to_uri = sw_jval_str(c, "to", NULL);
		rec.route.rule = sw_jval_str(c, "rule", NULL);
		rec.media = sw_jval_str(c, "media", "-");
		rec.final_code = (int)sw_jval_int(c, "final", 0);
		if (json)
			cli_calls_json_row(&j, NULL, &rec);
		else
			cli_calls_row(stdout, NULL, &rec, rule_w);
	}
	sw_json_arr_close(&j);
	sw_json_obj_close(&j);
	sw_jval_free(res);
	if (json)
		cli_json_print(&j);
	sw_json_free(&j);
	return 0;
}


static int list(const struct cli_env *env, struct calls_opts *o)
{
	struct row_ctx c = {0};
	struct sw_json j;
	struct sw_callstore *db = NULL;
	struct pg_conn *pg = NULL;
	int err;

	if (o->cluster ? cli_cluster_open(env, &pg) : cli_db_open(env, &db))
		return CLI_FAIL;
	c.db = db;
	sw_json_init(&j, false);
	if (o->json) {
		c.j = &j;
		sw_json_obj_open(&j, NULL);
		sw_json_arr_open(&j, "calls");
	}
	/* the newest N, printed oldest first, the RULE column as wide as
	 * their longest rule name; without a limit, lines stream */
	o->q.newest_first = o->q.limit != 0;
	c.buf = o->q.newest_first ? calloc(64, sizeof(*c.buf)) : NULL;
	c.cap = c.buf ? 64 : 0;
	c.rule_w = CLI_RULE_W;
	if (!o->json && !c.buf)
		cli_calls_header(stdout, c.rule_w);
	err = o->q.newest_first && !c.buf ? ENOMEM :
	      pg ? sw_cluster_list(pg, &o->q, cluster_row_h, &c) :
		   sw_callstore_list(db, &o->q, row_h, &c);
	if (c.buf) {
		c.rule_w = cli_calls_rule_width(c.buf, c.n);
		if (!o->json && !err)
			cli_calls_header(stdout, c.rule_w);
	}
	for (unsigned i = c.n; i-- > 0;) {
		if (!err)
			row_emit(&c, c.buf[i]);
		sw_callrec_free(c.buf[i]);
	}
	free(c.buf);
	if (o->json) {
		sw_json_arr_close(&j);
		sw_json_obj_close(&j);
		if (!err)
			cli_json_print(&j);
	}
	sw_json_free(&j);
	sw_callstore_close(db);
	sw_cluster_read_close(pg);
	if (err)
		fprintf(stderr, "shareway: listing calls: %s\n", strerror(err));
	return err ? CLI_FAIL : CLI_OK;
}


static int run(const struct cli_env *env, int argc, char **argv)
{
	struct calls_opts o = {0};

	if (cli_is_help(argc, argv))
		return cli_usage(stdout, usage_text, CLI_OK);
	if (parse_opts(argc, argv, &o))
		return cli_usage(stderr, usage_text, CLI_USAGE);
	if (o.active && !o.cluster && !o.q.failed && !o.q.rule &&
	    !o.q.match && active_from_daemon(env, o.json) == 0)
		return CLI_OK;
	if (o.active && !o.cluster)
		fprintf(stderr, "shareway: sharewayd does not answer 'active'; "
			"showing calls with no end in the call log\n");
	return list(env, &o);
}

const struct cli_cmd cli_cmd_calls = {"calls", "one line per call (call log)",
				      run};
