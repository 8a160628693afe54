// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_hash.h"
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
	C_SEPARATE,
	C_CROSS_BORDER,
	C_GUARDIAN,
	C_MAX,
};

static const char *const col_names[C_MAX] = {
    [C_SUBJECT] = "subject_id", [C_RECIPIENT] = "recipient", [C_FIELDS] = "fields",
    [C_GRANTED] = "granted_at", [C_EXPIRES] = "expires_at",  [C_WITHDRAWN] = "withdrawn_at",
    [C_PURPOSE] = "purpose",	[C_SEPARATE] = "separate",   [C_CROSS_BORDER] = "cross_border",
    [C_GUARDIAN] = "guardian",
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
	const char *purposes;		   /* "a|b" in the arena, NULL: any purpose */
	__u32 fields;			   /* FIELD_BIT mask */
	__u32 next;			   /* next row of the same pair, index + 1; 0 = last */
	__u32 grants;			   /* CR_* of the row's yes columns */
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
	__u32 rules;	    /* CR_* whose column the file has: the rules it can express */
	unsigned long dead; /* rows that can never cover a disclosure (warned with file:line) */
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

/* FNV-1a over subject and recipient, each with its NUL so ("ab","c") != ("a","bc"). */
static __u64 pair_hash(const char *subject, const char *recipient)
{
	__u64 h = cs_fnv_mem(CS_FNV_OFFSET, subject, strlen(subject) + 1);

	return cs_fnv_mem(h, recipient, strlen(recipient) + 1);
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

/* An optional yes/no column (empty = no): bit into *grants when yes. */
static void parse_grant(struct consent_loader *ld, unsigned long line, struct csv_reader *cr,
			int col, const char *what, __u32 bit, __u32 *grants)
{
	const char *s = col >= 0 ? csv_field(cr, (unsigned)col) : "";

	if (!strcmp(s, "yes"))
		*grants |= bit;
	else if (*s && strcmp(s, "no"))
		input_err(&ld->e, line, "bad %s '%s' (expected yes, no or empty)", what, s);
}

/*
 * The purpose cell: empty = any purpose, else '|'-separated purpose tokens (blanks around each
 * allowed), kept as "a|b" in the arena. 0; -EINVAL after printing an error; -ENOMEM.
 */
static int parse_purposes(struct consent_loader *ld, unsigned long line, const char *cell,
			  struct crow *row)
{
	char buf[1024];
	size_t n = 0;
	const char *p = cell;

	if (!*cell)
		return 0;
	for (;;) {
		const char *end = strchr(p, '|');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char tok[PURPOSE_MAX + 2];

		while (len && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len >= sizeof(tok))
			len = sizeof(tok) - 1;
		memcpy(tok, p, len);
		tok[len] = '\0';
		if (!purpose_valid(tok) || n + len + 2 > sizeof(buf)) {
			input_err(
			    &ld->e, line,
			    "bad purpose '%s' in '%s' (expected '|'-separated purposes of 1..%d "
			    "bytes of UTF-8 text without control characters, or empty for any "
			    "purpose)",
			    tok, cell, PURPOSE_MAX);
			return -EINVAL;
		}
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", n ? "|" : "", tok);
		if (!end)
			break;
		p = end + 1;
	}
	row->purposes = arena_strdup(ld->db, buf);
	return row->purposes ? 0 : -ENOMEM;
}

/* 1 when purposes ("a|b") holds p. */
static int purposes_have(const char *purposes, const char *p)
{
	size_t n = strlen(p);

	for (const char *s = purposes; s; s = strchr(s, '|'), s = s ? s + 1 : NULL)
		if (!strncmp(s, p, n) && (s[n] == '|' || !s[n]))
			return 1;
	return 0;
}

/*
 * Warn about the purposes of a row that no recipients.csv row of its recipient has. Returns 1
 * when the row can never cover a disclosure: every row of the recipient has a purpose, none of
 * them the row's. A recipient with a row without purpose takes any consent purpose there.
 */
static int unheard_purpose(struct consent_loader *ld, unsigned long line, const char *recipient,
			   const char *purposes)
{
	char tok[PURPOSE_MAX + 1];
	int heard = 0;

	if (recipients_purpose_reach(ld->r, recipient, NULL) == 2)
		return 0;
	for (const char *s = purposes; s;) {
		const char *end = strchr(s, '|');
		size_t len = end ? (size_t)(end - s) : strlen(s);

		memcpy(tok, s, len);
		tok[len] = '\0';
		if (recipients_purpose_reach(ld->r, recipient, tok))
			heard = 1;
		else if (++ld->nwarn <= MAX_WARNS_SHOWN)
			pr_warn("%s:%lu: purpose '%s' is not the purpose of any recipients row of "
				"'%s': "
				"it never matches a disclosure",
				ld->e.file, line, tok, recipient);
		s = end ? end + 1 : NULL;
	}
	return !heard;
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
	parse_grant(ld, line, cr, col[C_SEPARATE], "separate", CR_SEPARATE, &row.grants);
	parse_grant(ld, line, cr, col[C_CROSS_BORDER], "cross_border", CR_CROSS_BORDER,
		    &row.grants);
	parse_grant(ld, line, cr, col[C_GUARDIAN], "guardian", CR_GUARDIAN, &row.grants);
	if (col[C_PURPOSE] >= 0 &&
	    parse_purposes(ld, line, csv_field(cr, (unsigned)col[C_PURPOSE]), &row) == -ENOMEM)
		return -ENOMEM;
	if (ld->e.nerr != before)
		return 0;

	if (row.withdrawn < row.granted)
		db->dead++;
	if (r && !recipients_find(r, recipient)) {
		db->dead++;
		if (++ld->nwarn <= MAX_WARNS_SHOWN)
			pr_warn("%s:%lu: recipient '%s' is not in the recipients file", ld->e.file,
				line, recipient);
	} else if (r && row.purposes && unheard_purpose(ld, line, recipient, row.purposes)) {
		db->dead++;
	}

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
	/* a rule is checked when the file has the column that grants it (spec §7) */
	ld.db->rules = CR_PURPOSE | (col[C_SEPARATE] >= 0 ? CR_SEPARATE : 0) |
		       (col[C_CROSS_BORDER] >= 0 ? CR_CROSS_BORDER : 0) |
		       (col[C_GUARDIAN] >= 0 ? CR_GUARDIAN : 0);
	if (ld.nwarn > MAX_WARNS_SHOWN)
		pr_warn("%s: %u more rows name recipients or purposes not in the recipients file",
			ld.e.file, ld.nwarn - MAX_WARNS_SHOWN);
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

const char *consent_violation_name(unsigned i)
{
	static const char *const names[CV_COUNT] = {"no-consent", "purpose", "separate-consent",
						    "guardian", "cross-border"};

	return i < CV_COUNT ? names[i] : "?";
}

char *violations_join(__u32 v, const char *sep, char *buf, size_t len)
{
	size_t n = 0;

	if (len)
		buf[0] = '\0';
	for (unsigned i = 0; i < CV_COUNT && n < len; i++)
		if (v & (1u << i))
			n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? sep : "",
					      consent_violation_name(i));
	return buf;
}

int consent_walk_pairs(const struct consent_db *db,
		       int (*fn)(const char *subject, const char *recipient, void *arg), void *arg)
{
	for (size_t i = 0; db && i < db->npairs; i++) {
		int err = fn(db->pairs[i].subject, db->pairs[i].recipient, arg);

		if (err)
			return err;
	}
	return 0;
}

/* The earliest of t's successors among a row's times (INT64_MAX: none). */
static __s64 next_after(__s64 best, __s64 v, __s64 t)
{
	return v > t && v < best ? v : best;
}

__s64 consent_next_change(const struct consent_db *db, __s64 t_ns)
{
	__s64 best = INT64_MAX;

	for (size_t i = 0; db && i < db->nrows; i++) {
		best = next_after(best, db->rows[i].granted, t_ns);
		best = next_after(best, db->rows[i].expires, t_ns);
		best = next_after(best, db->rows[i].withdrawn, t_ns);
	}
	return best;
}

unsigned long consent_dead(const struct consent_db *db)
{
	return db ? db->dead : 0;
}

__u32 consent_rules(const struct consent_db *db)
{
	return db ? db->rules : CR_PURPOSE;
}

/* The rules of need a row does not meet for field bit f (CV_*). */
static __u32 row_fails(const struct consent_db *db, const struct crow *row,
		       const struct consent_need *need, __u32 f)
{
	__u32 v = 0;

	if (need->purpose && row->purposes && !purposes_have(row->purposes, need->purpose))
		v |= CV_PURPOSE;
	if ((need->sensitive & f) && (db->rules & CR_SEPARATE) && !(row->grants & CR_SEPARATE))
		v |= CV_SEPARATE;
	if (need->minor && (db->rules & CR_GUARDIAN) && !(row->grants & CR_GUARDIAN))
		v |= CV_GUARDIAN;
	if (need->cross_border && (db->rules & CR_CROSS_BORDER) && !(row->grants & CR_CROSS_BORDER))
		v |= CV_CROSS_BORDER;
	return v;
}

/* What a field with no consent row at all breaks: no-consent and the special rules it needed. */
static __u32 unconsented_fails(const struct consent_db *db, const struct consent_need *need,
			       __u32 f)
{
	__u32 rules = consent_rules(db), v = CV_NO_CONSENT;

	if ((need->sensitive & f) && (rules & CR_SEPARATE))
		v |= CV_SEPARATE;
	if (need->minor && (rules & CR_GUARDIAN))
		v |= CV_GUARDIAN;
	if (need->cross_border && (rules & CR_CROSS_BORDER))
		v |= CV_CROSS_BORDER;
	return v;
}

__u32 consent_check(const struct consent_db *db, const char *subject, const char *recipient,
		    __u32 fields, __s64 t_ns, const struct consent_need *need, __u32 *violations,
		    const char **ids, unsigned *nids, unsigned max_ids)
{
	static const struct consent_need none;
	const struct cpair *p = NULL;
	__u32 covered = 0, candidates = 0, v = 0, fails[CS_F_MAX] = {0};
	unsigned n = 0;

	if (nids)
		*nids = 0;
	need = need ? need : &none;
	fields &= FIELD_ALL;
	if (db && db->nslots && subject && recipient) {
		size_t slot = pair_slot(db, subject, recipient, pair_hash(subject, recipient));

		p = db->slots[slot] ? &db->pairs[db->slots[slot] - 1] : NULL;
	}
	/* rows in file order: consent_ids list the rows that covered a field, in that order */
	for (__u32 i = p ? p->head : 0; i; i = db->rows[i - 1].next) {
		const struct crow *row = &db->rows[i - 1];
		__u32 got = row->fields & fields, met = 0;

		if (!got || t_ns < row->granted || t_ns >= row->expires || t_ns >= row->withdrawn)
			continue;
		candidates |= got;
		for (int f = 1; f < CS_F_MAX; f++) {
			__u32 rf;

			if (!(got & FIELD_BIT(f)))
				continue;
			rf = row_fails(db, row, need, FIELD_BIT(f));
			if (rf)
				fails[f] |= rf;
			else
				met |= FIELD_BIT(f);
		}
		covered |= met;
		if (met && ids && n < max_ids)
			ids[n++] = row->id;
	}
	for (int f = 1; f < CS_F_MAX; f++) {
		__u32 b = FIELD_BIT(f);

		if ((fields & b) && !(covered & b))
			v |= (candidates & b) ? fails[f] : unconsented_fails(db, need, b);
	}
	if (nids)
		*nids = n;
	if (violations)
		*violations = v;
	return covered;
}

__u32 consent_covered(const struct consent_db *db, const char *subject, const char *recipient,
		      __u32 fields, __s64 t_ns, const char **ids, unsigned *nids, unsigned max_ids)
{
	return consent_check(db, subject, recipient, fields, t_ns, NULL, NULL, ids, nids, max_ids);
}

int consent_load(struct consent_db **out, const char *path, const struct recipients *r)
{
	return consent_load_named(out, path, NULL, NULL, r);
}
