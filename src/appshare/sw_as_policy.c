/**
 * @file sw_as_policy.c  The coordinator's registry of media policies:
 * the struct sw_as_policy of each line of SW_MPOLICIES
 * (base/sw_mpolicy.h), by policy number. Relay and observe are defined
 * with their operations in sw_appshare.c; a new policy in its own file
 * src/appshare/sw_mp_NAME.c.
 */
#include "sw_appshare_int.h"

/* passthrough, strip and reject leave m=applicationsharing to the
 * default hook, which applies their traits to every m= line: the
 * coordinator has nothing to do for them */
const struct sw_as_policy sw_as_mp_passthrough = {0};
const struct sw_as_policy sw_as_mp_strip = {0};
const struct sw_as_policy sw_as_mp_reject = {0};

static const struct sw_as_policy *const registry[SW_MP_COUNT] = {
#define SW_AS_POLICY_ROW_(id, name, traits) [SW_MP_##id] = &sw_as_mp_##name,
	SW_MPOLICIES(SW_AS_POLICY_ROW_)
#undef SW_AS_POLICY_ROW_
};


/** @return the policy's operations (all NULL for SW_MP_UNSET) */
const struct sw_as_policy *sw_as_policy(enum sw_media_policy p)
{
	static const struct sw_as_policy none;

	return (unsigned)p < SW_MP_COUNT && registry[p] ? registry[p] : &none;
}


/** @return whether the call's allocation is the gateway's in-process one */
bool sw_as_inprocess(const struct sw_appshare_call *as)
{
	return sw_as_policy(as->policy)->inprocess;
}
