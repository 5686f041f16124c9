/**
 * @file cli_drain.c  `shareway drain` and `shareway undrain` (or
 * `resume`): take a running sharewayd out of service without cutting a
 * call, for a restart or an upgrade of one instance of several, and put
 * it back. Draining, it answers new INVITEs and OPTIONS 503 (a dispatcher
 * in front moves on) and redirects new external TURN allocations to
 * another instance (300 Try Alternate); calls in progress go on.
 * `--wait` polls the daemon until none remain (and no relayed connection
 * either), or the timeout passes (exit 3).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_common.h"

#define DRAIN_POLL_MS 200
#define CLI_TIMEOUT 3 /* drain --wait: calls remain at the timeout */

static const char usage_text[] =
	"usage: shareway drain [--wait [--timeout S]] [--json]\n"
	"       shareway undrain [--json]   (also: shareway resume)\n"
	"drain: the running sharewayd takes no new call (new INVITEs and\n"
	"OPTIONS are answered 503 with Retry-After, so a dispatcher in front\n"
	"sends them to another instance) and no new external TURN allocation\n"
	"(300 Try Alternate to the least-loaded active instance of the\n"
	"cluster, when there is one); calls in progress go on. Prints how many\n"
	"calls and relayed connections remain. undrain: take calls again.\n"
	"  --wait        return once no call and no relayed connection remain\n"
	"  --timeout S   with --wait: give up after S seconds (exit 3)\n"
	"  --json        the daemon's last answer as JSON\n"
	"Exit 0: done (drained, with --wait); 1: the daemon did not answer;\n"
	"2: usage; 3: --timeout passed with calls remaining.\n";


static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}


/** The "drain" member of a drain or status answer, on one line; shared
 *  with `status` */
void cli_drain_print(FILE *f, const char *label, const struct sw_jval *d)
{
	char t[32];

	if (!sw_jval_bool(d, "draining", false)) {
		fprintf(f, "%snot draining: taking new calls (%lld in "
			"progress)\n", label, (long long)sw_jval_int(d, "calls",
								    0));
		return;
	}
	cli_fmt_time(sw_jval_int(d, "since_us", 0), t, sizeof(t), false);
	fprintf(f, "%sdraining since %s: %lld calls and %lld relayed connections "
	       "remain; %lld new calls refused (503), %lld allocations "
	       "redirected%s%s\n", label, t, (long long)sw_jval_int(d, "calls", 0),
	       (long long)sw_jval_int(d, "relay_conns", 0),
	       (long long)sw_jval_int(d, "rejected", 0),
	       (long long)sw_jval_int(d, "redirects", 0),
	       sw_jval_get(d, "alternate") ? " to " : "",
	       sw_jval_str(d, "alternate", ""));
}


static bool drained(const struct sw_jval *d)
{
	return sw_jval_int(d, "calls", 1) == 0 &&
	       sw_jval_int(d, "relay_conns", 1) == 0;
}


/* One request; *resp is the daemon's answer, its "drain" member *dp */
static int ask(const struct cli_env *env, const char *action,
	       struct sw_jval **resp, const struct sw_jval **dp)
{
	char args[64];

	snprintf(args, sizeof(args), "{\"action\": \"%s\"}", action);
	*resp = NULL;
	if (cli_ctl(env, "drain", args, resp, false))
		return CLI_FAIL;
	*dp = sw_jval_get(*resp, "drain");
	if (!*dp) {
		fprintf(stderr, "shareway: the daemon's answer has no drain "
			"state\n");
		sw_jval_free(*resp);
		*resp = NULL;
		return CLI_FAIL;
	}
	return CLI_OK;
}


static int run(const struct cli_env *env, int argc, char **argv)
{
	bool on = !strcmp(argv[0], "drain"), json = false, wait = false;
	double timeout = 0, t0;
	const struct sw_jval *d;
	struct sw_jval *res;
	int rc;

	if (cli_is_help(argc, argv))
		return cli_usage(stdout, usage_text, CLI_OK);
	for (int i = 1; i < argc; ++i) {
		char *end;

		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (on && !strcmp(argv[i], "--wait")) {
			wait = true;
		} else if (on && !strcmp(argv[i], "--timeout") &&
			   i + 1 < argc) {
			timeout = strtod(argv[++i], &end);
			if (*end || !(timeout > 0))
				return cli_usage(stderr, usage_text,
						 CLI_USAGE);
		} else {
			return cli_usage(stderr, usage_text, CLI_USAGE);
		}
	}
	if (timeout > 0 && !wait)
		return cli_usage(stderr, usage_text, CLI_USAGE);
	rc = ask(env, on ? "on" : "off", &res, &d);
	t0 = now_s();
	while (!rc && wait && !drained(d)) {
		struct timespec ts = {0, DRAIN_POLL_MS * 1000000L};

		if (timeout > 0 && now_s() - t0 >= timeout) {
			rc = CLI_TIMEOUT;
			break;
		}
		nanosleep(&ts, NULL);
		sw_jval_free(res);
		rc = ask(env, "query", &res, &d);
	}
	if (!res)
		return rc;
	if (json)
		cli_jval_print(res);
	else
		cli_drain_print(stdout, "", d);
	if (rc == CLI_TIMEOUT)
		fprintf(stderr, "shareway: still %lld calls and %lld relayed "
			"connections after %g s\n",
			(long long)sw_jval_int(d, "calls", 0),
			(long long)sw_jval_int(d, "relay_conns", 0), timeout);
	sw_jval_free(res);
	return rc;
}

const struct cli_cmd cli_cmd_drain = {
	"drain", "take no new calls; --wait: until those in progress end", run};
const struct cli_cmd cli_cmd_undrain = {"undrain", "take new calls again",
					run};
const struct cli_cmd cli_cmd_resume = {"resume", "the same as undrain", run};
