/**
 * @file cli_relays.c  `shareway relays`: the live TURN allocations of the
 * running sharewayd, one line each with its peer connections below.
 *
 * The daemon's "relays" control command answers (the TURN module
 * registers it):
 *   {"allocations": [{"id", "call", "client", "client_addr", "transport",
 *     "relayed", "inside" (if any), "lifetime_left_s",
 *     "permissions": ["ip", ...],
 *     "connections": [{"id", "peer", "state", "bytes_in",
 *     "bytes_out"}]}]}
 * Needs the daemon: exit 1 with a clear message when it is not running.
 */
#include <inttypes.h>
#include <string.h>

#include "cli_common.h"

static const char usage_text[] =
	"usage: shareway relays [--json]\n"
	"Live TURN allocations: id, call tag, client (in-process or the TURN\n"
	"user), relayed address, lifetime left, permissions, and each RFC 6062\n"
	"peer connection with its state and bytes each way.\n";


static void join_perms(const struct sw_jval *a, char *buf, size_t sz)
{
	size_t n = 0;

	buf[0] = '\0';
	for (const struct sw_jval *p = a ? a->child : NULL; p && n < sz;
	     p = p->next)
		if (p->type == SW_JSTR)
			n += (size_t)snprintf(buf + n, sz - n, "%s%s",
					      n ? " " : "", p->str);
}


static void print_conns(const struct sw_jval *conns)
{
	for (const struct sw_jval *c = conns ? conns->child : NULL; c;
	     c = c->next)
		printf("      conn %-10lld %-22s %-9s in %" PRId64 "  out %"
		       PRId64 "\n", (long long)sw_jval_int(c, "id", 0),
		       sw_jval_str(c, "peer", "?"),
		       sw_jval_str(c, "state", "?"),
		       sw_jval_int(c, "bytes_in", 0),
		       sw_jval_int(c, "bytes_out", 0));
}


static void print_allocs(const struct sw_jval *res,
			 const struct sw_jval *allocs)
{
	unsigned n = 0;
	char perms[256];

	printf("%-10s %-8s %-14s %-22s %5s %s\n", "ID", "CALL", "CLIENT",
	       "RELAYED", "LEFT", "PERMISSIONS");
	for (const struct sw_jval *a = allocs->child; a; a = a->next, ++n) {
		char id[24];

		snprintf(id, sizeof(id), "%lld",
			 (long long)sw_jval_int(a, "id", 0));
		join_perms(sw_jval_get(a, "permissions"), perms,
			   sizeof(perms));
		cli_cell(stdout, id, 10, false);
		fputc(' ', stdout);
		cli_cell(stdout, sw_jval_str(a, "call", "-"), 8, false);
		fputc(' ', stdout);
		cli_cell(stdout, sw_jval_str(a, "client", "?"), 14, false);
		fputc(' ', stdout);
		cli_cell(stdout, sw_jval_str(a, "relayed", "?"), 22, false);
		printf(" %4llds ", (long long)sw_jval_int(a, "lifetime_left_s",
							 0));
		cli_cell(stdout, perms, 32, false);
		fputc('\n', stdout);
		if (sw_jval_get(a, "inside"))
			printf("      inside candidate %s\n",
			       sw_jval_str(a, "inside", "?"));
		print_conns(sw_jval_get(a, "connections"));
	}
	printf("%u allocation%s\n", n, n == 1 ? "" : "s");
	if (sw_jval_int(res, "commands_delayed", 0) ||
	    sw_jval_int(res, "commands_waiting", 0))
		printf("relay commands a full queue refused: %lld waiting, %lld "
		       "delayed, %lld lost (shareway show TAG names the call "
		       "each lost)\n",
		       (long long)sw_jval_int(res, "commands_waiting", 0),
		       (long long)sw_jval_int(res, "commands_delayed", 0),
		       (long long)sw_jval_int(res, "commands_lost", 0));
	if (sw_jval_int(res, "events_lost", 0))
		printf("relay events a full event queue refused: %lld lost "
		       "(shareway show TAG names the call each served)\n",
		       (long long)sw_jval_int(res, "events_lost", 0));
}


static int run(const struct cli_env *env, int argc, char **argv)
{
	struct sw_jval *res;
	const struct sw_jval *allocs;
	bool json;
	int rc;

	rc = cli_ctl_cmd(env, argc, argv, usage_text, "relays", &json, &res);
	if (!res)
		return rc;
	allocs = sw_jval_get(res, "allocations");
	if (!allocs || allocs->type != SW_JARR) {
		fprintf(stderr, "shareway: sharewayd's answer to 'relays' has "
			"no allocations list\n");
		sw_jval_free(res);
		return CLI_FAIL;
	}
	if (json)
		cli_jval_print(res);
	else
		print_allocs(res, allocs);
	sw_jval_free(res);
	return CLI_OK;
}

const struct cli_cmd cli_cmd_relays = {"relays", "live TURN allocations",
				       run};
