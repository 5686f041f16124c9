#!/bin/sh
# run.sh BUILDDIR SRCDIR: what `make run` does, and 02-make-run tests:
# sharewayd in the foreground on loopback with the shipped conf/.
# As root (the README's quick start) its run-time files go to the default
# state_dir, /var/lib/shareway, where the CLI looks without options, so
# the next command an operator types, `shareway status`, reaches it.
# Otherwise they go to BUILDDIR/run. Either way the daemon logs the CLI
# line to use ("operator CLI: ...") before "ready".
set -eu
build=$1
src=$2
if [ "$(id -u)" = 0 ]; then
	exec "$build/src/sharewayd" -c "$src/conf/shareway.conf"
fi
mkdir -p "$build/run"
exec "$build/src/sharewayd" -c "$src/conf/shareway.conf" --state-dir "$build/run"
