/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Inside the fingerprint DB (fpfile.h is its interface): the file's header layout, the compact
 * index and the mapping, shared by its modules: fpdb_entry.c (entry byte order, order, sort,
 * checksum), fpdb_index.c (the compact in-memory index), fpdb_map.c (the FPDB_MAPPED form and its
 * SIGBUS guard), fpdb_write.c (checks, the file writer), fpdb_load.c (the loader) and fpfile.c
 * (lookup, iteration, subjects, prefilter). Not for use outside user/fpdb/.
 */
#ifndef CS_FPDB_INT_H
#define CS_FPDB_INT_H

#include <setjmp.h>
#include <stddef.h>

#include "fpdb/fpfile.h"

/* Header field offsets, see fpfile.h. */
#define H_MAGIC	       0
#define H_VERSION      8
#define H_HDR_SIZE     12
#define H_KCV	       16
#define H_NSUBJECTS    24
#define H_NENTRIES     28
#define H_MIN_LEN      32
#define H_MAX_LEN      36
#define H_ENTRIES_OFF  40
#define H_SUBJECTS_OFF 48
#define H_FILE_SIZE    56
#define H_CRC	       64
#define H_PRE_LOG2     68
#define H_STRONG_MIN   72
#define H_FLAGS	       76
#define H_SENSITIVE    80 /* version 4 on */
#define H_NBIRTH       84
#define H_BIRTH_OFF    88
#define H_NONCE	       96

/* Entries converted and checksummed per write call. */
#define WR_BATCH 4096

/* Entries read per call when loading (1 MiB). */
#define LOAD_BATCH 65536
/* zlib's crc32() takes a 32-bit length. */
#define CRC_CHUNK (1u << 30)

static inline void put32(unsigned char *p, __u32 v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
}

static inline void put64(unsigned char *p, __u64 v)
{
	v = htole64(v);
	memcpy(p, &v, 8);
}

static inline __u32 get32(const unsigned char *p)
{
	__u32 v;

	memcpy(&v, p, 4);
	return le32toh(v);
}

static inline __u64 get64(const unsigned char *p)
{
	__u64 v;

	memcpy(&v, p, 8);
	return le64toh(v);
}

/*
 * The compact form of a loaded DB's entries, in two parts.
 *
 * Singles, fingerprints with one entry (phones, emails, ids: most of them): one record each, in
 * fp order. The top dir_bits bits of fp pick a bucket and dir[] holds the first record of every
 * bucket, so a record stores only the other rem_bits = 64 - dir_bits bits of fp (~16-32 records
 * a bucket: the directory costs 1-2 bits per record), then the subject index (subj_bits) and
 * the kind (kind_bits): the field, part, nparts and variant, one of the DB's few distinct
 * combinations in kinds[].
 *
 * Groups, fingerprints several entries share (a name part like "wang"): the fingerprint once
 * in groups[], sorted, and each entry as subject and kind only, in mrec[].
 *
 * At 10M subjects (58M entries, 15M of them name parts) that is 43 + 24 + 3 bits per single and
 * 27 bits per group entry: 7.6 bytes an entry instead of 16 (measured). Records are packed back
 * to back (little-endian bit order, one spare word at the end so a field is read with two loads
 * at most).
 *
 * Entry handles (fpdb_find, fpdb_entry): singles are 0..nsingle-1 in fp order, then group
 * entries nsingle.. in fp order. Iteration follows the handles.
 */
struct fp_kind {
	__u8 field;
	__u8 part;
	__u8 nparts;
	__u8 variant;
};

struct fp_group {
	__u64 fp;
	__u32 first; /* first entry in mrec */
	__u32 n;
};

struct ring_buf {
	struct fp_entry *e;
	__u32 cap;
};

struct fpdb_index {
	__u32 nsingle;
	__u32 dir_bits, rem_bits, subj_bits, kind_bits, rec_bits;
	__u32 *dir; /* (1 << dir_bits) + 1 single indices */
	__u64 *rec;
	__u32 ngroups, ngrouped;
	struct fp_group *groups;
	__u64 *mrec; /* ngrouped records of subj_bits + kind_bits */
	struct fp_kind *kinds;
	__u32 nkinds;
	/* building: kind key -> index + 1, open addressing; capacities of pass 1 */
	__u32 *kslot;
	__u32 kmask;
	/* fpdb_lookup() results */
	struct ring_buf ring[FPDB_LOOKUP_RING];
	unsigned ring_next;
};

/*
 * A DB loaded as FPDB_MAPPED: the file's read-only mapping; the entries are read in place
 * (fp_entry is the file's layout on a little-endian host), found through a directory of the
 * fingerprints' top bits. Subject ids are copied out of the mapping into a ring of buffers.
 */
struct fpdb_map {
	const unsigned char *base; /* the whole file */
	size_t len;
	const unsigned char *subj; /* its subjects region */
	__u64 subj_size;
	__u32 dir_bits;
	__u32 *dir; /* (1 << dir_bits) + 1: first entry of each value of the top dir_bits bits */
	char names[FPDB_LOOKUP_RING][FP_SUBJECT_MAX + 1];
	unsigned next;
	struct ring_buf ring[FPDB_LOOKUP_RING]; /* fpdb_lookup's copies of entries */
	unsigned ring_next;
	int failed; /* a read of the mapping faulted (fpdb_failed) */
};

/* One pass of entries in fp order into an index: a run of one fp is a single or a group. */
struct ix_pass {
	int pass; /* 1: count, 2: store */
	struct fp_entry prev;
	__u32 run; /* entries of prev.fp so far */
	__u32 s, m, g;
};

/* fpdb_map.c: the guard of reads of a mapping (see there) */
extern __thread sigjmp_buf *fpdb_guard_env;
extern __thread const struct fpdb_map *fpdb_guard_map;

/* The compiler must not move a read of the mapping out of the guarded stretch. */
#define MAP_BARRIER() __asm__ __volatile__("" ::: "memory")

/* Open a guarded read of mapping m (may be NULL: nothing to guard); on a fault, return failret. */
#define MAP_GUARD(m, failret)                                                                      \
	sigjmp_buf guard_env__;                                                                    \
	struct fpdb_map *volatile guard_m__ = (m);                                                 \
	if (guard_m__) {                                                                           \
		if (sigsetjmp(guard_env__, 0)) {                                                   \
			fpdb_guard_env = NULL;                                                     \
			fpdb_guard_map = NULL;                                                     \
			guard_m__->failed = 1;                                                     \
			errno = EIO;                                                               \
			return failret;                                                            \
		}                                                                                  \
		fpdb_guard_map = guard_m__;                                                        \
		fpdb_guard_env = &guard_env__;                                                     \
		MAP_BARRIER(); /* no read of the mapping moves above this */                       \
	}
/* Close it (before every return after MAP_GUARD). */
#define MAP_UNGUARD()                                                                              \
	do {                                                                                       \
		MAP_BARRIER(); /* nor below this */                                                \
		fpdb_guard_env = NULL;                                                             \
		fpdb_guard_map = NULL;                                                             \
	} while (0)

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define MAP_SUPPORTED 1
#else
#define MAP_SUPPORTED 0 /* the file's entries are little-endian: load them compact */
#endif

/* Entries a load or an iteration reads before it drops their pages again (64 MiB). */
#define MAP_WINDOW (1u << 22)

/* fpdb_entry.c */
unsigned long crc_update(unsigned long crc, const void *buf, size_t n);
unsigned long crc_header(const unsigned char *h, size_t hdr_size);
void entry_to_le(struct fp_entry *e);
void entry_from_le(struct fp_entry *e);

/* fpdb_map.c */
int map_guard_install(void);
void map_drop(const void *from, const void *to);
void map_drop_all(const struct fpdb_map *m);
__u64 map_bucket(const struct fpdb_map *m, __u64 fp);
void map_free(struct fpdb_map *m);
const char *subject_record(const unsigned char *b, __u64 size, __u64 r, __u32 *len);

/* fpdb_index.c */
__u32 bits_for(__u64 n);
void ix_free(struct fpdb_index *ix);
struct fpdb_index *ix_new(__u32 n, __u32 nsub);
__u64 ix_bucket(const struct fpdb_index *ix, __u64 fp);
__u64 ix_remof(const struct fpdb_index *ix, __u64 fp);
int ix_layout(struct fpdb_index *ix);
int ix_feed(struct fpdb_index *ix, struct ix_pass *p, const struct fp_entry *e);
int ix_end(struct fpdb_index *ix, struct ix_pass *p);
__u64 ix_rem(const struct fpdb_index *ix, __u32 i);
void ix_get_single(const struct fpdb_index *ix, __u32 i, __u64 b, struct fp_entry *e);
void ix_get_grouped(const struct fpdb_index *ix, __u32 m, __u64 fp, struct fp_entry *e);
__u64 ix_bucket_of(const struct fpdb_index *ix, __u32 i);
__u32 ix_group_of(const struct fpdb_index *ix, __u32 m);

/* fpdb_birth.c: a birth record in the file is 8 bytes: u32 subject, u32 masked value */
#define BIRTH_REC 8
/* The per-file pad key of the birth records: from the fingerprint key and the file's nonce. */
struct birth_pad {
	__u64 k0, k1;
};
void birth_pad_init(struct birth_pad *p, const struct cs_key *key,
		    const unsigned char nonce[FP_NONCE_SIZE]);
__u32 birth_pad(const struct birth_pad *p, __u32 subject);
const char *births_check(const struct fpdb_birth *b, __u32 n, __u32 nsub);
const char *births_load(struct fpdb *d, const unsigned char *raw, __u32 n,
			const struct birth_pad *p, __u32 *bad);

/* fpdb_write.c: checks the loader shares */
const char *check_entry(const struct fp_entry *e, const struct fp_entry *prev, __u32 nsub);
int window_ok(const char *path, const struct fpdb *db);
__u64 pre_bytes(__u32 pre_log2);

#endif
