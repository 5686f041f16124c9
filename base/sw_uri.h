/**
 * @file sw_uri.h  Small, careful SIP/SIPS/tel URI pieces for the dial plan.
 *
 * Works on text as it arrives in a request (RFC 3261 §19.1, §20.10,
 * §25.1; RFC 3966 for tel:). No percent-decoding: values are compared as
 * written. Every function writes a NUL-terminated string into its output
 * buffer and returns 0, EINVAL (not a sip:, sips: or tel: URI / malformed
 * header value), ENOENT (the URI has no such part) or ERANGE (the output
 * buffer is too small).
 */
#ifndef SW_URI_H
#define SW_URI_H

#include <stddef.h>

int sw_uri_from_header(const char *hv, char *uri, size_t sz);
int sw_uri_user(const char *uri, char *user, size_t sz);
int sw_uri_host(const char *uri, char *host, size_t sz);
int sw_uri_set_user(const char *uri, const char *user, char *out, size_t sz);

#endif
