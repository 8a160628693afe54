// SPDX-License-Identifier: GPL-2.0-only
/* Fingerprint DB entries: byte order, the order of entries, their sort, the file checksum. */
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
#include "fpdb/fpdb_int.h"
#include "cs_hash.h"
#include "fpdb/keyfile.h"
#include "lib/fileio.h"
#include "lib/log.h"
#include "lib/util.h"

unsigned long crc_update(unsigned long crc, const void *buf, size_t n)
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
unsigned long crc_header(const unsigned char *h, size_t hdr_size)
{
	unsigned long crc = crc32(0L, Z_NULL, 0);

	crc = crc32(crc, h, H_CRC);
	return crc32(crc, h + H_PRE_LOG2, (uInt)(hdr_size - H_PRE_LOG2));
}

void entry_to_le(struct fp_entry *e)
{
	e->fp = htole64(e->fp);
	e->subject = htole32(e->subject);
}

void entry_from_le(struct fp_entry *e)
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
