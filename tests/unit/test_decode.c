// SPDX-License-Identifier: GPL-2.0-only
/* Decoders: compressed HTTP bodies, gzip magic, base64, percent, JSON and HTML escapes. */
/* Over 800 lines: one cmocka binary per module (tests/unit/test_MODULE.c), the decoders are one. */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <cmocka.h>

#include "decode/decode.h"
#include "lib/encodings.h"

#define MAX_LAYERS 64
#define EMAIL	   "zhang.wei@example.com"

struct got {
	int n;
	__u8 *buf[MAX_LAYERS];
	size_t len[MAX_LAYERS];
	unsigned enc[MAX_LAYERS];
};

static void on_layer(const __u8 *buf, size_t n, unsigned enc, void *ctx)
{
	struct got *g = ctx;

	assert_true(g->n < MAX_LAYERS);
	g->buf[g->n] = malloc(n + 1);
	memcpy(g->buf[g->n], buf, n);
	g->len[g->n] = n;
	g->enc[g->n] = enc;
	g->n++;
}

static void got_free(struct got *g)
{
	while (g->n)
		free(g->buf[--g->n]);
}

/* The only layer with exactly these enc bits. */
static int find(const struct got *g, unsigned enc)
{
	int i, at = -1;

	for (i = 0; i < g->n; i++)
		if (g->enc[i] == enc) {
			assert_int_equal(at, -1);
			at = i;
		}
	assert_true(at >= 0);
	return at;
}

static void assert_layer(const struct got *g, unsigned enc, const void *want, size_t n)
{
	int i = find(g, enc);

	assert_int_equal(g->len[i], n);
	assert_memory_equal(g->buf[i], want, n);
}

static void assert_layer_str(const struct got *g, unsigned enc, const char *want)
{
	assert_layer(g, enc, want, strlen(want));
}

/* Layer i has these enc bits and bytes. */
static void assert_at(const struct got *g, int i, unsigned enc, const char *want)
{
	assert_true(i < g->n);
	assert_int_equal(g->enc[i], enc);
	assert_int_equal(g->len[i], strlen(want));
	assert_memory_equal(g->buf[i], want, strlen(want));
}

static int decode(struct dec_flow *fl, const void *msg, size_t n, struct got *g,
		  struct dec_stats *st)
{
	static const struct dec_limits lim = {1024 * 1024, 4};

	return dec_message(fl, msg, n, &lim, on_layer, g, st);
}

static int decode_str(const char *msg, struct got *g, struct dec_stats *st)
{
	return decode(NULL, msg, strlen(msg), g, st);
}

/* wbits: 31 gzip, 15 zlib, -15 raw deflate. */
static __u8 *compress_buf(const void *in, size_t n, int wbits, size_t *outlen)
{
	size_t cap = deflateBound(NULL, n) + 64;
	__u8 *out = malloc(cap);
	z_stream zs = {0};

	assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, wbits, 8, Z_DEFAULT_STRATEGY), Z_OK);
	zs.next_in = (Bytef *)in;
	zs.avail_in = n;
	zs.next_out = out;
	zs.avail_out = cap;
	assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
	*outlen = zs.total_out;
	deflateEnd(&zs);
	return out;
}

static char *b64(const void *in, size_t n, int url)
{
	const char *a = url ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
			    : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const __u8 *p = in;
	char *out = malloc(n / 3 * 4 + 5), *o = out;
	size_t i;

	for (i = 0; i + 2 < n; i += 3) {
		__u32 v = p[i] << 16 | p[i + 1] << 8 | p[i + 2];

		*o++ = a[v >> 18];
		*o++ = a[(v >> 12) & 63];
		*o++ = a[(v >> 6) & 63];
		*o++ = a[v & 63];
	}
	if (n - i == 1) {
		*o++ = a[p[i] >> 2];
		*o++ = a[(p[i] & 3) << 4];
		*o++ = '=';
		*o++ = '=';
	} else if (n - i == 2) {
		*o++ = a[p[i] >> 2];
		*o++ = a[((p[i] & 3) << 4) | p[i + 1] >> 4];
		*o++ = a[(p[i + 1] & 15) << 2];
		*o++ = '=';
	}
	*o = '\0';
	return out;
}

/* head (a printf format with one %zu for the body length) + body in one buffer. */
static __u8 *http_msg(const char *head, const __u8 *body, size_t blen, size_t *n)
{
	char h[512];
	int hl = snprintf(h, sizeof(h), head, blen);
	__u8 *m = malloc(hl + blen);

	memcpy(m, h, hl);
	memcpy(m + hl, body, blen);
	*n = hl + blen;
	return m;
}

static const char json_doc[] = "{\"email\":\"" EMAIL "\",\"phone\":\"13800138000\"}";

static void check_body(const char *head, int wbits, unsigned enc)
{
	struct dec_stats st = {0};
	struct got g = {0};
	size_t zl, n;
	__u8 *z = compress_buf(json_doc, strlen(json_doc), wbits, &zl);
	__u8 *m = http_msg(head, z, zl, &n);

	assert_true(decode(NULL, m, n, &g, &st) >= 1);
	assert_layer_str(&g, enc, json_doc);
	assert_int_equal(st.messages, 1);
	assert_int_equal(st.errors, 0);
	assert_int_equal(st.bytes_cut, 0);
	assert_int_equal(st.layers, g.n);
	free(m);
	free(z);
	got_free(&g);
}

static void test_http_gzip(void **state)
{
	(void)state;
	/* header names and values in any case, optional spaces */
	check_body("POST /collect HTTP/1.1\r\nHost: ads.example\r\ncontent-encoding:GZIP \r\n"
		   "Content-Length: %zu\r\n\r\n",
		   31, CS_ENC_GZIP);
	check_body("HTTP/1.1 200 OK\r\nCONTENT-ENCODING :  x-gzip\r\nContent-Length:%zu\r\n\r\n",
		   31, CS_ENC_GZIP);
	/* no Content-Length in a response: the body runs to the stream end */
	check_body("HTTP/1.0 200 OK\r\nContent-Encoding: gzip\r\nX-Len: %zu\r\n\r\n", 31,
		   CS_ENC_GZIP);
}

static void test_http_deflate(void **state)
{
	(void)state;
	check_body("PUT /u HTTP/1.1\r\nContent-Encoding: deflate\r\nContent-Length: %zu\r\n\r\n",
		   15, CS_ENC_DEFLATE);
	check_body("PUT /u HTTP/1.1\r\nContent-Encoding: Deflate\r\nContent-Length: %zu\r\n\r\n",
		   -15, CS_ENC_DEFLATE);
}

/* body as chunks of step bytes, the first with an extension, then the last chunk + trailer */
static size_t chunk_body(const __u8 *z, size_t zl, size_t step, char *out)
{
	size_t i, k, o = 0;

	for (i = 0; i < zl; i += k) {
		k = zl - i < step ? zl - i : step;
		o += sprintf(out + o, i ? "%zx\r\n" : "%zX;ext=1\r\n", k);
		memcpy(out + o, z + i, k);
		o += k;
		memcpy(out + o, "\r\n", 2);
		o += 2;
	}
	o += sprintf(out + o, "0\r\nX-Trailer: 1\r\n\r\n");
	return o;
}

static void test_chunked_gzip(void **state)
{
	static const char head[] = "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
				   "Content-Encoding: gzip\r\n\r\n";
	struct dec_stats st = {0};
	struct got g = {0};
	size_t zl, n;
	__u8 *z = compress_buf(json_doc, strlen(json_doc), 31, &zl);
	char *m = malloc(sizeof(head) + zl * 8 + 64);

	(void)state;
	strcpy(m, head);
	n = strlen(head) + chunk_body(z, zl, 7, m + strlen(head));
	assert_true(decode(NULL, m, n, &g, &st) >= 1);
	assert_layer_str(&g, CS_ENC_GZIP, json_doc);
	assert_int_equal(st.errors, 0);
	free(m);
	free(z);
	got_free(&g);
}

/* A body split over two sends continues in the flow's inflater. */
static void test_split_flow(void **state)
{
	struct dec_flow *fl = dec_flow_new();
	struct dec_stats st = {0};
	struct got g = {0};
	char doc[4096], *joined;
	size_t zl, n, half, i, o = 0;
	__u8 *z, *m;

	(void)state;
	for (i = 0; o + 64 < sizeof(doc); i++)
		o += sprintf(doc + o, "{\"id\":%zu,\"v\":\"%zx\"},", i, i * 2654435761u);
	z = compress_buf(doc, o, 31, &zl);
	m = http_msg("POST /s HTTP/1.1\r\nContent-Encoding: gzip\r\nContent-Length: %zu\r\n\r\n", z,
		     zl, &n);
	half = n - zl / 2;
	/* the gzip layer, and base64 of the header names (Content-Encoding is a 16-char run) */
	assert_int_equal(decode(fl, m, half, &g, &st), 2);
	assert_true(dec_flow_pending(fl));
	/* the rest, followed by the next request on the same connection */
	memcpy(z, m + half, n - half);
	memcpy(z + (n - half), "GET /x?e=a%2Eb HTTP/1.1\r\n\r\n", 27);
	assert_int_equal(decode(fl, z, n - half + 27, &g, &st), 2);
	assert_false(dec_flow_pending(fl));
	assert_int_equal(g.n, 4);
	assert_int_equal(g.enc[0], CS_ENC_GZIP);
	assert_int_equal(g.enc[1], CS_ENC_BASE64);
	assert_int_equal(g.enc[2], CS_ENC_GZIP);
	/* the second send's output starts with the first's last token (maybe cut) again */
	{
		size_t k = g.len[0] + g.len[2] - o;

		assert_true(k <= 64 && k <= g.len[0]);
		assert_memory_equal(g.buf[2], g.buf[0] + g.len[0] - k, k);
		joined = malloc(o);
		memcpy(joined, g.buf[0], g.len[0]);
		memcpy(joined + g.len[0], g.buf[2] + k, g.len[2] - k);
		assert_memory_equal(joined, doc, o);
	}
	assert_at(&g, 3, CS_ENC_URL, "GET /x?e=a.b HTTP/1.1\r\n\r\n");
	assert_int_equal(st.messages, 2);
	assert_int_equal(st.errors, 0);
	free(joined);
	free(m);
	free(z);
	got_free(&g);

	/* headers in one send, the chunked body in the next (as curl does) */
	{
		static const char head[] = "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
					   "Content-Encoding: deflate\r\n\r\n";
		char body[512];

		z = compress_buf(json_doc, strlen(json_doc), 15, &zl);
		n = chunk_body(z, zl, 16, body);
		assert_int_equal(decode(fl, head, strlen(head), &g, &st), 1); /* header names */
		got_free(&g);
		assert_true(dec_flow_pending(fl));
		assert_int_equal(decode(fl, body, n, &g, &st), 1);
		assert_false(dec_flow_pending(fl));
		assert_layer_str(&g, CS_ENC_DEFLATE, json_doc);
		free(z);
		got_free(&g);
	}
	dec_flow_free(fl);
}

/* A phone in a gzip body, the body cut between two sends at every byte: some layer holds it
 * whole (the cut token is carried into the second send's output). */
static void test_split_value(void **state)
{
	static const char csv[] = "id,name,mobile\n1,li,13800138000\n2,wang,13911112222\n";
	size_t zl, n, cut;
	__u8 *z, *m;

	(void)state;
	z = compress_buf(csv, strlen(csv), 31, &zl);
	m = http_msg("POST /s HTTP/1.1\r\nContent-Encoding: gzip\r\nContent-Length: %zu\r\n\r\n", z,
		     zl, &n);
	for (cut = n - zl + 1; cut < n; cut++) {
		struct dec_flow *fl = dec_flow_new();
		struct got g = {0};
		int both[2] = {0, 0};

		decode(fl, m, cut, &g, NULL);
		decode(fl, m + cut, n - cut, &g, NULL);
		for (int i = 0; i < g.n; i++) {
			both[0] |= memmem(g.buf[i], g.len[i], "13800138000", 11) != NULL;
			both[1] |= memmem(g.buf[i], g.len[i], "13911112222", 11) != NULL;
		}
		assert_true(both[0] && both[1]);
		got_free(&g);
		dec_flow_free(fl);
	}
	free(m);
	free(z);
}

static void test_gzip_magic(void **state)
{
	static const char csv[] = "subject,email,phone\nu1," EMAIL ",13800138000\n";
	struct dec_stats st = {0};
	struct got g = {0};
	size_t zl;
	__u8 *z = compress_buf(csv, strlen(csv), 31, &zl);
	__u8 *m = malloc(zl * 2 + 16);

	(void)state;
	/* binary framing, a gzip'd CSV, more framing, the same file again */
	memcpy(m, "\x00\x01FILE", 6);
	memcpy(m + 6, z, zl);
	memcpy(m + 6 + zl, "\x00\x1f\x8b", 3);
	memcpy(m + 9 + zl, z, zl);
	assert_int_equal(decode(NULL, m, 9 + 2 * zl, &g, &st), 1);
	assert_int_equal(g.enc[0], CS_ENC_GZIP);
	assert_int_equal(g.len[0], 2 * strlen(csv) + 1);
	assert_memory_equal(g.buf[0], csv, strlen(csv));
	assert_int_equal(g.buf[0][strlen(csv)], '\n');
	assert_memory_equal(g.buf[0] + strlen(csv) + 1, csv, strlen(csv));
	assert_int_equal(st.errors, 0);
	got_free(&g);
	/* a gzip'd file split over two sends of one flow */
	{
		struct dec_flow *fl = dec_flow_new();

		assert_int_equal(decode(fl, m, 6 + zl / 2, &g, &st), 1);
		assert_true(dec_flow_pending(fl));
		assert_int_equal(decode(fl, m + 6 + zl / 2, zl - zl / 2, &g, &st), 1);
		assert_false(dec_flow_pending(fl));
		/* the second layer starts with the first's last token again (test_split_value) */
		{
			size_t k = g.len[0] + g.len[1] - strlen(csv);

			assert_true(k <= g.len[0]);
			assert_memory_equal(g.buf[0], csv, g.len[0]);
			assert_memory_equal(g.buf[1], csv + g.len[0] - k, g.len[1]);
		}
		assert_int_equal(g.enc[1], CS_ENC_GZIP);
		dec_flow_free(fl);
	}
	free(m);
	free(z);
	got_free(&g);
}

/* 50 MB of zeros compressed: output stops at max_out, the rest of the input is counted as cut. */
static void test_zip_bomb(void **state)
{
	static const struct dec_limits lim = {1024 * 1024, 4};
	struct dec_flow *fl = dec_flow_new();
	struct dec_stats st = {0};
	struct got g = {0};
	static __u8 zeros[64 * 1024];
	z_stream zs = {0};
	size_t cap = 256 * 1024, n, i;
	__u8 *z = malloc(cap), *m;
	const char *req;

	(void)state;
	assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
	zs.next_out = z;
	zs.avail_out = cap;
	for (i = 0; i < 50 * 16; i++) {
		zs.next_in = zeros;
		zs.avail_in = sizeof(zeros);
		assert_int_equal(deflate(&zs, i + 1 < 50 * 16 ? Z_NO_FLUSH : Z_FINISH),
				 i + 1 < 50 * 16 ? Z_OK : Z_STREAM_END);
	}
	m = http_msg("POST /b HTTP/1.1\r\nContent-Encoding: gzip\r\nContent-Length: %zu\r\n\r\n", z,
		     zs.total_out, &n);
	/* the first half of the body in this send, the rest in the next */
	assert_int_equal(dec_message(fl, m, n - zs.total_out / 2, &lim, on_layer, &g, &st), 1);
	assert_int_equal(g.enc[0], CS_ENC_GZIP);
	assert_int_equal(g.len[0], lim.max_out);
	for (i = 0; i < g.len[0]; i++)
		assert_int_equal(g.buf[0][i], 0);
	assert_true(st.bytes_cut > 0);
	assert_true(st.bytes_out <= lim.max_out);
	/* the second half is counted as cut, not decoded */
	assert_int_equal(
	    dec_message(fl, m + n - zs.total_out / 2, zs.total_out / 2, &lim, on_layer, &g, &st),
	    0);
	assert_false(dec_flow_pending(fl));
	assert_true(st.bytes_cut > zs.total_out / 2);
	assert_true(st.bytes_cut < zs.total_out);
	assert_int_equal(st.errors, 0);
	got_free(&g);
	/* a new request instead of the rest of the body is decoded, not skipped */
	req = "GET /?a=%2F HTTP/1.1\r\n\r\n";
	assert_int_equal(dec_message(fl, m, n - zs.total_out / 2, &lim, on_layer, &g, &st), 1);
	assert_true(dec_flow_pending(fl));
	assert_int_equal(dec_message(fl, (const __u8 *)req, strlen(req), &lim, on_layer, &g, &st),
			 1);
	assert_false(dec_flow_pending(fl));
	assert_at(&g, 1, CS_ENC_URL, "GET /?a=/ HTTP/1.1\r\n\r\n");
	deflateEnd(&zs);
	dec_flow_free(fl);
	free(m);
	free(z);
	got_free(&g);
}

static void test_corrupt(void **state)
{
	struct dec_stats st = {0};
	struct got g = {0};
	char doc[2048];
	size_t zl, n, i, o = 0;
	__u8 *z, *m;

	(void)state;
	for (i = 0; o + 40 < sizeof(doc); i++)
		o += sprintf(doc + o, "row %zu %zx\n", i, i * 40503u);
	z = compress_buf(doc, o, 31, &zl);
	for (i = zl / 2; i < zl / 2 + 8; i++)
		z[i] ^= 0x5a;
	m = http_msg("POST /x HTTP/1.1\r\nContent-Encoding: gzip\r\nContent-Length: %zu\r\n\r\n", z,
		     zl, &n);
	decode(NULL, m, n, &g, &st);
	assert_int_equal(st.errors, 1);
	/* what came out before the damage starts with the document */
	i = find(&g, CS_ENC_GZIP);
	assert_true(g.len[i] >= 64);
	assert_memory_equal(g.buf[i], doc, 64);
	got_free(&g);
	/* every truncation of a gzip'd file sent raw: no crash, no error (it may continue) */
	free(z);
	z = compress_buf(doc, o, 31, &zl);
	memset(&st, 0, sizeof(st));
	for (n = 1; n < zl; n += 7) {
		decode(NULL, z, n, &g, &st);
		got_free(&g);
	}
	assert_int_equal(st.errors, 0);
	/* a first block of the invalid type 3 right after the header */
	z[10] = 0xff;
	assert_int_equal(decode(NULL, z, zl, &g, &st), 0);
	assert_int_equal(st.errors, 1);
	got_free(&g);
	free(m);
	free(z);
}

/* A JSON document encoded whole: the value comes out intact at each of the 3 alignments. */
static void test_base64(void **state)
{
	int k, url;

	(void)state;
	for (url = 0; url < 2; url++) {
		for (k = 0; k < 3; k++) {
			char doc[128], msg[512];
			struct got g = {0};
			char *e;

			/* 32 one bits: '/' or '_' at any alignment, so the alphabets differ */
			snprintf(doc, sizeof(doc),
				 "{\"n\":\"%.*s张三\xff\xff\xff\xff\",\"email\":\"" EMAIL "\"}", k,
				 "xx");
			e = b64(doc, strlen(doc), url);
			assert_true(strchr(e, url ? '_' : '/') != NULL);
			snprintf(msg, sizeof(msg),
				 "GET /t?d=%s HTTP/1.1\r\nHost: t.example\r\n\r\n", e);
			assert_int_equal(decode_str(msg, &g, NULL), 1);
			assert_layer_str(&g, CS_ENC_BASE64, doc);
			free(e);
			got_free(&g);
		}
	}
	/* the value alone, two runs in one message: one layer, runs apart */
	{
		struct got g = {0};
		char *e = b64(EMAIL, strlen(EMAIL), 1), msg[256];

		snprintf(msg, sizeof(msg), "u=%s&p=%s", e, "MTM4MDAxMzgwMDA=");
		assert_int_equal(decode_str(msg, &g, NULL), 1);
		assert_layer_str(&g, CS_ENC_BASE64, EMAIL "\n13800138000");
		free(e);
		got_free(&g);
	}
}

/* MIME: base64 wrapped at 76 columns (CRLF or LF), a boundary line right after it. */
static void test_base64_mime(void **state)
{
	int full;

	(void)state;
	for (full = 0; full < 2; full++) {
		char doc[400], msg[1024], *e;
		struct got g = {0};
		size_t i, o, len;

		o = snprintf(doc, sizeof(doc), "{\"list\":[");
		for (i = 0; i < 12; i++)
			o += snprintf(doc + o, sizeof(doc) - o, "\"u%zu@example.com\",", i);
		o += snprintf(doc + o, sizeof(doc) - o, "\"" EMAIL "\"]}");
		if (full) { /* 5 full lines, the boundary line must not join the last one */
			assert_true(o <= 5 * 57);
			memset(doc + o, ' ', 5 * 57 - o);
			o = 5 * 57;
			doc[o] = '\0';
		}
		e = b64(doc, o, 0);
		len = strlen(e);
		assert_true(len > 3 * 76);
		o = snprintf(msg, sizeof(msg), "part:\r\n");
		for (i = 0; i < len; i += 76)
			o += snprintf(msg + o, sizeof(msg) - o, "%.*s%s",
				      (int)(len - i < 76 ? len - i : 76), e + i,
				      full ? "\n" : "\r\n");
		o += snprintf(msg + o, sizeof(msg) - o, "--end--\r\n");
		assert_int_equal(decode_str(msg, &g, NULL), 1);
		assert_layer_str(&g, CS_ENC_BASE64, doc);
		free(e);
		got_free(&g);
	}
}

/* base64 in a query string, its + / = percent-encoded */
static void test_pct_base64(void **state)
{
	static const char doc[] = "{\"e\":\"" EMAIL "\",\"n\":\"张三?>\"}";
	char msg[512], *e, *p;
	struct got g = {0};
	size_t o;

	(void)state;
	e = b64(doc, strlen(doc), 0);
	o = snprintf(msg, sizeof(msg), "GET /p?d=");
	for (p = e; *p; p++)
		o += *p == '+'	 ? snprintf(msg + o, 4, "%%2B")
		     : *p == '/' ? snprintf(msg + o, 4, "%%2f")
		     : *p == '=' ? snprintf(msg + o, 4, "%%3D")
				 : snprintf(msg + o, 2, "%c", *p);
	snprintf(msg + o, sizeof(msg) - o, " HTTP/1.1\r\n\r\n");
	assert_true(strstr(msg, "%2B") || strstr(msg, "%2f"));
	assert_true(decode_str(msg, &g, NULL) >= 2);
	assert_layer_str(&g, CS_ENC_URL | CS_ENC_BASE64, doc);
	free(e);
	got_free(&g);
}

/* gzip(base64(JSON with \u0040)) gives the plain email with all three bits. */
static void test_nested(void **state)
{
	/* no 12-character run in it, so no second base64 layer */
	static const char doc[] = "{\"email\":\"zhang.wei\\u0040mail.cn\"}";
	struct dec_stats st = {0};
	struct got g = {0};
	char *e = b64(doc, strlen(doc), 0);
	size_t zl, n;
	__u8 *z = compress_buf(e, strlen(e), 31, &zl);
	__u8 *m = http_msg(
	    "POST /n HTTP/1.1\r\nContent-Encoding: gzip\r\nContent-Length: %zu\r\n\r\n", z, zl, &n);

	(void)state;
	decode(NULL, m, n, &g, &st);
	assert_layer_str(&g, CS_ENC_GZIP, e);
	assert_layer_str(&g, CS_ENC_GZIP | CS_ENC_BASE64, doc);
	assert_layer_str(&g, CS_ENC_GZIP | CS_ENC_BASE64 | CS_ENC_JSON_ESCAPE,
			 "{\"email\":\"zhang.wei@mail.cn\"}");
	free(e);
	free(m);
	free(z);
	got_free(&g);
}

static void test_json_escape(void **state)
{
	struct got g = {0};

	(void)state;
	assert_int_equal(
	    decode_str("{\"name\":\"\\u5f20\\u4e09\",\"e\":\"zhang.wei\\u0040mail.cn\","
		       "\"s\":\"\\ud83d\\ude00\",\"u\":\"https:\\/\\/x.example\\/a\",\"q\":\"a\\\"b"
		       "\\\\n\\n\\t\",\"bad\":\"\\u12G4\\ud800x\"}",
		       &g, NULL),
	    1);
	assert_layer_str(&g, CS_ENC_JSON_ESCAPE,
			 "{\"name\":\"\xe5\xbc\xa0\xe4\xb8\x89\",\"e\":\"zhang.wei@mail.cn\","
			 "\"s\":\"\xf0\x9f\x98\x80\",\"u\":\"https://x.example/a\",\"q\":\"a\"b"
			 "\\n\n\t\",\"bad\":\"\\u12G4\xef\xbf\xbdx\"}");
	got_free(&g);
	/* escaped twice: the layer is decoded again */
	assert_int_equal(decode_str("{\"e\":\"a\\\\u0040b\"}", &g, NULL), 2);
	assert_at(&g, 0, CS_ENC_JSON_ESCAPE, "{\"e\":\"a\\u0040b\"}");
	assert_at(&g, 1, CS_ENC_JSON_ESCAPE, "{\"e\":\"a@b\"}");
	got_free(&g);
	/* only \" and \n: no layer */
	assert_int_equal(decode_str("{\"q\":\"say \\\"hi\\\"\\n\"}", &g, NULL), 0);
}

static void test_html(void **state)
{
	struct got g = {0};

	(void)state;
	assert_int_equal(decode_str("<a href=\"mailto:zhang.wei&#64;example.com\">zhang.wei&#x40;"
				    "example&period;com</a> li&commat;x.cn &amp; &lt;&#26446;&#1",
				    &g, NULL),
			 1);
	assert_layer_str(&g, CS_ENC_HTML_ENTITY,
			 "<a href=\"mailto:" EMAIL "\">" EMAIL "</a> li@x.cn & <\xe6\x9d\x8e\x01");
	got_free(&g);
	/* named entities alone are left to the scanner */
	assert_int_equal(decode_str("a &amp; b &lt; c &#xZZ; &#;", &g, NULL), 0);
}

static void test_percent(void **state)
{
	struct got g = {0};

	(void)state;
	assert_int_equal(decode_str("q=zhang%2Ewei%40example%2ecom+x%4&y=%zz%", &g, NULL), 1);
	assert_layer_str(&g, CS_ENC_URL, "q=zhang.wei@example.com+x%4&y=%zz%");
	got_free(&g);
	/* %40 alone: the kernel reads it itself */
	assert_int_equal(decode_str("e=zhang.wei%40example.com", &g, NULL), 0);
}

static void test_nothing(void **state)
{
	static const char msg[] =
	    "POST /v1/users HTTP/1.1\r\nHost: api.example\r\nAccept: */*\r\n\r\n"
	    "{\"phone\":\"13800138000\",\"email\":\"" EMAIL "\",\"note\":\"50% off & more\\n\"}";
	struct dec_stats st = {0};
	struct got g = {0};

	(void)state;
	assert_int_equal(decode_str(msg, &g, &st), 0);
	assert_int_equal(g.n, 0);
	assert_int_equal(st.messages, 1);
	assert_int_equal(st.layers, 0);
	assert_int_equal(st.bytes_out, 0);
	assert_int_equal(st.bytes_cut, 0);
	assert_int_equal(st.errors, 0);
}

static void test_depth(void **state)
{
	char *e1 = b64(EMAIL, strlen(EMAIL), 0);
	char *e2 = b64(e1, strlen(e1), 0);
	char *e3 = b64(e2, strlen(e2), 0);
	struct dec_limits lim = {1024 * 1024, 2};
	struct got g = {0};

	(void)state;
	assert_int_equal(dec_message(NULL, (__u8 *)e3, strlen(e3), &lim, on_layer, &g, NULL), 2);
	assert_int_equal(g.len[1], strlen(e1));
	assert_memory_equal(g.buf[1], e1, strlen(e1));
	got_free(&g);
	lim.max_depth = 3;
	assert_int_equal(dec_message(NULL, (__u8 *)e3, strlen(e3), &lim, on_layer, &g, NULL), 3);
	assert_int_equal(g.len[2], strlen(EMAIL));
	assert_memory_equal(g.buf[2], EMAIL, strlen(EMAIL));
	assert_int_equal(g.enc[2], CS_ENC_BASE64);
	got_free(&g);
	lim.max_depth = 0;
	assert_int_equal(dec_message(NULL, (__u8 *)e3, strlen(e3), &lim, on_layer, &g, NULL), 0);
	free(e1);
	free(e2);
	free(e3);
}

/* UTF-8 text as UTF-16 (BMP only) into out, big or little endian; returns the bytes. */
static size_t to_utf16(const char *s, int be, __u8 *out)
{
	const __u8 *p = (const __u8 *)s;
	size_t o = 0;

	while (*p) {
		__u32 u;

		if (*p < 0x80) {
			u = *p++;
		} else if ((*p & 0xe0) == 0xc0) {
			u = (p[0] & 0x1f) << 6 | (p[1] & 0x3f);
			p += 2;
		} else {
			u = (p[0] & 0x0f) << 12 | (p[1] & 0x3f) << 6 | (p[2] & 0x3f);
			p += 3;
		}
		out[o++] = be ? u >> 8 : u & 0xff;
		out[o++] = be ? u & 0xff : u >> 8;
	}
	return o;
}

static void test_utf16(void **state)
{
	__u8 buf[512];
	struct got g = {0};
	size_t n;

	(void)state;
	/* a little-endian CSV line with a BOM, a Chinese name before the phone */
	buf[0] = 0xff;
	buf[1] = 0xfe;
	n = 2 + to_utf16("id,name,mobile\r\n7,李娜,13800138000\r\n", 0, buf + 2);
	assert_int_equal(decode(NULL, buf, n, &g, NULL), 1);
	assert_layer_str(&g, CS_ENC_UTF16, "id,name,mobile\r\n7,李娜,13800138000\r\n");
	got_free(&g);
	/* big endian, at an odd offset of binary framing, next to a second string */
	buf[0] = 0x01;
	n = 1 + to_utf16("email=" EMAIL, 1, buf + 1);
	buf[n++] = 0;
	buf[n++] = 0;
	buf[n++] = 0x9c;
	n += to_utf16("note", 1, buf + n);
	assert_int_equal(decode(NULL, buf, n, &g, NULL), 1);
	assert_layer_str(&g, CS_ENC_UTF16, "email=" EMAIL "\nnote");
	got_free(&g);
	/* a phone inside Chinese text, little endian */
	n = to_utf16("请联系手机13800138000谢谢", 0, buf);
	assert_int_equal(decode(NULL, buf, n, &g, NULL), 1);
	assert_layer_str(&g, CS_ENC_UTF16, "请联系手机13800138000谢谢");
	got_free(&g);
	/* zeros that are not text: little-endian integers, three ASCII units at most */
	memcpy(buf, "\x41\x00\x42\x00\x43\x00\x00\x00\x07\x00\x00\x00", 12);
	assert_int_equal(decode(NULL, buf, 12, &g, NULL), 0);
}

static void test_fullwidth(void **state)
{
	struct got g = {0};

	(void)state;
	/* full-width digits of a phone inside Chinese text, a full-width e-mail */
	assert_int_equal(
	    decode_str(
		"电话：１３８００１３８０００，邮箱ｚｈａｎｇ．ｗｅｉ＠ｅｘａｍｐｌｅ．ｃｏｍ", &g,
		NULL),
	    1);
	assert_layer_str(&g, CS_ENC_FULLWIDTH, "电话:13800138000,邮箱zhang.wei@example.com");
	got_free(&g);
	/* full-width punctuation alone is left as it is */
	assert_int_equal(decode_str("你好，世界！（测试）", &g, NULL), 0);
	got_free(&g);
	/* full-width digits in UTF-16: both layers, nested */
	{
		__u8 buf[256];
		size_t n = to_utf16("手机１３８００１３８０００", 0, buf);

		assert_int_equal(decode(NULL, buf, n, &g, NULL), 2);
		assert_layer_str(&g, CS_ENC_UTF16 | CS_ENC_FULLWIDTH, "手机13800138000");
		got_free(&g);
		n = to_utf16("tel: １３８００１３８０００", 0, buf);
		assert_int_equal(decode(NULL, buf, n, &g, NULL), 2);
		assert_layer_str(&g, CS_ENC_UTF16 | CS_ENC_FULLWIDTH, "tel: 13800138000");
	}
	got_free(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_http_gzip),	 cmocka_unit_test(test_http_deflate),
	    cmocka_unit_test(test_chunked_gzip), cmocka_unit_test(test_split_flow),
	    cmocka_unit_test(test_gzip_magic),	 cmocka_unit_test(test_zip_bomb),
	    cmocka_unit_test(test_corrupt),	 cmocka_unit_test(test_base64),
	    cmocka_unit_test(test_base64_mime),	 cmocka_unit_test(test_pct_base64),
	    cmocka_unit_test(test_nested),	 cmocka_unit_test(test_json_escape),
	    cmocka_unit_test(test_html),	 cmocka_unit_test(test_percent),
	    cmocka_unit_test(test_nothing),	 cmocka_unit_test(test_depth),
	    cmocka_unit_test(test_utf16),	 cmocka_unit_test(test_fullwidth),
	    cmocka_unit_test(test_split_value),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
