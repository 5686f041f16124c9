#!/bin/bash
# run-all.sh BUILDDIR: `make bench`. Every benchmark in sequence, each
# side by side with its reference in the same run, then one Markdown
# summary (the one docs/BENCHMARKS.md reproduces) on stdout and in
# bench/results/<timestamp>/summary.md, next to the raw results.
#
#   BENCH_QUICK=1   seconds per benchmark, for smoke checks (default: full)
#   BENCH_ONLY=turn,sip,calllog,appshare,cluster   a subset
#
# All servers on 127.0.0.x, ports 30000-30999; every process is killed at
# the end; every benchmark is bounded in time.
set -u
BUILD=$(cd "${1:-.}" && pwd)
SRC=$(cd "$(dirname "$0")/.." && pwd)
STAMP=$(date +%Y%m%d-%H%M%S)
OUT=${BENCH_RESULTS:-$SRC/bench/results}/$STAMP
QUICK=${BENCH_QUICK:-0}
ONLY=${BENCH_ONLY:-turn,sip,calllog,appshare,cluster}
mkdir -p "$OUT"
export BENCH_BUILD=$BUILD BENCH_SRC=$SRC BENCH_OUT=$OUT BENCH_QUICK=$QUICK

[ -x "$BUILD/bench/turnbench" ] && [ -x "$BUILD/src/sharewayd" ] || {
	echo "run-all.sh: build first (make), then make bench" >&2
	exit 2
}

# --- the machine and the tools ------------------------------------------
{
	echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "mode: $([ "$QUICK" = 1 ] && echo "quick (BENCH_QUICK=1)" || echo full)"
	echo "nproc: $(nproc)"
	echo "cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
	echo "kernel: $(uname -r)"
	echo "memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
	echo "os: $(. /etc/os-release 2>/dev/null; echo "${PRETTY_NAME:-unknown}")"
	echo "open files (soft/hard): $(ulimit -Sn)/$(ulimit -Hn); fs.file-max $(cat /proc/sys/fs/file-max)"
	echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "sharewayd: $("$BUILD/src/sharewayd" -V 2>&1), git $(git -C "$SRC" rev-parse --short HEAD 2>/dev/null)"
	echo "coturn: $(turnserver -h 2>&1 | grep -o 'Coturn-[0-9.]*' | head -1; dpkg-query -W -f='${Version}' coturn 2>/dev/null)"
	echo "kamailio: $(kamailio -v 2>/dev/null | sed -n 's/^version: //p')"
	echo "sipp: $(sipp -v 2>/dev/null | grep -o 'v[0-9][0-9.]*' | head -1)"
} >"$OUT/machine.txt"

run_one() {
	local name=$1 script=$2 limit=$3 t0 rc
	case ",$ONLY," in *",$name,"*) ;; *) return 0 ;; esac
	t0=$(date +%s)
	echo "[$(date +%H:%M:%S)] === $name" >&2
	timeout -k 10 "$limit" bash "$SRC/bench/$script" >"$OUT/$name.out" 2>"$OUT/$name.err"
	rc=$?
	cat "$OUT/$name.err" >&2
	echo "[$(date +%H:%M:%S)] === $name done in $(( $(date +%s) - t0 )) s (exit $rc)" >&2
	if [ ! -s "$OUT/$name.md" ]; then
		{
			echo "### $name"
			echo
			echo "not measured: bench/$script ended with exit $rc before writing its table (see $name.err)"
		} >"$OUT/$name.md"
	fi
}

if [ "$QUICK" = 1 ]; then
	run_one turn turn.sh 240
	run_one sip sip/run.sh 300
	run_one calllog calllog.sh 120
else
	run_one turn turn.sh 900
	run_one sip sip/run.sh 1500
	run_one calllog calllog.sh 600
fi
if [ "$QUICK" = 1 ]; then
	run_one appshare appshare.sh 300
	run_one cluster cluster.sh 300
else
	run_one appshare appshare.sh 900
	run_one cluster cluster.sh 600
fi

# --- the summary ---------------------------------------------------------
"$SRC/bench/summary.sh" "$OUT" >"$OUT/summary.md"
cat "$OUT/summary.md"
