/**
 * @file shareway.c  The operator CLI: one dispatcher, one file per command.
 *
 * Commands that need live state talk to sharewayd over its control socket;
 * those that read history open the call log directly, so they work with
 * the daemon down. Exit codes: 0 ok, 1 failure/not found, 2 usage.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "sw_conf.h"

static const struct cli_cmd *const cmds[] = {
	CLI_COMMANDS
};


static void usage(FILE *f)
{
	fprintf(f, "usage: shareway [-c CONF] [-s STATE_DIR] COMMAND [ARGS]\n"
		"\ncommands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); ++i)
		fprintf(f, "  %-12s %s\n", cmds[i]->name, cmds[i]->summary);
	fprintf(f, "\n'shareway COMMAND --help' for a command's options.\n");
}


int main(int argc, char **argv)
{
	struct cli_env env = {SW_CONF_DEFAULT, NULL, false};
	int i = 1;

	while (i + 1 < argc && (!strcmp(argv[i], "-c") ||
				!strcmp(argv[i], "-s"))) {
		if (argv[i][1] == 'c') {
			env.conf_path = argv[i + 1];
			env.conf_given = true;
		}
		else {
			env.state_dir = argv[i + 1]; /* as sharewayd -s */
		}
		i += 2;
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h") ||
	    !strcmp(argv[i], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[i], "--version")) {
		printf("shareway %s\n", PACKAGE_VERSION);
		return 0;
	}
	for (size_t k = 0; k < sizeof(cmds) / sizeof(cmds[0]); ++k)
		if (!strcmp(argv[i], cmds[k]->name))
			return cmds[k]->run(&env, argc - i, argv + i);
	fprintf(stderr, "shareway: unknown command '%s'\n", argv[i]);
	usage(stderr);
	return 2;
}
