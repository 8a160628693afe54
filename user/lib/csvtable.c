// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/csvtable.h"
#include "lib/log.h"

/* The column names joined by sep, for messages. */
static void join_cols(const struct csv_table *t, const char *sep, char *out, size_t outsz)
{
	size_t n = 0;

	out[0] = '\0';
	for (unsigned j = 0; j < t->ncols && n < outsz; j++) {
		int w = snprintf(out + n, outsz - n, "%s%s", j ? sep : "", t->cols[j]);

		if (w < 0)
			break;
		n += (size_t)w;
	}
}

static int parse_header(const struct csv_table *t, struct input_errs *e, struct csv_reader *cr,
			int *col)
{
	unsigned long line = csv_line(cr);
	unsigned before = e->nerr;
	char expected[512];

	join_cols(t, ", ", expected, sizeof(expected));
	for (unsigned j = 0; j < t->ncols; j++)
		col[j] = -1;
	for (unsigned i = 0; i < csv_nfields(cr); i++) {
		const char *f = csv_field(cr, i);
		int k = -1;

		for (unsigned j = 0; j < t->ncols; j++)
			if (!strcmp(f, t->cols[j]))
				k = (int)j;
		if (k < 0)
			input_err(e, line, "unknown column '%s' (expected %s)", f, expected);
		else if (col[k] >= 0)
			input_err(e, line, "duplicate column '%s'", f);
		else
			col[k] = (int)i;
	}
	for (unsigned j = 0; j < t->ncols; j++) {
		if ((t->required && !t->required[j]) || col[j] >= 0)
			continue;
		if (t->missing_lists_expected)
			input_err(e, line, "missing column '%s' (expected %s)", t->cols[j],
				  expected);
		else
			input_err(e, line, "missing column '%s'", t->cols[j]);
	}
	return e->nerr == before ? 0 : -EINVAL;
}

int csv_table_read(const char *path, const struct csv_table *t, struct input_errs *e, int *col,
		   csv_table_row_fn row, void *arg)
{
	return csv_table_read_named(path, path, t, e, col, row, arg);
}

int csv_table_read_named(const char *path, const char *name, const struct csv_table *t,
			 struct input_errs *e, int *col, csv_table_row_fn row, void *arg)
{
	struct csv_reader *cr;
	unsigned ncols;
	int err;

	e->file = name;
	cr = csv_open(path);
	if (!cr) {
		err = -errno;
		input_open_err(name, t->what, err);
		return err;
	}
	err = csv_next(cr);
	if (err == 0) {
		char expected[512];

		join_cols(t, ",", expected, sizeof(expected));
		pr_err("%s:1: missing header (expected %s)", e->file, expected);
		err = -EINVAL;
		goto out;
	}
	if (err == -EINVAL)
		pr_err("%s:%lu: %s", e->file, csv_line(cr), csv_error(cr));
	if (err < 0)
		goto out;
	err = parse_header(t, e, cr, col);
	if (err)
		goto out;
	ncols = csv_nfields(cr);

	while ((err = csv_next(cr)) != 0) {
		if (err == -EINVAL) {
			/* malformed record: the reader moved past it, keep checking the rest */
			input_err(e, csv_line(cr), "%s", csv_error(cr));
			continue;
		}
		if (err < 0) {
			pr_err("%s: read error: %s", e->file, strerror(-err));
			goto out;
		}
		if (csv_nfields(cr) != ncols) {
			input_err(e, csv_line(cr), "expected %u columns, got %u", ncols,
				  csv_nfields(cr));
			continue;
		}
		err = row(arg, cr, col);
		if (err)
			goto out;
	}
out:
	csv_close(cr);
	return err;
}
