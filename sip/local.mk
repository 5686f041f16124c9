# sip/: the Sofia-SIP adapter: the only place that includes <sofia-sip/*.h>.
noinst_LIBRARIES += sip/libsipua.a
sip_libsipua_a_SOURCES =
sip_libsipua_a_CFLAGS = $(AM_CFLAGS) $(SOFIA_CFLAGS)
