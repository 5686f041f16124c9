/**
 * @file sw_metrics.h  The /metrics HTTP listener ([metrics] enable): one
 * libmicrohttpd thread of its own that renders the page with a collect
 * callback on each scrape.
 *
 * The callback runs on that thread: it may only read what other threads
 * publish for it (relaxed atomics their owners write, snapshots sent as
 * values), never take a lock a hot path takes, never touch another
 * thread's objects.
 */
#ifndef SW_METRICS_H
#define SW_METRICS_H

#include "sw_addr.h"
#include "sw_prom.h"

struct sw_metrics;

typedef void(sw_metrics_collect_fn)(struct sw_prom *p, void *arg);

int sw_metrics_start(struct sw_metrics **mp, const struct sw_sa *listen,
		     sw_metrics_collect_fn *fn, void *arg);
void sw_metrics_stop(struct sw_metrics *m);

#endif
