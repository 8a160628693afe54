// SPDX-License-Identifier: GPL-2.0-only
/*
 * journalbench: the findings journal at scale (make bench, phase journal). Writes ROWS findings
 * through journal_add (the monitor's own writer: batches of JOURNAL_BATCH, a commit as the
 * collector's tick would) and prints the write rate; then times the queries of `consentry
 * findings` on it: by subject, and by recipient and day, each listed as text to /dev/null.
 *
 *   journalbench PATH [ROWS, default 10000000 [QUERIES, default 20]]
 *
 * The rows: ROWS/10 subjects, 20 recipients (one in 5 findings to no recipient), a year of
 * findings; every query is a different subject / recipient-day, chosen with a fixed seed.
 * Prints "key value" lines for scripts/bench_lib/report.py.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sqlite3.h>

#include "fields.h"
#include "findings.h"
#include "journal.h"
#include "recipients.h"

#define DAY_NS	 86400000000000LL
#define T0	 (20000LL * DAY_NS)
#define NRCPT	 20
#define NDAYS	 365

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
	t0 = now_s();
	for (unsigned long i = 0; i < rows; i++) {
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
		/* the collector's one-second tick, at about its rate */
		if (i % 20000 == 19999)
			journal_commit(j);
	}
	journal_commit(j);
	t = now_s() - t0;
	journal_get_stats(j, &st);
	journal_close(j);
	printf("rows %lu\nwritten %llu\nlost %llu\nwrite_s %.1f\nwrite_rate_per_s %.0f\n", rows,
	       (unsigned long long)st.written, (unsigned long long)st.lost, t, (double)rows / t);
	if (st.written != rows)
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
		time_queries(db, q, nq,
			     count ? "recipient_day_count_by_subject" : "recipient_day", devnull);
	}
	fclose(devnull);
	sqlite3_close(db);
	return 0;
}
