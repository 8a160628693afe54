// SPDX-License-Identifier: GPL-2.0-only
/*
 * Correlator: kernel hits -> findings. Builds a fingerprint DB with enroll's own functions,
 * feeds synthetic events and checks subjects, fields, weak-field rule, recipient resolution
 * (IP, CIDR, Host header) and consent verdicts.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "verdict/consent.h"
#include "verdict/correlate.h"
#include "enroll/enroll.h"
#include "lib/fields.h"
#include "fpdb/fpfile.h"
#include "monitor/message.h"
#include "verdict/recipients.h"
#include "lib/timeutil.h"
#include "testlib.h"

static const struct cs_key key = {0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL,
				  0x1716151413121110ULL, 0x1f1e1d1c1b1a1918ULL, 0};

/* Invented subjects. */
static const struct test_row rows[] = {
    {"s1", CS_F_PHONE, "13712340001"},
    {"s1", CS_F_EMAIL, "zhang.wei@example.com"},
    {"s1", CS_F_NAME, "Wei Zhang"},
    {"s2", CS_F_PHONE, "15898760002"},
    {"s2", CS_F_NAME, "李娜"},
    {"s3", CS_F_EMAIL, "shared@example.org"},
    {"s4", CS_F_EMAIL, "shared@example.org"},
};

static struct fpdb db;
static struct recipients *rcpts;
static struct consent_db *consent;
static char dir[] = "/tmp/cs_corr_XXXXXX";

static __u64 fp_of(int field, const char *v, unsigned part)
{
	return test_fp_of(&key, field, v, part);
}

static int setup(void **state)
{
	(void)state;
	assert_non_null(mkdtemp(dir));
	test_db_build(&db, &key, rows, sizeof(rows) / sizeof(rows[0]));

	test_tables_load(dir, "",
			 "recipient,kind,match\n"
			 "acme,first-party,10.1.0.0/16\n"
			 "mailer,processor,10.2.0.5\n"
			 "adpartner,third-party,10.3.0.0/16 *.ads.example\n"
			 "broker,third-party,10.3.3.3:8080 2001:db8::/32\n",
			 "subject_id,recipient,fields,granted_at,expires_at,withdrawn_at,purpose\n"
			 "s1,adpartner,phone,2026-01-01T00:00:00Z,,,ads\n"
			 "s1,adpartner,email,2026-01-01T00:00:00Z,,2026-06-01T00:00:00Z,ads\n"
			 "s2,broker,*,2026-01-01T00:00:00Z,2026-12-31T00:00:00Z,,resale\n",
			 &rcpts, &consent);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	consent_free(consent);
	recipients_free(rcpts);
	fpdb_release(&db);
	return test_rmtree(dir);
}

#define MAXF 8
struct got {
	struct finding f[MAXF];
	char host[MAXF][64];
	int n;
};

static int collect(const struct cs_event *ev, const struct finding *f, const char *host, __s64 t_ns,
		   void *ctx)
{
	struct got *g = ctx;

	(void)ev;
	(void)t_ns;
	assert_true(g->n < MAXF);
	g->f[g->n] = *f;
	snprintf(g->host[g->n], sizeof(g->host[0]), "%s", host ? host : "");
	g->n++;
	return 0;
}

static struct cs_event make_event(const char *ip, __u16 port, const char *host)
{
	struct cs_event ev = {0};

	if (strchr(ip, ':')) {
		assert_int_equal(inet_pton(AF_INET6, ip, ev.daddr), 1);
		ev.flags |= CS_EV_ADDR_V6;
	} else {
		assert_int_equal(inet_pton(AF_INET, ip, ev.daddr), 1);
	}
	ev.dport = port;
	ev.channel = CS_CH_SYSCALL;
	if (host) {
		snprintf((char *)ev.host, sizeof(ev.host), "%s", host);
		ev.flags |= CS_EV_HOST;
	}
	return ev;
}

static void add_hit(struct cs_event *ev, __u64 fp)
{
	ev->hits[ev->nhits].fp = fp;
	ev->hits[ev->nhits].start = ev->nhits * 10;
	ev->hits[ev->nhits].end = ev->nhits * 10 + 5;
	ev->nhits++;
}

static __s64 T(const char *s)
{
	__s64 t;

	assert_int_equal(rfc3339_parse(s, &t), 0);
	return t;
}

static int run(struct cs_event *ev, const char *when, struct got *g)
{
	struct correlator c = {.db = &db, .rcpts = rcpts, .consent = consent};
	int n;

	memset(g, 0, sizeof(*g));
	n = correlate_event(&c, ev, T(when), collect, g);
	correlate_release(&c);
	return n;
}

static void test_unknown_recipient(void **state)
{
	struct cs_event ev = make_event("192.0.2.9", 443, NULL);
	struct got g;

	(void)state;
	add_hit(&ev, fp_of(CS_F_PHONE, "13712340001", 0));
	assert_int_equal(run(&ev, "2026-03-01T00:00:00Z", &g), 1);
	assert_string_equal(g.f[0].subject, "s1");
	assert_int_equal(g.f[0].fields, FIELD_BIT(CS_F_PHONE));
	assert_int_equal(g.f[0].verdict, V_UNCONSENTED);
	assert_int_equal(g.f[0].unconsented, FIELD_BIT(CS_F_PHONE));
	assert_null(g.f[0].rcpt);
}

static void test_exempt(void **state)
{
	struct cs_event ev = make_event("10.1.2.3", 80, NULL),
			ev2 = make_event("10.2.0.5", 25, NULL);
	struct got g;

	(void)state;
	add_hit(&ev, fp_of(CS_F_EMAIL, "zhang.wei@example.com", 0));
	assert_int_equal(run(&ev, "2026-03-01T00:00:00Z", &g), 1);
	assert_int_equal(g.f[0].verdict, V_EXEMPT);
	assert_string_equal(g.f[0].rcpt->name, "acme");
	add_hit(&ev2, fp_of(CS_F_EMAIL, "zhang.wei@example.com", 0));
	assert_int_equal(run(&ev2, "2026-03-01T00:00:00Z", &g), 1);
	assert_int_equal(g.f[0].verdict, V_EXEMPT);
	assert_string_equal(g.f[0].rcpt->name, "mailer");
}

static void test_partial_and_withdrawn(void **state)
{
	struct cs_event ev = make_event("10.3.1.1", 443, NULL);
	struct got g;

	(void)state;
	add_hit(&ev, fp_of(CS_F_PHONE, "13712340001", 0));
	add_hit(&ev, fp_of(CS_F_EMAIL, "zhang.wei@example.com", 0));
	/* both consented before the email consent was withdrawn */
	assert_int_equal(run(&ev, "2026-03-01T00:00:00Z", &g), 1);
	assert_int_equal(g.f[0].verdict, V_CONSENTED);
	assert_int_equal(g.f[0].fields, FIELD_BIT(CS_F_PHONE) | FIELD_BIT(CS_F_EMAIL));
	assert_int_equal(g.f[0].nids, 2);
	/* after withdrawal: only the email is unconsented */
	assert_int_equal(run(&ev, "2026-07-01T00:00:00Z", &g), 1);
	assert_int_equal(g.f[0].verdict, V_UNCONSENTED);
	assert_int_equal(g.f[0].unconsented, FIELD_BIT(CS_F_EMAIL));
	/* before the grant: both */
	assert_int_equal(run(&ev, "2025-12-31T23:59:59Z", &g), 1);
	assert_int_equal(g.f[0].unconsented, FIELD_BIT(CS_F_PHONE) | FIELD_BIT(CS_F_EMAIL));
}

static void test_weak_fields(void **state)
{
	struct cs_event alone = make_event("10.3.1.1", 443, NULL);
	struct cs_event with = make_event("10.3.1.1", 443, NULL);
	struct cs_event half = make_event("10.3.1.1", 443, NULL);
	struct cs_event other = make_event("10.3.1.1", 443, NULL);
	struct got g;

	(void)state;
	/* the name alone (both parts) is no finding */
	add_hit(&alone, fp_of(CS_F_NAME, "Wei Zhang", 0));
	add_hit(&alone, fp_of(CS_F_NAME, "Wei Zhang", 1));
	assert_int_equal(run(&alone, "2026-03-01T00:00:00Z", &g), 0);
	/* beside the phone, with every part: name counts */
	with = alone;
	add_hit(&with, fp_of(CS_F_PHONE, "13712340001", 0));
	assert_int_equal(run(&with, "2026-03-01T00:00:00Z", &g), 1);
	assert_int_equal(g.f[0].fields, FIELD_BIT(CS_F_PHONE) | FIELD_BIT(CS_F_NAME));
	assert_int_equal(g.f[0].unconsented, FIELD_BIT(CS_F_NAME));
	/* one part of two is not the name */
	add_hit(&half, fp_of(CS_F_NAME, "Wei Zhang", 0));
	add_hit(&half, fp_of(CS_F_PHONE, "13712340001", 0));
	assert_int_equal(run(&half, "2026-03-01T00:00:00Z", &g), 1);
	assert_int_equal(g.f[0].fields, FIELD_BIT(CS_F_PHONE));
	/* s2's name beside s1's phone does not attach to s1, nor create s2 */
	add_hit(&other, fp_of(CS_F_NAME, "李娜", 0));
	add_hit(&other, fp_of(CS_F_PHONE, "13712340001", 0));
	assert_int_equal(run(&other, "2026-03-01T00:00:00Z", &g), 1);
	assert_string_equal(g.f[0].subject, "s1");
	assert_int_equal(g.f[0].fields, FIELD_BIT(CS_F_PHONE));
}

static void test_one_finding_per_subject(void **state)
{
	struct cs_event ev = make_event("10.3.1.1", 443, NULL);
	struct got g;

	(void)state;
	/* phone variants of one subject: still one finding, one field */
	add_hit(&ev, fp_of(CS_F_PHONE, "13712340001", 0));
	add_hit(&ev, fp_of(CS_F_PHONE, "13712340001", 1));
	add_hit(&ev, fp_of(CS_F_PHONE, "15898760002", 0));
	assert_int_equal(run(&ev, "2026-03-01T00:00:00Z", &g), 2);
	assert_string_equal(g.f[0].subject, "s1");
	assert_int_equal(g.f[0].nfps, 2);
	assert_string_equal(g.f[1].subject, "s2");
	/* a value two subjects share is a disclosure of both */
	ev = make_event("10.3.1.1", 443, NULL);
	add_hit(&ev, fp_of(CS_F_EMAIL, "shared@example.org", 0));
	assert_int_equal(run(&ev, "2026-03-01T00:00:00Z", &g), 2);
}

static void test_unconfirmed_hit(void **state)
{
	struct cs_event ev = make_event("10.3.1.1", 443, NULL);
	struct correlator c = {.db = &db, .rcpts = rcpts, .consent = consent};
	struct got g = {0};

	(void)state;
	add_hit(&ev, 0x1234567812345678ULL); /* a tag collision the exact table rejects */
	assert_int_equal(correlate_event(&c, &ev, T("2026-03-01T00:00:00Z"), collect, &g), 0);
	assert_int_equal(c.stats.unconfirmed, 1);
	correlate_release(&c);
}

static void test_host_and_v6(void **state)
{
	struct cs_event ev = make_event("192.0.2.1", 443, "Beacon.ADS.example:8443");
	struct cs_event v6 = make_event("2001:db8::7", 443, NULL);
	struct cs_event port = make_event("10.3.3.3", 8080, NULL);
	struct got g;

	(void)state;
	add_hit(&ev, fp_of(CS_F_PHONE, "15898760002", 0));
	assert_int_equal(run(&ev, "2026-03-01T00:00:00Z", &g), 1);
	assert_string_equal(g.f[0].rcpt->name, "adpartner");
	assert_string_equal(g.host[0], "beacon.ads.example");
	/* IPv6 CIDR, consent '*' for s2 -> consented */
	add_hit(&v6, fp_of(CS_F_PHONE, "15898760002", 0));
	assert_int_equal(run(&v6, "2026-03-01T00:00:00Z", &g), 1);
	assert_string_equal(g.f[0].rcpt->name, "broker");
	assert_int_equal(g.f[0].verdict, V_CONSENTED);
	/* IP:port beats the adpartner CIDR */
	add_hit(&port, fp_of(CS_F_PHONE, "15898760002", 0));
	assert_int_equal(run(&port, "2026-03-01T00:00:00Z", &g), 1);
	assert_string_equal(g.f[0].rcpt->name, "broker");
	/* consent expired */
	assert_int_equal(run(&port, "2027-01-01T00:00:00Z", &g), 1);
	assert_int_equal(g.f[0].verdict, V_UNCONSENTED);
}

/* A weak part that comes twice (two batches of one send) is still one part. */
static void test_repeated_weak_part(void **state)
{
	struct cs_event ev = make_event("192.0.2.9", 443, NULL);
	struct correlator c = {.db = &db, .rcpts = rcpts, .consent = consent};
	struct msg m = {0};
	struct got g = {0};

	(void)state;
	msg_reset(&m, &ev);
	assert_int_equal(msg_add(&m, fp_of(CS_F_PHONE, "13712340001", 0), 40, 51, 0), 0);
	assert_int_equal(msg_add(&m, fp_of(CS_F_NAME, "Wei Zhang", 0), 10, 13, 0), 0);
	assert_int_equal(msg_add(&m, fp_of(CS_F_NAME, "Wei Zhang", 0), 90, 93, 0), 0);
	assert_int_equal(msg_add(&m, fp_of(CS_F_PHONE, "13712340001", 0), 5, 16, 0), 0);
	assert_int_equal(correlate_message(&c, &m, T("2026-03-01T00:00:00Z"), collect, &g), 1);
	assert_int_equal(g.f[0].fields, FIELD_BIT(CS_F_PHONE));
	/* the phone once, the name part once (listed as evidence, not as a field) */
	assert_int_equal(g.f[0].nfps, 2);
	assert_int_equal(g.f[0].first_off, 5);
	assert_int_equal(g.f[0].msg_subjects, 1);
	msg_release(&m);
	correlate_release(&c);
}

#define BULK 10000

struct bulk_got {
	unsigned n;
	unsigned char seen[BULK];
	char id[32];
	int bad;
};

static int bulk_collect(const struct cs_event *ev, const struct finding *f, const char *host,
			__s64 t_ns, void *ctx)
{
	struct bulk_got *g = ctx;
	unsigned i;

	(void)ev;
	(void)host;
	(void)t_ns;
	if (sscanf(f->subject, "b%u", &i) != 1 || i >= BULK || g->seen[i]++ ||
	    f->msg_subjects != BULK || f->fields != FIELD_BIT(CS_F_PHONE) ||
	    (g->n && strcmp(g->id, f->msg_id)))
		g->bad++;
	snprintf(g->id, sizeof(g->id), "%s", f->msg_id);
	g->n++;
	return 0;
}

/* One message naming 10,000 subjects, each hit twice (as two kernel batches would): 10,000
 * findings, one per subject, all with the message's id and its subject count. */
static void test_bulk_message(void **state)
{
	struct fpdb big = {0};
	struct cs_event ev = make_event("192.0.2.9", 443, NULL);
	struct correlator c = {.db = &big, .rcpts = rcpts, .consent = consent, .instance = 0xabc};
	struct msg m = {0};
	struct bulk_got *g = calloc(1, sizeof(*g));
	char name[16];

	(void)state;
	assert_non_null(g);
	big.entries = calloc(BULK, sizeof(*big.entries));
	big.subjects = calloc(BULK, sizeof(char *));
	assert_non_null(big.entries);
	assert_non_null(big.subjects);
	for (unsigned i = 0; i < BULK; i++) {
		snprintf(name, sizeof(name), "b%05u", i);
		big.subjects[i] = strdup(name);
		big.entries[i] = (struct fp_entry){.fp = (i + 1) * 0x9e3779b97f4a7c15ULL,
						   .subject = i,
						   .field = CS_F_PHONE,
						   .nparts = 1};
	}
	big.nsubjects = big.nentries = BULK;
	big.nentries = fp_entries_sort(big.entries, big.nentries);
	ev.seq = 77;
	msg_reset(&m, &ev);
	for (unsigned r = 0; r < 2; r++)
		for (unsigned i = 0; i < BULK; i++)
			assert_int_equal(
			    msg_add(&m, (i + 1) * 0x9e3779b97f4a7c15ULL, i * 40, i * 40 + 11, 0),
			    0);
	assert_int_equal(correlate_message(&c, &m, T("2026-03-01T00:00:00Z"), bulk_collect, g),
			 BULK);
	assert_int_equal(g->n, BULK);
	assert_int_equal(g->bad, 0);
	assert_string_equal(g->id, "00000abc-77");
	/* the scratch sized for 10,000 serves a small message next */
	msg_reset(&m, &ev);
	assert_int_equal(msg_add(&m, 3 * 0x9e3779b97f4a7c15ULL, 0, 11, 0), 0);
	memset(g, 0, sizeof(*g));
	assert_int_equal(correlate_message(&c, &m, T("2026-03-01T00:00:00Z"), bulk_collect, g), 1);
	msg_release(&m);
	correlate_release(&c);
	for (unsigned i = 0; i < BULK; i++)
		free(big.subjects[i]);
	free(big.subjects);
	free(big.entries);
	free(g);
}

static void test_host_strip(void **state)
{
	char a[] = "Api.Example.com:443", b[] = "[2001:db8::1]:8443", c[] = "2001:db8::1",
	     d[] = "plain";

	(void)state;
	host_strip_port(a);
	host_strip_port(b);
	host_strip_port(c);
	host_strip_port(d);
	assert_string_equal(a, "api.example.com");
	assert_string_equal(b, "2001:db8::1");
	assert_string_equal(c, "2001:db8::1");
	assert_string_equal(d, "plain");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_unknown_recipient),
	    cmocka_unit_test(test_exempt),
	    cmocka_unit_test(test_partial_and_withdrawn),
	    cmocka_unit_test(test_weak_fields),
	    cmocka_unit_test(test_one_finding_per_subject),
	    cmocka_unit_test(test_unconfirmed_hit),
	    cmocka_unit_test(test_host_and_v6),
	    cmocka_unit_test(test_host_strip),
	    cmocka_unit_test(test_repeated_weak_part),
	    cmocka_unit_test(test_bulk_message),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
