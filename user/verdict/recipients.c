// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cs_hash.h"
#include "lib/csv.h"
#include "lib/csvtable.h"
#include "lib/iso3166.h"
#include "lib/log.h"
#include "lib/util.h"
#include "verdict/recipients.h"
#include "verdict/recipients_int.h"
#include "verdict/selector.h"

/* recipients.csv columns: the first three required, country and purpose optional (spec §7) */
enum { RC_NAME, RC_KIND, RC_MATCH, RC_COUNTRY, RC_PURPOSE, RC_MAX };

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

static __u64 str_hash(const char *s)
{
	return cs_acc_str(CS_FNV_OFFSET, s);
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
	t->n[0] = (struct trie_node){.row = -1};
	t->len = 1;
	return 0;
}

static int addr_bit(const __u8 *a, unsigned i)
{
	return (a[i / 8] >> (7 - i % 8)) & 1;
}

/*
 * Two rows whose selectors meet: 0 when they resolve alike (same recipient, country and
 * purpose), 1 when they name other recipients, 2 when one recipient gives them other countries
 * or purposes.
 */
static int row_clash(const struct recipients *r, __u32 a, __u32 b)
{
	const struct rrow *x = &r->rows[a], *y = &r->rows[b];

	if (x->rcpt != y->rcpt)
		return 1;
	if (strcmp(x->country, y->country) ||
	    strcmp(x->purpose ? x->purpose : "", y->purpose ? y->purpose : ""))
		return 2;
	return 0;
}

/* Insert prefix a/plen for row. Returns 0, -EEXIST with *owner set on a clash, or -ENOMEM. */
static int trie_insert(struct recipients *r, struct trie *t, const __u8 *a, unsigned plen,
		       __u32 row, __u32 *owner)
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
		t->n[t->len] = (struct trie_node){.row = -1};
		t->n[node].child[b] = (__u32)t->len;
		node = t->len++;
	}
	if (t->n[node].row >= 0 && row_clash(r, (__u32)t->n[node].row, row)) {
		*owner = (__u32)t->n[node].row;
		return -EEXIST;
	}
	if (t->n[node].row < 0)
		t->n[node].row = (__s32)row;
	return 0;
}

/* Row of the longest prefix holding one, -1 if none. O(address bits). */
static __s32 trie_lookup(const struct trie *t, const __u8 *a, unsigned bits)
{
	size_t node = 0;
	__s32 best;

	if (!t->len)
		return -1;
	best = t->n[0].row;
	for (unsigned i = 0; i < bits; i++) {
		node = t->n[node].child[addr_bit(a, i)];
		if (!node)
			break;
		if (t->n[node].row >= 0)
			best = t->n[node].row;
	}
	return best;
}

static int add_host(struct hostset *hs, const struct sel *s, __u32 row)
{
	char *name, *path = NULL;
	int err;

	err = grow_array((void **)&hs->v, &hs->cap, hs->len + 1, sizeof(*hs->v), 16);
	if (err)
		return err;
	name = strdup(s->host);
	if (name && s->path)
		path = strdup(s->path);
	if (!name || (s->path && !path)) {
		free(name);
		return -ENOMEM;
	}
	hs->v[hs->len++] = (struct hostsel){
	    .name = name, .path = path, .plen = path ? strlen(path) : 0, .row = row};
	return 0;
}

/* "selector 'x' ..." for a clash of row with owner (row_clash() != 0). */
static void clash_err(struct rcpt_loader *ld, const char *sel, __u32 owner, __u32 row)
{
	const struct recipients *r = ld->r;
	const struct rrow *o = &r->rows[owner];

	if (row_clash(r, owner, row) == 1)
		input_err(&ld->e, r->rows[row].line,
			  "selector '%s' already belongs to recipient '%s' (line %lu)", sel,
			  r->rc[o->rcpt].pub.name, o->line);
	else
		input_err(
		    &ld->e, r->rows[row].line,
		    "selector '%s' has country '%s' and purpose '%s' on line %lu (expected one "
		    "country and purpose per selector)",
		    sel, o->country, o->purpose ? o->purpose : "", o->line);
}

static int add_selector(struct recipients *r, struct rcpt_loader *ld, const char *tok, __u32 row)
{
	struct sel s;
	__u32 owner = 0;
	int err;

	if (sel_parse(tok, &s)) {
		input_err(&ld->e, r->rows[row].line,
			  "bad selector '%s' (expected IP, IP:port, CIDR, host or *.domain)", tok);
		return 0;
	}
	switch (s.type) {
	case SEL_PREFIX:
		err = trie_insert(r, s.v6 ? &r->t6 : &r->t4, s.addr, s.plen, row, &owner);
		if (err == -EEXIST) {
			clash_err(ld, tok, owner, row);
			return 0;
		}
		return err;
	case SEL_IPPORT:
		err = grow_array((void **)&r->ipp, &r->capipp, r->nipp + 1, sizeof(*r->ipp), 16);
		if (err)
			return err;
		r->ipp[r->nipp] = (struct ipport){.v6 = (__u8)s.v6, .port = s.port, .row = row};
		memcpy(r->ipp[r->nipp].addr, s.addr, 16);
		r->nipp++;
		return 0;
	case SEL_HOST:
		return add_host(&r->hosts, &s, row);
	case SEL_WILD:
		return add_host(&r->wild, &s, row);
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

/* rows are in file order: the earlier row of a repeated selector sorts first */
static int ipport_cmp_row(const void *a, const void *b)
{
	const struct ipport *x = a, *y = b;
	int c = ipport_cmp(a, b);

	if (c)
		return c;
	return x->row < y->row ? -1 : x->row > y->row;
}

/* By name, then the longest path first (none last), then path, then row. */
static int hostsel_cmp_row(const void *a, const void *b)
{
	const struct hostsel *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	if (x->plen != y->plen)
		return x->plen > y->plen ? -1 : 1;
	c = strcmp(x->path ? x->path : "", y->path ? y->path : "");
	if (c)
		return c;
	return x->row < y->row ? -1 : x->row > y->row;
}

/* Sort, drop repeats of one row's kind, report a selector two rows resolve differently. */
static void ipport_finish(struct recipients *r, struct rcpt_loader *ld)
{
	size_t w = 0;

	if (!r->nipp)
		return;
	qsort(r->ipp, r->nipp, sizeof(*r->ipp), ipport_cmp_row);
	for (size_t i = 0; i < r->nipp; i++) {
		const struct ipport *prev = w ? &r->ipp[w - 1] : NULL;

		if (prev && !ipport_cmp(prev, &r->ipp[i])) {
			if (row_clash(r, prev->row, r->ipp[i].row)) {
				char a[INET6_ADDRSTRLEN], sel[INET6_ADDRSTRLEN + 16];

				inet_ntop(r->ipp[i].v6 ? AF_INET6 : AF_INET, r->ipp[i].addr, a,
					  sizeof(a));
				snprintf(sel, sizeof(sel), "%s%s%s:%u", r->ipp[i].v6 ? "[" : "", a,
					 r->ipp[i].v6 ? "]" : "", r->ipp[i].port);
				clash_err(ld, sel, prev->row, r->ipp[i].row);
			}
			continue;
		}
		r->ipp[w++] = r->ipp[i];
	}
	r->nipp = w;
}

static void hostsel_free(struct hostsel *h)
{
	free(h->name);
	free(h->path);
}

static void hostset_finish(struct recipients *r, struct hostset *hs, struct rcpt_loader *ld,
			   const char *prefix)
{
	size_t w = 0;

	if (!hs->len)
		return;
	qsort(hs->v, hs->len, sizeof(*hs->v), hostsel_cmp_row);
	for (size_t i = 0; i < hs->len; i++) {
		const struct hostsel *prev = w ? &hs->v[w - 1] : NULL;
		const struct hostsel *h = &hs->v[i];

		if (prev && !strcmp(prev->name, h->name) && prev->plen == h->plen &&
		    (!h->plen || !strcmp(prev->path, h->path))) {
			if (row_clash(r, prev->row, h->row)) {
				char sel[SEL_MAX + 4];

				snprintf(sel, sizeof(sel), "%s%s%s", prefix, h->name,
					 h->path ? h->path : "");
				clash_err(ld, sel, prev->row, h->row);
			}
			hostsel_free(&hs->v[i]);
			continue;
		}
		hs->v[w++] = hs->v[i];
	}
	hs->len = w;
}

/* The optional country cell into row: "" or two letters, upper-cased. 0 or an error printed. */
static int parse_country(struct rcpt_loader *ld, unsigned long line, const char *cell,
			 struct rrow *row)
{
	if (!*cell)
		return 0;
	if (!iso3166_valid(cell)) {
		input_err(&ld->e, line,
			  "bad country '%s' (expected an ISO 3166-1 alpha-2 code such as CN or DE)",
			  cell);
		return -EINVAL;
	}
	row->country[0] = cell[0];
	row->country[1] = cell[1];
	return 0;
}

static int parse_row(void *arg, struct csv_reader *cr, const int *col)
{
	struct rcpt_loader *ld = arg;
	struct recipients *r = ld->r;
	unsigned long line = csv_line(cr);
	const char *name = csv_field(cr, col[RC_NAME]);
	const char *kstr = csv_field(cr, col[RC_KIND]);
	const char *purpose = col[RC_PURPOSE] >= 0 ? csv_field(cr, col[RC_PURPOSE]) : "";
	const struct rcpt_ent *e;
	struct rrow row = {.line = line};
	enum rcpt_kind kind;
	char *match, *tok, *save = NULL;
	unsigned nsel = 0;
	__u32 idx;
	int err = 0;

	if (!*name) {
		input_err(&ld->e, line, "empty recipient (expected a recipient name)");
		return 0;
	}
	if (!utf8_valid(name, csv_field_len(cr, col[RC_NAME]))) {
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
	if (col[RC_COUNTRY] >= 0 && parse_country(ld, line, csv_field(cr, col[RC_COUNTRY]), &row))
		return 0;
	if (*purpose && !purpose_valid(purpose)) {
		input_err(&ld->e, line,
			  "bad purpose '%s' (expected 1..%d bytes of UTF-8 text without '|' or "
			  "control characters, e.g. advertising)",
			  purpose, PURPOSE_MAX);
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
	row.rcpt = idx;
	if (*purpose && !(row.purpose = strdup(purpose)))
		return -ENOMEM;
	err = grow_array((void **)&r->rows, &r->caprows, r->nrows + 1, sizeof(*r->rows), 16);
	if (err) {
		free(row.purpose);
		return err;
	}
	r->rows[r->nrows++] = row;

	match = strdup(csv_field(cr, col[RC_MATCH]));
	if (!match)
		return -ENOMEM;
	for (tok = strtok_r(match, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		nsel++;
		err = add_selector(r, ld, tok, (__u32)r->nrows - 1);
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
	static const char *const names[RC_MAX] = {
	    [RC_NAME] = "recipient",  [RC_KIND] = "kind",	[RC_MATCH] = "match",
	    [RC_COUNTRY] = "country", [RC_PURPOSE] = "purpose",
	};
	static const int required[RC_MAX] = {[RC_NAME] = 1, [RC_KIND] = 1, [RC_MATCH] = 1};
	static const struct csv_table table = {.what = "recipients",
					       .cols = names,
					       .required = required,
					       .ncols = RC_MAX,
					       .missing_lists_expected = 1};
	struct rcpt_loader ld = {0};
	struct recipients *r;
	int col[RC_MAX], err;

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
		hostsel_free(&hs->v[i]);
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
	for (size_t i = 0; i < r->nrows; i++)
		free(r->rows[i].purpose);
	free(r->rows);
	free(r);
}

/*
 * A request path under a selector's prefix: the prefix, then the end of the path or a '/', '?',
 * '#' or ';' ("/v1/audience" covers "/v1/audience/x" and "/v1/audience?y", not
 * "/v1/audiences"); a prefix ending in '/' covers whatever follows it.
 */
static int path_under(const struct hostsel *h, const char *path)
{
	char c;

	if (!h->path)
		return 1;
	if (!path || strncmp(path, h->path, h->plen))
		return 0;
	c = path[h->plen];
	return h->path[h->plen - 1] == '/' || !c || c == '/' || c == '?' || c == '#' || c == ';';
}

/* The selector of name whose path covers path, the longest first; NULL if none. */
static const struct hostsel *hostset_find(const struct hostset *hs, const char *name,
					  const char *path)
{
	size_t lo = 0, hi = hs->len;

	/* the first selector of name: they sort longest path first, a path-less one last */
	LOWER_BOUND(lo, hi, mid, strcmp(hs->v[mid].name, name) < 0);
	for (; lo < hs->len && !strcmp(hs->v[lo].name, name); lo++)
		if (path_under(&hs->v[lo], path))
			return &hs->v[lo];
	return NULL;
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
		out[i] = sel_lower(in[i]);
	out[len] = '\0';
	return 0;
}

/* Row of the host selectors, -1 if none: the exact host, then the longest *.domain suffix. */
static __s32 resolve_host(const struct recipients *r, const char *host, const char *path)
{
	char name[HOST_MAX + 1];
	const struct hostsel *h;

	if (!host || host_norm(host, name, sizeof(name)))
		return -1;
	h = hostset_find(&r->hosts, name, path);
	if (h)
		return (__s32)h->row;
	/* the suffix after the leftmost dot is the longest a wildcard can match */
	for (const char *p = strchr(name, '.'); p; p = strchr(p + 1, '.')) {
		h = hostset_find(&r->wild, p + 1, path);
		if (h)
			return (__s32)h->row;
	}
	return -1;
}

static __s32 resolve_row(const struct recipients *r, int family, const void *addr, __u16 port,
			 const char *host, const char *path)
{
	struct ipport key = {0};
	const struct ipport *hit;
	__s32 row;

	if (addr && family == AF_INET) {
		memcpy(key.addr, addr, 4);
	} else if (addr && family == AF_INET6) {
		if (sel_v4_mapped(addr)) {
			memcpy(key.addr, (const __u8 *)addr + 12, 4);
		} else {
			memcpy(key.addr, addr, 16);
			key.v6 = 1;
		}
	} else {
		return resolve_host(r, host, path);
	}

	key.port = port;
	if (r->nipp) {
		hit = bsearch(&key, r->ipp, r->nipp, sizeof(*r->ipp), ipport_cmp);
		if (hit)
			return (__s32)hit->row;
	}
	row = key.v6 ? trie_lookup(&r->t6, key.addr, 128) : trie_lookup(&r->t4, key.addr, 32);
	if (row >= 0)
		return row;
	return resolve_host(r, host, path);
}

const struct recipient *recipients_match(const struct recipients *r, int family, const void *addr,
					 __u16 port, const char *host, const char *path,
					 struct rcpt_match *m)
{
	__s32 row = r ? resolve_row(r, family, addr, port, host, path) : -1;

	*m = (struct rcpt_match){0};
	if (row < 0)
		return NULL;
	m->rcpt = &r->rc[r->rows[row].rcpt].pub;
	m->purpose = r->rows[row].purpose;
	memcpy(m->country, r->rows[row].country, sizeof(m->country));
	m->line = r->rows[row].line;
	return m->rcpt;
}

const struct recipient *recipients_resolve(const struct recipients *r, int family, const void *addr,
					   __u16 port, const char *host)
{
	struct rcpt_match m;

	return recipients_match(r, family, addr, port, host, NULL, &m);
}

int purpose_valid(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > PURPOSE_MAX || s[0] == ' ' || s[n - 1] == ' ' || !utf8_valid(s, n))
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f || s[i] == '|')
			return 0;
	return 1;
}

int recipients_purpose_reach(const struct recipients *r, const char *name, const char *purpose)
{
	const struct rcpt_ent *e = find_ent(r, name);
	int any = 0;

	if (!e)
		return 0;
	for (size_t i = 0; i < r->nrows; i++) {
		if (&r->rc[r->rows[i].rcpt] != e)
			continue;
		if (!r->rows[i].purpose)
			return 2;
		if (purpose && !strcmp(r->rows[i].purpose, purpose))
			any = 1;
	}
	return any;
}
