# src/dialplan/: the dial plan (rule file, matching, rewrites, the trace),
# the router sip/ asks; and the whole configuration's check (sw_check:
# shareway.conf, its TLS files, the rule file against the zones), which
# gives the daemon and the CLI the dial plan they run with.
noinst_LIBRARIES += src/dialplan/libswdialplan.a
src_dialplan_libswdialplan_a_SOURCES = \
	src/dialplan/sw_rules.c src/dialplan/sw_route.c \
	src/dialplan/sw_rules.h src/dialplan/sw_rules_int.h \
	src/dialplan/sw_check.c src/dialplan/sw_check.h
src_dialplan_libswdialplan_a_CPPFLAGS = $(SW_CPPFLAGS) $(SW_INC_ROWS_2)
src_dialplan_libswdialplan_a_CFLAGS = $(AM_CFLAGS) $(PCRE2_CFLAGS) \
	$(OPENSSL_CFLAGS) $(PQ_CFLAGS)
