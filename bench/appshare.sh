#!/bin/bash
# appshare.sh: application sharing end to end through sharewayd (relay
# policy), both neighbours played by bench/asbench (C, one epoll thread):
# call setups per second (open-loop steps), concurrent calls held, and the
# throughput of a bridged call after the checks next to direct loopback
# (the same driver, a plain TCP pair) and the TURN benchmark's splice path
# (turnbench against the same sharewayd) in the same run. There is no
# reference gateway for this flow. Raw RESULT lines: $BENCH_OUT/appshare/
# results.txt; the Markdown section: $BENCH_OUT/appshare.md.
. "$(dirname "$0")/lib.sh"

OUT=$BENCH_OUT/appshare
RAW=$OUT/results.txt
ERR=$OUT/stderr.txt
MD=$BENCH_OUT/appshare.md
ASBENCH=$BENCH_BUILD/bench/asbench
mkdir -p "$OUT"
: >"$RAW"; : >"$ERR"

# asbench's sockets: the Edge's SIP on 127.0.0.2, the conference's SIP
# and TCP-PASS listener on 127.0.0.3; relays 40000-47999 (the config)
P_AS_EDGE=30902; P_AS_CONF=30903; P_AS_MEDIA=30904
if [ "$BENCH_QUICK" = 1 ]; then
	RATES="100 200 400"; SECS=3; HOLD=500; TP_SECS=3; TP_REPS=1
	TB_BYTES=1G; SHED_CPS=200; SHED_OFFER=400
else
	RATES="100 200 400 600 800 1000 1200 1400"; SECS=10; HOLD=5000
	TP_SECS=5; TP_REPS=3; TB_BYTES=16G; SHED_CPS=500; SHED_OFFER=1000
fi
echo "PARAMS rates=$RATES secs=$SECS hold=$HOLD tp_secs=$TP_SECS tp_reps=$TP_REPS" >"$OUT/params.txt"

not_measured() {
	{
		echo "### App sharing end to end (relay policy)"
		echo
		echo "not measured: $1"
	} >"$MD"
	exit 0
}

[ -x "$ASBENCH" ] || not_measured "bench/asbench not built (make)"
sed -e "s/@SIP_PORT@/$P_SW_SIP/" -e "s/@TURN_PORT@/$P_SW_TURN/" \
	-e "s|@RULES@|$BENCH_SRC/bench/conf/rules-appshare.conf|" \
	"$BENCH_SRC/bench/conf/appshare-bench.conf.in" >"$OUT/shareway.conf"
# the same with admission control: [sip] max_cps
sed "s/^max_cps = 0$/max_cps = $SHED_CPS/" "$OUT/shareway.conf" >"$OUT/shareway-shed.conf"

# kv LINE KEY: the value of key=value in a RESULT line
kv() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"; }

# sw NAME [CONF]: a fresh sharewayd (its RSS and fds start from scratch)
sw() {
	[ -n "${SW_PID:-}" ] && stop_pid "$SW_PID"
	sharewayd_start "appshare-$1" "${2:-$OUT/shareway.conf}" ||
		not_measured "sharewayd did not start with bench/conf/appshare-bench.conf.in (appshare-$1.log)"
}

# as LIMIT MODE ARGS...: one asbench run, bounded; its exit status
as() {
	local limit=$1
	shift
	echo "# asbench $*" >>"$ERR"
	timeout -k 5 "$limit" "$ASBENCH" "$@" -g 127.0.0.1:$P_SW_SIP \
		-e 127.0.0.2:$P_AS_EDGE -c 127.0.0.3:$P_AS_CONF \
		-m 127.0.0.3:$P_AS_MEDIA -p "$SW_PID" -T $((limit - 10)) \
		>>"$RAW" 2>>"$ERR"
}

# --- the Markdown section -------------------------------------------------
rate_rows() {
	local line
	grep '^RESULT mode=rate ' "$RAW" | while read -r line; do
		echo "| $(kv "$line" offered_cps) | $(kv "$line" setups) of $(kv "$line" calls) | $(kv "$line" failed) ($(kv "$line" failures)) | $(kv "$line" setups_per_s) | $(kv "$line" setup_p50_ms) / $(kv "$line" setup_p99_ms) | $(kv "$line" connect_p50_ms) / $(kv "$line" connect_p99_ms) | $(kv "$line" server_cpu_ms_per_call) | $(kv "$line" driver_cpu_ms_per_call) | $(kv "$line" edge_491) | $(kv "$line" sip_rtx_out) / $(kv "$line" sip_rtx_in) |"
	done
}

best_rate() {
	grep '^RESULT mode=rate ' "$RAW" | awk '/ failed=0 / && / sip_rtx_out=0 / &&
		/ sip_rtx_in=0 / { sub(/.*offered_cps=/, ""); sub(/ .*/, "");
		if ($1 + 0 > b) b = $1 + 0 } END { print b + 0 }'
}

# shed (503) and other failures of a RESULT line
shed_of() { kv "$1" failures | tr ',' '\n' | sed -n 's/^shed_503://p' | awk '{s += $1} END {print s + 0}'; }

shed_row() {
	local l s
	l=$(grep '^RESULT mode=rate ' "$RAW.shed" 2>/dev/null | tail -1)
	if [ -z "$l" ]; then
		echo "| $SHED_OFFER | $SHED_CPS | failed: $(grep -v '^#' "$ERR" | tail -1 | cut -c1-160) | | | | | |"
		return
	fi
	s=$(shed_of "$l")
	echo "| $(kv "$l" offered_cps) | $SHED_CPS | $(kv "$l" setups) of $(kv "$l" calls) | $s | $(( $(kv "$l" failed) - s )) ($(kv "$l" failures)) | $(kv "$l" setups_per_s) | $(kv "$l" setup_p50_ms) / $(kv "$l" setup_p99_ms) | $(kv "$l" sip_rtx_out) / $(kv "$l" sip_rtx_in) |"
}

hold_row() {
	local l
	l=$(grep '^RESULT mode=hold ' "$RAW" | tail -1)
	if [ -z "$l" ]; then
		echo "| $HOLD | failed: $(grep -v '^#' "$ERR" | tail -1 | cut -c1-160) | | | | | | |"
		return
	fi
	echo "| $(kv "$l" asked) | **$(kv "$l" held)** ($(kv "$l" failures)) | $(kv "$l" fds_before) → $(kv "$l" fds_held) → $(kv "$l" fds_after) (returned: $(kv "$l" fds_returned), after $(kv "$l" fds_return_s) s); $(kv "$l" fds_per_call) per call | $(kv "$l" rss_kb_before) → $(kv "$l" rss_kb_held); $(kv "$l" kb_per_call) kB per call | $(kv "$l" rss_kb_steady); **$(kv "$l" kb_per_call_steady) kB per call** | $(kv "$l" rss_kb_bye1) / $(kv "$l" rss_kb_bye_settle) | $(kv "$l" setup_p50_ms) / $(kv "$l" setup_p99_ms) | $(kv "$l" connect_p50_ms) / $(kv "$l" connect_p99_ms) | $(kv "$l" server_cpu_ms_per_setup) |"
}

# med FILE PATTERN KEY: the median of KEY over the lines matching PATTERN
med() {
	grep "$2" "$1" 2>/dev/null | sed -n "s/.* $3=\([^ ]*\).*/\1/p" |
		sort -g | awk '{v[NR] = $1} END {if (NR) print v[int((NR + 1) / 2)]}'
}

# every FILE PATTERN KEY: every value, comma-separated
every() {
	grep "$2" "$1" 2>/dev/null | sed -n "s/.* $3=\([^ ]*\).*/\1/p" |
		paste -sd, - | sed 's/,/, /g'
}

# lost FILE PATTERN: turnbench's bytes sent but not received, all runs
lost() {
	grep "$2" "$1" 2>/dev/null |
		sed 's/.* sent=\([0-9]*\) received=\([0-9]*\).*/\1 \2/' |
		awk '{l += $1 - $2} END {print l + 0}'
}

# cell FILE PATTERN KEY: "median (every run)"
cell() { echo "$(med "$@") ($(every "$@"))"; }

tp_rows() {
	local a='^RESULT mode=throughput seconds=' T=$OUT/turnbench.txt
	local td='^RESULT mode=throughput label=direct '
	local ts='^RESULT mode=throughput label=sharewayd '
	if grep -q "$a" "$RAW"; then
		echo "| direct loopback, plain TCP pair (asbench, one thread) | $(cell "$RAW" "$a" direct_gbps) | $(cell "$RAW" "$a" direct_both_gbps) | 100 % | — | — |"
		echo "| **sharewayd**, bridged app-sharing call after the checks (asbench) | $(cell "$RAW" "$a" bridged_gbps) | $(cell "$RAW" "$a" bridged_both_gbps) | $(med "$RAW" "$a" bridged_pct) % / $(med "$RAW" "$a" bridged_both_pct) % | $(med "$RAW" "$a" server_cpu_s_per_gb) | $(every "$RAW" "$a" bridged_lost_bytes) / $(every "$RAW" "$a" bad_frames) |"
	else
		echo "| asbench throughput | failed: $(grep -v '^#' "$ERR" | tail -1 | cut -c1-160) | | | | |"
	fi
	if grep -q "$td" "$T" 2>/dev/null && grep -q "$ts" "$T"; then
		echo "| direct loopback (turnbench --direct, the peer a second process) | $(cell "$T" "$td" gbps) | — | 100 % | — | $(lost "$T" "$td") / — |"
		echo "| **sharewayd**, TURN RFC 6062 splice (turnbench, the same sharewayd) | $(cell "$T" "$ts" gbps) | — | $(awk -v a="$(med "$T" "$ts" gbps)" -v b="$(med "$T" "$td" gbps)" 'BEGIN { if (b > 0) printf "%.0f %%", 100 * a / b; else print "—" }') / — | $(med "$T" "$ts" server_cpu_s_per_gb) | $(lost "$T" "$ts") / — |"
	else
		echo "| turnbench throughput | failed: $(grep turnbench "$OUT/steps.txt" 2>/dev/null | tail -1) | | | | |"
	fi
}

report() {
	echo "### App sharing end to end (relay policy): bench/asbench"
	echo
	echo "bench/asbench plays both neighbours in one C process (one epoll thread): the Edge (127.0.0.2: INVITE with an m=applicationsharing offer, ACK, its relay's TCP connection to sharewayd's TCP-PASS relay candidate, MS-ICE2 checks as the controlling agent with legacy duplicates, its own completion re-INVITE as soon as its checks are complete, resent 2.1–4 s after a 491 as RFC 3261 14.1 says, BYE) and the conference (127.0.0.3: 180/200 with a TCP-PASS candidate on one shared listener, checks as the controlled agent, the gateway's completion re-INVITE checked and answered). Setup: INVITE sent → 200 to the completion re-INVITE sent by the conference; connect: the Edge relay's connect() → that 200. No reference gateway exists for this flow."
	echo
	echo "#### Call setups per second (open loop, ${SECS} s per step; each call hung up once set up and the Edge's re-INVITE answered)"
	echo
	echo "| offered calls/s | set up | failed (reasons) | setups/s | setup p50 / p99 ms | connect → completion 200 p50 / p99 ms | sharewayd CPU ms per call | asbench CPU ms per call | 491 to the Edge's re-INVITE | SIP retransmissions out / in |"
	echo "|---|---|---|---|---|---|---|---|---|---|"
	rate_rows
	echo
	echo "Highest clean step (0 failed, 0 retransmissions; a dirty step is retried once, both rows shown): **$(best_rate) calls/s** (target ≥ 200)."
	echo
	echo "#### Overload with admission control (\`[sip] max_cps\`, ${SECS} s open loop above the clean rate)"
	echo
	echo "| offered calls/s | max_cps | set up | shed: 503 + Retry-After | other failures | setups/s | setup p50 / p99 ms (calls set up) | SIP retransmissions out / in |"
	echo "|---|---|---|---|---|---|---|---|"
	shed_row
	echo
	echo "#### Concurrent calls held (200 started per second, at most 200 setting up at once; one RTP probe each way through every call; then BYE all)"
	echo
	echo "RSS right after the last setup still holds Sofia's transactions of the last 32 s of setups (Timer D of each INVITE client transaction, fixed at 32 s in Sofia-SIP 1.12.11); 35 s later is the steady state of held calls. After the BYEs: 1 s and 35 s later (the BYE transactions' timers run up to 32 s)."
	echo
	echo "| calls asked | held and probed both ways (failures) | sharewayd fds before → held → after the BYEs | sharewayd RSS kB before → held (right after the setups) | RSS kB 35 s after the last setup (steady) | RSS kB after the BYEs: +1 s / +35 s | setup p50 / p99 ms | connect → completion 200 p50 / p99 ms | sharewayd CPU ms per setup |"
	echo "|---|---|---|---|---|---|---|---|---|"
	hold_row
	echo
	echo "#### Throughput of a bridged call after the checks (splice), ${TP_SECS} s per phase, 64 KiB writes of RFC 4571-framed RTP; median of $TP_REPS interleaved runs (every run in brackets)"
	echo
	echo "| path | one way Gbit/s | both ways Gbit/s (sum of the two directions) | vs its direct (one way / both) | sharewayd CPU-s per GB | bytes lost / bad frames (every run) |"
	echo "|---|---|---|---|---|---|"
	tp_rows
}

# --- setups per second: open-loop steps until the first unclean one ------
sw rate
note "appshare: setups/s, steps of $SECS s: $RATES calls/s"
# step R: one step; 0 when clean (no failure, no SIP retransmission)
step() {
	local line rc
	as $((SECS * 3 + 60)) rate "$1" -d "$SECS" -w 4000
	rc=$?
	line=$(grep "^RESULT mode=rate offered_cps=$1 " "$RAW" | tail -1)
	[ $rc = 0 ] && [ "$(kv "$line" sip_rtx_out)" = 0 ] &&
		[ "$(kv "$line" sip_rtx_in)" = 0 ] && return 0
	echo "rate $1: unclean (exit $rc)" >>"$OUT/steps.txt"
	return 1
}

# a dirty step is retried once (the machine is shared), then the sweep ends
for r in $RATES; do
	step "$r" && continue
	sleep 5
	step "$r" || break
done

# --- overload with admission control: shed, not collapse -----------------
sw shed "$OUT/shareway-shed.conf"
note "appshare: $SHED_OFFER calls/s offered for $SECS s to max_cps $SHED_CPS"
RAW_ALL=$RAW; RAW=$RAW.shed
as $((SECS * 3 + 60)) rate "$SHED_OFFER" -d "$SECS" -w 4000 ||
	echo "shed: exit $?" >>"$OUT/steps.txt"
RAW=$RAW_ALL

# --- concurrent calls held ------------------------------------------------
sw hold
note "appshare: $HOLD calls held at once (200 at a time, 200/s)"
as $((HOLD / 20 + 200)) hold "$HOLD" -w 200 -r 200 -s 35 ||
	echo "hold: exit $?" >>"$OUT/steps.txt"

# --- throughput of a bridged call, next to direct and the TURN splice ----
sw throughput
note "appshare: throughput, $TP_REPS × $TP_SECS s per phase (asbench, then turnbench)"
for rep in $(seq "$TP_REPS"); do
	as $((TP_SECS * 4 + 60)) throughput "$TP_SECS" -W 64K ||
		echo "throughput: exit $?" >>"$OUT/steps.txt"
	for s in direct sharewayd; do
		if [ $s = direct ]; then set -- --direct; else
			set -- -s 127.0.0.1:$P_SW_TURN -p "$SW_PID"; fi
		echo "# turnbench throughput $*" >>"$ERR"
		timeout -k 5 $((TP_SECS + 60)) "$TURNBENCH" throughput "$@" \
			-P 127.0.0.1:$P_PEER -l "$s" -b "$TB_BYTES" \
			-t "$TP_SECS" -W 64K -T $((TP_SECS + 50)) \
			>>"$OUT/turnbench.txt" 2>>"$ERR" ||
			echo "turnbench $s: exit $?" >>"$OUT/steps.txt"
	done
done
stop_pid "$SW_PID"

report >"$MD"
