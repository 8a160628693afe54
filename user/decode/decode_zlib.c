// SPDX-License-Identifier: GPL-2.0-only
/* Compressed renderings (decode.h): HTTP message bodies (Content-Encoding, chunked), gzip streams.
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

/* Chunked framing: consumes framing up to and including one data slice (*dl may be 0). */
static size_t chunk_next(struct chunker *ch, const __u8 *p, size_t n, const __u8 **d, size_t *dl)
{
	size_t i = 0, k;
	int v;

	*dl = 0;
	while (i < n) {
		__u8 b = p[i];

		switch (ch->state) {
		case CH_SIZE:
			v = hexval(b);
			if (v >= 0) {
				if (ch->left >> 56)
					goto bad;
				ch->left = ch->left * 16 + v;
				ch->digits = 1;
				i++;
				break;
			}
			if (b == ';' || b == ' ' || b == '\t') {
				ch->state = CH_EXT;
				i++;
				break;
			}
			if (b == '\r') {
				i++;
				break;
			}
			if (b != '\n')
				goto bad;
			/* fall through */
		case CH_EXT:
			i++;
			if (b != '\n')
				break;
			if (!ch->digits)
				goto bad;
			ch->digits = 0;
			ch->state = ch->left ? CH_DATA : CH_TRAILER;
			break;
		case CH_DATA:
			k = n - i;
			if (k > ch->left)
				k = ch->left;
			*d = p + i;
			*dl = k;
			ch->left -= k;
			if (!ch->left)
				ch->state = CH_DATA_END;
			return i + k;
		case CH_DATA_END:
			i++;
			if (b == '\n')
				ch->state = CH_SIZE;
			else if (b != '\r')
				goto bad;
			break;
		case CH_TRAILER:
			i++;
			if (b == '\n') {
				ch->state = CH_DONE;
				return i;
			}
			if (b != '\r')
				ch->state = CH_TRAILER_LINE;
			break;
		case CH_TRAILER_LINE:
			i++;
			if (b == '\n')
				ch->state = CH_TRAILER;
			break;
		default:
			return i;
		}
	}
	return i;
bad:
	ch->state = CH_ERR;
	return i;
}

/* zlib's state and window hold inflated bytes: zeroed when zlib frees them */
static voidpf z_alloc(voidpf opaque, uInt items, uInt size)
{
	(void)opaque;
	return calloc(items, size);
}

static void z_free(voidpf opaque, voidpf p)
{
	(void)opaque;
	if (p)
		zero_free(p, malloc_usable_size(p));
}

struct zstream *zstream_new(int mode, unsigned enc, int chunked, __u64 left)
{
	struct zstream *s = calloc(1, sizeof(*s));
	/* 32 + 15: "gzip" bodies that are really zlib-wrapped are accepted too */
	int wbits = mode == ZM_GZIP ? 32 + MAX_WBITS : MAX_WBITS;

	if (!s)
		return NULL;
	s->zs.zalloc = z_alloc;
	s->zs.zfree = z_free;
	if (inflateInit2(&s->zs, wbits) != Z_OK) {
		free(s);
		return NULL;
	}
	s->mode = mode;
	s->enc = enc;
	s->chunked = chunked;
	s->left = chunked ? DEC_UNKNOWN : left;
	return s;
}

void zstream_free(struct zstream *s)
{
	if (!s)
		return;
	inflateEnd(&s->zs);
	free(s);
}

/* Inflate in[0..len) into o until the input is used, the stream ends, fails or o is full. */
static int zrun(struct dec_ctx *c, struct zstream *s, const __u8 *in, size_t len, struct out *o,
		size_t *unused)
{
	int ret;

	while (len > ZIN_MAX) {
		ret = zrun(c, s, in, ZIN_MAX, o, unused);
		if (ret != ZS_MORE) {
			*unused += len - ZIN_MAX;
			return ret;
		}
		in += ZIN_MAX;
		len -= ZIN_MAX;
	}
	s->zs.next_in = in;
	s->zs.avail_in = len;
	for (;;) {
		if (o->len == o->cap && out_grow(c, o, len * 4) < 0) {
			*unused = s->zs.avail_in;
			return ZS_CUT;
		}
		s->zs.next_out = o->buf + o->len;
		s->zs.avail_out = o->cap - o->len;
		ret = inflate(&s->zs, Z_NO_FLUSH);
		o->len = o->cap - s->zs.avail_out;
		*unused = s->zs.avail_in;
		if (ret == Z_STREAM_END)
			return ZS_END;
		if (ret != Z_OK && ret != Z_BUF_ERROR)
			return ZS_ERR;
		/* room left means all input was used and all pending output written */
		if (s->zs.avail_out)
			return ZS_MORE;
	}
}

/* One slice of compressed data; a zlib header that fails switches to raw deflate. */
static int inflate_slice(struct dec_ctx *c, struct zstream *s, const __u8 *d, size_t dl,
			 struct out *o, size_t *unused)
{
	size_t before = s->zs.total_in;
	int r;

	if (s->mode == ZM_ZLIB && before < 2) {
		size_t k = 2 - before < dl ? 2 - before : dl;

		memcpy(s->head + before, d, k);
	}
	r = zrun(c, s, d, dl, o, unused);
	/* zlib reports a bad header after at most its 2 bytes, before any output */
	if (r != ZS_ERR || s->mode != ZM_ZLIB || s->zs.total_out || s->zs.total_in > 2)
		return r;
	if (inflateReset2(&s->zs, -MAX_WBITS) != Z_OK)
		return ZS_ERR;
	s->mode = ZM_RAW;
	if (before) {
		r = zrun(c, s, s->head, before, o, unused);
		if (r != ZS_MORE) {
			*unused = dl;
			return r;
		}
	}
	return zrun(c, s, d, dl, o, unused);
}

/*
 * Feed a compressed body's raw bytes p[0..n) (chunk framing included) to s, output appended to
 * o. *used: message bytes that belonged to the body (for ZS_ERR: up to the failure).
 */
int stream_feed(struct dec_ctx *c, struct zstream *s, const __u8 *p, size_t n, struct out *o,
		size_t *used)
{
	size_t lim_n = n, i = 0, unused = 0, dl;
	const __u8 *d;
	int r = ZS_MORE;

	if (s->left != DEC_UNKNOWN && s->left < n)
		lim_n = s->left;
	while (i < lim_n && r == ZS_MORE) {
		if (s->chunked) {
			i += chunk_next(&s->ch, p + i, lim_n - i, &d, &dl);
			if (s->ch.state == CH_ERR || (!dl && s->ch.state == CH_DONE)) {
				r = ZS_ERR; /* bad framing, or the body ended before the stream */
				break;
			}
			if (!dl)
				continue;
		} else {
			d = p + i;
			dl = lim_n - i;
			i = lim_n;
		}
		r = inflate_slice(c, s, d, dl, o, &unused);
	}
	switch (r) {
	case ZS_END:
		if (!s->chunked) {
			i -= unused;
			break;
		}
		/* the rest of the framing (data after the stream end is ignored) */
		while (i < lim_n && s->ch.state != CH_DONE && s->ch.state != CH_ERR)
			i += chunk_next(&s->ch, p + i, lim_n - i, &d, &dl);
		break;
	case ZS_CUT:
		c->st->bytes_cut += unused + (lim_n - i);
		i = lim_n;
		break;
	case ZS_MORE:
		if (s->left != DEC_UNKNOWN && s->left == i)
			r = ZS_ERR; /* Content-Length reached, stream not ended */
		break;
	}
	if (s->left != DEC_UNKNOWN)
		s->left -= i < s->left ? i : s->left;
	*used = i;
	return r;
}

/* A request line "METHOD target HTTP/1.x" or a status line "HTTP/1.x ...". */
int http_start(const __u8 *p, size_t n)
{
	const __u8 *eol;
	size_t i = 0, l;

	if (has_prefix(p, n, "HTTP/1."))
		return 1;
	while (i < n && i < 16 && p[i] >= 'A' && p[i] <= 'Z')
		i++;
	if (i < 3 || i >= n || p[i] != ' ')
		return 0;
	eol = memchr(p, '\n', n < HTTP_HDR_MAX ? n : HTTP_HDR_MAX);
	if (!eol)
		return 0;
	l = eol - p;
	if (l && p[l - 1] == '\r')
		l--;
	return l >= 9 + i && !memcmp(p + l - 9, " HTTP/1.", 8);
}

struct http_info {
	size_t hlen;  /* header block including the blank line */
	unsigned enc; /* CS_ENC_GZIP, CS_ENC_DEFLATE or 0 */
	int chunked;  /* Transfer-Encoding ends in chunked */
	__u64 clen;   /* Content-Length or DEC_UNKNOWN */
	int response;
};

static void trim(const __u8 **p, size_t *n)
{
	while (*n && ((*p)[0] == ' ' || (*p)[0] == '\t')) {
		(*p)++;
		(*n)--;
	}
	while (*n && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t'))
		(*n)--;
}

/* Content-Encoding: exactly one of gzip, x-gzip, deflate (identity ignored). */
static unsigned parse_coding(const __u8 *v, size_t n)
{
	unsigned enc = 0, other = 0;

	while (n) {
		const __u8 *comma = memchr(v, ',', n);
		size_t k = comma ? (size_t)(comma - v) : n;
		const __u8 *t = v;
		size_t tl = k;

		trim(&t, &tl);
		if (eq_nocase(t, tl, "gzip") || eq_nocase(t, tl, "x-gzip") ||
		    eq_nocase(t, tl, "deflate")) {
			if (enc)
				other = 1; /* two codings stacked: not handled */
			enc = t[0] == 'd' || t[0] == 'D' ? CS_ENC_DEFLATE : CS_ENC_GZIP;
		} else if (tl && !eq_nocase(t, tl, "identity")) {
			other = 1;
		}
		v += comma ? k + 1 : k;
		n -= comma ? k + 1 : k;
	}
	return other ? 0 : enc;
}

/* Header block of an HTTP/1.x message with a gzip or deflate body: 1 and *h filled in. */
static int http_parse(const __u8 *p, size_t n, struct http_info *h)
{
	const __u8 *end, *line;

	if (!http_start(p, n))
		return 0;
	end = memmem(p, n < HTTP_HDR_MAX ? n : HTTP_HDR_MAX, "\r\n\r\n", 4);
	if (!end)
		return 0;
	memset(h, 0, sizeof(*h));
	h->hlen = end - p + 4;
	h->clen = DEC_UNKNOWN;
	h->response = p[0] == 'H';
	line = memchr(p, '\n', h->hlen);
	if (!line)
		return 0;
	line++;
	while (line < end) {
		const __u8 *eol = memchr(line, '\r', end + 2 - line);
		const __u8 *colon = memchr(line, ':', eol - line);
		const __u8 *name = line, *val;
		size_t nl, vl;

		line = eol + 2;
		if (!colon)
			continue;
		nl = colon - name;
		val = colon + 1;
		vl = eol - val;
		trim(&name, &nl);
		trim(&val, &vl);
		if (eq_nocase(name, nl, "content-encoding")) {
			h->enc = parse_coding(val, vl);
		} else if (eq_nocase(name, nl, "transfer-encoding")) {
			h->chunked = vl >= 7 && eq_nocase(val + vl - 7, 7, "chunked");
		} else if (eq_nocase(name, nl, "content-length")) {
			__u64 v = 0;
			size_t i;

			for (i = 0; i < vl && i < 19 && val[i] >= '0' && val[i] <= '9'; i++)
				v = v * 10 + (val[i] - '0');
			h->clen = i && i == vl ? v : DEC_UNKNOWN;
		}
	}
	return h->enc != 0;
}

/* An HTTP/1.x message with Content-Encoding gzip/deflate: inflate its body. */
int http_body(struct dec_ctx *c, const __u8 *buf, size_t n, unsigned enc, unsigned depth,
	      struct segs *sg)
{
	struct out o = {0};
	struct http_info h;
	struct zstream *s;
	size_t used = 0, end;
	__u64 left;
	int r;

	if (!http_parse(buf, n, &h))
		return 0;
	left = h.clen;
	if (!h.chunked && left == DEC_UNKNOWN && !h.response)
		left = 0; /* a request without Content-Length or chunking has no body */
	if (!h.chunked && left == 0)
		return 0;
	s = zstream_new(h.enc == CS_ENC_GZIP ? ZM_GZIP : ZM_ZLIB, h.enc, h.chunked, left);
	if (!s)
		return 0;
	r = stream_feed(c, s, buf + h.hlen, n - h.hlen, &o, &used);
	end = h.hlen + used;
	if (r == ZS_ERR) {
		c->st->errors++;
		end = left != DEC_UNKNOWN && left < n - h.hlen ? h.hlen + left : n;
	}
	segs_cut(sg, h.hlen, end, n);
	if (o.len)
		emit(c, &o, enc | s->enc, depth, buf, n);
	else
		out_discard(c, &o);
	if (depth == 0 && c->fl) {
		if (r == ZS_MORE) {
			zstream_free(c->fl->zs);
			c->fl->zs = s;
			s = NULL;
		} else if (r == ZS_CUT && s->left != DEC_UNKNOWN) {
			c->fl->skip = s->left;
		}
	}
	zstream_free(s);
	return 1;
}

/* gzip members found by their magic (1f 8b 08, reserved flags clear), all in one layer. */
void gzip_magic(struct dec_ctx *c, const __u8 *buf, size_t n, unsigned enc, unsigned depth,
		struct segs *sg)
{
	struct out o = {0};
	size_t p = 0;

	while (p + 10 <= n && sg->n < MAX_SEGS) {
		const __u8 *q = memchr(buf + p, 0x1f, n - p - 9);
		struct zstream *s;
		size_t m, used = 0, before;
		int r, sep;

		if (!q)
			break;
		m = q - buf;
		p = m + 1;
		if (q[1] != 0x8b || q[2] != 8 || (q[3] & 0xe0))
			continue;
		s = zstream_new(ZM_GZIP, CS_ENC_GZIP, 0, DEC_UNKNOWN);
		if (!s)
			break;
		/* members are kept apart by a newline, dropped again if the member adds nothing */
		sep = o.len && (o.len < o.cap || !out_grow(c, &o, 4096));
		if (sep)
			o.buf[o.len++] = '\n';
		before = o.len;
		r = stream_feed(c, s, buf + m, n - m, &o, &used);
		if (sep && o.len == before)
			o.len--;
		if (r == ZS_ERR) {
			c->st->errors++;
			used = s->zs.total_in;
		}
		if (r != ZS_ERR || used) {
			segs_cut(sg, m, m + used, n);
			p = m + (used ? used : 1);
		}
		if (r == ZS_MORE && depth == 0 && c->fl) {
			zstream_free(c->fl->zs);
			c->fl->zs = s;
			s = NULL;
		}
		zstream_free(s);
		if (r == ZS_CUT || r == ZS_MORE)
			break;
	}
	if (o.len)
		emit(c, &o, enc | CS_ENC_GZIP, depth, buf, n);
	else
		out_discard(c, &o);
}
