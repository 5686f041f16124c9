#!/bin/bash
# timeout: 60
# Glare (RFC 3261 14.2): the caller's re-INVITE is relayed to the callee
# while the callee sends its own; the gateway answers the callee's 491
# (its own re-INVITE is pending on that leg), the callee answers the
# relayed one 491, and that 491 goes back to the caller. The call then
# ends normally with BYE.
. "$SW_SRC/tests/lib.sh"
. "$SW_SRC/tests/sipp/sip-lib.sh"

sip_start

uas uas_glare 127.0.0.3 "$P_CMS" 1 "$ANSWER"
uac uac_glare 127.0.0.2 "$P_EDGE" 200 1 "$OFFER" || { show uac_glare; fail "caller side of the glare"; }
uas_wait || { show uas_glare; fail "callee side of the glare"; }
grep -a -q '^SIP/2.0 491' "$SW_TMP/uas_glare-uas.msg" || fail "no 491 to the callee's re-INVITE"
ok "crossing re-INVITEs: 491 to both, call kept, BYE"
grep -q '\] ended (BYE)' "$SW_TMP/sharewayd.log" || fail "call not ended by BYE"
sw_stop
