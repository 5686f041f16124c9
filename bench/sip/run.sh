#!/bin/bash
# sip/run.sh: SIP calls per second, INVITE/180/200/ACK/BYE with an audio
# SDP, SIPp caller (127.0.0.2) → middle box → SIPp callee (127.0.0.3):
# no middle box (sipp → sipp), Kamailio 5.6.3 stateful record-routing
# proxy (bench/sip/kamailio-bench.cfg.in), and sharewayd (B2BUA, zone
# edge → zone cms, bench/conf). Method (docs/BENCHMARKS.md): fixed-rate
# steps of DUR s, a step is clean with 0 failed calls and 0
# retransmissions; a dirty step is retried once after GAP_BAD s (64·T1),
# the sweep stops at the second dirty result. Then one run at half the
# highest clean rate, captured on lo, gives INVITE → 200 p50/p99 at the
# caller with µs resolution (SIPp's own timers are in ms).
. "$(dirname "$0")/../lib.sh"

D=$(cd "$(dirname "$0")" && pwd)
OUT=$BENCH_OUT/sip
mkdir -p "$OUT"
cd "$OUT" || exit 1
STEPS=$OUT/steps.txt
: >"$STEPS"
HZ=$(getconf CLK_TCK)

if [ "$BENCH_QUICK" = 1 ]; then
	DUR=3; RATES="200 500"; GAP_OK=2; GAP_BAD=5
else
	DUR=10; RATES="500 1000 1500 1800 2100 2400 2700 3000"
	GAP_OK=5; GAP_BAD=35
fi
UAS_IP=127.0.0.3
UAC_IP=127.0.0.2

# --- the callee -----------------------------------------------------------
uas_start() {
	local n=50 out
	while ! port_free $P_UAS && [ $n -gt 0 ]; do sleep 0.2; n=$((n - 1)); done
	out=$(sipp -sf "$D/bench_uas.xml" -i $UAS_IP -p $P_UAS -nostdin -bg 2>&1)
	UAS_PID=$(echo "$out" | sed -n 's/.*PID=\[\([0-9]*\)\].*/\1/p')
	[ -n "$UAS_PID" ] || { echo "uas did not start: $out" >&2; return 1; }
	BENCH_PIDS="$BENCH_PIDS $UAS_PID"
	sleep 0.5
}

uas_stop() { [ -n "${UAS_PID:-}" ] && stop_pid "$UAS_PID"; UAS_PID=; }

udp_rcvbuf_errors() { awk '/^Udp:/ {n++} /^Udp:/ && n == 2 {print $6}' /proc/net/snmp; }

# csv_field FILE NAME: NAME's value in the last line of a SIPp stat file
csv_field() {
	awk -F';' -v k="$2" 'NR == 1 {for (i = 1; i <= NF; i++) if ($i == k) c = i}
		END {if (c) print $c}' "$1" 2>/dev/null |
		tail -1
}

# sock_drops PORT: the drop counter (d) of the UDP socket bound to PORT
sock_drops() {
	ss -Huamn "sport = :$1" 2>/dev/null | grep -o ',d[0-9]*' | head -1 | tr -d ,d
}

# late_180 FILE: calls the caller aborted because a 180 came after the
# 200 (a multi-process proxy reorders them: Kamailio's UDP workers). SIPp
# cannot accept it there, so such calls are counted apart, not as
# failures. The error file is cut to its first 400 lines afterwards.
late_180() {
	grep -c "Aborting call on unexpected message.*received 'SIP/2.0 180 " "$1" 2>/dev/null
	head -400 "$1" >"$1.head" 2>/dev/null
	mv -f "$1.head" "$1" 2>/dev/null
}

# step LABEL TARGET RATE MIDPIDS: one fixed-rate step; STEP line in
# steps.txt; returns 0 when clean: no failed call (late 180s apart) and
# no retransmission
step() {
	local l=$1 tgt=$2 r=$3 mid=$4 m c0 c1 u0 u1 t0 t1 csv ok fail re el cpu ms
	local mp=${tgt##*:} d0 d1 err late
	m=$((r * DUR)); csv=$OUT/stat_${l}_$r.csv; err=$OUT/err_${l}_$r.log
	rm -f "$csv" "$err"
	d0=$(sock_drops "$mp")
	c0=$(cpu_ticks $mid); u0=$(udp_rcvbuf_errors); t0=$(date +%s.%N)
	timeout -k 5 $((DUR + 40)) sipp "$tgt" -sf "$D/bench_uac.xml" -s bench \
		-i $UAC_IP -p $P_UAC -r "$r" -m "$m" -l $((r * 5)) \
		-recv_timeout 10000 -nostdin -trace_stat -stf "$csv" -fd 1 \
		-trace_err -error_file "$err" >"$OUT/uac_${l}_$r.out" 2>&1
	t1=$(date +%s.%N); c1=$(cpu_ticks $mid); u1=$(udp_rcvbuf_errors)
	d1=$(sock_drops "$mp")
	ok=$(csv_field "$csv" 'SuccessfulCall(C)'); ok=${ok:-0}
	fail=$(csv_field "$csv" 'FailedCall(C)'); fail=${fail:-$m}
	re=$(csv_field "$csv" 'Retransmissions(C)'); re=${re:-0}
	late=$(late_180 "$err"); late=${late:-0}
	el=$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')
	cpu=$(awk -v t=$((c1 - c0)) -v hz="$HZ" -v e="$el" 'BEGIN {printf "%.0f", t / hz * 100 / e}')
	ms=$(awk -v t=$((c1 - c0)) -v hz="$HZ" -v ok="$ok" 'BEGIN {if (ok > 0) printf "%.3f", t / hz * 1000 / ok; else print "—"}')
	[ -z "$mid" ] && cpu="—" && ms="—"
	echo "STEP label=$l rate=$r calls=$m ok=$ok failed=$fail retrans=$re cpu_pct=$cpu cpu_ms_per_call=$ms udp_drops=$((u1 - u0)) sock_drops=$(( ${d1:-0} - ${d0:-0} )) late180=$late" >>"$STEPS"
	note "sip: $l $r cps: $ok/$m ok, $fail failed ($late late 180), $re retransmissions, middle box $cpu % CPU"
	[ $((ok + late)) = "$m" ] && [ $((fail - late)) = 0 ] && [ "$re" = 0 ]
}

# sweep LABEL TARGET MIDPIDS: rising steps; BEST = the highest clean rate
sweep() {
	local l=$1 tgt=$2 mid=$3 r
	BEST=0
	uas_start || return 1
	for r in $RATES; do
		if step "$l" "$tgt" "$r" "$mid"; then
			BEST=$r; sleep $GAP_OK; continue
		fi
		sleep $GAP_BAD # stale retransmissions die out (64·T1)
		if step "$l-retry" "$tgt" "$r" "$mid"; then
			BEST=$r; sleep $GAP_OK; continue
		fi
		sleep $GAP_BAD
		break
	done
	uas_stop
	echo "BEST label=$l rate=$BEST" >>"$STEPS"
}

# setup_times PCAP: INVITE → 200 (INVITE) per Call-ID at the caller, ms
setup_times() {
	tshark -r "$1" -d udp.port==$P_UAC,sip -Y sip -T fields \
		-e frame.time_epoch -e udp.srcport -e sip.Call-ID \
		-e sip.Method -e sip.Status-Code -e sip.CSeq.method \
		-E separator=';' 2>/dev/null |
		awk -F';' -v p=$P_UAC '
		$2 == p && $4 == "INVITE" && !($3 in t0) {t0[$3] = $1}
		$2 != p && $5 == 200 && $6 == "INVITE" && !($3 in t1) {t1[$3] = $1}
		END {for (c in t1) if (c in t0) printf "%.3f\n", (t1[c] - t0[c]) * 1000}'
}

# half LABEL TARGET MIDPIDS: a clean-rate run at BEST/2, captured
half() {
	local l=$1 tgt=$2 mid=$3 r cap dpid
	r=$(( BEST / 100 * 50 )); [ $r -ge 50 ] || r=50
	cap=$OUT/half_$l.pcapng
	uas_start || return 1
	dumpcap -q -i lo -f "udp port $P_UAC" -w "$cap" >/dev/null 2>&1 &
	dpid=$!
	BENCH_PIDS="$BENCH_PIDS $dpid"
	sleep 1
	step "$l-half" "$tgt" "$r" "$mid"
	sleep 0.5
	stop_pid "$dpid"
	uas_stop
	setup_times "$cap" | sort -g >"$OUT/setup_ms_$l.txt"
	awk -v l="$l" -v r="$r" '{v[NR] = $1} END {
		if (!NR) {print "HALF label=" l " rate=" r " n=0"; exit}
		i50 = int(NR * 0.5 + 0.999); i99 = int(NR * 0.99 + 0.999)
		printf "HALF label=%s rate=%d n=%d p50_ms=%.3f p99_ms=%.3f\n", l, r, NR, v[i50], v[i99]}' \
		"$OUT/setup_ms_$l.txt" >>"$STEPS"
	rm -f "$cap"
}

# probe LABEL TARGET: 20 calls at 20 cps must all succeed
probe() {
	local csv=$OUT/probe_$1.csv ok
	uas_start || return 1
	timeout -k 5 30 sipp "$2" -sf "$D/bench_uac.xml" -s bench -i $UAC_IP \
		-p $P_UAC -r 20 -m 20 -recv_timeout 5000 -nostdin -trace_stat \
		-stf "$csv" -fd 1 -trace_err >"$OUT/probe_$1.out" 2>&1
	uas_stop
	ok=$(csv_field "$csv" 'SuccessfulCall(C)')
	PROBE_OK=${ok:-0}
	[ "$PROBE_OK" = 20 ]
}

# rcvbuf PORT: the SO_RCVBUF the kernel reports for that UDP socket
rcvbuf() {
	ss -Huamn "sport = :$1" 2>/dev/null | grep -o 'rb[0-9]*' | head -1 | tr -d rb
}

# measure LABEL TARGET MIDPIDS: sweep, then the half-rate run
measure() {
	sweep "$1" "$2" "$3" && [ "$BEST" -gt 0 ] && sleep $GAP_OK &&
		half "$1" "$2" "$3"
	sleep $GAP_OK
}

kamailio_start() {
	local k=$OUT/kamailio
	mkdir -p "$k"
	sed "s|BENCH_DIR|$k|; s|KAM_PORT|$P_KAM|g; s|UAS_URI|sip:$UAS_IP:$P_UAS|" \
		"$D/kamailio-bench.cfg.in" >"$k/kamailio-bench.cfg"
	kamailio -f "$k/kamailio-bench.cfg" -DD -E -m 256 -M 8 -Y "$k" \
		>"$k/kamailio.log" 2>&1 &
	KAM_PID=$!
	BENCH_PIDS="$BENCH_PIDS $KAM_PID"
	local n=50
	while port_free $P_KAM && [ $n -gt 0 ]; do sleep 0.2; n=$((n - 1)); done
	! port_free $P_KAM
}

# --- 1. sipp → sipp ------------------------------------------------------
note "sip: sipp → sipp (no middle box), $DUR s steps: $RATES"
measure direct $UAS_IP:$P_UAS ""

# --- 2. Kamailio -----------------------------------------------------------
if kamailio_start && probe kamailio 127.0.0.1:$P_KAM; then
	note "sip: sipp → Kamailio 5.6.3 (2 UDP workers) → sipp"
	echo "RCVBUF label=kamailio bytes=$(rcvbuf $P_KAM)" >>"$STEPS"
	measure kamailio 127.0.0.1:$P_KAM "$KAM_PID"
else
	echo "not measured: Kamailio did not start or failed the probe (${PROBE_OK:-0}/20 calls; kamailio/kamailio.log)" >"$OUT/reason-kamailio.txt"
fi
[ -n "${KAM_PID:-}" ] && stop_pid "$KAM_PID"

# --- 3. sharewayd ------------------------------------------------------------
# sw_measure LABEL [CONF]: one sharewayd sweep with that configuration
sw_measure() {
	local l=$1
	SW_PID=
	if ! sharewayd_start "$l-sip" ${2:+"$2"}; then
		echo "not measured: sharewayd did not start ($(grep -m1 ERROR "$BENCH_OUT/$l-sip.log" | cut -c1-160))" >"$OUT/reason-$l.txt"
	elif ! probe "$l" 127.0.0.1:$P_SW_SIP; then
		echo "not measured: sharewayd completed ${PROBE_OK:-0} of 20 probe calls (sip/probe_$l.out, $l-sip.log)" >"$OUT/reason-$l.txt"
	else
		note "sip: sipp → sharewayd ($l: B2BUA, edge → cms) → sipp"
		echo "RCVBUF label=$l bytes=$(rcvbuf $P_SW_SIP)" >>"$STEPS"
		measure "$l" 127.0.0.1:$P_SW_SIP "$SW_PID"
		kill -0 "$SW_PID" 2>/dev/null ||
			echo "$l exited during the run ($l-sip.log)" >"$OUT/died-$l.txt"
	fi
	[ -n "$SW_PID" ] && stop_pid "$SW_PID"
}

sw_measure sharewayd
# and once with the shipped receive buffer (4 MiB) instead of Kamailio's
sed -e 's/^udp_rmem = .*/udp_rmem = 4194304/' \
	-e "s|^rules_file = .*|rules_file = $BENCH_SRC/bench/conf/rules-bench.conf|" \
	"$BENCH_SRC/bench/conf/shareway-bench.conf" >"$OUT/shareway-bench-4m.conf"
sw_measure sharewayd-4m "$OUT/shareway-bench-4m.conf"

"$D/report.sh" "$OUT" "$DUR" >"$BENCH_OUT/sip.md"
