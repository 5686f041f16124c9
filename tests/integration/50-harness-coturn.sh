#!/bin/bash
# timeout: 90
# Self-test of the app-sharing harness (tests/harness) on real bytes from a
# TURN server nobody here wrote: coturn. Reproduces Cisco doc 212580's
# ladder: the "CMS" harness (127.0.0.3) allocates a TCP relay (401, then
# success), refreshes, permits 127.0.0.2; the "Edge" harness connects from
# 127.0.0.2 to the relayed address; CMS gets the ConnectionAttempt and
# ConnectionBinds a new connection; MS-ICE2 Binding request + success both
# ways over it (Edge controlling, nominating); 1 MB of RTP-framed data each
# way (SHA-256 checked); Refresh 0; every step asserted in order. Then a
# one-way failure (CMS does not answer checks) must be named by the Edge's
# per-direction report, and a 438 Stale Nonce (second coturn with
# --stale-nonce) must be retried. Offline codec checks (RFC 5769 vectors,
# the frame of Cisco doc 212580, SDP, SIP) run first.
. "$SW_SRC/tests/lib.sh"

PY=${SW_PYTHON:-/usr/bin/python3}
command -v turnserver >/dev/null || fail "turnserver missing (apt-get install coturn)"
export PYTHONPATH=$SW_SRC/tests PYTHONDONTWRITEBYTECODE=1

"$PY" -m unittest -v harness.selftest.test_codec 2>&1 | tee "$SW_TMP/codec.log" | tail -3
grep -q '^OK' "$SW_TMP/codec.log" || fail "codec self-test"
ok "codec self-test (RFC 5769 vectors, MS-ICE2 frame layout, SDP, SIP)"

# coturn NAME PORT MINPORT MAXPORT [extra args]: start one, wait for its listener
coturn() {
	local name=$1 p=$2 lo=$3 hi=$4
	shift 4
	turnserver -n -v --listening-ip=127.0.0.1 --relay-ip=127.0.0.1 \
		--listening-port="$p" --lt-cred-mech --realm=TANDBERG \
		--user=cms:cmssecret --fingerprint --allow-loopback-peers \
		--no-tls --no-dtls --no-cli --no-rfc5780 \
		--min-port="$lo" --max-port="$hi" "$@" \
		--userdb="$SW_TMP/$name.db" --log-file="$SW_TMP/$name.log" \
		--simple-log --pidfile="$SW_TMP/$name.pid" >/dev/null 2>&1 &
	SW_PIDS="$SW_PIDS $!"
	wait_for "$SW_TMP/$name.log" "TCP listener opened on : 127.0.0.1:$p" 10 ||
		fail "coturn $name did not start"
}

coturn coturn-main "$(port 0)" "$(port 20)" "$(port 29)"
coturn coturn-stale "$(port 1)" "$(port 30)" "$(port 34)" --stale-nonce=2

# run_case LOGNAME ARGS...: the Python driver, its output printed and kept
run_case() {
	local log=$SW_TMP/$1.log
	shift
	"$PY" "$SW_SRC/tests/harness/selftest/coturn_ladder.py" "$@" >"$log" 2>&1
	local rc=$?
	cat "$log"
	return $rc
}

run_case ladder --turn "127.0.0.1:$(port 0)" --case ladder --edge-port "$(port 5)" ||
	fail "TURN/ICE ladder through coturn"
grep -q "ConnectionAttempt XOR-PEER-ADDRESS 127.0.0.2:$(port 5) " "$SW_TMP/ladder.log" ||
	fail "ConnectionAttempt did not name the Edge's source port"
grep -q "CONNECTION_BIND processed, success" "$SW_TMP/coturn-main.log" ||
	fail "coturn's log shows no successful ConnectionBind"
wait_for "$SW_TMP/coturn-main.log" "peer usage: .*rb=[0-9]{7,}" 5 ||
	fail "coturn's log does not show a megabyte through the relay"
ok "origin ladder through coturn: 401, Allocate, Refresh, CreatePermission, ConnectionAttempt, ConnectionBind, checks both ways, 1 MB each way, Refresh 0"

run_case oneway --turn "127.0.0.1:$(port 0)" --case oneway --edge-port "$(port 6)" ||
	fail "one-way failure case"
grep -q "Edge→CMS: .* 0 success response(s) received  <-- NO SUCCESS" "$SW_TMP/oneway.log" ||
	fail "Edge's report does not flag the Edge→CMS direction"
ok "one-way failure detected per direction"

run_case stale --turn "127.0.0.1:$(port 1)" --case stale --stale-wait 3.5 ||
	fail "stale nonce case"
grep -q "error 438: Stale nonce" "$SW_TMP/coturn-stale.log" ||
	fail "coturn's log shows no 438"
ok "438 Stale Nonce retried with the new nonce"
