// SPDX-License-Identifier: GPL-2.0-only
/*
 * run --block's tables without a kernel (monitor/enforce.c with no map fds): the (fingerprint,
 * recipient) consent pairs at several times and under the §7 rules, consent window edges, the
 * recipients walk, DNS addresses taken for host selectors, and the host hash the kernel computes
 * from a name's end (bpf/lib/enforce.bpf.h) against cs_host_hash.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "cs_abi.h"
#include "cs_hash.h"
#include "monitor/enforce.h"
#include "verdict/consent.h"
#include "verdict/law.h"
#include "verdict/recipients.h"
#include "lib/timeutil.h"
#include "testlib.h"

static const struct cs_key key = {0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL,
				  0x1716151413121110ULL, 0x1f1e1d1c1b1a1918ULL, 0};

/* Invented subjects. */
static const struct test_row rows[] = {
    {"s1", CS_F_PHONE, "13712340001"},
    {"s1", CS_F_EMAIL, "zhang.wei@example.com"},
    {"s1", CS_F_NATIONAL_ID, "310115198511122624"},
    {"s1", CS_F_NAME, "Wei Zhang"},
    {"s2", CS_F_PHONE, "15898760002"},
    {"s3", CS_F_EMAIL, "li.na@example.org"},
};

static struct fpdb db;
static struct recipients *rcpts;
static struct consent_db *consent;
static struct law_profile law;
static char dir[] = "/tmp/cs_enf_XXXXXX";
static const struct enforce_maps nomaps = {-1, -1, -1, -1, -1, -1, NULL};

static int setup(void **state)
{
	(void)state;
	assert_non_null(mkdtemp(dir));
	test_db_build(&db, &key, rows, sizeof(rows) / sizeof(rows[0]));
	db.sensitive = FPDB_SENSITIVE_DEFAULT;
	assert_int_equal(law_profile_init(&law, "pipl", "CN"), 0);
	test_tables_load(dir, "",
			 "recipient,kind,match,country,purpose\n"
			 "acme,first-party,10.1.0.0/16,,\n"
			 "adpartner,third-party,10.3.0.0/16 *.ads.example,CN,\n"
			 "broker,third-party,10.3.3.3:8080 2001:db8::/32,CN,\n"
			 "usco,third-party,usco.example,US,\n"
			 "tracker,third-party,*.tracker.example,,\n"
			 "tracker-api,third-party,api.tracker.example,,\n"
			 "shop,third-party,shared.example/a,,\n"
			 "bank,third-party,shared.example/b,,\n",
			 "subject_id,recipient,fields,granted_at,expires_at,withdrawn_at,purpose,"
			 "separate,cross_border\n"
			 "s1,adpartner,phone,2026-01-01T00:00:00Z,,,,,\n"
			 "s1,adpartner,email,2026-01-01T00:00:00Z,,2026-06-01T00:00:00Z,,,\n"
			 "s1,broker,*,2026-01-01T00:00:00Z,,,,no,\n"
			 "s1,usco,phone,2026-01-01T00:00:00Z,,,,,no\n"
			 "s1,usco,email,2026-01-01T00:00:00Z,,,,,yes\n"
			 "s2,broker,*,2026-01-01T00:00:00Z,2026-12-31T00:00:00Z,,,,\n"
			 "s2,acme,*,2026-01-01T00:00:00Z,,,,,\n"
			 "s3,adpartner,email,2026-03-01T00:00:00Z,,,,yes,\n"
			 "s9,adpartner,*,2026-01-01T00:00:00Z,,,,,\n",
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

static __s64 at(const char *rfc3339)
{
	__s64 t;

	assert_int_equal(rfc3339_parse(rfc3339, &t), 0);
	return t;
}

static __u64 fp_of(int field, const char *v)
{
	return test_fp_of(&key, field, v, 0);
}

static struct enforce *start(__s64 now)
{
	struct enforce_cfg cfg = {.mode = CS_BLOCK_UNCONSENTED,
				  .db = &db,
				  .law = &law,
				  .b1 = 1000003,
				  .b2 = 998244353 % CS_HOSTH_P};
	struct enforce *e;

	assert_int_equal(enforce_start(&e, &nomaps, &cfg, rcpts, consent, now), 0);
	return e;
}

static __u32 rid(const char *name)
{
	return (__u32)recipients_index(rcpts, recipients_find(rcpts, name));
}

/* Whether (fingerprint of field/value, recipient) is a pair at now. */
static int has_pair(struct enforce *e, __s64 now, int field, const char *v, const char *r)
{
	struct cs_enf_pair *p;
	size_t n;
	int found = 0;

	assert_int_equal(enforce_pairs(e, rcpts, consent, now, &p, &n), 0);
	for (size_t i = 0; i < n; i++)
		if (p[i].fp == fp_of(field, v) && p[i].rid == rid(r))
			found = 1;
	/* sorted by their bytes, no repeats */
	for (size_t i = 1; i < n; i++)
		assert_true(memcmp(&p[i - 1], &p[i], sizeof(p[i])) < 0);
	free(p);
	return found;
}

static void test_pairs_by_time_and_rule(void **state)
{
	__s64 mar = at("2026-03-15T00:00:00Z"), jul = at("2026-07-01T00:00:00Z"),
	      feb = at("2026-02-01T00:00:00Z"), y27 = at("2027-01-01T00:00:00Z");
	struct enforce *e = start(mar);

	(void)state;
	/* consented rows, in their windows */
	assert_true(has_pair(e, mar, CS_F_PHONE, "13712340001", "adpartner"));
	assert_true(has_pair(e, mar, CS_F_EMAIL, "zhang.wei@example.com", "adpartner"));
	/* withdrawn from June on: never retroactive, gone after */
	assert_false(has_pair(e, jul, CS_F_EMAIL, "zhang.wei@example.com", "adpartner"));
	assert_true(has_pair(e, jul, CS_F_PHONE, "13712340001", "adpartner"));
	/* granted in March: not before */
	assert_false(has_pair(e, feb, CS_F_EMAIL, "li.na@example.org", "adpartner"));
	assert_true(has_pair(e, mar, CS_F_EMAIL, "li.na@example.org", "adpartner"));
	/* expired at the end of 2026 */
	assert_true(has_pair(e, mar, CS_F_PHONE, "15898760002", "broker"));
	assert_false(has_pair(e, y27, CS_F_PHONE, "15898760002", "broker"));
	/* a sensitive field needs separate=yes even under '*'; the rest of the row covers */
	assert_false(has_pair(e, mar, CS_F_NATIONAL_ID, "310115198511122624", "broker"));
	assert_true(has_pair(e, mar, CS_F_PHONE, "13712340001", "broker"));
	/* a recipient in the US from CN needs cross_border=yes */
	assert_false(has_pair(e, mar, CS_F_PHONE, "13712340001", "usco"));
	assert_true(has_pair(e, mar, CS_F_EMAIL, "zhang.wei@example.com", "usco"));
	/* first parties need no pairs (the kernel never asks); no pair for another subject */
	assert_false(has_pair(e, mar, CS_F_PHONE, "15898760002", "acme"));
	assert_false(has_pair(e, mar, CS_F_PHONE, "15898760002", "adpartner"));
	enforce_stop(e);
}

static void test_stats_and_next_change(void **state)
{
	__s64 mar = at("2026-03-15T00:00:00Z");
	struct enforce *e = start(mar);
	struct enforce_stats st;

	(void)state;
	enforce_get_stats(e, &st);
	/* s1: phone, email, national id (hash variants of phone and email count too) */
	assert_true(st.fps >= 5);
	assert_int_equal(st.syncs, 1);
	assert_int_equal(st.sync_errors, 0);
	/* shared.example: two recipients told apart by path */
	assert_int_equal(st.host_shared, 1);
	assert_true(st.pairs > 0);
	assert_true(consent_next_change(consent, mar) == at("2026-06-01T00:00:00Z"));
	assert_true(consent_next_change(consent, at("2026-06-01T00:00:00Z")) ==
		    at("2026-12-31T00:00:00Z"));
	assert_true(consent_next_change(consent, at("2027-01-01T00:00:00Z")) == INT64_MAX);
	enforce_stop(e);
}

struct walk_count {
	unsigned n[4];
	int saw_wild, saw_port;
};

static int count_sel(const struct rsel *s, void *arg)
{
	struct walk_count *w = arg;

	w->n[s->type]++;
	if (s->type == RSEL_WILD && !strcmp(s->host, "ads.example"))
		w->saw_wild = s->rcpt == rid("adpartner");
	if (s->type == RSEL_IPPORT && s->port == 8080)
		w->saw_port = s->rcpt == rid("broker");
	return 0;
}

static void test_recipients_walk(void **state)
{
	struct walk_count w = {0};

	(void)state;
	assert_int_equal(recipients_walk(rcpts, count_sel, &w), 0);
	assert_int_equal(w.n[RSEL_NET], 3); /* 10.1/16, 10.3/16, 2001:db8::/32 */
	assert_int_equal(w.n[RSEL_IPPORT], 1);
	assert_int_equal(w.n[RSEL_HOST], 4); /* usco, api.tracker, shared.example twice */
	assert_int_equal(w.n[RSEL_WILD], 2);
	assert_true(w.saw_wild);
	assert_true(w.saw_port);
	assert_int_equal(recipients_count(rcpts), 8);
	assert_string_equal(recipients_at(rcpts, rid("usco"))->name, "usco");
	assert_string_equal(recipients_country(rcpts, rid("usco")), "US");
	assert_null(recipients_country(rcpts, rid("acme")));
}

static void test_dns_for_host_selectors(void **state)
{
	struct enforce *e = start(at("2026-03-15T00:00:00Z"));
	const __u8 a4[4] = {192, 0, 2, 7}, a6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 9};
	struct enforce_stats st;

	(void)state;
	/* exact beats the wildcard; any case; a trailing dot */
	assert_int_equal(enforce_dns(e, AF_INET, a4, "API.tracker.example.", 60, 0),
			 (long)rid("tracker-api"));
	assert_int_equal(enforce_dns(e, AF_INET, a4, "x.y.tracker.example", 60, 0),
			 (long)rid("tracker"));
	assert_int_equal(enforce_dns(e, AF_INET6, a6, "cdn.ads.example", 60, 0),
			 (long)rid("adpartner"));
	/* *.domain does not cover the domain itself; unknown names are not kept */
	assert_int_equal(enforce_dns(e, AF_INET6, a6, "ads.example", 60, 0), -1);
	assert_int_equal(enforce_dns(e, AF_INET6, a6, "evil.example", 60, 0), -1);
	enforce_get_stats(e, &st);
	assert_int_equal(st.dns, 2); /* a4 once (the second answer replaced it), a6 */
	/* TTLs under 60 s count as 60 s: gone at the tick after */
	enforce_tick(e, at("2026-03-15T00:00:00Z"), 59ULL * 1000000000ULL);
	enforce_get_stats(e, &st);
	assert_int_equal(st.dns, 2);
	enforce_tick(e, at("2026-03-15T00:00:00Z"), 60ULL * 1000000000ULL);
	enforce_get_stats(e, &st);
	assert_int_equal(st.dns, 0);
	enforce_stop(e);
}

/* The kernel's computation (bpf/lib/enforce.bpf.h cs_enf_hosth), from the name's end. */
static unsigned kernel_hashes(__u64 b1, __u64 b2, const char *s, __u64 *out)
{
	size_t n = strlen(s);
	__u64 h1 = 0, h2 = 0, p1 = 1, p2 = 1;
	unsigned k = 0;

	for (size_t i = 0; i < n; i++) {
		size_t j = n - 1 - i;
		__u64 c = cs_host_lower((__u8)s[j]);

		h1 = (h1 + c * p1) % CS_HOSTH_P;
		h2 = (h2 + c * p2) % CS_HOSTH_P;
		p1 = p1 * b1 % CS_HOSTH_P;
		p2 = p2 * b2 % CS_HOSTH_P;
		if (j && s[j - 1] == '.')
			out[1 + k++] = h1 << 32 | h2;
	}
	out[0] = h1 << 32 | h2;
	return k;
}

static void test_host_hash_from_the_end(void **state)
{
	const char *names[] = {"a.b.tracker.example", "API.Partner.Example", "x", "xn--fiq.cn"};
	__u64 h[16], b1 = 1234567, b2 = CS_HOSTH_P - 2;

	(void)state;
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *s = names[i];
		unsigned k = kernel_hashes(b1, b2, s, h), seen = 0;

		assert_true(h[0] == cs_host_hash(b1, b2, s, (__u32)strlen(s)));
		/* suffix k (shortest first) is the name after its k-th dot from the end */
		for (size_t j = strlen(s); j-- > 0;)
			if (s[j] == '.') {
				seen++;
				assert_true(h[seen] == cs_host_hash(b1, b2, s + j + 1,
								    (__u32)strlen(s + j + 1)));
			}
		assert_int_equal(seen, k);
	}
	/* lower-cased before hashing; another name, another value */
	assert_true(cs_host_hash(b1, b2, "A.EXAMPLE", 9) == cs_host_hash(b1, b2, "a.example", 9));
	assert_true(cs_host_hash(b1, b2, "b.example", 9) != cs_host_hash(b1, b2, "a.example", 9));
}

/* A reload that reorders recipients.csv keeps every recipient's number in the kernel. */
static void test_ids_stable_across_reloads(void **state)
{
	__s64 mar = at("2026-03-15T00:00:00Z");
	struct enforce *e = start(mar);
	struct recipients *r2;
	struct consent_db *c2;
	struct cs_enf_pair *p;
	size_t n;
	__u32 before = (__u32)~0u, after = (__u32)~0u;
	__u64 fp = fp_of(CS_F_PHONE, "13712340001");

	(void)state;
	assert_int_equal(enforce_pairs(e, rcpts, consent, mar, &p, &n), 0);
	for (size_t i = 0; i < n; i++)
		if (p[i].fp == fp && p[i].rid == rid("adpartner"))
			before = p[i].rid;
	free(p);
	test_tables_load(dir, "2-",
			 "recipient,kind,match\n"
			 "adpartner,third-party,10.3.0.0/16\n"
			 "newco,third-party,10.9.0.0/16\n",
			 "subject_id,recipient,fields,granted_at,expires_at,withdrawn_at,purpose\n"
			 "s1,adpartner,phone,2026-01-01T00:00:00Z,,,\n",
			 &r2, &c2);
	assert_int_equal(enforce_sync(e, r2, c2, mar), 0);
	assert_int_equal(enforce_pairs(e, r2, c2, mar, &p, &n), 0);
	/* the phone and its hash variants, all to adpartner */
	for (size_t i = 0; i < n; i++)
		if (p[i].fp == fp)
			after = p[i].rid;
	free(p);
	/* adpartner is recipient 0 of the new file (1 before), still number `before` */
	assert_int_equal(recipients_index(r2, recipients_find(r2, "adpartner")), 0);
	assert_int_equal(before, 1);
	assert_int_not_equal(before, (__u32)~0u);
	assert_int_equal(after, before);
	enforce_sync(e, rcpts, consent, mar);
	consent_free(c2);
	recipients_free(r2);
	enforce_stop(e);
}

/* How many pairs are in one of a, b (each sorted by bytes, no repeats) and not the other. */
static size_t pairs_differ(const struct cs_enf_pair *a, size_t na, const struct cs_enf_pair *b,
			   size_t nb)
{
	size_t i = 0, j = 0, d = 0;

	while (i < na || j < nb) {
		int c = i == na ? 1 : j == nb ? -1 : memcmp(&a[i], &b[j], sizeof(a[i]));

		d += c != 0;
		i += c <= 0;
		j += c >= 0;
	}
	return d;
}

/* A sync writes what changed since the last one, not the whole table. */
static void test_sync_writes_the_difference(void **state)
{
	__s64 mar = at("2026-03-15T00:00:00Z"), jul = at("2026-07-01T00:00:00Z");
	struct enforce *e = start(mar);
	struct enforce_stats s0, s;
	struct cs_enf_pair *pm, *pj;
	size_t nm, nj, d;

	(void)state;
	enforce_get_stats(e, &s0);
	/* the first sync does not know the maps: every pair and selector */
	assert_true(s0.pairs > 0 && s0.selectors > 0);
	assert_int_equal(s0.writes, s0.pairs + s0.selectors);
	/* the same tables again: nothing */
	assert_int_equal(enforce_sync(e, rcpts, consent, mar), 0);
	enforce_get_stats(e, &s);
	assert_int_equal(s.writes, s0.writes);
	/* July (s1's email withdrawn in June): exactly the pairs that came or went */
	assert_int_equal(enforce_pairs(e, rcpts, consent, mar, &pm, &nm), 0);
	assert_int_equal(enforce_pairs(e, rcpts, consent, jul, &pj, &nj), 0);
	d = pairs_differ(pm, nm, pj, nj);
	free(pm);
	free(pj);
	assert_true(d > 0);
	assert_int_equal(enforce_sync(e, rcpts, consent, jul), 0);
	enforce_get_stats(e, &s);
	assert_int_equal(s.writes, s0.writes + d);
	assert_int_equal(s.pairs, nj);
	/* and back */
	assert_int_equal(enforce_sync(e, rcpts, consent, mar), 0);
	enforce_get_stats(e, &s);
	assert_int_equal(s.writes, s0.writes + 2 * d);
	assert_int_equal(s.pairs, nm);
	enforce_stop(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pairs_by_time_and_rule),
	    cmocka_unit_test(test_stats_and_next_change),
	    cmocka_unit_test(test_recipients_walk),
	    cmocka_unit_test(test_dns_for_host_selectors),
	    cmocka_unit_test(test_host_hash_from_the_end),
	    cmocka_unit_test(test_ids_stable_across_reloads),
	    cmocka_unit_test(test_sync_writes_the_difference),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
