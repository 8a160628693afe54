/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Value normalisation and the `enroll` command: registrations.csv -> fingerprint file.
 *
 * A value is fingerprinted only by running the scanner core (user/decode/scan.h, the same code as
 * the kernel's) over its normalised form, so the fingerprint equals the one the kernel computes for
 * the value inside a payload.
 */
#ifndef CS_ENROLL_H
#define CS_ENROLL_H

#include <stddef.h>
#include <linux/types.h>

#include "cs_abi.h"
#include "fpdb/fpfile.h"

struct cs_key;

#define NORM_MAX	     3	 /* normalised strings of one value (phone: three variants) */
#define NORM_BUF	     512 /* room for the strings of a strong value (email <= 254 bytes) */
#define COUNTRY_CODE_DEFAULT 86

struct norm_out {
	unsigned n;		 /* normalised strings in s[] */
	const char *s[NORM_MAX]; /* not NUL-terminated for name/address (they point into in) */
	size_t len[NORM_MAX];
	const char *reason; /* why the value was rejected: static string, never the value */
	char buf[NORM_BUF];
};

/*
 * Normalise value in[0..len) of type field (enum cs_field) into out. country_code (1..999) is
 * the calling code assumed for phone numbers written without one. Returns 0, or -EINVAL with
 * out->reason set.
 *   phone       digits; the country code (+CC, 00CC, or a bare CC when the number is longer
 *               than the national length, known for 86: 11 and 1: 10) is split off; national
 *               number 6..15 digits (86: 11 digits starting with 1); a trunk 0 is dropped from
 *               the international forms. Three strings: national, CC+national, 00+CC+national
 *   email       trimmed, ASCII lower-case, one '@', non-empty local part, dotted domain
 *   national_id trimmed, upper-case, 17 digits + digit or X, valid ISO 7064 MOD 11-2 check
 *   bank_card   digits (spaces and dashes removed), 12..19
 *   passport    trimmed, upper-case, 5..20 ASCII letters and digits
 *   username    trimmed, 3..64 characters
 *   birthdate   YYYY-MM-DD, YYYY/MM/DD, YYYY.MM.DD or YYYYMMDD, a valid date -> "YYYYMMDD"
 *   name, address  trimmed text
 */
int norm_value(int field, const char *in, size_t len, int country_code, struct norm_out *out);
/* s[0..*n) without its leading and trailing white space (ASCII and Unicode); *n updated. */
const char *value_trim(const char *s, size_t *n);

struct value_fps {
	unsigned n;
	__u64 fp[FP_MAX_PARTS];
	__u32 len[FP_MAX_PARTS];    /* normalised token length, for the kernel's length window */
	__u64 pre[FP_MAX_PARTS];    /* cs_pre() of the token, for the kernel's prefilter bitmap */
	__u8 variant[FP_MAX_PARTS]; /* enum fp_variant */
};

/*
 * Fingerprints of a normalised value. Single-token fields (all strong fields and birthdate):
 * for each normalised string, the scanner token that spans the whole string (a value the
 * scanner splits cannot match as one token and is rejected), duplicates removed. name and
 * address: every distinct token of >= 2 bytes, in order of appearance, is one part (at most
 * FP_MAX_PARTS). Returns 0, or -EINVAL with *reason set.
 */
int value_fingerprints(const struct cs_key *key, int field, const struct norm_out *norm,
		       struct value_fps *out, const char **reason);

/* Hash variants: lower-case hex digests (libcrypto EVP) of normalised values. */
#define DIGEST_HEX_MAX 64 /* SHA-256 */

struct digests;

/* Fetch SHA-256, SHA-1 and MD5 from libcrypto once. NULL (errno set, message logged) on failure. */
struct digests *digests_new(void);
void digests_free(struct digests *d);
/*
 * Prove the direct fingerprint of hex digests against the scanner core now (on the calling
 * thread), so that value_hash_fingerprints() on a worker thread need not.
 */
void digests_check(const struct cs_key *key, struct digests *d);
/*
 * Lower-case hex digest of s[0..n) for variant (FP_VARIANT_SHA256, _SHA1 or _MD5) into hex
 * (NUL-terminated). Returns its length (64, 40 or 32), or -EINVAL (unknown variant) or -EIO
 * (libcrypto failed). The hex is as sensitive as the value: callers wipe it after use.
 */
int digest_hex(struct digests *d, unsigned variant, const void *s, size_t n,
	       char hex[DIGEST_HEX_MAX + 1]);

/*
 * Append to out the fingerprints of the hex digests (sha256, sha1, md5 per string) of a
 * normalised email (the normalised string) or phone (national number, country code + national
 * number, and E.164 "+" + country code + national number). A hex digest is one W token, which the
 * scanner lower-cases, so upper-case hex in a payload matches too. Other fields add nothing.
 * Returns 0, or -EIO when libcrypto fails; out is then as before the call.
 */
int value_hash_fingerprints(const struct cs_key *key, struct digests *d, int field,
			    const struct norm_out *norm, struct value_fps *out);

/* `consentry enroll ...`, argv[0] == "enroll". Returns the exit code: 0, 1 runtime, 2 usage. */
int cmd_enroll(int argc, char **argv);

#endif
