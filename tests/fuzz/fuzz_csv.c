// SPDX-License-Identifier: GPL-2.0-only
/*
 * The CSV reader (user/lib/csv.c) under every input. Properties: its two entry points (a memory
 * buffer, a file read in blocks) give the same records, errors and lines; and the records,
 * written back with every field quoted, read again to the same fields (parse -> serialise ->
 * parse).
 */
#include "fuzz.h"

#include "lib/csv.h"

#define MAX_RECORDS 4096

/* The records read so far, serialised with every field quoted (RFC 4180). */
struct text {
	char *p;
	size_t n, cap;
};

static void text_put(struct text *t, const char *p, size_t n)
{
	if (t->n + n > t->cap) {
		t->cap = (t->n + n) * 2;
		t->p = realloc(t->p, t->cap);
		if (!t->p)
			abort();
	}
	memcpy(t->p + t->n, p, n);
	t->n += n;
}

static void serialise(struct text *t, const struct csv_reader *r)
{
	for (unsigned i = 0; i < csv_nfields(r); i++) {
		const char *f = csv_field(r, i);
		size_t n = csv_field_len(r, i);

		text_put(t, i ? ",\"" : "\"", i ? 2 : 1);
		for (size_t k = 0; k < n; k++)
			text_put(t, f[k] == '"' ? "\"\"" : f + k, f[k] == '"' ? 2 : 1);
		text_put(t, "\"", 1);
	}
	text_put(t, "\n", 1);
}

static void same_record(const struct csv_reader *a, const struct csv_reader *b)
{
	FUZZ_CHECK(csv_nfields(a) == csv_nfields(b), "%u != %u fields", csv_nfields(a),
		   csv_nfields(b));
	for (unsigned i = 0; i < csv_nfields(a); i++) {
		size_t n = csv_field_len(a, i);

		FUZZ_CHECK(n == csv_field_len(b, i), "field %u: length %zu != %zu", i, n,
			   csv_field_len(b, i));
		FUZZ_CHECK(!memcmp(csv_field(a, i), csv_field(b, i), n), "field %u differs", i);
		FUZZ_CHECK(csv_field(a, i)[n] == '\0', "field %u not NUL-terminated", i);
	}
}

static struct fuzz_file file;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_setup_file(&file, "fuzz_csv");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct csv_reader *m, *f, *again = NULL;
	struct text t = {0};
	unsigned nrec = 0;
	int rm, rf;

	fuzz_file_set(&file, data, size);
	m = csv_open_mem("mem", (const char *)data, size);
	f = csv_open(file.path);
	FUZZ_CHECK(m && f, "open failed");
	for (unsigned k = 0; k < MAX_RECORDS; k++) {
		rm = csv_next(m);
		rf = csv_next(f);
		FUZZ_CHECK(rm == rf, "record %u: memory %d, file %d", k, rm, rf);
		if (rm <= 0 && rm != -EINVAL)
			break;
		FUZZ_CHECK(csv_line(m) == csv_line(f), "record %u: line %lu != %lu", k, csv_line(m),
			   csv_line(f));
		if (rm == -EINVAL) {
			FUZZ_CHECK(!strcmp(csv_error(m), csv_error(f)), "'%s' != '%s'",
				   csv_error(m), csv_error(f));
			continue;
		}
		same_record(m, f);
		serialise(&t, m);
		nrec++;
	}

	/* the good records, quoted, read back to the same fields */
	if (nrec && rm == 0) {
		csv_close(f);
		f = csv_open_mem("mem", (const char *)data, size);
		again = csv_open_mem("again", t.p, t.n);
		FUZZ_CHECK(f && again, "open failed");
		for (unsigned k = 0; k < nrec; k++) {
			while ((rm = csv_next(f)) == -EINVAL)
				;
			rf = csv_next(again);
			FUZZ_CHECK(rm == 1 && rf == 1, "record %u: %d, serialised %d (%s)", k, rm,
				   rf, csv_error(again));
			same_record(f, again);
		}
		rf = csv_next(again);
		FUZZ_CHECK(rf == 0, "serialised text has more: %d", rf);
	}
	csv_close(again);
	csv_close(m);
	csv_close(f);
	free(t.p);
	return 0;
}
