"""Building blocks for end-to-end app-sharing scenarios around sharewayd.

* :class:`EdgeSide` plays the Skype for Business Edge: a SIP UA (the caller,
  ICE controlling) whose offer carries the Edge relay's TCP-ACT/TCP-PASS
  ``typ relay`` candidates on ``media_ip:relay_port``; after the answer its
  "relay" actively connects from ``media_ip:relay_port`` to the best TCP-PASS
  candidate of the answer (``typ relay`` first: the gateway's), runs the
  MS-ICE2 agent there, and can send the completion re-INVITE.
* :class:`ConfSide` plays the conference server (CMS): a SIP UA (the callee,
  ICE controlled) that answers the app-sharing INVITE, either with a TCP-PASS
  host candidate it listens on (``mode="relay"``: the gateway connects to it)
  or, like CMS in Cisco doc 212580, as a TURN client of a server
  (``mode="observe"``): Allocate, CreatePermission for the offer's candidate
  IPs, its relayed address as ``typ relay`` candidate in the 200 OK, then
  ConnectionAttempt → ConnectionBind. It answers the completion re-INVITE
  with its used candidate only and checks that the final offer names
  candidates it knows (MS-ICE2).

Both record everything on one shared :class:`~harness.timeline.Timeline`.
Blocking steps take timeouts; :func:`in_thread` runs one side's step while
the test drives the other.
"""

from __future__ import annotations

import socket
import ssl
import threading
from typing import Any, Callable

from . import sdp
from .iceagent import AgentRun, Credentials, IceAgent
from .netio import (Addr, HarnessTimeout, StreamConn, accept_conn, connect_tcp,
                    fmt_addr, listen_tcp)
from .sipua import Call, Dialog, IncomingInvite, SipError, SipMessage, SipUA, TlsIdentity
from .stun import MI_MSICE2, MI_RFC5389
from .timeline import Timeline
from .turnclient import TurnTcpClient

class Task(threading.Thread):
    """A function run in a thread; :meth:`result` joins (bounded) and
    returns its value or re-raises its exception."""

    def __init__(self, fn: Callable[..., Any], *args: Any, **kw: Any) -> None:
        super().__init__(name=f"task-{getattr(fn, '__name__', 'fn')}", daemon=True)
        self._fn, self._args, self._kw = fn, args, kw
        self._value: Any = None
        self._error: BaseException | None = None

    def run(self) -> None:
        try:
            self._value = self._fn(*self._args, **self._kw)
        except BaseException as exc:        # handed to the joining thread
            self._error = exc

    def result(self, timeout: float = 30.0) -> Any:
        self.join(timeout)
        if self.is_alive():
            raise HarnessTimeout(f"{self.name} still running after {timeout:g} s")
        if self._error is not None:
            raise self._error
        return self._value


def in_thread(fn: Callable[..., Any], *args: Any, **kw: Any) -> Task:
    """Start ``fn(*args, **kw)`` in a thread; returns the :class:`Task`."""
    task = Task(fn, *args, **kw)
    task.start()
    return task


def _media_of(body: str) -> sdp.Media:
    return sdp.Sdp.parse(body).find_media("applicationsharing")


class EdgeSide:
    """The SfB Edge neighbour (caller, controlling)."""

    def __init__(self, *, relay_port: int, sip_ip: str = "127.0.0.2", sip_port: int = 0,
                 media_ip: str = "127.0.0.2", transport: str = "udp",
                 timeline: Timeline | None = None, name: str = "Edge",
                 peer_name: str = "CMS", role: str = "viewer", legacy_duplicate: bool = True,
                 mi_style: str = MI_MSICE2, offer_passive: bool = True,
                 tls: TlsIdentity | None = None, contact_host: str | None = None) -> None:
        self.timeline = timeline if timeline is not None else Timeline()
        self.name = name
        self.peer_name = peer_name
        self.media_ip = media_ip
        self.relay_port = relay_port
        self.role = role
        self.legacy_duplicate = legacy_duplicate
        self.mi_style = mi_style
        self.offer_passive = offer_passive
        self.cred = Credentials.random()
        # over TLS the Edge is Lync: in-dialog requests only to a host name
        self.ua = SipUA(sip_ip, sip_port, transport=transport, name=f"{name} SIP",
                        user="edge", timeline=self.timeline, tls=tls,
                        fqdn_only=tls is not None, contact_host=contact_host).start()
        self.invite_call: Call | None = None
        self.dialog: Dialog | None = None
        self.answer: sdp.Media | None = None
        self.remote: sdp.Candidate | None = None
        self.conn: StreamConn | None = None
        self.agent: IceAgent | None = None

    def candidates(self) -> list[sdp.Candidate]:
        """The Edge relay's candidates: TCP-ACT (and TCP-PASS), comps 1+2."""
        raddr = (self.media_ip, self.relay_port)
        out = sdp.tcp_candidate_pair("1", "TCP-ACT", self.media_ip, self.relay_port,
                                     "relay", raddr=raddr)
        if self.offer_passive:
            out += sdp.tcp_candidate_pair("2", "TCP-PASS", self.media_ip, self.relay_port,
                                          "relay", raddr=raddr)
        return out

    def offer_sdp(self) -> str:
        return sdp.build_appsharing_sdp(self.media_ip, self.relay_port, self.cred.ufrag,
                                        self.cred.pwd, self.candidates(), role=self.role)

    def call(self, target: str, *, dest: Addr | None = None, timeout: float = 10.0,
             body: tuple[str, str] | None = None) -> SipMessage:
        """INVITE ``target`` with the app-sharing offer (``body`` = (content
        type, text) to send something else, e.g. a multipart); returns the
        final response (2xx ACKed, answer parsed)."""
        if body is None:
            self.invite_call = self.ua.invite(target, self.offer_sdp(), dest=dest)
        else:
            self.invite_call = self.ua.invite(target, dest=dest, content_type=body[0], body=body[1])
        final = self.invite_call.wait_final(timeout)
        if final.status and 200 <= final.status < 300:
            self.dialog = self.invite_call.dialog
            self.answer = _media_of(sdp.extract_sdp(final.header("Content-Type"),
                                                    final.text_body) or "")
        return final

    def pick_remote(self) -> sdp.Candidate:
        """The answer's TCP-PASS component-1 candidate to connect to: relay
        ones first (the gateway's), then by priority."""
        if self.answer is None:
            raise SipError(f"{self.name}: no SDP answer yet")
        cands = self.answer.find_candidates("TCP-PASS", component=1)
        if not cands:
            raise SipError(f"{self.name}: the answer has no TCP-PASS candidate:\n"
                           + "\n".join(self.answer.lines))
        cands.sort(key=lambda c: (c.typ != "relay", -c.priority))
        return cands[0]

    def connect_media(self, timeout: float = 5.0) -> StreamConn:
        """The Edge relay's active TCP connection to :meth:`pick_remote`."""
        self.remote = self.pick_remote()
        self.conn = connect_tcp(self.remote.addr, (self.media_ip, self.relay_port), timeout,
                                f"{self.name} relay connection")
        self.timeline.add(self.name, "TCP connect to the answer's candidate",
                          f"{self.conn.describe()} (typ {self.remote.typ})")
        return self.conn

    def start_ice(self, *, checks_timeout: float = 10.0, send_bytes: int = 0,
                  recv_bytes: int = 0, sequential: str | None = None,
                  data_timeout: float = 30.0, **agent_kw: Any) -> AgentRun:
        """Run the controlling agent (nominating) on the media connection."""
        if self.conn is None or self.answer is None:
            raise SipError(f"{self.name}: connect_media() first")
        remote = Credentials(self.answer.ice_ufrag or "", self.answer.ice_pwd or "")
        kw = dict(controlling=True, local=self.cred, remote=remote, name=self.name,
                  peer_name=self.peer_name, foundation="1", timeline=self.timeline,
                  legacy_duplicate=self.legacy_duplicate, mi_style=self.mi_style)
        kw.update(agent_kw)
        self.agent = IceAgent(self.conn, **kw)
        run = AgentRun(self.agent, checks_timeout, send_bytes, recv_bytes, data_timeout,
                       sequential=sequential)
        run.start()
        return run

    def final_offer_sdp(self) -> str:
        """The completion offer: the used local candidate (TCP-ACT relay,
        comps 1+2) and a=remote-candidates naming the connected candidate."""
        if self.remote is None:
            raise SipError(f"{self.name}: no selected remote candidate")
        used = sdp.tcp_candidate_pair("1", "TCP-ACT", self.media_ip, self.relay_port,
                                      "relay", raddr=(self.media_ip, self.relay_port))
        rc = [(comp, self.remote.ip, self.remote.port) for comp in (1, 2)]
        return sdp.build_appsharing_sdp(self.media_ip, self.relay_port, self.cred.ufrag,
                                        self.cred.pwd, used, role=self.role, version=1,
                                        remote_candidates=rc)

    def final_reinvite(self, timeout: float = 10.0) -> SipMessage:
        """Send the completion re-INVITE; returns the final response."""
        if self.dialog is None:
            raise SipError(f"{self.name}: no dialog")
        return self.ua.reinvite(self.dialog, self.final_offer_sdp(), timeout)

    def hangup(self, timeout: float = 10.0) -> SipMessage:
        if self.dialog is None:
            raise SipError(f"{self.name}: no dialog to hang up")
        return self.ua.bye(self.dialog, timeout)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.ua.stop()


class ConfSide:
    """The conference neighbour (callee, controlled), relay or observe mode."""

    def __init__(self, *, mode: str = "relay", sip_ip: str = "127.0.0.3", sip_port: int = 0,
                 media_ip: str = "127.0.0.3", listen_port: int = 0,
                 turn_server: Addr | None = None, turn_user: str = "cms",
                 turn_password: str = "cmssecret", transport: str = "udp",
                 timeline: Timeline | None = None, name: str = "CMS",
                 peer_name: str = "Edge", respond: str = "ok", strict_final_offer: bool = True,
                 mi_style: str = MI_RFC5389, turn_tls: ssl.SSLContext | None = None) -> None:
        if mode not in ("relay", "observe"):
            raise ValueError(f"mode must be relay or observe, not {mode!r}")
        if mode == "observe" and turn_server is None:
            raise ValueError("observe mode needs turn_server")
        self.mode = mode
        self.timeline = timeline if timeline is not None else Timeline()
        self.name = name
        self.peer_name = peer_name
        self.media_ip = media_ip
        self.listen_port = listen_port
        self.respond = respond
        self.strict_final_offer = strict_final_offer
        self.mi_style = mi_style
        self.cred = Credentials.random()
        self.turn = (TurnTcpClient(turn_server, turn_user, turn_password, bind_ip=media_ip,
                                   timeline=self.timeline, actor=name, tls=turn_tls)
                     if turn_server is not None else None)
        self.ua = SipUA(sip_ip, sip_port, transport=transport, name=f"{name} SIP",
                        user="asmcu", timeline=self.timeline).start()
        self.ua.reinvite_handler = self._on_reinvite
        self.listener: socket.socket | None = None
        self.role = "sharer"
        self.invite: IncomingInvite | None = None
        self.offer: sdp.Media | None = None
        self.local_cands: list[sdp.Candidate] = []
        self.conn: StreamConn | None = None
        self.agent: IceAgent | None = None
        self.final_offer_problems: list[str] | None = None

    @property
    def uri(self) -> str:
        """Where to send the INVITE: the ASMCU-like URI of this UA."""
        return f"sip:asmcu@{fmt_addr(self.ua.local)};transport={self.ua.transport}"

    # -- SIP ---------------------------------------------------------------------
    def answer_call(self, timeout: float = 10.0, *, ringing: bool = True) -> IncomingInvite:
        """Wait for the INVITE, prepare the media side, answer 200, wait
        for the ACK."""
        inv = self.wait_offer(timeout)
        if ringing:
            inv.respond(180)
        inv.respond(200, sdp=self.answer_sdp())
        inv.wait_ack(timeout)
        return inv

    def wait_offer(self, timeout: float = 10.0) -> IncomingInvite:
        """Wait for the INVITE and parse its app-sharing offer."""
        self.invite = self.ua.wait_invite(timeout)
        body = sdp.extract_sdp(self.invite.request.header("Content-Type"),
                               self.invite.request.text_body)
        if body is None:
            raise SipError(f"{self.name}: INVITE without an SDP offer")
        self.offer = _media_of(body)
        return self.invite

    def reject(self, status: int = 488, diagnostics: str | None = None) -> None:
        """Answer the pending INVITE with an error (and ms-diagnostics-public)."""
        if self.invite is None:
            raise SipError(f"{self.name}: no INVITE to reject")
        headers = [("ms-diagnostics-public", diagnostics)] if diagnostics else []
        self.invite.respond(status, headers=headers)

    def answer_sdp(self) -> str:
        """Prepare the media side and build the answer (role reversed)."""
        if self.offer is None:
            raise SipError(f"{self.name}: no offer")
        self.role = {"viewer": "sharer", "sharer": "viewer"}.get(
            self.offer.attr("x-applicationsharing-role") or "", "sharer")
        if self.mode == "relay":
            ip, port, typ, raddr = self._listen()
        else:
            ip, port, typ, raddr = self._allocate()
        self.local_cands = (sdp.tcp_candidate_pair("1", "TCP-PASS", ip, port, typ, raddr=raddr)
                            + sdp.tcp_candidate_pair("2", "TCP-ACT", ip, port, typ, raddr=raddr))
        return sdp.build_appsharing_sdp(ip, port, self.cred.ufrag, self.cred.pwd,
                                        self.local_cands, role=self.role)

    def _listen(self) -> tuple[str, int, str, Addr | None]:
        self.listener = listen_tcp((self.media_ip, self.listen_port))
        port = self.listener.getsockname()[1]
        self.timeline.add(self.name, "TCP-PASS listening", f"{self.media_ip}:{port}")
        return self.media_ip, port, "host", None

    def _allocate(self) -> tuple[str, int, str, Addr | None]:
        assert self.turn is not None and self.offer is not None
        alloc = self.turn.allocate(600)
        self.turn.refresh(600)
        peers = sorted({c.ip for c in self.offer.candidates})
        self.turn.create_permission(peers)
        return alloc.relayed[0], alloc.relayed[1], "relay", alloc.mapped

    def _on_reinvite(self, dlg: Dialog, req: SipMessage) -> tuple[int, str | None]:
        """A re-INVITE with a=remote-candidates is the completion offer: check
        the candidates it names, answer 200 with the used local candidate
        only (MS-ICE2), or 488 if the check failed and ``strict_final_offer``.
        Any other re-INVITE gets 200 with the current local SDP."""
        try:
            final = bool(_media_of(req.text_body).remote_candidates)
        except (sdp.SdpError, ValueError):
            final = True                    # let the check report it
        if not final:
            self.timeline.add(self.name, "re-INVITE without a=remote-candidates",
                              "answered with the current SDP")
            return 200, dlg.local_sdp
        problems = self.check_final_offer(req.text_body)
        self.final_offer_problems = problems
        self.timeline.add(self.name, "final offer checked",
                          "; ".join(problems) if problems else "candidates known")
        if problems and self.strict_final_offer:
            return 488, None
        used = [c for c in self.local_cands if c.ms_transport == "TCP-PASS"]
        if not used:
            return 200, dlg.local_sdp
        return 200, sdp.build_appsharing_sdp(used[0].ip, used[0].port, self.cred.ufrag,
                                             self.cred.pwd, used, role=self.role, version=1)

    def check_final_offer(self, body: str) -> list[str]:
        """Problems of a final offer: a=remote-candidates must name our own
        candidates (sorted by component), its a=candidate lines must be
        candidates of the initial offer or the peer of our media connection."""
        try:
            media = _media_of(body)
        except (sdp.SdpError, ValueError) as exc:
            return [f"unparsable SDP: {exc}"]
        problems = []
        ours = {c.addr for c in self.local_cands}
        rcs = media.remote_candidates
        if not rcs:
            problems.append("no a=remote-candidates")
        if [c for c, _, _ in rcs] != sorted(c for c, _, _ in rcs):
            problems.append("a=remote-candidates not sorted by component")
        for comp, ip, port in rcs:
            if (ip, port) not in ours:
                problems.append(f"remote candidate {comp} {ip}:{port} is not ours")
        known = {c.addr for c in self.offer.candidates} if self.offer else set()
        if self.conn is not None and self.conn.peer is not None:
            known.add(self.conn.peer)
        for cand in media.candidates:
            if cand.addr not in known:
                problems.append(f"candidate {cand.ip}:{cand.port} unknown")
        return problems

    # -- media -------------------------------------------------------------------
    def accept_media(self, timeout: float = 10.0) -> StreamConn:
        """Relay mode: accept the gateway's connection on the TCP-PASS
        listener. Observe mode: ConnectionAttempt + ConnectionBind."""
        if self.mode == "relay":
            if self.listener is None:
                raise SipError(f"{self.name}: no TCP-PASS listener (answer first)")
            self.conn = accept_conn(self.listener, timeout, "TCP connection to the "
                                    "TCP-PASS candidate", f"{self.name} media connection")
            self.timeline.add(self.name, "accepted TCP connection", self.conn.describe())
        else:
            assert self.turn is not None
            _, self.conn = self.turn.accept_peer(timeout)
        return self.conn

    def start_ice(self, *, checks_timeout: float = 10.0, send_bytes: int = 0,
                  recv_bytes: int = 0, sequential: str | None = None,
                  data_timeout: float = 30.0, **agent_kw: Any) -> AgentRun:
        """Run the controlled agent on the media connection."""
        if self.conn is None or self.offer is None:
            raise SipError(f"{self.name}: accept_media() first")
        remote = Credentials(self.offer.ice_ufrag or "", self.offer.ice_pwd or "")
        kw = dict(controlling=False, local=self.cred, remote=remote, name=self.name,
                  peer_name=self.peer_name, foundation="1", timeline=self.timeline,
                  respond=self.respond, mi_style=self.mi_style,
                  priority=sdp.ms_priority(110, "TCP-PASS", 1, other=3))
        kw.update(agent_kw)
        self.agent = IceAgent(self.conn, **kw)
        run = AgentRun(self.agent, checks_timeout, send_bytes, recv_bytes, data_timeout,
                       sequential=sequential)
        run.start()
        return run

    def close(self) -> None:
        """Refresh 0 (observe mode), close sockets, stop the UA."""
        try:
            if self.turn is not None:
                self.turn.close()
        finally:
            if self.conn is not None:
                self.conn.close()
            if self.listener is not None:
                self.listener.close()
            self.ua.stop()
