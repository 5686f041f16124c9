#!/bin/bash
# check-layers.sh [TREE [LAYERS]]: every #include "x.h" in the folders of
# LAYERS (default TREE/tests/data/layers.txt) must name a header of the
# same folder or of a folder on a lower row, unless LAYERS names it as an
# exception. A header named by an ONLY line (HEADER FILE...) may be
# included, as <HEADER> or "HEADER", by those files only: an
# implementation's library stays behind its interface. Prints one line
# per violation and exits 1 if there is any. Headers found in no listed
# folder (config.h, system ones) are not ours.
set -u
tree=${1:-$(cd "$(dirname "$0")/.." && pwd)}
layers=${2:-$tree/tests/data/layers.txt}
awk -v tree="$tree" '
	FNR == NR {
		if ($1 == "EXCEPT") { except[$2 " " $3] = 1; next }
		if ($1 == "ONLY") {
			for (i = 3; i <= NF; i++) only[$2 " " $i] = 1
			confined[$2] = 1; next
		}
		if ($1 ~ /^[0-9]+$/) { row[$2] = $1; dirs[++n] = $2 }
		next
	}
	END {
		# where each header lives
		for (i = 1; i <= n; i++) {
			cmd = "cd \"" tree "/" dirs[i] "\" && ls *.h 2>/dev/null"
			while ((cmd | getline h) > 0) home[h] = dirs[i]
			close(cmd)
		}
		bad = 0
		for (i = 1; i <= n; i++) {
			d = dirs[i]
			cmd = "cd \"" tree "/" d "\" && ls *.c *.h 2>/dev/null"
			while ((cmd | getline f) > 0) {
				path = tree "/" d "/" f; ln = 0
				while ((getline line < path) > 0) {
					ln++
					if (line !~ /^[ \t]*#[ \t]*include[ \t]*["<]/) continue
					h = line; sub(/^[^"<]*["<]/, "", h); sub(/[">].*$/, "", h)
					if ((h in confined) && !((h " " d "/" f) in only)) {
						printf "%s/%s:%d: includes %s, confined to its implementation\n", \
							d, f, ln, h
						bad = 1
					}
					if (line ~ /include[ \t]*</) continue
					sub(/^.*\//, "", h)
					if (!(h in home) || home[h] == d) continue
					if (row[home[h]] < row[d]) continue
					if ((d "/" f " " h) in except) continue
					printf "%s/%s:%d: includes %s of %s (row %d) from row %d\n", \
						d, f, ln, h, home[h], row[home[h]], row[d]
					bad = 1
				}
				close(path)
			}
			close(cmd)
		}
		exit bad
	}' "$layers" /dev/null
