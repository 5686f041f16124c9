#!/bin/bash
# timeout: 90
# shareway stun-decode on (a) the seed's hex dump of one TCP frame, which
# lost bytes in transcription: what decodes is shown, then the exact point
# where the message stops making sense; (b) MS-ICE2 Binding requests built
# by Python (hmac + zlib.crc32: an encoder independent of ours), checked
# with the right and a wrong ICE password, RFC 5389 and MS-ICE2 legacy
# integrity; (c) a real capture by tshark on loopback: STUN over UDP and
# RFC 4571-framed STUN over TCP split across two segments; (d) captures
# written by Python for every supported link type, IPv6 with an extension
# header, a retransmitted segment, and a capture cut short.
. "$SW_SRC/tests/lib.sh"

# --- (a) the seed's dump ------------------------------------------------------
seed=$SW_SHARED/seed/000_b3e0f3064d94f797.txt
[ -f "$seed" ] || fail "no seed document at $seed"
sed -n '/^Offset\tHex\tASCII/,/^$/p' "$seed" >"$SW_TMP/seed.txt"
[ "$(grep -c $'^00[0-9a-f]0\t' "$SW_TMP/seed.txt")" = 11 ] ||
	fail "the seed's Offset/Hex/ASCII block was not found"

rc=0
"$SHAREWAY" stun-decode "$SW_TMP/seed.txt" >"$SW_TMP/seed.out" 2>&1 || rc=$?
cat "$SW_TMP/seed.out"
[ $rc = 1 ] || fail "damaged dump: exit $rc, want 1"
must() { grep -qF -- "$1" "$2" || fail "missing in $(basename "$2"): $1"; }
must "dumped frame: TCP 10.48.54.230:44342 -> 10.48.54.229:3478" "$SW_TMP/seed.out"
must "RFC 4571 length: 108 (0x006c)" "$SW_TMP/seed.out"
must "Binding Request (type 0x0001)" "$SW_TMP/seed.out"
must "Transaction ID: a7d42d519e4d78c593819521" "$SW_TMP/seed.out"
must "+20 USE-CANDIDATE (0x0025), length 0" "$SW_TMP/seed.out"
must "+24 PRIORITY (0x0024), length 4: 1862270975 (0x6effffff): type preference 110 (peer-reflexive), local preference 65535, component 1" "$SW_TMP/seed.out"
# found by hand: ICE-CONTROLLED starts at dump 0x58; its length field at
# dump 0x5a (payload offset 36) reads 00 00 where RFC 8445 needs 00 08
must "DAMAGED at payload offset 36 (dump offset 0x005a), message offset 34: ICE-CONTROLLED (0x8029) at offset 32: length 0, expected 8" "$SW_TMP/seed.out"
must "that attribute starts at payload offset 34 (dump offset 0x0058)" "$SW_TMP/seed.out"
must "dump line 0x0070 holds 15 bytes where the next line's offset 0x0080 implies 16" "$SW_TMP/seed.out"
must "IPv4 total length 150 but only 149 bytes present (1 missing)" "$SW_TMP/seed.out"
# nothing after the damage is presented as decoded
grep -qE '^    \+[0-9]+ (ICE-CONTROLLED|USERNAME|FINGERPRINT)' "$SW_TMP/seed.out" &&
	fail "attributes after the damage were shown as decoded"
"$SHAREWAY" stun-decode --json "$SW_TMP/seed.txt" >"$SW_TMP/seed.json" 2>/dev/null
python3 - "$SW_TMP/seed.json" <<'EOF' || fail "seed --json"
import json, sys
o = [json.loads(l) for l in open(sys.argv[1])]
assert len(o) == 1, o
d = o[0]["damage"]
assert d["payload_offset"] == 36 and d["dump_offset"] == 0x5a, d
assert d["attribute"] == "ICE-CONTROLLED" and d["attribute_offset"] == 32
assert [a["name"] for a in o[0]["attributes"]] == ["USE-CANDIDATE", "PRIORITY"]
EOF
ok "seed dump: damage at payload offset 36 (dump offset 0x005a)"

# --- (b) MS-ICE2 Binding requests built by Python ------------------------------------
python3 - "$SW_TMP" <<'EOF' || fail "building the requests"
import hmac, hashlib, struct, sys, zlib
pwd = b"xS4HBhPkD3O4zxy9PjZ7LRj5"
tid = bytes.fromhex("53a3392e86a7666a5d9c7b3e")

def attr(t, v):
    return struct.pack("!HH", t, len(v)) + v + b"\0" * (-len(v) % 4)

def build(legacy):
    body = (attr(0x0025, b"") + attr(0x0024, struct.pack("!I", 0x6e6403ff)) +
            attr(0x802a, bytes.fromhex("e23e43f20e158973")) +
            attr(0x0006, b"EBoK:ewyh\0\0\0") + attr(0x8054, b"2\0\0\0") +
            attr(0x8070, struct.pack("!I", 2)))
    # RFC 5389 15.4: length up to MI; MS-ICE2 legacy: the whole message
    # (with FINGERPRINT) and the input zero-padded to 64 bytes
    mlen = len(body) + 24 + (8 if legacy else 0)
    data = struct.pack("!HHI", 1, mlen, 0x2112a442) + tid + body
    if legacy:
        data += b"\0" * (-len(data) % 64)
    body += attr(0x0008, hmac.new(pwd, data, hashlib.sha1).digest())
    hdr = struct.pack("!HHI", 1, len(body) + 8, 0x2112a442) + tid
    body += attr(0x8028, struct.pack("!I", (zlib.crc32(hdr + body) ^ 0x5354554e) & 0xffffffff))
    msg = struct.pack("!HHI", 1, len(body), 0x2112a442) + tid + body
    assert len(body) == 0x58
    return struct.pack("!H", len(msg)) + msg  # RFC 4571 framed

open(sys.argv[1] + "/ice.hex", "w").write(build(False).hex(" ") + "\n")
open(sys.argv[1] + "/ice-legacy.hex", "w").write(build(True).hex(":") + "\n")
bad = bytearray(build(False)); bad[40] ^= 1
open(sys.argv[1] + "/ice-bad.hex", "w").write(bad.hex() + "\n")
EOF
"$SHAREWAY" stun-decode --password xS4HBhPkD3O4zxy9PjZ7LRj5 <"$SW_TMP/ice.hex" >"$SW_TMP/ice.out" ||
	{ cat "$SW_TMP/ice.out"; fail "MS-ICE2 request: exit $?"; }
cat "$SW_TMP/ice.out"
must "RFC 4571 length: 108 (0x006c)" "$SW_TMP/ice.out"
must "Transaction ID: 53a3392e86a7666a5d9c7b3e" "$SW_TMP/ice.out"
must "PRIORITY (0x0024), length 4: 1852048383 (0x6e6403ff): type preference 110 (peer-reflexive), local preference 25603, component 1" "$SW_TMP/ice.out"
must "ICE-CONTROLLING (0x802a), length 8: tie-breaker 0xe23e43f20e158973: the sender is controlling" "$SW_TMP/ice.out"
must 'USERNAME (0x0006), length 12: "EBoK:ewyh" (+3 NUL padding)' "$SW_TMP/ice.out"
must 'CANDIDATE-IDENTIFIER (0x8054), length 4: "2" (+3 NUL padding)' "$SW_TMP/ice.out"
must "IMPLEMENTATION-VERSION (0x8070), length 4: 2" "$SW_TMP/ice.out"
must "MESSAGE-INTEGRITY: ok, HMAC-SHA1 RFC 5389, short-term key" "$SW_TMP/ice.out"
must "FINGERPRINT: ok" "$SW_TMP/ice.out"

"$SHAREWAY" stun-decode --password wrong-password "$SW_TMP/ice.hex" >"$SW_TMP/wrong.out" ||
	fail "wrong password: exit $?"
must "MESSAGE-INTEGRITY: MISMATCH" "$SW_TMP/wrong.out"

"$SHAREWAY" stun-decode --password xS4HBhPkD3O4zxy9PjZ7LRj5 "$SW_TMP/ice-legacy.hex" >"$SW_TMP/legacy.out" ||
	fail "legacy MI: exit $?"
must "MESSAGE-INTEGRITY: ok, HMAC-SHA1 MS-ICE2 legacy" "$SW_TMP/legacy.out"

rc=0
"$SHAREWAY" stun-decode "$SW_TMP/ice-bad.hex" >"$SW_TMP/bad.out" || rc=$?
[ $rc = 1 ] || fail "changed byte: exit $rc, want 1"
must "FINGERPRINT: BAD" "$SW_TMP/bad.out"

rc=0
"$SHAREWAY" stun-decode --bogus >/dev/null 2>&1 || rc=$?
[ $rc = 2 ] || fail "unknown option: exit $rc, want 2"
rc=0
echo "not hex at all" | "$SHAREWAY" stun-decode >/dev/null 2>&1 || rc=$?
[ $rc = 1 ] || fail "garbage input: exit $rc, want 1"
ok "MS-ICE2 requests: MI ok / MISMATCH / MS-ICE2 legacy, FINGERPRINT BAD"

# --- (c) a loopback capture by tshark ------------------------------------------------
command -v tshark >/dev/null || fail "tshark not installed"
# fixed ports on both ends, so that other tests on loopback stay out
P1=$(port 1) P2=$(port 2) C1=$(port 3) C2=$(port 4)
tshark -i lo -f "(udp port $P1 and udp port $C1) or (tcp port $P2 and tcp port $C2)" \
	-w "$SW_TMP/cap.pcapng" \
	-a duration:8 >"$SW_TMP/tshark.out" 2>"$SW_TMP/tshark.err" &
TPID=$!; SW_PIDS="$SW_PIDS $TPID"
wait_for "$SW_TMP/tshark.err" "Capturing on" 20 || { cat "$SW_TMP/tshark.err"; fail "tshark did not start"; }

python3 - "$P1" "$P2" "$C1" "$C2" "$SW_TMP/tids" <<'EOF' || fail "sending STUN"
import os, socket, struct, sys, time
p1, p2, c1, c2 = (int(x) for x in sys.argv[1:5])
def binding(tid):
    body = struct.pack("!HHI", 0x0024, 4, 0x6e0001ff)
    return struct.pack("!HHI", 1, len(body), 0x2112a442) + tid + body
t_udp, t_tcp = os.urandom(12), os.urandom(12)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("127.0.0.1", c1))
u.sendto(binding(t_udp), ("127.0.0.1", p1))
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", p2)); srv.listen(1); srv.settimeout(5)
# a fixed client port: reusable, and closed by RST (linger 0) so that
# no TIME_WAIT blocks the next run
c = socket.socket()
c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
c.settimeout(5)
c.bind(("127.0.0.1", c2))
c.connect(("127.0.0.1", p2))
c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
a, _ = srv.accept(); a.settimeout(5)
m = binding(t_tcp); f = struct.pack("!H", len(m)) + m
c.sendall(f[:9]); time.sleep(0.3); c.sendall(f[9:])  # split inside the header
got = b""
while len(got) < len(f):
    got += a.recv(100)
c.close(); a.close(); srv.close()
open(sys.argv[5], "w").write(t_udp.hex() + " " + t_tcp.hex() + "\n")
EOF
n=150
while kill -0 "$TPID" 2>/dev/null && [ $n -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
kill -0 "$TPID" 2>/dev/null && fail "tshark did not stop"
read -r TID_UDP TID_TCP <"$SW_TMP/tids"
# the TCP message really crossed in two segments
segs=$(tshark -r "$SW_TMP/cap.pcapng" -Y "tcp.srcport == $C2 && tcp.len > 0" -T fields -e tcp.len 2>/dev/null | tr '\n' ' ')
[ "$segs" = "9 21 " ] || fail "TCP segments were '$segs', want '9 21 '"

"$SHAREWAY" stun-decode "$SW_TMP/cap.pcapng" >"$SW_TMP/cap.out" 2>&1 ||
	{ cat "$SW_TMP/cap.out"; fail "capture: exit $?"; }
cat "$SW_TMP/cap.out"
must "Transaction ID: $TID_UDP" "$SW_TMP/cap.out"
must "Transaction ID: $TID_TCP" "$SW_TMP/cap.out"
grep -qF "frame 1: UDP 127.0.0.1:$C1 -> 127.0.0.1:$P1, payload offset 0" "$SW_TMP/cap.out" ||
	fail "UDP message not located"
grep -qE "^Message 2: frame [0-9]+: TCP 127\.0\.0\.1:$C2 -> 127\.0\.0\.1:$P2, payload offset 2" "$SW_TMP/cap.out" ||
	fail "TCP message not located"
must "2 STUN message(s), 0 damaged" "$SW_TMP/cap.out"

"$SHAREWAY" stun-decode --json "$SW_TMP/cap.pcapng" >"$SW_TMP/cap.json" 2>/dev/null ||
	fail "capture --json: exit $?"
python3 -m json.tool --json-lines "$SW_TMP/cap.json" >/dev/null || fail "--json does not parse"
python3 - "$SW_TMP/cap.json" "$TID_UDP" "$TID_TCP" <<'EOF' || fail "--json content"
import json, sys
o = [json.loads(l) for l in open(sys.argv[1])]
got = {(m["transport"], m["framing"], m["transaction_id"]) for m in o}
assert got == {("udp", "udp", sys.argv[2]), ("tcp", "rfc4571", sys.argv[3])}, got
assert all(m["method"] == "Binding" and m["class"] == "Request" and not m["damaged"] for m in o)
EOF
ok "capture: UDP and split RFC 4571 TCP messages found, --json parses"

# --- (d) link types, IPv6, retransmission, truncation ------------------------------
python3 - "$SW_TMP" <<'EOF' || fail "writing captures"
import socket, struct, sys
d = sys.argv[1]

def stun(tid, method=1):
    body = struct.pack("!HHI", 0x0024, 4, 0x6e0001ff)
    return struct.pack("!HHI", method, len(body), 0x2112a442) + tid + body

def ip4(proto, pl):
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(pl), 1, 0x4000, 64,
                       proto, 0, socket.inet_aton("127.0.0.1"),
                       socket.inet_aton("127.0.0.2")) + pl

def ip6(proto, pl, hbh=False):
    if hbh:  # hop-by-hop options header: 8 bytes, PadN
        pl = struct.pack("!BB6s", proto, 0, b"\x01\x04\0\0\0\0") + pl
        proto = 0
    return struct.pack("!IHBB16s16s", 0x60000000, len(pl), proto, 64,
                       socket.inet_pton(socket.AF_INET6, "::1"),
                       socket.inet_pton(socket.AF_INET6, "::2")) + pl

def udp(pl):
    return struct.pack("!HHHH", 40000, 3478, 8 + len(pl), 0) + pl

def tcp(seq, pl):
    return struct.pack("!HHIIBBHHH", 40001, 3478, seq, 1, 0x50, 0x18, 65535,
                       0, 0) + pl

def pcap(name, linktype, frames, cut=0):
    b = struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, linktype)
    for i, f in enumerate(frames):
        b += struct.pack("<IIII", 1700000000, i, len(f), len(f)) + f
    open(d + "/" + name, "wb").write(b[:len(b) - cut])

eth = struct.pack("!6s6sH", b"\x02" * 6, b"\x04" * 6, 0x86dd)
pcap("eth6.pcap", 1, [eth + ip6(17, udp(stun(b"A" * 12)), hbh=True)])
m = stun(b"B" * 12)
f = struct.pack("!H", len(m)) + m
sll = struct.pack("!HHH8sH", 0, 772, 6, b"", 0x0800)
pcap("sll.pcap", 113, [sll + ip4(6, tcp(1000, f[:5])),
                       sll + ip4(6, tcp(1000, f[:5])),  # retransmitted
                       sll + ip4(6, tcp(1005, f[5:]))])
sll2 = struct.pack("!HHIHBB8s", 0x0800, 0, 1, 772, 0, 6, b"")
pcap("sll2.pcap", 276, [sll2 + ip4(17, udp(stun(b"C" * 12)))])
pcap("raw.pcap", 101, [ip4(17, udp(stun(b"D" * 12)))])
pcap("null.pcap", 0, [struct.pack("<I", 2) + ip4(17, udp(stun(b"E" * 12)))])
pcap("loop.pcap", 108, [struct.pack("!I", 24) +
                        ip6(6, tcp(7, stun(b"F" * 12, method=3)))])
pcap("cut.pcap", 101, [ip4(17, udp(stun(b"G" * 12)))] * 2, cut=10)
EOF
check_cap() { # FILE TID-LETTER EXPECTED-LINE...
	local f=$1 hex; shift
	hex=$(printf '%s' "$1" | od -An -tx1 | tr -d ' \n'); shift
	"$SHAREWAY" stun-decode "$SW_TMP/$f" >"$SW_TMP/$f.out" 2>&1 ||
		{ cat "$SW_TMP/$f.out"; fail "$f: exit $?"; }
	must "Transaction ID: $hex" "$SW_TMP/$f.out"
	for l in "$@"; do must "$l" "$SW_TMP/$f.out"; done
}
check_cap eth6.pcap AAAAAAAAAAAA "frame 1: UDP [::1]:40000 -> [::2]:3478"
check_cap sll.pcap BBBBBBBBBBBB "RFC 4571 length: 28" "1 STUN message(s), 0 damaged" \
	"frame 3: TCP 127.0.0.1:40001 -> 127.0.0.2:3478, payload offset 2"
check_cap sll2.pcap CCCCCCCCCCCC "frame 1: UDP 127.0.0.1:40000 -> 127.0.0.2:3478"
check_cap raw.pcap DDDDDDDDDDDD "frame 1: UDP 127.0.0.1:40000"
check_cap null.pcap EEEEEEEEEEEE "frame 1: UDP 127.0.0.1:40000"
check_cap loop.pcap FFFFFFFFFFFF "Allocate Request (type 0x0003)" \
	"frame 1: TCP [::1]:40001 -> [::2]:3478, payload offset 0"
rc=0
"$SHAREWAY" stun-decode "$SW_TMP/cut.pcap" >"$SW_TMP/cut.out" 2>&1 || rc=$?
[ $rc = 1 ] || fail "capture cut short: exit $rc, want 1"
must "Transaction ID: 474747474747474747474747" "$SW_TMP/cut.out"
must "capture damaged after frame 1" "$SW_TMP/cut.out"
ok "link types Ethernet/SLL/SLL2/raw/null/loop, IPv6 extension header, retransmission, cut capture"
