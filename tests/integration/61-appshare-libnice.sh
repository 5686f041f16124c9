#!/bin/bash
# timeout: 180
# Application sharing with a real MS-ICE2 peer: libnice 0.1.21 in OC2007R2
# mode as the ICE agent of the Edge and of the conference through the real
# sharewayd (relay and observe modes, a direct path available), and the
# completion re-INVITE following the controlling agent's nomination
# (regular, held, aggressive) (tests/appshare/nice.py). The daemon has no
# inside candidate here: libnice would also reach the Edge through it.
. "$SW_SRC/tests/lib.sh"

/usr/bin/python3 -c 'import gi; gi.require_version("Nice", "0.1")' 2>/dev/null ||
	fail "libnice's GObject introspection is missing (./bootstrap installs gir1.2-nice-0.1, python3-gi)"
sed -e "s/@SIP_PORT@/$(port 0)/g" -e "s/@TURN_PORT@/$(port 1)/g" \
	-e "s/@RELAY_LO@/46000/" -e "s/@RELAY_HI@/46999/" \
	-e "s/^inside_candidate = yes/inside_candidate = no/" \
	-e "s/^check_timeout = .*/check_timeout = 6/" \
	"$SW_SRC/tests/appshare/gateway.conf.in" >"$SW_TMP/shareway.conf"
cp "$SW_SRC/tests/appshare/rules.conf" "$SW_TMP/rules.conf"
mkdir -p "$SW_TMP/state"
"$SHAREWAYD" -c "$SW_TMP/shareway.conf" --state-dir "$SW_TMP/state" \
	>"$SW_TMP/sharewayd.log" 2>&1 &
SW_DPID=$!; SW_PIDS="$SW_PIDS $SW_DPID"
wait_for "$SW_TMP/sharewayd.log" ' ready' 15 || fail "sharewayd did not start"

export PYTHONPATH=$SW_SRC/tests PYTHONDONTWRITEBYTECODE=1
/usr/bin/python3 "$SW_SRC/tests/appshare/nice.py" --sip "$(port 0)" --turn "$(port 1)" \
	--port-base "$SW_PORT_BASE" --shareway "$SHAREWAY" --conf "$SW_TMP/shareway.conf" \
	--state "$SW_TMP/state" ${SW_CASES:-}
rc=$?
grep -E "ERROR|WARN" "$SW_TMP/sharewayd.log" | tail -20
sw_stop
[ $rc = 0 ] || fail "libnice application-sharing cases failed"
grep -q "stopped" "$SW_TMP/sharewayd.log" || fail "no clean stop"
