#!/bin/bash
# turn.sh: the RFC 6062 benchmarks (bench/turnbench), each run against
# direct loopback (where that means something), coturn 4.6.1 and sharewayd
# in the same run. Raw RESULT lines: $BENCH_OUT/turn/results.txt;
# the Markdown section: $BENCH_OUT/turn.md.
. "$(dirname "$0")/lib.sh"

OUT=$BENCH_OUT/turn
RAW=$OUT/results.txt
ERR=$OUT/stderr.txt
mkdir -p "$OUT"
: >"$RAW"; : >"$ERR"

if [ "$BENCH_QUICK" = 1 ]; then
	BYTES=256M; SECS=5; REPS=1; SETUP_N=100; ALLOC_N=300; ALLOC4_N=400
	CONNS=1000; ALLOCS=4
else
	BYTES=2G; SECS=15; REPS=3; SETUP_N=500; ALLOC_N=3000; ALLOC4_N=4000
	CONNS=10000; ALLOCS=10
fi

echo "PARAMS bytes=$BYTES secs=$SECS reps=$REPS setup_n=$SETUP_N alloc_n=$ALLOC_N alloc4_n=$ALLOC4_N conns=$CONNS allocs=$ALLOCS" >"$OUT/params.txt"

# --- the servers ---------------------------------------------------------
coturn_start() {
	local d=$OUT/coturn
	mkdir -p "$d"
	# no -v: coturn then logs errors only, as sharewayd at log_level warn
	turnserver -n --listening-ip=127.0.0.1 --relay-ip=127.0.0.1 \
		--listening-port=$P_COTURN --lt-cred-mech --realm=TANDBERG \
		--user=cms:cmssecret --fingerprint --allow-loopback-peers \
		--no-tls --no-dtls --no-cli --no-rfc5780 \
		--min-port=30200 --max-port=30499 --userdb="$d/turndb" \
		--log-file="$d/turnserver.log" --simple-log \
		--pidfile="$d/turnserver.pid" >"$d/stdout.log" 2>&1 &
	COTURN_PID=$!
	BENCH_PIDS="$BENCH_PIDS $COTURN_PID"
}

# probe NAME PORT: 0 when an authenticated TCP allocation works
probe() {
	local i
	for i in 1 2 3 4 5 6 7 8 9 10; do
		timeout 10 "$TURNBENCH" probe -s 127.0.0.1:$2 >"$OUT/probe-$1.txt" 2>&1 &&
			return 0
		sleep 0.5
	done
	return 1
}

# why_not NAME: one line on why a server cannot be measured
why_not() {
	local p
	p=$(grep -h 'PROBE fail\|turnbench:' "$OUT/probe-$1.txt" 2>/dev/null | tail -1)
	if [ "$1" = sharewayd ] && ! nm "$SHAREWAYD" 2>/dev/null | grep -q ' T relay_'; then
		echo "not measured: no RFC 6062 relay in sharewayd yet (turn/relay_*.c not built in; probe: ${p:-no answer})"
	else
		echo "not measured: $1 TURN probe failed (${p:-no answer})"
	fi
}

note "turn: starting coturn 4.6.1 on :$P_COTURN and sharewayd on :$P_SW_TURN"
coturn_start
SYSTEMS="direct"
if probe coturn $P_COTURN; then
	SYSTEMS="$SYSTEMS coturn"
else
	echo "$(why_not coturn)" >"$OUT/reason-coturn.txt"
fi
if sharewayd_start sharewayd-turn && probe sharewayd $P_SW_TURN; then
	SYSTEMS="$SYSTEMS sharewayd"
else
	[ -s "$OUT/probe-sharewayd.txt" ] ||
		echo "PROBE fail: sharewayd did not start (see sharewayd-turn.log)" >"$OUT/probe-sharewayd.txt"
	echo "$(why_not sharewayd)" >"$OUT/reason-sharewayd.txt"
fi
PID_coturn=$(cat "$OUT/coturn/turnserver.pid" 2>/dev/null || echo $COTURN_PID)
PID_sharewayd=${SW_PID:-0}
PORT_coturn=$P_COTURN
PORT_sharewayd=$P_SW_TURN

# tb SYSTEM LABEL MODE ARGS...: one turnbench run, bounded
tb() {
	local sys=$1 label=$2 mode=$3 pid port
	shift 3
	if [ "$sys" = direct ]; then
		set -- --direct "$@"
	else
		eval pid=\$PID_$sys port=\$PORT_$sys
		set -- -s 127.0.0.1:$port -p "$pid" "$@"
	fi
	echo "# $label: turnbench $mode $*" >>"$ERR"
	timeout -k 5 90 "$TURNBENCH" "$mode" -P 127.0.0.1:$P_PEER -l "$label" \
		-T 80 "$@" >>"$RAW" 2>>"$ERR" ||
		echo "$label $mode failed: $(tail -1 "$ERR")" >>"$OUT/failures.txt"
}

relayed() { for s in $SYSTEMS; do [ "$s" = direct ] || echo "$s"; done; }

note "turn: throughput, $REPS × $BYTES per system (cap ${SECS} s)"
for r in $(seq "$REPS"); do
	for s in $SYSTEMS; do
		tb "$s" "$s" throughput -b "$BYTES" -t "$SECS" -W 64K
	done
done
note "turn: setup latency, $SETUP_N peer-initiated connections"
for s in $SYSTEMS; do tb "$s" "$s" setup -n "$SETUP_N"; done
note "turn: allocation cycles, $ALLOC_N sequential, $ALLOC4_N over 4 clients"
for s in $(relayed); do
	tb "$s" "$s" alloc -n "$ALLOC_N" -c 1
	tb "$s" "$s-4c" alloc -n "$ALLOC4_N" -c 4
done
note "turn: $CONNS concurrent bridged connections over $ALLOCS allocations"
for s in $(relayed); do tb "$s" "$s" conns -C "$CONNS" -A "$ALLOCS"; done

"$(dirname "$0")/turn-report.sh" "$OUT" >"$BENCH_OUT/turn.md"
