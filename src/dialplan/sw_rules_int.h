/**
 * @file sw_rules_int.h  The rule set's internals, shared by sw_rules.c
 * (loader) and sw_route.c (matcher, trace). Not for other modules.
 */
#ifndef SW_RULES_INT_H
#define SW_RULES_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <pcre2.h>

#include "sw_rules.h"

#define RULES_MAX        1024
#define RULE_MAX_CONDS   16
#define RULE_MAX_SOURCES 8
#define COND_MAX_MTYPES  8
#define PRIORITY_MAX     65535
#define STRIP_MAX        64
/* a pathological regex against hostile input ends as a failed test */
#define RE_MATCH_LIMIT   100000
#define RE_DEPTH_LIMIT   5000
#define RE_HEAP_LIMIT    4096 /* KiB */

#define ARRN(a) (sizeof(a) / sizeof((a)[0]))

enum pat_type {
	PT_EXACT = 0,
	PT_PREFIX,
	PT_SUFFIX,
	PT_REGEX,
};

/* ruri, from and to each come as (whole, .user, .host): keep the order */
enum field {
	F_RURI = 0,
	F_RURI_USER,
	F_RURI_HOST,
	F_FROM,
	F_FROM_USER,
	F_FROM_HOST,
	F_TO,
	F_TO_USER,
	F_TO_HOST,
	F_HEADER,
	F_MEDIA,
};

struct mtype_want {
	char type[SW_ROUTE_MTYPE];
	bool neg; /* "!type": the offer must not have it */
};

struct cond {
	enum field field;
	char what[48];   /* name in the trace: "ruri.user", "header.X-A" */
	enum pat_type type;
	char *pattern;   /* owned: as written */
	pcre2_code *re;  /* owned: PT_REGEX only */
	uint32_t ngroups;
	struct mtype_want mt[COND_MAX_MTYPES]; /* F_MEDIA only */
	unsigned n_mt;
	unsigned line;
};

enum user_op {
	UO_NONE = 0,
	UO_STRIP,
	UO_PREFIX,
	UO_SUFFIX,
	UO_REPLACE,
};

struct tpl {
	char *text;    /* owned; NULL when the rule has none */
	unsigned line;
	int maxref;    /* highest $n it uses, -1 for none */
};

enum {
	ON_UNSET = 0,
	ON_STOP,
	ON_CONTINUE,
};

struct rule {
	char name[SW_ROUTE_NAME];
	unsigned line;     /* of its [rule NAME] header */
	unsigned order;    /* position in the file, for priority ties */
	uint32_t priority;
	int on_match;      /* ON_*; ON_UNSET takes [defaults] */
	char sources[RULE_MAX_SOURCES][SW_ROUTE_NAME]; /* none: any */
	unsigned n_sources;
	struct cond conds[RULE_MAX_CONDS];
	unsigned n_conds;
	int last_re;       /* index of the last regex condition, -1 */
	struct tpl rw_ruri, rw_to, rw_user;
	enum user_op uop;
	unsigned ustrip;
	bool has_target;
	char target_zone[SW_ROUTE_NAME];
	char target_uri[SW_ROUTE_URI];
	enum sw_transport transport;
	uint16_t reject_code;
	char reject_phrase[SW_ROUTE_PHRASE];
	struct sw_route_media media[SW_ROUTE_MAX_MEDIA];
	unsigned n_media;
	enum sw_media_policy media_default;
	char log_tag[SW_ROUTE_NAME];
	uint32_t seen;     /* one bit per rule_keys[] row: no duplicates */
};

/** An immutable rule set; refs is the only field written after load */
struct sw_rules {
	atomic_uint refs;
	char path[SW_CONF_PATH];
	struct rule *rules; /* sorted by priority, then file order */
	unsigned n, cap;
	uint32_t max_groups;
	int def_on_match;
	enum sw_media_policy def_media;
	pcre2_match_context *mctx;
	struct sw_zone *zones; /* the zones it was checked against (a copy) */
	unsigned n_zones;
};


static inline bool sw_rules_printable(const char *s)
{
	for (; *s; ++s)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

#endif
