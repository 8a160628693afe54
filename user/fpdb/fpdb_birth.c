// SPDX-License-Identifier: GPL-2.0-only
/*
 * Birth records (PIPL art. 31, docs/decisions/0014-minor-birthdates.md): which subjects were
 * minors on the enrollment day and their birth dates, masked in the file so that without the
 * key a record says only that its subject has an enrolled birthdate (which the entries' field
 * types say already).
 *
 * A record's value is the birth date (days since 1970-01-01, two's complement) of a subject
 * under FPDB_BIRTH_AGE on the enrollment day, else FPDB_BIRTH_ADULT, XORed with the low 32 bits
 * of SipHash-2-4 under a per-file key over the subject index. The per-file key is SipHash-2-4
 * under the fingerprint key (k0, k1) over the file's random nonce, one word each half. Every
 * message here has a second word >= 2^56 (the BIRTH_D* constants), a fingerprint's second word
 * is a token length (cs_hash.h cs_fp): no pad is ever a fingerprint of anything. A new nonce a
 * file means two enrollments of the same data share no pad: their XOR says nothing either.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fpdb/fpfile.h"
#include "fpdb/fpdb_int.h"
#include "cs_hash.h"
#include "lib/timeutil.h"
#include "lib/util.h"

/* Domain words, the little-endian ASCII of "csbirth0", "csbirth1" and "csbpad00". */
#define BIRTH_D0   0x3068747269627363ULL
#define BIRTH_D1   0x3168747269627363ULL
#define BIRTH_DPAD 0x3030646170627363ULL

static __u64 le_word(const unsigned char *p)
{
	__u64 v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

void birth_pad_init(struct birth_pad *p, const struct cs_key *key,
		    const unsigned char nonce[FP_NONCE_SIZE])
{
	p->k0 = cs_sip24_2w(key->k0, key->k1, le_word(nonce), BIRTH_D0);
	p->k1 = cs_sip24_2w(key->k0, key->k1, le_word(nonce + 8), BIRTH_D1);
}

__u32 birth_pad(const struct birth_pad *p, __u32 subject)
{
	return (__u32)cs_sip24_2w(p->k0, p->k1, subject, BIRTH_DPAD);
}

static __s32 youngest(__s32 a, __s32 b)
{
	if (a == FPDB_BIRTH_ADULT)
		return b;
	if (b == FPDB_BIRTH_ADULT)
		return a;
	return a > b ? a : b;
}

static int birth_cmp(const void *a, const void *b)
{
	const struct fpdb_birth *x = a, *y = b;

	return (x->subject > y->subject) - (x->subject < y->subject);
}

__u32 fpdb_births_sort(struct fpdb_birth *b, __u32 n)
{
	__u32 w = 0;

	if (!n)
		return 0;
	qsort(b, n, sizeof(*b), birth_cmp);
	for (__u32 i = 1; i < n; i++) {
		if (b[i].subject == b[w].subject)
			b[w].days = youngest(b[w].days, b[i].days);
		else
			b[++w] = b[i];
	}
	return w + 1;
}

/* Birth dates enroll can give (norm_birthdate: years 1000..9999): a wider one is corrupt. */
static int days_ok(__s32 days)
{
	return days >= days_from_civil(1000, 1, 1) && days <= days_from_civil(9999, 12, 31);
}

/* Invariants of a DB's records, shared by write and load. NULL or what is wrong. */
const char *births_check(const struct fpdb_birth *b, __u32 n, __u32 nsub)
{
	for (__u32 i = 0; i < n; i++) {
		if (b[i].subject >= nsub)
			return "subject index out of range";
		if (i && b[i].subject <= b[i - 1].subject)
			return "not sorted by subject, or a subject twice";
		if (b[i].days != FPDB_BIRTH_ADULT && !days_ok(b[i].days))
			return "birth date out of range";
	}
	return NULL;
}

/*
 * The file's n records (raw, little-endian) into d->births, unmasked, minors only. NULL, or what
 * is wrong (record *bad; "" for no memory): nothing is kept then.
 */
const char *births_load(struct fpdb *d, const unsigned char *raw, __u32 n,
			const struct birth_pad *p, __u32 *bad)
{
	__u32 prev = 0, m = 0;

	d->births = malloc((n ? n : 1) * sizeof(*d->births));
	if (!d->births)
		return "";
	for (__u32 i = 0; i < n; i++) {
		const unsigned char *r = raw + (size_t)i * BIRTH_REC;
		__u32 s = (__u32)r[0] | (__u32)r[1] << 8 | (__u32)r[2] << 16 | (__u32)r[3] << 24;
		__u32 v = (__u32)r[4] | (__u32)r[5] << 8 | (__u32)r[6] << 16 | (__u32)r[7] << 24;
		const char *why = NULL;

		v ^= birth_pad(p, s);
		if (s >= d->nsubjects)
			why = "subject index out of range";
		else if (i && s <= prev)
			why = "not sorted by subject, or a subject twice";
		else if ((__s32)v != FPDB_BIRTH_ADULT && !days_ok((__s32)v))
			why = "birth date out of range"; /* or the pad of another nonce */
		if (why) {
			free(d->births);
			d->births = NULL;
			*bad = i;
			return why;
		}
		prev = s;
		if ((__s32)v != FPDB_BIRTH_ADULT)
			d->births[m++] = (struct fpdb_birth){.subject = s, .days = (__s32)v};
	}
	d->nbirths = m;
	return NULL;
}

__s32 fpdb_birth_value(__s32 days, __s64 enroll_ns)
{
	return age_at(days, enroll_ns) < FPDB_BIRTH_AGE ? days : FPDB_BIRTH_ADULT;
}

int fpdb_birth_day(const struct fpdb *db, __u32 subject, __s32 *days)
{
	__u32 lo = 0, hi = db->nbirths;

	LOWER_BOUND(lo, hi, mid, db->births[mid].subject < subject);
	if (lo == db->nbirths || db->births[lo].subject != subject ||
	    db->births[lo].days == FPDB_BIRTH_ADULT)
		return 0;
	*days = db->births[lo].days;
	return 1;
}

int is_minor(const struct fpdb *db, __u32 subject, __s64 t_ns, int age_limit)
{
	__s32 days;

	return fpdb_birth_day(db, subject, &days) && age_at(days, t_ns) < age_limit;
}
