/**
 * @file sw_metrics.c  /metrics over HTTP with libmicrohttpd (sw_metrics.h).
 *
 * libmicrohttpd (Debian libmicrohttpd12) is the HTTP server library made
 * for embedding one: its own polling thread (epoll), bounded connections
 * and memory, keep-alive, HEAD. GET and HEAD of /metrics get the page,
 * any other path 404, any other method 405 with Allow. The thread
 * inherits the signal mask of the thread that starts it: sharewayd starts
 * it after blocking SIGINT/SIGTERM/SIGHUP, which its SIP thread reads.
 * What a client can trigger at will (the connection limits) is logged
 * through sw_log_limited().
 */
#include <errno.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SW_LOG_MODULE "metrics"
#include "sw_log.h"
#include "sw_metrics.h"

struct sw_metrics {
	struct MHD_Daemon *d;
	sw_metrics_collect_fn *fn;
	void *arg;
};

static const char ctype[] = "text/plain; version=0.0.4; charset=utf-8";


static enum MHD_Result answer(struct MHD_Connection *conn, unsigned code,
			      char *body, size_t len, bool allow)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer_with_free_callback(len, body,
							       free);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	if (allow)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	return ret;
}


static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_size, void **req_cls)
{
	static int seen;
	struct sw_metrics *m = cls;
	bool get = !strcmp(method, MHD_HTTP_METHOD_GET) ||
		   !strcmp(method, MHD_HTTP_METHOD_HEAD);
	struct sw_prom p;
	char *body;

	(void)version;
	(void)upload;
	if (!get) /* at once, the body unread */
		return answer(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
			      strdup("method not allowed\n"), 19, true);
	/* the first call has the headers only: answering then would make
	 * MHD close the connection (no keep-alive between scrapes) */
	if (!*req_cls) {
		*req_cls = &seen;
		return MHD_YES;
	}
	if (*upload_size)
		return MHD_NO;
	if (strcmp(url, "/metrics"))
		return answer(conn, MHD_HTTP_NOT_FOUND, strdup("not found\n"),
			      10, false);
	sw_prom_init(&p);
	m->fn(&p, m->arg);
	if (p.err || !p.buf) {
		sw_prom_free(&p);
		sw_log_limited(SW_LOG_WARN, "[metrics] page not rendered: "
			       "out of memory");
		return answer(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
			      strdup("out of memory\n"), 14, false);
	}
	body = p.buf;
	return answer(conn, MHD_HTTP_OK, body, p.len, false);
}


__attribute__((format(printf, 2, 0)))
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[256];
	size_t n;

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	sw_log_limited(SW_LOG_WARN, "[metrics] libmicrohttpd: %s", line);
}


/**
 * Listen on addr and serve /metrics, rendered by fn(p, arg) on the
 * listener's thread at each scrape
 *
 * @return 0 or an errno value (EADDRINUSE, EACCES...)
 */
int sw_metrics_start(struct sw_metrics **mp, const struct sw_sa *addr,
		     sw_metrics_collect_fn *fn, void *arg)
{
	struct sw_metrics *m = calloc(1, sizeof(*m));
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
			 MHD_USE_ERROR_LOG;
	char a[SW_SA_STRLEN];

	if (!m)
		return ENOMEM;
	if (sw_sa_af(addr) == AF_INET6)
		flags |= MHD_USE_IPv6;
	m->fn = fn;
	m->arg = arg;
	errno = 0;
	m->d = MHD_start_daemon(
		flags, 0 /* the port is SOCK_ADDR's */, NULL, NULL, on_request,
		m, MHD_OPTION_SOCK_ADDR, &addr->u.sa,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)16,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)4,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)16384,
		MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)16,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_END);
	if (!m->d) {
		int e = errno ? errno : EADDRNOTAVAIL;

		free(m);
		sw_error("[metrics] cannot listen on %s: %s",
			 sw_sa_str(addr, a, sizeof(a)), strerror(e));
		return e;
	}
	sw_notice("metrics on http://%s/metrics",
		  sw_sa_str(addr, a, sizeof(a)));
	*mp = m;
	return 0;
}


/** Stop listening; joins the thread, closes every connection */
void sw_metrics_stop(struct sw_metrics *m)
{
	if (!m)
		return;
	MHD_stop_daemon(m->d);
	free(m);
}
