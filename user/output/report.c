// SPDX-License-Identifier: GPL-2.0-only
/*
 * `consentry report`: the breach-notification view of the journal. For each recipient, the
 * subjects whose data went to it without consent (verdict unconsented), with the fields, the
 * first and last time, the count and how many of them run --block refused: as CSV (one row per
 * recipient and subject, for the letters) and as one self-contained HTML page (inline CSS and SVG,
 * no script, no network): a timeline of findings per hour by recipient, then a table per recipient.
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sqlite3.h>

#include "cli.h"
#include "lib/csv.h"
#include "lib/fields.h"
#include "output/findings.h"
#include "output/journal.h"
#include "lib/log.h"
#include "lib/timeutil.h"

#define NS_PER_HOUR 3600000000000LL
#define MAX_HOURS   (24 * 366) /* longer spans are drawn per day */
#define MAX_SERIES  12	       /* recipients drawn one by one; the rest summed as "others" */

/* One recipient's affected subject. */
struct affected {
	char *recipient, *kind, *subject;
	__u32 fields;
	__s64 first, last;
	__u64 count;
	__u64 blocked; /* of count, sends the kernel refused (run --block) */
};

/* Findings of one hour, per series: the first MAX_SERIES recipients, then the others. */
struct hour {
	__s64 hour; /* time_ns / NS_PER_HOUR; INT64_MIN: a free slot */
	__u64 n[MAX_SERIES + 1];
};

struct report {
	struct affected *a;
	size_t n, cap;
	__s64 t_min, t_max;
	/* the timeline, counted in the same pass as the tables: hours hashed, open addressing */
	const char *series[MAX_SERIES];
	unsigned nseries;
	struct hour *hours;
	size_t nhours, hmask; /* hmask + 1 slots, at most half used */
};

/* The slot of hour h (found, or the free one where it goes). */
static struct hour *hour_slot(const struct report *r, __s64 h)
{
	size_t i = (size_t)((__u64)h * 0x9e3779b97f4a7c15ULL >> 20) & r->hmask;

	while (r->hours[i].hour != INT64_MIN && r->hours[i].hour != h)
		i = (i + 1) & r->hmask;
	return &r->hours[i];
}

/* n more findings of series k at time t. 0 or -ENOMEM. */
static int hour_add(struct report *r, unsigned k, __s64 t, __u64 n)
{
	__s64 h = t >= 0 ? t / NS_PER_HOUR : -((-t - 1) / NS_PER_HOUR) - 1;
	struct hour *x;

	if (!r->hours || 2 * (r->nhours + 1) > r->hmask + 1) {
		size_t slots = r->hours ? 2 * (r->hmask + 1) : 1024;
		struct hour *old = r->hours, *p = malloc(slots * sizeof(*p));
		size_t oslots = old ? r->hmask + 1 : 0;

		if (!p)
			return -ENOMEM;
		for (size_t i = 0; i < slots; i++)
			p[i].hour = INT64_MIN;
		r->hours = p;
		r->hmask = slots - 1;
		for (size_t i = 0; i < oslots; i++)
			if (old[i].hour != INT64_MIN)
				*hour_slot(r, old[i].hour) = old[i];
		free(old);
	}
	x = hour_slot(r, h);
	if (x->hour == INT64_MIN) {
		memset(x, 0, sizeof(*x));
		x->hour = h;
		r->nhours++;
	}
	x->n[k] += n;
	return 0;
}

/* A row: n findings (run --dedup merged them) from t to last, blocked of them refused. */
static int report_add(struct report *r, const char *rcpt, const char *kind, const char *subject,
		      __u32 mask, __s64 t, __s64 last, __u64 n, __u64 blocked)
{
	struct affected *x = r->n ? &r->a[r->n - 1] : NULL;

	if (x && !strcmp(x->recipient, rcpt) && !strcmp(x->subject, subject)) {
		x->fields |= mask;
		x->last = last > x->last ? last : x->last;
		x->first = t < x->first ? t : x->first;
		x->count += n;
		x->blocked += blocked;
		return 0;
	}
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 256;
		struct affected *p = realloc(r->a, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		r->a = p;
		r->cap = cap;
	}
	x = &r->a[r->n];
	x->recipient = strdup(rcpt);
	x->kind = strdup(kind);
	x->subject = strdup(subject);
	if (!x->recipient || !x->kind || !x->subject) {
		free(x->recipient);
		free(x->kind);
		free(x->subject);
		return -ENOMEM;
	}
	x->fields = mask;
	x->first = t;
	x->last = last;
	x->count = n;
	x->blocked = blocked;
	r->n++;
	return 0;
}

static void report_free(struct report *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->a[i].recipient);
		free(r->a[i].kind);
		free(r->a[i].subject);
	}
	free(r->a);
	free(r->hours);
}

/*
 * The unconsented findings q selects, grouped by recipient and subject, and counted per hour and
 * recipient for the timeline: one read of the journal. 0 or -errno (said).
 */
static int report_load(sqlite3 *db, const struct findings_query *q, struct report *r)
{
	char sql[1024], where[512];
	sqlite3_stmt *s;
	int rc, err = 0;
	int v1 = journal_schema(db) == 1;

	findings_where(db, q, where, sizeof(where));
	/* a row run --dedup merged counts its count, from its time to its last_ns */
	snprintf(sql, sizeof(sql),
		 "SELECT COALESCE(recipient, '(unknown)'), recipient_kind, subject, field_mask, "
		 "time_ns, %s, %s, %s = 'blocked' FROM findings%s AND verdict = 'unconsented' "
		 "ORDER BY 1, 3",
		 v1 ? "time_ns" : "COALESCE(last_ns, time_ns)", findings_count_expr(db),
		 findings_action_expr(db), where);
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
		pr_err("journal query failed: %s", sqlite3_errmsg(db));
		return -EIO;
	}
	findings_bind(q, s, 1);
	r->t_min = INT64_MAX;
	r->t_max = INT64_MIN;
	while (!err && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		__s64 t = sqlite3_column_int64(s, 4), last = sqlite3_column_int64(s, 5);
		__u64 n = (__u64)sqlite3_column_int64(s, 6);
		size_t before = r->n;

		err = report_add(r, (const char *)sqlite3_column_text(s, 0),
				 (const char *)sqlite3_column_text(s, 1),
				 (const char *)sqlite3_column_text(s, 2),
				 (__u32)sqlite3_column_int64(s, 3), t, last, n,
				 sqlite3_column_int(s, 7) ? n : 0);
		if (err)
			break;
		/* rows come by recipient: a new one is the next series while there is room */
		if (r->n > before && r->nseries < MAX_SERIES &&
		    (!r->nseries || strcmp(r->series[r->nseries - 1], r->a[r->n - 1].recipient)))
			r->series[r->nseries++] = r->a[r->n - 1].recipient;
		err = hour_add(r,
			       r->nseries &&
				       !strcmp(r->series[r->nseries - 1], r->a[r->n - 1].recipient)
				   ? r->nseries - 1
				   : MAX_SERIES,
			       t, n);
		r->t_min = t < r->t_min ? t : r->t_min;
		r->t_max = last > r->t_max ? last : r->t_max;
	}
	if (!err && rc != SQLITE_DONE) {
		pr_err("journal query failed: %s", sqlite3_errmsg(db));
		err = -EIO;
	}
	if (err == -ENOMEM)
		pr_err("report: out of memory");
	sqlite3_finalize(s);
	return err;
}

static int write_csv(FILE *f, const struct report *r)
{
	char fl[160], t1[RFC3339_BUFSZ], t2[RFC3339_BUFSZ];

	fputs("recipient,recipient_kind,subject,fields,first_time,last_time,findings,blocked\r\n",
	      f);
	for (size_t i = 0; i < r->n; i++) {
		const struct affected *x = &r->a[i];

		fields_join(x->fields, ",", fl, sizeof(fl));
		rfc3339_format(x->first, t1, sizeof(t1));
		rfc3339_format(x->last, t2, sizeof(t2));
		csv_write_field(f, x->recipient, ",");
		csv_write_field(f, x->kind, ",");
		csv_write_field(f, x->subject, ",");
		csv_write_field(f, fl, ",");
		fprintf(f, "%s,%s,%llu,%llu\r\n", t1, t2, (unsigned long long)x->count,
			(unsigned long long)x->blocked);
	}
	return ferror(f) ? -EIO : 0;
}

/* Text for HTML: & < > " escaped. */
static void html_str(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

static const char *const palette[MAX_SERIES + 1] = {
    "#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
    "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#637939", "#aaaaaa"};

/*
 * The timeline: unconsented findings per hour (per day past MAX_HOURS) of each recipient, a
 * polyline each, in an inline SVG, from the hours report_load counted.
 */
/* Plot coordinates of bucket b of nb, and of a count of ymax at most, in a plot of height h. */
static double svg_x(unsigned b, unsigned nb, int left, int width)
{
	return left +
	       (nb > 1 ? (double)b * (width - left - 10) / (nb - 1) : (width - left - 10) / 2.0);
}

static double svg_y(__u64 v, __u64 ymax, int h)
{
	return h - (double)v * (h - 10) / (double)ymax;
}

static int write_svg(FILE *f, const struct report *r)
{
	const int W = 960, H = 300, L = 50, B = 30;
	const char *const *names = r->series;
	unsigned nser = r->nseries, nb;
	__s64 step = NS_PER_HOUR, t0, h0, h1;
	__u64 *cnt, ymax = 1;

	/* the hours seen, as buckets of an hour (or of a day past MAX_HOURS) from t0 */
	h0 = INT64_MAX;
	h1 = INT64_MIN;
	for (size_t i = 0; i <= r->hmask; i++)
		if (r->hours[i].hour != INT64_MIN) {
			h0 = r->hours[i].hour < h0 ? r->hours[i].hour : h0;
			h1 = r->hours[i].hour > h1 ? r->hours[i].hour : h1;
		}
	t0 = h0 * NS_PER_HOUR;
	nb = (unsigned)(h1 - h0) + 1;
	if (h1 - h0 >= MAX_HOURS) {
		step = 24 * NS_PER_HOUR;
		h0 = h0 >= 0 ? h0 / 24 * 24 : -((-h0 + 23) / 24) * 24;
		t0 = h0 * NS_PER_HOUR;
		nb = (unsigned)((h1 - h0) / 24) + 1;
	}
	cnt = calloc((size_t)nb * (MAX_SERIES + 1), sizeof(*cnt));
	if (!cnt)
		return -ENOMEM;
	for (size_t i = 0; i <= r->hmask; i++) {
		const struct hour *x = &r->hours[i];
		unsigned b;

		if (x->hour == INT64_MIN)
			continue;
		b = (unsigned)((x->hour - h0) * NS_PER_HOUR / step);
		for (unsigned k = 0; k <= MAX_SERIES; k++)
			if ((cnt[(size_t)k * nb + b] += x->n[k]) > ymax)
				ymax = cnt[(size_t)k * nb + b];
	}
	fprintf(f,
		"<svg id=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
		"height=\"%d\" role=\"img\" aria-label=\"unconsented findings per %s by "
		"recipient\">\n<rect x=\"%d\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#fafafa\" "
		"stroke=\"#999\"/>\n",
		W, H + 40, step == NS_PER_HOUR ? "hour" : "day", L, W - L - 10, H - B);
	fprintf(f,
		"<text x=\"4\" y=\"14\" font-size=\"11\">%llu</text>"
		"<text x=\"4\" y=\"%d\" font-size=\"11\">0</text>\n",
		(unsigned long long)ymax, H - B);
	{
		char a[RFC3339_BUFSZ], z[RFC3339_BUFSZ];

		/* the time axis: the first and the last bucket's start, to the minute */
		rfc3339_format(t0, a, sizeof(a));
		rfc3339_format(t0 + (__s64)(nb - 1) * step, z, sizeof(z));
		fprintf(
		    f,
		    "<text x=\"%d\" y=\"%d\" font-size=\"11\">%.16s</text>"
		    "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\">%.16s</text>\n",
		    L, H - B + 14, a, W - 10, H - B + 14, z);
	}
	for (unsigned k = 0; k <= nser; k++) {
		int any = 0;

		for (unsigned b = 0; b < nb && !any; b++)
			any = cnt[(size_t)k * nb + b] != 0;
		if (!any)
			continue;
		fprintf(f,
			"<polyline class=\"series\" fill=\"none\" stroke-width=\"3\" stroke=\"%s\" "
			"points=\"",
			palette[k]);
		for (unsigned b = 0; b < nb; b++)
			fprintf(f, "%.1f,%.1f ", svg_x(b, nb, L, W),
				svg_y(cnt[(size_t)k * nb + b], ymax, H - B));
		fputs("\"/>\n", f);
		/* a marker on every hour with findings: a lone hour is a point, not a line */
		for (unsigned b = 0; b < nb; b++)
			if (cnt[(size_t)k * nb + b])
				fprintf(f,
					"<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\"/>\n",
					svg_x(b, nb, L, W),
					svg_y(cnt[(size_t)k * nb + b], ymax, H - B), palette[k]);
	}
	/* the legend: the series drawn, and "others" when recipients past MAX_SERIES had some */
	for (unsigned k = 0; k <= nser; k++) {
		int any = k < nser;

		for (unsigned b = 0; b < nb && !any; b++)
			any = cnt[(size_t)k * nb + b] != 0;
		if (!any)
			continue;
		fprintf(f,
			"<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/>"
			"<text x=\"%d\" y=\"%d\" font-size=\"12\">",
			L + (int)(k % 6) * 150, H - 10 + (int)(k / 6) * 18, palette[k],
			L + 16 + (int)(k % 6) * 150, H + (int)(k / 6) * 18);
		html_str(f, k < nser ? names[k] : "others");
		fputs("</text>\n", f);
	}
	fputs("</svg>\n", f);
	free(cnt);
	return 0;
}

static int write_html(FILE *f, const struct report *r)
{
	char fl[160], t1[RFC3339_BUFSZ], t2[RFC3339_BUFSZ];
	int err = 0;

	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	      "<title>consentry: unconsented disclosures</title>\n<style>"
	      "body{font-family:sans-serif;margin:2em;color:#222}"
	      "table{border-collapse:collapse;margin:0 0 2em 0}"
	      "td,th{border:1px solid #bbb;padding:3px 8px;text-align:left}"
	      "th{background:#eee}</style></head><body>\n"
	      "<h1>Unconsented disclosures</h1>\n",
	      f);
	if (!r->n) {
		fputs("<p id=\"none\">No unconsented disclosure in the journal for this selection."
		      "</p>\n</body></html>\n",
		      f);
		return ferror(f) ? -EIO : 0;
	}
	rfc3339_format(r->t_min, t1, sizeof(t1));
	rfc3339_format(r->t_max, t2, sizeof(t2));
	fprintf(
	    f,
	    "<p>Findings from %s to %s. Each row: a data subject whose registered data "
	    "reached the recipient without a consent covering it; blocked: of its findings, the "
	    "sends run --block refused (their bytes did not leave the host).</p>\n",
	    t1, t2);
	err = write_svg(f, r);
	if (err)
		return err;
	for (size_t i = 0; i < r->n; i++) {
		const struct affected *x = &r->a[i];

		if (!i || strcmp(r->a[i - 1].recipient, x->recipient)) {
			size_t n = 0;

			for (size_t k = i; k < r->n && !strcmp(r->a[k].recipient, x->recipient);
			     k++)
				n++;
			if (i)
				fputs("</table>\n", f);
			fputs("<h2>", f);
			html_str(f, x->recipient);
			fprintf(f,
				" (%s): %zu subject%s</h2>\n<table class=\"recipient\">"
				"<tr><th>subject</th><th>fields</th><th>first</th><th>last</th>"
				"<th>findings</th><th>blocked</th></tr>\n",
				x->kind, n, n == 1 ? "" : "s");
		}
		fields_join(x->fields, ", ", fl, sizeof(fl));
		rfc3339_format(x->first, t1, sizeof(t1));
		rfc3339_format(x->last, t2, sizeof(t2));
		fputs("<tr><td>", f);
		html_str(f, x->subject);
		fprintf(f,
			"</td><td>%s</td><td>%s</td><td>%s</td><td>%llu</td><td>%llu</td></tr>\n",
			fl, t1, t2, (unsigned long long)x->count, (unsigned long long)x->blocked);
	}
	fputs("</table>\n</body></html>\n", f);
	return ferror(f) ? -EIO : 0;
}

/* Write path with fn, atomically (a temporary file renamed). 0 or 1 (said). */
static int write_file(const char *path, int (*fn)(FILE *, void *), void *arg)
{
	char tmp[4096];
	FILE *f;
	int err;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "we");
	if (!f) {
		pr_err("cannot write %s: %s", tmp, strerror(errno));
		return 1;
	}
	err = fn(f, arg);
	if (fclose(f) || err || rename(tmp, path)) {
		pr_err("cannot write %s: %s", path, strerror(err ? -err : errno));
		unlink(tmp);
		return 1;
	}
	return 0;
}

static int csv_fn(FILE *f, void *arg)
{
	return write_csv(f, arg);
}

static int html_fn(FILE *f, void *arg)
{
	return write_html(f, arg);
}

static void report_usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: consentry report [-j JOURNAL] [--since T] [--until T] [--recipient NAME]\n"
	    "                        [--csv FILE] [--html FILE]\n"
	    "The breach-notification view of the journal: per recipient, the subjects whose\n"
	    "data it received without consent, their fields, first and last time and counts\n"
	    "(and of them, blocked: the sends run --block refused).\n"
	    "Without --csv and --html, the CSV goes to stdout.\n"
	    "  -j, --journal PATH   the journal (default %s)\n"
	    "      --since T, --until T   RFC 3339 or a date (midnight UTC); until is exclusive\n"
	    "      --recipient NAME only this recipient\n"
	    "      --csv FILE       one row per recipient and subject (for the letters)\n"
	    "      --html FILE      one self-contained page: a timeline chart and the tables\n",
	    JOURNAL_DEFAULT);
}

int cmd_report(int argc, char **argv)
{
	enum { OPT_CSV = FQ_OPT_NEXT, OPT_HTML };
	static const struct option opts[] = {
	    FINDINGS_QUERY_OPTIONS,
	    {"csv", required_argument, NULL, OPT_CSV},
	    {"html", required_argument, NULL, OPT_HTML},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct findings_query q = {0};
	const char *path = JOURNAL_DEFAULT, *csv = NULL, *html = NULL;
	struct report r = {0};
	sqlite3 *db;
	int opt, rc = 0, taken;

	optind = 0; /* glibc starts over only then (findings_args) */
	while ((opt = getopt_long(argc, argv, "j:h", opts, NULL)) != -1) {
		taken = findings_query_opt(opt, optarg, &q, &path);
		if (taken < 0)
			return 2;
		if (taken)
			continue;
		switch (opt) {
		case OPT_CSV:
			csv = optarg;
			break;
		case OPT_HTML:
			html = optarg;
			break;
		case 'h':
			report_usage(stdout);
			return 0;
		default:
			report_usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		pr_err("unexpected argument '%s'", argv[optind]);
		return 2;
	}
	if (journal_open_ro(&db, path))
		return 2;
	if (report_load(db, &q, &r)) {
		rc = 1;
		goto out;
	}
	if (!csv && !html && write_csv(stdout, &r))
		rc = 1;
	if (csv)
		rc |= write_file(csv, csv_fn, &r);
	if (html)
		rc |= write_file(html, html_fn, &r);
out:
	report_free(&r);
	sqlite3_close(db);
	return rc;
}
