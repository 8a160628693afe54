// SPDX-License-Identifier: GPL-2.0-only
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
#include <unistd.h>
#include <cmocka.h>

#include "testutil.h"

#include "verdict/recipients.h"

static char tmp_path[64];
static char err_text[4096];

/* Write content to a fresh /tmp file; the path is in tmp_path. */
static void write_tmp(const char *content)
{
	strcpy(tmp_path, "/tmp/cs_rcpt_XXXXXX");
	tmp_write(tmp_path, content);
}

/* Load content; stderr is captured into err_text. */
static int load(const char *content, struct recipients **r)
{
	struct capture cap;
	int err;

	write_tmp(content);
	capture_begin(&cap);
	*r = (struct recipients *)0x1;
	err = recipients_load(r, tmp_path);
	capture_end(&cap, err_text, sizeof(err_text));
	unlink(tmp_path);
	if (err)
		assert_null(*r);
	return err;
}

/* Load must fail with -EINVAL and print want (prefixed by the file name). */
static void load_bad(const char *content, const char *want)
{
	struct recipients *r;
	char full[512];

	if (load(content, &r) != -EINVAL) {
		recipients_free(r);
		fail_msg("load did not fail with -EINVAL:\n%s", content);
	}
	snprintf(full, sizeof(full), "%s%s", tmp_path, want);
	if (!strstr(err_text, full))
		fail_msg("expected '%s' in:\n%s", full, err_text);
}

static const char *v4(const struct recipients *r, const char *ip, __u16 port, const char *host)
{
	const struct recipient *rc;
	__u8 a[4];

	assert_int_equal(inet_pton(AF_INET, ip, a), 1);
	rc = recipients_resolve(r, AF_INET, a, port, host);
	return rc ? rc->name : "(null)";
}

static const char *v6(const struct recipients *r, const char *ip, __u16 port, const char *host)
{
	const struct recipient *rc;
	__u8 a[16];

	assert_int_equal(inet_pton(AF_INET6, ip, a), 1);
	rc = recipients_resolve(r, AF_INET6, a, port, host);
	return rc ? rc->name : "(null)";
}

static const char *hostonly(const struct recipients *r, const char *host)
{
	const struct recipient *rc = recipients_resolve(r, 0, NULL, 0, host);

	return rc ? rc->name : "(null)";
}

static void test_lpm_v4(void **state)
{
	struct recipients *r;

	(void)state;
	assert_int_equal(load("recipient,kind,match\n"
			      "wide,third-party,10.0.0.0/8\n"
			      "mid,processor,10.1.0.0/16 192.168.7.9/16\n"
			      "host,first-party,10.1.2.3\n"
			      "all,third-party,0.0.0.0/0\n",
			      &r),
			 0);
	assert_string_equal(v4(r, "10.1.2.3", 443, NULL), "host");
	assert_string_equal(v4(r, "10.1.2.4", 443, NULL), "mid");
	assert_string_equal(v4(r, "10.1.255.255", 0, NULL), "mid");
	assert_string_equal(v4(r, "10.2.0.1", 80, NULL), "wide");
	assert_string_equal(v4(r, "10.255.255.255", 80, NULL), "wide");
	assert_string_equal(v4(r, "11.0.0.1", 80, NULL), "all");
	/* host bits of 192.168.7.9/16 are masked off */
	assert_string_equal(v4(r, "192.168.200.1", 80, NULL), "mid");
	assert_string_equal(rcpt_kind_name(recipients_find(r, "mid")->kind), "processor");
	recipients_free(r);

	assert_int_equal(load("recipient,kind,match\nwide,third-party,10.0.0.0/8\n", &r), 0);
	assert_string_equal(v4(r, "11.0.0.1", 80, NULL), "(null)");
	assert_string_equal(v4(r, "9.255.255.255", 80, NULL), "(null)");
	recipients_free(r);
}

static void test_lpm_v6(void **state)
{
	struct recipients *r;

	(void)state;
	assert_int_equal(load("recipient,kind,match\n"
			      "wide,third-party,2001:db8::/32\n"
			      "mid,processor,2001:DB8:1::/48\n"
			      "host,first-party,2001:db8:1::5\n",
			      &r),
			 0);
	assert_string_equal(v6(r, "2001:db8:1::5", 443, NULL), "host");
	assert_string_equal(v6(r, "2001:db8:1::6", 443, NULL), "mid");
	assert_string_equal(v6(r, "2001:db8:1:ffff::1", 443, NULL), "mid");
	assert_string_equal(v6(r, "2001:db8:2::1", 443, NULL), "wide");
	assert_string_equal(v6(r, "2001:db9::1", 443, NULL), "(null)");
	assert_string_equal(v6(r, "::1", 443, NULL), "(null)");
	/* an IPv4 address never matches an IPv6 prefix */
	assert_string_equal(v4(r, "32.1.13.184", 443, NULL), "(null)");
	recipients_free(r);
}

static void test_ipport(void **state)
{
	struct recipients *r;

	(void)state;
	assert_int_equal(load("recipient,kind,match\n"
			      "net,processor,203.0.113.0/24 2001:db8::/32\n"
			      "svc,third-party,203.0.113.7:443 [2001:db8::7]:8443\n"
			      "one,first-party,203.0.113.7\n"
			      "named,first-party,svc.example\n",
			      &r),
			 0);
	assert_string_equal(v4(r, "203.0.113.7", 443, NULL), "svc");
	assert_string_equal(v4(r, "203.0.113.7", 80, NULL), "one");
	assert_string_equal(v4(r, "203.0.113.8", 443, NULL), "net");
	assert_string_equal(v6(r, "2001:db8::7", 8443, NULL), "svc");
	assert_string_equal(v6(r, "2001:db8::7", 443, NULL), "net");
	/* IP:port wins over a host selector too */
	assert_string_equal(v4(r, "203.0.113.7", 443, "svc.example"), "svc");
	assert_string_equal(v4(r, "192.0.2.1", 443, "svc.example"), "named");
	recipients_free(r);
}

static void test_hosts(void **state)
{
	struct recipients *r;

	(void)state;
	assert_int_equal(load("recipient,kind,match\n"
			      "api,third-party,API.adpartner.example\n"
			      "ads,third-party,*.adpartner.example\n"
			      "deep,processor,*.b.adpartner.example\n"
			      "tld,first-party,*.example localhost\n"
			      "net,processor,198.51.100.0/24\n",
			      &r),
			 0);
	assert_string_equal(hostonly(r, "api.adpartner.example"), "api");
	assert_string_equal(hostonly(r, "API.AdPartner.Example:443"), "api");
	assert_string_equal(hostonly(r, "api.adpartner.example."), "api");
	assert_string_equal(hostonly(r, "x.adpartner.example"), "ads");
	assert_string_equal(hostonly(r, "a.x.adpartner.example"), "ads");
	assert_string_equal(hostonly(r, "b.adpartner.example"), "ads");
	assert_string_equal(hostonly(r, "a.b.adpartner.example"), "deep");
	assert_string_equal(hostonly(r, "api.b.adpartner.example"), "deep");
	/* "*.example" matches a.example, not example itself */
	assert_string_equal(hostonly(r, "adpartner.example"), "tld");
	assert_string_equal(hostonly(r, "example"), "(null)");
	assert_string_equal(hostonly(r, "localhost:8080"), "tld");
	assert_string_equal(hostonly(r, "xadpartner.example"), "tld");
	assert_string_equal(hostonly(r, "other.test"), "(null)");
	assert_string_equal(hostonly(r, ""), "(null)");
	assert_string_equal(hostonly(r, NULL), "(null)");
	assert_string_equal(hostonly(r, "[2001:db8::1]:443"), "(null)");
	/* the address is tried first, then the host */
	assert_string_equal(v4(r, "198.51.100.1", 443, "api.adpartner.example"), "net");
	assert_string_equal(v4(r, "192.0.2.1", 443, "api.adpartner.example"), "api");
	assert_string_equal(v4(r, "192.0.2.1", 443, NULL), "(null)");
	assert_string_equal(v6(r, "2001:db8::1", 443, "x.adpartner.example"), "ads");
	recipients_free(r);
}

static void test_v4_mapped(void **state)
{
	struct recipients *r;

	(void)state;
	assert_int_equal(load("recipient,kind,match\n"
			      "net,third-party,10.0.0.0/8\n"
			      "svc,processor,10.0.0.1:443\n"
			      "mapped,first-party,::ffff:192.0.2.1 ::ffff:198.51.100.0/120\n"
			      "mport,processor,[::ffff:192.0.2.2]:80\n",
			      &r),
			 0);
	assert_string_equal(v6(r, "::ffff:10.9.8.7", 443, NULL), "net");
	assert_string_equal(v6(r, "::ffff:10.0.0.1", 443, NULL), "svc");
	assert_string_equal(v4(r, "192.0.2.1", 443, NULL), "mapped");
	assert_string_equal(v6(r, "::ffff:192.0.2.1", 443, NULL), "mapped");
	assert_string_equal(v4(r, "198.51.100.77", 443, NULL), "mapped");
	assert_string_equal(v4(r, "192.0.2.2", 80, NULL), "mport");
	/* not mapped: ::10.9.8.7 (deprecated IPv4-compatible) is plain IPv6 */
	assert_string_equal(v6(r, "::10.9.8.7", 443, NULL), "(null)");
	recipients_free(r);
}

static void test_find_merge(void **state)
{
	struct recipients *r;
	const struct recipient *rc;

	(void)state;
	/* columns in any order; rows of one recipient merge; repeats are harmless */
	assert_int_equal(load("# comment\n"
			      "match,recipient,kind\n"
			      "10.0.0.0/8 a.example,ads,third-party\n"
			      "\"10.0.0.0/8  b.example\",ads,third-party\n"
			      "c.example,Own,first-party\n",
			      &r),
			 0);
	rc = recipients_find(r, "ads");
	assert_non_null(rc);
	assert_string_equal(rc->name, "ads");
	assert_int_equal(rc->kind, RK_THIRD_PARTY);
	assert_ptr_equal(recipients_resolve(r, 0, NULL, 0, "b.example"), rc);
	assert_ptr_equal(recipients_resolve(r, 0, NULL, 0, "a.example"), rc);
	assert_int_equal(recipients_find(r, "Own")->kind, RK_FIRST_PARTY);
	assert_null(recipients_find(r, "own"));
	assert_null(recipients_find(r, "nobody"));
	assert_null(recipients_find(NULL, "ads"));
	assert_null(recipients_resolve(NULL, 0, NULL, 0, "a.example"));
	recipients_free(r);
	recipients_free(NULL);

	assert_string_equal(rcpt_kind_name(RK_FIRST_PARTY), "first-party");
	assert_string_equal(rcpt_kind_name(RK_PROCESSOR), "processor");
	assert_string_equal(rcpt_kind_name(RK_THIRD_PARTY), "third-party");
	assert_string_equal(rcpt_kind_name(RK_UNKNOWN), "unknown");
	assert_string_equal(rcpt_kind_name((enum rcpt_kind)42), "unknown");
}

static void test_bad_selectors(void **state)
{
	static const char *const bad[] = {
	    "10.0.0.0/33",
	    "2001:db8::/129",
	    "10.0.0.0/",
	    "10.0.0/8",
	    "10.0.0.0/-1",
	    "10.0.0.0/+8",
	    "10.0.0.0/08x",
	    "::ffff:10.0.0.0/95",
	    "300.1.1.1",
	    "1.2.3",
	    "10.0.0.1:0",
	    "10.0.0.1:70000",
	    "10.0.0.1:",
	    "[2001:db8::1]",
	    "[2001:db8::1]:",
	    "[10.0.0.1]:80",
	    "api.example:443",
	    "*",
	    "*.",
	    "a.*.example",
	    "*example",
	    "-bad.example",
	    "bad-.example",
	    "a..b",
	    "a!b.example",
	    "http://a.example",
	    "a.example/path?q",
	    "a.example/path#f",
	    "a.example:443/path",
	    "10.0.0.1/path",
	    "2001:db8::g",
	};
	char content[256], want[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(content, sizeof(content),
			 "recipient,kind,match\nok,processor,192.0.2.1\nx,third-party,\"a.example "
			 "%s\"\n",
			 bad[i]);
		snprintf(want, sizeof(want),
			 ":3: bad selector '%s' (expected IP, IP:port, CIDR, host or *.domain)",
			 bad[i]);
		load_bad(content, want);
	}
}

/* Resolve an IPv4 destination with host and path; "name purpose country" or "(null)". */
static const char *m4(const struct recipients *r, const char *ip, const char *host,
		      const char *path)
{
	static char out[128];
	struct rcpt_match m;
	__u8 a[4];

	assert_int_equal(inet_pton(AF_INET, ip, a), 1);
	if (!recipients_match(r, AF_INET, a, 443, host, path, &m)) {
		assert_null(m.rcpt);
		return "(null)";
	}
	snprintf(out, sizeof(out), "%s %s %s", m.rcpt->name, m.purpose ? m.purpose : "-",
		 m.country[0] ? m.country : "-");
	return out;
}

/* spec §7: country and purpose per row, several rows per recipient, path prefixes on hosts */
static void test_purpose_rows(void **state)
{
	struct recipients *r;

	(void)state;
	assert_int_equal(load("recipient,kind,match,country,purpose\n"
			      "partner,third-party,api.partner.example/v1/audience,US,advertising\n"
			      "partner,third-party,api.partner.example/v1/fraud/,CN,fraud-check\n"
			      "partner,third-party,api.partner.example,CN,\n"
			      "partner,third-party,*.partner.example/v2,SG,analytics\n"
			      "partner,third-party,203.0.113.0/24,DE,support\n"
			      "cloud,processor,*.cloud.example,,storage\n",
			      &r),
			 0);
	assert_string_equal(m4(r, "192.0.2.1", "api.partner.example", "/v1/audience"),
			    "partner advertising US");
	assert_string_equal(m4(r, "192.0.2.1", "API.partner.example:443", "/v1/audience/x?y=1"),
			    "partner advertising US");
	assert_string_equal(m4(r, "192.0.2.1", "api.partner.example", "/v1/audience?y"),
			    "partner advertising US");
	/* a prefix ends at a path boundary */
	assert_string_equal(m4(r, "192.0.2.1", "api.partner.example", "/v1/audiences"),
			    "partner - CN");
	assert_string_equal(m4(r, "192.0.2.1", "api.partner.example", "/v1/fraud/check"),
			    "partner fraud-check CN");
	assert_string_equal(m4(r, "192.0.2.1", "api.partner.example", "/v1/fraud"), "partner - CN");
	/* no request (TLS SNI only, DNS): the path-less selector */
	assert_string_equal(m4(r, "192.0.2.1", "api.partner.example", NULL), "partner - CN");
	/* exact host beats a wildcard even when only the wildcard has a matching path */
	assert_string_equal(m4(r, "192.0.2.1", "api.partner.example", "/v2/x"), "partner - CN");
	assert_string_equal(m4(r, "192.0.2.1", "eu.partner.example", "/v2/x"),
			    "partner analytics SG");
	/* a wildcard with only path selectors does not match other paths */
	assert_string_equal(m4(r, "192.0.2.1", "eu.partner.example", "/v3"), "(null)");
	/* an address selector wins over hosts, with its own row */
	assert_string_equal(m4(r, "203.0.113.9", "api.partner.example", "/v1/audience"),
			    "partner support DE");
	assert_string_equal(m4(r, "192.0.2.1", "x.cloud.example", "/"), "cloud storage -");
	/* partner has a row without purpose: any consent purpose may cover its disclosures */
	assert_int_equal(recipients_purpose_reach(r, "partner", NULL), 2);
	assert_int_equal(recipients_purpose_reach(r, "partner", "marketing"), 2);
	assert_int_equal(recipients_purpose_reach(r, "cloud", "storage"), 1);
	assert_int_equal(recipients_purpose_reach(r, "cloud", "advertising"), 0);
	assert_int_equal(recipients_purpose_reach(r, "cloud", NULL), 0);
	assert_int_equal(recipients_purpose_reach(r, "nobody", "storage"), 0);
	/* the old entry point resolves as before */
	assert_string_equal(v4(r, "192.0.2.1", 443, "api.partner.example"), "partner");
	recipients_free(r);

	/* a file without the new columns: no country, no purpose */
	assert_int_equal(load("recipient,kind,match\nx,third-party,a.example\n", &r), 0);
	assert_string_equal(m4(r, "192.0.2.1", "a.example", "/v1"), "x - -");
	recipients_free(r);
}

static void test_purpose_bad(void **state)
{
	(void)state;
	load_bad("recipient,kind,match,country\nx,third-party,a.example,XX\n",
		 ":2: bad country 'XX' (expected an ISO 3166-1 alpha-2 code such as CN or DE)");
	load_bad("recipient,kind,match,country\nx,third-party,a.example,cn\n",
		 ":2: bad country 'cn'");
	load_bad("recipient,kind,match,country\nx,third-party,a.example,EU\n",
		 ":2: bad country 'EU'");
	load_bad("recipient,kind,match,purpose\nx,third-party,a.example,ads|fraud\n",
		 ":2: bad purpose 'ads|fraud' (expected 1..128 bytes");
	load_bad("recipient,kind,match,purpose\nx,third-party,a.example,\" lead\"\n",
		 ":2: bad purpose ' lead'");
	load_bad("recipient,kind,match,purpose\nx,third-party,a.example,\"a\tb\"\n",
		 ":2: bad purpose 'a\tb'");
	load_bad("recipient,kind,match,purpose\nx,third-party,a.example,\xff\n",
		 ":2: bad purpose '\xff'");
	load_bad("recipient,kind,match\nx,third-party,a.example/v1?q\n",
		 ":2: bad selector 'a.example/v1?q'");
	load_bad("recipient,kind,match\nx,third-party,a.example/v1\xc3\xa9\n",
		 ":2: bad selector 'a.example/v1");
	load_bad("recipient,kind,match\nx,third-party,a.example//\ny,third-party,a.example//\n",
		 ":3: selector 'a.example//' already belongs to recipient 'x' (line 2)");
	/* one selector, two purposes or countries of one recipient */
	load_bad("recipient,kind,match,purpose\nx,third-party,a.example/v1,ads\n"
		 "x,third-party,a.example/v1,fraud\n",
		 ":3: selector 'a.example/v1' has country '' and purpose 'ads' on line 2");
	load_bad("recipient,kind,match,country\nx,third-party,10.0.0.0/8,CN\n"
		 "x,third-party,10.0.0.0/8,US\n",
		 ":3: selector '10.0.0.0/8' has country 'CN' and purpose '' on line 2");
	load_bad("recipient,kind,match,country\nx,third-party,10.0.0.1:80,CN\n"
		 "x,third-party,10.0.0.1:80,US\n",
		 ":3: selector '10.0.0.1:80' has country 'CN'");
	load_bad("recipient,kind,match,country\nx,third-party,*.a.example,CN\n"
		 "x,third-party,*.a.example,US\n",
		 ":3: selector '*.a.example' has country 'CN'");
}

static void test_bad_files(void **state)
{
	struct recipients *r;

	(void)state;
	load_bad(
	    "recipient,kind,match\nx,fourth-party,a.example\n",
	    ":2: unknown kind 'fourth-party' (expected first-party, processor or third-party)");
	load_bad("recipient,kind,match,notes\nx,processor,a.example,hi\n",
		 ":1: unknown column 'notes' (expected recipient, kind, match, country, purpose)");
	load_bad("recipient,kind\nx,processor\n", ":1: missing column 'match'");
	load_bad("recipient,kind,kind,match\n", ":1: duplicate column 'kind'");
	load_bad("", ":1: missing header");
	load_bad("recipient,kind,match\nx,processor,a.example,extra\n",
		 ":2: expected 3 columns, got 4");
	load_bad("recipient,kind,match\n,processor,a.example\n", ":2: empty recipient");
	load_bad("recipient,kind,match\nx,processor,\n", ":2: empty match for recipient 'x'");
	load_bad("recipient,kind,match\nx,processor,\"a.example\n", ":2: ");
	load_bad("recipient,kind,match\nx,processor,a.example\nx,third-party,b.example\n",
		 ":3: recipient 'x' is third-party here but processor on line 2");
	/* one selector, two recipients */
	load_bad("recipient,kind,match\nx,processor,10.0.0.0/8\ny,processor,10.1.2.3/8\n",
		 ":3: selector '10.1.2.3/8' already belongs to recipient 'x' (line 2)");
	load_bad("recipient,kind,match\nx,processor,2001:db8::/32\ny,processor,2001:db8::/32\n",
		 ":3: selector '2001:db8::/32' already belongs to recipient 'x' (line 2)");
	load_bad("recipient,kind,match\nx,processor,10.0.0.1:80\ny,processor,10.0.0.1:80\n",
		 ":3: selector '10.0.0.1:80' already belongs to recipient 'x' (line 2)");
	load_bad(
	    "recipient,kind,match\nx,processor,[2001:db8::1]:80\ny,processor,[2001:db8::1]:80\n",
	    ":3: selector '[2001:db8::1]:80' already belongs to recipient 'x' (line 2)");
	load_bad("recipient,kind,match\nx,processor,a.example\ny,processor,A.Example.\n",
		 ":3: selector 'a.example' already belongs to recipient 'x' (line 2)");
	load_bad("recipient,kind,match\nx,processor,*.a.example\ny,processor,*.a.example\n",
		 ":3: selector '*.a.example' already belongs to recipient 'x' (line 2)");
	/* every error is reported, not only the first */
	load_bad("recipient,kind,match\nx,nope,a.example\ny,processor,1.2.3.4/40\n",
		 ":3: bad selector '1.2.3.4/40'");
	assert_non_null(strstr(err_text, ":2: unknown kind 'nope'"));

	/* a host and a wildcard of the same name may belong to different recipients */
	assert_int_equal(
	    load("recipient,kind,match\nx,processor,a.example\ny,third-party,*.a.example\n", &r),
	    0);
	recipients_free(r);

	r = (struct recipients *)0x1;
	assert_int_equal(recipients_load(&r, "/nonexistent/recipients.csv"), -ENOENT);
	assert_null(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lpm_v4),	  cmocka_unit_test(test_lpm_v6),
	    cmocka_unit_test(test_ipport),	  cmocka_unit_test(test_hosts),
	    cmocka_unit_test(test_v4_mapped),	  cmocka_unit_test(test_find_merge),
	    cmocka_unit_test(test_bad_selectors), cmocka_unit_test(test_bad_files),
	    cmocka_unit_test(test_purpose_rows),  cmocka_unit_test(test_purpose_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
