// SPDX-License-Identifier: GPL-2.0-only
/* The in-kernel prefilter table, built by the loader: no false negatives, rare false positives. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "cs_hash.h"
#include "loader.h"

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
	const struct cs_bucket *b1 = &t[cs_bucket1(fp, nb - 1)], *b2 = &t[cs_bucket2(fp, nb - 1)];

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
	assert_true(nb > 0 && (nb & (nb - 1)) == 0);
	/* at most 8 tags per bucket: <= 6 per bucket on average keeps the table ~1/4 smaller */
	assert_true((size_t)nb * 6 >= n);
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
	    cmocka_unit_test(test_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
