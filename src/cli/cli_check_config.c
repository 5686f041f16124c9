/**
 * @file cli_check_config.c  `shareway check-config [--json] [FILE]`: the
 * checks sharewayd makes before it starts (sw_check_load(): the keys, the
 * TLS files, the paths, the rule file against the zones), without
 * starting anything. The same function as `sharewayd --check-config`.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "sw_check.h"
#include "sw_json.h"

static const char usage_text[] =
	"usage: shareway check-config [--json] [FILE]\n"
	"Check a sharewayd configuration as the daemon does before it starts:\n"
	"every key, the TLS files it names (certificate chain, matching key,\n"
	"CA bundle), the run-time paths and the rule file against the zones.\n"
	"FILE: default the -c configuration. Exit 0 when it would start,\n"
	"1 with file:line:key: what is wrong.\n"
	"  --json   {\"config\", \"ok\", \"error\" | \"zones\", \"rules\",\n"
	"           \"rules_file\", \"warnings\"}\n";


static void print_json(const char *path, const struct sw_conf *conf,
		       const struct sw_rules *rules,
		       const struct sw_check_notes *notes, const char *err)
{
	struct sw_json j;

	sw_json_init(&j, false);
	sw_json_obj_open(&j, NULL);
	sw_json_str(&j, "config", path);
	sw_json_bool(&j, "ok", err == NULL);
	if (err) {
		sw_json_str(&j, "error", err);
	}
	else {
		sw_json_int(&j, "zones", conf->n_zones);
		sw_json_int(&j, "rules", sw_rules_count(rules));
		sw_json_str(&j, "rules_file", sw_rules_path(rules));
		sw_json_int(&j, "sip_listeners", conf->n_sip_listen);
		sw_json_int(&j, "turn_listeners", conf->n_turn_listen);
	}
	sw_json_arr_open(&j, "warnings");
	for (unsigned i = 0; i < notes->n; ++i)
		sw_json_str(&j, NULL, notes->text[i]);
	sw_json_arr_close(&j);
	sw_json_obj_close(&j);
	if (!sw_json_finish(&j))
		printf("%s\n", j.buf);
	sw_json_free(&j);
}


static int run(const struct cli_env *env, int argc, char **argv)
{
	static struct sw_conf conf;
	struct sw_check_notes notes = {0};
	struct sw_rules *rules = NULL;
	const char *path = NULL;
	bool json = false;
	char err[1024];
	int e;

	for (int i = 1; i < argc; ++i) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(usage_text, stdout);
			return 0;
		}
		if (!strcmp(argv[i], "--json")) {
			json = true;
		}
		else if (argv[i][0] == '-' || path) {
			fputs(usage_text, stderr);
			return 2;
		}
		else {
			path = argv[i];
		}
	}
	if (!path)
		path = env->conf_path;
	e = sw_check_load(&conf, path, env->state_dir, &rules, &notes, err,
			  sizeof(err));
	if (json) {
		print_json(path, &conf, rules, &notes, e ? err : NULL);
	}
	else if (e) {
		fprintf(stderr, "%s\n", err);
	}
	else {
		for (unsigned i = 0; i < notes.n; ++i)
			fprintf(stderr, "warning: %s\n", notes.text[i]);
		printf("%s: configuration OK (%u zones, %u SIP listeners, "
		       "%u TURN listeners, %u rules from %s)\n",
		       path, conf.n_zones, conf.n_sip_listen,
		       conf.n_turn_listen, sw_rules_count(rules),
		       sw_rules_path(rules));
	}
	sw_rules_unref(rules);
	return e ? 1 : 0;
}

const struct cli_cmd cli_cmd_check_config = {
	"check-config", "check a configuration as sharewayd would start", run};
