/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Hand-over: the bytes of a send that need decoding or the collector's scan (--scan-in
 * collector, HTTP/2, triggers) go to the collector in cs_deep records, within per-send and
 * per-flow budgets; the walk over a send's scanned segments (cs_walk_segs) the rescan shares.
 */
#ifndef CS_DEEP_BPF_H
#define CS_DEEP_BPF_H

#include "lib/uread.bpf.h"

/*
 * --scan-in collector: the n bytes of the send's scanned bytes at offset off go to the
 * collector as they are read, in a cs_deep record: read from user memory at ubuf straight
 * into it (one read, not one into st->chunk and one more at the end), or copied from st->chunk
 * (ubuf 0: the first chunk, which the send's first-chunk work reads there). Within the send's
 * CS_DEEP_SEND_MAX, and up to the first record the ring has no room for (the collector gets a
 * whole prefix); the rest is counted. No wake-up: the collector polls the ring every
 * millisecond in this mode (a wake-up per send would cost the sender more than the copy).
 * Returns -1 if user memory was not readable, else 0.
 */
__noinline int cs_deep_direct(__u32 n, __u32 off, __u64 ubuf)
{
	struct cs_state *st = state_get();
	struct cs_deep *r;
	long err;

	if (!st || !n || n > CS_CHUNK)
		return 0;
	if ((st->sflags & CS_SK_DEEP_FULL) || off >= CS_DEEP_SEND_MAX ||
	    n > CS_DEEP_SEND_MAX - off) {
		cnt_add(CS_CNT_DEEP_DROPS, n);
		return 0;
	}
	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		st->sflags |= CS_SK_DEEP_FULL;
		cnt_add(CS_CNT_DEEP_DROPS, n);
		return 0;
	}
	if (ubuf)
		err = cs_read(st, r->data, n, ubuf);
	else
		err = bpf_probe_read_kernel(r->data, n, st->chunk);
	if (err) {
		bpf_ringbuf_discard(r, BPF_RB_NO_WAKEUP);
		return -1;
	}
	r->seq = msg_seq(st);
	r->off = off;
	r->len = n;
	bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
	st->direct += n;
	return 0;
}

/* A walk over the send's scanned segments (st->segs), one bpf_loop per segment. */
struct seg_walk {
	__u64 ubuf;
	__u32 len;
	__u32 off;
	__u32 base; /* offset of this segment in the send's scanned bytes */
	__u32 kmem; /* st->kmem */
};

/*
 * cb over every scanned segment of the send in CS_CHUNK steps; w (the first member of cb's
 * context) says where. Stops after a segment cb left unfinished.
 */
static __always_inline void cs_walk_segs(struct cs_state *st, struct seg_walk *w,
					 long (*cb)(__u32, void *))
{
	__u32 i, base = 0;

	for (i = 0; i < CS_MAX_IOV; i++) {
		if (i >= st->nsegs)
			break;
		w->ubuf = st->segs[i].ubuf;
		w->len = st->segs[i].len;
		w->off = 0;
		w->base = base;
		w->kmem = st->kmem;
		bpf_loop(((__u64)w->len + CS_CHUNK - 1) / CS_CHUNK, cb, w, 0);
		if (w->off < w->len)
			break;
		base += w->len;
	}
}

struct deep_ctx {
	struct seg_walk w;
	__u64 seq;
	__u32 copied;
};

static long deep_cb(__u32 i, void *data)
{
	struct deep_ctx *d = data;
	struct seg_walk *c = &d->w;
	struct cs_deep *r;
	__u32 n;

	if (c->off >= c->len)
		return 1;
	n = cs_chunk_len(c->len, c->off);
	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		cnt_add(CS_CNT_DEEP_DROPS, c->len - c->off);
		return 1;
	}
	/*
	 * Default (adaptive) wake-ups, not BPF_RB_NO_WAKEUP: the kernel wakes the reader only for
	 * a record at the position the reader has consumed to. A reader that caught up and sleeps
	 * there, at one of these records, was never woken by the records after it (the event
	 * included): the send and every later one waited for the next wake-up (the summary at
	 * exit, when no event came by itself). A wake-up costs only when the reader is idle.
	 */
	if (c->kmem ? bpf_probe_read_kernel(r->data, n, (void *)(c->ubuf + c->off))
		    : bpf_probe_read_user(r->data, n, (void *)(c->ubuf + c->off))) {
		bpf_ringbuf_discard(r, 0);
		cnt_add(CS_CNT_DEEP_DROPS, c->len - c->off);
		return 1;
	}
	r->seq = d->seq;
	r->off = c->base + c->off;
	r->len = n;
	bpf_ringbuf_submit(r, 0);
	c->off += n;
	d->copied += n;
	return 0;
}

/*
 * One send may not fill the ring the other CPUs' events need: it hands over at most
 * CS_DEEP_SEND_MAX bytes, the rest is counted (the segments are not walked again after the
 * hand-over). A global function: its loop is verified once, not in every caller's paths.
 */
__noinline int cs_deep_cap(void)
{
	struct cs_state *st = state_get();
	__u32 i, left = CS_DEEP_SEND_MAX;

	if (!st || st->inspected <= left)
		return 0;
	cnt_add(CS_CNT_DEEP_DROPS, st->inspected - left);
	for (i = 0; i < CS_MAX_IOV; i++) {
		struct cs_seg *g = &st->segs[i & (CS_MAX_IOV - 1)];

		g->len = g->len < left ? g->len : left;
		left -= g->len;
	}
	return 0;
}

/*
 * Hand the scanned bytes of this send to the collector, read again from user memory (the call
 * has not returned, the buffers are intact), as cs_deep records in the events ring: reserved
 * before the send's event, they are consumed before it. Returns the bytes handed over.
 */
__noinline __u32 cs_deep_copy(__u64 seq)
{
	struct cs_state *st = state_get();
	struct deep_ctx c = {.seq = seq};

	if (!st)
		return 0;
	cs_deep_cap();
	/* segments past CS_MAX_IOV are not kept: not handed over */
	cnt_add(CS_CNT_DEEP_DROPS, st->unkept);
	cs_walk_segs(st, &c.w, deep_cb);
	cnt_add(CS_CNT_DEEP_SENDS, 1);
	cnt_add(CS_CNT_DEEP_BYTES, c.copied);
	return c.copied;
}

#endif /* CS_DEEP_BPF_H */
