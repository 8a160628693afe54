// SPDX-License-Identifier: GPL-2.0-only
/*
 * message.http (user/http/httpmsg.c): request paths with every registered value replaced by
 * {field}, as sent and percent-encoded; paths cut short (by the kernel's copy, by the length
 * bound) never end in part of a value; request lines of HTTP/1 and the HTTP/2 pseudo-headers.
 */
#define _GNU_SOURCE /* strcasestr */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "enroll/enroll.h"
#include "lib/fields.h"
#include "fpdb/fpfile.h"
#include "http/httpmsg.h"
#include "testlib.h"

static const struct cs_key key = {0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL,
				  0x1716151413121110ULL, 0x1f1e1d1c1b1a1918ULL, 0};

static const struct test_row rows[] = {
    {"s1", CS_F_PHONE, "13712340001"},
    {"s1", CS_F_EMAIL, "zhang.wei@example.com"},
    {"s1", CS_F_NATIONAL_ID, "11010519900307451X"},
    {"s1", CS_F_NAME, "Wei Zhang"},
};

static struct fpdb db;

static int setup(void **state)
{
	(void)state;
	test_db_build(&db, &key, rows, sizeof(rows) / sizeof(rows[0]));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fpdb_release(&db);
	return 0;
}

static const char *redact(const char *path, int cut)
{
	static char out[HTTP_PATH_MAX + 1];
	size_t n =
	    http_path_redact(&key, &db, (const __u8 *)path, strlen(path), cut, out, sizeof(out));

	assert_int_equal(n, strlen(out));
	assert_true(n <= HTTP_PATH_MAX);
	return out;
}

/* No registered value, in any case, in s. */
static void assert_clean(const char *s)
{
	assert_null(strstr(s, "13712340001"));
	assert_null(strcasestr(s, "zhang.wei"));
	assert_null(strcasestr(s, "11010519900307451"));
	assert_null(strstr(s, "1371234"));
}

static void test_redact(void **state)
{
	(void)state;
	assert_string_equal(redact("/users/13712340001/profile", 0), "/users/{phone}/profile");
	assert_string_equal(redact("/v1/e?mail=zhang.wei%40example.com&x=1", 0),
			    "/v1/e?mail={email}&x=1");
	assert_string_equal(redact("/v1/e?mail=ZHANG.WEI@EXAMPLE.COM", 0), "/v1/e?mail={email}");
	assert_string_equal(redact("/p/+86-137-1234-0001/x", 0), "/p/+{phone}/x");
	/* percent-encoded: found in the decoded path, the raw bytes replaced */
	assert_string_equal(redact("/p/%2B86%20137%201234%200001", 0), "/p/%2B{phone}");
	assert_string_equal(redact("/u/%7A%68%61%6E%67.wei%40example.com", 0), "/u/{email}");
	assert_string_equal(redact("/id/11010519900307451x?", 0), "/id/{national_id}?");
	/* a phone glued to an unregistered email: the D token ends at '@' */
	assert_string_equal(redact("/a/13712340001@example.com", 0), "/a/{phone}@example.com");
	assert_string_equal(redact("/n/Wei%20Zhang", 0), "/n/{name}%20{name}");
	/* braces, spaces, controls and UTF-8 are escaped: braces only mark fields */
	assert_string_equal(redact("/a{b}/\xc3\xa9 \"x\"%7B", 0), "/a%7Bb%7D/%C3%A9%20\"x\"%7B");
	assert_string_equal(redact("", 0), "");
	assert_string_equal(redact("/plain/path?q=1", 0), "/plain/path?q=1");
}

/* A path the kernel's copy cut: whatever token it ends in may be part of a value. */
static void test_cut(void **state)
{
	(void)state;
	assert_string_equal(redact("/users/1371234", 1), "/users/...");
	assert_string_equal(redact("/users/137-1234-", 1), "/users/...");
	assert_string_equal(redact("/a/zhang.wei@exam", 1), "/a/...");
	assert_string_equal(redact("/users/13712340001/pro", 1), "/users/{phone}/...");
	assert_string_equal(redact("/users/13712340001", 1), "/users/...");
	assert_string_equal(redact("/q?a=%3", 1), "/q?a=...");
	assert_string_equal(redact("/q?a=1&", 1), "/q?a=1&...");
	assert_string_equal(redact("/u/%31%33%37%31", 1), "/u/...");
}

/* Over HTTP_PATH_MAX: cut where no token goes on, "..." at the end. */
static void test_long(void **state)
{
	char p[2048];
	const char *r;
	size_t n;

	(void)state;
	/* a 14-digit number (not registered) whose first 11 digits are: cut before it */
	for (unsigned off = 230; off < 262; off++) {
		memset(p, 'a', off);
		p[0] = '/';
		p[off - 1] = '/';
		strcpy(p + off, "13712340001999/tail");
		r = redact(p, 0);
		n = strlen(r);
		assert_true(n <= HTTP_PATH_MAX);
		/* the number whole, or nothing of it */
		if (!strstr(r, "/13712340001999/")) {
			assert_false(strchr(r, '1'));
			assert_string_equal(r + n - 3, "...");
		}
	}
	/* many values: markers are never cut */
	p[0] = 0;
	for (int i = 0; i < 40; i++)
		strcat(p, "/13712340001");
	r = redact(p, 0);
	assert_clean(r);
	n = strlen(r);
	assert_string_equal(r + n - 3, "...");
	assert_int_equal(n, 31 * 8 + 4); /* whole "/{phone}" pieces, then "/..." */
	assert_string_equal(r + n - 11, "{phone}/...");
	/* escapes are not cut in two */
	memset(p, ' ', 300);
	p[300] = 0;
	r = redact(p, 0);
	assert_int_equal(strlen(r), 3 * 84 + 3);
}

static void test_http1(void **state)
{
	struct msg_http q;
	const char *l = "POST /users/13712340001/profile HTTP/1.1";

	(void)state;
	assert_int_equal(http1_request(&key, &db, (const __u8 *)l, strlen(l), &q), 0);
	assert_string_equal(q.version, "1.1");
	assert_string_equal(q.method, "POST");
	assert_string_equal(q.path, "/users/{phone}/profile");
	l = "GET /x?phone=13712340001 HTTP/1.0";
	assert_int_equal(http1_request(&key, &db, (const __u8 *)l, strlen(l), &q), 0);
	assert_string_equal(q.version, "1.0");
	assert_string_equal(q.path, "/x?phone={phone}");
	/* cut by the kernel's copy, inside the target */
	l = "GET /x?phone=1371234";
	assert_int_equal(http1_request(&key, &db, (const __u8 *)l, strlen(l), &q), 0);
	assert_string_equal(q.method, "GET");
	assert_string_equal(q.path, "/x?phone=...");
	/* cut after the target: the path is whole */
	l = "PUT /x/13712340001 HTT";
	assert_int_equal(http1_request(&key, &db, (const __u8 *)l, strlen(l), &q), 0);
	assert_string_equal(q.path, "/x/{phone}");
	l = "get / HTTP/1.1";
	assert_int_equal(http1_request(&key, &db, (const __u8 *)l, strlen(l), &q), -EINVAL);
	l = "POST";
	assert_int_equal(http1_request(&key, &db, (const __u8 *)l, strlen(l), &q), -EINVAL);
}

static void test_http2(void **state)
{
	struct msg_http q;

	(void)state;
	assert_int_equal(http2_request(&key, &db, (const __u8 *)"POST", 4,
				       (const __u8 *)"/u/13712340001", 14, 0, &q),
			 0);
	assert_string_equal(q.version, "2");
	assert_string_equal(q.method, "POST");
	assert_string_equal(q.path, "/u/{phone}");
	assert_int_equal(http2_request(&key, &db, (const __u8 *)"P\"ST", 4,
				       (const __u8 *)"/u/1371234", 10, 1, &q),
			 0);
	assert_string_equal(q.method, "?");
	assert_string_equal(q.path, "/u/...");
	/* a method that is a token but a registered value is not shown (found by fuzz_h2) */
	assert_int_equal(
	    http2_request(&key, &db, (const __u8 *)"13712340001", 11, (const __u8 *)"/", 1, 0, &q),
	    0);
	assert_string_equal(q.method, "?");
	assert_int_equal(
	    http2_request(&key, &db, (const __u8 *)"M-SEARCH", 8, (const __u8 *)"/", 1, 0, &q), 0);
	assert_string_equal(q.method, "M-SEARCH");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_redact), cmocka_unit_test(test_cut),
	    cmocka_unit_test(test_long),   cmocka_unit_test(test_http1),
	    cmocka_unit_test(test_http2),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
