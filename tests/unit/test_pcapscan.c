// SPDX-License-Identifier: GPL-2.0-only
/*
 * `consentry scan-pcap` on captures written here, byte by byte, as pcap and as pcapng (libpcap
 * reads both): a DNS answer names the address a raw TCP send goes to (recipient by DNS), a
 * phone split over two segments that arrive in reverse order (found once, "split", at the time
 * of the packet that completed it), an HTTP POST with a Host header, retransmitted (one
 * finding), the server's answer holding a phone (not scanned: not a send of the host), a TLS
 * connection (its bytes not scanned: ciphertext, counted), a UDP
 * datagram (unknown recipient). Exact findings; then files that are not captures, a truncated
 * capture and a link type not handled are refused with -EINVAL.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "testlib.h"
#include "testutil.h"
#include "lib/timeutil.h"
#include "output/output.h"
#include "pcap/pcapscan.h"
#include "verdict/consent.h"
#include "verdict/recipients.h"

static struct cs_key key = {0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL, 0x1716151413121110ULL,
			    0x1f1e1d1c1b1a1918ULL, 0};

static const struct test_row rows[] = {
    {"u001", CS_F_PHONE, "13712340001"},
    {"u002", CS_F_EMAIL, "li.na@example.org"},
    {"u005", CS_F_PHONE, "13955550005"},
};

static struct fpdb db;
static struct recipients *rcpts;
static struct consent_db *consent;

/* 2026-11-28T12:00:00Z */
#define T0 1795867200LL

static int setup(void **state)
{
	char rpath[] = "/tmp/cs_pcap_rcpt_XXXXXX", cpath[] = "/tmp/cs_pcap_consent_XXXXXX";

	(void)state;
	test_db_build(&db, &key, rows, sizeof(rows) / sizeof(rows[0]));
	tmp_write(rpath, "recipient,kind,match\n"
			 "tracker,third-party,*.tracker.example\n"
			 "tracker-api,third-party,api.tracker.example\n");
	tmp_write(cpath,
		  "subject_id,recipient,fields,granted_at,expires_at,withdrawn_at,purpose\n");
	assert_int_equal(recipients_load(&rcpts, rpath), 0);
	assert_int_equal(consent_load(&consent, cpath, rcpts), 0);
	unlink(rpath);
	unlink(cpath);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	consent_free(consent);
	recipients_free(rcpts);
	fpdb_release(&db);
	return 0;
}

/* A capture being written: pcap (ng 0) or pcapng (ng 1), Ethernet. */
struct cap {
	__u8 b[1 << 16];
	size_t n;
	int ng;
};

static void put(struct cap *c, const void *p, size_t n)
{
	assert_true(c->n + n <= sizeof(c->b));
	memcpy(c->b + c->n, p, n);
	c->n += n;
}

static void put32(struct cap *c, __u32 v)
{
	put(c, &v, 4);
}

static void put16(struct cap *c, __u16 v)
{
	put(c, &v, 2);
}

static void cap_begin(struct cap *c, int ng, __u16 linktype)
{
	memset(c, 0, sizeof(*c));
	c->ng = ng;
	if (!ng) {
		/* magic, version 2.4, zone, sigfigs, snaplen, link type */
		put32(c, 0xa1b2c3d4);
		put16(c, 2);
		put16(c, 4);
		put32(c, 0);
		put32(c, 0);
		put32(c, 65535);
		put32(c, linktype);
		return;
	}
	/* section header block: byte-order magic, version 1.0, section length unknown */
	put32(c, 0x0a0d0d0a);
	put32(c, 28);
	put32(c, 0x1a2b3c4d);
	put16(c, 1);
	put16(c, 0);
	put32(c, 0xffffffff);
	put32(c, 0xffffffff);
	put32(c, 28);
	/* interface description block: link type, snaplen (microsecond timestamps) */
	put32(c, 1);
	put32(c, 20);
	put16(c, linktype);
	put16(c, 0);
	put32(c, 65535);
	put32(c, 20);
}

static void cap_frame(struct cap *c, __s64 ts_us, const __u8 *f, __u32 n)
{
	static const __u8 pad[4];

	if (!c->ng) {
		put32(c, (__u32)(ts_us / 1000000));
		put32(c, (__u32)(ts_us % 1000000));
		put32(c, n);
		put32(c, n);
		put(c, f, n);
		return;
	}
	/* enhanced packet block */
	put32(c, 6);
	put32(c, 32 + ((n + 3) & ~3u));
	put32(c, 0);
	put32(c, (__u32)((__u64)ts_us >> 32));
	put32(c, (__u32)ts_us);
	put32(c, n);
	put32(c, n);
	put(c, f, n);
	put(c, pad, ((n + 3) & ~3u) - n);
	put32(c, 32 + ((n + 3) & ~3u));
}

#define HOST_IP 0x0a000001 /* 10.0.0.1, the capturing host */

/* An Ethernet frame with IPv4 from a to b and a TCP (flags) or UDP (udp) header. */
static void packet(struct cap *c, __s64 ts_us, __u32 a, __u16 sport, __u32 b, __u16 dport, int udp,
		   __u32 seq, __u8 flags, const void *data, __u32 len)
{
	__u8 f[2048] = {0};
	__u32 l4 = udp ? 8 : 20, tot = 20 + l4 + len;
	__u8 *ip = f + 14, *th = ip + 20;

	assert_true(14 + tot <= sizeof(f));
	f[12] = 0x08; /* IPv4 */
	ip[0] = 0x45;
	ip[2] = tot >> 8;
	ip[3] = tot & 0xff;
	ip[8] = 64;
	ip[9] = udp ? 17 : 6;
	for (int i = 0; i < 4; i++) {
		ip[12 + i] = a >> (24 - 8 * i);
		ip[16 + i] = b >> (24 - 8 * i);
	}
	th[0] = sport >> 8;
	th[1] = sport & 0xff;
	th[2] = dport >> 8;
	th[3] = dport & 0xff;
	if (udp) {
		th[4] = (8 + len) >> 8;
		th[5] = (8 + len) & 0xff;
	} else {
		for (int i = 0; i < 4; i++)
			th[4 + i] = seq >> (24 - 8 * i);
		th[12] = 5 << 4;
		th[13] = flags;
	}
	if (len)
		memcpy(th + l4, data, len);
	cap_frame(c, ts_us, f, 14 + tot);
}

static void tcp(struct cap *c, __s64 ts_us, __u32 a, __u16 sport, __u32 b, __u16 dport, __u32 seq,
		__u8 flags, const char *s)
{
	packet(c, ts_us, a, sport, b, dport, 0, seq, flags, s, s ? (__u32)strlen(s) : 0);
}

/* A DNS answer: name has address ip (TTL 300). */
static void dns_answer(struct cap *c, __s64 ts_us, const char *name, __u32 ip)
{
	__u8 m[256] = {0x42, 0x42, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0};
	size_t n = 12;

	for (const char *p = name; *p;) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);

		m[n++] = (__u8)l;
		memcpy(m + n, p, l);
		n += l;
		p += l + (dot ? 1 : 0);
	}
	m[n++] = 0;
	memcpy(m + n, "\0\1\0\1\xc0\x0c\0\1\0\1\0\0\1\x2c\0\4", 16);
	n += 16;
	for (int i = 0; i < 4; i++)
		m[n++] = ip >> (24 - 8 * i);
	packet(c, ts_us, 0x0a000035, 53, HOST_IP, 33333, 1, 0, 0, m, (__u32)n);
}

#define SYN 0x02
#define ACK 0x10
#define PSH 0x18
#define FIN 0x11

#define HTTP_REQ                                                                                   \
	"POST /v1/e HTTP/1.1\r\nHost: www.tracker.example\r\nContent-Length: 28\r\n\r\n"           \
	"{\"email\":\"li.na@example.org\"}"

/* The traffic of the file header comment, timestamps T0 + 1 s + i ms. */
static void traffic(struct cap *c)
{
	__s64 t = T0 * 1000000 + 1000000;
	const __u32 api = 0x0a00003c, web = 0x0a000032, sink = 0x0a000028;

	dns_answer(c, t, "api.tracker.example", api);
	/* the phone's second half first, then its first half */
	tcp(c, t + 1000, HOST_IP, 40000, api, 9000, 100, SYN, NULL);
	tcp(c, t + 2000, HOST_IP, 40000, api, 9000, 101 + 16, PSH, "50005\"}");
	tcp(c, t + 3000, HOST_IP, 40000, api, 9000, 101, PSH, "{\"phone\":\"139555");
	tcp(c, t + 4000, HOST_IP, 40000, api, 9000, 101 + 23, FIN, NULL);
	/* the POST, its retransmit, the server's answer with a phone in it */
	tcp(c, t + 5000, HOST_IP, 40001, web, 80, 500, SYN, NULL);
	tcp(c, t + 5500, web, 80, HOST_IP, 40001, 9000, SYN | ACK, NULL);
	tcp(c, t + 6000, HOST_IP, 40001, web, 80, 501, PSH, HTTP_REQ);
	tcp(c, t + 7000, HOST_IP, 40001, web, 80, 501, PSH, HTTP_REQ);
	tcp(c, t + 8000, web, 80, HOST_IP, 40001, 9001, PSH, "HTTP/1.1 200 OK\r\n\r\n13712340001");
	/* TLS: the ClientHello, then a record whose bytes happen to spell a phone: ciphertext,
	 * not scanned */
	{
		__u8 ch[512];
		__u32 n = test_client_hello(ch, "api.tracker.example");

		packet(c, t + 8500, HOST_IP, 40002, 0x0a000046, 443, 0, 700, PSH, ch, n);
		tcp(c, t + 8600, HOST_IP, 40002, 0x0a000046, 443, 700 + n, PSH,
		    "\x17\x03\x03\x00\x0btel=13712340001");
	}
	/* a datagram to a port of no recipient */
	packet(c, t + 9000, HOST_IP, 41000, sink, 5353, 1, 0, 0, "tel=13712340001", 15);
}

/* Write c to a file, scan it (jsonl into out[]): pcapscan_file's return. */
static int scan(const struct cap *c, char *out, size_t cap)
{
	char cpath[] = "/tmp/cs_pcap_cap_XXXXXX";
	struct output o = {.fmt = FMT_JSONL};
	struct pcapscan_cfg cfg = {
	    .key = &key, .db = &db, .rcpts = rcpts, .consent = consent, .out = &o};
	FILE *f;
	size_t n;
	int fd = mkstemp(cpath), err;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, c->b, c->n), (ssize_t)c->n);
	close(fd);
	o.f = f = tmpfile();
	assert_non_null(f);
	err = pcapscan_file(&cfg, cpath);
	unlink(cpath);
	rewind(f);
	n = fread(out, 1, cap - 1, f);
	out[n] = 0;
	fclose(f);
	return err;
}

/* The finding line holding every one of the strings (NULL-terminated); exactly one. */
static void expect_line(const char *out, const char *const *want)
{
	unsigned found = 0;

	for (const char *l = out; *l;) {
		const char *e = strchr(l, '\n');
		char line[4096];
		size_t n = e ? (size_t)(e - l) : strlen(l);
		int ok = 1;

		assert_true(n < sizeof(line));
		memcpy(line, l, n);
		line[n] = 0;
		for (const char *const *w = want; *w && ok; w++)
			ok = strstr(line, *w) != NULL;
		found += ok;
		l += n + (e ? 1 : 0);
	}
	if (found != 1)
		fail_msg("%u lines hold all of \"%s\"... in:\n%s", found, want[0], out);
}

static unsigned lines(const char *s)
{
	unsigned n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void check_findings(const char *out)
{
	char t_split[RFC3339_BUFSZ + 16], t_post[RFC3339_BUFSZ + 16], ts[RFC3339_BUFSZ];

	/* the split phone: at the packet that completed it (t + 3 ms) */
	rfc3339_format((T0 * 1000000 + 1000000 + 3000) * 1000, ts, sizeof(ts));
	snprintf(t_split, sizeof(t_split), "{\"time\":\"%s\"", ts);
	rfc3339_format((T0 * 1000000 + 1000000 + 6000) * 1000, ts, sizeof(ts));
	snprintf(t_post, sizeof(t_post), "{\"time\":\"%s\"", ts);
	assert_int_equal(lines(out), 3);
	expect_line(out,
		    (const char *const[]){
			t_split, "\"verdict\":\"unconsented\"", "\"subject\":\"u005\"",
			"\"fields\":[\"phone\"]", "\"recipient\":\"tracker-api\"",
			"\"destination\":{\"ip\":\"10.0.0.60\",\"port\":9000,"
			"\"host\":\"api.tracker.example\",\"country\":null,\"protocol\":\"tcp\"}",
			"\"process\":null", "\"channel\":\"pcap\"", "\"encodings\":[\"split\"]",
			NULL});
	expect_line(out,
		    (const char *const[]){
			t_post, "\"subject\":\"u002\"", "\"fields\":[\"email\"]",
			"\"recipient\":\"tracker\"", "\"recipient_kind\":\"third-party\"",
			"\"destination\":{\"ip\":\"10.0.0.50\",\"port\":80,"
			"\"host\":\"www.tracker.example\",\"country\":null,\"protocol\":\"tcp\"}",
			"\"channel\":\"pcap\"", "\"encodings\":[]",
			"\"http\":{\"version\":\"1.1\",\"method\":\"POST\",\"path\":\"/v1/e\"}",
			NULL});
	expect_line(out, (const char *const[]){
			     "\"subject\":\"u001\"", "\"fields\":[\"phone\"]", "\"recipient\":null",
			     "\"recipient_kind\":\"unknown\"",
			     "\"destination\":{\"ip\":\"10.0.0.40\",\"port\":5353,\"host\":null,"
			     "\"country\":null,\"protocol\":\"udp\"}",
			     "\"channel\":\"pcap\"", NULL});
	/* never a registered value */
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		assert_null(strstr(out, rows[i].value));
}

/* The traffic as pcap (ng 0) or pcapng: the same findings. */
static void scan_traffic(int ng)
{
	static struct cap c;
	static char out[16384];

	cap_begin(&c, ng, 1);
	traffic(&c);
	assert_int_equal(scan(&c, out, sizeof(out)), 0);
	check_findings(out);
}

static void test_pcap(void **state)
{
	(void)state;
	scan_traffic(0);
}

static void test_pcapng(void **state)
{
	(void)state;
	scan_traffic(1);
}

static void test_bad_files(void **state)
{
	static struct cap c;
	static char out[16384];
	const char *text = "subject_id,phone\nu001,13712340001\n";

	(void)state;
	/* not a capture */
	memset(&c, 0, sizeof(c));
	put(&c, text, strlen(text));
	assert_int_equal(scan(&c, out, sizeof(out)), -EINVAL);
	assert_string_equal(out, "");
	/* a link type not handled (USER0) */
	cap_begin(&c, 0, 147);
	traffic(&c);
	assert_int_equal(scan(&c, out, sizeof(out)), -EINVAL);
	assert_string_equal(out, "");
	/* cut inside the last packet: what came before is scanned, then the error */
	cap_begin(&c, 0, 1);
	traffic(&c);
	c.n -= 10;
	assert_int_equal(scan(&c, out, sizeof(out)), -EINVAL);
	assert_int_equal(lines(out), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pcap),
	    cmocka_unit_test(test_pcapng),
	    cmocka_unit_test(test_bad_files),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
