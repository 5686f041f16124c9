/**
 * @file fuzz_rules.c  libFuzzer target for the dial plan (sw_rules).
 *
 * The input is one request: byte 0 picks the source zone (edge, cms or
 * none), the rest splits at '\n' into R-URI, From, To, the value of the
 * X-Focus and Subject headers, and a comma-separated media list. They
 * run through the fixed rule set tests/data/rules/fuzz.rules (regexes
 * with captures feeding every rewrite, continue rules, rejects). An
 * input whose byte 0 has the high bit set is a rule file instead, loaded
 * against the same zones. Properties (abort() on violation): routing
 * returns 0, EINVAL or ERANGE; a reject carries a code 300..699; a
 * forward has a target; the rewritten R-URI and To are NUL-terminated
 * within their buffers; trace text and JSON always render.
 * FUZZ_RULES (or $SW_FUZZ_RULES) names the rule file.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sw_conf.h"
#include "sw_rules.h"

#ifndef FUZZ_RULES
#define FUZZ_RULES "tests/data/rules/fuzz.rules"
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sw_conf conf;
static struct sw_rules *rules;
static struct sw_route_result res;
static char text[64 * 1024], json[512 * 1024];

struct fields {
	const char *v[6]; /* ruri, from, to, x-focus, subject, media */
};


static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_rules: %s\n", what);
		abort();
	}
}


static void zone_add(const char *name, const char *target)
{
	struct sw_zone *z = &conf.zones[conf.n_zones++];

	snprintf(z->name, sizeof(z->name), "%s", name);
	snprintf(z->target, sizeof(z->target), "%s", target);
}


int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *path = getenv("SW_FUZZ_RULES");
	char err[512];

	(void)argc;
	(void)argv;
	sw_conf_defaults(&conf);
	conf.n_zones = 0;
	zone_add("edge", "sip:127.0.0.2:5070");
	zone_add("cms", "sip:127.0.0.3:5080");
	if (sw_rules_load(&rules, path ? path : FUZZ_RULES, &conf, err,
			  sizeof(err))) {
		fprintf(stderr, "fuzz_rules: %s\n", err);
		abort();
	}
	return 0;
}


static const char *header(void *arg, const char *name)
{
	const struct fields *f = arg;

	if (!strcasecmp(name, "X-Focus"))
		return f->v[3];
	if (!strcasecmp(name, "Subject"))
		return f->v[4];
	return NULL;
}


/* the compact copy a call keeps says what the result says */
static void check_kept(void)
{
	static union {
		char b[4 * SW_ROUTE_URI + 4096];
		void *align;
	} mem;
	size_t n = sw_route_keep_size(&res);
	const struct sw_route_kept *k = sw_route_keep(&res, mem.b, n);

	check(n <= sizeof(mem.b) && k != NULL, "keep");
	check(k->outcome == res.outcome && !strcmp(k->rule, res.rule) &&
	      !strcmp(k->ruri, res.ruri) && !strcmp(k->ruri_in, res.ruri_in) &&
	      !strcmp(k->target_uri, res.target_uri) &&
	      !strcmp(k->target_zone, res.target_zone) &&
	      !strcmp(k->to, res.to_rewritten ? res.to : ""), "kept fields");
	check(sw_route_kept_policy(k, "applicationsharing") ==
	      sw_route_media_policy(&res, "applicationsharing"), "kept policy");
}


static void check_result(int err)
{
	check(err == 0 || err == EINVAL || err == ERANGE, "route error");
	check(res.err == err, "res.err");
	check(memchr(res.ruri, '\0', sizeof(res.ruri)) != NULL, "ruri");
	check(memchr(res.to, '\0', sizeof(res.to)) != NULL, "to");
	if (res.outcome == SW_ROUTE_REJECT)
		check(res.reject_code >= 300 && res.reject_code <= 699,
		      "reject code");
	if (res.outcome == SW_ROUTE_FORWARD)
		check(res.target_zone[0] || res.target_uri[0], "target");
	check(res.n_tried <= SW_ROUTE_MAX_TRIED, "n_tried");
	check(res.n_steps <= SW_ROUTE_MAX_STEPS, "n_steps");
	check(sw_route_trace_format(&res, text, sizeof(text)) == 0, "text");
	check(sw_route_json_format(&res, json, sizeof(json)) == 0, "json");
	check_kept();
}


static void fuzz_route(char *s, uint8_t zone)
{
	static const char *const zones[] = {"edge", "cms", NULL};
	struct sw_route_input in;
	struct fields f;
	char *save = NULL;

	memset(&in, 0, sizeof(in));
	memset(&f, 0, sizeof(f));
	for (unsigned i = 0; i < 6 && s; ++i) {
		f.v[i] = s;
		s = strchr(s, '\n');
		if (s)
			*s++ = '\0';
	}
	in.source_zone = zones[zone % 3];
	in.source_addr = "127.0.0.1:5060";
	in.ruri = f.v[0];
	in.from = f.v[1];
	in.to = f.v[2];
	in.header = header;
	in.header_arg = &f;
	if (f.v[5]) {
		for (char *t = strtok_r((char *)f.v[5], ",", &save);
		     t && in.n_media < SW_ROUTE_MAX_INPUT_MEDIA;
		     t = strtok_r(NULL, ",", &save))
			in.media[in.n_media++] = t;
	}
	check_result(sw_rules_route(rules, &in, &res));
}


static void fuzz_load(const char *s, size_t len)
{
	struct sw_rules *r = NULL;
	char err[512];
	int e;

	e = sw_rules_load_buf(&r, "fuzz", s, len, &conf, err, sizeof(err));
	check((e == 0) == (r != NULL), "load result");
	if (!r)
		return;
	check_result(sw_rules_route(r, &(struct sw_route_input){
					       .source_zone = "edge",
					       .ruri = "sip:123456@meet.a.b",
				       },
				    &res));
	sw_rules_unref(r);
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size < 1 || size > 64 * 1024)
		return 0;
	s = malloc(size);
	if (!s)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	if (data[0] & 0x80)
		fuzz_load(s, size - 1);
	else
		fuzz_route(s, data[0]);
	free(s);
	return 0;
}
