/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The scanner core: tokeniser + keyed fingerprint, written once and compiled twice, for the BPF
 * programs (bpf/lib/scan.bpf.h) and for userspace (enroll, tests). Enroll fingerprints a value by
 * running exactly this code over its normalised form, so a value the kernel sees in a payload
 * produces the same fingerprint bit for bit; tests/unit/test_scan.c and tests/bpf prove it.
 *
 * Two token streams run over the same bytes in one pass:
 *
 *  W (words): a run of ASCII letters/digits, lower-cased, that may contain the inner punctuation
 *     @ . _ - + (at most CS_W_MAX_PEND in a row) and "%40" (decoded to '@'). Leading and trailing
 *     punctuation is not part of the token. A run of bytes >= 0x80 (UTF-8 text, e.g. Chinese
 *     names) is a token of its own class; a class change ends the token.
 *     -> emails, national ids (x/X), passports, usernames, name and address parts.
 *  D (digits): digits only; up to CS_D_MAX_SEP separators ( space - . ( ) / ) between digits are
 *     skipped, any other byte ends the token.
 *     -> phones written "+86 138-0013-8000", "(138) 0013 8000", bank cards in groups, dates.
 *
 * A token's fingerprint is SipHash-2-4(k0,k1; acc, len) where acc is a keyed FNV-1a-64 over the
 * token's normalised bytes (seeded with key bytes 16..23) and len its normalised length. The per
 * byte work is one xor and one multiply; the SipHash finalisation runs once per token, and the
 * kernel only runs it for tokens whose length lies in the window of enrolled lengths.
 *
 * The includer defines CS_ON_TOKEN(ctx, acc, len, start, end) before including this file; it is
 * called for every token with its normalised length and raw [start, end) byte offsets.
 */
#ifndef CS_SCAN_H
#define CS_SCAN_H

#include "cs_abi.h"
#include "cs_hash.h"

#ifndef CS_ON_TOKEN
#error "define CS_ON_TOKEN(ctx, acc, len, start, end) before including cs_scan.h"
#endif

#ifdef __BPF__
/* The BPF loop is bounded by the chunk size so the verifier sees a constant trip count. */
#define CS_LOOP_MAX CS_CHUNK
#else
#define CS_LOOP_MAX 0xffffffffu
#endif

#define CS_FNV_PRIME 0x100000001b3ULL
#define CS_W_MAX_PEND 3
#define CS_D_MAX_SEP 3

CS_INLINE void cs_scan_reset(struct cs_scan *s)
{
	__builtin_memset(s, 0, sizeof(*s));
}

CS_INLINE int cs_is_alnum(__u8 c)
{
	return (__u8)(c - '0') < 10 || (__u8)((c | 0x20) - 'a') < 26;
}

CS_INLINE int cs_is_inner(__u8 c)
{
	return c == '@' || c == '.' || c == '_' || c == '-' || c == '+';
}

CS_INLINE int cs_is_dsep(__u8 c)
{
	return c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || c == '/';
}

/*
 * Scan n bytes at p, continuing the state in *s. All state lives in locals inside the loop
 * (registers in BPF); ctx is passed through to CS_ON_TOKEN.
 */
CS_INLINE void cs_scan_buf(struct cs_scan *s, const struct cs_key *k, const __u8 *p, __u32 n,
			   void *ctx)
{
	__u64 seed = k->seed;
	__u64 w_acc = s->w_acc, d_acc = s->d_acc;
	__u32 w_len = s->w_len, w_start = s->w_start, w_end = s->w_end, w_pend = s->w_pend;
	__u32 d_len = s->d_len, d_start = s->d_start, d_end = s->d_end;
	__u32 pos = s->pos;
	__u8 w_npend = s->w_npend, w_cls = s->w_cls, w_pct = s->w_pct, d_nsep = s->d_nsep;
	__u32 j;

	(void)ctx;
	for (j = 0; j < CS_LOOP_MAX; j++) {
		__u8 c;
		int digit;

		if (j >= n)
			break;
		c = p[j];
		digit = (__u8)(c - '0') < 10;

		/* D stream */
		if (digit) {
			if (!d_len) {
				d_acc = seed;
				d_start = pos;
			}
			d_acc = (d_acc ^ c) * CS_FNV_PRIME;
			d_len++;
			d_end = pos + 1;
			d_nsep = 0;
		} else if (d_len) {
			if (cs_is_dsep(c) && d_nsep < CS_D_MAX_SEP) {
				d_nsep++;
			} else {
				CS_ON_TOKEN(ctx, d_acc, d_len, d_start, d_end);
				d_len = 0;
				d_nsep = 0;
			}
		}

		/* W stream: "%40" decoder first, it owns the bytes it consumes */
		if (w_pct) {
			if (w_pct == 1 && c == '4') {
				w_pct = 2;
				pos++;
				continue;
			}
			if (w_pct == 2 && c == '0') {
				w_pct = 0;
				if (w_npend < CS_W_MAX_PEND) {
					w_pend |= (__u32)'@' << (8 * w_npend);
					w_npend++;
					pos++;
					continue;
				}
			}
			/* not "%40": the '%' ended the token */
			w_pct = 0;
			if (w_len)
				CS_ON_TOKEN(ctx, w_acc, w_len, w_start, w_end);
			w_len = 0;
			w_cls = 0;
			w_npend = 0;
			w_pend = 0;
		}
		if (cs_is_alnum(c)) {
			if (w_cls == 2) {
				CS_ON_TOKEN(ctx, w_acc, w_len, w_start, w_end);
				w_cls = 0;
			}
			if (!w_cls) {
				w_cls = 1;
				w_acc = seed;
				w_len = 0;
				w_start = pos;
				w_npend = 0;
				w_pend = 0;
			}
			/* absorb pending punctuation: it sits between two alnums */
			if (w_npend) {
				__u8 i;

				for (i = 0; i < CS_W_MAX_PEND; i++) {
					if (i >= w_npend)
						break;
					w_acc = (w_acc ^ ((w_pend >> (8 * i)) & 0xff)) * CS_FNV_PRIME;
					w_len++;
				}
				w_npend = 0;
				w_pend = 0;
			}
			w_acc = (w_acc ^ (c | ((__u8)(c - 'A') < 26 ? 0x20 : 0))) * CS_FNV_PRIME;
			w_len++;
			w_end = pos + 1;
		} else if (c >= 0x80) {
			if (w_cls == 1) {
				CS_ON_TOKEN(ctx, w_acc, w_len, w_start, w_end);
				w_cls = 0;
			}
			if (!w_cls) {
				w_cls = 2;
				w_acc = seed;
				w_len = 0;
				w_start = pos;
				w_npend = 0;
				w_pend = 0;
			}
			w_acc = (w_acc ^ c) * CS_FNV_PRIME;
			w_len++;
			w_end = pos + 1;
		} else if (w_cls == 1 && cs_is_inner(c) && w_npend < CS_W_MAX_PEND) {
			w_pend |= (__u32)c << (8 * w_npend);
			w_npend++;
		} else if (w_cls == 1 && c == '%') {
			w_pct = 1;
		} else if (w_cls) {
			CS_ON_TOKEN(ctx, w_acc, w_len, w_start, w_end);
			w_cls = 0;
			w_len = 0;
			w_npend = 0;
			w_pend = 0;
		}
		pos++;
	}

	s->w_acc = w_acc;
	s->d_acc = d_acc;
	s->w_len = w_cls ? w_len : 0;
	s->w_start = w_start;
	s->w_end = w_end;
	s->w_pend = w_pend;
	s->d_len = d_len;
	s->d_start = d_start;
	s->d_end = d_end;
	s->pos = pos;
	s->w_npend = w_npend;
	s->w_cls = w_cls;
	s->w_pct = w_pct;
	s->d_nsep = d_nsep;
}

/* End of the message: emit the open tokens. */
CS_INLINE void cs_scan_flush(struct cs_scan *s, void *ctx)
{
	(void)ctx;
	if (s->d_len)
		CS_ON_TOKEN(ctx, s->d_acc, s->d_len, s->d_start, s->d_end);
	if (s->w_cls && s->w_len)
		CS_ON_TOKEN(ctx, s->w_acc, s->w_len, s->w_start, s->w_end);
	s->d_len = 0;
	s->w_cls = 0;
	s->w_len = 0;
	s->w_npend = 0;
	s->w_pend = 0;
	s->w_pct = 0;
	s->d_nsep = 0;
}

#endif /* CS_SCAN_H */
