/**
 * @file sw_cluview.h  The cluster registry as one instance sees it.
 *
 * The cluster thread (src/cluster/) reads the instance registry from
 * PostgreSQL after every heartbeat and publishes it, by value, to the
 * SIP thread; any thread may be handed a copy (the TURN server's 300
 * ALTERNATE-SERVER needs "the least-loaded active instance other than
 * me"). It lives in base/ so that turn/ and sip/ can read it without
 * knowing the cluster module. No pointers: copy it freely.
 */
#ifndef SW_CLUVIEW_H
#define SW_CLUVIEW_H

#include <stdbool.h>
#include <stdint.h>

#include "sw_addr.h"

#define SW_CLUSTER_MAX 16 /* instances a view holds (Expressway: 6) */
#define SW_CLUSTER_NAME 64

enum sw_inst_state {
	SW_INST_ACTIVE = 0, /* takes calls and allocations */
	SW_INST_DRAINING,   /* ends the calls it has, takes no new one */
	SW_INST_GONE,       /* no heartbeat for dead_after: stopped */
};

/** One instance of the registry */
struct sw_cluview_inst {
	char name[SW_CLUSTER_NAME];
	struct sw_sa sip;        /* its first SIP listener */
	struct sw_sa turn;       /* its TURN address (external_ip or the
				    first listener), unset if TURN is off */
	enum sw_inst_state state;
	uint32_t calls;          /* SIP calls in progress */
	uint32_t allocs;         /* TURN allocations (UDP + TCP) */
	uint32_t ports_free;     /* relay ports left in its range */
	uint32_t hb_age_ms;      /* age of its last heartbeat, by the
				    database's clock */
	bool self;               /* this instance */
};

/** The registry at one moment */
struct sw_cluview {
	int64_t at_us;           /* when it was read (CLOCK_REALTIME) */
	bool db_up;              /* false: PostgreSQL unreachable, the
				    instances are the last ones read */
	unsigned n;
	struct sw_cluview_inst inst[SW_CLUSTER_MAX];
};

const char *sw_inst_state_name(enum sw_inst_state s);
int sw_inst_state_parse(const char *s, enum sw_inst_state *out);
const struct sw_cluview_inst *sw_cluview_least_loaded(
	const struct sw_cluview *v);

#endif
