# tests/: the CUnit binary (one suite per module), integration scripts that
# run the real daemon against real peers, and libFuzzer targets.
check_PROGRAMS += tests/unit
tests_unit_SOURCES = tests/unit_main.c tests/unit.h \
	tests/test_conf.c tests/test_turn_msg.c tests/test_turn_alloc.c \
	tests/test_stun_decode.c src/cli/cli_stun_net.c src/cli/cli_stun_show.c \
	tests/test_relay.c \
	tests/test_sdp.c tests/test_rules.c \
	tests/test_calllog.c tests/calllog_fixture.c tests/calllog_fixture.h \
	tests/test_sip.c tests/test_sipcap.c tests/test_resolve.c \
	tests/test_appshare.c \
	tests/test_observe.c
tests_unit_CFLAGS = $(AM_CFLAGS) $(CUNIT_CFLAGS) $(OPENSSL_CFLAGS) $(RE_CFLAGS)
tests_unit_LDADD = $(SW_ALL_LIBS) $(CUNIT_LIBS) $(SW_EXT_LIBS)

EXTRA_DIST += tests/run-tests.sh tests/lib.sh tests/lib_cluster.sh \
	tests/netns-run.sh tests/dns_sink.py tests/notify_recv.py \
	tests/deb-package.sh
# the app-sharing harness (Python) used by integration/5x-harness-*.sh
EXTRA_DIST += tests/harness

# the call-log fixture as a file, for the CLI snapshot and export tests
check_PROGRAMS += tests/calllog-fixture
tests_calllog_fixture_SOURCES = tests/calllog_fixture_main.c \
	tests/calllog_fixture.c tests/calllog_fixture.h
tests_calllog_fixture_LDADD = $(SW_ALL_LIBS) $(SW_EXT_LIBS)

# `make check` = unit suites + every tests/integration/*.sh, with one
# closing "N passed, N failed" line; non-zero on any failure.
check-local: all $(check_PROGRAMS)
	@$(abs_top_srcdir)/tests/run-tests.sh $(abs_top_builddir)

include tests/fuzz/local.mk
