"""Application sharing with a real MS-ICE2 peer (libnice) and the
controlling agent's nomination, through the real sharewayd.

The ICE agents are libnice 0.1.21 in NICE_COMPATIBILITY_OC2007R2 (what
pidgin-SIPE runs against Lync; tests/harness/niceagent.py), and the
project's own agent (tests/harness/iceagent.py) for what libnice does not
do (holding a nomination, one check that nominates at once, an RFC 6062
TURN client):

  nicerelay   relay mode, libnice on both sides, the direct path blocked
              (each side is given only what it could reach across a real
              Edge: the Edge the gateway's relay candidate, the conference
              nothing but its own listener): ready on a pair through the
              relay, 1 MiB each way intact, ICE both ways in the call log,
              and the gateway's completion re-INVITE after libnice's
              nomination (regular), not before.
  niceobserve observe mode, libnice on the Edge side, the conference a
              TURN client of sharewayd with the project's agent: libnice's
              MS-ICE2 legacy duplicate checks reach the conference through
              the relay and are counted once per transaction; completion
              after the nomination.
  niceaggressive  nicerelay with libnice's aggressive nomination.
  nicedirect  both sides can also reach each other directly: libnice
              nominates the direct pair; the Edge's completion re-INVITE
              names it and is forwarded; sharewayd sends no completion
              naming its relay, releases the relay, and the call log says
              the media took a direct path.
  nicetimeout as nicedirect, with no completion re-INVITE from the Edge:
              check_timeout passes with checks succeeded through the relay
              and no nomination there; the same outcome.
  hold        the project's agent holds its nomination: no completion
              re-INVITE while it does, one as soon as it nominates.
  aggressive  the project's agent nominates on its first and only check:
              the completion follows that check's success.

Run by tests/integration/61-appshare-libnice.sh; each case prints what it
checked, any failure raises.
"""

from __future__ import annotations

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from e2e import Env, as_media, check, final_offer_problems  # noqa: E402
from harness import sdp  # noqa: E402
from harness.iceagent import Credentials, IceAgent  # noqa: E402
from harness.netio import HarnessTimeout, accept_conn, connect_tcp, listen_tcp  # noqa: E402
from harness.niceagent import NiceSide  # noqa: E402
from harness.scenario import ConfSide, in_thread  # noqa: E402
from harness.sipua import SipMessage, SipUA  # noqa: E402
from harness.stun import MI_MSICE2  # noqa: E402
from harness.timeline import Timeline  # noqa: E402

MIB = 1 << 20


def relay_of(media: sdp.Media) -> list[sdp.Candidate]:
    """sharewayd's relay candidates in a media section"""
    return [c for c in media.find_candidates("TCP-PASS", typ="relay") if c.ip == "127.0.0.1"]


def ladder(env: Env, call_id: str) -> list[dict]:
    return json.loads(env.shareway("ladder", call_id, "--json"))["ladder"]


def step_index(steps: list[dict], label: str) -> int:
    for i, st in enumerate(steps):
        if st["label"] == label:
            return i
    return -1


def check_completion_after_nomination(env: Env, call_id: str,
                                      controlled: str = "conference") -> None:
    """The gateway's ladder: the controlling agent's nomination through the
    relay, then the gateway's completion re-INVITE (never before)."""
    env.record(call_id, '"reinvite"')
    steps = ladder(env, call_id)
    nom = step_index(steps, "nominated (USE-CANDIDATE)")
    ri = next((i for i, st in enumerate(steps)
               if st["label"] in ("re-INVITE (SDP)", "re-INVITE (completion)")
               and st.get("src") == "shareway" and st.get("dst") == controlled), -1)
    check(nom >= 0 and ri > nom,
          f"ladder: the nomination through the relay (step {nom}, "
          f"{steps[nom]['t_ms'] if nom >= 0 else '-'} ms) before sharewayd's completion "
          f"re-INVITE (step {ri}, {steps[ri]['t_ms'] if ri >= 0 else '-'} ms)")


class TwoUAs:
    """The Edge's SIP UA on 127.0.0.2 and the conference's on 127.0.0.3
    (ports sip_idx and sip_idx + 1), for a call through sharewayd."""

    def __init__(self, env: Env, tl: Timeline, sip_idx: int) -> None:
        self.env, self.tl = env, tl
        self.edge_ua = SipUA("127.0.0.2", env.port(sip_idx), name="Edge SIP", user="edge",
                             timeline=tl).start()
        self.conf_ua = SipUA("127.0.0.3", env.port(sip_idx + 1), name="CMS SIP",
                             user="asmcu", timeline=tl).start()
        self.conf_port = env.port(sip_idx + 1)
        self.call = self.inv = None
        self.offer = self.answer = None

    def no_reinvite(self, seconds: float) -> bool:
        """No re-INVITE reaches the conference within ``seconds``."""
        try:
            self.conf_ua.wait_reinvite(self.inv.dialog, seconds)
        except HarnessTimeout:
            return True
        return False

    def close(self) -> None:
        self.edge_ua.stop()
        self.conf_ua.stop()


class NiceCall(TwoUAs):
    """An Edge (127.0.0.2) and a conference (127.0.0.3), SIP by the harness,
    ICE by libnice on each side, through sharewayd in relay mode."""

    def __init__(self, env: Env, tl: Timeline, sip_idx: int,
                 nomination: str = "regular") -> None:
        super().__init__(env, tl, sip_idx)
        self.edge = NiceSide("Edge", "127.0.0.2", controlling=True, nomination=nomination,
                             timeline=tl)
        self.conf = NiceSide("CMS", "127.0.0.3", controlling=False, nomination=nomination,
                             timeline=tl)
        self.edge_cands: list[sdp.Candidate] = []
        self.conf_cands: list[sdp.Candidate] = []

    def place(self) -> SipMessage:
        """INVITE through sharewayd; the conference answers 200."""
        self.edge_cands = self.edge.gather()
        offer = sdp.build_appsharing_sdp("127.0.0.2", self.edge_cands[0].port,
                                         self.edge.cred.ufrag, self.edge.cred.pwd,
                                         self.edge_cands, role="viewer")
        self.call = self.edge_ua.invite(f"sip:conf-{self.conf_port}@example.com", offer,
                                        dest=self.env.gw)
        self.inv = self.conf_ua.wait_invite(10)
        self.offer = as_media(self.inv.offer)
        self.conf_cands = self.conf.gather()
        passive = [c for c in self.conf_cands if c.ms_transport == "TCP-PASS"][0]
        self.conf_ua.reinvite_handler = self._conf_reinvite
        self.inv.respond(200, sdp=sdp.build_appsharing_sdp(
            "127.0.0.3", passive.port, self.conf.cred.ufrag, self.conf.cred.pwd,
            self.conf_cands, role="sharer"))
        self.inv.wait_ack(10)
        final = self.call.wait_final(10)
        if final.status == 200:
            self.answer = as_media(final.text_body)
        return final

    def _conf_reinvite(self, dlg, req: SipMessage) -> tuple[int, str | None]:
        """The conference answers a completion offer with its used
        candidate; the test reads what it was offered."""
        used = [c for c in self.conf_cands if c.ms_transport == "TCP-PASS"]
        return 200, sdp.build_appsharing_sdp("127.0.0.3", used[0].port, self.conf.cred.ufrag,
                                             self.conf.cred.pwd, used, role="sharer",
                                             version=1)

    def start_ice(self, *, direct: bool) -> None:
        """Remote candidates: with ``direct``, everything each side was
        offered; without, the Edge only the gateway's relay candidates and
        the conference none (its listener is reached through the relay)."""
        ecred = Credentials(self.answer.ice_ufrag, self.answer.ice_pwd)
        ccred = Credentials(self.offer.ice_ufrag, self.offer.ice_pwd)
        theirs = self.answer.candidates if direct else relay_of(self.answer)
        self.conf.set_remote(ccred, self.offer.candidates if direct else [])
        self.edge.set_remote(ecred, theirs)

    def edge_final_offer(self) -> SipMessage:
        """The Edge's completion re-INVITE, as pidgin-SIPE sends it from
        libnice's selected pair: its local candidate, a=remote-candidates
        naming the remote one."""
        sel = self.edge.selected
        local = [c for c in self.edge_cands if (c.ip, c.ms_transport) ==
                 (sel.local.ip, "TCP-ACT")] or self.edge_cands[:2]
        rc = [(comp, sel.remote.ip, sel.remote.port) for comp in (1, 2)]
        body = sdp.build_appsharing_sdp("127.0.0.2", local[0].port, self.edge.cred.ufrag,
                                        self.edge.cred.pwd, local[:2], role="viewer",
                                        version=1, remote_candidates=rc)
        return self.edge_ua.reinvite(self.call.dialog, body, 10)

    def data(self, nbytes: int) -> None:
        """nbytes each way at once, verified byte for byte."""
        task = in_thread(self.conf.exchange, nbytes, nbytes, b"Edge")
        rep = self.edge.exchange(nbytes, nbytes, b"CMS")
        crep = task.result(90)
        for name, r in (("Edge", rep), ("CMS", crep)):
            print(f"{name}: {r.describe()}; {r.stun_frames} check(s) libnice handed over as "
                  "data, dropped")
        for r in (rep, crep):
            r.require_intact()

    def close(self) -> None:
        for x in (self.edge, self.conf):
            x.close()
        super().close()


def case_nicerelay(env: Env, tl: Timeline, *, nomination: str = "regular", idx: int = 4,
                   nbytes: int = MIB) -> None:
    nc = NiceCall(env, tl, idx, nomination)
    try:
        check(nc.place().status == 200, "INVITE through sharewayd answered 200")
        relays = relay_of(nc.answer)
        check(sorted(c.component for c in relays) == [1, 2] and
              len({(c.addr, c.priority) for c in relays}) == 1,
              "sharewayd's relay candidate, components 1 and 2 with one address, port "
              "and priority")
        nc.start_ice(direct=False)
        es, cs = nc.edge.wait_ready(20), nc.conf.wait_ready(20)
        check(es.remote.addr == relays[0].addr,
              f"libnice (Edge) ready on a pair through the relay: {es.local.ip} -> "
              f"{es.remote.ip}:{es.remote.port} {es.remote.typ}")
        check(cs.remote.ip == "127.0.0.1",
              f"libnice (CMS) ready on a pair through the relay: its passive candidate "
              f"<- {cs.remote.ip}:{cs.remote.port} {cs.remote.typ}")
        nc.data(nbytes)
        check(True, f"{nbytes >> 10} KiB each way through the relay, intact")
        req = nc.conf_ua.wait_reinvite(nc.inv.dialog, 10)
        theirs = {cs.remote.addr}
        problems = final_offer_problems(req.text_body, nc.conf_cands, theirs)
        check(problems == [], f"sharewayd's completion re-INVITE toward the conference names "
                              f"its candidate and the bridging socket: {problems}")
        resp = nc.edge_final_offer()
        check(resp.status == 200 and "a=remote-candidates" not in resp.text_body,
              "the Edge's completion re-INVITE (libnice's selected pair) answered by sharewayd")
        check(len(nc.inv.dialog.reinvites) == 1, "and not forwarded to the conference")
        rec = env.record(nc.call.request.call_id, '"reinvite"')
        ice = rec.get("ice") or {}
        check(all((ice.get(d) or {}).get("state") == "succeeded" for d in ("e_to_c", "c_to_e"))
              and (ice.get("e_to_c") or {}).get("nominated"),
              f"call log: ICE succeeded e->c and c->e, nominated by the Edge ({nomination})")
        ri = rec.get("reinvite") or {}
        check(ri.get("leg") == "c" and ri.get("result") == 200,
              f"call log: completion re-INVITE on leg {ri.get('leg')}, {ri.get('result')}")
        check_completion_after_nomination(env, nc.call.request.call_id)
        check(nc.edge_ua.bye(nc.call.dialog, 5).status == 200, "BYE")
    finally:
        nc.close()


def case_nicedirect(env: Env, tl: Timeline, *, final_offer: bool = True,
                    idx: int = 6) -> None:
    nc = NiceCall(env, tl, idx)
    try:
        check(nc.place().status == 200, "INVITE through sharewayd answered 200")
        nc.start_ice(direct=True)
        es, cs = nc.edge.wait_ready(20), nc.conf.wait_ready(20)
        check(es.remote.ip == "127.0.0.3" and es.local.ip == "127.0.0.2",
              f"libnice nominated the direct pair {es.local.ip}:{es.local.port} -> "
              f"{es.remote.ip}:{es.remote.port} ({es.remote.typ})")
        nc.data(256 * 1024)
        check(True, "256 KiB each way on the direct pair, intact")
        cid = nc.call.request.call_id
        if final_offer:
            resp = nc.edge_final_offer()
            check(resp.status == 200, "the Edge's completion re-INVITE naming the direct "
                                      "pair: 200")
            req = nc.conf_ua.wait_reinvite(nc.inv.dialog, 10)
            rcs = as_media(req.text_body).remote_candidates
            check(rcs and all(ip == "127.0.0.3" for _, ip, _ in rcs),
                  f"forwarded to the conference as it is (remote candidates {rcs})")
            rec = env.record(cid, "direct path")
        else:
            rec = env.record(cid, "direct path", timeout=20)
        relay_named = [r for r in nc.inv.dialog.reinvites
                       if "127.0.0.1" in r.text_body and "a=remote-candidates" in r.text_body]
        check(not relay_named and not rec.get("reinvite"),
              "no completion re-INVITE from sharewayd naming its relay")
        relays = json.loads(env.shareway("relays", "--json")).get("allocations") or []
        check(not [a for a in relays if a.get("call") == rec.get("tag")],
              f"the relay of call {rec.get('tag')} is released")
        check(nc.edge_ua.bye(nc.call.dialog, 5).status == 200, "BYE")
        rec = env.record(cid, '"completed"')
        verdict = rec.get("verdict") or ""
        check("media took a direct path (not through the gateway)" in verdict,
              f"verdict: {verdict}")
        print(env.shareway("ladder", cid))
    finally:
        nc.close()


def case_niceaggressive(env: Env, tl: Timeline) -> None:
    case_nicerelay(env, tl, nomination="aggressive", idx=20, nbytes=64 * 1024)


def case_nicetimeout(env: Env, tl: Timeline) -> None:
    case_nicedirect(env, tl, final_offer=False, idx=8)


def case_niceobserve(env: Env, tl: Timeline) -> None:
    conf = ConfSide(mode="observe", sip_port=env.port(11), turn_server=env.turn,
                    turn_user="cms", turn_password="cmssecret", timeline=tl,
                    mi_style=MI_MSICE2)
    edge = NiceSide("Edge", "127.0.0.2", controlling=True, timeline=tl)
    ua = SipUA("127.0.0.2", env.port(10), name="Edge SIP", user="edge", timeline=tl).start()
    try:
        cands = edge.gather()
        offer = sdp.build_appsharing_sdp("127.0.0.2", cands[0].port, edge.cred.ufrag,
                                         edge.cred.pwd, cands, role="viewer")
        task = in_thread(conf.answer_call, 10)
        call = ua.invite(f"sip:observe-{env.port(11)}@example.com", offer, dest=env.gw)
        final = call.wait_final(10)
        task.result(10)
        check(final.status == 200, "answered with the conference's relay candidate")
        ans = as_media(final.text_body)
        edge.set_remote(Credentials(ans.ice_ufrag, ans.ice_pwd),
                        ans.find_candidates("TCP-PASS", typ="relay"))
        conf.accept_media(15)
        run = conf.start_ice(checks_timeout=15)
        sel = edge.wait_ready(20)
        rep, _ = run.result(30)
        print(rep.describe())
        rep.require_complete()
        check(sel.remote.typ == "relay",
              f"libnice ready through the conference's relay {sel.remote.ip}:{sel.remote.port}")
        inb = rep.inbound
        check(inb.copies > inb.requests and inb.use_candidate,
              f"libnice's MS-ICE2 legacy duplicates crossed the relay ({inb.copies} copies of "
              f"{inb.requests} requests) and its nomination")
        req = conf.ua.wait_reinvite(conf.invite.dialog, 10)
        check(req is not None and conf.final_offer_problems == [],
              "completion re-INVITE from sharewayd with the conference's candidates")
        rec = env.record(call.request.call_id, '"reinvite"')
        e2c = (rec.get("ice") or {}).get("e_to_c") or {}
        check(e2c.get("state") == "succeeded" and e2c.get("requests") == inb.requests,
              f"call log: e->c succeeded, {e2c.get('requests')} requests counted once per "
              f"transaction (the conference saw {inb.requests})")
        check_completion_after_nomination(env, call.request.call_id)
        check(ua.bye(call.dialog, 5).status == 200, "BYE")
    finally:
        edge.close()
        ua.stop()
        conf.close()


class AgentCall(TwoUAs):
    """Both sides with the project's agent, relay mode, raw connections."""

    def __init__(self, env: Env, tl: Timeline, sip_idx: int) -> None:
        super().__init__(env, tl, sip_idx)
        self.listener = listen_tcp(("127.0.0.3", 0))
        self.port = self.listener.getsockname()[1]
        self.edge_cred, self.conf_cred = Credentials.random(), Credentials.random()
        self.relay_port = env.port(sip_idx + 2)
        self.conns: list = []

    def place(self) -> SipMessage:
        edge_c = sdp.tcp_candidate_pair("1", "TCP-ACT", "127.0.0.2", self.relay_port, "relay",
                                        raddr=("127.0.0.2", self.relay_port))
        self.conf_c = sdp.tcp_candidate_pair("1", "TCP-PASS", "127.0.0.3", self.port, "host")
        self.call = self.edge_ua.invite(
            f"sip:conf-{self.conf_port}@example.com",
            sdp.build_appsharing_sdp("127.0.0.2", self.relay_port, self.edge_cred.ufrag,
                                     self.edge_cred.pwd, edge_c, role="viewer"),
            dest=self.env.gw)
        self.inv = self.conf_ua.wait_invite(10)
        self.offer = as_media(self.inv.offer)
        self.inv.respond(200, sdp=sdp.build_appsharing_sdp(
            "127.0.0.3", self.port, self.conf_cred.ufrag, self.conf_cred.pwd, self.conf_c,
            role="sharer"))
        self.inv.wait_ack(10)
        final = self.call.wait_final(10)
        self.answer = as_media(final.text_body)
        return final

    def agents(self, **edge_kw) -> tuple[IceAgent, IceAgent]:
        relay = [c for c in relay_of(self.answer) if c.component == 1][0]
        e = connect_tcp(relay.addr, ("127.0.0.2", self.relay_port), 5.0, "Edge relay")
        c = accept_conn(self.listener, 10.0, "sharewayd's bridging connection", "CMS media")
        self.conns += [e, c]
        edge = IceAgent(e, controlling=True, local=self.edge_cred,
                        remote=Credentials(self.answer.ice_ufrag, self.answer.ice_pwd),
                        name="Edge", peer_name="CMS", timeline=self.tl, **edge_kw)
        conf = IceAgent(c, controlling=False, local=self.conf_cred,
                        remote=Credentials(self.offer.ice_ufrag, self.offer.ice_pwd),
                        name="CMS", peer_name="Edge", timeline=self.tl,
                        expect_nomination=False)
        self.conf_agent = conf
        return edge, conf

    def checks(self, **edge_kw) -> tuple[IceAgent, object, object]:
        """The call answered, both agents' checks through the relay; the
        Edge's agent and both reports."""
        check(self.place().status == 200, "call answered")
        edge, conf = self.agents(**edge_kw)
        task = in_thread(conf.run_checks, 10)
        erep = edge.run_checks(10)
        return edge, erep, task.result(15)

    def completed(self) -> None:
        """The completion re-INVITE reached the conference after the
        nomination; BYE."""
        req = self.conf_ua.wait_reinvite(self.inv.dialog, 10)
        check(req is not None, "the completion re-INVITE reached the conference")
        check_completion_after_nomination(self.env, self.call.request.call_id)
        check(self.edge_ua.bye(self.call.dialog, 5).status == 200, "BYE")

    def close(self) -> None:
        for c in self.conns:
            c.close()
        self.listener.close()
        super().close()


def case_hold(env: Env, tl: Timeline) -> None:
    ac = AgentCall(env, tl, 12)
    try:
        edge, erep, crep = ac.checks(nominate=False)
        check(erep.complete and crep.complete and not erep.outbound.nominated,
              "checks succeeded both ways through the relay, the Edge holds its nomination")
        check(ac.no_reinvite(1.0), "no completion re-INVITE while the nomination is held")
        edge.nominate = True
        serve = in_thread(ac.conf_agent.serve, 3)
        erep = edge.run_checks(10)
        serve.result(10)
        check(erep.outbound.nominated, "the Edge nominated (USE-CANDIDATE, regular)")
        ac.completed()
    finally:
        ac.close()


def case_aggressive(env: Env, tl: Timeline) -> None:
    ac = AgentCall(env, tl, 16)
    try:
        _, erep, _ = ac.checks(aggressive=True)
        check(erep.complete and erep.outbound.nominated and erep.outbound.transactions == 1,
              "the Edge nominated on its first and only check (aggressive)")
        ac.completed()
    finally:
        ac.close()


CASES = {"nicerelay": case_nicerelay, "niceaggressive": case_niceaggressive,
         "niceobserve": case_niceobserve,
         "nicedirect": case_nicedirect, "nicetimeout": case_nicetimeout,
         "hold": case_hold, "aggressive": case_aggressive}


def main() -> int:
    import e2e
    e2e.CASES = CASES
    return e2e.main()


if __name__ == "__main__":
    sys.exit(main())
