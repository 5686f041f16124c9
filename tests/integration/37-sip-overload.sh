#!/bin/bash
# timeout: 120
# Admission control with SIPp: beyond [sip] max_cps new calls per second or
# max_calls calls at once, a new INVITE is answered 503 with Retry-After at
# once; the calls admitted are served as usual, the count of shed INVITEs is
# in `shareway status`, and calls are admitted again once under the limit.
# Drain (`shareway drain`): new INVITEs and OPTIONS get 503 + Retry-After,
# the call in progress goes on to its BYE, `drain --wait --timeout` exits 3
# while it lasts and 0 once it ended, `status` says draining, `undrain`
# takes calls again.
. "$SW_SRC/tests/lib.sh"
. "$SW_SRC/tests/sipp/sip-lib.sh"

SHAREWAY_CLI="$SHAREWAY -c $SW_TMP/shareway.conf -s $SW_TMP/state"

# shed: the daemon's count of INVITEs answered 503 by admission control
shed() {
	$SHAREWAY_CLI status --json | python3 -c \
		'import json,sys; print(json.load(sys.stdin)["daemon"]["sip_overload_rejects"])'
}

# count MSGFILE STATUS: responses with that status SIPp received
count() {
	grep -a -c "^SIP/2.0 $2 " "$1" || true
}

# 1. max_cps = 2: 12 INVITEs at 400/s to a rule that refuses them (403):
#    the bucket's 2 reach the dial plan, the others are shed
sip_start "max_cps = 2"
SCN_SET="RETRY=1" uac uac_shed 127.0.0.2 "$P_EDGE" blocked1 12 "" -r 400 ||
	{ show uac_shed; fail "SIPp saw something else than 403 or 503 + Retry-After: 1"; }
n403=$(count "$SW_TMP/uac_shed-uac.msg" 403)
n503=$(count "$SW_TMP/uac_shed-uac.msg" 503)
[ "$n403" -ge 2 ] && [ "$n503" -ge 8 ] && [ $((n403 + n503)) -eq 12 ] ||
	{ show uac_shed; fail "max_cps 2: $n403 admitted (403 by the rule), $n503 shed, want at least 2 and the rest"; }
[ "$(shed)" = "$n503" ] || fail "status counts $(shed) shed INVITEs, SIPp got $n503 503s"
grep -q "overload: new INVITEs answered 503" "$SW_TMP/sharewayd.log" || fail "no overload line in the log"
ok "max_cps 2: $n403 of 12 INVITEs at 400/s admitted, $n503 answered 503 Retry-After: 1, counted in status"
sleep 1.2
SCN_SET="RETRY=1" uac uac_shed 127.0.0.2 "$P_EDGE" blocked2 1 "" ||
	{ show uac_shed; fail "the call after the burst"; }
[ "$(count "$SW_TMP/uac_shed-uac.msg" 403)" = 1 ] && [ "$(shed)" = "$n503" ] ||
	fail "the call 1.2 s after the burst was not admitted"
ok "admitted again once the bucket refilled"
sw_stop

# 2. max_calls = 1: a call held 3 s; a second INVITE meanwhile is shed
#    with Retry-After: 5; the held call goes on and ends with its BYE
sip_start "max_calls = 1"
mkdir -p "$SW_TMP/sipp"
cp "$SIPP_DIR"/*.xml "$SW_TMP/sipp/"
sed -i 's/<pause milliseconds="100"\/>/<pause milliseconds="3000"\/>/' "$SW_TMP/sipp/uas_bye.xml"
SIPP_DIR=$SW_TMP/sipp
uas uas_bye 127.0.0.3 "$P_CMS" 1 "$ANSWER"
uac uac_wait_bye 127.0.0.2 "$P_EDGE" 4321 1 "$OFFER" &
HELD=$!
SW_PIDS="$SW_PIDS $HELD"
wait_for "$SW_TMP/sharewayd.log" 'INVITE sip:4321@' 10 || fail "the first call did not start"
sleep 0.5
SCN_SET=$'CODE=503\nPHRASE=Service Unavailable\nHDRRE=Retry-After: 5' \
	uac uac_reject 127.0.0.2 "$(port 3)" 5555 1 "$OFFER" ||
	{ show uac_reject; fail "second call while max_calls = 1 is in use: want 503 Retry-After: 5"; }
ok "max_calls 1: a second INVITE while the first call is up answered 503 Retry-After: 5"
wait "$HELD" || { show uac_wait_bye; fail "the held call did not end well"; }
uas_wait || { show uas_bye; fail "the callee of the held call"; }
ok "the held call went on and ended with the callee's BYE"
SCN_SET=$'CODE=403\nPHRASE=Blocked by rule\nHDRRE=Content-Length' \
	uac uac_reject 127.0.0.2 "$(port 3)" blocked3 1 "$OFFER" ||
	{ show uac_reject; fail "a call after the held one ended: not admitted"; }
ok "admitted again once the call ended"

# 3. drain with a call held 6 s (the callee's BYE then): the first drain
#    --wait gives up at once with the call still up; new calls and probes
#    are refused; the held call goes on; --wait returns once it ended
sed -i 's/<pause milliseconds="3000"\/>/<pause milliseconds="6000"\/>/' "$SW_TMP/sipp/uas_bye.xml"
uas uas_bye 127.0.0.3 "$P_CMS" 1 "$ANSWER"
uac uac_wait_bye 127.0.0.2 "$P_EDGE" 4321 1 "$OFFER" &
HELD=$!
SW_PIDS="$SW_PIDS $HELD"
n=100  # the second call to 4321 since the start (the first was case 2's)
while [ "$(grep -c 'INVITE sip:4321@.*-> ' "$SW_TMP/sharewayd.log")" -lt 2 ] && [ $n -gt 0 ]; do
	sleep 0.1; n=$((n - 1))
done
[ $n -gt 0 ] || fail "the held call did not start"
rc=0; out=$($SHAREWAY_CLI drain --wait --timeout 0.5 2>&1) || rc=$?
echo "$out"
[ $rc = 3 ] || fail "drain --wait --timeout 0.5 with a call up: exit $rc, want 3"
grep -q "^draining since .*: 1 calls" <<<"$out" || fail "drain did not report the call in progress: $out"
SCN_SET=$'CODE=503\nPHRASE=Service Unavailable\nHDRRE=Retry-After: 30' \
	uac uac_reject 127.0.0.2 "$(port 3)" 5556 1 "$OFFER" ||
	{ show uac_reject; fail "a new INVITE while draining: want 503 Retry-After: 30"; }
uac uac_options_503 127.0.0.2 "$(port 3)" x 1 "" ||
	{ show uac_options_503; fail "OPTIONS while draining: want 503 with Retry-After"; }
ok "draining: a new INVITE and an OPTIONS probe answered 503 Retry-After"
$SHAREWAY_CLI status | grep -q "^drain.*draining since" || fail "status does not say draining"
$SHAREWAY_CLI drain --wait --timeout 40 || fail "drain --wait: the held call did not end within 40 s"
wait "$HELD" || { show uac_wait_bye; fail "the held call did not end well while draining"; }
uas_wait || { show uas_bye; fail "the callee of the held call"; }
[ "$($SHAREWAY_CLI drain --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["drain"]["rejected"])')" = 1 ] ||
	fail "drain does not count the refused INVITE"
ok "drain --wait: exit 3 at its timeout while the call lasted, 0 once it ended with its BYE"
$SHAREWAY_CLI undrain | grep -q "^not draining" || fail "undrain"
SCN_SET=$'CODE=403\nPHRASE=Blocked by rule\nHDRRE=Content-Length' \
	uac uac_reject 127.0.0.2 "$(port 3)" blocked4 1 "$OFFER" ||
	{ show uac_reject; fail "a call after undrain: not admitted"; }
ok "undrain: new calls admitted again"
sw_stop
grep -q "stopped" "$SW_TMP/sharewayd.log" || fail "no clean stop"
