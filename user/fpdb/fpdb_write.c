// SPDX-License-Identifier: GPL-2.0-only
/* Writing a fingerprint file (spec §3 FINGERPRINTS): the entries' invariants, the writer. */
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
#include <sys/random.h>
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

/* Invariants of entries, shared by write and load. Returns NULL or what is wrong. */
const char *check_entry(const struct fp_entry *e, const struct fp_entry *prev, __u32 nsub)
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
int window_ok(const char *path, const struct fpdb *db)
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
	if (db->sensitive & ~FIELD_ALL) {
		pr_err("%s: bad sensitive field mask %#x", path, db->sensitive);
		return -EINVAL;
	}
	why = births_check(db->births, db->nbirths, db->nsubjects);
	if (why || (db->nbirths && !db->births)) {
		pr_err("%s: birth records: %s", path, why ? why : "missing");
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

static int fwrite_crc(FILE *f, const void *buf, size_t n, unsigned long *crc)
{
	errno = 0;
	if (fwrite(buf, 1, n, f) != n)
		return errno ? -errno : -EIO;
	*crc = crc_update(*crc, buf, n);
	return 0;
}

__u64 pre_bytes(__u32 pre_log2)
{
	return ((__u64)1 << pre_log2) / 8;
}

static int write_body(FILE *f, const struct fpdb *db, const struct birth_pad *bp,
		      unsigned long *crc)
{
	unsigned char rec[WR_BATCH * BIRTH_REC];
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
	for (i = 0; i < db->nbirths; i += m) {
		m = db->nbirths - i > WR_BATCH ? WR_BATCH : db->nbirths - i;
		for (j = 0; j < m; j++) {
			const struct fpdb_birth *b = &db->births[i + j];

			put32(rec + j * BIRTH_REC, b->subject);
			put32(rec + j * BIRTH_REC + 4, (__u32)b->days ^ birth_pad(bp, b->subject));
		}
		err = fwrite_crc(f, rec, (size_t)m * BIRTH_REC, crc);
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
	return fpdb_write_keyed(path, db, NULL);
}

int fpdb_write_keyed(const char *path, const struct fpdb *db, const struct cs_key *key)
{
	unsigned char h[FP_HDR_SIZE] = {0};
	__u64 subj_bytes, ent_off = FP_HDR_SIZE, birth_off, subj_off;
	struct birth_pad bp = {0};
	unsigned long crc;
	char *tmp = NULL;
	FILE *f = NULL;
	int fd = -1, err;

	if ((!db->entries && db->nentries) || db->map) {
		pr_err("%s: only a DB built in memory can be written", path);
		return -EINVAL;
	}
	if (db->nbirths && (!key || keyfile_kcv(key) != db->kcv)) {
		pr_err("%s: birth records need the key the fingerprints were made with", path);
		return -EINVAL;
	}
	err = check_db(path, db, &subj_bytes);
	if (err)
		return err;
	birth_off =
	    ent_off + (__u64)db->nentries * sizeof(struct fp_entry) + pre_bytes(db->pre_log2);
	subj_off = birth_off + (__u64)db->nbirths * BIRTH_REC;
	/* a fresh nonce a file: two files of the same data share no pad */
	if (getrandom(h + H_NONCE, FP_NONCE_SIZE, 0) != FP_NONCE_SIZE) {
		err = errno ? -errno : -EIO;
		pr_err("%s: getrandom: %s", path, strerror(-err));
		return err;
	}
	if (key)
		birth_pad_init(&bp, key, h + H_NONCE);

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
	put32(h + H_SENSITIVE, db->sensitive);
	put32(h + H_NBIRTH, db->nbirths);
	put64(h + H_BIRTH_OFF, birth_off);
	crc = crc_header(h, FP_HDR_SIZE);

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
	err = write_body(f, db, &bp, &crc);
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
	explicit_bzero(&bp, sizeof(bp)); /* with the nonce, it unmasks the records */
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
