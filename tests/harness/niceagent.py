"""libnice as a real MS-ICE2 agent: NICE_COMPATIBILITY_OC2007R2, ICE-TCP.

libnice 0.1.21 (Debian ``libnice10``, through GObject introspection,
``gir1.2-nice-0.1`` + ``python3-gi``) is the MS-ICE2 implementation
pidgin-SIPE uses against Lync. Nobody here wrote it, so it checks what the
project's own :mod:`harness.iceagent` cannot: its own connectivity checks
(MS-ICE2 legacy duplicates, the bis-02 MESSAGE-INTEGRITY, its pacing),
its own pair selection and nomination (regular by default), its own
RFC 4571 framing of data.

What is libnice's and what is the harness's:

* libnice owns the sockets: a ``TCP-ACT`` host candidate that connects to
  the remote passive candidates it is given (the gateway's relay candidate,
  or a direct one), and a ``TCP-PASS`` host candidate it listens on; it
  runs the checks and nominates on them. libnice's own TURN-TCP support is
  MS-TURN (the Edge's dialect, UDP allocations), not RFC 6062, so the
  Edge's relay is played by libnice's active host candidate itself: its
  connection reaches the gateway's relayed port like the Edge relay's
  would. The RFC 6062 client (observe mode) stays the harness's.
* The harness writes the SDP, in SfB's form, from libnice's candidates:
  libnice keeps one TCP socket per component and gives each component its
  own port and priority; Lync carries both components on one connection
  and expects both lines identical but for the component. So, like
  pidgin-SIPE (its commits 6d9e0322 and e13d3ea2: one stream muxed on one
  TCP connection), the agent runs one component and the SDP offers its
  candidates for components 1 and 2 with the same address, port and
  priority. libnice's ``TCP-ACT`` candidates have port 9 (RFC 6544); the
  SDP gives them the passive candidate's port, as pidgin-SIPE does
  (``fill_zero_tcp_act_ports_from_tcp_pass``, fixed after SfB's 24000).
* Candidates cross the GI boundary as SDP lines
  (``generate_local_candidate_sdp`` / ``parse_remote_candidate_sdp``): the
  introspected ``NiceCandidate`` fields are not laid out right in 0.1.21.
* Data: a reliable agent (as pidgin-SIPE's app-sharing stream) read and
  written through its GIOStream in threads; libnice frames every write
  with RFC 4571 on ICE-TCP.

Each agent runs its own GLib main context in a thread; every wait is
bounded and says what it waited for.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass

import gi

gi.require_version("Nice", "0.1")
from gi.repository import Gio, GLib, Nice  # noqa: E402  (after require_version)

from . import sdp  # noqa: E402
from .iceagent import Credentials, DataReport, PayloadStream, stream_sha256  # noqa: E402
from .netio import HarnessTimeout  # noqa: E402
from .timeline import Timeline  # noqa: E402

CHUNK = 1200        # bytes per write: one RFC 4571 frame each, RTP-sized


@dataclass
class Selected:
    """libnice's selected pair, as the SDP lines libnice prints for it."""
    local: sdp.Candidate
    remote: sdp.Candidate
    t: float


def _cand_from_nice(line: str) -> sdp.Candidate:
    """libnice's RFC 6544 line → harness candidate (MS transport)."""
    return sdp.Candidate.parse(line)


def _nice_line(c: sdp.Candidate) -> str:
    """A harness candidate (either form) → the RFC 6544 line libnice
    parses, component 1."""
    tcptype = {"TCP-ACT": "active", "TCP-PASS": "passive", "TCP-SO": "so"}[c.ms_transport]
    line = (f"a=candidate:{c.foundation} 1 TCP {c.priority} {c.ip} "
            f"{c.port if tcptype != 'active' else 9} typ {c.typ}")
    if c.raddr is not None:
        line += f" raddr {c.raddr} rport {c.rport or 0}"
    return line + f" tcptype {tcptype}"


def _stray_stun(rx: bytearray, want: bytes) -> int:
    """At the start of ``rx``, whose expected data begins with ``want``: the
    length of a whole STUN Binding message that is not that data, 0 if it
    is data, -1 if more bytes are needed to tell. libnice 0.1.21 hands a
    check it does not take as STUN (its peer's MS-ICE2 legacy duplicate,
    the copy with the old FINGERPRINT, arriving once the pair is ready) to
    the application as data; the data stream itself is SHA-256 output."""
    k = min(len(rx), 8)
    if not rx or rx[:k] == want[:k]:
        return 0 if rx else -1
    if len(rx) < 8:
        return -1
    if rx[4:8] != b"\x21\x12\xa4\x42" or rx[0] & 0xfe:
        return 0
    if len(rx) < 20:
        return -1
    n = 20 + int.from_bytes(rx[2:4], "big")
    return n if len(rx) >= n else -1


class NiceSide:
    """One libnice OC2007R2 agent on ``ip``: one stream, one component."""

    def __init__(self, name: str, ip: str, *, controlling: bool,
                 nomination: str = "regular", timeline: Timeline | None = None) -> None:
        self.name = name
        self.ip = ip
        self.controlling = controlling
        self.timeline = timeline if timeline is not None else Timeline()
        self.ctx = GLib.MainContext.new()
        self.loop = GLib.MainLoop.new(self.ctx, False)
        flags = Nice.AgentOption.RELIABLE
        if nomination == "regular":
            flags |= Nice.AgentOption.REGULAR_NOMINATION
        self.agent = Nice.Agent.new_full(self.ctx, Nice.Compatibility.OC2007R2, flags)
        self.agent.set_property("ice-udp", False)
        self.agent.set_property("ice-tcp", True)
        self.agent.set_property("controlling-mode", controlling)
        addr = Nice.Address()
        if not addr.set_from_string(ip):
            raise ValueError(f"{name}: bad address {ip}")
        self.agent.add_local_address(addr)
        self.stream = self.agent.add_stream(1)
        self._gathered = threading.Event()
        self._state = threading.Condition()
        self.states: list[str] = []
        self.selected: Selected | None = None
        self.agent.connect("candidate-gathering-done", self._on_gathered)
        self.agent.connect("component-state-changed", self._on_state)
        self.agent.connect("new-selected-pair-full", self._on_selected)
        self.ios = self.agent.get_io_stream(self.stream, 1)
        self._thread = threading.Thread(target=self.loop.run, name=f"{name}-glib", daemon=True)
        self._thread.start()
        # libnice reads its sockets (checks included) only while someone
        # reads the stream: one blocking reader from the start
        self._rx = bytearray()
        self._rx_cond = threading.Condition()
        self._rx_end: BaseException | None = None
        self._cancel = Gio.Cancellable()
        self._reader = threading.Thread(target=self._read_loop, name=f"{name}-read",
                                        daemon=True)
        self._reader.start()
        self.cred = Credentials("", "")
        self.local: list[sdp.Candidate] = []

    # -- signals (the agent's GLib thread) ------------------------------------
    def _on_gathered(self, _agent, _stream) -> None:
        self._gathered.set()

    def _on_state(self, _agent, _stream, _comp, state) -> None:
        nick = Nice.ComponentState(state).value_nick
        with self._state:
            self.states.append(nick)
            self._state.notify_all()
        self.timeline.add(self.name, f"libnice {nick}", "")

    def _on_selected(self, agent, _stream, _comp, lcand, rcand) -> None:
        local = _cand_from_nice(agent.generate_local_candidate_sdp(lcand))
        remote = _cand_from_nice(agent.generate_local_candidate_sdp(rcand))
        with self._state:
            self.selected = Selected(local, remote, time.monotonic())
            self._state.notify_all()
        self.timeline.add(self.name, "libnice selected pair",
                          f"{local.ip}:{local.port} {local.typ} -> {remote.ip}:{remote.port} "
                          f"{remote.typ}")

    def _read_loop(self) -> None:
        inp = self.ios.get_input_stream()
        try:
            while True:
                got = inp.read_bytes(65536, self._cancel).get_data() or b""
                with self._rx_cond:
                    if not got:
                        self._rx_end = EOFError(f"{self.name}: libnice stream closed")
                    self._rx += got
                    self._rx_cond.notify_all()
                if not got:
                    return
        except GLib.Error as exc:       # cancelled by close(), or the agent's error
            with self._rx_cond:
                self._rx_end = exc
                self._rx_cond.notify_all()

    # -- candidates -----------------------------------------------------------
    def gather(self, timeout: float = 5.0) -> list[sdp.Candidate]:
        """Gather host candidates; returns them in SfB's SDP form."""
        if not self.agent.gather_candidates(self.stream):
            raise RuntimeError(f"{self.name}: libnice gathered nothing on {self.ip}")
        if not self._gathered.wait(timeout):
            raise HarnessTimeout(f"{self.name}: libnice candidate gathering not done "
                                 f"within {timeout:g} s")
        ok, ufrag, pwd = self.agent.get_local_credentials(self.stream)
        if not ok:
            raise RuntimeError(f"{self.name}: no local credentials")
        self.cred = Credentials(ufrag, pwd)
        lines = [self.agent.generate_local_candidate_sdp(c)
                 for c in self.agent.get_local_candidates(self.stream, 1)]
        raw = [_cand_from_nice(line) for line in lines]
        passive = [c for c in raw if c.ms_transport == "TCP-PASS"]
        if not passive:
            raise RuntimeError(f"{self.name}: libnice has no TCP-PASS candidate: {lines}")
        self.local = []
        for c in sorted(raw, key=lambda c: -c.priority):
            port = c.port if c.ms_transport == "TCP-PASS" else passive[0].port
            self.local += [sdp.Candidate(c.foundation, comp, c.ms_transport, c.priority, c.ip,
                                         port, c.typ) for comp in (1, 2)]
        self.timeline.add(self.name, "libnice candidates", "; ".join(lines))
        return self.local

    def set_remote(self, cred: Credentials, cands: list[sdp.Candidate]) -> None:
        """The peer's credentials and its TCP candidates of component 1."""
        self.agent.set_remote_credentials(self.stream, cred.ufrag, cred.pwd)
        nice = []
        for c in cands:
            if c.component != 1 or c.ms_transport not in ("TCP-ACT", "TCP-PASS"):
                continue
            nc = self.agent.parse_remote_candidate_sdp(self.stream, _nice_line(c))
            if nc is None:
                raise ValueError(f"{self.name}: libnice refuses {_nice_line(c)}")
            nice.append(nc)
        self.timeline.add(self.name, "libnice remote candidates",
                          "; ".join(f"{c.ip}:{c.port} {c.ms_transport} {c.typ}"
                                    for c in cands if c.component == 1))
        if nice and self.agent.set_remote_candidates(self.stream, 1, nice) < 1:
            raise RuntimeError(f"{self.name}: libnice took none of {len(nice)} candidates")

    # -- state ----------------------------------------------------------------
    def wait_ready(self, timeout: float = 15.0) -> Selected:
        """Until libnice says ready and has a selected pair; raises if it
        fails or the time passes."""
        deadline = time.monotonic() + timeout
        with self._state:
            while not ("ready" in self.states and self.selected):
                if "failed" in self.states:
                    raise AssertionError(f"{self.name}: libnice ICE failed ({self.states})")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise HarnessTimeout(f"{self.name}: libnice not ready within {timeout:g} s "
                                         f"(states {self.states})")
                self._state.wait(left)
            return self.selected

    # -- data -----------------------------------------------------------------
    def exchange(self, send: int, recv: int, peer_seed: bytes,
                 timeout: float = 60.0) -> DataReport:
        """Write ``send`` bytes of PayloadStream(name) and read ``recv``
        bytes that must be PayloadStream(peer_seed), at the same time."""
        rep = DataReport(expected_bytes=recv, expected_sha256=stream_sha256(peer_seed, recv))
        err: list[BaseException] = []
        t0 = time.monotonic()

        def writer() -> None:
            try:
                out = self.ios.get_output_stream()
                ps = PayloadStream(self.name.encode())
                h = hashlib.sha256()
                left = send
                while left:
                    chunk = ps.read(min(CHUNK, left))
                    out.write_all(chunk, None)
                    h.update(chunk)
                    left -= len(chunk)
                    rep.sent_packets += 1
                rep.sent_bytes = send
                rep.sent_sha256 = h.hexdigest()
            except BaseException as exc:    # reported by the joining thread
                err.append(exc)

        w = threading.Thread(target=writer, name=f"{self.name}-write", daemon=True)
        w.start()
        expect = PayloadStream(peer_seed)
        ahead = bytearray(expect.read(8))   # expected bytes not matched yet
        h = hashlib.sha256()
        deadline = t0 + timeout
        with self._rx_cond:
            while rep.received_bytes < recv:
                stray = _stray_stun(self._rx, ahead)
                if stray < 0:           # more bytes needed to tell
                    if self._rx_end is not None or time.monotonic() >= deadline:
                        if not self._rx:
                            break
                        stray = 0
                    else:
                        self._rx_cond.wait(deadline - time.monotonic())
                        continue
                if stray:               # libnice's own check handed over as data
                    self.timeline.add(self.name, "STUN handed over as data",
                                      f"{stray} bytes: {bytes(self._rx[:8]).hex()}…, dropped")
                    del self._rx[:stray]
                    rep.stun_frames += 1
                    continue
                data = bytes(self._rx[:recv - rep.received_bytes])
                del self._rx[:len(data)]
                if len(ahead) < len(data):
                    ahead += expect.read(len(data) - len(ahead))
                want = bytes(ahead[:len(data)])
                del ahead[:len(data)]
                if data != want and rep.first_mismatch is None:
                    rep.first_mismatch = rep.received_bytes + next(
                        i for i, (a, b) in enumerate(zip(data, want)) if a != b)
                    at = rep.first_mismatch - rep.received_bytes
                    self.timeline.add(self.name, "data mismatch",
                                      f"at byte {rep.first_mismatch}: got "
                                      f"{data[at:at + 24].hex()} want {want[at:at + 24].hex()}")
                h.update(data)
                rep.received_bytes += len(data)
                rep.received_packets += 1
                if len(ahead) < 8:
                    ahead += expect.read(8 - len(ahead))
        w.join(max(0.1, deadline - time.monotonic()))
        rep.received_sha256 = h.hexdigest()
        rep.seconds = time.monotonic() - t0
        if err:
            raise err[0]
        if w.is_alive() or rep.received_bytes < recv:
            raise HarnessTimeout(f"{self.name}: data not done within {timeout:g} s "
                                 f"({rep.describe()}; reader: {self._rx_end})")
        return rep

    def close(self) -> None:
        """Stop the agent and its thread (bounded)."""
        done = threading.Event()

        self._cancel.cancel()

        def stop(*_) -> bool:
            try:
                self.agent.remove_stream(self.stream)
            finally:
                self.loop.quit()
                done.set()
            return False
        src = GLib.idle_source_new()
        src.set_callback(stop)
        src.attach(self.ctx)
        done.wait(5)
        self._thread.join(5)
        self._reader.join(5)
