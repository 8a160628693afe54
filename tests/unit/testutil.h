/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers shared by the cmocka unit tests: temporary input files and directories, captured
 * stderr.
 */
#ifndef CS_TESTUTIL_H
#define CS_TESTUTIL_H

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Write content to a new file from template (e.g. "/tmp/cs_x_XXXXXX", rewritten in place). */
static inline void tmp_write(char *template, const char *content)
{
	size_t len = strlen(content);
	int fd = mkstemp(template);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

/* Remove dir and everything under it (a test's mkdtemp directory); 0 or -1. */
static inline int test_rmtree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int rc = 0;

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		char p[1024];
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if ((size_t)snprintf(p, sizeof(p), "%s/%s", dir, de->d_name) >= sizeof(p) ||
		    lstat(p, &st) || (S_ISDIR(st.st_mode) ? test_rmtree(p) : unlink(p)))
			rc = -1;
	}
	closedir(d);
	return rmdir(dir) ? -1 : rc;
}

/* stderr goes to a temporary file between capture_begin and capture_end. */
struct capture {
	char path[32];
	int fd;
	int saved;
};

static inline void capture_begin(struct capture *c)
{
	strcpy(c->path, "/tmp/cs_stderr_XXXXXX");
	c->fd = mkstemp(c->path);
	assert_true(c->fd >= 0);
	fflush(stderr);
	c->saved = dup(STDERR_FILENO);
	dup2(c->fd, STDERR_FILENO);
}

/* Restore stderr and put what was written (NUL-terminated, truncated) into buf. */
static inline void capture_end(struct capture *c, char *buf, size_t len)
{
	ssize_t n;

	fflush(stderr);
	dup2(c->saved, STDERR_FILENO);
	close(c->saved);
	n = pread(c->fd, buf, len - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	close(c->fd);
	unlink(c->path);
}

/*
 * ASan (make SANITIZE=1): its allocator is the process's; a test's own realloc in front of it
 * would hand ASan's blocks to libc's realloc, so the tests leave realloc alone there (ASan's
 * realloc always moves a block, which is what test_enroll's injection imitates).
 */
#if defined(__SANITIZE_ADDRESS__)
#define CS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CS_ASAN 1
#endif
#endif

#ifdef RTLD_NEXT
/*
 * For a test that puts its own realloc in front of libc's (fault injection; define _GNU_SOURCE
 * and include dlfcn.h first): the next realloc, libc's or a sanitizer's.
 */
static inline void *real_realloc(void *p, size_t n)
{
	static void *(*next)(void *, size_t);

	if (!next)
		next = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
	return next(p, n);
}
#endif

#endif
