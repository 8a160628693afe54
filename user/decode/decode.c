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
 */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#define ZLIB_CONST
#include <zlib.h>

#include "decode/decode.h"
#include "lib/encodings.h"

#define DEC_UNKNOWN  ((__u64)-1)
#define B64_MIN_RUN  12
#define B64_MIN_LINE 16 /* a MIME line break continues a run only after a line this long */
#define HTTP_HDR_MAX (64 * 1024)
#define MAX_SEGS     16
#define ZIN_MAX	     (1u << 30) /* zlib counts input in uInt */

struct out {
	__u8 *buf;
	size_t len, cap;
};

struct dec_ctx {
	const struct dec_limits *lim;
	dec_layer_fn fn;
	void *uctx;
	struct dec_stats *st;
	struct dec_flow *fl;
	size_t left; /* output bytes this message may still reserve */
	int layers;
};

enum { CH_SIZE, CH_EXT, CH_DATA, CH_DATA_END, CH_TRAILER, CH_TRAILER_LINE, CH_DONE, CH_ERR };

/* Transfer-Encoding: chunked framing, parsed incrementally across sends. */
struct chunker {
	int state;
	int digits;
	__u64 left; /* size line being read, then data bytes left in the chunk */
};

enum { ZM_GZIP, ZM_ZLIB, ZM_RAW };
enum { ZS_MORE, ZS_END, ZS_ERR, ZS_CUT };

struct zstream {
	z_stream zs;
	unsigned enc; /* CS_ENC_GZIP or CS_ENC_DEFLATE */
	int mode;
	__u8 head[2]; /* first compressed bytes, replayed when zlib falls back to raw deflate */
	int chunked;
	struct chunker ch;
	__u64 left; /* raw body bytes still expected (Content-Length) or DEC_UNKNOWN */
};

/* Bytes of a compressed body's output kept for the next send: its last token, maybe cut. */
#define DEC_TAIL_MAX 64

struct dec_flow {
	struct zstream *zs; /* body continued by the next send, or NULL */
	/*
	 * The decoded body's last token (bytes after its last separator) when the body goes on in
	 * the next send: that send's output starts with it, so a value cut between two sends'
	 * output is read whole (in the second send's message). next: this send's, kept if the
	 * stream is still pending when the send is done.
	 */
	__u8 tail[DEC_TAIL_MAX], next[DEC_TAIL_MAX];
	unsigned tail_len, next_len;
	__u64 skip;    /* body bytes still to come after a limit stopped the stream: cut */
	int body_done; /* dec_body: the stream ended, failed or was cut; the rest ignored */
	int body_cut;  /* ... cut at the limit: the rest counts as cut */
};

/* Text outside the compressed regions of a buffer, in increasing order. */
struct segs {
	unsigned n;
	struct {
		size_t off, len;
	} s[MAX_SEGS];
};

static void decode_buf(struct dec_ctx *c, const __u8 *buf, size_t n, unsigned enc, unsigned depth);

static inline int hexval(__u8 b)
{
	if (b >= '0' && b <= '9')
		return b - '0';
	b |= 0x20;
	if (b >= 'a' && b <= 'f')
		return b - 'a' + 10;
	return -1;
}

static inline __u8 lower(__u8 b)
{
	return b >= 'A' && b <= 'Z' ? b | 0x20 : b;
}

/* p[0..n) equals the lower-case string s, ignoring ASCII case. */
static int eq_nocase(const __u8 *p, size_t n, const char *s)
{
	size_t i;

	if (strlen(s) != n)
		return 0;
	for (i = 0; i < n; i++)
		if (lower(p[i]) != (__u8)s[i])
			return 0;
	return 1;
}

static int has_prefix(const __u8 *p, size_t n, const char *s)
{
	size_t k = strlen(s);

	return n >= k && !memcmp(p, s, k);
}

/* UTF-8 of a valid code point (not a surrogate, <= 0x10ffff) into o[0..4); its length. */
static size_t put_utf8(__u8 *o, __u32 cp)
{
	if (cp < 0x80) {
		o[0] = cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = 0xc0 | (cp >> 6);
		o[1] = 0x80 | (cp & 0x3f);
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = 0xe0 | (cp >> 12);
		o[1] = 0x80 | ((cp >> 6) & 0x3f);
		o[2] = 0x80 | (cp & 0x3f);
		return 3;
	}
	o[0] = 0xf0 | (cp >> 18);
	o[1] = 0x80 | ((cp >> 12) & 0x3f);
	o[2] = 0x80 | ((cp >> 6) & 0x3f);
	o[3] = 0x80 | (cp & 0x3f);
	return 4;
}

/* Output buffers: capacity is reserved from the message budget before it is allocated. */

/*
 * Decoded bytes are payload: a buffer is zeroed before it goes back to the heap, so it grows by
 * copy (realloc may move it and leave the old block as it was).
 */
static void zero_free(void *p, size_t n)
{
	if (!p)
		return;
	explicit_bzero(p, n);
	free(p);
}

static int out_reserve(struct dec_ctx *c, struct out *o, size_t want)
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
static int out_grow(struct dec_ctx *c, struct out *o, size_t hint)
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
static void out_discard(struct dec_ctx *c, struct out *o)
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
static void emit(struct dec_ctx *c, struct out *o, unsigned enc, unsigned depth, const __u8 *parent,
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

static void segs_cut(struct segs *sg, size_t a, size_t b, size_t n)
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

static struct zstream *zstream_new(int mode, unsigned enc, int chunked, __u64 left)
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

static void zstream_free(struct zstream *s)
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
static int stream_feed(struct dec_ctx *c, struct zstream *s, const __u8 *p, size_t n, struct out *o,
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
static int http_start(const __u8 *p, size_t n)
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
static int http_body(struct dec_ctx *c, const __u8 *buf, size_t n, unsigned enc, unsigned depth,
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
static void gzip_magic(struct dec_ctx *c, const __u8 *buf, size_t n, unsigned enc, unsigned depth,
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

/*
 * Text decoders: each writes the decoded form of in[0..n) to out[0..cap) (never more bytes
 * than it reads), sets *used to the input consumed (< n only when cap ran out) and counts in
 * *hits the escapes that justify a layer. A gate says cheaply whether any can be present.
 */
typedef size_t (*seg_fn)(const __u8 *in, size_t n, __u8 *out, size_t cap, size_t *used,
			 unsigned *hits);
typedef int (*gate_fn)(const __u8 *in, size_t n);

/* Both alphabets: value + 1 of a base64/base64url character, 0 for any other byte. */
/* clang-format off */
static const __u8 b64_tab[256] = {
	['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5, ['F'] = 6, ['G'] = 7, ['H'] = 8,
	['I'] = 9, ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14, ['O'] = 15,
	['P'] = 16, ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22,
	['W'] = 23, ['X'] = 24, ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29,
	['d'] = 30, ['e'] = 31, ['f'] = 32, ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36,
	['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40, ['o'] = 41, ['p'] = 42, ['q'] = 43,
	['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48, ['w'] = 49, ['x'] = 50,
	['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56, ['4'] = 57,
	['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['+'] = 63, ['-'] = 63,
	['/'] = 64, ['_'] = 64,
};
/* clang-format on */

/*
 * Next run of >= B64_MIN_RUN alphabet characters at or after *pos: [*s, *e), MIME line breaks
 * inside it allowed; *pos moves past it and its '=' padding. A run of 12 must contain the byte
 * 11 places ahead, so a non-alphabet byte there skips 12 bytes at once (most text, and 3/4 of
 * random binary).
 */
static int b64_next_run(const __u8 *p, size_t n, size_t *pos, size_t *s, size_t *e)
{
	size_t i = *pos;

	while (i + B64_MIN_RUN <= n) {
		size_t j = i + B64_MIN_RUN - 1, start = j, k, line, first = 0, pad;

		if (!b64_tab[p[j]]) {
			i = j + 1;
			continue;
		}
		while (start > i && b64_tab[p[start - 1]])
			start--;
		for (k = j + 1; k < n && b64_tab[p[k]]; k++)
			;
		if (k - start < B64_MIN_RUN) {
			i = k + 1;
			continue;
		}
		i = start;
		for (;;) {
			size_t l0 = i;

			while (i < n && b64_tab[p[i]])
				i++;
			line = i - l0;
			if (!first)
				first = line;
			j = i;
			if (j + 1 < n && p[j] == '\r')
				j++;
			/* MIME: every line but the last as long as the first, a multiple of 4 */
			if (line == first && line >= B64_MIN_LINE && !(line & 3) && j + 1 < n &&
			    p[j] == '\n' && b64_tab[p[j + 1]] &&
			    !(p[j + 1] == '-' && j + 2 < n && p[j + 2] == '-')) {
				i = j + 1;
				continue;
			}
			break;
		}
		*s = start;
		*e = i;
		for (pad = 0; pad < 2 && i < n && p[i] == '='; pad++)
			i++;
		*pos = i;
		return 1;
	}
	*pos = n;
	return 0;
}

static int b64_gate(const __u8 *in, size_t n)
{
	size_t pos = 0, s, e;

	return b64_next_run(in, n, &pos, &s, &e);
}

static size_t b64_seg(const __u8 *in, size_t n, __u8 *out, size_t cap, size_t *used, unsigned *hits)
{
	size_t pos = 0, s, e, o = 0;

	while (b64_next_run(in, n, &pos, &s, &e)) {
		__u32 acc = 0, v;
		unsigned bits = 0;

		if ((e - s) * 3 / 4 + 1 > cap - o) {
			*used = s;
			return o;
		}
		if (o)
			out[o++] = '\n'; /* tokens of different runs never join */
		while (s < e) {
			/* four characters at once; a line break (value 0) takes the slow path */
			if (!bits && e - s >= 4 && b64_tab[in[s]] && b64_tab[in[s + 1]] &&
			    b64_tab[in[s + 2]] && b64_tab[in[s + 3]]) {
				v = (b64_tab[in[s]] - 1) << 18 | (b64_tab[in[s + 1]] - 1) << 12 |
				    (b64_tab[in[s + 2]] - 1) << 6 | (b64_tab[in[s + 3]] - 1);
				out[o] = v >> 16;
				out[o + 1] = v >> 8;
				out[o + 2] = v;
				o += 3;
				s += 4;
				continue;
			}
			if (b64_tab[in[s]]) {
				acc = acc << 6 | (b64_tab[in[s]] - 1);
				bits += 6;
				if (bits >= 8) {
					bits -= 8;
					out[o++] = acc >> bits;
				}
			}
			s++;
		}
		(*hits)++;
	}
	*used = n;
	return o;
}

/* %XX, not only %40 (which the kernel decodes itself): a layer needs some other escape. */
static int pct_gate(const __u8 *in, size_t n)
{
	const __u8 *q, *end = in + n;

	for (q = in; (q = memchr(q, '%', end - q)); q++)
		if (end - q >= 3 && hexval(q[1]) >= 0 && hexval(q[2]) >= 0 &&
		    !(q[1] == '4' && q[2] == '0'))
			return 1;
	return 0;
}

static size_t pct_seg(const __u8 *in, size_t n, __u8 *out, size_t cap, size_t *used, unsigned *hits)
{
	size_t i = 0, o = 0;

	while (i < n) {
		const __u8 *q = memchr(in + i, '%', n - i);
		size_t lit = (q ? (size_t)(q - in) : n) - i;

		if (lit >= cap - o) {
			lit = cap - o;
			memcpy(out + o, in + i, lit);
			i += lit;
			o += lit;
			break;
		}
		memcpy(out + o, in + i, lit);
		i += lit;
		o += lit;
		if (!q)
			break;
		if (i + 2 < n && hexval(in[i + 1]) >= 0 && hexval(in[i + 2]) >= 0) {
			out[o++] = hexval(in[i + 1]) << 4 | hexval(in[i + 2]);
			if (!(in[i + 1] == '4' && in[i + 2] == '0'))
				(*hits)++;
			i += 3;
		} else {
			out[o++] = in[i++];
		}
	}
	*used = i;
	return o;
}

static int hex4(const __u8 *p, __u32 *v)
{
	int i, h;

	*v = 0;
	for (i = 0; i < 4; i++) {
		h = hexval(p[i]);
		if (h < 0)
			return 0;
		*v = *v << 4 | h;
	}
	return 1;
}

/* \u or \/, also after escaped backslashes (JSON inside a JSON string, decoded next layer) */
static int json_gate(const __u8 *in, size_t n)
{
	const __u8 *q, *end = in + n;

	for (q = in; (q = memchr(q, '\\', end - q));) {
		while (q < end && *q == '\\')
			q++;
		if (q < end && (*q == 'u' || *q == '/'))
			return 1;
	}
	return 0;
}

/*
 * Copy in[*i..) to out[*o..cap) up to the next byte m. 1 when in[*i] is now that m with room
 * left for its decoding (at least 4 bytes, or what remains of the input); 0 at the end.
 */
static int copy_until(const __u8 *in, size_t n, size_t *i, __u8 *out, size_t cap, size_t *o, __u8 m)
{
	const __u8 *q = memchr(in + *i, m, n - *i);
	size_t lit = (q ? (size_t)(q - in) : n) - *i;

	if (lit > cap - *o)
		lit = cap - *o;
	memcpy(out + *o, in + *i, lit);
	*i += lit;
	*o += lit;
	return q && *i == (size_t)(q - in) && cap - *o >= (n - *i < 4 ? n - *i : 4);
}

/* The byte each two-character JSON escape stands for; 0: not an escape. */
static const __u8 json_esc[256] = {
    ['"'] = '"',  ['\\'] = '\\', ['/'] = '/',  ['b'] = '\b',
    ['f'] = '\f', ['n'] = '\n',	 ['r'] = '\r', ['t'] = '\t',
};

static size_t json_seg(const __u8 *in, size_t n, __u8 *out, size_t cap, size_t *used,
		       unsigned *hits)
{
	size_t i = 0, o = 0;

	while (i < n) {
		__u32 cp, lo;
		__u8 b;

		if (!copy_until(in, n, &i, out, cap, &o, '\\'))
			break;
		b = i + 1 < n ? in[i + 1] : 0;
		if (b == 'u' && n - i >= 6 && hex4(in + i + 2, &cp)) {
			i += 6;
			if (cp >= 0xd800 && cp < 0xdc00 && n - i >= 6 && in[i] == '\\' &&
			    in[i + 1] == 'u' && hex4(in + i + 2, &lo) && lo >= 0xdc00 &&
			    lo < 0xe000) {
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				i += 6;
			} else if (cp >= 0xd800 && cp < 0xe000) {
				cp = 0xfffd; /* lone surrogate */
			}
			o += put_utf8(out + o, cp);
			(*hits)++;
			continue;
		}
		if (!json_esc[b]) {
			out[o++] = in[i++]; /* not an escape: keep the backslash */
			continue;
		}
		/* "\\/" counts: a layer; "\\\\u0040" becomes "\\u0040", a layer decoded again */
		if (b == '/' ||
		    (b == '\\' && n - i >= 7 && in[i + 2] == 'u' && hex4(in + i + 3, &cp)))
			(*hits)++;
		out[o++] = json_esc[b];
		i += 2;
	}
	*used = i;
	return o;
}

/* &#NN; or &#xHH; (';' optional) at p[0..n): code point and length, or 0. */
static size_t html_num(const __u8 *p, size_t n, __u32 *cp)
{
	size_t i = 2, d0;
	int hex = 0, v;

	if (n < 3 || p[1] != '#')
		return 0;
	if (p[2] == 'x' || p[2] == 'X') {
		hex = 1;
		i = 3;
	}
	*cp = 0;
	for (d0 = i; i < n && i - d0 < 8; i++) {
		v = hexval(p[i]);
		if (v < 0 || (!hex && v > 9))
			break;
		*cp = *cp * (hex ? 16 : 10) + v;
	}
	if (i == d0 || !*cp || *cp > 0x10ffff || (*cp >= 0xd800 && *cp < 0xe000))
		return 0;
	if (i < n && p[i] == ';')
		i++;
	return i;
}

static int html_gate(const __u8 *in, size_t n)
{
	const __u8 *q, *end = in + n;
	__u32 cp;

	for (q = in; (q = memchr(q, '&', end - q)); q++)
		if (html_num(q, end - q, &cp) || has_prefix(q, end - q, "&commat;") ||
		    has_prefix(q, end - q, "&period;"))
			return 1;
	return 0;
}

static const struct {
	const char *name;
	__u8 b;
	__u8 counts; /* justifies a layer on its own */
} html_named[] = {
    {"&amp;", '&', 0},	 {"&lt;", '<', 0},     {"&gt;", '>', 0},     {"&quot;", '"', 0},
    {"&apos;", '\'', 0}, {"&commat;", '@', 1}, {"&period;", '.', 1},
};

static size_t html_seg(const __u8 *in, size_t n, __u8 *out, size_t cap, size_t *used,
		       unsigned *hits)
{
	size_t i = 0, o = 0, k, j;
	__u32 cp;

	while (i < n) {
		if (!copy_until(in, n, &i, out, cap, &o, '&'))
			break;
		k = html_num(in + i, n - i, &cp);
		if (k) {
			o += put_utf8(out + o, cp);
			(*hits)++;
			i += k;
			continue;
		}
		for (j = 0; j < sizeof(html_named) / sizeof(html_named[0]); j++)
			if (has_prefix(in + i, n - i, html_named[j].name))
				break;
		if (j < sizeof(html_named) / sizeof(html_named[0])) {
			out[o++] = html_named[j].b;
			*hits += html_named[j].counts;
			i += strlen(html_named[j].name);
		} else {
			out[o++] = in[i++];
		}
	}
	*used = i;
	return o;
}

/*
 * Wide text forms of ASCII values. UTF-16 (Java, Windows and .NET exports): a code unit is two
 * bytes, little or big endian, at any offset (a string inside binary framing may start
 * anywhere); its runs become one layer of UTF-8 (utf16_runs). Full-width forms U+FF01-FF5E (common
 * in Chinese text, UTF-8 EF BC 81 - EF BD 9E) become their ASCII letters 0x21-0x7E and U+3000 a
 * space.
 */
#define WIDE_MIN_RUN 4

/* The code unit at p: big or little endian. */
static inline __u32 u16(const __u8 *p, int be)
{
	return be ? (__u32)p[0] << 8 | p[1] : (__u32)p[1] << 8 | p[0];
}

/* A code unit of text: printable, or tab/CR/LF; not a C1 control, surrogate half, BOM or
 * non-character. */
static int u16_text(__u32 u)
{
	return (u >= 0x20 && (u < 0x7f || u >= 0xa0) && (u < 0xd800 || u >= 0xe000) &&
		u != 0xfeff && u < 0xfffe) ||
	       u == '\t' || u == '\r' || u == '\n';
}

/*
 * WIDE_MIN_RUN code units at p (n bytes left) that a registered value may be written in:
 * printable ASCII or their full-width forms. 1 little endian, 2 big endian, else 0.
 */
static int u16_run_at(const __u8 *p, size_t n)
{
	for (int be = 0; be < 2; be++) {
		unsigned k;

		for (k = 0; k < WIDE_MIN_RUN && 2 * k + 1 < n; k++) {
			__u32 u = u16(p + 2 * k, be);

			if ((u < 0x20 || u >= 0x7f) && (u < 0xff01 || u > 0xff5e))
				break;
		}
		if (k == WIDE_MIN_RUN)
			return be + 1;
	}
	return 0;
}

/*
 * UTF-16 runs of in[0..n) as UTF-8 into out (3 bytes per 2 in at most). A run starts where
 * WIDE_MIN_RUN ASCII or full-width code units follow in either byte order at any offset, reaches
 * back over the text units before it (a name before a phone) and on to the first unit that is not
 * text; runs are separated by a newline. Returns the bytes written; *runs counts them.
 */
static size_t utf16_runs(const __u8 *in, size_t n, __u8 *out, unsigned *runs)
{
	size_t i = 0, done = 0, o = 0;

	while (i + 2 * WIDE_MIN_RUN <= n) {
		int kind = u16_run_at(in + i, n - i), be = kind - 1;
		size_t s = i;

		if (!kind) {
			i++;
			continue;
		}
		while (s >= done + 2 && u16_text(u16(in + s - 2, be)))
			s -= 2;
		if (o)
			out[o++] = '\n'; /* runs never join */
		for (; s + 1 < n; s += 2) {
			__u32 u = u16(in + s, be);

			if (u >= 0xd800 && u < 0xdc00 && s + 3 < n) {
				__u32 lo = u16(in + s + 2, be);

				if (lo >= 0xdc00 && lo < 0xe000) {
					o += put_utf8(out + o, 0x10000 + ((u - 0xd800) << 10) +
								   (lo - 0xdc00));
					s += 2;
					continue;
				}
			}
			if (!u16_text(u))
				break;
			o += put_utf8(out + o, u);
		}
		(*runs)++;
		i = done = s;
	}
	return o;
}

static int utf16_gate(const __u8 *in, size_t n)
{
	for (size_t i = 0; i + 2 * WIDE_MIN_RUN <= n; i++)
		if (u16_run_at(in + i, n - i))
			return 1;
	return 0;
}

/* One layer of the UTF-16 runs of buf's text segments. */
static void utf16_layer(struct dec_ctx *c, const __u8 *buf, size_t n, const struct segs *sg,
			unsigned enc, unsigned depth)
{
	struct out o = {0};
	size_t need = 0;
	unsigned k, runs = 0;

	for (k = 0; k < sg->n; k++)
		if (utf16_gate(buf + sg->s[k].off, sg->s[k].len))
			break;
	if (k == sg->n)
		return;
	for (k = 0; k < sg->n; k++)
		need += sg->s[k].len / 2 * 3 + sg->s[k].len / (2 * WIDE_MIN_RUN) + 1;
	if (out_reserve(c, &o, need) || o.cap < need) {
		c->st->bytes_cut += n;
		out_discard(c, &o);
		return;
	}
	for (k = 0; k < sg->n; k++) {
		if (o.len)
			o.buf[o.len++] = '\n';
		o.len += utf16_runs(buf + sg->s[k].off, sg->s[k].len, o.buf + o.len, &runs);
	}
	if (runs)
		emit(c, &o, enc | CS_ENC_UTF16, depth, buf, n);
	else
		out_discard(c, &o);
}

/* A full-width letter or digit (U+FF10-FF19, FF21-FF3A, FF41-FF5A) at p (3 bytes left). */
static int fw_alnum(const __u8 *p)
{
	return p[0] == 0xef && ((p[1] == 0xbc && ((p[2] >= 0x90 && p[2] <= 0x99) ||
						  (p[2] >= 0xa1 && p[2] <= 0xba))) ||
				(p[1] == 0xbd && p[2] >= 0x81 && p[2] <= 0x9a));
}

static int fw_gate(const __u8 *in, size_t n)
{
	const __u8 *q, *end = in + n;

	for (q = in; (q = memchr(q, 0xef, end - q)) && end - q >= 3; q++)
		if (fw_alnum(q))
			return 1;
	return 0;
}

static size_t fw_seg(const __u8 *in, size_t n, __u8 *out, size_t cap, size_t *used, unsigned *hits)
{
	size_t i = 0, o = 0;

	while (i < n && o < cap) {
		if (i + 3 <= n && in[i] == 0xef &&
		    ((in[i + 1] == 0xbc && in[i + 2] >= 0x81) ||
		     (in[i + 1] == 0xbd && in[i + 2] <= 0x9e))) {
			/* U+FF01-FF5E: the ASCII character 0xFEE0 below */
			out[o++] =
			    (in[i + 1] == 0xbc ? 0x21 + in[i + 2] - 0x81 : 0x60 + in[i + 2] - 0x80);
			(*hits)++;
			i += 3;
		} else if (i + 3 <= n && in[i] == 0xe3 && in[i + 1] == 0x80 && in[i + 2] == 0x80) {
			out[o++] = ' '; /* U+3000 ideographic space */
			i += 3;
		} else {
			out[o++] = in[i++];
		}
	}
	*used = i;
	return o;
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

static void decode_buf(struct dec_ctx *c, const __u8 *buf, size_t n, unsigned enc, unsigned depth)
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
