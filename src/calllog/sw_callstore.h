/**
 * @file sw_callstore.h  The call store: where call records are kept, as
 * a set of operations any implementation can provide.
 *
 * The call log's writer thread (sw_calllog.c) writes through it in
 * batches; the CLI and tools read through it (find a call, list calls
 * with filters, load one call with the parts it needs, count failures
 * for `shareway stats`, fetch the calls finished after a cursor). No code
 * outside an implementation knows its tables or its query language, and
 * none includes an implementation's headers (tools/check-layers.sh
 * refuses sqlite3.h anywhere but in sw_callstore_sqlite.c).
 *
 * The first implementation is a local SQLite file (sw_callstore_sqlite.c,
 * sw_callstore_sqlite_ops): sw_callstore_open() uses it. A second one
 * (a cluster database, say) fills a struct sw_callstore_ops, embeds a
 * struct sw_callstore at the start of its own handle and is opened with
 * sw_callstore_open_ops(); what it cannot do it leaves NULL and the
 * wrappers answer ENOTSUP.
 *
 * Shipping records elsewhere: every time a call's verdict is stored (the
 * call ended, or a late fact about an ended call arrived) the call gets
 * a new finish sequence number (sw_callrec.done_seq), strictly greater
 * than any before it in that store, visible to readers when the batch
 * commits. A shipper keeps the highest done_seq it has shipped as its
 * cursor and asks sw_callstore_finished(cursor, limit) for the next
 * batch; a call finished again reappears with its new number (ship it
 * as an upsert keyed by the call's tag). Retention may remove calls a
 * slow shipper has not seen: the sequence numbers then jump.
 *
 * Verdicts: a writer may hold the facts of recent calls in memory
 * (sw_callstore_facts_budget()) and judge an ended call from them; a
 * call it does not hold (a restart, the bound reached) is read back.
 * Either way the verdict is the one sw_callstore_load() would give.
 *
 * Threads: a handle is used by one thread at a time. Readers may open
 * their own handles on a store the daemon is writing.
 */
#ifndef SW_CALLSTORE_H
#define SW_CALLSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sw_callrec.h"

/** What the writer thread stores: one fact about a call, as queued by
 *  the emit functions of sw_calllog.h (blob layout: sw_calllog_int.h) */
enum sw_callstore_msg_type {
	SW_CSM_START = 1,
	SW_CSM_RINGING,
	SW_CSM_ANSWER,
	SW_CSM_END,
	SW_CSM_FAULT,
	SW_CSM_LEG,
	SW_CSM_ROUTE,
	SW_CSM_NEG,
	SW_CSM_RELAY,
	SW_CSM_CONN,
	SW_CSM_ICE,
	SW_CSM_REINVITE,
	SW_CSM_EVENT,
	SW_CSM_PACKET,
	SW_CSM_FLUSH, /* barrier: commit, then signal sw_calllog_flush() */
};

struct sw_callstore_msg {
	uint8_t type; /* enum sw_callstore_msg_type */
	uint64_t uid; /* the call; for SW_CSM_FLUSH the flush sequence */
	char *blob;   /* packed fields, may be NULL; owned by the message */
};

/** What a batch commit did */
struct sw_callstore_batch_res {
	unsigned verdicts;       /* ended calls (re)judged */
	unsigned verdict_errors; /* ended calls that could not be */
	unsigned reloaded;       /* verdicts whose facts were read back from
				    the store, not held by the writer */
	/* the calls whose end came in this batch, by the class of that
	 * first verdict (enum sw_verdict_sev, SW_VERDICT_OK..FAIL) */
	unsigned first_sev[SW_VERDICT_FAIL + 1];
};

/** Which parts of a call sw_callstore_load() fills */
enum sw_callstore_parts {
	SW_PART_HEAD = 0,    /* the call's own facts (what a list gives) */
	SW_PART_FACTS = 1,   /* + legs, route, negotiations, relays, conns,
				ICE, re-INVITE: what a verdict reads */
	SW_PART_LADDER = 2,  /* + the ladder (events) */
	SW_PART_PACKETS = 4, /* + the raw SIP and STUN/TURN messages */
	SW_PART_ALL = 7,
};

/** Filters of a list; zero fields filter nothing */
struct sw_callstore_query {
	int64_t since_us;       /* start >= this; 0: any */
	int64_t after_id;       /* id > this; 0: any */
	bool failed;            /* verdict severity FAIL only */
	bool active;            /* no end yet only */
	const char *rule;       /* this rule only */
	const char *match;      /* substring of tag, from, to, Call-IDs */
	int64_t ended_after_us; /* end > this; 0: any */
	unsigned limit;         /* 0: no limit */
	bool newest_first;
	bool by_end;            /* order by end time instead of start time */
};

/**
 * The counters of `shareway stats` over the calls started since a time:
 * X(name, what it counts). The struct and every reader's table of names
 * come from this one list.
 */
#define SW_CALLSTORE_COUNTS(X)                                                \
	X(calls, "calls started")                                             \
	X(failed, "calls whose verdict is a failure")                         \
	X(synthetic, "synthetic calls (the load generator)")                  \
	X(glare_491_retries, "491 retries of completion re-INVITEs")          \
	X(relay_alloc_failures, "relays never allocated, with an error")      \
	X(connectionbind_failures, "ConnectionBinds answered with an error")  \
	X(ice_e2c_failures, "calls whose Edge checks failed")                 \
	X(ice_c2e_failures, "calls whose conference checks failed")

struct sw_callstore_counts {
#define SW_CALLSTORE_COUNT_FIELD(name, what) int64_t name;
	SW_CALLSTORE_COUNTS(SW_CALLSTORE_COUNT_FIELD)
#undef SW_CALLSTORE_COUNT_FIELD
};

/** Called per row of a list; rec is valid for the call only. A non-zero
 *  return stops the walk and is returned. */
typedef int(sw_callstore_row_h)(const struct sw_callrec *rec, void *arg);
/** Called per final code >= 300, most frequent first */
typedef void(sw_callstore_code_h)(int code, int64_t calls, void *arg);

struct sw_callstore;

/**
 * An implementation. Writer operations run on the call log's writer
 * thread only; retention, lost-call marking and the id high-water mark
 * are the writer's too. Errors are errno values; errmsg() says more
 * about the last one.
 */
struct sw_callstore_ops {
	const char *name; /* "sqlite" */
	int (*open)(struct sw_callstore **sp, const char *where, bool writer,
		    char *err, size_t errsz);
	void (*close)(struct sw_callstore *s);
	const char *(*errmsg)(struct sw_callstore *s);

	/* writing: begin, add facts, commit (verdicts of the ended calls
	 * the batch touched are computed and stored before the commit) */
	int (*batch_begin)(struct sw_callstore *s);
	int (*batch_add)(struct sw_callstore *s,
			 const struct sw_callstore_msg *m);
	int (*batch_commit)(struct sw_callstore *s,
			    struct sw_callstore_batch_res *res);
	/* memory the writer may keep for the facts of recent calls, so
	 * that a verdict needs no reading back (0: none) */
	int (*facts_budget)(struct sw_callstore *s, size_t max_bytes);
	int (*mark_lost)(struct sw_callstore *s, unsigned *np);
	int (*expire)(struct sw_callstore *s, int64_t before_us,
		      uint32_t max_calls, unsigned chunk, unsigned *np);
	int64_t (*max_id)(struct sw_callstore *s);

	/* reading */
	int (*find)(struct sw_callstore *s, const char *key, int64_t *idp);
	int (*load)(struct sw_callstore *s, int64_t id, unsigned parts,
		    struct sw_callrec **recp);
	int (*list)(struct sw_callstore *s,
		    const struct sw_callstore_query *q,
		    sw_callstore_row_h *rowh, void *arg);
	int (*finished)(struct sw_callstore *s, int64_t after_seq,
			unsigned limit, unsigned parts,
			sw_callstore_row_h *rowh, void *arg);
	int (*counts)(struct sw_callstore *s, int64_t since_us,
		      struct sw_callstore_counts *c,
		      sw_callstore_code_h *codeh, void *arg);
};

/** The head of every implementation's handle */
struct sw_callstore {
	const struct sw_callstore_ops *ops;
};

extern const struct sw_callstore_ops sw_callstore_sqlite_ops;

int sw_callstore_open(struct sw_callstore **sp, const char *path,
		      bool writer, char *err, size_t errsz);
int sw_callstore_open_ops(struct sw_callstore **sp,
			  const struct sw_callstore_ops *ops,
			  const char *where, bool writer, char *err,
			  size_t errsz);
void sw_callstore_close(struct sw_callstore *s);
const char *sw_callstore_errmsg(struct sw_callstore *s);

int sw_callstore_batch_begin(struct sw_callstore *s);
int sw_callstore_batch_add(struct sw_callstore *s,
			   const struct sw_callstore_msg *m);
int sw_callstore_batch_commit(struct sw_callstore *s,
			      struct sw_callstore_batch_res *res);
int sw_callstore_facts_budget(struct sw_callstore *s, size_t max_bytes);
int sw_callstore_mark_lost(struct sw_callstore *s, unsigned *np);
int sw_callstore_expire(struct sw_callstore *s, int64_t before_us,
			uint32_t max_calls, unsigned chunk, unsigned *np);
int64_t sw_callstore_max_id(struct sw_callstore *s);

int sw_callstore_find(struct sw_callstore *s, const char *key,
		      int64_t *idp);
int sw_callstore_load(struct sw_callstore *s, int64_t id, unsigned parts,
		      struct sw_callrec **recp);
int sw_callstore_get(struct sw_callstore *s, const char *key,
		     unsigned parts, struct sw_callrec **recp);
int sw_callstore_list(struct sw_callstore *s,
		      const struct sw_callstore_query *q,
		      sw_callstore_row_h *rowh, void *arg);
int sw_callstore_finished(struct sw_callstore *s, int64_t after_seq,
			  unsigned limit, unsigned parts,
			  sw_callstore_row_h *rowh, void *arg);
int sw_callstore_counts(struct sw_callstore *s, int64_t since_us,
			struct sw_callstore_counts *c,
			sw_callstore_code_h *codeh, void *arg);

#endif
