#!/bin/bash
# timeout: 150
# shareway export --pcap: the fixture calls' recorded SIP and STUN/TURN
# messages as a pcap that tshark decodes: Cisco doc 212580's TURN
# exchange (Allocate, 401, Allocate, Success, Refresh, ConnectionAttempt,
# ConnectionBind) and the ICE checks as STUN, SIP over TCP with a
# handshake, SIP over UDP/IPv6; every IP/TCP/UDP checksum good.
. "$SW_SRC/tests/lib.sh"

STATE=$SW_TMP/state
rm -rf "$STATE"; mkdir -p "$STATE"
"$SW_BUILD/tests/calllog-fixture" "$STATE/calls.db" || fail "fixture not written"
SW="$SHAREWAY -c /nonexistent.conf -s $STATE"
TS="tshark -o tcp.check_checksum:TRUE -o udp.check_checksum:TRUE -o ip.check_checksum:TRUE"

$SW export c-1 --pcap "$SW_TMP/c1.pcap" || fail "export c-1"
$SW export c-6 --pcap "$SW_TMP/c6.pcap" || fail "export c-6"
$SW export c-3 --pcap "$SW_TMP/c3.pcap" 2>"$SW_TMP/c2.err" && fail "export of a call without messages succeeded"
grep -q "no recorded SIP or STUN/TURN messages" "$SW_TMP/c2.err" || fail "no clear message for an empty export"

count() { $TS -r "$1" -Y "$2" 2>/dev/null | wc -l; }
expect() { # FILE FILTER N
	local n; n=$(count "$1" "$2")
	[ "$n" = "$3" ] || fail "$(basename "$1"): '$2' matched $n frames, expected $3"
}

# c-1: 16 SIP messages (TLS toward the Edge, TCP toward CMS), 13 STUN/TURN
expect "$SW_TMP/c1.pcap" sip 16
expect "$SW_TMP/c1.pcap" 'sip.Method == "INVITE"' 4
expect "$SW_TMP/c1.pcap" 'sip.Method == "ACK"' 2
expect "$SW_TMP/c1.pcap" 'sip.Method == "BYE"' 2
expect "$SW_TMP/c1.pcap" 'sip.Status-Code == 200' 6
expect "$SW_TMP/c1.pcap" stun 13
expect "$SW_TMP/c1.pcap" 'stun.type.method == 0x0003 && stun.type.class == 0x00' 2
expect "$SW_TMP/c1.pcap" 'stun.att.error == 1 && stun.type.class == 0x11' 1
expect "$SW_TMP/c1.pcap" 'stun.type.method == 0x0003 && stun.type.class == 0x10' 1
expect "$SW_TMP/c1.pcap" 'stun.type.method == 0x0004' 2
expect "$SW_TMP/c1.pcap" 'stun.type.method == 0x000c' 1
expect "$SW_TMP/c1.pcap" 'stun.type.method == 0x000b' 2
expect "$SW_TMP/c1.pcap" 'stun.type.method == 0x0001' 4
expect "$SW_TMP/c1.pcap" 'stun.att.ipv4 == 192.168.1.252 && stun.att.port == 53577' 2
expect "$SW_TMP/c1.pcap" 'tcp.flags.syn == 1 && tcp.flags.ack == 0' 5
expect "$SW_TMP/c1.pcap" 'tcp.analysis.flags' 0
expect "$SW_TMP/c1.pcap" 'tcp.checksum.status != 1 || ip.checksum.status != 1' 0
# the real addresses and ports of Cisco doc 212580
expect "$SW_TMP/c1.pcap" 'ip.src == 10.48.54.230 && tcp.dstport == 3478 && stun' 4
expect "$SW_TMP/c1.pcap" 'ip.src == 192.168.1.252 && tcp.srcport == 53577 && tcp.dstport == 24000 && stun' 2
ok "c-1: SIP, TURN and ICE checks decoded, checksums good"

# c-6: the conference leg on UDP over IPv6
expect "$SW_TMP/c6.pcap" 'sip && ipv6 && udp' 6
expect "$SW_TMP/c6.pcap" 'sip.Method == "CANCEL"' 1
expect "$SW_TMP/c6.pcap" 'sip.Status-Code == 487' 1
expect "$SW_TMP/c6.pcap" 'udp.checksum.status != 1' 0
ok "c-6: SIP over UDP/IPv6 decoded, checksums good"

# to standard output
$SW export c-6 --pcap - 2>/dev/null >"$SW_TMP/c6b.pcap" || fail "export to stdout"
cmp -s "$SW_TMP/c6.pcap" "$SW_TMP/c6b.pcap" || fail "stdout export differs"
ok "export to standard output"
