#!/bin/bash
# timeout: 180
# sharewayd as a service (issue 12): the systemd unit passes
# `systemd-analyze verify` without a word on stderr (bad values only warn
# there, the exit code stays 0) and scores an exposure of at most 3.0 in
# `systemd-analyze security`; the production samples the package and
# make install ship load with --check-config, hold no demo value and list
# every key; sd_notify is seen by a NOTIFY_SOCKET of the test's own:
# READY=1 from the main pid once every listener accepts, STATUS= with the
# calls in progress, RELOADING=1/READY=1 around a reload, STOPPING=1;
# `shareway reload` (the unit's ExecReload) exits 1 when the daemon
# refuses the configuration; the version configure set is what
# --version, status, TURN SOFTWARE and SIP User-Agent say; make install
# puts the samples where the binaries look; debian/ agrees with
# ./bootstrap and configure.ac.
. "$SW_SRC/tests/lib.sh"
. "$SW_SRC/tests/sipp/sip-lib.sh"

V=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' "$SW_BUILD/config.h")
[ -n "$V" ] || fail "no PACKAGE_VERSION in config.h"

# --- --version ----------------------------------------------------------
[ "$("$SHAREWAYD" --version)" = "sharewayd $V" ] || fail "sharewayd --version: $("$SHAREWAYD" --version)"
[ "$("$SHAREWAY" --version)" = "shareway $V" ] || fail "shareway --version: $("$SHAREWAY" --version)"
ok "--version: sharewayd $V, shareway $V"

# --- the unit -----------------------------------------------------------
# rendered with this build's programs: verify checks that they exist
unit() {
	mkdir -p "$SW_TMP/unit"
	sed -e "s|@sbindir@|$SW_BUILD/src|g" -e "s|@bindir@|$SW_BUILD/src|g" \
		-e "s|@sysconfdir@|/etc|g" "$SW_SRC/contrib/sharewayd.service.in" \
		>"$SW_TMP/unit/sharewayd.service"
}
verify() { # verify: systemd-analyze verify's stderr into verify.err
	(cd "$SW_TMP/unit" && systemd-analyze verify --man=no ./sharewayd.service) \
		>"$SW_TMP/verify.out" 2>"$SW_TMP/verify.err"
}
command -v systemd-analyze >/dev/null || fail "systemd-analyze missing (Debian package systemd)"
unit
# the check can fail: a bad value is reported on stderr
sed -i 's/^ProtectSystem=strict$/ProtectSystem=bogus/' "$SW_TMP/unit/sharewayd.service"
verify
grep -q 'ProtectSystem\|protect system' "$SW_TMP/verify.err" ||
	fail "systemd-analyze verify did not report ProtectSystem=bogus: $(cat "$SW_TMP/verify.err")"
unit
verify || fail "systemd-analyze verify failed: $(cat "$SW_TMP/verify.err")"
[ ! -s "$SW_TMP/verify.err" ] || fail "systemd-analyze verify complains: $(cat "$SW_TMP/verify.err")"
ok "systemd-analyze verify: no complaint"

(cd "$SW_TMP/unit" && systemd-analyze security --offline=true --threshold=30 ./sharewayd.service) \
	>"$SW_TMP/security.out" 2>&1 || { tail -5 "$SW_TMP/security.out"; fail "systemd-analyze security: exposure above 3.0"; }
exposure=$(sed -n 's/.*Overall exposure level for sharewayd.service: \([0-9.]*\) .*/\1/p' "$SW_TMP/security.out")
[ -n "$exposure" ] && awk -v e="$exposure" 'BEGIN { exit !(e <= 3.0) }' ||
	fail "exposure '$exposure' (at most 3.0): $(tail -3 "$SW_TMP/security.out")"
for d in 'Type=notify' 'User=shareway' 'AmbientCapabilities=CAP_NET_BIND_SERVICE' \
	'StateDirectory=shareway' 'RuntimeDirectory=shareway' 'LimitNOFILE=' \
	"ExecStartPre=$SW_BUILD/src/sharewayd --check-config" "ExecReload=$SW_BUILD/src/shareway .* reload"; do
	grep -q "^$d" "$SW_TMP/unit/sharewayd.service" || fail "the unit lacks $d"
done
ok "systemd-analyze security: exposure $exposure"

# --- the production samples ------------------------------------------------
mkdir -p "$SW_TMP/etc"
cp "$SW_BUILD/conf/shareway.conf.sample" "$SW_TMP/etc/shareway.conf" &&
	cp "$SW_BUILD/conf/rules.conf.sample" "$SW_TMP/etc/rules.conf" ||
	fail "no production samples in the build tree"
"$SHAREWAYD" --check-config -c "$SW_TMP/etc/shareway.conf" >"$SW_TMP/sample.out" 2>&1 ||
	fail "the production sample does not load: $(cat "$SW_TMP/sample.out")"
grep -Hn -E 'cmssecret|@[A-Z]+@' "$SW_TMP/etc/shareway.conf" "$SW_TMP/etc/rules.conf" &&
	fail "demo values in the production samples (above)"
# loopback is the demo's everywhere but [metrics] listen, which is
# loopback by design (an unauthenticated HTTP endpoint)
awk '/^\[/ { sec = $0 } !/^#/ && sec != "[metrics]" &&
	(/127\.0\.0\./ || /^user *=/ || /^allow_peer/) { print FILENAME ":" FNR ": " $0; bad = 1 }
	END { exit !bad }' "$SW_TMP/etc/shareway.conf" "$SW_TMP/etc/rules.conf" &&
	fail "loopback addresses or users set in the production samples (above)"
grep -q "^control_socket = /run/shareway/shareway.sock$" "$SW_TMP/etc/shareway.conf" ||
	fail "the sample's control socket is not in the unit's RuntimeDirectory"
# every key of base/sw_conf.c's tables, in the demo and in the sample
for f in "$SW_SRC/conf/shareway.conf" "$SW_TMP/etc/shareway.conf"; do
	for k in $(grep -o '^	{"[a-z]*", "[a-z_.0-9]*"' "$SW_SRC/base/sw_conf.c" | awk -F'"' '$2 != "zone" { print $4 }'); do
		grep -Eq "^#?$k = " "$f" || fail "$f lists no '$k = ' line"
	done
	for k in $(grep -o '^	{"zone", "[a-z_.0-9]*"' "$SW_SRC/base/sw_conf.c" | awk -F'"' '{ print $4 }'); do
		grep -q -- "$k" "$f" || fail "$f does not name the zone key $k"
	done
done
ok "production samples: load, no demo value, every key"

# --- make install and debian/ (the package build itself, 80 s of CPU, is
# tests/deb-package.sh in tools/ci-extra.sh) ---------------------------------
confdir=$("$SHAREWAYD" --help | sed -n 's/.*--config FILE.*(default \(.*\)\/shareway.conf)$/\1/p')
state=$("$SHAREWAYD" --help | sed -n 's/^ *(default \(.*\))$/\1/p')
[ -n "$confdir" ] && [ -n "$state" ] || fail "sharewayd --help names no default paths"
R=$SW_TMP/root
make -C "$SW_BUILD" install DESTDIR="$R" >"$SW_TMP/install.log" 2>&1 ||
	{ tail -20 "$SW_TMP/install.log"; fail "make install"; }
sbin=$(cd "$R" && find . -path '*/sbin/sharewayd' | sed 's/^\.//')
[ -n "$sbin" ] || fail "make install installed no sbin/sharewayd"
cmp -s "$R$confdir/shareway.conf" "$SW_BUILD/conf/shareway.conf.sample" &&
	cmp -s "$R$confdir/rules.conf" "$SW_BUILD/conf/rules.conf.sample" ||
	fail "make install did not put the production samples where sharewayd reads ($confdir)"
[ -d "$R$state" ] || fail "make install made no $state (the default state_dir)"
unit=$(find "$R" -path '*/lib/systemd/system/sharewayd.service')
[ -n "$unit" ] && grep -q "^ExecStart=$sbin -c $confdir/shareway.conf$" "$unit" ||
	fail "the installed unit does not start $sbin with $confdir/shareway.conf"
ok "make install: sharewayd's own paths ($confdir, $state), the unit's"

(cd "$SW_SRC" && dpkg-checkbuilddeps) >"$SW_TMP/builddeps.out" 2>&1 || fail "$(cat "$SW_TMP/builddeps.out")"
for p in $(sed -n '/^BUILD_PKGS="/,/"$/p' "$SW_SRC/bootstrap" | grep -o 'lib[a-z0-9.+-]*-dev'); do
	case $p in libclang-rt-*) continue ;; esac # the fuzzers' only
	grep -q "^ *$p,\?$\|: $p,\?$" "$SW_SRC/debian/control" ||
		fail "debian/control Build-Depends lacks $p (./bootstrap's BUILD_PKGS has it)"
done
head -1 "$SW_SRC/debian/changelog" | grep -q "^shareway ($V-1) " ||
	fail "debian/changelog's first entry is not $V-1, configure.ac's version: $(head -1 "$SW_SRC/debian/changelog")"
ok "debian/: build dependencies installed and as ./bootstrap's, version $V-1"

# --- sd_notify, reload, versions on the wire -------------------------------------
P_TURN=$(port 3)
cat >"$SW_TMP/shareway.conf" <<EOC
[general]
state_dir = $SW_TMP/state
control_socket = $SW_TMP/run/shareway.sock
rules_file = rules.conf
[sip]
listen = udp:127.0.0.1:$P_GW tcp:127.0.0.1:$P_GW
[turn]
listen = udp:127.0.0.1:$P_TURN tcp:127.0.0.1:$P_TURN
relay_ip = 127.0.0.1
relay_ports = $(port 10)-$(port 39)
[zone edge]
edge = yes
match.source = 127.0.0.2/32
target = sip:127.0.0.2:$P_EDGE
[zone cms]
match.source = 127.0.0.3/32
target = sip:127.0.0.3:$P_CMS
EOC
mkdir -p "$SW_TMP/state"
sip_rules "$SW_TMP/rules.conf"
cp "$SW_TMP/rules.conf" "$SW_TMP/rules.good"

python3 "$SW_SRC/tests/notify_recv.py" "$SW_TMP/notify.sock" 60 \
	"127.0.0.1:$P_GW" "127.0.0.1:$P_TURN" >"$SW_TMP/notify.out" 2>&1 &
RECV=$!; SW_PIDS="$SW_PIDS $RECV"
wait_for "$SW_TMP/notify.out" '^listening' 10 || fail "notify receiver not up"
NOTIFY_SOCKET=$SW_TMP/notify.sock sw_start "$SW_TMP/shareway.conf"
wait_for "$SW_TMP/notify.out" "^(accepts|refuses) 127.0.0.1:$P_TURN" 10 ||
	fail "no READY=1: $(cat "$SW_TMP/notify.out")"
grep -q "^pid=$SW_DPID READY=1 | STATUS=0 calls in progress$" "$SW_TMP/notify.out" ||
	fail "READY=1 not from the main pid $SW_DPID: $(cat "$SW_TMP/notify.out")"
grep -q '^refuses' "$SW_TMP/notify.out" && fail "READY=1 before every listener accepts: $(cat "$SW_TMP/notify.out")"
ok "READY=1 from the main pid, every listener accepting"

# a call in progress shows in STATUS
OFFER=$SDP_DIR/sipe-issue83-appshare-offer-to-asmcu-pt96-rejected-24012.sdp
ANSWER=$SDP_DIR/ms-sdp-2.2-lcs-era-example-msdata.sdp
uas uas_basic 127.0.0.3 "$P_CMS" 1 "$ANSWER"
SCN_SET='HOLD=30000' uac uac_basic 127.0.0.2 "$P_EDGE" 4321 1 "$OFFER" &
SW_PIDS="$SW_PIDS $!"
wait_for "$SW_TMP/notify.out" "^pid=$SW_DPID STATUS=1 call in progress$" 20 ||
	{ show uac_basic; fail "no STATUS with the call in progress: $(cat "$SW_TMP/notify.out")"; }
ok "STATUS=1 call in progress"
# the gateway's own answer (a relayed request keeps its caller's
# User-Agent); Sofia's nua writes User-Agent in responses too
python3 - "$P_GW" "$(port 4)" "$V" <<'PY' || fail "the answer to OPTIONS has no User-Agent sharewayd/$V"
import socket, sys
gw, me, v = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.2", me))
s.settimeout(5)
s.sendto(("OPTIONS sip:127.0.0.1:%d SIP/2.0\r\n"
          "Via: SIP/2.0/UDP 127.0.0.2:%d;branch=z9hG4bK-o1-opt\r\n"
          "From: <sip:probe@127.0.0.2>;tag=o1\r\nTo: <sip:127.0.0.1>\r\n"
          "Call-ID: o1-options@127.0.0.2\r\nCSeq: 1 OPTIONS\r\n"
          "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n" % (gw, me)).encode(),
         ("127.0.0.1", gw))
while True:
    lines = s.recv(4096).decode("utf-8", "replace").split("\r\n")
    if not lines[0].startswith("SIP/2.0 1"):
        break
print(lines[0], [l for l in lines if l.lower().startswith(("user-agent:", "server:"))])
sys.exit(("User-Agent: sharewayd/" + v) not in lines)
PY
"$SHAREWAY" -c "$SW_TMP/shareway.conf" status --json >"$SW_TMP/status.json" || fail "status"
python3 -c 'import json, sys; d = json.load(open(sys.argv[1]))["daemon"]; assert d["version"] == sys.argv[2], d' \
	"$SW_TMP/status.json" "$V" || fail "status does not say version $V"
python3 - "$P_TURN" "$V" <<'PY' || fail "TURN SOFTWARE is not shareway/$V"
import os, socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
tid = os.urandom(12)
s.sendto(struct.pack("!HHI", 0x0001, 0, 0x2112A442) + tid, ("127.0.0.1", int(sys.argv[1])))
d = s.recv(2048)
i, soft = 20, None
while i + 4 <= len(d):
    t, n = struct.unpack("!HH", d[i:i + 4])
    if t == 0x8022:
        soft = d[i + 4:i + 4 + n].decode()
    i += 4 + (n + 3) // 4 * 4
sys.exit(soft != "shareway/" + sys.argv[2])
PY
ok "version $V in status, User-Agent and TURN SOFTWARE"

# reload: RELOADING=1 then READY=1; a refused one exits 1 (ExecReload fails)
"$SHAREWAY" -c "$SW_TMP/shareway.conf" reload >"$SW_TMP/reload.out" 2>&1 ||
	fail "shareway reload: $(cat "$SW_TMP/reload.out")"
wait_for "$SW_TMP/notify.out" "^pid=$SW_DPID RELOADING=1$" 5 || fail "no RELOADING=1"
echo '[rule broken' >"$SW_TMP/rules.conf"
"$SHAREWAY" -c "$SW_TMP/shareway.conf" reload >"$SW_TMP/reload2.out" 2>&1 && fail "a refused reload exits 0"
grep -q 'reload refused' "$SW_TMP/reload2.out" || fail "refused reload: $(cat "$SW_TMP/reload2.out")"
[ "$(grep -c "^pid=$SW_DPID READY=1$" "$SW_TMP/notify.out")" = 2 ] ||
	fail "READY=1 not sent after each reload: $(cat "$SW_TMP/notify.out")"
cp "$SW_TMP/rules.good" "$SW_TMP/rules.conf"
ok "reload: RELOADING=1/READY=1, a refused one exits 1"

sw_stop
wait "$RECV" || fail "no STOPPING=1: $(cat "$SW_TMP/notify.out")"
grep -q "^pid=$SW_DPID STOPPING=1" "$SW_TMP/notify.out" || fail "STOPPING=1 not from the main pid"
ok "STOPPING=1 at SIGTERM"
