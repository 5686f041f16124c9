"""shareway test harness: the two neighbours of the gateway, in real protocol bytes.

Python 3.11 standard library only (Debian 12's /usr/bin/python3). Modules:

* :mod:`harness.stun`       STUN/TURN/MS-ICE2 message codec, RFC 4571 framing
* :mod:`harness.netio`      bounded TCP helpers (StreamConn, listen/connect/accept)
* :mod:`harness.timeline`   thread-safe event timeline for ladder assertions
* :mod:`harness.turnclient` RFC 6062 TURN-TCP client (what CMS does)
* :mod:`harness.iceagent`   MS-ICE2 ICE-TCP agent + RTP-framed data exchange
* :mod:`harness.sdp`        app-sharing SDP build/parse, MS candidates
* :mod:`harness.sipua`      small SIP UA (UDP, TCP) for the Edge or conference side
* :mod:`harness.scenario`   EdgeSide / ConfSide building blocks

Run a module's CLI with ``PYTHONPATH=tests python3 -m harness.<module> --help``.
See tests/harness/README.md.
"""
