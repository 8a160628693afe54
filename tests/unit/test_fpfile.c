// SPDX-License-Identifier: GPL-2.0-only
/*
 * The fingerprint file (user/fpdb): format, both loaded forms, writer, index and iterator. Over
 * 800 lines: one cmocka binary per module, and the file's modules share one format.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <cmocka.h>

#include "fpdb/fpfile.h"
#include "cs_hash.h"
#include "fpdb/keyfile.h"
#include "lib/log.h"
#include "testutil.h"

struct fx {
	char dir[64];
	char key[128];
	char fp[128];
	struct cs_key k;
};

/* The form the load tests load a file as (their _mapped twins set FPDB_MAPPED). */
static enum fpdb_form load_form = FPDB_COMPACT;

static int load(struct fpdb *r, const char *path, const struct cs_key *k)
{
	return fpdb_load_as(r, path, k, load_form);
}

static int setup(void **state)
{
	struct fx *x = calloc(1, sizeof(*x));

	if (!x)
		return -1;
	strcpy(x->dir, "/tmp/test_fpfile.XXXXXX");
	if (!mkdtemp(x->dir)) {
		free(x);
		return -1;
	}
	snprintf(x->key, sizeof(x->key), "%s/key", x->dir);
	snprintf(x->fp, sizeof(x->fp), "%s/fp.bin", x->dir);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fx *x = *state;
	int rc = test_rmtree(x->dir);

	free(x);
	return rc;
}

/* Send stderr to /dev/null while on, so hundreds of expected errors do not flood the output. */
static void quiet(int on)
{
	static int saved = -1;

	fflush(stderr);
	if (on && saved < 0) {
		int fd = open("/dev/null", O_WRONLY);

		saved = dup(2);
		dup2(fd, 2);
		close(fd);
	} else if (!on && saved >= 0) {
		dup2(saved, 2);
		close(saved);
		saved = -1;
	}
}

static int count_files(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

static void write_file(const char *path, const void *buf, size_t n, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, n), (ssize_t)n);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static size_t read_file(const char *path, unsigned char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, cap);
	assert_true(n >= 0 && (size_t)n < cap);
	close(fd);
	return (size_t)n;
}

static void test_keyfile_create_load(void **state)
{
	struct fx *x = *state;
	unsigned char raw[64];
	struct cs_key k2;
	struct stat st;

	assert_int_equal(keyfile_load(x->key, &x->k, 0), -ENOENT);
	assert_int_equal(keyfile_load(x->key, &x->k, 1), 0);
	assert_int_equal(stat(x->key, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, 32);
	/* loading again gives the same key, from the documented byte layout */
	assert_int_equal(keyfile_load(x->key, &k2, 1), 0);
	assert_memory_equal(&x->k, &k2, sizeof(k2));
	assert_int_equal(read_file(x->key, raw, sizeof(raw)), 32);
	assert_true(x->k.k0 == ((__u64)raw[0] | (__u64)raw[1] << 8 | (__u64)raw[7] << 56 |
				(__u64)raw[2] << 16 | (__u64)raw[3] << 24 | (__u64)raw[4] << 32 |
				(__u64)raw[5] << 40 | (__u64)raw[6] << 48));
	assert_true(x->k.k3 == ((__u64)raw[24] | (__u64)raw[31] << 56 | (__u64)raw[25] << 8 |
				(__u64)raw[26] << 16 | (__u64)raw[27] << 24 | (__u64)raw[28] << 32 |
				(__u64)raw[29] << 40 | (__u64)raw[30] << 48));
	assert_true(x->k.k0 | x->k.k1 | x->k.seed | x->k.k3);
}

static void test_keyfile_refused(void **state)
{
	struct fx *x = *state;
	unsigned char raw[32] = {1, 2, 3};
	struct cs_key k;

	write_file(x->key, raw, 32, 0644);
	assert_int_equal(keyfile_load(x->key, &k, 1), -EPERM);
	assert_int_equal(chmod(x->key, 0640), 0);
	assert_int_equal(keyfile_load(x->key, &k, 0), -EPERM);
	assert_int_equal(chmod(x->key, 0600), 0);
	assert_int_equal(keyfile_load(x->key, &k, 0), 0);
	assert_true(k.k0 == 0x030201);
	write_file(x->key, raw, 31, 0600);
	assert_int_equal(keyfile_load(x->key, &k, 1), -EINVAL);
	write_file(x->key, raw, 0, 0600);
	assert_int_equal(keyfile_load(x->key, &k, 1), -EINVAL);
	unlink(x->key);
}

static void test_kcv(void **state)
{
	struct cs_key a = {1, 2, 3, 4, 0}, b = a;

	(void)state;
	assert_true(keyfile_kcv(&a) == keyfile_kcv(&b));
	b.k1 ^= 1;
	assert_true(keyfile_kcv(&a) != keyfile_kcv(&b));
	b = a;
	b.k3 ^= 1;
	assert_true(keyfile_kcv(&a) != keyfile_kcv(&b));
	/* a separate PRF key: not SipHash under the fingerprint key (k0, k1) */
	assert_true(keyfile_kcv(&a) !=
		    cs_sip24_2w(a.k0, a.k1, 0x6372746e65736e6fULL, 0x3176766b63ULL));
}

static char *subject_names[] = {"u0001", "u0002", "客户-3", "u0004"};

/* A small DB: 4 subjects, some shared fps, a two-part name. */
static void make_db(struct fpdb *db, __u64 kcv)
{
	static const struct fp_entry in[] = {
	    {0x9000, 2, CS_F_EMAIL, 0, 1, 0},
	    {0x1000, 0, CS_F_PHONE, 0, 1, 0},
	    {0x5000, 1, CS_F_NAME, 1, 2, 0},
	    {0x5000, 0, CS_F_NAME, 0, 2, 0},
	    {0x1000, 0, CS_F_PHONE, 0, 1, 0},
	    {0x4000, 1, CS_F_NAME, 0, 2, 0},
	    {0x7000, 3, CS_F_BIRTHDATE, 0, 1, 0},
	    {0x6000, 0, CS_F_NAME, 1, 2, 0},
	    {~0ULL, 3, CS_F_USERNAME, 0, 1, 0},
	    /* hash variants: entries that differ only in the variant are all kept */
	    {0x8000, 2, CS_F_EMAIL, 0, 1, FP_VARIANT_MD5},
	    {0x8000, 2, CS_F_EMAIL, 0, 1, FP_VARIANT_SHA256},
	    {0x8000, 2, CS_F_EMAIL, 0, 1, FP_VARIANT_MD5},
	};

	memset(db, 0, sizeof(*db));
	db->entries = malloc(sizeof(in));
	assert_non_null(db->entries);
	memcpy(db->entries, in, sizeof(in));
	db->nentries = fp_entries_sort(db->entries, sizeof(in) / sizeof(in[0]));
	db->nsubjects = 4;
	db->subjects = subject_names;
	db->min_len = 2;
	db->max_len = 22;
	db->strong_min_len = 11;
	db->flags = FPDB_F_STRONG_NONASCII;
	db->anchor_digits = 9;
	db->kcv = kcv;
	{
		static const __u64 pv[] = {0x0123456789abcdefULL, 0xfedcba9876543210ULL, 42};

		assert_int_equal(fpdb_pre_build(db, pv, 3), 0);
		assert_int_equal(db->pre_log2, CS_PRE_LOG2_MIN);
	}
}

static int cmp_entry(const void *a, const void *b)
{
	return fp_entry_cmp(a, b);
}

/* A compact DB holds exactly want[0..n) (sorted), whichever order it iterates in. */
static void expect_same_entries(const struct fpdb *db, const struct fp_entry *want, __u32 n)
{
	struct fp_entry *got = calloc(n ? n : 1, sizeof(*got));
	struct fpdb_iter it;
	__u32 i = 0;

	assert_non_null(got);
	fpdb_iter_init(&it, db);
	while (i <= n && fpdb_iter_next(&it, &got[i < n ? i : 0]))
		i++;
	assert_int_equal(i, n);
	for (i = 0; i < n; i++) {
		struct fp_entry x;

		fpdb_entry(db, i, &x);
		assert_memory_equal(&x, &got[i], sizeof(x));
	}
	qsort(got, n, sizeof(*got), cmp_entry);
	assert_memory_equal(got, want, n * sizeof(*got));
	free(got);
}

static void test_roundtrip(void **state)
{
	struct fx *x = *state;
	const struct fp_entry *e;
	struct fpdb w, r;
	struct stat st;
	__u32 n;

	assert_int_equal(keyfile_load(x->key, &x->k, 1), 0);
	make_db(&w, keyfile_kcv(&x->k));
	assert_int_equal(w.nentries, 10); /* two exact duplicates dropped */
	assert_int_equal(fpdb_write(x->fp, &w), 0);
	assert_int_equal(stat(x->fp, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, FP_HDR_SIZE + 10 * 16 + (1 << CS_PRE_LOG2_MIN) / 8 + 4 * 2 +
					 5 + 5 + 8 + 5);
	assert_int_equal(count_files(x->dir), 2); /* key, fp.bin: no temporary left */

	assert_int_equal(load(&r, x->fp, &x->k), 0);
	assert_int_equal(r.nsubjects, 4);
	assert_int_equal(r.nentries, 10);
	assert_int_equal(r.min_len, 2);
	assert_int_equal(r.pre_log2, w.pre_log2);
	assert_memory_equal(r.pre, w.pre, (1 << CS_PRE_LOG2_MIN) / 8);
	assert_int_equal(r.max_len, 22);
	assert_int_equal(r.strong_min_len, 11);
	assert_int_equal(r.flags, FPDB_F_STRONG_NONASCII);
	assert_int_equal(r.anchor_digits, 9);
	assert_true(r.kcv == keyfile_kcv(&x->k));
	if (load_form == FPDB_MAPPED)
		assert_non_null(r.map);
	else
		assert_null(r.entries); /* compact */
	expect_same_entries(&r, w.entries, 10);
	for (int i = 0; i < 4; i++)
		assert_string_equal(fpdb_subject(&r, (__u32)i), subject_names[i]);

	e = fpdb_lookup(&r, 0x5000, &n);
	assert_non_null(e);
	assert_int_equal(n, 2);
	assert_int_equal(e[0].subject, 0);
	assert_int_equal(e[1].subject, 1);
	assert_int_equal(e[1].part, 1);
	assert_int_equal(e[1].nparts, 2);
	e = fpdb_lookup(&r, 0x1000, &n);
	assert_int_equal(n, 1);
	assert_int_equal(e->field, CS_F_PHONE);
	assert_int_equal(e->variant, FP_VARIANT_PLAIN);
	/* variants round trip, ordered after the other keys */
	e = fpdb_lookup(&r, 0x8000, &n);
	assert_int_equal(n, 2);
	assert_int_equal(e[0].subject, 2);
	assert_int_equal(e[0].field, CS_F_EMAIL);
	assert_int_equal(e[0].variant, FP_VARIANT_SHA256);
	assert_int_equal(e[1].variant, FP_VARIANT_MD5);
	assert_int_equal(fp_variant_enc(e[0].variant), CS_ENC_SHA256);
	assert_int_equal(fp_variant_enc(e[1].variant), CS_ENC_MD5);
	assert_int_equal(fp_variant_enc(FP_VARIANT_SHA1), CS_ENC_SHA1);
	assert_int_equal(fp_variant_enc(FP_VARIANT_PLAIN), 0);
	e = fpdb_lookup(&r, ~0ULL, &n);
	assert_int_equal(n, 1);
	assert_int_equal(e->subject, 3);
	assert_null(fpdb_lookup(&r, 0x1001, &n));
	assert_int_equal(n, 0);
	assert_null(fpdb_lookup(&r, 0, &n));
	fpdb_release(&r);
	fpdb_release(NULL);

	/* empty DB */
	w.nentries = 0;
	w.nsubjects = 0;
	w.min_len = w.max_len = w.strong_min_len = w.flags = 0;
	assert_int_equal(fpdb_write(x->fp, &w), 0);
	assert_int_equal(load(&r, x->fp, &x->k), 0);
	assert_int_equal(r.nentries, 0);
	assert_null(fpdb_lookup(&r, 0x1000, &n));
	fpdb_release(&r);
	free(w.entries);
	free(w.pre);
}

static void test_write_refuses_bad_db(void **state)
{
	struct fx *x = *state;
	struct fp_entry t;
	struct fpdb w;

	make_db(&w, 0);
	t = w.entries[0];
	w.entries[0] = w.entries[1];
	w.entries[1] = t;
	assert_int_equal(fpdb_write(x->fp, &w), -EINVAL);
	w.entries[1] = w.entries[0];
	w.entries[0] = t;
	w.entries[2].subject = 4;
	assert_int_equal(fpdb_write(x->fp, &w), -EINVAL);
	assert_int_equal(access(x->fp, F_OK), -1);
	free(w.entries);
	free(w.pre);
}

/* Rewrite the crc of a file image, so that only the semantic checks can refuse it. */
static void fix_crc(unsigned char *buf, size_t n)
{
	unsigned long crc = crc32(0L, Z_NULL, 0);

	crc = crc32(crc, buf, 64);
	crc = crc32(crc, buf + 68, (unsigned)(n - 68));
	buf[64] = crc & 0xff;
	buf[65] = (crc >> 8) & 0xff;
	buf[66] = (crc >> 16) & 0xff;
	buf[67] = (crc >> 24) & 0xff;
}

static void expect_load(struct fx *x, const unsigned char *img, size_t n, int err)
{
	struct fpdb r;

	write_file(x->fp, img, n, 0600);
	memset(&r, 0xa5, sizeof(r));
	assert_int_equal(load(&r, x->fp, &x->k), err);
	if (err) {
		struct fpdb zero = {0};

		assert_memory_equal(&r, &zero, sizeof(r));
	}
	fpdb_release(&r);
}

static void test_corruption(void **state)
{
	struct fx *x = *state;
	unsigned char good[4096], bad[4096];
	struct cs_key other;
	struct fpdb w;
	size_t n;

	assert_int_equal(keyfile_load(x->key, &x->k, 1), 0);
	make_db(&w, keyfile_kcv(&x->k));
	assert_int_equal(fpdb_write(x->fp, &w), 0);
	free(w.entries);
	free(w.pre);
	n = read_file(x->fp, good, sizeof(good));
	expect_load(x, good, n, 0);

	/* every single flipped byte is refused as corrupt, none is half-loaded */
	quiet(1);
	for (size_t i = 0; i < n; i++) {
		memcpy(bad, good, n);
		bad[i] ^= 0x40;
		expect_load(x, bad, n, -EINVAL);
	}
	/* truncated anywhere, or extended */
	for (size_t len = 0; len < n; len += 7)
		expect_load(x, good, len, -EINVAL);
	memcpy(bad, good, n);
	bad[n] = 0;
	expect_load(x, bad, n + 1, -EINVAL);
	quiet(0);

	/* bad magic, unknown version (with a valid checksum) */
	memcpy(bad, good, n);
	memcpy(bad, "CSNTRYFQ", 8);
	expect_load(x, bad, n, -EINVAL);
	assert_int_equal(good[8], FP_VERSION);
	memcpy(bad, good, n);
	bad[8] = FP_VERSION + 1;
	fix_crc(bad, n);
	expect_load(x, bad, n, -EINVAL);
	/* a version-1 or -2 file is refused with what to do */
	{
		struct capture c;
		char msg[512];

		memcpy(bad, good, n);
		bad[8] = 1;
		fix_crc(bad, n);
		capture_begin(&c);
		expect_load(x, bad, n, -EINVAL);
		capture_end(&c, msg, sizeof(msg));
		assert_non_null(strstr(msg, "made by an older consentry; re-run enroll"));
	}

	/* valid checksum but entries out of order, bad field, part >= nparts */
	memcpy(bad, good, n);
	memcpy(bad + FP_HDR_SIZE, good + FP_HDR_SIZE + 16, 16);
	memcpy(bad + FP_HDR_SIZE + 16, good + FP_HDR_SIZE, 16);
	fix_crc(bad, n);
	expect_load(x, bad, n, -EINVAL);
	memcpy(bad, good, n);
	bad[FP_HDR_SIZE + 12] = CS_F_MAX;
	fix_crc(bad, n);
	expect_load(x, bad, n, -EINVAL);
	memcpy(bad, good, n);
	bad[FP_HDR_SIZE + 13] = 1;
	fix_crc(bad, n);
	expect_load(x, bad, n, -EINVAL);
	/* variant > FP_VARIANT_MAX; a hash variant of a name part (entry 1) */
	memcpy(bad, good, n);
	bad[FP_HDR_SIZE + 15] = FP_VARIANT_MAX + 1;
	fix_crc(bad, n);
	expect_load(x, bad, n, -EINVAL);
	assert_int_equal(good[FP_HDR_SIZE + 16 + 12], CS_F_NAME);
	memcpy(bad, good, n);
	bad[FP_HDR_SIZE + 16 + 15] = FP_VARIANT_SHA256;
	fix_crc(bad, n);
	expect_load(x, bad, n, -EINVAL);
	/* the same with valid values loads: only the variant bytes were at fault */
	memcpy(bad, good, n);
	bad[FP_HDR_SIZE + 15] = FP_VARIANT_MD5;
	fix_crc(bad, n);
	expect_load(x, bad, n, 0);
	/* a strong length outside the window, an unknown flag */
	memcpy(bad, good, n);
	bad[72] = 99;
	fix_crc(bad, n);
	expect_load(x, bad, n, -EINVAL);
	memcpy(bad, good, n);
	bad[76] = 4;
	fix_crc(bad, n);
	expect_load(x, bad, n, -EINVAL);
	/* nsubjects one too high */
	memcpy(bad, good, n);
	bad[24] = 5;
	fix_crc(bad, n);
	expect_load(x, bad, n, -EINVAL);

	/* wrong key */
	other = x->k;
	other.k0 ^= 1;
	write_file(x->fp, good, n, 0600);
	{
		struct fpdb r;

		assert_int_equal(load(&r, x->fp, &other), -EKEYREJECTED);
		assert_null(r.entries);
		assert_int_equal(r.nentries, 0);
	}

	/* missing file */
	{
		struct fpdb r;

		unlink(x->fp);
		assert_int_equal(load(&r, x->fp, &x->k), -ENOENT);
	}
}

static int cmp_ref(const void *a, const void *b)
{
	return fp_entry_cmp(a, b);
}

/* The radix sort path (>= 4096 entries) with long runs of one fp, against qsort. */
static void test_sort_large(void **state)
{
	const __u32 n = 50000;
	struct fp_entry *a = calloc(n, sizeof(*a)), *b = calloc(n, sizeof(*b));
	__u64 s = 0x123456789abcdefULL;
	__u32 m, i, w = 0;

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	for (i = 0; i < n; i++) {
		s = s * 6364136223846793005ULL + 1442695040888963407ULL;
		/*
		 * a third share 8 fps (a common surname part), a fifth share their top 32 bits
		 * (sorted by radix only that far), the rest random
		 */
		a[i].fp = i % 3 ? s : (s >> 61) * 0x0101010101010101ULL;
		if (i % 5 == 1)
			a[i].fp = s >> 44;
		a[i].subject = (__u32)(s >> 20) % 1000;
		a[i].field = (__u8)(1 + (s >> 40) % (CS_F_MAX - 1));
		a[i].nparts = 1;
		/* variants of strong fields, so runs differ in the last key only too */
		a[i].variant = a[i].field < CS_F_FIRST_WEAK ? (__u8)((s >> 50) & 3) : 0;
	}
	memcpy(b, a, n * sizeof(*a));
	m = fp_entries_sort(a, n);
	qsort(b, n, sizeof(*b), cmp_ref);
	for (i = 1; i < n; i++)
		if (cmp_ref(&b[w], &b[i]))
			b[++w] = b[i];
	assert_int_equal(m, w + 1);
	assert_memory_equal(a, b, m * sizeof(*a));
	free(a);
	free(b);
}

static __u64 lcg(__u64 *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return *s ^ (*s >> 29);
}

/* A sorted DB of n random entries: shared fps (name parts), several kinds, edge fps. */
static void random_db(struct fpdb *db, __u32 n, __u32 nsub, __u64 seed)
{
	static char *names[] = {"s0", "s1", "s2"};
	struct fp_entry *e = calloc(n ? n : 1, sizeof(*e));

	assert_non_null(e);
	memset(db, 0, sizeof(*db));
	for (__u32 i = 0; i < n; i++) {
		__u64 r = lcg(&seed);

		e[i].fp = r % 5 ? lcg(&seed) : (r >> 40) % 7 * 0x2000000000000001ULL;
		if (i == 1)
			e[i].fp = 0;
		if (i == 2)
			e[i].fp = ~0ULL;
		e[i].subject = (__u32)(lcg(&seed) % nsub);
		if (r % 5 == 0) {
			e[i].field = CS_F_NAME;
			e[i].nparts = (__u8)(1 + (r >> 8) % 3);
			e[i].part = (__u8)((r >> 16) % e[i].nparts);
		} else {
			e[i].field = (__u8)(CS_F_PHONE + (r >> 8) % 3);
			e[i].nparts = 1;
			e[i].variant = (__u8)((r >> 20) % (FP_VARIANT_MAX + 1));
		}
	}
	db->entries = e;
	db->nentries = fp_entries_sort(e, n);
	db->nsubjects = nsub;
	db->subjects = names; /* only indices are used here */
}

/* The compact form answers exactly what the sorted array answers. */
static void check_compact(__u32 n, __u32 nsub, __u64 seed)
{
	struct fpdb a, b;
	struct fp_entry x;
	const struct fp_entry *r[FPDB_LOOKUP_RING];
	__u32 rn[FPDB_LOOKUP_RING], i, k, fa, fb, na, nb;

	random_db(&a, n, nsub, seed);
	random_db(&b, n, nsub, seed);
	assert_int_equal(fpdb_compact(&b), 0);
	assert_null(b.entries);
	assert_non_null(b.ix);
	assert_int_equal(b.nentries, a.nentries);
	expect_same_entries(&b, a.entries, a.nentries);
	/* members, their neighbours and random non-members: the same entries, in order */
	for (i = 0; i < a.nentries + 200; i++) {
		__u64 fp = i < a.nentries ? a.entries[i].fp + (i % 3) - 1 : lcg(&seed);

		na = fpdb_find(&a, fp, &fa);
		nb = fpdb_find(&b, fp, &fb);
		assert_int_equal(na, nb);
		for (k = 0; k < na; k++) {
			fpdb_entry(&b, fb + k, &x);
			assert_memory_equal(&x, &a.entries[fa + k], sizeof(x));
		}
	}
	/* the last FPDB_LOOKUP_RING lookups stay valid together */
	for (k = 0, i = 0; k < FPDB_LOOKUP_RING && a.nentries; k++, i = (i + 7919) % a.nentries)
		r[k] = fpdb_lookup(&b, a.entries[i].fp, &rn[k]);
	for (k = 0, i = 0; k < FPDB_LOOKUP_RING && a.nentries; k++, i = (i + 7919) % a.nentries) {
		const struct fp_entry *want = fpdb_lookup(&a, a.entries[i].fp, &na);

		assert_int_equal(rn[k], na);
		assert_memory_equal(r[k], want, na * sizeof(*want));
	}
	assert_null(fpdb_lookup(&b, 0x123456789ULL, &nb));
	a.subjects = b.subjects = NULL;
	fpdb_release(&a);
	fpdb_release(&b);
}

static void test_compact(void **state)
{
	(void)state;
	check_compact(0, 1, 1);	   /* empty */
	check_compact(1, 1, 2);	   /* one entry, no subject bits */
	check_compact(20, 3, 3);   /* no directory: 64-bit remainders */
	check_compact(5000, 3, 4); /* one kind of subject width, directory */
	check_compact(200000, 100000, 5);
}

/* Rss in KiB of the mapping holding addr (/proc/self/smaps), -1 if there is none. */
static long mapping_rss_kb(const void *addr)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	int in = 0;
	long kb = -1;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, ' ') &&
		    line[strcspn(line, " ") - 1] != ':')
			in = (uintptr_t)addr >= lo && (uintptr_t)addr < hi;
		else if (in && sscanf(line, "Rss: %ld kB", &kb) == 1)
			break;
	}
	fclose(f);
	return kb;
}

/* A random DB of 100k entries of 1000 subjects u0..u999 (names: 1000 slots), written to x->fp. */
static void write_100k(struct fx *x, struct fpdb *w, char **names)
{
	assert_int_equal(keyfile_load(x->key, &x->k, 1), 0);
	random_db(w, 100000, 1000, 6);
	for (int i = 0; i < 1000; i++) {
		names[i] = malloc(8);
		snprintf(names[i], 8, "u%d", i);
	}
	w->subjects = names;
	w->kcv = keyfile_kcv(&x->k);
	w->min_len = 2;
	w->max_len = 64;
	assert_int_equal(fpdb_pre_build(w, &w->kcv, 1), 0);
	assert_int_equal(fpdb_write(x->fp, w), 0);
}

/* A file large enough for a directory loads into the compact form entry for entry. */
static void test_load_compact(void **state)
{
	struct fx *x = *state;
	char **names = calloc(1000, sizeof(*names));
	struct fpdb w, r;

	assert_non_null(names);
	write_100k(x, &w, names);
	assert_int_equal(load(&r, x->fp, &x->k), 0);
	assert_int_equal(r.nentries, w.nentries);
	/* mapped: the load read the whole file and left none of it resident (1.6 MB of entries) */
	if (load_form == FPDB_MAPPED) {
		struct fpdb_iter it;
		struct fp_entry e;
		__u32 n = 0;

		assert_int_equal(mapping_rss_kb(r.entries), 0);
		/* nor does a walk over every entry (the tag-table fill) */
		fpdb_iter_init(&it, &r);
		while (fpdb_iter_next(&it, &e))
			n++;
		assert_int_equal(n, r.nentries);
		assert_int_equal(mapping_rss_kb(r.entries), 0);
		/* a lookup maps a page and its fault-around neighbours (64 KiB), no more */
		assert_true(fpdb_find(&r, w.entries[w.nentries / 2].fp, &n) > 0);
		assert_true(mapping_rss_kb(r.entries) > 0);
		assert_true(mapping_rss_kb(r.entries) <= 128);
	}
	expect_same_entries(&r, w.entries, w.nentries);
	for (int i = 0; i < 1000; i++)
		assert_string_equal(fpdb_subject(&r, (__u32)i), names[i]);
	/* every fingerprint is found with all its entries, absent ones are not */
	for (__u32 i = 0, first; i < w.nentries; i++) {
		__u32 n = fpdb_find(&r, w.entries[i].fp, &first), want = 0;
		struct fp_entry e;

		for (__u32 j = 0; j < w.nentries; j++)
			want += w.entries[j].fp == w.entries[i].fp;
		assert_int_equal(n, want);
		fpdb_entry(&r, first, &e);
		assert_true(e.fp == w.entries[i].fp);
		assert_int_equal(fpdb_find(&r, w.entries[i].fp ^ 0x8000000000000001ULL, &first), 0);
		if (i > 2000)
			i += 97; /* the quadratic count: a sample past the first entries */
	}
	/* a loaded DB is not written again: it has no entries array of its own */
	assert_int_equal(fpdb_write(x->fp, &r), -EINVAL);
	/* the prefilter can be handed to a copy the DB does not own */
	{
		__u64 *copy = malloc((1 << r.pre_log2) / 8);

		memcpy(copy, r.pre, (1 << r.pre_log2) / 8);
		fpdb_pre_share(&r, copy);
		assert_true(r.pre == copy);
		fpdb_pre_unshare(&r, copy);
		assert_null(r.pre);
		free(copy);
	}
	fpdb_release(&r);
	for (int i = 0; i < 1000; i++)
		free(names[i]);
	free(names);
	free(w.entries);
	free(w.pre);
}

/*
 * A mapped DB whose file is truncated under it (cp over it does that): every reader fails with
 * EIO instead of the process dying of SIGBUS, and fpdb_failed() says so from then on.
 */
static void test_mapped_truncated(void **state)
{
	struct fx *x = *state;
	char *names[1000];
	struct fpdb w, r;
	struct fpdb_iter it;
	struct fp_entry e;
	__u32 first, n;

	write_100k(x, &w, names);
	assert_int_equal(fpdb_load_as(&r, x->fp, &x->k, FPDB_MAPPED), 0);
	assert_true(fpdb_find(&r, w.entries[7].fp, &first) > 0);
	assert_string_equal(fpdb_subject(&r, 999), "u999");
	assert_int_equal(fpdb_failed(&r), 0);

	assert_int_equal(truncate(x->fp, 0), 0);
	errno = 0;
	assert_int_equal(fpdb_find(&r, w.entries[50000].fp, &first), 0);
	assert_int_equal(errno, EIO);
	assert_int_equal(fpdb_failed(&r), 1);
	assert_null(fpdb_lookup(&r, w.entries[90000].fp, &n));
	assert_int_equal(n, 0);
	assert_string_equal(fpdb_subject(&r, 500), "");
	fpdb_iter_init(&it, &r);
	assert_int_equal(fpdb_iter_next(&it, &e), 0);
	fpdb_release(&r);
	for (int i = 0; i < 1000; i++)
		free(names[i]);
	free(w.entries);
	free(w.pre);
}

/* Prefilter sizes: 16-32 bits a token up to 128 MiB, then 12-24 (10M subjects with variants). */
static void test_pre_size(void **state)
{
	(void)state;
	assert_int_equal(fpdb_pre_log2(0), CS_PRE_LOG2_MIN);
	assert_int_equal(fpdb_pre_log2(97), CS_PRE_LOG2_MIN);
	assert_int_equal(fpdb_pre_log2(21452), 19);    /* the bench's DB: 24.4 bits each */
	assert_int_equal(fpdb_pre_log2(1u << 26), 30); /* 16 bits each, 128 MiB */
	assert_int_equal(fpdb_pre_log2((1u << 26) + 1),
			 30);				/* 2^31 at 16: 12 bits, not below 2^30 */
	assert_int_equal(fpdb_pre_log2(58485317), 30);	/* 10M without variants: 18.4 bits */
	assert_int_equal(fpdb_pre_log2(151000000), 31); /* 10M with variants: 14.2 bits */
	assert_int_equal(fpdb_pre_log2(1ull << 40), CS_PRE_LOG2_MAX);
}

/* The same tests on a DB read in place from the file's mapping. */
static void test_roundtrip_mapped(void **state)
{
	load_form = FPDB_MAPPED;
	test_roundtrip(state);
	load_form = FPDB_COMPACT;
}

static void test_corruption_mapped(void **state)
{
	load_form = FPDB_MAPPED;
	test_corruption(state);
	load_form = FPDB_COMPACT;
}

static void test_load_mapped(void **state)
{
	load_form = FPDB_MAPPED;
	test_load_compact(state);
	load_form = FPDB_COMPACT;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_keyfile_create_load, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keyfile_refused, setup, teardown),
	    cmocka_unit_test(test_kcv),
	    cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_write_refuses_bad_db, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_corruption, setup, teardown),
	    cmocka_unit_test(test_sort_large),
	    cmocka_unit_test(test_compact),
	    cmocka_unit_test_setup_teardown(test_load_compact, setup, teardown),
	    cmocka_unit_test(test_pre_size),
	    cmocka_unit_test_setup_teardown(test_roundtrip_mapped, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_corruption_mapped, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_load_mapped, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mapped_truncated, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
