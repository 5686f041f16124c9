/**
 * @file sw_callrec.h  The call record: what the call log knows of a call.
 *
 * The same structs serve twice. A producer (the B2BUA on the SIP thread,
 * a relay thread) fills one on its stack and hands it to an emit function
 * of sw_calllog.h, which copies it; there every pointer is borrowed for
 * the duration of the call, and a NULL string or a zero number means
 * "not known yet: keep what is stored". A record loaded from the
 * database (sw_calllog_load()) uses them to hold the facts; its strings
 * live in the record's arena and die with sw_callrec_free().
 *
 * Times are microseconds since the Unix epoch (CLOCK_REALTIME), 0 when
 * unknown. Legs are named by side: 'e' toward the Skype for Business
 * Edge, 'c' toward the conference server. ICE directions are named by
 * who sends the Binding requests: e→c are the Edge's checks (answered by
 * the conference), c→e the conference's.
 */
#ifndef SW_CALLREC_H
#define SW_CALLREC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sw_addr.h"
#include "sw_json.h"

enum sw_call_state {
	SW_CS_ACTIVE = 0, /* no end yet */
	SW_CS_COMPLETED,  /* answered, then ended by BYE */
	SW_CS_REJECTED,   /* a final response >= 300 before any answer */
	SW_CS_CANCELLED,  /* the caller gave up before the answer */
	SW_CS_FAILED,     /* the gateway ended it: timeout, transport, media */
	SW_CS_LOST,       /* sharewayd stopped before the call ended */
};

/** Who sends or receives a ladder step: the columns of `shareway ladder` */
enum sw_actor {
	SW_ACT_NONE = 0,
	SW_ACT_EDGE,  /* the Skype for Business Edge (and its relay) */
	SW_ACT_GW,    /* shareway: B2BUA and TURN server */
	SW_ACT_TURNC, /* the TURN client: in-process, or the conference's */
	SW_ACT_CONF,  /* the conference server */
};

enum sw_ev_kind {
	SW_EV_NOTE = 0, /* a fact worth a line: "relay allocated", "timeout" */
	SW_EV_SIP,      /* a SIP request or response */
	SW_EV_TURN,     /* a TURN control message (Allocate, ConnectionBind) */
	SW_EV_STUN,     /* an ICE connectivity check (Binding) */
	SW_EV_TCP,      /* a TCP connection opened or closed */
};

enum sw_ice_dir {
	SW_ICE_E2C = 0, /* the Edge's checks, answered by the conference */
	SW_ICE_C2E = 1, /* the conference's checks, answered by the Edge */
};

enum sw_ice_state {
	SW_ICE_UNKNOWN = 0, /* keep what is stored */
	SW_ICE_WAITING,     /* no Binding request seen yet */
	SW_ICE_CHECKING,    /* requests seen, no success yet */
	SW_ICE_SUCCEEDED,   /* a Binding success answered a request */
	SW_ICE_FAILED,      /* timeout or error responses only */
};

enum sw_pkt_proto {
	SW_PKT_SIP = 1,
	SW_PKT_STUN = 2, /* STUN/TURN, bare or RFC 4571-framed */
};

enum sw_pkt_transport {
	SW_PKT_UDP = 1,
	SW_PKT_TCP = 2,
	SW_PKT_TLS = 3, /* cleartext as seen inside the TLS session */
};

/** Call start (sw_calllog_call_start) */
struct sw_rec_start {
	int64_t t_us;
	const char *from_uri, *to_uri; /* of the initial INVITE */
	char inbound_leg;              /* 'e' or 'c': the caller's side */
	bool synthetic;                /* load generator, not a real call */
};

/** Call end (sw_calllog_call_end) */
struct sw_rec_end {
	int64_t t_us;
	enum sw_call_state state;
	int final_code;            /* toward the caller: 200, 486, 408... */
	const char *final_phrase;
	const char *disconnect_by; /* "e", "c", "gw" */
	const char *disconnect_reason; /* Reason header, BYE cause, timeout */
	/* who gave the final response toward the caller: "e" or "c" (that
	 * leg's peer, relayed), "gw" (the gateway itself: a refusal, a
	 * limit, a timeout), "rule" (the gateway, as a dial plan rule says:
	 * action = reject, media.TYPE = reject) */
	const char *answered_by;
	const char *gw_reason; /* gw/rule: why, and the fix, one sentence */
};

/** One leg: NULL strings and zero numbers keep the stored values */
struct sw_rec_leg {
	char leg;                  /* 'e' or 'c' (required) */
	bool inbound;              /* this leg received the initial INVITE */
	const char *call_id;
	const char *from_tag, *to_tag;
	const char *from_uri, *to_uri;
	const char *peer;          /* "ip:port" of the neighbour */
	const char *local;         /* "ip:port" of the gateway's socket */
	const char *zone;
	const char *transport;     /* "udp", "tcp", "tls" */
	const char *tls_subject;   /* the peer certificate's subject */
	const char *user_agent;    /* User-Agent or Server */
	const char *x_cid;         /* the other leg's Call-ID, as sent */
	int final_code;            /* final response on this leg */
	const char *final_phrase;
	const char *ms_diag;        /* ms-diagnostics, verbatim */
	const char *ms_diag_public; /* ms-diagnostics-public, verbatim */
	const char *ms_client_diag; /* ms-client-diagnostics, verbatim */
	const char *error;          /* transport failure, e.g. TLS handshake */
};

/** The routing decision and its trace */
struct sw_rec_route {
	const char *rule;         /* the rule applied ("" none) */
	uint32_t priority;
	const char *source_zone, *target_zone;
	const char *ruri_in, *ruri_out;
	const char *target;       /* URI the outbound INVITE went to */
	const char *transport;
	const char *trace;        /* rules tried, one per line */
	const char *captures;     /* "$1=123456 $2=x" */
	const char *media_policy; /* applicationsharing: relay, observe... */
};

/** One offer/answer exchange; SDP bodies may come in several calls */
struct sw_rec_neg {
	uint32_t seq;              /* 1, 2, ... in the call (required) */
	const char *trigger;       /* "initial-invite", "gw-reinvite", ... */
	char from_leg, to_leg;     /* 'e', 'c', or 'g' for the gateway */
	int result;                /* final response to the offer */
	uint32_t latency_ms;       /* offer sent to answer received */
	const char *offer_in, *offer_out;   /* before / after rewrite */
	const char *answer_in, *answer_out;
	const char *rewrites;      /* what was changed, one per line */
};

/** The close reason of a call's relay when the controlling agent
 *  nominated a pair that does not run through the gateway */
#define SW_MEDIA_DIRECT "media took a direct path (not through the gateway)"

/** One TURN allocation tied to the call */
struct sw_rec_relay {
	uint32_t relay;            /* allocation id within the call (req.) */
	const char *server;        /* listener, "tcp:10.48.54.229:3478" */
	const char *transport;     /* requested: "tcp" (RFC 6062), "udp" */
	const char *client;        /* "in-process" or the TURN username */
	const char *client_addr;   /* the client's control connection */
	const char *relayed;       /* XOR-RELAYED-ADDRESS */
	int64_t request_us;        /* first Allocate request */
	int64_t alloc_us;          /* Allocate success */
	uint32_t lifetime_s;
	uint32_t refreshes;
	const char *permissions;   /* peer IPs, space-separated */
	int error_code;            /* last TURN error, e.g. 401, 486 */
	const char *error;
	int64_t released_us;
	const char *close_reason;
};

/** One RFC 6062 peer connection of an allocation */
struct sw_rec_conn {
	uint32_t relay, conn;      /* allocation id, CONNECTION-ID (req.) */
	const char *peer;          /* who connected (the Edge's relay) */
	const char *target;        /* where the in-process client bridged it */
	int64_t attempt_us;        /* ConnectionAttempt sent */
	int64_t bind_us;           /* ConnectionBind answered */
	int bind_code;             /* 200 success, else the error code */
	const char *bind_error;
	uint64_t bytes_in;         /* peer -> client; stored value grows */
	uint64_t bytes_out;        /* client -> peer */
	int64_t closed_us;
	const char *close_reason;
};

/** ICE as observed in one direction */
struct sw_rec_ice {
	enum sw_ice_dir dir;
	enum sw_ice_state state;
	int64_t first_request_us, first_success_us;
	int error_code;            /* Binding error response, e.g. 487 */
	const char *error;         /* or why it failed: "no success in 30 s" */
	bool nominated;            /* USE-CANDIDATE seen and answered */
	const char *pair;          /* the valid pair "a:p -> b:q" */
	uint32_t timeout_s;        /* the check timeout in force */
	uint32_t requests, successes;
};

/** The ICE completion re-INVITE sent by the gateway */
struct sw_rec_reinvite {
	char leg;                  /* the leg it was sent on */
	int64_t sent_us;
	int result;                /* final response, 0 none yet */
	const char *phrase;
	uint32_t latency_ms;
	uint32_t retries_491;      /* glare retries */
	const char *reason;        /* e.g. "no answer in 32 s" */
};

/** One ladder step */
struct sw_rec_event {
	int64_t t_us;
	enum sw_actor src, dst;    /* equal for a note on one column */
	enum sw_ev_kind kind;
	const char *label;         /* "INVITE (SDP)", "Allocate Success" */
	const char *detail;        /* "lifetime 600", "XOR-PEER 1.2.3.4:5" */
};

/** A SIP or STUN/TURN message as sent or received, for `export` */
struct sw_rec_packet {
	int64_t t_us;
	enum sw_pkt_proto proto;
	enum sw_pkt_transport transport;
	struct sw_sa src, dst;
	const uint8_t *data;       /* the transport payload as on the wire */
	size_t len;
};

struct sw_arena;

/** A whole call as loaded from the call log */
struct sw_callrec {
	int64_t id;
	const char *tag;
	bool synthetic;
	int64_t start_us, ringing_us, answer_us, end_us;
	enum sw_call_state state;
	const char *from_uri, *to_uri;
	char inbound_leg;
	int final_code;
	const char *final_phrase, *disconnect_by, *disconnect_reason;
	const char *answered_by, *gw_reason; /* see struct sw_rec_end */
	const char *gw_fault;      /* a fault of the gateway in the call */
	bool failed;               /* stored verdict severity was FAIL */
	const char *media;         /* stored media flags */
	const char *verdict;       /* stored verdict */
	int64_t done_seq;          /* finish sequence number (sw_callstore.h) */

	struct sw_rec_leg legs[2]; /* [0] 'e', [1] 'c' */
	bool has_leg[2];
	struct sw_rec_route route;
	bool has_route;
	struct sw_rec_neg *negs;
	unsigned n_negs;
	struct sw_rec_relay *relays;
	unsigned n_relays;
	struct sw_rec_conn *conns;
	unsigned n_conns;
	struct sw_rec_ice ice[2];  /* [SW_ICE_E2C], [SW_ICE_C2E] */
	bool has_ice[2];
	struct sw_rec_reinvite reinvite;
	bool has_reinvite;
	struct sw_rec_event *events;
	unsigned n_events;
	struct sw_rec_packet *packets;
	unsigned n_packets;

	struct sw_arena *arena;    /* owns every string and array above */
};

enum sw_verdict_sev {
	SW_VERDICT_OK = 0,   /* nothing went wrong */
	SW_VERDICT_INFO,     /* ended early, but not a fault (cancelled) */
	SW_VERDICT_FAIL,     /* the operator has something to fix */
	SW_VERDICT_PENDING,  /* still active */
};

int sw_callrec_alloc(struct sw_callrec **recp);
void sw_callrec_free(struct sw_callrec *rec);
void *sw_callrec_mem(struct sw_callrec *rec, size_t size);
const char *sw_callrec_strdup(struct sw_callrec *rec, const char *s,
			      size_t len);

const char *sw_call_state_name(enum sw_call_state s);
int sw_call_state_parse(const char *s, enum sw_call_state *st);
const char *sw_actor_name(enum sw_actor a);
const char *sw_ev_kind_name(enum sw_ev_kind k);
const char *sw_ice_state_name(enum sw_ice_state s);
const char *sw_ice_dir_name(enum sw_ice_dir d);
const char *sw_pkt_transport_name(enum sw_pkt_transport t);
int sw_leg_index(char leg);

const struct sw_rec_leg *sw_callrec_leg(const struct sw_callrec *rec,
					char leg);
bool sw_callrec_is_appsharing(const struct sw_callrec *rec);
bool sw_sdp_has_usable_tcp_candidate(const char *sdp);
void sw_callrec_media_flags(const struct sw_callrec *rec, char *buf,
			    size_t sz);
const char *sw_fmt_dur(int64_t us, char *buf, size_t sz);
void sw_callrec_json(const struct sw_callrec *rec, struct sw_json *j,
		     bool with_packets);
void sw_callrec_neg_json(struct sw_json *j, const struct sw_rec_neg *n);

enum sw_verdict_sev sw_verdict(const struct sw_callrec *rec, char *buf,
			       size_t sz);
bool sw_verdict_diag_code(size_t i, int *code, bool *client_ice);

#endif
