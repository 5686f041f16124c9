"""Offline checks of the harness codecs: RFC 5769 vectors, the MS-ICE2 frame
layout of Cisco doc 212580, RFC 4571 framing, SDP and SIP parsing.

Run: ``PYTHONPATH=tests python3 -m unittest -v harness.selftest.test_codec``
(``SW_SHARED`` points at the shared folder for the SDP corpus).
"""

from __future__ import annotations

import os
import unittest
import zlib
from pathlib import Path

from harness import iceagent, sdp, sipua, stun
from harness.stun import Attr, Cls, Method, StunMessage

# RFC 5769 §2.1 sample request (short-term, SOFTWARE, padding with spaces)
RFC5769_REQUEST = bytes.fromhex(
    "000100582112a442b7e7a701bc34d686fa87dfae"
    "80220010" "5354554e" "20746573" "7420636c" "69656e74"
    "00240004" "6e0001ff"
    "80290008" "932ff9b1" "51263b36"
    "00060009" "6576746a" "3a683676" "59202020"
    "00080014" "9aeaa70c" "bfd8cb56" "781ef2b5" "b2d3f249" "c1b571a2"
    "80280004" "e57a3bcf")
RFC5769_PWD = b"VOkJxbRl1RmTxUk/WvJxBt"
# RFC 5769 §2.2 sample IPv4 response
RFC5769_RESPONSE = bytes.fromhex(
    "0101003c2112a442b7e7a701bc34d686fa87dfae"
    "8022000b" "74657374" "20766563" "746f7220"
    "00200008" "0001a147" "e112a643"
    "00080014" "2b91f599" "fd9e90c3" "8c7489f9" "2af9ba53" "f06be7d7"
    "80280004" "c07d4c96")
# RFC 5769 §2.4 long-term authentication request
RFC5769_LT_REQUEST = bytes.fromhex(
    "000100602112a442" "78ad3433c6ad72c029da412e"
    "00060012" "e3839ee3" "8388e383" "aae38383" "e382afe3" "82b90000"
    "0015001c" "662f2f34" "39396b39" "35346436" "4f4c3334" "6f4c3946" "53547679" "36347341"
    "0014000b" "6578616d" "706c652e" "6f726700"
    "00080014" "f6702465" "6dd64a3e" "02b8e071" "2e85c9a2" "8ca89666")


class Rfc5769(unittest.TestCase):
    def test_sample_request(self) -> None:
        msg = StunMessage.decode(RFC5769_REQUEST)
        self.assertTrue(msg.is_(Method.BINDING, Cls.REQUEST))
        self.assertEqual(msg.text(Attr.USERNAME), "evtj:h6vY")
        self.assertEqual(msg.u32(Attr.PRIORITY), 0x6E0001FF)
        self.assertEqual(msg.check_integrity(RFC5769_PWD), stun.MI_RFC5389)
        self.assertIsNone(msg.check_integrity(b"wrong"))
        self.assertEqual(msg.check_fingerprint(), stun.FP_RFC5389)

    def test_sample_response(self) -> None:
        msg = StunMessage.decode(RFC5769_RESPONSE)
        self.assertTrue(msg.is_(Method.BINDING, Cls.SUCCESS))
        self.assertEqual(msg.address(Attr.XOR_MAPPED_ADDRESS), ("192.0.2.1", 32853))
        self.assertEqual(msg.check_integrity(RFC5769_PWD), stun.MI_RFC5389)
        self.assertEqual(msg.check_fingerprint(), stun.FP_RFC5389)

    def test_long_term_request_reencodes(self) -> None:
        msg = StunMessage.decode(RFC5769_LT_REQUEST)
        user = "\u30de\u30c8\u30ea\u30c3\u30af\u30b9"
        key = stun.long_term_key(user, "example.org", "TheMatrIX")
        self.assertEqual(msg.check_integrity(key), stun.MI_RFC5389)
        again = StunMessage(Method.BINDING, Cls.REQUEST, msg.tid)
        again.add_text(Attr.USERNAME, user)
        again.add_text(Attr.NONCE, "f//499k954d6OL34oL9FSTvy64sA")
        again.add_text(Attr.REALM, "example.org")
        self.assertEqual(again.encode(key), RFC5769_LT_REQUEST)


class Codec(unittest.TestCase):
    def test_message_types(self) -> None:
        self.assertEqual(stun.message_type(Method.CONNECTION_ATTEMPT, Cls.INDICATION), 0x001C)
        self.assertEqual(stun.message_type(Method.CONNECTION_BIND, Cls.SUCCESS), 0x010B)
        self.assertEqual(stun.message_type(Method.ALLOCATE, Cls.ERROR), 0x0113)
        self.assertEqual(stun.message_type(Method.BINDING, Cls.SUCCESS), 0x0101)
        for t in (0x0001, 0x0101, 0x0113, 0x001C, 0x010A, 0x0118):
            self.assertEqual(stun.message_type(*stun.split_type(t)), t)

    def test_crc_tables(self) -> None:
        std = stun._crc_table()
        self.assertEqual(sum(a != b for a, b in zip(std, stun._MS_LEGACY_TABLE)), 1)
        data = bytes(range(256)) * 2
        self.assertNotEqual(stun.crc32_ms_legacy(data), zlib.crc32(data))

    def test_rejects_garbage(self) -> None:
        for bad in (b"", b"\x00" * 19, RFC5769_REQUEST[:-4],
                    b"\x80" + RFC5769_REQUEST[1:],
                    RFC5769_REQUEST[:2] + b"\x00\x5c" + RFC5769_REQUEST[4:]):
            with self.assertRaises(stun.StunError):
                StunMessage.decode(bad)

    def test_xor_address_v6_and_connection_id(self) -> None:
        msg = StunMessage(Method.CONNECTION_ATTEMPT, Cls.INDICATION)
        msg.add_u32(Attr.CONNECTION_ID, 0xDEADBEEF)
        msg.add_address(Attr.XOR_PEER_ADDRESS, ("2001:db8::5", 4242))
        back = StunMessage.decode(msg.encode())
        self.assertEqual(back.u32(Attr.CONNECTION_ID), 0xDEADBEEF)
        self.assertEqual(back.address(Attr.XOR_PEER_ADDRESS), ("2001:db8::5", 4242))
        self.assertEqual(back.summary(), "ConnectionAttempt indication")

    def test_frame_reader_split(self) -> None:
        stream = stun.frame(b"abc") + stun.frame(b"") + stun.frame(b"x" * 300)
        rd = stun.FrameReader()
        got = []
        for i in range(len(stream)):
            got += rd.feed(stream[i:i + 1])
        self.assertEqual(got, [b"abc", b"", b"x" * 300])
        self.assertEqual(stun.unframe_all(stream), got)


class MsIce2Layout(unittest.TestCase):
    """The Cisco/libnice frame (Cisco doc 212580), rebuilt byte by byte."""

    TID = bytes.fromhex("53a3392e86a7666a5d9c7b3e")
    PREFIX = bytes.fromhex(
        "006c" "000100582112a442" "53a3392e86a7666a5d9c7b3e"
        "00250000" "00240004" "6e6403ff"
        "802a0008" "e23e43f20e158973"
        "0006000c" "45426f4b3a657779" "68000000"
        "80540004" "32000000"
        "80700004" "00000002"
        "00080014")

    def request(self, nominate: bool, style: str = stun.MI_RFC5389) -> StunMessage:
        return iceagent.build_check_request(
            local_ufrag="ewyh", remote_ufrag="EBoK", remote_pwd="remotepwd0123456789abcd",
            priority=0x6E6403FF, controlling=True, tiebreaker=0xE23E43F20E158973,
            foundation="2", use_candidate=nominate, mi_style=style, tid=self.TID)

    def test_nominating_request_bytes(self) -> None:
        for style in (stun.MI_RFC5389, stun.MI_MSICE2):
            framed = stun.frame(self.request(True, style).raw)
            self.assertEqual(len(framed), 2 + 0x6C)
            self.assertEqual(framed[:len(self.PREFIX)], self.PREFIX)
            msg = StunMessage.decode(framed[2:])
            self.assertEqual(msg.check_integrity(b"remotepwd0123456789abcd"), style)
            self.assertEqual(msg.check_fingerprint(), stun.FP_RFC5389)
            self.assertEqual(msg.text(Attr.USERNAME), "EBoK:ewyh")
            self.assertEqual(len(msg.get(Attr.USERNAME)), 12)

    def test_plain_request_and_response_sizes(self) -> None:
        req = self.request(False)
        self.assertEqual(len(stun.frame(req.raw)), 2 + 0x68)
        resp = iceagent.build_check_response(req, mapped=("127.0.0.1", 40000),
                                             local_pwd="localpwd")
        self.assertEqual(resp.raw[:4], bytes.fromhex("01010044"))
        self.assertEqual(len(stun.frame(resp.raw)), 2 + 0x58)
        self.assertEqual(resp.get(Attr.USERNAME), req.get(Attr.USERNAME))

    def test_legacy_copy_same_tid(self) -> None:
        legacy = iceagent.build_check_request(
            local_ufrag="ewyh", remote_ufrag="EBoK", remote_pwd="p" * 22,
            priority=1, controlling=False, tiebreaker=1, tid=self.TID, legacy_fp=True)
        msg = StunMessage.decode(legacy.raw)
        self.assertEqual(msg.tid, self.TID)
        self.assertIn(msg.check_fingerprint(), (stun.FP_MS_LEGACY, stun.FP_RFC5389))


class SdpParsing(unittest.TestCase):
    def corpus(self) -> Path:
        return Path(os.environ.get("SW_SHARED", "/work/shared")) / "corpus" / "sdp"

    def test_ms_candidate_forms(self) -> None:
        c = sdp.Candidate.parse("a=candidate:6 1 TCP-PASS 174326015 100.100.100.148 "
                                "63241 typ relay raddr 1.2.3.184 rport 50029")
        self.assertEqual((c.ms_transport, c.typ, c.raddr, c.rport),
                         ("TCP-PASS", "relay", "1.2.3.184", 50029))
        self.assertEqual(c.line(), "a=candidate:6 1 TCP-PASS 174326015 100.100.100.148 "
                                   "63241 typ relay raddr 1.2.3.184 rport 50029")
        r = sdp.Candidate.parse("candidate:1 1 TCP 2105524479 10.0.0.1 9 typ host tcptype active")
        self.assertEqual(r.ms_transport, "TCP-ACT")
        with self.assertRaises(sdp.SdpError):
            sdp.Candidate.parse("a=candidate:oKpw 1 XJol UDP 0.830 192.168.0.179 19384")

    def test_priorities(self) -> None:
        self.assertEqual(sdp.ms_priority(0, "TCP-PASS", 1), 0x006400FF)
        self.assertEqual(sdp.ms_priority(0, "TCP-PASS", 2), 0x006400FE)
        self.assertEqual(sdp.ms_priority(110, "TCP-ACT", 1, other=3), 0x6E6A03FF)
        self.assertEqual(sdp.ms_priority(126, "UDP", 1, other=0x1FF), 0x7EFFFFFF)

    def test_build_and_parse(self) -> None:
        cands = sdp.tcp_candidate_pair("1", "TCP-PASS", "127.0.0.3", 5000)
        text = sdp.build_appsharing_sdp("127.0.0.3", 5000, "abcd", "p" * 24, cands,
                                        role="viewer",
                                        remote_candidates=[(2, "1.1.1.1", 2), (1, "1.1.1.1", 2)])
        m = sdp.Sdp.parse(text).find_media()
        self.assertEqual((m.port, m.proto, m.fmts), (5000, "TCP/RTP/AVP", ["127"]))
        self.assertEqual((m.ice_ufrag, m.attr("x-applicationsharing-role")), ("abcd", "viewer"))
        self.assertEqual([c.component for c in m.find_candidates("TCP-PASS")], [1, 2])
        self.assertEqual(m.remote_candidates, [(1, "1.1.1.1", 2), (2, "1.1.1.1", 2)])

    def test_corpus_offers(self) -> None:
        for name in ("sipe-issue76-appshare-offer-rejected-24000.sdp",
                     "sipe-issue83-appshare-offer-to-asmcu-pt96-rejected-24012.sdp"):
            path = self.corpus() / name
            if not path.exists():
                self.skipTest(f"{path} missing")
            text = path.read_text(errors="replace")
            start = text.find("v=0")
            m = sdp.Sdp.parse(text[start:]).find_media()
            self.assertTrue(m.candidates, name)
            self.assertEqual(m.proto.split("/")[0], "TCP")

    def test_multipart(self) -> None:
        ctype, body = sdp.multipart_alternative([
            ("v=0\r\ns=legacy\r\n", "session; handling=optional; ms-proxy-2007fallback"),
            ("v=0\r\ns=ice19\r\n", "session; handling=optional")])
        self.assertEqual(sdp.extract_sdp(ctype, body), "v=0\r\ns=ice19\r\n")
        self.assertEqual(sdp.extract_sdp("application/sdp", "v=0\r\n"), "v=0\r\n")


class SipParsing(unittest.TestCase):
    def test_compact_and_folded_headers(self) -> None:
        raw = (b"INVITE sip:conf@127.0.0.1 SIP/2.0\r\n"
               b"v: SIP/2.0/UDP 127.0.0.2:5060;branch=z9hG4bKa\r\n"
               b"Via: SIP/2.0/UDP 127.0.0.9:5060;branch=z9hG4bKb\r\n"
               b"f: <sip:a@x>;tag=1\r\nt: <sip:b@y>\r\ni: abc\r\n"
               b"CSeq: 7\r\n INVITE\r\nm: <sip:a@127.0.0.2>\r\nc: application/sdp\r\n"
               b"l: 4\r\n\r\nv=0\r\n")
        msg, rest = sipua.SipMessage.parse(raw)
        self.assertEqual(rest, b"\n")
        self.assertEqual(msg.method, "INVITE")
        self.assertEqual(len(msg.headers("via")), 2)
        self.assertEqual(msg.header("Call-ID"), "abc")
        self.assertEqual(msg.cseq, (7, "INVITE"))
        self.assertEqual(msg.body, b"v=0\r")
        self.assertEqual(sipua.param(msg.header("from"), "tag"), "1")

    def test_route_set(self) -> None:
        ua = sipua.SipUA("127.0.0.1", 0, name="t")      # not started: no thread
        try:
            dlg = sipua.Dialog("cid", "lt", "rt", "<sip:a@x>", "<sip:b@y>",
                               "sip:b@127.0.0.9:5077", ["<sip:p1@127.0.0.5:5099;lr>",
                                                        "<sip:p2@127.0.0.6;lr>"],
                               1, 0, True, "udp")
            req, dest = ua.dialog_request(dlg, "BYE")
            self.assertEqual((req.uri, dest), ("sip:b@127.0.0.9:5077", ("127.0.0.5", 5099)))
            self.assertEqual(req.headers("Route"), dlg.route_set)
            self.assertEqual(req.cseq, (2, "BYE"))
            self.assertEqual(sipua.param(req.require("To"), "tag"), "rt")
            dlg.route_set = ["<sip:strict@127.0.0.7:5088>"]
            req, dest = ua.dialog_request(dlg, "INFO")
            self.assertEqual((req.uri, dest), ("sip:strict@127.0.0.7:5088", ("127.0.0.7", 5088)))
            self.assertEqual(req.headers("Route"), ["<sip:b@127.0.0.9:5077>"])
            inv, _ = sipua.SipMessage.parse(
                b"INVITE sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.5;branch=z9hG4bKq\r\n"
                b"Record-Route: <sip:p1@127.0.0.5;lr>, <sip:p2@127.0.0.6;lr>\r\n"
                b"From: <sip:a@x>;tag=f\r\nTo: <sip:x@y>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n\r\n")
            resp = ua._response(inv, 200, None, "tt")
            self.assertEqual(resp.headers("Record-Route"), inv.headers("Record-Route"))
            self.assertEqual(sipua.param(resp.require("To"), "tag"), "tt")
        finally:
            ua.stop()

    def test_response_and_incomplete(self) -> None:
        msg, _ = sipua.SipMessage.parse(
            b"SIP/2.0 488 Not Acceptable Here\r\nContent-Length: 0\r\n\r\n")
        self.assertEqual((msg.status, msg.reason), (488, "Not Acceptable Here"))
        with self.assertRaises(sipua.SipIncomplete):
            sipua.SipMessage.parse(b"SIP/2.0 200 OK\r\nContent-Length: 10\r\n\r\nabc")
        with self.assertRaises(sipua.SipError):
            sipua.SipMessage.parse(b"HELLO\r\n\r\n")


if __name__ == "__main__":
    unittest.main()
