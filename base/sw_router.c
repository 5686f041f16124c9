/**
 * @file sw_router.c  The route decision's one reading that every layer
 * shares: the media policy of an m= type (sw_router.h).
 */
#include <strings.h>

#include "sw_router.h"


/**
 * The policy for one m= type: the rules' media.<type> (the type compared
 * case-insensitively, as match.media does), else the result's
 * media.default, else relay. This is the one place the policy of a call
 * is decided: the SDP hooks, the call log and `shareway locate` all ask
 * it. Relay is the default because relaying application sharing is what
 * the gateway is for: a dial plan that says nothing about media puts the
 * gateway's relay in the path of m=applicationsharing. Relay (and
 * observe) act on m=applicationsharing only; other types pass through
 * unchanged under them, as under passthrough.
 */
enum sw_media_policy sw_route_media_policy(const struct sw_route_result *res,
					   const char *media_type)
{
	if (!res)
		return SW_MP_RELAY;
	for (unsigned i = 0; media_type && i < res->n_media; ++i)
		if (!strcasecmp(res->media[i].type, media_type) &&
		    res->media[i].policy)
			return res->media[i].policy;
	return res->media_default ? res->media_default : SW_MP_RELAY;
}
