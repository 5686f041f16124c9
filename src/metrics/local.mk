# src/metrics/: the /metrics listener (libmicrohttpd, its own thread) and
# the Prometheus text format writer with its histograms. It sees base/
# only: what the page says is the daemon's collect callback's business
# (src/daemon/sw_gw_metrics.c), which reads every module's counters.
noinst_LIBRARIES += src/metrics/libswmetrics.a
src_metrics_libswmetrics_a_SOURCES = \
	src/metrics/sw_prom.c src/metrics/sw_prom.h \
	src/metrics/sw_metrics.c src/metrics/sw_metrics.h
src_metrics_libswmetrics_a_CPPFLAGS = $(SW_CPPFLAGS) $(SW_INC_ROWS_1) \
	$(MHD_CFLAGS)
