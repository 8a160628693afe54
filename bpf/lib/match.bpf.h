/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The matching stage every scanning BPF object shares (the monitor and the bench's hooktax): the
 * load-time key and window of enrolled token lengths, the prefilter bitmap and the tag table
 * (both filled by the loader through mmap), the per-token prefilter test and the bucket probe.
 */
#ifndef CS_MATCH_BPF_H
#define CS_MATCH_BPF_H

#include "cs_abi.h"
#include "cs_hash.h"

/* Set by the loader before load (rodata); read-only afterwards. */
const volatile __u32 cfg_min_len = 1;	       /* shortest enrolled token (normalised bytes) */
const volatile __u32 cfg_max_len = 0xffffffff; /* longest enrolled token */
const volatile __u32 cfg_tag_buckets = 1;      /* buckets of the tag table */
const volatile __u32 cfg_pre_shift = 63;       /* 64 - log2(prefilter bits) */
const volatile __u64 cfg_k0 = 0, cfg_k1 = 0, cfg_seed = 0;
const volatile __u64 cfg_ce = 0; /* cs_key.ce: "content-encoding" under the key */

/* Prefilter: 32-bit tags in buckets, filled by the collector through mmap before attach. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1); /* resized by the loader */
	__type(key, __u32);
	__type(value, struct cs_bucket);
} tags SEC(".maps");

/* Prefilter bitmap over cs_pre() of every enrolled token (cs_hash.h), filled through mmap. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1); /* resized by the loader */
	__type(key, __u32);
	__type(value, __u64);
} pre SEC(".maps");

static __always_inline void cs_key_get(struct cs_key *k)
{
	k->k0 = cfg_k0;
	k->k1 = cfg_k1;
	k->seed = cfg_seed;
	k->k3 = 0;
	k->ce = cfg_ce;
}

/*
 * A finished token costs a length test and one bit of the prefilter bitmap (an inlined array
 * lookup); only tokens that pass both (~6% of those not enrolled) pay for SipHash and the tag
 * table. len must be the token's opaque length (cs_scan.h struct cs_token): testing the
 * scanner's own length register would narrow its range, the next test would be decided from it
 * and the verifier would have to keep one state per length. min: the shortest length to look
 * up (at least cfg_min_len).
 */
static __always_inline int cs_pre_pass(__u64 acc, __u32 len, __u32 min)
{
	__u64 b, *p;
	__u32 w;

	if (len < min || len > cfg_max_len)
		return 0;
	b = cs_pre(acc, len) >> cfg_pre_shift;
	w = b >> 6;
	p = bpf_map_lookup_elem(&pre, &w);
	return p && ((*p >> (b & 63)) & 1);
}

/* 0: not in the bucket; 1: strong tag; 2: weak-only tag (see cs_hash.h CS_TAG_WEAK). */
static __always_inline int bucket_has(__u32 idx, __u32 tag)
{
	struct cs_bucket *b = bpf_map_lookup_elem(&tags, &idx);
	int i;

	if (!b)
		return 0;
	for (i = 0; i < CS_TAG_SLOTS; i++)
		if ((b->tag[i] | CS_TAG_WEAK) == (tag | CS_TAG_WEAK))
			return b->tag[i] & CS_TAG_WEAK ? 2 : 1;
	return 0;
}

/* The tag table's verdict on a fingerprint: 0 absent, 1 strong, 2 weak-only. */
static __always_inline int cs_tag_lookup(__u64 fp)
{
	__u32 tag = cs_tag(fp);
	int kind = bucket_has(cs_bucket1(fp, cfg_tag_buckets), tag);

	return kind ? kind : bucket_has(cs_bucket2(fp, cfg_tag_buckets), tag);
}

/*
 * Bytes of the next chunk of a segment of len bytes at off < len: at most CS_CHUNK, clamped in a
 * form the verifier reads as [1, CS_CHUNK] (a copy of exactly that many bytes into a chunk).
 */
static __always_inline __u32 cs_chunk_len(__u32 len, __u32 off)
{
	__u32 n = len - off;

	if (n > CS_CHUNK)
		n = CS_CHUNK;
	return ((n - 1) & (CS_CHUNK - 1)) + 1;
}

#endif /* CS_MATCH_BPF_H */
