/**
 * @file cli_ladder.c  `shareway ladder <tag>`: sngrep-style arrows across
 * Edge │ shareway │ TURN client │ Conference for any call, with times
 * relative to the call's start: the SIP messages of both legs, the TURN
 * control exchange (Allocate, 401, Refresh, ConnectionAttempt,
 * ConnectionBind), the ICE Binding checks each way and the completion
 * re-INVITE, i.e. Cisco doc 212580's capture table drawn for this call.
 *
 * Each step takes two lines: its label (and detail, if it fits) above an
 * arrow from sender to receiver; a note on one column is drawn beside it.
 * Signalling (SIP, TURN) uses ─, the media path (TCP, Binding) ╌.
 */
#include <string.h>

#include "cli_common.h"
#include "sw_calllog.h"

#define TS_W 9

static const char usage_text[] =
	"usage: shareway ladder [--json] TAG|CALL-ID\n"
	"The call's message flow across Edge │ shareway │ TURN client │\n"
	"Conference: SIP on both legs, TURN (Allocate, ConnectionAttempt,\n"
	"ConnectionBind), ICE Binding checks each way, the completion\n"
	"re-INVITE; times in seconds after the call's start.\n"
	"  --json   the steps as JSON {\"ladder\": [...]}\n";

static const int lane_x[] = {[SW_ACT_EDGE] = 11, [SW_ACT_GW] = 40,
			     [SW_ACT_TURNC] = 69, [SW_ACT_CONF] = 98};
static const char *const lane_name[] = {[SW_ACT_EDGE] = "Edge",
					[SW_ACT_GW] = "shareway",
					[SW_ACT_TURNC] = "TURN client",
					[SW_ACT_CONF] = "Conference"};

/* One output line as cells of one character (UTF-8, up to 4 bytes) */
struct line {
	char cell[CLI_WIDTH][5];
};


static void line_init(struct line *l)
{
	for (int x = 0; x < CLI_WIDTH; ++x)
		strcpy(l->cell[x], " ");
	for (int a = SW_ACT_EDGE; a <= SW_ACT_CONF; ++a)
		strcpy(l->cell[lane_x[a]], "│");
}


/* Put text from column x, at most up to column max (exclusive); a text
 * cut short ends with "…" */
static void line_text(struct line *l, int x, const char *s, int max)
{
	int w = (int)cli_width(s);

	if (max > CLI_WIDTH)
		max = CLI_WIDTH;
	for (int n = 0; *s && x < max; ++n, ++x) {
		int len = 1;

		while (((unsigned char)s[len] & 0xc0) == 0x80)
			++len;
		if (x == max - 1 && n < w - 1) {
			strcpy(l->cell[x], "…");
			return;
		}
		memcpy(l->cell[x], s, (size_t)len);
		l->cell[x][len] = '\0';
		s += len;
	}
}


static void line_print(FILE *f, const struct line *l)
{
	int last = CLI_WIDTH - 1;

	while (last > 0 && !strcmp(l->cell[last], " "))
		--last;
	for (int x = 0; x <= last; ++x)
		fputs(l->cell[x], f);
	fputc('\n', f);
}


static void header(FILE *f)
{
	struct line l;

	line_init(&l);
	for (int a = SW_ACT_EDGE; a <= SW_ACT_CONF; ++a) {
		int w = (int)cli_width(lane_name[a]), x = lane_x[a] - w / 2;

		if (x + w > CLI_WIDTH)
			x = CLI_WIDTH - w;
		line_text(&l, x, lane_name[a], CLI_WIDTH);
	}
	line_print(f, &l);
	line_init(&l);
	line_print(f, &l);
}


/* The label line: centred in the span when it fits, else from the left
 * end of the span onward (over the bars on its right) */
static void label_line(FILE *f, const struct sw_rec_event *e, int lo, int hi)
{
	char text[400];
	struct line l;
	int w, x;

	line_init(&l);
	snprintf(text, sizeof(text), "%s%s%s", e->label ? e->label : "?",
		 e->detail ? "  " : "", e->detail ? e->detail : "");
	w = (int)cli_width(text);
	if (w > hi - lo - 3) { /* try without the detail */
		snprintf(text, sizeof(text), "%s", e->label ? e->label : "?");
		if ((int)cli_width(text) > hi - lo - 3 && e->detail)
			snprintf(text, sizeof(text), "%s  %s", e->label,
				 e->detail);
		w = (int)cli_width(text);
	}
	x = w <= hi - lo - 3 ? lo + (hi - lo - w) / 2 + 1 : lo + 2;
	line_text(&l, x, text, CLI_WIDTH);
	line_print(f, &l);
}


static void arrow_line(FILE *f, const struct sw_rec_event *e, int64_t t0,
		       int lo, int hi, bool right)
{
	const char *dash = e->kind == SW_EV_STUN || e->kind == SW_EV_TCP ?
				   "╌" : "─";
	char ts[32];
	struct line l;

	line_init(&l);
	cli_fmt_rel(e->t_us - t0, ts, sizeof(ts));
	line_text(&l, TS_W - (int)strlen(ts) > 0 ? TS_W - (int)strlen(ts) : 0,
		  ts, TS_W + 1);
	for (int x = lo + 1; x < hi; ++x)
		strcpy(l.cell[x], dash);
	strcpy(l.cell[right ? hi - 1 : lo + 1], right ? ">" : "<");
	line_print(f, &l);
}


static void note_line(FILE *f, const struct sw_rec_event *e, int64_t t0)
{
	char text[400], ts[32];
	int x = lane_x[e->src];
	struct line l;

	line_init(&l);
	cli_fmt_rel(e->t_us - t0, ts, sizeof(ts));
	line_text(&l, TS_W - (int)strlen(ts) > 0 ? TS_W - (int)strlen(ts) : 0,
		  ts, TS_W + 1);
	snprintf(text, sizeof(text), "● %s%s%s", e->label ? e->label : "?",
		 e->detail ? "  " : "", e->detail ? e->detail : "");
	strcpy(l.cell[x], "┤");
	line_text(&l, x + 1, text, CLI_WIDTH);
	line_print(f, &l);
}


static bool actor_ok(enum sw_actor a)
{
	return a >= SW_ACT_EDGE && a <= SW_ACT_CONF;
}


static void draw(FILE *f, const struct sw_callrec *r)
{
	struct line l;

	fprintf(f, "Call %s  %s → %s\n\n", r->tag, r->from_uri ? r->from_uri :
		"?", r->to_uri ? r->to_uri : "?");
	header(f);
	for (unsigned i = 0; i < r->n_events; ++i) {
		const struct sw_rec_event *e = &r->events[i];
		int a, b;

		if (!actor_ok(e->src))
			continue;
		if (!actor_ok(e->dst) || e->dst == e->src) {
			note_line(f, e, r->start_us);
			continue;
		}
		a = lane_x[e->src];
		b = lane_x[e->dst];
		label_line(f, e, a < b ? a : b, a < b ? b : a);
		arrow_line(f, e, r->start_us, a < b ? a : b, a < b ? b : a,
			   a < b);
	}
	line_init(&l);
	line_print(f, &l);
	fprintf(f, "─ signalling (SIP, TURN)   ╌ media path (TCP, ICE checks)"
		"   times: seconds after the start\n");
}


static void ladder_json(const struct sw_callrec *r)
{
	struct sw_json j;

	sw_json_init(&j, true);
	sw_json_obj_open(&j, NULL);
	sw_json_str(&j, "tag", r->tag);
	sw_json_int(&j, "start_us", r->start_us);
	sw_json_arr_open(&j, "ladder");
	for (unsigned i = 0; i < r->n_events; ++i) {
		const struct sw_rec_event *e = &r->events[i];

		sw_json_obj_open(&j, NULL);
		sw_json_int(&j, "t_ms", (e->t_us - r->start_us) / 1000);
		sw_json_str(&j, "kind", sw_ev_kind_name(e->kind));
		sw_json_str(&j, "src", sw_actor_name(e->src));
		sw_json_str(&j, "dst", sw_actor_name(e->dst));
		sw_json_str_or_null(&j, "label", e->label);
		sw_json_str_or_null(&j, "detail", e->detail);
		sw_json_obj_close(&j);
	}
	sw_json_arr_close(&j);
	sw_json_obj_close(&j);
	cli_json_print(&j);
	sw_json_free(&j);
}


static int run(const struct cli_env *env, int argc, char **argv)
{
	return cli_call_run(env, argc, argv, usage_text, draw, ladder_json);
}

const struct cli_cmd cli_cmd_ladder = {
	"ladder", "the message flow of one call, sngrep-style", run};
