#!/bin/bash
# timeout: 240
# A zone with several peers (issue 15, proof 6): two SIPp call bridges of
# zone cms on 127.0.0.21 and 127.0.0.22, probed with OPTIONS every
# second, calls from a SIPp caller through sharewayd. Both up: calls are
# spread over both (equal weights). One killed by PID mid-run: every call
# still succeeds (one that meets the dead peer fails over to the other on
# the transport error), `shareway status` shows it down within the probe
# interval, and later calls go to the live peer alone. Back up but
# refusing calls 503 with Retry-After: the call fails over, the peer is
# down for the Retry-After, the call log names both peers tried. A
# reload adds a backup peer; a peer killed between probes: the call
# fails over on the transport error. None left: 503 from the gateway,
# whose verdict names every peer tried.
. "$SW_SRC/tests/lib.sh"
. "$SW_SRC/tests/sipp/sip-lib.sh"

SDP=$SDP_DIR/ms-sdp-2.2-lcs-era-example-msdata.sdp
SW="$SHAREWAY -c $SW_TMP/shareway.conf -s $SW_TMP/state"
P_PEER=$(port 3)
P1=sip:127.0.0.21:$P_PEER
P2=sip:127.0.0.22:$P_PEER

sip_conf
# zone cms: the two peers instead of its target, probed every second
sed -i "/^\[zone cms\]/,\$ { /^target/d }" "$SW_TMP/shareway.conf"
printf 'peer = %s priority=1 weight=1\npeer = %s\nprobe_interval = 1\nprobe_timeout = 1\n' \
	"$P1" "$P2" >>"$SW_TMP/shareway.conf"
sw_start "$SW_TMP/shareway.conf"

# peer N SCENARIO: SIPp call bridge N (127.0.0.2N) in the background,
# until killed (bounded by the test's timeout); its PID in PEER_PID[N]
declare -A PEER_PID
peer() {
	local n=$1 f
	f=$SW_TMP/peer$n.xml # its own: scn rewrites NAME.xml for the next
	cp "$(scn "$2" "$SDP")" "$f"
	sipp -sf "$f" -i "127.0.0.2$n" -p "$P_PEER" -nostdin -trace_msg \
		-message_file "$SW_TMP/peer$n.msg" \
		>"$SW_TMP/peer$n.out" 2>&1 &
	PEER_PID[$n]=$!
	SW_PIDS="$SW_PIDS $!"
}

# invites N: INVITEs peer N has received so far
invites() { grep -ac '^INVITE sip:' "$SW_TMP/peer$1.msg" 2>/dev/null || true; }

# calls WHAT COUNT: COUNT calls from the Edge side, all answered
calls() {
	uac uac_call 127.0.0.2 "$P_EDGE" 4321 "$2" "$SDP" ||
		{ show uac_call; fail "$1: a call failed"; }
}

# state URI: the peer's state in `shareway status` (up, DOWN, absent)
state() {
	$SW status | awk -v u="$1" '$1 == "peer" && $2 == u { print $3; f = 1 }
		END { if (!f) print "absent" }'
}

# until_state URI STATE: poll (at most 10 s: the probe interval is 1 s)
until_state() {
	local n=100
	while [ "$(state "$1")" != "$2" ] && [ $n -gt 0 ]; do
		sleep 0.1; n=$((n - 1))
	done
	[ "$(state "$1")" = "$2" ] || { $SW status; fail "$1 not $2"; }
}

# notes TAG: the call log's notes of the peers a call tried, one a line
notes() {
	$SW show "$1" --json | sed -n 's/^ *"detail": "\(.* (zone cms): .*\)",\{0,1\}$/\1/p'
}

# last_tags N: the tags of the N newest calls
last_tags() {
	$SW calls --json --limit "$1" | grep -o '"tag":"[^"]*"' | cut -d'"' -f4
}

# 1. both up: probed, and calls spread over both
peer 1 uas_peer
peer 2 uas_peer
until_state "$P1" up
until_state "$P2" up
calls both 4
[ "$(invites 1)" = 2 ] && [ "$(invites 2)" = 2 ] ||
	fail "4 calls over equal weights: $(invites 1) + $(invites 2)"
grep -aq '^OPTIONS sip:127.0.0.21' "$SW_TMP/peer1.msg" || fail "peer 1 never probed"
ok "both peers up and probed; 4 calls spread 2 + 2"

# 2. peer 2 killed mid-run: no call fails, it shows down, calls go to peer 1
kill "${PEER_PID[2]}"
wait "${PEER_PID[2]}" 2>/dev/null
calls killed 2
until_state "$P2" DOWN
$SW status --json | grep -q '"state": *"down"' || fail "status --json: no peer down"
before=$(invites 1)
calls after 3
[ "$(invites 1)" = $((before + 3)) ] || fail "after detection: not every call went to peer 1"
ok "peer 2 killed: every call answered, status shows it down, peer 1 takes the calls"

# 3. peer 2 back, up to probes but refusing calls 503 + Retry-After: the
# call fails over to peer 1, peer 2 is held down for the Retry-After
: >"$SW_TMP/peer2.msg"
SCN_SET=$(printf 'CODE=503\nPHRASE=Service Unavailable\nHDR=Retry-After: 120') peer 2 uas_peer_refuse
until_state "$P2" up
calls refused 2
[ "$(invites 2)" = 1 ] || fail "the refusing peer got $(invites 2) INVITEs, not 1"
until_state "$P2" DOWN
$SW status --json | grep -q '"why": *"call: 503 Service Unavailable, Retry-After 120 s"' ||
	fail "503 Retry-After not held"
tag=""
for t in $(last_tags 2); do
	[ -n "$(notes "$t")" ] && tag=$t
done
[ -n "$tag" ] || fail "no call log record names the failed peer"
notes "$tag" | grep -qxF "$P2 (zone cms): 503 Service Unavailable; next: $P1" ||
	{ notes "$tag"; fail "call $tag: the peers tried"; }
$SW show "$tag" --json | grep -q '"target": *"'"$P1"'"' ||
	fail "call $tag: the route's target is not $P1"
# the trace, recorded again after the failover, names the next peer
$SW show "$tag" | grep -qF "=> forward to cms ($P1, udp)" ||
	{ $SW show "$tag"; fail "call $tag: the route's trace does not name $P1"; }
$SW show "$tag" --json | grep -q '"state": *"completed"' || fail "call $tag: not completed"
ok "503 + Retry-After: failed over to peer 1, peer 2 held down, call log names both"

# 4. a reload adds peer 3 (127.0.0.23, priority 2: a backup) and probes
# every 60 s from now on (peer 2 stays held). Peer 1, up, is killed: the
# next call meets the transport error (ICMP unreachable) and fails over,
# past the held peer 2, to peer 3. Then peer 3 is killed: the next call
# has no peer left and the gateway answers 503, its verdict naming each
# peer tried.
peer 3 uas_peer
sed -i -e 's/^probe_interval = 1$/probe_interval = 60/' \
	-e "s|^peer = $P2\$|&\npeer = sip:127.0.0.23:$P_PEER priority=2|" "$SW_TMP/shareway.conf"
$SW reload >/dev/null || fail "reload"
P3=sip:127.0.0.23:$P_PEER
until_state "$P3" up
# the probes the reload started have been answered (none for 60 s now)
n=100
while ! grep -aq '^OPTIONS sip:127.0.0.23' "$SW_TMP/peer3.msg" 2>/dev/null && [ $n -gt 0 ]; do
	sleep 0.1; n=$((n - 1))
done
sleep 0.5
kill "${PEER_PID[1]}"
wait "${PEER_PID[1]}" 2>/dev/null
[ "$(state "$P1")" = up ] || fail "peer 1 probed down before the call"
calls transport 1
[ "$(state "$P1")" = DOWN ] || fail "the call's transport error did not mark peer 1 down"
[ "$(invites 3)" = 1 ] || fail "peer 3 got $(invites 3) INVITEs, not 1"
tag=$(last_tags 1)
notes "$tag" | grep -qx "$P1 (zone cms): 503 .*; next: $P3" ||
	{ notes "$tag"; fail "call $tag: transport error, then peer 3"; }
ok "transport error: failed over past the held peer to the backup (priority 2)"

kill "${PEER_PID[3]}"
wait "${PEER_PID[3]}" 2>/dev/null
SCN_SET=$(printf 'CODE=503\nPHRASE=All peers of the zone failed\nHDRRE=.') \
	uac uac_reject 127.0.0.2 "$P_EDGE" 4321 1 "$SDP" ||
	{ show uac_reject; fail "all peers dead: no 503"; }
sleep 0.5
tag=$(last_tags 1)
$SW show "$tag" --json >"$SW_TMP/all-failed.json"
grep -q '"answered_by": *"gw"' "$SW_TMP/all-failed.json" &&
	grep -q '"verdict": *"[^"]*every peer of zone cms tried failed: '"$P3"' 503 [^"]*(its peers now: '"$P1"' down [^"]*'"$P2"' down ' "$SW_TMP/all-failed.json" ||
	{ grep verdict "$SW_TMP/all-failed.json"; fail "all failed: the verdict does not say so"; }
ok "no peer left: 503 from the gateway, verdict: every peer tried failed"

grep -q 'zone cms peer .* down' "$SW_TMP/sharewayd.log" || fail "no 'peer down' log line"
sw_stop
