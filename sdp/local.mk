# sdp/: pure SDP model (no sockets, no Sofia headers).
noinst_LIBRARIES += sdp/libsdpr.a
sdp_libsdpr_a_SOURCES = sdp/sdpr.h sdp/sdpr_int.h sdp/sdpr.c \
	sdp/sdpr_edit.c sdp/sdpr_ice.c sdp/sdpr_cand.c sdp/sdpr_multipart.c
sdp_libsdpr_a_CPPFLAGS = $(SW_CPPFLAGS)
