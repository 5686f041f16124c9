#!/bin/bash
# timeout: 150
# CLI snapshot tests: the fixed fixture calls (tests/calllog_fixture.c,
# written through the real call-log writer) rendered by calls, show,
# ladder, sdp and tail must match tests/data/cli/*.out byte for byte
# (TZ=UTC, SHAREWAY_NOW pinned); every line fits 100 columns, plus what
# a rule name longer than the RULE column's 10 adds (rule names are never
# cut); exit codes are 0 / 1 (not found, daemon down) / 2 (usage).
# SW_UPDATE_SNAPSHOTS=1 rewrites the expected files instead of comparing.
. "$SW_SRC/tests/lib.sh"

export TZ=UTC LC_ALL=C.UTF-8 SHAREWAY_NOW=1795425600
DATA=$SW_SRC/tests/data/cli
STATE=$SW_TMP/state
rm -rf "$STATE"; mkdir -p "$STATE"
"$SW_BUILD/tests/calllog-fixture" "$STATE/calls.db" || fail "fixture not written"
SW="$SHAREWAY -c /nonexistent.conf -s $STATE"

snap() { # NAME ARGS...: compare (or update) one command's stdout
	local name=$1; shift
	$SW "$@" >"$SW_TMP/$name.out" 2>"$SW_TMP/$name.err" ||
		{ cat "$SW_TMP/$name.err"; fail "$name: shareway $* exited $?"; }
	if [ -n "${SW_UPDATE_SNAPSHOTS:-}" ]; then
		cp "$SW_TMP/$name.out" "$DATA/$name.out"
	fi
	cmp -s "$DATA/$name.out" "$SW_TMP/$name.out" ||
		{ diff -u "$DATA/$name.out" "$SW_TMP/$name.out" | head -40;
		  fail "$name: output differs from tests/data/cli/$name.out"; }
	case $name in *json*) return 0;; esac # for scripts, not screens
	python3 - "$SW_TMP/$name.out" <<'PY' || fail "$name: wider than 100 columns"
import re, sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
# the calls-table's RULE column (the 5th) is as wide as its widest name
h = lines[0] if lines else ""
col = h.index(" STATE") - h.index(" RULE") - 1 if " RULE " in h else 10
def extra(l):
    m = re.match(r"\S+ \S+ \S+ +\S+ +(\S+)", l) if " RULE " in h else None
    return max(0, col - 10, len(m.group(1)) - 10 if m else 0)
bad = [n for n, l in enumerate(lines, 1) if len(l) > 100 + extra(l)]
if bad:
    print("lines over 100 columns:", bad)
    sys.exit(1)
PY
}

snap calls calls
snap calls-failed calls --failed
snap calls-rule calls --rule sfb-relay --limit 2
snap calls-match calls --match FABRIKAM
snap calls-json calls --json --limit 3
snap show-seed show c-1
snap show-ice show c-4
snap show-tls show sw-7-1234@10.48.54.229
snap show-21002-json show --json 3
snap ladder-seed ladder c-1
snap ladder-relay ladder c-2
snap ladder-ice ladder c-4
snap ladder-cancel ladder c-6
snap sdp-diff sdp c-2 --diff
snap sdp-seq sdp c-1 --seq 2
snap tail tail -n 4
ok "snapshots match"
grep -q " cms-to-fabrikam failed" "$SW_TMP/calls.out" || fail "calls cuts rule names"
ok "full rule names"

# the JSON outputs parse
for f in calls-json show-21002-json; do
	python3 -c "import json,sys; json.load(open(sys.argv[1]))" \
		"$SW_TMP/$f.out" || fail "$f is not valid JSON"
done
ok "JSON parses"

# --json on the commands that write files: export says what it wrote
$SW export --json c-1 --pcap "$SW_TMP/c1.pcap" >"$SW_TMP/export.json" || fail "export --json"
python3 - "$SW_TMP/export.json" <<'PY' || fail "export --json: $(cat "$SW_TMP/export.json")"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["call"] == "c-1" and j["messages"] > 0 and j["packets"] >= j["messages"], j
PY
ok "export --json"

# exit codes
$SW show c-999 2>"$SW_TMP/e1" && fail "unknown call: exit 0"
[ $? = 1 ] || fail "unknown call: exit code not 1"
grep -q "no call 'c-999'" "$SW_TMP/e1" || fail "unknown call: no clear message"
$SW calls --since 3x 2>/dev/null; [ $? = 2 ] || fail "bad duration: exit code not 2"
$SW ladder 2>/dev/null; [ $? = 2 ] || fail "ladder without tag: exit code not 2"
$SW status 2>"$SW_TMP/e2"; [ $? = 1 ] || fail "status without daemon: exit code not 1"
grep -q "sharewayd is not running" "$SW_TMP/e2" || fail "status: no clear message"
$SW sdp c-8 2>/dev/null; [ $? = 1 ] || fail "sdp of a call without SDP: exit code not 1"
for c in calls show ladder sdp tail export relays stats status reload; do
	$SW $c --help | grep -q "^usage: shareway $c" || fail "$c --help"
done
ok "exit codes and --help"

# every command takes --json and has its man page
cmds=$($SW --help | awk '/^  [a-z]/ {print $1}')
[ "$(wc -w <<<"$cmds")" -ge 13 ] || fail "shareway --help lists: $cmds"
for c in $cmds; do
	$SW $c --help | grep -q -- "--json" || fail "$c --help names no --json"
	[ -f "$SW_SRC/docs/man/shareway-$c.1" ] || fail "no man page for $c"
	sed 's/\\-/-/g' "$SW_SRC/docs/man/shareway.1" | grep -q "shareway-$c (1)" ||
		fail "shareway(1) does not point at shareway-$c(1)"
done
ok "--json and a man page for every command"

# --active with the daemon down: the calls with no end in the call log
$SW calls --active >"$SW_TMP/active.out" 2>"$SW_TMP/active.err"
grep -q "c-10 " "$SW_TMP/active.out" || fail "--active fallback lacks c-10"
[ "$(grep -c ' c-' "$SW_TMP/active.out")" = 1 ] || fail "--active lists ended calls"
grep -q "does not answer 'active'" "$SW_TMP/active.err" || fail "--active: no note"
ok "--active falls back to the call log"
