// SPDX-License-Identifier: GPL-2.0-only
/*
 * The fingerprint file (user/fpdb/), loaded in both forms. The harness first sets the
 * header's key check value and checksum to what the bytes need (else nearly every mutation stops
 * at the checksum), then loads the file COMPACT and MAPPED. Properties: both forms accept or
 * refuse alike; an accepted DB reads the same in both (counts, header values, every entry by
 * iterator, by index and by fingerprint, every subject id, the sensitive set and the minors'
 * birth dates); and written back by fpdb_write_keyed (new pads), then loaded again, it holds the
 * same (load -> write -> load).
 */
#include "fuzz_db.h"

#include <fcntl.h>
#include <zlib.h>

#include "fpdb/keyfile.h"

static struct fuzz_file file;
static struct cs_key key;
static char out_path[64];

/* The rebuilt DB's file goes with the process (libFuzzer ends by exit()). */
static void cleanup(void)
{
	unlink(out_path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_key(&key);
	fuzz_setup_file(&file, "fuzz_fpfile");
	snprintf(out_path, sizeof(out_path), "/dev/shm/cs-fuzz-fp.%d", getpid());
	atexit(cleanup);
	return 0;
}

/*
 * The harness's own path works: a file fpdb_write made, set as the input file, loads (a loader
 * that refused the input file itself would leave every mutation at its first check).
 */
static void self_check(void)
{
	static uint8_t b[1 << 16];
	struct fpdb db, got;
	ssize_t n;
	int fd;

	fuzz_db_build(&db, &key);
	db.kcv = keyfile_kcv(&key);
	db.anchor_digits = 11;
	db.pre_log2 = CS_PRE_LOG2_MIN;
	db.pre = calloc(((size_t)1 << CS_PRE_LOG2_MIN) / 64, sizeof(*db.pre));
	if (!db.pre)
		abort();
	if (fpdb_write(out_path, &db) || (fd = open(out_path, O_RDONLY)) < 0)
		abort();
	n = read(fd, b, sizeof(b));
	close(fd);
	unlink(out_path);
	fuzz_file_set(&file, b, n > 0 ? (size_t)n : 0);
	FUZZ_CHECK(fpdb_load_as(&got, file.path, &key, FPDB_COMPACT) == 0,
		   "set-up: a written DB does not load from the input file");
	fpdb_release(&got);
	fpdb_release(&db);
}

static void put32(uint8_t *p, __u32 v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* A DB built in memory from a loaded one, as fpdb_write takes it. */
static void rebuild(const struct fpdb *src, struct fpdb *dst)
{
	struct fpdb_iter it;
	size_t bytes = 0, o = 0;

	memset(dst, 0, sizeof(*dst));
	dst->entries = calloc(src->nentries + 1, sizeof(*dst->entries));
	dst->subjects = calloc(src->nsubjects + 1, sizeof(char *));
	for (__u32 i = 0; i < src->nsubjects; i++)
		bytes += strlen(fpdb_subject(src, i)) + 1;
	dst->strings = malloc(bytes + 1);
	dst->pre = malloc(((size_t)1 << src->pre_log2) / 8);
	dst->births = malloc((src->nbirths + 1) * sizeof(*dst->births));
	if (!dst->entries || !dst->subjects || !dst->strings || !dst->pre || !dst->births)
		abort();
	/* a loaded DB's records (minors only) are as a DB built in memory holds them */
	memcpy(dst->births, src->births, src->nbirths * sizeof(*dst->births));
	dst->nbirths = src->nbirths;
	dst->sensitive = src->sensitive;
	fpdb_iter_init(&it, src);
	while (fpdb_iter_next(&it, &dst->entries[dst->nentries]))
		dst->nentries++;
	/* a compact DB iterates shared fingerprints last (fpfile.h); the writer wants file order */
	qsort(dst->entries, dst->nentries, sizeof(*dst->entries), entry_qcmp);
	for (__u32 i = 0; i < src->nsubjects; i++) {
		const char *s = fpdb_subject(src, i);
		size_t n = strlen(s) + 1;

		memcpy(dst->strings + o, s, n);
		dst->subjects[i] = dst->strings + o;
		o += n;
	}
	dst->nsubjects = src->nsubjects;
	memcpy(dst->pre, src->pre, ((size_t)1 << src->pre_log2) / 8);
	dst->pre_log2 = src->pre_log2;
	dst->min_len = src->min_len;
	dst->max_len = src->max_len;
	dst->strong_min_len = src->strong_min_len;
	dst->flags = src->flags;
	dst->anchor_digits = src->anchor_digits;
	dst->kcv = src->kcv;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fpdb compact, mapped, mem, again;
	static int checked;
	uint8_t *buf;
	int rc, rm;

	if (!checked++)
		self_check();
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	if (size >= FP_HDR_SIZE) {
		__u64 kcv = keyfile_kcv(&key);
		uLong crc;

		for (int i = 0; i < 8; i++)
			buf[16 + i] = (uint8_t)(kcv >> (8 * i));
		crc = crc32(0, buf, 64);
		crc = crc32(crc, buf + 68, (uInt)(size - 68));
		put32(buf + 64, (__u32)crc);
	}
	fuzz_file_set(&file, buf, size);
	free(buf);

	rc = fpdb_load_as(&compact, file.path, &key, FPDB_COMPACT);
	rm = fpdb_load_as(&mapped, file.path, &key, FPDB_MAPPED);
	FUZZ_CHECK(rc == rm, "compact %d, mapped %d", rc, rm);
	if (rc)
		return 0;
	same_db(&compact, &mapped, "compact/mapped");

	rebuild(&compact, &mem);
	rc = fpdb_write_keyed(out_path, &mem, &key);
	FUZZ_CHECK(rc == 0, "fpdb_write of a loaded DB: %d", rc);
	rc = fpdb_load_as(&again, out_path, &key, FPDB_COMPACT);
	FUZZ_CHECK(rc == 0, "written file does not load: %d", rc);
	same_db(&compact, &again, "load/write/load");
	unlink(out_path);

	fpdb_release(&again);
	fpdb_release(&mem);
	fpdb_release(&mapped);
	fpdb_release(&compact);
	return 0;
}
