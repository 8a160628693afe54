/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * recipients.csv (spec §3): recipient organisations, their kind and the selectors that map a
 * destination to them; resolution order of spec §6.
 *
 * File rules: header with exactly the columns recipient, kind, match (any order). kind is
 * first-party, processor or third-party. match holds space-separated selectors: IPv4, IPv6,
 * IPv4:port, [IPv6]:port, CIDR (host bits are masked off), host (DNS name, case-insensitive,
 * trailing dot ignored) or *.domain. An IPv4-mapped IPv6 selector (::ffff:a.b.c.d, CIDR /96 or
 * longer) is stored as IPv4. Several rows may name the same recipient with the same kind: their
 * selectors are merged; a different kind is an error. A selector claimed by two recipients is an
 * error; repeating it under the same recipient is not.
 */
#ifndef CS_RECIPIENTS_H
#define CS_RECIPIENTS_H

#include <linux/types.h>

enum rcpt_kind {
	RK_UNKNOWN = 0,
	RK_FIRST_PARTY,
	RK_PROCESSOR,
	RK_THIRD_PARTY,
};

struct recipient {
	const char *name;
	enum rcpt_kind kind;
};

struct recipients;

/*
 * Load path. Returns 0 and sets *out; -EINVAL on input errors (each printed as path:line: msg,
 * all rows are checked before giving up); other -errno on I/O errors (printed). On error *out
 * is NULL and nothing stays allocated.
 */
int recipients_load(struct recipients **out, const char *path);
void recipients_free(struct recipients *r);

/*
 * Recipient of a destination, or NULL if no selector matches. family is AF_INET (addr: 4 bytes)
 * or AF_INET6 (addr: 16 bytes), network byte order; an IPv4-mapped IPv6 address is matched as
 * IPv4. port is in host byte order. host (TLS SNI, HTTP Host or a DNS name; may be NULL or "")
 * may carry ":port", which is ignored; matching is case-insensitive.
 * Order (spec §6): IP:port, then the longest CIDR/IP prefix, then the exact host, then the
 * longest *.domain suffix ("*.example.com" matches "a.b.example.com", not "example.com").
 */
const struct recipient *recipients_resolve(const struct recipients *r, int family, const void *addr,
					   __u16 port, const char *host);
/* Recipient by name (exact), or NULL. */
const struct recipient *recipients_find(const struct recipients *r, const char *name);
/* "first-party", "processor", "third-party" or "unknown". */
const char *rcpt_kind_name(enum rcpt_kind k);

#endif
