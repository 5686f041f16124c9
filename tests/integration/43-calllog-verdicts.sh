#!/bin/bash
# timeout: 300
# What the call log says of real SIPp calls through the real daemon: an
# audio call that ended normally is a success, not an app-sharing failure
# (`calls --failed` and `stats` do not count it); a call the gateway
# refused itself (unknown zone, malformed offer, loop, no route, a rule, a
# peer it cannot reach) is recorded as answered by the gateway with its
# reason and fix; a far end's refusal is blamed on that far end with the
# verdict its status or ms-diagnostics calls for; ringing time and the
# gateway's own tags are recorded; every log line of a call names it by
# its call-log tag, the key of `shareway show`.
. "$SW_SRC/tests/lib.sh"
. "$SW_SRC/tests/sipp/sip-lib.sh"

AUDIO=$SDP_DIR/ms-sdp-2.2-lcs-era-example-msdata.sdp
AS_OFFER=$SDP_DIR/sipe-issue83-appshare-offer-to-asmcu-pt96-rejected-24012.sdp
SW="$SHAREWAY -c $SW_TMP/shareway.conf -s $SW_TMP/state"
P_DEAD=$(port 3) # a TCP port nobody listens on

# zones: "lonely" (127.0.0.5) that no rule routes from, "dead" whose
# target listens on nothing
sip_conf
cat >>"$SW_TMP/shareway.conf" <<EOC
[zone lonely]
match.source = 127.0.0.5/32
target = sip:127.0.0.5:$P_EDGE
[zone dead]
transport = tcp
target = sip:127.0.0.3:$P_DEAD
EOC
cat >>"$SW_TMP/rules.conf" <<EOR
[rule to-dead]
priority = 1
source = edge
match.ruri.user = prefix dead
target = dead
EOR
sw_start "$SW_TMP/shareway.conf"

# newest: the tag of the newest call once it has ended
newest() {
	local tag="" n=50
	while [ $n -gt 0 ]; do
		tag=$($SW calls --json --limit 1 | python3 -c \
			'import json,sys; c=json.load(sys.stdin)["calls"]; print(c[-1]["tag"] if c and c[-1]["end_us"] else "")')
		[ -n "$tag" ] && break
		sleep 0.1; n=$((n - 1))
	done
	[ -n "$tag" ] || fail "no ended call in the call log"
	echo "$tag"
}

# expect WHAT EXPR...: each python EXPR holds for the newest call's
# `show --json` (r); on failure print the record's verdict and fields
expect() {
	local what=$1 tag; shift
	tag=$(newest)
	sleep 0.3 # facts of the end (legs, verdict) come within ~100 ms
	$SW show "$tag" --json >"$SW_TMP/$tag.json" || fail "$what: show $tag"
	python3 - "$SW_TMP/$tag.json" "$@" <<'PY' || fail "$what ($tag)"
import json, sys
r = json.load(open(sys.argv[1]))
bad = [e for e in sys.argv[2:] if not eval(e)]
if bad:
    print("record:", json.dumps({k: r.get(k) for k in ("state", "final", "verdict", "failed",
          "media", "answered_by", "gw_reason", "ringing")}, indent=1))
    print("does not hold:", *bad, sep="\n  ")
    sys.exit(1)
PY
	ok "$what: $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["verdict"])' "$SW_TMP/$tag.json")"
}

# 1. an audio call (no m=applicationsharing in any offer), answered, BYE
SCN_SET="RING=400" uas uas_ring 127.0.0.3 "$P_CMS" 1 "$AUDIO"
uac uac_call 127.0.0.2 "$P_EDGE" 4001 1 "$AUDIO" || { show uac_call; fail "audio call"; }
uas_wait || { show uas_ring; fail "callee of the audio call"; }
expect "audio call" 'r["state"] == "completed"' 'not r["failed"]' \
	'r["verdict"].startswith("Call completed normally")' 'r["media"] == "A/V"' \
	'r["answered_by"] == "c"' 'r["ringing"] and r["ringing"] < r["answer"]' \
	'all(l["from_tag"] and l["to_tag"] for l in r["legs"])'
# the gateway's own tags are those the peers saw: leg A's To-tag in the
# caller's 200, leg B's From-tag in the callee's INVITE
a_tag=$(grep -a -m1 -i '^To:.*tag=' "$SW_TMP/uac_call-uac.msg" | sed 's/.*tag=\([^;> \r]*\).*/\1/' | tr -d '\r')
b_tag=$(python3 - "$SW_TMP/uas_ring-uas.msg" <<'PY'
import re, sys
t = open(sys.argv[1], errors="replace").read()
m = re.search(r"^From:.*?;tag=([^;>\s]+)", t[t.index("INVITE sip:"):], re.M)
print(m.group(1) if m else "")
PY
)
tag=$(newest)
$SW show "$tag" --json | python3 -c "
import json, sys
r = json.load(sys.stdin); legs = {l['leg']: l for l in r['legs']}
sys.exit(0 if legs['e']['to_tag'] == '$a_tag' and legs['c']['from_tag'] == '$b_tag' else 1)" ||
	fail "the gateway's tags $a_tag / $b_tag are not the call log's"
ok "ringing recorded; the gateway's own tags $a_tag (to the caller) and $b_tag (to the callee)"
[ "$($SW calls --failed --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["calls"]))')" = 0 ] ||
	fail "calls --failed lists the audio call"
[ "$($SW stats --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["history"]["last_hour"]["failed"])')" = 0 ] ||
	fail "stats counts the audio call as failed"
ok "calls --failed and stats count no failure"

# 2. the gateway's own refusals: who answered, why, and the fix
refuse() { # NAME SOURCE-IP CODE PHRASE SDPFILE [SERVICE]
	SCN_SET=$(printf 'CODE=%s\nPHRASE=%s\nHDRRE=.' "$3" "$4") \
		uac uac_reject "$2" "$P_EDGE" "${6:-40$3}" 1 "$5" ||
		{ show uac_reject; fail "$1: no $3"; }
}
refuse "unknown zone" 127.0.0.4 403 "Forbidden .unknown zone." "$AUDIO"
expect "unknown zone" 'r["answered_by"] == "gw"' 'r["failed"]' \
	'"matches no zone" in r["verdict"]' '"match.source" in r["verdict"]' \
	'"127.0.0.4:" in r["gw_reason"]' '"trusted peer" not in r["verdict"]' \
	'r["legs"][0]["to_tag"]'
awk 'NR == 5 { print "v=0" } { print }' "$AUDIO" >"$SW_TMP/bad.sdp"
refuse "malformed offer" 127.0.0.2 488 "Not Acceptable Here" "$SW_TMP/bad.sdp"
expect "malformed offer" 'r["answered_by"] == "gw"' \
	'"SDP line 5 is malformed (duplicate v= line)" in r["verdict"]' \
	'"conference" not in r["verdict"]' \
	'r["negotiations"] and r["negotiations"][0]["offer_in"] and r["negotiations"][0]["result"] == 488'
tag=$(newest)
$SW sdp "$tag" >"$SW_TMP/sdp.out" 2>&1 && grep -q "duplicate v= line\|^v=0" "$SW_TMP/sdp.out" ||
	{ cat "$SW_TMP/sdp.out"; fail "shareway sdp has nothing of the refused offer"; }
ok "shareway sdp $tag shows the refused offer"
refuse "no route" 127.0.0.5 404 "No route" "$AUDIO"
expect "no route" 'r["answered_by"] == "gw"' '"no dial plan rule gives" in r["verdict"]' \
	'"zone lonely" in r["verdict"]'
refuse "dial plan reject" 127.0.0.2 403 "Blocked by rule" "$AUDIO" blocked1
expect "dial plan reject" 'r["answered_by"] == "rule"' 'not r["failed"]' \
	'"as the dial plan says: dial plan rule blocked: action = reject 403" in r["verdict"]'
refuse "media reject" 127.0.0.2 488 "Not Acceptable Here" "$AS_OFFER" 8801
expect "media reject" 'r["answered_by"] == "rule"' 'not r["failed"]' \
	'"no-appsharing refuses offers with m=applicationsharing" in r["verdict"]'
mkdir -p "$SW_TMP/sipp"
sed 's/Max-Forwards: 70/Max-Forwards: 0/' "$SIPP_DIR/uac_reject.xml" >"$SW_TMP/sipp/uac_reject.xml"
SIPP_DIR=$SW_TMP/sipp refuse "loop" 127.0.0.2 483 "Too Many Hops" "$AUDIO"
expect "loop" 'r["answered_by"] == "gw"' '"Max-Forwards reached 0" in r["verdict"]'
refuse "unreachable" 127.0.0.2 503 "Service Unavailable" "$AUDIO" dead1
expect "unreachable" 'r["answered_by"] == "gw"' '"could not be reached" in r["verdict"]' \
	'"127.0.0.3:'"$P_DEAD"'" in r["verdict"]'

# 3. far-end refusals: blamed on the far end, with the verdict its status
# or ms-diagnostics calls for
far() { # NAME CODE PHRASE DIAG-LINE
	SCN_SET=$(printf 'CODE=%s\nPHRASE=%s\nDIAG=%s' "$2" "$3" "$4") \
		uas uas_fail 127.0.0.3 "$P_CMS" 1 "$AUDIO"
	SCN_SET=$(printf 'CODE=%s\nPHRASE=%s\nHDRRE=.' "$2" "$3") \
		uac uac_reject 127.0.0.2 "$P_EDGE" "far$2" 1 "$AS_OFFER" ||
		{ show uac_reject; fail "$1: no $2"; }
	uas_wait || { show uas_fail; fail "$1: callee"; }
}
far "far 403" 403 Forbidden "Server: CMS"
expect "far 403" 'r["answered_by"] == "c"' '"conference side (127.0.0.3:" in r["verdict"]' \
	'"trusted peer" in r["verdict"]' 'r["ringing"]'
far "far 486" 486 "Busy Here" "Server: CMS"
expect "far 486" 'r["answered_by"] == "c"' 'not r["failed"]' '"declined the call" in r["verdict"]'
far "far 21002" 403 Forbidden 'ms-diagnostics-public: 21002;reason="Attendees cannot share in this conference";component="ASMCU"'
expect "far 21002" 'r["answered_by"] == "c"' '"make them a presenter" in r["verdict"]'
far "far 488 24012" 488 "Not Acceptable Here" 'ms-diagnostics: 24012;reason="Error parsing SDP: Cannot support any media offered by client"'
expect "far 24012" '"payload type 127" in r["verdict"]'

# the conference's app-sharing MCU hangs up an answered call with 21006
SCN_SET='DIAG=ms-diagnostics: 21006;reason="The RDP connection failed to establish";component="ASMCU"' \
	uas uas_bye_diag 127.0.0.3 "$P_CMS" 1 "$AS_OFFER"
uac uac_wait_bye 127.0.0.2 "$P_EDGE" 4021 1 "$AS_OFFER" || { show uac_wait_bye; fail "21006 call"; }
uas_wait || { show uas_bye_diag; fail "21006 callee"; }
expect "far 21006" 'r["failed"]' 'r["answered_by"] == "c"' \
	'"ms-diagnostics 21006 \"The RDP connection failed to establish\"" in r["verdict"]' \
	'"could not establish the RDP connection" in r["verdict"]'

# 4. one call tag in every log line: [call c-N], the key of shareway show
grep -E '\[call [^]]*\]' "$SW_TMP/sharewayd.log" | grep -vE '\[call c-[0-9]+( leg [AB])?\]' |
	head -3 | grep . && fail "log lines name calls otherwise than [call c-N]"
n=$(grep -cE '\[call c-[0-9]+\]' "$SW_TMP/sharewayd.log")
[ "$n" -gt 20 ] || fail "only $n log lines name a call"
ok "$n log lines name their call [call c-N], as shareway show knows it"

sw_stop
