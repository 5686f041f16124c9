/**
 * @file sipua_cap.c  Every SIP message of a call, as on the wire
 * ([calllog] capture_sip): what the B2BUA sent and received on each leg,
 * with the real addresses and ports, for the call log's ladder and
 * `shareway export --pcap`.
 *
 * Why Sofia's transport log. Sofia-SIP 1.12.11 has no per-message hook
 * for sent messages in nua or nta, and its tport has no HEP capture
 * (TPTAG_CAPT came later). TPTAG_DUMP writes raw reads and writes to a
 * stdio FILE: stream reads come unframed (TCP would need re-framing, TLS
 * records are not dumped as cleartext) and a pipe behind it could block
 * the SIP thread. TPTAG_LOG(1) makes tport_log_msg() print every message
 * once, whole and framed by Sofia's parser, sent or received (TLS: the
 * cleartext), with the peer's address, synchronously on the SIP thread,
 * through su_log() on su_log_default.
 *
 * Printing costs more than the rest of the capture: Sofia formats a
 * stamp (snprintf, inet_ntop) and logs each line as its own su_log()
 * call, ~28 per message, 30 % of the SIP thread's instructions per call.
 * So the executable defines tport_log_msg() itself: libsofia-sip-ua.so
 * exports it and calls it through its PLT, and ELF symbol interposition
 * (as for accept() in sipua_conn.c) makes those calls land here, with
 * the msg_t: its buffers (msg_iovec(), the bytes Sofia would print),
 * msg_addr() and the transport's name give the message whole, with no
 * printing and no parsing back. A Sofia that is not called through its
 * PLT (a -Bsymbolic build) still prints through su_log: then we redirect
 * su_log_default to cap_logger(), sipua_caplog.c rebuilds the messages
 * from the pieces, and every other line goes to the logger that was there
 * before (Sofia's stderr logger), so Sofia's own diagnostics are
 * unchanged. Without capture (or TPORT_LOG in the environment without
 * it) our tport_log_msg() hands the call to Sofia's own (dlsym
 * RTLD_NEXT).
 *
 * The log names the peer only. The local end is the leg's endpoint
 * listener; for TCP/TLS the connected socket's own name (an outbound
 * connection has an ephemeral port): a connection the peer opened is in
 * sipua_conn.c's table of accepted connections (O(1), no search); one
 * Sofia opened is found once per connection among the process's sockets
 * by its peer (/proc/self/fd, two system calls per descriptor: at most
 * once a second per such peer) and checked on each use; for a wildcard
 * listener the source address the kernel routes from.
 *
 * A message belongs to a call by its Call-ID (a hash of the legs' Call-
 * IDs). An INVITE that creates a call is logged before the B2BUA has
 * the call, so an unmatched INVITE, and what follows with its Call-ID
 * (the 100 Trying), wait in a bounded queue until the call registers its
 * legs, and are dropped after CAP_PEND_US. Other unmatched messages
 * (OPTIONS keep-alives, garbage, late retransmissions) are not recorded.
 *
 * Everything runs on the SIP thread (su_root_threading(0): Sofia logs
 * from that thread only). With capture_sip = no none of it exists: no
 * TPTAG_LOG, no redirection, no per-message work.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SW_LOG_MODULE "sip"
#include "sw_log.h"
#include "sipua_int.h"
#include "sipua_caplog.h"

#include <sofia-sip/su_log.h>
#include <sofia-sip/su_string.h>
#include <sofia-sip/su_time.h>
#include <sofia-sip/msg_addr.h>
#include <sofia-sip/tport.h>

#define CAP_BUCKETS 4096          /* legs by Call-ID hash */
#define CAP_CONNS 1024            /* stream sockets and routes, by peer
				     (direct-mapped: a slot per hash) */
#define CAP_PEND_MAX 256          /* messages waiting for their call */
#define CAP_PEND_BYTES (1024 * 1024)
#define CAP_PEND_US 5000000       /* how long they wait */
#define CAP_SCAN_MS 1000          /* no socket found: look again after */
#define CAP_PIECE 4096            /* one su_log() piece, formatted */
#define CAP_IOV 32                /* a message's buffers, on the stack */

/** A message whose call is not known yet (its initial INVITE) */
struct cap_pend {
	struct cap_pend *next;
	struct sipua_caplog_meta meta;
	size_t cid_off, cid_len;  /* the Call-ID inside data */
	size_t len;
	char data[];
};

/** The local end toward a peer: a stream socket (fd, validated on use),
 *  or for a wildcard listener the source address routing picks */
struct cap_conn {
	enum sw_transport tp;
	struct sw_sa peer;
	struct sw_sa local;       /* the UDP route's source (fd < 0) */
	int fd;                   /* not ours: Sofia's socket */
	int64_t scan_ms;          /* last search for fd, if it failed */
};

struct sipua_cap {
	struct sipua *ua;
	su_logger_f *prev;        /* su_log_default's logger before us */
	void *prev_stream;
	struct sipua_caplog log;  /* the message being rebuilt */
	/* initial INVITEs and their 100 Trying, oldest first */
	struct cap_pend *pend, **pend_tail;
	unsigned n_pend;
	size_t pend_bytes;
	struct cap_conn conns[CAP_CONNS];
	struct sipua_leg *legs[CAP_BUCKETS]; /* chains via leg->cap_next */
	uint64_t n_msgs, n_dropped; /* delivered; not recorded */
	uint64_t n_direct;        /* taken from the msg_t, not the log */
	uint64_t n_scans;         /* searches of /proc/self/fd */
};

/* The capturing ua's capture, for tport_log_msg(): one per process */
static struct sipua_cap *cap_active;


/* FNV-1a */
static unsigned cap_hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; ++i)
		h = (h ^ (uint8_t)s[i]) * 16777619u;
	return h % CAP_BUCKETS;
}


static struct sipua_leg *cap_leg_find(struct sipua_cap *cap, const char *cid,
				      size_t n)
{
	struct sipua_leg *l = cap->legs[cap_hash(cid, n)];

	for (; l; l = l->cap_next)
		if (strlen(l->call_id) == n && !memcmp(l->call_id, cid, n))
			return l;
	return NULL;
}


/* An open stream socket of this process whose peer is `peer` */
static int cap_conn_scan(const struct sw_sa *peer)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int found = -1;

	if (!d)
		return -1;
	while (found < 0 && (e = readdir(d))) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss), tl;
		struct sw_sa a, b;
		char *end;
		long fd = strtol(e->d_name, &end, 10);
		int type;

		tl = sizeof(type);
		if (*end || end == e->d_name || fd == dirfd(d) ||
		    getsockopt((int)fd, SOL_SOCKET, SO_TYPE, &type, &tl) ||
		    type != SOCK_STREAM ||
		    getpeername((int)fd, (struct sockaddr *)&ss, &sl))
			continue;
		sw_sa_from_sockaddr(&a, (struct sockaddr *)&ss);
		sw_sa_unmap_v4(&b, &a);
		if (sw_sa_cmp(&b, peer, true))
			found = (int)fd;
	}
	closedir(d);
	return found;
}


/* fd is still the connection to peer: its local name */
static bool cap_fd_local(int fd, const struct sw_sa *peer, struct sw_sa *local)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct sw_sa a;

	if (fd < 0 || getpeername(fd, (struct sockaddr *)&ss, &sl))
		return false;
	sw_sa_from_sockaddr(&a, (struct sockaddr *)&ss);
	sw_sa_unmap_v4(&a, &a);
	if (!sw_sa_cmp(&a, peer, true))
		return false;
	sl = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl))
		return false;
	sw_sa_from_sockaddr(&a, (struct sockaddr *)&ss);
	sw_sa_unmap_v4(local, &a);
	return true;
}


/* The source address the kernel picks toward peer (a wildcard
 * listener's UDP messages); the port stays local's */
static bool cap_route_src(const struct sw_sa *peer, struct sw_sa *local)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	uint16_t port = sw_sa_port(local);
	struct sw_sa a;
	int fd = socket(sw_sa_af(peer), SOCK_DGRAM | SOCK_CLOEXEC, 0);
	bool ok;

	if (fd < 0)
		return false;
	ok = !connect(fd, &peer->u.sa, sw_sa_len(peer)) &&
	     !getsockname(fd, (struct sockaddr *)&ss, &sl);
	close(fd);
	if (!ok)
		return false;
	sw_sa_from_sockaddr(&a, (struct sockaddr *)&ss);
	sw_sa_unmap_v4(local, &a);
	sw_sa_set_port(local, port);
	return true;
}


/* The slot of peer: a route is per address, a connection per address
 * and port. One slot per hash, so that a lookup is one compare whatever
 * the number of peers (a list of 32 taken in turn was searched whole for
 * every message, and with more peers than that each message missed) */
static struct cap_conn *cap_conn_slot(struct sipua_cap *cap,
				      enum sw_transport tp,
				      const struct sw_sa *peer)
{
	bool stream = tp != SW_TP_UDP;

	return &cap->conns[sw_sa_hash(peer, 2166136261u + (uint32_t)tp,
				      stream) % CAP_CONNS];
}


static struct cap_conn *cap_conn_get(struct sipua_cap *cap,
				     enum sw_transport tp,
				     const struct sw_sa *peer)
{
	struct cap_conn *c = cap_conn_slot(cap, tp, peer);

	if (c->tp == tp && sw_sa_isset(&c->peer) &&
	    sw_sa_cmp(&c->peer, peer, tp != SW_TP_UDP))
		return c;
	return NULL;
}


static struct cap_conn *cap_conn_add(struct sipua_cap *cap,
				     enum sw_transport tp,
				     const struct sw_sa *peer)
{
	struct cap_conn *c = cap_conn_slot(cap, tp, peer);

	c->tp = tp;
	c->peer = *peer;
	c->fd = -1;
	c->scan_ms = 0;
	memset(&c->local, 0, sizeof(c->local));
	return c;
}


/* The gateway's end of a message to or from peer on a leg of ep */
static void cap_local(struct sipua_cap *cap, const struct sipua_ep *ep,
		      enum sw_transport tp, const struct sw_sa *peer,
		      struct sw_sa *local)
{
	struct cap_conn *c;

	if (tp != SW_TP_UDP) {
		int64_t now = sipua_now_ms(false);

		/* a connection the peer opened: sipua_conn.c has it */
		if (sipua_conn_find(cap->ua, peer, local) >= 0)
			return;
		c = cap_conn_get(cap, tp, peer);
		if (c && cap_fd_local(c->fd, peer, local))
			return;
		if (!c)
			c = cap_conn_add(cap, tp, peer);
		if (!c->scan_ms || now - c->scan_ms >= CAP_SCAN_MS) {
			c->fd = cap_conn_scan(peer);
			cap->n_scans++;
			c->scan_ms = c->fd < 0 ? now : 0;
		}
		if (cap_fd_local(c->fd, peer, local))
			return;
	}
	*local = tp == SW_TP_TLS ? ep->tls_addr : ep->addr;
	if (tp != SW_TP_UDP || !sw_sa_is_any(local))
		return;
	c = cap_conn_get(cap, tp, peer);
	if (c && sw_sa_isset(&c->local)) {
		sw_sa_set_port(&c->local, sw_sa_port(local));
		*local = c->local;
		return;
	}
	if (!cap_route_src(peer, local))
		return;
	c = cap_conn_add(cap, tp, peer);
	c->local = *local;
}


/* Hand one message of leg l to the observer */
static void cap_deliver(struct sipua_cap *cap, struct sipua_leg *l,
			const struct sipua_caplog_meta *meta, const char *data,
			size_t len)
{
	struct sipua *ua = cap->ua;
	struct sipua_call_info ci;
	struct sipua_msg m;
	struct sw_sa local;

	if (!ua->obs.message)
		return;
	/* leg A's tag is the gateway's To-tag of its responses, which nua
	 * does not tell (the ACK of a refusal never reaches it) */
	if (!meta->received && !l->local_tag && l->id == SIPUA_LEG_A &&
	    len > 8 && !memcmp(data, "SIP/2.0 ", 8)) {
		size_t off, n;

		if (sipua_caplog_tag(data, len, true, &off, &n))
			l->local_tag = su_strndup(l->call->home, data + off, n);
	}
	memset(&local, 0, sizeof(local));
	cap_local(cap, l->ep, meta->tp, &meta->peer, &local);
	memset(&m, 0, sizeof(m));
	m.leg = l->id;
	m.received = meta->received;
	m.tp = meta->tp;
	m.src = meta->received ? meta->peer : local;
	m.dst = meta->received ? local : meta->peer;
	m.t_us = meta->t_us;
	m.data = data;
	m.len = len;
	sipua_call_info_fill(l->call, &ci);
	ua->obs.message(ua->obs.arg, &ci, &m);
	cap->n_msgs++;
}


static void cap_pend_drop_head(struct sipua_cap *cap)
{
	struct cap_pend *p = cap->pend;

	cap->pend = p->next;
	if (!cap->pend)
		cap->pend_tail = &cap->pend;
	cap->n_pend--;
	cap->pend_bytes -= p->len;
	cap->n_dropped++;
	free(p);
}


static bool cap_pend_has(const struct sipua_cap *cap, const char *cid,
			 size_t n)
{
	for (const struct cap_pend *p = cap->pend; p; p = p->next)
		if (p->cid_len == n && !memcmp(p->data + p->cid_off, cid, n))
			return true;
	return false;
}


/* Keep the message just rebuilt until its call exists: an INVITE we
 * received, or a message with the Call-ID of one that waits */
static void cap_pend_add(struct sipua_cap *cap, size_t cid_off, size_t cid_len)
{
	const struct sipua_caplog *lg = &cap->log;
	struct cap_pend *p;

	if (!(lg->meta.received && lg->len > 7 &&
	      !memcmp(lg->buf, "INVITE ", 7)) &&
	    !cap_pend_has(cap, lg->buf + cid_off, cid_len)) {
		cap->n_dropped++;
		return;
	}
	while (cap->pend && (cap->n_pend >= CAP_PEND_MAX ||
			     cap->pend_bytes + lg->len > CAP_PEND_BYTES ||
			     lg->meta.t_us - cap->pend->meta.t_us > CAP_PEND_US))
		cap_pend_drop_head(cap);
	p = lg->len <= CAP_PEND_BYTES ? malloc(sizeof(*p) + lg->len) : NULL;
	if (!p) {
		cap->n_dropped++;
		return;
	}
	p->next = NULL;
	p->meta = lg->meta;
	p->cid_off = cid_off;
	p->cid_len = cid_len;
	p->len = lg->len;
	memcpy(p->data, lg->buf, lg->len);
	*cap->pend_tail = p;
	cap->pend_tail = &p->next;
	cap->n_pend++;
	cap->pend_bytes += p->len;
}


/* Deliver, in order, what waited for leg l's Call-ID */
static void cap_pend_flush(struct sipua_cap *cap, struct sipua_leg *l)
{
	struct cap_pend **pp = &cap->pend, *p;
	size_t n = strlen(l->call_id);

	while ((p = *pp)) {
		if (p->cid_len != n || memcmp(p->data + p->cid_off, l->call_id,
					      n)) {
			pp = &p->next;
			continue;
		}
		*pp = p->next;
		if (cap->pend_tail == &p->next)
			cap->pend_tail = pp;
		cap->n_pend--;
		cap->pend_bytes -= p->len;
		cap_deliver(cap, l, &p->meta, p->data, p->len);
		free(p);
	}
}


static const char *const method_names[SIPUA_M_N] = {
	"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "UPDATE", "INFO",
	"MESSAGE", "NOTIFY", "SUBSCRIBE", "REFER", "PRACK", "REGISTER",
	"other",
};


const char *sipua_method_name(enum sipua_method m)
{
	return (unsigned)m < SIPUA_M_N ? method_names[m] : "other";
}


/* One message in the counts by method or class (metrics) */
static void cap_count(struct sipua *ua, const char *buf, size_t len,
		      bool received)
{
	struct sipua_msg_counts *mc = &ua->msgs;
	unsigned dir = received ? 0 : 1;
	size_t n = 0;

	if (len > 9 && !memcmp(buf, "SIP/2.0 ", 8)) {
		if (buf[8] >= '1' && buf[8] <= '6')
			mc->resp[dir][buf[8] - '1']++;
		return;
	}
	while (n < len && n < 16 && buf[n] != ' ')
		++n;
	for (unsigned m = 0; m < SIPUA_M_OTHER; ++m)
		if (strlen(method_names[m]) == n &&
		    !memcmp(buf, method_names[m], n)) {
			mc->req[dir][m]++;
			return;
		}
	mc->req[dir][SIPUA_M_OTHER]++;
}


void sipua_msg_counts(const struct sipua *ua, struct sipua_msg_counts *out)
{
	*out = ua->msgs;
}


/* A whole message: find its call and leg, or keep or drop it. cid is
 * its Call-ID as Sofia parsed it, or NULL: then it is read from the text
 * (a waiting message keeps where it is: any place of those bytes will
 * do, they are compared, not parsed) */
static void cap_msg_done(struct sipua_cap *cap, const char *cid)
{
	const struct sipua_caplog *lg = &cap->log;
	struct sipua_leg *l;
	const char *at;
	size_t off, n;

	cap_count(cap->ua, lg->buf, lg->len, lg->meta.received);
	if (!cap->ua->obs.message) {
		cap->n_dropped++;
		return;
	}
	if (cid && *cid) {
		n = strlen(cid);
		l = cap_leg_find(cap, cid, n);
		if (l) {
			cap_deliver(cap, l, &lg->meta, lg->buf, lg->len);
			return;
		}
		at = memmem(lg->buf, lg->len, cid, n);
		if (at) {
			cap_pend_add(cap, (size_t)(at - lg->buf), n);
			return;
		}
	}
	if (!sipua_caplog_call_id(lg->buf, lg->len, &off, &n)) {
		cap->n_dropped++;
		return;
	}
	l = cap_leg_find(cap, lg->buf + off, n);
	if (l)
		cap_deliver(cap, l, &lg->meta, lg->buf, lg->len);
	else
		cap_pend_add(cap, off, n);
}


/* A line's text ("%s%.*s": indent, length, text), the piece Sofia logs
 * most, taken from the arguments without formatting it */
static bool cap_text(struct sipua_cap *cap, char const *fmt, va_list ap)
{
	const char *a, *b;
	size_t na, nb;
	va_list aq;
	int k;

	if (!cap->log.in_msg || strcmp(fmt, "%s%.*s"))
		return false;
	va_copy(aq, ap);
	a = va_arg(aq, const char *);
	k = va_arg(aq, int);
	b = va_arg(aq, const char *);
	va_end(aq);
	if (!a || !b)
		return false; /* printf's "(null)": leave it to the formatter */
	na = strlen(a);
	nb = k < 0 ? strlen(b) : strnlen(b, (size_t)k);
	return na + nb < CAP_PIECE && /* else formatted: a cut piece */
	       sipua_caplog_text(&cap->log, a, na, b, nb);
}


/* su_log_default's logger while capturing (the SIP thread only); fmt is
 * Sofia's printf format. Sofia logs a message in ~28 pieces: its line
 * texts and line breaks ("\n", no conversion) are taken as they are
 * (vsnprintf of every piece was 40 % of the SIP thread's instructions),
 * the rest is formatted first. */
__attribute__((format(printf, 2, 0)))
static void cap_logger(void *stream, char const *fmt, va_list ap)
{
	struct sipua_cap *cap = stream;
	char piece[CAP_PIECE];
	enum sipua_caplog_res res;
	va_list aq;
	int n;

	if (cap_text(cap, fmt, ap))
		return;
	if (!strchr(fmt, '%')) {
		size_t k = strlen(fmt);

		res = sipua_caplog_piece(&cap->log, fmt, k, k >= sizeof(piece));
	}
	else {
		va_copy(aq, ap);
		n = vsnprintf(piece, sizeof(piece), fmt, aq);
		va_end(aq);
		res = n < 0 ? SIPUA_CAPLOG_OTHER
			    : sipua_caplog_piece(&cap->log, piece,
						 strlen(piece),
						 (size_t)n >= sizeof(piece));
	}
	switch (res) {
	case SIPUA_CAPLOG_MSG:
		cap_msg_done(cap, NULL);
		return;
	case SIPUA_CAPLOG_TAKEN:
		return;
	case SIPUA_CAPLOG_OTHER:
		break;
	}
	if (cap->prev)
		cap->prev(cap->prev_stream, fmt, ap);
}


/* Sofia's own tport_log_msg(), which prints the message */
typedef void tport_log_msg_f(tport_t *, msg_t *, char const *, char const *,
			     su_time_t);
/* Sofia's prototype is in its private tport_internal.h */
tport_log_msg_f tport_log_msg;


static void sofia_log_msg(tport_t *tp, msg_t *msg, char const *what,
			  char const *via, su_time_t now)
{
	static tport_log_msg_f *real;

	if (!real) {
		void *p = dlsym(RTLD_NEXT, "tport_log_msg");

		memcpy(&real, &p, sizeof(real)); /* object to function pointer */
	}
	if (real && real != tport_log_msg)
		real(tp, msg, what, via, now);
}


/* One message Sofia sent ("send") or received ("recv") on tp */
static void cap_msg(struct sipua_cap *cap, tport_t *tp, msg_t *msg,
		    const char *what)
{
	static const char *const protos[] = {
		[SW_TP_UDP] = "udp", [SW_TP_TCP] = "tcp", [SW_TP_TLS] = "tls"};
	msg_iovec_t iov_s[CAP_IOV], *iov = iov_s;
	struct sipua_caplog_part part_s[CAP_IOV], *part = part_s;
	struct sipua_caplog_meta meta;
	const tp_name_t *tpn = tport_name(tp);
	const su_sockaddr_t *su = msg_addr(msg);
	const sip_t *sip = sip_object(msg);
	isize_t n = msg_iovec(msg, iov_s, CAP_IOV);
	bool known = false;
	struct sw_sa a;

	memset(&meta, 0, sizeof(meta));
	meta.received = !strcmp(what, "recv");
	for (unsigned i = 0; tpn && tpn->tpn_proto &&
			     i < sizeof(protos) / sizeof(protos[0]); ++i)
		if (su_casematch(tpn->tpn_proto, protos[i])) {
			meta.tp = (enum sw_transport)i;
			known = true;
		}
	if (su)
		sw_sa_from_sockaddr(&a, &su->su_sa);
	else
		memset(&a, 0, sizeof(a));
	sw_sa_unmap_v4(&meta.peer, &a);
	if (n > CAP_IOV) { /* more buffers than the stack holds */
		iov = malloc((size_t)n * sizeof(*iov));
		part = malloc((size_t)n * sizeof(*part));
		if (!iov || !part || msg_iovec(msg, iov, n) != n)
			n = 0, known = false;
	}
	for (isize_t i = 0; i < n; ++i) {
		part[i].p = iov[i].mv_base;
		part[i].n = iov[i].mv_len;
	}
	cap->n_direct++;
	if (sipua_caplog_whole(&cap->log, &meta, known, part, (size_t)n) ==
	    SIPUA_CAPLOG_MSG)
		cap_msg_done(cap, sip && sip->sip_call_id
					  ? sip->sip_call_id->i_id : NULL);
	if (iov != iov_s)
		free(iov);
	if (part != part_s)
		free(part);
}


/**
 * Sofia's tport calls this for every message it sends or receives while
 * TPTAG_LOG is on (see the file comment: it stands in for Sofia's own,
 * which prints the message). Sofia logs from the SIP thread only.
 */
void tport_log_msg(tport_t *self, msg_t *msg, char const *what,
		   char const *via, su_time_t now)
{
	struct sipua_cap *cap = cap_active;

	if (!cap || !self || !msg || !what) {
		sofia_log_msg(self, msg, what, via, now);
		return;
	}
	cap_msg(cap, self, msg, what);
}


/**
 * Start capturing (before the endpoints' nua_create(), which then get
 * TPTAG_LOG(1)). One ua per process may capture: su_log_default is
 * Sofia's, process-wide.
 *
 * @return 0, EBUSY if another ua captures, or ENOMEM
 */
int sipua_cap_start(struct sipua *ua)
{
	struct sipua_cap *cap;

	if (su_log_default->log_logger == cap_logger)
		return EBUSY;
	cap = calloc(1, sizeof(*cap));
	if (!cap)
		return ENOMEM;
	cap->ua = ua;
	cap->pend_tail = &cap->pend;
	for (unsigned i = 0; i < CAP_CONNS; ++i)
		cap->conns[i].fd = -1;
	cap->prev = su_log_default->log_logger;
	cap->prev_stream = su_log_default->log_stream;
	su_log_redirect(su_log_default, cap_logger, cap);
	ua->cap = cap;
	cap_active = cap;
	return 0;
}


/** Stop capturing (after nua_destroy()): Sofia's logger is restored */
void sipua_cap_stop(struct sipua *ua)
{
	struct sipua_cap *cap = ua ? ua->cap : NULL;

	if (!cap)
		return;
	su_log_redirect(su_log_default, cap->prev, cap->prev_stream);
	if (cap_active == cap)
		cap_active = NULL;
	while (cap->pend)
		cap_pend_drop_head(cap);
	sw_debug("[sip capture] %llu messages recorded, %llu not recorded, "
		 "%llu taken whole from Sofia, %llu unreadable, %llu inexact; "
		 "%llu socket searches", (unsigned long long)cap->n_msgs,
		 (unsigned long long)cap->n_dropped,
		 (unsigned long long)cap->n_direct,
		 (unsigned long long)cap->log.n_skipped,
		 (unsigned long long)cap->log.n_inexact,
		 (unsigned long long)cap->n_scans);
	sipua_caplog_reset(&cap->log);
	free(cap);
	ua->cap = NULL;
}


/**
 * Messages with leg l's Call-ID belong to it from now on; what waited
 * for it is delivered now. Call once the leg's side is settled (the dial
 * plan has run), since the observer attributes them to a side.
 */
void sipua_cap_leg_add(struct sipua_leg *l)
{
	struct sipua_cap *cap = l->call->ua->cap;
	unsigned h;

	if (!cap || !l->call_id || l->cap_listed)
		return;
	h = cap_hash(l->call_id, strlen(l->call_id));
	l->cap_next = cap->legs[h];
	cap->legs[h] = l;
	l->cap_listed = true;
	cap_pend_flush(cap, l);
}


/** A leg is going (a call failing over to another peer drops its leg B):
 *  its messages are no longer recorded */
void sipua_cap_leg_remove(struct sipua_leg *l)
{
	struct sipua_cap *cap = l->call->ua->cap;
	struct sipua_leg **pp;

	if (!cap || !l->cap_listed)
		return;
	pp = &cap->legs[cap_hash(l->call_id, strlen(l->call_id))];
	while (*pp && *pp != l)
		pp = &(*pp)->cap_next;
	if (*pp)
		*pp = l->cap_next;
	l->cap_listed = false;
}


/** The call is going: its legs' messages are no longer recorded */
void sipua_cap_call_remove(struct sw_call *call)
{
	for (int i = 0; i < 2; ++i)
		sipua_cap_leg_remove(&call->leg[i]);
}
