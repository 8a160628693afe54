// SPDX-License-Identifier: GPL-2.0-only
/* Loading a fingerprint file, in either form (fpdb_load_as); every check before it is used. */
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
 * *bad) and the directory; the prefilter and the birth records (into braw) are copied out. The
 * caller checks the rest.
 */
static int map_load(const char *path, int fd, struct fpdb *d, __u64 fsize, __u64 ent_off,
		    __u64 pre_off, unsigned char *braw, __u64 birth_bytes, unsigned long *crc,
		    const char **why, __u32 *bad)
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
	memcpy(braw, m->base + pre_off + pre_bytes(d->pre_log2), birth_bytes);
	*crc = crc_update(*crc, braw, birth_bytes);
	m->subj = m->base + pre_off + pre_bytes(d->pre_log2) + birth_bytes;
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

/*
 * The birth records braw[0..nbirth) of a checked file (checksum, key) into d: unmasked, checked,
 * minors only. 0, -EINVAL or -ENOMEM, logged.
 */
static int load_births(const char *path, struct fpdb *d, const unsigned char *h,
		       const unsigned char *braw, __u32 nbirth, const struct cs_key *key)
{
	struct birth_pad bp;
	const char *why;
	__u32 bad = 0;

	birth_pad_init(&bp, key, h + H_NONCE);
	why = births_load(d, braw, nbirth, &bp, &bad);
	explicit_bzero(&bp, sizeof(bp));
	if (why && !*why) {
		pr_err("%s: %s", path, strerror(ENOMEM));
		return -ENOMEM;
	}
	if (why) {
		pr_err("%s: birth record %u: %s", path, bad, why);
		return -EINVAL;
	}
	return 0;
}

int fpdb_load_as(struct fpdb *db, const char *path, const struct cs_key *key, enum fpdb_form form)
{
	unsigned char h[FP_HDR_SIZE] = {0}, *braw = NULL;
	__u64 ent_off, pre_off, pre_size, birth_off, birth_bytes, subj_off, fsize, subj_size;
	__u32 version, hdr_size, nbirth = 0;
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
	if (st.st_size < FP_HDR_SIZE_V3 || read_at(fd, h, FP_HDR_SIZE_V3, 0)) {
		pr_err("%s: truncated fingerprint file (%lld bytes)", path, (long long)st.st_size);
		goto out;
	}
	version = get32(h + H_VERSION);
	if (version == 1 || version == 2) {
		pr_err("%s: fingerprint file version %u was made by an older consentry; re-run "
		       "enroll",
		       path, version);
		goto out;
	}
	if (version != 3 && version != FP_VERSION) {
		pr_err("%s: unsupported fingerprint file version %u (expected %d)", path, version,
		       FP_VERSION);
		goto out;
	}
	hdr_size = version == 3 ? FP_HDR_SIZE_V3 : FP_HDR_SIZE;
	if (st.st_size < hdr_size ||
	    read_at(fd, h + FP_HDR_SIZE_V3, hdr_size - FP_HDR_SIZE_V3, FP_HDR_SIZE_V3)) {
		pr_err("%s: truncated fingerprint file (%lld bytes)", path, (long long)st.st_size);
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
	/* pre_bytes() only of a size in range (checked below): a shift past 63 is undefined */
	pre_size = d.pre_log2 >= CS_PRE_LOG2_MIN && d.pre_log2 <= CS_PRE_LOG2_MAX
		       ? pre_bytes(d.pre_log2)
		       : 0;
	/* a version-3 file: the default sensitive set, no birth records (none between) */
	d.sensitive = FPDB_SENSITIVE_DEFAULT;
	birth_off = pre_off + pre_size;
	if (version >= 4) {
		d.sensitive = get32(h + H_SENSITIVE);
		nbirth = get32(h + H_NBIRTH);
		birth_off = get64(h + H_BIRTH_OFF);
	}
	birth_bytes = (__u64)nbirth * BIRTH_REC;
	if (get32(h + H_HDR_SIZE) != hdr_size || ent_off != hdr_size ||
	    d.pre_log2 < CS_PRE_LOG2_MIN || d.pre_log2 > CS_PRE_LOG2_MAX ||
	    birth_off != pre_off + pre_size || nbirth > d.nsubjects ||
	    subj_off != birth_off + birth_bytes || subj_off > fsize ||
	    (fsize - subj_off) / 3 < d.nsubjects || (d.nentries && !d.nsubjects)) {
		pr_err("%s: inconsistent header: counts and offsets do not match the file size",
		       path);
		goto out;
	}
	if (d.sensitive & ~FIELD_ALL) {
		pr_err("%s: bad sensitive field mask %#x", path, d.sensitive);
		goto out;
	}
	subj_size = fsize - subj_off;
	d.soff = calloc(d.nsubjects / FPDB_SUBJECT_STRIDE + 1, sizeof(*d.soff));
	d.pre = malloc(pre_bytes(d.pre_log2));
	braw = malloc(birth_bytes ? birth_bytes : 1);
	if (!d.soff || !d.pre || !braw) {
		err = -ENOMEM;
		pr_err("%s: %s", path, strerror(ENOMEM));
		goto out;
	}
	crc = crc_header(h, hdr_size);
	if (MAP_SUPPORTED &&
	    (form == FPDB_MAPPED || (form == FPDB_AUTO && d.nentries >= FPDB_MAP_AUTO))) {
		err = map_load(path, fd, &d, fsize, ent_off, pre_off, braw, birth_bytes, &crc, &why,
			       &bad);
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
		goto births;
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
		err = read_at(fd, braw, birth_bytes, birth_off);
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
	crc = crc_update(crc, braw, birth_bytes);
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
births:
	err = load_births(path, &d, h, braw, nbirth, key);
	if (err)
		goto out;
	if (version == 3)
		pr_info("%s: fingerprint file version 3 has no birthdates: re-run enroll to record "
			"them for the minor rule",
			path);
	*db = d;
	memset(&d, 0, sizeof(d));
	err = 0;
out:
	free(braw);
	fpdb_release(&d);
	close(fd);
	return err;
}
