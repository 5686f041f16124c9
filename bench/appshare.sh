#!/bin/bash
# appshare.sh: app-sharing end-to-end setups/s and concurrent calls
# (SIPp Edge + CMS stand-ins, an RFC 6062 client as the Edge relay, ICE
# checks both ways, the completion re-INVITE). Measured once the flow is
# integrated; until then one "not measured" line saying why.
. "$(dirname "$0")/lib.sh"

if nm "$SHAREWAYD" 2>/dev/null | grep -q ' T sw_appshare_'; then
	why="the app-sharing coordinator is built in, but there is no end-to-end driver in bench/ yet"
else
	why="app-sharing flow not integrated yet (no sw_appshare in sharewayd)"
fi
{
	echo "### App sharing end to end: setups/s and concurrent calls"
	echo
	echo "| system | setups/s | concurrent calls |"
	echo "|---|---|---|"
	echo "| **sharewayd** | not measured: $why | not measured |"
} >"$BENCH_OUT/appshare.md"
