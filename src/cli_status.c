/**
 * @file cli_status.c  `shareway status`: is sharewayd running, since
 * when, with which configuration, and the state of its call log. Needs
 * the daemon: exit 1 with a clear message when it is not running.
 */
#include <string.h>

#include "cli_common.h"

static const char usage_text[] =
	"usage: shareway status [--json]\n"
	"sharewayd's version, pid, uptime, configuration, calls in progress\n"
	"and call-log writer state (from the running daemon).\n"
	"  --json   the daemon's answer as JSON\n";


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
	printf("%-12s %lld in progress, %lld new INVITEs shed (503) by "
	       "max_calls/max_cps\n", "SIP calls",
	       (long long)sw_jval_int(d, "sip_calls", 0),
	       (long long)sw_jval_int(d, "sip_overload_rejects", 0));
	if (c)
		printf("%-12s %s: %lld calls, %lld written, %lld pending, "
		       "%lld dropped, %lld errors\n", "call log",
		       sw_jval_str(c, "path", "?"),
		       (long long)sw_jval_int(c, "calls", 0),
		       (long long)sw_jval_int(c, "written", 0),
		       (long long)sw_jval_int(c, "pending", 0),
		       (long long)sw_jval_int(c, "dropped", 0),
		       (long long)sw_jval_int(c, "errors", 0));
	for (const struct sw_jval *s = res->child; s; s = s->next)
		if (s->key && strcmp(s->key, "daemon") &&
		    strcmp(s->key, "calllog"))
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
