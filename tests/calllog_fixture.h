/**
 * @file calllog_fixture.h  Fixed call-log records for the calllog unit
 * suite and the CLI snapshot tests: ten calls at fixed times (starting
 * 2026-11-23 08:03:51 UTC, as in Cisco doc 212580's capture), emitted
 * through the public sw_calllog API with their SIP and STUN/TURN bytes.
 */
#ifndef CALLLOG_FIXTURE_H
#define CALLLOG_FIXTURE_H

#include <stdint.h>

#include "sw_calllog.h"

#define FX_T0 1795421031000000LL /* 2026-11-23T08:03:51Z in us */

/* tags in emission order when written to an empty log */
enum fx_call {
	FX_SEED_OBSERVE = 0, /* Cisco doc 212580's ladder, all well */
	FX_RELAY_OK,         /* in-process relay, completion re-INVITE */
	FX_21002,            /* ms-diagnostics-public 21002 */
	FX_ICE_C2E,          /* ICE c->e times out */
	FX_NO_ATTEMPT,       /* the Edge never connects to the relay */
	FX_CANCEL,           /* cancelled by the caller */
	FX_408,              /* no answer from the conference */
	FX_TLS,              /* TLS handshake with the Edge refused */
	FX_NO_TCP_CAND,      /* conference answer without TCP candidates */
	FX_ACTIVE,           /* still in progress */
	FX_N,
};

int fx_write_all(struct sw_calllog *cl, uint64_t uids[FX_N]);

#endif
