#!/bin/bash
# timeout: 120
# Nothing sent between the SIP thread and the relay threads is dropped
# unseen: sharewayd runs with the test aid SHAREWAY_TEST_RELAY_FULL, which
# refuses the relay command PERMIT as a full command queue would. Refused
# once, the PERMIT goes late and the call completes (the ladder says it was
# late); refused always, it is lost after 5 s and the call's record and
# verdict say so (tests/appshare/e2e.py cases permitlate, permitlost).
. "$SW_SRC/tests/lib.sh"

sed -e "s/@SIP_PORT@/$(port 0)/g" -e "s/@TURN_PORT@/$(port 1)/g" \
	-e "s/@RELAY_LO@/46000/" -e "s/@RELAY_HI@/46999/" \
	"$SW_SRC/tests/appshare/gateway.conf.in" >"$SW_TMP/shareway.conf"
cp "$SW_SRC/tests/appshare/rules.conf" "$SW_TMP/rules.conf"
mkdir -p "$SW_TMP/state"
export PYTHONPATH=$SW_SRC/tests PYTHONDONTWRITEBYTECODE=1

run() { # AID CASE
	: >"$SW_TMP/sharewayd.log"
	SHAREWAY_TEST_RELAY_FULL=$1 "$SHAREWAYD" -c "$SW_TMP/shareway.conf" \
		--state-dir "$SW_TMP/state" >>"$SW_TMP/sharewayd.log" 2>&1 &
	SW_DPID=$!; SW_PIDS="$SW_PIDS $SW_DPID"
	wait_for "$SW_TMP/sharewayd.log" ' ready' 15 || fail "sharewayd did not start"
	grep -q "test aid SHAREWAY_TEST_RELAY_FULL: relay command PERMIT" "$SW_TMP/sharewayd.log" ||
		fail "the test aid is not in force"
	/usr/bin/python3 "$SW_SRC/tests/appshare/e2e.py" --sip "$(port 0)" --turn "$(port 1)" \
		--port-base "$SW_PORT_BASE" --shareway "$SHAREWAY" --conf "$SW_TMP/shareway.conf" \
		--state "$SW_TMP/state" "$2"
	local rc=$?
	grep -E "ERROR|WARN" "$SW_TMP/sharewayd.log" | tail -5
	sw_stop
	[ $rc = 0 ] || fail "case $2"
}

run PERMIT:1 permitlate
grep -q "relay command PERMIT sent .* ms late" "$SW_TMP/sharewayd.log" ||
	fail "no log line for the late PERMIT"
ok "a PERMIT refused once goes late, the call completes"
run PERMIT permitlost
grep -q "relay command PERMIT could not be handed to its relay thread" "$SW_TMP/sharewayd.log" ||
	fail "no log line for the lost PERMIT"
ok "a PERMIT refused for 5 s is lost, and the call's verdict says so"
