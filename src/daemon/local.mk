# src/daemon/: sharewayd: main (signals, reload, the control socket's
# commands) and the SIP-thread glue (sw_gw: the B2BUA's observer feeds
# the call log, relay events and a 1 s tick are pumped into the
# coordinator), sw_sdnotify (the unit's Type=notify, libsystemd). Built
# as src/sharewayd, where the tests, `make run` and the operator's habits
# find it.
sbin_PROGRAMS += src/sharewayd
src_sharewayd_SOURCES = src/daemon/sharewayd.c src/daemon/sw_gw.c \
	src/daemon/sw_gw.h src/daemon/sw_drain.c src/daemon/sw_drain.h \
	src/daemon/sw_gwcluster.c src/daemon/sw_gwcluster.h \
	src/daemon/sw_sdnotify.c src/daemon/sw_sdnotify.h \
	src/daemon/sw_gw_metrics.c
src_sharewayd_CPPFLAGS = $(SW_CPPFLAGS) $(SW_INC_ROWS_4) $(SYSTEMD_CFLAGS)
src_sharewayd_LDADD = $(SW_ALL_LIBS) $(SW_EXT_LIBS) $(SYSTEMD_LIBS)
