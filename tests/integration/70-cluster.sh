#!/bin/bash
# timeout: 240
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
#    cut"; calls to the survivors after that succeed;
#  - TURN users and REST secrets read from PostgreSQL, two secrets at
#    once (rotation), the old one ended by its not_after.
. "$SW_SRC/tests/lib.sh"
. "$SW_SRC/tests/sipp/sip-lib.sh"
. "$SW_SRC/tests/lib_cluster.sh"

cl_pg_start
# i1 reads the TURN credentials every second and its TURN server relays
# to loopback (turnutils_uclient -y relays between two of its own
# allocations)
cl_conf i1 127.0.0.11 "credentials_refresh = 1" "" "allow_peer = 127.0.0.0/8
allow_own_addresses = yes"
for i in 2 3; do cl_conf "i$i" "127.0.0.1$i"; done
for i in 1 2 3; do cl_start "i$i"; done
cl_wait_sql "SELECT string_agg(name || ':' || state || ':' || sip || ':' || turn, ' ' ORDER BY name) FROM sw_instances" \
	"i1:active:127.0.0.11:5060:127.0.0.11:3478 i2:active:127.0.0.12:5060:127.0.0.12:3478 i3:active:127.0.0.13:5060:127.0.0.13:3478" ||
	fail "registry"
[ "$(cl_pg_q "SELECT ports_free FROM sw_instances WHERE name = 'i1'")" -gt 900 ] ||
	fail "i1's load: no relay ports free"
ok "registry: i1, i2, i3 active with their SIP and TURN addresses"
cl_wait_status() { # NAME REGEX: shareway status's cluster line says it
	local n=50
	while [ $n -gt 0 ]; do
		# the line wraps at 100 columns: read it as one
		cl_cli "$1" status 2>/dev/null | tr -s ' \n' '  ' | grep -Eq -- "$2" && return 0
		sleep 0.2; n=$((n - 1))
	done
	cl_cli "$1" status; return 1
}
cl_wait_status i1 "cluster i1: PostgreSQL up, [0-9]+ calls shipped; i1 active \\(0 calls, [0-9]+ allocations\\), i2 active .*, i3 active" ||
	fail "status: the cluster line"
ok "shareway status: the cluster line (the database link and the registry)"

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

# --- proof 2: PostgreSQL stopped while calls run on all three, started
# again: the calls succeed, and the cluster log ends up the union of the
# local logs, nothing lost or doubled
SCN_SET="RING=0" uas uas_ring 127.0.0.3 "$P_CMS" 30 "$AUDIO"
pids=""
for i in 1 2 3; do
	cl_uac "p$i" "i$i" "$(port $((2 + i)))" "600$i" 10 1500 & pids="$pids $!"
done
sleep 0.5
cl_pg_stop
for p in $pids; do wait "$p" || fail "a call failed while PostgreSQL was down"; done
uas_wait || fail "the conference side of the calls during the outage"
for i in 1 2 3; do
	wait_for "$SW_TMP/i$i/sharewayd.log" "PostgreSQL (connection lost|unreachable)" 10 ||
		fail "i$i did not notice the outage"
done
cl_wait_status i2 "cluster i2: PostgreSQL DOWN" || fail "status does not show the database down"
ok "30 calls through i1..i3 succeeded with PostgreSQL down"
cl_pg_up
cl_wait_sql "SELECT count(*) FROM sw_calls WHERE end_us IS NOT NULL" 33 30 ||
	fail "the cluster log did not catch up"
for i in 1 2 3; do
	cl_local "i$i" "SELECT tag || '|' || state || '|' || start_us || '|' || end_us || '|' || final_code || '|' || verdict FROM calls ORDER BY tag" >"$SW_TMP/local-i$i"
	cl_pg_q "SELECT tag || '|' || state || '|' || start_us || '|' || end_us || '|' || final_code || '|' || verdict FROM sw_calls WHERE instance = 'i$i' ORDER BY tag" >"$SW_TMP/cluster-i$i"
	[ "$(wc -l <"$SW_TMP/local-i$i")" = 11 ] || fail "i$i's local log: $(wc -l <"$SW_TMP/local-i$i") calls, not 11"
	diff "$SW_TMP/local-i$i" "$SW_TMP/cluster-i$i" || fail "i$i: the cluster log differs from the local log"
done
[ "$(cl_pg_q "SELECT count(*) FROM sw_instances WHERE state <> 'active'")" = 0 ] ||
	fail "an instance was declared gone after the outage: $(cl_pg_q 'SELECT * FROM sw_instances')"
[ "$(cl_pg_q "SELECT count(*) FROM sw_calls WHERE cut_by IS NOT NULL")" = 0 ] || fail "calls cut after the outage"
ok "after the outage: cluster log = union of the 3 local logs (33 calls, each once, same facts); nobody declared gone"

# the CLI reads the cluster view
cl_cli i3 calls --cluster --limit 0 >"$SW_TMP/calls-cluster.out" || fail "calls --cluster"
[ "$(grep -Ec ' i[123]/c-' "$SW_TMP/calls-cluster.out")" = 33 ] || { cat "$SW_TMP/calls-cluster.out"; fail "calls --cluster: not 33 lines"; }
tag=$(cl_local i1 "SELECT tag FROM calls ORDER BY id DESC LIMIT 1")
cl_cli i3 show --cluster "i1/$tag" >"$SW_TMP/show-cluster.out" || fail "show --cluster i1/$tag"
grep -q "^Call i1/$tag  completed 200" "$SW_TMP/show-cluster.out" || { cat "$SW_TMP/show-cluster.out"; fail "show --cluster"; }
cl_cli i3 show --cluster "$tag" >/dev/null 2>"$SW_TMP/show-amb.err" && fail "an ambiguous tag was shown"
grep -q "name one (INSTANCE/$tag)" "$SW_TMP/show-amb.err" || fail "ambiguous tag: $(cat "$SW_TMP/show-amb.err")"
ok "calls --cluster lists the 33 calls; show --cluster i1/$tag"

# --- TURN users and REST secrets from PostgreSQL, two secrets at once
cl_pg_q "INSERT INTO sw_turn_users VALUES ('pguser', 'pgpass'), ('cms', 'cmssecret');
	INSERT INTO sw_turn_secrets VALUES ('oldsecret', NULL), ('newsecret', NULL)" >/dev/null
wait_for "$SW_TMP/i1/sharewayd.log" "TURN credentials from PostgreSQL: 2 users, 2 REST secrets" 10 ||
	fail "i1 did not read the TURN credentials"
uc() { # NAME ARGS...: turnutils_uclient -T -y against i1
	local name=$1; shift
	timeout 60 turnutils_uclient -T -y -p 3478 -n 2 -m 1 -l 170 "$@" 127.0.0.11 >"$SW_TMP/$name.out" 2>&1
	grep -q ': 2 connections are completed' "$SW_TMP/$name.out"
}
uc tu -u pguser -w pgpass || { tail "$SW_TMP/tu.out"; fail "a TURN user of PostgreSQL refused"; }
uc tnew -u bob -W newsecret || { tail "$SW_TMP/tnew.out"; fail "the new REST secret refused"; }
uc told -u bob -W oldsecret || { tail "$SW_TMP/told.out"; fail "the old REST secret refused"; }
uc tbad -u bob -W othersecret && fail "a REST password under no secret in force accepted"
cl_pg_q "UPDATE sw_turn_secrets SET not_after = now() - interval '1 s' WHERE secret = 'oldsecret'" >/dev/null
wait_for "$SW_TMP/i1/sharewayd.log" "TURN credentials from PostgreSQL: 2 users, 1 REST secrets" 10 ||
	fail "i1 did not drop the old secret"
uc told2 -u bob -W oldsecret && fail "the old REST secret still accepted after its not_after"
ok "TURN: a user of PostgreSQL; REST passwords under either of two secrets, then the old one ended"

# --- proof 3: kill -9 of i2 with 3 calls in progress
SCN_SET="RING=0" uas uas_ring 127.0.0.3 "$P_CMS" 100 "$AUDIO"
cl_uac k2 i2 "$(port 4)" 7002 3 60000 & kpid=$!
cl_wait_sql "SELECT count(*) FROM sw_calls WHERE instance = 'i2' AND end_us IS NULL AND answer_us IS NOT NULL" 3 15 ||
	fail "i2's 3 calls in progress are not in the cluster log"
cl_kill9 i2
kill_ms=$(cl_pg_q "SELECT (EXTRACT(epoch FROM clock_timestamp()) * 1000)::bigint")
kill "$kpid" 2>/dev/null
cl_wait_sql "SELECT state FROM sw_instances WHERE name = 'i2'" gone 15 || fail "i2 not declared gone"
read -r age det by <<<"$(cl_pg_q "SELECT (EXTRACT(epoch FROM gone_at - heartbeat) * 1000)::bigint,
	(EXTRACT(epoch FROM gone_at) * 1000)::bigint - $kill_ms, gone_seen_by FROM sw_instances WHERE name = 'i2'" | tr '|' ' ')"
[ "$age" -ge 3000 ] || fail "i2 declared gone with a heartbeat only $age ms old"
case $by in i1|i3) ;; *) fail "i2 declared gone by '$by'";; esac
ok "i2 declared gone by $by ${det} ms after the kill (its last heartbeat ${age} ms old; dead_after 3000 ms)"
n=$(cl_pg_q "SELECT count(*) FROM sw_calls WHERE instance = 'i2' AND end_us IS NOT NULL AND state = 'lost'
	AND failed AND cut_by = '$by' AND verdict ~ '^gateway i2 stopped at [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} UTC; the call was cut$'")
[ "$n" = 3 ] || fail "$n of i2's 3 calls in progress got the failure verdict: $(cl_pg_q "SELECT tag, state, verdict FROM sw_calls WHERE instance = 'i2'")"
[ "$(cat "$SW_TMP/i1/sharewayd.log" "$SW_TMP/i3/sharewayd.log" | grep -c 'instance i2 is gone')" = 1 ] ||
	fail "not exactly one survivor marked i2 gone"
[ "$(cl_pg_q "SELECT count(*) FROM sw_calls WHERE instance = 'i2' AND end_us IS NULL")" = 0 ] || fail "i2 calls still open"
ok "i2's 3 calls in progress: '$(cl_pg_q "SELECT verdict FROM sw_calls WHERE instance = 'i2' AND cut_by IS NOT NULL LIMIT 1")', by one survivor"
# every call after the detection succeeds, on the survivors
cl_uac a1 i1 "$(port 3)" 8001 4 100 || { cat "$SW_TMP/a1.out"; fail "a call to i1 after the detection"; }
cl_uac a3 i3 "$(port 5)" 8003 4 100 || { cat "$SW_TMP/a3.out"; fail "a call to i3 after the detection"; }
cl_wait_sql "SELECT count(*) FROM sw_calls WHERE instance IN ('i1', 'i3') AND end_us IS NOT NULL AND state = 'completed'" 30 15 ||
	fail "the survivors' calls after the detection are not in the cluster log"
ok "8 calls to the survivors after the detection succeeded"

# i2 restarted: active again; the survivor's verdicts on its 3 cut calls
# stay (its own log now says lost), and its cluster rows are its local
# log's, each once
cl_start i2
wait_for "$SW_TMP/i2/sharewayd.log" "3 calls were in progress when sharewayd stopped" 10 ||
	fail "i2's restart did not mark its 3 calls lost"
sleep 2 # two shipping rounds
[ "$(cl_pg_q "SELECT count(*) FROM sw_calls WHERE instance = 'i2' AND cut_by = '$by'")" = 3 ] ||
	fail "i2's restart undid the cut verdicts: $(cl_pg_q "SELECT tag, verdict, cut_by FROM sw_calls WHERE instance = 'i2'")"
[ "$(cl_local i2 "SELECT tag FROM calls ORDER BY tag")" = "$(cl_pg_q "SELECT tag FROM sw_calls WHERE instance = 'i2' ORDER BY tag")" ] ||
	fail "after i2's restart its cluster rows are not its local calls"
ok "i2 restarted: active, its 3 cut calls keep the survivor's verdict, its rows = its local calls"

# --- the registry view names where TURN redirects go: i1 drains, the
# registry says so, and an external Allocate at i1 is sent (300
# ALTERNATE-SERVER) to the least-loaded active instance: i3 (i2 drains)
wait_for "$SW_TMP/i3/sharewayd.log" "TURN credentials from PostgreSQL: 2 users" 15 ||
	fail "i3 did not read the TURN users"
cl_cli i1 drain >"$SW_TMP/drain.out" 2>&1 || { cat "$SW_TMP/drain.out"; fail "drain i1"; }
cl_wait_sql "SELECT state FROM sw_instances WHERE name = 'i1'" draining 5 || fail "i1 drains, the registry does not say so"
cl_cli i2 drain >/dev/null 2>&1 || fail "drain i2"
cl_wait_sql "SELECT string_agg(state, ' ' ORDER BY name) FROM sw_instances" "draining draining active" 5 ||
	fail "i1 and i2 draining, i3 active: the registry disagrees"
# i1 learns the registry at its next heartbeat (1 s): the database saying
# "i2 draining" does not mean i1's view does yet, so a few tries, bounded
redirected=no
for try in 1 2 3 4 5; do
	if python3 "$SW_SRC/tests/integration/turn_probe.py" 127.0.0.11 3478 redirect 127.0.0.13:3478 \
		>"$SW_TMP/redirect.out" 2>&1; then
		redirected=yes; break
	fi
	sleep 1
done
[ $redirected = yes ] || { cat "$SW_TMP/redirect.out"; fail "redirect from the draining i1"; }
cl_cli i1 undrain >/dev/null 2>&1 || fail "undrain i1"
cl_wait_sql "SELECT state FROM sw_instances WHERE name = 'i1'" active 5 || fail "i1 undrained, the registry says otherwise"
ok "i1 (and i2) draining in the registry; an Allocate at i1 redirected to i3 by the view, allocated there; undrained"

# a clean stop leaves the registry
cl_stop i3
[ "$(cl_pg_q "SELECT state || '|' || gone_seen_by FROM sw_instances WHERE name = 'i3'")" = "gone|i3" ] ||
	fail "i3 stopped but its registry row says $(cl_pg_q "SELECT state FROM sw_instances WHERE name = 'i3'")"
ok "a clean stop: i3 left the registry itself"

# a database whose cluster schema is newer than this build: refused with
# one line, and the instance runs on alone (its calls do not need it;
# proof 3's conference still answers)
cl_pg_q "UPDATE sw_meta SET v = '99' WHERE k = 'schema'" >/dev/null
cl_start_nowait() { "$SHAREWAYD" -c "$SW_TMP/$1/shareway.conf" >>"$SW_TMP/$1/sharewayd.log" 2>&1 & CL_PID[$1]=$!; SW_PIDS="$SW_PIDS $!"; }
cl_start_nowait i3
wait_for "$SW_TMP/i3/sharewayd.log" "cluster schema is version 99, this sharewayd knows 1: upgrade it" 15 ||
	fail "a newer schema was not refused"
sleep 3 # its retries (every 2 s) log nothing more
[ "$(grep -c 'upgrade it' "$SW_TMP/i3/sharewayd.log")" = 1 ] || fail "the schema refusal logged more than once"
cl_uac n3 i3 "$(port 5)" 9003 1 100 || fail "a call to i3 without its cluster"
ok "a newer cluster schema refused in one line; i3 serves calls alone"
