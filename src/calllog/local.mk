# src/calllog/: the call log: the call record (sw_callrec) and its
# one-sentence verdict (sw_verdict, pure); the emit API, the writer
# thread (sw_calllog), the call store's interface (sw_callstore) and its
# SQLite implementation (sw_callstore_sqlite, the only SQL of shareway),
# the ladder labels of recorded messages (_sum) and synthetic records for
# load tests (_synth).
noinst_LIBRARIES += src/calllog/libswcalllog.a
src_calllog_libswcalllog_a_SOURCES = \
	src/calllog/sw_callrec.c src/calllog/sw_callrec.h \
	src/calllog/sw_callfacts.c \
	src/calllog/sw_verdict.c \
	src/calllog/sw_calllog.c src/calllog/sw_calllog.h \
	src/calllog/sw_calllog_int.h \
	src/calllog/sw_callstore.c src/calllog/sw_callstore.h \
	src/calllog/sw_callstore_sqlite.c src/calllog/sw_callstore_sqlite.h \
	src/calllog/sw_calllog_sum.c src/calllog/sw_calllog_synth.c
src_calllog_libswcalllog_a_CPPFLAGS = $(SW_CPPFLAGS) $(SW_INC_ROWS_2)
src_calllog_libswcalllog_a_CFLAGS = $(AM_CFLAGS) $(SQLITE_CFLAGS)
