// SPDX-License-Identifier: GPL-2.0-only
#define _GNU_SOURCE /* asprintf, mkostemp */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "fpfile.h"
#include "cs_hash.h"
#include "keyfile.h"
#include "log.h"

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

/* Entries converted and checksummed per write call. */
#define WR_BATCH 4096
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

/* Order a run of entries that share one fp. */
static void sort_run(struct fp_entry *e, __u32 n)
{
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

/*
 * LSD radix sort on fp, 16 bits per pass, then each run of equal fps by the other keys. Sorting
 * 10^8 entries this way takes seconds where qsort takes about a minute; passes in which every
 * key has the same digit are skipped. Falls back to qsort when the scratch buffer is missing.
 */
static void sort_entries(struct fp_entry *e, __u32 n)
{
	struct fp_entry *tmp = NULL, *src = e, *dst;
	__u32(*cnt)[65536] = NULL;
	__u32 i, run;

	if (n < 4096)
		goto fallback;
	tmp = malloc((size_t)n * sizeof(*e));
	cnt = calloc(4, sizeof(*cnt));
	if (!tmp || !cnt)
		goto fallback;
	for (i = 0; i < n; i++)
		for (int d = 0; d < 4; d++)
			cnt[d][(e[i].fp >> (16 * d)) & 0xffff]++;
	dst = tmp;
	for (int d = 0; d < 4; d++) {
		__u32 sum = 0, c;
		int trivial = 0;

		for (unsigned b = 0; b < 65536; b++) {
			c = cnt[d][b];
			if (c == n)
				trivial = 1;
			cnt[d][b] = sum;
			sum += c;
		}
		if (trivial)
			continue;
		for (i = 0; i < n; i++)
			dst[cnt[d][(src[i].fp >> (16 * d)) & 0xffff]++] = src[i];
		dst = src;
		src = src == e ? tmp : e;
	}
	if (src != e)
		memcpy(e, src, (size_t)n * sizeof(*e));
	free(tmp);
	free(cnt);
	for (i = 0; i < n; i += run) {
		for (run = 1; i + run < n && e[i + run].fp == e[i].fp; run++)
			;
		if (run > 1)
			sort_run(e + i, run);
	}
	return;
fallback:
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
	if (db->min_len > db->max_len || (db->nentries && !db->min_len)) {
		pr_err("%s: bad token length window %u..%u", path, db->min_len, db->max_len);
		return -EINVAL;
	}
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

static int fsync_dir_of(const char *path)
{
	char tmp[PATH_MAX];
	int fd, err = 0;

	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(dirname(tmp), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd))
		err = -errno;
	close(fd);
	return err;
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
static const char *parse_subjects(char *buf, __u64 size, __u32 n, char **subjects)
{
	__u64 r = 0, w = 0;

	for (__u32 i = 0; i < n; i++) {
		__u32 len;

		if (size - r < 2)
			return "subject table shorter than nsubjects";
		len = (unsigned char)buf[r] | (unsigned)(unsigned char)buf[r + 1] << 8;
		if (!len || len > FP_SUBJECT_MAX)
			return "bad subject id length";
		if (size - r - 2 < len)
			return "subject table shorter than nsubjects";
		memmove(buf + w, buf + r + 2, len);
		if (memchr(buf + w, '\0', len))
			return "NUL byte in subject id";
		buf[w + len] = '\0';
		subjects[i] = buf + w;
		w += len + 1;
		r += 2 + len;
	}
	if (r != size)
		return "trailing bytes after subject table";
	return NULL;
}

int fpdb_load(struct fpdb *db, const char *path, const struct cs_key *key)
{
	unsigned char h[FP_HDR_SIZE];
	__u64 ent_off, pre_off, subj_off, fsize, subj_size, kcv;
	struct fpdb d = {0};
	const char *why = NULL;
	unsigned long crc;
	struct stat st;
	__u32 i;
	int fd, err;

	memset(db, 0, sizeof(*db));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		pr_err("%s: %s", path, strerror(-err));
		return err;
	}
	if (fstat(fd, &st)) {
		err = -errno;
		pr_err("%s: stat: %s", path, strerror(-err));
		goto out;
	}
	err = -EINVAL;
	if (!S_ISREG(st.st_mode)) {
		pr_err("%s: not a regular file", path);
		goto out;
	}
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
	if (get32(h + H_VERSION) == 1) {
		pr_err(
		    "%s: fingerprint file version 1 was made by an older consentry; re-run enroll",
		    path);
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

	d.entries = malloc(d.nentries ? (size_t)d.nentries * sizeof(*d.entries) : 1);
	d.strings = malloc(subj_size ? subj_size : 1);
	d.subjects = calloc(d.nsubjects ? d.nsubjects : 1, sizeof(*d.subjects));
	d.pre = malloc(pre_bytes(d.pre_log2));
	if (!d.entries || !d.strings || !d.subjects || !d.pre) {
		err = -ENOMEM;
		pr_err("%s: %s", path, strerror(ENOMEM));
		goto out;
	}
	err = read_at(fd, d.entries, (size_t)d.nentries * sizeof(*d.entries), ent_off);
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
	err = -EINVAL;
	crc = crc_header(h);
	crc = crc_update(crc, d.entries, (size_t)d.nentries * sizeof(*d.entries));
	crc = crc_update(crc, d.pre, pre_bytes(d.pre_log2));
	crc = crc_update(crc, d.strings, subj_size);
	if ((__u32)crc != get32(h + H_CRC)) {
		pr_err("%s: checksum mismatch: fingerprint file is corrupt", path);
		goto out;
	}
	kcv = keyfile_kcv(key);
	if (d.kcv != kcv) {
		err = -EKEYREJECTED;
		pr_err("%s: fingerprint file was made with another key", path);
		goto out;
	}
	for (i = 0; i < d.nentries; i++)
		entry_from_le(&d.entries[i]);
	for (__u64 w = 0; w < pre_bytes(d.pre_log2) / 8; w++)
		d.pre[w] = le64toh(d.pre[w]);
	for (i = 0; i < d.nentries && !why; i++)
		why = check_entry(&d.entries[i], i ? &d.entries[i - 1] : NULL, d.nsubjects);
	if (why) {
		pr_err("%s: entry %u: %s", path, i - 1, why);
		goto out;
	}
	if (d.min_len > d.max_len || (d.nentries && !d.min_len)) {
		pr_err("%s: bad token length window %u..%u", path, d.min_len, d.max_len);
		goto out;
	}
	why = parse_subjects(d.strings, subj_size, d.nsubjects, d.subjects);
	if (why) {
		pr_err("%s: %s", path, why);
		goto out;
	}
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
	free(db->entries);
	free(db->subjects);
	free(db->strings);
	free(db->pre);
	memset(db, 0, sizeof(*db));
}

int fpdb_pre_build(struct fpdb *db, const __u64 *pre_values, size_t n)
{
	__u32 log2 = CS_PRE_LOG2_MIN;

	while (log2 < CS_PRE_LOG2_MAX && ((__u64)1 << log2) < (__u64)n * CS_PRE_BITS_PER_FP)
		log2++;
	free(db->pre);
	db->pre = calloc(pre_bytes(log2) / 8, 8);
	if (!db->pre) {
		db->pre_log2 = 0;
		return -ENOMEM;
	}
	db->pre_log2 = log2;
	for (size_t i = 0; i < n; i++) {
		__u64 b = fpdb_pre_index(pre_values[i], log2);

		db->pre[b >> 6] |= 1ULL << (b & 63);
	}
	return 0;
}

const struct fp_entry *fpdb_lookup(const struct fpdb *db, __u64 fp, __u32 *n)
{
	__u32 lo = 0, hi = db->nentries, first;

	/* lower bound, then upper bound: a common name part may have millions of entries */
	while (lo < hi) {
		__u32 mid = lo + (hi - lo) / 2;

		if (db->entries[mid].fp < fp)
			lo = mid + 1;
		else
			hi = mid;
	}
	first = lo;
	hi = db->nentries;
	while (lo < hi) {
		__u32 mid = lo + (hi - lo) / 2;

		if (db->entries[mid].fp <= fp)
			lo = mid + 1;
		else
			hi = mid;
	}
	*n = lo - first;
	lo = first;
	return *n ? &db->entries[lo] : NULL;
}
