/**
 * @file sw_conf.c  shareway.conf loader: one table, every key typed.
 *
 * Like nginx's ngx_command_t and redis's standardConfig: one row per key
 * with its section, type, offset, range and default. Defaults go through
 * the same setters as file values, so a default can never be out of range.
 * Unknown sections or keys, out-of-range values and a key set twice (last
 * wins would hide the first) fail with file:line:key; only the list keys
 * (listen, match.source, user, allow_peer, deny_peer) may repeat, their
 * values adding up. The line of every key is kept, so that later checks
 * (TLS files, paths: sw_check.c) name file:line:key too.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sw_conf.h"
#include "sw_ini.h"

enum conf_type {
	CT_U32,
	CT_BOOL,
	CT_STR,
	CT_PATH,
	CT_LOGLEVEL,
	CT_LISTEN,    /* list of tp:ip:port; count at off2 */
	CT_ADDR,      /* one IP address */
	CT_CIDRS,     /* list of CIDRs; count at off2 */
	CT_USER,      /* name:password, repeatable; count at off2 */
	CT_PORTRANGE, /* lo-hi into two u32 at off and off2 */
	CT_TRANSPORT,
	CT_HOST,      /* a host name (RFC 1123) or an IP address */
	CT_PEER,      /* URI [priority=N] [weight=N], repeatable; count at
			 off2 */
	CT_SOCKADDR,  /* IP:port (an IPv6 address in brackets) */
};

struct conf_key {
	const char *section; /* "general", "sip", ..., or "zone" */
	const char *key;
	enum conf_type type;
	size_t off;
	size_t off2; /* count offset for lists, hi for ranges */
	size_t size; /* string buffer size, list capacity */
	uint32_t min, max;
	const char *def; /* NULL: no default (empty) */
};

#define F(field) offsetof(struct sw_conf, field)
#define Z(field) offsetof(struct sw_zone, field)
#define FS(field) sizeof(((struct sw_conf *)0)->field)
#define ZS(field) sizeof(((struct sw_zone *)0)->field)
#define ARRN(a) (sizeof(a) / sizeof((a)[0]))

/* clang-format off */
static const struct conf_key keys[] = {
	{"general", "log_level",      CT_LOGLEVEL, F(log_level), 0, 0, 0, 0, "info"},
	{"general", "log_syslog",     CT_BOOL, F(log_syslog), 0, 0, 0, 0, "no"},
	{"general", "state_dir",      CT_PATH, F(state_dir), 0, FS(state_dir), 0, 0, SW_STATE_DIR},
	{"general", "control_socket", CT_PATH, F(control_socket), 0, FS(control_socket), 0, 0, NULL},
	{"general", "rules_file",     CT_PATH, F(rules_file), 0, FS(rules_file), 0, 0, "rules.conf"},
	{"general", "relay_threads",  CT_U32, F(relay_threads), 0, 0, 1, 64, "1"},
	{"general", "max_open_files", CT_U32, F(max_open_files), 0, 0, 1024, 1048576, "65536"},

	{"sip", "listen",          CT_LISTEN, F(sip_listen), F(n_sip_listen), SW_CONF_MAX_LISTEN, 0, 0, NULL},
	{"sip", "user_agent",      CT_STR, F(sip_user_agent), 0, FS(sip_user_agent), 0, 0, "sharewayd/" PACKAGE_VERSION},
	{"sip", "strip_headers",   CT_STR, F(sip_strip_headers), 0, FS(sip_strip_headers), 0, 0, NULL},
	{"sip", "session_timer",   CT_U32, F(sip_session_timer), 0, 0, 0, 86400, "1800"},
	{"sip", "min_se",          CT_U32, F(sip_min_se), 0, 0, 90, 86400, "90"},
	{"sip", "invite_timeout",  CT_U32, F(sip_invite_timeout), 0, 0, 1, 300, "32"},
	{"sip", "udp_rmem",        CT_U32, F(sip_udp_rmem), 0, 0, 65536, 268435456, "4194304"},
	{"sip", "max_forwards",    CT_U32, F(sip_max_forwards), 0, 0, 1, 255, "70"},
	{"sip", "max_uri_length",  CT_U32, F(sip_max_uri_length), 0, 0, 64, SW_CONF_MAX_URI, "1024"},
	{"sip", "max_calls",       CT_U32, F(sip_max_calls), 0, 0, 0, 1000000, "5000"},
	{"sip", "max_cps",         CT_U32, F(sip_max_cps), 0, 0, 0, 100000, "800"},
	{"sip", "tcp_message_timeout", CT_U32, F(sip_tcp_message_timeout), 0, 0, 1, 300, "10"},
	{"sip", "tcp_idle_timeout", CT_U32, F(sip_tcp_idle_timeout), 0, 0, 1, 86400, "1800"},
	{"sip", "tcp_max_per_source", CT_U32, F(sip_tcp_max_per_source), 0, 0, 0, 65535, "64"},
	{"sip", "tls_cert",        CT_PATH, F(sip_tls_cert), 0, FS(sip_tls_cert), 0, 0, NULL},
	{"sip", "tls_key",         CT_PATH, F(sip_tls_key), 0, FS(sip_tls_key), 0, 0, NULL},
	{"sip", "tls_ca",          CT_PATH, F(sip_tls_ca), 0, FS(sip_tls_ca), 0, 0, NULL},

	{"turn", "enable",          CT_BOOL, F(turn_enable), 0, 0, 0, 0, "yes"},
	{"turn", "listen",          CT_LISTEN, F(turn_listen), F(n_turn_listen), SW_CONF_MAX_LISTEN, 0, 0, NULL},
	{"turn", "relay_ip",        CT_ADDR, F(turn_relay_ip), 0, 0, 0, 0, NULL},
	{"turn", "relay_ip6",       CT_ADDR, F(turn_relay_ip6), 0, 0, 0, 0, NULL},
	{"turn", "external_ip",     CT_ADDR, F(turn_external_ip), 0, 0, 0, 0, NULL},
	{"turn", "relay_ports",     CT_PORTRANGE, F(turn_port_min), F(turn_port_max), 0, 1024, 65535, "49152-65535"},
	{"turn", "realm",           CT_STR, F(turn_realm), 0, FS(turn_realm), 0, 0, "shareway"},
	{"turn", "user",            CT_USER, F(turn_users), F(n_turn_users), SW_CONF_MAX_USERS, 0, 0, NULL},
	{"turn", "static_auth_secret", CT_STR, F(turn_static_auth_secret), 0, FS(turn_static_auth_secret), 0, 0, NULL},
	{"turn", "default_lifetime", CT_U32, F(turn_default_lifetime), 0, 0, 60, 86400, "600"},
	{"turn", "max_lifetime",    CT_U32, F(turn_max_lifetime), 0, 0, 60, 86400, "3600"},
	{"turn", "nonce_lifetime",  CT_U32, F(turn_nonce_lifetime), 0, 0, 1, 86400, "600"},
	{"turn", "user_quota",      CT_U32, F(turn_user_quota), 0, 0, 0, 1000000, "0"},
	{"turn", "total_quota",     CT_U32, F(turn_total_quota), 0, 0, 0, 1000000, "0"},
	{"turn", "prebind_buffer",  CT_U32, F(turn_prebind_buffer), 0, 0, 4096, 16777216, "65536"},
	{"turn", "prebind_total",   CT_U32, F(turn_prebind_total), 0, 0, 4096, 268435456, "1048576"},
	{"turn", "max_unbound_peers", CT_U32, F(turn_max_unbound), 0, 0, 1, 65536, "32"},
	{"turn", "bind_timeout",    CT_U32, F(turn_bind_timeout), 0, 0, 1, 300, "30"},
	{"turn", "connect_timeout", CT_U32, F(turn_connect_timeout), 0, 0, 1, 300, "30"},
	{"turn", "redirect_allocations", CT_U32, F(turn_redirect_allocs), 0, 0, 0, 1000000, "0"},
	{"turn", "software",        CT_STR, F(turn_software), 0, FS(turn_software), 0, 0, "shareway/" PACKAGE_VERSION},
	{"turn", "allow_peer",      CT_CIDRS, F(turn_allow), F(n_turn_allow), SW_CONF_MAX_CIDR, 0, 0, NULL},
	{"turn", "deny_peer",       CT_CIDRS, F(turn_deny), F(n_turn_deny), SW_CONF_MAX_CIDR, 0, 0, NULL},
	{"turn", "allow_own_addresses", CT_BOOL, F(turn_allow_own), 0, 0, 0, 0, "no"},
	{"turn", "tls_cert",        CT_PATH, F(turn_tls_cert), 0, FS(turn_tls_cert), 0, 0, NULL},
	{"turn", "tls_key",         CT_PATH, F(turn_tls_key), 0, FS(turn_tls_key), 0, 0, NULL},
	{"turn", "tls_ca",          CT_PATH, F(turn_tls_ca), 0, FS(turn_tls_ca), 0, 0, NULL},

	{"appsharing", "check_timeout",         CT_U32, F(as_check_timeout), 0, 0, 1, 600, "30"},
	{"appsharing", "inspect_max_bytes",     CT_U32, F(as_inspect_max_bytes), 0, 0, 1024, 16777216, "262144"},
	{"appsharing", "set_default_to_relay",  CT_BOOL, F(as_set_default_to_relay), 0, 0, 0, 0, "no"},
	{"appsharing", "relay_pool",            CT_U32, F(as_relay_pool), 0, 0, 0, 64, "8"},
	{"appsharing", "permit_wait",           CT_U32, F(as_permit_wait), 0, 0, 0, 60, "10"},
	{"appsharing", "inside_candidate",      CT_BOOL, F(as_inside_candidate), 0, 0, 0, 0, "no"},
	{"appsharing", "inside_ip",             CT_ADDR, F(as_inside_ip), 0, 0, 0, 0, NULL},

	{"calllog", "path",           CT_PATH, F(calllog_path), 0, FS(calllog_path), 0, 0, NULL},
	{"calllog", "retention_days", CT_U32, F(calllog_retention_days), 0, 0, 0, 3650, "30"},
	{"calllog", "max_calls",      CT_U32, F(calllog_max_calls), 0, 0, 0, 100000000, "1000000"},
	{"calllog", "capture_sip",    CT_BOOL, F(calllog_capture_sip), 0, 0, 0, 0, "yes"},

	{"cluster", "enable",         CT_BOOL, F(cluster_enable), 0, 0, 0, 0, "no"},
	{"cluster", "instance",       CT_STR, F(cluster_instance), 0, FS(cluster_instance), 0, 0, NULL},
	{"cluster", "conninfo",       CT_STR, F(cluster_conninfo), 0, FS(cluster_conninfo), 0, 0, NULL},
	{"cluster", "heartbeat_ms",   CT_U32, F(cluster_heartbeat_ms), 0, 0, 100, 60000, "1000"},
	{"cluster", "dead_after_ms",  CT_U32, F(cluster_dead_after_ms), 0, 0, 300, 600000, "3000"},
	{"cluster", "ship_batch",     CT_U32, F(cluster_ship_batch), 0, 0, 1, 10000, "500"},
	{"cluster", "credentials_refresh", CT_U32, F(cluster_credentials_refresh), 0, 0, 0, 3600, "10"},

	{"log", "modules",         CT_STR, F(log_modules), 0, FS(log_modules), 0, 0, NULL},
	{"log", "syslog_facility", CT_STR, F(log_syslog_facility), 0, FS(log_syslog_facility), 0, 0, "daemon"},

	{"metrics", "enable",      CT_BOOL, F(metrics_enable), 0, 0, 0, 0, "no"},
	{"metrics", "listen",      CT_SOCKADDR, F(metrics_listen), 0, 0, 0, 0, "127.0.0.1:9465"},

	{"hep", "enable",          CT_BOOL, F(hep_enable), 0, 0, 0, 0, "no"},
	{"hep", "collector",       CT_SOCKADDR, F(hep_collector), 0, 0, 0, 0, NULL},
	{"hep", "capture_id",      CT_U32, F(hep_capture_id), 0, 0, 0, UINT32_MAX, "2001"},
	{"hep", "node_name",       CT_STR, F(hep_node_name), 0, FS(hep_node_name), 0, 0, "sharewayd"},
	{"hep", "password",        CT_STR, F(hep_password), 0, FS(hep_password), 0, 0, NULL},
	{"hep", "ice",             CT_BOOL, F(hep_ice), 0, 0, 0, 0, "yes"},
};

static const struct conf_key zone_keys[] = {
	{"zone", "match.source",   CT_CIDRS, Z(match_source), Z(n_match_source), SW_CONF_MAX_CIDR, 0, 0, NULL},
	{"zone", "tls.subjects",   CT_STR, Z(tls_subjects), 0, ZS(tls_subjects), 0, 0, NULL},
	{"zone", "target",         CT_STR, Z(target), 0, ZS(target), 0, 0, NULL},
	{"zone", "transport",      CT_TRANSPORT, Z(transport), 0, 0, 0, 0, "udp"},
	{"zone", "tls.cert",       CT_PATH, Z(tls_cert), 0, ZS(tls_cert), 0, 0, NULL},
	{"zone", "tls.key",        CT_PATH, Z(tls_key), 0, ZS(tls_key), 0, 0, NULL},
	{"zone", "tls.ca",         CT_PATH, Z(tls_ca), 0, ZS(tls_ca), 0, 0, NULL},
	{"zone", "tls.verify",     CT_BOOL, Z(tls_verify), 0, 0, 0, 0, "no"},
	{"zone", "fqdn",           CT_HOST, Z(fqdn), 0, ZS(fqdn), 0, 0, NULL},
	{"zone", "default",        CT_BOOL, Z(is_default), 0, 0, 0, 0, "no"},
	{"zone", "edge",           CT_BOOL, Z(edge), 0, 0, 0, 0, "no"},
	{"zone", "invite_timeout", CT_U32, Z(invite_timeout), 0, 0, 1, 300, NULL},
	{"zone", "listen",         CT_LISTEN, Z(listen), Z(n_listen), 4, 0, 0, NULL},
	{"zone", "peer",           CT_PEER, Z(peers), Z(n_peers), SW_ZONE_MAX_PEERS, 0, 0, NULL},
	{"zone", "probe_interval", CT_U32, Z(probe_interval), 0, 0, 1, 3600, "10"},
	{"zone", "probe_timeout",  CT_U32, Z(probe_timeout), 0, 0, 1, 60, "5"},
};
/* clang-format on */

_Static_assert(ARRN(keys) <= SW_CONF_MAX_KEYS, "raise SW_CONF_MAX_KEYS");
_Static_assert(ARRN(zone_keys) <= SW_ZONE_MAX_KEYS,
	       "raise SW_ZONE_MAX_KEYS");

struct load_ctx {
	struct sw_conf *conf;
	struct sw_zone *zone; /* current [zone NAME], or NULL */
	const char *section;  /* current plain section */
};


const char *sw_transport_name(enum sw_transport tp)
{
	switch (tp) {
	case SW_TP_UDP: return "udp";
	case SW_TP_TCP: return "tcp";
	case SW_TP_TLS: return "tls";
	}
	return "?";
}


int sw_transport_parse(const char *s, enum sw_transport *tp)
{
	if (!strcasecmp(s, "udp"))
		*tp = SW_TP_UDP;
	else if (!strcasecmp(s, "tcp"))
		*tp = SW_TP_TCP;
	else if (!strcasecmp(s, "tls"))
		*tp = SW_TP_TLS;
	else
		return EINVAL;
	return 0;
}


/** Resolve p against the configuration's directory unless absolute */
void sw_conf_resolve_path(const struct sw_conf *conf, char *out, size_t sz,
			  const char *p)
{
	if (!*p || *p == '/' || !conf->dir[0])
		snprintf(out, sz, "%s", p);
	else
		snprintf(out, sz, "%s/%s", conf->dir, p);
}


static int parse_u32(const char *v, uint32_t *out)
{
	char *end;
	unsigned long long x;

	if (!isdigit((unsigned char)*v))
		return EINVAL;
	errno = 0;
	x = strtoull(v, &end, 10);
	if (errno || *end || x > UINT32_MAX)
		return EINVAL;
	*out = (uint32_t)x;
	return 0;
}


static int parse_bool(const char *v, bool *out)
{
	if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") ||
	    !strcmp(v, "1") || !strcasecmp(v, "on"))
		*out = true;
	else if (!strcasecmp(v, "no") || !strcasecmp(v, "false") ||
		 !strcmp(v, "0") || !strcasecmp(v, "off"))
		*out = false;
	else
		return EINVAL;
	return 0;
}


/* "udp:127.0.0.1:3478", "tls:[::1]:5061" */
static int parse_listen(const char *tok, struct sw_listen *l)
{
	char tp[8];
	const char *colon = strchr(tok, ':');
	size_t n;

	if (!colon || (n = (size_t)(colon - tok)) >= sizeof(tp))
		return EINVAL;
	memcpy(tp, tok, n);
	tp[n] = '\0';
	if (sw_transport_parse(tp, &l->tp))
		return EINVAL;
	if (sw_sa_parse(&l->addr, colon + 1, 0) || !sw_sa_port(&l->addr))
		return EINVAL;
	return 0;
}


/* A host name of letters, digits and hyphens in dot-separated labels of
 * at most 63 (RFC 1123 2.1), or an IP address: what goes into a SIP URI's
 * host without escaping */
static bool is_host(const char *v)
{
	struct sw_sa sa;
	size_t label = 0, n = strlen(v);

	if (!sw_sa_set_ip(&sa, v, 0))
		return true;
	if (!n || n > 253 || v[0] == '.' || v[n - 1] == '.')
		return false;
	for (size_t i = 0; i < n; ++i) {
		if (v[i] == '.') {
			if (!label || v[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)v[i]) && v[i] != '-')
			return false;
		if (++label > 63 || (label == 1 && v[i] == '-'))
			return false;
	}
	return v[n - 1] != '-';
}


static int fail(char *err, size_t errsz, const struct sw_ini_pos *pos,
		const char *key, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));


static int fail(char *err, size_t errsz, const struct sw_ini_pos *pos,
		const char *key, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (pos)
		snprintf(err, errsz, "%s:%u:%s: %s", pos->file, pos->line,
			 key, msg);
	else
		snprintf(err, errsz, "default for %s: %s", key, msg);
	return EINVAL;
}


/* "URI [priority=N] [weight=N]": the URI itself is checked with the
 * zone (sw_check.c), which knows its transport */
static int parse_peer(const char *v, struct sw_zone_peer *p)
{
	char buf[SW_CONF_STR + 64];
	char *save = NULL, *tok;

	if (strlen(v) >= sizeof(buf))
		return EINVAL;
	snprintf(buf, sizeof(buf), "%s", v);
	tok = strtok_r(buf, " \t", &save);
	if (!tok || strlen(tok) >= sizeof(p->uri))
		return EINVAL;
	snprintf(p->uri, sizeof(p->uri), "%s", tok);
	p->priority = 1;
	p->weight = 1;
	while ((tok = strtok_r(NULL, " \t", &save))) {
		uint32_t u;

		if (!strncmp(tok, "priority=", 9) && !parse_u32(tok + 9, &u) &&
		    u <= 65535)
			p->priority = u;
		else if (!strncmp(tok, "weight=", 7) &&
			 !parse_u32(tok + 7, &u) && u >= 1 && u <= 1000)
			p->weight = u;
		else
			return EINVAL;
	}
	return 0;
}


static int set_list_item(const struct conf_key *k, char *base,
			 const char *tok, const struct sw_ini_pos *pos,
			 char *err, size_t errsz)
{
	unsigned *cnt = (unsigned *)(base + k->off2);

	if (*cnt >= k->size)
		return fail(err, errsz, pos, k->key, "too many values (max %s)",
			    k->type == CT_USER   ? "64"
			    : k->type == CT_PEER ? "8"
						 : "16 or 32");
	switch (k->type) {
	case CT_LISTEN: {
		struct sw_listen *l = (struct sw_listen *)(base + k->off);

		if (parse_listen(tok, &l[*cnt]))
			return fail(err, errsz, pos, k->key,
				    "'%s' is not transport:ip:port "
				    "(udp|tcp|tls, port 1-65535)",
				    tok);
		break;
	}
	case CT_CIDRS: {
		struct sw_cidr *c = (struct sw_cidr *)(base + k->off);

		if (sw_cidr_parse(&c[*cnt], tok))
			return fail(err, errsz, pos, k->key,
				    "'%s' is not an address or CIDR", tok);
		break;
	}
	case CT_USER: {
		struct sw_user *u = (struct sw_user *)(base + k->off);
		const char *colon = strchr(tok, ':');

		if (!colon || colon == tok || !colon[1] ||
		    (size_t)(colon - tok) >= sizeof(u->name) ||
		    strlen(colon + 1) >= sizeof(u->password))
			return fail(err, errsz, pos, k->key,
				    "'%s' is not name:password", tok);
		memcpy(u[*cnt].name, tok, (size_t)(colon - tok));
		u[*cnt].name[colon - tok] = '\0';
		snprintf(u[*cnt].password, sizeof(u->password), "%s",
			 colon + 1);
		break;
	}
	case CT_PEER: {
		struct sw_zone_peer *p = (struct sw_zone_peer *)(base + k->off);

		if (parse_peer(tok, &p[*cnt]))
			return fail(err, errsz, pos, k->key,
				    "'%s' is not URI [priority=0-65535] "
				    "[weight=1-1000]", tok);
		p[*cnt].line = pos ? pos->line : 0;
		break;
	}
	default:
		return EINVAL;
	}
	++*cnt;
	return 0;
}


/* Lists take space-separated values and may repeat across lines */
static int set_list(const struct conf_key *k, char *base, const char *v,
		    const struct sw_ini_pos *pos, char *err, size_t errsz)
{
	char buf[4096];
	char *save = NULL, *tok;
	int e;

	if (k->type == CT_USER || k->type == CT_PEER) /* one per line */
		return set_list_item(k, base, v, pos, err, errsz);
	snprintf(buf, sizeof(buf), "%s", v);
	for (tok = strtok_r(buf, " \t,", &save); tok;
	     tok = strtok_r(NULL, " \t,", &save)) {
		e = set_list_item(k, base, tok, pos, err, errsz);
		if (e)
			return e;
	}
	return 0;
}


static int set_value(const struct sw_conf *conf, const struct conf_key *k,
		     char *base, const char *v, const struct sw_ini_pos *pos,
		     char *err, size_t errsz)
{
	void *p = base + k->off;
	uint32_t u;

	switch (k->type) {
	case CT_U32:
		if (parse_u32(v, &u))
			return fail(err, errsz, pos, k->key,
				    "'%s' is not a number", v);
		if (u < k->min || u > k->max) {
			char r[64];

			snprintf(r, sizeof(r), "%u out of range %u..%u", u,
				 k->min, k->max);
			return fail(err, errsz, pos, k->key, "%s", r);
		}
		*(uint32_t *)p = u;
		return 0;
	case CT_BOOL:
		if (parse_bool(v, (bool *)p))
			return fail(err, errsz, pos, k->key,
				    "'%s' is not yes or no", v);
		return 0;
	case CT_STR:
		if (strlen(v) >= k->size)
			return fail(err, errsz, pos, k->key, "value too long%s",
				    "");
		snprintf(p, k->size, "%s", v);
		return 0;
	case CT_PATH:
		if (strlen(v) + strlen(conf->dir) + 2 >= k->size)
			return fail(err, errsz, pos, k->key, "path too long%s",
				    "");
		sw_conf_resolve_path(conf, p, k->size, v);
		return 0;
	case CT_LOGLEVEL:
		if (sw_log_level_parse(v, p))
			return fail(err, errsz, pos, k->key,
				    "'%s' is not error|warn|notice|info|debug",
				    v);
		return 0;
	case CT_ADDR:
		if (sw_sa_parse(p, v, 0) || sw_sa_port(p))
			return fail(err, errsz, pos, k->key,
				    "'%s' is not an IP address", v);
		return 0;
	case CT_SOCKADDR:
		if (sw_sa_parse(p, v, 0) || !sw_sa_port(p))
			return fail(err, errsz, pos, k->key,
				    "'%s' is not IP:PORT", v);
		return 0;
	case CT_HOST:
		if (strlen(v) >= k->size || !is_host(v))
			return fail(err, errsz, pos, k->key,
				    "'%s' is not a host name or an IP address",
				    v);
		snprintf(p, k->size, "%s", v);
		return 0;
	case CT_TRANSPORT:
		if (sw_transport_parse(v, p))
			return fail(err, errsz, pos, k->key,
				    "'%s' is not udp|tcp|tls", v);
		return 0;
	case CT_PORTRANGE: {
		uint32_t lo, hi;
		char a[16], b[16];

		if (sscanf(v, "%15[0-9]-%15[0-9]", a, b) != 2 ||
		    parse_u32(a, &lo) || parse_u32(b, &hi) || lo < k->min ||
		    hi > k->max || lo > hi)
			return fail(err, errsz, pos, k->key,
				    "'%s' is not a port range lo-hi within "
				    "1024-65535",
				    v);
		*(uint32_t *)p = lo;
		*(uint32_t *)(base + k->off2) = hi;
		return 0;
	}
	case CT_LISTEN:
	case CT_CIDRS:
	case CT_USER:
	case CT_PEER:
		return set_list(k, base, v, pos, err, errsz);
	}
	return EINVAL;
}


static int apply_defaults(struct sw_conf *conf, const struct conf_key *tab,
			  size_t n, char *base, char *err, size_t errsz)
{
	for (size_t i = 0; i < n; ++i) {
		int e;

		if (!tab[i].def)
			continue;
		e = set_value(conf, &tab[i], base, tab[i].def, NULL, err,
			      errsz);
		if (e)
			return e;
	}
	return 0;
}


static const struct conf_key *find_key(const struct conf_key *tab, size_t n,
				       const char *section, const char *key)
{
	for (size_t i = 0; i < n; ++i)
		if (!strcmp(tab[i].section, section) &&
		    !strcmp(tab[i].key, key))
			return &tab[i];
	return NULL;
}


static bool known_section(const char *s)
{
	for (size_t i = 0; i < ARRN(keys); ++i)
		if (!strcmp(keys[i].section, s))
			return true;
	return false;
}


static int on_section(struct load_ctx *c, const struct sw_ini_pos *pos,
		      const char *type, const char *name, char *err,
		      size_t errsz)
{
	struct sw_conf *conf = c->conf;

	c->zone = NULL;
	c->section = NULL;
	if (!strcmp(type, "zone")) {
		struct sw_zone *z;

		if (!name)
			return fail(err, errsz, pos, "[zone]",
				    "a zone needs a name: [zone NAME]%s", "");
		if (strlen(name) >= sizeof(z->name) ||
		    strspn(name, "abcdefghijklmnopqrstuvwxyz"
				 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") !=
			    strlen(name))
			return fail(err, errsz, pos, "[zone]",
				    "bad zone name '%s' (letters, digits, - _ .)",
				    name);
		if (sw_conf_zone_find(conf, name))
			return fail(err, errsz, pos, "[zone]",
				    "zone '%s' defined twice", name);
		if (conf->n_zones >= SW_CONF_MAX_ZONES)
			return fail(err, errsz, pos, "[zone]",
				    "too many zones (max 32)%s", "");
		z = &conf->zones[conf->n_zones++];
		memset(z, 0, sizeof(*z));
		snprintf(z->name, sizeof(z->name), "%s", name);
		z->line = pos->line;
		z->invite_timeout = conf->sip_invite_timeout;
		c->zone = z;
		return apply_defaults(conf, zone_keys, ARRN(zone_keys),
				      (char *)z, err, errsz);
	}
	if (name || !known_section(type))
		return fail(err, errsz, pos, type,
			    "unknown section '%s' (general, sip, turn, "
			    "appsharing, calllog, cluster, log, metrics, hep, zone NAME)",
			    type);
	c->section = known_section(type) ? type : NULL;
	for (size_t i = 0; i < ARRN(keys); ++i)
		if (!strcmp(keys[i].section, type)) {
			c->section = keys[i].section;
			break;
		}
	return 0;
}


static bool repeatable(const struct conf_key *k)
{
	return k->type == CT_LISTEN || k->type == CT_CIDRS ||
	       k->type == CT_USER || k->type == CT_PEER;
}


/* Set k from the file, once: lines[] keeps where each key was set */
static int set_once(struct load_ctx *c, const struct conf_key *k,
		    unsigned *line, char *base, const char *value,
		    const struct sw_ini_pos *pos, char *err, size_t errsz)
{
	int e;

	if (*line && !repeatable(k))
		return fail(err, errsz, pos, k->key,
			    "set twice (first at line %u): keep one", *line);
	e = set_value(c->conf, k, base, value, pos, err, errsz);
	if (!e && !*line)
		*line = pos->line;
	return e;
}


static int on_line(const struct sw_ini_pos *pos, const char *type,
		   const char *name, const char *key, const char *value,
		   char *err, size_t errsz, void *arg)
{
	struct load_ctx *c = arg;
	const struct conf_key *k;

	if (!key)
		return on_section(c, pos, type, name, err, errsz);
	if (c->zone) {
		k = find_key(zone_keys, ARRN(zone_keys), "zone", key);
		if (!k)
			return fail(err, errsz, pos, key,
				    "unknown key in [zone %s]", c->zone->name);
		return set_once(c, k, &c->zone->key_line[k - zone_keys],
				(char *)c->zone, value, pos, err, errsz);
	}
	if (!c->section)
		return fail(err, errsz, pos, key,
			    "key outside any section%s", "");
	k = find_key(keys, ARRN(keys), c->section, key);
	if (!k)
		return fail(err, errsz, pos, key, "unknown key in [%s]",
			    c->section);
	return set_once(c, k, &c->conf->key_line[k - keys], (char *)c->conf,
			value, pos, err, errsz);
}


/** Fill conf with every key's default (no file) */
void sw_conf_defaults(struct sw_conf *conf)
{
	char err[256];

	memset(conf, 0, sizeof(*conf));
	if (apply_defaults(conf, keys, ARRN(keys), (char *)conf, err,
			   sizeof(err)))
		abort(); /* a default out of its own range is a bug */
}


static int validate(struct sw_conf *conf, char *err, size_t errsz)
{
	unsigned defaults = 0;

	if (conf->turn_default_lifetime > conf->turn_max_lifetime) {
		snprintf(err, errsz,
			 "%s: turn default_lifetime %u > max_lifetime %u",
			 conf->path, conf->turn_default_lifetime,
			 conf->turn_max_lifetime);
		return EINVAL;
	}
	for (unsigned i = 0; i < conf->n_turn_listen; ++i)
		if (conf->turn_listen[i].tp == SW_TP_TLS &&
		    (!conf->turn_tls_cert[0] || !conf->turn_tls_key[0])) {
			snprintf(err, errsz,
				 "%s: [turn] listen has tls but tls_cert or "
				 "tls_key is not set",
				 conf->path);
			return EINVAL;
		}
	for (unsigned i = 0; i < conf->n_sip_listen; ++i)
		if (conf->sip_listen[i].tp == SW_TP_TLS &&
		    !conf->sip_tls_cert[0]) {
			snprintf(err, errsz,
				 "%s: [sip] listen has tls but tls_cert is "
				 "not set",
				 conf->path);
			return EINVAL;
		}
	for (unsigned i = 0; i < conf->n_zones; ++i)
		for (unsigned j = 0; j < conf->zones[i].n_listen; ++j)
			if (conf->zones[i].listen[j].tp == SW_TP_TLS &&
			    !conf->zones[i].tls_cert[0] &&
			    !conf->sip_tls_cert[0]) {
				snprintf(err, errsz,
					 "%s: [zone %s] listen has tls but "
					 "neither tls.cert nor [sip] tls_cert "
					 "is set",
					 conf->path, conf->zones[i].name);
				return EINVAL;
			}
	for (unsigned i = 0; i < conf->n_zones; ++i)
		if (conf->zones[i].is_default && ++defaults > 1) {
			snprintf(err, errsz,
				 "%s: more than one zone has default = yes",
				 conf->path);
			return EINVAL;
		}
	return 0;
}


/**
 * Load and validate a configuration file
 *
 * @return 0, or an errno value with err naming file:line:key
 */
int sw_conf_load(struct sw_conf *conf, const char *path, char *err,
		 size_t errsz)
{
	struct load_ctx c = {conf, NULL, NULL};
	const char *slash;
	int e;

	sw_conf_defaults(conf);
	snprintf(conf->path, sizeof(conf->path), "%s", path);
	slash = strrchr(path, '/');
	if (slash)
		snprintf(conf->dir, sizeof(conf->dir), "%.*s",
			 (int)(slash - path), path);
	else
		snprintf(conf->dir, sizeof(conf->dir), ".");
	/* re-apply path defaults now that dir is known */
	e = apply_defaults(conf, keys, ARRN(keys), (char *)conf, err, errsz);
	if (e)
		return e;
	e = sw_ini_parse_file(path, on_line, &c, err, errsz);
	if (e)
		return e;
	sw_conf_set_state_dir(conf, NULL);
	return validate(conf, err, errsz);
}


/**
 * What the CLI finds without -c: SW_CONF_DEFAULT, or, where there is
 * none (a source tree's `make run`), every key's default, so that its
 * default control socket is the one of a daemon started with the
 * default state_dir
 *
 * @return 0, or an errno value when the file is there but does not load
 */
int sw_conf_load_default(struct sw_conf *conf, char *err, size_t errsz)
{
	int e = sw_conf_load(conf, SW_CONF_DEFAULT, err, errsz);

	if (e != ENOENT)
		return e;
	sw_conf_defaults(conf);
	sw_conf_set_state_dir(conf, NULL);
	return 0;
}


/**
 * Override state_dir (NULL keeps the configured one) and derive the paths
 * left unset from it: control_socket = state_dir/shareway.sock and
 * calllog path = state_dir/calls.db.
 */
void sw_conf_set_state_dir(struct sw_conf *conf, const char *dir)
{
	if (dir) {
		snprintf(conf->state_dir, sizeof(conf->state_dir), "%s", dir);
		conf->control_socket[0] = '\0';
		conf->calllog_path[0] = '\0';
		conf->derived_socket = conf->derived_calllog = false;
	}
	if (!conf->control_socket[0] || conf->derived_socket) {
		snprintf(conf->control_socket, sizeof(conf->control_socket),
			 "%.*s/shareway.sock", (int)sizeof(conf->state_dir) - 16,
			 conf->state_dir);
		conf->derived_socket = true;
	}
	if (!conf->calllog_path[0] || conf->derived_calllog) {
		snprintf(conf->calllog_path, sizeof(conf->calllog_path),
			 "%.*s/calls.db", (int)sizeof(conf->state_dir) - 16,
			 conf->state_dir);
		conf->derived_calllog = true;
	}
}


/**
 * The line of the file where key was set (of zone, or of the plain
 * sections when zone is NULL)
 *
 * @return the line, or 0 when the key has its default
 */
unsigned sw_conf_key_line(const struct sw_conf *conf, const char *section,
			  const struct sw_zone *zone, const char *key)
{
	const struct conf_key *k =
		zone ? find_key(zone_keys, ARRN(zone_keys), "zone", key)
		     : find_key(keys, ARRN(keys), section ? section : "", key);

	if (!k)
		return 0;
	return zone ? zone->key_line[k - zone_keys] : conf->key_line[k - keys];
}


/**
 * An error about a key after loading, as the loader writes them:
 * "file:line:key: message", or "file: [section] key (default): message"
 * for a key the file does not set
 *
 * @return EINVAL
 */
int sw_conf_fail(const struct sw_conf *conf, const char *section,
		 const struct sw_zone *zone, const char *key, char *err,
		 size_t errsz, const char *fmt, ...)
{
	unsigned line = sw_conf_key_line(conf, section, zone, key);
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line) {
		snprintf(err, errsz, "%s:%u:%s: %s", conf->path, line, key,
			 msg);
		return EINVAL;
	}
	if (zone)
		snprintf(err, errsz, "%s:%u: [zone %s] %s (not set): %s",
			 conf->path, zone->line, zone->name, key, msg);
	else
		snprintf(err, errsz, "%s: [%s] %s (default): %s", conf->path,
			 section ? section : "?", key, msg);
	return EINVAL;
}


/* What a reload applies (sharewayd.c); every other key needs a restart */
static const char *const reloadable[] = {
	"general.log_level", "general.rules_file", "turn.user",
	"log.modules", "hep.enable", "hep.collector", "hep.capture_id",
	"hep.node_name", "hep.password", "hep.ice",
	"turn.static_auth_secret", "zone.match.source", "zone.target",
	"zone.transport", "zone.default", "zone.edge", "zone.invite_timeout",
	"zone.fqdn", "zone.peer", "zone.probe_interval", "zone.probe_timeout",
};


static bool is_reloadable(const struct conf_key *k)
{
	char name[64];

	snprintf(name, sizeof(name), "%s.%s", k->section, k->key);
	for (size_t i = 0; i < ARRN(reloadable); ++i)
		if (!strcmp(reloadable[i], name))
			return true;
	return false;
}


static bool key_differs(const struct conf_key *k, const char *a,
			const char *b)
{
	size_t n = 0, el = 0;

	switch (k->type) {
	case CT_STR:
	case CT_PATH:
	case CT_HOST:
		return strcmp(a + k->off, b + k->off) != 0;
	case CT_LISTEN:
		el = sizeof(struct sw_listen);
		break;
	case CT_CIDRS:
		el = sizeof(struct sw_cidr);
		break;
	case CT_USER:
		el = sizeof(struct sw_user);
		break;
	case CT_PEER:
		el = sizeof(struct sw_zone_peer);
		break;
	case CT_PORTRANGE:
		return memcmp(a + k->off, b + k->off, sizeof(uint32_t)) ||
		       memcmp(a + k->off2, b + k->off2, sizeof(uint32_t));
	case CT_U32: n = sizeof(uint32_t); break;
	case CT_BOOL: n = sizeof(bool); break;
	case CT_LOGLEVEL: n = sizeof(enum sw_log_level); break;
	case CT_TRANSPORT: n = sizeof(enum sw_transport); break;
	case CT_ADDR:
	case CT_SOCKADDR: n = sizeof(struct sw_sa); break;
	}
	if (el) { /* a list: its count, then its values */
		unsigned na = *(const unsigned *)(a + k->off2);

		if (na != *(const unsigned *)(b + k->off2))
			return true;
		n = na * el;
	}
	return memcmp(a + k->off, b + k->off, n) != 0;
}


static void add_name(char *out, size_t sz, const char *label,
		     const char *key)
{
	size_t len = strlen(out);

	if (len + 1 < sz)
		snprintf(out + len, sz - len, "%s[%s] %s", len ? ", " : "",
			 label, key);
}


/* The keys of one section (or zone) a reload cannot apply that differ */
static void section_diff(const struct conf_key *tab, size_t n,
			 const char *section, const char *label,
			 const char *a, const char *b, char *out, size_t sz)
{
	for (size_t i = 0; i < n; ++i)
		if ((!section || !strcmp(tab[i].section, section)) &&
		    !is_reloadable(&tab[i]) && key_differs(&tab[i], a, b))
			add_name(out, sz, label, tab[i].key);
}


/**
 * What differs between the configuration running (old) and a reloaded
 * one (new) that a reload does not apply: out gets
 * "[sip] listen, [zone edge] tls.cert", or "" when a reload applies it
 * all (the dial plan, the zones' routing keys, the TURN users and REST
 * secret, the log level)
 */
void sw_conf_restart_keys(const struct sw_conf *old, const struct sw_conf *new,
			  char *out, size_t sz)
{
	static const struct sw_zone none; /* a zone absent on one side */
	const char *sections[] = {"general", "sip", "turn", "appsharing",
				  "calllog", "cluster", "log", "metrics",
				  "hep"};

	out[0] = '\0';
	for (size_t i = 0; i < ARRN(sections); ++i)
		section_diff(keys, ARRN(keys), sections[i], sections[i],
			     (const char *)old, (const char *)new, out, sz);
	for (unsigned i = 0; i < old->n_zones; ++i) {
		const struct sw_zone *o = &old->zones[i];
		const struct sw_zone *z = sw_conf_zone_find(new, o->name);
		char label[80];

		snprintf(label, sizeof(label), "zone %s", o->name);
		section_diff(zone_keys, ARRN(zone_keys), NULL, label,
			     (const char *)o, (const char *)(z ? z : &none),
			     out, sz);
	}
	for (unsigned i = 0; i < new->n_zones; ++i) {
		const struct sw_zone *z = &new->zones[i];
		char label[80];

		if (sw_conf_zone_find(old, z->name))
			continue;
		snprintf(label, sizeof(label), "zone %s", z->name);
		section_diff(zone_keys, ARRN(zone_keys), NULL, label,
			     (const char *)&none, (const char *)z, out, sz);
	}
}


/** The zone called name among n zones, or NULL (name may be NULL) */
const struct sw_zone *sw_zone_find(const struct sw_zone *zones, unsigned n,
				   const char *name)
{
	for (unsigned i = 0; zones && name && i < n; ++i)
		if (!strcmp(zones[i].name, name))
			return &zones[i];
	return NULL;
}


const struct sw_zone *sw_conf_zone_find(const struct sw_conf *conf,
					const char *name)
{
	return sw_zone_find(conf->zones, conf->n_zones, name);
}
