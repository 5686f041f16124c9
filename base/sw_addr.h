/**
 * @file sw_addr.h  Socket addresses and CIDR ranges, by value.
 */
#ifndef SW_ADDR_H
#define SW_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

/** An IPv4 or IPv6 address with port, small enough to copy by value */
struct sw_sa {
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} u;
};

struct sw_cidr {
	struct sw_sa net; /* port ignored */
	uint8_t bits;
};

#define SW_SA_STRLEN 64 /* "[v6]:port" fits */

int sw_sa_parse(struct sw_sa *sa, const char *s, uint16_t default_port);
int sw_sa_set_ip(struct sw_sa *sa, const char *ip, uint16_t port);
bool sw_sa_isset(const struct sw_sa *sa);
bool sw_sa_is_loopback(const struct sw_sa *sa);
int sw_sa_af(const struct sw_sa *sa);
socklen_t sw_sa_len(const struct sw_sa *sa);
uint16_t sw_sa_port(const struct sw_sa *sa);
void sw_sa_set_port(struct sw_sa *sa, uint16_t port);
bool sw_sa_cmp(const struct sw_sa *a, const struct sw_sa *b, bool port);
bool sw_sa_is_any(const struct sw_sa *sa);
void sw_sa_from_sockaddr(struct sw_sa *sa, const struct sockaddr *s);
const char *sw_sa_ntop(const struct sw_sa *sa, char *buf, size_t sz);
const char *sw_sa_str(const struct sw_sa *sa, char *buf, size_t sz);
void sw_sa_unmap_v4(struct sw_sa *out, const struct sw_sa *in);
uint32_t sw_sa_hash(const struct sw_sa *sa, uint32_t seed, bool port);

int sw_cidr_parse(struct sw_cidr *c, const char *s);
bool sw_cidr_match(const struct sw_cidr *c, const struct sw_sa *sa);
const char *sw_cidr_str(const struct sw_cidr *c, char *buf, size_t sz);

#endif
