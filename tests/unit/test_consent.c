// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "testutil.h"

#include "verdict/consent.h"
#include "lib/fields.h"
#include "verdict/recipients.h"
#include "lib/timeutil.h"

#define PHONE FIELD_BIT(CS_F_PHONE)
#define EMAIL FIELD_BIT(CS_F_EMAIL)
#define NID   FIELD_BIT(CS_F_NATIONAL_ID)
#define HDR   "subject_id,recipient,fields,granted_at,expires_at,withdrawn_at,purpose\n"

static char tmp_path[64];
static char err_text[8192];

static void write_tmp(const char *content)
{
	strcpy(tmp_path, "/tmp/cs_consent_XXXXXX");
	tmp_write(tmp_path, content);
}

/* Load content (recipients table r may be NULL); stderr is captured into err_text. */
static int load(const char *content, const struct recipients *r, struct consent_db **db)
{
	struct capture cap;
	int err;

	write_tmp(content);
	capture_begin(&cap);
	*db = (struct consent_db *)0x1;
	err = consent_load(db, tmp_path, r);
	capture_end(&cap, err_text, sizeof(err_text));
	unlink(tmp_path);
	if (err)
		assert_null(*db);
	return err;
}

static void load_bad(const char *content, const char *want)
{
	struct consent_db *db;
	char full[512];

	if (load(content, NULL, &db) != -EINVAL) {
		consent_free(db);
		fail_msg("load did not fail with -EINVAL:\n%s", content);
	}
	snprintf(full, sizeof(full), "%s%s", tmp_path, want);
	if (!strstr(err_text, full))
		fail_msg("expected '%s' in:\n%s", full, err_text);
}

static __s64 T(const char *s)
{
	__s64 ns;

	assert_int_equal(rfc3339_parse(s, &ns), 0);
	return ns;
}

static __u32 cov(const struct consent_db *db, const char *subj, const char *rcpt, __u32 fields,
		 const char *t)
{
	return consent_covered(db, subj, rcpt, fields, T(t), NULL, NULL, 0);
}

/* basename of tmp_path + ":" + line */
static const char *row_id(unsigned line)
{
	static char id[64];

	snprintf(id, sizeof(id), "%s:%u", strrchr(tmp_path, '/') + 1, line);
	return id;
}

static void test_window(void **state)
{
	struct consent_db *db;
	const char *ids[4];
	unsigned nids = 99;

	(void)state;
	assert_int_equal(load(HDR "u1,ads,phone|email,2026-01-01T00:00:00Z,2026-07-01T00:00:00Z,,"
				  "marketing\n",
			      NULL, &db),
			 0);
	assert_int_equal(consent_count(db), 1);
	assert_int_equal(cov(db, "u1", "ads", PHONE | EMAIL, "2025-12-31T23:59:59.999999999Z"), 0);
	assert_int_equal(cov(db, "u1", "ads", PHONE | EMAIL, "2026-01-01T00:00:00Z"),
			 PHONE | EMAIL);
	assert_int_equal(cov(db, "u1", "ads", PHONE | EMAIL, "2026-03-01T12:00:00+08:00"),
			 PHONE | EMAIL);
	assert_int_equal(cov(db, "u1", "ads", PHONE | EMAIL, "2026-06-30T23:59:59.999999999Z"),
			 PHONE | EMAIL);
	assert_int_equal(cov(db, "u1", "ads", PHONE | EMAIL, "2026-07-01T00:00:00Z"), 0);
	assert_int_equal(cov(db, "u1", "ads", PHONE | EMAIL, "2027-01-01T00:00:00Z"), 0);

	assert_int_equal(
	    consent_covered(db, "u1", "ads", PHONE, T("2026-02-01T00:00:00Z"), ids, &nids, 4),
	    PHONE);
	assert_int_equal(nids, 1);
	assert_string_equal(ids[0], row_id(2));
	assert_int_equal(
	    consent_covered(db, "u1", "ads", PHONE, T("2027-02-01T00:00:00Z"), ids, &nids, 4), 0);
	assert_int_equal(nids, 0);
	consent_free(db);
}

static void test_withdrawal(void **state)
{
	struct consent_db *db;

	(void)state;
	/* no expiry; withdrawn in March: covered before, not at or after; never retroactive */
	assert_int_equal(
	    load(HDR "u1,ads,*,2026-01-01T00:00:00Z,,2026-03-01T00:00:00Z,\n", NULL, &db), 0);
	assert_int_equal(cov(db, "u1", "ads", EMAIL, "2026-02-28T23:59:59Z"), EMAIL);
	assert_int_equal(cov(db, "u1", "ads", EMAIL, "2026-03-01T00:00:00Z"), 0);
	assert_int_equal(cov(db, "u1", "ads", EMAIL, "2026-03-02T00:00:00Z"), 0);
	assert_int_equal(cov(db, "u1", "ads", EMAIL, "2031-01-01T00:00:00Z"), 0);
	consent_free(db);

	/* a withdrawal before the grant loads with a warning and covers nothing */
	assert_int_equal(
	    load(HDR "u1,ads,*,2026-03-01T00:00:00Z,,2026-01-01T00:00:00Z,\n", NULL, &db), 0);
	assert_non_null(strstr(err_text, "withdrawn_at '2026-01-01T00:00:00Z' is before"));
	assert_int_equal(cov(db, "u1", "ads", EMAIL, "2026-04-01T00:00:00Z"), 0);
	consent_free(db);
}

static void test_fields(void **state)
{
	struct consent_db *db;
	const char *ids[4];
	unsigned nids;

	(void)state;
	assert_int_equal(load(HDR "u1,ads,phone,2026-01-01T00:00:00Z,,,\n"
				  "u1,ads,email,2026-02-01T00:00:00Z,,,\n"
				  "u1,crm,*,2026-01-01T00:00:00Z,,,\n"
				  "u2,ads,national_id | email,2026-01-01T00:00:00Z,,,\n",
			      NULL, &db),
			 0);
	assert_int_equal(consent_count(db), 4);
	/* phone only: email is not covered */
	assert_int_equal(cov(db, "u1", "ads", PHONE | EMAIL, "2026-01-15T00:00:00Z"), PHONE);
	assert_int_equal(cov(db, "u1", "ads", EMAIL, "2026-01-15T00:00:00Z"), 0);
	/* the union of two rows covers both */
	assert_int_equal(consent_covered(db, "u1", "ads", PHONE | EMAIL, T("2026-02-15T00:00:00Z"),
					 ids, &nids, 4),
			 PHONE | EMAIL);
	assert_int_equal(nids, 2);
	assert_string_equal(ids[0], row_id(2));
	assert_string_equal(ids[1], row_id(3));
	/* max_ids bounds the ids written, not the coverage */
	assert_int_equal(consent_covered(db, "u1", "ads", PHONE | EMAIL, T("2026-02-15T00:00:00Z"),
					 ids, &nids, 1),
			 PHONE | EMAIL);
	assert_int_equal(nids, 1);
	/* only rows that covered a disclosed field are named */
	assert_int_equal(
	    consent_covered(db, "u1", "ads", EMAIL, T("2026-02-15T00:00:00Z"), ids, &nids, 4),
	    EMAIL);
	assert_int_equal(nids, 1);
	assert_string_equal(ids[0], row_id(3));
	/* '*' covers every field type */
	assert_int_equal(cov(db, "u1", "crm", FIELD_ALL, "2026-01-15T00:00:00Z"), FIELD_ALL);
	assert_int_equal(cov(db, "u1", "crm", PHONE | NID, "2026-01-15T00:00:00Z"), PHONE | NID);
	assert_int_equal(cov(db, "u2", "ads", PHONE | EMAIL | NID, "2026-01-15T00:00:00Z"),
			 EMAIL | NID);
	/* other recipient, other subject, case matters */
	assert_int_equal(cov(db, "u1", "other", PHONE, "2026-01-15T00:00:00Z"), 0);
	assert_int_equal(cov(db, "u3", "ads", PHONE, "2026-01-15T00:00:00Z"), 0);
	assert_int_equal(cov(db, "u1", "ADS", PHONE, "2026-01-15T00:00:00Z"), 0);
	assert_int_equal(cov(db, "u2", "crm", PHONE, "2026-01-15T00:00:00Z"), 0);
	assert_int_equal(consent_covered(NULL, "u1", "ads", PHONE, 0, ids, &nids, 4), 0);
	assert_int_equal(nids, 0);
	consent_free(db);
	consent_free(NULL);
}

static void test_columns(void **state)
{
	struct consent_db *db;

	(void)state;
	/* any column order; optional columns may be left out; quoting and comments */
	assert_int_equal(load("# consent export\n"
			      "recipient,granted_at,subject_id,fields\n"
			      "ads,2026-01-01T00:00:00Z,\"u,1\",\"phone|email\"\n",
			      NULL, &db),
			 0);
	assert_int_equal(cov(db, "u,1", "ads", PHONE | EMAIL, "2099-01-01T00:00:00Z"),
			 PHONE | EMAIL);
	consent_free(db);
}

static void test_recipient_warning(void **state)
{
	struct recipients *r = NULL;
	struct consent_db *db;
	char want[128];

	(void)state;
	write_tmp("recipient,kind,match\nads,third-party,ads.example\n");
	assert_int_equal(recipients_load(&r, tmp_path), 0);
	unlink(tmp_path);
	assert_int_equal(load(HDR "u1,ads,phone,2026-01-01T00:00:00Z,,,\n"
				  "u1,nobody,phone,2026-01-01T00:00:00Z,,,\n",
			      r, &db),
			 0);
	snprintf(want, sizeof(want), "%s:3: recipient 'nobody' is not in the recipients file",
		 tmp_path);
	assert_non_null(strstr(err_text, want));
	assert_null(strstr(err_text, "'ads'"));
	assert_int_equal(cov(db, "u1", "nobody", PHONE, "2026-01-15T00:00:00Z"), PHONE);
	consent_free(db);
	recipients_free(r);
}

static void test_many(void **state)
{
	struct consent_db *db;
	size_t cap = 64 * 20000, n;
	char *buf = malloc(cap);
	char subj[32];

	(void)state;
	assert_non_null(buf);
	n = (size_t)snprintf(buf, cap, HDR);
	for (int i = 0; i < 20000; i++)
		n += (size_t)snprintf(buf + n, cap - n, "s%d,r%d,%s,2026-01-01T00:00:00Z,,,\n",
				      i / 2, i % 7, i % 2 ? "email" : "phone");
	assert_int_equal(load(buf, NULL, &db), 0);
	free(buf);
	assert_int_equal(consent_count(db), 20000);
	for (int i = 0; i < 20000; i += 2) {
		snprintf(subj, sizeof(subj), "s%d", i / 2);
		/* rows i (phone, r(i%7)) and i+1 (email, r((i+1)%7)) */
		char r0[8], r1[8];

		snprintf(r0, sizeof(r0), "r%d", i % 7);
		snprintf(r1, sizeof(r1), "r%d", (i + 1) % 7);
		assert_int_equal(cov(db, subj, r0, PHONE | EMAIL, "2026-06-01T00:00:00Z"), PHONE);
		assert_int_equal(cov(db, subj, r1, PHONE | EMAIL, "2026-06-01T00:00:00Z"), EMAIL);
	}
	consent_free(db);
}

static void test_errors(void **state)
{
	struct consent_db *db;

	(void)state;
	load_bad(
	    HDR "u1,ads,phone|fax,2026-01-01T00:00:00Z,,,\n",
	    ":2: unknown field type 'fax' in fields (expected "
	    "phone|email|national_id|bank_card|passport|username|name|birthdate|address or *)");
	load_bad(HDR "u1,ads,phone||email,2026-01-01T00:00:00Z,,,\n", ":2: empty field type");
	load_bad(HDR "u1,ads,,2026-01-01T00:00:00Z,,,\n", ":2: empty fields");
	load_bad(HDR "u1,ads,phone,2026-01-01,,,\n",
		 ":2: bad granted_at '2026-01-01' (expected RFC 3339, e.g. 2026-01-01T00:00:00Z)");
	load_bad(HDR "u1,ads,phone,,,,\n", ":2: missing granted_at");
	load_bad(HDR "u1,ads,phone,2026-01-01T00:00:00Z,2026-02-30T00:00:00Z,,\n",
		 ":2: bad expires_at '2026-02-30T00:00:00Z'");
	load_bad(HDR "u1,ads,phone,2026-01-01T00:00:00Z,,yesterday,\n",
		 ":2: bad withdrawn_at 'yesterday'");
	load_bad(HDR "u1,ads,phone,2026-01-01T00:00:00Z,2026-01-01T00:00:00Z,,\n",
		 ":2: expires_at '2026-01-01T00:00:00Z' is not after granted_at "
		 "'2026-01-01T00:00:00Z'");
	load_bad(HDR "u1,ads,phone,2026-01-01T00:00:00Z,2025-01-01T00:00:00Z,,\n",
		 ":2: expires_at '2025-01-01T00:00:00Z' is not after");
	load_bad(HDR ",ads,phone,2026-01-01T00:00:00Z,,,\n", ":2: bad subject_id length 0");
	load_bad(HDR "u1,,phone,2026-01-01T00:00:00Z,,,\n", ":2: empty recipient");
	load_bad(HDR "u1,ads,phone,2026-01-01T00:00:00Z,,\n", ":2: expected 7 columns, got 6");
	load_bad("subject_id,recipient,fields,granted_at,note\n", ":1: unknown column 'note'");
	load_bad("subject_id,recipient,granted_at\n", ":1: missing column 'fields'");
	load_bad("subject_id,recipient,fields,fields,granted_at\n",
		 ":1: duplicate column 'fields'");
	load_bad("", ":1: missing header");
	/* all rows are checked; a good row before a bad one is not kept */
	load_bad(HDR "u1,ads,phone,2026-01-01T00:00:00Z,,,\n"
		     "u1,ads,fax,2026-01-01T00:00:00Z,,,\n"
		     "u1,ads,phone,never,,,\n",
		 ":4: bad granted_at 'never'");
	assert_non_null(strstr(err_text, ":3: unknown field type 'fax'"));

	db = (struct consent_db *)0x1;
	assert_int_equal(consent_load(&db, "/nonexistent/consent.csv", NULL), -ENOENT);
	assert_null(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_window),
	    cmocka_unit_test(test_withdrawal),
	    cmocka_unit_test(test_fields),
	    cmocka_unit_test(test_columns),
	    cmocka_unit_test(test_recipient_warning),
	    cmocka_unit_test(test_many),
	    cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
