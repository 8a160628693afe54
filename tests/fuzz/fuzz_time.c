// SPDX-License-Identifier: GPL-2.0-only
/*
 * RFC 3339 time parsing (user/lib/timeutil.c). Properties: a time that parses, formatted and parsed
 * again, is the same instant cut to the microsecond (parse -> format -> parse), and so is the
 * first 8 bytes of the input taken as nanoseconds (format -> parse); the same instant written
 * with ' ' and "+00:00" parses to the same value.
 */
#include "fuzz.h"

#include "lib/timeutil.h"

/* ns cut toward the past to a whole microsecond; 0 when that is below INT64_MIN */
static int floor_us(__s64 ns, __s64 *out)
{
	__s64 r = ns % 1000;

	if (r < 0)
		r += 1000;
	return !__builtin_sub_overflow(ns, r, out);
}

/* format(ns) parses back to ns cut to the microsecond */
static void round_trip(__s64 ns)
{
	char buf[RFC3339_BUFSZ];
	__s64 back, want;

	rfc3339_format(ns, buf, sizeof(buf));
	FUZZ_CHECK(strlen(buf) == 27, "'%s' from %lld", buf, (long long)ns);
	if (!floor_us(ns, &want))
		return;
	FUZZ_CHECK(!rfc3339_parse(buf, &back), "'%s' (from %lld) does not parse", buf,
		   (long long)ns);
	FUZZ_CHECK(back == want, "'%s': %lld, expected %lld", buf, (long long)back,
		   (long long)want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[64], alt[80];
	__s64 ns, ns2;
	size_t n;

	if (size >= 8) {
		memcpy(&ns, data, 8);
		round_trip(ns);
	}
	if (size >= sizeof(s))
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (rfc3339_parse(s, &ns))
		return 0;
	round_trip(ns);

	/* "...Z" == "... ...+00:00" */
	n = strlen(s);
	if (n > 11 && (s[n - 1] == 'Z' || s[n - 1] == 'z')) {
		snprintf(alt, sizeof(alt), "%.*s %.*s+00:00", 10, s, (int)(n - 12), s + 11);
		FUZZ_CHECK(!rfc3339_parse(alt, &ns2) && ns2 == ns, "'%s' != '%s'", alt, s);
	}
	return 0;
}
