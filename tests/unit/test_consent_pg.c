// SPDX-License-Identifier: GPL-2.0-only
/*
 * -c postgresql://: the URL split into libpq's part, consentry's parameters and the masked form
 * for messages; timestamps to RFC 3339; a result set (built in memory with libpq, no server) as
 * CSV, and that CSV through consent.c: values with quotes, commas, line breaks and a leading '#'
 * arrive as they were, NULL is empty, errors and row ids name the URL and table.
 */
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
#include <libpq-fe.h>

#include "testutil.h"

#include "verdict/consent.h"
#include "verdict/consent_pg.h"
#include "lib/fields.h"
#include "lib/timeutil.h"

static void expect_url(const char *url, const char *conninfo, const char *display,
		       const char *table, const char *channel)
{
	struct consent_pg_url u;

	assert_int_equal(consent_pg_url_parse(&u, url), 0);
	assert_string_equal(u.conninfo, conninfo);
	assert_string_equal(u.display, display);
	assert_string_equal(u.table, table);
	assert_string_equal(u.channel, channel);
	consent_pg_url_release(&u);
}

static void test_url(void **state)
{
	(void)state;
	assert_true(consent_pg_is_url("postgresql://h/db"));
	assert_true(consent_pg_is_url("postgres://h/db"));
	assert_false(consent_pg_is_url("consent.csv"));
	assert_false(consent_pg_is_url("/tmp/postgresql://x"));
	assert_false(consent_pg_is_url(NULL));

	/* defaults; nothing to mask */
	expect_url("postgresql://db.example/app", "postgresql://db.example/app",
		   "postgresql://db.example/app", "consent", "consentry_consent");
	/* consentry's parameters leave the conninfo, libpq's stay, the password is masked */
	expect_url("postgres://cs:pa%40ss:w@db:5433/app?sslmode=require&table=audit.consent_v&"
		   "channel=Consent%20Changes&connect_timeout=3",
		   "postgres://cs:pa%40ss:w@db:5433/app?sslmode=require&connect_timeout=3",
		   "postgres://cs:***@db:5433/app?sslmode=require&table=audit.consent_v&"
		   "channel=Consent%20Changes&connect_timeout=3",
		   "audit.consent_v", "Consent Changes");
	/* a password with '@' in it: the userinfo ends at the last '@' of the authority */
	expect_url("postgresql://u:a@b@h/d?table=t", "postgresql://u:a@b@h/d",
		   "postgresql://u:***@h/d?table=t", "t", "consentry_consent");
	/* a password given as a parameter; a user without a password is shown */
	expect_url("postgresql://u@%2Frun%2Fpg/d?password=x&host=h",
		   "postgresql://u@%2Frun%2Fpg/d?password=x&host=h",
		   "postgresql://u@%2Frun%2Fpg/d?password=***&host=h", "consent",
		   "consentry_consent");
	/* a '/' not encoded in a password does not show it */
	expect_url("postgresql://u:pa/ss@h/d", "postgresql://u:pa/ss@h/d", "postgresql://u:***@h/d",
		   "consent", "consentry_consent");
	/* an '@' in the query is not userinfo */
	expect_url("postgresql://h/d?table=a@b", "postgresql://h/d", "postgresql://h/d?table=a@b",
		   "a@b", "consentry_consent");
}

static void test_url_errors(void **state)
{
	static const char *const bad[] = {
	    "postgresql://u:pw@h/d?table=",	   "postgresql://u:pw@h/d?channel=",
	    "postgresql://u:pw@h/d?table=%zz",	   "postgresql://u:pw@h/d?table=a%00b",
	    "postgresql://u:pw@h/d?table=schema.", "postgresql://u:pw@h/d?table=%4",
	};
	char err[4096];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct consent_pg_url u;
		struct capture cap;

		capture_begin(&cap);
		assert_int_equal(consent_pg_url_parse(&u, bad[i]), -EINVAL);
		capture_end(&cap, err, sizeof(err));
		assert_null(u.conninfo);
		/* said, with the URL, never with its password */
		assert_non_null(strstr(err, "postgresql://u:***@h/d"));
		assert_null(strstr(err, "pw"));
	}
}

static void expect_time(const char *in, int rc, const char *out)
{
	char buf[64] = "untouched";

	assert_int_equal(consent_pg_time(buf, sizeof(buf), in), rc);
	if (!rc)
		assert_string_equal(buf, out);
}

static void test_time(void **state)
{
	__s64 ns;

	(void)state;
	expect_time("2025-01-01 00:00:00+00", 0, "2025-01-01T00:00:00Z");
	expect_time("2026-06-01 12:34:56.789012+00", 0, "2026-06-01T12:34:56.789012Z");
	expect_time("2026-06-01 12:34:56.5", 0, "2026-06-01T12:34:56.5Z"); /* timestamp */
	expect_time("infinity", 0, "");
	expect_time("-infinity", -EINVAL, NULL);
	expect_time("2026-06-01 12:34:56+05:30", -EINVAL, NULL); /* not the session's UTC */
	expect_time("0044-03-15 12:00:00+00 BC", -EINVAL, NULL);
	expect_time("10000-01-01 00:00:00+00", -EINVAL, NULL);
	expect_time("2026-06-01", -EINVAL, NULL);
	/* what it makes parses as RFC 3339 */
	{
		char buf[64];

		assert_int_equal(consent_pg_time(buf, sizeof(buf), "2026-06-01 12:00:00.25+00"), 0);
		assert_int_equal(rfc3339_parse(buf, &ns), 0);
		assert_int_equal(ns, 1780315200250000000LL);
	}
	/* a buffer too small is an error, not a cut string */
	{
		char small[20];

		assert_int_equal(consent_pg_time(small, sizeof(small), "2025-01-01 00:00:00+00"),
				 -EINVAL);
	}
}

#define OID_TEXT 25
#define OID_TSTZ 1184
#define NCOLS	 7

/* A result set like SELECT * FROM consent would return, built without a server. */
static PGresult *make_result(const char *const (*rows)[NCOLS], int nrows)
{
	static const char *const names[NCOLS] = {"subject_id", "recipient",  "fields",
						 "granted_at", "expires_at", "withdrawn_at",
						 "purpose"};
	PGresAttDesc att[NCOLS];
	PGresult *res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);

	assert_non_null(res);
	for (int j = 0; j < NCOLS; j++) {
		att[j] = (PGresAttDesc){.name = (char *)names[j],
					.typid = j >= 3 && j <= 5 ? OID_TSTZ : OID_TEXT,
					.typlen = -1,
					.atttypmod = -1};
	}
	assert_int_equal(PQsetResultAttrs(res, NCOLS, att), 1);
	for (int i = 0; i < nrows; i++)
		for (int j = 0; j < NCOLS; j++)
			assert_int_equal(PQsetvalue(res, i, j, (char *)rows[i][j],
						    rows[i][j] ? (int)strlen(rows[i][j]) : -1),
					 1);
	return res;
}

static char *render(const PGresult *res)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(consent_pg_render(f, (const struct pg_result *)res), 0);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void test_render(void **state)
{
	static const char *const rows[][NCOLS] = {
	    {"u1", "ads", "phone|email", "2025-01-01 00:00:00+00", NULL, NULL,
	     "say \"hi\", then\nbye"},
	    {"#u2", "a,b", "*", "2025-01-01 00:00:00.5+00", "infinity", "2030-01-01 00:00:00+00",
	     ""},
	};
	PGresult *res = make_result(rows, 2);
	char *csv = render(res);

	(void)state;
	assert_string_equal(
	    csv, "\"subject_id\",\"recipient\",\"fields\",\"granted_at\",\"expires_at\","
		 "\"withdrawn_at\",\"purpose\"\r\n"
		 "\"u1\",\"ads\",\"phone|email\",\"2025-01-01T00:00:00Z\",\"\",\"\",\"say "
		 "\"\"hi\"\", then\nbye\"\r\n"
		 "\"#u2\",\"a,b\",\"*\",\"2025-01-01T00:00:00.5Z\",\"\",\"2030-01-01T00:00:00Z\","
		 "\"\"\r\n");
	free(csv);
	PQclear(res);
}

/* Load the rendering of rows through consent.c as a -c URL would; stderr into err. */
static int load_rows(const char *const (*rows)[NCOLS], int nrows, struct consent_db **db, char *err,
		     size_t errlen)
{
	PGresult *res = make_result(rows, nrows);
	char *csv = render(res), path[] = "/tmp/cs_consent_pg_XXXXXX";
	struct capture cap;
	int rc;

	PQclear(res);
	tmp_write(path, csv);
	free(csv);
	capture_begin(&cap);
	rc = consent_load_named(db, path, "postgresql://h/d?table=consent", "consent", NULL);
	capture_end(&cap, err, errlen);
	unlink(path);
	return rc;
}

static void test_load(void **state)
{
	static const char *const rows[][NCOLS] = {
	    {"u\"1,\n", "ads", "phone", "2025-01-01 00:00:00+00", NULL, NULL, "a, \"b\""},
	    {"#u2", "ads", "email", "2025-01-01 00:00:00+00", "infinity", NULL, NULL},
	};
	static const char *const bad[][NCOLS] = {
	    {"u1", "ads", "phone", "2025-01-01 00:00:00+00", NULL, NULL, NULL},
	    {"u2", "ads", "fax", "2025-01-01 00:00:00+00", NULL, NULL, NULL},
	};
	__s64 t = 1767225600LL * 1000000000LL; /* 2026-01-01 */
	struct consent_db *db = NULL;
	const char *ids[2];
	unsigned nids;
	char err[4096];

	(void)state;
	assert_int_equal(load_rows(rows, 2, &db, err, sizeof(err)), 0);
	assert_int_equal(consent_count(db), 2);
	/* the quote, comma and line break are part of the subject id; ids name table and line
	 * (the header is line 1; the first row, with a line break, takes lines 2-3) */
	assert_int_equal(
	    consent_covered(db, "u\"1,\n", "ads", FIELD_BIT(CS_F_PHONE), t, ids, &nids, 2),
	    FIELD_BIT(CS_F_PHONE));
	assert_int_equal(nids, 1);
	assert_string_equal(ids[0], "consent:2");
	/* '#' starts no comment inside a quoted cell; infinity is unbounded */
	assert_int_equal(consent_covered(db, "#u2", "ads", FIELD_BIT(CS_F_EMAIL), t, ids, &nids, 2),
			 FIELD_BIT(CS_F_EMAIL));
	assert_string_equal(ids[0], "consent:4");
	consent_free(db);

	db = (struct consent_db *)0x1;
	assert_int_equal(load_rows(bad, 2, &db, err, sizeof(err)), -EINVAL);
	assert_null(db);
	assert_non_null(strstr(err, "postgresql://h/d?table=consent:3: unknown field type 'fax'"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_url),	 cmocka_unit_test(test_url_errors),
	    cmocka_unit_test(test_time), cmocka_unit_test(test_render),
	    cmocka_unit_test(test_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
