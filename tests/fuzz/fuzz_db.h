/* SPDX-License-Identifier: GPL-2.0-only */
/* Fingerprint DBs compared field by field (fuzz_fpfile, fuzz_enroll). */
#ifndef CS_FUZZ_DB_H
#define CS_FUZZ_DB_H

#include "fuzz.h"

#include "fpfile.h"

#define MAX_CHECK 4096 /* entries and subjects compared one by one */

/*
 * a and b hold the same DB: counts, header values, prefilter, every entry (by iterator, by
 * index, by fingerprint) and every subject id.
 */
static inline void same_db(const struct fpdb *a, const struct fpdb *b, const char *what)
{
	struct fpdb_iter ia, ib;
	struct fp_entry ea, eb, ex;
	__u32 n;

	FUZZ_CHECK(a->nentries == b->nentries && a->nsubjects == b->nsubjects,
		   "%s: %u/%u entries, %u/%u subjects", what, a->nentries, b->nentries,
		   a->nsubjects, b->nsubjects);
	FUZZ_CHECK(a->min_len == b->min_len && a->max_len == b->max_len &&
		       a->strong_min_len == b->strong_min_len && a->flags == b->flags &&
		       a->kcv == b->kcv && a->pre_log2 == b->pre_log2,
		   "%s: header values differ", what);
	FUZZ_CHECK(!memcmp(a->pre, b->pre, ((size_t)1 << a->pre_log2) / 8), "%s: prefilter", what);
	fpdb_iter_init(&ia, a);
	fpdb_iter_init(&ib, b);
	for (__u32 i = 0; i < a->nentries && i < MAX_CHECK; i++) {
		__u32 first;

		FUZZ_CHECK(fpdb_iter_next(&ia, &ea) && fpdb_iter_next(&ib, &eb), "%s: iter %u",
			   what, i);
		FUZZ_CHECK(!memcmp(&ea, &eb, sizeof(ea)), "%s: entry %u differs", what, i);
		fpdb_entry(a, i, &ex);
		FUZZ_CHECK(!memcmp(&ea, &ex, sizeof(ea)), "%s: fpdb_entry(%u) differs", what, i);
		n = fpdb_find(b, ea.fp, &first);
		FUZZ_CHECK(n && first <= i && i < first + n, "%s: entry %u not found (%u at %u)",
			   what, i, n, first);
		FUZZ_CHECK(ea.subject < a->nsubjects, "%s: entry %u subject", what, i);
	}
	for (__u32 i = 0; i < a->nsubjects && i < MAX_CHECK; i++) {
		const char *sa = fpdb_subject(a, i), *sb = fpdb_subject(b, i);

		FUZZ_CHECK(!strcmp(sa, sb), "%s: subject %u '%s' != '%s'", what, i, sa, sb);
		FUZZ_CHECK(*sa && strlen(sa) <= FP_SUBJECT_MAX, "%s: subject %u length", what, i);
	}
}

#endif
