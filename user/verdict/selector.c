// SPDX-License-Identifier: GPL-2.0-only
/* One recipients.csv selector parsed (selector.h): address, prefix, IP:port, host, *.domain. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "verdict/selector.h"

int sel_v4_mapped(const __u8 *a)
{
	static const __u8 pfx[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	return !memcmp(a, pfx, sizeof(pfx));
}

/* Decimal number of at most maxdig digits, no sign, <= max. */
static int parse_uint(const char *s, unsigned maxdig, unsigned max, unsigned *out)
{
	unsigned v = 0, n = 0;

	for (; *s; s++, n++) {
		if (*s < '0' || *s > '9' || n >= maxdig)
			return -EINVAL;
		v = v * 10 + (unsigned)(*s - '0');
	}
	if (!n || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Parse an IPv4 or IPv6 address; IPv4-mapped IPv6 becomes IPv4 (*mapped set). */
static int parse_ip(const char *s, struct sel *sel, int *mapped)
{
	__u8 a[16];

	*mapped = 0;
	memset(sel->addr, 0, sizeof(sel->addr));
	if (inet_pton(AF_INET, s, sel->addr) == 1) {
		sel->v6 = 0;
		return 0;
	}
	if (inet_pton(AF_INET6, s, a) != 1)
		return -EINVAL;
	if (sel_v4_mapped(a)) {
		memcpy(sel->addr, a + 12, 4);
		sel->v6 = 0;
		*mapped = 1;
		return 0;
	}
	memcpy(sel->addr, a, 16);
	sel->v6 = 1;
	return 0;
}

static void mask_addr(__u8 *a, unsigned plen, unsigned bits)
{
	for (unsigned i = plen; i < bits; i++)
		a[i / 8] &= (__u8) ~(0x80u >> (i % 8));
}

/*
 * Validate a DNS name in place: lower-case it and drop one trailing dot. Labels of 1..63
 * letters, digits, '-' (not at either end) or '_'; at most 253 bytes; the last label must not
 * be all digits so that a malformed IPv4 address ("300.1.1.1") is not taken for a host.
 */
static int host_valid(char *h)
{
	size_t len = strlen(h), lab = 0;
	int alldig = 1;

	if (len && h[len - 1] == '.')
		h[--len] = '\0';
	if (!len || len > HOST_MAX)
		return 0;
	for (size_t i = 0; i <= len; i++) {
		char c = sel_lower(h[i]);

		if (c == '.' || !c) {
			if (!lab || h[i - 1] == '-')
				return 0;
			if (!c && alldig)
				return 0;
			lab = 0;
			alldig = 1;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return 0;
		if (!lab && c == '-')
			return 0;
		if (++lab > 63)
			return 0;
		if (c < '0' || c > '9')
			alldig = 0;
		h[i] = c;
	}
	return 1;
}

/* host or *.domain into s (type, host). */
static int parse_host(const char *buf, struct sel *s)
{
	if (buf[0] == '*') {
		if (buf[1] != '.' || strlen(buf + 2) > HOST_MAX)
			return -EINVAL;
		strcpy(s->host, buf + 2);
		if (!host_valid(s->host))
			return -EINVAL;
		s->type = SEL_WILD;
		return 0;
	}
	if (strlen(buf) > HOST_MAX + 1)
		return -EINVAL;
	strcpy(s->host, buf);
	if (!host_valid(s->host))
		return -EINVAL;
	s->type = SEL_HOST;
	return 0;
}

/* A path prefix: '/' then visible ASCII without '?' or '#', at most PATH_MAX_SEL bytes. */
static int path_valid(const char *p)
{
	size_t n = strlen(p);

	if (p[0] != '/' || n > PATH_MAX_SEL)
		return 0;
	for (; *p; p++)
		if (*p < 0x21 || *p > 0x7e || *p == '?' || *p == '#')
			return 0;
	return 1;
}

int sel_parse(const char *tok, struct sel *s)
{
	char buf[SEL_MAX];
	const char *colon;
	char *p;
	unsigned v;
	int mapped;

	if (strlen(tok) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, tok);
	memset(s, 0, sizeof(*s));

	/* [IPv6]:port */
	if (buf[0] == '[') {
		p = strchr(buf, ']');
		if (!p || p[1] != ':')
			return -EINVAL;
		*p = '\0';
		if (parse_uint(p + 2, 5, 65535, &v) || !v ||
		    inet_pton(AF_INET6, buf + 1, s->addr) != 1)
			return -EINVAL;
		s->type = SEL_IPPORT;
		s->v6 = 1;
		s->port = (__u16)v;
		if (sel_v4_mapped(s->addr)) {
			memmove(s->addr, s->addr + 12, 4);
			memset(s->addr + 4, 0, 12);
			s->v6 = 0;
		}
		return 0;
	}

	/* CIDR, or a host with a path prefix */
	p = strchr(buf, '/');
	if (p) {
		*p = '\0';
		if (parse_ip(buf, s, &mapped)) {
			s->path = tok + (p - buf);
			if (!path_valid(s->path))
				return -EINVAL;
			return parse_host(buf, s);
		}
		if (parse_uint(p + 1, 3, s->v6 || mapped ? 128 : 32, &v))
			return -EINVAL;
		if (mapped) {
			/* ::ffff:0:0/96 and longer lie inside the mapped space: store as IPv4 */
			if (v < 96)
				return -EINVAL;
			v -= 96;
		}
		s->type = SEL_PREFIX;
		s->plen = v;
		mask_addr(s->addr, v, s->v6 ? 128 : 32);
		return 0;
	}

	/* bare IP */
	if (!parse_ip(buf, s, &mapped)) {
		s->type = SEL_PREFIX;
		s->plen = s->v6 ? 128 : 32;
		return 0;
	}

	/* IPv4:port (a bare IPv6 address has more than one colon and was handled above) */
	colon = strchr(buf, ':');
	if (colon) {
		if (strchr(colon + 1, ':'))
			return -EINVAL;
		buf[colon - buf] = '\0';
		if (inet_pton(AF_INET, buf, s->addr) != 1 || parse_uint(colon + 1, 5, 65535, &v) ||
		    !v)
			return -EINVAL;
		s->type = SEL_IPPORT;
		s->port = (__u16)v;
		return 0;
	}

	return parse_host(buf, s);
}
