// SPDX-License-Identifier: GPL-2.0-only
/*
 * enroll end to end (user/enroll/enroll_cmd.c cmd_enroll): registrations.csv -> fingerprint file.
 * The first input byte holds options (bit 0: hash variants, else --no-hashes; bit 1:
 * --country-code 1), the rest is the CSV. Properties: a failed enroll leaves no file; a written
 * file loads, the same in both forms; and every enrolled subject has a row of the CSV whose values,
 * normalised and fingerprinted on their own (norm_value, value_fingerprints), are all in the file
 * under that subject and field (enroll -> write -> read back holds what was registered); the
 * sensitive set is the default one; and every minor's birth day, written as YYYYMMDD, is a
 * birthdate enrolled for that subject (a birth record never lands on another subject).
 */
#include <fcntl.h>
#include <sys/stat.h>

#include "fuzz_db.h"

#include "lib/csv.h"
#include "enroll/enroll.h"
#include "lib/fields.h"
#include "lib/timeutil.h"

#define MAX_COLS     16
#define MAX_SUBJECTS 256 /* subjects checked per input (each check reads the CSV again) */

static struct fuzz_file regs;
static struct cs_key key;
static char key_path[64], out_path[64];

/* The key and the output file go with the process (libFuzzer ends by exit()). */
static void cleanup(void)
{
	unlink(key_path);
	unlink(out_path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int fd;

	(void)argc;
	(void)argv;
	fuzz_key(&key);
	fuzz_setup_file(&regs, "fuzz_enroll");
	snprintf(key_path, sizeof(key_path), "/dev/shm/cs-fuzz-key.%d", getpid());
	snprintf(out_path, sizeof(out_path), "/dev/shm/cs-fuzz-enroll.%d", getpid());
	unlink(key_path);
	atexit(cleanup);
	fd = open(key_path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		abort();
	for (unsigned char b = 0; b < 32; b++)
		if (write(fd, &b, 1) != 1)
			abort();
	close(fd);
	return 0;
}

/* Every fingerprint of value v of field f is an entry of subject s in db. */
static int value_in_db(const struct fpdb *db, __u32 s, int f, const char *v, size_t n, int cc)
{
	struct norm_out norm;
	struct value_fps fps;
	const char *reason;

	if (norm_value(f, v, n, cc, &norm))
		return 1; /* empty once trimmed: enroll skips the cell (else the row is refused) */
	if (value_fingerprints(&key, f, &norm, &fps, &reason))
		return 0;
	for (unsigned k = 0; k < fps.n; k++) {
		__u32 first, cnt = fpdb_find(db, fps.fp[k], &first), hit = 0;

		for (__u32 i = first; i < first + cnt && !hit; i++) {
			struct fp_entry e;

			fpdb_entry(db, i, &e);
			hit = e.subject == s && e.field == f && e.variant == FP_VARIANT_PLAIN;
		}
		if (!hit)
			return 0;
	}
	return 1;
}

/* Some row of subject s has all of its values in db. */
static void subject_in_db(const struct fpdb *db, __u32 s, const uint8_t *csv, size_t n, int cc)
{
	const char *sid = fpdb_subject(db, s);
	char id[FP_SUBJECT_MAX + 1];
	int col_field[MAX_COLS] = {0}, sub_col = -1, found = 0;
	struct csv_reader *r = csv_open_mem("regs", (const char *)csv, n);
	unsigned ncols;

	snprintf(id, sizeof(id), "%s", sid);
	if (!r || csv_next(r) != 1 || (ncols = csv_nfields(r)) > MAX_COLS)
		goto out;
	for (unsigned i = 0; i < ncols; i++) {
		if (!strcmp(csv_field(r, i), "subject_id"))
			sub_col = (int)i;
		else if (!(col_field[i] = field_parse(csv_field(r, i))))
			goto out; /* a name enroll trimmed or mapped: not followed here */
	}
	if (sub_col < 0)
		goto out;
	/* every row: a subject's row may come after any number of others (a bound here once
	 * reported a subject whose row was the 268th as missing) */
	while (!found) {
		int rc = csv_next(r), all = 1;

		if (rc == 0 || (rc < 0 && rc != -EINVAL))
			break; /* the end, or an I/O or memory error (-EINVAL: a bad record,
				  skipped) */
		if (rc != 1 || csv_nfields(r) != ncols ||
		    strcmp(csv_field(r, (unsigned)sub_col), id))
			continue;
		for (unsigned i = 0; i < ncols && all; i++)
			if ((int)i != sub_col)
				all = value_in_db(db, s, col_field[i], csv_field(r, i),
						  csv_field_len(r, i), cc);
		found = all;
	}
	FUZZ_CHECK(found, "subject %u '%s': no row whose values are all in the file", s, id);
out:
	csv_close(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *argv[12] = {"enroll", "-r", regs.path, "-k", key_path, "-o", out_path};
	int argc = 7, rc, rm, cc = 86;
	struct fpdb compact, mapped;
	struct stat st;

	if (!size)
		return 0;
	if (!(data[0] & 1))
		argv[argc++] = "--no-hashes";
	if (data[0] & 2) {
		argv[argc++] = "--country-code";
		argv[argc++] = "1";
		cc = 1;
	}
	fuzz_file_set(&regs, data + 1, size - 1);
	unlink(out_path);
	rc = cmd_enroll(argc, argv);
	if (rc) {
		FUZZ_CHECK(stat(out_path, &st) && errno == ENOENT, "enroll failed (%d), file left",
			   rc);
		return 0;
	}
	rc = fpdb_load_as(&compact, out_path, &key, FPDB_COMPACT);
	rm = fpdb_load_as(&mapped, out_path, &key, FPDB_MAPPED);
	FUZZ_CHECK(rc == 0 && rm == 0, "enroll's file does not load: compact %d, mapped %d", rc,
		   rm);
	same_db(&compact, &mapped, "compact/mapped");
	for (__u32 s = 0; s < compact.nsubjects && s < MAX_SUBJECTS; s++)
		subject_in_db(&compact, s, data + 1, size - 1, cc);
	FUZZ_CHECK(compact.sensitive == FPDB_SENSITIVE_DEFAULT, "sensitive %#x", compact.sensitive);
	for (__u32 i = 0; i < compact.nbirths; i++) {
		const struct fpdb_birth *b = &compact.births[i];
		char ymd[16];
		long long y;
		unsigned m, d;

		civil_from_days(b->days, &y, &m, &d);
		snprintf(ymd, sizeof(ymd), "%04lld%02u%02u", y, m, d);
		FUZZ_CHECK(value_in_db(&compact, b->subject, CS_F_BIRTHDATE, ymd, 8, cc),
			   "birth record %u: subject %u has no such birthdate", i, b->subject);
	}
	fpdb_release(&mapped);
	fpdb_release(&compact);
	unlink(out_path);
	return 0;
}
