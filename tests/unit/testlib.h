/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers shared by the unit tests (include after cmocka.h): a fingerprint DB built with
 * enroll's own functions from invented rows, a value's fingerprint, a fixture file, and an
 * HTTP/2 client byte stream.
 */
#ifndef CS_TESTLIB_H
#define CS_TESTLIB_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enroll/enroll.h"
#include "lib/fields.h"
#include "fpdb/fpfile.h"
#include "verdict/consent.h"
#include "verdict/recipients.h"
#include "testutil.h"

struct test_row {
	const char *subject; /* rows of one subject are consecutive */
	int field;
	const char *value;
};

/*
 * db (zeroed) from rows: every fingerprint of every value, sorted; fpdb_release frees it all
 * (the subject ids are in db->strings, as a loaded file's are).
 */
static inline void test_db_build(struct fpdb *db, const struct cs_key *key,
				 const struct test_row *rows, unsigned nrows)
{
	size_t nstr = 0;
	__u32 subj = 0;
	char *str;

	for (unsigned i = 0; i < nrows; i++)
		nstr += strlen(rows[i].subject) + 1;
	db->entries = calloc(nrows * FP_MAX_PARTS, sizeof(*db->entries));
	db->subjects = calloc(nrows, sizeof(char *));
	db->strings = str = malloc(nstr ? nstr : 1);
	assert_non_null(db->entries);
	assert_non_null(db->subjects);
	assert_non_null(db->strings);
	db->min_len = 1;
	db->max_len = 64;
	for (unsigned i = 0; i < nrows; i++) {
		struct norm_out no;
		struct value_fps vf;
		const char *reason = NULL;

		if (i == 0 || strcmp(rows[i].subject, rows[i - 1].subject)) {
			subj = db->nsubjects++;
			db->subjects[subj] = strcpy(str, rows[i].subject);
			str += strlen(str) + 1;
		}
		assert_int_equal(
		    norm_value(rows[i].field, rows[i].value, strlen(rows[i].value), 86, &no), 0);
		assert_int_equal(value_fingerprints(key, rows[i].field, &no, &vf, &reason), 0);
		assert_true(vf.n <= FP_MAX_PARTS);
		for (unsigned p = 0; p < vf.n; p++) {
			struct fp_entry *e = &db->entries[db->nentries++];

			e->fp = vf.fp[p];
			e->subject = subj;
			e->field = rows[i].field;
			e->part = field_is_weak(rows[i].field) ? p : 0;
			e->nparts = field_is_weak(rows[i].field) ? vf.n : 1;
		}
	}
	db->nentries = fp_entries_sort(db->entries, db->nentries);
}

/* Fingerprint part (0 for a strong field) of value v of field under key, as enroll makes it. */
static inline __u64 test_fp_of(const struct cs_key *key, int field, const char *v, unsigned part)
{
	struct norm_out no;
	struct value_fps vf;
	const char *reason = NULL;

	assert_int_equal(norm_value(field, v, strlen(v), 86, &no), 0);
	assert_int_equal(value_fingerprints(key, field, &no, &vf, &reason), 0);
	assert_true(part < vf.n);
	return vf.fp[part];
}

/* dir/name with content (a fixture the test's teardown removes). */
static inline void test_write_file(const char *dir, const char *name, const char *content)
{
	char path[256];
	FILE *f;

	assert_true((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) < sizeof(path));
	f = fopen(path, "w");
	assert_non_null(f);
	assert_true(fputs(content, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

/* dir/<name>recipients.csv and dir/<name>consent.csv written from the texts, then loaded. */
static inline void test_tables_load(const char *dir, const char *name, const char *rcsv,
				    const char *ccsv, struct recipients **r, struct consent_db **c)
{
	char file[64], path[256];

	snprintf(file, sizeof(file), "%srecipients.csv", name);
	test_write_file(dir, file, rcsv);
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	assert_int_equal(recipients_load(r, path), 0);
	snprintf(file, sizeof(file), "%sconsent.csv", name);
	test_write_file(dir, file, ccsv);
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	assert_int_equal(consent_load(c, path, *r), 0);
}

/* A client's HTTP/2 byte stream under construction. */
struct h2wire {
	__u8 b[200000];
	size_t n;
};

static inline void h2wire_put(struct h2wire *w, const void *p, size_t n)
{
	assert_true(w->n + n <= sizeof(w->b));
	memcpy(w->b + w->n, p, n);
	w->n += n;
}

/* One frame: the 9-byte header (length, type, flags, stream), then the payload. */
static inline void h2wire_frame(struct h2wire *w, __u8 type, __u8 flags, __u32 stream,
				const void *p, size_t n)
{
	__u8 h[9] = {(__u8)(n >> 16),
		     (__u8)(n >> 8),
		     (__u8)n,
		     type,
		     flags,
		     (__u8)(stream >> 24),
		     (__u8)(stream >> 16),
		     (__u8)(stream >> 8),
		     (__u8)stream};

	h2wire_put(w, h, sizeof(h));
	h2wire_put(w, p, n);
}

/* A TLS ClientHello for name (after a supported_groups extension) into b; its length. */
static inline __u32 test_client_hello(__u8 *b, const char *name)
{
	__u32 n = 0, nl = (__u32)strlen(name), ext = 8 + 9 + nl, hs, rec;

	b[n++] = 0x16, b[n++] = 3, b[n++] = 1, n += 2; /* record, length later */
	b[n++] = 1, n += 3;			       /* ClientHello, length later */
	b[n++] = 3, b[n++] = 3;
	memset(b + n, 0xab, 32), n += 32; /* random */
	b[n++] = 32;
	memset(b + n, 0xcd, 32), n += 32;		      /* session id */
	b[n++] = 0, b[n++] = 2, b[n++] = 0x13, b[n++] = 0x01; /* one cipher suite */
	b[n++] = 1, b[n++] = 0;				      /* compression: null */
	b[n++] = ext >> 8, b[n++] = ext & 0xff;		      /* extensions */
	b[n++] = 0, b[n++] = 0x0a, b[n++] = 0, b[n++] = 4, b[n++] = 0, b[n++] = 2, b[n++] = 0,
	b[n++] = 0x1d;
	b[n++] = 0, b[n++] = 0, b[n++] = 0, b[n++] = (__u8)(5 + nl); /* server_name */
	b[n++] = 0, b[n++] = (__u8)(3 + nl), b[n++] = 0, b[n++] = 0, b[n++] = (__u8)nl;
	memcpy(b + n, name, nl), n += nl;
	rec = n - 5;
	hs = rec - 4;
	b[3] = rec >> 8, b[4] = rec & 0xff;
	b[6] = 0, b[7] = hs >> 8, b[8] = hs & 0xff;
	return n;
}

#endif
