/**
 * @file sw_rules.h  The dial plan: rule file, matching, routing result.
 *
 * A rule set is loaded from its own INI file (conf/rules.conf documents
 * the format), checked against the zones of a struct sw_conf, and is
 * immutable afterwards. It is reference-counted with atomic counts: the
 * SIP thread keeps the current set, a call in progress keeps the set it
 * matched, and a reload swaps in a new set only if it loaded cleanly.
 * The set carries a copy of the zones it was checked against, so a
 * reload of shareway.conf's zones travels with it.
 *
 * sw_rules_route() fills a struct sw_route_result by value: it holds no
 * pointer into the rule set, so it can be stored with the call, copied
 * into a call-log message, or printed by `shareway locate`.
 */
#ifndef SW_RULES_H
#define SW_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sw_conf.h"

#define SW_ROUTE_NAME       64  /* rule and zone names, log tag */
/* R-URI, To, target URI: room for [sip] max_uri_length and what rewrites
 * add; a message or a rewrite that does not fit is refused, never cut */
#define SW_ROUTE_URI        (SW_CONF_MAX_URI + 1)
#define SW_ROUTE_PHRASE     128 /* reject reason phrase */
#define SW_ROUTE_MTYPE      32  /* media type name ("applicationsharing") */
#define SW_ROUTE_MAX_MEDIA  8   /* media.<type> policies in a result */
#define SW_ROUTE_MAX_INPUT_MEDIA 16
#define SW_ROUTE_MAX_CAPS   10  /* $0..$9 */
#define SW_ROUTE_CAP_LEN    128
#define SW_ROUTE_MAX_TRIED  32  /* rules kept in the trace */
#define SW_ROUTE_MAX_STEPS  64  /* conditions kept in the trace */
#define SW_ROUTE_TRACE_TEXT 96  /* each text field of a trace step */

struct sw_rules;

/** What a media.<type> line asks for the matching m= lines */
enum sw_media_policy {
	SW_MP_UNSET = 0,   /* not set by any rule */
	SW_MP_PASSTHROUGH, /* SDP and media untouched */
	SW_MP_RELAY,       /* the gateway's own RFC 6062 relay in the path */
	SW_MP_OBSERVE,     /* the peer is the TURN client; tie its allocs */
	SW_MP_STRIP,       /* remove the m= line (port 0 in the answer) */
	SW_MP_REJECT,      /* refuse the call (488) if the offer has it */
};

enum sw_route_outcome {
	SW_ROUTE_NONE = 0, /* no rule matched, or none gave a target */
	SW_ROUTE_FORWARD,  /* send to target_zone / target_uri */
	SW_ROUTE_REJECT,   /* answer reject_code reject_phrase */
};

/** What a call offers to the rules; every string may be NULL */
struct sw_route_input {
	const char *source_zone; /* zone the request came from, NULL: none */
	const char *source_addr; /* for the trace only ("127.0.0.2:5070") */
	const char *ruri;        /* Request-URI */
	const char *from;        /* From header value, display name and all */
	const char *to;          /* To header value */
	/* value of the first header called name (case-insensitive), or NULL */
	const char *(*header)(void *arg, const char *name);
	void *header_arg;
	const char *media[SW_ROUTE_MAX_INPUT_MEDIA]; /* the offer's m= types */
	unsigned n_media;
};

struct sw_route_media {
	char type[SW_ROUTE_MTYPE];
	enum sw_media_policy policy;
};

/** One condition of one rule as it was tested */
struct sw_route_step {
	uint8_t tried;                      /* index into result.tried[] */
	bool pass;
	char what[48];                      /* "source", "ruri.user", ... */
	char op[8];                         /* "=", "==", "^=", "$=", "=~" */
	char pattern[SW_ROUTE_TRACE_TEXT];  /* as written, may be cut "..." */
	char value[SW_ROUTE_TRACE_TEXT];    /* value tested, "(absent)" */
	char caps[SW_ROUTE_TRACE_TEXT];     /* "$1=123456 $2=x" on a pass */
};

/** One rule that was tried */
struct sw_route_tried {
	char rule[SW_ROUTE_NAME];
	uint32_t priority;
	bool matched; /* all conditions held; its actions applied */
	bool stop;    /* it ended the search (stop or reject) */
	unsigned first_step, n_steps; /* its conditions in result.steps[] */
	char action[192]; /* what it did when matched: "-> sip:x via cms" */
};

/** The routing decision, by value: no pointer into the rule set */
struct sw_route_result {
	enum sw_route_outcome outcome;
	int err;                       /* what sw_rules_route() returned */
	bool matched;                  /* at least one rule applied */
	char source_zone[SW_ROUTE_NAME]; /* the input's, "" for none */
	char rule[SW_ROUTE_NAME];      /* last rule applied ("" if none) */
	uint32_t priority;             /* its priority */
	uint16_t reject_code;          /* 300..699 when outcome is REJECT */
	char reject_phrase[SW_ROUTE_PHRASE];
	char ruri_in[SW_ROUTE_URI];    /* the Request-URI before any rule */
	char ruri[SW_ROUTE_URI];       /* after the applied rewrites */
	char to[SW_ROUTE_URI];         /* To value after the rewrites */
	bool ruri_rewritten, to_rewritten;
	char target_zone[SW_ROUTE_NAME]; /* "" when the target is a URI */
	char target_uri[SW_ROUTE_URI];   /* zone's target ("" if the zone has
					  * none: send to ruri), or literal */
	enum sw_transport transport;     /* zone's, or the URI's ;transport= */
	char log_tag[SW_ROUTE_NAME];
	struct sw_route_media media[SW_ROUTE_MAX_MEDIA];
	unsigned n_media;
	enum sw_media_policy media_default; /* media.default, else [defaults] */
	char captures[SW_ROUTE_MAX_CAPS][SW_ROUTE_CAP_LEN]; /* $0..$9 */
	unsigned n_captures;          /* of the last rule applied */
	struct sw_route_tried tried[SW_ROUTE_MAX_TRIED];
	unsigned n_tried;
	struct sw_route_step steps[SW_ROUTE_MAX_STEPS];
	unsigned n_steps;
	bool trace_truncated;         /* more rules/conditions than fit */
};

int sw_rules_load(struct sw_rules **rp, const char *path,
		  const struct sw_conf *conf, char *err, size_t errsz);
int sw_rules_load_buf(struct sw_rules **rp, const char *name,
		      const char *buf, size_t len, const struct sw_conf *conf,
		      char *err, size_t errsz);
struct sw_rules *sw_rules_ref(struct sw_rules *r);
void sw_rules_unref(struct sw_rules *r);
const char *sw_rules_target(const struct sw_rules *r, unsigned i,
			    enum sw_transport *tp);
unsigned sw_rules_count(const struct sw_rules *r);
const char *sw_rules_path(const struct sw_rules *r);
const struct sw_zone *sw_rules_zone_find(const struct sw_rules *r,
					 const char *name);
const struct sw_zone *sw_rules_zones(const struct sw_rules *r, unsigned *n);

int sw_rules_route(const struct sw_rules *r, const struct sw_route_input *in,
		   struct sw_route_result *out);

enum sw_media_policy sw_route_media_policy(const struct sw_route_result *res,
					   const char *media_type);
const char *sw_media_policy_name(enum sw_media_policy p);
int sw_media_policy_parse(const char *s, enum sw_media_policy *p);
const char *sw_route_outcome_name(enum sw_route_outcome o);
int sw_route_trace_format(const struct sw_route_result *res, char *buf,
			  size_t sz);
int sw_route_json_format(const struct sw_route_result *res, char *buf,
			 size_t sz);

#endif
