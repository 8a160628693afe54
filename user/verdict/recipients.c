// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/csv.h"
#include "lib/csvtable.h"
#include "lib/log.h"
#include "lib/util.h"
#include "verdict/recipients.h"

/* Errors printed per file; the rest are only counted so a bad file cannot flood stderr. */
#define HOST_MAX 253
#define SEL_MAX	 300

struct rcpt_ent {
	struct recipient pub;
	unsigned long line; /* first row naming it */
};

/* One node of a binary trie over address bits; index 0 is the root and never a child. */
struct trie_node {
	__u32 child[2];
	__s32 rcpt; /* -1: no prefix ends here */
	__u32 line;
};

struct trie {
	struct trie_node *n;
	size_t len, cap;
};

struct ipport {
	__u8 v6;
	__u8 addr[16]; /* IPv4 in the first 4 bytes, rest zero */
	__u16 port;
	__u32 rcpt;
	unsigned long line;
};

/* Exact host or the suffix of a *.domain selector (without "*."), lower case. */
struct hostsel {
	char *name;
	__u32 rcpt;
	unsigned long line;
};

struct hostset {
	struct hostsel *v;
	size_t len, cap;
};

struct recipients {
	struct rcpt_ent *rc;
	size_t nrc, caprc;
	__u32 *byname; /* open addressing, rcpt index + 1, 0 = empty */
	size_t nslots;
	struct trie t4, t6;
	struct ipport *ipp;
	size_t nipp, capipp;
	struct hostset hosts, wild;
};

enum sel_type { SEL_PREFIX, SEL_IPPORT, SEL_HOST, SEL_WILD };

struct sel {
	enum sel_type type;
	int v6;
	__u8 addr[16];
	unsigned plen;
	__u16 port;
	char host[HOST_MAX + 2];
};

struct rcpt_loader {
	struct input_errs e;
	struct recipients *r;
};

static const char *const kind_names[] = {
    [RK_UNKNOWN] = "unknown",
    [RK_FIRST_PARTY] = "first-party",
    [RK_PROCESSOR] = "processor",
    [RK_THIRD_PARTY] = "third-party",
};

const char *rcpt_kind_name(enum rcpt_kind k)
{
	if ((unsigned)k >= sizeof(kind_names) / sizeof(kind_names[0]))
		return "unknown";
	return kind_names[k];
}

static enum rcpt_kind kind_parse(const char *s)
{
	for (unsigned i = RK_FIRST_PARTY; i <= RK_THIRD_PARTY; i++)
		if (!strcmp(s, kind_names[i]))
			return (enum rcpt_kind)i;
	return RK_UNKNOWN;
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static __u64 str_hash(const char *s)
{
	__u64 h = 0xcbf29ce484222325ULL;

	while (*s) {
		h ^= (unsigned char)*s++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* Slot of name in byname: the one holding it, or the empty one where it would go. */
static size_t name_slot(const struct recipients *r, const char *name)
{
	size_t mask = r->nslots - 1, i = str_hash(name) & mask;

	while (r->byname[i] && strcmp(r->rc[r->byname[i] - 1].pub.name, name))
		i = (i + 1) & mask;
	return i;
}

static int name_rehash(struct recipients *r)
{
	size_t n = r->nslots ? r->nslots * 2 : 64;
	__u32 *old = r->byname;
	size_t oldn = r->nslots;

	r->byname = calloc(n, sizeof(*r->byname));
	if (!r->byname) {
		r->byname = old;
		return -ENOMEM;
	}
	r->nslots = n;
	for (size_t i = 0; i < oldn; i++)
		if (old[i])
			r->byname[name_slot(r, r->rc[old[i] - 1].pub.name)] = old[i];
	free(old);
	return 0;
}

static const struct rcpt_ent *find_ent(const struct recipients *r, const char *name)
{
	size_t i;

	if (!r || !name || !r->nslots)
		return NULL;
	i = name_slot(r, name);
	return r->byname[i] ? &r->rc[r->byname[i] - 1] : NULL;
}

const struct recipient *recipients_find(const struct recipients *r, const char *name)
{
	const struct rcpt_ent *e = find_ent(r, name);

	return e ? &e->pub : NULL;
}

static int add_rcpt(struct recipients *r, const char *name, enum rcpt_kind kind, unsigned long line,
		    __u32 *idx)
{
	char *dup;
	int err;

	if ((r->nrc + 1) * 2 > r->nslots) {
		err = name_rehash(r);
		if (err)
			return err;
	}
	err = grow_array((void **)&r->rc, &r->caprc, r->nrc + 1, sizeof(*r->rc), 16);
	if (err)
		return err;
	dup = strdup(name);
	if (!dup)
		return -ENOMEM;
	r->rc[r->nrc] = (struct rcpt_ent){.pub = {.name = dup, .kind = kind}, .line = line};
	r->byname[name_slot(r, name)] = (__u32)r->nrc + 1;
	*idx = (__u32)r->nrc++;
	return 0;
}

static int trie_init(struct trie *t)
{
	int err = grow_array((void **)&t->n, &t->cap, 1, sizeof(*t->n), 16);

	if (err)
		return err;
	t->n[0] = (struct trie_node){.rcpt = -1};
	t->len = 1;
	return 0;
}

static int addr_bit(const __u8 *a, unsigned i)
{
	return (a[i / 8] >> (7 - i % 8)) & 1;
}

/*
 * Insert prefix a/plen for rcpt. Returns 0, -EEXIST with *owner set when another recipient
 * holds the same prefix, or -ENOMEM.
 */
static int trie_insert(struct trie *t, const __u8 *a, unsigned plen, __u32 rcpt, unsigned long line,
		       __u32 *owner, unsigned long *owner_line)
{
	size_t node = 0;

	for (unsigned i = 0; i < plen; i++) {
		int b = addr_bit(a, i);
		int err;

		if (t->n[node].child[b]) {
			node = t->n[node].child[b];
			continue;
		}
		err = grow_array((void **)&t->n, &t->cap, t->len + 1, sizeof(*t->n), 16);
		if (err)
			return err;
		t->n[t->len] = (struct trie_node){.rcpt = -1};
		t->n[node].child[b] = (__u32)t->len;
		node = t->len++;
	}
	if (t->n[node].rcpt >= 0 && (__u32)t->n[node].rcpt != rcpt) {
		*owner = (__u32)t->n[node].rcpt;
		*owner_line = t->n[node].line;
		return -EEXIST;
	}
	if (t->n[node].rcpt < 0) {
		t->n[node].rcpt = (__s32)rcpt;
		t->n[node].line = (__u32)line;
	}
	return 0;
}

/* Longest prefix holding a recipient, -1 if none. O(address bits). */
static __s32 trie_lookup(const struct trie *t, const __u8 *a, unsigned bits)
{
	size_t node = 0;
	__s32 best;

	if (!t->len)
		return -1;
	best = t->n[0].rcpt;
	for (unsigned i = 0; i < bits; i++) {
		node = t->n[node].child[addr_bit(a, i)];
		if (!node)
			break;
		if (t->n[node].rcpt >= 0)
			best = t->n[node].rcpt;
	}
	return best;
}

static int is_v4_mapped(const __u8 *a)
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
	if (is_v4_mapped(a)) {
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
		char c = lower(h[i]);

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

static int parse_selector(const char *tok, struct sel *s)
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
		if (is_v4_mapped(s->addr)) {
			memmove(s->addr, s->addr + 12, 4);
			memset(s->addr + 4, 0, 12);
			s->v6 = 0;
		}
		return 0;
	}

	/* CIDR */
	p = strchr(buf, '/');
	if (p) {
		*p = '\0';
		if (parse_ip(buf, s, &mapped))
			return -EINVAL;
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

static int add_host(struct hostset *hs, const char *name, __u32 rcpt, unsigned long line)
{
	char *dup;
	int err;

	err = grow_array((void **)&hs->v, &hs->cap, hs->len + 1, sizeof(*hs->v), 16);
	if (err)
		return err;
	dup = strdup(name);
	if (!dup)
		return -ENOMEM;
	hs->v[hs->len++] = (struct hostsel){.name = dup, .rcpt = rcpt, .line = line};
	return 0;
}

static int add_selector(struct recipients *r, struct rcpt_loader *ld, const char *tok, __u32 rcpt,
			unsigned long line)
{
	unsigned long oline = 0;
	struct sel s;
	__u32 owner = 0;
	int err;

	if (parse_selector(tok, &s)) {
		input_err(&ld->e, line,
			  "bad selector '%s' (expected IP, IP:port, CIDR, host or *.domain)", tok);
		return 0;
	}
	switch (s.type) {
	case SEL_PREFIX:
		err =
		    trie_insert(s.v6 ? &r->t6 : &r->t4, s.addr, s.plen, rcpt, line, &owner, &oline);
		if (err == -EEXIST) {
			input_err(&ld->e, line,
				  "selector '%s' already belongs to recipient '%s' (line %lu)", tok,
				  r->rc[owner].pub.name, oline);
			return 0;
		}
		return err;
	case SEL_IPPORT:
		err = grow_array((void **)&r->ipp, &r->capipp, r->nipp + 1, sizeof(*r->ipp), 16);
		if (err)
			return err;
		r->ipp[r->nipp] =
		    (struct ipport){.v6 = (__u8)s.v6, .port = s.port, .rcpt = rcpt, .line = line};
		memcpy(r->ipp[r->nipp].addr, s.addr, 16);
		r->nipp++;
		return 0;
	case SEL_HOST:
		return add_host(&r->hosts, s.host, rcpt, line);
	case SEL_WILD:
		return add_host(&r->wild, s.host, rcpt, line);
	}
	return 0;
}

static int ipport_cmp(const void *a, const void *b)
{
	const struct ipport *x = a, *y = b;
	int c;

	if (x->v6 != y->v6)
		return x->v6 - y->v6;
	c = memcmp(x->addr, y->addr, sizeof(x->addr));
	if (c)
		return c;
	return (int)x->port - (int)y->port;
}

static int ipport_cmp_line(const void *a, const void *b)
{
	const struct ipport *x = a, *y = b;
	int c = ipport_cmp(a, b);

	if (c)
		return c;
	return x->line < y->line ? -1 : x->line > y->line;
}

static int hostsel_cmp(const void *a, const void *b)
{
	const struct hostsel *x = a, *y = b;

	return strcmp(x->name, y->name);
}

static int hostsel_cmp_line(const void *a, const void *b)
{
	const struct hostsel *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* Sort, drop repeats under one recipient, report a selector claimed by two. */
static void ipport_finish(struct recipients *r, struct rcpt_loader *ld)
{
	size_t w = 0;

	if (!r->nipp)
		return;
	qsort(r->ipp, r->nipp, sizeof(*r->ipp), ipport_cmp_line);
	for (size_t i = 0; i < r->nipp; i++) {
		const struct ipport *prev = w ? &r->ipp[w - 1] : NULL;

		if (prev && !ipport_cmp(prev, &r->ipp[i])) {
			if (prev->rcpt != r->ipp[i].rcpt) {
				char a[INET6_ADDRSTRLEN];

				inet_ntop(r->ipp[i].v6 ? AF_INET6 : AF_INET, r->ipp[i].addr, a,
					  sizeof(a));
				input_err(&ld->e, r->ipp[i].line,
					  "selector '%s%s%s:%u' already belongs to recipient '%s' "
					  "(line %lu)",
					  r->ipp[i].v6 ? "[" : "", a, r->ipp[i].v6 ? "]" : "",
					  r->ipp[i].port, r->rc[prev->rcpt].pub.name, prev->line);
			}
			continue;
		}
		r->ipp[w++] = r->ipp[i];
	}
	r->nipp = w;
}

static void hostset_finish(struct recipients *r, struct hostset *hs, struct rcpt_loader *ld,
			   const char *prefix)
{
	size_t w = 0;

	if (!hs->len)
		return;
	qsort(hs->v, hs->len, sizeof(*hs->v), hostsel_cmp_line);
	for (size_t i = 0; i < hs->len; i++) {
		const struct hostsel *prev = w ? &hs->v[w - 1] : NULL;

		if (prev && !strcmp(prev->name, hs->v[i].name)) {
			if (prev->rcpt != hs->v[i].rcpt)
				input_err(
				    &ld->e, hs->v[i].line,
				    "selector '%s%s' already belongs to recipient '%s' (line %lu)",
				    prefix, hs->v[i].name, r->rc[prev->rcpt].pub.name, prev->line);
			free(hs->v[i].name);
			continue;
		}
		hs->v[w++] = hs->v[i];
	}
	hs->len = w;
}

static int parse_row(void *arg, struct csv_reader *cr, const int *col)
{
	struct rcpt_loader *ld = arg;
	struct recipients *r = ld->r;
	unsigned long line = csv_line(cr);
	const char *name = csv_field(cr, col[0]);
	const char *kstr = csv_field(cr, col[1]);
	const struct rcpt_ent *e;
	enum rcpt_kind kind;
	char *match, *tok, *save = NULL;
	unsigned nsel = 0;
	__u32 idx;
	int err = 0;

	if (!*name) {
		input_err(&ld->e, line, "empty recipient (expected a recipient name)");
		return 0;
	}
	if (!utf8_valid(name, csv_field_len(cr, col[0]))) {
		input_err(&ld->e, line, "recipient name is not valid UTF-8");
		return 0;
	}
	kind = kind_parse(kstr);
	if (kind == RK_UNKNOWN) {
		input_err(&ld->e, line,
			  "unknown kind '%s' (expected first-party, processor or third-party)",
			  kstr);
		return 0;
	}
	e = find_ent(r, name);
	if (e && e->pub.kind != kind) {
		input_err(&ld->e, line, "recipient '%s' is %s here but %s on line %lu", name,
			  rcpt_kind_name(kind), rcpt_kind_name(e->pub.kind), e->line);
		return 0;
	}
	if (e) {
		idx = (__u32)(e - r->rc);
	} else {
		err = add_rcpt(r, name, kind, line, &idx);
		if (err)
			return err;
	}

	match = strdup(csv_field(cr, col[2]));
	if (!match)
		return -ENOMEM;
	for (tok = strtok_r(match, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		nsel++;
		err = add_selector(r, ld, tok, idx, line);
		if (err)
			goto out;
	}
	if (!nsel)
		input_err(
		    &ld->e, line,
		    "empty match for recipient '%s' (expected IP, IP:port, CIDR, host or *.domain)",
		    name);
out:
	free(match);
	return err;
}

int recipients_load(struct recipients **out, const char *path)
{
	static const char *const names[] = {"recipient", "kind", "match"};
	static const struct csv_table table = {
	    .what = "recipients", .cols = names, .ncols = 3, .missing_lists_expected = 1};
	struct rcpt_loader ld = {0};
	struct recipients *r;
	int col[3], err;

	*out = NULL;
	ld.r = r = calloc(1, sizeof(*r));
	if (!r) {
		err = -ENOMEM;
		goto out;
	}
	err = trie_init(&r->t4);
	if (!err)
		err = trie_init(&r->t6);
	if (!err)
		err = csv_table_read(path, &table, &ld.e, col, parse_row, &ld);
	if (err)
		goto out;
	ipport_finish(r, &ld);
	hostset_finish(r, &r->hosts, &ld, "");
	hostset_finish(r, &r->wild, &ld, "*.");
	input_errs_done(&ld.e);
	err = ld.e.nerr ? -EINVAL : 0;
out:
	if (err == -ENOMEM)
		pr_err("%s: %s", path, strerror(ENOMEM));
	if (err)
		recipients_free(r);
	else
		*out = r;
	return err;
}

static void hostset_free(struct hostset *hs)
{
	for (size_t i = 0; i < hs->len; i++)
		free(hs->v[i].name);
	free(hs->v);
}

void recipients_free(struct recipients *r)
{
	if (!r)
		return;
	hostset_free(&r->wild);
	hostset_free(&r->hosts);
	free(r->ipp);
	free(r->t6.n);
	free(r->t4.n);
	free(r->byname);
	for (size_t i = 0; i < r->nrc; i++)
		free((char *)r->rc[i].pub.name);
	free(r->rc);
	free(r);
}

static const struct hostsel *hostset_find(const struct hostset *hs, const char *name)
{
	struct hostsel key = {.name = (char *)name};

	if (!hs->len)
		return NULL;
	return bsearch(&key, hs->v, hs->len, sizeof(*hs->v), hostsel_cmp);
}

/*
 * Normalise a Host/SNI value into out: lower case, ":port" and one trailing dot removed.
 * Returns 0, or -EINVAL for an IP literal or a name too long to be a DNS name.
 */
static int host_norm(const char *in, char *out, size_t outsz)
{
	const char *colon = strchr(in, ':');
	size_t len = colon ? (size_t)(colon - in) : strlen(in);

	/* "[v6]:port" or a bare IPv6 literal: not a name */
	if (in[0] == '[' || (colon && strchr(colon + 1, ':')))
		return -EINVAL;
	if (len && in[len - 1] == '.')
		len--;
	if (!len || len >= outsz)
		return -EINVAL;
	for (size_t i = 0; i < len; i++)
		out[i] = lower(in[i]);
	out[len] = '\0';
	return 0;
}

static const struct recipient *resolve_host(const struct recipients *r, const char *host)
{
	char name[HOST_MAX + 1];
	const struct hostsel *h;

	if (!host || host_norm(host, name, sizeof(name)))
		return NULL;
	h = hostset_find(&r->hosts, name);
	if (h)
		return &r->rc[h->rcpt].pub;
	/* the suffix after the leftmost dot is the longest a wildcard can match */
	for (const char *p = strchr(name, '.'); p; p = strchr(p + 1, '.')) {
		h = hostset_find(&r->wild, p + 1);
		if (h)
			return &r->rc[h->rcpt].pub;
	}
	return NULL;
}

const struct recipient *recipients_resolve(const struct recipients *r, int family, const void *addr,
					   __u16 port, const char *host)
{
	struct ipport key = {0};
	const struct ipport *hit;
	__s32 idx;

	if (!r)
		return NULL;
	if (addr && family == AF_INET) {
		memcpy(key.addr, addr, 4);
	} else if (addr && family == AF_INET6) {
		if (is_v4_mapped(addr)) {
			memcpy(key.addr, (const __u8 *)addr + 12, 4);
		} else {
			memcpy(key.addr, addr, 16);
			key.v6 = 1;
		}
	} else {
		return resolve_host(r, host);
	}

	key.port = port;
	if (r->nipp) {
		hit = bsearch(&key, r->ipp, r->nipp, sizeof(*r->ipp), ipport_cmp);
		if (hit)
			return &r->rc[hit->rcpt].pub;
	}
	idx = key.v6 ? trie_lookup(&r->t6, key.addr, 128) : trie_lookup(&r->t4, key.addr, 32);
	if (idx >= 0)
		return &r->rc[idx].pub;
	return resolve_host(r, host);
}
