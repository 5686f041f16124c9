/**
 * @file sw_calllog.h  The call log: emit API, writer thread, reading.
 *
 * Producers (the SIP thread, relay threads) call the emit functions
 * below. Each copies its arguments into one value message (text and
 * bytes go into one owned heap block whose ownership moves with the
 * message) and pushes it on a bounded queue; none touches the disk, none
 * blocks. A full queue drops the message, counts it and logs one WARN
 * line per second at most. The writer thread drains the queue into
 * SQLite (WAL, synchronous=NORMAL) in one transaction per ~100 ms or per
 * batch_max messages, so a kill -9 loses at most the last ~100 ms of
 * records and never corrupts the file (WAL survives a process crash;
 * only a power loss can lose committed transactions with NORMAL). The
 * writer writes through the call store's interface (sw_callstore.h).
 *
 * Emit rules: a call is identified by the uid sw_calllog_call_start()
 * returns (0 when the log is off: every other function then does
 * nothing). In the record structs (sw_callrec.h) a NULL string or a zero
 * number means "not known: keep the stored value", so a producer sends
 * what it learns when it learns it. When a call has ended, the writer
 * computes its verdict (sw_verdict()) from the stored facts, and again if
 * late facts arrive (a relay's close after the BYE): from the facts it
 * holds in memory for recent calls (bounded by facts_kib), else read back
 * from the store.
 *
 * Reading (what the CLI does, on a file the daemon is writing) goes
 * through sw_callstore.h.
 */
#ifndef SW_CALLLOG_H
#define SW_CALLLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sw_callrec.h"

#define SW_CALLLOG_TAG_LEN 24

struct sw_calllog;
struct sw_ctl;

struct sw_calllog_opts {
	const char *path;        /* database file (required) */
	uint32_t retention_days; /* 0: keep forever */
	uint32_t max_calls;      /* 0: no limit */
	uint32_t queue_len;      /* messages; 0: 32768 */
	uint32_t batch_ms;       /* commit interval; 0: 100 */
	uint32_t batch_max;      /* messages per transaction; 0: 5000 */
	/* memory the writer keeps for the facts of recent calls, so that a
	 * verdict needs no reading back, KiB; 0: 16384 (7,000 or more calls);
	 * SW_CALLLOG_FACTS_NONE: none (every verdict reads the call back) */
	uint32_t facts_kib;
};

#define SW_CALLLOG_FACTS_NONE UINT32_MAX

struct sw_calllog_stats {
	uint64_t calls;        /* uids handed out */
	uint64_t queued;       /* messages accepted */
	uint64_t written;      /* messages applied to the database */
	uint64_t dropped;      /* queue full or out of memory */
	uint64_t errors;       /* SQLite errors (logged) */
	uint64_t batches;      /* committed transactions */
	uint64_t verdicts;     /* verdicts computed */
	uint64_t reloaded;     /* ... from facts read back from the store */
	uint64_t verdict_ok, verdict_info, verdict_fail; /* calls ended, by
				  the class of their first verdict */
	uint64_t expired;      /* calls removed by retention */
	uint64_t max_batch_us; /* slowest commit */
	uint64_t pending;      /* messages waiting in the queue */
};

/* writer side: open/close on the main thread, emit from any thread */
int sw_calllog_open(struct sw_calllog **clp,
		    const struct sw_calllog_opts *opts);
void sw_calllog_close(struct sw_calllog *cl);
int sw_calllog_flush(struct sw_calllog *cl, unsigned timeout_ms);
void sw_calllog_stats(struct sw_calllog *cl, struct sw_calllog_stats *st);
const char *sw_calllog_path(const struct sw_calllog *cl);
int sw_calllog_ctl_register(struct sw_calllog *cl, struct sw_ctl *ctl);
int64_t sw_calllog_now(void);

uint64_t sw_calllog_call_start(struct sw_calllog *cl,
			       const struct sw_rec_start *st, char *tag,
			       size_t tagsz);
uint64_t sw_calllog_reserve(struct sw_calllog *cl, char *tag, size_t tagsz);
int sw_calllog_call_start_uid(struct sw_calllog *cl, uint64_t uid,
			      const struct sw_rec_start *st);
int sw_calllog_call_ringing(struct sw_calllog *cl, uint64_t uid,
			    int64_t t_us);
int sw_calllog_call_answer(struct sw_calllog *cl, uint64_t uid,
			   int64_t t_us);
int sw_calllog_call_end(struct sw_calllog *cl, uint64_t uid,
			const struct sw_rec_end *end);
int sw_calllog_call_fault(struct sw_calllog *cl, uint64_t uid,
			  const char *fault);
int sw_calllog_leg(struct sw_calllog *cl, uint64_t uid,
		   const struct sw_rec_leg *leg);
int sw_calllog_route(struct sw_calllog *cl, uint64_t uid,
		     const struct sw_rec_route *route);
int sw_calllog_negotiation(struct sw_calllog *cl, uint64_t uid,
			   const struct sw_rec_neg *neg);
int sw_calllog_relay(struct sw_calllog *cl, uint64_t uid,
		     const struct sw_rec_relay *relay);
int sw_calllog_conn(struct sw_calllog *cl, uint64_t uid,
		    const struct sw_rec_conn *conn);
int sw_calllog_ice(struct sw_calllog *cl, uint64_t uid,
		   const struct sw_rec_ice *ice);
int sw_calllog_reinvite(struct sw_calllog *cl, uint64_t uid,
			const struct sw_rec_reinvite *ri);
int sw_calllog_event(struct sw_calllog *cl, uint64_t uid,
		     const struct sw_rec_event *ev);
int sw_calllog_sipmsg(struct sw_calllog *cl, uint64_t uid, char leg,
		      bool received, const struct sw_rec_packet *pkt);
int sw_calllog_stunmsg(struct sw_calllog *cl, uint64_t uid,
		       enum sw_actor src, enum sw_actor dst,
		       const struct sw_rec_packet *pkt);

/* the synthetic load generator (sharewayd --synthetic-load, tools/) */
struct sw_calllog_synth;

int sw_calllog_synth_call(struct sw_calllog *cl, uint64_t seq,
			  int64_t end_us, bool full);
int sw_calllog_synth_start(struct sw_calllog_synth **syp,
			   struct sw_calllog *cl, uint32_t rate);
void sw_calllog_synth_stop(struct sw_calllog_synth *sy);

#endif
