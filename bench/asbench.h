/**
 * @file asbench.h  asbench: the application-sharing benchmark driver.
 *
 * One process, one thread, one epoll loop plays both neighbours of
 * sharewayd for a relay-policy app-sharing call (docs/ARCHITECTURE.md,
 * "One application-sharing call"):
 *
 *  - the Edge (127.0.0.2): SIP UAC over UDP, INVITE with an
 *    m=applicationsharing offer, ACK; its relay's TCP connection to the
 *    gateway's TCP-PASS relay candidate; MS-ICE2 checks as the
 *    controlling agent (MS-ICE2 MESSAGE-INTEGRITY, legacy duplicates);
 *    its own completion re-INVITE; BYE;
 *  - the conference (127.0.0.3): SIP UAS over UDP answering with a
 *    TCP-PASS candidate on one shared listener (connections are told
 *    apart by the USERNAME of their first Binding request), checks as the
 *    controlled agent, the gateway's completion re-INVITE checked and
 *    answered, BYE answered.
 *
 * Modes (asbench.c): rate (open loop), hold (concurrent calls) and
 * throughput (one bridged call, next to a plain TCP pair). Each ends with
 * one "RESULT mode=... key=value ..." line on stdout.
 */
#ifndef ASBENCH_H
#define ASBENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sw_addr.h"
#include "turn_msg.h"

#define AS_SIP_MAX 4096     /* largest SIP datagram sent or taken */
#define AS_SDP_MAX 2048     /* largest SDP body built */
#define AS_VIA_MAX 8        /* Via header lines copied into a response */
#define AS_CONN_BUF 1024    /* per-connection rx and tx buffers (checks) */
#define AS_UFRAG_SIZE 16
#define AS_PWD_SIZE 32
#define AS_ID_SIZE 64       /* Call-IDs and tags we generate */
#define AS_PEER_SIZE 128    /* Call-IDs and tags the gateway generates */
#define AS_URI_SIZE 160
#define AS_PENDING_MAX 4096 /* accepted conference connections not yet named */

#define AS_T1 0.5           /* RFC 3261 timers, s */
#define AS_T2 4.0
#define AS_CHECK_RTX 0.5    /* unanswered Binding request resent after, s */
#define AS_CHECK_SENDS 40   /* at most this many sends of one check */

/** A piece of a received message (not NUL-terminated) */
struct as_str {
	const char *p;
	size_t n;
};

/** One parsed SIP message; points into the datagram */
struct as_sipmsg {
	bool req;
	struct as_str method; /* requests */
	struct as_str uri;
	unsigned status;      /* responses */
	struct as_str via[AS_VIA_MAX]; /* whole header values, in order */
	unsigned nvia;
	struct as_str from, to, callid, cseq, contact, ctype, xcid;
	struct as_str rroute; /* the first Record-Route header's value */
	unsigned cseq_num;
	struct as_str cseq_method;
	struct as_str body;
};

/** Why a call failed (counted per reason in the RESULT line) */
enum as_fail {
	AS_F_NONE = 0,
	AS_F_SOCKET,        /* a socket of ours could not be made */
	AS_F_INVITE_STATUS, /* the INVITE got a non-2xx final answer */
	AS_F_NO_RELAY,      /* the 200 had no TCP-PASS relay candidates */
	AS_F_BAD_ANSWER,    /* the 200's SDP did not parse */
	AS_F_CONNECT,       /* the Edge relay's TCP connect failed */
	AS_F_CLOSED,        /* a media connection closed before the BYE */
	AS_F_BAD_CHECK,     /* a Binding request or response did not verify */
	AS_F_FINAL_OFFER,   /* the completion re-INVITE named unknown candidates */
	AS_F_EDGE_REINVITE, /* the Edge's own re-INVITE was not answered 200 */
	AS_F_PROBE,         /* a probe did not cross the bridged call */
	AS_F_BYE,           /* the BYE got a non-2xx answer */
	AS_F_GW_BYE,        /* the gateway hung up the call */
	AS_F_TIMEOUT,       /* per-call timeout; the stage says where */
	AS_F_CAP,           /* not started: in-flight cap reached */
	AS_F_SHED,          /* the INVITE got 503: the gateway shed it */
	AS_F_MAX
};

/** Milestones of one call, in the order they normally happen */
enum as_prog {
	AS_P_INVITE = 1u << 0,   /* Edge sent the INVITE */
	AS_P_C_INVITE = 1u << 1, /* the conference got it */
	AS_P_E_200 = 1u << 2,    /* the Edge got the 200 (and ACKed) */
	AS_P_C_ACK = 1u << 3,    /* the conference got its ACK */
	AS_P_E_CONN = 1u << 4,   /* the Edge relay's TCP connection is up */
	AS_P_C_CONN = 1u << 5,   /* the conference named the gateway's one */
	AS_P_E_ICE = 1u << 6,    /* the Edge's checks are complete */
	AS_P_C_ICE = 1u << 7,    /* the conference's checks are complete */
	AS_P_C_FINAL = 1u << 8,  /* the completion re-INVITE answered 200 */
	AS_P_C_FACK = 1u << 9,   /* ...and ACKed */
	AS_P_E_FINAL = 1u << 10, /* the Edge's own re-INVITE answered 200 */
	AS_P_SETUP = 1u << 11,   /* all of the above but AS_P_E_FINAL */
	AS_P_PROBED = 1u << 12,  /* probe crossed both ways (hold) */
	AS_P_BYE = 1u << 13,     /* the Edge sent BYE */
	AS_P_E_BYE = 1u << 14,   /* ...and got 200 */
	AS_P_C_BYE = 1u << 15,   /* the conference got the BYE */
	AS_P_DONE = 1u << 16,    /* counted as ended (success or failure) */
	AS_P_READY = 1u << 17,   /* set up and the Edge's re-INVITE done */
};
#define AS_P_BITS 18

/** An outgoing Binding request (a check) */
struct as_check {
	uint8_t tid[TURN_TID_LEN];
	bool nominating;
	bool answered;
	unsigned sends;
	double last;
};

/** ICE credentials of one agent; they point into its call */
struct as_creds {
	const char *lufrag, *lpwd; /* ours */
	const char *rufrag, *rpwd; /* the peer's */
};

/** One MS-ICE2 agent on one TCP connection, RFC 4571 framed */
struct as_ice {
	int fd;
	bool out_armed;       /* EPOLLOUT registered */
	struct as_creds cr;
	bool controlling;
	bool msice2;          /* MI in the RFC 3489bis-02 form (Edge) */
	bool legacy_dup;      /* send libnice's legacy-CRC copies (Edge) */
	bool peer_v2;         /* the peer sent IMPLEMENTATION-VERSION */
	bool started;         /* checks begun */
	bool out_ok, nominated, in_ok, use_cand;
	uint32_t priority;
	uint64_t tiebreaker;
	struct sw_sa peer;    /* the other end of the TCP connection */
	struct as_check chk[2];
	unsigned nchk;
	uint16_t probe_seq;   /* RTP probes received (hold mode) */
	unsigned probes_rx;
	size_t rxlen, txlen;
	uint8_t rx[AS_CONN_BUF];
	uint8_t tx[AS_CONN_BUF];
};

/** A client transaction of the Edge (INVITE, re-INVITE or BYE) */
struct as_ctxn {
	char *msg;            /* the request as sent (malloc), NULL if none */
	size_t len;
	char branch[AS_ID_SIZE];
	unsigned cseq;
	bool invite;
	bool provisional;     /* a 1xx stopped INVITE retransmissions */
	double next, interval;
};

/** The conference's INVITE/re-INVITE server transaction, until ACK */
struct as_stxn {
	char *resp;           /* the final response (malloc), NULL if none */
	size_t len;
	char branch[AS_PEER_SIZE]; /* of the request it answers */
	unsigned cseq;
	bool acked;
	double next, interval, give_up;
};

/** One call, both sides */
struct as_call {
	unsigned idx;
	uint32_t prog;        /* enum as_prog bits */
	enum as_fail fail;
	uint32_t fail_stage;  /* AS_F_TIMEOUT: the first milestone missing */
	double t_invite, t_connect, t_final, t_setup, deadline;
	double bye_at;        /* rate --hold-time: BYE due then, 0: none */
	double sched;         /* due time of its live heap entry, 0: none */
	/* the Edge side */
	char e_callid[AS_ID_SIZE];
	char e_tag[AS_ID_SIZE];
	char e_rtag[AS_PEER_SIZE];
	char e_target[AS_URI_SIZE];
	char e_route[AS_URI_SIZE]; /* the dialog's route set: a dispatcher's
				      Record-Route, "" none (as_edge.c) */
	char e_ufrag[AS_UFRAG_SIZE], e_pwd[AS_PWD_SIZE];
	unsigned e_cseq;
	unsigned e_491;       /* 491 answers to its re-INVITE so far */
	double e_retry_at;    /* its re-INVITE again after a 491, 0: no */
	uint16_t e_port;      /* the Edge relay's port (bound before the offer) */
	struct sw_sa relay;   /* sharewayd's TCP-PASS relay candidate */
	struct as_ctxn ctx;
	struct as_ice e;
	/* the conference side */
	char c_callid[AS_PEER_SIZE];
	char c_tag[AS_ID_SIZE];
	char c_ufrag[AS_UFRAG_SIZE], c_pwd[AS_PWD_SIZE];
	unsigned c_inv_cseq;   /* CSeq of the gateway's INVITE */
	unsigned c_final_cseq; /* CSeq of its completion re-INVITE */
	struct as_stxn stx;
	struct as_ice c;
};

/** An accepted conference connection whose call is not known yet */
struct as_pending {
	int fd;
	double t;
	size_t len;
	uint8_t buf[AS_CONN_BUF];
};

/** What to do with a call once it is set up */
enum as_after {
	AS_AFTER_BYE,  /* hang up at once (rate) */
	AS_AFTER_HOLD, /* keep it (hold, throughput) */
};

/** Options, read once in main() */
struct as_opts {
	const char *mode;
	unsigned count;          /* rate: calls/s; hold: calls */
	double seconds;          /* rate: duration; throughput: per phase */
	struct sw_sa gw;         /* sharewayd SIP, UDP */
	struct sw_sa edge_sip;   /* the Edge's SIP socket */
	struct sw_sa conf_sip;   /* the conference's SIP socket */
	struct sw_sa conf_media; /* the conference's TCP-PASS listener */
	unsigned max_inflight;   /* rate: cap; hold: window */
	double hold_rate;        /* hold: calls started per second at most */
	double call_timeout;     /* s, one call from INVITE to setup */
	double hold_time;        /* rate: s a call stays up before its BYE */
	unsigned settle;         /* hold: s after the last setup, and after
				    the BYEs, for the RSS figures once
				    Sofia's 32 s timers have run (35; 0
				    none) */
	bool edge_reinvite;      /* the Edge sends its completion re-INVITE */
	int server_pid;
	unsigned timeout;        /* s, whole run */
	size_t wsize;            /* throughput: write size */
};

/** Counters over the whole run */
struct as_stats {
	unsigned started, setups, failed, held, ended;
	unsigned fail[AS_F_MAX];
	unsigned fail_stage[AS_P_BITS]; /* AS_F_TIMEOUT by missing milestone */
	unsigned edge_491;           /* 491 answers to the Edge's re-INVITE */
	unsigned sip_bad, sip_stray, sip_rtx_in, sip_rtx_out, sip_send_err;
	unsigned check_rtx, pending_bad;
};

/** One run: sockets, calls, timers */
struct as_run {
	const struct as_opts *o;
	int ep;
	int edge_sip, conf_sip, listen_fd;
	uint32_t run_id;         /* in every Call-ID and tag we make */
	struct as_call *calls;
	unsigned ncalls, maxcalls;
	unsigned inflight;       /* started, neither set up nor failed */
	unsigned live;           /* started, not yet ended */
	enum as_after after;
	struct as_pending *pend[AS_PENDING_MAX];
	struct as_heap_ent *heap;
	size_t nheap, heapcap;
	double *lat_setup, *lat_connect; /* per setup, ms */
	unsigned nlat;
	struct as_stats st;
	double deadline;         /* global */
	char conf_sdp_port[8];
};

enum as_fdtype {
	AS_FD_EDGE_SIP = 1,
	AS_FD_CONF_SIP,
	AS_FD_LISTEN,
	AS_FD_EDGE_TCP,
	AS_FD_CONF_TCP,
	AS_FD_PENDING,
};

/* tb_net.c (shared with turnbench): clock, /proc, percentiles, options */
double tb_now(void);
void tb_random(void *buf, size_t n);
void tb_raise_nofile(unsigned want);
double tb_proc_cpu(int pid);
long tb_proc_status_kb(int pid, const char *field);
long tb_proc_fds(int pid);
double tb_pctl(double *v, size_t n, double p);
int tb_parse_size(const char *s, uint64_t max, uint64_t *v);
int tb_parse_uint(const char *s, unsigned max, unsigned *v);
void tb_alarm(const char *msg, unsigned secs);

/* as_sip.c: strict SIP text for exactly the messages of this flow */
int as_sip_parse(struct as_sipmsg *m, const char *buf, size_t len);
bool as_str_eq(struct as_str s, const char *z);
int as_str_copy(struct as_str s, char *buf, size_t sz);
int as_sip_param(struct as_str hdr, const char *name, struct as_str *val);
int as_sip_uri(struct as_str hdr, struct as_str *uri);
int as_sip_response(char *buf, size_t sz, size_t *lenp,
		    const struct as_sipmsg *req, unsigned status,
		    const char *tag, const char *contact, const char *sdp);
const char *as_sip_reason(unsigned status);

/* as_sdp.c: the bodies of the flow and their checks */
int as_sdp_offer(char *buf, size_t sz, const struct as_call *c,
		 unsigned version, bool final);
int as_sdp_answer(char *buf, size_t sz, const struct as_call *c,
		  const struct sw_sa *listen, unsigned version, bool final);
int as_sdp_relay(const struct as_str body, struct sw_sa *relay,
		 char *ufrag, char *pwd);
int as_sdp_offer_creds(const struct as_str body, char *ufrag, char *pwd);
int as_sdp_final_check(const struct as_str body, const struct as_call *c,
		       const struct sw_sa *listen, const char **why);
int as_sdp_edge_final_check(const struct as_str body,
			    const struct as_call *c);

/* as_ice.c: MS-ICE2 checks and RTP probes on one connection */
void as_ice_init(struct as_ice *ice, int fd, bool controlling,
		 const struct as_creds *cr);
int as_ice_start(struct as_ice *ice);
int as_ice_read(struct as_ice *ice);
int as_ice_timers(struct as_ice *ice, double now, unsigned *rtx);
double as_ice_next(const struct as_ice *ice);
bool as_ice_done(const struct as_ice *ice);
int as_ice_flush(struct as_ice *ice);
int as_ice_probe(struct as_ice *ice, uint16_t seq);
int as_ice_username(const uint8_t *frame, size_t len, char *ufrag,
		    size_t sz);
void as_ice_close(struct as_ice *ice);

/* as_loop.c: the loop, timers, sockets, call bookkeeping */
int as_run_init(struct as_run *r, const struct as_opts *o, unsigned maxcalls);
void as_run_free(struct as_run *r);
int as_run_turn(struct as_run *r, double until);
int as_call_start(struct as_run *r);
void as_call_fail(struct as_run *r, struct as_call *c, enum as_fail why);
void as_call_progress(struct as_run *r, struct as_call *c, uint32_t bit);
void as_call_end(struct as_run *r, struct as_call *c);
void as_call_sched(struct as_run *r, struct as_call *c);
struct as_call *as_call_by_id(struct as_run *r, const char *prefix,
			      struct as_str id);
int as_fd_add(struct as_run *r, int fd, enum as_fdtype type, unsigned idx,
	      bool out);
int as_fd_mod(struct as_run *r, int fd, enum as_fdtype type, unsigned idx,
	      bool out);
void as_udp_send(struct as_run *r, int fd, const struct sw_sa *dst,
		 const char *buf, size_t len);
const char *as_fail_name(enum as_fail f);
const char *as_stage_name(uint32_t bit);
void as_rand_token(char *buf, size_t n);

/* as_edge.c: the Edge side */
int as_edge_invite(struct as_run *r, struct as_call *c);
void as_edge_sip(struct as_run *r, const struct as_sipmsg *m,
		 const struct sw_sa *src);
void as_edge_tcp(struct as_run *r, struct as_call *c, uint32_t events);
void as_edge_timers(struct as_run *r, struct as_call *c, double now);
double as_edge_next(const struct as_call *c);
int as_edge_bye(struct as_run *r, struct as_call *c);
void as_edge_checks_done(struct as_run *r, struct as_call *c);
void as_media_error(struct as_run *r, struct as_call *c, int err,
		    struct as_ice *ice);
void as_media_arm(struct as_run *r, struct as_call *c, struct as_ice *ice,
		  enum as_fdtype type);

/* as_conf.c: the conference side */
void as_conf_sip(struct as_run *r, const struct as_sipmsg *m,
		 const struct sw_sa *src);
void as_conf_accept(struct as_run *r);
void as_conf_pending(struct as_run *r, unsigned slot);
void as_conf_tcp(struct as_run *r, struct as_call *c, uint32_t events);
void as_conf_timers(struct as_run *r, struct as_call *c, double now);
double as_conf_next(const struct as_call *c);

/* as_data.c: throughput through a bridged call and a plain TCP pair */
struct as_flow_result {
	double gbps;          /* received bits/s over the phase, both ways */
	double gbps_ab, gbps_ba;
	uint64_t sent, received;
	unsigned bad_frames;
};
int as_data_direct_pair(int *afd, int *bfd);
int as_data_run(int afd, int bfd, bool both, double seconds, size_t wsize,
		struct as_flow_result *res);

#endif
