/**
 * @file sw_rules.h  The dial plan: rule file, matching, routing result.
 *
 * A rule set is loaded from its own INI file (conf/rules.conf documents
 * the format), checked against the zones of a struct sw_conf, and is
 * immutable afterwards. It is reference-counted with atomic counts: the
 * SIP thread keeps the current set, a call in progress keeps the set it
 * matched, and a reload swaps in a new set only if it loaded cleanly.
 * The set carries a copy of the zones it was checked against, so a
 * reload of shareway.conf's zones travels with it.
 *
 * sw_rules_route() fills a struct sw_route_result (sw_router.h: the
 * value the B2BUA acts on) by value: it holds no pointer into the rule
 * set, so its trace can be copied into a call-log message or printed by
 * `shareway locate`, and a call keeps a compact copy (sw_route_keep()). sw_rules_router offers a
 * rule set to the B2BUA, which knows no rule file, as its router.
 */
#ifndef SW_RULES_H
#define SW_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sw_conf.h"
#include "sw_router.h"

struct sw_rules;

/** The dial plan as the B2BUA's router (sipua_create) */
extern const struct sw_router sw_rules_router;

int sw_rules_load(struct sw_rules **rp, const char *path,
		  const struct sw_conf *conf, char *err, size_t errsz);
int sw_rules_load_buf(struct sw_rules **rp, const char *name,
		      const char *buf, size_t len, const struct sw_conf *conf,
		      char *err, size_t errsz);
struct sw_rules *sw_rules_ref(struct sw_rules *r);
void sw_rules_unref(struct sw_rules *r);
const char *sw_rules_target(const struct sw_rules *r, unsigned i,
			    enum sw_transport *tp);
unsigned sw_rules_count(const struct sw_rules *r);
const char *sw_rules_path(const struct sw_rules *r);
const struct sw_zone *sw_rules_zone_find(const struct sw_rules *r,
					 const char *name);
const struct sw_zone *sw_rules_zones(const struct sw_rules *r, unsigned *n);

int sw_rules_route(const struct sw_rules *r, const struct sw_route_input *in,
		   struct sw_route_result *out);

const char *sw_route_outcome_name(enum sw_route_outcome o);
int sw_route_trace_format(const struct sw_route_result *res, char *buf,
			  size_t sz);
int sw_route_json_format(const struct sw_route_result *res, char *buf,
			 size_t sz);

#endif
