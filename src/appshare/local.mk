# src/appshare/: the application-sharing coordinator (sw_appshare: the
# media-policy hook, relay events, ICE observation, the completion
# re-INVITE) and what it reads and writes in SDP (sw_appshare_sdp); the
# glue above plugs it in through sw_appshare.h.
noinst_LIBRARIES += src/appshare/libswappshare.a
src_appshare_libswappshare_a_SOURCES = \
	src/appshare/sw_appshare.c src/appshare/sw_appshare.h \
	src/appshare/sw_appshare_int.h src/appshare/sw_appshare_sdp.c \
	src/appshare/sw_as_policy.c
src_appshare_libswappshare_a_CPPFLAGS = $(SW_CPPFLAGS) $(SW_INC_ROWS_3)
