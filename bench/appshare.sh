#!/bin/bash
# appshare.sh: application sharing end to end through sharewayd (relay
# policy): setups/s one after the other and calls set up at once, driven
# by the tests' neighbours (bench/appshare.py over tests/harness and
# tests/appshare/e2e.py) with the tests' gateway configuration on the
# bench ports. There is no reference system for this flow (no other
# open-source gateway does it); the harness is Python, so setups/s is
# bounded by the harness, and sharewayd's CPU per setup is the figure to
# read for capacity.
. "$(dirname "$0")/lib.sh"

OUT=$BENCH_OUT/appshare
mkdir -p "$OUT/state"
MD=$BENCH_OUT/appshare.md
SEQ=30; PAR=12
[ "$BENCH_QUICK" = 1 ] && { SEQ=5; PAR=4; }
PORT_BASE=30900 # the harness uses PORT_BASE+4 .. +39 on 127.0.0.2/.3

table() {
	echo "### App sharing end to end: setups/s and concurrent calls (relay policy)"
	echo
	echo "Edge and conference played by tests/harness (Python): INVITE → 200 with sharewayd's relay candidates → the Edge's relay connects → ConnectionAttempt/ConnectionBind to the conference → MS-ICE2 checks both ways → completion re-INVITE at the conference; BYE after. No reference system exists for this flow."
	echo
	echo "| system | one after the other | at once |"
	echo "|---|---|---|"
	echo "| **sharewayd** | $1 | $2 |"
}

not_measured() {
	table "not measured: $1" "not measured"
	exit 0
}

[ -r "$BENCH_SRC/tests/appshare/e2e.py" ] && [ -r "$BENCH_SRC/tests/appshare/gateway.conf.in" ] ||
	not_measured "app-sharing flow not integrated yet (no tests/appshare/e2e.py)" >"$MD"

sed -e "s/@SIP_PORT@/$P_SW_SIP/g" -e "s/@TURN_PORT@/$P_SW_TURN/g" \
	-e "s/@RELAY_LO@/30500/" -e "s/@RELAY_HI@/30799/" \
	-e "s/^log_level = .*/log_level = notice/" \
	"$BENCH_SRC/tests/appshare/gateway.conf.in" >"$OUT/shareway.conf"
cp "$BENCH_SRC/tests/appshare/rules.conf" "$OUT/rules.conf"
sharewayd_start appshare "$OUT/shareway.conf" ||
	not_measured "sharewayd did not start with tests/appshare/gateway.conf.in (appshare.log)" >"$MD"

# py MODE COUNT: one harness run, its RESULT line in results.txt
py() {
	PYTHONPATH=$BENCH_SRC/tests PYTHONDONTWRITEBYTECODE=1 timeout -k 5 240 \
		/usr/bin/python3 "$BENCH_SRC/bench/appshare.py" --sip $P_SW_SIP \
		--turn $P_SW_TURN --port-base $PORT_BASE --shareway "$SHAREWAY" \
		--conf "$OUT/shareway.conf" --state "$OUT/state" --pid "$SW_PID" \
		"$1" "$2" >>"$OUT/results.txt" 2>>"$OUT/stderr.txt"
}

: >"$OUT/results.txt"; : >"$OUT/stderr.txt"
note "appshare: $SEQ calls one after the other, then $PAR at once"
py seq "$SEQ"; rc1=$?
py concurrent "$PAR"; rc2=$?
stop_pid "$SW_PID"

v() { grep "^RESULT mode=$1 " "$OUT/results.txt" | sed -n "s/.* $2=\([^ ]*\).*/\1/p"; }
why() { grep -v '^ok:\|^  \|^$' "$OUT/stderr.txt" | tail -1 | cut -c1-200; }
if [ $rc1 = 0 ] && [ -n "$(v seq n)" ]; then
	seq_cell="$(v seq n) calls: $(v seq calls_per_s) setups/s; setup p50 $(v seq p50_ms) ms, p99 $(v seq p99_ms) ms; sharewayd CPU $(v seq server_cpu_ms_per_call) ms per call"
else
	seq_cell="failed (exit $rc1): $(why)"
fi
if [ $rc2 = 0 ] && [ -n "$(v concurrent held)" ]; then
	rss=$(( $(v concurrent rss_kb_after) - $(v concurrent rss_kb_before) ))
	par_cell="$(v concurrent held) of $(v concurrent asked) set up and held (the harness's limit is 12), all within $(v concurrent slowest_ms) ms; sharewayd RSS +$rss kB, fds $(v concurrent fds_before) → $(v concurrent fds_after)"
else
	par_cell="failed (exit $rc2): $(why)"
fi
table "$seq_cell" "$par_cell" >"$MD"
