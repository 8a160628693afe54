/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * consent.csv (spec §3) and the coverage rule of spec §6.
 *
 * File rules: header naming the columns (any order); subject_id, recipient, fields and
 * granted_at are required, expires_at, withdrawn_at, purpose, separate, cross_border and
 * guardian (spec §7) may be left out; any other column is an error. purpose: empty (any
 * purpose) or '|'-separated purpose tokens; separate, cross_border, guardian: yes, no or empty
 * (= no). A rule of §7 is checked only when the file has its column (separate: sensitive
 * fields, guardian: minors, cross_border: destinations abroad), so a file without them keeps
 * the verdicts of §6; the purpose column always counted. subject_id: 1..128 bytes; fields:
 * '|'-separated field types or '*'; times: RFC 3339 (user/lib/timeutil.h); expires_at must be after
 * granted_at. Several rows may exist per subject and recipient. A withdrawn_at before granted_at is
 * loaded with a warning (the row covers nothing).
 */
#ifndef CS_CONSENT_H
#define CS_CONSENT_H

#include <stddef.h>
#include <linux/types.h>

#include "verdict/recipients.h"

struct consent_db;

/*
 * Load path. r (may be NULL) is only used to warn, with file:line, about rows naming a
 * recipient it does not know; such rows are still loaded. Returns 0 and sets *out; -EINVAL on
 * input errors (each printed as path:line: msg, all rows are checked); other -errno on I/O
 * errors (printed). On error *out is NULL and nothing stays allocated.
 */
int consent_load(struct consent_db **out, const char *path, const struct recipients *r);
/*
 * The same for a file rendered from another source (verdict/consent_pg.h): messages say
 * name:line (NULL: path) and row ids are "id_base:LINE" (NULL: the basename of path).
 */
int consent_load_named(struct consent_db **out, const char *path, const char *name,
		       const char *id_base, const struct recipients *r);
void consent_free(struct consent_db *db);
/* Rows loaded. */
unsigned long consent_count(const struct consent_db *db);
/*
 * Rows that can never cover a disclosure (each warned about with file:line at load): a recipient
 * not in the recipients file, only purposes no recipients row has, withdrawn before granted.
 */
unsigned long consent_dead(const struct consent_db *db);

/*
 * Every (subject, recipient) that has rows, in the order the file names them first: fn's
 * non-zero return stops the walk and is returned; else 0.
 */
int consent_walk_pairs(const struct consent_db *db,
		       int (*fn)(const char *subject, const char *recipient, void *arg), void *arg);
/*
 * The earliest granted_at, expires_at or withdrawn_at after t_ns (INT64_MAX: none): every
 * row's cover at t stays the same until then.
 */
__s64 consent_next_change(const struct consent_db *db, __s64 t_ns);

/* The rules of spec §7 a file can express: CR_* of its columns (CR_PURPOSE always). */
#define CR_PURPOSE	1u
#define CR_SEPARATE	2u
#define CR_CROSS_BORDER 4u
#define CR_GUARDIAN	8u
__u32 consent_rules(const struct consent_db *db);

/* Violations of spec §7, in the order findings list them. */
#define CV_NO_CONSENT	1u
#define CV_PURPOSE	2u
#define CV_SEPARATE	4u
#define CV_GUARDIAN	8u
#define CV_CROSS_BORDER 16u
#define CV_ALL		31u
#define CV_COUNT	5
/* "no-consent", "purpose", "separate-consent", "guardian", "cross-border" of bit i, or "?". */
const char *consent_violation_name(unsigned i);
/* The names of v's violations in bit order, sep between, into buf (cut short); returns buf. */
char *violations_join(__u32 v, const char *sep, char *buf, size_t len);

/* What a disclosure asks of a consent row besides subject, recipient, field and time. */
struct consent_need {
	const char *purpose; /* the disclosure's purpose (its recipients row), NULL: not known */
	__u32 sensitive;     /* FIELD_BIT mask of sensitive fields: each needs separate=yes */
	int minor;	     /* the subject is a minor at the time: needs guardian=yes */
	int cross_border;    /* the destination is abroad: needs cross_border=yes */
};

/*
 * Which of fields are covered at t_ns by a consent row of (subject, recipient) that meets need:
 * the row lists the field (or '*'), granted_at <= t < expires_at, t < withdrawn_at, its purposes
 * (if any) include need->purpose (if known), and it says yes to each rule need raises that the
 * file can express (consent_rules). Returns the covered mask; *violations (may be NULL) gets the
 * CV_* of the fields not covered: for a field some row was valid for, the rules those rows
 * failed; for one without any, CV_NO_CONSENT and the rules need raises. recipient NULL (an
 * unknown recipient) covers nothing. ids/nids as consent_covered. need NULL: no §7 needs.
 */
__u32 consent_check(const struct consent_db *db, const char *subject, const char *recipient,
		    __u32 fields, __s64 t_ns, const struct consent_need *need, __u32 *violations,
		    const char **ids, unsigned *nids, unsigned max_ids);

/*
 * Which of fields (mask of FIELD_BIT()) are covered at t_ns (ns since the epoch, UTC) by a
 * consent row of (subject, recipient): a row covers field f when f is in its fields (or '*'),
 * granted_at <= t < expires_at and t < withdrawn_at (empty = unbounded). Returns the covered
 * mask. ids (may be NULL) receives up to max_ids ids ("consent.csv:LINE", basename of the file,
 * owned by db) of the rows that covered any field, in file order; *nids (may be NULL) their
 * number. O(rows of that subject and recipient).
 */
__u32 consent_covered(const struct consent_db *db, const char *subject, const char *recipient,
		      __u32 fields, __s64 t_ns, const char **ids, unsigned *nids, unsigned max_ids);

#endif
