#!/bin/bash
# timeout: 150
# Three gateways on one PostgreSQL (issue 15, proofs 2 and 3), with real
# calls by SIPp from the Edge side (127.0.0.2) through each instance
# (i1..i3 on 127.0.0.11-13) to a SIPp conference (127.0.0.3):
#  - the registry: three active instances, their addresses and load;
#  - the cluster call log is the union of the three local logs, nothing
#    lost or doubled, with PostgreSQL stopped during calls (the calls go
#    on) and started again;
#  - kill -9 of i2 with calls in progress: one survivor declares it gone
#    once its heartbeat is older than 3 s and cuts its open calls in the
#    cluster log with the verdict "gateway i2 stopped at T; the call was
#    cut"; calls to the survivors after that succeed.
. "$SW_SRC/tests/lib.sh"
. "$SW_SRC/tests/sipp/sip-lib.sh"
. "$SW_SRC/tests/lib_cluster.sh"

cl_pg_start
for i in 1 2 3; do cl_conf "i$i" "127.0.0.1$i"; done
for i in 1 2 3; do cl_start "i$i"; done
cl_wait_sql "SELECT string_agg(name || ':' || state || ':' || sip || ':' || turn, ' ' ORDER BY name) FROM sw_instances" \
	"i1:active:127.0.0.11:5060:127.0.0.11:3478 i2:active:127.0.0.12:5060:127.0.0.12:3478 i3:active:127.0.0.13:5060:127.0.0.13:3478" ||
	fail "registry"
[ "$(cl_pg_q "SELECT ports_free FROM sw_instances WHERE name = 'i1'")" -gt 900 ] ||
	fail "i1's load: no relay ports free"
ok "registry: i1, i2, i3 active with their SIP and TURN addresses"

# --- a call through each instance: in its local log and, shipped, in the
# cluster log with the same facts
SCN_SET="RING=0" uas uas_ring 127.0.0.3 "$P_CMS" 3 "$AUDIO"
for i in 1 2 3; do
	cl_uac "c$i" "i$i" "$(port $((2 + i)))" "500$i" 1 200 || { cat "$SW_TMP/c$i.out"; fail "call via i$i"; }
done
uas_wait || fail "the conference side of the first calls"
cl_wait_sql "SELECT count(*) FROM sw_calls WHERE end_us IS NOT NULL" 3 10 || fail "first calls not shipped"
for i in 1 2 3; do
	l=$(cl_local "i$i" "SELECT tag || '|' || state || '|' || verdict FROM calls")
	c=$(cl_pg_q "SELECT tag || '|' || state || '|' || verdict FROM sw_calls WHERE instance = 'i$i'")
	[ -n "$l" ] && [ "$l" = "$c" ] || fail "i$i: local '$l', cluster '$c'"
done
ok "one call through each instance, shipped as its local log has it"
