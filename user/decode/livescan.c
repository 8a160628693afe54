// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdint.h>
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#include "cs_hash.h"
#include "fpdb/fpfile.h"
#include "decode/livescan.h"

#include "cs_scan.h"
#include "cs_skip.h"

/* The scanner core's token sink (cs_scan.h): length window and prefilter bit first, SipHash only
 * for those that pass. */
struct cs_sink {
	const struct live_cfg *c;
	__u32 tok_min;
	scan_token_fn fn;
	void *ctx;
};

static inline void cs_sink_token(struct cs_sink *t, const struct cs_token *tok)
{
	const struct live_cfg *c = t->c;
	__u64 acc = tok->acc;
	__u32 len = tok->len, start = tok->start, end = tok->end;
	struct scan_token tk;

	if (len < t->tok_min || len > c->max_len)
		return;
	/* a token carried from the flow's last send and ended at once was reported there */
	if ((start & CS_HIT_SPLIT) && !end)
		return;
	if (c->pre) {
		__u64 b = fpdb_pre_index(cs_pre(acc, len), c->pre_log2);

		if (!((c->pre[b >> 6] >> (b & 63)) & 1))
			return;
	}
	tk.acc = acc;
	tk.fp = cs_fp(c->key, acc, len);
	tk.len = len;
	tk.start = start;
	tk.end = end;
	t->fn(&tk, t->ctx);
}

/* Byte classes of include/cs_skip.h cs_sbytes / cs_dbytes, one byte at a time. */
#define LC_S 1 /* run byte: 0x1f-0x7a but " , : < = > ? and the pure separators */
#define LC_P 2 /* pure separator: space ( ) / (a run byte only between digits or separators) */
#define LC_D 4 /* digit, - . or a pure separator */

static unsigned lclass(unsigned c)
{
	__u64 p, sb = cs_sbytes(c, &p), d = cs_dbytes(c, p);

	return (sb & 0x80 ? LC_S : 0) | (p & 0x80 ? LC_P : 0) | (d & 0x80 ? LC_D : 0);
}

static __u8 lcls[256];
/* per class: for each low nibble, the high nibbles (bit h for 0..7) of the bytes in it */
static __u8 lnib[3][16];
static int linit;

static void tables_init(void)
{
	if (linit)
		return;
	for (unsigned c = 0; c < 256; c++) {
		lcls[c] = lclass(c);
		for (unsigned k = 0; k < 3; k++)
			if (c < 0x80 && (lcls[c] & (1u << k)))
				lnib[k][c & 15] |= 1u << (c >> 4);
	}
	linit = 1;
}

int live_has_avx2(void)
{
	return __builtin_cpu_supports("avx2");
}

static void classify_scalar(const __u8 *buf, __u32 n, __u64 *sb, __u64 *p, __u64 *d)
{
	for (__u32 w = 0; w * 64 < n; w++) {
		__u64 s = 0, pp = 0, dd = 0;
		__u32 m = n - w * 64 < 64 ? n - w * 64 : 64;

		for (__u32 j = 0; j < m; j++) {
			unsigned k = lcls[buf[w * 64 + j]];

			s |= (__u64)(k & 1) << j;
			pp |= (__u64)((k >> 1) & 1) << j;
			dd |= (__u64)((k >> 2) & 1) << j;
		}
		sb[w] = s;
		p[w] = pp;
		d[w] = dd;
	}
}

/* The three masks of 32 bytes: a nibble lookup per class (bytes >= 0x80 select no bit). */
#define LS_MASK(t)                                                                                 \
	(~(__u32)_mm256_movemask_epi8(                                                             \
	    _mm256_cmpeq_epi8(_mm256_and_si256(_mm256_shuffle_epi8((t), lo), sel), zero)))

__attribute__((target("avx2"))) static void classify_avx2(const __u8 *buf, __u32 n, __u64 *sb,
							  __u64 *p, __u64 *d)
{
	const __m256i nib = _mm256_set1_epi8(0x0f), zero = _mm256_setzero_si256();
	const __m256i ts = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)lnib[0]));
	const __m256i tp = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)lnib[1]));
	const __m256i td = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)lnib[2]));
	const __m256i tb = _mm256_setr_epi8(1, 2, 4, 8, 16, 32, 64, -128, 0, 0, 0, 0, 0, 0, 0, 0, 1,
					    2, 4, 8, 16, 32, 64, -128, 0, 0, 0, 0, 0, 0, 0, 0);
	__u8 tail[64];
	__u32 i, w;

	for (i = 0, w = 0; i < n; i += 64, w++) {
		const __u8 *q = buf + i;
		__u64 r[3] = {0};

		if (n - i < 64) {
			memset(tail, 0, sizeof(tail));
			memcpy(tail, q, n - i);
			q = tail;
		}
		for (unsigned h = 0; h < 2; h++) {
			__m256i x = _mm256_loadu_si256((const __m256i *)(q + 32 * h));
			__m256i lo = _mm256_and_si256(x, nib);
			__m256i sel =
			    _mm256_shuffle_epi8(tb, _mm256_and_si256(_mm256_srli_epi16(x, 4), nib));

			r[0] |= (__u64)LS_MASK(ts) << (32 * h);
			r[1] |= (__u64)LS_MASK(tp) << (32 * h);
			r[2] |= (__u64)LS_MASK(td) << (32 * h);
		}
		sb[w] = r[0];
		p[w] = r[1];
		d[w] = r[2];
	}
	if (n & 63)
		explicit_bzero(tail, sizeof(tail));
}

void live_classify(const struct live_cfg *c, const __u8 *buf, __u32 n, __u64 *sb, __u64 *p,
		   __u64 *d)
{
	tables_init();
	if (!c->scalar && live_has_avx2())
		classify_avx2(buf, n, sb, p, d);
	else
		classify_scalar(buf, n, sb, p, d);
	/* bytes past n count as digits or separators (a pure separator at the end is a run
	 * byte after a digit, as the kernel's word edges take it) */
	if (n & 63)
		d[(n - 1) / 64] |= ~0ULL << (n & 63);
}

/*
 * Wide forms: the kernel's test (bpf/lib/skip.bpf.h cs_exact_blocks, cs_wide_block; the word
 * tests are include/cs_skip.h's), run per CS_CHUNK of the message as the kernel reads it, so a
 * send is handed to the decoders for UTF-16 or full-width text exactly when the kernel would
 * hand it over.
 */

/* The exact test of the 64-byte block at p (9 words readable). */
static inline __attribute__((always_inline)) int wide_block(const __u64 *p)
{
	if (!(cs_wide4(CS_PACK(p[0], p[1])) | cs_wide4(CS_PACK(p[2], p[3])) |
	      cs_wide4(CS_PACK(p[4], p[5])) | cs_wide4(CS_PACK(p[6], p[7]))))
		return 0;
	for (unsigned w = 0; w < 8; w++)
		if (cs_wide_word(p[w], p[w + 1]))
			return 1;
	return 0;
}

/*
 * The blocks among nb at q where the cheap test can flag anything: it needs a byte 00, FF or
 * EF among the bytes it reads (the first 4 of the words it packs, in words of bit mask words);
 * one compare per byte class and 32 bytes, so most blocks of random bytes skip the test.
 */
__attribute__((target("avx2"))) static __u32 wide_may_avx2(const __u8 *q, __u32 nb, __u64 pos)
{
	const __m256i z = _mm256_setzero_si256(), ff = _mm256_set1_epi8(-1);
	const __m256i ef = _mm256_set1_epi8((char)0xef);
	__u32 may = 0;

	for (__u32 b = 0; b < nb; b++) {
		__m256i x0 = _mm256_loadu_si256((const __m256i *)(q + b * 64));
		__m256i x1 = _mm256_loadu_si256((const __m256i *)(q + b * 64 + 32));
		__m256i m0 = _mm256_or_si256(
		    _mm256_cmpeq_epi8(x0, z),
		    _mm256_or_si256(_mm256_cmpeq_epi8(x0, ff), _mm256_cmpeq_epi8(x0, ef)));
		__m256i m1 = _mm256_or_si256(
		    _mm256_cmpeq_epi8(x1, z),
		    _mm256_or_si256(_mm256_cmpeq_epi8(x1, ff), _mm256_cmpeq_epi8(x1, ef)));
		__u64 m = (__u32)_mm256_movemask_epi8(m0) | (__u64)(__u32)_mm256_movemask_epi8(m1)
								<< 32;

		may |= (__u32) !!(m & pos) << b;
	}
	return may;
}

/* One chunk (m bytes at q, zero-padded to CS_CHUNK + 64): 1 if it raises CS_TRIG_WIDE. */
static int wide_chunk(const __u64 *q, __u32 m, __u32 L)
{
	__u32 wide = 0xffff, any = 0, nb = (m + 63) / 64, may = 0xffff;

	/* bytes the cheap test reads: the first 4 of the even words (>= 11), of every word */
	if (L >= 7 && live_has_avx2())
		may = wide_may_avx2((const __u8 *)q, nb,
				    L >= 11 ? 0x000f000f000f000fULL : 0x0f0f0f0f0f0f0f0fULL);
	if (L >= 7) {
		/* the candidate test's blocks, and the dense-text cut after 4 (cs_exact_blocks) */
		wide = 0;
		for (__u32 b = 0; b < CS_CHUNK / 64 && b * 64 < m; b++) {
			const __u64 *p = q + b * 8;
			__u64 t, v;

			if (!((may >> b) & 1))
				v = 0;
			else if (L >= 11)
				v = cs_wide4(CS_PACK(p[0], p[2])) | cs_wide4(CS_PACK(p[4], p[6]));
			else
				v = cs_wide4(CS_PACK(p[0], p[1])) | cs_wide4(CS_PACK(p[2], p[3])) |
				    cs_wide4(CS_PACK(p[4], p[5])) | cs_wide4(CS_PACK(p[6], p[7]));
			wide |= (__u32) !!v << b;
			/* the candidates matter for the cut only, in the first 4 blocks */
			if (b > 3)
				continue;
			if (L >= 11) {
				t = cs_cand4(CS_PACK(p[0], p[1])) | cs_cand4(CS_PACK(p[2], p[3])) |
				    cs_cand4(CS_PACK(p[4], p[5])) | cs_cand4(CS_PACK(p[6], p[7]));
			} else {
				t = 0;
				for (unsigned w = 0; w < 8; w++)
					t |= cs_cand4(p[w]);
			}
			any |= (__u32) !!(t & 0x8000000080ULL) << b;
			if (b == 3 && (any & 0xf) == 0xf)
				break;
		}
	}
	wide &= (1u << nb) - 1;
	for (; wide; wide &= wide - 1)
		if (wide_block(q + __builtin_ctz(wide) * 8))
			return 1;
	return 0;
}

static int wide_scan(const __u8 *buf, __u32 n, __u32 L)
{
	__u64 q[(CS_CHUNK + 64) / 8];
	int hit = 0;

	for (__u32 off = 0; off < n && !hit; off += CS_CHUNK) {
		__u32 m = n - off < CS_CHUNK ? n - off : CS_CHUNK;

		/* a whole chunk with a word after it is read in place (the kernel's test reads one
		 * word past the chunk), the last one from a zero-padded copy */
		if (m == CS_CHUNK && n - off >= CS_CHUNK + 8 && !((uintptr_t)buf & 7)) {
			hit = wide_chunk((const __u64 *)(buf + off), m, L);
			continue;
		}
		memcpy(q, buf + off, m);
		memset((__u8 *)q + m, 0, sizeof(q) - m);
		hit = wide_chunk(q, m, L);
		explicit_bzero(q, sizeof(q));
	}
	return hit;
}

/* First byte of the run (set bits of s) holding bit q. */
static __u32 run_first(const __u64 *s, __u32 q)
{
	__u32 w = q / 64;
	__u64 z = ~s[w] & ((q & 63) == 63 ? ~0ULL : (2ULL << (q & 63)) - 1);

	while (!z) {
		if (!w)
			return 0;
		z = ~s[--w];
	}
	return w * 64 + 64 - __builtin_clzll(z);
}

/* The first bit at or after from that is set in a (or, with inv, clear in a and b); lim if none. */
static __u32 next_bit(const __u64 *a, const __u64 *b, int inv, __u32 from, __u32 nw)
{
	__u32 w = from / 64;
	__u64 x;

	if (w >= nw)
		return nw * 64;
	x = (inv ? ~(a[w] | b[w]) : a[w]) & (~0ULL << (from & 63));
	while (!x) {
		if (++w >= nw)
			return nw * 64;
		x = inv ? ~(a[w] | b[w]) : a[w];
	}
	return w * 64 + __builtin_ctzll(x);
}

/* Set bits [from, to) of m. */
static void set_bits(__u64 *m, __u32 from, __u32 to)
{
	for (__u32 i = from; i < to;) {
		__u32 j = i & 63, k = to - i < 64 - j ? to - i : 64 - j;

		m[i / 64] |= (k == 64 ? ~0ULL : ((1ULL << k) - 1)) << j;
		i += k;
	}
}

/* Run starts of length >= k to >= k + s: a start stays if the byte s on is one too. */
#define RUN_STEP(x, y, s)                                                                          \
	do {                                                                                       \
		(x) &= ((x) >> (s)) | ((y) << (64 - (s)));                                         \
		(y) &= (y) >> (s);                                                                 \
	} while (0)
/* Coverage of k to k + s bytes from each start in u, the word before in v. */
#define SPREAD_STEP(u, v, s)                                                                       \
	do {                                                                                       \
		(u) |= ((u) << (s)) | ((v) >> (64 - (s)));                                         \
		(v) |= (v) << (s);                                                                 \
	} while (0)

static int buf_grow(struct live_buf *b, size_t words)
{
	__u64 *m;

	if (b->cap >= words)
		return 0;
	m = realloc(b->m, words * sizeof(*m));
	if (!m)
		return -ENOMEM;
	b->m = m;
	b->cap = words;
	return 0;
}

void live_cfg_init(struct live_cfg *c, const struct cs_key *key, const struct fpdb *db,
		   int scan_all)
{
	memset(c, 0, sizeof(*c));
	c->key = key;
	c->pre = db->pre;
	c->pre_log2 = db->pre_log2;
	c->min_len = db->nentries ? db->min_len : 0xffffffff;
	c->max_len = db->nentries ? db->max_len : 0;
	/* runs shorter than the shortest strong token are not tokenised (cs_abi.h CS_SKIP_*) */
	if (!scan_all && !(db->flags & FPDB_F_STRONG_NONASCII) &&
	    db->strong_min_len >= CS_SKIP_MIN) {
		c->skip_len = db->strong_min_len < CS_SKIP_MAX ? db->strong_min_len : CS_SKIP_MAX;
		/* the first pass leaves out the weak lengths, if there are any below it */
		if (db->strong_min_len > db->min_len)
			c->strong_min = db->strong_min_len;
	}
}

void live_buf_release(struct live_buf *b)
{
	free(b->m);
	b->m = NULL;
	b->cap = 0;
}

/*
 * The bytes the kernel tokenises (cs_live_mask) into live: every run of >= L run bytes, and
 * the runs holding the last byte of a CS_CHUNK or of the send (a value may go on). s: the run
 * bytes (pure separators between digits or separators counted).
 */
static void live_mask(__u64 *live, const __u64 *s, __u32 nw, __u32 n, __u32 L)
{
	__u32 a = L - 4 < 4 ? L - 4 : 4, c = L - 4 - a;
	__u64 px = 0;

	for (__u32 w = 0; w < nw; w++) {
		__u64 x = s[w], y = w + 1 < nw ? s[w + 1] : 0, u, v = px;

		if (!x && !px) {
			live[w] = 0;
			continue;
		}
		RUN_STEP(x, y, 1);
		RUN_STEP(x, y, 2);
		RUN_STEP(x, y, a);
		if (c)
			RUN_STEP(x, y, c);
		u = x;
		SPREAD_STEP(u, v, 1);
		SPREAD_STEP(u, v, 2);
		SPREAD_STEP(u, v, a);
		if (c)
			SPREAD_STEP(u, v, c);
		live[w] = u;
		px = x;
	}
	for (__u32 q = CS_CHUNK - 1;; q += CS_CHUNK) {
		if (q >= n)
			q = n - 1;
		if ((s[q / 64] >> (q & 63)) & 1)
			set_bits(live, run_first(s, q), next_bit(s, s, 1, q, nw));
		if (q == n - 1)
			break;
	}
}

unsigned live_scan(const struct live_cfg *c, struct live_buf *b, struct cs_scan *s, const __u8 *buf,
		   __u32 n, scan_token_fn fn, void *ctx, __u32 *skipped)
{
	struct cs_sink tf = {.c = c, .fn = fn, .ctx = ctx};
	__u32 nw = (n + 63) / 64, f = 0, L = c->skip_len;
	__u64 *sb, *p, *d, *live;

	*skipped = 0;
	if (!n)
		return s->trig;
	if (n >= 2 && buf[0] == 0x1f && buf[1] == 0x8b)
		s->trig |= CS_TRIG_GZIP;
	if (!(s->trig & CS_TRIG_WIDE) && wide_scan(buf, n, L))
		s->trig |= CS_TRIG_WIDE;
	tf.tok_min = L && c->strong_min ? c->strong_min : c->min_len;
	if (!L || buf_grow(b, 4 * (size_t)nw)) {
		/* every byte (no skipping, or no memory for the masks: a superset is safe) */
		cs_scan_step(s, c->key, buf, n, 0, &tf);
		s->pos = n;
		return s->trig;
	}
	sb = b->m;
	p = sb + nw;
	d = p + nw;
	live = d + nw;
	live_classify(c, buf, n, sb, p, d);
	/* run bytes: the pure separators between two digits or separators too */
	for (__u32 w = 0; w < nw; w++) {
		__u64 dl = (d[w] << 1) | (w ? d[w - 1] >> 63 : 1);
		__u64 dr = (d[w] >> 1) | ((w + 1 < nw ? d[w + 1] : ~0ULL) << 63);

		sb[w] |= p[w] & dl & dr;
	}
	live_mask(live, sb, nw, n, L);
	for (;;) {
		__u32 st = next_bit(live, NULL, 0, f, nw), e;

		if (st >= n) {
			*skipped += n - f;
			break;
		}
		/* through the run, the pure separators after it and the byte that ends them */
		e = next_bit(live, p, 1, st, nw) + 1;
		if (e > n)
			e = n;
		*skipped += st - f;
		s->w_state = CS_WS_NONE;
		s->d_state = CS_DS_NONE;
		cs_scan_step(s, c->key, buf + st, e - st, st, &tf);
		f = e;
	}
	s->pos = n;
	return s->trig;
}

void live_reset(struct cs_scan *s)
{
	cs_scan_reset(s);
}

void live_step(const struct live_cfg *c, struct cs_scan *s, const __u8 *buf, __u32 n, __u32 pos,
	       __u32 tok_min, scan_token_fn fn, void *ctx)
{
	struct cs_sink tf = {.c = c, .tok_min = tok_min, .fn = fn, .ctx = ctx};

	cs_scan_step(s, c->key, buf, n, pos, &tf);
}

void live_flush(const struct live_cfg *c, struct cs_scan *s, __u32 tok_min, scan_token_fn fn,
		void *ctx)
{
	struct cs_sink tf = {.c = c, .tok_min = tok_min, .fn = fn, .ctx = ctx};

	cs_scan_flush(s, c->key, &tf);
}
