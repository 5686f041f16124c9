#!/bin/bash
# calllog.sh: the call-log writer's rate (tools/calllog-load: synthetic
# calls through the real writer thread, SQLite WAL, as sharewayd writes
# them) and `shareway calls --since 1h --failed` on the database it
# leaves, 1,000,000 calls over 30 days (quick mode: 20,000), next to the
# equivalent SELECT in the sqlite3 shell as the floor.
. "$(dirname "$0")/lib.sh"

OUT=$BENCH_OUT/calllog
DIR=$OUT/state
mkdir -p "$DIR"
rm -f "$DIR"/calls.db*
N=1000000
[ "$BENCH_QUICK" = 1 ] && N=20000
GEN=$BENCH_BUILD/tools/calllog-load
MD=$BENCH_OUT/calllog.md
REPS=5

header() {
	echo "### Call log: writer rate, and \`shareway calls --since 1h --failed\` on $N calls"
	echo
	echo "| what | result |"
	echo "|---|---|"
}

# timed OUTFILE CMD...: wall, user and sys seconds of one run
timed() {
	local out=$1 TIMEFORMAT='%R %U %S'
	shift
	{ time "$@" >"$out" 2>&1; } 2>&1
}

# median_ms FILE: median of the first column (s) of REPS lines, in ms
median_ms() {
	sort -g "$1" | awk '{v[NR] = $1} END {printf "%.1f", v[int((NR + 1) / 2)] * 1000}'
}

if [ ! -x "$GEN" ]; then
	{ header; echo "| **sharewayd** call-log writer | not measured: tools/calllog-load is not built |"; } >"$MD"
	exit 0
fi

note "calllog: $N synthetic calls through the writer"
timeout -k 5 900 "$GEN" "$DIR/calls.db" "$N" >"$OUT/load.txt" 2>&1
rc=$?
load=$(grep -E '^[0-9]+ calls' "$OUT/load.txt" | tail -1)
size=$(du -cb "$DIR"/calls.db* 2>/dev/null | awk 'END {printf "%.0f MB", $1 / 1e6}')

query_rows() {
	if "$SHAREWAY" calls --help >/dev/null 2>&1; then
		for _ in $(seq $REPS); do
			timed "$OUT/calls.txt" "$SHAREWAY" -s "$DIR" calls --since 1h --failed
		done >"$OUT/calls-times.txt"
		echo "| \`shareway -s DIR calls --since 1h --failed\` | median $(median_ms "$OUT/calls-times.txt") ms wall over $REPS runs (warm cache), $(($(wc -l <"$OUT/calls.txt") - 1)) calls listed |"
	else
		echo "| \`shareway calls --since 1h --failed\` | not measured: no 'shareway calls' command |"
	fi
	since=$(( $(date +%s) * 1000000 - 3600000000 ))
	for _ in $(seq $REPS); do
		timed "$OUT/sqlite.txt" sqlite3 -readonly "$DIR/calls.db" \
			"SELECT id, tag, start_us, end_us, from_uri, to_uri, rule, state, final_code, verdict, media FROM calls WHERE start_us >= $since AND failed = 1 ORDER BY start_us DESC"
	done >"$OUT/sqlite-times.txt"
	echo "| reference: the same SELECT in the sqlite3 shell | median $(median_ms "$OUT/sqlite-times.txt") ms wall over $REPS runs, $(wc -l <"$OUT/sqlite.txt") rows |"
}

{
	header
	if [ $rc != 0 ] || [ -z "$load" ]; then
		echo "| **sharewayd** call-log writer (tools/calllog-load) | failed (exit $rc): $(tail -1 "$OUT/load.txt") |"
	else
		echo "| **sharewayd** call-log writer (tools/calllog-load, $N calls) | $load; database $size |"
		query_rows
	fi
} >"$MD"
# the database is ~1.6 kB per call: keep it only when asked
[ "${BENCH_KEEP_DB:-0}" = 1 ] || rm -f "$DIR"/calls.db*
