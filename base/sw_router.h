/**
 * @file sw_router.h  Where a call goes: what the B2BUA asks, what it is
 * told, and whom it asks.
 *
 * sip/ routes every new INVITE at one point of its call model (after the
 * request is validated and its zone matched, before leg B exists), but
 * it knows no rule file: it asks a router, a table of operations on an
 * opaque plan (struct sw_router), and acts on the decision, a value
 * (struct sw_route_result) of which a call keeps a compact copy (struct
 * sw_route_kept) for its life. The dial plan (sw_rules.h) is the router
 * sharewayd installs: sw_rules_router over a struct sw_rules.
 * The values live here, below both, because sip/ acts on them, the dial
 * plan fills them, the call log records them and the CLI prints them.
 *
 * A plan is immutable and reference-counted: the SIP thread keeps the
 * current one, a call in progress the one it was routed by, and with it
 * the zones that plan carries (a reload brings new zones with new rules).
 */
#ifndef SW_ROUTER_H
#define SW_ROUTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sw_mpolicy.h"
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

/**
 * The routing decision, by value: no pointer into the rule set. It is
 * large (the trace: ~40 KB), so it is a scratch to route into and read
 * at once, not something to keep: sip/ routes into one per SIP thread,
 * hands it to the call observer (which puts the trace into the call
 * log), and keeps a struct sw_route_kept with the call. The scalars and
 * short strings come first: sw_route_result_reset() zeroes only those and
 * empties the long strings; the trace arrays are valid up to their counts.
 */
struct sw_route_result {
	enum sw_route_outcome outcome;
	int err;                       /* what sw_rules_route() returned */
	bool matched;                  /* at least one rule applied */
	bool ruri_rewritten, to_rewritten;
	bool trace_truncated;          /* more rules/conditions than fit */
	uint32_t priority;             /* the last applied rule's */
	uint16_t reject_code;          /* 300..699 when outcome is REJECT */
	enum sw_transport transport;   /* zone's, or the URI's ;transport= */
	enum sw_media_policy media_default; /* media.default, else [defaults] */
	unsigned n_media;
	unsigned n_captures;           /* of the last rule applied */
	unsigned n_tried, n_steps;
	char source_zone[SW_ROUTE_NAME]; /* the input's, "" for none */
	char rule[SW_ROUTE_NAME];      /* last rule applied ("" if none) */
	char reject_phrase[SW_ROUTE_PHRASE];
	char target_zone[SW_ROUTE_NAME]; /* "" when the target is a URI */
	char log_tag[SW_ROUTE_NAME];
	struct sw_route_media media[SW_ROUTE_MAX_MEDIA];
	/* read up to their NUL only (reset empties them) */
	char ruri_in[SW_ROUTE_URI];    /* the Request-URI before any rule */
	char ruri[SW_ROUTE_URI];       /* after the applied rewrites */
	char to[SW_ROUTE_URI];         /* To value after the rewrites */
	char target_uri[SW_ROUTE_URI];   /* zone's target ("" if the zone has
					  * none: send to ruri), or literal */
	/* read up to their counts only */
	char captures[SW_ROUTE_MAX_CAPS][SW_ROUTE_CAP_LEN]; /* $0..$9 */
	struct sw_route_tried tried[SW_ROUTE_MAX_TRIED];
	struct sw_route_step steps[SW_ROUTE_MAX_STEPS];
};

/**
 * What a call keeps of the decision for its life (sw_route_keep()): the
 * fields the B2BUA and the glue read after routing, ~100 bytes plus the
 * strings' lengths, in one block. The trace is not in it: it goes to the
 * call log while the whole result is at hand. Strings are never NULL
 * ("" for none).
 */
struct sw_route_kept {
	enum sw_route_outcome outcome;
	enum sw_transport transport;
	enum sw_media_policy media_default;
	unsigned n_media;
	const struct sw_route_media *media;
	const char *rule;        /* last rule applied, "" if none */
	const char *ruri_in;     /* the Request-URI before any rule */
	const char *ruri;        /* after the rewrites: leg B's */
	const char *to;          /* the rewritten To value, "" if no rule
				  * rewrote it */
	const char *target_zone; /* "" when the target is a URI */
	const char *target_uri;  /* the target now: a zone's peer list
				  * replaces it with the peer chosen */
};

/**
 * A router: operations on its plan, an object sip/ never looks into.
 * All run on the caller's thread; a plan is read-only once made, so
 * route() may run anywhere.
 */
struct sw_router {
	/* take and drop a reference (the plan is freed at the last) */
	void *(*ref)(void *plan);
	void (*unref)(void *plan);
	/* the zones the plan was checked against, *n their number */
	const struct sw_zone *(*zones)(const void *plan, unsigned *n);
	/* the i-th target URI the plan may send to ("" for none) and its
	 * transport, NULL past the last: the names among them are kept
	 * resolved */
	const char *(*target)(const void *plan, unsigned i,
			      enum sw_transport *tp);
	/* decide: 0, or an errno value (ERANGE: a value or a rewrite that
	 * does not fit the result) */
	int (*route)(const void *plan, const struct sw_route_input *in,
		     struct sw_route_result *out);
};

void sw_route_result_reset(struct sw_route_result *res);
enum sw_media_policy sw_route_media_policy(const struct sw_route_result *res,
					   const char *media_type);
size_t sw_route_keep_size(const struct sw_route_result *res);
struct sw_route_kept *sw_route_keep(const struct sw_route_result *res,
				    void *mem, size_t size);
enum sw_media_policy sw_route_kept_policy(const struct sw_route_kept *k,
					  const char *media_type);

#endif
