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
/* The BPF loop has a constant trip count the verifier can walk (see CS_SCAN_STEP). */
#define CS_LOOP_MAX CS_SCAN_STEP
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
 * Verifier note. The BPF verifier tracks constants exactly, and a branch it can decide from a
 * known value marks that value precise, after which verifier states that differ in it never
 * prune: with token lengths and the small state bytes held in registers the byte loop
 * exploded past the 1M-instruction budget even at 32 bytes per call. So in BPF:
 *  - the small state (classes, pending counts, "in token" flags) is read and written through
 *    volatile accesses to the per-CPU map value: every read is a fresh unknown scalar;
 *  - lengths start from CS_K(0), an always-zero value loaded from the map (cs_scan._pad) the
 *    verifier cannot see through, and no branch ever tests a length against a constant
 *    except the enrolled-length window inside CS_ON_TOKEN, where it stays imprecise.
 * Userspace compiles the same code with plain accesses.
 */
#ifdef __BPF__
#define CS_V(field) (*(volatile __typeof__(s->field) *)&s->field)
#else
#define CS_V(field) (s->field)
#endif

/* End the W token (if any); the pending punctuation is not part of it. */
#define CS_W_END()                                                                                 \
	do {                                                                                       \
		if (CS_V(w_cls))                                                                   \
			CS_ON_TOKEN(ctx, w_acc, w_len, w_start, w_end);                            \
		CS_V(w_cls) = 0;                                                                   \
		CS_V(w_npend) = 0;                                                                 \
		w_pend = 0;                                                                        \
	} while (0)

/* Start a W token of class cls at pos. */
#define CS_W_START(cls)                                                                            \
	do {                                                                                       \
		CS_V(w_cls) = (cls);                                                               \
		w_acc = seed;                                                                      \
		w_len = CS_K(0);                                                                   \
		w_start = pos;                                                                     \
		CS_V(w_npend) = 0;                                                                 \
		w_pend = 0;                                                                        \
	} while (0)

#ifdef __BPF__
#define CS_K_DECL __u32 z = CS_V(_pad)
#define CS_K(v) ((v) + z)
#else
#define CS_K_DECL
#define CS_K(v) (v)
#endif

/*
 * D stream over n bytes at p (absolute offset s->pos). The two streams run as separate passes:
 * the verifier explores the product of a loop body's branch choices per byte, so two small
 * bodies cost it far less than one combined body.
 */
CS_INLINE void cs_scan_d(struct cs_scan *s, const struct cs_key *k, const __u8 *p, __u32 n,
			 void *ctx)
{
	__u64 seed = k->seed, d_acc = s->d_acc;
	__u32 d_len = s->d_len, d_start = s->d_start, d_end = s->d_end, pos = s->pos;
	__u32 j;
	CS_K_DECL;

	(void)ctx;
	for (j = 0; j < CS_LOOP_MAX; j++, pos++) {
		__u8 c;

		if (j >= n)
			break;
		c = p[j];
		if ((__u8)(c - '0') < 10) {
			if (!CS_V(d_in)) {
				CS_V(d_in) = 1;
				d_acc = seed;
				d_len = CS_K(0);
				d_start = pos;
			}
			d_acc = (d_acc ^ c) * CS_FNV_PRIME;
			d_len++;
			d_end = pos + 1;
			CS_V(d_nsep) = 0;
		} else if (CS_V(d_in)) {
			if (cs_is_dsep(c) && CS_V(d_nsep) < CS_D_MAX_SEP) {
				CS_V(d_nsep)++;
			} else {
				CS_ON_TOKEN(ctx, d_acc, d_len, d_start, d_end);
				CS_V(d_in) = 0;
				CS_V(d_nsep) = 0;
			}
		}
	}
	s->d_acc = d_acc;
	s->d_len = d_len;
	s->d_start = d_start;
	s->d_end = d_end;
}

/* W stream over n bytes at p (absolute offset s->pos); advances s->pos. */
CS_INLINE void cs_scan_w(struct cs_scan *s, const struct cs_key *k, const __u8 *p, __u32 n,
			 void *ctx)
{
	__u64 seed = k->seed, w_acc = s->w_acc;
	__u32 w_len = s->w_len, w_start = s->w_start, w_end = s->w_end, w_pend = s->w_pend;
	__u32 pos = s->pos;
	__u32 j;
	CS_K_DECL;

	(void)ctx;
	for (j = 0; j < CS_LOOP_MAX; j++, pos++) {
		__u8 c;

		if (j >= n)
			break;
		c = p[j];
		/* the "%40" decoder first, it owns the bytes it consumes */
		if (CS_V(w_pct)) {
			if (CS_V(w_pct) == 1 && c == '4') {
				CS_V(w_pct) = 2;
				continue;
			}
			if (CS_V(w_pct) == 2 && c == '0' && CS_V(w_npend) < CS_W_MAX_PEND) {
				CS_V(w_pct) = 0;
				w_pend |= (__u32)'@' << (8 * CS_V(w_npend));
				CS_V(w_npend)++;
				continue;
			}
			/* not "%40": the '%' ended the token */
			CS_V(w_pct) = 0;
			CS_W_END();
		}
		if (cs_is_alnum(c)) {
			if (CS_V(w_cls) == 2)
				CS_W_END();
			if (!CS_V(w_cls))
				CS_W_START(1);
			/* absorb pending punctuation: it sits between two alnums */
			if (CS_V(w_npend)) {
				__u8 i;

				for (i = 0; i < CS_W_MAX_PEND; i++) {
					if (i >= CS_V(w_npend))
						break;
					w_acc = (w_acc ^ ((w_pend >> (8 * i)) & 0xff)) * CS_FNV_PRIME;
					w_len++;
				}
				CS_V(w_npend) = 0;
				w_pend = 0;
			}
			w_acc = (w_acc ^ (c | ((__u8)(c - 'A') < 26 ? 0x20 : 0))) * CS_FNV_PRIME;
			w_len++;
			w_end = pos + 1;
		} else if (c >= 0x80) {
			if (CS_V(w_cls) == 1)
				CS_W_END();
			if (!CS_V(w_cls))
				CS_W_START(2);
			w_acc = (w_acc ^ c) * CS_FNV_PRIME;
			w_len++;
			w_end = pos + 1;
		} else if (CS_V(w_cls) == 1 && cs_is_inner(c) && CS_V(w_npend) < CS_W_MAX_PEND) {
			w_pend |= (__u32)c << (8 * CS_V(w_npend));
			CS_V(w_npend)++;
		} else if (CS_V(w_cls) == 1 && c == '%') {
			CS_V(w_pct) = 1;
		} else {
			CS_W_END();
		}
	}
	s->w_acc = w_acc;
	s->w_len = w_len;
	s->w_start = w_start;
	s->w_end = w_end;
	s->w_pend = w_pend;
	s->pos = pos;
}

/* Both streams over n bytes at p: D tokens of the piece are emitted before W tokens. */
CS_INLINE void cs_scan_buf(struct cs_scan *s, const struct cs_key *k, const __u8 *p, __u32 n,
			   void *ctx)
{
	cs_scan_d(s, k, p, n, ctx);
	cs_scan_w(s, k, p, n, ctx);
}

/* End of the message: emit the open tokens. */
CS_INLINE void cs_scan_flush(struct cs_scan *s, void *ctx)
{
	(void)ctx;
	if (s->d_in)
		CS_ON_TOKEN(ctx, s->d_acc, s->d_len, s->d_start, s->d_end);
	if (s->w_cls)
		CS_ON_TOKEN(ctx, s->w_acc, s->w_len, s->w_start, s->w_end);
	s->d_in = 0;
	s->w_cls = 0;
	s->w_npend = 0;
	s->w_pend = 0;
	s->w_pct = 0;
	s->d_nsep = 0;
}

#endif /* CS_SCAN_H */
