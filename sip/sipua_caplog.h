/**
 * @file sipua_caplog.h  Sofia's transport log back into SIP messages.
 *
 * With TPTAG_LOG(1), Sofia's tport_log_msg() prints every message it
 * sends or receives through su_log(), one su_log() call per piece (see
 * sipua_caplog.c). This parser takes those pieces, formatted, one at a
 * time and gives back each whole message with what the log says about
 * it. It includes no Sofia header and keeps no global state: the SIP
 * adapter (sipua_cap.c) feeds it, the unit tests and fuzzers too.
 */
#ifndef SIPUA_CAPLOG_H
#define SIPUA_CAPLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sw_conf.h"

/** What the log says about one message, and when it was seen */
struct sipua_caplog_meta {
	int64_t t_us;         /* CLOCK_REALTIME when it was logged */
	bool received;        /* from the peer, else sent to it */
	enum sw_transport tp;
	struct sw_sa peer;
};

/** The parser's state; zero it to start, sipua_caplog_reset() to free */
struct sipua_caplog {
	bool in_msg;          /* between a stamp and its end line */
	bool at_bol;          /* the next piece starts a line */
	bool in_body;         /* the empty line has been seen */
	bool skip;            /* the message cannot be kept: drop it */
	struct sipua_caplog_meta meta;
	size_t wire_len;      /* the stamp's byte count */
	char *buf;            /* the message, heap, grows to the largest */
	size_t len, size;
	size_t line_off;      /* where the current line starts */
	size_t body_off;      /* where the body starts (in_body) */
	unsigned breaks, body_breaks;
	uint64_t n_msgs;      /* messages rebuilt */
	uint64_t n_inexact;   /* ... whose length differs from the stamp's */
	uint64_t n_skipped;   /* messages dropped (size, transport, memory) */
};

enum sipua_caplog_res {
	SIPUA_CAPLOG_OTHER = 0, /* not the transport log: pass it on */
	SIPUA_CAPLOG_TAKEN,     /* a piece of a message */
	SIPUA_CAPLOG_MSG,       /* a message is whole: buf, len and meta */
};

/** A stretch of a message's bytes (one of Sofia's buffers) */
struct sipua_caplog_part {
	const void *p;
	size_t n;
};

enum sipua_caplog_res sipua_caplog_whole(struct sipua_caplog *cl,
					 const struct sipua_caplog_meta *meta,
					 bool known_tp,
					 const struct sipua_caplog_part *parts,
					 size_t n_parts);
enum sipua_caplog_res sipua_caplog_piece(struct sipua_caplog *cl,
					 const char *s, size_t n, bool cut);
bool sipua_caplog_text(struct sipua_caplog *cl, const char *a, size_t na,
		       const char *b, size_t nb);
void sipua_caplog_reset(struct sipua_caplog *cl);
bool sipua_caplog_call_id(const char *m, size_t len, size_t *offp,
			  size_t *lenp);
bool sipua_caplog_tag(const char *m, size_t len, bool to, size_t *offp,
		      size_t *lenp);

#endif
