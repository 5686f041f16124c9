/**
 * @file sw_cluview.c  Reading a registry view (sw_cluview.h): pure.
 */
#include <errno.h>
#include <string.h>

#include "sw_cluview.h"

static const char *const state_names[] = {"active", "draining", "gone"};


const char *sw_inst_state_name(enum sw_inst_state s)
{
	return (unsigned)s < 3 ? state_names[s] : "?";
}


/** @return 0 or EINVAL */
int sw_inst_state_parse(const char *s, enum sw_inst_state *out)
{
	for (unsigned i = 0; i < 3; ++i)
		if (!strcmp(s, state_names[i])) {
			*out = (enum sw_inst_state)i;
			return 0;
		}
	return EINVAL;
}


/*
 * Load as a TURN client sent elsewhere will add to it: allocations first
 * (what a redirected Allocate costs), then calls; a tie goes to the one
 * with more relay ports free, then to the name, so every instance picks
 * the same one from the same view.
 */
static bool lighter(const struct sw_cluview_inst *a,
		    const struct sw_cluview_inst *b)
{
	if (a->allocs != b->allocs)
		return a->allocs < b->allocs;
	if (a->calls != b->calls)
		return a->calls < b->calls;
	if (a->ports_free != b->ports_free)
		return a->ports_free > b->ports_free;
	return strcmp(a->name, b->name) < 0;
}


/**
 * The least-loaded active instance other than this one that has a TURN
 * address and relay ports left, or NULL (none: serve it here, or refuse)
 */
const struct sw_cluview_inst *sw_cluview_least_loaded(
	const struct sw_cluview *v)
{
	const struct sw_cluview_inst *best = NULL;

	for (unsigned i = 0; v && i < v->n && i < SW_CLUSTER_MAX; ++i) {
		const struct sw_cluview_inst *c = &v->inst[i];

		if (c->self || c->state != SW_INST_ACTIVE ||
		    !sw_sa_isset(&c->turn) || !c->ports_free)
			continue;
		if (!best || lighter(c, best))
			best = c;
	}
	return best;
}
