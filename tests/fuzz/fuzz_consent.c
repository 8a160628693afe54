// SPDX-License-Identifier: GPL-2.0-only
/*
 * consent.csv (user/verdict/consent.c). Properties: an accepted file holds one row per data record;
 * and every row grants what it says at the instant it was granted: read back through the CSV
 * reader, each row not withdrawn by then makes consent_covered() report its id ("NAME:LINE")
 * and a covered field of the row's subject and recipient at its granted_at.
 */
#include "fuzz.h"

#include "verdict/consent.h"
#include "lib/csv.h"
#include "lib/fields.h"
#include "lib/timeutil.h"

#define MAX_IDS 64

static struct fuzz_file file;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_setup_file(&file, "fuzz_consent");
	return 0;
}

/* The time in column col (-1 or empty: none): 0 and *t, or -1. */
static int time_of(const struct csv_reader *r, int col, __s64 *t)
{
	if (col < 0 || !*csv_field(r, (unsigned)col))
		return -1;
	return rfc3339_parse(csv_field(r, (unsigned)col), t) ? -1 : 0;
}

/*
 * The rules of spec §7 only take away: with every need raised, coverage is a subset of the plain
 * one, and violations are empty exactly when every field is covered.
 */
static void check_needs(const struct consent_db *db, const char *subject, const char *recipient,
			__s64 t, __u32 covered)
{
	static const struct consent_need all = {
	    .purpose = "fuzz-purpose", .sensitive = FIELD_ALL, .minor = 1, .cross_border = 1};
	__u32 v = 0,
	      strict = consent_check(db, subject, recipient, FIELD_ALL, t, &all, &v, NULL, NULL, 0);

	FUZZ_CHECK(!(strict & ~covered), "needs widened coverage %#x to %#x", covered, strict);
	FUZZ_CHECK(!(v & ~CV_ALL), "violations %#x outside CV_ALL", v);
	FUZZ_CHECK(!v == (strict == FIELD_ALL), "violations %#x with coverage %#x", v, strict);
}

static void check_rows(const struct consent_db *db, const uint8_t *data, size_t size)
{
	struct csv_reader *r = csv_open_mem("consent", (const char *)data, size);
	const char *base = strrchr(file.path, '/') + 1, *ids[MAX_IDS];
	int subj, rcpt, granted, withdrawn;
	unsigned long rows = 0;
	char want[64];

	FUZZ_CHECK(r && csv_next(r) == 1, "header read back");
	subj = fuzz_csv_column(r, "subject_id");
	rcpt = fuzz_csv_column(r, "recipient");
	granted = fuzz_csv_column(r, "granted_at");
	withdrawn = fuzz_csv_column(r, "withdrawn_at");
	FUZZ_CHECK(subj >= 0 && rcpt >= 0 && granted >= 0, "accepted without its columns");
	while (csv_next(r) == 1) {
		__s64 g, w;
		__u32 covered;
		unsigned nids = 0, found = 0;

		rows++;
		FUZZ_CHECK(!time_of(r, granted, &g), "line %lu: accepted granted_at '%s'",
			   csv_line(r), csv_field(r, (unsigned)granted));
		if (!time_of(r, withdrawn, &w) && w <= g)
			continue; /* covers nothing */
		covered =
		    consent_covered(db, csv_field(r, (unsigned)subj), csv_field(r, (unsigned)rcpt),
				    FIELD_ALL, g, ids, &nids, MAX_IDS);
		FUZZ_CHECK(covered, "line %lu: nothing covered at granted_at", csv_line(r));
		check_needs(db, csv_field(r, (unsigned)subj), csv_field(r, (unsigned)rcpt), g,
			    covered);
		if (nids == MAX_IDS)
			continue; /* the row's id may be past the ones returned */
		snprintf(want, sizeof(want), "%s:%lu", base, csv_line(r));
		for (unsigned i = 0; i < nids; i++)
			found |= !strcmp(ids[i], want);
		FUZZ_CHECK(found, "line %lu: id %s not among the %u covering rows", csv_line(r),
			   want, nids);
	}
	FUZZ_CHECK(rows == consent_count(db), "%lu rows read back, %lu loaded", rows,
		   consent_count(db));
	csv_close(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct consent_db *db = NULL;
	int rc;

	fuzz_file_set(&file, data, size);
	rc = consent_load(&db, file.path, NULL);
	FUZZ_CHECK(rc ? !db : db != NULL, "rc %d with db %p", rc, (void *)db);
	if (!rc)
		check_rows(db, data, size);
	consent_free(db);
	return 0;
}
