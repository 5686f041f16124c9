/**
 * @file sw_cluster.c  The cluster thread (sw_cluster.h).
 *
 * One thread, one libpq connection, a poll loop on its command queue with
 * a timeout to the next due job: heartbeat (and the registry view it
 * publishes), the gone check, call-log shipping, the TURN credentials.
 * libpq's calls block, which is why they run here and nowhere else; each
 * is bounded by connect_timeout, statement_timeout and tcp_user_timeout,
 * so a hung server delays this thread (and its stop) by seconds at most.
 * Any error drops the connection; the next attempt follows a backoff of
 * 250 ms doubling to 2 s. One log line per change of state.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#define SW_LOG_MODULE "cluster"
#include "sw_clock.h"
#include "sw_calllog.h"
#include "sw_callstore.h"
#include "sw_cluster.h"
#include "sw_log.h"
#include "sw_mq.h"

#define BACKOFF_MIN_MS 250
#define BACKOFF_MAX_MS 2000
/* ended calls are shipped once their end is this old: the writer commits
 * every 100 ms, so a record this old is in the file, verdict included */
#define SHIP_SETTLE_US 1000000
/* open calls started within this window are shipped again each round
 * (a record may reach the file out of start order) */
#define SHIP_OPEN_WINDOW_US 10000000
#define SHIP_ROUNDS 8 /* batches per turn of the loop, then a heartbeat */

enum cmd_type { CMD_LOAD = 1, CMD_STOP };

struct cmd {
	enum cmd_type type;
	struct sw_cluster_load load;
};

struct sw_cluster {
	pthread_t th;
	struct sw_mq *in, *out;
	/* copied from the configuration: the thread owns them */
	char name[SW_CLUSTER_NAME];
	char conninfo[SW_CONF_STR * 2];
	char sip[SW_SA_STRLEN], turn[SW_SA_STRLEN];
	char calllog_path[SW_CONF_PATH];
	uint32_t hb_ms, dead_ms, batch, creds_s;

	/* the thread's own state */
	PGconn *pg;
	struct sw_callstore *db;  /* the local call log, read only */
	struct sw_cluster_load load;
	struct sw_cluster_status st;
	struct sw_cluview view;
	int64_t up_mono_ms;       /* connected since */
	int64_t next_connect, next_hb, next_gone, next_ship, next_creds;
	uint32_t backoff_ms;
	bool failing_logged;      /* the "unreachable" line is out */
	bool reconciled;          /* cursor and open calls settled since
				     the last connect */
	bool open_all;            /* ship every open call, not the window */
	int64_t ship_end_us;      /* ended calls shipped up to (end_us, id) */
	int64_t ship_end_id;
	uint64_t creds_hash;
	int64_t started_us;
	bool stopping;
};



static void set_error(struct sw_cluster *c, const char *what, const char *e)
{
	snprintf(c->st.error, sizeof(c->st.error), "%.40s: %.150s", what,
		 e && *e ? e : "no answer");
	c->st.error[strcspn(c->st.error, "\n")] = '\0';
}


static void publish(struct sw_cluster *c)
{
	struct sw_cluster_msg m;

	memset(&m, 0, sizeof(m));
	m.type = SW_CLUSTER_VIEW;
	c->view.db_up = c->pg != NULL;
	m.view = c->view;
	m.status = c->st;
	/* a full queue keeps the older views: the SIP thread reads them
	 * first and gets this one's successor a heartbeat later */
	sw_mq_push(c->out, &m);
}


/* A database error: drop the connection (libpq's reset would block as
 * long as a connect), come back after the backoff */
static void db_lost(struct sw_cluster *c, const char *what, const char *e)
{
	set_error(c, what, e);
	if (c->pg) {
		sw_warn("[%s] PostgreSQL connection lost (%s); calls go on, "
			"the call log is shipped when it is back", c->name,
			c->st.error);
		PQfinish(c->pg);
		c->pg = NULL;
		c->st.db_up = false;
		c->st.since_us = sw_calllog_now();
		c->failing_logged = true;
		publish(c);
	}
	c->next_connect = sw_mono_ms() + c->backoff_ms;
	c->backoff_ms = c->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS
							  : c->backoff_ms * 2;
}


/* Run a statement; PGRES_*_OK or the connection is dropped */
static PGresult *q(struct sw_cluster *c, const char *what, const char *sql,
		   int n, const char *const *vals)
{
	PGresult *r;
	ExecStatusType s;

	if (!c->pg)
		return NULL;
	r = n ? PQexecParams(c->pg, sql, n, NULL, vals, NULL, NULL, 0)
	      : PQexec(c->pg, sql);
	s = PQresultStatus(r);
	if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK)
		return r;
	db_lost(c, what, PQresultErrorMessage(r));
	PQclear(r);
	return NULL;
}


static bool q_ok(struct sw_cluster *c, const char *what, const char *sql,
		 int n, const char *const *vals)
{
	PGresult *r = q(c, what, sql, n, vals);

	PQclear(r);
	return r != NULL;
}


static void db_connect(struct sw_cluster *c)
{
	/* the configured string last: its own values win */
	const char *const keys[] = {"connect_timeout", "tcp_user_timeout",
				    "application_name", "options", "dbname",
				    NULL};
	char app[96];
	const char *vals[6];
	char err[256];

	snprintf(app, sizeof(app), "sharewayd-%s", c->name);
	vals[0] = "2";
	vals[1] = "3000";
	vals[2] = app;
	vals[3] = "-c statement_timeout=3000 -c lock_timeout=2000";
	vals[4] = c->conninfo;
	vals[5] = NULL;
	c->pg = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(c->pg) != CONNECTION_OK) {
		set_error(c, "connect", PQerrorMessage(c->pg));
		PQfinish(c->pg);
		c->pg = NULL;
		if (!c->failing_logged)
			sw_warn("[%s] PostgreSQL unreachable (%s); retrying "
				"every %u ms at most, calls go on", c->name,
				c->st.error, BACKOFF_MAX_MS);
		c->failing_logged = true;
		c->next_connect = sw_mono_ms() + c->backoff_ms;
		c->backoff_ms = c->backoff_ms * 2 > BACKOFF_MAX_MS ?
					BACKOFF_MAX_MS : c->backoff_ms * 2;
		return;
	}
	if (sw_cluster_schema(c->pg, err, sizeof(err))) {
		set_error(c, "schema", err);
		if (!c->failing_logged)
			sw_error("[%s] PostgreSQL cluster schema: %s; the "
				 "instance runs alone, retrying", c->name, err);
		PQfinish(c->pg);
		c->pg = NULL;
		c->failing_logged = true;
		c->next_connect = sw_mono_ms() + BACKOFF_MAX_MS;
		return;
	}
	sw_notice("[%s] PostgreSQL connected (server %d, cluster schema %d)",
		  c->name, PQserverVersion(c->pg), SW_CLUSTER_SCHEMA);
	c->failing_logged = false;
	c->backoff_ms = BACKOFF_MIN_MS;
	c->st.db_up = true;
	c->st.since_us = sw_calllog_now();
	c->st.error[0] = '\0';
	c->up_mono_ms = sw_mono_ms();
	c->next_hb = c->next_ship = c->next_creds = c->up_mono_ms;
	c->next_gone = c->up_mono_ms;
	c->reconciled = false; /* the cursor and open calls, again */
}


/* ---- registry -------------------------------------------------------- */

static void heartbeat(struct sw_cluster *c)
{
	static const char sql[] =
		"WITH prev AS (SELECT state, gone_seen_by FROM sw_instances"
		" WHERE name = $1)"
		" INSERT INTO sw_instances AS i (name, sip, turn, state, calls,"
		" allocs, ports_free, pid, started, heartbeat)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7, $8,"
		" to_timestamp($9::bigint / 1e6), now())"
		" ON CONFLICT (name) DO UPDATE SET sip = EXCLUDED.sip,"
		" turn = EXCLUDED.turn, state = EXCLUDED.state,"
		" calls = EXCLUDED.calls, allocs = EXCLUDED.allocs,"
		" ports_free = EXCLUDED.ports_free, pid = EXCLUDED.pid,"
		" started = EXCLUDED.started, heartbeat = now(),"
		" gone_at = NULL, gone_seen_by = NULL"
		" RETURNING (SELECT state FROM prev),"
		" (SELECT gone_seen_by FROM prev)";
	static const char view_sql[] =
		"SELECT name, COALESCE(sip, ''), COALESCE(turn, ''), state,"
		" calls, allocs, ports_free,"
		" (EXTRACT(epoch FROM now() - heartbeat) * 1000)::bigint"
		" FROM sw_instances ORDER BY name LIMIT 16";
	char calls[16], allocs[16], ports[16], pid[16], started[24];
	const char *v[9] = {c->name, c->sip, c->turn,
			    c->load.draining ? "draining" : "active", calls,
			    allocs, ports, pid, started};
	PGresult *r;

	snprintf(calls, sizeof(calls), "%" PRIu32, c->load.calls);
	snprintf(allocs, sizeof(allocs), "%" PRIu32, c->load.allocs);
	snprintf(ports, sizeof(ports), "%" PRIu32, c->load.ports_free);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	snprintf(started, sizeof(started), "%" PRId64, c->started_us);
	r = q(c, "heartbeat", sql, 9, v);
	if (!r)
		return;
	if (PQntuples(r) && !strcmp(PQgetvalue(r, 0, 0), "gone")) {
		sw_warn("[%s] this instance had been declared gone by %s (no "
			"heartbeat for %u ms): its open calls were marked cut "
			"in the cluster log; they are shipped again as they "
			"are", c->name, PQgetvalue(r, 0, 1), c->dead_ms);
		c->reconciled = false;
	}
	PQclear(r);
	r = q(c, "registry", view_sql, 0, NULL);
	if (!r)
		return;
	memset(&c->view, 0, sizeof(c->view));
	c->view.at_us = sw_calllog_now();
	for (int i = 0; i < PQntuples(r) && i < SW_CLUSTER_MAX; ++i) {
		struct sw_cluview_inst *in = &c->view.inst[c->view.n++];

		snprintf(in->name, sizeof(in->name), "%s", PQgetvalue(r, i, 0));
		sw_sa_parse(&in->sip, PQgetvalue(r, i, 1), 5060);
		sw_sa_parse(&in->turn, PQgetvalue(r, i, 2), 3478);
		if (sw_inst_state_parse(PQgetvalue(r, i, 3), &in->state))
			in->state = SW_INST_GONE;
		in->calls = (uint32_t)strtoul(PQgetvalue(r, i, 4), NULL, 10);
		in->allocs = (uint32_t)strtoul(PQgetvalue(r, i, 5), NULL, 10);
		in->ports_free = (uint32_t)strtoul(PQgetvalue(r, i, 6), NULL,
						   10);
		in->hb_age_ms = (uint32_t)strtoul(PQgetvalue(r, i, 7), NULL,
						  10);
		in->self = !strcmp(in->name, c->name);
		/* not yet declared gone, but as good as */
		if (!in->self && in->hb_age_ms > c->dead_ms)
			in->state = SW_INST_GONE;
	}
	PQclear(r);
	publish(c);
}


/*
 * Instances whose heartbeat is older than dead_after are gone: the one
 * survivor whose UPDATE wins (the row lock makes any other's WHERE see
 * state = 'gone' and match nothing) marks them and, in the same
 * statement, cuts their open calls in the cluster log. Only after this
 * instance has itself been connected for dead_after plus a heartbeat:
 * after a database outage every heartbeat is old, and the others need
 * that long to reconnect and beat again.
 */
static void gone_check(struct sw_cluster *c)
{
	static const char sql[] =
		"WITH g AS (UPDATE sw_instances SET state = 'gone',"
		" gone_at = now(), gone_seen_by = $1"
		" WHERE name <> $1 AND state <> 'gone'"
		" AND heartbeat < now() - $2::bigint * interval '1 ms'"
		" RETURNING name, heartbeat,"
		" to_char(heartbeat AT TIME ZONE 'UTC',"
		" 'YYYY-MM-DD HH24:MI:SS') AS t),"
		" cut AS (UPDATE sw_calls s SET state = 'lost', failed = true,"
		" cut_by = $1, end_us = GREATEST(s.start_us,"
		" (EXTRACT(epoch FROM g.heartbeat) * 1000000)::bigint),"
		" verdict = 'gateway ' || g.name || ' stopped at ' || g.t ||"
		" ' UTC; the call was cut', shipped_at = now()"
		" FROM g WHERE s.instance = g.name AND s.end_us IS NULL"
		" RETURNING s.instance)"
		" SELECT g.name, g.t,"
		" (SELECT count(*) FROM cut WHERE cut.instance = g.name),"
		" (EXTRACT(epoch FROM now() - g.heartbeat) * 1000)::bigint"
		" FROM g";
	char dead[16];
	const char *v[2] = {c->name, dead};
	PGresult *r;

	snprintf(dead, sizeof(dead), "%" PRIu32, c->dead_ms);
	r = q(c, "gone check", sql, 2, v);
	if (!r)
		return;
	for (int i = 0; i < PQntuples(r); ++i) {
		unsigned long n = strtoul(PQgetvalue(r, i, 2), NULL, 10);

		sw_warn("[%s] instance %s is gone (last heartbeat %s UTC, "
			"%s ms ago): %lu open calls of it marked cut in the "
			"cluster log", c->name, PQgetvalue(r, i, 0),
			PQgetvalue(r, i, 1), PQgetvalue(r, i, 3), n);
		c->st.gone_marked++;
		c->st.calls_cut += n;
	}
	if (PQntuples(r))
		c->next_hb = sw_mono_ms(); /* publish the news now */
	PQclear(r);
}


/* ---- call-log shipping ----------------------------------------------- */

#define SHIP_COLS 23

static const char ship_sql[] =
	"INSERT INTO sw_calls AS s (instance, tag, local_id, start_us,"
	" ringing_us, answer_us, end_us, state, from_uri, to_uri,"
	" inbound_leg, rule, final_code, final_phrase, disconnect_by,"
	" disconnect_reason, answered_by, gw_reason, gw_fault, media, failed,"
	" verdict, synthetic) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,"
	" $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22,"
	" $23)"
	" ON CONFLICT (instance, tag) DO UPDATE SET"
	" local_id = EXCLUDED.local_id, start_us = EXCLUDED.start_us,"
	" ringing_us = EXCLUDED.ringing_us, answer_us = EXCLUDED.answer_us,"
	" end_us = EXCLUDED.end_us, state = EXCLUDED.state,"
	" from_uri = EXCLUDED.from_uri, to_uri = EXCLUDED.to_uri,"
	" inbound_leg = EXCLUDED.inbound_leg, rule = EXCLUDED.rule,"
	" final_code = EXCLUDED.final_code,"
	" final_phrase = EXCLUDED.final_phrase,"
	" disconnect_by = EXCLUDED.disconnect_by,"
	" disconnect_reason = EXCLUDED.disconnect_reason,"
	" answered_by = EXCLUDED.answered_by,"
	" gw_reason = EXCLUDED.gw_reason, gw_fault = EXCLUDED.gw_fault,"
	" media = EXCLUDED.media, failed = EXCLUDED.failed,"
	" verdict = EXCLUDED.verdict, synthetic = EXCLUDED.synthetic,"
	" cut_by = NULL, shipped_at = now()"
	/* a survivor's "cut" stays against an open row shipped again and
	 * against the owner's own "lost" after its restart: it says more */
	" WHERE (s.cut_by IS NULL OR EXCLUDED.state NOT IN ('lost', 'active'))"
	" AND (s.state, s.end_us, s.verdict, s.ringing_us, s.answer_us)"
	" IS DISTINCT FROM (EXCLUDED.state, EXCLUDED.end_us,"
	" EXCLUDED.verdict, EXCLUDED.ringing_us, EXCLUDED.answer_us)";

struct ship {
	struct sw_cluster *c;
	unsigned n;          /* rows upserted in this batch */
	bool failed;
	int64_t last_end_us, last_id;
	bool by_end;         /* the ended-calls cursor moves */
	int64_t settled_us;  /* ended calls: those that ended before */
};


static const char *num(char *buf, size_t sz, int64_t v, bool null0)
{
	if (null0 && !v)
		return NULL;
	snprintf(buf, sz, "%" PRId64, v);
	return buf;
}


static int ship_row(const struct sw_callrec *rec, void *arg)
{
	struct ship *s = arg;
	struct sw_cluster *c = s->c;
	char b[8][24], leg[2] = {rec->inbound_leg, '\0'};
	const char *v[SHIP_COLS];
	PGresult *r;

	if (s->by_end && rec->end_us == c->ship_end_us &&
	    rec->id <= c->ship_end_id)
		return 0; /* shipped by the previous batch */
	if (s->by_end && rec->end_us > s->settled_us)
		return EAGAIN; /* in end order: the rest is newer still */
	v[0] = c->name;
	v[1] = rec->tag;
	v[2] = num(b[0], sizeof(b[0]), rec->id, false);
	v[3] = num(b[1], sizeof(b[1]), rec->start_us, false);
	v[4] = num(b[2], sizeof(b[2]), rec->ringing_us, true);
	v[5] = num(b[3], sizeof(b[3]), rec->answer_us, true);
	v[6] = num(b[4], sizeof(b[4]), rec->end_us, true);
	v[7] = sw_call_state_name(rec->state);
	v[8] = rec->from_uri;
	v[9] = rec->to_uri;
	v[10] = rec->inbound_leg ? leg : NULL;
	v[11] = rec->route.rule; /* the calls table's copy */
	v[12] = num(b[5], sizeof(b[5]), rec->final_code, true);
	v[13] = rec->final_phrase;
	v[14] = rec->disconnect_by;
	v[15] = rec->disconnect_reason;
	v[16] = rec->answered_by;
	v[17] = rec->gw_reason;
	v[18] = rec->gw_fault;
	v[19] = rec->media;
	v[20] = rec->failed ? "t" : "f";
	v[21] = rec->verdict;
	v[22] = rec->synthetic ? "t" : "f";
	r = q(c, "ship", ship_sql, SHIP_COLS, v);
	if (!r) {
		s->failed = true;
		return EIO;
	}
	PQclear(r);
	s->n++;
	s->last_end_us = rec->end_us;
	s->last_id = rec->id;
	return 0;
}


/* One transaction of at most batch rows: ended calls after the cursor,
 * or the open calls of the recent window. @return rows seen, -1 error */
static int ship_batch(struct sw_cluster *c, const struct sw_callstore_query *qq,
		      bool by_end)
{
	struct ship s = {.c = c, .by_end = by_end,
			 .settled_us = sw_calllog_now() -
				       (c->stopping ? 0 : SHIP_SETTLE_US)};
	int e;

	if (!q_ok(c, "ship", "BEGIN", 0, NULL))
		return -1;
	e = sw_callstore_list(c->db, qq, ship_row, &s);
	if (e == EAGAIN)
		e = 0;
	if (e && !s.failed) {
		sw_log_limited(SW_LOG_WARN, "[%s] reading the local call log "
			       "%s: %s", c->name, c->calllog_path,
			       strerror(e));
		q_ok(c, "ship", "ROLLBACK", 0, NULL);
		return -1;
	}
	if (s.failed || !q_ok(c, "ship", "COMMIT", 0, NULL))
		return -1;
	c->st.shipped += s.n;
	c->st.ship_batches++;
	if (by_end && s.n) {
		c->ship_end_us = s.last_end_us;
		c->ship_end_id = s.last_id;
		c->st.shipped_end_us = s.last_end_us;
	}
	return (int)s.n;
}


/*
 * Where shipping resumes after a start: the newest end of ours the
 * cluster log has (minus a settle margin: shipping again is harmless),
 * and our rows it still holds open, which the local log may have ended
 * meanwhile (a crash's calls are marked lost at the next start, with
 * their last event as end, far behind any cursor).
 */
static bool ship_reconcile(struct sw_cluster *c)
{
	static const char cur_sql[] =
		"SELECT COALESCE(MAX(end_us), 0) FROM sw_calls"
		" WHERE instance = $1";
	static const char open_sql[] =
		"SELECT tag FROM sw_calls WHERE instance = $1"
		" AND end_us IS NULL LIMIT 10000";
	const char *v[1] = {c->name};
	PGresult *r = q(c, "ship", cur_sql, 1, v);
	struct ship s = {.c = c};
	int n;

	if (!r)
		return false;
	c->ship_end_us = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	c->ship_end_us = c->ship_end_us > 5 * SHIP_SETTLE_US ?
				 c->ship_end_us - 5 * SHIP_SETTLE_US : 0;
	c->ship_end_id = 0;
	PQclear(r);
	r = q(c, "ship", open_sql, 1, v);
	if (!r)
		return false;
	n = PQntuples(r);
	if (!q_ok(c, "ship", "BEGIN", 0, NULL)) {
		PQclear(r);
		return false;
	}
	for (int i = 0; i < n && !s.failed; ++i) {
		struct sw_callrec *rec = NULL;
		int64_t id;

		if (sw_callstore_find(c->db, PQgetvalue(r, i, 0), &id) ||
		    sw_callstore_load(c->db, id, SW_PART_HEAD, &rec))
			continue; /* expired here, or not ours after all */
		if (rec->end_us)
			ship_row(rec, &s);
		sw_callrec_free(rec);
	}
	PQclear(r);
	if (s.failed || !q_ok(c, "ship", "COMMIT", 0, NULL))
		return false;
	if (s.n)
		sw_info("[%s] %u calls left open in the cluster log by an "
			"earlier run shipped with their end", c->name, s.n);
	c->st.shipped += s.n;
	return true;
}


static void ship(struct sw_cluster *c)
{
	struct sw_callstore_query qq;
	char err[256];
	int64_t now = sw_calllog_now();
	int n = 0;

	if (!c->db && sw_callstore_open(&c->db, c->calllog_path, false, err,
					sizeof(err))) {
		sw_log_limited(SW_LOG_WARN, "[%s] local call log not readable "
			       "for shipping: %s", c->name, err);
		c->db = NULL;
		return;
	}
	if (!c->reconciled) {
		if (!(c->reconciled = ship_reconcile(c)))
			return;
		c->open_all = true;
	}
	/* ended calls, in end order, from the cursor on */
	for (int round = 0; round < SHIP_ROUNDS; ++round) {
		memset(&qq, 0, sizeof(qq));
		/* end_us >= the cursor: ship_row() skips the ids of the
		 * cursor's own microsecond already shipped */
		qq.ended_after_us = c->ship_end_us > 1 ? c->ship_end_us - 1
						       : 1;
		qq.by_end = true;
		qq.limit = c->batch;
		n = ship_batch(c, &qq, true);
		if (n < 0)
			return;
		if (n < (int)c->batch / 2)
			break;
	}
	/* calls in progress, so the cluster sees them (and survivors can
	 * cut them): those that started in the recent window, or all of
	 * them after a connect (some started while the database was away) */
	memset(&qq, 0, sizeof(qq));
	qq.active = true;
	qq.since_us = c->open_all ? 0 : now - SHIP_OPEN_WINDOW_US;
	qq.limit = c->open_all ? 0 : c->batch;
	if (ship_batch(c, &qq, false) < 0)
		return;
	c->open_all = false;
	c->next_ship = sw_mono_ms() + (n >= (int)c->batch / 2 ? 0 : c->hb_ms);
}


/* ---- TURN credentials ------------------------------------------------ */

static uint64_t fnv(uint64_t h, const char *s)
{
	for (; s && *s; ++s)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return (h ^ 0xff) * 1099511628211ull;
}


static void creds(struct sw_cluster *c)
{
	struct sw_cluster_creds *cr;
	struct sw_cluster_msg m;
	PGresult *r;
	uint64_t h = 14695981039346656037ull;

	c->next_creds = sw_mono_ms() + (int64_t)c->creds_s * 1000;
	cr = calloc(1, sizeof(*cr));
	if (!cr)
		return;
	r = q(c, "TURN users", "SELECT name, password FROM sw_turn_users"
	      " ORDER BY name LIMIT 64", 0, NULL);
	for (int i = 0; r && i < PQntuples(r) && i < SW_CONF_MAX_USERS; ++i) {
		struct sw_user *u = &cr->users[cr->n_users++];

		snprintf(u->name, sizeof(u->name), "%s", PQgetvalue(r, i, 0));
		snprintf(u->password, sizeof(u->password), "%s",
			 PQgetvalue(r, i, 1));
		h = fnv(fnv(h, u->name), u->password);
	}
	PQclear(r);
	r = r ? q(c, "TURN secrets", "SELECT secret FROM sw_turn_secrets"
		  " WHERE not_after IS NULL OR not_after > now()"
		  " ORDER BY secret LIMIT 8", 0, NULL)
	      : NULL;
	for (int i = 0; r && i < PQntuples(r) && i < SW_CLUSTER_SECRETS; ++i) {
		snprintf(cr->secrets[cr->n_secrets],
			 sizeof(cr->secrets[0]), "%s", PQgetvalue(r, i, 0));
		h = fnv(h, cr->secrets[cr->n_secrets++]);
	}
	if (!r || h == c->creds_hash) {
		PQclear(r);
		free(cr);
		return;
	}
	PQclear(r);
	memset(&m, 0, sizeof(m));
	m.type = SW_CLUSTER_CREDS;
	m.creds = cr;
	if (sw_mq_push(c->out, &m)) {
		free(cr); /* the next refresh sends them again */
		return;
	}
	c->creds_hash = h;
	sw_info("[%s] TURN credentials from PostgreSQL: %u users, %u REST "
		"secrets", c->name, cr->n_users, cr->n_secrets);
}


/* ---- the loop -------------------------------------------------------- */

/* A clean stop: the last records out, the registry says gone */
static void farewell(struct sw_cluster *c)
{
	const char *v[1] = {c->name};

	if (!c->pg)
		return;
	ship(c);
	if (q_ok(c, "stop", "UPDATE sw_instances SET state = 'gone',"
		 " gone_at = now(), gone_seen_by = name, calls = 0,"
		 " allocs = 0 WHERE name = $1", 1, v))
		sw_notice("[%s] left the cluster registry (state gone)",
			  c->name);
}


static void *cluster_main(void *arg)
{
	struct sw_cluster *c = arg;
	struct pollfd pfd = {.fd = sw_mq_fd(c->in), .events = POLLIN};

	c->backoff_ms = BACKOFF_MIN_MS;
	c->st.since_us = sw_calllog_now();
	while (!c->stopping) {
		int64_t now = sw_mono_ms(), next;
		struct cmd m;

		sw_mq_drain_fd(c->in);
		while (sw_mq_pop(c->in, &m)) {
			if (m.type == CMD_STOP)
				c->stopping = true;
			else if (m.type == CMD_LOAD)
				c->load = m.load;
		}
		if (c->stopping)
			break;
		if (!c->pg && now >= c->next_connect) {
			db_connect(c);
			if (!c->pg)
				publish(c);
		}
		if (c->pg && now >= c->next_hb) {
			c->next_hb = now + c->hb_ms;
			heartbeat(c);
		}
		if (c->pg && now >= c->next_gone) {
			c->next_gone = now + (c->hb_ms / 4 ? c->hb_ms / 4 : 1);
			if (now - c->up_mono_ms >=
			    (int64_t)c->dead_ms + c->hb_ms)
				gone_check(c);
		}
		if (c->pg && now >= c->next_ship)
			ship(c);
		if (c->pg && c->creds_s && now >= c->next_creds)
			creds(c);
		now = sw_mono_ms();
		next = c->pg ? c->next_hb : c->next_connect;
		if (c->pg && c->next_gone < next)
			next = c->next_gone;
		if (c->pg && c->next_ship < next)
			next = c->next_ship;
		if (c->pg && c->creds_s && c->next_creds < next)
			next = c->next_creds;
		poll(&pfd, 1, next > now ? (int)(next - now) : 0);
	}
	farewell(c);
	if (c->pg)
		PQfinish(c->pg);
	if (c->db)
		sw_callstore_close(c->db);
	return NULL;
}


/* "ip:port" of a listener, or "" */
static void addr_of(char *out, size_t sz, const struct sw_sa *a)
{
	out[0] = '\0';
	if (sw_sa_isset(a) && !sw_sa_is_any(a))
		sw_sa_str(a, out, sz);
}


/**
 * Start the cluster thread ([cluster] enable = yes). SIP thread.
 *
 * @return 0, ENOMEM or pthread_create's error
 */
int sw_cluster_start(struct sw_cluster **cp, const struct sw_conf *conf)
{
	struct sw_cluster *c = calloc(1, sizeof(*c));
	int e;

	if (!c)
		return ENOMEM;
	snprintf(c->name, sizeof(c->name), "%s", conf->cluster_instance);
	snprintf(c->conninfo, sizeof(c->conninfo), "%s",
		 conf->cluster_conninfo);
	snprintf(c->calllog_path, sizeof(c->calllog_path), "%s",
		 conf->calllog_path);
	if (conf->n_sip_listen)
		addr_of(c->sip, sizeof(c->sip), &conf->sip_listen[0].addr);
	if (conf->turn_enable && sw_sa_isset(&conf->turn_external_ip)) {
		struct sw_sa a = conf->turn_external_ip;

		if (conf->n_turn_listen)
			sw_sa_set_port(&a,
				       sw_sa_port(&conf->turn_listen[0].addr));
		addr_of(c->turn, sizeof(c->turn), &a);
	} else if (conf->turn_enable && conf->n_turn_listen) {
		addr_of(c->turn, sizeof(c->turn), &conf->turn_listen[0].addr);
	}
	c->hb_ms = conf->cluster_heartbeat_ms;
	c->dead_ms = conf->cluster_dead_after_ms;
	c->batch = conf->cluster_ship_batch;
	c->creds_s = conf->cluster_credentials_refresh;
	c->started_us = sw_calllog_now();
	c->creds_hash = 14695981039346656037ull; /* none, as at start */
	e = sw_mq_alloc(&c->in, sizeof(struct cmd), 64);
	if (!e)
		e = sw_mq_alloc(&c->out, sizeof(struct sw_cluster_msg), 16);
	if (!e)
		e = pthread_create(&c->th, NULL, cluster_main, c);
	if (e) {
		sw_mq_free(c->in);
		sw_mq_free(c->out);
		free(c);
		return e;
	}
	sw_notice("[%s] cluster: registry, call log shipping and TURN "
		  "credentials in PostgreSQL (heartbeat %u ms, gone after "
		  "%u ms)", c->name, c->hb_ms, c->dead_ms);
	*cp = c;
	return 0;
}


/** Stop and join the thread: it ships what is left and leaves the
 * registry if the database answers (bounded by its timeouts) */
void sw_cluster_stop(struct sw_cluster *c)
{
	struct cmd m = {.type = CMD_STOP};
	struct sw_cluster_msg o;

	if (!c)
		return;
	while (sw_mq_push(c->in, &m) == ENOBUFS)
		usleep(1000);
	pthread_join(c->th, NULL);
	while (sw_mq_pop(c->out, &o))
		free(o.creds);
	sw_mq_free(c->in);
	sw_mq_free(c->out);
	free(c);
}


int sw_cluster_fd(const struct sw_cluster *c)
{
	return sw_mq_fd(c->out);
}


/** The next message for the SIP thread; its creds are the caller's */
bool sw_cluster_pop(struct sw_cluster *c, struct sw_cluster_msg *m)
{
	sw_mq_drain_fd(c->out);
	return sw_mq_pop(c->out, m);
}


/** The load of this instance for the next heartbeat. Never blocks. */
int sw_cluster_report(struct sw_cluster *c, const struct sw_cluster_load *l)
{
	struct cmd m = {.type = CMD_LOAD, .load = *l};

	return sw_mq_push(c->in, &m);
}
