// SPDX-License-Identifier: GPL-2.0-only
/*
 * enroll: registrations.csv -> fingerprint file (spec §2, §3).
 *
 * One pass over the CSV appends fingerprint entries to one flat array and subject ids to one
 * string arena (no allocation per value); a row is rolled back when any of its cells fails.
 * Duplicate subject ids are found with an open-addressing hash set of subject indices. The
 * hash variants of emails and phones are computed on a second thread (struct hasher). At the
 * end the entries are radix-sorted (fp_entries_sort) and written. Registered values are never
 * printed or logged: messages name the line and column only.
 */
#define _GNU_SOURCE /* asprintf */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

#include "csv.h"
#include "enroll.h"
#include "cs_hash.h"
#include "fields.h"
#include "fpfile.h"
#include "keyfile.h"
#include "log.h"
#include "util.h"
#include "scan.h"

#define EMAIL_MAX	 254
#define PHONE_DIGITS_MAX 24

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static char to_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + 0x20) : c;
}

static char to_upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 0x20) : c;
}

/* Length of a space at s[0..n): ASCII white space, U+00A0 or U+3000; 0 if none. */
static size_t space_len(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;

	if (n && (u[0] == ' ' || (u[0] >= '\t' && u[0] <= '\r')))
		return 1;
	if (n >= 2 && u[0] == 0xc2 && u[1] == 0xa0)
		return 2;
	if (n >= 3 && u[0] == 0xe3 && u[1] == 0x80 && u[2] == 0x80)
		return 3;
	return 0;
}

static size_t space_len_back(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;

	if (n && (u[n - 1] == ' ' || (u[n - 1] >= '\t' && u[n - 1] <= '\r')))
		return 1;
	if (n >= 2 && u[n - 2] == 0xc2 && u[n - 1] == 0xa0)
		return 2;
	if (n >= 3 && u[n - 3] == 0xe3 && u[n - 2] == 0x80 && u[n - 1] == 0x80)
		return 3;
	return 0;
}

static const char *trim(const char *s, size_t *n)
{
	size_t k;

	while ((k = space_len(s, *n))) {
		s += k;
		*n -= k;
	}
	while ((k = space_len_back(s, *n)))
		*n -= k;
	return s;
}

static void out_add(struct norm_out *out, const char *s, size_t len)
{
	out->s[out->n] = s;
	out->len[out->n] = len;
	out->n++;
}

static int reject(struct norm_out *out, const char *why)
{
	out->n = 0;
	out->reason = why;
	return -EINVAL;
}

/*
 * Length of the E.164 calling code at the start of d: country codes form a prefix code, 1 and
 * 7 are one digit, the listed ones two, all others three. 0 if d cannot start one.
 */
static unsigned calling_code_len(const char *d, size_t n)
{
	static const char two[] = "20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 "
				  "53 54 55 56 57 58 60 61 62 63 64 65 66 81 82 84 86 90 91 92 "
				  "93 94 95 98 ";

	if (!n || d[0] == '0')
		return 0;
	if (d[0] == '1' || d[0] == '7')
		return 1;
	if (n < 2)
		return 0;
	for (const char *p = two; *p; p += 3)
		if (p[0] == d[0] && p[1] == d[1])
			return 2;
	return n >= 3 ? 3 : 0;
}

/* Digits of the national number for country codes whose length is fixed, else 0. */
static unsigned national_len(int cc)
{
	switch (cc) {
	case 86:
		return 11; /* mobile numbers */
	case 1:
		return 10; /* NANP */
	default:
		return 0;
	}
}

static int norm_phone(const char *s, size_t n, int country_code, struct norm_out *out)
{
	char d[PHONE_DIGITS_MAX + 1], ccs[8];
	const char *nat, *nsn;
	size_t nd = 0, natn, ccn, nsnn;
	int plus = 0, cc;
	char *b = out->buf;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (is_digit(c)) {
			if (nd == PHONE_DIGITS_MAX)
				return reject(out, "phone number too long");
			d[nd++] = c;
		} else if (c == '+') {
			if (plus || nd)
				return reject(out, "misplaced '+' in phone number");
			plus = 1;
		} else if (c != ' ' && c != '-' && c != '.' && c != '(' && c != ')') {
			return reject(out, "unexpected character in phone number");
		}
	}
	d[nd] = '\0';

	if (plus || (nd > 2 && d[0] == '0' && d[1] == '0')) {
		/* International form: the calling code is explicit. */
		const char *intl = plus ? d : d + 2;
		size_t in = plus ? nd : nd - 2;

		ccn = (size_t)snprintf(ccs, sizeof(ccs), "%d", country_code);
		if (!(in > ccn && !memcmp(intl, ccs, ccn)))
			ccn = calling_code_len(intl, in);
		if (!ccn || in <= ccn)
			return reject(out, "bad country code in phone number");
		cc = 0;
		for (size_t i = 0; i < ccn; i++)
			cc = cc * 10 + (intl[i] - '0');
		nat = intl + ccn;
		natn = in - ccn;
	} else {
		unsigned nl = national_len(country_code);

		cc = country_code;
		ccn = (size_t)snprintf(ccs, sizeof(ccs), "%d", cc);
		nat = d;
		natn = nd;
		/* A bare country code: only when the length says so (86 + 11 digits). */
		if (nl && nd == ccn + nl && !memcmp(d, ccs, ccn)) {
			nat = d + ccn;
			natn = nl;
		}
	}
	ccn = (size_t)snprintf(ccs, sizeof(ccs), "%d", cc);

	/* "+44 (0)20 ..." or "020 ...": the trunk 0 is not dialled after a country code. */
	nsnn = natn;
	if (natn && nat[0] == '0' && cc != 39)
		nsnn--;
	if (natn < 6 || natn > 15 || nsnn < 5)
		return reject(out, "phone number must have 6 to 15 national digits");
	if (cc == 86 && (nsnn != 11 || nat[natn - nsnn] != '1'))
		return reject(out, "not an 11-digit mobile number for country code 86");
	nsn = nat + (natn - nsnn);
	if (cc == 86) {
		/* mobile numbers have no trunk prefix */
		nat = nsn;
		natn = nsnn;
	}

	/* national (as written at home), CC + national, 00 + CC + national */
	memcpy(b, nat, natn);
	b[natn] = '\0';
	out_add(out, b, natn);
	b += natn + 1;
	memcpy(b, ccs, ccn);
	memcpy(b + ccn, nsn, nsnn);
	b[ccn + nsnn] = '\0';
	out_add(out, b, ccn + nsnn);
	b += ccn + nsnn + 1;
	b[0] = '0';
	b[1] = '0';
	memcpy(b + 2, ccs, ccn);
	memcpy(b + 2 + ccn, nsn, nsnn);
	b[2 + ccn + nsnn] = '\0';
	out_add(out, b, 2 + ccn + nsnn);
	return 0;
}

static int norm_email(const char *s, size_t n, struct norm_out *out)
{
	size_t at = 0, nat = 0;

	if (n > EMAIL_MAX)
		return reject(out, "email address longer than 254 bytes");
	for (size_t i = 0; i < n; i++) {
		out->buf[i] = to_lower(s[i]);
		if (s[i] == '@') {
			at = i;
			nat++;
		}
	}
	out->buf[n] = '\0';
	if (nat != 1)
		return reject(out, "email address needs exactly one '@'");
	if (!at)
		return reject(out, "email address has an empty local part");
	if (!memchr(out->buf + at + 1, '.', n - at - 1))
		return reject(out, "email domain has no dot");
	out_add(out, out->buf, n);
	return 0;
}

/* GB 11643 / ISO 7064 MOD 11-2 check character of the first 17 digits. */
static char id_check_char(const char *d)
{
	static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
	static const char map[] = "10X98765432";
	int sum = 0;

	for (int i = 0; i < 17; i++)
		sum += (d[i] - '0') * w[i];
	return map[sum % 11];
}

static int norm_national_id(const char *s, size_t n, struct norm_out *out)
{
	if (n != 18)
		return reject(out, "national id must have 18 characters");
	for (size_t i = 0; i < 18; i++) {
		out->buf[i] = to_upper(s[i]);
		if (!is_digit(out->buf[i]) && !(i == 17 && out->buf[i] == 'X'))
			return reject(out, "national id must be 17 digits and a digit or X");
	}
	out->buf[18] = '\0';
	if (id_check_char(out->buf) != out->buf[17])
		return reject(out, "national id check character does not match");
	out_add(out, out->buf, 18);
	return 0;
}

static int norm_bank_card(const char *s, size_t n, struct norm_out *out)
{
	size_t nd = 0;

	for (size_t i = 0; i < n; i++) {
		if (is_digit(s[i])) {
			if (nd == 19)
				return reject(out, "bank card number must have 12 to 19 digits");
			out->buf[nd++] = s[i];
		} else if (s[i] != ' ' && s[i] != '-') {
			return reject(out, "unexpected character in bank card number");
		}
	}
	if (nd < 12)
		return reject(out, "bank card number must have 12 to 19 digits");
	out->buf[nd] = '\0';
	out_add(out, out->buf, nd);
	return 0;
}

static int norm_passport(const char *s, size_t n, struct norm_out *out)
{
	if (n < 5 || n > 20)
		return reject(out, "passport number must have 5 to 20 characters");
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(s[i]) && !is_alpha(s[i]))
			return reject(out, "passport number must be letters and digits");
		out->buf[i] = to_upper(s[i]);
	}
	out->buf[n] = '\0';
	out_add(out, out->buf, n);
	return 0;
}

static int norm_username(const char *s, size_t n, struct norm_out *out)
{
	size_t chars = 0;

	for (size_t i = 0; i < n; i++)
		chars += ((unsigned char)s[i] & 0xc0) != 0x80;
	if (chars < 3 || chars > 64 || n >= NORM_BUF)
		return reject(out, "username must have 3 to 64 characters");
	memcpy(out->buf, s, n);
	out->buf[n] = '\0';
	out_add(out, out->buf, n);
	return 0;
}

static int norm_birthdate(const char *s, size_t n, struct norm_out *out)
{
	static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	char *d = out->buf;
	int y, m, day;

	if (n == 8) {
		memcpy(d, s, 8);
	} else if (n == 10 && (s[4] == '-' || s[4] == '/' || s[4] == '.') && s[7] == s[4]) {
		memcpy(d, s, 4);
		memcpy(d + 4, s + 5, 2);
		memcpy(d + 6, s + 8, 2);
	} else {
		return reject(out,
			      "birthdate must be YYYY-MM-DD, YYYY/MM/DD, YYYY.MM.DD or YYYYMMDD");
	}
	d[8] = '\0';
	for (int i = 0; i < 8; i++)
		if (!is_digit(d[i]))
			return reject(
			    out,
			    "birthdate must be YYYY-MM-DD, YYYY/MM/DD, YYYY.MM.DD or YYYYMMDD");
	y = (d[0] - '0') * 1000 + (d[1] - '0') * 100 + (d[2] - '0') * 10 + (d[3] - '0');
	m = (d[4] - '0') * 10 + (d[5] - '0');
	day = (d[6] - '0') * 10 + (d[7] - '0');
	if (y < 1000 || m < 1 || m > 12 || day < 1 || day > mdays[m - 1])
		return reject(out, "birthdate is not a valid date");
	if (m == 2 && day == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return reject(out, "birthdate is not a valid date");
	out_add(out, d, 8);
	return 0;
}

int norm_value(int field, const char *in, size_t len, int country_code, struct norm_out *out)
{
	const char *s;
	size_t n = len;

	out->n = 0;
	out->reason = NULL;
	s = trim(in, &n);
	if (!n)
		return reject(out, "empty value");
	switch (field) {
	case CS_F_PHONE:
		if (country_code < 1 || country_code > 999)
			return reject(out, "country code must be 1 to 999");
		return norm_phone(s, n, country_code, out);
	case CS_F_EMAIL:
		return norm_email(s, n, out);
	case CS_F_NATIONAL_ID:
		return norm_national_id(s, n, out);
	case CS_F_BANK_CARD:
		return norm_bank_card(s, n, out);
	case CS_F_PASSPORT:
		return norm_passport(s, n, out);
	case CS_F_USERNAME:
		return norm_username(s, n, out);
	case CS_F_BIRTHDATE:
		return norm_birthdate(s, n, out);
	case CS_F_NAME:
	case CS_F_ADDRESS:
		out_add(out, s, n);
		return 0;
	default:
		return reject(out, "unknown field type");
	}
}

struct whole_ctx {
	__u32 len;
	int found;
	__u64 fp;
	__u64 pre;
};

/* A token that is the whole normalised string: all of its bytes, none skipped or decoded. */
static void on_whole(const struct scan_token *t, void *ctx)
{
	struct whole_ctx *w = ctx;

	if (t->start == 0 && t->end == w->len && t->len == w->len) {
		w->found = 1;
		w->fp = t->fp;
		w->pre = cs_pre(t->acc, t->len);
	}
}

struct parts_ctx {
	struct value_fps *out;
	int overflow;
};

static void on_part(const struct scan_token *t, void *ctx)
{
	struct parts_ctx *p = ctx;
	struct value_fps *o = p->out;

	if (t->len < 2)
		return;
	for (unsigned i = 0; i < o->n; i++)
		if (o->fp[i] == t->fp)
			return;
	if (o->n == FP_MAX_PARTS) {
		p->overflow = 1;
		return;
	}
	o->fp[o->n] = t->fp;
	o->len[o->n] = t->len;
	o->pre[o->n] = cs_pre(t->acc, t->len);
	o->variant[o->n] = FP_VARIANT_PLAIN;
	o->n++;
}

/* The fingerprint of s[0..len) when the scanner reads it as exactly one token, else 0. */
static int whole_token(const struct cs_key *key, const char *s, size_t len, struct whole_ctx *w)
{
	memset(w, 0, sizeof(*w));
	w->len = (__u32)len;
	scan_message(key, s, len, on_whole, w);
	return w->found;
}

int value_fingerprints(const struct cs_key *key, int field, const struct norm_out *norm,
		       struct value_fps *out, const char **reason)
{
	out->n = 0;
	if (!norm->n) {
		*reason = "empty value";
		return -EINVAL;
	}
	if (field == CS_F_NAME || field == CS_F_ADDRESS) {
		struct parts_ctx p = {.out = out};

		scan_message(key, norm->s[0], norm->len[0], on_part, &p);
		if (p.overflow) {
			*reason = "more than 255 words";
			out->n = 0;
			return -EINVAL;
		}
		if (!out->n) {
			*reason = "no word of 2 or more letters or digits";
			return -EINVAL;
		}
		return 0;
	}
	for (unsigned i = 0; i < norm->n; i++) {
		struct whole_ctx w;
		unsigned j;

		if (!whole_token(key, norm->s[i], norm->len[i], &w)) {
			*reason = "value is not one token to the scanner (unexpected characters)";
			out->n = 0;
			return -EINVAL;
		}
		for (j = 0; j < out->n && out->fp[j] != w.fp; j++)
			;
		if (j == out->n) {
			out->fp[out->n] = w.fp;
			out->len[out->n] = w.len;
			out->pre[out->n] = w.pre;
			out->variant[out->n] = FP_VARIANT_PLAIN;
			out->n++;
		}
	}
	return 0;
}

struct digests {
	EVP_MD_CTX *ctx;
	EVP_MD *md[FP_VARIANT_MAX + 1]; /* by enum fp_variant; [FP_VARIANT_PLAIN] unused */
	int direct; /* hex_token(): 1 agrees with the scanner, -1 does not, 0 not checked yet */
};

/*
 * The W token of a lower-case hex string, computed directly: the scanner's W stream hashes
 * every byte of a run of ASCII letters and digits (cs_scan.h: keyed FNV-1a, lower-cased), so
 * this is its token without running both streams over 32-64 bytes (6x faster; at 12 digests
 * per subject that is most of enroll's time). hex_token_checked() proves the equality against
 * the scanner once per run and otherwise falls back to it.
 */
static void hex_token(const struct cs_key *key, const char *hex, size_t n, struct whole_ctx *w)
{
	__u64 acc = key->seed;

	for (size_t i = 0; i < n; i++)
		acc = (acc ^ (__u8)hex[i]) * CS_FNV_PRIME;
	w->len = (__u32)n;
	w->found = 1;
	w->fp = cs_fp(key, acc, w->len);
	w->pre = cs_pre(acc, w->len);
}

static int hex_token_checked(const struct cs_key *key, struct digests *d, const char *hex, size_t n,
			     struct whole_ctx *w)
{
	if (!d->direct) {
		/* every hex digit, at every digest length */
		static const char probe[] = "0123456789abcdef0123456789abcdef"
					    "0123456789abcdef0123456789abcdef";
		struct whole_ctx a, b;

		d->direct = 1;
		for (size_t len = 32; len <= 64; len += 8) {
			hex_token(key, probe + 64 - len, len, &a);
			if (!whole_token(key, probe + 64 - len, len, &b) || a.fp != b.fp ||
			    a.pre != b.pre) {
				pr_warn("hash variants: direct hex fingerprint differs from the "
					"scanner's, using the scanner");
				d->direct = -1;
				break;
			}
		}
	}
	if (d->direct < 0)
		return whole_token(key, hex, n, w);
	hex_token(key, hex, n, w);
	return 1;
}

struct digests *digests_new(void)
{
	static const char *const names[FP_VARIANT_MAX + 1] = {
	    [FP_VARIANT_SHA256] = "SHA256",
	    [FP_VARIANT_SHA1] = "SHA1",
	    [FP_VARIANT_MD5] = "MD5",
	};
	struct digests *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->ctx = EVP_MD_CTX_new();
	if (!d->ctx)
		goto fail;
	/* fetched once: EVP_Digest() with a name would look the algorithm up for every value */
	for (unsigned v = FP_VARIANT_SHA256; v <= FP_VARIANT_MAX; v++) {
		d->md[v] = EVP_MD_fetch(NULL, names[v], NULL);
		if (!d->md[v]) {
			pr_err("libcrypto has no %s (needed for hash variants; --no-hashes skips "
			       "them)",
			       names[v]);
			goto fail;
		}
	}
	return d;
fail:
	digests_free(d);
	errno = EIO;
	return NULL;
}

void digests_free(struct digests *d)
{
	if (!d)
		return;
	for (unsigned v = 0; v <= FP_VARIANT_MAX; v++)
		EVP_MD_free(d->md[v]);
	EVP_MD_CTX_free(d->ctx);
	free(d);
}

int digest_hex(struct digests *d, unsigned variant, const void *s, size_t n,
	       char hex[DIGEST_HEX_MAX + 1])
{
	static const char xd[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	int ok;

	if (variant < FP_VARIANT_SHA256 || variant > FP_VARIANT_MAX)
		return -EINVAL;
	ok = EVP_DigestInit_ex2(d->ctx, d->md[variant], NULL) && EVP_DigestUpdate(d->ctx, s, n) &&
	     EVP_DigestFinal_ex(d->ctx, md, &mdlen) && mdlen * 2 <= DIGEST_HEX_MAX;
	if (ok) {
		for (unsigned i = 0; i < mdlen; i++) {
			hex[2 * i] = xd[md[i] >> 4];
			hex[2 * i + 1] = xd[md[i] & 15];
		}
		hex[2 * mdlen] = '\0';
	}
	explicit_bzero(md, sizeof(md));
	return ok ? (int)(2 * mdlen) : -EIO;
}

int value_hash_fingerprints(const struct cs_key *key, struct digests *d, int field,
			    const struct norm_out *norm, struct value_fps *out)
{
	char e164[NORM_BUF + 1], hex[DIGEST_HEX_MAX + 1];
	const char *src[3];
	size_t srclen[3];
	unsigned nsrc = 0, n0 = out->n;
	int err = 0;

	if (field == CS_F_EMAIL && norm->n >= 1) {
		src[nsrc] = norm->s[0];
		srclen[nsrc++] = norm->len[0];
	} else if (field == CS_F_PHONE && norm->n >= 2 && norm->len[1] < NORM_BUF) {
		/* national number, country code + national number, E.164 */
		e164[0] = '+';
		memcpy(e164 + 1, norm->s[1], norm->len[1]);
		for (unsigned i = 0; i < 2; i++) {
			src[nsrc] = norm->s[i];
			srclen[nsrc++] = norm->len[i];
		}
		src[nsrc] = e164;
		srclen[nsrc++] = norm->len[1] + 1;
	}
	for (unsigned i = 0; i < nsrc && !err; i++) {
		for (unsigned v = FP_VARIANT_SHA256; v <= FP_VARIANT_MAX && !err; v++) {
			struct whole_ctx w;
			int n = digest_hex(d, v, src[i], srclen[i], hex);

			if (n < 0) {
				err = n;
			} else if (out->n == FP_MAX_PARTS ||
				   !hex_token_checked(key, d, hex, (size_t)n, &w)) {
				err = -EINVAL; /* cannot happen: a run of hex digits is one token */
			} else {
				out->fp[out->n] = w.fp;
				out->len[out->n] = w.len;
				out->pre[out->n] = w.pre;
				out->variant[out->n] = (__u8)v;
				out->n++;
			}
		}
	}
	explicit_bzero(hex, sizeof(hex));
	explicit_bzero(e164, sizeof(e164));
	if (err)
		out->n = n0;
	return err;
}

/* The enroll command. */

struct colmap {
	char *col;
	int field;
	int used;
};

struct enroll {
	const char *reg_path;
	const char *key_path;
	const char *out_path;
	int country_code;
	int no_hashes;	   /* --no-hashes: no hex digest variants */
	struct hasher *hs; /* NULL with --no-hashes */
	struct colmap *maps;
	unsigned nmaps;

	unsigned ncols;
	int *col_field; /* per column: enum cs_field, 0 for subject_id */
	char **colname; /* per column, for messages: "phone" or "mobile (phone)" */
	unsigned subject_col;

	struct cs_key key;

	/* subjects: ids in one arena, NUL-terminated, soff[i] = offset of id i */
	char *arena;
	size_t arena_len, arena_cap;
	size_t *soff;
	__u32 *sline; /* line of the row that registered subject i */
	__u32 nsub;
	size_t sub_cap;
	__u32 *slots; /* hash set: subject index + 1, 0 = empty */
	__u32 slot_mask;

	struct fp_entry *ent;
	size_t nent, ent_cap;
	__u64 *pre; /* cs_pre() of ent[i]'s token, same index until sorting */
	size_t pre_cap;
	__u32 min_len, max_len;
	__u32 strong_min_len, flags; /* fpdb.strong_min_len, FPDB_F_* */
	__u32 anchor_digits;	     /* fpdb.anchor_digits */

	unsigned long values[CS_F_MAX];
	unsigned long rejected;
};

static __u64 id_hash(const char *s, size_t n)
{
	__u64 h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * CS_FNV_PRIME;
	return h ^ (h >> 29);
}

/* Index + 1 of subject id s, or 0. */
static __u32 subject_find(const struct enroll *e, const char *s, size_t n)
{
	__u32 i;

	if (!e->slots)
		return 0;
	for (i = (__u32)id_hash(s, n) & e->slot_mask; e->slots[i]; i = (i + 1) & e->slot_mask) {
		const char *id = e->arena + e->soff[e->slots[i] - 1];

		if (!memcmp(id, s, n) && id[n] == '\0')
			return e->slots[i];
	}
	return 0;
}

static void slot_put(struct enroll *e, __u32 idx)
{
	const char *id = e->arena + e->soff[idx];
	__u32 i;

	for (i = (__u32)id_hash(id, strlen(id)) & e->slot_mask; e->slots[i];
	     i = (i + 1) & e->slot_mask)
		;
	e->slots[i] = idx + 1;
}

static int subject_add(struct enroll *e, const char *s, size_t n, unsigned long line)
{
	size_t cap;
	int err;

	if (e->nsub == UINT32_MAX - 1)
		return -E2BIG;
	/* keep the load factor of the hash set at most 1/2 */
	if (!e->slots || (__u64)(e->nsub + 1) * 2 > (__u64)e->slot_mask + 1) {
		__u32 nslots = e->slots ? (e->slot_mask + 1) * 2 : 1024;
		__u32 *old = e->slots;

		if (!nslots)
			return -E2BIG;
		e->slots = calloc(nslots, sizeof(*e->slots));
		if (!e->slots) {
			e->slots = old;
			return -ENOMEM;
		}
		e->slot_mask = nslots - 1;
		for (__u32 i = 0; i < e->nsub; i++)
			slot_put(e, i);
		free(old);
	}
	/* soff and sline grow together: both start at 1024 and double from the same cap */
	cap = e->sub_cap;
	err = grow_array((void **)&e->soff, &cap, (size_t)e->nsub + 1, sizeof(*e->soff), 1024);
	if (err)
		return err;
	cap = e->sub_cap;
	err = grow_array((void **)&e->sline, &cap, (size_t)e->nsub + 1, sizeof(*e->sline), 1024);
	if (err)
		return err;
	e->sub_cap = cap;
	err = grow_array((void **)&e->arena, &e->arena_cap, e->arena_len + n + 1, 1, 64 * 1024);
	if (err)
		return err;
	memcpy(e->arena + e->arena_len, s, n);
	e->arena[e->arena_len + n] = '\0';
	e->soff[e->nsub] = e->arena_len;
	e->sline[e->nsub] = line > UINT32_MAX ? UINT32_MAX : (__u32)line;
	e->arena_len += n + 1;
	slot_put(e, e->nsub);
	e->nsub++;
	return 0;
}

static int entries_add(struct enroll *e, const struct value_fps *v, int field)
{
	int weak = field == CS_F_NAME || field == CS_F_ADDRESS;
	int err;

	if (e->nent + v->n > UINT32_MAX)
		return -E2BIG;
	err = grow_array((void **)&e->ent, &e->ent_cap, e->nent + v->n, sizeof(*e->ent), 4096);
	if (!err)
		err = grow_array((void **)&e->pre, &e->pre_cap, e->nent + v->n, sizeof(*e->pre),
				 4096);
	if (err)
		return err;
	for (unsigned i = 0; i < v->n; i++) {
		struct fp_entry *x = &e->ent[e->nent];

		e->pre[e->nent++] = v->pre[i];
		x->fp = v->fp[i];
		x->subject = e->nsub;
		x->field = (__u8)field;
		x->part = weak ? (__u8)i : 0;
		x->nparts = weak ? (__u8)v->n : 1;
		x->variant = v->variant[i];
	}
	return 0;
}

/*
 * Hash variants on a second thread. Digesting and fingerprinting 12 hex strings per subject
 * was ~40% of enroll's CPU time (10M subjects: ~20 s of ~60), so the main thread only copies
 * each email's and phone's normalised strings into a batch and hands full batches to a worker,
 * which fingerprints one batch while the main thread reads the next rows. Results are appended
 * to the entries after the plain ones (order does not matter: all are sorted at the end).
 */
#define HASH_BATCH 16384 /* values per hand-over */

struct hash_job {
	__u32 subject;
	__u32 off; /* of its strings in the batch text */
	__u8 field;
	__u8 nstr;
	__u16 len[2];
};

struct hash_batch {
	struct hash_job *job;
	unsigned njob;
	size_t job_cap;
	char *text;
	size_t ntext, text_cap;
	/* results */
	struct fp_entry *ent;
	__u64 *pre;
	size_t nent, ent_cap, pre_cap;
	__u32 min_len, max_len;
	int err;
};

struct hasher {
	const struct cs_key *key;
	struct digests *d;
	struct hash_batch b[2];
	struct hash_batch *fill; /* the main thread's */
	struct hash_batch *busy; /* handed over, not merged yet; NULL when none */
	pthread_t thread;
	/*
	 * 1: the second thread runs. It starts with the first full batch: a smaller enrollment
	 * is hashed on the main thread, as it is when no thread can start (no_thread).
	 */
	int threaded, no_thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int todo, done, quit;
};

static void hash_batch_run(struct hasher *h, struct hash_batch *b)
{
	struct value_fps v;
	struct norm_out norm;

	b->nent = 0;
	b->err = 0;
	b->min_len = UINT32_MAX;
	b->max_len = 0;
	for (unsigned i = 0; i < b->njob && !b->err; i++) {
		const struct hash_job *j = &b->job[i];

		norm.n = j->nstr;
		for (unsigned k = 0, off = j->off; k < j->nstr; off += j->len[k++]) {
			norm.s[k] = b->text + off;
			norm.len[k] = j->len[k];
		}
		v.n = 0;
		b->err = value_hash_fingerprints(h->key, h->d, j->field, &norm, &v);
		if (!b->err)
			b->err = grow_array((void **)&b->ent, &b->ent_cap, b->nent + v.n,
					    sizeof(*b->ent), 4096);
		if (!b->err)
			b->err = grow_array((void **)&b->pre, &b->pre_cap, b->nent + v.n,
					    sizeof(*b->pre), 4096);
		for (unsigned k = 0; k < v.n && !b->err; k++) {
			b->ent[b->nent] = (struct fp_entry){.fp = v.fp[k],
							    .subject = j->subject,
							    .field = j->field,
							    .nparts = 1,
							    .variant = v.variant[k]};
			b->pre[b->nent++] = v.pre[k];
			if (v.len[k] < b->min_len)
				b->min_len = v.len[k];
			if (v.len[k] > b->max_len)
				b->max_len = v.len[k];
		}
	}
	/* registered values: not kept longer than needed (explicit_bzero takes no NULL) */
	if (b->text)
		explicit_bzero(b->text, b->ntext);
}

static void *hasher_main(void *arg)
{
	struct hasher *h = arg;

	pthread_mutex_lock(&h->mu);
	for (;;) {
		while (!h->todo && !h->quit)
			pthread_cond_wait(&h->cv, &h->mu);
		if (!h->todo)
			break;
		h->todo = 0;
		pthread_mutex_unlock(&h->mu);
		hash_batch_run(h, h->busy);
		pthread_mutex_lock(&h->mu);
		h->done = 1;
		pthread_cond_broadcast(&h->cv);
	}
	pthread_mutex_unlock(&h->mu);
	return NULL;
}

/* NULL (errno set, logged) on failure. */
static struct hasher *hasher_new(const struct cs_key *key)
{
	struct hasher *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->key = key;
	h->d = digests_new();
	if (!h->d) {
		free(h);
		return NULL;
	}
	h->fill = &h->b[0];
	/* prove the direct hex fingerprint against the scanner here, not on the worker */
	{
		struct whole_ctx w;

		hex_token_checked(key, h->d, "00", 2, &w);
	}
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->cv, NULL);
	return h;
}

/* Start the second thread once; on failure batches run inline (said once). */
static void hasher_start(struct hasher *h)
{
	if (h->threaded || h->no_thread)
		return;
	h->threaded = !pthread_create(&h->thread, NULL, hasher_main, h);
	h->no_thread = !h->threaded;
	if (h->no_thread)
		pr_warn("enroll: no second thread, hash variants computed inline");
}

/* Queue the hash variants of one normalised email or phone of subject. 0 or -ENOMEM. */
static int hasher_add(struct hasher *h, __u32 subject, int field, const struct norm_out *norm)
{
	struct hash_batch *b = h->fill;
	unsigned nstr = field == CS_F_PHONE ? 2 : 1;
	size_t need = b->ntext;
	int err;

	if ((field != CS_F_EMAIL && field != CS_F_PHONE) || norm->n < nstr)
		return 0;
	for (unsigned k = 0; k < nstr; k++)
		need += norm->len[k];
	err = grow_array((void **)&b->text, &b->text_cap, need, 1, 1 << 12);
	if (!err)
		err = grow_array((void **)&b->job, &b->job_cap, b->njob + 1, sizeof(*b->job), 256);
	if (err)
		return err;
	b->job[b->njob] = (struct hash_job){
	    .subject = subject, .off = (__u32)b->ntext, .field = (__u8)field, .nstr = (__u8)nstr};
	for (unsigned k = 0; k < nstr; k++) {
		memcpy(b->text + b->ntext, norm->s[k], norm->len[k]);
		b->ntext += norm->len[k];
		b->job[b->njob].len[k] = (__u16)norm->len[k];
	}
	b->njob++;
	return 0;
}

/* Wait for the batch handed over, merge its entries into e. 0, -ENOMEM, -E2BIG or -EIO. */
static int hasher_wait(struct hasher *h, struct enroll *e)
{
	struct hash_batch *b = h->busy;
	int err;

	if (!b)
		return 0;
	if (h->threaded) {
		pthread_mutex_lock(&h->mu);
		while (!h->done)
			pthread_cond_wait(&h->cv, &h->mu);
		h->done = 0;
		pthread_mutex_unlock(&h->mu);
	}
	h->busy = NULL;
	err = b->err;
	if (!err && e->nent + b->nent > UINT32_MAX)
		err = -E2BIG;
	if (!err)
		err = grow_array((void **)&e->ent, &e->ent_cap, e->nent + b->nent, sizeof(*e->ent),
				 4096);
	if (!err)
		err = grow_array((void **)&e->pre, &e->pre_cap, e->nent + b->nent, sizeof(*e->pre),
				 4096);
	if (err)
		return err;
	memcpy(e->ent + e->nent, b->ent, b->nent * sizeof(*b->ent));
	memcpy(e->pre + e->nent, b->pre, b->nent * sizeof(*b->pre));
	e->nent += b->nent;
	if (b->nent && b->min_len < e->min_len)
		e->min_len = b->min_len;
	if (b->nent && b->max_len > e->max_len)
		e->max_len = b->max_len;
	/* hash variants are of emails and phones: strong, lower-case hex */
	if (b->nent && b->min_len < e->strong_min_len)
		e->strong_min_len = b->min_len;
	b->njob = 0;
	b->ntext = 0;
	b->nent = 0;
	return 0;
}

/*
 * Hand the filled batch over (after merging the previous one) and start filling the other. last:
 * no batch follows (the second thread is not started for it).
 */
static int hasher_submit(struct hasher *h, struct enroll *e, int last)
{
	int err = hasher_wait(h, e);

	if (err || !h->fill->njob)
		return err;
	h->busy = h->fill;
	h->fill = h->fill == &h->b[0] ? &h->b[1] : &h->b[0];
	if (!last)
		hasher_start(h);
	if (!h->threaded) {
		hash_batch_run(h, h->busy);
		return 0;
	}
	pthread_mutex_lock(&h->mu);
	h->todo = 1;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
	return 0;
}

static void hasher_free(struct hasher *h)
{
	if (!h)
		return;
	if (h->threaded) {
		pthread_mutex_lock(&h->mu);
		while (h->busy && !h->done)
			pthread_cond_wait(&h->cv, &h->mu);
		h->quit = 1;
		pthread_cond_broadcast(&h->cv);
		pthread_mutex_unlock(&h->mu);
		pthread_join(h->thread, NULL);
	}
	pthread_mutex_destroy(&h->mu);
	pthread_cond_destroy(&h->cv);
	for (int i = 0; i < 2; i++) {
		/* a batch never filled has no text: explicit_bzero(NULL, 0) is undefined */
		if (h->b[i].text)
			explicit_bzero(h->b[i].text, h->b[i].text_cap);
		free(h->b[i].text);
		free(h->b[i].job);
		free(h->b[i].ent);
		free(h->b[i].pre);
	}
	digests_free(h->d);
	free(h);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: consentry enroll -r REGISTRATIONS.csv -k KEYFILE -o FINGERPRINTS\n"
		"                        [--country-code N] [--field COL=TYPE]... [--no-hashes]\n"
		"\n"
		"Build the fingerprint file from registrations.csv. KEYFILE (32 random bytes,\n"
		"mode 0600) is created if it does not exist. Every email and phone also gets the\n"
		"fingerprints of its SHA-256, SHA-1 and MD5 hex digests (phones: of the national,\n"
		"country code and E.164 forms), as audience lists are shared.\n"
		"\n"
		"  -r, --registrations FILE  CSV with subject_id and field columns\n"
		"  -k, --key FILE            fingerprint key file\n"
		"  -o, --output FILE         fingerprint file to write (atomically)\n"
		"      --country-code N      calling code of phone numbers without one (1-999,\n"
		"                            default 86)\n"
		"      --field COL=TYPE      read column COL as field TYPE (repeatable); types:\n"
		"                            phone email national_id bank_card passport username\n"
		"                            name birthdate address\n"
		"      --no-hashes           no fingerprints of hex digests of emails and phones\n"
		"  -h, --help                show this help\n");
}

static int parse_args(struct enroll *e, int argc, char **argv)
{
	enum { OPT_CC = 256, OPT_FIELD, OPT_NO_HASHES };
	static const struct option opts[] = {
	    {"registrations", required_argument, NULL, 'r'},
	    {"key", required_argument, NULL, 'k'},
	    {"output", required_argument, NULL, 'o'},
	    {"country-code", required_argument, NULL, OPT_CC},
	    {"field", required_argument, NULL, OPT_FIELD},
	    {"no-hashes", no_argument, NULL, OPT_NO_HASHES},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	optind = 0; /* glibc: full re-initialisation, main may have run getopt already */
	while ((c = getopt_long(argc, argv, "r:k:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			e->reg_path = optarg;
			break;
		case 'k':
			e->key_path = optarg;
			break;
		case 'o':
			e->out_path = optarg;
			break;
		case OPT_CC: {
			char *end;
			long v;

			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || v < 1 || v > 999) {
				pr_err("--country-code: '%s' is not a number from 1 to 999",
				       optarg);
				return 2;
			}
			e->country_code = (int)v;
			break;
		}
		case OPT_FIELD: {
			const char *eq = strchr(optarg, '=');
			struct colmap *m;
			char *col;
			int f;

			if (!eq || eq == optarg || !eq[1]) {
				pr_err("--field: expected COL=TYPE, got '%s'", optarg);
				return 2;
			}
			f = field_parse(eq + 1);
			if (!f) {
				pr_err("--field %s: unknown field type '%s'", optarg, eq + 1);
				return 2;
			}
			/*
			 * e->maps takes the grown array before anything else can fail: realloc may
			 * have freed the old one, which enroll_release() would free again.
			 */
			m = realloc(e->maps, (e->nmaps + 1) * sizeof(*m));
			if (m)
				e->maps = m;
			col = m ? strndup(optarg, (size_t)(eq - optarg)) : NULL;
			if (!col) {
				pr_err("enroll: %s", strerror(ENOMEM));
				return 1;
			}
			if (!strcmp(col, "subject_id")) {
				pr_err("--field: subject_id cannot be mapped to a field type");
				free(col);
				return 2;
			}
			for (unsigned i = 0; i < e->nmaps; i++) {
				if (!strcmp(e->maps[i].col, col)) {
					pr_err("--field: column '%s' mapped twice", col);
					free(col);
					return 2;
				}
			}
			m[e->nmaps].col = col;
			m[e->nmaps].field = f;
			m[e->nmaps].used = 0;
			e->nmaps++;
			break;
		}
		case OPT_NO_HASHES:
			e->no_hashes = 1;
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		pr_err("enroll: unexpected argument '%s'", argv[optind]);
		return 2;
	}
	if (!e->reg_path || !e->key_path || !e->out_path) {
		pr_err("enroll: -r REGISTRATIONS, -k KEYFILE and -o FINGERPRINTS are required");
		usage(stderr);
		return 2;
	}
	return 0;
}

/* Map the header row to field types. Returns 0 or an exit code. */
static int parse_header(struct enroll *e, struct csv_reader *r)
{
	const char *name = csv_name(r);
	unsigned long line;
	int rc, have_subject = 0;

	rc = csv_next(r);
	line = csv_line(r);
	if (rc == 0) {
		pr_err("%s: empty file, header row required", name);
		return 2;
	}
	if (rc < 0) {
		pr_err("%s:%lu: %s", name, line, csv_error(r));
		return rc == -EINVAL ? 2 : 1;
	}
	e->ncols = csv_nfields(r);
	e->col_field = calloc(e->ncols, sizeof(*e->col_field));
	e->colname = calloc(e->ncols, sizeof(*e->colname));
	if (!e->col_field || !e->colname) {
		pr_err("enroll: %s", strerror(ENOMEM));
		return 1;
	}
	for (unsigned i = 0; i < e->ncols; i++) {
		size_t n = csv_field_len(r, i);
		const char *col = trim(csv_field(r, i), &n);
		char buf[256];
		int f = 0;

		if (n >= sizeof(buf) || !utf8_valid(col, n)) {
			pr_err("%s:%lu: column %u: bad column name", name, line, i + 1);
			return 2;
		}
		memcpy(buf, col, n);
		buf[n] = '\0';
		if (!strcmp(buf, "subject_id")) {
			if (have_subject) {
				pr_err("%s:%lu: duplicate column subject_id", name, line);
				return 2;
			}
			have_subject = 1;
			e->subject_col = i;
			e->colname[i] = strdup("subject_id");
			if (!e->colname[i])
				goto nomem;
			continue;
		}
		for (unsigned j = 0; j < e->nmaps; j++) {
			if (!strcmp(e->maps[j].col, buf)) {
				f = e->maps[j].field;
				e->maps[j].used = 1;
			}
		}
		if (!f)
			f = field_parse(buf);
		if (!f) {
			pr_err("%s:%lu: unknown column '%s' (map it with --field %s=TYPE)", name,
			       line, buf, buf);
			return 2;
		}
		for (unsigned j = 0; j < i; j++) {
			size_t m = csv_field_len(r, j);
			const char *other = trim(csv_field(r, j), &m);

			if (m == n && !memcmp(other, col, n)) {
				pr_err("%s:%lu: duplicate column '%s'", name, line, buf);
				return 2;
			}
			/* parts of two names of one subject would be indistinguishable */
			if (field_is_weak(f) && e->col_field[j] == f) {
				pr_err("%s:%lu: two columns of field type %s", name, line,
				       field_name(f));
				return 2;
			}
		}
		e->col_field[i] = f;
		if (!strcmp(buf, field_name(f)))
			e->colname[i] = strdup(buf);
		else if (asprintf(&e->colname[i], "%s (%s)", buf, field_name(f)) < 0)
			e->colname[i] = NULL;
		if (!e->colname[i])
			goto nomem;
	}
	if (!have_subject) {
		pr_err("%s:%lu: missing column subject_id", name, line);
		return 2;
	}
	for (unsigned j = 0; j < e->nmaps; j++) {
		if (!e->maps[j].used) {
			pr_err("%s:%lu: --field %s: no such column", name, line, e->maps[j].col);
			return 2;
		}
	}
	return 0;
nomem:
	pr_err("enroll: %s", strerror(ENOMEM));
	return 1;
}

static void row_skip(struct enroll *e, struct csv_reader *r, const char *col, const char *why)
{
	if (col)
		pr_warn("%s:%lu: %s: %s, row skipped", csv_name(r), csv_line(r), col, why);
	else
		pr_warn("%s:%lu: %s, row skipped", csv_name(r), csv_line(r), why);
	e->rejected++;
}

/* Token lengths of a row's values, merged into the enroll once the row is accepted. */
struct row_lens {
	__u32 min, max, strong_min, flags, anchor_digits;
};

/*
 * One non-empty cell: normalise, fingerprint, append. Returns 0, 1 when the value is rejected
 * (*reason set) or -errno for a runtime failure.
 */
static int enroll_cell(struct enroll *e, int f, const char *val, size_t n, struct row_lens *l,
		       const char **reason)
{
	struct norm_out norm;
	struct value_fps v;
	int err;

	if (norm_value(f, val, n, e->country_code, &norm)) {
		*reason = norm.reason;
		return 1;
	}
	if (value_fingerprints(&e->key, f, &norm, &v, reason))
		return 1;
	if (e->hs) {
		/* this row's subject gets index nsub if all of its cells pass */
		err = hasher_add(e->hs, e->nsub, f, &norm);
		if (err)
			return err;
	}
	err = entries_add(e, &v, f);
	if (err)
		return err;
	for (unsigned j = 0; j < v.n; j++) {
		if (v.len[j] < l->min)
			l->min = v.len[j];
		if (v.len[j] > l->max)
			l->max = v.len[j];
		if (!field_is_weak(f) && v.len[j] < l->strong_min)
			l->strong_min = v.len[j];
	}
	if (field_is_weak(f))
		l->flags |= FPDB_F_WEAK;
	else
		for (unsigned k = 0; k < norm.n; k++) {
			__u32 d = fpdb_anchor_digits(norm.s[k], norm.len[k]);

			if (d < l->anchor_digits)
				l->anchor_digits = d;
			for (size_t i = 0; i < norm.len[k]; i++)
				if ((unsigned char)norm.s[k][i] >= 0x80)
					l->flags |= FPDB_F_STRONG_NONASCII;
		}
	return 0;
}

/* Checks on the row before its values. Returns NULL or why it is skipped (*col: which column). */
static const char *row_check(struct enroll *e, struct csv_reader *r, const char **col, char *why,
			     size_t whylen)
{
	const char *sid = csv_field(r, e->subject_col);
	size_t sidn = csv_field_len(r, e->subject_col);
	__u32 dup;

	*col = NULL;
	if (csv_nfields(r) != e->ncols) {
		snprintf(why, whylen, "expected %u fields, found %u", e->ncols, csv_nfields(r));
		return why;
	}
	for (unsigned i = 0; i < e->ncols; i++) {
		if (!utf8_valid(csv_field(r, i), csv_field_len(r, i))) {
			*col = e->colname[i];
			return "invalid UTF-8";
		}
	}
	*col = "subject_id";
	if (!sidn)
		return "empty";
	if (sidn > FP_SUBJECT_MAX)
		return "longer than 128 bytes";
	for (size_t i = 0; i < sidn; i++)
		if ((unsigned char)sid[i] < 0x20 || sid[i] == 0x7f)
			return "control character";
	dup = subject_find(e, sid, sidn);
	if (dup) {
		snprintf(why, whylen, "duplicate of line %u", e->sline[dup - 1]);
		return why;
	}
	*col = NULL;
	return NULL;
}

/* One data row: all of its values or none. Returns 0 (added or skipped) or -errno. */
static int enroll_row(struct enroll *e, struct csv_reader *r)
{
	unsigned long vals[CS_F_MAX] = {0};
	struct row_lens l = {
	    .min = UINT32_MAX, .strong_min = UINT32_MAX, .anchor_digits = CS_ANCHOR_DIGITS_MAX};
	size_t nent0 = e->nent;
	/* hash jobs of this row, dropped with it */
	unsigned njob0 = e->hs ? e->hs->fill->njob : 0;
	size_t ntext0 = e->hs ? e->hs->fill->ntext : 0;
	const char *col, *reason;
	char why[64];
	int err;

	reason = row_check(e, r, &col, why, sizeof(why));
	if (reason) {
		row_skip(e, r, col, reason);
		return 0;
	}
	for (unsigned i = 0; i < e->ncols; i++) {
		size_t n = csv_field_len(r, i);
		const char *val = trim(csv_field(r, i), &n);

		if (i == e->subject_col || !n)
			continue; /* empty cells are skipped */
		err = enroll_cell(e, e->col_field[i], val, n, &l, &reason);
		if (err) {
			e->nent = nent0;
			if (e->hs) {
				e->hs->fill->njob = njob0;
				e->hs->fill->ntext = ntext0;
			}
			if (err < 0)
				return err;
			row_skip(e, r, e->colname[i], reason);
			return 0;
		}
		vals[e->col_field[i]]++;
	}
	if (e->nent == nent0) {
		row_skip(e, r, NULL, "no field values");
		return 0;
	}
	err = subject_add(e, csv_field(r, e->subject_col), csv_field_len(r, e->subject_col),
			  csv_line(r));
	if (err) {
		e->nent = nent0;
		return err;
	}
	/* a full batch goes to the worker between rows, never in the middle of one */
	if (e->hs && e->hs->fill->njob > HASH_BATCH - 2 * CS_F_MAX) {
		err = hasher_submit(e->hs, e, 0);
		if (err)
			return err;
	}
	for (int f = 0; f < CS_F_MAX; f++)
		e->values[f] += vals[f];
	if (l.min < e->min_len)
		e->min_len = l.min;
	if (l.max > e->max_len)
		e->max_len = l.max;
	if (l.strong_min < e->strong_min_len)
		e->strong_min_len = l.strong_min;
	if (l.anchor_digits < e->anchor_digits)
		e->anchor_digits = l.anchor_digits;
	e->flags |= l.flags;
	return 0;
}

static int build_and_write(struct enroll *e, __u32 *nfp, __u32 *nhash)
{
	struct fpdb db = {0};
	int err;

	db.nsubjects = e->nsub;
	err = fpdb_pre_build(&db, e->pre, e->nent);
	if (err)
		return err;
	/* not needed any more: room for the sort's copy of the entries (1.3 GiB at 10M) */
	free(e->pre);
	e->pre = NULL;
	e->pre_cap = 0;
	free(e->slots);
	e->slots = NULL;
	db.nentries = fp_entries_sort(e->ent, (__u32)e->nent);
	db.entries = e->ent;
	db.strings = e->arena;
	db.subjects = malloc((e->nsub ? e->nsub : 1) * sizeof(*db.subjects));
	if (!db.subjects) {
		free(db.pre);
		return -ENOMEM;
	}
	for (__u32 i = 0; i < e->nsub; i++)
		db.subjects[i] = e->arena + e->soff[i];
	db.min_len = db.nentries ? e->min_len : 0;
	db.max_len = db.nentries ? e->max_len : 0;
	db.strong_min_len = e->strong_min_len == UINT32_MAX ? 0 : e->strong_min_len;
	db.flags = e->flags;
	db.anchor_digits = e->anchor_digits;
	db.kcv = keyfile_kcv(&e->key);
	*nfp = db.nentries;
	*nhash = 0;
	for (__u32 i = 0; i < db.nentries; i++)
		*nhash += db.entries[i].variant != FP_VARIANT_PLAIN;
	err = fpdb_write(e->out_path, &db);
	free(db.subjects);
	free(db.pre);
	return err;
}

static void enroll_release(struct enroll *e)
{
	explicit_bzero(&e->key, sizeof(e->key));
	hasher_free(e->hs);
	for (unsigned i = 0; i < e->nmaps; i++)
		free(e->maps[i].col);
	free(e->maps);
	for (unsigned i = 0; e->colname && i < e->ncols; i++)
		free(e->colname[i]);
	free(e->colname);
	free(e->col_field);
	free(e->arena);
	free(e->soff);
	free(e->sline);
	free(e->slots);
	free(e->ent);
	free(e->pre);
}

int cmd_enroll(int argc, char **argv)
{
	struct enroll e = {.country_code = COUNTRY_CODE_DEFAULT,
			   .min_len = UINT32_MAX,
			   .strong_min_len = UINT32_MAX,
			   .anchor_digits = CS_ANCHOR_DIGITS_MAX};
	struct csv_reader *r = NULL;
	__u32 nfp = 0, nhash = 0;
	int rc, err;

	rc = parse_args(&e, argc, argv);
	if (rc) {
		rc = rc < 0 ? 0 : rc;
		goto out;
	}
	r = csv_open(e.reg_path);
	if (!r) {
		rc = errno == ENOMEM ? 1 : 2;
		input_open_err(e.reg_path, "registrations", -errno);
		goto out;
	}
	rc = parse_header(&e, r);
	if (rc)
		goto out;
	err = keyfile_load(e.key_path, &e.key, 1);
	if (err) {
		rc = err == -EPERM || err == -EINVAL ? 2 : 1;
		goto out;
	}
	if (!e.no_hashes) {
		e.hs = hasher_new(&e.key);
		if (!e.hs) {
			rc = 1;
			goto out;
		}
	}

	while ((err = csv_next(r)) != 0) {
		if (err == -EINVAL) {
			row_skip(&e, r, NULL, csv_error(r));
			continue;
		}
		if (err < 0) {
			pr_err("%s:%lu: %s", csv_name(r), csv_line(r), strerror(-err));
			rc = 1;
			goto out;
		}
		err = enroll_row(&e, r);
		if (err) {
			pr_err("%s:%lu: %s", csv_name(r), csv_line(r),
			       err == -E2BIG ? "too many subjects or fingerprints"
			       : err == -EIO ? "libcrypto failed to compute a hash variant"
					     : strerror(-err));
			rc = 1;
			goto out;
		}
	}
	if (e.hs) {
		err = hasher_submit(e.hs, &e, 1);
		if (!err)
			err = hasher_wait(e.hs, &e);
		if (err) {
			pr_err("%s: %s", e.reg_path,
			       err == -E2BIG ? "too many subjects or fingerprints"
			       : err == -EIO ? "libcrypto failed to compute a hash variant"
					     : strerror(-err));
			rc = 1;
			goto out;
		}
	}
	if (!e.nsub)
		pr_warn("%s: no subjects enrolled", e.reg_path);

	err = build_and_write(&e, &nfp, &nhash);
	if (err) {
		rc = 1;
		goto out;
	}
	printf("%-16s%u\n", "subjects", e.nsub);
	for (int f = 1; f < CS_F_MAX; f++)
		printf("%-16s%lu values\n", field_name(f), e.values[f]);
	printf("%-16s%u (incl. variants and name parts)\n", "fingerprints", nfp);
	if (e.no_hashes)
		printf("%-16s%u (--no-hashes)\n", "hash variants", nhash);
	else
		printf("%-16s%u (sha256, sha1, md5 hex of emails and phones)\n", "hash variants",
		       nhash);
	printf("%-16s%lu\n", "rows rejected", e.rejected);
	printf("%-16s%s\n", "output", e.out_path);
	rc = fflush(stdout) ? 1 : 0;
out:
	csv_close(r);
	enroll_release(&e);
	return rc;
}
