// SPDX-License-Identifier: GPL-2.0-only
/* The recipients table as a list of selectors, for enforce mode's kernel maps. */
#include <string.h>

#include "verdict/recipients.h"
#include "verdict/recipients_int.h"

size_t recipients_count(const struct recipients *r)
{
	return r->nrc;
}

const struct recipient *recipients_at(const struct recipients *r, size_t i)
{
	return i < r->nrc ? &r->rc[i].pub : NULL;
}

size_t recipients_index(const struct recipients *r, const struct recipient *rc)
{
	/* pub is the first member of each rcpt_ent */
	return (size_t)((const struct rcpt_ent *)(const void *)rc - r->rc);
}

const char *recipients_country(const struct recipients *r, size_t i)
{
	const char *c = NULL;

	for (size_t k = 0; k < r->nrows; k++) {
		const struct rrow *w = &r->rows[k];

		if (w->rcpt != i)
			continue;
		if (!w->country[0] || (c && strcmp(c, w->country)))
			return NULL;
		c = w->country;
	}
	return c;
}

/* Depth-first over the trie: every node that ends a prefix, with its address bits in a. */
static int trie_walk(const struct recipients *r, const struct trie *t, size_t node, __u8 *a,
		     unsigned depth, int v6, int (*fn)(const struct rsel *, void *), void *arg)
{
	int err;

	if (t->n[node].row >= 0) {
		struct rsel s = {.type = RSEL_NET, .v6 = v6, .plen = depth};

		memcpy(s.addr, a, 16);
		s.rcpt = r->rows[t->n[node].row].rcpt;
		err = fn(&s, arg);
		if (err)
			return err;
	}
	for (int b = 0; b < 2; b++) {
		size_t c = t->n[node].child[b];

		if (!c)
			continue;
		if (b)
			a[depth / 8] |= (__u8)(0x80 >> depth % 8);
		err = trie_walk(r, t, c, a, depth + 1, v6, fn, arg);
		a[depth / 8] &= (__u8) ~(0x80 >> depth % 8);
		if (err)
			return err;
	}
	return 0;
}

static int hosts_walk(const struct recipients *r, const struct hostset *hs, enum rsel_type type,
		      int (*fn)(const struct rsel *, void *), void *arg)
{
	for (size_t i = 0; i < hs->len; i++) {
		struct rsel s = {.type = type,
				 .host = hs->v[i].name,
				 .has_path = hs->v[i].path != NULL,
				 .rcpt = r->rows[hs->v[i].row].rcpt};
		int err = fn(&s, arg);

		if (err)
			return err;
	}
	return 0;
}

int recipients_walk(const struct recipients *r, int (*fn)(const struct rsel *s, void *arg),
		    void *arg)
{
	__u8 a[16] = {0};
	int err = 0;

	if (r->t4.len)
		err = trie_walk(r, &r->t4, 0, a, 0, 0, fn, arg);
	if (!err && r->t6.len)
		err = trie_walk(r, &r->t6, 0, a, 0, 1, fn, arg);
	for (size_t i = 0; !err && i < r->nipp; i++) {
		struct rsel s = {.type = RSEL_IPPORT,
				 .v6 = r->ipp[i].v6,
				 .port = r->ipp[i].port,
				 .rcpt = r->rows[r->ipp[i].row].rcpt};

		memcpy(s.addr, r->ipp[i].addr, 16);
		err = fn(&s, arg);
	}
	if (!err)
		err = hosts_walk(r, &r->hosts, RSEL_HOST, fn, arg);
	if (!err)
		err = hosts_walk(r, &r->wild, RSEL_WILD, fn, arg);
	return err;
}
