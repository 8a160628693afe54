// SPDX-License-Identifier: GPL-2.0-only
/* Option values shared by the subcommands (cli.h): numbers in a range, words from a list. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lib/log.h"

int parse_u32(const char *opt, const char *s, __u32 lo, __u32 hi, __u32 *out)
{
	char *end;
	unsigned long long v;

	/* decimal digits only: strtoull alone takes a sign, spaces, 0x (hex) and 010 (octal) */
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *s < '0' || *s > '9' || *end || v < lo || v > hi) {
		pr_err("%s: expected a number in [%u, %u], got '%s'", opt, lo, hi, s);
		return -EINVAL;
	}
	*out = (__u32)v;
	return 0;
}

int parse_word(const char *opt, const char *s, const struct cli_word *words, unsigned n, int *out)
{
	char list[256];
	size_t len = 0;

	for (unsigned i = 0; i < n; i++)
		if (!strcmp(s, words[i].name)) {
			*out = words[i].value;
			return 0;
		}
	list[0] = 0;
	for (unsigned i = 0; i < n && len < sizeof(list); i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s", words[i].name,
					i + 2 < n    ? ", "
					: i + 2 == n ? " or "
						     : "");
	pr_err("%s: expected %s, got '%s'", opt, list, s);
	return -EINVAL;
}
