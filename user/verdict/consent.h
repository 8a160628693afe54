/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * consent.csv (spec §3) and the coverage rule of spec §6.
 *
 * File rules: header naming the columns (any order); subject_id, recipient, fields and
 * granted_at are required, expires_at, withdrawn_at and purpose may be left out; any other
 * column is an error. subject_id: 1..128 bytes; fields: '|'-separated field types or '*';
 * times: RFC 3339 (user/lib/timeutil.h); expires_at must be after granted_at. Several rows may
 * exist per subject and recipient. A withdrawn_at before granted_at is loaded with a warning (the
 * row covers nothing).
 */
#ifndef CS_CONSENT_H
#define CS_CONSENT_H

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
