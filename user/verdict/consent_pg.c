// SPDX-License-Identifier: GPL-2.0-only
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <libpq-fe.h>

#include "verdict/consent_pg.h"
#include "verdict/consent.h"
#include "lib/log.h"
#include "lib/timeutil.h"

/* Fixed type OIDs of the catalog (pg_type.dat); libpq-dev has no header naming them. */
#define OID_TIMESTAMP	1114
#define OID_TIMESTAMPTZ 1184
#define BACKOFF_MAX_S	30
/* A non-blocking connect still going after this is given up (libpq leaves the bound to us). */
#define CONNECT_LIMIT_NS (10 * 1000000000LL)
/* A query not answered after this ends the connection (exec_bounded); the server gives up at half.
 */
#define QUERY_LIMIT_NS (10 * 1000000000LL)

enum pg_state { PG_DOWN, PG_CONNECTING, PG_UP };

struct consent_pg {
	struct consent_pg_url url;
	PGconn *conn;
	enum pg_state state;
	int efd;		 /* epoll set holding sock: what the collector watches */
	int sock;		 /* the connection's socket in efd; -1: none */
	int pending;		 /* a NOTIFY came during a query: read the table again */
	__s64 next_try, started; /* CLOCK_MONOTONIC ns */
	unsigned backoff_s;
	struct consent_pg_stats st;
};

int consent_pg_is_url(const char *s)
{
	return s && (!strncmp(s, "postgresql://", 13) || !strncmp(s, "postgres://", 11));
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decode s[0..n) into a new string; NULL with errno EINVAL (bad escape, NUL) or ENOMEM. */
static char *pct_decode(const char *s, size_t n)
{
	char *out = malloc(n + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		int hi, lo;

		if (s[i] != '%') {
			*o++ = s[i];
			continue;
		}
		hi = i + 2 < n ? hexval(s[i + 1]) : -1;
		lo = i + 2 < n ? hexval(s[i + 2]) : -1;
		if (hi < 0 || lo < 0 || (hi | lo) == 0) {
			free(out);
			errno = EINVAL;
			return NULL;
		}
		*o++ = (char)(hi * 16 + lo);
		i += 2;
	}
	*o = '\0';
	return out;
}

void consent_pg_url_release(struct consent_pg_url *u)
{
	free(u->conninfo);
	free(u->display);
	free(u->table);
	free(u->channel);
	memset(u, 0, sizeof(*u));
}

/* One query parameter k=v of the URL: consentry's own, or passed on to libpq. */
static int url_param(struct consent_pg_url *u, const char *p, size_t n, FILE *ci, FILE *disp,
		     int *nkept, int *nshown)
{
	const char *eq = memchr(p, '=', n);
	size_t klen = eq ? (size_t)(eq - p) : n;
	char **own = NULL;

	if (klen == 5 && !strncmp(p, "table", 5))
		own = &u->table;
	else if (klen == 7 && !strncmp(p, "channel", 7))
		own = &u->channel;
	/* the display keeps every parameter, in order: it names the table in messages */
	fputc(*nshown ? '&' : '?', disp);
	(*nshown)++;
	if (own) {
		fwrite(p, 1, n, disp);
		free(*own);
		*own = pct_decode(eq ? eq + 1 : p + n, eq ? n - klen - 1 : 0);
		return *own ? 0 : -errno;
	}
	fputc(*nkept ? '&' : '?', ci);
	(*nkept)++;
	fwrite(p, 1, n, ci);
	if (klen == 8 && !strncmp(p, "password", 8))
		fputs("password=***", disp);
	else
		fwrite(p, 1, n, disp);
	return 0;
}

int consent_pg_url_parse(struct consent_pg_url *u, const char *url)
{
	const char *auth = strstr(url, "://"), *q = strchr(url, '?'), *end, *at = NULL, *colon;
	size_t cilen = 0, displen = 0, baselen;
	FILE *ci = NULL, *disp = NULL;
	int err = 0, nkept = 0, nshown = 0;

	memset(u, 0, sizeof(*u));
	if (!consent_pg_is_url(url) || !auth)
		return -EINVAL;
	auth += 3;
	baselen = q ? (size_t)(q - url) : strlen(url);
	/*
	 * userinfo is what comes before the last '@' of the authority (a password may hold '@');
	 * looked for up to the query, not the path: a '/' left unencoded in a password must not
	 * show it (a ':' in the path after a real '@' only masks more)
	 */
	end = auth + strcspn(auth, "?");
	for (const char *p = auth; p < end; p++)
		if (*p == '@')
			at = p;
	ci = open_memstream(&u->conninfo, &cilen);
	disp = open_memstream(&u->display, &displen);
	if (!ci || !disp) {
		err = -ENOMEM;
		goto out;
	}
	fwrite(url, 1, baselen, ci);
	colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
	if (colon) {
		fwrite(url, 1, (size_t)(colon - url) + 1, disp);
		fputs("***", disp);
		fwrite(at, 1, baselen - (size_t)(at - url), disp);
	} else {
		fwrite(url, 1, baselen, disp);
	}
	for (const char *p = q ? q + 1 : NULL; p && *p && !err;) {
		size_t n = strcspn(p, "&");

		if (n)
			err = url_param(u, p, n, ci, disp, &nkept, &nshown);
		p += n + (p[n] == '&');
	}
out:
	if (ci && fclose(ci))
		err = err ? err : -ENOMEM;
	if (disp && fclose(disp))
		err = err ? err : -ENOMEM;
	if (!err && !u->table)
		u->table = strdup(CONSENT_PG_TABLE);
	if (!err && !u->channel)
		u->channel = strdup(CONSENT_PG_CHANNEL);
	if (!err && (!u->conninfo || !u->display || !u->table || !u->channel))
		err = -ENOMEM;
	if (err == -EINVAL)
		pr_err("%s: bad table= or channel= (a %%XX escape that is not hex or is %%00)",
		       u->display ? u->display : "postgresql URL");
	else if (!err && (!*u->table || !*u->channel || u->table[0] == '.' ||
			  u->table[strlen(u->table) - 1] == '.')) {
		pr_err("%s: empty %s (expected table=NAME or SCHEMA.NAME, channel=NAME)",
		       u->display, !*u->channel ? "channel=" : "table name");
		err = -EINVAL;
	}
	if (err)
		consent_pg_url_release(u);
	return err;
}

int consent_pg_time(char *out, size_t n, const char *s)
{
	size_t len = strlen(s), i;
	const char *tz;

	if (!strcmp(s, "infinity")) {
		if (n)
			out[0] = '\0';
		return n ? 0 : -EINVAL;
	}
	/* "YYYY-MM-DD HH:MM:SS" then ".digits", then "+00" (timestamptz) or nothing (timestamp,
	 * taken as UTC: the session's zone); years past 9999 and BC are not RFC 3339 */
	if (len < 19 || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' || s[16] != ':')
		return -EINVAL;
	i = 19;
	if (s[i] == '.')
		for (i++; s[i] >= '0' && s[i] <= '9'; i++)
			;
	tz = s + i;
	if (*tz && strcmp(tz, "+00"))
		return -EINVAL;
	if ((size_t)(tz - s) + 2 > n)
		return -EINVAL;
	memcpy(out, s, (size_t)(tz - s));
	out[10] = 'T';
	out[tz - s] = 'Z';
	out[tz - s + 1] = '\0';
	return 0;
}

/* A cell, always quoted (RFC 4180: quotes doubled; commas and line breaks kept inside). */
static void put_cell(FILE *f, const char *s, int last)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputs(last ? "\"\r\n" : "\",", f);
}

int consent_pg_render(FILE *f, const struct pg_result *res)
{
	int nf = PQnfields(res), nt = PQntuples(res);
	char ts[64];

	for (int j = 0; j < nf; j++)
		put_cell(f, PQfname(res, j), j == nf - 1);
	for (int i = 0; i < nt; i++) {
		for (int j = 0; j < nf; j++) {
			const char *v = PQgetisnull(res, i, j) ? "" : PQgetvalue(res, i, j);
			Oid t = PQftype(res, j);

			if ((t == OID_TIMESTAMPTZ || t == OID_TIMESTAMP) && *v &&
			    !consent_pg_time(ts, sizeof(ts), v))
				v = ts;
			put_cell(f, v, j == nf - 1);
		}
	}
	return ferror(f) ? -EIO : 0;
}

/* libpq's message on one line: its line breaks (and the tabs after them) as one space. */
static const char *one_line(const char *m)
{
	static char buf[512];
	size_t n = 0;

	for (; *m && n < sizeof(buf) - 1; m++) {
		if (*m != '\n' && *m != '\t' && *m != '\r')
			buf[n++] = *m;
		else if (n && buf[n - 1] != ' ')
			buf[n++] = ' ';
	}
	while (n && buf[n - 1] == ' ')
		n--;
	buf[n] = '\0';
	return n ? buf : "unknown error";
}

static const char *pq_msg(const PGconn *conn)
{
	return one_line(conn ? PQerrorMessage(conn) : "out of memory");
}

/* A failed query's primary message ("relation \"x\" does not exist"), else the connection's. */
static const char *res_msg(const PGresult *res, const PGconn *conn)
{
	const char *m = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;

	return m ? one_line(m) : pq_msg(conn);
}

/*
 * What the server says outside a query (a shutdown's "terminating connection due to administrator
 * command") goes to our log, on one line, not to libpq's default of stderr as it came.
 */
static void on_notice(void *arg, const char *msg)
{
	const struct consent_pg *pg = arg;

	pr_warn("%s: server: %s", pg->url.display, one_line(msg));
}

/* Watch the connection's socket for events (it may be a new one: libpq tries address after
 * address). */
static void watch(struct consent_pg *pg, unsigned events)
{
	struct epoll_event e = {.events = events};
	int fd = PQsocket(pg->conn);

	/* a socket libpq closed left the set by itself, and its number may be back for a new one */
	if (fd == pg->sock && !epoll_ctl(pg->efd, EPOLL_CTL_MOD, fd, &e))
		return;
	if (pg->sock >= 0 && fd != pg->sock)
		epoll_ctl(pg->efd, EPOLL_CTL_DEL, pg->sock, NULL);
	pg->sock = -1;
	if (fd >= 0 && !epoll_ctl(pg->efd, EPOLL_CTL_ADD, fd, &e))
		pg->sock = fd;
}

static void disconnect(struct consent_pg *pg)
{
	if (pg->sock >= 0)
		epoll_ctl(pg->efd, EPOLL_CTL_DEL, pg->sock, NULL);
	pg->sock = -1;
	PQfinish(pg->conn);
	pg->conn = NULL;
	pg->state = PG_DOWN;
	pg->st.up = 0;
}

/* The next try after backoff_s, which doubles up to BACKOFF_MAX_S. */
static void retry_later(struct consent_pg *pg)
{
	disconnect(pg);
	pg->next_try = clock_ns(CLOCK_MONOTONIC) + (__s64)pg->backoff_s * 1000000000LL;
	pg->backoff_s = pg->backoff_s * 2 > BACKOFF_MAX_S ? BACKOFF_MAX_S : pg->backoff_s * 2;
}

/* why: NULL for libpq's message */
static void lost(struct consent_pg *pg, const char *why)
{
	pg->st.outages++;
	pr_err("%s: connection lost (%s): keeping the consent table loaded before, reconnecting",
	       pg->url.display, why ? why : pq_msg(pg->conn));
	pg->backoff_s = 1;
	retry_later(pg);
}

/*
 * PQexec with a bound: the collector's loop runs the query and must not wait on a server that
 * stopped answering (statement_timeout covers a slow one). The last result, or the first error;
 * NULL with *timed_out set when the bound passed, NULL alone when the connection failed.
 */
static PGresult *exec_bounded(PGconn *conn, const char *sql, int *timed_out)
{
	__s64 deadline = clock_ns(CLOCK_MONOTONIC) + QUERY_LIMIT_NS;
	PGresult *res, *keep = NULL;

	*timed_out = 0;
	if (!PQsendQuery(conn, sql))
		return NULL;
	for (;;) {
		while (PQisBusy(conn)) {
			struct pollfd p = {.fd = PQsocket(conn), .events = POLLIN};
			__s64 left = deadline - clock_ns(CLOCK_MONOTONIC);

			if (left <= 0) {
				*timed_out = 1;
				PQclear(keep);
				return NULL;
			}
			if (poll(&p, 1, (int)(left / 1000000) + 1) < 0 && errno != EINTR) {
				PQclear(keep);
				return NULL;
			}
			if (!PQconsumeInput(conn)) {
				PQclear(keep);
				return NULL;
			}
		}
		res = PQgetResult(conn);
		if (!res)
			return keep;
		if (keep && PQresultStatus(keep) == PGRES_FATAL_ERROR) {
			PQclear(res);
			continue;
		}
		PQclear(keep);
		keep = res;
	}
}

/*
 * Times as RFC 3339 can take them (consent_pg_time), whatever the server's defaults; then the
 * channel. One round trip.
 */
static int session_setup(struct consent_pg *pg)
{
	char *chan = PQescapeIdentifier(pg->conn, pg->url.channel, strlen(pg->url.channel));
	char *sql = NULL;
	PGresult *res;
	int ok, late;

	/* statement_timeout: a SELECT waiting on a lock (a migration's ALTER TABLE) gives up */
	if (!chan ||
	    asprintf(&sql,
		     "SET TimeZone = 'UTC'; SET DateStyle = 'ISO'; SET statement_timeout = "
		     "%d; LISTEN %s",
		     (int)(QUERY_LIMIT_NS / 2000000), chan) < 0) {
		PQfreemem(chan);
		return -ENOMEM;
	}
	PQfreemem(chan);
	res = exec_bounded(pg->conn, sql, &late);
	free(sql);
	ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	if (!ok)
		pr_err("%s: cannot LISTEN on channel '%s': %s", pg->url.display, pg->url.channel,
		       late ? "no answer in time" : res_msg(res, pg->conn));
	PQclear(res);
	return ok ? 0 : -EHOSTUNREACH;
}

/*
 * libpq's keywords: a connect timeout and our name, which the URL's own parameters (expanded
 * from dbname, which comes after them) override.
 */
static const char *const conn_kw[] = {"connect_timeout", "fallback_application_name", "dbname",
				      NULL};

int consent_pg_open(struct consent_pg **out, const char *url)
{
	struct consent_pg *pg = calloc(1, sizeof(*pg));
	const char *vals[4] = {"5", "consentry", NULL, NULL};
	int err;

	*out = NULL;
	if (!pg)
		return -ENOMEM;
	pg->sock = -1;
	pg->backoff_s = 1;
	pg->efd = epoll_create1(EPOLL_CLOEXEC);
	if (pg->efd < 0) {
		err = -errno;
		pr_err("epoll_create1: %s", strerror(errno));
		goto out;
	}
	err = consent_pg_url_parse(&pg->url, url);
	if (err)
		goto out;
	vals[2] = pg->url.conninfo;
	pg->conn = PQconnectdbParams(conn_kw, vals, 1);
	PQsetNoticeProcessor(pg->conn, on_notice, pg);
	if (PQstatus(pg->conn) != CONNECTION_OK) {
		pr_err("%s: cannot connect to the consent database: %s", pg->url.display,
		       pq_msg(pg->conn));
		err = -EHOSTUNREACH;
		goto out;
	}
	err = session_setup(pg);
	if (err)
		goto out;
	pg->state = PG_UP;
	pg->st.up = 1;
	watch(pg, EPOLLIN);
out:
	if (err)
		consent_pg_free(pg);
	else
		*out = pg;
	return err;
}

/* "SELECT * FROM schema.name" with each part quoted by libpq; NULL on no memory. */
static char *select_sql(PGconn *conn, const char *table)
{
	const char *dot = strchr(table, '.');
	char *a, *b = NULL, *sql = NULL;

	a = PQescapeIdentifier(conn, table, dot ? (size_t)(dot - table) : strlen(table));
	if (a && dot)
		b = PQescapeIdentifier(conn, dot + 1, strlen(dot + 1));
	if (a && (b || !dot) &&
	    asprintf(&sql, "SELECT * FROM %s%s%s", a, b ? "." : "", b ? b : "") < 0)
		sql = NULL;
	PQfreemem(a);
	PQfreemem(b);
	return sql;
}

int consent_pg_load(struct consent_pg *pg, struct consent_db **out, const struct recipients *r)
{
	char *sql, path[64];
	PGresult *res;
	PGnotify *n;
	FILE *f;
	int fd, err, late;

	*out = NULL;
	if (pg->state != PG_UP) {
		pr_err("%s: not connected (reconnecting)", pg->url.display);
		return -EHOSTUNREACH;
	}
	sql = select_sql(pg->conn, pg->url.table);
	if (!sql)
		return -ENOMEM;
	res = exec_bounded(pg->conn, sql, &late);
	free(sql);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		if (late || PQstatus(pg->conn) == CONNECTION_BAD) {
			PQclear(res);
			lost(pg, late ? "no answer to the SELECT in time" : NULL);
			return -EHOSTUNREACH;
		}
		/* a missing table, no privilege: the input is wrong, like a missing file */
		pr_err("%s: cannot read table %s: %s", pg->url.display, pg->url.table,
		       res_msg(res, pg->conn));
		PQclear(res);
		return -EINVAL;
	}
	/* a NOTIFY that came during the SELECT may be for a commit its snapshot did not see */
	while ((n = PQnotifies(pg->conn))) {
		PQfreemem(n);
		pg->pending = 1;
	}
	fd = memfd_create("consentry-consent", MFD_CLOEXEC);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		err = -errno;
		pr_err("%s: memfd for the table: %s", pg->url.display, strerror(errno));
		if (fd >= 0)
			close(fd);
		PQclear(res);
		return err;
	}
	err = consent_pg_render(f, res);
	PQclear(res);
	if (!err && fflush(f))
		err = -errno;
	if (err) {
		pr_err("%s: cannot write the table to a memfd: %s", pg->url.display,
		       strerror(-err));
	} else {
		/* opened again by path: consent.c reads it like any file */
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		err = consent_load_named(out, path, pg->url.display, pg->url.table, r);
	}
	fclose(f);
	return err;
}

const char *consent_pg_name(const struct consent_pg *pg)
{
	return pg->url.display;
}

int consent_pg_fd(const struct consent_pg *pg)
{
	return pg->efd;
}

const struct consent_pg_stats *consent_pg_stats(const struct consent_pg *pg)
{
	return &pg->st;
}

static void connect_start(struct consent_pg *pg, __s64 now)
{
	const char *vals[4] = {"5", "consentry", pg->url.conninfo, NULL};

	pg->conn = PQconnectStartParams(conn_kw, vals, 1);
	PQsetNoticeProcessor(pg->conn, on_notice, pg);
	if (PQstatus(pg->conn) == CONNECTION_BAD) {
		pr_warn("%s: reconnect failed: %s; next try in %u s", pg->url.display,
			pq_msg(pg->conn), pg->backoff_s);
		retry_later(pg);
		return;
	}
	pg->state = PG_CONNECTING;
	pg->started = now;
	/* libpq: poll as if PGRES_POLLING_WRITING had been returned */
	watch(pg, EPOLLOUT);
}

static enum consent_pg_event connect_continue(struct consent_pg *pg, int ready, __s64 now)
{
	const char *why;

	if (!ready) {
		if (now - pg->started < CONNECT_LIMIT_NS)
			return CONSENT_PG_NONE;
		why = "timed out";
	} else {
		switch (PQconnectPoll(pg->conn)) {
		case PGRES_POLLING_READING:
			watch(pg, EPOLLIN);
			return CONSENT_PG_NONE;
		case PGRES_POLLING_WRITING:
			watch(pg, EPOLLOUT);
			return CONSENT_PG_NONE;
		case PGRES_POLLING_OK:
			if (session_setup(pg)) {
				why = "session setup failed";
				break;
			}
			pg->state = PG_UP;
			pg->st.up = 1;
			pg->st.reconnects++;
			pg->backoff_s = 1;
			watch(pg, EPOLLIN);
			fprintf(stderr, "consentry: %s: reconnected, listening on '%s'\n",
				pg->url.display, pg->url.channel);
			return CONSENT_PG_RECONNECTED;
		default:
			why = pq_msg(pg->conn);
			break;
		}
	}
	pr_warn("%s: reconnect failed: %s; next try in %u s", pg->url.display, why, pg->backoff_s);
	retry_later(pg);
	return CONSENT_PG_NONE;
}

enum consent_pg_event consent_pg_run(struct consent_pg *pg)
{
	struct epoll_event e;
	__s64 now = clock_ns(CLOCK_MONOTONIC);
	int ready = epoll_wait(pg->efd, &e, 1, 0) > 0, notified = 0;
	PGnotify *n;

	switch (pg->state) {
	case PG_DOWN:
		if (now >= pg->next_try)
			connect_start(pg, now);
		return CONSENT_PG_NONE;
	case PG_CONNECTING:
		return connect_continue(pg, ready, now);
	case PG_UP:
		break;
	}
	if (ready && (!PQconsumeInput(pg->conn) || PQstatus(pg->conn) == CONNECTION_BAD)) {
		lost(pg, NULL);
		return CONSENT_PG_NONE;
	}
	while ((n = PQnotifies(pg->conn))) {
		PQfreemem(n);
		notified = 1;
	}
	if (pg->pending)
		notified = 1;
	pg->pending = 0;
	return notified ? CONSENT_PG_NOTIFY : CONSENT_PG_NONE;
}

void consent_pg_free(struct consent_pg *pg)
{
	if (!pg)
		return;
	disconnect(pg);
	if (pg->efd >= 0)
		close(pg->efd);
	consent_pg_url_release(&pg->url);
	free(pg);
}
