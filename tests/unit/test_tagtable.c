// SPDX-License-Identifier: GPL-2.0-only
/* The in-kernel prefilter table, built by the loader: no false negatives, rare false positives. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "cs_hash.h"
#include "fpdb/fpfile.h"
#include "fpdb/tagtable.h"

static __u64 rnd(__u64 *s)
{
	/* splitmix64 */
	__u64 z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int has(const struct cs_bucket *t, __u32 nb, __u64 fp)
{
	const struct cs_bucket *b1 = &t[cs_bucket1(fp, nb)], *b2 = &t[cs_bucket2(fp, nb)];

	for (int i = 0; i < CS_TAG_SLOTS; i++)
		if ((b1->tag[i] | CS_TAG_WEAK) == (cs_tag(fp) | CS_TAG_WEAK) ||
		    (b2->tag[i] | CS_TAG_WEAK) == (cs_tag(fp) | CS_TAG_WEAK))
			return 1;
	return 0;
}

static void test_members_and_false_positives(void **state)
{
	const size_t n = 200000, probes = 2000000;
	__u64 *fps = malloc(n * sizeof(*fps)), s = 42;
	struct cs_bucket *t = NULL;
	size_t fp = 0;
	__u32 nb;

	(void)state;
	for (size_t i = 0; i < n; i++)
		fps[i] = rnd(&s);
	nb = tagtable_build(fps, NULL, n, &t);
	/* the fewest buckets with slots at most 90% full (not a power of two), filled first time */
	assert_int_equal(nb, tagtable_nbuckets(n));
	assert_true((size_t)nb * CS_TAG_SLOTS * 90 >= n * 100);
	assert_true((size_t)(nb - 1) * CS_TAG_SLOTS * 90 < n * 100);
	assert_true(nb & (nb - 1));
	for (size_t i = 0; i < n; i++)
		assert_true(has(t, nb, fps[i]));
	for (size_t i = 0; i < probes; i++)
		fp += has(t, nb, rnd(&s));
	printf("  %zu fingerprints, %u buckets (%zu bytes), %zu false positives in %zu probes\n", n,
	       nb, (size_t)nb * sizeof(struct cs_bucket), fp, probes);
	/* 16 slots compared with a 31-bit tag: expected rate ~ 16 * load / 2^31 < 1e-8 */
	assert_true(fp <= 2);
	free(t);
	free(fps);
}

/* Weak-only fingerprints carry the flag; a strong one sharing the tag clears it. */
static void test_weak_flag(void **state)
{
	__u64 fps[3] = {0x1111111122222222ULL, 0x3333333344444444ULL, 0x1111111122222222ULL};
	__u8 weak[3] = {1, 1, 0};
	struct cs_bucket *t = NULL;
	__u32 nb = tagtable_build(fps, weak, 3, &t);
	int w0 = -1, w1 = -1;

	(void)state;
	for (__u32 b = 0; b < nb; b++)
		for (int i = 0; i < CS_TAG_SLOTS; i++) {
			if ((t[b].tag[i] | CS_TAG_WEAK) == (cs_tag(fps[0]) | CS_TAG_WEAK))
				w0 = !!(t[b].tag[i] & CS_TAG_WEAK);
			if ((t[b].tag[i] | CS_TAG_WEAK) == (cs_tag(fps[1]) | CS_TAG_WEAK))
				w1 = !!(t[b].tag[i] & CS_TAG_WEAK);
		}
	assert_int_equal(w0, 0); /* weak and strong with one fingerprint: strong */
	assert_int_equal(w1, 1);
	free(t);
}

/* The kernel's answer for fp: 0 absent, 1 strong, 2 weak-only (first bucket first). */
static int lookup(const struct cs_bucket *t, __u32 nb, __u64 fp)
{
	const struct cs_bucket *b[2] = {&t[cs_bucket1(fp, nb)], &t[cs_bucket2(fp, nb)]};

	for (int k = 0; k < 2; k++)
		for (int i = 0; i < CS_TAG_SLOTS; i++)
			if ((b[k]->tag[i] | CS_TAG_WEAK) == (cs_tag(fp) | CS_TAG_WEAK))
				return b[k]->tag[i] & CS_TAG_WEAK ? 2 : 1;
	return 0;
}

/*
 * 88% of the slots (2% of the fingerprints repeat): only moving residents to their other
 * bucket fits them.
 * Every fingerprint is found, with its weak flag (a repeated fingerprint with a strong entry
 * is strong), and each tag is kept once per bucket pair.
 */
static void test_full_table(void **state)
{
	const size_t n = 234619;
	__u64 *fps = malloc(n * sizeof(*fps)), s = 7;
	__u8 *weak = malloc(n);
	struct cs_bucket *t = NULL;
	size_t used = 0;
	__u32 nb;

	(void)state;
	for (size_t i = 0; i < n; i++) {
		fps[i] = i % 50 == 49 ? fps[i - 1] : rnd(&s);
		weak[i] = i % 3 != 0;
	}
	nb = tagtable_build(fps, weak, n, &t);
	assert_int_equal(nb, tagtable_nbuckets(n));
	for (size_t i = 0; i < n; i++) {
		int strong =
		    !weak[i] || (i % 50 == 49 && !weak[i - 1]) || (i % 50 == 48 && !weak[i + 1]);

		assert_int_equal(lookup(t, nb, fps[i]), strong ? 1 : 2);
	}
	for (__u32 b = 0; b < nb; b++)
		for (int i = 0; i < CS_TAG_SLOTS; i++)
			used += t[b].tag[i] != 0;
	assert_int_equal(used, n - n / 50);
	free(t);
	free(fps);
	free(weak);
}

/* A name part's fingerprint: keyed hashes look random, so a mix of k */
static __u64 name_fp(__u64 k)
{
	__u64 s = 0x5555 + k;

	return rnd(&s);
}

/*
 * The loader's path: the distinct fingerprints of a compact DB, filled in place. A fingerprint
 * is weak-only when all of its entries are name parts.
 */
static void test_fill_db(void **state)
{
	const __u32 n = 100000;
	struct fpdb db = {0};
	__u64 s = 11;
	struct cs_bucket *t;
	__u32 nb, i;

	(void)state;
	db.entries = calloc(n, sizeof(*db.entries));
	assert_non_null(db.entries);
	for (i = 0; i < n; i++) {
		struct fp_entry *e = &db.entries[i];

		/* every 4th value is one of 97 name parts, each shared by ~250 subjects */
		e->fp = i % 4 ? rnd(&s) : name_fp(i % 97);
		e->subject = i / 3;
		e->field = i % 4 ? CS_F_PHONE : CS_F_NAME;
		e->nparts = 1;
		/* one name part is also somebody's username: strong */
		if (i == 4)
			e->field = CS_F_USERNAME;
	}
	db.nsubjects = n;
	db.nentries = fp_entries_sort(db.entries, n);
	assert_int_equal(fpdb_compact(&db), 0);
	assert_int_equal(tagtable_count_db(&db), n - n / 4 + 97);
	nb = tagtable_nbuckets(tagtable_count_db(&db));
	t = calloc(nb, sizeof(*t));
	assert_non_null(t);
	assert_int_equal(tagtable_fill_db(t, nb, &db, 1), 0);
	for (i = 0; i < db.nentries; i++) {
		struct fp_entry e;

		fpdb_entry(&db, i, &e);
		if (e.fp == name_fp(4))
			assert_int_equal(lookup(t, nb, e.fp), 1);
		else
			assert_int_equal(lookup(t, nb, e.fp), e.field == CS_F_NAME ? 2 : 1);
	}
	free(t);
	fpdb_release(&db);
}

static void test_empty(void **state)
{
	struct cs_bucket *t = NULL;
	__u32 nb = tagtable_build(NULL, NULL, 0, &t);

	(void)state;
	assert_int_equal(nb, 1);
	assert_false(has(t, nb, 12345));
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_members_and_false_positives),
	    cmocka_unit_test(test_weak_flag),
	    cmocka_unit_test(test_full_table),
	    cmocka_unit_test(test_fill_db),
	    cmocka_unit_test(test_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
