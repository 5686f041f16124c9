# src/cli/: shareway, the operator's CLI: one file per command (cli.h
# lists them), the call-log readers' common code (cli_common) and the
# STUN/TURN decoder (cli_stun_*). Built as src/shareway.
bin_PROGRAMS += src/shareway
src_shareway_SOURCES = src/cli/shareway.c src/cli/cli.h \
	src/cli/cli_check_config.c src/cli/cli_locate.c \
	src/cli/cli_stun.h src/cli/cli_stun_decode.c src/cli/cli_stun_net.c \
	src/cli/cli_stun_show.c \
	src/cli/cli_common.c src/cli/cli_common.h src/cli/cli_calls.c \
	src/cli/cli_show.c src/cli/cli_ladder.c src/cli/cli_sdp.c \
	src/cli/cli_export.c src/cli/cli_tail.c src/cli/cli_relays.c \
	src/cli/cli_stats.c src/cli/cli_status.c src/cli/cli_reload.c \
	src/cli/cli_drain.c \
	src/cli/cli_log_level.c
src_shareway_CPPFLAGS = $(SW_CPPFLAGS) $(SW_INC_ROWS_4)
src_shareway_LDADD = $(SW_ALL_LIBS) $(SW_EXT_LIBS)
