// SPDX-License-Identifier: GPL-2.0-only
/* Option values (user/cli.c): numbers in a range, words from a list, and their error lines. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cli.h"
#include "testutil.h"

static void test_u32(void **state)
{
	__u32 v = 7;

	(void)state;
	assert_int_equal(parse_u32("--n", "0", 0, 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(parse_u32("--n", "10", 0, 10, &v), 0);
	assert_int_equal(v, 10);
	assert_int_equal(parse_u32("--n", "4294967295", 0, 4294967295u, &v), 0);
	assert_int_equal(v, 4294967295u);
	/* out of range, a sign, a space, hex, empty, trailing bytes, past 2^32: v unchanged */
	v = 7;
	assert_int_equal(parse_u32("--n", "11", 0, 10, &v), -EINVAL);
	assert_int_equal(parse_u32("--n", "0", 1, 10, &v), -EINVAL);
	assert_int_equal(parse_u32("--n", "-1", 0, 10, &v), -EINVAL);
	assert_int_equal(parse_u32("--n", "+1", 0, 10, &v), -EINVAL);
	assert_int_equal(parse_u32("--n", " 1", 0, 10, &v), -EINVAL);
	assert_int_equal(parse_u32("--n", "0x1", 0, 10, &v), -EINVAL);
	assert_int_equal(parse_u32("--n", "", 0, 10, &v), -EINVAL);
	assert_int_equal(parse_u32("--n", "1s", 0, 10, &v), -EINVAL);
	assert_int_equal(parse_u32("--n", "4294967296", 0, 4294967295u, &v), -EINVAL);
	assert_int_equal(v, 7);
}

static void test_word(void **state)
{
	static const struct cli_word three[] = {{"on", 3}, {"all", 5}, {"off", 0}};
	static const struct cli_word two[] = {{"kernel", 0}, {"collector", 1}};
	static const struct cli_word one[] = {{"only", 9}};
	struct capture c;
	char err[512];
	int v = -1;

	(void)state;
	assert_int_equal(PARSE_WORD("--x", "all", three, &v), 0);
	assert_int_equal(v, 5);
	assert_int_equal(PARSE_WORD("--x", "off", three, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(PARSE_WORD("--y", "collector", two, &v), 0);
	assert_int_equal(v, 1);

	/* exact words only: case, a prefix and an empty word are refused; v unchanged */
	capture_begin(&c);
	assert_int_equal(PARSE_WORD("--x", "ON", three, &v), -EINVAL);
	assert_int_equal(PARSE_WORD("--x", "of", three, &v), -EINVAL);
	assert_int_equal(PARSE_WORD("--y", "", two, &v), -EINVAL);
	assert_int_equal(PARSE_WORD("--z", "x", one, &v), -EINVAL);
	capture_end(&c, err, sizeof(err));
	assert_int_equal(v, 1);
	assert_non_null(strstr(err, "--x: expected on, all or off, got 'ON'\n"));
	assert_non_null(strstr(err, "--x: expected on, all or off, got 'of'\n"));
	assert_non_null(strstr(err, "--y: expected kernel or collector, got ''\n"));
	assert_non_null(strstr(err, "--z: expected only, got 'x'\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_u32),
	    cmocka_unit_test(test_word),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
