# turn/: pure STUN/TURN codec (libturncodec) and the TURN server (libturnsrv).
noinst_LIBRARIES += turn/libturncodec.a turn/libturnsrv.a
turn_libturncodec_a_SOURCES = turn/turn_msg.h turn/turn_msg.c \
	turn/turn_names.c turn/turn_frame.c
turn_libturncodec_a_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS)
turn_libturnsrv_a_SOURCES =
turn_libturnsrv_a_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS)
