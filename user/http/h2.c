// SPDX-License-Identifier: GPL-2.0-only
#define _GNU_SOURCE /* malloc_usable_size */
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <nghttp2/nghttp2.h>

#include "http/h2.h"

enum {
	FT_DATA,
	FT_HEADERS,
	FT_PRIORITY,
	FT_RST_STREAM,
	FT_SETTINGS,
	FT_PUSH_PROMISE,
	FT_PING,
	FT_GOAWAY,
	FT_WINDOW_UPDATE,
	FT_CONTINUATION,
};

#define FL_END_STREAM  0x01
#define FL_ACK	       0x01
#define FL_END_HEADERS 0x04
#define FL_PADDED      0x08
#define FL_PRIORITY    0x20

#define FRAME_HDR 9

struct h2_conn {
	nghttp2_hd_inflater *inf;
	int err;
	__u32 pre; /* preface bytes matched */
	__u8 fh[FRAME_HDR];
	__u32 fhlen; /* frame header bytes buffered; FRAME_HDR: a payload is being read */
	/* the frame being read */
	__u32 len, got; /* payload length, bytes of it consumed */
	__u8 type, flags;
	__u32 stream;
	__u32 head; /* payload bytes before the content: pad length, priority fields */
	__u32 pad;  /* padding bytes at the end of the payload */
	__u8 ctl[8];
	__u32 ctlen; /* control frame bytes kept (a SETTINGS entry, RST_STREAM's code) */
	__u32 block; /* stream of the header block awaiting CONTINUATION, else 0 */
	int block_es;
	struct h2_stats st;
};

/*
 * The inflater keeps header bytes (names, values, the dynamic table): zero whatever it frees.
 * glibc tells the usable size of a block, which covers what was stored in it.
 */
static void *z_malloc(size_t n, void *u)
{
	(void)u;
	return malloc(n);
}

static void z_free(void *p, void *u)
{
	(void)u;
	if (!p)
		return;
	explicit_bzero(p, malloc_usable_size(p));
	free(p);
}

static void *z_calloc(size_t a, size_t b, void *u)
{
	(void)u;
	return calloc(a, b);
}

/* realloc by copy, so the old block is zeroed before it goes back to the heap */
static void *z_realloc(void *p, size_t n, void *u)
{
	size_t old;
	void *q;

	if (!p)
		return malloc(n);
	if (!n) {
		z_free(p, u);
		return NULL;
	}
	old = malloc_usable_size(p);
	q = malloc(n);
	if (!q)
		return NULL;
	memcpy(q, p, old < n ? old : n);
	z_free(p, u);
	return q;
}

/* static: the inflater keeps a pointer to it (despite what nghttp2.h says of sessions) */
static nghttp2_mem zmem = {NULL, z_malloc, z_free, z_calloc, z_realloc};

struct h2_conn *h2_conn_new(void)
{
	struct h2_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	if (nghttp2_hd_inflate_new2(&c->inf, &zmem) ||
	    nghttp2_hd_inflate_change_table_size(c->inf, H2_TABLE_MAX)) {
		h2_conn_free(c);
		errno = ENOMEM;
		return NULL;
	}
	return c;
}

void h2_conn_free(struct h2_conn *c)
{
	if (!c)
		return;
	if (c->inf)
		nghttp2_hd_inflate_del(c->inf);
	explicit_bzero(c, sizeof(*c));
	free(c);
}

int h2_conn_error(const struct h2_conn *c)
{
	return c->err;
}

const struct h2_stats *h2_conn_stats(const struct h2_conn *c)
{
	return &c->st;
}

__u32 h2_conn_open_block(const struct h2_conn *c)
{
	return c->block;
}

const char *h2_strerror(int err)
{
	switch (err) {
	case 0:
		return "ok";
	case -EPROTO:
		return "framing error";
	case -EBADMSG:
		return "header block does not decode";
	case -ENOMEM:
		return "out of memory";
	default:
		return "error";
	}
}

/* Header block bytes; final: the block ends with them. */
static int inflate(struct h2_conn *c, const __u8 *in, size_t n, int final, const struct h2_ops *ops,
		   void *ctx)
{
	for (;;) {
		nghttp2_nv nv;
		int fl = 0;
		ssize_t rv = nghttp2_hd_inflate_hd2(c->inf, &nv, &fl, in, n, final);

		if (rv < 0)
			return rv == NGHTTP2_ERR_NOMEM ? -ENOMEM : -EBADMSG;
		/* the end of a block comes as in == NULL, n == 0: NULL + 0 is undefined in C */
		if (rv) {
			in += rv;
			n -= (size_t)rv;
		}
		if (fl & NGHTTP2_HD_INFLATE_EMIT) {
			c->st.fields++;
			if (ops->header)
				ops->header(ctx, c->block, nv.name, nv.namelen, nv.value,
					    nv.valuelen);
		}
		if (fl & NGHTTP2_HD_INFLATE_FINAL) {
			nghttp2_hd_inflate_end_headers(c->inf);
			return 0;
		}
		if (!(fl & NGHTTP2_HD_INFLATE_EMIT) && !n)
			return 0;
	}
}

/* The 9 bytes in c->fh: check the frame against the framing rules (RFC 9113 §6). */
static int frame_begin(struct h2_conn *c)
{
	const __u8 *h = c->fh;
	int padded;

	c->len = (__u32)h[0] << 16 | (__u32)h[1] << 8 | h[2];
	c->type = h[3];
	c->flags = h[4];
	c->stream = ((__u32)h[5] << 24 | (__u32)h[6] << 16 | (__u32)h[7] << 8 | h[8]) & 0x7fffffff;
	c->got = 0;
	c->head = 0;
	c->pad = 0;
	c->ctlen = 0;
	padded = !!(c->flags & FL_PADDED);
	/* a header block is one unit: only its CONTINUATION frames may come until it ends */
	if (c->block && (c->type != FT_CONTINUATION || c->stream != c->block))
		return -EPROTO;
	switch (c->type) {
	case FT_DATA:
		c->head = padded;
		return c->stream && c->len >= c->head ? 0 : -EPROTO;
	case FT_HEADERS:
		c->head = padded + ((c->flags & FL_PRIORITY) ? 5 : 0);
		if (!c->stream || c->len < c->head)
			return -EPROTO;
		c->block = c->stream;
		c->block_es = c->flags & FL_END_STREAM;
		return 0;
	case FT_CONTINUATION:
		return c->block ? 0 : -EPROTO;
	case FT_PRIORITY:
		return c->stream && c->len == 5 ? 0 : -EPROTO;
	case FT_RST_STREAM:
		return c->stream && c->len == 4 ? 0 : -EPROTO;
	case FT_SETTINGS:
		if (c->stream || c->len % 6 || ((c->flags & FL_ACK) && c->len))
			return -EPROTO;
		return 0;
	case FT_PUSH_PROMISE:
		return -EPROTO; /* only a server sends it */
	case FT_PING:
		return !c->stream && c->len == 8 ? 0 : -EPROTO;
	case FT_GOAWAY:
		return !c->stream && c->len >= 8 ? 0 : -EPROTO;
	case FT_WINDOW_UPDATE:
		return c->len == 4 ? 0 : -EPROTO;
	default:
		return 0; /* unknown types are ignored (RFC 9113 §4.1) */
	}
}

/*
 * Content bytes of the frame (after the pad length and priority fields, before the padding).
 * SETTINGS are parsed for their framing only: SETTINGS_HEADER_TABLE_SIZE sent by the client
 * bounds the table of the server's encoder (responses), not the one of these header blocks
 * (see H2_TABLE_MAX).
 */
static int frame_content(struct h2_conn *c, const __u8 *p, size_t n, const struct h2_ops *ops,
			 void *ctx)
{
	switch (c->type) {
	case FT_DATA:
		c->st.data_bytes += n;
		if (ops->data && n)
			ops->data(ctx, c->stream, p, n);
		return 0;
	case FT_HEADERS:
	case FT_CONTINUATION:
		return inflate(c, p, n, 0, ops, ctx);
	case FT_RST_STREAM:
		while (n-- && c->ctlen < sizeof(c->ctl))
			c->ctl[c->ctlen++] = *p++;
		return 0;
	default:
		return 0;
	}
}

static int frame_end(struct h2_conn *c, const struct h2_ops *ops, void *ctx)
{
	int err;

	c->st.frames++;
	switch (c->type) {
	case FT_DATA:
		if ((c->flags & FL_END_STREAM) && ops->stream_end)
			ops->stream_end(ctx, c->stream, 0);
		break;
	case FT_HEADERS:
	case FT_CONTINUATION:
		if (!(c->flags & FL_END_HEADERS))
			break;
		err = inflate(c, NULL, 0, 1, ops, ctx);
		if (err)
			return err;
		c->st.blocks++;
		c->block = 0;
		if (ops->headers_end)
			ops->headers_end(ctx, c->stream, c->block_es);
		if (c->block_es && ops->stream_end)
			ops->stream_end(ctx, c->stream, 0);
		break;
	case FT_RST_STREAM:
		if (ops->stream_end)
			ops->stream_end(ctx, c->stream, 1);
		break;
	}
	c->fhlen = 0;
	return 0;
}

/* Payload bytes of the frame being read; *used: how many of the n were its. */
static int frame_payload(struct h2_conn *c, const __u8 *p, size_t n, size_t *used,
			 const struct h2_ops *ops, void *ctx)
{
	size_t i = 0, k;
	int err;

	while (c->got < c->len && i < n) {
		if (c->got < c->head) {
			/* pad length first, then the priority fields (ignored) */
			if (c->got == 0 && (c->flags & FL_PADDED))
				c->pad = p[i];
			c->got++;
			i++;
			if (c->got == c->head && c->head + c->pad > c->len)
				return -EPROTO; /* padding longer than what is left */
			continue;
		}
		if (c->got < c->len - c->pad) {
			k = c->len - c->pad - c->got;
			if (k > n - i)
				k = n - i;
			err = frame_content(c, p + i, k, ops, ctx);
			if (err)
				return err;
		} else {
			k = c->len - c->got; /* padding: skipped */
			if (k > n - i)
				k = n - i;
		}
		c->got += (__u32)k;
		i += k;
	}
	*used = i;
	return c->got == c->len ? frame_end(c, ops, ctx) : 0;
}

int h2_conn_feed(struct h2_conn *c, const __u8 *p, size_t n, const struct h2_ops *ops, void *ctx)
{
	static const struct h2_ops none;
	size_t used;
	int err = 0;

	if (c->err)
		return c->err;
	if (!ops)
		ops = &none;
	c->st.bytes += n;
	while (n && !err) {
		if (c->pre < H2_PREFACE_LEN) {
			if (*p != (__u8)H2_PREFACE[c->pre]) {
				err = -EPROTO;
				break;
			}
			c->pre++;
			p++;
			n--;
			continue;
		}
		if (c->fhlen < FRAME_HDR) {
			c->fh[c->fhlen++] = *p++;
			n--;
			if (c->fhlen < FRAME_HDR)
				continue;
			err = frame_begin(c);
			if (!err && !c->len)
				err = frame_end(c, ops, ctx);
			continue;
		}
		used = 0;
		err = frame_payload(c, p, n, &used, ops, ctx);
		p += used;
		n -= used;
	}
	c->err = err;
	return err;
}
