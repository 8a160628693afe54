// SPDX-License-Identifier: GPL-2.0-only
/*
 * The run-skipping arithmetic (include/cs_skip.h) against plain per-byte definitions: every byte
 * value at every position of a word, between neighbours of every kind; the byte sets against
 * the tokeniser's own classes (include/cs_scan_def.h cs_class), so a byte the tokeniser can put
 * in a token can never end a run; run starts and coverage against a bit-by-bit search over
 * three blocks, for every skip length; the bit scans, the candidate and wide-form tests and the
 * anchor counts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "cs_scan_def.h"
#include "cs_skip.h"

/* Neighbour bytes every byte is tested between: outside S, S, digit, pure separator, high. */
static const __u8 fill[] = {0x00, 'a', '7', ' ', '"', 0xff, 0x1f, '.'};
#define NFILL (sizeof(fill) / sizeof(fill[0]))

/* The word of 8 bytes f with byte i set to c. */
static __u64 word_with(__u8 f, unsigned i, __u8 c)
{
	__u64 x = f * CS_SWAR_ONES;

	return (x & ~(0xffULL << (i * 8))) | ((__u64)c << (i * 8));
}

static int bit7(__u64 m, unsigned i)
{
	return (int)((m >> (i * 8 + 7)) & 1);
}

/* The tokeniser's view of byte c (cs_scan_def.h): any W or D class at all, a D class. */
static int token_byte(unsigned c)
{
	return c < 0x80 && cs_class[c] != 0;
}

static int d_byte(unsigned c)
{
	return c < 0x80 && (cs_class[c] & CS_DC(3)) != 0;
}

/* A pure separator: a D separator that is no W token byte (joins digit groups only). */
static int pure_sep(unsigned c)
{
	return c < 0x80 && cs_class[c] == CS_DC(CS_DC_SEP);
}

/* cs_sbytes / cs_dbytes of byte c at position i between fill bytes f. */
static void classes_at(__u8 f, unsigned i, unsigned c, int *s, int *p, int *d)
{
	__u64 x = word_with(f, i, (__u8)c), pw, sw = cs_sbytes(x, &pw);

	*s = bit7(sw, i);
	*p = bit7(pw, i);
	*d = bit7(cs_dbytes(x, pw), i);
}

/*
 * Every byte the tokeniser can put in a token is a run byte (S) or a pure separator, so a run
 * holding a token is never cut; the pure separators are exactly the tokeniser's; D bytes are
 * exactly its digits and separators; nothing >= 0x80 is in any set (the skipping is for ASCII
 * fingerprint DBs); every S byte is a cheap candidate. The set is checked, not restated.
 */
static void test_token_bytes_in_skip_set(void **state)
{
	(void)state;
	for (unsigned c = 0; c < 256; c++) {
		for (unsigned f = 0; f < NFILL; f++) {
			for (unsigned i = 0; i < 8; i++) {
				int s, p, d;

				classes_at(fill[f], i, c, &s, &p, &d);
				if (token_byte(c) && !(s || p))
					fail_msg(
					    "byte 0x%02x (cs_class 0x%02x) at %u between 0x%02x "
					    "is a token byte outside the skip set",
					    c, cs_class[c], i, fill[f]);
				if (p != pure_sep(c))
					fail_msg(
					    "byte 0x%02x at %u: pure separator %d, tokeniser %d", c,
					    i, p, pure_sep(c));
				if (s && p)
					fail_msg("byte 0x%02x both S and pure separator", c);
				if (d != d_byte(c))
					fail_msg("byte 0x%02x at %u: D byte %d, tokeniser %d", c, i,
						 d, d_byte(c));
				if (c >= 0x80 && (s || p || d))
					fail_msg("byte 0x%02x >= 0x80 in a skip set", c);
				if ((s || p) && (c < CS_CAND_LO || c > CS_CAND_HI))
					fail_msg("S byte 0x%02x outside the candidate range", c);
			}
		}
	}
}

/* The same S answer at every position and between any neighbours (no carry across bytes). */
static void test_sbytes_position_free(void **state)
{
	(void)state;
	for (unsigned c = 0; c < 256; c++) {
		int s0, p0, d0;

		classes_at(0, 0, c, &s0, &p0, &d0);
		for (unsigned f = 0; f < NFILL; f++)
			for (unsigned i = 0; i < 8; i++) {
				int s, p, d;

				classes_at(fill[f], i, c, &s, &p, &d);
				assert_int_equal(s, s0);
				assert_int_equal(p, p0);
				assert_int_equal(d, d0);
			}
		/* the bits of the other bytes are those of the fill alone */
		for (unsigned f = 0; f < NFILL; f++) {
			__u64 pf, sf = cs_sbytes(fill[f] * CS_SWAR_ONES, &pf);

			for (unsigned i = 0; i < 8; i++) {
				__u64 pw, sw = cs_sbytes(word_with(fill[f], i, (__u8)c), &pw);
				__u64 other = ~(0xffULL << (i * 8));

				assert_true((sw & other) == (sf & other));
				assert_true((pw & other) == (pf & other));
			}
		}
	}
}

/* cs_sword: S bits, plus pure separators whose neighbours are both D (or outside the word). */
static void test_sword(void **state)
{
	static const __u8 pick[] = {'a', '1', ' ', '(', '-', '"', 0xe4, 0x00, '/', '.', ',', '@'};
	const unsigned np = sizeof(pick);
	unsigned n = 0;

	(void)state;
	/* words of picked bytes: every byte kind next to every other, at every position */
	for (unsigned a = 0; a < np; a++)
		for (unsigned b = 0; b < np; b++)
			for (unsigned c = 0; c < np; c++)
				for (unsigned i = 0; i < 6; i++)
					for (unsigned left = 1; left <= 9; left += 2) {
						__u8 w[8];
						__u64 x, p = 0, s, want_s = 0, want_p = 0;

						memset(w, 'z', sizeof(w));
						w[i] = pick[a];
						w[i + 1] = pick[b];
						w[i + 2] = pick[c];
						memcpy(&x, w, 8);
						s = cs_sword(x, left, &p, 8);
						for (unsigned j = 0; j < 8; j++) {
							int sj, pj, dj, dl, dr;
							__u8 f = 0;

							classes_at(f, j, w[j], &sj, &pj, &dj);
							dl = j == 0 || d_byte(w[j - 1]) ||
							     j - 1 >= left;
							dr = j == 7 || d_byte(w[j + 1]) ||
							     j + 1 >= left;
							if (sj || (pj && dl && dr))
								want_s |= 1ULL << j;
							if (pj)
								want_p |= 1ULL << j;
						}
						assert_true(s == want_s << 8);
						assert_true(p == want_p << 8);
						n++;
					}
	assert_true(n > 0);
}

static void test_bit_scans(void **state)
{
	__u64 r = 0x9e3779b97f4a7c15ULL;

	(void)state;
	for (unsigned i = 0; i < 64; i++) {
		assert_int_equal(cs_lowbit(1ULL << i), i);
		assert_int_equal(cs_highbit(1ULL << i), i);
		assert_true(cs_bits_to(i) == (i == 63 ? ~0ULL : (1ULL << (i + 1)) - 1));
	}
	for (unsigned k = 0; k < 100000; k++) {
		r ^= r << 13;
		r ^= r >> 7;
		r ^= r << 17;
		if (!r)
			continue;
		assert_int_equal(cs_lowbit(r), __builtin_ctzll(r));
		assert_int_equal(cs_highbit(r), 63 - __builtin_clzll(r));
	}
}

/* cs_cand4: bit 7 (39) iff bytes 0..3 (4..7) are all in [CS_CAND_LO, CS_CAND_HI]. */
static void test_cand4(void **state)
{
	(void)state;
	for (unsigned c = 0; c < 256; c++)
		for (unsigned f = 0; f < NFILL; f++)
			for (unsigned i = 0; i < 8; i++) {
				__u8 w[8];
				__u64 x, r;
				int lo = 1, hi = 1;

				memset(w, fill[f], sizeof(w));
				w[i] = (__u8)c;
				memcpy(&x, w, 8);
				r = cs_cand4(x);
				for (unsigned j = 0; j < 8; j++) {
					int in = w[j] >= CS_CAND_LO && w[j] <= CS_CAND_HI;

					if (j < 4)
						lo &= in;
					else
						hi &= in;
				}
				assert_int_equal((int)((r >> 7) & 1), lo);
				assert_int_equal((int)((r >> 39) & 1), hi);
			}
}

/* cs_wide4 flags every pair of zero or FF bytes two apart and every EF BC / EF BD (a superset). */
static void test_wide4(void **state)
{
	(void)state;
	for (unsigned f = 0; f < NFILL; f++)
		for (unsigned i = 0; i + 2 < 8; i++) {
			__u8 w[8];
			__u64 x;

			memset(w, fill[f] ? fill[f] : 'a', sizeof(w));
			w[i] = 0;
			w[i + 2] = 0;
			memcpy(&x, w, 8);
			assert_true(cs_wide4(x) & CS_SWAR_HI);
			memset(w, fill[f] ? fill[f] : 'a', sizeof(w));
			w[i] = 0xef;
			w[i + 1] = (i & 1) ? 0xbc : 0xbd;
			memcpy(&x, w, 8);
			assert_true(cs_wide4(x) & CS_SWAR_HI);
			memset(w, fill[f] ? fill[f] : 'a', sizeof(w));
			w[i] = 0xff;
			w[i + 2] = 0xff;
			memcpy(&x, w, 8);
			assert_true(cs_wide4(x) & CS_SWAR_HI);
		}
	/* plain ASCII text is not flagged */
	assert_false(cs_wide4(0x6f6c6c6568207961ULL) & CS_SWAR_HI);
}

/* Bytes b[0..n) at offset off of a zeroed 16-byte buffer, as the words x and nx. */
static __u64 wide_at(const __u8 *b, unsigned n, unsigned off)
{
	__u8 buf[16] = {0};
	__u64 x, nx;

	memcpy(buf + off, b, n);
	memcpy(&x, buf, 8);
	memcpy(&nx, buf + 8, 8);
	return cs_wide_word(x, nx);
}

/*
 * cs_wide_word: a wide form starting at each offset of the word is found (four UTF-16 ASCII
 * units at an even or odd offset, two full-width UTF-16 units in either byte order, one UTF-8
 * full-width digit); near misses are not.
 */
static void test_wide_word(void **state)
{
	/* "13" in UTF-16LE, UTF-16BE ASCII, and full-width "１３" (FF11 FF13) both ways */
	static const __u8 le[] = {'1', 0, '3', 0, '8', 0, '0', 0};
	static const __u8 fwle[] = {0x11, 0xff, 0x13, 0xff};
	static const __u8 fwbe[] = {0xff, 0x11, 0xff, 0x13};
	static const __u8 fw8[] = {0xef, 0xbc, 0x91};
	static const __u8 cjk[] = {0x4b, 0x62, 0x3a, 0x67, 0x22, 0x8c, 0x22, 0x8c};
	static const __u8 one[] = {0x11, 0xff, 0x00, 0x00};
	static const __u8 neg[] = {0xff, 0xff, 0xff, 0xff};
	static const __u8 ctl[] = {'1', 0, 0x07, 0, '8', 0, '0', 0};

	(void)state;
	for (unsigned off = 0; off < 8; off++) {
		/* four ASCII units at even offsets in the word (odd: the other byte order) */
		if (off <= 1)
			assert_true(wide_at(le, sizeof(le), off));
		assert_true(wide_at(fwle, sizeof(fwle), off));
		assert_true(wide_at(fwbe, sizeof(fwbe), off));
		assert_true(wide_at(fw8, sizeof(fw8), off));
		assert_false(wide_at(cjk, sizeof(cjk), off));
		assert_false(wide_at(one, sizeof(one), off));
		assert_false(wide_at(neg, sizeof(neg), off));
		assert_false(wide_at(ctl, sizeof(ctl), off));
	}
}

/* cs_bytes_below: whole bytes of the word below valid. */
static void test_bytes_below(void **state)
{
	(void)state;
	assert_int_equal(cs_bytes_below(0, 0), 0);
	assert_int_equal(cs_bytes_below(30, 24), 0xffffffffffffULL);
	assert_int_equal(cs_bytes_below(30, 32), 0);
	assert_int_equal(cs_bytes_below(64, 56), ~0ULL);
	assert_int_equal(cs_bytes_below(4096, 8), ~0ULL);
	assert_int_equal(cs_bytes_below(57, 56), 0xffULL);
}

/*
 * Runs: in three blocks P X Y (the block after Y all 0), the bits of X in a run of >= L set bits
 * are exactly cs_run_cover(starts of X, starts of P), for single runs at every offset and length
 * and for random masks of several densities, every L of CS_SKIP_MIN..CS_SKIP_MAX.
 */
static int bit192(const __u64 *b, int i)
{
	return i >= 0 && i < 192 && ((b[i / 64] >> (i % 64)) & 1);
}

static __u64 cover_ref(const __u64 *b, int L)
{
	__u64 out = 0;

	for (int i = 64; i < 128; i++)
		for (int s = i - L + 1; s <= i; s++) {
			int all = 1;

			for (int j = s; j < s + L && all; j++)
				all = bit192(b, j);
			if (all) {
				out |= 1ULL << (i - 64);
				break;
			}
		}
	return out;
}

static void check_runs(const __u64 *b, __u32 L)
{
	__u32 a, c;
	__u64 sp, sx, u;

	cs_run_steps(L, &a, &c);
	assert_int_equal(4 + a + c, L);
	assert_true(a <= 4 && c <= 4);
	sp = cs_run_starts(b[0], b[1], a, c);
	sx = cs_run_starts(b[1], b[2], a, c);
	u = cs_run_cover(sx, sp, a, c);
	if (u != cover_ref(b, (int)L))
		fail_msg("L %u P %016llx X %016llx Y %016llx: cover %016llx, want %016llx", L,
			 (unsigned long long)b[0], (unsigned long long)b[1],
			 (unsigned long long)b[2], (unsigned long long)u,
			 (unsigned long long)cover_ref(b, (int)L));
}

static void test_runs(void **state)
{
	__u64 r = 88172645463325252ULL;

	(void)state;
	for (__u32 L = CS_SKIP_MIN; L <= CS_SKIP_MAX; L++) {
		for (int s = 0; s < 192; s++)
			for (int len = 1; s + len <= 192 && len <= 80; len++) {
				__u64 b[3] = {0, 0, 0};

				for (int j = s; j < s + len; j++)
					b[j / 64] |= 1ULL << (j % 64);
				check_runs(b, L);
			}
		for (unsigned k = 0; k < 3000; k++) {
			__u64 b[3];

			for (int j = 0; j < 3; j++) {
				__u64 m = ~0ULL;

				/* densities 1/2 .. 1 - 1/16: runs of every length */
				for (unsigned d = 0; d < k % 4; d++) {
					r ^= r << 13;
					r ^= r >> 7;
					r ^= r << 17;
					m &= r;
				}
				r ^= r << 13;
				r ^= r >> 7;
				r ^= r << 17;
				b[j] = (k % 4) ? ~m : r;
			}
			check_runs(b, L);
		}
	}
}

/* Anchors: digit and upper-case counts, anchor bytes ('@' '%' the escape markers) in range. */
static void test_anchor_word(void **state)
{
	(void)state;
	for (unsigned c = 0; c < 256; c++) {
		int digit = c >= '0' && c <= '9', up = c >= 'A' && c <= 'Z';
		int anchor = c < 0x80 && ((cs_class[c] & 15) == CS_WC_MARK ||
					  (cs_class[c] & 15) == CS_WC_PCT || c == '@');

		for (unsigned i = 0; i < 8; i++)
			for (unsigned lo = 0; lo < 8; lo++)
				for (unsigned top = lo + 1; top <= 8; top++) {
					__u32 digits = 0, upper = 0;
					__u64 a = cs_anchor_word(word_with('"', i, (__u8)c), lo,
								 top, &digits, &upper);
					int in = i >= lo && i < top;

					assert_int_equal(digits, in && digit);
					assert_int_equal(upper, in && up);
					assert_int_equal(bit7(a, i), in && anchor);
					assert_true((a & ~(0x80ULL << (i * 8))) == 0);
				}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_token_bytes_in_skip_set),
	    cmocka_unit_test(test_sbytes_position_free),
	    cmocka_unit_test(test_sword),
	    cmocka_unit_test(test_bit_scans),
	    cmocka_unit_test(test_cand4),
	    cmocka_unit_test(test_wide4),
	    cmocka_unit_test(test_wide_word),
	    cmocka_unit_test(test_bytes_below),
	    cmocka_unit_test(test_runs),
	    cmocka_unit_test(test_anchor_word),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
