#!/usr/bin/env python3
"""limits.py: hostile senders for tests/integration/39-sip-limits.sh.
Every wait is bounded; every address is on loopback.

  limits.py options GW_PORT udp|tcp             an OPTIONS, exit 0 on 200
  limits.py conns GW_PORT CAP TIMEOUT            per-source cap, idle end
  limits.py garbage GW_PORT N                    N garbage + reset streams
  limits.py fdflood GW_PORT PID N                N idle connections (EMFILE)
  limits.py sink IP PORT                         a callee that never answers
  limits.py flood GW_PORT N                      N INVITEs, never ACKed
"""
import os
import random
import resource
import select
import socket
import struct
import sys
import time

GW = '127.0.0.1'


def options(port, tp, src='127.0.0.2', sock=None, wait=5.0):
    """One OPTIONS; the status code, or None. sock: an open TCP one."""
    own = sock is None
    if own:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if tp == 'udp'
                             else socket.SOCK_STREAM)
        sock.bind((src, 0))
        sock.settimeout(wait)
        if tp == 'tcp':
            sock.connect((GW, port))
    lip, lport = sock.getsockname()
    br = 'z9hG4bK-opt-%d-%d' % (os.getpid(), random.getrandbits(32))
    msg = ('OPTIONS sip:%s:%d SIP/2.0\r\n'
           'Via: SIP/2.0/%s %s:%d;branch=%s;rport\r\n'
           'Max-Forwards: 70\r\nFrom: <sip:probe@%s>;tag=%s\r\n'
           'To: <sip:%s:%d>\r\nCall-ID: %s@%s\r\nCSeq: 1 OPTIONS\r\n'
           'Content-Length: 0\r\n\r\n' % (GW, port, tp.upper(), lip, lport,
                                          br, lip, br, GW, port, br, lip))
    code = None
    try:
        if tp == 'udp':
            sock.sendto(msg.encode(), (GW, port))
        else:
            sock.sendall(msg.encode())
        end, data = time.time() + wait, b''
        while time.time() < end and code is None:
            sock.settimeout(max(0.01, end - time.time()))
            d = sock.recv(65535)
            if not d:
                break
            data += d
            if data.startswith(b'SIP/2.0 ') and b'\r\n\r\n' in data:
                code = int(data[8:11])
    except OSError:
        pass
    if own:
        sock.close()
    return code


def closed_by_peer(s):
    """The server closed or reset s (never blocks)."""
    try:
        return s.recv(100, socket.MSG_DONTWAIT) == b''
    except BlockingIOError:
        return False
    except OSError:
        return True


def wait_closed(socks, limit):
    """Until every socket of socks is closed by the server or limit s."""
    end, open_ = time.time() + limit, list(socks)
    while open_ and time.time() < end:
        p = select.poll()
        for s in open_:
            p.register(s.fileno(), select.POLLIN | select.POLLERR)
        p.poll(200)
        open_ = [s for s in open_ if not closed_by_peer(s)]
    return len(socks) - len(open_)


def conns(port, cap, timeout):
    """cap+6 idle connections from one address: 6 reset at once; the cap
    kept until tcp_message_timeout, then closed; a connection that sent a
    request meanwhile stays and is served."""
    good = socket.socket()
    good.bind(('127.0.0.6', 0))
    good.connect((GW, port))
    c1 = options(port, 'tcp', sock=good)
    socks = []
    for _ in range(cap + 6):
        s = socket.socket()
        s.bind(('127.0.0.4', 0))
        s.connect((GW, port))
        socks.append(s)
    time.sleep(1.0)
    early = sum(closed_by_peer(s) for s in socks)
    print('cap %d: %d of %d connections from one address reset at once'
          % (cap, early, len(socks)))
    t0 = time.time()
    n = wait_closed(socks, timeout + 8)
    print('%d of %d closed by the server %.1f s later (tcp_message_timeout '
          '%d s)' % (n, len(socks), time.time() - t0, timeout))
    c2 = options(port, 'tcp', sock=good)
    print('the connection that sent a request: answered %s, then %s'
          % (c1, c2))
    ok = early == 6 and n == len(socks) and c1 == 200 and c2 == 200
    return 0 if ok else 1


def garbage(port, n):
    """n TCP connections that send garbage and reset, n garbage datagrams,
    from 127.0.0.7-127.0.0.26 (under the per-source cap)."""
    rnd = random.Random(4475)
    t0 = time.time()
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(('127.0.0.7', 0))
    for i in range(n):
        s = socket.socket()
        s.bind(('127.0.0.%d' % (7 + i % 20), 0))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                     struct.pack('ii', 1, 0))
        junk = bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 200)))
        try:
            s.connect((GW, port))
            s.sendall(b'INVITE sip:x SIP/2.0\r\nVia: ' + junk + b'\r\n\r\n')
        except OSError:
            pass
        s.close()  # RST
        u.sendto(junk, (GW, port))
    print('%d garbage streams reset and %d garbage datagrams in %.1f s'
          % (n, n, time.time() - t0))
    return 0


def cpu_ticks(pid):
    with open('/proc/%d/stat' % pid) as f:
        v = f.read().rsplit(')', 1)[1].split()
    return int(v[11]) + int(v[12])


def fdflood(port, pid, n):
    """n idle connections from 127.0.1.x (60 each): the daemon (1024
    descriptors) runs out; its CPU over 3 s, UDP served meanwhile, then
    the clients leave and a TCP request is served."""
    resource.setrlimit(resource.RLIMIT_NOFILE, (n + 256, n + 256))
    socks = []
    for i in range(n):
        s = socket.socket()
        s.bind(('127.0.1.%d' % (1 + i // 60), 0))
        s.setblocking(False)
        try:
            s.connect((GW, port))
        except BlockingIOError:
            pass
        socks.append(s)
    time.sleep(0.5)
    hz = os.sysconf('SC_CLK_TCK')
    c0, t0 = cpu_ticks(pid), time.time()
    time.sleep(3)
    cpu = (cpu_ticks(pid) - c0) / hz / (time.time() - t0)
    print('%d idle connections: daemon CPU %.0f %% over 3 s' % (n, cpu * 100))
    udp = options(port, 'udp')
    print('an OPTIONS over UDP meanwhile: %s' % udp)
    for s in socks:
        s.close()
    t0 = time.time()
    code = None
    while code != 200 and time.time() - t0 < 10:
        code = options(port, 'tcp', src='127.0.0.5', wait=1)
    print('clients gone: an OPTIONS over TCP answered %s after %.2f s'
          % (code, time.time() - t0))
    return 0 if cpu < 0.5 and udp == 200 and code == 200 else 1


def sink(ip, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((ip, port))
    while True:
        s.recv(65535)


def flood(port, n):
    """n INVITEs from the Edge zone as fast as they go, never ACKed."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(('127.0.0.2', 0))
    s.setblocking(False)
    lport = s.getsockname()[1]
    sdp = (b'v=0\r\no=- 1 1 IN IP4 127.0.0.2\r\ns=-\r\nc=IN IP4 127.0.0.2\r\n'
           b't=0 0\r\nm=audio 4000 RTP/AVP 0\r\n')
    codes = {}
    for i in range(n):
        m = (('INVITE sip:flood%d@conf.example SIP/2.0\r\n'
              'Via: SIP/2.0/UDP 127.0.0.2:%d;branch=z9hG4bK-fl%d;rport\r\n'
              'Max-Forwards: 70\r\nFrom: <sip:f@127.0.0.2>;tag=f%d\r\n'
              'To: <sip:flood%d@conf.example>\r\nCall-ID: flood-%d@127.0.0.2\r\n'
              'CSeq: 1 INVITE\r\nContact: <sip:f@127.0.0.2:%d>\r\n'
              'Content-Type: application/sdp\r\nContent-Length: %d\r\n\r\n'
              % (i, lport, i, i, i, i, lport, len(sdp))).encode() + sdp)
        while True:
            try:
                s.sendto(m, (GW, port))
                break
            except BlockingIOError:
                time.sleep(0.001)
        if i % 100 == 0:
            time.sleep(0.01)  # the gateway's receive buffer, not a limit
        try:
            while True:
                d = s.recv(65535)
                codes[d[8:11]] = codes.get(d[8:11], 0) + 1
        except BlockingIOError:
            pass
    print('%d INVITEs sent; answers so far: %s' % (n, ', '.join(
        '%s %d' % (k.decode(), v) for k, v in sorted(codes.items()))))
    return 0


def main():
    cmd, a = sys.argv[1], sys.argv[2:]
    if cmd == 'options':
        return 0 if options(int(a[0]), a[1]) == 200 else 1
    if cmd == 'conns':
        return conns(int(a[0]), int(a[1]), int(a[2]))
    if cmd == 'garbage':
        return garbage(int(a[0]), int(a[1]))
    if cmd == 'fdflood':
        return fdflood(int(a[0]), int(a[1]), int(a[2]))
    if cmd == 'sink':
        return sink(a[0], int(a[1]))
    if cmd == 'flood':
        return flood(int(a[0]), int(a[1]))
    print(__doc__)
    return 2


if __name__ == '__main__':
    sys.exit(main())
