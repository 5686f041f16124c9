/**
 * @file sw_sdnotify.h  Telling the service manager how sharewayd is
 * doing (sd_notify(3), the unit's Type=notify): READY=1 once every
 * listener accepts, RELOADING=1 ... READY=1 around a reload, STOPPING=1
 * at shutdown, and STATUS= with the calls in progress, refreshed each
 * second while it changes. Without NOTIFY_SOCKET (make run, the tests)
 * every call is a no-op and no timer runs.
 */
#ifndef SW_SDNOTIFY_H
#define SW_SDNOTIFY_H

#include <stdbool.h>

struct sipua;

struct sw_sdnotify {
	struct sipua *ua;
	int tick_fd;          /* 1 s timerfd while NOTIFY_SOCKET is set */
	unsigned last_calls;  /* what the last STATUS said */
};

int sw_sdnotify_ready(struct sw_sdnotify *n, struct sipua *ua);
void sw_sdnotify_reloading(bool done);
void sw_sdnotify_stopping(struct sw_sdnotify *n);
void sw_sdnotify_close(struct sw_sdnotify *n);

#endif
