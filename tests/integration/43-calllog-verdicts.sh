#!/bin/bash
# timeout: 120
# What the call log says of real SIPp calls through the real daemon: an
# audio call that ended normally is a success, not an app-sharing failure
# (`calls --failed` and `stats` do not count it).
. "$SW_SRC/tests/lib.sh"
. "$SW_SRC/tests/sipp/sip-lib.sh"

AUDIO=$SDP_DIR/ms-sdp-2.2-lcs-era-example-msdata.sdp
SW="$SHAREWAY -c $SW_TMP/shareway.conf -s $SW_TMP/state"

sip_conf
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
	'r["verdict"].startswith("Call completed normally")' 'r["media"] == "A/V"'
[ "$($SW calls --failed --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["calls"]))')" = 0 ] ||
	fail "calls --failed lists the audio call"
[ "$($SW stats --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["history"]["last_hour"]["failed"])')" = 0 ] ||
	fail "stats counts the audio call as failed"
ok "calls --failed and stats count no failure"

sw_stop
