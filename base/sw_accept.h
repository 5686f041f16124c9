/**
 * @file sw_accept.h  accept() when the descriptors run out, for every
 * listener of the daemon whatever loop polls it.
 *
 * A level-triggered listener whose accept() fails with EMFILE or ENFILE
 * stays readable: polled again at once it spins a core and writes one
 * error line per turn, and the connections waiting in its backlog wait
 * until some descriptor is freed, which with idle clients holding them
 * may be never. The remedy (nginx's back-off, libuv's reserve):
 *  - the loop stops polling that listener for SW_ACCEPT_BACKOFF_MS (its
 *    own timer brings it back), so a shortage costs a few accept() calls
 *    a second;
 *  - a reserve descriptor is kept open: on a shortage it is given up for
 *    a moment to accept the waiting connections and close them at once
 *    (sw_accept_shed), so that their clients learn it now and can retry
 *    or go elsewhere, instead of timing out in the backlog;
 *  - one rate-limited line (sw_log_limited) says so.
 * Only the descriptor juggling lives here; the back-off belongs to each
 * loop (relay threads: turn/relay_loop.c relay_accept). A listener that
 * takes few connections may do without it: the control socket (sw_ctl.c)
 * sheds its waiting connections, and is then no longer readable.
 */
#ifndef SW_ACCEPT_H
#define SW_ACCEPT_H

#include <stdbool.h>
#include <sys/socket.h>

#define SW_ACCEPT_BACKOFF_MS 250 /* nginx waits 500 ms (accept_mutex_delay) */
#define SW_ACCEPT_SHED_MAX 64    /* waiting connections closed per shortage */

/** The reserve descriptor of one thread (-1 while it is given up) */
struct sw_accept_reserve {
	int fd;
};

int sw_accept_reserve_open(struct sw_accept_reserve *r);
void sw_accept_reserve_close(struct sw_accept_reserve *r);
bool sw_accept_exhausted(int err);
bool sw_accept_transient(int err);
unsigned sw_accept_shed(struct sw_accept_reserve *r, int lfd, unsigned max);

#endif
