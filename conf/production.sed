# production.sed: makes the production samples `make install` and the
# Debian package put in SYSCONFDIR/shareway from the loopback demo in
# conf/ (what `make run` and the tests use), so that every key and its
# comment is written once, in conf/shareway.conf. It replaces the demo's
# loopback addresses with documentation addresses (RFC 5737) marked
# CHANGE, comments out the demo TURN user (no credential ships), and
# puts the control socket in the systemd unit's RuntimeDirectory; the
# Makefile then replaces @STATEDIR@ and @RUNDIR@ with configure's paths.
# tests/integration/04-service.sh checks the result: it loads
# (sharewayd --check-config), holds no demo value, and lists every key
# conf/shareway.conf lists.

# --- shareway.conf -----------------------------------------------------
s|^# file as shipped runs everything on loopback for `make run` and the tests\.$|# file is the production sample: set the lines marked CHANGE, then check\
# it with `sharewayd --check-config` before (re)starting the service.|
s|^# run-time files (`make run` as root keeps the default, where the CLI looks$|# run-time files (the call log; the service's StateDirectory)|
/^# without options; as another user it passes --state-dir BUILDDIR\/run)$/d
s|/var/lib/shareway|@STATEDIR@|g
s|^#control_socket = .*|# the service's RuntimeDirectory: `shareway` reaches it as root or as a\
# member of the group shareway\
control_socket = @RUNDIR@/shareway.sock|
# [sip] and [turn] listen: the first two listen lines of the file
s|^listen = udp:127\.0\.0\.1:5060 tcp:127\.0\.0\.1:5060$|# CHANGE: the gateway's SIP address (TLS 5061 toward the Edge in production)\
listen = udp:192.0.2.10:5060 tcp:192.0.2.10:5060|
s|^listen = udp:127\.0\.0\.1:3478 tcp:127\.0\.0\.1:3478$|# CHANGE: the gateway's TURN address (the Edge's relay often wants TLS 443)\
listen = udp:192.0.2.10:3478 tcp:192.0.2.10:3478|
s|^relay_ip = 127\.0\.0\.1$|# CHANGE\
relay_ip = 192.0.2.10|
s|^user = cms:cmssecret$|# CHANGE: the conference server's TURN credentials\
#user = cms:CHANGE-ME|
/^# This loopback demo relays between loopback peers, as coturn's$/d
/^# --allow-loopback-peers does\.$/d
s|^allow_peer = 127\.0\.0\.0/8$|#allow_peer = 10.0.0.0/8|
s|^match\.source = 127\.0\.0\.2/32$|# CHANGE: the Edge's internal address\
match.source = 192.0.2.20/32|
s|^target = sip:127\.0\.0\.2:5070$|target = sip:192.0.2.20:5060|
s|^match\.source = 127\.0\.0\.3/32$|# CHANGE: the conference server's address\
match.source = 198.51.100.30/32|
s|^target = sip:127\.0\.0\.3:5080$|target = sip:198.51.100.30:5060|
s|^transport = udp$|transport = tcp|

# --- rules.conf --------------------------------------------------------
s|^# Loopback demo (conf/shareway.conf zones): the Edge side calls the$|# Sample (the zones of the sample shareway.conf): the Edge side calls the|
s|@127\.0\.0\.3:5080$|@198.51.100.30:5060|
s|@127\.0\.0\.2:5070$|@192.0.2.20:5060|
