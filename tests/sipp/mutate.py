#!/usr/bin/env python3
"""mutate.py GW_PORT CMS_PORT CORPUS_DIR [N] [SEED]: a bounded SIP wire
mutator against a running sharewayd (tests/integration/32-sip-mutate.sh).

N messages (default 20000), each an RFC 4475 torture message of CORPUS_DIR
(MANIFEST.tsv) with fresh Call-ID and branch and 1 to 4 mutations drawn
from a random.Random(SEED) (default 4475): the same seed sends the same
bytes. They go in batches of 500, alternately over UDP and over TCP (a new
connection every 10 messages), from the Edge zone
(127.0.0.2) and from addresses of no zone (127.0.0.10-17), so that both
the dial plan and the refusal paths see them. A TCP connection is read
until the gateway closes it, so that what was sent was parsed; one in ten
is reset. This process is also the
conference (CMS_PORT on 127.0.0.3, UDP): it answers what the gateway
relays: 200 to the liveness calls' INVITEs and to one mutated INVITE in
eight (dialogs whose caller never ACKs, ended by the gateway at Timer H),
486 to the other INVITEs, 200 to every other request.

After every batch the gateway must still be alive: an OPTIONS answered
over UDP and over TCP, and a real call (INVITE, 200, ACK, BYE, 200)
through to the conference. Every wait is bounded; the first failure ends
the run with exit 1 and says which batch and which check.
"""
import os
import random
import re
import select
import socket
import struct
import sys
import threading
import time
import zlib

GW = '127.0.0.1'
EDGE = '127.0.0.2'
CMS = '127.0.0.3'
BATCH = 500
PER_CONN = 10
SDP = (b'v=0\r\no=- 1 1 IN IP4 127.0.0.2\r\ns=-\r\nc=IN IP4 127.0.0.2\r\n'
       b't=0 0\r\nm=audio 4000 RTP/AVP 0\r\n')

CALLID = re.compile(rb'^((?:Call-ID|i)[ \t]*:[ \t]*)', re.M | re.I)
BRANCH = re.compile(rb'(branch=)', re.I)
NUMBER = re.compile(rb'\d+')
SCHEME = re.compile(rb'sips?:', re.I)
HEADERS = [b'Via', b'From', b'To', b'Call-ID', b'CSeq', b'Contact',
           b'Max-Forwards', b'Content-Length', b'Content-Type', b'Route',
           b'Record-Route', b'Require', b'Supported', b'Session-Expires',
           b'Min-SE', b'Expires', b'Allow', b'Authorization', b'RSeq',
           b'RAck', b'Event', b'Refer-To', b'X-CID', b'v', b'f', b't', b'i',
           b'm', b'l', b'c', b'k']
ODD = [b'\x00', b'\r', b'\n', b'\r\n', b'\r\n\r\n', b' ', b'\t', b';', b':',
       b',', b'<', b'>', b'"', b'\\', b'@', b'%', b'%00', b'\xff\xfe',
       b'sip:', b'sips:', b'tel:+1555', b'mailto:a@b', b'[::1]', b'0',
       b'-1', b'4294967296', b'99999999999999999999', b'=', b';lr',
       b';transport=tcp', b';maddr=example.com', b'\xc3\x28']


def load(corpus):
    msgs = []
    for line in open(os.path.join(corpus, 'MANIFEST.tsv')):
        if line.startswith('#') or line.startswith('name\t'):
            continue
        name = line.split('\t')[0]
        with open(os.path.join(corpus, name + '.dat'), 'rb') as f:
            msgs.append(f.read())
    return msgs


def mutate(rnd, msg):
    """1 to 4 mutations of msg (bytes)."""
    m = bytearray(msg)
    for _ in range(rnd.randint(1, 4)):
        if not m:
            m = bytearray(b'\r\n')
        k = rnd.randrange(13)
        i = rnd.randrange(len(m))
        if k == 0:  # flip bytes
            for _ in range(rnd.randint(1, 8)):
                m[rnd.randrange(len(m))] = rnd.randrange(256)
        elif k == 1:  # insert an odd token
            m[i:i] = rnd.choice(ODD)
        elif k == 2:  # delete a range
            del m[i:i + rnd.randint(1, 64)]
        elif k == 3:  # repeat a range
            j = min(len(m), i + rnd.randint(1, 32))
            m[i:i] = m[i:j] * rnd.randint(2, 200)
        elif k == 4:  # truncate
            del m[i:]
        elif k == 5:  # a number made extreme
            nums = list(NUMBER.finditer(m))
            if nums:
                n = rnd.choice(nums)
                m[n.start():n.end()] = rnd.choice(
                    [b'0', b'4294967295', b'4294967296', b'-1',
                     b'18446744073709551616', b'9' * 40, b'00000000001'])
        elif k == 6:  # a header line added, maybe many times
            h = rnd.choice(HEADERS) + b': ' + rnd.choice(ODD) * rnd.randint(
                1, 3) + b'\r\n'
            eol = m.find(b'\r\n')
            if eol >= 0:
                m[eol + 2:eol + 2] = h * rnd.choice([1, 1, 2, 50])
        elif k == 7:  # a field made long
            m[i:i] = bytes([rnd.choice(b'a%;,<')]) * rnd.choice(
                [300, 600, 2000, 9000])
        elif k == 8:  # line ends changed
            m = bytearray(m.replace(b'\r\n', rnd.choice(
                [b'\n', b'\r', b'\r\n ', b'\n\r'])))
        elif k == 9:  # two lines swapped
            lines = bytes(m).split(b'\r\n')
            if len(lines) > 2:
                a, b = rnd.randrange(len(lines)), rnd.randrange(len(lines))
                lines[a], lines[b] = lines[b], lines[a]
                m = bytearray(b'\r\n'.join(lines))
        elif k == 11:  # a URI's scheme (Contact, Record-Route, To...)
            uris = list(SCHEME.finditer(m))
            if uris:
                u = rnd.choice(uris)
                m[u.start():u.end()] = rnd.choice(
                    [b'tel:', b'mailto:', b'', b'sips:', b'http:', b'urn:'])
        elif k == 10:  # the request line's URI scheme
            sp = m.find(b' ')
            if 0 < sp < 32:
                m[sp + 1:sp + 1] = rnd.choice(ODD)
        else:  # random bytes
            m[i:i] = bytes(rnd.getrandbits(8)
                           for _ in range(rnd.randint(1, 64)))
    return bytes(m)


def freshen(msg, tag):
    """New transaction and dialog identifiers, so that the messages are
    not all retransmissions of 50 transactions."""
    msg = CALLID.sub(lambda mo: mo.group(1) + tag, msg, count=1)
    return BRANCH.sub(lambda mo: mo.group(1) + b'z9hG4bK' + tag, msg)


class Conference(threading.Thread):
    """The conference side (see the file comment); never blocks the
    gateway."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind((CMS, port))
        self.port = port
        self.stop = False

    @staticmethod
    def header(req, name):
        m = re.search(rb'^' + name + rb'[ \t]*:[ \t]*(.*?)\r\n', req,
                      re.M | re.I)
        return m.group(1) if m else b''

    def answer(self, req, src):
        if not req[:1].isalpha() or req.startswith(b'SIP/2.0'):
            return
        method = req.split(b' ', 1)[0]
        if method == b'ACK':
            return
        cid = self.header(req, b'X-CID')
        # one mutated INVITE in eight is answered 200: a dialog with the
        # mutated caller, which never ACKs (the gateway ends it at Timer H)
        taken = cid.startswith(b'live-') or zlib.crc32(cid) % 8 == 0
        code = b'486 Busy Here' if method == b'INVITE' and not taken \
            else b'200 OK'
        vias = re.findall(rb'^(?:Via|v)[ \t]*:.*?\r\n', req, re.M | re.I)
        to = self.header(req, b'To')
        if b'tag=' not in to:
            to += b';tag=cms1'
        body = SDP if method == b'INVITE' and code == b'200 OK' else b''
        resp = (b'SIP/2.0 ' + code + b'\r\n' + b''.join(vias) +
                b'From: ' + self.header(req, b'From') + b'\r\n' +
                b'To: ' + to + b'\r\n' +
                b'Call-ID: ' + self.header(req, b'Call-ID') + b'\r\n' +
                b'CSeq: ' + self.header(req, b'CSeq') + b'\r\n' +
                b'Contact: <sip:cms@%s:%d>\r\n' % (CMS.encode(), self.port) +
                (b'Content-Type: application/sdp\r\n' if body else b'') +
                b'Content-Length: %d\r\n\r\n' % len(body) + body)
        self.s.sendto(resp, src)

    def run(self):
        self.s.settimeout(0.2)
        while not self.stop:
            try:
                req, src = self.s.recvfrom(65535)
            except socket.timeout:
                continue
            try:
                self.answer(req, src)
            except (OSError, ValueError):
                pass


def transact(sock, port, msg, want, wait=10.0):
    """Send msg over the UDP socket; the first final response whose CSeq
    method is want, or None."""
    sock.sendto(msg, (GW, port))
    end = time.time() + wait
    while time.time() < end:
        sock.settimeout(max(0.01, end - time.time()))
        try:
            d = sock.recv(65535)
        except socket.timeout:
            break
        if d.startswith(b'SIP/2.0 ') and int(d[8:11]) >= 200 and \
                re.search(rb'^CSeq:[ \t]*\d+ ' + want, d, re.M | re.I):
            return d
    return None


def options(port, tp, src=EDGE):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if tp == 'udp'
                      else socket.SOCK_STREAM)
    s.bind((src, 0))
    s.settimeout(10)
    try:
        if tp == 'tcp':
            s.connect((GW, port))
        lip, lport = s.getsockname()
        br = 'z9hG4bK-live-%d' % random.getrandbits(40)
        msg = ('OPTIONS sip:%s:%d SIP/2.0\r\n'
               'Via: SIP/2.0/%s %s:%d;branch=%s;rport\r\nMax-Forwards: 70\r\n'
               'From: <sip:live@%s>;tag=%s\r\nTo: <sip:%s:%d>\r\n'
               'Call-ID: %s\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n'
               % (GW, port, tp.upper(), lip, lport, br, lip, br, GW, port,
                  br)).encode()
        if tp == 'udp':
            d = transact(s, port, msg, b'OPTIONS')
        else:
            s.sendall(msg)
            d, end = b'', time.time() + 10
            while b'\r\n\r\n' not in d and time.time() < end:
                c = s.recv(65535)
                if not c:
                    break
                d += c
        return d is not None and d.startswith(b'SIP/2.0 200 ')
    except OSError:
        return False
    finally:
        s.close()


def call(port, n):
    """A call from the Edge through the gateway to the conference:
    INVITE -> 200 -> ACK, BYE -> 200."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((EDGE, 0))
    lport = s.getsockname()[1]
    cid = 'live-%d-%d' % (n, os.getpid())
    base = ('Max-Forwards: 70\r\nFrom: <sip:alice@%s>;tag=a%d\r\n'
            'Call-ID: %s\r\nContact: <sip:alice@%s:%d>\r\n'
            % (EDGE, n, cid, EDGE, lport))
    via = 'Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK-%s-%%s;rport\r\n' % (
        EDGE, lport, cid)
    try:
        inv = ('INVITE sip:4321@conf.example SIP/2.0\r\n' + via % 'i' +
               base + 'To: <sip:4321@conf.example>\r\nCSeq: 1 INVITE\r\n'
               'Content-Type: application/sdp\r\nContent-Length: %d\r\n\r\n'
               % len(SDP)).encode() + SDP
        r = transact(s, port, inv, b'INVITE')
        if r is None or not r.startswith(b'SIP/2.0 200 '):
            return 'INVITE answered %s' % (r[:12] if r else 'nothing')
        to = re.search(rb'^(?:To|t)[ \t]*:[ \t]*(.*?)\r\n', r,
                       re.M | re.I).group(1).decode()
        ct = re.search(rb'^(?:Contact|m)[ \t]*:[^<]*<([^>]*)>', r,
                       re.M | re.I)
        ruri = ct.group(1).decode() if ct else 'sip:4321@conf.example'
        rest = base + 'To: %s\r\n' % to
        s.sendto(('ACK %s SIP/2.0\r\n' % ruri + via % 'a' +
                  rest + 'CSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n')
                 .encode(), (GW, port))
        r = transact(s, port, ('BYE %s SIP/2.0\r\n' % ruri +
                               via % 'b' + rest + 'CSeq: 2 BYE\r\n'
                               'Content-Length: 0\r\n\r\n').encode(), b'BYE')
        if r is None or not r.startswith(b'SIP/2.0 200 '):
            return 'BYE answered %s' % (r[:12] if r else 'nothing')
        return None
    finally:
        s.close()


def send_udp(socks, rnd, port, msg):
    s = rnd.choice(socks)
    try:
        s.sendto(msg[:65000], (GW, port))
    except OSError:
        pass
    try:  # what comes back is not checked: only liveness is
        while True:
            s.recv(65535, socket.MSG_DONTWAIT)
    except OSError:
        pass


def send_tcp(rnd, port, groups, srcs):
    """One connection per group of messages: sent, half-closed, read until
    the gateway closes it too (so that it has parsed everything), at most
    1 s (a message cut short keeps Sofia waiting for the rest: then the
    connection is reset); one in ten reset instead of closed."""
    conns = []
    for msgs in groups:
        s = socket.socket()
        s.bind((rnd.choice(srcs), 0))
        s.settimeout(2)
        try:
            s.connect((GW, port))
            for m in msgs:
                s.sendall(m)
            s.shutdown(socket.SHUT_WR)
            s.setblocking(False)
            conns.append(s)
        except OSError:
            s.close()
    end = time.time() + 1
    while conns and time.time() < end:
        r, _, _ = select.select(conns, [], [], 0.1)
        for s in r:
            try:
                if s.recv(65535):
                    continue
            except OSError:
                pass
            conns.remove(s)
            if rnd.random() < 0.1:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                             struct.pack('ii', 1, 0))
            s.close()
    for s in conns:  # still open: reset
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                     struct.pack('ii', 1, 0))
        s.close()


def main():
    port, cms_port, corpus = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    total = int(sys.argv[4]) if len(sys.argv) > 4 else 20000
    seed = int(sys.argv[5]) if len(sys.argv) > 5 else 4475
    rnd = random.Random(seed)
    corpus_msgs = load(corpus)
    srcs = [EDGE] + ['127.0.0.%d' % i for i in range(10, 18)]
    udp = []
    for a in srcs:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((a, 0))
        udp.append(s)
    conf = Conference(cms_port)
    conf.start()
    t0, sent = time.time(), {'udp': 0, 'tcp': 0}
    err = call(port, 0)
    if err:
        print('before any mutation: the liveness call failed: %s' % err)
        return 1
    for b in range(0, (total + BATCH - 1) // BATCH):
        tp = 'udp' if b % 2 == 0 else 'tcp'
        n = min(BATCH, total - b * BATCH)
        msgs = [mutate(rnd, freshen(rnd.choice(corpus_msgs),
                                    b'm%d-%d-' % (seed, b * BATCH + i)))
                for i in range(n)]
        if tp == 'udp':
            for m in msgs:
                send_udp(udp, rnd, port, m)
        else:
            send_tcp(rnd, port, [msgs[i:i + PER_CONN]
                                 for i in range(0, n, PER_CONN)], srcs)
        sent[tp] += n
        for check, fn in (('OPTIONS over UDP', lambda: options(port, 'udp')),
                          ('OPTIONS over TCP', lambda: options(port, 'tcp')),
                          ('a call', lambda: call(port, b + 1) is None)):
            if not fn():
                why = '' if check != 'a call' else ': ' + str(call(port, -b))
                print('FAIL after %d messages (batch %d, %s): %s not served%s'
                      % (b * BATCH + n, b, tp, check, why))
                return 1
        if (b + 1) % 8 == 0:
            print('%d messages (%d UDP, %d TCP), alive, %.0f s'
                  % (sent['udp'] + sent['tcp'], sent['udp'], sent['tcp'],
                     time.time() - t0), flush=True)
    conf.stop = True
    print('%d mutated messages (%d UDP, %d TCP, seed %d) in %.0f s; '
          'liveness checked %d times: OPTIONS over UDP and TCP and a call'
          % (sent['udp'] + sent['tcp'], sent['udp'], sent['tcp'], seed,
             time.time() - t0, (total + BATCH - 1) // BATCH))
    return 0


if __name__ == '__main__':
    sys.exit(main())
