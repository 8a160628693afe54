// SPDX-License-Identifier: GPL-2.0-only
/*
 * Version 4 of the fingerprint file (user/fpdb): the sensitive field set and the masked birth
 * records of the minor rule (fpdb_birth.c), in a DB built in memory and in both loaded forms;
 * version-3 files; corrupt birth sections.
 */
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

#include "cs_hash.h"
#include "fpdb/fpfile.h"
#include "fpdb/keyfile.h"
#include "lib/timeutil.h"
#include "testlib.h"
#include "testutil.h"

#define S   1000000000LL
#define DAY (86400 * S)

/* Header offsets of version 4 (fpfile.h). */
#define O_VERSION   8
#define O_HDR_SIZE  12
#define O_ENT_OFF   40
#define O_SUBJ_OFF  48
#define O_FILE_SIZE 56
#define O_SENSITIVE 80
#define O_NBIRTH    84
#define O_BIRTH_OFF 88
#define O_NONCE	    96

#define IMG_MAX 8192

struct fx {
	char dir[64], key[96], fp[96], fp2[96];
	struct cs_key k;
	struct fpdb w; /* the DB built in memory */
	__s64 enrolled;
};

static const struct test_row rows[] = {
    {"minor", CS_F_PHONE, "13712340001"},   {"minor", CS_F_BIRTHDATE, "2015-03-04"},
    {"adult", CS_F_PHONE, "13712340002"},   {"adult", CS_F_BIRTHDATE, "1980-01-01"},
    {"nobirth", CS_F_PHONE, "13712340003"}, {"twice", CS_F_PHONE, "13712340004"},
    {"mixed", CS_F_PHONE, "13712340005"},
};

/* Birth dates as enroll would record them (two for "twice" and "mixed": the youngest is kept). */
static const struct {
	__u32 subject;
	const char *date;
} dates[] = {
    {0, "2015-03-04"}, {1, "1980-01-01"}, {3, "2010-05-05"},
    {3, "2012-02-29"}, {4, "1990-07-01"}, {4, "2009-12-31"},
};
#define NDATES (sizeof(dates) / sizeof(dates[0]))

static __s32 day_of(const char *date)
{
	long long y;
	unsigned m, d;

	assert_int_equal(sscanf(date, "%lld-%u-%u", &y, &m, &d), 3);
	return (__s32)days_from_civil(y, m, d);
}

static __s64 instant(const char *s)
{
	__s64 ns;

	assert_int_equal(rfc3339_parse(s, &ns), 0);
	return ns;
}

static int setup(void **state)
{
	struct fx *x = calloc(1, sizeof(*x));
	static const __u64 pv[] = {1, 2, 3};

	assert_non_null(x);
	strcpy(x->dir, "/tmp/test_fpbirth.XXXXXX");
	assert_non_null(mkdtemp(x->dir));
	snprintf(x->key, sizeof(x->key), "%s/key", x->dir);
	snprintf(x->fp, sizeof(x->fp), "%s/fp.bin", x->dir);
	snprintf(x->fp2, sizeof(x->fp2), "%s/fp2.bin", x->dir);
	assert_int_equal(keyfile_load(x->key, &x->k, 1), 0);
	test_db_build(&x->w, &x->k, rows, sizeof(rows) / sizeof(rows[0]));
	assert_int_equal(x->w.nsubjects, 5);
	x->w.kcv = keyfile_kcv(&x->k);
	x->w.sensitive = FPDB_SENSITIVE_DEFAULT | FIELD_BIT(CS_F_PHONE);
	assert_int_equal(fpdb_pre_build(&x->w, pv, 3), 0);
	x->enrolled = instant("2026-12-07T10:00:00Z");
	x->w.births = calloc(NDATES, sizeof(*x->w.births));
	assert_non_null(x->w.births);
	for (unsigned i = 0; i < NDATES; i++) {
		x->w.births[i].subject = dates[i].subject;
		x->w.births[i].days = fpdb_birth_value(day_of(dates[i].date), x->enrolled);
	}
	x->w.nbirths = fpdb_births_sort(x->w.births, NDATES);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fx *x = *state;

	fpdb_release(&x->w);
	unlink(x->key);
	unlink(x->fp);
	unlink(x->fp2);
	rmdir(x->dir);
	free(x);
	return 0;
}

static size_t load_img(const char *path, unsigned char *img)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, img, IMG_MAX);
	close(fd);
	assert_true(n > 0 && n < IMG_MAX);
	return (size_t)n;
}

static void store_img(const char *path, const unsigned char *img, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, img, n), (ssize_t)n);
	close(fd);
}

static __u32 le32(const unsigned char *p)
{
	return (__u32)p[0] | (__u32)p[1] << 8 | (__u32)p[2] << 16 | (__u32)p[3] << 24;
}

static void set_le(unsigned char *p, __u64 v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static __u64 le64(const unsigned char *p)
{
	return le32(p) | (__u64)le32(p + 4) << 32;
}

/* The crc of an image as the writer makes it: every byte but the crc field's. */
static void img_crc(unsigned char *img, size_t n)
{
	unsigned long crc = crc32(crc32(0L, Z_NULL, 0), img, 64);

	crc = crc32(crc, img + 68, (unsigned)(n - 68));
	set_le(img + 64, crc, 4);
}

/* The minors of the DB built in setup, as every form must give them. */
static void expect_births(const struct fpdb *db)
{
	__s32 d = 0;

	assert_int_equal(fpdb_birth_day(db, 0, &d), 1);
	assert_int_equal(d, day_of("2015-03-04"));
	assert_int_equal(fpdb_birth_day(db, 1, &d), 0); /* 46 at enrollment: dropped */
	assert_int_equal(fpdb_birth_day(db, 2, &d), 0); /* no birthdate */
	assert_int_equal(fpdb_birth_day(db, 3, &d), 1); /* the later of two dates */
	assert_int_equal(d, day_of("2012-02-29"));
	assert_int_equal(fpdb_birth_day(db, 4, &d), 1); /* a minor's date over an adult's */
	assert_int_equal(d, day_of("2009-12-31"));
	assert_int_equal(fpdb_birth_day(db, 5, &d), 0);
	assert_int_equal(fpdb_birth_day(db, UINT32_MAX, &d), 0);
	/* PIPL art. 31 (14): the day before the 14th birthday, the birthday */
	assert_int_equal(is_minor(db, 3, instant("2026-02-28T23:59:59Z"), 14), 1);
	assert_int_equal(is_minor(db, 3, instant("2026-03-01T00:00:00Z"), 14), 0);
	assert_int_equal(is_minor(db, 0, instant("2029-03-03T12:00:00Z"), 14), 1);
	assert_int_equal(is_minor(db, 0, instant("2029-03-04T00:00:00Z"), 14), 0);
	assert_int_equal(is_minor(db, 0, instant("2029-03-04T00:00:00Z"), 16), 1); /* GDPR */
	assert_int_equal(is_minor(db, 1, instant("1985-01-01T00:00:00Z"), 14), 0);
	assert_int_equal(is_minor(db, 2, instant("2026-12-07T00:00:00Z"), 14), 0);
}

static void test_birth_roundtrip(void **state)
{
	struct fx *x = *state;
	enum fpdb_form forms[] = {FPDB_COMPACT, FPDB_MAPPED};
	unsigned char img[IMG_MAX];
	struct fpdb r;
	size_t n;

	/* built in memory: adults are there as the marker, and read as no minor */
	assert_int_equal(x->w.nbirths, 4);
	assert_int_equal(x->w.births[1].subject, 1);
	assert_int_equal(x->w.births[1].days, FPDB_BIRTH_ADULT);
	expect_births(&x->w);

	/* the pads need the key: without it, or with another, nothing is written */
	assert_int_equal(fpdb_write(x->fp, &x->w), -EINVAL);
	{
		struct cs_key other = x->k;

		other.k1 ^= 4;
		assert_int_equal(fpdb_write_keyed(x->fp, &x->w, &other), -EINVAL);
	}
	assert_int_equal(access(x->fp, F_OK), -1);
	assert_int_equal(fpdb_write_keyed(x->fp, &x->w, &x->k), 0);
	n = load_img(x->fp, img);
	assert_int_equal(le32(img + O_VERSION), 4);
	assert_int_equal(le32(img + O_HDR_SIZE), 112);
	assert_int_equal(le64(img + O_ENT_OFF), 112);
	assert_int_equal(le32(img + O_SENSITIVE), x->w.sensitive);
	assert_int_equal(le32(img + O_NBIRTH), 4);
	assert_int_equal(le64(img + O_SUBJ_OFF), le64(img + O_BIRTH_OFF) + 4 * 8);
	assert_int_equal(le64(img + O_BIRTH_OFF),
			 112 + x->w.nentries * 16 + (1 << x->w.pre_log2) / 8);
	assert_int_equal(n, le64(img + O_SUBJ_OFF) + 5 * 2 + strlen("minoradultnobirthtwicemixed"));

	for (unsigned f = 0; f < 2; f++) {
		assert_int_equal(fpdb_load_as(&r, x->fp, &x->k, forms[f]), 0);
		assert_int_equal(r.sensitive, FPDB_SENSITIVE_DEFAULT | FIELD_BIT(CS_F_PHONE));
		assert_int_equal(r.nbirths, 3); /* the adult dropped */
		assert_int_equal(r.births[0].subject, 0);
		assert_int_equal(r.births[1].subject, 3);
		assert_int_equal(r.births[2].subject, 4);
		expect_births(&r);
		assert_string_equal(fpdb_subject(&r, 3), "twice");
		fpdb_release(&r);
	}
	/* an empty sensitive set is kept as empty, not taken for the default */
	x->w.sensitive = 0;
	assert_int_equal(fpdb_write_keyed(x->fp, &x->w, &x->k), 0);
	assert_int_equal(fpdb_load(&r, x->fp, &x->k), 0);
	assert_int_equal(r.sensitive, 0);
	fpdb_release(&r);
}

static void test_birth_masked(void **state)
{
	struct fx *x = *state;
	unsigned char a[IMG_MAX], b[IMG_MAX];
	struct cs_key other = x->k;
	struct fpdb r;
	__u64 off;

	assert_int_equal(fpdb_write_keyed(x->fp, &x->w, &x->k), 0);
	assert_int_equal(fpdb_write_keyed(x->fp2, &x->w, &x->k), 0);
	assert_int_equal(load_img(x->fp, a), load_img(x->fp2, b));
	off = le64(a + O_BIRTH_OFF);
	assert_int_equal(off, le64(b + O_BIRTH_OFF));
	/* a fresh nonce each time */
	assert_memory_not_equal(a + O_NONCE, b + O_NONCE, 16);
	for (__u32 i = 0; i < 4; i++) {
		const unsigned char *ra = a + off + 8 * i, *rb = b + off + 8 * i;

		/* the subject index is plain, the value is neither the day nor the marker */
		assert_int_equal(le32(ra), x->w.births[i].subject);
		assert_int_equal(le32(rb), x->w.births[i].subject);
		assert_int_not_equal(le32(ra + 4), (__u32)x->w.births[i].days);
		assert_int_not_equal(le32(ra + 4), 0xffffffffu);
		/* two enrollments of the same data: different values (no shared pad) */
		assert_int_not_equal(le32(ra + 4), le32(rb + 4));
	}
	/* no plain birth day anywhere in the file, at any alignment */
	for (unsigned i = 0; i < NDATES; i++) {
		__u32 v = (__u32)day_of(dates[i].date);

		for (size_t k = 0; k + 4 <= (size_t)le64(a + O_FILE_SIZE); k++)
			assert_int_not_equal(le32(a + k), v);
	}
	/* the wrong key is refused as today */
	other.k0 ^= 1;
	memset(&r, 0x5a, sizeof(r));
	assert_int_equal(fpdb_load(&r, x->fp, &other), -EKEYREJECTED);
	assert_null(r.births);
	assert_int_equal(r.nbirths, 0);
}

/* A version-3 image of img (a version-4 file without birth records): the header shrunk. */
static size_t to_v3(unsigned char *img, size_t n)
{
	assert_int_equal(le32(img + O_NBIRTH), 0);
	memmove(img + 80, img + 112, n - 112);
	n -= 32;
	set_le(img + O_VERSION, 3, 4);
	set_le(img + O_HDR_SIZE, 80, 4);
	set_le(img + O_ENT_OFF, 80, 8);
	set_le(img + O_SUBJ_OFF, le64(img + O_SUBJ_OFF) - 32, 8);
	set_le(img + O_FILE_SIZE, n, 8);
	img_crc(img, n);
	return n;
}

static void test_v3_compat(void **state)
{
	struct fx *x = *state;
	enum fpdb_form forms[] = {FPDB_COMPACT, FPDB_MAPPED};
	unsigned char img[IMG_MAX];
	struct fp_entry e;
	struct fpdb r;
	__u32 nbirths = x->w.nbirths;
	size_t n;

	x->w.nbirths = 0;
	x->w.sensitive = FIELD_BIT(CS_F_EMAIL);
	assert_int_equal(fpdb_write(x->fp, &x->w), 0);
	x->w.nbirths = nbirths;
	n = to_v3(img, load_img(x->fp, img));
	store_img(x->fp, img, n);
	for (unsigned f = 0; f < 2; f++) {
		struct capture c;
		char msg[512];

		capture_begin(&c);
		assert_int_equal(fpdb_load_as(&r, x->fp, &x->k, forms[f]), 0);
		capture_end(&c, msg, sizeof(msg));
		assert_non_null(strstr(msg, "version 3 has no birthdates: re-run enroll"));
		assert_int_equal(r.sensitive, FPDB_SENSITIVE_DEFAULT);
		assert_int_equal(r.nbirths, 0);
		assert_int_equal(is_minor(&r, 0, x->enrolled, 14), 0);
		assert_int_equal(r.nentries, x->w.nentries);
		for (__u32 i = 0; i < r.nentries; i++) {
			fpdb_entry(&r, i, &e);
			assert_memory_equal(&e, &x->w.entries[i], sizeof(e));
		}
		assert_string_equal(fpdb_subject(&r, 4), "mixed");
		fpdb_release(&r);
	}
	/* a version-3 header is 80 bytes: one that says 112 is refused */
	set_le(img + O_HDR_SIZE, 112, 4);
	img_crc(img, n);
	store_img(x->fp, img, n);
	assert_int_equal(fpdb_load(&r, x->fp, &x->k), -EINVAL);
	/* version 5 is refused */
	set_le(img + O_HDR_SIZE, 80, 4);
	set_le(img + O_VERSION, 5, 4);
	img_crc(img, n);
	store_img(x->fp, img, n);
	assert_int_equal(fpdb_load(&r, x->fp, &x->k), -EINVAL);
}

/* img (n bytes) is refused in both forms, with msg in the error, and nothing is kept. */
static void expect_refused(struct fx *x, const unsigned char *img, size_t n, const char *msg)
{
	enum fpdb_form forms[] = {FPDB_COMPACT, FPDB_MAPPED};

	store_img(x->fp, img, n);
	for (unsigned f = 0; f < 2; f++) {
		struct fpdb r, zero = {0};
		struct capture c;
		char out[1024];

		memset(&r, 0x5a, sizeof(r));
		capture_begin(&c);
		assert_int_equal(fpdb_load_as(&r, x->fp, &x->k, forms[f]), -EINVAL);
		capture_end(&c, out, sizeof(out));
		if (msg && !strstr(out, msg))
			fail_msg("expected '%s' in '%s'", msg, out);
		assert_memory_equal(&r, &zero, sizeof(r));
	}
}

/* good with bytes bytes at at set to v (the crc made right) is refused with msg. */
static void refuse_patched(struct fx *x, const unsigned char *good, size_t n, size_t at, __u64 v,
			   int bytes, const char *msg)
{
	unsigned char bad[IMG_MAX];

	memcpy(bad, good, n);
	set_le(bad + at, v, bytes);
	img_crc(bad, n);
	expect_refused(x, bad, n, msg);
}

static void test_birth_corrupt(void **state)
{
	struct fx *x = *state;
	unsigned char good[IMG_MAX], bad[IMG_MAX];
	__u64 off;
	size_t n;

	assert_int_equal(fpdb_write_keyed(x->fp, &x->w, &x->k), 0);
	n = load_img(x->fp, good);
	off = le64(good + O_BIRTH_OFF);

	/* bad order: records 1 and 2 swapped (each still unmasks) */
	memcpy(bad, good, n);
	memcpy(bad + off + 8, good + off + 16, 8);
	memcpy(bad + off + 16, good + off + 8, 8);
	img_crc(bad, n);
	expect_refused(x, bad, n, "birth record 2: not sorted by subject");
	/* one subject twice */
	memcpy(bad, good, n);
	memcpy(bad + off + 8, good + off, 8);
	img_crc(bad, n);
	expect_refused(x, bad, n, "birth record 1: not sorted by subject, or a subject twice");
	/* subject index out of range (5 subjects) */
	refuse_patched(x, good, n, off + 24, 5, 4, "birth record 3: subject index out of range");
	/* a value that does not unmask to a date or the marker (bit 30 flipped) */
	refuse_patched(x, good, n, off + 12, le32(good + off + 12) ^ 0x40000000u, 4,
		       "birth record 1: birth date out of range");
	/* the pads of another nonce */
	refuse_patched(x, good, n, O_NONCE, good[O_NONCE] ^ 1, 1, "birth date out of range");
	/* the section's offset past the end, or not where it belongs; more records */
	refuse_patched(x, good, n, O_BIRTH_OFF, n + 8, 8, "inconsistent header");
	refuse_patched(x, good, n, O_BIRTH_OFF, off + 8, 8, "inconsistent header");
	refuse_patched(x, good, n, O_NBIRTH, 5, 4, "inconsistent header");
	refuse_patched(x, good, n, O_NBIRTH, 6, 4, "inconsistent header"); /* > nsubjects */
	/* an unknown field type in the sensitive mask */
	refuse_patched(x, good, n, O_SENSITIVE, 1, 4, "bad sensitive field mask");
	/* without the crc fixed: every flipped byte of the new header fields and records */
	for (size_t i = O_SENSITIVE; i < off + 32; i += i < 112 ? 1 : 3) {
		if (i == 112)
			i = off;
		memcpy(bad, good, n);
		bad[i] ^= 0x08;
		expect_refused(x, bad, n, i < 96 ? NULL : "checksum mismatch");
	}
	/* and the writer refuses the same mistakes in a DB built in memory */
	x->w.births[1].subject = 3;
	assert_int_equal(fpdb_write_keyed(x->fp2, &x->w, &x->k), -EINVAL);
	x->w.births[1].subject = 7;
	assert_int_equal(fpdb_write_keyed(x->fp2, &x->w, &x->k), -EINVAL);
	x->w.births[1].subject = 1;
	x->w.births[0].days = INT32_MAX;
	assert_int_equal(fpdb_write_keyed(x->fp2, &x->w, &x->k), -EINVAL);
	x->w.births[0].days = day_of("2015-03-04");
	x->w.sensitive = 1u << 30;
	assert_int_equal(fpdb_write_keyed(x->fp2, &x->w, &x->k), -EINVAL);
	assert_int_equal(access(x->fp2, F_OK), -1);
}

static void test_births_sort(void **state)
{
	struct fpdb_birth b[] = {
	    {9, FPDB_BIRTH_ADULT}, {2, 100}, {9, -5000}, {2, 300}, {2, 200}, {0, FPDB_BIRTH_ADULT},
	    {0, FPDB_BIRTH_ADULT}, {5, -7},  {5, -3},
	};

	(void)state;
	assert_int_equal(fpdb_births_sort(b, 9), 4);
	assert_int_equal(b[0].subject, 0);
	assert_int_equal(b[0].days, FPDB_BIRTH_ADULT);
	assert_int_equal(b[1].subject, 2);
	assert_int_equal(b[1].days, 300);
	assert_int_equal(b[2].subject, 5);
	assert_int_equal(b[2].days, -3); /* before 1970: still the later date */
	assert_int_equal(b[3].subject, 9);
	assert_int_equal(b[3].days, -5000); /* a minor's date over the marker */
	assert_int_equal(fpdb_births_sort(b, 0), 0);
	/* who is a minor on the enrollment day: under 18 then, by age_at */
	assert_int_equal(fpdb_birth_value(day_of("2008-12-08"), instant("2026-12-07T23:00:00Z")),
			 day_of("2008-12-08"));
	assert_int_equal(fpdb_birth_value(day_of("2008-12-07"), instant("2026-12-07T00:00:00Z")),
			 FPDB_BIRTH_ADULT);
	assert_int_equal(fpdb_birth_value(day_of("2030-01-01"), instant("2026-12-07T00:00:00Z")),
			 day_of("2030-01-01"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_birth_roundtrip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_birth_masked, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_v3_compat, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_birth_corrupt, setup, teardown),
	    cmocka_unit_test(test_births_sort),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
