#!/bin/bash
# timeout: 150
# Nothing sent between the SIP thread and the relay threads is dropped
# unseen: sharewayd runs with the test aid SHAREWAY_TEST_RELAY_FULL, which
# refuses the relay command PERMIT as a full command queue would. Refused
# once, the PERMIT goes late and the call completes (the ladder says it was
# late); refused always, it is lost after 5 s and the call's record and
# verdict say so (tests/appshare/e2e.py cases permitlate, permitlost; the
# landed 28c2e2a ignored the send's result: the call silently never
# completed).
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
