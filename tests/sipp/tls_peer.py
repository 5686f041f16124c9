#!/usr/bin/env python3
"""tls_peer.py: a minimal SIP peer over TLS for the mutual-TLS test (the
Debian SIPp has no TLS). Every socket wait is bounded.

  tls_peer.py uac SRC_IP GW_PORT CA [CERT KEY]  -> one call: INVITE with an
        SDP, expects 200 with SDP, ACK, BYE, 200; exit 0 on success,
        2 if the TLS handshake is refused
  tls_peer.py uas IP PORT CA CERT KEY OUTFILE   -> requires a client
        certificate, answers one INVITE with 200, takes ACK and BYE, and
        writes the client certificate's subject CN to OUTFILE
"""
import re
import socket
import ssl
import sys

SDP = ('v=0\r\no=- 1 1 IN IP4 127.0.0.2\r\ns=tls-call\r\nc=IN IP4 127.0.0.2\r\n'
       't=0 0\r\nm=applicationsharing 50040 TCP/RTP/AVP 127\r\n'
       'a=rtpmap:127 x-data/90000\r\n')


def read_msg(s, buf):
    """One SIP message from the stream (headers + Content-Length body)."""
    while b'\r\n\r\n' not in buf:
        d = s.recv(65535)
        if not d:
            raise EOFError('connection closed')
        buf += d
    head, rest = buf.split(b'\r\n\r\n', 1)
    m = re.search(rb'^(?:Content-Length|l)\s*:\s*(\d+)', head, re.M | re.I)
    n = int(m.group(1)) if m else 0
    while len(rest) < n:
        d = s.recv(65535)
        if not d:
            raise EOFError('connection closed')
        rest += d
    return head.decode('utf-8', 'replace'), rest[:n], rest[n:]


def hdr(head, name):
    m = re.search(r'^' + name + r'\s*:\s*(.*)$', head, re.M | re.I)
    return m.group(1).strip() if m else ''


def req(method, ruri, lport, to, cseq, body=''):
    ct = 'Content-Type: application/sdp\r\n' if body else ''
    return ('%s %s SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.2:%d;branch=z9hG4bK%s%d\r\n'
            'From: <sip:edge@edge.test>;tag=tlsA\r\nTo: %s\r\n'
            'Call-ID: tls-call-1@127.0.0.2\r\nCSeq: %d %s\r\n'
            'Contact: <sip:edge@127.0.0.2:%d;transport=tls>\r\nMax-Forwards: 70\r\n'
            '%sContent-Length: %d\r\n\r\n%s' % (
                method, ruri, lport, method, cseq, to, cseq, method, lport,
                ct, len(body), body)).encode()


def final(s, buf):
    while True:
        head, body, buf = read_msg(s, buf)
        code = int(head.split(' ', 2)[1])
        if code >= 200:
            return head, body, buf


def uac(src, port, ca, cert=None, key=None):
    ctx = ssl.create_default_context(cafile=ca)
    ctx.check_hostname = False
    if cert:
        ctx.load_cert_chain(cert, key)
    raw = socket.create_connection(('127.0.0.1', port), timeout=10,
                                   source_address=(src, 0))
    try:
        s = ctx.wrap_socket(raw)
        s.sendall(b'\r\n\r\n')  # a CRLF keep-alive proves the session is up
        s.settimeout(10)
        lport = s.getsockname()[1]
        ruri = 'sip:4321@conf.example'
        s.sendall(req('INVITE', ruri, lport, '<%s>' % ruri, 1, SDP))
    except (ssl.SSLError, ConnectionResetError, BrokenPipeError, OSError) as e:
        print('handshake refused:', e)
        return 2
    try:
        head, body, buf = final(s, b'')
    except (ssl.SSLError, EOFError, ConnectionResetError) as e:
        print('refused after handshake:', e)
        return 2
    code = int(head.split(' ', 2)[1])
    print('INVITE ->', head.splitlines()[0])
    if code != 200 or b's=tls-answer' not in body:
        return 1
    to = hdr(head, 'To')
    target = re.search(r'<([^>]+)>', hdr(head, 'Contact')).group(1)
    s.sendall(req('ACK', target, lport, to, 1))
    s.sendall(req('BYE', target, lport, to, 2))
    head, _, _ = final(s, buf)
    print('BYE ->', head.splitlines()[0])
    return 0 if head.startswith('SIP/2.0 200') else 1


def resp(head, code, body='', tag=''):
    to = hdr(head, 'To') + (';tag=' + tag if tag and 'tag=' not in hdr(head, 'To') else '')
    vias = ''.join('Via: %s\r\n' % v.strip() for v in re.findall(r'^Via\s*:\s*(.*)$', head, re.M | re.I))
    ct = 'Content-Type: application/sdp\r\n' if body else ''
    return ('SIP/2.0 %s\r\n%sFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %s\r\n'
            'Contact: <sip:cms@127.0.0.3;transport=tls>\r\n%sContent-Length: %d\r\n\r\n%s' % (
                code, vias, hdr(head, 'From'), to, hdr(head, 'Call-ID'),
                hdr(head, 'CSeq'), ct, len(body), body)).encode()


def uas(ip, port, ca, cert, key, out):
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=ca)
    ctx.load_cert_chain(cert, key)
    ctx.verify_mode = ssl.CERT_REQUIRED
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((ip, port))
    ls.listen(4)
    ls.settimeout(20)
    print('listening', flush=True)
    raw, _ = ls.accept()
    s = ctx.wrap_socket(raw, server_side=True)
    s.settimeout(20)
    cn = [v for rdn in s.getpeercert()['subject'] for k, v in rdn if k == 'commonName']
    open(out, 'w').write((cn[0] if cn else '') + '\n')
    head, _, buf = read_msg(s, b'')
    assert head.startswith('INVITE '), head
    answer = SDP.replace('tls-call', 'tls-answer').replace('127.0.0.2', '127.0.0.3')
    s.sendall(resp(head, '200 OK', answer, 'tlsU'))
    for method in ('ACK', 'BYE'):
        head, _, buf = read_msg(s, buf)
        assert head.startswith(method + ' '), head
    s.sendall(resp(head, '200 OK'))
    return 0


if __name__ == '__main__':
    a = sys.argv
    if a[1] == 'uac':
        sys.exit(uac(a[2], int(a[3]), a[4], *(a[5:7] or [None, None])))
    sys.exit(uas(a[2], int(a[3]), a[4], a[5], a[6], a[7]))
