#!/bin/bash
# timeout: 150
# Nothing sent between the SIP thread and the relay threads is dropped
# unseen: sharewayd runs with the test aid SHAREWAY_TEST_RELAY_FULL, which
# refuses the relay command PERMIT as a full command queue would. Refused
# once, the PERMIT goes late and the call completes (the ladder says it was
# late); refused always, it is lost after 5 s and the call's record and
# verdict say so (tests/appshare/e2e.py cases permitlate, permitlost; the
# landed 28c2e2a ignored the send's result: the call silently never
# completed). The other way, with SHAREWAY_TEST_RELAY_EVQ_FULL the relay
# threads' event queue refuses the event of the Edge's connection: the
# call's record and verdict say it was lost (case evlost; it was a log
# line only).
. "$SW_SRC/tests/lib.sh"
. "$SW_SRC/tests/appshare/gateway.sh"

export SHAREWAY_TEST_RELAY_FULL=PERMIT:1
SW_CASES=permitlate as_gateway e2e.py 46000 46999
grep -q "test aid SHAREWAY_TEST_RELAY_FULL: relay command PERMIT refused at first" \
	"$SW_TMP/sharewayd.log" || fail "the test aid was not in force"
grep -q "relay command PERMIT sent .* ms late" "$SW_TMP/sharewayd.log" ||
	fail "no log line for the late PERMIT"
ok "a PERMIT a full queue refused once goes late; the call completes"

export SHAREWAY_TEST_RELAY_FULL=PERMIT
SW_CASES=permitlost as_gateway e2e.py 46000 46999
grep -q "relay command PERMIT could not be handed to its relay thread" \
	"$SW_TMP/sharewayd.log" || fail "no log line for the lost PERMIT"
ok "a PERMIT refused for 5 s is lost, and the call's verdict says so"

unset SHAREWAY_TEST_RELAY_FULL
export SHAREWAY_TEST_RELAY_EVQ_FULL=CONN_ATTEMPT
SW_CASES=evlost as_gateway e2e.py 46000 46999
grep -q "event queue full: event CONN_ATTEMPT of call .* dropped" \
	"$SW_TMP/sharewayd.log" || fail "no relay log line for the refused event"
ok "a relay event the event queue refused is lost, and the call's verdict says so"
