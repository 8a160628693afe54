// SPDX-License-Identifier: GPL-2.0-only
/*
 * journalbench: the findings journal at scale (make bench, phase journal). Makes a journal of
 * ROWS findings: the first and the last WRITE_N through journal_add (the monitor's own writer,
 * a commit every 20,000 rows as its tick would), timed (the write rate on an empty and on a full
 * journal), the rows between by SQLite itself; then times the queries of `consentry findings`:
 * by subject, and by recipient and day, each listed as text to /dev/null.
 *
 *   journalbench PATH [ROWS, default 10000000 [QUERIES, default 20]]
 *
 * The rows: ROWS/10 subjects, 20 recipients (one in 5 findings to no recipient), a year of
 * findings; every query is a different subject / recipient-day, chosen with a fixed seed.
 * Prints "key value" lines for scripts/bench/report.py.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sqlite3.h>

#include "lib/fields.h"
#include "output/findings.h"
#include "output/journal.h"
#include "verdict/recipients.h"

#define DAY_NS	86400000000000LL
#define T0	(20000LL * DAY_NS)
#define NRCPT	20
#define NDAYS	365
#define WRITE_N 500000 /* rows timed through the writer, at each end */

static __u64 rng = 0x9e3779b97f4a7c15ULL;

static __u64 next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median and max of n query times (ms) of the queries q[0..n). */
static void time_queries(sqlite3 *db, struct findings_query *q, unsigned n, const char *name,
			 FILE *devnull)
{
	double t[64], rows = 0;
	__u64 r;

	for (unsigned i = 0; i < n; i++) {
		double t0 = now_s();

		if (findings_run(db, &q[i], devnull, &r))
			exit(1);
		t[i] = (now_s() - t0) * 1e3;
		rows += (double)r;
	}
	qsort(t, n, sizeof(t[0]), cmp_d);
	printf("query_%s_ms_median %.2f\nquery_%s_ms_max %.2f\nquery_%s_rows_mean %.0f\n", name,
	       t[n / 2], name, t[n - 1], name, rows / n);
}

/* Rows [from, to) of rows through the monitor's writer, a commit every 20,000 (its tick). */
static void write_rows(struct journal *j, const struct recipient *rcpt, unsigned long from,
		       unsigned long to, unsigned long rows, unsigned long nsubj)
{
	for (unsigned long i = from; i < to; i++) {
		struct cs_event ev = {0};
		struct finding f = {0};
		char s[24];
		__u64 x = next();
		unsigned r = (unsigned)(x % (NRCPT + NRCPT / 4));
		/* a year, in time order (the monitor writes as time goes) */
		__s64 tn = T0 + (__s64)((double)i / (double)rows * NDAYS * DAY_NS);

		snprintf(s, sizeof(s), "u%07lu", (unsigned long)((x >> 20) % nsubj));
		ev.daddr[0] = 10;
		ev.daddr[3] = (__u8)r;
		ev.dport = 443;
		ev.proto = 6;
		ev.pid = ev.tid = 1000 + (__u32)(x % 50);
		ev.channel = CS_CH_SK_MSG;
		ev.bytes_inspected = ev.bytes_total = 2000;
		memcpy(ev.comm, "app", 3);
		f.subject = s;
		f.fields = FIELD_BIT(CS_F_PHONE) | ((x >> 40) & 1 ? FIELD_BIT(CS_F_EMAIL) : 0);
		f.unconsented = f.fields;
		f.verdict = V_UNCONSENTED;
		f.rcpt = r < NRCPT ? &rcpt[r] : NULL;
		f.fps[0] = x;
		f.nfps = 1;
		snprintf(f.msg_id, sizeof(f.msg_id), "b-%lu", i);
		f.msg_subjects = 1;
		journal_add(j, &ev, &f, "api.partner.example", tn, NULL);
		if (i % 20000 == 19999)
			journal_commit(j);
	}
	journal_commit(j);
}

/*
 * Rows [from, to) of the same shape, made by SQLite itself in one transaction (the bench needs
 * a journal of ROWS findings; only the writer's rate at both ends is the monitor's).
 */
static int bulk_fill(const char *path, unsigned long from, unsigned long to, unsigned long rows,
		     unsigned long nsubj)
{
	static const char sql[] =
	    "INSERT INTO findings (time_ns, day, verdict, subject, fields, field_mask, unconsented,"
	    " recipient, recipient_kind, dst_ip, dst_port, host, protocol, pid, tid, uid, comm,"
	    " channel, consent_ids, fingerprints, encodings, bytes_inspected, bytes_total,"
	    " truncated, message_id, message_subjects)"
	    " WITH RECURSIVE c(i) AS (SELECT ?1 UNION ALL SELECT i + 1 FROM c WHERE i + 1 < ?2)"
	    " SELECT ?3 + i * ?4, (?3 + i * ?4) / 86400000000000, 'unconsented',"
	    " printf('u%07d', (x >> 20) % ?5), 'phone', 2, 'phone',"
	    " CASE WHEN x % 25 < 20 THEN printf('partner%02d', x % 25) END,"
	    " CASE WHEN x % 25 < 20 THEN 'third-party' ELSE 'unknown' END,"
	    " '10.0.0.' || (x % 25), 443, 'api.partner.example', 'tcp', 1000, 1000, 0, 'app',"
	    " 'sk_msg', '', printf('%016x', x), '', 2000, 2000, 0, 'b-' || i, 1"
	    " FROM (SELECT i, abs(random()) AS x FROM c)";
	sqlite3 *db;
	sqlite3_stmt *s;
	int rc;

	if (from >= to)
		return 0;
	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA cache_size=-1000000; BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
		fprintf(stderr, "journalbench: %s\n", sqlite3_errmsg(db));
		return -1;
	}
	sqlite3_bind_int64(s, 1, (sqlite3_int64)from);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)to);
	sqlite3_bind_int64(s, 3, T0);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)(NDAYS * DAY_NS / (__s64)rows));
	sqlite3_bind_int64(s, 5, (sqlite3_int64)nsubj);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE || sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		fprintf(stderr, "journalbench: %s\n", sqlite3_errmsg(db));
		sqlite3_close(db);
		return -1;
	}
	sqlite3_close(db);
	return 0;
}

int main(int argc, char **argv)
{
	static char rname[NRCPT][16], subj[64][24];
	struct recipient rcpt[NRCPT];
	struct findings_query q[64];
	unsigned long rows = argc > 2 ? strtoul(argv[2], NULL, 0) : 10000000UL;
	unsigned nq = argc > 3 ? (unsigned)atoi(argv[3]) : 20;
	unsigned long nsubj;
	struct journal_stats st;
	struct journal *j;
	sqlite3 *db;
	FILE *devnull;
	unsigned long nw;
	double t0, t;

	if (argc < 2 || !rows || !nq || nq > 64) {
		fprintf(stderr, "usage: journalbench PATH [ROWS [QUERIES <= 64]]\n");
		return 2;
	}
	nsubj = rows / 10 ? rows / 10 : 1;
	unlink(argv[1]);
	for (unsigned i = 0; i < NRCPT; i++) {
		snprintf(rname[i], sizeof(rname[i]), "partner%02u", i);
		rcpt[i].name = rname[i];
		rcpt[i].kind = RK_THIRD_PARTY;
	}
	if (journal_open(&j, argv[1]))
		return 1;
	/* the writer's rate on an empty journal, then on one of ROWS findings */
	nw = rows < 2 * WRITE_N ? rows / 2 : WRITE_N;
	t0 = now_s();
	write_rows(j, rcpt, 0, nw, rows, nsubj);
	t = now_s() - t0;
	printf("write_rate_start_per_s %.0f\n", (double)nw / t);
	if (bulk_fill(argv[1], nw, rows - nw, rows, nsubj))
		return 1;
	t0 = now_s();
	write_rows(j, rcpt, rows - nw, rows, rows, nsubj);
	t = now_s() - t0;
	journal_get_stats(j, &st);
	journal_close(j);
	printf("rows %lu\nwritten %llu\nlost %llu\nwrite_rate_per_s %.0f\n", rows,
	       (unsigned long long)st.written, (unsigned long long)st.lost, (double)nw / t);
	if (st.written != 2 * nw)
		return 1;
	if (journal_open_ro(&db, argv[1]))
		return 1;
	devnull = fopen("/dev/null", "w");
	if (!devnull)
		return 1;
	for (unsigned i = 0; i < nq; i++) {
		snprintf(subj[i], sizeof(subj[i]), "u%07lu", (unsigned long)(next() % nsubj));
		q[i] = (struct findings_query){.fmt = FMT_TEXT, .subject = subj[i]};
	}
	time_queries(db, q, nq, "subject", devnull);
	for (int count = 0; count < 2; count++) {
		for (unsigned i = 0; i < nq; i++) {
			__s64 day = (__s64)(next() % NDAYS);

			q[i] = (struct findings_query){.fmt = FMT_TEXT,
						       .recipient = rname[next() % NRCPT],
						       .since = T0 + day * DAY_NS,
						       .until = T0 + (day + 1) * DAY_NS,
						       .has_since = 1,
						       .has_until = 1,
						       .count_by = count ? "subject" : NULL};
		}
		time_queries(db, q, nq, count ? "recipient_day_count_by_subject" : "recipient_day",
			     devnull);
	}
	fclose(devnull);
	sqlite3_close(db);
	return 0;
}
