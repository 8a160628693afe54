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
 *     @ . _ - + (at most 3 in a row) and "%40" (decoded to '@'). Leading and trailing
 *     punctuation is not part of the token. A run of bytes >= 0x80 (UTF-8 text, e.g. Chinese
 *     names) is a token of its own class; a class change ends the token. The W stream is a
 *     table-driven state machine (cs_wclass, cs_wnext below).
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

#define CS_FNV_PRIME 0x100000001b3ULL
#define CS_D_MAX_SEP 3

CS_INLINE void cs_scan_reset(struct cs_scan *s)
{
	__builtin_memset(s, 0, sizeof(*s));
}

CS_INLINE int cs_is_dsep(__u8 c)
{
	return c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || c == '/';
}

/*
 * Verifier note. The BPF verifier tracks constants exactly, and a branch it can decide from a
 * known value marks that value precise, after which verifier states that differ in it never
 * prune. Byte loops written as nested ifs over small state variables therefore made it walk
 * the product of their branches per byte (over the 1M-instruction budget). So:
 *  - the W stream's state and byte class come from table lookups with a variable index
 *    (unknown to the verifier), and the body is a row of independent "if (action bit)"
 *    blocks that reconverge at once: the verifier's work is the sum of the blocks per byte;
 *  - the D stream's small state is read and written through volatile accesses to the map
 *    value, so every read is a fresh unknown scalar;
 *  - lengths start from CS_K(0), an always-zero value loaded from the map (cs_scan._pad) the
 *    verifier cannot see through, so no length is ever a known constant.
 * Userspace compiles the same code with plain accesses.
 */
#ifdef __BPF__
#define CS_V(field) (*(volatile __typeof__(s->field) *)&s->field)
#define CS_K_DECL   __u32 z = CS_V(_pad)
#define CS_K(v)	    ((v) + z)
#else
#define CS_V(field) (s->field)
#define CS_K_DECL
#define CS_K(v) (v)
#endif

/* W byte classes (low 3 bits of cs_wclass); 0x20 marks an upper-case letter. */
enum {
	CS_WC_OTHER,
	CS_WC_ALNUM,
	CS_WC_HIGH,  /* >= 0x80 */
	CS_WC_INNER, /* @ . _ - + */
	CS_WC_PCT,   /* % */
	CS_WC_FOUR,  /* 4, also a digit */
	CS_WC_ZERO,  /* 0, also a digit */
};

/* W states */
enum {
	CS_WS_NONE,
	CS_WS_WORD, /* ASCII token, last byte a letter or digit */
	CS_WS_UTF,  /* run of bytes >= 0x80 */
	CS_WS_P1,   /* ASCII token + 1, 2, 3 pending inner punctuation bytes */
	CS_WS_P2,
	CS_WS_P3,
	CS_WS_PC1, /* ASCII token + "%" */
	CS_WS_PC2, /* ASCII token + "%4" */
};

/* Actions (cs_wnext bits 3..7), applied in this order; bits 0..2 are the next state. */
#define CS_WA_EMIT   0x08 /* emit the committed token */
#define CS_WA_START  0x10 /* start a token at this byte */
#define CS_WA_HASH   0x20 /* hash the byte (lower-cased) into the tentative token */
#define CS_WA_COMMIT 0x40 /* tentative becomes committed, token ends after this byte */
#define CS_WA_AT     0x80 /* hash '@' instead of the byte ("%40") */

static const __u8 cs_wclass[256] = {
    ['0'] = CS_WC_ZERO,
    ['1' ... '3'] = CS_WC_ALNUM,
    ['4'] = CS_WC_FOUR,
    ['5' ... '9'] = CS_WC_ALNUM,
    ['A' ... 'Z'] = CS_WC_ALNUM | 0x20,
    ['a' ... 'z'] = CS_WC_ALNUM,
    [0x80 ... 0xff] = CS_WC_HIGH,
    ['@'] = CS_WC_INNER,
    ['.'] = CS_WC_INNER,
    ['_'] = CS_WC_INNER,
    ['-'] = CS_WC_INNER,
    ['+'] = CS_WC_INNER,
    ['%'] = CS_WC_PCT,
};

#define CS_W_NEW(st)	 (CS_WA_START | CS_WA_HASH | CS_WA_COMMIT | (st))
#define CS_W_END_NEW(st) (CS_WA_EMIT | CS_W_NEW(st))
#define CS_W_ADD	 (CS_WA_HASH | CS_WA_COMMIT | CS_WS_WORD)
#define CS_W_STOP	 CS_WA_EMIT

/* Next state and actions, indexed [state << 3 | class]; one row per state. */
/* clang-format off */
static const __u8 cs_wnext[64] = {
	/* NONE */
	CS_WS_NONE, CS_W_NEW(CS_WS_WORD), CS_W_NEW(CS_WS_UTF), CS_WS_NONE, CS_WS_NONE,
	CS_W_NEW(CS_WS_WORD), CS_W_NEW(CS_WS_WORD), CS_WS_NONE,
	/* WORD */
	CS_W_STOP, CS_W_ADD, CS_W_END_NEW(CS_WS_UTF), CS_WA_HASH | CS_WS_P1, CS_WS_PC1, CS_W_ADD,
	CS_W_ADD, CS_W_STOP,
	/* UTF */
	CS_W_STOP, CS_W_END_NEW(CS_WS_WORD), CS_WA_HASH | CS_WA_COMMIT | CS_WS_UTF, CS_W_STOP,
	CS_W_STOP, CS_W_END_NEW(CS_WS_WORD), CS_W_END_NEW(CS_WS_WORD), CS_W_STOP,
	/* P1 */
	CS_W_STOP, CS_W_ADD, CS_W_END_NEW(CS_WS_UTF), CS_WA_HASH | CS_WS_P2, CS_W_STOP, CS_W_ADD,
	CS_W_ADD, CS_W_STOP,
	/* P2 */
	CS_W_STOP, CS_W_ADD, CS_W_END_NEW(CS_WS_UTF), CS_WA_HASH | CS_WS_P3, CS_W_STOP, CS_W_ADD,
	CS_W_ADD, CS_W_STOP,
	/* P3: a fourth punctuation byte ends the token */
	CS_W_STOP, CS_W_ADD, CS_W_END_NEW(CS_WS_UTF), CS_W_STOP, CS_W_STOP, CS_W_ADD, CS_W_ADD,
	CS_W_STOP,
	/* PC1: "%" */
	CS_W_STOP, CS_W_END_NEW(CS_WS_WORD), CS_W_END_NEW(CS_WS_UTF), CS_W_STOP, CS_W_STOP,
	CS_WS_PC2, CS_W_END_NEW(CS_WS_WORD), CS_W_STOP,
	/* PC2: "%4" */
	CS_W_STOP, CS_W_END_NEW(CS_WS_WORD), CS_W_END_NEW(CS_WS_UTF), CS_W_STOP, CS_W_STOP,
	CS_W_END_NEW(CS_WS_WORD), CS_WA_AT | CS_WA_HASH | CS_WS_P1, CS_W_STOP,
};
/* clang-format on */

#ifdef __BPF__
#define CS_LOOP_D CS_STEP_D
#define CS_LOOP_W CS_STEP_W
#else
#define CS_LOOP_D 0xffffffffu
#define CS_LOOP_W 0xffffffffu
#endif

/*
 * D stream over n bytes at p, whose first byte is at offset pos of the message. The two
 * streams run as separate passes (separate global functions in BPF), each a small loop.
 */
CS_INLINE void cs_scan_d(struct cs_scan *s, const struct cs_key *k, const __u8 *p, __u32 n,
			 __u32 pos, void *ctx)
{
	__u64 seed = k->seed, d_acc = s->d_acc;
	__u32 d_len = s->d_len, d_start = s->d_start, d_end = s->d_end;
	__u32 j;
	CS_K_DECL;

	(void)ctx;
	for (j = 0; j < CS_LOOP_D; j++, pos++) {
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

/* W stream over n bytes at p, whose first byte is at offset pos of the message. */
CS_INLINE void cs_scan_w(struct cs_scan *s, const struct cs_key *k, const __u8 *p, __u32 n,
			 __u32 pos, void *ctx)
{
	__u64 seed = k->seed, acc = s->w_acc, acct = s->w_acct;
	__u32 len = s->w_len, lent = s->w_lent, start = s->w_start, end = s->w_end;
	__u32 j;
	CS_K_DECL;

	(void)ctx;
	for (j = 0; j < CS_LOOP_W; j++, pos++) {
		__u8 c, cl, a;

		if (j >= n)
			break;
		c = p[j];
		cl = cs_wclass[c];
		/*
		 * The state goes through memory: as a register it would index the table, become
		 * precise, and make every earlier branch on its bits split the verifier state.
		 */
		a = cs_wnext[((CS_V(w_state) & 7) << 3) | (cl & 7)];
		if (a & CS_WA_EMIT) {
			CS_ON_TOKEN(ctx, acc, len, start, end);
		}
		if (a & CS_WA_START) {
			acct = seed;
			lent = CS_K(0);
			start = pos;
		}
		if (a & CS_WA_HASH) {
			__u8 b = (a & CS_WA_AT) ? '@' : (c | (cl & 0x20));

			acct = (acct ^ b) * CS_FNV_PRIME;
			lent++;
		}
		if (a & CS_WA_COMMIT) {
			acc = acct;
			len = lent;
			end = pos + 1;
		}
		CS_V(w_state) = a & 7;
	}
	s->w_acc = acc;
	s->w_acct = acct;
	s->w_len = len;
	s->w_lent = lent;
	s->w_start = start;
	s->w_end = end;
}

/*
 * Both streams over n bytes at p, the next piece of the message: the D tokens of the piece
 * are emitted before its W tokens. The kernel feeds CS_CHUNK pieces (in smaller steps per
 * pass, which does not change the tokens or their order); userspace does the same.
 */
CS_INLINE void cs_scan_buf(struct cs_scan *s, const struct cs_key *k, const __u8 *p, __u32 n,
			   void *ctx)
{
	cs_scan_d(s, k, p, n, s->pos, ctx);
	cs_scan_w(s, k, p, n, s->pos, ctx);
	s->pos += n;
}

/* End of the message: emit the open tokens. */
CS_INLINE void cs_scan_flush(struct cs_scan *s, void *ctx)
{
	CS_K_DECL;

	(void)ctx;
	if (s->d_in) {
		CS_ON_TOKEN(ctx, s->d_acc, s->d_len, s->d_start, s->d_end);
	}
	if (s->w_state != CS_WS_NONE) {
		CS_ON_TOKEN(ctx, s->w_acc, s->w_len, s->w_start, s->w_end);
	}
	s->d_in = 0;
	s->d_nsep = 0;
	s->w_state = CS_WS_NONE;
}

#endif /* CS_SCAN_H */
