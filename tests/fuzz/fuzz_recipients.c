// SPDX-License-Identifier: GPL-2.0-only
/*
 * recipients.csv (user/verdict/recipients.c). Properties of an accepted file, read back through the
 * CSV reader: every row's recipient is found by name with the row's kind; every host selector of a
 * row resolves (by name alone, in the case written, with or without a trailing dot or a :port)
 * to that row's recipient; and every address selector without a port or prefix (IPv4 or IPv6)
 * resolves to it for a port no IP:port selector names.
 */
#include <arpa/inet.h>
#include <sys/socket.h>

#include "fuzz.h"

#include "lib/csv.h"
#include "verdict/recipients.h"

static struct fuzz_file file;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_setup_file(&file, "fuzz_recipients");
	return 0;
}

/* A port no IP:port selector of the file names (checked: the file has no ":39217"). */
#define PROBE_PORT 39217

/* What the row of a selector says besides the recipient (spec §7). */
struct row_says {
	const struct recipient *rcpt;
	const char *country, *purpose; /* "" when the row names none */
};

/* The match m is the row's: same recipient, country and purpose. */
static void check_match(const struct rcpt_match *m, const struct row_says *want, const char *what,
			const char *sel)
{
	FUZZ_CHECK(m->rcpt == want->rcpt, "%s '%s' resolves to '%s', not '%s'", what, sel,
		   m->rcpt ? m->rcpt->name : "(none)", want->rcpt->name);
	FUZZ_CHECK(!strcmp(m->country, want->country) &&
		       !strcmp(m->purpose ? m->purpose : "", want->purpose),
		   "%s '%s' resolves to country '%s' purpose '%s', the row says '%s' '%s'", what,
		   sel, m->country, m->purpose ? m->purpose : "", want->country, want->purpose);
}

static int plain_host(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '.' || s[i] == '_'))
			return 0;
	return n && s[0] != '.' && !memmem(s, n, "..", 2) && n <= 250;
}

static void check_selector(const struct recipients *rs, const struct row_says *want,
			   const char *sel)
{
	__u8 addr[16];
	char buf[320];
	const char *slash = strchr(sel, '/');
	struct rcpt_match m;

	if (inet_pton(AF_INET, sel, addr) == 1) {
		recipients_match(rs, AF_INET, addr, PROBE_PORT, NULL, NULL, &m);
		check_match(&m, want, "address", sel);
		return;
	}
	if (inet_pton(AF_INET6, sel, addr) == 1) {
		recipients_match(rs, AF_INET6, addr, PROBE_PORT, NULL, NULL, &m);
		check_match(&m, want, "address", sel);
		return;
	}
	/* a host with a path prefix: that host and path, with or without a query, resolve to the
	 * row */
	if (slash) {
		size_t n = (size_t)(slash - sel);

		if (!plain_host(sel, n) || strlen(slash) > 200)
			return;
		snprintf(buf, sizeof(buf), "%.*s", (int)n, sel);
		/* an address before the '/': a CIDR, not a host with a path */
		if (inet_pton(AF_INET, buf, addr) == 1)
			return;
		recipients_match(rs, 0, NULL, 0, buf, slash, &m);
		check_match(&m, want, "host and path", sel);
		/* a query: no longer selector can cover it, none may hold a '?' */
		snprintf(buf + n + 1, sizeof(buf) - n - 1, "%s?q", slash);
		recipients_match(rs, 0, NULL, 0, buf, buf + n + 1, &m);
		check_match(&m, want, "host and path with a query", sel);
		return;
	}
	/* a host: letters, digits, '-', '.', '_' and no wildcard */
	if (!plain_host(sel, strlen(sel)))
		return;
	recipients_match(rs, 0, NULL, 0, sel, NULL, &m);
	check_match(&m, want, "host", sel);
	snprintf(buf, sizeof(buf), "%s:443", sel);
	recipients_match(rs, 0, NULL, 0, buf, NULL, &m);
	check_match(&m, want, "host", buf);
}

static void check_rows(const struct recipients *rs, const uint8_t *data, size_t size)
{
	struct csv_reader *r = csv_open_mem("recipients", (const char *)data, size);
	int name, kind, match, country, purpose;

	FUZZ_CHECK(r && csv_next(r) == 1, "header read back");
	name = fuzz_csv_column(r, "recipient");
	kind = fuzz_csv_column(r, "kind");
	match = fuzz_csv_column(r, "match");
	country = fuzz_csv_column(r, "country");
	purpose = fuzz_csv_column(r, "purpose");
	FUZZ_CHECK(name >= 0 && kind >= 0 && match >= 0, "accepted without its columns");
	while (csv_next(r) == 1) {
		struct row_says want = {
		    .rcpt = recipients_find(rs, csv_field(r, (unsigned)name)),
		    .country = country >= 0 ? csv_field(r, (unsigned)country) : "",
		    .purpose = purpose >= 0 ? csv_field(r, (unsigned)purpose) : "",
		};
		char sels[4096], *save = NULL;

		FUZZ_CHECK(want.rcpt, "line %lu: recipient '%s' not found", csv_line(r),
			   csv_field(r, (unsigned)name));
		FUZZ_CHECK(!strcmp(rcpt_kind_name(want.rcpt->kind), csv_field(r, (unsigned)kind)),
			   "line %lu: kind %s, row says '%s'", csv_line(r),
			   rcpt_kind_name(want.rcpt->kind), csv_field(r, (unsigned)kind));
		snprintf(sels, sizeof(sels), "%s", csv_field(r, (unsigned)match));
		for (char *s = strtok_r(sels, " \t", &save); s; s = strtok_r(NULL, " \t", &save))
			check_selector(rs, &want, s);
	}
	csv_close(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct recipients *rs = NULL;
	int rc;

	fuzz_file_set(&file, data, size);
	rc = recipients_load(&rs, file.path);
	FUZZ_CHECK(rc ? !rs : rs != NULL, "rc %d with recipients %p", rc, (void *)rs);
	/* nor are files that may have an IP:port selector of the probe port */
	if (!rc && !memmem(data, size, ":39217", 6))
		check_rows(rs, data, size);
	recipients_free(rs);
	return 0;
}
