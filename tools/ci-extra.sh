#!/bin/bash
# ci-extra.sh: what CI runs besides `make check`:
#  1. the CUnit suites built with --enable-asan (ASan + UBSan, no recovery),
#     then sharewayd of that build against the SIP wire mutator
#     (tests/integration/32-sip-mutate.sh: 20,000 mutated messages);
#  2. every libFuzzer target (clang, --enable-fuzzing) for SW_FUZZ_SECS
#     seconds (default 30) from its seed corpus;
#  3. the Debian package (tests/deb-package.sh: dpkg-buildpackage in a
#     copy of the tree, lintian, its contents), too slow for make check.
# Each build is made in its own copy of the committed tree (git archive),
# so it never disturbs the in-tree build. Prints one PASS/FAIL line per
# step and exits non-zero if any failed.
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${SW_SHARED:-$SRC/../shared}
SECS=${SW_FUZZ_SECS:-30}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/shareway-ci.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
failed=0

step() { # step NAME CMD...: run, log to $WORK/NAME.log, report
	local name=$1; shift
	if "$@" >"$WORK/$name.log" 2>&1; then
		echo "PASS $name"
	else
		echo "FAIL $name (last lines of its log):"
		tail -n 30 "$WORK/$name.log" | sed 's/^/    /'
		failed=$((failed + 1))
	fi
}

tree() { # tree DIR CONFIGURE-ARGS...: a configured copy of HEAD
	local dir=$1; shift
	mkdir -p "$dir" &&
		(cd "$SRC" && git archive HEAD) | tar -x -C "$dir" &&
		(cd "$dir" && autoreconf -fi && ./configure "$@")
}

asan_units() {
	tree "$WORK/asan" --enable-asan || return 1
	make -C "$WORK/asan" -j"$(nproc)" tests/unit || return 1
	(cd "$WORK/asan" && SW_SHARED=$SHARED SW_TESTDATA=$WORK/asan/tests/data \
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		LSAN_OPTIONS=suppressions=$SRC/tests/lsan.supp \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ./tests/unit)
}

# sharewayd with ASan + UBSan under the SIP wire mutator; any report
# aborts the daemon, which the test sees (liveness, log, exit status)
asan_mutate() {
	[ -x "$WORK/asan/tests/unit" ] || return 1
	make -C "$WORK/asan" -j"$(nproc)" src/sharewayd src/shareway || return 1
	SW_SHARED=$SHARED SW_ONLY=32-sip-mutate SW_SKIP_UNITS=1 \
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		LSAN_OPTIONS=suppressions=$SRC/tests/lsan.supp \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		SW_LOGDIR=$WORK/asan-mutate-logs \
		"$WORK/asan/tests/run-tests.sh" "$WORK/asan" ||
		{ tail -n 40 "$WORK/asan-mutate-logs/32-sip-mutate/sharewayd.log"; return 1; }
}

FUZZ_TARGETS="fuzz_stun fuzz_frame_turn fuzz_frame_4571 fuzz_stun_decode
	fuzz_sdp fuzz_rules fuzz_sip fuzz_sipcap fuzz_calllog"

seeds() {
	case $1 in
	fuzz_sdp) echo "$SRC/tests/data/sdp $SHARED/corpus/sdp" ;;
	fuzz_rules) echo "$SRC/tests/data/rules/fuzz-seeds" ;;
	fuzz_sip) echo "$SHARED/corpus/sip-torture" ;;
	fuzz_sipcap) echo "$SRC/tests/data/sipcap" ;;
	fuzz_calllog) echo "$SRC/tests/data/cli $SRC/tests/data/stun" ;;
	*) echo "$SRC/tests/data/stun" ;;
	esac
}

fuzz_build() {
	local progs=""
	for t in $FUZZ_TARGETS; do progs="$progs tests/fuzz/$t"; done
	tree "$WORK/fuzz" CC=clang --enable-fuzzing || return 1
	make -k -C "$WORK/fuzz" -j"$(nproc)" $progs # each target on its own
}

fuzz_run() {
	local t=$1 corpus=$WORK/corpus-$1 dirs=""
	mkdir -p "$corpus"
	for d in $(seeds "$t"); do [ -d "$d" ] && dirs="$dirs $d"; done
	(cd "$WORK/fuzz" && SW_SHARED=$SHARED SW_TESTDATA=$SRC/tests/data \
		ASAN_OPTIONS=detect_leaks=1 \
		LSAN_OPTIONS=suppressions=$SRC/tests/lsan.supp \
		./tests/fuzz/"$t" -max_total_time="$SECS" -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 "$corpus" $dirs)
}

deb_package() {
	mkdir -p "$WORK/deb" &&
		SW_SRC=$SRC SW_TMP=$WORK/deb timeout 1200 bash "$SRC/tests/deb-package.sh"
}

step deb-package deb_package
step asan-units asan_units
step asan-mutate asan_mutate
step fuzz-build fuzz_build
for t in $FUZZ_TARGETS; do
	[ -x "$WORK/fuzz/tests/fuzz/$t" ] && step "$t-${SECS}s" fuzz_run "$t"
done
exit $((failed > 0))
