// SPDX-License-Identifier: GPL-2.0-only
/*
 * The collector's per-send scan (user/decode/cscan.c, `run --scan-in collector`) keeps the kernel's
 * rules: a value split across two sends of one flow is joined (CS_HIT_SPLIT) and not across
 * flows, a weak value in a run too short for a strong one is found by the rescan only beside a
 * strong hit, the hand-over decision follows the triggers and the flow's budget after a
 * Content-Encoding header.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "cs_hash.h"
#include "decode/cscan.h"
#include "monitor/message.h"
#include "testlib.h"

static struct cs_key key = {0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL, 0x1716151413121110ULL,
			    0x1f1e1d1c1b1a1918ULL, 0};

static const struct test_row rows[] = {
    {"u001", CS_F_PHONE, "13712340001"},
    {"u001", CS_F_EMAIL, "zhang.wei@example.com"},
    {"u001", CS_F_NAME, "张伟"},
};

static struct fpdb db;
static struct cscan *cs;
static struct msg out;
static __u64 seq = 1;

static int setup(void **state)
{
	struct live_cfg c = {.key = &key, .skip_len = 11, .strong_min = 11};

	(void)state;
	test_db_build(&db, &key, rows, sizeof(rows) / sizeof(rows[0]));
	c.min_len = db.min_len = 2;
	c.max_len = db.max_len;
	cs = cscan_new(&c, &db);
	return cs ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	cscan_free(cs);
	msg_release(&out);
	fpdb_release(&db);
	return 0;
}

/* One send of s on flow: its hits in out; the hand-over decision returned. */
static int send_on(__u64 flow, const char *s)
{
	struct cs_event ev = {0};
	__u32 n = (__u32)strlen(s);

	ev.flow = flow;
	ev.seq = seq++;
	ev.bytes_total = ev.bytes_inspected = ev.deep_len = n;
	msg_reset(&out, &ev);
	return cscan_send(cs, &ev, (const __u8 *)s, n, &out);
}

/* The field of hit i (the DB's first entry with its fingerprint). */
static int hit_field(size_t i)
{
	__u32 n;
	const struct fp_entry *e = fpdb_lookup(&db, out.hits[i].fp, &n);

	return e ? e->field : 0;
}

static void test_split(void **state)
{
	(void)state;
	assert_int_equal(send_on(7, "{\"tel\":\"1371234"), 0);
	assert_int_equal(out.nhits, 0);
	assert_int_equal(send_on(7, "0001\"}"), 0);
	assert_int_equal(msg_unique(&out), 1);
	assert_int_equal(hit_field(0), CS_F_PHONE);
	assert_true(out.hits[0].start & CS_HIT_SPLIT);
	/* the same halves on two flows are no value */
	send_on(8, "{\"tel\":\"1371234");
	send_on(9, "0001\"}");
	assert_int_equal(out.nhits, 0);
	/* a value that ended a send is not reported again by the next one's first byte */
	assert_int_equal(send_on(10, "mail zhang.wei@example.com"), 0);
	assert_int_equal(msg_unique(&out), 1);
	send_on(10, ";next");
	assert_int_equal(out.nhits, 0);
}

static void test_weak(void **state)
{
	(void)state;
	/* the name alone (weak, in a run too short for a strong value): not looked up */
	send_on(11, "{\"n\":\"张伟\",\"x\":1}");
	assert_int_equal(out.nhits, 0);
	/* beside the phone: the whole send is tokenised again, the name found */
	send_on(12, "{\"n\":\"张伟\",\"tel\":\"13712340001\"}");
	assert_int_equal(msg_unique(&out), 2);
	assert_true((hit_field(0) == CS_F_NAME && hit_field(1) == CS_F_PHONE) ||
		    (hit_field(1) == CS_F_NAME && hit_field(0) == CS_F_PHONE));
	assert_int_equal(out.hits[0].start & CS_HIT_SPLIT, 0);
}

static void test_handover(void **state)
{
	(void)state;
	assert_int_equal(send_on(13, "d=eyJ0ZWwiOiIxMzcxMjM0MDAwMSJ9"), 1); /* base64 */
	assert_int_equal(send_on(14, "{\"n\":\"\\u5f20\\u4f1f\"}"), 1);	    /* \u escapes */
	/* an escape in a run too short for a strong value is not looked at (as in the kernel) */
	assert_int_equal(send_on(14, "{\"a\":\"caf\\u00e9 au lait\"}"), 0);
	assert_int_equal(send_on(15, "plain text, nothing to decode"), 0);
	/* a Content-Encoding header: this send and the flow's next ones */
	assert_int_equal(send_on(16, "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n"), 1);
	assert_int_equal(send_on(16, "\x02\x03 body bytes"), 1);
	assert_int_equal(send_on(17, "\x02\x03 body bytes"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_split),
	    cmocka_unit_test(test_weak),
	    cmocka_unit_test(test_handover),
	};

	key.ce = cs_acc_str(key.seed, "content-encoding");
	return cmocka_run_group_tests(tests, setup, teardown);
}
