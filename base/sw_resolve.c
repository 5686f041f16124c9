/**
 * @file sw_resolve.c  The resolver thread (c-ares): configuration names only.
 *
 * One thread, one c-ares channel, a poll() loop over the channel's
 * sockets and the request queue's eventfd, with c-ares' own timeout as
 * the poll timeout: nothing here blocks on the network, and a resolver
 * that cannot be reached makes c-ares fail the query (one line per name
 * and retry period, logged by the SIP side) instead of looping. Each name
 * is looked up again when its answer's TTL runs out (clamped to
 * [min_ttl_s, max_ttl_s]), or retry_s after a failure. The set of names is
 * the SIP thread's: sw_resolve_reset() then one sw_resolve_want() per name
 * replaces it (load and reload); answers for a name dropped meanwhile are
 * not sent.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ares.h>

#define SW_LOG_MODULE "dns"
#include "sw_clock.h"
#include "sw_log.h"
#include "sw_mq.h"
#include "sw_resolve.h"

#define MAX_NAMES 128  /* zone targets + rule target URIs */
#define ANS_QUEUE 256

enum req_op { RQ_RESET = 0, RQ_WANT };

struct req {
	enum req_op op;
	char key[SW_RESOLVE_NAME];
	char host[SW_RESOLVE_NAME];
	uint16_t port; /* 0: SRV first */
	enum sw_transport tp;
};

struct name {
	bool used;
	bool busy;          /* a lookup is under way */
	uint32_t gen;       /* callbacks of an older lookup are ignored */
	char key[SW_RESOLVE_NAME];
	char host[SW_RESOLVE_NAME];
	uint16_t port;
	enum sw_transport tp;
	int64_t due_ms;     /* next lookup, CLOCK_MONOTONIC */
	struct sw_resolve_answer ans; /* being built */
	int ttl;            /* smallest TTL seen in this lookup, -1 none */
};

struct sw_resolve {
	struct sw_resolve_opts o;
	struct sw_mq *req, *ans;
	pthread_t th;
	bool started;
	atomic_bool stop;
	ares_channel ch;
	struct name names[MAX_NAMES];
	uint32_t gen;
};

/* what a c-ares callback needs to find its name again */
struct qctx {
	struct sw_resolve *r;
	unsigned idx;
	uint32_t gen;
};



static struct name *ctx_name(struct qctx *q)
{
	struct name *n = &q->r->names[q->idx];

	if (atomic_load(&q->r->stop) || !n->used || !n->busy ||
	    n->gen != q->gen)
		return NULL;
	return n;
}


static void name_done(struct sw_resolve *r, struct name *n, int status)
{
	struct sw_resolve_answer *a = &n->ans;
	uint32_t ttl;

	n->busy = false;
	if (a->n) {
		ttl = n->ttl < 0 ? r->o.min_ttl_s : (uint32_t)n->ttl;
		if (ttl < r->o.min_ttl_s)
			ttl = r->o.min_ttl_s;
		if (ttl > r->o.max_ttl_s)
			ttl = r->o.max_ttl_s;
	} else {
		ttl = r->o.retry_s;
		snprintf(a->why, sizeof(a->why), "%s",
			 status ? ares_strerror(status) : "no address");
	}
	a->ttl_s = ttl;
	n->due_ms = sw_mono_ms() + (int64_t)ttl * 1000;
	snprintf(a->key, sizeof(a->key), "%s", n->key);
	if (sw_mq_push(r->ans, a))
		sw_log_limited(SW_LOG_WARN, "answer for %s dropped (queue "
			       "full)", n->key);
}


static void on_addrinfo(void *arg, int status, int timeouts,
			struct ares_addrinfo *ai)
{
	struct qctx *q = arg;
	struct name *n = ctx_name(q);

	(void)timeouts;
	if (n && status == ARES_SUCCESS && ai) {
		for (struct ares_addrinfo_node *p = ai->nodes;
		     p && n->ans.n < SW_RESOLVE_ADDRS; p = p->ai_next) {
			if (p->ai_family != AF_INET && p->ai_family != AF_INET6)
				continue;
			sw_sa_from_sockaddr(&n->ans.addr[n->ans.n++],
					    p->ai_addr);
			if (n->ttl < 0 || p->ai_ttl < n->ttl)
				n->ttl = p->ai_ttl;
		}
	}
	if (n)
		name_done(q->r, n, status);
	if (ai)
		ares_freeaddrinfo(ai);
	free(q);
}


/* A query's context; NULL (and the name's lookup ended) without memory */
static struct qctx *qctx_new(struct sw_resolve *r, struct name *n)
{
	struct qctx *q = malloc(sizeof(*q));

	if (!q) {
		name_done(r, n, ARES_ENOMEM);
		return NULL;
	}
	q->r = r;
	q->idx = (unsigned)(n - r->names);
	q->gen = n->gen;
	return q;
}


static void addr_lookup(struct sw_resolve *r, struct name *n,
			const char *host, uint16_t port)
{
	struct ares_addrinfo_hints h;
	struct qctx *q = qctx_new(r, n);
	char service[8];

	if (!q)
		return;
	memset(&h, 0, sizeof(h));
	h.ai_family = AF_UNSPEC;
	h.ai_socktype = n->tp == SW_TP_UDP ? SOCK_DGRAM : SOCK_STREAM;
	h.ai_flags = ARES_AI_NUMERICSERV;
	snprintf(service, sizeof(service), "%u", port);
	ares_getaddrinfo(r->ch, host, service, &h, on_addrinfo, q);
}


static uint16_t default_port(enum sw_transport tp)
{
	return tp == SW_TP_TLS ? 5061 : 5060;
}


/* RFC 2782: the lowest priority, then the highest weight (the gateway
 * keeps one next hop, so weights only break the tie) */
static const struct ares_srv_reply *srv_best(const struct ares_srv_reply *s)
{
	const struct ares_srv_reply *best = NULL;

	for (; s; s = s->next)
		if (s->host && *s->host && strcmp(s->host, ".") &&
		    (!best || s->priority < best->priority ||
		     (s->priority == best->priority &&
		      s->weight > best->weight)))
			best = s;
	return best;
}


static void on_srv(void *arg, int status, int timeouts, unsigned char *abuf,
		   int alen)
{
	struct qctx *q = arg;
	struct name *n = ctx_name(q);
	struct ares_srv_reply *srv = NULL;
	const struct ares_srv_reply *best;

	(void)timeouts;
	if (n) {
		if (status == ARES_SUCCESS &&
		    ares_parse_srv_reply(abuf, alen, &srv) == ARES_SUCCESS &&
		    (best = srv_best(srv)))
			addr_lookup(q->r, n, best->host, best->port);
		else /* RFC 3263 4.2: no SRV, the host itself */
			addr_lookup(q->r, n, n->host, default_port(n->tp));
	}
	if (srv)
		ares_free_data(srv);
	free(q);
}


static void name_start(struct sw_resolve *r, struct name *n)
{
	static const char *const srv_prefix[] = {
		[SW_TP_UDP] = "_sip._udp.",
		[SW_TP_TCP] = "_sip._tcp.",
		[SW_TP_TLS] = "_sips._tcp.",
	};
	char qname[SW_RESOLVE_NAME + 16];
	struct qctx *q;

	n->busy = true;
	n->gen = ++r->gen;
	n->ttl = -1;
	memset(&n->ans, 0, sizeof(n->ans));
	if (n->port) {
		addr_lookup(r, n, n->host, n->port);
		return;
	}
	q = qctx_new(r, n);
	if (!q)
		return;
	snprintf(qname, sizeof(qname), "%s%s", srv_prefix[n->tp], n->host);
	ares_query(r->ch, qname, 1 /* C_IN */, 33 /* T_SRV */, on_srv, q);
}


static void req_apply(struct sw_resolve *r, const struct req *rq)
{
	struct name *free_slot = NULL;

	if (rq->op == RQ_RESET) {
		for (unsigned i = 0; i < MAX_NAMES; ++i) {
			r->names[i].used = false;
			r->names[i].busy = false;
		}
		return;
	}
	for (unsigned i = 0; i < MAX_NAMES; ++i) {
		struct name *n = &r->names[i];

		if (n->used && !strcmp(n->key, rq->key))
			return; /* already kept resolved */
		if (!n->used && !free_slot)
			free_slot = n;
	}
	if (!free_slot) {
		sw_warn("more than %d names in the configuration: %s not "
			"resolved", MAX_NAMES, rq->key);
		return;
	}
	memset(free_slot, 0, sizeof(*free_slot));
	free_slot->used = true;
	snprintf(free_slot->key, sizeof(free_slot->key), "%s", rq->key);
	snprintf(free_slot->host, sizeof(free_slot->host), "%s", rq->host);
	free_slot->port = rq->port;
	free_slot->tp = rq->tp <= SW_TP_TLS ? rq->tp : SW_TP_UDP;
	free_slot->due_ms = 0; /* now */
}


/* poll() timeout: c-ares' next timeout or the next name due, in ms */
static int loop_timeout(struct sw_resolve *r, int64_t now)
{
	struct timeval max = {3600, 0}, tv, *t;
	int64_t ms = 3600 * 1000;

	for (unsigned i = 0; i < MAX_NAMES; ++i)
		if (r->names[i].used && !r->names[i].busy &&
		    r->names[i].due_ms - now < ms)
			ms = r->names[i].due_ms - now;
	t = ares_timeout(r->ch, &max, &tv);
	if (t && (int64_t)t->tv_sec * 1000 + t->tv_usec / 1000 < ms)
		ms = (int64_t)t->tv_sec * 1000 + (t->tv_usec + 999) / 1000;
	return ms < 0 ? 0 : (int)ms;
}


static void *resolve_main(void *arg)
{
	struct sw_resolve *r = arg;

	while (!atomic_load(&r->stop)) {
		ares_socket_t socks[ARES_GETSOCK_MAXNUM];
		struct pollfd pfd[ARES_GETSOCK_MAXNUM + 1];
		int64_t now = sw_mono_ms();
		nfds_t nfd = 1;
		struct req rq;
		int bits, rc;

		for (unsigned i = 0; i < MAX_NAMES; ++i)
			if (r->names[i].used && !r->names[i].busy &&
			    r->names[i].due_ms <= now)
				name_start(r, &r->names[i]);
		/* after the queries just sent: their sockets too */
		bits = ares_getsock(r->ch, socks, ARES_GETSOCK_MAXNUM);
		pfd[0].fd = sw_mq_fd(r->req);
		pfd[0].events = POLLIN;
		for (unsigned i = 0; i < ARES_GETSOCK_MAXNUM; ++i) {
			/* ARES_GETSOCK_WRITABLE(bits, 15) shifts an int by 31 */
			unsigned b = (unsigned)bits;
			short ev = (short)((b & 1u << i ? POLLIN : 0) |
					   (b & 1u << (i + ARES_GETSOCK_MAXNUM)
						    ? POLLOUT : 0));

			if (!ev)
				continue;
			pfd[nfd].fd = socks[i];
			pfd[nfd++].events = ev;
		}
		rc = poll(pfd, nfd, loop_timeout(r, now));
		if (rc < 0 && errno != EINTR) {
			sw_error("resolver: poll: %s", strerror(errno));
			break;
		}
		if (rc > 0 && (pfd[0].revents & POLLIN)) {
			sw_mq_drain_fd(r->req);
			while (sw_mq_pop(r->req, &rq))
				req_apply(r, &rq);
		}
		if (rc == 0)
			ares_process_fd(r->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
		for (nfds_t i = 1; rc > 0 && i < nfd; ++i)
			if (pfd[i].revents)
				ares_process_fd(
					r->ch,
					pfd[i].revents & (POLLIN | POLLERR |
							  POLLHUP)
						? pfd[i].fd : ARES_SOCKET_BAD,
					pfd[i].revents & POLLOUT
						? pfd[i].fd : ARES_SOCKET_BAD);
	}
	return NULL;
}


/**
 * Start the resolver thread
 *
 * @param opts  NULL for the defaults (the system's resolv.conf)
 * @return 0, ENOMEM, EINVAL (bad servers), or pthread_create()'s
 */
int sw_resolve_start(struct sw_resolve **rp, const struct sw_resolve_opts *o)
{
	struct ares_options ao;
	struct sw_resolve *r;
	int err;

	if (!rp)
		return EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return ENOMEM;
	if (o)
		r->o = *o;
	r->o.servers = NULL; /* used here only */
	if (!r->o.min_ttl_s)
		r->o.min_ttl_s = 30;
	if (!r->o.max_ttl_s)
		r->o.max_ttl_s = 3600;
	if (r->o.max_ttl_s < r->o.min_ttl_s)
		r->o.max_ttl_s = r->o.min_ttl_s;
	if (!r->o.retry_s)
		r->o.retry_s = 30;
	if (!r->o.timeout_ms)
		r->o.timeout_ms = 2000;
	atomic_init(&r->stop, false);
	if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS) {
		free(r);
		return ENOMEM;
	}
	memset(&ao, 0, sizeof(ao));
	ao.timeout = (int)r->o.timeout_ms;
	ao.tries = 2;
	err = ares_init_options(&r->ch, &ao, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
	if (err != ARES_SUCCESS) {
		sw_error("resolver: %s", ares_strerror(err));
		ares_library_cleanup();
		free(r);
		return ENOMEM;
	}
	err = 0;
	if (o && o->servers &&
	    ares_set_servers_ports_csv(r->ch, o->servers) != ARES_SUCCESS)
		err = EINVAL;
	if (!err)
		err = sw_mq_alloc(&r->req, sizeof(struct req), MAX_NAMES * 2);
	if (!err)
		err = sw_mq_alloc(&r->ans, sizeof(struct sw_resolve_answer),
				  ANS_QUEUE);
	if (!err)
		err = pthread_create(&r->th, NULL, resolve_main, r);
	if (err) {
		sw_resolve_stop(r);
		return err;
	}
	r->started = true;
	*rp = r;
	return 0;
}


/** Stop the thread (queries in flight are abandoned) and free it all */
void sw_resolve_stop(struct sw_resolve *r)
{
	if (!r)
		return;
	atomic_store(&r->stop, true);
	if (r->started) {
		sw_mq_kick(r->req);
		pthread_join(r->th, NULL);
	}
	ares_destroy(r->ch); /* callbacks see stop: nothing is sent */
	ares_library_cleanup();
	sw_mq_free(r->req);
	sw_mq_free(r->ans);
	free(r);
}


/** Forget every name (a new set follows); SIP thread */
int sw_resolve_reset(struct sw_resolve *r)
{
	struct req rq;

	if (!r)
		return EINVAL;
	memset(&rq, 0, sizeof(rq));
	rq.op = RQ_RESET;
	return sw_mq_push(r->req, &rq);
}


/**
 * Keep a name resolved; SIP thread
 *
 * @param key   how answers name it (the target URI as configured)
 * @param port  0: SRV first (RFC 3263 4.2), else A/AAAA at that port
 * @return 0, EINVAL, or sw_mq_push()'s
 */
int sw_resolve_want(struct sw_resolve *r, const char *key, const char *host,
		    uint16_t port, enum sw_transport tp)
{
	struct req rq;

	if (!r || !key || !host || strlen(key) >= sizeof(rq.key) ||
	    strlen(host) >= sizeof(rq.host) || !*host)
		return EINVAL;
	memset(&rq, 0, sizeof(rq));
	rq.op = RQ_WANT;
	snprintf(rq.key, sizeof(rq.key), "%s", key);
	snprintf(rq.host, sizeof(rq.host), "%s", host);
	rq.port = port;
	rq.tp = tp;
	return sw_mq_push(r->req, &rq);
}


/** Readable when answers wait (an eventfd: sw_resolve_pop() them all) */
int sw_resolve_fd(const struct sw_resolve *r)
{
	return r ? sw_mq_fd(r->ans) : -1;
}


/** Clear the answers' eventfd; call before popping until empty */
void sw_resolve_drain_fd(struct sw_resolve *r)
{
	if (r)
		sw_mq_drain_fd(r->ans);
}


/** The next answer, false if none */
bool sw_resolve_pop(struct sw_resolve *r, struct sw_resolve_answer *a)
{
	if (!r)
		return false;
	return sw_mq_pop(r->ans, a);
}
