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
echo "=== integration tests (real daemon, real peers, 127.0.0.1)"
idx=0
for t in "$SRC"/tests/integration/[0-9]*.sh; do
	[ -e "$t" ] || continue
	[ -n "${SW_ONLY:-}" ] && [[ "$(basename "$t")" != *"$SW_ONLY"* ]] && continue
	idx=$((idx + 1))
	name=$(basename "$t" .sh)
	limit=$(sed -n 's/^# timeout: *\([0-9]*\).*/\1/p' "$t" | head -1)
	export SW_PORT_BASE=$((21000 + idx * 40))
	export SW_TMP=$SW_LOGDIR/$name
	mkdir -p "$SW_TMP"
	start=$(date +%s)
	# each test in its own network, mount and PID namespace (netns-run.sh):
	# loopback only, a DNS sink as resolver, and nothing it starts survives it
	timeout -k 5 "${limit:-120}" unshare --net --mount --pid --fork \
		--kill-child --mount-proc "$SRC/tests/netns-run.sh" "$t" \
		>"$SW_TMP/output.log" 2>&1
	rc=$?
	dur=$(( $(date +%s) - start ))
	if [ $rc = 0 ]; then
		passed=$((passed + 1)); echo "PASS $name (${dur}s)"
	else
		failed=$((failed + 1)); failures="$failures $name"
		[ $rc = 124 ] && why="timed out after ${limit:-120}s" || why="exit $rc"
		echo "FAIL $name ($why, ${dur}s); last lines of $SW_TMP/output.log:"
		tail -n 25 "$SW_TMP/output.log" | sed 's/^/    /'
	fi
done

[ -n "$failures" ] && echo "failed:$failures"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
