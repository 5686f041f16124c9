# src/: the binaries.

bin_PROGRAMS += src/shareway
src_shareway_SOURCES = src/shareway.c src/cli.h \
	src/cli_check_config.c src/cli_locate.c \
	src/cli_stun.h src/cli_stun_decode.c src/cli_stun_net.c \
	src/cli_stun_show.c \
	src/cli_common.c src/cli_common.h src/cli_calls.c src/cli_show.c \
	src/cli_ladder.c src/cli_sdp.c src/cli_export.c src/cli_tail.c \
	src/cli_relays.c src/cli_stats.c src/cli_status.c src/cli_reload.c
src_shareway_LDADD = $(SW_ALL_LIBS) $(SW_EXT_LIBS)
