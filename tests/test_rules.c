/**
 * @file test_rules.c  The dial plan (sw_rules, sw_route) and sw_uri.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "unit.h"
#include "sw_conf.h"
#include "sw_rules.h"
#include "sw_uri.h"

static struct sw_conf conf;
static struct sw_route_result res;
static char err[1024];


static void zone_add(const char *name, const char *target,
		     enum sw_transport tp)
{
	struct sw_zone *z = &conf.zones[conf.n_zones++];

	memset(z, 0, sizeof(*z));
	snprintf(z->name, sizeof(z->name), "%s", name);
	snprintf(z->target, sizeof(z->target), "%s", target);
	z->transport = tp;
}


static int suite_init(void)
{
	sw_conf_defaults(&conf);
	conf.n_zones = 0;
	zone_add("edge", "sip:sfbedge.contoso.com:5061;transport=tls",
		 SW_TP_TLS);
	zone_add("cms", "sip:cms.example.local:5061;transport=tls", SW_TP_TLS);
	zone_add("lab", "", SW_TP_UDP);
	return 0;
}


static struct sw_rules *load(const char *text)
{
	struct sw_rules *r = NULL;
	int e;

	e = sw_rules_load_buf(&r, "t.rules", text, strlen(text), &conf, err,
			      sizeof(err));
	if (e)
		fprintf(stderr, "\nunexpected load error: %s\n", err);
	CU_ASSERT_EQUAL(e, 0);
	return r;
}


/* the load fails and the message contains want */
static void load_fails(const char *text, const char *want)
{
	struct sw_rules *r = (struct sw_rules *)&conf; /* must stay as is */
	int e;

	err[0] = '\0';
	e = sw_rules_load_buf(&r, "t.rules", text, strlen(text), &conf, err,
			      sizeof(err));
	CU_ASSERT_EQUAL(e, EINVAL);
	CU_ASSERT_PTR_EQUAL(r, (struct sw_rules *)&conf);
	if (!strstr(err, want)) {
		fprintf(stderr, "\nerror '%s'\n lacks '%s'\n", err, want);
		CU_FAIL("error message");
	}
}


static struct sw_route_input input(const char *zone, const char *ruri)
{
	struct sw_route_input in;

	memset(&in, 0, sizeof(in));
	in.source_zone = zone;
	in.ruri = ruri;
	return in;
}


static int route(const struct sw_rules *r, const struct sw_route_input *in)
{
	return sw_rules_route(r, in, &res);
}


UNIT_TEST(test_shipped_rules, "shipped rules.conf")
{
	static struct sw_conf sc;
	struct sw_route_input in = input("edge", "sip:alice@127.0.0.1");
	struct sw_rules *r = NULL;
	char path[512];

	snprintf(path, sizeof(path), "%s/../../conf/shareway.conf",
		 unit_data_dir());
	CU_ASSERT_FATAL(sw_conf_load(&sc, path, err, sizeof(err)) == 0);
	CU_ASSERT_EQUAL_FATAL(sw_rules_load(&r, sc.rules_file, &sc, err,
					    sizeof(err)), 0);
	CU_ASSERT_EQUAL(sw_rules_count(r), 2);
	in.media[in.n_media++] = "audio";
	in.media[in.n_media++] = "applicationsharing";
	CU_ASSERT_EQUAL(route(r, &in), 0);
	CU_ASSERT_EQUAL(res.outcome, SW_ROUTE_FORWARD);
	CU_ASSERT_STRING_EQUAL(res.rule, "edge-to-cms");
	CU_ASSERT_STRING_EQUAL(res.ruri, "sip:alice@127.0.0.3:5080");
	CU_ASSERT_STRING_EQUAL(res.target_zone, "cms");
	CU_ASSERT_EQUAL(sw_route_media_policy(&res, "applicationsharing"),
			SW_MP_RELAY);
	CU_ASSERT_EQUAL(sw_route_media_policy(&res, "audio"),
			SW_MP_PASSTHROUGH);
	in.source_zone = "cms";
	CU_ASSERT_EQUAL(route(r, &in), 0);
	CU_ASSERT_STRING_EQUAL(res.rule, "cms-to-edge");
	CU_ASSERT_STRING_EQUAL(res.ruri, "sip:alice@127.0.0.2:5070");
	CU_ASSERT_STRING_EQUAL(res.target_zone, "edge");
	CU_ASSERT_EQUAL(sw_route_media_policy(&res, "applicationsharing"),
			SW_MP_RELAY);
	sw_rules_unref(r);
}


UNIT_TEST(test_load_errors, "load errors name file:line")
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{"[rule a]\npriority = 1\nfoo = 1\n",
		 "t.rules:3:foo: unknown key"},
		{"[rule a]\npriority = 1\nmatch.ruri = regex ^(sip\n",
		 "t.rules:3:match.ruri: bad regex at offset 5: missing "
		 "closing parenthesis"},
		{"[rule a]\npriority = 1\nsource = nowhere\n",
		 "t.rules:3:source: unknown zone 'nowhere' (shareway.conf "
		 "has: edge cms lab)"},
		{"[rule a]\npriority = 1\ntarget = elsewhere\n",
		 "t.rules:3:target: unknown zone 'elsewhere'"},
		{"[rule a]\npriority = 1\n[rule b]\npriority = 2\n[rule a]\n",
		 "t.rules:5: duplicate rule name 'a' (line 1)"},
		{"[rule a]\npriority = 1\naction = reject 200 OK\n",
		 "t.rules:3:action: '200' is not a code 300..699"},
		{"[rule a]\npriority = 1\naction = reject 7000 Big\n",
		 "t.rules:3:action: '7000 Big': the code is 3 digits"},
		{"[rule a]\npriority = 1\naction = refuse 403\n",
		 "t.rules:3:action: expected 'reject <code> [<phrase>]'"},
		{"[rule a]\nsource = any\n\n[rule b]\npriority = 1\n",
		 "t.rules:1: rule 'a' has no priority"},
		{"[rule a]\npriority = 1\nmatch.ruri = regex ^sip:(.*)@\n"
		 "rewrite.ruri = sip:$2@x\n",
		 "t.rules:4:rewrite.ruri: uses $2 but the last regex of rule "
		 "'a' (match.ruri, line 3) has 1 group(s)"},
		{"[rule a]\npriority = 1\nrewrite.to = <sip:$1@x>\n"
		 "match.ruri.user = prefix 8\n",
		 "t.rules:3:rewrite.to: uses $1 but rule 'a' has no regex"},
		{"[rule a]\npriority = 1\nmatch.ruri = ^sip:\n",
		 "t.rules:3:match.ruri: write the pattern type first"},
		{"[rule a]\npriority = 1\nmedia.audio = bounce\n",
		 "t.rules:3:media.audio: 'bounce' is not passthrough"},
		{"[rule a]\npriority = 1\ntarget = cms\n"
		 "action = reject 403 No\n",
		 "t.rules:1: rule 'a': action = reject and target exclude"},
		{"[rule a]\npriority = 1\non_match = continue\n"
		 "action = reject 403 No\n",
		 "t.rules:1: rule 'a': a reject rule always stops"},
		{"priority = 1\n", "t.rules:1:priority: key outside a section"},
		{"[zone edge]\n", "t.rules:1: unknown section [zone]"},
		{"[rule a]\npriority = 1\npriority = 2\n",
		 "t.rules:3:priority: duplicate key"},
		{"[rule a]\npriority = 1\nmatch.ruri = exact x\n"
		 "match.RURI = exact y\n",
		 "t.rules:4:match.RURI: unknown key"},
		{"[rule a]\npriority = 1\nmatch.ruri = exact x\n"
		 "match.ruri = exact y\n",
		 "t.rules:4:match.ruri: duplicate condition (line 3)"},
		{"[rule a]\npriority = 1\nrewrite.ruri = sip:$user@x\n",
		 "t.rules:3:rewrite.ruri: '$' must be followed by a digit"},
		{"[defaults]\nmedia.audio = relay\n",
		 "t.rules:2:media.audio: unknown key in [defaults]"},
		{"[defaults]\n[defaults]\n", "t.rules:2: second [defaults]"},
		{"[rule a]\npriority = 70000\n",
		 "t.rules:2:priority: '70000' is not a number 0..65535"},
		{"[rule a b]\npriority = 1\n", "t.rules:1: [rule NAME]: NAME"},
		{"[rule a]\npriority = 1\nsource = edge any\n",
		 "t.rules:3:source: 'any' cannot be listed with zone names"},
		{"[rule a]\npriority = 1\ntarget = http://x\n",
		 "t.rules:3:target: 'http://x' is neither a zone nor a sip:"},
		{"[rule a]\npriority = 1\ntarget = sip:x;transport=sctp\n",
		 "t.rules:3:target: unknown transport 'sctp'"},
		{"[rule a]\npriority = 1\nmatch.media = audio !\n",
		 "t.rules:3:match.media: '!' is not a media type"},
		{"[rule a]\npriority = 1\nrewrite.ruri.user = strip 0\n",
		 "t.rules:3:rewrite.ruri.user: strip takes a count 1..64"},
		{"[rule a]\npriority = 1\nrewrite.ruri.user = prefix a@b\n",
		 "t.rules:3:rewrite.ruri.user: 'a@b' cannot be part of a URI "
		 "user"},
		{"[rule a]\npriority = 1\nrewrite.to = Bob\n",
		 "t.rules:3:rewrite.to: 'Bob' is not a To value"},
		{"[rule a]\npriority = 1\nmatch.header.X(1) = exact y\n",
		 "t.rules:3:match.header.X(1): bad header name 'X(1)'"},
		{"[rule a]\npriority = 1\non_match = maybe\n",
		 "t.rules:3:on_match: 'maybe' is not stop or continue"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i)
		load_fails(cases[i].text, cases[i].want);
}


UNIT_TEST(test_load_file_errors, "load file errors")
{
	struct sw_rules *r = NULL;
	char path[512];

	snprintf(path, sizeof(path), "%s/rules/bad-regex.rules",
		 unit_data_dir());
	CU_ASSERT_EQUAL(sw_rules_load(&r, path, &conf, err, sizeof(err)),
			EINVAL);
	CU_ASSERT_PTR_NULL(r);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "bad-regex.rules:7:match.from: "
					   "bad regex at offset"));
	CU_ASSERT_EQUAL(sw_rules_load(&r, "/nonexistent/x.rules", &conf, err,
				      sizeof(err)),
			ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent/x.rules"));
	CU_ASSERT_EQUAL(sw_rules_load(&r, path, NULL, err, sizeof(err)),
			EINVAL);
	CU_ASSERT_PTR_NULL(r);
}


UNIT_TEST(test_priority_ties, "priority and file order")
{
	struct sw_rules *r = load(
		"[defaults]\non_match = continue\n"
		"[rule late]\npriority = 20\nlog.tag = late\n"
		"[rule first]\npriority = 10\nlog.tag = first\n"
		"[rule second]\npriority = 10\nlog.tag = second\n"
		"[rule zero]\npriority = 0\nlog.tag = zero\n");
	struct sw_route_input in = input("edge", "sip:a@b");

	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT_EQUAL(route(r, &in), 0);
	CU_ASSERT_EQUAL_FATAL(res.n_tried, 4);
	CU_ASSERT_STRING_EQUAL(res.tried[0].rule, "zero");
	CU_ASSERT_STRING_EQUAL(res.tried[1].rule, "first");
	CU_ASSERT_STRING_EQUAL(res.tried[2].rule, "second");
	CU_ASSERT_STRING_EQUAL(res.tried[3].rule, "late");
	/* all continue, none set a target: no route, last tag wins */
	CU_ASSERT_EQUAL(res.outcome, SW_ROUTE_NONE);
	CU_ASSERT(res.matched);
	CU_ASSERT_STRING_EQUAL(res.rule, "late");
	CU_ASSERT_STRING_EQUAL(res.log_tag, "late");
	sw_rules_unref(r);
}


UNIT_TEST(test_continue_then_stop, "continue then stop")
{
	struct sw_rules *r = load(
		"[rule strip-plus]\npriority = 1\non_match = continue\n"
		"match.ruri.user = prefix +\nrewrite.ruri.user = strip 1\n"
		"media.applicationsharing = observe\nlog.tag = norm\n"
		"[rule plus-only]\npriority = 2\nmatch.ruri.user = prefix +\n"
		"target = lab\n"
		"[rule to-cms]\npriority = 3\nmatch.ruri = regex ^sip:(44\\d+)@\n"
		"target = cms\nmedia.applicationsharing = relay\n"
		"[rule never]\npriority = 4\ntarget = edge\n");
	struct sw_route_input in = input("edge", "sip:+4420@gw.example");

	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT_EQUAL(route(r, &in), 0);
	CU_ASSERT_EQUAL(res.outcome, SW_ROUTE_FORWARD);
	CU_ASSERT_STRING_EQUAL(res.rule, "to-cms");
	CU_ASSERT_STRING_EQUAL(res.ruri_in, "sip:+4420@gw.example");
	CU_ASSERT_STRING_EQUAL(res.ruri, "sip:4420@gw.example");
	CU_ASSERT(res.ruri_rewritten);
	CU_ASSERT_STRING_EQUAL(res.target_zone, "cms");
	CU_ASSERT_STRING_EQUAL(res.target_uri,
			       "sip:cms.example.local:5061;transport=tls");
	CU_ASSERT_EQUAL(res.transport, SW_TP_TLS);
	CU_ASSERT_STRING_EQUAL(res.log_tag, "norm"); /* kept from continue */
	CU_ASSERT_EQUAL(sw_route_media_policy(&res, "applicationsharing"),
			SW_MP_RELAY);
	CU_ASSERT_STRING_EQUAL(res.captures[1], "4420");
	CU_ASSERT_EQUAL(res.n_tried, 3); /* "never" was not tried */
	CU_ASSERT(res.tried[0].matched && !res.tried[0].stop);
	CU_ASSERT(!res.tried[1].matched);
	CU_ASSERT(res.tried[2].matched && res.tried[2].stop);
	sw_rules_unref(r);
}


UNIT_TEST(test_continue_sets_target, "continue sets target")
{
	struct sw_rules *r = load(
		"[rule default-target]\npriority = 1\non_match = continue\n"
		"target = sip:fallback.example;transport=tcp\n"
		"[rule only-8]\npriority = 2\nmatch.ruri.user = prefix 8\n"
		"target = cms\n");
	struct sw_route_input in = input("edge", "sip:123@x");

	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT_EQUAL(route(r, &in), 0);
	CU_ASSERT_EQUAL(res.outcome, SW_ROUTE_FORWARD);
	CU_ASSERT_STRING_EQUAL(res.rule, "default-target");
	CU_ASSERT_STRING_EQUAL(res.target_zone, "");
	CU_ASSERT_STRING_EQUAL(res.target_uri,
			       "sip:fallback.example;transport=tcp");
	CU_ASSERT_EQUAL(res.transport, SW_TP_TCP);
	in.ruri = "sip:812@x";
	CU_ASSERT_EQUAL(route(r, &in), 0);
	CU_ASSERT_STRING_EQUAL(res.rule, "only-8");
	CU_ASSERT_STRING_EQUAL(res.target_zone, "cms");
	sw_rules_unref(r);
}


/* one rule per pattern type and field; returns the rule that matched */
static const char *which(const struct sw_rules *r,
			 const struct sw_route_input *in)
{
	CU_ASSERT_EQUAL(route(r, in), 0);
	return res.outcome == SW_ROUTE_FORWARD ? res.rule : "-";
}


UNIT_TEST(test_pattern_types, "pattern types")
{
	struct sw_rules *r = load(
		"[rule ex]\npriority = 1\nmatch.ruri.user = exact 100\n"
		"target = cms\n"
		"[rule pre]\npriority = 2\nmatch.ruri.user = prefix 2\n"
		"target = cms\n"
		"[rule suf]\npriority = 3\nmatch.ruri.host = suffix .meet.example\n"
		"target = cms\n"
		"[rule fromuser]\npriority = 4\nmatch.from.user = exact boss\n"
		"target = cms\n"
		"[rule fromhost]\npriority = 5\n"
		"match.from.host = regex (?i)^contoso\\.com$\ntarget = cms\n"
		"[rule to]\npriority = 6\nmatch.to = exact sip:conf@x\n"
		"target = cms\n"
		"[rule touser]\npriority = 7\nmatch.to.user = suffix -as\n"
		"target = cms\n");
	struct sw_route_input in = input("edge", "sip:100@a");

	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT_STRING_EQUAL(which(r, &in), "ex");
	in.ruri = "sip:1000@a";
	CU_ASSERT_STRING_EQUAL(which(r, &in), "-");
	in.ruri = "sip:2x@a";
	CU_ASSERT_STRING_EQUAL(which(r, &in), "pre");
	in.ruri = "sip:x@eu.meet.example;transport=tls";
	CU_ASSERT_STRING_EQUAL(which(r, &in), "suf");
	in.ruri = "sip:x@meet.example"; /* suffix needs the dot */
	CU_ASSERT_STRING_EQUAL(which(r, &in), "-");
	in.from = "\"The Boss\" <sip:boss@y>;tag=1";
	CU_ASSERT_STRING_EQUAL(which(r, &in), "fromuser");
	in.from = "<sip:bob@CONTOSO.com>;tag=1";
	CU_ASSERT_STRING_EQUAL(which(r, &in), "fromhost");
	in.from = NULL;
	in.to = "Conf <sip:conf@x>;tag=abc";
	CU_ASSERT_STRING_EQUAL(which(r, &in), "to");
	in.to = "sip:room-as@x;tag=abc";
	CU_ASSERT_STRING_EQUAL(which(r, &in), "touser");
	in.to = "sip:room-AS@x";
	CU_ASSERT_STRING_EQUAL(which(r, &in), "-");
	sw_rules_unref(r);
}


UNIT_TEST(test_captures_rewrite, "captures in rewrites")
{
	struct sw_rules *r = load(
		"[rule meet]\npriority = 10\nsource = edge\n"
		"match.from = regex @(contoso)\\.com>?$\n"
		"match.ruri = regex ^sip:(\\d{6,10})@meet\\.example\\.com(;.*)?$\n"
		"rewrite.ruri = sip:$1@cms.example.local\n"
		"rewrite.to = \"Meeting $1\" <sip:$1@cms.example.local>\n"
		"target = cms\nlog.tag = $$ appshare\n"
		"[rule money]\npriority = 20\nmatch.ruri = regex ^sip:(x)?y@\n"
		"rewrite.ruri = sip:$$$1$0z@h\ntarget = cms\n");
	struct sw_route_input in = input("edge", "sip:123456@meet.example.com");

	CU_ASSERT_FATAL(r != NULL);
	in.from = "\"Alice\" <sip:alice@contoso.com>;tag=x";
	in.to = "<sip:123456@meet.example.com>";
	CU_ASSERT_EQUAL(route(r, &in), 0);
	CU_ASSERT_EQUAL(res.outcome, SW_ROUTE_FORWARD);
	CU_ASSERT_STRING_EQUAL(res.ruri, "sip:123456@cms.example.local");
	CU_ASSERT_STRING_EQUAL(res.to,
			       "\"Meeting 123456\" <sip:123456@cms.example.local>");
	CU_ASSERT(res.to_rewritten);
	/* captures of the last regex (ruri), not of match.from */
	CU_ASSERT_EQUAL(res.n_captures, 3);
	CU_ASSERT_STRING_EQUAL(res.captures[0],
			       "sip:123456@meet.example.com");
	CU_ASSERT_STRING_EQUAL(res.captures[1], "123456");
	CU_ASSERT_STRING_EQUAL(res.captures[2], "");
	CU_ASSERT_STRING_EQUAL(res.log_tag, "$$ appshare"); /* not a template */
	in.source_zone = "cms";
	CU_ASSERT_EQUAL(route(r, &in), 0);
	CU_ASSERT_EQUAL(res.outcome, SW_ROUTE_NONE);
	CU_ASSERT(!res.matched);
	/* an unset group expands to nothing; $$ is a literal $ */
	in.ruri = "sip:y@h";
	CU_ASSERT_EQUAL(route(r, &in), 0);
	CU_ASSERT_STRING_EQUAL(res.ruri, "sip:$sip:y@z@h");
	sw_rules_unref(r);
}


static const char *hdr_cb(void *arg, const char *name)
{
	const char *const *h = arg;

	for (; h[0]; h += 2)
		if (!strcasecmp(h[0], name))
			return h[1];
	return NULL;
}


UNIT_TEST(test_header_match, "header match")
{
	static const char *hdrs[] = {"X-Ms-Conf", "focus-42",
				     "User-Agent", "RTCC/7.0", NULL};
	struct sw_rules *r = load(
		"[rule focus]\npriority = 1\n"
		"match.header.x-ms-conf = regex ^focus-(\\d+)$\n"
		"rewrite.ruri = sip:conf$1@cms\ntarget = cms\n"
		"[rule ua]\npriority = 2\nmatch.header.User-Agent = prefix RTC\n"
		"target = edge\n");
	struct sw_route_input in = input("edge", "sip:a@b");

	CU_ASSERT_FATAL(r != NULL);
	in.header = hdr_cb;
	in.header_arg = hdrs;
	CU_ASSERT_STRING_EQUAL(which(r, &in), "focus");
	CU_ASSERT_STRING_EQUAL(res.ruri, "sip:conf42@cms");
	hdrs[1] = "nofocus";
	CU_ASSERT_STRING_EQUAL(which(r, &in), "ua");
	hdrs[0] = "X-Other";
	hdrs[2] = "Other";
	CU_ASSERT_STRING_EQUAL(which(r, &in), "-");
	CU_ASSERT_STRING_EQUAL(res.steps[0].value, "(absent)");
	in.header = NULL;
	CU_ASSERT_STRING_EQUAL(which(r, &in), "-");
	hdrs[0] = "X-Ms-Conf";
	hdrs[1] = "focus-42";
	hdrs[2] = "User-Agent";
	sw_rules_unref(r);
}


UNIT_TEST(test_media_match, "media match and policies")
{
	struct sw_rules *r = load(
		"[defaults]\nmedia.default = strip\n"
		"[rule as-only]\npriority = 1\nmatch.media = applicationsharing "
		"!video\ntarget = cms\nmedia.applicationsharing = relay\n"
		"media.audio = passthrough\n"
		"[rule av]\npriority = 2\nmatch.media = audio,video\n"
		"target = cms\nmedia.video = reject\nmedia.default = observe\n"
		"[rule rest]\npriority = 3\ntarget = edge\n");
	struct sw_route_input in = input("edge", "sip:a@b");

	CU_ASSERT_FATAL(r != NULL);
	in.media[in.n_media++] = "audio";
	in.media[in.n_media++] = "APPLICATIONSHARING";
	CU_ASSERT_STRING_EQUAL(which(r, &in), "as-only");
	CU_ASSERT_EQUAL(sw_route_media_policy(&res, "applicationsharing"),
			SW_MP_RELAY);
	CU_ASSERT_EQUAL(sw_route_media_policy(&res, "audio"),
			SW_MP_PASSTHROUGH);
	/* [defaults] media.default for a type no rule names */
	CU_ASSERT_EQUAL(sw_route_media_policy(&res, "message"), SW_MP_STRIP);
	in.media[in.n_media++] = "video";
	CU_ASSERT_STRING_EQUAL(which(r, &in), "av");
	CU_ASSERT_EQUAL(sw_route_media_policy(&res, "video"), SW_MP_REJECT);
	CU_ASSERT_EQUAL(sw_route_media_policy(&res, "audio"), SW_MP_OBSERVE);
	CU_ASSERT_EQUAL(res.media_default, SW_MP_OBSERVE);
	in.n_media = 0;
	CU_ASSERT_STRING_EQUAL(which(r, &in), "rest");
	CU_ASSERT_STRING_EQUAL(res.steps[0].value, "(no media)");
	/* nothing set (no media.* line, no media.default), or no result at
	 * all: relay, the gateway's purpose, whatever the case of the type */
	memset(&res, 0, sizeof(res));
	CU_ASSERT_EQUAL(sw_route_media_policy(&res, "applicationsharing"),
			SW_MP_RELAY);
	CU_ASSERT_EQUAL(sw_route_media_policy(&res, "audio"), SW_MP_RELAY);
	CU_ASSERT_EQUAL(sw_route_media_policy(NULL, "applicationsharing"),
			SW_MP_RELAY);
	res.n_media = 1;
	snprintf(res.media[0].type, sizeof(res.media[0].type), "%s",
		 "applicationsharing");
	res.media[0].policy = SW_MP_OBSERVE;
	CU_ASSERT_EQUAL(sw_route_media_policy(&res, "ApplicationSharing"),
			SW_MP_OBSERVE);
	CU_ASSERT_STRING_EQUAL(sw_media_policy_name(SW_MP_OBSERVE), "observe");
	sw_rules_unref(r);
}


/* The registry (base/sw_mpolicy.h): every policy's name turns back into
 * it, what each layer acts on is its traits, and an unknown name (an old
 * call record, a typo) is none */
UNIT_TEST(test_policy_registry, "media policy registry")
{
	static const struct {
		enum sw_media_policy p;
		const char *name;
		unsigned traits;
	} want[] = {
		{SW_MP_PASSTHROUGH, "passthrough", 0},
		{SW_MP_RELAY, "relay", SW_MPF_TURN | SW_MPF_ANCHOR},
		{SW_MP_OBSERVE, "observe", SW_MPF_TURN},
		{SW_MP_STRIP, "strip", SW_MPF_PORT0 | SW_MPF_REMOVE},
		{SW_MP_REJECT, "reject", SW_MPF_PORT0 | SW_MPF_REFUSE},
	};
	enum sw_media_policy p;

	CU_ASSERT_EQUAL(SW_MP_COUNT, 1 + sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); ++i) {
		CU_ASSERT_STRING_EQUAL(sw_media_policy_name(want[i].p),
				       want[i].name);
		CU_ASSERT_EQUAL(sw_media_policy_parse(want[i].name, &p), 0);
		CU_ASSERT_EQUAL(p, want[i].p);
		CU_ASSERT_EQUAL(sw_media_policy_traits(want[i].p),
				want[i].traits);
		CU_ASSERT_EQUAL(sw_media_policy_traits_of(want[i].name),
				want[i].traits);
	}
	CU_ASSERT_STRING_EQUAL(sw_media_policy_name(SW_MP_UNSET), "unset");
	CU_ASSERT_STRING_EQUAL(sw_media_policy_name(SW_MP_COUNT), "?");
	CU_ASSERT_EQUAL(sw_media_policy_parse("unset", &p), EINVAL);
	CU_ASSERT_EQUAL(sw_media_policy_parse("Relay", &p), EINVAL);
	CU_ASSERT_EQUAL(sw_media_policy_traits_of(NULL), 0);
	CU_ASSERT_EQUAL(sw_media_policy_traits_of("mirror"), 0);
	CU_ASSERT_EQUAL(sw_media_policy_traits(SW_MP_COUNT), 0);
	CU_ASSERT_STRING_EQUAL(SW_MEDIA_POLICY_NAMES,
			       "passthrough | relay | observe | strip | "
			       "reject");
}


UNIT_TEST(test_reject, "reject")
{
	struct sw_rules *r = load(
		"[rule block]\npriority = 5\nmatch.from.host = exact evil.example\n"
		"action = reject 403 Forbidden by policy\n"
		"[rule quiet]\npriority = 6\nmatch.ruri.user = exact 0\n"
		"action = reject 480\n"
		"[rule rest]\npriority = 65535\nmatch.ruri = regex .*\n"
		"action = reject 404 No route\n");
	struct sw_route_input in = input(NULL, "sip:x@y");

	CU_ASSERT_FATAL(r != NULL);
	in.from = "<sip:m@evil.example>";
	CU_ASSERT_EQUAL(route(r, &in), 0);
	CU_ASSERT_EQUAL(res.outcome, SW_ROUTE_REJECT);
	CU_ASSERT_EQUAL(res.reject_code, 403);
	CU_ASSERT_STRING_EQUAL(res.reject_phrase, "Forbidden by policy");
	CU_ASSERT_EQUAL(res.n_tried, 1);
	in.from = NULL;
	in.ruri = "sip:0@y";
	CU_ASSERT_EQUAL(route(r, &in), 0);
	CU_ASSERT_EQUAL(res.reject_code, 480);
	CU_ASSERT_STRING_EQUAL(res.reject_phrase, "Rejected");
	in.ruri = "sip:1@y";
	CU_ASSERT_EQUAL(route(r, &in), 0);
	CU_ASSERT_EQUAL(res.outcome, SW_ROUTE_REJECT);
	CU_ASSERT_EQUAL(res.reject_code, 404);
	CU_ASSERT_STRING_EQUAL(res.rule, "rest");
	CU_ASSERT_EQUAL(res.priority, 65535);
	sw_rules_unref(r);
}


UNIT_TEST(test_source, "source zones")
{
	struct sw_rules *r = load(
		"[rule from-edge-or-lab]\npriority = 1\nsource = edge, lab\n"
		"target = cms\n[rule any]\npriority = 2\nsource = any\n"
		"target = lab\n");
	struct sw_route_input in = input("lab", "sip:a@b");

	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT_STRING_EQUAL(which(r, &in), "from-edge-or-lab");
	CU_ASSERT_STRING_EQUAL(res.source_zone, "lab");
	in.source_zone = "cms";
	CU_ASSERT_STRING_EQUAL(which(r, &in), "any");
	/* a zone without a target URI: the B2BUA sends to the R-URI */
	CU_ASSERT_STRING_EQUAL(res.target_uri, "");
	CU_ASSERT_EQUAL(res.transport, SW_TP_UDP);
	in.source_zone = NULL;
	in.source_addr = "192.0.2.1:5060";
	CU_ASSERT_STRING_EQUAL(which(r, &in), "any");
	CU_ASSERT_STRING_EQUAL(res.steps[0].value,
			       "(no zone) from 192.0.2.1:5060");
	sw_rules_unref(r);
}


UNIT_TEST(test_user_rewrite, "rewrite.ruri.user")
{
	static const char *hdrs[] = {"X-U", "a@b", NULL};
	struct sw_rules *r = load(
		"[rule p]\npriority = 1\nmatch.ruri.user = regex ^9(\\d+)$\n"
		"rewrite.ruri.user = prefix +$1-\non_match = continue\n"
		"[rule s]\npriority = 2\nmatch.ruri.user = prefix +\n"
		"rewrite.ruri.user = suffix .ext\ntarget = cms\n"
		"[rule r]\npriority = 3\nmatch.ruri = prefix tel:\n"
		"rewrite.ruri.user = replace 5550100\ntarget = cms\n"
		"[rule n]\npriority = 4\nmatch.ruri.host = exact nouser\n"
		"rewrite.ruri.user = replace conf\ntarget = cms\n"
		"[rule st]\npriority = 5\nmatch.ruri.host = exact strip\n"
		"rewrite.ruri.user = strip 3\ntarget = cms\n"
		"[rule hx]\npriority = 6\nmatch.ruri.host = exact hx\n"
		"match.header.X-U = regex ^(.*)$\n"
		"rewrite.ruri.user = replace $1\ntarget = cms\n");
	struct sw_route_input in = input("edge", "sip:9123@h;user=phone");

	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT_EQUAL(route(r, &in), 0);
	CU_ASSERT_STRING_EQUAL(res.rule, "s");
	CU_ASSERT_STRING_EQUAL(res.ruri, "sip:+123-9123.ext@h;user=phone");
	in.ruri = "tel:5550000;phone-context=x";
	CU_ASSERT_EQUAL(route(r, &in), 0);
	CU_ASSERT_STRING_EQUAL(res.ruri, "tel:5550100;phone-context=x");
	in.ruri = "sip:nouser";
	CU_ASSERT_EQUAL(route(r, &in), 0);
	CU_ASSERT_STRING_EQUAL(res.ruri, "sip:conf@nouser");
	in.ruri = "sip:ab@strip"; /* stripping more than there is */
	CU_ASSERT_EQUAL(route(r, &in), 0);
	CU_ASSERT_STRING_EQUAL(res.ruri, "sip:strip");
	in.ruri = "sip:abcd:pw@strip:5060";
	CU_ASSERT_EQUAL(route(r, &in), 0);
	CU_ASSERT_STRING_EQUAL(res.ruri, "sip:d:pw@strip:5060");
	/* a capture that cannot be a URI user ends the search */
	in.ruri = "sip:x@hx";
	in.header = hdr_cb;
	in.header_arg = hdrs;
	CU_ASSERT_EQUAL(route(r, &in), EINVAL);
	CU_ASSERT_EQUAL(res.outcome, SW_ROUTE_NONE);
	CU_ASSERT_STRING_EQUAL(res.steps[res.n_steps - 1].what,
			       "rewrite.ruri.user");
	CU_ASSERT_STRING_EQUAL(res.ruri, "sip:x@hx");
	sw_rules_unref(r);
}


UNIT_TEST(test_route_errors, "route errors")
{
	static char big[SW_ROUTE_URI + 100];
	struct sw_rules *r = load(
		"[rule grow]\npriority = 1\nmatch.ruri = regex ^(.*)$\n"
		"rewrite.ruri = sip:$1$1$1$1@x\ntarget = cms\n");
	struct sw_route_input in = input("edge", NULL);
	char text[4096];

	CU_ASSERT_FATAL(r != NULL);
	memset(big, 'a', sizeof(big) - 1);
	memcpy(big, "sip:", 4);
	in.ruri = big;
	CU_ASSERT_EQUAL(route(r, &in), ERANGE);
	CU_ASSERT_EQUAL(res.err, ERANGE);
	big[SW_ROUTE_URI / 4 + 10] = '\0'; /* fits, four times it does not */
	CU_ASSERT_EQUAL(route(r, &in), ERANGE);
	CU_ASSERT_EQUAL(res.outcome, SW_ROUTE_NONE);
	CU_ASSERT_EQUAL_FATAL(res.n_steps, 2);
	CU_ASSERT_STRING_EQUAL(res.steps[1].what, "rewrite.ruri");
	CU_ASSERT_STRING_EQUAL(res.steps[1].value, "(result too long)");
	CU_ASSERT_EQUAL(sw_route_trace_format(&res, text, sizeof(text)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "an input or rewrite is too long"));
	/* no R-URI: the ruri conditions fail, nothing crashes */
	in.ruri = NULL;
	CU_ASSERT_EQUAL(route(r, &in), 0);
	CU_ASSERT_STRING_EQUAL(res.steps[0].value, "(absent)");
	CU_ASSERT_EQUAL(sw_rules_route(NULL, &in, &res), EINVAL);
	sw_rules_unref(r);
}


UNIT_TEST(test_regex_limit, "regex match limit")
{
	struct sw_rules *r = load("[rule slow]\npriority = 1\n"
				  "match.ruri.user = regex ^(a+)+$\n"
				  "target = cms\n");
	struct sw_route_input in = input("edge", NULL);
	char uri[128];

	CU_ASSERT_FATAL(r != NULL);
	snprintf(uri, sizeof(uri), "sip:%s!@x",
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	in.ruri = uri;
	CU_ASSERT_EQUAL(route(r, &in), 0);
	CU_ASSERT_EQUAL(res.outcome, SW_ROUTE_NONE);
	CU_ASSERT_PTR_NOT_NULL(strstr(res.steps[0].caps, "limit"));
	sw_rules_unref(r);
}


UNIT_TEST(test_refcount_reload, "refcount and reload")
{
	const char *v1 = "[rule v]\npriority = 1\ntarget = cms\n";
	const char *v2 = "[rule v2]\npriority = 1\ntarget = edge\n";
	struct sw_rules *cur = load(v1), *call, *next = NULL;
	struct sw_route_input in = input("edge", "sip:a@b");

	CU_ASSERT_FATAL(cur != NULL);
	call = sw_rules_ref(cur); /* a call in progress keeps its set */
	CU_ASSERT_PTR_EQUAL(call, cur);
	/* a failed reload leaves the current set alone */
	CU_ASSERT_NOT_EQUAL(sw_rules_load_buf(&next, "v3", "[rule\n", 6, &conf,
					      err, sizeof(err)), 0);
	CU_ASSERT_PTR_NULL(next);
	CU_ASSERT_EQUAL(route(cur, &in), 0);
	CU_ASSERT_STRING_EQUAL(res.rule, "v");
	/* a good one replaces it; the old set lives while the call does */
	next = load(v2);
	CU_ASSERT_FATAL(next != NULL);
	sw_rules_unref(cur);
	cur = next;
	CU_ASSERT_EQUAL(route(cur, &in), 0);
	CU_ASSERT_STRING_EQUAL(res.rule, "v2");
	CU_ASSERT_EQUAL(route(call, &in), 0);
	CU_ASSERT_STRING_EQUAL(res.rule, "v");
	CU_ASSERT_STRING_EQUAL(res.target_zone, "cms");
	/* each set carries the zones it was loaded against: a call keeps
	 * its zone data when a reload changes shareway.conf's zones */
	snprintf(conf.zones[1].target, sizeof(conf.zones[1].target),
		 "sip:cms2.example.local");
	next = load(v1);
	CU_ASSERT_FATAL(next != NULL);
	CU_ASSERT_STRING_EQUAL(sw_rules_zone_find(next, "cms")->target,
			       "sip:cms2.example.local");
	CU_ASSERT_STRING_EQUAL(sw_rules_zone_find(call, "cms")->target,
			       "sip:cms.example.local:5061;transport=tls");
	CU_ASSERT_PTR_NULL(sw_rules_zone_find(call, "nosuch"));
	sw_rules_unref(next);
	snprintf(conf.zones[1].target, sizeof(conf.zones[1].target),
		 "sip:cms.example.local:5061;transport=tls");
	sw_rules_unref(call);
	sw_rules_unref(cur);
	sw_rules_unref(NULL);
	CU_ASSERT_PTR_NULL(sw_rules_ref(NULL));
}


static int lines_fit(const char *text, size_t cols)
{
	for (const char *p = text; *p;) {
		size_t n = strcspn(p, "\n");

		if (n > cols)
			return 0;
		p += n + (p[n] ? 1 : 0);
	}
	return 1;
}


UNIT_TEST(test_trace_format, "trace text and JSON")
{
	struct sw_rules *r = load(
		"[rule sfb-meeting-to-cms]\npriority = 10\nsource = edge\n"
		"match.ruri = regex ^sip:(\\d{6,10})@meet\\.example\\.com(;.*)?$\n"
		"rewrite.ruri = sip:$1@cms.example.local\ntarget = cms\n"
		"media.applicationsharing = relay\nlog.tag = appshare\n"
		"[rule x]\npriority = 5\nmatch.ruri.user = exact "
		"a-very-long-user-name-that-goes-on-and-on-and-on-and-on-and-"
		"on-and-on-and-on-and-on-and-on-and-on\ntarget = edge\n");
	struct sw_route_input in = input("edge", "sip:123456@meet.example.com");
	static char text[16384], json[65536];

	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT_EQUAL(route(r, &in), 0);
	CU_ASSERT_EQUAL(sw_route_trace_format(&res, text, sizeof(text)), 0);
	if (!lines_fit(text, 100))
		fprintf(stderr, "\n%s", text);
	CU_ASSERT(lines_fit(text, 100));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "rule sfb-meeting-to-cms (pr 10): "
					    "source=edge PASS;"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "ruri =~ /^sip:(\\d{6,10})@meet"
					    "\\.example\\.com(;.*)?$/ PASS "
					    "$1=123456 $2="));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "-> sip:123456@cms.example.local "
					    "via cms (tls)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "media: applicationsharing=relay"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "rule x (pr 5): ruri.user =="));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "FAIL: \"123456\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "=> forward to cms"));
	CU_ASSERT_EQUAL(sw_route_trace_format(&res, text, 40), ERANGE);
	CU_ASSERT_EQUAL(strlen(text), 39);
	CU_ASSERT_EQUAL(sw_route_json_format(&res, json, sizeof(json)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"outcome\":\"forward\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"pattern\":\"^sip:(\\\\d{6,10})"));
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"media\":{\"applicationsharing\":"
					    "\"relay\"}"));
	CU_ASSERT_EQUAL(sw_route_json_format(&res, json, 100), ERANGE);
	/* control bytes and bad UTF-8 are escaped, good UTF-8 kept */
	in.ruri = "sip:\x01\xff\xc3\xa9@x";
	CU_ASSERT_EQUAL(route(r, &in), 0);
	CU_ASSERT_EQUAL(sw_route_json_format(&res, json, sizeof(json)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "sip:\\u0001\\ufffd\xc3\xa9@x"));
	sw_rules_unref(r);
}


UNIT_TEST(test_trace_truncated, "trace truncation")
{
	static char text[65536];
	char buf[16384];
	size_t len = 0;
	struct sw_rules *r;
	struct sw_route_input in = input("edge", "sip:a@b");

	for (int i = 0; i < 40; ++i)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len,
					"[rule r%d]\npriority = %d\n"
					"match.ruri = exact nope\n"
					"match.to = exact nope\n",
					i, i);
	len += (size_t)snprintf(buf + len, sizeof(buf) - len,
				"[rule last]\npriority = 100\ntarget = cms\n");
	r = load(buf);
	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT_EQUAL(route(r, &in), 0);
	CU_ASSERT_EQUAL(res.outcome, SW_ROUTE_FORWARD);
	CU_ASSERT_STRING_EQUAL(res.rule, "last");
	CU_ASSERT(res.trace_truncated);
	CU_ASSERT_EQUAL(res.n_tried, SW_ROUTE_MAX_TRIED);
	CU_ASSERT_EQUAL(sw_route_trace_format(&res, text, sizeof(text)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "(trace truncated)"));
	sw_rules_unref(r);
}


/* the rules and inputs of the compact-copy tests: every field a call
 * keeps takes a value other than its zero in one of them */
static const char keep_rules[] =
	"[defaults]\nmedia.default = strip\n"
	"[rule blocked]\npriority = 5\nmatch.ruri.user = prefix blocked\n"
	"action = reject 486 Busy Here by rule\n"
	"[rule norm]\npriority = 8\nsource = edge\n"
	"match.ruri.user = prefix 99\nrewrite.ruri.user = strip 2\n"
	"on_match = continue\nmedia.audio = passthrough\n"
	"[rule meet]\npriority = 10\nsource = edge\n"
	"match.ruri = regex ^sip:(\\d+)@meet\\.example\\.com$\n"
	"rewrite.ruri = sip:$1@cms.example.local\n"
	"rewrite.to = \"Meeting $1\" <sip:$1@cms.example.local>\n"
	"target = cms\nmedia.applicationsharing = observe\nlog.tag = m\n"
	"[rule lab]\npriority = 20\nsource = lab\n"
	"target = sip:127.0.0.9:5099;transport=tcp\n"
	"media.applicationsharing = reject\nmedia.default = passthrough\n";

static const struct {
	const char *zone, *ruri, *to;
} keep_inputs[] = {
	{"edge", "sip:99123456@meet.example.com", "<sip:x@meet.example.com>"},
	{"edge", "sip:123@meet.example.com", NULL},
	{"edge", "sip:blocked@meet.example.com", "<sip:blocked@x>"},
	{"lab", "sip:anyone@lab.example", "<sip:anyone@lab.example>"},
	{"cms", "sip:nobody@nowhere", NULL}, /* no rule: none */
	{"edge", "sip:a@b", NULL},           /* no target: none */
};


/* the fields a call uses after routing equal the router's decision */
static void kept_equal(const struct sw_route_kept *k,
		       const struct sw_route_result *r)
{
	static const char *const types[] = {"applicationsharing", "audio",
					    "video", "AUDIO", NULL};

	CU_ASSERT_EQUAL(k->outcome, r->outcome);
	CU_ASSERT_EQUAL(k->transport, r->transport);
	CU_ASSERT_STRING_EQUAL(k->rule, r->rule);
	CU_ASSERT_STRING_EQUAL(k->ruri_in, r->ruri_in);
	CU_ASSERT_STRING_EQUAL(k->ruri, r->ruri);
	CU_ASSERT_STRING_EQUAL(k->to, r->to_rewritten ? r->to : "");
	CU_ASSERT_STRING_EQUAL(k->target_zone, r->target_zone);
	CU_ASSERT_STRING_EQUAL(k->target_uri, r->target_uri);
	for (unsigned i = 0; i < sizeof(types) / sizeof(types[0]); ++i)
		CU_ASSERT_EQUAL(sw_route_kept_policy(k, types[i]),
				sw_route_media_policy(r, types[i]));
}


UNIT_TEST(test_route_keep, "compact copy a call keeps")
{
	struct sw_rules *r = load(keep_rules);
	static struct sw_route_result again;
	union {
		char b[1024];
		void *align;
	} mem;
	static const enum sw_route_outcome want[] = {
		SW_ROUTE_FORWARD, SW_ROUTE_FORWARD, SW_ROUTE_REJECT,
		SW_ROUTE_FORWARD, SW_ROUTE_NONE, SW_ROUTE_NONE};

	CU_ASSERT_FATAL(r != NULL);
	for (unsigned i = 0; i < sizeof(keep_inputs) / sizeof(keep_inputs[0]);
	     ++i) {
		struct sw_route_input in = input(keep_inputs[i].zone,
						 keep_inputs[i].ruri);
		struct sw_route_kept *k;
		size_t n;

		in.to = keep_inputs[i].to;
		CU_ASSERT_EQUAL(route(r, &in), 0);
		CU_ASSERT_EQUAL(res.outcome, want[i]);
		n = sw_route_keep_size(&res);
		/* a few hundred bytes, not the result's tens of KB */
		CU_ASSERT(n < 400);
		CU_ASSERT_PTR_NULL(sw_route_keep(&res, mem.b, n - 1));
		k = sw_route_keep(&res, mem.b, n);
		CU_ASSERT_PTR_EQUAL_FATAL(k, (void *)mem.b);
		kept_equal(k, &res);
		/* the copy is the block's own: routing again into the
		 * result leaves it as it was */
		memcpy(&again, &res, sizeof(again));
		memset(&res, 0x5a, sizeof(res));
		kept_equal(k, &again);
		for (const char *p = k->rule; p != k->target_uri;
		     p += strlen(p) + 1)
			CU_ASSERT(p > mem.b && p < mem.b + n);
		CU_ASSERT(k->target_uri + strlen(k->target_uri) < mem.b + n);
	}
	{ /* spot checks of what the call acts on */
		struct sw_route_input in = input("edge",
						 "sip:99123456@meet.example.com");
		struct sw_route_kept *k;

		CU_ASSERT_EQUAL(route(r, &in), 0);
		k = sw_route_keep(&res, mem.b, sizeof(mem.b));
		CU_ASSERT_FATAL(k != NULL);
		CU_ASSERT_STRING_EQUAL(k->rule, "meet");
		CU_ASSERT_STRING_EQUAL(k->ruri, "sip:123456@cms.example.local");
		CU_ASSERT_STRING_EQUAL(k->to, "\"Meeting 123456\" "
					      "<sip:123456@cms.example.local>");
		CU_ASSERT_STRING_EQUAL(k->target_zone, "cms");
		CU_ASSERT_EQUAL(k->transport, SW_TP_TLS);
		CU_ASSERT_EQUAL(sw_route_kept_policy(k, "applicationsharing"),
				SW_MP_OBSERVE);
		CU_ASSERT_EQUAL(sw_route_kept_policy(k, "audio"),
				SW_MP_PASSTHROUGH);
		CU_ASSERT_EQUAL(sw_route_kept_policy(k, "video"), SW_MP_STRIP);
		CU_ASSERT_EQUAL(sw_route_kept_policy(NULL, "video"),
				SW_MP_RELAY);
	}
	sw_rules_unref(r);
}


/* A result routed into again is reset, not zeroed: whatever it held
 * before (here: garbage in every byte) must not show in the decision,
 * its trace or its JSON */
UNIT_TEST(test_route_reuse, "result reused without zeroing")
{
	struct sw_rules *r = load(keep_rules);
	static struct sw_route_result fresh;
	static char a[16384], b[16384];

	CU_ASSERT_FATAL(r != NULL);
	for (unsigned i = 0; i < sizeof(keep_inputs) / sizeof(keep_inputs[0]);
	     ++i) {
		struct sw_route_input in = input(keep_inputs[i].zone,
						 keep_inputs[i].ruri);

		in.to = keep_inputs[i].to;
		memset(&fresh, 0, sizeof(fresh));
		CU_ASSERT_EQUAL(sw_rules_route(r, &in, &fresh), 0);
		memset(&res, i & 1 ? 0xff : 0x41, sizeof(res));
		CU_ASSERT_EQUAL(route(r, &in), 0);
		CU_ASSERT_EQUAL(sw_route_json_format(&fresh, a, sizeof(a)), 0);
		CU_ASSERT_EQUAL(sw_route_json_format(&res, b, sizeof(b)), 0);
		CU_ASSERT_STRING_EQUAL(a, b);
		CU_ASSERT_EQUAL(sw_route_trace_format(&fresh, a, sizeof(a)), 0);
		CU_ASSERT_EQUAL(sw_route_trace_format(&res, b, sizeof(b)), 0);
		CU_ASSERT_STRING_EQUAL(a, b);
		CU_ASSERT_EQUAL(sw_route_keep_size(&fresh),
				sw_route_keep_size(&res));
	}
	/* reset alone: an empty decision */
	memset(&res, 0x41, sizeof(res));
	sw_route_result_reset(&res);
	memset(&fresh, 0, sizeof(fresh));
	CU_ASSERT_EQUAL(sw_route_json_format(&fresh, a, sizeof(a)), 0);
	CU_ASSERT_EQUAL(sw_route_json_format(&res, b, sizeof(b)), 0);
	CU_ASSERT_STRING_EQUAL(a, b);
	sw_rules_unref(r);
}


/* The wrapped trace is copied a run at a time: in any buffer, what fits
 * is the whole text's beginning, cut where the buffer ends */
UNIT_TEST(test_trace_cut, "trace text cut at every size")
{
	struct sw_rules *r = load(keep_rules);
	struct sw_route_input in = input("edge",
					 "sip:99123456@meet.example.com");
	static char full[16384], cut[16384];
	size_t n;

	CU_ASSERT_FATAL(r != NULL);
	in.source_addr = "127.0.0.2:5070";
	CU_ASSERT_EQUAL(route(r, &in), 0);
	CU_ASSERT_EQUAL(sw_route_trace_format(&res, full, sizeof(full)), 0);
	n = strlen(full);
	CU_ASSERT(n > 300 && lines_fit(full, 100));
	CU_ASSERT_PTR_NOT_NULL(strstr(full, "\n    ")); /* a wrapped line */
	for (size_t sz = 1; sz <= n + 1; ++sz) {
		int e = sw_route_trace_format(&res, cut, sz);

		CU_ASSERT_EQUAL(e, sz <= n ? ERANGE : 0);
		CU_ASSERT_EQUAL(strlen(cut), sz - 1);
		CU_ASSERT(!memcmp(cut, full, sz - 1));
	}
	sw_rules_unref(r);
}


UNIT_TEST(test_uri_from_header, "uri from header")
{
	static const struct {
		const char *in, *out;
		int err;
	} cases[] = {
		{"\"Alice\" <sip:alice@contoso.com>;tag=x",
		 "sip:alice@contoso.com", 0},
		{"sip:alice@contoso.com;tag=x", "sip:alice@contoso.com", 0},
		{"  <sips:a@b;transport=tls>", "sips:a@b;transport=tls", 0},
		{"\"A \\\"<x>\\\" B\" <tel:+15550100>", "tel:+15550100", 0},
		{"Alice Smith <sip:as@x:5061>;expires=3", "sip:as@x:5061", 0},
		{"<sip:a@b", NULL, EINVAL},
		{"\"unterminated <sip:a@b>", NULL, EINVAL},
		{"\"only a name\"", NULL, EINVAL},
		{"", NULL, EINVAL},
		{"<>", NULL, EINVAL},
		{"nocolon", NULL, EINVAL},
		{"\"x\\", NULL, EINVAL},
	};
	char uri[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
		int e = sw_uri_from_header(cases[i].in, uri, sizeof(uri));

		CU_ASSERT_EQUAL(e, cases[i].err);
		if (!e && cases[i].out)
			CU_ASSERT_STRING_EQUAL(uri, cases[i].out);
	}
	CU_ASSERT_EQUAL(sw_uri_from_header("<sip:a@b>", uri, 5), ERANGE);
	CU_ASSERT_EQUAL(sw_uri_from_header(NULL, uri, sizeof(uri)), EINVAL);
}


UNIT_TEST(test_uri_parts, "uri user/host")
{
	static const struct {
		const char *uri, *user, *host;
		int uerr, herr;
	} cases[] = {
		{"sip:alice@contoso.com", "alice", "contoso.com", 0, 0},
		{"SIPS:bob:secret@[2001:db8::1]:5061;transport=tls", "bob",
		 "[2001:db8::1]", 0, 0},
		{"sip:+1234;phone-context=x@gw;user=phone",
		 "+1234;phone-context=x", "gw", 0, 0},
		{"sip:cms.example.local:5061", "", "cms.example.local", ENOENT,
		 0},
		{"sip:@h", "", "h", ENOENT, 0},
		{"tel:+1-555-0100;ext=7", "+1-555-0100", "", 0, ENOENT},
		{"tel:;x", "", "", EINVAL, ENOENT},
		{"sip:a@", "a", "", 0, EINVAL},
		{"sip:a@[::1", "a", "", 0, EINVAL},
		{"http://x", "", "", EINVAL, EINVAL},
		{"sip:a@b?subject=x", "a", "b", 0, 0},
	};
	char user[64], host[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
		int ue = sw_uri_user(cases[i].uri, user, sizeof(user));
		int he = sw_uri_host(cases[i].uri, host, sizeof(host));

		CU_ASSERT_EQUAL(ue, cases[i].uerr);
		CU_ASSERT_EQUAL(he, cases[i].herr);
		if (!ue)
			CU_ASSERT_STRING_EQUAL(user, cases[i].user);
		if (!he)
			CU_ASSERT_STRING_EQUAL(host, cases[i].host);
	}
	CU_ASSERT_EQUAL(sw_uri_user("sip:abcdef@h", user, 4), ERANGE);
	CU_ASSERT_EQUAL(sw_uri_user(NULL, user, sizeof(user)), EINVAL);
}


UNIT_TEST(test_uri_set_user, "uri set user")
{
	static const struct {
		const char *uri, *user, *out;
		int err;
	} cases[] = {
		{"sip:alice@h;x", "bob", "sip:bob@h;x", 0},
		{"sip:alice:pw@h", "bob", "sip:bob:pw@h", 0},
		{"sip:h:5060", "bob", "sip:bob@h:5060", 0},
		{"sip:alice@h", "", "sip:h", 0},
		{"sip:h", "", "sip:h", 0},
		{"tel:+1;ext=2", "+44", "tel:+44;ext=2", 0},
		{"tel:+1", "", "", EINVAL},
		{"urn:service:sos", "x", "", EINVAL},
	};
	char out[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
		int e = sw_uri_set_user(cases[i].uri, cases[i].user, out,
					sizeof(out));

		CU_ASSERT_EQUAL(e, cases[i].err);
		CU_ASSERT_STRING_EQUAL(out, cases[i].out);
	}
	CU_ASSERT_EQUAL(sw_uri_set_user("sip:a@hostname", "bbbbbbbb", out, 12),
			ERANGE);
	CU_ASSERT_STRING_EQUAL(out, "");
}


UNIT_SUITE("rules", suite_init, NULL, NULL, NULL);
