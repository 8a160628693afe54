/* SPDX-License-Identifier: GPL-2.0-only */
/* `consentry findings`: queries of the findings journal (journal.h), for the CLI and the bench. */
#ifndef CS_FINDINGS_H
#define CS_FINDINGS_H

#include <stdio.h>
#include <linux/types.h>

#include "output/output.h"

struct sqlite3;
struct sqlite3_stmt;

struct findings_query {
	const char *subject, *recipient, *verdict; /* NULL: any */
	int field;				   /* cs_field, 0: any */
	__s64 since, until;			   /* Unix ns, [since, until) */
	int has_since, has_until;
	const char *count_by; /* subject, recipient, field, day; NULL: list the findings */
	enum out_format fmt;  /* FMT_TEXT or FMT_JSONL */
	int csv;
};

/* Print the findings (or counts) q selects to out; *rows: lines printed. 0 or -EIO (said). */
int findings_run(struct sqlite3 *db, const struct findings_query *q, FILE *out, __u64 *rows);
/* The WHERE clause of q, and binding its parameters from index i on (returns the next index). */
void findings_where(const struct findings_query *q, char *buf, size_t len);
int findings_bind(const struct findings_query *q, struct sqlite3_stmt *s, int i);
/* A --since/--until value: RFC 3339, or a date (midnight UTC). 0 or -EINVAL (said). */
int findings_time_arg(const char *opt, const char *s, __s64 *ns);

#endif
