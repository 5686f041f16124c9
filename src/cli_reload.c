/**
 * @file cli_reload.c  `shareway reload`: reload the dial plan now (what
 * SIGHUP does) and say whether the new rules were taken. Calls in
 * progress keep the rules they matched; a file that does not load leaves
 * the current rules in force and the command exits 1 with the reason.
 */
#include <string.h>

#include "cli_common.h"

static const char usage_text[] =
	"usage: shareway reload [--json]\n"
	"Reload the rule file in the running sharewayd (as SIGHUP does).\n"
	"Exit 0 when the new rules are in force, 1 when they were refused\n"
	"(the previous rules stay) or the daemon is not running.\n";


static int run(const struct cli_env *env, int argc, char **argv)
{
	struct sw_jval *res;
	bool json, ok;
	int rc;

	rc = cli_ctl_cmd(env, argc, argv, usage_text, "reload", &json, &res);
	if (!res)
		return rc;
	ok = sw_jval_bool(res, "reloaded", false);
	if (json)
		cli_jval_print(res);
	else if (ok)
		printf("rules reloaded from %s: %lld rules\n",
		       sw_jval_str(res, "rules", "?"),
		       (long long)sw_jval_int(res, "count", 0));
	else
		fprintf(stderr, "shareway: reload refused, the previous rules "
			"stay in force: %s\n", sw_jval_str(res, "error", "?"));
	sw_jval_free(res);
	return ok ? CLI_OK : CLI_FAIL;
}

const struct cli_cmd cli_cmd_reload = {"reload", "reload the dial plan now",
				       run};
