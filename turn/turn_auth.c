/**
 * @file turn_auth.c  Long-term credentials (RFC 8489 9.2), the TURN REST
 * API shared-secret scheme (draft-uberti-behave-turn-rest), stateless
 * nonces and the allocation quota ledger.
 *
 * Nonce: 16 hex digits of the issue time (ms, monotonic) followed by 16
 * hex digits of HMAC-SHA1(key, time || bind), bind naming the client's
 * transport (turn_alloc.c: transport, client and server address and
 * port), as RFC 8489 9.2 allows a server to do. The key is drawn once per
 * process and copied into every relay thread, so a nonce issued on one
 * thread is good on all of them (a ConnectionBind may land on another
 * thread than its allocation) and no nonce table is kept. Bound to the
 * address, a nonce is good only where it was issued: an authenticated
 * request captured and replayed on another connection gets 438 (as
 * coturn answers), so it cannot take the victim's quota. A client's
 * ConnectionBind on its new data connection may carry the nonce of its
 * control connection (turn_alloc.c connbind_owner).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define SW_LOG_MODULE "turn"
#include "sw_log.h"
#include "turn_auth.h"


static void nonce_mac(const uint8_t key[TURN_NONCE_KEY_LEN], uint64_t t,
		      const uint8_t *bind, size_t bind_len, char out[17])
{
	uint8_t msg[8 + TURN_NONCE_BIND_MAX], md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;

	if (bind_len > TURN_NONCE_BIND_MAX)
		bind_len = TURN_NONCE_BIND_MAX;
	for (int i = 0; i < 8; ++i)
		msg[i] = (uint8_t)(t >> (56 - 8 * i));
	if (bind_len)
		memcpy(msg + 8, bind, bind_len);
	HMAC(EVP_sha1(), key, TURN_NONCE_KEY_LEN, msg, 8 + bind_len, md,
	     &mdlen);
	for (int i = 0; i < 8; ++i)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}


/** Make a nonce stamped with now_ms, bound to bind (bind_len bytes, at
 * most TURN_NONCE_BIND_MAX) */
void turn_nonce_make(const uint8_t key[TURN_NONCE_KEY_LEN], uint64_t now_ms,
		     const uint8_t *bind, size_t bind_len,
		     char nonce[TURN_NONCE_LEN + 1])
{
	snprintf(nonce, 17, "%016" PRIx64, now_ms);
	nonce_mac(key, now_ms, bind, bind_len, nonce + 16);
}


/**
 * Check a nonce made by turn_nonce_make() with the same key and bind
 *
 * @return 0, EBADMSG if it is not ours or made for another bind,
 *         ETIMEDOUT if it is stale
 */
int turn_nonce_check(const uint8_t key[TURN_NONCE_KEY_LEN], const char *nonce,
		     const uint8_t *bind, size_t bind_len, uint64_t now_ms,
		     uint64_t lifetime_ms)
{
	char ts[17], mac[17];
	uint64_t t;
	char *end;

	if (strlen(nonce) != TURN_NONCE_LEN)
		return EBADMSG;
	memcpy(ts, nonce, 16);
	ts[16] = '\0';
	errno = 0;
	t = strtoull(ts, &end, 16);
	if (errno || *end)
		return EBADMSG;
	nonce_mac(key, t, bind, bind_len, mac);
	if (CRYPTO_memcmp(mac, nonce + 16, 16))
		return EBADMSG;
	if (t > now_ms || now_ms - t > lifetime_ms)
		return ETIMEDOUT;
	return 0;
}


/**
 * TURN REST API password: base64(HMAC-SHA1(secret, user))
 *
 * @return 0 or ENOSPC
 */
int turn_rest_password(const char *secret, const char *user, char *pw,
		       size_t sz)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;

	HMAC(EVP_sha1(), secret, (int)strlen(secret), (const uint8_t *)user,
	     strlen(user), md, &mdlen);
	if (sz < 4 * ((mdlen + 2) / 3) + 1)
		return ENOSPC;
	EVP_EncodeBlock((uint8_t *)pw, md, (int)mdlen);
	return 0;
}


/* "1700000000:alice" -> expiry 1700000000; false if not of that form */
static bool rest_expiry(const char *user, int64_t *expiry)
{
	const char *colon = strchr(user, ':');
	char *end;
	long long v;

	if (!colon || colon == user)
		return false;
	errno = 0;
	v = strtoll(user, &end, 10);
	if (errno || end != colon || v < 0)
		return false;
	*expiry = v;
	return true;
}


/* The i-th REST secret in force: static_auth_secret, then the others */
static const char *rest_secret(const struct sw_conf *conf, unsigned i)
{
	if (conf->turn_static_auth_secret[0]) {
		if (!i)
			return conf->turn_static_auth_secret;
		--i;
	}
	return i < conf->n_turn_secrets && i < SW_CONF_MAX_SECRETS ?
		       conf->turn_secrets[i] : NULL;
}


/**
 * The i-th password user may have: a static user's (i = 0 only), else a
 * REST API username's under the i-th REST secret in force (several
 * during a rotation: the caller tries each until MESSAGE-INTEGRITY
 * matches)
 *
 * @return 0, ENOENT (unknown user, or no i-th password) or ETIMEDOUT
 *         (REST username expired)
 */
int turn_auth_password_n(const struct sw_conf *conf, const char *user,
			 int64_t wall_s, unsigned i, char *pw, size_t sz)
{
	const char *secret;
	int64_t expiry;

	for (unsigned u = 0; u < conf->n_turn_users; ++u) {
		if (strcmp(conf->turn_users[u].name, user))
			continue;
		if (i)
			return ENOENT;
		snprintf(pw, sz, "%s", conf->turn_users[u].password);
		return 0;
	}
	secret = rest_secret(conf, i);
	if (!secret || !rest_expiry(user, &expiry))
		return ENOENT;
	if (expiry < wall_s)
		return ETIMEDOUT;
	return turn_rest_password(secret, user, pw, sz);
}


/** Password of user: the first of turn_auth_password_n() */
int turn_auth_password(const struct sw_conf *conf, const char *user,
		       int64_t wall_s, char *pw, size_t sz)
{
	return turn_auth_password_n(conf, user, wall_s, 0, pw, sz);
}


/** The name quotas count under: REST usernames count as their USER part */
const char *turn_auth_quota_name(const struct sw_conf *conf, const char *user)
{
	int64_t expiry;

	for (unsigned i = 0; i < conf->n_turn_users; ++i)
		if (!strcmp(conf->turn_users[i].name, user))
			return user;
	if (rest_expiry(user, &expiry))
		return strchr(user, ':') + 1;
	return user;
}


/* --- quota ledger ------------------------------------------------------ */

#define QUOTA_BUCKETS 256

struct quota_ent {
	struct quota_ent *next;
	uint32_t count;
	char name[];
};

struct turn_quota {
	pthread_mutex_t lock;
	uint32_t user_max, total_max; /* 0 = unlimited */
	uint32_t total;               /* guarded by lock */
	struct quota_ent *b[QUOTA_BUCKETS];
};


static unsigned quota_hash(const char *s)
{
	unsigned h = 5381;

	while (*s)
		h = h * 33 + (unsigned char)*s++;
	return h % QUOTA_BUCKETS;
}


/**
 * Allocate the process-wide quota ledger (one per daemon, shared by the
 * relay threads)
 */
int turn_quota_alloc(struct turn_quota **qp, uint32_t user_max,
		     uint32_t total_max)
{
	struct turn_quota *q;

	if (!qp)
		return EINVAL;
	q = calloc(1, sizeof(*q));
	if (!q)
		return ENOMEM;
	pthread_mutex_init(&q->lock, NULL);
	q->user_max = user_max;
	q->total_max = total_max;
	*qp = q;
	return 0;
}


void turn_quota_free(struct turn_quota *q)
{
	if (!q)
		return;
	for (unsigned i = 0; i < QUOTA_BUCKETS; ++i) {
		while (q->b[i]) {
			struct quota_ent *e = q->b[i];

			q->b[i] = e->next;
			free(e);
		}
	}
	pthread_mutex_destroy(&q->lock);
	free(q);
}


static struct quota_ent **quota_find(struct turn_quota *q, const char *user)
{
	struct quota_ent **pp = &q->b[quota_hash(user)];

	while (*pp && strcmp((*pp)->name, user))
		pp = &(*pp)->next;
	return pp;
}


/**
 * Count one more allocation for user
 *
 * @return 0, EDQUOT (user quota: 486) or ENOSPC (total quota: 508)
 */
int turn_quota_take(struct turn_quota *q, const char *user)
{
	struct quota_ent **pp;
	int err = 0;

	if (!q)
		return 0;
	pthread_mutex_lock(&q->lock);
	if (q->total_max && q->total >= q->total_max) {
		err = ENOSPC;
		goto out;
	}
	pp = quota_find(q, user);
	if (*pp && q->user_max && (*pp)->count >= q->user_max) {
		err = EDQUOT;
		goto out;
	}
	if (!*pp) {
		size_t n = strlen(user) + 1;

		*pp = calloc(1, sizeof(**pp) + n);
		if (!*pp) {
			err = ENOMEM;
			goto out;
		}
		memcpy((*pp)->name, user, n);
	}
	++(*pp)->count;
	++q->total;
out:
	pthread_mutex_unlock(&q->lock);
	return err;
}


/** Give back what turn_quota_take() counted */
void turn_quota_release(struct turn_quota *q, const char *user)
{
	struct quota_ent **pp, *e;

	if (!q)
		return;
	pthread_mutex_lock(&q->lock);
	pp = quota_find(q, user);
	e = *pp;
	if (e) {
		if (q->total)
			--q->total;
		if (--e->count == 0) {
			*pp = e->next;
			free(e);
		}
	}
	pthread_mutex_unlock(&q->lock);
}
