# turn/: pure STUN/TURN codec (libturncodec) and the TURN server (libturnsrv).
noinst_LIBRARIES += turn/libturncodec.a turn/libturnsrv.a
turn_libturncodec_a_SOURCES = turn/turn_msg.h turn/turn_msg.c \
	turn/turn_names.c turn/turn_frame.c
turn_libturncodec_a_CPPFLAGS = $(SW_CPPFLAGS) $(SW_INC_ROWS_1)
turn_libturncodec_a_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS)
turn_libturnsrv_a_SOURCES = turn/turn_auth.c turn/turn_auth.h \
	turn/turn_srv.c turn/turn_srv_int.h turn/turn_alloc.c turn/turn_alloc.h \
	turn/relay.h turn/relay_int.h turn/relay_loop.c turn/relay_ctrl.c \
	turn/relay_peer.c turn/relay_pump.c turn/relay_inside.c
turn_libturnsrv_a_CPPFLAGS = $(SW_CPPFLAGS) $(SW_INC_ROWS_1)
turn_libturnsrv_a_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS)
