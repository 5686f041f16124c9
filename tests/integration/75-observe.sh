#!/bin/bash
# timeout: 240
# Operating the daemon with the tools it stands next to, all real and
# written by others: /metrics ([metrics], libmicrohttpd) passes
# `promtool check metrics`, and a Prometheus server (Debian's) scrapes it
# during real calls (SIPp, and the app-sharing harness of test 60 with
# relay, ICE checks and the completion re-INVITE), its query API giving
# the live values; every SIP message of both legs goes as HEPv3 ([hep])
# to sngrep listening for HEP, whose pcap tshark reads back (INVITE, 200,
# ACK, BYE of each leg) along with the call's STUN as HEP log packets;
# log levels change per module at run time (`shareway log-level`) and a
# stderr connected to the journal (JOURNAL_STREAM) gets "<N>" priorities
# and no timestamp of ours.
. "$SW_SRC/tests/lib.sh"
. "$SW_SRC/tests/appshare/gateway.sh"
. "$SW_SRC/tests/sipp/sip-lib.sh" # SIPp on 127.0.0.2:port 1, 127.0.0.3:port 2

P_MET=$(port 5) P_PROM=$(port 6) P_HEP=$(port 7)
SW="$SHAREWAY -c $SW_TMP/shareway.conf -s $SW_TMP/state"
SDP=$SW_SHARED/corpus/sdp/ms-sdp-2.2-lcs-era-example-msdata.sdp
R=$SW_TMP/prom

# ---- JOURNAL_STREAM: the journal stamps lines itself --------------------
echo "[nosuch]" >"$SW_TMP/bad.conf"
: >"$SW_TMP/j.err"
JOURNAL_STREAM=$(stat -c %d:%i "$SW_TMP/j.err") \
	"$SHAREWAYD" --check-config -c "$SW_TMP/bad.conf" 2>>"$SW_TMP/j.err"
grep -Eq '^<3>ERROR +main +configuration refused' "$SW_TMP/j.err" ||
	{ cat "$SW_TMP/j.err"; fail "journal: no '<3>ERROR main' line without timestamp"; }
JOURNAL_STREAM=1:1 "$SHAREWAYD" --check-config -c "$SW_TMP/bad.conf" 2>"$SW_TMP/t.err"
grep -Eq '^20[0-9-]+T[0-9:.]+Z ERROR +main' "$SW_TMP/t.err" ||
	{ cat "$SW_TMP/t.err"; fail "stderr elsewhere: the timestamp is kept"; }
ok "JOURNAL_STREAM naming stderr: '<3>' priority and no timestamp; naming another stream: timestamps"

# ---- [log], [metrics], [hep]: what a start refuses, file:line:key --------
mkdir -p "$SW_TMP/cc"
cp "$SW_SRC/conf/rules.conf" "$SW_TMP/cc/"
# cc WANT SED-SCRIPT: the repo's configuration edited by SED-SCRIPT is
# refused with WANT in the message (or accepted: "configuration OK")
cc() {
	sed -e "$2" "$SW_SRC/conf/shareway.conf" >"$SW_TMP/cc/shareway.conf"
	"$SHAREWAYD" --check-config -c "$SW_TMP/cc/shareway.conf" -s "$SW_TMP/cc" \
		>"$SW_TMP/cc/out" 2>&1
	grep -q -- "$1" "$SW_TMP/cc/out" || { cat "$SW_TMP/cc/out"; fail "check-config: $2"; }
}
cc "configuration OK" 's/^#modules = .*/modules = sip=debug,turn=warn/
	s/^syslog_facility = .*/syslog_facility = local4/; /^\[metrics\]/,/^enable/s/^enable = no/enable = yes/
	/^\[hep\]/,/^enable/s/^enable = no/enable = yes/; s/^#collector = /collector = /'
cc ":modules: no module 'turnn'" 's/^#modules = .*/modules = sip=debug turnn=warn/'
cc ":syslog_facility: 'kern' is not" 's/^syslog_facility = .*/syslog_facility = kern/'
cc ":listen: '127.0.0.1' is not IP:PORT" 's/^listen = 127.0.0.1:9465/listen = 127.0.0.1/'
cc "needs the collector's IP:PORT" '/^\[hep\]/,/^enable/s/^enable = no/enable = yes/'
cc "needs \[calllog\] capture_sip = yes" 's/^capture_sip = yes/capture_sip = no/
	/^\[hep\]/,/^enable/s/^enable = no/enable = yes/; s/^#collector = /collector = /'
cc "not a loopback address" '/^\[metrics\]/,/^enable/s/^enable = no/enable = yes/
	s/^listen = 127.0.0.1:9465/listen = 0.0.0.0:9465/'
ok "check-config: [log], [metrics], [hep] refused with file:line:key, or noted"

# ---- the HEP receiver, the daemon, Prometheus ---------------------------
sngrep -N -q -L "udp:127.0.0.1:$P_HEP" -O "$SW_TMP/hep.pcap" </dev/null >"$SW_TMP/sngrep.out" 2>&1 &
SNG=$!; SW_PIDS="$SW_PIDS $SNG"
cat >"$SW_TMP/extra.conf" <<EOC

[log]
modules = dns=warn

[metrics]
enable = yes
listen = 127.0.0.1:$P_MET

[hep]
enable = yes
collector = 127.0.0.1:$P_HEP
capture_id = 2042
node_name = gw-test
EOC
as_gateway_start 45000 45999 -e "\$r $SW_TMP/extra.conf"
grep -q "metrics on http://127.0.0.1:$P_MET/metrics" "$SW_TMP/sharewayd.log" || fail "no metrics line"
grep -q "HEP capture to 127.0.0.1:$P_HEP" "$SW_TMP/sharewayd.log" || fail "no HEP line"

mkdir -p "$R"
cat >"$R/prometheus.yml" <<EOC
global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: shareway
    static_configs:
      - targets: ['127.0.0.1:$P_MET']
EOC
promtool check config "$R/prometheus.yml" >/dev/null || fail "promtool check config"
prometheus --config.file="$R/prometheus.yml" --storage.tsdb.path="$R/data" \
	--web.listen-address="127.0.0.1:$P_PROM" --storage.tsdb.retention.time=1h \
	--log.level=warn >"$R/prometheus.log" 2>&1 &
PROM=$!; SW_PIDS="$SW_PIDS $PROM"

# q EXPR: the value of an instant query's first sample, or empty. No
# Python here: on a loaded machine each interpreter start costs seconds.
q() {
	curl -sf --get "http://127.0.0.1:$P_PROM/api/v1/query" --data-urlencode "query=$1" |
		sed -n 's/.*"value":\[[^,]*,"\([^"]*\)"\].*/\1/p'
}
# q_until EXPR SECONDS: until the comparison EXPR gives a sample (it
# holds), at most SECONDS; prints its value
q_until() {
	local end=$((SECONDS + $2)) v
	while [ $SECONDS -lt $end ]; do
		v=$(q "$1")
		[ -n "$v" ] && { echo "$v"; return 0; }
		sleep 0.3
	done
	echo "Prometheus: '$1' does not hold after $2 s" >&2
	return 1
}

# ---- the page ------------------------------------------------------------
curl -sf "http://127.0.0.1:$P_MET/metrics" >"$SW_TMP/m1.txt" || fail "GET /metrics"
promtool check metrics <"$SW_TMP/m1.txt" >"$SW_TMP/promtool.out" 2>&1 ||
	{ cat "$SW_TMP/promtool.out"; fail "promtool check metrics"; }
[ -s "$SW_TMP/promtool.out" ] && { cat "$SW_TMP/promtool.out"; fail "promtool lint"; }
# what promtool does not check: the histograms' invariants
python3 - "$SW_TMP/m1.txt" <<'PY' || fail "histogram invariants"
import re, sys
b, cnt = {}, {}
for l in open(sys.argv[1]):
    m = re.match(r'(\w+)_bucket\{le="([^"]+)"\} (\d+)$', l)
    if m: b.setdefault(m[1], []).append((m[2], int(m[3])))
    m = re.match(r'(\w+)_count (\d+)$', l)
    if m: cnt[m[1]] = int(m[2])
assert set(b) == {"shareway_call_setup_seconds", "shareway_appsharing_completion_seconds"}, b
for h, v in b.items():
    assert v[-1][0] == "+Inf" and v[-1][1] == cnt[h], h
    assert all(x[1] <= y[1] for x, y in zip(v, v[1:])), h
    les = [float(x[0]) for x in v[:-1]]
    assert les == sorted(les), h
PY
# no zone here has a peer list: its series are there, at 0
grep -qx 'shareway_zone_peers{state="up"} 0' "$SW_TMP/m1.txt" || fail "zone peers series"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P_MET/x")" = 404 ] || fail "404"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$P_MET/metrics")" = 405 ] || fail "405"
ss -ltnH "sport = :$P_MET" | awk '{print $4}' | grep -qx "127.0.0.1:$P_MET" || fail "not on loopback only"
ok "/metrics: promtool accepts it, histograms consistent, 404/405, 127.0.0.1 only"

# ---- log levels per module at run time -----------------------------------
$SW log-level >"$SW_TMP/ll.txt" || fail "log-level"
grep -Eqi '^global +info' "$SW_TMP/ll.txt" && grep -Eqi '^dns +warn$' "$SW_TMP/ll.txt" &&
	grep -Eqi '^sip +info \(default\)' "$SW_TMP/ll.txt" || { cat "$SW_TMP/ll.txt"; fail "log-level list"; }
$SW log-level sipp debug 2>"$SW_TMP/ll.err" && fail "an unknown module accepted"
grep -q "no such module" "$SW_TMP/ll.err" || fail "unknown module: $(cat "$SW_TMP/ll.err")"
# every module of the tree is one log-level knows (a typo there: refused)
for m in $(grep -rhoE 'define SW_LOG_MODULE "[a-z]+"' "$SW_SRC"/base "$SW_SRC"/sdp \
		"$SW_SRC"/turn "$SW_SRC"/sip "$SW_SRC"/src | sed 's/.*"\(.*\)"/\1/' | grep -vx sw | sort -u); do
	grep -Eq "^$m " "$SW_TMP/ll.txt" || fail "module $m unknown to log-level"
done
$SW log-level sip debug >/dev/null || fail "log-level sip debug"

# ---- SIPp calls held 4 s, scraped meanwhile -------------------------------
SCN_SET="RING=100" uas uas_ring 127.0.0.3 "$P_CMS" 2 "$SDP"
q_until 'up{job="shareway"} == 1' 30 >/dev/null || { cat "$R/prometheus.log"; fail "Prometheus never scraped"; }
mark=$(wc -l <"$SW_TMP/sharewayd.log")
SCN_SET="HOLD=4000" uac uac_call 127.0.0.2 "$P_EDGE" "conf-$P_CMS" 2 "$SDP" &
UAC=$!; SW_PIDS="$SW_PIDS $UAC"
wait "$UAC" || { show uac_call; fail "SIPp calls"; }
# scraped while the calls were up (each held 4 s; a scrape a second)
v=$(q_until 'max_over_time(shareway_calls_in_progress{state="connected"}[1m]) >= 1' 10) ||
	fail "no call in progress seen"
ok "Prometheus during the SIPp calls: max shareway_calls_in_progress{state=\"connected\"} = $v"
uas_wait || { show uas_ring; fail "SIPp callee"; }
tail -n +"$mark" "$SW_TMP/sharewayd.log" | grep -Eq '^[^ ]+ DEBUG +sip ' ||
	fail "sip at debug: no DEBUG sip line during the calls"
$SW log-level sip default >/dev/null || fail "log-level sip default"
$SW log-level dns default >/dev/null || fail "log-level dns default"
ok "log-level sip debug: DEBUG sip lines during the calls"

# ---- application sharing through the relay, scraped -----------------------
mark=$(wc -l <"$SW_TMP/sharewayd.log")
as_cases e2e.py relay >"$SW_TMP/e2e.out" 2>&1 || { tail -30 "$SW_TMP/e2e.out"; fail "e2e relay case"; }
tail -n +"$mark" "$SW_TMP/sharewayd.log" | grep -Eq '^[^ ]+ DEBUG +sip ' &&
	fail "sip back to default (info): still DEBUG sip lines"
ok "log-level sip default: no DEBUG sip line during the app-sharing call"
for e in 'shareway_calls_ended_total{outcome="completed"} >= 3' \
	'shareway_calls_verdict_total{class="ok"} >= 3' \
	'shareway_sip_requests_total{direction="in",method="INVITE"} >= 3' \
	'shareway_sip_responses_total{direction="out",class="2xx"} >= 3' \
	'shareway_completion_reinvites_total{outcome="ok"} >= 1' \
	'sum(shareway_ice_checks_total{outcome="succeeded"}) >= 2' \
	'shareway_turn_allocations_created_total{transport="tcp"} >= 1' \
	'shareway_turn_relayed_bytes_total{direction="to_peer"} >= 1048576' \
	'shareway_appsharing_completion_seconds_count >= 1' \
	'shareway_call_setup_seconds_count >= 3' \
	'shareway_hep_packets_total{result="sent"} >= 16'; do
	v=$(q_until "$e" 10) || fail "Prometheus: $e"
	ok "Prometheus: $e ($v)"
done
# a reload applies [log] modules again (and drops run-time changes)
$SW log-level gw debug >/dev/null || fail "log-level gw debug"
sed -i 's/^modules = dns=warn$/modules = dns=warn turn=debug/' "$SW_TMP/shareway.conf"
$SW reload >/dev/null || fail "reload"
$SW log-level >"$SW_TMP/ll2.txt" || fail "log-level after reload"
grep -Eqi '^turn +debug$' "$SW_TMP/ll2.txt" && grep -Eqi '^gw +info \(default\)' "$SW_TMP/ll2.txt" ||
	{ cat "$SW_TMP/ll2.txt"; fail "reload: [log] modules not applied"; }
ok "reload: [log] modules applied, the run-time change undone"
sw_stop
grep -q "stopped" "$SW_TMP/sharewayd.log" || fail "no clean stop"
kill "$PROM"; wait "$PROM" 2>/dev/null

# ---- what sngrep received as HEP ------------------------------------------
kill "$SNG"; wait "$SNG" 2>/dev/null
cid=$(grep -a -m1 -i '^Call-ID:' "$SW_TMP/uac_call-uac.msg" | sed 's/^[^:]*: *//' | tr -d '\r')
[ -n "$cid" ] || fail "no Call-ID in SIPp's trace"
tshark -r "$SW_TMP/hep.pcap" -Y sip -T fields -e ip.src -e ip.dst -e sip.Method \
	-e sip.Status-Code -e sip.CSeq.method -e sip.Call-ID -e sip.msg_hdr \
	>"$SW_TMP/hep.txt" 2>/dev/null
python3 - "$SW_TMP/hep.txt" "$cid" <<'PY' || { head -40 "$SW_TMP/hep.txt"; fail "HEP: the call's SIP in sngrep's pcap"; }
import sys
import re
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
cid = sys.argv[2]
a = [r for r in rows if r[5] == cid]
b_ids = {r[5] for r in rows if len(r) > 6 and
         re.search(r"(^|\\r\\n)X-CID: *" + re.escape(cid) + r"\\r\\n", r[6])}
assert len(b_ids) == 1, f"leg B (X-CID {cid}): {b_ids}"
b = [r for r in rows if r[5] in b_ids]
def steps(leg):
    return [(r[2] or r[3], r[4]) for r in leg if not r[3] or r[3] >= "2"]
for name, leg in (("A", a), ("B", b)):
    s = steps(leg)
    for want in (("INVITE", "INVITE"), ("200", "INVITE"), ("ACK", "ACK"), ("BYE", "BYE"),
                 ("200", "BYE")):
        assert want in s, f"leg {name}: {want} not in {s}"
print(f"leg A {len(a)} messages, leg B {len(b)}")
PY
ok "sngrep (HEP): INVITE, 200, ACK, BYE, 200 of both legs of SIPp call $cid"
n=$(tshark -r "$SW_TMP/hep.pcap" -Y 'udp contains "\"event\":\"stun\""' 2>/dev/null | wc -l)
[ "$n" -ge 2 ] || fail "HEP: no STUN log packets ($n)"
ok "sngrep (HEP): $n STUN/TURN messages of the app-sharing call as HEP log packets"
