/**
 * @file sw_appshare.h  The application-sharing coordinator and the glue
 * that hosts it, as each sees the other (SIP thread only).
 *
 * The glue (src/daemon/sw_gw.c) owns the calls and the ready pool of
 * relay allocations and sends relay commands; it offers them to the
 * coordinator as a struct sw_as_host, a table of its operations on an
 * opaque struct sw_gw. The coordinator (sw_appshare.c) keeps a call's
 * application-sharing state in c->as and is driven by the glue through
 * the functions below. Neither includes the other's internals: this
 * header is the whole contract, on the coordinator's row, so that the
 * glue includes down and the coordinator never up.
 */
#ifndef SW_APPSHARE_H
#define SW_APPSHARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "sipua.h"
#include "sw_addr.h"
#include "sw_prom.h"
#include "sw_idmap.h"
#include "sw_router.h"

struct relay;
struct relay_cmd;
struct sw_appshare_call;
struct sw_calllog;
struct sw_conf;
struct sw_gw;
struct sw_json;

/** One call as the glue keeps it: created when the B2BUA reports the
 * call, freed by the glue when the call and its relay allocation are
 * gone. The coordinator reads it and owns only `as`. */
struct sw_gwcall {
	struct sw_gwcall *next, **prevp; /* every call, oldest first */
	struct sw_idmap_node by_id; /* the registry's index */
	uint64_t id;                /* the B2BUA's call id */
	uint64_t uid;               /* call-log uid once its record started,
				       0 before and if the log is off */
	uint64_t uid_reserved;      /* the uid its tag names, from the start */
	char tag[24];               /* call-log tag: in every log line */
	enum sipua_leg_id edge_leg; /* which leg faces the Edge */
	uint32_t neg_seq;           /* offer/answer exchanges so far */
	uint32_t fwd_seq;           /* the last one forwarded to a peer */
	int64_t start_us;
	bool ended;                 /* the B2BUA reported the end */
	bool answered;              /* leg A got its 2xx */
	char call_id[160];          /* leg A's Call-ID: HEP correlation */
	bool settled;               /* edge_leg is final, the call log's
				       record started (if the log is on) */
	char from[128], to[128];    /* initial INVITE, for `calls --active` */
	char rule[SW_ROUTE_NAME];   /* the rule it matched, once routed */
	struct sw_appshare_call *as; /* app-sharing state, NULL if none */
};

/** A ready in-process relay allocation, not yet given to a call */
struct sw_gw_pooled {
	uint32_t alloc_id;
	struct sw_sa relayed; /* advertised relayed address */
	struct sw_sa inside;  /* its inside listener, if [appsharing]
				 inside_candidate */
};

#define SW_GW_FAULT_MAX 320 /* one sentence of a call's fault */

/** Sessions by state for /metrics (sw_appshare_metrics_state()) */
enum sw_as_mstate {
	SW_AS_M_OFFERED,   /* offered, no relay of its own yet */
	SW_AS_M_NO_RELAY,  /* no allocation was ready: passes as it came */
	SW_AS_M_CHECKING,  /* ICE checks through the relay */
	SW_AS_M_FAILED,    /* ... and a direction's checks failed */
	SW_AS_M_COMPLETED, /* spliced, completion re-INVITE sent */
	SW_AS_M_DIRECT,    /* the media took a direct path */
	SW_AS_M_COUNT,
};
enum { SW_AS_RI_OK, SW_AS_RI_REFUSED, SW_AS_RI_ABANDONED, SW_AS_RI_COUNT };

/** What the coordinator counts for /metrics: written by the SIP thread
 *  only (SW_PROM_OWN_INC), read by the metrics thread */
struct sw_as_metrics {
	_Atomic uint64_t ice[2][2];   /* [enum sw_ice_dir][succeeded, failed] */
	_Atomic uint64_t reinvite[SW_AS_RI_COUNT]; /* completion re-INVITEs */
	struct sw_hist completion;    /* checks start -> completion re-INVITE */
};

/** What the glue offers the coordinator: its context and operations */
struct sw_as_host {
	struct sw_gw *gw;         /* the glue, passed back to each operation */
	struct sipua *ua;
	struct relay *relay;      /* NULL when [turn] enable = no */
	struct sw_calllog *cl;    /* NULL when the call log is off */
	const struct sw_conf *conf;
	/* the call of a B2BUA call id, or NULL */
	struct sw_gwcall *(*call)(struct sw_gw *gw, uint64_t id);
	/* forget and free a call that is over (c->as with it) */
	void (*call_release)(struct sw_gw *gw, struct sw_gwcall *c);
	/* give a ready allocation to c, sending permit (a RELAY_CMD_PERMIT
	 * whose addrs and targets are filled); 0 or an errno value */
	int (*pool_take)(struct sw_gw *gw, struct sw_gwcall *c,
			 struct relay_cmd *permit, struct sw_gw_pooled *out);
	/* send a relay command, now or late (sw_appshare_cmd_late()) */
	void (*cmd)(struct sw_gw *gw, const struct relay_cmd *cmd);
	/* a relay command type's name, for the log */
	const char *(*cmd_name)(int type);
	struct sw_as_metrics *m;  /* the counters /metrics shows */
	/* a STUN/TURN message of call c as a HEP log line, or NULL: HEP
	 * of TURN/ICE is off */
	void (*hep_log)(struct sw_gw *gw, const struct sw_gwcall *c,
			const struct sw_sa *src, const struct sw_sa *dst,
			int64_t t_us, const char *text);
};


/** 'e' for the leg facing the Edge, 'c' for the conference side */
static inline char sw_gw_side(const struct sw_gwcall *c,
			      enum sipua_leg_id leg)
{
	return leg == c->edge_leg ? 'e' : 'c';
}


/** Microseconds since the epoch: the time of what the call log records */
static inline int64_t sw_gw_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}


/** Microseconds of CLOCK_MONOTONIC: what timeouts are measured on (the
 * wall clock may be stepped by NTP or an operator while they run) */
static inline int64_t sw_gw_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}


/* sw_appshare.c: what the glue asks of the coordinator */
int sw_appshare_sdp(struct sw_as_host *h, struct sw_gwcall *c,
		    const struct sipua_call_info *call, enum sw_media_policy p,
		    enum sipua_leg_id from, enum sipua_sdp_kind kind,
		    struct sipua_sdp *sdp, char **outp, size_t *outlenp);
void sw_appshare_relay_event(struct sw_as_host *h, const void *relay_ev);
void sw_appshare_tick(struct sw_as_host *h, struct sw_gwcall *c,
		      int64_t now);
void sw_appshare_call_ended(struct sw_as_host *h, struct sw_gwcall *c);
void sw_appshare_cmd_late(struct sw_as_host *h, struct sw_gwcall *c,
			  const struct relay_cmd *cmd, int64_t waited_us,
			  bool lost);
void sw_appshare_free(struct sw_appshare_call *as);
void sw_appshare_flags(const struct sw_appshare_call *as, char *buf,
		       size_t sz);
void sw_appshare_relay_json(const struct sw_appshare_call *as,
			    const char *tag, struct sw_json *j);
int sw_appshare_metrics_state(const struct sw_appshare_call *as);

#endif
