#!/bin/bash
# timeout: 90
# Zones over TLS with their own identities (one nua per TLS identity):
# the Edge zone's listener presents its own certificate and requires a
# client certificate whose subject is in tls.subjects (mutual TLS, as a
# Skype Edge does); the call goes on to the conference side over TLS from
# the main identity, whose certificate the far end requires and checks.
# A client without a certificate, and one with an unlisted subject, are
# refused. Each zone's fqdn names the gateway in the Contact toward it.
# Certificates are made here with openssl.
. "$SW_SRC/tests/lib.sh"
. "$SW_SRC/tests/sipp/sip-lib.sh"

P_TLS_EDGE=$(port 4)
P_TLS_MAIN=$(port 5)
D=$SW_TMP/pki
mkdir -p "$D" "$SW_TMP/state"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$D/ca.key" -out "$D/ca.pem" \
	-days 2 -subj "/CN=shareway test CA" 2>/dev/null || fail "CA"
mkcert() {
	openssl req -newkey rsa:2048 -nodes -keyout "$D/$1.key" -out "$D/$1.csr" \
		-subj "/CN=$1" 2>/dev/null &&
	openssl x509 -req -in "$D/$1.csr" -CA "$D/ca.pem" -CAkey "$D/ca.key" \
		-CAcreateserial -out "$D/$1.pem" -days 2 2>/dev/null || fail "cert $1"
}
for n in gw-edge gw-main edge.test intruder.test cms.test; do mkcert $n; done

cat >"$SW_TMP/shareway.conf" <<EOC
[general]
log_level = debug
state_dir = $SW_TMP/state
rules_file = rules.conf
[sip]
listen = udp:127.0.0.1:$P_GW tls:127.0.0.1:$P_TLS_MAIN
tls_cert = pki/gw-main.pem
tls_key = pki/gw-main.key
tls_ca = pki/ca.pem
[turn]
enable = no
[zone edge]
edge = yes
match.source = 127.0.0.2/32
listen = tls:127.0.0.1:$P_TLS_EDGE
transport = tls
target = sip:127.0.0.2:$P_EDGE
tls.cert = pki/gw-edge.pem
tls.key = pki/gw-edge.key
tls.ca = pki/ca.pem
tls.verify = yes
tls.subjects = edge.test
fqdn = gw-edge
[zone cms]
match.source = 127.0.0.3/32
transport = tls
target = sip:127.0.0.3:$P_CMS
tls.verify = yes
fqdn = gw-main.example.net
EOC
sip_rules "$SW_TMP/rules.conf"
sw_start "$SW_TMP/shareway.conf"
grep -q "SIP zone edge listening on  *sips:127.0.0.1:$P_TLS_EDGE" "$SW_TMP/sharewayd.log" ||
	fail "zone listener not logged"

# the Edge's listener presents the zone's own certificate
echo | timeout 10 openssl s_client -connect 127.0.0.1:$P_TLS_EDGE -CAfile "$D/ca.pem" \
	-cert "$D/edge.test.pem" -key "$D/edge.test.key" >"$SW_TMP/s_client.txt" 2>&1
grep -q "CN *= *gw-edge" "$SW_TMP/s_client.txt" || fail "zone listener does not present gw-edge"
ok "zone edge presents its own certificate"

python3 "$SIPP_DIR/tls_peer.py" uas 127.0.0.3 "$P_CMS" "$D/ca.pem" "$D/cms.test.pem" \
	"$D/cms.test.key" "$SW_TMP/client-cn.txt" >"$SW_TMP/uas.out" 2>&1 &
UAS=$!; SW_PIDS="$SW_PIDS $UAS"
wait_for "$SW_TMP/uas.out" listening 10 || fail "TLS UAS did not start"
timeout 30 python3 "$SIPP_DIR/tls_peer.py" uac 127.0.0.2 "$P_TLS_EDGE" "$D/ca.pem" \
	"$D/edge.test.pem" "$D/edge.test.key" >"$SW_TMP/uac.out" 2>&1 ||
	{ cat "$SW_TMP/uac.out" "$SW_TMP/uas.out"; tail -30 "$SW_TMP/sharewayd.log"; fail "mutual-TLS call"; }
wait $UAS || { cat "$SW_TMP/uas.out"; fail "conference side over TLS"; }
[ "$(cat "$SW_TMP/client-cn.txt")" = gw-main ] || fail "gateway presented '$(cat "$SW_TMP/client-cn.txt")' toward cms"
grep -q 'zone edge: -> sip:4321@127.0.0.3' "$SW_TMP/sharewayd.log" || fail "TLS peer not matched to zone edge"
ok "mutual TLS both ways: edge.test in, gw-main out, call completed"

# capture_sip (default on): the call's messages, cleartext, in the pcap
# the record is complete once the call is over (its BYEs written with it)
n=100
until $SHAREWAY -c "$SW_TMP/shareway.conf" -s "$SW_TMP/state" show c-1 --json 2>/dev/null |
	grep -q '"completed"' || [ $n = 0 ]; do sleep 0.1; n=$((n - 1)); done
$SHAREWAY -c "$SW_TMP/shareway.conf" -s "$SW_TMP/state" export c-1 \
	--pcap "$SW_TMP/tls.pcap" 2>/dev/null || fail "export of c-1"
tsip() { tshark -r "$SW_TMP/tls.pcap" -Y "$1" 2>/dev/null | wc -l; }
[ "$(tsip "sip.Method == \"INVITE\" && ip.src == 127.0.0.2 && ip.dst == 127.0.0.1 && tcp.dstport == $P_TLS_EDGE")" = 1 ] ||
	fail "no captured INVITE from the Edge over TLS"
[ "$(tsip "sip.Method == \"INVITE\" && ip.src == 127.0.0.1 && ip.dst == 127.0.0.3 && tcp.dstport == $P_CMS && sip.msg_hdr contains \"X-CID\"")" = 1 ] ||
	fail "no captured INVITE toward cms over TLS"
[ "$(tsip 'sip.Method == "BYE"')" = 2 ] || fail "captured BYEs: $(tsip 'sip.Method == "BYE"'), expected 2"
ok "TLS messages captured in cleartext on both legs"
# [zone] fqdn: the gateway's Contact names it by the host name its
# certificate carries, toward each zone, in the dialog's requests too
[ "$(tsip "sip.Status-Code == 200 && sip.CSeq.method == \"INVITE\" && ip.dst == 127.0.0.2 && sip.Contact == \"<sip:gw-edge:$P_TLS_EDGE;transport=tls>\"")" = 1 ] ||
	fail "the 200 toward the Edge has no Contact <sip:gw-edge:$P_TLS_EDGE;transport=tls>"
[ "$(tsip "(sip.Method == \"INVITE\" || sip.Method == \"BYE\") && ip.dst == 127.0.0.3 && sip.Contact == \"<sip:gw-main.example.net:$P_TLS_MAIN;transport=tls>\"")" = 2 ] ||
	fail "the INVITE and BYE toward cms lack Contact <sip:gw-main.example.net:$P_TLS_MAIN;transport=tls>"
[ "$(tsip 'sip.Method == "ACK" && sip.r-uri.host == "gw-edge"')" = 1 ] ||
	fail "the Edge's ACK did not go to the gateway's Contact"
ok "Contact per zone: gw-edge toward the Edge, gw-main.example.net toward cms"

timeout 20 python3 "$SIPP_DIR/tls_peer.py" uac 127.0.0.2 "$P_TLS_EDGE" "$D/ca.pem" >"$SW_TMP/nocert.out" 2>&1
[ $? = 2 ] || { cat "$SW_TMP/nocert.out"; fail "client without certificate not refused"; }
ok "client without a certificate refused"

timeout 20 python3 "$SIPP_DIR/tls_peer.py" uac 127.0.0.2 "$P_TLS_EDGE" "$D/ca.pem" \
	"$D/intruder.test.pem" "$D/intruder.test.key" >"$SW_TMP/intruder.out" 2>&1
[ $? = 2 ] || { cat "$SW_TMP/intruder.out"; fail "unlisted subject not refused"; }
ok "client certificate with an unlisted subject refused"
kill -0 "$SW_DPID" || fail "daemon died"
sw_stop
