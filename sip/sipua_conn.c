/**
 * @file sipua_conn.c  Admission of SIP TCP/TLS connections: a cap per
 * source address, an end for connections that never complete a request,
 * and accept() when descriptors run out.
 *
 * Sofia's tport offers part of this as tags, and sipua.c sets them: the
 * listen backlog (TPTAG_QUEUESIZE), an idle timeout for connections no
 * transaction uses (TPTAG_IDLE, [sip] tcp_idle_timeout) and a timeout for
 * a message whose bytes stopped coming (TPTAG_TIMEOUT,
 * tcp_message_timeout). What it lacks, Sofia-SIP 1.12.11 has no hook for:
 * its tport_accept() calls accept() and registers the new socket at once.
 * A connection that sends nothing is "idle" only after TPTAG_IDLE (30 min
 * by default: 2,000 such connections were held), any number of them may
 * come from one address, and when accept() fails with EMFILE the
 * level-triggered listener fires again at once (100 % CPU, 70,000
 * "Too many open files" lines a second, nothing else served).
 *
 * So accept() is interposed: the executable's definition below is the one
 * libsofia-sip-ua.so's calls resolve to (ELF symbol interposition; the
 * project's own code calls accept4(), never accept()). On the SIP thread,
 * with the guard running, it
 *  - sheds the listen queue with the reserve descriptor when accept()
 *    fails with EMFILE/ENFILE (sw_accept.h), one rate-limited line. The
 *    relay threads also stop polling such a listener for a while; Sofia's
 *    loop cannot be told to (its registration of the listener is
 *    private), and needs not: once the queue is shed the listener wakes
 *    only for a new connection, which costs an accept() and a close();
 *  - resets a connection from an address that already has
 *    tcp_max_per_source open, one rate-limited line;
 *  - remembers the others as pending until a request arrives on them
 *    (sipua_conn_request(), from every nua request event): a pending
 *    connection older than tcp_message_timeout is shut down (Sofia sees
 *    the end of stream and closes its transport itself: the descriptor
 *    stays Sofia's to close).
 * Everywhere else (another thread, no guard) it is accept() as before.
 *
 * The table is indexed by descriptor. Sofia closes its sockets without
 * telling us, so an entry is checked before it is trusted: its socket's
 * peer and local names must still be the ones accepted (a reused
 * descriptor has other names, a closed one none).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SW_LOG_MODULE "sip"
#include "sw_log.h"
#include "sw_accept.h"
#include "sipua_int.h"

#include <sofia-sip/msg_addr.h>

#define CONN_BUCKETS 1024   /* chains of connections by peer address */
#define CONN_REFUSE_MAX 64  /* over-cap connections reset per accept() */
#define CONN_SWEEP_MS 1000

struct conn {
	struct sw_sa peer, local; /* v4-mapped unmapped */
	int64_t since_ms;         /* accepted, CLOCK_MONOTONIC */
	int next;                 /* next descriptor of this chain, or -1 */
	bool used;
	bool pending;             /* no request seen on it yet */
};

struct sipua_conns {
	struct sipua *ua;
	pthread_t thread;          /* the SIP thread: the only one guarded */
	struct conn *c;            /* by descriptor */
	int n_c;
	int head[CONN_BUCKETS];
	struct sw_accept_reserve reserve;
	unsigned n_pending;
	su_timer_t *timer;
	struct sipua_conn_stats st;
};

static struct sipua_conns *conn_guard; /* one SIP stack per process */


static unsigned conn_bucket(const struct sw_sa *a)
{
	return sw_sa_hash(a, 2166136261u, false) % CONN_BUCKETS;
}


static bool conn_name(int fd, bool peer, struct sw_sa *out)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct sw_sa a;

	if ((peer ? getpeername : getsockname)(fd, (struct sockaddr *)&ss,
					       &sl))
		return false;
	sw_sa_from_sockaddr(&a, (struct sockaddr *)&ss);
	sw_sa_unmap_v4(out, &a);
	return true;
}


/* The socket behind fd is still the connection the entry was made for */
static bool conn_valid(int fd, const struct conn *c)
{
	struct sw_sa a;

	return conn_name(fd, true, &a) && sw_sa_cmp(&a, &c->peer, true) &&
	       conn_name(fd, false, &a) && sw_sa_cmp(&a, &c->local, true);
}


static void conn_forget(struct sipua_conns *g, int *pp)
{
	struct conn *c = &g->c[*pp];

	if (c->pending)
		--g->n_pending;
	c->used = c->pending = false;
	*pp = c->next;
}


/* Unlink descriptor fd's entry from its chain */
static void conn_remove(struct sipua_conns *g, int fd)
{
	int *pp = &g->head[conn_bucket(&g->c[fd].peer)];

	while (*pp >= 0 && *pp != fd)
		pp = &g->c[*pp].next;
	if (*pp == fd)
		conn_forget(g, pp);
}


/* Open connections from peer's address; stale entries met are dropped */
static unsigned conn_count(struct sipua_conns *g, const struct sw_sa *peer)
{
	int *pp = &g->head[conn_bucket(peer)];
	unsigned n = 0;

	while (*pp >= 0) {
		struct conn *c = &g->c[*pp];

		if (!conn_valid(*pp, c)) {
			conn_forget(g, pp);
			continue;
		}
		n += sw_sa_cmp(&c->peer, peer, false);
		pp = &c->next;
	}
	return n;
}


static int conn_add(struct sipua_conns *g, int fd, const struct sw_sa *peer,
		    const struct sw_sa *local)
{
	struct conn *c;
	unsigned b;

	if (fd >= g->n_c) {
		int n = fd + 1 > 2 * g->n_c ? fd + 1 : 2 * g->n_c;
		struct conn *nc = realloc(g->c, (size_t)n * sizeof(*nc));

		if (!nc)
			return ENOMEM;
		memset(nc + g->n_c, 0, (size_t)(n - g->n_c) * sizeof(*nc));
		g->c = nc;
		g->n_c = n;
	}
	if (g->c[fd].used) /* Sofia closed it, the number came back */
		conn_remove(g, fd);
	c = &g->c[fd];
	b = conn_bucket(peer);
	c->peer = *peer;
	c->local = *local;
	c->since_ms = sipua_now_ms(false);
	c->used = c->pending = true;
	c->next = g->head[b];
	g->head[b] = fd;
	++g->n_pending;
	return 0;
}


static const char *lname(int lfd, char *buf, size_t sz)
{
	struct sw_sa a;

	return conn_name(lfd, false, &a) ? sw_sa_str(&a, buf, sz) : "?";
}


static int conn_accept(struct sipua_conns *g, int lfd, struct sockaddr *sa,
		       socklen_t *salen)
{
	const struct sw_conf *conf = g->ua->conf;
	char b1[SW_SA_STRLEN], b2[SW_SA_STRLEN];

	for (unsigned refused = 0; refused < CONN_REFUSE_MAX; ++refused) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		struct sw_sa peer, local, a;
		unsigned n;
		int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, 0);

		if (fd < 0 && sw_accept_exhausted(errno)) {
			int e = errno;

			n = sw_accept_shed(&g->reserve, lfd, SW_ACCEPT_SHED_MAX);
			g->st.shed += n;
			sw_log_limited(SW_LOG_WARN,
				       "[sip %s] out of descriptors (%s): %u "
				       "connections reset, %llu so far",
				       lname(lfd, b1, sizeof(b1)),
				       strerror(e), n,
				       (unsigned long long)g->st.shed);
			errno = EAGAIN;
			return -1;
		}
		if (fd < 0 && sw_accept_transient(errno))
			continue;
		if (fd < 0)
			return -1;
		sw_sa_from_sockaddr(&a, (struct sockaddr *)&ss);
		sw_sa_unmap_v4(&peer, &a);
		if (!conn_name(fd, false, &local)) {
			close(fd);
			continue;
		}
		if (conf->sip_tcp_max_per_source &&
		    (n = conn_count(g, &peer)) >= conf->sip_tcp_max_per_source) {
			struct linger lg = {1, 0};

			setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
			close(fd);
			++g->st.refused;
			sw_log_limited(SW_LOG_WARN,
				       "[sip %s] connection from %s reset: %u "
				       "open from that address (tcp_max_per_"
				       "source)", sw_sa_str(&local, b1, sizeof(b1)),
				       sw_sa_ntop(&peer, b2, sizeof(b2)), n);
			continue;
		}
		if (conn_add(g, fd, &peer, &local))
			sw_log_limited(SW_LOG_WARN, "[sip] connection from %s "
				       "not tracked: out of memory",
				       sw_sa_str(&peer, b2, sizeof(b2)));
		if (sa && salen) {
			memcpy(sa, &ss, sl < *salen ? sl : *salen);
			*salen = sl;
		}
		return fd;
	}
	errno = EAGAIN;
	return -1;
}


/**
 * accept(2) for libsofia-sip-ua (see the file comment): the guard on the
 * SIP thread, plain accept() anywhere else
 */
int accept(int lfd, struct sockaddr *sa, socklen_t *salen)
{
	struct sipua_conns *g = conn_guard;

	if (!g || !pthread_equal(pthread_self(), g->thread))
		return accept4(lfd, sa, salen, 0);
	return conn_accept(g, lfd, sa, salen);
}


/**
 * A request arrived (every nua request event): the connection it came on
 * has completed a message and is no longer pending
 */
void sipua_conn_request(struct sipua_ep *ep)
{
	struct sipua_conns *g = ep->ua->conns;
	msg_t *msg;
	su_addrinfo_t *ai;
	struct sw_sa a, peer;

	if (!g || !g->n_pending)
		return;
	msg = nua_current_request(ep->nua);
	ai = msg ? msg_addrinfo(msg) : NULL;
	if (!ai || !ai->ai_addr)
		return;
	sw_sa_from_sockaddr(&a, ai->ai_addr);
	sw_sa_unmap_v4(&peer, &a);
	for (int fd = g->head[conn_bucket(&peer)]; fd >= 0;
	     fd = g->c[fd].next) {
		struct conn *c = &g->c[fd];

		if (c->pending && sw_sa_cmp(&c->peer, &peer, true)) {
			c->pending = false;
			--g->n_pending;
			return;
		}
	}
}


/**
 * The accepted connection from peer (address and port), checked to be
 * still that connection (the SIP capture's local end of it, found in
 * O(1) instead of among every descriptor of the process)
 *
 * @return its descriptor with *local set, or -1 if none is known
 */
int sipua_conn_find(struct sipua *ua, const struct sw_sa *peer,
		    struct sw_sa *local)
{
	struct sipua_conns *g = ua ? ua->conns : NULL;

	if (!g)
		return -1;
	/* the newest first: a chain is pushed at its head */
	for (int fd = g->head[conn_bucket(peer)]; fd >= 0; fd = g->c[fd].next) {
		struct conn *c = &g->c[fd];

		if (!sw_sa_cmp(&c->peer, peer, true))
			continue;
		if (!conn_valid(fd, c))
			return -1;
		*local = c->local;
		return fd;
	}
	return -1;
}


/* Every second: pending connections past tcp_message_timeout end */
static void conn_sweep(struct sipua *ua, su_timer_t *t, void *arg)
{
	struct sipua_conns *g = arg;
	int64_t now = sipua_now_ms(false);
	int64_t limit = (int64_t)ua->conf->sip_tcp_message_timeout * 1000;
	char b1[SW_SA_STRLEN], b2[SW_SA_STRLEN];

	(void)t;
	for (int fd = 0; fd < g->n_c && g->n_pending; ++fd) {
		struct conn *c = &g->c[fd];

		if (!c->used || !c->pending || now - c->since_ms < limit)
			continue;
		if (conn_valid(fd, c)) {
			shutdown(fd, SHUT_RDWR);
			++g->st.closed;
			sw_log_limited(SW_LOG_NOTICE,
				       "[sip %s] connection from %s closed: "
				       "no request within %u s "
				       "(tcp_message_timeout)",
				       sw_sa_str(&c->local, b1, sizeof(b1)),
				       sw_sa_str(&c->peer, b2, sizeof(b2)),
				       ua->conf->sip_tcp_message_timeout);
		}
		conn_remove(g, fd);
	}
}


/**
 * Guard the SIP thread's accept()s from now on (one stack per process)
 *
 * @return 0, EBUSY if another stack is guarded, or ENOMEM
 */
int sipua_conn_start(struct sipua *ua)
{
	struct sipua_conns *g;

	if (conn_guard)
		return EBUSY;
	g = calloc(1, sizeof(*g));
	if (!g)
		return ENOMEM;
	g->ua = ua;
	g->thread = pthread_self();
	for (unsigned i = 0; i < CONN_BUCKETS; ++i)
		g->head[i] = -1;
	g->timer = su_timer_create(su_root_task(ua->root), CONN_SWEEP_MS);
	if (!g->timer || su_timer_set_for_ever(g->timer, conn_sweep, g)) {
		if (g->timer)
			su_timer_destroy(g->timer);
		free(g);
		return ENOMEM;
	}
	if (sw_accept_reserve_open(&g->reserve))
		sw_warn("[sip] no reserve descriptor: %s", strerror(errno));
	ua->conns = g;
	conn_guard = g;
	return 0;
}


void sipua_conn_stop(struct sipua *ua)
{
	struct sipua_conns *g = ua ? ua->conns : NULL;

	if (!g)
		return;
	conn_guard = NULL;
	su_timer_destroy(g->timer);
	sw_accept_reserve_close(&g->reserve);
	free(g->c);
	free(g);
	ua->conns = NULL;
}


/** Counters of the connection guard (zero without one) */
void sipua_conn_stats(const struct sipua *ua, struct sipua_conn_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (ua && ua->conns) {
		*st = ua->conns->st;
		st->pending = ua->conns->n_pending;
	}
}
