/**
 * @file relay.h  The TURN data plane: relay threads, and the in-process
 * client API the SIP thread (the app-sharing coordinator) drives.
 *
 * Each relay thread runs one epoll loop and owns, for life, its own
 * listeners (SO_REUSEPORT: every thread binds every configured listener),
 * allocations, RFC 6062 connections, pipes and timers. The SIP thread
 * talks to them only with value messages: struct relay_cmd in (by
 * relay_cmd_send), struct relay_ev out (relay_ev_fd + relay_ev_pop).
 * Ids carry the owning thread in their top 6 bits, so relay_cmd_send
 * routes a command by its alloc_id or conn_id.
 *
 * In-process RFC 6062 flow for one application-sharing call:
 *   SIP: RELAY_CMD_ALLOC {token, call_id, af, peers to permit}
 *   relay: RELAY_EV_ALLOCATED {token, alloc_id, addr = relayed (advertised)}
 *   ...a permitted peer (the Edge) connects to the relayed address:
 *   relay: RELAY_EV_CONN_ATTEMPT {alloc_id, conn_id, addr = peer}
 *   SIP: RELAY_CMD_BIND {conn_id, addrs = far-side candidates in priority
 *        order, inspect = 1, inspect_max}
 *   relay: connects to the first candidate that answers, binds the
 *        connection (ConnectionBind of the same state machine), bridges,
 *        RELAY_EV_CONN_BOUND {conn_id, addr = candidate} or
 *        RELAY_EV_CONN_CLOSED {err} if none answered
 *   relay: RELAY_EV_STUN for each STUN message seen in RFC 4571 frames,
 *        with a copy of the frame as it crossed the wire (struct
 *        relay_wire) for the call log's capture
 *   SIP: RELAY_CMD_SPLICE {conn_id}  -> RELAY_EV_SPLICED
 *   relay: RELAY_EV_CONN_CLOSED {bytes each way} when either side closes
 *   SIP: RELAY_CMD_DELETE {alloc_id} -> RELAY_EV_ALLOC_GONE
 *
 * Inside candidate (a conference server that only connects actively):
 *   SIP: RELAY_CMD_ALLOC {..., inside = 1}: the allocation also listens on
 *        [appsharing] inside_ip; RELAY_EV_ALLOCATED {inside = that address}
 *   SIP: RELAY_CMD_PERMIT {alloc_id, addrs, targets = the Edge's passive
 *        candidates in priority order}
 *   ...the conference connects to the inside address:
 *   relay: RELAY_EV_INSIDE_ACCEPT {alloc_id, addr = the conference}
 *   relay: an in-process Connect (RFC 6062 5.2, same state machine) from
 *        the relayed address to each target in turn until one answers,
 *        which is bound to the conference's connection in inspect mode:
 *        RELAY_EV_CONN_BOUND {conn_id, inside = 1, addr = target reached,
 *        local = the conference}, or RELAY_EV_INSIDE_FAILED {err}
 *   then STUN, SPLICE and CONN_CLOSED as above (TO_CLIENT = toward the
 *   conference, as for a bound connection)
 *
 * Observe mode (the conference server is itself the TURN client):
 *   SIP: RELAY_CMD_WATCH {token, call_id, addrs = the relayed addresses
 *        seen in its SDP, inspect, inspect_max}: every thread looks for
 *        its own TCP allocations with those addresses
 *   relay: RELAY_EV_WATCHING {token, alloc_id, addr} for each one found
 *        (none if no thread has it); its connections not yet bound, and
 *        those to come, are bound in inspect mode (if asked) and reported
 *        (STUN, SPLICED, CONN_CLOSED) with call_id. The client still owns
 *        and refreshes its allocation; bound connections are not touched
 *        (no frame boundary is known mid-stream).
 *   relay: RELAY_EV_TURN_MSG for each TURN message of the allocation's
 *        control connection (Allocate, Refresh, CreatePermission,
 *        ConnectionAttempt...) and of its connections' ConnectionBind,
 *        as it crossed the wire: first those of before the WATCH (the
 *        connection keeps its first and latest few), then as they come.
 *
 * Modes of a bridged pair: SPLICE (both sides plain TCP: splice() through
 * a pipe, zero copy), COPY (a TLS side: SSL_read/SSL_write through a
 * 16 KB buffer, since TLS cannot be spliced), INSPECT (copy plus an
 * RFC 4571 deframer per direction that hands STUN frames to the
 * observer; switches to SPLICE or COPY on request). A side is never read
 * while the other side cannot take more (backpressure), and a direction's
 * buffered bytes are always flushed before its mode changes.
 */
#ifndef RELAY_H
#define RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sw_addr.h"
#include "sw_conf.h"
#include "turn_alloc.h"

#define RELAY_MAX_ADDRS 8

enum relay_cmd_type {
	RELAY_CMD_ALLOC = 1, /* token, call_id, af, addrs = peers to permit */
	RELAY_CMD_PERMIT,    /* alloc_id, addrs = more peers */
	RELAY_CMD_BIND,      /* conn_id, addrs = targets, inspect, inspect_max */
	RELAY_CMD_SPLICE,    /* conn_id: leave inspect mode */
	RELAY_CMD_DELETE,    /* alloc_id */
	RELAY_CMD_WATCH,     /* call_id, addrs = relayed addresses of external
				allocations to tie to the call (observe),
				inspect, inspect_max; sent to every thread */
	RELAY_CMD_USERS,     /* users: the [turn] users and REST secret in
				force from now on (relay_set_users) */
	RELAY_CMD_REDIRECT,  /* redirect: where new external Allocates go
				instead, from now on (relay_set_redirect) */
	RELAY_CMD_HANDOFF,   /* internal: a ConnectionBind for this thread */
	RELAY_CMD_STOP,      /* internal: relay_stop() */
};

struct relay_handoff;

/** The TURN credentials a reload brings (RELAY_CMD_USERS) */
struct relay_users {
	struct sw_user users[SW_CONF_MAX_USERS];
	unsigned n_users;
	char static_auth_secret[SW_CONF_STR];
	char secrets[SW_CONF_MAX_SECRETS][SW_CONF_STR]; /* more, rotation */
	unsigned n_secrets;
};

/** SIP thread -> relay thread: a value message */
struct relay_cmd {
	enum relay_cmd_type type;
	uint64_t call_id;
	uint32_t token;     /* echoed in the reply event */
	uint32_t alloc_id;
	uint32_t conn_id;
	int af;             /* ALLOC: AF_INET or AF_INET6 */
	bool inspect;       /* BIND: start in inspect mode */
	bool inside;        /* ALLOC: listen on the inside address too */
	uint32_t inspect_max; /* BIND: bytes inspected before splice, 0 = no cap */
	struct sw_sa addrs[RELAY_MAX_ADDRS];
	unsigned n_addrs;
	/* PERMIT: where the inside connection goes (Connect), in order;
	 * replaces the list when n_targets > 0 */
	struct sw_sa targets[RELAY_MAX_ADDRS];
	unsigned n_targets;
	struct relay_handoff *handoff; /* HANDOFF: owned, moves with the msg */
	struct relay_users *users;     /* USERS: owned, moves with the msg */
	struct turn_redirect *redirect; /* REDIRECT: owned, moves with it */
};

enum relay_ev_type {
	RELAY_EV_ALLOCATED = 1, /* token, alloc_id, addr (advertised), local */
	RELAY_EV_ALLOC_FAILED,  /* token, err */
	RELAY_EV_ALLOC_GONE,    /* alloc_id: deleted */
	RELAY_EV_CONN_ATTEMPT,  /* alloc_id, conn_id, addr = peer */
	RELAY_EV_CONN_BOUND,    /* conn_id, addr = target it reached */
	RELAY_EV_CONN_CLOSED,   /* conn_id, err, bytes */
	RELAY_EV_STUN,          /* conn_id, dir, stun */
	RELAY_EV_SPLICED,       /* conn_id */
	RELAY_EV_WATCHING,      /* token, alloc_id, addr: WATCH found it */
	RELAY_EV_INSIDE_ACCEPT, /* alloc_id, addr = who connected inside */
	RELAY_EV_INSIDE_FAILED, /* alloc_id, addr = who, err: no target */
	RELAY_EV_TURN_MSG,      /* alloc_id, wire, sent: a watched
				   allocation's TURN control message */
	RELAY_EV_LOST,          /* lost_type, lost_n: events of call_id the
				   full event queue refused (the first's
				   type), reported once it takes this */
};

enum relay_dir {
	RELAY_DIR_TO_PEER = 0,   /* from the client (bound) side to the peer */
	RELAY_DIR_TO_CLIENT = 1, /* from the peer to the client side */
};

/** What the built-in observer reports of one STUN message */
struct relay_stun {
	uint16_t method;
	uint8_t cls;
	uint8_t tid[12];
	bool use_candidate;
	uint8_t role;        /* 0 none, 1 ICE-CONTROLLING, 2 ICE-CONTROLLED */
	uint16_t error_code; /* error responses */
	uint32_t priority;
	char username[64];   /* USERNAME, MS-ICE2 NUL padding stripped; ""
				if none (or longer) */
};

/**
 * One STUN/TURN message as it crossed one of the relay's sockets, for the
 * call log's capture (`shareway export --pcap`). data is an owned heap
 * copy whose ownership moves with the event: whoever pops the event calls
 * relay_ev_release(). Copies are bounded (RELAY_WIRE_MAX per connection);
 * a message seen but not copied is counted in n_lost.
 */
struct relay_wire {
	uint8_t *data;   /* as on the wire: an inspected frame keeps its RFC
			    4571 length; NULL if not copied */
	size_t len;
	uint32_t n_lost; /* messages seen and not copied */
	bool tls;        /* carried inside TLS: data is the cleartext */
	int64_t t_us;    /* CLOCK_REALTIME when read or sent */
	struct sw_sa src, dst; /* the socket's real addresses and ports */
};

#define RELAY_WIRE_MAX 128 /* copies per connection (or control connection) */

/** relay thread -> SIP thread: a value message */
struct relay_ev {
	enum relay_ev_type type;
	uint64_t call_id;
	uint32_t token;
	uint32_t alloc_id;
	uint32_t conn_id;
	int err;
	struct sw_sa addr;
	struct sw_sa local;
	struct sw_sa inside; /* ALLOCATED: the inside listener, if asked */
	bool is_inside;      /* CONN_BOUND: an inside connection's Connect */
	uint64_t bytes[2]; /* by enum relay_dir */
	enum relay_dir dir;
	struct relay_stun stun;
	char user[64]; /* WATCHING: the TURN user owning the allocation */
	struct relay_wire wire; /* STUN, TURN_MSG: the message's bytes */
	bool sent;     /* TURN_MSG: sent by the TURN server (else received) */
	enum relay_ev_type lost_type; /* LOST */
	unsigned lost_n;              /* LOST */
};

enum relay_inspect {
	RELAY_INSPECT_CONTINUE = 0,
	RELAY_INSPECT_SPLICE, /* leave inspect mode after this frame */
};

/**
 * Observer of inspected connections, called on the relay thread for each
 * whole RFC 4571 frame holding a STUN message (frame = the STUN message,
 * without the 2-byte length). NULL in relay_start(): the built-in
 * observer decodes it and posts RELAY_EV_STUN.
 */
typedef enum relay_inspect(relay_observe_h)(void *arg, uint32_t conn_id,
					    enum relay_dir dir,
					    const uint8_t *frame, size_t len);

struct relay;

int relay_start(struct relay **rp, const struct sw_conf *conf,
		relay_observe_h *observe, void *observe_arg);
void relay_stop(struct relay *r);
int relay_cmd_send(struct relay *r, const struct relay_cmd *cmd);
int relay_set_users(struct relay *r, const struct sw_conf *conf);
int relay_set_redirect(struct relay *r, const struct turn_redirect *rd);
int relay_ev_fd(const struct relay *r);
void relay_ev_ack(struct relay *r);
void relay_ev_kick(struct relay *r);
bool relay_ev_pop(struct relay *r, struct relay_ev *ev);
void relay_ev_release(struct relay_ev *ev);
const char *relay_ev_name(enum relay_ev_type type);
void relay_test_refuse_ev(struct relay *r, enum relay_ev_type type, long n);
void relay_counters(const struct relay *r, struct turn_counters *sum);
int relay_conn_set_splice(uint32_t conn_id);

#endif
