/**
 * @file sipua_int.h  Inside the SIP adapter: endpoints, calls and legs.
 *
 * Included by sip/ only (it includes Sofia headers). Ownership:
 *  - struct sipua owns the su_root, the endpoints (one nua each) and the
 *    list of calls; it lives for the process.
 *  - struct sw_call is a su_home of its own (su_home_new): both legs, all
 *    copied strings, SDP bodies and the route it keeps hang off it, so
 *    sipua_call_free() releases everything with one su_home_unref().
 *  - a leg holds its nua handle (one reference, bound with hmagic = leg)
 *    until nua reports the handle terminated.
 * Everything runs on the SIP thread; nothing here is locked.
 */
#ifndef SIPUA_INT_H
#define SIPUA_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

struct sipua;
struct sipua_ep;
struct sipua_leg;
struct sw_call;
struct fd_watch;
struct sipua_cap;
struct sipua_names;
struct sipua_peers;

struct sipua_conns;

#define SU_ROOT_MAGIC_T  struct sipua
#define NUA_MAGIC_T      struct sipua_ep
#define NUA_HMAGIC_T     struct sipua_leg
#define SU_WAKEUP_ARG_T  void
#define SU_TIMER_ARG_T   void

#include <sofia-sip/su.h>
#include <sofia-sip/su_wait.h>
#include <sofia-sip/su_tagarg.h>
#include <sofia-sip/nua.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>

#include "sipua.h"
#include "sw_idmap.h"

#define SIPUA_MAX_EP  (SW_CONF_MAX_LISTEN + SW_CONF_MAX_ZONES)

/** One nua instance: one TLS identity, at most one sip: and one sips: */
struct sipua_ep {
	struct sipua *ua;
	nua_t *nua;
	const struct sw_zone *zone; /* zone that owns this identity, or NULL */
	char url[96];               /* sip:IP:PORT[;transport=..] or "" */
	char sips_url[96];          /* sips:IP:PORT or "" */
	struct sw_sa addr, tls_addr; /* the listeners of url and sips_url */
	char tls_dir[SW_CONF_PATH]; /* agent.pem + cafile.pem, or "" */
	const char *tls_subjects;   /* accepted client subjects, or NULL */
	bool tls_verify;
	bool down;                  /* nua_r_shutdown seen */
};

/** Server request of one leg waiting for the other leg's answer */
enum sipua_pend {
	SIPUA_PEND_INVITE = 0,
	SIPUA_PEND_UPDATE,
	SIPUA_PEND_INFO,
	SIPUA_PEND_MESSAGE,
	SIPUA_PEND_N,
};

/** The gateway's own re-INVITE on a leg (sipua_leg_reinvite) */
struct sipua_own_reinvite {
	bool active;
	bool sent;              /* on the wire (vs. waiting for back-off) */
	char *sdp;              /* call home */
	size_t len;
	sipua_reinvite_h *h;
	void *arg;
	unsigned retries;
	int64_t t0_ms;          /* CLOCK_MONOTONIC of the first send */
	su_timer_t *timer;      /* 491 back-off */
};

struct sipua_leg {
	struct sw_call *call;
	enum sipua_leg_id id;
	struct sipua_ep *ep;
	nua_handle_t *nh;        /* NULL once nua terminated it */
	const struct sw_zone *zone; /* of call->plan: lives with the call */
	enum sw_transport tp;
	char *call_id, *local_tag, *remote_tag; /* call home */
	char *peer, *user_agent, *ms_diag, *final_phrase;
	char *hop;               /* pinned next hop, numeric (sipua_hop.c) */
	char *from_uri, *to_uri; /* of the INVITE on this leg (call home) */
	char *contact;           /* ours toward the zone's fqdn, or NULL */
	char *ms_diag_public, *ms_client_diag; /* last seen, verbatim */
	int final_status;
	bool ended;              /* BYE/CANCEL sent or received */
	/* peer requests relayed on this leg, answered on the other leg */
	nua_saved_event_t saved[SIPUA_PEND_N][1];
	bool pending[SIPUA_PEND_N];
	bool ack_deferred;       /* 2xx carried an offer: ACK with the answer */
	bool offer_out;          /* our request on this leg carried an offer */
	struct sipua_own_reinvite own;
	struct sipua_leg *cap_next; /* ua->cap's chain of this Call-ID hash */
	bool cap_listed;         /* in that chain */
};

enum sw_call_state {
	SW_CALL_CALLING = 0, /* outbound INVITE sent, no 1xx relayed */
	SW_CALL_EARLY,       /* a 1xx was relayed */
	SW_CALL_ACTIVE,      /* 2xx relayed */
	SW_CALL_ENDING,      /* BYE/CANCEL/reject in progress */
	SW_CALL_DONE,        /* both handles gone: free it */
};

struct sw_call {
	su_home_t home[1];   /* first: the call is its own su_home */
	struct sipua *ua;
	uint64_t id;
	char tag[24];        /* log lines say "[call TAG]": the call log's
				tag once the observer set it, else the id */
	enum sw_call_state state;
	struct sipua_leg leg[2];
	void *plan;                      /* the router's plan in force when
					    it came, with its zones (ref) */
	struct sw_route_kept *route;     /* call home (sw_route_keep()) */
	su_timer_t *invite_timer;        /* no final answer from leg B */
	/* a target zone with a peer list: the peer leg B goes to (an index
	 * of its peers, -1 for none), those tried (a bit each), what each
	 * said ("sip:A 503 Service Unavailable; ..."), whether the current
	 * one sent anything at all; leg A's INVITE and the offer sent on
	 * leg B are kept to start leg B again toward the next peer */
	int peer;
	unsigned peers_tried;
	char *peers_log;
	bool b_heard;
	msg_t *invite_msg;
	char *b_sdp;
	size_t b_sdp_len;
	int64_t start_ms, ringing_ms, answer_ms, end_ms;
	enum sipua_leg_id ended_by;
	const char *end_reason;
	/* leg A's final response and, when the gateway gave it, why: set by
	 * call_reject() (the gateway's, unless the caller said it relays
	 * leg B's), so a new refusal is the gateway's without more ado */
	enum sipua_answerer answered_by;
	char *gw_reason;                 /* call home, or NULL */
	struct sipua_refusal sdp_refusal; /* the hook's last refusal */
	struct sw_call *next, **prevp;   /* ua->calls */
	struct sw_idmap_node by_id;      /* ua->call_ids */
};

/* Retry-After (s) of the 503 a draining gateway answers new INVITEs and
 * OPTIONS with (RFC 3261 21.5.4): a drain waits for calls to end, which
 * takes minutes, so a caller that comes back to this instance at once
 * would only be refused again */
#define SIPUA_DRAIN_RETRY_AFTER "30"

struct sipua {
	su_home_t home[1];
	su_root_t *root;
	const struct sw_conf *conf;      /* outlives the ua */
	struct sipua_ep ep[SIPUA_MAX_EP];
	unsigned n_ep;
	const struct sw_router *router;  /* decides where calls go */
	void *plan;                      /* its current plan (ref) */
	sipua_sdp_h *sdph;
	void *sdp_arg;
	struct sipua_observer obs;
	struct sw_call *calls;
	struct sw_idmap call_ids;        /* the calls by id, O(1) */
	unsigned n_calls;
	uint64_t next_id;
	bool stopping;                   /* sipua_shutdown(): hanging up */
	bool eps_stopping;               /* then closing the endpoints */
	su_timer_t *stop_timer;          /* shutdown grace */
	struct fd_watch *watches;        /* sipua_fd_watch() */
	struct sipua_cap *cap;           /* capture_sip, NULL when off */
	struct sipua_names *names;       /* target names (sipua_names.c) */
	struct sipua_peers *peers;       /* zone peer lists (sipua_peers.c) */

	struct sipua_conns *conns;       /* TCP/TLS admission (sipua_conn.c) */
	double cps_tokens;               /* [sip] max_cps token bucket */
	int64_t cps_ms, overload_warn_ms;
	uint64_t overload_rejects;       /* new INVITEs answered 503 */
	bool draining;                   /* sipua_drain(): no new calls */
	uint64_t drain_rejects;          /* new INVITEs answered 503 since */
	struct sipua_msg_counts msgs;    /* by method and class (capture) */
	/* where the router decides (~40 KB with its trace, ua home, made at
	 * the first INVITE): read at once, a call keeps a compact copy */
	struct sw_route_result *route_res;
};

/* sipua.c */
void sipua_stop_endpoints(struct sipua *ua);
struct sipua_ep *sipua_ep_for_zone(struct sipua *ua,
				   const struct sw_zone *zone);
const struct sw_zone *sipua_zones(const struct sipua *ua, const void *plan,
				  unsigned *n);
const struct sw_zone *sipua_zone_find(const struct sipua *ua,
				      const void *plan, const char *name);
const struct sw_zone *sipua_zone_match(struct sipua *ua, const void *plan,
				       const struct sipua_ep *ep,
				       const struct sw_sa *src);
int64_t sipua_now_ms(bool realtime);

/* sipua_call.c */
void sipua_call_incoming(struct sipua *ua, struct sipua_ep *ep,
			 nua_handle_t *nh, const sip_t *sip);
void sipua_call_event(nua_event_t ev, int status, const char *phrase,
		      struct sipua_leg *leg, const sip_t *sip,
		      tagi_t tags[]);
void sipua_call_abort(struct sw_call *call);
void sipua_call_hangup(struct sw_call *call);
struct sw_call *sipua_call_find(struct sipua *ua, uint64_t id);

/* sipua_dlg.c: in-dialog requests and the gateway's own re-INVITE */
void sipua_dlg_request(struct sipua_leg *leg, nua_event_t ev,
		       const sip_t *sip);
void sipua_dlg_response(struct sipua_leg *leg, nua_event_t ev, int status,
			const char *phrase, const sip_t *sip);
bool sipua_dlg_own_response(struct sipua_leg *leg, int status,
			    const sip_t *sip);
void sipua_dlg_cleanup(struct sipua_leg *leg);
void sipua_dlg_ack(struct sipua_leg *leg, const sip_t *sip);

/* sipua_hdr.c: what crosses between legs */
typedef bool(sipua_hdr_h)(const msg_header_t *h, void *arg);
void sipua_hdr_each(const sip_t *sip, sipua_hdr_h *fn, void *arg);
tagi_t *sipua_hdr_copy(su_home_t *home, const struct sw_conf *conf,
		       const sip_t *sip, bool request);
const char *sipua_hdr_find(const sip_t *sip, const char *name);
char *sipua_body_dup(su_home_t *home, const sip_t *sip, size_t *lenp);
bool sipua_body_is_sdp(const sip_t *sip);
int sipua_sdp_open(su_home_t *home, const sip_t *sip, struct sipua_sdp *s);
void sipua_sdp_close(struct sipua_sdp *s);
tagi_t *sipua_warning_tags(su_home_t *home);
void sipua_call_info_fill(const struct sw_call *call,
			  struct sipua_call_info *ci);
int sipua_sdp_cross(struct sw_call *call, enum sipua_leg_id from,
		    enum sipua_sdp_kind kind, const sip_t *sip, bool can_local,
		    char **outp, size_t *outlenp);
int sipua_sdp_cross_on(struct sw_call *call, enum sipua_leg_id from,
		       enum sipua_sdp_kind kind, struct sipua_sdp *s,
		       bool can_local, char **outp, size_t *outlenp);

/* sipua_cap.c: every SIP message of a call, as on the wire */
int sipua_cap_start(struct sipua *ua);
void sipua_cap_stop(struct sipua *ua);
void sipua_cap_leg_add(struct sipua_leg *l);
void sipua_cap_call_remove(struct sw_call *call);
void sipua_cap_leg_remove(struct sipua_leg *l);

/* sipua_hop.c: where a leg's requests go */
char *sipua_hop_uri(su_home_t *home, const struct sw_sa *a,
		    enum sw_transport tp);
char *sipua_hop_numeric(su_home_t *home, const char *uri,
			enum sw_transport tp);
void sipua_hop_pin(struct sipua_leg *l, const char *hop);
const char *sipua_dialog_uris_check(const sip_t *sip, bool need_contact);

/* sipua_names.c: the configuration's target names, as addresses */
int sipua_names_sync(struct sipua *ua);
const struct sw_sa *sipua_names_addr(struct sipua *ua, const char *uri);
char *sipua_names_hop(struct sipua *ua, su_home_t *home, const char *uri,
		      enum sw_transport tp);
void sipua_names_stop(struct sipua *ua);

/* sipua_peers.c: zone peer lists, OPTIONS probing, the next peer */
int sipua_peers_sync(struct sipua *ua);
void sipua_peers_stop(struct sipua *ua);
bool sipua_peers_response(struct sipua *ua, nua_handle_t *nh, int status,
			  const char *phrase, const sip_t *sip);
int sipua_peers_pick(struct sipua *ua, const struct sw_zone *z,
		     unsigned tried);
bool sipua_peers_call_result(struct sipua *ua, const struct sw_zone *z,
			     unsigned i, int status, const char *phrase,
			     const sip_t *sip);
char *sipua_peers_text(struct sipua *ua, su_home_t *home,
		       const struct sw_zone *z);

/* sipua_conn.c: TCP/TLS connections: cap per source, first request */
int sipua_conn_start(struct sipua *ua);
void sipua_conn_stop(struct sipua *ua);
void sipua_conn_request(struct sipua_ep *ep);
int sipua_conn_find(struct sipua *ua, const struct sw_sa *peer,
		    struct sw_sa *local);

/* sipua_log.c: Sofia's diagnostics through sw_log */
void sipua_log_redirect(void);
void sipua_log_piece(void *stream, char const *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* sipua_route.c */
int sipua_route(const struct sw_router *router, const void *plan,
		const sip_t *sip, const char *zone, const char *src,
		const struct sdpr *sdp, struct sw_route_result *out);

#endif
