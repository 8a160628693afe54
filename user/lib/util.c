// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/util.h"

int grow_array(void **p, size_t *cap, size_t need, size_t elsz, size_t first)
{
	size_t ncap = *cap ? *cap : first;
	void *np;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	np = realloc(*p, ncap * elsz);
	if (!np)
		return -ENOMEM;
	*p = np;
	*cap = ncap;
	return 0;
}

void input_err(struct input_errs *e, unsigned long line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (++e->nerr > INPUT_ERRS_SHOWN)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pr_err("%s:%lu: %s", e->file, line, msg);
}

void input_errs_done(const struct input_errs *e)
{
	if (e->nerr > INPUT_ERRS_SHOWN)
		pr_err("%s: %u more errors not shown", e->file, e->nerr - INPUT_ERRS_SHOWN);
}

int input_open(const char *path, struct stat *st)
{
	int fd, err;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, st)) {
		err = -errno;
		close(fd);
		return err;
	}
	if (!S_ISREG(st->st_mode)) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

static const char *file_type(mode_t m)
{
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISSOCK(m))
		return "a socket";
	return "not a file";
}

void input_open_err(const char *path, const char *what, int err)
{
	struct stat st;

	if (err == -EINVAL && !stat(path, &st) && !S_ISREG(st.st_mode))
		pr_err("%s: not a regular file (%s); expected a regular %s file", path,
		       file_type(st.st_mode), what);
	else
		pr_err("%s: cannot open %s file: %s", path, what, strerror(-err));
}

int input_check_owner(const char *path, const struct stat *st, const char *what)
{
	struct stat lst;

	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		pr_err("%s: %s file mode %04o lets the group or others write it; expected it "
		       "writable by its owner only (chmod go-w %s)",
		       path, what, (unsigned)(st->st_mode & 07777), path);
		return -EPERM;
	}
	if (!lstat(path, &lst) && S_ISLNK(lst.st_mode) && lst.st_uid != geteuid() &&
	    lst.st_uid != 0) {
		pr_err("%s: %s file is a symlink owned by uid %u; expected one owned by uid %u "
		       "or root (or the file itself)",
		       path, what, (unsigned)lst.st_uid, (unsigned)geteuid());
		return -EPERM;
	}
	return 0;
}
