#!/bin/bash
# timeout: 240
# RFC 6062 interop with coturn's own client against sharewayd on 127.0.0.1:
# turnutils_uclient -T -y (Connect + ConnectionAttempt between clients,
# hairpin through our own relayed addresses), -P (peer-initiated, the
# active peer played by uclient), -S -T (TLS control and data
# connections), REST API credentials (-W), and two relay threads (a
# ConnectionBind landing on the other thread is handed over). Asserts on
# what the client reports (connections completed, messages received, no
# loss) and on the bytes the server moved.
. "$SW_SRC/tests/lib.sh"

command -v turnutils_uclient >/dev/null || fail "turnutils_uclient missing (apt-get install coturn)"
turn_setup

# loopback peers allowed, as coturn --allow-loopback-peers; uclient -y
# relays between two allocations of this server, a loop onto its own
# relayed addresses that only allow_own_addresses permits
turn20_conf() {
	turn_conf "$1" "$2" "allow_peer = 127.0.0.0/8
allow_own_addresses = yes"
}

# uc NAME ARGS...: run uclient, output in $SW_TMP/NAME.out
uc() {
	local name=$1; shift
	timeout 60 turnutils_uclient "$@" 127.0.0.1 >"$SW_TMP/$name.out" 2>&1
}

# expect NAME REGEX: uclient NAME reported REGEX
expect() {
	grep -Eq -- "$2" "$SW_TMP/$1.out" ||
		{ tail -n 15 "$SW_TMP/$1.out"; fail "$1: no /$2/"; }
}

turn20_conf "$SW_TMP/one.conf" 1
sw_start "$SW_TMP/one.conf"
grep -q "TURN listening on tls:127.0.0.1:$(port 2)" "$SW_TMP/sharewayd.log" ||
	fail "TLS listener not logged"

uc ty1 -T -y -u cms -w cmssecret -p "$(port 1)" -n 10 -m 1 -l 170
expect ty1 ': 2 connections are completed'
expect ty1 'tot_send_msgs=20, tot_recv_msgs=20$'
expect ty1 'Total lost packets 0 '
ok "-T -y: Connect + ConnectionAttempt, 2 connections, 20/20 messages"

uc ty4 -T -y -u cms -w cmssecret -p "$(port 1)" -n 5 -m 4 -l 500
expect ty4 ': 12 connections are completed'
expect ty4 'Total lost packets 0 '
grep -E 'tot_send_msgs=([0-9]+), tot_recv_msgs=\1$' "$SW_TMP/ty4.out" | grep -vq 'msz=' ||
	fail "-m 4: messages sent and received differ"
ok "-T -y -m 4: 12 connections, nothing lost"

uc passive -P -u cms -w cmssecret -p "$(port 1)" -n 3 -m 1 -l 170
expect passive 'tot_send_msgs=6, tot_recv_msgs=3$'
# uclient does not count what its active peer receives (coturn 4.6.1 -P):
# the server's own count shows 510 bytes went each way
wait_for "$SW_TMP/sharewayd.log" 'usage: 510 bytes to peer, 510 to client' 10 ||
	fail "-P: server did not relay 510 bytes each way"
ok "-P: peer-initiated connection, 510 bytes each way"

uc tls -S -T -u cms -w cmssecret -p "$(port 2)" -n 10 -m 2 -l 170
expect tls 'client session connected with cipher'
expect tls ': 2 connections are completed'
expect tls 'tot_send_msgs=20, tot_recv_msgs=20$'
expect tls 'Total lost packets 0 '
ok "-S -T: TLS control and data connections"

uc rest -T -y -u alice -W restsecret -p "$(port 1)" -n 10 -m 1 -l 170
expect rest ': 2 connections are completed'
expect rest 'tot_send_msgs=20, tot_recv_msgs=20$'
grep -Eq 'allocated: TCP relay .* user [0-9]+:alice' "$SW_TMP/sharewayd.log" ||
	fail "REST username not used"
ok "-T -y with TURN REST API credentials"

uc bigmsg -T -y -u cms -w cmssecret -p "$(port 1)" -n 200 -m 1 -l 8000 -z 0
expect bigmsg ': 2 connections are completed'
grep -Eq 'usage: 1600000 bytes to peer, 1600000 to client' "$SW_TMP/sharewayd.log" ||
	fail "1.6 MB each way not relayed intact"
ok "-T -y 200 x 8000 bytes unpaced: every byte relayed"
sw_stop

turn20_conf "$SW_TMP/two.conf" 2
sw_start "$SW_TMP/two.conf"
uc two -T -y -u cms -w cmssecret -p "$(port 1)" -n 5 -m 6 -l 170
expect two ': 30 connections are completed'
expect two 'Total lost packets 0 '
uc twotls -S -T -u cms -w cmssecret -p "$(port 2)" -n 5 -m 4 -l 170
expect twotls ': 12 connections are completed'
expect twotls 'Total lost packets 0 '
grep -q 'ConnectionBind handed to relay thread' "$SW_TMP/sharewayd.log" ||
	fail "no ConnectionBind crossed threads"
sw_stop
ok "two relay threads: -T -y -m 6 and -S -T -m 4"
