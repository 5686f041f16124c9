#!/bin/bash
# timeout: 90
# Self-test of the harness's SIP UA and scenario blocks, without sharewayd.
# 1. harness.sipua: two UAs (127.0.0.2, 127.0.0.3) over UDP, TCP, then
#    mutual TLS (Lync-like: in-dialog requests to the peer's name only):
#    INVITE (Timer A retransmission while the callee is not reading) /
#    180 / 200 / ACK with app-sharing SDP, re-INVITE from the callee, BYE;
#    488 + ms-diagnostics-public 21002 ACKed on the INVITE branch; CANCEL.
# 2. harness.scenario: EdgeSide calls ConfSide directly (relay mode: the
#    Edge relay connects to ConfSide's TCP-PASS candidate), checks both
#    ways, data both ways at once, completion re-INVITE checked by
#    ConfSide, BYE; a 488 rejection; and observe mode with coturn as
#    ConfSide's TURN server (Cisco doc 212580's ladder with SIP).
. "$SW_SRC/tests/lib.sh"

PY=${SW_PYTHON:-/usr/bin/python3}
export PYTHONPATH=$SW_SRC/tests PYTHONDONTWRITEBYTECODE=1
H=$SW_SRC/tests/harness/selftest

# run LOGNAME SCRIPT ARGS...: a Python driver, its output printed and kept
run() {
	local log=$SW_TMP/$1.log
	shift
	"$PY" "$@" >"$log" 2>&1
	local rc=$?
	cat "$log"
	return $rc
}

run sip-udp "$H/sip_direct.py" --transport udp --port-a "$(port 0)" --port-b "$(port 1)" ||
	fail "SIP UA self-test over UDP"
grep -q "ok: caller retransmitted the INVITE (Timer A)" "$SW_TMP/sip-udp.log" ||
	fail "no INVITE retransmission seen over UDP"
ok "SIP UA over UDP: INVITE/180/200/ACK, re-INVITE, BYE, 488+ACK, CANCEL/487"

run sip-tcp "$H/sip_direct.py" --transport tcp --port-a "$(port 2)" --port-b "$(port 3)" ||
	fail "SIP UA self-test over TCP"
ok "SIP UA over TCP: the same cases"

D=$SW_TMP/pki
mkdir -p "$D"
ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
openssl req -x509 $ec -days 2 -keyout "$D/ca.key" -out "$D/ca.pem" -subj "/CN=harness CA" \
	2>/dev/null || fail "CA"
for n in edge.test conf.test; do
	echo "subjectAltName=DNS:$n" >"$D/$n.ext"
	openssl req -new $ec -keyout "$D/$n.key" -out "$D/$n.csr" -subj "/CN=$n" 2>/dev/null &&
		openssl x509 -req -in "$D/$n.csr" -CA "$D/ca.pem" -CAkey "$D/ca.key" \
			-CAcreateserial -days 2 -extfile "$D/$n.ext" -out "$D/$n.pem" 2>/dev/null ||
		fail "certificate $n"
done
run sip-tls "$H/sip_direct.py" --transport tls --pki "$D" --port-a "$(port 4)" \
	--port-b "$(port 5)" || fail "SIP UA self-test over TLS"
ok "SIP UA over mutual TLS: the same cases, in-dialog requests to the peer's name on the one connection"

run direct "$H/scenario_e2e.py" --case direct --edge-port "$(port 10)" --conf-port "$(port 13)" ||
	fail "EdgeSide/ConfSide direct scenario"
grep -q "TCP connect to the answer's candidate  127.0.0.2:$(port 10)→127.0.0.3:$(port 13)" \
	"$SW_TMP/direct.log" || fail "Edge relay did not connect from its relay port to ConfSide"
ok "scenario, relay mode without gateway: SIP, Edge relay connect, ICE, data, final offer, BYE"

run reject "$H/scenario_e2e.py" --case reject --edge-port "$(port 10)" ||
	fail "EdgeSide/ConfSide rejection"
ok "scenario: 488 with ms-diagnostics-public 21002 reaches the Edge"

command -v turnserver >/dev/null || fail "turnserver missing (apt-get install coturn)"
turnserver -n -v --listening-ip=127.0.0.1 --relay-ip=127.0.0.1 \
	--listening-port="$(port 20)" --lt-cred-mech --realm=TANDBERG \
	--user=cms:cmssecret --fingerprint --allow-loopback-peers \
	--no-tls --no-dtls --no-cli --no-rfc5780 \
	--min-port="$(port 30)" --max-port="$(port 39)" \
	--userdb="$SW_TMP/coturn.db" --log-file="$SW_TMP/coturn.log" \
	--simple-log --pidfile="$SW_TMP/coturn.pid" >/dev/null 2>&1 &
SW_PIDS="$SW_PIDS $!"
wait_for "$SW_TMP/coturn.log" "TCP listener opened on : 127.0.0.1:$(port 20)" 10 ||
	fail "coturn did not start"
run observe "$H/scenario_e2e.py" --case observe --turn "127.0.0.1:$(port 20)" \
	--edge-port "$(port 10)" --bytes 1048576 || fail "observe scenario through coturn"
grep -q "ok: the 200 OK carried the relayed address" "$SW_TMP/observe.log" ||
	fail "ConfSide's answer did not carry its relayed address"
ok "scenario, observe mode through coturn: Allocate before the 200, relay candidate, ConnectionAttempt/Bind, ICE, 1 MB each way, re-INVITE, BYE, Refresh 0"
