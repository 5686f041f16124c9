/**
 * @file sw_check.c  The checks sharewayd makes before it runs (sw_check.h).
 *
 * TLS files are read here with OpenSSL the way the listeners will read
 * them (Sofia-SIP's agent.pem is the chain then the key; the TURN
 * listener loads the chain file and the key file), so that a file that
 * would make a listener come up unable to complete any handshake stops
 * the daemon at start instead, naming the key that points at it. Sofia
 * itself only prints OpenSSL's lines and carries on.
 */
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <libpq-fe.h>

#include "sw_check.h"

/* One TLS identity as configured: which keys name its files */
struct tls_set {
	const char *section;        /* "sip", "turn", or NULL for a zone */
	const struct sw_zone *zone;
	const char *k_cert, *k_key, *k_ca;
	const char *cert, *key, *ca;
};


static void note(struct sw_check_notes *notes, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));


static void note(struct sw_check_notes *notes, const char *fmt, ...)
{
	va_list ap;

	if (!notes || notes->n >= SW_CHECK_MAX_NOTES)
		return;
	va_start(ap, fmt);
	vsnprintf(notes->text[notes->n++], sizeof(notes->text[0]), fmt, ap);
	va_end(ap);
}


/* OpenSSL's reason for the last failure, and a clean error queue */
static const char *ossl_why(char *buf, size_t sz)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	snprintf(buf, sz, "%s", r ? r : "not PEM");
	ERR_clear_error();
	return buf;
}


/* The PEM callback: a daemon has nobody to ask for a passphrase */
static int no_passphrase(char *buf, int size, int rwflag, void *arg)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	*(int *)arg = 1;
	return -1;
}


static int fail(const struct sw_conf *conf, const struct tls_set *t,
		const char *key, char *err, size_t errsz, const char *fmt,
		...) __attribute__((format(printf, 6, 7)));


static int fail(const struct sw_conf *conf, const struct tls_set *t,
		const char *key, char *err, size_t errsz, const char *fmt, ...)
{
	char msg[640];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return sw_conf_fail(conf, t->section, t->zone, key, err, errsz, "%s",
			    msg);
}


/* Open a file a key names; else err says "file:line:key: cannot read" */
static int open_named(const struct sw_conf *conf, const struct tls_set *t,
		      const char *key, const char *path, FILE **fp, char *err,
		      size_t errsz)
{
	*fp = fopen(path, "r");
	if (!*fp)
		return fail(conf, t, key, err, errsz, "cannot read %s: %s", path,
			    strerror(errno));
	return 0;
}


static void date_of(const ASN1_TIME *t, char *buf, size_t sz)
{
	struct tm tm;

	if (ASN1_TIME_to_tm(t, &tm) != 1 ||
	    !strftime(buf, sz, "%Y-%m-%d %H:%M UTC", &tm))
		snprintf(buf, sz, "?");
}


/* An expired or not yet valid certificate still loads: peers refuse it */
static void validity_notes(const struct sw_conf *conf, const struct tls_set *t,
			   X509 *x, struct sw_check_notes *notes)
{
	unsigned line = sw_conf_key_line(conf, t->section, t->zone, t->k_cert);
	char d[40];

	if (X509_cmp_current_time(X509_get0_notAfter(x)) <= 0) {
		date_of(X509_get0_notAfter(x), d, sizeof(d));
		note(notes, "%s:%u:%s: the certificate in %s expired on %s: "
		     "peers that check it refuse the handshake",
		     conf->path, line, t->k_cert, t->cert, d);
	}
	else if (X509_cmp_current_time(X509_get0_notBefore(x)) >= 0) {
		date_of(X509_get0_notBefore(x), d, sizeof(d));
		note(notes, "%s:%u:%s: the certificate in %s is valid only "
		     "from %s", conf->path, line, t->k_cert, t->cert, d);
	}
}


/* The certificate chain file: readable, a PEM certificate first, and a
 * chain OpenSSL takes as a listener would */
static int cert_check(const struct sw_conf *conf, const struct tls_set *t,
		      X509 **xp, char *err, size_t errsz)
{
	SSL_CTX *ctx;
	char why[160];
	FILE *f;
	int ok;

	if (open_named(conf, t, t->k_cert, t->cert, &f, err, errsz))
		return EINVAL;
	*xp = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (!*xp)
		return fail(conf, t, t->k_cert, err, errsz,
			    "%s holds no PEM certificate (OpenSSL: %s)", t->cert,
			    ossl_why(why, sizeof(why)));
	ctx = SSL_CTX_new(TLS_method());
	if (!ctx)
		return ENOMEM;
	ok = SSL_CTX_use_certificate_chain_file(ctx, t->cert) == 1;
	SSL_CTX_free(ctx);
	if (!ok)
		return fail(conf, t, t->k_cert, err, errsz,
			    "the certificate chain in %s does not load (OpenSSL: %s)",
			    t->cert, ossl_why(why, sizeof(why)));
	return 0;
}


/* The private key (tls_key, else in the certificate file, as Sofia's
 * agent.pem has it) must load without a passphrase and match the
 * certificate */
static int key_check(const struct sw_conf *conf, const struct tls_set *t,
		     X509 *x, char *err, size_t errsz)
{
	const char *path = t->key[0] ? t->key : t->cert;
	const char *k = t->key[0] ? t->k_key : t->k_cert;
	EVP_PKEY *pk;
	int asked = 0, match;
	char why[160];
	FILE *f;

	if (open_named(conf, t, k, path, &f, err, errsz))
		return EINVAL;
	pk = PEM_read_PrivateKey(f, NULL, no_passphrase, &asked);
	fclose(f);
	if (!pk && asked)
		return fail(conf, t, k, err, errsz,
			    "the private key in %s is encrypted: the daemon "
			    "has no passphrase (store it unencrypted, mode "
			    "0600)", path);
	if (!pk && !t->key[0])
		return fail(conf, t, k, err, errsz,
			    "%s holds no private key and %s is not set (OpenSSL: %s)",
			    path, t->k_key, ossl_why(why, sizeof(why)));
	if (!pk)
		return fail(conf, t, k, err, errsz,
			    "%s holds no PEM private key (OpenSSL: %s)", path,
			    ossl_why(why, sizeof(why)));
	match = X509_check_private_key(x, pk) == 1;
	EVP_PKEY_free(pk);
	if (!match) {
		ERR_clear_error();
		return fail(conf, t, k, err, errsz,
			    "the private key in %s does not match the "
			    "certificate in %s", path, t->cert);
	}
	return 0;
}


/* The CA bundle: at least one certificate loads from it */
static int ca_check(const struct sw_conf *conf, const struct tls_set *t,
		    char *err, size_t errsz)
{
	X509_STORE *st;
	char why[160];
	FILE *f;
	int ok;

	if (open_named(conf, t, t->k_ca, t->ca, &f, err, errsz))
		return EINVAL;
	fclose(f);
	st = X509_STORE_new();
	if (!st)
		return ENOMEM;
	ok = X509_STORE_load_file(st, t->ca) == 1;
	X509_STORE_free(st);
	if (!ok)
		return fail(conf, t, t->k_ca, err, errsz,
			    "no CA certificate loads from %s (OpenSSL: %s)", t->ca,
			    ossl_why(why, sizeof(why)));
	return 0;
}


static int tls_set_check(const struct sw_conf *conf, const struct tls_set *t,
			 struct sw_check_notes *notes, char *err, size_t errsz)
{
	X509 *x = NULL;
	int e = 0;

	if (!t->cert[0] && t->key[0])
		return fail(conf, t, t->k_key, err, errsz,
			    "set, but %s is not: a key needs its certificate",
			    t->k_cert);
	if (t->cert[0]) {
		e = cert_check(conf, t, &x, err, errsz);
		if (!e)
			e = key_check(conf, t, x, err, errsz);
		if (!e)
			validity_notes(conf, t, x, notes);
		X509_free(x);
	}
	if (!e && t->ca[0])
		e = ca_check(conf, t, err, errsz);
	return e;
}


/* A zone reached over TLS whose fqdn its certificate does not carry: the
 * Contact names the gateway by it, and Lync/SfB send in-dialog requests
 * only to a name the TLS peer's certificate carries (a wildcard counts,
 * RFC 6125 6.4.3) */
static void fqdn_note(const struct sw_conf *conf, const struct sw_zone *z,
		      struct sw_check_notes *notes)
{
	const char *cert = z->tls_cert[0] ? z->tls_cert : conf->sip_tls_cert;
	bool tls = z->transport == SW_TP_TLS;
	FILE *f;
	X509 *x;
	bool named;

	for (unsigned i = 0; i < z->n_listen; ++i)
		tls = tls || z->listen[i].tp == SW_TP_TLS;
	if (!z->fqdn[0] || !tls || !cert[0] || !(f = fopen(cert, "r")))
		return;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (!x)
		return; /* cert_check said why */
	named = X509_check_host(x, z->fqdn, 0, 0, NULL) == 1 ||
		X509_check_ip_asc(x, z->fqdn, 0) == 1;
	X509_free(x);
	if (!named)
		note(notes, "%s:%u:fqdn: [zone %s] %s is not a name the "
		     "certificate in %s carries: a Lync or SfB peer sends no "
		     "in-dialog request to a Contact its TLS peer's certificate "
		     "does not name",
		     conf->path, sw_conf_key_line(conf, NULL, z, "fqdn"),
		     z->name, z->fqdn, cert);
}


/**
 * Check every TLS identity the configuration names: [sip], [turn] and
 * each zone's own files. A zone's tls.verify needs a CA to verify with
 * (its tls.ca, else [sip] tls_ca).
 *
 * @return 0, or EINVAL with err naming file:line:key
 */
int sw_check_tls(const struct sw_conf *conf, struct sw_check_notes *notes,
		 char *err, size_t errsz)
{
	const struct tls_set plain[] = {
		{"sip", NULL, "tls_cert", "tls_key", "tls_ca",
		 conf->sip_tls_cert, conf->sip_tls_key, conf->sip_tls_ca},
		{"turn", NULL, "tls_cert", "tls_key", "tls_ca",
		 conf->turn_tls_cert, conf->turn_tls_key, conf->turn_tls_ca},
	};
	int e;

	ERR_clear_error();
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); ++i) {
		e = tls_set_check(conf, &plain[i], notes, err, errsz);
		if (e)
			return e;
	}
	for (unsigned i = 0; i < conf->n_zones; ++i) {
		const struct sw_zone *z = &conf->zones[i];
		const struct tls_set t = {NULL, z, "tls.cert", "tls.key",
					  "tls.ca", z->tls_cert, z->tls_key,
					  z->tls_ca};

		e = tls_set_check(conf, &t, notes, err, errsz);
		if (e)
			return e;
		if (z->tls_verify && !z->tls_ca[0] && !conf->sip_tls_ca[0])
			return sw_conf_fail(conf, NULL, z, "tls.verify", err,
					    errsz,
					    "yes, but neither tls.ca nor "
					    "[sip] tls_ca is set: every peer "
					    "certificate would be refused");
		fqdn_note(conf, z, notes);
	}
	return 0;
}


/* The host of a peer's sip:/sips: URI: there, and nothing the gateway
 * would have to guess (no blanks, no user part needed); 0 or EINVAL */
static int peer_uri_ok(const char *uri, enum sw_transport tp,
		       const char **why)
{
	bool sips = !strncasecmp(uri, "sips:", 5);
	const char *h = sips ? uri + 5 : uri + 4;

	if (!sips && strncasecmp(uri, "sip:", 4))
		return *why = "is not a sip: or sips: URI", EINVAL;
	if (sips && tp != SW_TP_TLS)
		return *why = "is a sips: URI, but the zone's transport is "
			      "not tls", EINVAL;
	if (strchr(h, '@'))
		h = strchr(h, '@') + 1;
	if (!*h || *h == ':' || *h == ';')
		return *why = "names no host", EINVAL;
	return 0;
}


/**
 * Each zone's peer list ([zone] peer): SIP URIs, none twice, not with a
 * target (which of the two would calls use?), a probe_timeout that fits
 * in the probe_interval (probes of one peer never overlap)
 *
 * @return 0, or EINVAL with err naming file:line:key
 */
int sw_check_zones(const struct sw_conf *conf, char *err, size_t errsz)
{
	for (unsigned i = 0; i < conf->n_zones; ++i) {
		const struct sw_zone *z = &conf->zones[i];
		const char *why;

		if (z->n_peers && z->target[0])
			return sw_conf_fail(conf, NULL, z, "target", err,
					    errsz,
					    "set together with peer lines: keep "
					    "one (a single target is a peer "
					    "list of one)");
		if (z->n_peers && z->probe_timeout > z->probe_interval)
			return sw_conf_fail(conf, NULL, z, "probe_timeout",
					    err, errsz,
					    "%u s is longer than probe_interval "
					    "%u s", z->probe_timeout,
					    z->probe_interval);
		for (unsigned j = 0; j < z->n_peers; ++j) {
			const struct sw_zone_peer *p = &z->peers[j];

			if (peer_uri_ok(p->uri, z->transport, &why)) {
				snprintf(err, errsz, "%s:%u:peer: [zone %s] "
					 "%s %s", conf->path, p->line,
					 z->name, p->uri, why);
				return EINVAL;
			}
			for (unsigned k = 0; k < j; ++k)
				if (!strcasecmp(z->peers[k].uri, p->uri)) {
					snprintf(err, errsz, "%s:%u:peer: "
						 "[zone %s] %s listed twice "
						 "(first at line %u)",
						 conf->path, p->line, z->name,
						 p->uri, z->peers[k].line);
					return EINVAL;
				}
		}
	}
	return 0;
}


/* A directory the daemon uses: there, or (create) its parent is */
static int dir_ok(const char *dir, bool create, char *why, size_t sz)
{
	char parent[SW_CONF_PATH];
	struct stat st;

	if (!stat(dir, &st)) {
		if (S_ISDIR(st.st_mode))
			return 0;
		snprintf(why, sz, "%s is not a directory", dir);
		return ENOTDIR;
	}
	if (errno != ENOENT || !create) {
		snprintf(why, sz, "%s: %s", dir, strerror(errno));
		return errno;
	}
	snprintf(parent, sizeof(parent), "%s", dir);
	dirname(parent);
	if (!stat(parent, &st) && S_ISDIR(st.st_mode))
		return 0;
	snprintf(why, sz, "neither %s nor its parent %s exists (sharewayd "
		 "creates only the last one)", dir, parent);
	return ENOENT;
}


/* The directory holding path, unless it is state_dir (created); with
 * create, one sharewayd creates (the control socket's: /run/shareway
 * outside systemd, which makes it for the unit's RuntimeDirectory) */
static int parent_ok(const struct sw_conf *conf, const char *path,
		     bool create, char *why, size_t sz)
{
	char dir[SW_CONF_PATH];

	snprintf(dir, sizeof(dir), "%s", path);
	dirname(dir);
	if (!strcmp(dir, conf->state_dir))
		return 0;
	return dir_ok(dir, create, why, sz);
}


/**
 * The run-time paths: state_dir and the control socket's directory
 * (created if their parent exists), the call log's directory
 *
 * @param state_dir  the --state-dir that overrode the file's, or NULL
 * @return 0, or an errno value with err naming the key
 */
int sw_check_paths(const struct sw_conf *conf, const char *state_dir,
		   char *err, size_t errsz)
{
	char why[SW_CONF_PATH + 160];

	if (dir_ok(conf->state_dir, true, why, sizeof(why))) {
		if (state_dir) {
			snprintf(err, errsz, "--state-dir %s: %s", state_dir,
				 why);
			return EINVAL;
		}
		return sw_conf_fail(conf, "general", NULL, "state_dir", err,
				    errsz, "%s", why);
	}
	if (!conf->derived_socket &&
	    parent_ok(conf, conf->control_socket, true, why, sizeof(why)))
		return sw_conf_fail(conf, "general", NULL, "control_socket",
				    err, errsz, "%s", why);
	if (!conf->derived_calllog &&
	    parent_ok(conf, conf->calllog_path, false, why, sizeof(why)))
		return sw_conf_fail(conf, "calllog", NULL, "path", err, errsz,
				    "%s", why);
	return 0;
}


/**
 * [log], [metrics] and [hep]: the values a key's type cannot check alone
 *
 * @return 0, or EINVAL with err naming the key
 */
int sw_check_observe(const struct sw_conf *conf, struct sw_check_notes *notes,
		     char *err, size_t errsz)
{
	int levels[64], fac;
	char why[256];

	if (sw_log_modules_parse(conf->log_modules, levels, why, sizeof(why)))
		return sw_conf_fail(conf, "log", NULL, "modules", err, errsz,
				    "%s", why);
	if (sw_log_facility_parse(conf->log_syslog_facility, &fac))
		return sw_conf_fail(conf, "log", NULL, "syslog_facility", err,
				    errsz, "'%s' is not daemon, user or "
				    "local0..local7", conf->log_syslog_facility);
	if (conf->hep_enable && !sw_sa_isset(&conf->hep_collector))
		return sw_conf_fail(conf, "hep", NULL, "collector", err, errsz,
				    "[hep] enable = yes needs the collector's "
				    "IP:PORT%s", "");
	if (conf->hep_enable && !conf->calllog_capture_sip)
		return sw_conf_fail(conf, "hep", NULL, "enable", err, errsz,
				    "HEP sends what the SIP capture sees: it "
				    "needs [calllog] capture_sip = yes%s", "");
	if (conf->metrics_enable && !sw_sa_is_loopback(&conf->metrics_listen))
		note(notes, "[metrics] listen %s is not a loopback address: "
		     "/metrics has no authentication, let only the "
		     "Prometheus server reach it", sw_sa_str(
			     &conf->metrics_listen, why, sizeof(why)));
	return 0;
}


/**
 * Load shareway.conf and everything it names, as sharewayd does at start
 *
 * @param state_dir  overrides the file's state_dir (--state-dir), or NULL
 * @param rulesp     gets the rule set (one reference) on success; NULL:
 *                   load it only to check it
 * @param notes      gets what passes but deserves a word; may be NULL
 * @return 0, or an errno value with err saying file:line:key: what
 */
/*
 * [cluster]: an instance name others can read in the registry and the
 * cluster call log, and a connection string libpq accepts whose server
 * is an address or a socket directory: the cluster thread must never
 * look up a name (house rule; libpq would call getaddrinfo() for host=).
 */
int sw_check_cluster(const struct sw_conf *conf, char *err, size_t errsz)
{
	PQconninfoOption *opts;
	char *perr = NULL;
	const char *host = NULL, *hostaddr = NULL;

	if (!conf->cluster_enable)
		return 0;
	if (!conf->cluster_instance[0])
		return sw_conf_fail(conf, "cluster", NULL, "enable", err,
				    errsz, "yes needs this instance's name "
				    "(instance = ...)");
	for (const char *p = conf->cluster_instance; *p; ++p)
		if (!isalnum((unsigned char)*p) && !strchr("._-", *p))
			return sw_conf_fail(conf, "cluster", NULL, "instance",
					    err, errsz, "'%s': letters, digits, "
					    "'.', '_' and '-' only",
					    conf->cluster_instance);
	if (!conf->cluster_conninfo[0])
		return sw_conf_fail(conf, "cluster", NULL, "enable", err,
				    errsz, "yes needs the PostgreSQL connection "
				    "string (conninfo = ...)");
	opts = PQconninfoParse(conf->cluster_conninfo, &perr);
	if (!opts) {
		int e = sw_conf_fail(conf, "cluster", NULL, "conninfo", err,
				     errsz, "%s", perr ? perr : "out of memory");
		PQfreemem(perr);
		return e;
	}
	for (PQconninfoOption *o = opts; o->keyword; ++o) {
		if (!o->val || !o->val[0])
			continue;
		if (!strcmp(o->keyword, "host"))
			host = o->val;
		else if (!strcmp(o->keyword, "hostaddr"))
			hostaddr = o->val;
	}
	if (host && !hostaddr && host[0] != '/') {
		struct sw_sa sa;

		if (sw_sa_parse(&sa, host, 0)) {
			int e = sw_conf_fail(conf, "cluster", NULL, "conninfo",
					     err, errsz, "host=%s is a name: "
					     "give hostaddr=IP (or host=/socket/"
					     "dir); the gateway looks up no "
					     "name", host);
			PQconninfoFree(opts);
			return e;
		}
	}
	PQconninfoFree(opts);
	return 0;
}


int sw_check_load(struct sw_conf *conf, const char *path,
		  const char *state_dir, struct sw_rules **rulesp,
		  struct sw_check_notes *notes, char *err, size_t errsz)
{
	struct sw_rules *rules = NULL;
	char rerr[1024];
	int e;

	if (notes)
		notes->n = 0;
	e = sw_conf_load(conf, path, err, errsz);
	if (e)
		return e;
	if (state_dir)
		sw_conf_set_state_dir(conf, state_dir);
	e = sw_check_zones(conf, err, errsz);
	if (!e)
		e = sw_check_tls(conf, notes, err, errsz);
	if (!e)
		e = sw_check_paths(conf, state_dir, err, errsz);
	if (!e)
		e = sw_check_cluster(conf, err, errsz);
	if (!e)
		e = sw_check_observe(conf, notes, err, errsz);
	if (e)
		return e;
	e = sw_rules_load(&rules, conf->rules_file, conf, rerr, sizeof(rerr));
	if (e == EINVAL || e == ENOMEM) {
		snprintf(err, errsz, "%s", rerr);
		return e;
	}
	if (e) /* the file itself: say which key names it */
		return sw_conf_fail(conf, "general", NULL, "rules_file", err,
				    errsz, "%s", rerr);
	if (!sw_rules_count(rules))
		note(notes, "%s has no rules: every call would get 404 (no "
		     "route)", sw_rules_path(rules));
	if (rulesp)
		*rulesp = rules;
	else
		sw_rules_unref(rules);
	return 0;
}
