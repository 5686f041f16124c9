#!/bin/bash
# timeout: 60
# A reload (shareway reload, as SIGHUP) hands the [turn] users and REST
# secret to the relay threads by value: an allocation in progress whose
# user the reload removed keeps working with the credentials of its
# Allocate (Refresh, CreatePermission, Connect, ConnectionBind, bytes
# through it), a new Allocate by that user gets 401, the added user and
# the new REST secret are taken, the old secret is not; and the log
# level is reloaded with them.
. "$SW_SRC/tests/lib.sh"

turn_setup
turn_conf "$SW_TMP/shareway.conf" 1 "allow_peer = 127.0.0.0/8"
sw_start "$SW_TMP/shareway.conf"
RELOAD="sed -i -e 's/^user = cms:cmssecret/user = cms3:new3/' \
	-e 's/^static_auth_secret = restsecret/static_auth_secret = newrest/' \
	-e 's/^log_level = debug/log_level = notice/' '$SW_TMP/shareway.conf' &&
	'$SHAREWAY' -c '$SW_TMP/shareway.conf' reload >'$SW_TMP/reload.out'"
timeout 30 python3 "$SW_SRC/tests/integration/turn_probe.py" 127.0.0.1 "$(port 1)" \
	reload "$RELOAD" restsecret newrest >"$SW_TMP/probe.out" 2>&1 ||
	{ cat "$SW_TMP/probe.out" "$SW_TMP/reload.out"; tail -20 "$SW_TMP/sharewayd.log"; fail "TURN reload"; }
cat "$SW_TMP/probe.out"
grep -q "TURN credentials reloaded: 1 users, REST secret set" "$SW_TMP/sharewayd.log" ||
	fail "the relay thread did not log the new credentials"
ok "TURN users and secret reloaded, the allocation in progress kept working"

$SHAREWAY -c "$SW_TMP/shareway.conf" status --json >"$SW_TMP/status.json" || fail "status"
python3 -c 'import json,sys; d = json.load(open(sys.argv[1]))["daemon"]; assert d["log_level"] == "NOTICE", d' \
	"$SW_TMP/status.json" || fail "log level not reloaded: $(cat "$SW_TMP/status.json")"
ok "log level reloaded"
sw_stop
