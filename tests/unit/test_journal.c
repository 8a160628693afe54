// SPDX-License-Identifier: GPL-2.0-only
/*
 * The findings journal and its queries: rows written in batches read back through the same
 * filters `consentry findings` uses; a file size limit (the disk full) makes writes fail, which
 * are counted and never stop the writer; a journal of another schema is refused. Rows that
 * run --dedup merged count as their count in --count-by and the report; a version 1 journal is
 * read as it is and migrated by a writer; odd subject ids and recipient names are escaped in
 * text and CSV; the command line parsed again.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "cli.h"
#include "lib/fields.h"
#include "output/findings.h"
#include "output/journal.h"
#include "monitor/message.h"
#include "verdict/consent.h"
#include "verdict/recipients.h"

#define DAY_NS 86400000000000LL
#define T0     (20000LL * DAY_NS) /* 2024-10-04T00:00:00Z */
#define SEC    1000000000LL

static const struct recipient partner = {"partner", RK_THIRD_PARTY};

/* Finding i: subject s<i % 50>, recipient partner on odd i, day i % 3, phone (+ email on i % 4). */
static void add(struct journal *j, unsigned i)
{
	struct cs_event ev = {0};
	struct finding f = {0};
	char subject[16];

	snprintf(subject, sizeof(subject), "s%u", i % 50);
	inet_pton(AF_INET, "192.0.2.7", ev.daddr);
	ev.dport = 443;
	ev.proto = 6;
	ev.pid = 100 + i;
	ev.tid = ev.pid;
	ev.channel = CS_CH_SK_MSG;
	ev.bytes_inspected = ev.bytes_total = 1000;
	memcpy(ev.comm, "app", 3);
	f.subject = subject;
	f.fields = FIELD_BIT(CS_F_PHONE) | (i % 4 ? 0 : FIELD_BIT(CS_F_EMAIL));
	f.unconsented = f.fields;
	f.verdict = i % 2 ? V_UNCONSENTED : V_CONSENTED;
	f.rcpt = i % 2 ? &partner : NULL;
	f.fps[0] = 0x0123456789abcdefULL + i;
	f.nfps = 1;
	snprintf(f.msg_id, sizeof(f.msg_id), "m-%u", i);
	f.msg_subjects = 1;
	journal_add(j, &ev, &f, "api.partner.example", T0 + (__s64)(i % 3) * DAY_NS + i, NULL);
}

/* Lines of q's output. */
static unsigned query_lines(sqlite3 *db, const struct findings_query *q, char **text)
{
	size_t len = 0;
	FILE *f = open_memstream(text, &len);
	unsigned n = 0;
	__u64 rows;

	assert_non_null(f);
	assert_int_equal(findings_run(db, q, f, &rows), 0);
	fclose(f);
	for (const char *p = *text; *p; p++)
		n += *p == '\n';
	assert_int_equal(n, rows + (q->csv ? 1 : 0)); /* a CSV header line more */
	return n;
}

/* A fresh temporary path (the file made and removed again); keep: leave the empty file. */
/*
 * A test journal and its -wal and -shm: a read-only connection (findings, report) opened after
 * the writer closed creates them and, read-only, cannot remove them at close.
 */
static void journal_remove(const char *path)
{
	char p[64];

	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
}

static void tmp_path(char *path, int keep)
{
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	if (!keep)
		unlink(path);
}

static void test_write_query(void **state)
{
	char path[] = "/tmp/cs_journal_XXXXXX", *text = NULL;
	struct journal_stats st;
	struct journal *j;
	sqlite3 *db;

	(void)state;
	tmp_path(path, 0);
	assert_int_equal(journal_open(&j, path), 0);
	for (unsigned i = 0; i < 300; i++)
		add(j, i);
	/* not committed yet: a reader sees nothing */
	assert_int_equal(journal_open_ro(&db, path), 0);
	{
		struct findings_query q = {.fmt = FMT_TEXT};

		assert_int_equal(query_lines(db, &q, &text), 0);
		free(text);
	}
	journal_commit(j);
	journal_get_stats(j, &st);
	assert_int_equal(st.written, 300);
	assert_int_equal(st.lost, 0);
	{
		struct findings_query q = {.fmt = FMT_TEXT, .subject = "s7"};

		/* i = 7, 57, ..., 257: 6 rows */
		assert_int_equal(query_lines(db, &q, &text), 6);
		assert_non_null(strstr(
		    text,
		    "subject=s7 fields=phone unconsented=phone recipient=partner(third-party)"));
		free(text);
	}
	{
		/* the partner on day 1 of 3: odd i with i % 3 == 1: 50 rows */
		struct findings_query q = {.fmt = FMT_JSONL,
					   .recipient = "partner",
					   .since = T0 + DAY_NS,
					   .until = T0 + 2 * DAY_NS,
					   .has_since = 1,
					   .has_until = 1};

		assert_int_equal(query_lines(db, &q, &text), 50);
		assert_non_null(strstr(text, "\"recipient\":\"partner\""));
		/* i = 1 comes first */
		assert_non_null(strstr(text, "\"fingerprints\":[\"0123456789abcdf0\"]"));
		free(text);
	}
	{
		struct findings_query q = {
		    .fmt = FMT_TEXT, .field = CS_F_EMAIL, .verdict = "consented"};

		/* even i divisible by 4: 75 */
		assert_int_equal(query_lines(db, &q, &text), 75);
		free(text);
	}
	{
		struct findings_query q = {.fmt = FMT_TEXT, .count_by = "day", .csv = 1};

		assert_int_equal(query_lines(db, &q, &text), 4); /* header + 3 days */
		assert_non_null(strstr(text, "day,findings,subjects\r\n2024-10-04,100,50\r\n"));
		free(text);
	}
	{
		struct findings_query q = {.fmt = FMT_TEXT, .count_by = "field"};

		assert_int_equal(query_lines(db, &q, &text), 2);
		assert_non_null(strstr(text, "phone                    300\n"));
		assert_non_null(strstr(text, "email                    75\n"));
		free(text);
	}
	sqlite3_close(db);
	journal_close(j);
	journal_remove(path);
}

/*
 * The disk full, as a file size limit (SIGXFSZ ignored: writes fail with EFBIG): a child writes
 * 20,000 findings committed every 500; the writes that fail are counted lost, later ones are
 * still tried, and the journal holds exactly the rows counted written.
 */
static void test_disk_full(void **state)
{
	char path[] = "/tmp/cs_journal_XXXXXX";
	int status, pfd[2];
	struct journal_stats st;
	pid_t pid;

	(void)state;
	tmp_path(path, 0);
	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit rl = {.rlim_cur = 256 * 1024, .rlim_max = 256 * 1024};
		struct journal *j;

		signal(SIGXFSZ, SIG_IGN);
		if (journal_open(&j, path) || setrlimit(RLIMIT_FSIZE, &rl))
			_exit(10);
		for (unsigned i = 0; i < 20000; i++) {
			add(j, i);
			if (i % 500 == 499)
				journal_commit(j);
		}
		journal_commit(j);
		journal_get_stats(j, &st);
		journal_close(j);
		_exit(write(pfd[1], &st, sizeof(st)) == sizeof(st) ? 0 : 11);
	}
	close(pfd[1]);
	assert_int_equal(read(pfd[0], &st, sizeof(st)), sizeof(st));
	close(pfd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* every row is written or counted lost; some failed, and later batches were tried */
	assert_int_equal(st.written + st.lost, 20000);
	assert_true(st.written > 0);
	assert_true(st.lost > 0);
	assert_true(st.errors >= 1);
	{
		sqlite3 *db;
		struct findings_query q = {.fmt = FMT_TEXT, .count_by = "day"};
		char *text = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);
		__u64 rows;
		long total = 0;

		assert_int_equal(journal_open_ro(&db, path), 0);
		assert_int_equal(findings_run(db, &q, f, &rows), 0);
		fclose(f);
		for (char *p = text; p && (p = strstr(p, " findings")); p++) {
			char *b = p;

			while (b > text && b[-1] != ' ')
				b--;
			total += strtol(b, NULL, 10);
		}
		/* the journal holds exactly the rows counted written */
		assert_int_equal(total, st.written);
		free(text);
		sqlite3_close(db);
	}
	journal_remove(path);
}

/*
 * A row of subject to partner (unconsented) or, consented, standing for count findings from
 * first to last (run --dedup; count 0: written without it); of a send the kernel refused when
 * blocked (run --block: the event's CS_EVX_BLOCKED, seen through the finding's message).
 */
static void add_action(struct journal *j, const char *subject, int consented, __u32 fields,
		       __u64 count, __s64 first, __s64 last, int blocked)
{
	struct cs_event ev = {0};
	struct finding f = {0};
	struct msg m = {.ev = &ev};

	inet_pton(AF_INET, "192.0.2.7", ev.daddr);
	ev.dport = 80;
	ev.proto = 6;
	ev.pid = ev.tid = 7;
	ev.channel = CS_CH_SK_MSG;
	memcpy(ev.comm, "app", 3);
	f.subject = subject;
	f.fields = fields;
	f.unconsented = consented ? 0 : fields;
	f.verdict = consented ? V_CONSENTED : V_UNCONSENTED;
	f.violations = consented ? 0 : CV_NO_CONSENT;
	f.cross_border = -1; /* no country known */
	f.rcpt = &partner;
	snprintf(f.msg_id, sizeof(f.msg_id), "m-%s-%lld", subject, (long long)first);
	f.count = count;
	f.first_ns = first;
	f.last_ns = last;
	f.msg = &m;
	ev.xflags = blocked ? CS_EVX_BLOCKED : 0;
	journal_add(j, &ev, &f, NULL, first, NULL);
}

static void add_count(struct journal *j, const char *subject, int consented, __u32 fields,
		      __u64 count, __s64 first, __s64 last)
{
	add_action(j, subject, consented, fields, count, first, last, 0);
}

/* `consentry report --csv` of path, read back. */
static char *report_csv(const char *path)
{
	char csv[] = "/tmp/cs_report_XXXXXX", *text = NULL;
	char *argv[] = {"report", "-j", (char *)path, "--csv", csv, NULL};
	size_t len = 0;
	FILE *f;
	int c;

	tmp_path(csv, 0);
	assert_int_equal(cmd_report(5, argv), 0);
	f = fopen(csv, "r");
	assert_non_null(f);
	{
		FILE *m = open_memstream(&text, &len);

		while ((c = fgetc(f)) != EOF)
			fputc(c, m);
		fclose(m);
	}
	fclose(f);
	unlink(csv);
	return text;
}

/* Merged rows (run --dedup) keep their count and times; counts and the report add them up. */
static void test_counts(void **state)
{
	char path[] = "/tmp/cs_journal_XXXXXX", *text = NULL;
	struct journal *j;
	sqlite3 *db;

	(void)state;
	tmp_path(path, 0);
	assert_int_equal(journal_open(&j, path), 0);
	add_count(j, "s1", 0, FIELD_BIT(CS_F_PHONE), 0, T0, T0);	     /* no --dedup */
	add_count(j, "s1", 0, FIELD_BIT(CS_F_PHONE), 1, T0 + SEC, T0 + SEC); /* first */
	add_count(j, "s1", 0, FIELD_BIT(CS_F_PHONE), 3, T0 + 2 * SEC, T0 + 9 * SEC); /* merged */
	add_count(j, "s2", 0, FIELD_BIT(CS_F_EMAIL), 1, T0 + 3 * SEC, T0 + 3 * SEC);
	add_count(j, "s2", 1, FIELD_BIT(CS_F_EMAIL), 2, T0 + 4 * SEC, T0 + 5 * SEC);
	journal_close(j);
	assert_int_equal(journal_open_ro(&db, path), 0);
	assert_int_equal(journal_schema(db), JOURNAL_SCHEMA);
	{
		struct findings_query q = {.fmt = FMT_TEXT, .count_by = "subject"};

		assert_int_equal(query_lines(db, &q, &text), 2);
		assert_string_equal(text, "s1                       5 findings, 1 subjects\n"
					  "s2                       3 findings, 1 subjects\n");
		free(text);
	}
	{
		struct findings_query q = {.fmt = FMT_TEXT, .count_by = "field", .csv = 1};

		assert_int_equal(query_lines(db, &q, &text), 3);
		assert_string_equal(text, "field,findings\r\nphone,5\r\nemail,3\r\n");
		free(text);
	}
	{
		struct findings_query q = {.fmt = FMT_TEXT, .count_by = "recipient", .csv = 1};

		assert_int_equal(query_lines(db, &q, &text), 2);
		assert_string_equal(text, "recipient,findings,subjects\r\npartner,8,2\r\n");
		free(text);
	}
	{
		struct findings_query q = {.fmt = FMT_JSONL, .subject = "s1"};

		assert_int_equal(query_lines(db, &q, &text), 3);
		assert_non_null(strstr(text, ",\"count\":1,\"first_time\":"
					     "\"2024-10-04T00:00:00.000000Z\",\"last_time\":"
					     "\"2024-10-04T00:00:00.000000Z\"}\n"));
		assert_non_null(strstr(text, ",\"count\":3,\"first_time\":"
					     "\"2024-10-04T00:00:02.000000Z\",\"last_time\":"
					     "\"2024-10-04T00:00:09.000000Z\"}\n"));
		free(text);
	}
	{
		struct findings_query q = {.fmt = FMT_TEXT, .subject = "s1"};

		assert_int_equal(query_lines(db, &q, &text), 3);
		assert_non_null(
		    strstr(text, " x3 2024-10-04T00:00:02.000000Z..2024-10-04T00:00:09.000000Z\n"));
		assert_null(strstr(text, " x1"));
		free(text);
	}
	sqlite3_close(db);
	text = report_csv(path);
	assert_string_equal(text, "recipient,recipient_kind,subject,fields,first_time,last_time,"
				  "findings,blocked\r\n"
				  "partner,third-party,s1,phone,2024-10-04T00:00:00.000000Z,"
				  "2024-10-04T00:00:09.000000Z,5,0\r\n"
				  "partner,third-party,s2,email,2024-10-04T00:00:03.000000Z,"
				  "2024-10-04T00:00:03.000000Z,1,0\r\n");
	free(text);
	journal_remove(path);
}

/* The row at T0 + 1 s, one finding, as `findings --format jsonl` ends it. */
#define ROW_1S                                                                                     \
	",\"count\":1,\"first_time\":\"2024-10-04T00:00:01.000000Z\","                             \
	"\"last_time\":\"2024-10-04T00:00:01.000000Z\"}\n"

/*
 * The journal at path reads as schema version, with count_line from --count-by subject, rows
 * rows listed (ROW_1S and also among them, also may be NULL) and report_row in the report.
 */
static void expect_journal(const char *path, int version, const char *count_line, unsigned rows,
			   const char *also, const char *report_row)
{
	sqlite3 *db;
	char *text = NULL;

	assert_int_equal(journal_open_ro(&db, path), 0);
	assert_int_equal(journal_schema(db), version);
	{
		struct findings_query q = {.fmt = FMT_TEXT, .count_by = "subject"};

		assert_int_equal(query_lines(db, &q, &text), 1);
		assert_string_equal(text, count_line);
		free(text);
	}
	{
		struct findings_query q = {.fmt = FMT_JSONL};

		assert_int_equal(query_lines(db, &q, &text), rows);
		assert_non_null(strstr(text, ROW_1S));
		assert_true(!also || strstr(text, also));
		free(text);
	}
	sqlite3_close(db);
	text = report_csv(path);
	assert_non_null(strstr(text, report_row));
	free(text);
}

/* The action of version 4, dropped to make an older journal. */
#define DROP_V4_COLS "ALTER TABLE findings DROP COLUMN action;"

/* The spec §7 columns of version 3 (and version 4's), dropped to make an older journal. */
#define DROP_V3_COLS                                                                               \
	DROP_V4_COLS                                                                               \
	"ALTER TABLE findings DROP COLUMN purpose;"                                                \
	"ALTER TABLE findings DROP COLUMN country;"                                                \
	"ALTER TABLE findings DROP COLUMN cross_border;"                                           \
	"ALTER TABLE findings DROP COLUMN sensitive;"                                              \
	"ALTER TABLE findings DROP COLUMN minor;"                                                  \
	"ALTER TABLE findings DROP COLUMN violations;"

/*
 * A journal of an older version at path (a fresh temporary one): rows findings of s1 (phone,
 * unconsented) a second apart from T0, then the columns drop removes (ALTER TABLE statements)
 * and user_version set to version.
 */
static void old_journal(char *path, unsigned rows, const char *drop, int version)
{
	char sql[1024];
	struct journal *j;
	sqlite3 *db;

	tmp_path(path, 0);
	assert_int_equal(journal_open(&j, path), 0);
	for (unsigned i = 0; i < rows; i++)
		add_count(j, "s1", 0, FIELD_BIT(CS_F_PHONE), 0, T0 + i * SEC, T0 + i * SEC);
	journal_close(j);
	snprintf(sql, sizeof(sql), "%sPRAGMA user_version = %d", drop, version);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/* A version 2 journal (no §7 columns): read with them null, migrated by the next writer. */
static void test_migrate_v2(void **state)
{
	char path[] = "/tmp/cs_journal_XXXXXX";
	struct journal *j;
	sqlite3 *db;
	char *text = NULL;

	(void)state;
	old_journal(path, 1, DROP_V3_COLS, 2);
	assert_int_equal(journal_open_ro(&db, path), 0);
	assert_int_equal(journal_schema(db), 2);
	{
		struct findings_query q = {.fmt = FMT_JSONL};

		assert_int_equal(query_lines(db, &q, &text), 1);
		assert_non_null(strstr(text, "\"violations\":[],\"recipient\":\"partner\""));
		assert_non_null(strstr(text, "\"purpose\":null,\"sensitive_fields\":null,"
					     "\"minor\":null,\"cross_border\":null"));
		free(text);
	}
	sqlite3_close(db);
	/* a writer migrates it: the old row keeps nulls, a new one has its values */
	assert_int_equal(journal_open(&j, path), 0);
	add_count(j, "s2", 0, FIELD_BIT(CS_F_PHONE), 0, T0 + SEC, T0 + SEC);
	journal_close(j);
	assert_int_equal(journal_open_ro(&db, path), 0);
	assert_int_equal(journal_schema(db), JOURNAL_SCHEMA);
	{
		struct findings_query q = {.fmt = FMT_JSONL, .subject = "s2"};

		assert_int_equal(query_lines(db, &q, &text), 1);
		assert_non_null(strstr(text, "\"minor\":false,\"cross_border\":null"));
		free(text);
	}
	sqlite3_close(db);
	journal_remove(path);
}

/* A version 1 journal (no count, no last_ns): read as it is, migrated by the next writer. */
static void test_migrate_v1(void **state)
{
	char path[] = "/tmp/cs_journal_XXXXXX";
	struct journal *j;

	(void)state;
	/* version 1's table is the current one without the two columns, the §7 ones and action */
	old_journal(path, 2,
		    "ALTER TABLE findings DROP COLUMN count;"
		    "ALTER TABLE findings DROP COLUMN last_ns;" DROP_V3_COLS,
		    1);
	expect_journal(path, 1, "s1                       2 findings, 1 subjects\n", 2, NULL,
		       "\r\npartner,third-party,s1,phone,2024-10-04T00:00:00.000000Z,"
		       "2024-10-04T00:00:01.000000Z,2,0\r\n");
	/* a writer migrates it; its old rows count one each */
	assert_int_equal(journal_open(&j, path), 0);
	add_count(j, "s1", 0, FIELD_BIT(CS_F_PHONE), 4, T0 + 2 * SEC, T0 + 7 * SEC);
	journal_close(j);
	expect_journal(path, JOURNAL_SCHEMA, "s1                       6 findings, 1 subjects\n", 3,
		       ",\"count\":4,\"first_time\":\"2024-10-04T00:00:02.000000Z\","
		       "\"last_time\":\"2024-10-04T00:00:07.000000Z\"}\n",
		       "\r\npartner,third-party,s1,phone,2024-10-04T00:00:00.000000Z,"
		       "2024-10-04T00:00:07.000000Z,6,0\r\n");
	journal_remove(path);
}

/* q's output on db: lines lines, holding want (NULL: anything) and never never (NULL: none). */
static void expect_query(sqlite3 *db, const struct findings_query *q, unsigned lines,
			 const char *want, const char *never)
{
	char *text = NULL;

	assert_int_equal(query_lines(db, q, &text), lines);
	if ((want && !strstr(text, want)) || (never && strstr(text, never)))
		fail_msg("want '%s', never '%s': %s", want, never, text);
	free(text);
}

/*
 * A version 3 journal (no action): read with every row reported, migrated in place by the next
 * writer: the old row reads back reported, a new one keeps its action.
 */
static void test_migrate_v3(void **state)
{
	char path[] = "/tmp/cs_journal_XXXXXX", *text;
	struct journal *j;
	sqlite3 *db;

	(void)state;
	old_journal(path, 1, DROP_V4_COLS, 3);
	assert_int_equal(journal_open_ro(&db, path), 0);
	assert_int_equal(journal_schema(db), 3);
	expect_query(db, &(struct findings_query){.fmt = FMT_JSONL}, 1,
		     "\"verdict\":\"unconsented\",\"action\":\"reported\",", NULL);
	expect_query(db, &(struct findings_query){.fmt = FMT_TEXT, .action = "reported"}, 1, NULL,
		     NULL);
	expect_query(db, &(struct findings_query){.fmt = FMT_TEXT, .action = "blocked"}, 0, NULL,
		     NULL);
	sqlite3_close(db);
	text = report_csv(path);
	assert_non_null(strstr(text, ",2024-10-04T00:00:00.000000Z,1,0\r\n"));
	free(text);
	/* a writer migrates it */
	assert_int_equal(journal_open(&j, path), 0);
	add_action(j, "s2", 0, FIELD_BIT(CS_F_PHONE), 0, T0 + SEC, T0 + SEC, 1);
	journal_close(j);
	assert_int_equal(journal_open_ro(&db, path), 0);
	assert_int_equal(journal_schema(db), JOURNAL_SCHEMA);
	{
		sqlite3_stmt *st;

		assert_int_equal(sqlite3_prepare_v2(db,
						    "SELECT group_concat(subject || ' ' || action, "
						    "',') FROM findings ORDER BY id",
						    -1, &st, NULL),
				 SQLITE_OK);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_string_equal(sqlite3_column_text(st, 0), "s1 reported,s2 blocked");
		sqlite3_finalize(st);
	}
	expect_query(db, &(struct findings_query){.fmt = FMT_TEXT, .action = "reported"}, 1,
		     " subject=s1 ", NULL);
	sqlite3_close(db);
	journal_remove(path);
}

/*
 * The action (run --block) read back as written: jsonl right after the verdict, text
 * "action=blocked" next to the verdict (nothing for a reported row), CSV its last column;
 * --action selects either, in lists and counts; the report counts the blocked disclosures of
 * each row, a merged one as its count.
 */
static void test_action(void **state)
{
	char path[] = "/tmp/cs_journal_XXXXXX", *text;
	const __u32 phone = FIELD_BIT(CS_F_PHONE), email = FIELD_BIT(CS_F_EMAIL);
	struct journal *j;
	sqlite3 *db;

	(void)state;
	tmp_path(path, 0);
	assert_int_equal(journal_open(&j, path), 0);
	add_action(j, "s1", 0, phone, 0, T0, T0, 1);
	add_action(j, "s1", 0, phone, 0, T0 + SEC, T0 + SEC, 0);
	add_action(j, "s2", 0, email, 3, T0 + 2 * SEC, T0 + 5 * SEC, 1); /* merged: 3 blocked */
	journal_close(j);
	assert_int_equal(journal_open_ro(&db, path), 0);
	expect_query(db, &(struct findings_query){.fmt = FMT_JSONL, .action = "blocked"}, 2,
		     "{\"time\":\"2024-10-04T00:00:00.000000Z\",\"verdict\":\"unconsented\","
		     "\"action\":\"blocked\",\"subject\":\"s1\",",
		     "reported");
	expect_query(db, &(struct findings_query){.fmt = FMT_TEXT, .action = "reported"}, 1,
		     "Z unconsented subject=s1 fields=phone ", "action=");
	expect_query(db, &(struct findings_query){.fmt = FMT_TEXT, .action = "blocked"}, 2,
		     "Z unconsented action=blocked subject=s2 fields=email ", NULL);
	expect_query(db, &(struct findings_query){.csv = 1}, 4,
		     ",violations,action\r\n2024-10-04T00:00:00.000000Z,unconsented,s1,", NULL);
	expect_query(db, &(struct findings_query){.csv = 1, .action = "blocked"}, 3,
		     ",no-consent,blocked\r\n", ",reported\r\n");
	expect_query(
	    db,
	    &(struct findings_query){.fmt = FMT_TEXT, .action = "blocked", .count_by = "subject"},
	    2,
	    "s2                       3 findings, 1 subjects\n"
	    "s1                       1 findings, 1 subjects\n",
	    NULL);
	sqlite3_close(db);
	text = report_csv(path);
	assert_string_equal(text, "recipient,recipient_kind,subject,fields,first_time,last_time,"
				  "findings,blocked\r\n"
				  "partner,third-party,s1,phone,2024-10-04T00:00:00.000000Z,"
				  "2024-10-04T00:00:01.000000Z,2,1\r\n"
				  "partner,third-party,s2,email,2024-10-04T00:00:02.000000Z,"
				  "2024-10-04T00:00:05.000000Z,3,3\r\n");
	free(text);
	journal_remove(path);
}

static void test_other_schema(void **state)
{
	char path[] = "/tmp/cs_journal_XXXXXX";
	struct journal *j;
	sqlite3 *db;

	(void)state;
	tmp_path(path, 1);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(
	    sqlite3_exec(db, "CREATE TABLE t(x); PRAGMA user_version = 9", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(journal_open(&j, path), -EINVAL);
	assert_int_equal(journal_open_ro(&db, path), -EINVAL);
	journal_remove(path);
}

/*
 * Subject ids and recipient names may hold spaces, commas, quotes and C1 controls (U+0085):
 * text lines write them as the monitor's text lines do (text_str), counts in CSV quote them.
 * Found by tests/fuzz/fuzz_journal: they were written raw, a space or a control of theirs
 * forged or broke a line, and a comma an extra CSV column.
 */
static void test_escaped_values(void **state)
{
	static const struct recipient odd = {"pay,ments\"x", RK_PROCESSOR};
	char path[] = "/tmp/cs_journal_XXXXXX", *text = NULL;
	struct cs_event ev = {0};
	struct finding f = {0};
	struct journal *j;
	sqlite3 *db;

	(void)state;
	tmp_path(path, 0);
	assert_int_equal(journal_open(&j, path), 0);
	inet_pton(AF_INET, "192.0.2.7", ev.daddr);
	ev.dport = 443;
	ev.channel = CS_CH_SK_MSG;
	memcpy(ev.comm, "app", 3);
	f.subject = "s 2\xc2\x85";
	f.fields = f.unconsented = FIELD_BIT(CS_F_PHONE);
	f.rcpt = &odd;
	snprintf(f.msg_id, sizeof(f.msg_id), "m-1");
	journal_add(j, &ev, &f, NULL, T0, NULL);
	journal_commit(j);
	assert_int_equal(journal_open_ro(&db, path), 0);
	{
		struct findings_query q = {.fmt = FMT_TEXT};

		assert_int_equal(query_lines(db, &q, &text), 1);
		assert_non_null(strstr(text, " subject=s\\x202\\xc2\\x85 fields=phone "));
		assert_non_null(strstr(text, " recipient=pay,ments\"x(processor) "));
		free(text);
	}
	{
		struct findings_query q = {.fmt = FMT_TEXT, .count_by = "subject"};

		assert_int_equal(query_lines(db, &q, &text), 1);
		assert_string_equal(text, "s\\x202\\xc2\\x85           1 findings, 1 subjects\n");
		free(text);
	}
	{
		struct findings_query q = {.fmt = FMT_TEXT, .count_by = "recipient", .csv = 1};

		assert_int_equal(query_lines(db, &q, &text), 2);
		assert_string_equal(text,
				    "recipient,findings,subjects\r\n\"pay,ments\"\"x\",1,1\r\n");
		free(text);
	}
	sqlite3_close(db);
	journal_close(j);
	journal_remove(path);
}

/*
 * The command line: a refused one leaves the query as it was; a call after one that stopped
 * inside a cluster of short options (-hv: --help, then v left unread) starts over. With
 * optind = 1 glibc's getopt read on from the earlier argv ('v', an unknown option).
 */
static void test_args(void **state)
{
	char *help[] = {"findings", "-hv", NULL}, *bad[] = {"findings", "--verdict", "maybe", NULL};
	char *ok[] = {"findings",     "--subject", "u1",      "--count-by", "day",
		      "--format=csv", "--action",  "blocked", NULL};
	char *bad_action[] = {"findings", "--action", "denied", NULL};
	struct findings_query q = {.subject = "keep"};
	const char *path = NULL;

	(void)state;
	assert_int_equal(findings_args(3, bad, &q, &path), -EINVAL);
	assert_string_equal(q.subject, "keep");
	assert_null(path);
	assert_int_equal(findings_args(3, bad_action, &q, &path), -EINVAL);
	assert_string_equal(q.subject, "keep");
	assert_null(q.action);
	/* the command: a bad value is exit 2, before any journal is opened */
	assert_int_equal(cmd_findings(3, bad_action), 2);
	assert_int_equal(findings_args(2, help, &q, &path), 1);
	assert_int_equal(findings_args(8, ok, &q, &path), 0);
	assert_string_equal(q.action, "blocked");
	assert_string_equal(q.subject, "u1");
	assert_string_equal(q.count_by, "day");
	assert_int_equal(q.csv, 1);
	assert_string_equal(path, JOURNAL_DEFAULT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_write_query),	   cmocka_unit_test(test_disk_full),
	    cmocka_unit_test(test_other_schema),   cmocka_unit_test(test_counts),
	    cmocka_unit_test(test_migrate_v1),	   cmocka_unit_test(test_migrate_v2),
	    cmocka_unit_test(test_migrate_v3),	   cmocka_unit_test(test_action),
	    cmocka_unit_test(test_escaped_values), cmocka_unit_test(test_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
