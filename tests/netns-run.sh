#!/bin/bash
# netns-run.sh TEST.sh: run one integration test in a private network,
# mount and PID namespace (run-tests.sh calls it under unshare).
#  - network: only `lo`, up: the test and every daemon it starts can reach
#    127.0.0.0/8 and ::1 and nothing else, and two test runs on one machine
#    never share a port;
#  - DNS: /etc/resolv.conf is replaced (in this mount namespace only) by one
#    naming 127.0.0.1, where tests/dns_sink.py records every query and
#    answers REFUSED; any query fails the test (exit 97), since the daemon
#    must never look up a name during a test;
#  - PIDs: this script is PID 1 of the namespace, so when it exits the
#    kernel kills whatever the test left behind.
set -u
t=$1
ip link set lo up || { echo "netns-run: cannot bring lo up" >&2; exit 98; }
printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"$SW_TMP/resolv.conf"
mount --bind "$SW_TMP/resolv.conf" /etc/resolv.conf ||
	{ echo "netns-run: cannot replace /etc/resolv.conf" >&2; exit 98; }
dnslog=$SW_TMP/dns-queries.log
: >"$dnslog"
python3 "$SW_SRC/tests/dns_sink.py" "$dnslog" >"$SW_TMP/dns-sink.out" 2>&1 &
sink=$!
for _ in $(seq 50); do
	grep -q ready "$SW_TMP/dns-sink.out" 2>/dev/null && break
	sleep 0.1
done
grep -q ready "$SW_TMP/dns-sink.out" ||
	{ echo "netns-run: DNS sink did not start" >&2; cat "$SW_TMP/dns-sink.out" >&2; exit 98; }
bash "$t"
rc=$?
kill "$sink" 2>/dev/null
n=$(wc -l <"$dnslog")
if [ "$n" != 0 ]; then
	echo "FAIL: $n DNS queries during the test (the daemon must resolve no name):"
	head -n 10 "$dnslog" | sed 's/^/    /'
	[ $rc = 0 ] && rc=97
fi
exit $rc
