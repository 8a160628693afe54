// SPDX-License-Identifier: GPL-2.0-only
/*
 * verdict/geoip.h over databases scripts/gen/mkmmdb.py writes at test time (24- and 28-bit
 * records), read back through libmaxminddb (and mmdblookup, when installed, as a second reader);
 * lib/iso3166.h against the assigned codes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "testutil.h"

#include "lib/iso3166.h"
#include "verdict/geoip.h"

/* Networks of the test database: nesting both ways, registered_country only, codes to refuse. */
static const char *const db_lines =
    "# CIDR COUNTRY [REGISTERED_COUNTRY]\n"
    "10.0.0.0/8 DE\n"
    "10.1.2.0/24 FR\n"
    "10.1.2.128/25 de\n" /* lower case in the file: reported upper case */
    "192.0.2.0/24 US\n"
    "198.51.100.0/24 - JP\n"	       /* registered_country only */
    "198.51.100.0/25 X1 CN\n"	       /* malformed country: the registered one */
    "203.0.113.0/24 DEU\n"	       /* three letters: not found */
    "203.0.113.128/25 -\n"	       /* a record without country maps */
    "100.64.0.0/10 \xc3\xa9\xc3\xa9\n" /* two letters, not ASCII */
    "2001:db8::/32 JP\n"
    "2001:db8:1::/48 - CN\n"
    "2001:db8:1:2::/64 GB\n"
    "2a00::/12 XK\n"; /* user-assigned (Kosovo): a country, not an ISO code */

static char dir[64];
static char db_path[2][128]; /* 24- and 28-bit records */
static char err_text[4096];

static void path_in_dir(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

static void write_file(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* Run mkmmdb.py on lines into out; its exit status. */
static int mkmmdb(const char *lines, const char *out, int record_size)
{
	char in[128], cmd[1024];

	path_in_dir(in, sizeof(in), "networks.txt");
	write_file(in, lines, strlen(lines));
	snprintf(cmd, sizeof(cmd), "python3 -I %s/scripts/gen/mkmmdb.py --record-size %d %s %s",
		 CS_SRCDIR, record_size, in, out);
	return system(cmd);
}

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/cs_geoip_XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	for (int i = 0; i < 2; i++) {
		path_in_dir(db_path[i], sizeof(db_path[i]), i ? "c28.mmdb" : "c24.mmdb");
		if (mkmmdb(db_lines, db_path[i], i ? 28 : 24))
			return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return test_rmtree(dir);
}

/* open path with stderr captured into err_text */
static int open_db(struct geoip **g, const char *path)
{
	struct capture cap;
	int err;

	capture_begin(&cap);
	err = geoip_open(g, path);
	capture_end(&cap, err_text, sizeof(err_text));
	return err;
}

/* Country of ip (v4 or v6 text) or "-"; the code is checked NUL-terminated. */
static const char *cc_of(const struct geoip *g, const char *ip)
{
	static char cc[3];
	uint8_t a[17]; /* one spare byte: the lookup is also made from an odd address */
	int v6 = strchr(ip, ':') != NULL, found;

	assert_int_equal(inet_pton(v6 ? AF_INET6 : AF_INET, ip, a + 1), 1);
	memset(cc, '?', sizeof(cc));
	found = geoip_country(g, v6 ? AF_INET6 : AF_INET, a + 1, cc);
	if (!found)
		return "-";
	assert_int_equal(found, 1);
	assert_int_equal(cc[2], '\0');
	return cc;
}

static void test_lookup(void **state)
{
	(void)state;
	for (int i = 0; i < 2; i++) {
		struct geoip *g;

		assert_int_equal(open_db(&g, db_path[i]), 0);
		assert_string_equal(err_text, "");
		assert_string_equal(cc_of(g, "10.9.9.9"), "DE");
		assert_string_equal(cc_of(g, "10.0.0.0"), "DE");
		assert_string_equal(cc_of(g, "10.255.255.255"), "DE");
		/* longest prefix: the /24 and the /25 inside the /8 */
		assert_string_equal(cc_of(g, "10.1.2.3"), "FR");
		assert_string_equal(cc_of(g, "10.1.2.127"), "FR");
		assert_string_equal(cc_of(g, "10.1.2.128"), "DE");
		assert_string_equal(cc_of(g, "10.1.3.0"), "DE");
		assert_string_equal(cc_of(g, "192.0.2.1"), "US");
		/* registered_country when country is absent or malformed */
		assert_string_equal(cc_of(g, "198.51.100.200"), "JP");
		assert_string_equal(cc_of(g, "198.51.100.1"), "CN");
		/* codes that are not two ASCII letters, a record without countries */
		assert_string_equal(cc_of(g, "203.0.113.1"), "-");
		assert_string_equal(cc_of(g, "203.0.113.200"), "-");
		assert_string_equal(cc_of(g, "100.64.0.1"), "-");
		/* misses next to networks */
		assert_string_equal(cc_of(g, "8.8.8.8"), "-");
		assert_string_equal(cc_of(g, "9.255.255.255"), "-");
		assert_string_equal(cc_of(g, "11.0.0.0"), "-");
		assert_string_equal(cc_of(g, "192.0.3.0"), "-");
		/* IPv6, nested three deep */
		assert_string_equal(cc_of(g, "2001:db8::1"), "JP");
		assert_string_equal(cc_of(g, "2001:db8:1::1"), "CN");
		assert_string_equal(cc_of(g, "2001:db8:1:2::1"), "GB");
		assert_string_equal(cc_of(g, "2001:db8:1:3::1"), "CN");
		assert_string_equal(cc_of(g, "2001:db9::1"), "-");
		assert_string_equal(cc_of(g, "2a0f:ffff::1"), "XK");
		assert_string_equal(cc_of(g, "::1"), "-");
		/* IPv4-mapped: the file has nothing at ::ffff:0:0/96, so only the IPv4 lookup finds
		 * it */
		assert_string_equal(cc_of(g, "::ffff:10.1.2.3"), "FR");
		assert_string_equal(cc_of(g, "::ffff:192.0.2.255"), "US");
		assert_string_equal(cc_of(g, "::ffff:8.8.8.8"), "-");
		/* IPv4-compatible ::a.b.c.d walks ::/96, where the IPv4 networks are */
		assert_string_equal(cc_of(g, "::10.1.2.3"), "FR");
		{
			char cc[3] = "";
			uint8_t a[4] = {10, 1, 2, 3};

			assert_int_equal(geoip_country(g, AF_UNIX, a, cc), 0);
			assert_int_equal(geoip_country(NULL, AF_INET, a, cc), 0);
		}
		geoip_free(g);
	}
	geoip_free(NULL);
}

/* The generator's output read by a second reader, libmaxminddb's command-line tool. */
static void test_mmdblookup(void **state)
{
	char cmd[1024], out[256];
	FILE *p;
	size_t n;

	(void)state;
	if (system("command -v mmdblookup >/dev/null 2>&1"))
		skip();
	snprintf(cmd, sizeof(cmd),
		 "mmdblookup --file %s --ip 192.0.2.1 country iso_code && "
		 "mmdblookup --file %s --ip 2001:db8:1::7 registered_country iso_code && "
		 "mmdblookup --file %s --ip 10.1.2.3 country iso_code",
		 db_path[0], db_path[0], db_path[1]);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	assert_int_equal(pclose(p), 0);
	assert_string_equal(out, "\n  \"US\" <utf8_string>\n\n"
				 "\n  \"CN\" <utf8_string>\n\n"
				 "\n  \"FR\" <utf8_string>\n\n");
}

/* geoip_open must fail with want and print path followed by msg. */
static void open_bad(const char *path, int want, const char *msg)
{
	struct geoip *g = (struct geoip *)0x1;
	char full[512];

	assert_int_equal(open_db(&g, path), want);
	assert_null(g);
	snprintf(full, sizeof(full), "%s: %s", path, msg);
	if (!strstr(err_text, full))
		fail_msg("expected '%s' in:\n%s", full, err_text);
}

static void test_bad_files(void **state)
{
	char path[128], bytes[4096];
	uint32_t x = 1;
	FILE *f;
	size_t n;

	(void)state;
	path_in_dir(path, sizeof(path), "missing.mmdb");
	open_bad(path, -ENOENT, "cannot open GeoIP (MaxMind DB) file: No such file or directory");
	open_bad(dir, -EINVAL, "not a regular file (a directory)");

	path_in_dir(path, sizeof(path), "empty.mmdb");
	write_file(path, "", 0);
	open_bad(path, -EINVAL, "empty file; expected a MaxMind DB (.mmdb) country database");

	/* pseudo-random bytes (an LCG: the same every run) */
	for (size_t i = 0; i < sizeof(bytes); i++) {
		x = x * 1103515245u + 12345u;
		bytes[i] = (char)(x >> 16);
	}
	path_in_dir(path, sizeof(path), "random.mmdb");
	write_file(path, bytes, sizeof(bytes));
	open_bad(path, -EINVAL, "not a MaxMind DB (.mmdb) file: ");

	/* a good file cut in half: its metadata (at the end) is gone */
	f = fopen(db_path[0], "rb");
	assert_non_null(f);
	n = fread(bytes, 1, sizeof(bytes), f);
	fclose(f);
	assert_true(n > 100 && n < sizeof(bytes));
	path_in_dir(path, sizeof(path), "half.mmdb");
	write_file(path, bytes, n / 2);
	open_bad(path, -EINVAL, "not a MaxMind DB (.mmdb) file: ");

	/* a valid MaxMind DB without countries (as an ASN database) */
	path_in_dir(path, sizeof(path), "nocountry.mmdb");
	assert_int_equal(
	    mkmmdb("10.0.0.0/8 - -\n2001:db8::/32 - -\n192.0.2.0/24 X1 DEU\n", path, 24), 0);
	open_bad(path, -EINVAL,
		 "MaxMind DB of type 'consentry-test-Country' has no country data (no "
		 "country.iso_code or registered_country.iso_code in its first networks)");
}

/* The generator refuses what it cannot write faithfully, naming the line. */
static void test_mkmmdb_errors(void **state)
{
	static const char *const bad[][2] = {
	    {"10.0.0.0/33 DE\n", ":1: '10.0.0.0/33' is not an IPv4 or IPv6 network (CIDR)"},
	    {"10.0.0.0/8\n", ":1: expected 'CIDR COUNTRY [REGISTERED_COUNTRY]'"},
	    {"# x\n10.0.0.0/8 DE CN FR\n", ":2: expected 'CIDR COUNTRY [REGISTERED_COUNTRY]'"},
	    {"10.0.0.0/8 DE\n10.0.0.0/8 FR\n", ":2: 10.0.0.0/8 repeats line 1"},
	    {"::/0 DE\n", ":1: a /0 network is not supported"}, /* the root is a node */
	};
	char out[128];
	struct capture cap;
	struct stat st;
	int rc;

	(void)state;
	path_in_dir(out, sizeof(out), "bad.mmdb");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		unlink(out);
		capture_begin(&cap);
		rc = mkmmdb(bad[i][0], out, 24);
		capture_end(&cap, err_text, sizeof(err_text));
		if (!rc)
			fail_msg("mkmmdb.py accepted:\n%s", bad[i][0]);
		if (!strstr(err_text, bad[i][1]))
			fail_msg("expected '%s' in:\n%s", bad[i][1], err_text);
		assert_int_not_equal(stat(out, &st), 0);
	}
}

static void test_iso3166(void **state)
{
	char cc[3] = "AA";
	unsigned n = 0;
	FILE *f;

	(void)state;
	/* first and last of the table, and some between */
	assert_true(iso3166_valid("AD"));
	assert_true(iso3166_valid("ZW"));
	assert_true(iso3166_valid("CN"));
	assert_true(iso3166_valid("DE"));
	assert_true(iso3166_valid("GB"));
	assert_true(iso3166_valid("US"));
	assert_true(iso3166_valid("HK"));
	assert_true(iso3166_valid("TW"));
	/* user-assigned, exceptionally reserved, deleted, never assigned */
	assert_false(iso3166_valid("XX"));
	assert_false(iso3166_valid("XK"));
	assert_false(iso3166_valid("EU"));
	assert_false(iso3166_valid("UK"));
	assert_false(iso3166_valid("AN"));
	assert_false(iso3166_valid("AA"));
	assert_false(iso3166_valid("ZZ"));
	/* exact: upper case, two letters */
	assert_false(iso3166_valid("uk"));
	assert_false(iso3166_valid("cn"));
	assert_false(iso3166_valid("Cn"));
	assert_false(iso3166_valid("C"));
	assert_false(iso3166_valid("CNN"));
	assert_false(iso3166_valid("CN "));
	assert_false(iso3166_valid(""));
	assert_false(iso3166_valid(NULL));
	/* exactly 249 of the 676 two-letter strings */
	for (cc[0] = 'A'; cc[0] <= 'Z'; cc[0]++)
		for (cc[1] = 'A'; cc[1] <= 'Z'; cc[1]++)
			n += (unsigned)iso3166_valid(cc);
	assert_int_equal(n, ISO3166_NCODES);
	assert_int_equal(n, 249);
	/* and the same ones as tzdata's list, when installed */
	f = fopen("/usr/share/zoneinfo/iso3166.tab", "r");
	if (f) {
		char line[256];

		n = 0;
		while (fgets(line, sizeof(line), f)) {
			if (line[0] == '#')
				continue;
			line[2] = '\0';
			if (!iso3166_valid(line))
				fail_msg("tzdata's code %s refused", line);
			n++;
		}
		fclose(f);
		assert_int_equal(n, 249);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lookup),    cmocka_unit_test(test_mmdblookup),
	    cmocka_unit_test(test_bad_files), cmocka_unit_test(test_mkmmdb_errors),
	    cmocka_unit_test(test_iso3166),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
