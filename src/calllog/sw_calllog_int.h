/**
 * @file sw_calllog_int.h  Call log internals shared by sw_calllog.c (emit
 * API, writer thread), the store implementations (sw_callstore_sqlite.c:
 * schema, SQL) and sw_calllog_sum.c (ladder summaries of SIP and STUN
 * messages).
 *
 * A record struct of sw_callrec.h maps to one table through a column
 * table (struct cl_col) generated from its field list (SW_REC_*): the
 * same table packs the struct into a message on the producer's thread,
 * binds it into the upsert on the writer thread, declares the store's
 * columns, reads a row back into a struct for the CLI, and writes the
 * struct as JSON.
 */
#ifndef SW_CALLLOG_INT_H
#define SW_CALLLOG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sw_calllog.h"
#include "sw_callstore.h"

/*
 * Blob layout: uint32 nnum, uint32 nstr, int64 num[nnum],
 * uint32 len[nstr] (CLB_ABSENT for NULL), then the bytes of each string
 * followed by a NUL (so text can be used in place).
 */
#define CLB_ABSENT UINT32_MAX
#define CLB_MAX_FIELDS 24
#define CLB_MAX_STR (4u << 20) /* 4 MiB: bigger text is refused */

struct clb_in {
	int64_t num[CLB_MAX_FIELDS];
	unsigned nnum;
	const void *str[CLB_MAX_FIELDS];
	size_t len[CLB_MAX_FIELDS];
	unsigned nstr;
};

int clb_pack(char **blobp, const struct clb_in *in);
unsigned clb_nnum(const char *blob);
unsigned clb_nstr(const char *blob);
int64_t clb_num(const char *blob, unsigned i);
const char *clb_str(const char *blob, unsigned i, size_t *lenp);

/* columns of a record struct */
enum cl_ctype {
	CT_STR,  /* const char * */
	CT_I64,  /* int64_t */
	CT_INT,  /* int or enum */
	CT_U32,  /* uint32_t */
	CT_U64,  /* uint64_t, stored as int64 */
	CT_BOOL, /* bool */
	CT_CHAR, /* char, stored as a one-letter text */
	CT_STATE, /* enum sw_call_state, stored as its name */
};

enum cl_merge {
	CM_KEY,   /* part of the row's key: always bound as is */
	CM_SET,   /* the newest known value wins */
	CM_FIRST, /* the first known value stays */
	CM_MAX,   /* counters and flags that only grow */
};

/* how a column shows in JSON (the JSON forms of sw_callrec.h) */
enum cl_jform {
	CJ_SKIP,
	CJ_STR,
	CJ_INT,
	CJ_INTNZ,
	CJ_TIME,
	CJ_BOOL,
	CJ_CHAR,
	CJ_ACTOR,
	CJ_EVKIND,
	CJ_ICESTATE,
	CJ_STATE,
};

struct cl_col {
	const char *name;
	uint8_t type;  /* enum cl_ctype */
	uint8_t merge; /* enum cl_merge */
	uint16_t off;  /* offsetof in the struct */
	const char *jkey;
	uint8_t jform; /* enum cl_jform */
	const char *sql; /* the head's column declaration, else NULL */
};

struct cl_table {
	const char *name;
	const struct cl_col *cols;
	unsigned ncols;
	size_t size;       /* sizeof the struct */
	const char *order; /* ORDER BY for loading */
	bool insert_only;  /* no key: every message is a new row */
};

extern const struct cl_table cl_tab_head, cl_tab_leg, cl_tab_route,
	cl_tab_neg, cl_tab_relay, cl_tab_conn, cl_tab_ice, cl_tab_reinvite,
	cl_tab_event;

int64_t cl_col_num(const struct cl_col *c, const void *s);
const char *cl_col_str(const struct cl_col *c, const void *s);
void cl_json_cols(struct sw_json *j, const struct cl_table *t,
		  const void *s);

int clb_pack_struct(char **blobp, const struct cl_table *t, const void *s,
		    const int64_t *extra, unsigned nextra);

/* ladder summaries (sw_calllog_sum.c) */
void cl_sum_sip(const uint8_t *data, size_t len, char *label, size_t lsz,
		char *detail, size_t dsz);
bool cl_sum_stun(const uint8_t *data, size_t len, char *label, size_t lsz,
		 char *detail, size_t dsz);

/* the facts of recent calls, held by a store's writer for the verdicts
 * (sw_callfacts.c) */
struct cl_facts;

int cl_facts_new(struct cl_facts **fp, size_t max_bytes);
void cl_facts_free(struct cl_facts *f);
void cl_facts_budget(struct cl_facts *f, size_t max_bytes);
void cl_facts_apply(struct cl_facts *f, const struct sw_callstore_msg *m,
		    bool stored, int64_t now_us);
const struct sw_callrec *cl_facts_get(struct cl_facts *f, int64_t id);
int cl_facts_ended(struct cl_facts *f, int64_t id);
void cl_facts_forget(struct cl_facts *f, int64_t id);
void cl_facts_forget_ended(struct cl_facts *f);
void cl_facts_forget_all(struct cl_facts *f);
void cl_facts_tick(struct cl_facts *f, int64_t now_us);

#endif
