#!/bin/bash
# run-tests.sh BUILDDIR: the whole `make check`.
#  1. tests/unit: every CUnit suite (its Run Summary is printed as is);
#  2. tests/integration/*.sh: the real sharewayd on 127.0.0.1 against real
#     peers (SIPp, turnutils_uclient, tshark), each bounded in time and run
#     in a private network namespace with a DNS sink (tests/netns-run.sh).
# Ends with one line "N passed, N failed" and exits non-zero on any failure.
set -u
BUILD=${1:-$(pwd)}
SRC=$(cd "$(dirname "$0")/.." && pwd)
export SW_BUILD=$BUILD SW_SRC=$SRC
export SW_TESTDATA=$SRC/tests/data
if [ -z "${SW_SHARED:-}" ]; then
	for d in "$SRC/../shared" "$SRC/shared" /work/shared; do
		[ -d "$d/corpus" ] && { SW_SHARED=$(cd "$d" && pwd); break; }
	done
fi
export SW_SHARED=${SW_SHARED:-$SRC/../shared}
export SW_LOGDIR=${SW_LOGDIR:-$BUILD/tests/logs}
rm -rf "$SW_LOGDIR"; mkdir -p "$SW_LOGDIR"

passed=0; failed=0; failures=""

# --- 1. unit suites ---------------------------------------------------------
# SW_SKIP_UNITS=1: integration tests only (tools/ci-extra.sh, whose ASan
# build has run the suites already)
if [ -z "${SW_SKIP_UNITS:-}" ]; then
	echo "=== unit suites (CUnit)"
	out=$SW_LOGDIR/unit.log
	(cd "$SRC" && timeout -k 5 600 "$BUILD/tests/unit") >"$out" 2>&1
	rc=$?
	cat "$out"
	read -r up uf < <(awk '$1 == "tests" && NF >= 5 {print $4, $5}' "$out")
	if [ -z "${up:-}" ]; then
		failed=$((failed + 1)); failures="$failures unit(no-summary,rc=$rc)"
	else
		passed=$((passed + up)); failed=$((failed + uf))
		if [ "$rc" != 0 ] && [ "$uf" = 0 ]; then
			failed=$((failed + 1)); failures="$failures unit(rc=$rc)"
		fi
		[ "$uf" != 0 ] && failures="$failures unit($uf)"
	fi
fi

# --- 2. integration ---------------------------------------------------------
# SW_JOBS tests at a time (default 3): each has its own namespaces, ports and
# directory, and most of a test's time is spent waiting on its peers, so
# running a few side by side shortens `make check` without sharing anything.
# A test's result line is printed when it ends; the summary counts them all.
echo "=== integration tests (real daemon, real peers, 127.0.0.1; ${SW_JOBS:-3} at a time)"

run_one() { # run_one TEST NAME: writes "rc seconds" to $SW_TMP/result
	local t=$1 limit start rc
	limit=$(sed -n 's/^# timeout: *\([0-9]*\).*/\1/p' "$t" | head -1)
	start=$(date +%s)
	# its own network, mount and PID namespace (netns-run.sh): loopback
	# only, a DNS sink as resolver, and nothing it starts survives it
	timeout -k 5 "${limit:-120}" unshare --net --mount --pid --ipc --fork \
		--kill-child --mount-proc "$SRC/tests/netns-run.sh" "$t" \
		>"$SW_TMP/output.log" 2>&1
	rc=$?
	echo "$rc $(( $(date +%s) - start )) ${limit:-120}" >"$SW_TMP/result"
}

report() { # report NAME: one PASS/FAIL line from its result file
	local name=$1 dir=$SW_LOGDIR/$1 rc dur limit why
	read -r rc dur limit <"$dir/result"
	if [ "$rc" = 0 ]; then
		passed=$((passed + 1)); echo "PASS $name (${dur}s)"
	else
		failed=$((failed + 1)); failures="$failures $name"
		[ "$rc" = 124 ] && why="timed out after ${limit}s" || why="exit $rc"
		echo "FAIL $name ($why, ${dur}s); last lines of $dir/output.log:"
		tail -n 25 "$dir/output.log" | sed 's/^/    /'
	fi
}

idx=0
declare -A running=() # pid -> test name
reap() { # wait for one test to end, report it
	local pid
	wait -n -p pid "${!running[@]}"
	report "${running[$pid]}"
	unset "running[$pid]"
}
for t in "$SRC"/tests/integration/[0-9]*.sh; do
	[ -e "$t" ] || continue
	[ -n "${SW_ONLY:-}" ] && [[ "$(basename "$t")" != *"$SW_ONLY"* ]] && continue
	idx=$((idx + 1))
	name=$(basename "$t" .sh)
	export SW_PORT_BASE=$((21000 + idx * 40))
	export SW_TMP=$SW_LOGDIR/$name
	mkdir -p "$SW_TMP"
	while [ "${#running[@]}" -ge "${SW_JOBS:-3}" ]; do reap; done
	run_one "$t" &
	running[$!]=$name
done
while [ "${#running[@]}" -gt 0 ]; do reap; done

[ -n "$failures" ] && echo "failed:$failures"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
