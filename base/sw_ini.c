/**
 * @file sw_ini.c  INI reader: sections, raw key = value lines, comments.
 *
 * Every error names file:line and what was wrong; the caller prints it as
 * one log line and refuses the file.
 *
 * Why not libinih (Debian 12's libinih 55, measured on a rule file): the
 * packaged library is built with its defaults, and each breaks this
 * format. INI_MAX_LINE 200: a 306-byte `match.to` regex came back cut to
 * 188 bytes and the rest of the line was parsed as a line of its own (an
 * error at the wrong line); inline comments: `rewrite.to = sip:$1@cms
 * ;transport=tls` lost ` ;transport=tls` without a word (values here are
 * raw to the end of the line, so a regex or URI pastes as-is); multi-line
 * values: an indented line continues the previous value; and its handler
 * gets no line number (INI_HANDLER_LINENO 0), so no error could name
 * file:line. Those are compile-time options, not run-time ones.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>

#include "sw_ini.h"

#define SW_INI_MAX_LINE 4096


static char *trim(char *s)
{
	char *e;

	while (*s && isspace((unsigned char)*s))
		++s;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}


static int parse_section(const struct sw_ini_pos *pos, char *s, char **type,
			 char **name, char *err, size_t errsz)
{
	char *end = strchr(s, ']');
	char *sp;

	if (!end || trim(end + 1)[0] != '\0') {
		snprintf(err, errsz, "%s:%u: malformed section header",
			 pos->file, pos->line);
		return EINVAL;
	}
	*end = '\0';
	s = trim(s + 1);
	sp = strpbrk(s, " \t");
	if (sp) {
		*sp = '\0';
		*name = trim(sp + 1);
	}
	else {
		*name = NULL;
	}
	*type = s;
	if (!**type || (*name && !**name)) {
		snprintf(err, errsz, "%s:%u: empty section name", pos->file,
			 pos->line);
		return EINVAL;
	}
	return 0;
}


/**
 * Parse an INI buffer, calling h for sections and key/value lines
 *
 * @return 0, or the first non-zero error (err holds the message)
 */
int sw_ini_parse_buf(const char *file, const char *buf, size_t len,
		     sw_ini_h *h, void *arg, char *err, size_t errsz)
{
	struct sw_ini_pos pos = {file, 0};
	char line[SW_INI_MAX_LINE];
	char *type = NULL, *name = NULL;
	char typebuf[128] = "", namebuf[256] = "";
	size_t off = 0;
	int e;

	while (off < len) {
		const char *nl = memchr(buf + off, '\n', len - off);
		size_t ll = nl ? (size_t)(nl - (buf + off)) : len - off;
		char *s, *eq, *key, *val;

		++pos.line;
		if (ll >= sizeof(line)) {
			snprintf(err, errsz, "%s:%u: line longer than %d bytes",
				 file, pos.line, SW_INI_MAX_LINE - 1);
			return EINVAL;
		}
		memcpy(line, buf + off, ll);
		line[ll] = '\0';
		off += ll + (nl ? 1 : 0);
		if (memchr(line, '\0', ll)) {
			snprintf(err, errsz, "%s:%u: NUL byte in line", file,
				 pos.line);
			return EINVAL;
		}

		s = trim(line);
		if (!*s || *s == '#' || *s == ';')
			continue;

		if (*s == '[') {
			e = parse_section(&pos, s, &type, &name, err, errsz);
			if (e)
				return e;
			snprintf(typebuf, sizeof(typebuf), "%s", type);
			snprintf(namebuf, sizeof(namebuf), "%s",
				 name ? name : "");
			e = h(&pos, typebuf, name ? namebuf : NULL, NULL, NULL,
			      err, errsz, arg);
			if (e)
				return e;
			continue;
		}

		eq = strchr(s, '=');
		if (!eq) {
			snprintf(err, errsz, "%s:%u: expected 'key = value'",
				 file, pos.line);
			return EINVAL;
		}
		*eq = '\0';
		key = trim(s);
		val = trim(eq + 1);
		if (!*key) {
			snprintf(err, errsz, "%s:%u: missing key before '='",
				 file, pos.line);
			return EINVAL;
		}
		e = h(&pos, typebuf[0] ? typebuf : NULL,
		      namebuf[0] ? namebuf : NULL, key, val, err, errsz, arg);
		if (e)
			return e;
	}
	return 0;
}


/**
 * Read and parse an INI file
 *
 * @return 0, ENOENT/EACCES/... if unreadable, or the parse error
 */
int sw_ini_parse_file(const char *path, sw_ini_h *h, void *arg, char *err,
		      size_t errsz)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int e = 0;

	if (!f) {
		e = errno;
		snprintf(err, errsz, "%s: cannot open: %s", path, strerror(e));
		return e;
	}
	for (;;) {
		size_t n;

		if (cap - len < 4096) {
			char *nb;

			cap = cap ? cap * 2 : 16384;
			if (cap > 16u << 20) {
				snprintf(err, errsz, "%s: file too large",
					 path);
				e = EFBIG;
				goto out;
			}
			nb = realloc(buf, cap);
			if (!nb) {
				e = ENOMEM;
				goto out;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		e = EIO;
		snprintf(err, errsz, "%s: read error", path);
		goto out;
	}
	e = sw_ini_parse_buf(path, buf ? buf : "", len, h, arg, err, errsz);
out:
	free(buf);
	fclose(f);
	return e;
}
