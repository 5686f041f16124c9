/**
 * @file sw_json.c  JSON writer (growing buffer, latched errors) and the
 * reader (jansson's parser, its tree copied into struct sw_jval).
 *
 * The writer escapes control characters, quotes and backslashes, and
 * passes other bytes through, so UTF-8 text stays readable; invalid UTF-8
 * in a value is replaced by U+FFFD so the output is always valid JSON.
 *
 * Why the writer is not jansson's (measured with jansson 2.14, Debian 12,
 * the ladder of `shareway show --json`, 1000 steps of 6 members):
 * - what it writes comes from peers (User-Agent, Reason, SIP text, SDP)
 *   and may be invalid UTF-8: json_string() refuses such a value (NULL),
 *   500 of 500 in the measure, so the member would be lost, where this
 *   writer shows it with U+FFFD in place of the bad bytes;
 * - it streams into one buffer: 11 allocations for the document against
 *   19,031 for jansson's tree of nodes and key copies plus the dump, and
 *   2.7 ms against 21.7 ms (same machine, same load);
 * - its pretty form is the one the CLI's snapshots (tests/data/cli) and
 *   operators' scripts know.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

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

/*
 * The reader is jansson's (RFC 8259: escapes, surrogate pairs, numbers,
 * UTF-8 validation, nothing after the value); its tree is copied into
 * struct sw_jval, the shape the control socket's handlers and the CLI
 * walk, refusing more than SW_JSON_MAX_DEPTH nested containers. A \u0000
 * ends the C string there, as it always did. Of a member given twice the
 * last counts (jansson's rule).
 */
static int from_jansson(const json_t *in, const char *key, unsigned depth,
			struct sw_jval **vp)
{
	struct sw_jval *v = calloc(1, sizeof(*v)), **tail;
	const char *k;
	json_t *c;
	size_t i;
	int err = 0;

	if (!v)
		return ENOMEM;
	*vp = v;
	if (key && !(v->key = strdup(key)))
		return ENOMEM;
	tail = &v->child;
	switch (json_typeof(in)) {
	case JSON_NULL: v->type = SW_JNULL; break;
	case JSON_TRUE:
	case JSON_FALSE:
		v->type = SW_JBOOL;
		v->b = json_is_true(in);
		break;
	case JSON_INTEGER:
		v->type = SW_JNUM;
		v->num = (double)json_integer_value(in);
		break;
	case JSON_REAL:
		v->type = SW_JNUM;
		v->num = json_real_value(in);
		break;
	case JSON_STRING:
		v->type = SW_JSTR;
		v->str = strdup(json_string_value(in));
		err = v->str ? 0 : ENOMEM;
		break;
	case JSON_ARRAY:
		v->type = SW_JARR;
		if (++depth > SW_JSON_MAX_DEPTH)
			return EBADMSG;
		json_array_foreach(in, i, c) {
			err = from_jansson(c, NULL, depth, tail);
			if (err)
				break;
			tail = &(*tail)->next;
		}
		break;
	case JSON_OBJECT:
		v->type = SW_JOBJ;
		if (++depth > SW_JSON_MAX_DEPTH)
			return EBADMSG;
		json_object_foreach((json_t *)in, k, c) {
			err = from_jansson(c, k, depth, tail);
			if (err)
				break;
			tail = &(*tail)->next;
		}
		break;
	}
	return err;
}


/**
 * Parse one JSON text (surrounding whitespace allowed)
 *
 * @return 0, EBADMSG on a syntax error or too deep nesting, ENOMEM
 */
int sw_jval_parse(struct sw_jval **vp, const char *text, size_t len)
{
	struct sw_jval *v = NULL;
	json_error_t jerr;
	json_t *in;
	int err;

	if (!vp || !text)
		return EINVAL;
	in = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	if (!in)
		return json_error_code(&jerr) == json_error_out_of_memory ?
			       ENOMEM : EBADMSG;
	err = from_jansson(in, NULL, 0, &v);
	json_decref(in);
	if (err) {
		sw_jval_free(v);
		return err;
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
