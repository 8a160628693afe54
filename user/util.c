// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "util.h"

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
