/**
 * @file sw_mpolicy.h  The media policies' registry: what a
 * `media.<type> = NAME` line of the dial plan may name, one line per
 * policy in SW_MPOLICIES, from which the policy's number, its name and
 * the traits the layers below the coordinator act on are made. The name
 * a rule writes and the call log records is turned into a policy in one
 * place, sw_media_policy_parse(). What a policy does with
 * m=applicationsharing (its operations on an SDP crossing, relay events,
 * the completion) is the coordinator's: one struct sw_as_policy per
 * policy in src/appshare/, found by the same line. Adding a policy is a
 * line here and a file src/appshare/sw_mp_NAME.c.
 */
#ifndef SW_MPOLICY_H
#define SW_MPOLICY_H

#include <stdbool.h>

/* Traits of a policy, read below the coordinator */
#define SW_MPF_TURN   0x01u /* its media run through the gateway's TURN
			       server (passthrough when that is off; the
			       verdict looks at the relay's allocation and
			       connections) */
#define SW_MPF_ANCHOR 0x02u /* the gateway's own relay connects to the
			       conference's candidates (the verdict wants a
			       usable TCP candidate in its answer) */
#define SW_MPF_PORT0  0x04u /* the type's m= lines cross with port 0
			       (RFC 3264 8.2) */
#define SW_MPF_REFUSE 0x08u /* an offer with the type is refused, 488 */
#define SW_MPF_REMOVE 0x10u /* application sharing removed by rule: the
			       verdict judges the call without it */

/*
 * X(ID, name, traits), in the order of enum sw_media_policy:
 * passthrough: SDP and media untouched;
 * relay: the gateway's own RFC 6062 relay in the path;
 * observe: the conference is the TURN client; tie its allocations;
 * strip: remove the m= line (port 0 in the answer);
 * reject: refuse the call (488) if the offer has it.
 */
#define SW_MPOLICIES(X)                                                       \
	X(PASSTHROUGH, passthrough, 0)                                        \
	X(RELAY, relay, SW_MPF_TURN | SW_MPF_ANCHOR)                          \
	X(OBSERVE, observe, SW_MPF_TURN)                                      \
	X(STRIP, strip, SW_MPF_PORT0 | SW_MPF_REMOVE)                         \
	X(REJECT, reject, SW_MPF_PORT0 | SW_MPF_REFUSE)                       \
	/* a new policy: a line above this one */

/** What a media.<type> line asks for the matching m= lines */
enum sw_media_policy {
	SW_MP_UNSET = 0, /* not set by any rule */
#define SW_MP_ENUM_(id, name, traits) SW_MP_##id,
	SW_MPOLICIES(SW_MP_ENUM_)
#undef SW_MP_ENUM_
	SW_MP_COUNT
};

/* "passthrough | relay | ...": the names, for a message */
#define SW_MP_NAME_(id, name, traits) " | " #name
#define SW_MEDIA_POLICY_NAMES (SW_MPOLICIES(SW_MP_NAME_) + 3)

const char *sw_media_policy_name(enum sw_media_policy p);
int sw_media_policy_parse(const char *s, enum sw_media_policy *p);
unsigned sw_media_policy_traits(enum sw_media_policy p);
unsigned sw_media_policy_traits_of(const char *name);

#endif
