/**
 * @file calllog_fixture.c  Ten fixed calls emitted through the public call
 * log API, with real SIP texts and STUN/TURN messages (RFC 5389 headers,
 * XOR addresses, a correct FINGERPRINT) so that `shareway export` gives
 * tshark something genuine to decode.
 *
 * Addresses follow Cisco doc 212580: the conference server (CMS) is
 * 10.48.54.230, shareway (in Expressway-E's place) 10.48.54.229, the
 * Edge's relay 192.168.1.252:53577, the relayed port 24000.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "calllog_fixture.h"

#define MS(x) ((int64_t)(x) * 1000)

#define GW_E   "10.48.54.229:5061"
#define GW_C   "10.48.54.229:5060"
#define EDGE   "192.168.1.250:5061"
#define CMS    "10.48.54.230:5060"
#define TURN   "10.48.54.229:3478"
#define RELAYD "10.48.54.229:24000"
#define EPEER  "192.168.1.252:53577"

struct fx {
	struct sw_calllog *cl;
	uint64_t uid;
	int64_t t0;
	char out_leg;                /* the outbound leg of the call */
	const char *answered_by, *gw_reason; /* fx_gw_answered() */
};

/* One side of a dialog as the gateway sees it */
struct fx_dlg {
	char leg;
	enum sw_pkt_transport tp;
	const char *peer, *gw;       /* addresses */
	const char *call_id;
	const char *from, *from_tag; /* the caller's side */
	const char *to, *to_tag;
	const char *ruri;
	const char *ua;
};

static const char sdp_edge_offer[] =
	"v=0\r\n"
	"o=- 0 0 IN IP4 192.168.1.250\r\n"
	"s=session\r\n"
	"c=IN IP4 192.168.1.250\r\n"
	"b=CT:99980\r\n"
	"t=0 0\r\n"
	"m=applicationsharing 50006 TCP/RTP/AVP 127\r\n"
	"a=ice-ufrag:tH3x\r\n"
	"a=ice-pwd:2e9XbYx0Jq8R1S4T5U6V7W8X\r\n"
	"a=candidate:1 1 TCP-PASS 2019819775 192.168.1.250 50006 typ host\r\n"
	"a=candidate:1 2 TCP-PASS 2019819775 192.168.1.250 50006 typ host\r\n"
	"a=candidate:2 1 TCP-PASS 174326015 192.168.1.252 53577 typ relay "
	"raddr 192.168.1.250 rport 50006\r\n"
	"a=candidate:2 2 TCP-PASS 174326015 192.168.1.252 53577 typ relay "
	"raddr 192.168.1.250 rport 50006\r\n"
	"a=setup:active\r\n"
	"a=connection:new\r\n"
	"a=rtpmap:127 x-data/90000\r\n"
	"a=x-applicationsharing-session-id:1\r\n"
	"a=x-applicationsharing-role:sharer\r\n"
	"a=x-applicationsharing-media-type:rdp\r\n";

static const char sdp_cms_answer_relay[] =
	"v=0\r\n"
	"o=- 1 1 IN IP4 10.48.54.230\r\n"
	"s=-\r\n"
	"c=IN IP4 10.48.54.229\r\n"
	"t=0 0\r\n"
	"m=applicationsharing 24000 TCP/RTP/AVP 127\r\n"
	"a=ice-ufrag:Ab12\r\n"
	"a=ice-pwd:Zq7Lw3Nc9Rt5Vb1Xy4Mk6Hp8\r\n"
	"a=candidate:1 1 TCP-PASS 174326015 10.48.54.229 24000 typ relay "
	"raddr 10.48.54.230 rport 41234\r\n"
	"a=candidate:1 2 TCP-PASS 174326015 10.48.54.229 24000 typ relay "
	"raddr 10.48.54.230 rport 41234\r\n"
	"a=setup:passive\r\n"
	"a=connection:new\r\n"
	"a=rtpmap:127 x-data/90000\r\n";

static const char sdp_cms_answer_host[] =
	"v=0\r\n"
	"o=- 1 1 IN IP4 10.48.54.230\r\n"
	"s=-\r\n"
	"c=IN IP4 10.48.54.230\r\n"
	"t=0 0\r\n"
	"m=applicationsharing 3390 TCP/RTP/AVP 127\r\n"
	"a=ice-ufrag:Ab12\r\n"
	"a=ice-pwd:Zq7Lw3Nc9Rt5Vb1Xy4Mk6Hp8\r\n"
	"a=candidate:1 1 TCP-PASS 2019819775 10.48.54.230 3390 typ host\r\n"
	"a=candidate:1 2 TCP-PASS 2019819775 10.48.54.230 3390 typ host\r\n"
	"a=setup:passive\r\n"
	"a=rtpmap:127 x-data/90000\r\n";

static const char sdp_edge_answer_relayed[] =
	"v=0\r\n"
	"o=- 1 1 IN IP4 10.48.54.230\r\n"
	"s=-\r\n"
	"c=IN IP4 10.48.54.230\r\n"
	"t=0 0\r\n"
	"m=applicationsharing 3390 TCP/RTP/AVP 127\r\n"
	"a=ice-ufrag:Ab12\r\n"
	"a=ice-pwd:Zq7Lw3Nc9Rt5Vb1Xy4Mk6Hp8\r\n"
	"a=candidate:1 1 TCP-PASS 2019819775 10.48.54.230 3390 typ host\r\n"
	"a=candidate:1 2 TCP-PASS 2019819775 10.48.54.230 3390 typ host\r\n"
	"a=candidate:9 1 TCP-PASS 174326015 10.48.54.229 24000 typ relay "
	"raddr 10.48.54.229 rport 24000\r\n"
	"a=candidate:9 2 TCP-PASS 174326015 10.48.54.229 24000 typ relay "
	"raddr 10.48.54.229 rport 24000\r\n"
	"a=setup:passive\r\n"
	"a=rtpmap:127 x-data/90000\r\n";

static const char sdp_cms_answer_udp[] =
	"v=0\r\n"
	"o=- 1 1 IN IP4 10.48.54.230\r\n"
	"s=-\r\n"
	"c=IN IP4 10.48.54.230\r\n"
	"t=0 0\r\n"
	"m=applicationsharing 3390 TCP/RTP/AVP 127\r\n"
	"a=ice-ufrag:Ab12\r\n"
	"a=ice-pwd:Zq7Lw3Nc9Rt5Vb1Xy4Mk6Hp8\r\n"
	"a=candidate:1 1 UDP 2130706431 10.48.54.230 3390 typ host\r\n"
	"a=candidate:1 2 UDP 2130706430 10.48.54.230 3391 typ host\r\n"
	"a=rtpmap:127 x-data/90000\r\n";

static const char sdp_final_offer[] =
	"v=0\r\n"
	"o=- 0 1 IN IP4 192.168.1.250\r\n"
	"s=session\r\n"
	"c=IN IP4 192.168.1.252\r\n"
	"t=0 0\r\n"
	"m=applicationsharing 53577 TCP/RTP/AVP 127\r\n"
	"a=ice-ufrag:tH3x\r\n"
	"a=ice-pwd:2e9XbYx0Jq8R1S4T5U6V7W8X\r\n"
	"a=candidate:2 1 TCP-PASS 174326015 192.168.1.252 53577 typ relay "
	"raddr 192.168.1.250 rport 50006\r\n"
	"a=candidate:2 2 TCP-PASS 174326015 192.168.1.252 53577 typ relay "
	"raddr 192.168.1.250 rport 50006\r\n"
	"a=remote-candidates:1 10.48.54.229 24000 2 10.48.54.229 24000\r\n"
	"a=rtpmap:127 x-data/90000\r\n";


static void sa(struct sw_sa *s, const char *a)
{
	if (sw_sa_parse(s, a, 0))
		memset(s, 0, sizeof(*s));
}


/* ---- SIP texts ---------------------------------------------------------- */

/* first line + the dialog's headers + body, Content-Length right */
static size_t sip_text(char *buf, size_t sz, const struct fx_dlg *d,
		       const char *first, unsigned cseq, const char *method,
		       bool to_tag, const char *extra, const char *body)
{
	const char *tp = d->tp == SW_PKT_UDP ? "UDP" :
			 d->tp == SW_PKT_TLS ? "TLS" : "TCP";
	size_t blen = body ? strlen(body) : 0;
	int n;

	n = snprintf(buf, sz,
		     "%s\r\n"
		     "Via: SIP/2.0/%s %s;branch=z9hG4bK%s%u%c\r\n"
		     "Max-Forwards: 70\r\n"
		     "From: <%s>;tag=%s\r\n"
		     "To: <%s>%s%s\r\n"
		     "Call-ID: %s\r\n"
		     "CSeq: %u %s\r\n"
		     "User-Agent: %s\r\n"
		     "%s%s"
		     "Content-Length: %zu\r\n\r\n%s",
		     first, tp, d->peer, method, cseq, d->leg, d->from,
		     d->from_tag, d->to, to_tag && d->to_tag ? ";tag=" : "",
		     to_tag && d->to_tag ? d->to_tag : "", d->call_id, cseq,
		     method, d->ua, extra ? extra : "",
		     body ? "Content-Type: application/sdp\r\n" : "", blen,
		     body ? body : "");
	return n < 0 ? 0 : (size_t)n < sz ? (size_t)n : sz - 1;
}


static void fx_sip(struct fx *f, int64_t t, const struct fx_dlg *d, bool rx,
		   const char *first, unsigned cseq, const char *method,
		   bool to_tag, const char *extra, const char *body)
{
	char buf[4096];
	struct sw_rec_packet p = {0};

	p.t_us = f->t0 + t;
	p.transport = d->tp;
	sa(&p.src, rx ? d->peer : d->gw);
	sa(&p.dst, rx ? d->gw : d->peer);
	p.len = sip_text(buf, sizeof(buf), d, first, cseq, method, to_tag,
			 extra, body);
	p.data = (const uint8_t *)buf;
	sw_calllog_sipmsg(f->cl, f->uid, d->leg, rx, &p);
}


/* ---- STUN messages ------------------------------------------------------ */

struct stunb {
	uint8_t b[512];
	size_t len;
};


static uint32_t crc32_stun(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;

	for (size_t i = 0; i < n; ++i) {
		c ^= p[i];
		for (int k = 0; k < 8; ++k)
			c = c & 1 ? (c >> 1) ^ 0xedb88320u : c >> 1;
	}
	return ~c;
}


static void sb_init(struct stunb *s, unsigned type, unsigned tid)
{
	memset(s, 0, sizeof(*s));
	s->b[0] = (uint8_t)(type >> 8);
	s->b[1] = (uint8_t)type;
	s->b[4] = 0x21, s->b[5] = 0x12, s->b[6] = 0xa4, s->b[7] = 0x42;
	for (int i = 0; i < 12; ++i)
		s->b[8 + i] = (uint8_t)(tid * 31 + (unsigned)i * 7);
	s->len = 20;
}


static void sb_attr(struct stunb *s, unsigned type, const void *v, size_t vl)
{
	s->b[s->len] = (uint8_t)(type >> 8);
	s->b[s->len + 1] = (uint8_t)type;
	s->b[s->len + 2] = (uint8_t)(vl >> 8);
	s->b[s->len + 3] = (uint8_t)vl;
	memcpy(s->b + s->len + 4, v, vl);
	s->len += 4 + ((vl + 3) & ~(size_t)3);
	s->b[2] = (uint8_t)((s->len - 20) >> 8);
	s->b[3] = (uint8_t)(s->len - 20);
}


static void sb_u32(struct stunb *s, unsigned type, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16),
			(uint8_t)(v >> 8), (uint8_t)v};

	sb_attr(s, type, b, 4);
}


static void sb_str(struct stunb *s, unsigned type, const char *v)
{
	sb_attr(s, type, v, strlen(v));
}


static void sb_xaddr(struct stunb *s, unsigned type, const char *addr)
{
	struct sw_sa a;
	uint8_t v[8] = {0, 1};
	uint16_t port;

	sa(&a, addr);
	port = (uint16_t)(sw_sa_port(&a) ^ 0x2112);
	v[2] = (uint8_t)(port >> 8);
	v[3] = (uint8_t)port;
	memcpy(v + 4, &a.u.in.sin_addr, 4);
	for (int i = 0; i < 4; ++i)
		v[4 + i] ^= s->b[4 + i];
	sb_attr(s, type, v, 8);
}


static void sb_error(struct stunb *s, int code, const char *reason)
{
	uint8_t v[64] = {0, 0, (uint8_t)(code / 100), (uint8_t)(code % 100)};
	size_t rl = strlen(reason);

	memcpy(v + 4, reason, rl);
	sb_attr(s, 0x0009, v, 4 + rl);
}


/* FINGERPRINT last: CRC-32 of everything before it, XOR 0x5354554e */
static void sb_done(struct stunb *s)
{
	uint32_t crc;

	s->b[2] = (uint8_t)((s->len + 8 - 20) >> 8);
	s->b[3] = (uint8_t)(s->len + 8 - 20);
	crc = crc32_stun(s->b, s->len) ^ 0x5354554eu;
	sb_u32(s, 0x8028, crc);
}


static void fx_stun(struct fx *f, int64_t t, enum sw_actor src,
		    enum sw_actor dst, const char *from, const char *to,
		    struct stunb *s, bool framed)
{
	struct sw_rec_packet p = {0};
	uint8_t buf[600];

	sb_done(s);
	p.t_us = f->t0 + t;
	p.transport = SW_PKT_TCP;
	sa(&p.src, from);
	sa(&p.dst, to);
	if (framed) { /* RFC 4571 */
		buf[0] = (uint8_t)(s->len >> 8);
		buf[1] = (uint8_t)s->len;
		memcpy(buf + 2, s->b, s->len);
		p.data = buf;
		p.len = s->len + 2;
	}
	else {
		p.data = s->b;
		p.len = s->len;
	}
	sw_calllog_stunmsg(f->cl, f->uid, src, dst, &p);
}


static void fx_ev(struct fx *f, int64_t t, enum sw_actor src,
		  enum sw_actor dst, enum sw_ev_kind kind, const char *label,
		  const char *detail)
{
	struct sw_rec_event e = {.t_us = f->t0 + t, .src = src, .dst = dst,
				 .kind = kind, .label = label,
				 .detail = detail};

	sw_calllog_event(f->cl, f->uid, &e);
}


static void fx_start(struct fx *f, int64_t t, const char *from,
		     const char *to, char inbound)
{
	struct sw_rec_start st = {f->t0 + t, from, to, inbound, false};

	f->t0 += t;
	f->uid = sw_calllog_call_start(f->cl, &st, NULL, 0);
}


static void fx_end(struct fx *f, int64_t t, enum sw_call_state s, int code,
		   const char *phrase, const char *by, const char *reason)
{
	char out[2] = {f->out_leg, 0};
	struct sw_rec_end e = {f->t0 + t, s, code, phrase, by, reason,
			       f->answered_by ? f->answered_by : out,
			       f->gw_reason};

	sw_calllog_call_end(f->cl, f->uid, &e);
	f->answered_by = f->gw_reason = NULL;
}


/* The final response of the call's fx_end() is the gateway's own */
static void fx_gw_answered(struct fx *f, const char *why)
{
	f->answered_by = "gw";
	f->gw_reason = why;
}


/* Start a call at +t with its inbound leg's URIs; its two legs and route */
static void fx_call(struct fx *f, int64_t t, const struct sw_rec_leg *in,
		    const struct sw_rec_leg *out, const struct sw_rec_route *r)
{
	fx_start(f, t, in->from_uri, in->to_uri, in->leg);
	f->out_leg = out->leg;
	sw_calllog_leg(f->cl, f->uid, in);
	sw_calllog_leg(f->cl, f->uid, out);
	sw_calllog_route(f->cl, f->uid, r);
}


/* The initial offer, forwarded as it came (the daemon records it when it
 * crosses, whatever becomes of the call) */
static void fx_offer(struct fx *f, char from, char to, const char *sdp)
{
	struct sw_rec_neg n = {1, "initial-invite", from, to, 0, 0, sdp, sdp,
			       NULL, NULL, NULL};

	sw_calllog_negotiation(f->cl, f->uid, &n);
}


/* ---- the calls ---------------------------------------------------------- */

static const struct fx_dlg seed_e = {
	'e', SW_PKT_TLS, EDGE, GW_E, "a84b4c76e66710@sfbedge.contoso.com",
	"sip:alice@contoso.com", "7c3f", "sip:meet.123456@contoso.com",
	"gw1e", "sip:meet.123456@contoso.com",
	"UCCAPI/16.0.4849 OC/16.0.4849 (Skype for Business)"};
static const struct fx_dlg seed_c = {
	'c', SW_PKT_TCP, CMS, GW_C, "sw-1-9f2c@10.48.54.229",
	"sip:alice@contoso.com", "gw1c", "sip:123456@cms.example.local",
	"cms1", "sip:123456@cms.example.local", "Acano CallBridge"};


static void seed_sip(struct fx *f)
{
	fx_sip(f, 0, &seed_e, true, "INVITE sip:meet.123456@contoso.com "
	       "SIP/2.0", 1, "INVITE", false, NULL, sdp_edge_offer);
	fx_sip(f, MS(2), &seed_e, false, "SIP/2.0 100 Trying", 1, "INVITE",
	       false, NULL, NULL);
	fx_sip(f, MS(4), &seed_c, false, "INVITE sip:123456@cms.example.local"
	       " SIP/2.0", 1, "INVITE", false, "X-CID: a84b4c76e66710@"
	       "sfbedge.contoso.com\r\n", sdp_edge_offer);
	fx_sip(f, MS(10), &seed_c, true, "SIP/2.0 100 Trying", 1, "INVITE",
	       false, NULL, NULL);
	fx_sip(f, MS(600), &seed_c, true, "SIP/2.0 200 OK", 1, "INVITE", true,
	       NULL, sdp_cms_answer_relay);
	fx_sip(f, MS(602), &seed_e, false, "SIP/2.0 200 OK", 1, "INVITE", true,
	       NULL, sdp_cms_answer_relay);
	fx_sip(f, MS(650), &seed_e, true, "ACK sip:gw@10.48.54.229:5061 "
	       "SIP/2.0", 1, "ACK", true, NULL, NULL);
	fx_sip(f, MS(651), &seed_c, false, "ACK sip:cms@10.48.54.230:5060 "
	       "SIP/2.0", 1, "ACK", true, NULL, NULL);
}


static void seed_turn(struct fx *f)
{
	struct stunb s;

	sb_init(&s, 0x0003, 1);
	sb_u32(&s, 0x0019, 6u << 24);
	sb_u32(&s, 0x000d, 600);
	fx_stun(f, 366175, SW_ACT_TURNC, SW_ACT_GW, "10.48.54.230:41234",
		TURN, &s, false);
	sb_init(&s, 0x0113, 1);
	sb_error(&s, 401, "Unauthorized");
	sb_str(&s, 0x0015, "6b2a31f09c1e");
	sb_str(&s, 0x0014, "TANDBERG");
	fx_stun(f, 368443, SW_ACT_GW, SW_ACT_TURNC, TURN,
		"10.48.54.230:41234", &s, false);
	sb_init(&s, 0x0003, 2);
	sb_u32(&s, 0x0019, 6u << 24);
	sb_str(&s, 0x0006, "turn");
	sb_str(&s, 0x0014, "TANDBERG");
	sb_str(&s, 0x0015, "6b2a31f09c1e");
	fx_stun(f, 368947, SW_ACT_TURNC, SW_ACT_GW, "10.48.54.230:41234",
		TURN, &s, false);
	sb_init(&s, 0x0103, 2);
	sb_xaddr(&s, 0x0016, RELAYD);
	sb_u32(&s, 0x000d, 600);
	sb_xaddr(&s, 0x0020, "10.48.54.230:41234");
	fx_stun(f, 484888, SW_ACT_GW, SW_ACT_TURNC, TURN,
		"10.48.54.230:41234", &s, false);
	sb_init(&s, 0x0004, 3);
	sb_u32(&s, 0x000d, 600);
	fx_stun(f, 485424, SW_ACT_TURNC, SW_ACT_GW, "10.48.54.230:41234",
		TURN, &s, false);
	sb_init(&s, 0x0104, 3);
	sb_u32(&s, 0x000d, 600);
	fx_stun(f, 572733, SW_ACT_GW, SW_ACT_TURNC, TURN,
		"10.48.54.230:41234", &s, false);
}


static void seed_connect(struct fx *f)
{
	struct stunb s;

	fx_ev(f, 967000, SW_ACT_EDGE, SW_ACT_GW, SW_EV_TCP, "TCP connect",
	      EPEER " -> " RELAYD);
	sb_init(&s, 0x001c, 4);
	sb_xaddr(&s, 0x0012, EPEER);
	sb_u32(&s, 0x002a, 0x2f01);
	fx_stun(f, 968097, SW_ACT_GW, SW_ACT_TURNC, TURN,
		"10.48.54.230:41234", &s, false);
	sb_init(&s, 0x000b, 5);
	sb_u32(&s, 0x002a, 0x2f01);
	sb_str(&s, 0x0006, "turn");
	sb_str(&s, 0x0014, "TANDBERG");
	fx_stun(f, 1018906, SW_ACT_TURNC, SW_ACT_GW, "10.48.54.230:41236",
		TURN, &s, false);
	sb_init(&s, 0x010b, 5);
	fx_stun(f, 1073050, SW_ACT_GW, SW_ACT_TURNC, TURN,
		"10.48.54.230:41236", &s, false);
}


/* Binding request + success each way, RFC 4571-framed, seen at the
 * relayed port (the Edge's hop) */
static void fx_checks(struct fx *f, int64_t t, bool c2e_answered)
{
	struct stunb s;

	sb_init(&s, 0x0001, 6);
	sb_str(&s, 0x0006, "Ab12:tH3x");
	sb_u32(&s, 0x0024, 1853882111);
	sb_attr(&s, 0x0025, "", 0);
	fx_stun(f, t, SW_ACT_EDGE, SW_ACT_CONF, EPEER, RELAYD, &s, true);
	sb_init(&s, 0x0101, 6);
	sb_xaddr(&s, 0x0020, EPEER);
	fx_stun(f, t + MS(50), SW_ACT_CONF, SW_ACT_EDGE, RELAYD, EPEER, &s,
		true);
	sb_init(&s, 0x0001, 7);
	sb_str(&s, 0x0006, "tH3x:Ab12");
	sb_u32(&s, 0x0024, 1853882111);
	fx_stun(f, t + MS(100), SW_ACT_CONF, SW_ACT_EDGE, RELAYD, EPEER, &s,
		true);
	if (!c2e_answered)
		return;
	sb_init(&s, 0x0101, 7);
	sb_xaddr(&s, 0x0020, RELAYD);
	fx_stun(f, t + MS(110), SW_ACT_EDGE, SW_ACT_CONF, EPEER, RELAYD, &s,
		true);
}


static void seed_facts(struct fx *f)
{
	struct sw_rec_leg e = {'e', true, seed_e.call_id, "7c3f", "gw1e",
			       seed_e.from, seed_e.to, EDGE, GW_E, "edge",
			       "tls", "CN=sfbedge.contoso.com", seed_e.ua,
			       NULL, 200, "OK", NULL, NULL, NULL, NULL};
	struct sw_rec_leg c = {'c', false, seed_c.call_id, "gw1c", "cms1",
			       seed_c.from, seed_c.to, CMS, GW_C, "cms", "tcp",
			       NULL, seed_c.ua, seed_e.call_id, 200, "OK",
			       NULL, NULL, NULL, NULL};
	struct sw_rec_route r = {
		"sfb-to-cms", 10, "edge", "cms", "sip:meet.123456@contoso.com",
		"sip:123456@cms.example.local", "sip:10.48.54.230:5060;"
		"transport=tcp", "tcp",
		"sfb-to-cms (10): source = edge PASS\n"
		"  ruri.user =~ ^meet\\.(\\d+)$ PASS $1=123456 -> stop",
		"$1=123456", "observe"};
	struct sw_rec_neg n1 = {1, "initial-invite", 'e', 'c', 200, 596,
				sdp_edge_offer, sdp_edge_offer,
				sdp_cms_answer_relay, sdp_cms_answer_relay,
				"none (observe: SDP passed unchanged)"};
	struct sw_rec_neg n2 = {2, "reinvite", 'e', 'c', 200, 100,
				sdp_final_offer, sdp_final_offer, NULL, NULL,
				NULL};

	sw_calllog_leg(f->cl, f->uid, &e);
	sw_calllog_leg(f->cl, f->uid, &c);
	sw_calllog_route(f->cl, f->uid, &r);
	sw_calllog_negotiation(f->cl, f->uid, &n1);
	sw_calllog_negotiation(f->cl, f->uid, &n2);
}


static void seed_media(struct fx *f, const char *client)
{
	struct sw_rec_relay rl = {1, "tcp:" TURN, "tcp", client,
				  "10.48.54.230:41234", RELAYD, f->t0 + 366175,
				  f->t0 + 484888, 600, 1, "192.168.1.252", 0,
				  NULL, 0, NULL};
	struct sw_rec_conn cn = {1, 0x2f01, EPEER, NULL, f->t0 + 968097,
				 f->t0 + 1073050, 200, NULL, 0, 0, 0, NULL};
	struct sw_rec_ice e2c = {SW_ICE_E2C, SW_ICE_SUCCEEDED,
				 f->t0 + MS(1200), f->t0 + MS(1250), 0, NULL,
				 true, EPEER " -> " RELAYD, 30, 1, 1};
	struct sw_rec_ice c2e = {SW_ICE_C2E, SW_ICE_SUCCEEDED,
				 f->t0 + MS(1300), f->t0 + MS(1310), 0, NULL,
				 false, RELAYD " -> " EPEER, 30, 1, 1};

	sw_calllog_relay(f->cl, f->uid, &rl);
	sw_calllog_conn(f->cl, f->uid, &cn);
	sw_calllog_ice(f->cl, f->uid, &e2c);
	sw_calllog_ice(f->cl, f->uid, &c2e);
}


static void call_seed(struct fx *f)
{
	struct sw_rec_reinvite ri = {'c', f->t0 + MS(1502), 200, "OK", 100, 0,
				     NULL};
	struct sw_rec_relay rel = {.relay = 1, .released_us = f->t0 +
					       MS(183020),
				   .close_reason = "client refresh lifetime 0"};
	struct sw_rec_conn cl = {.relay = 1, .conn = 0x2f01,
				 .bytes_in = 1843210, .bytes_out = 96233,
				 .closed_us = f->t0 + MS(183020),
				 .close_reason = "client closed"};

	fx_start(f, 0, seed_e.from, seed_e.to, 'e');
	sw_calllog_call_answer(f->cl, f->uid, f->t0 + MS(600));
	seed_facts(f);
	seed_sip(f);
	seed_turn(f);
	seed_connect(f);
	seed_media(f, "turn");
	fx_checks(f, MS(1200), true);
	fx_sip(f, MS(1500), &seed_e, true, "INVITE sip:gw@10.48.54.229:5061 "
	       "SIP/2.0", 2, "INVITE", true, NULL, sdp_final_offer);
	fx_sip(f, MS(1502), &seed_c, false, "INVITE sip:cms@10.48.54.230:5060"
	       " SIP/2.0", 2, "INVITE", true, NULL, sdp_final_offer);
	fx_sip(f, MS(1602), &seed_c, true, "SIP/2.0 200 OK", 2, "INVITE",
	       true, NULL, sdp_cms_answer_relay);
	fx_sip(f, MS(1604), &seed_e, false, "SIP/2.0 200 OK", 2, "INVITE",
	       true, NULL, sdp_cms_answer_relay);
	sw_calllog_reinvite(f->cl, f->uid, &ri);
	fx_sip(f, MS(183000), &seed_e, true, "BYE sip:gw@10.48.54.229:5061 "
	       "SIP/2.0", 3, "BYE", true, NULL, NULL);
	fx_sip(f, MS(183002), &seed_c, false, "BYE sip:cms@10.48.54.230:5060 "
	       "SIP/2.0", 3, "BYE", true, NULL, NULL);
	fx_sip(f, MS(183010), &seed_c, true, "SIP/2.0 200 OK", 3, "BYE", true,
	       NULL, NULL);
	fx_sip(f, MS(183012), &seed_e, false, "SIP/2.0 200 OK", 3, "BYE", true,
	       NULL, NULL);
	fx_end(f, MS(183012), SW_CS_COMPLETED, 200, "OK", "e", "BYE");
	sw_calllog_relay(f->cl, f->uid, &rel);
	sw_calllog_conn(f->cl, f->uid, &cl);
}


/* A relay-policy call up to the answer: legs, route, offer/answer */
static void relay_call(struct fx *f, int64_t at, const char *answer_in,
		       const char *answer_out)
{
	struct sw_rec_leg e = {'e', true, "b93c21@sfbedge.contoso.com", "9a1",
			       "gw2e", "sip:bob@contoso.com",
			       "sip:meet.777@contoso.com", EDGE, GW_E, "edge",
			       "tls", "CN=sfbedge.contoso.com", seed_e.ua,
			       NULL, 200, "OK", NULL, NULL, NULL, NULL};
	struct sw_rec_leg c = {'c', false, "sw-2-77aa@10.48.54.229", "gw2c",
			       "cms2", "sip:bob@contoso.com",
			       "sip:777@cms.example.local", CMS, GW_C, "cms",
			       "tcp", NULL, seed_c.ua,
			       "b93c21@sfbedge.contoso.com", 200, "OK", NULL,
			       NULL, NULL, NULL};
	struct sw_rec_route r = {
		"sfb-relay", 20, "edge", "cms", "sip:meet.777@contoso.com",
		"sip:777@cms.example.local", "sip:10.48.54.230:5060;"
		"transport=tcp", "tcp",
		"sfb-to-cms (10): source = edge PASS\n"
		"  ruri.user =~ ^meet\\.(\\d{6})$ FAIL\n"
		"sfb-relay (20): source = edge PASS\n"
		"  ruri.user =~ ^meet\\.(\\d+)$ PASS $1=777 -> stop",
		"$1=777", "relay"};
	struct sw_rec_neg n = {1, "initial-invite", 'e', 'c', 200, 420,
			       sdp_edge_offer, sdp_edge_offer, answer_in,
			       answer_out,
			       "applicationsharing: insert relay 10.48.54.229:"
			       "24000 TCP-PASS (components 1, 2)"};

	fx_call(f, at, &e, &c, &r);
	sw_calllog_negotiation(f->cl, f->uid, &n);
	fx_ev(f, 0, SW_ACT_EDGE, SW_ACT_GW, SW_EV_SIP, "INVITE (SDP)",
	      "sip:meet.777@contoso.com");
	fx_ev(f, MS(3), SW_ACT_GW, SW_ACT_CONF, SW_EV_SIP, "INVITE (SDP)",
	      "sip:777@cms.example.local");
	fx_ev(f, MS(420), SW_ACT_CONF, SW_ACT_GW, SW_EV_SIP, "200 OK (SDP)",
	      NULL);
	sw_calllog_call_answer(f->cl, f->uid, f->t0 + MS(420));
}


/* In-process allocation at +425 ms, relayed 24000 */
static void relay_alloc(struct fx *f)
{
	struct sw_rec_relay rl = {1, "in-process", "tcp", "in-process", NULL,
				  RELAYD, f->t0 + MS(425), f->t0 + MS(426),
				  600, 0, "192.168.1.252", 0, NULL, 0, NULL};

	fx_ev(f, MS(425), SW_ACT_TURNC, SW_ACT_GW, SW_EV_TURN,
	      "Allocate Request", "in-process, TCP");
	fx_ev(f, MS(426), SW_ACT_GW, SW_ACT_TURNC, SW_EV_TURN,
	      "Allocate Success", "XOR-RELAYED " RELAYD);
	fx_ev(f, MS(427), SW_ACT_GW, SW_ACT_EDGE, SW_EV_SIP, "200 OK (SDP)",
	      "relay candidate inserted");
	fx_ev(f, MS(480), SW_ACT_EDGE, SW_ACT_GW, SW_EV_SIP, "ACK", NULL);
	sw_calllog_relay(f->cl, f->uid, &rl);
}


static void relay_bind(struct fx *f)
{
	struct sw_rec_conn cn = {1, 7, EPEER, "10.48.54.230:3390",
				 f->t0 + MS(900), f->t0 + MS(901), 200, NULL,
				 0, 0, 0, NULL};

	fx_ev(f, MS(899), SW_ACT_EDGE, SW_ACT_GW, SW_EV_TCP, "TCP connect",
	      EPEER " -> " RELAYD);
	fx_ev(f, MS(900), SW_ACT_GW, SW_ACT_TURNC, SW_EV_TURN,
	      "ConnectionAttempt Ind.", "XOR-PEER " EPEER);
	fx_ev(f, MS(901), SW_ACT_TURNC, SW_ACT_GW, SW_EV_TURN,
	      "ConnectionBind Request", "CONNECTION-ID 7");
	fx_ev(f, MS(901), SW_ACT_GW, SW_ACT_TURNC, SW_EV_TURN,
	      "ConnectionBind Success", NULL);
	fx_ev(f, MS(903), SW_ACT_TURNC, SW_ACT_CONF, SW_EV_TCP, "TCP connect",
	      "-> 10.48.54.230:3390 (TCP-PASS)");
	sw_calllog_conn(f->cl, f->uid, &cn);
}


static void call_relay_ok(struct fx *f)
{
	struct sw_rec_ice e2c = {SW_ICE_E2C, SW_ICE_SUCCEEDED,
				 f->t0 + MS(1000), f->t0 + MS(1050), 0, NULL,
				 true, EPEER " -> 10.48.54.230:3390", 30, 2, 2};
	struct sw_rec_ice c2e = {SW_ICE_C2E, SW_ICE_SUCCEEDED,
				 f->t0 + MS(1100), f->t0 + MS(1110), 0, NULL,
				 false, "10.48.54.230:3390 -> " EPEER, 30, 1,
				 1};
	struct sw_rec_reinvite ri = {'e', f->t0 + MS(1200), 200, "OK", 95, 0,
				     NULL};
	/* the gateway's own offer: no "in", and the answer stays with it */
	struct sw_rec_neg n2 = {2, "gw-reinvite", 'g', 'e', 200, 95,
				NULL, sdp_edge_answer_relayed,
				sdp_final_offer, NULL, NULL};
	struct sw_rec_conn done = {.relay = 1, .conn = 7, .bytes_in = 5120334,
				   .bytes_out = 220118,
				   .closed_us = f->t0 + MS(95000),
				   .close_reason = "allocation deleted (BYE)"};

	relay_alloc(f);
	relay_bind(f);
	fx_checks(f, MS(1000), true);
	sw_calllog_ice(f->cl, f->uid, &e2c);
	sw_calllog_ice(f->cl, f->uid, &c2e);
	fx_ev(f, MS(1200), SW_ACT_GW, SW_ACT_EDGE, SW_EV_SIP,
	      "re-INVITE (SDP)", "completion");
	fx_ev(f, MS(1295), SW_ACT_EDGE, SW_ACT_GW, SW_EV_SIP, "200 OK (SDP)",
	      NULL);
	fx_ev(f, MS(1296), SW_ACT_GW, SW_ACT_EDGE, SW_EV_SIP, "ACK", NULL);
	sw_calllog_reinvite(f->cl, f->uid, &ri);
	sw_calllog_negotiation(f->cl, f->uid, &n2);
	fx_ev(f, MS(95000), SW_ACT_EDGE, SW_ACT_GW, SW_EV_SIP, "BYE", NULL);
	fx_ev(f, MS(95001), SW_ACT_GW, SW_ACT_CONF, SW_EV_SIP, "BYE", NULL);
	fx_end(f, MS(95001), SW_CS_COMPLETED, 200, "OK", "e", "BYE");
	sw_calllog_conn(f->cl, f->uid, &done);
}


static void call_21002(struct fx *f)
{
	struct sw_rec_leg c = {'c', true, "4f1e@10.48.54.230", "cms3", "gw3c",
			       "sip:cospace.42@cms.example.local",
			       "sip:conf-42@contoso.com", CMS, GW_C, "cms",
			       "tcp", NULL, seed_c.ua, NULL, 403, "Forbidden",
			       NULL, NULL, NULL, NULL};
	struct sw_rec_leg e = {'e', false, "sw-3-0c11@10.48.54.229", "gw3e",
			       "asmcu1", c.from_uri, c.to_uri, EDGE, GW_E,
			       "edge", "tls", "CN=sfbedge.contoso.com",
			       "RTCC/7.0.0.0 ASMCU", "4f1e@10.48.54.230", 403,
			       "Forbidden", NULL,
			       "21002;reason=\"Attendees cannot share in this "
			       "conference\";component=\"ASMCU\"", NULL, NULL};
	struct sw_rec_route r = {"cms-to-sfb", 30, "cms", "edge",
				 c.to_uri, c.to_uri, "sip:192.168.1.250:5061;"
				 "transport=tls", "tls",
				 "cms-to-sfb (30): source = cms PASS -> stop",
				 NULL, "relay"};

	fx_call(f, MS(600000), &c, &e, &r);
	fx_offer(f, 'c', 'e', sdp_cms_answer_relay);
	fx_ev(f, 0, SW_ACT_CONF, SW_ACT_GW, SW_EV_SIP, "INVITE (SDP)", NULL);
	fx_ev(f, MS(5), SW_ACT_GW, SW_ACT_EDGE, SW_EV_SIP, "INVITE (SDP)",
	      NULL);
	fx_ev(f, MS(310), SW_ACT_EDGE, SW_ACT_GW, SW_EV_SIP,
	      "403 Forbidden", "ms-diagnostics-public 21002");
	fx_ev(f, MS(311), SW_ACT_GW, SW_ACT_EDGE, SW_EV_SIP, "ACK", NULL);
	fx_ev(f, MS(312), SW_ACT_GW, SW_ACT_CONF, SW_EV_SIP, "403 Forbidden",
	      NULL);
	fx_end(f, MS(312), SW_CS_REJECTED, 403, "Forbidden", "e", NULL);
}


static void call_ice_c2e(struct fx *f)
{
	struct sw_rec_ice e2c = {SW_ICE_E2C, SW_ICE_SUCCEEDED,
				 f->t0 + MS(1000), f->t0 + MS(1050), 0, NULL,
				 true, EPEER " -> 10.48.54.230:3390", 30, 3, 3};
	struct sw_rec_ice c2e = {SW_ICE_C2E, SW_ICE_FAILED, f->t0 + MS(1100),
				 0, 0, "no Binding success in 30 s", false,
				 NULL, 30, 9, 0};
	struct sw_rec_leg e = {.leg = 'e', .ms_client_diag =
		"23;reason=\"Call failed to establish due to a media "
		"connectivity failure when one endpoint is internal and the "
		"other is remote\""};

	relay_alloc(f);
	relay_bind(f);
	fx_checks(f, MS(1000), false);
	fx_ev(f, MS(31100), SW_ACT_GW, SW_ACT_GW, SW_EV_NOTE,
	      "ICE c→e failed", "no Binding success in 30 s");
	sw_calllog_ice(f->cl, f->uid, &e2c);
	sw_calllog_ice(f->cl, f->uid, &c2e);
	fx_ev(f, MS(35000), SW_ACT_EDGE, SW_ACT_GW, SW_EV_SIP, "BYE",
	      "ms-client-diagnostics 23");
	fx_ev(f, MS(35001), SW_ACT_GW, SW_ACT_CONF, SW_EV_SIP, "BYE", NULL);
	sw_calllog_leg(f->cl, f->uid, &e);
	fx_end(f, MS(35001), SW_CS_COMPLETED, 200, "OK", "e", "BYE");
}


static void call_no_attempt(struct fx *f)
{
	relay_alloc(f);
	fx_ev(f, MS(40600), SW_ACT_EDGE, SW_ACT_GW, SW_EV_SIP, "BYE", NULL);
	fx_ev(f, MS(40601), SW_ACT_GW, SW_ACT_CONF, SW_EV_SIP, "BYE", NULL);
	fx_end(f, MS(40601), SW_CS_COMPLETED, 200, "OK", "e", "BYE");
}


static const struct fx_dlg cancel_c = {
	'c', SW_PKT_UDP, "[2001:db8::30]:5060", "[2001:db8::29]:5060",
	"sw-6-5aa0@10.48.54.229", "sip:carol@contoso.com", "gw6c",
	"sip:555@cms.example.local", "cms6", "sip:555@cms.example.local",
	"Acano CallBridge"};


static void call_cancel(struct fx *f)
{
	struct sw_rec_leg e = {'e', true, "c0ffee@sfbedge.contoso.com", "k1",
			       NULL, "sip:carol@contoso.com",
			       "sip:meet.555@contoso.com", EDGE, GW_E, "edge",
			       "tls", "CN=sfbedge.contoso.com", seed_e.ua,
			       NULL, 487, "Request Terminated", NULL, NULL,
			       NULL, NULL};
	struct sw_rec_leg c = {'c', false, "sw-6-5aa0@10.48.54.229", "gw6c",
			       NULL, e.from_uri, "sip:555@cms.example.local",
			       CMS, GW_C, "cms", "tcp", NULL, NULL,
			       e.call_id, 487, "Request Terminated", NULL,
			       NULL, NULL, NULL};
	struct sw_rec_route r = {"sfb-to-cms", 10, "edge", "cms", e.to_uri,
				 c.to_uri, "sip:10.48.54.230:5060;"
				 "transport=tcp", "tcp", NULL, "$1=555",
				 "observe"};

	fx_call(f, MS(1800000), &e, &c, &r);
	fx_offer(f, 'e', 'c', sdp_edge_offer);
	sw_calllog_call_ringing(f->cl, f->uid, f->t0 + MS(300));
	fx_ev(f, 0, SW_ACT_EDGE, SW_ACT_GW, SW_EV_SIP, "INVITE (SDP)", NULL);
	/* the conference leg on UDP over IPv6, recorded as messages */
	fx_sip(f, MS(3), &cancel_c, false, "INVITE sip:555@cms.example.local "
	       "SIP/2.0", 1, "INVITE", false, NULL, sdp_edge_offer);
	fx_sip(f, MS(300), &cancel_c, true, "SIP/2.0 180 Ringing", 1,
	       "INVITE", true, NULL, NULL);
	fx_ev(f, MS(301), SW_ACT_GW, SW_ACT_EDGE, SW_EV_SIP, "180 Ringing",
	      NULL);
	fx_ev(f, MS(4200), SW_ACT_EDGE, SW_ACT_GW, SW_EV_SIP, "CANCEL", NULL);
	fx_sip(f, MS(4201), &cancel_c, false, "CANCEL sip:555@cms.example.local"
	       " SIP/2.0", 1, "CANCEL", false, NULL, NULL);
	fx_sip(f, MS(4209), &cancel_c, true, "SIP/2.0 200 OK", 1, "CANCEL",
	       true, NULL, NULL);
	fx_sip(f, MS(4210), &cancel_c, true, "SIP/2.0 487 Request Terminated",
	       1, "INVITE", true, NULL, NULL);
	fx_sip(f, MS(4211), &cancel_c, false, "ACK sip:555@cms.example.local "
	       "SIP/2.0", 1, "ACK", true, NULL, NULL);
	fx_gw_answered(f, NULL);
	fx_end(f, MS(4211), SW_CS_CANCELLED, 487, "Request Terminated", "e",
	       "CANCEL");
}


static void call_408(struct fx *f)
{
	struct sw_rec_leg e = {'e', true, "d00d@sfbedge.contoso.com", "k2",
			       "gw7e", "sip:dave@contoso.com",
			       "sip:meet.999@contoso.com", EDGE, GW_E, "edge",
			       "tls", "CN=sfbedge.contoso.com", seed_e.ua,
			       NULL, 408, "Request Timeout", NULL, NULL, NULL,
			       NULL};
	struct sw_rec_leg c = {'c', false, "sw-7-1234@10.48.54.229", "gw7c",
			       NULL, e.from_uri, "sip:999@cms.example.local",
			       CMS, GW_C, "cms", "tcp", NULL, NULL, e.call_id,
			       0, NULL, NULL, NULL, NULL, NULL};
	struct sw_rec_route r = {"sfb-to-cms", 10, "edge", "cms", e.to_uri,
				 c.to_uri, "sip:10.48.54.230:5060;"
				 "transport=tcp", "tcp", NULL, "$1=999",
				 "observe"};

	fx_call(f, MS(2400000), &e, &c, &r);
	fx_offer(f, 'e', 'c', sdp_edge_offer);
	fx_ev(f, 0, SW_ACT_EDGE, SW_ACT_GW, SW_EV_SIP, "INVITE (SDP)", NULL);
	fx_ev(f, MS(3), SW_ACT_GW, SW_ACT_CONF, SW_EV_SIP, "INVITE (SDP)",
	      NULL);
	fx_ev(f, MS(32003), SW_ACT_GW, SW_ACT_GW, SW_EV_NOTE,
	      "timeout: no answer in 32 s", NULL);
	fx_ev(f, MS(32004), SW_ACT_GW, SW_ACT_EDGE, SW_EV_SIP,
	      "408 Request Timeout", NULL);
	fx_gw_answered(f, "no final answer from 10.48.54.230:5060 (zone cms) "
		       "within invite_timeout 32 s: check that it is up and "
		       "reachable from shareway, or raise the zone's "
		       "invite_timeout");
	fx_end(f, MS(32004), SW_CS_REJECTED, 408, "Request Timeout", "gw",
	       "no final response in 32 s");
}


static void call_tls(struct fx *f)
{
	struct sw_rec_leg c = {'c', true, "77ab@10.48.54.230", "cms8", NULL,
			       "sip:cospace.8@cms.example.local",
			       "sip:erin@fabrikam.com", CMS, GW_C, "cms", "tcp",
			       NULL, seed_c.ua, NULL, 503,
			       "Service Unavailable", NULL, NULL, NULL, NULL};
	struct sw_rec_leg e = {'e', false, NULL, NULL, NULL, NULL, NULL,
			       "203.0.113.77:5061", NULL, "edge-fabrikam",
			       "tls", "CN=edge.fabrikam.com", NULL, NULL, 0,
			       NULL, NULL, NULL, NULL,
			       "TLS handshake failed: certificate subject not "
			       "trusted"};
	struct sw_rec_route r = {"cms-to-fabrikam", 40, "cms",
				 "edge-fabrikam", c.to_uri, c.to_uri,
				 "sip:203.0.113.77:5061;transport=tls", "tls",
				 NULL, NULL, NULL};

	fx_call(f, MS(3000000), &c, &e, &r);
	fx_ev(f, 0, SW_ACT_CONF, SW_ACT_GW, SW_EV_SIP, "INVITE (SDP)", NULL);
	fx_ev(f, MS(40), SW_ACT_GW, SW_ACT_EDGE, SW_EV_TCP,
	      "TLS handshake failed", "CN=edge.fabrikam.com not trusted");
	fx_ev(f, MS(41), SW_ACT_GW, SW_ACT_CONF, SW_EV_SIP,
	      "503 Service Unavailable", NULL);
	fx_gw_answered(f, "203.0.113.77:5061 (zone edge-fabrikam, tls) could "
		       "not be reached: the SIP stack got 503 Service "
		       "Unavailable sending the INVITE; check that it is up "
		       "and accepts tls from shareway");
	fx_end(f, MS(41), SW_CS_FAILED, 503, "Service Unavailable", "gw",
	       "TLS handshake failed");
}


static void call_no_tcp(struct fx *f)
{
	fx_ev(f, MS(31000), SW_ACT_EDGE, SW_ACT_GW, SW_EV_SIP, "BYE", NULL);
	fx_end(f, MS(31001), SW_CS_COMPLETED, 200, "OK", "e", "BYE");
}


static void call_active(struct fx *f)
{
	struct sw_rec_ice e2c = {.dir = SW_ICE_E2C, .state = SW_ICE_CHECKING,
				 .first_request_us = f->t0 + MS(1000),
				 .timeout_s = 30, .requests = 2};
	struct sw_rec_ice c2e = {.dir = SW_ICE_C2E, .state = SW_ICE_WAITING,
				 .timeout_s = 30};

	relay_alloc(f);
	relay_bind(f);
	sw_calllog_ice(f->cl, f->uid, &e2c);
	sw_calllog_ice(f->cl, f->uid, &c2e);
}


/* The ten fixed calls, in enum fx_call order; a relay-policy call (at
 * not 0) is first brought up to the answer by relay_call() */
static const struct fx_spec {
	void (*run)(struct fx *f);
	int64_t at;
	const char *answer_in, *answer_out;
} fx_specs[FX_N] = {
	[FX_SEED_OBSERVE] = {call_seed, 0, NULL, NULL},
	[FX_RELAY_OK] = {call_relay_ok, MS(300000), sdp_cms_answer_host,
			 sdp_edge_answer_relayed},
	[FX_21002] = {call_21002, 0, NULL, NULL},
	[FX_ICE_C2E] = {call_ice_c2e, MS(900000), sdp_cms_answer_host,
			sdp_edge_answer_relayed},
	[FX_NO_ATTEMPT] = {call_no_attempt, MS(1200000), sdp_cms_answer_host,
			   sdp_edge_answer_relayed},
	[FX_CANCEL] = {call_cancel, 0, NULL, NULL},
	[FX_408] = {call_408, 0, NULL, NULL},
	[FX_TLS] = {call_tls, 0, NULL, NULL},
	[FX_NO_TCP_CAND] = {call_no_tcp, MS(3600000), sdp_cms_answer_udp,
			    sdp_cms_answer_udp},
	[FX_ACTIVE] = {call_active, MS(4200000), sdp_cms_answer_host,
		       sdp_edge_answer_relayed},
};


/**
 * Emit the ten fixed calls (enum fx_call order)
 *
 * @param uids  receives each call's uid
 * @return 0, or EIO if a call could not be started
 */
int fx_write_all(struct sw_calllog *cl, uint64_t uids[FX_N])
{
	struct fx f = {.cl = cl, .t0 = FX_T0};

	for (int i = 0; i < FX_N; ++i) {
		const struct fx_spec *c = &fx_specs[i];

		f.t0 = FX_T0;
		if (c->at)
			relay_call(&f, c->at, c->answer_in, c->answer_out);
		c->run(&f);
		uids[i] = f.uid;
	}
	for (int i = 0; i < FX_N; ++i)
		if (!uids[i])
			return EIO;
	return 0;
}
