// SPDX-License-Identifier: GPL-2.0-only
/*
 * Journal queries (`consentry findings`, user/output/findings.c) over findings written by the
 * monitor's writer (user/output/journal.c). The input is an argument vector (strings separated
 * by NUL, ended by two NULs) parsed by findings_args, the CLI's own option table, then a
 * description of up to MAX_ROWS findings put into the journal (emptied before each input).
 * Properties:
 * - a refused command line changes nothing; an accepted one gives only valid values (no ocsf);
 * - every write is committed, every query succeeds;
 * - the findings listed (text, jsonl and csv) are exactly those the filter selects in a model of
 *   the rows (subject, recipient, verdict, action equal, field in the mask, since <= time < until),
 * in time order: csv read back gives each row's values unchanged, every jsonl line is one valid
 *   JSON object (RFC 8259, valid UTF-8) starting with the row's time, verdict and action, each
 *   text line names the row's action (when blocked), subject and recipient as text_str writes
 *   them;
 * - --count-by subject, recipient and day: one line per distinct key, most first, counts that
 *   add up to the rows selected; --count-by field: each field's count is the model's;
 * - text output holds no control byte (C0, DEL, C1, U+2028/9) and only valid UTF-8.
 */
#include "fuzz.h"

#include <limits.h>
#include <sqlite3.h>

#include "lib/fields.h"
#include "lib/timeutil.h"
#include "monitor/message.h"
#include "monitor/procinfo.h"
#include "output/findings.h"
#include "output/journal.h"
#include "output/output.h"
#include "verdict/recipients.h"

#define MAX_ARGS 24
#define MAX_ROWS 12
#define STR_MAX	 40
#define NS_DAY	 86400000000000LL
#define T_BASE	 (20423LL * NS_DAY) /* 2025-12-01T00:00:00Z */
#define NCOLS	 42 /* csv columns of a finding (list_cols, count, last_time, §7, action) */

/* What the model keeps of a row written. */
struct row {
	__s64 t;
	int verdict;
	int blocked; /* the send was refused (run --block): action blocked */
	__u32 mask;
	char subject[STR_MAX + 1], rcpt[STR_MAX + 1], host[STR_MAX + 1];
	int has_rcpt, has_host;
	char comm[17];
};

static char dir[64], path[96];
static struct journal *jw;
static sqlite3 *rd, *rw;
static __u64 written;

static const char *const fixed_strs[] = {
    "s1", "s 2", "x,\"y\"", "\xc2\x85z", "a\xe2\x80\xa8", "partner", "#c", "u\\1", "\xff\xfe",
};
static const char *const verdicts[] = {"unconsented", "consented", "exempt"};

static void cleanup(void)
{
	char p[128];

	sqlite3_close(rd);
	sqlite3_close(rw);
	journal_close(jw);
	for (unsigned i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s%s", path, (const char *[]){"", "-wal", "-shm"}[i]);
		unlink(p);
	}
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *base = access("/dev/shm", W_OK) ? (getenv("TMPDIR") ?: "/tmp") : "/dev/shm";

	(void)argc;
	(void)argv;
	fuzz_quiet();
	snprintf(dir, sizeof(dir), "%s/cs-fuzz-journal.XXXXXX", base);
	if (!mkdtemp(dir)) {
		dprintf(2, "mkdtemp %s: %s\n", dir, strerror(errno));
		abort();
	}
	snprintf(path, sizeof(path), "%s/findings.db", dir);
	if (journal_open(&jw, path) || journal_open_ro(&rd, path) ||
	    sqlite3_open_v2(path, &rw, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		dprintf(2, "cannot open the journal %s\n", path);
		abort();
	}
	atexit(cleanup);
	return 0;
}

/* A string of the input: up to max bytes, none of them NUL. */
static void take_str(struct fuzz_rd *r, char *buf, size_t max)
{
	size_t n = fuzz_take(r) % (max + 1);

	for (size_t i = 0; i < n; i++) {
		uint8_t c = fuzz_take(r);

		buf[i] = (char)(c ? c : '0');
	}
	buf[n] = 0;
}

/* A string: one of the pool (the arguments and fixed_strs) or one of the input. */
static void take_pooled(struct fuzz_rd *r, char *const *pool, unsigned npool, char *buf)
{
	uint8_t k = fuzz_take(r);

	if (k & 0x80 || !npool)
		take_str(r, buf, STR_MAX);
	else
		snprintf(buf, STR_MAX + 1, "%s", pool[k % npool]);
}

static __u64 take_u64(struct fuzz_rd *r)
{
	__u64 v = 0;

	for (unsigned i = 0; i < 8; i++)
		v = v << 8 | fuzz_take(r);
	return v;
}

/* One finding from the input into the journal and the model. */
static void add_row(struct fuzz_rd *r, const struct findings_query *q, char *const *pool,
		    unsigned npool, struct row *x, const struct row *prev)
{
	char ids[FINDING_MAX_IDS][STR_MAX + 1], exe[STR_MAX + 1], cg[STR_MAX + 1];
	static struct cs_event ev;
	struct recipient rc;
	struct pod_info pod;
	struct msg_http http;
	struct msg m = {.ev = &ev};
	struct finding f = {0};
	struct proc_view pv = {0};
	uint8_t fl = fuzz_take(r), tm = fuzz_take(r);

	memset(x, 0, sizeof(*x));
	switch (tm & 3) {
	case 0: /* near T_BASE */
		x->t = T_BASE + (__s64)(int8_t)fuzz_take(r) * NS_DAY +
		       (__s64)fuzz_take(r) * 3600000000000LL + (__s64)(int8_t)fuzz_take(r);
		break;
	case 1: /* any */
		x->t = (__s64)take_u64(r);
		break;
	case 2: /* at a bound of the query, or a nanosecond off */
		if (__builtin_add_overflow((tm & 4) ? q->until : q->since,
					   (__s64)(fuzz_take(r) % 3) - 1, &x->t))
			x->t = T_BASE;
		break;
	default: /* the time of the row before */
		x->t = prev ? prev->t : T_BASE;
	}
	take_pooled(r, pool, npool, x->subject);
	if (!*x->subject)
		snprintf(x->subject, sizeof(x->subject), "s"); /* subject ids are never empty */
	x->verdict = fuzz_take(r) % 3;
	x->mask = ((__u32)fuzz_take(r) << 8 | fuzz_take(r)) & FIELD_ALL;
	x->has_rcpt = !(fl & 1);
	if (x->has_rcpt) {
		take_pooled(r, pool, npool, x->rcpt);
		/* names are never empty; "(unknown)" is how text counts write no recipient */
		if (!*x->rcpt || !strcmp(x->rcpt, "(unknown)"))
			snprintf(x->rcpt, sizeof(x->rcpt), "r");
		rc = (struct recipient){x->rcpt, (enum rcpt_kind)(fuzz_take(r) % 4)};
		f.rcpt = &rc;
	}
	x->has_host = !!(fl & 2);
	x->blocked = !!(fl & 0x80);
	if (x->has_host)
		take_pooled(r, pool, npool, x->host);
	memset(&ev, 0, sizeof(ev));
	for (unsigned i = 0; i < sizeof(ev.comm); i++)
		ev.comm[i] = fuzz_take(r);
	memcpy(x->comm, ev.comm, sizeof(ev.comm));
	if (fl & 4) {
		ev.daddr[0] = 0x20;
		ev.daddr[1] = 0x01;
		ev.daddr[15] = fuzz_take(r);
	} else {
		ev.daddr[0] = 192;
		ev.daddr[3] = fuzz_take(r);
	}
	ev.dport = (__u16)(fuzz_take(r) << 8 | fuzz_take(r));
	ev.proto = fl & 8 ? 17 : 6;
	ev.channel = fuzz_take(r) % 9;
	ev.pid = ev.tid = fuzz_take(r);
	ev.uid = fuzz_take(r);
	ev.bytes_total = ev.bytes_inspected = fuzz_take(r);
	ev.flags = fl & 0x10 ? CS_EV_TRUNCATED : 0;
	ev.xflags = x->blocked ? CS_EVX_BLOCKED : 0;
	if (fl & 0x20) {
		take_str(r, exe, STR_MAX);
		take_str(r, cg, STR_MAX);
		memset(&pod, 0, sizeof(pod));
		take_str(r, pod.name, STR_MAX);
		snprintf(pod.uid, sizeof(pod.uid), "%08x", fuzz_take(r));
		pv = (struct proc_view){exe, cg, fuzz_take(r) & 1 ? "c0ffee" : NULL, &pod};
	}
	if (fl & 0x40) {
		memset(&http, 0, sizeof(http));
		snprintf(http.version, sizeof(http.version), "%s", fuzz_take(r) & 1 ? "2" : "1.1");
		take_str(r, http.method, sizeof(http.method) - 1);
		take_str(r, http.path, STR_MAX);
		m.http = &http;
	}
	f.msg = &m;
	f.subject = x->subject;
	f.fields = x->mask;
	f.unconsented = x->mask & ((__u32)fuzz_take(r) << 1);
	f.verdict = (enum verdict)x->verdict;
	f.nids = fuzz_take(r) % 3;
	for (unsigned i = 0; i < f.nids; i++) {
		take_pooled(r, pool, npool, ids[i]);
		f.consent_ids[i] = ids[i];
	}
	f.nfps = fuzz_take(r) % 3;
	for (unsigned i = 0; i < f.nfps; i++)
		f.fps[i] = take_u64(r);
	f.encodings = fuzz_take(r);
	snprintf(f.msg_id, sizeof(f.msg_id), "%016llx", (unsigned long long)take_u64(r));
	f.msg_subjects = fuzz_take(r) % 4;
	journal_add(jw, &ev, &f, x->has_host ? x->host : NULL, x->t, fl & 0x20 ? &pv : NULL);
}

/* The row is one q selects. */
static int selected(const struct findings_query *q, const struct row *x)
{
	return (!q->subject || !strcmp(q->subject, x->subject)) &&
	       (!q->recipient || (x->has_rcpt && !strcmp(q->recipient, x->rcpt))) &&
	       (!q->verdict || !strcmp(q->verdict, verdicts[x->verdict])) &&
	       (!q->action || !strcmp(q->action, x->blocked ? "blocked" : "reported")) &&
	       (!q->field || (x->mask & FIELD_BIT(q->field))) &&
	       (!q->has_since || x->t >= q->since) && (!q->has_until || x->t < q->until);
}

/* s as text_str writes it, into buf (NUL-terminated). */
static void escaped(const char *s, char *buf, size_t len)
{
	FILE *f = fmemopen(buf, len, "w");

	if (!f)
		abort();
	text_str(f, s);
	fputc(0, f);
	fclose(f);
	buf[len - 1] = 0;
}

/* A text line: valid UTF-8, no C0 control, DEL, C1 control, U+2028 or U+2029. */
static void check_text_line(const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		const unsigned char *p = (const unsigned char *)s + i;
		size_t k = *p >= 0x80 ? utf8_seq(p, n - i) : 1;

		FUZZ_CHECK(k, "text: invalid UTF-8 at %zu of '%.*s'", i, (int)n, s);
		FUZZ_CHECK(k > 1 || (*p >= 0x20 && *p != 0x7f), "text: byte %#x at %zu of '%.*s'",
			   *p, i, (int)n, s);
		FUZZ_CHECK(!(k == 2 && p[0] == 0xc2 && p[1] < 0xa0), "text: C1 control at %zu", i);
		FUZZ_CHECK(!(k == 3 && p[0] == 0xe2 && p[1] == 0x80 && (p[2] & 0xfe) == 0xa8),
			   "text: line separator at %zu", i);
		i += k;
	}
}

/* --- a strict JSON reader (RFC 8259): 0 at the end of a valid value, else -1 --- */

static void json_ws(const char **p)
{
	while (**p == ' ' || **p == '\t' || **p == '\r' || **p == '\n')
		(*p)++;
}

static int json_value(const char **p, int depth);

static int json_string(const char **p)
{
	const unsigned char *s = (const unsigned char *)*p;

	if (*s++ != '"')
		return -1;
	while (*s != '"') {
		if (*s < 0x20)
			return -1;
		if (*s == '\\') {
			s++;
			if (*s == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!strchr("0123456789abcdefABCDEF", s[i]) || !s[i])
						return -1;
				s += 5;
			} else if (*s && strchr("\"\\/bfnrt", *s)) {
				s++;
			} else {
				return -1;
			}
		} else if (*s >= 0x80) {
			size_t k = utf8_seq(s, 4);

			if (!k)
				return -1;
			s += k;
		} else {
			s++;
		}
	}
	*p = (const char *)s + 1;
	return 0;
}

static int json_number(const char **p)
{
	const char *s = *p;

	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		while (*s >= '0' && *s <= '9')
			s++;
	else
		return -1;
	if (*s == '.') {
		if (*++s < '0' || *s > '9')
			return -1;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (*s < '0' || *s > '9')
			return -1;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	*p = s;
	return 0;
}

static int json_members(const char **p, int depth, char close, int keyed)
{
	(*p)++;
	json_ws(p);
	if (**p == close) {
		(*p)++;
		return 0;
	}
	for (;;) {
		if (keyed) {
			if (json_string(p))
				return -1;
			json_ws(p);
			if (*(*p)++ != ':')
				return -1;
		}
		if (json_value(p, depth + 1))
			return -1;
		if (**p == close) {
			(*p)++;
			return 0;
		}
		if (*(*p)++ != ',')
			return -1;
		json_ws(p);
	}
}

static int json_value(const char **p, int depth)
{
	int rc;

	if (depth > 16)
		return -1;
	json_ws(p);
	switch (**p) {
	case '{':
		rc = json_members(p, depth, '}', 1);
		break;
	case '[':
		rc = json_members(p, depth, ']', 0);
		break;
	case '"':
		rc = json_string(p);
		break;
	default:
		if (!strncmp(*p, "true", 4) || !strncmp(*p, "null", 4))
			*p += 4, rc = 0;
		else if (!strncmp(*p, "false", 5))
			*p += 5, rc = 0;
		else
			rc = json_number(p);
	}
	json_ws(p);
	return rc;
}

/* --- a strict RFC 4180 reader of what the query wrote: records end with CR LF --- */

struct rec {
	char *f[NCOLS + 1];
	unsigned n;
};

/* The record at *p into r (fields NUL-terminated in place); 0, or -1 at a malformed one. */
static int csv_rec(char **p, char *end, struct rec *r)
{
	char *s = *p;

	r->n = 0;
	for (;;) {
		char *w = s;

		if (r->n > NCOLS)
			return -1;
		r->f[r->n++] = w;
		if (s < end && *s == '"') {
			for (s++;; s++) {
				if (s >= end)
					return -1;
				if (*s == '"') {
					if (s + 1 < end && s[1] == '"')
						s++;
					else
						break;
				}
				*w++ = *s;
			}
			s++;
		} else {
			while (s < end && *s != ',' && *s != '\r' && *s != '"' && *s != '\n')
				*w++ = *s++;
		}
		if (s < end && *s == ',') {
			*w = 0;
			s++;
			continue;
		}
		if (s + 1 < end && s[0] == '\r' && s[1] == '\n') {
			*w = 0;
			*p = s + 2;
			return 0;
		}
		return -1;
	}
}

/* q's output into a memory buffer: its text, length and row count. */
static char *run(const struct findings_query *q, size_t *len, __u64 *rows)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	int rc;

	if (!f)
		abort();
	rc = findings_run(rd, q, f, rows);
	FUZZ_CHECK(!rc, "findings_run: %d", rc);
	FUZZ_CHECK(!fclose(f), "memstream");
	return buf;
}

static void check_list(const struct findings_query *q, const struct row *sel, unsigned nsel)
{
	char *buf, *p, *end, ts[RFC3339_BUFSZ], want[4 * STR_MAX + 160], e[4 * STR_MAX + 8];
	size_t len;
	__u64 rows;
	unsigned i = 0;
	struct rec rec;

	buf = run(q, &len, &rows);
	FUZZ_CHECK(rows == nsel, "%llu rows listed, %u selected", (unsigned long long)rows, nsel);
	p = buf;
	end = buf + len;
	if (q->csv) {
		FUZZ_CHECK(!csv_rec(&p, end, &rec) && rec.n == NCOLS && !strcmp(rec.f[0], "time") &&
			       !strcmp(rec.f[NCOLS - 8], "last_time") &&
			       !strcmp(rec.f[NCOLS - 1], "action"),
			   "csv header");
		for (; p < end; i++) {
			const struct row *x = &sel[i];

			FUZZ_CHECK(i < nsel && !csv_rec(&p, end, &rec) && rec.n == NCOLS,
				   "csv record %u", i);
			rfc3339_format(x->t, ts, sizeof(ts));
			FUZZ_CHECK(
			    !strcmp(rec.f[0], ts) && !strcmp(rec.f[1], verdicts[x->verdict]) &&
				!strcmp(rec.f[2], x->subject) &&
				!strcmp(rec.f[5], x->has_rcpt ? x->rcpt : "") &&
				!strcmp(rec.f[9], x->has_host ? x->host : "") &&
				!strcmp(rec.f[14], x->comm) &&
				!strcmp(rec.f[NCOLS - 1], x->blocked ? "blocked" : "reported"),
			    "csv record %u: '%s' '%s' '%s' '%s' '%s' '%s' '%s'", i, rec.f[0],
			    rec.f[1], rec.f[2], rec.f[5], rec.f[9], rec.f[14], rec.f[NCOLS - 1]);
		}
	} else {
		for (; p < end; i++) {
			char *nl = memchr(p, '\n', (size_t)(end - p));
			const struct row *x = &sel[i];
			size_t n;

			FUZZ_CHECK(nl && i < nsel, "line %u: %s", i,
				   nl ? "one too many" : "no newline");
			n = (size_t)(nl - p);
			rfc3339_format(x->t, ts, sizeof(ts));
			if (q->fmt == FMT_JSONL) {
				const char *j = p;

				*nl = 0;
				snprintf(want, sizeof(want),
					 "{\"time\":\"%s\",\"verdict\":\"%s\",\"action\":\"%s\",",
					 ts, verdicts[x->verdict],
					 x->blocked ? "blocked" : "reported");
				FUZZ_CHECK(!strncmp(p, want, strlen(want)), "jsonl line %u: %s", i,
					   p);
				FUZZ_CHECK(!json_value(&j, 0) && j == nl,
					   "jsonl line %u is not one JSON value (at %zu): %s", i,
					   (size_t)(j - p), p);
			} else {
				check_text_line(p, n);
				*nl = 0;
				escaped(x->subject, e, sizeof(e));
				snprintf(want, sizeof(want), "%s %-11s %ssubject=%s fields=", ts,
					 verdicts[x->verdict], x->blocked ? "action=blocked " : "",
					 e);
				FUZZ_CHECK(!strncmp(p, want, strlen(want)), "text line %u: %s", i,
					   p);
				escaped(x->has_rcpt ? x->rcpt : "-", e, sizeof(e));
				snprintf(want, sizeof(want), " recipient=%s(", e);
				FUZZ_CHECK(strstr(p, want), "text line %u: no '%s': %s", i, want,
					   p);
			}
			p = nl + 1;
		}
	}
	FUZZ_CHECK(i == nsel, "%u lines, %u rows", i, nsel);
	free(buf);
}

/* One --count-by line read back: key, findings, subjects. 0 or -1 (malformed). */
static int count_rec(const struct findings_query *q, char **p, char *end, char **key, long long *n,
		     long long *ns)
{
	struct rec rec;
	char *nl, *sp, tail;

	if (q->csv) {
		if (csv_rec(p, end, &rec) || rec.n != (strcmp(q->count_by, "field") ? 3u : 2u))
			return -1;
		*key = rec.f[0];
		*ns = 0;
		return sscanf(rec.f[1], "%lld%c", n, &tail) == 1 &&
			       (rec.n == 2 || sscanf(rec.f[2], "%lld%c", ns, &tail) == 1)
			   ? 0
			   : -1;
	}
	nl = memchr(*p, '\n', (size_t)(end - *p));
	if (!nl)
		return -1;
	*nl = 0;
	check_text_line(*p, (size_t)(nl - *p));
	sp = strchr(*p, ' ');
	if (!sp || sp == *p)
		return -1;
	*sp = 0;
	*key = *p;
	*p = nl + 1;
	*ns = 0;
	if (!strcmp(q->count_by, "field"))
		return sscanf(sp + 1, " %lld%c", n, &tail) == 1 ? 0 : -1;
	return sscanf(sp + 1, " %lld findings, %lld subjects%c", n, ns, &tail) == 2 ? 0 : -1;
}

/* The key of row x for q->count_by, as the output writes it. */
static void row_key(const struct findings_query *q, const struct row *x, char *buf, size_t len)
{
	const char *k = !strcmp(q->count_by, "subject") ? x->subject
			: x->has_rcpt			? x->rcpt
			: q->csv			? ""
							: "(unknown)";

	if (q->csv)
		snprintf(buf, len, "%s", k);
	else
		escaped(k, buf, len);
}

static void check_counts(const struct findings_query *q, const struct row *sel, unsigned nsel)
{
	char *buf, *p, *end, *key, keys[MAX_ROWS][4 * STR_MAX + 8];
	int used[MAX_ROWS] = {0}, by_field = !strcmp(q->count_by, "field");
	int by_day = !strcmp(q->count_by, "day");
	long long n, ns, prev = LLONG_MAX, sum = 0;
	unsigned lines = 0, groups = 0;
	size_t len;
	__u64 rows;

	buf = run(q, &len, &rows);
	p = buf;
	end = buf + len;
	if (q->csv) {
		struct rec rec;

		FUZZ_CHECK(!csv_rec(&p, end, &rec) && !strcmp(rec.f[0], q->count_by),
			   "count csv header");
	}
	/* the distinct keys of the rows selected */
	for (unsigned i = 0; i < nsel && !by_field; i++) {
		unsigned k;

		if (by_day)
			snprintf(keys[i], sizeof(keys[i]), "%lld", (long long)(sel[i].t / NS_DAY));
		else
			row_key(q, &sel[i], keys[i], sizeof(keys[i]));
		for (k = 0; k < i && (used[k] < 0 || strcmp(keys[k], keys[i])); k++)
			;
		used[i] = k < i ? -1 : 0; /* -1: a repeat */
		groups += k == i;
	}
	while (p < end) {
		FUZZ_CHECK(!count_rec(q, &p, end, &key, &n, &ns), "count line %u malformed", lines);
		lines++;
		FUZZ_CHECK(n > 0 && n <= prev, "count line %u: %lld after %lld", lines, n, prev);
		if (by_field) {
			int f = field_parse(key);
			unsigned want = 0;

			FUZZ_CHECK(f > 0, "count line %u: field '%s'", lines, key);
			for (unsigned i = 0; i < nsel; i++)
				want += !!(sel[i].mask & FIELD_BIT(f));
			FUZZ_CHECK((unsigned long long)n == want, "field %s: %lld, %u in the model",
				   key, n, want);
			continue;
		}
		prev = n;
		sum += n;
		FUZZ_CHECK(ns >= 1 && ns <= n, "count line %u: %lld subjects of %lld", lines, ns,
			   n);
		if (by_day)
			continue;
		/* an unused group of this key and count */
		for (unsigned i = 0, c; i < nsel; i++) {
			if (used[i] || strcmp(keys[i], key))
				continue;
			c = 0;
			for (unsigned k = i; k < nsel; k++)
				c += !strcmp(keys[k], keys[i]);
			if ((long long)c != n)
				continue;
			used[i] = 1;
			key = NULL;
			break;
		}
		FUZZ_CHECK(!key, "count line %u: key '%s' (%lld) not a group of the model", lines,
			   key, n);
	}
	FUZZ_CHECK(lines == rows, "%u lines, %llu rows", lines, (unsigned long long)rows);
	if (!by_field) {
		FUZZ_CHECK(sum == nsel, "counts add up to %lld, %u rows selected", sum, nsel);
		FUZZ_CHECK(lines == groups, "%u groups, %u distinct keys", lines, groups);
	}
	free(buf);
}

/* The command line accepted: values the query takes. */
static void check_query(const struct findings_query *q)
{
	FUZZ_CHECK(!q->verdict || !strcmp(q->verdict, "unconsented") ||
		       !strcmp(q->verdict, "consented") || !strcmp(q->verdict, "exempt"),
		   "verdict '%s'", q->verdict);
	FUZZ_CHECK(!q->action || !strcmp(q->action, "reported") || !strcmp(q->action, "blocked"),
		   "action '%s'", q->action);
	FUZZ_CHECK(!q->count_by || !strcmp(q->count_by, "subject") ||
		       !strcmp(q->count_by, "recipient") || !strcmp(q->count_by, "field") ||
		       !strcmp(q->count_by, "day"),
		   "count-by '%s'", q->count_by);
	FUZZ_CHECK(q->field >= 0 && q->field < CS_F_MAX, "field %d", q->field);
	FUZZ_CHECK(q->fmt == FMT_TEXT || q->fmt == FMT_JSONL, "format %d", (int)q->fmt);
	FUZZ_CHECK(q->csv == 0 || q->csv == 1, "csv %d", q->csv);
}

static int row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	return x->t < y->t ? -1 : x->t > y->t; /* ties keep their order: see the caller */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 2), *args[MAX_ARGS + 2], *pool[MAX_ARGS + 16];
	struct findings_query q, before;
	struct row rows[MAX_ROWS], sel[MAX_ROWS];
	struct journal_stats st;
	const char *journal = NULL;
	unsigned argc = 1, npool = 0, nrows, nsel = 0;
	struct fuzz_rd rd_in;
	size_t i, rest;
	int rc;

	if (!copy)
		abort();
	memcpy(copy, data, size);
	copy[size] = copy[size + 1] = 0;
	/* the arguments: up to two NULs in a row */
	args[0] = "findings";
	for (i = 0; i < size && argc <= MAX_ARGS;) {
		size_t n = strlen(copy + i);

		if (!n)
			break;
		args[argc++] = copy + i;
		i += n + 1;
	}
	rest = i + 1 < size ? i + 1 : size;
	args[argc] = NULL;
	for (unsigned k = 1; k < argc; k++)
		pool[npool++] = args[k];
	for (unsigned k = 0; k < sizeof(fixed_strs) / sizeof(fixed_strs[0]); k++)
		pool[npool++] = (char *)fixed_strs[k];

	memset(&q, 0xa5, sizeof(q));
	before = q;
	rc = findings_args((int)argc, args, &q, &journal);
	FUZZ_CHECK(rc == 0 || rc == 1 || rc == -EINVAL, "findings_args: %d", rc);
	if (rc) {
		FUZZ_CHECK(!memcmp(&q, &before, sizeof(q)) && !journal,
			   "findings_args %d changed the query", rc);
		free(copy);
		return 0;
	}
	FUZZ_CHECK(journal != NULL, "no journal path");
	check_query(&q);

	/* the findings: a fresh journal's rows */
	FUZZ_CHECK(sqlite3_exec(rw, "DELETE FROM findings", NULL, NULL, NULL) == SQLITE_OK,
		   "delete: %s", sqlite3_errmsg(rw));
	rd_in = (struct fuzz_rd){data + rest, size - rest};
	nrows = fuzz_take(&rd_in) % (MAX_ROWS + 1);
	for (unsigned k = 0; k < nrows; k++)
		add_row(&rd_in, &q, pool, npool, &rows[k], k ? &rows[k - 1] : NULL);
	journal_commit(jw);
	journal_get_stats(jw, &st);
	written += nrows;
	FUZZ_CHECK(st.written == written && !st.lost && !st.errors,
		   "journal: %llu written (%llu expected), %llu lost",
		   (unsigned long long)st.written, (unsigned long long)written,
		   (unsigned long long)st.lost);
	for (unsigned k = 0; k < nrows; k++)
		if (selected(&q, &rows[k]))
			sel[nsel++] = rows[k];
	/* time order, ties in write order (ORDER BY time_ns, id): insertion sort is stable */
	for (unsigned k = 1; k < nsel; k++)
		for (unsigned j = k; j && row_cmp(&sel[j - 1], &sel[j]) > 0; j--) {
			struct row t = sel[j];

			sel[j] = sel[j - 1];
			sel[j - 1] = t;
		}

	/* the query as given, then in the other formats */
	for (int form = 0; form < 3; form++) {
		struct findings_query v = q;

		if (form == 1) {
			v.csv = !q.csv;
		} else if (form == 2) {
			if (q.count_by)
				break;
			v.csv = 0;
			v.fmt = q.fmt == FMT_TEXT ? FMT_JSONL : FMT_TEXT;
		}
		if (v.count_by)
			check_counts(&v, sel, nsel);
		else
			check_list(&v, sel, nsel);
	}
	free(copy);
	return 0;
}
