/**
 * @file sipua_route.c  From a parsed SIP request to the router's decision.
 *
 * sip/ extracts what a router may test (R-URI, From, To, any header, the
 * offer's media types) and asks the router given to sipua_create(), the
 * dial plan in sharewayd; it never reads a rule itself. The same function
 * serves the live INVITE path and the libFuzzer target
 * (tests/fuzz/fuzz_sip.c), so the fuzzer drives exactly the header
 * extraction and rule matching the daemon runs.
 */
#include <errno.h>
#include <string.h>

#include "sipua_int.h"
#include "sdpr.h"

#include <sofia-sip/su_string.h>
#include <sofia-sip/url.h>
#include <sofia-sip/msg.h>
#include <sofia-sip/msg_header.h>

struct route_ctx {
	su_home_t *home;
	const char *name;  /* header asked for */
	const char *value; /* its value, once found */
};


static bool route_header_match(const msg_header_t *h, void *arg)
{
	struct route_ctx *rc = arg;
	const msg_hclass_t *hc = h->sh_class;

	if (hc == sip_request_class || hc == sip_status_class ||
	    hc == sip_payload_class || hc == sip_separator_class ||
	    hc == sip_error_class)
		return false;
	if (hc == sip_unknown_class) {
		if (!h->sh_unknown->un_name ||
		    !su_casematch(h->sh_unknown->un_name, rc->name))
			return false;
		rc->value = h->sh_unknown->un_value;
		return true;
	}
	if (!(hc->hc_name && su_casematch(hc->hc_name, rc->name)) &&
	    !(hc->hc_short[0] && su_casematch(hc->hc_short, rc->name)))
		return false;
	rc->value = sip_header_as_string(rc->home, (const sip_header_t *)h);
	return true;
}


struct route_arg {
	su_home_t *home;
	const sip_t *sip;
};


/* header.<Name> of the rules: the first header so named, as text */
static const char *route_header(void *arg, const char *name)
{
	struct route_arg *ra = arg;
	struct route_ctx rc = {ra->home, name, NULL};

	if (name)
		sipua_hdr_each(ra->sip, route_header_match, &rc);
	return rc.value;
}


static void route_media(struct sw_route_input *in, const struct sdpr *sdp)
{
	unsigned n = sdp ? sdpr_media_count(sdp) : 0;

	for (unsigned i = 0; i < n && in->n_media < SW_ROUTE_MAX_INPUT_MEDIA;
	     ++i) {
		const char *t = sdpr_media_type(sdp, (int)i);

		if (t)
			in->media[in->n_media++] = t;
	}
}


/**
 * Run the dial plan on a request
 *
 * @param zone  source zone name, or NULL
 * @param src   source "ip:port" for the trace, or NULL
 * @param sdp   the offer's parse (sipua_sdp_open(): the crossing that
 *              follows reads the same), or NULL
 * @return 0, EINVAL (no request line), ENOMEM, or the router's
 */
int sipua_route(const struct sw_router *router, const void *plan,
		const sip_t *sip, const char *zone, const char *src,
		const struct sdpr *sdp, struct sw_route_result *out)
{
	su_home_t home[1] = {SU_HOME_INIT(home)};
	struct sw_route_input in;
	struct route_arg rc = {home, sip};
	int err;

	if (!router || !plan || !sip || !sip->sip_request)
		return EINVAL;
	memset(&in, 0, sizeof(in));
	in.source_zone = zone;
	in.source_addr = src;
	in.ruri = url_as_string(home, sip->sip_request->rq_url);
	if (sip->sip_from)
		in.from = sip_header_as_string(
			home, (const sip_header_t *)sip->sip_from);
	if (sip->sip_to)
		in.to = sip_header_as_string(home,
					     (const sip_header_t *)sip->sip_to);
	in.header = route_header;
	in.header_arg = &rc;
	route_media(&in, sdp);
	err = in.ruri ? router->route(plan, &in, out) : ENOMEM;
	su_home_deinit(home);
	return err;
}


/**
 * Parse one raw SIP message the way the stack does and, if it is a
 * request, route it as the daemon would: headers the other leg would get,
 * the SDP (multipart reduced) and the dial plan (the libFuzzer target and
 * a dry run use it)
 *
 * @param zone  source zone name, or NULL
 * @return 0 (out filled), EBADMSG (not a parseable request), ENOMEM,
 *         or the routing error
 */
int sipua_msg_route(const struct sw_router *router, const void *plan,
		    const struct sw_conf *conf, const void *data, size_t len,
		    const char *zone, struct sw_route_result *out)
{
	su_home_t home[1] = {SU_HOME_INIT(home)};
	struct sipua_sdp sdp = {0};
	msg_t *msg;
	sip_t *sip;
	int err = EBADMSG;

	if (!data || len > SW_SIP_MSG_MAX)
		return EINVAL;
	msg = msg_make(sip_default_mclass(), 0, data, (ssize_t)len);
	sip = msg ? sip_object(msg) : NULL;
	if (!sip || !sip->sip_request || msg_has_error(msg))
		goto out;
	(void)sipua_hdr_copy(home, conf, sip, true);
	(void)sipua_sdp_open(home, sip, &sdp);
	err = sipua_route(router, plan, sip, zone, "127.0.0.2:5060",
			  sdp.model, out);
	sipua_sdp_close(&sdp);
out:
	msg_destroy(msg);
	su_home_deinit(home);
	return err;
}
