/**
 * @file cli_locate.c  `shareway locate`: a dry run of the dial plan.
 *
 * Like Expressway's Locate and Kamailio's dialplan.translate: loads the
 * daemon's configuration (for its zones) and the rule file, maps --source
 * to a zone the way sharewayd does (match.source CIDRs, then the zone
 * with default = yes), runs the rules on the given request and prints
 * every rule tried, every condition with PASS/FAIL, the captures and the
 * decision. Exit: 0 routed, 1 rejected / no route / refused / error,
 * 2 usage.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "sw_addr.h"
#include "sw_conf.h"
#include "sw_rules.h"

#define LOCATE_MAX_HEADERS 16
#define LOCATE_COLS        100
#define LOCATE_TEXT_SZ     (64 * 1024)
#define LOCATE_JSON_SZ     (512 * 1024)

struct locate_hdr {
	char name[64];
	const char *value;
};

struct locate_args {
	const char *ruri, *from, *to, *source, *media, *rules;
	struct locate_hdr hdr[LOCATE_MAX_HEADERS];
	unsigned n_hdr;
	bool json;
	char to_buf[600];
	char media_buf[512];
};

/* how the source zone was found */
struct locate_source {
	const struct sw_zone *zone;
	const char *how;  /* "name", "cidr", "default", "none", "unspecified" */
	char why[160];    /* one line for the text report */
};


static void usage(FILE *f)
{
	fprintf(f,
		"usage: shareway [-c CONF] locate URI [--from URI] [--to URI]\n"
		"         [--source IP|ZONE] [--media TYPE[,TYPE...]]\n"
		"         [--header 'Name: value']... [--rules FILE] [--json]\n"
		"\n"
		"Dry-run the dial plan for a request to URI: every rule tried,\n"
		"each condition PASS or FAIL with the value it tested, the\n"
		"captures, and the decision (target, rewritten R-URI/To, media\n"
		"policies). Zones come from CONF; the rules from its rules_file\n"
		"or --rules.\n"
		"\n"
		"  --from URI     From value (default: absent)\n"
		"  --to URI       To value (default: <URI>)\n"
		"  --source X     source IP (mapped by the zones' match.source,\n"
		"                 else the default = yes zone) or a zone name\n"
		"  --media LIST   m= types of the offer, e.g. applicationsharing,audio\n"
		"  --header H     'Name: value', repeatable (match.header.Name)\n"
		"  --rules FILE   another rule file, checked against CONF's zones\n"
		"  --json         print the result as one JSON object\n"
		"\n"
		"Conditions: =~ regex, == exact, ^= prefix, $= suffix.\n"
		"Exit status: 0 routed, 1 rejected, no route or refused, 2 usage.\n");
}


static int header_add(struct locate_args *a, const char *h)
{
	const char *colon = strchr(h, ':');
	struct locate_hdr *x;
	size_t n;

	if (!colon || a->n_hdr >= LOCATE_MAX_HEADERS) {
		fprintf(stderr, "locate: --header wants 'Name: value' "
				"(at most %d)\n", LOCATE_MAX_HEADERS);
		return 2;
	}
	while (*h == ' ' || *h == '\t')
		++h;
	n = (size_t)(colon - h);
	while (n && (h[n - 1] == ' ' || h[n - 1] == '\t'))
		--n;
	if (!n || n >= sizeof(x->name)) {
		fprintf(stderr, "locate: bad header name in '%s'\n", h);
		return 2;
	}
	x = &a->hdr[a->n_hdr++];
	memcpy(x->name, h, n);
	x->name[n] = '\0';
	x->value = colon + 1 + strspn(colon + 1, " \t");
	return 0;
}


/* "--opt VALUE" or "--opt=VALUE"; NULL if argv[*i] is not opt */
static const char *opt_value(int argc, char **argv, int *i, const char *opt,
			     bool *missing)
{
	size_t n = strlen(opt);

	if (strncmp(argv[*i], opt, n))
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n] != '\0')
		return NULL;
	if (*i + 1 >= argc) {
		*missing = true;
		return NULL;
	}
	return argv[++*i];
}


static int args_parse(struct locate_args *a, int argc, char **argv)
{
	static const char *const opts[] = {"--from", "--to", "--source",
					   "--media", "--rules", "--header"};
	const char **dst[] = {&a->from, &a->to, &a->source, &a->media,
			      &a->rules, NULL};

	for (int i = 1; i < argc; ++i) {
		bool missing = false, known = false;

		if (!strcmp(argv[i], "--json")) {
			a->json = true;
			continue;
		}
		for (size_t k = 0; k < sizeof(opts) / sizeof(opts[0]); ++k) {
			const char *v = opt_value(argc, argv, &i, opts[k],
						  &missing);

			if (missing) {
				fprintf(stderr, "locate: %s needs a value\n",
					opts[k]);
				return 2;
			}
			if (!v)
				continue;
			known = true;
			if (!dst[k] && header_add(a, v))
				return 2;
			if (dst[k])
				*dst[k] = v;
			break;
		}
		if (known)
			continue;
		if (argv[i][0] == '-' || a->ruri) {
			fprintf(stderr, "locate: unexpected '%s'\n", argv[i]);
			return 2;
		}
		a->ruri = argv[i];
	}
	if (!a->ruri) {
		usage(stderr);
		return 2;
	}
	return 0;
}


static const char *header_lookup(void *arg, const char *name)
{
	const struct locate_args *a = arg;

	for (unsigned i = 0; i < a->n_hdr; ++i)
		if (!strcasecmp(a->hdr[i].name, name))
			return a->hdr[i].value;
	return NULL;
}


static int media_split(struct locate_args *a, struct sw_route_input *in)
{
	char *save = NULL;

	if (!a->media)
		return 0;
	if (strlen(a->media) >= sizeof(a->media_buf)) {
		fprintf(stderr, "locate: --media list too long\n");
		return 2;
	}
	snprintf(a->media_buf, sizeof(a->media_buf), "%s", a->media);
	for (char *t = strtok_r(a->media_buf, ", ", &save); t;
	     t = strtok_r(NULL, ", ", &save)) {
		if (in->n_media >= SW_ROUTE_MAX_INPUT_MEDIA) {
			fprintf(stderr, "locate: at most %d media types\n",
				SW_ROUTE_MAX_INPUT_MEDIA);
			return 2;
		}
		in->media[in->n_media++] = t;
	}
	return 0;
}


static const struct sw_zone *zone_by_addr(const struct sw_conf *conf,
					  const struct sw_sa *sa,
					  const struct sw_cidr **hit)
{
	for (unsigned i = 0; i < conf->n_zones; ++i) {
		const struct sw_zone *z = &conf->zones[i];

		for (unsigned k = 0; k < z->n_match_source; ++k) {
			if (sw_cidr_match(&z->match_source[k], sa)) {
				*hit = &z->match_source[k];
				return z;
			}
		}
	}
	return NULL;
}


static const struct sw_zone *zone_default(const struct sw_conf *conf)
{
	for (unsigned i = 0; i < conf->n_zones; ++i)
		if (conf->zones[i].is_default)
			return &conf->zones[i];
	return NULL;
}


static int source_map(const struct sw_conf *conf, const char *v,
		      struct locate_source *src)
{
	const struct sw_cidr *hit = NULL;
	char cidr[SW_SA_STRLEN + 8];
	struct sw_sa sa, ip;

	src->how = "unspecified";
	snprintf(src->why, sizeof(src->why),
		 "none given (only source = any rules can match)");
	if (!v)
		return 0;
	src->zone = sw_conf_zone_find(conf, v);
	if (src->zone) {
		src->how = "name";
		snprintf(src->why, sizeof(src->why), "zone %s", v);
		return 0;
	}
	if (sw_sa_set_ip(&sa, v, 0) && sw_sa_parse(&sa, v, 0)) {
		fprintf(stderr, "locate: --source '%s' is neither an IP "
				"address nor a zone\n", v);
		return 2;
	}
	sw_sa_unmap_v4(&ip, &sa);
	src->zone = zone_by_addr(conf, &ip, &hit);
	if (src->zone) {
		src->how = "cidr";
		snprintf(src->why, sizeof(src->why), "%s (%s in %s)",
			 src->zone->name, v,
			 sw_cidr_str(hit, cidr, sizeof(cidr)));
		return 0;
	}
	src->zone = zone_default(conf);
	src->how = src->zone ? "default" : "none";
	if (src->zone)
		snprintf(src->why, sizeof(src->why),
			 "%s (default zone: %s matches no match.source)",
			 src->zone->name, v);
	else
		snprintf(src->why, sizeof(src->why),
			 "no zone (would be refused 403): %s matches no "
			 "match.source, no default zone", v);
	return 0;
}


/* sharewayd answers 403 to a request from no zone */
static bool source_refused(const struct locate_source *src)
{
	return !strcmp(src->how, "none");
}


/* "label value", cut to LOCATE_COLS */
static void print_line(const char *label, const char *v)
{
	int room = LOCATE_COLS - (int)strlen(label) - 1;

	if ((int)strlen(v) <= room)
		printf("%s %s\n", label, v);
	else
		printf("%s %.*s...\n", label, room > 3 ? room - 3 : 0, v);
}


static void print_inputs(const struct locate_args *a,
			 const struct sw_rules *rules,
			 const struct locate_source *src)
{
	char line[64];

	snprintf(line, sizeof(line), "(%u rules)", sw_rules_count(rules));
	printf("rules:  %.*s %s\n", LOCATE_COLS - 20, sw_rules_path(rules),
	       line);
	print_line("ruri:  ", a->ruri);
	print_line("from:  ", a->from ? a->from : "(absent)");
	print_line("to:    ", a->to);
	print_line("media: ", a->media ? a->media : "(none)");
	for (unsigned i = 0; i < a->n_hdr; ++i) {
		snprintf(line, sizeof(line), "header: %s:", a->hdr[i].name);
		print_line(line, a->hdr[i].value);
	}
	print_line("source:", src->why);
}


static int report(const struct locate_args *a, const struct sw_rules *rules,
		  const struct locate_source *src,
		  const struct sw_route_result *res)
{
	size_t sz = a->json ? LOCATE_JSON_SZ : LOCATE_TEXT_SZ;
	char *buf = malloc(sz);
	int err;

	if (!buf) {
		fprintf(stderr, "locate: out of memory\n");
		return ENOMEM;
	}
	if (a->json) {
		err = sw_route_json_format(res, buf, sz);
		if (!err)
			printf("{\"refused\":%s,\"source_match\":\"%s\","
			       "\"route\":%s}\n",
			       source_refused(src) ? "true" : "false",
			       src->how, buf);
	}
	else {
		print_inputs(a, rules, src);
		printf("\n");
		err = sw_route_trace_format(res, buf, sz);
		if (!err)
			fputs(buf, stdout);
	}
	if (err)
		fprintf(stderr, "locate: result too large to print\n");
	free(buf);
	return err;
}


static int locate(struct locate_args *a, const struct sw_conf *conf,
		  const struct sw_rules *rules)
{
	static struct sw_route_result res;
	struct sw_route_input in = {0};
	struct locate_source src = {0};
	int rc;

	rc = source_map(conf, a->source, &src);
	if (!rc)
		rc = media_split(a, &in);
	if (rc)
		return rc;
	if (!a->to) {
		snprintf(a->to_buf, sizeof(a->to_buf), "<%s>", a->ruri);
		a->to = a->to_buf;
	}
	in.source_zone = src.zone ? src.zone->name : NULL;
	if (a->source && strcmp(src.how, "name"))
		in.source_addr = a->source;
	in.ruri = a->ruri;
	in.from = a->from;
	in.to = a->to;
	in.header = header_lookup;
	in.header_arg = a;
	rc = sw_rules_route(rules, &in, &res);
	if (report(a, rules, &src, &res))
		return 1;
	if (rc) {
		fprintf(stderr, "locate: routing failed: %s\n", strerror(rc));
		return 1;
	}
	if (source_refused(&src))
		return 1;
	return res.outcome == SW_ROUTE_FORWARD ? 0 : 1;
}


static int run(const struct cli_env *env, int argc, char **argv)
{
	static struct sw_conf conf;
	struct locate_args a;
	struct sw_rules *rules = NULL;
	char err[1024];
	int rc;

	memset(&a, 0, sizeof(a));
	for (int i = 1; i < argc; ++i) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		}
	}
	rc = args_parse(&a, argc, argv);
	if (rc)
		return rc;
	if (sw_conf_load(&conf, env->conf_path, err, sizeof(err))) {
		fprintf(stderr, "locate: %s\n", err);
		return 1;
	}
	if (sw_rules_load(&rules, a.rules ? a.rules : conf.rules_file, &conf,
			  err, sizeof(err))) {
		fprintf(stderr, "locate: %s\n", err);
		return 1;
	}
	rc = locate(&a, &conf, rules);
	sw_rules_unref(rules);
	return rc;
}

const struct cli_cmd cli_cmd_locate = {
	"locate", "dry-run the dial plan for a request URI", run};
