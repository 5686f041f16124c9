/**
 * @file sw_ini.h  The INI reader shared by shareway.conf and the rule file.
 *
 * Format: `[type]` or `[type NAME]` section lines; `key = value` lines whose
 * value is raw to end of line (trimmed, no quoting, no escapes, so a regex
 * pastes as-is); whole-line comments starting with '#' or ';'.
 */
#ifndef SW_INI_H
#define SW_INI_H

#include <stddef.h>

struct sw_ini_pos {
	const char *file; /* file name for messages */
	unsigned line;    /* 1-based line number */
};

/**
 * Called for each section header (key == NULL) and each key/value line.
 * A non-zero return stops parsing; the handler has already written its
 * message into err (naming file:line:key).
 */
typedef int(sw_ini_h)(const struct sw_ini_pos *pos, const char *type,
		      const char *name, const char *key, const char *value,
		      char *err, size_t errsz, void *arg);

int sw_ini_parse_file(const char *path, sw_ini_h *h, void *arg, char *err,
		      size_t errsz);
int sw_ini_parse_buf(const char *file, const char *buf, size_t len,
		     sw_ini_h *h, void *arg, char *err, size_t errsz);

#endif
