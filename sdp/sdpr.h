/**
 * @file sdpr.h  SDP text -> model -> text, ICE candidates, multipart bodies.
 *
 * A pure SDP model (libc only): sdpr_parse() keeps every line of a body, in
 * order, with its exact line ending, so sdpr_print() of an unedited model
 * gives the input byte for byte. Edits rewrite only the lines they touch,
 * in canonical form and with the body's line-ending style (that of its
 * first line); untouched lines stay byte-identical.
 *
 * Levels: functions that take `int media` accept a media index (0 for the
 * first m= section, in body order) and, where noted, SDPR_SESSION for the
 * session part (the lines before the first m=).
 *
 * Candidates are understood in two forms (enum sdpr_cform): Microsoft
 * ICE-19 / MS-ICE2, where the transport token carries the TCP direction
 * (`TCP-ACT`, `TCP-PASS`, `TCP-SO`), and RFC 5245/6544 (`TCP` + `tcptype`).
 * MS-ICE v1 (OC2007) lines are recognised and left alone, a malformed
 * candidate is kept verbatim and flagged; neither makes a body unparseable.
 *
 * Pointers returned by the getters point into the model and stay valid
 * until the model is edited or freed. Nothing here logs; errors come back
 * as errno values, parse errors with a line number and a reason.
 *
 * Typical use (the completion re-INVITE of app sharing):
 *
 *	err = sdpr_parse(&sdp, body, len, &perr);
 *	err = sdpr_media_find(sdp, "applicationsharing", 0, &m);
 *	err = sdpr_ice_complete(sdp, m, local, 2, remote, 2);
 *	err = sdpr_print(sdp, &out, &outlen);
 *	sdpr_free(sdp);
 */
#ifndef SDPR_H
#define SDPR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Largest body sdpr_parse() accepts, in bytes */
#define SDPR_MAX_BODY 65536
/** Most lines a model holds (parsed or added by edits) */
#define SDPR_MAX_LINES 1024
/** Largest multipart body sdpr_multipart_reduce() accepts, in bytes */
#define SDPR_MAX_MULTIPART (4 * SDPR_MAX_BODY)
/** Level argument meaning "the session part" */
#define SDPR_SESSION (-1)

/** Sizes of the text fields of a candidate, NUL included */
#define SDPR_FOUNDATION_SIZE 33
#define SDPR_ADDR_SIZE 64
#define SDPR_EXT_SIZE 256

/** Microsoft type preferences (RFC 5245 4.1.2.2 recommended values) */
#define SDPR_MS_TYPEPREF_HOST 126
#define SDPR_MS_TYPEPREF_PRFLX 110
#define SDPR_MS_TYPEPREF_SRFLX 100
#define SDPR_MS_TYPEPREF_RELAY 0

struct sdpr;

/** Why a parse failed: 1-based line number (0: the body as a whole) */
struct sdpr_err {
	unsigned line;
	char reason[128];
};

/** Candidate transport, normalised from both forms */
enum sdpr_transport {
	SDPR_TP_UDP = 0,
	SDPR_TP_TCP_ACT,
	SDPR_TP_TCP_PASS,
	SDPR_TP_TCP_SO,
};

/** Candidate type (`typ` token) */
enum sdpr_ctype {
	SDPR_CT_HOST = 0,
	SDPR_CT_SRFLX,
	SDPR_CT_PRFLX,
	SDPR_CT_RELAY,
};

/** Form a candidate is written in. UDP candidates parse as
 *  SDPR_FORM_RFC; both forms print UDP alike. */
enum sdpr_cform {
	SDPR_FORM_MS = 0, /**< `TCP-ACT|TCP-PASS|TCP-SO`, no tcptype */
	SDPR_FORM_RFC,    /**< `TCP` + `tcptype active|passive|so` */
};

/** Class of a candidate line of the model */
enum sdpr_ckind {
	SDPR_CAND_ICE = 0, /**< ICE-19 / RFC 5245: sdpr_cand_get() parses it */
	SDPR_CAND_ICEV1,   /**< MS-ICE v1 (draft-6): kept verbatim */
	SDPR_CAND_BAD,     /**< malformed: kept verbatim, flagged */
};

/** One ICE candidate (`a=candidate:` or `a=x-candidate-ipv6:`) */
struct sdpr_cand {
	char foundation[SDPR_FOUNDATION_SIZE]; /**< 1-32 ice-chars */
	unsigned component;                    /**< 1..256 */
	enum sdpr_transport transport;
	enum sdpr_cform form;
	bool ipv6attr;     /**< written as a=x-candidate-ipv6 (MS-SDPEXT) */
	uint32_t priority;
	char addr[SDPR_ADDR_SIZE];
	uint16_t port;
	enum sdpr_ctype type;
	bool has_raddr;
	char raddr[SDPR_ADDR_SIZE];
	bool has_rport;
	uint16_t rport;
	char ext[SDPR_EXT_SIZE]; /**< other "name value" pairs, in order,
				      single-space separated, or "" */
};

/** One entry of a=remote-candidates (RFC 5245 15.2) */
struct sdpr_remcand {
	unsigned component;
	char addr[SDPR_ADDR_SIZE];
	uint16_t port;
};


/*
 * Every function below is documented in full (@param, @return) where it
 * is defined; the one-line summaries here are the API at a glance.
 * Errors are errno values: EINVAL bad argument, ENOENT no such section /
 * line / attribute, EBADMSG malformed text, EMSGSIZE over a limit,
 * ERANGE buffer too small or value out of range, ENOMEM.
 */

/* ---- model: parse, print, copy, free (sdpr.c) ---- */

/** Parse a body (len bytes, no NUL needed) into a new model; on EBADMSG
 *  or EMSGSIZE, err (optional) has the 1-based line and the reason */
int sdpr_parse(struct sdpr **sdpp, const char *body, size_t len,
	       struct sdpr_err *err);
/** Print the model into a NUL-terminated heap string (free() it);
 *  an unedited model prints its input byte for byte */
int sdpr_print(const struct sdpr *sdp, char **bodyp, size_t *lenp);
/** Deep-copy a model */
int sdpr_dup(struct sdpr **dupp, const struct sdpr *sdp);
/** Free a model (NULL is ignored) */
void sdpr_free(struct sdpr *sdp);
/** Number of lines, blank ones included */
unsigned sdpr_line_count(const struct sdpr *sdp);

/* ---- media sections (sdpr_edit.c) ---- */

/** Number of m= sections */
unsigned sdpr_media_count(const struct sdpr *sdp);
/** Media type of a section ("applicationsharing"), NULL if none */
const char *sdpr_media_type(const struct sdpr *sdp, int media);
/** All media types in order, comma-separated ("audio,video") */
int sdpr_media_types(const struct sdpr *sdp, char *buf, size_t size);
/** Index of the first section of a type (case-insensitive) >= start */
int sdpr_media_find(const struct sdpr *sdp, const char *type,
		    unsigned start, int *mediap);
/** Port of a section's m= line */
int sdpr_media_port(const struct sdpr *sdp, int media, uint16_t *portp);
/** Protocol of a section ("TCP/RTP/AVP"), NULL if none */
const char *sdpr_media_proto(const struct sdpr *sdp, int media);
/** Format list of a section, single-spaced ("0 8 101"), NULL if none */
const char *sdpr_media_fmt(const struct sdpr *sdp, int media);
/** Rewrite a section's m= port (a "/<n>" port count is kept) */
int sdpr_media_set_port(struct sdpr *sdp, int media, uint16_t port);
/** Rewrite a section's m= protocol */
int sdpr_media_set_proto(struct sdpr *sdp, int media, const char *proto);

/* ---- c= and o= (sdpr_edit.c) ---- */

/** c= address that applies to a section (its own, else the session's);
 *  SDPR_SESSION: the session's */
int sdpr_conn_get(const struct sdpr *sdp, int media, const char **addrp);
/** Set the c= address of exactly one level (rewrite or add the line;
 *  IP6 when addr has a ':') */
int sdpr_conn_set(struct sdpr *sdp, int media, const char *addr);
/** Session version of o= */
int sdpr_origin_version(const struct sdpr *sdp, uint64_t *verp);
/** Set the session version of o= */
int sdpr_origin_set_version(struct sdpr *sdp, uint64_t ver);
/** Increment the session version of o= (ERANGE at UINT64_MAX) */
int sdpr_origin_bump(struct sdpr *sdp);

/* ---- a= attributes, any level (sdpr_edit.c) ---- */

/** Number of a=<name> lines of a level */
unsigned sdpr_attr_count(const struct sdpr *sdp, int media,
			 const char *name);
/** Value after ':' of the nth a=<name> of a level; "" for a=<name>
 *  without value; NULL if none */
const char *sdpr_attr_get(const struct sdpr *sdp, int media,
			  const char *name, unsigned nth);
/** Add a=<name>[:<value>] after the last a= of a level (value NULL:
 *  property attribute) */
int sdpr_attr_add(struct sdpr *sdp, int media, const char *name,
		  const char *value);
/** Rewrite the nth a=<name> of a level in place */
int sdpr_attr_replace(struct sdpr *sdp, int media, const char *name,
		      unsigned nth, const char *value);
/** Rewrite the first a=<name> of a level, or add it */
int sdpr_attr_set(struct sdpr *sdp, int media, const char *name,
		  const char *value);
/** Remove every a=<name> of a level (ENOENT if there was none) */
int sdpr_attr_remove(struct sdpr *sdp, int media, const char *name);
/** a=ice-ufrag of a section, else of the session, blanks trimmed */
int sdpr_ice_ufrag(const struct sdpr *sdp, int media, char *buf,
		   size_t size);
/** a=ice-pwd of a section, else of the session, blanks trimmed */
int sdpr_ice_pwd(const struct sdpr *sdp, int media, char *buf, size_t size);

/* ---- candidate lines of a section (sdpr_ice.c) ----
 * Candidate lines are a section's a=candidate and a=x-candidate-ipv6
 * lines of every class, numbered from 0 in body order. */

/** Number of candidate lines of a section */
unsigned sdpr_cand_count(const struct sdpr *sdp, int media);
/** Class of candidate line i (SDPR_CAND_BAD also if there is none) */
enum sdpr_ckind sdpr_cand_kind(const struct sdpr *sdp, int media,
			       unsigned i);
/** Text of candidate line i as in the model ("a=candidate:..."), or NULL */
const char *sdpr_cand_text(const struct sdpr *sdp, int media, unsigned i);
/** Parse candidate line i: 0, EPROTO (MS-ICE v1), EBADMSG, ENOENT */
int sdpr_cand_get(const struct sdpr *sdp, int media, unsigned i,
		  struct sdpr_cand *c);
/** Number of malformed (flagged) candidate lines in the whole body */
unsigned sdpr_cand_nbad(const struct sdpr *sdp);
/** Add a candidate after the section's last candidate line (else after
 *  a=ice-ufrag/ice-pwd, else after its last a=) */
int sdpr_cand_add(struct sdpr *sdp, int media, const struct sdpr_cand *c);
/** Rewrite candidate line i (kept as is if c equals its parse) */
int sdpr_cand_replace(struct sdpr *sdp, int media, unsigned i,
		      const struct sdpr_cand *c);
/** Remove candidate line i */
int sdpr_cand_remove(struct sdpr *sdp, int media, unsigned i);
/** Read a=remote-candidates of a section into v[0..max) */
int sdpr_remcand_get(const struct sdpr *sdp, int media,
		     struct sdpr_remcand *v, size_t max, size_t *np);
/** Set a=remote-candidates of a section, sorted by component; n == 0
 *  removes it */
int sdpr_remcand_set(struct sdpr *sdp, int media,
		     const struct sdpr_remcand *v, size_t n);
/** Make a section the updated offer that ends ICE (RFC 5245 9.1.2.2):
 *  only the local candidates, m=/c= (and a=rtcp) to them, remote as
 *  a=remote-candidates, o= version + 1; all or nothing */
int sdpr_ice_complete(struct sdpr *sdp, int media,
		      const struct sdpr_cand *local, size_t nlocal,
		      const struct sdpr_remcand *remote, size_t nremote);

/* ---- candidate syntax, no model (sdpr_cand.c) ---- */

/** Parse a candidate line or value: 0, EPROTO (MS-ICE v1), EBADMSG
 *  (*reasonp, optional, says why) */
int sdpr_cand_parse(struct sdpr_cand *c, const char *s, const char **reasonp);
/** Print a candidate line (no line ending) in the form c->form */
int sdpr_cand_print(const struct sdpr_cand *c, char *buf, size_t size);
/** True if two candidates are field-by-field equal */
bool sdpr_cand_equal(const struct sdpr_cand *a, const struct sdpr_cand *b);
/** True if a candidate line or value is MS-ICE v1 (OC2007) */
bool sdpr_cand_is_icev1(const char *s);
/** Parse a=remote-candidates (line or value) into v[0..max) */
int sdpr_remcand_parse(struct sdpr_remcand *v, size_t max, size_t *np,
		       const char *s);
/** Print an a=remote-candidates line, entries in the given order */
int sdpr_remcand_print(const struct sdpr_remcand *v, size_t n, char *buf,
		       size_t size);
/** Priority with Microsoft's local-preference layout (type_pref 0..126,
 *  other 0..511); TCP-PASS relay: 6553855 (comp 1), 6553854 (comp 2).
 *  Both lines of one TCP candidate carry component 1's: pass 1 for them */
int sdpr_ms_priority(uint32_t *priop, unsigned type_pref,
		     enum sdpr_transport tp, unsigned component,
		     unsigned other);
/** Transport token: "UDP", "TCP-ACT"... (Microsoft), "TCP" (RFC) */
const char *sdpr_transport_name(enum sdpr_transport tp,
				enum sdpr_cform form);
/** Candidate type token: "host", "srflx", "prflx", "relay" */
const char *sdpr_ctype_name(enum sdpr_ctype type);

/* ---- multipart bodies (sdpr_multipart.c) ---- */

/** Point at the SDP of a body: all of an application/sdp body, or the
 *  first application/sdp part of a multipart body whose
 *  Content-Disposition lacks ms-proxy-2007fallback (the ICE-19 offer) */
int sdpr_multipart_reduce(const char *ctype, const char *body, size_t len,
			  const char **partp, size_t *partlenp,
			  struct sdpr_err *err);

#endif
