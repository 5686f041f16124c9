#!/bin/bash
# timeout: 150
# Border-safe SIP (issue 10, items 1-3), from the Edge zone with SIPp:
#  - an INVITE whose Contact is tel:, mailto: or scheme-less, or whose
#    Record-Route is not a SIP URI, gets 400 before any dialog exists (the
#    landed 28c2e2a relayed it, and its BYE at Timer H or at shutdown
#    crashed the daemon);
#  - a callee whose 200 carries such a Contact or Record-Route gets ACK and
#    BYE (sent to the hop the call went to) and the caller 502;
#  - a caller whose Contact and Record-Route name hosts nobody resolves gets
#    the callee's BYE back the way its INVITE came: the DNS sink of
#    tests/netns-run.sh fails the test on any lookup;
#  - SIGTERM with a call up: BYE on both legs, exit 0 within the bound, no
#    FATAL or assertion.
. "$SW_SRC/tests/lib.sh"
. "$SW_SRC/tests/sipp/sip-lib.sh"

OFFER=$SDP_DIR/sipe-issue83-appshare-offer-to-asmcu-pt96-rejected-24012.sdp
ANSWER=$SDP_DIR/ms-sdp-2.2-lcs-era-example-msdata.sdp
sip_conf
sw_start "$SW_TMP/shareway.conf"
C_OK="Contact: <sip:alice@127.0.0.2:$P_EDGE>"

# hostile CODE RURI TO HDR1 HDR2: an INVITE shaped so, answered CODE
hostile() {
	SCN_SET="CODE=$1
RURI=$2
TO=$3
HDR1=$4
HDR2=$5" uac uac_hostile 127.0.0.2 "$P_EDGE" x 1 "$OFFER"
}

# 1. dialog-forming requests: Contact and Record-Route must be SIP URIs
for c in '<tel:+15551234567>' '<mailto:er@example.net>' '<er@host.example.net>'; do
	hostile 400 "sip:4321@conf.example" "<sip:4321@conf.example>" \
		"Contact: $c" "X-Test: contact" ||
		{ show uac_hostile; fail "Contact $c not refused with 400"; }
done
hostile 400 "sip:4321@conf.example" "<sip:4321@conf.example>" "$C_OK" \
	"Record-Route: <tel:+15551234567>" ||
	{ show uac_hostile; fail "Record-Route tel: not refused with 400"; }
hostile 400 "sip:4321@conf.example" "<sip:4321@conf.example>" \
	"X-Test: no-contact" "X-Test: none" ||
	{ show uac_hostile; fail "INVITE without Contact not refused with 400"; }
ok "INVITEs with a tel:, mailto:, scheme-less or no Contact, or a tel: Record-Route: 400"

# 2. dialog-forming responses: the callee's 200 ends its leg, the caller 502
for c in '<tel:+15551234567>' '<er@host.example.net>'; do
	SCN_SET="CONTACT=$c
HDR=X-Test: answer" uas uas_contact 127.0.0.3 "$P_CMS" 1 "$ANSWER"
	hostile 502 "sip:4321@conf.example" "<sip:4321@conf.example>" "$C_OK" \
		"X-Test: caller" || { show uac_hostile; fail "200 with Contact $c: caller did not get 502"; }
	uas_wait || { show uas_contact; fail "200 with Contact $c: no ACK and BYE"; }
done
SCN_SET="CONTACT=<sip:conf@127.0.0.3:$P_CMS>
HDR=Record-Route: <mailto:rr@example.net>" uas uas_contact 127.0.0.3 "$P_CMS" 1 "$ANSWER"
hostile 502 "sip:4321@conf.example" "<sip:4321@conf.example>" "$C_OK" \
	"X-Test: caller" || { show uac_hostile; fail "200 with a mailto: Record-Route: caller did not get 502"; }
uas_wait || { show uas_contact; fail "200 with a mailto: Record-Route: no ACK and BYE"; }
grep -q 'leg B\] 200 from .*Contact is not a SIP or SIPS URI.*leg ended' "$SW_TMP/sharewayd.log" ||
	fail "no log line for the refused 200"
ok "200 with a tel: or scheme-less Contact or a mailto: Record-Route: ACK + BYE, caller 502"

# 3. names in a caller's Contact and Record-Route are never looked up
uas uas_bye 127.0.0.3 "$P_CMS" 1 "$ANSWER"
SCN_SET="HOST=host.example.net" uac uac_named 127.0.0.2 "$P_EDGE" 4321 1 "$OFFER" ||
	{ show uac_named; fail "BYE toward named Contact/Record-Route"; }
uas_wait || fail "callee of the named call"
ok "BYE to a caller whose Contact and Record-Route are names: sent back the way it came"

kill -0 "$SW_DPID" 2>/dev/null || fail "sharewayd died"

# 4. SIGTERM with a call up: BYE on both legs, a clean exit
SCN_SET="CHECK=m=" uas uas_check 127.0.0.3 "$P_CMS" 1 "$ANSWER"
( uac uac_wait_bye 127.0.0.2 "$P_EDGE" 4321 1 "$OFFER"; echo $? >"$SW_TMP/wait_bye.rc" ) &
caller=$!
wait_for "$SW_TMP/sharewayd.log" '> active' 10 || fail "no call up before SIGTERM"
sleep 0.3 # the caller's ACK
sw_stop || fail "sharewayd exit status $? on SIGTERM with a call up"
uas_wait || { show uas_check; fail "callee got no BYE at shutdown"; }
wait "$caller"
[ "$(cat "$SW_TMP/wait_bye.rc" 2>/dev/null)" = 0 ] || { show uac_wait_bye; fail "caller got no BYE at shutdown"; }
grep -Eq 'FATAL|Assertion|Segmentation' "$SW_TMP/sharewayd.log" && fail "shutdown: $(grep -E 'FATAL|Assertion' "$SW_TMP/sharewayd.log" | head -1)"
grep -q 'shutdown: hanging up 1 calls' "$SW_TMP/sharewayd.log" || fail "no hang-up at shutdown"
ok "SIGTERM with a call up: BYE on both legs, exit 0"
