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

static void check_selector(const struct recipients *rs, const struct recipient *want,
			   const char *sel)
{
	__u8 addr[16];
	char buf[320];
	const struct recipient *got;
	int is_host = 1;

	if (inet_pton(AF_INET, sel, addr) == 1) {
		got = recipients_resolve(rs, AF_INET, addr, PROBE_PORT, NULL);
		FUZZ_CHECK(got == want, "address '%s' resolves to '%s', not '%s'", sel,
			   got ? got->name : "(none)", want->name);
		return;
	}
	if (inet_pton(AF_INET6, sel, addr) == 1) {
		got = recipients_resolve(rs, AF_INET6, addr, PROBE_PORT, NULL);
		FUZZ_CHECK(got == want, "address '%s' resolves to '%s', not '%s'", sel,
			   got ? got->name : "(none)", want->name);
		return;
	}
	/* a host: letters, digits, '-', '.', '_' and no wildcard */
	for (const char *p = sel; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_'))
			is_host = 0;
	if (!is_host || sel[0] == '.' || strstr(sel, "..") || strlen(sel) > 250)
		return;
	got = recipients_resolve(rs, 0, NULL, 0, sel);
	FUZZ_CHECK(got == want, "host '%s' resolves to '%s', not '%s'", sel,
		   got ? got->name : "(none)", want->name);
	snprintf(buf, sizeof(buf), "%s:443", sel);
	got = recipients_resolve(rs, 0, NULL, 0, buf);
	FUZZ_CHECK(got == want, "host '%s' resolves to '%s', not '%s'", buf,
		   got ? got->name : "(none)", want->name);
}

static void check_rows(const struct recipients *rs, const uint8_t *data, size_t size)
{
	struct csv_reader *r = csv_open_mem("recipients", (const char *)data, size);
	int name, kind, match;

	FUZZ_CHECK(r && csv_next(r) == 1, "header read back");
	name = fuzz_csv_column(r, "recipient");
	kind = fuzz_csv_column(r, "kind");
	match = fuzz_csv_column(r, "match");
	FUZZ_CHECK(name >= 0 && kind >= 0 && match >= 0, "accepted without its columns");
	while (csv_next(r) == 1) {
		const struct recipient *want = recipients_find(rs, csv_field(r, (unsigned)name));
		char sels[4096], *save = NULL;

		FUZZ_CHECK(want, "line %lu: recipient '%s' not found", csv_line(r),
			   csv_field(r, (unsigned)name));
		FUZZ_CHECK(!strcmp(rcpt_kind_name(want->kind), csv_field(r, (unsigned)kind)),
			   "line %lu: kind %s, row says '%s'", csv_line(r),
			   rcpt_kind_name(want->kind), csv_field(r, (unsigned)kind));
		snprintf(sels, sizeof(sels), "%s", csv_field(r, (unsigned)match));
		for (char *s = strtok_r(sels, " \t", &save); s; s = strtok_r(NULL, " \t", &save))
			check_selector(rs, want, s);
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
