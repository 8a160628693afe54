/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kernel side of the scanner: copy user memory in CS_CHUNK pieces (bpf_loop), run the shared
 * tokeniser (include/cs_scan.h) over each piece in a global function, look every token of an
 * enrolled length up in the tag table, collect distinct hits, and emit one event per send.
 *
 * Global (non-static, __noinline) functions are verified once on their own, which keeps the
 * 1 KiB byte loop inside the verifier's budget for any payload length; each call costs ~10 ns
 * here, so there is one per chunk and one per candidate token, never one per byte.
 */
#ifndef CS_SCAN_BPF_H
#define CS_SCAN_BPF_H

/*
 * Cost-floor builds, for the benchmark only (scripts/bench --only floor builds them with make
 * BPF_EXTRA=-DCS_FLOOR=n): 1 copies each chunk of a send and scans nothing; 2 also classifies
 * it and finds its ranges (cs_scan_live) but tokenises none. Both detect nothing. The monitor's
 * build is 0.
 */
#ifndef CS_FLOOR
#define CS_FLOOR 0
#endif

#include "lib/maps.bpf.h"

__noinline int cs_token(__u64 acc, __u32 len, __u32 start, __u32 end);

#include "cs_scan.h"

/*
 * The token sink of the BPF scanner (cs_scan.h): tok_min, when not NULL, points to the shortest
 * length to look up (st->tok_min: cfg_min_len, but cfg_strong_min while cs_scan_live tokenises
 * its ranges; read from the map each time, so the verifier never knows it); NULL: cfg_min_len.
 * Never a NULL sink.
 */
struct cs_sink {
	const __u32 *tok_min;
};

/* Every token: length window and prefilter bit (match.bpf.h), then the call. */
static __always_inline void cs_sink_token(struct cs_sink *sink, const struct cs_token *t)
{
	__u32 min = sink->tok_min ? *(volatile const __u32 *)sink->tok_min : cfg_min_len;

	if (cs_pre_pass(t->acc, t->len, min))
		cs_token(t->acc, t->len, t->start, t->end);
}

/*
 * The send's CS_MAX_HITS hits so far go to the collector in a cs_hits record (in the events
 * ring before the send's event, which carries its message id), and the batch starts again
 * empty: a send may hold any number of subjects. 0, or -1 if the ring is full (the batch is
 * kept, and later hits are lost: counted).
 */
static __always_inline int cs_hits_flush(struct cs_state *st)
{
	struct cs_hits *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);

	if (!r)
		return -1;
	r->seq = msg_seq(st);
	r->nhits = CS_MAX_HITS;
	r->_pad = 0;
	__builtin_memcpy(r->hits, st->hits, sizeof(r->hits));
	/* the collector drains while the scan goes on: a bulk send may hold thousands */
	bpf_ringbuf_submit(r, 0);
	st->nhits = 0;
	cnt_add(CS_CNT_HIT_RECORDS, 1);
	return 0;
}

/* A token of enrolled length ended: fingerprint it and keep it if the tag table knows it. */
__noinline int cs_token(__u64 acc, __u32 len, __u32 start, __u32 end)
{
	struct cs_state *st = state_get();
	struct cs_counters *cnt = counters_get();
	struct cs_key k;
	__u64 fp;
	__u32 i, n;
	int kind;

	if (!st || !cnt)
		return 0;
	/* a token carried from the flow's last send and ended at once was reported there */
	if ((start & CS_HIT_SPLIT) && !end)
		return 0;
	if (!(st->sflags & CS_SK_AGAIN))
		cnt->c[CS_CNT_TOKENS]++;
	cs_key_get(&k);
	fp = cs_fp(&k, acc, len);
	kind = cs_tag_lookup(fp);
	if (!kind)
		return 0;
	n = st->nhits;
	for (i = 0; i < CS_MAX_HITS; i++) {
		if (i >= n)
			break;
		if (st->hits[i].fp == fp)
			return 0; /* same value again in this send */
	}
	cnt->c[CS_CNT_HITS]++;
	if (kind == 1)
		st->nstrong++;
	if (n >= CS_MAX_HITS) {
		/* a full batch goes ahead of the event, the hit starts the next one */
		if (cs_hits_flush(st)) {
			cnt->c[CS_CNT_HITS_OVERFLOW]++;
			st->flags |= CS_EV_HITS_OVERFLOW;
			return 0;
		}
		n = 0;
	}
	st->hits[n & (CS_MAX_HITS - 1)].fp = fp;
	st->hits[n & (CS_MAX_HITS - 1)].start = start;
	st->hits[n & (CS_MAX_HITS - 1)].end = end;
	st->nhits = n + 1;
	return 1;
}

/* Bytes of a send the carried tokens are continued over (a split value's second part), in steps
 * of CS_CARRY_STEP: the pass stops once the carried tokens have ended, mostly after one step. */
#define CS_CARRY_SPAN 64
#define CS_CARRY_STEP 8

/*
 * The state a scan step works on: 0 the send's own tokeniser (st->scan), 1 the carried one
 * (st->cscan). An offset computed without a branch, so the verifier walks the loop once.
 */
#define CS_SCAN_AT(st, which)                                                                      \
	((struct cs_scan *)((void *)(st) + __builtin_offsetof(struct cs_state, scan) +             \
			    ((which)&1) * (__builtin_offsetof(struct cs_state, cscan) -            \
					   __builtin_offsetof(struct cs_state, scan))))

/*
 * The tokeniser over st->chunk[off..off+n) (n <= CS_STEP), message
 * offset pos + off: a global function, so the verifier walks its loop once, on its own.
 */
__noinline int cs_scan_chunk_step(__u32 off, __u32 n, __u32 pos, __u32 which)
{
	struct cs_state *st = state_get();
	struct cs_sink sink;
	struct cs_key k;

	if (!st)
		return 0;
	sink.tok_min = &st->tok_min;
	cs_key_get(&k);
	/* any offset: chunk_pad holds CS_STEP bytes after the chunk */
	off &= CS_CHUNK - 1;
	cs_scan_step(CS_SCAN_AT(st, which), &k, st->chunk + off, n, pos + off, &sink);
	return 0;
}

/* End of the message for one of the two tokenisers: emit its open tokens. */
__noinline int cs_flush(__u32 which)
{
	struct cs_state *st = state_get();
	struct cs_sink sink = {.tok_min = NULL};
	struct cs_key k;

	if (!st)
		return 0;
	cs_key_get(&k);
	cs_scan_flush(CS_SCAN_AT(st, which), &k, &sink);
	return 0;
}

/*
 * First chunk of a send (n bytes in st->chunk): if the flow's last send ended inside a token,
 * continue that token over the first bytes with a copy of the old state, so a value split
 * across sends is hashed whole; tokens carried over start at CS_HIT_SPLIT. The send's own
 * tokeniser still starts fresh, so nothing it would find is lost.
 */
__noinline int cs_carry_begin(__u32 n)
{
	struct cs_state *st = state_get();
	struct cs_carry *cy;
	__u32 m, i, *hint;

	if (!st)
		return 0;
	st->carry |= CS_CARRY_LOOKED;
	hint = carry_hint_get(st->peer.flow);
	if (hint && !*hint)
		return 0;
	cy = bpf_map_lookup_elem(&carry, &st->peer.flow);
	if (!cy)
		return 0;
	st->carry |= CS_CARRY_FOUND;
	st->deep_left = cy->deep_left;
	if (cy->h2) {
		/* an HTTP/2 flow: every send is handed over (see cs_h2_begin) */
		st->flags |= CS_EV_H2;
		st->h2_off = cy->h2_off;
		st->deep_left = CS_DEEP_FLOW_BUDGET;
	}
	if (cy->scan.w_state == CS_WS_NONE && cy->scan.d_state == CS_DS_NONE) {
		if (!cy->deep_left && !cy->h2) {
			st->carry |= CS_CARRY_EMPTY;
			if (++cy->idle >= CS_CARRY_IDLE_MAX)
				st->carry |= CS_CARRY_STALE;
		}
		return 0;
	}
	__builtin_memcpy(&st->cscan, &cy->scan, sizeof(st->cscan));
	st->cscan.w_start = CS_HIT_SPLIT;
	st->cscan.d_start = CS_HIT_SPLIT;
	st->cscan.w_end = 0;
	st->cscan.d_end = 0;
	st->cscan.w_rstart = 0;
	st->cscan.esc_pos = 0xfffffff0u;
	st->cscan.esc_start = 0xffffffffu;
	st->cscan.trig = 0;
	st->cscan._pad = 0;
	cnt_add(CS_CNT_CARRIED, 1);
	m = n < CS_CARRY_SPAN ? n : CS_CARRY_SPAN;
	for (i = 0; i < CS_CARRY_SPAN / CS_CARRY_STEP; i++) {
		__u32 off = i * CS_CARRY_STEP;

		if (off >= m)
			break;
		cs_scan_chunk_step(off, m - off < CS_CARRY_STEP ? m - off : CS_CARRY_STEP, 0, 1);
		st->cover = m - off < CS_CARRY_STEP ? m : off + CS_CARRY_STEP;
		/* every carried token has ended (open ones, if any, started in this send) */
		if ((st->cscan.w_state == CS_WS_NONE || st->cscan.w_start != CS_HIT_SPLIT) &&
		    (st->cscan.d_state == CS_DS_NONE || st->cscan.d_start != CS_HIT_SPLIT))
			break;
	}
	if (st->cover < n)
		cs_flush(1);
	else
		st->carry |= CS_CARRY_OPEN;
	return 0;
}

/* First bytes of a TLS record (handshake/alert/ccs/appdata, version 3.x): ciphertext. */
static __always_inline int cs_tls_header(const __u8 *h)
{
	return h[0] >= 0x14 && h[0] <= 0x17 && h[1] == 3 && h[2] <= 4;
}

/*
 * n bytes of the send at src: user memory for the syscall paths and TLS plaintext, kernel
 * memory (the message or datagram bytes) for the socket hooks (st->kmem).
 */
static __always_inline long cs_read(const struct cs_state *st, void *dst, __u32 n, __u64 src)
{
	if (st->kmem)
		return bpf_probe_read_kernel(dst, n, (void *)src);
	return bpf_probe_read_user(dst, n, (void *)src);
}

/*
 * Read the first chunk of a send (the first min(len, CS_CHUNK) bytes at ubuf) into st->chunk
 * before the tail call: the TLS record test looks at it, and the scan does not read it again.
 * One read instead of two saves ~100 ns per send (each probe read checks the destination
 * object). Returns 1 if the bytes start a TLS record.
 */
static __always_inline int cs_preload(struct cs_state *st, __u64 ubuf, __u64 len)
{
	__u32 n = cs_chunk_len(len > 0xffffffffULL ? 0xffffffffU : (__u32)len, 0);

	st->pre.len = 0;
	if (cs_read(st, st->chunk, n, ubuf))
		return 0; /* the scan reads again and counts the failure */
	st->pre.ubuf = ubuf;
	st->pre.len = n;
	return n >= 5 && cs_tls_header(st->chunk);
}

/* st->chunk holds the first n bytes at ubuf (cs_preload). */
static __always_inline int cs_preloaded(struct cs_state *st, __u64 ubuf, __u32 n)
{
	return st->pre.len >= n && st->pre.ubuf == ubuf;
}

/* "ost:" as a little-endian word, after | 0x20 (letters lower-cased, ':' unchanged) */
#define CS_OST 0x3a74736fU

/*
 * HTTP request in st->chunk[0..n): copy the Host header value into st->host. The search
 * tests one 4-byte word per offset with no state carried between offsets (a pattern-position
 * variable would make the verifier keep a state per position and offset); then a fixed-size
 * copy (the chunk is followed by CS_HOST_LEN bytes of padding, so it never reads past it).
 */
__noinline int cs_http_host(__u32 n)
{
	struct cs_state *st = state_get();
	__u32 j, start = 0, i;

	if (!st)
		return 0;
	for (j = 2; j < CS_CHUNK - 4; j++) {
		__u8 *p;

		if (j + 4 > n)
			break;
		p = st->chunk + j;
		if ((*(__u32 *)p | 0x20202020) == CS_OST && (p[-1] | 0x20) == 'h' &&
		    p[-2] == '\n') {
			start = j + 4;
			break;
		}
	}
	if (!start || start >= n)
		return 0;
	if (bpf_probe_read_kernel(st->host, CS_HOST_LEN, st->chunk + (start & (CS_CHUNK - 1))))
		return 0;
	/* skip the optional space, stop at the end of the value or of the chunk */
	j = st->host[0] == ' ';
	for (i = 0; i < CS_HOST_LEN - 1; i++) {
		__u8 c;

		if (i + j >= CS_HOST_LEN - 1 || start + i + j >= n)
			break;
		c = st->host[(i + j) & (CS_HOST_LEN - 1)];
		if (c == '\r' || c == '\n' || c == ' ' || c == 0)
			break;
		st->host[i] = c;
	}
	st->host[i & (CS_HOST_LEN - 1)] = 0;
	if (i) {
		st->host_len = i;
		st->flags |= CS_EV_HOST;
		bpf_map_update_elem(&flow_host, &st->peer.flow, st->host, BPF_ANY);
	}
	return 0;
}

/*
 * HTTP/1 request in st->chunk[0..n): copy its request line (up to CR or LF, at most CS_REQ_LEN
 * bytes) for the finding's message.http; the collector replaces registered values in its path.
 * A byte loop, run once per request send over its first line only.
 */
__noinline int cs_http_reqline(__u32 n)
{
	struct cs_state *st = state_get();
	__u32 i;

	if (!st)
		return 0;
	/* the tail too: the event carries the whole array */
	__builtin_memset(st->req, 0, sizeof(st->req));
	for (i = 0; i < CS_REQ_LEN; i++) {
		__u8 c;

		if (i >= n)
			break;
		c = st->chunk[i];
		if (c == '\r' || c == '\n')
			break;
		st->req[i] = c;
	}
	st->req_len = i;
	st->flags |= CS_EV_REQ;
	return 0;
}

/* The HTTP/2 client connection preface "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" at p (24 bytes). */
static __always_inline int cs_h2_preface(const __u8 *p)
{
	const __u64 *w = (const __u64 *)p;

	/* little-endian words of the preface */
	return w[0] == 0x5448202a20495250ULL && w[1] == 0x0a0d302e322f5054ULL &&
	       w[2] == 0x0a0d0a0d4d530a0dULL;
}

/*
 * First chunk of a send: a send that starts with the client preface starts an HTTP/2 flow
 * (again, if the socket had one). Every later send of the flow is handed over whole
 * (deep_left), since its header blocks can only be decoded in order from the first one (the
 * HPACK dynamic table); cs_carry_end keeps the mark and the flow's byte offset in the carry
 * entry, cs_carry_begin finds them there. Costs non-HTTP/2 traffic one compare per send.
 */
__noinline int cs_h2_begin(__u32 n)
{
	struct cs_state *st = state_get();

	/* a global function: the two outcomes do not double the paths of the chunk callback
	 * after it (inlined, this test cost the verifier 120k instructions in tp_scan) */
	if (st && n >= 24 && cs_h2_preface(st->chunk)) {
		st->flags |= CS_EV_H2;
		st->h2_off = 0;
		st->deep_left = CS_DEEP_FLOW_BUDGET;
	}
	return 0;
}

static __always_inline int is_http_request(const __u8 *p)
{
	__u32 w = *(const __u32 *)p;

	/* first four bytes, little-endian */
	return w == 0x20544547 /* "GET " */ || w == 0x54534f50 /* "POST" */ ||
	       w == 0x20545550 /* "PUT " */ || w == 0x44414548 /* "HEAD" */ ||
	       w == 0x454c4544 /* "DELE" */ || w == 0x43544150 /* "PATC" */ ||
	       w == 0x4954504f /* "OPTI" */;
}

/*
 * Skipping runs too short to hold a strong value. A strong token of an ASCII fingerprint DB
 * (cfg_skip_len > 0) lies inside a run of "S" bytes: letters, digits, the inner punctuation,
 * separators and escape markers of cs_scan.h (here a superset: 0x1f-0x21, 0x23-0x2b,
 * 0x2d-0x39, ';', 0x40-0x7a; not '"' ',' ':'). Its run is at least as long as its normalised
 * length, so a run shorter than cfg_skip_len (the shortest strong token, at most 12) holds
 * none. The tokeniser is only given the runs of cfg_skip_len or more, the run the previous
 * chunk ended in and the run at the end of each chunk (a value may continue in the next chunk
 * or send). Every run given is whole: after a byte outside S both machines of cs_scan.h are in
 * a state (no token, or a UTF-8 run) from which an S byte is tokenised as from a fresh state,
 * so a range starts fresh at the first byte of its run and ends just after the first byte
 * outside S that follows it (cs_next_range). The gzip magic, the one trigger outside a run, is
 * tested directly. What is skipped can only hold weak tokens (names: UTF-8 or short words), so
 * when the DB has weak fields a send with a strong hit, or one to be decoded, is tokenised
 * again whole before its event (cs_scan_done). The threshold 12 keeps the decoding triggers:
 * Content-Encoding (16 bytes), base64 runs (12), and escaped values, longer than the value.
 */

/*
 * Run bytes among the 8 of x, as bit 7 of each byte, but pure separators (space ( ) /): those
 * join digit groups in D only, so cs_smask counts them only between two digits or separators
 * ("138 0013 8000" is one run, "lorem ipsum" two). *p gets the pure separators.
 */
static __always_inline __u64 cs_sbytes(__u64 x, __u64 *p)
{
	const __u64 ones = 0x0101010101010101ULL, hi = 0x8080808080808080ULL;
	__u64 y = x & ~hi, keep = ~x & hi, ps;

	/* y + (0x80 - a) has its top bit set iff y >= a (y < 0x80: no carry between bytes) */
#define CS_GE(a) (y + (0x80 - (a)) * ones)
#define CS_EQ(a) (~((y ^ ((a)*ones)) + 0x7f * ones))
	ps = (CS_GE(0x28) & ~CS_GE(0x2a)) | CS_EQ(0x20) | CS_EQ(0x2f);
	*p = ps & keep;
	return ((CS_GE(0x1f) & ~CS_GE(0x22)) | (CS_GE(0x23) & ~CS_GE(0x2c)) |
		(CS_GE(0x2d) & ~CS_GE(0x3a)) | (CS_GE(0x40) & ~CS_GE(0x7b)) | CS_EQ(0x3b)) &
	       ~ps & keep;
}

/* Digits and every D separator among the 8 of x (p: its pure separators), as bit 7. */
static __always_inline __u64 cs_dbytes(__u64 x, __u64 p)
{
	const __u64 ones = 0x0101010101010101ULL, hi = 0x8080808080808080ULL;
	__u64 y = x & ~hi;

	return ((CS_GE(0x2d) & ~CS_GE(0x2f)) | (CS_GE(0x30) & ~CS_GE(0x3a)) | p) & ~x & hi;
#undef CS_EQ
#undef CS_GE
}

/* De Bruijn sequence and table: index of the single set bit of x = 1 << i. */
#define CS_DEBRUIJN 0x03f79d71b4cb0a89ULL
static const __u8 cs_debruijn[64] = {
    0,	1,  48, 2,  57, 49, 28, 3,  61, 58, 50, 42, 38, 29, 17, 4,  62, 55, 59, 36, 53, 51,
    43, 22, 45, 39, 33, 30, 24, 18, 12, 5,  63, 47, 56, 27, 60, 41, 37, 16, 54, 35, 52, 21,
    44, 32, 23, 11, 46, 26, 40, 15, 34, 20, 31, 10, 25, 14, 19, 9,  13, 8,  7,	6,
};

/* Index of the lowest / highest set bit of x != 0. */
static __always_inline __u32 cs_lowbit(__u64 x)
{
	return cs_debruijn[((x & -x) * CS_DEBRUIJN) >> 58];
}

static __always_inline __u32 cs_highbit(__u64 x)
{
	x |= x >> 1;
	x |= x >> 2;
	x |= x >> 4;
	x |= x >> 8;
	x |= x >> 16;
	x |= x >> 32;
	return cs_lowbit(x ^ (x >> 1));
}

/*
 * Candidate words. A run of >= 11 bytes holds the first 4 bytes of some 8-byte word of the
 * chunk whole (8 consecutive offsets hold one multiple of 8), and a run of >= 7 bytes some
 * aligned 4 bytes (a multiple of 4). So where cfg_skip_len >= 11 (>= 7), only a word whose
 * first (either) 4 bytes are all in a cheap superset of S (0x1f..0x7a, the pure separators
 * included) can be inside a long run. A long run covers its candidate halves, and beyond them
 * at most 3 bytes on each side (4 it covers whole are a candidate); the separators after a run
 * are in the superset too. So only the 64-byte blocks with a candidate, the blocks beside a
 * candidate at a block's edge, and the blocks where the chunk starts and ends, if a run from
 * the last chunk goes on or one may run into the next, need the exact classification. The
 * rest is classified by one test per word (per two words at >= 11).
 *
 * cs_cand4: bit 7 and bit 39 of the result set if bytes 0..3, 4..7 of z are all candidates.
 */
static __always_inline __u64 cs_cand4(__u64 z)
{
	const __u64 ones = 0x0101010101010101ULL, hi = 0x8080808080808080ULL;
	__u64 y = z & ~hi, in;

	in = (y + (0x80 - 0x1f) * ones) & ~((y + (0x80 - 0x7b) * ones) | z) & hi;
	in &= in >> 8;
	return in & (in >> 16);
}

/* The first 4 bytes of w0 and of w1, packed: bit 7 for w0, bit 39 for w1. */
#define CS_PACK(w0, w1)	 (((w0)&0xffffffffULL) | ((w1) << 32))
#define CS_CAND2(w0, w1) cs_cand4(CS_PACK(w0, w1))
#define CS_CAND_ANY	 0x8000000080ULL

/*
 * Wide forms, which hold no run of S bytes: UTF-16 text (an ASCII character is a byte and a
 * zero) and full-width letters and digits (UTF-8 EF BC 90 - EF BD 9A). A send holding them is
 * handed to the collector (CS_TRIG_WIDE), which decodes them (user/decode.c). The cheap test
 * runs beside the candidate test, on the first 4 bytes of words, packed two to a word as
 * there: UTF-16 of a strong value (>= 2 * cfg_skip_len bytes, >= 22 at 11) covers the first 4
 * bytes of two consecutive words, so at >= 11 the even words suffice; full-width text is
 * longer still. It flags zero bytes two apart, or EF followed by BC or BD; the blocks it
 * flags get the exact test (cs_wide_exact).
 *
 * cs_wide4: bit 7 of some byte set if z may hold either.
 */
static __always_inline __u64 cs_wide4(__u64 z)
{
	const __u64 ones = 0x0101010101010101ULL, hi = 0x8080808080808080ULL;
	__u64 zb, e, b;

	/* zero bytes (a superset: a byte 01 after a zero one too), two apart */
	zb = (z - ones) & ~z & hi;
	/* EF bytes, BC or BD bytes (the latter with bit 0 set first) */
	e = z ^ (0xefULL * ones);
	b = (z | ones) ^ (0xbdULL * ones);
	e = (e - ones) & ~e & hi;
	b = (b - ones) & ~b & hi;
	return (zb & (zb >> 16)) | (e & (b >> 8));
}

/* Bytes of x in [lo, hi] (lo >= 0x80 or all of x < 0x80 there: no carries), as bit 7. */
#define CS_RANGE(x, lo, hi)                                                                        \
	((((x)&0x7f7f7f7f7f7f7f7fULL) + (0x80 - ((lo)&0x7f)) * 0x0101010101010101ULL) &            \
	 ~(((x)&0x7f7f7f7f7f7f7f7fULL) + (0x7f - ((hi)&0x7f)) * 0x0101010101010101ULL) &           \
	 ((lo) >= 0x80 ? (x) : ~(x)) & 0x8080808080808080ULL)

/*
 * The exact test on block b of st->chunk if it passes the cheap one (on all 4 packed pairs:
 * callers without a candidate test pass every block): a word of four printable ASCII UTF-16
 * units (either byte order, even or odd offset), or a full-width letter or digit starting in
 * it. A global function, verified once for any b.
 */
__noinline int cs_wide_block(__u32 b)
{
	struct cs_state *st = state_get();
	const __u64 lo16 = 0x00ff00ff00ff00ffULL, hi16 = 0xff00ff00ff00ff00ULL;
	const __u64 *p0;
	__u64 hit = 0;
	__u32 w;

	if (!st)
		return 0;
	p0 = (const __u64 *)(st->chunk + (b & (CS_CHUNK / 64 - 1)) * 64);
	if (!(cs_wide4(CS_PACK(p0[0], p0[1])) | cs_wide4(CS_PACK(p0[2], p0[3])) |
	      cs_wide4(CS_PACK(p0[4], p0[5])) | cs_wide4(CS_PACK(p0[6], p0[7]))))
		return 0;
	/* not unrolled: the temporaries of 8 words spill past the 512-byte stack */
	for (w = 0; w < 8; w++) {
		/* the word after the block's last is the next block's, or the chunk's padding */
		__u64 x = p0[w], nx = p0[w + 1], x1, x2, a;

		/* four units: zero high bytes, low bytes 0x20-0x7e (low lanes of y, 16 bits) */
#define CS_U16_ASCII(y)                                                                            \
	(((((y)&lo16) + 0x00e000e000e000e0ULL) ^ (((y)&lo16) + 0x0081008100810081ULL)) &           \
	 0x0100010001000100ULL)
		a = (x & hi16) | (CS_U16_ASCII(x) ^ 0x0100010001000100ULL);
		hit |= !a;
		a = (x & lo16) | (CS_U16_ASCII(x >> 8) ^ 0x0100010001000100ULL);
		hit |= !a;
#undef CS_U16_ASCII
		/* EF, then BC + 90-99 / A1-BA or BD + 81-9A */
		x1 = (x >> 8) | (nx << 56);
		x2 = (x >> 16) | (nx << 48);
		a = CS_RANGE(x, 0xef, 0xef) &
		    ((CS_RANGE(x1, 0xbc, 0xbc) &
		      (CS_RANGE(x2, 0x90, 0x99) | CS_RANGE(x2, 0xa1, 0xba))) |
		     (CS_RANGE(x1, 0xbd, 0xbd) & CS_RANGE(x2, 0x81, 0x9a)));
		hit |= a;
	}
	if (hit)
		st->scan.trig |= CS_TRIG_WIDE;
	return 0;
}

/*
 * cs_wide_block for the blocks in mask among the n bytes in st->chunk. Inlined into its
 * callers: a call frame more would pass the verifier's 8 on the deepest path.
 */
static __always_inline void cs_wide_exact(__u32 mask, __u32 n)
{
	__u32 k;

	mask &= (1U << ((n + 63) / 64)) - 1;
	for (k = 0; k < CS_CHUNK / 64; k++) {
		if (!mask)
			break;
		cs_wide_block(cs_lowbit(mask));
		mask &= mask - 1;
	}
}

/*
 * The 64-byte blocks of the n bytes in st->chunk that need the exact classification (see
 * above), one bit per block; every block if runs shorter than 7 bytes matter. A global
 * function: its loop's exits do not multiply the paths of the caller's.
 */
__noinline int cs_exact_blocks(__u32 n)
{
	struct cs_state *st = state_get();
	__u32 b, any = 0, first = 0, last = 0, w, wide = 0;
	__u8 end;

	if (!st)
		return 0xffff;
	/* no candidate test: cs_wide_exact tests every block */
	st->wide = 0xffff;
	if (cfg_skip_len < 7 || !n || n > CS_CHUNK)
		return 0xffff;
	for (b = 0; b < CS_CHUNK / 64; b++) {
		const __u64 *p = (const __u64 *)(st->chunk + b * 64);
		__u64 t0, t7, t, v;

		if (b * 64 >= n)
			break;
		/*
		 * Bit 7 of t0 is a candidate where a run may reach into the block before, bit 39
		 * of t7 one where it may reach into the next: the first halves of words 0 and 7
		 * (>= 11), or the first half of word 0 and the second of word 7 (>= 7).
		 */
		if (cfg_skip_len >= 11) {
			t0 = CS_CAND2(p[0], p[1]);
			t7 = CS_CAND2(p[6], p[7]);
			t = CS_CAND2(p[2], p[3]) | CS_CAND2(p[4], p[5]);
			v = cs_wide4(CS_PACK(p[0], p[2])) | cs_wide4(CS_PACK(p[4], p[6]));
		} else {
			t0 = cs_cand4(p[0]);
			t7 = cs_cand4(p[7]);
			t = cs_cand4(p[1]) | cs_cand4(p[2]) | cs_cand4(p[3]) | cs_cand4(p[4]) |
			    cs_cand4(p[5]) | cs_cand4(p[6]);
			v = cs_wide4(CS_PACK(p[0], p[1])) | cs_wide4(CS_PACK(p[2], p[3])) |
			    cs_wide4(CS_PACK(p[4], p[5])) | cs_wide4(CS_PACK(p[6], p[7]));
		}
		/* v != 0 without a branch (a branch per block multiplies the verifier's paths) */
		wide |= (__u32)((v | -v) >> 63) << b;
		any |= !!((t0 | t | t7) & CS_CAND_ANY) << b;
		first |= ((t0 >> 7) & 1) << b;
		last |= ((t7 >> 39) & 1) << b;
		/* dense text (JSON, HTML, logs): the first 4 blocks all need it, so will the rest,
		 * near enough; every block is a superset, so this is only a guess at the cost (and
		 * wide forms are looked for in those 4 only) */
		if (b == 3 && (any & 0xf) == 0xf) {
			st->wide = wide;
			return 0xffff;
		}
	}
	st->wide = wide;
	/* the first block if the last chunk ended in a run; the blocks of the last two words if
	 * this one ends in a byte of the superset */
	if (st->sflags & CS_SK_RUN_OPEN)
		any |= 1;
	w = (n - 1) / 8;
	end = st->chunk[(n - 1) & (CS_CHUNK - 1)];
	if (end >= 0x1f && end <= 0x7a)
		any |= (1 << (w / 8)) | (1 << ((w ? w - 1 : 0) / 8));
	return (any | (last << 1) | (first >> 1)) & 0xffff;
}

/* st->smask over the n bytes of st->chunk (bytes past n: not S). */
__noinline int cs_smask(__u32 n)
{
	struct cs_state *st = state_get();
	__u32 b, w;

	if (!st || !n || n > CS_CHUNK)
		return 0;
	st->eblocks = cs_exact_blocks(n);
	if (st->wide)
		cs_wide_exact(st->wide, n);
	for (b = 0; b < CS_CHUNK / 64; b++) {
		__u64 s = 0, p = 0;

		if (b * 64 >= n)
			break;
		if (!((st->eblocks >> b) & 1)) {
			st->smask[b & 15] = 0;
			st->pmask[b & 15] = 0;
			st->rmask[b & 15] = 0;
			continue;
		}
#pragma unroll
		for (w = 0; w < 8; w++) {
			__u64 x = *(__u64 *)(st->chunk + b * 64 + w * 8), sw, pw, dw;

			sw = cs_sbytes(x, &pw);
			if (pw) { /* rare outside text */
				/* a pure separator between digits or separators; the word's end
				 * bytes, and bytes past n (the next send's), count as such (a
				 * superset is safe) */
				dw = cs_dbytes(x, pw);
				if (n - b * 64 - w * 8 < 8)
					dw |= 0x8080808080808080ULL << ((n - b * 64 - w * 8) * 8);
				sw |= pw & ((dw << 8) | 0x80) & ((dw >> 8) | (0x80ULL << 56));
				p |= ((pw >> 7) * 0x0102040810204080ULL >> 56) << (w * 8);
			}
			/* bit 7 of each byte to bits 0..7 */
			s |= ((sw >> 7) * 0x0102040810204080ULL >> 56) << (w * 8);
		}
		st->smask[b & 15] = s;
		st->pmask[b & 15] = p;
	}
	if (n & 63)
		st->smask[((n - 1) / 64) & 15] &= (1ULL << (n & 63)) - 1;
	return 0;
}

/* The tokeniser over st->chunk[start..end), message offset of the chunk pos. */
static __always_inline void cs_scan_range(__u32 start, __u32 end, __u32 pos)
{
	__u32 i;

	for (i = 0; i < CS_CHUNK / CS_STEP + 1; i++) {
		__u32 off = start + i * CS_STEP;

		if (off >= end)
			break;
		cs_scan_chunk_step(off, end - off < CS_STEP ? end - off : CS_STEP, pos, 0);
	}
}

/* The bits 0..to of a 64-bit mask (to < 64). */
static __always_inline __u64 cs_bits_to(__u32 to)
{
	return to >= 63 ? ~0ULL : (2ULL << to) - 1;
}

/*
 * Run starts of length >= k to >= k + s (1 <= s <= 8) in x, the block after it in y: a start
 * stays if the byte s on is one too. y's own next block is unknown (taken as 0), which only
 * spoils its high bits, and only its low ones reach x.
 */
#define CS_RUN_STEP(x, y, s)                                                                       \
	do {                                                                                       \
		(x) &= ((x) >> (s)) | ((y) << (64 - (s)));                                         \
		(y) &= (y) >> (s);                                                                 \
	} while (0)

/* Coverage of k to k + s bytes from each start in u, the block before it in v (mirror image). */
#define CS_SPREAD_STEP(u, v, s)                                                                    \
	do {                                                                                       \
		(u) |= ((u) << (s)) | ((v) >> (64 - (s)));                                         \
		(v) |= (v) << (s);                                                                 \
	} while (0)

/* A step macro applied for 1, 2, a and c bytes (c may be 0): lengths >= 2, 4, 4 + a, L. */
#define CS_DOUBLING(step, x, y, a, c)                                                              \
	do {                                                                                       \
		step(x, y, 1);                                                                     \
		step(x, y, 2);                                                                     \
		step(x, y, a);                                                                     \
		if (c)                                                                             \
			step(x, y, c);                                                             \
	} while (0)

/*
 * The bytes of the n in st->chunk (message offset pos) the tokeniser must see, as bits in
 * st->rmask: every run of >= cfg_skip_len S bytes, the run the previous chunk ended in, and the
 * run at this chunk's end (its value may go on). Returns 1 if the chunk starts in the former.
 */
__noinline int cs_live_mask(__u32 n, __u32 pos)
{
	struct cs_state *st = state_get();
	__u32 nb, b, k, L = cfg_skip_len, last, top, open, a, c, eb, e, pb = 16;
	__u64 px = 0;
	__u64 m;

	if (!st || !n || n > CS_CHUNK)
		return 0;
	nb = (n + 63) / 64;
	/* run lengths doubled per step: >= 2, 4, 4 + a, 4 + a + c = L (a, c <= 4) */
	a = L - 4 < 4 ? L - 4 : 4;
	c = L - 4 - a;
	/* only the blocks cs_smask classified can hold a long run (cs_smask zeroed the rest) */
	eb = st->eblocks & ((1U << nb) - 1);
	/*
	 * Per block, in order: x, where runs of >= L S bytes start (y: the next block, whose low
	 * bits are all that is used), then u, the bytes of those runs (v: the starts of the
	 * block before, whose high bits are all that is used; 0 if it was not classified).
	 */
	e = eb;
	for (k = 0; k < CS_CHUNK / 64; k++) {
		__u64 x, y, u, v;

		if (!e)
			break;
		b = cs_lowbit(e) & 15;
		e &= e - 1;
		x = st->smask[b];
		y = b + 1 < nb ? st->smask[(b + 1) & 15] : 0;
		CS_DOUBLING(CS_RUN_STEP, x, y, a, c);
		u = x;
		v = pb + 1 == b ? px : 0;
		CS_DOUBLING(CS_SPREAD_STEP, u, v, a, c);
		st->rmask[b] = u;
		px = x;
		pb = b;
	}
	/* the gzip magic the tokeniser notices where a message starts (0x8b is not an S byte) */
	if (pos == 0 && n >= 2 && st->chunk[0] == 0x1f && st->chunk[1] == 0x8b)
		st->scan.trig |= CS_TRIG_GZIP;
	open = st->sflags & CS_SK_RUN_OPEN;
	if (open) {
		/* the run the last chunk ended in, through the byte that ends it (which ends its
		 * last token, also where the run stopped right at the seam); a run over 64 bytes
		 * is live */
		m = ~st->smask[0];
		st->rmask[0] |= m ? m ^ (m - 1) : ~0ULL;
	}
	/* the run at the end: from its start through byte n - 1 */
	st->sflags &= ~CS_SK_RUN_OPEN;
	last = (n - 1) / 64;
	top = (n - 1) & 63;
	m = st->smask[last & 15] & cs_bits_to(top);
	if ((m >> top) & 1) {
		__u64 y = ~m & cs_bits_to(top);

		st->sflags |= CS_SK_RUN_OPEN;
		if (y) {
			st->rmask[last & 15] |= cs_bits_to(top) & ~cs_bits_to(cs_highbit(y));
		} else {
			st->rmask[last & 15] |= cs_bits_to(top);
			if (last) {
				y = ~st->smask[(last - 1) & 15];
				st->rmask[(last - 1) & 15] |=
				    y ? ~cs_bits_to(cs_highbit(y)) : ~0ULL;
			}
		}
	}
	return open;
}

/*
 * The first byte at or after from (< n) whose bit is set in st->rmask, or with past_run clear in
 * st->rmask and st->pmask (past a run and the separators after it); n if there is none.
 */
static __always_inline __u32 cs_next_bit(struct cs_state *st, __u32 from, __u32 n, int past_run)
{
	__u32 i, b;

	for (i = 0; i < CS_CHUNK / 64; i++) {
		__u64 x;

		b = from / 64 + i;
		if (b * 64 >= n)
			break;
		x = past_run ? ~(st->rmask[b & 15] | st->pmask[b & 15]) : st->rmask[b & 15];
		if (!i)
			x &= ~0ULL << (from & 63);
		if (x)
			return b * 64 + cs_lowbit(x);
	}
	return n;
}

/*
 * The next range to tokenise at or after st->live_done: the next run of set bits of st->rmask,
 * through the pure separators after it (a D token pending on a separator ends only at the next
 * other byte) and that byte (it ends the run's last token). A range starts from a fresh state
 * (it starts a run, see above) unless it continues the previous chunk's (open, at byte 0);
 * what lies before it is counted skipped. all: take everything left (the caller's last call).
 * Returns 0 when none is left, else 1 with [st->live_start, st->live_done) to tokenise.
 */
__noinline int cs_next_range(__u32 n, __u32 open, __u32 all)
{
	struct cs_state *st = state_get();
	__u32 f, s, e;

	if (!st || n > CS_CHUNK)
		return 0;
	f = st->live_done;
	if (f >= n)
		return 0;
	s = cs_next_bit(st, f, n, 0);
	if (s >= n) {
		st->skipped += n - f;
		st->live_done = n;
		return 0;
	}
	e = all ? n : cs_next_bit(st, s, n, 1) + 1;
	if (e > n)
		e = n;
	if (s || !open) {
		st->scan.w_state = CS_WS_NONE;
		st->scan.d_state = CS_DS_NONE;
	}
	st->skipped += s - f;
	st->live_start = s;
	st->live_done = e;
	return 1;
}

/*
 * Anchors (cs_abi.h CS_ANCHOR_LONG): whether the range cs_next_range gave must be tokenised. A
 * range shorter than CS_ANCHOR_LONG that neither goes on from the last chunk (open) nor reaches
 * the chunk's end is left out (counted skipped) unless it holds an anchor byte, two upper-case
 * letters or cfg_anchor_digits digits: no strong value fits in it otherwise (its bytes are a
 * superset of the value's). Three words at most, tested 8 bytes a step. Returns 1 to tokenise.
 */
__noinline int cs_anchored(__u32 n, __u32 open)
{
	const __u64 ones = 0x0101010101010101ULL, hi = 0x8080808080808080ULL;
	struct cs_state *st = state_get();
	__u32 s, e, w, digits = 0, upper = 0;
	__u64 anchor = 0;

	if (!st)
		return 1;
	s = st->live_start;
	e = st->live_done;
	if (e - s >= CS_ANCHOR_LONG || e >= n || e > CS_CHUNK || (s == 0 && open))
		return 1;
	for (w = s / 8; w < s / 8 + 3; w++) {
		__u64 x, y, m, d, u, a;
		__u32 b = w * 8, lo, top;

		if (b >= e)
			break;
		x = *(__u64 *)(st->chunk + (b & (CS_CHUNK - 8)));
		y = x & ~hi;
		lo = s > b ? s - b : 0;
		top = e - b < 8 ? e - b : 8;
		/* the range's bytes of this word, as bit 7 */
		m = (top >= 8 ? ~0ULL : (1ULL << (top * 8)) - 1) & ~((1ULL << (lo * 8)) - 1) & hi &
		    ~x;
#define CS_GE(a) (y + (0x80 - (a)) * ones)
#define CS_EQ(a) (~((y ^ ((a)*ones)) + 0x7f * ones))
		d = CS_GE('0') & ~CS_GE(':') & m;
		u = CS_GE('A') & ~CS_GE('[') & m;
		a = (CS_EQ('@') | CS_EQ('%') | CS_EQ('\\') | CS_EQ('&') | CS_EQ('#') |
		     CS_EQ(0x1f)) &
		    m;
#undef CS_EQ
#undef CS_GE
		/* bit 7 of each byte summed: a count of at most 8 in the top byte */
		digits += ((d >> 7) * ones) >> 56;
		upper += ((u >> 7) * ones) >> 56;
		anchor |= a;
	}
	if (anchor || upper >= 2 || digits >= cfg_anchor_digits)
		return 1;
	st->skipped += e - s;
	return 0;
}

/* Ranges per chunk given one by one; the last call takes the rest of the chunk. */
#define CS_LIVE_RANGES 48

/*
 * The n bytes in st->chunk at message offset pos: tokenise the runs that may hold a strong
 * token (see above), count the rest in st->skipped.
 */
static __always_inline void cs_scan_live(struct cs_state *st, __u32 n, __u32 pos)
{
	__u32 i, open;

	cs_smask(n);
	open = cs_live_mask(n, pos);
	st->live_done = 0;
	/* strong lengths only (cfg_strong_min), back to every length for the other passes */
	st->tok_min = cfg_strong_min ? cfg_strong_min : cfg_min_len;
	for (i = 0; i < CS_LIVE_RANGES; i++) {
		if (!cs_next_range(n, open, i == CS_LIVE_RANGES - 1))
			break;
		if (cfg_anchor_digits && !cs_anchored(n, open))
			continue;
#if CS_FLOOR != 2
		cs_scan_range(st->live_start, st->live_done, pos);
#endif
	}
	st->tok_min = cfg_min_len;
}

struct chunk_ctx {
	__u64 ubuf;
	__u32 len; /* bytes of this segment to scan */
	__u32 off;
};

/*
 * --scan-in collector: the n bytes of the send's scanned bytes at offset off go to the
 * collector as they are read, in a cs_deep record: read from user memory at ubuf straight
 * into it (one read, not one into st->chunk and one more at the end), or copied from st->chunk
 * (ubuf 0: the first chunk, which the send's first-chunk work reads there). Within the send's
 * CS_DEEP_SEND_MAX, and up to the first record the ring has no room for (the collector gets a
 * whole prefix); the rest is counted. No wake-up: the collector polls the ring every
 * millisecond in this mode (a wake-up per send would cost the sender more than the copy).
 * Returns -1 if user memory was not readable, else 0.
 */
__noinline int cs_deep_direct(__u32 n, __u32 off, __u64 ubuf)
{
	struct cs_state *st = state_get();
	struct cs_deep *r;
	long err;

	if (!st || !n || n > CS_CHUNK)
		return 0;
	if ((st->sflags & CS_SK_DEEP_FULL) || off >= CS_DEEP_SEND_MAX ||
	    n > CS_DEEP_SEND_MAX - off) {
		cnt_add(CS_CNT_DEEP_DROPS, n);
		return 0;
	}
	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		st->sflags |= CS_SK_DEEP_FULL;
		cnt_add(CS_CNT_DEEP_DROPS, n);
		return 0;
	}
	if (ubuf)
		err = cs_read(st, r->data, n, ubuf);
	else
		err = bpf_probe_read_kernel(r->data, n, st->chunk);
	if (err) {
		bpf_ringbuf_discard(r, BPF_RB_NO_WAKEUP);
		return -1;
	}
	r->seq = msg_seq(st);
	r->off = off;
	r->len = n;
	bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
	st->direct += n;
	return 0;
}

static long chunk_cb(__u32 i, void *data)
{
	struct chunk_ctx *c = data;
	struct cs_state *st = state_get();
	__u32 n, pos;

	if (!st || c->off >= c->len)
		return 1;
	n = cs_chunk_len(c->len, c->off);
	if (cfg_scan_collector && st->scan.pos) {
		/* past the send's first chunk nothing is looked at here: into the ring at once */
		if (cs_deep_direct(n, st->inspected, c->ubuf + c->off)) {
			st->flags |= CS_EV_READ_FAIL;
			cnt_add(CS_CNT_READ_FAIL, 1);
			return 1;
		}
		st->scan.pos += n;
		c->off += n;
		st->inspected += n;
		return c->off >= c->len;
	}
	if (c->off == 0 && cs_preloaded(st, c->ubuf, n)) {
		st->pre.len = 0; /* the entry program read these bytes already */
	} else if (cs_read(st, st->chunk, n, c->ubuf + c->off)) {
		/* not resident at syscall entry: the rest of the segment is uninspected */
		st->flags |= CS_EV_READ_FAIL;
		cnt_add(CS_CNT_READ_FAIL, 1);
		return 1;
	}
	if (cfg_scan_collector)
		cs_deep_direct(n, st->inspected, 0);
	if (st->scan.pos == 0 && n >= 4 && is_http_request(st->chunk)) {
		cs_http_host(n);
		cs_http_reqline(n);
	}
	if (st->scan.pos == 0 && !(st->carry & CS_CARRY_LOOKED))
		cs_carry_begin(n);
	if (st->scan.pos == 0)
		cs_h2_begin(n);
	pos = st->scan.pos;
#if CS_FLOOR != 1
	if (cfg_scan_collector) {
		/* the collector tokenises the bytes handed over (cs_send_end) */
	} else if (cfg_skip_len) {
		cs_scan_live(st, n, pos);
	} else {
		cs_wide_exact(0xffff, n);
		cs_scan_range(0, n, pos);
	}
#endif
	st->scan.pos = pos + n;
	c->off += n;
	st->inspected += n;
	return c->off >= c->len;
}

/*
 * A large first segment: 1 if it repeats the flow's last large buffer (the rest of it, or a TLS
 * write of all of it again within CS_RETRY_NS, with the same last 8 bytes): a sender retrying
 * a send the socket took in part. Those bytes were scanned and reported with the first call;
 * without this, a 16 MB write taken 200 KB at a time would be scanned ~80 times. Else the
 * segment is remembered (0).
 */
__noinline int cs_retry(__u64 ubuf, __u64 len)
{
	struct cs_state *st = state_get();
	struct cs_retry *r, nr = {};
	__u64 now = bpf_ktime_get_ns(), head = 0, tail = 0;

	/* a socket hook's bytes are what the socket took: never a retry */
	if (!st || len < CS_RETRY_MIN || st->nsegs || st->kmem)
		return 0;
	if (bpf_probe_read_user(&tail, sizeof(tail), (void *)(ubuf + len - 8)) ||
	    bpf_probe_read_user(&head, sizeof(head), (void *)ubuf))
		return 0;
	r = bpf_map_lookup_elem(&retry, &st->peer.flow);
	/*
	 * The rest of the buffer (as long as it takes), or, for a TLS library's write, all of it
	 * again (WANT_WRITE: OpenSSL requires the same arguments). A socket send of the same
	 * buffer again is a new send: a sender that writes one buffer over and over (iperf3)
	 * discloses it each time, and poll-driven senders rarely see EAGAIN with nothing taken.
	 */
	if (r && ubuf >= r->start && ubuf < r->end && ubuf + len == r->end && tail == r->tail &&
	    (ubuf > r->start ||
	     (st->channel != CS_CH_SYSCALL && head == r->head && now - r->ts_ns < CS_RETRY_NS))) {
		r->ts_ns = now;
		return 1;
	}
	nr.start = ubuf;
	nr.end = ubuf + len;
	nr.head = head;
	nr.tail = tail;
	nr.ts_ns = now;
	bpf_map_update_elem(&retry, &st->peer.flow, &nr, BPF_ANY);
	return 0;
}

/* Scan one user segment of a send within the remaining budget. */
__noinline int cs_scan_user(__u64 ubuf, __u64 len)
{
	struct cs_state *st = state_get();
	struct chunk_ctx c = {.ubuf = ubuf};
	__u32 n;

	if (!st)
		return 0;
	st->total += len;
	if (cs_retry(ubuf, len)) {
		st->retried += len;
		cnt_add(CS_CNT_RETRIED, len);
		return 0;
	}
	n = len < st->budget ? (__u32)len : st->budget;
	if (!n)
		return 0;
	c.len = n;
	if (st->nsegs < CS_MAX_IOV) {
		__u32 i = st->nsegs & (CS_MAX_IOV - 1);

		st->segs[i].ubuf = ubuf;
		st->segs[i].len = n;
		st->nsegs++;
	} else {
		st->unkept += n; /* scanned, but not rescanned or handed over */
	}
	bpf_loop(((__u64)n + CS_CHUNK - 1) / CS_CHUNK, chunk_cb, &c, 0);
	st->budget -= n;
	return 0;
}

/*
 * TLS ClientHello at ubuf: copy the server_name (SNI) into the flow's host. The first 1 KiB is
 * copied into st->chunk and walked with masked offsets: session id, cipher suites, compression
 * methods, then at most 32 extensions.
 */
__noinline int cs_sni(__u64 ubuf, __u32 len)
{
	struct cs_state *st = state_get();
	struct cs_host h = {};
	__u32 off, end, n, i;
	__u8 *c;

	if (!st || len < 48)
		return 0;
	n = len < CS_CHUNK ? len : CS_CHUNK;
	n = ((n - 1) & (CS_CHUNK - 1)) + 1;
	if (!cs_preloaded(st, ubuf, n) && cs_read(st, st->chunk, n, ubuf))
		return 0;
	c = st->chunk;
	if (c[0] != 0x16 || c[5] != 0x01)
		return 0; /* not a handshake record holding a ClientHello */
	off = 43;	  /* record (5) + handshake header (4) + version (2) + random (32) */
	off += 1 + c[off & (CS_CHUNK - 1)];
	off += 2 + ((__u32)c[off & (CS_CHUNK - 1)] << 8 | c[(off + 1) & (CS_CHUNK - 1)]);
	off += 1 + c[off & (CS_CHUNK - 1)];
	if (off + 2 > n)
		return 0;
	end = off + 2 + ((__u32)c[off & (CS_CHUNK - 1)] << 8 | c[(off + 1) & (CS_CHUNK - 1)]);
	if (end > n)
		end = n;
	off += 2;
	for (i = 0; i < 32; i++) {
		__u32 type, elen, nlen;

		if (off + 4 > end)
			return 0;
		type = (__u32)c[off & (CS_CHUNK - 1)] << 8 | c[(off + 1) & (CS_CHUNK - 1)];
		elen = (__u32)c[(off + 2) & (CS_CHUNK - 1)] << 8 | c[(off + 3) & (CS_CHUNK - 1)];
		off += 4;
		if (type != 0) {
			off += elen;
			continue;
		}
		/* server_name: list length (2), name type (1) = host_name, name length (2), name */
		if (off + 5 > end || c[(off + 2) & (CS_CHUNK - 1)] != 0)
			return 0;
		nlen = (__u32)c[(off + 3) & (CS_CHUNK - 1)] << 8 | c[(off + 4) & (CS_CHUNK - 1)];
		off += 5;
		if (!nlen || off + nlen > end)
			return 0;
		if (nlen > CS_HOST_LEN - 1)
			nlen = CS_HOST_LEN - 1;
		if (bpf_probe_read_kernel(h.name, nlen & (CS_HOST_LEN - 1),
					  c + (off & (CS_CHUNK - 1))))
			return 0;
		bpf_map_update_elem(&flow_host, &st->peer.flow, &h, BPF_ANY);
		return 1;
	}
	return 0;
}

/* Bytes at ubuf start a TLS record (sendmmsg's messages, which are not preloaded). */
static __always_inline int starts_with_tls_record(__u64 ubuf, __u64 len)
{
	__u8 h[3];

	return len >= 5 && !bpf_probe_read_user(h, sizeof(h), (void *)ubuf) && cs_tls_header(h);
}

static __always_inline struct cs_state *send_begin(void)
{
	struct cs_state *st = state_get();

	if (!st)
		return NULL;
	cs_scan_reset(&st->scan);
	/* 0: whole sends (bpf_loop takes up to 8M chunks of CS_CHUNK bytes) */
	st->budget = cfg_scan_limit ? cfg_scan_limit : CS_SCAN_LIMIT_MAX;
	st->inspected = 0;
	st->total = 0;
	st->nhits = 0;
	st->seq = 0;
	st->retried = 0;
	st->unkept = 0;
	st->kmem = 0;
	st->who_set = 0;
	st->direct = 0;
	st->nstrong = 0;
	st->flags = 0;
	st->channel = CS_CH_SYSCALL;
	st->host_len = 0;
	st->carry = 0;
	st->cover = 0;
	st->deep_left = 0;
	st->nsegs = 0;
	st->pre.len = 0;
	st->skipped = 0;
	st->sflags = 0;
	st->tok_min = cfg_min_len;
	return st;
}

static __always_inline void flow_account(struct cs_state *st, __u64 uninspected)
{
	struct cs_flow *fl, nf = {};
	__u64 id = st->peer.flow;

	fl = bpf_map_lookup_elem(&flows, &id);
	if (fl) {
		__sync_fetch_and_add(&fl->bytes_sent, st->total);
		__sync_fetch_and_add(&fl->bytes_uninspected, uninspected);
		return;
	}
	nf.bytes_sent = st->total;
	nf.bytes_uninspected = uninspected;
	nf.pid = st->who_set ? st->who.pid : bpf_get_current_pid_tgid() >> 32;
	nf.dport = st->peer.dport;
	nf.proto = st->peer.proto;
	nf.v6 = st->peer.v6;
	__builtin_memcpy(nf.daddr, st->peer.daddr, 16);
	if (st->who_set)
		__builtin_memcpy(nf.comm, st->who.comm, sizeof(nf.comm));
	else
		bpf_get_current_comm(nf.comm, sizeof(nf.comm));
	bpf_map_update_elem(&flows, &id, &nf, BPF_ANY);
}

/*
 * Before the flush: keep the flow's open tokens for its next send (when the whole send was
 * scanned), and its deep hand-over budget. An entry the flow has is rewritten in place, and
 * emptied when there is nothing to keep; it is deleted only once CS_CARRY_IDLE_MAX sends in a
 * row found it empty: an LRU map allocates an element on every update and frees one on every
 * delete, which cost a stream of small sends (some ending inside a token, some not) more than
 * the rest of its carry handling.
 */
__noinline int cs_carry_end(void)
{
	struct cs_state *st = state_get();
	struct cs_carry cy = {}, *old;
	struct cs_scan *s;
	__u32 left, *hint;

	if (!st || !(st->carry & CS_CARRY_LOOKED))
		return 0;
	left = st->deep_left > st->inspected ? st->deep_left - st->inspected : 0;
	if (st->scan.trig & CS_TRIG_CE)
		left = CS_DEEP_FLOW_BUDGET;
	if (st->flags & CS_EV_H2) {
		/* every send of an HTTP/2 flow is handed over: no budget, the mark and offset */
		left = 0;
		cy.h2 = 1;
		/* a retried send's bytes were handed over with the call that first had them */
		cy.h2_off = st->h2_off + st->total - st->retried;
	}
	/* the carried tokens covered the whole send: they are still the open ones */
	s = (st->carry & CS_CARRY_OPEN) && st->cover == st->inspected ? &st->cscan : &st->scan;
	if (st->total == st->inspected && (s->w_state != CS_WS_NONE || s->d_state != CS_DS_NONE)) {
		__builtin_memcpy(&cy.scan, s, sizeof(cy.scan));
	} else if (!left && !cy.h2) {
		if (!(st->carry & CS_CARRY_FOUND))
			return 0;
		if (!(st->carry & CS_CARRY_EMPTY)) {
			old = bpf_map_lookup_elem(&carry, &st->peer.flow);
			if (old) {
				old->scan.w_state = CS_WS_NONE;
				old->scan.d_state = CS_DS_NONE;
				old->deep_left = 0;
				old->idle = 0;
			}
		} else if ((st->carry & CS_CARRY_STALE) &&
			   !bpf_map_delete_elem(&carry, &st->peer.flow) &&
			   (hint = carry_hint_get(st->peer.flow))) {
			/* found empty by CS_CARRY_IDLE_MAX sends in a row: the flow stopped
			 * carrying, so its entry goes and its hint slot can fall back to 0 */
			__sync_fetch_and_add(hint, -1);
		}
		return 0;
	}
	cy.deep_left = left;
	if ((st->carry & CS_CARRY_FOUND) && (old = bpf_map_lookup_elem(&carry, &st->peer.flow))) {
		__builtin_memcpy(old, &cy, sizeof(cy));
		return 0;
	}
	/* count before the entry exists, so a send on another CPU never skips it */
	if (!(st->carry & CS_CARRY_FOUND) && (hint = carry_hint_get(st->peer.flow)))
		__sync_fetch_and_add(hint, 1);
	bpf_map_update_elem(&carry, &st->peer.flow, &cy, BPF_ANY);
	return 0;
}

/* A walk over the send's scanned segments (st->segs), one bpf_loop per segment. */
struct seg_walk {
	__u64 ubuf;
	__u32 len;
	__u32 off;
	__u32 base; /* offset of this segment in the send's scanned bytes */
	__u32 kmem; /* st->kmem */
};

/*
 * cb over every scanned segment of the send in CS_CHUNK steps; w (the first member of cb's
 * context) says where. Stops after a segment cb left unfinished.
 */
static __always_inline void cs_walk_segs(struct cs_state *st, struct seg_walk *w,
					 long (*cb)(__u32, void *))
{
	__u32 i, base = 0;

	for (i = 0; i < CS_MAX_IOV; i++) {
		if (i >= st->nsegs)
			break;
		w->ubuf = st->segs[i].ubuf;
		w->len = st->segs[i].len;
		w->off = 0;
		w->base = base;
		w->kmem = st->kmem;
		bpf_loop(((__u64)w->len + CS_CHUNK - 1) / CS_CHUNK, cb, w, 0);
		if (w->off < w->len)
			break;
		base += w->len;
	}
}

struct deep_ctx {
	struct seg_walk w;
	__u64 seq;
	__u32 copied;
};

static long deep_cb(__u32 i, void *data)
{
	struct deep_ctx *d = data;
	struct seg_walk *c = &d->w;
	struct cs_deep *r;
	__u32 n;

	if (c->off >= c->len)
		return 1;
	n = cs_chunk_len(c->len, c->off);
	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		cnt_add(CS_CNT_DEEP_DROPS, c->len - c->off);
		return 1;
	}
	/*
	 * Default (adaptive) wake-ups, not BPF_RB_NO_WAKEUP: the kernel wakes the reader only for
	 * a record at the position the reader has consumed to. A reader that caught up and sleeps
	 * there, at one of these records, was never woken by the records after it (the event
	 * included): the send and every later one waited for the next wake-up (the summary at
	 * exit, when no event came by itself). A wake-up costs only when the reader is idle.
	 */
	if (c->kmem ? bpf_probe_read_kernel(r->data, n, (void *)(c->ubuf + c->off))
		    : bpf_probe_read_user(r->data, n, (void *)(c->ubuf + c->off))) {
		bpf_ringbuf_discard(r, 0);
		cnt_add(CS_CNT_DEEP_DROPS, c->len - c->off);
		return 1;
	}
	r->seq = d->seq;
	r->off = c->base + c->off;
	r->len = n;
	bpf_ringbuf_submit(r, 0);
	c->off += n;
	d->copied += n;
	return 0;
}

/*
 * One send may not fill the ring the other CPUs' events need: it hands over at most
 * CS_DEEP_SEND_MAX bytes, the rest is counted (the segments are not walked again after the
 * hand-over). A global function: its loop is verified once, not in every caller's paths.
 */
__noinline int cs_deep_cap(void)
{
	struct cs_state *st = state_get();
	__u32 i, left = CS_DEEP_SEND_MAX;

	if (!st || st->inspected <= left)
		return 0;
	cnt_add(CS_CNT_DEEP_DROPS, st->inspected - left);
	for (i = 0; i < CS_MAX_IOV; i++) {
		struct cs_seg *g = &st->segs[i & (CS_MAX_IOV - 1)];

		g->len = g->len < left ? g->len : left;
		left -= g->len;
	}
	return 0;
}

/*
 * Hand the scanned bytes of this send to the collector, read again from user memory (the call
 * has not returned, the buffers are intact), as cs_deep records in the events ring: reserved
 * before the send's event, they are consumed before it. Returns the bytes handed over.
 */
__noinline __u32 cs_deep_copy(__u64 seq)
{
	struct cs_state *st = state_get();
	struct deep_ctx c = {.seq = seq};

	if (!st)
		return 0;
	cs_deep_cap();
	/* segments past CS_MAX_IOV are not kept: not handed over */
	cnt_add(CS_CNT_DEEP_DROPS, st->unkept);
	cs_walk_segs(st, &c.w, deep_cb);
	cnt_add(CS_CNT_DEEP_SENDS, 1);
	cnt_add(CS_CNT_DEEP_BYTES, c.copied);
	return c.copied;
}

/* Rescan: the next chunk of a segment, tokenised whole (see cs_scan_done). */
__noinline int cs_rescan_chunk(__u64 ubuf, __u32 len, __u32 off)
{
	struct cs_state *st = state_get();
	__u32 n;

	if (!st || off >= len)
		return 0;
	n = cs_chunk_len(len, off);
	if (cs_read(st, st->chunk, n, ubuf + off))
		return 0;
	cs_scan_range(0, n, st->scan.pos);
	st->scan.pos += n;
	return n;
}

static long rescan_cb(__u32 i, void *data)
{
	struct seg_walk *c = data;
	int n;

	if (c->off >= c->len)
		return 1;
	n = cs_rescan_chunk(c->ubuf, c->len, c->off);
	if (n <= 0)
		return 1;
	c->off += n;
	return c->off >= c->len;
}

/*
 * End of a send's scan, before cs_send_end: when runs were skipped and the send has a strong hit
 * or is to be decoded, tokenise its scanned bytes again, whole (every byte, from a fresh state):
 * the skipped runs may hold weak tokens of that subject. The open tokens are flushed on a copy
 * first (a hit may sit in the last one). Hits are kept (cs_token drops repeats); the bytes are
 * read again from the caller's buffers (the call has not returned).
 */
__noinline int cs_scan_done(void)
{
	struct cs_state *st = state_get();
	struct cs_sink sink = {.tok_min = NULL};
	struct seg_walk w = {};
	struct cs_key k;
	__u8 trig;

	/* nothing skipped: every token was seen, but a first pass with cfg_strong_min set looked
	 * up no weak one */
	if (!st || cfg_scan_collector || (!st->skipped && !cfg_strong_min))
		return 0;
	cnt_add(CS_CNT_SKIPPED, st->skipped);
	if (!cfg_rescan)
		return 0; /* no weak fields: the skipped runs hold nothing enrolled */
	/* an HTTP/2 send is handed over and the collector tokenises all of its content, decoded
	 * (header fields, DATA; h2flow.h): weak tokens included */
	if ((st->flags & CS_EV_H2) && cfg_decode)
		return 0;
	/* the tokens below are seen a second time: counted once, by the first pass */
	st->sflags |= CS_SK_AGAIN;
	if (!st->nstrong && !st->deep_left && !(st->scan.trig & CS_TRIG_ALL)) {
		/* not known yet: the open tokens may hold the hit or finish a trigger */
		__builtin_memcpy(&st->fscan, &st->scan, sizeof(st->fscan));
		cs_key_get(&k);
		cs_scan_flush(&st->fscan, &k, &sink);
		if (!st->nstrong && !(st->fscan.trig & CS_TRIG_ALL)) {
			st->sflags &= ~CS_SK_AGAIN;
			return 0;
		}
	}
	/* the tokeniser raises its triggers again; the wide forms' test is not rerun: kept */
	trig = st->scan.trig & CS_TRIG_WIDE;
	cs_scan_reset(&st->scan);
	st->scan.trig = trig;
	cnt_add(CS_CNT_RESCANS, 1);
	cs_walk_segs(st, &w, rescan_cb);
	/* a read that failed now (memory unmapped by another thread since) ends the walk */
	if (st->inspected > st->scan.pos)
		cnt_add(CS_CNT_RESCAN_UNREAD, st->inspected - st->scan.pos);
	st->sflags &= ~CS_SK_AGAIN;
	return 0;
}

/* Flush the tokeniser, account bytes, hand over what needs decoding, emit the event. */
__noinline int cs_send_end(__u32 path)
{
	struct cs_state *st = state_get();
	struct cs_counters *cnt;
	struct cs_sink sink = {.tok_min = NULL};
	struct cs_event *ev;
	struct cs_key k;
	__u64 id, uninspected, seq = 0;
	__u32 deep_len = 0;
	int deep;

	if (!st)
		return 0;
	cs_carry_end();
	cs_key_get(&k);
	cs_scan_flush(&st->scan, &k, &sink);
	if (st->carry & CS_CARRY_OPEN)
		cs_flush(1);
	cnt = counters_get();
	if (!cnt)
		return 0;
	uninspected = st->total - st->inspected - st->retried;
	cnt->c[CS_CNT_SENDS]++;
	cnt->c[CS_CNT_BYTES_SENT] += st->total;
	cnt->c[CS_CNT_BYTES_INSPECTED] += st->inspected;
	cnt->c[CS_CNT_BYTES_UNINSPECTED] += uninspected;
	if (uninspected) {
		st->flags |= CS_EV_TRUNCATED;
		flow_account(st, uninspected);
	}
	/* --scan-in collector: every send's bytes (the collector refuses it with --decode off) */
	deep =
	    st->inspected && (cfg_scan_collector || (st->scan.trig & CS_TRIG_ALL) || st->deep_left);
	if (deep && !cfg_decode) {
		cnt->c[CS_CNT_NOT_DECODED]++;
		deep = 0;
	}
	if (deep && cfg_scan_collector) {
		/* handed over as read (cs_deep_direct) */
		deep_len = st->direct;
		cnt->c[CS_CNT_DEEP_SENDS]++;
		cnt->c[CS_CNT_DEEP_BYTES] += deep_len;
	} else if (deep) {
		deep_len = cs_deep_copy(msg_seq(st));
	}
	/* weak-field parts alone are no disclosure: report only sends with a strong hit */
	if (!st->nstrong && !deep_len)
		return 0;
	seq = msg_seq(st);
	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		cnt->c[CS_CNT_RB_DROPS]++;
		return 0;
	}
	ev->ts_ns = bpf_ktime_get_ns();
	ev->flow = st->peer.flow;
	if (st->who_set) {
		ev->cgroup_id = st->who.cgroup;
		ev->pid = st->who.pid;
		ev->tid = st->who.tid;
		ev->uid = st->who.uid;
		ev->gid = st->who.gid;
		__builtin_memcpy(ev->comm, st->who.comm, sizeof(ev->comm));
	} else {
		id = bpf_get_current_pid_tgid();
		ev->cgroup_id = bpf_get_current_cgroup_id();
		ev->pid = id >> 32;
		ev->tid = (__u32)id;
		id = bpf_get_current_uid_gid();
		ev->uid = (__u32)id;
		ev->gid = id >> 32;
		bpf_get_current_comm(ev->comm, sizeof(ev->comm));
	}
	ev->bytes_total = st->total > 0xffffffffULL ? 0xffffffff : (__u32)st->total;
	ev->bytes_inspected = st->inspected;
	__builtin_memcpy(ev->daddr, st->peer.daddr, 16);
	ev->dport = st->peer.dport;
	ev->channel = st->channel;
	ev->path = path;
	ev->proto = st->peer.proto;
	ev->flags = st->flags | (st->peer.v6 ? CS_EV_ADDR_V6 : 0) | (deep_len ? CS_EV_DEEP : 0);
	ev->nhits = st->nhits;
	ev->seq = seq;
	ev->deep_len = deep_len;
	ev->req_len = (st->flags & CS_EV_REQ) ? st->req_len : 0;
	ev->xflags = cfg_scan_collector && deep_len ? CS_EVX_CSCAN : 0;
	ev->h2_off = (st->flags & CS_EV_H2) ? st->h2_off : 0;
	ev->h2_len = (st->flags & CS_EV_H2) ? (__u32)(st->total - st->retried) : 0;
	ev->_pad2 = 0;
	if (st->flags & CS_EV_REQ)
		__builtin_memcpy(ev->req, st->req, sizeof(ev->req));
	else
		__builtin_memset(ev->req, 0, sizeof(ev->req));
	if (st->flags & CS_EV_HOST) {
		__builtin_memcpy(ev->host, st->host, sizeof(ev->host));
	} else {
		/* a body sent apart from its headers: the flow's last Host */
		struct cs_host *h = bpf_map_lookup_elem(&flow_host, &st->peer.flow);

		if (h) {
			__builtin_memcpy(ev->host, h->name, sizeof(ev->host));
			ev->flags |= CS_EV_HOST;
		} else {
			__builtin_memset(ev->host, 0, sizeof(ev->host));
		}
	}
	__builtin_memcpy(ev->hits, st->hits, sizeof(ev->hits));
	bpf_ringbuf_submit(ev, 0);
	cnt->c[CS_CNT_EVENTS]++;
	return 0;
}

#endif
