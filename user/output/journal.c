// SPDX-License-Identifier: GPL-2.0-only
/* The findings journal: SQLite, WAL, batched transactions (journal.h, docs/journal.md). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <arpa/inet.h>

#include "lib/encodings.h"
#include "lib/fields.h"
#include "output/journal.h"
#include "lib/log.h"
#include "monitor/message.h"
#include "monitor/procinfo.h"
#include "verdict/consent.h"
#include "verdict/recipients.h"

#define NS_PER_DAY 86400000000000LL

/*
 * Version 4. Columns are a finding's (spec §4, §7); lists are comma-separated. Version 1 had no
 * count and last_ns (migrate_v1), version 2 none of the §7 columns (migrate_v2), version 3 no
 * action (migrate_v3).
 */
/*
 * The spec §7 columns of version 3, as CREATE TABLE declares them and ALTER TABLE adds them:
 * NULL in rows of older versions (nothing was known of them), "" violations there.
 */
#define JOURNAL_V3_COLS                                                                            \
	" purpose TEXT,"	 /* the recipients row's purpose */                                \
	" country TEXT,"	 /* destination country, NULL unknown */                           \
	" cross_border INTEGER," /* 1, 0, NULL unknown */                                          \
	" sensitive TEXT,"	 /* disclosed sensitive fields */                                  \
	" minor INTEGER,"	 /* 1: the subject was a minor then */                             \
	" violations TEXT NOT NULL DEFAULT ''"

static const char schema_sql[] =
    "CREATE TABLE findings ("
    " id INTEGER PRIMARY KEY,"
    " time_ns INTEGER NOT NULL," /* Unix time, ns */
    " day INTEGER NOT NULL,"	 /* UTC day: time_ns / 86400e9 */
    " verdict TEXT NOT NULL,"	 /* unconsented, consented, exempt */
    " subject TEXT NOT NULL,"
    " fields TEXT NOT NULL,"	    /* disclosed field types */
    " field_mask INTEGER NOT NULL," /* the same as bits 1 << cs_field */
    " unconsented TEXT NOT NULL,"
    " recipient TEXT," /* NULL: no recipient row matched */
    " recipient_kind TEXT NOT NULL,"
    " dst_ip TEXT NOT NULL, dst_port INTEGER NOT NULL, host TEXT, protocol TEXT NOT NULL,"
    " pid INTEGER NOT NULL, tid INTEGER NOT NULL, uid INTEGER NOT NULL, comm TEXT NOT NULL,"
    " exe TEXT, cgroup TEXT, container_id TEXT, pod_uid TEXT, pod_namespace TEXT, pod_name TEXT,"
    " channel TEXT NOT NULL,"
    " consent_ids TEXT NOT NULL, fingerprints TEXT NOT NULL, encodings TEXT NOT NULL,"
    " bytes_inspected INTEGER NOT NULL, bytes_total INTEGER NOT NULL, truncated INTEGER NOT NULL,"
    " message_id TEXT NOT NULL, message_subjects INTEGER NOT NULL,"
    " http_version TEXT, http_method TEXT, http_path TEXT,"
    " count INTEGER NOT NULL DEFAULT 1," /* disclosures the row stands for (run --dedup) */
    " last_ns INTEGER,"			 /* the last one's time; NULL (version 1 rows): time_ns */
    JOURNAL_V3_COLS ","
    " action TEXT NOT NULL DEFAULT 'reported');" /* reported, blocked (run --block) */
    "CREATE INDEX findings_by_subject ON findings(subject, time_ns);"
    "CREATE INDEX findings_by_recipient ON findings(recipient, day, time_ns);"
    "CREATE INDEX findings_by_time ON findings(time_ns);"
    "PRAGMA user_version = 4;";

/*
 * Version 1 -> 2: two columns, added in place (no row is rewritten; a version 1 row counts one
 * finding, its last time is its time_ns), in one transaction with the version.
 */
static const char migrate_v1_sql[] =
    "BEGIN IMMEDIATE;"
    "ALTER TABLE findings ADD COLUMN count INTEGER NOT NULL DEFAULT 1;"
    "ALTER TABLE findings ADD COLUMN last_ns INTEGER;"
    "PRAGMA user_version = 2;"
    "COMMIT;";

/* Version 2 -> 3: the §7 columns, added in place the same way. */
static const char migrate_v2_sql[] =
    "BEGIN IMMEDIATE;"
    "ALTER TABLE findings ADD COLUMN purpose TEXT;"
    "ALTER TABLE findings ADD COLUMN country TEXT;"
    "ALTER TABLE findings ADD COLUMN cross_border INTEGER;"
    "ALTER TABLE findings ADD COLUMN sensitive TEXT;"
    "ALTER TABLE findings ADD COLUMN minor INTEGER;"
    "ALTER TABLE findings ADD COLUMN violations TEXT NOT NULL DEFAULT '';"
    "PRAGMA user_version = 3;"
    "COMMIT;";

/* Version 3 -> 4: the action; every older row was a send that went out (no block mode then). */
static const char migrate_v3_sql[] =
    "BEGIN IMMEDIATE;"
    "ALTER TABLE findings ADD COLUMN action TEXT NOT NULL DEFAULT 'reported';"
    "PRAGMA user_version = 4;"
    "COMMIT;";

/* The step from version v to v + 1, for v below JOURNAL_SCHEMA. */
static const char *const migrate_sql[JOURNAL_SCHEMA] = {
    [1] = migrate_v1_sql,
    [2] = migrate_v2_sql,
    [3] = migrate_v3_sql,
};

static const char insert_sql[] =
    "INSERT INTO findings (time_ns, day, verdict, subject, fields, field_mask, unconsented,"
    " recipient, recipient_kind, dst_ip, dst_port, host, protocol, pid, tid, uid, comm, exe,"
    " cgroup, container_id, pod_uid, pod_namespace, pod_name, channel, consent_ids, fingerprints,"
    " encodings, bytes_inspected, bytes_total, truncated, message_id, message_subjects,"
    " http_version, http_method, http_path, count, last_ns, purpose, country, cross_border,"
    " sensitive, minor, violations, action)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,"
    "?,?)";

struct journal {
	sqlite3 *db;
	sqlite3_stmt *ins;
	char *path;
	unsigned batch; /* rows in the open transaction */
	int in_tx;	/* a transaction is open */
	int down;	/* a write failed: rows are counted lost until the next commit tick */
	int said;	/* the current failure run was said on stderr */
	struct journal_stats st;
};

/* The schema version of db (0: empty), or -1 on a read error. */
static int schema_version(sqlite3 *db)
{
	sqlite3_stmt *s;
	int v = -1;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return v;
}

int journal_schema(sqlite3 *db)
{
	return schema_version(db);
}

/* Run one migration step; 0 or -EINVAL said, rolled back. */
static int migrate(sqlite3 *db, const char *path, const char *sql, int from)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	pr_err("%s: cannot migrate the journal from schema version %d to %d: %s", path, from,
	       from + 1, msg ? msg : "?");
	sqlite3_free(msg);
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -EINVAL;
}

/*
 * Checks (and for a writer, creates, or migrates from versions 1 to 3) the schema. A reader takes
 * an older version as it is (findings.c reads what it lacks as NULL, its action as reported). 0,
 * or -EINVAL said.
 */
static int schema_check(sqlite3 *db, const char *path, int create)
{
	int v = schema_version(db);
	char *msg = NULL;

	if (v < 0) {
		pr_err("%s: not a consentry journal: %s", path, sqlite3_errmsg(db));
		return -EINVAL;
	}
	if (v == 0 && create) {
		if (sqlite3_exec(db, schema_sql, NULL, NULL, &msg) != SQLITE_OK) {
			pr_err("%s: cannot create the journal: %s", path, msg ? msg : "?");
			sqlite3_free(msg);
			return -EINVAL;
		}
		return 0;
	}
	if (v < 1 || v > JOURNAL_SCHEMA) {
		pr_err("%s: journal schema version %d, expected %d, 3, 2 or 1 (docs/journal.md)",
		       path, v, JOURNAL_SCHEMA);
		return -EINVAL;
	}
	if (v < JOURNAL_SCHEMA && create) {
		for (int k = v; k < JOURNAL_SCHEMA; k++)
			if (migrate(db, path, migrate_sql[k], k))
				return -EINVAL;
		pr_info("%s: journal migrated from schema version %d to %d", path, v,
			JOURNAL_SCHEMA);
	}
	return 0;
}

/* Open (or create) j->path into j->db and j->ins. 0 or -EINVAL (said); nothing left open. */
static int journal_connect(struct journal *j)
{
	const char *path = j->path;
	char *msg = NULL;
	int err = -EINVAL;

	if (sqlite3_open_v2(path, &j->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		pr_err("%s: cannot open the journal: %s", path,
		       j->db ? sqlite3_errmsg(j->db) : "out of memory");
		goto fail;
	}
	/* WAL: queries read while the monitor writes; NORMAL: a commit is durable at the next
	 * checkpoint's fsync, a crash of the process (kill -9) loses nothing committed */
	if (sqlite3_exec(
		j->db,
		"PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536",
		NULL, NULL, &msg) != SQLITE_OK) {
		pr_err("%s: cannot open the journal: %s", path, msg ? msg : "?");
		sqlite3_free(msg);
		goto fail;
	}
	/* a locked database is never waited for: the collector counts the rows instead */
	sqlite3_busy_timeout(j->db, 0);
	err = schema_check(j->db, path, 1);
	if (err)
		goto fail;
	if (sqlite3_prepare_v2(j->db, insert_sql, -1, &j->ins, NULL) != SQLITE_OK) {
		pr_err("%s: %s", path, sqlite3_errmsg(j->db));
		err = -EINVAL;
		goto fail;
	}
	return 0;
fail:
	sqlite3_close(j->db);
	j->db = NULL;
	return err;
}

int journal_open(struct journal **out, const char *path)
{
	struct journal *j = calloc(1, sizeof(*j));
	int err;

	*out = NULL;
	if (!j || !(j->path = strdup(path))) {
		free(j);
		return -ENOMEM;
	}
	err = journal_connect(j);
	if (err) {
		free(j->path);
		free(j);
		return err;
	}
	*out = j;
	return 0;
}

/*
 * Close the connection, the open batch committed first and the WAL written back into the
 * database file: a file moved away (logrotate) keeps every row committed to it, and no WAL is
 * left at the path for a new journal there to take.
 */
static void journal_disconnect(struct journal *j)
{
	journal_commit(j);
	if (sqlite3_wal_checkpoint_v2(j->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL) !=
	    SQLITE_OK)
		pr_warn("%s: journal checkpoint: %s", j->path, sqlite3_errmsg(j->db));
	sqlite3_finalize(j->ins);
	sqlite3_close(j->db);
	j->ins = NULL;
	j->db = NULL;
}

int journal_reopen(struct journal *j)
{
	int err;

	if (!j)
		return 0;
	if (j->db)
		journal_disconnect(j);
	err = journal_connect(j);
	if (err) {
		/* rows are counted lost until a reopen (next SIGHUP) succeeds */
		j->st.errors++;
		return err;
	}
	j->down = 0;
	j->said = 0;
	pr_info("%s: journal reopened", j->path);
	return 0;
}

int journal_open_ro(struct sqlite3 **db, const char *path)
{
	int err;

	*db = NULL;
	if (sqlite3_open_v2(path, db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		pr_err("%s: cannot open the journal: %s", path,
		       *db ? sqlite3_errmsg(*db) : "out of memory");
		sqlite3_close(*db);
		*db = NULL;
		return -ENOENT;
	}
	/* a writer's commit in progress: wait for it a little */
	sqlite3_busy_timeout(*db, 2000);
	err = schema_check(*db, path, 0);
	if (err) {
		sqlite3_close(*db);
		*db = NULL;
	}
	return err;
}

/* A failed write: the open batch is lost (rolled back), said once per run of failures. */
static void write_failed(struct journal *j, const char *what)
{
	j->st.errors++;
	j->st.lost += j->batch;
	if (!j->said)
		pr_err("%s: journal %s failed: %s; findings are counted lost until a write "
		       "succeeds again (the monitor goes on)",
		       j->path, what, sqlite3_errmsg(j->db));
	j->said = 1;
	if (j->in_tx)
		sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
	j->in_tx = 0;
	j->batch = 0;
	j->down = 1;
}

void journal_commit(struct journal *j)
{
	if (!j || !j->db)
		return;
	if (j->in_tx) {
		if (sqlite3_exec(j->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
			write_failed(j, "commit");
			return;
		}
		j->st.written += j->batch;
		j->in_tx = 0;
		j->batch = 0;
		if (j->said)
			pr_info("%s: journal writes go on", j->path);
		j->said = 0;
	}
	/* after a failure, the next row tries again */
	j->down = 0;
}

static void bind_text(sqlite3_stmt *s, int i, const char *t)
{
	if (t)
		sqlite3_bind_text(s, i, t, -1, SQLITE_STATIC); /* alive until the step */
	else
		sqlite3_bind_null(s, i);
}

void journal_add(struct journal *j, const struct cs_event *ev, const struct finding *f,
		 const char *host, __s64 t_ns, const struct proc_view *pv)
{
	char fields[160], uncons[160], sens[160], viol[96], ip[INET6_ADDRSTRLEN],
	    comm[sizeof(ev->comm) + 1];
	char ids[FINDING_MAX_IDS * 65], fps[FINDING_MAX_FPS * 17 + 1], encs[CS_ENC_COUNT * 16];
	const struct msg_http *h = f->msg ? f->msg->http : NULL;
	sqlite3_stmt *s = j ? j->ins : NULL;
	size_t n = 0;
	int i = 1;

	if (!j)
		return;
	if (j->down || !j->db) {
		j->st.lost++;
		return;
	}
	if (!j->in_tx) {
		if (sqlite3_exec(j->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
			write_failed(j, "write");
			j->st.lost++;
			return;
		}
		j->in_tx = 1;
	}
	fields_join(f->fields, ",", fields, sizeof(fields));
	fields_join(f->unconsented, ",", uncons, sizeof(uncons));
	event_addr_str(ev, ip, sizeof(ip));
	memcpy(comm, ev->comm, sizeof(ev->comm));
	comm[sizeof(ev->comm)] = 0;
	ids[0] = 0;
	for (unsigned k = 0; k < f->nids && n < sizeof(ids); k++)
		n += (size_t)snprintf(ids + n, sizeof(ids) - n, "%s%s", k ? "," : "",
				      f->consent_ids[k]);
	n = 0;
	fps[0] = 0;
	for (unsigned k = 0; k < f->nfps && n < sizeof(fps); k++)
		n += (size_t)snprintf(fps + n, sizeof(fps) - n, "%s%016" PRIx64, k ? "," : "",
				      (uint64_t)f->fps[k]);
	n = 0;
	encs[0] = 0;
	for (unsigned k = 0; k < CS_ENC_COUNT && n < sizeof(encs); k++)
		if (f->encodings & (1u << k))
			n += (size_t)snprintf(encs + n, sizeof(encs) - n, "%s%s", n ? "," : "",
					      cs_enc_name(k));
	sqlite3_bind_int64(s, i++, t_ns);
	sqlite3_bind_int64(s, i++, t_ns / NS_PER_DAY);
	bind_text(s, i++, verdict_name(f->verdict));
	bind_text(s, i++, f->subject);
	bind_text(s, i++, fields);
	sqlite3_bind_int64(s, i++, f->fields);
	bind_text(s, i++, uncons);
	bind_text(s, i++, f->rcpt ? f->rcpt->name : NULL);
	bind_text(s, i++, rcpt_kind_name(f->rcpt ? f->rcpt->kind : RK_UNKNOWN));
	bind_text(s, i++, ip);
	sqlite3_bind_int(s, i++, ev->dport);
	bind_text(s, i++, host);
	bind_text(s, i++, ev->proto == 17 ? "udp" : "tcp");
	sqlite3_bind_int64(s, i++, ev->pid);
	sqlite3_bind_int64(s, i++, ev->tid);
	sqlite3_bind_int64(s, i++, ev->uid);
	bind_text(s, i++, comm);
	bind_text(s, i++, pv ? pv->exe : NULL);
	bind_text(s, i++, pv ? pv->cgroup : NULL);
	bind_text(s, i++, pv ? pv->container_id : NULL);
	bind_text(s, i++, pv && pv->pod ? pv->pod->uid : NULL);
	bind_text(s, i++, pv && pv->pod && pv->pod->ns[0] ? pv->pod->ns : NULL);
	bind_text(s, i++, pv && pv->pod && pv->pod->name[0] ? pv->pod->name : NULL);
	bind_text(s, i++, channel_name(ev->channel));
	bind_text(s, i++, ids);
	bind_text(s, i++, fps);
	bind_text(s, i++, encs);
	sqlite3_bind_int64(s, i++, ev->bytes_inspected);
	sqlite3_bind_int64(s, i++, ev->bytes_total);
	sqlite3_bind_int(s, i++, !!(ev->flags & CS_EV_TRUNCATED));
	bind_text(s, i++, f->msg_id);
	sqlite3_bind_int(s, i++, (int)f->msg_subjects);
	bind_text(s, i++, h ? h->version : NULL);
	bind_text(s, i++, h ? h->method : NULL);
	bind_text(s, i++, h ? h->path : NULL);
	/* run --dedup: a merged finding stands for count disclosures, t_ns the first one's */
	sqlite3_bind_int64(s, i++, f->count ? (sqlite3_int64)f->count : 1);
	sqlite3_bind_int64(s, i++, f->count ? f->last_ns : t_ns);
	bind_text(s, i++, f->purpose);
	bind_text(s, i++, f->country[0] ? f->country : NULL);
	if (f->cross_border < 0)
		sqlite3_bind_null(s, i++);
	else
		sqlite3_bind_int(s, i++, f->cross_border);
	bind_text(s, i++, fields_join(f->sensitive, ",", sens, sizeof(sens)));
	sqlite3_bind_int(s, i++, f->minor);
	bind_text(s, i++, violations_join(f->violations, ",", viol, sizeof(viol)));
	bind_text(s, i++, action_name(f));
	if (sqlite3_step(s) != SQLITE_DONE) {
		sqlite3_reset(s);
		j->batch++; /* this row too */
		write_failed(j, "write");
		return;
	}
	sqlite3_reset(s);
	if (++j->batch >= JOURNAL_BATCH)
		journal_commit(j);
}

void journal_get_stats(const struct journal *j, struct journal_stats *s)
{
	if (j)
		*s = j->st;
	else
		memset(s, 0, sizeof(*s));
}

void journal_close(struct journal *j)
{
	if (!j)
		return;
	if (j->db)
		journal_disconnect(j);
	free(j->path);
	free(j);
}
