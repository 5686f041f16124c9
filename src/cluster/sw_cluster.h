/**
 * @file sw_cluster.h  Several gateways on one PostgreSQL (issue 15).
 *
 * With [cluster] enable = yes, one thread of sharewayd, the cluster
 * thread, is the only code that talks to PostgreSQL (libpq). It keeps
 * this instance's row of the registry (addresses, state, load) fresh with
 * a heartbeat, declares instances whose heartbeat is older than
 * dead_after gone and cuts their open calls in the cluster call log (one
 * survivor does, by an UPDATE only one transaction wins), ships the local
 * call log (SQLite, the authority) to the cluster call log in batches,
 * and reads the TURN users and REST secrets kept there. The SIP thread
 * never waits for it: it pushes its load with sw_cluster_report() (a
 * value message, dropped if the queue is full: the next one follows) and
 * reads the registry view and the credentials from the queue behind
 * sw_cluster_fd(). A database that is down or slow costs the cluster
 * view its freshness and the cluster log its delay, never a call: the
 * thread reconnects with a backoff (at most 2 s) and catches up.
 *
 * Without [cluster] nothing here runs: sw_cluster_start() is not called.
 */
#ifndef SW_CLUSTER_H
#define SW_CLUSTER_H

#include <stdbool.h>
#include <stdint.h>

#include "sw_calllog.h"
#include "sw_callstore.h"
#include "sw_cluview.h"
#include "sw_conf.h"

#define SW_CLUSTER_SECRETS SW_CONF_MAX_SECRETS /* at once (rotation) */

/** SIP thread -> cluster thread, every second */
struct sw_cluster_load {
	uint32_t calls, allocs, ports_free;
	bool draining; /* registry state draining instead of active */
};

/** The TURN credentials kept in PostgreSQL (owned by the receiver) */
struct sw_cluster_creds {
	struct sw_user users[SW_CONF_MAX_USERS];
	unsigned n_users;
	char secrets[SW_CLUSTER_SECRETS][SW_CONF_STR];
	unsigned n_secrets;
};

/** What the cluster thread knows of itself (in every view message) */
struct sw_cluster_status {
	bool db_up;
	int64_t since_us;        /* of the current db_up state */
	uint64_t shipped;        /* call records shipped (upserts) */
	uint64_t ship_batches;
	int64_t shipped_end_us;  /* ended calls are shipped up to here */
	uint64_t gone_marked;    /* instances this one declared gone */
	uint64_t calls_cut;      /* their open calls it marked cut */
	char error[200];         /* the last database error, "" none */
};

enum sw_cluster_msg_type {
	SW_CLUSTER_VIEW = 1,  /* view + status */
	SW_CLUSTER_CREDS,     /* creds (heap, the receiver frees it) */
};

/** Cluster thread -> SIP thread */
struct sw_cluster_msg {
	enum sw_cluster_msg_type type;
	struct sw_cluview view;
	struct sw_cluster_status status;
	struct sw_cluster_creds *creds;
};

struct sw_cluster;

int sw_cluster_start(struct sw_cluster **cp, const struct sw_conf *conf);
void sw_cluster_stop(struct sw_cluster *c);
int sw_cluster_fd(const struct sw_cluster *c);
bool sw_cluster_pop(struct sw_cluster *c, struct sw_cluster_msg *m);
int sw_cluster_report(struct sw_cluster *c, const struct sw_cluster_load *l);

/* the schema (sw_cluster_pg.c), for the thread and the CLI */
#define SW_CLUSTER_SCHEMA 1
struct pg_conn;
int sw_cluster_schema(struct pg_conn *pg, char *err, size_t errsz);

/* reading the cluster call log (sw_cluster_read.c, the CLI) */
struct sw_cluster_row {
	const char *instance;         /* the owner */
	const struct sw_callrec *rec; /* the calls-table columns */
	const char *cut_by;           /* the survivor that cut it, or NULL */
};

typedef int(sw_cluster_row_h)(const struct sw_cluster_row *row, void *arg);

int sw_cluster_read_open(struct pg_conn **pgp, const char *conninfo,
			 char *err, size_t errsz);
void sw_cluster_read_close(struct pg_conn *pg);
int sw_cluster_list(struct pg_conn *pg, const struct sw_callstore_query *q,
		    sw_cluster_row_h *h, void *arg);
int sw_cluster_get(struct pg_conn *pg, const char *key, sw_cluster_row_h *h,
		   void *arg);

#endif
