"""A small SIP user agent (RFC 3261) over UDP, TCP or TLS for the harness.

It can be either neighbour of the gateway:

* UAC: :meth:`SipUA.invite` sends an INVITE (retransmitted per Timer A on
  UDP, bounded by Timer B), collects provisional/final responses, ACKs a 2xx
  (new transaction, dialog route set) and a non-2xx (same branch, RFC 3261
  §17.1.1.3) by itself; :meth:`Call.cancel` sends CANCEL.
* UAS: :meth:`SipUA.wait_invite` hands out an :class:`IncomingInvite` (100
  Trying already sent) to answer with :meth:`IncomingInvite.respond` (2xx
  and non-2xx retransmitted until the ACK on UDP).
* In dialog: re-INVITEs received are recorded (their SDP too) and answered
  by ``SipUA.reinvite_handler`` or with the dialog's current local SDP;
  BYE gets 200; :meth:`SipUA.reinvite` and :meth:`SipUA.bye` send them.
  Record-Route/Contact are honoured (loose and strict routing).

* TLS (``transport="tls"`` with a :class:`TlsIdentity`): mutual TLS both
  ways, as a Skype for Business Edge runs it. A host name is never resolved:
  a request to a name goes on an open connection whose peer certificate
  carries that name (the connection reuse of RFC 5923, the identity check
  of RFC 5922 7.1), whoever opened it, else it fails. With ``fqdn_only``
  the UA behaves like Lync: it sends in-dialog requests only to a host name,
  never to an IP address.

Every message sent or received is kept in ``SipUA.records`` with its time
and added to the timeline (actor = the UA's name). All waits are bounded.

CLI: ``python3 -m harness.sipua call|answer --help``.
"""

from __future__ import annotations

import argparse
import ipaddress
import re
import secrets
import selectors
import socket
import ssl
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from .netio import Addr, HarnessTimeout, fmt_addr, parse_addr
from .timeline import Timeline

T1 = 0.5
T2 = 4.0
USER_AGENT = "shareway-harness"
ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE"

COMPACT = {"v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact",
           "l": "content-length", "c": "content-type", "k": "supported",
           "s": "subject", "e": "content-encoding", "o": "event"}
LIST_HEADERS = {"via", "route", "record-route", "contact"}
REASONS = {100: "Trying", 180: "Ringing", 183: "Session Progress", 200: "OK",
           400: "Bad Request", 403: "Forbidden", 404: "Not Found",
           405: "Method Not Allowed", 408: "Request Timeout",
           415: "Unsupported Media Type", 480: "Temporarily Unavailable",
           481: "Call/Transaction Does Not Exist", 486: "Busy Here",
           487: "Request Terminated", 488: "Not Acceptable Here",
           491: "Request Pending", 500: "Server Internal Error",
           501: "Not Implemented", 503: "Service Unavailable", 603: "Decline"}


class SipError(ValueError):
    """Malformed SIP message, or a SIP exchange that went wrong."""


class SipIncomplete(SipError):
    """More bytes are needed (header end or body not complete yet)."""


# -- text helpers ---------------------------------------------------------------

def split_list(value: str) -> list[str]:
    """Split a header value on commas outside quotes and <>."""
    out, cur, depth, quoted = [], [], 0, False
    for ch in value:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch == "<":
            depth += 1
        elif not quoted and ch == ">":
            depth -= 1
        if ch == "," and not quoted and depth == 0:
            out.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    if "".join(cur).strip():
        out.append("".join(cur).strip())
    return out


def uri_of(value: str) -> str:
    """The URI of a name-addr (``"x" <sip:a@b>;tag=1``) or addr-spec."""
    m = re.search(r"<([^>]*)>", value)
    if m:
        return m.group(1).strip()
    return value.split(";")[0].strip()


def param(value: str, name: str) -> str | None:
    """A header parameter (after the URI for name-addr forms), e.g. tag,
    branch, received. Flag parameters give ""."""
    tail = value[value.rfind(">") + 1:] if ">" in value else value
    for part in tail.split(";")[1:]:
        key, sep, val = part.strip().partition("=")
        if key.lower() == name.lower():
            return val.strip('"') if sep else ""
    return None


def strip_tag(value: str) -> str:
    """Header value without its ``;tag=`` parameter."""
    return re.sub(r";\s*tag=[^;]*", "", value)


def uri_target(uri: str, default_port: int = 5060) -> tuple[str, int, str]:
    """``sip:user@host:port;transport=tcp`` → (host, port, transport)."""
    m = re.match(r"sips?:(?:[^@;]*@)?(\[[^\]]+\]|[^:;>?]+)(?::(\d+))?([^?>]*)", uri)
    if not m:
        raise SipError(f"cannot route to URI {uri!r}")
    host = m.group(1).strip("[]")
    port = int(m.group(2)) if m.group(2) else default_port
    transport = param(uri.split("?")[0], "transport") or "udp"
    return host, port, transport.lower()


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@dataclass
class TlsIdentity:
    """What a TLS UA presents (certificate chain + key) and trusts (CA):
    the peer's certificate is required and verified both ways."""
    cert: str
    key: str
    ca: str

    def context(self, server: bool) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER if server else ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_cert_chain(self.cert, self.key)
        ctx.load_verify_locations(self.ca)
        ctx.verify_mode = ssl.CERT_REQUIRED
        if not server:
            ctx.check_hostname = False      # matched per request (RFC 5922 7.1)
        return ctx


def cert_names(sock: ssl.SSLSocket) -> set[str]:
    """The DNS names (subjectAltName, else the subject CN) of the peer's
    verified certificate, lower case."""
    cert = sock.getpeercert() or {}
    names = {v.lower() for k, v in cert.get("subjectAltName", ()) if k == "DNS"}
    if not names:
        names = {v.lower() for rdn in cert.get("subject", ()) for k, v in rdn
                 if k == "commonName"}
    return names


def new_tag() -> str:
    return secrets.token_hex(6)


def new_branch() -> str:
    return "z9hG4bK" + secrets.token_hex(8)


# -- the message ----------------------------------------------------------------

@dataclass
class SipMessage:
    """A request (``method``/``uri``) or response (``status``/``reason``)."""
    method: str | None = None
    uri: str | None = None
    status: int | None = None
    reason: str = ""
    hdrs: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    @property
    def is_request(self) -> bool:
        return self.method is not None

    @staticmethod
    def _key(name: str) -> str:
        low = name.strip().lower()
        return COMPACT.get(low, low)

    def headers(self, name: str) -> list[str]:
        """Every value of a header (list headers split on commas)."""
        key = self._key(name)
        vals = [v for n, v in self.hdrs if self._key(n) == key]
        if key in LIST_HEADERS:
            return [item for v in vals for item in split_list(v)]
        return vals

    def header(self, name: str) -> str | None:
        vals = self.headers(name)
        return vals[0] if vals else None

    def require(self, name: str) -> str:
        val = self.header(name)
        if val is None:
            raise SipError(f"{self.first_line()}: no {name} header")
        return val

    def add(self, name: str, value: str) -> "SipMessage":
        self.hdrs.append((name, value))
        return self

    def remove(self, name: str) -> None:
        key = self._key(name)
        self.hdrs = [(n, v) for n, v in self.hdrs if self._key(n) != key]

    @property
    def cseq(self) -> tuple[int, str]:
        num, _, method = self.require("CSeq").partition(" ")
        if not num.isdigit():
            raise SipError(f"bad CSeq {self.header('CSeq')!r}")
        return int(num), method.strip().upper()

    @property
    def call_id(self) -> str:
        return self.require("Call-ID")

    @property
    def branch(self) -> str | None:
        via = self.header("Via")
        return param(via, "branch") if via else None

    @property
    def text_body(self) -> str:
        return self.body.decode("utf-8", "replace")

    def first_line(self) -> str:
        if self.is_request:
            return f"{self.method} {self.uri} SIP/2.0"
        return f"SIP/2.0 {self.status} {self.reason}"

    def label(self) -> str:
        """Short name for logs: ``INVITE`` or ``200 OK to INVITE``."""
        if self.is_request:
            return str(self.method)
        try:
            method = self.cseq[1]
        except SipError:
            method = "?"
        return f"{self.status} {self.reason} to {method}"

    def to_bytes(self) -> bytes:
        """Wire form; Content-Length is (re)computed."""
        lines = [self.first_line()]
        lines += [f"{n}: {v}" for n, v in self.hdrs if self._key(n) != "content-length"]
        lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + self.body

    @classmethod
    def parse(cls, data: bytes) -> tuple["SipMessage", bytes]:
        """Parse one message from the head of ``data``; returns it and the
        bytes after it. SipIncomplete if the headers or body are not all
        there, SipError if malformed."""
        end = data.find(b"\r\n\r\n")
        sep = 4
        if end < 0:
            end, sep = data.find(b"\n\n"), 2
        if end < 0:
            raise SipIncomplete("no end of headers yet")
        lines = _unfold(data[:end].decode("utf-8", "replace"))
        msg = cls._start_line(lines[0])
        for ln in lines[1:]:
            name, colon, value = ln.partition(":")
            if not colon or not name.strip():
                raise SipError(f"bad header line {ln!r}")
            msg.hdrs.append((name.strip(), value.strip()))
        clen_s = msg.header("Content-Length")
        start = end + sep
        clen = len(data) - start
        if clen_s is not None:
            if not clen_s.isdigit():
                raise SipError(f"bad Content-Length {clen_s!r}")
            clen = int(clen_s)
        if len(data) - start < clen:
            raise SipIncomplete(f"body: {len(data) - start} of {clen} bytes")
        msg.body = data[start:start + clen]
        return msg, data[start + clen:]

    @classmethod
    def _start_line(cls, line: str) -> "SipMessage":
        parts = line.split(" ", 2)
        if line.startswith("SIP/2.0 "):
            if len(parts) < 2 or not parts[1].isdigit():
                raise SipError(f"bad status line {line!r}")
            return cls(status=int(parts[1]), reason=parts[2] if len(parts) > 2 else "")
        if len(parts) != 3 or parts[2] != "SIP/2.0" or not parts[0].isalpha():
            raise SipError(f"bad request line {line!r}")
        return cls(method=parts[0].upper(), uri=parts[1])


def _unfold(head: str) -> list[str]:
    out: list[str] = []
    for ln in re.split(r"\r?\n", head):
        if ln[:1] in (" ", "\t") and out:
            out[-1] += " " + ln.strip()
        elif ln:
            out.append(ln)
    if not out:
        raise SipError("empty message")
    return out


# -- records, dialogs, transactions ---------------------------------------------

@dataclass
class SipRecord:
    """One message sent (``"out"``) or received (``"in"``)."""
    t: float
    direction: str
    msg: SipMessage
    addr: Addr
    retransmission: bool = False


@dataclass
class Dialog:
    """A dialog; ``reinvites`` holds every re-INVITE received in it."""
    call_id: str
    local_tag: str
    remote_tag: str
    local_uri: str
    remote_uri: str
    remote_target: str
    route_set: list[str]
    local_cseq: int
    remote_cseq: int
    is_caller: bool
    transport: str
    local_sdp: str | None = None
    remote_sdp: str | None = None
    state: str = "confirmed"
    reinvites: list[SipMessage] = field(default_factory=list)
    reinvite_answer: str | None = None
    ended_by: str | None = None

    def key(self) -> tuple[str, str, str]:
        return self.call_id, self.local_tag, self.remote_tag


@dataclass
class _ClientTxn:
    request: SipMessage
    dest: Addr
    raw: bytes
    responses: list[SipMessage] = field(default_factory=list)
    final: SipMessage | None = None
    timed_out: bool = False
    next_at: float = 0.0
    interval: float = T1
    give_up_at: float = 0.0
    retransmit: bool = True
    dialog: "Dialog | None" = None


@dataclass
class _ServerTxn:
    request: SipMessage
    src: Addr
    last: bytes | None = None
    final_status: int = 0
    acked: bool = False
    next_at: float = 0.0
    interval: float = T1
    give_up_at: float = 0.0
    invite: "IncomingInvite | None" = None


class Call:
    """An INVITE we sent (initial or re-INVITE) and its outcome."""

    def __init__(self, ua: "SipUA", txn: _ClientTxn) -> None:
        self.ua = ua
        self.txn = txn

    @property
    def dialog(self) -> Dialog | None:
        """The dialog once a 2xx arrived (None before or on failure)."""
        return self.txn.dialog

    @property
    def request(self) -> SipMessage:
        return self.txn.request

    @property
    def responses(self) -> list[SipMessage]:
        with self.ua.cond:
            return list(self.txn.responses)

    def wait_final(self, timeout: float = 32.0) -> SipMessage:
        """The final response (the 2xx is ACKed already), or HarnessTimeout."""
        with self.ua.cond:
            ok = self.ua.cond.wait_for(lambda: self.txn.final is not None or self.txn.timed_out,
                                       timeout)
            if not ok or self.txn.final is None:
                raise HarnessTimeout(f"{self.ua.name}: no final response to "
                                     f"{self.request.method} {self.request.uri} within "
                                     f"{timeout:g} s (sent to {fmt_addr(self.txn.dest)})")
            return self.txn.final

    def wait_status(self, status: int, timeout: float = 10.0) -> SipMessage:
        """First response with this status code (e.g. 180)."""
        found: list[SipMessage] = []

        def ready() -> bool:
            found[:] = [r for r in self.txn.responses if r.status == status][:1]
            return bool(found)

        with self.ua.cond:
            if not self.ua.cond.wait_for(ready, timeout):
                raise HarnessTimeout(f"{self.ua.name}: no {status} to {self.request.method} "
                                     f"within {timeout:g} s")
            return found[0]

    def cancel(self, timeout: float = 10.0) -> SipMessage:
        """CANCEL the INVITE; returns the response to the CANCEL."""
        req = self.request
        can = SipMessage(method="CANCEL", uri=req.uri)
        can.add("Via", req.require("Via")).add("Max-Forwards", "70")
        for name in ("Route", "From", "To", "Call-ID"):
            for val in req.headers(name):
                can.add(name, val)
        can.add("CSeq", f"{req.cseq[0]} CANCEL").add("User-Agent", USER_AGENT)
        return self.ua.send_request(can, self.txn.dest, timeout)


class IncomingInvite:
    """An INVITE received outside a dialog; answer with :meth:`respond`."""

    def __init__(self, ua: "SipUA", request: SipMessage, src: Addr, txn: _ServerTxn) -> None:
        self.ua = ua
        self.request = request
        self.src = src
        self.txn = txn
        self.local_tag = new_tag()
        self.dialog: Dialog | None = None
        self.canceled = False

    @property
    def offer(self) -> str:
        return self.request.text_body

    def respond(self, status: int, reason: str | None = None, *, sdp: str | None = None,
                headers: list[tuple[str, str]] | None = None) -> None:
        """Send a provisional or final response (2xx creates the dialog)."""
        self.ua.respond_invite(self, status, reason, sdp, headers or [])

    def wait_ack(self, timeout: float = 10.0) -> None:
        with self.ua.cond:
            if not self.ua.cond.wait_for(lambda: self.txn.acked, timeout):
                raise HarnessTimeout(f"{self.ua.name}: no ACK for {self.txn.final_status} to "
                                     f"INVITE (Call-ID {self.request.call_id}) within "
                                     f"{timeout:g} s")


# -- the UA ----------------------------------------------------------------------

class SipUA:
    """A SIP UA bound to ``local_ip:port`` over ``transport`` (udp | tcp |
    tls, the latter with ``tls``)."""

    def __init__(self, local_ip: str, port: int = 0, *, transport: str = "udp",
                 name: str = "UA", user: str = "harness", timeline: Timeline | None = None,
                 timer_b: float = 32.0, tls: TlsIdentity | None = None,
                 fqdn_only: bool = False, contact_host: str | None = None) -> None:
        if transport not in ("udp", "tcp", "tls"):
            raise ValueError(f"transport must be udp, tcp or tls, not {transport!r}")
        if (transport == "tls") != (tls is not None):
            raise ValueError("a TLS identity goes with transport tls, and only with it")
        self.tls_server = tls.context(True) if tls else None
        self.tls_client = tls.context(False) if tls else None
        self.fqdn_only = fqdn_only
        self.contact_host = contact_host    # in our Contact instead of the IP
        self.name = name
        self.user = user
        self.transport = transport
        self.timeline = timeline if timeline is not None else Timeline()
        self.timer_b = timer_b
        self.cond = threading.Condition()
        self.records: list[SipRecord] = []
        self.errors: list[str] = []
        self.dialogs: dict[tuple[str, str, str], Dialog] = {}
        self.reinvite_handler: Callable[[Dialog, SipMessage], tuple[int, str | None]] | None = None
        self._client: dict[tuple[str, str], _ClientTxn] = {}
        self._server: dict[tuple[str, str], _ServerTxn] = {}
        self._invites: list[IncomingInvite] = []
        self._acks: dict[tuple[str, int], tuple[bytes, Addr]] = {}
        self._pending_register: list[_StreamPeer] = []
        self._sel = selectors.DefaultSelector()
        self._conns: dict[Addr, _StreamPeer] = {}
        self._wake_r, self._wake_w = socket.socketpair()
        self._sel.register(self._wake_r, selectors.EVENT_READ, "wake")
        self._sock = self._open(local_ip, port)
        self.local: Addr = self._sock.getsockname()[:2]
        self._stop = False
        self._thread = threading.Thread(target=self._run, name=f"sipua-{name}", daemon=True)

    def _open(self, ip: str, port: int) -> socket.socket:
        fam = socket.AF_INET6 if ":" in ip else socket.AF_INET
        if self.transport == "udp":
            sock = socket.socket(fam, socket.SOCK_DGRAM)
        else:
            sock = socket.socket(fam, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((ip, port))
        if self.transport != "udp":
            sock.listen(16)
        sock.setblocking(False)
        self._sel.register(sock, selectors.EVENT_READ, "main")
        return sock

    # -- lifecycle --------------------------------------------------------------
    def start(self) -> "SipUA":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop = True
        self._wake()
        if self._thread.is_alive():
            self._thread.join(5.0)
        for peer in list(self._conns.values()):
            peer.sock.close()
        self._sock.close()
        self._wake_r.close()
        self._wake_w.close()

    def __enter__(self) -> "SipUA":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _wake(self) -> None:
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass

    @property
    def contact(self) -> str:
        """Our Contact URI."""
        host = self.contact_host or self.local[0]
        host = f"[{host}]" if ":" in host else host
        return f"sip:{self.user}@{host}:{self.local[1]};transport={self.transport}"

    @property
    def aor(self) -> str:
        return f"sip:{self.user}@{self.local[0]}"

    # -- sending -----------------------------------------------------------------
    def _via(self) -> str:
        return (f"SIP/2.0/{self.transport.upper()} {fmt_addr(self.local)}"
                f";branch={new_branch()};rport")

    def _transmit(self, msg: SipMessage, dest: Addr, retrans: bool = False,
                  raw: bytes | None = None) -> bytes:
        """Record (before sending, so ladders stay causal), then send."""
        data = raw if raw is not None else msg.to_bytes()
        with self.cond:
            self.records.append(SipRecord(time.monotonic(), "out", msg, dest, retrans))
        label = msg.label()
        if msg.method == "INVITE" and param(msg.require("To"), "tag") is not None:
            label = "re-INVITE"
        self.timeline.add(self.name, f"sent {label}",
                          f"to {fmt_addr(dest)}" + (" (retransmission)" if retrans else ""))
        if self.transport == "udp":
            self._sock.sendto(data, dest)
        else:
            self._stream_peer(dest).send(data)
        return data

    def _named_peer(self, host: str) -> "_StreamPeer":
        """RFC 5923: a TLS connection is reused for the names its peer's
        certificate carries, whichever side opened it; the harness does no
        DNS, so a name without such a connection cannot be reached."""
        with self.cond:
            for peer in self._conns.values():
                if not peer.closed and host.lower() in peer.names:
                    return peer
        raise SipError(f"{self.name}: no TLS connection whose peer certificate names "
                       f"{host} (and names are never resolved here)")

    def _stream_peer(self, dest: Addr) -> "_StreamPeer":
        if self.transport == "tls" and not is_ip(dest[0]):
            return self._named_peer(dest[0])
        with self.cond:
            peer = self._conns.get(dest)
        if peer is not None and not peer.closed:
            return peer
        sock = socket.create_connection(dest, timeout=5.0, source_address=(self.local[0], 0))
        if self.tls_client is not None:
            sock = self.tls_client.wrap_socket(sock)       # handshake within the 5 s
        sock.setblocking(False)
        peer = _StreamPeer(sock, dest)
        peer.opened = True
        if isinstance(sock, ssl.SSLSocket):
            peer.names = cert_names(sock)
            self.timeline.add(self.name, "TLS connection", f"to {fmt_addr(dest)}, peer "
                              f"certificate {sorted(peer.names)}")
        with self.cond:
            self._conns[dest] = peer
            self._pending_register.append(peer)
        self._wake()
        return peer

    def new_request(self, method: str, uri: str, *, to: str, from_: str,
                    call_id: str, cseq: int, routes: list[str] | None = None) -> SipMessage:
        """A request skeleton with our Via, Max-Forwards, Contact."""
        req = SipMessage(method=method, uri=uri)
        req.add("Via", self._via()).add("Max-Forwards", "70")
        for r in routes or []:
            req.add("Route", r)
        req.add("From", from_).add("To", to).add("Call-ID", call_id)
        req.add("CSeq", f"{cseq} {method}")
        if method in ("INVITE", "UPDATE", "SUBSCRIBE", "REFER"):
            req.add("Contact", f"<{self.contact}>")
        req.add("User-Agent", USER_AGENT)
        return req

    def start_request(self, req: SipMessage, dest: Addr,
                      timeout: float | None = None) -> _ClientTxn:
        """Send a request as a new client transaction (not ACK)."""
        now = time.monotonic()
        txn = _ClientTxn(req, dest, b"", next_at=now + T1,
                         give_up_at=now + (timeout if timeout is not None else self.timer_b),
                         retransmit=self.transport == "udp")
        with self.cond:
            self._client[(req.branch or "", req.cseq[1])] = txn
        txn.raw = self._transmit(req, dest)
        self._wake()
        return txn

    def send_request(self, req: SipMessage, dest: Addr, timeout: float = 32.0) -> SipMessage:
        """Send a non-INVITE request and wait for its final response."""
        return Call(self, self.start_request(req, dest, timeout)).wait_final(timeout)

    def invite(self, target: str, sdp: str | None = None, *, dest: Addr | None = None,
               headers: list[tuple[str, str]] | None = None, to: str | None = None,
               content_type: str = "application/sdp", body: str | None = None,
               call_id: str | None = None) -> Call:
        """Send an initial INVITE (``body`` overrides ``sdp``); returns the
        :class:`Call` at once: use ``wait_final``."""
        if dest is None:
            host, port, _ = uri_target(target)
            dest = (host, port)
        req = self.new_request("INVITE", target, to=to or f"<{target}>",
                               from_=f"<{self.aor}>;tag={new_tag()}",
                               call_id=call_id or f"{secrets.token_hex(8)}@{self.local[0]}",
                               cseq=1)
        req.add("Allow", ALLOW)
        for name, value in headers or []:
            req.add(name, value)
        text = body if body is not None else sdp
        if text is not None:
            req.add("Content-Type", content_type)
            req.body = text.encode()
        return Call(self, self.start_request(req, dest))

    def dialog_request(self, dlg: Dialog, method: str) -> tuple[SipMessage, Addr]:
        """An in-dialog request of ``method`` (next CSeq, route set applied)
        and its next hop; send it with :meth:`start_request` or
        :meth:`send_request`."""
        uri, routes = dlg.remote_target, list(dlg.route_set)
        hop = uri_of(routes[0]) if routes else uri
        if routes and param(hop, "lr") is None:            # strict routing
            uri = hop
            routes = routes[1:] + [f"<{dlg.remote_target}>"]
        if method != "ACK":
            dlg.local_cseq += 1
        req = self.new_request(method, uri, to=f"{dlg.remote_uri};tag={dlg.remote_tag}",
                               from_=f"{dlg.local_uri};tag={dlg.local_tag}",
                               call_id=dlg.call_id, cseq=dlg.local_cseq, routes=routes)
        host, port, _ = uri_target(hop, 5061 if self.transport == "tls" else 5060)
        if self.fqdn_only and is_ip(host):
            raise SipError(f"{self.name}: the dialog's next hop {hop} is an IP address; "
                           "Lync sends in-dialog requests only to a host name its TLS "
                           "peer's certificate carries")
        return req, (host, port)

    def reinvite(self, dlg: Dialog, sdp: str, timeout: float = 32.0) -> SipMessage:
        """Send a re-INVITE with ``sdp``; wait for the final response (2xx
        ACKed) and return it."""
        req, dest = self.dialog_request(dlg, "INVITE")
        req.add("Content-Type", "application/sdp")
        req.body = sdp.encode()
        return Call(self, self.start_request(req, dest, timeout)).wait_final(timeout)

    def bye(self, dlg: Dialog, timeout: float = 32.0) -> SipMessage:
        """Send BYE in the dialog and wait for its final response."""
        req, dest = self.dialog_request(dlg, "BYE")
        dlg.state = "terminated"
        dlg.ended_by = "local BYE"
        return self.send_request(req, dest, timeout)

    # -- UAC response handling -----------------------------------------------------
    def _ack_2xx(self, txn: _ClientTxn, resp: SipMessage) -> None:
        """ACK a 2xx: create/update the dialog, route via its route set."""
        dlg = self._dialog_from_2xx(txn, resp)
        if txn.request.body:
            dlg.local_sdp = txn.request.text_body
        if resp.body:
            dlg.remote_sdp = resp.text_body
        txn.dialog = dlg
        req, dest = self.dialog_request(dlg, "ACK")
        req.remove("CSeq")
        req.add("CSeq", f"{txn.request.cseq[0]} ACK")
        data = self._transmit(req, dest)
        with self.cond:
            self._acks[(dlg.call_id, txn.request.cseq[0])] = (data, dest)

    def _dialog_from_2xx(self, txn: _ClientTxn, resp: SipMessage) -> Dialog:
        req = txn.request
        to_tag = param(resp.require("To"), "tag") or ""
        from_tag = param(req.require("From"), "tag") or ""
        key = (req.call_id, from_tag, to_tag)
        with self.cond:
            dlg = self.dialogs.get(key)
        if dlg is None:
            contact = resp.header("Contact")
            dlg = Dialog(req.call_id, from_tag, to_tag, strip_tag(req.require("From")),
                         strip_tag(resp.require("To")),
                         uri_of(contact) if contact else str(req.uri),
                         list(reversed(resp.headers("Record-Route"))),
                         req.cseq[0], 0, True, self.transport,
                         local_sdp=req.text_body or None, remote_sdp=resp.text_body or None)
            with self.cond:
                self.dialogs[key] = dlg
        return dlg

    def _ack_non_2xx(self, txn: _ClientTxn, resp: SipMessage) -> None:
        """RFC 3261 §17.1.1.3: same branch, To with the response's tag."""
        req = txn.request
        ack = SipMessage(method="ACK", uri=req.uri)
        ack.add("Via", req.require("Via")).add("Max-Forwards", "70")
        for r in req.headers("Route"):
            ack.add("Route", r)
        ack.add("From", req.require("From")).add("To", resp.require("To"))
        ack.add("Call-ID", req.call_id).add("CSeq", f"{req.cseq[0]} ACK")
        self._transmit(ack, txn.dest)

    def _on_response(self, resp: SipMessage, src: Addr) -> None:
        key = (resp.branch or "", resp.cseq[1])
        with self.cond:
            txn = self._client.get(key)
        if txn is None:
            return
        status = resp.status or 0
        if txn.final is not None:                     # retransmitted final
            if txn.request.method == "INVITE":
                self._reack(txn, resp)
            return
        with self.cond:
            txn.responses.append(resp)
            if status < 200:
                txn.retransmit = txn.retransmit and txn.request.method != "INVITE"
                txn.interval = T2
        if status >= 200 and txn.request.method == "INVITE":
            if status < 300:
                self._ack_2xx(txn, resp)
            else:
                self._ack_non_2xx(txn, resp)
        if status >= 200:
            with self.cond:
                txn.final = resp
                self.cond.notify_all()

    def _reack(self, txn: _ClientTxn, resp: SipMessage) -> None:
        status = resp.status or 0
        if status >= 300:
            self._ack_non_2xx(txn, resp)
            return
        with self.cond:
            sent = self._acks.get((txn.request.call_id, txn.request.cseq[0]))
        if sent is not None:
            ack, _ = SipMessage.parse(sent[0])
            self._transmit(ack, sent[1], retrans=True, raw=sent[0])

    def dialog_of(self, call: Call, timeout: float = 32.0) -> Dialog:
        """The dialog a successful INVITE created (waits for the final)."""
        final = call.wait_final(timeout)
        if call.dialog is None:
            raise SipError(f"{self.name}: INVITE got {final.status} {final.reason}, no dialog")
        return call.dialog

    # -- UAS side ------------------------------------------------------------------------
    def wait_invite(self, timeout: float = 10.0) -> IncomingInvite:
        """The next INVITE received outside a dialog (100 Trying sent)."""
        with self.cond:
            if not self.cond.wait_for(lambda: bool(self._invites), timeout):
                raise HarnessTimeout(f"{self.name}: no INVITE within {timeout:g} s on "
                                     f"{self.transport}:{fmt_addr(self.local)}")
            return self._invites.pop(0)

    def _response(self, req: SipMessage, status: int, reason: str | None,
                  to_tag: str | None) -> SipMessage:
        resp = SipMessage(status=status, reason=reason or REASONS.get(status, "Unknown"))
        for via in req.headers("Via"):
            resp.add("Via", via)
        if 100 < status < 300:
            for rr in req.headers("Record-Route"):
                resp.add("Record-Route", rr)
        resp.add("From", req.require("From"))
        to = req.require("To")
        if to_tag and status > 100 and param(to, "tag") is None:
            to = f"{to};tag={to_tag}"
        resp.add("To", to).add("Call-ID", req.call_id).add("CSeq", req.require("CSeq"))
        resp.add("User-Agent", USER_AGENT)
        return resp

    def respond_invite(self, inv: IncomingInvite, status: int, reason: str | None,
                       sdp: str | None, headers: list[tuple[str, str]]) -> None:
        """Answer an initial INVITE; see :meth:`IncomingInvite.respond`."""
        resp = self._response(inv.request, status, reason, inv.local_tag)
        if 100 < status < 300:
            resp.add("Contact", f"<{self.contact}>").add("Allow", ALLOW)
        for name, value in headers:
            resp.add(name, value)
        if sdp is not None:
            resp.add("Content-Type", "application/sdp")
            resp.body = sdp.encode()
        if 200 <= status < 300:
            inv.dialog = self._dialog_from_invite(inv, sdp)
        self._send_server_response(inv.txn, resp)

    def _dialog_from_invite(self, inv: IncomingInvite, sdp: str | None) -> Dialog:
        req = inv.request
        contact = req.header("Contact")
        dlg = Dialog(req.call_id, inv.local_tag, param(req.require("From"), "tag") or "",
                     strip_tag(req.require("To")), strip_tag(req.require("From")),
                     uri_of(contact) if contact else f"sip:{fmt_addr(inv.src)}",
                     list(req.headers("Record-Route")), 0, req.cseq[0], False,
                     self.transport, local_sdp=sdp, remote_sdp=req.text_body or None)
        with self.cond:
            self.dialogs[dlg.key()] = dlg
        return dlg

    def _send_server_response(self, txn: _ServerTxn, resp: SipMessage) -> None:
        """Remember, then send (an ACK may arrive before _transmit returns);
        finals to INVITE are retransmitted until the ACK on UDP."""
        status = resp.status or 0
        data = resp.to_bytes()
        with self.cond:
            txn.last = data
            if status >= 200:
                txn.final_status = status
                if txn.request.method == "INVITE" and self.transport == "udp":
                    now = time.monotonic()
                    txn.next_at, txn.interval, txn.give_up_at = now + T1, T1, now + 64 * T1
        self._transmit(resp, txn.src, raw=data)
        self._wake()

    # -- receiving -----------------------------------------------------------------
    def _on_message(self, msg: SipMessage, src: Addr) -> None:
        retrans = False
        if msg.is_request:
            key = (msg.branch or "", msg.method or "")
            with self.cond:
                retrans = key in self._server and msg.method != "ACK"
        with self.cond:
            self.records.append(SipRecord(time.monotonic(), "in", msg, src, retrans))
            self.cond.notify_all()
        label = msg.label()
        if msg.method == "INVITE" and param(msg.require("To"), "tag") is not None:
            label = "re-INVITE"
        self.timeline.add(self.name, f"received {label}",
                          f"from {fmt_addr(src)}" + (" (retransmission)" if retrans else ""))
        if not msg.is_request:
            self._on_response(msg, src)
        elif retrans:
            self._resend_last(msg)
        else:
            self._on_request(msg, src)

    def _resend_last(self, msg: SipMessage) -> None:
        with self.cond:
            txn = self._server.get((msg.branch or "", msg.method or ""))
        if txn is not None and txn.last is not None:
            resp, _ = SipMessage.parse(txn.last)
            self._transmit(resp, txn.src, retrans=True, raw=txn.last)

    def _on_request(self, req: SipMessage, src: Addr) -> None:
        method = req.method or ""
        if method == "ACK":
            self._on_ack(req)
            return
        txn = _ServerTxn(req, src)
        with self.cond:
            self._server[(req.branch or "", method)] = txn
        if method == "CANCEL":
            self._on_cancel(req, txn)
        elif param(req.require("To"), "tag") is not None:
            self._in_dialog(req, txn)
        elif method == "INVITE":
            inv = IncomingInvite(self, req, src, txn)
            txn.invite = inv
            self._send_server_response(txn, self._response(req, 100, None, None))
            with self.cond:
                self._invites.append(inv)
                self.cond.notify_all()
        elif method == "OPTIONS":
            self._send_server_response(txn, self._response(req, 200, None, new_tag()))
        else:
            self._send_server_response(txn, self._response(req, 481, None, new_tag()))

    def _on_ack(self, ack: SipMessage) -> None:
        """Match an ACK to the INVITE server transaction it acknowledges."""
        num = ack.cseq[0]
        with self.cond:
            for txn in self._server.values():
                req = txn.request
                if (req.method == "INVITE" and req.call_id == ack.call_id
                        and req.cseq[0] == num and txn.final_status >= 200):
                    txn.acked = True
            self.cond.notify_all()

    def _on_cancel(self, req: SipMessage, txn: _ServerTxn) -> None:
        with self.cond:
            inv_txn = self._server.get((req.branch or "", "INVITE"))
        if inv_txn is None:
            self._send_server_response(txn, self._response(req, 481, None, new_tag()))
            return
        self._send_server_response(txn, self._response(req, 200, None, new_tag()))
        if inv_txn.final_status == 0 and inv_txn.invite is not None:
            inv_txn.invite.canceled = True
            self.respond_invite(inv_txn.invite, 487, None, None, [])

    def _in_dialog(self, req: SipMessage, txn: _ServerTxn) -> None:
        key = (req.call_id, param(req.require("To"), "tag") or "",
               param(req.require("From"), "tag") or "")
        with self.cond:
            dlg = self.dialogs.get(key)
        if dlg is None:
            self._send_server_response(txn, self._response(req, 481, None, None))
            return
        if req.cseq[0] <= dlg.remote_cseq:
            self._send_server_response(txn, self._response(req, 500, "CSeq out of order", None))
            return
        dlg.remote_cseq = req.cseq[0]
        if req.method == "INVITE":
            self._on_reinvite(dlg, req, txn)
        elif req.method == "BYE":
            dlg.state, dlg.ended_by = "terminated", "remote BYE"
            self._send_server_response(txn, self._response(req, 200, None, None))
        elif req.method in ("OPTIONS", "INFO", "UPDATE", "NOTIFY", "PRACK"):
            self._send_server_response(txn, self._response(req, 200, None, None))
        else:
            self._send_server_response(txn, self._response(req, 501, None, None))
        with self.cond:
            self.cond.notify_all()

    def _on_reinvite(self, dlg: Dialog, req: SipMessage, txn: _ServerTxn) -> None:
        """Record the re-INVITE and answer it (handler, dialog answer, or
        the current local SDP)."""
        with self.cond:
            dlg.reinvites.append(req)
            self.cond.notify_all()
        if req.body:
            dlg.remote_sdp = req.text_body
        contact = req.header("Contact")
        if contact:
            dlg.remote_target = uri_of(contact)
        status, sdp = 200, dlg.reinvite_answer or dlg.local_sdp
        if self.reinvite_handler is not None:
            status, sdp = self.reinvite_handler(dlg, req)
        resp = self._response(req, status, None, None)
        if 200 <= status < 300:
            resp.add("Contact", f"<{self.contact}>")
            if sdp is not None:
                resp.add("Content-Type", "application/sdp")
                resp.body = sdp.encode()
                dlg.local_sdp = sdp
        self._send_server_response(txn, resp)

    # -- queries -------------------------------------------------------------------------
    def stream_peers(self) -> list[tuple[Addr, bool, set[str]]]:
        """Every TCP/TLS connection so far: (peer address, opened by us,
        names of the peer's certificate)"""
        with self.cond:
            return [(p.addr, p.opened, set(p.names)) for p in self._conns.values()]

    def received(self, method: str | None = None, status: int | None = None) -> list[SipRecord]:
        """Received requests of ``method`` (all if None); with ``status``:
        received responses with that status (to ``method`` if given)."""
        def keep(m: SipMessage) -> bool:
            if status is None:
                return m.is_request and method in (None, m.method)
            return not m.is_request and m.status == status and method in (None, m.cseq[1])
        with self.cond:
            return [r for r in self.records if r.direction == "in" and keep(r.msg)]

    def wait_for(self, pred: Callable[[SipRecord], bool], timeout: float, what: str,
                 since: int = 0) -> SipRecord:
        """First record (index >= ``since``) matching ``pred``."""
        found: list[SipRecord] = []

        def ready() -> bool:
            found[:] = [r for r in self.records[since:] if pred(r)][:1]
            return bool(found)

        with self.cond:
            if not self.cond.wait_for(ready, timeout):
                raise HarnessTimeout(f"{self.name}: no {what} within {timeout:g} s")
            return found[0]

    def wait_request(self, method: str, timeout: float = 10.0, *, dialog: Dialog | None = None,
                     since: int = 0) -> SipRecord:
        """A received request of ``method`` (in ``dialog`` if given)."""
        def pred(r: SipRecord) -> bool:
            if r.direction != "in" or r.msg.method != method or r.retransmission:
                return False
            return dialog is None or r.msg.call_id == dialog.call_id
        return self.wait_for(pred, timeout, f"{method} request", since)

    def wait_reinvite(self, dlg: Dialog, timeout: float = 10.0, count: int = 1) -> SipMessage:
        """The ``count``-th re-INVITE received in ``dlg`` (already answered
        by the handler or with the dialog's SDP)."""
        with self.cond:
            if not self.cond.wait_for(lambda: len(dlg.reinvites) >= count, timeout):
                raise HarnessTimeout(f"{self.name}: no re-INVITE #{count} in dialog "
                                     f"{dlg.call_id} within {timeout:g} s")
            return dlg.reinvites[count - 1]

    def wait_dialog_ended(self, dlg: Dialog, timeout: float = 10.0) -> None:
        with self.cond:
            if not self.cond.wait_for(lambda: dlg.state == "terminated", timeout):
                raise HarnessTimeout(f"{self.name}: dialog {dlg.call_id} not ended "
                                     f"within {timeout:g} s")

    # -- event loop --------------------------------------------------------------------
    def _run(self) -> None:
        """The receive thread: timers, then whatever is readable."""
        while not self._stop:
            try:
                self._turn()
            except Exception as exc:    # recorded for the test to see
                self.errors.append(f"receive loop: {exc!r}")
                self.timeline.add(self.name, "SIP loop error", repr(exc))
                time.sleep(0.05)        # a persistent error must not spin

    def _turn(self) -> None:
        timeout = self._timers()
        for key, _ in self._sel.select(timeout):
            if key.data == "wake":
                self._wake_r.recv(4096)
            elif key.data == "main":
                self._read_main()
            else:
                self._read_stream(key.data)
        self._register_pending()

    def _register_pending(self) -> None:
        with self.cond:
            pending, self._pending_register = self._pending_register, []
        for peer in pending:
            self._sel.register(peer.sock, selectors.EVENT_READ, peer)

    def _read_main(self) -> None:
        if self.transport == "udp":
            try:
                data, src = self._sock.recvfrom(65535)
            except (BlockingIOError, InterruptedError):
                return
            self._dispatch(data, src[:2])
            return
        try:
            sock, src = self._sock.accept()
        except (BlockingIOError, InterruptedError):
            return
        names: set[str] = set()
        if self.tls_server is not None:
            sock.settimeout(5.0)
            try:
                sock = self.tls_server.wrap_socket(sock, server_side=True)
            except (ssl.SSLError, OSError) as exc:
                self.timeline.add(self.name, "TLS handshake refused",
                                  f"from {fmt_addr(src[:2])}: {exc}")
                sock.close()
                return
            names = cert_names(sock)
            self.timeline.add(self.name, "TLS connection", f"from {fmt_addr(src[:2])}, peer "
                              f"certificate {sorted(names)}")
        peer = _StreamPeer(sock, src[:2])
        peer.names = names
        sock.setblocking(False)
        with self.cond:
            self._conns[src[:2]] = peer
        self._sel.register(sock, selectors.EVENT_READ, peer)

    def _read_stream(self, peer: "_StreamPeer") -> None:
        try:
            with peer.lock:                 # one SSL object, one thread at a time
                data = peer.sock.recv(65535)
                while data and isinstance(peer.sock, ssl.SSLSocket) and peer.sock.pending():
                    data += peer.sock.recv(peer.sock.pending())
        except (BlockingIOError, InterruptedError, ssl.SSLWantReadError,
                ssl.SSLWantWriteError):
            return
        except OSError:
            data = b""
        if not data:
            self._sel.unregister(peer.sock)
            peer.sock.close()
            peer.closed = True
            return
        peer.rx += data
        while peer.rx.strip(b"\r\n"):
            try:
                msg, rest = SipMessage.parse(bytes(peer.rx).lstrip(b"\r\n"))
            except SipIncomplete:
                return
            except SipError as exc:
                self.timeline.add(self.name, "received bad SIP", f"{exc}; closing stream")
                peer.rx.clear()
                return
            peer.rx = bytearray(rest)
            self._handle(msg, peer.addr)

    def _dispatch(self, data: bytes, src: Addr) -> None:
        if not data.strip(b"\r\n"):
            return                                    # keep-alive
        try:
            msg, _ = SipMessage.parse(data)
        except SipError as exc:
            self.timeline.add(self.name, "received bad SIP", f"from {fmt_addr(src)}: {exc}")
            return
        self._handle(msg, src)

    def _handle(self, msg: SipMessage, src: Addr) -> None:
        """Process one message; a failure is recorded in ``errors`` and on
        the timeline, never kills the receive thread."""
        try:
            self._on_message(msg, src)
        except Exception as exc:        # reported, not hidden
            self.errors.append(f"{msg.first_line()}: {exc!r}")
            self.timeline.add(self.name, "SIP handling error", f"{msg.first_line()}: {exc}")

    def _timers(self) -> float:
        """Run due retransmissions/timeouts; seconds until the next one."""
        now = time.monotonic()
        nxt = now + 1.0
        with self.cond:
            clients = [t for t in self._client.values() if t.final is None and not t.timed_out]
            servers = [t for t in self._server.values()
                       if t.final_status >= 200 and not t.acked and t.give_up_at]
        for txn in clients:
            if now >= txn.give_up_at:
                with self.cond:
                    txn.timed_out = True
                    self.cond.notify_all()
                continue
            if txn.retransmit and now >= txn.next_at:
                self._transmit(txn.request, txn.dest, retrans=True, raw=txn.raw)
                txn.interval *= 2                    # Timer A doubles without a cap
                if txn.request.method != "INVITE":
                    txn.interval = min(txn.interval, T2)   # Timer E caps at T2
                txn.next_at = now + txn.interval
            nxt = min(nxt, txn.give_up_at, txn.next_at if txn.retransmit else nxt)
        for stx in servers:
            if now >= stx.give_up_at:
                stx.give_up_at = 0.0
                self.timeline.add(self.name, "no ACK", f"for {stx.final_status} to INVITE")
                continue
            if now >= stx.next_at and stx.last is not None:
                resp, _ = SipMessage.parse(stx.last)
                self._transmit(resp, stx.src, retrans=True, raw=stx.last)
                stx.interval = min(stx.interval * 2, T2)
                stx.next_at = now + stx.interval
            nxt = min(nxt, stx.next_at, stx.give_up_at)
        return max(0.0, nxt - now)


class _StreamPeer:
    """One TCP or TLS connection of a stream UA (``names``: those of the
    peer's TLS certificate)."""

    def __init__(self, sock: socket.socket, addr: Addr) -> None:
        self.sock = sock
        self.addr = addr
        self.rx = bytearray()
        self.closed = False
        self.names: set[str] = set()
        self.opened = False      # we connected (vs. accepted)
        self.lock = threading.Lock()

    def send(self, data: bytes, timeout: float = 5.0) -> None:
        """Send all of ``data`` within ``timeout`` (socket is non-blocking)."""
        deadline = time.monotonic() + timeout
        view = memoryview(data)
        with self.lock:
            sel = selectors.DefaultSelector()
            sel.register(self.sock, selectors.EVENT_WRITE)
            try:
                while view:
                    left = deadline - time.monotonic()
                    if left <= 0 or not sel.select(left):
                        raise HarnessTimeout(f"SIP over TCP to {fmt_addr(self.addr)}: "
                                             f"could not send within {timeout:g} s")
                    try:
                        view = view[self.sock.send(view):]
                    except (BlockingIOError, InterruptedError, ssl.SSLWantReadError,
                            ssl.SSLWantWriteError):
                        continue
            finally:
                sel.close()


# -- CLI -----------------------------------------------------------------------------

def _cli_call(args: argparse.Namespace, ua: SipUA) -> int:
    sdp = open(args.sdp_file, encoding="utf-8").read() if args.sdp_file else None
    call = ua.invite(args.to, sdp, dest=parse_addr(args.dest, 5060) if args.dest else None)
    final = call.wait_final(args.timeout)
    print(f"final: {final.status} {final.reason}")
    if final.body:
        print(final.text_body)
    if final.status and 200 <= final.status < 300:
        dlg = ua.dialog_of(call)
        deadline = time.monotonic() + args.hold
        while time.monotonic() < deadline and dlg.state != "terminated":
            with ua.cond:
                ua.cond.wait(deadline - time.monotonic())
        if dlg.state != "terminated":
            ua.bye(dlg, args.timeout)
        return 0
    return 1


def _cli_answer(args: argparse.Namespace, ua: SipUA) -> int:
    print(f"listening on {ua.transport}:{fmt_addr(ua.local)}", flush=True)
    inv = ua.wait_invite(args.wait)
    print(inv.request.to_bytes().decode(errors="replace"))
    sdp = open(args.sdp_file, encoding="utf-8").read() if args.sdp_file else None
    headers = [("ms-diagnostics-public", args.diagnostics)] if args.diagnostics else []
    inv.respond(args.status, sdp=sdp if args.status < 300 else None, headers=headers)
    inv.wait_ack(args.timeout)
    if args.status < 300 and inv.dialog is not None:
        ua.wait_dialog_ended(inv.dialog, args.hold)
    return 0


def main(argv: list[str] | None = None) -> int:
    """``call``: INVITE, wait, BYE. ``answer``: wait for an INVITE, answer."""
    ap = argparse.ArgumentParser(prog="python3 -m harness.sipua", description="tiny SIP UA")
    ap.add_argument("--local", default="127.0.0.1:0", help="local ip:port")
    ap.add_argument("--transport", choices=("udp", "tcp"), default="udp")
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("--hold", type=float, default=2.0, help="seconds in the call")
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("call")
    c.add_argument("--to", required=True, help="request URI")
    c.add_argument("--dest", help="next hop ip:port (default from the URI)")
    c.add_argument("--sdp-file")
    a = sub.add_parser("answer")
    a.add_argument("--status", type=int, default=200)
    a.add_argument("--sdp-file")
    a.add_argument("--diagnostics", help="ms-diagnostics-public value for an error")
    a.add_argument("--wait", type=float, default=30.0, help="seconds to wait for the INVITE")
    args = ap.parse_args(argv)
    ip, port = parse_addr(args.local, 0)
    ua = SipUA(ip, port, transport=args.transport, name=args.cmd)
    try:
        with ua:
            rc = _cli_call(args, ua) if args.cmd == "call" else _cli_answer(args, ua)
    except (HarnessTimeout, SipError, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        rc = 1
    print(ua.timeline.format())
    return rc


if __name__ == "__main__":
    sys.exit(main())
