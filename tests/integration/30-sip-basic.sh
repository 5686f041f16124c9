#!/bin/bash
# timeout: 120
# Basic calls through the B2BUA in both directions (Edge 127.0.0.2 ->
# CMS 127.0.0.3 and back) with corpus SDP: own Call-ID/tags, X-CID,
# Max-Forwards, extension headers copied and stripped, 183 with SDP, the
# SDP byte-identical under passthrough, BYE from the caller with Reason.
. "$SW_SRC/tests/lib.sh"
. "$SW_SRC/tests/sipp/sip-lib.sh"

sip_start

# Edge -> CMS
uas uas_basic 127.0.0.3 "$P_CMS" 1 "$ANSWER"
uac uac_basic 127.0.0.2 "$P_EDGE" 4321 1 "$OFFER" || { show uac_basic; fail "edge->cms call"; }
uas_wait || { show uas_basic; fail "cms side of edge->cms call"; }
ok "edge -> cms call"

# passthrough: the offer and the answer cross byte-identical
body_of "$SW_TMP/uac_basic-uac.msg" sent '^INVITE' >"$SW_TMP/offer.sent"
body_of "$SW_TMP/uas_basic-uas.msg" received '^INVITE' >"$SW_TMP/offer.recv"
[ -s "$SW_TMP/offer.sent" ] || fail "no offer in the caller's trace"
cmp "$SW_TMP/offer.sent" "$SW_TMP/offer.recv" || fail "offer changed on the way"
body_of "$SW_TMP/uas_basic-uas.msg" sent '^SIP/2.0 200' >"$SW_TMP/ans.sent"
body_of "$SW_TMP/uac_basic-uac.msg" received '^SIP/2.0 200' >"$SW_TMP/ans.recv"
[ -s "$SW_TMP/ans.sent" ] || fail "no answer in the callee's trace"
cmp "$SW_TMP/ans.sent" "$SW_TMP/ans.recv" || fail "answer changed on the way"
ok "SDP byte-identical both ways"

# leg B has its own Call-ID, X-CID carries leg A's
a_cid=$(grep -a -m1 -i '^Call-ID:' "$SW_TMP/uac_basic-uac.msg" | tr -d '\r' | sed 's/^[^:]*: *//')
b_cid=$(grep -a -m1 -i '^Call-ID:' "$SW_TMP/uas_basic-uas.msg" | tr -d '\r' | sed 's/^[^:]*: *//')
xcid=$(grep -a -m1 -i '^X-CID:' "$SW_TMP/uas_basic-uas.msg" | tr -d '\r' | sed 's/^[^:]*: *//')
[ -n "$a_cid" ] && [ "$a_cid" != "$b_cid" ] || fail "leg B reused Call-ID '$a_cid'"
[ "$xcid" = "$a_cid" ] || fail "X-CID '$xcid' is not leg A's Call-ID '$a_cid'"
ok "own Call-ID, X-CID = $a_cid"

# CMS -> Edge, through the rule cms-to-edge
uas uas_basic 127.0.0.2 "$P_EDGE" 1 "$ANSWER"
uac uac_basic 127.0.0.3 "$P_CMS" 777 1 "$OFFER" || { show uac_basic; fail "cms->edge call"; }
uas_wait || { show uas_basic; fail "edge side of cms->edge call"; }
ok "cms -> edge call"

# rule with on_match=continue rewriting the user, then edge-to-cms
uas uas_basic 127.0.0.3 "$P_CMS" 1 "$ANSWER"
uac uac_basic 127.0.0.2 "$P_EDGE" 994321 1 "$OFFER" || { show uac_basic; fail "normalised call"; }
uas_wait || fail "cms side of the normalised call"
grep -a -q '^INVITE sip:4321@127.0.0.3' "$SW_TMP/uas_basic-uas.msg" || fail "R-URI not rewritten by normalise + edge-to-cms"
ok "rules: continue + rewrite"
# the call log has the routing trace of that call (the call keeps none:
# it is recorded while the router's whole result is at hand)
SW="$SHAREWAY -c $SW_TMP/shareway.conf -s $SW_TMP/state"
tag=$($SW calls --json --limit 1 | grep -o '"tag":"[^"]*"' | cut -d'"' -f4)
$SW show "$tag" >"$SW_TMP/show.out" || fail "show $tag"
for l in 'Route         rule edge-to-cms (priority 10), zone edge → cms, transport udp' \
	'  captures    $1=4321' \
	'  trace       rule blocked (pr 5): ruri.user ^= "blocked" FAIL: "994321"' \
	'rule normalise (pr 8): source=edge PASS; ruri.user ^= "99" PASS; ruri ->' \
	'rule edge-to-cms (pr 10): source=edge PASS; ruri =~ /^sip:([^@]+)@/ PASS $1=4321;' \
	"=> forward to cms (sip:127.0.0.3:$P_CMS, udp): ruri sip:4321@127.0.0.3:$P_CMS;"; do
	grep -qF -- "$l" "$SW_TMP/show.out" ||
		{ cat "$SW_TMP/show.out"; fail "show $tag: no '$l'"; }
done
ok "show: the route with the trace of every rule tried"

grep -q 'ended (BYE)' "$SW_TMP/sharewayd.log" || fail "call end not logged"
sw_stop
grep -q "stopped" "$SW_TMP/sharewayd.log" || fail "no stopped line"
ok "daemon stopped cleanly"
