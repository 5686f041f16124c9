/**
 * @file cli.h  The `shareway` command table.
 *
 * Each command lives in src/cli/cli_<name>.c and exports one struct
 * cli_cmd. To add one: define it there, declare it below, list it in
 * CLI_COMMANDS, add the file to src/cli/local.mk.
 */
#ifndef SW_CLI_H
#define SW_CLI_H

#include <stdbool.h>

struct cli_env {
	const char *conf_path; /* -c, to find the socket and the call log */
	const char *state_dir; /* -s, overrides the configured state_dir */
	bool conf_given;       /* -c was given (else SW_CONF_DEFAULT) */
};

struct cli_cmd {
	const char *name;
	const char *summary;
	/* argv[0] is the command name; returns the process exit code */
	int (*run)(const struct cli_env *env, int argc, char **argv);
};

extern const struct cli_cmd cli_cmd_check_config;
extern const struct cli_cmd cli_cmd_locate;
extern const struct cli_cmd cli_cmd_stun_decode;

extern const struct cli_cmd cli_cmd_calls;
extern const struct cli_cmd cli_cmd_show;
extern const struct cli_cmd cli_cmd_ladder;
extern const struct cli_cmd cli_cmd_sdp;
extern const struct cli_cmd cli_cmd_export;
extern const struct cli_cmd cli_cmd_tail;
extern const struct cli_cmd cli_cmd_relays;
extern const struct cli_cmd cli_cmd_stats;
extern const struct cli_cmd cli_cmd_status;
extern const struct cli_cmd cli_cmd_reload;
extern const struct cli_cmd cli_cmd_drain;
extern const struct cli_cmd cli_cmd_undrain;
extern const struct cli_cmd cli_cmd_resume;
extern const struct cli_cmd cli_cmd_log_level;

#define CLI_COMMANDS &cli_cmd_check_config, &cli_cmd_locate, \
	&cli_cmd_stun_decode, &cli_cmd_calls, &cli_cmd_show, \
	&cli_cmd_ladder, &cli_cmd_sdp, &cli_cmd_export, &cli_cmd_tail, \
	&cli_cmd_relays, &cli_cmd_stats, &cli_cmd_status, &cli_cmd_reload, \
	&cli_cmd_drain, &cli_cmd_undrain, &cli_cmd_resume, \
	&cli_cmd_log_level,

#endif
