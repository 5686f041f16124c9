/**
 * @file sw_callrec.h  The call record: what the call log knows of a call.
 *
 * The same structs serve twice. A producer (the B2BUA on the SIP thread,
 * a relay thread) fills one on its stack and hands it to an emit function
 * of sw_calllog.h, which copies it; there every pointer is borrowed for
 * the duration of the call, and a NULL string or a zero number means
 * "not known yet: keep what is stored". A record loaded from the
 * store (sw_callstore_load()) uses them to hold the facts; its strings
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

/*
 * The fields of each record part, declared once. Each line is
 *   X(name, C type, storage, merge, JSON key, JSON form)
 * and every use is generated from it: the struct below, the column table
 * that packs it into a message, binds it into the store and reads it
 * back (sw_callrec.c), the store's schema (sw_callstore_sqlite.c) and the
 * JSON of `shareway show --json` (sw_callrec_json()).
 *   storage  STR, I64, INT (int or enum), U32, U64, BOOL, CHAR (one letter)
 *   merge    how a later message updates a stored row: KEY (part of the
 *            row's identity: required, never NULL), SET (the newest known
 *            value wins), FIRST (the first known value stays), MAX
 *            (counters and flags that only grow)
 *   JSON     STR (string or null), INT, INTNZ (null when 0), TIME (ISO
 *            8601 UTC, null when 0), BOOL, CHAR (one letter or null),
 *            ACTOR / EVKIND / ICESTATE (the enum's name), SKIP (not shown)
 * A NULL string or a zero number in a message means "not known: keep".
 */

/** One leg ('e' toward the Edge, 'c' toward the conference server) */
#define SW_REC_LEG(X)                                                         \
	X(leg, char, CHAR, KEY, "leg", CHAR) /* 'e' or 'c' (required) */      \
	X(inbound, bool, BOOL, MAX, "inbound", BOOL) /* got the INVITE */     \
	X(call_id, const char *, STR, SET, "call_id", STR)                    \
	X(from_tag, const char *, STR, SET, "from_tag", STR)                  \
	X(to_tag, const char *, STR, SET, "to_tag", STR)                      \
	X(from_uri, const char *, STR, SET, "from", STR)                      \
	X(to_uri, const char *, STR, SET, "to", STR)                          \
	X(peer, const char *, STR, SET, "peer", STR) /* the neighbour */      \
	X(local, const char *, STR, SET, "local", STR) /* our socket */       \
	X(zone, const char *, STR, SET, "zone", STR)                          \
	X(transport, const char *, STR, SET, "transport", STR) /* udp... */   \
	/* the peer certificate's subject */                                  \
	X(tls_subject, const char *, STR, SET, "tls_peer_subject", STR)       \
	/* User-Agent or Server */                                            \
	X(user_agent, const char *, STR, SET, "ua", STR)                      \
	/* the other leg's Call-ID, as sent */                                \
	X(x_cid, const char *, STR, SET, "x_cid", STR)                        \
	X(final_code, int, INT, SET, "final", INTNZ) /* on this leg */        \
	X(final_phrase, const char *, STR, SET, "phrase", STR)                \
	/* ms-diagnostics, ms-diagnostics-public, ms-client-diagnostics,      \
	 * verbatim */                                                        \
	X(ms_diag, const char *, STR, SET, "ms_diagnostics", STR)             \
	X(ms_diag_public, const char *, STR, SET, "ms_diagnostics_public",    \
	  STR)                                                                \
	X(ms_client_diag, const char *, STR, SET, "ms_client_diagnostics",    \
	  STR)                                                                \
	/* transport failure, e.g. TLS handshake */                           \
	X(error, const char *, STR, SET, "error", STR)

/** The routing decision and its trace */
#define SW_REC_ROUTE(X)                                                       \
	X(rule, const char *, STR, SET, "rule", STR) /* applied ("" none) */  \
	X(priority, uint32_t, U32, SET, "priority", INT)                      \
	X(source_zone, const char *, STR, SET, "source_zone", STR)            \
	X(target_zone, const char *, STR, SET, "target_zone", STR)            \
	X(ruri_in, const char *, STR, SET, "ruri_in", STR)                    \
	X(ruri_out, const char *, STR, SET, "ruri_out", STR)                  \
	/* the URI the outbound INVITE went to */                             \
	X(target, const char *, STR, SET, "target", STR)                      \
	X(transport, const char *, STR, SET, "transport", STR)                \
	X(trace, const char *, STR, SET, "trace", STR) /* rules tried */      \
	X(captures, const char *, STR, SET, "captures", STR) /* "$1=..." */   \
	/* applicationsharing: relay, observe... */                           \
	X(media_policy, const char *, STR, SET, "media_policy", STR)

/** One offer/answer exchange; SDP bodies may come in several messages */
#define SW_REC_NEG(X)                                                         \
	X(seq, uint32_t, U32, KEY, "seq", INT) /* 1, 2, ... (required) */     \
	/* "initial-invite", "gw-reinvite", ... */                            \
	X(trigger, const char *, STR, SET, "trigger", STR)                    \
	/* 'e', 'c', or 'g' for the gateway */                                \
	X(from_leg, char, CHAR, SET, "from", CHAR)                            \
	X(to_leg, char, CHAR, SET, "to", CHAR)                                \
	X(result, int, INT, SET, "result", INT) /* final response */          \
	/* offer sent to answer received */                                   \
	X(latency_ms, uint32_t, U32, SET, "latency_ms", INT)                  \
	/* before / after rewrite */                                          \
	X(offer_in, const char *, STR, SET, "offer_in", STR)                  \
	X(offer_out, const char *, STR, SET, "offer_out", STR)                \
	X(answer_in, const char *, STR, SET, "answer_in", STR)                \
	X(answer_out, const char *, STR, SET, "answer_out", STR)              \
	/* what was changed, one per line */                                  \
	X(rewrites, const char *, STR, SET, "rewrites", STR)

/** One TURN allocation tied to the call */
#define SW_REC_RELAY(X)                                                       \
	/* allocation id within the call (required) */                        \
	X(relay, uint32_t, U32, KEY, "relay", INT)                            \
	/* listener, "tcp:10.48.54.229:3478" */                               \
	X(server, const char *, STR, SET, "server", STR)                      \
	/* requested: "tcp" (RFC 6062), "udp" */                              \
	X(transport, const char *, STR, SET, "transport", STR)                \
	/* "in-process" or the TURN username */                               \
	X(client, const char *, STR, SET, "client", STR)                      \
	/* the client's control connection */                                 \
	X(client_addr, const char *, STR, SET, "client_addr", STR)            \
	X(relayed, const char *, STR, SET, "relayed", STR) /* XOR-RELAYED */  \
	/* first Allocate request, Allocate success */                        \
	X(request_us, int64_t, I64, FIRST, "request", TIME)                   \
	X(alloc_us, int64_t, I64, FIRST, "allocated", TIME)                   \
	X(lifetime_s, uint32_t, U32, SET, "lifetime_s", INT)                  \
	X(refreshes, uint32_t, U32, MAX, "refreshes", INT)                    \
	/* peer IPs, space-separated */                                       \
	X(permissions, const char *, STR, SET, "permissions", STR)            \
	/* last TURN error, e.g. 401, 486 */                                  \
	X(error_code, int, INT, SET, "error_code", INT)                       \
	X(error, const char *, STR, SET, "error", STR)                        \
	X(released_us, int64_t, I64, SET, "released", TIME)                   \
	X(close_reason, const char *, STR, SET, "close_reason", STR)

/** One RFC 6062 peer connection of an allocation */
#define SW_REC_CONN(X)                                                        \
	/* allocation id, CONNECTION-ID (required) */                         \
	X(relay, uint32_t, U32, KEY, "relay", SKIP)                           \
	X(conn, uint32_t, U32, KEY, "connection_id", INT)                     \
	/* who connected (the Edge's relay) */                                \
	X(peer, const char *, STR, SET, "peer", STR)                          \
	/* where the in-process client bridged it */                          \
	X(target, const char *, STR, SET, "target", STR)                      \
	/* ConnectionAttempt sent, ConnectionBind answered */                 \
	X(attempt_us, int64_t, I64, FIRST, "attempt", TIME)                   \
	X(bind_us, int64_t, I64, FIRST, "bind", TIME)                         \
	/* 200 success, else the error code */                                \
	X(bind_code, int, INT, SET, "bind_code", INT)                         \
	X(bind_error, const char *, STR, SET, "bind_error", STR)              \
	/* peer -> client, client -> peer: the stored values grow */          \
	X(bytes_in, uint64_t, U64, MAX, "bytes_in", INT)                      \
	X(bytes_out, uint64_t, U64, MAX, "bytes_out", INT)                    \
	X(closed_us, int64_t, I64, SET, "closed", TIME)                       \
	X(close_reason, const char *, STR, SET, "close_reason", STR)

/** ICE as observed in one direction */
#define SW_REC_ICE(X)                                                         \
	X(dir, enum sw_ice_dir, INT, KEY, "dir", SKIP)                        \
	X(state, enum sw_ice_state, INT, SET, "state", ICESTATE)              \
	X(first_request_us, int64_t, I64, FIRST, "first_request", TIME)       \
	X(first_success_us, int64_t, I64, FIRST, "first_success", TIME)       \
	/* Binding error response, e.g. 487 */                                \
	X(error_code, int, INT, SET, "error_code", INT)                       \
	/* or why it failed: "no success in 30 s" */                          \
	X(error, const char *, STR, SET, "error", STR)                        \
	/* USE-CANDIDATE seen and answered */                                 \
	X(nominated, bool, BOOL, MAX, "nominated", BOOL)                      \
	X(pair, const char *, STR, SET, "pair", STR) /* "a:p -> b:q" */       \
	/* the check timeout in force */                                      \
	X(timeout_s, uint32_t, U32, SET, "timeout_s", INT)                    \
	X(requests, uint32_t, U32, MAX, "requests", INT)                      \
	X(successes, uint32_t, U32, MAX, "successes", INT)

/** The ICE completion re-INVITE sent by the gateway */
#define SW_REC_REINVITE(X)                                                    \
	X(leg, char, CHAR, SET, "leg", CHAR) /* the leg it was sent on */     \
	X(sent_us, int64_t, I64, FIRST, "sent", TIME)                         \
	X(result, int, INT, SET, "result", INT) /* final response, 0 none */  \
	X(phrase, const char *, STR, SET, "phrase", STR)                      \
	X(latency_ms, uint32_t, U32, SET, "latency_ms", INT)                  \
	X(retries_491, uint32_t, U32, MAX, "retries_491", INT) /* glare */    \
	X(reason, const char *, STR, SET, "reason", STR) /* "no answer..." */

/** One ladder step (every message is a new row: t_us is part of it) */
#define SW_REC_EVENT(X)                                                       \
	X(t_us, int64_t, I64, KEY, "t", TIME)                                 \
	X(kind, enum sw_ev_kind, INT, SET, "kind", EVKIND)                    \
	/* equal for a note on one column */                                  \
	X(src, enum sw_actor, INT, SET, "src", ACTOR)                         \
	X(dst, enum sw_actor, INT, SET, "dst", ACTOR)                         \
	/* "INVITE (SDP)", "Allocate Success" */                              \
	X(label, const char *, STR, SET, "label", STR)                        \
	/* "lifetime 600", "XOR-PEER 1.2.3.4:5" */                            \
	X(detail, const char *, STR, SET, "detail", STR)

#define SW_REC_MEMBER(name, ctype, storage, merge, jkey, jform) ctype name;

struct sw_rec_leg {
	SW_REC_LEG(SW_REC_MEMBER)
};

struct sw_rec_route {
	SW_REC_ROUTE(SW_REC_MEMBER)
};

struct sw_rec_neg {
	SW_REC_NEG(SW_REC_MEMBER)
};

/** The close reason of a call's relay when the controlling agent
 *  nominated a pair that does not run through the gateway */
#define SW_MEDIA_DIRECT "media took a direct path (not through the gateway)"

struct sw_rec_relay {
	SW_REC_RELAY(SW_REC_MEMBER)
};

struct sw_rec_conn {
	SW_REC_CONN(SW_REC_MEMBER)
};

struct sw_rec_ice {
	SW_REC_ICE(SW_REC_MEMBER)
};

struct sw_rec_reinvite {
	SW_REC_REINVITE(SW_REC_MEMBER)
};

struct sw_rec_event {
	SW_REC_EVENT(SW_REC_MEMBER)
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

/*
 * The call's own facts (the calls table), declared once like the parts
 * above, with the store's column declaration in place of the merge rule
 * (the head is written by its own statements, sw_callstore_sqlite.c):
 *   X(name, C type, storage, SQL declaration, JSON key, JSON form)
 * storage STATE is the state's name as text. A JSON key "a/b" is member
 * b of an object a. The rule the call was routed by is stored with the
 * head too but read into route.rule.
 */
#define SW_CALLREC_HEAD(X)                                                    	X(id, int64_t, I64, "INTEGER PRIMARY KEY", "id", INT)                 	X(tag, const char *, STR, "TEXT NOT NULL UNIQUE", "tag", STR)         	/* the load generator's, not a real call */                           	X(synthetic, bool, BOOL, "INTEGER NOT NULL DEFAULT 0", "synthetic",   	  BOOL)                                                               	X(start_us, int64_t, I64, "INTEGER NOT NULL", "start", TIME)          	X(ringing_us, int64_t, I64, "INTEGER", "ringing", TIME)               	X(answer_us, int64_t, I64, "INTEGER", "answer", TIME)                 	X(end_us, int64_t, I64, "INTEGER", "end", TIME)                       	/* (the JSON's duration_ms goes here) */                              	X(state, enum sw_call_state, STATE,                                   	  "TEXT NOT NULL DEFAULT 'active'", "state", STATE)                   	/* of the initial INVITE */                                           	X(from_uri, const char *, STR, "TEXT", "from", STR)                   	X(to_uri, const char *, STR, "TEXT", "to", STR)                       	/* 'e' or 'c': the caller's side */                                   	X(inbound_leg, char, CHAR, "TEXT", "inbound_leg", CHAR)               	/* toward the caller */                                               	X(final_code, int, INT, "INTEGER", "final", INT)                      	X(final_phrase, const char *, STR, "TEXT", "phrase", STR)             	X(disconnect_by, const char *, STR, "TEXT", "disconnect/by", STR)     	X(disconnect_reason, const char *, STR, "TEXT", "disconnect/reason",  	  STR)                                                                	/* see struct sw_rec_end */                                           	X(answered_by, const char *, STR, "TEXT", "answered_by", STR)         	X(gw_reason, const char *, STR, "TEXT", "gw_reason", STR)             	/* a fault of the gateway in the call */                              	X(gw_fault, const char *, STR, "TEXT", "gw_fault", STR)               	/* stored verdict severity was FAIL, media flags, verdict (the JSON   	 * shows them computed afresh) */                                     	X(failed, bool, BOOL, "INTEGER NOT NULL DEFAULT 0", "failed", SKIP)   	X(media, const char *, STR, "TEXT", "media", SKIP)                    	X(verdict, const char *, STR, "TEXT", "verdict", SKIP)                	/* finish sequence number (sw_callstore.h) */                         	X(done_seq, int64_t, I64, "INTEGER", "done_seq", SKIP)

/** A whole call as loaded from the call log */
struct sw_callrec {
	SW_CALLREC_HEAD(SW_REC_MEMBER)

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
char *sw_sdp_verdict_lines(const char *sdp, size_t *lenp);
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
