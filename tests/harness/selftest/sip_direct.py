"""Self-test of harness.sipua: two UAs (127.0.0.2 and 127.0.0.3) call each
other directly with an app-sharing SDP.

Cases, each asserted on what the peer UA recorded:

* call: INVITE (retransmitted while the callee is not reading yet) / 100 /
  180 / 200 / ACK, a completion-style re-INVITE from the callee (answered
  with the caller's SDP, ACKed), BYE / 200;
* reject: 488 with ms-diagnostics-public 21002, ACKed on the INVITE branch;
* cancel: CANCEL / 200, 487 / ACK.

Over TLS (``--pki``: edge.test and conf.test certificates and their CA)
both UAs behave like Lync: each names itself by its certificate's name in
its Contact and sends in-dialog requests only to a name, on the connection
whose peer certificate carries it (the caller's on the one it opened, the
callee's on the one it accepted), and a name without one is refused, not
resolved.

Run by tests/integration/51-harness-sip.sh (``--transport udp|tcp|tls``).
"""

from __future__ import annotations

import argparse
import sys
import time

from harness import sdp
from harness.iceagent import Credentials
from harness.sipua import SipError, SipUA, TlsIdentity, param
from harness.timeline import Timeline

DIAG = '21002;reason="Attendees cannot share in this conference";component="ASMCU"'


def check(cond: bool, what: str) -> None:
    if not cond:
        raise AssertionError(what)
    print(f"ok: {what}")


def offer(ip: str, port: int, role: str) -> tuple[str, Credentials]:
    cred = Credentials.random()
    cands = (sdp.tcp_candidate_pair("1", "TCP-ACT", ip, port)
             + sdp.tcp_candidate_pair("2", "TCP-PASS", ip, port))
    return sdp.build_appsharing_sdp(ip, port, cred.ufrag, cred.pwd, cands, role=role), cred


def ua(args: argparse.Namespace, ip: str, port: int, name: str, tl: Timeline,
       tls_name: str) -> SipUA:
    """A UA of the test; over TLS Lync-like, named by its certificate"""
    tls = None
    if args.transport == "tls":
        tls = TlsIdentity(f"{args.pki}/{tls_name}.pem", f"{args.pki}/{tls_name}.key",
                          f"{args.pki}/ca.pem")
    return SipUA(ip, port, transport=args.transport, name=name, timeline=tl, tls=tls,
                 fqdn_only=tls is not None, contact_host=tls_name if tls else None)


def case_call(args: argparse.Namespace, tl: Timeline) -> None:
    caller = ua(args, "127.0.0.2", args.port_a, "Edge", tl, "edge.test").start()
    callee = ua(args, "127.0.0.3", args.port_b, "Conf", tl, "conf.test")
    # not reading yet: INVITE is retransmitted (a TLS handshake needs it)
    late = args.transport != "tls"
    if not late:
        callee.start()
    try:
        off, _ = offer("127.0.0.2", 50000, "viewer")
        target = f"sip:asmcu@127.0.0.3:{callee.local[1]};transport={args.transport}"
        call = caller.invite(target, off)
        if late:
            time.sleep(0.8 if args.transport == "udp" else 0.1)
            callee.start()
        inv = callee.wait_invite(5)
        check(inv.offer == off, "callee got the offer verbatim")
        media = sdp.Sdp.parse(inv.offer).find_media()
        check(media.attr("x-applicationsharing-role") == "viewer" and len(media.candidates) == 4,
              "offer parsed: role viewer, 4 MS candidates (TCP-ACT/TCP-PASS, comp 1+2)")
        inv.respond(180)
        answer, _ = offer("127.0.0.3", 50001, "sharer")
        inv.respond(200, sdp=answer)
        final = call.wait_final(5)
        check(final.status == 200 and final.text_body == answer, "caller got 200 with the answer")
        check(call.wait_status(180, 1).status == 180, "caller got 180")
        inv.wait_ack(5)
        check(True, "callee got the ACK for its 200")
        if args.transport == "udp":
            check(any(r.retransmission for r in caller.records
                      if r.direction == "out" and r.msg.method == "INVITE"),
                  "caller retransmitted the INVITE (Timer A) while the callee was not reading")
        dlg_a, dlg_b = call.dialog, inv.dialog
        assert dlg_a is not None and dlg_b is not None
        check(dlg_a.remote_tag == dlg_b.local_tag and dlg_a.local_tag == dlg_b.remote_tag,
              "both ends agree on the dialog tags")
        final_offer = sdp.build_appsharing_sdp(
            "127.0.0.3", 50001, "ufrg", "p" * 24,
            sdp.tcp_candidate_pair("2", "TCP-PASS", "127.0.0.3", 50001), role="sharer",
            version=1, remote_candidates=[(2, "127.0.0.2", 50000), (1, "127.0.0.2", 50000)])
        resp = callee.reinvite(dlg_b, final_offer, 5)
        check(resp.status == 200 and resp.text_body == off,
              "re-INVITE from the callee answered 200 with the caller's SDP")
        caller.wait_for(lambda r: r.direction == "in" and r.msg.method == "ACK", 5,
                        "ACK of re-INVITE")
        check(len(dlg_a.reinvites) == 1 and dlg_a.remote_sdp == final_offer,
              "caller recorded the re-INVITE and its SDP")
        rc = sdp.Sdp.parse(dlg_a.reinvites[0].text_body).find_media().remote_candidates
        check(rc == [(1, "127.0.0.2", 50000), (2, "127.0.0.2", 50000)],
              "a=remote-candidates sorted by component")
        check(dlg_a.reinvites[0].cseq[0] == dlg_b.local_cseq, "callee used its own CSeq space")
        bye = caller.bye(dlg_a, 5)
        check(bye.status == 200, "BYE answered 200")
        callee.wait_dialog_ended(dlg_b, 2)
        check(dlg_b.ended_by == "remote BYE", "callee's dialog ended by the BYE")
        check(not caller.errors and not callee.errors, "no internal UA errors")
        if args.transport == "tls":
            tls_reuse(caller, callee)
    finally:
        caller.stop()
        callee.stop()


def tls_reuse(caller: SipUA, callee: SipUA) -> None:
    """Each UA's in-dialog requests went to the other's name, on the one
    connection (the caller opened it, the callee accepted it)"""
    def sent(u: SipUA) -> list[tuple[str, str]]:
        return [(r.msg.method, r.addr[0]) for r in u.records
                if r.direction == "out" and r.msg.is_request and not r.retransmission]
    check(sent(caller)[1:] == [("ACK", "conf.test"), ("BYE", "conf.test")] and
          sent(callee) == [("INVITE", "edge.test"), ("ACK", "edge.test")],
          f"in-dialog requests to the peer's name: {sent(caller)}, {sent(callee)}")
    check([(o, n) for _, o, n in caller.stream_peers()] == [(True, {"conf.test"})] and
          [(o, n) for _, o, n in callee.stream_peers()] == [(False, {"edge.test"})],
          "on the one connection, whoever opened it (RFC 5923)")
    try:
        caller._stream_peer(("other.test", 5061))
        refused = False
    except SipError:
        refused = True
    check(refused, "a name no connection's certificate carries is refused, not resolved")


def case_reject(args: argparse.Namespace, tl: Timeline) -> None:
    with ua(args, "127.0.0.2", args.port_a, "Edge", tl, "edge.test") as a, \
         ua(args, "127.0.0.3", args.port_b, "Conf", tl, "conf.test") as b:
        off, _ = offer("127.0.0.2", 50000, "sharer")
        call = a.invite(f"sip:asmcu@127.0.0.3:{b.local[1]};transport={args.transport}", off)
        inv = b.wait_invite(5)
        inv.respond(488, headers=[("ms-diagnostics-public", DIAG)])
        final = call.wait_final(5)
        check(final.status == 488 and final.header("ms-diagnostics-public") == DIAG,
              "caller got 488 with ms-diagnostics-public 21002")
        inv.wait_ack(5)
        ack = b.received("ACK")[-1].msg
        check(ack.branch == call.request.branch
              and param(ack.require("To"), "tag") == inv.local_tag,
              "ACK of the 488 reused the INVITE branch and the To tag (RFC 3261 17.1.1.3)")
        check(call.dialog is None, "no dialog after a 488")
        check(not a.errors and not b.errors, "no internal UA errors")


def case_cancel(args: argparse.Namespace, tl: Timeline) -> None:
    with ua(args, "127.0.0.2", args.port_a, "Edge", tl, "edge.test") as a, \
         ua(args, "127.0.0.3", args.port_b, "Conf", tl, "conf.test") as b:
        off, _ = offer("127.0.0.2", 50000, "sharer")
        call = a.invite(f"sip:asmcu@127.0.0.3:{b.local[1]};transport={args.transport}", off)
        inv = b.wait_invite(5)
        inv.respond(180)
        call.wait_status(180, 5)
        check(call.cancel(5).status == 200, "CANCEL answered 200")
        check(call.wait_final(5).status == 487, "INVITE ended with 487")
        inv.wait_ack(5)
        check(inv.canceled, "callee saw the CANCEL and ACK of the 487")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--transport", choices=("udp", "tcp", "tls"), default="udp")
    ap.add_argument("--pki", help="TLS: folder of edge.test, conf.test and ca (.pem, .key)")
    ap.add_argument("--port-a", type=int, default=0)
    ap.add_argument("--port-b", type=int, default=0)
    args = ap.parse_args()
    for case in (case_call, case_reject, case_cancel):
        tl = Timeline()
        print(f"== {case.__name__} over {args.transport}")
        try:
            case(args, tl)
        finally:
            print(tl.format())
    return 0


if __name__ == "__main__":
    sys.exit(main())
