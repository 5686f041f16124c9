/**
 * @file cli_stun.h  Internals of `shareway stun-decode`, shared by
 * cli_stun_decode.c (options, hex and hex-dump input), cli_stun_net.c
 * (pcap, link/IP/TCP/UDP parsing, per-flow TCP streams, framing) and
 * cli_stun_show.c (the analyser-style text and the JSON objects).
 */
#ifndef SW_CLI_STUN_H
#define SW_CLI_STUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SDEC_MAX_NOTES 12
#define SDEC_NOTE_LEN 240
#define SDEC_NO_DUMP ((size_t)-1)

/** One run of the command: options, input map, totals */
struct sdec {
	/* options */
	const uint8_t *key; /* MESSAGE-INTEGRITY key; NULL: not checked */
	size_t keylen;
	bool longterm;      /* key = MD5(user:realm:password) */
	uint8_t ltkey[16];
	bool json;
	FILE *out;

	/* hex dump input: the dump's own offset of every byte */
	const size_t *dump_off;
	size_t dump_len;

	/* totals, for the exit code */
	unsigned n_msgs;    /* STUN messages shown */
	unsigned n_damaged; /* messages that stop making sense or fail FP */
	unsigned n_other;   /* frames or datagrams that are not STUN */

	/* notes on the packet at hand, shown with its next message */
	char notes[SDEC_MAX_NOTES][SDEC_NOTE_LEN];
	unsigned n_notes;
};

/** Where a message was found */
struct sdec_where {
	char label[200];       /* "frame 3: UDP 127.0.0.1:1 -> 127.0.0.1:2" */
	long frame;            /* pcap frame number, -1 if none */
	const char *transport; /* "udp", "tcp" or NULL */
	char src[64], dst[64]; /* "addr:port" or "" */
	const char *framing;   /* "rfc4571", "turn-tcp", "udp", "raw" */
	size_t msg_off;        /* STUN header offset in the payload/stream */
	size_t dump_base;      /* dump index of payload byte 0, or
				  SDEC_NO_DUMP */
	long rfc4571_len;      /* RFC 4571 length field, -1 if unframed */
};

/* cli_stun_show.c */
void sdec_note(struct sdec *sd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void sdec_notes_flush(struct sdec *sd);
void sdec_show(struct sdec *sd, const struct sdec_where *w,
	       const uint8_t *msg, size_t avail);
void sdec_dump_pos(const struct sdec *sd, const struct sdec_where *w,
		   size_t off, char *buf, size_t sz);

/* cli_stun_net.c */
int sdec_pcap(struct sdec *sd, const uint8_t *data, size_t len);
bool sdec_is_pcap(const uint8_t *data, size_t len);
void sdec_packet(struct sdec *sd, const uint8_t *p, size_t n);

#endif
