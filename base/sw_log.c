/**
 * @file sw_log.c  Logging to stderr (with UTC timestamps), to the journal
 * through stderr, or to syslog; one level per module, changed at run time.
 *
 * Thread-safe: each line is formatted into a local buffer and written with
 * one write(2), so lines from the SIP, relay and writer threads never
 * interleave. The levels are relaxed atomics: a debug line that no module
 * wants costs one load and one compare (log_max), whatever the module.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <stdatomic.h>

#include "sw_log.h"

static atomic_int log_level = SW_LOG_INFO;
static atomic_int log_max = SW_LOG_INFO; /* the most verbose level in force */
static atomic_ullong log_suppressed;
static bool log_syslog;
static bool log_journal;  /* stderr is the journal's stream */
static int log_facility = LOG_DAEMON;

static const char *const level_names[] = {"ERROR", "WARN", "NOTICE", "INFO",
					  "DEBUG"};

/* Every SW_LOG_MODULE of the tree (tests/integration/75-observe.sh
 * checks the list against the sources) */
static const char *const mod_names[] = {
	"main", "gw", "sip", "sofia", "turn", "relay", "clog", "ctl",
	"dns", "rules", "appshare", "metrics", "hep", "cluster",
};
#define N_MODS (sizeof(mod_names) / sizeof(mod_names[0]))
static atomic_int mod_level[N_MODS] = {
	[0 ... N_MODS - 1] = SW_LOG_MOD_FOLLOW,
};


static void max_update(void)
{
	int m = atomic_load(&log_level);

	for (unsigned i = 0; i < N_MODS; ++i) {
		int l = atomic_load(&mod_level[i]);

		if (l > m)
			m = l;
	}
	atomic_store(&log_max, m);
}


/* JOURNAL_STREAM is "DEV:INODE" of the stream systemd connected; it is
 * inherited by children whose stderr went elsewhere, so it counts only
 * when it is still stderr (systemd.exec(5)) */
static bool stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 ||
	    fstat(STDERR_FILENO, &st))
		return false;
	return (unsigned long long)st.st_dev == dev &&
	       (unsigned long long)st.st_ino == ino;
}


void sw_log_init(enum sw_log_level level, bool use_syslog, const char *ident)
{
	atomic_store(&log_level, (int)level);
	max_update();
	log_syslog = use_syslog;
	log_journal = !use_syslog && stderr_is_journal();
	if (use_syslog)
		openlog(ident ? ident : "sharewayd", LOG_PID | LOG_NDELAY,
			log_facility);
}


bool sw_log_journal(void)
{
	return log_journal;
}


void sw_log_set_level(enum sw_log_level level)
{
	atomic_store(&log_level, (int)level);
	max_update();
}


enum sw_log_level sw_log_get_level(void)
{
	return (enum sw_log_level)atomic_load(&log_level);
}


int sw_log_module_index(const char *name)
{
	for (unsigned i = 0; name && i < N_MODS; ++i)
		if (!strcmp(name, mod_names[i]))
			return (int)i;
	return -1;
}


bool sw_log_enabled_mod(enum sw_log_level level, const char *module)
{
	int i, l;

	if ((int)level > atomic_load_explicit(&log_max, memory_order_relaxed))
		return false;
	i = sw_log_module_index(module);
	l = i < 0 ? SW_LOG_MOD_FOLLOW
		  : atomic_load_explicit(&mod_level[i], memory_order_relaxed);
	if (l == SW_LOG_MOD_FOLLOW)
		l = atomic_load_explicit(&log_level, memory_order_relaxed);
	return (int)level <= l;
}


unsigned sw_log_module_count(void)
{
	return N_MODS;
}


const char *sw_log_module_name(unsigned i)
{
	return i < N_MODS ? mod_names[i] : NULL;
}


int sw_log_module_get(unsigned i)
{
	return i < N_MODS ? atomic_load(&mod_level[i]) : SW_LOG_MOD_FOLLOW;
}


void sw_log_module_set(unsigned i, int level)
{
	if (i >= N_MODS)
		return;
	atomic_store(&mod_level[i], level);
	max_update();
}


/**
 * Parse "[log] modules": MODULE=LEVEL pairs separated by spaces or
 * commas (LEVEL may be "default": follow the global level). levels[]
 * (sw_log_module_count() entries) gets SW_LOG_MOD_FOLLOW for every
 * module not named.
 *
 * @return 0 or EINVAL (err says which pair)
 */
int sw_log_modules_parse(const char *spec, int levels[], char *err,
			 size_t errsz)
{
	const char *p = spec ? spec : "";

	for (unsigned i = 0; i < N_MODS; ++i)
		levels[i] = SW_LOG_MOD_FOLLOW;
	while (*p) {
		char mod[32], lvl[32];
		enum sw_log_level l;
		size_t n = strcspn(p, " ,\t");
		const char *eq = memchr(p, '=', n);
		int i;

		if (!n) {
			++p;
			continue;
		}
		if (!eq || (size_t)(eq - p) >= sizeof(mod) ||
		    n - (size_t)(eq - p) - 1 >= sizeof(lvl)) {
			snprintf(err, errsz, "'%.*s' is not MODULE=LEVEL",
				 (int)n, p);
			return 22; /* EINVAL */
		}
		snprintf(mod, sizeof(mod), "%.*s", (int)(eq - p), p);
		snprintf(lvl, sizeof(lvl), "%.*s", (int)(n - (size_t)(eq - p) - 1),
			 eq + 1);
		i = sw_log_module_index(mod);
		if (i < 0) {
			size_t k = (size_t)snprintf(err, errsz,
						    "no module '%s' (one of",
						    mod);

			for (unsigned j = 0; j < N_MODS && k < errsz; ++j)
				k += (size_t)snprintf(err + k, errsz - k,
						      " %s", mod_names[j]);
			if (k < errsz)
				snprintf(err + k, errsz - k, ")");
			return 22;
		}
		if (!strcasecmp(lvl, "default"))
			levels[i] = SW_LOG_MOD_FOLLOW;
		else if (!sw_log_level_parse(lvl, &l))
			levels[i] = (int)l;
		else {
			snprintf(err, errsz, "'%s' is not error|warn|notice|"
				 "info|debug|default", lvl);
			return 22;
		}
		p += n;
	}
	return 0;
}


void sw_log_modules_apply(const int levels[])
{
	for (unsigned i = 0; i < N_MODS; ++i)
		atomic_store(&mod_level[i], levels[i]);
	max_update();
}


/**
 * Parse a syslog facility name: daemon, user, local0 ... local7
 *
 * @return 0 or EINVAL
 */
int sw_log_facility_parse(const char *s, int *facility)
{
	static const struct {
		const char *name;
		int fac;
	} tab[] = {
		{"daemon", LOG_DAEMON}, {"user", LOG_USER},
		{"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1},
		{"local2", LOG_LOCAL2}, {"local3", LOG_LOCAL3},
		{"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5},
		{"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7},
	};

	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); ++i)
		if (!strcasecmp(s, tab[i].name)) {
			*facility = tab[i].fac;
			return 0;
		}
	return 22; /* EINVAL */
}


/** The facility of syslog lines; takes effect at the next sw_log_init */
void sw_log_set_facility(int facility)
{
	log_facility = facility;
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

	if (log_journal) /* the journal stamps the line itself */
		n = (size_t)snprintf(buf, sizeof(buf), "<%d>", prio[level]);
	else if (!log_syslog) {
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
