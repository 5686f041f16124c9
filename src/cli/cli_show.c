/**
 * @file cli_show.c  `shareway show <tag|call-id>`: everything the call log
 * knows of one call, readable in 100 columns: the verdict first, then
 * route, legs, offer/answer exchanges, relays and their connections, ICE
 * per direction and the completion re-INVITE. Times after the start are
 * relative to it (+seconds.milliseconds).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"
#include "sw_calllog.h"
#include "sw_cluster.h"

#define IND 14 /* value column */

static const char usage_text[] =
	"usage: shareway show [--json] TAG|CALL-ID\n"
	"       shareway show --cluster [--json] [INSTANCE/]TAG\n"
	"Everything about one call: verdict, times, route and its trace, both\n"
	"legs (Call-ID, tags, peer, zone, transport, TLS subject, User-Agent,\n"
	"final response, ms-diagnostics), offer/answer exchanges and their\n"
	"rewrites, TURN allocations and connections, ICE per direction, the\n"
	"completion re-INVITE. SDP bodies: shareway sdp TAG.\n"
	"  --json     the record as one JSON object\n"
	"  --cluster  the call as the cluster call log in PostgreSQL has it\n"
	"             (any instance's; its summary: the details stay in the\n"
	"             owner's own log)\n";

struct show {
	FILE *f;
	const struct sw_callrec *r;
};


static const char *rel(const struct show *s, int64_t us, char *buf,
		       size_t sz)
{
	if (!us)
		return "-";
	return cli_fmt_rel(us - s->r->start_us, buf, sz);
}


__attribute__((format(printf, 3, 4))) static void kv(const struct show *s,
						    const char *label,
						    const char *fmt, ...)
{
	char buf[8192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	cli_wrap(s->f, label, buf, IND);
}


static const char *or_dash(const char *s)
{
	return s && *s ? s : "-";
}


/* Who gave the final response toward the caller (the gateway's reason
 * unless the verdict says it already) */
static void show_answered(const struct show *s, const char *verdict)
{
	const struct sw_callrec *r = s->r;
	const char *by = r->answered_by;
	const char *why = r->gw_reason && !strstr(verdict, r->gw_reason)
				  ? r->gw_reason : NULL;
	const struct sw_rec_leg *l;

	if (!by)
		return;
	if (!strcmp(by, "gw") || !strcmp(by, "rule")) {
		kv(s, "Answered by", "shareway%s%s%s",
		   !strcmp(by, "rule") ? ", as the dial plan says" : " itself",
		   why ? ": " : "", why ? why : "");
		return;
	}
	l = sw_callrec_leg(r, by[0]);
	kv(s, "Answered by", "the %s side's peer%s%s%s",
	   by[0] == 'e' ? "Edge" : "conference", l && l->peer ? " (" : "",
	   l && l->peer ? l->peer : "", l && l->peer ? ")" : "");
}


static void show_head(const struct show *s)
{
	const struct sw_callrec *r = s->r;
	char t[64], a[32], b[32], c[32], d[16], v[512], m[64];

	sw_verdict(r, v, sizeof(v));
	sw_callrec_media_flags(r, m, sizeof(m));
	fprintf(s->f, "Call %s  %s %d %s%s\n", r->tag,
		sw_call_state_name(r->state), r->final_code,
		or_dash(r->final_phrase), r->synthetic ? "  (synthetic)" : "");
	kv(s, "Verdict", "%s", v);
	kv(s, "From", "%s", or_dash(r->from_uri));
	kv(s, "To", "%s", or_dash(r->to_uri));
	kv(s, "Start", "%s", cli_fmt_time(r->start_us, t, sizeof(t), true));
	kv(s, "Times", "ringing %s  answer %s  end %s  duration %s",
	   rel(s, r->ringing_us, a, sizeof(a)),
	   rel(s, r->answer_us, b, sizeof(b)), rel(s, r->end_us, c, sizeof(c)),
	   r->end_us ? sw_fmt_dur(r->end_us - r->start_us, d, sizeof(d)) :
		       "-");
	if (r->disconnect_by || r->disconnect_reason)
		kv(s, "Ended by", "%s%s%s", or_dash(r->disconnect_by),
		   r->disconnect_reason ? ": " : "",
		   r->disconnect_reason ? r->disconnect_reason : "");
	show_answered(s, v);
	if (r->gw_fault)
		kv(s, "Fault", "%s", r->gw_fault);
	kv(s, "Media", "%s", m);
}


static void show_route(const struct show *s)
{
	const struct sw_rec_route *rt = &s->r->route;

	fputc('\n', s->f);
	if (!s->r->has_route) {
		kv(s, "Route", "%s", "not recorded");
		return;
	}
	kv(s, "Route", "rule %s (priority %u), zone %s → %s, transport %s",
	   rt->rule && *rt->rule ? rt->rule : "(none matched)", rt->priority,
	   or_dash(rt->source_zone), or_dash(rt->target_zone),
	   or_dash(rt->transport));
	kv(s, "  R-URI in", "%s", or_dash(rt->ruri_in));
	kv(s, "  R-URI out", "%s", or_dash(rt->ruri_out));
	kv(s, "  target", "%s", or_dash(rt->target));
	if (rt->captures)
		kv(s, "  captures", "%s", rt->captures);
	if (rt->media_policy)
		kv(s, "  media", "applicationsharing = %s", rt->media_policy);
	if (rt->trace)
		kv(s, "  trace", "%s", rt->trace);
}


static void show_leg(const struct show *s, const struct sw_rec_leg *l)
{
	char label[16];

	snprintf(label, sizeof(label), "Leg %c", l->leg);
	kv(s, label, "%s side, %s, %s %s ↔ %s, zone %s",
	   l->leg == 'e' ? "Edge" : "conference",
	   l->inbound ? "inbound (caller)" : "outbound", or_dash(l->transport),
	   or_dash(l->peer), or_dash(l->local), or_dash(l->zone));
	kv(s, "  Call-ID", "%s", or_dash(l->call_id));
	kv(s, "  tags", "from %s  to %s", or_dash(l->from_tag),
	   or_dash(l->to_tag));
	if (l->from_uri || l->to_uri)
		kv(s, "  From → To", "%s → %s", or_dash(l->from_uri),
		   or_dash(l->to_uri));
	if (l->x_cid)
		kv(s, "  X-CID", "%s", l->x_cid);
	if (l->tls_subject)
		kv(s, "  TLS peer", "%s", l->tls_subject);
	kv(s, "  UA", "%s", or_dash(l->user_agent));
	if (l->final_code)
		kv(s, "  final", "%d %s", l->final_code,
		   or_dash(l->final_phrase));
	else
		kv(s, "  final", "%s", "none");
	if (l->ms_diag)
		kv(s, "  ms-diag", "%s", l->ms_diag);
	if (l->ms_diag_public)
		kv(s, "  ms-diag-pub", "%s", l->ms_diag_public);
	if (l->ms_client_diag)
		kv(s, "  ms-client", "%s", l->ms_client_diag);
	if (l->error)
		kv(s, "  error", "%s", l->error);
}


static size_t blen(const char *s)
{
	return s ? strlen(s) : 0;
}


static void show_negs(const struct show *s)
{
	const struct sw_callrec *r = s->r;

	fputc('\n', s->f);
	if (!r->n_negs) {
		kv(s, "Offer/answer", "%s", "none recorded");
		return;
	}
	for (unsigned i = 0; i < r->n_negs; ++i) {
		const struct sw_rec_neg *n = &r->negs[i];
		char label[24];

		snprintf(label, sizeof(label), "O/A #%u", n->seq);
		kv(s, label, "%s %c→%c  result %d in %u ms", or_dash(n->trigger),
		   n->from_leg ? n->from_leg : '?',
		   n->to_leg ? n->to_leg : '?', n->result, n->latency_ms);
		kv(s, "  SDP", "offer %zu → %zu bytes, answer %zu → %zu bytes "
		   "(shareway sdp %s --seq %u)", blen(n->offer_in),
		   blen(n->offer_out), blen(n->answer_in), blen(n->answer_out),
		   r->tag, n->seq);
		if (n->rewrites)
			kv(s, "  rewrites", "%s", n->rewrites);
	}
}


static void show_conn(const struct show *s, const struct sw_rec_conn *c)
{
	char a[32], b[32], t[32];

	kv(s, "  peer conn", "CONNECTION-ID %u from %s%s%s", c->conn,
	   or_dash(c->peer), c->target ? ", bridged to " : "",
	   c->target ? c->target : "");
	kv(s, "", "ConnectionAttempt %s  ConnectionBind %s %d%s%s",
	   rel(s, c->attempt_us, a, sizeof(a)), rel(s, c->bind_us, b, sizeof(b)),
	   c->bind_code, c->bind_error ? " " : "", c->bind_error ?
							   c->bind_error : "");
	kv(s, "", "bytes peer→client %" PRIu64 "  client→peer %" PRIu64,
	   c->bytes_in, c->bytes_out);
	if (c->closed_us || c->close_reason)
		kv(s, "", "closed %s: %s", rel(s, c->closed_us, t, sizeof(t)),
		   or_dash(c->close_reason));
}


static void show_relays(const struct show *s)
{
	const struct sw_callrec *r = s->r;
	char a[32], b[32], c[32];

	if (!r->n_relays)
		return;
	fputc('\n', s->f);
	for (unsigned i = 0; i < r->n_relays; ++i) {
		const struct sw_rec_relay *rl = &r->relays[i];
		char label[24];

		snprintf(label, sizeof(label), "Relay #%u", rl->relay);
		kv(s, label, "%s %s for %s%s%s via %s", or_dash(rl->transport),
		   or_dash(rl->relayed), or_dash(rl->client),
		   rl->client_addr ? " at " : "",
		   rl->client_addr ? rl->client_addr : "", or_dash(rl->server));
		kv(s, "", "requested %s  allocated %s  lifetime %u s  "
		   "refreshes %u", rel(s, rl->request_us, a, sizeof(a)),
		   rel(s, rl->alloc_us, b, sizeof(b)), rl->lifetime_s,
		   rl->refreshes);
		kv(s, "  permissions", "%s", or_dash(rl->permissions));
		if (rl->error_code)
			kv(s, "  error", "%d %s", rl->error_code,
			   or_dash(rl->error));
		if (rl->released_us || rl->close_reason)
			kv(s, "  released", "%s: %s",
			   rel(s, rl->released_us, c, sizeof(c)),
			   or_dash(rl->close_reason));
		for (unsigned k = 0; k < r->n_conns; ++k)
			if (r->conns[k].relay == rl->relay)
				show_conn(s, &r->conns[k]);
	}
}


static void show_ice(const struct show *s)
{
	const struct sw_callrec *r = s->r;
	char a[32], b[32];

	if (!r->has_ice[0] && !r->has_ice[1])
		return;
	fputc('\n', s->f);
	for (int d = 0; d < 2; ++d) {
		const struct sw_rec_ice *x = &r->ice[d];
		char label[24];

		if (!r->has_ice[d])
			continue;
		snprintf(label, sizeof(label), "ICE %s", sw_ice_dir_name(x->dir));
		kv(s, label, "%s  first request %s  first success %s  "
		   "requests %u  successes %u%s", sw_ice_state_name(x->state),
		   rel(s, x->first_request_us, a, sizeof(a)),
		   rel(s, x->first_success_us, b, sizeof(b)), x->requests,
		   x->successes, x->nominated ? "  nominated" : "");
		if (x->pair)
			kv(s, "  valid pair", "%s", x->pair);
		if (x->error_code)
			kv(s, "  error", "%d %s", x->error_code,
			   or_dash(x->error));
		else if (x->error)
			kv(s, "  error", "%s", x->error);
		if (x->timeout_s)
			kv(s, "  timeout", "%u s", x->timeout_s);
	}
}


static void show_reinvite(const struct show *s)
{
	const struct sw_rec_reinvite *ri = &s->r->reinvite;
	char a[32];

	if (!s->r->has_reinvite)
		return;
	fputc('\n', s->f);
	kv(s, "re-INVITE", "completion on leg %c, sent %s: %d %s in %u ms, "
	   "491 retries %u%s%s", ri->leg ? ri->leg : '?',
	   rel(s, ri->sent_us, a, sizeof(a)), ri->result, or_dash(ri->phrase),
	   ri->latency_ms, ri->retries_491, ri->reason ? ", " : "",
	   ri->reason ? ri->reason : "");
}


static void show_text(FILE *f, const struct sw_callrec *r)
{
	struct show s = {f, r};

	show_head(&s);
	show_route(&s);
	fputc('\n', f);
	for (int i = 0; i < 2; ++i)
		if (r->has_leg[i])
			show_leg(&s, &r->legs[i]);
	show_negs(&s);
	show_relays(&s);
	show_ice(&s);
	show_reinvite(&s);
	fprintf(f, "\nLadder: shareway ladder %s   SDP: shareway sdp %s   "
		"pcap: shareway export %s --pcap FILE\n", r->tag, r->tag, r->tag);
}


static void show_json(const struct sw_callrec *r)
{
	struct sw_json j;

	sw_json_init(&j, true);
	sw_callrec_json(r, &j, false);
	cli_json_print(&j);
	sw_json_free(&j);
}


/* --cluster: what the cluster call log holds (the calls-table columns
 * the owner shipped, or the survivor's cut) */
static int cluster_text(const struct sw_cluster_row *row, void *arg)
{
	const struct sw_callrec *r = row->rec;
	struct show s = {stdout, r};
	char t[64], a[32], b[32], c[32], d[16];

	(void)arg;
	printf("Call %s/%s  %s %d %s%s\n", row->instance, r->tag,
	       sw_call_state_name(r->state), r->final_code,
	       or_dash(r->final_phrase), r->synthetic ? "  (synthetic)" : "");
	kv(&s, "Verdict", "%s", or_dash(r->verdict));
	kv(&s, "Instance", "%s%s%s", row->instance,
	   row->cut_by ? ", gone: the call was cut in the cluster log by " :
			 "",
	   row->cut_by ? row->cut_by : "");
	kv(&s, "From", "%s", or_dash(r->from_uri));
	kv(&s, "To", "%s", or_dash(r->to_uri));
	kv(&s, "Rule", "%s", or_dash(r->route.rule));
	kv(&s, "Start", "%s", cli_fmt_time(r->start_us, t, sizeof(t), true));
	kv(&s, "Times", "ringing %s  answer %s  end %s  duration %s",
	   rel(&s, r->ringing_us, a, sizeof(a)),
	   rel(&s, r->answer_us, b, sizeof(b)),
	   rel(&s, r->end_us, c, sizeof(c)),
	   r->end_us ? sw_fmt_dur(r->end_us - r->start_us, d, sizeof(d)) :
		       "-");
	if (r->disconnect_by || r->disconnect_reason)
		kv(&s, "Ended by", "%s%s%s", or_dash(r->disconnect_by),
		   r->disconnect_reason ? ": " : "",
		   r->disconnect_reason ? r->disconnect_reason : "");
	if (r->gw_fault)
		kv(&s, "Fault", "%s", r->gw_fault);
	kv(&s, "Media", "%s", or_dash(r->media));
	printf("\nDetails: shareway show %s on instance %s\n", r->tag,
	       row->instance);
	return 0;
}


static int cluster_json(const struct sw_cluster_row *row, void *arg)
{
	struct sw_json j;

	(void)arg;
	sw_json_init(&j, true);
	sw_json_obj_open(&j, NULL);
	sw_json_str(&j, "instance", row->instance);
	sw_json_str_or_null(&j, "cut_by", row->cut_by);
	sw_json_str(&j, "tag", row->rec->tag);
	sw_json_str(&j, "state", sw_call_state_name(row->rec->state));
	sw_json_int(&j, "start_us", row->rec->start_us);
	if (row->rec->end_us)
		sw_json_int(&j, "end_us", row->rec->end_us);
	else
		sw_json_null(&j, "end_us");
	sw_json_str_or_null(&j, "from", row->rec->from_uri);
	sw_json_str_or_null(&j, "to", row->rec->to_uri);
	sw_json_str_or_null(&j, "rule", row->rec->route.rule);
	sw_json_int(&j, "final", row->rec->final_code);
	sw_json_bool(&j, "failed", row->rec->failed);
	sw_json_str_or_null(&j, "verdict", row->rec->verdict);
	sw_json_obj_close(&j);
	cli_json_print(&j);
	sw_json_free(&j);
	return 0;
}


static int run_cluster(const struct cli_env *env, int argc, char **argv)
{
	const char *key = NULL;
	bool json = false;
	struct pg_conn *pg;
	int err;

	for (int i = 1; i < argc; ++i) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!strcmp(argv[i], "--cluster"))
			continue;
		else if (argv[i][0] == '-' || key)
			return cli_usage(stderr, usage_text, CLI_USAGE);
		else
			key = argv[i];
	}
	if (!key)
		return cli_usage(stderr, usage_text, CLI_USAGE);
	if (cli_cluster_open(env, &pg))
		return CLI_FAIL;
	err = sw_cluster_get(pg, key, json ? cluster_json : cluster_text,
			     NULL);
	sw_cluster_read_close(pg);
	if (err == ENOENT)
		fprintf(stderr, "shareway: no call '%s' in the cluster call "
			"log\n", key);
	else if (err == EEXIST)
		fprintf(stderr, "shareway: several instances have a call "
			"'%s': name one (INSTANCE/%s)\n", key, key);
	return err ? CLI_FAIL : CLI_OK;
}


static int run(const struct cli_env *env, int argc, char **argv)
{
	for (int i = 1; i < argc; ++i)
		if (!strcmp(argv[i], "--cluster"))
			return run_cluster(env, argc, argv);
	return cli_call_run(env, argc, argv, usage_text, show_text, show_json);
}

const struct cli_cmd cli_cmd_show = {"show", "everything about one call",
				     run};
