// SPDX-License-Identifier: GPL-2.0-only
/*
 * HTTP/2 frames and header blocks (user/http/h2.c): real header blocks made by nghttp2's HPACK
 * deflater (Huffman strings, dynamic table entries reused across requests, a table size
 * update), fed cut at every byte boundary; CONTINUATION, padding, priority fields, corrupt
 * blocks and framing errors.
 */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <nghttp2/nghttp2.h>

#include "http/h2.h"
#include "testlib.h"

#define PHONE "13712340001"
#define EMAIL "zhang.wei@example.com"

/* What the callbacks saw, as text: "S:name=value\n" per field, "S:end\n" per block, etc. */
struct rec {
	char text[16384];
	size_t len;
	__u8 data[4][70000]; /* DATA of streams 1, 3, 5, 7 */
	size_t dlen[4];
};

static void rec_put(struct rec *r, const char *s, size_t n)
{
	assert_true(r->len + n < sizeof(r->text));
	memcpy(r->text + r->len, s, n);
	r->len += n;
	r->text[r->len] = 0;
}

static void on_header(void *ctx, __u32 stream, const __u8 *name, size_t nlen, const __u8 *value,
		      size_t vlen)
{
	struct rec *r = ctx;
	char b[32];

	snprintf(b, sizeof(b), "%u:", stream);
	rec_put(r, b, strlen(b));
	rec_put(r, (const char *)name, nlen);
	rec_put(r, "=", 1);
	rec_put(r, (const char *)value, vlen);
	rec_put(r, "\n", 1);
}

static void on_headers_end(void *ctx, __u32 stream, int end_stream)
{
	char b[32];

	snprintf(b, sizeof(b), "%u:end%s\n", stream, end_stream ? " es" : "");
	rec_put(ctx, b, strlen(b));
}

static void on_data(void *ctx, __u32 stream, const __u8 *p, size_t n)
{
	struct rec *r = ctx;
	unsigned i = (stream - 1) / 2;

	assert_true(stream & 1);
	assert_true(i < 4);
	assert_true(r->dlen[i] + n <= sizeof(r->data[i]));
	memcpy(r->data[i] + r->dlen[i], p, n);
	r->dlen[i] += n;
}

static void on_stream_end(void *ctx, __u32 stream, int reset)
{
	char b[32];

	snprintf(b, sizeof(b), "%u:%s\n", stream, reset ? "reset" : "closed");
	rec_put(ctx, b, strlen(b));
}

static const struct h2_ops ops = {on_header, on_headers_end, on_data, on_stream_end};

/* A client's byte stream under construction. */

static void preface(struct h2wire *w)
{
	/* the client's SETTINGS (SETTINGS_HEADER_TABLE_SIZE 0 for the server's encoder: it
	 * must not change how the client's own blocks decode), then a window update */
	static const __u8 settings[] = {0, 1, 0, 0, 0, 0, 0, 3, 0, 0, 0, 100};
	static const __u8 wu[] = {0, 0x3f, 0, 1};

	h2wire_put(w, H2_PREFACE, H2_PREFACE_LEN);
	h2wire_frame(w, 4, 0, 0, settings, sizeof(settings));
	h2wire_frame(w, 8, 0, 0, wu, sizeof(wu));
}

#define NV(n, v)                                                                                   \
	{                                                                                          \
		(uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, sizeof(v) - 1, NGHTTP2_NV_FLAG_NONE \
	}

static size_t deflate(nghttp2_hd_deflater *d, const nghttp2_nv *nv, size_t n, __u8 *out, size_t cap)
{
	ssize_t r = nghttp2_hd_deflate_hd(d, out, cap, nv, n);

	assert_true(r > 0);
	return (size_t)r;
}

static const nghttp2_nv req1[] = {
    NV(":method", "POST"),
    NV(":scheme", "http"),
    NV(":authority", "api.tracker.example"),
    NV(":path", "/users/" PHONE "/profile?email=" EMAIL),
    NV("x-user-phone", PHONE),
    NV("content-type", "application/json"),
};
static const nghttp2_nv req2[] = {
    NV(":method", "GET"),    NV(":scheme", "http"),	NV(":authority", "api.tracker.example"),
    NV(":path", "/v1/next"), NV("x-user-phone", PHONE),
};

/* The text the recorder makes of a block of n fields on stream, appended to out. */
static void want_block(char *out, size_t cap, __u32 stream, const nghttp2_nv *nv, size_t n,
		       const char *tail)
{
	size_t l = strlen(out);

	for (size_t i = 0; i < n; i++)
		l += snprintf(out + l, cap - l, "%u:%.*s=%.*s\n", stream, (int)nv[i].namelen,
			      nv[i].name, (int)nv[i].valuelen, nv[i].value);
	snprintf(out + l, cap - l, "%s", tail);
}

static const char body[] = "{\"phone\":\"" PHONE "\",\"n\":1}";

/*
 * Preface, SETTINGS, a POST with a body in two DATA frames (the second padded), a GET that
 * reuses the dynamic table, and a third block after a table size update.
 */
static void build(struct h2wire *w, char *want, size_t wcap, size_t *blk2)
{
	nghttp2_hd_deflater *d;
	__u8 blk[4096], padded[64];
	size_t n, half = 9;

	assert_int_equal(nghttp2_hd_deflate_new(&d, 4096), 0);
	preface(w);
	n = deflate(d, req1, 6, blk, sizeof(blk));
	/* Huffman coding: the phone and the email are not in the block as they are */
	assert_null(memmem(blk, n, PHONE, strlen(PHONE)));
	assert_null(memmem(blk, n, EMAIL, strlen(EMAIL)));
	h2wire_frame(w, 1, 0x04, 1, blk, n);
	h2wire_frame(w, 0, 0, 1, body, half);
	padded[0] = 5;
	memcpy(padded + 1, body + half, sizeof(body) - 1 - half);
	memset(padded + sizeof(body) - half, 0, 5);
	h2wire_frame(w, 0, 0x08 | 0x01, 1, padded, 1 + sizeof(body) - 1 - half + 5);
	n = deflate(d, req2, 5, blk, sizeof(blk));
	/* indexed: the repeated fields are one-byte table references (only :path is new, 8
	 * bytes), far shorter than their text */
	assert_true(n <= 12);
	*blk2 = n;
	h2wire_frame(w, 1, 0x04 | 0x01, 3, blk, n);
	/* the encoder shrinks its table (a server lowered SETTINGS_HEADER_TABLE_SIZE): the next
	 * block starts with a dynamic table size update and the entries are evicted */
	assert_int_equal(nghttp2_hd_deflate_change_table_size(d, 0), 0);
	n = deflate(d, req2, 5, blk, sizeof(blk));
	assert_int_equal(blk[0] & 0xe0, 0x20); /* 001xxxxx: size update */
	h2wire_frame(w, 1, 0x04 | 0x01, 5, blk, n);
	nghttp2_hd_deflate_del(d);
	want[0] = 0;
	want_block(want, wcap, 1, req1, 6, "1:end\n1:closed\n");
	want_block(want, wcap, 3, req2, 5, "3:end es\n3:closed\n");
	want_block(want, wcap, 5, req2, 5, "5:end es\n5:closed\n");
}

static void check(const struct rec *r, const char *want)
{
	assert_string_equal(r->text, want);
	assert_int_equal(r->dlen[0], sizeof(body) - 1);
	assert_memory_equal(r->data[0], body, sizeof(body) - 1);
}

/* The whole stream in two pieces cut at every byte, then byte by byte. */
static void test_every_cut(void **state)
{
	static struct h2wire w;
	static struct rec r;
	char want[4096];
	size_t blk2;

	(void)state;
	w.n = 0;
	build(&w, want, sizeof(want), &blk2);
	for (size_t cut = 0; cut <= w.n; cut++) {
		struct h2_conn *c = h2_conn_new();

		assert_non_null(c);
		memset(&r, 0, sizeof(r));
		assert_int_equal(h2_conn_feed(c, w.b, cut, &ops, &r), 0);
		assert_int_equal(h2_conn_feed(c, w.b + cut, w.n - cut, &ops, &r), 0);
		check(&r, want);
		assert_int_equal(h2_conn_stats(c)->blocks, 3);
		assert_int_equal(h2_conn_stats(c)->data_bytes, sizeof(body) - 1);
		h2_conn_free(c);
	}
	{
		struct h2_conn *c = h2_conn_new();

		memset(&r, 0, sizeof(r));
		for (size_t i = 0; i < w.n; i++)
			assert_int_equal(h2_conn_feed(c, w.b + i, 1, &ops, &r), 0);
		check(&r, want);
		assert_int_equal(h2_conn_stats(c)->fields, 16);
		h2_conn_free(c);
	}
}

/* Three cuts: every pair of cut points 7 bytes apart, across the whole stream. */
static void test_three_pieces(void **state)
{
	static struct h2wire w;
	static struct rec r;
	char want[4096];
	size_t blk2;

	(void)state;
	w.n = 0;
	build(&w, want, sizeof(want), &blk2);
	for (size_t a = 0; a + 7 <= w.n; a++) {
		struct h2_conn *c = h2_conn_new();

		memset(&r, 0, sizeof(r));
		assert_int_equal(h2_conn_feed(c, w.b, a, &ops, &r), 0);
		assert_int_equal(h2_conn_feed(c, w.b + a, 7, &ops, &r), 0);
		assert_int_equal(h2_conn_feed(c, w.b + a + 7, w.n - a - 7, &ops, &r), 0);
		check(&r, want);
		h2_conn_free(c);
	}
}

/*
 * One block in HEADERS (padded, with priority fields) + two CONTINUATION frames; a PING and a
 * PRIORITY frame before it, an unknown frame type after it.
 */
static void test_continuation_padding(void **state)
{
	static struct h2wire w;
	static struct rec r;
	nghttp2_hd_deflater *d;
	__u8 blk[4096], f[4096], ping[8] = {0}, prio[5] = {0, 0, 0, 1, 16};
	size_t n, a, b;
	struct h2_conn *c;
	char want[2048];

	(void)state;
	w.n = 0;
	assert_int_equal(nghttp2_hd_deflate_new(&d, 4096), 0);
	n = deflate(d, req1, 6, blk, sizeof(blk));
	nghttp2_hd_deflate_del(d);
	preface(&w);
	h2wire_frame(&w, 6, 0, 0, ping, sizeof(ping));
	h2wire_frame(&w, 2, 0, 1, prio, sizeof(prio));
	a = n / 3;
	b = 2 * n / 3;
	/* pad length 10, exclusive bit + dependency 0 + weight, fragment, 10 zero bytes */
	f[0] = 10;
	memcpy(f + 1, prio, 5);
	memcpy(f + 6, blk, a);
	memset(f + 6 + a, 0, 10);
	h2wire_frame(&w, 1, 0x08 | 0x20 | 0x01, 1, f, 6 + a + 10);
	h2wire_frame(&w, 9, 0, 1, blk + a, b - a);
	h2wire_frame(&w, 9, 0x04, 1, blk + b, n - b);
	h2wire_frame(&w, 0xfa, 0, 0, "ignored", 7);
	want[0] = 0;
	want_block(want, sizeof(want), 1, req1, 6, "1:end es\n1:closed\n");
	for (size_t cut = 0; cut <= w.n; cut++) {
		c = h2_conn_new();
		memset(&r, 0, sizeof(r));
		assert_int_equal(h2_conn_feed(c, w.b, cut, &ops, &r), 0);
		/* fields may be out before the block ends, but the block stays open until then */
		assert_int_equal(h2_conn_feed(c, w.b + cut, w.n - cut, &ops, &r), 0);
		assert_string_equal(r.text, want);
		assert_int_equal(h2_conn_open_block(c), 0);
		h2_conn_free(c);
	}
}

static int feed_all(struct h2wire *w, struct rec *r)
{
	struct h2_conn *c = h2_conn_new();
	int err, again;

	memset(r, 0, sizeof(*r));
	err = h2_conn_feed(c, w->b, w->n, &ops, r);
	/* a failed connection stays failed and decodes nothing more */
	again = h2_conn_feed(c, (const __u8 *)H2_PREFACE, H2_PREFACE_LEN, &ops, r);
	assert_int_equal(again, err);
	assert_int_equal(h2_conn_error(c), err);
	h2_conn_free(c);
	return err;
}

/*
 * Empty header blocks, in a HEADERS frame and as an empty CONTINUATION: no field, the block ends
 * (found by tests/fuzz/fuzz_h2: the end of every block did arithmetic on a NULL pointer, which
 * clang's UBSan reports).
 */
static void test_empty_block(void **state)
{
	static struct h2wire w;
	static struct rec r;
	static const __u8 lit[] = {0x00, 0x01, 'a', 0x01, 'b'};

	(void)state;
	w.n = 0;
	preface(&w);
	h2wire_frame(&w, 1, 4 | 1, 1, lit, 0);
	h2wire_frame(&w, 1, 0, 3, lit, sizeof(lit));
	h2wire_frame(&w, 9, 4, 3, lit, 0);
	assert_int_equal(feed_all(&w, &r), 0);
	assert_string_equal(r.text, "1:end es\n1:closed\n3:a=b\n3:end\n");
}

/* A corrupt block: the connection fails, and nothing after it is decoded. */
static void test_corrupt_block(void **state)
{
	static struct h2wire w;
	static struct rec r;
	nghttp2_hd_deflater *d;
	__u8 blk[4096];
	size_t n;

	(void)state;
	assert_int_equal(nghttp2_hd_deflate_new(&d, 4096), 0);
	n = deflate(d, req1, 6, blk, sizeof(blk));
	nghttp2_hd_deflate_del(d);

	/* an index far past the static and dynamic tables */
	w.n = 0;
	preface(&w);
	h2wire_frame(&w, 1, 0x05, 1, "\xff\xff\x7f", 3);
	h2wire_frame(&w, 1, 0x05, 3, blk, n);
	assert_int_equal(feed_all(&w, &r), -EBADMSG);
	assert_null(strstr(r.text, "3:"));

	/* a block cut short: END_HEADERS inside a string literal */
	w.n = 0;
	preface(&w);
	h2wire_frame(&w, 1, 0x05, 1, blk, n - 3);
	assert_int_equal(feed_all(&w, &r), -EBADMSG);
	assert_null(strstr(r.text, "1:end"));

	/* a size update beyond what the inflater allows */
	w.n = 0;
	preface(&w);
	/* 001 11111 + 2^21: 0x3f 0xe1 0xff 0x7f */
	h2wire_frame(&w, 1, 0x05, 1, "\x3f\xe1\xff\x7f", 4);
	assert_int_equal(feed_all(&w, &r), -EBADMSG);
}

/* Framing errors: each fails the connection with -EPROTO. */
static void test_framing_errors(void **state)
{
	static struct h2wire w;
	static struct rec r;
	static const __u8 four[4], eight[8];

	(void)state;
	/* not the preface */
	w.n = 0;
	h2wire_put(&w, "PRI * HTTP/1.1\r\n\r\nSM\r\n\r\n", 24);
	assert_int_equal(feed_all(&w, &r), -EPROTO);
	/* CONTINUATION with no block open */
	w.n = 0;
	preface(&w);
	h2wire_frame(&w, 9, 0x04, 1, "\x82", 1);
	assert_int_equal(feed_all(&w, &r), -EPROTO);
	/* another frame while a block waits for its CONTINUATION */
	w.n = 0;
	preface(&w);
	h2wire_frame(&w, 1, 0, 1, "\x82", 1);
	h2wire_frame(&w, 0, 0, 1, "x", 1);
	assert_int_equal(feed_all(&w, &r), -EPROTO);
	/* CONTINUATION of another stream */
	w.n = 0;
	preface(&w);
	h2wire_frame(&w, 1, 0, 1, "\x82", 1);
	h2wire_frame(&w, 9, 0x04, 3, "\x84", 1);
	assert_int_equal(feed_all(&w, &r), -EPROTO);
	/* DATA and HEADERS on stream 0 */
	w.n = 0;
	preface(&w);
	h2wire_frame(&w, 0, 0, 0, "x", 1);
	assert_int_equal(feed_all(&w, &r), -EPROTO);
	w.n = 0;
	preface(&w);
	h2wire_frame(&w, 1, 0x04, 0, "\x82", 1);
	assert_int_equal(feed_all(&w, &r), -EPROTO);
	/* padding longer than the payload */
	w.n = 0;
	preface(&w);
	h2wire_frame(&w, 0, 0x08, 1, "\x05xx", 3);
	assert_int_equal(feed_all(&w, &r), -EPROTO);
	assert_int_equal(r.dlen[0], 0);
	/* control frames of the wrong size or stream; PUSH_PROMISE from a client */
	w.n = 0;
	preface(&w);
	h2wire_frame(&w, 4, 0, 0, four, 4);
	assert_int_equal(feed_all(&w, &r), -EPROTO);
	w.n = 0;
	preface(&w);
	h2wire_frame(&w, 6, 0, 1, eight, 8);
	assert_int_equal(feed_all(&w, &r), -EPROTO);
	w.n = 0;
	preface(&w);
	h2wire_frame(&w, 3, 0, 0, four, 4);
	assert_int_equal(feed_all(&w, &r), -EPROTO);
	w.n = 0;
	preface(&w);
	h2wire_frame(&w, 5, 0x04, 1, eight, 8);
	assert_int_equal(feed_all(&w, &r), -EPROTO);
}

/* RST_STREAM ends a stream; DATA of several streams interleaved stays apart. */
static void test_streams(void **state)
{
	static struct h2wire w;
	static struct rec r;
	static const __u8 cancel[4] = {0, 0, 0, 8};
	static __u8 big[65536];
	struct h2_conn *c = h2_conn_new();

	(void)state;
	w.n = 0;
	preface(&w);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = 'a' + i % 26;
	h2wire_frame(&w, 0, 0, 1, big, 16384);
	h2wire_frame(&w, 0, 0, 3, "three", 5);
	h2wire_frame(&w, 0, 0, 1, big + 16384, 49152);
	h2wire_frame(&w, 3, 0, 3, cancel, 4);
	h2wire_frame(&w, 0, 0x01, 1, "", 0);
	memset(&r, 0, sizeof(r));
	assert_int_equal(h2_conn_feed(c, w.b, w.n, &ops, &r), 0);
	assert_string_equal(r.text, "3:reset\n1:closed\n");
	assert_int_equal(r.dlen[0], sizeof(big));
	assert_memory_equal(r.data[0], big, sizeof(big));
	assert_int_equal(r.dlen[1], 5);
	assert_int_equal(h2_conn_stats(c)->frames, 2 + 5);
	h2_conn_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_cut),
	    cmocka_unit_test(test_three_pieces),
	    cmocka_unit_test(test_continuation_padding),
	    cmocka_unit_test(test_empty_block),
	    cmocka_unit_test(test_corrupt_block),
	    cmocka_unit_test(test_framing_errors),
	    cmocka_unit_test(test_streams),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
