/**
 * @file tb_turn.c  turnbench: the client side of RFC 5766 TURN over TCP
 * with RFC 6062 TCP allocations, on blocking sockets.
 *
 * Long-term credentials as RFC 5389 10.2: the first request goes without
 * them, the 401 gives REALM and NONCE, the request is sent again with
 * USERNAME, REALM, NONCE and MESSAGE-INTEGRITY; a 438 (stale nonce)
 * costs one more round trip. Messages are encoded and decoded with the
 * project's codec (turn/turn_msg.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "turnbench.h"

/** What one request carries besides credentials */
struct tb_req {
	uint16_t method;
	const struct sw_sa *peer; /* XOR-PEER-ADDRESS, or NULL */
	bool tcp;                 /* REQUESTED-TRANSPORT = TCP (RFC 6062 5.1) */
	bool has_lifetime;
	uint32_t lifetime;
	bool has_connid;
	uint32_t connid;
};


void tb_turn_init(struct tb_turn *t, const struct tb_opts *o)
{
	memset(t, 0, sizeof(*t));
	t->fd = -1;
	t->o = o;
}


/** Open the control connection to the server */
int tb_turn_open(struct tb_turn *t)
{
	return tb_tcp_connect(&t->fd, &t->o->server);
}


void tb_turn_close(struct tb_turn *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}


/**
 * One allocation cycle on a fresh connection: Allocate (with its 401 round
 * trip), Refresh with lifetime 0, close; t keeps what it learnt
 *
 * @return 0, or the error of the first step that failed
 */
int tb_turn_cycle(struct tb_turn *t, const struct tb_opts *o)
{
	int err;

	tb_turn_init(t, o);
	err = tb_turn_open(t);
	if (!err)
		err = tb_turn_allocate(t);
	if (!err)
		err = tb_turn_refresh(t, 0);
	tb_turn_close(t);
	return err;
}


/**
 * Read one STUN message from a TCP stream: exactly its bytes, so that
 * what follows a ConnectionBind success (relayed data) stays unread
 *
 * @return 0, EBADMSG, or a socket error
 */
int tb_msg_read(int fd, struct tb_msg *msg)
{
	struct turn_decode_err derr;
	size_t blen;
	int err;

	err = tb_read_full(fd, msg->buf, TURN_HDR_LEN);
	if (err)
		return err;
	blen = (size_t)msg->buf[2] << 8 | msg->buf[3];
	if ((msg->buf[0] & 0xc0) || TURN_HDR_LEN + blen > sizeof(msg->buf))
		return EBADMSG;
	err = tb_read_full(fd, msg->buf + TURN_HDR_LEN, blen);
	if (err)
		return err;
	msg->len = TURN_HDR_LEN + blen;
	err = turn_msg_decode(&msg->m, msg->buf, msg->len, &derr);
	if (err)
		fprintf(stderr, "turnbench: undecodable message: %s\n",
			derr.reason);
	return err;
}


static int req_encode(const struct tb_turn *t, const struct tb_req *r,
		      uint8_t *buf, size_t *lenp, uint8_t *tid)
{
	struct turn_enc e;

	tb_random(tid, TURN_TID_LEN);
	turn_enc_init(&e, buf, TB_MSG_MAX, r->method, TURN_C_REQUEST, tid);
	if (r->tcp)
		turn_enc_u32(&e, TURN_A_REQUESTED_TRANSPORT, 6u << 24);
	if (r->peer)
		turn_enc_xaddr(&e, TURN_A_XOR_PEER_ADDRESS, r->peer);
	if (r->has_lifetime)
		turn_enc_u32(&e, TURN_A_LIFETIME, r->lifetime);
	if (r->has_connid)
		turn_enc_u32(&e, TURN_A_CONNECTION_ID, r->connid);
	if (t->have_key) {
		turn_enc_str(&e, TURN_A_USERNAME, t->o->user);
		turn_enc_str(&e, TURN_A_REALM, t->realm);
		turn_enc_str(&e, TURN_A_NONCE, t->nonce);
		turn_enc_integrity(&e, t->key, sizeof(t->key));
	}
	return turn_enc_finish(&e, lenp);
}


/* Adopt the REALM and NONCE of a 401/438 answer (RFC 5389 10.2.3) */
static int take_challenge(struct tb_turn *t, const struct turn_msg *m)
{
	unsigned nuls;

	if (turn_msg_get_str(m, TURN_A_NONCE, t->nonce, sizeof(t->nonce),
			     &nuls) ||
	    turn_msg_get_str(m, TURN_A_REALM, t->realm, sizeof(t->realm),
			     &nuls))
		return EPROTO;
	turn_key_longterm(t->key, t->o->user, t->realm, t->o->pass);
	t->have_key = true;
	return 0;
}


/* The answer to tid; anything else on the connection is a protocol error */
static int read_answer(int fd, const uint8_t *tid, uint16_t method,
		       struct tb_msg *resp)
{
	int err = tb_msg_read(fd, resp);

	if (err)
		return err;
	if (resp->m.cls == TURN_C_REQUEST ||
	    resp->m.cls == TURN_C_INDICATION || resp->m.method != method ||
	    memcmp(resp->m.tid, tid, TURN_TID_LEN)) {
		fprintf(stderr, "turnbench: unexpected %s %s while waiting "
			"for the %s answer\n", turn_method_name(resp->m.method),
			turn_class_name(resp->m.cls), turn_method_name(method));
		return EPROTO;
	}
	return 0;
}


/* Send r on fd and wait for its answer; 401/438 cost one retry each */
static int transact(struct tb_turn *t, int fd, const struct tb_req *r,
		    struct tb_msg *resp)
{
	uint8_t req[TB_MSG_MAX], tid[TURN_TID_LEN];
	char reason[128];
	uint16_t code;
	size_t len;
	int err = 0;

	for (unsigned tries = 0; tries < 3; ++tries) {
		bool had_key = t->have_key;

		err = req_encode(t, r, req, &len, tid);
		if (!err)
			err = tb_write_full(fd, req, len);
		if (!err)
			err = read_answer(fd, tid, r->method, resp);
		if (err)
			return err;
		if (resp->m.cls == TURN_C_SUCCESS)
			return 0;
		if (turn_msg_get_error(&resp->m, &code, reason, sizeof(reason)))
			return EPROTO;
		if ((code == 401 && !had_key) || code == 438) {
			++t->auth_retries;
			err = take_challenge(t, &resp->m);
			if (err)
				return err;
			continue;
		}
		fprintf(stderr, "turnbench: %s refused: %u %s\n",
			turn_method_name(r->method), code, reason);
		return code == 401 ? EACCES : EPROTO;
	}
	return EPROTO;
}


/** Allocate a TCP relay (RFC 6062 5.1), credentials on the 401 */
int tb_turn_allocate(struct tb_turn *t)
{
	struct tb_req r = {.method = TURN_M_ALLOCATE, .tcp = true};
	struct tb_msg resp;
	int err;

	err = transact(t, t->fd, &r, &resp);
	if (err)
		return err;
	return turn_msg_get_xaddr(&resp.m, TURN_A_XOR_RELAYED_ADDRESS,
				  &t->relayed);
}


/** Refresh; lifetime 0 deletes the allocation */
int tb_turn_refresh(struct tb_turn *t, uint32_t lifetime)
{
	struct tb_req r = {.method = TURN_M_REFRESH, .has_lifetime = true,
			   .lifetime = lifetime};
	struct tb_msg resp;

	return transact(t, t->fd, &r, &resp);
}


/** CreatePermission for the peer's IP address */
int tb_turn_permit(struct tb_turn *t, const struct sw_sa *peer)
{
	struct tb_req r = {.method = TURN_M_CREATEPERM, .peer = peer};
	struct tb_msg resp;

	return transact(t, t->fd, &r, &resp);
}


/** Connect to a peer from the relayed address (RFC 6062 4.3) */
int tb_turn_connect(struct tb_turn *t, const struct sw_sa *peer,
		    uint32_t *connid)
{
	struct tb_req r = {.method = TURN_M_CONNECT, .peer = peer};
	struct tb_msg resp;
	int err;

	err = transact(t, t->fd, &r, &resp);
	if (err)
		return err;
	return turn_msg_get_u32(&resp.m, TURN_A_CONNECTION_ID, connid);
}


/**
 * Open a data connection and bind it to connid (RFC 6062 4.4); on
 * success *fdp is a raw byte pipe to the peer
 */
int tb_turn_bind(struct tb_turn *t, uint32_t connid, int *fdp)
{
	struct tb_req r = {.method = TURN_M_CONNBIND, .has_connid = true,
			   .connid = connid};
	struct tb_msg resp;
	int fd, err;

	err = tb_tcp_connect(&fd, &t->o->server);
	if (err)
		return err;
	err = transact(t, fd, &r, &resp);
	if (err) {
		close(fd);
		return err;
	}
	*fdp = fd;
	return 0;
}


/** Half a bind, for pipelining: open the data connection and send */
int tb_turn_bind_send(struct tb_turn *t, uint32_t connid, int *fdp)
{
	struct tb_req r = {.method = TURN_M_CONNBIND, .has_connid = true,
			   .connid = connid};
	uint8_t req[TB_MSG_MAX], tid[TURN_TID_LEN];
	size_t len;
	int fd, err;

	err = req_encode(t, &r, req, &len, tid);
	if (err)
		return err;
	err = tb_tcp_connect(&fd, &t->o->server);
	if (err)
		return err;
	err = tb_write_full(fd, req, len);
	if (err) {
		close(fd);
		return err;
	}
	*fdp = fd;
	return 0;
}


/** The other half: the ConnectionBind answer on a data connection */
int tb_turn_bind_recv(int fd)
{
	struct tb_msg resp;
	int err = tb_msg_read(fd, &resp);

	if (err)
		return err;
	if (resp.m.method != TURN_M_CONNBIND || resp.m.cls != TURN_C_SUCCESS)
		return EPROTO;
	return 0;
}


/** Wait for a ConnectionAttempt indication on the control connection */
int tb_turn_attempt_wait(struct tb_turn *t, uint32_t *connid,
			 struct sw_sa *peer)
{
	struct tb_msg ind;
	int err = tb_msg_read(t->fd, &ind);

	if (err)
		return err;
	if (ind.m.method != TURN_M_CONNATTEMPT ||
	    ind.m.cls != TURN_C_INDICATION) {
		fprintf(stderr, "turnbench: unexpected %s %s instead of a "
			"ConnectionAttempt\n", turn_method_name(ind.m.method),
			turn_class_name(ind.m.cls));
		return EPROTO;
	}
	err = turn_msg_get_u32(&ind.m, TURN_A_CONNECTION_ID, connid);
	if (!err && peer)
		err = turn_msg_get_xaddr(&ind.m, TURN_A_XOR_PEER_ADDRESS, peer);
	return err;
}
