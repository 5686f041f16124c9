/**
 * @file sdpr_int.h  Internals shared by the sdp/ files: the line model and
 * its primitives (insert, replace, remove), tokens and number parsing.
 */
#ifndef SDPR_INT_H
#define SDPR_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sdpr.h"

/** Line ending of one line as it was read */
enum sdpr_eol {
	SDPR_EOL_NONE = 0, /* last line of a body without a final newline */
	SDPR_EOL_LF,
	SDPR_EOL_CRLF,
};

/** Class of an a= line, computed once when the line is (re)set */
enum sdpr_akind {
	SDPR_ATTR_OTHER = 0,
	SDPR_ATTR_CAND,   /* a=candidate or a=x-candidate-ipv6 */
};

/** One line of a body. The text and tok of a parsed line are in the
 *  model's arena; those of a line an edit made (own) are its own. */
struct sdpr_line {
	char *text;          /* without its ending, NUL-terminated */
	size_t len;          /* strlen(text) */
	enum sdpr_eol eol;
	char type;           /* 'a'..'z', or 0 for a blank line */
	bool own;            /* text and tok are heap strings of the line */
	/* a= lines: the name is text + 2, nlen bytes long; val is the text
	 * after the first ':' or NULL for a property attribute */
	size_t nlen;
	const char *val;
	enum sdpr_akind akind;
	/* candidate lines are parsed when first asked about, once: cknown
	 * says ckind is set, cidx (1-based) names the parse kept in the
	 * model's cands when ckind is SDPR_CAND_ICE (0: not kept) */
	bool cknown;
	enum sdpr_ckind ckind;
	unsigned cidx;
	/* o= c= m= lines: fields point into tok, a tokenised copy */
	char *tok;
	union {
		struct {
			const char *user, *id, *nettype, *addrtype, *addr;
			uint64_t ver;
		} o;
		struct {
			const char *nettype, *addrtype, *addr;
		} c;
		struct {
			const char *type, *proto, *fmt;
			uint16_t port;
			unsigned nports; /* 0: no "/<n>" */
		} m;
	} u;
};

/** The model: lines in body order, owned. A parse allocates three
 *  blocks (the model, its lines, the arena with a copy of the body and
 *  of its tokenised lines) instead of two per line. The candidate parses
 *  kept are filled in by the getters of a const model too (a model is
 *  used by one thread at a time, as every object of the daemon). */
struct sdpr {
	struct sdpr_line *lines;
	size_t n, cap;
	char *arena;
	struct sdpr_cand *cands;
	size_t ncands, capcands;
	enum sdpr_eol eol;   /* ending of edited and added lines */
	bool no_final_eol;   /* the body did not end with a newline */
};

/* sdpr.c */
int sdpr_line_setup(struct sdpr_line *ln, bool in_media,
		    struct sdpr_err *err);
int sdpr_line_insert(struct sdpr *sdp, size_t pos, const char *text);
int sdpr_line_replace(struct sdpr *sdp, size_t pos, const char *text);
void sdpr_line_remove(struct sdpr *sdp, size_t pos);
int sdpr_section(const struct sdpr *sdp, int media, size_t *startp,
		 size_t *endp);
size_t sdpr_section_tail(const struct sdpr *sdp, size_t start, size_t end);
bool sdpr_attr_is(const struct sdpr_line *ln, const char *name);
int sdpr_dec_u64(const char *s, size_t len, uint64_t max, uint64_t *vp);
size_t sdpr_tokens(char *s, char **tok, size_t max);
bool sdpr_text_valid(const char *s);
int sdpr_textf(char **textp, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* sdpr_cand.c */
bool sdpr_addr_valid(const char *addr);

/* sdpr_ice.c */
enum sdpr_ckind sdpr_line_ckind(const struct sdpr *sdp, size_t pos,
				struct sdpr_cand *c);

/* sdpr_edit.c */
int sdpr_media_line(const struct sdpr *sdp, int media, size_t *posp);
size_t sdpr_attr_insert_pos(const struct sdpr *sdp, size_t start,
			    size_t end);

#endif
