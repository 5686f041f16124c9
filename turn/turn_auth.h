/**
 * @file turn_auth.h  TURN long-term credentials, stateless nonces, quotas.
 *
 * Passwords come from the static users of [turn] or, for usernames of the
 * TURN REST API form "EXPIRY:USER", from static_auth_secret:
 * password = base64(HMAC-SHA1(secret, username)). A nonce is an
 * HMAC-stamped issue time bound to the client's transport address, so
 * any relay thread can check any nonce without shared state, and a
 * request replayed from another address gets 438. The quota ledger is the one object the relay
 * threads share: it is touched only when an allocation is created or
 * deleted (control plane), under its own mutex.
 */
#ifndef TURN_AUTH_H
#define TURN_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sw_conf.h"

#define TURN_NONCE_KEY_LEN 32
#define TURN_NONCE_LEN 32 /* 16 hex digits of issue time + 16 of HMAC */
#define TURN_NONCE_BIND_MAX 64 /* bytes naming what a nonce is bound to */

void turn_nonce_make(const uint8_t key[TURN_NONCE_KEY_LEN], uint64_t now_ms,
		     const uint8_t *bind, size_t bind_len,
		     char nonce[TURN_NONCE_LEN + 1]);
int turn_nonce_check(const uint8_t key[TURN_NONCE_KEY_LEN], const char *nonce,
		     const uint8_t *bind, size_t bind_len, uint64_t now_ms,
		     uint64_t lifetime_ms);
int turn_rest_password(const char *secret, const char *user, char *pw,
		       size_t sz);
int turn_auth_password(const struct sw_conf *conf, const char *user,
		       int64_t wall_s, char *pw, size_t sz);
int turn_auth_password_n(const struct sw_conf *conf, const char *user,
			 int64_t wall_s, unsigned i, char *pw, size_t sz);
const char *turn_auth_quota_name(const struct sw_conf *conf,
				 const char *user);

struct turn_quota;

int turn_quota_alloc(struct turn_quota **qp, uint32_t user_max,
		     uint32_t total_max);
void turn_quota_free(struct turn_quota *q);
int turn_quota_take(struct turn_quota *q, const char *user);
void turn_quota_release(struct turn_quota *q, const char *user);

#endif
