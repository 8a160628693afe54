// SPDX-License-Identifier: GPL-2.0-only
/*
 * Decoders for renderings the kernel scanner cannot see: compressed HTTP bodies and gzip
 * streams (zlib), base64/base64url runs, percent-encoding, JSON escapes, HTML entities, UTF-16
 * text and full-width forms.
 *
 * A buffer (the raw message, or a decoded layer) goes through every decoder; each one that
 * actually decoded something yields one layer, which is handed to the caller and then decoded
 * again (depth-first, enc bits accumulate). Compressed regions are cut out of the bytes the
 * text decoders see, so they never copy binary bodies. All layer buffers of one message are
 * charged against one budget (max_out): capacity is reserved before it is allocated and unused
 * capacity is given back, so the memory held for output never exceeds max_out.
 *
 * This file: the layer walk, the output budget and flows; the decoders are in decode_zlib.c and
 * decode_text.c.
 */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#define ZLIB_CONST
#include <zlib.h>

#include "decode/decode.h"
#include "decode/decode_int.h"
#include "lib/encodings.h"

/* Output buffers: capacity is reserved from the message budget before it is allocated. */

/*
 * Decoded bytes are payload: a buffer is zeroed before it goes back to the heap, so it grows by
 * copy (realloc may move it and leave the old block as it was).
 */
void zero_free(void *p, size_t n)
{
	if (!p)
		return;
	explicit_bzero(p, n);
	free(p);
}

int out_reserve(struct dec_ctx *c, struct out *o, size_t want)
{
	size_t inc;
	__u8 *p;

	if (want <= o->cap)
		return 0;
	inc = want - o->cap;
	if (inc > c->left)
		inc = c->left;
	if (!inc)
		return -ENOSPC;
	p = malloc(o->cap + inc);
	if (!p)
		return -ENOMEM;
	if (o->buf)
		memcpy(p, o->buf, o->len);
	zero_free(o->buf, o->cap);
	o->buf = p;
	o->cap += inc;
	c->left -= inc;
	return 0;
}

/* Room for more inflater output: double, starting from hint. */
int out_grow(struct dec_ctx *c, struct out *o, size_t hint)
{
	size_t want = o->cap ? o->cap * 2 : hint;

	if (want < 4096)
		want = 4096;
	return out_reserve(c, o, want);
}

/* Keep o->len bytes charged, give the unused capacity back. */
static void out_trim(struct dec_ctx *c, struct out *o)
{
	__u8 *p;

	c->left += o->cap - o->len;
	if (o->len && o->len < o->cap && (p = malloc(o->len))) {
		memcpy(p, o->buf, o->len);
		zero_free(o->buf, o->cap);
		o->buf = p;
	}
	o->cap = o->len;
}

/* Free a buffer whose contents were not used: its whole capacity goes back to the budget. */
void out_discard(struct dec_ctx *c, struct out *o)
{
	c->left += o->cap;
	zero_free(o->buf, o->cap);
	memset(o, 0, sizeof(*o));
}

/* Bytes a token may hold (a superset of the scanner's): they do not end a cut value. */
static int token_byte(__u8 b)
{
	return (b >= '0' && b <= '9') || ((b | 0x20) >= 'a' && (b | 0x20) <= 'z') || b >= 0x80 ||
	       b == '@' || b == '.' || b == '-' || b == '_' || b == '+' || b == '%';
}

/* A compressed body's decoded bytes: remember their last token for the next send. */
static void tail_note(struct dec_ctx *c, const struct out *o, unsigned enc, unsigned depth)
{
	size_t k = 0;

	if (!c->fl || depth || !(enc & (CS_ENC_GZIP | CS_ENC_DEFLATE)) || !o->len)
		return;
	while (k < o->len && k <= DEC_TAIL_MAX && token_byte(o->buf[o->len - 1 - k]))
		k++;
	if (k > DEC_TAIL_MAX)
		k = 0; /* longer than any value */
	memcpy(c->fl->next, o->buf + o->len - k, k);
	c->fl->next_len = k;
}

/* Hand a layer to the caller, then decode it further (unless at max depth or unchanged). */
void emit(struct dec_ctx *c, struct out *o, unsigned enc, unsigned depth, const __u8 *parent,
	  size_t pn)
{
	tail_note(c, o, enc, depth);
	out_trim(c, o);
	c->layers++;
	c->st->layers++;
	c->st->bytes_out += o->len;
	c->fn(o->buf, o->len, enc, c->uctx);
	if (depth + 1 < c->lim->max_depth && !(o->len == pn && !memcmp(o->buf, parent, pn)))
		decode_buf(c, o->buf, o->len, enc, depth + 1);
	zero_free(o->buf, o->len);
	memset(o, 0, sizeof(*o));
}

void segs_cut(struct segs *sg, size_t a, size_t b, size_t n)
{
	size_t off = sg->s[sg->n - 1].off;

	if (a < off)
		a = off;
	if (b > n)
		b = n;
	sg->s[sg->n - 1].len = a > off ? a - off : 0;
	if (b < n && sg->n < MAX_SEGS) {
		sg->s[sg->n].off = b;
		sg->s[sg->n].len = n - b;
		sg->n++;
	}
}

/* One text decoder over the text segments of buf: at most one layer. */
static void text_layer(struct dec_ctx *c, const __u8 *buf, size_t n, const struct segs *sg,
		       gate_fn gate, seg_fn f, unsigned enc, unsigned depth)
{
	struct out o = {0};
	size_t need = 0, used, w, at;
	unsigned hits = 0, k;

	for (k = 0; k < sg->n; k++)
		if (sg->s[k].len && gate(buf + sg->s[k].off, sg->s[k].len))
			break;
	if (k == sg->n)
		return;
	for (k = 0; k < sg->n; k++)
		need += sg->s[k].len + 1;
	out_reserve(c, &o, need);
	for (k = 0; k < sg->n; k++) {
		const __u8 *in = buf + sg->s[k].off;
		size_t len = sg->s[k].len;

		at = o.len ? o.len + 1 : 0;
		w = 0;
		used = 0;
		if (at < o.cap)
			w = f(in, len, o.buf + at, o.cap - at, &used, &hits);
		if (w) {
			if (at)
				o.buf[o.len] = '\n'; /* segments never join */
			o.len = at + w;
		}
		if (used < len) { /* the budget ran out */
			c->st->bytes_cut += len - used;
			while (++k < sg->n)
				c->st->bytes_cut += sg->s[k].len;
			break;
		}
	}
	if (hits && o.len)
		emit(c, &o, enc, depth, buf, n);
	else
		out_discard(c, &o);
}

void decode_buf(struct dec_ctx *c, const __u8 *buf, size_t n, unsigned enc, unsigned depth)
{
	struct segs sg = {.n = 1, .s = {{0, n}}};

	if (!n)
		return;
	if (!http_body(c, buf, n, enc, depth, &sg) && memchr(buf, 0x1f, n))
		gzip_magic(c, buf, n, enc, depth, &sg);
	text_layer(c, buf, n, &sg, b64_gate, b64_seg, enc | CS_ENC_BASE64, depth);
	text_layer(c, buf, n, &sg, pct_gate, pct_seg, enc | CS_ENC_URL, depth);
	text_layer(c, buf, n, &sg, json_gate, json_seg, enc | CS_ENC_JSON_ESCAPE, depth);
	text_layer(c, buf, n, &sg, html_gate, html_seg, enc | CS_ENC_HTML_ENTITY, depth);
	text_layer(c, buf, n, &sg, fw_gate, fw_seg, enc | CS_ENC_FULLWIDTH, depth);
	/* UTF-16 of ASCII has zero bytes, of full-width forms 0xff ones */
	if (!(enc & CS_ENC_UTF16) && (memchr(buf, 0, n) || memchr(buf, 0xff, n)))
		utf16_layer(c, buf, n, &sg, enc, depth);
}

/* The body of an earlier send continues in p[0..n): the bytes of it that this send holds. */
static size_t flow_continue(struct dec_ctx *c, struct dec_flow *fl, const __u8 *p, size_t n)
{
	struct zstream *s = fl->zs;
	struct out o = {0};
	size_t used = 0;
	int r;

	if (http_start(p, n)) { /* a new message: the body was abandoned */
		if (s->zs.total_in)
			c->st->errors++;
		r = ZS_ERR;
	} else {
		size_t t = 0;

		/* the last send's cut token first (it is scanned again with what follows) */
		if (fl->tail_len && !out_reserve(c, &o, fl->tail_len) && o.cap >= fl->tail_len) {
			t = fl->tail_len;
			memcpy(o.buf, fl->tail, t);
			o.len = t;
		}
		r = stream_feed(c, s, p, n, &o, &used);
		if (o.len > t)
			emit(c, &o, s->enc, 0, p, n);
		else
			out_discard(c, &o);
		if (r == ZS_ERR)
			c->st->errors++;
	}
	if (r == ZS_MORE)
		return n;
	if (r == ZS_CUT && s->left != DEC_UNKNOWN)
		fl->skip = s->left;
	zstream_free(s);
	fl->zs = NULL;
	/* after a failure the send is decoded as a message of its own */
	return r == ZS_ERR ? 0 : r == ZS_CUT ? n : used;
}

struct dec_flow *dec_flow_new(void)
{
	return calloc(1, sizeof(struct dec_flow));
}

void dec_flow_free(struct dec_flow *fl)
{
	if (!fl)
		return;
	zstream_free(fl->zs);
	explicit_bzero(fl, sizeof(*fl)); /* the tails are payload bytes */
	free(fl);
}

int dec_flow_pending(const struct dec_flow *fl)
{
	return fl && (fl->zs || fl->skip);
}

int dec_message(struct dec_flow *fl, const __u8 *msg, size_t n, const struct dec_limits *lim,
		dec_layer_fn fn, void *ctx, struct dec_stats *st)
{
	static const struct dec_limits defaults = {DEC_MAX_OUT_DEFAULT, DEC_MAX_DEPTH_DEFAULT};
	struct dec_limits l = lim ? *lim : defaults;
	struct dec_stats dummy = {0};
	struct dec_ctx c = {.lim = &l, .fn = fn, .uctx = ctx, .st = st ? st : &dummy, .fl = fl};
	size_t off = 0;

	if (l.max_depth > DEC_MAX_DEPTH)
		l.max_depth = DEC_MAX_DEPTH;
	c.left = l.max_out;
	c.st->messages++;
	if (!l.max_depth || !n)
		return 0;
	if (fl && fl->skip && http_start(msg, n))
		fl->skip = 0; /* the client gave up on that body */
	if (fl && fl->skip) {
		off = fl->skip < n ? fl->skip : n;
		fl->skip -= off;
		c.st->bytes_cut += off;
	}
	if (fl)
		fl->next_len = 0;
	if (fl && fl->zs && off < n)
		off += flow_continue(&c, fl, msg + off, n - off);
	if (off < n)
		decode_buf(&c, msg + off, n - off, 0, 0);
	if (fl) {
		/* a body that goes on: its last token starts the next send's output */
		fl->tail_len = fl->zs ? fl->next_len : 0;
		memcpy(fl->tail, fl->next, fl->tail_len);
		explicit_bzero(fl->next, sizeof(fl->next));
	}
	return c.layers;
}

int dec_body(struct dec_flow *fl, unsigned coding, const __u8 *p, size_t n,
	     const struct dec_limits *lim, dec_layer_fn fn, void *ctx, struct dec_stats *st)
{
	static const struct dec_limits defaults = {DEC_MAX_OUT_DEFAULT, DEC_MAX_DEPTH_DEFAULT};
	struct dec_limits l = lim ? *lim : defaults;
	struct dec_stats dummy = {0};
	struct dec_ctx c = {.lim = &l, .fn = fn, .uctx = ctx, .st = st ? st : &dummy, .fl = fl};
	struct out o = {0};
	size_t used = 0;
	int r;

	if (l.max_depth > DEC_MAX_DEPTH)
		l.max_depth = DEC_MAX_DEPTH;
	c.left = l.max_out;
	if (!fl || !n || !l.max_depth || (coding != CS_ENC_GZIP && coding != CS_ENC_DEFLATE))
		return 0;
	if (fl->body_done) {
		c.st->bytes_cut += fl->body_cut ? n : 0;
		return 0;
	}
	if (!fl->zs) {
		fl->zs =
		    zstream_new(coding == CS_ENC_GZIP ? ZM_GZIP : ZM_ZLIB, coding, 0, DEC_UNKNOWN);
		if (!fl->zs)
			return 0;
	}
	r = stream_feed(&c, fl->zs, p, n, &o, &used);
	if (o.len)
		emit(&c, &o, fl->zs->enc, 0, p, n);
	else
		out_discard(&c, &o);
	if (r == ZS_ERR)
		c.st->errors++;
	if (r != ZS_MORE) {
		zstream_free(fl->zs);
		fl->zs = NULL;
		fl->body_done = 1;
		fl->body_cut = r == ZS_CUT;
	}
	return c.layers;
}
