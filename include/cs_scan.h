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
 *     table-driven state machine (cs_class, cs_wnext below); so is D (cs_dnext).
 *     -> emails, national ids (x/X), passports, usernames, name and address parts.
 *  D (digits): digits only; up to 3 separators ( space - . ( ) / ) between digits are
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

CS_INLINE void cs_scan_reset(struct cs_scan *s)
{
	__builtin_memset(s, 0, sizeof(*s));
	s->esc_pos = 0xfffffff0u; /* no marker byte seen */
}

/*
 * Verifier note. The BPF verifier tracks constants exactly, and a branch it can decide from a
 * known value marks that value precise, after which verifier states that differ in it never
 * prune. Byte loops written as nested ifs over small state variables therefore made it walk
 * the product of their branches per byte (over the 1M-instruction budget even for 32 bytes).
 * So both streams are table-driven: the next state and action bits come from table lookups
 * with a variable index (unknown to the verifier), and the body is a row of independent
 * "if (action bit)" blocks that reconverge at once, so the verifier's work per byte is the
 * sum of the blocks. Lengths start from CS_K(0), an always-zero value loaded from the map
 * (cs_scan._pad) that the verifier cannot see through, so no length is ever a known constant
 * that a later length test could be decided from. Userspace compiles the same code.
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

/*
 * Byte classes, one table for both streams: bits 0..3 the W class, bit 4 a lower-case and
 * bit 5 (0x20) an upper-case letter (OR-ing 0x20 lower-cases the byte), bits 6..7 the D class.
 */
enum {
	CS_WC_OTHER,
	CS_WC_ALNUM,
	CS_WC_HIGH,  /* >= 0x80, not one of the two below */
	CS_WC_INNER, /* @ . _ - + */
	CS_WC_PCT,   /* % */
	CS_WC_FOUR,  /* 4, also a digit */
	CS_WC_ZERO,  /* 0, also a digit */
	CS_WC_MARK,  /* \ & # 0x1f: like OTHER, and remembered (escape and gzip triggers) */
	CS_WC_LEAD,  /* 0xe2 0xe3 0xef: lead bytes of the CJK/general punctuation blocks */
	CS_WC_PUN2,  /* 0x80 0xbc: their second byte in U+2000.., U+3000.., U+FF00.. */
};
#define CS_CL_LOWER 0x10
#define CS_CL_UPPER 0x20
#define CS_CL_DIGIT 0x40 /* D class DIGIT */
#define CS_CL_SEP   0x80 /* D class SEP */

/* W states */
enum {
	CS_WS_NONE,
	CS_WS_WORD, /* ASCII token, last byte a letter or digit */
	CS_WS_UTF,  /* run of bytes >= 0x80 */
	CS_WS_P1,   /* ASCII token + 1, 2, 3 pending inner punctuation bytes */
	CS_WS_P2,
	CS_WS_P3,
	CS_WS_PC1,  /* ASCII token + "%" */
	CS_WS_PC2,  /* ASCII token + "%4" */
	CS_WS_UL1,  /* UTF token + a pending punctuation-block lead byte */
	CS_WS_UL1N, /* a pending punctuation-block lead byte, nothing committed */
	CS_WS_SKIP, /* third byte of a CJK/general punctuation character: a separator */
};

/*
 * Actions (cs_wnext bits 4..9), applied in this order; bits 0..3 are the next state. A
 * punctuation character (U+2000-203F, U+3000-303F, U+FF00-FF3F: "，" "。" "、" "“" ...) ends a
 * UTF token like ASCII punctuation ends a word, so a Chinese name between them is a whole token.
 */
#define CS_WA_EMIT   0x010 /* emit the committed token */
#define CS_WA_START  0x020 /* start a token at this byte */
#define CS_WA_HASH   0x040 /* hash the byte (lower-cased) into the tentative token */
#define CS_WA_COMMIT 0x080 /* tentative becomes committed, token ends after this byte */
#define CS_WA_AT     0x100 /* hash '@' instead of the byte ("%40") */
#define CS_WA_MARK   0x200 /* remember this byte and its offset (escape/gzip triggers) */
#define CS_WA_RUN    0x400 /* inner punctuation after a letter/digit run: the run ended */
#define CS_WA_ANY    0x7f0

enum {
	CS_DC_OTHER,
	CS_DC_DIGIT,
	CS_DC_SEP, /* space - . ( ) / between digit groups */
};
#define CS_DC(x) ((x) << 6)

static const __u8 cs_class[256] = {
    [0x1f] = CS_WC_MARK,
    ['#'] = CS_WC_MARK,
    ['&'] = CS_WC_MARK,
    ['\\'] = CS_WC_MARK,
    ['0'] = CS_WC_ZERO | CS_DC(CS_DC_DIGIT),
    ['1' ... '3'] = CS_WC_ALNUM | CS_DC(CS_DC_DIGIT),
    ['4'] = CS_WC_FOUR | CS_DC(CS_DC_DIGIT),
    ['5' ... '9'] = CS_WC_ALNUM | CS_DC(CS_DC_DIGIT),
    ['A' ... 'Z'] = CS_WC_ALNUM | CS_CL_UPPER,
    ['a' ... 'z'] = CS_WC_ALNUM | CS_CL_LOWER,
    [0x80] = CS_WC_PUN2,
    [0x81 ... 0xbb] = CS_WC_HIGH,
    [0xbc] = CS_WC_PUN2,
    [0xbd ... 0xe1] = CS_WC_HIGH,
    [0xe2 ... 0xe3] = CS_WC_LEAD,
    [0xe4 ... 0xee] = CS_WC_HIGH,
    [0xef] = CS_WC_LEAD,
    [0xf0 ... 0xff] = CS_WC_HIGH,
    ['@'] = CS_WC_INNER,
    ['.'] = CS_WC_INNER | CS_DC(CS_DC_SEP),
    ['_'] = CS_WC_INNER,
    ['-'] = CS_WC_INNER | CS_DC(CS_DC_SEP),
    ['+'] = CS_WC_INNER,
    ['%'] = CS_WC_PCT,
    [' '] = CS_DC(CS_DC_SEP),
    ['('] = CS_DC(CS_DC_SEP),
    [')'] = CS_DC(CS_DC_SEP),
    ['/'] = CS_DC(CS_DC_SEP),
};

#define CS_W_NEW(st)	  (CS_WA_START | CS_WA_HASH | CS_WA_COMMIT | (st))
#define CS_W_END_NEW(st)  (CS_WA_EMIT | CS_W_NEW(st))
#define CS_W_ADD	  (CS_WA_HASH | CS_WA_COMMIT | CS_WS_WORD)
#define CS_W_STOP	  CS_WA_EMIT
#define CS_W_MARK	  (CS_WA_MARK | CS_WS_NONE)
#define CS_W_STOP_MARK	  (CS_WA_EMIT | CS_WA_MARK)
#define CS_W_LEAD	  (CS_WA_START | CS_WA_HASH | CS_WS_UL1N) /* tentative: not committed */
#define CS_W_END_LEAD	  (CS_WA_EMIT | CS_W_LEAD)
#define CS_W_UTF_ADD	  (CS_WA_HASH | CS_WA_COMMIT | CS_WS_UTF)
#define CS_W_INNER(st)	  (CS_WA_HASH | (st))
#define CS_W_INNER_RUN(s) (CS_WA_RUN | CS_WA_HASH | (s))

/*
 * Next state and actions, indexed [state << 4 | class]; one row of 16 per state, columns in
 * class order: OTHER ALNUM HIGH INNER PCT FOUR ZERO MARK LEAD PUN2. 256 entries so that any
 * 4-bit state and class index stays inside the table.
 */
/* clang-format off */
static const __u16 cs_wnext[256] = {
	/* NONE */
	CS_WS_NONE, CS_W_NEW(CS_WS_WORD), CS_W_NEW(CS_WS_UTF), CS_WS_NONE, CS_WS_NONE,
	CS_W_NEW(CS_WS_WORD), CS_W_NEW(CS_WS_WORD), CS_W_MARK, CS_W_LEAD, CS_W_NEW(CS_WS_UTF),
	0, 0, 0, 0, 0, 0,
	/* WORD */
	CS_W_STOP, CS_W_ADD, CS_W_END_NEW(CS_WS_UTF), CS_W_INNER_RUN(CS_WS_P1), CS_WS_PC1,
	CS_W_ADD, CS_W_ADD, CS_W_STOP_MARK, CS_W_END_LEAD, CS_W_END_NEW(CS_WS_UTF),
	0, 0, 0, 0, 0, 0,
	/* UTF */
	CS_W_STOP, CS_W_END_NEW(CS_WS_WORD), CS_W_UTF_ADD, CS_W_STOP, CS_W_STOP,
	CS_W_END_NEW(CS_WS_WORD), CS_W_END_NEW(CS_WS_WORD), CS_W_STOP_MARK,
	CS_W_INNER(CS_WS_UL1), CS_W_UTF_ADD,
	0, 0, 0, 0, 0, 0,
	/* P1 */
	CS_W_STOP, CS_W_ADD, CS_W_END_NEW(CS_WS_UTF), CS_W_INNER(CS_WS_P2), CS_W_STOP, CS_W_ADD,
	CS_W_ADD, CS_W_STOP_MARK, CS_W_END_LEAD, CS_W_END_NEW(CS_WS_UTF),
	0, 0, 0, 0, 0, 0,
	/* P2 */
	CS_W_STOP, CS_W_ADD, CS_W_END_NEW(CS_WS_UTF), CS_W_INNER(CS_WS_P3), CS_W_STOP, CS_W_ADD,
	CS_W_ADD, CS_W_STOP_MARK, CS_W_END_LEAD, CS_W_END_NEW(CS_WS_UTF),
	0, 0, 0, 0, 0, 0,
	/* P3: a fourth punctuation byte ends the token */
	CS_W_STOP, CS_W_ADD, CS_W_END_NEW(CS_WS_UTF), CS_W_STOP, CS_W_STOP, CS_W_ADD, CS_W_ADD,
	CS_W_STOP_MARK, CS_W_END_LEAD, CS_W_END_NEW(CS_WS_UTF),
	0, 0, 0, 0, 0, 0,
	/* PC1: "%" */
	CS_W_STOP, CS_W_END_NEW(CS_WS_WORD), CS_W_END_NEW(CS_WS_UTF), CS_W_STOP, CS_W_STOP,
	CS_WS_PC2, CS_W_END_NEW(CS_WS_WORD), CS_W_STOP_MARK, CS_W_END_LEAD,
	CS_W_END_NEW(CS_WS_UTF),
	0, 0, 0, 0, 0, 0,
	/* PC2: "%4" */
	CS_W_STOP, CS_W_END_NEW(CS_WS_WORD), CS_W_END_NEW(CS_WS_UTF), CS_W_STOP, CS_W_STOP,
	CS_W_END_NEW(CS_WS_WORD), CS_WA_AT | CS_W_INNER_RUN(CS_WS_P1), CS_W_STOP_MARK,
	CS_W_END_LEAD, CS_W_END_NEW(CS_WS_UTF),
	0, 0, 0, 0, 0, 0,
	/* UL1: UTF token + lead byte (hashed, not committed) */
	CS_W_STOP, CS_W_END_NEW(CS_WS_WORD), CS_W_UTF_ADD, CS_W_STOP, CS_W_STOP,
	CS_W_END_NEW(CS_WS_WORD), CS_W_END_NEW(CS_WS_WORD), CS_W_STOP_MARK,
	CS_W_INNER(CS_WS_UL1), CS_WA_EMIT | CS_WS_SKIP,
	0, 0, 0, 0, 0, 0,
	/* UL1N: lead byte only (its token started, nothing committed: never emitted) */
	CS_WS_NONE, CS_W_NEW(CS_WS_WORD), CS_W_UTF_ADD, CS_WS_NONE, CS_WS_NONE,
	CS_W_NEW(CS_WS_WORD), CS_W_NEW(CS_WS_WORD), CS_W_MARK, CS_W_INNER(CS_WS_UL1N),
	CS_WS_SKIP,
	0, 0, 0, 0, 0, 0,
	/* SKIP: the punctuation character's last byte */
	CS_WS_NONE, CS_W_NEW(CS_WS_WORD), CS_WS_NONE, CS_WS_NONE, CS_WS_NONE,
	CS_W_NEW(CS_WS_WORD), CS_W_NEW(CS_WS_WORD), CS_W_MARK, CS_W_LEAD, CS_WS_NONE,
};
/* clang-format on */

/* D states: no token, in digits, 1..3 separators after the last digit. */
enum {
	CS_DS_NONE,
	CS_DS_IN,
	CS_DS_S1,
	CS_DS_S2,
	CS_DS_S3,
};

/* D actions (bits 3..5), next state in bits 0..2; separators are never hashed. */
#define CS_DA_EMIT  0x08 /* emit the token */
#define CS_DA_START 0x10 /* start a token at this digit */
#define CS_DA_HASH  0x20 /* hash the digit; the token now ends after it */

#define CS_D_NEW (CS_DA_START | CS_DA_HASH | CS_DS_IN)
#define CS_D_ADD (CS_DA_HASH | CS_DS_IN)

/*
 * Next D state and actions, indexed [state << 2 | D class]. 64 bytes, not 32: clang 14 puts a
 * 32-byte constant in a mergeable-constant section and emits BTF the kernel rejects.
 */
/* clang-format off */
static const __u8 cs_dnext[64] = {
	/* NONE */ CS_DS_NONE, CS_D_NEW, CS_DS_NONE, 0,
	/* IN */   CS_DA_EMIT, CS_D_ADD, CS_DS_S1, 0,
	/* S1 */   CS_DA_EMIT, CS_D_ADD, CS_DS_S2, 0,
	/* S2 */   CS_DA_EMIT, CS_D_ADD, CS_DS_S3, 0,
	/* S3 */   CS_DA_EMIT, CS_D_ADD, CS_DA_EMIT, 0,
};
/* clang-format on */

#ifdef __BPF__
#define CS_LOOP CS_STEP
#else
#define CS_LOOP 0xffffffffu
#endif

/*
 * A letter/digit run of the W token ended at end: a run of >= 12 bytes with two or more
 * upper-case letters and lower case or digits is what base64 looks like (and what words,
 * capitalised or not, headers like "Content-Type" (runs end at '-'), hex hashes and emails do
 * not): the collector decodes such messages. mix holds the OR of the run's byte classes in
 * bits 0..7 and, from bit 8, the count of its upper-case letters.
 */
#define CS_MIX_UP 0x100
#define CS_B64_RUN 12
#define CS_RUN_END(mix, rstart, end)                                                               \
	do {                                                                                       \
		if ((mix) >= 2 * CS_MIX_UP && ((mix) & (CS_CL_LOWER | CS_CL_DIGIT)) &&            \
		    (end) - (rstart) >= CS_B64_RUN)                                                \
			s->trig |= CS_TRIG_B64;                                                    \
	} while (0)

/*
 * Both streams over n bytes at p, whose first byte is at offset pos of the message: one class
 * lookup and one transition per stream per byte; a byte that causes no action in either
 * stream (most separators and bytes between tokens) costs nothing more.
 */
CS_INLINE void cs_scan_step(struct cs_scan *s, const struct cs_key *k, const __u8 *p, __u32 n,
			    __u32 pos, void *ctx)
{
	__u64 seed = k->seed, acc = s->w_acc, acct = s->w_acct, d_acc = s->d_acc;
	__u32 len = s->w_len, lent = s->w_lent, start = s->w_start, end = s->w_end;
	__u32 d_len = s->d_len, d_start = s->d_start, d_end = s->d_end;
	__u32 ws = s->w_state, ds = s->d_state, mix = s->w_mix, rstart = s->w_rstart;
	__u32 j;
	CS_K_DECL;

	(void)ctx;
	for (j = 0; j < CS_LOOP; j++, pos++) {
		__u8 c, cl, d;
		__u16 a;

		if (j >= n)
			break;
		c = p[j];
		cl = cs_class[c];
		a = cs_wnext[((ws & 15) << 4) | (cl & 15)];
		d = cs_dnext[((ds & 7) << 2) | (cl >> 6)];
		ws = a & 15;
		ds = d & 7;
		if (!((a & CS_WA_ANY) | (d & 0x38)))
			continue;
		if (d & CS_DA_EMIT) {
			CS_ON_TOKEN(ctx, d_acc, d_len, d_start, d_end);
		}
		if (d & CS_DA_START) {
			d_acc = seed;
			d_len = CS_K(0);
			d_start = pos;
		}
		if (d & CS_DA_HASH) {
			d_acc = (d_acc ^ c) * CS_FNV_PRIME;
			d_len++;
			d_end = pos + 1;
		}
		if (a & CS_WA_EMIT) {
			CS_ON_TOKEN(ctx, acc, len, start, end);
			CS_RUN_END(mix, rstart, end);
			if (acc == k->ce)
				s->trig |= CS_TRIG_CE;
		}
		if (a & CS_WA_MARK) {
			if (c == '#' && s->esc_c == '&' && pos == s->esc_pos + 1)
				s->trig |= CS_TRIG_ESC;
			s->esc_pos = pos;
			s->esc_c = c;
		}
		if (a & CS_WA_RUN) {
			CS_RUN_END(mix, rstart, pos);
			mix = 0;
			rstart = pos + 1;
		}
		if (a & CS_WA_START) {
			acct = seed;
			lent = CS_K(0);
			start = pos;
			rstart = pos;
			mix = 0;
			if (pos == s->esc_pos + 1) {
				if ((c | 0x20) == 'u' && s->esc_c == '\\')
					s->trig |= CS_TRIG_ESC;
				else if (c == 0x8b && s->esc_c == 0x1f)
					s->trig |= CS_TRIG_GZIP;
			}
		}
		if (a & CS_WA_HASH) {
			__u8 b = (a & CS_WA_AT) ? '@' : (c | (cl & 0x20));

			acct = (acct ^ b) * CS_FNV_PRIME;
			lent++;
			mix |= cl;
			mix += (__u32)(cl & CS_CL_UPPER) << 3;
		}
		if (a & CS_WA_COMMIT) {
			acc = acct;
			len = lent;
			end = pos + 1;
		}
	}
	s->w_acc = acc;
	s->w_acct = acct;
	s->w_len = len;
	s->w_lent = lent;
	s->w_start = start;
	s->w_end = end;
	s->d_acc = d_acc;
	s->d_len = d_len;
	s->d_start = d_start;
	s->d_end = d_end;
	s->w_state = ws;
	s->d_state = ds;
	s->w_mix = mix;
	s->w_rstart = rstart;
}

/* The next n bytes of the message. */
CS_INLINE void cs_scan_buf(struct cs_scan *s, const struct cs_key *k, const __u8 *p, __u32 n,
			   void *ctx)
{
	cs_scan_step(s, k, p, n, s->pos, ctx);
	s->pos += n;
}

/* End of the message: emit the open tokens. */
CS_INLINE void cs_scan_flush(struct cs_scan *s, const struct cs_key *k, void *ctx)
{
	CS_K_DECL;

	(void)ctx;
	if (s->d_state != CS_DS_NONE) {
		CS_ON_TOKEN(ctx, s->d_acc, s->d_len, s->d_start, s->d_end);
	}
	if (s->w_state != CS_WS_NONE && s->w_state != CS_WS_UL1N && s->w_state != CS_WS_SKIP) {
		CS_ON_TOKEN(ctx, s->w_acc, s->w_len, s->w_start, s->w_end);
		CS_RUN_END(s->w_mix, s->w_rstart, s->w_end);
		if (s->w_acc == k->ce)
			s->trig |= CS_TRIG_CE;
	}
	s->d_state = CS_DS_NONE;
	s->w_state = CS_WS_NONE;
}

#endif /* CS_SCAN_H */
