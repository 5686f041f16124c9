#!/bin/bash
# timeout: 180
# What the TURN server must refuse, and that it keeps serving: wrong
# password, unknown and expired users (401), stale nonce (438 + fresh
# nonce), an authenticated Allocate replayed from another transport
# address (438), quotas (486 per user, 508 in total), every denied peer form
# (403; 443 for the wrong family; IPv6 forms of a denied IPv4 address),
# the gateway's own addresses through its own relay (a SIP OPTIONS to its
# SIP listener, a Connect to another allocation or to the TURN listener)
# even where allow_peer covers them, ConnectionBind with an unknown, used
# or foreign CONNECTION-ID (400/441), Connect twice (446), the bind
# timeout, a peer without permission, 2,000 unbound peers sending 64 KiB
# each (capped), truncated and garbage input on every listener, and a
# client vanishing mid-transfer (its fds and memory come back). The raw
# client is tests/integration/turn_probe.py.
. "$SW_SRC/tests/lib.sh"

PROBE="python3 $SW_SRC/tests/integration/turn_probe.py 127.0.0.1"
turn_setup

# neg_conf FILE EXTRA-TURN-LINES: the default peer deny list (no
# allow_peer), short nonce and bind timeouts, a small pre-bind buffer
neg_conf() {
	turn_conf "$1" 1 "user = cms2:cms2secret
user = cms3:cms3secret
nonce_lifetime = 2
bind_timeout = 2
prebind_buffer = 4096
$2"
}

# probe SCENARIO ARGS...: must print "ok"
probe() {
	$PROBE "$(port 1)" "$@" >"$SW_TMP/probe.out" 2>&1 ||
		{ cat "$SW_TMP/probe.out"; fail "probe $1"; }
	cat "$SW_TMP/probe.out"
}

# codes SCENARIO ARGS...: the "codes ..." line a scenario prints
codes() {
	$PROBE "$(port 1)" "$@" 2>&1 | sed -n 's/^codes //p'
}

# (the vanishing client's uclient -y relays between two allocations of
# this server: a loop onto its own relayed addresses, allowed here only)
neg_conf "$SW_TMP/neg.conf" "allow_peer = 127.0.0.0/8
allow_own_addresses = yes"
sw_start "$SW_TMP/neg.conf"
probe wrongpass
# an authenticated Allocate replayed verbatim from another transport address
got=$(codes replay)
[ "$got" = "438 438 200" ] || fail "replayed Allocate: got '$got'"
ok "a replayed Allocate gets 438 (TCP: a new connection; UDP: another port)"
probe stale 3
probe connbind
probe bindtimeout 2
probe noperm 16000000
probe garbage "$(port 2)"
got=$(codes peers 17 0.0.0.1 224.0.0.1 239.255.255.250 255.255.255.255 \
	169.254.1.1 0.0.0.0 ::ffff:127.0.0.1 ::1 192.0.2.1)
[ "$got" = "403 403 403 403 403 403 443 443 200" ] ||
	fail "UDP relay peers: got '$got'"
got=$(codes peers 6 224.0.0.1 169.254.0.1)
[ "$got" = "403 403 connect:403" ] || fail "TCP relay peers: got '$got'"
grep -q "peer 224.0.0.1:0 denied by policy" "$SW_TMP/sharewayd.log" ||
	fail "denied peer not logged"
ok "denied peers: 403 (443 for another family), Connect too"

# A client vanishing mid-transfer: everything it owned is released
fds() { ls "/proc/$SW_DPID/fd" | wc -l; }
rss() { awk '/^VmRSS/ {print $2}' "/proc/$SW_DPID/status"; }
base=$(fds)
for round in 1 2 3; do
	turnutils_uclient -T -y -u cms -w cmssecret -p "$(port 1)" -n 100000 \
		-m 4 -l 1000 -z 1 127.0.0.1 >"$SW_TMP/vanish$round.out" 2>&1 &
	uc=$!
	SW_PIDS="$SW_PIDS $uc"
	wait_for "$SW_TMP/sharewayd.log" 'PENDING -> BOUND' 10 || fail "no bound connection"
	sleep 1
	[ "$(fds)" -gt $((base + 20)) ] || fail "round $round: no transfer under way"
	kill -9 $uc
	wait $uc 2>/dev/null
	n=100
	while [ "$(fds)" != "$base" ] && [ $n -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
	[ "$(fds)" = "$base" ] || fail "round $round: $(fds) fds open, baseline $base"
	[ $round = 1 ] && rss1=$(rss)
done
rss3=$(rss)
[ "$rss3" -le $((rss1 + 2048)) ] || fail "memory grows: ${rss1} kB -> ${rss3} kB"
ok "vanishing client: fds back to $base, RSS ${rss1} -> ${rss3} kB"
kill -0 "$SW_DPID" || fail "sharewayd died"
sw_stop

neg_conf "$SW_TMP/quota.conf" "user_quota = 2
total_quota = 3
allow_peer = 127.0.0.0/8"
sw_start "$SW_TMP/quota.conf"
got=$(codes quota cms cms cms cms2 cms3)
[ "$got" = "200 200 486 200 508" ] || fail "quotas: got '$got'"
ok "quotas: 486 per user, 508 in total"
sw_stop

# allow_peer covers loopback, but the gateway's own transport addresses
# stay out of reach of its relay; unbound peers are capped
turn_conf "$SW_TMP/own.conf" 1 "allow_peer = 127.0.0.0/8"
sw_start "$SW_TMP/own.conf"
got=$(codes ownaddr "$(port 0)")
[ "$got" = "relay:ok sip:none 403 403" ] ||
	fail "own addresses through the relay: got '$got'"
ok "own addresses: OPTIONS to the SIP listener not relayed, Connect to another allocation and to the TURN listener 403"
read -r attempts grown < <(codes unbound "$SW_DPID" 2000 65536)
[ "${attempts:-999}" -le 32 ] || fail "$attempts unbound peers announced (max_unbound_peers 32)"
[ "${grown:-999999}" -lt 16384 ] || fail "2,000 unbound peers x 64 KiB: RSS +$grown kB"
ok "2,000 unbound peers x 64 KiB: $attempts announced, RSS +$grown kB"
kill -0 "$SW_DPID" || fail "sharewayd died"
sw_stop

# Without allow_peer: loopback and the server's own addresses are denied,
# in the IPv6 forms that carry them too
neg_conf "$SW_TMP/strict.conf" "deny_peer = 192.0.2.0/24
relay_ip6 = ::1"
sw_start "$SW_TMP/strict.conf"
got=$(codes peers 17 127.0.0.1 127.0.0.2 192.0.2.7 198.51.100.1)
[ "$got" = "403 403 403 200" ] || fail "default policy: got '$got'"
ok "default policy: loopback, own address and deny_peer refused"
got=$(codes peers6 ::127.0.0.1 2002:7f00:1:: 2001:0:7f00:1:0:0:80ff:fffe \
	64:ff9b::7f00:1 64:ff9b::c000:207 2001:db8::1)
[ "$got" = "403 403 403 403 403 200" ] || fail "IPv6 forms of IPv4: got '$got'"
ok "IPv4-compatible, 6to4, Teredo and NAT64 forms of denied IPv4 addresses: 403"
sw_stop
