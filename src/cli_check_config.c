/**
 * @file cli_check_config.c  `shareway check-config [FILE]`
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "sw_conf.h"

static int run(const struct cli_env *env, int argc, char **argv)
{
	static struct sw_conf conf;
	const char *path = argc > 1 ? argv[1] : env->conf_path;
	char err[512];

	if (argc > 1 && !strcmp(argv[1], "--help")) {
		printf("usage: shareway check-config [FILE]\n"
		       "Validate a sharewayd configuration file.\n");
		return 0;
	}
	if (sw_conf_load(&conf, path, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	printf("%s: configuration OK (%u zones, %u SIP listeners, "
	       "%u TURN listeners)\n",
	       path, conf.n_zones, conf.n_sip_listen, conf.n_turn_listen);
	return 0;
}

const struct cli_cmd cli_cmd_check_config = {
	"check-config", "validate a configuration file", run};
