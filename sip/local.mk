# sip/: the Sofia-SIP adapter: the only place that includes <sofia-sip/*.h>.
noinst_LIBRARIES += sip/libsipua.a
sip_libsipua_a_SOURCES = sip/sipua.h sip/sipua_int.h \
	sip/sipua.c sip/sipua_cap.c sip/sipua_caplog.h sip/sipua_caplog.c \
	sip/sipua_log.c sip/sipua_conn.c \
	sip/sipua_call.c sip/sipua_dlg.c sip/sipua_hdr.c sip/sipua_hop.c sip/sipua_names.c sip/sipua_peers.c sip/sipua_route.c
sip_libsipua_a_CPPFLAGS = $(SW_CPPFLAGS) $(SW_INC_ROWS_1)
sip_libsipua_a_CFLAGS = $(AM_CFLAGS) $(SOFIA_CFLAGS)
