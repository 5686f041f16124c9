/**
 * @file sw_prom.c  Prometheus text format writer and histograms
 * (sw_prom.h). The names and labels are the program's own constants,
 * never a peer's text: no label value needs escaping, and none is per
 * call, user or address (bounded series).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sw_prom.h"

void sw_prom_init(struct sw_prom *p)
{
	memset(p, 0, sizeof(*p));
}


void sw_prom_free(struct sw_prom *p)
{
	free(p->buf);
	memset(p, 0, sizeof(*p));
}


__attribute__((format(printf, 2, 3)))
static void add(struct sw_prom *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		if (p->err)
			return;
		va_start(ap, fmt);
		n = vsnprintf(p->buf ? p->buf + p->len : NULL,
			      p->buf ? p->cap - p->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			p->err = true;
			return;
		}
		if (p->buf && (size_t)n < p->cap - p->len) {
			p->len += (size_t)n;
			return;
		}
		size_t cap = p->cap ? p->cap * 2 : 16384;
		char *b;

		while (cap - p->len <= (size_t)n)
			cap *= 2;
		b = realloc(p->buf, cap);
		if (!b) {
			p->err = true;
			return;
		}
		p->buf = b;
		p->cap = cap;
	}
}


/** # HELP and # TYPE of a family; its samples follow */
void sw_prom_family(struct sw_prom *p, const char *name, const char *type,
		    const char *help)
{
	add(p, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}


/** One sample; labels: 'a="x",b="y"' or NULL */
void sw_prom_u64(struct sw_prom *p, const char *name, const char *labels,
		 uint64_t v)
{
	if (labels && *labels)
		add(p, "%s{%s} %llu\n", name, labels, (unsigned long long)v);
	else
		add(p, "%s %llu\n", name, (unsigned long long)v);
}


void sw_prom_dbl(struct sw_prom *p, const char *name, const char *labels,
		 double v)
{
	if (labels && *labels)
		add(p, "%s{%s} %.6f\n", name, labels, v);
	else
		add(p, "%s %.6f\n", name, v);
}


void sw_hist_init(struct sw_hist *h, const struct sw_hist_bounds *b)
{
	memset(h, 0, sizeof(*h));
	h->b = b;
}


/** Count one duration (microseconds) in its bucket; its owner only */
void sw_hist_observe(struct sw_hist *h, int64_t us)
{
	unsigned i = 0;
	double s = us > 0 ? (double)us / 1e6 : 0;

	while (i < h->b->n && s > h->b->le[i])
		++i;
	SW_PROM_OWN_ADD(h->bucket[i], 1);
	SW_PROM_OWN_ADD(h->sum_us, (uint64_t)(us > 0 ? us : 0));
}


/** A whole histogram family: cumulative buckets, +Inf, _sum, _count */
void sw_prom_hist(struct sw_prom *p, const char *name, const char *help,
		  const struct sw_hist *h)
{
	uint64_t cum = 0;
	char lbl[48];

	sw_prom_family(p, name, "histogram", help);
	for (unsigned i = 0; i <= h->b->n; ++i) {
		cum += atomic_load_explicit(&h->bucket[i],
					    memory_order_relaxed);
		if (i < h->b->n)
			snprintf(lbl, sizeof(lbl), "le=\"%g\"", h->b->le[i]);
		else
			snprintf(lbl, sizeof(lbl), "le=\"+Inf\"");
		add(p, "%s_bucket{%s} %llu\n", name, lbl,
		    (unsigned long long)cum);
	}
	add(p, "%s_sum %.6f\n%s_count %llu\n", name,
	    (double)atomic_load_explicit(&h->sum_us, memory_order_relaxed) /
		    1e6,
	    name, (unsigned long long)cum);
}
