#!/bin/bash
# summary.sh RESULTS_DIR: the Markdown summary of one `make bench` run
# (machine, then each benchmark's table), as docs/BENCHMARKS.md shows it.
# Re-running turn-report.sh / sip/report.sh first regenerates the tables
# from the raw results.
set -u
OUT=${1:?usage: summary.sh bench/results/TIMESTAMP}
STAMP=$(basename "$OUT")
echo "## Results $STAMP ($(sed -n 's/^mode: //p' "$OUT/machine.txt"))"
echo
echo '```'
cat "$OUT/machine.txt"
echo '```'
for name in turn sip calllog appshare cluster; do
	[ -s "$OUT/$name.md" ] || continue
	echo
	cat "$OUT/$name.md"
done
echo
echo "Raw results: bench/results/$STAMP/"
