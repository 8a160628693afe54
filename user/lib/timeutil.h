/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * RFC 3339 timestamps <-> nanoseconds since the Unix epoch (UTC). Pure arithmetic: independent
 * of the locale, TZ and the C library's time functions.
 */
#ifndef CS_TIMEUTIL_H
#define CS_TIMEUTIL_H

#include <stddef.h>
#include <time.h>
#include <linux/types.h>

/* Buffer size that always holds rfc3339_format()'s output with its NUL. */
#define RFC3339_BUFSZ 32

/*
 * Parse "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)". 'T', 't' or ' ' separate date and time,
 * 'z' is accepted for 'Z', frac has 1..9 digits. Ranges are checked (days per month, leap years);
 * leap seconds (:60) and instants outside the __s64 nanosecond range (years 1678..2261) are
 * refused. Returns 0 and sets *out_ns, or -EINVAL.
 */
int rfc3339_parse(const char *s, __s64 *out_ns);

/* Format as "2026-11-28T13:00:00.123456Z" (UTC, microseconds, truncated toward the past). */
void rfc3339_format(__s64 ns, char *buf, size_t len);

/* Days since 1970-01-01 of a proleptic Gregorian date (negative before), any year. */
long long days_from_civil(long long y, unsigned m, unsigned d);
/* The date of day z (days since 1970-01-01): the inverse of days_from_civil. */
void civil_from_days(long long z, long long *y, unsigned *m, unsigned *d);

/*
 * Completed years at UTC instant t_ns of someone born on day birth_days (days since 1970-01-01,
 * UTC calendar). A 29 February birthday counts as 1 March in common years (the reading of
 * most civil codes, and the later day: conservative for a rule about minors). Before the birth
 * the result is negative (-1 in the year before it).
 */
int age_at(__s32 birth_days, __s64 t_ns);

/* Clock id now, in nanoseconds (CLOCK_MONOTONIC, CLOCK_REALTIME, ...). */
static inline __s64 clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (__s64)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

#endif
