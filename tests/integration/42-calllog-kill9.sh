#!/bin/bash
# timeout: 90
# kill -9 under load: sharewayd writes synthetic calls (--synthetic-load,
# through the real emit API and writer thread) and is killed with SIGKILL.
# The database must pass PRAGMA integrity_check, and every call that
# ended more than one second before the kill must be there, complete with
# its verdict (calls end in uid order, so: no gap in the ids, and the
# newest complete call ended within the last second). The restarted
# daemon marks the interrupted calls lost and serves the CLI.
. "$SW_SRC/tests/lib.sh"

sed -e "s/:5060/:$(port 0)/g" -e "s/:3478/:$(port 1)/g" \
	"$SW_SRC/conf/shareway.conf" >"$SW_TMP/shareway.conf"
cp "$SW_SRC/conf/rules.conf" "$SW_TMP/"
STATE=$SW_TMP/state
rm -rf "$STATE"; mkdir -p "$STATE"
DB=$STATE/calls.db
SW="$SHAREWAY -c $SW_TMP/shareway.conf -s $STATE"
q() { sqlite3 "$DB" "$1"; }

"$SHAREWAYD" -c "$SW_TMP/shareway.conf" -s "$STATE" --synthetic-load 300 \
	>"$SW_TMP/d1.log" 2>&1 &
SW_DPID=$!; SW_PIDS="$SW_PIDS $SW_DPID"
wait_for "$SW_TMP/d1.log" ' ready' 15 || fail "sharewayd did not start"
[ "$(stat -c %a "$STATE/shareway.sock")" = 660 ] || fail "control socket mode is not 0660"
$SW status >"$SW_TMP/status1" || fail "status under load"
sleep 3
kill_us=$(date +%s%6N)
kill -9 "$SW_DPID"
wait "$SW_DPID" 2>/dev/null
grep -q "dropped" "$SW_TMP/d1.log" && fail "records were dropped under load"

[ "$(q 'PRAGMA integrity_check')" = ok ] || fail "integrity_check after kill -9"
n=$(q 'SELECT COUNT(*) FROM calls')
[ "$n" -gt 500 ] || fail "only $n calls written in 3 s at 300 calls/s"
[ "$(q 'SELECT COUNT(*) = MAX(id) FROM calls')" = 1 ] || fail "gap in the call ids"
last_end=$(q 'SELECT MAX(end_us) FROM calls WHERE end_us IS NOT NULL')
lag=$(( kill_us - last_end ))
[ "$lag" -lt 1000000 ] || fail "newest complete call ended ${lag} us before the kill"
[ "$(q 'SELECT COUNT(*) FROM calls WHERE end_us IS NULL AND id <
	(SELECT MAX(id) FROM calls WHERE end_us IS NOT NULL)')" = 0 ] ||
	fail "an older call lost its end"
[ "$(q 'SELECT COUNT(*) FROM calls WHERE end_us IS NOT NULL AND
	(verdict IS NULL OR media IS NULL)')" = 0 ] || fail "a complete call has no verdict"
[ "$(q 'SELECT COUNT(*) FROM calls WHERE synthetic = 0')" = 0 ] ||
	fail "synthetic calls not flagged"
ok "kill -9 after $n calls: intact, nothing that ended before $((lag / 1000)) ms lost"

open=$(q 'SELECT COUNT(*) FROM calls WHERE end_us IS NULL')
"$SHAREWAYD" -c "$SW_TMP/shareway.conf" -s "$STATE" >"$SW_TMP/d2.log" 2>&1 &
SW_DPID=$!; SW_PIDS="$SW_PIDS $SW_DPID"
wait_for "$SW_TMP/d2.log" ' ready' 15 || fail "sharewayd did not restart"
if [ "$open" -gt 0 ]; then
	grep -q "$open calls were in progress when sharewayd stopped" "$SW_TMP/d2.log" ||
		fail "restart did not report the $open interrupted calls"
fi
$SW status | grep -q "^sharewayd " || fail "status after restart"
$SW calls --since 1h --failed --limit 0 >"$SW_TMP/failed.out" || fail "calls --failed after restart"
[ "$(grep -c ' c-' "$SW_TMP/failed.out")" -ge "$(( n / 10 ))" ] ||
	fail "calls --failed lists too few calls"
$SW show "c-$n" | grep -q "^Verdict" || fail "show of the newest call"
sw_stop
[ "$(q "SELECT COUNT(*) FROM calls WHERE end_us IS NULL")" = 0 ] ||
	fail "interrupted calls not closed on restart"
[ "$(q "SELECT COUNT(*) FROM calls WHERE state = 'lost'")" = "$open" ] ||
	fail "lost calls miscounted"
[ "$(q 'PRAGMA integrity_check')" = ok ] || fail "integrity_check after restart"
ok "restart: $open interrupted calls marked lost, CLI served"
