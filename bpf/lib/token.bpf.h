/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The tokeniser in the kernel: the shared core (include/cs_scan.h) run over st->chunk in global
 * functions (cs_scan_chunk_step, cs_flush), its token sink (length window and prefilter bit), and
 * cs_token: each token of an enrolled length fingerprinted, looked up in the tag table and kept
 * as a hit of the send (distinct hits, flushed to the ring in batches of CS_MAX_HITS).
 *
 * Global (non-static, __noinline) functions are verified once on their own, which keeps the
 * 1 KiB byte loop inside the verifier's budget for any payload length; each call costs ~10 ns
 * here, so there is one per chunk and one per candidate token, never one per byte.
 */
#ifndef CS_TOKEN_BPF_H
#define CS_TOKEN_BPF_H

/*
 * Cost-floor builds, for the benchmark only (scripts/bench --only floor builds them with make
 * BPF_EXTRA=-DCS_FLOOR=n): 1 copies each chunk of a send and scans nothing; 2 also classifies
 * it and finds its ranges (cs_scan_live) but tokenises none. Both detect nothing. The monitor's
 * build is 0.
 */
#ifndef CS_FLOOR
#define CS_FLOOR 0
#endif

#include "lib/maps.bpf.h"
#include "lib/enforce.bpf.h"

__noinline int cs_token(__u64 acc, __u32 len, __u32 start, __u32 end);

#include "cs_scan.h"

/*
 * The token sink of the BPF scanner (cs_scan.h): tok_min, when not NULL, points to the shortest
 * length to look up (st->tok_min: cfg_min_len, but cfg_strong_min while cs_scan_live tokenises
 * its ranges; read from the map each time, so the verifier never knows it); NULL: cfg_min_len.
 * Never a NULL sink.
 */
struct cs_sink {
	const __u32 *tok_min;
};

/* Every token: length window and prefilter bit (match.bpf.h), then the call. */
static __always_inline void cs_sink_token(struct cs_sink *sink, const struct cs_token *t)
{
	__u32 min = sink->tok_min ? *(volatile const __u32 *)sink->tok_min : cfg_min_len;

	if (cs_pre_pass(t->acc, t->len, min))
		cs_token(t->acc, t->len, t->start, t->end);
}

/*
 * The send's CS_MAX_HITS hits so far go to the collector in a cs_hits record (in the events
 * ring before the send's event, which carries its message id), and the batch starts again
 * empty: a send may hold any number of subjects. 0, or -1 if the ring is full (the batch is
 * kept, and later hits are lost: counted).
 */
static __always_inline int cs_hits_flush(struct cs_state *st)
{
	struct cs_hits *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);

	if (!r)
		return -1;
	r->seq = msg_seq(st);
	r->nhits = CS_MAX_HITS;
	r->_pad = 0;
	__builtin_memcpy(r->hits, st->hits, sizeof(r->hits));
	/* the collector drains while the scan goes on: a bulk send may hold thousands */
	bpf_ringbuf_submit(r, 0);
	st->nhits = 0;
	cnt_add(CS_CNT_HIT_RECORDS, 1);
	return 0;
}

/* A token of enrolled length ended: fingerprint it and keep it if the tag table knows it. */
__noinline int cs_token(__u64 acc, __u32 len, __u32 start, __u32 end)
{
	struct cs_state *st = state_get();
	struct cs_counters *cnt = counters_get();
	struct cs_key k;
	__u64 fp;
	__u32 i, n;
	int kind;

	if (!st || !cnt)
		return 0;
	/* a token carried from the flow's last send and ended at once was reported there */
	if ((start & CS_HIT_SPLIT) && !end)
		return 0;
	if (!(st->sflags & CS_SK_AGAIN))
		cnt->c[CS_CNT_TOKENS]++;
	cs_key_get(&k);
	fp = cs_fp(&k, acc, len);
	kind = cs_tag_lookup(fp);
	if (!kind)
		return 0;
	n = st->nhits;
	for (i = 0; i < CS_MAX_HITS; i++) {
		if (i >= n)
			break;
		if (st->hits[i].fp == fp)
			return 0; /* same value again in this send */
	}
	cnt->c[CS_CNT_HITS]++;
	if (kind == 1) {
		st->nstrong++;
		if (cfg_block)
			cs_enf_hit(st, fp);
	}
	if (n >= CS_MAX_HITS) {
		/* a full batch goes ahead of the event, the hit starts the next one */
		if (cs_hits_flush(st)) {
			cnt->c[CS_CNT_HITS_OVERFLOW]++;
			st->flags |= CS_EV_HITS_OVERFLOW;
			return 0;
		}
		n = 0;
	}
	st->hits[n & (CS_MAX_HITS - 1)].fp = fp;
	st->hits[n & (CS_MAX_HITS - 1)].start = start;
	st->hits[n & (CS_MAX_HITS - 1)].end = end;
	st->nhits = n + 1;
	return 1;
}

/*
 * The state a scan step works on: 0 the send's own tokeniser (st->scan), 1 the carried one
 * (st->cscan). An offset computed without a branch, so the verifier walks the loop once.
 */
#define CS_SCAN_AT(st, which)                                                                      \
	((struct cs_scan *)((void *)(st) + __builtin_offsetof(struct cs_state, scan) +             \
			    ((which)&1) * (__builtin_offsetof(struct cs_state, cscan) -            \
					   __builtin_offsetof(struct cs_state, scan))))

/*
 * The tokeniser over st->chunk[off..off+n) (n <= CS_STEP), message
 * offset pos + off: a global function, so the verifier walks its loop once, on its own.
 */
__noinline int cs_scan_chunk_step(__u32 off, __u32 n, __u32 pos, __u32 which)
{
	struct cs_state *st = state_get();
	struct cs_sink sink;
	struct cs_key k;

	if (!st)
		return 0;
	sink.tok_min = &st->tok_min;
	cs_key_get(&k);
	/* any offset: chunk_pad holds CS_STEP bytes after the chunk */
	off &= CS_CHUNK - 1;
	cs_scan_step(CS_SCAN_AT(st, which), &k, st->chunk + off, n, pos + off, &sink);
	return 0;
}

/* End of the message for one of the two tokenisers: emit its open tokens. */
__noinline int cs_flush(__u32 which)
{
	struct cs_state *st = state_get();
	struct cs_sink sink = {.tok_min = NULL};
	struct cs_key k;

	if (!st)
		return 0;
	cs_key_get(&k);
	cs_scan_flush(CS_SCAN_AT(st, which), &k, &sink);
	return 0;
}

/* The tokeniser over st->chunk[start..end), message offset of the chunk pos. */
static __always_inline void cs_scan_range(__u32 start, __u32 end, __u32 pos)
{
	__u32 i;

	for (i = 0; i < CS_CHUNK / CS_STEP + 1; i++) {
		__u32 off = start + i * CS_STEP;

		if (off >= end)
			break;
		cs_scan_chunk_step(off, end - off < CS_STEP ? end - off : CS_STEP, pos, 0);
	}
}

#endif /* CS_TOKEN_BPF_H */
