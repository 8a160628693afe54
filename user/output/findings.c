// SPDX-License-Identifier: GPL-2.0-only
/*
 * `consentry findings`: queries the journal (journal.h). Filters become bound parameters of one
 * SELECT that the journal's indexes answer (subject; recipient and day; time); --count-by groups.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "cli.h"
#include "lib/csv.h"
#include "lib/fields.h"
#include "output/findings.h"
#include "output/journal.h"
#include "lib/log.h"
#include "output/output.h"
#include "lib/timeutil.h"

#define NS_PER_DAY 86400000000000LL

/* A time option: RFC 3339, or a date (its midnight, UTC). 0 or -EINVAL (said). */
static int time_arg(const char *opt, const char *s, __s64 *ns)
{
	char buf[40];

	if (strlen(s) == 10 && snprintf(buf, sizeof(buf), "%sT00:00:00Z", s) > 0 &&
	    !rfc3339_parse(buf, ns))
		return 0;
	if (!rfc3339_parse(s, ns))
		return 0;
	pr_err("%s: expected an RFC 3339 time (2026-12-07T10:00:00Z) or a date (2026-12-07), got "
	       "'%s'",
	       opt, s);
	return -EINVAL;
}

int findings_query_opt(int opt, const char *arg, struct findings_query *q, const char **journal)
{
	switch (opt) {
	case 'j':
		*journal = arg;
		return 1;
	case FQ_OPT_SINCE:
		q->has_since = 1;
		return time_arg("--since", arg, &q->since) ?: 1;
	case FQ_OPT_UNTIL:
		q->has_until = 1;
		return time_arg("--until", arg, &q->until) ?: 1;
	case FQ_OPT_RCPT:
		q->recipient = arg;
		return 1;
	}
	return 0;
}

/* The WHERE clause of q and its parameters, bound by findings_bind in the same order. */
void findings_where(sqlite3 *db, const struct findings_query *q, char *buf, size_t len)
{
	size_t n = (size_t)snprintf(buf, len, " WHERE 1");

	if (q->subject)
		n += (size_t)snprintf(buf + n, len - n, " AND subject = ?");
	if (q->recipient)
		n += (size_t)snprintf(buf + n, len - n, " AND recipient = ?");
	if (q->verdict)
		n += (size_t)snprintf(buf + n, len - n, " AND verdict = ?");
	if (q->action)
		n += (size_t)snprintf(buf + n, len - n, " AND %s = ?", findings_action_expr(db));
	if (q->field)
		n += (size_t)snprintf(buf + n, len - n, " AND (field_mask & ?) != 0");
	/* day as well as time: the (recipient, day) index narrows before the time test */
	if (q->has_since)
		n += (size_t)snprintf(buf + n, len - n, " AND day >= ? AND time_ns >= ?");
	if (q->has_until)
		snprintf(buf + n, len - n, " AND day <= ? AND time_ns < ?");
}

int findings_bind(const struct findings_query *q, sqlite3_stmt *s, int i)
{
	if (q->subject)
		sqlite3_bind_text(s, i++, q->subject, -1, SQLITE_STATIC);
	if (q->recipient)
		sqlite3_bind_text(s, i++, q->recipient, -1, SQLITE_STATIC);
	if (q->verdict)
		sqlite3_bind_text(s, i++, q->verdict, -1, SQLITE_STATIC);
	if (q->action)
		sqlite3_bind_text(s, i++, q->action, -1, SQLITE_STATIC);
	if (q->field)
		sqlite3_bind_int64(s, i++, FIELD_BIT(q->field));
	if (q->has_since) {
		sqlite3_bind_int64(s, i++, q->since / NS_PER_DAY);
		sqlite3_bind_int64(s, i++, q->since);
	}
	if (q->has_until) {
		sqlite3_bind_int64(s, i++, q->until / NS_PER_DAY);
		sqlite3_bind_int64(s, i++, q->until);
	}
	return i;
}

static const char list_cols[] =
    "time_ns, verdict, subject, fields, unconsented, recipient, recipient_kind, dst_ip, dst_port,"
    " host, protocol, pid, tid, uid, comm, exe, cgroup, container_id, pod_uid, pod_namespace,"
    " pod_name, channel, consent_ids,"
    " fingerprints, encodings, bytes_inspected, bytes_total, truncated, message_id,"
    " message_subjects, http_version, http_method, http_path";
/* then the row's count and last time: columns of version 2, constants for version 1 rows */
static const char count_cols_v2[] = "count, COALESCE(last_ns, time_ns)";
static const char count_cols_v1[] = "1, time_ns";
/* then the spec §7 columns of version 3; unknown (NULL) in older rows */
static const char law_cols_v3[] = "purpose, country, cross_border, sensitive, minor, violations";
static const char law_cols_old[] = "NULL, NULL, NULL, NULL, NULL, ''";
/* then the action (findings_action_expr) */
enum {
	C_TIME,
	C_VERDICT,
	C_SUBJECT,
	C_FIELDS,
	C_UNCONS,
	C_RCPT,
	C_KIND,
	C_IP,
	C_PORT,
	C_HOST,
	C_PROTO,
	C_PID,
	C_TID,
	C_UID,
	C_COMM,
	C_EXE,
	C_CGROUP,
	C_CID,
	C_POD_UID,
	C_POD_NS,
	C_POD_NAME,
	C_CHANNEL,
	C_IDS,
	C_FPS,
	C_ENCS,
	C_INSP,
	C_TOTAL,
	C_TRUNC,
	C_MSG,
	C_MSGSUBJ,
	C_HVER,
	C_HMETHOD,
	C_HPATH,
	C_COUNT,
	C_LAST,
	C_PURPOSE,
	C_COUNTRY,
	C_XBORDER,
	C_SENSITIVE,
	C_MINOR,
	C_VIOL,
	C_ACTION,
	C_N
};

/* The disclosures a row stands for (run --dedup merged several), in SQL: 1 in version 1. */
const char *findings_count_expr(sqlite3 *db)
{
	return journal_schema(db) == 1 ? "1" : "count";
}

/* Rows of a journal older than version 4 are all of sends that went out (no block mode then). */
const char *findings_action_expr(sqlite3 *db)
{
	return journal_schema(db) >= 4 ? "action" : "'reported'";
}

static const char *col_text(sqlite3_stmt *s, int c)
{
	return (const char *)sqlite3_column_text(s, c);
}

/* A comma list column as a JSON array of strings. */
static void json_list(FILE *f, const char *s)
{
	int first = 1;

	fputc('[', f);
	for (const char *p = s ? s : ""; *p;) {
		size_t n = strcspn(p, ",");
		char item[256];

		snprintf(item, sizeof(item), "%.*s", (int)n, p);
		if (!first)
			fputc(',', f);
		json_str(f, item);
		first = 0;
		p += n + (p[n] == ',');
	}
	fputc(']', f);
}

/* An integer column as a JSON boolean, null when NULL. */
static const char *json_bool(sqlite3_stmt *s, int c)
{
	if (sqlite3_column_type(s, c) == SQLITE_NULL)
		return "null";
	return sqlite3_column_int(s, c) ? "true" : "false";
}

static void print_jsonl(FILE *f, sqlite3_stmt *s)
{
	char ts[RFC3339_BUFSZ], last[RFC3339_BUFSZ];

	rfc3339_format(sqlite3_column_int64(s, C_TIME), ts, sizeof(ts));
	fprintf(f, "{\"time\":\"%s\",\"verdict\":", ts);
	json_str(f, col_text(s, C_VERDICT));
	fputs(",\"action\":", f);
	json_str(f, col_text(s, C_ACTION));
	fputs(",\"subject\":", f);
	json_str(f, col_text(s, C_SUBJECT));
	fputs(",\"fields\":", f);
	json_list(f, col_text(s, C_FIELDS));
	fputs(",\"unconsented_fields\":", f);
	json_list(f, col_text(s, C_UNCONS));
	fputs(",\"violations\":", f);
	json_list(f, col_text(s, C_VIOL));
	fputs(",\"recipient\":", f);
	json_str(f, col_text(s, C_RCPT));
	fputs(",\"recipient_kind\":", f);
	json_str(f, col_text(s, C_KIND));
	/* spec §7, as the monitor writes them; null where an older journal knew nothing */
	fputs(",\"purpose\":", f);
	json_str(f, col_text(s, C_PURPOSE));
	fputs(",\"sensitive_fields\":", f);
	if (col_text(s, C_SENSITIVE))
		json_list(f, col_text(s, C_SENSITIVE));
	else
		fputs("null", f);
	fprintf(f, ",\"minor\":%s,\"cross_border\":%s", json_bool(s, C_MINOR),
		json_bool(s, C_XBORDER));
	fputs(",\"destination\":{\"ip\":", f);
	json_str(f, col_text(s, C_IP));
	fprintf(f, ",\"port\":%d,\"host\":", sqlite3_column_int(s, C_PORT));
	json_str(f, col_text(s, C_HOST));
	fputs(",\"country\":", f);
	json_str(f, col_text(s, C_COUNTRY));
	fputs(",\"protocol\":", f);
	json_str(f, col_text(s, C_PROTO));
	fprintf(f, "},\"process\":{\"pid\":%lld,\"tid\":%lld,\"comm\":",
		(long long)sqlite3_column_int64(s, C_PID),
		(long long)sqlite3_column_int64(s, C_TID));
	json_str(f, col_text(s, C_COMM));
	fputs(",\"exe\":", f);
	json_str(f, col_text(s, C_EXE));
	fprintf(f, ",\"uid\":%lld,\"cgroup\":", (long long)sqlite3_column_int64(s, C_UID));
	json_str(f, col_text(s, C_CGROUP));
	fputs(",\"container_id\":", f);
	json_str(f, col_text(s, C_CID));
	fputs(",\"pod_uid\":", f);
	json_str(f, col_text(s, C_POD_UID));
	fputs(",\"pod_namespace\":", f);
	json_str(f, col_text(s, C_POD_NS));
	fputs(",\"pod_name\":", f);
	json_str(f, col_text(s, C_POD_NAME));
	fputs("},\"channel\":", f);
	json_str(f, col_text(s, C_CHANNEL));
	fputs(",\"consent_ids\":", f);
	json_list(f, col_text(s, C_IDS));
	fputs(",\"evidence\":{\"fingerprints\":", f);
	json_list(f, col_text(s, C_FPS));
	fputs(",\"encodings\":", f);
	json_list(f, col_text(s, C_ENCS));
	fprintf(f, ",\"bytes_inspected\":%lld,\"bytes_total\":%lld,\"truncated\":%s}",
		(long long)sqlite3_column_int64(s, C_INSP),
		(long long)sqlite3_column_int64(s, C_TOTAL),
		sqlite3_column_int(s, C_TRUNC) ? "true" : "false");
	fputs(",\"message\":{\"id\":", f);
	json_str(f, col_text(s, C_MSG));
	fprintf(f, ",\"subjects\":%d,\"bytes\":%lld,\"http\":", sqlite3_column_int(s, C_MSGSUBJ),
		(long long)sqlite3_column_int64(s, C_TOTAL));
	if (sqlite3_column_type(s, C_HMETHOD) == SQLITE_NULL) {
		fputs("null}", f);
	} else {
		fputs("{\"version\":", f);
		json_str(f, col_text(s, C_HVER));
		fputs(",\"method\":", f);
		json_str(f, col_text(s, C_HMETHOD));
		fputs(",\"path\":", f);
		json_str(f, col_text(s, C_HPATH));
		fputs("}}", f);
	}
	/* as run --dedup writes them: the disclosures the row stands for, first and last time */
	rfc3339_format(sqlite3_column_int64(s, C_LAST), last, sizeof(last));
	fprintf(f, ",\"count\":%lld,\"first_time\":\"%s\",\"last_time\":\"%s\"}\n",
		(long long)sqlite3_column_int64(s, C_COUNT), ts, last);
}

/* The CSV header: the column names of list_cols, times named as print_row writes them (RFC
 * 3339: time, last_time), then count, the §7 columns and the action. */
static void csv_header(FILE *f)
{
	for (const char *p = list_cols; *p;) {
		size_t n;

		p += strspn(p, " ");
		n = strcspn(p, ",");
		if (p == list_cols)
			fputs("time", f);
		else
			fprintf(f, ",%.*s", (int)n, p);
		p += n + (p[n] == ',');
	}
	fputs(",count,last_time,purpose,country,cross_border,sensitive,minor,violations,action\r\n",
	      f);
}

static void print_row(FILE *f, sqlite3_stmt *s, enum out_format fmt, int csv)
{
	char ts[RFC3339_BUFSZ];

	if (csv) {
		rfc3339_format(sqlite3_column_int64(s, C_TIME), ts, sizeof(ts));
		csv_write_field(f, ts, ",");
		for (int c = 1; c < C_LAST; c++)
			csv_write_field(f, col_text(s, c), ",");
		rfc3339_format(sqlite3_column_int64(s, C_LAST), ts, sizeof(ts));
		csv_write_field(f, ts, ",");
		for (int c = C_PURPOSE; c < C_N; c++)
			csv_write_field(f, col_text(s, c), c + 1 < C_N ? "," : "\r\n");
		return;
	}
	if (fmt == FMT_JSONL) {
		print_jsonl(f, s);
		return;
	}
	rfc3339_format(sqlite3_column_int64(s, C_TIME), ts, sizeof(ts));
	/* subject ids and recipient names are written as the monitor's text lines write them:
	 * a space, a control or a comma of theirs does not forge or break a line (text_str) */
	fprintf(f, "%s %-11s ", ts, col_text(s, C_VERDICT));
	/* as the monitor's text lines: a refused send says so next to its verdict */
	if (!strcmp(col_text(s, C_ACTION), "blocked"))
		fputs("action=blocked ", f);
	fputs("subject=", f);
	text_str(f, col_text(s, C_SUBJECT));
	fprintf(f, " fields=%s", col_text(s, C_FIELDS));
	if (*col_text(s, C_UNCONS))
		fprintf(f, " unconsented=%s", col_text(s, C_UNCONS));
	if (*col_text(s, C_VIOL))
		fprintf(f, " violations=%s", col_text(s, C_VIOL));
	fputs(" recipient=", f);
	text_str(f, col_text(s, C_RCPT) ? col_text(s, C_RCPT) : "-");
	fprintf(f, "(%s) dest=%s:%d", col_text(s, C_KIND), col_text(s, C_IP),
		sqlite3_column_int(s, C_PORT));
	if (col_text(s, C_HOST)) {
		fputs(" host=", f);
		text_str(f, col_text(s, C_HOST));
	}
	fputs(" comm=", f);
	text_str(f, col_text(s, C_COMM));
	fprintf(f, " pid=%lld channel=%s msg=%s", (long long)sqlite3_column_int64(s, C_PID),
		col_text(s, C_CHANNEL), col_text(s, C_MSG));
	/* a row run --dedup merged: "x3 FIRST..LAST", as the run's text findings */
	if (sqlite3_column_int64(s, C_COUNT) > 1) {
		char last[RFC3339_BUFSZ];

		rfc3339_format(sqlite3_column_int64(s, C_LAST), last, sizeof(last));
		fprintf(f, " x%lld %s..%s", (long long)sqlite3_column_int64(s, C_COUNT), ts, last);
	}
	fputc('\n', f);
}

/* --count-by: the GROUP BY expression, or NULL (field: one pass per field type instead). */
static const char *count_expr(const char *by)
{
	if (!strcmp(by, "subject"))
		return "subject";
	if (!strcmp(by, "recipient"))
		return "recipient";
	if (!strcmp(by, "day"))
		return "day";
	return NULL;
}

/*
 * A --count-by line: the key (a subject id or recipient name as text_str writes it, a CSV
 * field), the findings and the distinct subjects (columns 1 and 2 of s).
 */
static void count_line(FILE *out, const struct findings_query *q, const char *key, sqlite3_stmt *s)
{
	if (q->csv) {
		csv_write_field(out, key, ",");
		fprintf(out, "%lld,%lld\r\n", (long long)sqlite3_column_int64(s, 1),
			(long long)sqlite3_column_int64(s, 2));
		return;
	}
	for (size_t n = text_str(out, key); n < 24; n++)
		fputc(' ', out);
	fprintf(out, " %lld findings, %lld subjects\n", (long long)sqlite3_column_int64(s, 1),
		(long long)sqlite3_column_int64(s, 2));
}

int findings_run(sqlite3 *db, const struct findings_query *q, FILE *out, __u64 *rows)
{
	char sql[2048], where[512];
	sqlite3_stmt *s = NULL;
	const char *cnt = findings_count_expr(db);
	int rc;

	*rows = 0;
	findings_where(db, q, where, sizeof(where));
	/* counts are of disclosures: a row run --dedup merged counts its count */
	if (q->count_by && !strcmp(q->count_by, "field")) {
		snprintf(sql, sizeof(sql),
			 "SELECT COALESCE(SUM(%s), 0) FROM findings%s AND (field_mask & ?) != 0",
			 cnt, where);
		if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
			goto err;
		if (q->csv)
			fputs("field,findings\r\n", out);
		for (int f = 1; f < CS_F_MAX; f++) {
			sqlite3_reset(s);
			sqlite3_bind_int64(s, findings_bind(q, s, 1), FIELD_BIT(f));
			if (sqlite3_step(s) != SQLITE_ROW)
				goto err;
			if (!sqlite3_column_int64(s, 0))
				continue;
			fprintf(out, q->csv ? "%s,%lld\r\n" : "%-24s %lld\n", field_name(f),
				(long long)sqlite3_column_int64(s, 0));
			(*rows)++;
		}
		sqlite3_finalize(s);
		return 0;
	}
	if (q->count_by)
		snprintf(sql, sizeof(sql),
			 "SELECT %s, SUM(%s), COUNT(DISTINCT subject) FROM findings%s GROUP BY 1 "
			 "ORDER BY 2 DESC, 1",
			 count_expr(q->count_by), cnt, where);
	else
		snprintf(sql, sizeof(sql),
			 "SELECT %s, %s, %s, %s FROM findings%s ORDER BY time_ns, id", list_cols,
			 journal_schema(db) == 1 ? count_cols_v1 : count_cols_v2,
			 journal_schema(db) >= 3 ? law_cols_v3 : law_cols_old,
			 findings_action_expr(db), where);
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		goto err;
	findings_bind(q, s, 1);
	if (q->count_by && q->csv)
		fprintf(out, "%s,findings,subjects\r\n", q->count_by);
	else if (q->csv)
		csv_header(out);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		(*rows)++;
		if (!q->count_by) {
			print_row(out, s, q->fmt, q->csv);
			continue;
		}
		if (!strcmp(q->count_by, "day")) {
			char ts[RFC3339_BUFSZ];

			rfc3339_format(sqlite3_column_int64(s, 0) * NS_PER_DAY, ts, sizeof(ts));
			ts[10] = 0;
			count_line(out, q, ts, s);
		} else {
			const char *k = col_text(s, 0);

			count_line(out, q, k ? k : (q->csv ? "" : "(unknown)"), s);
		}
	}
	if (rc != SQLITE_DONE)
		goto err;
	sqlite3_finalize(s);
	return 0;
err:
	pr_err("journal query failed: %s", sqlite3_errmsg(db));
	sqlite3_finalize(s);
	return -EIO;
}

static void findings_usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: consentry findings [-j JOURNAL] [--subject ID] [--recipient NAME]\n"
	    "                          [--verdict V] [--action A] [--field F]\n"
	    "                          [--since T] [--until T]\n"
	    "                          [--format text|jsonl|csv]\n"
	    "                          [--count-by subject|recipient|field|day]\n"
	    "Query the findings journal that `consentry run --journal` writes.\n"
	    "  -j, --journal PATH   the journal (default %s)\n"
	    "      --subject ID     findings of this data subject\n"
	    "      --recipient NAME findings disclosed to this recipient (recipients.csv name)\n"
	    "      --verdict V      unconsented, consented or exempt\n"
	    "      --action A       reported, or blocked (sends run --block refused)\n"
	    "      --field F        findings that disclosed this field type (phone, email, ...)\n"
	    "      --since T        at or after T (RFC 3339, or a date: its midnight UTC)\n"
	    "      --until T        before T\n"
	    "      --format FMT     text (default), jsonl (the finding's keys, spec §4) or csv\n"
	    "      --count-by KEY   counts per subject, recipient, field type or day (UTC)\n",
	    JOURNAL_DEFAULT);
}

int findings_args(int argc, char **argv, struct findings_query *out, const char **journal)
{
	enum { OPT_SUBJECT = FQ_OPT_NEXT, OPT_VERDICT, OPT_ACTION, OPT_FIELD, OPT_FMT, OPT_COUNT };
	static const struct option opts[] = {
	    FINDINGS_QUERY_OPTIONS,
	    {"subject", required_argument, NULL, OPT_SUBJECT},
	    {"verdict", required_argument, NULL, OPT_VERDICT},
	    {"action", required_argument, NULL, OPT_ACTION},
	    {"field", required_argument, NULL, OPT_FIELD},
	    {"format", required_argument, NULL, OPT_FMT},
	    {"count-by", required_argument, NULL, OPT_COUNT},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	static const struct cli_word verdict_words[] = {
	    {"unconsented", 0}, {"consented", 0}, {"exempt", 0}};
	static const struct cli_word action_words[] = {{"reported", 0}, {"blocked", 0}};
	struct findings_query q = {.fmt = FMT_TEXT};
	const char *path = JOURNAL_DEFAULT;
	int opt, err, word;

	/* 0, not 1: glibc's getopt starts over only then (a cluster such as -hX left half read
	 * by an earlier call would be read on, from an argv that may be gone) */
	optind = 0;
	while ((opt = getopt_long(argc, argv, "j:h", opts, NULL)) != -1) {
		err = findings_query_opt(opt, optarg, &q, &path);
		if (err < 0)
			return -EINVAL;
		if (err)
			continue;
		switch (opt) {
		case OPT_SUBJECT:
			q.subject = optarg;
			break;
		case OPT_VERDICT:
			if (PARSE_WORD("--verdict", optarg, verdict_words, &word))
				return -EINVAL;
			q.verdict = optarg;
			break;
		case OPT_ACTION:
			if (PARSE_WORD("--action", optarg, action_words, &word))
				return -EINVAL;
			q.action = optarg;
			break;
		case OPT_FIELD:
			q.field = field_parse(optarg);
			if (!q.field) {
				pr_err("--field: unknown field type '%s'", optarg);
				return -EINVAL;
			}
			break;
		case OPT_FMT:
			if (!strcmp(optarg, "csv")) {
				q.csv = 1;
			} else if (strcmp(optarg, "ocsf") && !output_format_parse(optarg, &q.fmt)) {
				q.csv = 0;
			} else {
				pr_err("--format: expected text, jsonl or csv, got '%s'", optarg);
				return -EINVAL;
			}
			break;
		case OPT_COUNT:
			if (!count_expr(optarg) && strcmp(optarg, "field")) {
				pr_err("--count-by: expected subject, recipient, field or day, got "
				       "'%s'",
				       optarg);
				return -EINVAL;
			}
			q.count_by = optarg;
			break;
		case 'h':
			return 1;
		default:
			findings_usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		pr_err("unexpected argument '%s'", argv[optind]);
		return -EINVAL;
	}
	*out = q;
	*journal = path;
	return 0;
}

int cmd_findings(int argc, char **argv)
{
	struct findings_query q;
	const char *path;
	sqlite3 *db;
	__u64 rows;
	int err;

	err = findings_args(argc, argv, &q, &path);
	if (err == 1)
		findings_usage(stdout);
	if (err)
		return err < 0 ? 2 : 0;
	err = journal_open_ro(&db, path);
	if (err)
		return 2;
	err = findings_run(db, &q, stdout, &rows);
	sqlite3_close(db);
	if (fflush(stdout) || ferror(stdout))
		return 1;
	return err ? 1 : 0;
}
