/* SPDX-License-Identifier: GPL-2.0-only */
/* The kernel's tag table: sizing, cuckoo insertion, the fill from a fingerprint DB. */
#ifndef CS_TAGTABLE_H
#define CS_TAGTABLE_H

#include <stddef.h>
#include "cs_abi.h"

struct fpdb;

/*
 * Build the bucketed tag table for n distinct fingerprints; weak[i] (or NULL: none) marks a
 * fingerprint every enrolled value of which is a weak-field part (tests). Returns
 * the number of buckets (tagtable_nbuckets(n), 1/8 more per failed attempt) or 0 on ENOMEM.
 */
__u32 tagtable_build(const __u64 *fps, const __u8 *weak, size_t n, struct cs_bucket **out);
/* Buckets for n distinct fingerprints: the fewest with slots at most 90% full. */
__u32 tagtable_nbuckets(size_t n);
/* The largest table: 2^31 buckets of 32 bytes, far more than any DB (151M fps: 21M). */
#define TT_MAX_BUCKETS (1u << 31)
/* Distinct fingerprints of db. */
size_t tagtable_count_db(const struct fpdb *db);
/*
 * Fill the zeroed table t of nb buckets with the distinct fingerprints of db (the loader fills
 * the kernel's map in place). seed varies the cuckoo moves. 0, or -ENOSPC (t then misses some).
 */
int tagtable_fill_db(struct cs_bucket *t, __u32 nb, const struct fpdb *db, __u64 seed);

#endif
