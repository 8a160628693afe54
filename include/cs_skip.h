/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Run skipping, the pure integer part: byte classes of 8 bytes at once (SWAR: one 64-bit word,
 * the answer for each byte in its bit 7), run starts and coverage in 64-bit masks, the cheap
 * candidate and wide-form tests, the anchor counts. No state, no memory but the argument words:
 * bpf/lib/skip.bpf.h applies them to a send's chunks, tests/unit/test_skip.c checks them against
 * the tokeniser's byte classes (cs_scan_def.h) for every byte value and position.
 *
 * Why runs can be skipped. A strong token of an ASCII fingerprint DB lies inside a run of "S"
 * bytes: letters, digits, the inner punctuation, separators and escape markers of cs_scan.h, so
 * every ASCII byte with a class in cs_scan_def.h cs_class (here a superset: 0x1f-0x21,
 * 0x23-0x2b, 0x2d-0x39, ';', 0x40-0x7a; not '"' ',' ':'). Its run is at least as long as its
 * normalised length, so a run shorter than the shortest strong token holds none. The pure
 * separators (space ( ) /) join digit groups in D only: they count as S only between two digits
 * or separators ("138 0013 8000" is one run, "lorem ipsum" two).
 */
#ifndef CS_SKIP_H
#define CS_SKIP_H

#include "cs_abi.h"

#define CS_SWAR_ONES 0x0101010101010101ULL
#define CS_SWAR_HI   0x8080808080808080ULL
/* For y with every byte < 0x80: bit 7 of each byte set iff that byte is >= a / == a (no carry
 * between bytes). */
#define CS_SWAR_GE(y, a) ((y) + (0x80 - (a)) * CS_SWAR_ONES)
#define CS_SWAR_EQ(y, a) (~(((y) ^ ((a)*CS_SWAR_ONES)) + 0x7f * CS_SWAR_ONES))

/* The bounds of the S superset and of the cheap candidate superset (cs_cand4). */
#define CS_CAND_LO 0x1f
#define CS_CAND_HI 0x7a

/*
 * Run bytes among the 8 of x, as bit 7 of each byte, but the pure separators; *p gets those.
 */
CS_INLINE __u64 cs_sbytes(__u64 x, __u64 *p)
{
	__u64 y = x & ~CS_SWAR_HI, keep = ~x & CS_SWAR_HI, ps;

	ps = (CS_SWAR_GE(y, 0x28) & ~CS_SWAR_GE(y, 0x2a)) | CS_SWAR_EQ(y, 0x20) |
	     CS_SWAR_EQ(y, 0x2f);
	*p = ps & keep;
	return ((CS_SWAR_GE(y, 0x1f) & ~CS_SWAR_GE(y, 0x22)) |
		(CS_SWAR_GE(y, 0x23) & ~CS_SWAR_GE(y, 0x2c)) |
		(CS_SWAR_GE(y, 0x2d) & ~CS_SWAR_GE(y, 0x3a)) |
		(CS_SWAR_GE(y, 0x40) & ~CS_SWAR_GE(y, 0x7b)) | CS_SWAR_EQ(y, 0x3b)) &
	       ~ps & keep;
}

/* Digits and every D separator among the 8 of x (p: its pure separators), as bit 7. */
CS_INLINE __u64 cs_dbytes(__u64 x, __u64 p)
{
	__u64 y = x & ~CS_SWAR_HI;

	return ((CS_SWAR_GE(y, 0x2d) & ~CS_SWAR_GE(y, 0x2f)) |
		(CS_SWAR_GE(y, 0x30) & ~CS_SWAR_GE(y, 0x3a)) | p) &
	       ~x & CS_SWAR_HI;
}

/*
 * The S bits of the 8 bytes of x, at bits shift..shift+7 of the result (byte 0 lowest); the bits
 * of its pure separators are ORed into *p the same way. left: bytes of the chunk from this word
 * on; bytes past it count as digits (the next send's: a superset is safe), and so do the
 * outer neighbours of the word's end bytes, which this word cannot see.
 */
CS_INLINE __u64 cs_sword(__u64 x, __u32 left, __u64 *p, __u32 shift)
{
	__u64 sw, pw, dw;

	sw = cs_sbytes(x, &pw);
	if (pw) { /* rare outside text */
		/* a pure separator between digits or separators */
		dw = cs_dbytes(x, pw);
		if (left < 8)
			dw |= CS_SWAR_HI << (left * 8);
		sw |= pw & ((dw << 8) | 0x80) & ((dw >> 8) | (0x80ULL << 56));
		*p |= ((pw >> 7) * 0x0102040810204080ULL >> 56) << shift;
	}
	/* bit 7 of each byte to bits 0..7 */
	return ((sw >> 7) * 0x0102040810204080ULL >> 56) << shift;
}

/* De Bruijn sequence and table: index of the single set bit of x = 1 << i. */
#define CS_DEBRUIJN 0x03f79d71b4cb0a89ULL
static const __u8 cs_debruijn[64] = {
    0,	1,  48, 2,  57, 49, 28, 3,  61, 58, 50, 42, 38, 29, 17, 4,  62, 55, 59, 36, 53, 51,
    43, 22, 45, 39, 33, 30, 24, 18, 12, 5,  63, 47, 56, 27, 60, 41, 37, 16, 54, 35, 52, 21,
    44, 32, 23, 11, 46, 26, 40, 15, 34, 20, 31, 10, 25, 14, 19, 9,  13, 8,  7,	6,
};

/* Index of the lowest / highest set bit of x != 0. */
CS_INLINE __u32 cs_lowbit(__u64 x)
{
	return cs_debruijn[((x & -x) * CS_DEBRUIJN) >> 58];
}

CS_INLINE __u32 cs_highbit(__u64 x)
{
	x |= x >> 1;
	x |= x >> 2;
	x |= x >> 4;
	x |= x >> 8;
	x |= x >> 16;
	x |= x >> 32;
	return cs_lowbit(x ^ (x >> 1));
}

/* The bits 0..to of a 64-bit mask (to < 64). */
CS_INLINE __u64 cs_bits_to(__u32 to)
{
	return to >= 63 ? ~0ULL : (2ULL << to) - 1;
}

/*
 * Candidate words. A run of >= 11 bytes holds the first 4 bytes of some 8-byte word of the
 * chunk whole (8 consecutive offsets hold one multiple of 8), and a run of >= 7 bytes some
 * aligned 4 bytes (a multiple of 4). So where the skip length is >= 11 (>= 7), only a word whose
 * first (either) 4 bytes are all in a cheap superset of S (CS_CAND_LO..CS_CAND_HI, the pure
 * separators included) can be inside a long run.
 *
 * cs_cand4: bit 7 and bit 39 of the result set if bytes 0..3, 4..7 of z are all candidates.
 */
CS_INLINE __u64 cs_cand4(__u64 z)
{
	__u64 y = z & ~CS_SWAR_HI, in;

	in = CS_SWAR_GE(y, CS_CAND_LO) & ~(CS_SWAR_GE(y, CS_CAND_HI + 1) | z) & CS_SWAR_HI;
	in &= in >> 8;
	return in & (in >> 16);
}

/* The first 4 bytes of w0 and of w1, packed: bit 7 for w0, bit 39 for w1. */
#define CS_PACK(w0, w1)	 (((w0)&0xffffffffULL) | ((w1) << 32))
#define CS_CAND2(w0, w1) cs_cand4(CS_PACK(w0, w1))
#define CS_CAND_ANY	 0x8000000080ULL

/*
 * Wide forms, which hold no run of S bytes: UTF-16 text (an ASCII character is a byte and a
 * zero; a full-width one, FF01-FF5E, a byte and FF) and full-width letters and digits in UTF-8
 * (EF BC 90 - EF BD 9A). The cheap test flags zero bytes two apart, FF bytes two apart, or EF
 * followed by BC or BD.
 *
 * cs_wide4: bit 7 of some byte set if z may hold any of them.
 */
CS_INLINE __u64 cs_wide4(__u64 z)
{
	__u64 zb, f, e, b;

	/* zero bytes (a superset: a byte 01 after a zero one too), two apart */
	zb = (z - CS_SWAR_ONES) & ~z & CS_SWAR_HI;
	/* FF bytes the same way (zero bytes of ~z) */
	f = ~z;
	f = (f - CS_SWAR_ONES) & ~f & CS_SWAR_HI;
	/* EF bytes, BC or BD bytes (the latter with bit 0 set first) */
	e = z ^ (0xefULL * CS_SWAR_ONES);
	b = (z | CS_SWAR_ONES) ^ (0xbdULL * CS_SWAR_ONES);
	e = (e - CS_SWAR_ONES) & ~e & CS_SWAR_HI;
	b = (b - CS_SWAR_ONES) & ~b & CS_SWAR_HI;
	return (zb & (zb >> 16)) | (f & (f >> 16)) | (e & (b >> 8));
}

/* Bytes of x in [lo, hi] (lo >= 0x80 or all of x < 0x80 there: no carries), as bit 7. */
#define CS_RANGE(x, lo, hi)                                                                        \
	((((x)&0x7f7f7f7f7f7f7f7fULL) + (0x80 - ((lo)&0x7f)) * 0x0101010101010101ULL) &            \
	 ~(((x)&0x7f7f7f7f7f7f7f7fULL) + (0x7f - ((hi)&0x7f)) * 0x0101010101010101ULL) &           \
	 ((lo) >= 0x80 ? (x) : ~(x)) & 0x8080808080808080ULL)

/* The bytes of a word at byte offset off that lie below valid, as a mask of whole bytes. */
CS_INLINE __u64 cs_bytes_below(__u32 valid, __u32 off)
{
	if (valid >= off + 8)
		return ~0ULL;
	if (valid <= off)
		return 0;
	return (1ULL << ((valid - off) * 8)) - 1;
}

/*
 * The exact wide-form test of word x (nx: the word after it). Nonzero if a wide form starts in
 * x: four printable ASCII UTF-16 units (either byte order, at its even or its odd bytes), two
 * full-width UTF-16 units in a row (FF01-FF5E, either byte order, any offset), or a full-width
 * letter or digit in UTF-8 (EF, then BC + 90-99 / A1-BA or BD + 81-9A).
 */
CS_INLINE __u64 cs_wide_word(__u64 x, __u64 nx)
{
	const __u64 lo16 = 0x00ff00ff00ff00ffULL, hi16 = 0xff00ff00ff00ff00ULL;
	const __u64 u16 = 0x0100010001000100ULL;
	__u64 x1 = (x >> 8) | (nx << 56), x2 = (x >> 16) | (nx << 48), x3 = (x >> 24) | (nx << 40);
	__u64 l0 = x & lo16, l1 = (x >> 8) & lo16, a0, a1, hit;

	/* four units: zero high bytes, low bytes 0x20-0x7e (bit 8 of each 16-bit lane flips
	 * between adding 0xe0 and adding 0x81 exactly there) */
	a0 = (x & hi16) |
	     ((((l0 + 0x00e000e000e000e0ULL) ^ (l0 + 0x0081008100810081ULL)) & u16) ^ u16);
	a1 = (x & lo16) |
	     ((((l1 + 0x00e000e000e000e0ULL) ^ (l1 + 0x0081008100810081ULL)) & u16) ^ u16);
	hit = !a0 | !a1;
	/* two full-width units: byte, FF, byte, FF (little-endian) or FF, byte, FF, byte */
	hit |= CS_RANGE(x, 0x01, 0x5e) & CS_RANGE(x1, 0xff, 0xff) & CS_RANGE(x2, 0x01, 0x5e) &
	       CS_RANGE(x3, 0xff, 0xff);
	hit |= CS_RANGE(x, 0xff, 0xff) & CS_RANGE(x1, 0x01, 0x5e) & CS_RANGE(x2, 0xff, 0xff) &
	       CS_RANGE(x3, 0x01, 0x5e);
	/* UTF-8 full-width */
	hit |= CS_RANGE(x, 0xef, 0xef) &
	       ((CS_RANGE(x1, 0xbc, 0xbc) & (CS_RANGE(x2, 0x90, 0x99) | CS_RANGE(x2, 0xa1, 0xba))) |
		(CS_RANGE(x1, 0xbd, 0xbd) & CS_RANGE(x2, 0x81, 0x9a)));
	return hit;
}

/*
 * Run lengths in masks, one bit per byte. Starts of runs of >= L set bits are found by doubling
 * (x & x >> s for s = 1, 2, a, c: lengths >= 2, 4, 4 + a, 4 + a + c = L), the bytes of those
 * runs by the mirror image from the starts. CS_SKIP_MIN <= L <= CS_SKIP_MAX.
 */
CS_INLINE void cs_run_steps(__u32 L, __u32 *a, __u32 *c)
{
	*a = L - 4 < 4 ? L - 4 : 4;
	*c = L - 4 - *a;
}

/*
 * Run starts of length >= k to >= k + s (1 <= s <= 8) in x, the block after it in y: a start
 * stays if the byte s on is one too. y's own next block is unknown (taken as 0), which only
 * spoils its high bits, and only its low ones reach x.
 */
#define CS_RUN_STEP(x, y, s)                                                                       \
	do {                                                                                       \
		(x) &= ((x) >> (s)) | ((y) << (64 - (s)));                                         \
		(y) &= (y) >> (s);                                                                 \
	} while (0)

/* Coverage of k to k + s bytes from each start in u, the block before it in v (mirror image). */
#define CS_SPREAD_STEP(u, v, s)                                                                    \
	do {                                                                                       \
		(u) |= ((u) << (s)) | ((v) >> (64 - (s)));                                         \
		(v) |= (v) << (s);                                                                 \
	} while (0)

/* A step macro applied for 1, 2, a and c bytes (c may be 0): lengths >= 2, 4, 4 + a, L. */
#define CS_DOUBLING(step, x, y, a, c)                                                              \
	do {                                                                                       \
		step(x, y, 1);                                                                     \
		step(x, y, 2);                                                                     \
		step(x, y, a);                                                                     \
		if (c)                                                                             \
			step(x, y, c);                                                             \
	} while (0)

/*
 * The starts of runs of >= 4 + a + c set bits in block x (y: the next block, 0 if none), and
 * their coverage: the bytes of x in such runs (v: the starts of the block before, 0 if none).
 */
CS_INLINE __u64 cs_run_starts(__u64 x, __u64 y, __u32 a, __u32 c)
{
	CS_DOUBLING(CS_RUN_STEP, x, y, a, c);
	return x;
}

CS_INLINE __u64 cs_run_cover(__u64 u, __u64 v, __u32 a, __u32 c)
{
	CS_DOUBLING(CS_SPREAD_STEP, u, v, a, c);
	return u;
}

/*
 * Anchors (cs_abi.h CS_ANCHOR_LONG) in bytes lo..top-1 of x (lo < top <= 8; bytes >= 0x80 never
 * count): adds their digits and upper-case letters to *digits and *upper, returns their anchor
 * bytes ('@' '%' and the escape markers of cs_scan_def.h, CS_WC_MARK) as bit 7.
 */
CS_INLINE __u64 cs_anchor_word(__u64 x, __u32 lo, __u32 top, __u32 *digits, __u32 *upper)
{
	__u64 y = x & ~CS_SWAR_HI, m, d, u;

	/* the range's bytes of this word, as bit 7 */
	m = (top >= 8 ? ~0ULL : (1ULL << (top * 8)) - 1) & ~((1ULL << (lo * 8)) - 1) & CS_SWAR_HI &
	    ~x;
	d = CS_SWAR_GE(y, '0') & ~CS_SWAR_GE(y, ':') & m;
	u = CS_SWAR_GE(y, 'A') & ~CS_SWAR_GE(y, '[') & m;
	/* bit 7 of each byte summed: a count of at most 8 in the top byte */
	*digits += ((d >> 7) * CS_SWAR_ONES) >> 56;
	*upper += ((u >> 7) * CS_SWAR_ONES) >> 56;
	return (CS_SWAR_EQ(y, '@') | CS_SWAR_EQ(y, '%') | CS_SWAR_EQ(y, '\\') | CS_SWAR_EQ(y, '&') |
		CS_SWAR_EQ(y, '#') | CS_SWAR_EQ(y, 0x1f)) &
	       m;
}

#endif /* CS_SKIP_H */
