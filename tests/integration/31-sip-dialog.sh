#!/bin/bash
# timeout: 150
# Every dialog operation across the B2BUA: CANCEL before the answer (487 on
# both legs), rejects relayed with their phrase and ms-diagnostics,
# ms-diagnostics-public, Reason and Warning; re-INVITE, INFO and UPDATE
# from the caller; re-INVITE and BYE from the callee; OPTIONS answered
# locally; a reject rule; an unknown zone; multipart reduction; a
# neighbour that never answers (408).
. "$SW_SRC/tests/lib.sh"
. "$SW_SRC/tests/sipp/sip-lib.sh"

sip_start

uas uas_cancel 127.0.0.3 "$P_CMS" 1 ""
uac uac_cancel 127.0.0.2 "$P_EDGE" 100 1 "$OFFER" || { show uac_cancel; fail "CANCEL"; }
uas_wait || { show uas_cancel; fail "CANCEL not relayed to the callee"; }
ok "CANCEL before answer: 487 on both legs"

uas uas_reject 127.0.0.3 "$P_CMS" 1 ""
SCN_SET='CODE=488
PHRASE=Not Acceptable Here Really
HDRRE=ms-diagnostics: 24012;reason="Error parsing SDP: Cannot support any media offered by client";source="asmcu.example"' \
	uac uac_reject 127.0.0.2 "$P_EDGE" 101 1 "$OFFER" || { show uac_reject; fail "reject relay"; }
uas_wait || fail "callee of the reject"
for h in 'ms-diagnostics-public: 24012' 'Reason: Q.850;cause=88' 'Warning: 399 asmcu.example'; do
	grep -a -q "^$h" "$SW_TMP/uac_reject-uac.msg" || fail "'$h' not relayed"
done
ok "488 relayed with phrase, ms-diagnostics(-public), Reason, Warning"

SCN_SET='CODE=403
PHRASE=Blocked by rule
HDRRE=403' uac uac_reject 127.0.0.2 "$P_EDGE" blocked7 1 "$OFFER" || { show uac_reject; fail "reject rule"; }
ok "reject rule: 403 Blocked by rule"

SCN_SET='CODE=403
PHRASE=Forbidden
HDRRE=403' uac uac_reject 127.0.0.4 "$P_EDGE" 102 1 "$OFFER" || { show uac_reject; fail "unknown zone"; }
ok "unknown zone: 403"

uas uas_reinv 127.0.0.3 "$P_CMS" 1 "$ANSWER"
uac uac_reinv 127.0.0.2 "$P_EDGE" 103 1 "$OFFER" || { show uac_reinv; fail "re-INVITE/INFO/UPDATE from the caller"; }
uas_wait || { show uas_reinv; fail "callee of the caller's re-INVITE"; }
ok "re-INVITE, INFO, UPDATE from the caller relayed with offer/answer"

uas uas_reinv_out 127.0.0.3 "$P_CMS" 1 "$ANSWER"
uac uac_accept_reinv 127.0.0.2 "$P_EDGE" 104 1 "$OFFER" || { show uac_accept_reinv; fail "re-INVITE from the callee"; }
uas_wait || { show uas_reinv_out; fail "callee re-INVITE + BYE"; }
ok "re-INVITE and BYE from the callee relayed"

uas uas_bye 127.0.0.2 "$P_EDGE" 1 "$ANSWER"
uac uac_wait_bye 127.0.0.3 "$P_CMS" 105 1 "$OFFER" || { show uac_wait_bye; fail "BYE from the callee (cms->edge)"; }
uas_wait || fail "edge callee BYE"
ok "BYE from the callee, cms -> edge"

uac uac_options 127.0.0.2 "$P_EDGE" x 3 "" || { show uac_options; fail "OPTIONS"; }
ok "OPTIONS answered with Allow/Supported"

cat "$SDP_DIR/sipe-issue56-multipart-ms-proxy-2007fallback-invite-body.txt" >"$SW_TMP/multipart.txt"
printf '\r\n------=_NextPart_000_001E_01CB4397.0B5EB570--\r\n' >>"$SW_TMP/multipart.txt"
uas uas_multipart 127.0.0.3 "$P_CMS" 1 "$ANSWER"
uac uac_multipart 127.0.0.2 "$P_EDGE" 106 1 "$SW_TMP/multipart.txt" -t t1 || { show uac_multipart; fail "multipart call over TCP"; }
uas_wait || { show uas_multipart; fail "multipart not reduced to the ICE-19 part"; }
ok "multipart/alternative (in over TCP) reduced to the ICE-19 application/sdp part"

uas uas_silent 127.0.0.3 "$P_CMS" 1 ""
SCN_SET='CODE=408
PHRASE=Request Timeout
HDRRE=408' uac uac_reject 127.0.0.2 "$P_EDGE" 107 1 "$OFFER" || { show uac_reject; fail "no answer"; }
ok "a callee that never answers: 408 after invite_timeout"
kill "$UAS_PID" 2>/dev/null

# a target nobody listens on: 503 (ICMP unreachable / connection refused)
SCN_SET='CODE=503
PHRASE=.*
HDRRE=503' uac uac_reject 127.0.0.2 "$P_EDGE" 108 1 "$OFFER" -t t1 || { show uac_reject; fail "unreachable target"; }
ok "an unreachable target: 503"

# media policies of the rule through the default media-policy hook
SCN_SET='CODE=488
PHRASE=Not Acceptable Here
HDRRE=Warning: 304 shareway "Media type not available"' \
	uac uac_reject 127.0.0.2 "$P_EDGE" 881 1 "$OFFER" || { show uac_reject; fail "media reject policy"; }
ok "media.applicationsharing = reject: 488 with Warning 304"
SCN_SET='CHECK=m=applicationsharing 0 TCP/RTP/AVP 96' uas uas_check 127.0.0.3 "$P_CMS" 1 "$ANSWER"
SCN_SET='CTYPE=application/sdp' uac uac_multipart 127.0.0.2 "$P_EDGE" 771 1 "$OFFER" || { show uac_multipart; fail "media strip policy call"; }
uas_wait || { show uas_check; fail "m=applicationsharing not set to port 0 by strip"; }
ok "media.applicationsharing = strip: port 0 toward the callee"

n=$(grep -c '\] ended (' "$SW_TMP/sharewayd.log")
[ "$n" -ge 12 ] || fail "only $n calls released"
sw_stop
ok "all calls released; daemon stopped"
