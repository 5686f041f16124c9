"""Application sharing end to end through the real sharewayd.

Plays both neighbours with tests/harness (real SIP, RFC 4571-framed MS-ICE2
checks, RFC 6062 TURN) against sharewayd on 127.0.0.1:

  relay      Edge (127.0.0.2) offers m=applicationsharing; sharewayd inserts
             its TCP-PASS relay candidates into the conference's answer; the
             Edge relay connects; ConnectionAttempt -> ConnectionBind to the
             conference's TCP-PASS candidate; checks both ways; completion
             re-INVITE toward the conference (checked by ConfSide); the
             Edge's own completion re-INVITE answered by sharewayd; 1 MB of
             RTP-framed data intact each way; BYE clears both legs.
  observe    the conference is a TURN client of sharewayd (origin document).
  oneway     the conference never answers the Edge's checks: no completion
             re-INVITE; the call log says which direction failed.
  reject     the conference answers 488 + ms-diagnostics-public 21002.
  byeearly   BYE before any check.
  midclose   the Edge relay closes mid-stream.
  parallel   ten relay calls at once.

Each case prints what it checked; any failure raises. Run by
tests/integration/60-appshare.sh.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

from harness.netio import HarnessTimeout
from harness.scenario import ConfSide, EdgeSide, in_thread
from harness.timeline import Timeline

DIAG = '21002;reason="Attendees cannot share in this conference";component="ASMCU"'
MB = 1 << 20


def check(cond: bool, what: str) -> None:
    if not cond:
        raise AssertionError(what)
    print(f"ok: {what}", flush=True)


class Env:
    """Ports and the CLI of the gateway under test."""

    def __init__(self, a: argparse.Namespace) -> None:
        self.gw = ("127.0.0.1", a.sip)
        self.turn = ("127.0.0.1", a.turn)
        self.base = a.port_base
        self.cli = [a.shareway, "-c", a.conf, "-s", a.state]

    def port(self, n: int) -> int:
        return self.base + n

    def shareway(self, *args: str) -> str:
        out = subprocess.run(self.cli + list(args), capture_output=True, text=True,
                             timeout=20)
        return out.stdout + out.stderr

    def record(self, call_id: str, want: str = "", timeout: float = 8.0) -> dict:
        """The call log's record of the call whose Edge-side Call-ID is
        call_id, once it contains want (the writer commits every ~100 ms)."""
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            out = subprocess.run(self.cli + ["show", call_id, "--json"], capture_output=True,
                                 text=True, timeout=20)
            last = out.stdout + out.stderr
            if out.returncode == 0 and want in out.stdout:
                return json.loads(out.stdout)
            time.sleep(0.2)
        raise AssertionError(f"call log: no record of {call_id} with {want!r}:\n{last}")


def cid(edge: EdgeSide) -> str:
    """The Edge-side Call-ID of the call edge placed"""
    return edge.invite_call.request.header("Call-ID")


def relay_call(env: Env, tl: Timeline, idx: int, nbytes: int, *,
               respond: str = "ok") -> tuple[EdgeSide, ConfSide, object]:
    """INVITE through sharewayd; returns the actors and the 200."""
    conf = ConfSide(mode="relay", sip_port=env.port(4 + idx), listen_port=env.port(16 + idx),
                    timeline=tl, name=f"CMS{idx}" if idx else "CMS", respond=respond)
    edge = EdgeSide(relay_port=env.port(28 + idx % 12), timeline=tl,
                    name=f"Edge{idx}" if idx else "Edge")
    task = in_thread(conf.answer_call, 10)
    final = edge.call(f"sip:conf-{env.port(4 + idx)}@example.com", dest=env.gw)
    task.result(10)
    return edge, conf, final


def media(edge: EdgeSide, conf: ConfSide, nbytes: int) -> None:
    edge.connect_media()
    edge_run = edge.start_ice(send_bytes=nbytes, recv_bytes=nbytes)
    conf.accept_media()
    conf_run = conf.start_ice(send_bytes=nbytes, recv_bytes=nbytes)
    for run in (edge_run, conf_run):
        rep, data = run.result(60)
        print(rep.describe())
        rep.require_complete()
        if nbytes:
            if data is None:
                raise AssertionError(f"{rep.name}: no data exchanged")
            print(f"{rep.name}: {data.describe()}")
            data.require_intact()


def case_relay(env: Env, tl: Timeline) -> None:
    edge, conf, final = relay_call(env, tl, 0, MB)
    try:
        check(final.status == 200, "INVITE through sharewayd answered 200")
        remote = edge.pick_remote()
        check(remote.typ == "relay" and remote.ip == "127.0.0.1",
              f"the Edge sees sharewayd's relay candidate {remote.ip}:{remote.port}")
        comps = sorted(c.component for c in edge.answer.find_candidates("TCP-PASS")
                       if c.typ == "relay")
        check(comps == [1, 2], "relay candidates for components 1 and 2")
        check(remote.priority == 6553855, "Microsoft relay priority 0x006400FF")
        media(edge, conf, MB)
        check(True, "checks both ways, 1 MB RTP-framed each way intact")
        req = conf.ua.wait_reinvite(conf.invite.dialog, 10)
        check(req is not None, "sharewayd sent the completion re-INVITE to the conference")
        check(conf.final_offer_problems == [],
              "its a=remote-candidates names the conference's candidate, sorted")
        resp = edge.final_reinvite(5)
        ans = resp.text_body
        check(resp.status == 200 and ans.count("a=candidate:") == 2 and
              "a=remote-candidates" not in ans and f" {remote.port} typ relay" in ans,
              "the Edge's own completion re-INVITE answered by sharewayd with its relay")
        check(edge.hangup(5).status == 200, "BYE answered")
        bye = conf.ua.wait_request("BYE", 5)
        check(bye is not None, "BYE reached the conference leg")
        rec = env.record(cid(edge), '"completed"')
        ice = rec.get("ice") or {}
        check(all((ice.get(d) or {}).get("state") == "succeeded" for d in ("e_to_c", "c_to_e")),
              "call log: ICE succeeded e->c and c->e")
        check(rec.get("reinvite", {}).get("result") == 200,
              "call log: completion re-INVITE 200")
        conns = [c for r in rec.get("relays") or [] for c in r.get("connections") or []]
        check(rec.get("media", "").startswith("AS relay"), f"call log media: {rec.get('media')}")
        check(conns and conns[0].get("bind_code") == 200 and
              conns[0].get("bytes_in", 0) >= MB and conns[0].get("bytes_out", 0) >= MB,
              "call log: ConnectionBind 200 and >= 1 MB each way")
    finally:
        edge.close()
        conf.close()
    tl.assert_order([("Edge SIP", "sent INVITE"), ("CMS SIP", "received INVITE"),
                     ("CMS SIP", "sent 200 OK to INVITE"), ("Edge SIP", "received 200"),
                     ("Edge", "TCP connect"), ("CMS", "accepted TCP connection")])
    print(env.shareway("ladder", cid(edge)))


def case_oneway(env: Env, tl: Timeline) -> None:
    edge, conf, final = relay_call(env, tl, 1, 0, respond="none")
    try:
        check(final.status == 200, "call answered")
        edge.connect_media()
        edge_run = edge.start_ice(checks_timeout=6)
        conf.accept_media()
        conf_run = conf.start_ice(checks_timeout=6)
        rep, _ = edge_run.result(30)
        check(bool(rep.failed_directions), f"the Edge's checks fail: {rep.failed_directions}")
        conf_run.result(30)
        try:
            got = conf.ua.wait_reinvite(conf.invite.dialog, 1)
        except HarnessTimeout:
            got = None
        check(got is None, "no completion re-INVITE for a one-way failure")
        rec = env.record(cid(edge), "no Binding success", timeout=10)
        ice = rec.get("ice") or {}
        check((ice.get("e_to_c") or {}).get("state") == "failed" and
              (ice.get("c_to_e") or {}).get("state") == "succeeded",
              "call log: e->c failed, c->e succeeded")
        check(edge.hangup(5).status == 200, "the call was not hung up for it")
    finally:
        edge.close()
        conf.close()


def case_reject(env: Env, tl: Timeline) -> None:
    conf = ConfSide(mode="relay", sip_port=env.port(6), listen_port=env.port(18), timeline=tl)
    edge = EdgeSide(relay_port=env.port(30), timeline=tl)
    try:
        task = in_thread(lambda: (conf.wait_offer(10), conf.reject(488, DIAG)))
        final = edge.call(f"sip:conf-{env.port(6)}@example.com", dest=env.gw)
        task.result(10)
        check(final.status == 488, "488 relayed to the Edge")
        check(DIAG in (final.header("ms-diagnostics-public") or ""),
              "ms-diagnostics-public copied verbatim")
        rec = env.record(cid(edge), "presenter")
        check(rec.get("state") == "rejected", "call log: rejected, verdict says presenter")
    finally:
        edge.close()
        conf.close()


def case_byeearly(env: Env, tl: Timeline) -> None:
    edge, conf, final = relay_call(env, tl, 3, 0)
    try:
        check(final.status == 200, "call answered")
        check(edge.hangup(5).status == 200, "BYE before any check")
        check(conf.ua.wait_request("BYE", 5) is not None, "BYE reached the conference")
        env.record(cid(edge), '"completed"')
        check(True, "call log: completed")
    finally:
        edge.close()
        conf.close()


def case_midclose(env: Env, tl: Timeline) -> None:
    edge, conf, final = relay_call(env, tl, 4, 0)
    try:
        check(final.status == 200, "call answered")
        media(edge, conf, 0)
        edge.conn.close()
        edge.conn = None
        deadline = time.monotonic() + 5
        closed = False
        while time.monotonic() < deadline and not closed:
            try:
                closed = conf.conn.sock.recv(1) == b""
            except BlockingIOError:
                time.sleep(0.05)
            except OSError:
                closed = True
        check(closed, "the Edge relay closing mid-stream closed the conference side")
        check(edge.hangup(5).status == 200, "the SIP call survives the media close")
    finally:
        edge.close()
        conf.close()


def case_parallel(env: Env, tl: Timeline) -> None:
    def one(i: int) -> None:
        edge, conf, final = relay_call(env, Timeline(), 10 + i, 64 * 1024)
        try:
            if final.status != 200:
                raise AssertionError(f"call {i}: {final.status}")
            media(edge, conf, 64 * 1024)
            if conf.ua.wait_reinvite(conf.invite.dialog, 10) is None:
                raise AssertionError(f"call {i}: no completion re-INVITE")
            edge.hangup(5)
        finally:
            edge.close()
            conf.close()
    tasks = [in_thread(one, i) for i in range(10)]
    for t in tasks:
        t.result(90)
    check(True, "ten calls in parallel: checks, 64 KB each way, completion re-INVITE, BYE")


def case_observe(env: Env, tl: Timeline) -> None:
    conf = ConfSide(mode="observe", sip_port=env.port(9), turn_server=env.turn,
                    turn_user="cms", turn_password="cmssecret", timeline=tl)
    edge = EdgeSide(relay_port=env.port(33), timeline=tl)
    try:
        task = in_thread(conf.answer_call, 10)
        final = edge.call(f"sip:observe-{env.port(9)}@example.com", dest=env.gw)
        task.result(10)
        check(final.status == 200, "call answered with the conference's relay candidate")
        check(edge.pick_remote().typ == "relay", "the Edge sees a relay candidate")
        media(edge, conf, MB)
        check(True, "ConnectionAttempt/ConnectionBind by the conference, checks, 1 MB each way")
        req = conf.ua.wait_reinvite(conf.invite.dialog, 10)
        check(req is not None and conf.final_offer_problems == [],
              "completion re-INVITE from sharewayd with the conference's candidates")
        check(edge.hangup(5).status == 200, "BYE")
        rec = env.record(cid(edge), '"completed"')
        ice = rec.get("ice") or {}
        check(all((ice.get(d) or {}).get("state") == "succeeded" for d in ("e_to_c", "c_to_e")),
              "call log: ICE observed both ways on the conference's own allocation")
    finally:
        edge.close()
        conf.close()


CASES = {"relay": case_relay, "oneway": case_oneway, "reject": case_reject,
         "byeearly": case_byeearly, "midclose": case_midclose, "parallel": case_parallel,
         "observe": case_observe}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sip", type=int, required=True)
    ap.add_argument("--turn", type=int, required=True)
    ap.add_argument("--port-base", type=int, required=True)
    ap.add_argument("--shareway", required=True)
    ap.add_argument("--conf", required=True)
    ap.add_argument("--state", required=True)
    ap.add_argument("cases", nargs="*", default=list(CASES))
    a = ap.parse_args()
    env = Env(a)
    failed = []
    for name in a.cases:
        tl = Timeline()
        print(f"=== case {name}", flush=True)
        try:
            CASES[name](env, tl)
        except Exception as exc:  # report every case, then fail
            failed.append(name)
            print(f"FAILED case {name}: {type(exc).__name__}: {exc}", flush=True)
            print(tl.format(), flush=True)
    print(f"{len(a.cases) - len(failed)} cases passed, {len(failed)} failed"
          + (f": {' '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
