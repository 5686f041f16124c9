/**
 * @file calllog_load.c  calllog-load: bulk-generate synthetic call records
 * through the real call-log writer, and report the rate it sustained.
 *
 *   calllog-load DB N [--span DAYS] [--full]
 *
 * N synthetic calls (flagged synthetic; one in five fails) end at evenly
 * spaced times over the last DAYS days (default 30), so a database of
 * 1,000,000 calls has the shape `shareway calls --since 1h --failed` is
 * benchmarked against. The producer waits when the writer's queue is half
 * full, so nothing is dropped; --full adds the SDP bodies.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sw_calllog.h"
#include "sw_log.h"

#define QUEUE_LEN 65536


static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}


/* Wait while the writer is more than half a queue behind */
static void throttle(struct sw_calllog *cl)
{
	struct timespec ms = {0, 1000000};
	struct sw_calllog_stats st;

	for (;;) {
		sw_calllog_stats(cl, &st);
		if (st.pending < QUEUE_LEN / 2)
			return;
		nanosleep(&ms, NULL);
	}
}


static int generate(struct sw_calllog *cl, uint64_t n, int64_t span_us,
		    bool full)
{
	int64_t end = sw_calllog_now(), step = n ? span_us / (int64_t)n : 0;

	for (uint64_t i = 0; i < n; ++i) {
		if (i % 256 == 0)
			throttle(cl);
		if (sw_calllog_synth_call(cl, i, end - span_us +
					  (int64_t)i * step, full)) {
			fprintf(stderr, "calllog-load: call %" PRIu64
				" not queued\n", i);
			return 1;
		}
	}
	return sw_calllog_flush(cl, 600000) ? 1 : 0;
}


int main(int argc, char **argv)
{
	struct sw_calllog_opts o = {.queue_len = QUEUE_LEN};
	struct sw_calllog_stats st;
	struct sw_calllog *cl;
	double days = 30, t0;
	bool full = false;
	uint64_t n;
	int rc;

	if (argc < 3 || argv[1][0] == '-') {
		fprintf(stderr, "usage: calllog-load DB N [--span DAYS] "
			"[--full]\n");
		return 2;
	}
	n = strtoull(argv[2], NULL, 10);
	for (int i = 3; i < argc; ++i) {
		if (!strcmp(argv[i], "--full"))
			full = true;
		else if (!strcmp(argv[i], "--span") && i + 1 < argc)
			days = atof(argv[++i]);
		else {
			fprintf(stderr, "calllog-load: bad option %s\n",
				argv[i]);
			return 2;
		}
	}
	sw_log_init(SW_LOG_WARN, false, "calllog-load");
	o.path = argv[1];
	if (sw_calllog_open(&cl, &o))
		return 1;
	t0 = mono_s();
	rc = generate(cl, n, (int64_t)(days * 86400e6), full);
	sw_calllog_stats(cl, &st);
	sw_calllog_close(cl);
	t0 = mono_s() - t0;
	printf("%" PRIu64 " calls (%" PRIu64 " records) in %.1f s: %.0f calls/s,"
	       " %.0f records/s, %" PRIu64 " dropped, %" PRIu64 " errors\n", n,
	       st.written, t0, (double)n / t0, (double)st.written / t0,
	       st.dropped, st.errors);
	return rc || st.dropped || st.errors ? 1 : 0;
}
