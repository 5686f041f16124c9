/**
 * @file sw_ctl.c  Control socket server (non-blocking, one epoll fd for
 * the owner's loop) and the client the CLI uses.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define SW_LOG_MODULE "ctl"
#include "sw_clock.h"
#include "sw_accept.h"
#include "sw_ctl.h"
#include "sw_log.h"

#define CTL_MAX_CLIENTS 16
#define CTL_MAX_HANDLERS 64
#define CTL_IDLE_US (5 * 1000000LL)

struct ctl_client {
	int fd;                  /* -1: free slot */
	int64_t since_us;        /* accepted (monotonic) */
	char *in;                /* request bytes, SW_CTL_MAX_REQUEST */
	size_t inlen;
	char *out;               /* response, owned */
	size_t outlen, outoff;
};

struct ctl_handler {
	char cmd[32];
	sw_ctl_h *h;
	void *arg;
};

struct sw_ctl {
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int lfd, ep;
	struct sw_accept_reserve reserve; /* see sw_accept.h */
	struct ctl_client cl[CTL_MAX_CLIENTS];
	struct ctl_handler hd[CTL_MAX_HANDLERS];
	unsigned n_hd;
};



static int sun_set(struct sockaddr_un *sun, const char *path)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path))
		return ENAMETOOLONG;
	memcpy(sun->sun_path, path, strlen(path) + 1);
	return 0;
}


/* A socket file left by a dead daemon is removed; a live one is kept */
static int clear_stale(const char *path, const struct sockaddr_un *sun)
{
	struct stat stb;
	int fd, live;

	if (lstat(path, &stb))
		return errno == ENOENT ? 0 : errno;
	if (!S_ISSOCK(stb.st_mode))
		return EEXIST;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	live = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0;
	close(fd);
	if (live)
		return EADDRINUSE;
	return unlink(path) ? errno : 0;
}


static int listen_on(struct sw_ctl *ctl)
{
	struct sockaddr_un sun;
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = UINT32_MAX};
	int err;

	err = sun_set(&sun, ctl->path);
	if (!err)
		err = clear_stale(ctl->path, &sun);
	if (err)
		return err;
	ctl->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			  0);
	if (ctl->lfd < 0)
		return errno;
	if (bind(ctl->lfd, (struct sockaddr *)&sun, sizeof(sun)) ||
	    chmod(ctl->path, 0660) || listen(ctl->lfd, 16))
		return errno;
	ctl->ep = epoll_create1(EPOLL_CLOEXEC);
	if (ctl->ep < 0)
		return errno;
	if (epoll_ctl(ctl->ep, EPOLL_CTL_ADD, ctl->lfd, &ev))
		return errno;
	return sw_accept_reserve_open(&ctl->reserve);
}


static int help_h(struct sw_json *res, const struct sw_jval *args, void *arg)
{
	const struct sw_ctl *ctl = arg;

	(void)args;
	sw_json_arr_open(res, "commands");
	for (unsigned i = 0; i < ctl->n_hd; ++i) {
		bool dup = false;

		for (unsigned k = 0; k < i; ++k)
			dup |= !strcmp(ctl->hd[k].cmd, ctl->hd[i].cmd);
		if (!dup)
			sw_json_str(res, NULL, ctl->hd[i].cmd);
	}
	sw_json_arr_close(res);
	return 0;
}


/**
 * Create the socket (mode 0660) at path, replacing a stale one
 *
 * @return 0, EADDRINUSE if a daemon answers there, ENAMETOOLONG, errno
 */
int sw_ctl_open(struct sw_ctl **ctlp, const char *path)
{
	struct sw_ctl *ctl;
	int err;

	if (!ctlp || !path || !*path)
		return EINVAL;
	ctl = calloc(1, sizeof(*ctl));
	if (!ctl)
		return ENOMEM;
	ctl->lfd = ctl->ep = ctl->reserve.fd = -1;
	for (int i = 0; i < CTL_MAX_CLIENTS; ++i)
		ctl->cl[i].fd = -1;
	snprintf(ctl->path, sizeof(ctl->path), "%s", path);
	err = listen_on(ctl);
	if (!err)
		err = sw_ctl_register(ctl, "help", help_h, ctl);
	if (err) {
		if (ctl->lfd >= 0 && err != EADDRINUSE)
			unlink(ctl->path);
		if (ctl->lfd >= 0)
			close(ctl->lfd);
		if (ctl->ep >= 0)
			close(ctl->ep);
		sw_accept_reserve_close(&ctl->reserve);
		free(ctl);
		return err;
	}
	*ctlp = ctl;
	return 0;
}


static void client_drop(struct sw_ctl *ctl, struct ctl_client *c)
{
	if (c->fd < 0)
		return;
	epoll_ctl(ctl->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->in);
	free(c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}


/** Close every client and the listener, remove the socket file */
void sw_ctl_close(struct sw_ctl *ctl)
{
	if (!ctl)
		return;
	for (int i = 0; i < CTL_MAX_CLIENTS; ++i)
		client_drop(ctl, &ctl->cl[i]);
	close(ctl->lfd);
	close(ctl->ep);
	sw_accept_reserve_close(&ctl->reserve);
	unlink(ctl->path);
	free(ctl);
}


/** The fd to watch for readability; then call sw_ctl_process() */
int sw_ctl_fd(const struct sw_ctl *ctl)
{
	return ctl ? ctl->ep : -1;
}


/**
 * Add a handler for cmd (a name may have several, see sw_ctl.h)
 *
 * @return 0, EINVAL, ENOSPC (table full)
 */
int sw_ctl_register(struct sw_ctl *ctl, const char *cmd, sw_ctl_h *h,
		    void *arg)
{
	struct ctl_handler *hd;

	if (!ctl || !cmd || !*cmd || !h || strlen(cmd) >= sizeof(hd->cmd))
		return EINVAL;
	if (ctl->n_hd == CTL_MAX_HANDLERS)
		return ENOSPC;
	hd = &ctl->hd[ctl->n_hd++];
	snprintf(hd->cmd, sizeof(hd->cmd), "%s", cmd);
	hd->h = h;
	hd->arg = arg;
	return 0;
}


static void respond_error(struct sw_json *j, const char *msg)
{
	sw_json_reset(j);
	sw_json_obj_open(j, NULL);
	sw_json_bool(j, "ok", false);
	sw_json_str(j, "error", msg);
	sw_json_obj_close(j);
}


/* Run the handlers of the request's command into j */
static void dispatch(struct sw_ctl *ctl, const char *req, size_t len,
		     struct sw_json *j)
{
	struct sw_jval *v = NULL;
	const char *cmd;
	char msg[160];
	unsigned found = 0;
	int err = 0;

	if (sw_jval_parse(&v, req, len) || v->type != SW_JOBJ ||
	    !(cmd = sw_jval_str(v, "cmd", NULL))) {
		respond_error(j, "bad request: expected {\"cmd\": NAME}");
		goto out;
	}
	sw_json_obj_open(j, NULL);
	sw_json_bool(j, "ok", true);
	sw_json_obj_open(j, "result");
	for (unsigned i = 0; i < ctl->n_hd && !err; ++i) {
		if (strcmp(ctl->hd[i].cmd, cmd))
			continue;
		++found;
		err = ctl->hd[i].h(j, sw_jval_get(v, "args"), ctl->hd[i].arg);
	}
	sw_json_obj_close(j);
	sw_json_obj_close(j);
	if (!found)
		snprintf(msg, sizeof(msg), "unknown command '%.40s'", cmd);
	else if (err || sw_json_finish(j))
		snprintf(msg, sizeof(msg), "%.40s: %s", cmd,
			 strerror(err ? err : j->err));
	if (!found || err || j->err)
		respond_error(j, msg);
	sw_debug("[%s] request '%.40s' %s", ctl->path, cmd,
		 found && !err ? "answered" : "refused");
out:
	sw_jval_free(v);
}


static void client_write(struct sw_ctl *ctl, struct ctl_client *c)
{
	while (c->outoff < c->outlen) {
		ssize_t n = send(c->fd, c->out + c->outoff,
				 c->outlen - c->outoff, MSG_NOSIGNAL);

		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			client_drop(ctl, c);
			return;
		}
		c->outoff += (size_t)n;
	}
	client_drop(ctl, c);
}


/* A whole line arrived: answer it, then write as the socket allows */
static void client_request(struct sw_ctl *ctl, struct ctl_client *c,
			   size_t linelen)
{
	struct epoll_event ev = {.events = EPOLLOUT};
	struct sw_json j;

	sw_json_init(&j, false);
	dispatch(ctl, c->in, linelen, &j);
	if (!j.err && j.len > SW_CTL_MAX_RESPONSE)
		respond_error(&j, "response too large");
	if (sw_json_finish(&j) || !j.buf) {
		sw_json_free(&j);
		client_drop(ctl, c);
		return;
	}
	c->out = j.buf; /* ownership moves to the client */
	c->outlen = j.len;
	c->out[c->outlen++] = '\n'; /* where the NUL was: cap > len */
	ev.data.u32 = (uint32_t)(c - ctl->cl);
	epoll_ctl(ctl->ep, EPOLL_CTL_MOD, c->fd, &ev);
	client_write(ctl, c);
}


static void client_read(struct sw_ctl *ctl, struct ctl_client *c)
{
	for (;;) {
		ssize_t n = recv(c->fd, c->in + c->inlen,
				 SW_CTL_MAX_REQUEST - c->inlen, 0);
		char *nl;

		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			client_drop(ctl, c);
			return;
		}
		nl = memchr(c->in + c->inlen, '\n', (size_t)n);
		c->inlen += (size_t)n;
		if (nl) {
			client_request(ctl, c, (size_t)(nl - c->in));
			return;
		}
		if (c->inlen == SW_CTL_MAX_REQUEST) {
			sw_warn("[%s] request over %u bytes dropped",
				ctl->path, SW_CTL_MAX_REQUEST);
			client_drop(ctl, c);
			return;
		}
	}
}


/* A free slot: the oldest client is evicted when all are taken */
static struct ctl_client *client_slot(struct sw_ctl *ctl)
{
	struct ctl_client *oldest = &ctl->cl[0];

	for (int i = 0; i < CTL_MAX_CLIENTS; ++i) {
		if (ctl->cl[i].fd < 0)
			return &ctl->cl[i];
		if (ctl->cl[i].since_us < oldest->since_us)
			oldest = &ctl->cl[i];
	}
	client_drop(ctl, oldest);
	return oldest;
}


static void accept_all(struct sw_ctl *ctl)
{
	for (;;) {
		int fd = accept4(ctl->lfd, NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct epoll_event ev = {.events = EPOLLIN};
		struct ctl_client *c;

		if (fd < 0) {
			/* out of descriptors: the listener would stay readable
			 * and the SIP loop spin; the waiting CLI connections
			 * are closed instead (sw_accept.h) */
			int err = errno;
			unsigned shed;

			if (!sw_accept_exhausted(err))
				return;
			shed = sw_accept_shed(&ctl->reserve, ctl->lfd,
					      SW_ACCEPT_SHED_MAX);
			sw_log_limited(SW_LOG_WARN, "[%s] accept: %s: %u "
				       "waiting connections closed",
				       ctl->path, strerror(err), shed);
			return;
		}
		c = client_slot(ctl);
		c->in = malloc(SW_CTL_MAX_REQUEST);
		ev.data.u32 = (uint32_t)(c - ctl->cl);
		if (!c->in || epoll_ctl(ctl->ep, EPOLL_CTL_ADD, fd, &ev)) {
			free(c->in);
			c->in = NULL;
			close(fd);
			continue;
		}
		c->fd = fd;
		c->since_us = sw_mono_us();
	}
}


/** Serve whatever is ready; never blocks */
void sw_ctl_process(struct sw_ctl *ctl)
{
	struct epoll_event evs[CTL_MAX_CLIENTS + 1];
	int64_t now = sw_mono_us();
	int n;

	if (!ctl)
		return;
	n = epoll_wait(ctl->ep, evs, CTL_MAX_CLIENTS + 1, 0);
	for (int i = 0; i < n; ++i) {
		struct ctl_client *c;

		if (evs[i].data.u32 == UINT32_MAX) {
			accept_all(ctl);
			continue;
		}
		c = &ctl->cl[evs[i].data.u32 % CTL_MAX_CLIENTS];
		if (c->fd < 0)
			continue;
		if (c->out)
			client_write(ctl, c);
		else
			client_read(ctl, c);
	}
	for (int i = 0; i < CTL_MAX_CLIENTS; ++i)
		if (ctl->cl[i].fd >= 0 && now - ctl->cl[i].since_us > CTL_IDLE_US)
			client_drop(ctl, &ctl->cl[i]);
}


/* ---- client ------------------------------------------------------------ */

static int ctl_connect(const char *path, unsigned timeout_ms, char *err,
		       size_t errsz)
{
	struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
	struct sockaddr_un sun;
	int fd, e;

	if (sun_set(&sun, path)) {
		snprintf(err, errsz, "%s: path too long for a socket", path);
		return -ENAMETOOLONG;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
		return fd;
	e = errno;
	close(fd);
	if (e == ENOENT || e == ECONNREFUSED)
		snprintf(err, errsz, "sharewayd is not running (no control "
			 "socket answers at %s)", path);
	else if (e == EACCES)
		snprintf(err, errsz, "%s: permission denied; run as root or "
			 "as a member of sharewayd's group", path);
	else
		snprintf(err, errsz, "%s: %s", path, strerror(e));
	return -e;
}


static int read_all(int fd, char **bufp, size_t *lenp)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);

	if (!buf)
		return ENOMEM;
	for (;;) {
		ssize_t n;

		if (len + 1 == cap) {
			char *b = cap >= SW_CTL_MAX_RESPONSE ? NULL :
							      realloc(buf, cap * 2);

			if (!b) {
				free(buf);
				return EMSGSIZE;
			}
			buf = b;
			cap *= 2;
		}
		n = recv(fd, buf + len, cap - len - 1, 0);
		if (n < 0) {
			int e = errno == EAGAIN ? ETIMEDOUT : errno;

			free(buf);
			return e;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*bufp = buf;
	*lenp = len;
	return 0;
}


/* Send the request line; read and parse the whole response */
static int exchange(int fd, const char *cmd, const char *args_json,
		    struct sw_jval **vp, char *err, size_t errsz)
{
	struct sw_json j;
	char *resp = NULL;
	size_t len = 0;
	int e;

	sw_json_init(&j, false);
	sw_json_obj_open(&j, NULL);
	sw_json_str(&j, "cmd", cmd);
	if (args_json)
		sw_json_raw(&j, "args", args_json);
	sw_json_obj_close(&j);
	e = sw_json_finish(&j);
	if (!e && (send(fd, j.buf, j.len, MSG_NOSIGNAL) != (ssize_t)j.len ||
		   send(fd, "\n", 1, MSG_NOSIGNAL) != 1))
		e = errno ? errno : EIO;
	sw_json_free(&j);
	if (!e)
		e = read_all(fd, &resp, &len);
	if (!e && sw_jval_parse(vp, resp, len))
		e = EBADMSG;
	free(resp);
	if (e)
		snprintf(err, errsz, "control socket: %s",
			 e == EBADMSG ? "unreadable answer" : strerror(e));
	return e;
}


/**
 * Send one command to the daemon and wait for its answer
 *
 * @param args_json  the "args" object as JSON text, or NULL
 * @param resultp    receives the answer's "result" object (the caller
 *                   frees it with sw_jval_free)
 * @return 0; ENOENT or ECONNREFUSED (no daemon), EACCES, ETIMEDOUT,
 *         EBADMSG; EREMOTEIO when the daemon refused (err holds why)
 */
int sw_ctl_request(const char *path, const char *cmd, const char *args_json,
		   unsigned timeout_ms, struct sw_jval **resultp, char *err,
		   size_t errsz)
{
	struct sw_jval *v = NULL, *res, **pp;
	int fd, e;

	fd = ctl_connect(path, timeout_ms, err, errsz);
	if (fd < 0)
		return -fd;
	e = exchange(fd, cmd, args_json, &v, err, errsz);
	close(fd);
	if (e)
		return e;
	if (!sw_jval_bool(v, "ok", false)) {
		snprintf(err, errsz, "%s", sw_jval_str(v, "error", "refused"));
		sw_jval_free(v);
		return EREMOTEIO;
	}
	/* detach "result" from the answer */
	for (pp = &v->child; *pp && strcmp((*pp)->key ? (*pp)->key : "",
					   "result");
	     pp = &(*pp)->next)
		;
	res = *pp;
	if (res) {
		*pp = res->next;
		res->next = NULL;
	}
	sw_jval_free(v);
	if (!res || res->type != SW_JOBJ) {
		sw_jval_free(res);
		snprintf(err, errsz, "control socket: answer without result");
		return EBADMSG;
	}
	*resultp = res;
	return 0;
}
