#!/bin/bash
# timeout: 150
# [calllog] capture_sip: every SIP message of a call, as the peers sent
# and received it, in the call log. A basic Edge -> CMS call over UDP:
# `shareway ladder` draws INVITE, 200, ACK and BYE on both legs; `export
# --pcap` gives tshark each message byte-identical to SIPp's own traces,
# with the real addresses and ports (leg B's INVITE carries X-CID). The
# same call over TCP: the gateway's ephemeral port toward CMS and the
# Edge's port are the ones the kernel shows. capture_sip = no: no SIP
# steps, nothing to export, a clean stop.
. "$SW_SRC/tests/lib.sh"
. "$SW_SRC/tests/sipp/sip-lib.sh"

STATE=$SW_TMP/state
CONF=$SW_TMP/shareway.conf
SW="$SHAREWAY -c $CONF -s $STATE"

cid_of() { # MSGFILE: the first Call-ID in a SIPp trace
	grep -a -m1 -i '^Call-ID:' "$1" | tr -d '\r' | sed 's/^[^:]*: *//'
}

# sip_steps CALL: "src>dst label" per SIP step of the ladder
sip_steps() {
	$SW ladder --json "$1" | python3 -c '
import json, sys
for s in json.load(sys.stdin)["ladder"]:
    if s["kind"] == "sip":
        print("%s>%s %s" % (s["src"], s["dst"], s["label"]))'
}

# ladder_wait CALL N: until the ladder has N SIP steps (the writer
# commits every 100 ms)
ladder_wait() {
	local n=50
	while [ $n -gt 0 ]; do
		[ "$(sip_steps "$1" 2>/dev/null | wc -l)" -ge "$2" ] && return 0
		sleep 0.1; n=$((n - 1))
	done
	return 1
}

step() { # STEPS-FILE "src>dst label-start"
	grep -q "^$2" "$1" || { cat "$1"; fail "ladder: no step '$2'"; }
}

TS="tshark -o tcp.check_checksum:TRUE -o udp.check_checksum:TRUE -o ip.check_checksum:TRUE"
count() { $TS -r "$1" -Y "$2" 2>/dev/null | wc -l; }
expect() { # FILE FILTER N
	local n; n=$(count "$1" "$2")
	[ "$n" = "$3" ] || fail "$(basename "$1"): '$2' matched $n frames, expected $3"
}

# --- 1. UDP call ------------------------------------------------------------
sip_conf
sw_start "$CONF"
uas uas_basic 127.0.0.3 "$P_CMS" 1 "$ANSWER"
uac uac_basic 127.0.0.2 "$P_EDGE" 4321 1 "$OFFER" || { show uac_basic; fail "udp call"; }
uas_wait || { show uas_basic; fail "cms side of the udp call"; }
A=$(cid_of "$SW_TMP/uac_basic-uac.msg")
B=$(cid_of "$SW_TMP/uas_basic-uas.msg")
[ -n "$A" ] && [ -n "$B" ] && [ "$A" != "$B" ] || fail "Call-IDs '$A' '$B'"
n_edge=$(grep -ac 'message \(sent\|received\)' "$SW_TMP/uac_basic-uac.msg")
n_cms=$(grep -ac 'message \(sent\|received\)' "$SW_TMP/uas_basic-uas.msg")

ladder_wait "$A" $((n_edge + n_cms)) || fail "ladder: $(sip_steps "$A" | wc -l) SIP steps, SIPp saw $((n_edge + n_cms)) messages"
sip_steps "$A" >"$SW_TMP/steps"
for s in "edge>shareway INVITE (SDP)" "shareway>edge 200 OK (SDP)" \
	"edge>shareway ACK" "edge>shareway BYE" "shareway>edge 200 OK (BYE)" \
	"shareway>conference INVITE (SDP)" "conference>shareway 200 OK (SDP)" \
	"shareway>conference ACK" "shareway>conference BYE" \
	"conference>shareway 200 OK (BYE)"; do
	step "$SW_TMP/steps" "$s"
done
[ "$(wc -l <"$SW_TMP/steps")" = $((n_edge + n_cms)) ] || { cat "$SW_TMP/steps"; fail "ladder has more SIP steps than SIPp saw messages"; }
$SW ladder "$A" >"$SW_TMP/ladder.txt" || fail "ladder (text)"
grep -q '───>│' "$SW_TMP/ladder.txt" && grep -q '│<───' "$SW_TMP/ladder.txt" &&
	grep -q 'BYE' "$SW_TMP/ladder.txt" || { cat "$SW_TMP/ladder.txt"; fail "text ladder without SIP arrows"; }
$SW ladder --json "$B" | grep -q "\"tag\": *\"$($SW ladder --json "$A" | python3 -c 'import json,sys; print(json.load(sys.stdin)["tag"])')\"" ||
	fail "leg B's Call-ID does not find the same call"
ok "ladder: INVITE, 200, ACK, BYE on both legs ($((n_edge + n_cms)) SIP steps, as many as SIPp saw)"

P=$SW_TMP/call.pcap
$SW export "$A" --pcap "$P" || fail "export --pcap"
expect "$P" sip $((n_edge + n_cms))
expect "$P" "sip && ip.addr == 127.0.0.2 && udp.port == $P_EDGE && ip.addr == 127.0.0.1 && udp.port == $P_GW" "$n_edge"
expect "$P" "sip && ip.addr == 127.0.0.3 && udp.port == $P_CMS && ip.addr == 127.0.0.1 && udp.port == $P_GW" "$n_cms"
expect "$P" "sip.Method == \"INVITE\" && ip.src == 127.0.0.2 && udp.srcport == $P_EDGE && ip.dst == 127.0.0.1 && udp.dstport == $P_GW && sip.Call-ID == \"$A\"" 1
expect "$P" "sip.Method == \"INVITE\" && ip.src == 127.0.0.1 && udp.srcport == $P_GW && ip.dst == 127.0.0.3 && udp.dstport == $P_CMS && sip.Call-ID == \"$B\" && sip.msg_hdr contains \"X-CID: $A\"" 1
expect "$P" 'udp.checksum.status != 1 || ip.checksum.status != 1' 0
# every message byte for byte as a SIPp peer sent or received it
tshark -r "$P" -Y sip -T fields -e udp.payload 2>/dev/null >"$SW_TMP/payloads"
python3 - "$SW_TMP/payloads" "$SW_TMP/uac_basic-uac.msg" "$SW_TMP/uas_basic-uas.msg" <<'EOF' || fail "a captured message differs from SIPp's trace"
import sys
seen = open(sys.argv[2], "rb").read() + open(sys.argv[3], "rb").read()
for i, h in enumerate(l.strip().replace(":", "") for l in open(sys.argv[1])):
    if bytes.fromhex(h) not in seen:
        sys.exit("frame %d not in the SIPp traces:\n%s" % (i + 1, bytes.fromhex(h)[:300]))
EOF
ok "export: $((n_edge + n_cms)) SIP frames byte-identical to the peers', real addresses and ports, X-CID on leg B"

# --- 2. TCP call: the gateway's real ephemeral port toward CMS -------------
sw_stop
echo "transport = tcp" >>"$CONF" # the last section is [zone cms]
sw_start "$CONF"
uas uas_basic 127.0.0.3 "$P_CMS" 1 "$ANSWER" -t t1
SCN_SET="HOLD=1500" uac uac_basic 127.0.0.2 "$P_EDGE" 4321 1 "$OFFER" -t t1 &
UAC=$!
SW_PIDS="$SW_PIDS $UAC"
n=50; gw_port=""; edge_port=""
while [ $n -gt 0 ] && { [ -z "$gw_port" ] || [ -z "$edge_port" ]; }; do
	sleep 0.1; n=$((n - 1))
	gw_port=$(ss -tnH state established "( dst 127.0.0.3:$P_CMS and src 127.0.0.1 )" | awk '{split($3, a, ":"); print a[2]; exit}')
	edge_port=$(ss -tnH state established "( src 127.0.0.2 and dst 127.0.0.1:$P_GW )" | awk '{split($3, a, ":"); print a[2]; exit}')
done
[ -n "$gw_port" ] && [ -n "$edge_port" ] || fail "no TCP connections to see (gw->cms '$gw_port', edge->gw '$edge_port')"
wait "$UAC" || { show uac_basic; fail "tcp call"; }
uas_wait || { show uas_basic; fail "cms side of the tcp call"; }
A=$(cid_of "$SW_TMP/uac_basic-uac.msg")
ladder_wait "$A" $((n_edge + n_cms)) || fail "tcp call: ladder incomplete"
P=$SW_TMP/tcp.pcap
$SW export "$A" --pcap "$P" || fail "export --pcap (tcp)"
expect "$P" "sip.Method == \"INVITE\" && ip.src == 127.0.0.2 && tcp.srcport == $edge_port && ip.dst == 127.0.0.1 && tcp.dstport == $P_GW" 1
expect "$P" "sip.Method == \"INVITE\" && ip.src == 127.0.0.1 && tcp.srcport == $gw_port && ip.dst == 127.0.0.3 && tcp.dstport == $P_CMS && sip.msg_hdr contains \"X-CID: $A\"" 1
expect "$P" "sip && ip.addr == 127.0.0.3 && tcp.port == $gw_port" "$n_cms"
ok "tcp: the Edge's port $edge_port and the gateway's ephemeral port $gw_port toward CMS"

# --- 3. capture_sip = no ----------------------------------------------------
sw_stop
# the local ends of the TCP call: the Edge's connection is in the table of
# accepted connections (sipua_conn.c), only the gateway's own connection
# toward CMS is searched for among the process's sockets (once; before,
# every stream peer was, and each search costs two system calls per
# descriptor)
grep -q 'sip capture\].* 1 socket searches' "$SW_TMP/sharewayd.log" ||
	{ grep 'sip capture' "$SW_TMP/sharewayd.log"; fail "tcp call: socket searches"; }
ok "tcp: the Edge's connection found without searching the sockets"
printf '[calllog]\ncapture_sip = no\n' >>"$CONF"
sed -i '/^transport = tcp$/d' "$CONF"
sw_start "$CONF"
uas uas_basic 127.0.0.3 "$P_CMS" 1 "$ANSWER"
uac uac_basic 127.0.0.2 "$P_EDGE" 4321 1 "$OFFER" || { show uac_basic; fail "call without capture"; }
uas_wait || fail "cms side of the call without capture"
A=$(cid_of "$SW_TMP/uac_basic-uac.msg")
n=50 # until the record has its end (the writer commits every 100 ms)
while [ $n -gt 0 ] && ! $SW show --json "$A" 2>/dev/null | grep -q '"state": *"completed"'; do
	sleep 0.1; n=$((n - 1))
done
$SW show --json "$A" | grep -q '"state": *"completed"' || fail "no completed record of the call without capture"
[ "$(sip_steps "$A" | wc -l)" = 0 ] || { sip_steps "$A"; fail "SIP steps recorded with capture_sip = no"; }
$SW export "$A" --pcap "$SW_TMP/none.pcap" 2>"$SW_TMP/none.err" && fail "export succeeded without captured messages"
grep -q "no recorded SIP" "$SW_TMP/none.err" || fail "export without messages: $(cat "$SW_TMP/none.err")"
sw_stop
grep -q "stopped" "$SW_TMP/sharewayd.log" || fail "no clean stop"
grep -q 'sip capture' "$SW_TMP/sharewayd.log" && fail "capture ran with capture_sip = no"
ok "capture_sip = no: no SIP steps, nothing to export, clean stop"
