/**
 * @file sw_mem.c  Giving the heap back to the system after a load.
 *
 * A flood leaves sharewayd's heap large and empty: Sofia frees every
 * transaction, dialog and message once their timers end (64*T1 after the
 * last of them), but glibc keeps freed memory in its arenas, and on the
 * SIP thread's heap the pieces still in use at the top pin the rest. A
 * 3,000 INVITEs/s flood for 10 s left RSS at 400 MB with nothing in
 * progress; malloc_trim(0), which also returns the free pages inside the
 * heap (MADV_DONTNEED), took it to 14 MB. Capping the arenas
 * (M_ARENA_MAX) would not help: the memory is the SIP thread's, in one
 * arena.
 *
 * When to trim: when the heap is mostly free (mallinfo2(): free bytes
 * above those in use) and at least SW_MEM_TRIM_MIN of it is resident.
 * What is resident and free is RSS minus the bytes in use minus the
 * process's non-heap memory (code, stacks); the last is taken as the
 * lowest RSS-minus-in-use seen, which a trim brings down to it. Trimming
 * while a load still grows would only hand back pages malloc is about to
 * ask for again. mallinfo2() and malloc_trim() both walk the free lists
 * (1 % of the SIP thread's time during a flood, when run every second):
 * they run at most every SW_MEM_TRIM_GAP_MS.
 */
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "sw_mem.h"

#define SW_MEM_TRIM_MIN (8u << 20)
#define SW_MEM_TRIM_GAP_MS 5000

static size_t nonheap = SIZE_MAX;
static int64_t last_ms;


static size_t rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long size, res = 0;

	if (!f)
		return 0;
	if (fscanf(f, "%lu %lu", &size, &res) != 2)
		res = 0;
	fclose(f);
	return (size_t)res * (size_t)sysconf(_SC_PAGESIZE);
}


/**
 * Call about once a second from one thread: trims the heap when a load
 * has left it mostly free
 *
 * @return true if it trimmed; *released: the RSS bytes given back
 */
bool sw_mem_tick(size_t *released)
{
	struct mallinfo2 mi;
	size_t used, rss, base, after;
	struct timespec ts;
	int64_t now;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (now - last_ms < SW_MEM_TRIM_GAP_MS)
		return false;
	last_ms = now;
	mi = mallinfo2(); /* walks the free lists: not more often */
	used = mi.uordblks + mi.hblkhd;
	rss = rss_bytes();
	if (!rss)
		return false;
	base = rss > used ? rss - used : 0;
	if (base < nonheap)
		nonheap = base;
	if (base - nonheap < SW_MEM_TRIM_MIN || mi.fordblks < mi.uordblks)
		return false;
	malloc_trim(0);
	after = rss_bytes();
	if (released)
		*released = after < rss ? rss - after : 0;
	return true;
}
