#!/bin/bash
# cluster.sh: three sharewayd behind Kamailio's dispatcher
# (contrib/kamailio/kamailio.cfg) next to one sharewayd reached directly,
# in the same run, both driven by bench/asbench (application-sharing
# calls end to end, relay policy): call setups per second at open-loop
# steps; then a rolling restart of the three (shareway drain --wait,
# SIGTERM, start, back in Kamailio's set) under a steady call rate: how
# long it takes, the SIP messages it costs, and the calls failed or cut.
# On one 2-core machine the three instances, Kamailio and the driver
# share the same cores: this shows the front's overhead, not scaling.
# Raw RESULT lines: $BENCH_OUT/cluster/results.txt; the Markdown section:
# $BENCH_OUT/cluster.md.
. "$(dirname "$0")/lib.sh"

OUT=$BENCH_OUT/cluster
RAW=$OUT/results.txt
ERR=$OUT/stderr.txt
MD=$BENCH_OUT/cluster.md
ASBENCH=$BENCH_BUILD/bench/asbench
KAM_CFG=$BENCH_SRC/contrib/kamailio/kamailio.cfg
R=$OUT/kam
mkdir -p "$OUT" "$R"
: >"$RAW"; : >"$ERR"

# Kamailio on 127.0.0.10, the instances on 127.0.0.11-13 (SIP and TURN
# on the same ports, relays on their own address), asbench's Edge on
# 127.0.0.2 and conference on 127.0.0.3
P_CL_SIP=30960; P_CL_TURN=30961
P_CL_EDGE=30962; P_CL_CONF=30963; P_CL_MEDIA=30964
if [ "$BENCH_QUICK" = 1 ]; then
	RATES="50 100 200"; SECS=3; ROLL_CPS=10; ROLL_SECS=25
else
	RATES="50 100 150 200 300"; SECS=8; ROLL_CPS=20; ROLL_SECS=40
fi
ROLL_HOLD=2
echo "PARAMS rates=$RATES secs=$SECS roll_cps=$ROLL_CPS roll_hold=$ROLL_HOLD" >"$OUT/params.txt"

not_measured() {
	{
		echo "### Several gateways behind Kamailio"
		echo
		echo "not measured: $1"
	} >"$MD"
	exit 0
}

[ -x "$ASBENCH" ] || not_measured "bench/asbench not built (make)"
command -v kamailio >/dev/null || not_measured "kamailio not installed (./bootstrap)"
for p in $P_CL_SIP $P_CL_TURN $P_CL_EDGE $P_CL_CONF $P_CL_MEDIA; do
	port_free "$p" || not_measured "port $p in use"
done

declare -A PID=()

inst_conf() { # NAME IP
	mkdir -p "$OUT/$1/state"
	cat >"$OUT/$1/shareway.conf" <<EOC
[general]
log_level = notice
state_dir = $OUT/$1/state
rules_file = $BENCH_SRC/bench/conf/rules-appshare.conf
max_open_files = 65536
[sip]
listen = udp:$2:$P_CL_SIP
max_calls = 0
max_cps = 0
[turn]
listen = tcp:$2:$P_CL_TURN
relay_ip = $2
relay_ports = 40000-47999
realm = shareway
user = cms:cmssecret
allow_peer = 127.0.0.0/8
[appsharing]
relay_pool = 64
[calllog]
retention_days = 0
[zone edge]
edge = yes
match.source = 127.0.0.2/32 127.0.0.10/32
transport = udp
[zone cms]
match.source = 127.0.0.3/32
transport = udp
EOC
}

inst_start() { # NAME
	: >"$OUT/$1/sharewayd.log"
	"$SHAREWAYD" -c "$OUT/$1/shareway.conf" >>"$OUT/$1/sharewayd.log" 2>&1 &
	PID[$1]=$!
	BENCH_PIDS="$BENCH_PIDS ${PID[$1]}"
	wait_for "$OUT/$1/sharewayd.log" ' ready' 15
}

inst_stop() { stop_pid "${PID[$1]}"; }

ds_state() { # IP: Kamailio's flags for it
	kamcmd -s "unix:$R/kamailio_ctl" dispatcher.list 2>/dev/null |
		awk -v u="sip:$1:$P_CL_SIP" '/URI:/ { x = ($2 == u) } x && /FLAGS:/ { print $2; exit }'
}

ds_wait() { # IP FLAGS: up to 10 s
	local n=100
	while [ "$(ds_state "$1")" != "$2" ] && [ $n -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
	[ $n -gt 0 ]
}

# as LABEL GATEWAY LIMIT ARGS...: one asbench run, its RESULT line
# labelled; its exit status
as() {
	local label=$1 gw=$2 limit=$3 line rc
	shift 3
	echo "# asbench $* -g $gw ($label)" >>"$ERR"
	line=$(timeout -k 5 "$limit" "$ASBENCH" "$@" -g "$gw" \
		-e 127.0.0.2:$P_CL_EDGE -c 127.0.0.3:$P_CL_CONF \
		-m 127.0.0.3:$P_CL_MEDIA -T $((limit - 10)) 2>>"$ERR")
	rc=$?
	grep '^RESULT' <<<"$line" | sed "s/^RESULT /RESULT label=$label /" >>"$RAW"
	return $rc
}

kv() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"; }

for i in 1 2 3; do
	inst_conf "i$i" "127.0.0.1$i"
	inst_start "i$i" || not_measured "sharewayd i$i did not start ($OUT/i$i/sharewayd.log)"
done
printf "1 sip:127.0.0.1%s:$P_CL_SIP 0 0 duid=i%s\n" 1 1 2 2 3 3 >"$R/dispatcher.list"
rm -f "$R/kamailio.pid"
kamailio -f "$KAM_CFG" -DD -E -Y "$R" -P "$R/kamailio.pid" -m 256 -M 16 \
	-A "DS_PORT=$P_CL_SIP" -A "DS_LIST=\"$R/dispatcher.list\"" \
	-A "DS_CTL=\"unix:$R/kamailio_ctl\"" >"$R/kamailio.log" 2>&1 &
BENCH_PIDS="$BENCH_PIDS $!"
for i in 1 2 3; do
	ds_wait "127.0.0.1$i" AP || not_measured "Kamailio does not probe i$i up ($R/kamailio.log)"
done

# --- setups/s: through Kamailio to three, and straight to one ------------
for rate in $RATES; do
	note "cluster: $rate calls/s through Kamailio, then to i1 directly"
	as kamailio-3 127.0.0.10:$P_CL_SIP $((SECS + 60)) rate "$rate" -d "$SECS"
	as direct-1 127.0.0.11:$P_CL_SIP $((SECS + 60)) rate "$rate" -d "$SECS"
done

# --- a rolling restart under a steady call rate -----------------------------
# fresh instances: calls the overloaded steps left behind (a late 200 of
# an instance Kamailio had given up on makes a dialog the caller never
# ends, and the gateway has no session timer) would make each drain wait
for i in 1 2 3; do
	inst_stop "i$i"
	inst_start "i$i" || not_measured "i$i did not start again"
done
for i in 1 2 3; do
	ds_wait "127.0.0.1$i" AP || not_measured "Kamailio does not probe i$i up again"
done
note "cluster: rolling restart under $ROLL_CPS calls/s, each held $ROLL_HOLD s"
k0=$(grep -c 'failed at .*(503), next' "$R/kamailio.log")
as rolling 127.0.0.10:$P_CL_SIP $((ROLL_SECS + 90)) rate "$ROLL_CPS" \
	-d "$ROLL_SECS" -H "$ROLL_HOLD" &
ROLL=$!
sleep 3
t0=$(date +%s.%N)
steps=""
for i in 1 2 3; do
	ts=$(date +%s.%N)
	left=$("$SHAREWAY" -c "$OUT/i$i/shareway.conf" drain --json |
		sed -n 's/.*"calls": *\([0-9]*\).*/\1/p')
	"$SHAREWAY" -c "$OUT/i$i/shareway.conf" drain --wait --timeout 60 >/dev/null ||
		note "cluster: i$i still had calls after 60 s"
	tw=$(date +%s.%N)
	inst_stop "i$i"
	inst_start "i$i" || not_measured "i$i did not start again"
	ds_wait "127.0.0.1$i" AP || note "cluster: Kamailio did not probe i$i up again"
	te=$(date +%s.%N)
	steps="$steps,i$i:$left:$(echo "$tw - $ts" | bc):$(echo "$te - $tw" | bc)"
done
total=$(echo "$(date +%s.%N) - $t0" | bc)
wait "$ROLL"
moved=$(( $(grep -c 'failed at .*(503), next' "$R/kamailio.log") - k0 ))
echo "ROLL total_s=$total moved_503=$moved steps=${steps#,}" >>"$RAW"
for i in 1 2 3; do inst_stop "i$i"; done

# --- the Markdown section ----------------------------------------------------
{
	echo "### Several gateways behind Kamailio (app sharing end to end)"
	echo
	echo "bench/asbench's app-sharing calls (relay policy: INVITE, TURN-TCP relay,"
	echo "MS-ICE2 checks both ways, both completion re-INVITEs, BYE) through Kamailio"
	echo "5.6's dispatcher (contrib/kamailio/kamailio.cfg: Call-ID hash, Record-Route,"
	echo "OPTIONS probes) to three sharewayd on 127.0.0.11-13, next to the same calls"
	echo "straight to one sharewayd, in the same run. On $(nproc) cores shared by"
	echo "Kamailio, three gateways and the driver this measures the front's overhead,"
	echo "not scaling: three instances on one machine have no more CPU than one."
	echo
	echo "| offered calls/s | through Kamailio to 3: setups/s | failed | setup p50 / p99 ms | direct to 1: setups/s | failed | setup p50 / p99 ms |"
	echo "|---|---|---|---|---|---|---|"
	for rate in $RATES; do
		k=$(grep "^RESULT label=kamailio-3 mode=rate offered_cps=$rate " "$RAW" | head -1)
		d=$(grep "^RESULT label=direct-1 mode=rate offered_cps=$rate " "$RAW" | head -1)
		echo "| $rate | $(kv "$k" setups_per_s) | $(kv "$k" failed) | $(kv "$k" setup_p50_ms) / $(kv "$k" setup_p99_ms) | $(kv "$d" setups_per_s) | $(kv "$d" failed) | $(kv "$d" setup_p50_ms) / $(kv "$d" setup_p99_ms) |"
	done
	echo
	r=$(grep '^RESULT label=rolling ' "$RAW" | head -1)
	roll=$(grep '^ROLL ' "$RAW")
	echo "Rolling restart of the three (for each: \`shareway drain --wait\`, SIGTERM,"
	echo "start, until Kamailio's probe sees it up) under $ROLL_CPS calls/s, each call"
	echo "held $ROLL_HOLD s: **$(kv "$roll" total_s | cut -c1-5) s** in all;"
	echo "$(kv "$r" calls) calls, $(kv "$r" setups) set up, **$(kv "$r" failed) failed or cut**"
	echo "($(kv "$r" failures)). SIP messages it cost: $(kv "$roll" moved_503) INVITEs answered"
	echo "503 by a draining instance and sent on by Kamailio to the next (one extra"
	echo "INVITE and 503 each), plus the 503 answers to Kamailio's OPTIONS probes while"
	echo "an instance drains (one a second). Per instance (calls in progress at the"
	echo "drain, s draining, s from SIGTERM to back in the set):"
	echo "$(kv "$roll" steps | tr ',' '\n' | awk -F: 'NF == 4 { printf "%s %s calls, %.2f s, %.2f s; ", $1, $2, $3, $4 }')"
} >"$MD"
