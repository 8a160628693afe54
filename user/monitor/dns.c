// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "monitor/dns.h"

#define DNS_SLOTS   8192 /* power of two */
#define DNS_PROBES  8
#define DNS_NAME    64
#define DNS_MIN_TTL 60

struct dns_entry {
	__u64 expires; /* 0 = free */
	__u8 family;
	__u8 addr[16];
	char name[DNS_NAME];
};

struct dns_cache {
	struct dns_entry e[DNS_SLOTS];
	dns_learn_fn learn; /* dns_cache_on_learn */
	void *learn_arg;
};

void dns_cache_on_learn(struct dns_cache *c, dns_learn_fn fn, void *arg)
{
	c->learn = fn;
	c->learn_arg = arg;
}

struct dns_cache *dns_cache_new(void)
{
	return calloc(1, sizeof(struct dns_cache));
}

void dns_cache_free(struct dns_cache *c)
{
	free(c);
}

static unsigned slot_of(int family, const __u8 *addr)
{
	unsigned n = family == AF_INET ? 4 : 16, h = 2166136261u;

	for (unsigned i = 0; i < n; i++)
		h = (h ^ addr[i]) * 16777619u;
	return h & (DNS_SLOTS - 1);
}

static int same(const struct dns_entry *e, int family, const __u8 *addr)
{
	return e->expires && e->family == family &&
	       !memcmp(e->addr, addr, family == AF_INET ? 4 : 16);
}

static void put(struct dns_cache *c, int family, const __u8 *addr, const char *name, __u64 expires)
{
	unsigned s = slot_of(family, addr), victim = s;

	for (unsigned i = 0; i < DNS_PROBES; i++) {
		struct dns_entry *e = &c->e[(s + i) & (DNS_SLOTS - 1)];

		if (same(e, family, addr) || !e->expires) {
			victim = (s + i) & (DNS_SLOTS - 1);
			break;
		}
		if (e->expires < c->e[victim].expires)
			victim = (s + i) & (DNS_SLOTS - 1);
	}
	c->e[victim].expires = expires;
	c->e[victim].family = family;
	memset(c->e[victim].addr, 0, sizeof(c->e[victim].addr));
	memcpy(c->e[victim].addr, addr, family == AF_INET ? 4 : 16);
	/* a longer name is cut to DNS_NAME - 1 bytes */
	size_t n = strnlen(name, DNS_NAME - 1);

	memcpy(c->e[victim].name, name, n);
	c->e[victim].name[n] = '\0';
}

const char *dns_cache_lookup(const struct dns_cache *c, int family, const void *addr, __u64 now_s)
{
	unsigned s = slot_of(family, addr);

	for (unsigned i = 0; i < DNS_PROBES; i++) {
		const struct dns_entry *e = &c->e[(s + i) & (DNS_SLOTS - 1)];

		if (same(e, family, addr))
			return e->expires > now_s ? e->name : NULL;
	}
	return NULL;
}

/*
 * Read the (possibly compressed) name at *pos into out (lower case, dotted); *pos moves past
 * the name as it appears at *pos. 0 or -EINVAL.
 */
static int read_name(const __u8 *m, size_t len, size_t *pos, char *out, size_t outlen)
{
	size_t p = *pos, o = 0;
	int jumps = 0, jumped = 0;

	for (;;) {
		__u8 l;

		if (p >= len)
			return -EINVAL;
		l = m[p];
		if ((l & 0xc0) == 0xc0) {
			if (p + 1 >= len || ++jumps > 16)
				return -EINVAL;
			if (!jumped)
				*pos = p + 2;
			jumped = 1;
			p = ((size_t)(l & 0x3f) << 8) | m[p + 1];
			continue;
		}
		if (l & 0xc0)
			return -EINVAL;
		if (!l) {
			if (!jumped)
				*pos = p + 1;
			break;
		}
		if (p + 1 + l > len)
			return -EINVAL;
		for (size_t i = 0; i < l; i++) {
			char ch = (char)m[p + 1 + i];

			if (o + 2 >= outlen)
				return -EINVAL;
			if (i == 0 && o)
				out[o++] = '.';
			out[o++] = (ch >= 'A' && ch <= 'Z') ? ch | 0x20 : ch;
		}
		p += 1 + l;
	}
	if (outlen)
		out[o < outlen ? o : outlen - 1] = 0;
	return 0;
}

static __u16 get16(const __u8 *p)
{
	return (__u16)(p[0] << 8 | p[1]);
}

int dns_cache_add_message(struct dns_cache *c, const __u8 *m, size_t len, __u64 now_s)
{
	char qname[DNS_NAME + 192], skip[256];
	size_t pos = 12;
	unsigned qd, an, learnt = 0;
	int keep;

	if (len < 12)
		return -EINVAL;
	if (!(m[2] & 0x80) || (m[3] & 0x0f)) /* not a response, or an error */
		return 0;
	qd = get16(m + 4);
	an = get16(m + 6);
	if (!qd || read_name(m, len, &pos, qname, sizeof(qname)) || pos + 4 > len)
		return -EINVAL;
	/*
	 * A name longer than an entry holds is not learnt: its first bytes may be a name of
	 * another recipient ("cdn.processor.example" + ".attacker.example" cut after the first).
	 */
	keep = strlen(qname) < DNS_NAME;
	pos += 4;
	for (unsigned i = 1; i < qd; i++) {
		if (read_name(m, len, &pos, skip, sizeof(skip)) || pos + 4 > len)
			return -EINVAL;
		pos += 4;
	}
	for (unsigned i = 0; i < an; i++) {
		__u16 type, rdlen;
		__u32 ttl;

		if (read_name(m, len, &pos, skip, sizeof(skip)) || pos + 10 > len)
			return -EINVAL;
		type = get16(m + pos);
		ttl = (__u32)get16(m + pos + 4) << 16 | get16(m + pos + 6);
		rdlen = get16(m + pos + 8);
		pos += 10;
		if (pos + rdlen > len)
			return -EINVAL;
		if (ttl < DNS_MIN_TTL)
			ttl = DNS_MIN_TTL;
		if (keep && ((type == 1 && rdlen == 4) || (type == 28 && rdlen == 16))) {
			put(c, type == 1 ? AF_INET : AF_INET6, m + pos, qname, now_s + ttl);
			if (c->learn)
				c->learn(c->learn_arg, type == 1 ? AF_INET : AF_INET6, m + pos,
					 qname, ttl);
			learnt++;
		}
		pos += rdlen;
	}
	return (int)learnt;
}
