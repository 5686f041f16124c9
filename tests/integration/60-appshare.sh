#!/bin/bash
# timeout: 240
# Application sharing end to end: the real sharewayd between a harness Edge
# (127.0.0.2) and a harness conference server (127.0.0.3): relay and observe
# modes, one-way check failure, 21002 rejection, BYE before checks, a peer
# closing mid-stream, ten calls in parallel, the conference side offering,
# m=applicationsharing added by re-INVITE, the Edge relay connecting before
# the permission, a TCP-ACT-only conference through the inside candidate,
# strip and relay in one call, hold and resume, presenter swap in one
# dialog (tests/appshare/e2e.py); the call log's pcap export (tshark -Y
# stun) and SDP history of relay, observe and confoffer.
. "$SW_SRC/tests/lib.sh"

# the TLS listeners are on 127.0.0.1, where no test actor binds
sed -e "s/@SIP_PORT@/$(port 0)/g" -e "s/@TURN_PORT@/$(port 1)/g" \
	-e "s/@SIP_TLS_PORT@/$(port 2)/g" -e "s/@TURN_TLS_PORT@/$(port 3)/g" \
	-e "s/@RELAY_LO@/45000/" -e "s/@RELAY_HI@/45999/" \
	"$SW_SRC/tests/appshare/gateway.conf.in" >"$SW_TMP/shareway.conf"
D=$SW_TMP/pki
mkdir -p "$D"
ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
openssl req -x509 $ec -days 2 -keyout "$D/ca.key" -out "$D/ca.pem" -subj "/CN=shareway e2e CA" \
	2>/dev/null || fail "CA"
for n in sbc.gw.test:DNS edge.test:DNS 127.0.0.1:IP; do
	name=${n%:*}; file=$name; [ "$name" = 127.0.0.1 ] && file=turn
	echo "subjectAltName=${n#*:}:$name" >"$D/$file.ext"
	openssl req -new $ec -keyout "$D/$file.key" -out "$D/$file.csr" -subj "/CN=$name" \
		2>/dev/null && openssl x509 -req -in "$D/$file.csr" -CA "$D/ca.pem" \
		-CAkey "$D/ca.key" -CAcreateserial -days 2 -extfile "$D/$file.ext" \
		-out "$D/$file.pem" 2>/dev/null || fail "certificate $name"
done
cp "$SW_SRC/tests/appshare/rules.conf" "$SW_TMP/rules.conf"
mkdir -p "$SW_TMP/state"
"$SHAREWAYD" -c "$SW_TMP/shareway.conf" --state-dir "$SW_TMP/state" \
	>"$SW_TMP/sharewayd.log" 2>&1 &
SW_DPID=$!; SW_PIDS="$SW_PIDS $SW_DPID"
wait_for "$SW_TMP/sharewayd.log" ' ready' 15 || fail "sharewayd did not start"

export PYTHONPATH=$SW_SRC/tests PYTHONDONTWRITEBYTECODE=1
/usr/bin/python3 "$SW_SRC/tests/appshare/e2e.py" --sip "$(port 0)" --turn "$(port 1)" \
	--sip-tls "$(port 2)" --turn-tls "$(port 3)" --pki "$D" \
	--port-base "$SW_PORT_BASE" --shareway "$SHAREWAY" --conf "$SW_TMP/shareway.conf" \
	--state "$SW_TMP/state" ${SW_CASES:-}
rc=$?
grep -E "ERROR|WARN" "$SW_TMP/sharewayd.log" | tail -20
sw_stop
[ $rc = 0 ] || fail "application-sharing cases failed"
grep -q "stopped" "$SW_TMP/sharewayd.log" || fail "no clean stop"
