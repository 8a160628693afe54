// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "verdict/correlate.h"
#include "decode/cscan.h"
#include "cs_hash.h"
#include "decode/deep.h"
#include "lib/encodings.h"
#include "fpdb/fpfile.h"
#include "http/h2flow.h"
#include "http/httpmsg.h"
#include "monitor/message.h"
#include "decode/scan.h"

/*
 * Sends whose records may wait for their event: records are taken from the ring in bulk, so a
 * backlog of events can leave many sends pending. Slot = seq % DEEP_SLOTS; a slot holds a
 * buffer only while its send is pending, taken from (and given back to) a small pool, so the
 * steady state allocates nothing per send.
 */
#define DEEP_SLOTS 4096
/* Spare buffers kept for the next sends (at most CS_DEEP_SEND_MAX each). */
#define DEEP_POOL 8
/* Flows that may hold an unfinished compressed body. */
#define DEEP_FLOWS 256

struct slot {
	__u64 seq;  /* 0: free */
	__u32 have; /* bytes received */
	__u32 size; /* bytes of buf in use (highest off + len) */
	__u32 cap;
	__u8 *buf;
	struct cs_hit *hits; /* batches of the kernel's hits (cs_hits records) */
	size_t nhits, hcap;
};

struct buf {
	__u8 *p;
	__u32 cap;
};

struct flow_slot {
	__u64 flow;
	struct dec_flow *fl;
};

struct deep {
	const struct cs_key *key;
	const struct fpdb *db;
	struct dec_limits lim;
	struct slot slots[DEEP_SLOTS];
	struct flow_slot flows[DEEP_FLOWS];
	struct buf pool[DEEP_POOL];
	unsigned npool;
	struct deep_stats st;
	struct h2flows *h2; /* HTTP/2 flows (CS_EV_H2) */
	struct cscan *cs;   /* --scan-in collector: the kernel's scan, here (NULL: off) */
	/* the request of the message being completed (msg.http) and its :authority (msg.host) */
	struct msg_http http;
	char host[CS_HOST_LEN];
};

struct deep *deep_new(const struct cs_key *key, const struct fpdb *db, const struct dec_limits *lim)
{
	struct deep *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->key = key;
	d->db = db;
	d->lim.max_out = lim && lim->max_out ? lim->max_out : DEC_MAX_OUT_DEFAULT;
	d->lim.max_depth = lim && lim->max_depth ? lim->max_depth : DEC_MAX_DEPTH_DEFAULT;
	d->h2 = h2flows_new(key, db, &d->lim);
	if (!d->h2) {
		free(d);
		return NULL;
	}
	return d;
}

/*
 * A send's bytes are user data: their buffers are anonymous mappings left out of core dumps
 * (MADV_DONTDUMP), zeroed when made (cap is a multiple of the page size: 4096, doubled).
 */
static __u8 *payload_alloc(size_t cap)
{
	void *p = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if (madvise(p, cap, MADV_DONTDUMP)) {
		munmap(p, cap);
		return NULL;
	}
	return p;
}

static void payload_free(__u8 *p, size_t cap)
{
	if (p)
		munmap(p, cap);
}

/* The send is done: its bytes (user data) are wiped, the buffer goes back to the pool. */
static void slot_release(struct deep *d, struct slot *s)
{
	if (s->buf) {
		explicit_bzero(s->buf, s->size);
		if (d->npool < DEEP_POOL) {
			d->pool[d->npool].p = s->buf;
			d->pool[d->npool++].cap = s->cap;
		} else {
			payload_free(s->buf, s->cap);
		}
	}
	free(s->hits);
	memset(s, 0, sizeof(*s));
}

/* Grow s->buf to at least want bytes (a pooled buffer or a new one), keeping its contents. */
static int slot_grow(struct deep *d, struct slot *s, __u32 want)
{
	__u32 cap = s->cap ? s->cap : 4096;
	__u8 *nb = NULL;

	while (cap < want)
		cap *= 2;
	for (unsigned i = 0; i < d->npool; i++) {
		if (d->pool[i].cap >= cap) {
			nb = d->pool[i].p;
			cap = d->pool[i].cap;
			d->pool[i] = d->pool[--d->npool];
			break;
		}
	}
	if (!nb)
		nb = payload_alloc(cap);
	if (!nb)
		return -ENOMEM;
	if (s->buf) {
		memcpy(nb, s->buf, s->size);
		explicit_bzero(s->buf, s->size);
		payload_free(s->buf, s->cap);
	}
	s->buf = nb;
	s->cap = cap;
	return 0;
}

int deep_scan_in_collector(struct deep *d, const struct live_cfg *cfg)
{
	d->cs = cscan_new(cfg, d->db);
	return d->cs ? 0 : -ENOMEM;
}

const struct cscan_stats *deep_cscan_stats(const struct deep *d)
{
	return d->cs ? cscan_stats(d->cs) : NULL;
}

void deep_free(struct deep *d)
{
	if (!d)
		return;
	cscan_free(d->cs);
	for (unsigned i = 0; i < DEEP_SLOTS; i++)
		slot_release(d, &d->slots[i]);
	for (unsigned i = 0; i < d->npool; i++)
		payload_free(d->pool[i].p, d->pool[i].cap);
	for (unsigned i = 0; i < DEEP_FLOWS; i++)
		dec_flow_free(d->flows[i].fl);
	h2flows_free(d->h2);
	free(d);
}

static struct slot *slot_find(struct deep *d, __u64 seq)
{
	struct slot *s = &d->slots[seq % DEEP_SLOTS];

	return s->seq == seq ? s : NULL;
}

/* The slot of seq; a send DEEP_SLOTS older still there lost its event: its bytes are orphans. */
static struct slot *slot_take(struct deep *d, __u64 seq)
{
	struct slot *s = &d->slots[seq % DEEP_SLOTS];

	if (s->seq) {
		d->st.orphans++;
		slot_release(d, s);
	}
	s->seq = seq;
	return s;
}

/* Bytes data[0..n) of send seq at offset off (checked by the caller). */
static void slot_put(struct deep *d, __u64 seq, __u32 off, const __u8 *data, __u32 n)
{
	struct slot *s = slot_find(d, seq);
	__u32 end = off + n;

	if (!s)
		s = slot_take(d, seq);
	if (end > s->cap && slot_grow(d, s, end))
		return; /* counted as lost when the event comes */
	memcpy(s->buf + off, data, n);
	s->have += n;
	if (end > s->size)
		s->size = end;
}

void deep_add(struct deep *d, const void *rec, size_t len)
{
	const size_t hdr = offsetof(struct cs_deep, data);
	const struct cs_deep *r = rec;

	/* r->len comes from the record: it must fit in the bytes received, whatever their size */
	if (len < hdr || !r->seq || r->len > CS_CHUNK || r->len > len - hdr ||
	    r->off >= CS_DEEP_SEND_MAX || r->len > CS_DEEP_SEND_MAX - r->off)
		return;
	slot_put(d, r->seq, r->off, r->data, r->len);
}

int deep_add_bytes(struct deep *d, __u64 seq, const __u8 *buf, __u32 n)
{
	if (!seq || n > CS_DEEP_SEND_MAX)
		return -EINVAL;
	slot_put(d, seq, 0, buf, n);
	return 0;
}

void deep_add_hits(struct deep *d, const void *rec, size_t len)
{
	const size_t hdr = offsetof(struct cs_hits, hits);
	const struct cs_hits *r = rec;
	struct slot *s;
	__u32 n;

	if (len < hdr || !r->seq)
		return;
	n = r->nhits > CS_MAX_HITS ? CS_MAX_HITS : r->nhits;
	/* the hits the record says it has must be in the bytes received */
	if (n > (len - hdr) / sizeof(r->hits[0])) {
		d->st.hits_lost += n;
		return;
	}
	s = slot_find(d, r->seq);
	if (!s)
		s = slot_take(d, r->seq);
	if (s->nhits + n > s->hcap) {
		size_t cap = s->hcap ? s->hcap * 2 : 4 * CS_MAX_HITS;
		struct cs_hit *h;

		while (cap < s->nhits + n)
			cap *= 2;
		h = realloc(s->hits, cap * sizeof(*h));
		if (!h) {
			d->st.hits_lost += n;
			return;
		}
		s->hits = h;
		s->hcap = cap;
	}
	memcpy(s->hits + s->nhits, r->hits, n * sizeof(*r->hits));
	s->nhits += n;
	d->st.hit_records++;
}

/* The decoder state of a flow (a compressed body continued across sends). */
static struct dec_flow *flow_get(struct deep *d, __u64 flow)
{
	struct flow_slot *f = &d->flows[(flow ^ (flow >> 17)) % DEEP_FLOWS];

	if (f->fl && f->flow == flow)
		return f->fl;
	dec_flow_free(f->fl);
	f->flow = flow;
	f->fl = dec_flow_new();
	return f->fl;
}

struct merge {
	struct deep *d;
	struct msg *m;
	unsigned layer_enc;
	size_t nkernel; /* m->hits[0..nkernel) are the kernel's */
};

static void on_token(const struct scan_token *t, void *ctx)
{
	struct merge *m = ctx;
	const struct fpdb *db = m->d->db;
	__u32 first;

	if (db->pre) {
		__u64 b = fpdb_pre_index(cs_pre(t->acc, t->len), db->pre_log2);

		if (!((db->pre[b >> 6] >> (b & 63)) & 1))
			return;
	}
	if (!fpdb_find(db, t->fp, &first))
		return;
	/* offsets in a decoded layer do not map to the send's bytes: report offset 0 */
	if (msg_add(m->m, t->fp, 0, 0, m->layer_enc)) {
		m->d->st.hits_lost++;
		return;
	}
	m->d->st.hits++;
}

static void on_layer(const __u8 *buf, size_t n, unsigned enc, void *ctx)
{
	struct merge *m = ctx;

	m->layer_enc = enc;
	scan_message(m->d->key, buf, n, on_token, m);
}

/*
 * A token of an HTTP/2 header field or DATA (h2flow.h; the DB knows it). "hpack" says the value
 * was only readable decoded: not when the kernel found it in the send's bytes as they are (a
 * literal string sent without Huffman coding).
 */
static void on_h2_token(const struct scan_token *t, unsigned enc, void *ctx)
{
	struct merge *m = ctx;

	if (enc & CS_ENC_HPACK) {
		for (size_t i = 0; i < m->nkernel; i++) {
			if (m->m->hits[i].fp == t->fp) {
				enc &= ~CS_ENC_HPACK;
				break;
			}
		}
	}
	if (msg_add(m->m, t->fp, 0, 0, enc)) {
		m->d->st.hits_lost++;
		return;
	}
	m->d->st.hits++;
}

/* The bytes of a send of an HTTP/2 flow: its request and :authority go into the message. */
static void complete_h2(struct deep *d, const struct cs_event *ev, const __u8 *buf, size_t have,
			struct merge *m)
{
	struct h2_send hs;

	m->nkernel = m->m->nhits;
	h2flows_send(d->h2, ev->flow, ev->h2_off, buf, have, ev->h2_len, on_h2_token, m, &hs);
	if (!hs.has_req)
		return;
	d->http = hs.req;
	m->m->http = &d->http;
	memcpy(d->host, hs.authority, sizeof(d->host));
	d->host[sizeof(d->host) - 1] = 0;
	host_strip_port(d->host);
	/* the recipient is resolved from :authority as from an HTTP/1 Host header */
	if (d->host[0])
		m->m->host = d->host;
}

void deep_complete(struct deep *d, const struct cs_event *ev, struct msg *out)
{
	struct merge m = {.d = d, .m = out};
	struct slot *s = slot_find(d, ev->seq);
	__u32 want = (ev->flags & CS_EV_DEEP) ? ev->deep_len : 0, have;
	int cscan = d->cs && (ev->xflags & CS_EVX_CSCAN);

	msg_reset(out, ev);
	if (ev->seq && s && s->nhits && msg_add_kernel(out, s->hits, s->nhits))
		d->st.hits_lost += s->nhits;
	if (msg_add_kernel(out, ev->hits, ev->nhits > CS_MAX_HITS ? CS_MAX_HITS : ev->nhits))
		d->st.hits_lost += ev->nhits;
	/* an HTTP/1 request line the kernel copied: method, version, the path redacted (not in an
	 * HTTP/2 flow, where a send may start with a DATA frame's payload) */
	if ((ev->flags & (CS_EV_REQ | CS_EV_H2)) == CS_EV_REQ &&
	    !http1_request(d->key, d->db, ev->req,
			   ev->req_len < CS_REQ_LEN ? ev->req_len : CS_REQ_LEN, &d->http))
		out->http = &d->http;
	if (!want) {
		if (s && ev->seq)
			slot_release(d, s);
		return;
	}
	d->st.sends++;
	if (!s) {
		d->st.lost += want;
		/* the flow's open tokens cannot go on over a send that is not here */
		if (cscan && !cscan_send(d->cs, ev, NULL, 0, out) && !(ev->flags & CS_EV_H2))
			return;
		if (ev->flags & CS_EV_H2)
			complete_h2(d, ev, NULL, 0, &m); /* a gap: the flow desyncs */
		return;
	}
	if (s->have < want)
		d->st.lost += want - s->have;
	d->st.bytes += s->have;
	/* records come in order and stop at the first the ring had no room for: the bytes
	 * received are the send's first s->have */
	have = s->have < want ? s->have : want;
	/* --scan-in collector: the kernel's hits, and whether it would have handed over */
	if (cscan && !cscan_send(d->cs, ev, s->buf, have, out) && !(ev->flags & CS_EV_H2)) {
		slot_release(d, s);
		return;
	}
	if (ev->flags & CS_EV_H2)
		complete_h2(d, ev, s->buf, have, &m);
	else
		dec_message(flow_get(d, ev->flow), s->buf, s->size < want ? s->size : want, &d->lim,
			    on_layer, &m, &d->st.dec);
	slot_release(d, s);
}

const struct deep_stats *deep_stats(const struct deep *d)
{
	return &d->st;
}

const struct h2flows_stats *deep_h2_stats(const struct deep *d)
{
	return h2flows_stats(d->h2);
}
