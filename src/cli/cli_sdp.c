/**
 * @file cli_sdp.c  `shareway sdp <tag> [--seq N] [--diff]`: the SDP of
 * each offer/answer exchange before and after the gateway rewrote it:
 * those it relayed, the offers it answered or refused itself (to
 * "shareway"), and its own completion re-INVITE (from "shareway").
 * --diff prints a unified diff (3 lines of context) of each body against
 * its rewrite, the quickest way to see who removed a candidate.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"
#include "sw_calllog.h"

#define DIFF_MAX_LINES 4000
#define CONTEXT 3

static const char usage_text[] =
	"usage: shareway sdp [--seq N] [--diff] [--json] TAG|CALL-ID\n"
	"The SDP of each offer/answer exchange of the call, as received and as\n"
	"sent: those relayed, the offers shareway answered or refused itself,\n"
	"and its own completion re-INVITE.\n"
	"  --seq N   only exchange N (1 is the initial INVITE)\n"
	"  --diff    unified diff of each body against its rewrite\n"
	"  --json    the exchanges as JSON\n";

struct lines {
	const char **l;
	size_t *len;
	size_t n;
};


/* Split text into lines (CR LF or LF), pointing into text */
static int split(const char *text, struct lines *ls)
{
	size_t cap = 64;

	ls->n = 0;
	ls->l = malloc(cap * sizeof(*ls->l));
	ls->len = malloc(cap * sizeof(*ls->len));
	if (!ls->l || !ls->len)
		return ENOMEM;
	for (const char *p = text ? text : ""; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		if (ls->n == DIFF_MAX_LINES)
			return E2BIG;
		if (ls->n == cap) {
			const char **l = realloc(ls->l, cap * 2 * sizeof(*l));
			size_t *n;

			if (l)
				ls->l = l;
			n = realloc(ls->len, cap * 2 * sizeof(*n));
			if (n)
				ls->len = n;
			if (!l || !n)
				return ENOMEM;
			cap *= 2;
		}
		ls->l[ls->n] = p;
		ls->len[ls->n++] = len && p[len - 1] == '\r' ? len - 1 : len;
		p = nl ? nl + 1 : p + len;
	}
	return 0;
}


static bool same(const struct lines *a, size_t i, const struct lines *b,
		 size_t k)
{
	return a->len[i] == b->len[k] && !memcmp(a->l[i], b->l[k], a->len[i]);
}


/* The edit script from an LCS table: ' ', '-' or '+' per output line,
 * with the line index in a or b */
struct edit {
	char op;
	size_t ai, bi;
};


static int script(const struct lines *a, const struct lines *b,
		  struct edit **ep, size_t *np)
{
	size_t w = b->n + 1, n = 0, i = 0, k = 0;
	uint32_t *t = calloc((a->n + 1) * w, sizeof(*t));
	struct edit *e = malloc((a->n + b->n + 1) * sizeof(*e));

	if (!t || !e) {
		free(t);
		free(e);
		return ENOMEM;
	}
	for (size_t x = a->n; x-- > 0;)
		for (size_t y = b->n; y-- > 0;)
			t[x * w + y] = same(a, x, b, y) ?
					       t[(x + 1) * w + y + 1] + 1 :
				       t[(x + 1) * w + y] > t[x * w + y + 1] ?
					       t[(x + 1) * w + y] :
					       t[x * w + y + 1];
	while (i < a->n || k < b->n) {
		if (i < a->n && k < b->n && same(a, i, b, k))
			e[n++] = (struct edit){' ', i++, k++};
		else if (k < b->n && (i == a->n ||
				      t[i * w + k + 1] >= t[(i + 1) * w + k]))
			e[n++] = (struct edit){'+', i, k++};
		else
			e[n++] = (struct edit){'-', i++, k};
	}
	free(t);
	*ep = e;
	*np = n;
	return 0;
}


static void print_hunk(const struct lines *a, const struct lines *b,
		       const struct edit *e, size_t from, size_t to)
{
	size_t na = 0, nb = 0;

	for (size_t x = from; x < to; ++x) {
		na += e[x].op != '+';
		nb += e[x].op != '-';
	}
	printf("@@ -%zu,%zu +%zu,%zu @@\n", e[from].ai + (na ? 1 : 0), na,
	       e[from].bi + (nb ? 1 : 0), nb);
	for (size_t x = from; x < to; ++x) {
		const struct lines *s = e[x].op == '+' ? b : a;
		size_t li = e[x].op == '+' ? e[x].bi : e[x].ai;

		printf("%c%.*s\n", e[x].op, (int)s->len[li], s->l[li]);
	}
}


/* Hunks: runs of changes with up to CONTEXT unchanged lines around */
static void print_hunks(const struct lines *a, const struct lines *b,
			const struct edit *e, size_t n)
{
	size_t x = 0;

	while (x < n) {
		size_t start, end, gap;

		while (x < n && e[x].op == ' ')
			++x;
		if (x == n)
			break;
		start = x > CONTEXT ? x - CONTEXT : 0;
		end = x;
		for (;;) {
			while (end < n && e[end].op != ' ')
				++end;
			for (gap = 0; end + gap < n && e[end + gap].op == ' ';)
				++gap;
			if (end + gap == n || gap > 2 * CONTEXT)
				break;
			end += gap;
		}
		end = end + (gap < CONTEXT ? gap : CONTEXT);
		print_hunk(a, b, e, start, end);
		x = end;
	}
}


static bool all_same(const struct edit *e, size_t n)
{
	for (size_t i = 0; i < n; ++i)
		if (e[i].op != ' ')
			return false;
	return true;
}


/*
 * Why a body of exchange n does not exist, or NULL if it should: the
 * gateway's own offer (from 'g') has no "in" and its answer goes nowhere;
 * an offer the gateway answered or refused itself (to 'g') was never
 * forwarded and had no far-end answer. which: 0 offer in, 1 offer out,
 * 2 answer in, 3 answer out.
 */
static const char *absent(const struct sw_rec_neg *n, int which)
{
	bool refused = n->result >= 300;

	if (n->from_leg == 'g' && which == 0)
		return "shareway wrote this offer";
	if (n->from_leg == 'g' && which == 3)
		return "the answer stays with shareway";
	if (n->to_leg == 'g' && which == 1)
		return refused ? "refused by shareway"
			       : "not forwarded, shareway answered it";
	if (n->to_leg == 'g' && which == 2)
		return refused ? "refused by shareway" : "shareway answered it";
	if (n->to_leg == 'g' && which == 3 && refused)
		return "refused by shareway";
	return NULL;
}


static void body(const char *title, const char *sdp, const char *why)
{
	struct lines ls = {0};

	if (!sdp && why) {
		printf("--- %s: none, %s\n", title, why);
		return;
	}
	printf("--- %s, %zu bytes\n", title, sdp ? strlen(sdp) : 0);
	if (!sdp) {
		printf("(not recorded)\n");
	}
	else if (split(sdp, &ls) == 0) {
		for (size_t i = 0; i < ls.n; ++i)
			printf("%.*s\n", (int)ls.len[i], ls.l[i]);
	}
	free(ls.l);
	free(ls.len);
}


/* A body against its rewrite; a side that does not exist by design (the
 * gateway's own offer, an offer it kept) shows the other in full */
static int diff(const struct sw_rec_neg *n, int wa, const char *name_a,
		const char *a, const char *name_b, const char *b)
{
	struct lines la = {0}, lb = {0};
	struct edit *e = NULL;
	size_t k = 0;
	int err;

	if ((!a && absent(n, wa)) || (!b && absent(n, wa + 1))) {
		body(name_a, a, absent(n, wa));
		body(name_b, b, absent(n, wa + 1));
		return 0;
	}
	printf("--- %s\n+++ %s\n", name_a, name_b);
	if (!a || !b) {
		printf("(%s not recorded)\n", !a ? name_a : name_b);
		return 0;
	}
	err = split(a, &la);
	if (!err)
		err = split(b, &lb);
	if (!err)
		err = script(&la, &lb, &e, &k);
	if (!err && all_same(e, k))
		printf("(identical)\n");
	else if (!err)
		print_hunks(&la, &lb, e, k);
	else if (err == E2BIG)
		printf("(over %d lines: not diffed)\n", DIFF_MAX_LINES);
	free(la.l);
	free(la.len);
	free(lb.l);
	free(lb.len);
	free(e);
	return err == E2BIG ? 0 : err;
}


static const char *leg_name(char leg)
{
	return leg == 'e' ? "e" : leg == 'c' ? "c" : leg == 'g' ? "shareway"
							       : "?";
}


static int show_neg(const struct sw_rec_neg *n, bool do_diff)
{
	char oi[64], oo[64], ai[64], ao[64];
	const char *f = leg_name(n->from_leg), *t = leg_name(n->to_leg);
	int err = 0;

	snprintf(oi, sizeof(oi), "#%u offer in (from %s)", n->seq, f);
	snprintf(oo, sizeof(oo), "#%u offer out (to %s)", n->seq, t);
	snprintf(ai, sizeof(ai), "#%u answer in (from %s)", n->seq, t);
	snprintf(ao, sizeof(ao), "#%u answer out (to %s)", n->seq, f);
	printf("=== #%u %s %s→%s, result %d in %u ms\n", n->seq,
	       n->trigger ? n->trigger : "?", f, t, n->result, n->latency_ms);
	if (n->rewrites)
		printf("rewrites: %s\n", n->rewrites);
	if (do_diff) {
		err = diff(n, 0, oi, n->offer_in, oo, n->offer_out);
		if (!err)
			err = diff(n, 2, ai, n->answer_in, ao, n->answer_out);
		return err;
	}
	body(oi, n->offer_in, absent(n, 0));
	body(oo, n->offer_out, absent(n, 1));
	body(ai, n->answer_in, absent(n, 2));
	body(ao, n->answer_out, absent(n, 3));
	return 0;
}


static void negs_json(const struct sw_callrec *r, uint32_t seq)
{
	struct sw_json j;

	sw_json_init(&j, true);
	sw_json_obj_open(&j, NULL);
	sw_json_str(&j, "tag", r->tag);
	sw_json_arr_open(&j, "negotiations");
	for (unsigned i = 0; i < r->n_negs; ++i) {
		const struct sw_rec_neg *n = &r->negs[i];

		if (seq && n->seq != seq)
			continue;
		sw_callrec_neg_json(&j, n);
	}
	sw_json_arr_close(&j);
	sw_json_obj_close(&j);
	cli_json_print(&j);
	sw_json_free(&j);
}


static int print_all(const struct sw_callrec *r, uint32_t seq, bool do_diff)
{
	unsigned shown = 0;

	for (unsigned i = 0; i < r->n_negs; ++i) {
		if (seq && r->negs[i].seq != seq)
			continue;
		if (shown++)
			printf("\n");
		if (show_neg(&r->negs[i], do_diff)) {
			fprintf(stderr, "shareway: out of memory\n");
			return CLI_FAIL;
		}
	}
	if (!shown) {
		fprintf(stderr, "shareway: %s has no %s offer/answer exchange\n",
			r->tag, seq ? "such" : "recorded");
		return CLI_FAIL;
	}
	return CLI_OK;
}


static int run(const struct cli_env *env, int argc, char **argv)
{
	struct sw_callrec *rec = NULL;
	const char *key = NULL;
	bool do_diff = false, json = false;
	uint32_t seq = 0;
	int rc;

	if (cli_is_help(argc, argv))
		return cli_usage(stdout, usage_text, CLI_OK);
	for (int i = 1; i < argc; ++i) {
		char *end;

		if (!strcmp(argv[i], "--diff"))
			do_diff = true;
		else if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!strcmp(argv[i], "--seq")) {
			if (i + 1 == argc)
				return cli_usage(stderr, usage_text, CLI_USAGE);
			seq = (uint32_t)strtoul(argv[++i], &end, 10);
			if (!seq || *end)
				return cli_usage(stderr, usage_text, CLI_USAGE);
		}
		else if (argv[i][0] == '-' || key)
			return cli_usage(stderr, usage_text, CLI_USAGE);
		else
			key = argv[i];
	}
	if (!key)
		return cli_usage(stderr, usage_text, CLI_USAGE);
	rc = cli_load_call(env, key, &rec);
	if (!rc && json)
		negs_json(rec, seq);
	else if (!rc)
		rc = print_all(rec, seq, do_diff);
	sw_callrec_free(rec);
	return rc;
}

const struct cli_cmd cli_cmd_sdp = {
	"sdp", "SDP of each offer/answer, before/after rewrite", run};
