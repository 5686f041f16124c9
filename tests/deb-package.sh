#!/bin/bash
# deb-package.sh: the Debian package (issue 12), run by tools/ci-extra.sh
# (not by make check: one package build is about 80 s of CPU, 70 s to 6 min
# of wall time on the shared 2-core machine; 04-service makes the fast
# checks of debian/ and make install). `dpkg-buildpackage -us -uc -b` with
# DEB_BUILD_OPTIONS=nocheck builds shareway_VERSION-1_amd64.deb from a
# copy of this tree (it cleans the tree and writes ../*.deb: never in the
# source tree), lintian finds no error and no warning it was not told
# about in debian/ (each override says why), and the package holds what
# an operator needs: sharewayd in /usr/sbin, shareway, the man pages, the
# unit in /lib/systemd/system, the production samples as conffiles (no
# demo credential), the shareway user (sysusers) and /var/lib/shareway.
# Environment: SW_SRC (the tree), SW_TMP (an empty work directory).
SW_BUILD=${SW_BUILD:-$SW_SRC}
. "$SW_SRC/tests/lib.sh"

for t in dpkg-buildpackage dh lintian; do
	command -v $t >/dev/null || fail "$t missing (./bootstrap installs debhelper, lintian, dpkg-dev)"
done
V=$(sed -n 's/^AC_INIT(\[shareway\], \[\([^]]*\)\].*/\1/p' "$SW_SRC/configure.ac")
[ -n "$V" ] || fail "no version in configure.ac's AC_INIT"

# the tree as it is, committed or not (git knows which files are source)
T=$SW_TMP/pkg
mkdir -p "$T/shareway-$V"
(cd "$SW_SRC" && git ls-files -z --cached --others --exclude-standard) |
	(cd "$SW_SRC" && tar --null -T - -cf -) | tar -x -C "$T/shareway-$V" ||
	fail "cannot copy the tree"
(cd "$T/shareway-$V" && DEB_BUILD_OPTIONS="nocheck noddebs parallel=2" \
	dpkg-buildpackage -us -uc -b) >"$SW_TMP/build.log" 2>&1 ||
	{ tail -30 "$SW_TMP/build.log"; fail "dpkg-buildpackage"; }
grep -q '"dh_auto_test" was omitted due to "DEB_BUILD_OPTIONS=nocheck"' "$SW_TMP/build.log" &&
	! grep -q 'make .*check' "$SW_TMP/build.log" || fail "nocheck did not skip the test suite"
DEB=$T/shareway_${V}-1_amd64.deb
[ -f "$DEB" ] || fail "no $DEB: $(ls "$T")"
ok "dpkg-buildpackage: ${DEB##*/}"

lintian --pedantic -I -E --fail-on error,warning "$T/shareway_${V}-1_amd64.changes" \
	>"$SW_TMP/lintian.out" 2>&1 || { cat "$SW_TMP/lintian.out"; fail "lintian"; }
grep -E '^[EW]: ' "$SW_TMP/lintian.out" && fail "lintian errors or warnings (above)"
ok "lintian: no error, no warning not overridden with a reason"

dpkg-deb -c "$DEB" | awk '{ print $1, $2, $6 }' >"$SW_TMP/contents"
has() { grep -q -- "$1" "$SW_TMP/contents" || fail "the package lacks $1: $(cat "$SW_TMP/contents")"; }
has '^-rwxr-xr-x root/root \./usr/sbin/sharewayd$'
has '^-rwxr-xr-x root/root \./usr/bin/shareway$'
has ' \./lib/systemd/system/sharewayd.service$'
has ' \./usr/lib/sysusers.d/shareway.conf$'
has '^drwxr-xr-x root/root \./var/lib/shareway/$'
has ' \./usr/share/man/man8/sharewayd.8.gz$'
has ' \./usr/share/man/man5/shareway.conf.5.gz$'
for m in "$SW_SRC"/docs/man/*.1; do has " \./usr/share/man/man1/${m##*/}.gz$"; done
grep -q '\.sample$\|/run/' "$SW_TMP/contents" && fail "*.sample or /run in the package"
dpkg-deb -I "$DEB" conffiles >"$SW_TMP/conffiles"
printf '/etc/shareway/rules.conf\n/etc/shareway/shareway.conf\n' | cmp -s - "$SW_TMP/conffiles" ||
	fail "conffiles: $(cat "$SW_TMP/conffiles")"
dpkg-deb -x "$DEB" "$T/x"
grep -q '^u shareway ' "$T/x/usr/lib/sysusers.d/shareway.conf" || fail "no shareway user in sysusers.d"
grep -Hn 'cmssecret\|^user *=' "$T/x/etc/shareway/"*.conf && fail "demo values in the conffiles (above)"
# loopback only where it is the production value: [metrics] listen
awk '/^\[/ { sec = $0 } !/^#/ && sec != "[metrics]" && /127\.0\.0\./ { print FILENAME ":" FNR ": " $0; bad = 1 }
	END { exit !bad }' "$T/x/etc/shareway/"*.conf && fail "demo loopback addresses in the conffiles (above)"
grep -q '^User=shareway$' "$T/x/lib/systemd/system/sharewayd.service" &&
	grep -q '^ExecStart=/usr/sbin/sharewayd -c /etc/shareway/shareway.conf$' "$T/x/lib/systemd/system/sharewayd.service" &&
	grep -q '^ExecReload=/usr/bin/shareway -c /etc/shareway/shareway.conf reload$' "$T/x/lib/systemd/system/sharewayd.service" ||
	fail "the packaged unit's paths: $(grep '^Exec\|^User' "$T/x/lib/systemd/system/sharewayd.service")"
# the packaged binaries' defaults are the package's paths
"$T/x/usr/sbin/sharewayd" --help | grep -q '(default /etc/shareway/shareway.conf)' &&
	"$T/x/usr/sbin/sharewayd" --help | grep -q '(default /var/lib/shareway)' ||
	fail "the packaged sharewayd's defaults: $("$T/x/usr/sbin/sharewayd" --help)"
[ "$("$T/x/usr/sbin/sharewayd" --version)" = "sharewayd $V" ] || fail "packaged sharewayd --version"
ok "contents: programs, man pages, unit, sysusers, /var/lib/shareway, conffiles without demo credentials"
