"""Self-test of harness.scenario without the gateway: EdgeSide calls
ConfSide directly.

* ``direct``: relay mode; the Edge relay connects from 127.0.0.2 to the
  conference's TCP-PASS host candidate on 127.0.0.3; checks both ways, data
  both ways at once, the completion re-INVITE (checked by ConfSide), BYE.
* ``observe``: ConfSide is a TURN client of coturn (like CMS in the origin
  document): Allocate before answering, relayed address in the 200 OK, the
  Edge connects to it, ConnectionAttempt/ConnectionBind, checks, data (one
  way then the other: coturn 4.6.1 stalls bidirectional bulk), re-INVITE,
  BYE, Refresh 0.
* ``reject``: 488 with ms-diagnostics-public 21002 reaches the Edge.

Run by tests/integration/51-harness-sip.sh.
"""

from __future__ import annotations

import argparse
import sys

from harness.netio import parse_addr
from harness.scenario import ConfSide, EdgeSide, in_thread
from harness.timeline import Timeline

DIAG = '21002;reason="Attendees cannot share in this conference";component="ASMCU"'


def check(cond: bool, what: str) -> None:
    if not cond:
        raise AssertionError(what)
    print(f"ok: {what}")


def media(edge: EdgeSide, conf: ConfSide, nbytes: int, sequential: bool) -> None:
    """Connect, check, exchange; assert both reports."""
    edge.connect_media()
    edge_run = edge.start_ice(send_bytes=nbytes, recv_bytes=nbytes,
                              sequential="send-first" if sequential else None)
    conf.accept_media()
    conf_run = conf.start_ice(send_bytes=nbytes, recv_bytes=nbytes,
                              sequential="recv-first" if sequential else None)
    for run in (edge_run, conf_run):
        rep, data = run.result()
        print(rep.describe())
        rep.require_complete()
        if data is None:
            raise AssertionError(f"{rep.name}: no data exchanged")
        print(f"{rep.name}: {data.describe()}")
        data.require_intact()
    check(True, f"checks both ways and {nbytes} B each way intact")


def finish(edge: EdgeSide, conf: ConfSide) -> None:
    """Completion re-INVITE (checked by ConfSide), then BYE."""
    resp = edge.final_reinvite(5)
    check(resp.status == 200 and conf.final_offer_problems == [],
          "completion re-INVITE accepted: a=remote-candidates named ConfSide's candidate")
    answer = resp.text_body
    check(answer.count("a=candidate:") == 2 and "a=remote-candidates" not in answer,
          "the controlled side answered with its used candidate only")
    check(edge.hangup(5).status == 200, "BYE answered")


def case_direct(args: argparse.Namespace, tl: Timeline) -> None:
    conf = ConfSide(mode="relay", listen_port=args.conf_port, timeline=tl)
    edge = EdgeSide(relay_port=args.edge_port, timeline=tl)
    try:
        task = in_thread(conf.answer_call, 10)
        final = edge.call(conf.uri)
        task.result(10)
        check(final.status == 200, "INVITE answered 200, ACK received")
        check(edge.pick_remote().typ == "host", "Edge picked the TCP-PASS host candidate")
        media(edge, conf, args.bytes, sequential=False)
        finish(edge, conf)
    finally:
        edge.close()
        conf.close()
    tl.assert_order([("Edge SIP", "sent INVITE"), ("CMS SIP", "received INVITE"),
                     ("CMS", "TCP-PASS listening"), ("CMS SIP", "sent 200 OK to INVITE"),
                     ("Edge SIP", "sent ACK"), ("Edge", "TCP connect"),
                     ("CMS", "accepted TCP connection"), ("Edge", "pair nominated"),
                     ("Edge", "data end"), ("Edge SIP", "sent re-INVITE"),
                     ("CMS", "final offer checked", "candidates known"),
                     ("Edge SIP", "received 200 OK to INVITE"), ("Edge SIP", "sent BYE"),
                     ("CMS SIP", "received BYE")])
    print("ok: direct scenario ladder in order")


def case_observe(args: argparse.Namespace, tl: Timeline) -> None:
    conf = ConfSide(mode="observe", turn_server=parse_addr(args.turn), timeline=tl)
    edge = EdgeSide(relay_port=args.edge_port + 1, timeline=tl)
    try:
        task = in_thread(conf.answer_call, 10)
        final = edge.call(conf.uri)
        task.result(10)
        check(final.status == 200, "INVITE answered 200 after the allocation")
        remote = edge.pick_remote()
        assert conf.turn is not None and conf.turn.allocation is not None
        check(remote.typ == "relay" and remote.addr == conf.turn.allocation.relayed,
              f"the 200 OK carried the relayed address {remote.ip}:{remote.port} typ relay")
        media(edge, conf, args.bytes, sequential=True)
        finish(edge, conf)
    finally:
        edge.close()
        conf.close()
    tl.assert_order([("Edge SIP", "sent INVITE"), ("CMS SIP", "received INVITE"),
                     ("CMS", "Allocate request"), ("TURN", "Allocate error 401"),
                     ("TURN", "Allocate success"), ("TURN", "CreatePermission success"),
                     ("CMS SIP", "sent 200 OK to INVITE"), ("Edge SIP", "sent ACK"),
                     ("Edge", "TCP connect"), ("TURN", "ConnectionAttempt indication"),
                     ("CMS", "ConnectionBind request"), ("TURN", "ConnectionBind success"),
                     ("Edge", "pair nominated"), ("Edge SIP", "sent re-INVITE"),
                     ("Edge SIP", "sent BYE"), ("CMS", "Refresh request", "lifetime 0")])
    print("ok: observe scenario ladder in order (the origin document's)")


def case_reject(args: argparse.Namespace, tl: Timeline) -> None:
    conf = ConfSide(mode="relay", timeline=tl)
    edge = EdgeSide(relay_port=args.edge_port + 2, timeline=tl)
    try:
        def refuse() -> None:
            inv = conf.wait_offer(10)
            conf.reject(488, DIAG)
            inv.wait_ack(10)
        task = in_thread(refuse)
        final = edge.call(conf.uri)
        task.result(10)
        check(final.status == 488 and final.header("ms-diagnostics-public") == DIAG,
              "Edge got 488 with ms-diagnostics-public 21002 (ASMCU)")
        check(edge.dialog is None, "no dialog")
    finally:
        edge.close()
        conf.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--case", choices=("direct", "observe", "reject"), required=True)
    ap.add_argument("--turn", help="coturn ip:port (observe)")
    ap.add_argument("--edge-port", type=int, required=True, help="Edge relay port (+1, +2 used)")
    ap.add_argument("--conf-port", type=int, default=0, help="ConfSide TCP-PASS port")
    ap.add_argument("--bytes", type=int, default=256 * 1024)
    args = ap.parse_args()
    tl = Timeline()
    case = {"direct": case_direct, "observe": case_observe, "reject": case_reject}[args.case]
    try:
        case(args, tl)
    finally:
        print(tl.format())
    return 0


if __name__ == "__main__":
    sys.exit(main())
