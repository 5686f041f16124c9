#!/bin/bash
# timeout: 240
# Application sharing end to end: the real sharewayd between a harness Edge
# (127.0.0.2) and a harness conference server (127.0.0.3): relay and observe
# modes, one-way check failure, 21002 rejection, BYE before checks, a peer
# closing mid-stream, ten calls in parallel, the conference side offering,
# m=applicationsharing added by re-INVITE, the Edge relay connecting before
# the permission, a TCP-ACT-only conference through the inside candidate,
# strip and relay in one call, hold and resume, presenter swap in one
# dialog (tests/appshare/e2e.py).
. "$SW_SRC/tests/lib.sh"

sed -e "s/@SIP_PORT@/$(port 0)/g" -e "s/@TURN_PORT@/$(port 1)/g" \
	-e "s/@RELAY_LO@/45000/" -e "s/@RELAY_HI@/45999/" \
	"$SW_SRC/tests/appshare/gateway.conf.in" >"$SW_TMP/shareway.conf"
cp "$SW_SRC/tests/appshare/rules.conf" "$SW_TMP/rules.conf"
mkdir -p "$SW_TMP/state"
"$SHAREWAYD" -c "$SW_TMP/shareway.conf" --state-dir "$SW_TMP/state" \
	>"$SW_TMP/sharewayd.log" 2>&1 &
SW_DPID=$!; SW_PIDS="$SW_PIDS $SW_DPID"
wait_for "$SW_TMP/sharewayd.log" ' ready' 15 || fail "sharewayd did not start"

export PYTHONPATH=$SW_SRC/tests PYTHONDONTWRITEBYTECODE=1
/usr/bin/python3 "$SW_SRC/tests/appshare/e2e.py" --sip "$(port 0)" --turn "$(port 1)" \
	--port-base "$SW_PORT_BASE" --shareway "$SHAREWAY" --conf "$SW_TMP/shareway.conf" \
	--state "$SW_TMP/state" ${SW_CASES:-}
rc=$?
grep -E "ERROR|WARN" "$SW_TMP/sharewayd.log" | tail -20
sw_stop
[ $rc = 0 ] || fail "application-sharing cases failed"
grep -q "stopped" "$SW_TMP/sharewayd.log" || fail "no clean stop"
