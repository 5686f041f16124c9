#!/bin/bash
# timeout: 120
# Descriptor exhaustion on the TURN listeners: sharewayd runs with 1024
# descriptors; 1,300 idle TCP clients take them all, and peers keep
# connecting to a TCP allocation's relayed address. Neither listener may
# spin (daemon CPU < 50 %, measured from /proc) or flood the log (< 1,000
# lines in 3 s: one rate-limited line), the allocation's owner keeps being
# served, and once the clients leave a new Allocate is served within 2 s.
# The raw client is tests/integration/turn_probe.py (scenario fdflood).
. "$SW_SRC/tests/lib.sh"

turn_setup
turn_conf "$SW_TMP/fds.conf" 1 "allow_peer = 127.0.0.0/8"
sed -i -e 's/^log_level = .*/log_level = info/' \
	-e 's/^relay_threads = .*/&\nmax_open_files = 1024/' "$SW_TMP/fds.conf"

# the daemon's soft limit only: the flooding client needs more than 1024
soft=$(ulimit -Sn)
ulimit -Sn 1024
sw_start "$SW_TMP/fds.conf"
ulimit -Sn "$soft"
grep -Eq "^Max open files +1024 " "/proc/$SW_DPID/limits" ||
	fail "sharewayd does not run with 1024 descriptors"

python3 "$SW_SRC/tests/integration/turn_probe.py" 127.0.0.1 "$(port 1)" \
	fdflood "$SW_DPID" "$SW_TMP/sharewayd.log" 1300 50 \
	>"$SW_TMP/probe.out" 2>&1
rc=$?
cat "$SW_TMP/probe.out"
[ $rc = 0 ] || fail "fdflood"
grep -q "accept on tcp:127.0.0.1:$(port 1).*Too many open files" \
	"$SW_TMP/sharewayd.log" || fail "descriptor exhaustion not logged"
kill -0 "$SW_DPID" || fail "sharewayd died"
ok "out of descriptors: no spin, bounded log, served again after"
sw_stop
