"""RFC 6062 TURN-TCP client: what CMS does toward its TURN server.

One TCP control connection carries Allocate (REQUESTED-TRANSPORT=6), Refresh,
CreatePermission, Connect and receives ConnectionAttempt indications. Every
peer connection gets a NEW TCP connection to the server on which the client
sends ConnectionBind; after its success that socket carries raw peer bytes
and is handed back as a :class:`~harness.netio.StreamConn` (with any bytes
that followed the success response already in its buffer).

Long-term credentials: the first request goes without credentials, the 401
gives REALM and NONCE, the request is repeated with USERNAME, REALM, NONCE
and MESSAGE-INTEGRITY (key MD5(user:realm:pass)). A 438 Stale Nonce is
retried once with the new NONCE. Every request/response/indication is
recorded on a :class:`~harness.timeline.Timeline` (actor ``CMS`` for what
the client sends, ``TURN`` for what the server sends, by default).

CLI (manual use)::

    python3 -m harness.turnclient --server 127.0.0.1:3478 -u cms -w secret \\
        --permit 127.0.0.2 --accept --echo 10
"""

from __future__ import annotations

import argparse
import ssl
import sys
import time
from dataclasses import dataclass
from typing import Callable, Iterable

from .netio import (Addr, HarnessTimeout, PeerClosed, StreamConn, connect_tcp,
                    fmt_addr, parse_addr)
from .stun import (Attr, Cls, Method, StunError, StunMessage, TRANSPORT_TCP,
                   long_term_key)
from .timeline import Timeline


class TurnError(Exception):
    """The server answered with an error (``code``) or misbehaved."""

    def __init__(self, text: str, code: int | None = None) -> None:
        super().__init__(text)
        self.code = code


@dataclass(frozen=True)
class Allocation:
    """Result of a successful Allocate."""
    relayed: Addr
    mapped: Addr | None
    lifetime: int


@dataclass(frozen=True)
class ConnectionAttempt:
    """A ConnectionAttempt indication: a peer connected to the relay."""
    connection_id: int
    peer: Addr
    t: float


class TurnTcpClient:
    """An RFC 6062 client with long-term credentials; every wait is bounded
    by ``timeout`` seconds unless a call says otherwise."""

    def __init__(self, server: Addr, username: str, password: str, *,
                 bind_ip: str | None = None, timeout: float = 5.0,
                 timeline: Timeline | None = None, actor: str = "CMS",
                 server_actor: str = "TURN", fingerprint: bool = False,
                 software: str | None = None, tls: ssl.SSLContext | None = None) -> None:
        self.server = server
        self.username = username
        self.password = password
        self.bind_ip = bind_ip
        self.timeout = timeout
        self.timeline = timeline if timeline is not None else Timeline()
        self.actor = actor
        self.server_actor = server_actor
        self.fingerprint = fingerprint
        self.software = software
        self.tls = tls            # TURN over TLS: control and data connections
        self.realm: str | None = None
        self.nonce: str | None = None
        self.ctrl: StreamConn | None = None
        self.allocation: Allocation | None = None
        self.attempts: list[ConnectionAttempt] = []
        self.data_conns: list[StreamConn] = []

    # -- plumbing ------------------------------------------------------------
    def _log(self, actor: str, msg: StunMessage, detail: str = "") -> None:
        self.timeline.add(actor, msg.summary(), detail)

    def _key(self) -> bytes:
        if self.realm is None:
            raise TurnError("no REALM yet: cannot compute the long-term key")
        return long_term_key(self.username, self.realm, self.password)

    def _finish(self, msg: StunMessage) -> bytes:
        """Add credentials (when known), SOFTWARE, MI and FINGERPRINT."""
        if self.software:
            msg.add_text(Attr.SOFTWARE, self.software)
        key = None
        if self.nonce is not None:
            msg.add_text(Attr.USERNAME, self.username)
            msg.add_text(Attr.REALM, self.realm or "")
            msg.add_text(Attr.NONCE, self.nonce)
            key = self._key()
        return msg.encode(key=key, fingerprint=self.fingerprint)

    def _read_msg(self, conn: StreamConn, timeout: float, what: str) -> StunMessage:
        raw = conn.read_stun_bytes(timeout, what)
        try:
            return StunMessage.decode(raw)
        except StunError as exc:
            raise TurnError(f"bad STUN from server on {conn.describe()}: {exc}") from exc

    def _on_indication(self, msg: StunMessage) -> None:
        """Queue ConnectionAttempt; log anything else."""
        if msg.is_(Method.CONNECTION_ATTEMPT, Cls.INDICATION):
            att = ConnectionAttempt(msg.u32(Attr.CONNECTION_ID),
                                    msg.address(Attr.XOR_PEER_ADDRESS),
                                    time.monotonic())
            self.attempts.append(att)
            self._log(self.server_actor, msg, f"CONNECTION-ID {att.connection_id} "
                      f"XOR-PEER-ADDRESS {fmt_addr(att.peer)}")
        else:
            self._log(self.server_actor, msg, "(ignored)")

    def _await_response(self, conn: StreamConn, req: StunMessage,
                        what: str) -> StunMessage:
        """Read until the response to ``req``; indications are dispatched."""
        deadline = time.monotonic() + self.timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise HarnessTimeout(f"no {what} response within {self.timeout:g} s "
                                     f"on {conn.name} {conn.describe()}")
            msg = self._read_msg(conn, left, f"{what} response")
            if msg.cls == Cls.INDICATION:
                self._on_indication(msg)
            elif msg.tid == req.tid:
                return msg
            else:
                self._log(self.server_actor, msg, "(unexpected transaction, ignored)")

    def _verify(self, resp: StunMessage) -> str:
        """Check MI of a response when present; returns a note for the log."""
        if not resp.has(Attr.MESSAGE_INTEGRITY) or self.realm is None:
            return ""
        style = resp.check_integrity(self._key())
        if style is None:
            raise TurnError(f"{resp.summary()}: MESSAGE-INTEGRITY does not verify")
        return "MI ok"

    def _transact(self, conn: StreamConn, build: Callable[[], StunMessage],
                  what: str, detail: str = "") -> StunMessage:
        """Send a request built by ``build`` (fresh each try), handle 401 and
        438 by retrying with the new REALM/NONCE, return the success."""
        for _ in range(3):
            req = build()
            conn.sendall(self._finish(req), self.timeout)
            auth = f" user {self.username} realm {self.realm}" if self.nonce else ""
            self._log(self.actor, req, (detail + auth).strip())
            resp = self._await_response(conn, req, what)
            if resp.cls == Cls.SUCCESS:
                self._log(self.server_actor, resp, self._verify(resp))
                return resp
            err = resp.error_code() or (0, "no ERROR-CODE")
            self._log(self.server_actor, resp, self._error_detail(resp))
            if not self._can_retry(resp, err[0]):
                raise TurnError(f"{what}: server answered {err[0]} {err[1]} on "
                                f"{conn.name} {conn.describe()}", err[0])
        raise TurnError(f"{what}: still unauthorized after retries on {conn.describe()}", 401)

    @staticmethod
    def _error_detail(resp: StunMessage) -> str:
        parts = []
        if resp.has(Attr.REALM):
            parts.append(f"realm {resp.text(Attr.REALM)}")
        if resp.has(Attr.NONCE):
            parts.append(f"nonce {resp.text(Attr.NONCE)}")
        return " ".join(parts)

    def _can_retry(self, resp: StunMessage, code: int) -> bool:
        """401 (first time, or new nonce) and 438: adopt REALM/NONCE, retry."""
        if code not in (401, 438) or not resp.has(Attr.NONCE):
            return False
        nonce = resp.text(Attr.NONCE)
        if code == 401 and self.nonce is not None and nonce == self.nonce:
            return False                      # credentials refused
        if resp.has(Attr.REALM):
            self.realm = resp.text(Attr.REALM)
        self.nonce = nonce
        return self.realm is not None

    def _require_ctrl(self) -> StreamConn:
        if self.ctrl is None:
            raise TurnError("control connection not open: call connect() first")
        return self.ctrl

    # -- the API -----------------------------------------------------------------
    def connect(self) -> None:
        """Open the TCP control connection to the server."""
        bind = (self.bind_ip, 0) if self.bind_ip else None
        self.ctrl = connect_tcp(self.server, bind, self.timeout, "TURN control connection",
                                tls=self.tls)
        self.timeline.add(self.actor, "TCP connect (control)", self.ctrl.describe())

    def allocate(self, lifetime: int = 600) -> Allocation:
        """Allocate a TCP relay (REQUESTED-TRANSPORT=6, LIFETIME)."""
        if self.ctrl is None:
            self.connect()

        def build() -> StunMessage:
            return (StunMessage(Method.ALLOCATE, Cls.REQUEST)
                    .add(Attr.REQUESTED_TRANSPORT, bytes([TRANSPORT_TCP, 0, 0, 0]))
                    .add_u32(Attr.LIFETIME, lifetime))

        resp = self._transact(self._require_ctrl(), build, "Allocate",
                              f"TCP lifetime {lifetime}")
        mapped = None
        if resp.has(Attr.XOR_MAPPED_ADDRESS):
            mapped = resp.address(Attr.XOR_MAPPED_ADDRESS)
        self.allocation = Allocation(resp.address(Attr.XOR_RELAYED_ADDRESS), mapped,
                                     resp.u32(Attr.LIFETIME) if resp.has(Attr.LIFETIME) else 0)
        self.timeline.add(self.actor, "relayed address",
                          f"{fmt_addr(self.allocation.relayed)} mapped "
                          f"{fmt_addr(mapped)} lifetime {self.allocation.lifetime}")
        return self.allocation

    def refresh(self, lifetime: int = 600) -> int:
        """Refresh the allocation; returns the granted LIFETIME."""
        def build() -> StunMessage:
            return StunMessage(Method.REFRESH, Cls.REQUEST).add_u32(Attr.LIFETIME, lifetime)

        resp = self._transact(self._require_ctrl(), build, "Refresh", f"lifetime {lifetime}")
        return resp.u32(Attr.LIFETIME) if resp.has(Attr.LIFETIME) else 0

    def create_permission(self, peers: Iterable[str]) -> None:
        """One CreatePermission carrying an XOR-PEER-ADDRESS per peer IP."""
        ips = list(peers)
        if not ips:
            raise ValueError("create_permission needs at least one peer IP")

        def build() -> StunMessage:
            msg = StunMessage(Method.CREATE_PERMISSION, Cls.REQUEST)
            for ip in ips:
                msg.add_address(Attr.XOR_PEER_ADDRESS, (ip, 0))
            return msg

        self._transact(self._require_ctrl(), build, "CreatePermission", " ".join(ips))

    def connect_peer(self, peer: Addr) -> int:
        """Connect (client-initiated): the server opens a TCP connection from
        the relayed address to ``peer``; returns the CONNECTION-ID."""
        def build() -> StunMessage:
            return StunMessage(Method.CONNECT, Cls.REQUEST).add_address(Attr.XOR_PEER_ADDRESS, peer)

        resp = self._transact(self._require_ctrl(), build, "Connect", fmt_addr(peer))
        return resp.u32(Attr.CONNECTION_ID)

    def wait_connection_attempt(self, timeout: float | None = None) -> ConnectionAttempt:
        """The next ConnectionAttempt indication (queued ones first)."""
        limit = self.timeout if timeout is None else timeout
        ctrl = self._require_ctrl()
        deadline = time.monotonic() + limit
        while not self.attempts:
            left = deadline - time.monotonic()
            if left <= 0:
                raise HarnessTimeout(f"no ConnectionAttempt within {limit:g} s on "
                                     f"control connection {ctrl.describe()}")
            try:
                msg = self._read_msg(ctrl, left, "ConnectionAttempt")
            except HarnessTimeout:
                continue
            if msg.cls == Cls.INDICATION:
                self._on_indication(msg)
            else:
                self._log(self.server_actor, msg, "(unexpected, ignored)")
        return self.attempts.pop(0)

    def connection_bind(self, connection_id: int) -> StreamConn:
        """New TCP connection to the server + ConnectionBind; on success the
        returned connection carries the peer's raw bytes. A 438 (or a 401
        with a new nonce) is retried once on a fresh connection."""
        for attempt in range(2):
            conn = self._open_data_conn()
            try:
                self._bind_on(conn, connection_id)
            except TurnError as exc:
                conn.close()
                if exc.code != 438 or attempt:
                    raise
                continue
            self.data_conns.append(conn)
            return conn
        raise TurnError(f"ConnectionBind of {connection_id} failed twice")

    def _open_data_conn(self) -> StreamConn:
        bind = (self.bind_ip, 0) if self.bind_ip else None
        conn = connect_tcp(self.server, bind, self.timeout, "TURN data connection",
                           tls=self.tls)
        self.timeline.add(self.actor, "TCP connect (data)", conn.describe())
        return conn

    def _bind_on(self, conn: StreamConn, connection_id: int) -> None:
        """One ConnectionBind transaction on ``conn``; an error response
        adopts a new NONCE if it carries one and raises TurnError(code)."""
        req = StunMessage(Method.CONNECTION_BIND, Cls.REQUEST).add_u32(
            Attr.CONNECTION_ID, connection_id)
        conn.sendall(self._finish(req), self.timeout)
        self._log(self.actor, req, f"CONNECTION-ID {connection_id} on {conn.describe()}")
        try:
            resp = self._read_msg(conn, self.timeout, "ConnectionBind response")
        except PeerClosed as exc:
            # coturn 4.6.1 does this on a stale nonce (no 438 is sent)
            raise TurnError(f"ConnectionBind: server closed {conn.describe()} "
                            "without a response") from exc
        if resp.tid != req.tid:
            raise TurnError(f"ConnectionBind: response with another transaction "
                            f"ID on {conn.describe()}")
        if resp.cls == Cls.SUCCESS:
            self._log(self.server_actor, resp, self._verify(resp))
            return
        err = resp.error_code() or (0, "no ERROR-CODE")
        self._log(self.server_actor, resp, self._error_detail(resp))
        code = 438 if self._can_retry(resp, err[0]) else err[0]
        raise TurnError(f"ConnectionBind: server answered {err[0]} {err[1]} "
                        f"on {conn.describe()}", code)

    def accept_peer(self, timeout: float | None = None) -> tuple[ConnectionAttempt, StreamConn]:
        """Wait for a ConnectionAttempt and bind it: (attempt, data conn)."""
        att = self.wait_connection_attempt(timeout)
        return att, self.connection_bind(att.connection_id)

    def open_to_peer(self, peer: Addr) -> StreamConn:
        """Connect to ``peer`` through the relay and bind: the data conn."""
        return self.connection_bind(self.connect_peer(peer))

    def close(self, release: bool = True) -> None:
        """Refresh with LIFETIME 0 (if ``release`` and allocated), then close
        every connection. Errors of the final Refresh propagate."""
        try:
            if release and self.allocation is not None and self.ctrl is not None:
                self.refresh(0)
                self.allocation = None
        finally:
            for conn in self.data_conns:
                conn.close()
            self.data_conns.clear()
            if self.ctrl is not None:
                self.ctrl.close()
                self.ctrl = None


# -- CLI ---------------------------------------------------------------------------

def _echo(conn: StreamConn, seconds: float, tl: Timeline) -> None:
    """Echo raw bytes back until the peer closes or ``seconds`` pass."""
    total = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not conn.eof:
        readable, _ = conn.wait(False, deadline - time.monotonic())
        if readable and conn.try_recv():
            data = bytes(conn.rx)
            conn.rx.clear()
            total += len(data)
            conn.sendall(data)
    tl.add("CMS", "echo finished", f"{total} bytes echoed")


def main(argv: list[str] | None = None) -> int:
    """Allocate on a TURN server, optionally accept/connect a peer and echo."""
    ap = argparse.ArgumentParser(prog="python3 -m harness.turnclient",
                                 description="RFC 6062 TURN-TCP client (CMS side)")
    ap.add_argument("--server", required=True, help="TURN server ip:port")
    ap.add_argument("-u", "--user", required=True)
    ap.add_argument("-w", "--password", required=True)
    ap.add_argument("--bind-ip", help="local IP of every connection")
    ap.add_argument("--lifetime", type=int, default=600)
    ap.add_argument("--permit", action="append", default=[], help="peer IP (repeatable)")
    ap.add_argument("--accept", action="store_true", help="wait for a ConnectionAttempt and bind")
    ap.add_argument("--connect", help="Connect to this peer ip:port and bind")
    ap.add_argument("--echo", type=float, default=0.0, metavar="SECONDS",
                    help="echo bytes on the data connection for this long")
    ap.add_argument("--wait", type=float, default=30.0, help="ConnectionAttempt wait (s)")
    ap.add_argument("--timeout", type=float, default=5.0)
    args = ap.parse_args(argv)
    cli = TurnTcpClient(parse_addr(args.server), args.user, args.password,
                        bind_ip=args.bind_ip, timeout=args.timeout)
    try:
        alloc = cli.allocate(args.lifetime)
        print(f"relayed {fmt_addr(alloc.relayed)}", flush=True)
        cli.refresh(args.lifetime)
        if args.permit:
            cli.create_permission(args.permit)
        conn = None
        if args.accept:
            _, conn = cli.accept_peer(args.wait)
        elif args.connect:
            conn = cli.open_to_peer(parse_addr(args.connect))
        if conn is not None and args.echo > 0:
            _echo(conn, args.echo, cli.timeline)
        cli.close()
    except (TurnError, OSError, StunError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        print(cli.timeline.format(), file=sys.stderr)
        return 1
    print(cli.timeline.format())
    return 0


if __name__ == "__main__":
    sys.exit(main())
