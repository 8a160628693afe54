// SPDX-License-Identifier: GPL-2.0-only
/* Deep inspection records (deep.h): bounds against the bytes received, payload memory. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "decode/deep.h"
#include "monitor/message.h"
#include "testlib.h"

#include "cs_hash.h"

static const struct cs_key test_key = {
    .k0 = 0x0706050403020100ULL,
    .k1 = 0x0f0e0d0c0b0a0908ULL,
    .seed = 0x1716151413121110ULL,
    .k3 = 0x1f1e1d1c1b1a1918ULL,
};

static const struct test_row rows[] = {{"u1", CS_F_PHONE, "13800138000"}};

struct fx {
	struct fpdb db;
	struct deep *d;
	struct msg m;
	struct cs_event ev;
};

static int setup(void **state)
{
	struct fx *x = calloc(1, sizeof(*x));

	assert_non_null(x);
	test_db_build(&x->db, &test_key, rows, 1);
	x->d = deep_new(&test_key, &x->db, NULL);
	assert_non_null(x->d);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fx *x = *state;

	deep_free(x->d);
	msg_release(&x->m);
	fpdb_release(&x->db);
	free(x);
	return 0;
}

/* The event of send seq, announcing deep_len handed-over bytes. */
static void complete(struct fx *x, __u64 seq, __u32 deep_len)
{
	memset(&x->ev, 0, sizeof(x->ev));
	x->ev.seq = seq;
	x->ev.flags = CS_EV_DEEP;
	x->ev.deep_len = deep_len;
	deep_complete(x->d, &x->ev, &x->m);
}

/*
 * A record's len is checked against the bytes received, not only against CS_CHUNK: a record cut
 * short after 8 data bytes carries 8 bytes, one that claims 9 of those 8 is dropped (and the
 * send counts them as lost).
 */
static void test_deep_add_len(void **state)
{
	const size_t hdr = offsetof(struct cs_deep, data);
	struct fx *x = *state;
	struct cs_deep *r = calloc(1, sizeof(*r));
	const struct deep_stats *st = deep_stats(x->d);

	assert_non_null(r);
	r->seq = 1;
	r->len = 8;
	memcpy(r->data, "abcdefgh", 8);
	deep_add(x->d, r, hdr + 8);
	complete(x, 1, 8);
	assert_int_equal(st->sends, 1);
	assert_int_equal(st->bytes, 8);
	assert_int_equal(st->lost, 0);

	r->seq = 2;
	r->len = 9;
	deep_add(x->d, r, hdr + 8);
	complete(x, 2, 9);
	assert_int_equal(st->sends, 2);
	assert_int_equal(st->bytes, 8);
	assert_int_equal(st->lost, 9);

	/* shorter than its header: nothing is read */
	r->seq = 3;
	r->len = 0;
	deep_add(x->d, r, hdr - 1);
	complete(x, 3, 1);
	assert_int_equal(st->lost, 10);
	free(r);
}

/* A cs_hits record that claims more hits than its bytes hold is dropped and counted. */
static void test_deep_add_hits_len(void **state)
{
	const size_t hdr = offsetof(struct cs_hits, hits);
	struct fx *x = *state;
	struct cs_hits *r = calloc(1, sizeof(*r));
	const struct deep_stats *st = deep_stats(x->d);

	assert_non_null(r);
	r->seq = 7;
	r->nhits = 2;
	r->hits[0].fp = 11;
	r->hits[1].fp = 22;
	deep_add_hits(x->d, r, hdr + 2 * sizeof(r->hits[0]));
	complete(x, 7, 0);
	assert_int_equal(x->m.nhits, 2);
	assert_int_equal(st->hits_lost, 0);

	r->seq = 8;
	r->nhits = 5;
	deep_add_hits(x->d, r, hdr + 2 * sizeof(r->hits[0]));
	complete(x, 8, 0);
	assert_int_equal(x->m.nhits, 0);
	assert_int_equal(st->hits_lost, 5);
	free(r);
}

/* Mappings of this process left out of core dumps ("dd" in smaps VmFlags). */
static unsigned dontdump_maps(void)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	unsigned n = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmFlags:", 8) && strstr(line, " dd"))
			n++;
	fclose(f);
	return n;
}

/* The bytes of a send the collector holds are in memory left out of core dumps. */
static void test_deep_dontdump(void **state)
{
	struct fx *x = *state;
	struct cs_deep *r = calloc(1, sizeof(*r));
	unsigned before = dontdump_maps();

	assert_non_null(r);
	r->seq = 5;
	r->len = 16;
	deep_add(x->d, r, sizeof(*r));
	assert_true(dontdump_maps() > before);
	complete(x, 5, 16);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_deep_add_len, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_deep_add_hits_len, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_deep_dontdump, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
