/**
 * @file fuzz_sdp.c  libFuzzer target for sdp/.
 *
 * Properties checked (abort() on violation):
 *  - parse -> print gives the input back byte for byte, and so does a
 *    copy of the model;
 *  - every ICE candidate line parses, prints and re-parses to an equal
 *    candidate;
 *  - parse -> edit (add a candidate, change the port and c=, add an
 *    attribute, complete ICE, bump o=) -> print -> parse succeeds and
 *    prints the same text again;
 *  - multipart reduction returns a part inside the input.
 * The input is also read as a multipart body: with the boundary of its
 * first line if it starts with "--", else with its first line as the
 * Content-Type. Seeds: $SW_SHARED/corpus/sdp and tests/data/sdp.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdpr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_sdp: %s\n", what);
		abort();
	}
}


static void fuzz_multipart(const char *body, size_t len)
{
	const char *nl = memchr(body, '\n', len), *part;
	char ctype[256];
	size_t hl, plen;

	if (!nl)
		return;
	hl = (size_t)(nl - body);
	if (hl && body[hl - 1] == '\r')
		--hl;
	if (len > 2 && !memcmp(body, "--", 2)) {
		if (hl - 2 > 70 || memchr(body, '"', hl) ||
		    memchr(body, '\\', hl) || memchr(body, '\0', hl))
			return;
		snprintf(ctype, sizeof(ctype), "multipart/mixed; "
			 "boundary=\"%.*s\"", (int)(hl - 2), body + 2);
	}
	else {
		if (hl >= sizeof(ctype) || memchr(body, '\0', hl))
			return;
		memcpy(ctype, body, hl);
		ctype[hl] = '\0';
		len -= (size_t)(nl + 1 - body);
		body = nl + 1;
	}
	if (sdpr_multipart_reduce(ctype, body, len, &part, &plen, NULL))
		return;
	check(part >= body && plen <= len && part + plen <= body + len,
	      "multipart part outside the body");
}


static void cands_check(const struct sdpr *sdp)
{
	char buf[1024];

	for (unsigned m = 0; m < sdpr_media_count(sdp); ++m) {
		for (unsigned i = 0; i < sdpr_cand_count(sdp, (int)m); ++i) {
			struct sdpr_cand c, d;

			if (sdpr_cand_get(sdp, (int)m, i, &c))
				continue;
			check(!sdpr_cand_print(&c, buf, sizeof(buf)),
			      "parsed candidate does not print");
			check(!sdpr_cand_parse(&d, buf, NULL) &&
			      sdpr_cand_equal(&c, &d),
			      "printed candidate does not parse back");
		}
	}
}


/* The edits of the B2BUA and the app-sharing coordinator; they may fail
 * (line limit, no o= ...) but must leave a printable, parseable model */
static void edit(struct sdpr *sdp)
{
	struct sdpr_remcand rem = {1, "192.0.2.7", 3478};
	struct sdpr_cand c, sel;

	memset(&c, 0, sizeof(c));
	strcpy(c.foundation, "9");
	c.component = 1;
	c.transport = SDPR_TP_TCP_PASS;
	c.form = SDPR_FORM_MS;
	(void)sdpr_ms_priority(&c.priority, 0, c.transport, 1, 0);
	strcpy(c.addr, "192.0.2.5");
	c.port = 3478;
	c.type = SDPR_CT_RELAY;
	(void)sdpr_attr_add(sdp, SDPR_SESSION, "x-fuzz", "1");
	(void)sdpr_origin_bump(sdp);
	if (!sdpr_media_count(sdp))
		return;
	(void)sdpr_cand_add(sdp, 0, &c);
	(void)sdpr_media_set_port(sdp, 0, 4000);
	(void)sdpr_conn_set(sdp, 0, "2001:db8::1");
	if (!sdpr_cand_get(sdp, 0, 0, &sel))
		(void)sdpr_ice_complete(sdp, 0, &sel, 1, &rem, 1);
	else
		(void)sdpr_ice_complete(sdp, 0, &c, 1, &rem, 1);
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data;
	struct sdpr *sdp = NULL, *again = NULL;
	char *out = NULL, *out2 = NULL;
	size_t olen = 0, olen2 = 0;

	fuzz_multipart(body, size);
	if (sdpr_parse(&sdp, body, size, NULL))
		return 0;
	check(!sdpr_print(sdp, &out, &olen), "print failed");
	check(olen == size && !memcmp(out, body, size), "not byte-identical");
	free(out);
	cands_check(sdp);
	check(!sdpr_dup(&again, sdp) && !sdpr_print(again, &out, &olen) &&
	      olen == size && !memcmp(out, body, size), "copy differs");
	free(out);
	sdpr_free(again);
	again = NULL;

	edit(sdp);
	check(!sdpr_print(sdp, &out, &olen), "print after edit failed");
	if (olen <= SDPR_MAX_BODY) {
		check(!sdpr_parse(&again, out, olen, NULL),
		      "edited body does not parse");
		check(!sdpr_print(again, &out2, &olen2) && olen2 == olen &&
		      !memcmp(out, out2, olen), "edited body not stable");
	}
	free(out);
	free(out2);
	sdpr_free(again);
	sdpr_free(sdp);
	return 0;
}
