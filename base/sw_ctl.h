/**
 * @file sw_ctl.h  The control socket: the `shareway` CLI's way into a
 * running sharewayd.
 *
 * A UNIX stream socket (mode 0660). A client sends one JSON line
 *   {"cmd": "status", "args": {...}}
 * and gets one JSON line back, then the server closes:
 *   {"ok": true, "result": {...}}   or   {"ok": false, "error": "..."}
 *
 * Loop-agnostic: the server is one file descriptor (an epoll set holding
 * the listener and its clients) that the owner's loop watches for
 * readability, calling sw_ctl_process() when it fires. Nothing blocks:
 * accept, reads and writes are non-blocking, a request is at most 64 KiB,
 * and a client that stalls for 5 s is dropped.
 *
 * Modules register handlers by command name. Several handlers may share
 * one name ("status", "stats"): each writes its members into the same
 * result object, in registration order. Handlers run on the thread that
 * calls sw_ctl_process() (the SIP thread in sharewayd).
 */
#ifndef SW_CTL_H
#define SW_CTL_H

#include <stdbool.h>
#include <stddef.h>

#include "sw_json.h"

#define SW_CTL_MAX_REQUEST (64u << 10)
#define SW_CTL_MAX_RESPONSE (64u << 20)

struct sw_ctl;

/**
 * Write members of the result object into res (an object is open)
 *
 * @param args  the request's "args" object, or NULL
 * @return 0, or an errno value: the request then fails with its text
 */
typedef int(sw_ctl_h)(struct sw_json *res, const struct sw_jval *args,
		      void *arg);

int sw_ctl_open(struct sw_ctl **ctlp, const char *path);
void sw_ctl_close(struct sw_ctl *ctl);
int sw_ctl_fd(const struct sw_ctl *ctl);
void sw_ctl_process(struct sw_ctl *ctl);
int sw_ctl_register(struct sw_ctl *ctl, const char *cmd, sw_ctl_h *h,
		    void *arg);

int sw_ctl_request(const char *path, const char *cmd, const char *args_json,
		   unsigned timeout_ms, struct sw_jval **resultp, char *err,
		   size_t errsz);

#endif
