/**
 * @file relay_int.h  Internals shared by the relay_*.c files of one relay
 * thread. Everything here is owned by one thread; struct relay (the
 * parent) is read-only once the threads run, except its queues.
 */
#ifndef RELAY_INT_H
#define RELAY_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <openssl/ssl.h>

#include "relay.h"
#include "sw_accept.h"
#include "sw_mq.h"
#include "turn_alloc.h"

#define RELAY_POOL_PIPES 32
#define RELAY_COPY_BUF 16384     /* largest read of a copying direction */
#define RELAY_COPY_MIN 2048      /* its first read: ICE checks are frames
				    of < 300 bytes; doubled while reads
				    fill it (relay_pump.c dir_fill) */
#define RELAY_ACC_MAX 2048       /* STUN frames observed up to this size */
#define RELAY_CTRL_IDLE_MS 60000 /* no allocation nor bind: closed */
#define RELAY_CTRL_OUT_MAX (1u << 20)

/** Every fd in the epoll set starts with this; data.ptr points at it */
enum relay_io_kind {
	RIO_DEAD = 0,  /* retired this batch: events for it are ignored */
	RIO_CMDQ,
	RIO_UDP_LISTEN,
	RIO_TCP_LISTEN,
	RIO_CTRL,
	RIO_RELAY_UDP,
	RIO_RELAY_TCP,
	RIO_SIDE,
	RIO_INSIDE,    /* an in-process relay's inside listener */
};

struct relay_io {
	enum relay_io_kind kind;
	int fd;
	uint32_t events;        /* registered interest, 0 = not registered */
	struct relay_io *dnext; /* retire list */
	void (*free_h)(struct relay_io *io);
};

/** What a listening socket needs to survive a descriptor shortage: its
 * back-off timer (relay_accept) */
struct relay_accept {
	struct turn_timer tmr;
	struct relay_thread *rt;
	struct relay_io *io;
	const char *what; /* "tcp", "tls", "relayed", "inside": for the log */
};

struct relay_listener {
	struct relay_io io;
	struct relay_accept acc;
	enum turn_tp tp;
	uint32_t id;
	struct sw_sa addr;
	struct relay_listener *next;
};

/** A client connection on a TCP/TLS listener: TURN framing */
struct relay_ctrl {
	struct relay_io io;
	struct relay_thread *rt;
	struct turn_src src; /* src.io = this */
	SSL *ssl;
	uint8_t *in;
	size_t in_len, in_cap;
	uint8_t *out;
	size_t out_len, out_cap;
	bool broken;            /* write failed: closed after the batch */
	struct relay_ctrl *bnext; /* rt->broken list */
	size_t in_off;          /* bytes of in consumed by turn_srv_recv */
	bool want_write;        /* TLS wants the socket writable */
	bool converted;         /* became the client side of a pair */
	struct turn_timer idle;
	struct relay_ctrl *prev, *next;
	struct ctrl_hist *hist; /* TURN messages of before the WATCH */
	uint64_t cap_call;      /* the call its messages are copied for */
	uint32_t cap_alloc;     /* and that call's allocation */
	bool cap_off;           /* controls a UDP allocation: no copies */
	unsigned n_cap;         /* messages copied for the call log */
};

#define RELAY_HELD_MAX 8 /* unpermitted peers held per in-process relay */

/** A peer connection accepted before its permission (in-process relays,
 * [appsharing] permit_wait): not read, not announced until permitted */
struct relay_held {
	int fd;
	struct sw_sa peer;
	uint64_t until; /* ms, then refused */
};

/** The relayed socket of an allocation (UDP socket or TCP listener) */
struct relay_relayed {
	struct relay_io io;
	struct relay_accept acc; /* TCP */
	struct relay_thread *rt;
	struct turn_alloc *al;
	uint16_t port;
	struct relay_held held[RELAY_HELD_MAX];
	unsigned n_held;
	struct turn_timer held_tmr;
	struct relay_inside *inside; /* RELAY_CMD_ALLOC inside, or NULL */
	size_t prebind; /* peer bytes read before their bind ([turn]
			   prebind_total): relay_pump.c */
	struct sw_sa targets[RELAY_MAX_ADDRS]; /* of inside connections */
	unsigned n_targets;
};

/** Handed between threads: a connection whose first message is a
 * ConnectionBind for another thread's CONNECTION-ID */
struct relay_handoff {
	int fd;
	SSL *ssl;
	enum turn_tp tp;
	struct sw_sa client, local;
	size_t len;
	uint8_t data[];
};

struct relay_pair;

#define RELAY_LOST_MAX 64 /* calls with refused events awaiting report */

/** Events of one call the full event queue refused, not yet reported */
struct relay_lost {
	uint64_t call_id;
	enum relay_ev_type type; /* the first refused */
	unsigned n;
};

struct relay_thread {
	struct relay *r;
	unsigned idx;
	pthread_t th;
	bool started, stop;
	int epfd;
	struct sw_conf conf; /* this thread's copy */
	struct turn_srv *srv;
	struct sw_mq *cmdq;  /* owned by struct relay */
	struct relay_io cmd_io;
	SSL_CTX *tls;
	struct relay_listener *listeners;
	struct relay_ctrl *ctrls;
	struct relay_ctrl *broken; /* to close after the batch */
	struct relay_pair *pairs;
	struct relay_io *dead;
	uint32_t next_tport;
	uint16_t port_lo, port_hi, port_cur;
	uint8_t *ports; /* bitmap of relayed ports in use */
	struct sw_accept_reserve reserve; /* see sw_accept.h */
	int pipes[RELAY_POOL_PIPES][2];
	unsigned n_pipes;
	struct relay_lost lost[RELAY_LOST_MAX]; /* relay_ev_post() */
	unsigned n_lost;
	uint8_t rx[TURN_HEADROOM + 65536 + 8];
};

#define RELAY_HOST_IPS 64

struct relay {
	struct sw_conf conf;
	struct sw_sa host_ips[RELAY_HOST_IPS]; /* interface addresses */
	unsigned n_host_ips;
	unsigned n;
	struct relay_thread *t;
	struct sw_mq *evq;
	struct turn_quota *quota;
	uint8_t nonce_key[TURN_NONCE_KEY_LEN];
	relay_observe_h *observe;
	void *observe_arg;
	/* test aid (relay_test_refuse_ev): posts of this event type are
	 * refused as a full queue would, always (-1) or n more times */
	int test_refuse_type;
	long test_refuse_left;
};

extern const struct turn_ops relay_turn_ops;

/* relay_loop.c */
int relay_io_set(struct relay_thread *rt, struct relay_io *io,
		 uint32_t events);
void relay_io_retire(struct relay_thread *rt, struct relay_io *io,
		     bool close_fd);
void relay_ev_post(struct relay_thread *rt, const struct relay_ev *ev);
int64_t relay_now_us(void);
void relay_wire_copy(struct relay_wire *w, const uint8_t *hdr, size_t hlen,
		     const uint8_t *msg, size_t len, const struct sw_sa *src,
		     const struct sw_sa *dst);
int relay_handoff_send(struct relay_thread *rt, unsigned owner,
		       struct relay_handoff *h);
int relay_sock_nonblock(int fd);
void relay_sock_nodelay(int fd);
void relay_accept_init(struct relay_thread *rt, struct relay_accept *ra,
		       struct relay_io *io, const char *what);
int relay_accept(struct relay_accept *ra, struct sw_sa *peer);
void relay_accept_stop(struct relay_accept *ra);

/* relay_ctrl.c */
int relay_listeners_open(struct relay_thread *rt, bool log);
void relay_listeners_close(struct relay_thread *rt);
void relay_listener_event(struct relay_thread *rt, struct relay_listener *l,
			  uint32_t ev);
void relay_ctrl_event(struct relay_thread *rt, struct relay_ctrl *c,
		      uint32_t ev);
void relay_ctrl_close(struct relay_thread *rt, struct relay_ctrl *c);
void relay_ctrl_reap(struct relay_thread *rt);
int relay_ctrl_adopt(struct relay_thread *rt, struct relay_handoff *h);
void relay_ctrl_detach(struct relay_thread *rt, struct relay_ctrl *c);
void relay_op_send(void *arg, const struct turn_src *dst, const uint8_t *buf,
		   size_t len);
void relay_ctrl_hist_flush(struct relay_thread *rt, struct relay_ctrl *c,
			   const struct turn_alloc *al);
int relay_tls_init(struct relay_thread *rt);

/** What one non-blocking read or write on a client connection or a peer
 * connection did */
enum relay_io_res {
	RELAY_IO_BYTES, /* *np > 0 bytes moved */
	RELAY_IO_EOF,   /* the other end closed (or 0 bytes written) */
	RELAY_IO_AGAIN, /* would block; TLS: *want_write for which way */
	RELAY_IO_ERROR, /* the connection is broken */
};

enum relay_io_res relay_stream_io(int fd, SSL *ssl, bool *want_write,
				  void *buf, size_t len, bool wr,
				  size_t *np);

/* relay_peer.c */
int relay_op_relay_open(void *arg, struct turn_alloc *al, int af,
			struct sw_sa *relayed);
void relay_op_relay_close(void *arg, struct turn_alloc *al);
void relay_op_port_release(void *arg, int af, uint16_t port);
void relay_op_relay_send(void *arg, struct turn_alloc *al,
			 const struct sw_sa *peer, const uint8_t *buf,
			 size_t len);
void relay_relayed_event(struct relay_thread *rt, struct relay_relayed *rs,
			 uint32_t ev);
int relay_op_peer_connect(void *arg, struct turn_conn *tc);
void relay_relayed_permitted(struct relay_thread *rt, struct turn_alloc *al);
int relay_port_listen(struct relay_thread *rt, const struct sw_sa *ip,
		      int *fdp, uint16_t *portp);
void relay_port_free(struct relay_thread *rt, uint16_t port);

/* relay_inside.c */
struct relay_inside;
int relay_inside_open(struct relay_thread *rt, struct turn_alloc *al,
		      struct sw_sa *addr);
void relay_inside_close(struct relay_thread *rt, struct relay_inside *ins);
void relay_inside_event(struct relay_thread *rt, struct relay_io *io);
void relay_inside_retry(struct relay_inside *ins, int fd,
			const struct sw_sa *src, unsigned next);
void relay_inside_targets(struct relay_inside *ins);

/* relay_pump.c */
int relay_pair_new(struct relay_thread *rt, struct turn_conn *tc, int fd,
		   bool connecting);
int relay_op_conn_bind(void *arg, struct turn_conn *tc,
		       const struct turn_src *data);
void relay_op_conn_close(void *arg, struct turn_conn *tc);
void relay_side_event(struct relay_thread *rt, struct relay_io *io,
		      uint32_t ev);
int relay_pair_dial(struct relay_thread *rt, struct turn_conn *tc,
		    const struct relay_cmd *cmd);
int relay_pair_splice(struct relay_thread *rt, struct turn_conn *tc);
void relay_pair_watch(struct relay_thread *rt, struct turn_conn *tc);
void relay_pair_inside(struct turn_conn *tc, int fd, const struct sw_sa *src,
		       struct relay_inside *ins, unsigned next);
void relay_pipes_free(struct relay_thread *rt);

#endif
