// SPDX-License-Identifier: GPL-2.0-only
/* DNS answers -> address to name cache. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "monitor/dns.h"

/* Response for API.Partner.example: a CNAME to edge.cdn.example, then an A and an AAAA. */
static const unsigned char msg[] = {
    0x12,
    0x34,
    0x81,
    0x80,
    0x00,
    0x01,
    0x00,
    0x03,
    0x00,
    0x00,
    0x00,
    0x00,
    /* question at 12: API.Partner.example IN A */
    3,
    'A',
    'P',
    'I',
    7,
    'P',
    'a',
    'r',
    't',
    'n',
    'e',
    'r',
    7,
    'e',
    'x',
    'a',
    'm',
    'p',
    'l',
    'e',
    0,
    0x00,
    0x01,
    0x00,
    0x01,
    /* answer 1: pointer to the question name, CNAME edge.cdn.example */
    0xc0,
    0x0c,
    0x00,
    0x05,
    0x00,
    0x01,
    0x00,
    0x00,
    0x01,
    0x00,
    0x00,
    0x12,
    4,
    'e',
    'd',
    'g',
    'e',
    3,
    'c',
    'd',
    'n',
    7,
    'e',
    'x',
    'a',
    'm',
    'p',
    'l',
    'e',
    0,
    /* answer 2: edge.cdn.example (pointer into answer 1's rdata) A 192.0.2.7, TTL 300 */
    0xc0,
    0x31,
    0x00,
    0x01,
    0x00,
    0x01,
    0x00,
    0x00,
    0x01,
    0x2c,
    0x00,
    0x04,
    192,
    0,
    2,
    7,
    /* answer 3: AAAA 2001:db8::7, TTL 5 (kept at least 60 s) */
    0xc0,
    0x31,
    0x00,
    0x1c,
    0x00,
    0x01,
    0x00,
    0x00,
    0x00,
    0x05,
    0x00,
    0x10,
    0x20,
    0x01,
    0x0d,
    0xb8,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0x07,
};

static void test_answers(void **state)
{
	struct dns_cache *c = dns_cache_new();
	unsigned char v4[4], v6[16];

	(void)state;
	assert_int_equal(dns_cache_add_message(c, msg, sizeof(msg), 1000), 2);
	inet_pton(AF_INET, "192.0.2.7", v4);
	inet_pton(AF_INET6, "2001:db8::7", v6);
	/* the name asked for, lower-cased, not the CNAME target */
	assert_string_equal(dns_cache_lookup(c, AF_INET, v4, 1000), "api.partner.example");
	assert_string_equal(dns_cache_lookup(c, AF_INET6, v6, 1059), "api.partner.example");
	assert_null(dns_cache_lookup(c, AF_INET6, v6, 1061)); /* min TTL 60 s */
	assert_non_null(dns_cache_lookup(c, AF_INET, v4, 1299));
	assert_null(dns_cache_lookup(c, AF_INET, v4, 1300));
	v4[3] = 8;
	assert_null(dns_cache_lookup(c, AF_INET, v4, 1000));
	dns_cache_free(c);
}

static void test_malformed(void **state)
{
	struct dns_cache *c = dns_cache_new();
	unsigned char m[sizeof(msg)];

	(void)state;
	/* every truncation is rejected or learns nothing, never reads past the end */
	for (size_t n = 0; n < sizeof(msg); n++) {
		unsigned char *cut = malloc(n ? n : 1);

		memcpy(cut, msg, n);
		assert_true(dns_cache_add_message(c, cut, n, 0) <= 0);
		free(cut);
	}
	/* a pointer loop */
	memcpy(m, msg, sizeof(m));
	m[12] = 0xc0;
	m[13] = 0x0c;
	assert_int_equal(dns_cache_add_message(c, m, sizeof(m), 0), -EINVAL);
	/* a query, and an error response, teach nothing */
	memcpy(m, msg, sizeof(m));
	m[2] = 0x01;
	assert_int_equal(dns_cache_add_message(c, m, sizeof(m), 0), 0);
	memcpy(m, msg, sizeof(m));
	m[3] = 0x83;
	assert_int_equal(dns_cache_add_message(c, m, sizeof(m), 0), 0);
	dns_cache_free(c);
}

/* A response for name (dotted, labels <= 63 bytes) with one A answer 192.0.2.9; its length. */
static size_t response_for(const char *name, unsigned char *m)
{
	static const unsigned char answer[] = {0xc0, 0x0c, 0, 1, 0,   1, 0, 0,
					       0x0e, 0x10, 0, 4, 192, 0, 2, 9};
	size_t o = 12;

	memcpy(m, "\x12\x34\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00", 12);
	while (*name) {
		size_t l = strcspn(name, ".");

		m[o++] = (unsigned char)l;
		memcpy(m + o, name, l);
		o += l;
		name += l + (name[l] == '.');
	}
	m[o++] = 0;
	memcpy(m + o, "\x00\x01\x00\x01", 4);
	o += 4;
	memcpy(m + o, answer, sizeof(answer));
	return o + sizeof(answer);
}

/*
 * A name longer than the cache keeps is not learnt: cut to its first 63 bytes it named another
 * recipient (found by tests/fuzz/fuzz_dns: the lookup returned a prefix of the name).
 */
static void test_long_name(void **state)
{
	struct dns_cache *c = dns_cache_new();
	unsigned char m[512], v4[4] = {192, 0, 2, 9};
	char name[200];

	(void)state;
	/* 63 bytes: kept whole */
	snprintf(name, sizeof(name), "%s.processor.example",
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	assert_int_equal(strlen(name), 63);
	assert_int_equal(dns_cache_add_message(c, m, response_for(name, m), 1000), 1);
	assert_string_equal(dns_cache_lookup(c, AF_INET, v4, 1000), name);
	/* the same 63 bytes then ".attacker.example": not learnt, the old entry not replaced */
	strcat(name, ".attacker.example");
	assert_int_equal(dns_cache_add_message(c, m, response_for(name, m), 5000), 0);
	assert_null(dns_cache_lookup(c, AF_INET, v4, 5000));
	dns_cache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_answers),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_long_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
