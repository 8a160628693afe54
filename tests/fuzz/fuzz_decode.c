// SPDX-License-Identifier: GPL-2.0-only
/*
 * The decoders (user/decode/decode*.c) and their nesting. The first input byte holds options: the
 * depth limit, where the input is cut into two sends, and which encoding the round trip uses.
 * Properties:
 *   - the input as one send and as two sends of a flow: every layer within the output bound
 *     (all layers of a send together at most max_out), known CS_ENC_* bits only, the count
 *     returned that of the layers seen;
 *   - decode(encode(x)) == x: the rest of the input as x, encoded as base64, as %XX escapes, as
 *     a gzip or deflate HTTP body, as base64 of gzip (nested), is found whole in a layer that
 *     carries those encodings; and a gzip body fed in pieces to dec_body() comes out as x.
 */
#include <zlib.h>

#include "fuzz.h"

#include "decode/decode.h"
#include "lib/encodings.h"

#define MAX_OUT	 (64 * 1024)
#define X_MAX	 512
#define MSG_MAX	 4096
#define ENC_MASK ((1u << CS_ENC_COUNT) - 1)

struct seen {
	size_t total;
	unsigned layers;
	/* round trip: x, the encodings its layer must carry, found */
	const uint8_t *x;
	size_t xn;
	unsigned want;
	int found;
	/* dec_body: the depth-0 bytes, concatenated */
	uint8_t body[X_MAX];
	size_t nbody;
	int collect;
};

static void on_layer(const __u8 *buf, size_t n, unsigned enc, void *ctx)
{
	struct seen *s = ctx;

	FUZZ_CHECK(!(enc & ~ENC_MASK) && enc, "layer encodings %#x", enc);
	s->total += n;
	s->layers++;
	if (s->xn && (enc & s->want) == s->want && n >= s->xn && memmem(buf, n, s->x, s->xn))
		s->found = 1;
	/* a gzip member inside the body adds layers of the same encoding: body_pieces knows */
	if (s->collect && enc == CS_ENC_GZIP) {
		if (s->nbody + n <= sizeof(s->body))
			memcpy(s->body + s->nbody, buf, n);
		s->nbody += n;
	}
}

static int decode(struct dec_flow *fl, const uint8_t *p, size_t n, const struct dec_limits *lim,
		  struct seen *s)
{
	int layers;

	s->total = 0;
	s->layers = 0;
	layers = dec_message(fl, p, n, lim, on_layer, s, NULL);
	FUZZ_CHECK(layers >= 0 && (unsigned)layers == s->layers, "%d layers returned, %u seen",
		   layers, s->layers);
	FUZZ_CHECK(s->total <= lim->max_out, "%zu bytes out, limit %zu", s->total, lim->max_out);
	return layers;
}

static size_t b64(const uint8_t *p, size_t n, char *out)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;

	for (size_t i = 0; i < n; i += 3) {
		__u32 v = (__u32)p[i] << 16 | (i + 1 < n ? (__u32)p[i + 1] << 8 : 0) |
			  (i + 2 < n ? p[i + 2] : 0);

		out[o++] = a[v >> 18];
		out[o++] = a[(v >> 12) & 63];
		out[o++] = i + 1 < n ? a[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? a[v & 63] : '=';
	}
	return o;
}

/* gzip (gz) or zlib stream of p[0..n) into out; its length. */
static size_t compress_to(const uint8_t *p, size_t n, uint8_t *out, size_t cap, int gz)
{
	z_stream z = {0};
	size_t len;

	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, gz ? 31 : 15, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK)
		abort();
	z.next_in = (Bytef *)p;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END)
		abort();
	len = z.total_out;
	deflateEnd(&z);
	return len;
}

static void round_trip(const uint8_t *x, size_t xn, unsigned how, const struct dec_limits *lim)
{
	static uint8_t msg[MSG_MAX], z[MSG_MAX];
	struct seen s = {.x = x, .xn = xn};
	size_t n = 0, zn;
	int check = 1;

	switch (how % 5) {
	case 0: /* base64: a run of at least 12 characters */
		msg[n++] = ' ';
		n += b64(x, xn, (char *)msg + n);
		msg[n++] = ' ';
		s.want = CS_ENC_BASE64;
		check = xn >= 9;
		break;
	case 1: /* every byte as %XX: a layer needs one escape other than %40 */
		check = 0;
		for (size_t i = 0; i < xn; i++) {
			n += (size_t)snprintf((char *)msg + n, 4, "%%%02X", x[i]);
			check |= x[i] != '@';
		}
		s.want = CS_ENC_URL;
		break;
	case 2: /* an HTTP request with a gzip or deflate body */
	case 3:
		zn = compress_to(x, xn, z, sizeof(z), how % 5 == 2);
		n = (size_t)snprintf((char *)msg, MSG_MAX,
				     "POST /x HTTP/1.1\r\nContent-Encoding: %s\r\n"
				     "Content-Length: %zu\r\n\r\n",
				     how % 5 == 2 ? "gzip" : "deflate", zn);
		memcpy(msg + n, z, zn);
		n += zn;
		s.want = how % 5 == 2 ? CS_ENC_GZIP : CS_ENC_DEFLATE;
		check = xn > 0;
		break;
	default: /* base64 of a gzip member: found by its magic inside the base64 layer */
		zn = compress_to(x, xn, z, sizeof(z), 1);
		msg[n++] = ' ';
		n += b64(z, zn, (char *)msg + n);
		msg[n++] = ' ';
		s.want = CS_ENC_BASE64 | CS_ENC_GZIP;
		check = xn > 0 && lim->max_depth >= 2;
		break;
	}
	decode(NULL, msg, n, lim, &s);
	FUZZ_CHECK(!check || s.found, "encoding %u: %zu bytes not found in %u layers", how % 5, xn,
		   s.layers);
}

/* gzip(x) to dec_body in pieces of step bytes: the depth-0 layers are x */
static void body_pieces(const uint8_t *x, size_t xn, size_t step, const struct dec_limits *lim)
{
	static uint8_t z[MSG_MAX];
	struct dec_flow *fl = dec_flow_new();
	struct seen s = {.collect = 1};
	size_t zn = compress_to(x, xn, z, sizeof(z), 1);

	if (!fl)
		abort();
	for (size_t o = 0; o < zn; o += step)
		dec_body(fl, CS_ENC_GZIP, z + o, zn - o < step ? zn - o : step, lim, on_layer, &s,
			 NULL);
	/* a gzip member found inside x would add layers of the same encoding */
	if (!memchr(x, 0x1f, xn))
		FUZZ_CHECK(s.nbody == xn && !memcmp(s.body, x, xn), "dec_body: %zu bytes of %zu",
			   s.nbody, xn);
	dec_flow_free(fl);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dec_limits lim = {MAX_OUT, DEC_MAX_DEPTH_DEFAULT};
	struct seen s = {0};
	struct dec_flow *fl;
	size_t cut, xn;
	uint8_t opt;

	if (!size)
		return 0;
	opt = data[0];
	data++;
	size--;
	lim.max_depth = 1 + (opt & 7) % DEC_MAX_DEPTH;

	/* one send, then two sends of a flow cut at a point the options choose */
	decode(NULL, data, size, &lim, &s);
	fl = dec_flow_new();
	if (!fl)
		abort();
	cut = size ? (size_t)(opt >> 3) * size / 31 : 0;
	decode(fl, data, cut, &lim, &s);
	decode(fl, data + cut, size - cut, &lim, &s);
	dec_flow_free(fl);

	xn = size < X_MAX ? size : X_MAX;
	round_trip(data, xn, opt >> 3, &lim);
	body_pieces(data, xn, 1 + (opt >> 3), &lim);
	return 0;
}
