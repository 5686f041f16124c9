/**
 * @file cli_log_level.c  `shareway log-level [MODULE] [LEVEL]`: show or
 * change the running daemon's log levels, globally or for one module,
 * without a restart. A change lasts until the next reload or restart,
 * which apply [general] log_level and [log] modules again.
 */
#include <stdio.h>
#include <string.h>

#include "cli_common.h"
#include "sw_json.h"

static const char usage_text[] =
	"usage: shareway log-level [--json] [[MODULE] LEVEL]\n"
	"Show the running sharewayd's log levels (no argument), or set the\n"
	"global level (LEVEL) or one module's (MODULE LEVEL) at once.\n"
	"LEVEL: error, warn, notice, info, debug; for a module also default\n"
	"(follow the global level). MODULE: one of those the list shows\n"
	"(the second column of the log lines).\n"
	"A change lasts until the next reload or restart.\n"
	"  --json   the daemon's answer as JSON\n";


static void print_levels(const struct sw_jval *res)
{
	const struct sw_jval *mods = sw_jval_get(res, "modules");

	printf("global   %s\n", sw_jval_str(res, "global", "?"));
	for (const struct sw_jval *m = mods ? mods->child : NULL; m;
	     m = m->next) {
		const char *lvl = sw_jval_str(m, "level", "?");

		printf("%-8s %s%s%s\n", sw_jval_str(m, "module", "?"),
		       sw_jval_str(m, "effective", "?"),
		       strcmp(lvl, "default") ? "" : " (default)", "");
	}
}


static int run(const struct cli_env *env, int argc, char **argv)
{
	const char *pos[2] = {NULL, NULL};
	struct sw_jval *res = NULL;
	struct sw_json args;
	bool json = false;
	unsigned n = 0;
	int rc;

	if (cli_is_help(argc, argv))
		return cli_usage(stdout, usage_text, CLI_OK);
	for (int i = 1; i < argc; ++i) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (argv[i][0] == '-' || n == 2)
			return cli_usage(stderr, usage_text, CLI_USAGE);
		else
			pos[n++] = argv[i];
	}
	sw_json_init(&args, false);
	sw_json_obj_open(&args, NULL);
	if (n == 2)
		sw_json_str(&args, "module", pos[0]);
	if (n)
		sw_json_str(&args, "level", pos[n - 1]);
	sw_json_obj_close(&args);
	if (sw_json_finish(&args)) {
		fprintf(stderr, "shareway: out of memory\n");
		return CLI_FAIL;
	}
	rc = cli_ctl(env, "log-level", args.buf, &res, false);
	sw_json_free(&args);
	if (rc)
		return rc;
	if (json)
		cli_jval_print(res);
	else if (!sw_jval_str(res, "error", NULL))
		print_levels(res);
	if (sw_jval_str(res, "error", NULL)) {
		fprintf(stderr, "shareway: log-level %s%s%s: %s\n",
			pos[0] ? pos[0] : "", n == 2 ? " " : "",
			n == 2 ? pos[1] : "", sw_jval_str(res, "error", "?"));
		rc = CLI_FAIL;
	}
	sw_jval_free(res);
	return rc;
}

const struct cli_cmd cli_cmd_log_level = {
	"log-level", "show or set the log levels at run time", run};
