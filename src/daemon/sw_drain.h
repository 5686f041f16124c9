/**
 * @file sw_drain.h  Drain and TURN redirects: how an instance of several
 * steps aside without cutting a call.
 *
 * `shareway drain` (control command "drain") stops new calls (the B2BUA
 * answers new INVITEs and OPTIONS 503 + Retry-After, so a dispatcher in
 * front moves on and its OPTIONS probes take this instance out) and new
 * external TURN allocations (300 Try Alternate to the least-loaded active
 * instance of the cluster view), lets calls in progress end, and reports
 * how many remain; `undrain` takes calls again. An instance above
 * [turn] redirect_allocations redirects external Allocates the same way
 * without draining. Everything here runs on the SIP thread; the relay
 * threads get the redirect as a value (relay_set_redirect), again each
 * time it changes.
 */
#ifndef SW_DRAIN_H
#define SW_DRAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "sipua.h"
#include "sw_addr.h"
#include "sw_conf.h"
#include "sw_ctl.h"

struct relay;

struct sw_drain {
	struct sipua *ua;
	struct relay *relay;            /* NULL when TURN is off */
	const struct sw_conf *conf;
	bool on;                        /* draining */
	int64_t since_us;               /* when the drain began */
	int tick_fd;                    /* 1 s: the load against the limit */
	struct sw_sa alt, alt_tls;      /* where redirects go; unset none */
	char alt_name[64];              /* the alternate instance's name */
	uint32_t alt_allocs;            /* its TURN allocations */
	bool redirecting;               /* what the relay threads were told */
	struct sw_sa sent_alt, sent_tls;
	uint64_t allocs;                /* TURN allocations at the last tick */
};

int sw_drain_init(struct sw_drain *d, struct sipua *ua, struct relay *relay,
		  const struct sw_conf *conf, struct sw_ctl *ctl);
void sw_drain_close(struct sw_drain *d);
void sw_drain_set(struct sw_drain *d, bool on);
/** The cluster view's least-loaded active instance other than this one
 *  (its name, TURN address, TLS listener, allocations), or NULL/unset:
 *  none */
void sw_drain_alternate(struct sw_drain *d, const char *name,
			const struct sw_sa *turn, const struct sw_sa *tls,
			uint32_t allocs);

#endif
