# lib.sh: helpers for tests/integration/*.sh (sourced).
# Environment from run-tests.sh: SW_BUILD SW_SRC SW_SHARED SW_TMP SW_PORT_BASE.
# Every helper is bounded in time; everything started is killed on exit.
set -u
SW_BUILD=${SW_BUILD:?run through tests/run-tests.sh}
SW_TMP=${SW_TMP:?}
SW_PORT_BASE=${SW_PORT_BASE:-21000}
SHAREWAYD=$SW_BUILD/src/sharewayd
SHAREWAY=$SW_BUILD/src/shareway
SW_PIDS=""

sw_cleanup() {
	for p in $SW_PIDS; do kill "$p" 2>/dev/null; done
	sleep 0.2
	for p in $SW_PIDS; do kill -9 "$p" 2>/dev/null; done
	return 0
}
trap sw_cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }

# port N: the Nth port reserved for this test (0..39)
port() { echo $((SW_PORT_BASE + $1)); }

# wait_for FILE REGEX [SECONDS]: until a line matches or time runs out
wait_for() {
	local f=$1 re=$2 n=$(( ${3:-10} * 10 ))
	while [ $n -gt 0 ]; do
		grep -Eq -- "$re" "$f" 2>/dev/null && return 0
		sleep 0.1; n=$((n - 1))
	done
	echo "timed out waiting for /$re/ in $f" >&2
	return 1
}

# sw_start CONF: run sharewayd in the background, wait for "ready"
sw_start() {
	local conf=$1
	: >"$SW_TMP/sharewayd.log"
	"$SHAREWAYD" -c "$conf" >>"$SW_TMP/sharewayd.log" 2>&1 &
	SW_DPID=$!
	SW_PIDS="$SW_PIDS $SW_DPID"
	wait_for "$SW_TMP/sharewayd.log" ' ready' 15 ||
		{ cat "$SW_TMP/sharewayd.log"; fail "sharewayd did not start"; }
}

# sw_stop: SIGTERM, then require a clean exit within 10 s
sw_stop() {
	kill -TERM "$SW_DPID" 2>/dev/null || return 1
	local n=100
	while kill -0 "$SW_DPID" 2>/dev/null && [ $n -gt 0 ]; do
		sleep 0.1; n=$((n - 1))
	done
	kill -0 "$SW_DPID" 2>/dev/null && fail "sharewayd did not stop on SIGTERM"
	wait "$SW_DPID"
}

# turn_setup: a self-signed certificate, an empty rule file and the state
# dir for the TURN tests' sharewayd
turn_setup() {
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$SW_TMP/key.pem" \
		-out "$SW_TMP/cert.pem" -days 2 -subj /CN=127.0.0.1 2>/dev/null ||
		fail "openssl req"
	: >"$SW_TMP/rules.conf"
	mkdir -p "$SW_TMP/state"
}

# turn_conf FILE THREADS [EXTRA-TURN-LINES]: sharewayd with TURN on
# udp/tcp port 1, tls port 2, relays on ports 10-39, user cms:cmssecret,
# REST secret restsecret; EXTRA-TURN-LINES end the [turn] section
turn_conf() {
	cat >"$1" <<CONF
[general]
log_level = debug
state_dir = $SW_TMP/state
rules_file = $SW_TMP/rules.conf
relay_threads = $2
[sip]
listen = udp:127.0.0.1:$(port 0)
[turn]
listen = udp:127.0.0.1:$(port 1) tcp:127.0.0.1:$(port 1) tls:127.0.0.1:$(port 2)
relay_ip = 127.0.0.1
relay_ports = $(port 10)-$(port 39)
realm = TANDBERG
user = cms:cmssecret
static_auth_secret = restsecret
tls_cert = $SW_TMP/cert.pem
tls_key = $SW_TMP/key.pem
${3:-}
CONF
}
