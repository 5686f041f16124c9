#!/bin/bash
# turn-report.sh DIR: the Markdown tables of the TURN benchmarks from the
# raw files bench/turn.sh left in DIR (results.txt, reason-*.txt,
# failures.txt). Can be re-run on an old results directory.
set -u
D=${1:?usage: turn-report.sh RESULTS/turn}
RAW=$D/results.txt
BENCH_BUILD=. BENCH_SRC=. BENCH_OUT=. . "$(dirname "$0")/lib.sh"
trap - EXIT

name() {
	case $1 in
	direct) echo "direct loopback (no relay)" ;;
	coturn*) echo "coturn 4.6.1" ;;
	sharewayd*) echo "**sharewayd**" ;;
	esac
}

# missing SYS LABEL MODE NCOLS: the row of a system that has no RESULT
missing() {
	local why
	if [ -s "$D/reason-${1}.txt" ]; then
		why=$(cat "$D/reason-${1}.txt")
	else
		why=$(grep -h "^$2 $3 failed" "$D/failures.txt" 2>/dev/null | tail -1)
		why="failed: ${why:-no result}"
	fi
	printf '| %s | %s |' "$(name "$1")" "$why"
	for _ in $(seq 3 "$4"); do printf ' |'; done
	echo
}

has() { grep -q "^RESULT mode=$2 label=$1 " "$RAW" 2>/dev/null; }
v() { rv "$RAW" "$1" "$2"; }
# vm MODE LABEL KEY: value from that mode's line only
vm() { grep "^RESULT mode=$1 " "$RAW" | rv /dev/stdin "$2" "$3"; }

throughput_table() {
	local d c
	d=$(vm throughput direct gbps); c=$(vm throughput coturn gbps)
	echo "| system | Gbit/s (median) | every run | server CPU-s per GB | vs direct (target ≥ 80 %) | vs coturn (target ≥ 5×) | bytes not delivered (all runs) |"
	echo "|---|---|---|---|---|---|---|"
	for s in direct coturn sharewayd; do
		if ! has "$s" throughput; then missing "$s" "$s" throughput 7; continue; fi
		local g cpu
		g=$(vm throughput "$s" gbps)
		cpu=$(vm throughput "$s" server_cpu_s_per_gb)
		[ "$s" = direct ] && cpu="—"
		echo "| $(name "$s") | $g | $(grep '^RESULT mode=throughput ' "$RAW" | rall /dev/stdin "$s" gbps) | $cpu | $(awk -v a="$g" -v b="$d" 'BEGIN { if (b + 0 > 0) printf "%.0f %%", 100 * a / b; else print "—" }') | $( [ "$s" = direct ] && echo "—" || echo "$(ratio "$g" "$c" 1)×") | $(lost "$s") |"
	done
}

# lost LABEL: bytes sent but never received, summed over the runs
lost() {
	grep "^RESULT mode=throughput label=$1 " "$RAW" |
		sed 's/.* sent=\([0-9]*\) received=\([0-9]*\).*/\1 \2/' |
		awk '{l += $1 - $2} END {print l + 0}'
}

setup_table() {
	local c50 c99
	c50=$(vm setup coturn p50_ms); c99=$(vm setup coturn p99_ms)
	echo "| system | connections | p50 ms | p99 ms | mean ms | server CPU ms per connection | p50 / p99 vs coturn (target ≤ 0.25) |"
	echo "|---|---|---|---|---|---|---|"
	for s in direct coturn sharewayd; do
		if ! has "$s" setup; then missing "$s" "$s" setup 7; continue; fi
		local cpu
		cpu=$(vm setup "$s" server_cpu_ms_per_conn)
		[ "$s" = direct ] && cpu="—"
		echo "| $(name "$s") | $(vm setup "$s" n) | $(vm setup "$s" p50_ms) | $(vm setup "$s" p99_ms) | $(vm setup "$s" mean_ms) | $cpu | $( [ "$s" = coturn ] && echo "1 / 1" || echo "$(ratio "$(vm setup "$s" p50_ms)" "$c50") / $(ratio "$(vm setup "$s" p99_ms)" "$c99")") |"
	done
}

alloc_table() {
	echo "| system | clients | cycles | cycles/s | p50 ms | p99 ms | server CPU ms per cycle (→ cycles/s per core) | vs coturn (target ≥ 2×) |"
	echo "|---|---|---|---|---|---|---|---|"
	echo "| direct loopback | — | — | no server: not applicable | | | | |"
	for suffix in "" -4c; do
		for s in coturn sharewayd; do
			local l=$s$suffix
			if ! has "$l" alloc; then missing "$s" "$l" alloc 8; continue; fi
			echo "| $(name "$s") | $(vm alloc "$l" clients) | $(vm alloc "$l" n) | $(vm alloc "$l" per_s) | $(vm alloc "$l" p50_ms) | $(vm alloc "$l" p99_ms) | $(vm alloc "$l" server_cpu_ms_per_cycle) (→ $(awk -v c="$(vm alloc "$l" server_cpu_ms_per_cycle)" 'BEGIN { if (c > 0) printf "%.0f", 1000 / c; else print "—" }')) | $(ratio "$(vm alloc "$l" per_s)" "$(vm alloc "coturn$suffix" per_s)")× |"
		done
	done
}

conns_table() {
	echo "| system | bridged connections held (asked) | verified both ways | bridged per s | server RSS before → after (kB) | user-space bytes per connection (target ≤ 2048) | server fds before → after | fds per connection |"
	echo "|---|---|---|---|---|---|---|---|"
	echo "| direct loopback | — | — | no server: not applicable | | | | |"
	for s in coturn sharewayd; do
		if ! has "$s" conns; then missing "$s" "$s" conns 8; continue; fi
		local held cap
		held="$(vm conns "$s" conns) ($(vm conns "$s" of))"
		cap=$(vm conns "$s" capped_by_fd_limit)
		[ "${cap:-0}" != 0 ] && held="$held, capped by the server's fd limit $cap"
		echo "| $(name "$s") | $held | $(vm conns "$s" verified) | $(vm conns "$s" per_s) | $(vm conns "$s" rss_kb_before) → $(vm conns "$s" rss_kb_after) | $(vm conns "$s" rss_b_per_conn) | $(vm conns "$s" fds_before) → $(vm conns "$s" fds_after) | $(vm conns "$s" fds_per_conn) |"
	done
}

# p KEY: a run parameter from params.txt
p() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" "$D/params.txt" 2>/dev/null; }

echo "### TURN (RFC 6062) throughput: one TCP stream, client → peer, 64 KiB writes"
echo
echo "$(p bytes) per run (at most $(p secs) s), runs per system: $(p reps), interleaved; the median is shown. The peer is a separate process; Gbit/s from its first to its last read. Server CPU: the sum of its threads' schedstat run time."
echo
throughput_table
echo
echo "### RFC 6062 setup latency: peer's connect to the relayed address → first relayed byte at the client"
echo
echo "$(p setup_n) sequential connections on one allocation: the peer connects and writes one byte, the client takes the ConnectionAttempt, opens a data connection, sends ConnectionBind and reads the byte. Direct: connect, write, accept, read."
echo
setup_table
echo
echo "### Authenticated allocation cycles: TCP connect, Allocate → 401 → Allocate with credentials, Refresh lifetime 0"
echo
echo "$(p alloc_n) cycles from one client, then $(p alloc4_n) from 4 parallel clients (threads); a fresh TCP connection per cycle."
echo
alloc_table
echo
echo "### Concurrent bridged TCP connections (RFC 6062, peer-initiated, several allocations)"
echo
echo "$(p conns) connections asked over $(p allocs) allocations; peers in a separate process. The first 64 carry one byte each way, then the server's fds per connection cap the count under its open-file limit; all then carry one byte each way. RSS from /proc/PID/status before the first and after the last connection."
echo
conns_table
