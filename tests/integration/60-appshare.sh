#!/bin/bash
# timeout: 240
# Application sharing end to end: the real sharewayd between a harness Edge
# (127.0.0.2) and a harness conference server (127.0.0.3): relay and observe
# modes, one-way check failure, 21002 rejection, BYE before checks, a peer
# closing mid-stream, ten calls in parallel, the conference side offering,
# m=applicationsharing added by re-INVITE, the Edge relay connecting before
# the permission, a TCP-ACT-only conference through the inside candidate,
# strip and relay in one call, hold and resume, presenter swap in one
# dialog, TLS end to end (the Edge over SIP mutual TLS reaching the
# gateway's fqdn without DNS, the conference's TURN over TLS)
# (tests/appshare/e2e.py); the call log's pcap export (tshark -Y
# stun) and SDP history of relay, observe and confoffer.
. "$SW_SRC/tests/lib.sh"
. "$SW_SRC/tests/appshare/gateway.sh"

as_gateway e2e.py 45000 45999
