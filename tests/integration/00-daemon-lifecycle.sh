#!/bin/bash
# timeout: 60
# The daemon as `make run` starts it: loads conf/, logs its listeners, stops
# cleanly on SIGTERM and SIGINT; --check-config accepts the shipped file and
# refuses a bad one naming file:line:key.
. "$SW_SRC/tests/lib.sh"

"$SHAREWAYD" --check-config -c "$SW_SRC/conf/shareway.conf" ||
	fail "shipped configuration refused"
printf '[turn]\nrelay_ports = 9000-8000\n' >"$SW_TMP/bad.conf"
if "$SHAREWAYD" --check-config -c "$SW_TMP/bad.conf" 2>"$SW_TMP/bad.err"; then
	fail "bad configuration accepted"
fi
grep -q "bad.conf:2:relay_ports" "$SW_TMP/bad.err" || fail "error does not name file:line:key"
ok "check-config"

# The shipped conf on shifted ports so a developer's `make run` can coexist.
sed -e "s/:5060/:$(port 0)/g" -e "s/:3478/:$(port 1)/g" \
	"$SW_SRC/conf/shareway.conf" >"$SW_TMP/shareway.conf"
cp "$SW_SRC/conf/rules.conf" "$SW_TMP/"
mkdir -p "$SW_TMP/state"
echo "state_dir = $SW_TMP/state" >/dev/null
SW_EXTRA="--state-dir $SW_TMP/state"
"$SHAREWAYD" -c "$SW_TMP/shareway.conf" $SW_EXTRA >"$SW_TMP/sharewayd.log" 2>&1 &
SW_DPID=$!; SW_PIDS="$SW_PIDS $SW_DPID"
wait_for "$SW_TMP/sharewayd.log" ' ready' 15 || fail "no ready line"
grep -q "SIP listening on udp:127.0.0.1:$(port 0)" "$SW_TMP/sharewayd.log" || fail "SIP listener not logged"
grep -q "TURN listening on tcp:127.0.0.1:$(port 1)" "$SW_TMP/sharewayd.log" || fail "TURN listener not logged"
sw_stop
grep -q "SIGTERM: shutting down" "$SW_TMP/sharewayd.log" || fail "no shutdown line"
grep -q "stopped" "$SW_TMP/sharewayd.log" || fail "no stopped line"
ok "SIGTERM"

"$SHAREWAYD" -c "$SW_TMP/shareway.conf" $SW_EXTRA >"$SW_TMP/sharewayd2.log" 2>&1 &
SW_DPID=$!; SW_PIDS="$SW_PIDS $SW_DPID"
wait_for "$SW_TMP/sharewayd2.log" ' ready' 15 || fail "no ready line (2)"
kill -INT $SW_DPID
wait_for "$SW_TMP/sharewayd2.log" 'SIGINT: shutting down' 10 || fail "SIGINT ignored"
wait $SW_DPID || fail "non-zero exit after SIGINT"
ok "SIGINT"
