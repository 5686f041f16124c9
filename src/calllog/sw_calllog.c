/**
 * @file sw_calllog.c  Call log: the emit API (any thread, never blocks)
 * and the writer thread (the only code that writes the database).
 *
 * The writer sleeps on the queue's eventfd. Messages go into the call
 * store (sw_callstore.h) as they arrive, in a batch that is committed
 * batch_ms after it began, or when batch_max messages went in, or on a
 * flush barrier: a store that stalls stalls the writer, and the bounded
 * queue (not the writer's memory) takes the backlog. While a batch is
 * open the writer comes back at its deadline anyway, so producers do not
 * wake it per record (sw_mq_defer(): one eventfd write per batch, or when
 * the queue is half full; a flush barrier wakes it at once). At each
 * commit the store (re)computes the verdict and media flags of the calls
 * touched in the batch that have ended, so a late fact (a relay closing
 * after BYE) updates the sentence; it judges from the facts of recent
 * calls it holds in memory (opts.facts_kib), else reads the call back. Retention runs between batches in small chunks.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define SW_LOG_MODULE "clog"
#include "sw_clock.h"
#include "sw_calllog_int.h"
#include "sw_ctl.h"
#include "sw_log.h"
#include "sw_mq.h"

#define RETENTION_EVERY_US (60 * 1000000LL)
#define RETENTION_CHUNK    2000

struct sw_calllog {
	char path[4096];
	struct sw_calllog_opts opts;
	struct sw_mq *mq;       /* producers -> writer */
	int stop_fd;            /* eventfd: the writer must finish */
	pthread_t thread;
	bool running;
	struct sw_callstore *store; /* writer thread only, after open */

	atomic_uint_fast64_t next_uid;
	atomic_uint_fast64_t n_calls, n_queued, n_consumed, n_written;
	atomic_uint_fast64_t n_nomem, n_errors, n_batches, n_verdicts;
	atomic_uint_fast64_t n_reloaded;
	atomic_uint_fast64_t n_sev[SW_VERDICT_FAIL + 1]; /* first verdicts */
	atomic_uint_fast64_t n_expired, max_batch_us;
	atomic_bool stopping;

	/* flush barrier: guarded by lock */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint64_t flush_req, flush_done;

	/* writer thread only */
	uint64_t dropped_logged;
	int64_t last_drop_log_us;
};


/** Microseconds since the epoch (CLOCK_REALTIME) */
int64_t sw_calllog_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}



/* ---- blob packing ---------------------------------------------------- */

/**
 * Pack numbers and strings into one heap block (layout in
 * sw_calllog_int.h)
 *
 * @return 0, EMSGSIZE if a string is over CLB_MAX_STR, ENOMEM
 */
int clb_pack(char **blobp, const struct clb_in *in)
{
	size_t total = 8 + in->nnum * 8 + in->nstr * 4;
	char *b, *p;

	for (unsigned i = 0; i < in->nstr; ++i) {
		if (!in->str[i])
			continue;
		if (in->len[i] > CLB_MAX_STR)
			return EMSGSIZE;
		total += in->len[i] + 1;
	}
	b = malloc(total);
	if (!b)
		return ENOMEM;
	memcpy(b, &in->nnum, 4);
	memcpy(b + 4, &in->nstr, 4);
	memcpy(b + 8, in->num, in->nnum * 8);
	p = b + 8 + in->nnum * 8 + in->nstr * 4;
	for (unsigned i = 0; i < in->nstr; ++i) {
		uint32_t l = in->str[i] ? (uint32_t)in->len[i] : CLB_ABSENT;

		memcpy(b + 8 + in->nnum * 8 + i * 4, &l, 4);
		if (!in->str[i])
			continue;
		memcpy(p, in->str[i], in->len[i]);
		p[in->len[i]] = '\0';
		p += in->len[i] + 1;
	}
	*blobp = b;
	return 0;
}


unsigned clb_nnum(const char *blob)
{
	uint32_t n;

	memcpy(&n, blob, 4);
	return n;
}


unsigned clb_nstr(const char *blob)
{
	uint32_t n;

	memcpy(&n, blob + 4, 4);
	return n;
}


int64_t clb_num(const char *blob, unsigned i)
{
	int64_t v;

	if (i >= clb_nnum(blob))
		return 0;
	memcpy(&v, blob + 8 + (size_t)i * 8, 8);
	return v;
}


/** The i-th string (NUL-terminated in place), NULL if absent */
const char *clb_str(const char *blob, unsigned i, size_t *lenp)
{
	unsigned nnum = clb_nnum(blob), nstr = clb_nstr(blob);
	const char *p = blob + 8 + (size_t)nnum * 8 + (size_t)nstr * 4;
	uint32_t l;

	if (i >= nstr)
		return NULL;
	for (unsigned k = 0; k <= i; ++k) {
		memcpy(&l, blob + 8 + (size_t)nnum * 8 + (size_t)k * 4, 4);
		if (k == i)
			break;
		if (l != CLB_ABSENT)
			p += l + 1;
	}
	if (l == CLB_ABSENT)
		return NULL;
	if (lenp)
		*lenp = l;
	return p;
}


/**
 * Pack a record struct by its column table: numbers in column order,
 * then extra numbers; strings in column order
 */
int clb_pack_struct(char **blobp, const struct cl_table *t, const void *s,
		    const int64_t *extra, unsigned nextra)
{
	struct clb_in in;

	in.nnum = in.nstr = 0;
	for (unsigned i = 0; i < t->ncols; ++i) {
		const struct cl_col *c = &t->cols[i];

		if (c->type == CT_STR) {
			const char *v = cl_col_str(c, s);

			in.str[in.nstr] = v;
			in.len[in.nstr++] = v ? strlen(v) : 0;
		}
		else {
			in.num[in.nnum++] = cl_col_num(c, s);
		}
	}
	for (unsigned i = 0; i < nextra && in.nnum < CLB_MAX_FIELDS; ++i)
		in.num[in.nnum++] = extra[i];
	return clb_pack(blobp, &in);
}


/* ---- emit ------------------------------------------------------------ */

static int push(struct sw_calllog *cl, uint8_t type, uint64_t uid,
		char *blob)
{
	struct sw_callstore_msg m = {type, uid, blob};
	int err;

	err = sw_mq_push(cl->mq, &m);
	if (err) {
		free(blob);
		return err;
	}
	atomic_fetch_add(&cl->n_queued, 1);
	return 0;
}


static int emit_in(struct sw_calllog *cl, uint8_t type, uint64_t uid,
		   const struct clb_in *in)
{
	char *blob;
	int err;

	if (!cl || !uid)
		return 0;
	err = clb_pack(&blob, in);
	if (err) {
		atomic_fetch_add(&cl->n_nomem, 1);
		return err;
	}
	return push(cl, type, uid, blob);
}


static int emit_struct(struct sw_calllog *cl, uint8_t type, uint64_t uid,
		       const struct cl_table *t, const void *s)
{
	char *blob;
	int err;

	if (!cl || !uid)
		return 0;
	if (!s)
		return EINVAL;
	err = clb_pack_struct(&blob, t, s, NULL, 0);
	if (err) {
		atomic_fetch_add(&cl->n_nomem, 1);
		return err;
	}
	return push(cl, type, uid, blob);
}


/**
 * A uid and its tag ("c-N") for a call whose record starts later
 * (sw_calllog_call_start_uid()): the B2BUA names a call in its log lines
 * from the moment it exists, with the tag `shareway show` knows
 *
 * @return the uid, 0 if the log is off
 */
uint64_t sw_calllog_reserve(struct sw_calllog *cl, char *tag, size_t tagsz)
{
	uint64_t uid;

	if (tag && tagsz)
		tag[0] = '\0';
	if (!cl)
		return 0;
	uid = atomic_fetch_add(&cl->next_uid, 1);
	if (tag && tagsz)
		snprintf(tag, tagsz, "c-%" PRIu64, uid);
	return uid;
}


/**
 * Start the record of a call under a uid from sw_calllog_reserve()
 *
 * @return 0, or the errno of the push (the record is not started)
 */
int sw_calllog_call_start_uid(struct sw_calllog *cl, uint64_t uid,
			      const struct sw_rec_start *st)
{
	char t[SW_CALLLOG_TAG_LEN];
	struct clb_in in = {0};

	if (!cl || !st || !uid)
		return EINVAL;
	atomic_fetch_add(&cl->n_calls, 1);
	snprintf(t, sizeof(t), "c-%" PRIu64, uid);
	in.num[0] = st->t_us ? st->t_us : sw_calllog_now();
	in.num[1] = (unsigned char)st->inbound_leg;
	in.num[2] = st->synthetic;
	in.nnum = 3;
	in.str[0] = t;
	in.str[1] = st->from_uri;
	in.str[2] = st->to_uri;
	in.nstr = 3;
	for (unsigned i = 0; i < in.nstr; ++i)
		in.len[i] = in.str[i] ? strlen(in.str[i]) : 0;
	return emit_in(cl, SW_CSM_START, uid, &in);
}


/**
 * A call reached the gateway: allocate its uid and tag
 *
 * @param tag  receives the operator tag ("c-142"), may be NULL
 *
 * @return the uid for every other emit call, 0 if the log is off or the
 *         message could not be queued
 */
uint64_t sw_calllog_call_start(struct sw_calllog *cl,
			       const struct sw_rec_start *st, char *tag,
			       size_t tagsz)
{
	char t[SW_CALLLOG_TAG_LEN];
	uint64_t uid;

	if (tag && tagsz)
		tag[0] = '\0';
	if (!cl || !st)
		return 0;
	uid = sw_calllog_reserve(cl, t, sizeof(t));
	if (sw_calllog_call_start_uid(cl, uid, st))
		return 0;
	if (tag && tagsz)
		snprintf(tag, tagsz, "%s", t);
	return uid;
}


static int emit_time(struct sw_calllog *cl, uint8_t type, uint64_t uid,
		     int64_t t_us)
{
	struct clb_in in = {0};

	in.num[0] = t_us ? t_us : sw_calllog_now();
	in.nnum = 1;
	return emit_in(cl, type, uid, &in);
}


/** The callee rings (first 18x); t_us 0 means now */
int sw_calllog_call_ringing(struct sw_calllog *cl, uint64_t uid,
			    int64_t t_us)
{
	return emit_time(cl, SW_CSM_RINGING, uid, t_us);
}


/** The callee answered (2xx to the initial INVITE); t_us 0 means now */
int sw_calllog_call_answer(struct sw_calllog *cl, uint64_t uid, int64_t t_us)
{
	return emit_time(cl, SW_CSM_ANSWER, uid, t_us);
}


/** The call is over: its state, final code, who ended it and why */
int sw_calllog_call_end(struct sw_calllog *cl, uint64_t uid,
			const struct sw_rec_end *end)
{
	struct clb_in in = {0};

	if (!end)
		return EINVAL;
	in.num[0] = end->t_us ? end->t_us : sw_calllog_now();
	in.num[1] = end->state;
	in.num[2] = end->final_code;
	in.nnum = 3;
	in.str[0] = end->final_phrase;
	in.str[1] = end->disconnect_by;
	in.str[2] = end->disconnect_reason;
	in.str[3] = end->answered_by;
	in.str[4] = end->gw_reason;
	in.nstr = 5;
	for (unsigned i = 0; i < in.nstr; ++i)
		in.len[i] = in.str[i] ? strlen(in.str[i]) : 0;
	return emit_in(cl, SW_CSM_END, uid, &in);
}


/**
 * A fault of the gateway during the call, one sentence (the first one
 * recorded stays: it explains the call, later ones follow from it)
 */
int sw_calllog_call_fault(struct sw_calllog *cl, uint64_t uid,
			  const char *fault)
{
	struct clb_in in = {0};

	if (!fault)
		return EINVAL;
	in.str[0] = fault;
	in.len[0] = strlen(fault);
	in.nstr = 1;
	return emit_in(cl, SW_CSM_FAULT, uid, &in);
}


/** What is known of one leg (upsert by leg letter) */
int sw_calllog_leg(struct sw_calllog *cl, uint64_t uid,
		   const struct sw_rec_leg *leg)
{
	if (leg && sw_leg_index(leg->leg) < 0)
		return EINVAL;
	return emit_struct(cl, SW_CSM_LEG, uid, &cl_tab_leg, leg);
}


/** The routing decision and trace */
int sw_calllog_route(struct sw_calllog *cl, uint64_t uid,
		     const struct sw_rec_route *route)
{
	return emit_struct(cl, SW_CSM_ROUTE, uid, &cl_tab_route, route);
}


/** One offer/answer exchange (upsert by seq; SDP may come piecewise) */
int sw_calllog_negotiation(struct sw_calllog *cl, uint64_t uid,
			   const struct sw_rec_neg *neg)
{
	if (neg && !neg->seq)
		return EINVAL;
	return emit_struct(cl, SW_CSM_NEG, uid, &cl_tab_neg, neg);
}


/** A TURN allocation tied to the call (upsert by relay id) */
int sw_calllog_relay(struct sw_calllog *cl, uint64_t uid,
		     const struct sw_rec_relay *relay)
{
	return emit_struct(cl, SW_CSM_RELAY, uid, &cl_tab_relay, relay);
}


/** An RFC 6062 peer connection (upsert by relay id + CONNECTION-ID) */
int sw_calllog_conn(struct sw_calllog *cl, uint64_t uid,
		    const struct sw_rec_conn *conn)
{
	return emit_struct(cl, SW_CSM_CONN, uid, &cl_tab_conn, conn);
}


/** ICE observed in one direction (upsert by direction) */
int sw_calllog_ice(struct sw_calllog *cl, uint64_t uid,
		   const struct sw_rec_ice *ice)
{
	if (ice && ice->dir != SW_ICE_E2C && ice->dir != SW_ICE_C2E)
		return EINVAL;
	return emit_struct(cl, SW_CSM_ICE, uid, &cl_tab_ice, ice);
}


/** The ICE completion re-INVITE (one per call, upserted) */
int sw_calllog_reinvite(struct sw_calllog *cl, uint64_t uid,
			const struct sw_rec_reinvite *ri)
{
	return emit_struct(cl, SW_CSM_REINVITE, uid, &cl_tab_reinvite, ri);
}


/** One ladder step that is not a recorded SIP/STUN message */
int sw_calllog_event(struct sw_calllog *cl, uint64_t uid,
		     const struct sw_rec_event *ev)
{
	struct sw_rec_event e;

	if (!ev)
		return EINVAL;
	e = *ev;
	if (!e.t_us)
		e.t_us = sw_calllog_now();
	return emit_struct(cl, SW_CSM_EVENT, uid, &cl_tab_event, &e);
}


static int emit_packet(struct sw_calllog *cl, uint64_t uid, enum sw_actor src,
		       enum sw_actor dst, const struct sw_rec_packet *pkt)
{
	char sa[SW_SA_STRLEN], da[SW_SA_STRLEN];
	struct clb_in in = {0};

	if (!pkt || !pkt->data || !pkt->len)
		return EINVAL;
	in.num[0] = pkt->t_us ? pkt->t_us : sw_calllog_now();
	in.num[1] = pkt->proto;
	in.num[2] = pkt->transport;
	in.num[3] = src;
	in.num[4] = dst;
	in.nnum = 5;
	in.str[0] = sw_sa_str(&pkt->src, sa, sizeof(sa));
	in.len[0] = strlen(sa);
	in.str[1] = sw_sa_str(&pkt->dst, da, sizeof(da));
	in.len[1] = strlen(da);
	in.str[2] = pkt->data;
	in.len[2] = pkt->len;
	in.nstr = 3;
	return emit_in(cl, SW_CSM_PACKET, uid, &in);
}


/**
 * A SIP message sent or received on a leg: stored for `export` and drawn
 * on the ladder (request method or status, "(SDP)" when it has a body)
 *
 * @param leg       'e' or 'c'
 * @param received  true if the gateway received it from that leg's peer
 */
int sw_calllog_sipmsg(struct sw_calllog *cl, uint64_t uid, char leg,
		      bool received, const struct sw_rec_packet *pkt)
{
	enum sw_actor peer = leg == 'e' ? SW_ACT_EDGE : SW_ACT_CONF;
	struct sw_rec_packet p;

	if (!cl || !uid)
		return 0;
	if (!pkt || sw_leg_index(leg) < 0)
		return EINVAL;
	p = *pkt;
	p.proto = SW_PKT_SIP;
	return emit_packet(cl, uid, received ? peer : SW_ACT_GW,
			   received ? SW_ACT_GW : peer, &p);
}


/**
 * A STUN/TURN message (TURN control, or an ICE check seen by the relay):
 * stored for `export` and drawn on the ladder between src and dst
 */
int sw_calllog_stunmsg(struct sw_calllog *cl, uint64_t uid,
		       enum sw_actor src, enum sw_actor dst,
		       const struct sw_rec_packet *pkt)
{
	struct sw_rec_packet p;

	if (!cl || !uid)
		return 0;
	if (!pkt)
		return EINVAL;
	p = *pkt;
	p.proto = SW_PKT_STUN;
	return emit_packet(cl, uid, src, dst, &p);
}


/* ---- writer thread --------------------------------------------------- */

/* Commit the batch: the store judges the ended calls it touched */
static void commit(struct sw_calllog *cl)
{
	struct sw_callstore_batch_res res = {0};
	int64_t t0 = sw_mono_us(), dt;
	int err;

	err = sw_callstore_batch_commit(cl->store, &res);
	atomic_fetch_add(&cl->n_verdicts, res.verdicts);
	atomic_fetch_add(&cl->n_reloaded, res.reloaded);
	atomic_fetch_add(&cl->n_errors, res.verdict_errors);
	for (int s = 0; s <= SW_VERDICT_FAIL; ++s) /* first verdicts */
		atomic_fetch_add(&cl->n_sev[s], res.first_sev[s]);
	if (err) {
		atomic_fetch_add(&cl->n_errors, 1);
		sw_error("[%s] commit failed: %s", cl->path,
			 sw_callstore_errmsg(cl->store));
	}
	atomic_fetch_add(&cl->n_batches, 1);
	dt = sw_mono_us() - t0;
	if ((uint64_t)dt > atomic_load(&cl->max_batch_us))
		atomic_store(&cl->max_batch_us, (uint64_t)dt);
}


static void apply(struct sw_calllog *cl, const struct sw_callstore_msg *m)
{
	if (m->type == SW_CSM_FLUSH)
		return;
	if (sw_callstore_batch_add(cl->store, m)) {
		if (atomic_fetch_add(&cl->n_errors, 1) < 10)
			sw_warn("[c-%" PRIu64 "] record not stored: %s", m->uid,
				sw_callstore_errmsg(cl->store));
	}
	else {
		atomic_fetch_add(&cl->n_written, 1);
	}
}


static void flush_done(struct sw_calllog *cl, uint64_t seq)
{
	pthread_mutex_lock(&cl->lock);
	if (seq > cl->flush_done)
		cl->flush_done = seq;
	pthread_cond_broadcast(&cl->cond);
	pthread_mutex_unlock(&cl->lock);
}


static void log_drops(struct sw_calllog *cl)
{
	uint64_t d = sw_mq_dropped(cl->mq) + atomic_load(&cl->n_nomem);
	int64_t now = sw_mono_us();

	if (d == cl->dropped_logged || now - cl->last_drop_log_us < 1000000)
		return;
	sw_warn("[%s] %" PRIu64 " call-log messages dropped (queue full or "
		"out of memory), %" PRIu64 " in total", cl->path,
		d - cl->dropped_logged, d);
	cl->dropped_logged = d;
	cl->last_drop_log_us = now;
}


static void retention(struct sw_calllog *cl)
{
	int64_t before = 0, t0 = sw_mono_us();
	unsigned n;

	if (cl->opts.retention_days)
		before = sw_calllog_now() -
			 (int64_t)cl->opts.retention_days * 86400 * 1000000;
	if (!before && !cl->opts.max_calls)
		return;
	/* small chunks, each its own transaction, at most ~200 ms a round */
	do {
		if (sw_callstore_expire(cl->store, before, cl->opts.max_calls,
					RETENTION_CHUNK, &n)) {
			atomic_fetch_add(&cl->n_errors, 1);
			sw_warn("[%s] retention: %s", cl->path,
				sw_callstore_errmsg(cl->store));
			return;
		}
		atomic_fetch_add(&cl->n_expired, n);
	} while (n == RETENTION_CHUNK && sw_mono_us() - t0 < 200000);
	if (n)
		sw_info("[%s] retention removed %u calls", cl->path, n);
}


/* Pop and apply until the queue is empty or the batch is full */
static bool drain(struct sw_calllog *cl, bool *in_txn, int64_t *deadline,
		  uint64_t *flush_seq)
{
	struct sw_callstore_msg m;
	unsigned n = 0;

	while (n < cl->opts.batch_max && sw_mq_pop(cl->mq, &m)) {
		atomic_fetch_add(&cl->n_consumed, 1);
		if (!*in_txn) {
			if (sw_callstore_batch_begin(cl->store))
				atomic_fetch_add(&cl->n_errors, 1);
			*in_txn = true;
			*deadline = sw_mono_us() +
				    (int64_t)cl->opts.batch_ms * 1000;
		}
		apply(cl, &m);
		if (m.type == SW_CSM_FLUSH && m.uid > *flush_seq)
			*flush_seq = m.uid;
		free(m.blob);
		++n;
	}
	return n == cl->opts.batch_max;
}


static void *writer_main(void *arg)
{
	struct sw_calllog *cl = arg;
	int64_t next_ret, deadline = 0;
	bool in_txn = false, full, pending = false;

	retention(cl); /* a restart trims before the first batch */
	next_ret = sw_mono_us() + RETENTION_EVERY_US;

	for (;;) {
		struct pollfd pfd[2] = {{sw_mq_fd(cl->mq), POLLIN, 0},
					{cl->stop_fd, POLLIN, 0}};
		int64_t now = sw_mono_us(), wait = pending  ? 0
						 : in_txn ? deadline - now
							  : next_ret - now;
		uint64_t flush_seq = 0;
		bool stop;

		if (poll(pfd, 2, wait < 0 ? 0 : (int)(wait / 1000) + 1) < 0 &&
		    errno != EINTR)
			break;
		sw_mq_drain_fd(cl->mq);
		stop = atomic_load(&cl->stopping);
		do {
			full = drain(cl, &in_txn, &deadline, &flush_seq);
			if (in_txn && (full || flush_seq || stop ||
				       sw_mono_us() >= deadline)) {
				commit(cl);
				in_txn = false;
			}
		} while (full);
		if (flush_seq)
			flush_done(cl, flush_seq);
		log_drops(cl);
		if (stop && !in_txn)
			break;
		if (!in_txn && sw_mono_us() >= next_ret) {
			retention(cl);
			next_ret = sw_mono_us() + RETENTION_EVERY_US;
		}
		/* what came after the last pop but before deferral ended woke
		 * nobody: take it now */
		pending = sw_mq_defer(cl->mq, in_txn) && !in_txn;
	}
	return NULL;
}


/* ---- lifecycle ------------------------------------------------------- */

static void opts_defaults(struct sw_calllog_opts *o)
{
	if (!o->queue_len)
		o->queue_len = 32768;
	if (!o->batch_ms)
		o->batch_ms = 100;
	if (!o->batch_max)
		o->batch_max = 5000;
	if (!o->facts_kib)
		o->facts_kib = 16384;
}


static int start(struct sw_calllog *cl)
{
	unsigned lost = 0;
	int err;

	err = sw_callstore_mark_lost(cl->store, &lost);
	if (err)
		return err;
	if (lost)
		sw_warn("[%s] %u calls were in progress when sharewayd "
			"stopped: marked lost", cl->path, lost);
	atomic_store(&cl->next_uid,
		     (uint64_t)sw_callstore_max_id(cl->store) + 1);
	err = sw_mq_alloc(&cl->mq, sizeof(struct sw_callstore_msg), cl->opts.queue_len);
	if (err)
		return err;
	cl->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (cl->stop_fd < 0)
		return errno;
	err = pthread_create(&cl->thread, NULL, writer_main, cl);
	if (err)
		return err;
	cl->running = true;
	return 0;
}


/**
 * Open (create, migrate) the database and start the writer thread
 *
 * @return 0, or an errno value (the reason is logged)
 */
int sw_calllog_open(struct sw_calllog **clp,
		    const struct sw_calllog_opts *opts)
{
	struct sw_calllog *cl;
	char err_s[256];
	int err;

	if (!clp || !opts || !opts->path || !*opts->path)
		return EINVAL;
	cl = calloc(1, sizeof(*cl));
	if (!cl)
		return ENOMEM;
	cl->stop_fd = -1;
	cl->opts = *opts;
	opts_defaults(&cl->opts);
	snprintf(cl->path, sizeof(cl->path), "%s", opts->path);
	cl->opts.path = cl->path;
	pthread_mutex_init(&cl->lock, NULL);
	pthread_cond_init(&cl->cond, NULL);
	err = sw_callstore_open(&cl->store, cl->path, true, err_s,
				sizeof(err_s));
	if (err) {
		sw_error("[%s] call log: %s", cl->path, err_s);
		goto out;
	}
	/* ENOTSUP: a store that reads every verdict back */
	sw_callstore_facts_budget(cl->store, cl->opts.facts_kib ==
				  SW_CALLLOG_FACTS_NONE ? 0 :
				  (size_t)cl->opts.facts_kib * 1024);
	err = start(cl);
	if (err)
		sw_error("[%s] call log writer: %s", cl->path, strerror(err));
out:
	if (err)
		sw_calllog_close(cl);
	else
		*clp = cl;
	return err;
}


/** Write everything queued, stop the writer, close the database */
void sw_calllog_close(struct sw_calllog *cl)
{
	struct sw_callstore_msg m;
	uint64_t one = 1;

	if (!cl)
		return;
	if (cl->running) {
		atomic_store(&cl->stopping, true);
		if (write(cl->stop_fd, &one, sizeof(one)) < 0)
			sw_warn("[%s] stop: %s", cl->path, strerror(errno));
		pthread_join(cl->thread, NULL);
	}
	while (cl->mq && sw_mq_pop(cl->mq, &m))
		free(m.blob);
	sw_mq_free(cl->mq);
	if (cl->stop_fd >= 0)
		close(cl->stop_fd);
	sw_callstore_close(cl->store);
	pthread_cond_destroy(&cl->cond);
	pthread_mutex_destroy(&cl->lock);
	free(cl);
}


/**
 * Wait until everything queued so far is committed. Blocks: for tests,
 * tools and shutdown, never on the SIP or relay threads.
 *
 * @return 0, ENOBUFS (queue full), ETIMEDOUT
 */
int sw_calllog_flush(struct sw_calllog *cl, unsigned timeout_ms)
{
	struct timespec ts, ms1 = {0, 1000000};
	int64_t give_up = sw_mono_us() + (int64_t)timeout_ms * 1000;
	uint64_t seq;
	int err = 0;

	if (!cl)
		return EINVAL;
	pthread_mutex_lock(&cl->lock);
	seq = ++cl->flush_req;
	pthread_mutex_unlock(&cl->lock);
	/* a full queue drains as the writer works: wait for room first, so
	 * that the barrier itself is not counted as a dropped record */
	for (;;) {
		uint64_t q = atomic_load(&cl->n_queued);
		uint64_t c = atomic_load(&cl->n_consumed);

		if (q - c < cl->opts.queue_len || sw_mono_us() >= give_up) {
			err = push(cl, SW_CSM_FLUSH, seq, NULL);
			if (!err)
				sw_mq_kick(cl->mq); /* even into a deferred batch */
			if (err != ENOBUFS || sw_mono_us() >= give_up)
				break;
		}
		nanosleep(&ms1, NULL);
	}
	if (err)
		return err;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&cl->lock);
	while (cl->flush_done < seq && !err)
		err = pthread_cond_timedwait(&cl->cond, &cl->lock, &ts);
	pthread_mutex_unlock(&cl->lock);
	return err;
}


/** A snapshot of the counters (any thread) */
void sw_calllog_stats(struct sw_calllog *cl, struct sw_calllog_stats *st)
{
	uint64_t q, c;

	memset(st, 0, sizeof(*st));
	if (!cl)
		return;
	st->calls = atomic_load(&cl->n_calls);
	q = atomic_load(&cl->n_queued);
	c = atomic_load(&cl->n_consumed);
	st->queued = q;
	st->written = atomic_load(&cl->n_written);
	st->dropped = sw_mq_dropped(cl->mq) + atomic_load(&cl->n_nomem);
	st->errors = atomic_load(&cl->n_errors);
	st->batches = atomic_load(&cl->n_batches);
	st->verdicts = atomic_load(&cl->n_verdicts);
	st->reloaded = atomic_load(&cl->n_reloaded);
	st->verdict_ok = atomic_load(&cl->n_sev[SW_VERDICT_OK]);
	st->verdict_info = atomic_load(&cl->n_sev[SW_VERDICT_INFO]);
	st->verdict_fail = atomic_load(&cl->n_sev[SW_VERDICT_FAIL]);
	st->expired = atomic_load(&cl->n_expired);
	st->max_batch_us = atomic_load(&cl->max_batch_us);
	st->pending = q > c ? q - c : 0;
}


const char *sw_calllog_path(const struct sw_calllog *cl)
{
	return cl ? cl->path : NULL;
}


static void stats_json(struct sw_json *j, struct sw_calllog *cl)
{
	struct sw_calllog_stats st;

	sw_calllog_stats(cl, &st);
	sw_json_obj_open(j, "calllog");
	sw_json_str(j, "path", cl->path);
	sw_json_int(j, "calls", (int64_t)st.calls);
	sw_json_int(j, "queued", (int64_t)st.queued);
	sw_json_int(j, "written", (int64_t)st.written);
	sw_json_int(j, "pending", (int64_t)st.pending);
	sw_json_int(j, "dropped", (int64_t)st.dropped);
	sw_json_int(j, "errors", (int64_t)st.errors);
	sw_json_int(j, "batches", (int64_t)st.batches);
	sw_json_int(j, "verdicts", (int64_t)st.verdicts);
	sw_json_int(j, "expired", (int64_t)st.expired);
	sw_json_int(j, "max_batch_us", (int64_t)st.max_batch_us);
	sw_json_int(j, "retention_days", cl->opts.retention_days);
	sw_json_int(j, "max_calls", cl->opts.max_calls);
	sw_json_obj_close(j);
}


static int ctl_stats(struct sw_json *res, const struct sw_jval *args,
		     void *arg)
{
	(void)args;
	stats_json(res, arg);
	return 0;
}


/** Answer "status" and "stats" on the control socket with the counters */
int sw_calllog_ctl_register(struct sw_calllog *cl, struct sw_ctl *ctl)
{
	int err;

	if (!cl || !ctl)
		return EINVAL;
	err = sw_ctl_register(ctl, "status", ctl_stats, cl);
	if (!err)
		err = sw_ctl_register(ctl, "stats", ctl_stats, cl);
	return err;
}
