/**
 * @file sipua.c  The Sofia-SIP stack of sharewayd: endpoints, zones, loop.
 *
 * Sofia 1.12.11 has one TLS context per nua instance (agent.pem +
 * cafile.pem in one directory), so the SIP thread runs one nua per TLS
 * identity: an "endpoint". The [sip] listeners and certificate form the
 * main endpoint(s); a zone with its own tls.cert/tls.key and a listen
 * line gets an endpoint of its own, whose listener presents the zone's
 * certificate and whose outgoing connections (toward that zone) present
 * it as client certificate. All endpoints share one su_root and one event
 * handler; a call may have its legs on different endpoints.
 *
 * Stack settings follow docs/ARCHITECTURE.md and the Sofia pitfalls:
 * SOA off, no automatic alert/answer/ACK, no automatic 3xx/305/5xx
 * restarts, Allow/Supported replaced (not merged), the stack in this
 * thread (su_root_threading(0)). Responses to UDP requests go back to
 * the source address and port (NTATAG_SERVER_RPORT(2), symmetric like
 * Kamailio's force_rport): a Via sent-by never makes the gateway send a
 * response elsewhere or resolve a name.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define SW_LOG_MODULE "sip"
#include "sw_log.h"
#include "sipua_int.h"

#include <sofia-sip/su_strlst.h>
#include <sofia-sip/tport_tag.h>
#include <sofia-sip/nta_tag.h>
#include <sofia-sip/msg_addr.h>

#include <openssl/err.h>

#define SIPUA_ALLOW "INVITE, ACK, BYE, CANCEL, OPTIONS, PRACK, UPDATE, " \
		    "INFO, MESSAGE"
#define SIPUA_SUPPORTED "timer, 100rel"
#define SIPUA_HANGUP_MS 2000     /* calls' BYE/CANCEL get their answers */
#define SIPUA_STOP_GRACE_MS 5000 /* then the transports close */
/* The TCP/TLS listen backlog (and the per-connection send queue, the same
 * Sofia parameter): Sofia's default is 64, too few for a burst of
 * reconnections after a network failure; 1000 is the most tport accepts
 * (tport_set_params() caps TPTAG_QUEUESIZE there) */
#define SIPUA_BACKLOG 1000

struct fd_watch {
	struct sipua *ua;
	struct fd_watch *next; /* ua->watches */
	int index;             /* su_root_register() */
	su_wait_t wait[1];
	int fd;
	sipua_fd_h *fh;
	void *arg;
};


int64_t sipua_now_ms(bool realtime)
{
	struct timespec ts;

	clock_gettime(realtime ? CLOCK_REALTIME : CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


/* Append file src to the open stream out; 0 or errno */
static int file_append(FILE *out, const char *src)
{
	char buf[4096];
	FILE *in = fopen(src, "r");
	size_t n;
	int err = 0;

	if (!in)
		return errno;
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, out) != n) {
			err = EIO;
			break;
		}
	if (ferror(in))
		err = EIO;
	fclose(in);
	return err;
}


/* dir/name = concatenation of a and b (b may be ""); mode 0600 */
static int file_build(const char *dir, const char *name, const char *a,
		      const char *b)
{
	char path[SW_CONF_PATH + 32];
	FILE *out;
	int err;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	out = fopen(path, "w");
	if (!out)
		return errno;
	chmod(path, 0600);
	err = file_append(out, a);
	if (!err && b && *b && strcmp(a, b))
		err = file_append(out, b);
	if (fclose(out) && !err)
		err = EIO;
	if (err)
		sw_error("[tls %s] cannot build %s: %s", dir, name,
			 strerror(err));
	return err;
}


/* Sofia's certificate directory: agent.pem = chain + key, cafile.pem */
static int ep_tls_dir(struct sipua_ep *ep, const struct sw_conf *conf,
		      const char *tag, const char *cert, const char *key,
		      const char *ca)
{
	int err;

	snprintf(ep->tls_dir, sizeof(ep->tls_dir), "%.*s/tls-%s",
		 (int)sizeof(ep->tls_dir) - 80, conf->state_dir, tag);
	if (mkdir(ep->tls_dir, 0700) && errno != EEXIST) {
		err = errno;
		sw_error("[tls %s] cannot create %s: %s", tag, ep->tls_dir,
			 strerror(err));
		return err;
	}
	err = file_build(ep->tls_dir, "agent.pem", cert, key);
	if (!err && ca && *ca)
		err = file_build(ep->tls_dir, "cafile.pem", ca, NULL);
	return err;
}


/* Fill the sip:/sips: URLs of an endpoint from a listen list; the
 * listeners not taken stay flagged in used[] for the next endpoint */
static void ep_urls(struct sipua_ep *ep, const struct sw_listen *l,
		    unsigned n, bool *used)
{
	char a[SW_SA_STRLEN];
	int plain = -1;
	bool udp = false, tcp = false;

	for (unsigned i = 0; i < n; ++i) {
		if (used[i])
			continue;
		if (l[i].tp == SW_TP_TLS) {
			if (ep->sips_url[0])
				continue;
			snprintf(ep->sips_url, sizeof(ep->sips_url), "sips:%s",
				 sw_sa_str(&l[i].addr, a, sizeof(a)));
			ep->tls_addr = l[i].addr;
			used[i] = true;
			continue;
		}
		if (plain >= 0 && !sw_sa_cmp(&l[plain].addr, &l[i].addr, true))
			continue;
		plain = (int)i;
		udp |= l[i].tp == SW_TP_UDP;
		tcp |= l[i].tp == SW_TP_TCP;
		used[i] = true;
	}
	if (plain >= 0)
		ep->addr = l[plain].addr;
	if (plain >= 0)
		snprintf(ep->url, sizeof(ep->url), "sip:%s%s",
			 sw_sa_str(&l[plain].addr, a, sizeof(a)),
			 udp && tcp ? "" : udp ? ";transport=udp"
					       : ";transport=tcp");
}


static bool all_used(const bool *used, unsigned n)
{
	for (unsigned i = 0; i < n; ++i)
		if (!used[i])
			return false;
	return true;
}


/* TLS verification of the main endpoints: as asked by the zones that
 * have no identity of their own */
static void ep_main_verify(struct sipua *ua, struct sipua_ep *ep)
{
	const struct sw_conf *conf = ua->conf;
	char subj[SW_CONF_STR * 4] = "";
	bool any_open = false;

	for (unsigned i = 0; i < conf->n_zones; ++i) {
		const struct sw_zone *z = &conf->zones[i];

		if (z->tls_cert[0] || !z->tls_verify)
			continue;
		ep->tls_verify = true;
		if (!z->tls_subjects[0])
			any_open = true;
		else if (strlen(subj) + strlen(z->tls_subjects) + 2 <
			 sizeof(subj))
			snprintf(subj + strlen(subj), sizeof(subj) - strlen(subj),
				 "%s%s", subj[0] ? " " : "", z->tls_subjects);
	}
	if (ep->tls_verify && !any_open && subj[0])
		ep->tls_subjects = su_strdup(ua->home, subj);
}


static int ua_eps_plan(struct sipua *ua)
{
	const struct sw_conf *conf = ua->conf;
	bool used[SW_CONF_MAX_LISTEN] = {false};
	int err = 0;

	while (!all_used(used, conf->n_sip_listen) && ua->n_ep < SIPUA_MAX_EP) {
		struct sipua_ep *ep = &ua->ep[ua->n_ep++];

		ep->ua = ua;
		ep_urls(ep, conf->sip_listen, conf->n_sip_listen, used);
		if (ep->sips_url[0]) {
			err = ep_tls_dir(ep, conf, "sip", conf->sip_tls_cert,
					 conf->sip_tls_key, conf->sip_tls_ca);
			ep_main_verify(ua, ep);
		}
		if (err)
			return err;
	}
	for (unsigned i = 0; i < conf->n_zones && !err; ++i) {
		const struct sw_zone *z = &conf->zones[i];
		bool zused[SW_CONF_MAX_LISTEN] = {false};
		struct sipua_ep *ep;

		if (!z->n_listen)
			continue;
		ep = &ua->ep[ua->n_ep++];
		ep->ua = ua;
		ep->zone = z;
		ep_urls(ep, z->listen, z->n_listen, zused);
		if (!all_used(zused, z->n_listen))
			sw_warn("[zone %s] only one sip: and one tls listener "
				"per zone: extra listen values ignored",
				z->name);
		if (!ep->sips_url[0])
			continue;
		ep->tls_verify = z->tls_verify;
		if (z->tls_subjects[0])
			ep->tls_subjects = z->tls_subjects;
		err = ep_tls_dir(ep, conf, z->name,
				 z->tls_cert[0] ? z->tls_cert : conf->sip_tls_cert,
				 z->tls_key[0] ? z->tls_key : conf->sip_tls_key,
				 z->tls_ca[0] ? z->tls_ca : conf->sip_tls_ca);
	}
	return err;
}


static void ua_event(nua_event_t ev, int status, const char *phrase,
		     nua_t *nua, struct sipua_ep *ep, nua_handle_t *nh,
		     struct sipua_leg *leg, const sip_t *sip, tagi_t tags[]);


/* What OpenSSL left in this thread's error queue while Sofia set up a TLS
 * context: Sofia drains the queue on its own failure paths only, and what
 * stays would otherwise surface later, in Sofia's report of an unrelated
 * handshake failure. One bounded line each, in the project's format. */
static void sipua_tls_errors(const char *what)
{
	unsigned long e;
	char buf[256];

	while ((e = ERR_get_error())) {
		ERR_error_string_n(e, buf, sizeof(buf));
		sw_log_limited(SW_LOG_WARN, "[tls %s] OpenSSL: %s", what, buf);
	}
}


static int ep_start(struct sipua *ua, struct sipua_ep *ep)
{
	const struct sw_conf *conf = ua->conf;
	su_strlst_t *subj = NULL;
	unsigned policy = 0;

	if (ep->tls_verify)
		policy = TPTLS_VERIFY_ALL;
	if (ep->tls_verify && ep->tls_subjects) {
		subj = su_strlst_dup_split(ua->home, ep->tls_subjects, " ");
		policy |= TPTLS_VERIFY_SUBJECTS_IN;
	}
	ep->nua = nua_create(
		ua->root, ua_event, ep, TAG_IF(ep->url[0], NUTAG_URL(ep->url)),
		TAG_IF(ep->sips_url[0], NUTAG_SIPS_URL(ep->sips_url)),
		TAG_IF(ep->tls_dir[0], NUTAG_CERTIFICATE_DIR(ep->tls_dir)),
		TAG_IF(ep->tls_dir[0], TPTAG_TLS_VERIFY_POLICY(policy)),
		TAG_IF(subj, TPTAG_TLS_VERIFY_SUBJECTS(subj)),
		TAG_IF(ep->tls_dir[0], TPTAG_TLS_VERIFY_DEPTH(4)),
		TPTAG_UDP_RMEM(conf->sip_udp_rmem), NTATAG_UDP_MTU(65535),
		TPTAG_QUEUESIZE(SIPUA_BACKLOG),
		TPTAG_IDLE(conf->sip_tcp_idle_timeout * 1000),
		TPTAG_TIMEOUT(conf->sip_tcp_message_timeout * 1000),
		/* nua turns on Sofia's mini STUN server on the SIP UDP port;
		 * it fprintf()s to stderr for every datagram that starts with
		 * a 0 or 1 byte ("stun garbage from ..."), whatever the log
		 * level: one line per packet a sender chooses. Neighbours
		 * keep UDP flows alive with OPTIONS, not STUN. */
		TPTAG_STUN_SERVER(0),
		NTATAG_SERVER_RPORT(2), TAG_IF(ua->cap, TPTAG_LOG(1)),
		TAG_END());
	sipua_tls_errors(ep->tls_dir[0] ? ep->tls_dir : ep->url);
	if (!ep->nua) {
		sw_error("[sip %s%s%s] cannot create the SIP stack (address "
			 "in use, or bad certificate in %s?)",
			 ep->url, ep->sips_url[0] ? " " : "", ep->sips_url,
			 ep->tls_dir[0] ? ep->tls_dir : "-");
		return EADDRINUSE;
	}
	nua_set_params(
		ep->nua, NUTAG_MEDIA_ENABLE(0), NUTAG_AUTOALERT(0),
		NUTAG_AUTOANSWER(0), NUTAG_AUTOACK(0), NUTAG_AUTO302(0),
		NUTAG_AUTO305(0), NUTAG_MAX_RETRY_AFTER(0),
		NUTAG_ENABLEMESSAGE(1), NUTAG_EARLY_MEDIA(0),
		SIPTAG_ALLOW_STR(SIPUA_ALLOW),
		SIPTAG_SUPPORTED_STR(SIPUA_SUPPORTED),
		NUTAG_APPL_METHOD("OPTIONS"), NUTAG_APPL_METHOD("INFO"),
		NUTAG_APPL_METHOD("UPDATE"), NUTAG_APPL_METHOD("MESSAGE"),
		NUTAG_SESSION_TIMER(conf->sip_session_timer),
		NUTAG_MIN_SE(conf->sip_min_se),
		NUTAG_SESSION_REFRESHER(nua_any_refresher),
		NUTAG_UPDATE_REFRESH(1),
		SIPTAG_USER_AGENT_STR(conf->sip_user_agent),
		NTATAG_MAX_FORWARDS(conf->sip_max_forwards), TAG_END());
	if (ep->zone)
		sw_notice("SIP zone %s listening on %s%s%s", ep->zone->name,
			  ep->url, ep->url[0] ? " " : "", ep->sips_url);
	return 0;
}


/**
 * Create the SIP stack: one su_root, one nua per endpoint, listening
 *
 * @param router  decides where calls go (the dial plan's sw_rules_router)
 * @param plan    its current plan (a reference is taken), may be NULL
 * @return 0, or an errno value (logged)
 */
int sipua_create(struct sipua **uap, const struct sw_conf *conf,
		 const struct sw_router *router, void *plan)
{
	struct sipua *ua;
	int err;

	if (!uap || !conf || (plan && !router))
		return EINVAL;
	if (su_init())
		return ENOMEM;
	ua = su_home_new(sizeof(*ua));
	if (!ua) {
		su_deinit();
		return ENOMEM;
	}
	ua->conf = conf;
	ua->router = router;
	ua->next_id = 1;
	ua->sdph = sipua_sdp_hook_default;
	ua->root = su_root_create(ua);
	if (!ua->root) {
		err = ENOMEM;
		goto out;
	}
	su_root_threading(ua->root, 0);
	sipua_log_redirect(); /* before capture, which chains in front */
	if ((err = sipua_conn_start(ua)))
		goto out;
	if (conf->calllog_capture_sip && (err = sipua_cap_start(ua)))
		sw_warn("[sip] SIP messages not captured: %s", strerror(err));
	err = ua_eps_plan(ua);
	for (unsigned i = 0; i < ua->n_ep && !err; ++i)
		err = ep_start(ua, &ua->ep[i]);
	if (plan)
		ua->plan = router->ref(plan);
	if (!err)
		err = sipua_names_sync(ua);
	if (!err)
		err = sipua_peers_sync(ua);
out:
	if (err)
		sipua_destroy(ua);
	else
		*uap = ua;
	return err;
}


/** Free the stack (after sipua_run() returned); calls left are dropped */
void sipua_destroy(struct sipua *ua)
{
	if (!ua)
		return;
	while (ua->calls)
		sipua_call_abort(ua->calls);
	for (struct fd_watch *fw = ua->watches; fw; fw = fw->next)
		su_root_deregister(ua->root, fw->index);
	sipua_names_stop(ua);
	sipua_peers_stop(ua);
	if (ua->stop_timer)
		su_timer_destroy(ua->stop_timer);
	for (unsigned i = 0; i < ua->n_ep; ++i)
		if (ua->ep[i].nua)
			nua_destroy(ua->ep[i].nua);
	sipua_conn_stop(ua);
	if (ua->plan)
		ua->router->unref(ua->plan);
	if (ua->root)
		su_root_destroy(ua->root);
	sipua_cap_stop(ua); /* Sofia logs through it until here */
	sw_idmap_free(&ua->call_ids);
	su_home_unref(ua->home);
	su_deinit();
}


/** Run the SIP thread's loop until sipua_shutdown() has completed */
int sipua_run(struct sipua *ua)
{
	if (!ua)
		return EINVAL;
	su_root_run(ua->root);
	return 0;
}


static void ua_stop_timeout(struct sipua *ua, su_timer_t *t, void *arg)
{
	(void)arg;
	(void)t;
	sw_warn("[sip] shutdown not complete after %d ms: stopping anyway",
		SIPUA_STOP_GRACE_MS);
	su_root_break(ua->root);
}


/** Second step of the shutdown: calls still up are dropped (their handles
 *  destroyed, nothing more sent), then each endpoint closes. nua's own
 *  shutdown so finds no dialog to hang up: whatever a dialog holds, it
 *  builds no request. */
void sipua_stop_endpoints(struct sipua *ua)
{
	if (ua->eps_stopping)
		return;
	ua->eps_stopping = true;
	if (ua->calls)
		sw_notice("[sip] shutdown: %u calls dropped unanswered",
			  ua->n_calls);
	while (ua->calls)
		sipua_call_abort(ua->calls);
	if (ua->stop_timer)
		su_timer_set_interval(ua->stop_timer, ua_stop_timeout, NULL,
				      SIPUA_STOP_GRACE_MS);
	for (unsigned i = 0; i < ua->n_ep; ++i)
		nua_shutdown(ua->ep[i].nua);
}


static void ua_hangup_timeout(struct sipua *ua, su_timer_t *t, void *arg)
{
	(void)arg;
	(void)t;
	sipua_stop_endpoints(ua);
}


/** Hang up every call (BYE on both legs, CANCEL or 503 before the
 *  answer), wait for them at most SIPUA_HANGUP_MS, close the transports,
 *  then end sipua_run() */
void sipua_shutdown(struct sipua *ua)
{
	if (!ua || ua->stopping)
		return;
	ua->stopping = true;
	sipua_peers_stop(ua); /* no new probe; none left in flight */
	ua->stop_timer = su_timer_create(su_root_task(ua->root),
					 SIPUA_HANGUP_MS);
	if (ua->stop_timer)
		su_timer_set(ua->stop_timer, ua_hangup_timeout, NULL);
	if (ua->calls)
		sw_notice("[sip] shutdown: hanging up %u calls", ua->n_calls);
	for (struct sw_call *c = ua->calls, *next; c; c = next) {
		next = c->next;
		sipua_call_hangup(c);
	}
	if (!ua->calls || !ua->stop_timer)
		sipua_stop_endpoints(ua);
}


static void ep_down(struct sipua_ep *ep, int status)
{
	struct sipua *ua = ep->ua;

	if (status < 200)
		return;
	ep->down = true;
	for (unsigned i = 0; i < ua->n_ep; ++i)
		if (!ua->ep[i].down)
			return;
	su_root_break(ua->root);
}


static int fd_wakeup(struct sipua *ua, su_wait_t *w, void *arg)
{
	struct fd_watch *fw = arg;

	(void)ua;
	su_wait_events(w, fw->fd);
	fw->fh(fw->fd, fw->arg);
	return 0;
}


/** Call fh on the SIP thread whenever fd is readable (eventfd, signalfd) */
int sipua_fd_watch(struct sipua *ua, int fd, sipua_fd_h *fh, void *arg)
{
	struct fd_watch *fw;

	if (!ua || fd < 0 || !fh)
		return EINVAL;
	fw = su_zalloc(ua->home, sizeof(*fw));
	if (!fw)
		return ENOMEM;
	fw->ua = ua;
	fw->fd = fd;
	fw->fh = fh;
	fw->arg = arg;
	if (su_wait_create(fw->wait, fd, SU_WAIT_IN))
		return errno ? errno : EINVAL;
	fw->index = su_root_register(ua->root, fw->wait, fd_wakeup, fw, 0);
	if (fw->index < 0) {
		su_wait_destroy(fw->wait);
		return EINVAL;
	}
	fw->next = ua->watches;
	ua->watches = fw;
	return 0;
}


/** Stop watching fd (before its owner closes it: Sofia's loop would
 *  otherwise remove a closed descriptor at sipua_destroy() and log
 *  EBADF) */
void sipua_fd_unwatch(struct sipua *ua, int fd)
{
	for (struct fd_watch **pp = ua ? &ua->watches : NULL; pp && *pp;
	     pp = &(*pp)->next) {
		if ((*pp)->fd != fd)
			continue;
		su_root_deregister(ua->root, (*pp)->index);
		*pp = (*pp)->next;
		return;
	}
}


/** New calls route with plan from now on (a reference is taken; the
 *  router is sipua_create()'s); calls in progress keep the plan they
 *  were routed by */
void sipua_set_plan(struct sipua *ua, void *plan)
{
	void *old = ua->plan;

	if (plan && !ua->router)
		return;
	ua->plan = plan ? ua->router->ref(plan) : NULL;
	if (old)
		ua->router->unref(old);
	sipua_names_sync(ua); /* the new plan's target names */
	sipua_peers_sync(ua); /* and peer lists */
}


/** Media-policy hook; NULL restores sipua_sdp_hook_default */
void sipua_set_sdp_hook(struct sipua *ua, sipua_sdp_h *h, void *arg)
{
	ua->sdph = h ? h : sipua_sdp_hook_default;
	ua->sdp_arg = h ? arg : NULL;
}


void sipua_set_observer(struct sipua *ua, const struct sipua_observer *obs)
{
	if (obs)
		ua->obs = *obs;
	else
		memset(&ua->obs, 0, sizeof(ua->obs));
}


/**
 * The tag the call's log lines carry, "[call TAG]" (the observer sets the
 * call log's, so that a log line leads to `shareway show TAG`)
 */
void sipua_call_set_tag(struct sipua *ua, uint64_t call_id, const char *tag)
{
	struct sw_call *call = sipua_call_find(ua, call_id);

	if (call && tag && *tag)
		snprintf(call->tag, sizeof(call->tag), "%s", tag);
}


unsigned sipua_call_count(const struct sipua *ua)
{
	return ua ? ua->n_calls : 0;
}


/** New INVITEs answered 503 by admission control ([sip] max_calls,
 *  max_cps) since the start */
uint64_t sipua_overload_rejects(const struct sipua *ua)
{
	return ua ? ua->overload_rejects : 0;
}


void sipua_drain(struct sipua *ua, bool on)
{
	if (!ua || ua->draining == on)
		return;
	ua->draining = on;
	sw_info("[sip] %s: %u calls in progress", on ?
		"draining: new calls and OPTIONS answered 503" :
		"drain ended: taking new calls", ua->n_calls);
}


bool sipua_draining(const struct sipua *ua)
{
	return ua && ua->draining;
}


/** New INVITEs answered 503 because the gateway drains, since the start */
uint64_t sipua_drain_rejects(const struct sipua *ua)
{
	return ua ? ua->drain_rejects : 0;
}


/**
 * The zones a call works with: those of its plan (a reload brings new
 * zones with new rules; a call keeps the ones it started with), else,
 * with no dial plan, the start configuration's
 */
const struct sw_zone *sipua_zones(const struct sipua *ua, const void *plan,
				  unsigned *n)
{
	if (plan)
		return ua->router->zones(plan, n);
	*n = ua->conf->n_zones;
	return ua->conf->zones;
}


/** The zone called name among those of plan (sipua_zones), or NULL */
const struct sw_zone *sipua_zone_find(const struct sipua *ua,
				      const void *plan, const char *name)
{
	unsigned n;
	const struct sw_zone *z = sipua_zones(ua, plan, &n);

	return sw_zone_find(z, n, name);
}


/** Endpoint whose identity serves a zone (its own, else the main one) */
struct sipua_ep *sipua_ep_for_zone(struct sipua *ua, const struct sw_zone *z)
{
	bool tls = z && z->transport == SW_TP_TLS;

	/* by name: z may come from a reloaded configuration */
	for (unsigned i = 0; z && i < ua->n_ep; ++i)
		if (ua->ep[i].zone && !strcmp(ua->ep[i].zone->name, z->name))
			return &ua->ep[i];
	for (unsigned i = 0; i < ua->n_ep; ++i)
		if (!ua->ep[i].zone && (!tls || ua->ep[i].sips_url[0]))
			return &ua->ep[i];
	return &ua->ep[0];
}


/**
 * Zone of a request among those of plan (sipua_zones): the endpoint's
 * own zone, else the first zone whose match.source holds the source
 * address, else the default zone, else NULL
 */
const struct sw_zone *sipua_zone_match(struct sipua *ua, const void *plan,
				       const struct sipua_ep *ep,
				       const struct sw_sa *src)
{
	const struct sw_zone *def = NULL, *zones;
	struct sw_sa a;
	unsigned n;

	/* a zone removed by a reload keeps its listener until a restart,
	 * but no longer takes calls */
	if (ep->zone)
		return sipua_zone_find(ua, plan, ep->zone->name);
	sw_sa_unmap_v4(&a, src);
	zones = sipua_zones(ua, plan, &n);
	for (unsigned i = 0; i < n; ++i) {
		const struct sw_zone *z = &zones[i];

		if (z->is_default)
			def = z;
		for (unsigned j = 0; j < z->n_match_source; ++j)
			if (sw_cidr_match(&z->match_source[j], &a))
				return z;
	}
	return def;
}


/* OPTIONS: answered locally (Skype Edge keep-alives), RFC 3261 11.2.
 * Draining, 503: a dispatcher probing with OPTIONS (Kamailio's
 * ds_ping_reply_codes) takes this instance out of its set for new calls;
 * its calls' in-dialog requests still follow their Record-Route here */
static void ua_options(struct sipua_ep *ep, nua_handle_t *nh)
{
	if (ep->ua->draining) {
		nua_respond(nh, SIP_503_SERVICE_UNAVAILABLE,
			    SIPTAG_RETRY_AFTER_STR(SIPUA_DRAIN_RETRY_AFTER),
			    NUTAG_WITH_THIS(ep->nua), TAG_END());
		return;
	}
	nua_respond(nh, SIP_200_OK, NUTAG_WITH_THIS(ep->nua),
		    SIPTAG_ALLOW_STR(SIPUA_ALLOW),
		    SIPTAG_SUPPORTED_STR(SIPUA_SUPPORTED),
		    SIPTAG_ACCEPT_STR("application/sdp"), TAG_END());
}


/* A request on a handle nua created and we did not bind */
static void ua_unbound_request(struct sipua_ep *ep, nua_event_t ev,
			       nua_handle_t *nh, const sip_t *sip)
{
	switch (ev) {
	case nua_i_invite:
		sipua_call_incoming(ep->ua, ep, nh, sip);
		return; /* the call owns nh now, or destroyed it */
	case nua_i_options:
		ua_options(ep, nh);
		break;
	case nua_i_info:
	case nua_i_update:
		/* only meaningful inside a dialog (RFC 6086 4.2, RFC 3311) */
		nua_respond(nh, SIP_481_NO_TRANSACTION,
			    NUTAG_WITH_THIS(ep->nua), TAG_END());
		break;
	case nua_i_message:
		nua_respond(nh, SIP_405_METHOD_NOT_ALLOWED,
			    NUTAG_WITH_THIS(ep->nua),
			    SIPTAG_ALLOW_STR(SIPUA_ALLOW), TAG_END());
		break;
	default:
		if (nua_event_is_incoming_request(ev))
			nua_respond(nh, SIP_501_NOT_IMPLEMENTED,
				    NUTAG_WITH_THIS(ep->nua), TAG_END());
		break;
	}
	nua_handle_destroy(nh);
}


static void ua_event(nua_event_t ev, int status, const char *phrase,
		     nua_t *nua, struct sipua_ep *ep, nua_handle_t *nh,
		     struct sipua_leg *leg, const sip_t *sip, tagi_t tags[])
{
	(void)nua;
	if (nua_event_is_incoming_request(ev))
		sipua_conn_request(ep);
	if (leg) {
		sipua_call_event(ev, status, phrase, leg, sip, tags);
		return;
	}
	if (ev == nua_r_options &&
	    sipua_peers_response(ep->ua, nh, status, phrase, sip))
		return;
	if (ev == nua_r_shutdown) {
		ep_down(ep, status);
		return;
	}
	if (nh && nua_event_is_incoming_request(ev)) {
		ua_unbound_request(ep, ev, nh, sip);
		return;
	}
	if (status >= 300)
		sw_debug("[sip] %s %03d %s", nua_event_name(ev), status,
			 phrase ? phrase : "");
}
