/**
 * @file sipua.h  The SIP B2BUA on Sofia-SIP: what the rest of the daemon sees.
 *
 * This header includes no Sofia header: sharewayd.c, the app-sharing
 * coordinator and the call log talk to the SIP thread through it only.
 * Everything here runs on the SIP thread (the process main thread), which
 * sipua_run() turns into Sofia's su_root loop.
 *
 * Four interfaces are for the integrator:
 *  - the router (struct sw_router, given to sipua_create()): sip/ asks it
 *    where each new INVITE goes and acts on its decision; sip/ knows no
 *    rule file (sharewayd gives it the dial plan, sw_rules_router);
 *  - the media-policy hook (sipua_sdp_h): every SDP that crosses the B2BUA
 *    goes through it; sipua_sdp_hook_default() implements passthrough,
 *    strip and reject;
 *  - the call observer (struct sipua_observer): call started, routed (the
 *    router's whole decision, with its trace), answered, ended, each
 *    offer/answer, with both legs' details, and (with
 *    [calllog] capture_sip) every SIP message of the call as on the wire;
 *  - sipua_leg_reinvite(): the gateway's own re-INVITE on one leg, retried
 *    after a 491 with the RFC 3261 14.1 back-off.
 */
#ifndef SIPUA_H
#define SIPUA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sdpr.h"
#include "sw_conf.h"
#include "sw_router.h"

struct sipua;

/** The two legs of a call */
enum sipua_leg_id {
	SIPUA_LEG_A = 0, /* inbound: the leg whose INVITE created the call */
	SIPUA_LEG_B = 1, /* outbound: the leg the gateway created */
};

enum sipua_sdp_kind {
	SIPUA_SDP_OFFER = 0,
	SIPUA_SDP_ANSWER,
	/* an offer in a re-INVITE that relaying would make glare with the
	 * gateway's own re-INVITE on the other leg: the hook answers it
	 * itself (SIPUA_SDP_LOCAL) or it is refused with 491; the hook
	 * records nothing of an offer it does not answer */
	SIPUA_SDP_OFFER_LOCAL_ONLY,
};

/** One leg as the observer and the hook see it; strings may be NULL */
struct sipua_leg_info {
	const char *call_id;
	const char *local_tag;
	const char *remote_tag;
	const char *peer;        /* "ip:port" of the neighbour */
	const char *zone;        /* zone name of the neighbour */
	enum sw_transport transport;
	const char *tls_subject; /* accepted subjects a TLS peer was verified
				    against, NULL if not verified */
	const char *user_agent;  /* User-Agent or Server of the neighbour */
	const char *from_uri;    /* From and To URIs of the initial INVITE */
	const char *to_uri;      /* (leg A) */
	int final_status;        /* 0 until a final response */
	const char *final_phrase;
	const char *ms_diagnostics; /* verbatim, last seen on this leg */
	const char *ms_diagnostics_public; /* the variant sent across the Edge */
	const char *ms_client_diagnostics; /* client-generated */
};

/** Who gave the final response to leg A's INVITE */
enum sipua_answerer {
	SIPUA_ANS_NONE = 0, /* no final response yet */
	SIPUA_ANS_GW,       /* the gateway itself: a refusal, a limit, a
			       timeout, its SIP stack's own error */
	SIPUA_ANS_RULE,     /* the gateway, as a dial plan rule says
			       (action = reject, media.TYPE = reject) */
	SIPUA_ANS_PEER,     /* leg B's peer; the gateway relayed it */
};

/** Why the gateway refuses something itself: one sentence naming the
 *  cause and its fix, e.g. "the offer's SDP line 5 is malformed
 *  (duplicate v= line); the caller must send valid SDP" */
#define SIPUA_WHY_MAX 320

struct sipua_refusal {
	int status;              /* the status refused with, 0 if none */
	bool by_rule;            /* what the dial plan asks, not a fault */
	char why[SIPUA_WHY_MAX]; /* "" if not said */
};

/** A call, valid during the callback only */
struct sipua_call_info {
	uint64_t id; /* the gateway's call id, unique for the process life */
	const char *tag; /* in every log line of the call: "[call TAG]" */
	/* what the call keeps of the router's decision, NULL before it (the
	 * whole decision, with its trace, goes to the observer's routed) */
	const struct sw_route_kept *route;
	const struct sw_zone *zones;         /* the zones the call works with
						(its plan's), n_zones */
	unsigned n_zones;
	struct sipua_leg_info leg[2];
	int64_t start_ms, answer_ms, end_ms; /* CLOCK_REALTIME, 0 = not yet */
	int64_t ringing_ms;                  /* the first 180/183 relayed */
	enum sipua_leg_id ended_by;          /* when end_ms != 0 */
	const char *end_reason;              /* "BYE", "CANCEL", "rejected" */
	enum sipua_answerer answered_by;     /* of leg A's final response */
	const char *gw_reason;   /* GW, RULE: why, and the fix (or NULL) */
	/* the SDP hook's: a hook that refuses an offer may say why here;
	 * the sdp observer finds a refused offer's status and reason here
	 * (the hook's out is NULL then); NULL outside these callbacks */
	struct sipua_refusal *refusal;
};

/**
 * The SDP of one message crossing the B2BUA, parsed once for everything
 * that reads it in that crossing (the dial plan's media types, the
 * media-policy hook, the app-sharing coordinator and its rewrites)
 */
struct sipua_sdp {
	const char *body;   /* the SDP (a multipart body reduced to it), len
			       bytes, not NUL-terminated */
	size_t len;
	struct sdpr *model; /* body parsed, NULL if malformed (err says why) */
	struct sdpr_err err;
	bool edited;        /* a hook edited model in place: the B2BUA sends
			       it printed (unless the hook gave *outp) */
};

/**
 * Media-policy hook: called for every SDP body crossing the B2BUA.
 *
 * @param from   leg the body came from (it goes to the other leg)
 * @param sdp    the body and its parse; the hook may edit sdp->model and
 *               set sdp->edited instead of printing a replacement
 * @param outp   set *outp to a malloc()ed replacement (the B2BUA frees
 *               it) and *outlenp to its length; leave *outp NULL (and
 *               the model unedited) to forward the body byte-identical
 * @return 0 to forward, or a SIP status 400..699 to refuse the offer
 *         (the B2BUA answers it with that status and a Warning:
 *         304 "Media type not available" for 488; a hook says why in
 *         call->refusal, which the call log records), or SIPUA_SDP_LOCAL
 *         for an offer inside an established dialog that the gateway
 *         answers itself: *outp is the answer, sent in a 200 on the leg
 *         the offer came from; nothing is forwarded (the completion
 *         re-INVITE of the controlling ICE agent). Elsewhere
 *         SIPUA_SDP_LOCAL is refused with 488.
 */
#define SIPUA_SDP_LOCAL 2

typedef int(sipua_sdp_h)(void *arg, const struct sipua_call_info *call,
			 enum sipua_leg_id from, enum sipua_sdp_kind kind,
			 struct sipua_sdp *sdp, char **outp, size_t *outlenp);

/** One SIP message of a call as it crossed the wire, valid during the
 *  callback only */
struct sipua_msg {
	enum sipua_leg_id leg;   /* the leg whose Call-ID it carries */
	bool received;           /* from the leg's peer, else sent to it */
	enum sw_transport tp;
	struct sw_sa src, dst;   /* the real addresses and ports */
	int64_t t_us;            /* CLOCK_REALTIME when Sofia read or sent it */
	const char *data;        /* the message (TLS: the cleartext), len */
	size_t len;              /* bytes, not NUL-terminated */
};

/** Call events for the call log; all run on the SIP thread */
struct sipua_observer {
	void (*started)(void *arg, const struct sipua_call_info *call);
	/* the router has decided (or failed to: res->err), before the call
	 * acts on it: res is the whole result, with the trace of the rules
	 * tried, valid during the callback only (the call keeps call->route,
	 * without the trace). Again after a peer of a zone's peer list
	 * failed: the same decision, whose target is the next peer. */
	void (*routed)(void *arg, const struct sipua_call_info *call,
		       const struct sw_route_result *res);
	/* the first 180/183 relayed toward the caller */
	void (*ringing)(void *arg, const struct sipua_call_info *call);
	void (*answered)(void *arg, const struct sipua_call_info *call);
	/* the call is ending (a BYE, CANCEL or failure on either leg): its
	 * media stops now; ended follows once both legs are done (a leg's
	 * BYE may take up to 32 s when its peer does not answer) */
	void (*ending)(void *arg, const struct sipua_call_info *call);
	void (*ended)(void *arg, const struct sipua_call_info *call);
	/* one offer or answer from leg `from`: body before and after the
	 * hook. status 0: out went on to the other leg; SIPUA_SDP_LOCAL: an
	 * offer the gateway answered itself, out is its answer (sent back on
	 * from's leg, nothing forwarded); 400..699: the gateway refused the
	 * offer with that status, out is NULL, and call->refusal says
	 * why */
	void (*sdp)(void *arg, const struct sipua_call_info *call,
		    enum sipua_leg_id from, enum sipua_sdp_kind kind,
		    const char *in, size_t in_len, const char *out,
		    size_t out_len, int status);
	/* every message sent or received on a leg ([calllog] capture_sip):
	 * only once the dial plan has run, so the legs' sides are known;
	 * messages before the call existed come then, in order */
	void (*message)(void *arg, const struct sipua_call_info *call,
			const struct sipua_msg *msg);
	/* a fact of the call worth a line in its ladder, e.g. a peer of a
	 * zone's peer list that failed and the one tried next (the route's
	 * target has changed then: routed follows) */
	void (*note)(void *arg, const struct sipua_call_info *call,
		     const char *label, const char *detail);
	void *arg;
};

/** Result of the gateway's own re-INVITE (sipua_leg_reinvite) */
struct sipua_reinvite_result {
	uint64_t call_id;
	enum sipua_leg_id leg;
	int status;          /* final status; 0 if the call ended first */
	uint32_t latency_ms; /* first send to final response */
	unsigned retries;    /* 491 retries */
	const char *answer;  /* answer SDP (NULL if none), len bytes */
	size_t answer_len;
};

typedef void(sipua_reinvite_h)(void *arg,
			       const struct sipua_reinvite_result *res);

/** Readable file descriptor handler for sipua_fd_watch() */
typedef void(sipua_fd_h)(int fd, void *arg);

int sipua_create(struct sipua **uap, const struct sw_conf *conf,
		 const struct sw_router *router, void *plan);
void sipua_destroy(struct sipua *ua);
int sipua_run(struct sipua *ua);
void sipua_shutdown(struct sipua *ua);
int sipua_fd_watch(struct sipua *ua, int fd, sipua_fd_h *fh, void *arg);
void sipua_fd_unwatch(struct sipua *ua, int fd);
void sipua_set_plan(struct sipua *ua, void *plan);
void sipua_set_sdp_hook(struct sipua *ua, sipua_sdp_h *h, void *arg);
void sipua_set_observer(struct sipua *ua, const struct sipua_observer *obs);
/** Names a Sofia transport asked getaddrinfo() for and did not get
 *  (the gateway looks up no name from a message) since the start */
unsigned long long sipua_names_refused(void);
void sipua_call_set_tag(struct sipua *ua, uint64_t call_id, const char *tag);
unsigned sipua_call_count(const struct sipua *ua);
uint64_t sipua_overload_rejects(const struct sipua *ua);
/** Drain (shareway drain): while on, a new INVITE and an OPTIONS outside
 *  a dialog get 503 + Retry-After (a dispatcher in front takes both as
 *  "try another instance" and stops probing this one up); calls in
 *  progress, their in-dialog requests and re-INVITEs go on */
void sipua_drain(struct sipua *ua, bool on);
bool sipua_draining(const struct sipua *ua);
uint64_t sipua_drain_rejects(const struct sipua *ua);

/** TCP/TLS connection admission ([sip] tcp_max_per_source,
 *  tcp_message_timeout, descriptors running out), since the start */
struct sipua_conn_stats {
	uint64_t refused;  /* reset: the source had tcp_max_per_source */
	uint64_t shed;     /* reset: accept() out of descriptors */
	uint64_t closed;   /* closed: no request within tcp_message_timeout */
	unsigned pending;  /* open, no request yet */
};
void sipua_conn_stats(const struct sipua *ua, struct sipua_conn_stats *st);
/**
 * One peer of a zone's peer list ([zone] peer) as probed and used, a
 * copy (sipua_peers_info(), on the SIP thread: `shareway status` reads
 * it through the control socket's status answer, "peers")
 */
struct sipua_peer_info {
	char zone[64];
	char uri[SW_CONF_STR];
	uint32_t priority, weight;
	bool up;
	int64_t down_since_us;   /* CLOCK_REALTIME, 0 while up */
	int64_t hold_until_us;   /* a 503's Retry-After in force, else 0 */
	int64_t last_probe_us;   /* the last OPTIONS sent, 0 = none yet */
	int64_t last_answer_us;  /* the last response it sent (probe or
				    call), 0 = none yet */
	int last_status;         /* of the last answer or failure */
	char last_phrase[64];
	char why[160];           /* why it is down, "" while up */
	uint64_t probes, probes_failed; /* OPTIONS sent, unanswered/failed */
	uint64_t calls;          /* calls sent to it */
	uint64_t failovers;      /* of them, moved on (408, 503, transport) */
};
#define SIPUA_MAX_PEERS (SW_CONF_MAX_ZONES * SW_ZONE_MAX_PEERS)
unsigned sipua_peers_info(const struct sipua *ua, struct sipua_peer_info *out,
			  unsigned max);

/** SIP messages the B2BUA received ([0]) and sent ([1]), as the capture
 *  ([calllog] capture_sip) sees them: requests by method, responses by
 *  class (1xx..6xx). SIP thread only; metrics get a copy at each tick. */
enum sipua_method {
	SIPUA_M_INVITE, SIPUA_M_ACK, SIPUA_M_BYE, SIPUA_M_CANCEL,
	SIPUA_M_OPTIONS, SIPUA_M_UPDATE, SIPUA_M_INFO, SIPUA_M_MESSAGE,
	SIPUA_M_NOTIFY, SIPUA_M_SUBSCRIBE, SIPUA_M_REFER, SIPUA_M_PRACK,
	SIPUA_M_REGISTER, SIPUA_M_OTHER, SIPUA_M_N,
};
struct sipua_msg_counts {
	uint64_t req[2][SIPUA_M_N];
	uint64_t resp[2][6];
};
void sipua_msg_counts(const struct sipua *ua, struct sipua_msg_counts *out);
const char *sipua_method_name(enum sipua_method m);
int sipua_leg_reinvite(struct sipua *ua, uint64_t call_id,
		       enum sipua_leg_id leg, const char *sdp, size_t len,
		       sipua_reinvite_h *h, void *arg);

/** Largest raw message sipua_msg_route() takes (a TCP message may be
 *  larger than a datagram; Sofia's default limit is 64 KiB) */
#define SW_SIP_MSG_MAX (256 * 1024)

int sipua_msg_route(const struct sw_router *router, const void *plan,
		    const struct sw_conf *conf, const void *data, size_t len,
		    const char *zone, struct sw_route_result *out);

int sipua_sdp_hook_default(void *arg, const struct sipua_call_info *call,
			   enum sipua_leg_id from, enum sipua_sdp_kind kind,
			   struct sipua_sdp *sdp, char **outp,
			   size_t *outlenp);

#endif
