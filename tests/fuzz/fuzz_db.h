/* SPDX-License-Identifier: GPL-2.0-only */
/* Fingerprint DBs compared field by field (fuzz_fpfile, fuzz_enroll). */
#ifndef CS_FUZZ_DB_H
#define CS_FUZZ_DB_H

#include "fuzz.h"

#include "fpfile.h"

#define MAX_CHECK 4096 /* subjects compared one by one */

static int entry_qcmp(const void *a, const void *b)
{
	return fp_entry_cmp(a, b);
}

/*
 * d's entries as fpdb_iter_next gives them, checked against fpdb_entry and fpdb_find (an entry
 * is found among those of its fingerprint), then sorted by fp_entry_cmp: no two equal.
 */
static inline struct fp_entry *db_entries(const struct fpdb *d, const char *what)
{
	struct fp_entry *v = calloc(d->nentries + 1, sizeof(*v)), x;
	struct fpdb_iter it;
	__u32 i = 0, n, first;

	if (!v)
		abort();
	fpdb_iter_init(&it, d);
	while (i <= d->nentries && fpdb_iter_next(&it, &v[i < d->nentries ? i : d->nentries]))
		i++;
	FUZZ_CHECK(i == d->nentries, "%s: %u entries iterated, %u in the DB", what, i, d->nentries);
	for (i = 0; i < d->nentries; i++) {
		fpdb_entry(d, i, &x);
		FUZZ_CHECK(!memcmp(&x, &v[i], sizeof(x)),
			   "%s: fpdb_entry(%u) is not iterated there", what, i);
		n = fpdb_find(d, v[i].fp, &first);
		FUZZ_CHECK(n && first <= i && i < first + n, "%s: entry %u not found (%u at %u)",
			   what, i, n, first);
		FUZZ_CHECK(v[i].subject < d->nsubjects, "%s: entry %u subject", what, i);
	}
	qsort(v, d->nentries, sizeof(*v), entry_qcmp);
	for (i = 1; i < d->nentries; i++)
		FUZZ_CHECK(fp_entry_cmp(&v[i - 1], &v[i]) < 0, "%s: entry %u twice", what, i);
	return v;
}

/*
 * a and b hold the same DB: counts, header values, prefilter, the same entries (each read
 * consistently by iterator, index and fingerprint) and every subject id.
 */
static inline void same_db(const struct fpdb *a, const struct fpdb *b, const char *what)
{
	struct fp_entry *ea, *eb;

	FUZZ_CHECK(a->nentries == b->nentries && a->nsubjects == b->nsubjects,
		   "%s: %u/%u entries, %u/%u subjects", what, a->nentries, b->nentries,
		   a->nsubjects, b->nsubjects);
	FUZZ_CHECK(a->min_len == b->min_len && a->max_len == b->max_len &&
		       a->strong_min_len == b->strong_min_len && a->flags == b->flags &&
		       a->kcv == b->kcv && a->pre_log2 == b->pre_log2,
		   "%s: header values differ", what);
	FUZZ_CHECK(!memcmp(a->pre, b->pre, ((size_t)1 << a->pre_log2) / 8), "%s: prefilter", what);
	ea = db_entries(a, what);
	eb = db_entries(b, what);
	for (__u32 i = 0; i < a->nentries; i++)
		FUZZ_CHECK(!memcmp(&ea[i], &eb[i], sizeof(ea[i])),
			   "%s: entry %u: %016llx s%u f%u p%u/%u v%u != %016llx s%u f%u p%u/%u v%u",
			   what, i, (unsigned long long)ea[i].fp, ea[i].subject, ea[i].field,
			   ea[i].part, ea[i].nparts, ea[i].variant, (unsigned long long)eb[i].fp,
			   eb[i].subject, eb[i].field, eb[i].part, eb[i].nparts, eb[i].variant);
	free(ea);
	free(eb);
	for (__u32 i = 0; i < a->nsubjects && i < MAX_CHECK; i++) {
		const char *sa = fpdb_subject(a, i), *sb = fpdb_subject(b, i);

		FUZZ_CHECK(!strcmp(sa, sb), "%s: subject %u '%s' != '%s'", what, i, sa, sb);
		FUZZ_CHECK(*sa && strlen(sa) <= FP_SUBJECT_MAX, "%s: subject %u length", what, i);
	}
}

#endif
