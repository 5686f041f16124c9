#!/bin/bash
# timeout: 40
# After `make run` (tools/run.sh, what its recipe runs, as root like the
# README's quick start), the next command an operator types, `shareway
# status` with no option, reaches that daemon, and the daemon logs that
# CLI line. This test's mount namespace hides the machine's /var/lib and
# /etc/shareway: make run as root keeps the default state_dir,
# /var/lib/shareway, where the CLI looks without -c or -s.
. "$SW_SRC/tests/lib.sh"

[ "$(id -u)" = 0 ] || fail "run as root (make check runs each test in its own namespaces)"
mount -t tmpfs tmpfs /var/lib || fail "cannot hide /var/lib"
if [ -d /etc/shareway ]; then
	mount -t tmpfs tmpfs /etc/shareway || fail "cannot hide /etc/shareway"
fi

"$SW_SRC/tools/run.sh" "$SW_BUILD" "$SW_SRC" >"$SW_TMP/run.log" 2>&1 &
SW_DPID=$!; SW_PIDS="$SW_PIDS $SW_DPID"
wait_for "$SW_TMP/run.log" ' ready' 15 || { cat "$SW_TMP/run.log"; fail "make run: no ready line"; }
line=$(sed -n 's/.*operator CLI: //p' "$SW_TMP/run.log")
[ "$line" = "$SHAREWAY status" ] || fail "make run logs the CLI line '$line', want '$SHAREWAY status'"
ok "make run logs the CLI line: $line"

(cd / && $line) >"$SW_TMP/status.txt" 2>&1 ||
	{ cat "$SW_TMP/status.txt"; fail "'shareway status' does not reach the make-run daemon"; }
grep -q "^config .*/conf/shareway.conf$" "$SW_TMP/status.txt" &&
grep -q "^state dir  *//*var/lib/shareway$" "$SW_TMP/status.txt" ||
	{ cat "$SW_TMP/status.txt"; fail "status is not the make-run daemon's"; }
(cd / && "$SHAREWAY" calls) >/dev/null || fail "'shareway calls' does not find the make-run call log"
ok "shareway status and calls, with no option, reach the make-run daemon"
sw_stop
