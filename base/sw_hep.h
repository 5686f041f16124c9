/**
 * @file sw_hep.h  HEPv3 (the Homer Encapsulation Protocol of sipcapture,
 * "HEP3 Network Protocol Specification" rev 37): what the gateway sends
 * and receives, copied to a capture server (Homer, heplify-server,
 * Kamailio sipcapture, sngrep) as one UDP datagram per message.
 *
 * No library in Debian 12 encodes HEPv3 (Kamailio's and rtpengine's
 * encoders live inside those programs; libhep is not packaged), so the
 * encoder is written once, here: pure, no sockets, tested on exact bytes
 * (tests/test_hep.c). The sender is one non-blocking UDP socket: a
 * message the kernel will not take now is counted, never waited for.
 */
#ifndef SW_HEP_H
#define SW_HEP_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "sw_addr.h"

enum {
	SW_HEP_SIP = 0x01, /* protocol type (chunk 0x000b) */
	SW_HEP_LOG = 100,  /* a log line correlated with a call */
};

/** One captured message */
struct sw_hep_msg {
	const struct sw_sa *src, *dst; /* same family */
	uint8_t ip_proto;              /* 17 UDP, 6 TCP (TLS: the cleartext) */
	int64_t t_us;                  /* capture time, Unix microseconds */
	uint8_t proto_type;            /* SW_HEP_SIP, SW_HEP_LOG */
	uint32_t capture_id;
	const char *password;          /* chunk 0x000e, or NULL/"" */
	const char *correlation;       /* chunk 0x0011, or NULL/"" */
	const char *node;              /* chunk 0x0013, or NULL/"" */
	const void *payload;
	size_t len;
};

#define SW_HEP_MAX 65535 /* the header's 16-bit total length */

size_t sw_hep_encode(const struct sw_hep_msg *m, uint8_t *out, size_t cap);

/** The sender: a UDP socket toward one collector */
struct sw_hep {
	int fd;
	struct sw_sa collector;
	uint32_t capture_id;
	char node[64];
	char password[64];
	_Atomic uint64_t sent, failed; /* datagrams; failed: not encodable
					  or refused by the kernel */
};

int sw_hep_open(struct sw_hep **hp, const struct sw_sa *collector,
		uint32_t capture_id, const char *node, const char *password);
void sw_hep_close(struct sw_hep *h);
int sw_hep_send(struct sw_hep *h, const struct sw_hep_msg *m);

#endif
