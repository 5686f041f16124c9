/**
 * @file sipua_hop.c  Where a leg's requests go: a numeric next hop, pinned.
 *
 * No name written by an outsider is ever resolved (RFC 3261 leaves the
 * choice of next hop to the element: 8.1.2 "outbound proxy", 12.2.1.1).
 * Each leg's nua handle gets, before any request can leave on it, a next
 * hop that is an IP address and port with a transport
 * (NUTAG_PROXY, i.e. NTATAG_DEFAULT_PROXY, as a handle parameter): nta
 * then sends every request of the dialog there, the ACK, the BYE, a
 * re-INVITE, a session refresh and the BYE nua sends on its own at Timer
 * H or at shutdown included, without looking at the Request-URI (the
 * peer's Contact), the Route set (its Record-Route) or any name in them;
 * the message itself keeps them as RFC 3261 12.2.1.1 builds it.
 *  - leg A: the address and transport the dialog-forming request came
 *    from (for TCP/TLS Sofia finds the connection by that address, so
 *    requests go back on the same connection while it lives);
 *  - leg B: the route's target, from the configuration, as an address.
 *
 * Sofia-SIP 1.12.11 also resolves, with a blocking getaddrinfo() in
 * tport_resolve(), the Via sent-by or maddr host of responses that nta
 * sends before any application callback (505, 413, a TCP connection gone)
 * and has no tag to turn it off. getaddrinfo() is therefore narrowed, in
 * this process, to numeric hosts: see the end of this file.
 */
#include <dlfcn.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#define SW_LOG_MODULE "sip"
#include "sw_log.h"
#include "sipua_int.h"

#include <sofia-sip/url.h>
#include <sofia-sip/su_string.h>

/* The numeric URI of a next hop: "sip:IP:PORT;transport=udp|tcp",
 * "sips:IP:PORT" (nta takes a sips: proxy as TLS) */
char *sipua_hop_uri(su_home_t *home, const struct sw_sa *a,
		    enum sw_transport tp)
{
	char s[SW_SA_STRLEN];

	if (!sw_sa_isset(a) || !sw_sa_port(a))
		return NULL;
	sw_sa_str(a, s, sizeof(s));
	if (tp == SW_TP_TLS)
		return su_sprintf(home, "sips:%s", s);
	return su_sprintf(home, "sip:%s;transport=%s", s,
			  sw_transport_name(tp));
}


/* An IP address from a URI host ("[v6]" or bare); 0 or EINVAL */
static int host_ip(struct sw_sa *a, const char *host, uint16_t port)
{
	char h[SW_SA_STRLEN];
	size_t n = strlen(host);

	if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
		if (n - 2 >= sizeof(h))
			return EINVAL;
		memcpy(h, host + 1, n - 2);
		h[n - 2] = '\0';
		host = h;
	}
	return sw_sa_set_ip(a, host, port);
}


/**
 * The next hop of a target URI whose host is an IP address, NULL if it
 * names a host (or is not a SIP URI)
 */
char *sipua_hop_numeric(su_home_t *home, const char *uri,
			enum sw_transport tp)
{
	su_home_t tmp[1] = {SU_HOME_INIT(tmp)};
	url_t *u = uri && *uri ? url_make(tmp, uri) : NULL;
	unsigned long port = tp == SW_TP_TLS ? 5061 : 5060;
	char *hop = NULL;
	struct sw_sa a;

	if (u && (u->url_type == url_sip || u->url_type == url_sips) &&
	    u->url_host) {
		if (u->url_port && *u->url_port)
			port = strtoul(u->url_port, NULL, 10);
		if (port && port < 65536 &&
		    !host_ip(&a, u->url_host, (uint16_t)port))
			hop = sipua_hop_uri(home, &a, tp);
	}
	su_home_deinit(tmp);
	return hop;
}


/** Pin a leg's next hop on its handle (every request of its dialog) */
void sipua_hop_pin(struct sipua_leg *l, const char *hop)
{
	if (!l->nh || !hop)
		return;
	l->hop = su_strdup(l->call->home, hop);
	nua_set_hparams(l->nh, NUTAG_PROXY(l->hop), TAG_END());
}


/*
 * getaddrinfo() of this process, numeric hosts only.
 *
 * A name from a message must never reach a resolver: with a resolver
 * that does not answer, a blocking lookup stalls the SIP thread; with
 * none reachable Sofia spins. Every name the configuration holds is
 * resolved elsewhere (the resolver thread), never by getaddrinfo(), so
 * the only callers left with a name are Sofia's transports acting on a
 * message; they get EAI_NONAME at once, as for a name that does not
 * exist, and drop that one response. Defined in the executable, this
 * definition takes precedence over libc's for the shared libraries too
 * (ELF symbol interposition); libc's does the numeric work.
 */
typedef int(gai_fn)(const char *, const char *, const struct addrinfo *,
		    struct addrinfo **);

static _Atomic unsigned long long names_refused;
static gai_fn *gai_real;
static pthread_once_t gai_once = PTHREAD_ONCE_INIT;

static void gai_init(void)
{
	*(void **)&gai_real = dlsym(RTLD_NEXT, "getaddrinfo");
}


int getaddrinfo(const char *node, const char *service,
		const struct addrinfo *hints, struct addrinfo **res)
{
	struct addrinfo h;
	int e;

	pthread_once(&gai_once, gai_init);
	if (!gai_real)
		return EAI_SYSTEM;
	if (hints)
		h = *hints;
	else {
		memset(&h, 0, sizeof(h));
		h.ai_family = AF_UNSPEC;
		h.ai_flags = AI_V4MAPPED | AI_ADDRCONFIG;
	}
	h.ai_flags |= AI_NUMERICHOST;
	e = gai_real(node, service, &h, res);

	if (e == EAI_NONAME && node) {
		++names_refused;
		sw_log_limited(SW_LOG_WARN, "name not resolved: '%.64s' "
			       "(the gateway looks up no name from a "
			       "message)", node);
	}
	return e;
}


/** getaddrinfo() calls refused a name since the start */
unsigned long long sipua_names_refused(void)
{
	return names_refused;
}


static bool uri_is_sip(const url_t *u)
{
	return u && (u->url_type == url_sip || u->url_type == url_sips) &&
	       u->url_host && *u->url_host;
}


/**
 * The Contact and Record-Route of a dialog-forming (or target refresh)
 * message: RFC 3261 8.1.1.8 and 12.1.1/12.1.2 want exactly one Contact
 * with a SIP or SIPS URI, and the route set is made of SIP URIs too.
 * A tel:, mailto: or scheme-less Contact would become the dialog's remote
 * target, toward which nothing can be built.
 *
 * @param need_contact  a missing Contact is an error too
 * @return NULL if they are fine, else what is wrong (a reason phrase)
 */
const char *sipua_dialog_uris_check(const sip_t *sip, bool need_contact)
{
	const sip_contact_t *m = sip ? sip->sip_contact : NULL;

	if (!m)
		return need_contact ? "Missing Contact" : NULL;
	if (m->m_next)
		return "More than one Contact";
	if (!uri_is_sip(m->m_url))
		return "Contact is not a SIP or SIPS URI";
	for (const sip_record_route_t *r = sip->sip_record_route; r;
	     r = r->r_next)
		if (!uri_is_sip(r->r_url))
			return "Record-Route is not a SIP or SIPS URI";
	return NULL;
}
