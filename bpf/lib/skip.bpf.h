/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Run skipping applied to a send's chunks: the tokeniser is given only the runs of S bytes long
 * enough to hold a strong token (the arithmetic and why it is safe: include/cs_skip.h), plus the
 * wide-form (UTF-16, full-width) trigger and the anchor test. cs_scan_live is the entry.
 */
#ifndef CS_SKIP_BPF_H
#define CS_SKIP_BPF_H

#include "cs_skip.h"
#include "lib/token.bpf.h"

/*
 * Skipping runs too short to hold a strong value. A strong token of an ASCII fingerprint DB
 * (cfg_skip_len > 0) lies inside a run of "S" bytes (include/cs_skip.h, which checks the set
 * against the tokeniser's byte classes in tests/unit/test_skip.c). Its run is at least as long
 * as its normalised length, so a run shorter than cfg_skip_len (the shortest strong token, at
 * most 12) holds none. The tokeniser is only given the runs of cfg_skip_len or more, the run the
 * previous chunk ended in and the run at the end of each chunk (a value may continue in the next
 * chunk or send). Every run given is whole: after a byte outside S both machines of cs_scan.h are
 * in a state (no token, or a UTF-8 run) from which an S byte is tokenised as from a fresh state, so
 * a range starts fresh at the first byte of its run and ends just after the first byte outside S
 * that follows it (cs_next_range). The gzip magic, the one trigger outside a run, is tested
 * directly. What is skipped can only hold weak tokens (names: UTF-8 or short words), so when the DB
 * has weak fields a send with a strong hit, or one to be decoded, is tokenised again whole before
 * its event (cs_scan_done). The threshold 12 keeps the decoding triggers: Content-Encoding (16
 * bytes), base64 runs (12), and escaped values, longer than the value.
 */

/*
 * Candidate words (cs_skip.h cs_cand4): where cfg_skip_len >= 11 (>= 7), only a word whose
 * first (either) 4 bytes are all in a cheap superset of S can be inside a long run. A long run
 * covers its candidate halves, and beyond them at most 3 bytes on each side (4 it covers whole
 * are a candidate); the separators after a run are in the superset too. So only the 64-byte blocks
 * with a candidate, the blocks beside a candidate at a block's edge, and the blocks where the chunk
 * starts and ends, if a run from the last chunk goes on or one may run into the next, need the
 * exact classification. The rest is classified by one test per word (per two words at >= 11).
 */
/*
 * Wide forms, which hold no run of S bytes: UTF-16 text (an ASCII character is a byte and a
 * zero) and full-width letters and digits (UTF-8 EF BC 90 - EF BD 9A). A send holding them is
 * handed to the collector (CS_TRIG_WIDE), which decodes them (user/decode/decode.c). The cheap test
 * runs beside the candidate test, on the first 4 bytes of words, packed two to a word as
 * there: UTF-16 of a strong value (>= 2 * cfg_skip_len bytes, >= 22 at 11) covers the first 4
 * bytes of two consecutive words, so at >= 11 the even words suffice; full-width text is
 * longer still. The blocks cs_skip.h cs_wide4 flags get the exact test (cs_wide_exact).
 */

/*
 * The exact test (cs_skip.h cs_wide_word) on block b of st->chunk, of which the first valid bytes
 * are the send's, if it passes the cheap one (on all 4 packed pairs: callers without a
 * candidate test pass every block). Bytes past the send are taken as zero: they are whatever an
 * earlier send left in the buffer. A global function, verified once for any b.
 */
__noinline int cs_wide_block(__u32 b, __u32 valid)
{
	struct cs_state *st = state_get();
	const __u64 *p0;
	__u64 hit = 0, x, nx;
	__u32 w;

	if (!st)
		return 0;
	p0 = (const __u64 *)(st->chunk + (b & (CS_CHUNK / 64 - 1)) * 64);
	if (!(cs_wide4(CS_PACK(p0[0], p0[1])) | cs_wide4(CS_PACK(p0[2], p0[3])) |
	      cs_wide4(CS_PACK(p0[4], p0[5])) | cs_wide4(CS_PACK(p0[6], p0[7]))))
		return 0;
	/* not unrolled: the temporaries of 8 words spill past the 512-byte stack */
	for (w = 0; w < 8; w++) {
		/* the word after the block's last is the next block's, or the chunk's padding */
		x = p0[w] & cs_bytes_below(valid, w * 8);
		nx = p0[w + 1] & cs_bytes_below(valid, w * 8 + 8);
		hit |= cs_wide_word(x, nx);
	}
	if (hit)
		st->scan.trig |= CS_TRIG_WIDE;
	return 0;
}

/*
 * cs_wide_block for the blocks in mask among the n bytes in st->chunk. Inlined into its
 * callers: a call frame more would pass the verifier's 8 on the deepest path.
 */
static __always_inline void cs_wide_exact(__u32 mask, __u32 n)
{
	__u32 k;

	mask &= (1U << ((n + 63) / 64)) - 1;
	for (k = 0; k < CS_CHUNK / 64; k++) {
		if (!mask)
			break;
		cs_wide_block(cs_lowbit(mask), n - cs_lowbit(mask) * 64);
		mask &= mask - 1;
	}
}

/*
 * The 64-byte blocks of the n bytes in st->chunk that need the exact classification (see
 * above), one bit per block; every block if runs shorter than 7 bytes matter. A global
 * function: its loop's exits do not multiply the paths of the caller's.
 */
__noinline int cs_exact_blocks(__u32 n)
{
	struct cs_state *st = state_get();
	__u32 b, any = 0, first = 0, last = 0, w, wide = 0;
	__u8 end;

	if (!st)
		return 0xffff;
	/* no candidate test: cs_wide_exact tests every block */
	st->wide = 0xffff;
	if (cfg_skip_len < 7 || !n || n > CS_CHUNK)
		return 0xffff;
	for (b = 0; b < CS_CHUNK / 64; b++) {
		const __u64 *p = (const __u64 *)(st->chunk + b * 64);
		__u64 t0, t7, t, v;

		if (b * 64 >= n)
			break;
		/*
		 * Bit 7 of t0 is a candidate where a run may reach into the block before, bit 39
		 * of t7 one where it may reach into the next: the first halves of words 0 and 7
		 * (>= 11), or the first half of word 0 and the second of word 7 (>= 7).
		 */
		if (cfg_skip_len >= 11) {
			t0 = CS_CAND2(p[0], p[1]);
			t7 = CS_CAND2(p[6], p[7]);
			t = CS_CAND2(p[2], p[3]) | CS_CAND2(p[4], p[5]);
			v = cs_wide4(CS_PACK(p[0], p[2])) | cs_wide4(CS_PACK(p[4], p[6]));
		} else {
			t0 = cs_cand4(p[0]);
			t7 = cs_cand4(p[7]);
			t = cs_cand4(p[1]) | cs_cand4(p[2]) | cs_cand4(p[3]) | cs_cand4(p[4]) |
			    cs_cand4(p[5]) | cs_cand4(p[6]);
			v = cs_wide4(CS_PACK(p[0], p[1])) | cs_wide4(CS_PACK(p[2], p[3])) |
			    cs_wide4(CS_PACK(p[4], p[5])) | cs_wide4(CS_PACK(p[6], p[7]));
		}
		/* v != 0 without a branch (a branch per block multiplies the verifier's paths) */
		wide |= (__u32)((v | -v) >> 63) << b;
		any |= !!((t0 | t | t7) & CS_CAND_ANY) << b;
		first |= ((t0 >> 7) & 1) << b;
		last |= ((t7 >> 39) & 1) << b;
		/* dense text (JSON, HTML, logs): the first 4 blocks all need it, so will the rest,
		 * near enough; every block is a superset, so this is only a guess at the cost (and
		 * wide forms are looked for in those 4 only) */
		if (b == 3 && (any & 0xf) == 0xf) {
			st->wide = wide;
			return 0xffff;
		}
	}
	st->wide = wide;
	/* the first block if the last chunk ended in a run; the blocks of the last two words if
	 * this one ends in a byte of the superset */
	if (st->sflags & CS_SK_RUN_OPEN)
		any |= 1;
	w = (n - 1) / 8;
	end = st->chunk[(n - 1) & (CS_CHUNK - 1)];
	if (end >= 0x1f && end <= 0x7a)
		any |= (1 << (w / 8)) | (1 << ((w ? w - 1 : 0) / 8));
	return (any | (last << 1) | (first >> 1)) & 0xffff;
}

/* st->smask over the n bytes of st->chunk (bytes past n: not S). */
__noinline int cs_smask(__u32 n)
{
	struct cs_state *st = state_get();
	__u32 b, w;

	if (!st || !n || n > CS_CHUNK)
		return 0;
	st->eblocks = cs_exact_blocks(n);
	if (st->wide)
		cs_wide_exact(st->wide, n);
	for (b = 0; b < CS_CHUNK / 64; b++) {
		__u64 s = 0, p = 0;

		if (b * 64 >= n)
			break;
		if (!((st->eblocks >> b) & 1)) {
			st->smask[b & 15] = 0;
			st->pmask[b & 15] = 0;
			st->rmask[b & 15] = 0;
			continue;
		}
#pragma unroll
		for (w = 0; w < 8; w++) {
			__u64 x = *(__u64 *)(st->chunk + b * 64 + w * 8);

			s |= cs_sword(x, n - b * 64 - w * 8, &p, w * 8);
		}
		st->smask[b & 15] = s;
		st->pmask[b & 15] = p;
	}
	if (n & 63)
		st->smask[((n - 1) / 64) & 15] &= (1ULL << (n & 63)) - 1;
	return 0;
}

/*
 * The bytes of the n in st->chunk (message offset pos) the tokeniser must see, as bits in
 * st->rmask: every run of >= cfg_skip_len S bytes, the run the previous chunk ended in, and the
 * run at this chunk's end (its value may go on). Returns 1 if the chunk starts in the former.
 */
__noinline int cs_live_mask(__u32 n, __u32 pos)
{
	struct cs_state *st = state_get();
	__u32 nb, b, k, L = cfg_skip_len, last, top, open, a, c, eb, e, pb = 16;
	__u64 px = 0;
	__u64 m;

	if (!st || !n || n > CS_CHUNK)
		return 0;
	nb = (n + 63) / 64;
	/* run lengths doubled per step: >= 2, 4, 4 + a, 4 + a + c = L (a, c <= 4) */
	cs_run_steps(L, &a, &c);
	/* only the blocks cs_smask classified can hold a long run (cs_smask zeroed the rest) */
	eb = st->eblocks & ((1U << nb) - 1);
	/*
	 * Per block, in order: x, where runs of >= L S bytes start (y: the next block, whose low
	 * bits are all that is used), then u, the bytes of those runs (v: the starts of the
	 * block before, whose high bits are all that is used; 0 if it was not classified).
	 */
	e = eb;
	for (k = 0; k < CS_CHUNK / 64; k++) {
		__u64 x, y, u, v;

		if (!e)
			break;
		b = cs_lowbit(e) & 15;
		e &= e - 1;
		x = st->smask[b];
		y = b + 1 < nb ? st->smask[(b + 1) & 15] : 0;
		x = cs_run_starts(x, y, a, c);
		v = pb + 1 == b ? px : 0;
		u = cs_run_cover(x, v, a, c);
		st->rmask[b] = u;
		px = x;
		pb = b;
	}
	/* the gzip magic the tokeniser notices where a message starts (0x8b is not an S byte) */
	if (pos == 0 && n >= 2 && st->chunk[0] == 0x1f && st->chunk[1] == 0x8b)
		st->scan.trig |= CS_TRIG_GZIP;
	open = st->sflags & CS_SK_RUN_OPEN;
	if (open) {
		/* the run the last chunk ended in, through the byte that ends it (which ends its
		 * last token, also where the run stopped right at the seam); a run over 64 bytes
		 * is live */
		m = ~st->smask[0];
		st->rmask[0] |= m ? m ^ (m - 1) : ~0ULL;
	}
	/* the run at the end: from its start through byte n - 1 */
	st->sflags &= ~CS_SK_RUN_OPEN;
	last = (n - 1) / 64;
	top = (n - 1) & 63;
	m = st->smask[last & 15] & cs_bits_to(top);
	if ((m >> top) & 1) {
		__u64 y = ~m & cs_bits_to(top);

		st->sflags |= CS_SK_RUN_OPEN;
		if (y) {
			st->rmask[last & 15] |= cs_bits_to(top) & ~cs_bits_to(cs_highbit(y));
		} else {
			st->rmask[last & 15] |= cs_bits_to(top);
			if (last) {
				y = ~st->smask[(last - 1) & 15];
				st->rmask[(last - 1) & 15] |=
				    y ? ~cs_bits_to(cs_highbit(y)) : ~0ULL;
			}
		}
	}
	return open;
}

/*
 * The first byte at or after from (< n) whose bit is set in st->rmask, or with past_run clear in
 * st->rmask and st->pmask (past a run and the separators after it); n if there is none.
 */
static __always_inline __u32 cs_next_bit(struct cs_state *st, __u32 from, __u32 n, int past_run)
{
	__u32 i, b;

	for (i = 0; i < CS_CHUNK / 64; i++) {
		__u64 x;

		b = from / 64 + i;
		if (b * 64 >= n)
			break;
		x = past_run ? ~(st->rmask[b & 15] | st->pmask[b & 15]) : st->rmask[b & 15];
		if (!i)
			x &= ~0ULL << (from & 63);
		if (x)
			return b * 64 + cs_lowbit(x);
	}
	return n;
}

/*
 * The next range to tokenise at or after st->live_done: the next run of set bits of st->rmask,
 * through the pure separators after it (a D token pending on a separator ends only at the next
 * other byte) and that byte (it ends the run's last token). A range starts from a fresh state
 * (it starts a run, see above) unless it continues the previous chunk's (open, at byte 0);
 * what lies before it is counted skipped. all: take everything left (the caller's last call).
 * Returns 0 when none is left, else 1 with [st->live_start, st->live_done) to tokenise.
 */
__noinline int cs_next_range(__u32 n, __u32 open, __u32 all)
{
	struct cs_state *st = state_get();
	__u32 f, s, e;

	if (!st || n > CS_CHUNK)
		return 0;
	f = st->live_done;
	if (f >= n)
		return 0;
	s = cs_next_bit(st, f, n, 0);
	if (s >= n) {
		st->skipped += n - f;
		st->live_done = n;
		return 0;
	}
	e = all ? n : cs_next_bit(st, s, n, 1) + 1;
	if (e > n)
		e = n;
	if (s || !open) {
		st->scan.w_state = CS_WS_NONE;
		st->scan.d_state = CS_DS_NONE;
	}
	st->skipped += s - f;
	st->live_start = s;
	st->live_done = e;
	return 1;
}

/*
 * Anchors (cs_abi.h CS_ANCHOR_LONG): whether the range cs_next_range gave must be tokenised. A
 * range shorter than CS_ANCHOR_LONG that neither goes on from the last chunk (open) nor reaches
 * the chunk's end is left out (counted skipped) unless it holds an anchor byte, two upper-case
 * letters or cfg_anchor_digits digits: no strong value fits in it otherwise (its bytes are a
 * superset of the value's). Three words at most, tested 8 bytes a step. Returns 1 to tokenise.
 */
__noinline int cs_anchored(__u32 n, __u32 open)
{
	struct cs_state *st = state_get();
	__u32 s, e, w, digits = 0, upper = 0;
	__u64 anchor = 0;

	if (!st)
		return 1;
	s = st->live_start;
	e = st->live_done;
	if (e - s >= CS_ANCHOR_LONG || e >= n || e > CS_CHUNK || (s == 0 && open))
		return 1;
	for (w = s / 8; w < s / 8 + 3; w++) {
		__u32 b = w * 8;
		__u64 x;

		if (b >= e)
			break;
		x = *(__u64 *)(st->chunk + (b & (CS_CHUNK - 8)));
		anchor |=
		    cs_anchor_word(x, s > b ? s - b : 0, e - b < 8 ? e - b : 8, &digits, &upper);
	}
	if (anchor || upper >= 2 || digits >= cfg_anchor_digits)
		return 1;
	st->skipped += e - s;
	return 0;
}

/* Ranges per chunk given one by one; the last call takes the rest of the chunk. */
#define CS_LIVE_RANGES 48

/*
 * The n bytes in st->chunk at message offset pos: tokenise the runs that may hold a strong
 * token (see above), count the rest in st->skipped.
 */
static __always_inline void cs_scan_live(struct cs_state *st, __u32 n, __u32 pos)
{
	__u32 i, open;

	cs_smask(n);
	open = cs_live_mask(n, pos);
	st->live_done = 0;
	/* strong lengths only (cfg_strong_min), back to every length for the other passes */
	st->tok_min = cfg_strong_min ? cfg_strong_min : cfg_min_len;
	for (i = 0; i < CS_LIVE_RANGES; i++) {
		if (!cs_next_range(n, open, i == CS_LIVE_RANGES - 1))
			break;
		if (cfg_anchor_digits && !cs_anchored(n, open))
			continue;
#if CS_FLOOR != 2
		cs_scan_range(st->live_start, st->live_done, pos);
#endif
	}
	st->tok_min = cfg_min_len;
}

#endif /* CS_SKIP_BPF_H */
