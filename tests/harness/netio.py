"""Bounded TCP (and TLS) helpers shared by the harness.

Every wait takes a timeout and raises :class:`HarnessTimeout` with a message
naming what was awaited and on which connection, e.g.
``no ConnectionAttempt within 5.0 s on 127.0.0.3:40001→127.0.0.1:21043``.
No busy loops: all waits go through :mod:`selectors`.
"""

from __future__ import annotations

import errno
import selectors
import socket
import ssl
import time

Addr = tuple[str, int]


class HarnessTimeout(TimeoutError):
    """A bounded wait ran out; the message says what and where."""


class PeerClosed(ConnectionError):
    """The other end closed the connection while we waited for data."""


def parse_addr(text: str, default_port: int | None = None) -> Addr:
    """``"127.0.0.1:3478"`` → ``("127.0.0.1", 3478)``; ``[v6]:port`` too.
    Without a port, ``default_port`` is used (ValueError if None)."""
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif text.count(":") == 1:
        host, _, port = text.partition(":")
    else:
        host, port = text, ""
    if not port:
        if default_port is None:
            raise ValueError(f"address {text!r} has no port")
        return host, default_port
    if not port.isdigit() or not 0 <= int(port) < 65536:
        raise ValueError(f"address {text!r}: bad port")
    return host, int(port)


def fmt_addr(addr: Addr | None) -> str:
    """``("127.0.0.1", 3478)`` → ``"127.0.0.1:3478"`` (``"?"`` for None)."""
    if addr is None:
        return "?"
    host, port = addr[0], addr[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _family(host: str) -> int:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _remaining(deadline: float) -> float:
    return max(0.0, deadline - time.monotonic())


class StreamConn:
    """A connected, non-blocking TCP socket with receive/transmit buffers.

    ``rx`` may start with bytes already read by someone else (e.g. peer data
    that followed a ConnectionBind success on the same read).
    """

    def __init__(self, sock: socket.socket, name: str = "",
                 initial: bytes = b"") -> None:
        sock.setblocking(False)
        self.sock = sock
        self.name = name or "connection"
        self.rx = bytearray(initial)
        self.tx = bytearray()
        self.eof = False
        self.local: Addr = sock.getsockname()[:2]
        try:
            self.peer: Addr | None = sock.getpeername()[:2]
        except OSError:
            self.peer = None
        self._sel = selectors.DefaultSelector()
        self._sel.register(sock, selectors.EVENT_READ)

    def describe(self) -> str:
        """``local→peer`` for error messages."""
        return f"{fmt_addr(self.local)}→{fmt_addr(self.peer)}"

    def fileno(self) -> int:
        return self.sock.fileno()

    # -- low level, for event loops --------------------------------------
    def try_recv(self, limit: int = 262144) -> int:
        """Read what is available without blocking; returns bytes read.
        Sets ``eof`` when the peer closed."""
        try:
            data = self.sock.recv(limit)
            # TLS: a record may hold more than one recv took; the socket
            # would not report it readable again
            while data and isinstance(self.sock, ssl.SSLSocket) and self.sock.pending():
                data += self.sock.recv(self.sock.pending())
        except (BlockingIOError, InterruptedError, ssl.SSLWantReadError,
                ssl.SSLWantWriteError):
            return 0
        except (ConnectionResetError, ssl.SSLZeroReturnError, ssl.SSLEOFError):
            self.eof = True
            return 0
        if not data:
            self.eof = True
            return 0
        self.rx += data
        return len(data)

    def try_send(self) -> int:
        """Write as much of ``tx`` as the socket takes; returns bytes sent."""
        if not self.tx:
            return 0
        try:
            n = self.sock.send(self.tx)
        except (BlockingIOError, InterruptedError, ssl.SSLWantReadError,
                ssl.SSLWantWriteError):
            return 0
        del self.tx[:n]
        return n

    def wait(self, write: bool, timeout: float) -> tuple[bool, bool]:
        """Wait until readable (and writable if ``write``); returns the pair
        (readable, writable). Both False means the timeout expired."""
        ev = selectors.EVENT_READ | (selectors.EVENT_WRITE if write else 0)
        self._sel.modify(self.sock, ev)
        got = self._sel.select(max(0.0, timeout))
        r = any(k[1] & selectors.EVENT_READ for k in got)
        w = any(k[1] & selectors.EVENT_WRITE for k in got)
        return r, w

    # -- bounded blocking helpers -----------------------------------------
    def fill(self, deadline: float, what: str, timeout: float) -> None:
        """Read at least one more byte before ``deadline`` or raise
        (``timeout`` is the caller's total, for the message)."""
        while True:
            left = _remaining(deadline)
            if left <= 0:
                raise HarnessTimeout(f"no {what} within {timeout:g} s on "
                                     f"{self.name} {self.describe()}")
            readable, _ = self.wait(False, left)
            if readable and self.try_recv():
                return
            if self.eof:
                raise PeerClosed(f"{self.name} {self.describe()} closed by "
                                 f"peer while waiting for {what}")

    def recv_exact(self, n: int, timeout: float, what: str) -> bytes:
        """Exactly ``n`` bytes within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while len(self.rx) < n:
            self.fill(deadline, what, timeout)
        out = bytes(self.rx[:n])
        del self.rx[:n]
        return out

    def recv_some(self, timeout: float, what: str = "data") -> bytes:
        """Whatever is buffered or arrives first (at least one byte)."""
        if not self.rx:
            self.fill(time.monotonic() + timeout, what, timeout)
        out = bytes(self.rx)
        self.rx.clear()
        return out

    def read_frame(self, timeout: float, what: str = "RFC 4571 frame") -> bytes:
        """One RFC 4571 frame (2-byte length + payload), payload returned."""
        deadline = time.monotonic() + timeout
        while len(self.rx) < 2:
            self.fill(deadline, what, timeout)
        need = 2 + int.from_bytes(self.rx[:2], "big")
        while len(self.rx) < need:
            self.fill(deadline, what, timeout)
        out = bytes(self.rx[2:need])
        del self.rx[:need]
        return out

    def read_stun_bytes(self, timeout: float, what: str = "STUN message") -> bytes:
        """One unframed STUN message (TURN control connection): 20-byte
        header + the length it announces."""
        deadline = time.monotonic() + timeout
        while len(self.rx) < 20:
            self.fill(deadline, what, timeout)
        need = 20 + int.from_bytes(self.rx[2:4], "big")
        while len(self.rx) < need:
            self.fill(deadline, what, timeout)
        out = bytes(self.rx[:need])
        del self.rx[:need]
        return out

    def sendall(self, data: bytes, timeout: float = 5.0) -> None:
        """Send everything (after what is already queued) within ``timeout``."""
        self.tx += data
        deadline = time.monotonic() + timeout
        while self.tx:
            left = _remaining(deadline)
            if left <= 0:
                raise HarnessTimeout(f"could not send {len(self.tx)} bytes "
                                     f"within {timeout} s on {self.describe()}")
            _, writable = self.wait(True, left)
            if writable:
                self.try_send()

    def close(self) -> None:
        """Close the socket (idempotent)."""
        if self.sock.fileno() >= 0:
            self._sel.close()
            self.sock.close()


def connect_tcp(dest: Addr, bind: Addr | None = None, timeout: float = 5.0,
                name: str = "", tls: ssl.SSLContext | None = None) -> StreamConn:
    """TCP connection to ``dest`` from ``bind`` (ip, port; port 0 = any),
    with ``tls`` a TLS client over it (handshake within ``timeout``)."""
    sock = socket.socket(_family(dest[0]), socket.SOCK_STREAM)
    try:
        if bind is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(bind)
        sock.setblocking(False)
        rc = sock.connect_ex(dest)
        if rc not in (0, errno.EINPROGRESS):
            raise ConnectionError(f"TCP connect {fmt_addr(bind)}→{fmt_addr(dest)}"
                                  f" failed: {errno.errorcode.get(rc, rc)}")
        sel = selectors.DefaultSelector()
        sel.register(sock, selectors.EVENT_WRITE)
        ready = sel.select(timeout)
        sel.close()
        if not ready:
            raise HarnessTimeout(f"TCP connect {fmt_addr(bind)}→{fmt_addr(dest)}"
                                 f" not established within {timeout} s")
        rc = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if rc:
            raise ConnectionError(f"TCP connect {fmt_addr(bind)}→{fmt_addr(dest)}"
                                  f" failed: {errno.errorcode.get(rc, rc)}")
    except BaseException:
        sock.close()
        raise
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if tls is not None:
        sock.settimeout(timeout)
        try:
            sock = tls.wrap_socket(sock, server_hostname=dest[0] if tls.check_hostname
                                   else None)
        except BaseException:
            sock.close()
            raise
    return StreamConn(sock, name)


def listen_tcp(addr: Addr, backlog: int = 8) -> socket.socket:
    """A non-blocking listening socket on ``addr`` (port 0 = any)."""
    sock = socket.socket(_family(addr[0]), socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(addr)
        sock.listen(backlog)
    except BaseException:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


def accept_conn(lsock: socket.socket, timeout: float, what: str = "TCP connection",
                name: str = "") -> StreamConn:
    """Accept one connection on ``lsock`` within ``timeout`` seconds."""
    sel = selectors.DefaultSelector()
    sel.register(lsock, selectors.EVENT_READ)
    try:
        deadline = time.monotonic() + timeout
        while True:
            left = _remaining(deadline)
            if left <= 0 or not sel.select(left):
                raise HarnessTimeout(f"no {what} within {timeout} s on listener "
                                     f"{fmt_addr(lsock.getsockname()[:2])}")
            try:
                sock, _ = lsock.accept()
            except (BlockingIOError, InterruptedError):
                continue
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return StreamConn(sock, name)
    finally:
        sel.close()
