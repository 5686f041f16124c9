/**
 * @file turn_alloc.c  TURN server core of one relay thread: allocations
 * (RFC 8656/5766), permissions, channels, RFC 6062 TCP connections,
 * long-term authentication and the request handlers. The server object,
 * its timers, tables and peer policy are in turn_srv.c.
 *
 * No sockets here. The relay layer feeds client messages to
 * turn_srv_recv() and socket events to turn_conn_*(), sets the clock,
 * runs the timers, and performs the I/O the core asks for through
 * struct turn_ops. Each request handler has a decode phase (attributes
 * into a struct), a validate phase (every error response decided there)
 * and an apply phase (the only one that changes state).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#define SW_LOG_MODULE "turn"
#include "sw_log.h"
#include "turn_alloc.h"
#include "turn_msg.h"
#include "turn_srv_int.h"

/* A port held by EVEN-PORT R=1 for a later Allocate (RFC 8656 7.2) */
struct turn_resv {
	struct turn_resv *next;
	struct turn_srv *srv;
	uint64_t token;
	int af;
	uint16_t port;
	struct turn_timer tmr;
};

/* What an Allocate asks for (decoded, then validated) */
struct alloc_args {
	uint8_t transport;
	int af;
	bool has_lifetime;
	uint32_t lifetime;
	bool df, even, reserve;
	bool has_token;
	uint64_t token;
	uint16_t port; /* the reserved port a token names */
};

/* One request on its way through decode -> validate -> apply */
struct req {
	const struct turn_src *src;
	struct turn_msg m;
	bool fp;     /* answer with FINGERPRINT: the client used it */
	bool authed; /* MI verified: answer with MI */
	uint8_t key[16];
	char user[128];
	struct turn_alloc *al; /* the 5-tuple's allocation, if any */
};


static bool perm_match(const struct turn_perm *p, const struct sw_sa *peer,
		       uint64_t now)
{
	return p->expires > now && sw_sa_cmp(&p->ip, peer, false);
}


/** Does al hold an unexpired permission for peer's IP? */
bool turn_alloc_permitted(const struct turn_alloc *al,
			  const struct sw_sa *peer, uint64_t now)
{
	for (unsigned i = 0; i < al->n_perms; ++i)
		if (perm_match(&al->perms[i], peer, now))
			return true;
	return false;
}


static struct turn_perm *perm_slot(struct turn_alloc *al,
				   const struct sw_sa *peer, uint64_t now)
{
	struct turn_perm *freeslot = NULL;

	for (unsigned i = 0; i < al->n_perms; ++i) {
		if (sw_sa_cmp(&al->perms[i].ip, peer, false))
			return &al->perms[i];
		if (!freeslot && al->perms[i].expires <= now)
			freeslot = &al->perms[i];
	}
	if (freeslot)
		return freeslot;
	if (al->n_perms < TURN_MAX_PERMS)
		return &al->perms[al->n_perms++];
	return NULL;
}


static struct turn_chan *chan_by_num(struct turn_alloc *al, uint16_t num,
				     uint64_t now)
{
	for (unsigned i = 0; i < al->n_chans; ++i)
		if (al->chans[i].num == num && al->chans[i].expires > now)
			return &al->chans[i];
	return NULL;
}


static struct turn_chan *chan_by_peer(struct turn_alloc *al,
				      const struct sw_sa *peer, uint64_t now)
{
	for (unsigned i = 0; i < al->n_chans; ++i)
		if (al->chans[i].expires > now &&
		    sw_sa_cmp(&al->chans[i].peer, peer, true))
			return &al->chans[i];
	return NULL;
}


/* --- nonces ------------------------------------------------------------------ */

static size_t sa_bytes(const struct sw_sa *a, uint8_t *b)
{
	uint16_t port = sw_sa_port(a);

	b[0] = (uint8_t)sw_sa_af(a);
	b[1] = (uint8_t)(port >> 8);
	b[2] = (uint8_t)port;
	if (sw_sa_af(a) == AF_INET6) {
		memcpy(b + 3, a->u.in6.sin6_addr.s6_addr, 16);
		return 19;
	}
	memcpy(b + 3, &a->u.in.sin_addr, 4);
	return 7;
}


/* What a nonce is bound to: the transport and both of its addresses and
 * ports, so that a request replayed on another connection or from
 * another address gets 438 (RFC 8489 9.2); not tport, which differs
 * between relay threads for a connection handed to its owner */
static size_t nonce_bind(const struct turn_src *src,
			 uint8_t b[TURN_NONCE_BIND_MAX])
{
	size_t n = 0;

	b[n++] = (uint8_t)src->tp;
	n += sa_bytes(&src->client, b + n);
	n += sa_bytes(&src->local, b + n);
	return n;
}


/* --- responses ------------------------------------------------------------- */

static void rsp_begin(struct turn_srv *srv, struct turn_enc *e,
		      const struct req *r, uint8_t cls)
{
	turn_enc_init(e, srv->tx, sizeof(srv->tx), r->m.method, cls, r->m.tid);
	if (srv->conf->turn_software[0])
		turn_enc_str(e, TURN_A_SOFTWARE, srv->conf->turn_software);
}


static void msg_send(struct turn_srv *srv, struct turn_enc *e,
		     const struct turn_src *dst, const uint8_t *key, bool fp)
{
	size_t len;

	if (key)
		turn_enc_integrity(e, key, 16);
	if (fp)
		turn_enc_fingerprint(e);
	if (turn_enc_finish(e, &len)) {
		sw_error("[%08x] cannot encode a response: %s", dst->tport,
			 strerror(e->err));
		return;
	}
	srv->cfg.ops->send(srv->cfg.arg, dst, srv->tx, len);
}


static void rsp_send(struct turn_srv *srv, struct turn_enc *e,
		     const struct req *r)
{
	msg_send(srv, e, r->src, r->authed ? r->key : NULL, r->fp);
}


static void rsp_error(struct turn_srv *srv, struct req *r, uint16_t code)
{
	const char *phrase = turn_error_phrase(code);
	struct turn_enc e;

	rsp_begin(srv, &e, r, TURN_C_ERROR);
	turn_enc_error(&e, code, phrase ? phrase : "Error");
	if (code == 401 || code == 438) {
		char nonce[TURN_NONCE_LEN + 1];
		uint8_t bind[TURN_NONCE_BIND_MAX];
		size_t blen = nonce_bind(r->src, bind);

		turn_nonce_make(srv->cfg.nonce_key, srv->now, bind, blen,
				nonce);
		turn_enc_str(&e, TURN_A_REALM, srv->conf->turn_realm);
		turn_enc_str(&e, TURN_A_NONCE, nonce);
		r->authed = false; /* RFC 8489 9.2.4: no MI on 401/438 */
	}
	if (code == 420) {
		uint8_t ua[2 * TURN_MAX_UNKNOWN];

		for (unsigned i = 0; i < r->m.n_unknown_req; ++i) {
			ua[2 * i] = (uint8_t)(r->m.unknown_req[i] >> 8);
			ua[2 * i + 1] = (uint8_t)r->m.unknown_req[i];
		}
		turn_enc_attr(&e, TURN_A_UNKNOWN_ATTRIBUTES, ua,
			      2 * r->m.n_unknown_req);
	}
	if (code != 401 && code != 438)
		sw_debug("[%08x] %s -> %u", r->src->tport,
			 turn_method_name(r->m.method), code);
	rsp_send(srv, &e, r);
}


/* --- attribute helpers ------------------------------------------------------ */

/* One XOR-PEER-ADDRESS of several (CreatePermission may carry many) */
static int xaddr_at(const struct turn_msg *m, const struct turn_attr *a,
		    struct sw_sa *sa)
{
	const uint8_t *v = a->val;
	uint8_t x[16];

	if (a->len < 8)
		return EBADMSG;
	x[0] = (uint8_t)(TURN_MAGIC_COOKIE >> 24);
	x[1] = (uint8_t)(TURN_MAGIC_COOKIE >> 16);
	x[2] = (uint8_t)(TURN_MAGIC_COOKIE >> 8);
	x[3] = (uint8_t)TURN_MAGIC_COOKIE;
	memcpy(x + 4, m->tid, TURN_TID_LEN);
	memset(sa, 0, sizeof(*sa));
	if (v[1] == 1 && a->len == 8) {
		uint8_t *ip = (uint8_t *)&sa->u.in.sin_addr;

		sa->u.in.sin_family = AF_INET;
		for (int i = 0; i < 4; ++i)
			ip[i] = v[4 + i] ^ x[i];
	}
	else if (v[1] == 2 && a->len == 20) {
		sa->u.in6.sin6_family = AF_INET6;
		for (int i = 0; i < 16; ++i)
			sa->u.in6.sin6_addr.s6_addr[i] = v[4 + i] ^ x[i];
	}
	else {
		return EBADMSG;
	}
	sw_sa_set_port(sa, (uint16_t)(((v[2] << 8) | v[3]) ^
				      (TURN_MAGIC_COOKIE >> 16)));
	return 0;
}


/* First byte of a 4-byte attribute (REQUESTED-TRANSPORT and -FAMILY) */
static int attr_byte(const struct turn_msg *m, uint16_t type, uint8_t *v)
{
	const struct turn_attr *a = turn_msg_attr(m, type);

	if (!a)
		return ENOENT;
	if (a->len != 4)
		return EBADMSG;
	*v = a->val[0];
	return 0;
}


/* Family the request asks for: REQUESTED-ADDRESS-FAMILY (RFC 8656 7.1) */
static int req_family(const struct turn_msg *m, int *af)
{
	uint8_t f;
	int err = attr_byte(m, TURN_A_REQUESTED_ADDRESS_FAMILY, &f);

	if (err == ENOENT) {
		*af = AF_INET;
		return 0;
	}
	if (err)
		return 400;
	if (f == 1)
		*af = AF_INET;
	else if (f == 2)
		*af = AF_INET6;
	else
		return 440;
	return 0;
}


/* Granted lifetime (RFC 8656 7.2): the default unless a longer one is
 * asked for, capped at the maximum */
static uint32_t lifetime_grant(const struct sw_conf *c, bool has, uint32_t lt)
{
	if (!has || lt <= c->turn_default_lifetime)
		return c->turn_default_lifetime;
	return lt < c->turn_max_lifetime ? lt : c->turn_max_lifetime;
}


/* --- authentication (RFC 8489 9.2.4, long-term credentials) ---------------- */

static void auth_fail(struct turn_srv *srv, struct req *r, uint16_t code,
		      const char *why)
{
	char a[SW_SA_STRLEN];

	TURN_CNT_ADD(&srv->cnt, auth_failures, 1);
	sw_log_limited(SW_LOG_INFO, "[%s] %s: %s",
		       sw_sa_str(&r->src->client, a, sizeof(a)),
		       turn_method_name(r->m.method), why);
	rsp_error(srv, r, code);
}


/* The allocation whose CONNECTION-ID a ConnectionBind names, if any */
static struct turn_alloc *connbind_alloc(struct turn_srv *srv,
					 const struct req *r)
{
	struct turn_conn *tc;
	uint32_t id;

	if (r->m.method != TURN_M_CONNBIND ||
	    turn_msg_get_u32(&r->m, TURN_A_CONNECTION_ID, &id) ||
	    !(tc = turn_srv_find_conn(srv, id)) ||
	    tc->al->src.tp == TURN_TP_INPROC)
		return NULL;
	return tc->al;
}


/* A ConnectionBind comes on a new connection with the nonce its client
 * got on the control connection (RFC 6062 5.4 says nothing of nonces;
 * coturn checks it against the allocation's session, and clients rely
 * on that): the control connection of the allocation the CONNECTION-ID
 * names, if any */
static const struct turn_src *connbind_owner(struct turn_srv *srv,
					     const struct req *r)
{
	const struct turn_alloc *al = connbind_alloc(srv, r);

	return al ? &al->src : NULL;
}


/* The long-term key of the allocation r belongs to (its 5-tuple's, or
 * for a ConnectionBind its connection's) when r names its owner; NULL */
static const uint8_t *req_alloc_key(struct turn_srv *srv, struct req *r)
{
	const struct turn_alloc *al = r->al ? r->al : connbind_alloc(srv, r);

	return al && !strcmp(al->user, r->user) ? al->key : NULL;
}


/* 0 when authenticated (r->key, r->user set); else answered, EACCES */
static int req_auth(struct turn_srv *srv, struct req *r)
{
	char realm[128], nonce[64], pw[256];
	uint8_t bind[TURN_NONCE_BIND_MAX];
	size_t blen = nonce_bind(r->src, bind);
	const struct turn_src *owner;
	const uint8_t *ak;
	int err;

	if (!turn_msg_attr(&r->m, TURN_A_MESSAGE_INTEGRITY)) {
		rsp_error(srv, r, 401); /* the challenge, not a failure */
		return EACCES;
	}
	if (turn_msg_get_str(&r->m, TURN_A_USERNAME, r->user,
			     sizeof(r->user), NULL) ||
	    turn_msg_get_str(&r->m, TURN_A_REALM, realm, sizeof(realm),
			     NULL) ||
	    turn_msg_get_str(&r->m, TURN_A_NONCE, nonce, sizeof(nonce), NULL)) {
		auth_fail(srv, r, 400, "MESSAGE-INTEGRITY without "
				       "USERNAME, REALM or NONCE");
		return EACCES;
	}
	err = turn_nonce_check(srv->cfg.nonce_key, nonce, bind, blen,
			       srv->now, srv->conf->turn_nonce_lifetime * 1000ull);
	if (err == EBADMSG && (owner = connbind_owner(srv, r))) {
		blen = nonce_bind(owner, bind);
		err = turn_nonce_check(srv->cfg.nonce_key, nonce, bind, blen,
				       srv->now,
				       srv->conf->turn_nonce_lifetime * 1000ull);
	}
	if (err) {
		/* stale, or issued to another transport address (a replay,
		 * or a client's new connection): the client retries at once
		 * with the nonce of this answer */
		if (err == EBADMSG)
			sw_log_limited(SW_LOG_DEBUG, "[%08x] %s: nonce of "
				       "another transport address",
				       r->src->tport,
				       turn_method_name(r->m.method));
		rsp_error(srv, r, 438);
		return EACCES;
	}
	if (strcmp(realm, srv->conf->turn_realm)) {
		auth_fail(srv, r, 401, "wrong realm");
		return EACCES;
	}
	/* several REST secrets during a rotation: any one may have made
	 * the client's password */
	for (unsigned i = 0;; ++i) {
		int e = turn_auth_password_n(srv->conf, r->user, srv->wall, i,
					     pw, sizeof(pw));

		if (e) {
			if (!i || e != ENOENT)
				err = e;
			break;
		}
		turn_key_longterm(r->key, r->user, realm, pw);
		err = turn_msg_check_integrity(&r->m, r->key, sizeof(r->key))
			      ? EACCES : 0;
		if (!err)
			break;
	}
	/* The requests of an allocation use the credentials of its
	 * Allocate (RFC 8656 5): a reload that removed the user or changed
	 * the password leaves allocations in progress working; new
	 * Allocates use the users and secret in force. An expired REST
	 * username stays expired. */
	if ((err == ENOENT || err == EACCES) &&
	    (ak = req_alloc_key(srv, r)) &&
	    !turn_msg_check_integrity(&r->m, ak, sizeof(r->key))) {
		memcpy(r->key, ak, sizeof(r->key));
		err = 0;
	}
	if (err) {
		auth_fail(srv, r, 401, err == ETIMEDOUT ? "REST username "
							   "expired" :
				       err == ENOENT ? "unknown user"
						     : "wrong password");
		return EACCES;
	}
	r->authed = true;
	return 0;
}


/* The request must come from the allocation's owner (RFC 8656 7.3) */
static int req_owner(struct turn_srv *srv, struct req *r)
{
	if (!r->al) {
		rsp_error(srv, r, 437);
		return ENOENT;
	}
	if (strcmp(r->al->user, r->user)) {
		auth_fail(srv, r, 441, "not the allocation's username");
		return EACCES;
	}
	return 0;
}


/* --- allocation lifecycle ----------------------------------------------------- */

static void alloc_expired(struct turn_timer *t, void *arg)
{
	struct turn_alloc *al = arg;

	(void)t;
	turn_alloc_delete(al->srv, al, "expired");
}


static void alloc_log(const struct turn_alloc *al, const char *what)
{
	char c[SW_SA_STRLEN], r[SW_SA_STRLEN];

	static const char *const tp[] = {"udp", "tcp", "tls", "gateway"};

	sw_debug("[alloc %s/%s] %s: %s relay %s user %s lifetime %u",
		 sw_sa_str(&al->src.client, c, sizeof(c)), tp[al->src.tp],
		 what, al->tcp ? "TCP" : "UDP",
		 sw_sa_str(&al->relayed, r, sizeof(r)), al->user,
		 al->lifetime);
}


/* Apply phase of Allocate (and of an in-process allocation): quota, the
 * relayed socket, the tables. On error nothing is left behind. */
static int alloc_create(struct turn_srv *srv, const struct turn_src *src,
			const char *user, const struct alloc_args *a,
			struct turn_alloc **alp)
{
	const char *quser = turn_auth_quota_name(srv->conf, user);
	bool inproc = src->tp == TURN_TP_INPROC;
	struct turn_alloc *al;
	int err;

	al = calloc(1, sizeof(*al));
	if (!al)
		return ENOMEM;
	al->srv = srv;
	al->src = *src;
	al->tcp = a->transport == 6;
	al->dont_fragment = a->df;
	al->even_port = a->even;
	al->reserve_next = a->reserve;
	al->want_port = a->port;
	snprintf(al->user, sizeof(al->user), "%s", user);
	snprintf(al->quota_user, sizeof(al->quota_user), "%s", quser);
	err = inproc ? 0 : turn_quota_take(srv->cfg.quota, al->quota_user);
	if (err)
		goto out;
	err = srv->cfg.ops->relay_open(srv->cfg.arg, al, a->af, &al->relayed);
	if (err) {
		if (!inproc)
			turn_quota_release(srv->cfg.quota, al->quota_user);
		goto out;
	}
	al->id = turn_srv_new_id(srv);
	al->advertised = al->relayed;
	if (a->af == AF_INET && sw_sa_isset(&srv->conf->turn_external_ip)) {
		al->advertised = srv->conf->turn_external_ip;
		sw_sa_set_port(&al->advertised, sw_sa_port(&al->relayed));
	}
	if (!inproc)
		turn_srv_alloc_hash(srv, al);
	al->next = srv->allocs;
	if (srv->allocs)
		srv->allocs->prev = al;
	srv->allocs = al;
	TURN_CNT_ADD(&srv->cnt, allocs_total, 1);
	if (al->tcp) {
		TURN_CNT_ADD(&srv->cnt, allocs_tcp, 1);
		TURN_CNT_ADD(&srv->cnt, allocs_tcp_total, 1);
	}
	else
		TURN_CNT_ADD(&srv->cnt, allocs_udp, 1);
out:
	if (err)
		free(al);
	else
		*alp = al;
	return err;
}


static void alloc_refresh(struct turn_srv *srv, struct turn_alloc *al,
			  uint32_t lifetime)
{
	al->lifetime = lifetime;
	turn_timer_start(srv, &al->expiry, lifetime * 1000ull, alloc_expired,
			 al);
}


/**
 * Delete an allocation: its connections, its relayed socket, its quota
 */
void turn_alloc_delete(struct turn_srv *srv, struct turn_alloc *al,
		       const char *why)
{
	al->lifetime = 0;
	alloc_log(al, why);
	while (al->conns)
		turn_conn_close(srv, al->conns, why);
	srv->cfg.ops->relay_close(srv->cfg.arg, al);
	turn_timer_cancel(srv, &al->expiry);
	if (al->src.tp != TURN_TP_INPROC) {
		turn_srv_alloc_unhash(srv, al);
		turn_quota_release(srv->cfg.quota, al->quota_user);
	}
	if (al->prev)
		al->prev->next = al->next;
	else
		srv->allocs = al->next;
	if (al->next)
		al->next->prev = al->prev;
	if (al->tcp)
		TURN_CNT_ADD(&srv->cnt, allocs_tcp, -1);
	else
		TURN_CNT_ADD(&srv->cnt, allocs_udp, -1);
	if (al->src.tp == TURN_TP_INPROC) /* last: the owner sees it gone */
		srv->cfg.ops->inproc(srv->cfg.arg, TURN_INPROC_GONE, al, NULL);
	free(al);
}


/** The client transport of a 5-tuple is gone: so is its allocation */
void turn_srv_transport_closed(struct turn_srv *srv,
			       const struct turn_src *src)
{
	struct turn_alloc *al = turn_srv_find(srv, src);

	if (al)
		turn_alloc_delete(srv, al, "control connection closed");
}


/* --- RFC 6062 connections --------------------------------------------------- */

const char *turn_conn_state_name(enum turn_conn_state st)
{
	switch (st) {
	case TURN_CONN_CONNECTING: return "CONNECTING";
	case TURN_CONN_PENDING: return "PENDING";
	case TURN_CONN_BOUND: return "BOUND";
	}
	return "?";
}


static void turn_conn_set_state(struct turn_conn *tc,
				enum turn_conn_state st)
{
	char p[SW_SA_STRLEN];

	sw_debug("[conn %08x %s] %s -> %s", tc->id,
		 sw_sa_str(&tc->peer, p, sizeof(p)),
		 turn_conn_state_name(tc->state), turn_conn_state_name(st));
	if (st == TURN_CONN_BOUND && tc->state != TURN_CONN_BOUND)
		--tc->al->n_unbound;
	tc->state = st;
}


static void conn_bind_timeout(struct turn_timer *t, void *arg)
{
	struct turn_conn *tc = arg;

	(void)t;
	turn_conn_close(tc->al->srv, tc, "no ConnectionBind in time");
}


static void conn_connect_timeout(struct turn_timer *t, void *arg)
{
	(void)t;
	turn_conn_connected(((struct turn_conn *)arg)->al->srv, arg,
			    ETIMEDOUT);
}


static int conn_create(struct turn_srv *srv, struct turn_alloc *al,
		       const struct sw_sa *peer, bool outbound,
		       struct turn_conn **tcp)
{
	struct turn_conn *tc = calloc(1, sizeof(*tc));

	if (!tc)
		return ENOMEM;
	tc->al = al;
	tc->peer = *peer;
	tc->outbound = outbound;
	tc->state = outbound ? TURN_CONN_CONNECTING : TURN_CONN_PENDING;
	++al->n_unbound;
	do
		tc->id = turn_srv_new_id(srv);
	while (turn_srv_find_conn(srv, tc->id));
	turn_srv_conn_hash(srv, tc);
	tc->next = al->conns;
	if (al->conns)
		al->conns->prev = tc;
	al->conns = tc;
	TURN_CNT_ADD(&srv->cnt, conns_active, 1);
	TURN_CNT_ADD(&srv->cnt, conns_total, 1);
	*tcp = tc;
	return 0;
}


/**
 * Close an RFC 6062 connection: both of its sockets, then the object.
 * Closing either side closes the other (RFC 6062 5.5).
 */
void turn_conn_close(struct turn_srv *srv, struct turn_conn *tc,
		     const char *why)
{
	sw_debug("[conn %08x] closed in state %s: %s", tc->id,
		 turn_conn_state_name(tc->state), why);
	srv->cfg.ops->conn_close(srv->cfg.arg, tc);
	turn_timer_cancel(srv, &tc->tmr);
	turn_srv_conn_unhash(srv, tc);
	if (tc->state != TURN_CONN_BOUND)
		--tc->al->n_unbound;
	if (tc->prev)
		tc->prev->next = tc->next;
	else
		tc->al->conns = tc->next;
	if (tc->next)
		tc->next->prev = tc->prev;
	TURN_CNT_ADD(&srv->cnt, conns_active, -1);
	free(tc);
}


static void conn_attempt_send(struct turn_srv *srv, struct turn_conn *tc)
{
	struct turn_alloc *al = tc->al;
	uint8_t tid[TURN_TID_LEN];
	struct turn_enc e;
	uint64_t r1 = turn_srv_rnd64(srv), r2 = turn_srv_rnd64(srv);

	memcpy(tid, &r1, 8);
	memcpy(tid + 8, &r2, 4);
	turn_enc_init(&e, srv->tx, sizeof(srv->tx), TURN_M_CONNATTEMPT,
		      TURN_C_INDICATION, tid);
	turn_enc_xaddr(&e, TURN_A_XOR_PEER_ADDRESS, &tc->peer);
	turn_enc_u32(&e, TURN_A_CONNECTION_ID, tc->id);
	msg_send(srv, &e, &al->src, NULL, false);
}


/**
 * A peer connected to al's relayed TCP address (RFC 6062 5.3): accept it
 * only from a permitted peer and while fewer than [turn]
 * max_unbound_peers connections of al await their bind, then announce it
 * with ConnectionAttempt (or the in-process event) and wait bind_timeout
 * for the bind.
 *
 * @return 0, EPERM (no permission), ENOSPC (too many awaiting a bind):
 *         the caller closes the socket; ENOMEM
 */
int turn_conn_incoming(struct turn_srv *srv, struct turn_alloc *al,
		       const struct sw_sa *peer, struct turn_conn **tcp)
{
	struct turn_conn *tc;
	int err;

	if (!turn_alloc_permitted(al, peer, srv->now) ||
	    turn_srv_check_peer(srv, peer)) {
		TURN_CNT_ADD(&srv->cnt, denied_peers, 1);
		return EPERM;
	}
	if (al->n_unbound >= srv->conf->turn_max_unbound) {
		TURN_CNT_ADD(&srv->cnt, denied_peers, 1);
		return ENOSPC;
	}
	err = conn_create(srv, al, peer, false, &tc);
	if (err)
		return err;
	turn_timer_start(srv, &tc->tmr, srv->conf->turn_bind_timeout * 1000ull,
			 conn_bind_timeout, tc);
	*tcp = tc;
	if (al->src.tp == TURN_TP_INPROC)
		srv->cfg.ops->inproc(srv->cfg.arg, TURN_INPROC_ATTEMPT, al, tc);
	else
		conn_attempt_send(srv, tc);
	return 0;
}


/**
 * The outbound connection of a Connect request finished (RFC 6062 5.2):
 * answer the Connect with CONNECTION-ID, or 447 and close
 */
void turn_conn_connected(struct turn_srv *srv, struct turn_conn *tc, int err)
{
	struct turn_alloc *al = tc->al;
	struct turn_enc e;

	if (tc->state != TURN_CONN_CONNECTING)
		return;
	if (al->src.tp == TURN_TP_INPROC) /* no wire: the caller binds */
		goto out;
	turn_enc_init(&e, srv->tx, sizeof(srv->tx), TURN_M_CONNECT,
		      err ? TURN_C_ERROR : TURN_C_SUCCESS, tc->tid);
	if (srv->conf->turn_software[0])
		turn_enc_str(&e, TURN_A_SOFTWARE, srv->conf->turn_software);
	if (err)
		turn_enc_error(&e, 447, "Connection Timeout or Failure");
	else
		turn_enc_u32(&e, TURN_A_CONNECTION_ID, tc->id);
	msg_send(srv, &e, &al->src, al->key, tc->fingerprint);
out:
	if (err) {
		turn_conn_close(srv, tc, strerror(err));
		return;
	}
	turn_conn_set_state(tc, TURN_CONN_PENDING);
	turn_timer_start(srv, &tc->tmr, srv->conf->turn_bind_timeout * 1000ull,
			 conn_bind_timeout, tc);
}


/* Apply phase of ConnectionBind, for wire and in-process clients alike */
static int conn_bind(struct turn_srv *srv, struct turn_conn *tc,
		     const struct turn_src *data)
{
	int err = srv->cfg.ops->conn_bind(srv->cfg.arg, tc, data);

	if (err) {
		turn_conn_close(srv, tc, "bridge failed");
		return err;
	}
	turn_timer_cancel(srv, &tc->tmr);
	turn_conn_set_state(tc, TURN_CONN_BOUND);
	return 0;
}


/**
 * ConnectionBind for an in-process allocation: data is the gateway's
 * own connection toward the far side
 *
 * @return 0, EINVAL (not in-process), EALREADY (not pending), errno
 */
int turn_conn_bind_inproc(struct turn_srv *srv, struct turn_conn *tc,
			  const struct turn_src *data)
{
	if (tc->al->src.tp != TURN_TP_INPROC)
		return EINVAL;
	if (tc->state != TURN_CONN_PENDING)
		return EALREADY;
	return conn_bind(srv, tc, data);
}


/* --- Allocate (RFC 8656 7.2, RFC 6062 5.1) ------------------------------------ */

static void resv_drop(struct turn_srv *srv, struct turn_resv *rv,
		      bool release)
{
	struct turn_resv **pp = &srv->resvs;

	while (*pp && *pp != rv)
		pp = &(*pp)->next;
	if (*pp)
		*pp = rv->next;
	turn_timer_cancel(srv, &rv->tmr);
	if (release)
		srv->cfg.ops->port_release(srv->cfg.arg, rv->af, rv->port);
	free(rv);
}


static void resv_expired(struct turn_timer *t, void *arg)
{
	struct turn_resv *rv = arg;

	(void)t;
	resv_drop(rv->srv, rv, true);
}


static struct turn_resv *resv_find(struct turn_srv *srv, uint64_t token)
{
	struct turn_resv *rv = srv->resvs;

	while (rv && rv->token != token)
		rv = rv->next;
	return rv;
}


/* al holds relayed port P and the relay layer holds P + 1 for us */
static uint64_t resv_add(struct turn_srv *srv, const struct turn_alloc *al)
{
	struct turn_resv *rv = calloc(1, sizeof(*rv));
	uint16_t port = (uint16_t)(sw_sa_port(&al->relayed) + 1);

	if (!rv) {
		srv->cfg.ops->port_release(srv->cfg.arg,
					   sw_sa_af(&al->relayed), port);
		return 0;
	}
	rv->srv = srv;
	rv->af = sw_sa_af(&al->relayed);
	rv->port = port;
	do
		rv->token = turn_srv_rnd64(srv);
	while (!rv->token || resv_find(srv, rv->token));
	rv->next = srv->resvs;
	srv->resvs = rv;
	turn_timer_start(srv, &rv->tmr, TURN_RESV_LIFETIME_MS, resv_expired,
			 rv);
	return rv->token;
}


static void alloc_success(struct turn_srv *srv, struct req *r,
			  const struct turn_alloc *al, uint64_t token)
{
	struct turn_enc e;

	rsp_begin(srv, &e, r, TURN_C_SUCCESS);
	turn_enc_xaddr(&e, TURN_A_XOR_RELAYED_ADDRESS, &al->advertised);
	turn_enc_u32(&e, TURN_A_LIFETIME, al->lifetime);
	if (token)
		turn_enc_u64(&e, TURN_A_RESERVATION_TOKEN, token);
	turn_enc_xaddr(&e, TURN_A_XOR_MAPPED_ADDRESS, &r->src->client);
	rsp_send(srv, &e, r);
}


/* Decode and validate what needs no state; 0 or a STUN error code */
static uint16_t alloc_decode(const struct turn_srv *srv, const struct req *r,
			     struct alloc_args *a)
{
	const struct turn_attr *ep;
	uint16_t code;
	int err;

	memset(a, 0, sizeof(*a));
	err = attr_byte(&r->m, TURN_A_REQUESTED_TRANSPORT, &a->transport);
	if (err)
		return 400;
	if (a->transport != 17 && a->transport != 6)
		return 442;
	code = (uint16_t)req_family(&r->m, &a->af);
	if (code)
		return code;
	a->df = turn_msg_attr(&r->m, TURN_A_DONT_FRAGMENT) != NULL;
	ep = turn_msg_attr(&r->m, TURN_A_EVEN_PORT);
	a->even = ep != NULL;
	if (a->transport == 6 && (r->src->tp == TURN_TP_UDP || a->df ||
				  a->even ||
				  turn_msg_attr(&r->m,
						TURN_A_RESERVATION_TOKEN)))
		return 400; /* RFC 6062 5.1 */
	if (ep && ep->len != 1)
		return 400;
	a->reserve = ep && (ep->val[0] & 0x80);
	a->has_token = !turn_msg_get_u64(&r->m, TURN_A_RESERVATION_TOKEN,
					 &a->token);
	if (a->has_token &&
	    (ep || turn_msg_attr(&r->m, TURN_A_REQUESTED_ADDRESS_FAMILY)))
		return 400; /* RFC 8656 7.2 */
	if (a->af == AF_INET6 ? !sw_sa_isset(&srv->conf->turn_relay_ip6)
			      : !sw_sa_isset(&srv->conf->turn_relay_ip))
		return 440;
	a->has_lifetime = !turn_msg_get_u32(&r->m, TURN_A_LIFETIME,
					    &a->lifetime);
	return 0;
}


/* Draining or loaded (turn_srv_set_redirect): 300 Try Alternate, sent
 * only once the request is authenticated (RFC 8489 10: a redirect an
 * attacker could forge would steer clients to it; RFC 8656 7.2 lets the
 * server answer 300 at any point of the Allocate), so it carries
 * MESSAGE-INTEGRITY. A RESERVATION-TOKEN names a port of this server and
 * is never redirected. true when answered */
static bool alloc_redirect(struct turn_srv *srv, struct req *r)
{
	const struct turn_redirect *rd = &srv->redirect;
	bool tls = r->src->tp == TURN_TP_TLS;
	const struct sw_sa *alt = tls ? &rd->tls : &rd->server;
	struct sw_sa client;
	struct turn_enc e;

	/* RFC 8489 14.15: the alternate has the family of the request's
	 * source address */
	sw_sa_unmap_v4(&client, &r->src->client);
	if (!rd->on || !sw_sa_isset(alt) || sw_sa_af(alt) != sw_sa_af(&client))
		return false;
	rsp_begin(srv, &e, r, TURN_C_ERROR);
	turn_enc_error(&e, 300, turn_error_phrase(300));
	turn_enc_addr(&e, TURN_A_ALTERNATE_SERVER, alt);
	if (tls && rd->domain[0])
		turn_enc_str(&e, TURN_A_ALTERNATE_DOMAIN, rd->domain);
	TURN_CNT_ADD(&srv->cnt, redirects, 1);
	sw_debug("[%08x] Allocate by %s -> 300 Try Alternate", r->src->tport,
		 r->user);
	rsp_send(srv, &e, r);
	return true;
}


static void handle_allocate(struct turn_srv *srv, struct req *r)
{
	struct turn_resv *rv = NULL;
	struct alloc_args a;
	struct turn_alloc *al;
	uint16_t code;
	int err;

	code = alloc_decode(srv, r, &a);
	if (!code && r->al && !memcmp(r->al->tid, r->m.tid, TURN_TID_LEN)) {
		alloc_success(srv, r, r->al, 0); /* retransmission */
		return;
	}
	if (!code && r->al)
		code = 437;
	if (!code && a.has_token && !(rv = resv_find(srv, a.token)))
		code = 508;
	if (code) {
		rsp_error(srv, r, code);
		return;
	}
	if (!rv && alloc_redirect(srv, r))
		return;
	if (rv) {
		a.af = rv->af;
		a.port = rv->port;
		resv_drop(srv, rv, false); /* the port passes to al */
	}
	err = alloc_create(srv, r->src, r->user, &a, &al);
	if (err) {
		if (a.port)
			srv->cfg.ops->port_release(srv->cfg.arg, a.af, a.port);
		rsp_error(srv, r, err == EDQUOT ? 486 : 508);
		return;
	}
	memcpy(al->key, r->key, sizeof(al->key));
	memcpy(al->tid, r->m.tid, TURN_TID_LEN);
	alloc_refresh(srv, al, lifetime_grant(srv->conf, a.has_lifetime,
					      a.lifetime));
	al->created_ms = srv->now;
	alloc_log(al, "allocated");
	alloc_success(srv, r, al, a.reserve ? resv_add(srv, al) : 0);
}


/* --- Refresh (RFC 8656 7.3) --------------------------------------------------- */

static void handle_refresh(struct turn_srv *srv, struct req *r)
{
	struct turn_alloc *al = r->al;
	uint32_t lt = 0;
	bool has;
	int af = 0;
	struct turn_enc e;

	if (req_owner(srv, r))
		return;
	has = !turn_msg_get_u32(&r->m, TURN_A_LIFETIME, &lt);
	if (turn_msg_attr(&r->m, TURN_A_REQUESTED_ADDRESS_FAMILY) &&
	    (req_family(&r->m, &af) || af != sw_sa_af(&al->relayed))) {
		rsp_error(srv, r, 443);
		return;
	}
	lt = has && lt == 0 ? 0 : lifetime_grant(srv->conf, has, lt);
	rsp_begin(srv, &e, r, TURN_C_SUCCESS);
	turn_enc_u32(&e, TURN_A_LIFETIME, lt);
	rsp_send(srv, &e, r);
	if (lt == 0) {
		turn_alloc_delete(srv, al, "deleted by Refresh");
		return;
	}
	alloc_refresh(srv, al, lt);
	al->refreshed_ms = srv->now;
}


/* --- CreatePermission (RFC 8656 9) ------------------------------------------- */

/* Validate one peer for al: 0 or a STUN error code. A permission names
 * an IP (turn_srv_check_peer); a channel, a Connect or a Send names a
 * transport address, which may not be one of the gateway's own
 * (turn_srv_check_peer_addr). */
static uint16_t peer_validate(struct turn_srv *srv,
			      const struct turn_alloc *al,
			      const struct sw_sa *peer, bool port)
{
	if (sw_sa_af(peer) != sw_sa_af(&al->relayed))
		return 443;
	if (port ? turn_srv_check_peer_addr(srv, peer)
		 : turn_srv_check_peer(srv, peer)) {
		char p[SW_SA_STRLEN];

		TURN_CNT_ADD(&srv->cnt, denied_peers, 1);
		sw_log_limited(SW_LOG_INFO,
			       "[alloc %08x] peer %s denied by policy", al->id,
			       sw_sa_str(peer, p, sizeof(p)));
		return 403;
	}
	return 0;
}


static void perm_install(struct turn_srv *srv, struct turn_alloc *al,
			 const struct sw_sa *peer)
{
	struct turn_perm *p = perm_slot(al, peer, srv->now);

	if (!p)
		return; /* validated before: cannot happen */
	p->ip = *peer;
	sw_sa_set_port(&p->ip, 0);
	p->expires = srv->now + TURN_PERM_LIFETIME_MS;
}


/**
 * Permit a peer on an allocation (the CreatePermission apply phase,
 * also used for in-process allocations)
 *
 * @return 0, EAFNOSUPPORT, EPERM (policy) or ENOSPC (too many)
 */
int turn_alloc_permit(struct turn_srv *srv, struct turn_alloc *al,
		      const struct sw_sa *peer)
{
	uint16_t code = peer_validate(srv, al, peer, false);

	if (code)
		return code == 443 ? EAFNOSUPPORT : EPERM;
	if (!perm_slot(al, peer, srv->now))
		return ENOSPC;
	perm_install(srv, al, peer);
	return 0;
}


static void handle_createperm(struct turn_srv *srv, struct req *r)
{
	struct sw_sa peers[TURN_MAX_PERMS];
	unsigned n = 0, fresh = 0;
	uint16_t code = 0;
	struct turn_enc e;

	if (req_owner(srv, r))
		return;
	for (unsigned i = 0; i < r->m.n_attrs && !code; ++i) {
		const struct turn_attr *a = &r->m.attrs[i];

		if (a->type != TURN_A_XOR_PEER_ADDRESS)
			continue;
		if (n == TURN_MAX_PERMS)
			code = 508;
		else if (xaddr_at(&r->m, a, &peers[n]))
			code = 400;
		else
			code = peer_validate(srv, r->al, &peers[n++], false);
	}
	for (unsigned i = 0; i < n && !code; ++i)
		fresh += !turn_alloc_permitted(r->al, &peers[i], 0);
	if (!code && !n)
		code = 400;
	if (!code && r->al->n_perms + fresh > TURN_MAX_PERMS) {
		unsigned live = 0;

		for (unsigned i = 0; i < r->al->n_perms; ++i)
			live += r->al->perms[i].expires > srv->now;
		code = live + fresh > TURN_MAX_PERMS ? 508 : 0;
	}
	if (code) {
		rsp_error(srv, r, code);
		return;
	}
	for (unsigned i = 0; i < n; ++i)
		perm_install(srv, r->al, &peers[i]);
	rsp_begin(srv, &e, r, TURN_C_SUCCESS);
	rsp_send(srv, &e, r);
}


/* --- ChannelBind (RFC 8656 11) ---------------------------------------------- */

static uint16_t chanbind_validate(struct turn_srv *srv, struct req *r,
				  uint16_t num, const struct sw_sa *peer)
{
	struct turn_alloc *al = r->al;
	uint16_t code;

	if (al->tcp)
		return 400; /* no channels on TCP relays */
	if (num < 0x4000 || num > 0x7fff)
		return 400;
	code = peer_validate(srv, al, peer, true);
	if (code)
		return code;
	for (unsigned i = 0; i < al->n_chans; ++i) {
		const struct turn_chan *c = &al->chans[i];
		bool same_num = c->num == num;
		bool same_peer = sw_sa_cmp(&c->peer, peer, true);

		if (c->expires > srv->now && same_num != same_peer)
			return 400; /* either is bound to something else */
	}
	if (!turn_alloc_permitted(al, peer, srv->now) &&
	    !perm_slot(al, peer, srv->now))
		return 508;
	return 0;
}


static struct turn_chan *chan_slot(struct turn_alloc *al, uint16_t num,
				   uint64_t now)
{
	for (unsigned i = 0; i < al->n_chans; ++i)
		if (al->chans[i].num == num || al->chans[i].expires <= now)
			return &al->chans[i];
	if (al->n_chans < TURN_MAX_CHANS)
		return &al->chans[al->n_chans++];
	return NULL;
}


static void handle_chanbind(struct turn_srv *srv, struct req *r)
{
	const struct turn_attr *pa;
	struct turn_chan *c = NULL;
	struct sw_sa peer;
	uint16_t code, num = 0;
	uint32_t v = 0;
	struct turn_enc e;

	if (req_owner(srv, r))
		return;
	pa = turn_msg_attr(&r->m, TURN_A_XOR_PEER_ADDRESS);
	if (turn_msg_get_u32(&r->m, TURN_A_CHANNEL_NUMBER, &v) || !pa ||
	    xaddr_at(&r->m, pa, &peer))
		code = 400;
	else
		code = chanbind_validate(srv, r, num = (uint16_t)(v >> 16),
					 &peer);
	if (!code && !(c = chan_slot(r->al, num, srv->now)))
		code = 508;
	if (code) {
		rsp_error(srv, r, code);
		return;
	}
	c->num = num;
	c->peer = peer;
	c->expires = srv->now + TURN_CHAN_LIFETIME_MS;
	perm_install(srv, r->al, &peer);
	rsp_begin(srv, &e, r, TURN_C_SUCCESS);
	rsp_send(srv, &e, r);
}


/* --- Send indication and ChannelData (RFC 8656 10.2, 12.5) ----------------- */

static void relay_to_peer(struct turn_srv *srv, struct turn_alloc *al,
			  const struct sw_sa *peer, const uint8_t *data,
			  size_t len)
{
	if (!turn_alloc_permitted(al, peer, srv->now)) {
		TURN_CNT_ADD(&srv->cnt, dropped, 1);
		return;
	}
	TURN_CNT_ADD(&srv->cnt, bytes_to_peer, len);
	srv->cfg.ops->relay_send(srv->cfg.arg, al, peer, data, len);
}


static void handle_send(struct turn_srv *srv, struct req *r)
{
	const struct turn_attr *pa = turn_msg_attr(&r->m,
						   TURN_A_XOR_PEER_ADDRESS);
	const struct turn_attr *da = turn_msg_attr(&r->m, TURN_A_DATA);
	struct sw_sa peer;

	if (!r->al || r->al->tcp || !pa || !da || xaddr_at(&r->m, pa, &peer)) {
		TURN_CNT_ADD(&srv->cnt, dropped, 1);
		return; /* indications are never answered */
	}
	if (turn_srv_check_peer_addr(srv, &peer)) { /* a channel's was */
		TURN_CNT_ADD(&srv->cnt, denied_peers, 1);
		TURN_CNT_ADD(&srv->cnt, dropped, 1);
		return;
	}
	relay_to_peer(srv, r->al, &peer, da->val, da->len);
}


static void channel_data(struct turn_srv *srv, const struct turn_src *src,
			 const uint8_t *buf, size_t len)
{
	uint16_t num = (uint16_t)(buf[0] << 8 | buf[1]);
	size_t dlen = (size_t)(buf[2] << 8 | buf[3]);
	struct turn_alloc *al;
	struct turn_chan *c;

	if (dlen + 4 > len) {
		TURN_CNT_ADD(&srv->cnt, bad_messages, 1);
		return;
	}
	al = turn_srv_find(srv, src);
	c = al ? chan_by_num(al, num, srv->now) : NULL;
	if (!c) {
		TURN_CNT_ADD(&srv->cnt, dropped, 1);
		return;
	}
	relay_to_peer(srv, al, &c->peer, buf + 4, dlen);
}


/**
 * A datagram from a peer reached al's UDP relayed socket: forward it to
 * the client as ChannelData (bound channel) or a Data indication.
 * data has TURN_HEADROOM writable bytes before it and 4 after it, so
 * the ChannelData header and padding cost no copy.
 */
void turn_alloc_peer_data(struct turn_srv *srv, struct turn_alloc *al,
			  const struct sw_sa *peer, uint8_t *data, size_t len)
{
	struct turn_chan *c;
	struct turn_enc e;
	size_t n;

	if (!turn_alloc_permitted(al, peer, srv->now) || len > 65535) {
		TURN_CNT_ADD(&srv->cnt, dropped, 1);
		return;
	}
	TURN_CNT_ADD(&srv->cnt, bytes_to_client, len);
	c = al->n_chans ? chan_by_peer(al, peer, srv->now) : NULL;
	if (c) {
		uint8_t *h = data - 4;

		h[0] = (uint8_t)(c->num >> 8);
		h[1] = (uint8_t)c->num;
		h[2] = (uint8_t)(len >> 8);
		h[3] = (uint8_t)len;
		n = 4 + len;
		if (al->src.tp != TURN_TP_UDP) /* padded on streams (12.5) */
			while (n & 3)
				h[n++] = 0;
		srv->cfg.ops->send(srv->cfg.arg, &al->src, h, n);
		return;
	}
	{
		uint64_t r1 = turn_srv_rnd64(srv), r2 = turn_srv_rnd64(srv);
		uint8_t tid[TURN_TID_LEN];

		memcpy(tid, &r1, 8);
		memcpy(tid + 8, &r2, 4);
		turn_enc_init(&e, srv->tx, sizeof(srv->tx), TURN_M_DATA,
			      TURN_C_INDICATION, tid);
	}
	turn_enc_xaddr(&e, TURN_A_XOR_PEER_ADDRESS, peer);
	turn_enc_attr(&e, TURN_A_DATA, data, len);
	msg_send(srv, &e, &al->src, NULL, false);
}


/* --- Connect and ConnectionBind (RFC 6062 5.2, 5.4) ------------------------ */

/* The peer checks of a Connect: policy, room for one more connection
 * awaiting its bind ([turn] max_unbound_peers), one connection per peer */
static uint16_t connect_peer_validate(struct turn_srv *srv,
				      const struct turn_alloc *al,
				      const struct sw_sa *peer)
{
	uint16_t code = peer_validate(srv, al, peer, true);

	if (code)
		return code;
	if (al->n_unbound >= srv->conf->turn_max_unbound)
		return 508;
	for (struct turn_conn *tc = al->conns; tc; tc = tc->next)
		if (sw_sa_cmp(&tc->peer, peer, true))
			return 446;
	return 0;
}


static uint16_t connect_validate(struct turn_srv *srv, struct req *r,
				 struct sw_sa *peer)
{
	const struct turn_attr *pa = turn_msg_attr(&r->m,
						   TURN_A_XOR_PEER_ADDRESS);

	if (!r->al->tcp)
		return 400;
	if (!pa || xaddr_at(&r->m, pa, peer) || !sw_sa_port(peer))
		return 400;
	return connect_peer_validate(srv, r->al, peer);
}


static void handle_connect(struct turn_srv *srv, struct req *r)
{
	struct turn_conn *tc;
	struct sw_sa peer;
	uint16_t code;

	if (req_owner(srv, r))
		return;
	code = connect_validate(srv, r, &peer);
	if (!code && conn_create(srv, r->al, &peer, true, &tc))
		code = 508;
	if (code) {
		rsp_error(srv, r, code);
		return;
	}
	memcpy(tc->tid, r->m.tid, TURN_TID_LEN);
	tc->fingerprint = r->fp;
	turn_timer_start(srv, &tc->tmr,
			 srv->conf->turn_connect_timeout * 1000ull,
			 conn_connect_timeout, tc);
	if (srv->cfg.ops->peer_connect(srv->cfg.arg, tc))
		turn_conn_connected(srv, tc, ECONNREFUSED);
}


/**
 * Connect for an in-process allocation (RFC 6062 5.2): the checks of a
 * client's Connect request, plus a permission for the peer (the gateway
 * only connects to candidates of the call); the outcome comes back
 * through turn_conn_connected(), which leaves tc PENDING for
 * turn_conn_bind_inproc() instead of answering on a wire
 *
 * @return 0 (connecting), EINVAL (not a TCP in-process allocation),
 *         EPERM (no permission, or policy), EEXIST (446), errno
 */
int turn_conn_connect_inproc(struct turn_srv *srv, struct turn_alloc *al,
			     const struct sw_sa *peer, struct turn_conn **tcp)
{
	struct turn_conn *tc;
	uint16_t code;
	int err;

	if (al->src.tp != TURN_TP_INPROC || !al->tcp || !sw_sa_port(peer))
		return EINVAL;
	if (!turn_alloc_permitted(al, peer, srv->now))
		return EPERM;
	code = connect_peer_validate(srv, al, peer);
	if (code)
		return code == 446 ? EEXIST : code == 508 ? ENOSPC : EPERM;
	err = conn_create(srv, al, peer, true, &tc);
	if (err)
		return err;
	turn_timer_start(srv, &tc->tmr,
			 srv->conf->turn_connect_timeout * 1000ull,
			 conn_connect_timeout, tc);
	err = srv->cfg.ops->peer_connect(srv->cfg.arg, tc);
	if (err) {
		turn_conn_close(srv, tc, "connect failed");
		return err;
	}
	*tcp = tc;
	return 0;
}


static void handle_connbind(struct turn_srv *srv, struct req *r)
{
	struct turn_conn *tc = NULL;
	struct turn_enc e;
	uint32_t id;
	uint16_t code = 0;

	if (r->src->tp != TURN_TP_TCP && r->src->tp != TURN_TP_TLS)
		code = 400;
	else if (r->al) /* a control connection cannot become data */
		code = 400;
	else if (turn_msg_get_u32(&r->m, TURN_A_CONNECTION_ID, &id))
		code = 400;
	else if (!(tc = turn_srv_find_conn(srv, id)) ||
		 tc->state != TURN_CONN_PENDING ||
		 tc->al->src.tp == TURN_TP_INPROC)
		code = 400;
	if (!code && strcmp(tc->al->user, r->user)) {
		auth_fail(srv, r, 441, "ConnectionBind by another user");
		return;
	}
	if (code) {
		rsp_error(srv, r, code);
		return;
	}
	rsp_begin(srv, &e, r, TURN_C_SUCCESS);
	rsp_send(srv, &e, r); /* before the connection turns raw */
	conn_bind(srv, tc, r->src);
}


/* --- dispatch ---------------------------------------------------------------- */

static void handle_binding(struct turn_srv *srv, struct req *r)
{
	struct turn_enc e;

	rsp_begin(srv, &e, r, TURN_C_SUCCESS);
	turn_enc_xaddr(&e, TURN_A_XOR_MAPPED_ADDRESS, &r->src->client);
	rsp_send(srv, &e, r);
}


static void handle_request(struct turn_srv *srv, struct req *r)
{
	if (r->m.n_unknown_req) {
		rsp_error(srv, r, 420);
		return;
	}
	if (r->m.method == TURN_M_BINDING) {
		handle_binding(srv, r);
		return;
	}
	switch (r->m.method) {
	case TURN_M_ALLOCATE:
	case TURN_M_REFRESH:
	case TURN_M_CREATEPERM:
	case TURN_M_CHANBIND:
	case TURN_M_CONNECT:
	case TURN_M_CONNBIND:
		break;
	default:
		rsp_error(srv, r, 400);
		return;
	}
	if (req_auth(srv, r))
		return;
	switch (r->m.method) {
	case TURN_M_ALLOCATE: handle_allocate(srv, r); break;
	case TURN_M_REFRESH: handle_refresh(srv, r); break;
	case TURN_M_CREATEPERM: handle_createperm(srv, r); break;
	case TURN_M_CHANBIND: handle_chanbind(srv, r); break;
	case TURN_M_CONNECT: handle_connect(srv, r); break;
	default: handle_connbind(srv, r); break;
	}
}


/* A request we cannot decode still gets 400 if its header is sound
 * (RFC 8489 7.3.1); anything else is dropped silently */
static void bad_message(struct turn_srv *srv, const struct turn_src *src,
			const uint8_t *buf, size_t len, const char *why)
{
	struct turn_enc e;
	uint16_t type, method;
	size_t n;

	TURN_CNT_ADD(&srv->cnt, bad_messages, 1);
	sw_debug("[%08x] bad message dropped: %s", src->tport, why);
	if (len < TURN_HDR_LEN || (buf[0] & 0xc0) ||
	    buf[4] != 0x21 || buf[5] != 0x12 || buf[6] != 0xa4 ||
	    buf[7] != 0x42)
		return;
	type = (uint16_t)(buf[0] << 8 | buf[1]);
	if (type & 0x0110 || /* not a request */
	    (size_t)(buf[2] << 8 | buf[3]) + TURN_HDR_LEN != len)
		return; /* header checks failed: discard (RFC 8489 6.3) */
	method = (type & 0x000f) | ((type & 0x00e0) >> 1) |
		 ((type & 0x3e00) >> 2);
	turn_enc_init(&e, srv->tx, sizeof(srv->tx), method, TURN_C_ERROR,
		      buf + 8);
	turn_enc_error(&e, 400, "Bad Request");
	if (!turn_enc_finish(&e, &n))
		srv->cfg.ops->send(srv->cfg.arg, src, srv->tx, n);
}


/**
 * One message from a client: a STUN request or indication, or
 * ChannelData. Never fails: bad input is answered or dropped as the
 * RFCs say and counted.
 */
void turn_srv_recv(struct turn_srv *srv, const struct turn_src *src,
		   uint8_t *buf, size_t len)
{
	struct turn_decode_err derr;
	struct req r;

	if (len >= 4 && (buf[0] & 0xc0) == 0x40) {
		channel_data(srv, src, buf, len);
		return;
	}
	memset(&r, 0, sizeof(r));
	r.src = src;
	if (turn_msg_decode(&r.m, buf, len, &derr) || !r.m.cookie ||
	    r.m.buflen != len) {
		bad_message(srv, src, buf, len,
			    !r.m.cookie    ? "no magic cookie"
			    : r.m.buflen != len ? "length field mismatch"
					      : derr.reason);
		return;
	}
	if (turn_msg_attr(&r.m, TURN_A_FINGERPRINT)) {
		if (turn_msg_check_fingerprint(&r.m)) {
			TURN_CNT_ADD(&srv->cnt, bad_messages, 1);
			return; /* not STUN after all (RFC 8489 7.3) */
		}
		r.fp = true;
	}
	r.al = turn_srv_find(srv, src);
	if (r.m.cls == TURN_C_REQUEST)
		handle_request(srv, &r);
	else if (r.m.cls == TURN_C_INDICATION && r.m.method == TURN_M_SEND)
		handle_send(srv, &r);
	else
		TURN_CNT_ADD(&srv->cnt, dropped, 1);
}


/* --- in-process allocations ------------------------------------------------------ */

/**
 * Allocate a TCP relay for the gateway itself (the app-sharing
 * coordinator). It lives until turn_alloc_delete(): its owner, the SIP
 * call, decides its lifetime, and it counts against no user quota.
 */
int turn_alloc_inproc(struct turn_srv *srv, uint64_t call_id, int af,
		      struct turn_alloc **alp)
{
	struct alloc_args a;
	struct turn_src src;
	struct turn_alloc *al;
	int err;

	memset(&src, 0, sizeof(src));
	src.tp = TURN_TP_INPROC;
	src.tport = (uint32_t)call_id;
	memset(&a, 0, sizeof(a));
	a.transport = 6;
	a.af = af;
	err = alloc_create(srv, &src, "(gateway)", &a, &al);
	if (err)
		return err;
	al->call_id = call_id;
	alloc_log(al, "allocated in-process");
	*alp = al;
	return 0;
}


/** Release every port held for a RESERVATION-TOKEN (server teardown) */
void turn_resv_clear(struct turn_srv *srv)
{
	while (srv->resvs)
		resv_drop(srv, srv->resvs, true);
}
