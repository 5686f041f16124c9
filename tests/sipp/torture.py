#!/usr/bin/env python3
"""torture.py flood GW_PORT SRC_IP N: a burst of garbage and INVITEs.
torture.py GW_PORT SRC_IP CORPUS_DIR: send every RFC 4475 message of
MANIFEST.tsv to the daemon on 127.0.0.1 (UDP, and TCP where the manifest
says it applies) from SRC_IP, and check the outcome against the `accept`
column: a response class (4xx), an exact code (501), or `none` (no answer,
or the connection closed). Prints one line per message and transport and
exits non-zero if any outcome is not accepted. Every wait is bounded."""
import os
import random
import re
import socket
import sys
import time

STATUS = re.compile(rb'^SIP/2\.0 (\d{3}) ', re.M)
# the transport token of the first Via value (long or compact form)
LWS = rb'(?:[ \t]|\r?\n[ \t])*'
TOPVIA = re.compile(rb'^((?:Via|v)' + LWS + rb':' + LWS + rb'SIP' + LWS + rb'/' +
                    LWS + rb'2\.0' + LWS + rb'/' + LWS + rb')'
                    rb'([A-Za-z0-9.!%*_+`\'~-]+)', re.M | re.I)
# Known deviation, reported apart: Sofia-SIP 1.12.11's request-line parser
# refuses this extension method token and drops the message unanswered.
SOFIA_DROPS = {'intmeth': 'Sofia 1.12.11 cannot parse the method token'}


def collect(data):
    """First final status in a byte stream, else the first provisional."""
    codes = [int(c) for c in STATUS.findall(data)]
    finals = [c for c in codes if c >= 200]
    if finals:
        return finals[0]
    return codes[0] if codes else None


def send_udp(gw, src, msg, wait):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    s.sendto(msg, gw)
    data, end = b'', time.time() + wait
    while time.time() < end:
        s.settimeout(max(0.01, end - time.time()))
        try:
            d, _ = s.recvfrom(65535)
        except socket.timeout:
            break
        data += d
        c = collect(data)
        if c is not None and c >= 200:
            break
    s.close()
    return collect(data)


def send_tcp(gw, src, msg, wait):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((src, 0))
    s.settimeout(wait)
    s.connect(gw)
    s.sendall(msg)
    data, end = b'', time.time() + wait
    while time.time() < end:
        s.settimeout(max(0.01, end - time.time()))
        try:
            d = s.recv(65535)
        except (socket.timeout, ConnectionResetError):
            break
        if not d:
            break
        data += d
        c = collect(data)
        if c is not None and c >= 200:
            break
    s.close()
    return collect(data)


def as_sent_over(msg, tp):
    """The message as its sender would put it on tp: the top Via names the
    transport it is sent on (RFC 3261 18.1.1); Sofia drops a request whose
    top Via names another one. Nothing else changes."""
    return TOPVIA.sub(lambda m: m.group(1) + tp.upper().encode(), msg, 1)


def accepted(code, accept, liberal):
    items = accept.split(',')
    if liberal:  # the RFC lets an element accept the fault liberally
        items += ['1xx', '2xx', '3xx', '4xx', '6xx']
    if code is None:
        return 'none' in items
    return str(code) in items or ('%dxx' % (code // 100)) in items


def flood(port, src, n):
    """A neighbour gone mad: n datagrams of garbage and n INVITEs with no
    body in a burst, never answering anything (bounded: n <= 20000)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    rnd = random.Random(4475)
    lport = s.getsockname()[1]
    for i in range(min(n, 20000)):
        s.sendto(bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 300))),
                 ('127.0.0.1', port))
        s.sendto(('INVITE sip:flood%d@conf.example SIP/2.0\r\n'
                  'Via: SIP/2.0/UDP %s:%d;branch=z9hG4bKflood%d\r\n'
                  'From: <sip:f@x.example>;tag=f%d\r\nTo: <sip:flood@conf.example>\r\n'
                  'Call-ID: flood-%d\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n'
                  'Content-Length: 0\r\n\r\n' % (i, src, lport, i, i, i)).encode(),
                 ('127.0.0.1', port))
    s.close()
    return 0


def main():
    if sys.argv[1] == 'flood':
        sys.exit(flood(int(sys.argv[2]), sys.argv[3], int(sys.argv[4])))
    port, src, corpus = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    gw = ('127.0.0.1', port)
    bad = 0
    for line in open(os.path.join(corpus, 'MANIFEST.tsv')):
        if line.startswith('#') or line.startswith('name\t'):
            continue
        f = line.rstrip('\n').split('\t')
        name, accept, transports = f[0], f[4], f[7].split(',')
        liberal = f[6] == 'yes'
        msg = open(os.path.join(corpus, name + '.dat'), 'rb').read()
        wait = 1.0 if accept == 'none' else 2.5
        for tp in transports:
            if tp == 'udp' and len(msg) > 65000:
                continue
            fn = send_udp if tp == 'udp' else send_tcp
            code = fn(gw, src, as_sent_over(msg, tp), wait)
            ok = accepted(code, accept, liberal)
            tag = 'ok' if ok else 'BAD'
            if not ok and code is None and name in SOFIA_DROPS:
                tag = 'KNOWN'  # see SOFIA_DROPS
            bad += tag == 'BAD'
            print('%-5s %-11s %-4s accept %-30s %s%s' % (
                tag, name, tp, accept, code if code is not None else 'none',
                ' (%s)' % SOFIA_DROPS[name] if tag == 'KNOWN' else ''))
    sys.exit(1 if bad else 0)


main()
