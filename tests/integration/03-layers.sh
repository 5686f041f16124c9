#!/bin/bash
# timeout: 30
# The layers hold (tests/data/layers.txt, docs/ARCHITECTURE.md "Layers"):
# no file includes a header of its own row's other folders or of a higher
# row, apart from the named exceptions. And the check can fail: a copy of
# the tree given an upward include (sip/ reading the call log's header)
# and a sideways one (turn/ reading sip/'s) is refused, each by file:line.
# sqlite3.h is confined to the call store's SQLite implementation: the CLI
# including it is refused too.
. "$SW_SRC/tests/lib.sh"

out=$("$SW_SRC/tools/check-layers.sh" "$SW_SRC") ||
	fail "the tree breaks its layers: $out"
ok "every include runs down the layers (or is a named exception)"

T=$SW_TMP/tree
while read -r row dir; do
	case $row in [0-9]*) mkdir -p "$T/$dir" && cp "$SW_SRC/$dir"/*.[ch] "$T/$dir/" ;; esac
done <"$SW_SRC/tests/data/layers.txt"
echo '#include "sw_calllog.h"' >>"$T/sip/sipua_hop.c"
echo '#include "sipua.h"' >>"$T/turn/turn_frame.c"
echo '#include <sqlite3.h>' >>"$T/src/cli/cli_stats.c"
if out=$("$SW_SRC/tools/check-layers.sh" "$T" "$SW_SRC/tests/data/layers.txt"); then
	fail "an upward include passed the check"
fi
echo "$out" | grep -q '^sip/sipua_hop.c:[0-9]*: includes sw_calllog.h of src/calllog (row 3) from row 2$' ||
	fail "the upward include is not named: $out"
echo "$out" | grep -q '^turn/turn_frame.c:[0-9]*: includes sipua.h of sip (row 2) from row 2$' ||
	fail "the sideways include is not named: $out"
echo "$out" | grep -q '^src/cli/cli_stats.c:[0-9]*: includes sqlite3.h, confined to its implementation$' ||
	fail "sqlite3.h outside the call store is not named: $out"
ok "an upward and a sideways include, and sqlite3.h outside the call store, are each refused by file:line"

grep -v '^EXCEPT' "$SW_SRC/tests/data/layers.txt" >"$SW_TMP/strict.txt"
n=$("$SW_SRC/tools/check-layers.sh" "$SW_SRC" "$SW_TMP/strict.txt" | wc -l)
[ "$n" = "$(grep -c '^EXCEPT' "$SW_SRC/tests/data/layers.txt")" ] ||
	fail "each named exception should be exactly one include ($n found)"
ok "each named exception is one include the strict check would refuse"
