/**
 * @file sw_appshare_int.h  Internals of the application-sharing
 * coordinator: its per-call state, shared by sw_appshare.c (the call, the
 * relay and the ICE checks) and sw_appshare_sdp.c (what it reads from and
 * writes into the SDP). SIP thread only.
 */
#ifndef SW_APPSHARE_INT_H
#define SW_APPSHARE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sw_addr.h"
#include "sw_appshare.h"
#include "sw_callrec.h"
#include "sw_rules.h"
#include "turn_msg.h"

struct sdpr;

#define AS_MAX_CANDS 16
#define AS_MAX_CONNS 8
#define AS_MAX_TIDS 16
#define AS_MAX_OLD 4
#define AS_MTYPE "applicationsharing"
#define AS_WIRE_MAX 256 /* STUN/TURN messages recorded per call */

struct as_tid {
	uint8_t tid[TURN_TID_LEN];
	bool nominating; /* USE-CANDIDATE */
	bool answered;
};

/* peer: what connected (the Edge relay to the relayed address, or the
 * conference to the inside address); target: what the gateway reached
 * for it (a conference candidate, or with inside an Edge candidate);
 * local: the gateway's socket toward target */
struct as_conn {
	uint32_t conn_id;
	struct sw_sa peer, target, local;
	bool inside; /* the conference connected to the inside candidate */
	bool bound, valid, spliced, closed;
	bool nominated; /* the controlling agent's USE-CANDIDATE succeeded */
	bool succ[2];                        /* by enum sw_ice_dir */
	struct as_tid tids[2][AS_MAX_TIDS];  /* requests by direction */
	unsigned n_tids[2];
};

/* A candidate of either side, as much as the coordinator needs of it */
struct as_cand {
	struct sw_sa addr;
	uint32_t priority;
	unsigned component;
};

struct as_dir {
	struct sw_rec_ice rec;
	bool failed_logged;
	char *bad_user; /* the first USERNAME naming other ufrags, or NULL */
};

/*
 * A sharing session's state. as_step() in sw_appshare.c is its only
 * writer: every event (an SDP crossing, a relay event, the tick, the
 * call's end, and what the coordinator's own actions raise) goes
 * through it, which takes the next state from one table (sw_as_next())
 * and then runs the event's actions; an event the table says is
 * impossible in the state is logged and changes nothing.
 */
enum as_state {
	AS_ST_IDLE = 0,  /* no session: none offered yet, or the last ended */
	AS_ST_OFFERED,   /* a session offered, no relay of its own yet */
	AS_ST_NO_RELAY,  /* relay: no allocation was ready; SDP passes as
			    it came until the session ends */
	AS_ST_CHECKING,  /* the relay is the session's (taken, or the
			    conference's watched): ICE checks through it */
	AS_ST_COMPLETED, /* every component has a selected pair through the
			    relay: spliced, completion re-INVITE sent */
	AS_ST_DIRECT,    /* the nomination went elsewhere: relay released,
			    the SDP is the two sides' own */
	AS_ST_COUNT,
	AS_ST_IMPOSSIBLE = AS_ST_COUNT /* sw_as_next(): no such transition */
};

enum as_event {
	AS_EV_OFFER,       /* an offer with the stream on */
	AS_EV_ANSWER,      /* an answer with the stream on */
	AS_EV_LOCAL_OFFER, /* an offer that would glare with the gateway's
			      re-INVITE: answered here, or 491 */
	AS_EV_STOP,        /* the stream at port 0: the session ends */
	AS_EV_RESTART,     /* an offer with new ICE credentials (a new
			      presenter): the session ends, and the offer
			      (AS_EV_OFFER next) begins another */
	AS_EV_TAKEN,       /* an allocation taken from the ready pool, or
			      the conference's own told to the relay */
	AS_EV_NO_RELAY,    /* no allocation ready */
	AS_EV_COMPLETION,  /* the controlling agent's completion offer names
			      the gateway's pair */
	AS_EV_BYPASS,      /* its nomination went to a pair without the
			      gateway (its completion offer, or no
			      nomination through the relay in time) */
	AS_EV_SELECTED,    /* every component has a selected pair through
			      the gateway */
	AS_EV_RELAY,       /* a relay event of the session's allocation */
	AS_EV_ALLOC_GONE,  /* the session's allocation is gone */
	AS_EV_TICK,        /* once a second */
	AS_EV_END,         /* the call ends (a BYE, a failure) or is over */
	AS_EV_COUNT
};

/* The session's allocation, a state of its own: it is released when the
 * media go direct or the call ends, and gone only when the relay thread
 * says so, whatever the session does meanwhile */
enum as_alloc {
	AS_AL_NONE = 0,
	AS_AL_HELD,     /* the gateway's in-process allocation (relay) */
	AS_AL_WATCHED,  /* the conference's own, tied to the call (observe) */
	AS_AL_DELETING, /* RELAY_CMD_DELETE sent: RELAY_EV_ALLOC_GONE to come */
};

/* What an ICE direction sees of the checks (enum sw_ice_state, which the
 * call log records): written by as_ice_step() only */
enum as_ice_event {
	AS_ICE_REQUEST, /* a Binding request */
	AS_ICE_SUCCESS, /* a Binding success answering one */
	AS_ICE_TIMEOUT, /* check_timeout passed without success */
	AS_ICE_EV_COUNT
};

/* The allocation of an earlier sharing session of the call, deleted (or,
 * observed, no longer the call's): its late events are recorded under its
 * own relay number and change nothing of the current session */
struct as_old {
	uint32_t alloc_id;
	uint32_t session;
};

/* One call's application sharing. SfB reuses a call's dialog for several
 * sharing sessions (m=applicationsharing added by re-INVITE, set to port 0
 * when sharing stops, added again with new ICE credentials when another
 * participant presents): everything from alloc on belongs to the
 * current session and is cleared when it ends (session_end() in
 * sw_appshare.c); what is the call's goes before it.
 * Held by every sharing call for its life, so what varies is allocated
 * to its size (candidates, connections, a mismatched USERNAME): 7.4 KB
 * when every list was an array for the worst case, most of it empty. */
struct sw_appshare_call {
	enum sw_media_policy policy;
	uint32_t session; /* sessions begun: the current one's relay number */
	struct as_old old[AS_MAX_OLD];
	unsigned n_old;
	unsigned n_wire;    /* STUN/TURN messages recorded for export */
	unsigned wire_lost; /* and those that were not */
	unsigned n_impossible; /* events refused as impossible in their state */
	enum as_state st;   /* the current session's (as_step() writes it) */
	enum as_alloc alloc; /* the first of the session's own fields */
	bool edge_offered;
	struct sw_sa *edge_ips; /* at most AS_MAX_CANDS */
	unsigned n_edge_ips, n_permitted; /* permitted: the first n */
	struct as_cand *conf; /* conference TCP-PASS, by prio (all lists:
				 at most AS_MAX_CANDS, sw_as_learn) */
	unsigned n_conf;
	struct as_cand *conf_act; /* conference TCP-ACT */
	unsigned n_conf_act;
	struct as_cand *edge; /* Edge TCP-PASS: inside targets */
	unsigned n_edge;
	bool targets_dirty;  /* edge[] changed since the last PERMIT */
	struct sw_sa inside; /* the allocation's inside listener, or unset */
	char ufrag_edge[64], ufrag_conf[64]; /* a=ice-ufrag of each side */
	char *to_conf, *to_edge; /* last SDP sent to each side */
	size_t to_conf_len, to_edge_len;
	uint32_t alloc_id;
	struct sw_sa relayed;
	struct as_conn *conns[AS_MAX_CONNS]; /* allocated as they come */
	unsigned n_conns;
	struct as_dir dir[2];
	int64_t checks_start_us; /* monotonic (sw_gw_mono_us()) */
	bool ctl_answered; /* the controlling side's completion offer was
			      answered by the gateway */
	uint32_t reinvite_seq; /* its exchange in the call's SDP history */
	/* the controlling side's own completion offer named the gateway's
	 * pair (a nomination the relay could not see yet) */
	bool offer_selected;
};

struct relay_ev;

/**
 * A media policy's operations on m=applicationsharing: the coordinator's
 * part of a policy (its name and traits are its line in
 * base/sw_mpolicy.h); NULL: nothing to do. offer and answer may find
 * c->as NULL (the call's first crossing: the policy makes it if it keeps
 * state), the others are called with c->as set. The default hook (sip/)
 * has already applied the policy's traits to every m= line of the SDP
 * (port 0, refusal) when offer or answer runs.
 */
struct sw_as_policy {
	/* an SDP with an m=applicationsharing crossing under policy p,
	 * from the Edge side or not (body, len bytes; sdp its parse, which
	 * a rewrite edits in place: NULL if it did not parse): 0 with *outp
	 * NULL forwards body as it is, a rewrite in *outp, a SIP status
	 * refuses it, SIPUA_SDP_LOCAL answers it here; offer also sees
	 * SIPUA_SDP_OFFER_LOCAL_ONLY */
	int (*offer)(struct sw_as_host *h, struct sw_gwcall *c,
		     enum sw_media_policy p, bool from_edge,
		     enum sipua_sdp_kind kind, const char *body, size_t len,
		     struct sdpr *sdp, char **outp, size_t *outlenp);
	int (*answer)(struct sw_as_host *h, struct sw_gwcall *c,
		      enum sw_media_policy p, bool from_edge,
		      enum sipua_sdp_kind kind, const char *body, size_t len,
		      struct sdpr *sdp, char **outp, size_t *outlenp);
	/* a relay thread's event for the call */
	void (*relay_event)(struct sw_as_host *h, struct sw_gwcall *c,
			    const struct relay_ev *ev);
	/* once a second (now monotonic): the completion, check timeouts */
	void (*tick)(struct sw_as_host *h, struct sw_gwcall *c, int64_t now);
	/* the call is ending (c->ended false) or over; frees c->as once
	 * nothing is left to wait for */
	void (*ended)(struct sw_as_host *h, struct sw_gwcall *c);
	/* the allocation in the media path is the gateway's own in-process
	 * one (relay: it inserts, binds, splices and deletes it), not the
	 * conference's that it watches (observe) */
	bool inprocess;
};

/* one struct sw_as_policy per line of the registry, sw_as_mp_NAME */
#define SW_AS_POLICY_DECL_(id, name, traits) \
	extern const struct sw_as_policy sw_as_mp_##name;
SW_MPOLICIES(SW_AS_POLICY_DECL_)
#undef SW_AS_POLICY_DECL_

const struct sw_as_policy *sw_as_policy(enum sw_media_policy p);

/* sw_appshare.c: the transition tables, the states' and events' names */
enum as_state sw_as_next(enum as_state st, enum as_event ev);
enum sw_ice_state sw_as_ice_next(enum sw_ice_state s, enum as_ice_event ev);
const char *sw_as_state_name(enum as_state st);
const char *sw_as_event_name(enum as_event ev);
bool sw_as_allocated(const struct sw_appshare_call *as);
bool sw_as_inprocess(const struct sw_appshare_call *as);

/* sw_appshare_sdp.c */
void sw_as_learn(struct sw_appshare_call *as, const struct sdpr *sdp,
		 int m, bool from_edge);
unsigned sw_as_cand_addrs(const struct as_cand *v, unsigned n,
			  struct sw_sa *out);
unsigned sw_as_cand_comps(const struct as_cand *v, unsigned n,
			  const struct sw_sa *a);
unsigned sw_as_components(const struct sw_appshare_call *as);
int sw_as_insert_relay(const struct sw_appshare_call *as, bool set_default,
		       struct sdpr *sdp, char **outp, size_t *outlenp);
int sw_as_insert_inside(const struct sw_appshare_call *as, struct sdpr *sdp,
			char **outp, size_t *outlenp);
const struct as_conn *sw_as_valid_conn(const struct sw_appshare_call *as);
bool sw_as_offer_via_gateway(const struct sw_appshare_call *as,
			     const struct sdpr *sdp, int m);
int sw_as_pair_sdp(const struct sw_appshare_call *as, const struct as_conn *k,
		   bool to_edge, bool offer, char **outp, size_t *outlenp);
int sw_as_pair_sdp_on(const struct sw_appshare_call *as,
		      const struct as_conn *k, bool to_edge, bool offer,
		      struct sdpr *base, char **outp, size_t *outlenp);

#endif
