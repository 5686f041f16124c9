/**
 * @file sw_resolve.h  The resolver thread: names of the configuration only.
 *
 * The gateway looks up no name written by an outsider; the names its own
 * configuration holds (a zone's target, a rule's target URI) are resolved
 * here, on a thread of their own, with c-ares: at load, at reload, and
 * again when their TTL runs out. The SIP thread says which names it wants
 * (sw_resolve_want, by value through a queue) and reads the answers from
 * another (sw_resolve_pop when sw_resolve_fd() is readable); it never
 * waits for one. A resolver that fails or cannot be reached costs one
 * query per name and retry period, never a blocked or spinning thread.
 *
 * RFC 3263 for a target with an explicit transport (a zone's transport is
 * always known): a port in the URI means A/AAAA of the host at that port;
 * no port, an SRV lookup (_sip._udp, _sip._tcp, _sips._tcp) first, its
 * best target (lowest priority, then highest weight) at the SRV port, else
 * A/AAAA at 5060 (5061 for TLS). The hosts file is read before DNS.
 */
#ifndef SW_RESOLVE_H
#define SW_RESOLVE_H

#include <stdbool.h>
#include <stdint.h>

#include "sw_addr.h"
#include "sw_conf.h"

#define SW_RESOLVE_NAME  256 /* a target URI as configured, a host name */
#define SW_RESOLVE_ADDRS 8   /* addresses kept per name */

struct sw_resolve;

/** Resolver settings (NULL: the defaults) */
struct sw_resolve_opts {
	const char *servers;  /* "ip:port,..." (c-ares CSV), NULL: resolv.conf */
	uint32_t min_ttl_s;   /* an answer is kept at least this long (30) */
	uint32_t max_ttl_s;   /* and at most (3600) */
	uint32_t retry_s;     /* after a failure, next try (30) */
	uint32_t timeout_ms;  /* per query and server (2000), 2 tries */
};

/** One answer, by value (resolver thread -> SIP thread) */
struct sw_resolve_answer {
	char key[SW_RESOLVE_NAME];   /* as given to sw_resolve_want() */
	struct sw_sa addr[SW_RESOLVE_ADDRS]; /* ports set */
	unsigned n;                  /* 0: failed, see why */
	uint32_t ttl_s;              /* until the next lookup */
	char why[96];                /* c-ares' reason when n == 0 */
};

int sw_resolve_start(struct sw_resolve **rp,
		     const struct sw_resolve_opts *opts);
void sw_resolve_stop(struct sw_resolve *r);
int sw_resolve_reset(struct sw_resolve *r);
int sw_resolve_want(struct sw_resolve *r, const char *key, const char *host,
		    uint16_t port, enum sw_transport tp);
int sw_resolve_fd(const struct sw_resolve *r);
void sw_resolve_drain_fd(struct sw_resolve *r);
bool sw_resolve_pop(struct sw_resolve *r, struct sw_resolve_answer *a);

#endif
