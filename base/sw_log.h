/**
 * @file sw_log.h  One-line, printf-checked logging for every module.
 *
 * Each .c file defines SW_LOG_MODULE before including this header; every
 * line carries level, module and (by convention) a bracketed context tag:
 *   WARN turn [alloc 192.0.2.1:50000/tcp] refresh rejected: lifetime 7200 > max 3600
 * The relay data path never logs per packet above DEBUG.
 */
#ifndef SW_LOG_H
#define SW_LOG_H

#include <stdbool.h>

enum sw_log_level {
	SW_LOG_ERROR = 0,
	SW_LOG_WARN,
	SW_LOG_NOTICE,
	SW_LOG_INFO,
	SW_LOG_DEBUG,
};

#ifndef SW_LOG_MODULE
#define SW_LOG_MODULE "sw"
#endif

void sw_log_init(enum sw_log_level level, bool use_syslog, const char *ident);
void sw_log_set_level(enum sw_log_level level);
enum sw_log_level sw_log_get_level(void);
int sw_log_level_parse(const char *s, enum sw_log_level *lvl);
const char *sw_log_level_name(enum sw_log_level level);

/*
 * Levels per module. A module (the SW_LOG_MODULE of its files) follows
 * the global level until it is given one of its own, at start and reload
 * ([log] modules) or at run time (`shareway log-level MODULE LEVEL`).
 * The names are fixed (sw_log_module_name()), so a typo is refused, not
 * silently ignored.
 */
#define SW_LOG_MOD_FOLLOW (-1) /* the module follows the global level */
bool sw_log_enabled_mod(enum sw_log_level level, const char *module);
#define sw_log_enabled(level) sw_log_enabled_mod(level, SW_LOG_MODULE)
unsigned sw_log_module_count(void);
const char *sw_log_module_name(unsigned i);
int sw_log_module_index(const char *name);
int sw_log_module_get(unsigned i); /* a level, or SW_LOG_MOD_FOLLOW */
void sw_log_module_set(unsigned i, int level);
int sw_log_modules_parse(const char *spec, int levels[], char *err,
			 size_t errsz);
void sw_log_modules_apply(const int levels[]);

/*
 * Where lines go. Under systemd with stderr connected to the journal
 * (JOURNAL_STREAM names stderr's device and inode, systemd.exec(5)) a
 * line carries no timestamp of ours (the journal stamps it) and starts
 * with its syslog priority as "<N>" (sd-daemon(3)), so `journalctl -p`
 * filters by our level.
 */
int sw_log_facility_parse(const char *s, int *facility);
void sw_log_set_facility(int facility);
bool sw_log_journal(void);

void sw_log_write(enum sw_log_level level, const char *module,
		  const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define sw_log(level, ...)                                                    \
	do {                                                                  \
		if (sw_log_enabled(level))                                    \
			sw_log_write(level, SW_LOG_MODULE, __VA_ARGS__);      \
	} while (0)

/**
 * Rate limit of one kind of line (a call site of sw_log_limited()): at most
 * `SW_LOG_RL_BURST` lines a second; the first line after a suppressed run
 * says how many were suppressed. What a hostile sender can trigger at will
 * (a malformed packet, a refused connection, accept() failing) is logged
 * this way, so a flood costs at most a few lines a second per kind.
 */
struct sw_log_rl {
	_Atomic long long sec;     /* CLOCK_MONOTONIC second of the window */
	_Atomic unsigned n;        /* lines written in this window */
	_Atomic unsigned suppressed;
};

#define SW_LOG_RL_BURST 5

bool sw_log_rl_pass(struct sw_log_rl *rl, unsigned burst,
		    unsigned *suppressed);
unsigned long long sw_log_suppressed_total(void);
void sw_log_write_rl(enum sw_log_level level, const char *module,
		     unsigned suppressed, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define sw_log_limited(level, ...)                                            \
	do {                                                                  \
		static struct sw_log_rl rl_;                                  \
		unsigned sup_;                                                \
		if (sw_log_enabled(level) &&                                  \
		    sw_log_rl_pass(&rl_, SW_LOG_RL_BURST, &sup_))             \
			sw_log_write_rl(level, SW_LOG_MODULE, sup_,           \
					__VA_ARGS__);                         \
	} while (0)

#define sw_error(...)  sw_log(SW_LOG_ERROR, __VA_ARGS__)
#define sw_warn(...)   sw_log(SW_LOG_WARN, __VA_ARGS__)
#define sw_notice(...) sw_log(SW_LOG_NOTICE, __VA_ARGS__)
#define sw_info(...)   sw_log(SW_LOG_INFO, __VA_ARGS__)
#define sw_debug(...)  sw_log(SW_LOG_DEBUG, __VA_ARGS__)

#endif
