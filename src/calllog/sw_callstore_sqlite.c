/**
 * @file sw_callstore_sqlite.c  The call store in a local SQLite file
 * (sw_callstore.h): schema and migrations, the writer's statements,
 * loading a record, listing, counting, retention. The only file of
 * shareway that speaks SQL or includes sqlite3.h.
 *
 * Schema history (PRAGMA user_version):
 *   1  calls + one table per record part (legs, route, negotiations,
 *      relays, conns, ice, reinvite, events);
 *   2  calls gain synthetic, failed and media (so `shareway calls` needs no
 *      join) and the indices for `--failed`, `--rule`, `--active` and
 *      `tail -f` (by end time);
 *      packets (raw SIP and STUN/TURN for `shareway export`);
 *   3  calls gain answered_by (who gave the final response toward the
 *      caller: the gateway, one of its dial plan rules, or a leg's peer),
 *      gw_reason (why the gateway answered itself, and the fix) and
 *      gw_fault (a fault of the gateway during the call, e.g. a relay
 *      command that could not be handed to its thread);
 *   4  calls gain done_seq, the finish sequence number (a new one each
 *      time the call's verdict is stored) that shippers use as their
 *      cursor (sw_callstore_finished()); the calls ended before it are
 *      numbered in id order;
 *   5  a captured SIP or STUN/TURN message is one row of events, its
 *      ladder step with its bytes (events gain proto, transport,
 *      src_addr, dst_addr, data): one INSERT per message where there were
 *      two; packets keeps the messages of the calls written before.
 * A file is migrated step by step on open, each step in a transaction.
 *
 * Child rows reference calls(id) with foreign keys enforced on the
 * writer's connection: a fact about a call whose start was dropped is
 * refused rather than orphaned.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "sw_calllog_int.h"
#include "sw_callstore_sqlite.h"
#include "sw_clock.h"

/* Enumerations stored as numbers in the file: renumbering one would
 * change the meaning of every file already written */
_Static_assert(SW_ICE_E2C == 0 && SW_ICE_C2E == 1, "ice.dir on disk");
_Static_assert(SW_ICE_WAITING == 1 && SW_ICE_CHECKING == 2 &&
	       SW_ICE_SUCCEEDED == 3 && SW_ICE_FAILED == 4,
	       "ice.state on disk");
_Static_assert(SW_ACT_EDGE == 1 && SW_ACT_GW == 2 && SW_ACT_TURNC == 3 &&
	       SW_ACT_CONF == 4, "events.src, events.dst on disk");
_Static_assert(SW_EV_SIP == 1 && SW_EV_TURN == 2 && SW_EV_STUN == 3 &&
	       SW_EV_TCP == 4, "events.kind on disk");
_Static_assert(SW_PKT_SIP == 1 && SW_PKT_STUN == 2 && SW_PKT_UDP == 1 &&
	       SW_PKT_TCP == 2 && SW_PKT_TLS == 3, "packets on disk");

/* ---- schema ---------------------------------------------------------- */

static const char schema_v1[] =
	"CREATE TABLE calls ("
	" id INTEGER PRIMARY KEY, tag TEXT NOT NULL UNIQUE,"
	" start_us INTEGER NOT NULL, ringing_us INTEGER, answer_us INTEGER,"
	" end_us INTEGER, state TEXT NOT NULL DEFAULT 'active',"
	" from_uri TEXT, to_uri TEXT, inbound_leg TEXT, rule TEXT,"
	" final_code INTEGER, final_phrase TEXT, disconnect_by TEXT,"
	" disconnect_reason TEXT, verdict TEXT);"
	"CREATE INDEX calls_start ON calls(start_us);"
	"CREATE TABLE legs ("
	" call INTEGER NOT NULL REFERENCES calls(id) ON DELETE CASCADE,"
	" leg TEXT NOT NULL, inbound INTEGER, call_id TEXT, from_tag TEXT,"
	" to_tag TEXT, from_uri TEXT, to_uri TEXT, peer TEXT, local TEXT,"
	" zone TEXT, transport TEXT, tls_subject TEXT, user_agent TEXT,"
	" x_cid TEXT, final_code INTEGER, final_phrase TEXT, ms_diag TEXT,"
	" ms_diag_public TEXT, ms_client_diag TEXT, error TEXT,"
	" PRIMARY KEY (call, leg));"
	"CREATE INDEX legs_call_id ON legs(call_id);"
	"CREATE TABLE route ("
	" call INTEGER PRIMARY KEY REFERENCES calls(id) ON DELETE CASCADE,"
	" rule TEXT, priority INTEGER, source_zone TEXT, target_zone TEXT,"
	" ruri_in TEXT, ruri_out TEXT, target TEXT, transport TEXT,"
	" trace TEXT, captures TEXT, media_policy TEXT);"
	"CREATE TABLE negotiations ("
	" call INTEGER NOT NULL REFERENCES calls(id) ON DELETE CASCADE,"
	" seq INTEGER NOT NULL, trigger TEXT, from_leg TEXT, to_leg TEXT,"
	" result INTEGER, latency_ms INTEGER, offer_in TEXT, offer_out TEXT,"
	" answer_in TEXT, answer_out TEXT, rewrites TEXT,"
	" UNIQUE (call, seq));"
	"CREATE TABLE relays ("
	" call INTEGER NOT NULL REFERENCES calls(id) ON DELETE CASCADE,"
	" relay INTEGER NOT NULL, server TEXT, transport TEXT, client TEXT,"
	" client_addr TEXT, relayed TEXT, request_us INTEGER,"
	" alloc_us INTEGER, lifetime_s INTEGER, refreshes INTEGER,"
	" permissions TEXT, error_code INTEGER, error TEXT,"
	" released_us INTEGER, close_reason TEXT, UNIQUE (call, relay));"
	"CREATE TABLE conns ("
	" call INTEGER NOT NULL REFERENCES calls(id) ON DELETE CASCADE,"
	" relay INTEGER NOT NULL, conn INTEGER NOT NULL, peer TEXT,"
	" target TEXT, attempt_us INTEGER, bind_us INTEGER,"
	" bind_code INTEGER, bind_error TEXT, bytes_in INTEGER,"
	" bytes_out INTEGER, closed_us INTEGER, close_reason TEXT,"
	" UNIQUE (call, relay, conn));"
	"CREATE TABLE ice ("
	" call INTEGER NOT NULL REFERENCES calls(id) ON DELETE CASCADE,"
	" dir INTEGER NOT NULL, state INTEGER, first_request_us INTEGER,"
	" first_success_us INTEGER, error_code INTEGER, error TEXT,"
	" nominated INTEGER, pair TEXT, timeout_s INTEGER,"
	" requests INTEGER, successes INTEGER, UNIQUE (call, dir));"
	"CREATE TABLE reinvite ("
	" call INTEGER PRIMARY KEY REFERENCES calls(id) ON DELETE CASCADE,"
	" leg TEXT, sent_us INTEGER, result INTEGER, phrase TEXT,"
	" latency_ms INTEGER, retries_491 INTEGER, reason TEXT);"
	"CREATE TABLE events ("
	" call INTEGER NOT NULL REFERENCES calls(id) ON DELETE CASCADE,"
	" t_us INTEGER NOT NULL, src INTEGER, dst INTEGER, kind INTEGER,"
	" label TEXT, detail TEXT);"
	"CREATE INDEX events_call ON events(call, t_us);";

static const char migrate_v2[] =
	"ALTER TABLE calls ADD COLUMN synthetic INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE calls ADD COLUMN failed INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE calls ADD COLUMN media TEXT;"
	"UPDATE calls SET failed = 1"
	" WHERE state IN ('rejected', 'failed', 'lost');"
	"CREATE INDEX calls_failed ON calls(start_us) WHERE failed = 1;"
	"CREATE INDEX calls_rule ON calls(rule, start_us);"
	"CREATE INDEX calls_open ON calls(start_us) WHERE end_us IS NULL;"
	"CREATE INDEX calls_end ON calls(end_us) WHERE end_us IS NOT NULL;"
	"CREATE TABLE packets ("
	" call INTEGER NOT NULL REFERENCES calls(id) ON DELETE CASCADE,"
	" t_us INTEGER NOT NULL, proto INTEGER NOT NULL,"
	" transport INTEGER NOT NULL, src TEXT NOT NULL, dst TEXT NOT NULL,"
	" data BLOB NOT NULL);"
	"CREATE INDEX packets_call ON packets(call, t_us);";

static const char migrate_v3[] =
	"ALTER TABLE calls ADD COLUMN answered_by TEXT;"
	"ALTER TABLE calls ADD COLUMN gw_reason TEXT;"
	"ALTER TABLE calls ADD COLUMN gw_fault TEXT;";

static const char migrate_v4[] =
	"ALTER TABLE calls ADD COLUMN done_seq INTEGER;"
	"UPDATE calls SET done_seq = id WHERE end_us IS NOT NULL;"
	"CREATE INDEX calls_done ON calls(done_seq)"
	" WHERE done_seq IS NOT NULL;";

static const char migrate_v5[] =
	"ALTER TABLE events ADD COLUMN proto INTEGER;"
	"ALTER TABLE events ADD COLUMN transport INTEGER;"
	"ALTER TABLE events ADD COLUMN src_addr TEXT;"
	"ALTER TABLE events ADD COLUMN dst_addr TEXT;"
	"ALTER TABLE events ADD COLUMN data BLOB;";

/* The columns v5 adds to events, in a new file (test "schema: migrated =
 * created" holds them equal) */
#define EVENT_PACKET_COLS                                                    \
	"proto INTEGER, transport INTEGER, src_addr TEXT, dst_addr TEXT,"    \
	" data BLOB"

static const char *const migrations[SW_CALLLOG_SCHEMA] = {
	schema_v1,  /* 0 -> 1 */
	migrate_v2, /* 1 -> 2 */
	migrate_v3, /* 2 -> 3 */
	migrate_v4, /* 3 -> 4 */
	migrate_v5, /* 4 -> 5 */
};

/* children first: retention deletes in this order */
static const char *const child_tables[] = {
	"legs", "route", "negotiations", "relays", "conns",
	"ice",  "reinvite", "events", "packets",
};


static int sql_err(sqlite3 *db, char *err, size_t errsz, const char *what)
{
	snprintf(err, errsz, "%s: %s", what, sqlite3_errmsg(db));
	return EIO;
}


static int user_version(sqlite3 *db, int *v)
{
	sqlite3_stmt *st;
	int rc;

	rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return EIO;
	rc = sqlite3_step(st);
	*v = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : EIO;
}


static int create_current(sqlite3 *db, char *err, size_t errsz);


/* Bring the schema to version target: 0, EPROTO if the file is newer
 * than this program, EIO. A new file gets the current schema at once,
 * from the field lists; an older file the migrations, step by step. */
static int schema_apply(sqlite3 *db, int target, char *err, size_t errsz)
{
	char sql[64];
	int v;

	if (target < 1 || target > SW_CALLLOG_SCHEMA)
		return EINVAL;
	if (user_version(db, &v))
		return sql_err(db, err, errsz, "schema version");
	if (v > SW_CALLLOG_SCHEMA) {
		snprintf(err, errsz, "schema v%d is newer than this program "
			 "(v%d)", v, SW_CALLLOG_SCHEMA);
		return EPROTO;
	}
	if (v == 0 && target == SW_CALLLOG_SCHEMA)
		return create_current(db, err, errsz);
	for (; v < target; ++v) {
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
		if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) ||
		    sqlite3_exec(db, migrations[v], NULL, NULL, NULL) ||
		    sqlite3_exec(db, sql, NULL, NULL, NULL) ||
		    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL)) {
			sql_err(db, err, errsz, "schema migration");
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			return EIO;
		}
	}
	return 0;
}


static int check_version(sqlite3 *db, const char *path, char *err,
			 size_t errsz)
{
	int v;

	if (user_version(db, &v))
		return sql_err(db, err, errsz, path);
	if (v == SW_CALLLOG_SCHEMA)
		return 0;
	if (v == 0)
		snprintf(err, errsz, "%s: not a call log (empty or foreign "
			 "file)", path);
	else if (v < SW_CALLLOG_SCHEMA)
		snprintf(err, errsz, "%s: call log schema v%d is older than "
			 "v%d; start sharewayd once to migrate it", path, v,
			 SW_CALLLOG_SCHEMA);
	else
		snprintf(err, errsz, "%s: call log schema v%d is newer than "
			 "this shareway (v%d)", path, v, SW_CALLLOG_SCHEMA);
	return EPROTO;
}


/*
 * Open a call log. Read-only: the file must exist at the current schema.
 * Read-write: created if missing, WAL + synchronous=NORMAL (a process
 * crash loses nothing committed; power loss may lose the last commits),
 * foreign keys on, migrated to the current schema.
 *
 * Returns 0, ENOENT, EPROTO (wrong schema), EIO; err says why.
 */
static int db_open(sqlite3 **dbp, const char *path, bool readonly,
		   char *err, size_t errsz)
{
	int flags = readonly ? SQLITE_OPEN_READONLY :
			       SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	sqlite3 *db = NULL;
	int e = 0;

	if (sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, NULL)) {
		snprintf(err, errsz, "%s: %s", path,
			 db ? sqlite3_errmsg(db) : "out of memory");
		e = readonly ? ENOENT : EIO;
		goto out;
	}
	sqlite3_busy_timeout(db, 5000);
	if (readonly) {
		e = check_version(db, path, err, errsz);
		goto out;
	}
	if (sqlite3_exec(db, "PRAGMA journal_mode = WAL;"
			     "PRAGMA synchronous = NORMAL;"
			     "PRAGMA foreign_keys = ON;",
			 NULL, NULL, NULL)) {
		e = sql_err(db, err, errsz, path);
		goto out;
	}
	e = schema_apply(db, SW_CALLLOG_SCHEMA, err, errsz);
out:
	if (e)
		sqlite3_close(db);
	else
		*dbp = db;
	return e;
}


/**
 * Bring the file at path (created if missing) to schema version target:
 * the migration tests build old files with it
 *
 * @return 0, EINVAL, EPROTO if the file is newer than this program, EIO
 */
int sw_callstore_sqlite_schema(const char *path, int target, char *err,
			       size_t errsz)
{
	sqlite3 *db = NULL;
	int e;

	if (sqlite3_open(path, &db)) {
		snprintf(err, errsz, "%s: %s", path,
			 db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return EIO;
	}
	e = schema_apply(db, target, err, errsz);
	sqlite3_close(db);
	return e;
}


/* ---- record parts <-> tables ----------------------------------------- */

/* The column tables are generated from the field lists of sw_callrec.h
 * (sw_callrec.c); the head's columns are read in their order, then the
 * rule (stored with the head, read into route.rule) */
static const struct cl_table *const upsert_tabs[] = {
	&cl_tab_leg,   &cl_tab_route, &cl_tab_neg,      &cl_tab_relay,
	&cl_tab_conn,  &cl_tab_ice,   &cl_tab_reinvite, &cl_tab_event,
};
#define N_UPSERT (sizeof(upsert_tabs) / sizeof(upsert_tabs[0]))


/* Append to sql[sz] at *n; once full, *n stays >= sz and nothing more
 * is written */
__attribute__((format(printf, 4, 5))) static void app(char *sql, size_t sz,
						      size_t *n,
						      const char *fmt, ...)
{
	va_list ap;

	if (*n >= sz)
		return;
	va_start(ap, fmt);
	*n += (size_t)vsnprintf(sql + *n, sz - *n, fmt, ap);
	va_end(ap);
}


/* The tables and indices of a current file. The tables come from the
 * field lists; the raw packets and the indices are written out (the
 * migrations above must reach the same schema: test "schema: migrated =
 * created") */
static const char schema_rest[] =
	"CREATE TABLE packets ("
	" call INTEGER NOT NULL REFERENCES calls(id) ON DELETE CASCADE,"
	" t_us INTEGER NOT NULL, proto INTEGER NOT NULL,"
	" transport INTEGER NOT NULL, src TEXT NOT NULL, dst TEXT NOT NULL,"
	" data BLOB NOT NULL);"
	"CREATE INDEX calls_start ON calls(start_us);"
	"CREATE INDEX legs_call_id ON legs(call_id);"
	"CREATE INDEX events_call ON events(call, t_us);"
	"CREATE INDEX calls_failed ON calls(start_us) WHERE failed = 1;"
	"CREATE INDEX calls_rule ON calls(rule, start_us);"
	"CREATE INDEX calls_open ON calls(start_us) WHERE end_us IS NULL;"
	"CREATE INDEX calls_end ON calls(end_us) WHERE end_us IS NOT NULL;"
	"CREATE INDEX packets_call ON packets(call, t_us);"
	"CREATE INDEX calls_done ON calls(done_seq)"
	" WHERE done_seq IS NOT NULL;";


/* CREATE TABLE of a record part: the call it belongs to, its columns,
 * and its key (call alone when it has one row per call); the ladder's
 * also holds the captured messages' bytes */
static void part_ddl(char *sql, size_t sz, size_t *n, const struct cl_table *t)
{
	bool keyed = false;

	for (unsigned i = 0; i < t->ncols; ++i)
		keyed |= t->cols[i].merge == CM_KEY;
	app(sql, sz, n, "CREATE TABLE %s (call INTEGER %s REFERENCES calls(id)"
	    " ON DELETE CASCADE", t->name, keyed || t->insert_only ?
	    "NOT NULL" : "PRIMARY KEY");
	for (unsigned i = 0; i < t->ncols; ++i) {
		const struct cl_col *c = &t->cols[i];

		app(sql, sz, n, ", %s %s%s", c->name,
		    c->type == CT_STR || c->type == CT_CHAR ? "TEXT" :
							      "INTEGER",
		    c->merge == CM_KEY ? " NOT NULL" : "");
	}
	if (t == &cl_tab_event)
		app(sql, sz, n, ", " EVENT_PACKET_COLS);
	if (keyed && !t->insert_only) {
		app(sql, sz, n, ", UNIQUE (call");
		for (unsigned i = 0; i < t->ncols; ++i)
			if (t->cols[i].merge == CM_KEY)
				app(sql, sz, n, ", %s", t->cols[i].name);
		app(sql, sz, n, ")");
	}
	app(sql, sz, n, ");");
}


static int create_current(sqlite3 *db, char *err, size_t errsz)
{
	char sql[8192];
	size_t n = 0;

	app(sql, sizeof(sql), &n, "BEGIN IMMEDIATE; CREATE TABLE calls (");
	for (unsigned i = 0; i < cl_tab_head.ncols; ++i)
		app(sql, sizeof(sql), &n, "%s %s, ", cl_tab_head.cols[i].name,
		    cl_tab_head.cols[i].sql);
	app(sql, sizeof(sql), &n, "rule TEXT);");
	for (size_t i = 0; i < N_UPSERT; ++i)
		part_ddl(sql, sizeof(sql), &n, upsert_tabs[i]);
	app(sql, sizeof(sql), &n, "%sPRAGMA user_version = %d; COMMIT;",
	    schema_rest, SW_CALLLOG_SCHEMA);
	if (n >= sizeof(sql)) {
		snprintf(err, errsz, "schema statement too long");
		return ENOSPC;
	}
	if (sqlite3_exec(db, sql, NULL, NULL, NULL)) {
		sql_err(db, err, errsz, "schema");
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return EIO;
	}
	return 0;
}


/* "INSERT INTO t(call,a,b) VALUES(?1,?2,?3) ON CONFLICT(call,a) DO
 * UPDATE SET b=COALESCE(excluded.b,b)" */
static int upsert_sql(const struct cl_table *t, char *sql, size_t sz)
{
	size_t n = 0;
	bool first = true;

	app(sql, sz, &n, "INSERT INTO %s(call", t->name);
	for (unsigned i = 0; i < t->ncols; ++i)
		app(sql, sz, &n, ",%s", t->cols[i].name);
	app(sql, sz, &n, ") VALUES(?1");
	for (unsigned i = 0; i < t->ncols; ++i)
		app(sql, sz, &n, ",?%u", i + 2);
	app(sql, sz, &n, ")");
	if (t->insert_only)
		return n < sz ? 0 : ENOSPC;
	app(sql, sz, &n, " ON CONFLICT(call");
	for (unsigned i = 0; i < t->ncols; ++i)
		if (t->cols[i].merge == CM_KEY)
			app(sql, sz, &n, ",%s", t->cols[i].name);
	app(sql, sz, &n, ") DO UPDATE SET ");
	for (unsigned i = 0; i < t->ncols; ++i) {
		const char *c = t->cols[i].name;

		switch (t->cols[i].merge) {
		case CM_SET:
			app(sql, sz, &n, "%s%s=COALESCE(excluded.%s,%s)",
			    first ? "" : ",", c, c, c);
			break;
		case CM_FIRST:
			app(sql, sz, &n, "%s%s=COALESCE(%s,excluded.%s)",
			    first ? "" : ",", c, c, c);
			break;
		case CM_MAX:
			app(sql, sz, &n, "%s%s=MAX(COALESCE(excluded.%s,0),"
			    "COALESCE(%s,0))", first ? "" : ",", c, c, c);
			break;
		default:
			continue;
		}
		first = false;
	}
	return n < sz ? 0 : ENOSPC;
}


/* A captured message as its ladder step: "INSERT INTO events(call, <the
 * columns of cl_tab_event>, proto, transport, src_addr, dst_addr, data)",
 * the step's columns bound from ?2 as bind_struct() does, the message's
 * from PKT_PARAM (schema v5) */
#define PKT_PARAM(t) ((int)(t)->ncols + 2)

static int packet_sql(char *sql, size_t sz)
{
	const struct cl_table *t = &cl_tab_event;
	size_t n = 0;

	app(sql, sz, &n, "INSERT INTO %s(call", t->name);
	for (unsigned i = 0; i < t->ncols; ++i)
		app(sql, sz, &n, ",%s", t->cols[i].name);
	app(sql, sz, &n, ",proto,transport,src_addr,dst_addr,data) VALUES(?1");
	for (int i = 2; i < PKT_PARAM(t) + 5; ++i)
		app(sql, sz, &n, ",?%d", i);
	app(sql, sz, &n, ")");
	return n < sz ? 0 : ENOSPC;
}


/* ---- the writer's connection ----------------------------------------- */

enum cl_stmt {
	ST_START,
	ST_RINGING,
	ST_ANSWER,
	ST_END,
	ST_FAULT,
	ST_RULE,
	ST_ENDED,
	ST_VERDICT,
	ST_MAXID,
	ST_DONEMAX,
	ST_N,
};

static const char *const stmt_sql[ST_N] = {
	[ST_START] = "INSERT INTO calls(id, start_us, inbound_leg, synthetic,"
		     " tag, from_uri, to_uri) VALUES(?1, ?2, ?3, ?4, ?5, ?6,"
		     " ?7)",
	[ST_RINGING] = "UPDATE calls SET ringing_us = COALESCE(ringing_us, ?2)"
		       " WHERE id = ?1",
	[ST_ANSWER] = "UPDATE calls SET answer_us = COALESCE(answer_us, ?2)"
		      " WHERE id = ?1",
	[ST_END] = "UPDATE calls SET end_us = ?2, state = ?3,"
		   " final_code = ?4, final_phrase = ?5, disconnect_by = ?6,"
		   " disconnect_reason = ?7, answered_by = ?8, gw_reason = ?9"
		   " WHERE id = ?1",
	/* the first fault explains the call; later ones follow from it */
	[ST_FAULT] = "UPDATE calls SET gw_fault = COALESCE(gw_fault, ?2)"
		     " WHERE id = ?1",
	[ST_RULE] = "UPDATE calls SET rule = ?2 WHERE id = ?1",
	[ST_ENDED] = "SELECT end_us IS NOT NULL FROM calls WHERE id = ?1",
	[ST_VERDICT] = "UPDATE calls SET verdict = ?2, failed = ?3, media = ?4,"
		       " done_seq = ?5 WHERE id = ?1",
	[ST_MAXID] = "SELECT MAX(id) FROM calls",
	[ST_DONEMAX] = "SELECT MAX(done_seq) FROM calls",
};

/* A handle: the writer's (statements prepared once) or a reader's */
struct sqlstore {
	struct sw_callstore base; /* first: what sw_callstore.h hands out */
	sqlite3 *db;
	bool writer;
	sqlite3_stmt *st[ST_N];
	sqlite3_stmt *ups[N_UPSERT];
	sqlite3_stmt *pkt;        /* a captured message: packet_sql() */
	sqlite3_stmt *ld[10];     /* the loader's, LD_N (below) */
	int64_t done_seq;         /* the last finish sequence number given */
	struct cl_facts *facts;   /* the writer's: recent calls' facts */
	int64_t batch_us;         /* when the open batch began (monotonic) */
	int64_t *touched;         /* calls touched by the open batch */
	size_t n_touched, cap_touched;
	int64_t *ended;           /* ... whose end came in it: their verdict
				     is the first, counted by class */
	size_t n_ended, cap_ended;
};

#define SQ(s) ((struct sqlstore *)(void *)(s))


static void sq_close(struct sw_callstore *s)
{
	struct sqlstore *d = SQ(s);

	if (!d)
		return;
	for (int i = 0; i < ST_N; ++i)
		sqlite3_finalize(d->st[i]);
	for (size_t i = 0; i < N_UPSERT; ++i)
		sqlite3_finalize(d->ups[i]);
	sqlite3_finalize(d->pkt);
	for (size_t i = 0; i < sizeof(d->ld) / sizeof(d->ld[0]); ++i)
		sqlite3_finalize(d->ld[i]);
	sqlite3_close(d->db);
	cl_facts_free(d->facts);
	free(d->touched);
	free(d->ended);
	free(d);
}


static int prepare_all(struct sqlstore *d, char *err, size_t errsz)
{
	char sql[2048];

	for (int i = 0; i < ST_N; ++i)
		if (sqlite3_prepare_v3(d->db, stmt_sql[i], -1,
				       SQLITE_PREPARE_PERSISTENT, &d->st[i],
				       NULL))
			return sql_err(d->db, err, errsz, stmt_sql[i]);
	for (size_t i = 0; i < N_UPSERT; ++i) {
		if (upsert_sql(upsert_tabs[i], sql, sizeof(sql))) {
			snprintf(err, errsz, "statement too long");
			return ENOSPC;
		}
		if (sqlite3_prepare_v3(d->db, sql, -1,
				       SQLITE_PREPARE_PERSISTENT, &d->ups[i],
				       NULL))
			return sql_err(d->db, err, errsz, upsert_tabs[i]->name);
	}
	if (packet_sql(sql, sizeof(sql)) ||
	    sqlite3_prepare_v3(d->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
			       &d->pkt, NULL))
		return sql_err(d->db, err, errsz, "events (packets)");
	if (sqlite3_step(d->st[ST_DONEMAX]) == SQLITE_ROW)
		d->done_seq = sqlite3_column_int64(d->st[ST_DONEMAX], 0);
	sqlite3_reset(d->st[ST_DONEMAX]);
	return 0;
}


/* The writer's handle: created and migrated if needed, statements
 * prepared; a reader's: the file must be at the current schema */
static int sq_open(struct sw_callstore **sp, const char *path, bool writer,
		   char *err, size_t errsz)
{
	struct sqlstore *d = calloc(1, sizeof(*d));
	int e;

	if (!d)
		return ENOMEM;
	d->base.ops = &sw_callstore_sqlite_ops;
	d->writer = writer;
	e = db_open(&d->db, path, !writer, err, errsz);
	if (!e && writer)
		e = prepare_all(d, err, errsz);
	if (!e && writer)
		e = cl_facts_new(&d->facts, 0);
	if (e)
		sq_close(&d->base);
	else
		*sp = &d->base;
	return e;
}


static const char *sq_errmsg(struct sw_callstore *s)
{
	return sqlite3_errmsg(SQ(s)->db);
}


static int db_begin(struct sqlstore *d)
{
	return sqlite3_exec(d->db, "BEGIN", NULL, NULL, NULL) ? EIO : 0;
}


static int db_commit(struct sqlstore *d)
{
	if (sqlite3_exec(d->db, "COMMIT", NULL, NULL, NULL)) {
		sqlite3_exec(d->db, "ROLLBACK", NULL, NULL, NULL);
		return EIO;
	}
	return 0;
}


static int step_reset(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : EIO;
}


static int64_t sq_max_id(struct sw_callstore *s)
{
	sqlite3_stmt *st = SQ(s)->st[ST_MAXID];
	int64_t id = 0;

	if (sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return id;
}


static bool call_ended(struct sqlstore *d, int64_t id)
{
	sqlite3_stmt *st = d->st[ST_ENDED];
	int held = cl_facts_ended(d->facts, id);
	bool ended = false;

	if (held >= 0)
		return held;
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW)
		ended = sqlite3_column_int(st, 0) != 0;
	sqlite3_reset(st);
	return ended;
}


/* Bind a text, or NULL */
static void bind_text(sqlite3_stmt *st, int i, const char *s, size_t len)
{
	if (s)
		sqlite3_bind_text(st, i, s, (int)len, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}


static void bind_str(sqlite3_stmt *st, int i, const char *blob, unsigned k)
{
	size_t len = 0;
	const char *s = clb_str(blob, k, &len);

	bind_text(st, i, s, len);
}


/* A number of a record column: 0 binds NULL ("unknown, keep") except in
 * a key or an insert-only row */
static void bind_num(sqlite3_stmt *st, int i, const struct cl_col *c,
		     int64_t v, bool insert_only)
{
	char ch[2] = {(char)v, 0};

	if (!v && c->merge != CM_KEY && !insert_only)
		sqlite3_bind_null(st, i);
	else if (c->type == CT_CHAR)
		sqlite3_bind_text(st, i, ch, v ? 1 : 0, SQLITE_TRANSIENT);
	else
		sqlite3_bind_int64(st, i, v);
}


/* A record struct by its column table, after the call's id (?1) */
static void bind_struct(sqlite3_stmt *st, const struct cl_table *t,
			const void *s)
{
	for (unsigned i = 0; i < t->ncols; ++i) {
		const struct cl_col *c = &t->cols[i];
		const char *v;

		if (c->type == CT_STR) {
			v = cl_col_str(c, s);
			bind_text(st, (int)i + 2, v, v ? strlen(v) : 0);
		}
		else {
			bind_num(st, (int)i + 2, c, cl_col_num(c, s),
				 t->insert_only);
		}
	}
}


static int apply_table(struct sqlstore *d, size_t ti, const struct sw_callstore_msg *m)
{
	const struct cl_table *t = upsert_tabs[ti];
	sqlite3_stmt *st = d->ups[ti];
	unsigned ni = 0, si = 0;

	if (clb_nnum(m->blob) + clb_nstr(m->blob) != t->ncols)
		return EBADMSG;
	sqlite3_bind_int64(st, 1, (int64_t)m->uid);
	for (unsigned i = 0; i < t->ncols; ++i) {
		const struct cl_col *c = &t->cols[i];

		if (c->type == CT_STR)
			bind_str(st, (int)i + 2, m->blob, si++);
		else
			bind_num(st, (int)i + 2, c, clb_num(m->blob, ni++),
				 t->insert_only);
	}
	return step_reset(st);
}


static int apply_start(struct sqlstore *d, const struct sw_callstore_msg *m)
{
	sqlite3_stmt *st = d->st[ST_START];
	char leg[2] = {(char)clb_num(m->blob, 1), 0};

	sqlite3_bind_int64(st, 1, (int64_t)m->uid);
	sqlite3_bind_int64(st, 2, clb_num(m->blob, 0));
	bind_text(st, 3, leg[0] ? leg : NULL, 1);
	sqlite3_bind_int(st, 4, clb_num(m->blob, 2) != 0);
	bind_str(st, 5, m->blob, 0);
	bind_str(st, 6, m->blob, 1);
	bind_str(st, 7, m->blob, 2);
	return step_reset(st);
}


static int apply_end(struct sqlstore *d, const struct sw_callstore_msg *m)
{
	sqlite3_stmt *st = d->st[ST_END];
	int64_t code = clb_num(m->blob, 2);

	sqlite3_bind_int64(st, 1, (int64_t)m->uid);
	sqlite3_bind_int64(st, 2, clb_num(m->blob, 0));
	sqlite3_bind_text(st, 3,
			  sw_call_state_name((enum sw_call_state)clb_num(
				  m->blob, 1)),
			  -1, SQLITE_STATIC);
	if (code)
		sqlite3_bind_int64(st, 4, code);
	else
		sqlite3_bind_null(st, 4);
	bind_str(st, 5, m->blob, 0);
	bind_str(st, 6, m->blob, 1);
	bind_str(st, 7, m->blob, 2);
	bind_str(st, 8, m->blob, 3);
	bind_str(st, 9, m->blob, 4);
	return step_reset(st);
}


static int apply_time(struct sqlstore *d, enum cl_stmt which,
		      const struct sw_callstore_msg *m)
{
	sqlite3_stmt *st = d->st[which];

	sqlite3_bind_int64(st, 1, (int64_t)m->uid);
	sqlite3_bind_int64(st, 2, clb_num(m->blob, 0));
	return step_reset(st);
}


/* The packet as its ladder step, summarised from its first bytes, with
 * the bytes themselves: one row of events */
static int apply_packet(struct sqlstore *d, const struct sw_callstore_msg *m)
{
	sqlite3_stmt *st = d->pkt;
	int k = PKT_PARAM(&cl_tab_event);
	char label[128], detail[256];
	size_t len = 0;
	const uint8_t *data = (const uint8_t *)clb_str(m->blob, 2, &len);
	int64_t proto = clb_num(m->blob, 1);
	enum sw_ev_kind kind = SW_EV_SIP;
	struct sw_rec_event e;

	if (!data)
		return EBADMSG;
	if (proto == SW_PKT_SIP)
		cl_sum_sip(data, len, label, sizeof(label), detail,
			   sizeof(detail));
	else
		kind = cl_sum_stun(data, len, label, sizeof(label), detail,
				   sizeof(detail)) ? SW_EV_STUN : SW_EV_TURN;
	e = (struct sw_rec_event){
		.t_us = clb_num(m->blob, 0),
		.kind = kind,
		.src = (enum sw_actor)clb_num(m->blob, 3),
		.dst = (enum sw_actor)clb_num(m->blob, 4),
		.label = label,
		.detail = detail[0] ? detail : NULL,
	};
	sqlite3_bind_int64(st, 1, (int64_t)m->uid);
	bind_struct(st, &cl_tab_event, &e);
	sqlite3_bind_int64(st, k, proto);
	sqlite3_bind_int64(st, k + 1, clb_num(m->blob, 2));
	bind_str(st, k + 2, m->blob, 0);
	bind_str(st, k + 3, m->blob, 1);
	sqlite3_bind_blob(st, k + 4, data, (int)len, SQLITE_STATIC);
	return step_reset(st);
}


/* Store one message (inside the writer's open transaction) */
static int apply(struct sqlstore *d, const struct sw_callstore_msg *m)
{
	static const size_t tab_of[] = {
		[SW_CSM_LEG] = 0, [SW_CSM_ROUTE] = 1, [SW_CSM_NEG] = 2,
		[SW_CSM_RELAY] = 3, [SW_CSM_CONN] = 4, [SW_CSM_ICE] = 5,
		[SW_CSM_REINVITE] = 6, [SW_CSM_EVENT] = 7,
	};
	int err;

	if (!m->blob)
		return EBADMSG;
	switch (m->type) {
	case SW_CSM_START: return apply_start(d, m);
	case SW_CSM_RINGING: return apply_time(d, ST_RINGING, m);
	case SW_CSM_ANSWER: return apply_time(d, ST_ANSWER, m);
	case SW_CSM_END: return apply_end(d, m);
	case SW_CSM_FAULT:
		sqlite3_bind_int64(d->st[ST_FAULT], 1, (int64_t)m->uid);
		bind_str(d->st[ST_FAULT], 2, m->blob, 0);
		return step_reset(d->st[ST_FAULT]);
	case SW_CSM_PACKET: return apply_packet(d, m);
	case SW_CSM_ROUTE:
		err = apply_table(d, tab_of[m->type], m);
		if (err)
			return err;
		sqlite3_bind_int64(d->st[ST_RULE], 1, (int64_t)m->uid);
		bind_str(d->st[ST_RULE], 2, m->blob, 0);
		return step_reset(d->st[ST_RULE]);
	case SW_CSM_LEG: case SW_CSM_NEG: case SW_CSM_RELAY: case SW_CSM_CONN:
	case SW_CSM_ICE: case SW_CSM_REINVITE: case SW_CSM_EVENT:
		return apply_table(d, tab_of[m->type], m);
	default:
		return EBADMSG;
	}
}


/* ---- loading a record ------------------------------------------------ */

#define HEAD_NAME(name, ...) #name ", "
#define HEAD_COLS SW_CALLREC_HEAD(HEAD_NAME) "rule"

static const char *col_text(struct sw_callrec *rec, sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	if (!s)
		return NULL;
	return sw_callrec_strdup(rec, (const char *)s,
				 (size_t)sqlite3_column_bytes(st, i));
}


static void read_col(struct sw_callrec *rec, sqlite3_stmt *st, int i,
		     const struct cl_col *c, void *s)
{
	char *f = (char *)s + c->off;
	int64_t v = sqlite3_column_int64(st, i);
	const unsigned char *t;

	switch (c->type) {
	case CT_STR:
		*(const char **)(void *)f = col_text(rec, st, i);
		break;
	case CT_I64: *(int64_t *)(void *)f = v; break;
	case CT_INT: *(int *)(void *)f = (int)v; break;
	case CT_U32: *(uint32_t *)(void *)f = (uint32_t)v; break;
	case CT_U64: *(uint64_t *)(void *)f = (uint64_t)v; break;
	case CT_BOOL: *(bool *)(void *)f = v != 0; break;
	case CT_CHAR:
		t = sqlite3_column_text(st, i);
		*f = t ? (char)t[0] : 0;
		break;
	case CT_STATE:
		*(enum sw_call_state *)(void *)f = SW_CS_ACTIVE;
		sw_call_state_parse((const char *)sqlite3_column_text(st, i),
				    (enum sw_call_state *)(void *)f);
		break;
	default: break;
	}
}


static void read_head(struct sw_callrec *rec, sqlite3_stmt *st)
{
	unsigned n = cl_tab_head.ncols;

	for (unsigned i = 0; i < n; ++i)
		read_col(rec, st, (int)i, &cl_tab_head.cols[i], rec);
	rec->route.rule = col_text(rec, st, (int)n); /* the route's wins */
}


/*
 * Loading runs the same few statements for every record: the writer keeps
 * them prepared (cache, one slot per statement) and skips the ladder and
 * the packets, which no verdict reads; the CLI prepares them per call.
 */
enum ld_slot {
	LD_HEAD, LD_LEG, LD_ICE, LD_ROUTE, LD_REINVITE, LD_NEG, LD_RELAY,
	LD_CONN, LD_EVENT, LD_PACKET, LD_N,
};

struct cl_loader {
	sqlite3 *db;
	sqlite3_stmt **cache; /* LD_N slots, or NULL: finalize after use */
	unsigned parts;       /* enum sw_callstore_parts */
};


static int ld_prepare(struct cl_loader *l, enum ld_slot slot,
		      const char *sql, sqlite3_stmt **stp)
{
	if (l->cache && l->cache[slot]) {
		*stp = l->cache[slot];
		return 0;
	}
	if (sqlite3_prepare_v3(l->db, sql, -1, l->cache ?
			       SQLITE_PREPARE_PERSISTENT : 0, stp, NULL))
		return EIO;
	if (l->cache)
		l->cache[slot] = *stp;
	return 0;
}


static void ld_done(const struct cl_loader *l, sqlite3_stmt *st)
{
	if (!l->cache) {
		sqlite3_finalize(st);
		return;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}


/* Every row of one table for the call, into an arena array */
static int load_table(struct cl_loader *l, enum ld_slot slot,
		      struct sw_callrec *rec, const struct cl_table *t,
		      void **arrp, unsigned *np)
{
	char sql[1024];
	size_t n = 0;
	sqlite3_stmt *st;
	unsigned row = 0, cnt = 0;
	char *arr = NULL;
	int rc;

	app(sql, sizeof(sql), &n, "SELECT COUNT(*) OVER ()");
	for (unsigned i = 0; i < t->ncols; ++i)
		app(sql, sizeof(sql), &n, ",%s", t->cols[i].name);
	app(sql, sizeof(sql), &n, " FROM %s WHERE call = ?1 ORDER BY %s",
	    t->name, t->order);
	if (n >= sizeof(sql) || ld_prepare(l, slot, sql, &st))
		return EIO;
	sqlite3_bind_int64(st, 1, rec->id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!arr) {
			cnt = (unsigned)sqlite3_column_int(st, 0);
			arr = sw_callrec_mem(rec, (size_t)cnt * t->size);
			if (!arr)
				break;
		}
		if (row >= cnt)
			break;
		for (unsigned i = 0; i < t->ncols; ++i)
			read_col(rec, st, (int)i + 1, &t->cols[i],
				 arr + (size_t)row * t->size);
		++row;
	}
	ld_done(l, st);
	*arrp = arr;
	*np = row;
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return EIO;
	return arr || !row ? 0 : ENOMEM;
}


/* Tables with at most one row per key slot (legs, ice, route, reinvite) */
static int load_fixed(struct cl_loader *l, struct sw_callrec *rec)
{
	struct sw_rec_leg *legs;
	struct sw_rec_ice *ice;
	struct sw_rec_route *route;
	struct sw_rec_reinvite *ri;
	unsigned n;
	int err;

	err = load_table(l, LD_LEG, rec, &cl_tab_leg, (void **)&legs, &n);
	for (unsigned i = 0; !err && i < n; ++i) {
		int k = sw_leg_index(legs[i].leg);

		if (k >= 0) {
			rec->legs[k] = legs[i];
			rec->has_leg[k] = true;
		}
	}
	if (!err)
		err = load_table(l, LD_ICE, rec, &cl_tab_ice, (void **)&ice,
				 &n);
	for (unsigned i = 0; !err && i < n; ++i) {
		if (ice[i].dir == SW_ICE_E2C || ice[i].dir == SW_ICE_C2E) {
			rec->ice[ice[i].dir] = ice[i];
			rec->has_ice[ice[i].dir] = true;
		}
	}
	if (!err)
		err = load_table(l, LD_ROUTE, rec, &cl_tab_route,
				 (void **)&route, &n);
	if (!err && n) {
		rec->route = *route;
		rec->has_route = true;
	}
	if (!err)
		err = load_table(l, LD_REINVITE, rec, &cl_tab_reinvite,
				 (void **)&ri, &n);
	if (!err && n) {
		rec->reinvite = *ri;
		rec->has_reinvite = true;
	}
	return err;
}


static bool packet_row(struct sw_callrec *rec, sqlite3_stmt *st,
		       struct sw_rec_packet *p)
{
	const char *src = (const char *)sqlite3_column_text(st, 3);
	const char *dst = (const char *)sqlite3_column_text(st, 4);
	size_t len = (size_t)sqlite3_column_bytes(st, 5);

	p->t_us = sqlite3_column_int64(st, 0);
	p->proto = (enum sw_pkt_proto)sqlite3_column_int(st, 1);
	p->transport = (enum sw_pkt_transport)sqlite3_column_int(st, 2);
	if (!src || !dst || sw_sa_parse(&p->src, src, 0) ||
	    sw_sa_parse(&p->dst, dst, 0))
		return false; /* not ours to show: skip the bad row */
	p->data = (const uint8_t *)sw_callrec_strdup(
		rec, sqlite3_column_blob(st, 5), len);
	p->len = len;
	return p->data != NULL;
}


static int load_packets(struct cl_loader *l, struct sw_callrec *rec)
{
	sqlite3_stmt *st;
	unsigned cap = 0;
	int rc;

	/* a call's messages are in events since v5, in packets before */
	if (ld_prepare(l, LD_PACKET, "SELECT t_us, proto, transport, src_addr,"
		       " dst_addr, data, rowid FROM events WHERE call = ?1 AND"
		       " data IS NOT NULL UNION ALL SELECT t_us, proto,"
		       " transport, src, dst, data, rowid FROM packets"
		       " WHERE call = ?1 ORDER BY 1, 7", &st))
		return EIO;
	sqlite3_bind_int64(st, 1, rec->id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (rec->n_packets == cap) {
			struct sw_rec_packet *a;

			cap = cap ? cap * 2 : 32;
			a = sw_callrec_mem(rec, cap * sizeof(*a));
			if (!a)
				break;
			if (rec->n_packets)
				memcpy(a, rec->packets,
				       rec->n_packets * sizeof(*a));
			rec->packets = a;
		}
		if (packet_row(rec, st, &rec->packets[rec->n_packets]))
			rec->n_packets++;
	}
	ld_done(l, st);
	return rc == SQLITE_DONE ? 0 : rc == SQLITE_ROW ? ENOMEM : EIO;
}


static int load_all(struct cl_loader *l, struct sw_callrec *rec)
{
	int err;

	if (!(l->parts & SW_PART_FACTS))
		return 0;
	err = load_fixed(l, rec);
	if (!err)
		err = load_table(l, LD_NEG, rec, &cl_tab_neg,
				 (void **)&rec->negs, &rec->n_negs);
	if (!err)
		err = load_table(l, LD_RELAY, rec, &cl_tab_relay,
				 (void **)&rec->relays, &rec->n_relays);
	if (!err)
		err = load_table(l, LD_CONN, rec, &cl_tab_conn,
				 (void **)&rec->conns, &rec->n_conns);
	if (!err && (l->parts & SW_PART_LADDER))
		err = load_table(l, LD_EVENT, rec, &cl_tab_event,
				 (void **)&rec->events, &rec->n_events);
	if (!err && (l->parts & SW_PART_PACKETS))
		err = load_packets(l, rec);
	return err;
}


static int load_rec(struct cl_loader *l, int64_t id, struct sw_callrec **recp)
{
	struct sw_callrec *rec = NULL;
	sqlite3_stmt *st;
	int err, rc;

	if (ld_prepare(l, LD_HEAD, "SELECT " HEAD_COLS
		       " FROM calls WHERE id = ?1", &st))
		return EIO;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	err = rc == SQLITE_ROW ? sw_callrec_alloc(&rec) :
	      rc == SQLITE_DONE ? ENOENT : EIO;
	if (!err)
		read_head(rec, st);
	ld_done(l, st);
	if (!err)
		err = load_all(l, rec);
	if (err)
		sw_callrec_free(rec);
	else
		*recp = rec;
	return err;
}


/* A call with the parts asked for: 0, ENOENT, EIO, ENOMEM */
static int sq_load(struct sw_callstore *s, int64_t id, unsigned parts,
		   struct sw_callrec **recp)
{
	struct sqlstore *d = SQ(s);
	struct cl_loader l = {d->db, d->writer ? d->ld : NULL, parts};

	return load_rec(&l, id, recp);
}


/* ---- verdicts, lost calls, retention --------------------------------- */

/* Compute and store the verdict and media flags of an ended call, with
 * the next finish sequence number, from the facts the writer holds or
 * else read back (*reloaded, may be NULL); *sevp (may be NULL) gets its
 * enum sw_verdict_sev */
static int finish_call(struct sqlstore *d, int64_t id, int *sevp,
		       bool *reloaded)
{
	struct cl_loader l = {d->db, d->ld, SW_PART_FACTS};
	sqlite3_stmt *st = d->st[ST_VERDICT];
	const struct sw_callrec *held = cl_facts_get(d->facts, id);
	struct sw_callrec *rec = NULL;
	char verdict[512], media[64];
	enum sw_verdict_sev sev;
	int err;

	_Static_assert(sizeof(d->ld) / sizeof(d->ld[0]) == LD_N,
		       "loader cache size");
	if (!held) {
		err = load_rec(&l, id, &rec);
		if (err)
			return err;
		held = rec;
	}
	if (reloaded)
		*reloaded = rec != NULL;
	sev = sw_verdict(held, verdict, sizeof(verdict));
	if (sevp)
		*sevp = (int)sev;
	sw_callrec_media_flags(held, media, sizeof(media));
	sw_callrec_free(rec);
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, verdict, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, sev == SW_VERDICT_FAIL);
	sqlite3_bind_text(st, 4, media, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, ++d->done_seq);
	return step_reset(st);
}


/*
 * Calls with no end were cut by a crash or kill: end them at their last
 * known event as "lost", with a verdict that says so
 */
static int sq_mark_lost(struct sw_callstore *s, unsigned *np)
{
	struct sqlstore *d = SQ(s);
	static const char sql[] =
		"UPDATE calls SET state = 'lost', end_us = MAX(start_us,"
		" COALESCE(answer_us, 0), COALESCE(ringing_us, 0),"
		" COALESCE((SELECT MAX(t_us) FROM events"
		"  WHERE events.call = calls.id), 0))"
		" WHERE end_us IS NULL RETURNING id";
	sqlite3_stmt *st;
	int64_t *ids = NULL;
	unsigned n = 0, cap = 0;
	int err = 0, rc;

	cl_facts_forget_all(d->facts); /* their end is written here */
	if (db_begin(d))
		return EIO;
	if (sqlite3_prepare_v2(d->db, sql, -1, &st, NULL)) {
		sqlite3_exec(d->db, "ROLLBACK", NULL, NULL, NULL);
		return EIO;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			int64_t *a = realloc(ids, (cap ? cap * 2 : 16) *
						     sizeof(*a));

			if (!a) {
				err = ENOMEM;
				break;
			}
			ids = a;
			cap = cap ? cap * 2 : 16;
		}
		ids[n++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	if (!err && rc != SQLITE_DONE)
		err = EIO;
	for (unsigned i = 0; !err && i < n; ++i)
		err = finish_call(d, ids[i], NULL, NULL);
	free(ids);
	if (err) {
		sqlite3_exec(d->db, "ROLLBACK", NULL, NULL, NULL);
		return err;
	}
	*np = n;
	return db_commit(d);
}


static int exec_bind2(sqlite3 *db, const char *sql, int64_t a, int64_t b,
		      unsigned *changes)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL))
		return EIO;
	sqlite3_bind_int64(st, 1, a);
	sqlite3_bind_int64(st, 2, b);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (changes)
		*changes = (unsigned)sqlite3_changes(db);
	return rc == SQLITE_DONE ? 0 : EIO;
}


/* Pick at most chunk ended calls to expire into temp.expire */
static int expire_pick(sqlite3 *db, int64_t before_us, uint32_t max_calls,
		       unsigned chunk, unsigned *np)
{
	unsigned n1 = 0, n2 = 0;
	int err = 0;

	if (sqlite3_exec(db, "CREATE TEMP TABLE IF NOT EXISTS expire"
			     " (id INTEGER PRIMARY KEY); DELETE FROM expire",
			 NULL, NULL, NULL))
		return EIO;
	if (before_us)
		err = exec_bind2(db, "INSERT INTO expire SELECT id FROM calls"
				 " WHERE start_us < ?1 AND end_us IS NOT NULL"
				 " ORDER BY start_us LIMIT ?2",
				 before_us, chunk, &n1);
	if (!err && max_calls && n1 < chunk)
		err = exec_bind2(db, "INSERT OR IGNORE INTO expire SELECT id"
				 " FROM calls WHERE end_us IS NOT NULL AND"
				 " id < (SELECT id FROM calls ORDER BY id DESC"
				 " LIMIT 1 OFFSET ?1) ORDER BY id LIMIT ?2",
				 (int64_t)max_calls - 1, chunk - n1, &n2);
	*np = n1 + n2;
	return err;
}


/*
 * Remove up to chunk calls older than before_us (0: no age limit) or
 * beyond the newest max_calls (0: no count limit), in one transaction;
 * *np receives the number of calls removed
 */
static int sq_expire(struct sw_callstore *s, int64_t before_us,
		     uint32_t max_calls, unsigned chunk, unsigned *np)
{
	struct sqlstore *d = SQ(s);
	char sql[128];
	unsigned n = 0;
	int err;

	*np = 0;
	if (db_begin(d))
		return EIO;
	err = expire_pick(d->db, before_us, max_calls, chunk, &n);
	for (size_t i = 0; !err && n &&
			   i < sizeof(child_tables) / sizeof(child_tables[0]);
	     ++i) {
		snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE call IN"
			 " (SELECT id FROM expire)", child_tables[i]);
		if (sqlite3_exec(d->db, sql, NULL, NULL, NULL))
			err = EIO;
	}
	if (!err && n && sqlite3_exec(d->db, "DELETE FROM calls WHERE id IN"
				      " (SELECT id FROM expire)", NULL, NULL,
				      NULL))
		err = EIO;
	if (err) {
		sqlite3_exec(d->db, "ROLLBACK", NULL, NULL, NULL);
		return err;
	}
	*np = n;
	if (n)
		cl_facts_forget_ended(d->facts); /* some of them are gone */
	return db_commit(d);
}


/* ---- writing in batches ---------------------------------------------- */

/* id onto a growing list (false: out of memory) */
static bool id_push(int64_t **v, size_t *n, size_t *cap, int64_t id)
{
	if (*n && (*v)[*n - 1] == id)
		return true;
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 256;
		int64_t *t = realloc(*v, c * sizeof(*t));

		if (!t)
			return false;
		*v = t;
		*cap = c;
	}
	(*v)[(*n)++] = id;
	return true;
}


static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}


static int sq_batch_begin(struct sw_callstore *s)
{
	SQ(s)->n_touched = SQ(s)->n_ended = 0;
	SQ(s)->batch_us = sw_mono_us();
	return db_begin(SQ(s));
}


static int sq_facts_budget(struct sw_callstore *s, size_t max_bytes)
{
	if (!SQ(s)->facts)
		return EINVAL; /* a reader's handle */
	cl_facts_budget(SQ(s)->facts, max_bytes);
	return 0;
}


/* One fact; a flush barrier only touches nothing */
static int sq_batch_add(struct sw_callstore *s,
			const struct sw_callstore_msg *m)
{
	struct sqlstore *d = SQ(s);
	int err;

	if (m->type == SW_CSM_FLUSH)
		return 0;
	err = apply(d, m);
	cl_facts_apply(d->facts, m, !err, d->batch_us);
	/* out of memory: the verdict waits for the call's next fact, or
	 * is not counted by class */
	id_push(&d->touched, &d->n_touched, &d->cap_touched, (int64_t)m->uid);
	if (m->type == SW_CSM_END)
		id_push(&d->ended, &d->n_ended, &d->cap_ended, (int64_t)m->uid);
	return err;
}


/* Verdicts for the ended calls of this batch, then COMMIT */
static int sq_batch_commit(struct sw_callstore *s,
			   struct sw_callstore_batch_res *res)
{
	struct sqlstore *d = SQ(s);
	int64_t prev = 0;
	int err;

	*res = (struct sw_callstore_batch_res){0};
	if (d->n_touched)
		qsort(d->touched, d->n_touched, sizeof(int64_t), cmp_i64);
	if (d->n_ended)
		qsort(d->ended, d->n_ended, sizeof(int64_t), cmp_i64);
	for (size_t i = 0; i < d->n_touched; ++i) {
		int64_t id = d->touched[i];
		bool reloaded = false;
		int sev = -1;

		if (id == prev)
			continue;
		prev = id;
		if (!call_ended(d, id))
			continue;
		if (finish_call(d, id, &sev, &reloaded) == 0)
			res->verdicts++;
		else
			res->verdict_errors++;
		res->reloaded += reloaded;
		/* d->ended is NULL until a batch ends a call: bsearch() on it
		 * is undefined even with no elements (C11 7.22.5) */
		if (sev >= 0 && sev <= SW_VERDICT_FAIL && d->n_ended &&
		    bsearch(&id, d->ended, d->n_ended, sizeof(int64_t), cmp_i64))
			res->first_sev[sev]++;
	}
	err = db_commit(d);
	/* rolled back: what the writer holds of these calls is not stored */
	for (size_t i = 0; err && i < d->n_touched; ++i)
		cl_facts_forget(d->facts, d->touched[i]);
	cl_facts_tick(d->facts, d->batch_us);
	d->n_touched = d->n_ended = 0;
	return err;
}


/* ---- finding and listing --------------------------------------------- */

static int find_one(sqlite3 *db, const char *sql, const char *key,
		    int64_t *idp)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL))
		return EIO;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*idp = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? ENOENT : EIO;
}


/* A call by tag ("c-142"), bare number ("142") or either leg's Call-ID
 * (the newest call wins): 0, ENOENT, EIO */
static int sq_find(struct sw_callstore *s, const char *key, int64_t *idp)
{
	sqlite3 *db = SQ(s)->db;
	int err;

	if (!key || !*key)
		return EINVAL;
	err = find_one(db, "SELECT id FROM calls WHERE tag = ?1", key, idp);
	if (err != ENOENT)
		return err;
	if (strspn(key, "0123456789") == strlen(key)) {
		err = find_one(db, "SELECT id FROM calls WHERE id = CAST(?1"
			       " AS INTEGER)", key, idp);
		if (err != ENOENT)
			return err;
	}
	return find_one(db, "SELECT call FROM legs WHERE call_id = ?1"
			" ORDER BY call DESC LIMIT 1", key, idp);
}


static size_t list_sql(const struct sw_callstore_query *q, char *sql,
		       size_t sz)
{
	const char *dir = q->newest_first ? "DESC" : "ASC";
	size_t n = 0;

	app(sql, sz, &n, "SELECT " HEAD_COLS " FROM calls WHERE 1");
	if (q->since_us)
		app(sql, sz, &n, " AND start_us >= ?1");
	if (q->after_id)
		app(sql, sz, &n, " AND id > ?2");
	if (q->ended_after_us)
		app(sql, sz, &n, " AND end_us > ?6");
	if (q->failed)
		app(sql, sz, &n, " AND failed = 1");
	if (q->active)
		app(sql, sz, &n, " AND end_us IS NULL");
	if (q->rule)
		app(sql, sz, &n, " AND rule = ?3");
	if (q->match)
		app(sql, sz, &n,
		    " AND (instr(lower(tag), lower(?4)) OR"
		    " instr(lower(COALESCE(from_uri, '')), lower(?4)) OR"
		    " instr(lower(COALESCE(to_uri, '')), lower(?4)) OR"
		    " id IN (SELECT call FROM legs WHERE instr(call_id, ?4)))");
	app(sql, sz, &n, " ORDER BY %s %s, id %s LIMIT ?5",
	    q->by_end ? "end_us" : "start_us", dir, dir);
	return n;
}


/* rowh for each call matching q (calls-table columns only), until it
 * returns non-zero: 0, EIO, or what rowh returned */
static int sq_list(struct sw_callstore *s, const struct sw_callstore_query *q,
		   sw_callstore_row_h *rowh, void *arg)
{
	sqlite3 *db = SQ(s)->db;
	char sql[1024];
	sqlite3_stmt *st;
	int err = 0, rc = SQLITE_DONE;

	if (list_sql(q, sql, sizeof(sql)) >= sizeof(sql))
		return ENOSPC;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL))
		return EIO;
	sqlite3_bind_int64(st, 1, q->since_us);
	sqlite3_bind_int64(st, 2, q->after_id);
	if (q->rule)
		sqlite3_bind_text(st, 3, q->rule, -1, SQLITE_STATIC);
	if (q->match)
		sqlite3_bind_text(st, 4, q->match, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, q->limit ? (int64_t)q->limit : -1);
	sqlite3_bind_int64(st, 6, q->ended_after_us);
	while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct sw_callrec *rec;

		err = sw_callrec_alloc(&rec);
		if (err)
			break;
		read_head(rec, st);
		err = rowh(rec, arg);
		sw_callrec_free(rec);
	}
	if (!err && rc != SQLITE_DONE)
		err = EIO;
	sqlite3_finalize(st);
	return err;
}


/*
 * rowh for each call finished after the sequence number after_seq, in
 * finish order, at most limit (0: all), loaded with parts; all from one
 * snapshot of the file
 */
static int sq_finished(struct sw_callstore *s, int64_t after_seq,
		       unsigned limit, unsigned parts,
		       sw_callstore_row_h *rowh, void *arg)
{
	struct sqlstore *d = SQ(s);
	struct cl_loader l = {d->db, NULL, parts};
	sqlite3_stmt *st;
	int err = 0, rc = SQLITE_DONE;

	if (sqlite3_exec(d->db, "BEGIN", NULL, NULL, NULL))
		return EIO;
	if (sqlite3_prepare_v2(d->db, "SELECT " HEAD_COLS " FROM calls WHERE"
			       " done_seq > ?1 ORDER BY done_seq LIMIT ?2",
			       -1, &st, NULL)) {
		sqlite3_exec(d->db, "ROLLBACK", NULL, NULL, NULL);
		return EIO;
	}
	sqlite3_bind_int64(st, 1, after_seq);
	sqlite3_bind_int64(st, 2, limit ? (int64_t)limit : -1);
	while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct sw_callrec *rec;

		err = sw_callrec_alloc(&rec);
		if (err)
			break;
		read_head(rec, st);
		err = load_all(&l, rec);
		if (!err)
			err = rowh(rec, arg);
		sw_callrec_free(rec);
	}
	if (!err && rc != SQLITE_DONE)
		err = EIO;
	sqlite3_finalize(st);
	sqlite3_exec(d->db, "COMMIT", NULL, NULL, NULL);
	return err;
}


/* ---- counting -------------------------------------------------------- */

#define IN_PERIOD " call IN (SELECT id FROM calls WHERE start_us >= ?1)"

/* One statement per counter of SW_CALLSTORE_COUNTS, ?1 the start time;
 * ?2 and ?3 an ICE direction and SW_ICE_FAILED where they are used */
static const struct {
	size_t off;
	const char *sql;
	int64_t p2;
} count_sql[] = {
#define CNT(f, sql, p2) {offsetof(struct sw_callstore_counts, f), sql, p2}
	CNT(calls, "SELECT COUNT(*) FROM calls WHERE start_us >= ?1", 0),
	CNT(failed, "SELECT COUNT(*) FROM calls WHERE failed = 1 AND"
	    " start_us >= ?1", 0),
	CNT(synthetic, "SELECT COUNT(*) FROM calls WHERE synthetic = 1 AND"
	    " start_us >= ?1", 0),
	CNT(glare_491_retries, "SELECT COALESCE(SUM(retries_491), 0) FROM"
	    " reinvite WHERE" IN_PERIOD, 0),
	CNT(relay_alloc_failures, "SELECT COUNT(*) FROM relays WHERE"
	    " alloc_us IS NULL AND error_code IS NOT NULL AND" IN_PERIOD, 0),
	CNT(connectionbind_failures, "SELECT COUNT(*) FROM conns WHERE"
	    " bind_code IS NOT NULL AND bind_code != 200 AND" IN_PERIOD, 0),
	CNT(ice_e2c_failures, "SELECT COUNT(*) FROM ice WHERE dir = ?2 AND"
	    " state = ?3 AND" IN_PERIOD, SW_ICE_E2C),
	CNT(ice_c2e_failures, "SELECT COUNT(*) FROM ice WHERE dir = ?2 AND"
	    " state = ?3 AND" IN_PERIOD, SW_ICE_C2E),
#undef CNT
};


static int64_t count_one(sqlite3 *db, const char *sql, int64_t since,
			 int64_t p2)
{
	sqlite3_stmt *st;
	int64_t n = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL))
		return -1;
	sqlite3_bind_int64(st, 1, since);
	if (sqlite3_bind_parameter_count(st) >= 3) {
		sqlite3_bind_int64(st, 2, p2);
		sqlite3_bind_int64(st, 3, SW_ICE_FAILED);
	}
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}


/* The counters of calls started since since_us (-1 where one cannot be
 * read), then codeh per final code >= 300, most frequent first */
static int sq_counts(struct sw_callstore *s, int64_t since_us,
		     struct sw_callstore_counts *c,
		     sw_callstore_code_h *codeh, void *arg)
{
	sqlite3 *db = SQ(s)->db;
	sqlite3_stmt *st;

	_Static_assert(sizeof(count_sql) / sizeof(count_sql[0]) ==
		       sizeof(*c) / sizeof(int64_t), "a counter without SQL");
	for (size_t i = 0; i < sizeof(count_sql) / sizeof(count_sql[0]);
	     ++i)
		*(int64_t *)(void *)((char *)c + count_sql[i].off) = count_one(
			db, count_sql[i].sql, since_us, count_sql[i].p2);
	if (!codeh)
		return 0;
	if (sqlite3_prepare_v2(db, "SELECT final_code, COUNT(*) FROM calls"
			       " WHERE start_us >= ?1 AND final_code >= 300"
			       " GROUP BY final_code ORDER BY 2 DESC, 1",
			       -1, &st, NULL))
		return EIO;
	sqlite3_bind_int64(st, 1, since_us);
	while (sqlite3_step(st) == SQLITE_ROW)
		codeh(sqlite3_column_int(st, 0), sqlite3_column_int64(st, 1),
		      arg);
	sqlite3_finalize(st);
	return 0;
}


const struct sw_callstore_ops sw_callstore_sqlite_ops = {
	.name = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.errmsg = sq_errmsg,
	.batch_begin = sq_batch_begin,
	.batch_add = sq_batch_add,
	.batch_commit = sq_batch_commit,
	.facts_budget = sq_facts_budget,
	.mark_lost = sq_mark_lost,
	.expire = sq_expire,
	.max_id = sq_max_id,
	.find = sq_find,
	.load = sq_load,
	.list = sq_list,
	.finished = sq_finished,
	.counts = sq_counts,
};
