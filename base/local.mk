# base/: the foundation every module may use (log, addresses, queues,
# ini and configuration, JSON, URIs, the control socket, the resolver
# thread, accept() out of descriptors, heap trimming, the router's
# values, the media policies' registry, the HEPv3 encoder and sender). It
# includes nothing outside its own folder.
noinst_LIBRARIES += base/libswbase.a
base_libswbase_a_SOURCES = \
	base/sw_log.c base/sw_log.h \
	base/sw_ini.c base/sw_ini.h \
	base/sw_accept.c base/sw_accept.h \
	base/sw_addr.c base/sw_addr.h \
	base/sw_mem.c base/sw_mem.h \
	base/sw_conf.c base/sw_conf.h \
	base/sw_mq.c base/sw_mq.h \
	base/sw_idmap.c base/sw_idmap.h \
	base/sw_resolve.c base/sw_resolve.h base/sw_clock.h \
	base/sw_uri.c base/sw_uri.h \
	base/sw_json.c base/sw_json.h \
	base/sw_ctl.c base/sw_ctl.h \
	base/sw_router.c base/sw_router.h \
	base/sw_mpolicy.c base/sw_mpolicy.h \
	base/sw_cluview.c base/sw_cluview.h \
	base/sw_hep.c base/sw_hep.h
base_libswbase_a_CPPFLAGS = $(SW_CPPFLAGS)
base_libswbase_a_CFLAGS = $(AM_CFLAGS) $(CARES_CFLAGS) $(JANSSON_CFLAGS)
