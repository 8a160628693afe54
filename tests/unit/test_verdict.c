// SPDX-License-Identifier: GPL-2.0-only
/*
 * The verdict of spec §6-7 as a table: every rule of §7 alone and together (purpose, separate
 * consent for sensitive fields, a guardian for minors, cross-border consent), both law profiles,
 * unknown recipients placed by country, and times at the edges of consent windows and of a
 * minor's birthday. Then the same subjects against files without the §7 columns: §6 verdicts.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "fpdb/fpfile.h"
#include "lib/fields.h"
#include "lib/timeutil.h"
#include "verdict/consent.h"
#include "verdict/correlate.h"
#include "verdict/law.h"
#include "verdict/recipients.h"
#include "testutil.h"

static char dir[] = "/tmp/cs_verdict_XXXXXX";
static struct recipients *rcpts, *rcpts_old;
static struct consent_db *consent, *consent_old;
static struct fpdb db;

/* subject indexes of the DB */
enum { ADULT, KID };

static const char recipients_csv[] = "recipient,kind,match,country,purpose\n"
				     "own,first-party,10.1.0.0/16,CN,\n"
				     "proc,processor,10.2.0.0/16,US,storage\n"
				     "ads,third-party,ads.example/v1/audience,CN,advertising\n"
				     "ads,third-party,ads.example/v1/fraud,CN,fraud-check\n"
				     "ads,third-party,ads.example,CN,\n"
				     "global,third-party,global.example,US,analytics\n"
				     "nopurpose,third-party,10.5.0.0/16,,\n"
				     "swiss,third-party,ch.example,CH,analytics\n"
				     "french,third-party,fr.example,FR,analytics\n";

/* line numbers are the consent_ids: consent.csv:N */
static const char consent_csv[] =
    "subject_id,recipient,fields,granted_at,expires_at,withdrawn_at,purpose,separate,"
    "cross_border,guardian\n"
    /* 2 */ "adult,ads,phone,2026-01-01T00:00:00Z,2027-01-01T00:00:00Z,,fraud-check,,,\n"
    /* 3 */ "adult,ads,national_id,2026-01-01T00:00:00Z,,,fraud-check,no,,\n"
    /* 4 */
    "adult,global,phone|national_id,2026-01-01T00:00:00Z,,2026-09-01T00:00:00Z,analytics,yes,"
    "yes,\n"
    /* 5 */ "adult,global,phone,2026-01-01T00:00:00Z,,,analytics,,no,\n"
    /* 6 */ "kid,ads,*,2026-01-01T00:00:00Z,,,,yes,,yes\n"
    /* 7 */ "kid,global,phone,2026-01-01T00:00:00Z,,,analytics,,yes,\n"
    /* 8 */ "adult,nopurpose,phone,2026-01-01T00:00:00Z,,,advertising,,,\n"
    /* 9 */ "adult,ads,email,2026-01-01T00:00:00Z,,,advertising|fraud-check,,,\n"
    /* 10 */ "adult,swiss,phone,2026-01-01T00:00:00Z,,,analytics,,,\n"
    /* 11 */ "adult,french,phone,2026-01-01T00:00:00Z,,,analytics,,,\n"
    /* 12 */ "kid,swiss,phone,2026-01-01T00:00:00Z,,,analytics,,,yes\n";

/* the same consents in a file of spec §6 (no separate, cross_border or guardian column) */
static const char consent_old_csv[] =
    "subject_id,recipient,fields,granted_at,expires_at,withdrawn_at,purpose\n"
    "adult,ads,phone|national_id,2026-01-01T00:00:00Z,2027-01-01T00:00:00Z,,\n"
    "kid,global,phone,2026-01-01T00:00:00Z,,,\n"
    "adult,global,phone,2026-01-01T00:00:00Z,,2026-09-01T00:00:00Z,\n";

static const char recipients_old_csv[] = "recipient,kind,match\n"
					 "own,first-party,10.1.0.0/16\n"
					 "ads,third-party,ads.example\n"
					 "global,third-party,global.example\n";

#define PH  FIELD_BIT(CS_F_PHONE)
#define NID FIELD_BIT(CS_F_NATIONAL_ID)
#define EM  FIELD_BIT(CS_F_EMAIL)

#define NOC CV_NO_CONSENT
#define PUR CV_PURPOSE
#define SEP CV_SEPARATE
#define GUA CV_GUARDIAN
#define XB  CV_CROSS_BORDER

struct vcase {
	const char *name;
	int subject;
	__u32 fields;
	const char *ip, *host, *path;
	const char *time;
	const char *law; /* NULL: pipl */
	int old;	 /* the files without the §7 columns */
	/* expected */
	enum verdict verdict;
	__u32 violations, unconsented;
	const char *ids; /* comma-separated consent_ids, "" for none */
	int cross_border, minor;
};

#define T26 "2026-06-01T00:00:00Z"

static const struct vcase cases[] = {
    /* §6 and purpose */
    {"purpose matches the request path", ADULT, PH, "192.0.2.1", "ads.example", "/v1/fraud/x", T26,
     NULL, 0, V_CONSENTED, 0, 0, "consent.csv:2", 0, 0},
    {"purpose differs: advertising path", ADULT, PH, "192.0.2.1", "ads.example", "/v1/audience",
     T26, NULL, 0, V_UNCONSENTED, PUR, PH, "", 0, 0},
    {"no purpose on the row: any consent purpose", ADULT, PH, "192.0.2.1", "ads.example", "/", T26,
     NULL, 0, V_CONSENTED, 0, 0, "consent.csv:2", 0, 0},
    {"no request path (SNI only)", ADULT, PH, "192.0.2.1", "ads.example", NULL, T26, NULL, 0,
     V_CONSENTED, 0, 0, "consent.csv:2", 0, 0},
    {"one of two consented purposes", ADULT, EM, "192.0.2.1", "ads.example", "/v1/audience", T26,
     NULL, 0, V_CONSENTED, 0, 0, "consent.csv:9", 0, 0},
    {"recipient without purposes: consent purpose not checked", ADULT, PH, "10.5.0.9", NULL, NULL,
     T26, NULL, 0, V_CONSENTED, 0, 0, "consent.csv:8", -1, 0},
    /* time window edges */
    {"at granted_at", ADULT, PH, "192.0.2.1", "ads.example", "/v1/fraud", "2026-01-01T00:00:00Z",
     NULL, 0, V_CONSENTED, 0, 0, "consent.csv:2", 0, 0},
    {"1 us before granted_at", ADULT, PH, "192.0.2.1", "ads.example", "/v1/fraud",
     "2025-12-31T23:59:59.999999Z", NULL, 0, V_UNCONSENTED, NOC, PH, "", 0, 0},
    {"1 us before expires_at", ADULT, PH, "192.0.2.1", "ads.example", "/v1/fraud",
     "2026-12-31T23:59:59.999999Z", NULL, 0, V_CONSENTED, 0, 0, "consent.csv:2", 0, 0},
    {"at expires_at", ADULT, PH, "192.0.2.1", "ads.example", "/v1/fraud", "2027-01-01T00:00:00Z",
     NULL, 0, V_UNCONSENTED, NOC, PH, "", 0, 0},
    {"expired, wrong purpose too: no-consent only", ADULT, PH, "192.0.2.1", "ads.example",
     "/v1/audience", "2027-02-01T00:00:00Z", NULL, 0, V_UNCONSENTED, NOC, PH, "", 0, 0},
    /* sensitive fields: separate consent */
    {"sensitive field, separate=no", ADULT, NID, "192.0.2.1", "ads.example", "/v1/fraud", T26, NULL,
     0, V_UNCONSENTED, SEP, NID, "", 0, 0},
    {"sensitive and plain: only the sensitive one", ADULT, PH | NID, "192.0.2.1", "ads.example",
     "/v1/fraud", T26, NULL, 0, V_UNCONSENTED, SEP, NID, "consent.csv:2", 0, 0},
    {"sensitive, wrong purpose: both", ADULT, NID, "192.0.2.1", "ads.example", "/v1/audience", T26,
     NULL, 0, V_UNCONSENTED, SEP | PUR, NID, "", 0, 0},
    {"sensitive, separate and cross-border yes", ADULT, NID, "192.0.2.2", "global.example", "/",
     "2026-08-31T23:59:59Z", NULL, 0, V_CONSENTED, 0, 0, "consent.csv:4", 1, 0},
    {"at withdrawn_at of the separate consent", ADULT, NID, "192.0.2.2", "global.example", "/",
     "2026-09-01T00:00:00Z", NULL, 0, V_UNCONSENTED, NOC | SEP | XB, NID, "", 1, 0},
    /* cross-border (PIPL: outside CN) */
    {"abroad with cross_border=yes", ADULT, PH, "192.0.2.2", "global.example", "/",
     "2026-08-01T00:00:00Z", NULL, 0, V_CONSENTED, 0, 0, "consent.csv:4", 1, 0},
    {"abroad after the cross-border row was withdrawn", ADULT, PH, "192.0.2.2", "global.example",
     "/", "2026-10-01T00:00:00Z", NULL, 0, V_UNCONSENTED, XB, PH, "", 1, 0},
    {"abroad, row without cross_border (CH)", ADULT, PH, "192.0.2.3", "ch.example", "/", T26, NULL,
     0, V_UNCONSENTED, XB, PH, "", 1, 0},
    {"abroad, row without cross_border (FR)", ADULT, PH, "192.0.2.3", "fr.example", "/", T26, NULL,
     0, V_UNCONSENTED, XB, PH, "", 1, 0},
    {"jurisdiction US: global is domestic", ADULT, PH, "192.0.2.2", "global.example", "/",
     "2026-10-01T00:00:00Z", "pipl:US", 0, V_CONSENTED, 0, 0, "consent.csv:5", 0, 0},
    {"jurisdiction US: ads (CN) is abroad", ADULT, PH, "192.0.2.1", "ads.example", "/v1/fraud", T26,
     "pipl:US", 0, V_UNCONSENTED, XB, PH, "", 1, 0},
    /* GDPR: EEA and adequacy */
    {"gdpr: FR is inside the EEA", ADULT, PH, "192.0.2.3", "fr.example", "/", T26, "gdpr", 0,
     V_CONSENTED, 0, 0, "consent.csv:11", 0, 0},
    {"gdpr: CH has an adequacy decision", ADULT, PH, "192.0.2.3", "ch.example", "/", T26, "gdpr", 0,
     V_CONSENTED, 0, 0, "consent.csv:10", 0, 0},
    {"gdpr: US needs cross_border", ADULT, PH, "192.0.2.2", "global.example", "/",
     "2026-10-01T00:00:00Z", "gdpr", 0, V_UNCONSENTED, XB, PH, "", 1, 0},
    {"gdpr: CN needs cross_border", ADULT, PH, "192.0.2.1", "ads.example", "/v1/fraud", T26, "gdpr",
     0, V_UNCONSENTED, XB, PH, "", 1, 0},
    /* minors (born 2015-06-15: 14 on 2029-06-15, 16 on 2031-06-15) */
    {"minor with guardian=yes", KID, PH, "192.0.2.1", "ads.example", "/v1/audience", T26, NULL, 0,
     V_CONSENTED, 0, 0, "consent.csv:6", 0, 1},
    {"minor, sensitive: separate and guardian yes", KID, NID, "192.0.2.1", "ads.example", "/", T26,
     NULL, 0, V_CONSENTED, 0, 0, "consent.csv:6", 0, 1},
    {"minor without guardian, abroad consented", KID, PH, "192.0.2.2", "global.example", "/", T26,
     NULL, 0, V_UNCONSENTED, GUA, PH, "", 1, 1},
    {"the day before the 14th birthday", KID, PH, "192.0.2.2", "global.example", "/",
     "2029-06-14T23:59:59Z", NULL, 0, V_UNCONSENTED, GUA, PH, "", 1, 1},
    {"on the 14th birthday: no longer a minor (pipl)", KID, PH, "192.0.2.2", "global.example", "/",
     "2029-06-15T00:00:00Z", NULL, 0, V_CONSENTED, 0, 0, "consent.csv:7", 1, 0},
    {"gdpr: 14 is still a child", KID, PH, "192.0.2.3", "ch.example", "/", "2029-06-15T00:00:00Z",
     "gdpr", 0, V_CONSENTED, 0, 0, "consent.csv:12", 0, 1},
    {"gdpr: the day before the 16th birthday", KID, PH, "192.0.2.3", "fr.example", "/",
     "2031-06-14T23:59:59Z", "gdpr", 0, V_UNCONSENTED, NOC | GUA, PH, "", 0, 1},
    {"gdpr: on the 16th birthday", KID, PH, "192.0.2.3", "fr.example", "/", "2031-06-15T00:00:00Z",
     "gdpr", 0, V_UNCONSENTED, NOC, PH, "", 0, 0},
    {"minor, abroad, no guardian and no cross-border row", KID, PH, "192.0.2.3", "ch.example", "/",
     T26, NULL, 0, V_UNCONSENTED, XB, PH, "", 1, 1},
    {"minor, no consent at all, sensitive and abroad", KID, NID, "192.0.2.2", "global.example", "/",
     T26, NULL, 0, V_UNCONSENTED, NOC | SEP | GUA | XB, NID, "", 1, 1},
    /* exempt and unknown */
    {"first party: exempt, no violations", KID, NID, "10.1.2.3", NULL, NULL, T26, NULL, 0, V_EXEMPT,
     0, 0, "", 0, 1},
    {"processor abroad: exempt", ADULT, NID, "10.2.0.1", NULL, NULL, T26, NULL, 0, V_EXEMPT, 0, 0,
     "", 1, 0},
    {"unknown recipient, country unknown", ADULT, PH, "192.0.2.99", "unknown.example", NULL, T26,
     NULL, 0, V_UNCONSENTED, NOC, PH, "", -1, 0},
    {"unknown, sensitive, minor", KID, NID, "192.0.2.99", NULL, NULL, T26, NULL, 0, V_UNCONSENTED,
     NOC | SEP | GUA, NID, "", -1, 1},
    {"path prefix is not a path-less match", ADULT, PH, "192.0.2.1", "ads.example", "/v1/audiences",
     T26, NULL, 0, V_CONSENTED, 0, 0, "consent.csv:2", 0, 0},
    /* files without the §7 columns: §6 verdicts */
    {"old files: sensitive without separate column", ADULT, NID, "192.0.2.1", "ads.example",
     "/v1/audience", T26, NULL, 1, V_CONSENTED, 0, 0, "consent.csv:2", -1, 0},
    {"old files: minor without guardian column", KID, PH, "192.0.2.2", "global.example", "/", T26,
     NULL, 1, V_CONSENTED, 0, 0, "consent.csv:3", -1, 1},
    {"old files: after expiry", ADULT, PH | NID, "192.0.2.1", "ads.example", NULL,
     "2027-01-01T00:00:00Z", NULL, 1, V_UNCONSENTED, NOC, PH | NID, "", -1, 0},
    {"old files: withdrawn", ADULT, PH, "192.0.2.2", "global.example", NULL, "2026-09-01T00:00:00Z",
     NULL, 1, V_UNCONSENTED, NOC, PH, "", -1, 0},
    {"old files: first party", ADULT, PH, "10.1.0.1", NULL, NULL, T26, NULL, 1, V_EXEMPT, 0, 0, "",
     -1, 0},
    {"old files: unknown recipient", ADULT, PH, "192.0.2.9", NULL, NULL, T26, NULL, 1,
     V_UNCONSENTED, NOC, PH, "", -1, 0},
};

static void write_file(const char *name, const char *content, char *path, size_t len)
{
	FILE *f;

	snprintf(path, len, "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(content, f);
	assert_int_equal(fclose(f), 0);
}

static __s32 days_of(int y, int m, int d)
{
	struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d};

	return (__s32)(timegm(&tm) / 86400);
}

static int setup(void **state)
{
	char path[256];

	(void)state;
	assert_non_null(mkdtemp(dir));
	write_file("recipients.csv", recipients_csv, path, sizeof(path));
	assert_int_equal(recipients_load(&rcpts, path), 0);
	write_file("consent.csv", consent_csv, path, sizeof(path));
	assert_int_equal(consent_load(&consent, path, rcpts), 0);
	write_file("recipients_old.csv", recipients_old_csv, path, sizeof(path));
	assert_int_equal(recipients_load(&rcpts_old, path), 0);
	/* named consent.csv too, so ids read the same: a subdirectory */
	snprintf(path, sizeof(path), "%s/old", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	write_file("old/consent.csv", consent_old_csv, path, sizeof(path));
	assert_int_equal(consent_load(&consent_old, path, rcpts_old), 0);

	/* two subjects: an adult, and a child born 2015-06-15 */
	db.nsubjects = 2;
	db.subjects = calloc(2, sizeof(char *));
	db.strings = malloc(16);
	assert_non_null(db.subjects);
	assert_non_null(db.strings);
	memcpy(db.strings, "adult\0kid", 10);
	db.subjects[ADULT] = db.strings;
	db.subjects[KID] = db.strings + 6;
	db.sensitive = FPDB_SENSITIVE_DEFAULT;
	db.births = calloc(2, sizeof(*db.births));
	assert_non_null(db.births);
	db.births[0] = (struct fpdb_birth){.subject = ADULT, .days = FPDB_BIRTH_ADULT};
	db.births[1] = (struct fpdb_birth){.subject = KID, .days = days_of(2015, 6, 15)};
	db.nbirths = 2;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	consent_free(consent);
	consent_free(consent_old);
	recipients_free(rcpts);
	recipients_free(rcpts_old);
	fpdb_release(&db);
	return test_rmtree(dir);
}

static void ids_join(const struct finding *f, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = 0;
	for (unsigned i = 0; i < f->nids; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? "," : "", f->consent_ids[i]);
}

static void run_case(const struct vcase *vc)
{
	struct correlator c = {.db = &db};
	struct verdict_dest d;
	struct finding f = {0};
	char law[16] = "pipl", ids[256], *cc;
	__u8 addr[4];
	__s64 t;

	if (vc->law)
		snprintf(law, sizeof(law), "%s", vc->law);
	cc = strchr(law, ':');
	if (cc)
		*cc++ = 0;
	assert_int_equal(law_profile_init(&c.law, law, cc), 0);
	c.rcpts = vc->old ? rcpts_old : rcpts;
	c.consent = vc->old ? consent_old : consent;
	assert_int_equal(inet_pton(AF_INET, vc->ip, addr), 1);
	assert_int_equal(rfc3339_parse(vc->time, &t), 0);
	correlate_dest(&c, &d, AF_INET, addr, 443, vc->host, vc->path);
	f.subject = fpdb_subject(&db, (__u32)vc->subject);
	f.fields = vc->fields;
	f.rcpt = d.m.rcpt;
	correlate_verdict(&c, &f, (__u32)vc->subject, &d, t);
	ids_join(&f, ids, sizeof(ids));
	if (f.verdict != vc->verdict || f.violations != vc->violations ||
	    f.unconsented != vc->unconsented || strcmp(ids, vc->ids) ||
	    f.cross_border != vc->cross_border || f.minor != vc->minor ||
	    (f.violations != 0) != (f.verdict == V_UNCONSENTED))
		fail_msg("case '%s': verdict %d (want %d) violations %#x (%#x) unconsented %#x "
			 "(%#x) ids '%s' ('%s') cross_border %d (%d) minor %d (%d)",
			 vc->name, f.verdict, vc->verdict, f.violations, vc->violations,
			 f.unconsented, vc->unconsented, ids, vc->ids, f.cross_border,
			 vc->cross_border, f.minor, vc->minor);
	/* sensitive_fields: the disclosed fields of the DB's sensitive set, whatever the verdict */
	assert_int_equal(f.sensitive, vc->fields & FPDB_SENSITIVE_DEFAULT);
}

static void test_table(void **state)
{
	(void)state;
	assert_true(sizeof(cases) / sizeof(cases[0]) >= 40);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i]);
}

/* The rules a file can express follow its columns. */
static void test_rules(void **state)
{
	(void)state;
	assert_int_equal(consent_rules(consent),
			 CR_PURPOSE | CR_SEPARATE | CR_CROSS_BORDER | CR_GUARDIAN);
	assert_int_equal(consent_rules(consent_old), CR_PURPOSE);
	assert_int_equal(consent_dead(consent), 0);
}

static void test_law_profiles(void **state)
{
	struct law_profile p;

	(void)state;
	assert_int_equal(law_profile_init(&p, NULL, NULL), 0);
	assert_string_equal(p.jurisdiction, "CN");
	assert_int_equal(p.minor_age, 14);
	assert_int_equal(law_cross_border(&p, "CN"), 0);
	assert_int_equal(law_cross_border(&p, "HK"), 1);
	assert_int_equal(law_cross_border(&p, ""), -1);
	assert_int_equal(law_profile_init(&p, "gdpr", NULL), 0);
	assert_int_equal(p.minor_age, 16);
	assert_int_equal(law_cross_border(&p, "NO"), 0);
	assert_int_equal(law_cross_border(&p, "GB"), 0);
	assert_int_equal(law_cross_border(&p, "US"), 1);
	assert_int_equal(law_profile_init(&p, "gdpr", "IE"), 0);
	assert_int_equal(law_profile_init(&p, "gdpr", "US"), -EINVAL);
	assert_int_equal(law_profile_init(&p, "pipl", "XX"), -EINVAL);
	assert_int_equal(law_profile_init(&p, "pipl", "cn"), -EINVAL);
	assert_int_equal(law_profile_init(&p, "ccpa", NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_rules),
	    cmocka_unit_test(test_law_profiles),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
