# src/appshare/: the application-sharing coordinator (sw_appshare: the
# media-policy hook, relay events, ICE observation, the completion
# re-INVITE) and what it reads and writes in SDP (sw_appshare_sdp).
noinst_LIBRARIES += src/appshare/libswappshare.a
src_appshare_libswappshare_a_SOURCES = \
	src/appshare/sw_appshare.c src/appshare/sw_appshare_int.h \
	src/appshare/sw_appshare_sdp.c
# -I$(top_srcdir)/src/daemon: sw_appshare.c includes the glue's sw_gw.h,
# the one include that runs up a layer (issue 16 item 3 removes it)
src_appshare_libswappshare_a_CPPFLAGS = $(SW_CPPFLAGS) $(SW_INC_ROWS_3) \
	-I$(top_srcdir)/src/daemon
