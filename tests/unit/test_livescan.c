// SPDX-License-Identifier: GPL-2.0-only
/*
 * The collector's first pass (user/decode/livescan.c, `run --scan-in collector`) against the plain
 * scanner (scan_message, every byte tokenised): the same tokens of the first pass's lengths,
 * the same decoding triggers, on random bytes, JSON bodies holding enrolled values, text, UTF-16,
 * full-width forms and values at the 32- and 64-byte and 1 KiB seams; the AVX2 byte classes
 * against the scalar table, and the whole pass with either.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cs_hash.h"
#include "decode/livescan.h"
#include "decode/scan.h"

static struct cs_key key = {0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL, 0x1716151413121110ULL,
			    0x1f1e1d1c1b1a1918ULL, 0};

#define MAXTOK 65536

struct tok {
	__u64 fp;
	__u32 start, end, len;
};

struct toks {
	struct tok t[MAXTOK];
	size_t n;
	__u32 min; /* shortest length kept */
};

static const __u8 *cur; /* the message being scanned */

/*
 * Tokens of the lengths looked up, but those of bytes >= 0x80 (UTF-8 text): a strong value is
 * ASCII (else nothing is skipped), so the kernel leaves them to the rescan too.
 */
static void collect(const struct scan_token *t, void *ctx)
{
	struct toks *k = ctx;

	if (t->len < k->min || t->len > 64 || k->n == MAXTOK)
		return;
	for (__u32 i = t->start; i < t->end; i++)
		if (cur[i] >= 0x80)
			return;
	k->t[k->n++] = (struct tok){t->fp, t->start, t->end, t->len};
}

static int tok_cmp(const void *a, const void *b)
{
	const struct tok *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	if (x->fp != y->fp)
		return x->fp < y->fp ? -1 : 1;
	return 0;
}

/* A token may be emitted twice by the live pass (a range's tail, then the flush): sets. */
static void toks_norm(struct toks *k)
{
	size_t o = 0;

	qsort(k->t, k->n, sizeof(k->t[0]), tok_cmp);
	for (size_t i = 0; i < k->n; i++)
		if (!o || tok_cmp(&k->t[o - 1], &k->t[i]))
			k->t[o++] = k->t[i];
	k->n = o;
}

static struct toks ref, got, got2;
static struct live_buf lb;

/* The live pass over buf (flushed as at the end of a send), tokens into k; its triggers. */
static unsigned live(const struct live_cfg *c, const __u8 *buf, size_t n, struct toks *k,
		     __u32 *skipped)
{
	struct cs_scan s;
	unsigned trig;

	cur = buf;
	k->n = 0;
	k->min = c->skip_len && c->strong_min ? c->strong_min : c->min_len;
	live_reset(&s);
	trig = live_scan(c, &lb, &s, buf, (__u32)n, collect, k, skipped);
	live_flush(c, &s, k->min, collect, k);
	toks_norm(k);
	return trig | s.trig;
}

/*
 * buf through both: the same tokens of the first pass's lengths; the triggers but escapes and
 * wide forms (an escape in a run too short for a value is not looked at; wide forms are the
 * live pass's own test) the same, escapes a subset; scalar and AVX2 classes alike.
 */
static void compare(const __u8 *buf, size_t n, __u32 skip_len, __u32 strong_min, const char *what)
{
	struct live_cfg c = {.key = &key,
			     .min_len = 2,
			     .max_len = 64,
			     .skip_len = skip_len,
			     .strong_min = strong_min};
	unsigned tref, tlive, tlive2;
	__u32 sk, sk2;

	/* the loader sets no strong_min when no token is shorter than the strong ones */
	if (skip_len && !strong_min)
		c.min_len = 12;
	cur = buf;
	ref.n = 0;
	ref.min = skip_len && strong_min ? strong_min : c.min_len;
	tref = scan_message(&key, buf, n, collect, &ref);
	toks_norm(&ref);
	tlive = live(&c, buf, n, &got, &sk);
	if (got.n != ref.n || memcmp(got.t, ref.t, ref.n * sizeof(ref.t[0]))) {
		for (size_t i = 0; i < ref.n; i++) {
			size_t j;
			for (j = 0; j < got.n && tok_cmp(&got.t[j], &ref.t[i]); j++)
				;
			if (j == got.n) {
				fprintf(stderr, "missing %u-%u len %u:", ref.t[i].start,
					ref.t[i].end, ref.t[i].len);
				for (__u32 q = ref.t[i].start >= 16 ? ref.t[i].start - 16 : 0;
				     q < ref.t[i].end + 8 && q < n; q++)
					fprintf(stderr, " %02x", buf[q]);
				fprintf(stderr, "\n");
			}
		}
		fail_msg("%s (%zu bytes, skip %u): %zu tokens, the plain scan %zu", what, n,
			 skip_len, got.n, ref.n);
	}
	assert_int_equal(tlive & ~(CS_TRIG_ESC | CS_TRIG_WIDE), tref & ~CS_TRIG_ESC);
	assert_int_equal(tlive & ~tref & CS_TRIG_ESC, 0);
	assert_true(sk <= n);
	c.scalar = 1;
	tlive2 = live(&c, buf, n, &got2, &sk2);
	assert_int_equal(tlive2, tlive);
	assert_int_equal(sk2, sk);
	assert_int_equal(got2.n, got.n);
	assert_memory_equal(got2.t, got.t, got.n * sizeof(got.t[0]));
}

static __u32 rnd_state = 12345;

static __u32 rnd(void)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return rnd_state >> 8;
}

static const char *values[] = {
    "13712340001",	  "+86 138-0013-8000",	  "li.na@example.org",
    "chen%40example.com", "110105199003078825",	  "6222 0212 3456 7890 128",
    "E12345678",	  "wang_fang-99",	  "(139) 5555 0005",
    "0086 137.1234.0001", "2026-11-05T12:34:00Z",
};

static void put(__u8 *b, size_t *n, size_t cap, const char *s)
{
	size_t l = strlen(s);

	if (*n + l <= cap) {
		memcpy(b + *n, s, l);
		*n += l;
	}
}

static __u8 buf[40000];

static void test_classes(void **state)
{
	struct live_cfg c = {.key = &key};
	static __u64 a[3][700], s[3][700];

	(void)state;
	if (!live_has_avx2())
		skip();
	for (unsigned i = 0; i < sizeof(buf); i++)
		buf[i] = (__u8)rnd();
	for (size_t n = 1; n < 40000; n = n < 300 ? n + 1 : n * 3 / 2) {
		size_t nw = (n + 63) / 64;

		c.scalar = 0;
		live_classify(&c, buf, (__u32)n, a[0], a[1], a[2]);
		c.scalar = 1;
		live_classify(&c, buf, (__u32)n, s[0], s[1], s[2]);
		for (int k = 0; k < 3; k++)
			assert_memory_equal(a[k], s[k], nw * 8);
	}
}

static void test_random(void **state)
{
	(void)state;
	for (unsigned r = 0; r < 200; r++) {
		size_t n = 1 + rnd() % 5000;

		for (size_t i = 0; i < n; i++)
			buf[i] = (__u8)rnd();
		/* values at random places, some at the seams */
		for (unsigned v = 0; v < 6; v++) {
			const char *s = values[rnd() % (sizeof(values) / sizeof(values[0]))];
			size_t l = strlen(s), seam = (rnd() % (n / 32 + 1)) * 32,
			       at = v < 3 ? rnd() % n : seam + v - 5;

			/* the first seam is 0: a value 5 - v bytes before it would start before buf
			 */
			if ((v < 3 || seam + v >= 5) && at + l + 1 < n) {
				buf[at] = 0;
				memcpy(buf + at + 1, s, l);
			}
		}
		compare(buf, n, 11, 11, "random");
		compare(buf, n, 5, 5, "random, skip 5");
		compare(buf, n, 12, 0, "random, no weak lengths");
		compare(buf, n, 0, 0, "random, every byte");
	}
}

static void test_json(void **state)
{
	static const char *words[] = {"garden", "kitchen", "outdoor", "office", "travel", "sport"};
	char rec[512];

	(void)state;
	for (unsigned r = 0; r < 60; r++) {
		size_t n = 0, size = 1000 + rnd() % 16000;

		put(buf, &n, size, "{\"status\":\"ok\",\"page\":1,\"items\":[");
		while (n + 300 < size) {
			snprintf(rec, sizeof(rec),
				 "{\"id\":%u,\"sku\":\"SKU-%05u\",\"name\":\"%s %s "
				 "%u\",\"price\":%u.%02u,"
				 "\"tags\":[\"%s\"],\"updated\":\"2026-11-%02uT%02u:%02u:00Z\","
				 "\"stock\":true,\"contact\":\"%s\"},",
				 100000 + rnd() % 900000, rnd() % 100000, words[rnd() % 6],
				 words[rnd() % 6], rnd() % 10, rnd() % 500, rnd() % 100,
				 words[rnd() % 6], 1 + rnd() % 28, rnd() % 24, rnd() % 60,
				 rnd() % 4 ? ""
					   : values[rnd() % (sizeof(values) / sizeof(values[0]))]);
			put(buf, &n, size, rec);
		}
		put(buf, &n, sizeof(buf), "\"note\":\"abcdefghij klmnopabcdefghij klmnop\"}\n");
		compare(buf, n, 11, 11, "json");
		compare(buf, n, 8, 11, "json, skip 8");
	}
}

static void test_edges(void **state)
{
	(void)state;
	/* a value ending or starting at every offset around the 32- and 64-byte and 1 KiB seams */
	for (unsigned v = 0; v < sizeof(values) / sizeof(values[0]); v++) {
		size_t l = strlen(values[v]);

		for (size_t seam = 32; seam <= 2048; seam *= 2) {
			for (size_t at = seam - l - 2; at <= seam + 2; at++) {
				size_t n = seam + 40;

				memset(buf, ',', n);
				memcpy(buf + at, values[v], l);
				compare(buf, n, 11, 11, "seam");
				compare(buf, at + l, 11, 11, "seam, at the end");
				/* a run of 10 (skipped) then a pure separator and digits */
				memcpy(buf, "abcdefghij 13712340001", 22);
				compare(buf, n, 11, 11, "short run then digits");
			}
		}
	}
	/* one long run; spaces only; a phone in groups at the very end */
	memset(buf, 'a', 3000);
	compare(buf, 3000, 11, 11, "one run");
	memset(buf, ' ', 3000);
	compare(buf, 3000, 11, 11, "spaces");
	memcpy(buf + 3000 - 16, "tel 139 5555 000", 16);
	compare(buf, 3000, 11, 11, "groups at the end");
}

/* UTF-16 (either order) and full-width digits raise CS_TRIG_WIDE; UTF-8 text does not. */
static void test_wide(void **state)
{
	static const char fw[] = "\xef\xbc\x91\xef\xbc\x93\xef\xbc\x97\xef\xbc\x91";
	struct live_cfg c = {
	    .key = &key, .min_len = 2, .max_len = 64, .skip_len = 11, .strong_min = 11};
	const char *ph = "13712340001";
	__u32 sk;
	size_t n;

	(void)state;
	for (int be = 0; be < 2; be++) {
		for (size_t off = 0; off < 1100; off += 97) {
			memset(buf, 0xff, off);
			n = off;
			for (size_t i = 0; ph[i]; i++) {
				buf[n++] = be ? 0 : (__u8)ph[i];
				buf[n++] = be ? (__u8)ph[i] : 0;
			}
			memset(buf + n, ',', 200);
			n += 200;
			assert_true(live(&c, buf, n, &got, &sk) & CS_TRIG_WIDE);
			compare(buf, n, 11, 11, "utf-16");
		}
	}
	/* as in the kernel, in a chunk whose first 4 blocks are dense text the wide forms are
	 * looked for there only (bpf/lib/skip.bpf.h cs_exact_blocks) */
	memset(buf, 'x', 300);
	n = 300;
	for (size_t i = 0; ph[i]; i++) {
		buf[n++] = (__u8)ph[i];
		buf[n++] = 0;
	}
	assert_false(live(&c, buf, n, &got, &sk) & CS_TRIG_WIDE);
	n = 0;
	put(buf, &n, sizeof(buf), "{\"tel\":\"");
	put(buf, &n, sizeof(buf), fw);
	put(buf, &n, sizeof(buf), "\"}");
	assert_true(live(&c, buf, n, &got, &sk) & CS_TRIG_WIDE);
	/* full-width digits in UTF-16LE Chinese text: no zero byte, no EF (the collector's
	 * addition to the kernel's test) */
	memcpy(buf, "\x4b\x62\x3a\x67", 4);
	n = 4;
	for (size_t i = 0; ph[i]; i++) {
		buf[n++] = (__u8)(ph[i] - '0' + 0x10);
		buf[n++] = 0xff;
	}
	memcpy(buf + n, "\x22\x8c\x22\x8c", 4);
	n += 4;
	assert_true(live(&c, buf, n, &got, &sk) & CS_TRIG_WIDE);
	n = 0;
	put(buf, &n, sizeof(buf),
	    "{\"name\":\"\xe5\xbc\xa0\xe4\xbc\x9f\",\"tel\":\"13712340001\"}");
	assert_false(live(&c, buf, n, &got, &sk) & CS_TRIG_WIDE);
	compare(buf, n, 11, 11, "utf-8");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_classes), cmocka_unit_test(test_random),
	    cmocka_unit_test(test_json),    cmocka_unit_test(test_edges),
	    cmocka_unit_test(test_wide),
	};
	int rc;

	key.ce = cs_acc_str(key.seed, "content-encoding");
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	live_buf_release(&lb);
	return rc;
}
