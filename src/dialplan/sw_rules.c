/**
 * @file sw_rules.c  The dial plan: rule file loader and rule set lifetime.
 *
 * A rule file holds [rule NAME] blocks and one optional [defaults] block
 * (conf/rules.conf documents every key). Loading is all or nothing: every
 * key is checked (unknown keys, zones that shareway.conf does not define,
 * regexes PCRE2 refuses, $n a rule's last regex cannot supply, reject
 * codes out of 300..699) and the first error is returned as file:line.
 * The loaded set is sorted by priority, ties in file order, and is never
 * written again; sw_rules_ref()/sw_rules_unref() share it. It keeps a
 * copy of the zones it was checked against: a rule names zones, so the
 * two go together, and a call that holds its rule set holds the zone
 * data it started with across a reload.
 *
 * Routing (sw_route.c) walks the rules in order. A rule applies when
 * its source and all of its match.* conditions hold (evaluation of a rule
 * stops at its first failing condition). An applied rule's rewrites
 * change the working R-URI / To that later rules test; its target, media
 * policies and log tag override earlier ones. The first applied rule
 * with on_match = stop (or with action = reject) ends the search. The
 * outcome is REJECT if the last applied rule rejected, FORWARD if any
 * applied rule set a target, NONE otherwise ("no route", also when only
 * continue rules applied and none of them set a target).
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
#include "sw_ini.h"
#include "sw_uri.h"
#include "sw_rules_int.h"

/* loader state, one per sw_rules_load() */
struct load {
	struct sw_rules *rs;
	const struct sw_conf *conf;
	const char *file;
	unsigned line;
	const char *key;
	char *err;
	size_t errsz;
	struct rule *cur;  /* the [rule] being read; valid until the next */
	bool in_defaults, had_defaults;
	uint32_t def_seen;
};

static const char *const pat_names[] = {"exact", "prefix", "suffix",
					"regex"};
/* match.<name>, in enum field order */
static const char *const field_names[] = {
	"ruri", "ruri.user", "ruri.host", "from", "from.user",
	"from.host", "to", "to.user", "to.host",
};


static int lfail(struct load *ld, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));


/* "file:line:key: message" for the key being read */
static int lfail(struct load *ld, const char *fmt, ...)
{
	char msg[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ld->key)
		snprintf(ld->err, ld->errsz, "%s:%u:%s: %s", ld->file,
			 ld->line, ld->key, msg);
	else
		snprintf(ld->err, ld->errsz, "%s:%u: %s", ld->file, ld->line,
			 msg);
	return EINVAL;
}


static bool is_name_char(char c)
{
	return isalnum((unsigned char)c) || strchr("-_.:+@", c);
}


static bool is_token_char(char c)
{
	return isalnum((unsigned char)c) || strchr("-_.!%*+`'~", c);
}


static bool all_chars(const char *s, bool (*ok)(char))
{
	if (!*s)
		return false;
	for (; *s; ++s)
		if (!ok(*s))
			return false;
	return true;
}


static int parse_uint(const char *v, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long x;

	if (!isdigit((unsigned char)*v))
		return EINVAL;
	errno = 0;
	x = strtoul(v, &end, 10);
	if (errno || *end || x > max)
		return ERANGE;
	*out = x;
	return 0;
}


/* the next word of *sp (blanks or commas separate words) into w */
static int next_word(const char **sp, char *w, size_t wsz)
{
	const char *s = *sp + strspn(*sp, " \t,");
	size_t n = strcspn(s, " \t,");

	*sp = s + n;
	if (!n)
		return ENOENT;
	if (n >= wsz)
		return ERANGE;
	memcpy(w, s, n);
	w[n] = '\0';
	return 0;
}


static bool has_scheme(const char *s, bool tel)
{
	return !strncasecmp(s, "sip:", 4) || !strncasecmp(s, "sips:", 5) ||
	       (tel && !strncasecmp(s, "tel:", 4));
}


static void zone_names(const struct sw_conf *conf, char *buf, size_t sz)
{
	size_t len = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < conf->n_zones && len < sz; ++i) {
		int n = snprintf(buf + len, sz - len, "%s%s", i ? " " : "",
				 conf->zones[i].name);

		if (n < 0)
			break;
		len += (size_t)n;
	}
	if (!conf->n_zones)
		snprintf(buf, sz, "no zones");
}


static int zone_unknown(struct load *ld, const char *name)
{
	char zl[256];

	zone_names(ld->conf, zl, sizeof(zl));
	return lfail(ld, "unknown zone '%s' (shareway.conf has: %s)", name,
		     zl);
}


/* ------------------------------------------------------------------ */
/* rule keys                                                          */
/* ------------------------------------------------------------------ */

static int key_priority(struct load *ld, struct rule *ru, const char *v)
{
	unsigned long x;

	if (parse_uint(v, PRIORITY_MAX, &x))
		return lfail(ld, "'%s' is not a number 0..%d", v,
			     PRIORITY_MAX);
	ru->priority = (uint32_t)x;
	return 0;
}


static int parse_on_match(const char *v)
{
	if (!strcmp(v, "stop"))
		return ON_STOP;
	if (!strcmp(v, "continue"))
		return ON_CONTINUE;
	return ON_UNSET;
}


static int key_on_match(struct load *ld, struct rule *ru, const char *v)
{
	ru->on_match = parse_on_match(v);
	if (ru->on_match == ON_UNSET)
		return lfail(ld, "'%s' is not stop or continue", v);
	return 0;
}


static int key_source(struct load *ld, struct rule *ru, const char *v)
{
	char w[SW_ROUTE_NAME];
	const char *p = v;
	bool any = false;
	int e;

	while ((e = next_word(&p, w, sizeof(w))) != ENOENT) {
		if (e)
			return lfail(ld, "zone name too long%s", "");
		if (!strcmp(w, "any")) {
			any = true;
			continue;
		}
		if (!sw_conf_zone_find(ld->conf, w))
			return zone_unknown(ld, w);
		if (ru->n_sources >= RULE_MAX_SOURCES)
			return lfail(ld, "more than %d zones",
				     RULE_MAX_SOURCES);
		snprintf(ru->sources[ru->n_sources++], SW_ROUTE_NAME, "%s", w);
	}
	if (any && ru->n_sources)
		return lfail(ld, "'any' cannot be listed with zone names%s",
			     "");
	if (!any && !ru->n_sources)
		return lfail(ld, "empty: a zone name (or several) or any%s",
			     "");
	return 0;
}


/* case-insensitive search for needle in hay */
static const char *find_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay; ++hay)
		if (!strncasecmp(hay, needle, n))
			return hay;
	return NULL;
}


static int target_literal(struct load *ld, struct rule *ru, const char *v)
{
	const char *tp;
	char w[16];
	size_t n;

	if (!has_scheme(v, false))
		return lfail(ld, "'%s' is neither a zone nor a sip:/sips: URI",
			     v);
	if (strlen(v) >= SW_ROUTE_URI || strpbrk(v, " \t"))
		return lfail(ld, "URI too long or with blanks%s", "");
	ru->transport = tolower((unsigned char)v[3]) == 's' ? SW_TP_TLS
							    : SW_TP_UDP;
	tp = find_ci(v, ";transport=");
	if (tp) {
		tp += strlen(";transport=");
		n = strcspn(tp, ";?>");
		if (n >= sizeof(w))
			return lfail(ld, "unknown transport%s", "");
		memcpy(w, tp, n);
		w[n] = '\0';
		for (char *c = w; *c; ++c)
			*c = (char)tolower((unsigned char)*c);
		if (sw_transport_parse(w, &ru->transport))
			return lfail(ld, "unknown transport '%s' (udp|tcp|tls)",
				     w);
	}
	snprintf(ru->target_uri, sizeof(ru->target_uri), "%s", v);
	return 0;
}


static int key_target(struct load *ld, struct rule *ru, const char *v)
{
	const struct sw_zone *z;
	int err;

	if (strchr(v, ':')) {
		err = target_literal(ld, ru, v);
		if (err)
			return err;
		ru->has_target = true;
		return 0;
	}
	z = sw_conf_zone_find(ld->conf, v);
	if (!z)
		return zone_unknown(ld, v);
	snprintf(ru->target_zone, sizeof(ru->target_zone), "%s", z->name);
	snprintf(ru->target_uri, sizeof(ru->target_uri), "%s", z->target);
	ru->transport = z->transport;
	ru->has_target = true;
	return 0;
}


static int key_action(struct load *ld, struct rule *ru, const char *v)
{
	unsigned long code;
	char num[4];
	const char *p;

	if (strncmp(v, "reject", 6) || (v[6] != ' ' && v[6] != '\t'))
		return lfail(ld, "expected 'reject <code> [<phrase>]'%s", "");
	p = v + 6 + strspn(v + 6, " \t");
	if (strcspn(p, " \t") != 3)
		return lfail(ld, "'%s': the code is 3 digits, 300..699", p);
	memcpy(num, p, 3);
	num[3] = '\0';
	if (parse_uint(num, 699, &code) || code < 300)
		return lfail(ld, "'%s' is not a code 300..699", num);
	p += 3;
	p += strspn(p, " \t");
	if (strlen(p) >= sizeof(ru->reject_phrase) || !sw_rules_printable(p))
		return lfail(ld, "reason phrase too long or not printable%s",
			     "");
	ru->reject_code = (uint16_t)code;
	snprintf(ru->reject_phrase, sizeof(ru->reject_phrase), "%s",
		 *p ? p : "Rejected");
	return 0;
}


static int key_log_tag(struct load *ld, struct rule *ru, const char *v)
{
	if (strlen(v) >= sizeof(ru->log_tag) || !sw_rules_printable(v))
		return lfail(ld, "longer than %zu bytes or not printable",
			     sizeof(ru->log_tag) - 1);
	snprintf(ru->log_tag, sizeof(ru->log_tag), "%s", v);
	return 0;
}


/* check a $n template and keep a copy */
static int tpl_set(struct load *ld, struct tpl *t, const char *v)
{
	int maxref = -1;

	for (const char *p = v; *p; ++p) {
		if (*p != '$')
			continue;
		if (p[1] == '$') {
			++p;
			continue;
		}
		if (!isdigit((unsigned char)p[1]))
			return lfail(ld, "'$' must be followed by a digit "
					 "(captures $0..$9) or by '$' for a "
					 "literal '$'%s", "");
		if (p[1] - '0' > maxref)
			maxref = p[1] - '0';
		++p;
	}
	if (strlen(v) >= SW_ROUTE_URI)
		return lfail(ld, "longer than %d bytes", SW_ROUTE_URI - 1);
	t->text = strdup(v);
	if (!t->text)
		return ENOMEM;
	t->line = ld->line;
	t->maxref = maxref;
	return 0;
}


static int key_rw_ruri(struct load *ld, struct rule *ru, const char *v)
{
	if (!has_scheme(v, true) || strpbrk(v, " \t<>"))
		return lfail(ld, "a sip:, sips: or tel: URI template without "
				 "blanks or <> is expected%s", "");
	return tpl_set(ld, &ru->rw_ruri, v);
}


static int key_rw_to(struct load *ld, struct rule *ru, const char *v)
{
	char uri[SW_ROUTE_URI];

	if (sw_uri_from_header(v, uri, sizeof(uri)) || !has_scheme(uri, true))
		return lfail(ld, "'%s' is not a To value with a sip:, sips: or "
				 "tel: URI", v);
	return tpl_set(ld, &ru->rw_to, v);
}


/* rewrite.ruri.user = strip N | prefix X | suffix X | replace X */
static int key_rw_user(struct load *ld, struct rule *ru, const char *v)
{
	static const char *const ops[] = {"", "strip", "prefix", "suffix",
					  "replace"};
	size_t n = strcspn(v, " \t");
	const char *arg = v + n + strspn(v + n, " \t");
	unsigned long x;
	unsigned i;

	for (i = UO_STRIP; i < ARRN(ops); ++i)
		if (strlen(ops[i]) == n && !strncmp(v, ops[i], n))
			break;
	if (i == ARRN(ops) || !*arg)
		return lfail(ld, "expected strip <N> | prefix <X> | suffix <X> "
				 "| replace <X>%s", "");
	ru->uop = (enum user_op)i;
	if (ru->uop == UO_STRIP) {
		if (parse_uint(arg, STRIP_MAX, &x) || !x)
			return lfail(ld, "strip takes a count 1..%d",
				     STRIP_MAX);
		ru->ustrip = (unsigned)x;
		return 0;
	}
	if (strpbrk(arg, " \t@:<>;?"))
		return lfail(ld, "'%s' cannot be part of a URI user", arg);
	return tpl_set(ld, &ru->rw_user, arg);
}


typedef int(rule_key_h)(struct load *ld, struct rule *ru, const char *v);

static const struct rule_key {
	const char *key;
	rule_key_h *h;
} rule_keys[] = {
	{"priority", key_priority},
	{"on_match", key_on_match},
	{"source", key_source},
	{"target", key_target},
	{"action", key_action},
	{"log.tag", key_log_tag},
	{"rewrite.ruri", key_rw_ruri},
	{"rewrite.to", key_rw_to},
	{"rewrite.ruri.user", key_rw_user},
};


/* ------------------------------------------------------------------ */
/* match.* and media.* keys                                           */
/* ------------------------------------------------------------------ */

static int cond_regex(struct load *ld, struct cond *c)
{
	PCRE2_UCHAR msg[160];
	PCRE2_SIZE off;
	int code;

	c->re = pcre2_compile((PCRE2_SPTR)c->pattern, PCRE2_ZERO_TERMINATED,
			      0, &code, &off, NULL);
	if (!c->re) {
		pcre2_get_error_message(code, msg, sizeof(msg));
		return lfail(ld, "bad regex at offset %zu: %s", (size_t)off,
			     (const char *)msg);
	}
	if (pcre2_pattern_info(c->re, PCRE2_INFO_CAPTURECOUNT, &c->ngroups))
		c->ngroups = 0;
	return 0;
}


static int cond_pattern(struct load *ld, struct cond *c, const char *v)
{
	const char *p;
	size_t n = 0;
	unsigned t;

	for (t = 0; t < ARRN(pat_names); ++t) {
		n = strlen(pat_names[t]);
		if (!strncmp(v, pat_names[t], n) &&
		    (v[n] == ' ' || v[n] == '\t'))
			break;
	}
	if (t == ARRN(pat_names))
		return lfail(ld, "write the pattern type first: exact | prefix "
				 "| suffix | regex <pattern>%s", "");
	p = v + n + strspn(v + n, " \t");
	c->type = (enum pat_type)t;
	c->pattern = strdup(p);
	if (!c->pattern)
		return ENOMEM;
	return c->type == PT_REGEX ? cond_regex(ld, c) : 0;
}


/* match.media = type [type...] [!type...]: all listed hold */
static int cond_media(struct load *ld, struct cond *c, const char *v)
{
	char w[SW_ROUTE_MTYPE + 1];
	const char *p = v;
	int e;

	while ((e = next_word(&p, w, sizeof(w))) != ENOENT) {
		struct mtype_want *m = &c->mt[c->n_mt];
		bool neg = w[0] == '!';

		if (e || !all_chars(w + neg, is_token_char))
			return lfail(ld, "'%s' is not a media type", w);
		if (c->n_mt >= COND_MAX_MTYPES)
			return lfail(ld, "more than %d media types",
				     COND_MAX_MTYPES);
		m->neg = neg;
		snprintf(m->type, sizeof(m->type), "%s", w + neg);
		++c->n_mt;
	}
	if (!c->n_mt)
		return lfail(ld, "empty: list media types, !type to exclude%s",
			     "");
	c->pattern = strdup(v);
	return c->pattern ? 0 : ENOMEM;
}


static void cond_free(struct cond *c)
{
	free(c->pattern);
	pcre2_code_free(c->re);
	c->pattern = NULL;
	c->re = NULL;
}


static int cond_field(struct load *ld, const char *what, enum field *f)
{
	if (!strncmp(what, "header.", 7)) {
		if (strlen(what) >= sizeof(((struct cond *)0)->what) ||
		    !all_chars(what + 7, is_token_char))
			return lfail(ld, "bad header name '%s'", what + 7);
		*f = F_HEADER;
		return 0;
	}
	if (!strcmp(what, "media")) {
		*f = F_MEDIA;
		return 0;
	}
	for (unsigned i = 0; i < ARRN(field_names); ++i) {
		if (!strcmp(what, field_names[i])) {
			*f = (enum field)i;
			return 0;
		}
	}
	return lfail(ld, "unknown key (match.ruri[.user|.host], match.from"
			 "[.user|.host], match.to[.user|.host], "
			 "match.header.NAME, match.media)%s", "");
}


static int key_match(struct load *ld, struct rule *ru, const char *what,
		     const char *v)
{
	struct cond *c;
	enum field f = F_RURI;
	int err;

	err = cond_field(ld, what, &f);
	if (err)
		return err;
	for (unsigned i = 0; i < ru->n_conds; ++i)
		if (!strcasecmp(ru->conds[i].what, what))
			return lfail(ld, "duplicate condition (line %u)",
				     ru->conds[i].line);
	if (ru->n_conds >= RULE_MAX_CONDS)
		return lfail(ld, "more than %d conditions", RULE_MAX_CONDS);
	c = &ru->conds[ru->n_conds];
	memset(c, 0, sizeof(*c));
	c->field = f;
	c->line = ld->line;
	snprintf(c->what, sizeof(c->what), "%s", what);
	err = f == F_MEDIA ? cond_media(ld, c, v) : cond_pattern(ld, c, v);
	if (err) {
		cond_free(c);
		return err;
	}
	if (c->re)
		ru->last_re = (int)ru->n_conds;
	++ru->n_conds;
	return 0;
}


static int media_policy(struct load *ld, const char *v,
			enum sw_media_policy *p)
{
	if (sw_media_policy_parse(v, p))
		return lfail(ld, "'%s' is not %s", v, SW_MEDIA_POLICY_NAMES);
	return 0;
}


static int key_media(struct load *ld, struct rule *ru, const char *type,
		     const char *v)
{
	struct sw_route_media *m;

	if (!strcmp(type, "default")) {
		if (ru->media_default)
			return lfail(ld, "duplicate key%s", "");
		return media_policy(ld, v, &ru->media_default);
	}
	if (strlen(type) >= SW_ROUTE_MTYPE || !all_chars(type, is_token_char))
		return lfail(ld, "bad media type '%s'", type);
	for (unsigned i = 0; i < ru->n_media; ++i)
		if (!strcasecmp(ru->media[i].type, type))
			return lfail(ld, "duplicate key%s", "");
	if (ru->n_media >= SW_ROUTE_MAX_MEDIA)
		return lfail(ld, "more than %d media types",
			     SW_ROUTE_MAX_MEDIA);
	m = &ru->media[ru->n_media];
	snprintf(m->type, sizeof(m->type), "%s", type);
	if (media_policy(ld, v, &m->policy))
		return EINVAL;
	++ru->n_media;
	return 0;
}


static int rule_key(struct load *ld, struct rule *ru, const char *key,
		    const char *v)
{
	if (!strncmp(key, "match.", 6))
		return key_match(ld, ru, key + 6, v);
	if (!strncmp(key, "media.", 6))
		return key_media(ld, ru, key + 6, v);
	for (unsigned i = 0; i < ARRN(rule_keys); ++i) {
		if (strcmp(key, rule_keys[i].key))
			continue;
		if (ru->seen & (1u << i))
			return lfail(ld, "duplicate key%s", "");
		ru->seen |= 1u << i;
		return rule_keys[i].h(ld, ru, v);
	}
	return lfail(ld, "unknown key%s", "");
}


static int defaults_key(struct load *ld, const char *key, const char *v)
{
	struct sw_rules *rs = ld->rs;
	uint32_t bit;

	if (!strcmp(key, "on_match"))
		bit = 1;
	else if (!strcmp(key, "media.default"))
		bit = 2;
	else
		return lfail(ld, "unknown key in [defaults] (on_match, "
				 "media.default)%s", "");
	if (ld->def_seen & bit)
		return lfail(ld, "duplicate key%s", "");
	ld->def_seen |= bit;
	if (bit == 2)
		return media_policy(ld, v, &rs->def_media);
	rs->def_on_match = parse_on_match(v);
	if (rs->def_on_match == ON_UNSET)
		return lfail(ld, "'%s' is not stop or continue", v);
	return 0;
}


/* ------------------------------------------------------------------ */
/* sections, whole-rule checks, the loaded set                        */
/* ------------------------------------------------------------------ */

static int tpl_check(struct load *ld, const struct rule *ru,
		     const struct tpl *t, const char *key)
{
	const struct cond *re;

	if (!t->text || t->maxref < 0)
		return 0;
	ld->line = t->line;
	ld->key = key;
	if (ru->last_re < 0)
		return lfail(ld, "uses $%d but rule '%s' has no regex match",
			     t->maxref, ru->name);
	re = &ru->conds[ru->last_re];
	if ((uint32_t)t->maxref > re->ngroups)
		return lfail(ld, "uses $%d but the last regex of rule '%s' "
				 "(match.%s, line %u) has %u group(s)",
			     t->maxref, ru->name, re->what, re->line,
			     re->ngroups);
	return 0;
}


static int rule_finish(struct load *ld, struct rule *ru)
{
	int err;

	ld->line = ru->line;
	ld->key = NULL;
	if (!(ru->seen & 1u)) /* rule_keys[0]: priority */
		return lfail(ld, "rule '%s' has no priority", ru->name);
	if (ru->reject_code && ru->has_target)
		return lfail(ld, "rule '%s': action = reject and target "
				 "exclude each other", ru->name);
	if (ru->reject_code && ru->on_match == ON_CONTINUE)
		return lfail(ld, "rule '%s': a reject rule always stops; "
				 "remove on_match = continue", ru->name);
	err = tpl_check(ld, ru, &ru->rw_ruri, "rewrite.ruri");
	if (!err)
		err = tpl_check(ld, ru, &ru->rw_to, "rewrite.to");
	if (!err)
		err = tpl_check(ld, ru, &ru->rw_user, "rewrite.ruri.user");
	return err;
}


static int rule_new(struct load *ld, const char *name)
{
	struct sw_rules *rs = ld->rs;
	struct rule *ru;

	if (!name || strlen(name) >= SW_ROUTE_NAME ||
	    !all_chars(name, is_name_char))
		return lfail(ld, "[rule NAME]: NAME is 1..%d of A-Z a-z 0-9 "
				 "- _ . : + @", SW_ROUTE_NAME - 1);
	for (unsigned i = 0; i < rs->n; ++i)
		if (!strcmp(rs->rules[i].name, name))
			return lfail(ld, "duplicate rule name '%s' (line %u)",
				     name, rs->rules[i].line);
	if (rs->n >= RULES_MAX)
		return lfail(ld, "more than %d rules", RULES_MAX);
	if (rs->n == rs->cap) {
		unsigned cap = rs->cap ? rs->cap * 2 : 16;
		struct rule *nr = realloc(rs->rules, cap * sizeof(*nr));

		if (!nr)
			return ENOMEM;
		rs->rules = nr;
		rs->cap = cap;
	}
	ru = &rs->rules[rs->n];
	memset(ru, 0, sizeof(*ru));
	snprintf(ru->name, sizeof(ru->name), "%s", name);
	ru->line = ld->line;
	ru->order = rs->n++;
	ru->last_re = -1;
	ld->cur = ru;
	return 0;
}


static int on_section(struct load *ld, const char *type, const char *name)
{
	unsigned line = ld->line;
	int err = 0;

	if (ld->cur)
		err = rule_finish(ld, ld->cur);
	ld->cur = NULL;
	ld->in_defaults = false;
	if (err)
		return err;
	ld->line = line; /* rule_finish() reported at the rule's own line */
	if (!strcmp(type, "rule"))
		return rule_new(ld, name);
	if (strcmp(type, "defaults"))
		return lfail(ld, "unknown section [%s] (rule NAME, defaults; "
				 "zones live in shareway.conf)", type);
	if (name)
		return lfail(ld, "[defaults] takes no name%s", "");
	if (ld->had_defaults)
		return lfail(ld, "second [defaults] section%s", "");
	ld->had_defaults = ld->in_defaults = true;
	return 0;
}


static int on_ini(const struct sw_ini_pos *pos, const char *type,
		  const char *name, const char *key, const char *value,
		  char *err, size_t errsz, void *arg)
{
	struct load *ld = arg;

	ld->line = pos->line;
	ld->key = key;
	ld->err = err;
	ld->errsz = errsz;
	if (!key)
		return on_section(ld, type, name);
	if (ld->in_defaults)
		return defaults_key(ld, key, value);
	if (!ld->cur)
		return lfail(ld, "key outside a section: start with "
				 "[rule NAME]%s", "");
	return rule_key(ld, ld->cur, key, value);
}


static int rule_cmp(const void *a, const void *b)
{
	const struct rule *x = a, *y = b;

	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}


static void rule_free(struct rule *ru)
{
	for (unsigned i = 0; i < ru->n_conds; ++i)
		cond_free(&ru->conds[i]);
	free(ru->rw_ruri.text);
	free(ru->rw_to.text);
	free(ru->rw_user.text);
}


static void rules_destroy(struct sw_rules *rs)
{
	if (!rs)
		return;
	for (unsigned i = 0; i < rs->n; ++i)
		rule_free(&rs->rules[i]);
	free(rs->rules);
	free(rs->zones);
	pcre2_match_context_free(rs->mctx);
	free(rs);
}


/* all media.<type> names of the set fit one result */
static int media_types_check(struct load *ld)
{
	const char *seen[SW_ROUTE_MAX_MEDIA];
	unsigned n = 0;

	for (unsigned i = 0; i < ld->rs->n; ++i) {
		const struct rule *ru = &ld->rs->rules[i];

		for (unsigned k = 0; k < ru->n_media; ++k) {
			unsigned j = 0;

			while (j < n && strcasecmp(seen[j], ru->media[k].type))
				++j;
			if (j < n)
				continue;
			if (n == SW_ROUTE_MAX_MEDIA) {
				snprintf(ld->err, ld->errsz, "%s: more than "
					 "%d media types in media.* keys",
					 ld->file, SW_ROUTE_MAX_MEDIA);
				return EINVAL;
			}
			seen[n++] = ru->media[k].type;
		}
	}
	return 0;
}


static int load_finish(struct load *ld)
{
	struct sw_rules *rs = ld->rs;
	int err = 0;

	if (ld->cur)
		err = rule_finish(ld, ld->cur);
	if (!err)
		err = media_types_check(ld);
	if (err)
		return err;
	for (unsigned i = 0; i < rs->n; ++i) {
		struct rule *ru = &rs->rules[i];

		if (ru->on_match == ON_UNSET)
			ru->on_match = rs->def_on_match;
		if (ru->last_re >= 0 &&
		    ru->conds[ru->last_re].ngroups > rs->max_groups)
			rs->max_groups = ru->conds[ru->last_re].ngroups;
		for (unsigned k = 0; k < ru->n_conds; ++k)
			if (ru->conds[k].ngroups > rs->max_groups)
				rs->max_groups = ru->conds[k].ngroups;
	}
	if (rs->n)
		qsort(rs->rules, rs->n, sizeof(*rs->rules), rule_cmp);
	rs->mctx = pcre2_match_context_create(NULL);
	if (!rs->mctx)
		return ENOMEM;
	pcre2_set_match_limit(rs->mctx, RE_MATCH_LIMIT);
	pcre2_set_depth_limit(rs->mctx, RE_DEPTH_LIMIT);
	pcre2_set_heap_limit(rs->mctx, RE_HEAP_LIMIT);
	return 0;
}


static int rules_load(struct sw_rules **rp, const char *path,
		      const char *buf, size_t len, const struct sw_conf *conf,
		      char *err, size_t errsz)
{
	struct load ld;
	struct sw_rules *rs;
	int e;

	if (!rp || !path || !conf || !err || !errsz)
		return EINVAL;
	err[0] = '\0';
	rs = calloc(1, sizeof(*rs));
	if (!rs)
		return ENOMEM;
	atomic_init(&rs->refs, 1);
	snprintf(rs->path, sizeof(rs->path), "%s", path);
	rs->def_on_match = ON_STOP;
	memset(&ld, 0, sizeof(ld));
	ld.rs = rs;
	ld.conf = conf;
	ld.file = path;
	ld.err = err;
	ld.errsz = errsz;
	if (buf)
		e = sw_ini_parse_buf(path, buf, len, on_ini, &ld, err, errsz);
	else
		e = sw_ini_parse_file(path, on_ini, &ld, err, errsz);
	if (!e)
		e = load_finish(&ld);
	if (!e && conf->n_zones) {
		rs->zones = malloc(conf->n_zones * sizeof(*rs->zones));
		e = rs->zones ? 0 : ENOMEM;
	}
	if (rs->zones) {
		memcpy(rs->zones, conf->zones,
		       conf->n_zones * sizeof(*rs->zones));
		rs->n_zones = conf->n_zones;
	}
	if (e == ENOMEM && !err[0])
		snprintf(err, errsz, "%s: out of memory", path);
	if (e) {
		rules_destroy(rs);
		return e;
	}
	sw_debug("[rules %s] %u rules loaded", path, rs->n);
	*rp = rs;
	return 0;
}


/**
 * Load a rule file, checking zones against conf
 *
 * @param rp    gets the new set (one reference) on success only
 * @param err   gets "file:line:key: what is wrong" on failure
 * @return 0, EINVAL for a bad file, ENOENT/EACCES if unreadable, ENOMEM
 */
int sw_rules_load(struct sw_rules **rp, const char *path,
		  const struct sw_conf *conf, char *err, size_t errsz)
{
	return rules_load(rp, path, NULL, 0, conf, err, errsz);
}


/**
 * Load rules from a buffer; name stands for the file in messages
 *
 * @return as sw_rules_load()
 */
int sw_rules_load_buf(struct sw_rules **rp, const char *name,
		      const char *buf, size_t len, const struct sw_conf *conf,
		      char *err, size_t errsz)
{
	if (!buf)
		return EINVAL;
	return rules_load(rp, name, buf, len, conf, err, errsz);
}


/**
 * Take a reference; any thread may do it
 *
 * @return r
 */
struct sw_rules *sw_rules_ref(struct sw_rules *r)
{
	if (r)
		atomic_fetch_add_explicit(&r->refs, 1, memory_order_relaxed);
	return r;
}


/** Drop a reference; the last one frees the set */
void sw_rules_unref(struct sw_rules *r)
{
	if (r && atomic_fetch_sub_explicit(&r->refs, 1,
					   memory_order_acq_rel) == 1)
		rules_destroy(r);
}


/** @return the number of rules in the set */
unsigned sw_rules_count(const struct sw_rules *r)
{
	return r ? r->n : 0;
}


/**
 * The target URI rule i sends to (a zone's target or a literal URI; ""
 * when it sets none) and its transport; NULL past the last rule. The
 * resolver thread keeps the names among them resolved.
 */
const char *sw_rules_target(const struct sw_rules *r, unsigned i,
			    enum sw_transport *tp)
{
	if (!r || i >= r->n)
		return NULL;
	if (tp)
		*tp = r->rules[i].transport;
	return r->rules[i].has_target ? r->rules[i].target_uri : "";
}


/** @return the zone called name among the set's zones, or NULL */
const struct sw_zone *sw_rules_zone_find(const struct sw_rules *r,
					 const char *name)
{
	return r ? sw_zone_find(r->zones, r->n_zones, name) : NULL;
}


/** @return the set's zones (shareway.conf's order), *n their number */
const struct sw_zone *sw_rules_zones(const struct sw_rules *r, unsigned *n)
{
	*n = r ? r->n_zones : 0;
	return r ? r->zones : NULL;
}


/* The rule set as the B2BUA's router (sw_router.h): sip/ holds it as an
 * opaque plan and reaches it only through these */
static void *router_ref(void *plan)
{
	return sw_rules_ref(plan);
}


static void router_unref(void *plan)
{
	sw_rules_unref(plan);
}


static const struct sw_zone *router_zones(const void *plan, unsigned *n)
{
	return sw_rules_zones(plan, n);
}


static const char *router_target(const void *plan, unsigned i,
				 enum sw_transport *tp)
{
	return sw_rules_target(plan, i, tp);
}


static int router_route(const void *plan, const struct sw_route_input *in,
			struct sw_route_result *out)
{
	return sw_rules_route(plan, in, out);
}


const struct sw_router sw_rules_router = {
	.ref = router_ref,
	.unref = router_unref,
	.zones = router_zones,
	.target = router_target,
	.route = router_route,
};


/** @return the file the set was loaded from */
const char *sw_rules_path(const struct sw_rules *r)
{
	return r ? r->path : "";
}

