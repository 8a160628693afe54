// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>

#include "lib/timeutil.h"

#define NS_PER_SEC 1000000000LL

/*
 * H. Hinnant's days_from_civil (timeutil.h): avoids timegm(), which is non-standard and depends
 * on the C library's TZ handling.
 */
long long days_from_civil(long long y, unsigned m, unsigned d)
{
	long long era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long long)doe - 719468;
}

void civil_from_days(long long z, long long *y, unsigned *m, unsigned *d)
{
	long long era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (long long)yoe + era * 400 + (*m <= 2);
}

static int is_leap(long long y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(long long y, unsigned m)
{
	static const unsigned char dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* Read exactly n decimal digits at *p into *v; advances *p. */
static int digits(const char **p, int n, unsigned *v)
{
	unsigned x = 0;

	for (int i = 0; i < n; i++) {
		char c = (*p)[i];

		if (c < '0' || c > '9')
			return -EINVAL;
		x = x * 10 + (unsigned)(c - '0');
	}
	*p += n;
	*v = x;
	return 0;
}

static int expect(const char **p, char c)
{
	if (**p != c)
		return -EINVAL;
	(*p)++;
	return 0;
}

int rfc3339_parse(const char *s, __s64 *out_ns)
{
	unsigned year, mon, day, hour, min, sec, oh = 0, om = 0;
	long long frac = 0, secs, ns;
	int sign = 0, nfrac = 0;
	const char *p = s;

	if (!s)
		return -EINVAL;
	if (digits(&p, 4, &year) || expect(&p, '-') || digits(&p, 2, &mon) || expect(&p, '-') ||
	    digits(&p, 2, &day))
		return -EINVAL;
	if (*p != 'T' && *p != 't' && *p != ' ')
		return -EINVAL;
	p++;
	if (digits(&p, 2, &hour) || expect(&p, ':') || digits(&p, 2, &min) || expect(&p, ':') ||
	    digits(&p, 2, &sec))
		return -EINVAL;
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9') {
			if (++nfrac > 9)
				return -EINVAL;
			frac = frac * 10 + (*p++ - '0');
		}
		if (!nfrac)
			return -EINVAL;
		for (int i = nfrac; i < 9; i++)
			frac *= 10;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '-' ? -1 : 1;
		if (digits(&p, 2, &oh) || expect(&p, ':') || digits(&p, 2, &om))
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	if (*p)
		return -EINVAL;

	/*
	 * Second 60 (a leap second) is valid RFC 3339 but has no POSIX-time representation; refuse
	 * it rather than silently folding it into the next minute.
	 */
	if (mon < 1 || mon > 12 || day < 1 || day > days_in_month(year, mon) || hour > 23 ||
	    min > 59 || sec > 59 || oh > 23 || om > 59)
		return -EINVAL;

	secs = days_from_civil(year, mon, day) * 86400 + hour * 3600 + min * 60 + sec;
	secs -= sign * (long long)(oh * 3600 + om * 60);
	/* borrow a second so the very first representable instants do not overflow secs * 1e9 */
	if (secs < 0 && frac) {
		secs++;
		frac -= NS_PER_SEC;
	}
	if (__builtin_mul_overflow(secs, NS_PER_SEC, &ns) || __builtin_add_overflow(ns, frac, &ns))
		return -EINVAL;
	*out_ns = ns;
	return 0;
}

void rfc3339_format(__s64 ns, char *buf, size_t len)
{
	long long secs = ns / NS_PER_SEC, rem = ns % NS_PER_SEC, days, y;
	unsigned m, d, sod;

	if (!len)
		return;
	/* floor division so pre-1970 instants print the second they fall in */
	if (rem < 0) {
		rem += NS_PER_SEC;
		secs--;
	}
	days = secs / 86400;
	if (secs % 86400 < 0)
		days--;
	sod = (unsigned)(secs - days * 86400);
	civil_from_days(days, &y, &m, &d);
	snprintf(buf, len, "%04lld-%02u-%02uT%02u:%02u:%02u.%06lldZ", y, m, d, sod / 3600,
		 sod / 60 % 60, sod % 60, rem / 1000);
}

/* The UTC day of t_ns: floor division, so an instant before 1970 falls in the day it is in. */
static long long day_of_ns(__s64 t_ns)
{
	long long day = t_ns / (86400 * NS_PER_SEC);

	if (t_ns % (86400 * NS_PER_SEC) < 0)
		day--;
	return day;
}

int age_at(__s32 birth_days, __s64 t_ns)
{
	long long by, ty;
	unsigned bm, bd, tm, td;

	civil_from_days(birth_days, &by, &bm, &bd);
	civil_from_days(day_of_ns(t_ns), &ty, &tm, &td);
	/* a 29 February birthday falls on 1 March in a common year */
	if (bm == 2 && bd == 29 && !is_leap(ty)) {
		bm = 3;
		bd = 1;
	}
	return (int)(ty - by - (tm < bm || (tm == bm && td < bd)));
}
