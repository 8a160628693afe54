/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Consent rows from PostgreSQL (spec §7 "Consent source"): -c postgresql://... (or postgres://)
 * names a table or view with the consent.csv columns, read with libpq. Its rows are rendered as
 * RFC 4180 CSV into a memfd and loaded by consent.c, so a table is held to exactly the rules of a
 * file (messages say URL:LINE, the header being line 1 as in `\copy ... csv header`).
 *
 * The URL may carry consentry's own parameters, removed before libpq sees it: table=NAME or
 * SCHEMA.NAME (default consent) and channel=NAME (default consentry_consent), the channel that
 * is LISTENed on: a NOTIFY there asks for a reload. A lost connection keeps the last good table;
 * it is counted and retried with backoff (1 s doubling to 30 s), connecting without blocking the
 * collector's loop (PQconnectStart/PQconnectPoll); after a reconnect the table is read again.
 */
#ifndef CS_CONSENT_PG_H
#define CS_CONSENT_PG_H

#include <stddef.h>
#include <stdio.h>

struct consent_db;
struct recipients;
struct consent_pg;
struct pg_result; /* libpq's PGresult */

#define CONSENT_PG_TABLE   "consent"
#define CONSENT_PG_CHANNEL "consentry_consent"

struct consent_pg_url {
	char *conninfo; /* the URL without consentry's parameters: for libpq */
	char *display;	/* the URL with any password as ***: for messages */
	char *table;	/* table= (decoded): NAME or SCHEMA.NAME */
	char *channel;	/* channel= (decoded) */
};

/* 1 when s is a postgresql:// or postgres:// URL (-c takes it instead of a file). */
int consent_pg_is_url(const char *s);
/* Split url; 0, or -EINVAL (said, the password masked) / -ENOMEM. */
int consent_pg_url_parse(struct consent_pg_url *u, const char *url);
void consent_pg_url_release(struct consent_pg_url *u);
/*
 * A timestamp as PostgreSQL prints it with DateStyle ISO and TimeZone UTC ("2025-01-01
 * 00:00:00[.ffffff][+00]") to RFC 3339 ("2025-01-01T00:00:00[.ffffff]Z"); "infinity" to "" (an
 * unbounded expires_at or withdrawn_at). 0, or -EINVAL when s is not of that form (it is then
 * passed as it is, and the loader names it).
 */
int consent_pg_time(char *out, size_t n, const char *s);
/*
 * A result set as CSV: a header of the column names, then one record per row, every cell quoted
 * (a value starting with '#' is no comment line), SQL NULL as "", timestamp columns through
 * consent_pg_time(). 0 or -EIO.
 */
int consent_pg_render(FILE *f, const struct pg_result *res);

/*
 * Connect (blocking, connect_timeout 5 s unless the URL sets one) and LISTEN. 0, or -EINVAL for
 * a bad URL, -EHOSTUNREACH when the database cannot be reached (said); -ENOMEM.
 */
int consent_pg_open(struct consent_pg **out, const char *url);
/*
 * Read the table (one SELECT, waited for at most 10 s). 0 and *out; -EINVAL for a table with errors
 * or one that cannot be read (each printed as URL:LINE: msg, nothing kept); -EHOSTUNREACH when not
 * connected (the outage is counted and a reconnect scheduled).
 */
int consent_pg_load(struct consent_pg *pg, struct consent_db **out, const struct recipients *r);
/* The URL with the password masked (for messages). */
const char *consent_pg_name(const struct consent_pg *pg);
/* An fd to watch for reads (an epoll set holding the connection's socket, whichever it is). */
int consent_pg_fd(const struct consent_pg *pg);

enum consent_pg_event {
	CONSENT_PG_NONE,
	CONSENT_PG_NOTIFY,	/* a NOTIFY on the channel: read the table again */
	CONSENT_PG_RECONNECTED, /* back after an outage: read the table again */
};
/*
 * Handle what is ready on the fd, and time: call on the fd's readiness and every second (the
 * reconnect backoff). Never blocks but for the LISTEN after a reconnect (at most 10 s).
 */
enum consent_pg_event consent_pg_run(struct consent_pg *pg);

struct consent_pg_stats {
	unsigned outages;    /* connections lost */
	unsigned reconnects; /* connections made again */
	int up;		     /* connected and listening now */
};
const struct consent_pg_stats *consent_pg_stats(const struct consent_pg *pg);
void consent_pg_free(struct consent_pg *pg);

#endif
