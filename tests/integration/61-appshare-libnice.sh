#!/bin/bash
# timeout: 180
# Application sharing with a real MS-ICE2 peer: libnice 0.1.21 in OC2007R2
# mode as the ICE agent of the Edge and of the conference through the real
# sharewayd (relay and observe modes, a direct path available), and the
# completion re-INVITE following the controlling agent's nomination
# (regular and aggressive by libnice, held and aggressive by the project's
# agent) (tests/appshare/nice.py). The daemon has no
# inside candidate here: libnice would also reach the Edge through it.
. "$SW_SRC/tests/lib.sh"
. "$SW_SRC/tests/appshare/gateway.sh"

/usr/bin/python3 -c 'import gi; gi.require_version("Nice", "0.1")' 2>/dev/null ||
	fail "libnice's GObject introspection is missing (./bootstrap installs gir1.2-nice-0.1, python3-gi)"
as_gateway nice.py 46000 46999 -e "s/^inside_candidate = yes/inside_candidate = no/" \
	-e "s/^check_timeout = .*/check_timeout = 6/"
