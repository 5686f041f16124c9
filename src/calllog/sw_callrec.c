/**
 * @file sw_callrec.c  The call record in memory: arena, names, summaries
 * (media flags, app-sharing detection, usable TCP candidates) and the
 * JSON export shape that `shareway show --json` prints.
 *
 * A loaded record owns every string and array through one arena, so the
 * loader makes many small allocations cheaply and the record is freed in
 * one call.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "sw_callrec.h"
#include "sw_mpolicy.h"

#define ARENA_CHUNK 8192

struct sw_arena {
	struct sw_arena *next;
	size_t used, size;
	max_align_t data[]; /* size bytes */
};


/** Allocate an empty record with its arena */
int sw_callrec_alloc(struct sw_callrec **recp)
{
	struct sw_callrec *rec;

	if (!recp)
		return EINVAL;
	rec = calloc(1, sizeof(*rec));
	if (!rec)
		return ENOMEM;
	*recp = rec;
	return 0;
}


void sw_callrec_free(struct sw_callrec *rec)
{
	struct sw_arena *a;

	if (!rec)
		return;
	a = rec->arena;
	while (a) {
		struct sw_arena *next = a->next;

		free(a);
		a = next;
	}
	free(rec);
}


/**
 * Zeroed memory owned by the record, aligned for any type
 *
 * @return the memory, or NULL when out of memory
 */
void *sw_callrec_mem(struct sw_callrec *rec, size_t size)
{
	const size_t al = sizeof(max_align_t);
	struct sw_arena *a = rec->arena;
	void *p;

	size = (size + al - 1) / al * al;
	if (!size)
		size = al;
	if (!a || a->size - a->used < size) {
		size_t csz = size > ARENA_CHUNK ? size : ARENA_CHUNK;

		a = malloc(sizeof(*a) + csz);
		if (!a)
			return NULL;
		a->used = 0;
		a->size = csz;
		a->next = rec->arena;
		rec->arena = a;
	}
	p = (char *)a->data + a->used;
	a->used += size;
	memset(p, 0, size);
	return p;
}


/** Copy len bytes of s (NUL added) into the record; NULL s gives NULL */
const char *sw_callrec_strdup(struct sw_callrec *rec, const char *s,
			      size_t len)
{
	char *d;

	if (!s)
		return NULL;
	d = sw_callrec_mem(rec, len + 1);
	if (!d)
		return NULL;
	memcpy(d, s, len);
	d[len] = '\0';
	return d;
}


static const char *const state_names[] = {
	"active", "completed", "rejected", "cancelled", "failed", "lost",
};


const char *sw_call_state_name(enum sw_call_state s)
{
	if ((unsigned)s >= sizeof(state_names) / sizeof(state_names[0]))
		return "?";
	return state_names[s];
}


int sw_call_state_parse(const char *s, enum sw_call_state *st)
{
	for (unsigned i = 0; i < sizeof(state_names) / sizeof(state_names[0]);
	     ++i) {
		if (s && !strcmp(s, state_names[i])) {
			*st = (enum sw_call_state)i;
			return 0;
		}
	}
	return EINVAL;
}


const char *sw_actor_name(enum sw_actor a)
{
	switch (a) {
	case SW_ACT_EDGE: return "edge";
	case SW_ACT_GW: return "shareway";
	case SW_ACT_TURNC: return "turn-client";
	case SW_ACT_CONF: return "conference";
	default: return "-";
	}
}


const char *sw_ev_kind_name(enum sw_ev_kind k)
{
	switch (k) {
	case SW_EV_SIP: return "sip";
	case SW_EV_TURN: return "turn";
	case SW_EV_STUN: return "stun";
	case SW_EV_TCP: return "tcp";
	default: return "note";
	}
}


const char *sw_ice_state_name(enum sw_ice_state s)
{
	switch (s) {
	case SW_ICE_WAITING: return "waiting";
	case SW_ICE_CHECKING: return "checking";
	case SW_ICE_SUCCEEDED: return "succeeded";
	case SW_ICE_FAILED: return "failed";
	default: return "unknown";
	}
}


const char *sw_ice_dir_name(enum sw_ice_dir d)
{
	return d == SW_ICE_C2E ? "c→e" : "e→c";
}


const char *sw_pkt_transport_name(enum sw_pkt_transport t)
{
	switch (t) {
	case SW_PKT_UDP: return "udp";
	case SW_PKT_TCP: return "tcp";
	case SW_PKT_TLS: return "tls";
	default: return "?";
	}
}


/** legs[] index of leg 'e' or 'c', -1 for anything else */
int sw_leg_index(char leg)
{
	return leg == 'e' ? 0 : leg == 'c' ? 1 : -1;
}


const struct sw_rec_leg *sw_callrec_leg(const struct sw_callrec *rec,
					char leg)
{
	int i = sw_leg_index(leg);

	return i >= 0 && rec->has_leg[i] ? &rec->legs[i] : NULL;
}


static bool has_mline(const char *sdp, const char *type)
{
	size_t n = strlen(type);

	for (const char *p = sdp; p && *p; p = strchr(p, '\n')) {
		if (*p == '\n')
			++p;
		if (!strncmp(p, "m=", 2) && !strncasecmp(p + 2, type, n) &&
		    p[2 + n] == ' ')
			return true;
	}
	return false;
}


/**
 * True if an offer of the call carried m=applicationsharing: a call is
 * judged by what it carried, not by the policy its rule would have
 * applied to application sharing (every routed call has one)
 */
bool sw_callrec_is_appsharing(const struct sw_callrec *rec)
{
	for (unsigned i = 0; i < rec->n_negs; ++i) {
		const struct sw_rec_neg *n = &rec->negs[i];

		if ((n->offer_in && has_mline(n->offer_in,
					      "applicationsharing")) ||
		    (n->offer_out && has_mline(n->offer_out,
					       "applicationsharing")))
			return true;
	}
	return false;
}


/* One a=candidate line (without "a=candidate:"): a connectable TCP one? */
static bool candidate_usable_tcp(const char *line, size_t len)
{
	char buf[512], tp[16], ip[64], typ_kw[8], typ[16];
	unsigned comp, port;
	unsigned long long prio;
	const char *tcptype;

	if (len >= sizeof(buf))
		return false;
	memcpy(buf, line, len);
	buf[len] = '\0';
	if (sscanf(buf, "%*s %u %15s %llu %63s %u %7s %15s", &comp, tp, &prio,
		   ip, &port, typ_kw, typ) != 7)
		return false;
	if (!port || !strcmp(ip, "0.0.0.0") || !strcmp(ip, "::"))
		return false;
	if (!strcasecmp(tp, "TCP-PASS"))
		return true; /* MS-ICE2: a passive candidate to connect to */
	if (strcasecmp(tp, "TCP"))
		return false;
	/* RFC 6544: passive and simultaneous-open accept connections */
	tcptype = strstr(buf, " tcptype ");
	return tcptype && (!strncmp(tcptype + 9, "passive", 7) ||
			   !strncmp(tcptype + 9, "so", 2));
}


/**
 * Does this SDP's m=applicationsharing section offer a TCP candidate a
 * relay can connect to (TCP-PASS, or RFC 6544 passive/so, non-zero port)?
 */
bool sw_sdp_has_usable_tcp_candidate(const char *sdp)
{
	bool in_as = false;

	for (const char *p = sdp, *next; p && *p; p = next) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);

		next = p + len + (eol ? 1 : 0);
		if (len && p[len - 1] == '\r')
			--len;
		if (!strncmp(p, "m=", 2))
			in_as = len > 21 && !strncmp(p, "m=applicationsharing ",
						     21) &&
				strncmp(p + 21, "0 ", 2);
		else if (in_as && len > 12 && !strncmp(p, "a=candidate:", 12) &&
			 candidate_usable_tcp(p + 12, len - 12))
			return true;
	}
	return false;
}


/* ✓ succeeded, ✗ failed (or ended without success), … still checking */
static const char *ice_mark(const struct sw_callrec *rec, int d)
{
	if (!rec->has_ice[d])
		return "?";
	switch (rec->ice[d].state) {
	case SW_ICE_SUCCEEDED: return "✓";
	case SW_ICE_FAILED: return "✗";
	default: return rec->state == SW_CS_ACTIVE ? "…" : "✗";
	}
}


/* Relay part of the media flags: did a peer connection get bound? */
static const char *relay_mark(const struct sw_callrec *rec)
{
	bool bound = false, failed = false;

	for (unsigned i = 0; i < rec->n_conns; ++i) {
		if (rec->conns[i].bind_code == 200)
			bound = true;
		else if (rec->conns[i].bind_code)
			failed = true;
	}
	for (unsigned i = 0; i < rec->n_relays; ++i)
		if (rec->relays[i].error_code && !rec->relays[i].alloc_us)
			failed = true;
	if (bound)
		return "✓";
	if (failed || (rec->state != SW_CS_ACTIVE && rec->n_relays))
		return "✗";
	return rec->state == SW_CS_ACTIVE ? "…" : "-";
}


/**
 * Short media summary for one line of `shareway calls`, e.g.
 * "AS relay✓ ICE e→c✓ c→e✗" (at most 26 columns)
 */
void sw_callrec_media_flags(const struct sw_callrec *rec, char *buf,
			    size_t sz)
{
	const char *pol = rec->route.media_policy;
	size_t n;

	if (!sz)
		return;
	if (!sw_callrec_is_appsharing(rec)) {
		snprintf(buf, sz, "%s", rec->n_negs ? "A/V" : "-");
		return;
	}
	if (!pol || !*pol)
		pol = "pass";
	if (!strcmp(pol, "passthrough"))
		pol = "pass";
	if (sw_media_policy_traits_of(pol) & SW_MPF_TURN)
		n = (size_t)snprintf(buf, sz, "AS %s%s", pol, relay_mark(rec));
	else
		n = (size_t)snprintf(buf, sz, "AS %s", pol);
	if (n >= sz || (!rec->has_ice[0] && !rec->has_ice[1]))
		return;
	snprintf(buf + n, sz - n, " ICE e→c%s c→e%s", ice_mark(rec, 0),
		 ice_mark(rec, 1));
}


static void json_time(struct sw_json *j, const char *key, int64_t us)
{
	char b[40];
	time_t s;
	struct tm tm;

	if (!us) {
		sw_json_null(j, key);
		return;
	}
	s = (time_t)(us / 1000000);
	gmtime_r(&s, &tm);
	strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(b + 19, sizeof(b) - 19, ".%06dZ", (int)(us % 1000000));
	sw_json_str(j, key, b);
}


static void json_leg(struct sw_json *j, const struct sw_rec_leg *l)
{
	char leg[2] = {l->leg, 0};

	sw_json_obj_open(j, NULL);
	sw_json_str(j, "leg", leg);
	sw_json_bool(j, "inbound", l->inbound);
	sw_json_str_or_null(j, "call_id", l->call_id);
	sw_json_str_or_null(j, "from_tag", l->from_tag);
	sw_json_str_or_null(j, "to_tag", l->to_tag);
	sw_json_str_or_null(j, "from", l->from_uri);
	sw_json_str_or_null(j, "to", l->to_uri);
	sw_json_str_or_null(j, "peer", l->peer);
	sw_json_str_or_null(j, "local", l->local);
	sw_json_str_or_null(j, "zone", l->zone);
	sw_json_str_or_null(j, "transport", l->transport);
	sw_json_str_or_null(j, "tls_peer_subject", l->tls_subject);
	sw_json_str_or_null(j, "ua", l->user_agent);
	sw_json_str_or_null(j, "x_cid", l->x_cid);
	if (l->final_code)
		sw_json_int(j, "final", l->final_code);
	else
		sw_json_null(j, "final");
	sw_json_str_or_null(j, "phrase", l->final_phrase);
	sw_json_str_or_null(j, "ms_diagnostics", l->ms_diag);
	sw_json_str_or_null(j, "ms_diagnostics_public", l->ms_diag_public);
	sw_json_str_or_null(j, "ms_client_diagnostics", l->ms_client_diag);
	sw_json_str_or_null(j, "error", l->error);
	sw_json_obj_close(j);
}


static void json_route(struct sw_json *j, const struct sw_rec_route *r)
{
	sw_json_obj_open(j, "route");
	sw_json_str_or_null(j, "rule", r->rule);
	sw_json_int(j, "priority", r->priority);
	sw_json_str_or_null(j, "source_zone", r->source_zone);
	sw_json_str_or_null(j, "target_zone", r->target_zone);
	sw_json_str_or_null(j, "ruri_in", r->ruri_in);
	sw_json_str_or_null(j, "ruri_out", r->ruri_out);
	sw_json_str_or_null(j, "target", r->target);
	sw_json_str_or_null(j, "transport", r->transport);
	sw_json_str_or_null(j, "trace", r->trace);
	sw_json_str_or_null(j, "captures", r->captures);
	sw_json_str_or_null(j, "media_policy", r->media_policy);
	sw_json_obj_close(j);
}


/** One offer/answer exchange as JSON (`show --json`, `sdp --json`) */
void sw_callrec_neg_json(struct sw_json *j, const struct sw_rec_neg *n)
{
	char f[2] = {n->from_leg, 0}, t[2] = {n->to_leg, 0};

	sw_json_obj_open(j, NULL);
	sw_json_int(j, "seq", n->seq);
	sw_json_str_or_null(j, "trigger", n->trigger);
	sw_json_str_or_null(j, "from", n->from_leg ? f : NULL);
	sw_json_str_or_null(j, "to", n->to_leg ? t : NULL);
	sw_json_int(j, "result", n->result);
	sw_json_int(j, "latency_ms", n->latency_ms);
	sw_json_str_or_null(j, "offer_in", n->offer_in);
	sw_json_str_or_null(j, "offer_out", n->offer_out);
	sw_json_str_or_null(j, "answer_in", n->answer_in);
	sw_json_str_or_null(j, "answer_out", n->answer_out);
	sw_json_str_or_null(j, "rewrites", n->rewrites);
	sw_json_obj_close(j);
}


static void json_conns(struct sw_json *j, const struct sw_callrec *rec,
		       uint32_t relay)
{
	sw_json_arr_open(j, "connections");
	for (unsigned i = 0; i < rec->n_conns; ++i) {
		const struct sw_rec_conn *c = &rec->conns[i];

		if (c->relay != relay)
			continue;
		sw_json_obj_open(j, NULL);
		sw_json_int(j, "connection_id", c->conn);
		sw_json_str_or_null(j, "peer", c->peer);
		sw_json_str_or_null(j, "target", c->target);
		json_time(j, "attempt", c->attempt_us);
		json_time(j, "bind", c->bind_us);
		sw_json_int(j, "bind_code", c->bind_code);
		sw_json_str_or_null(j, "bind_error", c->bind_error);
		sw_json_int(j, "bytes_in", (int64_t)c->bytes_in);
		sw_json_int(j, "bytes_out", (int64_t)c->bytes_out);
		json_time(j, "closed", c->closed_us);
		sw_json_str_or_null(j, "close_reason", c->close_reason);
		sw_json_obj_close(j);
	}
	sw_json_arr_close(j);
}


static void json_relays(struct sw_json *j, const struct sw_callrec *rec)
{
	sw_json_arr_open(j, "relays");
	for (unsigned i = 0; i < rec->n_relays; ++i) {
		const struct sw_rec_relay *r = &rec->relays[i];

		sw_json_obj_open(j, NULL);
		sw_json_int(j, "relay", r->relay);
		sw_json_str_or_null(j, "server", r->server);
		sw_json_str_or_null(j, "transport", r->transport);
		sw_json_str_or_null(j, "client", r->client);
		sw_json_str_or_null(j, "client_addr", r->client_addr);
		sw_json_str_or_null(j, "relayed", r->relayed);
		json_time(j, "request", r->request_us);
		json_time(j, "allocated", r->alloc_us);
		sw_json_int(j, "lifetime_s", r->lifetime_s);
		sw_json_int(j, "refreshes", r->refreshes);
		sw_json_str_or_null(j, "permissions", r->permissions);
		sw_json_int(j, "error_code", r->error_code);
		sw_json_str_or_null(j, "error", r->error);
		json_time(j, "released", r->released_us);
		sw_json_str_or_null(j, "close_reason", r->close_reason);
		json_conns(j, rec, r->relay);
		sw_json_obj_close(j);
	}
	sw_json_arr_close(j);
}


static void json_ice(struct sw_json *j, const struct sw_callrec *rec)
{
	static const char *const keys[] = {"e_to_c", "c_to_e"};

	sw_json_obj_open(j, "ice");
	for (int d = 0; d < 2; ++d) {
		const struct sw_rec_ice *x = &rec->ice[d];

		if (!rec->has_ice[d]) {
			sw_json_null(j, keys[d]);
			continue;
		}
		sw_json_obj_open(j, keys[d]);
		sw_json_str(j, "state", sw_ice_state_name(x->state));
		json_time(j, "first_request", x->first_request_us);
		json_time(j, "first_success", x->first_success_us);
		sw_json_int(j, "error_code", x->error_code);
		sw_json_str_or_null(j, "error", x->error);
		sw_json_bool(j, "nominated", x->nominated);
		sw_json_str_or_null(j, "pair", x->pair);
		sw_json_int(j, "timeout_s", x->timeout_s);
		sw_json_int(j, "requests", x->requests);
		sw_json_int(j, "successes", x->successes);
		sw_json_obj_close(j);
	}
	sw_json_obj_close(j);
}


static void json_reinvite(struct sw_json *j, const struct sw_callrec *rec)
{
	const struct sw_rec_reinvite *r = &rec->reinvite;
	char leg[2] = {r->leg, 0};

	if (!rec->has_reinvite) {
		sw_json_null(j, "reinvite");
		return;
	}
	sw_json_obj_open(j, "reinvite");
	sw_json_str_or_null(j, "leg", r->leg ? leg : NULL);
	json_time(j, "sent", r->sent_us);
	sw_json_int(j, "result", r->result);
	sw_json_str_or_null(j, "phrase", r->phrase);
	sw_json_int(j, "latency_ms", r->latency_ms);
	sw_json_int(j, "retries_491", r->retries_491);
	sw_json_str_or_null(j, "reason", r->reason);
	sw_json_obj_close(j);
}


static void json_events(struct sw_json *j, const struct sw_callrec *rec)
{
	sw_json_arr_open(j, "ladder");
	for (unsigned i = 0; i < rec->n_events; ++i) {
		const struct sw_rec_event *e = &rec->events[i];

		sw_json_obj_open(j, NULL);
		json_time(j, "t", e->t_us);
		sw_json_str(j, "kind", sw_ev_kind_name(e->kind));
		sw_json_str(j, "src", sw_actor_name(e->src));
		sw_json_str(j, "dst", sw_actor_name(e->dst));
		sw_json_str_or_null(j, "label", e->label);
		sw_json_str_or_null(j, "detail", e->detail);
		sw_json_obj_close(j);
	}
	sw_json_arr_close(j);
}


static void json_packets(struct sw_json *j, const struct sw_callrec *rec)
{
	char a[SW_SA_STRLEN];

	sw_json_arr_open(j, "packets");
	for (unsigned i = 0; i < rec->n_packets; ++i) {
		const struct sw_rec_packet *p = &rec->packets[i];

		sw_json_obj_open(j, NULL);
		json_time(j, "t", p->t_us);
		sw_json_str(j, "proto", p->proto == SW_PKT_SIP ? "sip" : "stun");
		sw_json_str(j, "transport", sw_pkt_transport_name(p->transport));
		sw_json_str(j, "src", sw_sa_str(&p->src, a, sizeof(a)));
		sw_json_str(j, "dst", sw_sa_str(&p->dst, a, sizeof(a)));
		sw_json_int(j, "len", (int64_t)p->len);
		if (p->proto == SW_PKT_SIP)
			sw_json_strn(j, "text", (const char *)p->data, p->len);
		sw_json_obj_close(j);
	}
	sw_json_arr_close(j);
}


static void json_head(struct sw_json *j, const struct sw_callrec *rec)
{
	char il[2] = {rec->inbound_leg, 0};

	sw_json_int(j, "v", 2);
	sw_json_int(j, "id", rec->id);
	sw_json_str_or_null(j, "tag", rec->tag);
	sw_json_bool(j, "synthetic", rec->synthetic);
	json_time(j, "start", rec->start_us);
	json_time(j, "ringing", rec->ringing_us);
	json_time(j, "answer", rec->answer_us);
	json_time(j, "end", rec->end_us);
	if (rec->end_us && rec->start_us)
		sw_json_int(j, "duration_ms",
			    (rec->end_us - rec->start_us) / 1000);
	else
		sw_json_null(j, "duration_ms");
	sw_json_str(j, "state", sw_call_state_name(rec->state));
	sw_json_str_or_null(j, "from", rec->from_uri);
	sw_json_str_or_null(j, "to", rec->to_uri);
	sw_json_str_or_null(j, "inbound_leg", rec->inbound_leg ? il : NULL);
	sw_json_int(j, "final", rec->final_code);
	sw_json_str_or_null(j, "phrase", rec->final_phrase);
	sw_json_obj_open(j, "disconnect");
	sw_json_str_or_null(j, "by", rec->disconnect_by);
	sw_json_str_or_null(j, "reason", rec->disconnect_reason);
	sw_json_obj_close(j);
	sw_json_str_or_null(j, "answered_by", rec->answered_by);
	sw_json_str_or_null(j, "gw_reason", rec->gw_reason);
	sw_json_str_or_null(j, "gw_fault", rec->gw_fault);
}


/**
 * Write the record as one JSON object (the shape of `shareway show
 * --json`); the verdict and media flags are computed afresh
 */
void sw_callrec_json(const struct sw_callrec *rec, struct sw_json *j,
		     bool with_packets)
{
	char verdict[512], media[64];
	enum sw_verdict_sev sev = sw_verdict(rec, verdict, sizeof(verdict));

	sw_callrec_media_flags(rec, media, sizeof(media));
	sw_json_obj_open(j, NULL);
	json_head(j, rec);
	sw_json_str(j, "verdict", verdict);
	sw_json_bool(j, "failed", sev == SW_VERDICT_FAIL);
	sw_json_str(j, "media", media);
	if (rec->has_route)
		json_route(j, &rec->route);
	else
		sw_json_null(j, "route");
	sw_json_arr_open(j, "legs");
	for (int i = 0; i < 2; ++i)
		if (rec->has_leg[i])
			json_leg(j, &rec->legs[i]);
	sw_json_arr_close(j);
	sw_json_arr_open(j, "negotiations");
	for (unsigned i = 0; i < rec->n_negs; ++i)
		sw_callrec_neg_json(j, &rec->negs[i]);
	sw_json_arr_close(j);
	json_relays(j, rec);
	json_ice(j, rec);
	json_reinvite(j, rec);
	json_events(j, rec);
	if (with_packets)
		json_packets(j, rec);
	sw_json_obj_close(j);
}


/**
 * Format a duration in at most 6 columns: "4.2s", "3m03s", "2h05m",
 * "3d04h"; a negative one as "-"
 */
const char *sw_fmt_dur(int64_t us, char *buf, size_t sz)
{
	int64_t s = us / 1000000;

	if (us < 0)
		snprintf(buf, sz, "-");
	else if (s < 60)
		snprintf(buf, sz, "%.1fs", (double)(us / 100000) / 10.0);
	else if (s < 3600)
		snprintf(buf, sz, "%dm%02ds", (int)(s / 60), (int)(s % 60));
	else if (s < 86400)
		snprintf(buf, sz, "%dh%02dm", (int)(s / 3600),
			 (int)(s / 60 % 60));
	else
		snprintf(buf, sz, "%dd%02dh", (int)(s / 86400),
			 (int)(s / 3600 % 24));
	return buf;
}
