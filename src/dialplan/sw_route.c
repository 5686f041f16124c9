/**
 * @file sw_route.c  The dial plan at run time: match a request against a
 * loaded rule set, apply rewrites, and describe what happened.
 *
 * Runs on the caller's thread with no shared writable state: the rule set
 * is read-only, per-call state lives in a struct eval on the heap, and
 * PCRE2 match data is created per call (the compiled patterns are shared,
 * which PCRE2 allows). The trace is kept by value in the result; the text
 * and JSON renderings are what `shareway locate` prints and the call log
 * stores. Neither the result nor the eval is zeroed whole (40 + 20 KB per
 * INVITE): each trace entry is cleared as it is taken, and what lies past
 * the counts and the strings' ends is never read.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SW_LOG_MODULE "rules"
#include "sw_log.h"
#include "sw_uri.h"
#include "sw_rules_int.h"

static const char *const pat_ops[] = {"==", "^=", "$=", "=~"};
/* one sw_rules_route() call; on the heap (the captures are 20 KB) */
struct eval {
	const struct sw_rules *rs;
	const struct sw_route_input *in;
	struct sw_route_result *out;
	pcre2_match_data *md;
	bool have_ruri, have_to, have_target;
	char caps[SW_ROUTE_MAX_CAPS][SW_ROUTE_URI]; /* of the last regex */
	unsigned n_caps;
	struct sw_route_step scratch; /* steps past the end of the trace */
};

/* a bounded text builder that marks a cut with "..." */
struct tbuf {
	char *p;
	size_t sz, len;
};


static void tb_add(struct tbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));


static void tb_add(struct tbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->len + 1 >= b->sz)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->sz - b->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= b->sz - b->len) {
		b->len = b->sz - 1;
		if (b->sz > 4)
			memcpy(b->p + b->sz - 4, "...", 4);
		return;
	}
	b->len += (size_t)n;
}


/* copy for display, cut with "..." */
static void set_text(char *dst, size_t sz, const char *src)
{
	struct tbuf b = {dst, sz, 0};

	dst[0] = '\0';
	tb_add(&b, "%s", src);
}


static struct sw_route_step *step_new(struct eval *ev,
				      struct sw_route_tried *t)
{
	struct sw_route_result *out = ev->out;
	struct sw_route_step *st;

	if (!t || out->n_steps >= SW_ROUTE_MAX_STEPS) {
		if (t)
			out->trace_truncated = true;
		memset(&ev->scratch, 0, sizeof(ev->scratch));
		return &ev->scratch;
	}
	st = &out->steps[out->n_steps++];
	memset(st, 0, sizeof(*st));
	st->tried = (uint8_t)(t - out->tried);
	++t->n_steps;
	return st;
}


static bool source_test(struct eval *ev, const struct rule *ru,
			struct sw_route_tried *t)
{
	const char *zone = ev->in->source_zone;
	struct sw_route_step *st;
	struct tbuf b;
	bool pass = false;

	if (!ru->n_sources)
		return true;
	st = step_new(ev, t);
	set_text(st->what, sizeof(st->what), "source");
	set_text(st->op, sizeof(st->op), "=");
	b = (struct tbuf){st->pattern, sizeof(st->pattern), 0};
	for (unsigned i = 0; i < ru->n_sources; ++i) {
		tb_add(&b, "%s%s", i ? "," : "", ru->sources[i]);
		if (zone && !strcmp(zone, ru->sources[i]))
			pass = true;
	}
	b = (struct tbuf){st->value, sizeof(st->value), 0};
	tb_add(&b, "%s", zone ? zone : "(no zone)");
	if (ev->in->source_addr)
		tb_add(&b, " from %s", ev->in->source_addr);
	st->pass = pass;
	return pass;
}


static const char *uri_why(int err)
{
	switch (err) {
	case ENOENT:
		return "(none)";
	case ERANGE:
		return "(too long)";
	default:
		return "(not a SIP or tel URI)";
	}
}


/* the value a condition tests, in buf; NULL with *why if there is none */
static const char *cond_value(struct eval *ev, const struct cond *c,
			      char *buf, size_t sz, const char **why)
{
	char uri[SW_ROUTE_URI];
	unsigned which, part;
	const char *src, *v;
	int err = 0;

	*why = "(absent)";
	if (c->field == F_HEADER) {
		v = ev->in->header ? ev->in->header(ev->in->header_arg,
						     c->what + 7)
				   : NULL;
		return v;
	}
	which = (unsigned)(c->field - F_RURI) / 3;
	part = (unsigned)(c->field - F_RURI) % 3;
	src = which == 0   ? (ev->have_ruri ? ev->out->ruri : NULL)
	      : which == 1 ? ev->in->from
			   : (ev->have_to ? ev->out->to : NULL);
	if (!src)
		return NULL;
	if (which == 0)
		snprintf(uri, sizeof(uri), "%s", src);
	else
		err = sw_uri_from_header(src, uri, sizeof(uri));
	if (!err && part == 0)
		err = snprintf(buf, sz, "%s", uri) >= (int)sz ? ERANGE : 0;
	else if (!err)
		err = part == 1 ? sw_uri_user(uri, buf, sz)
				: sw_uri_host(uri, buf, sz);
	if (err) {
		*why = uri_why(err);
		return NULL;
	}
	return buf;
}


static bool literal_test(const struct cond *c, const char *v)
{
	size_t vl = strlen(v), pl = strlen(c->pattern);

	switch (c->type) {
	case PT_EXACT:
		return !strcmp(v, c->pattern);
	case PT_PREFIX:
		return !strncmp(v, c->pattern, pl);
	case PT_SUFFIX:
		return vl >= pl && !memcmp(v + vl - pl, c->pattern, pl);
	default:
		return false;
	}
}


/* keep: this is the rule's last regex, whose captures rewrites use */
static bool regex_test(struct eval *ev, const struct cond *c, const char *v,
		       bool keep, struct sw_route_step *st)
{
	struct tbuf b = {st->caps, sizeof(st->caps), 0};
	PCRE2_UCHAR msg[96];
	PCRE2_SIZE *ov;
	unsigned n;
	int rc;

	rc = pcre2_match(c->re, (PCRE2_SPTR)v, strlen(v), 0, 0, ev->md,
			 ev->rs->mctx);
	if (rc == PCRE2_ERROR_NOMATCH)
		return false;
	if (rc < 0) {
		pcre2_get_error_message(rc, msg, sizeof(msg));
		tb_add(&b, "(%s)", (const char *)msg);
		sw_debug("[match.%s] regex failed: %s", c->what,
			 (const char *)msg);
		return false;
	}
	ov = pcre2_get_ovector_pointer(ev->md);
	n = c->ngroups + 1 < SW_ROUTE_MAX_CAPS ? c->ngroups + 1
					       : SW_ROUTE_MAX_CAPS;
	for (unsigned k = 0; k < n; ++k) {
		size_t len = ov[2 * k] == PCRE2_UNSET
				     ? 0
				     : ov[2 * k + 1] - ov[2 * k];
		const char *s = v + (len ? ov[2 * k] : 0);

		if (keep && len >= SW_ROUTE_URI) {
			set_text(st->caps, sizeof(st->caps),
				 "(a capture is too long to use)");
			return false;
		}
		if (keep) {
			memcpy(ev->caps[k], s, len);
			ev->caps[k][len] = '\0';
		}
		if (k)
			tb_add(&b, "%s$%u=%.*s", k > 1 ? " " : "", k, (int)len,
			       s);
	}
	if (keep)
		ev->n_caps = n;
	return true;
}


static bool offered(const struct sw_route_input *in, const char *type)
{
	for (unsigned i = 0; i < in->n_media && i < SW_ROUTE_MAX_INPUT_MEDIA;
	     ++i)
		if (in->media[i] && !strcasecmp(in->media[i], type))
			return true;
	return false;
}


static bool media_test(struct eval *ev, const struct cond *c,
		       struct sw_route_step *st)
{
	const struct sw_route_input *in = ev->in;
	struct tbuf b = {st->value, sizeof(st->value), 0};

	set_text(st->op, sizeof(st->op), "has");
	set_text(st->pattern, sizeof(st->pattern), c->pattern);
	for (unsigned i = 0; i < in->n_media && i < SW_ROUTE_MAX_INPUT_MEDIA;
	     ++i)
		if (in->media[i])
			tb_add(&b, "%s%s", b.len ? "," : "", in->media[i]);
	if (!b.len)
		tb_add(&b, "(no media)");
	for (unsigned i = 0; i < c->n_mt; ++i)
		if (offered(in, c->mt[i].type) == c->mt[i].neg)
			return false;
	return true;
}


static bool cond_test(struct eval *ev, const struct rule *ru, unsigned i,
		      struct sw_route_tried *t)
{
	const struct cond *c = &ru->conds[i];
	struct sw_route_step *st = step_new(ev, t);
	char buf[SW_ROUTE_URI];
	const char *v, *why;

	set_text(st->what, sizeof(st->what), c->what);
	if (c->field == F_MEDIA) {
		st->pass = media_test(ev, c, st);
		return st->pass;
	}
	set_text(st->op, sizeof(st->op), pat_ops[c->type]);
	set_text(st->pattern, sizeof(st->pattern), c->pattern);
	v = cond_value(ev, c, buf, sizeof(buf), &why);
	set_text(st->value, sizeof(st->value), v ? v : why);
	if (!v)
		return false;
	st->pass = c->type == PT_REGEX
			   ? regex_test(ev, c, v, (int)i == ru->last_re, st)
			   : literal_test(c, v);
	return st->pass;
}


static bool rule_test(struct eval *ev, const struct rule *ru,
		      struct sw_route_tried *t)
{
	if (!source_test(ev, ru, t))
		return false;
	ev->n_caps = 0;
	for (unsigned i = 0; i < ru->n_conds; ++i)
		if (!cond_test(ev, ru, i, t))
			return false;
	return true;
}


/* expand $0..$9 and $$; a missing group expands to nothing */
static int tpl_expand(const struct eval *ev, const char *t, char *out,
		      size_t sz)
{
	size_t len = 0;

	for (; *t; ++t) {
		const char *s = t;
		size_t n = 1;

		if (t[0] == '$' && t[1] == '$') {
			++t;
		}
		else if (t[0] == '$' && isdigit((unsigned char)t[1])) {
			unsigned k = (unsigned)(t[1] - '0');

			s = k < ev->n_caps ? ev->caps[k] : "";
			n = strlen(s);
			++t;
		}
		if (len + n >= sz)
			return ERANGE;
		memcpy(out + len, s, n);
		len += n;
	}
	out[len] = '\0';
	return 0;
}


/* a failed rewrite shows in the trace and ends the search */
static int rewrite_fail(struct eval *ev, struct sw_route_tried *t,
			const char *what, int err)
{
	struct sw_route_step *st = step_new(ev, t);

	set_text(st->what, sizeof(st->what), what);
	set_text(st->op, sizeof(st->op), "->");
	set_text(st->value, sizeof(st->value),
		 err == ERANGE ? "(result too long)"
			       : "(result is not a usable URI)");
	st->pass = false;
	return err;
}


static bool user_ok(const char *u)
{
	return sw_rules_printable(u) && !strpbrk(u, " @:<>\"");
}


static int user_rewrite(struct eval *ev, const struct rule *ru)
{
	char user[SW_ROUTE_URI] = "", arg[SW_ROUTE_URI] = "";
	char nu[SW_ROUTE_URI], uri[SW_ROUTE_URI];
	int err, n;

	if (!ev->have_ruri)
		return EINVAL;
	err = sw_uri_user(ev->out->ruri, user, sizeof(user));
	if (err && err != ENOENT)
		return err;
	if (ru->rw_user.text) {
		err = tpl_expand(ev, ru->rw_user.text, arg, sizeof(arg));
		if (err)
			return err;
	}
	if (ru->uop == UO_STRIP) {
		size_t ul = strlen(user);

		n = snprintf(nu, sizeof(nu), "%s",
			     user + (ru->ustrip < ul ? ru->ustrip : ul));
	}
	else if (ru->uop == UO_PREFIX)
		n = snprintf(nu, sizeof(nu), "%s%s", arg, user);
	else if (ru->uop == UO_SUFFIX)
		n = snprintf(nu, sizeof(nu), "%s%s", user, arg);
	else
		n = snprintf(nu, sizeof(nu), "%s", arg);
	if (n < 0 || (size_t)n >= sizeof(nu))
		return ERANGE;
	if (*nu && !user_ok(nu))
		return EINVAL;
	err = sw_uri_set_user(ev->out->ruri, nu, uri, sizeof(uri));
	if (!err)
		snprintf(ev->out->ruri, sizeof(ev->out->ruri), "%s", uri);
	return err;
}


static int rewrites_apply(struct eval *ev, const struct rule *ru,
			  struct sw_route_tried *t)
{
	struct sw_route_result *out = ev->out;
	char buf[SW_ROUTE_URI], uri[SW_ROUTE_URI];
	int err;

	if (ru->rw_ruri.text) {
		err = tpl_expand(ev, ru->rw_ruri.text, buf, sizeof(buf));
		if (!err && (strpbrk(buf, " \t<>\"") ||
			     !sw_rules_printable(buf)))
			err = EINVAL;
		if (err)
			return rewrite_fail(ev, t, "rewrite.ruri", err);
		memcpy(out->ruri, buf, sizeof(out->ruri));
		ev->have_ruri = out->ruri_rewritten = true;
	}
	if (ru->uop) {
		err = user_rewrite(ev, ru);
		if (err)
			return rewrite_fail(ev, t, "rewrite.ruri.user", err);
		out->ruri_rewritten = true;
	}
	if (ru->rw_to.text) {
		err = tpl_expand(ev, ru->rw_to.text, buf, sizeof(buf));
		if (!err && (!sw_rules_printable(buf) ||
			     sw_uri_from_header(buf, uri, sizeof(uri))))
			err = EINVAL;
		if (err)
			return rewrite_fail(ev, t, "rewrite.to", err);
		memcpy(out->to, buf, sizeof(out->to));
		ev->have_to = out->to_rewritten = true;
	}
	return 0;
}


static void media_merge(struct sw_route_result *out, const struct rule *ru)
{
	for (unsigned i = 0; i < ru->n_media; ++i) {
		unsigned k = 0;

		while (k < out->n_media &&
		       strcasecmp(out->media[k].type, ru->media[i].type))
			++k;
		/* the loader caps distinct types at SW_ROUTE_MAX_MEDIA */
		if (k == SW_ROUTE_MAX_MEDIA)
			continue;
		if (k == out->n_media)
			++out->n_media;
		out->media[k] = ru->media[i];
	}
	if (ru->media_default)
		out->media_default = ru->media_default;
}


static void media_text(struct tbuf *b, const struct sw_route_media *m,
		       unsigned n, enum sw_media_policy def)
{
	if (!n && !def)
		return;
	tb_add(b, "media: ");
	for (unsigned i = 0; i < n; ++i)
		tb_add(b, "%s%s=%s", i ? ", " : "", m[i].type,
		       sw_media_policy_name(m[i].policy));
	if (def)
		tb_add(b, "%sdefault=%s", n ? ", " : "",
		       sw_media_policy_name(def));
}


static void target_text(struct tbuf *b, const struct sw_route_result *out)
{
	tb_add(b, "-> %s via %s (%s); ", out->ruri,
	       out->target_zone[0] ? out->target_zone : out->target_uri,
	       sw_transport_name(out->transport));
}


/* "; "-separated summary of what an applied rule did */
static void action_text(const struct eval *ev, const struct rule *ru,
			struct sw_route_tried *t)
{
	const struct sw_route_result *out = ev->out;
	struct tbuf b = {t->action, sizeof(t->action), 0};

	if (ru->reject_code)
		tb_add(&b, "reject %u %s; ", ru->reject_code,
		       ru->reject_phrase);
	else if (ru->has_target)
		target_text(&b, out);
	else if (ru->rw_ruri.text || ru->uop)
		tb_add(&b, "ruri -> %s; ", out->ruri);
	if (ru->rw_to.text)
		tb_add(&b, "to -> %s; ", out->to);
	if (ru->n_media || ru->media_default) {
		media_text(&b, ru->media, ru->n_media, ru->media_default);
		tb_add(&b, "; ");
	}
	if (ru->log_tag[0])
		tb_add(&b, "tag: %s; ", ru->log_tag);
	if (!ru->reject_code && ru->on_match == ON_CONTINUE)
		tb_add(&b, "continue; ");
	if (b.len >= 2 && !strcmp(t->action + b.len - 2, "; "))
		t->action[b.len - 2] = '\0';
}


static int rule_apply(struct eval *ev, const struct rule *ru,
		      struct sw_route_tried *t)
{
	struct sw_route_result *out = ev->out;
	int err;

	err = rewrites_apply(ev, ru, t);
	if (err)
		return err;
	if (ru->has_target) {
		memcpy(out->target_zone, ru->target_zone,
		       sizeof(out->target_zone));
		memcpy(out->target_uri, ru->target_uri,
		       sizeof(out->target_uri));
		out->transport = ru->transport;
		ev->have_target = true;
	}
	media_merge(out, ru);
	if (ru->log_tag[0])
		memcpy(out->log_tag, ru->log_tag, sizeof(out->log_tag));
	out->reject_code = ru->reject_code;
	memcpy(out->reject_phrase, ru->reject_phrase,
	       sizeof(out->reject_phrase));
	out->matched = true;
	memcpy(out->rule, ru->name, sizeof(out->rule));
	out->priority = ru->priority;
	out->n_captures = ev->n_caps; /* read below it only */
	for (unsigned k = 0; k < ev->n_caps; ++k)
		set_text(out->captures[k], sizeof(out->captures[k]),
			 ev->caps[k]);
	if (t) {
		t->matched = true;
		t->stop = ru->reject_code || ru->on_match == ON_STOP;
		action_text(ev, ru, t);
	}
	return 0;
}


static struct sw_route_tried *tried_new(struct eval *ev,
					const struct rule *ru)
{
	struct sw_route_result *out = ev->out;
	struct sw_route_tried *t;

	if (out->n_tried >= SW_ROUTE_MAX_TRIED) {
		out->trace_truncated = true;
		return NULL;
	}
	t = &out->tried[out->n_tried++];
	memset(t, 0, sizeof(*t));
	memcpy(t->rule, ru->name, sizeof(t->rule));
	t->priority = ru->priority;
	t->first_step = out->n_steps;
	return t;
}


static int route_init(struct eval *ev, const struct sw_route_input *in)
{
	struct sw_route_result *out = ev->out;

	if (in->source_zone)
		set_text(out->source_zone, sizeof(out->source_zone),
			 in->source_zone);
	if (in->ruri) {
		if (strlen(in->ruri) >= sizeof(out->ruri))
			return ERANGE;
		memcpy(out->ruri, in->ruri, strlen(in->ruri) + 1);
		memcpy(out->ruri_in, out->ruri, sizeof(out->ruri_in));
		ev->have_ruri = true;
	}
	if (in->to) {
		if (strlen(in->to) >= sizeof(out->to))
			return ERANGE;
		memcpy(out->to, in->to, strlen(in->to) + 1);
		ev->have_to = true;
	}
	return 0;
}


/**
 * Run the rules for one request
 *
 * out is filled by value (trace included) even when an error is returned.
 *
 * @return 0 (see out->outcome), EINVAL for bad arguments or a rewrite
 *         whose result is not a usable URI, ERANGE if the R-URI or To is
 *         longer than SW_ROUTE_URI - 1 or a rewrite would be, ENOMEM
 */
int sw_rules_route(const struct sw_rules *r, const struct sw_route_input *in,
		   struct sw_route_result *out)
{
	struct eval *ev;
	int err = 0;

	if (!r || !in || !out)
		return EINVAL;
	sw_route_result_reset(out);
	/* not calloc: ev->caps are read below n_caps only */
	ev = malloc(sizeof(*ev));
	if (!ev) {
		out->err = ENOMEM;
		return ENOMEM;
	}
	ev->rs = r; /* field by field: a compound literal would zero caps */
	ev->in = in;
	ev->out = out;
	ev->md = NULL;
	ev->have_ruri = ev->have_to = ev->have_target = false;
	ev->n_caps = 0;
	err = route_init(ev, in);
	if (err)
		goto out;
	ev->md = pcre2_match_data_create(r->max_groups + 1, NULL);
	if (!ev->md) {
		err = ENOMEM;
		goto out;
	}
	for (unsigned i = 0; i < r->n; ++i) {
		const struct rule *ru = &r->rules[i];
		struct sw_route_tried *t = tried_new(ev, ru);

		if (!rule_test(ev, ru, t))
			continue;
		err = rule_apply(ev, ru, t);
		if (err || ru->reject_code || ru->on_match == ON_STOP)
			break;
	}
	if (!out->media_default)
		out->media_default = r->def_media;
	if (err)
		out->outcome = SW_ROUTE_NONE;
	else if (out->reject_code)
		out->outcome = SW_ROUTE_REJECT;
	else if (ev->have_target)
		out->outcome = SW_ROUTE_FORWARD;
out:
	out->err = err;
	pcre2_match_data_free(ev->md);
	free(ev);
	return err;
}


/** @return "none", "forward" or "reject" */
const char *sw_route_outcome_name(enum sw_route_outcome o)
{
	switch (o) {
	case SW_ROUTE_FORWARD:
		return "forward";
	case SW_ROUTE_REJECT:
		return "reject";
	default:
		return "none";
	}
}


/* ------------------------------------------------------------------ */
/* trace text: what `shareway locate` prints and the call log keeps   */
/* ------------------------------------------------------------------ */

#define TRACE_COLS   100
#define TRACE_INDENT 4

/* text wrapped at TRACE_COLS, continuation lines indented */
struct wrap {
	char *buf;
	size_t sz, len;
	unsigned col;
	bool over;
};


static void w_putc(struct wrap *w, char c)
{
	if (w->len + 1 >= w->sz) {
		w->over = true;
		return;
	}
	w->buf[w->len++] = c;
	w->buf[w->len] = '\0';
	w->col = c == '\n' ? 0 : w->col + 1;
}


static void w_newline(struct wrap *w, bool indent)
{
	w_putc(w, '\n');
	for (unsigned i = 0; indent && i < TRACE_INDENT; ++i)
		w_putc(w, ' ');
}


/* n bytes of s, wrapped hard at the margin; copied a run at a time (up
 * to the margin, a line break or the buffer's end), as w_putc() would a
 * byte at a time: the call log gets a trace per INVITE */
static void w_span(struct wrap *w, const char *s, size_t n)
{
	n = strnlen(s, n);
	while (n && !w->over) {
		const char *nl;
		size_t k, room;

		if (w->col >= TRACE_COLS - 1) /* room for a ';' after */
			w_newline(w, true);
		k = w->col < TRACE_COLS - 1 ? TRACE_COLS - 1 - w->col : 1;
		if (k > n)
			k = n;
		if ((nl = memchr(s, '\n', k)))
			k = (size_t)(nl - s) + 1;
		room = w->len + 1 < w->sz ? w->sz - 1 - w->len : 0;
		if (k > room) { /* what fits, and the rest is cut */
			k = room;
			w->over = true;
		}
		memcpy(w->buf + w->len, s, k);
		w->len += k;
		w->buf[w->len] = '\0';
		w->col = k && s[k - 1] == '\n' ? 0 : w->col + (unsigned)k;
		s += k;
		n -= k;
	}
}


static void w_text(struct wrap *w, const char *s)
{
	w_span(w, s, strlen(s));
}


/* " " s word by word, breaking lines between words where it can */
static void w_words(struct wrap *w, const char *s)
{
	size_t blanks = 1; /* the one before the first word */

	for (;;) {
		size_t n;

		blanks += strspn(s, " ");
		s += strspn(s, " ");
		n = strcspn(s, " ");
		if (!n)
			break;
		if (w->col > TRACE_INDENT && w->col + blanks + n >= TRACE_COLS)
			w_newline(w, true);
		else
			for (; blanks; --blanks)
				w_putc(w, ' ');
		w_span(w, s, n);
		s += n;
		blanks = 0;
	}
}


/* sep then s; the trimmed sep and s on a new line if s does not fit
 * here but would there; longer items break between words. One column
 * stays free for the ';' a following item may leave behind. */
static void w_item(struct wrap *w, const char *sep, const char *s)
{
	size_t n = strlen(s);

	if (w->col + strlen(sep) + n < TRACE_COLS) {
		w_text(w, sep);
		w_text(w, s);
		return;
	}
	if (TRACE_INDENT + n >= TRACE_COLS) {
		if (sep[0] != ' ')
			w_putc(w, sep[0]);
		w_words(w, s);
		return;
	}
	if (w->col > TRACE_INDENT) {
		if (sep[0] != ' ')
			w_putc(w, sep[0]);
		w_newline(w, true);
	}
	w_text(w, s);
}


static bool is_pattern_op(const char *op)
{
	return !strcmp(op, "==") || !strcmp(op, "^=") || !strcmp(op, "$=") ||
	       !strcmp(op, "=~");
}


static void step_text(const struct sw_route_step *st, char *buf, size_t sz)
{
	struct tbuf b = {buf, sz, 0};
	bool quote = is_pattern_op(st->op) && st->value[0] != '(';

	buf[0] = '\0';
	if (!strcmp(st->op, "="))
		tb_add(&b, "%s=%s", st->what, st->pattern);
	else if (!strcmp(st->op, "=~"))
		tb_add(&b, "%s =~ /%s/", st->what, st->pattern);
	else if (is_pattern_op(st->op))
		tb_add(&b, "%s %s \"%s\"", st->what, st->op, st->pattern);
	else if (!strcmp(st->op, "has"))
		tb_add(&b, "%s has %s", st->what, st->pattern);
	else
		tb_add(&b, "%s", st->what);
	tb_add(&b, " %s", st->pass ? "PASS" : "FAIL");
	if (!st->pass)
		tb_add(&b, quote ? ": \"%s\"" : ": %s", st->value);
	if (st->caps[0])
		tb_add(&b, " %s", st->caps);
}


static void tried_text(struct wrap *w, const struct sw_route_result *res,
		       const struct sw_route_tried *t)
{
	char line[SW_ROUTE_TRACE_TEXT * 4], act[sizeof(t->action)];
	const char *sep = " ";
	char *save = NULL;

	snprintf(line, sizeof(line), "rule %s (pr %u):", t->rule,
		 t->priority);
	w_text(w, line);
	for (unsigned i = 0; i < t->n_steps; ++i) {
		unsigned k = t->first_step + i;

		if (k >= res->n_steps || k >= SW_ROUTE_MAX_STEPS)
			break;
		step_text(&res->steps[k], line, sizeof(line));
		w_item(w, sep, line);
		sep = "; ";
	}
	if (t->matched) {
		snprintf(act, sizeof(act), "%s", t->action);
		for (char *p = strtok_r(act, ";", &save); p;
		     p = strtok_r(NULL, ";", &save)) {
			w_item(w, sep, p + strspn(p, " "));
			sep = "; ";
		}
		if (!t->action[0])
			w_item(w, sep, "applied");
	}
	w_newline(w, false);
}


/* w_item(), then the separator for the item after it */
static const char *w_next(struct wrap *w, const char *sep, const char *s)
{
	w_item(w, sep, s);
	return "; ";
}


/* the "=>" line's items after its head, "; "-separated */
static void result_items(struct wrap *w, const struct sw_route_result *res)
{
	char line[SW_ROUTE_URI + 128];
	struct tbuf b = {line, sizeof(line), 0};
	const char *sep = " ";

	line[0] = '\0';
	if (res->err)
		tb_add(&b, "%s", res->err == ERANGE
				      ? "an input or rewrite is too long"
				      : "a rewrite gave an unusable URI");
	else if (!res->matched)
		tb_add(&b, "no rule matched");
	else if (res->outcome == SW_ROUTE_NONE)
		tb_add(&b, "no applied rule set a target");
	else if (res->outcome == SW_ROUTE_FORWARD)
		tb_add(&b, "ruri %s", res->ruri);
	if (b.len)
		sep = w_next(w, sep, line);
	if (res->outcome == SW_ROUTE_FORWARD && res->to_rewritten) {
		b = (struct tbuf){line, sizeof(line), 0};
		tb_add(&b, "to %s", res->to);
		sep = w_next(w, sep, line);
	}
	b = (struct tbuf){line, sizeof(line), 0};
	if (res->outcome == SW_ROUTE_FORWARD)
		media_text(&b, res->media, res->n_media, res->media_default);
	if (b.len)
		sep = w_next(w, sep, line);
	if (res->log_tag[0]) {
		snprintf(line, sizeof(line), "tag %s", res->log_tag);
		sep = w_next(w, sep, line);
	}
	if (res->matched) {
		snprintf(line, sizeof(line), "rule %s (pr %u)", res->rule,
			 res->priority);
		w_item(w, sep, line);
	}
}


static void result_text(struct wrap *w, const struct sw_route_result *res)
{
	char line[SW_ROUTE_URI + 128];
	struct tbuf b = {line, sizeof(line), 0};

	line[0] = '\0';
	if (res->outcome == SW_ROUTE_REJECT)
		tb_add(&b, "=> reject %u %s:", res->reject_code,
		       res->reject_phrase);
	else if (res->outcome == SW_ROUTE_FORWARD)
		tb_add(&b, "=> forward to %s (%s%s%s):",
		       res->target_zone[0] ? res->target_zone : res->target_uri,
		       res->target_zone[0] ? res->target_uri : "",
		       res->target_zone[0] && res->target_uri[0] ? ", " : "",
		       sw_transport_name(res->transport));
	else
		tb_add(&b, "=> no route:");
	w_text(w, line);
	result_items(w, res);
	w_newline(w, false);
}


/**
 * Write the trace as text: one line per rule tried (wrapped at 100
 * columns), then a line starting "=>" with the decision
 *
 * @return 0, EINVAL, or ERANGE if buf was too small (the text is cut)
 */
int sw_route_trace_format(const struct sw_route_result *res, char *buf,
			  size_t sz)
{
	struct wrap w = {buf, sz, 0, 0, false};

	if (!res || !buf || !sz)
		return EINVAL;
	buf[0] = '\0';
	for (unsigned i = 0; i < res->n_tried && i < SW_ROUTE_MAX_TRIED; ++i)
		tried_text(&w, res, &res->tried[i]);
	if (res->trace_truncated)
		w_text(&w, "(trace truncated)\n");
	result_text(&w, res);
	return w.over ? ERANGE : 0;
}


/* ------------------------------------------------------------------ */
/* JSON: the "route" object of a call-log record, `locate --json`     */
/* ------------------------------------------------------------------ */

struct jbuf {
	char *p;
	size_t sz, len;
	bool over;
};


static void j_raw(struct jbuf *j, const char *s, size_t n)
{
	if (j->len + n >= j->sz) {
		j->over = true;
		return;
	}
	memcpy(j->p + j->len, s, n);
	j->len += n;
	j->p[j->len] = '\0';
}


static void j_fmt(struct jbuf *j, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));


static void j_fmt(struct jbuf *j, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		j->over = true;
		return;
	}
	j_raw(j, tmp, (size_t)n);
}


/* length of a valid UTF-8 sequence at s (RFC 3629), 0 if invalid */
static size_t utf8_len(const unsigned char *s)
{
	uint32_t cp, min;
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		n = 2, cp = s[0] & 0x1f, min = 0x80;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3, cp = s[0] & 0x0f, min = 0x800;
	else if ((s[0] & 0xf8) == 0xf0)
		n = 4, cp = s[0] & 0x07, min = 0x10000;
	else
		return 0;
	for (size_t i = 1; i < n; ++i) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}


/* a JSON string; bytes that are not UTF-8 become U+FFFD */
static void j_str(struct jbuf *j, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	j_raw(j, "\"", 1);
	while (*p && !j->over) {
		size_t n = utf8_len(p);

		if (*p == '"' || *p == '\\') {
			j_raw(j, "\\", 1);
			j_raw(j, (const char *)p, 1);
		}
		else if (*p < 0x20 || *p == 0x7f) {
			j_fmt(j, "\\u%04x", *p);
		}
		else if (!n) {
			j_raw(j, "\\ufffd", 6);
			n = 1;
		}
		else {
			j_raw(j, (const char *)p, n);
		}
		p += n ? n : 1;
	}
	j_raw(j, "\"", 1);
}


static void j_kstr(struct jbuf *j, const char *key, const char *val)
{
	j_fmt(j, ",\"%s\":", key);
	j_str(j, val);
}


static void j_step(struct jbuf *j, const struct sw_route_step *st)
{
	j_raw(j, "{\"what\":", 8);
	j_str(j, st->what);
	j_kstr(j, "op", st->op);
	j_kstr(j, "pattern", st->pattern);
	j_kstr(j, "value", st->value);
	j_fmt(j, ",\"pass\":%s", st->pass ? "true" : "false");
	j_kstr(j, "captures", st->caps);
	j_raw(j, "}", 1);
}


static void j_trace(struct jbuf *j, const struct sw_route_result *res)
{
	j_raw(j, ",\"trace\":[", 10);
	for (unsigned i = 0; i < res->n_tried && i < SW_ROUTE_MAX_TRIED; ++i) {
		const struct sw_route_tried *t = &res->tried[i];

		j_raw(j, i ? ",{\"rule\":" : "{\"rule\":", i ? 9 : 8);
		j_str(j, t->rule);
		j_fmt(j, ",\"priority\":%u,\"matched\":%s,\"stop\":%s",
		      t->priority, t->matched ? "true" : "false",
		      t->stop ? "true" : "false");
		j_kstr(j, "action", t->action);
		j_raw(j, ",\"conditions\":[", 15);
		for (unsigned k = 0; k < t->n_steps; ++k) {
			unsigned s = t->first_step + k;

			if (s >= res->n_steps || s >= SW_ROUTE_MAX_STEPS)
				break;
			if (k)
				j_raw(j, ",", 1);
			j_step(j, &res->steps[s]);
		}
		j_raw(j, "]}", 2);
	}
	j_fmt(j, "],\"trace_truncated\":%s",
	      res->trace_truncated ? "true" : "false");
}


/**
 * Write the result as one JSON object (UTF-8, no newline)
 *
 * @return 0, EINVAL, or ERANGE if buf was too small
 */
int sw_route_json_format(const struct sw_route_result *res, char *buf,
			 size_t sz)
{
	struct jbuf j = {buf, sz, 0, false};

	if (!res || !buf || !sz)
		return EINVAL;
	buf[0] = '\0';
	j_fmt(&j, "{\"outcome\":\"%s\",\"err\":%d,\"matched\":%s",
	      sw_route_outcome_name(res->outcome), res->err,
	      res->matched ? "true" : "false");
	j_kstr(&j, "rule", res->rule);
	j_fmt(&j, ",\"priority\":%u,\"reject_code\":%u", res->priority,
	      res->reject_code);
	j_kstr(&j, "reject_phrase", res->reject_phrase);
	j_kstr(&j, "source_zone", res->source_zone);
	j_kstr(&j, "ruri_in", res->ruri_in);
	j_kstr(&j, "ruri", res->ruri);
	j_kstr(&j, "to", res->to);
	j_fmt(&j, ",\"ruri_rewritten\":%s,\"to_rewritten\":%s",
	      res->ruri_rewritten ? "true" : "false",
	      res->to_rewritten ? "true" : "false");
	j_kstr(&j, "target_zone", res->target_zone);
	j_kstr(&j, "target_uri", res->target_uri);
	j_kstr(&j, "transport", sw_transport_name(res->transport));
	j_kstr(&j, "log_tag", res->log_tag);
	j_raw(&j, ",\"media\":{", 10);
	for (unsigned i = 0; i < res->n_media && i < SW_ROUTE_MAX_MEDIA; ++i) {
		j_raw(&j, i ? "," : "", i ? 1 : 0);
		j_str(&j, res->media[i].type);
		j_fmt(&j, ":\"%s\"", sw_media_policy_name(res->media[i].policy));
	}
	j_fmt(&j, "},\"media_default\":\"%s\",\"captures\":[",
	      sw_media_policy_name(res->media_default));
	for (unsigned k = 0; k < res->n_captures && k < SW_ROUTE_MAX_CAPS;
	     ++k) {
		j_raw(&j, k ? "," : "", k ? 1 : 0);
		j_str(&j, res->captures[k]);
	}
	j_raw(&j, "]", 1);
	j_trace(&j, res);
	j_raw(&j, "}", 1);
	return j.over ? ERANGE : 0;
}
