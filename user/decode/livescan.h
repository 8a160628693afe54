/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The kernel's first pass over a send, in the collector (`run --scan-in collector`): runs of
 * bytes too short to hold a strong token are left out, the rest is tokenised with the scanner
 * core (include/cs_scan.h), exactly as bpf/lib/scan.bpf.h cs_scan_live does. The byte classes
 * are found 32 bytes at a time with AVX2 where the CPU has it (a scalar table otherwise); the
 * runs of >= skip_len bytes with shifts over 64-bit masks. Every token that passes the length
 * window and the prefilter bit (before SipHash) goes to the caller with its fingerprint.
 *
 * Same tokens as the kernel: a range starts at the first byte of a run from a fresh state and
 * ends after the run and the separators that follow it, so it yields what a whole scan yields
 * there (tests/unit/test_livescan.c compares it with scan_message()); the triggers (cs_scan.trig)
 * are those of the kernel's ranges, and the wide forms' test is the kernel's (cs_exact_blocks).
 */
#ifndef CS_LIVESCAN_H
#define CS_LIVESCAN_H

#include "cs_abi.h"
#include "decode/scan.h"

struct live_cfg {
	const struct cs_key *key;
	const __u64 *pre; /* the DB's prefilter bitmap; NULL: every length in the window passes */
	__u32 pre_log2;
	__u32 min_len, max_len; /* window of enrolled token lengths */
	__u32 skip_len;		/* the loader's cfg_skip_len: 0 tokenises every byte */
	__u32 strong_min;	/* cfg_strong_min: the first pass looks up this long and more */
	int scalar;		/* classify without AVX2 (tests; also where the CPU has none) */
};

struct fpdb;
/*
 * The first pass's settings for db, as the loader gives them to the kernel: its window of token
 * lengths and prefilter, and (unless scan_all, or the DB has a non-ASCII or short strong token)
 * the run length below which bytes are skipped and the strong lengths the first pass looks up.
 */
void live_cfg_init(struct live_cfg *c, const struct cs_key *key, const struct fpdb *db,
		   int scan_all);

/* Scratch kept across calls (the byte-class masks of a send), grown, wiped never: no payload. */
struct live_buf {
	__u64 *m;
	size_t cap; /* __u64 words */
};

/*
 * First pass over buf[0..n) from state s (reset by the caller): the runs that may hold a strong
 * token are tokenised, tokens of the first pass's lengths reported to fn. s is left open (not
 * flushed: its open tokens may go on in the flow's next send). Returns the CS_TRIG_* bits
 * raised (tokeniser, gzip magic, wide forms); *skipped gets the bytes not tokenised.
 */
unsigned live_scan(const struct live_cfg *c, struct live_buf *b, struct cs_scan *s, const __u8 *buf,
		   __u32 n, scan_token_fn fn, void *ctx, __u32 *skipped);
/* A fresh tokeniser state (cs_scan_reset). */
void live_reset(struct cs_scan *s);
/* Every byte of buf[0..n) at message offset pos, tokens of tok_min bytes and more. */
void live_step(const struct live_cfg *c, struct cs_scan *s, const __u8 *buf, __u32 n, __u32 pos,
	       __u32 tok_min, scan_token_fn fn, void *ctx);
/* End of the message: emit the open tokens of s (tok_min bytes and more). */
void live_flush(const struct live_cfg *c, struct cs_scan *s, __u32 tok_min, scan_token_fn fn,
		void *ctx);
void live_buf_release(struct live_buf *b);

/* The byte classes (tests): bit i of word i / 64 of sb (run bytes but the pure separators
 * space ( ) /), p (those) and d (digits, - . and p); d is set past n. */
void live_classify(const struct live_cfg *c, const __u8 *buf, __u32 n, __u64 *sb, __u64 *p,
		   __u64 *d);
/* 1 when this CPU classifies with AVX2. */
int live_has_avx2(void);

#endif
