#!/bin/bash
# timeout: 40
# After `make run` (tools/run.sh, what its recipe runs, as root like the
# README's quick start), the next command an operator types, `shareway
# status` with no option, reaches that daemon, and the daemon logs that
# CLI line. This test's mount namespace hides the machine's state and
# configuration directories (configure's: /var/lib and /etc/shareway as
# ./bootstrap configures): make run as root keeps the default state_dir,
# where the CLI looks without -c or -s.
. "$SW_SRC/tests/lib.sh"

[ "$(id -u)" = 0 ] || fail "run as root (make check runs each test in its own namespaces)"
help=$("$SHAREWAYD" --help)
state=$(printf '%s\n' "$help" | sed -n 's/^ *(default \(.*\))$/\1/p')
confdir=$(printf '%s\n' "$help" | sed -n 's/.*--config FILE.*(default \(.*\)\/[^/]*)$/\1/p')
[ -n "$state" ] && [ -n "$confdir" ] || fail "sharewayd --help names no default paths: $help"
[ -d "${state%/*}" ] || fail "the default state_dir's parent ${state%/*} does not exist (./bootstrap configures --localstatedir=/var)"
mount -t tmpfs tmpfs "${state%/*}" || fail "cannot hide ${state%/*}"
if [ -d "$confdir" ]; then
	mount -t tmpfs tmpfs "$confdir" || fail "cannot hide $confdir"
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
grep -q "^state dir  *$state$" "$SW_TMP/status.txt" ||
	{ cat "$SW_TMP/status.txt"; fail "status is not the make-run daemon's"; }
(cd / && "$SHAREWAY" calls) >/dev/null || fail "'shareway calls' does not find the make-run call log"
ok "shareway status and calls, with no option, reach the make-run daemon"
sw_stop
