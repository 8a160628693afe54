/* SPDX-License-Identifier: GPL-2.0-only */
/* A recipients.csv `match` selector (spec §6): its kinds and its parser. */
#ifndef CS_SELECTOR_H
#define CS_SELECTOR_H

#include <linux/types.h>

#define HOST_MAX 253
#define SEL_MAX	 300
/* bytes of a selector's path prefix (a request path is kept to MSG_PATH_MAX, message.h) */
#define PATH_MAX_SEL 200

enum sel_type { SEL_PREFIX, SEL_IPPORT, SEL_HOST, SEL_WILD };

struct sel {
	enum sel_type type;
	int v6;
	__u8 addr[16]; /* IPv4 in the first 4 bytes, rest zero */
	unsigned plen;
	__u16 port;
	char host[HOST_MAX + 2]; /* lower case, no trailing dot; a *.domain without "*." */
	const char *path;	 /* into the token: a path prefix after a host, NULL if none */
};

/*
 * Parse tok: a bare IP or CIDR (SEL_PREFIX; IPv4-mapped IPv6 stored as IPv4), IPv4:port or
 * [IPv6]:port (SEL_IPPORT), a DNS name (SEL_HOST) or *.domain (SEL_WILD), a host optionally
 * followed by a /path prefix. 0 or -EINVAL.
 */
int sel_parse(const char *tok, struct sel *s);
/* ASCII lower case (host names compare without the locale). */
static inline char sel_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Whether the 16-byte address a is IPv4-mapped (::ffff:a.b.c.d). */
int sel_v4_mapped(const __u8 *a);

#endif
