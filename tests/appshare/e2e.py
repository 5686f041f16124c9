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
  observe    the conference is a TURN client of sharewayd (Cisco doc 212580).
  glare      the Edge's completion re-INVITE while sharewayd's toward the
             conference is outstanding: answered by sharewayd, no 491.
  byemute    the conference never answers sharewayd's BYE: the relay
             connections close with the Edge's BYE all the same.
  oneway     the conference never answers the Edge's checks: no completion
             re-INVITE; the call log says which direction failed.
  badufrag   the Edge's checks carry a USERNAME other than the SDP's ufrags:
             refused; the call log's failure and verdict name it.
  reject     the conference answers 488 + ms-diagnostics-public 21002.
  byeearly   BYE before any check.
  midclose   the Edge relay closes mid-stream.
  parallel   ten relay calls at once.
  confoffer  the conference side calls a Skype user to share: sharewayd
             inserts its relay candidates into the offer toward the Edge;
             the conference is controlling, the Edge controlled; completion
             re-INVITE toward the Edge; the conference's own completion
             re-INVITE answered by sharewayd, not forwarded.
  earlyconnect  confoffer, with the Edge's relay connecting before its
             answer reached sharewayd: held until the permission comes.
  insideconf the TCP-ACT-only conference offers: inside candidates in the
             Edge's answer, completion re-INVITE toward the Edge.
  strip      a rule strips audio and relays application sharing in one
             call: audio stays at port 0 everywhere, sharing completes.
  inside     a conference server that only connects actively (TCP-ACT):
             sharewayd offers it an inside candidate; its connection there
             is bridged by the relay's Connect to the Edge's passive
             candidate; completion re-INVITE toward the conference names
             the inside candidate and its own TCP-ACT candidate.
  nopolicy   a rule with no media.* line: relayed, and recorded as relay.
  permitlate / permitlost  (sharewayd with SHAREWAY_TEST_RELAY_FULL, run
             by 62-appshare-cmdq.sh) the call's PERMIT refused by a full
             relay command queue once: sent late, the call completes;
             always: lost after 5 s, and the verdict says so.
  evlost     (sharewayd with SHAREWAY_TEST_RELAY_EVQ_FULL=CONN_ATTEMPT, run
             by 62-appshare-cmdq.sh) the relay's event of the Edge's
             connection refused by a full event queue: the call's record
             and verdict say it was lost.
  addmline   the Edge adds m=applicationsharing to an audio call by
             re-INVITE: relay candidates in that re-INVITE's answer, then
             the usual checks, data and completion re-INVITE.
  hold       after completion, the Edge's a=inactive re-INVITE, the
             conference's a=sendonly one and the Edge's resume repeating its
             first candidates: relayed in the selected pair's form; same
             allocation, same spliced connections, no check, no completion
             re-INVITE, bytes still go through.
  swap       SfB's reused dialog: the Edge's sharing session stopped with
             port 0, the conference presents (new ICE credentials, roles
             flipped, conference controlling), then the Edge again at once
             (ICE restart): a fresh relay each time, the old one released,
             one relay record per session in the call log.

relay, observe and confoffer also read the call log as an operator would:
`shareway export --pcap` decoded by tshark with no option holds every
STUN/TURN message of the call's ladder, and `shareway sdp` lists every
exchange (the initial one, the gateway's completion re-INVITE, the
completion re-INVITE it answered itself), each body before and after.

Each case prints what it checked; any failure raises. Run by
tests/integration/60-appshare.sh.
"""

from __future__ import annotations

import argparse
import json
import os
import ssl
import subprocess
import sys
import time

from harness import sdp
from harness.iceagent import AgentRun, Credentials, IceAgent
from harness.netio import HarnessTimeout, PeerClosed, accept_conn, connect_tcp, listen_tcp
from harness.scenario import ConfSide, EdgeSide, in_thread
from harness.sipua import Dialog, SipMessage, SipUA, TlsIdentity, uri_of
from harness.timeline import Timeline

DIAG = '21002;reason="Attendees cannot share in this conference";component="ASMCU"'
MB = 1 << 20
KB256 = 256 * 1024


def check(cond: bool, what: str) -> None:
    if not cond:
        raise AssertionError(what)
    print(f"ok: {what}", flush=True)


class Env:
    """Ports and the CLI of the gateway under test."""

    def __init__(self, a: argparse.Namespace) -> None:
        self.gw = ("127.0.0.1", a.sip)
        self.turn = ("127.0.0.1", a.turn)
        self.gw_tls = ("127.0.0.1", a.sip_tls)    # zone edgetls: mutual TLS
        self.turn_tls = ("127.0.0.1", a.turn_tls)
        self.pki = a.pki
        self.base = a.port_base
        self.cli = [a.shareway, "-c", a.conf, "-s", a.state]
        self.state = a.state

    def port(self, n: int) -> int:
        return self.base + n

    def identity(self, name: str) -> TlsIdentity:
        """A TLS identity made by 60-appshare.sh (certificate CN/SAN name)"""
        return TlsIdentity(f"{self.pki}/{name}.pem", f"{self.pki}/{name}.key",
                           f"{self.pki}/ca.pem")

    def turn_client_tls(self) -> ssl.SSLContext:
        """A TURN client's TLS: the server's certificate checked (SAN IP)"""
        return ssl.create_default_context(cafile=f"{self.pki}/ca.pem")

    @property
    def gw_contact(self) -> str:
        """The gateway's Contact toward zone edgetls: its fqdn"""
        return f"sip:sbc.gw.test:{self.gw_tls[1]};transport=tls"

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


# STUN/TURN methods by number, as tshark's stun.type.method gives them
METHODS = {0x001: "Binding", 0x003: "Allocate", 0x004: "Refresh", 0x008: "CreatePermission",
           0x00a: "Connect", 0x00b: "ConnectionBind", 0x00c: "ConnectionAttempt"}
# stun.type.class is the type's class bits (0x0110) shifted by 4
CLASSES = {0x00: "Request", 0x01: "Indication", 0x10: "Success", 0x11: "Error"}


def exported_stun(env: Env, call_id: str) -> list[tuple[str, str, str, str]]:
    """`shareway export --pcap` of the call, decoded by tshark with no option:
    (source ip:port, destination ip:port, method, class) per STUN message,
    once the ladder's STUN/TURN steps all have their message in the export;
    the ladder's STUN/TURN steps are compared with these"""
    path = f"{env.state}/{call_id.replace('/', '_')}.pcap"
    deadline = time.monotonic() + 8
    while True:
        out = env.shareway("export", call_id, "--pcap", path)
        ts = subprocess.run(["tshark", "-r", path, "-Y", "stun", "-T", "fields",
                             "-E", "separator=|", "-e", "ip.src", "-e", "tcp.srcport",
                             "-e", "ip.dst", "-e", "tcp.dstport", "-e", "stun.type.method",
                             "-e", "stun.type.class"],
                            capture_output=True, text=True, timeout=30)
        msgs = []
        for line in ts.stdout.split():
            src, sport, dst, dport, method, cls = line.split("|")
            msgs.append((f"{src}:{sport}", f"{dst}:{dport}",
                         METHODS.get(int(method, 16), method), CLASSES[int(cls, 16)]))
        steps = [st for st in json.loads(env.shareway("ladder", call_id, "--json"))["ladder"]
                 if st["kind"] in ("stun", "turn")]
        if len(steps) == len(msgs) or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    check(len(msgs) == len(steps) and msgs,
          f"export --pcap: tshark -Y stun decodes {len(msgs)} STUN/TURN messages, "
          f"the ladder has {len(steps)} STUN/TURN steps ({out.strip()})")
    labels = sorted(" ".join(st["label"].replace("Ind.", "Indication").split()[:2])
                    for st in steps)
    check(sorted(f"{m} {c}" for _, _, m, c in msgs) == labels,
          "the same messages (method and class) in the export and on the ladder")
    return msgs


def ice_both_ways(msgs: list, edge: str, gw: str) -> None:
    """Binding requests and successes each way on the Edge relay's connection
    to sharewayd (edge and gw: its ip:port ends)"""
    for src, dst, who in ((edge, gw, "the Edge's"), (gw, edge, "the conference's")):
        req = [m for m in msgs if (m[0], m[1], m[2], m[3]) == (src, dst, "Binding", "Request")]
        ok = [m for m in msgs if (m[0], m[1], m[2], m[3]) == (dst, src, "Binding", "Success")]
        check(bool(req) and bool(ok),
              f"export: {who} Binding requests ({len(req)}) and their successes ({len(ok)}) "
              f"between {edge} and {gw}, real addresses")


def sdp_history(env: Env, call_id: str, offerer: str, controlled: str) -> None:
    """`shareway sdp` lists every exchange of a completed app-sharing call:
    the initial offer/answer (offerer -> controlled, all four bodies), the
    gateway's completion re-INVITE toward the controlled side (its offer
    and the answer it kept) and the offerer's own completion re-INVITE that
    the gateway answered itself (the offer and the gateway's answer)"""
    deadline = time.monotonic() + 8
    while True:
        negs = json.loads(env.shareway("sdp", call_id, "--json"))["negotiations"]
        by = {(n["trigger"], n["from"], n["to"]): n for n in negs}
        init = by.get(("initial-invite", offerer, controlled)) or {}
        own = by.get(("gw-reinvite", "g", controlled)) or {}
        local = by.get(("re-invite", offerer, "g")) or {}
        if (own.get("result") and local) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    check(len(negs) == 3, f"shareway sdp: {len(negs)} exchanges: "
          f"{[(n['seq'], n['trigger'], n['from'], n['to']) for n in negs]}")
    check(init.get("result") == 200 and
          all(init.get(k) for k in ("offer_in", "offer_out", "answer_in", "answer_out")) and
          (init["offer_in"] != init["offer_out"] or init["answer_in"] != init["answer_out"]),
          f"#1 initial-invite {offerer}->{controlled}: offer and answer, before and after the "
          "relay candidates went in")
    check(own.get("result") == 200 and "a=remote-candidates" in (own.get("offer_out") or "")
          and own.get("answer_in") and not own.get("offer_in") and not own.get("answer_out"),
          f"#{own.get('seq')} gw-reinvite shareway->{controlled}: the offer shareway wrote "
          "(a=remote-candidates) and the answer it got and kept")
    check(local.get("result") == 200 and "a=remote-candidates" in (local.get("offer_in") or "")
          and local.get("answer_out") and not local.get("offer_out")
          and not local.get("answer_in"),
          f"#{local.get('seq')} re-invite {offerer}->shareway: the {offerer} side's completion "
          "offer and the answer shareway gave it, nothing forwarded")
    text = env.shareway("sdp", call_id)
    check(f"gw-reinvite shareway→{controlled}, result 200" in text and
          f"re-invite {offerer}→shareway, result 200" in text and
          "offer in (from shareway): none, shareway wrote this offer" in text and
          "offer out (to shareway): none, not forwarded, shareway answered it" in text,
          "shareway sdp prints the three exchanges and says why a body is absent")


def completed_record(env: Env, call_id: str, leg: str) -> tuple[dict, list]:
    """The call log's record of a completed call whose checks succeeded both
    ways and whose completion re-INVITE on leg got 200; and its relay
    connections"""
    rec = env.record(call_id, '"completed"')
    ice = rec.get("ice") or {}
    check(all((ice.get(d) or {}).get("state") == "succeeded" for d in ("e_to_c", "c_to_e")),
          "call log: ICE succeeded e->c and c->e")
    ri = rec.get("reinvite") or {}
    check(ri.get("leg") == leg and ri.get("result") == 200,
          f"call log: completion re-INVITE on leg {ri.get('leg')}, {ri.get('result')}")
    return rec, [c for r in rec.get("relays") or [] for c in r.get("connections") or []]


def closed_by_peer(conn, timeout: float) -> bool:
    """Whether the peer closes conn within timeout (data read meanwhile is
    dropped)"""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            conn.recv_some(max(0.05, deadline - time.monotonic()), "the end of the call")
    except PeerClosed:
        return True
    except HarnessTimeout:
        return False
    return False


def cid(edge: EdgeSide) -> str:
    """The Edge-side Call-ID of the call edge placed"""
    return edge.invite_call.request.header("Call-ID")


def relay_call(env: Env, tl: Timeline, idx: int, nbytes: int, *,
               respond: str = "ok", user: str = "conf") -> tuple[EdgeSide, ConfSide, object]:
    """INVITE through sharewayd; returns the actors and the 200."""
    conf = ConfSide(mode="relay", sip_port=env.port(4 + idx), listen_port=env.port(16 + idx),
                    timeline=tl, name=f"CMS{idx}" if idx else "CMS", respond=respond)
    edge = EdgeSide(relay_port=env.port(28 + idx % 12), timeline=tl,
                    name=f"Edge{idx}" if idx else "Edge")
    task = in_thread(conf.answer_call, 10)
    final = edge.call(f"sip:{user}-{env.port(4 + idx)}@example.com", dest=env.gw)
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
        check({c.priority for c in edge.answer.find_candidates("TCP-PASS")
               if c.typ == "relay"} == {6553855},
              "Microsoft relay priority 0x006400FF for both components (SfB's TCP form)")
        media(edge, conf, MB)
        check(True, "checks both ways, 1 MB RTP-framed each way intact")
        req = conf.ua.wait_reinvite(conf.invite.dialog, 10)
        check(req is not None, "sharewayd sent the completion re-INVITE to the conference")
        check(conf.final_offer_problems == [],
              "its a=remote-candidates names the conference's candidate, sorted")
        fo = as_media(req.text_body)
        check(sorted(c.component for c in fo.candidates) == [1, 2] and
              [c for c, _, _ in fo.remote_candidates] == [1, 2],
              "one candidate and one remote candidate for each of components 1 and 2")
        resp = edge.final_reinvite(5)
        ans = resp.text_body
        check(resp.status == 200 and ans.count("a=candidate:") == 2 and
              "a=remote-candidates" not in ans and f" {remote.port} typ relay" in ans,
              "the Edge's own completion re-INVITE answered by sharewayd with its relay")
        check(edge.hangup(5).status == 200, "BYE answered")
        bye = conf.ua.wait_request("BYE", 5)
        check(bye is not None, "BYE reached the conference leg")
        check(closed_by_peer(edge.conn, 5) and closed_by_peer(conf.conn, 5),
              "BYE closed the relay connection on both sides (the Edge relay's and the "
              "conference's)")
        rec = env.record(cid(edge), '"completed"')
        relays = json.loads(env.shareway("relays", "--json")).get("allocations") or []
        check(not [a for a in relays if a.get("call") == rec.get("tag")],
              f"no allocation of call {rec.get('tag')} left in `shareway relays`")
        ice = rec.get("ice") or {}
        check(all((ice.get(d) or {}).get("state") == "succeeded" for d in ("e_to_c", "c_to_e")),
              "call log: ICE succeeded e->c and c->e")
        check(rec.get("reinvite", {}).get("result") == 200,
              "call log: completion re-INVITE 200")
        negs = [(n.get("from"), n.get("to")) for n in rec.get("negotiations") or []]
        check(rec.get("inbound_leg") == "e" and negs[:1] == [("e", "c")],
              "call log: the Edge leg inbound, offer e->c")
        conns = [c for r in rec.get("relays") or [] for c in r.get("connections") or []]
        check(rec.get("media", "").startswith("AS relay"), f"call log media: {rec.get('media')}")
        check(conns and conns[0].get("bind_code") == 200 and
              conns[0].get("bytes_in", 0) >= MB and conns[0].get("bytes_out", 0) >= MB,
              "call log: ConnectionBind 200 and >= 1 MB each way")
        check(all(c.get("closed") for c in conns), "call log: every relay connection closed")
        msgs = exported_stun(env, cid(edge))
        ice_both_ways(msgs, conns[0]["peer"], f"{remote.ip}:{remote.port}")
        check(not [m for m in msgs if m[2] != "Binding"],
              "export: no TURN message (the in-process client's are no wire's)")
        sdp_history(env, cid(edge), "e", "c")
        inproc = [st["label"] for st in
                  json.loads(env.shareway("ladder", cid(edge), "--json"))["ladder"]
                  if st["kind"] == "note" and "(in-process)" in st["label"]]
        check(all(any(x in lb for lb in inproc) for x in
                  ("Allocate", "ConnectionAttempt", "ConnectionBind")),
              "ladder: the in-process Allocate, ConnectionAttempt, ConnectionBind as notes")
    finally:
        edge.close()
        conf.close()
    tl.assert_order([("Edge SIP", "sent INVITE"), ("CMS SIP", "received INVITE"),
                     ("CMS SIP", "sent 200 OK to INVITE"), ("Edge SIP", "received 200"),
                     ("Edge", "TCP connect"), ("CMS", "accepted TCP connection")])
    print(env.shareway("ladder", cid(edge)))


def case_glare(env: Env, tl: Timeline) -> None:
    """The Edge sends its own completion re-INVITE while sharewayd's toward
    the conference is still unanswered (as an SfB Edge does, as soon as its
    checks pass): sharewayd answers it itself, so there is no glare and no
    491 (RFC 3261 14.2 is about one dialog; this re-INVITE is never
    relayed)."""
    edge, conf, final = relay_call(env, tl, 6, 0)
    answer_conf = conf.ua.reinvite_handler
    got_reinvite = []

    def slow(dlg: Dialog, req: SipMessage):
        got_reinvite.append(time.monotonic())
        time.sleep(1.5)
        return answer_conf(dlg, req)
    conf.ua.reinvite_handler = slow
    try:
        check(final.status == 200, "call answered")
        media(edge, conf, 0)
        deadline = time.monotonic() + 5
        while not got_reinvite and time.monotonic() < deadline:
            time.sleep(0.01)
        check(bool(got_reinvite), "sharewayd's completion re-INVITE reached the conference, "
                                  "which holds its answer 1.5 s")
        resp = edge.final_reinvite(5)
        check(resp.status == 200 and time.monotonic() - got_reinvite[0] < 1.5,
              f"the Edge's own completion re-INVITE answered {resp.status} by sharewayd "
              "while its own toward the conference was outstanding")
        deadline = time.monotonic() + 8
        ri: dict = {}
        while not ri.get("result") and time.monotonic() < deadline:
            ri = env.record(cid(edge)).get("reinvite") or {}
            time.sleep(0.2)
        check(ri.get("result") == 200 and ri.get("retries_491") == 0,
              f"call log: sharewayd's completion re-INVITE {ri.get('result')}, "
              f"{ri.get('retries_491')} retries after 491")
        check(edge.hangup(5).status == 200, "BYE")
    finally:
        edge.close()
        conf.close()


def case_byemute(env: Env, tl: Timeline) -> None:
    """The Edge hangs up and the conference never answers sharewayd's BYE
    (it vanished): the relay connections close with the Edge's BYE, not
    32 s later when the other leg's BYE transaction gives up."""
    edge, conf, final = relay_call(env, tl, 7, 0)
    deliver = conf.ua._on_message

    def mute_bye(msg: SipMessage, src) -> None:
        if msg.method != "BYE":
            deliver(msg, src)
    conf.ua._on_message = mute_bye
    try:
        check(final.status == 200, "call answered")
        media(edge, conf, KB256)
        check(edge.hangup(5).status == 200, "the Edge's BYE answered")
        t0 = time.monotonic()
        check(closed_by_peer(edge.conn, 3) and closed_by_peer(conf.conn, 3),
              f"both relay connections closed {time.monotonic() - t0:.2f} s after the BYE, "
              "while the conference leg's BYE is still unanswered")
        relays = json.loads(env.shareway("relays", "--json")).get("allocations") or []
        check(not [a for a in relays if a.get("connections") and
                   a.get("client") == "in-process"],
              "no in-process allocation with connections left in `shareway relays`")
    finally:
        edge.close()
        conf.close()


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


def case_badufrag(env: Env, tl: Timeline) -> None:
    """The Edge's checks carry a USERNAME that is not the ufrags of the SDP
    (as when something between rewrote the ICE credentials): the
    conference refuses them (401); the call log's e->c failure and verdict
    name the USERNAME and what the SDP says."""
    edge, conf, final = relay_call(env, tl, 5, 0)
    try:
        check(final.status == 200, "call answered")
        edge.connect_media()
        run = edge.start_ice(checks_timeout=6,
                             remote=Credentials("XXXX", edge.answer.ice_pwd or ""))
        conf.accept_media()
        conf.start_ice(checks_timeout=6).result(30)
        run.result(30)
        rec = env.record(cid(edge), "USERNAME", timeout=10)
        e2c = (rec.get("ice") or {}).get("e_to_c") or {}
        want = (f'USERNAME "XXXX:{edge.cred.ufrag}" where the SDP says '
                f'"{edge.answer.ice_ufrag}:{edge.cred.ufrag}"')
        check(e2c.get("state") == "failed" and e2c.get("error_code") == 401 and
              want in (e2c.get("error") or ""),
              f"call log: e->c failed, 401, {want}")
        verdict = rec.get("verdict") or ""
        check("ICE credentials changed" in verdict and "XXXX" in verdict,
              f"verdict: {verdict}")
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


def case_nopolicy(env: Env, tl: Timeline) -> None:
    """A rule with no media.* line: the gateway relays (its default) and
    the call log says relay, not passthrough"""
    edge, conf, final = relay_call(env, tl, 3, 0, user="nopolicy")
    try:
        check(final.status == 200, "call answered")
        remote = edge.pick_remote()
        check(remote.typ == "relay" and remote.ip == "127.0.0.1",
              "no media.* in the rule: the Edge sees sharewayd's relay candidate")
        check(edge.hangup(5).status == 200, "BYE answered")
        rec = env.record(cid(edge), '"completed"')
        pol = (rec.get("route") or {}).get("media_policy")
        check(pol == "relay" and rec.get("media", "").startswith("AS relay"),
              f"call log: media policy {pol}, media {rec.get('media')!r}")
    finally:
        edge.close()
        conf.close()


def case_permitlate(env: Env, tl: Timeline) -> None:
    """The relay thread's command queue refuses the call's PERMIT once
    (sharewayd runs with SHAREWAY_TEST_RELAY_FULL=PERMIT:1): it is sent
    again, late, and the call completes; the ladder says it was late"""
    edge, conf, final = relay_call(env, tl, 0, 64 * 1024)
    try:
        check(final.status == 200, "call answered")
        media(edge, conf, 64 * 1024)
        check(True, "checks both ways and 64 KB each way through a PERMIT sent late")
        check(edge.hangup(5).status == 200, "BYE answered")
        rec = env.record(cid(edge), '"completed"')
        late = [e for e in rec.get("ladder") or rec.get("events") or []
                if (e.get("label") or "") == "PERMIT" and "late" in (e.get("detail") or "")]
        check(bool(late), f"the ladder says the PERMIT went late: {late[:1]}")
        check(not rec.get("failed") and not rec.get("gw_fault"),
              f"and the call is a success: {rec.get('verdict')}")
    finally:
        edge.close()
        conf.close()


def case_permitlost(env: Env, tl: Timeline) -> None:
    """Every PERMIT is refused as a full queue would refuse it (sharewayd
    runs with SHAREWAY_TEST_RELAY_FULL=PERMIT): after 5 s of retries the
    command is lost, the call's record says so and its verdict names the
    lost PERMIT, not the refused connection that followed from it"""
    edge, conf, final = relay_call(env, tl, 1, 0)
    try:
        check(final.status == 200, "call answered")
        check_lost(env, edge, "PERMIT", "the relay command PERMIT")
    finally:
        edge.close()
        conf.close()


def check_lost(env: Env, edge: EdgeSide, name: str, verdict: str) -> None:
    """The record of edge's call names what was lost (its fault); once
    the call ended, its verdict starts with the fault: verdict"""
    rec = env.record(cid(edge), "was lost", timeout=15)
    check(name in (rec.get("gw_fault") or ""),
          f"call log: the fault names the {name}: {rec.get('gw_fault')}")
    check(edge.hangup(5).status == 200, "BYE answered")
    rec = env.record(cid(edge), '"completed"')
    v = rec.get("verdict") or ""
    check(rec.get("failed") and v.startswith("shareway failed this call: " + verdict) and
          "was lost" in v, f"verdict: {v}")


def case_evlost(env: Env, tl: Timeline) -> None:
    """The relay threads' event queue refuses every CONN_ATTEMPT (sharewayd
    runs with SHAREWAY_TEST_RELAY_EVQ_FULL=CONN_ATTEMPT): the Edge's
    connection is never bridged, and the call's record and verdict say
    the event was lost, not only a log line"""
    edge, conf, final = relay_call(env, tl, 2, 0)
    try:
        check(final.status == 200, "call answered")
        edge.connect_media()
        check_lost(env, edge, "CONN_ATTEMPT", "1 relay event (CONN_ATTEMPT first)")
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
        ladder = env.shareway("ladder", cid(edge))
        check("relay switched to splice" in ladder,
              "ladder: the conference's own connection left inspect mode for splice")
        steps = json.loads(env.shareway("ladder", cid(edge), "--json"))["ladder"]
        t = {st["label"]: st["t_ms"] for st in steps}
        check("Allocate Success" in t and "Refresh Request" in t and
              "Allocate Error 401" in t and
              t["Allocate Request"] <= t["Refresh Request"] <=
              t["relay candidate recognised"],
              f"ladder: the conference's Allocate, 401, Allocate ({t.get('Allocate Request')} "
              f"ms) and Refresh ({t.get('Refresh Request')} ms), made before its SDP named "
              f"the relay ({t.get('relay candidate recognised')} ms), at their times")
        msgs = exported_stun(env, cid(edge))
        turn = [m for m in msgs if m[2] != "Binding"]
        ctl = {(m[2], m[3]) for m in turn}
        check({("Allocate", "Request"), ("Allocate", "Error"), ("Allocate", "Success"),
               ("Refresh", "Request"), ("Refresh", "Success"),
               ("CreatePermission", "Request"), ("CreatePermission", "Success"),
               ("ConnectionAttempt", "Indication"), ("ConnectionBind", "Request"),
               ("ConnectionBind", "Success")} <= ctl,
              "export: the conference's Allocate/401/Allocate/Success, Refresh, "
              "CreatePermission, ConnectionAttempt, ConnectionBind, as tshark decodes them")
        turn_addr = f"127.0.0.1:{env.turn[1]}"
        check(all(turn_addr in m[:2] and any(a.startswith("127.0.0.3:") for a in m[:2])
                  for m in turn),
              f"export: every TURN message between the conference and {turn_addr}")
        conns = [c for r in rec.get("relays") or [] for c in r.get("connections") or []]
        relay = edge.pick_remote()
        ice_both_ways(msgs, conns[0]["peer"], f"{relay.ip}:{relay.port}")
    finally:
        edge.close()
        conf.close()
    # Cisco doc 212580's ladder, on the wire, with sharewayd as the TURN
    # server and the B2BUA between the two
    tl.assert_order([("Edge SIP", "sent INVITE"), ("CMS SIP", "received INVITE"),
                     ("CMS", "Allocate request"), ("TURN", "Allocate error 401"),
                     ("TURN", "Allocate success"), ("CMS", "Refresh request"),
                     ("CMS SIP", "sent 200 OK to INVITE"), ("Edge SIP", "sent ACK"),
                     ("Edge", "TCP connect"), ("TURN", "ConnectionAttempt indication"),
                     ("CMS", "ConnectionBind request"), ("TURN", "ConnectionBind success"),
                     ("CMS SIP", "received re-INVITE"), ("Edge SIP", "sent BYE"),
                     ("CMS", "Refresh request", "lifetime 0")])
    check(True, "observe ladder in order: Allocate/401/Allocate/Refresh, INVITE/200/ACK, "
                "ConnectionAttempt/ConnectionBind, re-INVITE, BYE, Refresh 0")


def gw_cands(media: sdp.Media) -> list[sdp.Candidate]:
    """sharewayd's candidates (relay or inside) in a media section"""
    return [c for c in media.find_candidates("TCP-PASS", typ="relay") if c.ip == "127.0.0.1"]


def as_media(body: str) -> sdp.Media:
    return sdp.Sdp.parse(body).find_media("applicationsharing")


def run_agents(agents: list[IceAgent], nbytes: int) -> list:
    """Checks, then nbytes each way full duplex, on every agent at once;
    raises unless complete and intact. Returns the check reports."""
    runs = [AgentRun(a, 10.0, nbytes, nbytes, 30.0) for a in agents]
    for run in runs:
        run.start()
    reports = []
    for run in runs:
        rep, data = run.result(60)
        print(rep.describe())
        rep.require_complete()
        if data is None:
            raise AssertionError(f"{rep.name}: no data exchanged")
        print(f"{rep.name}: {data.describe()}")
        data.require_intact()
        reports.append(rep)
    return reports


def final_offer_problems(body: str, local: list[sdp.Candidate],
                         theirs: set[tuple[str, int]]) -> list[str]:
    """What a controlled agent finds wrong in a completion offer (MS-ICE2):
    a=remote-candidates must name one of our candidates per component,
    sorted; a=candidate lines one per component, sorted, at an address of
    the peer we know (``theirs``), m=/c= the component-1 one."""
    try:
        m = as_media(body)
        c_line = sdp.Sdp.parse(body).media_connection(m)
    except (sdp.SdpError, ValueError) as exc:
        return [f"unparsable SDP: {exc}"]
    problems = []
    rcs = m.remote_candidates
    ours = {(c.component, c.ip, c.port) for c in local}
    if [c for c, _, _ in rcs] != [1, 2]:
        problems.append(f"a=remote-candidates components {[c for c, _, _ in rcs]}, "
                        "want [1, 2] (sorted)")
    problems += [f"remote candidate {rc} is not ours" for rc in rcs if rc not in ours]
    cands = m.candidates
    if [c.component for c in cands] != [1, 2]:
        problems.append(f"a=candidate components {[c.component for c in cands]}, want [1, 2]")
    problems += [f"candidate {c.line()} is unknown" for c in cands if c.addr not in theirs]
    if cands and (c_line, m.port) != (cands[0].ip, cands[0].port):
        problems.append(f"m=/c= {c_line}:{m.port} is not the component-1 candidate")
    return problems


class Peers:
    """Both neighbours as raw SIP UAs, the Edge on 127.0.0.2 and the
    conference on 127.0.0.3, with fresh ICE credentials, one media
    listener, and the media connections to close at the end."""

    def __init__(self, env: Env, tl: Timeline, edge_sip: int, conf_sip: int,
                 listen: tuple[str, int], edge_tls: TlsIdentity | None = None) -> None:
        self.env, self.tl = env, tl
        self.listener = listen_tcp(listen)
        self.edge_cred, self.conf_cred = Credentials.random(), Credentials.random()
        # over TLS the Edge is Lync: in-dialog requests to a host name
        # only, its own Contact a host name (edge.test, its certificate's)
        self.edge_ua = SipUA("127.0.0.2", edge_sip, name="Edge SIP", user="edge",
                             timeline=tl, transport="tls" if edge_tls else "udp",
                             tls=edge_tls, fqdn_only=edge_tls is not None,
                             contact_host="edge.test" if edge_tls else None).start()
        self.conf_ua = SipUA("127.0.0.3", conf_sip, name="CMS SIP", user="asmcu",
                             timeline=tl).start()
        self.conns: list = []

    def answer_call(self, answer: str) -> SipMessage:
        """Answer self.inv 200 with answer; the caller's final response
        (self.answer its app-sharing media when 200)"""
        self.inv.respond(200, sdp=answer)
        self.inv.wait_ack(10)
        final = self.call.wait_final(10)
        if final.status == 200:
            self.answer = as_media(final.text_body)
        return final

    def edge_offer_checks(self, edge, conf, nbytes: int) -> list:
        """Checks and nbytes each way when the Edge offered (controlling):
        self.answer is the media the Edge got, self.offer the conference's"""
        agents = [
            IceAgent(edge, controlling=True, local=self.edge_cred,
                     remote=Credentials(self.answer.ice_ufrag, self.answer.ice_pwd),
                     name="Edge", peer_name="CMS", timeline=self.tl, legacy_duplicate=True),
            IceAgent(conf, controlling=False, local=self.conf_cred,
                     remote=Credentials(self.offer.ice_ufrag, self.offer.ice_pwd),
                     name="CMS", peer_name="Edge", timeline=self.tl)]
        return run_agents(agents, nbytes)

    def close(self) -> None:
        for conn in self.conns:
            conn.close()
        self.listener.close()
        self.edge_ua.stop()
        self.conf_ua.stop()


class ConfOffer(Peers):
    """The conference side calls a Skype user to share (sharewayd between):
    raw SipUAs and agents, the conference controlling, the Edge controlled."""

    def __init__(self, env: Env, tl: Timeline, sip_idx: int, media_idx: int,
                 early: bool = False, edge_tls: TlsIdentity | None = None) -> None:
        super().__init__(env, tl, env.port(sip_idx), env.port(sip_idx),
                         ("127.0.0.3", env.port(media_idx)), edge_tls)
        self.edge_zone = "edgetls" if edge_tls else "edge"
        self.early = early
        self.edge_port = env.port(sip_idx)
        self.relay_port = env.port(media_idx)
        lport = self.listener.getsockname()[1]
        self.conf_cands = sdp.tcp_candidate_pair("1", "TCP-PASS", "127.0.0.3", lport, "host")
        raddr = ("127.0.0.2", self.relay_port)
        self.edge_cands = (sdp.tcp_candidate_pair("1", "TCP-ACT", *raddr, "relay", raddr=raddr)
                           + sdp.tcp_candidate_pair("2", "TCP-PASS", *raddr, "relay",
                                                    raddr=raddr))
        self.edge_ua.reinvite_handler = self._edge_reinvite
        self.final_problems: list[str] | None = None
        self.call = self.inv = self.offer = self.answer = None

    def place(self) -> SipMessage:
        """INVITE from the conference through sharewayd, answered by the
        Edge with its relay's TCP-ACT/TCP-PASS candidates."""
        offer = sdp.build_appsharing_sdp("127.0.0.3", self.conf_cands[0].port,
                                         self.conf_cred.ufrag, self.conf_cred.pwd,
                                         self.conf_cands, role="sharer")
        self.call = self.conf_ua.invite(f"sip:{self.edge_zone}-{self.edge_port}@example.com",
                                        offer, dest=self.env.gw)
        self.inv = self.edge_ua.wait_invite(10)
        self.offer = as_media(self.inv.offer)
        answer = sdp.build_appsharing_sdp("127.0.0.2", self.relay_port, self.edge_cred.ufrag,
                                          self.edge_cred.pwd, self.edge_cands, role="viewer")
        if self.early:
            # the Edge's relay connects before its answer reaches sharewayd
            self.edge_connect()
            time.sleep(0.5)
        self.inv.respond(180)
        return self.answer_call(answer)

    def relay_cands(self) -> list[sdp.Candidate]:
        """sharewayd's relay candidates in the offer the Edge received"""
        return gw_cands(self.offer)

    def media(self, nbytes: int) -> list:
        """The Edge relay connects to sharewayd's relay candidate; sharewayd
        bridges to the conference's listener; checks and data."""
        edge = self.conns[0] if self.conns else self.edge_connect()
        conf = accept_conn(self.listener, 10.0, "sharewayd's bridging connection", "CMS media")
        self.conns.append(conf)
        self.tl.add("CMS", "accepted TCP connection", conf.describe())
        agents = [
            IceAgent(conf, controlling=True, local=self.conf_cred,
                     remote=Credentials(self.answer.ice_ufrag, self.answer.ice_pwd),
                     name="CMS", peer_name="Edge", timeline=self.tl),
            IceAgent(edge, controlling=False, local=self.edge_cred,
                     remote=Credentials(self.offer.ice_ufrag, self.offer.ice_pwd),
                     name="Edge", peer_name="CMS", timeline=self.tl, legacy_duplicate=True)]
        return run_agents(agents, nbytes)

    def edge_connect(self):
        relay = [c for c in self.relay_cands() if c.component == 1][0]
        edge = connect_tcp(relay.addr, ("127.0.0.2", self.relay_port), 5.0, "Edge relay")
        self.conns.append(edge)
        self.tl.add("Edge", "TCP connect to the offer's relay candidate", edge.describe())
        return edge

    def _edge_reinvite(self, dlg: Dialog, req: SipMessage) -> tuple[int, str | None]:
        """The Edge is controlled: check the completion offer, answer with
        its used local candidate only."""
        relays = self.relay_cands()
        self.final_problems = final_offer_problems(req.text_body, self.edge_cands,
                                                   {c.addr for c in relays})
        self.final_problems += [
            f"candidate {c.line()} is not one sharewayd offered" for c in
            as_media(req.text_body).candidates
            if (c.component, c.ms_transport, c.typ, c.priority) not in
            {(r.component, r.ms_transport, r.typ, r.priority) for r in relays}]
        self.tl.add("Edge", "final offer checked", "; ".join(self.final_problems) or "ok")
        if self.final_problems:
            return 488, None
        used = self.edge_cands[:2]
        return 200, sdp.build_appsharing_sdp("127.0.0.2", self.relay_port, self.edge_cred.ufrag,
                                             self.edge_cred.pwd, used, role="viewer", version=1)

    def conf_final_offer(self) -> SipMessage:
        """The conference's own completion re-INVITE: its TCP-PASS candidate,
        a=remote-candidates naming the far end it sees (the peer of its
        media connection: sharewayd's bridging socket)."""
        peer = self.conns[1].peer
        rc = [(comp, peer[0], peer[1]) for comp in (1, 2)]
        body = sdp.build_appsharing_sdp("127.0.0.3", self.conf_cands[0].port,
                                        self.conf_cred.ufrag, self.conf_cred.pwd,
                                        self.conf_cands, role="sharer", version=1,
                                        remote_candidates=rc)
        return self.conf_ua.reinvite(self.call.dialog, body, 10)


def case_confoffer(env: Env, tl: Timeline) -> None:
    co = ConfOffer(env, tl, 36, 37)
    try:
        final = co.place()
        check(final.status == 200, "the conference's INVITE answered 200 by the Edge")
        relays = co.relay_cands()
        check(sorted(c.component for c in relays) == [1, 2] and
              len({c.addr for c in relays}) == 1,
              f"the Edge's offer has sharewayd's TCP-PASS relay candidates "
              f"{relays[0].ip}:{relays[0].port} for components 1 and 2")
        check(sorted(c.component for c in co.offer.candidates if c.ip == "127.0.0.3") == [1, 2],
              "the conference's own candidates kept beside them")
        reps = co.media(KB256)
        cms, edge = reps
        check(edge.inbound.roles == {"controlling"} and edge.inbound.use_candidate and
              cms.inbound.roles == {"controlled"} and cms.outbound.nominated,
              "checks both ways: the conference controlling and nominating, the Edge "
              "controlled; 256 KB each way intact")
        req = co.edge_ua.wait_reinvite(co.inv.dialog, 10)
        check(req is not None and co.final_problems == [],
              "completion re-INVITE toward the Edge: the relay candidate, "
              "a=remote-candidates naming the Edge's own candidate, sorted")
        resp = co.conf_final_offer()
        ans = as_media(resp.text_body) if resp.status == 200 else None
        peer = co.conns[1].peer
        check(ans is not None and not ans.remote_candidates and
              sorted((c.component, c.addr) for c in ans.candidates) ==
              [(1, peer), (2, peer)],
              f"the conference's completion re-INVITE answered by sharewayd with the "
              f"candidate it sees ({peer[0]}:{peer[1]}), no a=remote-candidates")
        check(len(co.inv.dialog.reinvites) == 1,
              "the conference's completion re-INVITE was not forwarded to the Edge")
        check(co.conf_ua.bye(co.call.dialog, 5).status == 200, "BYE from the conference")
        check(co.edge_ua.wait_request("BYE", 5) is not None, "BYE reached the Edge leg")
        rec, conns = completed_record(env, co.call.request.call_id, "e")
        want = (f"127.0.0.2:{co.relay_port}", f"127.0.0.3:{co.conf_cands[0].port}")
        check(len(conns) == 1 and (conns[0].get("peer"), conns[0].get("target")) == want,
              f"call log: the Edge relay's connection from {want[0]} bridged to {want[1]}")
        check([r.get("permissions") for r in rec.get("relays") or []] == ["127.0.0.2"],
              "call log: the relay permits the Edge's address learnt from its answer")
        legs = {leg.get("leg"): leg for leg in rec.get("legs") or []}
        negs = [(n.get("from"), n.get("to")) for n in rec.get("negotiations") or []]
        check(rec.get("inbound_leg") == "c" and legs["c"].get("inbound") and
              legs["c"].get("zone") == "cms" and not legs["e"].get("inbound") and
              legs["e"].get("zone") == "edge" and negs[:1] == [("c", "e")],
              "call log: the conference leg inbound, the Edge leg outbound, offer c->e")
        sdp_history(env, co.call.request.call_id, "c", "e")
    finally:
        co.close()
    tl.assert_order([("CMS SIP", "sent INVITE"), ("Edge SIP", "received INVITE"),
                     ("Edge SIP", "sent 200 OK to INVITE"), ("CMS SIP", "received 200"),
                     ("Edge", "TCP connect"), ("CMS", "accepted TCP connection"),
                     ("Edge SIP", "received re-INVITE"), ("CMS SIP", "sent re-INVITE")])
    print(env.shareway("ladder", co.call.request.call_id))


def case_earlyconnect(env: Env, tl: Timeline) -> None:
    """The conference offers and the Edge's relay connects to sharewayd's
    relay candidate 0.5 s before the Edge's answer (which carries the
    addresses to permit) reaches sharewayd: the connection is held, not
    refused, and goes on once the answer brought the permission."""
    co = ConfOffer(env, tl, 14, 15, early=True)
    try:
        final = co.place()
        check(final.status == 200, "the conference's INVITE answered 200 by the Edge")
        reps = co.media(KB256)
        check(all(r.inbound.use_candidate or r.outbound.nominated for r in reps),
              "the connection made before the Edge's answer was held, then bridged: "
              "checks both ways, 256 KB each way intact")
        req = co.edge_ua.wait_reinvite(co.inv.dialog, 10)
        check(req is not None and co.final_problems == [],
              "completion re-INVITE toward the Edge")
        check(co.conf_ua.bye(co.call.dialog, 5).status == 200, "BYE from the conference")
        rec = env.record(co.call.request.call_id, '"completed"')
        conns = [c for r in rec.get("relays") or [] for c in r.get("connections") or []]
        check(len(conns) == 1 and conns[0].get("peer") == f"127.0.0.2:{co.relay_port}",
              "call log: the early connection is the call's relay connection")
    finally:
        co.close()
    tl.assert_order([("Edge SIP", "received INVITE"), ("Edge", "TCP connect"),
                     ("Edge SIP", "sent 200 OK to INVITE"), ("CMS", "accepted TCP connection"),
                     ("Edge SIP", "received re-INVITE")])


class InsideCall(Peers):
    """The Edge calls a conference server that only connects actively
    (TCP-ACT candidates, no listener): sharewayd offers it an inside
    candidate; its connection there is bridged by the relay's Connect to
    the Edge's passive candidate."""

    def __init__(self, env: Env, tl: Timeline, sip_idx: int, media_idx: int) -> None:
        self.sip_port, self.media_port = env.port(sip_idx), env.port(media_idx)
        # the Edge relay's passive candidate: sharewayd's Connect arrives here
        super().__init__(env, tl, self.sip_port, self.sip_port, ("127.0.0.2", self.media_port))
        raddr = ("127.0.0.2", self.media_port)
        self.edge_cands = (sdp.tcp_candidate_pair("1", "TCP-PASS", *raddr, "relay", raddr=raddr)
                           + sdp.tcp_candidate_pair("2", "TCP-ACT", *raddr, "relay",
                                                    raddr=raddr))
        self.conf_cands = sdp.tcp_candidate_pair("1", "TCP-ACT", "127.0.0.3", self.media_port,
                                                 "host")
        self.conf_ua.reinvite_handler = self._conf_reinvite
        self.final_problems: list[str] | None = None
        self.call = self.inv = self.offer = self.answer = None

    def place(self) -> SipMessage:
        offer = sdp.build_appsharing_sdp("127.0.0.2", self.media_port, self.edge_cred.ufrag,
                                         self.edge_cred.pwd, self.edge_cands, role="sharer")
        self.call = self.edge_ua.invite(f"sip:conf-{self.sip_port}@example.com", offer,
                                        dest=self.env.gw)
        self.inv = self.conf_ua.wait_invite(10)
        self.offer = as_media(self.inv.offer)
        answer = sdp.build_appsharing_sdp("127.0.0.3", self.media_port, self.conf_cred.ufrag,
                                          self.conf_cred.pwd, self.conf_cands, role="viewer")
        return self.answer_call(answer)

    def inside_cands(self) -> list[sdp.Candidate]:
        """sharewayd's inside candidates in the offer the conference got"""
        return gw_cands(self.offer)

    def relay_cands(self) -> list[sdp.Candidate]:
        """sharewayd's relay candidates in the answer the Edge got"""
        return gw_cands(self.answer)

    def media(self, nbytes: int) -> list:
        """The conference connects from its TCP-ACT address to the inside
        candidate; sharewayd's relay connects to the Edge; checks, data."""
        inside = [c for c in self.inside_cands() if c.component == 1][0]
        conf = connect_tcp(inside.addr, ("127.0.0.3", self.media_port), 5.0, "CMS media")
        self.conns.append(conf)
        self.tl.add("CMS", "TCP connect to the inside candidate", conf.describe())
        edge = accept_conn(self.listener, 10.0, "sharewayd's Connect", "Edge relay")
        self.conns.append(edge)
        self.tl.add("Edge", "accepted TCP connection", edge.describe())
        return self.edge_offer_checks(edge, conf, nbytes)

    def _conf_reinvite(self, dlg: Dialog, req: SipMessage) -> tuple[int, str | None]:
        """The conference is controlled: the completion offer must name the
        inside candidate it connected to and its own TCP-ACT candidate."""
        inside = self.inside_cands()
        self.final_problems = final_offer_problems(req.text_body, self.conf_cands,
                                                   {c.addr for c in inside})
        self.tl.add("CMS", "final offer checked", "; ".join(self.final_problems) or "ok")
        if self.final_problems:
            return 488, None
        return 200, sdp.build_appsharing_sdp("127.0.0.3", self.media_port, self.conf_cred.ufrag,
                                             self.conf_cred.pwd, self.conf_cands,
                                             role="viewer", version=1)

    def edge_final_offer(self) -> SipMessage:
        """The Edge's own completion re-INVITE: its passive candidate, and
        a=remote-candidates naming where the connection came from (the
        relayed address, sharewayd's relay candidate)."""
        peer = self.conns[1].peer
        rc = [(comp, peer[0], peer[1]) for comp in (1, 2)]
        body = sdp.build_appsharing_sdp("127.0.0.2", self.media_port, self.edge_cred.ufrag,
                                        self.edge_cred.pwd, self.edge_cands[:1] + [
                                            c for c in self.edge_cands if c.component == 2
                                            and c.ms_transport == "TCP-ACT"],
                                        role="sharer", version=1, remote_candidates=rc)
        return self.edge_ua.reinvite(self.call.dialog, body, 10)


def case_inside(env: Env, tl: Timeline) -> None:
    ic = InsideCall(env, tl, 26, 27)
    try:
        final = ic.place()
        check(final.status == 200, "the Edge's INVITE answered 200 by a TCP-ACT-only conference")
        inside = ic.inside_cands()
        check(sorted(c.component for c in inside) == [1, 2] and len({c.addr for c in inside}) == 1,
              f"the conference's offer has sharewayd's inside candidates "
              f"{inside[0].ip}:{inside[0].port} for components 1 and 2")
        relays = ic.relay_cands()
        check(sorted(c.component for c in relays) == [1, 2],
              f"the Edge's answer has sharewayd's relay candidates {relays[0].ip}:{relays[0].port}")
        reps = ic.media(KB256)
        edge, cms = reps
        check(edge.outbound.nominated and cms.inbound.roles == {"controlling"},
              "checks both ways over conference -> inside -> Connect -> Edge, the Edge "
              "controlling and nominating; 256 KB each way intact")
        check(ic.conns[1].peer == relays[0].addr,
              f"sharewayd's Connect came from its relayed address {relays[0].ip}:{relays[0].port}")
        req = ic.conf_ua.wait_reinvite(ic.inv.dialog, 10)
        check(req is not None and ic.final_problems == [],
              "completion re-INVITE toward the conference: the inside candidate, "
              "a=remote-candidates naming its own TCP-ACT candidate, sorted")
        resp = ic.edge_final_offer()
        ans = as_media(resp.text_body) if resp.status == 200 else None
        check(ans is not None and not ans.remote_candidates and
              sorted((c.component, c.addr) for c in ans.candidates) ==
              [(1, relays[0].addr), (2, relays[0].addr)],
              "the Edge's completion re-INVITE answered by sharewayd with the relay candidate")
        check(ic.edge_ua.bye(ic.call.dialog, 5).status == 200, "BYE from the Edge")
        check(ic.conf_ua.wait_request("BYE", 5) is not None, "BYE reached the conference leg")
        rec, conns = completed_record(env, ic.call.request.call_id, "c")
        want = (f"127.0.0.3:{ic.media_port}", f"127.0.0.2:{ic.media_port}")
        check(any((c.get("peer"), c.get("target")) == want for c in conns),
              f"call log: the conference's inside connection from {want[0]} bridged to "
              f"the Edge's {want[1]}")
        ladder = env.shareway("ladder", ic.call.request.call_id)
        print(ladder)
        check(all(x in ladder for x in ("TCP connect to inside candidate", "Connect (in-process)",
                                         "Connect Success (in-process)")),
              "ladder: inside connect, Connect, Connect success")
    finally:
        ic.close()
    tl.assert_order([("Edge SIP", "sent INVITE"), ("CMS SIP", "received INVITE"),
                     ("CMS SIP", "sent 200 OK to INVITE"), ("Edge SIP", "received 200"),
                     ("CMS", "TCP connect"), ("Edge", "accepted TCP connection"),
                     ("CMS SIP", "received re-INVITE"), ("Edge SIP", "sent re-INVITE")])


def case_insideconf(env: Env, tl: Timeline) -> None:
    """The TCP-ACT-only conference offers (it calls a Skype user): the
    Edge's answer reaches it with sharewayd's inside candidates; the
    conference (controlling) connects there, the relay's Connect reaches
    the Edge's passive candidate; the completion re-INVITE goes to the
    Edge, and the conference's own one is answered with the inside
    candidate."""
    sip_port, media_port = env.port(26), env.port(27)
    ps = Peers(env, tl, sip_port, sip_port, ("127.0.0.2", media_port))
    edge_cred, conf_cred, conf_ua, edge_ua = ps.edge_cred, ps.conf_cred, ps.conf_ua, ps.edge_ua
    raddr = ("127.0.0.2", media_port)
    edge_cands = sdp.tcp_candidate_pair("1", "TCP-PASS", *raddr, "relay", raddr=raddr)
    conf_cands = sdp.tcp_candidate_pair("1", "TCP-ACT", "127.0.0.3", media_port, "host")
    finals: list[str] = []

    def edge_reinvite(dlg: Dialog, req: SipMessage) -> tuple[int, str | None]:
        finals.append(req.text_body)
        return 200, sdp.build_appsharing_sdp("127.0.0.2", media_port, edge_cred.ufrag,
                                             edge_cred.pwd, edge_cands, role="viewer",
                                             version=1)
    edge_ua.reinvite_handler = edge_reinvite
    conns = ps.conns
    try:
        offer = sdp.build_appsharing_sdp("127.0.0.3", media_port, conf_cred.ufrag,
                                         conf_cred.pwd, conf_cands, role="sharer")
        call = conf_ua.invite(f"sip:edge-{sip_port}@example.com", offer, dest=env.gw)
        inv = edge_ua.wait_invite(10)
        got = as_media(inv.offer)
        relays = gw_cands(got)
        inv.respond(200, sdp=sdp.build_appsharing_sdp("127.0.0.2", media_port, edge_cred.ufrag,
                                                      edge_cred.pwd, edge_cands, role="viewer"))
        inv.wait_ack(10)
        final = call.wait_final(10)
        check(final.status == 200 and len(relays) == 2, "the conference's INVITE answered 200; "
              "the Edge got sharewayd's relay candidates")
        ans = as_media(final.text_body)
        inside = gw_cands(ans)
        check(sorted(c.component for c in inside) == [1, 2],
              f"the conference got the Edge's answer with sharewayd's inside candidates "
              f"{inside[0].ip}:{inside[0].port}")
        conf = connect_tcp(inside[0].addr, ("127.0.0.3", media_port), 5.0, "CMS media")
        conns.append(conf)
        edge = accept_conn(ps.listener, 10.0, "sharewayd's Connect", "Edge relay")
        conns.append(edge)
        reps = run_agents([
            IceAgent(conf, controlling=True, local=conf_cred,
                     remote=Credentials(ans.ice_ufrag, ans.ice_pwd), name="CMS",
                     peer_name="Edge", timeline=tl),
            IceAgent(edge, controlling=False, local=edge_cred,
                     remote=Credentials(got.ice_ufrag, got.ice_pwd), name="Edge",
                     peer_name="CMS", timeline=tl, legacy_duplicate=True)], KB256)
        check(reps[0].outbound.nominated, "checks both ways, the conference controlling; "
              "256 KB each way intact")
        edge_ua.wait_reinvite(inv.dialog, 10)
        fo = as_media(finals[0]) if finals else None
        check(fo is not None and [(c.component, c.addr) for c in fo.candidates] ==
              [(1, relays[0].addr), (2, relays[0].addr)] and
              [(c, ip, port) for c, ip, port in fo.remote_candidates] ==
              [(1, *raddr), (2, *raddr)],
              "completion re-INVITE toward the Edge: the relay candidate, a=remote-candidates "
              "naming the Edge candidate the Connect reached")
        rc = [(comp, *inside[0].addr) for comp in (1, 2)]
        resp = conf_ua.reinvite(call.dialog, sdp.build_appsharing_sdp(
            "127.0.0.3", media_port, conf_cred.ufrag, conf_cred.pwd, conf_cands, role="sharer",
            version=1, remote_candidates=rc), 10)
        ra = as_media(resp.text_body) if resp.status == 200 else None
        check(ra is not None and not ra.remote_candidates and
              sorted((c.component, c.addr) for c in ra.candidates) ==
              [(1, inside[0].addr), (2, inside[0].addr)] and len(inv.dialog.reinvites) == 1,
              "the conference's completion re-INVITE answered by sharewayd with the inside "
              "candidate, not forwarded")
        check(conf_ua.bye(call.dialog, 5).status == 200, "BYE")
    finally:
        ps.close()


def with_audio(body: str, ip: str, port: int) -> str:
    """An app-sharing SDP with an audio m-line before m=applicationsharing;
    both rely on the session-level c= (ip is that of the body's c=)"""
    audio = f"m=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
    head, sep, tail = body.partition("m=applicationsharing")
    if f"c=IN IP4 {ip}\r\n" not in head:
        raise ValueError(f"the body's session c= is not {ip}")
    return head + audio + sep + tail


def audio_sdp(ip: str, port: int, version: int = 0) -> str:
    return (f"v=0\r\no=- 0 {version} IN IP4 {ip}\r\ns=session\r\nc=IN IP4 {ip}\r\n"
            f"t=0 0\r\nm=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")


def case_strip(env: Env, tl: Timeline) -> None:
    """A rule strips audio and relays application sharing in one call: the
    audio m-line reaches the conference with port 0 (RFC 3264 8.2) and
    stays at 0 in the answer and in sharewayd's completion re-INVITE,
    while m=applicationsharing gets the relay candidates and completes."""
    sip_port, media_port = env.port(2), env.port(3)
    ps = Peers(env, tl, sip_port, sip_port, ("127.0.0.3", media_port))
    edge_cred, conf_cred, conf_ua, edge_ua = ps.edge_cred, ps.conf_cred, ps.conf_ua, ps.edge_ua
    raddr = ("127.0.0.2", media_port)
    edge_cands = (sdp.tcp_candidate_pair("1", "TCP-ACT", *raddr, "relay", raddr=raddr)
                  + sdp.tcp_candidate_pair("2", "TCP-PASS", *raddr, "relay", raddr=raddr))
    conf_cands = sdp.tcp_candidate_pair("1", "TCP-PASS", "127.0.0.3", media_port, "host")
    completion: list[str] = []

    def conf_reinvite(dlg: Dialog, req: SipMessage) -> tuple[int, str | None]:
        completion.append(req.text_body)
        return 200, answer
    conf_ua.reinvite_handler = conf_reinvite
    conns = ps.conns
    try:
        offer = with_audio(sdp.build_appsharing_sdp("127.0.0.2", media_port, edge_cred.ufrag,
                                                    edge_cred.pwd, edge_cands), "127.0.0.2",
                           40000)
        call = edge_ua.invite(f"sip:stripaudio-{sip_port}@example.com", offer, dest=env.gw)
        inv = conf_ua.wait_invite(10)
        got = sdp.Sdp.parse(inv.offer)
        check([(m.kind, m.port) for m in got.media] ==
              [("audio", 0), ("applicationsharing", media_port)],
              "the conference's offer: audio stripped to port 0, application sharing as offered")
        answer = with_audio(sdp.build_appsharing_sdp("127.0.0.3", conf_cands[0].port,
                                                     conf_cred.ufrag, conf_cred.pwd,
                                                     conf_cands, role="viewer"),
                            "127.0.0.3", 0)
        inv.respond(200, sdp=answer)
        inv.wait_ack(10)
        final = call.wait_final(10)
        check(final.status == 200, "the Edge's INVITE answered 200")
        ans = sdp.Sdp.parse(final.text_body)
        relays = [c for c in ans.find_media().find_candidates("TCP-PASS", typ="relay")
                  if c.ip == "127.0.0.1"]
        check(ans.find_media("audio").port == 0 and
              sorted(c.component for c in relays) == [1, 2],
              "the Edge's answer: audio at port 0, sharewayd's relay candidates for "
              "components 1 and 2")
        edge = connect_tcp(relays[0].addr, raddr, 5.0, "Edge relay")
        conns.append(edge)
        conf = accept_conn(ps.listener, 10.0, "sharewayd's bridging connection", "CMS media")
        conns.append(conf)
        run_agents([IceAgent(edge, controlling=True, local=edge_cred,
                             remote=Credentials(ans.find_media().ice_ufrag,
                                                ans.find_media().ice_pwd),
                             name="Edge", peer_name="CMS", timeline=tl),
                    IceAgent(conf, controlling=False, local=conf_cred,
                             remote=Credentials(got.find_media().ice_ufrag,
                                                got.find_media().ice_pwd),
                             name="CMS", peer_name="Edge", timeline=tl)], KB256)
        conf_ua.wait_reinvite(inv.dialog, 10)
        done = sdp.Sdp.parse(completion[0]) if completion else None
        check(done is not None and done.find_media("audio").port == 0 and
              done.find_media().remote_candidates,
              "completion re-INVITE toward the conference: a=remote-candidates, and the "
              "stripped audio still at port 0")
        check(edge_ua.bye(call.dialog, 5).status == 200, "BYE")
    finally:
        ps.close()


class AddMline(Peers):
    """An audio call between the Edge and the conference side; the Edge
    then adds m=applicationsharing by re-INVITE (Edge controlling). The
    conference side answers that re-INVITE with a TCP-PASS host candidate
    and the gateway's completion re-INVITE with its used candidate."""

    def __init__(self, env: Env, tl: Timeline, sip_idx: int, media_idx: int) -> None:
        self.conf_port = env.port(sip_idx)       # on 127.0.0.3
        self.relay_port = env.port(sip_idx)      # on 127.0.0.2
        super().__init__(env, tl, 0, self.conf_port, ("127.0.0.3", env.port(media_idx)))
        lport = self.listener.getsockname()[1]
        raddr = ("127.0.0.2", self.relay_port)
        self.edge_cands = (sdp.tcp_candidate_pair("1", "TCP-ACT", *raddr, "relay", raddr=raddr)
                           + sdp.tcp_candidate_pair("2", "TCP-PASS", *raddr, "relay",
                                                    raddr=raddr))
        self.conf_cands = sdp.tcp_candidate_pair("1", "TCP-PASS", "127.0.0.3", lport, "host")
        self.conf_ua.reinvite_handler = self._conf_reinvite
        self.offer = self.answer = self.call = self.inv = None
        self.final_problems: list[str] | None = None

    def audio_call(self) -> SipMessage:
        """INVITE with audio only, answered with audio."""
        self.call = self.edge_ua.invite(f"sip:conf-{self.conf_port}@example.com",
                                        audio_sdp("127.0.0.2", 50000), dest=self.env.gw)
        self.inv = self.conf_ua.wait_invite(10)
        self.inv.respond(200, sdp=audio_sdp("127.0.0.3", 50002))
        self.inv.wait_ack(10)
        return self.call.wait_final(10)

    def add_sharing(self) -> SipMessage:
        """The Edge's re-INVITE adding m=applicationsharing"""
        body = with_audio(sdp.build_appsharing_sdp(
            "127.0.0.2", self.relay_port, self.edge_cred.ufrag, self.edge_cred.pwd,
            self.edge_cands, role="viewer", version=1), "127.0.0.2", 50000)
        resp = self.edge_ua.reinvite(self.call.dialog, body, 10)
        if resp.status == 200:
            self.answer = as_media(resp.text_body)
        return resp

    def _conf_reinvite(self, dlg: Dialog, req: SipMessage) -> tuple[int, str | None]:
        """First the added m-line (answered with a TCP-PASS host candidate),
        then the gateway's completion offer (checked, answered with the used
        candidate only)."""
        media = as_media(req.text_body)
        if not media.remote_candidates:
            self.offer = media
            self.tl.add("CMS", "re-INVITE adds app sharing", "answered with TCP-PASS host")
            return 200, with_audio(sdp.build_appsharing_sdp(
                "127.0.0.3", self.conf_cands[0].port, self.conf_cred.ufrag,
                self.conf_cred.pwd, self.conf_cands, role="sharer", version=1),
                "127.0.0.3", 50002)
        # the far end we know: the peer of our media connection
        peer = {self.conns[1].peer} if len(self.conns) > 1 else set()
        problems = final_offer_problems(req.text_body, self.conf_cands, peer)
        self.final_problems = problems
        self.tl.add("CMS", "final offer checked", "; ".join(problems) or "ok")
        if problems:
            return 488, None
        return 200, with_audio(sdp.build_appsharing_sdp(
            "127.0.0.3", self.conf_cands[0].port, self.conf_cred.ufrag, self.conf_cred.pwd,
            self.conf_cands, role="sharer", version=2), "127.0.0.3", 50002)

    def relay_cands(self) -> list[sdp.Candidate]:
        return gw_cands(self.answer)

    def media(self, nbytes: int) -> list:
        relay = [c for c in self.relay_cands() if c.component == 1][0]
        edge = connect_tcp(relay.addr, ("127.0.0.2", self.relay_port), 5.0, "Edge relay")
        self.conns.append(edge)
        self.tl.add("Edge", "TCP connect to the answer's relay candidate", edge.describe())
        conf = accept_conn(self.listener, 10.0, "sharewayd's bridging connection", "CMS media")
        self.conns.append(conf)
        self.tl.add("CMS", "accepted TCP connection", conf.describe())
        return self.edge_offer_checks(edge, conf, nbytes)

    def edge_final_offer(self) -> SipMessage:
        """The Edge's own completion re-INVITE: both m-lines, its TCP-ACT
        relay candidate, a=remote-candidates naming sharewayd's relay."""
        relay = self.relay_cands()[0]
        rc = [(comp, relay.ip, relay.port) for comp in (1, 2)]
        body = with_audio(sdp.build_appsharing_sdp(
            "127.0.0.2", self.relay_port, self.edge_cred.ufrag, self.edge_cred.pwd,
            self.edge_cands[:2], role="viewer", version=2, remote_candidates=rc),
            "127.0.0.2", 50000)
        return self.edge_ua.reinvite(self.call.dialog, body, 10)


def case_addmline(env: Env, tl: Timeline) -> None:
    am = AddMline(env, tl, 24, 25)
    try:
        final = am.audio_call()
        check(final.status == 200 and "m=audio 50002" in final.text_body and
              "applicationsharing" not in final.text_body and
              "a=candidate" not in final.text_body, "audio-only call answered with audio")
        resp = am.add_sharing()
        check(resp.status == 200, "the Edge's re-INVITE adding m=applicationsharing: 200")
        check(am.offer is not None and
              sdp.Sdp.parse(am.conf_ua.dialogs[am.inv.dialog.key()].remote_sdp)
              .media[0].kind == "audio", "the re-INVITE reached the conference with both m-lines")
        relays = am.relay_cands()
        body = sdp.Sdp.parse(resp.text_body)
        check([m.kind for m in body.media] == ["audio", "applicationsharing"] and
              sorted(c.component for c in relays) == [1, 2],
              "sharewayd's TCP-PASS relay candidates (components 1 and 2) in that "
              "re-INVITE's answer, audio kept")
        edge, cms = am.media(KB256)
        check(cms.inbound.roles == {"controlling"} and cms.inbound.use_candidate and
              edge.inbound.roles == {"controlled"} and edge.outbound.nominated,
              "checks both ways, the Edge controlling and nominating; 256 KB each way intact")
        req = am.conf_ua.wait_reinvite(am.inv.dialog, 10, count=2)
        check(req is not None and am.final_problems == [],
              "completion re-INVITE toward the conference: its candidate in "
              "a=remote-candidates, the bridging socket as candidate, sorted")
        check([m.kind for m in sdp.Sdp.parse(req.text_body).media] ==
              ["audio", "applicationsharing"], "the completion re-INVITE keeps the audio m-line")
        resp = am.edge_final_offer()
        ans = sdp.Sdp.parse(resp.text_body) if resp.status == 200 else None
        asm = ans.find_media() if ans else None
        check(asm is not None and [m.kind for m in ans.media] == ["audio", "applicationsharing"]
              and not asm.remote_candidates and
              sorted((c.component, c.addr) for c in asm.candidates) ==
              [(1, relays[0].addr), (2, relays[0].addr)],
              "the Edge's completion re-INVITE answered by sharewayd: audio and its relay")
        check(len(am.inv.dialog.reinvites) == 2, "and not forwarded to the conference")
        check(am.edge_ua.bye(am.call.dialog, 5).status == 200, "BYE answered")
        check(am.conf_ua.wait_request("BYE", 5) is not None, "BYE reached the conference leg")
        rec = env.record(am.call.request.call_id, '"completed"')
        ice = rec.get("ice") or {}
        check(all((ice.get(d) or {}).get("state") == "succeeded" for d in ("e_to_c", "c_to_e")),
              "call log: ICE succeeded e->c and c->e")
        ri = rec.get("reinvite") or {}
        check(ri.get("leg") == "c" and ri.get("result") == 200,
              f"call log: completion re-INVITE on leg {ri.get('leg')}, {ri.get('result')}")
        negs = [(n.get("seq"), n.get("trigger"), n.get("from"), n.get("to"))
                for n in rec.get("negotiations") or []]
        check(negs[:2] == [(1, "initial-invite", "e", "c"), (2, "re-invite", "e", "c")],
              f"call log: the audio call and the re-INVITE adding sharing, e->c: {negs[:2]}")
        check((rec.get("verdict") or "").startswith("Application sharing worked"),
              f"verdict (the audio answer first declined nothing): {rec.get('verdict')}")
    finally:
        am.close()
    tl.assert_order([("Edge SIP", "sent INVITE"), ("CMS SIP", "received INVITE"),
                     ("Edge SIP", "received 200"), ("Edge SIP", "sent re-INVITE"),
                     ("CMS SIP", "received re-INVITE"), ("Edge SIP", "received 200"),
                     ("Edge", "TCP connect"), ("CMS", "accepted TCP connection"),
                     ("CMS SIP", "received re-INVITE"), ("Edge SIP", "sent re-INVITE")])
    print(env.shareway("ladder", am.call.request.call_id))


def answer_direction(offer: sdp.Media) -> list[str]:
    """The direction attribute answering the offer's (RFC 3264 6.1)"""
    for d, ans in (("inactive", "inactive"), ("sendonly", "recvonly"),
                   ("recvonly", "sendonly")):
        if offer.attr(d) is not None:
            return [f"a={ans}"]
    return []


def alloc_of(env: Env, tag: str) -> list[dict]:
    """The call's allocations in `shareway relays`"""
    relays = json.loads(env.shareway("relays", "--json")).get("allocations") or []
    return [a for a in relays if a.get("call") == tag]


def raw_exchange(a, b, nbytes: int) -> bool:
    """nbytes of random bytes each way through a spliced pair of
    connections (a at one end, b at the other) arrive intact"""
    ab, ba = os.urandom(nbytes), os.urandom(nbytes)
    a.sendall(ab, 10)
    b.sendall(ba, 10)
    return b.recv_exact(nbytes, 10, "bytes through the splice") == ab and \
        a.recv_exact(nbytes, 10, "bytes through the splice") == ba


def case_hold(env: Env, tl: Timeline) -> None:
    """Hold and resume after the pair is selected: the Edge's a=inactive
    re-INVITE (selected candidate, a=remote-candidates), the conference's
    a=sendonly one, the Edge's resume repeating all its first candidates.
    Each is relayed in the selected pair's form; the relay, its connections
    and their splice stay as they are: no new relay, no new check, no
    completion re-INVITE, and bytes still go through."""
    edge, conf, final = relay_call(env, tl, 8, 0)
    answer_conf = conf.ua.reinvite_handler

    def conf_reinvite(dlg: Dialog, req: SipMessage) -> tuple[int, str | None]:
        status, body = answer_conf(dlg, req)
        if body and status == 200:
            body += "\r\n".join(answer_direction(as_media(req.text_body)) + [""])
        return status, body
    conf.ua.reinvite_handler = conf_reinvite
    try:
        check(final.status == 200, "call answered")
        media(edge, conf, KB256)
        conf.ua.wait_reinvite(conf.invite.dialog, 10)
        check(edge.final_reinvite(5).status == 200 and conf.final_offer_problems == [],
              "checks, completion re-INVITE toward the conference, the Edge's own "
              "answered by sharewayd")
        rec = env.record(cid(edge), "succeeded")
        allocs = alloc_of(env, rec.get("tag"))
        conns = sorted((k.get("id"), k.get("state")) for a in allocs
                       for k in a.get("connections") or [])
        check(len(allocs) == 1 and conns and all(st == "splice" for _, st in conns),
              f"one allocation, its connections spliced: {conns}")
        ice0 = {d: (v or {}).get("requests") for d, v in (rec.get("ice") or {}).items()}
        relay = edge.remote

        used = sdp.tcp_candidate_pair("1", "TCP-ACT", edge.media_ip, edge.relay_port, "relay",
                                      raddr=(edge.media_ip, edge.relay_port))

        def edge_sdp(version: int, extra: list[str], remote: bool) -> str:
            rc = [(comp, relay.ip, relay.port) for comp in (1, 2)] if remote else None
            return sdp.build_appsharing_sdp(edge.media_ip, edge.relay_port, edge.cred.ufrag,
                                            edge.cred.pwd, used, role=edge.role,
                                            version=version, remote_candidates=rc,
                                            extra=extra)
        resp = edge.ua.reinvite(edge.dialog, edge_sdp(2, ["a=inactive"], True), 10)
        got = conf.ua.wait_reinvite(conf.invite.dialog, 5, count=2)
        gm = as_media(got.text_body)
        check(gm.attr("inactive") is not None and conf.final_offer_problems == [] and
              [c.addr for c in gm.candidates] == [conf.conn.peer] * 2,
              "the Edge's hold (a=inactive, a=remote-candidates) reached the conference "
              "in the selected pair's form: sharewayd's bridging socket, its own "
              "candidate as remote")

        def relay_only(media: sdp.Media | None, direction: str) -> bool:
            """the direction, sharewayd's relay candidate alone, no
            a=remote-candidates: what the Edge gets once the pair is set"""
            return (media is not None and media.attr(direction) is not None and
                    not media.remote_candidates and
                    sorted((c.component, c.addr) for c in media.candidates) ==
                    [(1, relay.addr), (2, relay.addr)])
        check(relay_only(as_media(resp.text_body) if resp.status == 200 else None,
                         "inactive"),
              "the Edge's 200: a=inactive from the conference, sharewayd's relay "
              "candidate only")

        conf_hold = sdp.build_appsharing_sdp(
            conf.local_cands[0].ip, conf.local_cands[0].port, conf.cred.ufrag,
            conf.cred.pwd, [c for c in conf.local_cands if c.ms_transport == "TCP-PASS"],
            role=conf.role, version=2, extra=["a=sendonly"])
        edge_got: list[SipMessage] = []

        def edge_reinvite(dlg: Dialog, req: SipMessage) -> tuple[int, str | None]:
            edge_got.append(req)
            return 200, edge_sdp(3, ["a=recvonly"], False)
        edge.ua.reinvite_handler = edge_reinvite
        resp = conf.ua.reinvite(conf.invite.dialog, conf_hold, 10)
        check(relay_only(as_media(edge_got[0].text_body) if edge_got else None,
                         "sendonly"),
              "the conference's hold (a=sendonly) reached the Edge with sharewayd's "
              "relay candidate only")
        cm = as_media(resp.text_body) if resp.status == 200 else None
        check(cm is not None and cm.attr("recvonly") is not None and
              [c.addr for c in cm.candidates] == [conf.conn.peer] * 2,
              "the conference's 200: a=recvonly, sharewayd's bridging socket")

        resume = edge.offer_sdp().replace("o=- 0 0 ", "o=- 0 4 ")
        resp = edge.ua.reinvite(edge.dialog, resume, 10)
        got = conf.ua.wait_reinvite(conf.invite.dialog, 5, count=3)
        check(resp.status == 200 and conf.final_offer_problems == [] and
              as_media(got.text_body).remote_candidates,
              "the Edge's resume repeating its first candidates reached the conference "
              "in the selected pair's form")

        check(raw_exchange(edge.conn, conf.conn, 64 * 1024),
              "64 KB each way still go through the same connections")
        rec = env.record(cid(edge), "succeeded")
        after = alloc_of(env, rec.get("tag"))
        check([(a.get("id"), a.get("relayed")) for a in after] ==
              [(a.get("id"), a.get("relayed")) for a in allocs] and
              sorted((k.get("id"), k.get("state")) for a in after
                     for k in a.get("connections") or []) == conns,
              "no new relay: the same allocation, the same connections, still spliced")
        check(len(conf.invite.dialog.reinvites) == 3 and len(edge_got) == 1,
              "no completion re-INVITE: the conference got the completion, the hold and "
              "the resume; the Edge only the conference's hold")
        ice1 = {d: (v or {}).get("requests") for d, v in (rec.get("ice") or {}).items()}
        check(ice1 == ice0 and len(rec.get("relays") or []) == 1,
              f"no new check ({ice1}), one relay in the call log")
        check(edge.hangup(5).status == 200, "BYE")
    finally:
        edge.close()
        conf.close()


def stopped_sdp(ip: str, audio_port: int, version: int) -> str:
    """The call's SDP once sharing stopped: audio, m=applicationsharing at
    port 0 (RFC 3264 8.2)"""
    return (audio_sdp(ip, audio_port, version)
            + "m=applicationsharing 0 TCP/RTP/AVP 127\r\na=rtpmap:127 x-data/90000\r\n")


class Swap(AddMline):
    """SfB's reused dialog: an audio call, the Edge adds sharing by
    re-INVITE (session 1, the Edge presenting), stops it with port 0, then
    the conference presents in the same dialog (session 2: its re-INVITE
    adds sharing again with new ICE credentials, the roles flip, the
    conference is the controlling agent)."""

    def __init__(self, env: Env, tl: Timeline, sip_idx: int, media_idx: int,
                 media2_idx: int) -> None:
        super().__init__(env, tl, sip_idx, media_idx)
        self.listener2 = listen_tcp(("127.0.0.3", env.port(media2_idx)))
        self.relay_port2 = env.port(media2_idx)  # on 127.0.0.2
        self.edge_cred2, self.conf_cred2 = Credentials.random(), Credentials.random()
        self.conf_cands2 = sdp.tcp_candidate_pair("1", "TCP-PASS", "127.0.0.3",
                                                  env.port(media2_idx), "host")
        raddr = ("127.0.0.2", self.relay_port2)
        self.edge_cands2 = (sdp.tcp_candidate_pair("1", "TCP-ACT", *raddr, "relay", raddr=raddr)
                            + sdp.tcp_candidate_pair("2", "TCP-PASS", *raddr, "relay",
                                                     raddr=raddr))
        self.stopped: SipMessage | None = None
        self.offer2: sdp.Media | None = None
        self.edge_problems2: list[str] | None = None
        self.edge_ua.reinvite_handler = self._edge_reinvite

    def _conf_reinvite(self, dlg: Dialog, req: SipMessage) -> tuple[int, str | None]:
        if as_media(req.text_body).port == 0:
            self.stopped = req
            return 200, stopped_sdp("127.0.0.3", 50002, 3)
        return super()._conf_reinvite(dlg, req)

    def _edge_reinvite(self, dlg: Dialog, req: SipMessage) -> tuple[int, str | None]:
        """Session 2 at the Edge: the conference's offer (answered as viewer
        with the Edge relay's new candidates), then the completion re-INVITE
        sharewayd sends the controlled Edge (checked)."""
        media = as_media(req.text_body)
        if not media.remote_candidates:
            self.offer2 = media
            return 200, with_audio(sdp.build_appsharing_sdp(
                "127.0.0.2", self.relay_port2, self.edge_cred2.ufrag, self.edge_cred2.pwd,
                self.edge_cands2, role="viewer", version=4), "127.0.0.2", 50000)
        self.edge_problems2 = final_offer_problems(
            req.text_body, self.edge_cands2, {c.addr for c in gw_cands(self.offer2)})
        if self.edge_problems2:
            return 488, None
        return 200, with_audio(sdp.build_appsharing_sdp(
            "127.0.0.2", self.relay_port2, self.edge_cred2.ufrag, self.edge_cred2.pwd,
            self.edge_cands2[:2], role="viewer", version=5), "127.0.0.2", 50000)

    def stop(self) -> SipMessage:
        return self.edge_ua.reinvite(self.call.dialog, stopped_sdp("127.0.0.2", 50000, 3), 10)

    def conf_presents(self) -> SipMessage:
        return self.conf_ua.reinvite(self.inv.dialog, with_audio(sdp.build_appsharing_sdp(
            "127.0.0.3", self.conf_cands2[0].port, self.conf_cred2.ufrag, self.conf_cred2.pwd,
            self.conf_cands2, role="sharer", version=4), "127.0.0.3", 50002), 10)

    def media2(self, answer: sdp.Media, nbytes: int) -> list:
        relay = [c for c in gw_cands(self.offer2) if c.component == 1][0]
        edge = connect_tcp(relay.addr, ("127.0.0.2", self.relay_port2), 5.0, "Edge relay 2")
        self.conns.append(edge)
        conf = accept_conn(self.listener2, 10.0, "sharewayd's bridging connection", "CMS 2")
        self.conns.append(conf)
        return run_agents([
            IceAgent(conf, controlling=True, local=self.conf_cred2,
                     remote=Credentials(answer.ice_ufrag, answer.ice_pwd), name="CMS",
                     peer_name="Edge", timeline=self.tl),
            IceAgent(edge, controlling=False, local=self.edge_cred2,
                     remote=Credentials(self.offer2.ice_ufrag, self.offer2.ice_pwd),
                     name="Edge", peer_name="CMS", timeline=self.tl,
                     legacy_duplicate=True)], nbytes)

    def close(self) -> None:
        super().close()
        self.listener2.close()


def case_swap(env: Env, tl: Timeline) -> None:
    """Presenter swap in one dialog (what crashed pidgin-SIPE): each sharing
    session gets a fresh relay, the old one is released (its connections
    close), the roles flip; the call log keeps each session as a relay."""
    sw = Swap(env, tl, 24, 25, 23)
    try:
        check(sw.audio_call().status == 200, "audio call")
        check(sw.add_sharing().status == 200, "session 1: the Edge adds m=applicationsharing")
        relay1 = sw.relay_cands()[0]
        sw.media(64 * 1024)
        sw.conf_ua.wait_reinvite(sw.inv.dialog, 10, count=2)
        check(sw.final_problems == [] and sw.edge_final_offer().status == 200,
              f"session 1 through relay {relay1.ip}:{relay1.port}: checks, completion "
              "re-INVITE toward the conference, the Edge's own answered by sharewayd")
        tag = env.record(sw.call.request.call_id, "succeeded").get("tag")
        alloc1 = alloc_of(env, tag)

        resp = sw.stop()
        body = sdp.Sdp.parse(resp.text_body) if resp.status == 200 else None
        check(sw.stopped is not None and as_media(sw.stopped.text_body).port == 0 and
              not as_media(sw.stopped.text_body).candidates and body is not None and
              body.find_media().port == 0 and not body.find_media().candidates,
              "sharing stopped: port 0 both ways, no candidate inserted")
        check(closed_by_peer(sw.conns[0], 5) and closed_by_peer(sw.conns[1], 5),
              "session 1's relay connections closed")
        check(alloc_of(env, tag) == [], "session 1's relay released, the call goes on")

        resp = sw.conf_presents()
        check(resp.status == 200 and sw.offer2 is not None, "session 2: the conference "
              "presents, re-INVITE with new ICE credentials")
        relays2 = gw_cands(sw.offer2)
        check(sorted(c.component for c in relays2) == [1, 2] and
              relays2[0].addr != relay1.addr and
              sw.offer2.attr("x-applicationsharing-role") == "sharer" and
              sw.offer2.ice_ufrag == sw.conf_cred2.ufrag,
              f"the Edge gets a fresh relay {relays2[0].ip}:{relays2[0].port}, the "
              "conference as sharer")
        answer = as_media(resp.text_body)
        check(answer.attr("x-applicationsharing-role") == "viewer" and
              answer.ice_ufrag == sw.edge_cred2.ufrag, "the Edge answers as viewer")
        sw.media2(answer, 64 * 1024)
        req = sw.edge_ua.wait_reinvite(sw.call.dialog, 10, count=2)
        check(req is not None and sw.edge_problems2 == [],
              "session 2 checks, the conference controlling; completion re-INVITE toward "
              "the Edge naming the fresh relay")
        peer = sw.conns[3].peer
        rc = [(comp, peer[0], peer[1]) for comp in (1, 2)]
        resp = sw.conf_ua.reinvite(sw.inv.dialog, with_audio(sdp.build_appsharing_sdp(
            "127.0.0.3", sw.conf_cands2[0].port, sw.conf_cred2.ufrag, sw.conf_cred2.pwd,
            sw.conf_cands2, role="sharer", version=5, remote_candidates=rc),
            "127.0.0.3", 50002), 10)
        check(resp.status == 200 and len(sw.call.dialog.reinvites) == 2,
              "the conference's completion re-INVITE answered by sharewayd, not forwarded")
        alloc2 = alloc_of(env, tag)
        check(len(alloc2) == 1 and alloc2[0].get("id") != alloc1[0].get("id"),
              "one allocation, not session 1's")

        # session 3: the Edge presents again at once, new ICE credentials
        # without a port 0 in between (an ICE restart)
        sw.edge_cred = Credentials.random()
        resp = sw.add_sharing()
        relays3 = sw.relay_cands() if resp.status == 200 else []
        check(len(relays3) == 2 and relays3[0].addr not in (relay1.addr, relays2[0].addr),
              "session 3 (the Edge's new ICE credentials): a fresh relay in the answer")
        check(closed_by_peer(sw.conns[2], 5) and closed_by_peer(sw.conns[3], 5),
              "session 2's relay connections closed")
        check(sw.edge_ua.bye(sw.call.dialog, 5).status == 200, "BYE")
        rec = env.record(sw.call.request.call_id, '"completed"')
        rl = sorted(rec.get("relays") or [], key=lambda r: r.get("relay"))
        check([r.get("relay") for r in rl] == [1, 2, 3] and
              [r.get("relayed") for r in rl] ==
              [f"{c.ip}:{c.port}" for c in (relay1, relays2[0], relays3[0])] and
              "port 0" in (rl[0].get("close_reason") or "") and rl[0].get("released") and
              "ICE credentials" in (rl[1].get("close_reason") or ""),
              "call log: each session is a relay, released when sharing stopped or the "
              "next presenter restarted ICE")
        check((rec.get("verdict") or "").startswith("Application sharing worked"),
              f"verdict: {rec.get('verdict')}")
        ladder = env.shareway("ladder", sw.call.request.call_id)
        check("application sharing stopped" in ladder and
              "application sharing started" in ladder, "ladder: sharing stopped and started")
        print(ladder)
    finally:
        sw.close()


def requests_sent(ua: SipUA) -> list[tuple[str, tuple[str, int]]]:
    """(method, where to) of every request ua sent, retransmissions aside"""
    with ua.cond:
        return [(r.msg.method, r.addr) for r in ua.records
                if r.direction == "out" and r.msg.is_request and not r.retransmission]


def case_tls(env: Env, tl: Timeline) -> None:
    """TLS end to end as SfB deployments run it: the Edge over SIP mutual
    TLS (zone edgetls; 5061 in production), observe mode with the
    conference's TURN client over TLS (443 or 5349). The gateway's Contact
    names it sbc.gw.test, the name its certificate carries; the Edge, as
    Lync, sends its in-dialog requests (ACK, its completion re-INVITE, BYE)
    only to that name, and reaches it without DNS on the connection it
    opened (RFC 5923: the harness never resolves a name). The Edge's own
    Contact is its name too: the gateway's BYE reaches it on that connection,
    no name resolved (the namespace's resolver fails the test on a query)."""
    conf = ConfSide(mode="observe", sip_port=env.port(9), turn_server=env.turn_tls,
                    turn_user="cms", turn_password="cmssecret", timeline=tl,
                    turn_tls=env.turn_client_tls())
    edge = EdgeSide(relay_port=env.port(33), timeline=tl, transport="tls",
                    tls=env.identity("edge.test"), contact_host="edge.test")
    try:
        task = in_thread(conf.answer_call, 10)
        final = edge.call(f"sip:observe-{env.port(9)}@example.com", dest=env.gw_tls)
        task.result(10)
        check(final.status == 200, "INVITE over mutual TLS answered 200")
        check(uri_of(final.header("Contact") or "") == env.gw_contact,
              f"the gateway's Contact toward the Edge: {final.header('Contact')}")
        media(edge, conf, KB256)
        check(conf.turn.ctrl is not None and isinstance(conf.turn.ctrl.sock, ssl.SSLSocket),
              "the conference's TURN allocation, ConnectionBind and data over TLS: checks "
              "both ways, 256 KB each way intact")
        req = conf.ua.wait_reinvite(conf.invite.dialog, 10)
        check(req is not None and conf.final_offer_problems == [],
              "completion re-INVITE toward the conference")
        time.sleep(2.5)     # the connection idle past [sip] tcp_message_timeout
        check(edge.final_reinvite(5).status == 200,
              "the Edge's own completion re-INVITE, sent to sbc.gw.test after 2.5 s without "
              "a message (tcp_message_timeout 2 s), answered")
        check(conf.ua.bye(conf.invite.dialog, 5).status == 200 and
              edge.ua.wait_request("BYE", 5) is not None,
              "the conference hangs up: the gateway's BYE reached the Edge, whose Contact "
              "is edge.test")
        sent = requests_sent(edge.ua)
        fqdn = ("sbc.gw.test", env.gw_tls[1])
        check([m for m, _ in sent] == ["INVITE", "ACK", "INVITE", "ACK"] and
              all(dest == fqdn for _, dest in sent[1:]),
              f"every in-dialog request of the Edge went to sbc.gw.test:{env.gw_tls[1]}: "
              f"{sent}")
        conns = edge.ua.stream_peers()
        check(conns == [(env.gw_tls, True, {"sbc.gw.test"})],
              "both ways on the one connection the Edge opened, whose certificate names "
              f"sbc.gw.test: {conns}")
        rec = env.record(cid(edge), '"completed"')
        legs = {leg.get("leg"): leg for leg in rec.get("legs") or []}
        ice = rec.get("ice") or {}
        check(legs["e"].get("transport") == "tls" and legs["e"].get("zone") == "edgetls" and
              all((ice.get(d) or {}).get("state") == "succeeded" for d in ("e_to_c", "c_to_e")),
              "call log: the Edge leg over TLS in zone edgetls, ICE observed both ways on the "
              "conference's TLS allocation")
        turn = {(m[2], m[3]) for m in exported_stun(env, cid(edge)) if m[2] != "Binding"}
        check({("Allocate", "Success"), ("ConnectionBind", "Request")} <= turn,
              "export: the conference's TURN exchange over TLS, as the cleartext on its "
              "connection")
    finally:
        edge.close()
        conf.close()


def case_tlsconfoffer(env: Env, tl: Timeline) -> None:
    """The conference calls a Skype user over TLS: the gateway opens the
    mutual-TLS connection to the Edge, presenting sbc.gw.test; its INVITE's
    Contact names that; its completion re-INVITE reaches the Edge, whose
    Contact is edge.test, on that connection, no name resolved; the Edge's
    own in-dialog request (its BYE) goes to sbc.gw.test on the connection
    the gateway opened (RFC 5923)."""
    co = ConfOffer(env, tl, 14, 15, edge_tls=env.identity("edge.test"))
    try:
        final = co.place()
        check(final.status == 200, "the conference's INVITE answered 200 by the Edge over TLS")
        check(uri_of(co.inv.request.header("Contact") or "") == env.gw_contact,
              f"the INVITE's Contact: {co.inv.request.header('Contact')}")
        conns = co.edge_ua.stream_peers()
        check(len(conns) == 1 and not conns[0][1] and conns[0][2] == {"sbc.gw.test"},
              f"the gateway connected to the Edge with its sbc.gw.test certificate: {conns}")
        co.media(KB256)
        req = co.edge_ua.wait_reinvite(co.inv.dialog, 10)
        check(req is not None and co.final_problems == [],
              "checks, 256 KB each way; completion re-INVITE toward the Edge over TLS")
        check(co.edge_ua.bye(co.inv.dialog, 5).status == 200,
              "the Edge's BYE, sent to sbc.gw.test, answered")
        check(co.conf_ua.wait_request("BYE", 5) is not None, "BYE reached the conference")
        sent = requests_sent(co.edge_ua)
        check(sent == [("BYE", ("sbc.gw.test", env.gw_tls[1]))] and
              co.edge_ua.stream_peers() == conns,
              f"on the connection the gateway opened, no other: {sent}")
    finally:
        co.close()


CASES = {"relay": case_relay, "glare": case_glare, "byemute": case_byemute,
         "oneway": case_oneway, "badufrag": case_badufrag,
         "reject": case_reject, "nopolicy": case_nopolicy,
         "permitlate": case_permitlate, "permitlost": case_permitlost,
         "evlost": case_evlost,
         "byeearly": case_byeearly, "midclose": case_midclose, "parallel": case_parallel,
         "observe": case_observe, "confoffer": case_confoffer,
         "earlyconnect": case_earlyconnect, "inside": case_inside, "strip": case_strip,
         "insideconf": case_insideconf,
         "addmline": case_addmline, "hold": case_hold,
         "swap": case_swap, "tls": case_tls, "tlsconfoffer": case_tlsconfoffer}


NEEDS_TEST_AID = ("permitlate", "permitlost", "evlost")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sip", type=int, required=True)
    ap.add_argument("--turn", type=int, required=True)
    ap.add_argument("--sip-tls", type=int, required=True)
    ap.add_argument("--turn-tls", type=int, required=True)
    ap.add_argument("--pki", required=True, help="the certificates' folder")
    ap.add_argument("--port-base", type=int, required=True)
    ap.add_argument("--shareway", required=True)
    ap.add_argument("--conf", required=True)
    ap.add_argument("--state", required=True)
    ap.add_argument("cases", nargs="*")
    a = ap.parse_args()
    # the cases for a daemon with a test aid run only when named
    # (tests/integration/62-appshare-cmdq.sh)
    a.cases = a.cases or [c for c in CASES if c not in NEEDS_TEST_AID]
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
