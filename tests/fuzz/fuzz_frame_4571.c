/**
 * @file fuzz_frame_4571.c  libFuzzer: RFC 4571 framer, incremental against
 * one-shot. See frame_check.h.
 */
#include "frame_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_frame_run(TURN_FRAMING_RFC4571, data, size);
}
