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

#include "sw_calllog_int.h"
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


/* One line of an SDP: its start, its length without and with its end */
struct sdp_line {
	const char *p;
	size_t len, lend;
};


/* The line at *pp (then past it); *in_as follows the m= lines: in an
 * m=applicationsharing section with a port. false at the end. */
static bool sdp_next_line(const char **pp, struct sdp_line *l, bool *in_as)
{
	const char *p = *pp, *eol;

	if (!p || !*p)
		return false;
	eol = strchr(p, '\n');
	l->p = p;
	l->len = eol ? (size_t)(eol - p) : strlen(p);
	l->lend = l->len + (eol ? 1 : 0);
	*pp = p + l->lend;
	if (l->len && p[l->len - 1] == '\r')
		--l->len;
	if (!strncmp(p, "m=", 2))
		*in_as = l->len > 21 &&
			 !strncmp(p, "m=applicationsharing ", 21) &&
			 strncmp(p + 21, "0 ", 2);
	return true;
}


/* A connectable TCP candidate of an m=applicationsharing section */
static bool usable_candidate(const struct sdp_line *l, bool in_as)
{
	return in_as && l->len > 12 && !strncmp(l->p, "a=candidate:", 12) &&
	       candidate_usable_tcp(l->p + 12, l->len - 12);
}


/**
 * Does this SDP's m=applicationsharing section offer a TCP candidate a
 * relay can connect to (TCP-PASS, or RFC 6544 passive/so, non-zero port)?
 */
bool sw_sdp_has_usable_tcp_candidate(const char *sdp)
{
	struct sdp_line l;
	bool in_as = false;

	while (sdp_next_line(&sdp, &l, &in_as))
		if (usable_candidate(&l, in_as))
			return true;
	return false;
}


/**
 * The lines of an SDP that the verdict and the media flags read, in their
 * order and as they are (line ends included): every m= line, every line
 * with "m=applicationsharing " in it (as_mline_accepted() of sw_verdict.c
 * looks for that anywhere), and the first usable TCP candidate of an
 * accepted application-sharing section. has_mline(),
 * sw_sdp_has_usable_tcp_candidate() and as_mline_accepted() answer for
 * these lines as for the whole SDP: a match never spans two lines, and
 * with every m= line kept each kept line is in the section it was in.
 * The call-log writer keeps this instead of the SDP for the verdict of a
 * call it holds in memory (sw_callfacts.c).
 *
 * @return a malloc'd text ("" when nothing is read; *lenp its length), or
 *         NULL for a NULL sdp or when out of memory
 */
char *sw_sdp_verdict_lines(const char *sdp, size_t *lenp)
{
	struct sdp_line l;
	bool in_as = false, cand = false;
	size_t n = 0;
	char *out, *t;

	if (!sdp || !(out = malloc(strlen(sdp) + 1)))
		return NULL;
	for (const char *p = sdp; sdp_next_line(&p, &l, &in_as);) {
		bool usable = !cand && usable_candidate(&l, in_as);

		if (usable || !strncmp(l.p, "m=", 2) ||
		    memmem(l.p, l.lend, "m=applicationsharing ", 21)) {
			memcpy(out + n, l.p, l.lend);
			n += l.lend;
		}
		cand |= usable;
	}
	out[n] = '\0';
	t = realloc(out, n + 1); /* shrinking: the old block on failure */
	if (lenp)
		*lenp = n;
	return t ? t : out;
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


/* ---- the column tables, generated from the field lists ---------------- */

#define CL_COL(st, name, ctype, storage, merge, jkey, jform)                 \
	{#name, CT_##storage, CM_##merge, offsetof(struct st, name), jkey,   \
	 CJ_##jform, NULL},
#define COL_LEG(...) CL_COL(sw_rec_leg, __VA_ARGS__)
#define COL_ROUTE(...) CL_COL(sw_rec_route, __VA_ARGS__)
#define COL_NEG(...) CL_COL(sw_rec_neg, __VA_ARGS__)
#define COL_RELAY(...) CL_COL(sw_rec_relay, __VA_ARGS__)
#define COL_CONN(...) CL_COL(sw_rec_conn, __VA_ARGS__)
#define COL_ICE(...) CL_COL(sw_rec_ice, __VA_ARGS__)
#define COL_REINVITE(...) CL_COL(sw_rec_reinvite, __VA_ARGS__)
#define COL_EVENT(...) CL_COL(sw_rec_event, __VA_ARGS__)
#define COL_HEAD(name, ctype, storage, sql, jkey, jform)                     \
	{#name, CT_##storage, CM_SET, offsetof(struct sw_callrec, name), jkey, \
	 CJ_##jform, sql},

static const struct cl_col cols_head[] = {SW_CALLREC_HEAD(COL_HEAD)};
static const struct cl_col cols_leg[] = {SW_REC_LEG(COL_LEG)};
static const struct cl_col cols_route[] = {SW_REC_ROUTE(COL_ROUTE)};
static const struct cl_col cols_neg[] = {SW_REC_NEG(COL_NEG)};
static const struct cl_col cols_relay[] = {SW_REC_RELAY(COL_RELAY)};
static const struct cl_col cols_conn[] = {SW_REC_CONN(COL_CONN)};
static const struct cl_col cols_ice[] = {SW_REC_ICE(COL_ICE)};
static const struct cl_col cols_reinvite[] = {SW_REC_REINVITE(COL_REINVITE)};
static const struct cl_col cols_event[] = {SW_REC_EVENT(COL_EVENT)};

#define TAB(n, c, st, ord, ins)                                               \
	{n, c, sizeof(c) / sizeof(c[0]), sizeof(struct st), ord, ins}

const struct cl_table cl_tab_head =
	TAB("calls", cols_head, sw_callrec, "id", false);
const struct cl_table cl_tab_leg =
	TAB("legs", cols_leg, sw_rec_leg, "leg", false);
const struct cl_table cl_tab_route =
	TAB("route", cols_route, sw_rec_route, "call", false);
const struct cl_table cl_tab_neg =
	TAB("negotiations", cols_neg, sw_rec_neg, "seq", false);
const struct cl_table cl_tab_relay =
	TAB("relays", cols_relay, sw_rec_relay, "relay", false);
const struct cl_table cl_tab_conn =
	TAB("conns", cols_conn, sw_rec_conn, "relay, conn", false);
const struct cl_table cl_tab_ice =
	TAB("ice", cols_ice, sw_rec_ice, "dir", false);
const struct cl_table cl_tab_reinvite =
	TAB("reinvite", cols_reinvite, sw_rec_reinvite, "call", false);
const struct cl_table cl_tab_event =
	TAB("events", cols_event, sw_rec_event, "t_us, rowid", true);


/** A number column of a record struct, as int64 */
int64_t cl_col_num(const struct cl_col *c, const void *s)
{
	const char *f = (const char *)s + c->off;

	switch (c->type) {
	case CT_I64: return *(const int64_t *)(const void *)f;
	case CT_INT:
	case CT_STATE: return *(const int *)(const void *)f;
	case CT_U32: return *(const uint32_t *)(const void *)f;
	case CT_U64: return (int64_t)*(const uint64_t *)(const void *)f;
	case CT_BOOL: return *(const bool *)(const void *)f;
	case CT_CHAR: return (unsigned char)*f;
	default: return 0;
	}
}


/** A string column of a record struct */
const char *cl_col_str(const struct cl_col *c, const void *s)
{
	return *(const char *const *)(const void *)((const char *)s + c->off);
}


static void json_col(struct sw_json *j, const char *key,
		     const struct cl_col *c, const void *s)
{
	int64_t v = c->type == CT_STR ? 0 : cl_col_num(c, s);
	char ch[2] = {(char)v, 0};

	switch (c->jform) {
	case CJ_STR: sw_json_str_or_null(j, key, cl_col_str(c, s)); break;
	case CJ_INT: sw_json_int(j, key, v); break;
	case CJ_INTNZ:
		if (v)
			sw_json_int(j, key, v);
		else
			sw_json_null(j, key);
		break;
	case CJ_TIME: json_time(j, key, v); break;
	case CJ_BOOL: sw_json_bool(j, key, v != 0); break;
	case CJ_CHAR: sw_json_str_or_null(j, key, v ? ch : NULL); break;
	case CJ_ACTOR:
		sw_json_str(j, key, sw_actor_name((enum sw_actor)v));
		break;
	case CJ_EVKIND:
		sw_json_str(j, key, sw_ev_kind_name((enum sw_ev_kind)v));
		break;
	case CJ_ICESTATE:
		sw_json_str(j, key, sw_ice_state_name((enum sw_ice_state)v));
		break;
	case CJ_STATE:
		sw_json_str(j, key, sw_call_state_name((enum sw_call_state)v));
		break;
	default: break;
	}
}


/**
 * The members of a record struct by its column table, in field order; a
 * key "a/b" is member b of an object a (consecutive ones share it)
 */
void cl_json_cols(struct sw_json *j, const struct cl_table *t,
		  const void *s)
{
	const char *group = NULL;
	size_t glen = 0;

	for (unsigned i = 0; i < t->ncols; ++i) {
		const struct cl_col *c = &t->cols[i];
		const char *slash = strchr(c->jkey, '/');
		size_t n = slash ? (size_t)(slash - c->jkey) : 0;
		char name[32];

		if (c->jform == CJ_SKIP)
			continue;
		if (group && (n != glen || strncmp(c->jkey, group, n))) {
			sw_json_obj_close(j);
			group = NULL;
		}
		if (slash && !group) {
			snprintf(name, sizeof(name), "%.*s", (int)n, c->jkey);
			sw_json_obj_open(j, name);
			group = c->jkey;
			glen = n;
		}
		json_col(j, slash ? slash + 1 : c->jkey, c, s);
	}
	if (group)
		sw_json_obj_close(j);
}


/* One object of a record part (NULL key inside an array) */
static void json_part(struct sw_json *j, const char *key,
		      const struct cl_table *t, const void *s)
{
	sw_json_obj_open(j, key);
	cl_json_cols(j, t, s);
	sw_json_obj_close(j);
}


/** One negotiation as a JSON object (`shareway sdp --json`) */
void sw_callrec_neg_json(struct sw_json *j, const struct sw_rec_neg *n)
{
	json_part(j, NULL, &cl_tab_neg, n);
}


static void json_relays(struct sw_json *j, const struct sw_callrec *rec)
{
	sw_json_arr_open(j, "relays");
	for (unsigned i = 0; i < rec->n_relays; ++i) {
		const struct sw_rec_relay *r = &rec->relays[i];

		sw_json_obj_open(j, NULL);
		cl_json_cols(j, &cl_tab_relay, r);
		sw_json_arr_open(j, "connections");
		for (unsigned k = 0; k < rec->n_conns; ++k)
			if (rec->conns[k].relay == r->relay)
				json_part(j, NULL, &cl_tab_conn,
					  &rec->conns[k]);
		sw_json_arr_close(j);
		sw_json_obj_close(j);
	}
	sw_json_arr_close(j);
}


static void json_ice(struct sw_json *j, const struct sw_callrec *rec)
{
	static const char *const keys[] = {"e_to_c", "c_to_e"};

	sw_json_obj_open(j, "ice");
	for (int d = 0; d < 2; ++d) {
		if (rec->has_ice[d])
			json_part(j, keys[d], &cl_tab_ice, &rec->ice[d]);
		else
			sw_json_null(j, keys[d]);
	}
	sw_json_obj_close(j);
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


/* The head by its column table, with the duration after the end time */
static void json_head(struct sw_json *j, const struct sw_callrec *rec)
{
	struct cl_table times = cl_tab_head, rest = cl_tab_head;
	unsigned k = 0;

	while (k < cl_tab_head.ncols &&
	       strcmp(cl_tab_head.cols[k].name, "state"))
		++k;
	times.ncols = k;
	rest.cols += k;
	rest.ncols -= k;
	sw_json_int(j, "v", 2);
	cl_json_cols(j, &times, rec);
	if (rec->end_us && rec->start_us)
		sw_json_int(j, "duration_ms",
			    (rec->end_us - rec->start_us) / 1000);
	else
		sw_json_null(j, "duration_ms");
	cl_json_cols(j, &rest, rec);
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
		json_part(j, "route", &cl_tab_route, &rec->route);
	else
		sw_json_null(j, "route");
	sw_json_arr_open(j, "legs");
	for (int i = 0; i < 2; ++i)
		if (rec->has_leg[i])
			json_part(j, NULL, &cl_tab_leg, &rec->legs[i]);
	sw_json_arr_close(j);
	sw_json_arr_open(j, "negotiations");
	for (unsigned i = 0; i < rec->n_negs; ++i)
		sw_callrec_neg_json(j, &rec->negs[i]);
	sw_json_arr_close(j);
	json_relays(j, rec);
	json_ice(j, rec);
	if (rec->has_reinvite)
		json_part(j, "reinvite", &cl_tab_reinvite, &rec->reinvite);
	else
		sw_json_null(j, "reinvite");
	sw_json_arr_open(j, "ladder");
	for (unsigned i = 0; i < rec->n_events; ++i)
		json_part(j, NULL, &cl_tab_event, &rec->events[i]);
	sw_json_arr_close(j);
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
