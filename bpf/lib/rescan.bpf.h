/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Rescan: when runs were skipped and the send turns out to matter (a strong hit, a trigger),
 * the send is tokenised again whole before its event, weak tokens included (cs_scan_done).
 */
#ifndef CS_RESCAN_BPF_H
#define CS_RESCAN_BPF_H

#include "lib/deep.bpf.h"
#include "lib/token.bpf.h"

/* Rescan: the next chunk of a segment, tokenised whole (see cs_scan_done). */
__noinline int cs_rescan_chunk(__u64 ubuf, __u32 len, __u32 off)
{
	struct cs_state *st = state_get();
	__u32 n;

	if (!st || off >= len)
		return 0;
	n = cs_chunk_len(len, off);
	if (cs_read(st, st->chunk, n, ubuf + off))
		return 0;
	cs_scan_range(0, n, st->scan.pos);
	st->scan.pos += n;
	return n;
}

static long rescan_cb(__u32 i, void *data)
{
	struct seg_walk *c = data;
	int n;

	if (c->off >= c->len)
		return 1;
	n = cs_rescan_chunk(c->ubuf, c->len, c->off);
	if (n <= 0)
		return 1;
	c->off += n;
	return c->off >= c->len;
}

/*
 * End of a send's scan, before cs_send_end: when runs were skipped and the send has a strong hit
 * or is to be decoded, tokenise its scanned bytes again, whole (every byte, from a fresh state):
 * the skipped runs may hold weak tokens of that subject. The open tokens are flushed on a copy
 * first (a hit may sit in the last one). Hits are kept (cs_token drops repeats); the bytes are
 * read again from the caller's buffers (the call has not returned).
 */
__noinline int cs_scan_done(void)
{
	struct cs_state *st = state_get();
	struct cs_sink sink = {.tok_min = NULL};
	struct seg_walk w = {};
	struct cs_key k;
	__u8 trig;

	/* nothing skipped: every token was seen, but a first pass with cfg_strong_min set looked
	 * up no weak one */
	if (!st || cfg_scan_collector || (!st->skipped && !cfg_strong_min))
		return 0;
	cnt_add(CS_CNT_SKIPPED, st->skipped);
	if (!cfg_rescan)
		return 0; /* no weak fields: the skipped runs hold nothing enrolled */
	/* an HTTP/2 send is handed over and the collector tokenises all of its content, decoded
	 * (header fields, DATA; h2flow.h): weak tokens included */
	if ((st->flags & CS_EV_H2) && cfg_decode)
		return 0;
	/* the tokens below are seen a second time: counted once, by the first pass */
	st->sflags |= CS_SK_AGAIN;
	if (!st->nstrong && !st->deep_left && !(st->scan.trig & CS_TRIG_ALL)) {
		/* not known yet: the open tokens may hold the hit or finish a trigger */
		__builtin_memcpy(&st->fscan, &st->scan, sizeof(st->fscan));
		cs_key_get(&k);
		cs_scan_flush(&st->fscan, &k, &sink);
		if (!st->nstrong && !(st->fscan.trig & CS_TRIG_ALL)) {
			st->sflags &= ~CS_SK_AGAIN;
			return 0;
		}
	}
	/* the tokeniser raises its triggers again; the wide forms' test is not rerun: kept */
	trig = st->scan.trig & CS_TRIG_WIDE;
	cs_scan_reset(&st->scan);
	st->scan.trig = trig;
	cnt_add(CS_CNT_RESCANS, 1);
	cs_walk_segs(st, &w, rescan_cb);
	/* a read that failed now (memory unmapped by another thread since) ends the walk */
	if (st->inspected > st->scan.pos)
		cnt_add(CS_CNT_RESCAN_UNREAD, st->inspected - st->scan.pos);
	st->sflags &= ~CS_SK_AGAIN;
	return 0;
}

#endif /* CS_RESCAN_BPF_H */
