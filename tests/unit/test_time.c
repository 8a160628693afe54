// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "lib/timeutil.h"

#define S 1000000000LL

static __s64 parse_ok(const char *s)
{
	__s64 ns = 0x5a5a;

	assert_int_equal(rfc3339_parse(s, &ns), 0);
	return ns;
}

static void parse_bad(const char *s)
{
	__s64 ns = 0x5a5a;

	assert_int_equal(rfc3339_parse(s, &ns), -EINVAL);
	assert_int_equal(ns, 0x5a5a);
}

static void test_valid(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("1970-01-01T00:00:00Z"), 0);
	assert_int_equal(parse_ok("2026-11-28T13:00:00Z"), 1795870800 * S);
	assert_int_equal(parse_ok("2026-11-28t13:00:00z"), 1795870800 * S);
	assert_int_equal(parse_ok("2026-11-28 13:00:00Z"), 1795870800 * S);
	assert_int_equal(parse_ok("1900-03-01T00:00:00Z"), -2203891200LL * S);
	assert_int_equal(parse_ok("1969-12-31T23:59:59Z"), -1 * S);
}

static void test_offsets(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("2026-11-28T14:00:00+01:00"), 1795870800 * S);
	assert_int_equal(parse_ok("2026-11-28T07:30:00-05:30"), 1795870800 * S);
	assert_int_equal(parse_ok("2026-11-28T13:00:00+00:00"), 1795870800 * S);
	assert_int_equal(parse_ok("2026-11-28T13:00:00-00:00"), 1795870800 * S);
	/* the offset moves the instant across a day and a year boundary */
	assert_int_equal(parse_ok("2027-01-01T08:00:00+09:00"), parse_ok("2026-12-31T23:00:00Z"));
	assert_int_equal(parse_ok("2026-12-31T20:00:00-04:00"), parse_ok("2027-01-01T00:00:00Z"));
}

static void test_leap_day(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("2024-02-29T00:00:00Z"), 1709164800 * S);
	assert_int_equal(parse_ok("2000-02-29T23:59:59Z"), 951868799 * S);
	assert_int_equal(parse_ok("2024-03-01T00:00:00Z") - parse_ok("2024-02-28T00:00:00Z"),
			 2 * 86400 * S);
	assert_int_equal(parse_ok("2023-03-01T00:00:00Z") - parse_ok("2023-02-28T00:00:00Z"),
			 86400 * S);
	parse_bad("2023-02-29T00:00:00Z");
	parse_bad("1900-02-29T00:00:00Z");
	parse_bad("2100-02-29T00:00:00Z");
}

static void test_fraction(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("1970-01-01T00:00:00.5Z"), 500000000);
	assert_int_equal(parse_ok("1970-01-01T00:00:01.000000001Z"), S + 1);
	assert_int_equal(parse_ok("2026-11-28T13:00:00.123456Z"), 1795870800 * S + 123456000);
	assert_int_equal(parse_ok("2026-11-28T13:00:00.123456789+00:00"),
			 1795870800 * S + 123456789);
	assert_int_equal(parse_ok("1969-12-31T23:59:59.999999999Z"), -1);
	parse_bad("2026-11-28T13:00:00.1234567890Z");
	parse_bad("2026-11-28T13:00:00.Z");
	parse_bad("2026-11-28T13:00:00,5Z");
}

static void test_limits(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("2262-04-11T23:47:16.854775807Z"), INT64_MAX);
	assert_int_equal(parse_ok("1677-09-21T00:12:43.145224192Z"), INT64_MIN);
	parse_bad("2262-04-11T23:47:16.854775808Z");
	parse_bad("1677-09-21T00:12:43.145224191Z");
	parse_bad("9999-12-31T23:59:59Z");
	parse_bad("0000-01-01T00:00:00Z");
}

static void test_invalid(void **state)
{
	static const char *const bad[] = {
	    "",
	    "2026-11-28",
	    "2026-11-28T13:00:00",
	    "2026-11-28T13:00Z",
	    "2026-11-28T13:00:00+0100",
	    "2026-11-28T13:00:00+01",
	    "2026-11-28T13:00:00 Z",
	    "2026-11-28T13:00:00Zx",
	    "2026-11-28T13:00:00Z ",
	    " 2026-11-28T13:00:00Z",
	    "2026-11-28X13:00:00Z",
	    "2026-1-28T13:00:00Z",
	    "26-11-28T13:00:00Z",
	    "2026/11/28T13:00:00Z",
	    "2026-00-10T13:00:00Z",
	    "2026-13-10T13:00:00Z",
	    "2026-11-00T13:00:00Z",
	    "2026-04-31T13:00:00Z",
	    "2026-11-28T24:00:00Z",
	    "2026-11-28T23:60:00Z",
	    "2026-12-31T23:59:60Z",
	    "2026-11-28T13:00:00+24:00",
	    "2026-11-28T13:00:00+01:60",
	    "+2026-11-28T13:00:00Z",
	    "2026-11-28T13:00:00.-1Z",
	    "２026-11-28T13:00:00Z",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		parse_bad(bad[i]);
	parse_bad(NULL);
}

static void test_format(void **state)
{
	char buf[RFC3339_BUFSZ];

	(void)state;
	rfc3339_format(0, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01T00:00:00.000000Z");
	rfc3339_format(1795870800 * S + 123456789, buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-28T13:00:00.123456Z");
	rfc3339_format(1709164800 * S, buf, sizeof(buf));
	assert_string_equal(buf, "2024-02-29T00:00:00.000000Z");
	/* before the epoch: floor, not truncation toward zero */
	rfc3339_format(-1, buf, sizeof(buf));
	assert_string_equal(buf, "1969-12-31T23:59:59.999999Z");
	rfc3339_format(-2203891200LL * S, buf, sizeof(buf));
	assert_string_equal(buf, "1900-03-01T00:00:00.000000Z");
	rfc3339_format(INT64_MAX, buf, sizeof(buf));
	assert_string_equal(buf, "2262-04-11T23:47:16.854775Z");
	rfc3339_format(INT64_MIN, buf, sizeof(buf));
	assert_string_equal(buf, "1677-09-21T00:12:43.145224Z");
	/* a short buffer is truncated and stays NUL-terminated */
	rfc3339_format(0, buf, 5);
	assert_string_equal(buf, "1970");
	assert_int_equal(strlen(buf), 4);
}

static void test_round_trip(void **state)
{
	char buf[RFC3339_BUFSZ];
	__s64 ns, back;
	__u64 x = 88172645463325252ULL;

	(void)state;
	/* xorshift over the whole representable range, microsecond precision */
	for (int i = 0; i < 200000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		ns = (__s64)x / 1000 * 1000;
		if (ns < INT64_MIN + 1000)
			continue;
		rfc3339_format(ns, buf, sizeof(buf));
		assert_int_equal(strlen(buf), 27);
		assert_int_equal(rfc3339_parse(buf, &back), 0);
		assert_int_equal(back, ns);
	}
	/* every day of 1999..2101: consecutive midnights are 86400 s apart */
	back = parse_ok("1999-01-01T00:00:00Z");
	for (int d = 1; d < 103 * 366; d++) {
		rfc3339_format(back + 86400 * S, buf, sizeof(buf));
		ns = parse_ok(buf);
		assert_int_equal(ns - back, 86400 * S);
		back = ns;
	}
}

/* Days since 1970-01-01 of a date, checked against the RFC 3339 parser's own arithmetic. */
static __s32 day(const char *date)
{
	char buf[40];
	long long y;
	unsigned m, d;
	__s64 ns;

	snprintf(buf, sizeof(buf), "%sT00:00:00Z", date);
	ns = parse_ok(buf);
	assert_int_equal(ns % (86400 * S), 0);
	assert_int_equal(sscanf(date, "%lld-%u-%u", &y, &m, &d), 3);
	assert_int_equal(days_from_civil(y, m, d), ns / (86400 * S));
	return (__s32)(ns / (86400 * S));
}

static void test_age_at(void **state)
{
	__s32 b = day("2012-06-15");
	long long y;
	unsigned m, d;

	(void)state;
	/* the day before the 14th birthday, its first and last instants, and the day itself */
	assert_int_equal(age_at(b, parse_ok("2026-06-14T00:00:00Z")), 13);
	assert_int_equal(age_at(b, parse_ok("2026-06-14T23:59:59.999999999Z")), 13);
	assert_int_equal(age_at(b, parse_ok("2026-06-15T00:00:00Z")), 14);
	assert_int_equal(age_at(b, parse_ok("2026-06-15T23:59:59Z")), 14);
	/* UTC decides: 2026-06-15T01:00+08:00 is still the 14th in UTC */
	assert_int_equal(age_at(b, parse_ok("2026-06-15T01:00:00+08:00")), 13);
	/* born on 29 February: 1 March in common years, 29 February in leap years */
	b = day("2012-02-29");
	assert_int_equal(age_at(b, parse_ok("2026-02-28T12:00:00Z")), 13);
	assert_int_equal(age_at(b, parse_ok("2026-03-01T00:00:00Z")), 14);
	assert_int_equal(age_at(b, parse_ok("2028-02-28T23:59:59Z")), 15);
	assert_int_equal(age_at(b, parse_ok("2028-02-29T00:00:00Z")), 16);
	assert_int_equal(age_at(b, parse_ok("2100-02-28T00:00:00Z")), 87); /* 2100: common */
	assert_int_equal(age_at(b, parse_ok("2100-03-01T00:00:00Z")), 88);
	/* born before 1970 (negative days), and instants before 1970 */
	b = day("1960-12-31");
	assert_true(b < 0);
	assert_int_equal(age_at(b, parse_ok("1969-12-30T00:00:00Z")), 8);
	assert_int_equal(age_at(b, parse_ok("1969-12-31T00:00:00Z")), 9);
	assert_int_equal(age_at(b, parse_ok("1970-01-01T00:00:00Z")), 9);
	assert_int_equal(age_at(b, parse_ok("2026-12-07T00:00:00Z")), 65);
	assert_int_equal(age_at(day("1969-12-31"), parse_ok("1969-12-31T23:59:59.5Z")), 0);
	/* instants before the birth: negative */
	b = day("2020-06-10");
	assert_int_equal(age_at(b, parse_ok("2020-06-10T00:00:00Z")), 0);
	assert_int_equal(age_at(b, parse_ok("2020-06-09T23:59:59Z")), -1);
	assert_int_equal(age_at(b, parse_ok("2019-06-10T00:00:00Z")), -1);
	assert_int_equal(age_at(b, parse_ok("2019-06-09T00:00:00Z")), -2);
	/* civil_from_days inverts days_from_civil, over the years enroll takes (1000..9999) */
	civil_from_days(days_from_civil(1000, 1, 1), &y, &m, &d);
	assert_true(y == 1000 && m == 1 && d == 1);
	civil_from_days(days_from_civil(9999, 12, 31), &y, &m, &d);
	assert_true(y == 9999 && m == 12 && d == 31);
	assert_int_equal(
	    age_at((__s32)days_from_civil(1000, 1, 1), parse_ok("2026-01-01T00:00:00Z")), 1026);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid),    cmocka_unit_test(test_offsets),
	    cmocka_unit_test(test_leap_day), cmocka_unit_test(test_fraction),
	    cmocka_unit_test(test_limits),   cmocka_unit_test(test_invalid),
	    cmocka_unit_test(test_format),   cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_age_at),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
