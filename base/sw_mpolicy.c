/**
 * @file sw_mpolicy.c  The media policies' names and traits, made from
 * the registry (SW_MPOLICIES in sw_mpolicy.h), and the one place a name
 * is turned into a policy.
 */
#include <errno.h>
#include <string.h>

#include "sw_mpolicy.h"

static const struct {
	const char *name;
	unsigned traits;
} policies[SW_MP_COUNT] = {
	[SW_MP_UNSET] = {"unset", 0},
#define SW_MP_ROW_(id, nm, tr) [SW_MP_##id] = {#nm, tr},
	SW_MPOLICIES(SW_MP_ROW_)
#undef SW_MP_ROW_
};


/** @return "passthrough", "relay", ...; "unset" for SW_MP_UNSET */
const char *sw_media_policy_name(enum sw_media_policy p)
{
	if ((unsigned)p >= SW_MP_COUNT)
		return "?";
	return policies[p].name;
}


/**
 * Parse a media policy word, as a rule writes it and the call log
 * records it (case-sensitive)
 *
 * @return 0, or EINVAL if s names no policy of the registry
 */
int sw_media_policy_parse(const char *s, enum sw_media_policy *p)
{
	if (!s || !p)
		return EINVAL;
	for (unsigned i = SW_MP_UNSET + 1; i < SW_MP_COUNT; ++i) {
		if (!strcmp(s, policies[i].name)) {
			*p = (enum sw_media_policy)i;
			return 0;
		}
	}
	return EINVAL;
}


/** @return the policy's SW_MPF_* traits, 0 for none or no policy */
unsigned sw_media_policy_traits(enum sw_media_policy p)
{
	return (unsigned)p < SW_MP_COUNT ? policies[p].traits : 0;
}


/** @return the traits of the policy a call record names (NULL, or a
 *          name no longer known: none, as passthrough) */
unsigned sw_media_policy_traits_of(const char *name)
{
	enum sw_media_policy p;

	return sw_media_policy_parse(name, &p) ? 0 : sw_media_policy_traits(p);
}
