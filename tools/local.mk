# tools/: calllog-load, bulk synthetic call records through the real
# call-log writer (benchmarks: writer rate, queries on 1,000,000 calls).
noinst_PROGRAMS += tools/calllog-load
tools_calllog_load_SOURCES = tools/calllog_load.c
tools_calllog_load_LDADD = $(SW_ALL_LIBS) $(SW_EXT_LIBS)

# `make run` (Makefile.am) and 02-make-run
EXTRA_DIST += tools/run.sh tools/check-layers.sh
