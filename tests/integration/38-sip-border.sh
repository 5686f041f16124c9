#!/bin/bash
# timeout: 150
# Border-safe SIP (issue 10, items 1-3), from the Edge zone with SIPp:
#  - an INVITE whose Contact is tel:, mailto: or scheme-less, or whose
#    Record-Route is not a SIP URI, gets 400 before any dialog exists (the
#    landed 28c2e2a relayed it, and its BYE at Timer H or at shutdown
#    crashed the daemon);
#  - a callee whose 200 carries such a Contact or Record-Route gets ACK and
#    BYE (sent to the hop the call went to), one whose 180 does a CANCEL,
#    and the caller 502;
#  - a caller whose Contact and Record-Route name hosts nobody resolves gets
#    the callee's BYE back the way its INVITE came: the DNS sink of
#    tests/netns-run.sh fails the test on any lookup;
#  - SIGTERM with a call up: BYE on both legs, exit 0 within the bound, no
#    FATAL or assertion.
. "$SW_SRC/tests/lib.sh"
. "$SW_SRC/tests/sipp/sip-lib.sh"

sip_start "max_uri_length = 900"
C_OK="Contact: <sip:alice@127.0.0.2:$P_EDGE>"

# hostile CODE RURI TO HDR1 HDR2: an INVITE shaped so, answered CODE
hostile() {
	SCN_SET="CODE=$1
RURI=$2
TO=$3
HDR1=$4
HDR2=$5" uac uac_hostile 127.0.0.2 "$P_EDGE" x 1 "$OFFER"
}

# 1. dialog-forming requests: Contact and Record-Route must be SIP URIs
for c in '<tel:+15551234567>' '<mailto:er@example.net>' '<er@host.example.net>'; do
	hostile 400 "sip:4321@conf.example" "<sip:4321@conf.example>" \
		"Contact: $c" "X-Test: contact" ||
		{ show uac_hostile; fail "Contact $c not refused with 400"; }
done
hostile 400 "sip:4321@conf.example" "<sip:4321@conf.example>" "$C_OK" \
	"Record-Route: <tel:+15551234567>" ||
	{ show uac_hostile; fail "Record-Route tel: not refused with 400"; }
hostile 400 "sip:4321@conf.example" "<sip:4321@conf.example>" \
	"X-Test: no-contact" "X-Test: none" ||
	{ show uac_hostile; fail "INVITE without Contact not refused with 400"; }
ok "INVITEs with a tel:, mailto:, scheme-less or no Contact, or a tel: Record-Route: 400"

# 2. dialog-forming responses: the callee's 200 ends its leg, the caller 502
for c in '<tel:+15551234567>' '<er@host.example.net>'; do
	SCN_SET="CONTACT=$c
HDR=X-Test: answer" uas uas_contact 127.0.0.3 "$P_CMS" 1 "$ANSWER"
	hostile 502 "sip:4321@conf.example" "<sip:4321@conf.example>" "$C_OK" \
		"X-Test: caller" || { show uac_hostile; fail "200 with Contact $c: caller did not get 502"; }
	uas_wait || { show uas_contact; fail "200 with Contact $c: no ACK and BYE"; }
done
SCN_SET="CONTACT=<sip:conf@127.0.0.3:$P_CMS>
HDR=Record-Route: <mailto:rr@example.net>" uas uas_contact 127.0.0.3 "$P_CMS" 1 "$ANSWER"
hostile 502 "sip:4321@conf.example" "<sip:4321@conf.example>" "$C_OK" \
	"X-Test: caller" || { show uac_hostile; fail "200 with a mailto: Record-Route: caller did not get 502"; }
uas_wait || { show uas_contact; fail "200 with a mailto: Record-Route: no ACK and BYE"; }
SCN_SET="CONTACT=<mailto:er@example.net>" uas uas_early_contact 127.0.0.3 "$P_CMS" 1 ""
hostile 502 "sip:4321@conf.example" "<sip:4321@conf.example>" "$C_OK" \
	"X-Test: caller" || { show uac_hostile; fail "180 with a mailto: Contact: caller did not get 502"; }
uas_wait || { show uas_early_contact; fail "180 with a mailto: Contact: no CANCEL"; }
grep -q 'leg B\] 200 from .*Contact is not a SIP or SIPS URI.*leg ended' "$SW_TMP/sharewayd.log" ||
	fail "no log line for the refused 200"
ok "200 with a tel: or scheme-less Contact or a mailto: Record-Route: ACK + BYE; 180 with a mailto: Contact: CANCEL; caller 502"

# 3. names in a caller's Contact and Record-Route are never looked up
uas uas_bye 127.0.0.3 "$P_CMS" 1 "$ANSWER"
SCN_SET="HOST=host.example.net" uac uac_named 127.0.0.2 "$P_EDGE" 4321 1 "$OFFER" ||
	{ show uac_named; fail "BYE toward named Contact/Record-Route"; }
uas_wait || fail "callee of the named call"
ok "BYE to a caller whose Contact and Record-Route are names: sent back the way it came"

# 3b. long fields ([sip] max_uri_length = 900 here): a Request-URI or To
# URI of 512 bytes or more is routed like any other (the landed 28c2e2a
# answered 500: a 512-byte buffer); beyond the limit, 414 and 400
long() { head -c "$1" /dev/zero | tr '\0' "$2"; }
u600="sip:$(long 600 7)@conf.example"
u950="sip:$(long 950 7)@conf.example"
uas uas_refuse 127.0.0.3 "$P_CMS" 1 ""
hostile 486 "$u600" "<sip:4321@conf.example>" "$C_OK" "X-Test: long-ruri" ||
	{ show uac_hostile; fail "a 600-byte Request-URI was not routed"; }
uas_wait || fail "callee of the 600-byte Request-URI"
uas uas_refuse 127.0.0.3 "$P_CMS" 1 ""
hostile 486 "sip:4321@conf.example" "<sip:$(long 700 t)@conf.example>" "$C_OK" "X-Test: long-to" ||
	{ show uac_hostile; fail "a 700-byte To URI was not routed"; }
uas_wait || fail "callee of the 700-byte To URI"
kill "$UAS_PID" 2>/dev/null
hostile 414 "$u950" "<sip:4321@conf.example>" "$C_OK" "X-Test: too-long-ruri" ||
	{ show uac_hostile; fail "a 950-byte Request-URI did not get 414"; }
hostile 400 "sip:4321@conf.example" "<sip:$(long 950 t)@conf.example>" "$C_OK" "X-Test: too-long-to" ||
	{ show uac_hostile; fail "a 950-byte To URI did not get 400"; }
ok "Request-URI of 600 bytes and To of 700 routed; 950 bytes: 414 (Request-URI), 400 (To)"

# 3c. a reload that names the conference's target by a host name (from
# the hosts file here: no DNS query): the resolver thread resolves it, new
# calls go to its address
printf '127.0.0.1 localhost\n127.0.0.3 cms.hosts.test\n' >"$SW_TMP/hosts"
mount --bind "$SW_TMP/hosts" /etc/hosts || fail "cannot replace /etc/hosts"
sed -i "s|^target = sip:127.0.0.3:$P_CMS|target = sip:cms.hosts.test:$P_CMS|" "$SW_TMP/shareway.conf"
kill -HUP "$SW_DPID"
wait_for "$SW_TMP/sharewayd.log" "target sip:cms.hosts.test:$P_CMS: 127.0.0.3:$P_CMS" 10 ||
	fail "the reloaded target's name was not resolved"
uas uas_refuse 127.0.0.3 "$P_CMS" 1 ""
hostile 486 "sip:4321@conf.example" "<sip:4321@conf.example>" "$C_OK" "X-Test: named-target" ||
	{ show uac_hostile; fail "call toward the reloaded, named target"; }
uas_wait || fail "callee behind the named target"
ok "reload: the target named cms.hosts.test resolved (hosts file) and called"

kill -0 "$SW_DPID" 2>/dev/null || fail "sharewayd died"

# 4. SIGTERM with a call up: BYE on both legs, a clean exit
SCN_SET="CHECK=m=" uas uas_check 127.0.0.3 "$P_CMS" 1 "$ANSWER"
up0=$(grep -c -- '-> active' "$SW_TMP/sharewayd.log")
( uac uac_wait_bye 127.0.0.2 "$P_EDGE" 4321 1 "$OFFER"; echo $? >"$SW_TMP/wait_bye.rc" ) &
caller=$!
n=100
while [ "$(grep -c -- '-> active' "$SW_TMP/sharewayd.log")" = "$up0" ] && [ $n -gt 0 ]; do
	sleep 0.1; n=$((n - 1))
done
[ $n -gt 0 ] || fail "no call up before SIGTERM"
sleep 0.3 # the caller's ACK
sw_stop || fail "sharewayd exit status $? on SIGTERM with a call up"
uas_wait || { show uas_check; fail "callee got no BYE at shutdown"; }
wait "$caller"
[ "$(cat "$SW_TMP/wait_bye.rc" 2>/dev/null)" = 0 ] || { show uac_wait_bye; fail "caller got no BYE at shutdown"; }
grep -Eq 'FATAL|Assertion|Segmentation' "$SW_TMP/sharewayd.log" && fail "shutdown: $(grep -E 'FATAL|Assertion' "$SW_TMP/sharewayd.log" | head -1)"
grep -q 'shutdown: hanging up 1 calls' "$SW_TMP/sharewayd.log" || fail "no hang-up at shutdown"
ok "SIGTERM with a call up: BYE on both legs, exit 0"

# 5. a resolver that cannot be reached (no route to it), then one that
# takes queries and never answers: the zone cms now names its target, so
# the resolver thread has a name of the configuration to look up; the
# names of messages (Contact, Record-Route, Via sent-by, maddr) go
# nowhere. OPTIONS are answered, the daemon stays idle, SIGTERM works.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
for ns in 192.0.2.1 127.0.0.9; do
	printf 'nameserver %s\noptions timeout:1 attempts:1\n' "$ns" >"$SW_TMP/resolv-$ns.conf"
	mount --bind "$SW_TMP/resolv-$ns.conf" /etc/resolv.conf || fail "cannot replace resolv.conf"
	: >"$SW_TMP/blackhole.log"
	if [ "$ns" = 127.0.0.9 ]; then
		python3 "$SW_SRC/tests/dns_sink.py" "$SW_TMP/blackhole.log" 127.0.0.9 53 silent \
			>"$SW_TMP/blackhole.out" 2>&1 &
		SW_PIDS="$SW_PIDS $!"
		wait_for "$SW_TMP/blackhole.out" ready 5 || fail "blackhole resolver did not start"
	fi
	sed -i "s|^target = sip:cms.hosts.test:$P_CMS|target = sip:cms.unresolvable.test:$P_CMS|" "$SW_TMP/shareway.conf"
	sw_start "$SW_TMP/shareway.conf"
	hostile 503 "sip:4321@conf.example" "<sip:4321@conf.example>" \
		"Contact: <sip:alice@edge.host.example.net>" "Record-Route: <sip:rr.host.example.net;lr>" ||
		{ show uac_hostile; fail "[$ns] call toward an unresolved target: not 503"; }
	# responses whose Via sent-by or maddr is a name (505, 200)
	python3 - "$P_GW" <<'PY' || fail "raw OPTIONS"
import random, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for ver, via in (('SIP/7.0', 'SIP/7.0/UDP c.example.com'),
                 ('SIP/2.0', 'SIP/2.0/UDP 127.0.0.2:5999;maddr=maddr.example.net')):
    m = ('OPTIONS sip:x@127.0.0.1 %s\r\nVia: %s;branch=z9hG4bK%d\r\n'
         'From: <sip:a@b.example>;tag=1\r\nTo: <sip:x@127.0.0.1>\r\n'
         'Call-ID: dead-%d\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n'
         'Content-Length: 0\r\n\r\n') % (ver, via, random.getrandbits(30),
                                        random.getrandbits(30))
    s.sendto(m.encode(), ('127.0.0.1', int(sys.argv[1])))
PY
	t0=$(cpu_ticks "$SW_DPID")
	uac uac_options 127.0.0.2 "$P_EDGE" x 3 "" || { show uac_options; fail "[$ns] OPTIONS unanswered"; }
	sleep 2
	t1=$(cpu_ticks "$SW_DPID")
	[ $((t1 - t0)) -lt 100 ] || fail "[$ns] daemon used $((t1 - t0)) CPU ticks in about 2.5 s"
	grep -q 'sres_' "$SW_TMP/sharewayd.log" && fail "[$ns] Sofia's resolver ran: $(grep -m1 sres_ "$SW_TMP/sharewayd.log")"
	wait_for "$SW_TMP/sharewayd.log" 'target sip:cms.unresolvable.test:.* not resolved' 15 ||
		fail "[$ns] no line for the unresolved target"
	for h in c.example.com maddr.example.net; do
		grep -q "name not resolved: '$h'" "$SW_TMP/sharewayd.log" ||
			fail "[$ns] no line for the Via host $h"
	done
	refused=$($SHAREWAY -c "$SW_TMP/shareway.conf" -s "$SW_TMP/state" status --json |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["daemon"]["sip_names_refused"])')
	[ "$refused" -ge 2 ] || fail "[$ns] status counts $refused names not looked up, 2 expected"
	lines=$(wc -l <"$SW_TMP/sharewayd.log")
	sw_stop || fail "[$ns] sharewayd exit status $? on SIGTERM"
	if grep -v ' cms\.unresolvable\.test ' "$SW_TMP/blackhole.log" | grep -q .; then
		fail "[$ns] names from messages looked up: $(grep -v 'cms\.unresolvable' "$SW_TMP/blackhole.log" | head -3)"
	fi
	ok "resolver $ns: OPTIONS answered, $((t1 - t0)) CPU ticks, $lines log lines, $(wc -l <"$SW_TMP/blackhole.log") queries (the target's only), SIGTERM clean"
	umount /etc/resolv.conf
done
