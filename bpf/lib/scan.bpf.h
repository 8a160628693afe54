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

#include "lib/maps.bpf.h"

__noinline int cs_token(__u64 acc, __u32 len, __u32 start, __u32 end);

/* Every token: length window and prefilter bit (match.bpf.h), then the call. */
#define CS_ON_TOKEN(ctx, acc, len, start, end) CS_PRE_PASS(acc, len, cs_token(acc, len, start, end))
#include "cs_scan.h"

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
	cnt->c[CS_CNT_TOKENS]++;
	cs_key_get(&k);
	fp = cs_fp(&k, acc, len);
	kind = cs_tag_lookup(fp);
	if (!kind)
		return 0;
	cnt->c[CS_CNT_HITS]++;
	if (kind == 1)
		st->nstrong++;
	n = st->nhits;
	for (i = 0; i < CS_MAX_HITS; i++) {
		if (i >= n)
			break;
		if (st->hits[i].fp == fp)
			return 0; /* same value again in this send */
	}
	if (n >= CS_MAX_HITS) {
		cnt->c[CS_CNT_HITS_OVERFLOW]++;
		st->flags |= CS_EV_HITS_OVERFLOW;
		return 0;
	}
	st->hits[n].fp = fp;
	st->hits[n].start = start;
	st->hits[n].end = end;
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
 * The tokeniser over st->chunk[off..off+n) (off a multiple of CS_STEP, n <= CS_STEP), message
 * offset pos + off: a global function, so the verifier walks its loop once, on its own.
 */
__noinline int cs_scan_chunk_step(__u32 off, __u32 n, __u32 pos, __u32 which)
{
	struct cs_state *st = state_get();
	struct cs_key k;

	if (!st)
		return 0;
	cs_key_get(&k);
	/* a multiple of CS_STEP, or for the carried tokens also any offset below CS_CARRY_SPAN */
	off &= (CS_CHUNK - CS_STEP) | ((which & 1) * (CS_CARRY_SPAN - 1));
	cs_scan_step(CS_SCAN_AT(st, which), &k, st->chunk + off, n, pos + off, NULL);
	return 0;
}

/* End of the message for one of the two tokenisers: emit its open tokens. */
__noinline int cs_flush(__u32 which)
{
	struct cs_state *st = state_get();
	struct cs_key k;

	if (!st)
		return 0;
	cs_key_get(&k);
	cs_scan_flush(CS_SCAN_AT(st, which), &k, NULL);
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
	if (cy->scan.w_state == CS_WS_NONE && cy->scan.d_state == CS_DS_NONE)
		return 0;
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

/*
 * Read the first chunk of a send (the first min(len, CS_CHUNK) bytes at ubuf) into st->chunk
 * before the tail call: the TLS record test looks at it, and the scan does not read it again.
 * One read instead of two saves ~100 ns per send (each probe read checks the destination
 * object). Returns 1 if the bytes start a TLS record.
 */
static __always_inline int cs_preload(struct cs_state *st, __u64 ubuf, __u64 len)
{
	__u32 n = cs_chunk_len(len > 0xffffffffULL ? 0xffffffffU : (__u32)len, 0);
	__u8 *h = st->chunk;

	st->pre.len = 0;
	if (bpf_probe_read_user(st->chunk, n, (void *)ubuf))
		return 0; /* the scan reads again and counts the failure */
	st->pre.ubuf = ubuf;
	st->pre.len = n;
	return n >= 5 && h[0] >= 0x14 && h[0] <= 0x17 && h[1] == 3 && h[2] <= 4;
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

static __always_inline int is_http_request(const __u8 *p)
{
	__u32 w = *(const __u32 *)p;

	/* first four bytes, little-endian */
	return w == 0x20544547 /* "GET " */ || w == 0x54534f50 /* "POST" */ ||
	       w == 0x20545550 /* "PUT " */ || w == 0x44414548 /* "HEAD" */ ||
	       w == 0x454c4544 /* "DELE" */ || w == 0x43544150 /* "PATC" */ ||
	       w == 0x4954504f /* "OPTI" */;
}

struct chunk_ctx {
	__u64 ubuf;
	__u32 len; /* bytes of this segment to scan */
	__u32 off;
};

static long chunk_cb(__u32 i, void *data)
{
	struct chunk_ctx *c = data;
	struct cs_state *st = state_get();
	__u32 n, pos;

	if (!st || c->off >= c->len)
		return 1;
	n = cs_chunk_len(c->len, c->off);
	if (c->off == 0 && st->pre.len >= n && st->pre.ubuf == c->ubuf) {
		st->pre.len = 0; /* the entry program read these bytes already */
	} else if (bpf_probe_read_user(st->chunk, n, (void *)(c->ubuf + c->off))) {
		/* not resident at syscall entry: the rest of the segment is uninspected */
		st->flags |= CS_EV_READ_FAIL;
		cnt_add(CS_CNT_READ_FAIL, 1);
		return 1;
	}
	if (st->scan.pos == 0 && n >= 4 && is_http_request(st->chunk))
		cs_http_host(n);
	if (st->scan.pos == 0 && !(st->carry & CS_CARRY_LOOKED))
		cs_carry_begin(n);
	pos = st->scan.pos;
	for (i = 0; i < CS_CHUNK / CS_STEP; i++) {
		__u32 off = i * CS_STEP;

		if (off >= n)
			break;
		cs_scan_chunk_step(off, n - off < CS_STEP ? n - off : CS_STEP, pos, 0);
	}
	st->scan.pos = pos + n;
	c->off += n;
	st->inspected += n;
	return c->off >= c->len;
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
	n = len < st->budget ? (__u32)len : st->budget;
	if (!n)
		return 0;
	c.len = n;
	if (st->nsegs < CS_MAX_IOV) {
		__u32 i = st->nsegs & (CS_MAX_IOV - 1);

		st->segs[i].ubuf = ubuf;
		st->segs[i].len = n;
		st->nsegs++;
	}
	bpf_loop((n + CS_CHUNK - 1) / CS_CHUNK, chunk_cb, &c, 0);
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
	if (!cs_preloaded(st, ubuf, n) && bpf_probe_read_user(st->chunk, n, (void *)ubuf))
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

/* First bytes of a TLS record (handshake/alert/ccs/appdata, version 3.x): ciphertext. */
static __always_inline int starts_with_tls_record(__u64 ubuf, __u64 len)
{
	__u8 h[3];

	if (len < 5 || bpf_probe_read_user(h, sizeof(h), (void *)ubuf))
		return 0;
	return h[0] >= 0x14 && h[0] <= 0x17 && h[1] == 3 && h[2] <= 4;
}

static __always_inline struct cs_state *send_begin(void)
{
	struct cs_state *st = state_get();

	if (!st)
		return NULL;
	cs_scan_reset(&st->scan);
	st->budget = cfg_scan_limit;
	st->inspected = 0;
	st->total = 0;
	st->nhits = 0;
	st->nstrong = 0;
	st->flags = 0;
	st->channel = CS_CH_SYSCALL;
	st->host_len = 0;
	st->carry = 0;
	st->cover = 0;
	st->deep_left = 0;
	st->nsegs = 0;
	st->pre.len = 0;
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
	nf.pid = bpf_get_current_pid_tgid() >> 32;
	nf.dport = st->peer.dport;
	nf.proto = st->peer.proto;
	nf.v6 = st->peer.v6;
	__builtin_memcpy(nf.daddr, st->peer.daddr, 16);
	bpf_get_current_comm(nf.comm, sizeof(nf.comm));
	bpf_map_update_elem(&flows, &id, &nf, BPF_ANY);
}

/*
 * Before the flush: keep the flow's open tokens for its next send (when the whole send was
 * scanned), and its deep hand-over budget; drop the entry when there is nothing to keep.
 */
__noinline int cs_carry_end(void)
{
	struct cs_state *st = state_get();
	struct cs_carry cy = {};
	struct cs_scan *s;
	__u32 left, *hint;

	if (!st || !(st->carry & CS_CARRY_LOOKED))
		return 0;
	left = st->deep_left > st->inspected ? st->deep_left - st->inspected : 0;
	if (st->scan.trig & CS_TRIG_CE)
		left = CS_DEEP_FLOW_BUDGET;
	/* the carried tokens covered the whole send: they are still the open ones */
	s = (st->carry & CS_CARRY_OPEN) && st->cover == st->inspected ? &st->cscan : &st->scan;
	if (st->total == st->inspected && (s->w_state != CS_WS_NONE || s->d_state != CS_DS_NONE)) {
		__builtin_memcpy(&cy.scan, s, sizeof(cy.scan));
	} else if (!left) {
		if ((st->carry & CS_CARRY_FOUND) && !bpf_map_delete_elem(&carry, &st->peer.flow) &&
		    (hint = carry_hint_get(st->peer.flow)))
			__sync_fetch_and_add(hint, -1);
		return 0;
	}
	cy.deep_left = left;
	/* count before the entry exists, so a send on another CPU never skips it */
	if (!(st->carry & CS_CARRY_FOUND) && (hint = carry_hint_get(st->peer.flow)))
		__sync_fetch_and_add(hint, 1);
	bpf_map_update_elem(&carry, &st->peer.flow, &cy, BPF_ANY);
	return 0;
}

struct deep_ctx {
	__u64 ubuf;
	__u64 seq;
	__u32 len;
	__u32 off;
	__u32 base; /* offset of this segment in the send's scanned bytes */
	__u32 copied;
};

static long deep_cb(__u32 i, void *data)
{
	struct deep_ctx *c = data;
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
	if (bpf_probe_read_user(r->data, n, (void *)(c->ubuf + c->off))) {
		bpf_ringbuf_discard(r, BPF_RB_NO_WAKEUP);
		cnt_add(CS_CNT_DEEP_DROPS, c->len - c->off);
		return 1;
	}
	r->seq = c->seq;
	r->off = c->base + c->off;
	r->len = n;
	/* the send's event, submitted after these records, wakes the collector */
	bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
	c->off += n;
	c->copied += n;
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
	__u32 i, base = 0;

	if (!st)
		return 0;
	for (i = 0; i < CS_MAX_IOV; i++) {
		if (i >= st->nsegs)
			break;
		c.ubuf = st->segs[i].ubuf;
		c.len = st->segs[i].len;
		c.off = 0;
		c.base = base;
		bpf_loop((c.len + CS_CHUNK - 1) / CS_CHUNK, deep_cb, &c, 0);
		if (c.off < c.len)
			break;
		base += c.len;
	}
	cnt_add(CS_CNT_DEEP_SENDS, 1);
	cnt_add(CS_CNT_DEEP_BYTES, c.copied);
	return c.copied;
}

/* Flush the tokeniser, account bytes, hand over what needs decoding, emit the event. */
__noinline int cs_send_end(__u32 path)
{
	struct cs_state *st = state_get();
	struct cs_counters *cnt;
	struct cs_event *ev;
	struct cs_key k;
	__u64 id, uninspected, seq = 0;
	__u32 deep_len = 0;
	int deep;

	if (!st)
		return 0;
	cs_carry_end();
	cs_key_get(&k);
	cs_scan_flush(&st->scan, &k, NULL);
	if (st->carry & CS_CARRY_OPEN)
		cs_flush(1);
	cnt = counters_get();
	if (!cnt)
		return 0;
	uninspected = st->total - st->inspected;
	cnt->c[CS_CNT_SENDS]++;
	cnt->c[CS_CNT_BYTES_SENT] += st->total;
	cnt->c[CS_CNT_BYTES_INSPECTED] += st->inspected;
	cnt->c[CS_CNT_BYTES_UNINSPECTED] += uninspected;
	if (uninspected) {
		st->flags |= CS_EV_TRUNCATED;
		flow_account(st, uninspected);
	}
	deep = st->inspected &&
	       ((st->scan.trig & (CS_TRIG_B64 | CS_TRIG_ESC | CS_TRIG_GZIP | CS_TRIG_CE)) ||
		st->deep_left);
	if (deep && !cfg_decode) {
		cnt->c[CS_CNT_NOT_DECODED]++;
		deep = 0;
	}
	if (deep) {
		seq = __sync_fetch_and_add(&deep_seq, 1) + 1;
		deep_len = cs_deep_copy(seq);
	}
	/* weak-field parts alone are no disclosure: report only sends with a strong hit */
	if (!st->nstrong && !deep_len)
		return 0;
	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		cnt->c[CS_CNT_RB_DROPS]++;
		return 0;
	}
	id = bpf_get_current_pid_tgid();
	ev->ts_ns = bpf_ktime_get_ns();
	ev->cgroup_id = bpf_get_current_cgroup_id();
	ev->flow = st->peer.flow;
	ev->pid = id >> 32;
	ev->tid = (__u32)id;
	id = bpf_get_current_uid_gid();
	ev->uid = (__u32)id;
	ev->gid = id >> 32;
	ev->bytes_total = st->total > 0xffffffffULL ? 0xffffffff : (__u32)st->total;
	ev->bytes_inspected = st->inspected;
	bpf_get_current_comm(ev->comm, sizeof(ev->comm));
	__builtin_memcpy(ev->daddr, st->peer.daddr, 16);
	ev->dport = st->peer.dport;
	ev->channel = st->channel;
	ev->path = path;
	ev->proto = st->peer.proto;
	ev->flags = st->flags | (st->peer.v6 ? CS_EV_ADDR_V6 : 0) | (deep_len ? CS_EV_DEEP : 0);
	ev->nhits = st->nhits;
	ev->seq = seq;
	ev->deep_len = deep_len;
	ev->_pad = 0;
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
