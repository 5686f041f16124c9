/**
 * @file turn_srv.c  The TURN server object of one relay thread: its
 * clock, counters and ids, the timer heap, the tables of allocations
 * (by 5-tuple) and connections (by CONNECTION-ID), and the peer policy.
 * The allocation and connection state machine is in turn_alloc.c.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SW_LOG_MODULE "turn"
#include "sw_log.h"
#include "turn_alloc.h"
#include "turn_srv_int.h"

/* --- clock, counters, ids ------------------------------------------------ */

void turn_srv_set_clock(struct turn_srv *srv, uint64_t now_ms, int64_t wall_s)
{
	srv->now = now_ms;
	srv->wall = wall_s;
}


uint64_t turn_srv_now(const struct turn_srv *srv)
{
	return srv->now;
}


struct turn_counters *turn_srv_counters(struct turn_srv *srv)
{
	return &srv->cnt;
}


/* A field added to struct turn_counters outside TURN_COUNTERS would be
 * neither copied nor summed */
#define CNT_ONE(f) +1
_Static_assert(sizeof(struct turn_counters) ==
		       (0 TURN_COUNTERS(CNT_ONE)) * sizeof(uint64_t),
	       "every counter is a uint64_t listed in TURN_COUNTERS");
#undef CNT_ONE


/** Copy counters written by another thread (relaxed loads, no tearing) */
void turn_counters_snapshot(const struct turn_counters *c,
			    struct turn_counters *out)
{
#define CNT_LOAD(f) out->f = __atomic_load_n(&c->f, __ATOMIC_RELAXED);
	TURN_COUNTERS(CNT_LOAD)
#undef CNT_LOAD
}


/** Add one thread's counters (a snapshot) to a sum */
void turn_counters_add(struct turn_counters *sum,
		       const struct turn_counters *c)
{
#define CNT_ADD(f) sum->f += c->f;
	TURN_COUNTERS(CNT_ADD)
#undef CNT_ADD
}


/** The relay thread that owns an allocation or connection id */
unsigned turn_srv_thread(uint32_t id)
{
	return id >> ID_BITS;
}


/* Ids carry the owner thread so a ConnectionBind that lands on another
 * thread's listener can be handed over. Uniqueness within the thread;
 * guessing one is useless without the allocation's credentials. */
uint32_t turn_srv_new_id(struct turn_srv *srv)
{
	srv->seq = (srv->seq + 1) & ((1u << ID_BITS) - 1);
	if (!srv->seq)
		srv->seq = 1;
	return (uint32_t)srv->cfg.thread_idx << ID_BITS | srv->seq;
}


uint64_t turn_srv_rnd64(struct turn_srv *srv)
{
	uint64_t x = srv->rnd;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return srv->rnd = x;
}


/* --- timers: binary min-heap of armed timers ----------------------------- */

static void heap_set(struct turn_srv *srv, size_t i, struct turn_timer *t)
{
	srv->heap[i] = t;
	t->slot = i + 1;
}


static void heap_up(struct turn_srv *srv, size_t i)
{
	struct turn_timer *t = srv->heap[i];

	while (i > 0 && srv->heap[(i - 1) / 2]->due > t->due) {
		heap_set(srv, i, srv->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_set(srv, i, t);
}


static void heap_down(struct turn_srv *srv, size_t i)
{
	struct turn_timer *t = srv->heap[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= srv->heap_n)
			break;
		if (c + 1 < srv->heap_n &&
		    srv->heap[c + 1]->due < srv->heap[c]->due)
			++c;
		if (srv->heap[c]->due >= t->due)
			break;
		heap_set(srv, i, srv->heap[c]);
		i = c;
	}
	heap_set(srv, i, t);
}


/** Disarm t (no-op if not armed) */
void turn_timer_cancel(struct turn_srv *srv, struct turn_timer *t)
{
	struct turn_timer *last;
	size_t i;

	if (!t->slot)
		return;
	i = t->slot - 1;
	t->slot = 0;
	if (--srv->heap_n == i)
		return;
	last = srv->heap[srv->heap_n];
	heap_set(srv, i, last);
	heap_up(srv, i);
	heap_down(srv, last->slot - 1);
}


static int heap_reserve(struct turn_srv *srv)
{
	struct turn_timer **h;
	size_t cap;

	if (srv->heap_n < srv->heap_cap)
		return 0;
	cap = srv->heap_cap ? srv->heap_cap * 2 : 256;
	h = realloc(srv->heap, cap * sizeof(*h));
	if (!h)
		return ENOMEM;
	srv->heap = h;
	srv->heap_cap = cap;
	return 0;
}


/**
 * (Re)arm t to fire delay_ms from the current clock
 *
 * Timers never fail once armed: heap room is reserved here, so callers
 * check this one return value at object creation.
 */
void turn_timer_start(struct turn_srv *srv, struct turn_timer *t,
		      uint64_t delay_ms, turn_timer_h *h, void *arg)
{
	turn_timer_cancel(srv, t);
	t->due = srv->now + delay_ms;
	t->h = h;
	t->arg = arg;
	if (heap_reserve(srv)) {
		sw_error("[timer] out of memory: timer not armed");
		return;
	}
	heap_set(srv, srv->heap_n++, t);
	heap_up(srv, srv->heap_n - 1);
}


/** ms until the next timer is due: 0 if overdue, -1 if none */
int turn_srv_next_timeout(const struct turn_srv *srv)
{
	uint64_t due;

	if (!srv->heap_n)
		return -1;
	due = srv->heap[0]->due;
	if (due <= srv->now)
		return 0;
	return due - srv->now > INT_MAX ? INT_MAX : (int)(due - srv->now);
}


/** Fire every timer due at the current clock */
void turn_srv_run_timers(struct turn_srv *srv)
{
	while (srv->heap_n && srv->heap[0]->due <= srv->now) {
		struct turn_timer *t = srv->heap[0];

		turn_timer_cancel(srv, t);
		t->h(t, t->arg);
	}
}


/* --- lookups -------------------------------------------------------------- */

unsigned turn_srv_hash_src(const struct turn_src *src)
{
	return sw_sa_hash(&src->client, 2166136261u ^ src->tport ^
					    ((unsigned)src->tp << 24),
			  true) % HASH_SIZE;
}


static bool src_eq(const struct turn_src *a, const struct turn_src *b)
{
	return a->tp == b->tp && a->tport == b->tport &&
	       sw_sa_cmp(&a->client, &b->client, true);
}


/** The allocation of a 5-tuple, or NULL */
struct turn_alloc *turn_srv_find(struct turn_srv *srv,
				 const struct turn_src *src)
{
	struct turn_alloc *al = srv->atab[turn_srv_hash_src(src)];

	while (al && !src_eq(&al->src, src))
		al = al->hnext;
	return al;
}


/** The allocation with this id (control plane: a list walk) */
struct turn_alloc *turn_srv_find_id(struct turn_srv *srv, uint32_t id)
{
	struct turn_alloc *al = srv->allocs;

	while (al && al->id != id)
		al = al->next;
	return al;
}


/** The allocation whose relayed or advertised address is addr (control
 * plane: a list walk) */
struct turn_alloc *turn_srv_find_relayed(struct turn_srv *srv,
					 const struct sw_sa *addr)
{
	struct turn_alloc *al = srv->allocs;

	while (al && !sw_sa_cmp(&al->relayed, addr, true) &&
	       !sw_sa_cmp(&al->advertised, addr, true))
		al = al->next;
	return al;
}


/** The RFC 6062 connection with this CONNECTION-ID, or NULL */
struct turn_conn *turn_srv_find_conn(struct turn_srv *srv, uint32_t id)
{
	struct turn_conn *tc = srv->ctab[id % HASH_SIZE];

	while (tc && tc->id != id)
		tc = tc->hnext;
	return tc;
}


/* --- peer policy ------------------------------------------------------------ */

static bool same_ip(const struct sw_sa *a, const struct sw_sa *b)
{
	return sw_sa_isset(b) && sw_sa_cmp(a, b, false);
}


/* One of the addresses the configuration gives the gateway itself */
static bool conf_ip(const struct turn_srv *srv, const struct sw_sa *ip)
{
	const struct sw_conf *c = srv->conf;

	if (same_ip(ip, &c->turn_relay_ip) || same_ip(ip, &c->turn_relay_ip6) ||
	    same_ip(ip, &c->turn_external_ip) || same_ip(ip, &c->as_inside_ip))
		return true;
	for (unsigned i = 0; i < c->n_turn_listen; ++i)
		if (same_ip(ip, &c->turn_listen[i].addr))
			return true;
	return false;
}


static bool cidr_any(const struct sw_cidr *v, unsigned n,
		     const struct sw_sa *a)
{
	for (unsigned i = 0; i < n; ++i)
		if (sw_cidr_match(&v[i], a))
			return true;
	return false;
}


static void v4_at(struct sw_sa *out, const struct sw_sa *in,
		  const uint8_t *b, uint8_t flip)
{
	uint8_t *ip = (uint8_t *)&out->u.in.sin_addr;

	memset(out, 0, sizeof(*out));
	out->u.in.sin_family = AF_INET;
	out->u.in.sin_port = in->u.in6.sin6_port;
	for (int i = 0; i < 4; ++i)
		ip[i] = b[i] ^ flip;
}


/* The IPv4 addresses an IPv6 peer address carries, which its traffic
 * would reach: IPv4-mapped ::ffff:a.b.c.d and IPv4-compatible ::a.b.c.d
 * (RFC 4291 2.5.5; not :: nor ::1, which are IPv6's own), 6to4
 * 2002:AABB:CCDD::/48 (RFC 3056 2), Teredo 2001:0::/32 with its server
 * and its client, whose address is inverted (RFC 4380 4), NAT64
 * 64:ff9b::/96 (RFC 6052 2.1). The port is kept. */
static unsigned embedded_v4(const struct sw_sa *a, struct sw_sa out[2])
{
	static const uint8_t zero[12], mapped[12] = {[10] = 0xff, 0xff};
	static const uint8_t nat64[12] = {0x00, 0x64, 0xff, 0x9b};
	const uint8_t *b = a->u.in6.sin6_addr.s6_addr;

	if (sw_sa_af(a) != AF_INET6)
		return 0;
	if ((!memcmp(b, zero, 12) && (b[12] | b[13] | b[14] || b[15] > 1)) ||
	    !memcmp(b, mapped, 12) || !memcmp(b, nat64, 12)) {
		v4_at(&out[0], a, b + 12, 0);
		return 1;
	}
	if (b[0] == 0x20 && b[1] == 0x02) {
		v4_at(&out[0], a, b + 2, 0);
		return 1;
	}
	if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0 && b[3] == 0) {
		v4_at(&out[0], a, b + 4, 0);
		v4_at(&out[1], a, b + 12, 0xff);
		return 2;
	}
	return 0;
}


/* The peer and every IPv4 address it carries: at most 3 forms */
static unsigned peer_forms(const struct sw_sa *peer, struct sw_sa f[3])
{
	f[0] = *peer;
	return 1 + embedded_v4(peer, f + 1);
}


/* One form: allow_peer wins, then the built-in ranges, deny_peer and the
 * configured addresses of the gateway refuse */
static bool form_denied(const struct turn_srv *srv, const struct sw_sa *f)
{
	const struct sw_conf *c = srv->conf;

	if (cidr_any(c->turn_allow, c->n_turn_allow, f))
		return false;
	return cidr_any(srv->deny_def, srv->n_deny_def, f) ||
	       cidr_any(c->turn_deny, c->n_turn_deny, f) || conf_ip(srv, f);
}


/**
 * May the relay talk to this peer IP (a permission)? Each form of the
 * address is checked on its own: the address, and the IPv4 address an
 * IPv6 one carries (mapped, compatible, 6to4, Teredo, NAT64) against
 * the IPv4 rules. A form passes if allow_peer covers it; else the
 * built-in ranges (RFC 8656 21.3 style: this-host, loopback, link-local,
 * multicast, broadcast, unspecified), deny_peer and the gateway's own
 * configured addresses refuse it. Any refused form refuses the peer.
 *
 * @return 0 or EPERM
 */
int turn_srv_check_peer(const struct turn_srv *srv, const struct sw_sa *peer)
{
	struct sw_sa f[3];
	unsigned n = peer_forms(peer, f);

	for (unsigned i = 0; i < n; ++i)
		if (form_denied(srv, &f[i]))
			return EPERM;
	return 0;
}


/* An address of this host: configured, a local interface's (at start),
 * or loopback (what a wildcard listener answers on) */
static bool host_ip(const struct turn_srv *srv, const struct sw_sa *ip)
{
	if (conf_ip(srv, ip) || cidr_any(srv->loopback, 2, ip))
		return true;
	for (unsigned i = 0; i < srv->cfg.n_host_ips; ++i)
		if (sw_sa_cmp(ip, &srv->cfg.host_ips[i], false))
			return true;
	return false;
}


/* Does a listener of this list take a (IP and port)? */
static bool listen_hit(const struct turn_srv *srv, const struct sw_listen *ls,
		       unsigned n, const struct sw_sa *a)
{
	for (unsigned i = 0; i < n; ++i) {
		if (sw_sa_port(&ls[i].addr) != sw_sa_port(a))
			continue;
		if (sw_sa_is_any(&ls[i].addr) ? host_ip(srv, a)
		    : same_ip(a, &ls[i].addr) ||
			      same_ip(a, &srv->conf->turn_external_ip))
			return true;
	}
	return false;
}


/* One of the gateway's own transport addresses: a TURN or SIP listener,
 * a relayed or inside address (the relay port range on the relay,
 * external or inside address) */
static bool own_transport(const struct turn_srv *srv, const struct sw_sa *a)
{
	const struct sw_conf *c = srv->conf;
	uint16_t port = sw_sa_port(a);

	if (port >= c->turn_port_min && port <= c->turn_port_max &&
	    (same_ip(a, &c->turn_relay_ip) || same_ip(a, &c->turn_relay_ip6) ||
	     same_ip(a, &c->turn_external_ip) || same_ip(a, &c->as_inside_ip)))
		return true;
	if (listen_hit(srv, c->turn_listen, c->n_turn_listen, a) ||
	    listen_hit(srv, c->sip_listen, c->n_sip_listen, a))
		return true;
	for (unsigned z = 0; z < c->n_zones; ++z)
		if (listen_hit(srv, c->zones[z].listen, c->zones[z].n_listen,
			       a))
			return true;
	return false;
}


/**
 * May the relay send to, or connect to, this peer transport address? The
 * IP as turn_srv_check_peer(); then, whatever allow_peer says, none of
 * its forms may be one of the gateway's own transport addresses (a relay
 * looped onto the gateway: its TURN or SIP listeners, another allocation,
 * an inside listener) unless [turn] allow_own_addresses.
 *
 * @return 0 or EPERM
 */
int turn_srv_check_peer_addr(const struct turn_srv *srv,
			     const struct sw_sa *peer)
{
	struct sw_sa f[3];
	unsigned n;

	if (turn_srv_check_peer(srv, peer))
		return EPERM;
	if (srv->conf->turn_allow_own)
		return 0;
	n = peer_forms(peer, f);
	for (unsigned i = 0; i < n; ++i)
		if (own_transport(srv, &f[i]))
			return EPERM;
	return 0;
}


void turn_srv_alloc_hash(struct turn_srv *srv, struct turn_alloc *al)
{
	unsigned h = turn_srv_hash_src(&al->src);

	al->hnext = srv->atab[h];
	srv->atab[h] = al;
}


void turn_srv_alloc_unhash(struct turn_srv *srv, struct turn_alloc *al)
{
	struct turn_alloc **pp = &srv->atab[turn_srv_hash_src(&al->src)];

	while (*pp && *pp != al)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = al->hnext;
}


void turn_srv_conn_hash(struct turn_srv *srv, struct turn_conn *tc)
{
	unsigned h = tc->id % HASH_SIZE;

	tc->hnext = srv->ctab[h];
	srv->ctab[h] = tc;
}


void turn_srv_conn_unhash(struct turn_srv *srv, struct turn_conn *tc)
{
	struct turn_conn **pp = &srv->ctab[tc->id % HASH_SIZE];

	while (*pp && *pp != tc)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = tc->hnext;
}


/* --- the server ------------------------------------------------------------------- */

static const char *const deny_default[] = {
	"0.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "224.0.0.0/4",
	"255.255.255.255/32", "::/128", "::1/128", "fe80::/10", "ff00::/8",
};


/**
 * Create the core of one relay thread
 */
int turn_srv_alloc(struct turn_srv **srvp, const struct turn_srv_cfg *cfg)
{
	struct turn_srv *srv;

	if (!srvp || !cfg || !cfg->conf || !cfg->ops || cfg->thread_idx > 63)
		return EINVAL;
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return ENOMEM;
	srv->cfg = *cfg;
	srv->conf = cfg->conf;
	memcpy(&srv->rnd, cfg->nonce_key, sizeof(srv->rnd));
	srv->rnd |= 1;
	for (size_t i = 0; i < sizeof(deny_default) / sizeof(*deny_default);
	     ++i)
		if (!sw_cidr_parse(&srv->deny_def[srv->n_deny_def],
				   deny_default[i]))
			++srv->n_deny_def;
	sw_cidr_parse(&srv->loopback[0], "127.0.0.0/8");
	sw_cidr_parse(&srv->loopback[1], "::1/128");
	*srvp = srv;
	return 0;
}


/** Delete every allocation (closing everything) and free the core */
void turn_srv_set_redirect(struct turn_srv *srv,
			   const struct turn_redirect *rd)
{
	srv->redirect = *rd;
	srv->redirect.domain[sizeof(srv->redirect.domain) - 1] = '\0';
}


void turn_srv_free(struct turn_srv *srv)
{
	if (!srv)
		return;
	while (srv->allocs)
		turn_alloc_delete(srv, srv->allocs, "server stopping");
	turn_resv_clear(srv);
	free(srv->heap);
	free(srv);
}
