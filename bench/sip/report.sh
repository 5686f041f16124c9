#!/bin/bash
# sip/report.sh DIR DUR: the Markdown table of the SIP benchmark from the
# steps.txt and reason-*.txt that sip/run.sh left in DIR.
set -u
D=${1:?usage: report.sh RESULTS/sip DUR}
DUR=${2:-10}
S=$D/steps.txt

name() {
	case $1 in
	direct) echo "sipp → sipp (no middle box)" ;;
	kamailio) echo "Kamailio 5.6.3, stateful + record-route, 2 UDP workers" ;;
	sharewayd) echo "**sharewayd** B2BUA (edge → cms, passthrough media), udp_rmem as Kamailio's" ;;
	sharewayd-4m) echo "**sharewayd**, same, shipped udp_rmem (4 MiB)" ;;
	esac
}

# kv LINE-PREFIX LABEL KEY: KEY of the first line "PREFIX label=LABEL ..."
kv() {
	grep "^$1 label=$2 " "$S" 2>/dev/null | head -1 |
		sed -n "s/.* $3=\([^ ]*\).*/\1/p"
}

# steps LABEL: "500 ✓, 1000 ✓, 1500 ✗ (3 failed, 12 retrans), retry ✓"
steps() {
	grep -E "^STEP label=$1(-retry)? " "$S" 2>/dev/null | awk '
	{
		for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
		r = (f["label"] ~ /-retry$/) ? "retry" : f["rate"]
		late = f["late180"] + 0
		note = late ? sprintf(" (%d late 180)", late) : ""
		if (f["failed"] - late == 0 && f["retrans"] == 0 && f["ok"] + late == f["calls"])
			s = r " ✓" note
		else
			s = sprintf("%s ✗ (%d failed, %d late 180, %d retrans, %d UDP drops, %d at the target socket)", r, f["failed"] - late, late, f["retrans"], f["udp_drops"], f["sock_drops"])
		out = out (out == "" ? "" : ", ") s
	}
	END { print out }'
}

# step_key LABEL RATE KEY
step_key() {
	grep "^STEP label=$1 rate=$2 " "$S" 2>/dev/null | tail -1 |
		sed -n "s/.* $3=\([^ ]*\).*/\1/p"
}

row() {
	local l=$1 best kam half p50 p99 n ms msb rb vs
	if [ -s "$D/reason-$l.txt" ]; then
		echo "| $(name "$l") | $(cat "$D/reason-$l.txt") | | | | | |"
		return
	fi
	best=$(kv BEST "$l" rate); best=${best:-0}
	kam=$(kv BEST kamailio rate)
	half=$(kv HALF "$l" rate); p50=$(kv HALF "$l" p50_ms)
	p99=$(kv HALF "$l" p99_ms); n=$(kv HALF "$l" n)
	ms=$(step_key "$l-half" "${half:-0}" cpu_ms_per_call)
	msb=$(step_key "$l" "$best" cpu_ms_per_call)
	[ -z "$msb" ] && msb=$(step_key "$l-retry" "$best" cpu_ms_per_call)
	rb=$(kv RCVBUF "$l" bytes)
	vs="—"
	if [ "$l" != direct ] && [ -n "$kam" ] && [ "$kam" != 0 ]; then
		vs=$(awk -v a="$best" -v b="$kam" 'BEGIN {printf "%.0f %%", 100 * a / b}')
	fi
	[ "$l" = direct ] && ms="—" && msb="—" && rb="—"
	echo "| $(name "$l") | **$best** | $(steps "$l") | ${half:-—} cps: ${p50:-—} / ${p99:-—} ms (${n:-0} calls) | ${ms:-—} / ${msb:-—} | ${rb:-—} | $vs |"
}

echo "### SIP calls per second: SIPp INVITE/180/200/ACK/BYE with an audio SDP, UDP, ${DUR} s steps"
echo
echo "| path | highest clean cps (0 failed, 0 retransmissions) | steps | INVITE → 200 at the caller, at half that rate: p50 / p99 | middle box CPU ms per call at half rate / at the highest clean rate | middle box SO_RCVBUF (kernel) | vs Kamailio (targets: ≥ 1 500 cps clean, ≥ 80 %) |"
echo "|---|---|---|---|---|---|---|"
for l in direct kamailio sharewayd sharewayd-4m; do row "$l"; done
for f in "$D"/died-*.txt; do
	[ -s "$f" ] && { echo; echo "Note: $(cat "$f")."; }
done
echo
echo "A step is clean with 0 failed calls and 0 retransmissions; calls the caller aborted only because a 180 arrived after the 200 (\"late 180\": Kamailio's two UDP workers reorder them) are counted apart."
exit 0
