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
	const char *action;			   /* reported, blocked; NULL: any */
	int field;				   /* cs_field, 0: any */
	__s64 since, until;			   /* Unix ns, [since, until) */
	int has_since, has_until;
	const char *count_by; /* subject, recipient, field, day; NULL: list the findings */
	enum out_format fmt;  /* FMT_TEXT or FMT_JSONL */
	int csv;
};

/* Print the findings (or counts) q selects to out; *rows: lines printed. 0 or -EIO (said). */
int findings_run(struct sqlite3 *db, const struct findings_query *q, FILE *out, __u64 *rows);
/*
 * The disclosures a journal row stands for, as an SQL expression ("count"; "1" in a version 1
 * journal): counts add it up, so a row run --dedup merged counts as its repeats.
 */
const char *findings_count_expr(struct sqlite3 *db);
/* A row's action as an SQL expression ("action"; "'reported'" before version 4). */
const char *findings_action_expr(struct sqlite3 *db);
/*
 * The WHERE clause of q on db's journal, and binding its parameters from index i on (returns the
 * next index).
 */
void findings_where(struct sqlite3 *db, const struct findings_query *q, char *buf, size_t len);
int findings_bind(const struct findings_query *q, struct sqlite3_stmt *s, int i);

/*
 * The options `findings` and `report` share: -j/--journal, --since, --until, --recipient. Their
 * getopt_long entries (FINDINGS_QUERY_OPTIONS) and their values; a command's own options number
 * from FQ_OPT_NEXT on.
 */
enum { FQ_OPT_SINCE = 256, FQ_OPT_UNTIL, FQ_OPT_RCPT, FQ_OPT_NEXT };
#define FINDINGS_QUERY_OPTIONS                                                                     \
	{"journal", required_argument, NULL, 'j'},                                                 \
	    {"since", required_argument, NULL, FQ_OPT_SINCE},                                      \
	    {"until", required_argument, NULL, FQ_OPT_UNTIL},                                      \
	{                                                                                          \
		"recipient", required_argument, NULL, FQ_OPT_RCPT                                  \
	}
/*
 * Take option opt (getopt_long's value, arg its argument) if it is one of those: 1 taken, 0 not
 * one of them, -EINVAL a bad value (said: a time is RFC 3339 or a date, its midnight UTC).
 */
int findings_query_opt(int opt, const char *arg, struct findings_query *q, const char **journal);
/*
 * The command line of `consentry findings` (argv[0] the command; argv may be permuted): 0 and
 * *q, *journal set (strings point into argv); 1: --help asked; -EINVAL: a bad option or value
 * (said). q and journal are left as they were unless 0 is returned.
 */
int findings_args(int argc, char **argv, struct findings_query *q, const char **journal);

#endif
