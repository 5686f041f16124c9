#!/bin/bash
# timeout: 300
# A bounded SIP wire mutator (issue 10): SW_MUTATE_N messages (default
# 20,000) mutated from the RFC 4475 corpus with a fixed seed
# (SW_MUTATE_SEED, default 4475), in batches of 500 alternately over UDP
# and TCP, from the Edge zone and from no zone; after every batch an
# OPTIONS over UDP and over TCP and a real call through to the conference
# must be served (tests/sipp/mutate.py). Then: no sanitizer report, a
# bounded log, and a clean stop. tools/ci-extra.sh runs it again against
# an ASan + UBSan build.
. "$SW_SRC/tests/lib.sh"
. "$SW_SRC/tests/sipp/sip-lib.sh"

sip_conf
sed -i 's/^log_level = debug/log_level = info/' "$SW_TMP/shareway.conf"
sw_start "$SW_TMP/shareway.conf"
t0=$SECONDS
python3 "$SIPP_DIR/mutate.py" "$P_GW" "$P_CMS" "$SW_SHARED/corpus/sip-torture" \
	"${SW_MUTATE_N:-20000}" "${SW_MUTATE_SEED:-4475}" || {
	tail -n 30 "$SW_TMP/sharewayd.log"; fail "the gateway stopped serving"; }
secs=$((SECONDS - t0 + 1))
kill -0 "$SW_DPID" 2>/dev/null || fail "sharewayd died"
! grep -Eq "AddressSanitizer|LeakSanitizer|runtime error:" "$SW_TMP/sharewayd.log" ||
	{ grep -E -A20 "AddressSanitizer|runtime error:" "$SW_TMP/sharewayd.log" | head -40;
	  fail "sanitizer report"; }
n=$(wc -l <"$SW_TMP/sharewayd.log")
# a call's lines (INVITE, ended) per liveness call, the rest rate-limited
[ "$n" -le $((100 * secs + 200)) ] || fail "$n log lines in $secs s"
ok "alive through the mutated messages; $n log lines in $secs s"
sw_stop || fail "no clean stop"
ok "clean stop"
