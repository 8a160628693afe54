/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Keyed fingerprint and tag-table addressing, shared by BPF and userspace. A token's fingerprint
 * is SipHash-2-4(k0,k1; acc || len): acc is the keyed FNV-1a-64 the tokeniser (cs_scan.h)
 * accumulates over the token's normalised bytes, len its normalised length.
 */
#ifndef CS_HASH_H
#define CS_HASH_H

#include "cs_abi.h"

#define CS_ROTL(x, b) (__u64)(((x) << (b)) | ((x) >> (64 - (b))))
#define CS_SIPROUND                                                                                \
	do {                                                                                       \
		v0 += v1;                                                                          \
		v1 = CS_ROTL(v1, 13);                                                              \
		v1 ^= v0;                                                                          \
		v0 = CS_ROTL(v0, 32);                                                              \
		v2 += v3;                                                                          \
		v3 = CS_ROTL(v3, 16);                                                              \
		v3 ^= v2;                                                                          \
		v0 += v3;                                                                          \
		v3 = CS_ROTL(v3, 21);                                                              \
		v3 ^= v0;                                                                          \
		v2 += v1;                                                                          \
		v1 = CS_ROTL(v1, 17);                                                              \
		v1 ^= v2;                                                                          \
		v2 = CS_ROTL(v2, 32);                                                              \
	} while (0)

/* SipHash-2-4 of the 16-byte message m0 || m1 (little-endian words), per the reference. */
CS_INLINE __u64 cs_sip24_2w(__u64 k0, __u64 k1, __u64 m0, __u64 m1)
{
	__u64 v0 = k0 ^ 0x736f6d6570736575ULL;
	__u64 v1 = k1 ^ 0x646f72616e646f6dULL;
	__u64 v2 = k0 ^ 0x6c7967656e657261ULL;
	__u64 v3 = k1 ^ 0x7465646279746573ULL;
	__u64 b = (__u64)16 << 56;

	v3 ^= m0;
	CS_SIPROUND;
	CS_SIPROUND;
	v0 ^= m0;
	v3 ^= m1;
	CS_SIPROUND;
	CS_SIPROUND;
	v0 ^= m1;
	v3 ^= b;
	CS_SIPROUND;
	CS_SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	CS_SIPROUND;
	CS_SIPROUND;
	CS_SIPROUND;
	CS_SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

/* Fingerprint of a finished token. */
CS_INLINE __u64 cs_fp(const struct cs_key *k, __u64 acc, __u32 len)
{
	return cs_sip24_2w(k->k0, k->k1, acc, len);
}

/*
 * Prefilter: a cheap mix of a finished token (one multiply) whose top bits index a bitmap of
 * all enrolled tokens (a power of two of at least 16 bits per token, so 16-32: 3-6% of other
 * tokens pass). Only tokens that pass pay for SipHash and the tag table. acc is already keyed
 * (seeded FNV-1a), so the bitmap says nothing about registered values without the key. Past
 * 2^CS_PRE_LOG2_BIG bits (128 MiB) the bitmap takes 12 bits per token instead (12-24, 4-8%
 * pass): 151M fingerprints (10M subjects with hash variants) get 256 MiB, not 512.
 */
#define CS_PRE_BITS_PER_FP     16
#define CS_PRE_BITS_PER_FP_BIG 12
#define CS_PRE_LOG2_BIG	       30
#define CS_PRE_LOG2_MIN	       12
#define CS_PRE_LOG2_MAX	       33

CS_INLINE __u64 cs_pre(__u64 acc, __u32 len)
{
	__u64 x = acc ^ ((__u64)len << 48);

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return x;
}

/*
 * Tag-table addressing: a 32-bit tag (bit 0 set, so never 0; bit 1 clear) and two candidate
 * buckets among nb (any count: multiply-shift, not a mask, so the table is sized to the
 * fingerprints instead of the next power of two). The second bucket is cs_bucket_alt() of the
 * first: b1 + b2 = f(tag) (mod nb), so either one and the tag give the other (what
 * partial-key cuckoo insertion needs). The table stores the tag with CS_TAG_WEAK set when every
 * enrolled value with this fingerprint is a weak-field part: such a hit alone is no disclosure.
 */
#define CS_TAG_WEAK 2u

CS_INLINE __u32 cs_tag(__u64 fp)
{
	return ((__u32)(fp >> 32) | 1) & ~CS_TAG_WEAK;
}

/* x in [0, 2^32) scaled to [0, nb) */
CS_INLINE __u32 cs_scale(__u32 x, __u32 nb)
{
	return (__u32)(((__u64)x * nb) >> 32);
}

CS_INLINE __u32 cs_bucket1(__u64 fp, __u32 nb)
{
	return cs_scale((__u32)fp, nb);
}

/* The other bucket of a pair, from one bucket b < nb and the tag (weak bit ignored). */
CS_INLINE __u32 cs_bucket_alt(__u32 b, __u32 tag, __u32 nb)
{
	__u32 off = cs_scale((tag & ~CS_TAG_WEAK) * 0x9e3779b1u, nb);

	return off >= b ? off - b : off + (nb - b);
}

CS_INLINE __u32 cs_bucket2(__u64 fp, __u32 nb)
{
	return cs_bucket_alt(cs_bucket1(fp, nb), cs_tag(fp), nb);
}

#define CS_FNV_PRIME  0x100000001b3ULL
#define CS_FNV_OFFSET 0xcbf29ce484222325ULL /* cs_acc_str(CS_FNV_OFFSET, s): FNV-1a 64 of s */

/* Keyed W accumulator of a NUL-terminated lower-case ASCII word (e.g. "content-encoding"). */
CS_INLINE __u64 cs_acc_str(__u64 seed, const char *w)
{
	__u64 acc = seed;

	while (*w)
		acc = (acc ^ (__u8)*w++) * CS_FNV_PRIME;
	return acc;
}

/* FNV-1a 64 of n bytes, continuing from h (CS_FNV_OFFSET to start). */
CS_INLINE __u64 cs_fnv_mem(__u64 h, const void *p, __u64 n)
{
	const __u8 *b = (const __u8 *)p;

	for (__u64 i = 0; i < n; i++)
		h = (h ^ b[i]) * CS_FNV_PRIME;
	return h;
}

/*
 * Host names of enforce mode's table (cs_abi.h CS_ENF_WILD): two polynomial hashes modulo the
 * prime 2^31 - 1 with secret bases b1, b2 in [2, 2^31 - 1) (drawn per run), over the lower-cased
 * bytes, packed as h1 << 32 | h2. Two distinct names of at most n bytes collide with probability
 * about (n / 2^31)^2 over the bases, which nobody outside the monitor knows. The kernel adds the
 * bytes from the end, passing every suffix's value on the way (bpf/lib/enforce.bpf.h).
 */
#define CS_HOSTH_P 0x7fffffffULL

CS_INLINE __u64 cs_host_lower(__u8 c)
{
	return c >= 'A' && c <= 'Z' ? (__u64)c + 32 : c;
}

CS_INLINE __u64 cs_host_hash(__u64 b1, __u64 b2, const char *s, __u32 n)
{
	__u64 h1 = 0, h2 = 0;
	__u32 i;

	for (i = 0; i < n; i++) {
		h1 = (h1 * b1 + cs_host_lower((__u8)s[i])) % CS_HOSTH_P;
		h2 = (h2 * b2 + cs_host_lower((__u8)s[i])) % CS_HOSTH_P;
	}
	return h1 << 32 | h2;
}

#endif /* CS_HASH_H */
