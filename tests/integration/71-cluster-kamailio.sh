#!/bin/bash
# timeout: 240
# Three gateways behind Kamailio's dispatcher (issue 15, proofs 1 and 4):
# the shipped contrib/kamailio/kamailio.cfg on 127.0.0.10, sharewayd i1..i3
# on 127.0.0.11-13 sharing a throw-away PostgreSQL (tests/lib_cluster.sh),
# and real application-sharing calls by bench/asbench
# (the Edge on 127.0.0.2 calling through Kamailio, the conference on
# 127.0.0.3; relay policy: TURN-TCP relay, MS-ICE2 checks both ways, the
# completion re-INVITEs, BYE through Kamailio's Record-Route).
#  1. every call's relay candidate is on the instance that owns its
#     dialog: in each instance's call log, the relay's address and the
#     candidates it inserted are its own, and each Edge Call-ID is in one
#     log only; every call completed (its in-dialog requests reached the
#     owner);
#  4. a rolling restart of all three (shareway drain --wait: the registry
#     says draining; SIGTERM, start, back in Kamailio's set, next) under a
#     steady call rate: no call failed, none in progress was cut.
. "$SW_SRC/tests/lib.sh"
. "$SW_SRC/tests/sipp/sip-lib.sh"
. "$SW_SRC/tests/lib_cluster.sh"

ASBENCH=$SW_BUILD/bench/asbench
KAM_CFG=$SW_SRC/contrib/kamailio/kamailio.cfg
command -v kamailio >/dev/null || fail "kamailio missing (./bootstrap)"
[ -x "$ASBENCH" ] || fail "bench/asbench not built"
# asbench plays the Edge (P_EDGE) and the conference (P_CMS, its TCP-PASS
# listener P_MEDIA), as the zones of lib_cluster.sh name them
P_MEDIA=$(port 5)
R=$SW_TMP/kam


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
		-c 127.0.0.3:$P_CMS -m 127.0.0.3:$P_MEDIA -T 140 \
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

# each instance: the app-sharing dial plan asbench calls through (relay
# policy) and a relay allowed to reach the conference on 127.0.0.3
cl_pg_start
for i in 1 2 3; do
	cl_conf "i$i" "127.0.0.1$i" "" "" "allow_peer = 127.0.0.0/8"
	cp "$SW_SRC/bench/conf/rules-appshare.conf" "$SW_TMP/i$i/rules.conf"
	cl_start "i$i"
done
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
# the call-log writers commit in batches: until every call set up is in
# an instance's log with its relay (at most 5 s), a count taken now may
# miss the last one that the next query sees
for _ in $(seq 50); do
	logged=0
	for i in 1 2 3; do
		logged=$((logged + $(cl_local "i$i" "SELECT count(*) FROM calls c
			WHERE EXISTS (SELECT 1 FROM relays r WHERE r.call = c.id)")))
	done
	[ "$logged" -ge "${setups:-0}" ] && break
	sleep 0.1
done
total=0; used=0
for i in 1 2 3; do
	ip=127.0.0.1$i
	n=$(cl_local "i$i" "SELECT count(*) FROM calls")
	# calls (not relay rows: a call may hold more than one allocation)
	# from Kamailio with a relay, every one of them on this instance
	own=$(cl_local "i$i" "SELECT count(*) FROM calls c
		JOIN legs a ON a.call = c.id AND a.inbound = 1
		WHERE a.peer LIKE '127.0.0.10:%'
		AND EXISTS (SELECT 1 FROM relays r WHERE r.call = c.id)
		AND NOT EXISTS (SELECT 1 FROM relays r WHERE r.call = c.id
			AND r.relayed NOT LIKE '$ip:%')")
	# the addresses of every relay candidate in the SDP the gateway sent
	# (its relayed address, 101, and its bridging socket toward the
	# conference in the completion re-INVITE, 102)
	addrs=$(cl_local "i$i" "SELECT coalesce(answer_out, '') || coalesce(offer_out, '')
		FROM negotiations" | grep -o 'a=candidate:10[123] .* typ relay' |
		awk '{ print $5 }' | sort -u | tr '\n' ' ')
	echo "i$i: $n calls, $own with the dialog and the relay on $ip; relay candidates on: $addrs"
	[ "$own" = "$n" ] && [ "$addrs" = "$ip " ] || fail "i$i: a call's relay is not on its owner"
	total=$((total + n)); [ "$n" -gt 0 ] && used=$((used + 1))
done
[ "$total" = "$setups" ] && [ "$setups" -ge 10 ] ||
	fail "$setups calls set up through Kamailio, the instances' logs hold $total"
dup=$(for i in 1 2 3; do cl_local "i$i" "SELECT call_id FROM legs WHERE inbound = 1"; done | sort | uniq -d | wc -l)
[ "$dup" = 0 ] || fail "$dup Edge Call-IDs in two instances' logs"
[ "$used" -ge 2 ] || fail "Kamailio sent every call to one instance"
ok "proof 1: $setups calls, each owned by one instance ($used used) with its relay candidates"

# --- proof 4: rolling restart under a steady call rate -------------------
asb rolling rate 4 -d 24 -H 1 -w 50
sleep 2
for i in 1 2 3; do
	ip=127.0.0.1$i
	echo "i$i: $(cl_cli "i$i" drain)" || fail "i$i: drain"
	cl_wait_sql "SELECT state FROM sw_instances WHERE name = 'i$i'" draining 10 ||
		fail "i$i is not draining in the registry"
	cl_cli "i$i" drain --wait --timeout 20 >/dev/null ||
		fail "i$i: calls in progress did not end within 20 s of the drain"
	cl_stop "i$i"
	cl_start "i$i"
	ds_wait "$ip" AP 10
	echo "i$i: drained, restarted, back in Kamailio's set"
done
kill -0 "$ASB" 2>/dev/null || fail "the calls ended before the rolling restart did"
asb_wait rolling || fail "rolling restart: calls failed or were cut"
grep '^RESULT' "$SW_TMP/rolling.out"
moved=$(grep -c 'ds: .* failed at .*(503), next' "$R/kamailio.log" || true)
ok "proof 4: rolling restart of i1, i2, i3 under 4 calls/s: 0 failed, 0 cut ($moved INVITEs moved on by a 503)"
for i in 1 2 3; do cl_stop "i$i"; done
