// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/message.h"

void msg_reset(struct msg *m, const struct cs_event *ev)
{
	m->ev = ev;
	m->nhits = 0;
	m->host = NULL;
	m->http = NULL;
}

int msg_add(struct msg *m, __u64 fp, __u32 start, __u32 end, __u32 enc)
{
	if (m->nhits == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64;
		struct msg_hit *n = realloc(m->hits, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		m->hits = n;
		m->cap = cap;
	}
	m->hits[m->nhits++] = (struct msg_hit){.fp = fp, .start = start, .end = end, .enc = enc};
	return 0;
}

int msg_add_kernel(struct msg *m, const struct cs_hit *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int err = msg_add(m, h[i].fp, h[i].start, h[i].end, 0);

		if (err)
			return err;
	}
	return 0;
}

void msg_release(struct msg *m)
{
	free(m->hits);
	memset(m, 0, sizeof(*m));
}

static int hit_cmp(const void *a, const void *b)
{
	const struct msg_hit *x = a, *y = b;

	if (x->fp != y->fp)
		return x->fp < y->fp ? -1 : 1;
	return 0;
}

/* Offset order for merging: a hit in the send's own bytes before a carried or decoded one. */
static __u32 hit_off(const struct msg_hit *h)
{
	return h->start & ~CS_HIT_SPLIT;
}

size_t msg_unique(struct msg *m)
{
	size_t out = 0;

	if (m->nhits < 2)
		return m->nhits;
	qsort(m->hits, m->nhits, sizeof(m->hits[0]), hit_cmp);
	for (size_t i = 1; i < m->nhits; i++) {
		struct msg_hit *k = &m->hits[out], *h = &m->hits[i];

		if (h->fp != k->fp) {
			m->hits[++out] = *h;
			continue;
		}
		/* the encodings of every copy, the split mark kept, the earliest offset */
		k->enc |= h->enc;
		if (hit_off(h) < hit_off(k)) {
			__u32 split = k->start & CS_HIT_SPLIT;

			k->start = h->start | split;
			k->end = h->end;
		} else {
			k->start |= h->start & CS_HIT_SPLIT;
		}
	}
	m->nhits = out + 1;
	return m->nhits;
}
