// SPDX-License-Identifier: GPL-2.0-only
/*
 * scanbench: ns per byte of the collector's scan (`run --scan-in collector`) on the bench's
 * workloads, against the plain scanner that tokenises every byte, one thread, no I/O.
 *
 *   scanbench FINGERPRINTS KEYFILE [SECONDS per row, default 1 [VALUE in 1 body of 16]]
 *
 * CPU time of the thread, the best of 3 runs. Workloads: the bench's HTTP JSON bodies
 * (scripts/bench/server body(): 64 bodies of 1-16 KiB log-uniform, 1 in 16 with a registered
 * phone or e-mail, here the DB's first subject's), random bytes (iperf3's payload) in 16 KiB and 64
 * KiB sends. Rows: plain    scan_message over every byte, each token's prefilter bit, SipHash,
 * exact lookup cscan    cscan_send: what the collector does per send in collector mode (first pass
 * over the runs that may hold a strong value, AVX2 byte classes, rescan rule, carry) scalar   the
 * same with the scalar byte-class table (decoding, correlation and the ring are not included: they
 * are the same in both modes).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cs_abi.h"
#include "cs_hash.h"
#include "decode/cscan.h"
#include "fpdb/fpfile.h"
#include "fpdb/keyfile.h"
#include "monitor/message.h"
#include "decode/scan.h"

#define NBODIES 64

struct body {
	__u8 *p;
	__u32 n;
};

static __u64 rng = 88172645463325252ULL;

static __u32 rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (__u32)(rng >> 11);
}

static void put(char *b, size_t *n, size_t cap, const char *s)
{
	size_t l = strlen(s);

	if (*n + l < cap) {
		memcpy(b + *n, s, l);
		*n += l;
	}
}

/* scripts/bench/server/main.go body() */
static struct body json_body(size_t size, const char *pii)
{
	static const char *words[] = {
	    "garden",  "kitchen",  "outdoor", "office", "travel",  "sport",  "premium", "classic",
	    "compact", "wireless", "steel",   "cotton", "organic", "refill", "bundle",	"gift"};
	size_t cap = size + 1024, n = 0;
	char *b = malloc(cap), rec[512];

	put(b, &n, cap, "{\"status\":\"ok\",\"page\":1,\"items\":[");
	for (int i = 0; n < size - 200; i++) {
		const char *w = words[rnd() % 16];

		snprintf(
		    rec, sizeof(rec),
		    "%s{\"id\":%u,\"sku\":\"SKU-%05u\",\"name\":\"%c%s %s %u\",\"price\":%u.%02u,"
		    "\"qty\":%u,\"tags\":[\"%s\",\"%s\"],\"updated\":\"2026-11-%02uT%02u:%02u:"
		    "00Z\",\"stock\":%s}",
		    i ? "," : "", 100000 + rnd() % 900000, rnd() % 100000, w[0] - 32, w + 1,
		    words[rnd() % 16], rnd() % 10, rnd() % 500, rnd() % 100, 1 + rnd() % 9,
		    words[rnd() % 16], words[rnd() % 16], 1 + rnd() % 28, rnd() % 24, rnd() % 60,
		    rnd() % 2 ? "true" : "false");
		put(b, &n, cap, rec);
	}
	put(b, &n, cap, "]");
	if (pii) {
		snprintf(rec, sizeof(rec),
			 ",\"customer\":{\"id\":%u,\"%s\":\"%s\",\"tier\":\"gold\"}",
			 rnd() % 1000000, strchr(pii, '@') ? "email" : "phone", pii);
		put(b, &n, cap, rec);
	}
	if (size > n + 12) {
		size_t pad = size - n - 12;

		put(b, &n, cap, ",\"note\":\"");
		for (size_t i = 0; i < pad; i++)
			b[n++] = "abcdefghij klmnop"[i % 17];
		put(b, &n, cap, "\"");
	}
	put(b, &n, cap, "}\n");
	return (struct body){(__u8 *)b, (__u32)n};
}

static double now(void)
{
	struct timespec t;

	/* CPU time of this thread: other load on the machine shows less */
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

struct plain {
	const struct fpdb *db;
	__u64 hits;
};

/* The plain scanner's token: prefilter bit, then the exact lookup (scan_message hashed it). */
static void plain_tok(const struct scan_token *t, void *ctx)
{
	struct plain *p = ctx;
	__u32 first;

	if (t->len < p->db->min_len || t->len > p->db->max_len)
		return;
	if (p->db->pre) {
		__u64 b = fpdb_pre_index(cs_pre(t->acc, t->len), p->db->pre_log2);

		if (!((p->db->pre[b >> 6] >> (b & 63)) & 1))
			return;
	}
	p->hits += fpdb_find(p->db, t->fp, &first) > 0;
}

enum mode { M_PLAIN, M_CSCAN, M_SCALAR };

static double run(enum mode m, const struct body *b, unsigned nb, const struct cs_key *key,
		  const struct fpdb *db, const struct live_cfg *lc, double secs, __u64 *hits)
{
	struct live_cfg c = *lc;
	struct cscan *cs;
	struct plain p = {.db = db};
	struct msg out = {0};
	struct cs_event ev = {0};
	double t0 = now(), t;
	__u64 bytes = 0, seq = 1;

	c.scalar = m == M_SCALAR;
	cs = cscan_new(&c, db);
	*hits = 0;
	do {
		for (unsigned i = 0; i < nb; i++) {
			if (m == M_PLAIN) {
				scan_message(key, b[i].p, b[i].n, plain_tok, &p);
			} else {
				ev.flow = seq;
				ev.seq = seq++;
				ev.bytes_total = ev.bytes_inspected = ev.deep_len = b[i].n;
				msg_reset(&out, &ev);
				cscan_send(cs, &ev, b[i].p, b[i].n, &out);
				*hits += out.nhits;
			}
			bytes += b[i].n;
		}
		t = now() - t0;
	} while (t < secs);
	if (m == M_PLAIN)
		*hits = p.hits;
	cscan_free(cs);
	msg_release(&out);
	return t * 1e9 / bytes;
}

int main(int argc, char **argv)
{
	struct cs_key key;
	struct fpdb db = {0};
	struct body json[NBODIES], rnd16[8], rnd64[4];
	double secs = argc > 3 ? atof(argv[3]) : 1.0;
	const char *pii = argc > 4 ? argv[4] : "13712340001";
	struct live_cfg lc;
	struct {
		const char *name;
		struct body *b;
		unsigned n;
	} w[3];
	const char *mname[] = {"plain", "cscan", "scalar"};

	if (argc < 3) {
		fprintf(stderr, "usage: scanbench FINGERPRINTS KEYFILE [SECONDS [VALUE]]\n");
		return 2;
	}
	if (keyfile_load(argv[2], &key, 0) || fpdb_load(&db, argv[1], &key))
		return 1;
	/* the loader's first-pass settings (user/monitor/loader.c) */
	lc = (struct live_cfg){.key = &key,
			       .pre = db.pre,
			       .pre_log2 = db.pre_log2,
			       .min_len = db.min_len,
			       .max_len = db.max_len};
	if (!(db.flags & FPDB_F_STRONG_NONASCII) && db.strong_min_len >= CS_SKIP_MIN) {
		lc.skip_len = db.strong_min_len < CS_SKIP_MAX ? db.strong_min_len : CS_SKIP_MAX;
		if (db.strong_min_len > db.min_len)
			lc.strong_min = db.strong_min_len;
	}
	for (unsigned i = 0; i < NBODIES; i++) {
		size_t size =
		    (size_t)exp(log(1024) + (log(16384) - log(1024)) * (rnd() % 10000) / 1e4);

		json[i] = json_body(size, i % 16 == 0 ? pii : NULL);
	}
	for (unsigned i = 0; i < 8; i++) {
		rnd16[i].n = 16384;
		rnd16[i].p = malloc(16384);
		for (unsigned j = 0; j < 16384; j++)
			rnd16[i].p[j] = (__u8)rnd();
	}
	for (unsigned i = 0; i < 4; i++) {
		rnd64[i].n = 65536;
		rnd64[i].p = malloc(65536);
		for (unsigned j = 0; j < 65536; j++)
			rnd64[i].p[j] = (__u8)rnd();
	}
	w[0].name = "json 1-16 KiB";
	w[0].b = json;
	w[0].n = NBODIES;
	w[1].name = "random 16 KiB";
	w[1].b = rnd16;
	w[1].n = 8;
	w[2].name = "random 64 KiB";
	w[2].b = rnd64;
	w[2].n = 4;
	printf("scanbench: %u fingerprints, skip_len %u, strong_min %u, avx2 %s\n", db.nentries,
	       lc.skip_len, lc.strong_min, live_has_avx2() ? "yes" : "no");
	printf("%-16s %10s %10s %10s   hits (plain / cscan)\n", "workload", "plain", "cscan",
	       "scalar");
	for (unsigned k = 0; k < 3; k++) {
		double ns[3];
		__u64 h[3];

		/* the best of 3 runs of each */
		for (unsigned m = 0; m < 3; m++) {
			ns[m] = 0;
			h[m] = 0;
			/* SCANBENCH_ONLY=cscan (a row's name): that row only, for a profile */
			if (getenv("SCANBENCH_ONLY") && strcmp(getenv("SCANBENCH_ONLY"), mname[m]))
				continue;
			ns[m] = 1e9;
			for (unsigned r = 0; r < 3; r++) {
				double x = run(m, w[k].b, w[k].n, &key, &db, &lc, secs, &h[m]);

				ns[m] = x < ns[m] ? x : ns[m];
			}
		}
		printf("%-16s %7.3f ns/B %7.3f ns/B %7.3f ns/B   %llu / %llu\n", w[k].name, ns[0],
		       ns[1], ns[2], (unsigned long long)h[0], (unsigned long long)h[1]);
	}
	fpdb_release(&db);
	return 0;
}
