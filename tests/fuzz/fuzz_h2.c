// SPDX-License-Identifier: GPL-2.0-only
/*
 * HTTP/2 client streams (user/http/h2.c: framing, HPACK through libnghttp2's inflater) and the
 * collector's HTTP/2 flows (user/http/h2flow.c). The first input byte holds options (how bytes are
 * cut into pieces, where a header block is split into CONTINUATION, HPACK flags). Properties:
 *   - the input fed at once and fed in pieces gives the same callbacks (header fields, block
 *     ends, DATA bytes per stream, stream ends), the same counts and the same error;
 *   - decode(encode(x)) == x: header lists made from the input, encoded by nghttp2's deflater
 *     (Huffman, dynamic table, never-indexed fields) into HEADERS + CONTINUATION frames, come
 *     out of the connection field by field, block by block;
 *   - both byte streams as sends of an HTTP/2 flow: the request a send reports has a method and
 *     a path that are printable and hold no registered value.
 */
#include <nghttp2/nghttp2.h>

#include "fuzz_db.h"

#include "http/h2.h"
#include "http/h2flow.h"

#define LOG_MAX	   (256 * 1024)
#define MAX_FIELDS 12

/* What the callbacks said, as bytes; DATA of one stream run together whatever the pieces. */
struct log {
	uint8_t b[LOG_MAX];
	size_t n;
	size_t data_len_at; /* offset of the open DATA record's length, 0: none */
	__u32 data_stream;
	int full;
};

static void log_reset(struct log *l)
{
	l->n = 0;
	l->data_len_at = 0;
	l->full = 0;
}

static void log_put(struct log *l, const void *p, size_t n)
{
	if (l->full || l->n + n > sizeof(l->b)) {
		l->full = 1;
		return;
	}
	memcpy(l->b + l->n, p, n);
	l->n += n;
}

static void log_rec(struct log *l, char type, __u32 stream)
{
	l->data_len_at = 0;
	log_put(l, &type, 1);
	log_put(l, &stream, 4);
}

static void on_header(void *ctx, __u32 stream, const __u8 *name, size_t nlen, const __u8 *value,
		      size_t vlen)
{
	struct log *l = ctx;
	__u32 a = (__u32)nlen, b = (__u32)vlen;

	log_rec(l, 'H', stream);
	log_put(l, &a, 4);
	log_put(l, name, nlen);
	log_put(l, &b, 4);
	log_put(l, value, vlen);
}

static void on_headers_end(void *ctx, __u32 stream, int end_stream)
{
	struct log *l = ctx;
	uint8_t es = (uint8_t)end_stream;

	log_rec(l, 'E', stream);
	log_put(l, &es, 1);
}

static void on_data(void *ctx, __u32 stream, const __u8 *p, size_t n)
{
	struct log *l = ctx;
	__u32 len;

	if (!n)
		return;
	if (!l->data_len_at || l->data_stream != stream) {
		__u32 zero = 0;

		log_rec(l, 'D', stream);
		l->data_len_at = l->n;
		l->data_stream = stream;
		log_put(l, &zero, 4);
	}
	if (l->full)
		return;
	memcpy(&len, l->b + l->data_len_at, 4);
	len += (__u32)n;
	memcpy(l->b + l->data_len_at, &len, 4);
	log_put(l, p, n);
}

static void on_stream_end(void *ctx, __u32 stream, int reset)
{
	struct log *l = ctx;
	uint8_t r = (uint8_t)reset;

	log_rec(l, 'S', stream);
	log_put(l, &r, 1);
}

static const struct h2_ops ops = {on_header, on_headers_end, on_data, on_stream_end};

static struct log whole, pieces;
static struct cs_key key;
static struct fpdb db;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_key(&key);
	fuzz_db_build(&db, &key);
	return 0;
}

/* p[0..n) fed at once and in pieces of 1 + (opt % 16), growing: the same callbacks */
static void split_same(const uint8_t *p, size_t n, uint8_t opt)
{
	struct h2_conn *a = h2_conn_new(), *b = h2_conn_new();
	const struct h2_stats *sa, *sb;
	size_t step = 1 + opt % 16;
	int ea, eb = 0;

	if (!a || !b)
		abort();
	log_reset(&whole);
	log_reset(&pieces);
	ea = h2_conn_feed(a, p, n, &ops, &whole);
	for (size_t o = 0; o < n; o += step, step += opt >> 4) {
		int e = h2_conn_feed(b, p + o, n - o < step ? n - o : step, &ops, &pieces);

		if (e)
			eb = e;
	}
	sa = h2_conn_stats(a);
	sb = h2_conn_stats(b);
	FUZZ_CHECK(ea == eb && h2_conn_error(a) == h2_conn_error(b),
		   "error %d at once, %d in pieces", ea, eb);
	FUZZ_CHECK(whole.full == pieces.full, "log overflow");
	FUZZ_CHECK(whole.n == pieces.n && !memcmp(whole.b, pieces.b, whole.n),
		   "callbacks differ (%zu, %zu log bytes)", whole.n, pieces.n);
	FUZZ_CHECK(sa->frames == sb->frames && sa->blocks == sb->blocks &&
		       sa->fields == sb->fields && sa->data_bytes == sb->data_bytes,
		   "counts differ: frames %llu/%llu blocks %llu/%llu",
		   (unsigned long long)sa->frames, (unsigned long long)sb->frames,
		   (unsigned long long)sa->blocks, (unsigned long long)sb->blocks);
	h2_conn_free(a);
	h2_conn_free(b);
}

static size_t frame(uint8_t *w, uint8_t type, uint8_t flags, __u32 stream, const uint8_t *p,
		    size_t n)
{
	w[0] = (uint8_t)(n >> 16);
	w[1] = (uint8_t)(n >> 8);
	w[2] = (uint8_t)n;
	w[3] = type;
	w[4] = flags;
	w[5] = (uint8_t)(stream >> 24);
	w[6] = (uint8_t)(stream >> 16);
	w[7] = (uint8_t)(stream >> 8);
	w[8] = (uint8_t)stream;
	memcpy(w + 9, p, n);
	return 9 + n;
}

/* Header lists from the input, deflated into two blocks on streams 1 and 3; the wire's length. */
static size_t encode_blocks(struct fuzz_rd *r, uint8_t opt, uint8_t *wire, size_t cap,
			    struct log *want)
{
	static const char *const names[] = {":method", ":path", ":authority", "content-encoding",
					    "x-mail"};
	static uint8_t names_buf[2][MAX_FIELDS][16], values[2][MAX_FIELDS][48];
	nghttp2_hd_deflater *d;
	uint8_t blk[4096];
	size_t w = 0;

	log_reset(want);
	memcpy(wire, H2_PREFACE, H2_PREFACE_LEN);
	w = H2_PREFACE_LEN;
	if (nghttp2_hd_deflate_new(&d, 4096))
		abort();
	for (int b = 0; b < 2; b++) {
		nghttp2_nv nv[MAX_FIELDS];
		size_t nf = fuzz_take(r) % MAX_FIELDS, split;
		__u32 stream = 1 + 2 * (__u32)b;
		ssize_t len;

		for (size_t f = 0; f < nf; f++) {
			uint8_t k = fuzz_take(r), nl, vl = fuzz_take(r) % sizeof(values[b][f]);

			if (k % 8 < 5) {
				nl = (uint8_t)strlen(names[k % 8]);
				memcpy(names_buf[b][f], names[k % 8], nl);
			} else {
				nl = 1 + k % 15;
				for (uint8_t i = 0; i < nl; i++)
					names_buf[b][f][i] = 'a' + fuzz_take(r) % 26;
			}
			for (uint8_t i = 0; i < vl; i++)
				values[b][f][i] = fuzz_take(r);
			nv[f] = (nghttp2_nv){names_buf[b][f], values[b][f], nl, vl,
					     k & 0x80 ? NGHTTP2_NV_FLAG_NO_INDEX : 0};
			on_header(want, stream, nv[f].name, nl, nv[f].value, vl);
		}
		on_headers_end(want, stream, 1);
		on_stream_end(want, stream, 0);
		len = nghttp2_hd_deflate_hd(d, blk, sizeof(blk), nv, nf);
		if (len < 0)
			abort();
		/* HEADERS with END_STREAM, then CONTINUATION with END_HEADERS, cut where opt says
		 */
		split = (size_t)len * (opt >> 4) / 16;
		if (w + 2 * 9 + (size_t)len > cap)
			abort();
		if (split && split < (size_t)len) {
			w += frame(wire + w, 1, 1, stream, blk, split);
			w += frame(wire + w, 9, 4, stream, blk + split, (size_t)len - split);
		} else {
			w += frame(wire + w, 1, 1 | 4, stream, blk, (size_t)len);
		}
	}
	nghttp2_hd_deflate_del(d);
	return w;
}

static void round_trip(struct fuzz_rd *r, uint8_t opt, uint8_t *wire, size_t *wn)
{
	static struct log want;
	struct h2_conn *c = h2_conn_new();
	int err;

	if (!c)
		abort();
	*wn = encode_blocks(r, opt, wire, 16384, &want);
	log_reset(&whole);
	err = h2_conn_feed(c, wire, *wn, &ops, &whole);
	FUZZ_CHECK(!err, "deflated blocks: error %d (%s)", err, h2_strerror(err));
	FUZZ_CHECK(whole.n == want.n && !memcmp(whole.b, want.b, want.n),
		   "inflated fields differ (%zu, %zu log bytes)", whole.n, want.n);
	h2_conn_free(c);
}

static void on_token(const struct scan_token *t, unsigned enc, void *ctx)
{
	(void)t;
	(void)enc;
	(*(unsigned *)ctx)++;
}

/* p[0..n) as one connection's sends of up to step bytes: every request it reports is redacted */
static void as_flow(const uint8_t *p, size_t n, size_t step)
{
	/* a table per input: what one input allocates it frees (libFuzzer's leak check is cheap) */
	struct h2flows *flows = h2flows_new(&key, &db, NULL);
	__u64 id = 1;

	if (!flows)
		abort();

	for (size_t o = 0; o < n; o += step) {
		struct h2_send out;
		unsigned toks = 0;
		size_t k = n - o < step ? n - o : step;

		h2flows_send(flows, id, o, p + o, k, k, on_token, &toks, &out);
		if (!out.has_req)
			continue;
		fuzz_check_redacted(out.req.method, strnlen(out.req.method, sizeof(out.req.method)),
				    "h2 method");
		fuzz_check_redacted(out.req.path, strnlen(out.req.path, sizeof(out.req.path)),
				    "h2 path");
	}
	h2flows_free(flows);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t wire[16384];
	struct fuzz_rd r;
	size_t wn;
	uint8_t opt;

	if (!size)
		return 0;
	opt = data[0];
	r = (struct fuzz_rd){data + 1, size - 1};
	split_same(data + 1, size - 1, opt);
	round_trip(&r, opt, wire, &wn);
	as_flow(data + 1, size - 1, 1 + (size_t)opt * 4);
	as_flow(wire, wn, 16 + (size_t)opt);
	return 0;
}
