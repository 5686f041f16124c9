#!/bin/bash
# timeout: 240
# Three gateways behind Kamailio's dispatcher (issue 15, proofs 1 and 4):
# the shipped contrib/kamailio/kamailio.cfg on 127.0.0.10, sharewayd i1..i3
# on 127.0.0.11-13, and real application-sharing calls by bench/asbench
# (the Edge on 127.0.0.2 calling through Kamailio, the conference on
# 127.0.0.3; relay policy: TURN-TCP relay, MS-ICE2 checks both ways, the
# completion re-INVITEs, BYE through Kamailio's Record-Route).
#  1. every call's relay candidate is on the instance that owns its
#     dialog: in each instance's call log, the relay's address and the
#     candidates it inserted are its own, and each Edge Call-ID is in one
#     log only; every call completed (its in-dialog requests reached the
#     owner);
#  4. a rolling restart of all three (shareway drain --wait, SIGTERM,
#     start, back in Kamailio's set, next) under a steady call rate: no
#     call failed, none in progress was cut.
. "$SW_SRC/tests/lib.sh"

ASBENCH=$SW_BUILD/bench/asbench
KAM_CFG=$SW_SRC/contrib/kamailio/kamailio.cfg
command -v kamailio >/dev/null || fail "kamailio missing (./bootstrap)"
[ -x "$ASBENCH" ] || fail "bench/asbench not built"
P_EDGE=$(port 3); P_CONF=$(port 4); P_MEDIA=$(port 5)
R=$SW_TMP/kam
declare -A PID=()

# inst_conf NAME IP: sharewayd on IP (SIP udp 5060, TURN tcp 3478, relays
# on IP), the Edge seen through Kamailio, the asbench conference
inst_conf() {
	local n=$1 ip=$2 d=$SW_TMP/$1
	mkdir -p "$d/state"
	cat >"$d/shareway.conf" <<EOC
[general]
log_level = info
state_dir = $d/state
rules_file = $SW_SRC/bench/conf/rules-appshare.conf
[sip]
listen = udp:$ip:5060
[turn]
listen = tcp:$ip:3478
relay_ip = $ip
relay_ports = 40000-40999
realm = shareway
user = cms:cmssecret
allow_peer = 127.0.0.0/8
[appsharing]
relay_pool = 4
[zone edge]
edge = yes
match.source = 127.0.0.2/32 127.0.0.10/32
transport = udp
[zone cms]
match.source = 127.0.0.3/32
transport = udp
EOC
}

inst_start() {
	local n=$1 d=$SW_TMP/$1
	: >"$d/sharewayd.log"
	"$SHAREWAYD" -c "$d/shareway.conf" >>"$d/sharewayd.log" 2>&1 &
	PID[$n]=$!
	SW_PIDS="$SW_PIDS ${PID[$n]}"
	wait_for "$d/sharewayd.log" ' ready' 15 ||
		{ tail -n 20 "$d/sharewayd.log"; fail "$n did not start"; }
}

inst_stop() { # SIGTERM, a clean exit within 15 s
	local n=$1 pid=${PID[$1]} i=150
	kill -TERM "$pid"
	while kill -0 "$pid" 2>/dev/null && [ $i -gt 0 ]; do sleep 0.1; i=$((i - 1)); done
	kill -0 "$pid" 2>/dev/null && fail "$n did not stop on SIGTERM"
	wait "$pid" 2>/dev/null
}

cli() { local n=$1; shift; "$SHAREWAY" -c "$SW_TMP/$n/shareway.conf" "$@"; }
db() { sqlite3 -readonly "$SW_TMP/$1/state/calls.db" "$2"; }

# ds_state IP: Kamailio's flags for that instance (AP active, IP inactive)
ds_state() {
	kamcmd -s "unix:$R/kamailio_ctl" dispatcher.list 2>/dev/null |
		awk -v u="sip:$1:5060" '/URI:/ { x = ($2 == u) } x && /FLAGS:/ { print $2; exit }'
}

# ds_wait IP FLAGS [SECONDS]
ds_wait() {
	local n=$(( ${3:-10} * 10 ))
	while [ "$(ds_state "$1")" != "$2" ] && [ $n -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
	[ $n -gt 0 ] || fail "Kamailio does not see $1 as $2 (it says '$(ds_state "$1")')"
}

# asb NAME ARGS...: asbench through Kamailio in the background
asb() {
	local name=$1
	shift
	timeout -k 5 150 "$ASBENCH" "$@" -g 127.0.0.10:5060 -e 127.0.0.2:$P_EDGE \
		-c 127.0.0.3:$P_CONF -m 127.0.0.3:$P_MEDIA -T 140 \
		>"$SW_TMP/$name.out" 2>"$SW_TMP/$name.err" &
	ASB=$!
	SW_PIDS="$SW_PIDS $ASB"
}

asb_wait() { # NAME: its exit status 0, its RESULT line with failed=0
	local rc=0
	wait "$ASB" || rc=$?
	grep -q '^RESULT .* failed=0 ' "$SW_TMP/$1.out" && [ $rc = 0 ] ||
		{ cat "$SW_TMP/$1.out"; tail -n 20 "$SW_TMP/$1.err"; return 1; }
}

for i in 1 2 3; do inst_conf "i$i" "127.0.0.1$i"; inst_start "i$i"; done
mkdir -p "$R"
printf '1 sip:127.0.0.1%s:5060 0 0 duid=i%s\n' 1 1 2 2 3 3 >"$R/dispatcher.list"
kamailio -f "$KAM_CFG" -DD -E -Y "$R" -P "$R/kamailio.pid" -m 64 -M 8 \
	-A "DS_LIST=\"$R/dispatcher.list\"" -A "DS_CTL=\"unix:$R/kamailio_ctl\"" \
	>"$R/kamailio.log" 2>&1 &
SW_PIDS="$SW_PIDS $!"
for i in 1 2 3; do ds_wait "127.0.0.1$i" AP; done
ok "Kamailio (contrib/kamailio/kamailio.cfg) probes i1, i2, i3 up"

# --- proof 1: relay candidates on the dialog's owner --------------------
asb calls rate 6 -d 2 -w 50
asb_wait calls || fail "calls through Kamailio failed"
setups=$(sed -n 's/^RESULT .* setups=\([0-9]*\) .*/\1/p' "$SW_TMP/calls.out")
total=0; used=0
for i in 1 2 3; do
	ip=127.0.0.1$i
	n=$(db "i$i" "SELECT count(*) FROM calls")
	own=$(db "i$i" "SELECT count(*) FROM calls c
		JOIN legs a ON a.call = c.id AND a.inbound = 1
		JOIN relays r ON r.call = c.id
		WHERE a.peer LIKE '127.0.0.10:%' AND r.relayed LIKE '$ip:%'")
	# the addresses of every relay candidate in the SDP the gateway sent
	# (its relayed address, 101, and its bridging socket toward the
	# conference in the completion re-INVITE, 102)
	addrs=$(db "i$i" "SELECT coalesce(answer_out, '') || coalesce(offer_out, '')
		FROM negotiations" | grep -o 'a=candidate:10[123] .* typ relay' |
		awk '{ print $5 }' | sort -u | tr '\n' ' ')
	echo "i$i: $n calls, $own with the dialog and the relay on $ip; relay candidates on: $addrs"
	[ "$own" = "$n" ] && [ "$addrs" = "$ip " ] || fail "i$i: a call's relay is not on its owner"
	total=$((total + n)); [ "$n" -gt 0 ] && used=$((used + 1))
done
[ "$total" = "$setups" ] && [ "$setups" -ge 10 ] ||
	fail "$setups calls set up through Kamailio, the instances' logs hold $total"
dup=$(for i in 1 2 3; do db "i$i" "SELECT call_id FROM legs WHERE inbound = 1"; done | sort | uniq -d | wc -l)
[ "$dup" = 0 ] || fail "$dup Edge Call-IDs in two instances' logs"
[ "$used" -ge 2 ] || fail "Kamailio sent every call to one instance"
ok "proof 1: $setups calls, each owned by one instance ($used used) with its relay candidates"

# --- proof 4: rolling restart under a steady call rate -------------------
asb rolling rate 4 -d 24 -H 1 -w 50
sleep 2
for i in 1 2 3; do
	ip=127.0.0.1$i
	echo "i$i: $(cli "i$i" drain)" || fail "i$i: drain"
	cli "i$i" drain --wait --timeout 20 >/dev/null ||
		fail "i$i: calls in progress did not end within 20 s of the drain"
	inst_stop "i$i"
	inst_start "i$i"
	ds_wait "$ip" AP 10
	echo "i$i: drained, restarted, back in Kamailio's set"
done
kill -0 "$ASB" 2>/dev/null || fail "the calls ended before the rolling restart did"
asb_wait rolling || fail "rolling restart: calls failed or were cut"
grep '^RESULT' "$SW_TMP/rolling.out"
moved=$(grep -c 'ds: .* failed at .*(503), next' "$R/kamailio.log" || true)
ok "proof 4: rolling restart of i1, i2, i3 under 4 calls/s: 0 failed, 0 cut ($moved INVITEs moved on by a 503)"
for i in 1 2 3; do inst_stop "i$i"; done
