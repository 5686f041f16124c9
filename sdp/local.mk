# sdp/: pure SDP model (no sockets, no Sofia headers).
noinst_LIBRARIES += sdp/libsdpr.a
sdp_libsdpr_a_SOURCES = sdp/sdpr.h
