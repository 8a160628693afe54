// SPDX-License-Identifier: GPL-2.0-only
/* The fingerprint DB in use: lookups, iteration, subjects, the prefilter, release (fpfile.h). */
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

static __u32 find_in(const struct fpdb *db, __u64 fp, __u32 *first)
{
	const struct fpdb_index *ix = db->ix;
	__u32 lo, hi;
	__u64 rem;

	if (db->entries || !ix) {
		const struct fp_entry *e = db->entries;
		__u32 end = e ? db->nentries : 0;

		lo = 0;
		if (db->map) {
			__u64 k = map_bucket(db->map, fp);

			lo = db->map->dir[k];
			end = db->map->dir[k + 1];
		}
		/* lower bound, then upper bound: a common name part has many entries */
		hi = end;
		LOWER_BOUND(lo, hi, mid, e[mid].fp < fp);
		*first = lo;
		hi = end;
		LOWER_BOUND(lo, hi, mid, e[mid].fp <= fp);
		return lo - *first;
	}
	lo = 0;
	hi = ix->ngroups;
	LOWER_BOUND(lo, hi, mid, ix->groups[mid].fp < fp);
	if (lo < ix->ngroups && ix->groups[lo].fp == fp) {
		*first = ix->nsingle + ix->groups[lo].first;
		return ix->groups[lo].n;
	}
	lo = ix->dir[ix_bucket(ix, fp)];
	hi = ix->dir[ix_bucket(ix, fp) + 1];
	rem = ix_remof(ix, fp);
	LOWER_BOUND(lo, hi, mid, ix_rem(ix, mid) < rem);
	*first = lo;
	return lo < ix->dir[ix_bucket(ix, fp) + 1] && ix_rem(ix, lo) == rem;
}

__u32 fpdb_find(const struct fpdb *db, __u64 fp, __u32 *first)
{
	__u32 n;
	MAP_GUARD(db->map, 0);

	n = find_in(db, fp, first);
	MAP_UNGUARD();
	return n;
}

void fpdb_entry(const struct fpdb *db, __u32 i, struct fp_entry *e)
{
	const struct fpdb_index *ix = db->ix;

	if (db->map) {
		MAP_GUARD(db->map, (void)memset(e, 0, sizeof(*e)));
		*e = db->entries[i];
		MAP_UNGUARD();
	} else if (db->entries)
		*e = db->entries[i];
	else if (i < ix->nsingle)
		ix_get_single(ix, i, ix_bucket_of(ix, i), e);
	else
		ix_get_grouped(ix, i - ix->nsingle, ix->groups[ix_group_of(ix, i - ix->nsingle)].fp,
			       e);
}

/*
 * The next FPDB_ITER_BATCH entries of a mapped DB into it->batch, copied under one guard (with a
 * guard per entry a walk of the 166M entries of 10M subjects with hash variants took 1.05 s warm,
 * now 0.66 s; start-up walks twice), dropping each window of the mapping once read, and all of it
 * at the end. The count; 0 at the end or on a fault (fpdb_failed).
 */
static __u32 map_batch(struct fpdb_iter *it)
{
	const struct fpdb *db = it->db;
	__u32 n = db->nentries - it->i < FPDB_ITER_BATCH ? db->nentries - it->i : FPDB_ITER_BATCH;
	MAP_GUARD(db->map, 0);

	if (!n) {
		MAP_UNGUARD();
		map_drop_all(db->map);
		return 0;
	}
	memcpy(it->batch, &db->entries[it->i], (size_t)n * sizeof(*it->batch));
	it->i += n;
	if (it->i % MAP_WINDOW < n && it->i >= MAP_WINDOW) /* crossed a window's end */
		map_drop(&db->entries[it->i - it->i % MAP_WINDOW - MAP_WINDOW],
			 &db->entries[it->i - it->i % MAP_WINDOW]);
	MAP_UNGUARD();
	it->nbatch = n;
	it->ibatch = 0;
	return n;
}

int fpdb_iter_next(struct fpdb_iter *it, struct fp_entry *e)
{
	const struct fpdb *db = it->db;
	const struct fpdb_index *ix = db->ix;
	__u32 m;

	if (db->map) {
		if (it->nbatch == it->ibatch && !map_batch(it))
			return 0;
		*e = it->batch[it->ibatch++];
		return 1;
	}
	if (it->i >= db->nentries)
		return 0;
	if (db->entries) {
		*e = db->entries[it->i++];
		return 1;
	}
	if (it->i < ix->nsingle) {
		while (ix->dir[it->bucket + 1] <= it->i)
			it->bucket++;
		ix_get_single(ix, it->i++, it->bucket, e);
		return 1;
	}
	/* it->bucket is now the group */
	if (it->i == ix->nsingle)
		it->bucket = 0;
	m = it->i++ - ix->nsingle;
	while (ix->groups[it->bucket].first + ix->groups[it->bucket].n <= m)
		it->bucket++;
	ix_get_grouped(ix, m, ix->groups[it->bucket].fp, e);
	return 1;
}

/* The next of a ring of lookup buffers, with room for n entries; NULL (ENOMEM) if none. */
static struct fp_entry *ring_take(struct ring_buf *ring, unsigned *next, __u32 n)
{
	struct ring_buf *r = &ring[(*next)++ % FPDB_LOOKUP_RING];

	/* a common name part can have 10^5 entries: do not keep such a buffer for long */
	if (r->cap < n || (r->cap > 4096 && n <= 4096)) {
		__u32 cap = n > 16 ? n : 16;
		struct fp_entry *e = realloc(r->e, (size_t)cap * sizeof(*e));

		if (!e) {
			errno = ENOMEM;
			return NULL;
		}
		r->e = e;
		r->cap = cap;
	}
	return r->e;
}

/* A mapped DB's entries [first, first + n) copied out under the guard (NULL, EIO: it faulted). */
static const struct fp_entry *map_copy(const struct fpdb *db, __u64 fp, __u32 *n)
{
	struct fpdb_map *m = db->map;
	struct fp_entry *out;
	__u32 first;
	MAP_GUARD(m, (*n = 0, (const struct fp_entry *)NULL));

	*n = find_in(db, fp, &first);
	out = *n ? ring_take(m->ring, &m->ring_next, *n) : NULL;
	if (out)
		memcpy(out, &db->entries[first], (size_t)*n * sizeof(*out));
	else
		*n = 0;
	MAP_UNGUARD();
	return out;
}

const struct fp_entry *fpdb_lookup(const struct fpdb *db, __u64 fp, __u32 *n)
{
	struct fpdb_index *ix = db->ix;
	struct fp_entry *out;
	__u32 first;

	if (db->map)
		return map_copy(db, fp, n);
	*n = find_in(db, fp, &first);
	if (!*n)
		return NULL;
	if (db->entries)
		return &db->entries[first];
	out = ring_take(ix->ring, &ix->ring_next, *n);
	if (!out) {
		*n = 0;
		return NULL;
	}
	if (first < ix->nsingle)
		ix_get_single(ix, first, ix_bucket(ix, fp), out);
	else
		for (__u32 j = 0; j < *n; j++)
			ix_get_grouped(ix, first - ix->nsingle + j, fp, &out[j]);
	return out;
}

int fpdb_compact(struct fpdb *db)
{
	struct fpdb_index *ix;
	struct ix_pass p = {.pass = 1};
	__u32 i;
	int err = 0;

	if (!db->entries || db->map)
		return 0;
	ix = ix_new(db->nentries, db->nsubjects);
	if (!ix)
		return -ENOMEM;
	for (i = 0; i < db->nentries && !err; i++)
		err = ix_feed(ix, &p, &db->entries[i]);
	if (!err)
		err = ix_end(ix, &p);
	if (!err)
		err = ix_layout(ix);
	p = (struct ix_pass){.pass = 2};
	for (i = 0; i < db->nentries && !err; i++)
		err = ix_feed(ix, &p, &db->entries[i]);
	if (!err)
		err = ix_end(ix, &p);
	if (err) {
		ix_free(ix);
		return err;
	}
	free(db->entries);
	db->entries = NULL;
	ix_free(db->ix);
	db->ix = ix;
	return 0;
}

/* Subject i of a mapped DB into out (FP_SUBJECT_MAX + 1 bytes); "" if the mapping faulted. */
static const char *map_subject(const struct fpdb *db, __u32 i, char *out)
{
	MAP_GUARD(db->map, out);
	const struct fpdb_map *m = db->map;
	__u64 r = db->soff[i / FPDB_SUBJECT_STRIDE];
	__u32 len = 0;

	for (__u32 k = i % FPDB_SUBJECT_STRIDE;; k--) {
		if (subject_record(m->subj, m->subj_size, r, &len)) {
			len = 0;
			break;
		}
		if (!k)
			break;
		r += 2 + len;
	}
	if (len)
		memcpy(out, m->subj + r + 2, len);
	MAP_UNGUARD();
	out[len] = '\0';
	return out;
}

const char *fpdb_subject(const struct fpdb *db, __u32 i)
{
	const char *s;

	if (db->map) {
		char *out = db->map->names[db->map->next++ % FPDB_LOOKUP_RING];

		/* records were checked at load; the bounds and the guard hold if the file changed
		 */
		out[0] = '\0';
		return i < db->nsubjects ? map_subject(db, i, out) : out;
	}
	if (!db->soff)
		return db->subjects[i];
	s = db->strings + db->soff[i / FPDB_SUBJECT_STRIDE];
	for (__u32 k = i % FPDB_SUBJECT_STRIDE; k; k--)
		s += strlen(s) + 1;
	return s;
}

void fpdb_pre_share(struct fpdb *db, __u64 *copy)
{
	if (!db->pre_shared)
		free(db->pre);
	db->pre = copy;
	db->pre_shared = 1;
}

void fpdb_pre_unshare(struct fpdb *db, const __u64 *copy)
{
	if (db->pre_shared && db->pre == copy) {
		db->pre = NULL;
		db->pre_shared = 0;
	}
}

void fpdb_release(struct fpdb *db)
{
	if (!db)
		return;
	if (db->map)
		db->entries = NULL; /* in the mapping */
	map_free(db->map);
	free(db->entries);
	ix_free(db->ix);
	free(db->subjects);
	free(db->soff);
	free(db->strings);
	free(db->births);
	if (!db->pre_shared)
		free(db->pre);
	memset(db, 0, sizeof(*db));
}

/* The smallest prefilter (log2 of its bits) with bits_per_fp bits for each of n tokens. */
static __u32 pre_log2_for(__u64 n, __u32 bits_per_fp)
{
	__u32 log2 = CS_PRE_LOG2_MIN;

	while (log2 < CS_PRE_LOG2_MAX && ((__u64)1 << log2) < (__u64)n * bits_per_fp)
		log2++;
	return log2;
}

__u32 fpdb_pre_log2(__u64 n)
{
	__u32 log2 = pre_log2_for(n, CS_PRE_BITS_PER_FP);

	if (log2 > CS_PRE_LOG2_BIG) {
		log2 = pre_log2_for(n, CS_PRE_BITS_PER_FP_BIG);
		if (log2 < CS_PRE_LOG2_BIG)
			log2 = CS_PRE_LOG2_BIG;
	}
	return log2;
}

int fpdb_pre_build(struct fpdb *db, const __u64 *pre_values, size_t n)
{
	__u32 log2 = fpdb_pre_log2(n);
	free(db->pre);
	db->pre = calloc(pre_bytes(log2) / 8, 8);
	if (!db->pre) {
		db->pre_log2 = 0;
		return -ENOMEM;
	}
	db->pre_log2 = log2;
	for (size_t i = 0; i < n; i++) {
		__u64 b = fpdb_pre_index(pre_values[i], log2);

		/* random bits of a bitmap of up to 1 GiB: keep several cache misses in flight */
		if (i + 16 < n)
			__builtin_prefetch(&db->pre[fpdb_pre_index(pre_values[i + 16], log2) >> 6],
					   1);

		db->pre[b >> 6] |= 1ULL << (b & 63);
	}
	return 0;
}
