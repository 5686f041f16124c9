/**
 * @file fuzz_stun_decode.c  libFuzzer: the `shareway stun-decode` pipeline
 * below its text parsing: one dumped frame (Ethernet / IP / TCP / UDP /
 * bare payload, RFC 4571 and TURN stream framing, the analyser display
 * and JSON) or, when the first byte is odd, a whole pcap file. Output goes
 * to /dev/null; only crashes, leaks and sanitizer reports count.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_stun.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t key[] = "fuzz";
	static FILE *null;
	static struct sdec sd;
	size_t *map;

	if (size < 1)
		return 0;
	if (!null)
		null = fopen("/dev/null", "w");
	if (!null)
		abort();
	memset(&sd, 0, sizeof(sd));
	sd.out = null;
	sd.json = data[0] & 2;
	sd.key = data[0] & 4 ? key : NULL;
	sd.keylen = sizeof(key) - 1;
	if (data[0] & 1) {
		(void)sdec_pcap(&sd, data + 1, size - 1);
		return 0;
	}
	/* a dump map, as a hex dump input gives: offsets 0, 1, 2... */
	map = malloc(size * sizeof(*map));
	if (!map)
		abort();
	for (size_t i = 0; i < size; ++i)
		map[i] = i;
	sd.dump_off = map;
	sd.dump_len = size - 1;
	sdec_packet(&sd, data + 1, size - 1);
	sdec_notes_flush(&sd);
	free(map);
	return 0;
}
