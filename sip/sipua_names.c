/**
 * @file sipua_names.c  The configuration's target names, as addresses.
 *
 * A zone's target or peer, or a rule's target URI, may name a host.
 * Sofia would resolve it on the SIP thread, per call, with its own
 * resolver (and spin when no resolver can be reached); here the resolver thread
 * (base/sw_resolve.c) keeps every such name resolved, and this table, on
 * the SIP thread, holds the last address each name had. A call toward a
 * name never waits: it goes to that address, or gets 503 while the name
 * has none. sipua_names_sync() sends the set of names again (load, rule
 * reload, zone reload); addresses of names still in the set are kept.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SW_LOG_MODULE "sip"
#include "sw_log.h"
#include "sipua_int.h"
#include "sw_resolve.h"

#include <sofia-sip/url.h>

struct sipua_name {
	char key[SW_RESOLVE_NAME];   /* the target URI as configured */
	struct sw_sa addr;           /* unset until resolved */
	bool failed_logged;
};

struct sipua_names {
	struct sw_resolve *res;
	struct sipua_name *v;
	unsigned n;
};


static struct sipua_name *name_find(struct sipua_names *t, const char *key)
{
	for (unsigned i = 0; t && i < t->n; ++i)
		if (!strcmp(t->v[i].key, key))
			return &t->v[i];
	return NULL;
}


static void on_answers(int fd, void *arg)
{
	struct sipua *ua = arg;
	struct sipua_names *t = ua->names;
	struct sw_resolve_answer a;
	char s[SW_SA_STRLEN];

	(void)fd;
	sw_resolve_drain_fd(t->res);
	while (sw_resolve_pop(t->res, &a)) {
		struct sipua_name *nm = name_find(t, a.key);

		if (!nm)
			continue; /* dropped by a reload */
		if (!a.n) {
			/* the last address stays in use until a lookup gives
			 * another: a resolver that fails stops nothing */
			if (!nm->failed_logged)
				sw_warn("target %s not resolved: %s (next try "
					"in %u s%s)", a.key, a.why, a.ttl_s,
					sw_sa_isset(&nm->addr)
						? ", the last address stays"
						: "; calls to it get 503");
			nm->failed_logged = true;
			continue;
		}
		nm->failed_logged = false;
		if (!sw_sa_cmp(&nm->addr, &a.addr[0], true))
			sw_notice("target %s: %s (next lookup in %u s)", a.key,
				  sw_sa_str(&a.addr[0], s, sizeof(s)),
				  a.ttl_s);
		nm->addr = a.addr[0];
	}
}


static bool uri_is_name(const char *uri, enum sw_transport tp)
{
	su_home_t home[1] = {SU_HOME_INIT(home)};
	bool name = uri && *uri && !sipua_hop_numeric(home, uri, tp);

	su_home_deinit(home);
	return name;
}


/* Add the name of a target URI to the new table, keeping what the old
 * one knew; ask the resolver for it */
static void name_add(struct sipua *ua, struct sipua_names *old,
		     struct sipua_name *v, unsigned *n, unsigned cap,
		     const char *uri, enum sw_transport tp)
{
	su_home_t home[1] = {SU_HOME_INIT(home)};
	struct sipua_name *prev;
	url_t *u;
	unsigned long port = 0;

	if (!uri_is_name(uri, tp) || *n >= cap ||
	    strlen(uri) >= SW_RESOLVE_NAME ||
	    name_find(&(struct sipua_names){NULL, v, *n}, uri))
		return;
	u = url_make(home, uri);
	if (u && u->url_host && u->url_port && *u->url_port)
		port = strtoul(u->url_port, NULL, 10);
	if (u && u->url_host && port < 65536 &&
	    !sw_resolve_want(ua->names->res, uri, u->url_host,
			     (uint16_t)port, tp)) {
		memset(&v[*n], 0, sizeof(v[*n]));
		snprintf(v[*n].key, sizeof(v[*n].key), "%s", uri);
		if ((prev = name_find(old, uri)))
			v[*n].addr = prev->addr;
		++*n;
	} else
		sw_warn("target %s: not a host name the gateway can resolve",
			uri);
	su_home_deinit(home);
}


/* The i-th target URI of the current plan, NULL past the last */
static const char *plan_target(const struct sipua *ua, unsigned i,
			       enum sw_transport *tp)
{
	return ua->plan ? ua->router->target(ua->plan, i, tp) : NULL;
}


static unsigned plan_targets(const struct sipua *ua)
{
	unsigned n = 0;

	while (plan_target(ua, n, NULL))
		++n;
	return n;
}


/**
 * Send the set of target names (those of the current plan and of the
 * zones they carry: a reload brings both) to the resolver thread,
 * started at the first name; 0 or an errno value
 */
int sipua_names_sync(struct sipua *ua)
{
	unsigned nz;
	const struct sw_zone *zones = sipua_zones(ua, ua->plan, &nz);
	struct sipua_names *t = ua->names;
	struct sipua_names old;
	unsigned cap = nz + plan_targets(ua), n = 0;
	struct sipua_name *v;
	enum sw_transport tp;
	const char *uri;
	int err;

	for (unsigned i = 0; i < nz; ++i)
		cap += zones[i].n_peers;
	if (!t) {
		t = ua->names = su_zalloc(ua->home, sizeof(*t));
		if (!t)
			return ENOMEM;
	}
	if (!t->res) {
		bool any = false;

		/* no thread for a configuration of addresses only */
		for (unsigned i = 0; i < nz && !any; ++i) {
			any = uri_is_name(zones[i].target, zones[i].transport);
			for (unsigned j = 0; j < zones[i].n_peers && !any; ++j)
				any = uri_is_name(zones[i].peers[j].uri,
						  zones[i].transport);
		}
		for (unsigned i = 0; !any && (uri = plan_target(ua, i, &tp));
		     ++i)
			any = uri_is_name(uri, tp);
		if (!any)
			return 0;
		err = sw_resolve_start(&t->res, NULL);
		if (!err)
			err = sipua_fd_watch(ua, sw_resolve_fd(t->res),
					     on_answers, ua);
		if (err) {
			sw_error("[sip] resolver thread not started: %s; "
				 "targets named by host get 503",
				 strerror(err));
			return err;
		}
	}
	v = cap ? calloc(cap, sizeof(*v)) : NULL;
	if (cap && !v)
		return ENOMEM;
	sw_resolve_reset(t->res);
	old = *t;
	for (unsigned i = 0; i < nz; ++i) {
		name_add(ua, &old, v, &n, cap, zones[i].target,
			 zones[i].transport);
		for (unsigned j = 0; j < zones[i].n_peers; ++j)
			name_add(ua, &old, v, &n, cap, zones[i].peers[j].uri,
				 zones[i].transport);
	}
	for (unsigned i = 0; (uri = plan_target(ua, i, &tp)); ++i)
		name_add(ua, &old, v, &n, cap, uri, tp);
	free(t->v);
	t->v = v;
	t->n = n;
	return 0;
}


/** The address a target URI's name has now, NULL if none (yet) */
const struct sw_sa *sipua_names_addr(struct sipua *ua, const char *uri)
{
	struct sipua_name *nm = name_find(ua->names, uri);

	return nm && sw_sa_isset(&nm->addr) ? &nm->addr : NULL;
}


/**
 * The numeric next hop of a target URI from the configuration: its IP
 * address, or the address the resolver thread last gave its name; NULL
 * while the name has none
 */
char *sipua_names_hop(struct sipua *ua, su_home_t *home, const char *uri,
		      enum sw_transport tp)
{
	char *hop = sipua_hop_numeric(home, uri, tp);
	const struct sw_sa *a;

	if (hop)
		return hop;
	a = sipua_names_addr(ua, uri);
	return a ? sipua_hop_uri(home, a, tp) : NULL;
}


/** Stop the resolver thread (its fd is unwatched already) */
void sipua_names_stop(struct sipua *ua)
{
	struct sipua_names *t = ua->names;

	if (!t)
		return;
	sw_resolve_stop(t->res);
	free(t->v);
	t->res = NULL;
	t->v = NULL;
	t->n = 0;
}
