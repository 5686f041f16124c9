# src/cluster/: several gateways on one PostgreSQL (issue 15): the cluster
# thread (registry and heartbeat, gone instances and their cut calls,
# call-log shipping, TURN credentials) and the schema it keeps; the only
# code that talks to PostgreSQL (libpq). It reads the local call log
# through the call store's interface (src/calllog/sw_callstore.h).
noinst_LIBRARIES += src/cluster/libswcluster.a
src_cluster_libswcluster_a_SOURCES = \
	src/cluster/sw_cluster.c src/cluster/sw_cluster.h \
	src/cluster/sw_cluster_pg.c src/cluster/sw_cluster_read.c
src_cluster_libswcluster_a_CPPFLAGS = $(SW_CPPFLAGS) $(SW_INC_ROWS_3)
src_cluster_libswcluster_a_CFLAGS = $(AM_CFLAGS) $(PQ_CFLAGS)
