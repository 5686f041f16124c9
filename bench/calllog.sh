#!/bin/bash
# calllog.sh: call-log writer records/s and `shareway calls --since 1h
# --failed` over 1,000,000 records, once the call-log generator exists
# (sharewayd --synthetic-load or a tools/ generator, sw_calllog_synth_call);
# until then one "not measured" line saying what is missing.
. "$(dirname "$0")/lib.sh"

OUT=$BENCH_OUT/calllog
mkdir -p "$OUT"
N=1000000
[ "$BENCH_QUICK" = 1 ] && N=50000

missing=""
"$SHAREWAYD" --help 2>&1 | grep -q -- '--synthetic-load' ||
	missing="sharewayd has no --synthetic-load"
gen=$(ls "$BENCH_BUILD"/tools/*synth* "$BENCH_SRC"/tools/*synth* 2>/dev/null | head -1)
[ -n "$gen" ] && missing=""
"$SHAREWAY" calls --help >/dev/null 2>&1 ||
	missing="${missing:+$missing, }no 'shareway calls' command"

{
	echo "### Call log: writer records/s and \`shareway calls --since 1h --failed\` on $N records"
	echo
	echo "| system | writer records/s | \`shareway calls --since 1h --failed\` |"
	echo "|---|---|---|"
	if [ -n "$missing" ]; then
		echo "| **sharewayd** | not measured: no synthetic call-log generator yet ($missing) | not measured |"
	else
		echo "| **sharewayd** | not measured: generator found ($gen) but bench/calllog.sh does not drive it yet | not measured |"
	fi
} >"$BENCH_OUT/calllog.md"
