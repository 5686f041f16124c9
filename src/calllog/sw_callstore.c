/**
 * @file sw_callstore.c  The call store's entry points (sw_callstore.h):
 * each hands its call to the implementation behind the handle, or
 * answers ENOTSUP where that implementation has no such operation.
 */
#include <errno.h>
#include <stdio.h>

#include "sw_callstore.h"

/* s->ops->op(s, ...) when the implementation has op, else ENOTSUP */
#define DISPATCH(s, op, ...)                                                 \
	((s) && (s)->ops->op ? (s)->ops->op((s), __VA_ARGS__) :              \
			       (s) ? ENOTSUP : EINVAL)


/** Open the SQLite call log at path: writer (created, migrated) or
 *  reader (must exist at the current schema); err says why not */
int sw_callstore_open(struct sw_callstore **sp, const char *path,
		      bool writer, char *err, size_t errsz)
{
	return sw_callstore_open_ops(sp, &sw_callstore_sqlite_ops, path,
				     writer, err, errsz);
}


/** Open a store of another implementation (where: its own address) */
int sw_callstore_open_ops(struct sw_callstore **sp,
			  const struct sw_callstore_ops *ops,
			  const char *where, bool writer, char *err,
			  size_t errsz)
{
	if (!sp || !ops || !ops->open || !where) {
		snprintf(err, errsz, "no call store to open");
		return EINVAL;
	}
	return ops->open(sp, where, writer, err, errsz);
}


void sw_callstore_close(struct sw_callstore *s)
{
	if (s)
		s->ops->close(s);
}


const char *sw_callstore_errmsg(struct sw_callstore *s)
{
	return s && s->ops->errmsg ? s->ops->errmsg(s) : "no call store";
}


int sw_callstore_batch_begin(struct sw_callstore *s)
{
	return s && s->ops->batch_begin ? s->ops->batch_begin(s) : ENOTSUP;
}


int sw_callstore_batch_add(struct sw_callstore *s,
			   const struct sw_callstore_msg *m)
{
	return DISPATCH(s, batch_add, m);
}


int sw_callstore_batch_commit(struct sw_callstore *s,
			      struct sw_callstore_batch_res *res)
{
	return DISPATCH(s, batch_commit, res);
}


/** Memory the writer may keep for the facts of recent calls (0: none);
 *  ENOTSUP where the implementation reads every verdict back */
int sw_callstore_facts_budget(struct sw_callstore *s, size_t max_bytes)
{
	return DISPATCH(s, facts_budget, max_bytes);
}


int sw_callstore_mark_lost(struct sw_callstore *s, unsigned *np)
{
	return DISPATCH(s, mark_lost, np);
}


int sw_callstore_expire(struct sw_callstore *s, int64_t before_us,
			uint32_t max_calls, unsigned chunk, unsigned *np)
{
	return DISPATCH(s, expire, before_us, max_calls, chunk, np);
}


/** The highest call id stored (0: none, or unknown) */
int64_t sw_callstore_max_id(struct sw_callstore *s)
{
	return s && s->ops->max_id ? s->ops->max_id(s) : 0;
}


/**
 * Find a call by tag ("c-142"), bare number ("142") or either leg's
 * Call-ID (the newest call wins)
 *
 * @return 0, ENOENT, EIO, ENOTSUP
 */
int sw_callstore_find(struct sw_callstore *s, const char *key,
		      int64_t *idp)
{
	if (!key || !*key)
		return EINVAL;
	return DISPATCH(s, find, key, idp);
}


/**
 * Load a call with the parts asked for (enum sw_callstore_parts) into a
 * new record; the caller frees it with sw_callrec_free()
 *
 * @return 0, ENOENT if there is no such call, EIO, ENOMEM
 */
int sw_callstore_load(struct sw_callstore *s, int64_t id, unsigned parts,
		      struct sw_callrec **recp)
{
	return DISPATCH(s, load, id, parts, recp);
}


/** sw_callstore_find() then sw_callstore_load() */
int sw_callstore_get(struct sw_callstore *s, const char *key,
		     unsigned parts, struct sw_callrec **recp)
{
	int64_t id;
	int err = sw_callstore_find(s, key, &id);

	return err ? err : sw_callstore_load(s, id, parts, recp);
}


/**
 * rowh for each call matching q, with its head only (SW_PART_HEAD),
 * until rowh returns non-zero
 *
 * @return 0, EIO, or what rowh returned
 */
int sw_callstore_list(struct sw_callstore *s,
		      const struct sw_callstore_query *q,
		      sw_callstore_row_h *rowh, void *arg)
{
	return DISPATCH(s, list, q, rowh, arg);
}


/**
 * rowh for each call finished after the finish sequence number
 * after_seq (0: from the first), in finish order, at most limit (0: all),
 * loaded with parts; rec->done_seq is the cursor to pass next time
 *
 * @return 0, EIO, or what rowh returned
 */
int sw_callstore_finished(struct sw_callstore *s, int64_t after_seq,
			  unsigned limit, unsigned parts,
			  sw_callstore_row_h *rowh, void *arg)
{
	return DISPATCH(s, finished, after_seq, limit, parts, rowh, arg);
}


/**
 * The counters of SW_CALLSTORE_COUNTS over the calls started since
 * since_us (-1: a counter that could not be read), then codeh (may be
 * NULL) for each final code >= 300, most frequent first
 */
int sw_callstore_counts(struct sw_callstore *s, int64_t since_us,
			struct sw_callstore_counts *c,
			sw_callstore_code_h *codeh, void *arg)
{
	return DISPATCH(s, counts, since_us, c, codeh, arg);
}
