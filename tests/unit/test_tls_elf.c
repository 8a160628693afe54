// SPDX-License-Identifier: GPL-2.0-only
/* Symbol lookup for the TLS uprobes: offsets of the write functions in real binaries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <errno.h>
#include <cmocka.h>

#include "tls.h"

static const char *first_readable(const char *const *paths)
{
	for (; *paths; paths++)
		if (!access(*paths, R_OK))
			return *paths;
	return NULL;
}

static void test_libssl(void **state)
{
	static const char *const libs[] = {"/usr/lib/x86_64-linux-gnu/libssl.so.3",
					   "/usr/lib/aarch64-linux-gnu/libssl.so.3",
					   "/usr/lib64/libssl.so.3", NULL};
	const char *lib = first_readable(libs);
	struct tls_elf e;

	(void)state;
	if (!lib)
		skip();
	assert_int_equal(tls_elf_scan(lib, &e), 0);
	assert_true(e.off[TLS_FN_SSL_WRITE] != 0);
	assert_true(e.off[TLS_FN_SSL_WRITE_EX] != 0);
	assert_true(e.off[TLS_FN_SSL_WRITE] != e.off[TLS_FN_SSL_WRITE_EX]);
	assert_int_equal(e.off[TLS_FN_GNUTLS_SEND], 0);
	assert_false(e.is_go);
}

static void test_gnutls(void **state)
{
	static const char *const libs[] = {"/usr/lib/x86_64-linux-gnu/libgnutls.so.30",
					   "/usr/lib/aarch64-linux-gnu/libgnutls.so.30", NULL};
	const char *lib = first_readable(libs);
	struct tls_elf e;

	(void)state;
	if (!lib)
		skip();
	assert_int_equal(tls_elf_scan(lib, &e), 0);
	assert_true(e.off[TLS_FN_GNUTLS_SEND] != 0);
	assert_int_equal(e.off[TLS_FN_SSL_WRITE], 0);
}

static void test_not_tls(void **state)
{
	struct tls_elf e;

	(void)state;
	assert_int_equal(tls_elf_scan("/bin/true", &e), 0);
	for (int f = 0; f < TLS_FN_MAX; f++)
		assert_int_equal(e.off[f], 0);
	{
		char path[] = "/tmp/cs_not_elf_XXXXXX";
		int fd = mkstemp(path);

		assert_true(fd >= 0);
		assert_int_equal(write(fd, "plain text, not ELF\n", 20), 20);
		close(fd);
		assert_int_equal(tls_elf_scan(path, &e), -ENOEXEC);
		unlink(path);
	}
	assert_true(tls_elf_scan("/nonexistent", &e) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_libssl),
	    cmocka_unit_test(test_gnutls),
	    cmocka_unit_test(test_not_tls),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
