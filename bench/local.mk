# bench/: `make bench` runs every benchmark side by side with its reference.
bench: all
	@$(abs_top_srcdir)/bench/run-all.sh $(abs_top_builddir)

.PHONY: bench

# turnbench: the RFC 6062 client of the TURN benchmarks (not installed)
noinst_PROGRAMS += bench/turnbench
bench_turnbench_SOURCES = bench/turnbench.c bench/turnbench.h \
	bench/tb_net.c bench/tb_turn.c bench/tb_flow.c bench/tb_load.c
bench_turnbench_CFLAGS = $(AM_CFLAGS)
bench_turnbench_LDADD = turn/libturncodec.a base/libswbase.a $(JANSSON_LIBS) \
	$(OPENSSL_LIBS) -lpthread -lm

# asbench: both neighbours of an app-sharing call (bench/appshare.sh)
noinst_PROGRAMS += bench/asbench
bench_asbench_SOURCES = bench/asbench.c bench/asbench.h bench/as_loop.c \
	bench/as_sip.c bench/as_sdp.c bench/as_ice.c bench/as_edge.c \
	bench/as_conf.c bench/as_data.c bench/tb_net.c
bench_asbench_CFLAGS = $(AM_CFLAGS)
bench_asbench_LDADD = sdp/libsdpr.a turn/libturncodec.a base/libswbase.a \
	$(JANSSON_LIBS) \
	$(OPENSSL_LIBS) -lm

EXTRA_DIST += bench/run-all.sh bench/lib.sh bench/summary.sh \
	bench/turn.sh bench/turn-report.sh bench/calllog.sh bench/appshare.sh \
	bench/cluster.sh \
	bench/sip/run.sh bench/sip/report.sh bench/sip/bench_uac.xml \
	bench/sip/bench_uas.xml bench/sip/kamailio-bench.cfg.in \
	bench/conf/shareway-bench.conf bench/conf/rules-bench.conf \
	bench/conf/appshare-bench.conf.in bench/conf/rules-appshare.conf
