// SPDX-License-Identifier: GPL-2.0-only
/*
 * enroll: registrations.csv -> fingerprint file (spec §2, §3).
 *
 * One pass over the CSV appends fingerprint entries to one flat array and subject ids to one
 * string arena (no allocation per value); a row is rolled back when any of its cells fails.
 * Duplicate subject ids are found with an open-addressing hash set of subject indices. The
 * hash variants of emails and phones are computed on a second thread (struct hasher). At the
 * end the entries are radix-sorted (fp_entries_sort) and written. Registered values are never
 * printed or logged: messages name the line and column only.
 */
#define _GNU_SOURCE /* asprintf */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cs_hash.h"
#include "enroll/enroll.h"
#include "enroll/enroll_cmd.h"
#include "enroll/hasher.h"
#include "fpdb/fpfile.h"
#include "fpdb/keyfile.h"
#include "lib/csv.h"
#include "lib/fields.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "lib/util.h"

static __u64 id_hash(const char *s, size_t n)
{
	__u64 h = cs_fnv_mem(CS_FNV_OFFSET, s, n);

	return h ^ (h >> 29);
}

/* Index + 1 of subject id s, or 0. */
static __u32 subject_find(const struct enroll *e, const char *s, size_t n)
{
	__u32 i;

	if (!e->slots)
		return 0;
	for (i = (__u32)id_hash(s, n) & e->slot_mask; e->slots[i]; i = (i + 1) & e->slot_mask) {
		const char *id = e->arena + e->soff[e->slots[i] - 1];

		if (!memcmp(id, s, n) && id[n] == '\0')
			return e->slots[i];
	}
	return 0;
}

static void slot_put(struct enroll *e, __u32 idx)
{
	const char *id = e->arena + e->soff[idx];
	__u32 i;

	for (i = (__u32)id_hash(id, strlen(id)) & e->slot_mask; e->slots[i];
	     i = (i + 1) & e->slot_mask)
		;
	e->slots[i] = idx + 1;
}

static int subject_add(struct enroll *e, const char *s, size_t n, unsigned long line)
{
	size_t cap;
	int err;

	if (e->nsub == UINT32_MAX - 1)
		return -E2BIG;
	/* keep the load factor of the hash set at most 1/2 */
	if (!e->slots || (__u64)(e->nsub + 1) * 2 > (__u64)e->slot_mask + 1) {
		__u32 nslots = e->slots ? (e->slot_mask + 1) * 2 : 1024;
		__u32 *old = e->slots;

		if (!nslots)
			return -E2BIG;
		e->slots = calloc(nslots, sizeof(*e->slots));
		if (!e->slots) {
			e->slots = old;
			return -ENOMEM;
		}
		e->slot_mask = nslots - 1;
		for (__u32 i = 0; i < e->nsub; i++)
			slot_put(e, i);
		free(old);
	}
	/* soff and sline grow together: both start at 1024 and double from the same cap */
	cap = e->sub_cap;
	err = grow_array((void **)&e->soff, &cap, (size_t)e->nsub + 1, sizeof(*e->soff), 1024);
	if (err)
		return err;
	cap = e->sub_cap;
	err = grow_array((void **)&e->sline, &cap, (size_t)e->nsub + 1, sizeof(*e->sline), 1024);
	if (err)
		return err;
	e->sub_cap = cap;
	err = grow_array((void **)&e->arena, &e->arena_cap, e->arena_len + n + 1, 1, 64 * 1024);
	if (err)
		return err;
	memcpy(e->arena + e->arena_len, s, n);
	e->arena[e->arena_len + n] = '\0';
	e->soff[e->nsub] = e->arena_len;
	e->sline[e->nsub] = line > UINT32_MAX ? UINT32_MAX : (__u32)line;
	e->arena_len += n + 1;
	slot_put(e, e->nsub);
	e->nsub++;
	return 0;
}

static int entries_add(struct enroll *e, const struct value_fps *v, int field)
{
	int weak = field == CS_F_NAME || field == CS_F_ADDRESS;
	int err;

	if (e->nent + v->n > UINT32_MAX)
		return -E2BIG;
	err = grow_array((void **)&e->ent, &e->ent_cap, e->nent + v->n, sizeof(*e->ent), 4096);
	if (!err)
		err = grow_array((void **)&e->pre, &e->pre_cap, e->nent + v->n, sizeof(*e->pre),
				 4096);
	if (err)
		return err;
	for (unsigned i = 0; i < v->n; i++) {
		struct fp_entry *x = &e->ent[e->nent];

		e->pre[e->nent++] = v->pre[i];
		x->fp = v->fp[i];
		x->subject = e->nsub;
		x->field = (__u8)field;
		x->part = weak ? (__u8)i : 0;
		x->nparts = weak ? (__u8)v->n : 1;
		x->variant = v->variant[i];
	}
	return 0;
}

/*
 * The birth date of this row's subject (index nsub if the row passes), from the normalised
 * "YYYYMMDD" of a birthdate: whether it is kept is decided when the file is written.
 */
static int birth_add(struct enroll *e, const char *ymd)
{
	unsigned v[3] = {0}, w[3] = {4, 2, 2};
	int err;

	for (unsigned k = 0, i = 0; k < 3; k++)
		for (unsigned j = 0; j < w[k]; j++)
			v[k] = v[k] * 10 + (unsigned)(ymd[i++] - '0');
	err = grow_array((void **)&e->births, &e->births_cap, e->nbirths + 1, sizeof(*e->births),
			 1024);
	if (err)
		return err;
	e->births[e->nbirths].subject = e->nsub;
	e->births[e->nbirths].days = (__s32)days_from_civil(v[0], v[1], v[2]);
	e->nbirths++;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: consentry enroll -r REGISTRATIONS.csv -k KEYFILE -o FINGERPRINTS\n"
		"                        [--country-code N] [--field COL=TYPE]... [--no-hashes]\n"
		"                        [--sensitive FIELD]...\n"
		"\n"
		"Build the fingerprint file from registrations.csv. KEYFILE (32 random bytes,\n"
		"mode 0600) is created if it does not exist. Every email and phone also gets the\n"
		"fingerprints of its SHA-256, SHA-1 and MD5 hex digests (phones: of the national,\n"
		"country code and E.164 forms), as audience lists are shared.\n"
		"\n"
		"  -r, --registrations FILE  CSV with subject_id and field columns\n"
		"  -k, --key FILE            fingerprint key file\n"
		"  -o, --output FILE         fingerprint file to write (atomically)\n"
		"      --country-code N      calling code of phone numbers without one (1-999,\n"
		"                            default 86)\n"
		"      --field COL=TYPE      read column COL as field TYPE (repeatable); types:\n"
		"                            phone email national_id bank_card passport username\n"
		"                            name birthdate address\n"
		"      --no-hashes           no fingerprints of hex digests of emails and phones\n"
		"      --sensitive FIELD     field type to record as sensitive (PIPL art. 28),\n"
		"                            repeatable, added to national_id passport bank_card;\n"
		"                            'none' starts from the empty set instead\n"
		"  -h, --help                show this help\n");
}

static int parse_args(struct enroll *e, int argc, char **argv)
{
	enum { OPT_CC = 256, OPT_FIELD, OPT_NO_HASHES, OPT_SENSITIVE };
	static const struct option opts[] = {
	    {"registrations", required_argument, NULL, 'r'},
	    {"key", required_argument, NULL, 'k'},
	    {"output", required_argument, NULL, 'o'},
	    {"country-code", required_argument, NULL, OPT_CC},
	    {"field", required_argument, NULL, OPT_FIELD},
	    {"no-hashes", no_argument, NULL, OPT_NO_HASHES},
	    {"sensitive", required_argument, NULL, OPT_SENSITIVE},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	optind = 0; /* glibc: full re-initialisation, main may have run getopt already */
	while ((c = getopt_long(argc, argv, "r:k:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			e->reg_path = optarg;
			break;
		case 'k':
			e->key_path = optarg;
			break;
		case 'o':
			e->out_path = optarg;
			break;
		case OPT_CC: {
			char *end;
			long v;

			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || v < 1 || v > 999) {
				pr_err("--country-code: '%s' is not a number from 1 to 999",
				       optarg);
				return 2;
			}
			e->country_code = (int)v;
			break;
		}
		case OPT_FIELD: {
			const char *eq = strchr(optarg, '=');
			struct colmap *m;
			char *col;
			int f;

			if (!eq || eq == optarg || !eq[1]) {
				pr_err("--field: expected COL=TYPE, got '%s'", optarg);
				return 2;
			}
			f = field_parse(eq + 1);
			if (!f) {
				pr_err("--field %s: unknown field type '%s'", optarg, eq + 1);
				return 2;
			}
			/*
			 * e->maps takes the grown array before anything else can fail: realloc may
			 * have freed the old one, which enroll_release() would free again.
			 */
			m = realloc(e->maps, (e->nmaps + 1) * sizeof(*m));
			if (m)
				e->maps = m;
			col = m ? strndup(optarg, (size_t)(eq - optarg)) : NULL;
			if (!col) {
				pr_err("enroll: %s", strerror(ENOMEM));
				return 1;
			}
			if (!strcmp(col, "subject_id")) {
				pr_err("--field: subject_id cannot be mapped to a field type");
				free(col);
				return 2;
			}
			for (unsigned i = 0; i < e->nmaps; i++) {
				if (!strcmp(e->maps[i].col, col)) {
					pr_err("--field: column '%s' mapped twice", col);
					free(col);
					return 2;
				}
			}
			m[e->nmaps].col = col;
			m[e->nmaps].field = f;
			m[e->nmaps].used = 0;
			e->nmaps++;
			break;
		}
		case OPT_NO_HASHES:
			e->no_hashes = 1;
			break;
		case OPT_SENSITIVE: {
			char names[128];
			int f;

			if (!strcmp(optarg, "none")) {
				e->sensitive_none = 1;
				break;
			}
			f = field_parse(optarg);
			if (!f) {
				pr_err("--sensitive: unknown field type '%s' (one of: %s, or none)",
				       optarg, fields_join(FIELD_ALL, " ", names, sizeof(names)));
				return 2;
			}
			e->sensitive |= FIELD_BIT(f);
			break;
		}
		case 'h':
			usage(stdout);
			return -1;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		pr_err("enroll: unexpected argument '%s'", argv[optind]);
		return 2;
	}
	if (!e->reg_path || !e->key_path || !e->out_path) {
		pr_err("enroll: -r REGISTRATIONS, -k KEYFILE and -o FINGERPRINTS are required");
		usage(stderr);
		return 2;
	}
	return 0;
}

/* Map the header row to field types. Returns 0 or an exit code. */
static int parse_header(struct enroll *e, struct csv_reader *r)
{
	const char *name = csv_name(r);
	unsigned long line;
	int rc, have_subject = 0;

	rc = csv_next(r);
	line = csv_line(r);
	if (rc == 0) {
		pr_err("%s: empty file, header row required", name);
		return 2;
	}
	if (rc < 0) {
		pr_err("%s:%lu: %s", name, line, csv_error(r));
		return rc == -EINVAL ? 2 : 1;
	}
	e->ncols = csv_nfields(r);
	e->col_field = calloc(e->ncols, sizeof(*e->col_field));
	e->colname = calloc(e->ncols, sizeof(*e->colname));
	if (!e->col_field || !e->colname) {
		pr_err("enroll: %s", strerror(ENOMEM));
		return 1;
	}
	for (unsigned i = 0; i < e->ncols; i++) {
		size_t n = csv_field_len(r, i);
		const char *col = value_trim(csv_field(r, i), &n);
		char buf[256];
		int f = 0;

		if (n >= sizeof(buf) || !utf8_valid(col, n)) {
			pr_err("%s:%lu: column %u: bad column name", name, line, i + 1);
			return 2;
		}
		memcpy(buf, col, n);
		buf[n] = '\0';
		if (!strcmp(buf, "subject_id")) {
			if (have_subject) {
				pr_err("%s:%lu: duplicate column subject_id", name, line);
				return 2;
			}
			have_subject = 1;
			e->subject_col = i;
			e->colname[i] = strdup("subject_id");
			if (!e->colname[i])
				goto nomem;
			continue;
		}
		for (unsigned j = 0; j < e->nmaps; j++) {
			if (!strcmp(e->maps[j].col, buf)) {
				f = e->maps[j].field;
				e->maps[j].used = 1;
			}
		}
		if (!f)
			f = field_parse(buf);
		if (!f) {
			pr_err("%s:%lu: unknown column '%s' (map it with --field %s=TYPE)", name,
			       line, buf, buf);
			return 2;
		}
		for (unsigned j = 0; j < i; j++) {
			size_t m = csv_field_len(r, j);
			const char *other = value_trim(csv_field(r, j), &m);

			if (m == n && !memcmp(other, col, n)) {
				pr_err("%s:%lu: duplicate column '%s'", name, line, buf);
				return 2;
			}
			/* parts of two names of one subject would be indistinguishable */
			if (field_is_weak(f) && e->col_field[j] == f) {
				pr_err("%s:%lu: two columns of field type %s", name, line,
				       field_name(f));
				return 2;
			}
		}
		e->col_field[i] = f;
		if (!strcmp(buf, field_name(f)))
			e->colname[i] = strdup(buf);
		else if (asprintf(&e->colname[i], "%s (%s)", buf, field_name(f)) < 0)
			e->colname[i] = NULL;
		if (!e->colname[i])
			goto nomem;
	}
	if (!have_subject) {
		pr_err("%s:%lu: missing column subject_id", name, line);
		return 2;
	}
	for (unsigned j = 0; j < e->nmaps; j++) {
		if (!e->maps[j].used) {
			pr_err("%s:%lu: --field %s: no such column", name, line, e->maps[j].col);
			return 2;
		}
	}
	return 0;
nomem:
	pr_err("enroll: %s", strerror(ENOMEM));
	return 1;
}

static void row_skip(struct enroll *e, struct csv_reader *r, const char *col, const char *why)
{
	if (col)
		pr_warn("%s:%lu: %s: %s, row skipped", csv_name(r), csv_line(r), col, why);
	else
		pr_warn("%s:%lu: %s, row skipped", csv_name(r), csv_line(r), why);
	e->rejected++;
}

/* Token lengths of a row's values, merged into the enroll once the row is accepted. */
struct row_lens {
	__u32 min, max, strong_min, flags, anchor_digits;
};

/*
 * One non-empty cell: normalise, fingerprint, append. Returns 0, 1 when the value is rejected
 * (*reason set) or -errno for a runtime failure.
 */
static int enroll_cell(struct enroll *e, int f, const char *val, size_t n, struct row_lens *l,
		       const char **reason)
{
	struct norm_out norm;
	struct value_fps v;
	int err;

	if (norm_value(f, val, n, e->country_code, &norm)) {
		*reason = norm.reason;
		return 1;
	}
	if (value_fingerprints(&e->key, f, &norm, &v, reason))
		return 1;
	if (e->hs) {
		/* this row's subject gets index nsub if all of its cells pass */
		err = hasher_add(e->hs, e->nsub, f, &norm);
		if (err)
			return err;
	}
	err = entries_add(e, &v, f);
	if (!err && f == CS_F_BIRTHDATE)
		err = birth_add(e, norm.s[0]);
	if (err)
		return err;
	for (unsigned j = 0; j < v.n; j++) {
		if (v.len[j] < l->min)
			l->min = v.len[j];
		if (v.len[j] > l->max)
			l->max = v.len[j];
		if (!field_is_weak(f) && v.len[j] < l->strong_min)
			l->strong_min = v.len[j];
	}
	if (field_is_weak(f))
		l->flags |= FPDB_F_WEAK;
	else
		for (unsigned k = 0; k < norm.n; k++) {
			__u32 d = fpdb_anchor_digits(norm.s[k], norm.len[k]);

			if (d < l->anchor_digits)
				l->anchor_digits = d;
			for (size_t i = 0; i < norm.len[k]; i++)
				if ((unsigned char)norm.s[k][i] >= 0x80)
					l->flags |= FPDB_F_STRONG_NONASCII;
		}
	return 0;
}

/* Checks on the row before its values. Returns NULL or why it is skipped (*col: which column). */
static const char *row_check(struct enroll *e, struct csv_reader *r, const char **col, char *why,
			     size_t whylen)
{
	const char *sid = csv_field(r, e->subject_col);
	size_t sidn = csv_field_len(r, e->subject_col);
	__u32 dup;

	*col = NULL;
	if (csv_nfields(r) != e->ncols) {
		snprintf(why, whylen, "expected %u fields, found %u", e->ncols, csv_nfields(r));
		return why;
	}
	for (unsigned i = 0; i < e->ncols; i++) {
		if (!utf8_valid(csv_field(r, i), csv_field_len(r, i))) {
			*col = e->colname[i];
			return "invalid UTF-8";
		}
	}
	*col = "subject_id";
	if (!sidn)
		return "empty";
	if (sidn > FP_SUBJECT_MAX)
		return "longer than 128 bytes";
	for (size_t i = 0; i < sidn; i++)
		if ((unsigned char)sid[i] < 0x20 || sid[i] == 0x7f)
			return "control character";
	dup = subject_find(e, sid, sidn);
	if (dup) {
		snprintf(why, whylen, "duplicate of line %u", e->sline[dup - 1]);
		return why;
	}
	*col = NULL;
	return NULL;
}

/* One data row: all of its values or none. Returns 0 (added or skipped) or -errno. */
static int enroll_row(struct enroll *e, struct csv_reader *r)
{
	unsigned long vals[CS_F_MAX] = {0};
	struct row_lens l = {
	    .min = UINT32_MAX, .strong_min = UINT32_MAX, .anchor_digits = CS_ANCHOR_DIGITS_MAX};
	size_t nent0 = e->nent, nbirths0 = e->nbirths;
	/* hash jobs of this row, dropped with it */
	unsigned njob0 = e->hs ? e->hs->fill->njob : 0;
	size_t ntext0 = e->hs ? e->hs->fill->ntext : 0;
	const char *col, *reason;
	char why[64];
	int err;

	reason = row_check(e, r, &col, why, sizeof(why));
	if (reason) {
		row_skip(e, r, col, reason);
		return 0;
	}
	for (unsigned i = 0; i < e->ncols; i++) {
		size_t n = csv_field_len(r, i);
		const char *val = value_trim(csv_field(r, i), &n);

		if (i == e->subject_col || !n)
			continue; /* empty cells are skipped */
		err = enroll_cell(e, e->col_field[i], val, n, &l, &reason);
		if (err) {
			e->nent = nent0;
			e->nbirths = nbirths0;
			if (e->hs) {
				e->hs->fill->njob = njob0;
				e->hs->fill->ntext = ntext0;
			}
			if (err < 0)
				return err;
			row_skip(e, r, e->colname[i], reason);
			return 0;
		}
		vals[e->col_field[i]]++;
	}
	if (e->nent == nent0) {
		row_skip(e, r, NULL, "no field values");
		return 0;
	}
	err = subject_add(e, csv_field(r, e->subject_col), csv_field_len(r, e->subject_col),
			  csv_line(r));
	if (err) {
		e->nent = nent0;
		e->nbirths = nbirths0;
		return err;
	}
	/* a full batch goes to the worker between rows, never in the middle of one */
	if (e->hs && e->hs->fill->njob > HASH_BATCH - 2 * CS_F_MAX) {
		err = hasher_submit(e->hs, e, 0);
		if (err)
			return err;
	}
	for (int f = 0; f < CS_F_MAX; f++)
		e->values[f] += vals[f];
	if (l.min < e->min_len)
		e->min_len = l.min;
	if (l.max > e->max_len)
		e->max_len = l.max;
	if (l.strong_min < e->strong_min_len)
		e->strong_min_len = l.strong_min;
	if (l.anchor_digits < e->anchor_digits)
		e->anchor_digits = l.anchor_digits;
	e->flags |= l.flags;
	return 0;
}

static int build_and_write(struct enroll *e, __u32 *nfp, __u32 *nhash, __u32 *sensitive)
{
	struct fpdb db = {0};
	__s64 now;
	int err;

	db.nsubjects = e->nsub;
	err = fpdb_pre_build(&db, e->pre, e->nent);
	if (err)
		return err;
	/* not needed any more: room for the sort's copy of the entries (1.3 GiB at 10M) */
	free(e->pre);
	e->pre = NULL;
	e->pre_cap = 0;
	free(e->slots);
	e->slots = NULL;
	db.nentries = fp_entries_sort(e->ent, (__u32)e->nent);
	db.entries = e->ent;
	db.strings = e->arena;
	db.subjects = malloc((e->nsub ? e->nsub : 1) * sizeof(*db.subjects));
	if (!db.subjects) {
		free(db.pre);
		return -ENOMEM;
	}
	for (__u32 i = 0; i < e->nsub; i++)
		db.subjects[i] = e->arena + e->soff[i];
	db.min_len = db.nentries ? e->min_len : 0;
	db.max_len = db.nentries ? e->max_len : 0;
	db.strong_min_len = e->strong_min_len == UINT32_MAX ? 0 : e->strong_min_len;
	db.flags = e->flags;
	db.anchor_digits = e->anchor_digits;
	db.kcv = keyfile_kcv(&e->key);
	db.sensitive = (e->sensitive_none ? 0 : FPDB_SENSITIVE_DEFAULT) | e->sensitive;
	*sensitive = db.sensitive;
	/* the enrollment day decides who is a minor; an adult's birth date is not written */
	now = clock_ns(CLOCK_REALTIME);
	for (size_t i = 0; i < e->nbirths; i++)
		e->births[i].days = fpdb_birth_value(e->births[i].days, now);
	db.births = e->births;
	db.nbirths = fpdb_births_sort(e->births, (__u32)e->nbirths);
	e->nbirths = db.nbirths;
	e->nminors = 0;
	for (__u32 i = 0; i < db.nbirths; i++)
		e->nminors += db.births[i].days != FPDB_BIRTH_ADULT;
	*nfp = db.nentries;
	*nhash = 0;
	for (__u32 i = 0; i < db.nentries; i++)
		*nhash += db.entries[i].variant != FP_VARIANT_PLAIN;
	err = fpdb_write_keyed(e->out_path, &db, &e->key);
	free(db.subjects);
	free(db.pre);
	return err;
}

static void enroll_release(struct enroll *e)
{
	explicit_bzero(&e->key, sizeof(e->key));
	hasher_free(e->hs);
	for (unsigned i = 0; i < e->nmaps; i++)
		free(e->maps[i].col);
	free(e->maps);
	for (unsigned i = 0; e->colname && i < e->ncols; i++)
		free(e->colname[i]);
	free(e->colname);
	free(e->col_field);
	free(e->arena);
	free(e->soff);
	free(e->sline);
	free(e->slots);
	free(e->ent);
	free(e->pre);
	if (e->births) /* registered values: wiped as the key is (not the copies realloc left) */
		explicit_bzero(e->births, e->births_cap * sizeof(*e->births));
	free(e->births);
}

int cmd_enroll(int argc, char **argv)
{
	struct enroll e = {.country_code = COUNTRY_CODE_DEFAULT,
			   .min_len = UINT32_MAX,
			   .strong_min_len = UINT32_MAX,
			   .anchor_digits = CS_ANCHOR_DIGITS_MAX};
	struct csv_reader *r = NULL;
	__u32 nfp = 0, nhash = 0, sensitive = 0;
	char names[128];
	int rc, err;

	rc = parse_args(&e, argc, argv);
	if (rc) {
		rc = rc < 0 ? 0 : rc;
		goto out;
	}
	r = csv_open(e.reg_path);
	if (!r) {
		rc = errno == ENOMEM ? 1 : 2;
		input_open_err(e.reg_path, "registrations", -errno);
		goto out;
	}
	rc = parse_header(&e, r);
	if (rc)
		goto out;
	err = keyfile_load(e.key_path, &e.key, 1);
	if (err) {
		rc = err == -EPERM || err == -EINVAL ? 2 : 1;
		goto out;
	}
	if (!e.no_hashes) {
		e.hs = hasher_new(&e.key);
		if (!e.hs) {
			rc = 1;
			goto out;
		}
	}

	while ((err = csv_next(r)) != 0) {
		if (err == -EINVAL) {
			row_skip(&e, r, NULL, csv_error(r));
			continue;
		}
		if (err < 0) {
			pr_err("%s:%lu: %s", csv_name(r), csv_line(r), strerror(-err));
			rc = 1;
			goto out;
		}
		err = enroll_row(&e, r);
		if (err) {
			pr_err("%s:%lu: %s", csv_name(r), csv_line(r),
			       err == -E2BIG ? "too many subjects or fingerprints"
			       : err == -EIO ? "libcrypto failed to compute a hash variant"
					     : strerror(-err));
			rc = 1;
			goto out;
		}
	}
	if (e.hs) {
		err = hasher_submit(e.hs, &e, 1);
		if (!err)
			err = hasher_wait(e.hs, &e);
		if (err) {
			pr_err("%s: %s", e.reg_path,
			       err == -E2BIG ? "too many subjects or fingerprints"
			       : err == -EIO ? "libcrypto failed to compute a hash variant"
					     : strerror(-err));
			rc = 1;
			goto out;
		}
	}
	if (!e.nsub)
		pr_warn("%s: no subjects enrolled", e.reg_path);

	err = build_and_write(&e, &nfp, &nhash, &sensitive);
	if (err) {
		rc = 1;
		goto out;
	}
	printf("%-16s%u\n", "subjects", e.nsub);
	for (int f = 1; f < CS_F_MAX; f++)
		printf("%-16s%lu values\n", field_name(f), e.values[f]);
	printf("%-16s%u (incl. variants and name parts)\n", "fingerprints", nfp);
	if (e.no_hashes)
		printf("%-16s%u (--no-hashes)\n", "hash variants", nhash);
	else
		printf("%-16s%u (sha256, sha1, md5 hex of emails and phones)\n", "hash variants",
		       nhash);
	printf("%-16s%s\n", "sensitive",
	       sensitive ? fields_join(sensitive, " ", names, sizeof(names)) : "(none)");
	printf("%-16s%u (under %d on the enrollment day, of %u with a birthdate)\n", "minors",
	       e.nminors, FPDB_BIRTH_AGE, (unsigned)e.nbirths);
	printf("%-16s%lu\n", "rows rejected", e.rejected);
	printf("%-16s%s\n", "output", e.out_path);
	rc = fflush(stdout) ? 1 : 0;
out:
	csv_close(r);
	enroll_release(&e);
	return rc;
}
