/**
 * @file sw_conf.h  The daemon configuration: one immutable snapshot.
 *
 * struct sw_conf has no pointers: it is copied by value into the relay
 * threads' messages on start and reload, so no thread ever shares it.
 * Every key lives in one table in sw_conf.c with its type, range and
 * default; conf/shareway.conf documents each one.
 */
#ifndef SW_CONF_H
#define SW_CONF_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "sw_addr.h"
#include "sw_log.h"

#define SW_CONF_MAX_LISTEN 16
#define SW_CONF_MAX_USERS  64
#define SW_CONF_MAX_CIDR   32
#define SW_CONF_MAX_SECRETS 8 /* REST secrets at once (rotation) */
#define SW_CONF_MAX_ZONES  32
#define SW_CONF_MAX_URI    2047 /* [sip] max_uri_length at most */
#define SW_CONF_STR        256
#define SW_CONF_PATH       PATH_MAX
/* rows of sw_conf.c's key tables, with room for more keys */
#define SW_CONF_MAX_KEYS   128
#define SW_ZONE_MAX_KEYS   32
#define SW_ZONE_MAX_PEERS  8

enum sw_transport {
	SW_TP_UDP = 0,
	SW_TP_TCP,
	SW_TP_TLS,
};

struct sw_listen {
	enum sw_transport tp;
	struct sw_sa addr;
};

struct sw_user {
	char name[128];
	char password[128];
};

/** One peer of a zone's peer list ([zone] peer): lower priority first,
 *  then by weight among the peers of one priority (RFC 2782's rule) */
struct sw_zone_peer {
	char uri[SW_CONF_STR]; /* sip:/sips: URI, host or IP, port */
	uint32_t priority;     /* 0..65535, lower is tried first */
	uint32_t weight;       /* 1..1000, share of calls in its priority */
	unsigned line;         /* where it was set */
};

/** A named SIP neighbour, in Expressway's sense */
struct sw_zone {
	char name[64];
	struct sw_cidr match_source[SW_CONF_MAX_CIDR]; /* who is this zone */
	unsigned n_match_source;
	char tls_subjects[SW_CONF_STR]; /* space-separated accepted subjects */
	char target[SW_CONF_STR];       /* SIP URI calls to this zone go to */
	enum sw_transport transport;    /* toward the zone */
	char tls_cert[SW_CONF_PATH];
	char tls_key[SW_CONF_PATH];
	char tls_ca[SW_CONF_PATH];
	/* the gateway's host name toward the zone, in the Contact of what it
	 * sends there (a peer that routes by its TLS certificate, as Lync
	 * does, needs the name the certificate carries); "" = the listen IP */
	char fqdn[256];
	bool tls_verify;      /* require and verify the peer certificate */
	bool is_default;      /* requests from no known zone land here */
	bool edge;            /* the Skype/Lync Edge side (vs conference side) */
	uint32_t invite_timeout; /* s without a final response -> 408 */
	struct sw_listen listen[4]; /* own listeners (own TLS identity) */
	unsigned n_listen;
	/* several peers instead of one target, probed with OPTIONS */
	struct sw_zone_peer peers[SW_ZONE_MAX_PEERS];
	unsigned n_peers;
	uint32_t probe_interval; /* s between OPTIONS to each peer */
	uint32_t probe_timeout;  /* s a probe may wait for its answer */
	unsigned line;               /* of its [zone NAME] header */
	unsigned key_line[SW_ZONE_MAX_KEYS]; /* where each key was set, 0:
						default (sw_conf_key_line) */
};

struct sw_conf {
	char path[SW_CONF_PATH]; /* the file this was loaded from */
	char dir[SW_CONF_PATH];  /* its directory: relative paths resolve here */

	/* [general] */
	enum sw_log_level log_level;
	bool log_syslog;
	char state_dir[SW_CONF_PATH];      /* run-time files: socket, db */
	char control_socket[SW_CONF_PATH]; /* UNIX socket of the CLI */
	bool derived_socket, derived_calllog; /* set from state_dir */
	char rules_file[SW_CONF_PATH];
	uint32_t relay_threads;
	uint32_t max_open_files;

	/* [sip] */
	struct sw_listen sip_listen[SW_CONF_MAX_LISTEN];
	unsigned n_sip_listen;
	char sip_user_agent[SW_CONF_STR];
	char sip_strip_headers[SW_CONF_STR * 4]; /* space-separated names */
	uint32_t sip_session_timer;  /* s, 0 = off */
	uint32_t sip_min_se;
	uint32_t sip_invite_timeout; /* s, default for zones */
	uint32_t sip_udp_rmem;       /* bytes */
	uint32_t sip_max_forwards;
	uint32_t sip_max_uri_length;    /* bytes: longer R-URI 414, To/From 400 */
	uint32_t sip_max_calls;         /* calls at once, then 503; 0 = no cap */
	uint32_t sip_max_cps;           /* new calls per second, then 503 */
	uint32_t sip_tcp_message_timeout; /* s to complete a message */
	uint32_t sip_tcp_idle_timeout;  /* s an unused connection is kept */
	uint32_t sip_tcp_max_per_source; /* connections per address; 0 = no cap */
	char sip_tls_cert[SW_CONF_PATH];
	char sip_tls_key[SW_CONF_PATH];
	char sip_tls_ca[SW_CONF_PATH];

	/* [turn] */
	bool turn_enable;
	struct sw_listen turn_listen[SW_CONF_MAX_LISTEN];
	unsigned n_turn_listen;
	struct sw_sa turn_relay_ip;    /* relayed sockets bind here */
	struct sw_sa turn_relay_ip6;
	struct sw_sa turn_external_ip; /* advertised instead, if set */
	uint32_t turn_port_min, turn_port_max;
	char turn_realm[128];
	struct sw_user turn_users[SW_CONF_MAX_USERS];
	unsigned n_turn_users;
	char turn_static_auth_secret[SW_CONF_STR];
	/* more REST secrets in force (rotation): no key, the cluster's
	 * PostgreSQL fills them (src/cluster/) */
	char turn_secrets[SW_CONF_MAX_SECRETS][SW_CONF_STR];
	unsigned n_turn_secrets;
	uint32_t turn_default_lifetime, turn_max_lifetime;
	uint32_t turn_nonce_lifetime;
	uint32_t turn_user_quota, turn_total_quota;
	uint32_t turn_prebind_buffer; /* bytes buffered per peer before bind */
	uint32_t turn_prebind_total;  /* the same, all peers of an allocation */
	uint32_t turn_max_unbound;    /* RFC 6062 connections awaiting a bind,
					 per allocation */
	uint32_t turn_bind_timeout;   /* s, RFC 6062 ConnectionBind */
	uint32_t turn_connect_timeout;
	char turn_software[128];
	uint32_t turn_redirect_allocs; /* this many allocations or more:
					  external Allocates get 300 */
	bool turn_allow_own; /* peers may be the gateway's own addresses */
	struct sw_cidr turn_allow[SW_CONF_MAX_CIDR];
	unsigned n_turn_allow;
	struct sw_cidr turn_deny[SW_CONF_MAX_CIDR];
	unsigned n_turn_deny;
	char turn_tls_cert[SW_CONF_PATH];
	char turn_tls_key[SW_CONF_PATH];
	char turn_tls_ca[SW_CONF_PATH];

	/* [appsharing] */
	uint32_t as_check_timeout;      /* s until a direction is failed */
	uint32_t as_inspect_max_bytes;  /* observed bytes before splice */
	bool as_set_default_to_relay;   /* m=/c= point at the relay */
	uint32_t as_relay_pool;         /* in-process allocations kept ready */
	uint32_t as_permit_wait;        /* s an unpermitted peer of an
					   in-process relay is held */
	bool as_inside_candidate;       /* offer the conference a candidate
					   on inside_ip (TCP-ACT servers) */
	struct sw_sa as_inside_ip;      /* unset: turn relay_ip */

	/* [calllog] */
	char calllog_path[SW_CONF_PATH];
	uint32_t calllog_retention_days;
	uint32_t calllog_max_calls;
	bool calllog_capture_sip; /* record every SIP message of a call */

	/* [cluster] (src/cluster/): off by default, SQLite only */
	bool cluster_enable;
	char cluster_instance[64];       /* this instance's name */
	char cluster_conninfo[SW_CONF_STR * 2]; /* libpq connection string */
	uint32_t cluster_heartbeat_ms;   /* registry heartbeat interval */
	uint32_t cluster_dead_after_ms;  /* older heartbeat: instance gone */
	uint32_t cluster_ship_batch;     /* call records per transaction */
	uint32_t cluster_credentials_refresh; /* s, TURN users read; 0 off */

	/* [log] (log_level and log_syslog are in [general]) */
	char log_modules[512];      /* "sip=debug turn=warn" */
	char log_syslog_facility[16];

	/* [metrics] */
	bool metrics_enable;
	struct sw_sa metrics_listen; /* IP:port of /metrics */

	/* [hep] */
	bool hep_enable;
	struct sw_sa hep_collector;  /* IP:port, UDP */
	uint32_t hep_capture_id;
	char hep_node_name[64];
	char hep_password[64];
	bool hep_ice;                /* TURN/ICE of the calls as HEP logs */

	/* [zone NAME] */
	struct sw_zone zones[SW_CONF_MAX_ZONES];
	unsigned n_zones;

	/* where each key was set, 0: default (sw_conf_key_line) */
	unsigned key_line[SW_CONF_MAX_KEYS];
};

/* where sharewayd and shareway look without -c: SW_CONF_DIR (and the
 * default state_dir, SW_STATE_DIR) follow ./configure's sysconfdir and
 * localstatedir (configure.ac, config.h) */
#define SW_CONF_DEFAULT SW_CONF_DIR "/shareway.conf"

int sw_conf_load(struct sw_conf *conf, const char *path, char *err,
		 size_t errsz);
int sw_conf_load_default(struct sw_conf *conf, char *err, size_t errsz);
void sw_conf_defaults(struct sw_conf *conf);
void sw_conf_set_state_dir(struct sw_conf *conf, const char *dir);
const struct sw_zone *sw_zone_find(const struct sw_zone *zones, unsigned n,
				   const char *name);
const struct sw_zone *sw_conf_zone_find(const struct sw_conf *conf,
					const char *name);
const char *sw_transport_name(enum sw_transport tp);
int sw_transport_parse(const char *s, enum sw_transport *tp);
void sw_conf_resolve_path(const struct sw_conf *conf, char *out, size_t sz,
			  const char *p);
void sw_conf_restart_keys(const struct sw_conf *old, const struct sw_conf *new,
			  char *out, size_t sz);
/* a key of a plain section ("turn", "tls_cert", zone NULL) or of a zone
 * (section NULL) */
unsigned sw_conf_key_line(const struct sw_conf *conf, const char *section,
			  const struct sw_zone *zone, const char *key);
int sw_conf_fail(const struct sw_conf *conf, const char *section,
		 const struct sw_zone *zone, const char *key, char *err,
		 size_t errsz, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

#endif
