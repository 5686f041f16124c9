/**
 * @file sw_cluster_pg.c  The cluster's tables in PostgreSQL.
 *
 * The daemon creates and migrates them itself: the first instance that
 * connects to an empty database makes them, under an advisory lock so
 * that three instances starting at once do not race on CREATE TABLE.
 * sw_meta holds the schema version; each step below moves it by one.
 *
 *  sw_instances    the registry: one row per instance name
 *  sw_calls        the cluster call log: one row per (instance, tag),
 *                  the columns of the local log's calls table, shipped
 *                  by the instance that owns the call; cut_by names the
 *                  survivor that ended it when its owner was gone
 *  sw_turn_users   TURN long-term users every instance accepts
 *  sw_turn_secrets TURN REST API shared secrets (several at once for
 *                  rotation; not_after ends one)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "sw_cluster.h"

static const char schema_v1[] =
	"CREATE TABLE sw_instances ("
	" name text PRIMARY KEY, sip text, turn text,"
	" state text NOT NULL DEFAULT 'active'"
	"  CHECK (state IN ('active', 'draining', 'gone')),"
	" calls integer NOT NULL DEFAULT 0,"
	" allocs integer NOT NULL DEFAULT 0,"
	" ports_free integer NOT NULL DEFAULT 0,"
	" pid integer, started timestamptz,"
	" heartbeat timestamptz NOT NULL DEFAULT now(),"
	" gone_at timestamptz, gone_seen_by text);"
	"CREATE TABLE sw_calls ("
	" instance text NOT NULL, tag text NOT NULL, local_id bigint,"
	" start_us bigint NOT NULL, ringing_us bigint, answer_us bigint,"
	" end_us bigint, state text NOT NULL, from_uri text, to_uri text,"
	" inbound_leg text, rule text, final_code integer,"
	" final_phrase text, disconnect_by text, disconnect_reason text,"
	" answered_by text, gw_reason text, gw_fault text, media text,"
	" failed boolean NOT NULL DEFAULT false, verdict text,"
	" synthetic boolean NOT NULL DEFAULT false, cut_by text,"
	" shipped_at timestamptz NOT NULL DEFAULT now(),"
	" PRIMARY KEY (instance, tag));"
	"CREATE INDEX sw_calls_open ON sw_calls (instance)"
	" WHERE end_us IS NULL;"
	"CREATE INDEX sw_calls_start ON sw_calls (start_us);"
	"CREATE TABLE sw_turn_users ("
	" name text PRIMARY KEY, password text NOT NULL);"
	"CREATE TABLE sw_turn_secrets ("
	" secret text PRIMARY KEY, not_after timestamptz);";

static const char *const migrations[SW_CLUSTER_SCHEMA] = {
	schema_v1, /* 0 -> 1 */
};


static int exec_ok(PGconn *pg, const char *sql, char *err, size_t errsz)
{
	PGresult *r = PQexec(pg, sql);
	ExecStatusType st = PQresultStatus(r);
	int e = 0;

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		snprintf(err, errsz, "%s", PQresultErrorMessage(r));
		err[strcspn(err, "\n")] = '\0';
		e = EIO;
	}
	PQclear(r);
	return e;
}


/**
 * Create or migrate the cluster's tables to SW_CLUSTER_SCHEMA. A
 * database newer than this build is refused (its rows may mean more
 * than this build knows).
 *
 * @return 0, EIO (err says why) or EPROTO (newer schema)
 */
int sw_cluster_schema(PGconn *pg, char *err, size_t errsz)
{
	PGresult *r;
	int version = 0, e;

	/* 0x73776179: "sway", the lock every instance's migration takes */
	e = exec_ok(pg, "BEGIN; SELECT pg_advisory_xact_lock(1937203577);"
		    "CREATE TABLE IF NOT EXISTS sw_meta ("
		    " k text PRIMARY KEY, v text NOT NULL)", err, errsz);
	if (e)
		goto fail;
	r = PQexec(pg, "SELECT v FROM sw_meta WHERE k = 'schema'");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		snprintf(err, errsz, "%s", PQresultErrorMessage(r));
		err[strcspn(err, "\n")] = '\0';
		PQclear(r);
		e = EIO;
		goto fail;
	}
	if (PQntuples(r))
		version = atoi(PQgetvalue(r, 0, 0));
	PQclear(r);
	if (version > SW_CLUSTER_SCHEMA) {
		snprintf(err, errsz, "the database's cluster schema is version "
			 "%d, this sharewayd knows %d: upgrade it", version,
			 SW_CLUSTER_SCHEMA);
		e = EPROTO;
		goto fail;
	}
	for (; version < SW_CLUSTER_SCHEMA; ++version) {
		char sql[128];

		e = exec_ok(pg, migrations[version], err, errsz);
		snprintf(sql, sizeof(sql),
			 "INSERT INTO sw_meta VALUES ('schema', '%d') ON "
			 "CONFLICT (k) DO UPDATE SET v = EXCLUDED.v",
			 version + 1);
		if (!e)
			e = exec_ok(pg, sql, err, errsz);
		if (e)
			goto fail;
	}
	return exec_ok(pg, "COMMIT", err, errsz);
fail:
	PQclear(PQexec(pg, "ROLLBACK"));
	return e;
}
