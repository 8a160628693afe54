/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Inside the decoders (decode.h is their interface), shared by decode.c (the layer walk, output
 * budget, flows), decode_zlib.c (HTTP bodies, chunked framing, gzip/deflate) and decode_text.c
 * (base64, percent, JSON, HTML, UTF-16, full-width). Not for use outside user/decode/.
 */
#ifndef CS_DECODE_INT_H
#define CS_DECODE_INT_H

#include <stddef.h>
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
static inline int eq_nocase(const __u8 *p, size_t n, const char *s)
{
	size_t i;

	if (strlen(s) != n)
		return 0;
	for (i = 0; i < n; i++)
		if (lower(p[i]) != (__u8)s[i])
			return 0;
	return 1;
}

static inline int has_prefix(const __u8 *p, size_t n, const char *s)
{
	size_t k = strlen(s);

	return n >= k && !memcmp(p, s, k);
}

/* UTF-8 of a valid code point (not a surrogate, <= 0x10ffff) into o[0..4); its length. */
static inline size_t put_utf8(__u8 *o, __u32 cp)
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

/*
 * Text decoders: each writes the decoded form of in[0..n) to out[0..cap) (never more bytes
 * than it reads), sets *used to the input consumed (< n only when cap ran out) and counts in
 * *hits the escapes that justify a layer. A gate says cheaply whether any can be present.
 */
typedef size_t (*seg_fn)(const __u8 *in, size_t n, __u8 *out, size_t cap, size_t *used,
			 unsigned *hits);
typedef int (*gate_fn)(const __u8 *in, size_t n);

/* decode.c */
void decode_buf(struct dec_ctx *c, const __u8 *buf, size_t n, unsigned enc, unsigned depth);
void zero_free(void *p, size_t n);
int out_reserve(struct dec_ctx *c, struct out *o, size_t want);
int out_grow(struct dec_ctx *c, struct out *o, size_t hint);
void out_discard(struct dec_ctx *c, struct out *o);
void emit(struct dec_ctx *c, struct out *o, unsigned enc, unsigned depth, const __u8 *parent,
	  size_t pn);
void segs_cut(struct segs *sg, size_t a, size_t b, size_t n);

/* decode_zlib.c */
struct zstream *zstream_new(int mode, unsigned enc, int chunked, __u64 left);
void zstream_free(struct zstream *s);
int stream_feed(struct dec_ctx *c, struct zstream *s, const __u8 *p, size_t n, struct out *o,
		size_t *used);
int http_start(const __u8 *p, size_t n);
int http_body(struct dec_ctx *c, const __u8 *buf, size_t n, unsigned enc, unsigned depth,
	      struct segs *sg);
void gzip_magic(struct dec_ctx *c, const __u8 *buf, size_t n, unsigned enc, unsigned depth,
		struct segs *sg);

/* decode_text.c */
int b64_gate(const __u8 *in, size_t n);
size_t b64_seg(const __u8 *in, size_t n, __u8 *out, size_t cap, size_t *used, unsigned *hits);
int pct_gate(const __u8 *in, size_t n);
size_t pct_seg(const __u8 *in, size_t n, __u8 *out, size_t cap, size_t *used, unsigned *hits);
int json_gate(const __u8 *in, size_t n);
size_t json_seg(const __u8 *in, size_t n, __u8 *out, size_t cap, size_t *used, unsigned *hits);
int html_gate(const __u8 *in, size_t n);
size_t html_seg(const __u8 *in, size_t n, __u8 *out, size_t cap, size_t *used, unsigned *hits);
void utf16_layer(struct dec_ctx *c, const __u8 *buf, size_t n, const struct segs *sg, unsigned enc,
		 unsigned depth);
int fw_gate(const __u8 *in, size_t n);
size_t fw_seg(const __u8 *in, size_t n, __u8 *out, size_t cap, size_t *used, unsigned *hits);

#endif
