/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The findings journal (`run --journal PATH`, spec §2): every finding, whatever its verdict, in
 * an SQLite database (WAL, one transaction per second or per JOURNAL_BATCH rows), schema in
 * docs/journal.md. A write that fails (disk full, database locked) never stops the monitor: the
 * rows it loses are counted and said once per failure run. No payload byte and no registered
 * value ever enters it: the columns are those of a finding (spec §4).
 */
#ifndef CS_JOURNAL_H
#define CS_JOURNAL_H

#include <linux/types.h>

#include "verdict/correlate.h"
#include "output/output.h"

#define JOURNAL_SCHEMA	4
#define JOURNAL_BATCH	50000
#define JOURNAL_DEFAULT "/var/lib/consentry/findings.db"

struct journal;
struct sqlite3;

struct journal_stats {
	__u64 written; /* rows committed */
	__u64 lost;    /* rows a failed write or commit lost */
	__u64 errors;  /* failed writes or commits */
};

/*
 * Open or create the journal at path for writing; an older version (1 to 3) is migrated to
 * JOURNAL_SCHEMA in place (said). 0, or -errno / -EINVAL (said on stderr).
 */
int journal_open(struct journal **out, const char *path);
/* One finding; a failure is counted, never returned. */
void journal_add(struct journal *j, const struct cs_event *ev, const struct finding *f,
		 const char *host, __s64 t_ns, const struct proc_view *pv);
/* Commit the open batch (the collector's 1-second tick, and at exit); retries after a failure. */
void journal_commit(struct journal *j);
void journal_get_stats(const struct journal *j, struct journal_stats *s);
/*
 * SIGHUP: commit, close and open the path again (logrotate moved the file away: a new journal
 * is made there). 0, or -EINVAL (said; rows are counted lost until a reopen succeeds).
 */
int journal_reopen(struct journal *j);
/* Commits what is open, then closes. */
void journal_close(struct journal *j);

/*
 * Open an existing journal read-only for queries, its schema checked. 0, or -errno / -EINVAL
 * (said on stderr).
 */
int journal_open_ro(struct sqlite3 **db, const char *path);
/* The schema version of an open journal: JOURNAL_SCHEMA, or older (1 to 3) for one not migrated
 * yet (a reader's). */
int journal_schema(struct sqlite3 *db);

#endif
