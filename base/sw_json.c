/**
 * @file sw_json.c  JSON writer (growing buffer, latched errors) and a
 * minimal recursive-descent reader (RFC 8259, depth-limited).
 *
 * The writer escapes control characters, quotes and backslashes, and
 * passes other bytes through, so UTF-8 text stays readable; invalid UTF-8
 * in a value is replaced by U+FFFD so the output is always valid JSON.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sw_json.h"

void sw_json_init(struct sw_json *j, bool pretty)
{
	memset(j, 0, sizeof(*j));
	j->pretty = pretty;
	j->first[0] = true;
}


/** Empty the buffer for reuse, keeping its memory */
void sw_json_reset(struct sw_json *j)
{
	j->len = 0;
	j->depth = 0;
	j->err = 0;
	j->first[0] = true;
	if (j->buf)
		j->buf[0] = '\0';
}


void sw_json_free(struct sw_json *j)
{
	free(j->buf);
	j->buf = NULL;
	j->len = j->cap = 0;
}


/**
 * Check the document
 *
 * @return 0, ENOMEM, or EPROTO if an object or array is still open
 */
int sw_json_finish(struct sw_json *j)
{
	if (!j->err && j->depth)
		j->err = EPROTO;
	return j->err;
}


static void put(struct sw_json *j, const char *s, size_t n)
{
	if (j->err)
		return;
	if (j->len + n + 1 > j->cap) {
		size_t cap = j->cap ? j->cap : 256;
		char *b;

		while (cap < j->len + n + 1)
			cap *= 2;
		b = realloc(j->buf, cap);
		if (!b) {
			j->err = ENOMEM;
			return;
		}
		j->buf = b;
		j->cap = cap;
	}
	memcpy(j->buf + j->len, s, n);
	j->len += n;
	j->buf[j->len] = '\0';
}


static void puts_(struct sw_json *j, const char *s)
{
	put(j, s, strlen(s));
}


static void indent(struct sw_json *j)
{
	static const char sp[] = "                                        ";

	if (!j->pretty)
		return;
	put(j, "\n", 1);
	for (unsigned i = 0; i < j->depth; ++i)
		put(j, sp, 2);
}


/* Length of the valid UTF-8 sequence at p (at most n bytes), 0 if none */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	size_t len;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0)
		len = 2, cp = p[0] & 0x1f;
	else if ((p[0] & 0xf0) == 0xe0)
		len = 3, cp = p[0] & 0x0f;
	else if ((p[0] & 0xf8) == 0xf0)
		len = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; ++i) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	/* no overlong forms, no surrogates, nothing past U+10FFFF */
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
	    (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}


static void put_escaped(struct sw_json *j, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	put(j, "\"", 1);
	while (i < n) {
		char esc[8];
		size_t k = i, ul;

		while (k < n && p[k] >= 0x20 && p[k] < 0x80 && p[k] != '"' &&
		       p[k] != '\\')
			++k;
		put(j, s + i, k - i);
		i = k;
		if (i >= n)
			break;
		switch (p[i]) {
		case '"': puts_(j, "\\\""); ++i; continue;
		case '\\': puts_(j, "\\\\"); ++i; continue;
		case '\n': puts_(j, "\\n"); ++i; continue;
		case '\r': puts_(j, "\\r"); ++i; continue;
		case '\t': puts_(j, "\\t"); ++i; continue;
		default: break;
		}
		if (p[i] < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", p[i]);
			puts_(j, esc);
			++i;
			continue;
		}
		ul = utf8_len(p + i, n - i);
		if (ul) {
			put(j, s + i, ul);
			i += ul;
		}
		else {
			puts_(j, "\\ufffd");
			++i;
		}
	}
	put(j, "\"", 1);
}


/* Separator, indentation and "key": for the next member */
static void member(struct sw_json *j, const char *key)
{
	if (j->err)
		return;
	if (!j->first[j->depth])
		put(j, ",", 1);
	j->first[j->depth] = false;
	if (j->depth)
		indent(j);
	if (key) {
		put_escaped(j, key, strlen(key));
		put(j, j->pretty ? ": " : ":", j->pretty ? 2 : 1);
	}
}


static void open_(struct sw_json *j, const char *key, const char *c)
{
	member(j, key);
	if (j->err)
		return;
	if (j->depth >= SW_JSON_MAX_DEPTH) {
		j->err = EPROTO;
		return;
	}
	put(j, c, 1);
	j->first[++j->depth] = true;
}


static void close_(struct sw_json *j, const char *c)
{
	bool empty;

	if (j->err)
		return;
	if (!j->depth) {
		j->err = EPROTO;
		return;
	}
	empty = j->first[j->depth];
	--j->depth;
	if (!empty)
		indent(j);
	put(j, c, 1);
}


void sw_json_obj_open(struct sw_json *j, const char *key)
{
	open_(j, key, "{");
}


void sw_json_obj_close(struct sw_json *j)
{
	close_(j, "}");
}


void sw_json_arr_open(struct sw_json *j, const char *key)
{
	open_(j, key, "[");
}


void sw_json_arr_close(struct sw_json *j)
{
	close_(j, "]");
}


void sw_json_strn(struct sw_json *j, const char *key, const char *val,
		  size_t len)
{
	member(j, key);
	put_escaped(j, val ? val : "", val ? len : 0);
}


void sw_json_str(struct sw_json *j, const char *key, const char *val)
{
	sw_json_strn(j, key, val, val ? strlen(val) : 0);
}


/** A string member, or null when val is NULL */
void sw_json_str_or_null(struct sw_json *j, const char *key, const char *val)
{
	if (val)
		sw_json_str(j, key, val);
	else
		sw_json_null(j, key);
}


void sw_json_int(struct sw_json *j, const char *key, int64_t val)
{
	char b[32];

	member(j, key);
	snprintf(b, sizeof(b), "%" PRId64, val);
	puts_(j, b);
}


void sw_json_dbl(struct sw_json *j, const char *key, double val)
{
	char b[40];

	member(j, key);
	if (!isfinite(val)) {
		puts_(j, "null");
		return;
	}
	snprintf(b, sizeof(b), "%.6g", val);
	puts_(j, b);
}


void sw_json_bool(struct sw_json *j, const char *key, bool val)
{
	member(j, key);
	puts_(j, val ? "true" : "false");
}


void sw_json_null(struct sw_json *j, const char *key)
{
	member(j, key);
	puts_(j, "null");
}


/** Insert already-encoded JSON text as a member (the caller vouches) */
void sw_json_raw(struct sw_json *j, const char *key, const char *json)
{
	member(j, key);
	puts_(j, json);
}


/* ---- reader -------------------------------------------------------- */

struct jparse {
	const char *p, *end;
	unsigned depth;
};

static int parse_value(struct jparse *ps, struct sw_jval **vp);


static void skip_ws(struct jparse *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' ||
				   *ps->p == '\n' || *ps->p == '\r'))
		++ps->p;
}


static int hex4(const char *p, const char *end, uint32_t *out)
{
	uint32_t v = 0;

	if (end - p < 4)
		return EBADMSG;
	for (int i = 0; i < 4; ++i) {
		char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else
			return EBADMSG;
	}
	*out = v;
	return 0;
}


static size_t utf8_put(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}


/* \uXXXX (and its low surrogate) at *pp, just after the backslash-u */
static int parse_uescape(const char **pp, const char *end, char *o,
			 size_t *olen)
{
	const char *p = *pp;
	uint32_t cp, lo;

	if (hex4(p, end, &cp))
		return EBADMSG;
	p += 4;
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (end - p < 6 || p[0] != '\\' || p[1] != 'u' ||
		    hex4(p + 2, end, &lo) || lo < 0xdc00 || lo > 0xdfff)
			return EBADMSG;
		p += 6;
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	else if (cp >= 0xdc00 && cp <= 0xdfff) {
		return EBADMSG;
	}
	*olen += utf8_put(o + *olen, cp);
	*pp = p;
	return 0;
}


/* Decode the body of a string, [p, end) holding no closing quote */
static int decode_string(const char *p, const char *end, char *o)
{
	size_t olen = 0;
	int err = 0;

	while (!err && p < end) {
		unsigned char c = (unsigned char)*p++;

		if (c < 0x20)
			return EBADMSG;
		if (c != '\\') {
			o[olen++] = (char)c;
			continue;
		}
		switch (*p++) {
		case '"': o[olen++] = '"'; break;
		case '\\': o[olen++] = '\\'; break;
		case '/': o[olen++] = '/'; break;
		case 'b': o[olen++] = '\b'; break;
		case 'f': o[olen++] = '\f'; break;
		case 'n': o[olen++] = '\n'; break;
		case 'r': o[olen++] = '\r'; break;
		case 't': o[olen++] = '\t'; break;
		case 'u': err = parse_uescape(&p, end, o, &olen); break;
		default: err = EBADMSG; break;
		}
	}
	o[olen] = '\0';
	return err;
}


static int parse_string(struct jparse *ps, char **out)
{
	const char *start = ++ps->p; /* after the opening quote */
	char *o;
	int err;

	while (ps->p < ps->end && *ps->p != '"')
		ps->p += (*ps->p == '\\' && ps->p + 1 < ps->end) ? 2 : 1;
	if (ps->p >= ps->end)
		return EBADMSG;
	/* decoded text is never longer than the encoded text */
	o = malloc((size_t)(ps->p - start) + 1);
	if (!o)
		return ENOMEM;
	err = decode_string(start, ps->p, o);
	if (err) {
		free(o);
		return err;
	}
	++ps->p; /* the closing quote */
	*out = o;
	return 0;
}


static int parse_number(struct jparse *ps, struct sw_jval *v)
{
	char buf[64];
	const char *s = ps->p;
	size_t n;
	char *e;

	while (ps->p < ps->end && strchr("+-0123456789.eE", *ps->p))
		++ps->p;
	n = (size_t)(ps->p - s);
	if (!n || n >= sizeof(buf))
		return EBADMSG;
	memcpy(buf, s, n);
	buf[n] = '\0';
	v->num = strtod(buf, &e);
	if (*e)
		return EBADMSG;
	v->type = SW_JNUM;
	return 0;
}


static int parse_literal(struct jparse *ps, struct sw_jval *v)
{
	static const struct {
		const char *s;
		enum sw_jtype t;
		bool b;
	} lits[] = {{"true", SW_JBOOL, true},
		    {"false", SW_JBOOL, false},
		    {"null", SW_JNULL, false}};

	for (size_t i = 0; i < sizeof(lits) / sizeof(lits[0]); ++i) {
		size_t n = strlen(lits[i].s);

		if ((size_t)(ps->end - ps->p) >= n &&
		    !memcmp(ps->p, lits[i].s, n)) {
			ps->p += n;
			v->type = lits[i].t;
			v->b = lits[i].b;
			return 0;
		}
	}
	return EBADMSG;
}


/* Elements of an array or members of an object, after the bracket */
static int parse_children(struct jparse *ps, struct sw_jval *v, char close)
{
	struct sw_jval **tail = &v->child;
	int err;

	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == close) {
		++ps->p;
		return 0;
	}
	for (;;) {
		char *key = NULL;
		struct sw_jval *c;

		skip_ws(ps);
		if (close == '}') {
			if (ps->p >= ps->end || *ps->p != '"')
				return EBADMSG;
			err = parse_string(ps, &key);
			if (err)
				return err;
			skip_ws(ps);
			if (ps->p >= ps->end || *ps->p != ':') {
				free(key);
				return EBADMSG;
			}
			++ps->p;
		}
		err = parse_value(ps, &c);
		if (err) {
			free(key);
			return err;
		}
		c->key = key;
		*tail = c;
		tail = &c->next;
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			++ps->p;
			continue;
		}
		if (ps->p < ps->end && *ps->p == close) {
			++ps->p;
			return 0;
		}
		return EBADMSG;
	}
}


static int parse_value(struct jparse *ps, struct sw_jval **vp)
{
	struct sw_jval *v;
	int err;

	skip_ws(ps);
	if (ps->p >= ps->end)
		return EBADMSG;
	v = calloc(1, sizeof(*v));
	if (!v)
		return ENOMEM;
	switch (*ps->p) {
	case '{':
	case '[':
		if (++ps->depth > SW_JSON_MAX_DEPTH) {
			err = EBADMSG;
			break;
		}
		v->type = *ps->p == '{' ? SW_JOBJ : SW_JARR;
		++ps->p;
		err = parse_children(ps, v, v->type == SW_JOBJ ? '}' : ']');
		--ps->depth;
		break;
	case '"':
		v->type = SW_JSTR;
		err = parse_string(ps, &v->str);
		break;
	case 't':
	case 'f':
	case 'n':
		err = parse_literal(ps, v);
		break;
	default:
		err = parse_number(ps, v);
		break;
	}
	if (err) {
		sw_jval_free(v);
		return err;
	}
	*vp = v;
	return 0;
}


/**
 * Parse one JSON text (surrounding whitespace allowed)
 *
 * @return 0, EBADMSG on a syntax error or too deep nesting, ENOMEM
 */
int sw_jval_parse(struct sw_jval **vp, const char *text, size_t len)
{
	struct jparse ps = {text, text + len, 0};
	struct sw_jval *v;
	int err;

	if (!vp || !text)
		return EINVAL;
	err = parse_value(&ps, &v);
	if (err)
		return err;
	skip_ws(&ps);
	if (ps.p != ps.end) {
		sw_jval_free(v);
		return EBADMSG;
	}
	*vp = v;
	return 0;
}


void sw_jval_free(struct sw_jval *v)
{
	while (v) {
		struct sw_jval *next = v->next;

		sw_jval_free(v->child);
		free(v->key);
		free(v->str);
		free(v);
		v = next;
	}
}


/** The member called key of an object, or NULL */
const struct sw_jval *sw_jval_get(const struct sw_jval *obj, const char *key)
{
	if (!obj || obj->type != SW_JOBJ)
		return NULL;
	for (const struct sw_jval *c = obj->child; c; c = c->next)
		if (c->key && !strcmp(c->key, key))
			return c;
	return NULL;
}


const char *sw_jval_str(const struct sw_jval *obj, const char *key,
			const char *def)
{
	const struct sw_jval *v = sw_jval_get(obj, key);

	return v && v->type == SW_JSTR ? v->str : def;
}


int64_t sw_jval_int(const struct sw_jval *obj, const char *key, int64_t def)
{
	const struct sw_jval *v = sw_jval_get(obj, key);

	if (!v || v->type != SW_JNUM || v->num < -9.2e18 || v->num > 9.2e18)
		return def;
	return (int64_t)v->num;
}


bool sw_jval_bool(const struct sw_jval *obj, const char *key, bool def)
{
	const struct sw_jval *v = sw_jval_get(obj, key);

	return v && v->type == SW_JBOOL ? v->b : def;
}
