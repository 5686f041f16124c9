#!/bin/bash
# timeout: 180
# RFC 8656/5766 UDP allocations against coturn's turnutils_peer (a UDP
# echo peer) with turnutils_uclient: ChannelData (default), Send/Data
# indications (-s), client-to-client (-y), over UDP, TCP (-t) and TLS
# (-S -t) control transports, long-term and REST API credentials, with
# EVEN-PORT + RESERVATION-TOKEN (uclient's RTP/RTCP pair).
. "$SW_SRC/tests/lib.sh"

command -v turnutils_peer >/dev/null || fail "turnutils_peer missing (apt-get install coturn)"
turn_setup
# (c2c, uclient -y, relays between two allocations of this server: a
# loop onto its own relayed addresses that allow_own_addresses permits)
turn_conf "$SW_TMP/udp.conf" 1 "allow_peer = 127.0.0.0/8
allow_own_addresses = yes"

turnutils_peer -L 127.0.0.1 -p "$(port 3)" >"$SW_TMP/peer.log" 2>&1 &
SW_PIDS="$SW_PIDS $!"
sw_start "$SW_TMP/udp.conf"

# run NAME MIN_MSGS ARGS...: uclient against the echo peer; at least
# MIN_MSGS sent (RTP and RTCP streams count), every one came back, none lost
run() {
	local name=$1 n=$2 got; shift 2
	timeout 60 turnutils_uclient "$@" 127.0.0.1 >"$SW_TMP/$name.out" 2>&1
	got=$(sed -En 's/.*start_mclient: tot_send_msgs=([0-9]+), tot_recv_msgs=\1$/\1/p' \
		"$SW_TMP/$name.out")
	[ -n "$got" ] && [ "$got" -ge "$n" ] &&
		grep -q 'Total lost packets 0 ' "$SW_TMP/$name.out" ||
		{ tail -n 12 "$SW_TMP/$name.out"; fail "$name: not $n/$n"; }
	ok "$name: $got messages echoed"
}

P=(-e 127.0.0.1 -r "$(port 3)" -l 170)
run channels 5 -u cms -w cmssecret -p "$(port 1)" -n 5 -m 1 "${P[@]}"
run indications 10 -s -u cms -w cmssecret -p "$(port 1)" -n 5 -m 2 "${P[@]}"
run tcp-control 20 -t -u cms -w cmssecret -p "$(port 1)" -n 5 -m 4 "${P[@]}"
run tls-control 10 -S -t -u cms -w cmssecret -p "$(port 2)" -n 5 -m 2 "${P[@]}"
run rest 10 -u bob -W restsecret -p "$(port 1)" -n 5 -m 2 "${P[@]}"
run c2c 20 -y -u cms -w cmssecret -p "$(port 1)" -n 10 -m 2 -l 170
grep -q 'allocated: UDP relay' "$SW_TMP/sharewayd.log" || fail "no UDP allocation logged"
sw_stop
