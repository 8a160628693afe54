// SPDX-License-Identifier: GPL-2.0-only
#include <stddef.h>

#include "decode/scan.h"

#include "cs_scan.h"

/* The scanner core's token sink (cs_scan.h): every token, fingerprinted, to the caller's fn. */
struct cs_sink {
	const struct cs_key *key;
	scan_token_fn fn;
	void *ctx;
};

static inline void cs_sink_token(struct cs_sink *c, const struct cs_token *tok)
{
	struct scan_token t = {
	    .acc = tok->acc,
	    .fp = cs_fp(c->key, tok->acc, tok->len),
	    .len = tok->len,
	    .start = tok->start,
	    .end = tok->end,
	};

	c->fn(&t, c->ctx);
}

unsigned scan_message(const struct cs_key *key, const void *buf, size_t n, scan_token_fn fn,
		      void *ctx)
{
	struct cs_sink c = {.key = key, .fn = fn, .ctx = ctx};
	struct cs_scan s;

	cs_scan_reset(&s);
	/* The kernel feeds CS_CHUNK pieces; the same here emits tokens in the same order. */
	while (n) {
		__u32 m = n > CS_CHUNK ? CS_CHUNK : (__u32)n;

		cs_scan_buf(&s, key, buf, m, &c);
		buf = (const __u8 *)buf + m;
		n -= m;
	}
	cs_scan_flush(&s, key, &c);
	return s.trig;
}

void scan_stream_init(struct scan_stream *st)
{
	cs_scan_reset(&st->s);
}

unsigned scan_stream_feed(struct scan_stream *st, const struct cs_key *key, const void *buf,
			  size_t n, scan_token_fn fn, void *ctx)
{
	struct cs_sink c = {.key = key, .fn = fn, .ctx = ctx};

	while (n) {
		__u32 m = n > CS_CHUNK ? CS_CHUNK : (__u32)n;

		cs_scan_buf(&st->s, key, buf, m, &c);
		buf = (const __u8 *)buf + m;
		n -= m;
	}
	return st->s.trig;
}

unsigned scan_stream_end(struct scan_stream *st, const struct cs_key *key, scan_token_fn fn,
			 void *ctx)
{
	struct cs_sink c = {.key = key, .fn = fn, .ctx = ctx};

	cs_scan_flush(&st->s, key, &c);
	return st->s.trig;
}

__u32 scan_stream_open(const struct scan_stream *st)
{
	__u32 at = st->s.pos;

	/* a W token is open in every state but these two (SKIP: the third byte of a CJK mark,
	 * whose token was emitted); UL1N: a lead byte that may start one, from w_start */
	if (st->s.w_state != CS_WS_NONE && st->s.w_state != CS_WS_SKIP && st->s.w_start < at)
		at = st->s.w_start;
	if (st->s.d_state != CS_DS_NONE && st->s.d_start < at)
		at = st->s.d_start;
	return at;
}
