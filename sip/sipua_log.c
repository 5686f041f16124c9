/**
 * @file sipua_log.c  Sofia-SIP's own diagnostics through the project's
 * logger: its format, its level, its rate limit.
 *
 * Sofia writes its diagnostics (SU_DEBUG_n, su_llog()) to stderr by
 * default, one fprintf per piece, whatever a peer makes it say: a fuzz run
 * gave 19,830 "nta_agent: tport: Connection reset by peer" lines, and an
 * accept() failing with EMFILE on a level-triggered listener gave 70,000
 * lines a second. Every Sofia log object without a logger of its own
 * (tport, nta, nua, sresolv, iptsec, soa...: all of them) falls back to
 * su_log_default's logger (su_vllog()), so one su_log_redirect() of
 * su_log_default takes them all. [calllog] capture_sip chains in front of
 * this logger (sipua_cap.c) and passes on what is not a SIP message.
 *
 * Pieces are joined into lines. A line goes out at WARN as
 *   WARN   sofia nta_agent: tport: Connection reset by peer
 * rate-limited per kind, a kind being Sofia's call site: the format string
 * of the line's first piece (a string literal, so its address names the
 * call site). Continuation lines (Sofia starts them with a tab, e.g.
 * "\treported by [..]" after an ICMP error) only add detail to the line
 * before: DEBUG. A would-block reported as an error (EAGAIN from accept()
 * when the connection waiting was gone, or refused by sipua_conn.c) is no
 * error: DEBUG too.
 *
 * Which lines Sofia emits at all stays Sofia's choice (level 3 and below by
 * default; SOFIA_DEBUG, TPORT_DEBUG... raise it for a debugging session):
 * the logger callback is not told a line's level, so every line that
 * passes is logged at WARN, and only at DEBUG when an environment variable
 * asked Sofia for more than its errors.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SW_LOG_MODULE "sofia"
#include "sw_log.h"
#include "sipua_int.h"

#include <sofia-sip/su_log.h>

#define SLOG_LINE 1024   /* one joined line; longer ones are cut */
#define SLOG_KINDS 64    /* call sites with a rate limit of their own */

/** The line being joined from Sofia's pieces (one per thread) */
struct slog_line {
	char buf[SLOG_LINE];
	size_t len;
	const void *kind; /* format string of the first piece */
	bool cut;
};

static _Thread_local struct slog_line slog_cur;

/** Rate limits by call site: open addressing on the format's address;
 *  when the table is full, the last slot serves every other kind */
static struct {
	_Atomic(const void *) key;
	struct sw_log_rl rl;
} slog_kinds[SLOG_KINDS];

static bool slog_verbose; /* an environment variable asked for more */


static struct sw_log_rl *slog_rl(const void *kind)
{
	size_t h = ((size_t)kind >> 4) % (SLOG_KINDS - 1);

	for (unsigned i = 0; i < SLOG_KINDS - 1; ++i) {
		size_t j = (h + i) % (SLOG_KINDS - 1);
		const void *k = atomic_load(&slog_kinds[j].key);

		if (k == kind)
			return &slog_kinds[j].rl;
		if (!k && atomic_compare_exchange_strong(&slog_kinds[j].key,
							 &k, kind))
			return &slog_kinds[j].rl;
		if (k == kind)
			return &slog_kinds[j].rl;
	}
	return &slog_kinds[SLOG_KINDS - 1].rl;
}


/* Level of one complete line */
static enum sw_log_level slog_level(const char *s)
{
	if (slog_verbose || *s == '\t' || *s == ' ')
		return SW_LOG_DEBUG;
	if (strstr(s, ": Resource temporarily unavailable"))
		return SW_LOG_DEBUG;
	return SW_LOG_WARN;
}


static void slog_flush(struct slog_line *l)
{
	enum sw_log_level lvl;
	unsigned sup;
	size_t n = l->len;

	while (n && (l->buf[n - 1] == '\n' || l->buf[n - 1] == '\r'))
		--n;
	l->buf[n] = '\0';
	if (n) {
		lvl = slog_level(l->buf);
		if (sw_log_enabled(lvl) &&
		    sw_log_rl_pass(slog_rl(l->kind), SW_LOG_RL_BURST, &sup))
			sw_log_write_rl(lvl, SW_LOG_MODULE, sup, "%s%s",
					l->buf, l->cut ? " [cut]" : "");
	}
	l->len = 0;
	l->kind = NULL;
	l->cut = false;
}


/**
 * su_log_default's logger: a piece of Sofia's output (printf format).
 * Lines end at '\n'; a piece may hold several, or part of one.
 */
__attribute__((format(printf, 2, 0)))
void sipua_log_piece(void *stream, char const *fmt, va_list ap)
{
	struct slog_line *l = &slog_cur;
	char piece[SLOG_LINE];
	const char *p, *nl;
	int n;

	(void)stream;
	n = vsnprintf(piece, sizeof(piece), fmt, ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(piece))
		n = sizeof(piece) - 1;
	for (p = piece; p < piece + n; p = nl + 1) {
		size_t k;

		nl = memchr(p, '\n', (size_t)(piece + n - p));
		k = (size_t)((nl ? nl : piece + n) - p);
		if (!l->kind)
			l->kind = fmt;
		if (k > sizeof(l->buf) - 1 - l->len) {
			k = sizeof(l->buf) - 1 - l->len;
			l->cut = true;
		}
		memcpy(l->buf + l->len, p, k);
		l->len += k;
		if (!nl)
			break;
		slog_flush(l);
	}
}


static bool env_set(const char *name)
{
	const char *v = getenv(name);

	return v && *v;
}


/**
 * Send Sofia's diagnostics to the project's logger (idempotent; process
 * wide, like su_log_default; stays for the life of the process, since
 * Sofia may log until su_deinit())
 */
void sipua_log_redirect(void)
{
	static const char *const envs[] = {
		"SOFIA_DEBUG", "SU_DEBUG",  "TPORT_DEBUG", "NTA_DEBUG",
		"NUA_DEBUG",   "SOA_DEBUG", "SRESOLV_DEBUG", "IPTSEC_DEBUG",
	};

	if (su_log_default->log_logger == sipua_log_piece)
		return;
	for (size_t i = 0; i < sizeof(envs) / sizeof(envs[0]); ++i)
		slog_verbose |= env_set(envs[i]);
	su_log_redirect(su_log_default, sipua_log_piece, NULL);
}
