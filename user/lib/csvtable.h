/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * An input table in a CSV file (consent.csv, recipients.csv; spec §3): a header naming the
 * columns in any order, then rows of the header's width. Reads the header and hands each row to
 * the caller; malformed records, rows of another width and header faults are "file:line:"
 * errors (util.h input_err), and reading goes on so that one run reports them all.
 */
#ifndef CS_CSVTABLE_H
#define CS_CSVTABLE_H

#include "lib/csv.h"
#include "lib/util.h"

struct csv_table {
	const char *what;	 /* for open errors: "consent" (util.h input_open_err) */
	const char *const *cols; /* column names; col[i] of a row is where cols[i] is */
	const int *required;	 /* 1 per column that must be present; NULL: all must */
	unsigned ncols;
	int missing_lists_expected; /* "missing column 'x' (expected a, b)", not just the name */
};

/*
 * One row of the header's width: its errors go to the table's input_errs; returns 0, or -errno
 * (-ENOMEM) to stop reading. col[i]: the field of column i, -1 for an absent optional column.
 */
typedef int (*csv_table_row_fn)(void *arg, struct csv_reader *cr, const int *col);

/*
 * Read path as table t: e->file is set to path, col (t->ncols entries) to the header's columns,
 * row() is called for each row. 0 once every row was read (errors in rows are only counted in
 * e; the caller calls input_errs_done()); -EINVAL for a missing or faulty header; -errno when
 * the file cannot be opened or read (printed), or what row() returned.
 */
int csv_table_read(const char *path, const struct csv_table *t, struct input_errs *e, int *col,
		   csv_table_row_fn row, void *arg);
/*
 * The same, with messages naming name instead of path: a table rendered from elsewhere (a
 * PostgreSQL table in a memfd, verdict/consent_pg.h) is named for where it came from.
 */
int csv_table_read_named(const char *path, const char *name, const struct csv_table *t,
			 struct input_errs *e, int *col, csv_table_row_fn row, void *arg);

#endif
