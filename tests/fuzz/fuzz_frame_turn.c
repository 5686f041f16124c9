/**
 * @file fuzz_frame_turn.c  libFuzzer: TURN-over-TCP framer (STUN and
 * ChannelData), incremental against one-shot. See frame_check.h.
 */
#include "frame_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_frame_run(TURN_FRAMING_TURN, data, size);
}
