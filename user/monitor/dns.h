/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * IP -> name cache fed by the DNS answers the host receives (bpf skb_dns), so host selectors of
 * recipients.csv apply to connections that carry no HTTP Host or TLS SNI.
 */
#ifndef CS_DNS_H
#define CS_DNS_H

#include <stddef.h>
#include <linux/types.h>

struct dns_cache;

struct dns_cache *dns_cache_new(void);
void dns_cache_free(struct dns_cache *c);
/*
 * Parse one DNS message (UDP payload); every A/AAAA answer maps its address to the question's
 * name for the record's TTL (at least 60 s); a name over 63 bytes is not learnt (a cut one could
 * name another recipient). now_s: a monotonic clock in seconds. Returns the number of addresses
 * learnt, or -EINVAL for a malformed message.
 */
/* Told of every address learnt (run --block: monitor/enforce.h), ttl in seconds. */
typedef void (*dns_learn_fn)(void *arg, int family, const void *addr, const char *name, __u32 ttl);
void dns_cache_on_learn(struct dns_cache *c, dns_learn_fn fn, void *arg);
int dns_cache_add_message(struct dns_cache *c, const __u8 *msg, size_t len, __u64 now_s);
/* Name for an address (family AF_INET: 4 bytes, AF_INET6: 16), or NULL. */
const char *dns_cache_lookup(const struct dns_cache *c, int family, const void *addr, __u64 now_s);

#endif
