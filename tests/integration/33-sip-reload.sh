#!/bin/bash
# timeout: 90
# SIGHUP reloads the dial plan atomically: a call in progress keeps the
# rule it matched and ends normally, new calls get the new rules; a rule
# file that does not load is refused with a clear log line and the rules
# in force stay.
. "$SW_SRC/tests/lib.sh"
. "$SW_SRC/tests/sipp/sip-lib.sh"

OFFER=$SDP_DIR/sipe-issue83-appshare-offer-to-asmcu-pt96-rejected-24012.sdp
ANSWER=$SDP_DIR/ms-sdp-2.2-lcs-era-example-msdata.sdp
sip_conf
sw_start "$SW_TMP/shareway.conf"

# a 3 s call in progress while the rules change
uas uas_basic 127.0.0.3 "$P_CMS" 1 "$ANSWER"
SCN_SET='HOLD=3000' uac uac_basic 127.0.0.2 "$P_EDGE" 4321 1 "$OFFER" &
CALL_PID=$!
wait_for "$SW_TMP/sharewayd.log" '\[call 1\] early -> active' 10 || fail "first call not answered"

cat >"$SW_TMP/rules.conf" <<EOR
[rule closed]
priority = 1
source = edge
match.ruri = regex .
action = reject 480 Closed for maintenance
EOR
kill -HUP "$SW_DPID"
wait_for "$SW_TMP/sharewayd.log" 'rules reloaded from .*: 1 rules' 5 || fail "reload not logged"
SCN_SET='CODE=480
PHRASE=Closed for maintenance
HDRRE=480' uac uac_reject 127.0.0.2 $(port 3) 55 1 "$OFFER" || { show uac_reject; fail "new rules not applied to a new call"; }
ok "a new call gets the reloaded rules"

wait "$CALL_PID" || { show uac_basic; fail "call in progress broken by the reload"; }
uas_wait || fail "callee of the call in progress"
grep -q '\[call 1\] ended (BYE)' "$SW_TMP/sharewayd.log" || fail "first call did not end by BYE"
ok "the call in progress kept its rule and ended normally"

printf '[rule broken]\npriority = 1\nmatch.ruri = regex ([\n' >"$SW_TMP/rules.conf"
kill -HUP "$SW_DPID"
wait_for "$SW_TMP/sharewayd.log" 'rules reload refused, previous rules stay in force: .*rules.conf' 5 ||
	fail "bad rule file not refused with a clear line"
SCN_SET='CODE=480
PHRASE=Closed for maintenance
HDRRE=480' uac uac_reject 127.0.0.2 $(port 3) 56 1 "$OFFER" || { show uac_reject; fail "old rules not kept after a bad reload"; }
ok "bad rule file refused, previous rules in force"
sw_stop
