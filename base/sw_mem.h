/**
 * @file sw_mem.h  Giving the heap back to the system after a load.
 */
#ifndef SW_MEM_H
#define SW_MEM_H

#include <stdbool.h>
#include <stddef.h>

bool sw_mem_tick(size_t *released);

#endif
