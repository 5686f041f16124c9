/**
 * @file sw_gwcluster.h  The cluster thread's SIP-thread side.
 *
 * Interface for the rest of the daemon (issue 15): the registry view
 * (sw_gwcluster_view(), refreshed after every heartbeat, by value; pick
 * the 300 ALTERNATE-SERVER target with sw_cluview_least_loaded()) and
 * the draining flag the next heartbeat publishes.
 */
#ifndef SW_GWCLUSTER_H
#define SW_GWCLUSTER_H

#include <stdbool.h>

#include "sipua.h"
#include "sw_cluster.h"
#include "sw_conf.h"

struct relay;
struct sw_ctl;

struct sw_gwcluster {
	struct sw_cluster *cl;      /* NULL: [cluster] off */
	const struct sw_conf *conf;
	struct sipua *ua;
	struct relay *relay;
	int tick_fd;
	bool draining;
	const bool *draining_src;   /* if set, read at each tick instead */
	/* called with each new view (the TURN redirect's alternate) */
	void (*on_view)(void *arg, const struct sw_cluview *v);
	void *view_arg;
	struct sw_cluview view;     /* the last one the thread sent */
	struct sw_cluster_status status;
	struct sw_conf *base;       /* the configuration's TURN users in
				       force (heap: it is large) */
	struct sw_cluster_creds *creds; /* the last read from PostgreSQL */
};

int sw_gwcluster_start(struct sw_gwcluster *g, const struct sw_conf *conf,
		       struct sipua *ua, struct relay *relay,
		       struct sw_ctl *ctl);
void sw_gwcluster_stop(struct sw_gwcluster *g);
void sw_gwcluster_set_draining(struct sw_gwcluster *g, bool draining);
const struct sw_cluview *sw_gwcluster_view(const struct sw_gwcluster *g);
void sw_gwcluster_merge_creds(const struct sw_gwcluster *g, struct sw_conf *nc);
void sw_gwcluster_reloaded(struct sw_gwcluster *g, const struct sw_conf *nc);

#endif
