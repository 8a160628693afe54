/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The scanner core: tokeniser + keyed fingerprint, written once and compiled twice, for the BPF
 * programs (bpf/lib/token.bpf.h) and for userspace (enroll, tests). Enroll fingerprints a value by
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
 * Tokens go to the caller through an explicit sink: cs_scan_step/buf/flush take a struct
 * cs_sink * (the caller's type, opaque here) and hand every finished token, in order, to
 * cs_sink_token(sink, &token) below, which the file that runs the scanner defines. No function
 * pointer (BPF has none): each program's sink is inlined into the loop. Files that need only the
 * fingerprint (SipHash, prefilter, tag addressing) include cs_hash.h, not this file.
 */
#ifndef CS_SCAN_H
#define CS_SCAN_H

#include "cs_abi.h"
#include "cs_hash.h"

/* A finished token. */
struct cs_token {
	__u64 acc;   /* keyed FNV-1a of its normalised bytes (cs_hash.h cs_fp(key, acc, len)) */
	__u32 len;   /* its normalised length; in BPF a copy the verifier cannot relate to the
		      * scanner's own counter (CS_K below), so the sink may test it freely */
	__u32 start; /* raw byte offsets [start, end) in the message */
	__u32 end;
};

/* The caller's token sink: whatever state its cs_sink_token needs. */
struct cs_sink;

/*
 * Receives every token the scanner finishes. Defined (static inline, or static __always_inline
 * in BPF) by each file that calls cs_scan_step, cs_scan_buf or cs_scan_flush; tok lives only for
 * the call. Userspace leaves the inlining to the compiler (the sink may be large).
 */
#ifdef __BPF__
static __always_inline void cs_sink_token(struct cs_sink *sink, const struct cs_token *tok);
#else
static inline void cs_sink_token(struct cs_sink *sink, const struct cs_token *tok);
#endif

CS_INLINE void cs_scan_reset(struct cs_scan *s)
{
	__builtin_memset(s, 0, sizeof(*s));
	s->esc_pos = 0xfffffff0u; /* no marker byte seen */
	s->esc_start = 0xffffffffu;
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

#include "cs_scan_def.h"
#include "cs_scan_table.h"

/* Hand one finished token to the sink (len made opaque for the verifier, see above). */
#define CS_EMIT(sink, acc_, len_, start_, end_)                                                    \
	do {                                                                                       \
		struct cs_token t_ = {                                                             \
		    .acc = (acc_), .len = CS_K(len_), .start = (start_), .end = (end_)};           \
		cs_sink_token((sink), &t_);                                                        \
	} while (0)

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
#define CS_MIX_UP  0x100
#define CS_B64_RUN 12
/* cs_scan.esc_c after "&#" (a value no single marker byte has) */
#define CS_ESC_AMPHASH 1
#define CS_RUN_END(mix, rstart, end)                                                               \
	do {                                                                                       \
		if ((mix) >= 2 * CS_MIX_UP && ((mix) & (CS_CL_LOWER | CS_CL_DIGIT)) &&             \
		    (end) - (rstart) >= CS_B64_RUN)                                                \
			s->trig |= CS_TRIG_B64;                                                    \
	} while (0)

/* The actions the loop body applies (bits of a cs_next entry), on its local variables. */
#define CS_D_HASH()                                                                                \
	do {                                                                                       \
		d_acc = (d_acc ^ c) * CS_FNV_PRIME;                                                \
		d_len++;                                                                           \
		d_end = pos + 1;                                                                   \
	} while (0)
#define CS_W_HASH(b)                                                                               \
	do {                                                                                       \
		acct = (acct ^ (b)) * CS_FNV_PRIME;                                                \
		lent++;                                                                            \
		mix |= cl;                                                                         \
		mix += (__u32)(cl & CS_CL_UPPER) << 1;                                             \
	} while (0)
#define CS_W_COMMIT()                                                                              \
	do {                                                                                       \
		acc = acct;                                                                        \
		len = lent;                                                                        \
		end = pos + 1;                                                                     \
	} while (0)
#define CS_W_HASH_COMMIT()                                                                         \
	do {                                                                                       \
		CS_W_HASH(c | CS_LOWER_BIT(cl));                                                   \
		CS_W_COMMIT();                                                                     \
	} while (0)

/*
 * Both streams over n bytes at p, whose first byte is at offset pos of the message: one class
 * lookup and one transition per stream per byte; a byte that causes no action in either
 * stream (most separators and bytes between tokens) costs nothing more.
 */
CS_INLINE void cs_scan_step(struct cs_scan *s, const struct cs_key *k, const __u8 *p, __u32 n,
			    __u32 pos, struct cs_sink *sink)
{
	__u64 seed = k->seed, acc = s->w_acc, acct = s->w_acct, d_acc = s->d_acc;
	__u32 len = s->w_len, lent = s->w_lent, start = s->w_start, end = s->w_end;
	__u32 d_len = s->d_len, d_start = s->d_start, d_end = s->d_end;
	__u32 st = CS_ST(s->w_state, s->d_state), mix = s->w_mix, rstart = s->w_rstart;
	__u32 j;
	CS_K_DECL;

	for (j = 0; j < CS_LOOP; j++, pos++) {
		__u8 c, cl;
		__u16 e;

		if (j >= n)
			break;
		c = p[j];
		cl = cs_class[c];
		e = cs_next[((st & 63) << 6) | (cl & 63)];
		st = e & 63;
		if (!(e & CS_X_ACTIONS))
			continue;
		/* the common token bytes: hash only, in one or both streams */
		if ((e & CS_X_ACTIONS) == (CS_X_HASH | CS_X_COMMIT)) {
			CS_W_HASH_COMMIT();
			continue;
		}
		if ((e & CS_X_ACTIONS) == (CS_X_HASH | CS_X_COMMIT | CS_XD_HASH)) {
			CS_W_HASH_COMMIT();
			CS_D_HASH();
			continue;
		}
		if (e & CS_XD_EMIT) {
			CS_EMIT(sink, d_acc, d_len, d_start, d_end);
		}
		if (e & CS_XD_START) {
			d_acc = seed;
			d_len = CS_K(0);
			d_start = pos;
		}
		if (e & CS_XD_HASH)
			CS_D_HASH();
		if (e & CS_X_EMIT) {
			CS_EMIT(sink, acc, len, start, end);
			CS_RUN_END(mix, rstart, end);
			if (acc == k->ce)
				s->trig |= CS_TRIG_CE;
			/* "\\u" + 4 hex digits, or "&#" + number + ";" */
			if (start == s->esc_start &&
			    (s->esc_c == CS_ESC_AMPHASH ? CS_K(c) == ';' && end - start >= 2
							: end - start >= 5))
				s->trig |= CS_TRIG_ESC;
		}
		if (e & CS_X_MARK) {
			__u8 m = c;

			if (CS_K(c) == '#' && s->esc_c == '&' && pos == s->esc_pos + 1)
				m = CS_ESC_AMPHASH;
			s->esc_pos = pos;
			s->esc_c = m;
		}
		if (e & CS_X_RUN) {
			CS_RUN_END(mix, rstart, pos);
			mix = 0;
			rstart = pos + 1;
		}
		if (e & CS_X_START) {
			acct = seed;
			lent = CS_K(0);
			start = pos;
			rstart = pos;
			mix = 0;
			/* escapes count when the token is long enough (EMIT): binary is full of
			 * chance '\\' 'u' pairs; gzip magic only where a message starts */
			if (pos == s->esc_pos + 1) {
				if (((CS_K(c) | 0x20) == 'u' && s->esc_c == '\\') ||
				    s->esc_c == CS_ESC_AMPHASH)
					s->esc_start = pos;
				else if (CS_K(c) == 0x8b && s->esc_c == 0x1f && pos == 1)
					s->trig |= CS_TRIG_GZIP;
			}
		}
		if (e & CS_X_HASH)
			CS_W_HASH((e & CS_X_AT) ? '@' : (c | CS_LOWER_BIT(cl)));
		if (e & CS_X_COMMIT)
			CS_W_COMMIT();
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
	s->w_state = CS_ST_W(st);
	s->d_state = CS_ST_D(st);
	s->w_mix = mix;
	s->w_rstart = rstart;
}

/* The next n bytes of the message. */
CS_INLINE void cs_scan_buf(struct cs_scan *s, const struct cs_key *k, const __u8 *p, __u32 n,
			   struct cs_sink *sink)
{
	cs_scan_step(s, k, p, n, s->pos, sink);
	s->pos += n;
}

/* End of the message: emit the open tokens. */
CS_INLINE void cs_scan_flush(struct cs_scan *s, const struct cs_key *k, struct cs_sink *sink)
{
	CS_K_DECL;

	if (s->d_state != CS_DS_NONE) {
		CS_EMIT(sink, s->d_acc, s->d_len, s->d_start, s->d_end);
	}
	if (s->w_state != CS_WS_NONE && s->w_state != CS_WS_UL1N && s->w_state != CS_WS_SKIP) {
		CS_EMIT(sink, s->w_acc, s->w_len, s->w_start, s->w_end);
		CS_RUN_END(s->w_mix, s->w_rstart, s->w_end);
		if (s->w_acc == k->ce)
			s->trig |= CS_TRIG_CE;
		if (s->w_start == s->esc_start && s->esc_c != CS_ESC_AMPHASH &&
		    s->w_end - s->w_start >= 5)
			s->trig |= CS_TRIG_ESC;
	}
	s->d_state = CS_DS_NONE;
	s->w_state = CS_WS_NONE;
}

/* The macros above name the core's own variables: not for includers. */
#undef CS_EMIT
#undef CS_W_HASH_COMMIT
#undef CS_W_COMMIT
#undef CS_W_HASH
#undef CS_D_HASH
#undef CS_RUN_END
#undef CS_K
#undef CS_K_DECL
#undef CS_V

#endif /* CS_SCAN_H */
