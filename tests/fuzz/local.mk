# tests/fuzz/: libFuzzer targets (./configure CC=clang --enable-fuzzing).
if FUZZING
FUZZ_LDFLAGS = -fsanitize=fuzzer,address,undefined

# STUN decode -> integrity -> re-encode -> decode; TURN and RFC 4571
# framers fed in random chunks against the one-shot length functions;
# the stun-decode CLI on one frame or a pcap. Corpus: tests/data/stun/
noinst_PROGRAMS += tests/fuzz/fuzz_stun tests/fuzz/fuzz_frame_turn \
	tests/fuzz/fuzz_frame_4571 tests/fuzz/fuzz_stun_decode
tests_fuzz_fuzz_stun_SOURCES = tests/fuzz/fuzz_stun.c
tests_fuzz_fuzz_stun_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_stun_LDADD = turn/libturncodec.a $(OPENSSL_LIBS)
tests_fuzz_fuzz_frame_turn_SOURCES = tests/fuzz/fuzz_frame_turn.c \
	tests/fuzz/frame_check.h
tests_fuzz_fuzz_frame_turn_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_frame_turn_LDADD = turn/libturncodec.a $(OPENSSL_LIBS)
tests_fuzz_fuzz_frame_4571_SOURCES = tests/fuzz/fuzz_frame_4571.c \
	tests/fuzz/frame_check.h
tests_fuzz_fuzz_frame_4571_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_frame_4571_LDADD = turn/libturncodec.a $(OPENSSL_LIBS)
tests_fuzz_fuzz_stun_decode_SOURCES = tests/fuzz/fuzz_stun_decode.c \
	src/cli/cli_stun.h src/cli/cli_stun_net.c src/cli/cli_stun_show.c
tests_fuzz_fuzz_stun_decode_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_stun_decode_LDADD = turn/libturncodec.a base/libswbase.a \
	$(JANSSON_LIBS) \
	$(PCAP_LIBS) $(OPENSSL_LIBS)

# sdpr: parse -> print identity, candidate print/parse, edit -> print ->
# parse, multipart reduction. Corpus: $SW_SHARED/corpus/sdp, tests/data/sdp
noinst_PROGRAMS += tests/fuzz/fuzz_sdp
tests_fuzz_fuzz_sdp_SOURCES = tests/fuzz/fuzz_sdp.c
tests_fuzz_fuzz_sdp_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_sdp_LDADD = sdp/libsdpr.a

# dial plan: request values against tests/data/rules/fuzz.rules (regex
# captures into every rewrite), or a whole rule file (byte 0 >= 0x80).
# Corpus: tests/data/rules/fuzz-seeds
noinst_PROGRAMS += tests/fuzz/fuzz_rules
tests_fuzz_fuzz_rules_SOURCES = tests/fuzz/fuzz_rules.c
tests_fuzz_fuzz_rules_CPPFLAGS = $(AM_CPPFLAGS) \
	-DFUZZ_RULES='"$(abs_top_srcdir)/tests/data/rules/fuzz.rules"'
tests_fuzz_fuzz_rules_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_rules_LDADD = src/dialplan/libswdialplan.a base/libswbase.a \
	$(JANSSON_LIBS) \
	$(PCRE2_LIBS) -lpthread

# SIP: raw messages through Sofia's parser, the header copy, multipart
# reduction and the dial plan (sipua_msg_route).
# Corpus: $SW_SHARED/corpus/sip-torture
noinst_PROGRAMS += tests/fuzz/fuzz_sip
tests_fuzz_fuzz_sip_SOURCES = tests/fuzz/fuzz_sip.c
tests_fuzz_fuzz_sip_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_sip_LDADD = src/dialplan/libswdialplan.a sip/libsipua.a \
	sdp/libsdpr.a base/libswbase.a \
	$(JANSSON_LIBS) $(SOFIA_LIBS) $(PCRE2_LIBS) \
	$(OPENSSL_LIBS) $(CARES_LIBS) -lpthread

# SIP capture: Sofia's transport log (pieces separated by 0x01) back
# into messages, and their Call-ID. Corpus: tests/data/sipcap
noinst_PROGRAMS += tests/fuzz/fuzz_sipcap
tests_fuzz_fuzz_sipcap_SOURCES = tests/fuzz/fuzz_sipcap.c
tests_fuzz_fuzz_sipcap_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_sipcap_LDADD = sip/libsipua.a base/libswbase.a $(JANSSON_LIBS)

# call log: JSON reader (control socket) and writer round trip, ladder
# labels of recorded SIP/STUN bytes, the SDP candidate check and the SDP
# lines the writer keeps for a verdict (judged alike to the whole SDP).
# Corpus: tests/data/stun, $SW_SHARED/corpus/sdp, tests/data/cli
noinst_PROGRAMS += tests/fuzz/fuzz_calllog
tests_fuzz_fuzz_calllog_SOURCES = tests/fuzz/fuzz_calllog.c
tests_fuzz_fuzz_calllog_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_calllog_LDADD = src/calllog/libswcalllog.a base/libswbase.a \
	$(JANSSON_LIBS) \
	$(SQLITE_LIBS) -lpthread
endif
