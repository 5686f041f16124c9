/**
 * @file cli_reload.c  `shareway reload`: reload the configuration now
 * (what SIGHUP does) and say what was taken: the dial plan and zones,
 * the TURN users and secret, the log level; what only a restart applies;
 * warnings. Calls in progress keep what they started with; a
 * configuration that does not load changes nothing and the command
 * exits 1 with the reason.
 */
#include <string.h>

#include "cli_common.h"

static const char usage_text[] =
	"usage: shareway reload [--json]\n"
	"Reload the running sharewayd's configuration (as SIGHUP does): it is\n"
	"checked whole as a start would, then the dial plan and zones, the\n"
	"TURN users and REST secret and the log level apply to what starts\n"
	"from now on; calls and allocations in progress keep theirs.\n"
	"Exit 0 when it is in force, 1 when it was refused (nothing changed)\n"
	"or the daemon is not running.\n"
	"  --json   the daemon's answer as JSON\n";


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
		cli_rules_print(stdout, res);
	else
		fprintf(stderr, "shareway: reload refused, the configuration "
			"in force stays: %s\n", sw_jval_str(res, "error", "?"));
	sw_jval_free(res);
	return ok ? CLI_OK : CLI_FAIL;
}

const struct cli_cmd cli_cmd_reload = {"reload", "reload the configuration now",
				       run};
