// SPDX-License-Identifier: GPL-2.0-only
/*
 * The findings file (user/output/outfile.c): whole lines only, lost lines counted when the file
 * cannot grow (RLIMIT_FSIZE stands in for a full disk: a write stops part-way, then fails), and the
 * path opened again after the file was moved or removed.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "output/outfile.h"

#define LINE "{\"finding\":\"0123456789012345678901234567890123456789\"}\n" /* 55 bytes */

struct fixture {
	char dir[64];
	char path[96];
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/cs-outfile.XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->path, sizeof(fx->path), "%s/findings.jsonl", fx->dir);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char p[128];

	unlink(fx->path);
	snprintf(p, sizeof(p), "%s.1", fx->path);
	unlink(p);
	rmdir(fx->dir);
	free(fx);
	return 0;
}

static long file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) ? -1 : (long)st.st_size;
}

static void put_lines(struct outfile *o, int n)
{
	for (int i = 0; i < n; i++)
		fputs(LINE, outfile_stream(o));
	assert_int_equal(fflush(outfile_stream(o)), 0);
	assert_int_equal(ferror(outfile_stream(o)), 0);
}

static void test_full(void **state)
{
	struct fixture *fx = *state;
	struct rlimit old, lim;
	struct outfile *o = outfile_open(fx->path);
	const struct outfile_stats *st;
	long size;

	assert_non_null(o);
	st = outfile_stats(o);
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 1000; /* 18 lines and 10 bytes of the 19th */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	put_lines(o, 30);
	put_lines(o, 5);
	size = file_size(fx->path);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	/* the 19th line, written in part, was cut off again (and the 1st of the next flush) */
	assert_int_equal(size, 18 * 55);
	assert_int_equal(st->lines, 18);
	assert_int_equal(st->lost, 17);
	assert_int_equal(st->truncated, 2); /* 10 bytes of a line, in each flush */
	assert_int_equal(st->episodes, 1);
	assert_int_equal(st->errors, 2);
	/* room again: the next lines are written, the episode is over */
	put_lines(o, 2);
	assert_int_equal(file_size(fx->path), 20 * 55);
	assert_int_equal(st->lines, 20);
	assert_int_equal(st->lost, 17);
	outfile_close(o);
}

static void test_moved_removed(void **state)
{
	struct fixture *fx = *state;
	struct outfile *o = outfile_open(fx->path);
	const struct outfile_stats *st;
	char moved[128];

	assert_non_null(o);
	st = outfile_stats(o);
	put_lines(o, 3);
	snprintf(moved, sizeof(moved), "%s.1", fx->path);
	assert_int_equal(rename(fx->path, moved), 0);
	put_lines(o, 2);
	assert_int_equal(file_size(moved), 3 * 55);
	assert_int_equal(file_size(fx->path), 2 * 55);
	assert_int_equal(unlink(fx->path), 0);
	put_lines(o, 4);
	assert_int_equal(file_size(fx->path), 4 * 55);
	assert_int_equal(st->reopens, 2);
	/* unchanged: not opened again */
	assert_int_equal(outfile_reopen(o, 0), 0);
	assert_int_equal(st->reopens, 2);
	assert_int_equal(st->lines, 9);
	assert_int_equal(st->lost, 0);
	outfile_close(o);
}

/* Removed, and its directory too: the path cannot be opened again, the lines are lost. */
static void test_removed_for_good(void **state)
{
	struct fixture *fx = *state;
	struct outfile *o = outfile_open(fx->path);
	const struct outfile_stats *st;

	assert_non_null(o);
	st = outfile_stats(o);
	put_lines(o, 2);
	assert_int_equal(unlink(fx->path), 0);
	assert_int_equal(rmdir(fx->dir), 0);
	put_lines(o, 3);
	assert_int_equal(st->lines, 2);
	assert_int_equal(st->lost, 3);
	assert_int_equal(st->episodes, 1);
	/* the directory back: the path is opened again, lines written */
	assert_int_equal(mkdir(fx->dir, 0700), 0);
	put_lines(o, 1);
	assert_int_equal(file_size(fx->path), 55);
	assert_int_equal(st->lines, 3);
	assert_int_equal(st->reopens, 1);
	outfile_close(o);
}

/* A line handed over in pieces (stdio's buffer boundary) is written once it is whole. */
static void test_partial_line(void **state)
{
	struct fixture *fx = *state;
	struct outfile *o = outfile_open(fx->path);

	assert_non_null(o);
	fputs("{\"a\":", outfile_stream(o));
	assert_int_equal(fflush(outfile_stream(o)), 0);
	assert_int_equal(file_size(fx->path), 0);
	fputs("1}\n", outfile_stream(o));
	assert_int_equal(fflush(outfile_stream(o)), 0);
	assert_int_equal(file_size(fx->path), 8);
	assert_int_equal(outfile_stats(o)->lines, 1);
	outfile_close(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_full, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_moved_removed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_removed_for_good, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_partial_line, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
