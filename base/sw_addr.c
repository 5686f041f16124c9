/**
 * @file sw_addr.c  Parse, print and compare socket addresses and CIDRs.
 *
 * Accepted forms: "1.2.3.4", "1.2.3.4:5060", "::1", "[::1]:5060";
 * CIDR "10.0.0.0/8", "::ffff:0:0/96", a bare address meaning /32 or /128.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sw_addr.h"


int sw_sa_set_ip(struct sw_sa *sa, const char *ip, uint16_t port)
{
	memset(sa, 0, sizeof(*sa));
	if (inet_pton(AF_INET, ip, &sa->u.in.sin_addr) == 1) {
		sa->u.in.sin_family = AF_INET;
		sa->u.in.sin_port = htons(port);
		return 0;
	}
	if (inet_pton(AF_INET6, ip, &sa->u.in6.sin6_addr) == 1) {
		sa->u.in6.sin6_family = AF_INET6;
		sa->u.in6.sin6_port = htons(port);
		return 0;
	}
	return EINVAL;
}


static int parse_port(const char *s, uint16_t *port)
{
	char *end;
	unsigned long v;

	if (!*s)
		return EINVAL;
	v = strtoul(s, &end, 10);
	if (*end || v > 65535)
		return EINVAL;
	*port = (uint16_t)v;
	return 0;
}


/**
 * Parse "ip", "ip:port", "[v6]" or "[v6]:port"
 *
 * @return 0 or EINVAL
 */
int sw_sa_parse(struct sw_sa *sa, const char *s, uint16_t default_port)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon;
	uint16_t port = default_port;
	size_t hl;

	if (!s || !*s)
		return EINVAL;
	if (*s == '[') {
		const char *rb = strchr(s, ']');

		if (!rb)
			return EINVAL;
		hl = (size_t)(rb - s - 1);
		if (rb[1] == ':') {
			if (parse_port(rb + 2, &port))
				return EINVAL;
		}
		else if (rb[1]) {
			return EINVAL;
		}
		s++;
	}
	else {
		colon = strchr(s, ':');
		if (colon && strchr(colon + 1, ':')) {
			hl = strlen(s); /* bare IPv6 */
		}
		else if (colon) {
			hl = (size_t)(colon - s);
			if (parse_port(colon + 1, &port))
				return EINVAL;
		}
		else {
			hl = strlen(s);
		}
	}
	if (hl == 0 || hl >= sizeof(host))
		return EINVAL;
	memcpy(host, s, hl);
	host[hl] = '\0';
	return sw_sa_set_ip(sa, host, port);
}


bool sw_sa_isset(const struct sw_sa *sa)
{
	return sa->u.sa.sa_family == AF_INET || sa->u.sa.sa_family == AF_INET6;
}


/** 127.0.0.0/8 or ::1 */
bool sw_sa_is_loopback(const struct sw_sa *sa)
{
	if (sa->u.sa.sa_family == AF_INET)
		return (ntohl(sa->u.in.sin_addr.s_addr) >> 24) == 127;
	return sa->u.sa.sa_family == AF_INET6 &&
	       IN6_IS_ADDR_LOOPBACK(&sa->u.in6.sin6_addr);
}


int sw_sa_af(const struct sw_sa *sa)
{
	return sa->u.sa.sa_family;
}


socklen_t sw_sa_len(const struct sw_sa *sa)
{
	return sa->u.sa.sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
					      : sizeof(struct sockaddr_in);
}


uint16_t sw_sa_port(const struct sw_sa *sa)
{
	if (sa->u.sa.sa_family == AF_INET6)
		return ntohs(sa->u.in6.sin6_port);
	if (sa->u.sa.sa_family == AF_INET)
		return ntohs(sa->u.in.sin_port);
	return 0;
}


void sw_sa_set_port(struct sw_sa *sa, uint16_t port)
{
	if (sa->u.sa.sa_family == AF_INET6)
		sa->u.in6.sin6_port = htons(port);
	else
		sa->u.in.sin_port = htons(port);
}


bool sw_sa_cmp(const struct sw_sa *a, const struct sw_sa *b, bool port)
{
	if (a->u.sa.sa_family != b->u.sa.sa_family)
		return false;
	if (port && sw_sa_port(a) != sw_sa_port(b))
		return false;
	if (a->u.sa.sa_family == AF_INET)
		return a->u.in.sin_addr.s_addr == b->u.in.sin_addr.s_addr;
	if (a->u.sa.sa_family == AF_INET6)
		return !memcmp(&a->u.in6.sin6_addr, &b->u.in6.sin6_addr, 16);
	return false;
}


bool sw_sa_is_any(const struct sw_sa *sa)
{
	static const struct in6_addr any6 = IN6ADDR_ANY_INIT;

	if (sa->u.sa.sa_family == AF_INET)
		return sa->u.in.sin_addr.s_addr == htonl(INADDR_ANY);
	if (sa->u.sa.sa_family == AF_INET6)
		return !memcmp(&sa->u.in6.sin6_addr, &any6, 16);
	return true;
}


void sw_sa_from_sockaddr(struct sw_sa *sa, const struct sockaddr *s)
{
	memset(sa, 0, sizeof(*sa));
	if (s->sa_family == AF_INET)
		memcpy(&sa->u.in, s, sizeof(sa->u.in));
	else if (s->sa_family == AF_INET6)
		memcpy(&sa->u.in6, s, sizeof(sa->u.in6));
}


/** Print the address without the port */
const char *sw_sa_ntop(const struct sw_sa *sa, char *buf, size_t sz)
{
	const void *a = sa->u.sa.sa_family == AF_INET6
				? (const void *)&sa->u.in6.sin6_addr
				: (const void *)&sa->u.in.sin_addr;

	if (!sw_sa_isset(sa) ||
	    !inet_ntop(sa->u.sa.sa_family, a, buf, (socklen_t)sz))
		snprintf(buf, sz, "-");
	return buf;
}


/* "a.b.c.d:port" into o (22 bytes at most with its NUL), written by
 * hand: the SIP capture prints two addresses per message, and
 * inet_ntop() + snprintf() cost ~2,000 instructions each time */
static size_t v4_str(const struct sw_sa *sa, char *o)
{
	const uint8_t *b = (const uint8_t *)&sa->u.in.sin_addr;
	unsigned port = sw_sa_port(sa);
	char d[5], *p = o;
	int n = 0;

	for (int i = 0; i < 4; ++i) {
		if (b[i] >= 100)
			*p++ = (char)('0' + b[i] / 100);
		if (b[i] >= 10)
			*p++ = (char)('0' + b[i] / 10 % 10);
		*p++ = (char)('0' + b[i] % 10);
		*p++ = i < 3 ? '.' : ':';
	}
	do {
		d[n++] = (char)('0' + port % 10);
		port /= 10;
	} while (port);
	while (n)
		*p++ = d[--n];
	*p = '\0';
	return (size_t)(p - o);
}


/** Print "ip:port" or "[v6]:port" */
const char *sw_sa_str(const struct sw_sa *sa, char *buf, size_t sz)
{
	char ip[INET6_ADDRSTRLEN];

	if (sa->u.sa.sa_family == AF_INET) {
		size_t n = v4_str(sa, ip); /* "255.255.255.255:65535" fits */

		if (sz) { /* as snprintf() would: cut, always terminated */
			n = n < sz ? n : sz - 1;
			memcpy(buf, ip, n);
			buf[n] = '\0';
		}
		return buf;
	}
	sw_sa_ntop(sa, ip, sizeof(ip));
	if (sa->u.sa.sa_family == AF_INET6)
		snprintf(buf, sz, "[%s]:%u", ip, sw_sa_port(sa));
	else
		snprintf(buf, sz, "%s:%u", ip, sw_sa_port(sa));
	return buf;
}


/** If in is an IPv4-mapped IPv6 address, out is the IPv4 form; else a copy */
void sw_sa_unmap_v4(struct sw_sa *out, const struct sw_sa *in)
{
	if (in->u.sa.sa_family == AF_INET6 &&
	    IN6_IS_ADDR_V4MAPPED(&in->u.in6.sin6_addr)) {
		struct sw_sa v4;

		memset(&v4, 0, sizeof(v4));
		v4.u.in.sin_family = AF_INET;
		v4.u.in.sin_port = in->u.in6.sin6_port;
		memcpy(&v4.u.in.sin_addr, &in->u.in6.sin6_addr.s6_addr[12], 4);
		*out = v4;
		return;
	}
	*out = *in;
}


int sw_cidr_parse(struct sw_cidr *c, const char *s)
{
	char ip[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t l = slash ? (size_t)(slash - s) : strlen(s);
	unsigned long bits;
	unsigned maxbits;
	char *end;

	if (l == 0 || l >= sizeof(ip))
		return EINVAL;
	memcpy(ip, s, l);
	ip[l] = '\0';
	memset(c, 0, sizeof(*c));
	if (sw_sa_set_ip(&c->net, ip, 0))
		return EINVAL;
	maxbits = c->net.u.sa.sa_family == AF_INET ? 32 : 128;
	if (!slash) {
		c->bits = (uint8_t)maxbits;
		return 0;
	}
	bits = strtoul(slash + 1, &end, 10);
	if (!slash[1] || *end || bits > maxbits)
		return EINVAL;
	c->bits = (uint8_t)bits;
	return 0;
}


static bool prefix_match(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned full = bits / 8, rem = bits % 8;

	if (memcmp(a, b, full))
		return false;
	if (rem) {
		uint8_t mask = (uint8_t)(0xff << (8 - rem));

		return (a[full] & mask) == (b[full] & mask);
	}
	return true;
}


bool sw_cidr_match(const struct sw_cidr *c, const struct sw_sa *sa)
{
	if (c->net.u.sa.sa_family != sa->u.sa.sa_family)
		return false;
	if (sa->u.sa.sa_family == AF_INET)
		return prefix_match(
			(const uint8_t *)&c->net.u.in.sin_addr.s_addr,
			(const uint8_t *)&sa->u.in.sin_addr.s_addr, c->bits);
	return prefix_match(c->net.u.in6.sin6_addr.s6_addr,
			    sa->u.in6.sin6_addr.s6_addr, c->bits);
}


const char *sw_cidr_str(const struct sw_cidr *c, char *buf, size_t sz)
{
	char ip[INET6_ADDRSTRLEN];

	snprintf(buf, sz, "%s/%u", sw_sa_ntop(&c->net, ip, sizeof(ip)),
		 c->bits);
	return buf;
}


/**
 * FNV-1a over the address's bytes (4 or 16), then its port if port,
 * starting from seed (2166136261 for plain FNV-1a): for hash tables keyed
 * by address
 */
uint32_t sw_sa_hash(const struct sw_sa *sa, uint32_t seed, bool port)
{
	const uint8_t *p;
	size_t n;
	uint32_t h = seed;

	if (sa->u.sa.sa_family == AF_INET6) {
		p = sa->u.in6.sin6_addr.s6_addr;
		n = 16;
	}
	else {
		p = (const uint8_t *)&sa->u.in.sin_addr;
		n = 4;
	}
	for (size_t i = 0; i < n; ++i)
		h = (h ^ p[i]) * 16777619u;
	if (port)
		h = (h ^ sw_sa_port(sa)) * 16777619u;
	return h;
}
