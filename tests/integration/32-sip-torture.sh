#!/bin/bash
# timeout: 300
# Every RFC 4475 torture message (shared corpus, MANIFEST.tsv) sent to the
# daemon over UDP, and TCP where it applies, from the Edge zone: the
# outcome must be one the manifest accepts (400 or silence for invalid
# messages, no 400 for valid ones, nothing for stray responses); then the
# daemon must still be alive and carry a normal call.
. "$SW_SRC/tests/lib.sh"
. "$SW_SRC/tests/sipp/sip-lib.sh"

sip_conf
sed -i 's/^log_level = debug/log_level = info/' "$SW_TMP/shareway.conf"
sw_start "$SW_TMP/shareway.conf"

# the conference side refuses whatever the torture INVITEs turn into
uas uas_refuse 127.0.0.3 "$P_CMS" 200 ""
python3 "$SIPP_DIR/torture.py" "$P_GW" 127.0.0.2 "$SW_SHARED/corpus/sip-torture" \
	>"$SW_TMP/torture.txt" 2>&1
rc=$?
cat "$SW_TMP/torture.txt"
kill -0 "$SW_DPID" 2>/dev/null || fail "sharewayd died under the torture messages"
[ $rc = 0 ] || fail "outcomes the manifest does not accept: $(grep -c '^BAD' "$SW_TMP/torture.txt")"
n=$(grep -c '^ok' "$SW_TMP/torture.txt")
[ "$n" -ge 90 ] || fail "only $n torture sends checked"
ok "$n torture sends handled as MANIFEST.tsv accepts; known: $(grep -c '^KNOWN' "$SW_TMP/torture.txt")"
kill "$UAS_PID" 2>/dev/null; sleep 0.5

# a neighbour that floods garbage and INVITEs it never follows up, from
# the Edge zone (routed, refused by a callee that is gone: 503)
python3 "$SIPP_DIR/torture.py" flood "$P_GW" 127.0.0.2 2000 || fail "flood sender"
sleep 1
kill -0 "$SW_DPID" 2>/dev/null || fail "sharewayd died under the flood"
ok "survived 2000 garbage datagrams + 2000 INVITEs"

uas uas_basic 127.0.0.3 "$P_CMS" 1 "$ANSWER"
uac uac_basic 127.0.0.2 "$P_EDGE" 4321 1 "$OFFER" || { show uac_basic; fail "call after the torture"; }
uas_wait || fail "callee of the call after the torture"
ok "a normal call afterwards"

# every call the gateway started has been released (routed calls log their
# end; a refused INVITE logs one rate-limited line and no end)
n=100
while [ $n -gt 0 ]; do
	started=$(grep -c '\] INVITE .*: -> ' "$SW_TMP/sharewayd.log")
	ended=$(grep -c '\] ended (' "$SW_TMP/sharewayd.log")
	[ "$started" = "$ended" ] && break
	sleep 0.1; n=$((n - 1))
done
[ "$started" = "$ended" ] || fail "$started calls started, $ended released"
ok "all $started calls released"
sw_stop
