# Sourced by the application-sharing integration tests (60, 61, 62): start
# sharewayd with tests/appshare/gateway.conf.in on this test's ports (the
# certificates of its TLS listeners made in $SW_TMP/pki: a CA, the
# gateway's sbc.gw.test, the Edge's edge.test, the TURN server's 127.0.0.1),
# run one case script of tests/appshare against it, stop it, fail on any
# failed case.
# as_gateway SCRIPT RELAY_LO RELAY_HI [sed expression]...
as_gateway() {
	local script=$1 rc
	shift
	as_gateway_start "$@"
	as_cases "$script" ${SW_CASES:-}
	rc=$?
	grep -E "ERROR|WARN" "$SW_TMP/sharewayd.log" | tail -20
	sw_stop
	[ $rc = 0 ] || fail "application-sharing cases of $script failed"
	grep -q "stopped" "$SW_TMP/sharewayd.log" || fail "no clean stop"
}

# as_gateway_start RELAY_LO RELAY_HI [sed expression]...: the certificates,
# the configuration and the running daemon (SW_DPID)
as_gateway_start() {
	local lo=$1 hi=$2 D=$SW_TMP/pki n name file
	local ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
	shift 2
	# the TLS listeners are on 127.0.0.1, where no test actor binds
	sed -e "s/@SIP_PORT@/$(port 0)/g" -e "s/@TURN_PORT@/$(port 1)/g" \
		-e "s/@SIP_TLS_PORT@/$(port 2)/g" -e "s/@TURN_TLS_PORT@/$(port 3)/g" \
		-e "s/@RELAY_LO@/$lo/" -e "s/@RELAY_HI@/$hi/" "$@" \
		"$SW_SRC/tests/appshare/gateway.conf.in" >"$SW_TMP/shareway.conf"
	mkdir -p "$D"
	openssl req -x509 $ec -days 2 -keyout "$D/ca.key" -out "$D/ca.pem" \
		-subj "/CN=shareway e2e CA" 2>/dev/null || fail "CA"
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
}

# as_cases SCRIPT [CASE]...: run cases of a tests/appshare script against
# the running daemon; its exit status
as_cases() {
	local script=$1
	shift
	export PYTHONPATH=$SW_SRC/tests PYTHONDONTWRITEBYTECODE=1
	/usr/bin/python3 "$SW_SRC/tests/appshare/$script" --sip "$(port 0)" --turn "$(port 1)" \
		--sip-tls "$(port 2)" --turn-tls "$(port 3)" --pki "$SW_TMP/pki" \
		--port-base "$SW_PORT_BASE" --shareway "$SHAREWAY" --conf "$SW_TMP/shareway.conf" \
		--state "$SW_TMP/state" "$@"
}
