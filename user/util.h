/* SPDX-License-Identifier: GPL-2.0-only */
/* Small helpers shared by the input loaders: growable arrays, capped file:line errors. */
#ifndef CS_UTIL_H
#define CS_UTIL_H

#include <stddef.h>

/*
 * Make *p (an array of *cap elements of elsz bytes) hold at least need elements, doubling from
 * first. 0 or -ENOMEM (*p unchanged).
 */
int grow_array(void **p, size_t *cap, size_t need, size_t elsz, size_t first);

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

#endif
