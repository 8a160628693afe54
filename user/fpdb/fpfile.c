// SPDX-License-Identifier: GPL-2.0-only
#define _GNU_SOURCE /* asprintf, mkostemp */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "fpdb/fpfile.h"
#include "cs_hash.h"
#include "fpdb/keyfile.h"
#include "lib/fileio.h"
#include "lib/log.h"
#include "lib/util.h"

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

/* Entries converted and checksummed per write call. */
#define WR_BATCH 4096

/* Entries read per call when loading (1 MiB). */
#define LOAD_BATCH 65536
/* zlib's crc32() takes a 32-bit length. */
#define CRC_CHUNK (1u << 30)

static void put32(unsigned char *p, __u32 v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
}

static void put64(unsigned char *p, __u64 v)
{
	v = htole64(v);
	memcpy(p, &v, 8);
}

static __u32 get32(const unsigned char *p)
{
	__u32 v;

	memcpy(&v, p, 4);
	return le32toh(v);
}

static __u64 get64(const unsigned char *p)
{
	__u64 v;

	memcpy(&v, p, 8);
	return le64toh(v);
}

static unsigned long crc_update(unsigned long crc, const void *buf, size_t n)
{
	const unsigned char *p = buf;

	while (n) {
		unsigned m = n > CRC_CHUNK ? CRC_CHUNK : (unsigned)n;

		crc = crc32(crc, p, m);
		p += m;
		n -= m;
	}
	return crc;
}

/* Checksum of the header without its crc field. */
static unsigned long crc_header(const unsigned char *h)
{
	unsigned long crc = crc32(0L, Z_NULL, 0);

	crc = crc32(crc, h, H_CRC);
	return crc32(crc, h + H_PRE_LOG2, FP_HDR_SIZE - H_PRE_LOG2);
}

static void entry_to_le(struct fp_entry *e)
{
	e->fp = htole64(e->fp);
	e->subject = htole32(e->subject);
}

static void entry_from_le(struct fp_entry *e)
{
	e->fp = le64toh(e->fp);
	e->subject = le32toh(e->subject);
}

int fp_entry_cmp(const struct fp_entry *a, const struct fp_entry *b)
{
	if (a->fp != b->fp)
		return a->fp < b->fp ? -1 : 1;
	if (a->subject != b->subject)
		return a->subject < b->subject ? -1 : 1;
	if (a->field != b->field)
		return a->field < b->field ? -1 : 1;
	if (a->part != b->part)
		return a->part < b->part ? -1 : 1;
	if (a->nparts != b->nparts)
		return a->nparts < b->nparts ? -1 : 1;
	if (a->variant != b->variant)
		return a->variant < b->variant ? -1 : 1;
	return 0;
}

static int entry_qcmp(const void *a, const void *b)
{
	return fp_entry_cmp(a, b);
}

/*
 * Order a run of entries that share the top 32 bits of fp. The radix passes are stable and
 * enroll appends in subject order, so a long run (a name part 10^5 subjects share) is usually
 * in order already: check that first.
 */
static void sort_run(struct fp_entry *e, __u32 n)
{
	__u32 i;

	for (i = 1; i < n && fp_entry_cmp(&e[i - 1], &e[i]) <= 0; i++)
		;
	if (i == n)
		return;
	if (n > 16) {
		qsort(e, n, sizeof(*e), entry_qcmp);
		return;
	}
	for (__u32 i = 1; i < n; i++) {
		struct fp_entry t = e[i];
		__u32 j = i;

		while (j && fp_entry_cmp(&e[j - 1], &t) > 0) {
			e[j] = e[j - 1];
			j--;
		}
		e[j] = t;
	}
}

/* Runs of entries with equal top 32 bits of fp in e[0..n), each ordered by all keys. */
static void sort_runs(struct fp_entry *e, __u32 n)
{
	__u32 i, run;

	for (i = 0; i < n; i += run) {
		for (run = 1; i + run < n && e[i + run].fp >> 32 == e[i].fp >> 32; run++)
			;
		if (run > 1)
			sort_run(e + i, run);
	}
}

/*
 * One MSD bucket src[0..n) (equal top 16 bits of fp) into dst, ordered: two 8-bit LSD passes
 * on bits 32..47 through scratch, then the runs of equal top 32 bits. A bucket is ~2-3k entries
 * at 10^8 entries, so this works in the cache.
 */
static void sort_bucket(const struct fp_entry *src, struct fp_entry *dst, struct fp_entry *scratch,
			__u32 n)
{
	__u32 cnt[2][256] = {{0}}, i;

	if (n < 2) {
		memcpy(dst, src, (size_t)n * sizeof(*src));
		return;
	}
	for (i = 0; i < n; i++) {
		cnt[0][(src[i].fp >> 32) & 0xff]++;
		cnt[1][(src[i].fp >> 40) & 0xff]++;
	}
	for (int d = 0; d < 2; d++)
		for (__u32 b = 0, sum = 0, c; b < 256; b++) {
			c = cnt[d][b];
			cnt[d][b] = sum;
			sum += c;
		}
	for (i = 0; i < n; i++)
		scratch[cnt[0][(src[i].fp >> 32) & 0xff]++] = src[i];
	for (i = 0; i < n; i++)
		dst[cnt[1][(scratch[i].fp >> 40) & 0xff]++] = scratch[i];
	sort_runs(dst, n);
}

/*
 * MSD radix sort: one stable pass scatters the entries by the top 16 bits of fp into a scratch
 * copy, then every bucket is sorted back in the cache (sort_bucket). Fingerprints are uniform,
 * so buckets are small, except where many subjects share a value (a name part): such a run is
 * found in order already (sort_run). 1.7e8 entries (10M subjects with hash variants) take ~5 s,
 * the four LSD passes over the whole array it replaces ~11 s. Falls back to qsort when memory
 * for the copy is missing.
 */
static void sort_entries(struct fp_entry *e, __u32 n)
{
	struct fp_entry *tmp = NULL, *scratch = NULL;
	__u32 *cnt = NULL, i, max = 0;

	if (n < 4096)
		goto fallback;
	tmp = malloc((size_t)n * sizeof(*e));
	cnt = calloc(65536 + 1, sizeof(*cnt));
	if (!tmp || !cnt)
		goto fallback;
	for (i = 0; i < n; i++)
		cnt[(e[i].fp >> 48) + 1]++;
	for (__u32 b = 0; b < 65536; b++) {
		if (cnt[b + 1] > max)
			max = cnt[b + 1];
		cnt[b + 1] += cnt[b];
	}
	scratch = malloc((size_t)max * sizeof(*e));
	if (!scratch)
		goto fallback;
	for (i = 0; i < n; i++)
		tmp[cnt[e[i].fp >> 48]++] = e[i];
	/* cnt[b] is now the end of bucket b */
	for (__u32 b = 0, start = 0; b < 65536; start = cnt[b++])
		sort_bucket(tmp + start, e + start, scratch, cnt[b] - start);
	free(scratch);
	free(tmp);
	free(cnt);
	return;
fallback:
	free(scratch);
	free(tmp);
	free(cnt);
	qsort(e, n, sizeof(*e), entry_qcmp);
}

__u32 fp_entries_sort(struct fp_entry *e, __u32 n)
{
	__u32 i, w = 0;

	if (!n)
		return 0;
	sort_entries(e, n);
	for (i = 1; i < n; i++)
		if (fp_entry_cmp(&e[w], &e[i]))
			e[++w] = e[i];
	return w + 1;
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

/*
 * A mapped DB trusts its file once loaded. If the file is truncated under the running monitor
 * (cp over it rewrites it in place; enroll's rename does not), a read of a page past the new end
 * raises SIGBUS. Every reader of a mapping runs inside MAP_GUARD: the handler jumps out of a
 * fault inside that mapping, the reader returns its failure value with errno EIO, and
 * fpdb_failed() tells the caller from then on. A SIGBUS anywhere else gets the default action.
 */
static __thread sigjmp_buf *guard_env;
static __thread const struct fpdb_map *guard_map;
static struct sigaction guard_prev; /* the disposition before ours, for other faults */

static void map_sigbus(int sig, siginfo_t *si, void *uc)
{
	const struct fpdb_map *m = guard_map;
	const unsigned char *a = si->si_addr;

	(void)uc;
	if (guard_env && m && a >= m->base && a < m->base + m->len)
		siglongjmp(*guard_env, 1);
	/* not a read of ours: on return it faults again, under the disposition before ours */
	sigaction(sig, &guard_prev, NULL);
}

/* At each mapped load (whoever set a SIGBUS handler since, ours goes back on top). */
static int map_guard_install(void)
{
	struct sigaction sa = {.sa_sigaction = map_sigbus, .sa_flags = SA_SIGINFO | SA_NODEFER};
	struct sigaction old;

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, &old))
		return -errno;
	if (!(old.sa_flags & SA_SIGINFO) || old.sa_sigaction != map_sigbus)
		guard_prev = old;
	return 0;
}

/* The compiler must not move a read of the mapping out of the guarded stretch. */
#define MAP_BARRIER() __asm__ __volatile__("" ::: "memory")

/* Open a guarded read of mapping m (may be NULL: nothing to guard); on a fault, return failret. */
#define MAP_GUARD(m, failret)                                                                      \
	sigjmp_buf guard_env__;                                                                    \
	struct fpdb_map *volatile guard_m__ = (m);                                                 \
	if (guard_m__) {                                                                           \
		if (sigsetjmp(guard_env__, 0)) {                                                   \
			guard_env = NULL;                                                          \
			guard_map = NULL;                                                          \
			guard_m__->failed = 1;                                                     \
			errno = EIO;                                                               \
			return failret;                                                            \
		}                                                                                  \
		guard_map = guard_m__;                                                             \
		guard_env = &guard_env__;                                                          \
		MAP_BARRIER(); /* no read of the mapping moves above this */                       \
	}
/* Close it (before every return after MAP_GUARD). */
#define MAP_UNGUARD()                                                                              \
	do {                                                                                       \
		MAP_BARRIER(); /* nor below this */                                                \
		guard_env = NULL;                                                                  \
		guard_map = NULL;                                                                  \
	} while (0)

int fpdb_failed(const struct fpdb *db)
{
	return db->map && db->map->failed;
}

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define MAP_SUPPORTED 1
#else
#define MAP_SUPPORTED 0 /* the file's entries are little-endian: load them compact */
#endif

/* Entries a load or an iteration reads before it drops their pages again (64 MiB). */
#define MAP_WINDOW (1u << 22)

/*
 * Unmap the pages of [from, to) of the mapping from this process: they stay in the page cache
 * (a later lookup maps them again) but no longer count in its resident set, so walking a 3 GB
 * file does not make the collector 3 GB. Only pages wholly read are passed.
 */
static void map_drop(const void *from, const void *to)
{
	uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t a = (uintptr_t)from & ~(pg - 1), b = (uintptr_t)to & ~(pg - 1);

	if (b > a)
		madvise((void *)a, b - a, MADV_DONTNEED);
}

/* All of the mapping: fault-around maps up to 64 KiB next to each page read, not only it. */
static void map_drop_all(const struct fpdb_map *m)
{
	uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);

	madvise((void *)m->base, (m->len + pg - 1) & ~(pg - 1), MADV_DONTNEED);
}

static __u64 map_bucket(const struct fpdb_map *m, __u64 fp)
{
	return m->dir_bits ? fp >> (64 - m->dir_bits) : 0;
}

static void map_free(struct fpdb_map *m)
{
	if (!m)
		return;
	if (m->base)
		munmap((void *)m->base, m->len);
	for (unsigned i = 0; i < FPDB_LOOKUP_RING; i++)
		free(m->ring[i].e);
	free(m->dir);
	free(m);
}

/*
 * The subject record at offset r of a subjects region of size bytes (u16 length, then the id):
 * its length into *len; or what is wrong with it.
 */
static const char *subject_record(const unsigned char *b, __u64 size, __u64 r, __u32 *len)
{
	if (r > size || size - r < 2)
		return "subject table shorter than nsubjects";
	*len = b[r] | (__u32)b[r + 1] << 8;
	if (!*len || *len > FP_SUBJECT_MAX)
		return "bad subject id length";
	if (size - r - 2 < *len)
		return "subject table shorter than nsubjects";
	if (memchr(b + r + 2, '\0', *len))
		return "NUL byte in subject id";
	return NULL;
}

/* One pass of entries in fp order into an index: a run of one fp is a single or a group. */
struct ix_pass {
	int pass; /* 1: count, 2: store */
	struct fp_entry prev;
	__u32 run; /* entries of prev.fp so far */
	__u32 s, m, g;
};

/* Bits to store any of n values 0..n-1. */
static __u32 bits_for(__u64 n)
{
	return n <= 1 ? 0 : 64 - (__u32)__builtin_clzll(n - 1);
}

static __u64 get_bits(const __u64 *w, __u64 pos, __u32 width)
{
	__u64 i = pos >> 6, v;
	__u32 s = pos & 63;

	if (!width)
		return 0;
	v = w[i] >> s;
	if (s && s + width > 64)
		v |= w[i + 1] << (64 - s);
	return width == 64 ? v : v & ((1ULL << width) - 1);
}

/* w must be zero at the destination bits. */
static void put_bits(__u64 *w, __u64 pos, __u32 width, __u64 v)
{
	__u64 i = pos >> 6;
	__u32 s = pos & 63;

	if (!width)
		return;
	w[i] |= v << s;
	if (s && s + width > 64)
		w[i + 1] |= v >> (64 - s);
}

static __u32 kind_key(__u8 field, __u8 part, __u8 nparts, __u8 variant)
{
	return field | (__u32)part << 8 | (__u32)nparts << 16 | (__u32)variant << 24;
}

static __u32 kind_hash(__u32 k)
{
	return (k * 0x9e3779b1u) >> 7;
}

/* Index of e's kind, added when new. -ENOMEM or >= 0. */
static long kind_index(struct fpdb_index *ix, const struct fp_entry *e)
{
	__u32 k = kind_key(e->field, e->part, e->nparts, e->variant), i;

	if ((__u64)(ix->nkinds + 1) * 2 > (__u64)ix->kmask + 1) {
		__u32 n = ix->kslot ? (ix->kmask + 1) * 2 : 64;
		__u32 *t = calloc(n, sizeof(*t));
		struct fp_kind *kinds = realloc(ix->kinds, (size_t)n / 2 * sizeof(*kinds));

		if (kinds)
			ix->kinds = kinds;
		if (!t || !kinds) {
			free(t);
			return -ENOMEM;
		}
		free(ix->kslot);
		ix->kslot = t;
		ix->kmask = n - 1;
		for (__u32 j = 0; j < ix->nkinds; j++) {
			const struct fp_kind *q = &ix->kinds[j];

			for (i = kind_hash(kind_key(q->field, q->part, q->nparts, q->variant)) &
				 ix->kmask;
			     t[i]; i = (i + 1) & ix->kmask)
				;
			t[i] = j + 1;
		}
	}
	for (i = kind_hash(k) & ix->kmask; ix->kslot[i]; i = (i + 1) & ix->kmask) {
		const struct fp_kind *q = &ix->kinds[ix->kslot[i] - 1];

		if (kind_key(q->field, q->part, q->nparts, q->variant) == k)
			return ix->kslot[i] - 1;
	}
	ix->kinds[ix->nkinds] = (struct fp_kind){e->field, e->part, e->nparts, e->variant};
	ix->kslot[i] = ++ix->nkinds;
	return ix->nkinds - 1;
}

static void ix_free(struct fpdb_index *ix)
{
	if (!ix)
		return;
	for (unsigned r = 0; r < FPDB_LOOKUP_RING; r++)
		free(ix->ring[r].e);
	free(ix->dir);
	free(ix->rec);
	free(ix->groups);
	free(ix->mrec);
	free(ix->kinds);
	free(ix->kslot);
	free(ix);
}

/* Start an index of at most n entries of nsub subjects. */
static struct fpdb_index *ix_new(__u32 n, __u32 nsub)
{
	struct fpdb_index *ix = calloc(1, sizeof(*ix));
	__u32 nb = bits_for((__u64)n + 1);

	if (!ix)
		return NULL;
	/* 2^dir_bits ~ n/16..n/32 */
	ix->dir_bits = nb > 5 ? nb - 5 : 0;
	ix->rem_bits = 64 - ix->dir_bits;
	ix->subj_bits = bits_for(nsub);
	ix->dir = calloc(((size_t)1 << ix->dir_bits) + 1, sizeof(*ix->dir));
	if (!ix->dir) {
		ix_free(ix);
		return NULL;
	}
	return ix;
}

static __u64 ix_bucket(const struct fpdb_index *ix, __u64 fp)
{
	return ix->dir_bits ? fp >> ix->rem_bits : 0;
}

static __u64 ix_remof(const struct fpdb_index *ix, __u64 fp)
{
	return ix->rem_bits == 64 ? fp : fp & ((1ULL << ix->rem_bits) - 1);
}

/* Between the passes: bucket starts, record widths, zeroed records. 0 or -ENOMEM. */
static int ix_layout(struct fpdb_index *ix)
{
	size_t nb = (size_t)1 << ix->dir_bits;

	for (size_t b = 0; b < nb; b++)
		ix->dir[b + 1] += ix->dir[b];
	ix->kind_bits = bits_for(ix->nkinds);
	ix->rec_bits = ix->rem_bits + ix->subj_bits + ix->kind_bits;
	ix->rec = calloc(((__u64)ix->nsingle * ix->rec_bits + 63) / 64 + 1, sizeof(*ix->rec));
	ix->groups = calloc(ix->ngroups ? ix->ngroups : 1, sizeof(*ix->groups));
	ix->mrec = calloc(((__u64)ix->ngrouped * (ix->subj_bits + ix->kind_bits) + 63) / 64 + 1,
			  sizeof(*ix->mrec));
	return ix->rec && ix->groups && ix->mrec ? 0 : -ENOMEM;
}

/* Kind index of e for a record: -EINVAL if pass 1 did not see it (the file changed). */
static long ix_kind2(struct fpdb_index *ix, const struct fp_entry *e)
{
	long k = kind_index(ix, e);

	if (k >= 0 && (__u64)k >= (1ULL << ix->kind_bits))
		return -EINVAL;
	return k;
}

static int ix_single(struct fpdb_index *ix, struct ix_pass *p, const struct fp_entry *e)
{
	__u64 b = ix_bucket(ix, e->fp), pos;
	long k;

	if (p->pass == 1) {
		ix->nsingle++;
		ix->dir[b + 1]++;
		return 0;
	}
	k = ix_kind2(ix, e);
	if (k < 0)
		return (int)k;
	if (p->s >= ix->nsingle || p->s < ix->dir[b] || p->s >= ix->dir[b + 1])
		return -EINVAL;
	pos = (__u64)p->s++ * ix->rec_bits;
	put_bits(ix->rec, pos, ix->rem_bits, ix_remof(ix, e->fp));
	put_bits(ix->rec, pos + ix->rem_bits, ix->subj_bits, e->subject);
	put_bits(ix->rec, pos + ix->rem_bits + ix->subj_bits, ix->kind_bits, (__u64)k);
	return 0;
}

/* An entry of a group; first: it starts the group. */
static int ix_grouped(struct fpdb_index *ix, struct ix_pass *p, const struct fp_entry *e, int first)
{
	__u32 w = ix->subj_bits + ix->kind_bits;
	long k;

	if (p->pass == 1) {
		ix->ngroups += first;
		ix->ngrouped++;
		return 0;
	}
	k = ix_kind2(ix, e);
	if (k < 0)
		return (int)k;
	if (first) {
		if (p->g >= ix->ngroups)
			return -EINVAL;
		ix->groups[p->g++] = (struct fp_group){e->fp, p->m, 0};
	}
	if (p->m >= ix->ngrouped)
		return -EINVAL;
	put_bits(ix->mrec, (__u64)p->m * w, ix->subj_bits, e->subject);
	put_bits(ix->mrec, (__u64)p->m * w + ix->subj_bits, ix->kind_bits, (__u64)k);
	p->m++;
	ix->groups[p->g - 1].n++;
	return 0;
}

/* The next entry of a pass, in fp_entry_cmp order. 0, -ENOMEM or -EINVAL. */
static int ix_feed(struct fpdb_index *ix, struct ix_pass *p, const struct fp_entry *e)
{
	int err = 0;

	if (p->pass == 1) {
		long k = kind_index(ix, e);

		if (k < 0)
			return (int)k;
	}
	if (p->run && e->fp == p->prev.fp) {
		if (p->run == 1)
			err = ix_grouped(ix, p, &p->prev, 1);
		if (!err)
			err = ix_grouped(ix, p, e, 0);
		p->run++;
		return err;
	}
	if (p->run == 1)
		err = ix_single(ix, p, &p->prev);
	p->prev = *e;
	p->run = 1;
	return err;
}

/* End of a pass: the last run; after pass 2 the counts must be those of pass 1. */
static int ix_end(struct fpdb_index *ix, struct ix_pass *p)
{
	int err = p->run == 1 ? ix_single(ix, p, &p->prev) : 0;

	p->run = 0;
	if (err || p->pass == 1)
		return err;
	if (p->s != ix->nsingle || p->m != ix->ngrouped || p->g != ix->ngroups)
		return -EINVAL;
	/* the kind lookup table is not needed any more */
	free(ix->kslot);
	ix->kslot = NULL;
	ix->kmask = 0;
	return 0;
}

static __u64 ix_rem(const struct fpdb_index *ix, __u32 i)
{
	return get_bits(ix->rec, (__u64)i * ix->rec_bits, ix->rem_bits);
}

static void ix_kind_to(const struct fpdb_index *ix, __u64 k, struct fp_entry *e)
{
	const struct fp_kind *q = &ix->kinds[k];

	e->field = q->field;
	e->part = q->part;
	e->nparts = q->nparts;
	e->variant = q->variant;
}

/* Single i, which lies in bucket b. */
static void ix_get_single(const struct fpdb_index *ix, __u32 i, __u64 b, struct fp_entry *e)
{
	__u64 pos = (__u64)i * ix->rec_bits;
	__u64 rem = get_bits(ix->rec, pos, ix->rem_bits);

	e->fp = ix->dir_bits ? b << ix->rem_bits | rem : rem;
	e->subject = (__u32)get_bits(ix->rec, pos + ix->rem_bits, ix->subj_bits);
	ix_kind_to(ix, get_bits(ix->rec, pos + ix->rem_bits + ix->subj_bits, ix->kind_bits), e);
}

/* Grouped entry m, of fingerprint fp. */
static void ix_get_grouped(const struct fpdb_index *ix, __u32 m, __u64 fp, struct fp_entry *e)
{
	__u64 pos = (__u64)m * (ix->subj_bits + ix->kind_bits);

	e->fp = fp;
	e->subject = (__u32)get_bits(ix->mrec, pos, ix->subj_bits);
	ix_kind_to(ix, get_bits(ix->mrec, pos + ix->subj_bits, ix->kind_bits), e);
}

/* The bucket holding single i: the last b with dir[b] <= i. */
static __u64 ix_bucket_of(const struct fpdb_index *ix, __u32 i)
{
	__u64 lo = 0, hi = (__u64)1 << ix->dir_bits;

	while (hi - lo > 1) {
		__u64 mid = lo + (hi - lo) / 2;

		if (ix->dir[mid] <= i)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* The group holding grouped entry m: the last g with groups[g].first <= m. */
static __u32 ix_group_of(const struct fpdb_index *ix, __u32 m)
{
	__u32 lo = 0, hi = ix->ngroups;

	while (hi - lo > 1) {
		__u32 mid = lo + (hi - lo) / 2;

		if (ix->groups[mid].first <= m)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

static __u32 find_in(const struct fpdb *db, __u64 fp, __u32 *first)
{
	const struct fpdb_index *ix = db->ix;
	__u32 lo, hi;
	__u64 rem;

	if (db->entries || !ix) {
		const struct fp_entry *e = db->entries;
		__u32 end = e ? db->nentries : 0;

		lo = 0;
		if (db->map) {
			__u64 k = map_bucket(db->map, fp);

			lo = db->map->dir[k];
			end = db->map->dir[k + 1];
		}
		/* lower bound, then upper bound: a common name part has many entries */
		hi = end;
		while (lo < hi) {
			__u32 mid = lo + (hi - lo) / 2;

			if (e[mid].fp < fp)
				lo = mid + 1;
			else
				hi = mid;
		}
		*first = lo;
		hi = end;
		while (lo < hi) {
			__u32 mid = lo + (hi - lo) / 2;

			if (e[mid].fp <= fp)
				lo = mid + 1;
			else
				hi = mid;
		}
		return lo - *first;
	}
	lo = 0;
	hi = ix->ngroups;
	while (lo < hi) {
		__u32 mid = lo + (hi - lo) / 2;

		if (ix->groups[mid].fp < fp)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < ix->ngroups && ix->groups[lo].fp == fp) {
		*first = ix->nsingle + ix->groups[lo].first;
		return ix->groups[lo].n;
	}
	lo = ix->dir[ix_bucket(ix, fp)];
	hi = ix->dir[ix_bucket(ix, fp) + 1];
	rem = ix_remof(ix, fp);
	while (lo < hi) {
		__u32 mid = lo + (hi - lo) / 2;

		if (ix_rem(ix, mid) < rem)
			lo = mid + 1;
		else
			hi = mid;
	}
	*first = lo;
	return lo < ix->dir[ix_bucket(ix, fp) + 1] && ix_rem(ix, lo) == rem;
}

__u32 fpdb_find(const struct fpdb *db, __u64 fp, __u32 *first)
{
	__u32 n;
	MAP_GUARD(db->map, 0);

	n = find_in(db, fp, first);
	MAP_UNGUARD();
	return n;
}

void fpdb_entry(const struct fpdb *db, __u32 i, struct fp_entry *e)
{
	const struct fpdb_index *ix = db->ix;

	if (db->map) {
		MAP_GUARD(db->map, (void)memset(e, 0, sizeof(*e)));
		*e = db->entries[i];
		MAP_UNGUARD();
	} else if (db->entries)
		*e = db->entries[i];
	else if (i < ix->nsingle)
		ix_get_single(ix, i, ix_bucket_of(ix, i), e);
	else
		ix_get_grouped(ix, i - ix->nsingle, ix->groups[ix_group_of(ix, i - ix->nsingle)].fp,
			       e);
}

/*
 * The next FPDB_ITER_BATCH entries of a mapped DB into it->batch, copied under one guard (with a
 * guard per entry a walk of the 166M entries of 10M subjects with hash variants took 1.05 s warm,
 * now 0.66 s; start-up walks twice), dropping each window of the mapping once read, and all of it
 * at the end. The count; 0 at the end or on a fault (fpdb_failed).
 */
static __u32 map_batch(struct fpdb_iter *it)
{
	const struct fpdb *db = it->db;
	__u32 n = db->nentries - it->i < FPDB_ITER_BATCH ? db->nentries - it->i : FPDB_ITER_BATCH;
	MAP_GUARD(db->map, 0);

	if (!n) {
		MAP_UNGUARD();
		map_drop_all(db->map);
		return 0;
	}
	memcpy(it->batch, &db->entries[it->i], (size_t)n * sizeof(*it->batch));
	it->i += n;
	if (it->i % MAP_WINDOW < n && it->i >= MAP_WINDOW) /* crossed a window's end */
		map_drop(&db->entries[it->i - it->i % MAP_WINDOW - MAP_WINDOW],
			 &db->entries[it->i - it->i % MAP_WINDOW]);
	MAP_UNGUARD();
	it->nbatch = n;
	it->ibatch = 0;
	return n;
}

int fpdb_iter_next(struct fpdb_iter *it, struct fp_entry *e)
{
	const struct fpdb *db = it->db;
	const struct fpdb_index *ix = db->ix;
	__u32 m;

	if (db->map) {
		if (it->nbatch == it->ibatch && !map_batch(it))
			return 0;
		*e = it->batch[it->ibatch++];
		return 1;
	}
	if (it->i >= db->nentries)
		return 0;
	if (db->entries) {
		*e = db->entries[it->i++];
		return 1;
	}
	if (it->i < ix->nsingle) {
		while (ix->dir[it->bucket + 1] <= it->i)
			it->bucket++;
		ix_get_single(ix, it->i++, it->bucket, e);
		return 1;
	}
	/* it->bucket is now the group */
	if (it->i == ix->nsingle)
		it->bucket = 0;
	m = it->i++ - ix->nsingle;
	while (ix->groups[it->bucket].first + ix->groups[it->bucket].n <= m)
		it->bucket++;
	ix_get_grouped(ix, m, ix->groups[it->bucket].fp, e);
	return 1;
}

/* The next of a ring of lookup buffers, with room for n entries; NULL (ENOMEM) if none. */
static struct fp_entry *ring_take(struct ring_buf *ring, unsigned *next, __u32 n)
{
	struct ring_buf *r = &ring[(*next)++ % FPDB_LOOKUP_RING];

	/* a common name part can have 10^5 entries: do not keep such a buffer for long */
	if (r->cap < n || (r->cap > 4096 && n <= 4096)) {
		__u32 cap = n > 16 ? n : 16;
		struct fp_entry *e = realloc(r->e, (size_t)cap * sizeof(*e));

		if (!e) {
			errno = ENOMEM;
			return NULL;
		}
		r->e = e;
		r->cap = cap;
	}
	return r->e;
}

/* A mapped DB's entries [first, first + n) copied out under the guard (NULL, EIO: it faulted). */
static const struct fp_entry *map_copy(const struct fpdb *db, __u64 fp, __u32 *n)
{
	struct fpdb_map *m = db->map;
	struct fp_entry *out;
	__u32 first;
	MAP_GUARD(m, (*n = 0, (const struct fp_entry *)NULL));

	*n = find_in(db, fp, &first);
	out = *n ? ring_take(m->ring, &m->ring_next, *n) : NULL;
	if (out)
		memcpy(out, &db->entries[first], (size_t)*n * sizeof(*out));
	else
		*n = 0;
	MAP_UNGUARD();
	return out;
}

const struct fp_entry *fpdb_lookup(const struct fpdb *db, __u64 fp, __u32 *n)
{
	struct fpdb_index *ix = db->ix;
	struct fp_entry *out;
	__u32 first;

	if (db->map)
		return map_copy(db, fp, n);
	*n = find_in(db, fp, &first);
	if (!*n)
		return NULL;
	if (db->entries)
		return &db->entries[first];
	out = ring_take(ix->ring, &ix->ring_next, *n);
	if (!out) {
		*n = 0;
		return NULL;
	}
	if (first < ix->nsingle)
		ix_get_single(ix, first, ix_bucket(ix, fp), out);
	else
		for (__u32 j = 0; j < *n; j++)
			ix_get_grouped(ix, first - ix->nsingle + j, fp, &out[j]);
	return out;
}

int fpdb_compact(struct fpdb *db)
{
	struct fpdb_index *ix;
	struct ix_pass p = {.pass = 1};
	__u32 i;
	int err = 0;

	if (!db->entries || db->map)
		return 0;
	ix = ix_new(db->nentries, db->nsubjects);
	if (!ix)
		return -ENOMEM;
	for (i = 0; i < db->nentries && !err; i++)
		err = ix_feed(ix, &p, &db->entries[i]);
	if (!err)
		err = ix_end(ix, &p);
	if (!err)
		err = ix_layout(ix);
	p = (struct ix_pass){.pass = 2};
	for (i = 0; i < db->nentries && !err; i++)
		err = ix_feed(ix, &p, &db->entries[i]);
	if (!err)
		err = ix_end(ix, &p);
	if (err) {
		ix_free(ix);
		return err;
	}
	free(db->entries);
	db->entries = NULL;
	ix_free(db->ix);
	db->ix = ix;
	return 0;
}

/* Subject i of a mapped DB into out (FP_SUBJECT_MAX + 1 bytes); "" if the mapping faulted. */
static const char *map_subject(const struct fpdb *db, __u32 i, char *out)
{
	MAP_GUARD(db->map, out);
	const struct fpdb_map *m = db->map;
	__u64 r = db->soff[i / FPDB_SUBJECT_STRIDE];
	__u32 len = 0;

	for (__u32 k = i % FPDB_SUBJECT_STRIDE;; k--) {
		if (subject_record(m->subj, m->subj_size, r, &len)) {
			len = 0;
			break;
		}
		if (!k)
			break;
		r += 2 + len;
	}
	if (len)
		memcpy(out, m->subj + r + 2, len);
	MAP_UNGUARD();
	out[len] = '\0';
	return out;
}

const char *fpdb_subject(const struct fpdb *db, __u32 i)
{
	const char *s;

	if (db->map) {
		char *out = db->map->names[db->map->next++ % FPDB_LOOKUP_RING];

		/* records were checked at load; the bounds and the guard hold if the file changed
		 */
		out[0] = '\0';
		return i < db->nsubjects ? map_subject(db, i, out) : out;
	}
	if (!db->soff)
		return db->subjects[i];
	s = db->strings + db->soff[i / FPDB_SUBJECT_STRIDE];
	for (__u32 k = i % FPDB_SUBJECT_STRIDE; k; k--)
		s += strlen(s) + 1;
	return s;
}

void fpdb_pre_share(struct fpdb *db, __u64 *copy)
{
	if (!db->pre_shared)
		free(db->pre);
	db->pre = copy;
	db->pre_shared = 1;
}

void fpdb_pre_unshare(struct fpdb *db, const __u64 *copy)
{
	if (db->pre_shared && db->pre == copy) {
		db->pre = NULL;
		db->pre_shared = 0;
	}
}

/* Invariants of entries, shared by write and load. Returns NULL or what is wrong. */
static const char *check_entry(const struct fp_entry *e, const struct fp_entry *prev, __u32 nsub)
{
	if (e->subject >= nsub)
		return "subject index out of range";
	if (e->field < 1 || e->field >= CS_F_MAX)
		return "bad field type";
	if (!e->nparts || e->part >= e->nparts)
		return "bad part number";
	if (e->field < CS_F_FIRST_WEAK && e->nparts != 1)
		return "strong field with parts";
	if (e->variant > FP_VARIANT_MAX)
		return "bad variant";
	if (e->variant && e->field >= CS_F_FIRST_WEAK)
		return "hash variant of a weak field";
	if (prev && fp_entry_cmp(prev, e) >= 0)
		return "entries not sorted";
	return NULL;
}

/*
 * What a strong value asks of a run shorter than CS_ANCHOR_LONG that holds it (cs_abi.h): its
 * digits, or CS_ANCHOR_DIGITS_MAX when it is that long or has an '@' (an anchor byte). A DB's
 * anchor_digits is the least of these over its strong values.
 */
__u32 fpdb_anchor_digits(const char *s, size_t n)
{
	__u32 d = 0;

	if (n >= CS_ANCHOR_LONG || memchr(s, '@', n))
		return CS_ANCHOR_DIGITS_MAX;
	for (size_t i = 0; i < n; i++)
		d += s[i] >= '0' && s[i] <= '9';
	return d;
}

/* The header's token length window, shortest strong token and flags agree (else printed). */
static int window_ok(const char *path, const struct fpdb *db)
{
	if (db->min_len > db->max_len || (db->nentries && !db->min_len) ||
	    (db->strong_min_len &&
	     (db->strong_min_len < db->min_len || db->strong_min_len > db->max_len)) ||
	    (db->flags & ~FPDB_F_ALL) || db->anchor_digits > CS_ANCHOR_DIGITS_MAX) {
		pr_err("%s: bad token length window %u..%u (strong from %u, flags %#x, anchor "
		       "digits %u)",
		       path, db->min_len, db->max_len, db->strong_min_len, db->flags,
		       db->anchor_digits);
		return 0;
	}
	return 1;
}

static int check_db(const char *path, const struct fpdb *db, __u64 *subj_bytes)
{
	const char *why = NULL;
	__u64 bytes = 0;
	__u32 i;

	for (i = 0; i < db->nentries && !why; i++)
		why = check_entry(&db->entries[i], i ? &db->entries[i - 1] : NULL, db->nsubjects);
	if (why) {
		pr_err("%s: entry %u: %s", path, i - 1, why);
		return -EINVAL;
	}
	if (!window_ok(path, db))
		return -EINVAL;
	if (!db->pre || db->pre_log2 < CS_PRE_LOG2_MIN || db->pre_log2 > CS_PRE_LOG2_MAX) {
		pr_err("%s: missing or bad prefilter (2^%u bits)", path, db->pre_log2);
		return -EINVAL;
	}
	for (i = 0; i < db->nsubjects; i++) {
		size_t len = db->subjects[i] ? strlen(db->subjects[i]) : 0;

		if (!len || len > FP_SUBJECT_MAX) {
			pr_err("%s: subject %u: id must be 1..%d bytes", path, i, FP_SUBJECT_MAX);
			return -EINVAL;
		}
		bytes += 2 + len;
	}
	*subj_bytes = bytes;
	return 0;
}

static int fwrite_crc(FILE *f, const void *buf, size_t n, unsigned long *crc)
{
	errno = 0;
	if (fwrite(buf, 1, n, f) != n)
		return errno ? -errno : -EIO;
	*crc = crc_update(*crc, buf, n);
	return 0;
}

static __u64 pre_bytes(__u32 pre_log2)
{
	return ((__u64)1 << pre_log2) / 8;
}

static int write_body(FILE *f, const struct fpdb *db, unsigned long *crc)
{
	struct fp_entry batch[WR_BATCH];
	__u64 words[WR_BATCH], nwords = pre_bytes(db->pre_log2) / 8, w, k;
	unsigned char len16[2];
	__u32 i, j, m;
	int err;

	for (i = 0; i < db->nentries; i += m) {
		m = db->nentries - i > WR_BATCH ? WR_BATCH : db->nentries - i;
		memcpy(batch, db->entries + i, (size_t)m * sizeof(*batch));
		for (j = 0; j < m; j++)
			entry_to_le(&batch[j]);
		err = fwrite_crc(f, batch, (size_t)m * sizeof(*batch), crc);
		if (err)
			return err;
	}
	for (w = 0; w < nwords; w += k) {
		k = nwords - w > WR_BATCH ? WR_BATCH : nwords - w;
		for (j = 0; j < k; j++)
			words[j] = htole64(db->pre[w + j]);
		err = fwrite_crc(f, words, (size_t)k * 8, crc);
		if (err)
			return err;
	}
	for (i = 0; i < db->nsubjects; i++) {
		size_t len = strlen(db->subjects[i]);

		len16[0] = len & 0xff;
		len16[1] = (len >> 8) & 0xff;
		err = fwrite_crc(f, len16, 2, crc);
		if (!err)
			err = fwrite_crc(f, db->subjects[i], len, crc);
		if (err)
			return err;
	}
	return 0;
}

int fpdb_write(const char *path, const struct fpdb *db)
{
	unsigned char h[FP_HDR_SIZE] = {0};
	__u64 subj_bytes, ent_off = FP_HDR_SIZE, subj_off;
	unsigned long crc;
	char *tmp = NULL;
	FILE *f = NULL;
	int fd = -1, err;

	if ((!db->entries && db->nentries) || db->map) {
		pr_err("%s: only a DB built in memory can be written", path);
		return -EINVAL;
	}
	err = check_db(path, db, &subj_bytes);
	if (err)
		return err;
	subj_off =
	    ent_off + (__u64)db->nentries * sizeof(struct fp_entry) + pre_bytes(db->pre_log2);

	memcpy(h + H_MAGIC, FP_MAGIC, 8);
	put32(h + H_VERSION, FP_VERSION);
	put32(h + H_HDR_SIZE, FP_HDR_SIZE);
	put64(h + H_KCV, db->kcv);
	put32(h + H_NSUBJECTS, db->nsubjects);
	put32(h + H_NENTRIES, db->nentries);
	put32(h + H_MIN_LEN, db->min_len);
	put32(h + H_MAX_LEN, db->max_len);
	put32(h + H_STRONG_MIN, db->strong_min_len);
	put32(h + H_FLAGS, db->flags | db->anchor_digits << FPDB_ANCHOR_SHIFT);
	put64(h + H_ENTRIES_OFF, ent_off);
	put64(h + H_SUBJECTS_OFF, subj_off);
	put64(h + H_FILE_SIZE, subj_off + subj_bytes);
	put32(h + H_PRE_LOG2, db->pre_log2);
	crc = crc_header(h);

	if (asprintf(&tmp, "%s.tmp.XXXXXX", path) < 0) {
		tmp = NULL;
		err = -ENOMEM;
		goto out;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		pr_err("%s: cannot create temporary file: %s", tmp, strerror(-err));
		free(tmp);
		tmp = NULL;
		goto out;
	}
	if (fchmod(fd, 0600)) {
		err = -errno;
		goto fail_io;
	}
	f = fdopen(fd, "wb");
	if (!f) {
		err = -errno;
		goto fail_io;
	}
	fd = -1;
	errno = 0;
	if (fwrite(h, 1, sizeof(h), f) != sizeof(h)) {
		err = errno ? -errno : -EIO;
		goto fail_io;
	}
	err = write_body(f, db, &crc);
	if (err)
		goto fail_io;
	put32(h + H_CRC, (__u32)crc);
	if (fseek(f, H_CRC, SEEK_SET) || fwrite(h + H_CRC, 1, 4, f) != 4 || fflush(f) ||
	    fsync(fileno(f))) {
		err = errno ? -errno : -EIO;
		goto fail_io;
	}
	err = fclose(f) ? -errno : 0;
	f = NULL;
	if (err)
		goto fail_io;
	if (rename(tmp, path)) {
		err = -errno;
		pr_err("%s: cannot rename %s: %s", path, tmp, strerror(-err));
		goto out;
	}
	free(tmp);
	tmp = NULL;
	err = fsync_dir_of(path);
	if (err)
		pr_warn("%s: cannot sync directory: %s", path, strerror(-err));
	err = 0;
	goto out;
fail_io:
	pr_err("%s: cannot write %s: %s", path, tmp, strerror(-err));
out:
	if (f)
		fclose(f);
	if (fd >= 0)
		close(fd);
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	return err;
}

static int read_at(int fd, void *buf, size_t n, __u64 off)
{
	char *p = buf;

	while (n) {
		ssize_t r = pread(fd, p, n, (off_t)off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (!r)
			return -ENODATA; /* shrank under us */
		p += r;
		n -= (size_t)r;
		off += (__u64)r;
	}
	return 0;
}

/*
 * Turn the subjects region (u16 length + bytes, repeated) into NUL-terminated strings in place:
 * every record shrinks by one byte, so the write cursor never passes the read cursor.
 */
static const char *parse_subjects(char *buf, __u64 size, __u32 n, __u64 *soff)
{
	__u64 r = 0, w = 0;

	for (__u32 i = 0; i < n; i++) {
		const char *why;
		__u32 len;

		why = subject_record((const unsigned char *)buf, size, r, &len);
		if (why)
			return why;
		memmove(buf + w, buf + r + 2, len);
		buf[w + len] = '\0';
		if (i % FPDB_SUBJECT_STRIDE == 0)
			soff[i / FPDB_SUBJECT_STRIDE] = w;
		w += len + 1;
		r += 2 + len;
	}
	if (r != size)
		return "trailing bytes after subject table";
	return NULL;
}

/*
 * Pass over the entries of the file in batches into the index: pass 1 also checks them (first
 * error into *why and *bad). *crc is the checksum of the entries region.
 */
static int load_entries(int fd, struct fpdb *d, __u64 off, int pass, unsigned long *crc,
			const char **why, __u32 *bad)
{
	/* a small DB gets a small buffer (1 MiB for each of two passes is most of a tiny load) */
	__u32 nb = d->nentries < LOAD_BATCH ? (d->nentries ? d->nentries : 1) : LOAD_BATCH;
	struct fp_entry *batch = malloc((size_t)nb * sizeof(*batch)), prev;
	struct ix_pass p = {.pass = pass};
	__u32 i, j, m;
	int err = 0;

	if (!batch)
		return -ENOMEM;
	*crc = crc32(0L, Z_NULL, 0);
	for (i = 0; i < d->nentries && !err; i += m) {
		m = d->nentries - i > nb ? nb : d->nentries - i;
		err =
		    read_at(fd, batch, (size_t)m * sizeof(*batch), off + (__u64)i * sizeof(*batch));
		if (err)
			break;
		*crc = crc_update(*crc, batch, (size_t)m * sizeof(*batch));
		for (j = 0; j < m && !err; j++) {
			entry_from_le(&batch[j]);
			if (pass == 1 && !*why) {
				*why = check_entry(&batch[j], i + j ? &prev : NULL, d->nsubjects);
				*bad = i + j;
			}
			/* past a bad entry the index's invariants do not hold: stop feeding it */
			if (!*why)
				err = ix_feed(d->ix, &p, &batch[j]);
			prev = batch[j];
		}
	}
	if (!err && !*why)
		err = ix_end(d->ix, &p);
	free(batch);
	return err;
}

/*
 * What both forms of load check once the file is read: the checksum (crc of everything but the
 * header's crc field), the key, the entries (first failure why at entry bad), the length window.
 * Converts the prefilter to host order. 0, -EINVAL or -EKEYREJECTED, logged.
 */
static int load_checks(const char *path, const unsigned char *h, struct fpdb *d, unsigned long crc,
		       const struct cs_key *key, const char *why, __u32 bad)
{
	if ((__u32)crc != get32(h + H_CRC)) {
		pr_err("%s: checksum mismatch: fingerprint file is corrupt", path);
		return -EINVAL;
	}
	if (d->kcv != keyfile_kcv(key)) {
		pr_err("%s: fingerprint file was made with another key", path);
		return -EKEYREJECTED;
	}
	for (__u64 w = 0; w < pre_bytes(d->pre_log2) / 8; w++)
		d->pre[w] = le64toh(d->pre[w]);
	if (why) {
		pr_err("%s: entry %u: %s", path, bad, why);
		return -EINVAL;
	}
	return window_ok(path, d) ? 0 : -EINVAL;
}

/* Check the subjects region of a mapping as parse_subjects() does, keeping its offsets. */
static const char *map_subjects(struct fpdb_map *m, __u32 n, __u64 *soff)
{
	const char *why = NULL;
	MAP_GUARD(m, "fingerprint file changed while loading");
	/* after the guard: not live across sigsetjmp (gcc -O1 -Wclobbered) */
	__u64 r = 0;

	for (__u32 i = 0; i < n && !why; i++) {
		__u32 len;

		why = subject_record(m->subj, m->subj_size, r, &len);
		if (!why && i % FPDB_SUBJECT_STRIDE == 0)
			soff[i / FPDB_SUBJECT_STRIDE] = r;
		r += 2 + len;
	}
	MAP_UNGUARD();
	if (!why && r != m->subj_size)
		why = "trailing bytes after subject table";
	return why;
}

/*
 * The FPDB_MAPPED load after the header checks: map the file, then one pass over it in windows
 * (their pages dropped behind) for the checksum, the entries' checks (first failure into *why,
 * *bad) and the directory; the prefilter is copied out. The caller checks the rest.
 */
static int map_load(const char *path, int fd, struct fpdb *d, __u64 fsize, __u64 ent_off,
		    __u64 pre_off, unsigned long *crc, const char **why, __u32 *bad)
{
	struct fpdb_map *m = calloc(1, sizeof(*m));
	const struct fp_entry *e;
	__u64 b = 0;
	int err;

	if (!m)
		return -ENOMEM;
	d->map = m;
	m->len = (size_t)fsize;
	m->dir_bits = bits_for((__u64)d->nentries / 128 + 1);
	m->dir = malloc((((size_t)1 << m->dir_bits) + 1) * sizeof(*m->dir));
	if (!m->dir)
		return -ENOMEM;
	m->base = mmap(NULL, m->len, PROT_READ, MAP_SHARED, fd, 0);
	if (m->base == MAP_FAILED) {
		m->base = NULL;
		err = -errno;
		pr_err("%s: mmap: %s", path, strerror(-err));
		return err;
	}
	err = map_guard_install();
	if (err) {
		pr_err("SIGBUS handler: %s", strerror(-err));
		return err;
	}
	madvise((void *)m->base, m->len, MADV_SEQUENTIAL);
	e = (const struct fp_entry *)(m->base + ent_off);
	MAP_GUARD(m, -EIO);
	for (__u32 w = 0; w < d->nentries; w += MAP_WINDOW) {
		__u32 end = d->nentries - w > MAP_WINDOW ? w + MAP_WINDOW : d->nentries;

		*crc = crc_update(*crc, &e[w], (size_t)(end - w) * sizeof(*e));
		for (__u32 i = w; i < end; i++) {
			__u64 k = map_bucket(m, e[i].fp);

			if (!*why) {
				*why = check_entry(&e[i], i ? &e[i - 1] : NULL, d->nsubjects);
				*bad = i;
			}
			while (b <= k)
				m->dir[b++] = i;
		}
		map_drop(&e[w], &e[end]);
	}
	while (b <= (__u64)1 << m->dir_bits)
		m->dir[b++] = d->nentries;
	memcpy(d->pre, m->base + pre_off, pre_bytes(d->pre_log2));
	*crc = crc_update(*crc, d->pre, pre_bytes(d->pre_log2));
	m->subj = m->base + pre_off + pre_bytes(d->pre_log2);
	m->subj_size = m->len - (size_t)(m->subj - m->base);
	*crc = crc_update(*crc, m->subj, m->subj_size);
	MAP_UNGUARD();
	map_drop(m->base + pre_off, m->base + m->len);
	madvise((void *)m->base, m->len, MADV_RANDOM);
	d->entries = (struct fp_entry *)e; /* read-only: nothing writes a loaded DB's entries */
	return 0;
}

int fpdb_load(struct fpdb *db, const char *path, const struct cs_key *key)
{
	return fpdb_load_as(db, path, key, FPDB_COMPACT);
}

int fpdb_load_as(struct fpdb *db, const char *path, const struct cs_key *key, enum fpdb_form form)
{
	unsigned char h[FP_HDR_SIZE];
	__u64 ent_off, pre_off, subj_off, fsize, subj_size;
	struct fpdb d = {0};
	const char *why = NULL;
	unsigned long crc, crc_ent, crc_ent2;
	struct stat st;
	__u32 bad = 0;
	int fd, err;

	memset(db, 0, sizeof(*db));
	fd = input_open(path, &st);
	if (fd < 0) {
		input_open_err(path, "fingerprint", fd);
		return fd;
	}
	err = input_check_owner(path, &st, "fingerprint");
	if (err)
		goto out;
	err = -EINVAL;
	if (st.st_size < 8 || read_at(fd, h, 8, 0)) {
		pr_err("%s: truncated fingerprint file (%lld bytes)", path, (long long)st.st_size);
		goto out;
	}
	if (memcmp(h + H_MAGIC, FP_MAGIC, 8)) {
		pr_err("%s: bad magic: not a consentry fingerprint file", path);
		goto out;
	}
	if (st.st_size < FP_HDR_SIZE || read_at(fd, h, FP_HDR_SIZE, 0)) {
		pr_err("%s: truncated fingerprint file (%lld bytes)", path, (long long)st.st_size);
		goto out;
	}
	if (get32(h + H_VERSION) == 1 || get32(h + H_VERSION) == 2) {
		pr_err("%s: fingerprint file version %u was made by an older consentry; re-run "
		       "enroll",
		       path, get32(h + H_VERSION));
		goto out;
	}
	if (get32(h + H_VERSION) != FP_VERSION) {
		pr_err("%s: unsupported fingerprint file version %u (expected %d)", path,
		       get32(h + H_VERSION), FP_VERSION);
		goto out;
	}
	d.kcv = get64(h + H_KCV);
	d.nsubjects = get32(h + H_NSUBJECTS);
	d.nentries = get32(h + H_NENTRIES);
	d.min_len = get32(h + H_MIN_LEN);
	d.max_len = get32(h + H_MAX_LEN);
	d.strong_min_len = get32(h + H_STRONG_MIN);
	d.flags = get32(h + H_FLAGS) & ~FPDB_ANCHOR_MASK;
	d.anchor_digits = (get32(h + H_FLAGS) & FPDB_ANCHOR_MASK) >> FPDB_ANCHOR_SHIFT;
	ent_off = get64(h + H_ENTRIES_OFF);
	subj_off = get64(h + H_SUBJECTS_OFF);
	fsize = get64(h + H_FILE_SIZE);
	d.pre_log2 = get32(h + H_PRE_LOG2);
	if (fsize != (__u64)st.st_size) {
		pr_err("%s: truncated or extended: header says %llu bytes, file has %lld", path,
		       (unsigned long long)fsize, (long long)st.st_size);
		goto out;
	}
	pre_off = ent_off + (__u64)d.nentries * sizeof(struct fp_entry);
	if (get32(h + H_HDR_SIZE) != FP_HDR_SIZE || ent_off != FP_HDR_SIZE ||
	    d.pre_log2 < CS_PRE_LOG2_MIN || d.pre_log2 > CS_PRE_LOG2_MAX ||
	    subj_off != pre_off + pre_bytes(d.pre_log2) || subj_off > fsize ||
	    (fsize - subj_off) / 3 < d.nsubjects || (d.nentries && !d.nsubjects)) {
		pr_err("%s: inconsistent header: counts and offsets do not match the file size",
		       path);
		goto out;
	}
	subj_size = fsize - subj_off;
	d.soff = calloc(d.nsubjects / FPDB_SUBJECT_STRIDE + 1, sizeof(*d.soff));
	d.pre = malloc(pre_bytes(d.pre_log2));
	if (!d.soff || !d.pre) {
		err = -ENOMEM;
		pr_err("%s: %s", path, strerror(ENOMEM));
		goto out;
	}
	crc = crc_header(h);
	if (MAP_SUPPORTED &&
	    (form == FPDB_MAPPED || (form == FPDB_AUTO && d.nentries >= FPDB_MAP_AUTO))) {
		err = map_load(path, fd, &d, fsize, ent_off, pre_off, &crc, &why, &bad);
		if (err == -ENOMEM)
			pr_err("%s: %s", path, strerror(ENOMEM));
		if (err == -EIO)
			pr_err("%s: fingerprint file changed while loading", path);
		if (!err)
			err = load_checks(path, h, &d, crc, key, why, bad);
		if (err)
			goto out;
		why = map_subjects(d.map, d.nsubjects, d.soff);
		map_drop_all(d.map);
		if (why) {
			err = -EINVAL;
			pr_err("%s: %s", path, why);
			goto out;
		}
		goto done;
	}

	d.strings = malloc(subj_size ? subj_size : 1);
	d.ix = ix_new(d.nentries, d.nsubjects);
	if (!d.strings || !d.ix) {
		err = -ENOMEM;
		pr_err("%s: %s", path, strerror(ENOMEM));
		goto out;
	}
	/* pass 1 over the entries: checksum, checks, kinds and bucket sizes; no copy is kept */
	err = load_entries(fd, &d, ent_off, 1, &crc_ent, &why, &bad);
	if (!err)
		err = read_at(fd, d.pre, pre_bytes(d.pre_log2), pre_off);
	if (!err)
		err = read_at(fd, d.strings, subj_size, subj_off);
	if (err) {
		if (err == -ENODATA)
			err = -EINVAL;
		pr_err("%s: read: %s", path, err == -EINVAL ? "file shrank" : strerror(-err));
		goto out;
	}
	crc = crc32_combine(crc, crc_ent, (z_off_t)((__u64)d.nentries * sizeof(struct fp_entry)));
	crc = crc_update(crc, d.pre, pre_bytes(d.pre_log2));
	crc = crc_update(crc, d.strings, subj_size);
	err = load_checks(path, h, &d, crc, key, why, bad);
	if (err)
		goto out;
	err = -EINVAL;
	why = parse_subjects(d.strings, subj_size, d.nsubjects, d.soff);
	if (why) {
		pr_err("%s: %s", path, why);
		goto out;
	}
	/* pass 2: pack the records; the file must not have changed since pass 1 */
	err = ix_layout(d.ix);
	if (!err)
		err = load_entries(fd, &d, ent_off, 2, &crc_ent2, &why, &bad);
	if (err == -ENOMEM) {
		pr_err("%s: %s", path, strerror(ENOMEM));
		goto out;
	}
	if (err || crc_ent2 != crc_ent) {
		err = -EINVAL;
		pr_err("%s: fingerprint file changed while loading", path);
		goto out;
	}
done:
	*db = d;
	memset(&d, 0, sizeof(d));
	err = 0;
out:
	fpdb_release(&d);
	close(fd);
	return err;
}

void fpdb_release(struct fpdb *db)
{
	if (!db)
		return;
	if (db->map)
		db->entries = NULL; /* in the mapping */
	map_free(db->map);
	free(db->entries);
	ix_free(db->ix);
	free(db->subjects);
	free(db->soff);
	free(db->strings);
	if (!db->pre_shared)
		free(db->pre);
	memset(db, 0, sizeof(*db));
}

/* The smallest prefilter (log2 of its bits) with bits_per_fp bits for each of n tokens. */
static __u32 pre_log2_for(__u64 n, __u32 bits_per_fp)
{
	__u32 log2 = CS_PRE_LOG2_MIN;

	while (log2 < CS_PRE_LOG2_MAX && ((__u64)1 << log2) < (__u64)n * bits_per_fp)
		log2++;
	return log2;
}

__u32 fpdb_pre_log2(__u64 n)
{
	__u32 log2 = pre_log2_for(n, CS_PRE_BITS_PER_FP);

	if (log2 > CS_PRE_LOG2_BIG) {
		log2 = pre_log2_for(n, CS_PRE_BITS_PER_FP_BIG);
		if (log2 < CS_PRE_LOG2_BIG)
			log2 = CS_PRE_LOG2_BIG;
	}
	return log2;
}

int fpdb_pre_build(struct fpdb *db, const __u64 *pre_values, size_t n)
{
	__u32 log2 = fpdb_pre_log2(n);
	free(db->pre);
	db->pre = calloc(pre_bytes(log2) / 8, 8);
	if (!db->pre) {
		db->pre_log2 = 0;
		return -ENOMEM;
	}
	db->pre_log2 = log2;
	for (size_t i = 0; i < n; i++) {
		__u64 b = fpdb_pre_index(pre_values[i], log2);

		/* random bits of a bitmap of up to 1 GiB: keep several cache misses in flight */
		if (i + 16 < n)
			__builtin_prefetch(&db->pre[fpdb_pre_index(pre_values[i + 16], log2) >> 6],
					   1);

		db->pre[b >> 6] |= 1ULL << (b & 63);
	}
	return 0;
}
