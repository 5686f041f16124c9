#!/usr/bin/env python3
"""dns_sink.py LOGFILE [ADDR] [PORT] [silent]: a DNS server that answers nothing.

Run inside each integration test's private network namespace on
127.0.0.1:53 (the namespace's /etc/resolv.conf points there), it records
every query it receives, UDP or TCP, one line each ("udp QNAME QTYPE" or
"tcp ..."), and answers REFUSED (RFC 1035 4.1.1, RCODE 5) so a resolver
that asks is told at once instead of waiting. tests/run-tests.sh fails a
test whose log is not empty: the daemon must never look up a name during
a test. Bounded: a query larger than 4 KiB is cut, at most 64 TCP clients.
With "silent" it records and never answers: a resolver that blackholes
queries (tests/integration/38-sip-border.sh).
"""
import selectors
import socket
import struct
import sys

QTYPES = {1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 15: "MX",
          16: "TXT", 28: "AAAA", 33: "SRV", 35: "NAPTR", 255: "ANY"}


def qname(msg):
    """The first question's name and type, or ('?', '?') if unreadable."""
    i, labels = 12, []
    try:
        while msg[i] != 0:
            n = msg[i]
            if n & 0xC0:
                return ("?", "?")
            labels.append(msg[i + 1:i + 1 + n].decode("ascii", "replace"))
            i += 1 + n
        qtype = struct.unpack("!H", msg[i + 1:i + 3])[0]
    except (IndexError, struct.error):
        return ("?", "?")
    return (".".join(labels) or ".", QTYPES.get(qtype, str(qtype)))


def refused(msg):
    if len(msg) < 12:
        return b""
    flags = struct.unpack("!H", msg[2:4])[0]
    flags = 0x8000 | (flags & 0x7900) | 5      # QR, keep opcode+RD, REFUSED
    return msg[:2] + struct.pack("!HHHHH", flags, 0, 0, 0, 0)


def main():
    log = open(sys.argv[1], "a", buffering=1)
    addr = sys.argv[2] if len(sys.argv) > 2 else "127.0.0.1"
    port = int(sys.argv[3]) if len(sys.argv) > 3 else 53
    silent = len(sys.argv) > 4 and sys.argv[4] == "silent"
    sel = selectors.DefaultSelector()
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((addr, port))
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t.bind((addr, port))
    t.listen(16)
    sel.register(u, selectors.EVENT_READ, "udp")
    sel.register(t, selectors.EVENT_READ, "listen")
    bufs = {}
    print("dns sink ready", flush=True)
    while True:
        for key, _ in sel.select():
            s = key.fileobj
            if key.data == "udp":
                msg, peer = s.recvfrom(4096)
                log.write("udp %s %s from %s:%d\n" % (*qname(msg), *peer))
                r = refused(msg)
                if r and not silent:
                    s.sendto(r, peer)
            elif key.data == "listen":
                c, _ = s.accept()
                if len(bufs) >= 64:
                    c.close()
                    continue
                bufs[c] = b""
                sel.register(c, selectors.EVENT_READ, "tcp")
            else:
                data = s.recv(4096)
                buf = (bufs.get(s, b"") + data)[:8192]
                while len(buf) >= 2:
                    n = struct.unpack("!H", buf[:2])[0]
                    if len(buf) < 2 + n:
                        break
                    msg, buf = buf[2:2 + n], buf[2 + n:]
                    log.write("tcp %s %s\n" % qname(msg))
                    r = refused(msg)
                    if r and not silent:
                        s.sendall(struct.pack("!H", len(r)) + r)
                bufs[s] = buf
                if not data:
                    sel.unregister(s)
                    del bufs[s]
                    s.close()


if __name__ == "__main__":
    main()
