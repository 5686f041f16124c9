#!/bin/bash
# timeout: 120
# TURN redirects among three gateways on one PostgreSQL (issue 15, proof
# 5): an external TURN client (tests/integration/turn_probe.py, an RFC
# 6062 client like the conference server's) sent to a draining instance,
# or to one at [turn] redirect_allocations, gets 300 Try Alternate with
# MESSAGE-INTEGRITY and ALTERNATE-SERVER naming the least-loaded active
# instance of the registry, and allocates there; an instance neither
# draining nor loaded allocates itself, and so does a drained one taken
# back (shareway undrain).
. "$SW_SRC/tests/lib.sh"
. "$SW_SRC/tests/sipp/sip-lib.sh"
. "$SW_SRC/tests/lib_cluster.sh"

PROBE="/usr/bin/python3 $SW_SRC/tests/integration/turn_probe.py"

# drain_view NAME: "ALTERNATE REDIRECTING" from its status
drain_view() {
	cl_cli "$1" status --json | python3 -c 'import json, sys
d = json.load(sys.stdin)["drain"]
print(d.get("alternate", "-"), str(d["redirecting"]).lower())'
}

# wait_view NAME WANT: up to 10 s
wait_view() {
	local n=100
	while [ "$(drain_view "$1")" != "$2" ] && [ $n -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
	[ $n -gt 0 ] || fail "$1: alternate and redirect are '$(drain_view "$1")', want '$2'"
}

redirects() {
	cl_cli "$1" status --json | python3 -c 'import json, sys
print(json.load(sys.stdin)["drain"]["redirects"])'
}

cl_pg_start
cl_conf i1 127.0.0.11 "" "" "user = cms:cmssecret"
cl_conf i2 127.0.0.12 "" "" $'user = cms:cmssecret\nredirect_allocations = 4'
cl_conf i3 127.0.0.13 "" "" "user = cms:cmssecret"
for i in 1 2 3; do cl_start "i$i"; done

# i2 loaded: three allocations held there, with its ready pool of 2: 5
$PROBE 127.0.0.12 3478 hold 3 90 >"$SW_TMP/hold.out" 2>&1 &
SW_PIDS="$SW_PIDS $!"
wait_for "$SW_TMP/hold.out" '^ok hold' 10 || { cat "$SW_TMP/hold.out"; fail "allocations on i2"; }
cl_wait_sql "SELECT allocs FROM sw_instances WHERE name = 'i2'" 5 10 || fail "i2's load in the registry"

# neither draining nor loaded: allocated here
$PROBE 127.0.0.13 3478 redirect none >/dev/null || fail "i3 did not allocate itself"
ok "i3 (2 allocations, active) allocates itself"

# draining: to the least-loaded active instance, i3 (i2 holds 5)
cl_cli i1 drain >/dev/null || fail "drain i1"
cl_wait_sql "SELECT state FROM sw_instances WHERE name = 'i1'" draining 10 ||
	fail "i1 is not draining in the registry"
wait_view i1 "i3 true"
$PROBE 127.0.0.11 3478 redirect 127.0.0.13:3478 || fail "draining i1 did not redirect to i3"
[ "$(redirects i1)" = 1 ] || fail "i1 counts $(redirects i1) redirects, want 1"
ok "draining i1 (state draining in the registry): 300 Try Alternate to i3, allocated there"

# loaded: i2 at redirect_allocations 4 sends to i3 (i1 drains: not a target)
wait_view i2 "i3 true"
$PROBE 127.0.0.12 3478 redirect 127.0.0.13:3478 || fail "loaded i2 did not redirect to i3"
ok "i2 at redirect_allocations (5 of 4): 300 Try Alternate to i3, allocated there"

# taken back: allocates itself again
cl_cli i1 undrain >/dev/null || fail "undrain i1"
cl_wait_sql "SELECT state FROM sw_instances WHERE name = 'i1'" active 10 ||
	fail "i1 is not active again in the registry"
wait_view i1 "i3 false"
$PROBE 127.0.0.11 3478 redirect none >/dev/null || fail "i1 did not allocate after undrain"
ok "undrained i1 allocates itself again"
for i in 1 2 3; do cl_stop "i$i"; done
