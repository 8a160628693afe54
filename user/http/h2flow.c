// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/encodings.h"
#include "fpdb/fpfile.h"
#include "http/h2.h"
#include "http/h2flow.h"

/* Flows followed at once (power of two), looked for in a window of H2F_PROBE slots. */
#define H2F_SLOTS 1024
#define H2F_PROBE 8
/* Streams of a flow followed at once (a client rarely has more open). */
#define H2F_STREAMS 16
/* Bytes of a :path kept for message.http (the redacted form shows at most HTTP_PATH_MAX). */
#define H2F_PATH_KEEP 2048

enum { D_NONE, D_GAP, D_PROTO, D_HPACK, D_UNSEEN };

struct h2s {
	__u32 id; /* 0: free */
	__u64 used;
	int has_req;
	struct msg_http req;
	char authority[CS_HOST_LEN];
	unsigned coding;       /* CS_ENC_GZIP / CS_ENC_DEFLATE from content-encoding */
	struct scan_stream sc; /* the DATA as sent, joined */
	struct dec_flow *dec;  /* the DATA inflated (coding set) */
};

/* The header block being decoded: what message.http and the recipient need of it. */
struct block {
	__u32 stream;
	int has_method, has_auth;
	unsigned coding;
	size_t mlen, plen;
	int pcut;
	__u8 method[HTTP_METHOD_MAX + 1];
	char authority[CS_HOST_LEN];
	__u8 path[H2F_PATH_KEEP];
};

struct h2f {
	__u64 flow;
	__u64 used;
	__u64 next; /* offset of the next byte expected */
	int desync;
	struct h2_conn *conn;
	struct block blk;
	struct h2s st[H2F_STREAMS];
};

struct h2flows {
	const struct cs_key *key;
	const struct fpdb *db;
	struct dec_limits lim;
	struct h2f *slot[H2F_SLOTS];
	__u64 tick;
	struct h2flows_stats s;
};

/* Context of one send's callbacks. */
struct sendc {
	struct h2flows *t;
	struct h2f *f;
	h2_token_fn fn;
	void *ctx;
	struct h2_send *out;
	int out_hdr;  /* out->req is from a header block (not from a stream's DATA) */
	unsigned enc; /* of the bytes being scanned */
};

struct h2flows *h2flows_new(const struct cs_key *key, const struct fpdb *db,
			    const struct dec_limits *lim)
{
	struct h2flows *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->key = key;
	t->db = db;
	t->lim.max_out = lim && lim->max_out ? lim->max_out : DEC_MAX_OUT_DEFAULT;
	t->lim.max_depth = lim && lim->max_depth ? lim->max_depth : DEC_MAX_DEPTH_DEFAULT;
	return t;
}

static void stream_release(struct h2s *s)
{
	dec_flow_free(s->dec);
	/* the tokeniser state holds hashes, the request its redacted form: no raw bytes, but
	 * the slot is reused, so clear it whole */
	memset(s, 0, sizeof(*s));
}

/* Forget the flow's connection and streams (a new preface, a desync, the end). */
static void flow_clear(struct h2f *f)
{
	h2_conn_free(f->conn);
	f->conn = NULL;
	for (unsigned i = 0; i < H2F_STREAMS; i++)
		stream_release(&f->st[i]);
	explicit_bzero(&f->blk, sizeof(f->blk));
}

static void flow_free(struct h2f *f)
{
	if (!f)
		return;
	flow_clear(f);
	free(f);
}

void h2flows_free(struct h2flows *t)
{
	if (!t)
		return;
	for (unsigned i = 0; i < H2F_SLOTS; i++)
		flow_free(t->slot[i]);
	free(t);
}

const struct h2flows_stats *h2flows_stats(const struct h2flows *t)
{
	return &t->s;
}

/* The flow's state; with create, a new one (*fresh set) if there is none. */
static struct h2f *flow_get(struct h2flows *t, __u64 flow, int create, int *fresh)
{
	__u32 base = (__u32)((flow * 0x9e3779b97f4a7c15ULL) >> 40), victim = 0;
	__u64 oldest = ~0ULL;

	*fresh = 0;
	for (__u32 i = 0; i < H2F_PROBE; i++) {
		__u32 k = (base + i) & (H2F_SLOTS - 1);
		struct h2f *f = t->slot[k];

		if (f && f->flow == flow) {
			f->used = ++t->tick;
			return f;
		}
		if ((f ? f->used : 0) < oldest) {
			oldest = f ? f->used : 0;
			victim = k;
		}
	}
	if (!create)
		return NULL;
	if (t->slot[victim]) {
		t->s.flows_evicted++;
		flow_free(t->slot[victim]);
		t->slot[victim] = NULL;
	}
	t->slot[victim] = calloc(1, sizeof(struct h2f));
	if (!t->slot[victim])
		return NULL;
	t->slot[victim]->flow = flow;
	t->slot[victim]->used = ++t->tick;
	*fresh = 1;
	return t->slot[victim];
}

/* A stream's state; a new slot (the least recently used if all are taken) if it has none. */
static struct h2s *stream_get(struct sendc *c, __u32 id)
{
	struct h2f *f = c->f;
	struct h2s *v = &f->st[0];

	for (unsigned i = 0; i < H2F_STREAMS; i++) {
		if (f->st[i].id == id) {
			f->st[i].used = ++c->t->tick;
			return &f->st[i];
		}
		if (f->st[i].used < v->used)
			v = &f->st[i];
	}
	if (v->id)
		c->t->s.streams_evicted++;
	stream_release(v);
	v->id = id;
	v->used = ++c->t->tick;
	scan_stream_init(&v->sc);
	return v;
}

static void on_token(const struct scan_token *tok, void *ctx)
{
	struct sendc *c = ctx;
	__u32 first;

	if (!fpdb_find(c->t->db, tok->fp, &first))
		return;
	c->t->s.hits++;
	c->fn(tok, c->enc, c->ctx);
}

static void on_layer(const __u8 *buf, size_t n, unsigned enc, void *ctx)
{
	struct sendc *c = ctx;
	unsigned keep = c->enc;

	c->enc |= enc;
	scan_message(c->t->key, buf, n, on_token, c);
	c->enc = keep;
}

/* Bytes scanned as a message of their own (a header name or value), decoded if they need it. */
static void scan_text(struct sendc *c, const __u8 *p, size_t n)
{
	if (scan_message(c->t->key, p, n, on_token, c))
		dec_message(NULL, p, n, &c->t->lim, on_layer, c, &c->t->s.dec);
}

static int name_is(const __u8 *name, size_t n, const char *s)
{
	return n == strlen(s) && !memcmp(name, s, n);
}

/* content-encoding: exactly gzip, x-gzip or deflate (as decode.c reads it for HTTP/1) */
static unsigned coding_of(const __u8 *v, size_t n)
{
	if ((n == 4 && !strncasecmp((const char *)v, "gzip", 4)) ||
	    (n == 6 && !strncasecmp((const char *)v, "x-gzip", 6)))
		return CS_ENC_GZIP;
	if (n == 7 && !strncasecmp((const char *)v, "deflate", 7))
		return CS_ENC_DEFLATE;
	return 0;
}

static void on_header(void *ctx, __u32 stream, const __u8 *name, size_t nlen, const __u8 *value,
		      size_t vlen)
{
	struct sendc *c = ctx;
	struct block *b = &c->f->blk;

	c->t->s.fields++;
	if (b->stream != stream) {
		explicit_bzero(b, sizeof(*b));
		b->stream = stream;
	}
	/* every name and value is scanned; HPACK names are lower case (RFC 9113 §8.2) */
	c->enc = CS_ENC_HPACK;
	scan_text(c, name, nlen);
	scan_text(c, value, vlen);
	c->enc = 0;
	if (name_is(name, nlen, ":method")) {
		/* a longer one is shown as "?" (http2_request reads HTTP_METHOD_MAX at most) */
		b->has_method = 1;
		b->mlen = vlen;
		memcpy(b->method, value, vlen < HTTP_METHOD_MAX ? vlen : HTTP_METHOD_MAX);
	} else if (name_is(name, nlen, ":path")) {
		b->plen = vlen < H2F_PATH_KEEP ? vlen : H2F_PATH_KEEP;
		b->pcut = vlen > H2F_PATH_KEEP;
		c->t->s.path_cut += b->pcut;
		memcpy(b->path, value, b->plen);
	} else if (name_is(name, nlen, ":authority")) {
		size_t k = vlen < CS_HOST_LEN - 1 ? vlen : CS_HOST_LEN - 1;

		memcpy(b->authority, value, k);
		b->authority[k] = 0;
		b->has_auth = 1;
	} else if (name_is(name, nlen, "content-encoding")) {
		b->coding = coding_of(value, vlen);
	}
}

static void on_headers_end(void *ctx, __u32 stream, int end_stream)
{
	struct sendc *c = ctx;
	struct block *b = &c->f->blk;
	struct h2s *s;

	(void)end_stream;
	c->t->s.blocks++;
	if (b->stream != stream) { /* a block with no fields */
		explicit_bzero(b, sizeof(*b));
		b->stream = stream;
	}
	s = stream_get(c, stream);
	if (b->has_method) {
		/* request headers (trailers have no :method) */
		http2_request(c->t->key, c->t->db, b->method, b->mlen, b->path, b->plen, b->pcut,
			      &s->req);
		s->has_req = 1;
		memcpy(s->authority, b->authority, sizeof(s->authority));
		s->coding = b->coding;
		/* the first request whose headers are in the send wins */
		if (!c->out_hdr) {
			c->out_hdr = 1;
			c->out->has_req = 1;
			c->out->req = s->req;
			memcpy(c->out->authority, s->authority, sizeof(c->out->authority));
		}
	}
	explicit_bzero(b, sizeof(*b));
}

static void on_data(void *ctx, __u32 stream, const __u8 *p, size_t n)
{
	struct sendc *c = ctx;
	struct h2s *s = stream_get(c, stream);

	c->t->s.data_bytes += n;
	if (s->has_req && !c->out->has_req) {
		c->out->has_req = 1;
		c->out->req = s->req;
		memcpy(c->out->authority, s->authority, sizeof(c->out->authority));
	}
	c->enc = 0;
	if (s->coding) {
		if (!s->dec)
			s->dec = dec_flow_new();
		if (s->dec)
			dec_body(s->dec, s->coding, p, n, &c->t->lim, on_layer, c, &c->t->s.dec);
		return;
	}
	/* the body as sent, one message across its frames; other renderings per piece */
	if (scan_stream_feed(&s->sc, c->t->key, p, n, on_token, c))
		dec_message(NULL, p, n, &c->t->lim, on_layer, c, &c->t->s.dec);
}

static void on_stream_end(void *ctx, __u32 stream, int reset)
{
	struct sendc *c = ctx;
	struct h2s *s = stream_get(c, stream);

	(void)reset;
	c->enc = 0;
	if (!s->coding)
		scan_stream_end(&s->sc, c->t->key, on_token, c);
	stream_release(s);
}

static const struct h2_ops ops = {on_header, on_headers_end, on_data, on_stream_end};

static void desync(struct h2flows *t, struct h2f *f, int why)
{
	f->desync = why;
	t->s.desync_gap += why == D_GAP;
	t->s.desync_proto += why == D_PROTO;
	t->s.desync_hpack += why == D_HPACK;
	t->s.desync_unseen += why == D_UNSEEN;
	flow_clear(f);
}

int h2flows_send(struct h2flows *t, __u64 flow, __u64 off, const __u8 *buf, size_t have,
		 __u64 total, h2_token_fn fn, void *ctx, struct h2_send *out)
{
	struct sendc c = {.t = t, .fn = fn, .ctx = ctx, .out = out};
	struct h2f *f;
	int fresh, err;

	memset(out, 0, sizeof(*out));
	f = flow_get(t, flow, 1, &fresh);
	if (!f) {
		t->s.bytes_skipped += total;
		return 1;
	}
	c.f = f;
	if (off == 0) {
		/* the preface: a new connection (the first, or again on this socket) */
		flow_clear(f);
		f->desync = D_NONE;
		f->next = 0;
		f->conn = h2_conn_new();
		t->s.flows++;
		if (!f->conn)
			desync(t, f, D_GAP);
	} else if (fresh) {
		desync(t, f, D_UNSEEN);
	} else if (!f->desync && off != f->next) {
		desync(t, f, D_GAP);
	}
	if (f->desync) {
		t->s.bytes_skipped += total;
		f->next = off + total;
		return 1;
	}
	t->s.sends++;
	t->s.bytes += have;
	err = h2_conn_feed(f->conn, buf, have, &ops, &c);
	if (err)
		desync(t, f, err == -EBADMSG ? D_HPACK : err == -ENOMEM ? D_GAP : D_PROTO);
	else if (have < total)
		desync(t, f, D_GAP); /* the rest of the send was not handed over */
	if (f->desync)
		t->s.bytes_skipped += total - have;
	f->next = off + total;
	return !!f->desync;
}
