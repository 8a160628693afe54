// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verdict/consent.h"
#include "lib/csv.h"
#include "lib/csvtable.h"
#include "lib/fields.h"
#include "lib/log.h"
#include "lib/util.h"
#include "lib/timeutil.h"

/* Errors and unknown-recipient warnings printed per file; the rest are only counted. */
#define MAX_WARNS_SHOWN 20
#define SUBJECT_MAX	128
#define ARENA_CHUNK	(64 * 1024)
#define TIME_EXAMPLE	"2026-01-01T00:00:00Z"

enum {
	C_SUBJECT,
	C_RECIPIENT,
	C_FIELDS,
	C_GRANTED,
	C_EXPIRES,
	C_WITHDRAWN,
	C_PURPOSE,
	C_MAX,
};

static const char *const col_names[C_MAX] = {
    [C_SUBJECT] = "subject_id", [C_RECIPIENT] = "recipient", [C_FIELDS] = "fields",
    [C_GRANTED] = "granted_at", [C_EXPIRES] = "expires_at",  [C_WITHDRAWN] = "withdrawn_at",
    [C_PURPOSE] = "purpose",
};

static const int col_required[C_MAX] = {
    [C_SUBJECT] = 1,
    [C_RECIPIENT] = 1,
    [C_FIELDS] = 1,
    [C_GRANTED] = 1,
};

struct crow {
	__s64 granted, expires, withdrawn; /* ns; INT64_MAX when empty */
	const char *id;			   /* "consent.csv:LINE" in the arena */
	__u32 fields;			   /* FIELD_BIT mask */
	__u32 next;			   /* next row of the same pair, index + 1; 0 = last */
};

/* All rows of one (subject, recipient), linked in file order. */
struct cpair {
	const char *subject, *recipient; /* in the arena */
	__u64 hash;
	__u32 head, tail; /* row index + 1 */
};

/* Strings live in chunks freed together: one allocation per 64 KiB, not per row. */
struct arena {
	struct arena *next;
	size_t used, cap;
	char data[];
};

struct consent_db {
	struct crow *rows;
	size_t nrows, caprows;
	struct cpair *pairs;
	size_t npairs, cappairs;
	__u32 *slots; /* open addressing over pairs, pair index + 1, 0 = empty */
	size_t nslots;
	struct arena *arena;
};

struct consent_loader {
	struct input_errs e;
	const char *base; /* basename of the file, for row ids */
	unsigned nwarn;
	struct consent_db *db;
	const struct recipients *r;
};

static const char *arena_strdup(struct consent_db *db, const char *s)
{
	size_t n = strlen(s) + 1;
	struct arena *a = db->arena;
	char *p;

	if (!a || a->cap - a->used < n) {
		size_t cap = n > ARENA_CHUNK ? n : ARENA_CHUNK;

		a = malloc(sizeof(*a) + cap);
		if (!a)
			return NULL;
		a->next = db->arena;
		a->used = 0;
		a->cap = cap;
		db->arena = a;
	}
	p = a->data + a->used;
	memcpy(p, s, n);
	a->used += n;
	return p;
}

static __u64 fnv1a(__u64 h, const char *s)
{
	do {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	} while (*s++);
	return h;
}

/* FNV-1a over subject and recipient, each with its NUL so ("ab","c") != ("a","bc"). */
static __u64 pair_hash(const char *subject, const char *recipient)
{
	return fnv1a(fnv1a(0xcbf29ce484222325ULL, subject), recipient);
}

static size_t pair_slot(const struct consent_db *db, const char *subject, const char *recipient,
			__u64 h)
{
	size_t mask = db->nslots - 1, i = h & mask;

	while (db->slots[i]) {
		const struct cpair *p = &db->pairs[db->slots[i] - 1];

		if (p->hash == h && !strcmp(p->subject, subject) &&
		    !strcmp(p->recipient, recipient))
			break;
		i = (i + 1) & mask;
	}
	return i;
}

static int slots_rehash(struct consent_db *db)
{
	size_t n = db->nslots ? db->nslots * 2 : 1024;
	__u32 *s = calloc(n, sizeof(*s));

	if (!s)
		return -ENOMEM;
	free(db->slots);
	db->slots = s;
	db->nslots = n;
	/* pairs are distinct: each goes to the first free slot of its probe sequence */
	for (size_t k = 0; k < db->npairs; k++) {
		size_t i = db->pairs[k].hash & (n - 1);

		while (s[i])
			i = (i + 1) & (n - 1);
		s[i] = (__u32)k + 1;
	}
	return 0;
}

static int add_row(struct consent_db *db, const char *subject, const char *recipient,
		   const struct crow *row)
{
	__u64 h = pair_hash(subject, recipient);
	struct cpair *p;
	size_t slot;
	int err;

	if ((db->npairs + 1) * 2 > db->nslots) {
		err = slots_rehash(db);
		if (err)
			return err;
	}
	err = grow_array((void **)&db->rows, &db->caprows, db->nrows + 1, sizeof(*db->rows), 64);
	if (err)
		return err;
	slot = pair_slot(db, subject, recipient, h);
	if (!db->slots[slot]) {
		err = grow_array((void **)&db->pairs, &db->cappairs, db->npairs + 1,
				 sizeof(*db->pairs), 64);
		if (err)
			return err;
		p = &db->pairs[db->npairs];
		*p = (struct cpair){.hash = h};
		p->subject = arena_strdup(db, subject);
		p->recipient = arena_strdup(db, recipient);
		if (!p->subject || !p->recipient)
			return -ENOMEM;
		db->slots[slot] = (__u32)++db->npairs;
	}
	p = &db->pairs[db->slots[slot] - 1];
	db->rows[db->nrows] = *row;
	db->rows[db->nrows].next = 0;
	if (p->tail)
		db->rows[p->tail - 1].next = (__u32)db->nrows + 1;
	else
		p->head = (__u32)db->nrows + 1;
	p->tail = (__u32)++db->nrows;
	return 0;
}

static const char *expected_fields(void)
{
	static char buf[256];

	if (!buf[0]) {
		size_t n = 0;

		for (int f = 1; f < CS_F_MAX; f++)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", f > 1 ? "|" : "",
					      field_name(f));
		snprintf(buf + n, sizeof(buf) - n, " or *");
	}
	return buf;
}

/* Parse the fields cell into a FIELD_BIT mask; 0 after printing an error. */
static __u32 parse_fields(struct consent_loader *ld, unsigned long line, const char *cell)
{
	__u32 mask = 0;
	const char *p = cell;

	if (!*cell) {
		input_err(&ld->e, line, "empty fields (expected %s)", expected_fields());
		return 0;
	}
	for (;;) {
		const char *end = strchr(p, '|');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char tok[64];
		int f;

		/* tolerate blanks around each type: "phone | email" */
		while (len && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (!len) {
			input_err(&ld->e, line, "empty field type in fields '%s' (expected %s)",
				  cell, expected_fields());
			return 0;
		}
		if (len >= sizeof(tok))
			len = sizeof(tok) - 1;
		memcpy(tok, p, len);
		tok[len] = '\0';
		if (!strcmp(tok, "*")) {
			mask |= FIELD_ALL;
		} else {
			f = field_parse(tok);
			if (!f) {
				input_err(&ld->e, line,
					  "unknown field type '%s' in fields (expected %s)", tok,
					  expected_fields());
				return 0;
			}
			mask |= FIELD_BIT(f);
		}
		if (!end)
			break;
		p = end + 1;
	}
	return mask;
}

/* Parse an optional (col < 0 or empty: INT64_MAX) or required time column. */
static int parse_time(struct consent_loader *ld, unsigned long line, struct csv_reader *cr, int col,
		      const char *what, int required, __s64 *out)
{
	const char *s = col >= 0 ? csv_field(cr, (unsigned)col) : "";

	if (!*s) {
		*out = INT64_MAX;
		if (!required)
			return 0;
		input_err(&ld->e, line, "missing %s (expected RFC 3339, e.g. " TIME_EXAMPLE ")",
			  what);
		return -EINVAL;
	}
	if (rfc3339_parse(s, out)) {
		input_err(&ld->e, line, "bad %s '%s' (expected RFC 3339, e.g. " TIME_EXAMPLE ")",
			  what, s);
		return -EINVAL;
	}
	return 0;
}

static int parse_row(void *arg, struct csv_reader *cr, const int *col)
{
	struct consent_loader *ld = arg;
	struct consent_db *db = ld->db;
	const struct recipients *r = ld->r;
	unsigned long line = csv_line(cr);
	const char *subject = csv_field(cr, (unsigned)col[C_SUBJECT]);
	const char *recipient = csv_field(cr, (unsigned)col[C_RECIPIENT]);
	size_t slen = csv_field_len(cr, (unsigned)col[C_SUBJECT]);
	struct crow row = {0};
	char id[512];
	unsigned before = ld->e.nerr;

	if (!slen || slen > SUBJECT_MAX)
		input_err(&ld->e, line, "bad subject_id length %zu (expected 1..%d bytes)", slen,
			  SUBJECT_MAX);
	else if (!utf8_valid(subject, slen))
		input_err(&ld->e, line, "subject_id is not valid UTF-8");
	if (!*recipient)
		input_err(&ld->e, line, "empty recipient (expected a recipient name)");
	else if (!utf8_valid(recipient, csv_field_len(cr, (unsigned)col[C_RECIPIENT])))
		input_err(&ld->e, line, "recipient is not valid UTF-8");
	row.fields = parse_fields(ld, line, csv_field(cr, (unsigned)col[C_FIELDS]));
	if (!parse_time(ld, line, cr, col[C_GRANTED], "granted_at", 1, &row.granted) &&
	    !parse_time(ld, line, cr, col[C_EXPIRES], "expires_at", 0, &row.expires) &&
	    row.expires <= row.granted)
		input_err(&ld->e, line, "expires_at '%s' is not after granted_at '%s'",
			  csv_field(cr, (unsigned)col[C_EXPIRES]),
			  csv_field(cr, (unsigned)col[C_GRANTED]));
	if (!parse_time(ld, line, cr, col[C_WITHDRAWN], "withdrawn_at", 0, &row.withdrawn) &&
	    ld->e.nerr == before && row.withdrawn < row.granted)
		pr_warn(
		    "%s:%lu: withdrawn_at '%s' is before granted_at '%s': the row covers nothing",
		    ld->e.file, line, csv_field(cr, (unsigned)col[C_WITHDRAWN]),
		    csv_field(cr, (unsigned)col[C_GRANTED]));
	if (ld->e.nerr != before)
		return 0;

	if (r && !recipients_find(r, recipient) && ++ld->nwarn <= MAX_WARNS_SHOWN)
		pr_warn("%s:%lu: recipient '%s' is not in the recipients file", ld->e.file, line,
			recipient);

	/* once any error was seen nothing will be returned: only keep checking */
	if (ld->e.nerr)
		return 0;
	snprintf(id, sizeof(id), "%s:%lu", ld->base, line);
	row.id = arena_strdup(db, id);
	if (!row.id)
		return -ENOMEM;
	return add_row(db, subject, recipient, &row);
}

void consent_free(struct consent_db *db)
{
	struct arena *a, *next;

	if (!db)
		return;
	for (a = db->arena; a; a = next) {
		next = a->next;
		free(a);
	}
	free(db->slots);
	free(db->pairs);
	free(db->rows);
	free(db);
}

int consent_load_named(struct consent_db **out, const char *path, const char *name,
		       const char *id_base, const struct recipients *r)
{
	static const struct csv_table table = {
	    .what = "consent", .cols = col_names, .required = col_required, .ncols = C_MAX};
	struct consent_loader ld = {.r = r};
	int col[C_MAX], err;

	*out = NULL;
	if (!name)
		name = path;
	ld.base = id_base ? id_base : strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	ld.db = calloc(1, sizeof(*ld.db));
	if (!ld.db) {
		err = -ENOMEM;
		goto out;
	}
	err = csv_table_read_named(path, name, &table, &ld.e, col, parse_row, &ld);
	if (err)
		goto out;
	if (ld.nwarn > MAX_WARNS_SHOWN)
		pr_warn("%s: %u more rows name recipients not in the recipients file", ld.e.file,
			ld.nwarn - MAX_WARNS_SHOWN);
	input_errs_done(&ld.e);
	err = ld.e.nerr ? -EINVAL : 0;
out:
	if (err == -ENOMEM)
		pr_err("%s: %s", name, strerror(ENOMEM));
	if (err)
		consent_free(ld.db);
	else
		*out = ld.db;
	return err;
}

unsigned long consent_count(const struct consent_db *db)
{
	return db ? db->nrows : 0;
}

__u32 consent_covered(const struct consent_db *db, const char *subject, const char *recipient,
		      __u32 fields, __s64 t_ns, const char **ids, unsigned *nids, unsigned max_ids)
{
	const struct cpair *p;
	unsigned n = 0;
	__u32 covered = 0, i;
	size_t slot;

	if (nids)
		*nids = 0;
	fields &= FIELD_ALL;
	if (!db || !db->nslots || !subject || !recipient || !fields)
		return 0;
	slot = pair_slot(db, subject, recipient, pair_hash(subject, recipient));
	if (!db->slots[slot])
		return 0;
	p = &db->pairs[db->slots[slot] - 1];
	for (i = p->head; i; i = db->rows[i - 1].next) {
		const struct crow *row = &db->rows[i - 1];
		__u32 got = row->fields & fields;

		if (!got || t_ns < row->granted || t_ns >= row->expires || t_ns >= row->withdrawn)
			continue;
		covered |= got;
		if (ids && n < max_ids)
			ids[n++] = row->id;
	}
	if (nids)
		*nids = n;
	return covered;
}

int consent_load(struct consent_db **out, const char *path, const struct recipients *r)
{
	return consent_load_named(out, path, NULL, NULL, r);
}
