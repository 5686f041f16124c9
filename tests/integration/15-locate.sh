#!/bin/bash
# timeout: 30
# `shareway locate`: the dial plan dry run against the shipped zones and
# tests/data/rules/locate.rules. A meeting call from the Edge is routed to
# CMS with its R-URI/To rewritten and application sharing relayed; a
# request no rule takes is "no route"; a reject rule exits 1 with its code;
# --json parses; an unknown source address is refused; bad rule files are
# refused naming file:line:key; every text line fits 100 columns.
. "$SW_SRC/tests/lib.sh"

sed -e "s|^rules_file = .*|rules_file = $SW_SRC/tests/data/rules/locate.rules|" \
	"$SW_SRC/conf/shareway.conf" >"$SW_TMP/shareway.conf"
loc() { "$SHAREWAY" -c "$SW_TMP/shareway.conf" locate "$@"; }
has() { grep -qF -- "$2" "$SW_TMP/$1" || { cat "$SW_TMP/$1"; fail "$1 lacks: $2"; }; }
fits() { awk 'length($0) > 100 { bad = 1 } END { exit bad }' "$SW_TMP/$1" ||
	fail "$1 has lines over 100 columns"; }

# 1. Edge -> CMS meeting, source mapped by CIDR
loc 'sip:123456@meet.example.com' --source 127.0.0.2 \
	--from '"Alice" <sip:alice@contoso.com>;tag=1' \
	--media applicationsharing,audio >"$SW_TMP/meet.out" 2>&1 ||
	{ cat "$SW_TMP/meet.out"; fail "meeting call not routed"; }
has meet.out "source: edge (127.0.0.2 in 127.0.0.2/32)"
has meet.out "rule normalise-plus (pr 5): ruri.user ^= \"+\" FAIL: \"123456\""
has meet.out "rule sfb-meeting-to-cms (pr 10): source=edge PASS;"
has meet.out 'PASS $1=123456'
has meet.out "media has applicationsharing PASS"
has meet.out "-> sip:123456@cms.example.local via cms (udp)"
has meet.out "=> forward to cms (sip:127.0.0.3:5080, udp): ruri sip:123456@cms.example.local"
has meet.out "to <sip:123456@cms.example.local>"
has meet.out "applicationsharing=relay"
has meet.out "tag appshare"
fits meet.out
ok "edge -> cms routed and rewritten"

# 2. the continue rule normalises, the stop rule then matches
loc 'sip:+123456@meet.example.com' --source edge \
	--media applicationsharing >"$SW_TMP/plus.out" 2>&1 ||
	{ cat "$SW_TMP/plus.out"; fail "normalised call not routed"; }
has plus.out "ruri -> sip:123456@meet.example.com; continue"
has plus.out "ruri sip:123456@cms.example.local"
ok "continue then stop"

# 3. CMS -> Edge
loc 'sip:bob@127.0.0.1' --source 127.0.0.3 >"$SW_TMP/back.out" 2>&1 ||
	{ cat "$SW_TMP/back.out"; fail "cms -> edge not routed"; }
has back.out "=> forward to edge (sip:127.0.0.2:5070, udp): ruri sip:bob@127.0.0.2:5070"
ok "cms -> edge"

# 4. nothing matches: no route, exit 1
rc=0; loc 'sip:cms.example.local' --source cms >"$SW_TMP/none.out" 2>&1 || rc=$?
[ "$rc" = 1 ] || { cat "$SW_TMP/none.out"; fail "no route exit $rc, want 1"; }
has none.out "=> no route: no rule matched"
ok "no route"

# 5. reject rules, exit 1
rc=0; loc 'sip:bob@elsewhere.example' --source edge \
	--from '<sip:m@evil.example>' --media applicationsharing \
	>"$SW_TMP/rej.out" 2>&1 || rc=$?
[ "$rc" = 1 ] || { cat "$SW_TMP/rej.out"; fail "reject exit $rc, want 1"; }
has rej.out "=> reject 403 Forbidden by dial plan: rule blocked (pr 30)"
rc=0; loc 'sip:123456@meet.example.com' --source edge \
	>"$SW_TMP/rej2.out" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "reject-rest exit $rc, want 1"
has rej2.out "media has applicationsharing FAIL: (no media)"
has rej2.out "=> reject 404 No route: rule reject-rest (pr 65000)"
ok "reject"

# 6. --json parses and carries the decision
loc 'sip:123456@meet.example.com' --source 127.0.0.2 \
	--media applicationsharing --header 'X-Ms-Conf: focus-1' --json \
	>"$SW_TMP/meet.json" || fail "json locate failed"
python3 - "$SW_TMP/meet.json" <<'PY' || fail "JSON check failed"
import json, sys
d = json.load(open(sys.argv[1]))
r = d["route"]
assert d["refused"] is False and d["source_match"] == "cidr", d
assert r["outcome"] == "forward" and r["rule"] == "sfb-meeting-to-cms", r
assert r["ruri"] == "sip:123456@cms.example.local", r["ruri"]
assert r["target_zone"] == "cms" and r["source_zone"] == "edge", r
assert r["media"]["applicationsharing"] == "relay", r["media"]
assert r["captures"][1] == "123456", r["captures"]
tried = [t["rule"] for t in r["trace"]]
assert tried == ["normalise-plus", "sfb-meeting-to-cms"], tried
assert all(c["pass"] for c in r["trace"][1]["conditions"]), r["trace"]
PY
ok "--json"

# 7. a source address no zone matches would be refused 403
rc=0; loc 'sip:123456@meet.example.com' --source 192.0.2.9 \
	>"$SW_TMP/refused.out" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "unknown source exit $rc, want 1"
has refused.out "source: no zone (would be refused 403)"
ok "unknown source"

# 8. usage and bad rule files
rc=0; loc >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "no URI: exit $rc, want 2"
rc=0; loc sip:a@b --source nowhere >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "bad --source: exit $rc, want 2"
loc --help | grep -q 'usage: shareway' || fail "--help"
printf '[rule a]\npriority = 1\nmatch.ruri = regex ^(sip\n' >"$SW_TMP/bad.rules"
rc=0; loc sip:a@b --rules "$SW_TMP/bad.rules" 2>"$SW_TMP/bad.err" || rc=$?
[ "$rc" = 1 ] || fail "bad rules: exit $rc, want 1"
has bad.err "bad.rules:3:match.ruri: bad regex at offset 5: missing closing parenthesis"
printf '[rule a]\npriority = 1\ntarget = mars\n' >"$SW_TMP/zone.rules"
loc sip:a@b --rules "$SW_TMP/zone.rules" 2>"$SW_TMP/zone.err" && fail "unknown zone accepted"
has zone.err "zone.rules:3:target: unknown zone 'mars' (shareway.conf has: edge cms)"
ok "usage and rule file errors"
