/**
 * @file sw_prom.h  The Prometheus text exposition format (version 0.0.4)
 * written into a growing buffer, and the lock-free histogram the SIP
 * thread fills for it.
 *
 * Counters and gauges are read from their owners' relaxed atomics by the
 * metrics thread; a histogram is written by one thread only (its owner)
 * and read by the metrics thread: its buckets are not cumulative in
 * memory, the page makes them so and takes _count from them, so a scrape
 * that races an observation still shows a consistent histogram
 * (le="+Inf" == _count, buckets non-decreasing).
 */
#ifndef SW_PROM_H
#define SW_PROM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sw_prom {
	char *buf;
	size_t len, cap;
	bool err; /* out of memory: the page is not served */
};

void sw_prom_init(struct sw_prom *p);
void sw_prom_free(struct sw_prom *p);
void sw_prom_family(struct sw_prom *p, const char *name, const char *type,
		    const char *help);
void sw_prom_u64(struct sw_prom *p, const char *name, const char *labels,
		 uint64_t v);
void sw_prom_dbl(struct sw_prom *p, const char *name, const char *labels,
		 double v);

/* A counter only its owner thread writes: a relaxed load and store, no
 * locked instruction; any thread may load it */
#define SW_PROM_OWN_ADD(x, n)                                                  \
	atomic_store_explicit(                                                 \
		&(x), atomic_load_explicit(&(x), memory_order_relaxed) + (n),  \
		memory_order_relaxed)
#define SW_PROM_OWN_INC(x) SW_PROM_OWN_ADD(x, 1)

#define SW_HIST_MAX 16

/** Bucket bounds in seconds, ascending; +Inf is implicit */
struct sw_hist_bounds {
	unsigned n;
	double le[SW_HIST_MAX];
};

struct sw_hist {
	const struct sw_hist_bounds *b;
	_Atomic uint64_t bucket[SW_HIST_MAX + 1]; /* last: above every bound */
	_Atomic uint64_t sum_us;
};

void sw_hist_init(struct sw_hist *h, const struct sw_hist_bounds *b);
void sw_hist_observe(struct sw_hist *h, int64_t us);
void sw_prom_hist(struct sw_prom *p, const char *name, const char *help,
		  const struct sw_hist *h);

#endif
