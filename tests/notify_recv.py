#!/usr/bin/env python3
"""notify_recv.py SOCKET TIMEOUT [HOST:PORT...]: the service manager's end
of sd_notify(3), for the tests: binds SOCKET (AF_UNIX datagram, as
systemd's NOTIFY_SOCKET) and prints each datagram as one line,
"pid=PID FIELD | FIELD ...", the sender's pid from SCM_CREDENTIALS (what
NotifyAccess=main checks). At the first READY=1 it connects to each
HOST:PORT (TCP) at once and prints "accepts HOST:PORT" or "refuses
HOST:PORT ERROR": READY must mean every listener accepts. Exits 0 after
STOPPING=1, 1 when TIMEOUT seconds pass without it."""
import socket
import struct
import sys
import time

path, timeout, targets = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.bind(path)
print("listening", flush=True)
end = time.monotonic() + timeout
ready_seen = False
while time.monotonic() < end:
    s.settimeout(max(0.1, end - time.monotonic()))
    try:
        data, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(12))
    except socket.timeout:
        break
    pid = -1
    for level, typ, val in anc:
        if level == socket.SOL_SOCKET and typ == socket.SCM_CREDENTIALS:
            pid = struct.unpack("iII", val[:12])[0]
    fields = data.decode("utf-8", "replace").strip().split("\n")
    print("pid=%d %s" % (pid, " | ".join(fields)), flush=True)
    if "READY=1" in fields and not ready_seen:
        ready_seen = True
        for t in targets:
            host, port = t.rsplit(":", 1)
            try:
                socket.create_connection((host, int(port)), 2).close()
                print("accepts %s" % t, flush=True)
            except OSError as e:
                print("refuses %s %s" % (t, e), flush=True)
    if "STOPPING=1" in fields:
        sys.exit(0)
sys.exit(1)
