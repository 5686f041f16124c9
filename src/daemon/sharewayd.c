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
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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
#include "sw_drain.h"
#include "sw_gw.h"
#include "sw_gwcluster.h"
#include "sw_log.h"
#include "sw_metrics.h"
#include "sw_rules.h"
#include "sw_sdnotify.h"

/* What is in force and what the last reload did (shareway status) */
struct inforce {
	char rules_file[SW_CONF_PATH];
	unsigned n_rules, n_zones;
	int64_t loaded_us;           /* when that rule set was loaded */
	int64_t reload_us;           /* the last reload tried, 0: none */
	bool reload_ok;
	char reload_error[1024];
	struct sw_check_notes notes; /* what the last load passed with */
	char restart[512];           /* changed keys a reload cannot apply */
	char turn_error[160];        /* TURN users not handed over */
};

/* What the SIP thread's signal handler works on */
struct sigctx {
	const struct sw_conf *conf;  /* as started: what needs a restart */
	const char *state_dir;       /* --state-dir, or NULL */
	bool debug;                  /* -d: debug whatever log_level says */
	struct sipua *ua;
	struct relay *relay;         /* NULL until started, or TURN off */
	struct sw_gwcluster *gcl;    /* [cluster]: PostgreSQL's TURN users */
	struct sw_gw *gw;            /* NULL until started */
	struct inforce in;
	struct sw_sdnotify notify;   /* the unit's Type=notify */
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: sharewayd [-c FILE] [--check-config] [-v]\n"
		"  -c, --config FILE   configuration (default "
		SW_CONF_DEFAULT ")\n"
		"      --check-config  check everything a start needs (the "
		"configuration,\n"
		"                      its TLS files and paths, the rule file), "
		"then exit\n"
		"  -d, --debug         log at debug level\n"
		"  -s, --state-dir DIR run-time files (socket, call log) here\n"
		"                      (default " SW_STATE_DIR ")\n"
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


/* The CLI built beside this daemon (a build tree), else the one on PATH */
static void cli_name(char *out, size_t sz)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	snprintf(out, sz, "shareway");
	if (n <= 0)
		return;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (!slash)
		return;
	snprintf(slash + 1, sizeof(self) - (size_t)(slash + 1 - self),
		 "shareway");
	if (!access(self, X_OK))
		snprintf(out, sz, "%s", self);
}


/* The line an operator types next to reach this daemon: `shareway
 * status` when the CLI's defaults lead to its control socket, else the
 * options that do */
static void log_cli_line(const struct sw_conf *conf, const char *state_dir)
{
	static struct sw_conf def;
	char cli[PATH_MAX], path[PATH_MAX], err[256];

	cli_name(cli, sizeof(cli));
	if (!sw_conf_load_default(&def, err, sizeof(err)) &&
	    !strcmp(def.control_socket, conf->control_socket)) {
		sw_notice("operator CLI: %s status", cli);
		return;
	}
	if (!realpath(conf->path, path))
		snprintf(path, sizeof(path), "%s", conf->path);
	sw_notice("operator CLI: %s -c %s%s%s status", cli, path,
		  state_dir ? " -s " : "", state_dir ? state_dir : "");
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


static int make_dir(const char *key, const char *dir)
{
	if (mkdir(dir, 0750) && errno != EEXIST) {
		sw_error("cannot create %s %s: %s", key, dir, strerror(errno));
		return errno;
	}
	return 0;
}


/* The control socket's directory: state_dir by default, RuntimeDirectory
 * (/run/shareway) in the packaged configuration, made by sharewayd when
 * it runs outside systemd */
static int make_socket_dir(const char *sock)
{
	char dir[SW_CONF_PATH];

	snprintf(dir, sizeof(dir), "%s", sock);
	return make_dir("control_socket directory", dirname(dir));
}


static void inforce_set(struct inforce *in, const struct sw_rules *r)
{
	unsigned n;

	snprintf(in->rules_file, sizeof(in->rules_file), "%s",
		 sw_rules_path(r));
	in->n_rules = sw_rules_count(r);
	sw_rules_zones(r, &n);
	in->n_zones = n;
	in->loaded_us = sw_calllog_now();
}


/* The rules in force and the last reload, for status and reload */
static void inforce_json(struct sw_json *res, const struct inforce *in)
{
	sw_json_obj_open(res, "rules");
	sw_json_str(res, "file", in->rules_file);
	sw_json_int(res, "count", in->n_rules);
	sw_json_int(res, "zones", in->n_zones);
	sw_json_int(res, "loaded_us", in->loaded_us);
	sw_json_obj_close(res);
	if (!in->reload_us)
		return;
	sw_json_obj_open(res, "reload");
	sw_json_int(res, "at_us", in->reload_us);
	sw_json_bool(res, "ok", in->reload_ok);
	if (!in->reload_ok)
		sw_json_str(res, "error", in->reload_error);
	sw_json_arr_open(res, "warnings");
	for (unsigned i = 0; i < in->notes.n; ++i)
		sw_json_str(res, NULL, in->notes.text[i]);
	if (in->turn_error[0])
		sw_json_str(res, NULL, in->turn_error);
	sw_json_arr_close(res);
	if (in->restart[0])
		sw_json_str(res, "restart_needed", in->restart);
	sw_json_obj_close(res);
}


/* The new configuration's TURN users and REST secret to the relay
 * threads, by value */
static void turn_users_reload(struct sigctx *sc, struct sw_conf *nc)
{
	int e;

	sc->in.turn_error[0] = '\0';
	if (!sc->relay)
		return;
	sw_gwcluster_reloaded(sc->gcl, nc);
	sw_gwcluster_merge_creds(sc->gcl, nc);
	e = relay_set_users(sc->relay, nc);
	if (!e)
		return;
	snprintf(sc->in.turn_error, sizeof(sc->in.turn_error),
		 "TURN users and secret not handed to every relay thread "
		 "(%s): some keep the previous ones; reload again",
		 strerror(e));
	sw_error("%s", sc->in.turn_error);
}


/* [hep]: a reload sends to the new collector from then on (the socket
 * is the SIP thread's, as is every send) */
static void hep_reload(struct sigctx *sc, const struct sw_conf *nc)
{
	if (!sc->gw)
		return;
	sw_gw_hep_close(sc->gw);
	sw_gw_hep_open(sc->gw, nc);
}


/* [log] modules in force (checked by sw_check_observe) */
static void log_modules_apply(const struct sw_conf *conf)
{
	int levels[64];
	char err[256];

	if (!sw_log_modules_parse(conf->log_modules, levels, err, sizeof(err)))
		sw_log_modules_apply(levels);
}


/*
 * SIGHUP or `shareway reload`: the configuration is checked whole, as a
 * start would (sw_check_load), and only then applied: the dial plan with
 * its zones for new calls (a call in progress keeps the rules and zones
 * it started with), the TURN users and REST secret (allocations in
 * progress keep the key of their Allocate), the log level. The keys a
 * reload cannot apply (listeners, TLS, ...) are named as needing a
 * restart. A file that does not load changes nothing. res (from the
 * control socket) gets the outcome.
 */
static void config_reload(struct sigctx *sc, struct sw_json *res)
{
	struct sw_conf *nc = malloc(sizeof(*nc));
	struct sw_check_notes notes;
	struct sw_rules *r = NULL;
	char err[1024];
	int e;

	sw_sdnotify_reloading(false);
	sc->in.reload_us = sw_calllog_now();
	e = nc ? sw_check_load(nc, sc->conf->path, sc->state_dir, &r, &notes,
			       err, sizeof(err))
	       : ENOMEM;
	if (e) {
		if (!nc)
			snprintf(err, sizeof(err), "out of memory");
		sc->in.reload_ok = false;
		snprintf(sc->in.reload_error, sizeof(sc->in.reload_error), "%s",
			 err);
		sw_error("reload refused, the configuration in force stays "
			 "(rules from %s): %s", sc->in.rules_file, err);
		if (res) {
			sw_json_bool(res, "reloaded", false);
			sw_json_str(res, "error", err);
			inforce_json(res, &sc->in);
		}
		free(nc);
		sw_sdnotify_reloading(true);
		return;
	}
	sipua_set_plan(sc->ua, r);
	turn_users_reload(sc, nc);
	if (!sc->debug)
		sw_log_set_level(nc->log_level);
	log_modules_apply(nc);
	hep_reload(sc, nc);
	sc->in.reload_ok = true;
	sc->in.notes = notes;
	inforce_set(&sc->in, r);
	sw_conf_restart_keys(sc->conf, nc, sc->in.restart,
			     sizeof(sc->in.restart));
	sw_notice("rules reloaded from %s: %u rules, %u zones, log level %s",
		  sw_rules_path(r), sw_rules_count(r), sc->in.n_zones,
		  sw_log_level_name(sw_log_get_level()));
	for (unsigned i = 0; i < notes.n; ++i)
		sw_warn("reload: %s", notes.text[i]);
	if (sc->in.restart[0])
		sw_warn("reload: changed, applied only by a restart: %s",
			sc->in.restart);
	if (res) {
		sw_json_bool(res, "reloaded", true);
		inforce_json(res, &sc->in);
	}
	sw_rules_unref(r);
	free(nc);
	sw_sdnotify_reloading(true);
}


static void on_signal(int fd, void *arg)
{
	struct sigctx *sc = arg;
	struct signalfd_siginfo si;

	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			sw_notice("SIGHUP: reload requested");
			config_reload(sc, NULL);
			continue;
		}
		sw_notice("%s: shutting down",
			  si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
		sw_sdnotify_stopping(&sc->notify);
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
	config_reload(arg, res);
	return 0;
}


/* Each peer of the zones' peer lists, as probed and used (status) */
static void peers_json(struct sw_json *res, const struct sipua *ua)
{
	static struct sipua_peer_info v[SIPUA_MAX_PEERS]; /* SIP thread */
	unsigned n = sipua_peers_info(ua, v, SIPUA_MAX_PEERS);

	if (!n)
		return;
	sw_json_arr_open(res, "peers");
	for (unsigned i = 0; i < n; ++i) {
		sw_json_obj_open(res, NULL);
		sw_json_str(res, "zone", v[i].zone);
		sw_json_str(res, "uri", v[i].uri);
		sw_json_int(res, "priority", v[i].priority);
		sw_json_int(res, "weight", v[i].weight);
		sw_json_str(res, "state", v[i].up ? "up" : "down");
		sw_json_int(res, "down_since_us", v[i].down_since_us);
		sw_json_int(res, "hold_until_us", v[i].hold_until_us);
		sw_json_int(res, "last_probe_us", v[i].last_probe_us);
		sw_json_int(res, "last_answer_us", v[i].last_answer_us);
		sw_json_int(res, "last_status", v[i].last_status);
		sw_json_str(res, "last_phrase", v[i].last_phrase);
		sw_json_str(res, "why", v[i].why);
		sw_json_int(res, "probes", (int64_t)v[i].probes);
		sw_json_int(res, "probes_failed", (int64_t)v[i].probes_failed);
		sw_json_int(res, "calls", (int64_t)v[i].calls);
		sw_json_int(res, "failovers", (int64_t)v[i].failovers);
		sw_json_obj_close(res);
	}
	sw_json_arr_close(res);
}


/* The levels in force, global and per module (`shareway log-level`) */
static void log_levels_json(struct sw_json *res)
{
	enum sw_log_level g = sw_log_get_level();

	sw_json_str(res, "global", sw_log_level_name(g));
	sw_json_arr_open(res, "modules");
	for (unsigned i = 0; i < sw_log_module_count(); ++i) {
		int l = sw_log_module_get(i);

		sw_json_obj_open(res, NULL);
		sw_json_str(res, "module", sw_log_module_name(i));
		sw_json_str(res, "level", l == SW_LOG_MOD_FOLLOW
			    ? "default" : sw_log_level_name(l));
		sw_json_str(res, "effective", sw_log_level_name(
			    l == SW_LOG_MOD_FOLLOW ? g
						   : (enum sw_log_level)l));
		sw_json_obj_close(res);
	}
	sw_json_arr_close(res);
}


/*
 * `shareway log-level [MODULE] [LEVEL]`: args {"module", "level"}; no
 * level lists the levels. A run-time change lasts until the next reload
 * or restart, which apply [general] log_level and [log] modules again.
 */
static int ctl_log_level(struct sw_json *res, const struct sw_jval *args,
			 void *arg)
{
	const char *mod = sw_jval_str(args, "module", NULL);
	const char *lvl = sw_jval_str(args, "level", NULL);
	enum sw_log_level l = SW_LOG_INFO;
	bool deflt = lvl && !strcasecmp(lvl, "default");
	int i = -1;

	(void)arg;
	if (mod && (i = sw_log_module_index(mod)) < 0) {
		sw_json_str(res, "error", "no such module");
		log_levels_json(res);
		return 0;
	}
	if (lvl && !(deflt && mod) && sw_log_level_parse(lvl, &l)) {
		sw_json_str(res, "error", mod ? "not error, warn, notice, "
			    "info, debug or default" : "not error, warn, "
			    "notice, info or debug");
		log_levels_json(res);
		return 0;
	}
	if (lvl && mod) {
		sw_log_module_set((unsigned)i, deflt ? SW_LOG_MOD_FOLLOW
						     : (int)l);
		sw_notice("control socket: log level of %s set to %s", mod,
			  deflt ? "default" : sw_log_level_name(l));
	}
	else if (lvl) {
		sw_log_set_level(l);
		sw_notice("control socket: log level set to %s",
			  sw_log_level_name(l));
	}
	log_levels_json(res);
	return 0;
}


static int ctl_status(struct sw_json *res, const struct sw_jval *args,
		      void *arg)
{
	const struct sigctx *sc = arg;
	struct sipua_conn_stats cs;

	(void)args;
	sw_json_obj_open(res, "daemon");
	sw_json_str(res, "version", PACKAGE_VERSION);
	sw_json_int(res, "pid", getpid());
	sw_json_str(res, "config", sc->conf->path);
	sw_json_str(res, "state_dir", sc->conf->state_dir);
	sw_json_str(res, "log_level", sw_log_level_name(sw_log_get_level()));
	sw_json_int(res, "started_us", started_us);
	sw_json_int(res, "uptime_s", (sw_calllog_now() - started_us) / 1000000);
	sw_json_int(res, "sip_calls", sipua_call_count(sc->ua));
	sw_json_int(res, "sip_overload_rejects",
		    (int64_t)sipua_overload_rejects(sc->ua));
	sw_json_int(res, "sip_max_calls", sc->conf->sip_max_calls);
	sw_json_int(res, "sip_max_cps", sc->conf->sip_max_cps);
	sipua_conn_stats(sc->ua, &cs);
	sw_json_int(res, "sip_tcp_pending", cs.pending);
	sw_json_int(res, "sip_tcp_refused", (int64_t)cs.refused);
	sw_json_int(res, "sip_tcp_shed", (int64_t)cs.shed);
	sw_json_int(res, "sip_tcp_closed", (int64_t)cs.closed);
	sw_json_int(res, "log_suppressed", (int64_t)sw_log_suppressed_total());
	sw_json_int(res, "sip_names_refused",
		    (int64_t)sipua_names_refused());
	sw_json_obj_close(res);
	inforce_json(res, &sc->in);
	peers_json(res, sc->ua);
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
	sw_json_int(res, "copy_bytes", (int64_t)c.copy_bytes);
	sw_json_int(res, "redirects", (int64_t)c.redirects);
	sw_json_obj_close(res);
	return 0;
}


/* A new registry view: its least-loaded active instance other than this
 * one is where TURN redirects go (none: this instance allocates) */
static void cluster_view(void *arg, const struct sw_cluview *v)
{
	const struct sw_cluview_inst *alt = sw_cluview_least_loaded(v);

	sw_drain_alternate(arg, alt ? alt->name : NULL,
			   alt ? &alt->turn : NULL, NULL,
			   alt ? alt->allocs : 0);
}


/* The writer thread (and, for tests, a synthetic load feeding it) */
static int calllog_start(const struct sw_conf *conf, uint32_t synth_rate,
			 struct sw_calllog **clp, struct sw_calllog_synth **syp)
{
	struct sw_calllog_opts o = {conf->calllog_path,
				    conf->calllog_retention_days,
				    conf->calllog_max_calls, 0, 0, 0, 0};
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
		e = sw_ctl_register(*ctlp, "log-level", ctl_log_level, sc);
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
	const char *path = SW_CONF_DEFAULT;
	static struct sw_conf conf;
	bool check_only = false, debug = false;
	const char *state_dir = NULL;
	char err[1024];
	struct sw_check_notes notes;
	sigset_t sigs;
	struct sw_rules *rules = NULL;
	struct sigctx sc = {.conf = &conf};
	struct relay *relay = NULL;
	struct sw_calllog *cl = NULL;
	struct sw_calllog_synth *synth = NULL;
	struct sw_ctl *ctl = NULL;
	static struct sw_gw gw;
	static struct sw_drain drain;
	static struct sw_gwcluster gcl;
	struct sw_metrics *metrics = NULL;
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
	if (!sw_log_facility_parse(conf.log_syslog_facility, &e))
		sw_log_set_facility(e);
	sw_log_init(debug ? SW_LOG_DEBUG : conf.log_level, conf.log_syslog,
		    "sharewayd");
	log_modules_apply(&conf);
	for (unsigned i = 0; i < notes.n; ++i)
		sw_warn("%s", notes.text[i]);
	sc.state_dir = state_dir;
	sc.debug = debug;
	inforce_set(&sc.in, rules);
	if (check_only) {
		printf("%s: configuration OK (%u zones, %u rules from %s)\n",
		       path, conf.n_zones, sw_rules_count(rules),
		       sw_rules_path(rules));
		sw_rules_unref(rules);
		return 0;
	}

	sw_notice("sharewayd %s starting with %s", PACKAGE_VERSION, path);
	if (make_dir("state_dir", conf.state_dir) ||
	    make_socket_dir(conf.control_socket))
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
	e = sipua_create(&sc.ua, &conf, &sw_rules_router, rules);
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
	sc.relay = relay;
	sc.gw = &gw;
	sw_gw_hep_open(&gw, &conf); /* a failure is logged; calls go on */
	/* after the signals are blocked: the listener's thread inherits
	 * the mask, so SIGTERM still reaches the SIP thread only */
	if (conf.metrics_enable &&
	    sw_metrics_start(&metrics, &conf.metrics_listen,
			     sw_gw_metrics_collect, &gw)) {
		sw_gw_hep_close(&gw);
		sw_gw_close(&gw);
		relay_stop(relay);
		sipua_destroy(sc.ua);
		sw_ctl_close(ctl);
		sw_calllog_synth_stop(synth);
		sw_calllog_close(cl);
		return 1;
	}
	if (relay && sw_ctl_register(ctl, "stats", ctl_turn_stats, relay))
		sw_warn("control socket: TURN counters not served");
	if (sw_gw_ctl_register(&gw, ctl))
		sw_warn("control socket: active calls and relays not served");
	if (sw_drain_init(&drain, sc.ua, relay, &conf, ctl))
		sw_warn("control socket: drain not served");
	gcl.draining_src = &drain.on;
	gcl.on_view = cluster_view;
	gcl.view_arg = &drain;
	e = sw_gwcluster_start(&gcl, &conf, sc.ua, relay, ctl);
	sc.gcl = &gcl;
	if (e)
		sw_error("cluster thread not started (%s): this instance runs "
			 "alone", strerror(e));
	log_listeners(&conf);
	log_cli_line(&conf, state_dir);
	sw_notice("ready");
	if (sw_sdnotify_ready(&sc.notify, sc.ua))
		sw_warn("service manager: STATUS not refreshed");
	sipua_run(sc.ua);
	sw_metrics_stop(metrics); /* before what its page reads goes */
	sw_gw_hep_close(&gw);
	sw_sdnotify_close(&sc.notify);
	sw_drain_close(&drain);
	if (gcl.cl) /* the last records reach the cluster log */
		sw_calllog_flush(cl, 2000);
	sw_gwcluster_stop(&gcl);
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
