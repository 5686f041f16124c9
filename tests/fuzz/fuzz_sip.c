/**
 * @file fuzz_sip.c  libFuzzer: raw SIP messages through the gateway's own
 * parsing and routing (sipua_msg_route): Sofia's message parser, the
 * extension-header copy toward the other leg, multipart reduction, the
 * rule input extraction (R-URI, From, To, header.NAME, media types) and
 * the dial plan with captures into rewrites.
 *
 * Corpus: $SW_SHARED/corpus/sip-torture (the RFC 4475 messages).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipua.h"
#include "sw_conf.h"
#include "sw_rules.h"

static const char rules_text[] =
	"[rule blocked]\n"
	"priority = 5\n"
	"match.ruri.user = prefix blocked\n"
	"action = reject 403 Blocked\n"
	"[rule hdr]\n"
	"priority = 7\n"
	"match.header.ms-endpoint-location-data = regex (Intra|Extra)net\n"
	"match.media = applicationsharing\n"
	"rewrite.ruri = sip:as-$1@127.0.0.3\n"
	"target = cms\n"
	"on_match = continue\n"
	"[rule edge-to-cms]\n"
	"priority = 10\n"
	"source = edge\n"
	"match.ruri = regex ^sips?:([^@;]+)@([^;>]*)\n"
	"match.from = regex <?sips?:([^@>]*)@\n"
	"rewrite.ruri = sip:$1@127.0.0.3:5080\n"
	"rewrite.to = <sip:$1@cms.example>\n"
	"target = cms\n"
	"media.applicationsharing = relay\n";

static struct sw_conf conf;
static struct sw_rules *rules;


static int fuzz_init(void)
{
	char err[256];
	struct sw_zone *z;

	sw_conf_defaults(&conf);
	z = &conf.zones[conf.n_zones++];
	snprintf(z->name, sizeof(z->name), "edge");
	snprintf(z->target, sizeof(z->target), "sip:127.0.0.2:5070");
	z = &conf.zones[conf.n_zones++];
	snprintf(z->name, sizeof(z->name), "cms");
	snprintf(z->target, sizeof(z->target), "sip:127.0.0.3:5080");
	snprintf(conf.sip_strip_headers, sizeof(conf.sip_strip_headers),
		 "X-Internal-Hint");
	if (sw_rules_load_buf(&rules, "fuzz", rules_text, strlen(rules_text),
			      &conf, err, sizeof(err))) {
		fprintf(stderr, "fuzz_sip: rules: %s\n", err);
		abort();
	}
	return 0;
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	static struct sw_route_result res;

	if (!ready)
		ready = !fuzz_init();
	(void)sipua_msg_route(&sw_rules_router, rules, &conf, data, size,
			      "edge", &res);
	return 0;
}
