/**
 * @file sdpr.c  The SDP line model: parse a body into lines, print it back
 * byte-identically, and the primitives every edit is built on.
 *
 * A body is split at LF; a CR before the LF makes the ending CRLF, a CR
 * anywhere else is an error. Each line keeps its text and ending,
 * so printing an unedited model reproduces the input. Lines that edits
 * create get the ending of the body's first line. A body that did not end
 * with a newline still does not after edits (the new last line goes out
 * without one, the old last line gets the body's ending).
 *
 * Validation follows RFC 8866 5 where real endpoints follow it too: the
 * first line is v=0, line types are the RFC's letters, session-only types
 * do not appear after the first m=, and o=, c=, m=, b=, t= are well formed.
 * Blank lines are kept wherever they are (SIPE sent one after t=, corpus
 * issue76); attribute values are not checked, except that candidate lines
 * are classified (sdpr_cand_parse()) without ever failing the parse.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdpr_int.h"

/* RFC 8866 5: every type letter, then those only the session part has */
static const char line_types[] = "vosiuepcbtrzkam";
static const char session_types[] = "vosueptrz";


static void err_set(struct sdpr_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));


static void err_set(struct sdpr_err *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err->reason, sizeof(err->reason), fmt, ap);
	va_end(ap);
}


static bool is_ws(char c)
{
	return c == ' ' || c == '\t';
}


/**
 * Parse a decimal number of exactly len digits (no sign, no blank)
 *
 * @return 0, EBADMSG if not all digits, ERANGE if above max
 */
int sdpr_dec_u64(const char *s, size_t len, uint64_t max, uint64_t *vp)
{
	uint64_t v = 0;

	if (!len)
		return EBADMSG;
	for (size_t i = 0; i < len; ++i) {
		if (s[i] < '0' || s[i] > '9')
			return EBADMSG;
	}
	for (size_t i = 0; i < len; ++i) {
		unsigned d = (unsigned)(s[i] - '0');

		if (v > (max - d) / 10)
			return ERANGE;
		v = v * 10 + d;
	}
	*vp = v;
	return 0;
}


/**
 * Split s in place at runs of spaces and tabs
 *
 * @return the number of tokens, which may exceed max: only the first max
 *         are stored in tok
 */
size_t sdpr_tokens(char *s, char **tok, size_t max)
{
	size_t n = 0;

	for (;;) {
		while (is_ws(*s))
			*s++ = '\0';
		if (!*s)
			return n;
		if (n < max)
			tok[n] = s;
		++n;
		while (*s && !is_ws(*s))
			++s;
	}
}


/** True if s has no CR, LF or other control byte but tab */
bool sdpr_text_valid(const char *s)
{
	for (; *s; ++s) {
		if ((unsigned char)*s < 0x20 && *s != '\t')
			return false;
		if (*s == 0x7f)
			return false;
	}
	return true;
}


static bool is_blank(const char *s)
{
	for (; *s; ++s) {
		if (!is_ws(*s))
			return false;
	}
	return true;
}


static int origin_setup(struct sdpr_line *ln, struct sdpr_err *err)
{
	char *tok[6];
	size_t n = sdpr_tokens(ln->tok, tok, 6);

	if (n != 6) {
		err_set(err, "malformed o= line: %zu fields, expected 6", n);
		return EBADMSG;
	}
	if (sdpr_dec_u64(tok[2], strlen(tok[2]), UINT64_MAX, &ln->u.o.ver)) {
		err_set(err, "malformed o= line: session version '%.40s' is "
			"not a number", tok[2]);
		return EBADMSG;
	}
	ln->u.o.user = tok[0];
	ln->u.o.id = tok[1];
	ln->u.o.nettype = tok[3];
	ln->u.o.addrtype = tok[4];
	ln->u.o.addr = tok[5];
	return 0;
}


static int conn_setup(struct sdpr_line *ln, struct sdpr_err *err)
{
	char *tok[3];
	size_t n = sdpr_tokens(ln->tok, tok, 3);

	if (n != 3) {
		err_set(err, "malformed c= line: %zu fields, expected "
			"'<nettype> <addrtype> <address>'", n);
		return EBADMSG;
	}
	if (strcmp(tok[1], "IP4") && strcmp(tok[1], "IP6")) {
		err_set(err, "malformed c= line: address type '%.40s' is "
			"not IP4 or IP6", tok[1]);
		return EBADMSG;
	}
	ln->u.c.nettype = tok[0];
	ln->u.c.addrtype = tok[1];
	ln->u.c.addr = tok[2];
	return 0;
}


/* Collapse the runs of blanks of s to single spaces, trim both ends */
static void squeeze(char *s)
{
	char *w = s;

	while (is_ws(*s))
		++s;
	while (*s) {
		if (is_ws(*s)) {
			while (is_ws(*s))
				++s;
			if (*s)
				*w++ = ' ';
			continue;
		}
		*w++ = *s++;
	}
	*w = '\0';
}


static int mport_parse(struct sdpr_line *ln, char *s, struct sdpr_err *err)
{
	char *slash = strchr(s, '/');
	size_t plen = slash ? (size_t)(slash - s) : strlen(s);
	uint64_t v;
	int e;

	e = sdpr_dec_u64(s, plen, 65535, &v);
	if (e == ERANGE) {
		err_set(err, "malformed m= line: port %.*s > 65535",
			(int)(plen > 40 ? 40 : plen), s);
		return EBADMSG;
	}
	if (e) {
		err_set(err, "malformed m= line: port '%.*s' is not a number",
			(int)(plen > 40 ? 40 : plen), s);
		return EBADMSG;
	}
	ln->u.m.port = (uint16_t)v;
	ln->u.m.nports = 0;
	if (!slash)
		return 0;
	e = sdpr_dec_u64(slash + 1, strlen(slash + 1), 65535, &v);
	if (e || !v) {
		err_set(err, "malformed m= line: port count '%.40s' is not a "
			"number from 1 to 65535", slash + 1);
		return EBADMSG;
	}
	ln->u.m.nports = (unsigned)v;
	return 0;
}


static int mline_setup(struct sdpr_line *ln, struct sdpr_err *err)
{
	char *s = ln->tok, *tok[3];
	size_t n = 0;

	/* three tokens, then the format list as one squeezed string */
	while (n < 3) {
		while (is_ws(*s))
			++s;
		if (!*s)
			break;
		tok[n++] = s;
		while (*s && !is_ws(*s))
			++s;
		if (*s)
			*s++ = '\0';
	}
	if (n < 3) {
		err_set(err, "malformed m= line: expected '<media> <port> "
			"<proto> <fmt> ...'");
		return EBADMSG;
	}
	squeeze(s);
	if (!*s) {
		err_set(err, "malformed m= line: no format after '%.40s'",
			tok[2]);
		return EBADMSG;
	}
	ln->u.m.type = tok[0];
	ln->u.m.proto = tok[2];
	ln->u.m.fmt = s;
	return mport_parse(ln, tok[1], err);
}


static int attr_setup(struct sdpr_line *ln, struct sdpr_err *err)
{
	const char *name = ln->text + 2;
	const char *colon = strchr(name, ':');

	ln->nlen = colon ? (size_t)(colon - name) : strlen(name);
	ln->val = colon ? colon + 1 : NULL;
	if (!ln->nlen) {
		err_set(err, "malformed a= line: empty attribute name");
		return EBADMSG;
	}
	for (size_t i = 0; i < ln->nlen; ++i) {
		if (is_ws(name[i])) {
			err_set(err, "malformed a= line: blank in attribute "
				"name '%.*s'", (int)(ln->nlen > 40 ? 40 : ln->nlen),
				name);
			return EBADMSG;
		}
	}
	ln->akind = SDPR_ATTR_OTHER;
	if (!sdpr_attr_is(ln, "candidate") &&
	    !sdpr_attr_is(ln, "x-candidate-ipv6"))
		return 0;

	/* never fails the body: classified (sdpr_line_ckind()) when first
	 * asked about, the text kept */
	ln->akind = SDPR_ATTR_CAND;
	return 0;
}


/* b=<bwtype>:<bandwidth>, t=<start> <stop> (RFC 8866 5.8, 5.9) */
static int bt_setup(struct sdpr_line *ln, struct sdpr_err *err)
{
	char *tok[2];
	uint64_t v;
	size_t n = sdpr_tokens(ln->tok, tok, 2);

	if (ln->type == 'b') {
		char *colon = n == 1 ? strchr(tok[0], ':') : NULL;

		if (!colon || colon == tok[0] ||
		    sdpr_dec_u64(colon + 1, strlen(colon + 1), UINT64_MAX,
				 &v)) {
			err_set(err, "malformed b= line: expected "
				"'<bwtype>:<bandwidth>'");
			return EBADMSG;
		}
		return 0;
	}
	if (n != 2 ||
	    sdpr_dec_u64(tok[0], strlen(tok[0]), UINT64_MAX, &v) ||
	    sdpr_dec_u64(tok[1], strlen(tok[1]), UINT64_MAX, &v)) {
		err_set(err, "malformed t= line: expected '<start> <stop>'");
		return EBADMSG;
	}
	return 0;
}


static int typed_setup(struct sdpr_line *ln, struct sdpr_err *err)
{
	switch (ln->type) {

	case 'v':
		if (strncmp(ln->text, "v=0", 3) || !is_blank(ln->text + 3)) {
			err_set(err, "unsupported SDP version '%.40s'",
				ln->text + 2);
			return EBADMSG;
		}
		return 0;

	case 'a':
		return attr_setup(ln, err);

	case 'o':
	case 'c':
	case 'm':
	case 'b':
	case 't':
		break;

	default:
		return 0;
	}
	if (!ln->own) /* its room in the arena (body_split()) */
		memcpy(ln->tok, ln->text + 2, ln->len - 1);
	else if (!(ln->tok = strdup(ln->text + 2)))
		return ENOMEM;
	switch (ln->type) {

	case 'o':
		return origin_setup(ln, err);

	case 'c':
		return conn_setup(ln, err);

	case 'm':
		return mline_setup(ln, err);

	default:
		return bt_setup(ln, err);
	}
}


/**
 * Classify a line from its text and fill its parsed form
 *
 * @param in_media  the line is after the first m= line
 * @return 0, EBADMSG with err->reason set, or ENOMEM
 */
int sdpr_line_setup(struct sdpr_line *ln, bool in_media,
		    struct sdpr_err *err)
{
	const unsigned char *t = (const unsigned char *)ln->text;

	if (ln->own) {
		free(ln->tok);
		ln->tok = NULL;
	}
	ln->val = NULL;
	ln->nlen = 0;
	ln->akind = SDPR_ATTR_OTHER;
	ln->cknown = false;
	ln->cidx = 0;
	ln->type = 0;
	if (is_blank(ln->text))
		return 0;
	if (t[0] < 'a' || t[0] > 'z' || t[1] != '=') {
		err_set(err, "malformed line: expected '<letter>=<value>'");
		return EBADMSG;
	}
	if (!strchr(line_types, t[0])) {
		err_set(err, "unknown line type '%c='", t[0]);
		return EBADMSG;
	}
	if (in_media && strchr(session_types, t[0])) {
		err_set(err, "'%c=' line not allowed in a media section",
			t[0]);
		return EBADMSG;
	}
	ln->type = (char)t[0];
	return typed_setup(ln, err);
}


static void line_clear(struct sdpr_line *ln)
{
	if (ln->own) {
		free(ln->text);
		free(ln->tok);
	}
	memset(ln, 0, sizeof(*ln));
}


static int lines_grow(struct sdpr *sdp)
{
	struct sdpr_line *l;
	size_t cap;

	if (sdp->n < sdp->cap)
		return 0;
	if (sdp->n >= SDPR_MAX_LINES)
		return EMSGSIZE;
	cap = sdp->cap ? sdp->cap * 2 : 32;
	if (cap > SDPR_MAX_LINES)
		cap = SDPR_MAX_LINES;
	l = realloc(sdp->lines, cap * sizeof(*l));
	if (!l)
		return ENOMEM;
	sdp->lines = l;
	sdp->cap = cap;
	return 0;
}


/* Append line [p, p + len) of the body copied at sdp->arena (which has
 * room for a second copy of the body after it, for the lines' tokens):
 * the line's text is cut there with a NUL at its ending */
static void line_arena(struct sdpr *sdp, size_t blen, const char *p,
		       size_t len, enum sdpr_eol eol)
{
	struct sdpr_line *ln = &sdp->lines[sdp->n++];

	memset(ln, 0, sizeof(*ln));
	ln->text = (char *)p;
	ln->text[len] = '\0';
	ln->tok = ln->text + blen + 1;
	ln->len = len;
	ln->eol = eol;
}


static int body_split(struct sdpr *sdp, const char *body, size_t len,
		      struct sdpr_err *err)
{
	const char *p = body, *end = body + len;
	size_t n = body[len - 1] != '\n';

	/* the lines' room at once, and a spare for a few added lines */
	for (const char *q = body; (q = memchr(q, '\n', (size_t)(end - q)));
	     ++q)
		++n;
	sdp->cap = n + 8 < SDPR_MAX_LINES ? n + 8 : SDPR_MAX_LINES;
	sdp->lines = malloc(sdp->cap * sizeof(*sdp->lines));
	sdp->arena = malloc(2 * (len + 1));
	if (!sdp->lines || !sdp->arena)
		return ENOMEM;
	memcpy(sdp->arena, body, len);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		enum sdpr_eol eol = SDPR_EOL_LF;
		size_t tl = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (!nl) {
			eol = SDPR_EOL_NONE;
			sdp->no_final_eol = true;
		}
		else if (tl && p[tl - 1] == '\r') {
			eol = SDPR_EOL_CRLF;
			--tl;
		}
		/* RFC 8866 9: no field holds a CR; a stray one would merge
		 * with a line ending added by an edit */
		if (memchr(p, '\r', tl)) {
			err->line = (unsigned)sdp->n + 1;
			err_set(err, "CR without LF");
			return EBADMSG;
		}
		if (sdp->n >= SDPR_MAX_LINES) {
			err->line = SDPR_MAX_LINES + 1;
			err_set(err, "more than %d lines", SDPR_MAX_LINES);
			return EMSGSIZE;
		}
		line_arena(sdp, len, sdp->arena + (p - body), tl, eol);
		p = nl ? nl + 1 : end;
	}
	return 0;
}


static int lines_setup(struct sdpr *sdp, struct sdpr_err *err)
{
	bool in_media = false;

	for (size_t i = 0; i < sdp->n; ++i) {
		struct sdpr_line *ln = &sdp->lines[i];
		int e;

		err->line = (unsigned)i + 1;
		if (i == 0 && strncmp(ln->text, "v=", 2)) {
			err_set(err, "first line is not v=0");
			return EBADMSG;
		}
		e = sdpr_line_setup(ln, in_media, err);
		if (e)
			return e;
		if (i && ln->type == 'v') {
			err_set(err, "duplicate v= line");
			return EBADMSG;
		}
		if (ln->type == 'm')
			in_media = true;
	}
	err->line = 0;
	return 0;
}


/**
 * Parse an SDP body into a model that owns a copy of every line
 *
 * @param sdpp  receives the model on success; free it with sdpr_free()
 * @param body  the body, not NUL-terminated, len bytes
 * @param err   optional: line number and reason of a failure
 * @return 0, EINVAL, ENOMEM, EMSGSIZE (over SDPR_MAX_BODY bytes or
 *         SDPR_MAX_LINES lines) or EBADMSG (malformed; see err)
 */
int sdpr_parse(struct sdpr **sdpp, const char *body, size_t len,
	       struct sdpr_err *err)
{
	struct sdpr_err lerr;
	struct sdpr *sdp = NULL;
	const char *nul;
	int e;

	if (!err)
		err = &lerr;
	memset(err, 0, sizeof(*err));
	if (!sdpp || (!body && len))
		return EINVAL;
	if (len > SDPR_MAX_BODY) {
		err_set(err, "body of %zu bytes exceeds %d", len,
			SDPR_MAX_BODY);
		return EMSGSIZE;
	}
	nul = len ? memchr(body, '\0', len) : NULL;
	if (nul) {
		err->line = 1;
		for (const char *p = body; p < nul; ++p)
			err->line += *p == '\n';
		err_set(err, "NUL byte in line");
		return EBADMSG;
	}
	if (!len) {
		err->line = 1;
		err_set(err, "empty body: first line is not v=0");
		return EBADMSG;
	}
	sdp = calloc(1, sizeof(*sdp));
	if (!sdp)
		return ENOMEM;
	e = body_split(sdp, body, len, err);
	if (!e)
		e = lines_setup(sdp, err);
	if (e)
		goto out;
	sdp->eol = sdp->lines[0].eol != SDPR_EOL_NONE ? sdp->lines[0].eol :
							  SDPR_EOL_CRLF;
out:
	if (e)
		sdpr_free(sdp);
	else
		*sdpp = sdp;
	return e;
}


/** Free a model and every line it owns; NULL is ignored */
void sdpr_free(struct sdpr *sdp)
{
	if (!sdp)
		return;
	for (size_t i = 0; i < sdp->n; ++i)
		line_clear(&sdp->lines[i]);
	free(sdp->lines);
	free(sdp->arena);
	free(sdp->cands);
	free(sdp);
}


/** Number of lines of the model, blank lines included */
unsigned sdpr_line_count(const struct sdpr *sdp)
{
	return sdp ? (unsigned)sdp->n : 0;
}


static size_t eol_len(enum sdpr_eol eol)
{
	return eol == SDPR_EOL_CRLF ? 2 : eol == SDPR_EOL_LF ? 1 : 0;
}


/* The ending line i is printed with (see the file comment) */
static enum sdpr_eol line_eol(const struct sdpr *sdp, size_t i)
{
	enum sdpr_eol eol = sdp->lines[i].eol;

	if (i + 1 == sdp->n && sdp->no_final_eol)
		return SDPR_EOL_NONE;
	return eol != SDPR_EOL_NONE ? eol : sdp->eol;
}


/**
 * Print the model
 *
 * @param bodyp  receives a NUL-terminated heap copy; free() it
 * @param lenp   optional: its length without the NUL
 * @return 0, EINVAL or ENOMEM
 */
int sdpr_print(const struct sdpr *sdp, char **bodyp, size_t *lenp)
{
	size_t total = 0, off = 0;
	char *buf;

	if (!sdp || !bodyp)
		return EINVAL;
	for (size_t i = 0; i < sdp->n; ++i)
		total += sdp->lines[i].len + eol_len(line_eol(sdp, i));
	buf = malloc(total + 1);
	if (!buf)
		return ENOMEM;
	for (size_t i = 0; i < sdp->n; ++i) {
		const struct sdpr_line *ln = &sdp->lines[i];
		size_t el = eol_len(line_eol(sdp, i));

		memcpy(buf + off, ln->text, ln->len);
		off += ln->len;
		if (el == 2)
			buf[off++] = '\r';
		if (el)
			buf[off++] = '\n';
	}
	buf[off] = '\0';
	*bodyp = buf;
	if (lenp)
		*lenp = off;
	return 0;
}


/* The candidate parses the model keeps, for its copy d */
static void cands_copy(struct sdpr *d, const struct sdpr *sdp)
{
	if (!sdp->ncands ||
	    !(d->cands = malloc(sdp->ncands * sizeof(*d->cands))))
		return;
	memcpy(d->cands, sdp->cands, sdp->ncands * sizeof(*d->cands));
	d->ncands = d->capcands = sdp->ncands;
	for (size_t i = 0; i < sdp->n; ++i) {
		d->lines[i].cknown = sdp->lines[i].cknown;
		d->lines[i].ckind = sdp->lines[i].ckind;
		d->lines[i].cidx = sdp->lines[i].cidx;
	}
}


/**
 * Deep-copy a model (edits of one do not show in the other), in three
 * blocks as a parse
 *
 * @return 0, EINVAL or ENOMEM
 */
int sdpr_dup(struct sdpr **dupp, const struct sdpr *sdp)
{
	struct sdpr_err lerr;
	struct sdpr *d;
	bool in_media = false;
	size_t total = 0;
	char *p;
	int err = 0;

	if (!dupp || !sdp)
		return EINVAL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return ENOMEM;
	d->eol = sdp->eol;
	d->no_final_eol = sdp->no_final_eol;
	for (size_t i = 0; i < sdp->n; ++i)
		total += sdp->lines[i].len + 1;
	d->cap = sdp->n + 8 < SDPR_MAX_LINES ? sdp->n + 8 : SDPR_MAX_LINES;
	d->lines = malloc(d->cap * sizeof(*d->lines));
	d->arena = p = malloc(2 * total + 1);
	if (!d->lines || !d->arena)
		err = ENOMEM;
	/* each line's text and a NUL, then room for their tokens after all
	 * of them: line_arena() of a body total - 1 bytes long */
	for (size_t i = 0; i < sdp->n && !err; ++i) {
		const struct sdpr_line *ln = &sdp->lines[i];

		memcpy(p, ln->text, ln->len);
		line_arena(d, total - 1, p, ln->len, ln->eol);
		p += ln->len + 1;
		err = sdpr_line_setup(&d->lines[i], in_media, &lerr);
		in_media = in_media || ln->type == 'm';
	}
	if (!err)
		cands_copy(d, sdp);
	if (err)
		sdpr_free(d);
	else
		*dupp = d;
	return err;
}


/* Set up a heap line from text for position pos of the model */
static int line_make(const struct sdpr *sdp, size_t pos, const char *text,
		     struct sdpr_line *ln)
{
	struct sdpr_err lerr;
	bool in_media = false;
	int err;

	if (!sdpr_text_valid(text) || strlen(text) > SDPR_MAX_BODY)
		return EINVAL;
	for (size_t i = 0; i < pos && !in_media; ++i)
		in_media = sdp->lines[i].type == 'm';
	memset(ln, 0, sizeof(*ln));
	ln->text = strdup(text);
	if (!ln->text)
		return ENOMEM;
	ln->own = true;
	ln->len = strlen(text);
	ln->eol = sdp->eol;
	err = sdpr_line_setup(ln, in_media, &lerr);
	if (err) {
		line_clear(ln);
		return err == EBADMSG ? EINVAL : err;
	}
	return 0;
}


/**
 * Insert a line before position pos (pos == count appends)
 *
 * @return 0, EINVAL (text would not parse there), EMSGSIZE or ENOMEM
 */
int sdpr_line_insert(struct sdpr *sdp, size_t pos, const char *text)
{
	struct sdpr_line ln;
	int err;

	if (pos > sdp->n)
		return EINVAL;
	err = lines_grow(sdp);
	if (err)
		return err;
	err = line_make(sdp, pos, text, &ln);
	if (err)
		return err;
	memmove(&sdp->lines[pos + 1], &sdp->lines[pos],
		(sdp->n - pos) * sizeof(ln));
	sdp->lines[pos] = ln;
	++sdp->n;
	return 0;
}


/**
 * Replace the text of line pos, keeping its line ending
 *
 * @return 0, EINVAL or ENOMEM; on error the line is unchanged
 */
int sdpr_line_replace(struct sdpr *sdp, size_t pos, const char *text)
{
	struct sdpr_line ln;
	int err;

	if (pos >= sdp->n)
		return EINVAL;
	if (!strcmp(sdp->lines[pos].text, text))
		return 0;
	err = line_make(sdp, pos, text, &ln);
	if (err)
		return err;
	ln.eol = sdp->lines[pos].eol;
	line_clear(&sdp->lines[pos]);
	sdp->lines[pos] = ln;
	return 0;
}


/** Remove line pos (the caller checked pos < count) */
void sdpr_line_remove(struct sdpr *sdp, size_t pos)
{
	line_clear(&sdp->lines[pos]);
	memmove(&sdp->lines[pos], &sdp->lines[pos + 1],
		(sdp->n - pos - 1) * sizeof(sdp->lines[0]));
	--sdp->n;
}


/**
 * Lines [start, end) of a level: SDPR_SESSION or a media index
 *
 * @return 0, EINVAL (bad level) or ENOENT (no such media section)
 */
int sdpr_section(const struct sdpr *sdp, int media, size_t *startp,
		 size_t *endp)
{
	size_t i = 0, start = 0;
	int m = -1;

	if (!sdp || media < SDPR_SESSION)
		return EINVAL;
	for (;; ++i) {
		if (i == sdp->n || sdp->lines[i].type == 'm') {
			if (m == media) {
				*startp = start;
				*endp = i;
				return 0;
			}
			if (i == sdp->n)
				return ENOENT;
			start = i;
			++m;
		}
	}
}


/** End of a section without its trailing blank lines (where to append) */
size_t sdpr_section_tail(const struct sdpr *sdp, size_t start, size_t end)
{
	while (end > start + 1 && sdp->lines[end - 1].type == 0)
		--end;
	return end;
}


/** True if ln is an a= line named name (case-sensitive, RFC 8866 5.13) */
bool sdpr_attr_is(const struct sdpr_line *ln, const char *name)
{
	return ln->type == 'a' && strlen(name) == ln->nlen &&
	       !memcmp(ln->text + 2, name, ln->nlen);
}


/**
 * Format a heap string of at most SDPR_MAX_BODY bytes
 *
 * @return 0, EMSGSIZE or ENOMEM
 */
int sdpr_textf(char **textp, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || n > SDPR_MAX_BODY)
		return EMSGSIZE;
	s = malloc((size_t)n + 1);
	if (!s)
		return ENOMEM;
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	*textp = s;
	return 0;
}
