/**
 * @file sw_sdnotify.c  sd_notify(3) for the unit's Type=notify.
 *
 * libsystemd's sd_notify() rather than a hand-made datagram: it knows
 * NOTIFY_SOCKET's forms (a path, an abstract "@name") and is a no-op,
 * returning 0, when the variable is unset. unset_environment stays 0 so
 * that the later STATUS= updates still reach the manager. The STATUS
 * line is refreshed from the SIP thread's loop by a 1 s timerfd, sent
 * only when the count changed: a status that says "3 calls in progress"
 * is what `systemctl status sharewayd` shows an operator.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#define SW_LOG_MODULE "main"
#include "sipua.h"
#include "sw_log.h"
#include "sw_sdnotify.h"

static void status_send(struct sw_sdnotify *n, const char *extra)
{
	unsigned calls = sipua_call_count(n->ua);

	n->last_calls = calls;
	sd_notifyf(0, "%sSTATUS=%u call%s in progress", extra ? extra : "",
		   calls, calls == 1 ? "" : "s");
}


static void on_tick(int fd, void *arg)
{
	struct sw_sdnotify *n = arg;
	uint64_t ticks;

	if (read(fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		return;
	if (sipua_call_count(n->ua) != n->last_calls)
		status_send(n, NULL);
}


/**
 * READY=1 with the first STATUS: call it once every listener is bound
 * and the control socket answers, so that units ordered After= this one
 * (and `systemctl start`, which waits for it) find a daemon that accepts
 *
 * @return 0, or an errno value when the refresh timer cannot be watched
 *         (READY=1 was sent anyway)
 */
int sw_sdnotify_ready(struct sw_sdnotify *n, struct sipua *ua)
{
	struct itimerspec its = {{1, 0}, {1, 0}};
	const char *sock = getenv("NOTIFY_SOCKET");

	memset(n, 0, sizeof(*n));
	n->ua = ua;
	n->tick_fd = -1;
	if (!sock || !sock[0])
		return 0;
	status_send(n, "READY=1\n");
	n->tick_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (n->tick_fd < 0)
		return errno;
	timerfd_settime(n->tick_fd, 0, &its, NULL);
	if (sipua_fd_watch(ua, n->tick_fd, on_tick, n)) {
		close(n->tick_fd);
		n->tick_fd = -1;
		return EINVAL;
	}
	sw_info("service manager notified (NOTIFY_SOCKET %s)", sock);
	return 0;
}


/** RELOADING=1 before a reload, READY=1 when it is over (done) */
void sw_sdnotify_reloading(bool done)
{
	sd_notify(0, done ? "READY=1" : "RELOADING=1");
}


/** STOPPING=1: the shutdown has begun (calls are being ended) */
void sw_sdnotify_stopping(struct sw_sdnotify *n)
{
	(void)n;
	sd_notify(0, "STOPPING=1\nSTATUS=stopping: ending the calls in "
		  "progress, writing the call log");
}


void sw_sdnotify_close(struct sw_sdnotify *n)
{
	if (n->tick_fd < 0)
		return;
	sipua_fd_unwatch(n->ua, n->tick_fd);
	close(n->tick_fd);
	n->tick_fd = -1;
}
