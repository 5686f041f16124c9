/**
 * @file sw_cluster_read.c  Reading the cluster call log (sw_calls) for
 * the CLI: `shareway calls --cluster`, `shareway show --cluster TAG`.
 *
 * Rows come back as the heads of call records (the calls-table columns
 * of the local log: what is shipped), so the CLI prints them with the
 * code that prints local ones; the owning instance and the survivor that
 * cut a call come alongside. The CLI may block: it runs libpq directly.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "sw_cluster.h"

#define COLS                                                                 \
	"instance, tag, local_id, start_us, ringing_us, answer_us, end_us,"  \
	" state, from_uri, to_uri, inbound_leg, rule, final_code,"           \
	" final_phrase, disconnect_by, disconnect_reason, answered_by,"      \
	" gw_reason, gw_fault, media, failed, verdict, synthetic, cut_by"


/** Connect for reading (the CLI); err says why not */
int sw_cluster_read_open(PGconn **pgp, const char *conninfo, char *err,
			 size_t errsz)
{
	const char *const keys[] = {"connect_timeout", "application_name",
				    "dbname", NULL};
	const char *vals[] = {"5", "shareway-cli", conninfo, NULL};
	PGconn *pg = PQconnectdbParams(keys, vals, 1);

	if (PQstatus(pg) != CONNECTION_OK) {
		snprintf(err, errsz, "%s", PQerrorMessage(pg));
		err[strcspn(err, "\n")] = '\0';
		PQfinish(pg);
		return EIO;
	}
	*pgp = pg;
	return 0;
}


void sw_cluster_read_close(PGconn *pg)
{
	if (pg)
		PQfinish(pg);
}


static const char *txt(struct sw_callrec *r, PGresult *res, int i, int col)
{
	const char *v;

	if (PQgetisnull(res, i, col))
		return NULL;
	v = PQgetvalue(res, i, col);
	return sw_callrec_strdup(r, v, strlen(v));
}


static int64_t i64(PGresult *res, int i, int col)
{
	return PQgetisnull(res, i, col) ? 0 :
		strtoll(PQgetvalue(res, i, col), NULL, 10);
}


static int rows(PGresult *res, sw_cluster_row_h *h, void *arg)
{
	int err = 0;

	for (int i = 0; !err && i < PQntuples(res); ++i) {
		struct sw_callrec *r;
		struct sw_cluster_row row;
		const char *st, *leg;

		err = sw_callrec_alloc(&r);
		if (err)
			break;
		row.instance = PQgetvalue(res, i, 0);
		row.cut_by = PQgetisnull(res, i, 23) ? NULL :
			PQgetvalue(res, i, 23);
		row.rec = r;
		r->tag = txt(r, res, i, 1);
		r->id = i64(res, i, 2);
		r->start_us = i64(res, i, 3);
		r->ringing_us = i64(res, i, 4);
		r->answer_us = i64(res, i, 5);
		r->end_us = i64(res, i, 6);
		st = PQgetvalue(res, i, 7);
		if (sw_call_state_parse(st, &r->state))
			r->state = SW_CS_LOST;
		r->from_uri = txt(r, res, i, 8);
		r->to_uri = txt(r, res, i, 9);
		leg = PQgetvalue(res, i, 10);
		r->inbound_leg = leg[0];
		r->route.rule = txt(r, res, i, 11);
		r->final_code = (int)i64(res, i, 12);
		r->final_phrase = txt(r, res, i, 13);
		r->disconnect_by = txt(r, res, i, 14);
		r->disconnect_reason = txt(r, res, i, 15);
		r->answered_by = txt(r, res, i, 16);
		r->gw_reason = txt(r, res, i, 17);
		r->gw_fault = txt(r, res, i, 18);
		r->media = txt(r, res, i, 19);
		r->failed = PQgetvalue(res, i, 20)[0] == 't';
		r->verdict = txt(r, res, i, 21);
		r->synthetic = PQgetvalue(res, i, 22)[0] == 't';
		err = h(&row, arg);
		sw_callrec_free(r);
	}
	return err;
}


static int run(PGconn *pg, const char *sql, int n, const char *const *v,
	       sw_cluster_row_h *h, void *arg, int *nrows)
{
	PGresult *res = PQexecParams(pg, sql, n, NULL, v, NULL, NULL, 0);
	int err;

	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		fprintf(stderr, "shareway: PostgreSQL: %s",
			PQresultErrorMessage(res));
		PQclear(res);
		return EIO;
	}
	if (nrows)
		*nrows = PQntuples(res);
	err = rows(res, h, arg);
	PQclear(res);
	return err;
}


/**
 * The cluster's calls that match q (since_us, failed, active, rule,
 * match, limit, newest_first; by start time), each to h
 *
 * @return 0, EIO (said on stderr) or what h returned
 */
int sw_cluster_list(PGconn *pg, const struct sw_callstore_query *q,
		    sw_cluster_row_h *h, void *arg)
{
	char sql[1024], since[24], lim[24];
	const char *v[4] = {since, q->rule, q->match, lim};

	snprintf(since, sizeof(since), "%" PRId64, q->since_us);
	snprintf(lim, sizeof(lim), "%u", q->limit);
	snprintf(sql, sizeof(sql),
		 "SELECT " COLS " FROM sw_calls WHERE start_us >= $1::bigint"
		 "%s%s AND ($2::text IS NULL OR rule = $2)"
		 " AND ($3::text IS NULL OR strpos(lower(tag), lower($3)) > 0"
		 " OR strpos(lower(instance), lower($3)) > 0"
		 " OR strpos(lower(COALESCE(from_uri, '')), lower($3)) > 0"
		 " OR strpos(lower(COALESCE(to_uri, '')), lower($3)) > 0)"
		 " ORDER BY start_us %s, instance, local_id %s"
		 " LIMIT NULLIF($4::bigint, 0)",
		 q->failed ? " AND failed" : "",
		 q->active ? " AND end_us IS NULL" : "",
		 q->newest_first ? "DESC" : "ASC",
		 q->newest_first ? "DESC" : "ASC");
	return run(pg, sql, 4, v, h, arg, NULL);
}


/**
 * One call: KEY is INSTANCE/TAG, or a TAG only one instance has
 *
 * @return 0, ENOENT, EEXIST (the tag of several instances: name one),
 *         EIO, or what h returned
 */
int sw_cluster_get(PGconn *pg, const char *key, sw_cluster_row_h *h,
		   void *arg)
{
	char inst[SW_CLUSTER_NAME];
	const char *slash = strchr(key, '/');
	const char *v[2] = {NULL, key};
	int n;
	if (slash) {
		snprintf(inst, sizeof(inst), "%.*s", (int)(slash - key), key);
		v[0] = inst;
		v[1] = slash + 1;
	}
	/* count first: an ambiguous tag prints nothing */
	{
		PGresult *res = PQexecParams(
			pg, "SELECT count(*) FROM sw_calls WHERE tag = $2"
			" AND ($1::text IS NULL OR instance = $1)", 2, NULL, v,
			NULL, NULL, 0);

		if (PQresultStatus(res) != PGRES_TUPLES_OK) {
			PQclear(res);
			return EIO;
		}
		n = atoi(PQgetvalue(res, 0, 0));
		PQclear(res);
	}
	if (!n)
		return ENOENT;
	if (n > 1)
		return EEXIST;
	return run(pg, "SELECT " COLS " FROM sw_calls WHERE tag = $2 AND"
		   " ($1::text IS NULL OR instance = $1)", 2, v, h, arg, NULL);
}
