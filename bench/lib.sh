# lib.sh: helpers for the bench/*.sh scripts (sourced).
# Environment from run-all.sh: BENCH_BUILD BENCH_SRC BENCH_OUT BENCH_QUICK.
# Everything started is killed on exit; every wait is bounded.
set -u
BENCH_BUILD=${BENCH_BUILD:?run through bench/run-all.sh}
BENCH_SRC=${BENCH_SRC:?}
BENCH_OUT=${BENCH_OUT:?}
BENCH_QUICK=${BENCH_QUICK:-0}
SHAREWAYD=$BENCH_BUILD/src/sharewayd
SHAREWAY=$BENCH_BUILD/src/shareway
TURNBENCH=$BENCH_BUILD/bench/turnbench
BENCH_PIDS=""

# Ports: 30000-30999 only (the tests use 21000-22999).
P_PEER=30010          # turnbench's peer listener
P_COTURN=30100        # coturn; its relays take 30200-30499
P_SW_TURN=30101       # sharewayd TURN (bench/conf/shareway-bench.conf)
P_KAM=30050           # Kamailio
P_SW_SIP=30060        # sharewayd SIP
P_UAC=30070           # SIPp caller on 127.0.0.2
P_UAS=30080           # SIPp callee on 127.0.0.3

bench_cleanup() {
	for p in $BENCH_PIDS; do kill "$p" 2>/dev/null; done
	sleep 0.3
	for p in $BENCH_PIDS; do kill -9 "$p" 2>/dev/null; done
	return 0
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

note() { echo "[$(date +%H:%M:%S)] $*" >&2; }

# wait_for FILE REGEX SECS: until a line matches or time runs out
wait_for() {
	local f=$1 re=$2 n=$(( ${3:-10} * 10 ))
	while [ $n -gt 0 ]; do
		grep -Eq -- "$re" "$f" 2>/dev/null && return 0
		sleep 0.1; n=$((n - 1))
	done
	return 1
}

# port_free PORT: no TCP/UDP socket bound to it on 127.0.0.x
port_free() {
	! ss -Htuln 2>/dev/null | awk '{print $5}' | grep -Eq "^127\.0\.0\.[0-9]+:$1\$"
}

# stop_pid PID: SIGTERM, up to 5 s, then SIGKILL
stop_pid() {
	local p=$1 n=50
	kill "$p" 2>/dev/null || return 0
	while kill -0 "$p" 2>/dev/null && [ $n -gt 0 ]; do
		sleep 0.1; n=$((n - 1))
	done
	kill -9 "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	return 0
}

# cpu_ticks PID...: utime+stime of these processes and their children
cpu_ticks() {
	local t=0 p kids
	for p in "$@"; do
		kids=$(ps -o pid= --ppid "$p" 2>/dev/null)
		for q in $p $kids; do
			[ -r "/proc/$q/stat" ] || continue
			set -- $(sed 's/.*) //' "/proc/$q/stat" 2>/dev/null)
			t=$((t + ${12:-0} + ${13:-0}))
		done
	done
	echo $t
}

# rv FILE LABEL KEY: KEY's value in the RESULT line of FILE with label=LABEL
# (the median over repeated runs when there are several)
rv() {
	grep "^RESULT .* label=$2 " "$1" 2>/dev/null |
		sed -n "s/.* $3=\([^ ]*\).*/\1/p" | sort -g |
		awk '{v[NR] = $1} END {if (NR) print v[int((NR + 1) / 2)]}'
}

# rall FILE LABEL KEY: every run's value, comma-separated
rall() {
	grep "^RESULT .* label=$2 " "$1" 2>/dev/null |
		sed -n "s/.* $3=\([^ ]*\).*/\1/p" | paste -sd, - | sed 's/,/, /g'
}

# ratio A B [DIGITS]: A/B, or "—" when either is missing or B is 0
ratio() {
	awk -v a="${1:-}" -v b="${2:-}" -v d="${3:-2}" 'BEGIN {
		if (a == "" || b == "" || b + 0 == 0) { print "—"; exit }
		printf "%.*f\n", d, a / b }'
}

# sharewayd_start NAME [CONF]: the daemon with the bench config (or
# CONF), its log in BENCH_OUT/NAME.log; sets SW_PID; fails if it does not
# say "ready"
sharewayd_start() {
	local log=$BENCH_OUT/$1.log
	mkdir -p "$BENCH_OUT/state-$1"
	"$SHAREWAYD" -c "${2:-$BENCH_SRC/bench/conf/shareway-bench.conf}" \
		--state-dir "$BENCH_OUT/state-$1" >"$log" 2>&1 &
	SW_PID=$!
	BENCH_PIDS="$BENCH_PIDS $SW_PID"
	if ! wait_for "$log" ' ready' 15; then
		stop_pid "$SW_PID"
		return 1
	fi
	return 0
}

machine_line() {
	echo "$(nproc) × $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), kernel $(uname -r), $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo) RAM"
}
