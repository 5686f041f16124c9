/**
 * @file sw_router.c  The route decision's one reading that every layer
 * shares (the media policy of an m= type), and the compact copy a call
 * keeps of it (sw_router.h).
 */
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "sw_router.h"


/**
 * The policy for one m= type: the rules' media.<type> (the type compared
 * case-insensitively, as match.media does), else the result's
 * media.default, else relay. This is the one place the policy of a call
 * is decided: the SDP hooks, the call log and `shareway locate` all ask
 * it (sw_route_media_policy(), or sw_route_kept_policy() on the copy a
 * call keeps). Relay is the default because relaying application sharing is what
 * the gateway is for: a dial plan that says nothing about media puts the
 * gateway's relay in the path of m=applicationsharing. Relay (and
 * observe) act on m=applicationsharing only; other types pass through
 * unchanged under them, as under passthrough.
 */
static enum sw_media_policy policy_of(const struct sw_route_media *m,
				      unsigned n, enum sw_media_policy def,
				      const char *media_type)
{
	for (unsigned i = 0; media_type && i < n; ++i)
		if (!strcasecmp(m[i].type, media_type) && m[i].policy)
			return m[i].policy;
	return def ? def : SW_MP_RELAY;
}


enum sw_media_policy sw_route_media_policy(const struct sw_route_result *res,
					   const char *media_type)
{
	if (!res)
		return SW_MP_RELAY;
	return policy_of(res->media, res->n_media, res->media_default,
			 media_type);
}


/** The same reading of a call's kept copy (NULL: not routed, relay) */
enum sw_media_policy sw_route_kept_policy(const struct sw_route_kept *k,
					  const char *media_type)
{
	if (!k)
		return SW_MP_RELAY;
	return policy_of(k->media, k->n_media, k->media_default, media_type);
}


/**
 * Empty a result before routing into it again: its scalars and short
 * strings zeroed, its long strings emptied, its trace counts 0. A
 * memset of the whole (~40 KB) per INVITE was most of routing's cost;
 * what is past the counts and the NULs is never read.
 */
void sw_route_result_reset(struct sw_route_result *res)
{
	memset(res, 0, offsetof(struct sw_route_result, ruri_in));
	res->ruri_in[0] = res->ruri[0] = res->to[0] = res->target_uri[0] =
		'\0';
}


static unsigned n_media_of(const struct sw_route_result *res)
{
	return res->n_media < SW_ROUTE_MAX_MEDIA ? res->n_media
						 : SW_ROUTE_MAX_MEDIA;
}


/* the kept strings, in the order sw_route_keep() lays them out */
static void kept_strs(const struct sw_route_result *res, const char *s[6])
{
	s[0] = res->rule;
	s[1] = res->ruri_in;
	s[2] = res->ruri;
	s[3] = res->to_rewritten ? res->to : "";
	s[4] = res->target_zone;
	s[5] = res->target_uri;
}


/** Bytes sw_route_keep() needs for res */
size_t sw_route_keep_size(const struct sw_route_result *res)
{
	const char *s[6];
	size_t n = sizeof(struct sw_route_kept) +
		   n_media_of(res) * sizeof(struct sw_route_media);

	kept_strs(res, s);
	for (unsigned i = 0; i < 6; ++i)
		n += strlen(s[i]) + 1;
	return n;
}


/**
 * The compact copy of res a call keeps, laid out in mem (size bytes,
 * aligned for a pointer, at least sw_route_keep_size(res)): the struct,
 * its media policies, then its strings
 *
 * @return mem as the copy, NULL if size is too small
 */
struct sw_route_kept *sw_route_keep(const struct sw_route_result *res,
				    void *mem, size_t size)
{
	struct sw_route_kept *k = mem;
	struct sw_route_media *m = (struct sw_route_media *)(k + 1);
	const char **dst[6] = {&k->rule, &k->ruri_in, &k->ruri, &k->to,
			       &k->target_zone, &k->target_uri};
	const char *s[6];
	char *p;

	if (!res || !mem || size < sw_route_keep_size(res))
		return NULL;
	k->outcome = res->outcome;
	k->transport = res->transport;
	k->media_default = res->media_default;
	k->n_media = n_media_of(res);
	k->media = m;
	memcpy(m, res->media, k->n_media * sizeof(*m));
	p = (char *)(m + k->n_media);
	kept_strs(res, s);
	for (unsigned i = 0; i < 6; ++i) {
		size_t n = strlen(s[i]) + 1;

		memcpy(p, s[i], n);
		*dst[i] = p;
		p += n;
	}
	return k;
}
