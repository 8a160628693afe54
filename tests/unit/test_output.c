// SPDX-License-Identifier: GPL-2.0-only
/*
 * Finding writers under hostile strings (Host, comm, exe, cgroup, path from traffic and
 * processes): every jsonl and OCSF line is valid UTF-8 JSON (python3's json module parses it,
 * bad bytes come out as U+FFFD), OCSF lines carry the required attributes of class 2006, text
 * lines hold no control byte and no invalid UTF-8. A finding of a send the kernel refused (run
 * --block) says action "blocked" in every format, any other "reported".
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/fields.h"
#include "monitor/message.h"
#include "output/output.h"

/* Run python3 CODE PATH, its stdout into out (NUL-terminated); returns its exit status. */
static int python(const char *code, const char *path, char *out, size_t len)
{
	char cmd[8192];
	size_t n = 0;
	FILE *p;

	if (system("python3 -c '' >/dev/null 2>&1"))
		skip();
	snprintf(cmd, sizeof(cmd), "python3 -I -c '%s' '%s'", code, path);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (n + 1 < len && fgets(out + n, (int)(len - n), p))
		n += strlen(out + n);
	out[n] = '\0';
	return pclose(p);
}

/* Each string, and how python's json.dumps (ASCII) must give it back after parsing our JSON. */
static const struct {
	const char *in, *want;
} cases[] = {
    {"api.\xff\xfe.example", "\"api.\\ufffd\\ufffd.example\""},
    {"\xc0\xaf/etc", "\"\\ufffd\\ufffd/etc\""},		      /* overlong '/' */
    {"a\xe0\x80\xaf", "\"a\\ufffd\\ufffd\\ufffd\""},	      /* overlong, 3 bytes */
    {"\xed\xa0\x80x", "\"\\ufffd\\ufffd\\ufffdx\""},	      /* surrogate U+D800 */
    {"\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""}, /* above U+10FFFF */
    {"cut\xe5\xbc", "\"cut\\ufffd\\ufffd\""},		      /* truncated at the end */
    {"cut\xe5\xbcx", "\"cut\\ufffd\\ufffdx\""},		      /* truncated in the middle */
    {"\x80\xbf", "\"\\ufffd\\ufffd\""},			      /* lone continuations */
    {"\xf8\x88\x80\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\""}, /* 5-byte form */
    {"c\x01\x1f\x7f\n\r\t\"\\", "\"c\\u0001\\u001f\\u007f\\n\\r\\t\\\"\\\\\""},
    {"\xe5\xbc\xa0\xe4\xbc\x9f", "\"\\u5f20\\u4f1f\""}, /* valid: kept */
    {"\xf0\x9f\x98\x80", "\"\\ud83d\\ude00\""},		/* U+1F600, 4 bytes */
    {"a\xe2\x80\xa8"
     "b\xe2\x80\xa9",
     "\"a\\u2028b\\u2029\""},	 /* JS line separators */
    {"\xc2\x85", "\"\\u0085\""}, /* valid C1 control */
    {"", "\"\""},
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

static void test_json_str_hostile(void **state)
{
	static const char py[] = "import json, sys\n"
				 "raw = open(sys.argv[1], \"rb\").read()\n"
				 "for line in raw.decode(\"utf-8\").split(\"\\n\")[:-1]:\n"
				 "    print(json.dumps(json.loads(line)[\"v\"]))\n";
	char path[] = "/tmp/test_output_XXXXXX", out[8192], *line, *save = NULL;
	int fd = mkstemp(path);
	FILE *f;
	unsigned i = 0;

	(void)state;
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	for (i = 0; i < NCASES; i++) {
		fputs("{\"v\":", f);
		json_str(f, cases[i].in);
		fputs("}\n", f);
	}
	assert_int_equal(fclose(f), 0);
	assert_int_equal(python(py, path, out, sizeof(out)), 0);
	unlink(path);
	i = 0;
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save), i++) {
		assert_true(i < NCASES);
		assert_string_equal(line, cases[i].want);
	}
	assert_int_equal(i, NCASES);
}

/* An event and finding whose strings are hostile, as traffic and processes may make them. */
struct hostile {
	struct cs_event ev;
	struct finding fd;
	struct msg m;
	struct msg_http http;
	struct proc_view pv;
};

static void hostile_make(struct hostile *h)
{
	static const struct recipient rcpt = {"adpartner", RK_THIRD_PARTY};

	memset(h, 0, sizeof(*h));
	h->ev.pid = h->ev.tid = 42;
	h->ev.dport = 443;
	h->ev.proto = 6;
	h->ev.channel = CS_CH_SYSCALL;
	h->ev.daddr[0] = 203, h->ev.daddr[1] = 0, h->ev.daddr[2] = 113, h->ev.daddr[3] = 7;
	h->ev.bytes_total = h->ev.bytes_inspected = 100;
	/* comm: 16 bytes, no NUL, bad UTF-8 and controls */
	memcpy(h->ev.comm, "cu\xffrl\x1b[2J\x7f\xc0\xaf\n\r\t\"", 16);
	h->fd.subject = "u0042";
	h->fd.verdict = V_UNCONSENTED;
	h->fd.rcpt = &rcpt;
	h->fd.fields = h->fd.unconsented = FIELD_BIT(CS_F_PHONE);
	h->fd.nfps = 1;
	h->fd.fps[0] = 0x9f2c;
	snprintf(h->fd.msg_id, sizeof(h->fd.msg_id), "00000abc-1");
	h->fd.msg_subjects = 1;
	h->fd.msg = &h->m;
	h->m.http = &h->http;
	snprintf(h->http.version, sizeof(h->http.version), "1.1");
	snprintf(h->http.method, sizeof(h->http.method), "P\xe9ST");
	snprintf(h->http.path, sizeof(h->http.path),
		 "/u/{phone}?q=\xed\xbf\xbf&x=\x01\xf0\x9f\x98");
	h->pv.exe = "/tmp/\xfe\xff/bin\x7f";
	h->pv.cgroup = "/system.slice/\xc3(.service";
	h->pv.container_id = "\xe2\x82";
}

static const char *const hostile_host = "api.\xff\xfe.example";

/*
 * Checks of every line (argv[2] is the format): valid UTF-8, JSON objects for jsonl and ocsf,
 * the hostile strings back with U+FFFD; OCSF class 2006's required attributes (OCSF 1.x schema:
 * base event activity_id, category_uid, class_uid, metadata (product, version), severity_id,
 * time, type_uid; finding: finding_info (uid, title); the security_control profile's action and
 * disposition, named in metadata.profiles); jsonl: action right after verdict; text: no control
 * and no invalid byte.
 */
static const char check_py[] =
    "import json, sys\n"
    "raw = open(sys.argv[1], \"rb\").read()\n"
    "text = raw.decode(\"utf-8\")\n"
    "fmt = sys.argv[2]\n"
    "n = 0\n"
    "for line in text.split(\"\\n\")[:-1]:\n"
    "    n += 1\n"
    "    if fmt == \"text\":\n"
    "        bad = [c for c in line if ord(c) < 0x20 or 0x7f <= ord(c) < 0xa0]\n"
    "        assert not bad, bad\n"
    "        assert \"\\ufffd\" not in line\n"
    "        assert \"host=api.\\\\xff\\\\xfe.example\" in line, line\n"
    "        continue\n"
    "    o = json.loads(line)\n"
    "    if fmt == \"ocsf\":\n"
    "        for k in (\"activity_id\", \"category_uid\", \"class_uid\", \"finding_info\",\n"
    "                  \"metadata\", \"severity_id\", \"time\", \"type_uid\"):\n"
    "            assert k in o, k\n"
    "        assert o[\"class_uid\"] == 2006 and o[\"category_uid\"] == 2\n"
    "        assert o[\"type_uid\"] == o[\"class_uid\"] * 100 + o[\"activity_id\"]\n"
    "        assert isinstance(o[\"time\"], int) and isinstance(o[\"severity_id\"], int)\n"
    "        assert o[\"metadata\"][\"version\"].startswith(\"1.\")\n"
    "        assert o[\"metadata\"][\"product\"][\"name\"] == \"consentry\"\n"
    "        assert o[\"finding_info\"][\"uid\"] and o[\"finding_info\"][\"title\"]\n"
    "        assert o[\"data_security\"][\"data_lifecycle_state_id\"] == 2\n"
    "        assert \"security_control\" in o[\"metadata\"][\"profiles\"]\n"
    "        assert o[\"action_id\"] == o[\"disposition_id\"] == 1, o[\"action_id\"]\n"
    "        assert o[\"action\"] == o[\"disposition\"] == \"Allowed\"\n"
    "        assert o[\"consentry\"][\"action\"] == \"reported\"\n"
    "        host = o[\"dst_endpoint\"][\"hostname\"]\n"
    "        proc = o[\"actor\"][\"process\"]\n"
    "        http = o[\"consentry\"][\"message\"][\"http\"]\n"
    "    else:\n"
    "        host = o[\"destination\"][\"host\"]\n"
    "        proc = o[\"process\"]\n"
    "        http = o[\"message\"][\"http\"]\n"
    "        assert list(o)[1:3] == [\"verdict\", \"action\"], list(o)\n"
    "        assert o[\"action\"] == \"reported\"\n"
    "    assert host == \"api.\\ufffd\\ufffd.example\", host\n"
    "    assert proc[\"comm\"] == \"cu\\ufffdrl\\x1b[2J\\x7f\\ufffd\\ufffd\\n\\r\\t\\\"\", "
    "proc[\"comm\"]\n"
    "    assert proc[\"exe\"] == \"/tmp/\\ufffd\\ufffd/bin\\x7f\", proc[\"exe\"]\n"
    "    assert proc[\"cgroup\"] == \"/system.slice/\\ufffd(.service\", proc[\"cgroup\"]\n"
    "    assert proc[\"container_id\"] == \"\\ufffd\\ufffd\"\n"
    "    assert http[\"method\"] == \"P\\ufffdST\", http\n"
    "    assert http[\"path\"] == "
    "\"/u/{phone}?q=\\ufffd\\ufffd\\ufffd&x=\\x01\\ufffd\\ufffd\\ufffd\", "
    "http\n"
    "print(n)\n";

static void write_and_check(enum out_format fmt, const char *name)
{
	char path[] = "/tmp/test_output_XXXXXX", out[4096];
	struct hostile h;
	struct output o = {.fmt = fmt};
	char py[sizeof(check_py) + 8];
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	o.f = fdopen(fd, "w");
	assert_non_null(o.f);
	hostile_make(&h);
	assert_int_equal(output_write(&o, &h.ev, &h.fd, hostile_host, 1764334800123456000LL, &h.pv),
			 0);
	assert_int_equal(fclose(o.f), 0);
	snprintf(py, sizeof(py), "%s", check_py);
	/* argv[2]: the format (appended to the path argument's quoting) */
	{
		char arg[96];

		snprintf(arg, sizeof(arg), "%s' '%s", path, name);
		assert_int_equal(python(py, arg, out, sizeof(out)), 0);
	}
	assert_string_equal(out, "1\n");
	unlink(path);
}

static void test_jsonl_hostile(void **state)
{
	(void)state;
	write_and_check(FMT_JSONL, "jsonl");
}

static void test_ocsf_hostile(void **state)
{
	(void)state;
	write_and_check(FMT_OCSF, "ocsf");
}

static void test_text_hostile(void **state)
{
	(void)state;
	write_and_check(FMT_TEXT, "text");
}

/* A finding of scan-pcap: channel "pcap" and no process (null; text: no comm, no pid). */
static void test_pcap_channel(void **state)
{
	static const struct {
		enum out_format fmt;
		const char *want, *never;
	} c[] = {
	    {FMT_JSONL, "\"process\":null,\"channel\":\"pcap\",", "\"comm\""},
	    {FMT_OCSF, "\"actor\":{\"process\":null}", "\"comm\""},
	    {FMT_TEXT, " host=api.\\xff\\xfe.example channel=pcap msg=", "pid="},
	};
	struct hostile h;

	(void)state;
	hostile_make(&h);
	h.ev.channel = CS_CH_PCAP;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct output o = {.fmt = c[i].fmt};
		char *buf = NULL;
		size_t len = 0;

		o.f = open_memstream(&buf, &len);
		assert_non_null(o.f);
		assert_int_equal(output_write(&o, &h.ev, &h.fd, hostile_host, 0, &h.pv), 0);
		fclose(o.f);
		if (!strstr(buf, c[i].want) || strstr(buf, c[i].never))
			fail_msg("format %d: want \"%s\", never \"%s\": %s", c[i].fmt, c[i].want,
				 c[i].never, buf);
		free(buf);
	}
}

/*
 * The action: a finding of a send the kernel refused (CS_EVX_BLOCKED on its message's event) is
 * "blocked" (jsonl, right after the verdict; OCSF action_id 2 Denied, disposition_id 2 Blocked and
 * the extension's action; text "action=blocked" next to the verdict), any other "reported"
 * (OCSF 1 Allowed both; text as before, no action token).
 */
static void test_action(void **state)
{
	static const char py[] =
	    "import json, sys\n"
	    "for line in open(sys.argv[1], encoding=\"utf-8\"):\n"
	    "    o = json.loads(line)\n"
	    "    if \"class_uid\" in o:\n"
	    "        print(o[\"action_id\"], o[\"action\"], o[\"disposition_id\"],\n"
	    "              o[\"disposition\"], o[\"consentry\"][\"action\"],\n"
	    "              \" \".join(o[\"metadata\"][\"profiles\"]))\n"
	    "    else:\n"
	    "        print(\" \".join(list(o)[1:3]), o[\"action\"])\n";
	char path[] = "/tmp/test_output_XXXXXX", out[512];
	struct hostile h;
	struct output o = {0};
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	o.f = fdopen(fd, "w");
	assert_non_null(o.f);
	hostile_make(&h);
	h.m.ev = &h.ev;
	for (int blocked = 1; blocked >= 0; blocked--) {
		h.ev.xflags = blocked ? CS_EVX_BLOCKED : 0;
		o.fmt = FMT_JSONL;
		assert_int_equal(output_write(&o, &h.ev, &h.fd, "h", 0, &h.pv), 0);
		o.fmt = FMT_OCSF;
		assert_int_equal(output_write(&o, &h.ev, &h.fd, "h", 0, &h.pv), 0);
	}
	assert_int_equal(fclose(o.f), 0);
	assert_int_equal(python(py, path, out, sizeof(out)), 0);
	unlink(path);
	assert_string_equal(out, "verdict action blocked\n"
				 "2 Denied 2 Blocked blocked security_control\n"
				 "verdict action reported\n"
				 "1 Allowed 1 Allowed reported security_control\n");
	/* text and the journal entry's summary line */
	for (int blocked = 1; blocked >= 0; blocked--) {
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);

		assert_non_null(f);
		h.ev.xflags = blocked ? CS_EVX_BLOCKED : 0;
		output_render(f, FMT_TEXT, &h.ev, &h.fd, "h", 0, &h.pv);
		output_render(f, FMT_SUMMARY, &h.ev, &h.fd, "h", 0, &h.pv);
		fclose(f);
		if (blocked) {
			assert_non_null(strstr(buf, "Z unconsented action=blocked subject=u0042 "));
			assert_non_null(strstr(buf, "\nunconsented action=blocked subject=u0042 "));
		} else {
			assert_non_null(strstr(buf, "Z unconsented subject=u0042 "));
			assert_non_null(strstr(buf, "\nunconsented subject=u0042 "));
			assert_null(strstr(buf, "action="));
		}
		free(buf);
	}
	/* no message, or a message without its event (scan-pcap, tests): reported */
	h.m.ev = NULL;
	h.ev.xflags = CS_EVX_BLOCKED;
	assert_false(finding_blocked(&h.fd));
	h.fd.msg = NULL;
	assert_false(finding_blocked(&h.fd));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_json_str_hostile), cmocka_unit_test(test_jsonl_hostile),
	    cmocka_unit_test(test_ocsf_hostile),     cmocka_unit_test(test_text_hostile),
	    cmocka_unit_test(test_pcap_channel),     cmocka_unit_test(test_action),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
