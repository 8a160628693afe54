/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The two token machines of the scanner (cs_scan.h) as readable tables: byte classes, W and D
 * states, their per-state rows of next state and action bits. The scanner itself runs one
 * combined table, cs_next (cs_scan_table.h), generated from these by scripts/gen/scan-table.c
 * (`make gen`); tests/unit/test_scan.c checks that the committed table is their composition.
 */
#ifndef CS_SCAN_DEF_H
#define CS_SCAN_DEF_H

#include "cs_abi.h"

/*
 * Byte classes, one table for both streams: bits 0..3 the W class, bits 4..5 the D class (so
 * the low 6 bits index a row of cs_next), bit 6 a lower-case and bit 7 an upper-case letter.
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
#define CS_CL_DIGIT 0x10 /* D class DIGIT */
#define CS_CL_SEP   0x20 /* D class SEP */
#define CS_CL_LOWER 0x40
#define CS_CL_UPPER 0x80
/* the byte lower-cased: c | CS_LOWER_BIT(cl) */
#define CS_LOWER_BIT(cl) (((cl) >> 2) & 0x20)

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
#define CS_DC(x) ((x) << 4)

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

/*
 * The combined machine: state st = W state * CS_DS_COUNT + D state; entry of cs_next
 * [st << 6 | (class & 63)]: next state in bits 0..5, W actions in bits 6..12 (cs_wnext bits
 * 4..10), D actions in bits 13..15 (cs_dnext bits 3..5).
 */
#define CS_DS_COUNT   5
#define CS_WS_COUNT   11
#define CS_ST(ws, ds) ((ws)*CS_DS_COUNT + (ds))
#define CS_ST_W(st)   ((st) / CS_DS_COUNT)
#define CS_ST_D(st)   ((st) % CS_DS_COUNT)

#define CS_X_EMIT    (1u << 6)
#define CS_X_START   (1u << 7)
#define CS_X_HASH    (1u << 8)
#define CS_X_COMMIT  (1u << 9)
#define CS_X_AT	     (1u << 10)
#define CS_X_MARK    (1u << 11)
#define CS_X_RUN     (1u << 12)
#define CS_XD_EMIT   (1u << 13)
#define CS_XD_START  (1u << 14)
#define CS_XD_HASH   (1u << 15)
#define CS_X_ACTIONS 0xffc0u

/* The cs_next entry for combined state st and byte class cl (the generator and the test). */
static inline __u16 cs_next_entry(unsigned st, unsigned cl)
{
	unsigned ws = CS_ST_W(st), ds = CS_ST_D(st), wc = cl & 15, dc = (cl >> 4) & 3;
	unsigned a, d;

	if (st >= CS_WS_COUNT * CS_DS_COUNT || wc > CS_WC_PUN2 || dc > CS_DC_SEP)
		return 0;
	a = cs_wnext[ws << 4 | wc];
	d = cs_dnext[ds << 2 | dc];
	return (__u16)(CS_ST(a & 15, d & 7) | ((a >> 4) & 0x7f) << 6 | ((d >> 3) & 7) << 13);
}

#endif /* CS_SCAN_DEF_H */
