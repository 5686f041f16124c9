"""Cisco doc 212580's TURN/ICE ladder, with coturn as the TURN server.

The "CMS" side (:class:`harness.turnclient.TurnTcpClient`, from 127.0.0.3)
allocates a TCP relay (401, then success), refreshes, permits 127.0.0.2;
the "Edge" connects from 127.0.0.2 to the relayed address; CMS gets the
ConnectionAttempt, ConnectionBinds a new connection; then MS-ICE2 checks
both ways over the bridged connection (Edge controlling and nominating),
1 MB of RTP-framed data each way (SHA-256 checked), and Refresh 0. Every
step is asserted in order and the ladder printed with relative times.

Cases (``--case``): ``ladder``, ``oneway`` (CMS does not answer checks: the
Edge's report must show the Edge→CMS direction failed), ``stale`` (against
a coturn started with ``--stale-nonce``: a Refresh after the nonce expired
gets 438 and is retried).

Run by tests/integration/50-harness-coturn.sh.
"""

from __future__ import annotations

import argparse
import sys
import time

from harness.iceagent import AgentRun, Credentials, IceAgent, IceReport
from harness.netio import StreamConn, connect_tcp, fmt_addr, parse_addr
from harness.stun import MI_MSICE2
from harness.timeline import Timeline
from harness.turnclient import TurnTcpClient

EDGE_IP = "127.0.0.2"
CMS_IP = "127.0.0.3"


def check(cond: bool, what: str) -> None:
    """Assert with a message; prints ``ok: what`` when it holds."""
    if not cond:
        raise AssertionError(what)
    print(f"ok: {what}")


def allocate_and_connect(args: argparse.Namespace, tl: Timeline,
                         edge_port: int) -> tuple[TurnTcpClient, StreamConn]:
    """Allocate + Refresh + CreatePermission, then the Edge's TCP connect
    to the relayed address: (CMS TURN client, Edge connection)."""
    cms = TurnTcpClient(parse_addr(args.turn), args.user, args.password,
                        bind_ip=CMS_IP, timeline=tl)
    alloc = cms.allocate(600)
    check(alloc.lifetime == 600, f"Allocate granted lifetime 600 (got {alloc.lifetime})")
    check(alloc.mapped is not None and alloc.mapped[0] == CMS_IP,
          f"XOR-MAPPED-ADDRESS is the CMS address ({fmt_addr(alloc.mapped)})")
    check(cms.refresh(600) == 600, "Refresh granted lifetime 600")
    cms.create_permission([EDGE_IP])
    edge_conn = connect_tcp(alloc.relayed, (EDGE_IP, edge_port), 5.0, "Edge relay connection")
    tl.add("Edge", "TCP connect to the relayed address", edge_conn.describe())
    return cms, edge_conn


def bind_peer(cms: TurnTcpClient, edge_conn: StreamConn) -> StreamConn:
    """Wait for the ConnectionAttempt of the Edge's connection and bind it."""
    att = cms.wait_connection_attempt(5.0)
    check(att.peer == edge_conn.local,
          f"ConnectionAttempt XOR-PEER-ADDRESS {fmt_addr(att.peer)} is the Edge's source")
    return cms.connection_bind(att.connection_id)


def edge_agent(tl: Timeline, conn: StreamConn, edge: Credentials,
               cms: Credentials) -> IceAgent:
    """Controlling, nominating, libnice-like: legacy duplicates, bis-02 MI."""
    return IceAgent(conn, controlling=True, local=edge, remote=cms, name="Edge",
                    peer_name="CMS", foundation="2", timeline=tl,
                    legacy_duplicate=True, mi_style=MI_MSICE2)


def cms_agent(tl: Timeline, conn: StreamConn, cms: Credentials, edge: Credentials,
              respond: str = "ok") -> IceAgent:
    """Controlled, RFC 5389 MI; ``respond="none"`` for the one-way failure."""
    return IceAgent(conn, controlling=False, local=cms, remote=edge, name="CMS",
                    peer_name="Edge", foundation="1", timeline=tl, respond=respond)


def assert_ladder(tl: Timeline) -> None:
    """The origin ladder, in order, then each ICE direction in order."""
    tl.assert_order([
        ("CMS", "Allocate request"), ("TURN", "Allocate error 401"),
        ("CMS", "Allocate request", "realm"), ("TURN", "Allocate success"),
        ("CMS", "Refresh request"), ("TURN", "Refresh success"),
        ("CMS", "CreatePermission request"), ("TURN", "CreatePermission success"),
        ("Edge", "TCP connect to the relayed address"),
        ("TURN", "ConnectionAttempt indication"),
        ("CMS", "TCP connect (data)"), ("CMS", "ConnectionBind request"),
        ("TURN", "ConnectionBind success")])
    bound = tl.find("TURN", "ConnectionBind success")
    tl.assert_order([("CMS", "received Binding request", "ICE-CONTROLLING"),
                     ("CMS", "Binding success", "→ Edge"),
                     ("Edge", "received Binding success")], after=bound)
    tl.assert_order([("CMS", "Binding request", "ICE-CONTROLLED"),
                     ("Edge", "received Binding request", "ICE-CONTROLLED"),
                     ("Edge", "Binding success", "→ CMS"),
                     ("CMS", "received Binding success")], after=bound)
    tl.assert_order([("Edge", "Binding request", "USE-CANDIDATE"),
                     ("CMS", "received Binding request", "USE-CANDIDATE"),
                     ("CMS", "Binding success"), ("Edge", "pair nominated"),
                     ("Edge", "data end"), ("CMS", "Refresh request", "lifetime 0"),
                     ("TURN", "Refresh success")], after=bound)
    print("ok: ladder steps in order (TURN part, both ICE directions, nomination, data, Refresh 0)")


def case_ladder(args: argparse.Namespace) -> None:
    tl = Timeline()
    turn, edge_conn = allocate_and_connect(args, tl, args.edge_port)
    assert turn.allocation is not None
    relayed = turn.allocation.relayed
    edge_cred, cms_cred = Credentials.random(), Credentials.random()
    # The Edge starts checking at once, before CMS has bound the connection.
    # Data goes one way then the other: coturn 4.6.1 stalls one direction
    # of a TCP relay when both carry bulk data at once (see README).
    edge_run = AgentRun(edge_agent(tl, edge_conn, edge_cred, cms_cred), 10.0,
                        args.bytes, args.bytes, sequential="send-first")
    edge_run.start()
    cms_run = AgentRun(cms_agent(tl, bind_peer(turn, edge_conn), cms_cred, edge_cred),
                       10.0, args.bytes, args.bytes, sequential="recv-first")
    cms_run.start()
    edge_rep, edge_data = edge_run.result()
    cms_rep, cms_data = cms_run.result()
    turn.close()
    edge_conn.close()
    print(tl.format())
    print(edge_rep.describe())
    print(cms_rep.describe())
    edge_rep.require_complete()
    cms_rep.require_complete()
    check(edge_rep.outbound.nominated and cms_rep.inbound.use_candidate,
          "Edge nominated with USE-CANDIDATE, CMS saw it")
    check(cms_rep.outbound.mapped == relayed,
          f"CMS learned its relayed address {fmt_addr(relayed)} from the Edge's "
          "XOR-MAPPED-ADDRESS")
    check(cms_rep.inbound.candidate_ids == {"2"} and edge_rep.inbound.candidate_ids == {"1"},
          "CANDIDATE-IDENTIFIER carried the foundations")
    check("msice2" in cms_rep.inbound.mi_styles,
          "CMS verified the Edge's bis-02 MESSAGE-INTEGRITY")
    for name, data in (("Edge", edge_data), ("CMS", cms_data)):
        if data is None:
            raise AssertionError(f"{name} exchanged no data")
        print(f"{name}: {data.describe()}")
        data.require_intact()
        check(data.received_sha256 == data.expected_sha256,
              f"{name} received {data.received_bytes} B intact, "
              f"SHA-256 {data.received_sha256[:16]}…")
    assert_ladder(tl)


def case_oneway(args: argparse.Namespace) -> None:
    tl = Timeline()
    turn, edge_conn = allocate_and_connect(args, tl, args.edge_port + 1 if args.edge_port else 0)
    edge_cred, cms_cred = Credentials.random(), Credentials.random()
    edge_run = AgentRun(edge_agent(tl, edge_conn, edge_cred, cms_cred), 3.0)
    edge_run.start()
    cms = cms_agent(tl, bind_peer(turn, edge_conn), cms_cred, edge_cred, respond="none")
    cms_rep: IceReport = cms.run_checks(3.0)
    edge_rep, _ = edge_run.result()
    turn.close()
    edge_conn.close()
    print(edge_rep.describe())
    print(cms_rep.describe())
    check(not edge_rep.complete and not cms_rep.complete, "neither side reports complete")
    check(edge_rep.failed_directions == ["Edge→CMS"],
          f"Edge's report names the failed direction {edge_rep.failed_directions}")
    check(edge_rep.outbound.requests_sent >= 2 and edge_rep.outbound.successes == 0,
          f"Edge sent {edge_rep.outbound.requests_sent} requests, no success came back")
    check(edge_rep.inbound_ok and cms_rep.outbound_ok,
          "the CMS→Edge direction succeeded (request and success seen)")
    check(cms_rep.inbound.requests >= 1 and cms_rep.inbound.unanswered >= 1
          and cms_rep.inbound.successes_sent == 0,
          f"CMS saw {cms_rep.inbound.requests} requests and answered none")


def case_stale(args: argparse.Namespace) -> None:
    tl = Timeline()
    cms = TurnTcpClient(parse_addr(args.turn), args.user, args.password,
                        bind_ip=CMS_IP, timeline=tl)
    cms.allocate(600)
    time.sleep(args.stale_wait)
    check(cms.refresh(600) == 600, "Refresh after the nonce went stale succeeded")
    cms.close()
    print(tl.format())
    tl.assert_order([("CMS", "Refresh request", "lifetime 600"),
                     ("TURN", "Refresh error 438"),
                     ("CMS", "Refresh request", "lifetime 600"),
                     ("TURN", "Refresh success"),
                     ("CMS", "Refresh request", "lifetime 0")])
    print("ok: 438 Stale Nonce answered by a retry with the new NONCE")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--turn", required=True, help="coturn ip:port")
    ap.add_argument("--user", default="cms")
    ap.add_argument("--password", default="cmssecret")
    ap.add_argument("--case", choices=("ladder", "oneway", "stale"), required=True)
    ap.add_argument("--edge-port", type=int, default=0, help="Edge source port (0 = any)")
    ap.add_argument("--bytes", type=int, default=1 << 20)
    ap.add_argument("--stale-wait", type=float, default=3.5)
    args = ap.parse_args()
    {"ladder": case_ladder, "oneway": case_oneway, "stale": case_stale}[args.case](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
