/**
 * @file sw_gw.h  The gateway glue on the SIP thread.
 *
 * Ties the B2BUA (sip/), the relay threads (turn/) and the call log
 * together: one struct sw_gwcall per call, created when the B2BUA reports
 * a call and freed when the call and its relay allocation are gone. It
 * feeds the call log from the B2BUA's observer, pumps the relay threads'
 * events, and hosts the application-sharing coordinator, which it gives
 * its calls, ready pool and relay commands through struct sw_as_host
 * (src/appshare/sw_appshare.h).
 * Everything here runs on the SIP thread; nothing is shared with the
 * relay threads but value messages.
 */
#ifndef SW_GW_H
#define SW_GW_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "sipua.h"
#include "sw_appshare.h"
#include "sw_callrec.h"
#include "sw_conf.h"
#include "sw_prom.h"
#include "sw_rules.h"

struct relay;
struct relay_ev;
struct sw_calllog;

/** A relay command a full queue refused, waiting to be sent again */
struct sw_gw_pend {
	struct relay_cmd *cmd;    /* heap: relay_cmd is an incomplete type */
	int64_t first_us;         /* the first refusal (monotonic) */
	unsigned tries;
};

#define SW_GW_POOL_MAX 64

/*
 * What /metrics says about the SIP thread (src/daemon/sw_gw_metrics.c).
 * The SIP thread is the only writer: what it counts as it happens
 * (SW_PROM_OWN_INC), and at each 1 s tick a copy of the values it keeps
 * in plain fields (its calls, the B2BUA's counters). The metrics thread
 * only loads them.
 */
enum { SW_GWM_SETUP, SW_GWM_CONNECTED, SW_GWM_CALL_N };

struct sw_gw_metrics {
	_Atomic uint64_t calls[SW_GWM_CALL_N];  /* gauges, at each tick */
	_Atomic uint64_t as_sessions[SW_AS_M_COUNT];
	_Atomic uint64_t sheds, tcp_refused, tcp_shed, cmd_delayed, cmd_lost;
	_Atomic uint64_t req[2][SIPUA_M_N], resp[2][6];
	_Atomic uint64_t ended[SW_CS_LOST + 1]; /* by enum sw_call_state */
	_Atomic uint64_t hep_sent, hep_failed;
	/* zones' peer lists ([zone] peer), summed over every zone */
	_Atomic uint64_t peers_up, peers_down, peer_probes_failed,
		peer_failovers;
	struct sw_hist setup;         /* INVITE -> 2xx toward the caller */
	struct sw_as_metrics as;      /* the coordinator's (sw_appshare.h) */
};

struct sw_gw {
	struct sipua *ua;
	struct relay *relay;      /* NULL when [turn] enable = no */
	struct sw_calllog *cl;    /* NULL when the call log is off */
	const struct sw_conf *conf;
	struct sw_gwcall *calls, *calls_last; /* every call, oldest first */
	struct sw_idmap call_ids;  /* the same calls by id: O(1) lookups */
	int tick_fd;              /* 1 s timerfd: check timeouts */
	uint32_t next_token;
	/* Allocations made ahead of calls, so inserting relay candidates
	 * never waits for a relay thread: taken by sw_gw_pool_take() and
	 * replaced at once. Pool entries carry pseudo call ids with the top
	 * bit set until a call takes them. */
	struct sw_gw_pooled pool[SW_GW_POOL_MAX];
	unsigned n_pool, pool_want, pool_inflight;
	uint64_t pool_seq;
	/* relay events put aside while the SDP hook waited for the pool */
	struct relay_ev *backlog;
	unsigned n_backlog, cap_backlog;
	/* Relay commands a full command queue refused: nothing sent between
	 * threads is dropped unseen. They wait here in order (a later
	 * command never overtakes an earlier one) and are sent again from
	 * every pump and tick; one that still cannot go after
	 * SW_GW_CMD_GIVEUP_US is lost, and its call's record says so. */
	struct sw_gw_pend *pend;
	unsigned n_pend, cap_pend;
	uint64_t cmd_delayed, cmd_lost;
	uint64_t ev_lost; /* relay events a full event queue refused */
	/* test aid (SHAREWAY_TEST_RELAY_FULL=type[:n]): sends of that
	 * command type are refused as a full queue would, always or the
	 * first n times */
	int test_full_type;
	long test_full_left;
	struct sw_as_host host; /* what the coordinator is given */
	struct sw_gw_metrics m;
	struct sw_hep *hep;     /* [hep] enable, else NULL */
};

#define SW_GW_CMD_GIVEUP_US (5 * 1000000)
#define SW_GW_PEND_MAX 4096

int sw_gw_init(struct sw_gw *gw, struct sipua *ua, struct relay *relay,
	       struct sw_calllog *cl, const struct sw_conf *conf);
void sw_gw_close(struct sw_gw *gw);
struct sw_gwcall *sw_gw_call(struct sw_gw *gw, uint64_t id);
void sw_gw_call_release(struct sw_gw *gw, struct sw_gwcall *c);
enum sw_media_policy sw_gw_as_policy(const struct sw_gw *gw,
				     const struct sw_route_kept *r);
struct relay_cmd;
int sw_gw_pool_take(struct sw_gw *gw, struct sw_gwcall *c,
		    struct relay_cmd *permit, struct sw_gw_pooled *out);
void sw_gw_cmd(struct sw_gw *gw, const struct relay_cmd *cmd);
const char *sw_gw_cmd_name(int type);

#define SW_GW_POOL_CALL (1ull << 63) /* call ids of pooled allocations */

struct sw_ctl;
int sw_gw_ctl_register(struct sw_gw *gw, struct sw_ctl *ctl);

/* sw_gw_metrics.c */
void sw_gw_metrics_init(struct sw_gw *gw);
void sw_gw_metrics_tick(struct sw_gw *gw);
void sw_gw_metrics_collect(struct sw_prom *p, void *gw);
int sw_gw_hep_open(struct sw_gw *gw, const struct sw_conf *conf);
void sw_gw_hep_close(struct sw_gw *gw);
void sw_gw_hep_sip(struct sw_gw *gw, const char *call_id,
		   const struct sipua_msg *m);

#endif
