"""An MS-ICE2 ICE-TCP agent on one TCP connection, RFC 4571 framed.

The agent plays one end of a candidate pair whose TCP connection already
exists (or that it connects/accepts through :mod:`harness.netio`):

* it sends Binding requests in the libnice OC2007R2 layout (libnice
  stun/usages/ice.c; MS-ICE2 2.2.2): [USE-CANDIDATE], PRIORITY,
  ICE-CONTROLLING/-CONTROLLED (tie-breaker), USERNAME ``remote:local``
  NUL-padded, CANDIDATE-IDENTIFIER (foundation, NUL-padded),
  IMPLEMENTATION-VERSION 2, MESSAGE-INTEGRITY (key = the remote ice-pwd),
  FINGERPRINT. A request is retransmitted with
  the same transaction ID every ``retransmit_interval`` s until answered
  (data sent to a TURN relay before the client's ConnectionBind may be
  lost, as coturn does). The controlling agent nominates with USE-CANDIDATE
  in a later, separate request (regular nomination), or on every check
  (``aggressive=True``); ``nominate=False`` holds the nomination until
  the attribute is set true (from any thread), which no real agent does.
* MI style: RFC 5389 by default. Real MS-ICE2 peers with
  IMPLEMENTATION-VERSION 2 use the RFC 3489bis-02 variant
  (``mi_style=MI_MSICE2``): length field including FINGERPRINT, HMAC input
  zero-padded to 64 bytes. Incoming messages are accepted in either style.
* ``legacy_duplicate``: every request and response is sent twice with the
  same transaction ID, the second copy with the MS legacy-CRC FINGERPRINT,
  until a message with IMPLEMENTATION-VERSION arrives (like libnice).
* It answers incoming checks after verifying USERNAME, MI (own pwd) and
  FINGERPRINT: ``respond="ok"`` (success: XOR-MAPPED-ADDRESS, USERNAME
  echoed, IMPLEMENTATION-VERSION, MI with own pwd, FINGERPRINT), ``"none"``
  (never answers: a one-way failure), ``"error"`` (``error`` code).
* It reports per direction (:class:`IceReport`): requests sent/seen,
  success responses seen/sent, nomination.
* :meth:`IceAgent.exchange_data` then sends and receives RTP packets
  (12-byte header, PT 127 x-data, consecutive sequence numbers) framed by
  RFC 4571, with a deterministic payload (SHA-256 counter stream), verifying
  every byte and the SHA-256 of the whole stream.

CLI: ``python3 -m harness.iceagent --help``.
"""

from __future__ import annotations

import argparse
import hashlib
import secrets
import struct
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from .netio import (Addr, HarnessTimeout, StreamConn, accept_conn, connect_tcp,
                    fmt_addr, listen_tcp, parse_addr)
from .sdp import ms_priority
from .stun import (MI_MSICE2, MI_RFC5389, Attr, Cls, FrameReader, Method,
                   StunError, StunMessage, frame, looks_like_rtp,
                   looks_like_stun)
from .timeline import Timeline

IMPLEMENTATION_VERSION = 2
RTP_PT_XDATA = 127
RTP_HEADER = struct.Struct("!BBHII")
DEFAULT_PRIORITY = ms_priority(110, "TCP-ACT", 1, other=3)   # 0x6E6A03FF


class IceCheckFailed(AssertionError):
    """Connectivity checks did not succeed in both directions."""


class DataCorrupted(AssertionError):
    """The application data did not arrive complete and intact."""


@dataclass(frozen=True)
class Credentials:
    """ICE ufrag + pwd (from ``a=ice-ufrag`` / ``a=ice-pwd``)."""
    ufrag: str
    pwd: str

    @classmethod
    def parse(cls, text: str) -> "Credentials":
        """``"ufrag:pwd"``."""
        ufrag, sep, pwd = text.partition(":")
        if not sep or not ufrag or not pwd:
            raise ValueError(f"credentials {text!r} are not ufrag:pwd")
        return cls(ufrag, pwd)

    @classmethod
    def random(cls) -> "Credentials":
        """4-char ufrag, 24-char pwd (base64-ish, like Lync)."""
        return cls(_random_token(4), _random_token(24))


def _random_token(n: int) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    return "".join(secrets.choice(alphabet) for _ in range(n))


# -- message builders (also used by the codec self-test) -----------------------

def build_check_request(*, local_ufrag: str, remote_ufrag: str, remote_pwd: str,
                        priority: int, controlling: bool, tiebreaker: int,
                        foundation: str = "1", use_candidate: bool = False,
                        mi_style: str = MI_RFC5389, tid: bytes | None = None,
                        legacy_fp: bool = False) -> StunMessage:
    """An MS-ICE2 Binding request in libnice's attribute order; ``.raw``
    holds the encoded bytes."""
    msg = StunMessage(Method.BINDING, Cls.REQUEST)
    if tid is not None:
        msg.tid = tid
    if use_candidate:
        msg.add(Attr.USE_CANDIDATE)
    msg.add_u32(Attr.PRIORITY, priority)
    msg.add_u64(Attr.ICE_CONTROLLING if controlling else Attr.ICE_CONTROLLED, tiebreaker)
    msg.add_text(Attr.USERNAME, f"{remote_ufrag}:{local_ufrag}", nul_pad=True)
    msg.add_text(Attr.CANDIDATE_IDENTIFIER, foundation, nul_pad=True)
    msg.add_u32(Attr.IMPLEMENTATION_VERSION, IMPLEMENTATION_VERSION)
    msg.encode(remote_pwd.encode(), fingerprint=True, mi_style=mi_style,
               legacy_fp=legacy_fp)
    return msg


def build_check_response(request: StunMessage, *, mapped: Addr, local_pwd: str,
                         mi_style: str = MI_RFC5389,
                         legacy_fp: bool = False) -> StunMessage:
    """Binding success: XOR-MAPPED-ADDRESS, USERNAME echoed (raw, padding
    included), IMPLEMENTATION-VERSION, MI (own pwd), FINGERPRINT."""
    msg = StunMessage(Method.BINDING, Cls.SUCCESS, request.tid)
    msg.add_address(Attr.XOR_MAPPED_ADDRESS, mapped)
    user = request.get(Attr.USERNAME)
    if user is not None:
        msg.add(Attr.USERNAME, user)
    msg.add_u32(Attr.IMPLEMENTATION_VERSION, IMPLEMENTATION_VERSION)
    msg.encode(local_pwd.encode(), fingerprint=True, mi_style=mi_style,
               legacy_fp=legacy_fp)
    return msg


def build_check_error(request: StunMessage, code: int, reason: str, *,
                      local_pwd: str | None, mi_style: str = MI_RFC5389) -> StunMessage:
    """Binding error response (MI only when ``local_pwd`` is given: not for
    401, whose request could not be authenticated)."""
    msg = StunMessage(Method.BINDING, Cls.ERROR, request.tid)
    msg.add_error(code, reason)
    msg.add_u32(Attr.IMPLEMENTATION_VERSION, IMPLEMENTATION_VERSION)
    key = local_pwd.encode() if local_pwd is not None else None
    msg.encode(key, fingerprint=True, mi_style=mi_style)
    return msg


# -- reports -------------------------------------------------------------------

@dataclass
class OutboundChecks:
    """This agent's checks toward the peer."""
    requests_sent: int = 0          # messages on the wire (copies included)
    transactions: int = 0
    successes: int = 0              # transactions answered with a valid success
    errors: list[int] = field(default_factory=list)
    bad_responses: int = 0          # MI/FINGERPRINT did not verify
    nominated: bool = False
    mapped: Addr | None = None
    first_request_t: float | None = None
    first_success_t: float | None = None


@dataclass
class InboundChecks:
    """The peer's checks toward this agent."""
    requests: int = 0               # valid transactions
    copies: int = 0                 # request messages (duplicates included)
    successes_sent: int = 0
    errors_sent: int = 0
    unanswered: int = 0
    bad_requests: list[str] = field(default_factory=list)
    use_candidate: bool = False
    roles: set[str] = field(default_factory=set)
    mi_styles: set[str] = field(default_factory=set)
    fp_styles: set[str] = field(default_factory=set)
    candidate_ids: set[str] = field(default_factory=set)
    first_request_t: float | None = None


@dataclass
class IceReport:
    """Per-direction result of :meth:`IceAgent.run_checks`."""
    name: str
    peer: str
    controlling: bool
    outbound: OutboundChecks
    inbound: InboundChecks
    complete: bool
    seconds: float

    @property
    def outbound_ok(self) -> bool:
        return self.outbound.successes > 0

    @property
    def inbound_ok(self) -> bool:
        return self.inbound.requests > 0 and self.inbound.successes_sent > 0

    @property
    def failed_directions(self) -> list[str]:
        """``["Edge→CMS"]``-style list of directions without request+success."""
        out = []
        if not self.outbound_ok:
            out.append(f"{self.name}→{self.peer}")
        if not self.inbound_ok:
            out.append(f"{self.peer}→{self.name}")
        return out

    def describe(self) -> str:
        o, i = self.outbound, self.inbound
        nom = ("nominated" if o.nominated else "not nominated") if self.controlling \
            else f"USE-CANDIDATE {'seen' if i.use_candidate else 'not seen'}"
        errs = f", errors {o.errors}" if o.errors else ""
        lines = [
            f"{self.name} ({'controlling' if self.controlling else 'controlled'}), "
            f"{'complete' if self.complete else 'INCOMPLETE'} after {self.seconds:.2f} s, {nom}",
            f"  {self.name}→{self.peer}: {o.requests_sent} request(s) sent in "
            f"{o.transactions} transaction(s), {o.successes} success response(s) "
            f"received{errs}" + ("" if self.outbound_ok else "  <-- NO SUCCESS"),
            f"  {self.peer}→{self.name}: {i.requests} request(s) received "
            f"({i.copies} copies), {i.successes_sent} success response(s) sent, "
            f"{i.errors_sent} error(s) sent, {i.unanswered} unanswered"
            + ("" if self.inbound_ok else "  <-- NO REQUEST+SUCCESS"),
        ]
        if i.bad_requests:
            lines.append(f"  rejected requests: {i.bad_requests}")
        return "\n".join(lines)

    def require_complete(self) -> None:
        """Raise IceCheckFailed (with the per-direction report) if incomplete."""
        if not self.complete:
            failed = ", ".join(self.failed_directions) or "no nomination"
            raise IceCheckFailed(f"ICE checks failed ({failed})\n{self.describe()}")


@dataclass
class DataReport:
    """Result of :meth:`IceAgent.exchange_data`."""
    sent_bytes: int = 0
    sent_packets: int = 0
    sent_sha256: str = ""
    received_bytes: int = 0
    received_packets: int = 0
    received_sha256: str = ""
    expected_bytes: int = 0
    expected_sha256: str = ""
    first_mismatch: int | None = None
    seq_errors: int = 0
    bad_packets: int = 0
    stun_frames: int = 0
    seconds: float = 0.0

    @property
    def intact(self) -> bool:
        return (self.received_bytes == self.expected_bytes
                and self.received_sha256 == self.expected_sha256
                and self.first_mismatch is None and self.seq_errors == 0
                and self.bad_packets == 0)

    def describe(self) -> str:
        rate = (self.sent_bytes + self.received_bytes) / self.seconds / 1e6 if self.seconds else 0
        state = "intact" if self.intact else "NOT INTACT"
        mism = ("" if self.first_mismatch is None
                else f", first mismatch at byte {self.first_mismatch}")
        return (f"sent {self.sent_bytes} B in {self.sent_packets} RTP packets "
                f"(sha256 {self.sent_sha256[:16]}…), received {self.received_bytes}/"
                f"{self.expected_bytes} B in {self.received_packets} packets (sha256 "
                f"{self.received_sha256[:16]}…, expected {self.expected_sha256[:16]}…) "
                f"{state}{mism}, seq errors {self.seq_errors}, bad packets "
                f"{self.bad_packets}, {self.seconds:.2f} s, {rate:.1f} MB/s sent+received")

    def require_intact(self) -> None:
        if not self.intact:
            raise DataCorrupted(self.describe())


class PayloadStream:
    """Deterministic bytes: SHA-256(seed || counter) blocks, concatenated."""

    def __init__(self, seed: bytes) -> None:
        self.seed = seed
        self.counter = 0
        self.buf = bytearray()

    def read(self, n: int) -> bytes:
        while len(self.buf) < n:
            self.buf += hashlib.sha256(self.seed + self.counter.to_bytes(8, "big")).digest()
            self.counter += 1
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out


def stream_sha256(seed: bytes, nbytes: int) -> str:
    """SHA-256 (hex) of the first ``nbytes`` of PayloadStream(seed)."""
    h = hashlib.sha256()
    ps = PayloadStream(seed)
    left = nbytes
    while left:
        chunk = ps.read(min(left, 65536))
        h.update(chunk)
        left -= len(chunk)
    return h.hexdigest()


@dataclass
class _Txn:
    """One outgoing check transaction."""
    msg: StunMessage
    copies: list[bytes]
    nominating: bool
    sends: int = 0
    last: float = 0.0
    answered: bool = False


class IceAgent:
    """One end of an MS-ICE2 ICE-TCP candidate pair on ``conn``."""

    def __init__(self, conn: StreamConn, *, controlling: bool,
                 local: Credentials, remote: Credentials, name: str = "agent",
                 peer_name: str = "peer", foundation: str = "1",
                 priority: int = DEFAULT_PRIORITY, tiebreaker: int | None = None,
                 nominate: bool = True, aggressive: bool = False,
                 expect_nomination: bool = True,
                 respond: str = "ok", error: tuple[int, str] = (400, "Bad Request"),
                 legacy_duplicate: bool = False, mi_style: str = MI_RFC5389,
                 retransmit_interval: float = 0.5, max_sends: int = 40,
                 timeline: Timeline | None = None) -> None:
        if respond not in ("ok", "none", "error"):
            raise ValueError(f"respond must be ok, none or error, not {respond!r}")
        self.conn = conn
        self.controlling = controlling
        self.local = local
        self.remote = remote
        self.name = name
        self.peer_name = peer_name
        self.foundation = foundation
        self.priority = priority
        self.tiebreaker = secrets.randbits(64) if tiebreaker is None else tiebreaker
        self.nominate = nominate
        self.aggressive = aggressive
        self.expect_nomination = expect_nomination
        self.respond = respond
        self.error = error
        self.legacy_duplicate = legacy_duplicate
        self.mi_style = mi_style
        self.retransmit_interval = retransmit_interval
        self.max_sends = max_sends
        self.timeline = timeline if timeline is not None else Timeline()
        self.out = OutboundChecks()
        self.inb = InboundChecks()
        self._txns: dict[bytes, _Txn] = {}
        self._seen_tids: set[bytes] = set()
        self._peer_speaks_v2 = False
        self._early_rtp: list[bytes] = []
        self._rtp_sink: Callable[[bytes], None] | None = None

    # -- public API ------------------------------------------------------------
    def run_checks(self, timeout: float = 10.0) -> IceReport:
        """Check until both directions succeeded (and nomination happened) or
        ``timeout`` passes; never raises on failure: read the report."""
        t0 = time.monotonic()
        self._loop(t0 + timeout, self._checks_done, self._check_timers,
                   self._next_timer)
        return IceReport(self.name, self.peer_name, self.controlling, self.out,
                         self.inb, self._checks_done(), time.monotonic() - t0)

    def serve(self, seconds: float) -> None:
        """Keep answering checks (and queueing data) for ``seconds``."""
        self._loop(time.monotonic() + seconds, lambda: False)

    def send_keepalive(self) -> None:
        """A Binding indication with FINGERPRINT (like CMS's keepalive)."""
        msg = StunMessage(Method.BINDING, Cls.INDICATION)
        self.conn.sendall(frame(msg.encode(fingerprint=True)))
        self.timeline.add(self.name, msg.summary(), f"→ {self.peer_name}")

    def exchange_data(self, send_bytes: int, recv_bytes: int, *,
                      timeout: float = 30.0, payload_size: int = 1200,
                      send_seed: bytes | None = None,
                      recv_seed: bytes | None = None) -> DataReport:
        """Send ``send_bytes`` and receive ``recv_bytes`` of RTP payload at
        once; verify each byte against the peer's deterministic stream.
        Seeds default to ``b"<sender ufrag>><receiver ufrag>"``."""
        if not 0 < payload_size <= 65535 - RTP_HEADER.size:
            raise ValueError(f"bad payload size {payload_size}")
        send_seed = send_seed or f"{self.local.ufrag}>{self.remote.ufrag}".encode()
        recv_seed = recv_seed or f"{self.remote.ufrag}>{self.local.ufrag}".encode()
        tx = _RtpSender(PayloadStream(send_seed), send_bytes, payload_size)
        rx = _RtpReceiver(PayloadStream(recv_seed), recv_bytes)
        self.timeline.add(self.name, "data start", f"send {send_bytes} B, expect {recv_bytes} B")
        t0 = time.monotonic()

        def sink(pkt: bytes) -> None:
            if rx.received < recv_bytes:
                rx.feed(pkt)
            else:                       # beyond this exchange: keep for the next
                self._early_rtp.append(pkt)

        self._rtp_sink = sink
        early, self._early_rtp = self._early_rtp, []
        for pkt in early:
            sink(pkt)

        def tick() -> None:
            while len(self.conn.tx) < 262144 and not tx.finished:
                self.conn.tx += frame(tx.next_packet())

        def done() -> bool:
            return tx.finished and not self.conn.tx and rx.received >= recv_bytes

        stun_before = self.inb.copies
        try:
            self._loop(t0 + timeout, done, tick)
        finally:
            self._rtp_sink = None
        rep = rx.report(tx)
        rep.stun_frames = self.inb.copies - stun_before
        rep.seconds = time.monotonic() - t0
        rep.expected_sha256 = stream_sha256(recv_seed, recv_bytes)
        self.timeline.add(self.name, "data end", rep.describe())
        return rep

    def exchange_data_sequential(self, send_bytes: int, recv_bytes: int, *,
                                 send_first: bool, timeout: float = 30.0,
                                 payload_size: int = 1200) -> DataReport:
        """Half duplex: send everything, then receive everything (or the
        reverse); the peer must use the opposite order. One combined report.
        (coturn 4.6.1 can stall one direction of a TCP relay when both
        carry bulk data at once; sharewayd should be tested full duplex.)"""
        phases = [(send_bytes, 0), (0, recv_bytes)]
        if not send_first:
            phases.reverse()
        reps = [self.exchange_data(s, r, timeout=timeout, payload_size=payload_size)
                for s, r in phases]
        snd, rcv = (reps[0], reps[1]) if send_first else (reps[1], reps[0])
        rcv.sent_bytes, rcv.sent_packets, rcv.sent_sha256 = (
            snd.sent_bytes, snd.sent_packets, snd.sent_sha256)
        rcv.stun_frames += snd.stun_frames
        rcv.seconds += snd.seconds
        return rcv

    def close(self) -> None:
        self.conn.close()

    # -- event loop ----------------------------------------------------------------
    def _loop(self, deadline: float, done: Callable[[], bool],
              tick: Callable[[], None] | None = None,
              next_timer: Callable[[float], float] | None = None) -> None:
        """Read/write ``conn`` until ``done()`` with nothing left to send, or
        the deadline, or EOF. ``tick`` runs each turn; ``next_timer(now)``
        bounds the wait so that ``tick`` can run timers."""
        while True:
            if tick is not None:
                tick()
            if done() and not self.conn.tx:
                return
            now = time.monotonic()
            if now >= deadline or self.conn.eof:
                if self.conn.eof:
                    self.timeline.add(self.name, "connection closed by peer",
                                      self.conn.describe())
                return
            wait = deadline - now
            if next_timer is not None:
                wait = min(wait, next_timer(now))
            readable, writable = self.conn.wait(bool(self.conn.tx), wait)
            if writable:
                self.conn.try_send()
            if readable:
                self.conn.try_recv()
                for payload in FrameReader.take(self.conn.rx):
                    self._on_frame(payload)

    def _next_timer(self, now: float) -> float:
        """Seconds until the next retransmission is due (1 s when none)."""
        due = [t.last + self.retransmit_interval - now for t in self._txns.values()
               if not t.answered and t.sends < self.max_sends]
        return max(0.0, min(due, default=1.0))

    def _on_frame(self, payload: bytes) -> None:
        if looks_like_stun(payload):
            try:
                self._on_stun(StunMessage.decode(payload))
            except StunError as exc:
                self.timeline.add(self.name, "received bad STUN", str(exc))
        elif looks_like_rtp(payload):
            if self._rtp_sink is not None:
                self._rtp_sink(payload)
            else:
                self._early_rtp.append(payload)
        else:
            self.timeline.add(self.name, "received unknown frame",
                              f"{len(payload)} B, first byte 0x{payload[:1].hex()}")

    def _on_stun(self, msg: StunMessage) -> None:
        if msg.has(Attr.IMPLEMENTATION_VERSION):
            self._peer_speaks_v2 = True
        if msg.method != Method.BINDING:
            self.timeline.add(self.name, f"received {msg.summary()}", "(ignored)")
        elif msg.cls == Cls.REQUEST:
            self._on_request(msg)
        elif msg.cls in (Cls.SUCCESS, Cls.ERROR):
            self._on_response(msg)
        else:
            self.timeline.add(self.name, f"received {msg.summary()}", f"from {self.peer_name}")

    # -- inbound checks ----------------------------------------------------------------
    def _validate(self, msg: StunMessage) -> str | None:
        """None if USERNAME, MI and FINGERPRINT are right, else the problem."""
        if not msg.has(Attr.USERNAME):
            return "no USERNAME"
        want = f"{self.local.ufrag}:{self.remote.ufrag}"
        if msg.text(Attr.USERNAME) != want:
            return f"USERNAME {msg.text(Attr.USERNAME)!r}, expected {want!r}"
        style = msg.check_integrity(self.local.pwd.encode())
        if style is None:
            return "MESSAGE-INTEGRITY does not verify with the local ice-pwd"
        fp = msg.check_fingerprint()
        if msg.has(Attr.FINGERPRINT) and fp is None:
            return "FINGERPRINT does not verify"
        self.inb.mi_styles.add(style)
        if fp:
            self.inb.fp_styles.add(fp)
        return None

    def _on_request(self, msg: StunMessage) -> None:
        self.inb.copies += 1
        dup = msg.tid in self._seen_tids
        flags = _check_flags(msg)
        self.timeline.add(self.name, f"received {msg.summary()}",
                          f"from {self.peer_name} tid {msg.tid.hex()[:8]} {flags}"
                          + (" (duplicate)" if dup else ""))
        problem = self._validate(msg)
        if problem is not None:
            self.inb.bad_requests.append(problem)
            if self.respond != "none":
                self._send(build_check_error(msg, 401, "Unauthorized", local_pwd=None), "")
                self.inb.errors_sent += 1
            return
        if not dup:
            self._seen_tids.add(msg.tid)
            self.inb.requests += 1
            if self.inb.first_request_t is None:
                self.inb.first_request_t = time.monotonic()
        self.inb.roles.add("controlling" if msg.has(Attr.ICE_CONTROLLING) else
                           "controlled" if msg.has(Attr.ICE_CONTROLLED) else "none")
        if msg.has(Attr.CANDIDATE_IDENTIFIER):
            self.inb.candidate_ids.add(msg.text(Attr.CANDIDATE_IDENTIFIER))
        self._answer(msg)

    def _answer(self, msg: StunMessage) -> None:
        if self.respond == "none":
            self.inb.unanswered += 1
            self.timeline.add(self.name, "not answering Binding request", "(respond=none)")
            return
        if self.respond == "error":
            resp = build_check_error(msg, self.error[0], self.error[1],
                                     local_pwd=self.local.pwd, mi_style=self.mi_style)
            self.inb.errors_sent += 1
        else:
            mapped = self.conn.peer or ("0.0.0.0", 0)
            resp = build_check_response(msg, mapped=mapped, local_pwd=self.local.pwd,
                                        mi_style=self.mi_style)
            self.inb.successes_sent += 1
            if msg.has(Attr.USE_CANDIDATE):
                self.inb.use_candidate = True
        legacy = None
        if self._duplicating() and resp.cls == Cls.SUCCESS:
            legacy = build_check_response(msg, mapped=self.conn.peer or ("0.0.0.0", 0),
                                          local_pwd=self.local.pwd, mi_style=self.mi_style,
                                          legacy_fp=True).raw
        self._send(resp, f"tid {msg.tid.hex()[:8]}", legacy)

    # -- outbound checks ---------------------------------------------------------------
    def _duplicating(self) -> bool:
        return self.legacy_duplicate and not self._peer_speaks_v2

    def _check_timers(self) -> None:
        """Start the first check, retransmit unanswered ones, nominate."""
        now = time.monotonic()
        if not self._txns:
            self._start_check(nominating=self.controlling and self.nominate
                              and self.aggressive)
        if (self.controlling and self.nominate and self.out.successes
                and not any(t.nominating for t in self._txns.values())):
            self._start_check(nominating=True)
        for txn in self._txns.values():
            if (not txn.answered and txn.sends < self.max_sends
                    and now - txn.last >= self.retransmit_interval):
                self._transmit(txn)

    def _start_check(self, nominating: bool) -> None:
        kw = dict(local_ufrag=self.local.ufrag, remote_ufrag=self.remote.ufrag,
                  remote_pwd=self.remote.pwd, priority=self.priority,
                  controlling=self.controlling, tiebreaker=self.tiebreaker,
                  foundation=self.foundation, use_candidate=nominating,
                  mi_style=self.mi_style)
        msg = build_check_request(**kw)
        copies = [msg.raw]
        if self._duplicating():
            copies.append(build_check_request(tid=msg.tid, legacy_fp=True, **kw).raw)
        txn = _Txn(msg, copies, nominating)
        self._txns[msg.tid] = txn
        self.out.transactions += 1
        self._transmit(txn)

    def _transmit(self, txn: _Txn) -> None:
        flags = _check_flags(txn.msg)
        again = f" retransmission {txn.sends}" if txn.sends else ""
        for i, raw in enumerate(txn.copies):
            self.conn.tx += frame(raw)
            self.out.requests_sent += 1
            copy = f" copy {i + 1}/{len(txn.copies)}" if len(txn.copies) > 1 else ""
            self.timeline.add(self.name, txn.msg.summary(), f"→ {self.peer_name} tid "
                              f"{txn.msg.tid.hex()[:8]} {flags}{again}{copy}")
        txn.sends += 1
        txn.last = time.monotonic()
        if self.out.first_request_t is None:
            self.out.first_request_t = txn.last

    def _on_response(self, msg: StunMessage) -> None:
        txn = self._txns.get(msg.tid)
        self.timeline.add(self.name, f"received {msg.summary()}",
                          f"from {self.peer_name} tid {msg.tid.hex()[:8]}"
                          + ("" if txn else " (unknown transaction)"))
        if txn is None:
            return
        authentic = msg.check_integrity(self.remote.pwd.encode()) is not None
        if not authentic and (msg.cls == Cls.SUCCESS or msg.has(Attr.MESSAGE_INTEGRITY)):
            self.out.bad_responses += 1
            self.timeline.add(self.name, "response MI does not verify",
                              "with the remote ice-pwd; not counted")
            return
        first = not txn.answered
        txn.answered = True
        if msg.cls == Cls.ERROR:
            if first:
                err = msg.error_code()
                self.out.errors.append(err[0] if err else 0)
            return
        if not first:
            return
        self.out.successes += 1
        if msg.has(Attr.XOR_MAPPED_ADDRESS):
            self.out.mapped = msg.address(Attr.XOR_MAPPED_ADDRESS)
        if self.out.first_success_t is None:
            self.out.first_success_t = time.monotonic()
        if txn.nominating:
            self.out.nominated = True
            self.timeline.add(self.name, "pair nominated", f"with {self.peer_name}")

    def _send(self, msg: StunMessage, detail: str, legacy: bytes | None = None) -> None:
        self.conn.tx += frame(msg.raw)
        if legacy is not None:
            self.conn.tx += frame(legacy)
        self.timeline.add(self.name, msg.summary(), f"→ {self.peer_name} {detail}".rstrip())

    def _checks_done(self) -> bool:
        out_ok = self.out.successes > 0 and (
            not (self.controlling and self.nominate) or self.out.nominated)
        in_ok = self.inb.successes_sent > 0 and (
            self.controlling or not self.expect_nomination or self.inb.use_candidate)
        return out_ok and in_ok


class AgentRun(threading.Thread):
    """Runs ``agent.run_checks`` then (if complete and ``send_bytes`` or
    ``recv_bytes``) ``agent.exchange_data`` (full duplex, or half duplex
    with ``sequential="send-first"|"recv-first"``) in a thread, then keeps
    answering for ``linger`` s; :meth:`result` joins and returns both
    reports or re-raises what the thread raised."""

    def __init__(self, agent: IceAgent, checks_timeout: float = 10.0,
                 send_bytes: int = 0, recv_bytes: int = 0,
                 data_timeout: float = 30.0, linger: float = 0.0,
                 sequential: str | None = None) -> None:
        super().__init__(name=f"ice-{agent.name}", daemon=True)
        self.agent = agent
        self.checks_timeout = checks_timeout
        self.send_bytes = send_bytes
        self.recv_bytes = recv_bytes
        self.data_timeout = data_timeout
        self.linger = linger
        if sequential not in (None, "send-first", "recv-first"):
            raise ValueError(f"sequential must be send-first or recv-first, not {sequential!r}")
        self.sequential = sequential
        self.report: IceReport | None = None
        self.data: DataReport | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.report = self.agent.run_checks(self.checks_timeout)
            if self.report.complete and (self.send_bytes or self.recv_bytes):
                self.data = self._exchange()
            if self.linger:
                self.agent.serve(self.linger)
        except BaseException as exc:       # handed to the joining thread
            self.error = exc

    def _exchange(self) -> DataReport:
        if self.sequential is None:
            return self.agent.exchange_data(self.send_bytes, self.recv_bytes,
                                            timeout=self.data_timeout)
        return self.agent.exchange_data_sequential(
            self.send_bytes, self.recv_bytes, send_first=self.sequential == "send-first",
            timeout=self.data_timeout)

    def result(self, timeout: float | None = None) -> tuple[IceReport, DataReport | None]:
        """Join (bounded) and return (checks report, data report or None)."""
        limit = timeout if timeout is not None else (
            self.checks_timeout + self.data_timeout + self.linger + 5.0)
        self.join(limit)
        if self.is_alive():
            raise HarnessTimeout(f"ICE agent {self.agent.name} still running after {limit:g} s")
        if self.error is not None:
            raise self.error
        assert self.report is not None
        return self.report, self.data


def _check_flags(msg: StunMessage) -> str:
    flags = []
    if msg.has(Attr.USE_CANDIDATE):
        flags.append("USE-CANDIDATE")
    if msg.has(Attr.ICE_CONTROLLING):
        flags.append("ICE-CONTROLLING")
    if msg.has(Attr.ICE_CONTROLLED):
        flags.append("ICE-CONTROLLED")
    return " ".join(flags)


class _RtpSender:
    """Packetizes a PayloadStream into RTP (PT 127) packets."""

    def __init__(self, stream: PayloadStream, total: int, size: int) -> None:
        self.stream = stream
        self.total = total
        self.size = size
        self.sent = 0
        self.packets = 0
        self.seq = secrets.randbits(16)
        self.ssrc = secrets.randbits(32)
        self.sha = hashlib.sha256()

    @property
    def finished(self) -> bool:
        return self.sent >= self.total

    def next_packet(self) -> bytes:
        payload = self.stream.read(min(self.size, self.total - self.sent))
        hdr = RTP_HEADER.pack(0x80, RTP_PT_XDATA, self.seq, self.packets * 3000, self.ssrc)
        self.seq = (self.seq + 1) & 0xFFFF
        self.sent += len(payload)
        self.packets += 1
        self.sha.update(payload)
        return hdr + payload


class _RtpReceiver:
    """Verifies received RTP payload against the expected PayloadStream."""

    def __init__(self, expected: PayloadStream, total: int) -> None:
        self.expected = expected
        self.total = total
        self.received = 0
        self.packets = 0
        self.next_seq: int | None = None
        self.ssrc: int | None = None
        self.seq_errors = 0
        self.bad_packets = 0
        self.first_mismatch: int | None = None
        self.sha = hashlib.sha256()

    def feed(self, pkt: bytes) -> None:
        b0, b1, seq, _, ssrc = RTP_HEADER.unpack(pkt[:12])
        if b0 != 0x80 or b1 & 0x7F != RTP_PT_XDATA or (self.ssrc is not None and ssrc != self.ssrc):
            self.bad_packets += 1
            return
        self.ssrc = ssrc
        if self.next_seq is not None and seq != self.next_seq:
            self.seq_errors += 1
        self.next_seq = (seq + 1) & 0xFFFF
        payload = pkt[12:]
        want = self.expected.read(len(payload))
        if payload != want and self.first_mismatch is None:
            idx = next(i for i, (a, b) in enumerate(zip(payload, want)) if a != b)
            self.first_mismatch = self.received + idx
        self.sha.update(payload)
        self.received += len(payload)
        self.packets += 1

    def report(self, tx: _RtpSender) -> DataReport:
        return DataReport(sent_bytes=tx.sent, sent_packets=tx.packets,
                          sent_sha256=tx.sha.hexdigest(), received_bytes=self.received,
                          received_packets=self.packets,
                          received_sha256=self.sha.hexdigest(), expected_bytes=self.total,
                          first_mismatch=self.first_mismatch, seq_errors=self.seq_errors,
                          bad_packets=self.bad_packets)


# -- CLI ---------------------------------------------------------------------------

def _open(args: argparse.Namespace) -> StreamConn:
    if args.connect:
        bind = parse_addr(args.bind, 0) if args.bind else None
        return connect_tcp(parse_addr(args.connect), bind, args.timeout, "ICE connection")
    lsock = listen_tcp(parse_addr(args.listen))
    try:
        print(f"listening on {fmt_addr(lsock.getsockname()[:2])}", flush=True)
        return accept_conn(lsock, args.timeout, "ICE TCP connection", "ICE connection")
    finally:
        lsock.close()


def main(argv: list[str] | None = None) -> int:
    """Run one agent: checks, then optional data exchange."""
    ap = argparse.ArgumentParser(prog="python3 -m harness.iceagent",
                                 description="MS-ICE2 ICE-TCP agent (RFC 4571)")
    way = ap.add_mutually_exclusive_group(required=True)
    way.add_argument("--connect", metavar="IP:PORT")
    way.add_argument("--listen", metavar="IP:PORT")
    ap.add_argument("--bind", metavar="IP[:PORT]", help="source of --connect")
    ap.add_argument("--role", choices=("controlling", "controlled"), required=True)
    ap.add_argument("--local", required=True, metavar="UFRAG:PWD")
    ap.add_argument("--remote", required=True, metavar="UFRAG:PWD")
    ap.add_argument("--respond", choices=("ok", "none", "error"), default="ok")
    ap.add_argument("--legacy-duplicate", action="store_true")
    ap.add_argument("--mi-style", choices=(MI_RFC5389, MI_MSICE2), default=MI_RFC5389)
    ap.add_argument("--bytes", type=int, default=0, help="RTP payload bytes each way")
    ap.add_argument("--timeout", type=float, default=10.0)
    args = ap.parse_args(argv)
    tl = Timeline()
    try:
        conn = _open(args)
        agent = IceAgent(conn, controlling=args.role == "controlling",
                         local=Credentials.parse(args.local),
                         remote=Credentials.parse(args.remote), name="local",
                         peer_name="remote", respond=args.respond,
                         legacy_duplicate=args.legacy_duplicate,
                         mi_style=args.mi_style, timeline=tl)
        rep = agent.run_checks(args.timeout)
        ok = rep.complete
        print(rep.describe())
        if ok and args.bytes:
            data = agent.exchange_data(args.bytes, args.bytes, timeout=args.timeout)
            print(data.describe())
            ok = data.intact
        agent.close()
    except (OSError, ValueError, HarnessTimeout) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(tl.format())
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
