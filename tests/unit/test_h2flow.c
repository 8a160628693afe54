// SPDX-License-Identifier: GPL-2.0-only
/*
 * HTTP/2 flows in the collector (user/http/h2flow.c): registered values in Huffman-coded and
 * indexed header fields, in DATA cut across frames and sends, in gzip'd DATA; the request of each
 * send for message.http; desyncs by gap, by a corrupt block and for a flow met mid-way.
 */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <cmocka.h>
#include <nghttp2/nghttp2.h>

#include "lib/encodings.h"
#include "enroll/enroll.h"
#include "lib/fields.h"
#include "fpdb/fpfile.h"
#include "http/h2.h"
#include "http/h2flow.h"
#include "testlib.h"

#define PHONE "13712340001"
#define EMAIL "zhang.wei@example.com"

static const struct cs_key key = {0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL,
				  0x1716151413121110ULL, 0x1f1e1d1c1b1a1918ULL, 0};
static struct fpdb db;
static __u64 fp_phone, fp_email;

static __u64 fp_of(int field, const char *v)
{
	return test_fp_of(&key, field, v, 0);
}

static int setup(void **state)
{
	(void)state;
	db.entries = calloc(2, sizeof(*db.entries));
	db.subjects = calloc(1, sizeof(char *));
	/* fpdb_release frees strings, which subjects[] point into */
	db.strings = strdup("s1");
	db.subjects[0] = db.strings;
	db.nsubjects = 1;
	db.min_len = 1;
	db.max_len = 64;
	fp_phone = fp_of(CS_F_PHONE, PHONE);
	fp_email = fp_of(CS_F_EMAIL, EMAIL);
	db.entries[0] = (struct fp_entry){.fp = fp_phone, .field = CS_F_PHONE, .nparts = 1};
	db.entries[1] = (struct fp_entry){.fp = fp_email, .field = CS_F_EMAIL, .nparts = 1};
	db.nentries = fp_entries_sort(db.entries, 2);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fpdb_release(&db);
	return 0;
}

struct toks {
	unsigned n;
	__u64 fp[32];
	unsigned enc[32];
};

static void on_tok(const struct scan_token *t, unsigned enc, void *ctx)
{
	struct toks *k = ctx;

	assert_true(k->n < 32);
	k->fp[k->n] = t->fp;
	k->enc[k->n++] = enc;
}

/* enc of the tokens with fp (an all-digit value comes as a D and a W token), at least one */
static unsigned tok_enc(const struct toks *k, __u64 fp)
{
	unsigned enc = 0, n = 0;

	for (unsigned i = 0; i < k->n; i++)
		if (k->fp[i] == fp) {
			assert_true(!n || k->enc[i] == enc);
			enc = k->enc[i];
			n++;
		}
	assert_true(n > 0);
	return enc;
}

/* distinct fingerprints */
static unsigned distinct(const struct toks *k)
{
	unsigned n = 0;

	for (unsigned i = 0; i < k->n; i++) {
		unsigned j = 0;

		while (j < i && k->fp[j] != k->fp[i])
			j++;
		n += j == i;
	}
	return n;
}

#define NV(n, v)                                                                                   \
	{                                                                                          \
		(uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, sizeof(v) - 1, NGHTTP2_NV_FLAG_NONE \
	}

static void headers(struct h2wire *w, nghttp2_hd_deflater *d, __u32 stream, const nghttp2_nv *nv,
		    size_t n, int end_stream)
{
	__u8 blk[2048];
	ssize_t r = nghttp2_hd_deflate_hd(d, blk, sizeof(blk), nv, n);

	assert_true(r > 0);
	h2wire_frame(w, 1, 0x04 | (end_stream ? 1 : 0), stream, blk, (size_t)r);
}

static const nghttp2_nv req1[] = {
    NV(":method", "POST"),
    NV(":scheme", "https"),
    NV(":authority", "api.tracker.example:8443"),
    NV(":path", "/users/" PHONE "/profile"),
    NV("x-contact", EMAIL),
};
static const nghttp2_nv req2[] = {
    NV(":method", "GET"), NV(":scheme", "https"), NV(":authority", "api.tracker.example:8443"),
    NV(":path", "/next"), NV("x-contact", EMAIL),
};

static int send(struct h2flows *t, __u64 off, const struct h2wire *w, struct toks *k,
		struct h2_send *out)
{
	memset(k, 0, sizeof(*k));
	return h2flows_send(t, 7, off, w->b, w->n, w->n, on_tok, k, out);
}

/* Headers Huffman-coded and indexed, DATA cut across frames and sends, requests per send. */
static void test_flow(void **state)
{
	static struct h2wire w;
	struct h2flows *t = h2flows_new(&key, &db, NULL);
	nghttp2_hd_deflater *d;
	struct h2_send out;
	struct toks k;
	__u64 off = 0;

	(void)state;
	assert_non_null(t);
	assert_int_equal(nghttp2_hd_deflate_new(&d, 4096), 0);
	/* send 1: preface, SETTINGS, the POST's headers and the first part of its body */
	w.n = 0;
	h2wire_put(&w, H2_PREFACE, H2_PREFACE_LEN);
	h2wire_frame(&w, 4, 0, 0, "", 0);
	headers(&w, d, 1, req1, 5, 0);
	assert_null(memmem(w.b, w.n, PHONE, strlen(PHONE)));
	assert_null(memmem(w.b, w.n, EMAIL, strlen(EMAIL)));
	h2wire_frame(&w, 0, 0, 1, "{\"phone\":\"1371", 14);
	assert_int_equal(send(t, off, &w, &k, &out), 0);
	off += w.n;
	assert_int_equal(distinct(&k), 2);
	assert_int_equal(tok_enc(&k, fp_phone), CS_ENC_HPACK);
	assert_int_equal(tok_enc(&k, fp_email), CS_ENC_HPACK);
	assert_true(out.has_req);
	assert_string_equal(out.req.version, "2");
	assert_string_equal(out.req.method, "POST");
	assert_string_equal(out.req.path, "/users/{phone}/profile");
	assert_string_equal(out.authority, "api.tracker.example:8443");

	/* send 2: the rest of the body in two frames; the phone is whole only joined */
	w.n = 0;
	h2wire_frame(&w, 0, 0, 1, "2340", 4);
	h2wire_frame(&w, 0, 0x01, 1, "001\"}", 5);
	assert_int_equal(send(t, off, &w, &k, &out), 0);
	off += w.n;
	assert_int_equal(distinct(&k), 1);
	assert_int_equal(tok_enc(&k, fp_phone), 0);
	/* the DATA's request */
	assert_true(out.has_req);
	assert_string_equal(out.req.method, "POST");
	assert_string_equal(out.authority, "api.tracker.example:8443");

	/* send 3: a GET whose x-contact is a dynamic table reference: no byte of the email */
	w.n = 0;
	headers(&w, d, 3, req2, 5, 1);
	assert_true(w.n < 9 + 12);
	assert_int_equal(send(t, off, &w, &k, &out), 0);
	off += w.n;
	assert_int_equal(distinct(&k), 1);
	assert_int_equal(tok_enc(&k, fp_email), CS_ENC_HPACK);
	assert_string_equal(out.req.method, "GET");
	assert_string_equal(out.req.path, "/next");

	/* a send that was not handed over: the next one is a gap */
	w.n = 0;
	headers(&w, d, 5, req2, 5, 1);
	off += w.n; /* lost */
	w.n = 0;
	headers(&w, d, 7, req2, 5, 1);
	assert_int_equal(send(t, off + 1, &w, &k, &out), 1);
	assert_int_equal(k.n, 0);
	assert_false(out.has_req);
	assert_int_equal(h2flows_stats(t)->desync_gap, 1);
	/* desynced until the next preface, which starts over with a fresh table */
	assert_int_equal(send(t, off + 1 + w.n, &w, &k, &out), 1);
	nghttp2_hd_deflate_del(d);
	assert_int_equal(nghttp2_hd_deflate_new(&d, 4096), 0);
	w.n = 0;
	h2wire_put(&w, H2_PREFACE, H2_PREFACE_LEN);
	headers(&w, d, 1, req2, 5, 1);
	assert_int_equal(send(t, 0, &w, &k, &out), 0);
	assert_int_equal(tok_enc(&k, fp_email), CS_ENC_HPACK);

	assert_int_equal(h2flows_stats(t)->flows, 2);
	assert_int_equal(h2flows_stats(t)->blocks, 3);
	assert_int_equal(h2flows_stats(t)->desync_gap, 1);
	nghttp2_hd_deflate_del(d);
	h2flows_free(t);
}

/* A gzip'd body (content-encoding gzip) and a send handed over in part. */
static void test_gzip_and_cut(void **state)
{
	static struct h2wire w;
	static const nghttp2_nv req[] = {
	    NV(":method", "POST"),	    NV(":scheme", "http"),
	    NV(":authority", "a.example"),  NV(":path", "/up"),
	    NV("content-encoding", "gzip"), NV("content-type", "application/grpc"),
	};
	static const char body[] = "{\"mail\":\"" EMAIL "\",\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxx\"}";
	struct h2flows *t = h2flows_new(&key, &db, NULL);
	nghttp2_hd_deflater *d;
	struct h2_send out;
	struct toks k;
	__u8 gz[256];
	z_stream zs = {0};

	(void)state;
	assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
			 Z_OK);
	zs.next_in = (Bytef *)body;
	zs.avail_in = sizeof(body) - 1;
	zs.next_out = gz;
	zs.avail_out = sizeof(gz);
	assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
	deflateEnd(&zs);
	assert_int_equal(nghttp2_hd_deflate_new(&d, 4096), 0);
	w.n = 0;
	h2wire_put(&w, H2_PREFACE, H2_PREFACE_LEN);
	headers(&w, d, 1, req, 6, 0);
	/* the compressed body in two frames */
	h2wire_frame(&w, 0, 0, 1, gz, 20);
	h2wire_frame(&w, 0, 0x01, 1, gz + 20, zs.total_out - 20);
	assert_int_equal(send(t, 0, &w, &k, &out), 0);
	assert_int_equal(distinct(&k), 1);
	assert_int_equal(tok_enc(&k, fp_email), CS_ENC_GZIP);

	/* a send of which only the first bytes were handed over (ring buffer full) */
	{
		size_t n = w.n;

		w.n = 0;
		headers(&w, d, 3, req, 6, 1);
		memset(&k, 0, sizeof(k));
		assert_int_equal(h2flows_send(t, 7, n, w.b, 5, w.n, on_tok, &k, &out), 1);
		assert_int_equal(h2flows_stats(t)->desync_gap, 1);
		assert_int_equal(h2flows_stats(t)->bytes_skipped, w.n - 5);
	}
	nghttp2_hd_deflate_del(d);
	h2flows_free(t);
}

/* A corrupt block, a framing error, a flow met mid-way. */
static void test_desyncs(void **state)
{
	static struct h2wire w;
	struct h2flows *t = h2flows_new(&key, &db, NULL);
	struct h2_send out;
	struct toks k;

	(void)state;
	w.n = 0;
	h2wire_put(&w, H2_PREFACE, H2_PREFACE_LEN);
	h2wire_frame(&w, 1, 0x05, 1, "\xff\xff\x7f", 3);
	assert_int_equal(send(t, 0, &w, &k, &out), 1);
	assert_int_equal(h2flows_stats(t)->desync_hpack, 1);
	w.n = 0;
	h2wire_put(&w, H2_PREFACE, H2_PREFACE_LEN);
	h2wire_frame(&w, 9, 0x04, 1, "\x82", 1);
	assert_int_equal(send(t, 0, &w, &k, &out), 1);
	assert_int_equal(h2flows_stats(t)->desync_proto, 1);
	memset(&k, 0, sizeof(k));
	assert_int_equal(h2flows_send(t, 8, 100, w.b, w.n, w.n, on_tok, &k, &out), 1);
	assert_int_equal(h2flows_stats(t)->desync_unseen, 1);
	assert_int_equal(h2flows_stats(t)->flows, 2);
	h2flows_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_flow),
	    cmocka_unit_test(test_gzip_and_cut),
	    cmocka_unit_test(test_desyncs),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
