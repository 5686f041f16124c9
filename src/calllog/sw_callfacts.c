/**
 * @file sw_callfacts.c  The facts of recent calls, held in memory by the
 * call store's writer so that the verdict of an ended call needs no
 * reload of the call from the store.
 *
 * The writer applies every fact it stores to the call's record here too,
 * with the store's own merge rules (enum cl_merge: a NULL string or a zero
 * number keeps what is held; SET, FIRST, MAX as the upserts do), so the
 * record held equals what sw_callstore_load(SW_PART_FACTS) would give,
 * for everything the verdict and the media flags read. What they do not
 * read is not kept: the columns of drop_cols[] below, and of each SDP only
 * the lines they read (sw_sdp_verdict_lines()). A call is held from its
 * start; a fact the store refused, a value that would not read back as it
 * was written, or a call that grows past CF_CALL_MAX makes the writer
 * forget the call, and its verdict then comes from the store as before.
 * So do a restart (the calls marked lost), a rollback and retention.
 *
 * Bounded: at most max_bytes in all (sw_callstore_facts_budget()); past
 * that the calls ended longest ago go first, then the open calls touched
 * longest ago. An ended call stays CF_KEEP_ENDED_US after its last fact,
 * for the late facts (a relay closing after the BYE) that re-judge it.
 *
 * Keyed by the call's uid (base/sw_idmap.h). Writer thread only.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sw_calllog_int.h"
#include "sw_idmap.h"

#define CF_KEEP_ENDED_US (10 * 1000000LL)
#define CF_CALL_MAX      (64u * 1024) /* bytes one call may hold */

enum cf_how {
	CF_KEEP = 0,
	CF_DROP,  /* the verdict does not read it */
	CF_LINES, /* an SDP: only the lines the verdict reads */
};

/* The record parts a fact may update, in the order of part_tabs[] */
enum cf_part {
	CF_LEG, CF_ROUTE, CF_NEG, CF_RELAY, CF_CONN, CF_ICE, CF_REINVITE,
	CF_NPART,
};

static const struct cl_table *const part_tabs[CF_NPART] = {
	&cl_tab_leg,  &cl_tab_route, &cl_tab_neg,      &cl_tab_relay,
	&cl_tab_conn, &cl_tab_ice,   &cl_tab_reinvite,
};

/* Text columns sw_verdict() and sw_callrec_media_flags() do not read
 * (numbers cost nothing more to keep: the structs hold them anyway). A
 * column read there must not be on this list; test "verdict: memory =
 * reload" fills every column and compares. */
static const struct {
	enum cf_part part;
	const char *col;
	enum cf_how how;
} drop_cols[] = {
	{CF_LEG, "call_id", CF_DROP},     {CF_LEG, "from_tag", CF_DROP},
	{CF_LEG, "to_tag", CF_DROP},      {CF_LEG, "from_uri", CF_DROP},
	{CF_LEG, "to_uri", CF_DROP},      {CF_LEG, "local", CF_DROP},
	{CF_LEG, "transport", CF_DROP},   {CF_LEG, "user_agent", CF_DROP},
	{CF_LEG, "x_cid", CF_DROP},
	{CF_ROUTE, "source_zone", CF_DROP}, {CF_ROUTE, "target_zone", CF_DROP},
	{CF_ROUTE, "ruri_in", CF_DROP},   {CF_ROUTE, "ruri_out", CF_DROP},
	{CF_ROUTE, "transport", CF_DROP}, {CF_ROUTE, "trace", CF_DROP},
	{CF_ROUTE, "captures", CF_DROP},
	{CF_NEG, "trigger", CF_DROP},     {CF_NEG, "offer_in", CF_LINES},
	{CF_NEG, "offer_out", CF_LINES},  {CF_NEG, "answer_in", CF_LINES},
	{CF_NEG, "answer_out", CF_DROP},  {CF_NEG, "rewrites", CF_DROP},
	{CF_RELAY, "server", CF_DROP},    {CF_RELAY, "transport", CF_DROP},
	{CF_RELAY, "client_addr", CF_DROP}, {CF_RELAY, "permissions", CF_DROP},
	{CF_CONN, "target", CF_DROP},     {CF_ICE, "pair", CF_DROP},
};

struct cf_call;

struct cf_list {
	struct cf_call *head, *tail;
};

struct cf_call {
	struct sw_idmap_node node;  /* id: the call's uid */
	struct cf_call *prev, *next; /* on open or ended, oldest first */
	int64_t touched_us;
	size_t bytes;
	bool ended;                 /* an end was stored (end_us not NULL) */
	unsigned cap[CF_NPART];     /* of negs, relays, conns */
	struct sw_callrec rec;      /* strings and arrays malloc'd */
};

struct cl_facts {
	struct sw_idmap calls;
	struct cf_list open, ended;
	size_t bytes, max_bytes;
	uint8_t how[CF_NPART][CLB_MAX_FIELDS]; /* enum cf_how per column */
};


/* ---- the table and the lists ----------------------------------------- */

static struct cf_call *find(const struct cl_facts *f, int64_t id)
{
	struct sw_idmap_node *n = f ? sw_idmap_find(&f->calls, (uint64_t)id)
				    : NULL;

	return n ? sw_idmap_entry(n, struct cf_call, node) : NULL;
}


static void list_del(struct cf_list *l, struct cf_call *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		l->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		l->tail = c->prev;
	c->prev = c->next = NULL;
}


static void list_add(struct cf_list *l, struct cf_call *c)
{
	c->prev = l->tail;
	c->next = NULL;
	if (l->tail)
		l->tail->next = c;
	else
		l->head = c;
	l->tail = c;
}


/* ---- freeing --------------------------------------------------------- */

static void free_strs(const struct cl_table *t, void *row)
{
	for (unsigned i = 0; i < t->ncols; ++i)
		if (t->cols[i].type == CT_STR)
			free((void *)(uintptr_t)cl_col_str(&t->cols[i], row));
}


static void call_free(struct cf_call *c)
{
	struct sw_callrec *r = &c->rec;

	free_strs(&cl_tab_head, r);
	for (int i = 0; i < 2; ++i) {
		free_strs(&cl_tab_leg, &r->legs[i]);
		free_strs(&cl_tab_ice, &r->ice[i]);
	}
	free_strs(&cl_tab_route, &r->route);
	free_strs(&cl_tab_reinvite, &r->reinvite);
	for (unsigned i = 0; i < r->n_negs; ++i)
		free_strs(&cl_tab_neg, &r->negs[i]);
	for (unsigned i = 0; i < r->n_relays; ++i)
		free_strs(&cl_tab_relay, &r->relays[i]);
	for (unsigned i = 0; i < r->n_conns; ++i)
		free_strs(&cl_tab_conn, &r->conns[i]);
	free(r->negs);
	free(r->relays);
	free(r->conns);
	free(c);
}


/** Forget a call: its verdict will come from the store */
void cl_facts_forget(struct cl_facts *f, int64_t id)
{
	struct cf_call *c = find(f, id);

	if (!c)
		return;
	sw_idmap_remove(&f->calls, &c->node);
	list_del(c->ended ? &f->ended : &f->open, c);
	f->bytes -= c->bytes;
	call_free(c);
}


/** Forget every ended call (retention may have removed them) */
void cl_facts_forget_ended(struct cl_facts *f)
{
	while (f && f->ended.head)
		cl_facts_forget(f, f->ended.head->rec.id);
}


/** Forget every call (the store changed under them: lost calls) */
void cl_facts_forget_all(struct cl_facts *f)
{
	cl_facts_forget_ended(f);
	while (f && f->open.head)
		cl_facts_forget(f, f->open.head->rec.id);
}


/** Forget the ended calls without a fact for CF_KEEP_ENDED_US */
void cl_facts_tick(struct cl_facts *f, int64_t now_us)
{
	while (f && f->ended.head &&
	       now_us - f->ended.head->touched_us > CF_KEEP_ENDED_US)
		cl_facts_forget(f, f->ended.head->rec.id);
}


/* Back within max_bytes: ended calls first, then the open ones touched
 * longest ago */
static void trim(struct cl_facts *f)
{
	while (f->bytes > f->max_bytes && (f->ended.head || f->open.head))
		cl_facts_forget(f, (f->ended.head ? f->ended.head :
				    f->open.head)->rec.id);
}


/* ---- creating -------------------------------------------------------- */

/**
 * A holder of at most max_bytes (0: none: every verdict reloads)
 *
 * @return 0, ENOMEM
 */
int cl_facts_new(struct cl_facts **fp, size_t max_bytes)
{
	struct cl_facts *f = calloc(1, sizeof(*f));

	if (!f)
		return ENOMEM;
	/* part_row() finds a leg and an ICE direction by their first column */
	if (strcmp(cl_tab_leg.cols[0].name, "leg") ||
	    strcmp(cl_tab_ice.cols[0].name, "dir")) {
		free(f);
		return EINVAL;
	}
	f->max_bytes = max_bytes;
	for (size_t i = 0; i < sizeof(drop_cols) / sizeof(drop_cols[0]); ++i) {
		const struct cl_table *t = part_tabs[drop_cols[i].part];

		for (unsigned k = 0; k < t->ncols; ++k)
			if (!strcmp(t->cols[k].name, drop_cols[i].col))
				f->how[drop_cols[i].part][k] =
					(uint8_t)drop_cols[i].how;
	}
	*fp = f;
	return 0;
}


void cl_facts_free(struct cl_facts *f)
{
	if (!f)
		return;
	cl_facts_forget_all(f);
	sw_idmap_free(&f->calls);
	free(f);
}


/** Change the bound (0: hold nothing) */
void cl_facts_budget(struct cl_facts *f, size_t max_bytes)
{
	f->max_bytes = max_bytes;
	trim(f);
}


/* ---- applying a fact ------------------------------------------------- */

/* A fact the record cannot hold exactly: forget the call */
#define CF_INEXACT 1

/* A copy of a text as the record holds it (NULL stays NULL); *bytes
 * grows by its size */
static int copy_str(const char *s, enum cf_how how, char **out,
		    size_t *bytes)
{
	size_t n;

	*out = NULL;
	if (!s)
		return 0;
	if (how == CF_LINES) {
		*out = sw_sdp_verdict_lines(s, &n);
	}
	else {
		n = strlen(s);
		*out = malloc(n + 1);
		if (*out)
			memcpy(*out, s, n + 1);
	}
	if (!*out)
		return ENOMEM;
	*bytes += n + 1;
	return 0;
}


/* Replace a text member (the old one freed) */
static int set_str(struct cf_call *c, const char **member, const char *s,
		   enum cf_how how)
{
	char *v;
	int err;

	if (how == CF_DROP)
		return 0;
	err = copy_str(s, how, &v, &c->bytes);
	if (err)
		return err;
	if (*member)
		c->bytes -= strlen(*member) + 1;
	free((void *)(uintptr_t)*member);
	*member = v;
	return 0;
}


/* Store v in a number member as read_col() of the store reads it back;
 * CF_INEXACT if it would not read back as v (the merge rules compare
 * the stored values, not the truncated ones) */
static int set_num(const struct cl_col *c, void *row, int64_t v)
{
	char *p = (char *)row + c->off;

	switch (c->type) {
	case CT_I64: *(int64_t *)(void *)p = v; break;
	case CT_INT: *(int *)(void *)p = (int)v; break;
	case CT_U32: *(uint32_t *)(void *)p = (uint32_t)v; break;
	case CT_U64: *(uint64_t *)(void *)p = (uint64_t)v; break;
	case CT_BOOL: *(bool *)(void *)p = v != 0; break;
	case CT_CHAR: *p = (char)v; break;
	default: return CF_INEXACT;
	}
	return cl_col_num(c, row) == v ? 0 : CF_INEXACT;
}


/* One column of a fact into a row: a new row takes the fact as it is, an
 * existing one merges by the column's rule (the upsert of the store) */
static int merge_col(struct cf_call *c, const struct cl_col *col,
		     enum cf_how how, void *row, bool fresh, int64_t num,
		     const char *str)
{
	const char **member;

	if (col->type != CT_STR) {
		int64_t old = cl_col_num(col, row);

		if (fresh || col->merge == CM_KEY)
			return set_num(col, row, num);
		switch (col->merge) {
		case CM_SET: return num ? set_num(col, row, num) : 0;
		case CM_FIRST: return !old ? set_num(col, row, num) : 0;
		case CM_MAX: return set_num(col, row, num > old ? num : old);
		default: return CF_INEXACT;
		}
	}
	member = (const char **)(void *)((char *)row + col->off);
	if (col->merge == CM_MAX)
		return CF_INEXACT; /* MAX of texts: none is declared */
	if (fresh)
		return set_str(c, member, str, how);
	if (!str || (col->merge == CM_FIRST && *member) ||
	    (how == CF_DROP))
		return 0;
	return set_str(c, member, str, how);
}


/* The values of a part's fact, by column */
struct cf_fact {
	int64_t num[CLB_MAX_FIELDS];
	const char *str[CLB_MAX_FIELDS];
};


static void fact_read(const struct cl_table *t, const char *blob,
		      struct cf_fact *v)
{
	unsigned ni = 0, si = 0;

	for (unsigned i = 0; i < t->ncols && i < CLB_MAX_FIELDS; ++i) {
		if (t->cols[i].type == CT_STR)
			v->str[i] = clb_str(blob, si++, NULL);
		else
			v->num[i] = clb_num(blob, ni++);
	}
}


/* The key columns of a fact compared with a row's */
static int key_cmp(const struct cl_table *t, const struct cf_fact *v,
		   const void *row)
{
	for (unsigned i = 0; i < t->ncols; ++i) {
		int64_t a, b;

		if (t->cols[i].merge != CM_KEY)
			continue;
		a = v->num[i];
		b = cl_col_num(&t->cols[i], row);
		if (a != b)
			return a < b ? -1 : 1;
	}
	return 0;
}


/* The row of an array part (negs, relays, conns: kept in key order, the
 * order the store loads them in) for a fact, added if new */
static int array_row(struct cf_call *c, enum cf_part p, const struct cf_fact *v,
		     void **rowp, bool *fresh)
{
	const struct cl_table *t = part_tabs[p];
	struct sw_callrec *r = &c->rec;
	void **arr = p == CF_NEG     ? (void **)&r->negs
		   : p == CF_RELAY ? (void **)&r->relays
				   : (void **)&r->conns;
	unsigned *n = p == CF_NEG ? &r->n_negs : p == CF_RELAY ? &r->n_relays
							       : &r->n_conns;
	char *a = *arr;
	unsigned lo = 0, hi = *n;

	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;
		int k = key_cmp(t, v, a + (size_t)mid * t->size);

		if (!k) {
			*rowp = a + (size_t)mid * t->size;
			*fresh = false;
			return 0;
		}
		if (k < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	if (*n == c->cap[p]) {
		unsigned cap = c->cap[p] ? c->cap[p] * 2 : 2;

		a = realloc(a, (size_t)cap * t->size);
		if (!a)
			return ENOMEM;
		c->bytes += (size_t)(cap - c->cap[p]) * t->size;
		c->cap[p] = cap;
		*arr = a;
	}
	memmove(a + (size_t)(lo + 1) * t->size, a + (size_t)lo * t->size,
		(size_t)(*n - lo) * t->size);
	memset(a + (size_t)lo * t->size, 0, t->size);
	(*n)++;
	*rowp = a + (size_t)lo * t->size;
	*fresh = true;
	return 0;
}


/* The row a part's fact goes to; NULL *rowp: a row the store keeps but
 * never loads (a leg other than 'e'/'c', an ICE direction other than
 * e→c/c→e), nothing to hold */
static int part_row(struct cf_call *c, enum cf_part p, const struct cf_fact *v,
		    void **rowp, bool *fresh)
{
	struct sw_callrec *r = &c->rec;
	bool *has = NULL;
	int k;

	*rowp = NULL;
	switch (p) {
	case CF_LEG:
		if (v->num[0] < 0 || v->num[0] > 255)
			return CF_INEXACT; /* one letter in the store */
		k = sw_leg_index((char)v->num[0]);
		if (k < 0)
			return 0;
		*rowp = &r->legs[k];
		has = &r->has_leg[k];
		break;
	case CF_ICE:
		if (v->num[0] != SW_ICE_E2C && v->num[0] != SW_ICE_C2E)
			return v->num[0] == (int)v->num[0] ? 0 : CF_INEXACT;
		*rowp = &r->ice[v->num[0]];
		has = &r->has_ice[v->num[0]];
		break;
	case CF_ROUTE:
		*rowp = &r->route;
		has = &r->has_route;
		break;
	case CF_REINVITE:
		*rowp = &r->reinvite;
		has = &r->has_reinvite;
		break;
	default:
		return array_row(c, p, v, rowp, fresh);
	}
	*fresh = !*has;
	*has = true;
	return 0;
}


static int apply_part(struct cl_facts *f, struct cf_call *c, enum cf_part p,
		      const char *blob)
{
	const struct cl_table *t = part_tabs[p];
	struct cf_fact v = {{0}, {0}};
	bool fresh = false;
	void *row;
	int err;

	if (t->ncols > CLB_MAX_FIELDS ||
	    clb_nnum(blob) + clb_nstr(blob) != t->ncols)
		return CF_INEXACT;
	fact_read(t, blob, &v);
	err = part_row(c, p, &v, &row, &fresh);
	for (unsigned i = 0; !err && row && i < t->ncols; ++i)
		err = merge_col(c, &t->cols[i], (enum cf_how)f->how[p][i], row,
				fresh, v.num[i], v.str[i]);
	return err;
}


/* The call's own facts (the calls table of the store) */
static int apply_head(struct cf_call *c, const struct sw_callstore_msg *m)
{
	struct sw_callrec *r = &c->rec;
	const char *b = m->blob;
	enum sw_call_state st;
	int64_t t = clb_num(b, 0);
	int err = 0;

	switch (m->type) {
	case SW_CSM_RINGING:
	case SW_CSM_ANSWER:
		/* COALESCE(stored, t) with t bound even when 0 */
		if (!t)
			return CF_INEXACT;
		if (m->type == SW_CSM_RINGING && !r->ringing_us)
			r->ringing_us = t;
		if (m->type == SW_CSM_ANSWER && !r->answer_us)
			r->answer_us = t;
		return 0;
	case SW_CSM_END:
		c->ended = true;
		r->end_us = t;
		/* stored as its name, read back by it */
		st = (enum sw_call_state)clb_num(b, 1);
		if (sw_call_state_parse(sw_call_state_name(st), &r->state))
			r->state = SW_CS_ACTIVE;
		r->final_code = (int)clb_num(b, 2);
		if (r->final_code != clb_num(b, 2))
			return CF_INEXACT;
		err = set_str(c, &r->final_phrase, clb_str(b, 0, NULL),
			      CF_KEEP);
		if (!err)
			err = set_str(c, &r->disconnect_reason,
				      clb_str(b, 2, NULL), CF_KEEP);
		if (!err)
			err = set_str(c, &r->answered_by, clb_str(b, 3, NULL),
				      CF_KEEP);
		if (!err)
			err = set_str(c, &r->gw_reason, clb_str(b, 4, NULL),
				      CF_KEEP);
		return err;
	case SW_CSM_FAULT:
		if (r->gw_fault || !clb_str(b, 0, NULL))
			return 0;
		return set_str(c, &r->gw_fault, clb_str(b, 0, NULL), CF_KEEP);
	default:
		return 0; /* ladder steps, packets: no verdict reads them */
	}
}


/* A new call from its start */
static int start_call(struct cl_facts *f, const struct sw_callstore_msg *m,
		      struct cf_call **cp)
{
	struct cf_call *c;
	int err;

	c = calloc(1, sizeof(*c));
	if (!c)
		return ENOMEM;
	c->rec.id = (int64_t)m->uid;
	c->node.id = m->uid;
	c->bytes = sizeof(*c);
	c->rec.start_us = clb_num(m->blob, 0);
	c->rec.inbound_leg = (char)clb_num(m->blob, 1);
	c->rec.synthetic = clb_num(m->blob, 2) != 0;
	c->rec.state = SW_CS_ACTIVE;
	err = set_str(c, &c->rec.tag, clb_str(m->blob, 0, NULL), CF_KEEP);
	if (!err)
		err = sw_idmap_add(&f->calls, &c->node);
	if (err) {
		call_free(c);
		return err;
	}
	list_add(&f->open, c);
	f->bytes += c->bytes;
	*cp = c;
	return 0;
}


/* The part a fact updates, CF_NPART for the call's own facts */
static enum cf_part part_of(uint8_t type)
{
	switch (type) {
	case SW_CSM_LEG: return CF_LEG;
	case SW_CSM_ROUTE: return CF_ROUTE;
	case SW_CSM_NEG: return CF_NEG;
	case SW_CSM_RELAY: return CF_RELAY;
	case SW_CSM_CONN: return CF_CONN;
	case SW_CSM_ICE: return CF_ICE;
	case SW_CSM_REINVITE: return CF_REINVITE;
	default: return CF_NPART;
	}
}


/**
 * A fact the store has just applied (stored) or refused (!stored), at
 * now_us (monotonic): held as the store holds it, or the call forgotten
 */
void cl_facts_apply(struct cl_facts *f, const struct sw_callstore_msg *m,
		    bool stored, int64_t now_us)
{
	enum cf_part p = part_of(m->type);
	struct cf_call *c;
	size_t before;
	int err;

	if (!f || m->type == SW_CSM_FLUSH)
		return;
	if (!stored || !m->blob) {
		cl_facts_forget(f, (int64_t)m->uid);
		return;
	}
	if (m->type == SW_CSM_START) {
		cl_facts_forget(f, (int64_t)m->uid);
		if (!f->max_bytes || start_call(f, m, &c))
			return;
	}
	else if (!(c = find(f, (int64_t)m->uid))) {
		return;
	}
	before = c->bytes;
	list_del(c->ended ? &f->ended : &f->open, c);
	err = p < CF_NPART ? apply_part(f, c, p, m->blob) : apply_head(c, m);
	c->touched_us = now_us;
	list_add(c->ended ? &f->ended : &f->open, c);
	f->bytes = f->bytes - before + c->bytes;
	if (err || c->bytes > CF_CALL_MAX)
		cl_facts_forget(f, c->rec.id);
	trim(f);
}


/** The facts of a call, NULL if not held */
const struct sw_callrec *cl_facts_get(struct cl_facts *f, int64_t id)
{
	struct cf_call *c = find(f, id);

	return c ? &c->rec : NULL;
}


/** 1 if the call ended, 0 if not, -1 if it is not held */
int cl_facts_ended(struct cl_facts *f, int64_t id)
{
	struct cf_call *c = find(f, id);

	return c ? c->ended : -1;
}
