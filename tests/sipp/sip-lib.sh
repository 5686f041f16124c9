# sip-lib.sh: helpers for tests/integration/3x-sip-*.sh (sourced after
# tests/lib.sh). The daemon listens on 127.0.0.1, the Edge-side SIPp on
# 127.0.0.2 and the CMS-side SIPp on 127.0.0.3; zones match by source IP.
# Every SIPp run is bounded (-m, -timeout, -recv_timeout).
SIPP_DIR=$SW_SRC/tests/sipp
SDP_DIR=$SW_SHARED/corpus/sdp
P_GW=$(port 0)
P_EDGE=$(port 1)
P_CMS=$(port 2)
# the corpus offer and answer most calls carry
OFFER=$SDP_DIR/sipe-issue83-appshare-offer-to-asmcu-pt96-rejected-24012.sdp
ANSWER=$SDP_DIR/ms-sdp-2.2-lcs-era-example-msdata.sdp

# sip_conf [EXTRA-SIP-LINES] [EXTRA-ZONE-EDGE-LINES]: shareway.conf + rules
sip_conf() {
	cat >"$SW_TMP/shareway.conf" <<EOC
[general]
log_level = debug
state_dir = $SW_TMP/state
rules_file = rules.conf
[sip]
listen = udp:127.0.0.1:$P_GW tcp:127.0.0.1:$P_GW
strip_headers = X-Internal-Hint
invite_timeout = 3
${1:-}
[turn]
enable = no
[zone edge]
edge = yes
match.source = 127.0.0.2/32
target = sip:127.0.0.2:$P_EDGE
${2:-}
[zone cms]
match.source = 127.0.0.3/32
target = sip:127.0.0.3:$P_CMS
EOC
	mkdir -p "$SW_TMP/state"
	sip_rules "$SW_TMP/rules.conf"
}

# sip_start [EXTRA-SIP-LINES] [EXTRA-ZONE-EDGE-LINES]: sip_conf, then the
# daemon on it
sip_start() {
	sip_conf "$@"
	sw_start "$SW_TMP/shareway.conf"
}

# sip_rules FILE: the test dial plan
sip_rules() {
	cat >"$1" <<EOR
[rule blocked]
priority = 5
match.ruri.user = prefix blocked
action = reject 403 Blocked by rule
[rule no-appsharing]
priority = 6
source = edge
match.ruri.user = prefix 88
media.applicationsharing = reject
rewrite.ruri = sip:noas@127.0.0.3:$P_CMS
target = cms
[rule strip-appsharing]
priority = 7
source = edge
match.ruri.user = prefix 77
media.applicationsharing = strip
rewrite.ruri = sip:strip@127.0.0.3:$P_CMS
target = cms
[rule normalise]
priority = 8
source = edge
match.ruri.user = prefix 99
rewrite.ruri.user = strip 2
on_match = continue
[rule edge-to-cms]
priority = 10
source = edge
match.ruri = regex ^sip:([^@]+)@
rewrite.ruri = sip:\$1@127.0.0.3:$P_CMS
target = cms
on_match = stop
[rule cms-to-edge]
priority = 20
source = cms
match.ruri = regex ^sip:([^@]+)@
rewrite.ruri = sip:\$1@127.0.0.2:$P_EDGE
target = edge
on_match = stop
EOR
}

# scn NAME [SDPFILE]: tests/sipp/NAME.xml with @SDP@ replaced by the file
scn() {
	local out=$SW_TMP/$1.xml sdp=${2:-}
	if [ -n "$sdp" ]; then
		awk -v f="$sdp" '
			/^@SDP@$/ { while ((getline l < f) > 0) { sub(/\r$/, "", l); print l } close(f); next }
			{ print }' "$SIPP_DIR/$1.xml" >"$out"
	else
		cp "$SIPP_DIR/$1.xml" "$out"
	fi
	# SCN_SET: lines KEY=value fill @KEY@ placeholders (no '|' in values)
	local IFS=$'\n' kv
	for kv in ${SCN_SET:-}; do
		sed -i "s|@${kv%%=*}@|${kv#*=}|g" "$out"
	done
	sed -i -e 's|@HOLD@|300|g' -e 's|@CTYPE@|multipart/alternative;boundary="----=_NextPart_000_001E_01CB4397.0B5EB570"|g' "$out"
	echo "$out"
}

# uas NAME IP PORT CALLS [SDPFILE] [sipp args]: a SIPp server in the
# background, logs in $SW_TMP/NAME-uas.*
uas() {
	local name=$1 ip=$2 p=$3 m=$4 sdp=${5:-}
	shift 5
	local f
	f=$(scn "$name" "$sdp")
	sipp -sf "$f" -i "$ip" -p "$p" -m "$m" -timeout 40s -nostdin \
		-trace_msg -message_file "$SW_TMP/$name-uas.msg" \
		-trace_err -error_file "$SW_TMP/$name-uas.err" \
		-trace_logs -log_file "$SW_TMP/$name-uas.log" "$@" \
		>"$SW_TMP/$name-uas.out" 2>&1 &
	UAS_PID=$!
	SW_PIDS="$SW_PIDS $UAS_PID"
	# ready when its socket is bound (a fixed pause lost the first INVITE
	# to ICMP port unreachable, 503, on a loaded machine); bounded, 10 s
	local n=100
	while [ $n -gt 0 ] && ! ss -Hlnut "sport = :$p" 2>/dev/null | grep -q .; do
		kill -0 "$UAS_PID" 2>/dev/null || break
		sleep 0.1; n=$((n - 1))
	done
}

# uac NAME IP PORT SERVICE CALLS [SDPFILE] [sipp args]: a SIPp client in
# the foreground toward the daemon; its exit status
uac() {
	local name=$1 ip=$2 p=$3 svc=$4 m=$5 sdp=${6:-}
	shift 6
	local f
	f=$(scn "$name" "$sdp")
	timeout 60 sipp "127.0.0.1:$P_GW" -sf "$f" -i "$ip" -p "$p" -s "$svc" \
		-m "$m" -r 5 -timeout 30s -recv_timeout 10000 -nostdin \
		-trace_msg -message_file "$SW_TMP/$name-uac.msg" \
		-trace_err -error_file "$SW_TMP/$name-uac.err" "$@" \
		>"$SW_TMP/$name-uac.out" 2>&1
}

# uas_wait: the background SIPp server ended well within 20 s
uas_wait() {
	local n=200
	while kill -0 "$UAS_PID" 2>/dev/null && [ $n -gt 0 ]; do
		sleep 0.1; n=$((n - 1))
	done
	kill -0 "$UAS_PID" 2>/dev/null && { kill "$UAS_PID"; return 1; }
	wait "$UAS_PID"
}

# show NAME: what SIPp said, for a failing test's log
show() {
	for f in "$SW_TMP/$1"-*.out "$SW_TMP/$1"-*.err; do
		[ -s "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }
	done
	tail -n 40 "$SW_TMP/sharewayd.log"
}

# body_of MSGFILE DIRECTION(sent|received) FIRSTLINE-REGEX: the body of
# the first such message in a SIPp -trace_msg file
body_of() {
	python3 "$SIPP_DIR/msgbody.py" "$@"
}
