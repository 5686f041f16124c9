#!/bin/bash
# timeout: 240
# What one sender can make the SIP side spend (issue 10, items 4 and 5),
# against one sharewayd with 1024 descriptors and the shipped limits:
#  - admission control is on by default (max_calls 5000, max_cps 800);
#  - TCP: 70 idle connections from one address: 6 reset at once
#    (tcp_max_per_source 64), the others closed after tcp_message_timeout,
#    while a connection that sent a request stays and is served;
#  - a stream of garbage and reset connections and datagrams gives a
#    bounded number of log lines, and every line of the log is in the
#    project's format (Sofia's own diagnostics included);
#  - 1,100 idle connections exhaust the descriptors: no spin (CPU < 50 %),
#    a few log lines, UDP served meanwhile, TCP served once they leave;
#  - a flood of 6,000 INVITEs to a callee that never answers, never ACKed:
#    at most max_calls calls, the rest shed with 503, OPTIONS answered, and
#    once Sofia's transactions are over (64*T1 after their end) RSS is back
#    within twice the idle baseline.
# The hostile senders are tests/sipp/limits.py.
. "$SW_SRC/tests/lib.sh"
. "$SW_SRC/tests/sipp/sip-lib.sh"

L="python3 $SIPP_DIR/limits.py"
sip_conf "tcp_message_timeout = 4"
sed -i -e 's/^log_level = debug/log_level = info/' -e '/^invite_timeout = /d' \
	-e 's/^\[general\]$/&\nmax_open_files = 1024/' "$SW_TMP/shareway.conf"
SHAREWAY_CLI="$SHAREWAY -c $SW_TMP/shareway.conf -s $SW_TMP/state"

# st KEY: a member of status's "daemon" object
st() {
	$SHAREWAY_CLI status --json | python3 -c \
		"import json,sys; print(json.load(sys.stdin)['daemon']['$1'])"
}
rss() { awk '/^VmRSS/ {print $2}' "/proc/$SW_DPID/status"; }
lines() { wc -l <"$SW_TMP/sharewayd.log"; }

# the daemon's soft limit only: the clients need more than 1024
soft=$(ulimit -Sn)
ulimit -Sn 1024
sw_start "$SW_TMP/shareway.conf"
ulimit -Sn "$soft"
[ "$(st sip_max_calls)" = 5000 ] && [ "$(st sip_max_cps)" = 800 ] ||
	fail "admission control not on by default: max_calls $(st sip_max_calls), max_cps $(st sip_max_cps)"
ok "admission control on by default: max_calls 5000, max_cps 800"
sleep 1
base=$(rss)

# 1. one address, many idle connections
$L conns "$P_GW" 64 4 || fail "per-source cap / tcp_message_timeout"
[ "$(st sip_tcp_refused)" -ge 6 ] && [ "$(st sip_tcp_closed)" -ge 64 ] ||
	fail "status: $(st sip_tcp_refused) reset, $(st sip_tcp_closed) closed"
ok "70 idle connections from one address: 6 reset, 64 closed after 4 s; a talking one kept"

# 2. garbage and resets: bounded lines, all in the project's format
n0=$(lines)
out=$($L garbage "$P_GW" 1000) || fail "garbage sender"
echo "$out"
secs=$(echo "$out" | sed -n 's/.* in \([0-9]*\)\..*/\1/p')
sleep 1
n=$(($(lines) - n0))
# a few kinds of line, each at most 5 a second, plus a count line each
[ "$n" -le $((40 * (secs + 3))) ] ||
	{ tail -n 30 "$SW_TMP/sharewayd.log"; fail "$n log lines for 2000 bad messages in ${secs}s"; }
ok "1000 garbage streams reset + 1000 garbage datagrams: $n log lines"

# 3. out of descriptors: no spin on the SIP listener
n0=$(lines)
$L fdflood "$P_GW" "$SW_DPID" 1100 || fail "descriptor exhaustion"
n=$(($(lines) - n0))
[ "$n" -le 100 ] || { tail -n 20 "$SW_TMP/sharewayd.log"; fail "$n log lines while out of descriptors"; }
grep -q "out of descriptors (Too many open files)" "$SW_TMP/sharewayd.log" ||
	fail "descriptor exhaustion not logged"
ok "out of descriptors: no spin, $n log lines, served again after"

bad=$(grep -Evc '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{12}Z (ERROR|WARN|NOTICE|INFO|DEBUG) +[a-z]+ ' \
	"$SW_TMP/sharewayd.log")
[ "$bad" = 0 ] || { grep -Ev '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{12}Z (ERROR|WARN|NOTICE|INFO|DEBUG) +[a-z]+ ' \
	"$SW_TMP/sharewayd.log" | head -5; fail "$bad log lines not in the project's format"; }
grep -q "WARN   sofia " "$SW_TMP/sharewayd.log" || fail "no Sofia line through the logger"
ok "every log line in the project's format, Sofia's included"

# 4. an INVITE flood, never ACKed, to a callee that never answers
$L sink 127.0.0.3 "$P_CMS" &
SW_PIDS="$SW_PIDS $!"
# datagrams the kernel dropped in this namespace (full receive buffers):
# an INVITE dropped there is neither a call nor shed, and on a loaded
# machine a few dozen of the 6,000 are
udp_drops() { awk '/^Udp:/ { if (h) print $6; h = 1 }' /proc/net/snmp; }
d0=$(udp_drops)
$L flood "$P_GW" 6000 || fail "flood sender"
# the INVITEs queued in the socket before it are served first
t=0
until $L options "$P_GW" udp; do
	t=$((t + 5)); [ $t -lt 60 ] || fail "OPTIONS not answered after the flood"
done
peak=$(rss)
calls=$(st sip_calls)
shed=$(st sip_overload_rejects)
drops=$(($(udp_drops) - d0))
[ "$calls" -le 5000 ] && [ "$shed" -gt 0 ] && [ $((shed + drops)) -ge 1000 ] ||
	fail "flood: $calls calls in progress, $shed shed, $drops datagrams dropped by the kernel (want <= 5000 calls, >= 1000 shed or dropped, some shed)"
ok "6000 INVITEs: $calls calls at most max_calls, $shed shed with 503 ($drops dropped by the kernel); OPTIONS answered (${t}+ s)"
# the calls end at invite_timeout (32 s), their transactions 64*T1 later
t0=$SECONDS
while [ $((SECONDS - t0)) -lt 150 ]; do
	[ "$(st sip_calls)" = 0 ] && [ "$(rss)" -le $((2 * base)) ] && break
	sleep 1
done
[ "$(rss)" -le $((2 * base)) ] ||
	fail "RSS $(rss) kB $((SECONDS - t0)) s after the flood (idle $base kB, peak $peak kB, $(st sip_calls) calls)"
ok "RSS idle $base kB, $peak kB after the flood, $(rss) kB $((SECONDS - t0)) s later"
sw_stop
