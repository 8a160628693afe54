// SPDX-License-Identifier: GPL-2.0-only
/* The compact in-memory index of a fingerprint DB (the FPDB_COMPACT form; layout in fpdb_int.h). */
#define _GNU_SOURCE /* asprintf, mkostemp */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "fpdb/fpfile.h"
#include "fpdb/fpdb_int.h"
#include "cs_hash.h"
#include "fpdb/keyfile.h"
#include "lib/fileio.h"
#include "lib/log.h"
#include "lib/util.h"

/* Bits to store any of n values 0..n-1. */
__u32 bits_for(__u64 n)
{
	return n <= 1 ? 0 : 64 - (__u32)__builtin_clzll(n - 1);
}

static __u64 get_bits(const __u64 *w, __u64 pos, __u32 width)
{
	__u64 i = pos >> 6, v;
	__u32 s = pos & 63;

	if (!width)
		return 0;
	v = w[i] >> s;
	if (s && s + width > 64)
		v |= w[i + 1] << (64 - s);
	return width == 64 ? v : v & ((1ULL << width) - 1);
}

/* w must be zero at the destination bits. */
static void put_bits(__u64 *w, __u64 pos, __u32 width, __u64 v)
{
	__u64 i = pos >> 6;
	__u32 s = pos & 63;

	if (!width)
		return;
	w[i] |= v << s;
	if (s && s + width > 64)
		w[i + 1] |= v >> (64 - s);
}

static __u32 kind_key(__u8 field, __u8 part, __u8 nparts, __u8 variant)
{
	return field | (__u32)part << 8 | (__u32)nparts << 16 | (__u32)variant << 24;
}

static __u32 kind_hash(__u32 k)
{
	return (k * 0x9e3779b1u) >> 7;
}

/* Index of e's kind, added when new. -ENOMEM or >= 0. */
static long kind_index(struct fpdb_index *ix, const struct fp_entry *e)
{
	__u32 k = kind_key(e->field, e->part, e->nparts, e->variant), i;

	if ((__u64)(ix->nkinds + 1) * 2 > (__u64)ix->kmask + 1) {
		__u32 n = ix->kslot ? (ix->kmask + 1) * 2 : 64;
		__u32 *t = calloc(n, sizeof(*t));
		struct fp_kind *kinds = realloc(ix->kinds, (size_t)n / 2 * sizeof(*kinds));

		if (kinds)
			ix->kinds = kinds;
		if (!t || !kinds) {
			free(t);
			return -ENOMEM;
		}
		free(ix->kslot);
		ix->kslot = t;
		ix->kmask = n - 1;
		for (__u32 j = 0; j < ix->nkinds; j++) {
			const struct fp_kind *q = &ix->kinds[j];

			for (i = kind_hash(kind_key(q->field, q->part, q->nparts, q->variant)) &
				 ix->kmask;
			     t[i]; i = (i + 1) & ix->kmask)
				;
			t[i] = j + 1;
		}
	}
	for (i = kind_hash(k) & ix->kmask; ix->kslot[i]; i = (i + 1) & ix->kmask) {
		const struct fp_kind *q = &ix->kinds[ix->kslot[i] - 1];

		if (kind_key(q->field, q->part, q->nparts, q->variant) == k)
			return ix->kslot[i] - 1;
	}
	ix->kinds[ix->nkinds] = (struct fp_kind){e->field, e->part, e->nparts, e->variant};
	ix->kslot[i] = ++ix->nkinds;
	return ix->nkinds - 1;
}

void ix_free(struct fpdb_index *ix)
{
	if (!ix)
		return;
	for (unsigned r = 0; r < FPDB_LOOKUP_RING; r++)
		free(ix->ring[r].e);
	free(ix->dir);
	free(ix->rec);
	free(ix->groups);
	free(ix->mrec);
	free(ix->kinds);
	free(ix->kslot);
	free(ix);
}

/* Start an index of at most n entries of nsub subjects. */
struct fpdb_index *ix_new(__u32 n, __u32 nsub)
{
	struct fpdb_index *ix = calloc(1, sizeof(*ix));
	__u32 nb = bits_for((__u64)n + 1);

	if (!ix)
		return NULL;
	/* 2^dir_bits ~ n/16..n/32 */
	ix->dir_bits = nb > 5 ? nb - 5 : 0;
	ix->rem_bits = 64 - ix->dir_bits;
	ix->subj_bits = bits_for(nsub);
	ix->dir = calloc(((size_t)1 << ix->dir_bits) + 1, sizeof(*ix->dir));
	if (!ix->dir) {
		ix_free(ix);
		return NULL;
	}
	return ix;
}

__u64 ix_bucket(const struct fpdb_index *ix, __u64 fp)
{
	return ix->dir_bits ? fp >> ix->rem_bits : 0;
}

__u64 ix_remof(const struct fpdb_index *ix, __u64 fp)
{
	return ix->rem_bits == 64 ? fp : fp & ((1ULL << ix->rem_bits) - 1);
}

/* Between the passes: bucket starts, record widths, zeroed records. 0 or -ENOMEM. */
int ix_layout(struct fpdb_index *ix)
{
	size_t nb = (size_t)1 << ix->dir_bits;

	for (size_t b = 0; b < nb; b++)
		ix->dir[b + 1] += ix->dir[b];
	ix->kind_bits = bits_for(ix->nkinds);
	ix->rec_bits = ix->rem_bits + ix->subj_bits + ix->kind_bits;
	ix->rec = calloc(((__u64)ix->nsingle * ix->rec_bits + 63) / 64 + 1, sizeof(*ix->rec));
	ix->groups = calloc(ix->ngroups ? ix->ngroups : 1, sizeof(*ix->groups));
	ix->mrec = calloc(((__u64)ix->ngrouped * (ix->subj_bits + ix->kind_bits) + 63) / 64 + 1,
			  sizeof(*ix->mrec));
	return ix->rec && ix->groups && ix->mrec ? 0 : -ENOMEM;
}

/* Kind index of e for a record: -EINVAL if pass 1 did not see it (the file changed). */
static long ix_kind2(struct fpdb_index *ix, const struct fp_entry *e)
{
	long k = kind_index(ix, e);

	if (k >= 0 && (__u64)k >= (1ULL << ix->kind_bits))
		return -EINVAL;
	return k;
}

static int ix_single(struct fpdb_index *ix, struct ix_pass *p, const struct fp_entry *e)
{
	__u64 b = ix_bucket(ix, e->fp), pos;
	long k;

	if (p->pass == 1) {
		ix->nsingle++;
		ix->dir[b + 1]++;
		return 0;
	}
	k = ix_kind2(ix, e);
	if (k < 0)
		return (int)k;
	if (p->s >= ix->nsingle || p->s < ix->dir[b] || p->s >= ix->dir[b + 1])
		return -EINVAL;
	pos = (__u64)p->s++ * ix->rec_bits;
	put_bits(ix->rec, pos, ix->rem_bits, ix_remof(ix, e->fp));
	put_bits(ix->rec, pos + ix->rem_bits, ix->subj_bits, e->subject);
	put_bits(ix->rec, pos + ix->rem_bits + ix->subj_bits, ix->kind_bits, (__u64)k);
	return 0;
}

/* An entry of a group; first: it starts the group. */
static int ix_grouped(struct fpdb_index *ix, struct ix_pass *p, const struct fp_entry *e, int first)
{
	__u32 w = ix->subj_bits + ix->kind_bits;
	long k;

	if (p->pass == 1) {
		ix->ngroups += first;
		ix->ngrouped++;
		return 0;
	}
	k = ix_kind2(ix, e);
	if (k < 0)
		return (int)k;
	if (first) {
		if (p->g >= ix->ngroups)
			return -EINVAL;
		ix->groups[p->g++] = (struct fp_group){e->fp, p->m, 0};
	}
	if (p->m >= ix->ngrouped)
		return -EINVAL;
	put_bits(ix->mrec, (__u64)p->m * w, ix->subj_bits, e->subject);
	put_bits(ix->mrec, (__u64)p->m * w + ix->subj_bits, ix->kind_bits, (__u64)k);
	p->m++;
	ix->groups[p->g - 1].n++;
	return 0;
}

/* The next entry of a pass, in fp_entry_cmp order. 0, -ENOMEM or -EINVAL. */
int ix_feed(struct fpdb_index *ix, struct ix_pass *p, const struct fp_entry *e)
{
	int err = 0;

	if (p->pass == 1) {
		long k = kind_index(ix, e);

		if (k < 0)
			return (int)k;
	}
	if (p->run && e->fp == p->prev.fp) {
		if (p->run == 1)
			err = ix_grouped(ix, p, &p->prev, 1);
		if (!err)
			err = ix_grouped(ix, p, e, 0);
		p->run++;
		return err;
	}
	if (p->run == 1)
		err = ix_single(ix, p, &p->prev);
	p->prev = *e;
	p->run = 1;
	return err;
}

/* End of a pass: the last run; after pass 2 the counts must be those of pass 1. */
int ix_end(struct fpdb_index *ix, struct ix_pass *p)
{
	int err = p->run == 1 ? ix_single(ix, p, &p->prev) : 0;

	p->run = 0;
	if (err || p->pass == 1)
		return err;
	if (p->s != ix->nsingle || p->m != ix->ngrouped || p->g != ix->ngroups)
		return -EINVAL;
	/* the kind lookup table is not needed any more */
	free(ix->kslot);
	ix->kslot = NULL;
	ix->kmask = 0;
	return 0;
}

__u64 ix_rem(const struct fpdb_index *ix, __u32 i)
{
	return get_bits(ix->rec, (__u64)i * ix->rec_bits, ix->rem_bits);
}

static void ix_kind_to(const struct fpdb_index *ix, __u64 k, struct fp_entry *e)
{
	const struct fp_kind *q = &ix->kinds[k];

	e->field = q->field;
	e->part = q->part;
	e->nparts = q->nparts;
	e->variant = q->variant;
}

/* Single i, which lies in bucket b. */
void ix_get_single(const struct fpdb_index *ix, __u32 i, __u64 b, struct fp_entry *e)
{
	__u64 pos = (__u64)i * ix->rec_bits;
	__u64 rem = get_bits(ix->rec, pos, ix->rem_bits);

	e->fp = ix->dir_bits ? b << ix->rem_bits | rem : rem;
	e->subject = (__u32)get_bits(ix->rec, pos + ix->rem_bits, ix->subj_bits);
	ix_kind_to(ix, get_bits(ix->rec, pos + ix->rem_bits + ix->subj_bits, ix->kind_bits), e);
}

/* Grouped entry m, of fingerprint fp. */
void ix_get_grouped(const struct fpdb_index *ix, __u32 m, __u64 fp, struct fp_entry *e)
{
	__u64 pos = (__u64)m * (ix->subj_bits + ix->kind_bits);

	e->fp = fp;
	e->subject = (__u32)get_bits(ix->mrec, pos, ix->subj_bits);
	ix_kind_to(ix, get_bits(ix->mrec, pos + ix->subj_bits, ix->kind_bits), e);
}

/* The bucket holding single i: the last b with dir[b] <= i. */
__u64 ix_bucket_of(const struct fpdb_index *ix, __u32 i)
{
	__u64 lo = 0, hi = (__u64)1 << ix->dir_bits;

	while (hi - lo > 1) {
		__u64 mid = lo + (hi - lo) / 2;

		if (ix->dir[mid] <= i)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* The group holding grouped entry m: the last g with groups[g].first <= m. */
__u32 ix_group_of(const struct fpdb_index *ix, __u32 m)
{
	__u32 lo = 0, hi = ix->ngroups;

	while (hi - lo > 1) {
		__u32 mid = lo + (hi - lo) / 2;

		if (ix->groups[mid].first <= m)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}
