/* SPDX-License-Identifier: GPL-2.0-only */
/* Small helpers shared by the input loaders: growable arrays, capped file:line errors. */
#ifndef CS_UTIL_H
#define CS_UTIL_H

#include <stddef.h>
#include <sys/stat.h>

/*
 * Make *p (an array of *cap elements of elsz bytes) hold at least need elements, doubling from
 * first. 0 or -ENOMEM (*p unchanged).
 */
int grow_array(void **p, size_t *cap, size_t need, size_t elsz, size_t first);

/*
 * Binary search of [lo, hi) sorted so that `below` (an expression of mid) holds on a prefix:
 * lo ends at the first index where it does not (hi when none). lo and hi are variables.
 */
#define LOWER_BOUND(lo, hi, mid, below)                                                            \
	do {                                                                                       \
		while ((lo) < (hi)) {                                                              \
			__typeof__(lo) mid = (lo) + ((hi) - (lo)) / 2;                             \
			if (below)                                                                 \
				(lo) = mid + 1;                                                    \
			else                                                                       \
				(hi) = mid;                                                        \
		}                                                                                  \
	} while (0)

/* Errors of one input file: printed as "file:line: message", at most INPUT_ERRS_SHOWN. */
#define INPUT_ERRS_SHOWN 50

struct input_errs {
	const char *file;
	unsigned nerr;
};

void input_err(struct input_errs *e, unsigned long line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "file: N more errors not shown" when the cap was hit. */
void input_errs_done(const struct input_errs *e);

/*
 * Open an input file read-only without ever blocking: O_NONBLOCK, so a FIFO does not wait for a
 * writer, then anything that is not a regular file (FIFO, device, directory, socket) is refused.
 * fd (st filled in), or -errno: -EINVAL when path is not a regular file.
 */
int input_open(const char *path, struct stat *st);
/* Print why input_open(path) failed with err: "path: not a regular file (a FIFO); expected ...". */
void input_open_err(const char *path, const char *what, int err);
/*
 * Key and fingerprint files: refuse a file (st, from fstat of the opened fd) that the group or
 * others may write, and a symlink at path owned by another user but root (they could repoint it).
 * 0 or -EPERM (printed).
 */
int input_check_owner(const char *path, const struct stat *st, const char *what);

#endif
