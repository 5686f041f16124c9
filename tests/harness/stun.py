"""STUN / TURN / MS-ICE2 message codec and RFC 4571 framing.

Covers RFC 5389/8489 (header, attributes, MESSAGE-INTEGRITY, FINGERPRINT),
RFC 5766/8656 TURN, RFC 6062 (Connect, ConnectionBind, ConnectionAttempt,
CONNECTION-ID 0x002A), RFC 5245 ICE attributes and the MS-ICE2 additions
(CANDIDATE-IDENTIFIER 0x8054, IMPLEMENTATION-VERSION 0x8070, NUL-padded
USERNAME whose padding counts in the attribute length; MS-ICE2 2.2.2).

MESSAGE-INTEGRITY comes in two styles:

* ``MI_RFC5389``: HMAC-SHA1 over the message up to MI, header length covering
  MI (RFC 5389 §15.4);
* ``MI_MSICE2``: what MS-ICE2 peers with IMPLEMENTATION-VERSION 2 (libnice
  OC2007R2) send, the RFC 3489bis-02 form: header length = final length
  including FINGERPRINT, input zero-padded to a multiple of 64 bytes.

Keys: short-term = the ice-pwd bytes; long-term = MD5(user:realm:pass)
(:func:`long_term_key`, no SASLprep: ASCII credentials only).

CLI: ``python3 -m harness.stun decode HEX [--key-pwd PWD]`` prints a message.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import ipaddress
import secrets
import struct
import sys
import zlib
from dataclasses import dataclass, field
from enum import IntEnum

MAGIC_COOKIE = 0x2112A442
COOKIE_BYTES = struct.pack("!I", MAGIC_COOKIE)
FINGERPRINT_XOR = 0x5354554E
HEADER_LEN = 20

MI_RFC5389 = "rfc5389"
MI_MSICE2 = "msice2"
FP_RFC5389 = "rfc5389"
FP_MS_LEGACY = "ms-legacy"


class Method(IntEnum):
    """STUN/TURN methods (RFC 5389, 5766, 6062)."""
    BINDING = 0x001
    ALLOCATE = 0x003
    REFRESH = 0x004
    SEND = 0x006
    DATA = 0x007
    CREATE_PERMISSION = 0x008
    CHANNEL_BIND = 0x009
    CONNECT = 0x00A
    CONNECTION_BIND = 0x00B
    CONNECTION_ATTEMPT = 0x00C


class Cls(IntEnum):
    """STUN message classes."""
    REQUEST = 0
    INDICATION = 1
    SUCCESS = 2
    ERROR = 3


class Attr(IntEnum):
    """Attribute types used by the harness."""
    MAPPED_ADDRESS = 0x0001
    USERNAME = 0x0006
    MESSAGE_INTEGRITY = 0x0008
    ERROR_CODE = 0x0009
    UNKNOWN_ATTRIBUTES = 0x000A
    CHANNEL_NUMBER = 0x000C
    LIFETIME = 0x000D
    XOR_PEER_ADDRESS = 0x0012
    DATA = 0x0013
    REALM = 0x0014
    NONCE = 0x0015
    XOR_RELAYED_ADDRESS = 0x0016
    REQUESTED_ADDRESS_FAMILY = 0x0017
    EVEN_PORT = 0x0018
    REQUESTED_TRANSPORT = 0x0019
    DONT_FRAGMENT = 0x001A
    XOR_MAPPED_ADDRESS = 0x0020
    RESERVATION_TOKEN = 0x0022
    PRIORITY = 0x0024
    USE_CANDIDATE = 0x0025
    CONNECTION_ID = 0x002A
    SOFTWARE = 0x8022
    ALTERNATE_SERVER = 0x8023
    FINGERPRINT = 0x8028
    ICE_CONTROLLED = 0x8029
    ICE_CONTROLLING = 0x802A
    CANDIDATE_IDENTIFIER = 0x8054
    IMPLEMENTATION_VERSION = 0x8070


XOR_ADDRESS_ATTRS = {Attr.XOR_PEER_ADDRESS, Attr.XOR_RELAYED_ADDRESS,
                     Attr.XOR_MAPPED_ADDRESS}
PLAIN_ADDRESS_ATTRS = {Attr.MAPPED_ADDRESS, Attr.ALTERNATE_SERVER}
TEXT_ATTRS = {Attr.USERNAME, Attr.REALM, Attr.NONCE, Attr.SOFTWARE,
              Attr.CANDIDATE_IDENTIFIER}
U32_ATTRS = {Attr.LIFETIME, Attr.PRIORITY, Attr.CONNECTION_ID,
             Attr.IMPLEMENTATION_VERSION, Attr.FINGERPRINT}

METHOD_NAMES = {
    Method.BINDING: "Binding", Method.ALLOCATE: "Allocate",
    Method.REFRESH: "Refresh", Method.SEND: "Send", Method.DATA: "Data",
    Method.CREATE_PERMISSION: "CreatePermission",
    Method.CHANNEL_BIND: "ChannelBind", Method.CONNECT: "Connect",
    Method.CONNECTION_BIND: "ConnectionBind",
    Method.CONNECTION_ATTEMPT: "ConnectionAttempt",
}
CLASS_NAMES = {Cls.REQUEST: "request", Cls.INDICATION: "indication",
               Cls.SUCCESS: "success", Cls.ERROR: "error"}

# TURN REQUESTED-TRANSPORT protocol numbers
TRANSPORT_TCP = 6
TRANSPORT_UDP = 17


class StunError(ValueError):
    """Malformed STUN bytes or a missing/invalid attribute."""


def message_type(method: int, cls: int) -> int:
    """Method + class → the 14-bit message type (RFC 5389 §6)."""
    if not 0 <= method <= 0xFFF or not 0 <= cls <= 3:
        raise StunError(f"bad method 0x{method:x} or class {cls}")
    return (((method & 0xF80) << 2) | ((method & 0x070) << 1)
            | (method & 0x00F) | ((cls & 2) << 7) | ((cls & 1) << 4))


def split_type(mtype: int) -> tuple[int, int]:
    """Message type → (method, class)."""
    method = (mtype & 0x000F) | ((mtype & 0x00E0) >> 1) | ((mtype & 0x3E00) >> 2)
    cls = ((mtype & 0x0100) >> 7) | ((mtype & 0x0010) >> 4)
    return method, cls


def new_tid() -> bytes:
    """A fresh random 96-bit transaction ID."""
    return secrets.token_bytes(12)


def long_term_key(username: str, realm: str, password: str) -> bytes:
    """RFC 5389 §15.4 long-term key: MD5(username ":" realm ":" password)."""
    return hashlib.md5(f"{username}:{realm}:{password}".encode()).digest()


def ms_pad(value: bytes) -> bytes:
    """NUL-pad to a multiple of 4 (MS-ICE2 USERNAME/CANDIDATE-IDENTIFIER:
    the padding is part of the value and counted in the length)."""
    return value + b"\0" * (-len(value) % 4)


# -- CRC-32 with Microsoft's legacy table typo -------------------------------

def _crc_table(poly: int = 0xEDB88320) -> list[int]:
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        table.append(c)
    return table


_MS_LEGACY_TABLE = [0x08BBE8EA if v == 0x8BBEB8EA else v for v in _crc_table()]


def crc32_ms_legacy(data: bytes) -> int:
    """CRC-32 with the MS table entry 0x8bbeb8ea mistyped as 0x8bbe8ea, as in
    the "legacy" duplicate checks libnice sends (stun/stuncrc32.c)."""
    crc = 0xFFFFFFFF
    for b in data:
        crc = _MS_LEGACY_TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


# -- addresses ---------------------------------------------------------------

def encode_address(ip: str, port: int, xor: bool, tid: bytes) -> bytes:
    """(X)MAPPED-ADDRESS-style value for ``ip:port``."""
    addr = ipaddress.ip_address(ip)
    raw = addr.packed
    if xor:
        port ^= MAGIC_COOKIE >> 16
        mask = COOKIE_BYTES + tid
        raw = bytes(a ^ b for a, b in zip(raw, mask))
    family = 1 if addr.version == 4 else 2
    return struct.pack("!BBH", 0, family, port) + raw


def decode_address(value: bytes, xor: bool, tid: bytes) -> tuple[str, int]:
    """(X)MAPPED-ADDRESS-style value → (ip, port)."""
    if len(value) < 4:
        raise StunError(f"address attribute too short ({len(value)} bytes)")
    _, family, port = struct.unpack("!BBH", value[:4])
    size = {1: 4, 2: 16}.get(family)
    if size is None or len(value) != 4 + size:
        raise StunError(f"address attribute: family {family}, length {len(value)}")
    raw = value[4:]
    if xor:
        port ^= MAGIC_COOKIE >> 16
        mask = COOKIE_BYTES + tid
        raw = bytes(a ^ b for a, b in zip(raw, mask))
    return str(ipaddress.ip_address(raw)), port


# -- the message ---------------------------------------------------------------

@dataclass
class StunMessage:
    """One STUN message: method, class, transaction ID, attributes.

    ``attrs`` holds ``(type, value)`` with the value exactly as long as the
    attribute length field says (padding excluded). After :meth:`decode`,
    ``raw`` is the original bytes and ``offsets[i]`` the byte offset of
    attribute ``i``.
    """

    method: int
    cls: int
    tid: bytes = field(default_factory=new_tid)
    attrs: list[tuple[int, bytes]] = field(default_factory=list)
    raw: bytes = b""
    offsets: list[int] = field(default_factory=list)

    # -- building ----------------------------------------------------------
    def add(self, atype: int, value: bytes = b"") -> "StunMessage":
        """Append an attribute with a raw value; returns self."""
        if len(value) > 0xFFFF:
            raise StunError(f"attribute 0x{atype:04x} too long")
        self.attrs.append((int(atype), bytes(value)))
        return self

    def add_u32(self, atype: int, value: int) -> "StunMessage":
        return self.add(atype, struct.pack("!I", value))

    def add_u64(self, atype: int, value: int) -> "StunMessage":
        return self.add(atype, struct.pack("!Q", value))

    def add_text(self, atype: int, text: str | bytes,
                 nul_pad: bool = False) -> "StunMessage":
        """UTF-8 text; ``nul_pad`` = MS-ICE2 form (padding inside the value)."""
        data = text.encode() if isinstance(text, str) else text
        return self.add(atype, ms_pad(data) if nul_pad else data)

    def add_address(self, atype: int, addr: tuple[str, int]) -> "StunMessage":
        """XOR-encoded for XOR-* types, plain otherwise."""
        xor = atype in XOR_ADDRESS_ATTRS
        return self.add(atype, encode_address(addr[0], addr[1], xor, self.tid))

    def add_error(self, code: int, reason: str) -> "StunMessage":
        """ERROR-CODE (RFC 5389 §15.6)."""
        if not 300 <= code <= 699:
            raise StunError(f"error code {code} out of range")
        return self.add(Attr.ERROR_CODE, struct.pack("!HBB", 0, code // 100, code % 100)
                        + reason.encode())

    # -- reading -------------------------------------------------------------
    def get(self, atype: int) -> bytes | None:
        """Value of the first attribute of this type, or None."""
        for t, v in self.attrs:
            if t == atype:
                return v
        return None

    def has(self, atype: int) -> bool:
        return self.get(atype) is not None

    def require(self, atype: int) -> bytes:
        """Value of an attribute that must be present (StunError if not)."""
        v = self.get(atype)
        if v is None:
            raise StunError(f"{self.summary()}: no {attr_name(atype)} attribute")
        return v

    def u32(self, atype: int) -> int:
        v = self.require(atype)
        if len(v) != 4:
            raise StunError(f"{attr_name(atype)}: length {len(v)}, expected 4")
        return struct.unpack("!I", v)[0]

    def u64(self, atype: int) -> int:
        v = self.require(atype)
        if len(v) != 8:
            raise StunError(f"{attr_name(atype)}: length {len(v)}, expected 8")
        return struct.unpack("!Q", v)[0]

    def text(self, atype: int) -> str:
        """Text attribute with trailing NULs (MS padding) stripped."""
        return self.require(atype).rstrip(b"\0").decode("utf-8", "replace")

    def address(self, atype: int) -> tuple[str, int]:
        return decode_address(self.require(atype), atype in XOR_ADDRESS_ATTRS,
                              self.tid)

    def error_code(self) -> tuple[int, str] | None:
        """(code, reason) of ERROR-CODE, or None if absent."""
        v = self.get(Attr.ERROR_CODE)
        if v is None:
            return None
        if len(v) < 4:
            raise StunError("ERROR-CODE shorter than 4 bytes")
        code = (v[2] & 0x7) * 100 + v[3]
        return code, v[4:].decode("utf-8", "replace")

    @property
    def type(self) -> int:
        return message_type(self.method, self.cls)

    def is_(self, method: int, cls: int) -> bool:
        return self.method == method and self.cls == cls

    def summary(self) -> str:
        """``"Allocate error 401 Unauthorized"``-style one-liner."""
        name = METHOD_NAMES.get(self.method, f"method 0x{self.method:03x}")
        text = f"{name} {CLASS_NAMES[Cls(self.cls)]}"
        if self.cls == Cls.ERROR:
            try:
                err = self.error_code()
            except StunError:
                return text + " (malformed ERROR-CODE)"
            text += f" {err[0]} {err[1].strip()}" if err else " (no ERROR-CODE)"
        return text

    # -- encoding --------------------------------------------------------------
    def _body(self) -> bytes:
        out = bytearray()
        for t, v in self.attrs:
            out += struct.pack("!HH", t, len(v)) + v + b"\0" * (-len(v) % 4)
        return bytes(out)

    def _header(self, length: int) -> bytes:
        return struct.pack("!HHI", self.type, length, MAGIC_COOKIE) + self.tid

    def encode(self, key: bytes | None = None, fingerprint: bool = False,
               mi_style: str = MI_RFC5389, legacy_fp: bool = False) -> bytes:
        """Bytes of the message; appends MESSAGE-INTEGRITY if ``key`` and
        FINGERPRINT if ``fingerprint`` (``legacy_fp``: MS legacy CRC)."""
        if len(self.tid) != 12:
            raise StunError("transaction ID must be 12 bytes")
        body = self._body()
        if key is not None:
            mi_len = len(body) + 24
            final_len = mi_len + (8 if fingerprint else 0)
            digest = mi_digest(key, self._header(0) + body, mi_len, final_len,
                               mi_style)
            body += struct.pack("!HH", Attr.MESSAGE_INTEGRITY, 20) + digest
        if fingerprint:
            crc_in = self._header(len(body) + 8) + body
            crc = crc32_ms_legacy(crc_in) if legacy_fp else zlib.crc32(crc_in)
            body += struct.pack("!HHI", Attr.FINGERPRINT, 4, crc ^ FINGERPRINT_XOR)
        self.raw = self._header(len(body)) + body
        return self.raw

    # -- decoding --------------------------------------------------------------
    @classmethod
    def decode(cls, data: bytes) -> "StunMessage":
        """Parse exactly one message; StunError on any inconsistency."""
        if len(data) < HEADER_LEN:
            raise StunError(f"STUN message shorter than 20 bytes ({len(data)})")
        mtype, length, cookie = struct.unpack("!HHI", data[:8])
        if mtype & 0xC000:
            raise StunError(f"first two bits not zero (type 0x{mtype:04x})")
        if cookie != MAGIC_COOKIE:
            raise StunError(f"bad magic cookie 0x{cookie:08x}")
        if length % 4 or HEADER_LEN + length != len(data):
            raise StunError(f"length field {length} vs {len(data) - HEADER_LEN} "
                            "bytes of attributes")
        method, mcls = split_type(mtype)
        msg = cls(method, mcls, bytes(data[8:20]), raw=bytes(data))
        pos = HEADER_LEN
        while pos < len(data):
            if pos + 4 > len(data):
                raise StunError(f"truncated attribute header at offset {pos}")
            atype, alen = struct.unpack("!HH", data[pos:pos + 4])
            end = pos + 4 + alen
            if end > len(data):
                raise StunError(f"attribute 0x{atype:04x} at offset {pos}: "
                                f"length {alen} past the end")
            msg.attrs.append((atype, bytes(data[pos + 4:end])))
            msg.offsets.append(pos)
            pos = end + (-alen % 4)
        return msg

    def _offset_of(self, atype: int) -> int | None:
        for (t, _), off in zip(self.attrs, self.offsets):
            if t == atype:
                return off
        return None

    def check_integrity(self, key: bytes) -> str | None:
        """Which MI style verifies with ``key`` (MI_RFC5389 / MI_MSICE2), or
        None if neither does or there is no MESSAGE-INTEGRITY."""
        off = self._offset_of(Attr.MESSAGE_INTEGRITY)
        if off is None or not self.raw:
            return None
        got = self.raw[off + 4:off + 24]
        mi_len = off + 24 - HEADER_LEN
        final_len = len(self.raw) - HEADER_LEN
        for style in (MI_RFC5389, MI_MSICE2):
            want = mi_digest(key, self.raw[:off], mi_len, final_len, style)
            if hmac.compare_digest(got, want):
                return style
        return None

    def check_fingerprint(self) -> str | None:
        """FP_RFC5389 or FP_MS_LEGACY if FINGERPRINT verifies, else None."""
        off = self._offset_of(Attr.FINGERPRINT)
        if off is None or not self.raw or off + 8 != len(self.raw):
            return None
        want = struct.unpack("!I", self.raw[off + 4:off + 8])[0] ^ FINGERPRINT_XOR
        if zlib.crc32(self.raw[:off]) == want:
            return FP_RFC5389
        if crc32_ms_legacy(self.raw[:off]) == want:
            return FP_MS_LEGACY
        return None

    def dump(self) -> str:
        """Multi-line human-readable form."""
        lines = [f"{self.summary()} (type 0x{self.type:04x}) tid={self.tid.hex()}"]
        for t, v in self.attrs:
            lines.append(f"  {attr_name(t):<24} len {len(v):3}  {self._attr_text(t, v)}")
        return "\n".join(lines)

    def _attr_text(self, t: int, v: bytes) -> str:
        try:
            if t in XOR_ADDRESS_ATTRS or t in PLAIN_ADDRESS_ATTRS:
                ip, port = decode_address(v, t in XOR_ADDRESS_ATTRS, self.tid)
                return f"{ip}:{port}"
            if t in TEXT_ATTRS:
                return repr(v.decode("utf-8", "replace"))
            if t in U32_ATTRS and len(v) == 4:
                return f"{struct.unpack('!I', v)[0]} (0x{v.hex()})"
            if t == Attr.REQUESTED_TRANSPORT and len(v) == 4:
                return f"protocol {v[0]}"
            if t == Attr.ERROR_CODE:
                code = self.error_code()
                return f"{code[0]} {code[1]!r}" if code else ""
        except StunError as exc:
            return f"<bad: {exc}>"
        return v.hex()


def mi_digest(key: bytes, prefix: bytes, mi_length: int, final_length: int,
              style: str) -> bytes:
    """HMAC-SHA1 value of MESSAGE-INTEGRITY.

    ``prefix`` is the message from the header up to (not including) the MI
    attribute; its length field is replaced: MI_RFC5389 uses ``mi_length``
    (attributes up to and including MI); MI_MSICE2 (RFC 3489bis-02, what
    IMPLEMENTATION-VERSION 2 peers send) uses ``final_length`` (including a
    following FINGERPRINT) and zero-pads the input to a multiple of 64."""
    if style == MI_RFC5389:
        data = prefix[:2] + struct.pack("!H", mi_length) + prefix[4:]
    elif style == MI_MSICE2:
        data = prefix[:2] + struct.pack("!H", final_length) + prefix[4:]
        data += b"\0" * (-len(data) % 64)
    else:
        raise StunError(f"unknown MESSAGE-INTEGRITY style {style!r}")
    return hmac.new(key, data, hashlib.sha1).digest()


def attr_name(atype: int) -> str:
    """Attribute name for printing (hex for unknown types)."""
    try:
        return Attr(atype).name.replace("_", "-")
    except ValueError:
        return f"0x{atype:04X}"


def looks_like_stun(data: bytes) -> bool:
    """First two bits zero and the magic cookie at offset 4."""
    return len(data) >= HEADER_LEN and data[0] & 0xC0 == 0 and data[4:8] == COOKIE_BYTES


def looks_like_rtp(data: bytes) -> bool:
    """RTP/RTCP version 2 (first byte 0x80-0xBF), at least a 12-byte header."""
    return len(data) >= 12 and data[0] & 0xC0 == 0x80


# -- RFC 4571 framing ------------------------------------------------------------

def frame(payload: bytes) -> bytes:
    """RFC 4571: 2-byte big-endian length + payload."""
    if len(payload) > 0xFFFF:
        raise ValueError(f"RFC 4571 payload too long ({len(payload)} bytes)")
    return struct.pack("!H", len(payload)) + payload


class FrameReader:
    """Incremental RFC 4571 deframer: feed bytes, take complete frames."""

    def __init__(self) -> None:
        self.buf = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        """Add bytes; return every frame now complete (payloads)."""
        self.buf += data
        return self.take(self.buf)

    @staticmethod
    def take(buf: bytearray) -> list[bytes]:
        """Remove and return every complete frame at the head of ``buf``."""
        out = []
        pos = 0
        while len(buf) - pos >= 2:
            n = (buf[pos] << 8) | buf[pos + 1]
            if len(buf) - pos - 2 < n:
                break
            out.append(bytes(buf[pos + 2:pos + 2 + n]))
            pos += 2 + n
        del buf[:pos]
        return out


def unframe_all(data: bytes) -> list[bytes]:
    """All frames of a complete RFC 4571 byte string (ValueError if a frame
    is cut)."""
    buf = bytearray(data)
    frames = FrameReader.take(buf)
    if buf:
        raise ValueError(f"{len(buf)} trailing bytes do not form a frame")
    return frames


# -- CLI ---------------------------------------------------------------------------

def _cli_decode(args: argparse.Namespace) -> int:
    data = bytes.fromhex("".join(args.hex) if args.hex else sys.stdin.read().split()[0])
    payloads = [data]
    if not looks_like_stun(data) and looks_like_stun(data[2:]):
        payloads = unframe_all(data)
        print(f"RFC 4571 stream: {len(payloads)} frame(s)")
    for p in payloads:
        if not looks_like_stun(p):
            print(f"not STUN ({len(p)} bytes, first byte 0x{p[0]:02x})")
            continue
        msg = StunMessage.decode(p)
        print(msg.dump())
        print(f"  FINGERPRINT: {msg.check_fingerprint() or 'absent/invalid'}")
        if args.key_pwd is not None:
            style = msg.check_integrity(args.key_pwd.encode())
            print(f"  MI with short-term key: {style or 'no match'}")
        if args.long_term:
            user, realm, pwd = args.long_term.split(":", 2)
            key = long_term_key(user, realm, pwd)
            print(f"  MI with long-term key: {msg.check_integrity(key) or 'no match'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """``decode``: print STUN message(s) given in hex (RFC 4571 autodetected)."""
    ap = argparse.ArgumentParser(prog="python3 -m harness.stun", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("decode", help="decode hex bytes (argument or stdin)")
    d.add_argument("hex", nargs="*")
    d.add_argument("--key-pwd", help="check MI with this ice-pwd / short-term password")
    d.add_argument("--long-term", metavar="USER:REALM:PASS", help="check MI with a long-term key")
    args = ap.parse_args(argv)
    try:
        return _cli_decode(args)
    except (ValueError, StunError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
