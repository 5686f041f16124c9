/**
 * @file sw_callstore_sqlite.h  What is particular to the SQLite call
 * store (sw_callstore_sqlite.c): the version of its file format, and
 * building a file at an older version (the migration tests). Everything
 * else goes through sw_callstore.h.
 */
#ifndef SW_CALLSTORE_SQLITE_H
#define SW_CALLSTORE_SQLITE_H

#include <stddef.h>

#define SW_CALLLOG_SCHEMA 5 /* PRAGMA user_version of a current file */

int sw_callstore_sqlite_schema(const char *path, int target, char *err,
			       size_t errsz);

#endif
