/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The chunk loop: a send's user segments copied CS_CHUNK bytes at a time (bpf_loop) and
 * scanned, the first chunk's work (carry, Host, request line, HTTP/2), a large segment that
 * repeats the flow's last one (a retry) recognised.
 */
#ifndef CS_CHUNK_BPF_H
#define CS_CHUNK_BPF_H

#include "lib/carry.bpf.h"
#include "lib/deep.bpf.h"
#include "lib/host.bpf.h"
#include "lib/skip.bpf.h"

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

#endif /* CS_CHUNK_BPF_H */
