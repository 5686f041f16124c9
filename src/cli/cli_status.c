/**
 * @file cli_status.c  `shareway status`: is sharewayd running, since
 * when, with which configuration and rules, what its last reload did,
 * and the state of its call log. Needs the daemon: exit 1 with a clear
 * message when it is not running.
 */
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"

static const char usage_text[] =
	"usage: shareway status [--json]\n"
	"sharewayd's version, pid, uptime, configuration, the rules in force\n"
	"and the outcome of the last reload, calls in progress, the state of\n"
	"each peer of the zones' peer lists and call-log writer state (from\n"
	"the running daemon).\n"
	"  --json   the daemon's answer as JSON\n";


/**
 * The rules in force (file, count, zones, when loaded) and what the last
 * reload did, from a status or reload answer; shared with `reload`
 */
void cli_rules_print(FILE *f, const struct sw_jval *res)
{
	const struct sw_jval *r = sw_jval_get(res, "rules");
	const struct sw_jval *l = sw_jval_get(res, "reload");
	const struct sw_jval *w = l ? sw_jval_get(l, "warnings") : NULL;
	char t[32], t2[32], *text;
	size_t sz;

	if (!r)
		return;
	cli_fmt_time(sw_jval_int(r, "loaded_us", 0), t, sizeof(t), false);
	fprintf(f, "%-12s %s: %lld rules, %lld zones, loaded %s\n", "rules",
		sw_jval_str(r, "file", "?"), (long long)sw_jval_int(r, "count", 0),
		(long long)sw_jval_int(r, "zones", 0), t);
	if (!l) {
		fprintf(f, "%-12s none since the start\n", "last reload");
		return;
	}
	cli_fmt_time(sw_jval_int(l, "at_us", 0), t2, sizeof(t2), false);
	sz = 4096;
	text = malloc(sz);
	if (!text)
		return;
	if (sw_jval_bool(l, "ok", false))
		snprintf(text, sz, "%s: in force", t2);
	else
		snprintf(text, sz, "%s: REFUSED, the configuration and rules "
			 "loaded %s stay in force:\n%s", t2, t,
			 sw_jval_str(l, "error", "?"));
	for (const struct sw_jval *x = w ? w->child : NULL; x; x = x->next)
		if (x->type == SW_JSTR)
			snprintf(text + strlen(text), sz - strlen(text),
				 "\nwarning: %s", x->str);
	if (sw_jval_get(l, "restart_needed"))
		snprintf(text + strlen(text), sz - strlen(text),
			 "\nchanged, applied only by a restart: %s",
			 sw_jval_str(l, "restart_needed", ""));
	cli_wrap(f, "last reload", text, 13);
	free(text);
}


/* [cluster]: the database link, and the registry as this instance last
 * read it */
static void cluster_print(const struct sw_jval *cl)
{
	const struct sw_jval *in = sw_jval_get(cl, "instances");
	char line[1024];
	size_t n = 0;

	n += (size_t)snprintf(line + n, sizeof(line) - n,
			      "%s: PostgreSQL %s, %lld calls shipped; ",
			      sw_jval_str(cl, "instance", "?"),
			      sw_jval_bool(cl, "db_up", false) ? "up" : "DOWN",
			      (long long)sw_jval_int(cl, "shipped", 0));
	for (const struct sw_jval *i = in ? in->child : NULL;
	     i && n < sizeof(line); i = i->next)
		n += (size_t)snprintf(line + n, sizeof(line) - n,
				      "%s%s %s (%lld calls, %lld allocations)",
				      i == in->child ? "" : ", ",
				      sw_jval_str(i, "name", "?"),
				      sw_jval_str(i, "state", "?"),
				      (long long)sw_jval_int(i, "calls", 0),
				      (long long)sw_jval_int(i, "allocs", 0));
	cli_wrap(stdout, "cluster", line, 13);
	if (sw_jval_str(cl, "error", NULL))
		cli_wrap(stdout, "", sw_jval_str(cl, "error", ""), 13);
}


/* One line per peer of the zones' peer lists: its state, since when
 * and why, its last answer and probe, what it took */
static void print_peers(const struct sw_jval *res)
{
	const struct sw_jval *ps = sw_jval_get(res, "peers");
	char t[32], t2[32], t3[32], head[64];

	for (const struct sw_jval *p = ps ? ps->child : NULL; p; p = p->next) {
		bool up = !strcmp(sw_jval_str(p, "state", "?"), "up");
		int64_t la = sw_jval_int(p, "last_answer_us", 0);
		int64_t lp = sw_jval_int(p, "last_probe_us", 0);

		snprintf(head, sizeof(head), "zone %s", sw_jval_str(p, "zone",
								      "?"));
		cli_fmt_time(sw_jval_int(p, "down_since_us", 0), t, sizeof(t),
			     false);
		cli_fmt_time(la, t2, sizeof(t2), false);
		cli_fmt_time(lp, t3, sizeof(t3), false);
		printf("%-12s %s %s%s%s%s%s\n%-12s priority %lld, weight %lld; "
		       "last answer from it %s; last probe %s; last result %lld "
		       "%s; %lld probes, %lld failed; %lld calls, %lld failed "
		       "over\n",
		       "peer", sw_jval_str(p, "uri", "?"), up ? "up" : "DOWN",
		       up ? "" : " since ", up ? "" : t, up ? "" : ": ",
		       up ? "" : sw_jval_str(p, "why", ""), head,
		       (long long)sw_jval_int(p, "priority", 0),
		       (long long)sw_jval_int(p, "weight", 0),
		       la ? t2 : "none", lp ? t3 : "none",
		       (long long)sw_jval_int(p, "last_status", 0),
		       sw_jval_str(p, "last_phrase", ""),
		       (long long)sw_jval_int(p, "probes", 0),
		       (long long)sw_jval_int(p, "probes_failed", 0),
		       (long long)sw_jval_int(p, "calls", 0),
		       (long long)sw_jval_int(p, "failovers", 0));
	}
}


static void print_status(const struct sw_jval *res)
{
	const struct sw_jval *d = sw_jval_get(res, "daemon");
	const struct sw_jval *c = sw_jval_get(res, "calllog");
	char up[16];

	printf("sharewayd %s  pid %lld  up %s\n",
	       sw_jval_str(d, "version", "?"),
	       (long long)sw_jval_int(d, "pid", 0),
	       sw_fmt_dur(sw_jval_int(d, "uptime_s", 0) * 1000000, up,
			  sizeof(up)));
	printf("%-12s %s\n", "config", sw_jval_str(d, "config", "?"));
	printf("%-12s %s\n", "state dir", sw_jval_str(d, "state_dir", "?"));
	printf("%-12s %s\n", "log level", sw_jval_str(d, "log_level", "?"));
	cli_rules_print(stdout, res);
	printf("%-12s %lld in progress, %lld new INVITEs shed (503) by "
	       "max_calls %lld/max_cps %lld\n", "SIP calls",
	       (long long)sw_jval_int(d, "sip_calls", 0),
	       (long long)sw_jval_int(d, "sip_overload_rejects", 0),
	       (long long)sw_jval_int(d, "sip_max_calls", 0),
	       (long long)sw_jval_int(d, "sip_max_cps", 0));
	printf("%-12s %lld waiting for a first request; %lld reset by "
	       "tcp_max_per_source, %lld out of descriptors; %lld closed "
	       "without a request\n", "SIP TCP/TLS",
	       (long long)sw_jval_int(d, "sip_tcp_pending", 0),
	       (long long)sw_jval_int(d, "sip_tcp_refused", 0),
	       (long long)sw_jval_int(d, "sip_tcp_shed", 0),
	       (long long)sw_jval_int(d, "sip_tcp_closed", 0));
	printf("%-12s %lld lines suppressed by rate limits\n", "log",
	       (long long)sw_jval_int(d, "log_suppressed", 0));
	printf("%-12s %lld names from messages not looked up (their "
	       "responses dropped)\n", "SIP names",
	       (long long)sw_jval_int(d, "sip_names_refused", 0));
	if (c)
		printf("%-12s %s: %lld calls, %lld written, %lld pending, "
		       "%lld dropped, %lld errors\n", "call log",
		       sw_jval_str(c, "path", "?"),
		       (long long)sw_jval_int(c, "calls", 0),
		       (long long)sw_jval_int(c, "written", 0),
		       (long long)sw_jval_int(c, "pending", 0),
		       (long long)sw_jval_int(c, "dropped", 0),
		       (long long)sw_jval_int(c, "errors", 0));
	if (sw_jval_get(res, "drain"))
		cli_drain_print(stdout, "drain        ",
				sw_jval_get(res, "drain"));
	if (sw_jval_get(res, "cluster"))
		cluster_print(sw_jval_get(res, "cluster"));
	print_peers(res);
	for (const struct sw_jval *s = res->child; s; s = s->next)
		if (s->key && strcmp(s->key, "daemon") &&
		    strcmp(s->key, "calllog") && strcmp(s->key, "rules") &&
		    strcmp(s->key, "reload") && strcmp(s->key, "drain") &&
		    strcmp(s->key, "cluster") && strcmp(s->key, "peers"))
			cli_json_flatten(stdout, s, s->key);
}


static int run(const struct cli_env *env, int argc, char **argv)
{
	struct sw_jval *res;
	bool json;
	int rc;

	rc = cli_ctl_cmd(env, argc, argv, usage_text, "status", &json, &res);
	if (!res)
		return rc;
	if (json)
		cli_jval_print(res);
	else
		print_status(res);
	sw_jval_free(res);
	return CLI_OK;
}

const struct cli_cmd cli_cmd_status = {"status", "is sharewayd running, and how",
				       run};
