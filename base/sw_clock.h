/**
 * @file sw_clock.h  The monotonic clock in the units the threads count in.
 *
 * Timeouts, backoffs and rate gaps are measured on CLOCK_MONOTONIC, never
 * on the wall clock (which an operator or NTP may step); call-log times
 * stay on CLOCK_REALTIME. One definition for every thread that needs it.
 */
#ifndef SW_CLOCK_H
#define SW_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t sw_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static inline int64_t sw_mono_ms(void)
{
	return sw_mono_us() / 1000;
}

#endif
