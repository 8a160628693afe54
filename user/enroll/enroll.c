// SPDX-License-Identifier: GPL-2.0-only
/*
 * Registered values -> fingerprints (enroll.h): the normalisers per field type, the value's
 * tokens through the scanner core, and the hex digest variants of emails and phones. The
 * command around them is enroll_cmd.c, its hash thread hasher.c.
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

#include "lib/csv.h"
#include "enroll/enroll.h"
#include "cs_hash.h"
#include "lib/fields.h"
#include "fpdb/fpfile.h"
#include "fpdb/keyfile.h"
#include "lib/log.h"
#include "lib/util.h"
#include "decode/scan.h"

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

const char *value_trim(const char *s, size_t *n)
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
	s = value_trim(in, &n);
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

void digests_check(const struct cs_key *key, struct digests *d)
{
	struct whole_ctx w;

	hex_token_checked(key, d, "00", 2, &w);
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
