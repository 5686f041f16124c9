# lib_cluster.sh: several sharewayd instances on one throw-away PostgreSQL
# 15 (issue 15), for tests/integration/7x-cluster-*.sh; sourced after
# tests/lib.sh and tests/sipp/sip-lib.sh.
#
#  cl_pg_start            initdb + start as user postgres (root cannot run
#                         it) in a short private dir, role and database
#                         shareway; CL_CONNINFO is what instances use
#  cl_pg_stop / _start    the outage and the way back (same data)
#  cl_pg_q SQL            psql as postgres: unaligned, tuples only, '|'
#  cl_conf NAME IP [EXTRA-CLUSTER-LINES] [EXTRA-SIP-LINES] [EXTRA-TURN-LINES]
#                         $SW_TMP/NAME/shareway.conf: SIP udp+tcp IP:5060,
#                         TURN tcp IP:3478 relaying on IP, zones edge
#                         (127.0.0.2) and cms (127.0.0.3:$P_CMS, the SIPp
#                         conference of sip-lib.sh), rules of sip-lib.sh
#  cl_start NAME          start it, wait for "ready" and its registry row
#  cl_stop NAME / cl_kill9 NAME
#  cl_cli NAME ARGS...    shareway -c its configuration ARGS...
#  cl_local NAME SQL      sqlite3 on its local call log
#  cl_wait_sql SQL WANT [SECONDS]  until cl_pg_q SQL prints WANT
#
# PostgreSQL leaves shared memory behind if its namespace dies under it:
# run-tests.sh gives each test its own IPC namespace (--ipc) and this file
# mounts a private /dev/shm; the EXIT trap stops the server at once.
PGBIN=/usr/lib/postgresql/15/bin
CL_PG_PORT=$(port 35)
CL_PG_DIR=""
CL_CONNINFO=""
declare -A CL_PID=() CL_IP=()

cl_cleanup() {
	local n
	for n in "${!CL_PID[@]}"; do kill -9 "${CL_PID[$n]}" 2>/dev/null; done
	if [ -n "$CL_PG_DIR" ] && [ -f "$CL_PG_DIR/data/postmaster.pid" ]; then
		cl_asu "$PGBIN/pg_ctl" -D "$CL_PG_DIR/data" -m immediate -w stop \
			>/dev/null 2>&1
	fi
	[ -n "$CL_PG_DIR" ] && rm -rf "$CL_PG_DIR"
	sw_cleanup
}
trap cl_cleanup EXIT

cl_asu() { (cd / && setpriv --reuid=postgres --regid=postgres --clear-groups -- "$@"); }

cl_pg_start() {
	[ -x "$PGBIN/initdb" ] || fail "PostgreSQL 15 missing: apt-get install postgresql-15 (./bootstrap)"
	mountpoint -q /dev/shm && umount -l /dev/shm 2>/dev/null
	mount -t tmpfs -o size=256m,mode=1777 tmpfs /dev/shm || fail "private /dev/shm"
	# short: the socket path must stay under 107 bytes
	CL_PG_DIR=$(mktemp -d /tmp/swpg.XXXXXX)
	chown postgres:postgres "$CL_PG_DIR"; chmod 755 "$CL_PG_DIR"
	cl_asu "$PGBIN/initdb" -D "$CL_PG_DIR/data" -U postgres -A trust -E UTF8 \
		--locale=C.UTF-8 --no-sync >"$SW_TMP/pg-initdb.log" 2>&1 ||
		{ cat "$SW_TMP/pg-initdb.log"; fail "initdb"; }
	cat >>"$CL_PG_DIR/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $CL_PG_PORT
unix_socket_directories = '$CL_PG_DIR'
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 16MB
max_connections = 30
EOF
	cl_pg_up
	"$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$CL_PG_DIR" -p "$CL_PG_PORT" -U postgres \
		-c "CREATE ROLE shareway LOGIN PASSWORD 'sw'" \
		-c "CREATE DATABASE shareway OWNER shareway" >/dev/null ||
		fail "CREATE ROLE/DATABASE"
	CL_CONNINFO="hostaddr=127.0.0.1 port=$CL_PG_PORT dbname=shareway user=shareway password=sw sslmode=disable gssencmode=disable"
}

cl_pg_up() {
	cl_asu "$PGBIN/pg_ctl" -D "$CL_PG_DIR/data" -l "$CL_PG_DIR/log" -w -t 20 start \
		>/dev/null || { tail "$CL_PG_DIR/log"; fail "PostgreSQL did not start"; }
}
cl_pg_stop() {
	cl_asu "$PGBIN/pg_ctl" -D "$CL_PG_DIR/data" -m fast -w stop >/dev/null ||
		fail "PostgreSQL did not stop"
}

cl_pg_q() {
	"$PGBIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h "$CL_PG_DIR" -p "$CL_PG_PORT" \
		-U postgres -d shareway -c "$1"
}

cl_wait_sql() { # SQL WANT [SECONDS]
	local n=$(( ${3:-10} * 10 )) got=""
	while [ $n -gt 0 ]; do
		got=$(cl_pg_q "$1" 2>/dev/null) && [ "$got" = "$2" ] && return 0
		sleep 0.1; n=$((n - 1))
	done
	echo "timed out waiting for '$2' from: $1 (last: '$got')" >&2
	return 1
}

cl_conf() { # NAME IP [EXTRA-CLUSTER-LINES] [EXTRA-SIP-LINES] [EXTRA-TURN-LINES]
	local n=$1 ip=$2 d=$SW_TMP/$1
	mkdir -p "$d/state"
	CL_IP[$n]=$ip
	cat >"$d/shareway.conf" <<EOC
[general]
log_level = info
state_dir = $d/state
rules_file = rules.conf
[sip]
listen = udp:$ip:5060 tcp:$ip:5060
invite_timeout = 5
${4:-}
[turn]
listen = tcp:$ip:3478
relay_ip = $ip
relay_ports = 40000-40999
realm = shareway
${5:-}
[appsharing]
relay_pool = 2
[zone edge]
edge = yes
match.source = 127.0.0.2/32 127.0.0.10/32
target = sip:127.0.0.2:$P_EDGE
[zone cms]
match.source = 127.0.0.3/32
target = sip:127.0.0.3:$P_CMS
[cluster]
enable = yes
instance = $n
conninfo = $CL_CONNINFO
${3:-}
EOC
	sip_rules "$d/rules.conf"
}

cl_start() { # NAME
	local n=$1 d=$SW_TMP/$1
	"$SHAREWAYD" -c "$d/shareway.conf" >>"$d/sharewayd.log" 2>&1 &
	CL_PID[$n]=$!
	SW_PIDS="$SW_PIDS ${CL_PID[$n]}"
	wait_for "$d/sharewayd.log" ' ready' 15 ||
		{ tail -n 30 "$d/sharewayd.log"; fail "$n did not start"; }
	cl_wait_sql "SELECT state FROM sw_instances WHERE name = '$n' AND heartbeat > now() - interval '2 s'" \
		active 15 || { tail -n 30 "$d/sharewayd.log"; fail "$n not in the registry"; }
}

cl_stop() { # NAME: SIGTERM, a clean exit within 15 s
	local n=$1 pid=${CL_PID[$1]} i=150
	kill -TERM "$pid" 2>/dev/null || return 1
	while kill -0 "$pid" 2>/dev/null && [ $i -gt 0 ]; do sleep 0.1; i=$((i - 1)); done
	kill -0 "$pid" 2>/dev/null && fail "$n did not stop on SIGTERM"
	wait "$pid" 2>/dev/null
	unset "CL_PID[$n]"
}

cl_kill9() { # NAME
	kill -9 "${CL_PID[$1]}"; wait "${CL_PID[$1]}" 2>/dev/null
	unset "CL_PID[$1]"
}

cl_cli() { local n=$1; shift; "$SHAREWAY" -c "$SW_TMP/$n/shareway.conf" "$@"; }

cl_local() { sqlite3 -readonly "$SW_TMP/$1/state/calls.db" "$2"; }

# cl_uac NAME INSTANCE PORT SERVICE CALLS HOLD_MS [SDPFILE]: SIPp callers
# from the Edge side (127.0.0.2:PORT) to INSTANCE, 10 calls/s, each held
# HOLD_MS; its exit status; logs in $SW_TMP/NAME.*
cl_uac() {
	local name=$1 inst=$2 p=$3 svc=$4 m=$5 hold=$6 sdp=${7:-$AUDIO} f
	# its own copy of the scenario: callers may run side by side
	mkdir -p "$SW_TMP/$name.d"
	f=$(SW_TMP=$SW_TMP/$name.d SCN_SET="HOLD=$hold" scn uac_call "$sdp")
	timeout 90 sipp "${CL_IP[$inst]}:5060" -sf "$f" -i 127.0.0.2 \
		-p "$p" -s "$svc" -m "$m" -r 10 -timeout 60s -recv_timeout 10000 \
		-nostdin -trace_err -error_file "$SW_TMP/$name.err" \
		>"$SW_TMP/$name.out" 2>&1
}
AUDIO=$SDP_DIR/ms-sdp-2.2-lcs-era-example-msdata.sdp
