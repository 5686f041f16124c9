/**
 * @file sw_appshare_sdp.c  What the application-sharing coordinator reads
 * from the SDP of each side (candidates, ufrags) and writes into it: the
 * gateway's relay candidates toward the Edge, its inside candidates
 * toward the conference, and the selected pair of the completion
 * re-INVITE and of the answer to the controlling side's own one.
 *
 * Candidates are TCP, Microsoft form, relay type preference (foundation
 * 101 the relay, 102 the gateway's bridging socket, 103 the inside
 * listener). Components 1 and 2 ride one TCP connection: one candidate
 * line per component with the same address, port and priority (component
 * 1's), as every TCP candidate pair of Lync and of the public samples
 * (pidgin-SIPE commit 6d9e0322: Lync expects it).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay.h"
#include "sdpr.h"
#include "sw_appshare_int.h"

static void add_edge_ip(struct sw_appshare_call *as, const char *addr)
{
	struct sw_sa sa, *v;

	if (sw_sa_set_ip(&sa, addr, 0))
		return;
	for (unsigned i = 0; i < as->n_edge_ips; ++i)
		if (sw_sa_cmp(&as->edge_ips[i], &sa, false))
			return;
	if (as->n_edge_ips >= AS_MAX_CANDS)
		return;
	v = realloc(as->edge_ips, (as->n_edge_ips + 1) * sizeof(*v));
	if (!v)
		return;
	as->edge_ips = v;
	as->edge_ips[as->n_edge_ips++] = sa;
}


/* priority order, highest first (insertion sort: n <= 16) */
static void sort_by_priority(struct as_cand *v, unsigned n)
{
	for (unsigned i = 1; i < n; ++i)
		for (unsigned j = i; j > 0 && v[j].priority > v[j - 1].priority;
		     --j) {
			struct as_cand t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
}


/* Candidates naming a host by name (not an address) are left out: the
 * relay could not connect to them anyway */
static void cand_push(struct as_cand *v, unsigned *n,
		      const struct sdpr_cand *c)
{
	if (*n < AS_MAX_CANDS && !sw_sa_set_ip(&v[*n].addr, c->addr, c->port)) {
		v[*n].priority = c->priority;
		v[*n].component = c->component;
		++*n;
	}
}


/* A list learnt (in v, n long), by priority, into *dst allocated to its
 * size; on a failed allocation it stays empty */
static void cands_keep(struct as_cand **dst, unsigned *n_dst,
		       struct as_cand *v, unsigned n)
{
	sort_by_priority(v, n);
	free(*dst);
	*dst = n ? malloc(n * sizeof(*v)) : NULL;
	*n_dst = *dst ? n : 0;
	if (*dst)
		memcpy(*dst, v, n * sizeof(*v));
}


/* Remember what each side offered: the Edge's candidate addresses (to
 * permit) and passive candidates (for inside connections), the
 * conference's passive candidates (to bridge to) and active ones (named
 * in its completion offer when it connected inside) */
void sw_as_learn(struct sw_appshare_call *as, const struct sdpr *sdp,
		 int m, bool from_edge)
{
	unsigned n = sdpr_cand_count(sdp, m);
	struct sdpr_cand cand;
	struct as_cand pass[AS_MAX_CANDS], act[AS_MAX_CANDS];
	unsigned n_pass = 0, n_act = 0;

	if (from_edge)
		as->targets_dirty = true;
	if (sdpr_ice_ufrag(sdp, m, from_edge ? as->ufrag_edge : as->ufrag_conf,
			   sizeof(as->ufrag_edge)))
		(from_edge ? as->ufrag_edge : as->ufrag_conf)[0] = '\0';
	for (unsigned i = 0; i < n; ++i) {
		bool passive;

		if (sdpr_cand_kind(sdp, m, i) != SDPR_CAND_ICE ||
		    sdpr_cand_get(sdp, m, i, &cand))
			continue;
		passive = cand.transport == SDPR_TP_TCP_PASS ||
			  cand.transport == SDPR_TP_TCP_SO;
		if (from_edge)
			add_edge_ip(as, cand.addr);
		if (passive)
			cand_push(pass, &n_pass, &cand);
		else if (!from_edge && cand.transport == SDPR_TP_TCP_ACT)
			cand_push(act, &n_act, &cand);
	}
	if (from_edge) {
		cands_keep(&as->edge, &as->n_edge, pass, n_pass);
	}
	else {
		cands_keep(&as->conf, &as->n_conf, pass, n_pass);
		cands_keep(&as->conf_act, &as->n_conf_act, act, n_act);
	}
}


/* The distinct addresses of candidates, in their order (components 1 and
 * 2 share one address): at most RELAY_MAX_ADDRS */
unsigned sw_as_cand_addrs(const struct as_cand *v, unsigned n,
			  struct sw_sa *out)
{
	unsigned k = 0;

	for (unsigned i = 0; i < n && k < RELAY_MAX_ADDRS; ++i) {
		bool dup = false;

		for (unsigned j = 0; j < k; ++j)
			dup = dup || sw_sa_cmp(&out[j], &v[i].addr, true);
		if (!dup)
			out[k++] = v[i].addr;
	}
	return k;
}


/* The components of the candidates at address a (any address if NULL) */
unsigned sw_as_cand_comps(const struct as_cand *v, unsigned n,
			  const struct sw_sa *a)
{
	unsigned mask = 0;

	for (unsigned i = 0; i < n; ++i)
		if (v[i].component < 32 &&
		    (!a || sw_sa_cmp(&v[i].addr, a, true)))
			mask |= 1u << v[i].component;
	return mask;
}


unsigned sw_as_components(const struct sw_appshare_call *as)
{
	unsigned mask = sw_as_cand_comps(as->conf, as->n_conf, NULL);

	return mask ? mask : (1u << 1 | 1u << 2);
}


/* A candidate of the gateway, Microsoft form, relay type preference. Its
 * priority is component 1's for every component: both components of a
 * TCP candidate are one connection, and an MS-ICE2 peer wants the two
 * lines identical but for the component (type preference 0, local
 * preference TCP 6 and ACT 5 / PASS 2 as MS-SDPEXT's relay examples) */
static void gw_cand(struct sdpr_cand *c, const char *foundation,
		    unsigned comp, enum sdpr_transport tp,
		    const struct sw_sa *addr, const struct sw_sa *raddr)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->foundation, sizeof(c->foundation), "%s", foundation);
	c->component = comp;
	c->transport = tp;
	c->form = SDPR_FORM_MS;
	c->type = SDPR_CT_RELAY;
	sdpr_ms_priority(&c->priority, SDPR_MS_TYPEPREF_RELAY, tp, 1, 0);
	sw_sa_ntop(addr, c->addr, sizeof(c->addr));
	c->port = sw_sa_port(addr);
	c->has_raddr = c->has_rport = true;
	if (!raddr)
		raddr = addr;
	sw_sa_ntop(raddr, c->raddr, sizeof(c->raddr));
	c->rport = sw_sa_port(raddr);
}


/* The gateway's relay candidate, as the Edge knows it */
static void relay_cand(const struct sw_appshare_call *as, unsigned comp,
		       struct sdpr_cand *c)
{
	gw_cand(c, "101", comp, SDPR_TP_TCP_PASS, &as->relayed,
		as->n_conf ? &as->conf[0].addr : NULL);
}


/* The gateway's inside candidate, as the conference knows it */
static void inside_cand(const struct sw_appshare_call *as, unsigned comp,
			struct sdpr_cand *c)
{
	gw_cand(c, "103", comp, SDPR_TP_TCP_PASS, &as->inside,
		as->n_edge ? &as->edge[0].addr : NULL);
}


/* Add one candidate per component in comps to the m=applicationsharing
 * of sdp (the crossing's parse, edited in place) and print it */
static int add_cands(const struct sw_appshare_call *as, struct sdpr *sdp,
		     unsigned comps, bool inside, bool set_default,
		     char **outp, size_t *outlenp)
{
	const struct sw_sa *def = inside ? &as->inside : &as->relayed;
	char ip[SW_SA_STRLEN];
	int m, err;

	err = sdpr_media_find(sdp, AS_MTYPE, 0, &m);
	for (unsigned comp = 1; !err && comp < 32; ++comp) {
		struct sdpr_cand c;

		if (!(comps & (1u << comp)))
			continue;
		if (inside)
			inside_cand(as, comp, &c);
		else
			relay_cand(as, comp, &c);
		err = sdpr_cand_add(sdp, m, &c);
	}
	if (!err && set_default) {
		err = sdpr_media_set_port(sdp, m, sw_sa_port(def));
		if (!err)
			err = sdpr_conn_set(sdp, m, sw_sa_ntop(def, ip,
							       sizeof(ip)));
	}
	return err ? err : sdpr_print(sdp, outp, outlenp);
}


/* The conference's SDP toward the Edge, with the relay candidates */
int sw_as_insert_relay(const struct sw_appshare_call *as, bool set_default,
		       struct sdpr *sdp, char **outp, size_t *outlenp)
{
	return add_cands(as, sdp, sw_as_components(as), false, set_default,
			 outp, outlenp);
}


/* The Edge's SDP toward the conference, with the inside candidates */
int sw_as_insert_inside(const struct sw_appshare_call *as, struct sdpr *sdp,
			char **outp, size_t *outlenp)
{
	unsigned comps = sw_as_cand_comps(as->edge, as->n_edge, NULL);

	return add_cands(as, sdp, comps ? comps : (1u << 1 | 1u << 2), true,
			 false, outp, outlenp);
}


/* The far end as the conference sees it: the gateway's socket that
 * connected to its TCP-PASS candidate (an active relay candidate) */
static void bridge_cand(const struct as_conn *k, unsigned comp,
			struct sdpr_cand *c)
{
	gw_cand(c, "102", comp, SDPR_TP_TCP_ACT, &k->local, &k->peer);
}


const struct as_conn *sw_as_valid_conn(const struct sw_appshare_call *as)
{
	for (unsigned i = 0; i < as->n_conns; ++i)
		if (as->conns[i]->valid && as->conns[i]->nominated)
			return as->conns[i];
	for (unsigned i = 0; i < as->n_conns; ++i)
		if (as->conns[i]->valid)
			return as->conns[i];
	for (unsigned i = 0; i < as->n_conns; ++i)
		if (as->conns[i]->bound)
			return as->conns[i];
	return NULL;
}


/* Whether a is an address of the gateway's side of the media path as
 * the controlling agent can name it: the relayed address (its own relay
 * candidate in relay mode, the conference's in observe mode), the inside
 * listener, or a bridging socket (a peer-reflexive candidate to the
 * conference) */
static bool gw_addr(const struct sw_appshare_call *as, const struct sw_sa *a)
{
	if ((sw_sa_isset(&as->relayed) && sw_sa_cmp(&as->relayed, a, true)) ||
	    (sw_sa_isset(&as->inside) && sw_sa_cmp(&as->inside, a, true)))
		return true;
	for (unsigned i = 0; i < as->n_conns; ++i)
		if (sw_sa_isset(&as->conns[i]->local) &&
		    sw_sa_cmp(&as->conns[i]->local, a, true))
			return true;
	return false;
}


/**
 * Whether the controlling side's completion offer (media m of sdp) selects
 * a pair through the gateway: one of its a=remote-candidates, or its own
 * candidate (the conference's relayed address in observe mode), is the
 * gateway's. A pair that names none of them is a direct one.
 */
bool sw_as_offer_via_gateway(const struct sw_appshare_call *as,
			     const struct sdpr *sdp, int m)
{
	struct sdpr_remcand rc[8];
	struct sw_sa a;
	size_t n = 0;
	const char *v;

	v = sdpr_attr_get(sdp, m, "remote-candidates", 0);
	if (v && !sdpr_remcand_parse(rc, 8, &n, v))
		for (size_t i = 0; i < n; ++i)
			if (!sw_sa_set_ip(&a, rc[i].addr, rc[i].port) &&
			    gw_addr(as, &a))
				return true;
	for (unsigned i = 0; i < sdpr_cand_count(sdp, m); ++i) {
		struct sdpr_cand c;

		if (sdpr_cand_kind(sdp, m, i) == SDPR_CAND_ICE &&
		    !sdpr_cand_get(sdp, m, i, &c) &&
		    !sw_sa_set_ip(&a, c.addr, c.port) && gw_addr(as, &a))
			return true;
	}
	return false;
}


/* Candidates of media m whose address is a, one per component in comps;
 * returns how many were found (their lines keep their text). An active
 * candidate connects from a port of the system's choosing, not the one
 * its line names (RFC 6544 4.5; libnice's are port 9, SfB's the passive
 * one's): when none is at a exactly, a TCP-ACT candidate at a's IP is the
 * one that connected. */
static size_t pick_cands(const struct sdpr *sdp, int m, const struct sw_sa *a,
			 unsigned comps, struct sdpr_cand *out, size_t max)
{
	char ip[SW_SA_STRLEN];
	size_t n = 0;

	sw_sa_ntop(a, ip, sizeof(ip));
	for (int by_ip = 0; by_ip < 2 && !n; ++by_ip) {
		unsigned done = 0;

		for (unsigned i = 0; i < sdpr_cand_count(sdp, m) && n < max;
		     ++i) {
			struct sdpr_cand c;

			if (sdpr_cand_kind(sdp, m, i) != SDPR_CAND_ICE ||
			    sdpr_cand_get(sdp, m, i, &c) || strcmp(c.addr, ip) ||
			    (by_ip ? c.transport != SDPR_TP_TCP_ACT
				   : c.port != sw_sa_port(a)) ||
			    c.component >= 32 ||
			    !(comps & (1u << c.component)) ||
			    (done & (1u << c.component)))
				continue;
			done |= 1u << c.component;
			out[n++] = c;
		}
		if (n != (size_t)__builtin_popcount(comps))
			n = 0;
	}
	return n;
}


/* The local candidates of the selected pair when the side's SDP does not
 * list them (the gateway's bridging socket is in no SDP): one per
 * component in comps */
static size_t made_cands(const struct sw_appshare_call *as,
			 const struct as_conn *k, bool to_edge, unsigned comps,
			 struct sdpr_cand *out, size_t max)
{
	size_t n = 0;

	for (unsigned comp = 1; comp < 32 && n < max; ++comp) {
		if (!(comps & (1u << comp)))
			continue;
		if (to_edge)
			relay_cand(as, comp, &out[n++]);
		else if (k->inside)
			inside_cand(as, comp, &out[n++]);
		else
			bridge_cand(k, comp, &out[n++]);
	}
	return n;
}


/* The conference's TCP-ACT candidate of component comp, at the address
 * from if it has one there; NULL if none */
static const struct sw_sa *conf_act_cand(const struct sw_appshare_call *as,
					 unsigned comp,
					 const struct sw_sa *from)
{
	const struct sw_sa *any = NULL;

	for (unsigned i = 0; i < as->n_conf_act; ++i) {
		const struct as_cand *c = &as->conf_act[i];

		if (c->component != comp)
			continue;
		if (sw_sa_cmp(&c->addr, from, false))
			return &c->addr;
		if (!any)
			any = &c->addr;
	}
	return any;
}


/* The remote candidate of component comp in the completion offer toward
 * one side: the address the other end of the valid connection has for
 * that side. The conference connecting inside is named by its own TCP-ACT
 * candidate (MS-ICE2 refuses a=remote-candidates it does not know). */
static void pair_remote(const struct sw_appshare_call *as,
			const struct as_conn *k, bool to_edge, unsigned comp,
			struct sdpr_remcand *rc)
{
	bool observe = !sw_as_inprocess(as);
	const struct sw_sa *a = to_edge ? (k->inside ? &k->target : &k->peer)
				: observe ? &as->relayed
					  : (k->inside ? &k->peer : &k->target);

	if (!to_edge && k->inside && conf_act_cand(as, comp, &k->peer))
		a = conf_act_cand(as, comp, &k->peer);
	rc->component = comp;
	sw_sa_ntop(a, rc->addr, sizeof(rc->addr));
	rc->port = sw_sa_port(a);
}


/**
 * The SDP of the selected pair toward one side: the completion offer
 * (with a=remote-candidates) or the answer to the controlling side's own
 * completion offer (without), built on the last SDP sent to that side.
 *
 * Toward the Edge the local candidate is the relayed address it connected
 * to or was reached from (the gateway's in relay mode, the conference's in
 * observe mode) and the remote one the Edge relay's address. Toward the
 * conference, the local candidate is what connected to it (the gateway's
 * bridging socket in relay mode; the Edge relay's own candidate in observe
 * mode) or what it connected to (the inside candidate), and the remote
 * one its candidate that was reached or connected.
 */
int sw_as_pair_sdp(const struct sw_appshare_call *as, const struct as_conn *k,
		   bool to_edge, bool offer, char **outp, size_t *outlenp)
{
	const char *base = to_edge ? as->to_edge : as->to_conf;
	struct sdpr *sdp;
	int err;

	if (!base || !k)
		return ENOENT;
	err = sdpr_parse(&sdp, base, to_edge ? as->to_edge_len
					     : as->to_conf_len, NULL);
	if (err)
		return err;
	err = sw_as_pair_sdp_on(as, k, to_edge, offer, sdp, outp, outlenp);
	sdpr_free(sdp);
	return err;
}


/**
 * The same, built on base (a parse, edited in place): an SDP that crosses
 * the gateway once the session's pair is selected (a hold, a resume, a
 * refresh) goes on in this form, its direction attributes and other
 * m-lines as they came, so that neither side sees candidates of the other
 * side's leg (MS-ICE2 refuses a=remote-candidates naming a candidate it
 * does not know)
 */
int sw_as_pair_sdp_on(const struct sw_appshare_call *as,
		      const struct as_conn *k, bool to_edge, bool offer,
		      struct sdpr *base, char **outp, size_t *outlenp)
{
	bool observe = !sw_as_inprocess(as);
	const struct sw_sa *laddr;
	struct sdpr_cand local[8];
	struct sdpr_remcand remote[8];
	unsigned comps = sw_as_components(as);
	struct sdpr *sdp = base;
	size_t n = 0;
	int m, err;

	if (!base || !k)
		return ENOENT;
	laddr = to_edge ? &as->relayed : observe ? &k->peer
			: k->inside ? &as->inside : &k->local;
	err = sdpr_media_find(sdp, AS_MTYPE, 0, &m);
	if (!err)
		n = pick_cands(sdp, m, laddr, comps, local, 8);
	if (!err && !n)
		n = made_cands(as, k, to_edge, comps, local, 8);
	for (size_t i = 0; i < n; ++i)
		pair_remote(as, k, to_edge, local[i].component, &remote[i]);
	if (!err)
		err = sdpr_ice_complete(sdp, m, local, n, remote,
					offer ? n : 0);
	return err ? err : sdpr_print(sdp, outp, outlenp);
}
