/* SPDX-License-Identifier: GPL-2.0-only */
/* Fingerprint DBs compared field by field (fuzz_fpfile, fuzz_enroll). */
#ifndef CS_FUZZ_DB_H
#define CS_FUZZ_DB_H

#include "fuzz.h"

#include "enroll/enroll.h"
#include "lib/fields.h"
#include "fpdb/fpfile.h"

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
		       a->anchor_digits == b->anchor_digits && a->kcv == b->kcv &&
		       a->pre_log2 == b->pre_log2,
		   "%s: header values differ", what);
	FUZZ_CHECK(!memcmp(a->pre, b->pre, ((size_t)1 << a->pre_log2) / 8), "%s: prefilter", what);
	FUZZ_CHECK(a->sensitive == b->sensitive && !(a->sensitive & ~FIELD_ALL),
		   "%s: sensitive %#x != %#x", what, a->sensitive, b->sensitive);
	FUZZ_CHECK(a->nbirths == b->nbirths && a->nbirths <= a->nsubjects, "%s: %u/%u births", what,
		   a->nbirths, b->nbirths);
	for (__u32 i = 0; i < a->nbirths; i++) {
		__s32 d = 0;

		FUZZ_CHECK(!memcmp(&a->births[i], &b->births[i], sizeof(a->births[i])) &&
			       a->births[i].days != FPDB_BIRTH_ADULT &&
			       (!i || a->births[i - 1].subject < a->births[i].subject),
			   "%s: birth %u: subject %u day %d != subject %u day %d", what, i,
			   a->births[i].subject, a->births[i].days, b->births[i].subject,
			   b->births[i].days);
		FUZZ_CHECK(fpdb_birth_day(a, a->births[i].subject, &d) && d == a->births[i].days,
			   "%s: birth %u not found by subject", what, i);
	}
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

/* Registered values of the DB the HTTP harnesses redact and look up (one subject, "s1"). */
struct fuzz_row {
	int field;
	const char *value;
};

static const struct fuzz_row fuzz_rows[] = {
    {CS_F_PHONE, "13712340001"},
    {CS_F_EMAIL, "zhang.wei@example.com"},
    {CS_F_NATIONAL_ID, "11010519900307451X"},
};
#define FUZZ_NROWS (sizeof(fuzz_rows) / sizeof(fuzz_rows[0]))

/* db (zeroed) built in memory from fuzz_rows with enroll's own functions. */
static inline void fuzz_db_build(struct fpdb *db, const struct cs_key *key)
{
	memset(db, 0, sizeof(*db));
	db->entries = calloc(FUZZ_NROWS * NORM_MAX, sizeof(*db->entries));
	db->subjects = calloc(1, sizeof(char *));
	db->strings = strdup("s1");
	if (!db->entries || !db->subjects || !db->strings)
		abort();
	db->subjects[0] = db->strings;
	db->nsubjects = 1;
	db->min_len = 1;
	db->max_len = 64;
	for (unsigned i = 0; i < FUZZ_NROWS; i++) {
		const char *v = fuzz_rows[i].value, *reason;
		struct norm_out no;
		struct value_fps vf;

		if (norm_value(fuzz_rows[i].field, v, strlen(v), 86, &no) ||
		    value_fingerprints(key, fuzz_rows[i].field, &no, &vf, &reason))
			abort();
		for (unsigned k = 0; k < vf.n; k++)
			db->entries[db->nentries++] = (struct fp_entry){
			    .fp = vf.fp[k], .field = (__u8)fuzz_rows[i].field, .nparts = 1};
	}
	db->nentries = fp_entries_sort(db->entries, db->nentries);
}

/*
 * A byte that ends any token of the scanner: not a letter, digit or one of "@._-+%"; nor a brace
 * of "{field}", which replaced bytes that may have joined the token next to it.
 */
static inline int fuzz_sep(char c)
{
	return !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		 (c & 0x80) || strchr("@._-+%{}", c));
}

/*
 * s[0..n) is printable ASCII and holds no registered value of fuzz_rows as a token of its own
 * (between separators): a redacted path or request.
 */
static inline void fuzz_check_redacted(const char *s, size_t n, const char *what)
{
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK(s[i] >= 0x20 && s[i] < 0x7f, "%s: byte %#x at %zu", what,
			   (unsigned char)s[i], i);
	for (unsigned i = 0; i < FUZZ_NROWS; i++) {
		size_t vl = strlen(fuzz_rows[i].value);

		for (size_t k = 0; k + vl <= n; k++)
			FUZZ_CHECK(strncasecmp(s + k, fuzz_rows[i].value, vl) ||
				       (k && !fuzz_sep(s[k - 1])) ||
				       (k + vl < n && !fuzz_sep(s[k + vl])),
				   "%s: '%.*s' holds %s", what, (int)n, s, fuzz_rows[i].value);
	}
}

#endif
