// SPDX-License-Identifier: GPL-2.0-only
/*
 * The scanner core (include/cs_scan.h) in userspace: which tokens a message yields, and which
 * decoding triggers (cs_scan.trig) it raises. The kernel runs the same code; tests/bpf checks
 * that both builds agree byte for byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "cs_hash.h"
#include "cs_scan_def.h"
#include "cs_scan_table.h"
#include "decode/scan.h"

static struct cs_key key = {0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL, 0x1716151413121110ULL,
			    0x1f1e1d1c1b1a1918ULL, 0};

struct toks {
	const char *msg;
	char out[1024]; /* raw bytes of each token, '|'-separated, in emission order */
	size_t len;
};

static void collect(const struct scan_token *t, void *ctx)
{
	struct toks *k = ctx;
	size_t n = t->end - t->start;

	assert_true(t->end >= t->start);
	assert_true(k->len + n + 1 < sizeof(k->out));
	if (k->len)
		k->out[k->len++] = '|';
	memcpy(k->out + k->len, k->msg + t->start, n);
	k->len += n;
	k->out[k->len] = 0;
}

/* Tokens of msg; the trigger bits in *trig. */
static const char *tokens(struct toks *k, const char *msg, unsigned *trig)
{
	memset(k, 0, sizeof(*k));
	k->msg = msg;
	*trig = scan_message(&key, msg, strlen(msg), collect, k);
	return k->out;
}

static int has_token(const char *msg, const char *tok)
{
	struct toks k;
	unsigned trig;
	char want[256];

	tokens(&k, msg, &trig);
	snprintf(want, sizeof(want), "|%s|", tok);
	memmove(k.out + 1, k.out, k.len + 1);
	k.out[0] = '|';
	k.out[k.len + 1] = '|';
	k.out[k.len + 2] = 0;
	return strstr(k.out, want) != NULL;
}

static void test_cjk_punctuation(void **state)
{
	(void)state;
	/* "姓名：张伟，电话" : the fullwidth colon and comma end UTF tokens */
	assert_true(has_token("\xe5\xa7\x93\xe5\x90\x8d\xef\xbc\x9a\xe5\xbc\xa0\xe4\xbc\x9f\xef\xbc"
			      "\x8c\xe7\x94\xb5\xe8\xaf\x9d",
			      "\xe5\xbc\xa0\xe4\xbc\x9f"));
	/* ideographic comma / full stop (U+3001, U+3002), curly quotes (U+201C/D) */
	assert_true(has_token("\xe3\x80\x81\xe5\xbc\xa0\xe4\xbc\x9f\xe3\x80\x82",
			      "\xe5\xbc\xa0\xe4\xbc\x9f"));
	assert_true(has_token("\xe2\x80\x9c\xe5\xbc\xa0\xe4\xbc\x9f\xe2\x80\x9d",
			      "\xe5\xbc\xa0\xe4\xbc\x9f"));
	/* an ideograph with the same lead byte (U+3400 = e3 90 80) stays inside the token */
	assert_true(has_token(" \xe5\xbc\xa0\xe3\x90\x80 ", "\xe5\xbc\xa0\xe3\x90\x80"));
	/* ASCII around: "name张伟," */
	assert_true(has_token("name\xe5\xbc\xa0\xe4\xbc\x9f,", "\xe5\xbc\xa0\xe4\xbc\x9f"));
	assert_true(has_token("name\xe5\xbc\xa0\xe4\xbc\x9f,", "name"));
}

static void test_tokens_unchanged(void **state)
{
	struct toks k;
	unsigned trig;

	(void)state;
	assert_string_equal(tokens(&k, "mail li.na@example.org, tel +86 139-5555-0005;", &trig),
			    "mail|li.na@example.org|tel|86|86 139-5555-0005|139-5555-0005");
	assert_int_equal(trig, 0);
	assert_true(has_token("e=chen.jie%40example.com&x", "chen.jie%40example.com"));
}

static void test_triggers(void **state)
{
	struct toks k;
	unsigned trig;

	(void)state;
	tokens(&k, "{\"e\":\"a\\u0040b.cn\"}", &trig);
	assert_int_equal(trig, CS_TRIG_ESC);
	tokens(&k, "<b>a&#64;b.cn</b>", &trig);
	assert_int_equal(trig, CS_TRIG_ESC);
	tokens(&k, "a &#x40; b", &trig);
	assert_int_equal(trig, CS_TRIG_ESC);
	tokens(&k, "line\\nnext \\\"q\\\" & more #tag", &trig);
	assert_int_equal(trig, 0);
	/* base64 of "13712340001", of a JSON document; not headers, hex, emails, words */
	tokens(&k, "d=MTM3MTIzNDAwMDE=", &trig);
	assert_int_equal(trig, CS_TRIG_B64);
	tokens(&k, "eyJ0ZWwiOiIxMzcxMjM0MDAwMSJ9", &trig);
	assert_int_equal(trig, CS_TRIG_B64);
	tokens(&k,
	       "Content-Type: application/json\r\nUser-Agent: curl/7.88.1\r\n"
	       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 "
	       "zhang.wei@example.com Internationalization",
	       &trig);
	assert_int_equal(trig, 0);
	/* Content-Encoding header; gzip magic */
	tokens(&k, "POST / HTTP/1.1\r\ncontent-ENCODING: gzip\r\n\r\n", &trig);
	assert_int_equal(trig, CS_TRIG_CE);
	/* gzip magic where the message starts; not inside (binary is full of chance pairs) */
	{
		const char gz[] = "\x1f\x8b\x08\x00rest", mid[] = "x\x1f\x8b\x08\x00rest";

		memset(&k, 0, sizeof(k));
		k.msg = gz;
		trig = scan_message(&key, gz, sizeof(gz) - 1, collect, &k);
		assert_int_equal(trig, CS_TRIG_GZIP);
		memset(&k, 0, sizeof(k));
		k.msg = mid;
		trig = scan_message(&key, mid, sizeof(mid) - 1, collect, &k);
		assert_int_equal(trig, 0);
	}
	/* chance escapes: "\\u" + fewer than 4 characters, "&#" + number without ';' */
	tokens(&k, "ab\\uZ9 cd&#12 x", &trig);
	assert_int_equal(trig, 0);
	/* a \u escape at the very end of the message (the flush) */
	tokens(&k, "x\\u5f20", &trig);
	assert_int_equal(trig, CS_TRIG_ESC);
}

/* The committed combined table is the composition of the readable ones (make gen). */
static void test_table_generated(void **state)
{
	(void)state;
	for (unsigned i = 0; i < 4096; i++)
		if (cs_next[i] != cs_next_entry(i >> 6, i & 63))
			fail_msg("cs_next[%u] = 0x%04x, cs_scan_def.h gives 0x%04x: run make gen",
				 i, cs_next[i], cs_next_entry(i >> 6, i & 63));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cjk_punctuation),
	    cmocka_unit_test(test_tokens_unchanged),
	    cmocka_unit_test(test_triggers),
	    cmocka_unit_test(test_table_generated),
	};

	key.ce = cs_acc_str(key.seed, "content-encoding");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
