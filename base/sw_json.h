/**
 * @file sw_json.h  A small JSON writer and a JSON reader (jansson's).
 *
 * The writer appends to a growing heap buffer; a member is written with
 * its key inside an object and with key NULL inside an array. An
 * allocation failure or a nesting error latches: every later call does
 * nothing and sw_json_finish() returns the error, so callers check once.
 *
 * The reader parses one JSON text into a tree (objects keep member order)
 * with a depth limit; it is meant for control-socket requests and
 * responses, not for untrusted bulk data. The parsing is jansson's
 * (sw_json.c says why the writer is not).
 */
#ifndef SW_JSON_H
#define SW_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SW_JSON_MAX_DEPTH 32

struct sw_json {
	char *buf;    /* owned, NUL-terminated */
	size_t len, cap;
	unsigned depth;
	bool first[SW_JSON_MAX_DEPTH + 1]; /* no member yet at this level */
	bool pretty;  /* newlines + two-space indentation */
	int err;      /* latched errno */
};

void sw_json_init(struct sw_json *j, bool pretty);
void sw_json_reset(struct sw_json *j);
void sw_json_free(struct sw_json *j);
int sw_json_finish(struct sw_json *j);

void sw_json_obj_open(struct sw_json *j, const char *key);
void sw_json_obj_close(struct sw_json *j);
void sw_json_arr_open(struct sw_json *j, const char *key);
void sw_json_arr_close(struct sw_json *j);
void sw_json_str(struct sw_json *j, const char *key, const char *val);
void sw_json_strn(struct sw_json *j, const char *key, const char *val,
		  size_t len);
void sw_json_int(struct sw_json *j, const char *key, int64_t val);
void sw_json_dbl(struct sw_json *j, const char *key, double val);
void sw_json_bool(struct sw_json *j, const char *key, bool val);
void sw_json_null(struct sw_json *j, const char *key);
void sw_json_raw(struct sw_json *j, const char *key, const char *json);
void sw_json_str_or_null(struct sw_json *j, const char *key,
			 const char *val);

enum sw_jtype {
	SW_JNULL = 0,
	SW_JBOOL,
	SW_JNUM,
	SW_JSTR,
	SW_JARR,
	SW_JOBJ,
};

/** A parsed JSON value; children of arrays and objects form a list */
struct sw_jval {
	enum sw_jtype type;
	char *key;             /* member name inside an object, else NULL */
	char *str;             /* SW_JSTR: decoded UTF-8, NUL-terminated */
	double num;            /* SW_JNUM */
	bool b;                /* SW_JBOOL */
	struct sw_jval *child; /* SW_JARR, SW_JOBJ: first element */
	struct sw_jval *next;  /* next sibling */
};

int sw_jval_parse(struct sw_jval **vp, const char *text, size_t len);
void sw_jval_free(struct sw_jval *v);
const struct sw_jval *sw_jval_get(const struct sw_jval *obj,
				  const char *key);
const char *sw_jval_str(const struct sw_jval *obj, const char *key,
			const char *def);
int64_t sw_jval_int(const struct sw_jval *obj, const char *key, int64_t def);
bool sw_jval_bool(const struct sw_jval *obj, const char *key, bool def);

#endif
