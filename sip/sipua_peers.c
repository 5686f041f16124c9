/**
 * @file sipua_peers.c  A zone's peer list: health by OPTIONS, the choice
 * of a peer for a new call, and what a call's answer says of its peer.
 *
 * A zone with peer lines ([zone] peer, instead of one target) is served
 * like an Expressway zone with several peer addresses or a Kamailio
 * dispatcher set. This table, on the SIP thread, holds one row per peer
 * of the zones of the plan in force (rebuilt at start and at each reload,
 * keeping the state of the peers still listed) and:
 *  - probes each peer with OPTIONS every probe_interval seconds through
 *    the zone's Sofia stack, to the peer's numeric next hop (sipua_hop.c:
 *    its URI's IP, or the address the resolver thread keeps for its
 *    name), never waiting: a probe without a final answer within
 *    probe_timeout is dropped (its handle destroyed, so nta stops its
 *    retransmissions) and counts as no answer;
 *  - chooses the peer of a new call among those up: lowest priority
 *    first, then by weight within that priority (RFC 2782's order), with
 *    nginx's smooth weighted round robin, which spreads calls in the
 *    weights' proportions and is deterministic;
 *  - takes what a call's INVITE got from its peer, so that a call
 *    failing over marks the peer down at once instead of at the next
 *    probe.
 *
 * The rule for an answer (a probe's or a call's), written once in
 * peer_answer():
 *  - down: no answer (probe_timeout, Timer B, the zone's invite_timeout
 *    with not even a 100), a transport error (a response the stack made
 *    up itself: connection refused, ICMP unreachable), 408, or 503. A
 *    503's Retry-After keeps the peer down, unprobed and unused, that
 *    long (RFC 3261 21.5.4: no other request to that server for that
 *    time; clamped to 1 h);
 *  - up: any other final response the peer itself sent. RFC 3261 11.2
 *    has a UAS answer OPTIONS as it would an INVITE, so a 404 (no such
 *    user), 403 or 405 still comes from a SIP server that reads
 *    requests and answers them. Kamailio's dispatcher counts only 2xx
 *    unless ds_ping_reply_codes widens it, which operators do for just
 *    such servers; Expressway counts any response. A peer that is alive
 *    but refuses a call (486, 404...) is the caller's answer, not a
 *    reason to try another peer.
 * One probe answered is enough to come back up and one failure to go
 * down (Kamailio's ds_probing_threshold and ds_inactive_threshold
 * defaults, 1).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SW_LOG_MODULE "sip"
#include "sw_log.h"
#include "sipua_int.h"

#include <sofia-sip/su_string.h>

#define PEERS_TICK_MS 250
#define PEERS_HOLD_MAX_S 3600 /* longest Retry-After honoured */
/* NTA_INTERNAL_MSG of nta_internal.h (as in sipua_call.c) */
#define PEERS_NTA_INTERNAL_MSG (1 << 15)

struct sipua_peer {
	char zone[64];
	struct sw_zone_peer cf;
	enum sw_transport tp;
	uint32_t interval_s, timeout_s;
	bool up;
	int64_t down_since_us;  /* CLOCK_REALTIME; 0 while up */
	int64_t hold_until_ms;  /* CLOCK_MONOTONIC: a Retry-After */
	int64_t hold_until_us;  /* the same, CLOCK_REALTIME, for status */
	int64_t last_probe_us, last_answer_us;
	int last_status;        /* of the last answer (probe or call) */
	char last_phrase[64];
	char why[160];          /* why it is down */
	int64_t next_probe_ms;  /* CLOCK_MONOTONIC */
	nua_handle_t *probe;    /* in flight, or NULL */
	int64_t probe_sent_ms;
	int64_t cw;             /* smooth weighted round robin */
	uint64_t probes, probes_failed, calls, failovers;
};

struct sipua_peers {
	struct sipua_peer *v;
	unsigned n;
	su_timer_t *timer;
};


static struct sipua_peer *peer_find(struct sipua_peers *t, const char *zone,
				    const char *uri)
{
	for (unsigned i = 0; t && i < t->n; ++i)
		if (!strcmp(t->v[i].zone, zone) &&
		    !strcmp(t->v[i].cf.uri, uri))
			return &t->v[i];
	return NULL;
}


static void probe_drop(struct sipua_peer *p)
{
	if (!p->probe)
		return;
	nua_handle_destroy(p->probe);
	p->probe = NULL;
}


static void set_down(struct sipua_peer *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));


static void set_down(struct sipua_peer *p, const char *fmt, ...)
{
	va_list ap;
	bool was_up = p->up;

	va_start(ap, fmt);
	vsnprintf(p->why, sizeof(p->why), fmt, ap);
	va_end(ap);
	if (!was_up)
		return;
	p->up = false;
	p->down_since_us = sipua_now_ms(true) * 1000;
	sw_warn("zone %s peer %s down: %s", p->zone, p->cf.uri, p->why);
}


static void set_up(struct sipua_peer *p)
{
	if (p->up)
		return;
	p->up = true;
	p->down_since_us = 0;
	p->why[0] = '\0';
	sw_notice("zone %s peer %s up (%d %s)", p->zone, p->cf.uri,
		  p->last_status, p->last_phrase);
}


/*
 * What an answer says of its peer (the rule at the top of this file):
 * true if the peer is down. sip is the response, NULL when none came.
 */
static bool peer_answer(struct sipua_peer *p, int status, const char *phrase,
			const sip_t *sip, const char *what)
{
	bool made_up = !sip || (sip->sip_flags & PEERS_NTA_INTERNAL_MSG);
	int64_t now = sipua_now_ms(false);
	unsigned ra;

	p->last_status = status;
	snprintf(p->last_phrase, sizeof(p->last_phrase), "%s",
		 phrase ? phrase : "");
	if (!made_up)
		p->last_answer_us = sipua_now_ms(true) * 1000;
	if (made_up && status < 300)
		return false;
	if (made_up) {
		set_down(p, "%s: no answer (%d %s from the SIP stack: timeout "
			 "or transport error)", what, status, p->last_phrase);
		return true;
	}
	if (status != 408 && status != 503) {
		set_up(p);
		return false;
	}
	if (status == 503 && sip->sip_retry_after) {
		ra = (unsigned)sip->sip_retry_after->af_delta;
		if (ra > PEERS_HOLD_MAX_S)
			ra = PEERS_HOLD_MAX_S;
		p->hold_until_ms = now + 1000 * (int64_t)ra;
		p->hold_until_us = sipua_now_ms(true) * 1000 +
				   1000000 * (int64_t)ra;
		p->next_probe_ms = p->hold_until_ms;
		set_down(p, "%s: %d %s, Retry-After %u s", what, status,
			 p->last_phrase, ra);
		return true;
	}
	set_down(p, "%s: %d %s", what, status, p->last_phrase);
	return true;
}


/* Send one OPTIONS to a peer of a zone of the plan in force */
static void probe_send(struct sipua *ua, struct sipua_peer *p, int64_t now)
{
	const struct sw_zone *z = sipua_zone_find(ua, ua->plan, p->zone);
	su_home_t home[1] = {SU_HOME_INIT(home)};
	struct sipua_ep *ep;
	char *hop;

	p->next_probe_ms = now + 1000 * (int64_t)p->interval_s;
	if (!z || ua->stopping || ua->eps_stopping)
		return;
	p->last_probe_us = sipua_now_ms(true) * 1000;
	++p->probes;
	hop = sipua_names_hop(ua, home, p->cf.uri, p->tp);
	ep = sipua_ep_for_zone(ua, z);
	if (!hop || !ep || !ep->nua) {
		++p->probes_failed;
		set_down(p, "probe: %s", hop ? "no SIP stack for the zone"
					     : "its name has no address (yet)");
		su_home_deinit(home);
		return;
	}
	p->probe = nua_handle(ep->nua, NULL, NUTAG_URL(p->cf.uri),
			      SIPTAG_TO_STR(p->cf.uri), TAG_END());
	if (p->probe) {
		/* the next hop goes with the request (as for leg B) */
		nua_set_hparams(p->probe, NUTAG_PROXY(hop), TAG_END());
		nua_options(p->probe, NUTAG_PROXY(hop), TAG_END());
		p->probe_sent_ms = now;
	}
	su_home_deinit(home);
}


static void peers_tick(struct sipua *ua, su_timer_t *t, void *arg)
{
	struct sipua_peers *tab = ua->peers;
	int64_t now = sipua_now_ms(false);

	(void)t;
	(void)arg;
	for (unsigned i = 0; tab && i < tab->n; ++i) {
		struct sipua_peer *p = &tab->v[i];

		if (p->probe &&
		    now - p->probe_sent_ms >= 1000 * (int64_t)p->timeout_s) {
			probe_drop(p);
			++p->probes_failed;
			p->last_status = 408;
			snprintf(p->last_phrase, sizeof(p->last_phrase),
				 "no answer");
			set_down(p, "probe: no final answer within "
				 "probe_timeout %u s", p->timeout_s);
		}
		if (!p->probe && now >= p->next_probe_ms &&
		    now >= p->hold_until_ms)
			probe_send(ua, p, now);
	}
}


/**
 * The final answer to a probe (nua_r_options on a handle of no call):
 * true if nh was a probe of this table
 */
bool sipua_peers_response(struct sipua *ua, nua_handle_t *nh, int status,
			  const char *phrase, const sip_t *sip)
{
	struct sipua_peers *tab = ua->peers;

	for (unsigned i = 0; tab && nh && i < tab->n; ++i) {
		struct sipua_peer *p = &tab->v[i];

		if (p->probe != nh)
			continue;
		if (status < 200)
			return true;
		probe_drop(p);
		if (peer_answer(p, status, phrase, sip, "probe"))
			++p->probes_failed;
		return true;
	}
	return false;
}


/**
 * Rebuild the table from the zones of the plan in force (start, reload):
 * peers still listed keep their state, probes of peers gone are dropped.
 * Probing starts at once for new peers. 0 or ENOMEM (the old table
 * stays).
 */
int sipua_peers_sync(struct sipua *ua)
{
	unsigned nz, n = 0, cap = 0;
	const struct sw_zone *zones = sipua_zones(ua, ua->plan, &nz);
	struct sipua_peers *t = ua->peers;
	struct sipua_peer *v;
	int64_t now = sipua_now_ms(false);

	for (unsigned i = 0; i < nz; ++i)
		cap += zones[i].n_peers;
	if (!t && !cap)
		return 0;
	if (!t) {
		t = ua->peers = su_zalloc(ua->home, sizeof(*t));
		if (!t)
			return ENOMEM;
	}
	v = cap ? calloc(cap, sizeof(*v)) : NULL;
	if (cap && !v)
		return ENOMEM;
	for (unsigned i = 0; i < nz; ++i) {
		const struct sw_zone *z = &zones[i];

		for (unsigned j = 0; j < z->n_peers; ++j) {
			struct sipua_peer *p = &v[n++];
			struct sipua_peer *old = peer_find(t, z->name,
							   z->peers[j].uri);

			if (old) {
				*p = *old;
				old->probe = NULL; /* moved */
			} else {
				snprintf(p->zone, sizeof(p->zone), "%s",
					 z->name);
				p->up = true; /* until an answer says not */
				p->next_probe_ms = now;
			}
			p->cf = z->peers[j];
			p->tp = z->transport;
			if (p->interval_s && p->interval_s != z->probe_interval)
				p->next_probe_ms = now; /* a new rhythm */
			p->interval_s = z->probe_interval;
			p->timeout_s = z->probe_timeout;
		}
	}
	for (unsigned i = 0; i < t->n; ++i)
		probe_drop(&t->v[i]);
	free(t->v);
	t->v = v;
	t->n = n;
	if (n && !t->timer) {
		t->timer = su_timer_create(su_root_task(ua->root),
					   PEERS_TICK_MS);
		if (!t->timer || su_timer_run(t->timer, peers_tick, NULL))
			sw_error("[sip] zone peers will not be probed: no "
				 "timer");
	}
	return 0;
}


/** Stop probing (shutdown): probes in flight are dropped */
void sipua_peers_stop(struct sipua *ua)
{
	struct sipua_peers *t = ua->peers;

	if (!t)
		return;
	if (t->timer)
		su_timer_destroy(t->timer);
	t->timer = NULL;
	for (unsigned i = 0; i < t->n; ++i)
		probe_drop(&t->v[i]);
	free(t->v);
	t->v = NULL;
	t->n = 0;
}


/* A peer may take a call: up, and no Retry-After in force */
static bool peer_usable(const struct sipua_peer *p, int64_t now)
{
	return !p || (p->up && now >= p->hold_until_ms);
}


/**
 * The peer of zone z (of the call's plan) a new call, or one failing
 * over, goes to: among the peers not in tried (a bit per index of
 * z->peers) and up, the lowest priority, then smooth weighted round
 * robin by weight. -1 when none is left.
 */
int sipua_peers_pick(struct sipua *ua, const struct sw_zone *z,
		     unsigned tried)
{
	int64_t now = sipua_now_ms(false), total = 0;
	struct sipua_peer *st[SW_ZONE_MAX_PEERS];
	uint32_t prio = UINT32_MAX;
	int best = -1;

	for (unsigned i = 0; i < z->n_peers; ++i) {
		st[i] = peer_find(ua->peers, z->name, z->peers[i].uri);
		if (!(tried & (1u << i)) && peer_usable(st[i], now) &&
		    z->peers[i].priority < prio)
			prio = z->peers[i].priority;
	}
	for (unsigned i = 0; i < z->n_peers; ++i) {
		if ((tried & (1u << i)) || !peer_usable(st[i], now) ||
		    z->peers[i].priority != prio)
			continue;
		total += z->peers[i].weight;
		if (!st[i]) { /* gone with a reload since the call began */
			if (best < 0)
				best = (int)i;
			continue;
		}
		st[i]->cw += z->peers[i].weight;
		if (best < 0 || !st[best] || st[i]->cw > st[best]->cw)
			best = (int)i;
	}
	if (best >= 0 && st[best]) {
		st[best]->cw -= total;
		++st[best]->calls;
	}
	return best;
}


/**
 * A call's INVITE to peer i of zone z got a final answer (sip NULL: none
 * came, the zone's invite_timeout ran out without even a 100): true if
 * the call should move to another peer (the peer is down: 408, 503, a
 * transport error, no answer).
 */
bool sipua_peers_call_result(struct sipua *ua, const struct sw_zone *z,
			     unsigned i, int status, const char *phrase,
			     const sip_t *sip)
{
	struct sipua_peer *p = i < z->n_peers
				       ? peer_find(ua->peers, z->name,
						   z->peers[i].uri)
				       : NULL;
	struct sipua_peer tmp;

	if (!p) { /* gone with a reload: judge the answer all the same */
		memset(&tmp, 0, sizeof(tmp));
		p = &tmp;
	}
	if (!peer_answer(p, status, phrase, sip, "call"))
		return false;
	++p->failovers;
	return true;
}


/** The state of every peer of the zones in force (at most max) */
unsigned sipua_peers_info(const struct sipua *ua, struct sipua_peer_info *out,
			  unsigned max)
{
	const struct sipua_peers *t = ua ? ua->peers : NULL;
	unsigned n = 0;

	for (unsigned i = 0; t && i < t->n && n < max; ++i, ++n) {
		const struct sipua_peer *p = &t->v[i];
		struct sipua_peer_info *o = &out[n];

		memset(o, 0, sizeof(*o));
		snprintf(o->zone, sizeof(o->zone), "%s", p->zone);
		snprintf(o->uri, sizeof(o->uri), "%s", p->cf.uri);
		o->priority = p->cf.priority;
		o->weight = p->cf.weight;
		o->up = p->up;
		o->down_since_us = p->down_since_us;
		o->hold_until_us = p->hold_until_ms > sipua_now_ms(false)
					   ? p->hold_until_us
					   : 0;
		o->last_probe_us = p->last_probe_us;
		o->last_answer_us = p->last_answer_us;
		o->last_status = p->last_status;
		snprintf(o->last_phrase, sizeof(o->last_phrase), "%s",
			 p->last_phrase);
		snprintf(o->why, sizeof(o->why), "%s", p->why);
		o->probes = p->probes;
		o->probes_failed = p->probes_failed;
		o->calls = p->calls;
		o->failovers = p->failovers;
	}
	return n;
}


/** "sip:A up, sip:B down (why)" of zone z, for a refusal's reason */
char *sipua_peers_text(struct sipua *ua, su_home_t *home,
		       const struct sw_zone *z)
{
	char *s = su_strdup(home, "");

	for (unsigned i = 0; s && i < z->n_peers; ++i) {
		const struct sipua_peer *p =
			peer_find(ua->peers, z->name, z->peers[i].uri);

		s = su_sprintf(home, "%s%s%s %s%s%s%s", s, i ? ", " : "",
			       z->peers[i].uri, !p || p->up ? "up" : "down",
			       p && !p->up ? " (" : "",
			       p && !p->up ? p->why : "",
			       p && !p->up ? ")" : "");
	}
	return s;
}
