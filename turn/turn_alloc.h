/**
 * @file turn_alloc.h  The TURN server core: allocations, permissions,
 * channels and RFC 6062 TCP connections of one relay thread.
 *
 * Pure of sockets: the core is given a clock (turn_srv_set_clock) and
 * messages (turn_srv_recv), and asks for I/O through struct turn_ops,
 * which the relay layer implements with sockets and the unit tests with
 * a recorder. Every request handler decodes, then validates, then
 * applies; nothing changes before validation passed. In-process clients
 * (the app-sharing coordinator) use the same apply functions as external
 * ones: turn_alloc_inproc, turn_alloc_permit, turn_conn_incoming,
 * turn_conn_connect_inproc, turn_conn_bind_inproc.
 *
 * Threading: a struct turn_srv and everything hanging from it belongs to
 * one relay thread; no function here may be called from another thread.
 */
#ifndef TURN_ALLOC_H
#define TURN_ALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sw_addr.h"
#include "sw_conf.h"
#include "turn_auth.h"

#define TURN_PERM_LIFETIME_MS 300000u /* RFC 8656 9 */
#define TURN_CHAN_LIFETIME_MS 600000u /* RFC 8656 12 */
#define TURN_MAX_PERMS 64             /* per allocation, then 508 */
#define TURN_MAX_CHANS 64
#define TURN_RESV_LIFETIME_MS 30000u /* RESERVATION-TOKEN (RFC 8656 7.2) */
#define TURN_HEADROOM 48 /* writable bytes before peer data (Data ind.) */
#define TURN_BUF_SIZE 65600

struct turn_srv;
struct turn_alloc;
struct turn_conn;

/* --- timers (a binary heap; the relay loop polls the next deadline) ----- */

struct turn_timer;
typedef void(turn_timer_h)(struct turn_timer *t, void *arg);

struct turn_timer {
	uint64_t due; /* ms, monotonic */
	size_t slot;  /* heap index + 1; 0 when not armed */
	turn_timer_h *h;
	void *arg;
};

void turn_timer_start(struct turn_srv *srv, struct turn_timer *t,
		      uint64_t delay_ms, turn_timer_h *h, void *arg);
void turn_timer_cancel(struct turn_srv *srv, struct turn_timer *t);
int turn_srv_next_timeout(const struct turn_srv *srv);
void turn_srv_run_timers(struct turn_srv *srv);

/* --- transports, counters ------------------------------------------------ */

enum turn_tp {
	TURN_TP_UDP = 0,
	TURN_TP_TCP,
	TURN_TP_TLS,
	TURN_TP_INPROC, /* the gateway itself: no wire, events instead */
};

/** The client side of a 5-tuple: where a message came from, where its
 * answer goes. io is the relay layer's transport object (same thread). */
struct turn_src {
	enum turn_tp tp;
	uint32_t tport;      /* UDP: listener id; TCP/TLS: connection id */
	struct sw_sa client; /* remote address */
	struct sw_sa local;  /* our address it reached */
	void *io;
};

/** Counters of one relay thread: only the owner writes (relaxed), the
 * control socket reads a snapshot (turn_counters_snapshot) and sums the
 * threads' (turn_counters_add). Every counter is a uint64_t listed here
 * once, so that copying and summing name each field. */
#define TURN_COUNTERS(X)                                                     \
	X(allocs_udp)      /* live */                                        \
	X(allocs_tcp)      /* live */                                        \
	X(allocs_total)    /* created since start */                         \
	X(conns_active)    /* RFC 6062 connections, live */                  \
	X(conns_total)     /* RFC 6062 connections since start */            \
	X(bytes_to_peer)                                                     \
	X(bytes_to_client)                                                   \
	X(auth_failures)                                                     \
	X(denied_peers)                                                      \
	X(bad_messages)                                                      \
	X(dropped)                                                           \
	X(accept_paused)   /* listener left alone: out of fds */             \
	X(accept_shed)     /* connections closed at once for it */           \
	X(prebind_bytes)   /* live: peer bytes held awaiting binds */        \
	X(copy_bytes)      /* live: copy and inspect buffers allocated */    \
	X(redirects)       /* Allocates answered 300 Try Alternate */        \
	X(allocs_tcp_total) /* RFC 6062 ones created since start */

#define TURN_CNT_FIELD(name) uint64_t name;
struct turn_counters {
	TURN_COUNTERS(TURN_CNT_FIELD)
};
#undef TURN_CNT_FIELD

#define TURN_CNT_ADD(c, field, n)                                            \
	__atomic_store_n(&(c)->field,                                        \
			 __atomic_load_n(&(c)->field, __ATOMIC_RELAXED) + (n), \
			 __ATOMIC_RELAXED)

void turn_counters_snapshot(const struct turn_counters *c,
			    struct turn_counters *out);
void turn_counters_add(struct turn_counters *sum,
		       const struct turn_counters *c);

/* --- objects -------------------------------------------------------------- */

struct turn_perm {
	struct sw_sa ip; /* port ignored */
	uint64_t expires;
};

struct turn_chan {
	uint16_t num;
	struct sw_sa peer;
	uint64_t expires;
};

/** One allocation. Owned by its turn_srv; io by the relay layer. */
struct turn_alloc {
	struct turn_alloc *hnext; /* 5-tuple hash chain */
	struct turn_alloc *prev, *next; /* srv->allocs */
	struct turn_srv *srv;           /* owner */
	uint32_t id;                    /* thread index in the top 6 bits */
	struct turn_src src;            /* the 5-tuple's client side */
	bool tcp;                       /* RFC 6062 allocation */
	bool dont_fragment;
	bool even_port;
	bool reserve_next;              /* EVEN-PORT R: hold port + 1 too */
	uint16_t want_port;             /* from a RESERVATION-TOKEN, or 0 */
	uint64_t call_id;               /* the SIP call (in-process or watched) */
	bool inspect;                   /* watched: bind pairs in inspect mode */
	uint32_t inspect_max;           /* bytes inspected, then splice */
	char user[128];
	char quota_user[128];
	uint8_t key[16];                /* long-term key, for MI */
	uint8_t tid[12];                /* the Allocate (retransmissions) */
	struct sw_sa relayed;           /* bound relayed transport address */
	struct sw_sa advertised;        /* XOR-RELAYED-ADDRESS */
	uint32_t lifetime;              /* s, last granted */
	uint64_t created_ms;            /* srv clock: the Allocate's success */
	uint64_t refreshed_ms;          /* the last Refresh's, 0 if none */
	struct turn_timer expiry;
	struct turn_perm perms[TURN_MAX_PERMS];
	unsigned n_perms;
	struct turn_chan chans[TURN_MAX_CHANS];
	unsigned n_chans;
	struct turn_conn *conns;        /* RFC 6062 connections */
	unsigned n_unbound;             /* of them CONNECTING or PENDING */
	void *io;                       /* relay layer: relayed socket */
};

/** RFC 6062 connection state: one enum, changed by turn_conn_set_state */
enum turn_conn_state {
	TURN_CONN_CONNECTING = 0, /* Connect: outbound TCP in progress */
	TURN_CONN_PENDING,        /* peer connected, waiting for the bind */
	TURN_CONN_BOUND,          /* bridged with a client data connection */
};

struct turn_conn {
	struct turn_conn *hnext;       /* id hash chain */
	struct turn_conn *prev, *next; /* al->conns */
	struct turn_alloc *al;
	uint32_t id;                   /* CONNECTION-ID */
	enum turn_conn_state state;
	bool outbound;                 /* from a Connect request */
	bool fingerprint;              /* the Connect used FINGERPRINT */
	struct sw_sa peer;
	uint8_t tid[12];               /* the Connect request */
	struct turn_timer tmr;         /* connect or bind timeout */
	void *io;                      /* relay layer: peer socket, pump */
};

/* --- what the core asks of the I/O layer ---------------------------------- */

enum turn_inproc_ev {
	TURN_INPROC_ATTEMPT, /* a peer connected: tc is PENDING */
	TURN_INPROC_GONE,    /* the allocation is being deleted */
};

struct turn_ops {
	/* send a message to a client over the transport of dst */
	void (*send)(void *arg, const struct turn_src *dst,
		     const uint8_t *buf, size_t len);
	/* open the relayed socket of al (UDP socket or TCP listener) on
	 * family af; fill *relayed. 0, EADDRINUSE (no port), errno */
	int (*relay_open)(void *arg, struct turn_alloc *al, int af,
			  struct sw_sa *relayed);
	void (*relay_close)(void *arg, struct turn_alloc *al);
	/* a port held for a RESERVATION-TOKEN (relay_open with
	 * reserve_next) expired unused */
	void (*port_release)(void *arg, int af, uint16_t port);
	/* send to a peer from the UDP relayed socket */
	void (*relay_send)(void *arg, struct turn_alloc *al,
			   const struct sw_sa *peer, const uint8_t *buf,
			   size_t len);
	/* start a TCP connection from al->relayed to tc->peer; the outcome
	 * comes back through turn_conn_connected() */
	int (*peer_connect)(void *arg, struct turn_conn *tc);
	/* data (a client connection that sent ConnectionBind) now carries
	 * tc's bytes: bridge them. The success response was sent first. */
	int (*conn_bind)(void *arg, struct turn_conn *tc,
			 const struct turn_src *data);
	/* close tc's sockets and forget tc->io */
	void (*conn_close)(void *arg, struct turn_conn *tc);
	/* in-process allocations report here instead of on a wire */
	void (*inproc)(void *arg, enum turn_inproc_ev ev,
		       struct turn_alloc *al, struct turn_conn *tc);
};

/* --- the server ----------------------------------------------------------- */

struct turn_srv_cfg {
	const struct sw_conf *conf; /* the owning thread's copy */
	unsigned thread_idx;        /* 0..63, stamped into ids */
	uint8_t nonce_key[TURN_NONCE_KEY_LEN];
	struct turn_quota *quota;   /* NULL: no quotas */
	const struct sw_sa *host_ips; /* this host's interface addresses */
	unsigned n_host_ips;
	const struct turn_ops *ops;
	void *arg;
};

/**
 * Where new external Allocates go instead (RFC 8489 10, RFC 8656 7.2):
 * while on, an authenticated Allocate from a client is answered 300 Try
 * Alternate with ALTERNATE-SERVER naming the alternate's listener for the
 * client's transport (tls for a TLS client, else server), plus
 * ALTERNATE-DOMAIN (RFC 8489 14.16) for a TLS client when domain is set:
 * the name the alternate's certificate carries. An alternate of another
 * address family than the client's, or none, is no alternate: the
 * Allocate is served here. The gateway's own (in-process) allocations are
 * never redirected. A value: the server keeps its own copy.
 */
struct turn_redirect {
	bool on;
	struct sw_sa server; /* UDP and TCP clients, port set */
	struct sw_sa tls;    /* TLS clients, unset: none */
	char domain[256];    /* ALTERNATE-DOMAIN for TLS clients, "" none */
};

int turn_srv_alloc(struct turn_srv **srvp, const struct turn_srv_cfg *cfg);
void turn_srv_set_redirect(struct turn_srv *srv,
			   const struct turn_redirect *rd);
void turn_srv_free(struct turn_srv *srv);
void turn_srv_set_clock(struct turn_srv *srv, uint64_t now_ms,
			int64_t wall_s);
uint64_t turn_srv_now(const struct turn_srv *srv);
struct turn_counters *turn_srv_counters(struct turn_srv *srv);
unsigned turn_srv_thread(uint32_t id);

void turn_srv_recv(struct turn_srv *srv, const struct turn_src *src,
		   uint8_t *buf, size_t len);
void turn_srv_transport_closed(struct turn_srv *srv,
			       const struct turn_src *src);
struct turn_alloc *turn_srv_find(struct turn_srv *srv,
				 const struct turn_src *src);
struct turn_alloc *turn_srv_find_id(struct turn_srv *srv, uint32_t id);
struct turn_alloc *turn_srv_find_relayed(struct turn_srv *srv,
					 const struct sw_sa *addr);
struct turn_conn *turn_srv_find_conn(struct turn_srv *srv, uint32_t id);
int turn_srv_check_peer(const struct turn_srv *srv, const struct sw_sa *peer);
int turn_srv_check_peer_addr(const struct turn_srv *srv,
			     const struct sw_sa *peer);

void turn_alloc_peer_data(struct turn_srv *srv, struct turn_alloc *al,
			  const struct sw_sa *peer, uint8_t *data,
			  size_t len);
bool turn_alloc_permitted(const struct turn_alloc *al,
			  const struct sw_sa *peer, uint64_t now);
void turn_alloc_delete(struct turn_srv *srv, struct turn_alloc *al,
		       const char *why);
int turn_alloc_inproc(struct turn_srv *srv, uint64_t call_id, int af,
		      struct turn_alloc **alp);
int turn_alloc_permit(struct turn_srv *srv, struct turn_alloc *al,
		      const struct sw_sa *peer);

int turn_conn_incoming(struct turn_srv *srv, struct turn_alloc *al,
		       const struct sw_sa *peer, struct turn_conn **tcp);
int turn_conn_connect_inproc(struct turn_srv *srv, struct turn_alloc *al,
			     const struct sw_sa *peer, struct turn_conn **tcp);
void turn_conn_connected(struct turn_srv *srv, struct turn_conn *tc,
			 int err);
int turn_conn_bind_inproc(struct turn_srv *srv, struct turn_conn *tc,
			  const struct turn_src *data);
void turn_conn_close(struct turn_srv *srv, struct turn_conn *tc,
		     const char *why);
const char *turn_conn_state_name(enum turn_conn_state st);

#endif
