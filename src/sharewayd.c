/**
 * @file sharewayd.c  The daemon: load configuration, start the threads,
 * run until SIGINT/SIGTERM, reload rules on SIGHUP.
 *
 * Threads (docs/ARCHITECTURE.md): this main thread is the SIP thread; the
 * relay threads and the call-log writer are started from here and talk to
 * it only through value messages (sw_mq).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#define SW_LOG_MODULE "main"
#include "relay.h"
#include "sipua.h"
#include "sw_calllog.h"
#include "sw_check.h"
#include "sw_ctl.h"
#include "sw_gw.h"
#include "sw_log.h"
#include "sw_rules.h"

/* What the SIP thread's signal handler works on */
struct sigctx {
	const struct sw_conf *conf;
	struct sipua *ua;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: sharewayd [-c FILE] [--check-config] [-v]\n"
		"  -c, --config FILE   configuration (default "
		"/etc/shareway/shareway.conf)\n"
		"      --check-config  check everything a start needs (the "
		"configuration,\n"
		"                      its TLS files and paths, the rule file), "
		"then exit\n"
		"  -d, --debug         log at debug level\n"
		"  -s, --state-dir DIR run-time files (socket, call log) here\n"
		"  -V, --version       print the version\n");
}


static void log_listeners(const struct sw_conf *conf)
{
	char a[SW_SA_STRLEN];

	for (unsigned i = 0; i < conf->n_sip_listen; ++i)
		sw_notice("SIP listening on %s:%s",
			  sw_transport_name(conf->sip_listen[i].tp),
			  sw_sa_str(&conf->sip_listen[i].addr, a, sizeof(a)));
	/* "TURN listening on" is logged by relay_start() once bound */
}


/* Relay thread events. The app-sharing coordinator consumes them; until
 * a call asks for them they are only logged. */
/* Raise the fd limit ourselves: 10,000 bridged TCP pairs need 20,000+ */
static void raise_nofile(uint32_t want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	if (rl.rlim_cur >= want)
		return;
	rl.rlim_cur = want;
	if (rl.rlim_max < want)
		rl.rlim_max = want; /* works as root */
	if (setrlimit(RLIMIT_NOFILE, &rl)) {
		getrlimit(RLIMIT_NOFILE, &rl);
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	getrlimit(RLIMIT_NOFILE, &rl);
	sw_info("open file limit %llu", (unsigned long long)rl.rlim_cur);
}


static int make_dir(const char *dir)
{
	if (mkdir(dir, 0750) && errno != EEXIST) {
		sw_error("cannot create state_dir %s: %s", dir,
			 strerror(errno));
		return errno;
	}
	return 0;
}


/* SIGHUP: a new rule set for new calls; calls in progress keep theirs,
 * and a file that does not load leaves the current set in force. From
 * `shareway reload`, res gets the outcome. */
static void rules_reload(struct sigctx *sc, struct sw_json *res)
{
	struct sw_rules *r = NULL;
	char err[512];
	int e;

	e = sw_rules_load(&r, sc->conf->rules_file, sc->conf, err,
			  sizeof(err));
	if (e) {
		sw_error("rules reload refused, previous rules stay in force: "
			 "%s",
			 err);
		if (res) {
			sw_json_bool(res, "reloaded", false);
			sw_json_str(res, "error", err);
		}
		return;
	}
	sipua_set_rules(sc->ua, r);
	sw_notice("rules reloaded from %s: %u rules", sw_rules_path(r),
		  sw_rules_count(r));
	if (res) {
		sw_json_bool(res, "reloaded", true);
		sw_json_str(res, "rules", sw_rules_path(r));
		sw_json_int(res, "count", sw_rules_count(r));
	}
	sw_rules_unref(r);
}


static void on_signal(int fd, void *arg)
{
	struct sigctx *sc = arg;
	struct signalfd_siginfo si;

	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			sw_notice("SIGHUP: reload requested");
			rules_reload(sc, NULL);
			continue;
		}
		sw_notice("%s: shutting down",
			  si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
		sipua_shutdown(sc->ua);
	}
}


/* ---- call log and control socket ------------------------------------ */

static int64_t started_us;


static void on_ctl(int fd, void *arg)
{
	(void)fd;
	sw_ctl_process(arg);
}


static int ctl_reload(struct sw_json *res, const struct sw_jval *args,
		      void *arg)
{
	(void)args;
	sw_notice("control socket: reload requested");
	rules_reload(arg, res);
	return 0;
}


static int ctl_status(struct sw_json *res, const struct sw_jval *args,
		      void *arg)
{
	const struct sigctx *sc = arg;

	(void)args;
	sw_json_obj_open(res, "daemon");
	sw_json_str(res, "version", PACKAGE_VERSION);
	sw_json_int(res, "pid", getpid());
	sw_json_str(res, "config", sc->conf->path);
	sw_json_str(res, "state_dir", sc->conf->state_dir);
	sw_json_int(res, "started_us", started_us);
	sw_json_int(res, "uptime_s", (sw_calllog_now() - started_us) / 1000000);
	sw_json_int(res, "sip_calls", sipua_call_count(sc->ua));
	sw_json_int(res, "sip_overload_rejects",
		    (int64_t)sipua_overload_rejects(sc->ua));
	sw_json_obj_close(res);
	return 0;
}


static int ctl_turn_stats(struct sw_json *res, const struct sw_jval *args,
			  void *arg)
{
	struct turn_counters c;

	(void)args;
	relay_counters(arg, &c);
	sw_json_obj_open(res, "turn");
	sw_json_int(res, "allocs_udp", (int64_t)c.allocs_udp);
	sw_json_int(res, "allocs_tcp", (int64_t)c.allocs_tcp);
	sw_json_int(res, "allocs_total", (int64_t)c.allocs_total);
	sw_json_int(res, "conns_active", (int64_t)c.conns_active);
	sw_json_int(res, "conns_total", (int64_t)c.conns_total);
	sw_json_int(res, "bytes_to_peer", (int64_t)c.bytes_to_peer);
	sw_json_int(res, "bytes_to_client", (int64_t)c.bytes_to_client);
	sw_json_int(res, "auth_failures", (int64_t)c.auth_failures);
	sw_json_int(res, "denied_peers", (int64_t)c.denied_peers);
	sw_json_int(res, "bad_messages", (int64_t)c.bad_messages);
	sw_json_int(res, "dropped", (int64_t)c.dropped);
	sw_json_int(res, "accept_paused", (int64_t)c.accept_paused);
	sw_json_int(res, "accept_shed", (int64_t)c.accept_shed);
	sw_json_int(res, "prebind_bytes", (int64_t)c.prebind_bytes);
	sw_json_obj_close(res);
	return 0;
}


/* The writer thread (and, for tests, a synthetic load feeding it) */
static int calllog_start(const struct sw_conf *conf, uint32_t synth_rate,
			 struct sw_calllog **clp, struct sw_calllog_synth **syp)
{
	struct sw_calllog_opts o = {conf->calllog_path,
				    conf->calllog_retention_days,
				    conf->calllog_max_calls, 0, 0, 0};
	int e;

	e = sw_calllog_open(clp, &o);
	if (e)
		return e;
	sw_notice("call log %s", conf->calllog_path);
	if (synth_rate)
		e = sw_calllog_synth_start(syp, *clp, synth_rate);
	return e;
}


/* The control socket, served from the SIP thread's loop */
static int ctl_start(struct sigctx *sc, struct sw_calllog *cl,
		     struct sw_ctl **ctlp)
{
	int e;

	e = sw_ctl_open(ctlp, sc->conf->control_socket);
	if (e) {
		sw_error("control socket %s: %s", sc->conf->control_socket,
			 e == EADDRINUSE ? "another sharewayd answers there" :
					   strerror(e));
		return e;
	}
	e = sw_ctl_register(*ctlp, "status", ctl_status, sc);
	if (!e)
		e = sw_ctl_register(*ctlp, "reload", ctl_reload, sc);
	if (!e)
		e = sw_calllog_ctl_register(cl, *ctlp);
	if (!e)
		e = sipua_fd_watch(sc->ua, sw_ctl_fd(*ctlp), on_ctl, *ctlp);
	if (!e)
		sw_notice("control socket %s", sc->conf->control_socket);
	return e;
}


int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"check-config", no_argument, NULL, 'C'},
		{"debug", no_argument, NULL, 'd'},
		{"state-dir", required_argument, NULL, 's'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{"synthetic-load", required_argument, NULL, 'L'},
		{NULL, 0, NULL, 0},
	};
	const char *path = "/etc/shareway/shareway.conf";
	static struct sw_conf conf;
	bool check_only = false, debug = false;
	const char *state_dir = NULL;
	char err[1024];
	struct sw_check_notes notes;
	sigset_t sigs;
	struct sw_rules *rules = NULL;
	struct sigctx sc = {&conf, NULL};
	struct relay *relay = NULL;
	struct sw_calllog *cl = NULL;
	struct sw_calllog_synth *synth = NULL;
	struct sw_ctl *ctl = NULL;
	static struct sw_gw gw;
	uint32_t synth_rate = 0;
	int c, sfd, e;

	while ((c = getopt_long(argc, argv, "c:ds:Vh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': path = optarg; break;
		case 'C': check_only = true; break;
		case 'd': debug = true; break;
		case 's': state_dir = optarg; break;
		case 'V': printf("sharewayd %s\n", PACKAGE_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		case 'L': synth_rate = (uint32_t)strtoul(optarg, NULL, 10); break;
		default: usage(stderr); return 2;
		}
	}

	sw_log_init(SW_LOG_INFO, false, "sharewayd");
	/* what --check-config checks is what a start needs: one function */
	e = sw_check_load(&conf, path, state_dir, &rules, &notes, err,
			  sizeof(err));
	if (e) {
		sw_error("configuration refused: %s", err);
		return 1;
	}
	sw_log_init(debug ? SW_LOG_DEBUG : conf.log_level, conf.log_syslog,
		    "sharewayd");
	for (unsigned i = 0; i < notes.n; ++i)
		sw_warn("%s", notes.text[i]);
	if (check_only) {
		printf("%s: configuration OK (%u zones, %u rules from %s)\n",
		       path, conf.n_zones, sw_rules_count(rules),
		       sw_rules_path(rules));
		sw_rules_unref(rules);
		return 0;
	}

	sw_notice("sharewayd %s starting with %s", PACKAGE_VERSION, path);
	if (make_dir(conf.state_dir))
		return 1;
	raise_nofile(conf.max_open_files);
	started_us = sw_calllog_now();

	/* Block the signals in every thread; the SIP thread reads them. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) {
		sw_error("signalfd: %s", strerror(errno));
		return 1;
	}

	e = calllog_start(&conf, synth_rate, &cl, &synth);
	if (e) {
		sw_calllog_synth_stop(synth);
		sw_calllog_close(cl);
		sw_rules_unref(rules);
		return 1;
	}
	e = sipua_create(&sc.ua, &conf, rules);
	sw_rules_unref(rules);
	if (e || sipua_fd_watch(sc.ua, sfd, on_signal, &sc) ||
	    ctl_start(&sc, cl, &ctl)) {
		sw_error("SIP stack not started: %s", strerror(e ? e : EINVAL));
		sipua_destroy(sc.ua); /* unwatches the socket's fd */
		sw_ctl_close(ctl);
		sw_calllog_synth_stop(synth);
		sw_calllog_close(cl);
		return 1;
	}
	if ((conf.turn_enable && (e = relay_start(&relay, &conf, NULL, NULL))) ||
	    (e = sw_gw_init(&gw, sc.ua, relay, cl, &conf))) {
		sw_error("TURN relay or app-sharing coordinator not started: %s",
			 strerror(e));
		relay_stop(relay);
		sipua_destroy(sc.ua); /* unwatches the socket's fd */
		sw_ctl_close(ctl);
		sw_calllog_synth_stop(synth);
		sw_calllog_close(cl);
		return 1;
	}
	if (relay && sw_ctl_register(ctl, "stats", ctl_turn_stats, relay))
		sw_warn("control socket: TURN counters not served");
	if (sw_gw_ctl_register(&gw, ctl))
		sw_warn("control socket: active calls and relays not served");
	log_listeners(&conf);
	sw_notice("ready");
	sipua_run(sc.ua);
	sw_gw_close(&gw);
	relay_stop(relay); /* joins the relay threads, closes everything */
	sipua_destroy(sc.ua); /* unwatches the socket's fd */
	sw_ctl_close(ctl);
	sw_calllog_synth_stop(synth);
	sw_calllog_close(cl); /* writes what is queued, joins the writer */
	close(sfd);
	sw_notice("stopped");
	return 0;
}
