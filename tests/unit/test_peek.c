// SPDX-License-Identifier: GPL-2.0-only
/*
 * The first-bytes peeks of scan-pcap (user/pcap/peek.c), the userspace twins of the kernel's
 * bpf/lib/host.bpf.h: an HTTP request's Host (any case, optional space, cut at CS_HOST_LEN - 1,
 * only in the first CS_CHUNK bytes) and request line, the HTTP/2 preface, TLS records and a
 * ClientHello's SNI (after another extension; truncated and malformed hellos give none).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "testlib.h"
#include "pcap/peek.h"

static const __u8 *B(const char *s)
{
	return (const __u8 *)s;
}

static void test_http(void **state)
{
	const char *req =
	    "POST /v1/x?a=1 HTTP/1.1\r\nUser-Agent: t\r\nhOsT:api.example:8080\r\n\r\n";
	char host[CS_HOST_LEN], big[2048];
	__u8 line[CS_REQ_LEN];

	(void)state;
	assert_true(peek_http_request(B(req), (__u32)strlen(req)));
	assert_false(peek_http_request(B("HTTP/1.1 200 OK"), 15));
	assert_false(peek_http_request(B("GET"), 3));
	assert_int_equal(peek_http_host(B(req), (__u32)strlen(req), host), 16);
	assert_string_equal(host, "api.example:8080");
	assert_int_equal(peek_request_line(B(req), (__u32)strlen(req), line), 23);
	assert_memory_equal(line, "POST /v1/x?a=1 HTTP/1.1", 23);
	assert_int_equal(line[23], 0);
	/* no Host */
	assert_int_equal(peek_http_host(B("GET / HTTP/1.1\r\n\r\n"), 18, host), 0);
	/* a long value is cut at CS_HOST_LEN - 1 */
	snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nHost: %0100d\r\n\r\n", 7);
	assert_int_equal(peek_http_host(B(big), (__u32)strlen(big), host), CS_HOST_LEN - 1);
	/* past the first chunk: not looked for (as the kernel) */
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET / HTTP/1.1\r\n", 16);
	memcpy(big + 1500, "\r\nHost: late.example\r\n", 22);
	assert_int_equal(peek_http_host(B(big), sizeof(big), host), 0);
}

static void test_h2_tls(void **state)
{
	(void)state;
	assert_true(peek_h2_preface(B("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0"), 26));
	assert_false(peek_h2_preface(B("PRI * HTTP/2.0\r\n\r\nSM\r\n"), 22));
	assert_true(peek_tls_record(B("\x17\x03\x03\x00\x10"), 5));
	assert_true(peek_tls_record(B("\x16\x03\x01\x02\x00"), 5));
	assert_false(peek_tls_record(B("\x17\x03\x05\x00\x10"), 5));
	assert_false(peek_tls_record(B("GET /"), 5));
}

static void test_sni(void **state)
{
	__u8 b[512];
	char host[CS_HOST_LEN];
	__u32 n = test_client_hello(b, "api.tracker.example");

	(void)state;
	assert_true(peek_tls_record(b, n));
	assert_int_equal(peek_sni(b, n, host), 1);
	assert_string_equal(host, "api.tracker.example");
	/* cut inside the name, or before the extensions: none */
	assert_int_equal(peek_sni(b, n - 3, host), 0);
	assert_int_equal(peek_sni(b, 80, host), 0);
	/* not a ClientHello (ServerHello) */
	b[5] = 2;
	assert_int_equal(peek_sni(b, n, host), 0);
	b[5] = 1;
	/* a session id length that runs past the bytes */
	b[43] = 0xff;
	assert_int_equal(peek_sni(b, n, host), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_http),
	    cmocka_unit_test(test_h2_tls),
	    cmocka_unit_test(test_sni),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
