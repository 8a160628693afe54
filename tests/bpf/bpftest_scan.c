// SPDX-License-Identifier: GPL-2.0-only
/*
 * BPF scanner test (root): load the real probes, let a child process send known payloads over
 * UDP and TCP to loopback (--include-loopback), and check that the kernel reports exactly the
 * fingerprints and byte offsets the userspace build of the same scanner core finds.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <cmocka.h>
#include <bpf/libbpf.h>

#include "cs_abi.h"
#include "cs_hash.h"
#include "fpdb/fpfile.h"
#include "monitor/loader.h"
#include "lib/log.h"
#include "decode/scan.h"
#include "abi.skel.h"
#include <bpf/btf.h>

/* an opt-in --scan-limit, so that the "over-limit" payload is cut (the default scans whole sends)
 */
#define TEST_SCAN_LIMIT (16 * 1024)

#define MAX_EXP 64

struct payload {
	const char *name;
	char *buf;
	size_t len;
	int how; /* 0 sendto UDP, 1 sendmsg 2 iovecs UDP, 2 writev TCP, 3 write TCP, 4 sendto UDP
		    from a socket of its own (a flow of its own: nothing carried over) */
	size_t split;	  /* iovec split point */
	int expect_event; /* 0: nothing may be reported (TLS record, no tokens) */
	int truncated;
};

static struct cs_key key;
static const char *const enrolled[] = {
    "13800138000",
    "8613800138000",
    "alice.wang@example.com",
    "11010519491231002x",
    "6222021234567890123",
    "zhang.wei@example.org",
    "quick",
};

struct exp {
	__u64 fp;
	__u32 start, end;
};

struct tok_ctx {
	__u64 want[16];
	unsigned nwant;
	struct exp e[MAX_EXP];
	unsigned n;
};

static void collect(const struct scan_token *t, void *ctx)
{
	struct tok_ctx *c = ctx;

	for (unsigned i = 0; i < c->nwant; i++) {
		if (c->want[i] != t->fp)
			continue;
		for (unsigned j = 0; j < c->n; j++)
			if (c->e[j].fp == t->fp)
				return; /* the kernel keeps the first occurrence */
		if (c->n < MAX_EXP)
			c->e[c->n++] = (struct exp){t->fp, t->start, t->end};
	}
}

struct whole {
	__u64 fp;
	__u64 pre;
	size_t len;
};

/* The fingerprint of a value alone: the token covering all of it. */
static void whole_cb(const struct scan_token *t, void *ctx)
{
	struct whole *w = ctx;

	if (t->start == 0 && t->end == w->len) {
		w->fp = t->fp;
		w->pre = cs_pre(t->acc, t->len);
	}
}

static __u64 fp_of(const char *v, __u64 *pre)
{
	struct whole w = {.len = strlen(v)};

	scan_message(&key, v, w.len, whole_cb, &w);
	*pre = w.pre;
	return w.fp;
}

#define MAX_EVENTS 512
static struct cs_event events[MAX_EVENTS];
static unsigned nevents;

static int on_event(void *ctx, void *data, size_t len)
{
	(void)ctx;
	if (len >= sizeof(struct cs_event) && nevents < MAX_EVENTS)
		memcpy(&events[nevents++], data, sizeof(struct cs_event));
	return 0;
}

static char *dup_str(const char *s)
{
	return strdup(s);
}

static char *big_payload(size_t n, const char *needle, size_t at)
{
	char *b = malloc(n);

	for (size_t i = 0; i < n; i++)
		b[i] = "lorem ipsum dolor sit amet, "[i % 28];
	memcpy(b + at, needle, strlen(needle));
	return b;
}

static void send_all(struct payload *p, unsigned np, int udp_port, int tcp_port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int u = socket(AF_INET, SOCK_DGRAM, 0), t = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_port = htons(tcp_port);
	if (connect(t, (struct sockaddr *)&sa, sizeof(sa)))
		_exit(3);
	sa.sin_port = htons(udp_port);
	for (unsigned i = 0; i < np; i++) {
		struct iovec iov[2] = {{p[i].buf, p[i].split},
				       {p[i].buf + p[i].split, p[i].len - p[i].split}};
		struct msghdr mh = {
		    .msg_name = &sa, .msg_namelen = sizeof(sa), .msg_iov = iov, .msg_iovlen = 2};
		ssize_t r = 0;

		switch (p[i].how) {
		case 0:
			r = sendto(u, p[i].buf, p[i].len, 0, (struct sockaddr *)&sa, sizeof(sa));
			break;
		case 1:
			r = sendmsg(u, &mh, 0);
			break;
		case 2:
			r = writev(t, iov, 2);
			break;
		case 3:
			r = write(t, p[i].buf, p[i].len);
			break;
		case 4: {
			int o = socket(AF_INET, SOCK_DGRAM, 0);

			r = sendto(o, p[i].buf, p[i].len, 0, (struct sockaddr *)&sa, sizeof(sa));
			close(o);
			break;
		}
		}
		if (r < 0)
			_exit(4);
		usleep(2000);
	}
	close(u);
	close(t);
	_exit(0);
}

static pid_t sender;
static __u32 sender_u32; /* the scope the loader is given */

/*
 * Load the probes for db (scope: a child process), let the child send the payloads over UDP
 * and TCP to loopback, and collect the events into events[]. The probes stay loaded (*ld) so
 * the caller can read the counters.
 */
static void run_kernel(struct payload *p, unsigned np, struct fpdb *db, struct loader_opts *lo,
		       struct bpf_loader *ld)
{
	struct ring_buffer *rb;
	int go[2], us, ls, err;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	int udp_port, tcp_port, ts = -1;
	pid_t child;

	nevents = 0;
	lo->db = db;
	us = socket(AF_INET, SOCK_DGRAM, 0);
	ls = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind(us, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(bind(ls, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(ls, 1), 0);
	getsockname(us, (struct sockaddr *)&sa, &sl);
	udp_port = ntohs(sa.sin_port);
	getsockname(ls, (struct sockaddr *)&sa, &sl);
	tcp_port = ntohs(sa.sin_port);

	assert_int_equal(pipe(go), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		char c;

		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		send_all(p, np, udp_port, tcp_port);
	}
	close(go[0]);
	sender_u32 = child;
	sender = child;
	lo->pids = &sender_u32;
	lo->npids = 1;
	err = loader_preflight(ld);
	assert_int_equal(err, 0);
	err = loader_start(ld, lo);
	assert_int_equal(err, 0);
	{
		/* headroom under the verifier's 1M limit: another kernel's verifier may walk a
		 * little more; growth past this fails here, not at a user's start */
		const char *name;
		__u32 v = loader_verified_max(ld, &name);

		printf("  verifier: %s took %u of 1000000 instructions\n", name, v);
		assert_true(v > 0 && v < 800000);
	}
	rb = ring_buffer__new(loader_ringbuf_fd(ld), on_event, NULL, NULL);
	assert_non_null(rb);

	assert_int_equal(write(go[1], "g", 1), 1);
	ts = accept(ls, NULL, NULL);
	{
		char sink[65536];
		int status;

		for (;;) {
			ssize_t r = recv(ts, sink, sizeof(sink), MSG_DONTWAIT);

			if (r == 0)
				break;
			ring_buffer__poll(rb, 10);
			if (waitpid(child, &status, WNOHANG) == child) {
				assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
				break;
			}
		}
	}
	ring_buffer__consume(rb);
	ring_buffer__free(rb);
	close(ts);
	close(us);
	close(ls);
}

static void test_kernel_matches_userspace(void **state)
{
	struct payload p[] = {
	    {"json-udp",
	     dup_str("{\"phone\":\"+86 138-0013-8000\",\"email\":\"Alice.Wang@Example.COM\"}"), 0,
	     0, 0, 1, 0},
	    {"form-sendmsg-split",
	     dup_str("email=alice.wang%40example.com&id=11010519491231002x&card=6222 0212 3456 "
		     "7890 123"),
	     0, 1, 20, 1, 0},
	    {"writev-split-token",
	     dup_str("POST /x HTTP/1.1\r\nHost: api.partner.example\r\n\r\nzhang.wei@example.org "
		     "13800138000"),
	     0, 2, 60, 1, 0},
	    {"chunk-seam", NULL, 3000, 3, 0, 1, 0},
	    {"over-limit", NULL, 40000, 3, 0, 1, 1},
	    {"tls-record", NULL, 0, 3, 0, 0, 0},
	    {"benign", dup_str("the quick brown fox 12345 jumps over lazy dogs 2026-11-28"), 0, 0,
	     0, 0, 0},
	    {"weak-beside-strong", dup_str("the quick 13800138000"), 0, 0, 0, 1, 0},
	};
	unsigned np = sizeof(p) / sizeof(p[0]);
	struct fpdb db = {0};
	__u64 pre[sizeof(enrolled) / sizeof(enrolled[0])];
	struct bpf_loader ld = {0};
	struct loader_opts lo = {
	    .key = &key, .db = &db, .scan_limit = TEST_SCAN_LIMIT, .include_loopback = 1};

	(void)state;
	p[3].buf = big_payload(p[3].len, " alice.wang@example.com ", 1010); /* spans 1024 */
	memcpy(p[3].buf + 2040, " 138-0013-8000 ", 15); /* D token across 2048 */
	p[4].buf = big_payload(p[4].len, " 13800138000 ", 100);
	memcpy(p[4].buf + 20000, " zhang.wei@example.org ", 23); /* beyond 16 KiB: not seen */
	{
		/* a TLS record header followed by what would otherwise match */
		static const char tls[] = "\x16\x03\x01\x00\x20 13800138000 alice.wang@example.com";

		p[5].len = sizeof(tls) - 1;
		p[5].buf = malloc(p[5].len);
		memcpy(p[5].buf, tls, p[5].len);
	}
	for (unsigned i = 0; i < np; i++)
		if (!p[i].len)
			p[i].len = strlen(p[i].buf);

	db.nentries = sizeof(enrolled) / sizeof(enrolled[0]);
	db.nsubjects = 1;
	db.entries = calloc(db.nentries, sizeof(*db.entries));
	db.min_len = 1000;
	for (unsigned i = 0; i < db.nentries; i++) {
		db.entries[i].fp = fp_of(enrolled[i], &pre[i]);
		assert_true(db.entries[i].fp != 0);
		/* "quick" (only in the benign payload) is a weak-field part: no event alone */
		db.entries[i].field = strcmp(enrolled[i], "quick") ? CS_F_PHONE : CS_F_NAME;
		db.entries[i].nparts = 1;
		if (strlen(enrolled[i]) < db.min_len)
			db.min_len = strlen(enrolled[i]);
		if (strlen(enrolled[i]) > db.max_len)
			db.max_len = strlen(enrolled[i]);
	}
	assert_int_equal(fpdb_pre_build(&db, pre, db.nentries), 0);
	db.nentries = fp_entries_sort(db.entries, db.nentries);

	run_kernel(p, np, &db, &lo, &ld);

	/* every expected payload produced exactly one event with the userspace hits */
	unsigned ev = 0;
	for (unsigned i = 0; i < np; i++) {
		struct tok_ctx c = {0};
		size_t scanned = p[i].len < TEST_SCAN_LIMIT ? p[i].len : TEST_SCAN_LIMIT;

		for (unsigned k = 0; k < db.nentries; k++)
			c.want[c.nwant++] = db.entries[k].fp;
		scan_message(&key, p[i].buf, scanned, collect, &c);
		if (!p[i].expect_event) {
			continue;
		}
		assert_true(c.n > 0);
		assert_true(ev < nevents);
		const struct cs_event *e = &events[ev++];

		printf("  %-20s kernel hits %u, userspace hits %u\n", p[i].name, e->nhits, c.n);
		assert_int_equal(e->nhits, c.n);
		for (unsigned h = 0; h < c.n; h++) {
			assert_int_equal(e->hits[h].fp, c.e[h].fp);
			assert_int_equal(e->hits[h].start, c.e[h].start);
			assert_int_equal(e->hits[h].end, c.e[h].end);
		}
		assert_int_equal(e->pid, sender);
		assert_int_equal(e->bytes_total, p[i].len);
		assert_int_equal(e->bytes_inspected, scanned);
		assert_int_equal(!!(e->flags & CS_EV_TRUNCATED), p[i].truncated);
		assert_int_equal(e->daddr[0], 127);
		if (!strcmp(p[i].name, "writev-split-token")) {
			assert_true(e->flags & CS_EV_HOST);
			assert_string_equal((const char *)e->host, "api.partner.example");
		}
	}
	assert_int_equal(nevents, ev);
	{
		__u64 cnt[CS_CNT_MAX];

		assert_int_equal(loader_counters(&ld, cnt), 0);
		assert_int_equal(cnt[CS_CNT_TLS_SKIPPED], 1);
		assert_int_equal(cnt[CS_CNT_RB_DROPS], 0);
		assert_true(cnt[CS_CNT_BYTES_UNINSPECTED] >= 40000 - TEST_SCAN_LIMIT);
	}
	loader_release(&ld);
	fpdb_release(&db);
	for (unsigned i = 0; i < np; i++)
		free(p[i].buf);
}

/* xorshift64*: the random test's payloads, reproducible from the seed it prints */
static __u64 rng_state;

static __u32 rnd(__u32 n)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (__u32)((rng_state * 0x2545f4914f6cdd1dULL) >> 32) % n;
}

/* Bytes of a texture: 0 any byte, 1 short words and numbers, 2 JSON records, 3 digit groups,
 * 4 long words, 5 text with CJK punctuation and escapes. */
static void texture(char *b, size_t n, int kind)
{
	static const char *const tx[] = {
	    NULL,
	    "abcXYZ0123456789 -.()/,\":<>_@+%#&\\",
	    NULL,
	    "0123456789 -./() ,\"",
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_@",
	    "ab12 \xe3\x80\x81\xef\xbc\x8c\xe4\xb8\xad\\u0040%40&amp;",
	};
	size_t i = 0;

	while (i < n) {
		if (kind == 0) {
			b[i++] = (char)rnd(256);
		} else if (kind == 2) {
			char rec[96];
			int k = snprintf(
			    rec, sizeof(rec),
			    "{\"id\":%u,\"sku\":\"SKU-%05u\",\"ts\":\"2026-11-%02uT%02u:%02u\","
			    "\"name\":\"Item %u\"},",
			    rnd(1000000), rnd(100000), 1 + rnd(28), rnd(24), rnd(60), rnd(99));

			for (int j = 0; j < k && i < n; j++)
				b[i++] = rec[j];
		} else if (kind == 4 && rnd(16)) {
			b[i++] = tx[4][rnd(strlen(tx[4]))];
		} else if (kind == 4) {
			b[i++] = ',';
		} else {
			b[i++] = tx[kind][rnd(strlen(tx[kind]))];
		}
	}
}

/*
 * Skipping short runs loses nothing: random payloads (six textures, 1 B to 5 KiB, values of
 * the DB at random offsets, many of them at 64-byte and 1 KiB seams, in several renderings)
 * give exactly the hits of the userspace scanner, which tokenises every byte. Run with the
 * shortest strong token at 11 bytes (cs_exact_blocks tests first halves of words), 8 and 7
 * (both halves), the short e-mails enrolled where they are long enough. A failure names the
 * seed; CS_TEST_DUMP=FILE also writes the payload the kernel missed.
 */
static void test_skipping_matches_full(void **state)
{
	static const char *const forms[] = {
	    "13800138000",
	    "138 0013 8000",
	    "138-0013-8000",
	    "+86 138 0013 8000",
	    "(138)0013-8000",
	    "8613800138000",
	    "Alice.Wang@Example.COM",
	    "alice.wang%40example.com",
	    "11010519491231002X",
	    "6222 0212 3456 7890 123",
	    "zhang.wei@example.org",
	    "x13800138000y",
	    "x@ab.cn",
	    "X@AB.CN",
	    "mail:x@ab.cn;",
	    "xy@ab.cn",
	    "xy%40ab.cn",
	};
	/* strong values: enrolled[] (but "quick") and two short e-mails; a pass enrols those at
	 * least its shortest length long */
	static const char *const short_mails[] = {"xy@ab.cn", "x@ab.cn"};
	const char *strong[sizeof(enrolled) / sizeof(enrolled[0]) + 2];
	const unsigned nall = sizeof(strong) / sizeof(strong[0]);
	const unsigned np = 400;
	static const __u32 mins[] = {11, 8, 7};
	/* each pass without, then with the anchor test: the same hits, more bytes left out */
	__u64 skipped_plain = 0;
	struct payload *p = calloc(np, sizeof(*p));
	__u64 seed = getenv("CS_TEST_SEED") ? strtoull(getenv("CS_TEST_SEED"), NULL, 0)
					    : (__u64)time(NULL) * 0x9e3779b97f4a7c15ULL | 1;
	struct fpdb db = {0};
	__u64 pre[16];

	(void)state;
	for (unsigned i = 0; i < nall; i++)
		strong[i] = i < nall - 2 ? enrolled[i] : short_mails[i - (nall - 2)];
	printf("  seed 0x%llx (CS_TEST_SEED to repeat)\n", (unsigned long long)seed);
	rng_state = seed;
	for (unsigned i = 0; i < np; i++) {
		size_t len = rnd(4) == 0 ? 1 + rnd(80) : rnd(2) ? 900 + rnd(300) : 1 + rnd(5000);
		unsigned nv = rnd(4);

		p[i].buf = malloc(len);
		p[i].len = len;
		p[i].how = 4;
		texture(p[i].buf, len, (int)rnd(6));
		for (unsigned v = 0; v < nv; v++) {
			const char *f = forms[rnd(sizeof(forms) / sizeof(forms[0]))];
			size_t fl = strlen(f), at;

			if (fl > len)
				continue;
			/* anywhere, or over a seam at 64 or 1024 bytes (often ending right at
			 * it or starting just before it), or at the end of the send */
			size_t seam = rnd(2) ? 1024 * (1 + rnd(3)) : 64 * (1 + rnd(16));

			switch (rnd(6)) {
			case 0:
			case 1:
				at = rnd((__u32)(len - fl + 1));
				break;
			case 2:
				at = seam - rnd((__u32)fl + 1);
				break;
			case 3:
				at = seam - fl + rnd(4); /* ending at the seam or just past it */
				break;
			case 4:
				at = seam - 1 - rnd(3); /* starting just before it */
				break;
			default:
				at = len - fl;
			}
			if (at > len - fl)
				at = len - fl;
			memcpy(p[i].buf + at, f, fl);
		}
	}

	db.nsubjects = 1;
	db.entries = calloc(16, sizeof(*db.entries));
	for (unsigned pass = 0; pass < 2 * sizeof(mins) / sizeof(mins[0]); pass++) {
		unsigned m = pass / 2, anchors = pass & 1;
		struct bpf_loader ld = {0};
		struct loader_opts lo = {
		    .key = &key, .scan_limit = TEST_SCAN_LIMIT, .include_loopback = 1};
		unsigned ev = 0, want = 0, nstrong = 0;
		__u64 cnt[CS_CNT_MAX];

		/* strong values only: nothing weak is looked for again */
		db.min_len = 1000;
		db.max_len = 0;
		db.anchor_digits = anchors ? CS_ANCHOR_DIGITS_MAX : 0;
		for (unsigned i = 0; i < nall; i++) {
			if (strlen(strong[i]) < mins[m])
				continue;
			if (anchors &&
			    fpdb_anchor_digits(strong[i], strlen(strong[i])) < db.anchor_digits)
				db.anchor_digits = fpdb_anchor_digits(strong[i], strlen(strong[i]));
			db.entries[nstrong].fp = fp_of(strong[i], &pre[nstrong]);
			db.entries[nstrong].field = CS_F_PHONE;
			db.entries[nstrong].nparts = 1;
			if (strlen(strong[i]) < db.min_len)
				db.min_len = strlen(strong[i]);
			if (strlen(strong[i]) > db.max_len)
				db.max_len = strlen(strong[i]);
			nstrong++;
		}
		db.nentries = fp_entries_sort(db.entries, nstrong);
		db.strong_min_len = mins[m];
		/* the loader takes the prefilter over (and drops it at release) */
		assert_int_equal(fpdb_pre_build(&db, pre, nstrong), 0);
		run_kernel(p, np, &db, &lo, &ld);
		for (unsigned i = 0; i < np; i++) {
			struct tok_ctx c = {0};
			const struct cs_event *e;

			for (unsigned k = 0; k < db.nentries; k++)
				c.want[c.nwant++] = db.entries[k].fp;
			scan_message(&key, p[i].buf, p[i].len, collect, &c);
			if (!c.n)
				continue;
			want++;
			/* events without hits (a send to be decoded) are not this test's */
			while (ev < nevents && !events[ev].nhits)
				ev++;
			if (ev >= nevents)
				fail_msg("payload %u (%zu B): no event, %u userspace hits", i,
					 p[i].len, c.n);
			e = &events[ev++];
			if (e->bytes_total != p[i].len && getenv("CS_TEST_DUMP")) {
				FILE *f = fopen(getenv("CS_TEST_DUMP"), "w");

				if (f) {
					fwrite(p[i].buf, 1, p[i].len, f);
					fclose(f);
				}
				for (unsigned h = 0; h < c.n; h++)
					printf("  hit %u..%u\n", c.e[h].start, c.e[h].end);
			}
			if (e->bytes_total != p[i].len)
				fail_msg(
				    "payload %u (%zu B, min %u): no kernel hit, %u userspace hits "
				    "(the next event is of %u B)",
				    i, p[i].len, mins[m], c.n, e->bytes_total);
			if (e->nhits != c.n)
				fail_msg("payload %u (%zu B, min %u): %u kernel hits, %u userspace",
					 i, p[i].len, mins[m], e->nhits, c.n);
			for (unsigned h = 0; h < c.n; h++) {
				unsigned k;

				for (k = 0; k < e->nhits; k++)
					if (e->hits[k].fp == c.e[h].fp &&
					    e->hits[k].start == c.e[h].start &&
					    e->hits[k].end == c.e[h].end)
						break;
				if (k == e->nhits)
					fail_msg(
					    "payload %u (min %u): hit %u..%u not in the kernel's",
					    i, mins[m], c.e[h].start, c.e[h].end);
			}
		}
		while (ev < nevents && !events[ev].nhits)
			ev++;
		assert_int_equal(ev, nevents);
		assert_int_equal(loader_counters(&ld, cnt), 0);
		printf("  min %u, anchor digits %u: %u payloads with hits, %llu of %llu bytes not "
		       "tokenised\n",
		       mins[m], db.anchor_digits, want, (unsigned long long)cnt[CS_CNT_SKIPPED],
		       (unsigned long long)cnt[CS_CNT_BYTES_INSPECTED]);
		assert_true(want > np / 4);
		assert_true(cnt[CS_CNT_SKIPPED] > 0);
		if (!anchors) {
			skipped_plain = cnt[CS_CNT_SKIPPED];
		} else {
			/* the values' digits: 11 (13800138000), the rest are e-mails or long */
			assert_int_equal(db.anchor_digits, 11);
			assert_true(cnt[CS_CNT_SKIPPED] > skipped_plain);
		}
		loader_release(&ld);
	}
	fpdb_release(&db);
	for (unsigned i = 0; i < np; i++)
		free(p[i].buf);
	free(p);
}

/* The structs shared with BPF have the same size in the object's BTF as in userspace. */
static void test_abi_sizes(void **state)
{
	static const struct {
		const char *name;
		size_t size;
	} types[] = {
	    {"cs_event", sizeof(struct cs_event)},	 {"cs_hit", sizeof(struct cs_hit)},
	    {"cs_flow", sizeof(struct cs_flow)},	 {"cs_bucket", sizeof(struct cs_bucket)},
	    {"cs_scan", sizeof(struct cs_scan)},	 {"cs_exec", sizeof(struct cs_exec)},
	    {"cs_exe_key", sizeof(struct cs_exe_key)},	 {"cs_hold", sizeof(struct cs_hold)},
	    {"cs_hold_key", sizeof(struct cs_hold_key)},
	};
	struct abi_bpf *skel = abi_bpf__open();
	const struct btf *btf;

	(void)state;
	assert_non_null(skel);
	btf = bpf_object__btf(skel->obj);
	assert_non_null(btf);
	for (unsigned i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		__s32 id = btf__find_by_name_kind(btf, types[i].name, BTF_KIND_STRUCT);

		if (id <= 0)
			fail_msg("struct %s not in the BPF object's BTF", types[i].name);
		assert_int_equal(btf__resolve_size(btf, id), types[i].size);
	}
	abi_bpf__destroy(skel);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_abi_sizes),
	    cmocka_unit_test(test_kernel_matches_userspace),
	    cmocka_unit_test(test_skipping_matches_full),
	};

	if (geteuid() != 0) {
		if (getenv("CI") && !strcmp(getenv("CI"), "true")) {
			fprintf(stderr, "bpf tests need root (CI=true: failing)\n");
			return 1;
		}
		printf("SKIP: bpf tests need root\n");
		return 77;
	}
	if (getrandom(&key, sizeof(key), 0) != sizeof(key))
		return 1;
	log_set_level(getenv("V") ? LOG_DEBUG : LOG_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
