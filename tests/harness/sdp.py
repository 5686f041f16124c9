"""Application-sharing SDP: build, parse, MS candidates ([MS-SDPEXT]).

* :class:`Candidate` parses and prints both candidate forms:
  Microsoft ``<f> <comp> TCP-PASS|TCP-ACT|UDP <prio> <ip> <port> typ <type>
  [raddr <ip> rport <port>]`` and RFC 5245/6544 ``... TCP ... tcptype
  active|passive|so``.
* :func:`ms_priority` computes Microsoft-layout priorities.
* :class:`Sdp` / :class:`Media` are a lenient line-preserving model.
* :func:`build_appsharing_sdp` writes the offer/answer shape of §1.2.
* :func:`multipart_alternative` / :func:`extract_sdp` handle the Lync
  ``multipart/alternative`` bodies.

CLI: ``python3 -m harness.sdp FILE`` prints the app-sharing media summary.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field

TRANSPORT_PREF = {"UDP": 15, "TCP-ACT": 6, "TCP-PASS": 6, "TCP-SO": 6}
DIRECTION_PREF = {"UDP": 7, "TCP-ACT": 5, "TCP-PASS": 2, "TCP-SO": 3}
TYPE_PREF_MS = {"host": 126, "prflx": 110, "srflx": 100, "relay": 0}


class SdpError(ValueError):
    """Malformed SDP or candidate line."""


def ms_priority(type_pref: int, transport: str, component: int,
                other: int = 0) -> int:
    """RFC 5245 priority with the Microsoft local-preference layout:
    bits 12-15 transport (UDP 15, TCP 6), 9-11 direction (UDP 7, ACT 5,
    PASS 2), 0-8 ``other``. E.g. relay TCP-PASS c1 → 0x006400FF."""
    t = transport.upper()
    if t not in TRANSPORT_PREF or not 0 <= type_pref <= 126:
        raise SdpError(f"bad transport {transport!r} or type preference {type_pref}")
    if not 1 <= component <= 256 or not 0 <= other <= 0x1FF:
        raise SdpError(f"bad component {component} or other bits {other}")
    local = (TRANSPORT_PREF[t] << 12) | (DIRECTION_PREF[t] << 9) | other
    return (type_pref << 24) | (local << 8) | (256 - component)


@dataclass
class Candidate:
    """One ``a=candidate`` (MS-ICE2 or RFC 5245/6544 syntax)."""
    foundation: str
    component: int
    transport: str
    priority: int
    ip: str
    port: int
    typ: str
    raddr: str | None = None
    rport: int | None = None
    tcptype: str | None = None
    extra: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, text: str) -> "Candidate":
        """Parse ``[a=]candidate:...`` (value after the colon also accepted)."""
        body = re.sub(r"^(a=)?candidate:\s*", "", text.strip())
        tok = body.split()
        if len(tok) < 8 or tok[6] != "typ":
            raise SdpError(f"not an ICE-19/RFC 5245 candidate: {text!r}")
        try:
            cand = cls(tok[0], int(tok[1]), tok[2].upper(), int(tok[3]), tok[4],
                       int(tok[5]), tok[7])
            rest = tok[8:]
            while len(rest) >= 2:
                key, val = rest[0], rest[1]
                if key == "raddr":
                    cand.raddr = val
                elif key == "rport":
                    cand.rport = int(val)
                elif key == "tcptype":
                    cand.tcptype = val
                else:
                    cand.extra += [key, val]
                rest = rest[2:]
        except ValueError as exc:
            raise SdpError(f"bad number in candidate {text!r}") from exc
        if not 0 <= cand.port < 65536:
            raise SdpError(f"bad port in candidate {text!r}")
        return cand

    @property
    def ms_transport(self) -> str:
        """UDP / TCP-ACT / TCP-PASS / TCP-SO whichever syntax was used."""
        if self.transport == "TCP" and self.tcptype:
            return {"active": "TCP-ACT", "passive": "TCP-PASS",
                    "so": "TCP-SO"}.get(self.tcptype, "TCP")
        return self.transport

    @property
    def addr(self) -> tuple[str, int]:
        return self.ip, self.port

    def line(self) -> str:
        """``a=candidate:...`` in the syntax it was parsed/built with."""
        out = (f"a=candidate:{self.foundation} {self.component} {self.transport} "
               f"{self.priority} {self.ip} {self.port} typ {self.typ}")
        if self.raddr is not None:
            out += f" raddr {self.raddr} rport {self.rport}"
        if self.tcptype:
            out += f" tcptype {self.tcptype}"
        if self.extra:
            out += " " + " ".join(self.extra)
        return out


@dataclass
class Media:
    """One ``m=`` section; ``lines`` keeps every following line verbatim."""
    kind: str
    port: int
    proto: str
    fmts: list[str]
    lines: list[str] = field(default_factory=list)

    def attrs(self, name: str) -> list[str]:
        """Values of every ``a=name:value`` (or "" for a flag ``a=name``)."""
        out = []
        for ln in self.lines:
            if not ln.startswith("a="):
                continue
            key, sep, val = ln[2:].partition(":")
            if key.strip() == name:
                out.append(val.strip() if sep else "")
        return out

    def attr(self, name: str) -> str | None:
        vals = self.attrs(name)
        return vals[0] if vals else None

    @property
    def connection(self) -> str | None:
        for ln in self.lines:
            if ln.startswith("c="):
                return ln.split()[-1]
        return None

    @property
    def candidates(self) -> list[Candidate]:
        out = []
        for val in self.attrs("candidate"):
            try:
                out.append(Candidate.parse(val))
            except SdpError:
                continue                     # MS-ICE v1 lines are skipped
        return out

    def find_candidates(self, transport: str | None = None, typ: str | None = None,
                        component: int | None = None) -> list[Candidate]:
        """Candidates filtered by MS transport, type and component, highest
        priority first."""
        out = [c for c in self.candidates
               if (transport is None or c.ms_transport == transport.upper())
               and (typ is None or c.typ == typ)
               and (component is None or c.component == component)]
        return sorted(out, key=lambda c: -c.priority)

    @property
    def ice_ufrag(self) -> str | None:
        return self.attr("ice-ufrag")

    @property
    def ice_pwd(self) -> str | None:
        return self.attr("ice-pwd")

    @property
    def remote_candidates(self) -> list[tuple[int, str, int]]:
        """``a=remote-candidates:<comp> <ip> <port> ...`` as tuples."""
        val = self.attr("remote-candidates")
        if val is None:
            return []
        tok = val.split()
        if len(tok) % 3:
            raise SdpError(f"a=remote-candidates has {len(tok)} tokens: {val!r}")
        return [(int(tok[i]), tok[i + 1], int(tok[i + 2])) for i in range(0, len(tok), 3)]


@dataclass
class Sdp:
    """A session description: session-level lines + media sections."""
    session: list[str] = field(default_factory=list)
    media: list[Media] = field(default_factory=list)

    @classmethod
    def parse(cls, text: str) -> "Sdp":
        """Lenient parse (CRLF or LF, blank lines ignored)."""
        sdp = cls()
        for raw in re.split(r"\r?\n", text):
            ln = raw.strip()
            if not ln:
                continue
            if len(ln) < 2 or ln[1] != "=":
                raise SdpError(f"not an SDP line: {raw!r}")
            if ln.startswith("m="):
                tok = ln[2:].split()
                if len(tok) < 3:
                    raise SdpError(f"bad m= line: {raw!r}")
                try:
                    port = int(tok[1].split("/")[0])
                except ValueError as exc:
                    raise SdpError(f"bad m= port: {raw!r}") from exc
                sdp.media.append(Media(tok[0], port, tok[2], tok[3:]))
            elif sdp.media:
                sdp.media[-1].lines.append(ln)
            else:
                sdp.session.append(ln)
        if not sdp.session or sdp.session[0] != "v=0":
            raise SdpError("SDP does not start with v=0")
        return sdp

    def find_media(self, kind: str = "applicationsharing") -> Media:
        for m in self.media:
            if m.kind == kind:
                return m
        raise SdpError(f"no m={kind} in SDP")

    @property
    def connection(self) -> str | None:
        for ln in self.session:
            if ln.startswith("c="):
                return ln.split()[-1]
        return None

    def media_connection(self, media: Media) -> str | None:
        """Media-level c= or the session one."""
        return media.connection or self.connection

    def text(self) -> str:
        out = list(self.session)
        for m in self.media:
            out.append(f"m={m.kind} {m.port} {m.proto} {' '.join(m.fmts)}".rstrip())
            out += m.lines
        return "\r\n".join(out) + "\r\n"


def tcp_candidate_pair(foundation: str, transport: str, ip: str, port: int,
                       typ: str = "host", type_pref: int | None = None,
                       raddr: tuple[str, int] | None = None,
                       components: tuple[int, ...] = (1, 2)) -> list[Candidate]:
    """MS-style TCP candidates for components 1 and 2 on the same port, with
    component 1's priority (one TCP connection carries both, and Lync wants
    the two lines identical but for the component)."""
    tp = TYPE_PREF_MS[typ] if type_pref is None else type_pref
    return [Candidate(foundation, comp, transport, ms_priority(tp, transport, 1),
                      ip, port, typ, raddr[0] if raddr else None,
                      raddr[1] if raddr else None)
            for comp in components]


def remote_candidates_value(pairs: list[tuple[int, str, int]]) -> str:
    """``a=remote-candidates`` value, sorted by component (SfB insists)."""
    return " ".join(f"{c} {ip} {port}" for c, ip, port in sorted(pairs))


def build_appsharing_sdp(ip: str, port: int, ufrag: str, pwd: str,
                         candidates: list[Candidate], *, role: str = "sharer",
                         version: int = 0, session_id: int = 1,
                         connection: str = "new", setup: str = "active",
                         contentflow: str | None = None, mid: str | None = None,
                         remote_candidates: list[tuple[int, str, int]] | None = None,
                         profile: str = "TCP/RTP/AVP",
                         extra: list[str] | None = None) -> str:
    """An app-sharing SDP body in the Lync/SIPE shape (tieto/sipe issue #89).
    ``ip:port`` is the m=/c= default; ``extra`` lines go at media level."""
    lines = ["v=0", f"o=- 0 {version} IN IP4 {ip}", "s=session",
             f"c=IN IP4 {ip}", "b=CT:99980", "t=0 0",
             f"m=applicationsharing {port} {profile} 127",
             f"a=ice-ufrag:{ufrag}", f"a=ice-pwd:{pwd}"]
    lines += [c.line() for c in candidates]
    if remote_candidates:
        lines.append(f"a=remote-candidates:{remote_candidates_value(remote_candidates)}")
    lines += ["a=rtpmap:127 x-data/90000", f"a=rtcp:{port}",
              f"a=connection:{connection}", f"a=setup:{setup}",
              f"a=x-applicationsharing-session-id:{session_id}",
              f"a=x-applicationsharing-role:{role}",
              "a=x-applicationsharing-media-type:rdp"]
    if contentflow:
        lines.append(f"a=x-applicationsharing-contentflow:{contentflow}")
    if mid:
        lines.append(f"a=mid:{mid}")
    lines += extra or []
    return "\r\n".join(lines) + "\r\n"


def multipart_alternative(parts: list[tuple[str, str]],
                          boundary: str = "shareway-harness-boundary") -> tuple[str, str]:
    """(Content-Type, body) of a ``multipart/alternative`` made of
    ``(sdp, content-disposition)`` parts, as Lync sends them."""
    chunks = []
    for sdp, disposition in parts:
        chunks.append(f"--{boundary}\r\nContent-Type: application/sdp\r\n"
                      f"Content-Transfer-Encoding: 7bit\r\n"
                      f"Content-Disposition: {disposition}\r\n\r\n{sdp}")
    body = "\r\n".join(chunks) + f"\r\n--{boundary}--\r\n"
    return f'multipart/alternative;boundary="{boundary}"', body


def extract_sdp(content_type: str | None, body: str) -> str | None:
    """The SDP of a body: itself for application/sdp; for multipart, the
    first application/sdp part that is not the ``ms-proxy-2007fallback``."""
    if not content_type or not body:
        return None
    ctype = content_type.lower()
    if ctype.startswith("application/sdp"):
        return body
    m = re.search(r'boundary="?([^";]+)"?', content_type, re.I)
    if not ctype.startswith("multipart/") or not m:
        return None
    for part in body.split(f"--{m.group(1)}")[1:]:
        head, _, content = part.partition("\r\n\r\n")
        if not content:
            head, _, content = part.partition("\n\n")
        head_l = head.lower()
        if "application/sdp" in head_l and "ms-proxy-2007fallback" not in head_l:
            return content.rstrip("\r\n") + "\r\n"
    return None


def main(argv: list[str] | None = None) -> int:
    """Print the app-sharing media of an SDP file (or stdin)."""
    ap = argparse.ArgumentParser(prog="python3 -m harness.sdp",
                                 description="summarise an app-sharing SDP")
    ap.add_argument("file", nargs="?", help="SDP file (default stdin)")
    args = ap.parse_args(argv)
    text = open(args.file, encoding="utf-8").read() if args.file else sys.stdin.read()
    try:
        sdp = Sdp.parse(text)
        m = sdp.find_media()
    except SdpError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"m={m.kind} {m.port} {m.proto} c={sdp.media_connection(m)} "
          f"ufrag={m.ice_ufrag} pwd={m.ice_pwd}")
    for c in m.candidates:
        print(f"  {c.ms_transport:8} comp {c.component} {c.ip}:{c.port} typ {c.typ} "
              f"prio {c.priority} (0x{c.priority:08x})")
    if m.remote_candidates:
        print(f"  remote-candidates {m.remote_candidates}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
