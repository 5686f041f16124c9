/**
 * @file sw_log.c  Logging to stderr (with UTC timestamps) or syslog.
 *
 * Thread-safe: each line is formatted into a local buffer and written with
 * one write(2), so lines from the SIP, relay and writer threads never
 * interleave.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <stdatomic.h>

#include "sw_log.h"

static atomic_int log_level = SW_LOG_INFO;
static atomic_ullong log_suppressed;
static bool log_syslog;

static const char *const level_names[] = {"ERROR", "WARN", "NOTICE", "INFO",
					  "DEBUG"};


void sw_log_init(enum sw_log_level level, bool use_syslog, const char *ident)
{
	atomic_store(&log_level, (int)level);
	log_syslog = use_syslog;
	if (use_syslog)
		openlog(ident ? ident : "sharewayd", LOG_PID | LOG_NDELAY,
			LOG_DAEMON);
}


void sw_log_set_level(enum sw_log_level level)
{
	atomic_store(&log_level, (int)level);
}


enum sw_log_level sw_log_get_level(void)
{
	return (enum sw_log_level)atomic_load(&log_level);
}


bool sw_log_enabled(enum sw_log_level level)
{
	return (int)level <= atomic_load_explicit(&log_level,
						  memory_order_relaxed);
}


const char *sw_log_level_name(enum sw_log_level level)
{
	if ((unsigned)level > SW_LOG_DEBUG)
		return "?";
	return level_names[level];
}


/**
 * Parse a level name (error, warn, notice, info, debug)
 *
 * @return 0 or EINVAL
 */
int sw_log_level_parse(const char *s, enum sw_log_level *lvl)
{
	for (unsigned i = 0; i <= SW_LOG_DEBUG; ++i) {
		if (!strcasecmp(s, level_names[i])) {
			*lvl = (enum sw_log_level)i;
			return 0;
		}
	}
	if (!strcasecmp(s, "warning")) {
		*lvl = SW_LOG_WARN;
		return 0;
	}
	return 22; /* EINVAL */
}


static void log_vwrite(enum sw_log_level level, const char *module,
		       unsigned suppressed, const char *fmt, va_list ap)
{
	static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO,
				   LOG_DEBUG};
	char buf[2048];
	size_t n = 0;

	if (!log_syslog) {
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, ".%03ldZ ",
				      ts.tv_nsec / 1000000);
	}
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%-6s %-5s ",
			      sw_log_level_name(level), module);
	if (n < sizeof(buf))
		n += (size_t)vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
	if (suppressed && n < sizeof(buf))
		n += (size_t)snprintf(buf + n, sizeof(buf) - n,
				      " (%u similar lines suppressed)",
				      suppressed);
	if (n >= sizeof(buf) - 1)
		n = sizeof(buf) - 2;

	if (log_syslog) {
		buf[n] = '\0';
		syslog(prio[level], "%s", buf);
		return;
	}
	buf[n++] = '\n';
	if (write(STDERR_FILENO, buf, n) < 0)
		return;
}


void sw_log_write(enum sw_log_level level, const char *module,
		  const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(level, module, 0, fmt, ap);
	va_end(ap);
}


void sw_log_write_rl(enum sw_log_level level, const char *module,
		     unsigned suppressed, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(level, module, suppressed, fmt, ap);
	va_end(ap);
}


/**
 * Whether one more line of this kind may be written now. Lock-free: any
 * thread may log any kind. A new one-second window starts with the line
 * that finds the old one over; that line takes the count of what the old
 * windows suppressed.
 *
 * @return true to write the line; *suppressed: lines suppressed before it
 */
bool sw_log_rl_pass(struct sw_log_rl *rl, unsigned burst,
		    unsigned *suppressed)
{
	struct timespec ts;
	long long now, sec;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	now = (long long)ts.tv_sec;
	sec = atomic_load_explicit(&rl->sec, memory_order_relaxed);
	*suppressed = 0;
	if (sec != now &&
	    atomic_compare_exchange_strong(&rl->sec, &sec, now)) {
		atomic_store(&rl->n, 0);
		*suppressed = atomic_exchange(&rl->suppressed, 0);
	}
	if (atomic_fetch_add(&rl->n, 1) < burst)
		return true;
	atomic_fetch_add_explicit(&rl->suppressed, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&log_suppressed, 1, memory_order_relaxed);
	return false;
}


/** Lines suppressed by rate limits since start (for status and metrics). */
unsigned long long sw_log_suppressed_total(void)
{
	return atomic_load_explicit(&log_suppressed, memory_order_relaxed);
}
