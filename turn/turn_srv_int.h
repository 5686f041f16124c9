/**
 * @file turn_srv_int.h  Internals of the TURN server core shared by
 * turn_srv.c (the server object: clock, ids, timers, tables, peer policy)
 * and turn_alloc.c (allocations, connections, request handlers). Not for
 * the relay layer: it uses turn_alloc.h only.
 */
#ifndef TURN_SRV_INT_H
#define TURN_SRV_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "turn_alloc.h"

#define HASH_SIZE 8192 /* buckets per table; chains absorb the rest */
#define ID_BITS 26

struct turn_srv {
	struct turn_srv_cfg cfg;
	const struct sw_conf *conf;
	uint64_t now;  /* ms, monotonic */
	int64_t wall;  /* unix s, for REST API expiry */
	uint64_t rnd;  /* xorshift state: indication transaction ids */
	struct turn_counters cnt;
	struct turn_timer **heap;
	size_t heap_n, heap_cap;
	struct turn_alloc *atab[HASH_SIZE]; /* by 5-tuple */
	struct turn_alloc *allocs;          /* all, for ids and teardown */
	struct turn_conn *ctab[HASH_SIZE];  /* by CONNECTION-ID */
	uint32_t seq;
	struct turn_resv *resvs; /* RESERVATION-TOKENs: turn_alloc.c */
	struct turn_redirect redirect; /* turn_srv_set_redirect() */
	struct sw_cidr deny_def[12];
	unsigned n_deny_def;
	struct sw_cidr loopback[2]; /* a wildcard listener answers there */
	uint8_t tx[TURN_BUF_SIZE]; /* response scratch */
};

uint32_t turn_srv_new_id(struct turn_srv *srv);
uint64_t turn_srv_rnd64(struct turn_srv *srv);
unsigned turn_srv_hash_src(const struct turn_src *src);
void turn_srv_alloc_hash(struct turn_srv *srv, struct turn_alloc *al);
void turn_srv_alloc_unhash(struct turn_srv *srv, struct turn_alloc *al);
void turn_srv_conn_hash(struct turn_srv *srv, struct turn_conn *tc);
void turn_srv_conn_unhash(struct turn_srv *srv, struct turn_conn *tc);
void turn_resv_clear(struct turn_srv *srv);

#endif
