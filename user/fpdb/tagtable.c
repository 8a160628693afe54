// SPDX-License-Identifier: GPL-2.0-only
/*
 * The kernel's tag table (include/cs_abi.h struct cs_bucket, include/cs_hash.h addressing):
 * sizing, partial-key cuckoo insertion and the fill from a fingerprint DB. Used by the loader
 * (user/monitor/loader.c).
 */
#include <errno.h>
#include <stdlib.h>

#include "fpdb/tagtable.h"
#include "cs_hash.h"
#include "lib/fields.h"
#include "fpdb/fpfile.h"

static void bucket_insert(struct cs_bucket *b, __u32 tag)
{
	for (int i = 0; i < CS_TAG_SLOTS; i++) {
		if (!b->tag[i]) {
			b->tag[i] = tag;
			return;
		}
	}
}

/* Slots in use; *has points to the slot holding tag (weak flag ignored), or NULL. */
static int bucket_fill(struct cs_bucket *b, __u32 tag, __u32 **has)
{
	int n = 0;

	*has = NULL;
	for (int i = 0; i < CS_TAG_SLOTS; i++) {
		if (b->tag[i])
			n++;
		if ((b->tag[i] | CS_TAG_WEAK) == (tag | CS_TAG_WEAK))
			*has = &b->tag[i];
	}
	return n;
}

/*
 * Tag table sizing: the fewest buckets (any count, the kernel scales with a multiply) that keep
 * the slots at most TT_LOAD_PCT % full. Partial-key cuckoo insertion (tt_insert) fills 8-slot
 * buckets to ~98% before it fails, so 90% leaves room; placing each tag in the emptier of its
 * two buckets without moving others needed <= 75% (6 per bucket). Sized exactly, 151M
 * fingerprints take 640 MiB instead of the 1 GiB of the next power of two.
 */
#define TT_LOAD_PCT  90
#define TT_MAX_KICKS 2000

__u32 tagtable_nbuckets(size_t n)
{
	__u64 nb = ((__u64)n * 100 + CS_TAG_SLOTS * TT_LOAD_PCT - 1) / (CS_TAG_SLOTS * TT_LOAD_PCT);

	if (nb < 1)
		nb = 1;
	return nb > TT_MAX_BUCKETS ? TT_MAX_BUCKETS : (__u32)nb;
}

static __u64 tt_rand(__u64 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/*
 * Insert the tag of fp. A tag is kept once per bucket pair: the same tag already there (the same
 * fingerprint or a tag collision) stays weak only if both are weak-only. When both buckets are
 * full, a random resident is moved to the other bucket of its own pair, which the tag alone gives
 * (partial-key cuckoo hashing), and so on. 0, or -ENOSPC after TT_MAX_KICKS moves: the table then
 * misses a tag and must be rebuilt larger.
 */
static int tt_insert(struct cs_bucket *t, __u32 nb, __u64 fp, int weak, __u64 *rng)
{
	__u32 tag = cs_tag(fp) | (weak ? CS_TAG_WEAK : 0);
	__u32 b1 = cs_bucket1(fp, nb), b2 = cs_bucket2(fp, nb), b;
	__u32 *h1, *h2, *h;
	int f1 = bucket_fill(&t[b1], tag, &h1), f2 = bucket_fill(&t[b2], tag, &h2);

	if (h1 || h2) {
		*(h1 ? h1 : h2) &= tag | ~CS_TAG_WEAK;
		return 0;
	}
	if (f1 < CS_TAG_SLOTS || f2 < CS_TAG_SLOTS) {
		bucket_insert(f1 <= f2 ? &t[b1] : &t[b2], tag);
		return 0;
	}
	b = tt_rand(rng) & 1 ? b1 : b2;
	for (int k = 0; k < TT_MAX_KICKS; k++) {
		__u32 *slot = &t[b].tag[tt_rand(rng) % CS_TAG_SLOTS], victim = *slot;

		*slot = tag;
		tag = victim;
		b = cs_bucket_alt(b, tag, nb);
		if (bucket_fill(&t[b], tag, &h) < CS_TAG_SLOTS || h) {
			if (h)
				*h &= tag | ~CS_TAG_WEAK;
			else
				bucket_insert(&t[b], tag);
			return 0;
		}
	}
	return -ENOSPC;
}

/*
 * Distinct fingerprints of a DB, each weak-only or not (the entries of one fingerprint are
 * consecutive in fpdb_iter_next's order).
 */
struct fp_runs {
	struct fpdb_iter it;
	struct fp_entry next;
	int have;
};

static void fp_runs_init(struct fp_runs *r, const struct fpdb *db)
{
	fpdb_iter_init(&r->it, db);
	r->have = fpdb_iter_next(&r->it, &r->next);
}

static int fp_runs_next(struct fp_runs *r, __u64 *fp, int *weak)
{
	if (!r->have)
		return 0;
	*fp = r->next.fp;
	*weak = field_is_weak(r->next.field);
	while ((r->have = fpdb_iter_next(&r->it, &r->next)) && r->next.fp == *fp)
		if (!field_is_weak(r->next.field))
			*weak = 0;
	return 1;
}

__u32 tagtable_build(const __u64 *fps, const __u8 *weak, size_t n, struct cs_bucket **out)
{
	__u32 nb = tagtable_nbuckets(n);

	for (;;) {
		struct cs_bucket *t = calloc(nb, sizeof(*t));
		__u64 rng = 0x9e3779b97f4a7c15ULL;
		int err = 0;

		if (!t)
			return 0;
		for (size_t i = 0; i < n && !err; i++)
			err = tt_insert(t, nb, fps[i], weak && weak[i], &rng);
		if (!err) {
			*out = t;
			return nb;
		}
		free(t);
		if (nb >= TT_MAX_BUCKETS)
			return 0;
		nb = nb + nb / 8 + 1 > TT_MAX_BUCKETS ? TT_MAX_BUCKETS : nb + nb / 8 + 1;
	}
}

size_t tagtable_count_db(const struct fpdb *db)
{
	struct fp_runs r;
	size_t n = 0;
	__u64 fp;
	int w;

	fp_runs_init(&r, db);
	while (fp_runs_next(&r, &fp, &w))
		n++;
	return n;
}

/* Fingerprints read ahead of the insertion, their buckets prefetched (a power of two). */
#define TT_AHEAD 16

int tagtable_fill_db(struct cs_bucket *t, __u32 nb, const struct fpdb *db, __u64 seed)
{
	__u64 rng = seed | 1, fps[TT_AHEAD];
	int err = 0, weak[TT_AHEAD];
	unsigned head = 0, tail = 0;
	struct fp_runs r;

	/*
	 * The two buckets of a fingerprint are random in a table of up to 640 MiB: two cache and
	 * TLB misses per insert. Keep TT_AHEAD of them in flight.
	 */
	fp_runs_init(&r, db);
	for (;;) {
		while (tail - head < TT_AHEAD &&
		       fp_runs_next(&r, &fps[tail % TT_AHEAD], &weak[tail % TT_AHEAD])) {
			__u64 fp = fps[tail++ % TT_AHEAD];

			__builtin_prefetch(&t[cs_bucket1(fp, nb)], 1);
			__builtin_prefetch(&t[cs_bucket2(fp, nb)], 1);
		}
		if (err || head == tail)
			return err;
		err = tt_insert(t, nb, fps[head % TT_AHEAD], weak[head % TT_AHEAD], &rng);
		head++;
	}
}
