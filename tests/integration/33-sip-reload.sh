#!/bin/bash
# timeout: 90
# SIGHUP reloads the dial plan atomically: a call in progress keeps the
# rule it matched (`calls --active` names it) and ends normally, new calls
# get the new rules; a rule file that does not load is refused with a
# clear log line and the rules in force stay, and `shareway status` says
# so. A reload also takes the zones and the log level: a call in
# progress keeps the zone it started with (its BYE goes to the conference
# it called), the next call goes to the zone's new target and logs at the
# new level; a reload to 0 rules warns, and status shows it.
. "$SW_SRC/tests/lib.sh"
. "$SW_SRC/tests/sipp/sip-lib.sh"

sip_start

# a 3 s call in progress while the rules change
uas uas_basic 127.0.0.3 "$P_CMS" 1 "$ANSWER"
SCN_SET='HOLD=3000' uac uac_basic 127.0.0.2 "$P_EDGE" 4321 1 "$OFFER" &
CALL_PID=$!
wait_for "$SW_TMP/sharewayd.log" '\[call c-1\] early -> active' 10 || fail "first call not answered"

cat >"$SW_TMP/rules.conf" <<EOR
[rule closed]
priority = 1
source = edge
match.ruri = regex .
action = reject 480 Closed for maintenance
EOR
kill -HUP "$SW_DPID"
wait_for "$SW_TMP/sharewayd.log" 'rules reloaded from .*: 1 rules' 5 || fail "reload not logged"
$SHAREWAY -c "$SW_TMP/shareway.conf" calls --active >"$SW_TMP/active.txt" ||
	fail "calls --active"
grep -q ' c-1 .* edge-to-cms ' "$SW_TMP/active.txt" ||
	{ cat "$SW_TMP/active.txt"; fail "calls --active does not name the rule call 1 matched"; }
SCN_SET='CODE=480
PHRASE=Closed for maintenance
HDRRE=480' uac uac_reject 127.0.0.2 $(port 3) 55 1 "$OFFER" || { show uac_reject; fail "new rules not applied to a new call"; }
ok "a new call gets the reloaded rules"

wait "$CALL_PID" || { show uac_basic; fail "call in progress broken by the reload"; }
uas_wait || fail "callee of the call in progress"
grep -q '\[call c-1\] ended (BYE)' "$SW_TMP/sharewayd.log" || fail "first call did not end by BYE"
ok "the call in progress kept its rule and ended normally"

printf '[rule broken]\npriority = 1\nmatch.ruri = regex ([\n' >"$SW_TMP/rules.conf"
kill -HUP "$SW_DPID"
wait_for "$SW_TMP/sharewayd.log" 'reload refused, the configuration in force stays .*: .*rules.conf:3:match.ruri' 5 ||
	fail "bad rule file not refused with a clear line"
SCN_SET='CODE=480
PHRASE=Closed for maintenance
HDRRE=480' uac uac_reject 127.0.0.2 $(port 3) 56 1 "$OFFER" || { show uac_reject; fail "old rules not kept after a bad reload"; }
ok "bad rule file refused, previous rules in force"

ST="$SHAREWAY -c $SW_TMP/shareway.conf"
$ST status >"$SW_TMP/status1.txt" || fail "status"
grep -q "^rules  .*rules.conf: 1 rules, 2 zones, loaded" "$SW_TMP/status1.txt" &&
grep -q "^last reload .*REFUSED, the configuration and rules loaded .* stay in" "$SW_TMP/status1.txt" &&
grep -q "rules.conf:3:match.ruri: bad regex" "$SW_TMP/status1.txt" ||
	{ cat "$SW_TMP/status1.txt"; fail "status does not say the bad reload was refused and what is in force"; }
ok "status: the rules in force and the refused reload"

# zones and the log level: call 4 in progress to cms's first target
sip_rules "$SW_TMP/rules.conf"
$ST reload >/dev/null || fail "reload of the good rules"
P_CMS2=$(port 5)
uas uas_basic 127.0.0.3 "$P_CMS" 1 "$ANSWER"
SCN_SET='HOLD=4000' uac uac_basic 127.0.0.2 $(port 6) 4321 1 "$OFFER" &
CALL_PID=$!
wait_for "$SW_TMP/sharewayd.log" '\[call c-4\] early -> active' 10 || fail "call 4 not answered"
FIRST_UAS=$UAS_PID
sed -i -e "s|^target = sip:127.0.0.3:$P_CMS\$|target = sip:127.0.0.3:$P_CMS2|" \
	-e 's/^log_level = debug/log_level = info/' "$SW_TMP/shareway.conf"
grep -q "target = sip:127.0.0.3:$P_CMS2" "$SW_TMP/shareway.conf" || fail "test: zone cms not edited"
$ST reload >"$SW_TMP/reload2.txt" || { cat "$SW_TMP/reload2.txt"; fail "zone reload refused"; }
$ST status --json >"$SW_TMP/status2.json" || fail "status --json"
python3 - "$SW_TMP/status2.json" <<'PY' || fail "status after the zone reload: $(cat "$SW_TMP/status2.json")"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["daemon"]["log_level"] == "INFO", j["daemon"]
assert j["reload"]["ok"] is True and "restart_needed" not in j["reload"], j["reload"]
assert j["rules"]["count"] == 6 and j["rules"]["zones"] == 2, j["rules"]
PY
mark=$(wc -l <"$SW_TMP/sharewayd.log")
uas uas_basic 127.0.0.3 "$P_CMS2" 1 "$ANSWER"
uac uac_basic 127.0.0.2 $(port 7) 4321 1 "$OFFER" ||
	{ show uac_basic; fail "a new call does not reach the zone's new target"; }
uas_wait || fail "callee at the zone's new target"
ok "a new call goes to the zone's new target"
wait "$CALL_PID" || { show uac_basic; fail "call 4 broken by the zone reload"; }
UAS_PID=$FIRST_UAS
uas_wait || fail "call 4's callee (the zone's first target) did not get its BYE"
grep -q '\[call c-4\] ended (BYE)' "$SW_TMP/sharewayd.log" || fail "call 4 did not end by BYE"
ok "the call in progress kept its zone and ended normally"
tail -n +"$mark" "$SW_TMP/sharewayd.log" | grep -q ' DEBUG ' &&
	fail "DEBUG lines after the reload to log_level = info"
tail -n +"$mark" "$SW_TMP/sharewayd.log" | grep -q '\[call c-5\] INVITE.*zone edge: -> ' ||
	fail "test: call 5 not logged"
ok "the log level is reloaded"

# a reload to 0 rules warns, in its answer, the log and status
: >"$SW_TMP/rules.conf"
$ST reload >"$SW_TMP/reload0.txt" || fail "reload to 0 rules refused"
flat() { tr '\n' ' ' <"$1" | tr -s ' '; } # the text, wrapped lines joined
flat "$SW_TMP/reload0.txt" | grep -q "warning: .*rules.conf has no rules: every call would get 404" ||
	{ cat "$SW_TMP/reload0.txt"; fail "reload to 0 rules did not warn"; }
grep -q "WARN .*reload: .*has no rules" "$SW_TMP/sharewayd.log" || fail "no WARN line for 0 rules"
$ST status >"$SW_TMP/status3.txt"
flat "$SW_TMP/status3.txt" | grep -q "last reload .* in force warning: .*has no rules" ||
	{ cat "$SW_TMP/status3.txt"; fail "status does not show the 0-rules warning"; }
ok "a reload to 0 rules warns"
sw_stop
