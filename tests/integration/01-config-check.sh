#!/bin/bash
# timeout: 60
# What a start needs is checked before anything starts, by one function
# (sw_check_load) behind `sharewayd --check-config` (the systemd unit's
# ExecStartPre), `shareway check-config` and the daemon's own start: real
# broken files each refused with file:line:key and exit 1 by all three,
# a TLS listener with an unusable certificate or key never comes up, and
# a key set twice in shareway.conf is refused.
. "$SW_SRC/tests/lib.sh"

D=$SW_TMP/pki
mkdir -p "$D" "$SW_TMP/state"
mk() { # NAME: a self-signed certificate and its key
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$D/$1.key" \
		-out "$D/$1.pem" -days 2 -subj "/CN=$1" 2>/dev/null || fail "openssl $1"
}
mk gw; mk other
echo "not a certificate" >"$D/garbage.pem"

good_rules() {
	cat >"$SW_TMP/rules.conf" <<EOR
[rule edge-to-cms]
priority = 10
source = edge
match.ruri = regex ^sip:([^@]+)@
rewrite.ruri = sip:\$1@127.0.0.3:$(port 3)
target = cms
EOR
}

# conf [SIP-TLS-LINES] [ZONE-EDGE-LINES] [TURN-LINES]: line 7 is the
# first of SIP-TLS-LINES
conf() {
	cat >"$SW_TMP/shareway.conf" <<EOC
[general]
state_dir = $SW_TMP/state
rules_file = rules.conf
[sip]
listen = udp:127.0.0.1:$(port 0) tls:127.0.0.1:$(port 1)
# the TLS identity
${1:-tls_cert = pki/gw.pem
tls_key = pki/gw.key}
[turn]
${3:-enable = no}
[zone edge]
edge = yes
match.source = 127.0.0.2/32
target = sip:127.0.0.2:$(port 2)
${2:-}
[zone cms]
match.source = 127.0.0.3/32
target = sip:127.0.0.3:$(port 3)
EOC
}

# refused WHAT REGEX: all three refuse the configuration as it stands,
# exit 1, naming REGEX; the daemon does not get to "ready"
refused() {
	local what=$1 re=$2 out
	for cmd in "$SHAREWAYD --check-config -c" "$SHAREWAY check-config"; do
		out=$($cmd "$SW_TMP/shareway.conf" 2>&1)
		[ $? = 1 ] || fail "$what: '$cmd' did not exit 1: $out"
		grep -Eq -- "$re" <<<"$out" || fail "$what: '$cmd' says: $out"
		grep -q "configuration OK" <<<"$out" && fail "$what: '$cmd' says OK"
	done
	timeout 20 "$SHAREWAYD" -c "$SW_TMP/shareway.conf" >"$SW_TMP/start.log" 2>&1
	[ $? = 1 ] || { cat "$SW_TMP/start.log"; fail "$what: the daemon did not refuse to start"; }
	grep -Eq -- "configuration refused: .*$re" "$SW_TMP/start.log" ||
		{ cat "$SW_TMP/start.log"; fail "$what: the daemon's refusal does not say $re"; }
	grep -q ' ready' "$SW_TMP/start.log" && fail "$what: the daemon got ready"
	ok "$what refused"
}

conf; good_rules
"$SHAREWAYD" --check-config -c "$SW_TMP/shareway.conf" >"$SW_TMP/ok.out" ||
	fail "a good configuration refused: $(cat "$SW_TMP/ok.out")"
grep -q "configuration OK (2 zones, 1 rules from" "$SW_TMP/ok.out" || fail "OK line: $(cat "$SW_TMP/ok.out")"
$SHAREWAY check-config --json "$SW_TMP/shareway.conf" >"$SW_TMP/ok.json" || fail "check-config --json"
python3 - "$SW_TMP/ok.json" <<'PY' || fail "check-config --json: $(cat "$SW_TMP/ok.json")"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["ok"] is True and j["rules"] == 1 and j["zones"] == 2, j
PY
ok "a good configuration passes (text and --json)"

# --- the dial plan -------------------------------------------------------
printf '[rule broken]\npriority = 1\nmatch.ruri = regex ([\ntarget = cms\n' >"$SW_TMP/rules.conf"
refused "a bad regex" 'rules.conf:3:match.ruri: bad regex'
printf '[rule lost]\npriority = 1\ntarget = nowhere\n' >"$SW_TMP/rules.conf"
refused "an unknown zone" "rules.conf:3:target: unknown zone 'nowhere'"
printf '[rule a]\npriority = 1\ntarget = cms\n[rule a]\npriority = 2\ntarget = cms\n' >"$SW_TMP/rules.conf"
refused "a duplicate rule" "rules.conf:4: duplicate rule name 'a'"
rm -f "$SW_TMP/rules.conf"
refused "a missing rule file" "shareway.conf:3:rules_file: .*rules.conf: cannot open: No such file"
$SHAREWAY check-config --json "$SW_TMP/shareway.conf" >"$SW_TMP/bad.json"
python3 - "$SW_TMP/bad.json" <<'PY' || fail "check-config --json of a bad file: $(cat "$SW_TMP/bad.json")"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["ok"] is False and "rules_file" in j["error"], j
PY
good_rules

# --- TLS files -------------------------------------------------------------
conf "tls_cert = pki/garbage.pem
tls_key = pki/gw.key"
refused "an unparsable certificate" 'shareway.conf:7:tls_cert: .*garbage.pem holds no PEM certificate'
conf "tls_cert = pki/gw.pem
tls_key = pki/other.key"
refused "a key that does not match" 'shareway.conf:8:tls_key: the private key in .*other.key does not match the certificate in .*gw.pem'
conf "tls_cert = pki/gw.pem
tls_key = pki/gw.key
tls_ca = pki/no-such-ca.pem"
refused "a missing CA" 'shareway.conf:9:tls_ca: cannot read .*no-such-ca.pem: No such file'
conf "tls_cert = pki/gw.pem
tls_key = pki/gw.key
tls_ca = pki/garbage.pem"
refused "a CA file without a certificate" 'shareway.conf:9:tls_ca: no CA certificate loads from'
conf "tls_cert = pki/missing.pem
tls_key = pki/gw.key"
refused "a missing certificate" 'shareway.conf:7:tls_cert: cannot read .*missing.pem: No such file'
# a zone's own identity (its own listener and Sofia stack)
conf "" "listen = tls:127.0.0.1:$(port 4)
tls.cert = pki/gw.pem
tls.key = pki/other.key"
refused "a zone key that does not match" 'shareway.conf:1[0-9]:tls.key: the private key in .*other.key does not match'
conf "" "tls.verify = yes"
refused "tls.verify without a CA" 'shareway.conf:1[0-9]:tls.verify: yes, but neither tls.ca nor \[sip\] tls_ca'
# the TURN TLS listener
conf "" "" "listen = tcp:127.0.0.1:$(port 5) tls:127.0.0.1:$(port 6)
relay_ip = 127.0.0.1
relay_ports = $(port 10)-$(port 20)
tls_cert = pki/garbage.pem
tls_key = pki/gw.key"
refused "an unparsable TURN certificate" 'shareway.conf:1[0-9]:tls_cert: .*garbage.pem holds no PEM certificate'

# a zone over TLS whose fqdn its certificate (here [sip]'s, CN gw) does
# not carry: started, with a warning naming the key
conf "" "transport = tls
fqdn = sbc.example.com"
out=$($SHAREWAY check-config "$SW_TMP/shareway.conf" 2>&1) || fail "fqdn mismatch refused: $out"
grep -q "warning: .*shareway.conf:1[0-9]:fqdn: \[zone edge\] sbc.example.com is not a name the certificate in .*gw.pem carries" <<<"$out" ||
	fail "no warning for an fqdn the certificate does not carry: $out"
conf "" "transport = tls
fqdn = gw"
out=$($SHAREWAY check-config "$SW_TMP/shareway.conf" 2>&1) || fail "fqdn = gw refused: $out"
grep -q "fqdn" <<<"$out" && fail "a warning for an fqdn the certificate carries: $out"
ok "an fqdn its TLS certificate does not carry is warned about"

# --- shareway.conf itself ----------------------------------------------------
conf "tls_cert = pki/gw.pem
tls_key = pki/gw.key
tls_key = pki/other.key"
refused "a key set twice" 'shareway.conf:9:tls_key: set twice \(first at line 8\)'
# list keys add up across lines, as documented
conf "tls_cert = pki/gw.pem
tls_key = pki/gw.key" "match.source = 127.0.0.4/32"
"$SHAREWAYD" --check-config -c "$SW_TMP/shareway.conf" >/dev/null ||
	fail "a repeated list key (match.source) refused"
ok "list keys may repeat"

# --- [cluster]: off by default; on, it needs a name and a connection
# string libpq parses whose server is no name to look up (the checks of
# sw_check_cluster(); refused() shows the start runs them too)
conf; printf '[cluster]\nenable = yes\nconninfo = hostaddr=127.0.0.1 dbname=sw\n' >>"$SW_TMP/shareway.conf"
refused "a cluster without an instance name" "shareway.conf:2[0-9]:enable: yes needs this instance's name"
cl_refused() { # WHAT REGEX CLUSTER-LINES: --check-config alone
	local out
	conf; printf '[cluster]\nenable = yes\n%s\n' "$3" >>"$SW_TMP/shareway.conf"
	out=$("$SHAREWAYD" --check-config -c "$SW_TMP/shareway.conf" 2>&1) && fail "$1: accepted"
	grep -Eq -- "$2" <<<"$out" || fail "$1: says: $out"
	ok "$1 refused"
}
cl_refused "an instance name with a space" "shareway.conf:2[0-9]:instance: 'gw 1': letters, digits" \
	"instance = gw 1
conninfo = hostaddr=127.0.0.1"
cl_refused "a conninfo libpq refuses" 'shareway.conf:2[0-9]:conninfo: invalid connection option "nosuchkey"' \
	"instance = gw1
conninfo = hostaddr=127.0.0.1 nosuchkey=1"
cl_refused "a database server by name" 'shareway.conf:2[0-9]:conninfo: host=db.example.com is a name: give hostaddr=IP' \
	"instance = gw1
conninfo = host=db.example.com dbname=sw"
cl_refused "a heartbeat below 100 ms" 'shareway.conf:2[0-9]:heartbeat_ms' \
	"instance = gw1
conninfo = host=/run/postgresql dbname=sw
heartbeat_ms = 50"
conf; printf '[cluster]\nenable = yes\ninstance = gw1\nconninfo = host=/run/postgresql dbname=sw\n' >>"$SW_TMP/shareway.conf"
"$SHAREWAYD" --check-config -c "$SW_TMP/shareway.conf" >/dev/null || fail "a good [cluster] refused"
ok "[cluster]: a good section passes"

# --- the daemon with the good configuration starts, TLS and all ----------------
conf
sw_start "$SW_TMP/shareway.conf"
echo | timeout 10 openssl s_client -connect 127.0.0.1:$(port 1) >"$SW_TMP/s_client.txt" 2>&1
grep -q "CN *= *gw" "$SW_TMP/s_client.txt" || fail "the SIP TLS listener does not present gw"
sw_stop
ok "a good configuration starts and its TLS listener completes a handshake"
