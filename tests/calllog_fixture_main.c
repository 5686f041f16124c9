/**
 * @file calllog_fixture_main.c  calllog-fixture DB: write the ten fixed
 * calls of calllog_fixture.c into a call log (created if missing) through
 * the real writer, for the CLI snapshot and export tests.
 */
#include <stdio.h>
#include <string.h>

#include "calllog_fixture.h"
#include "sw_log.h"


int main(int argc, char **argv)
{
	struct sw_calllog_opts o = {0};
	struct sw_calllog *cl = NULL;
	uint64_t uids[FX_N];
	int err;

	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: calllog-fixture DB\n");
		return 2;
	}
	sw_log_init(SW_LOG_WARN, false, "calllog-fixture");
	o.path = argv[1];
	err = sw_calllog_open(&cl, &o);
	if (err) {
		fprintf(stderr, "%s: %s\n", argv[1], strerror(err));
		return 1;
	}
	err = fx_write_all(cl, uids);
	if (!err)
		err = sw_calllog_flush(cl, 30000);
	sw_calllog_close(cl);
	if (err) {
		fprintf(stderr, "fixture not written: %s\n", strerror(err));
		return 1;
	}
	printf("%d calls written to %s\n", FX_N, argv[1]);
	return 0;
}
