/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A send's begin and end: its per-CPU state set up (send_begin), bytes accounted to the flow,
 * and at its end the tokeniser flushed, the carry kept, the hand-over made and the send's event
 * (cs_event, with its hits) emitted (cs_send_end).
 */
#ifndef CS_EVENT_BPF_H
#define CS_EVENT_BPF_H

#include "lib/carry.bpf.h"
#include "lib/deep.bpf.h"
#include "lib/rescan.bpf.h"

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
	st->enf = 0;
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
	cs_enf_decide(st, cnt);
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
	if (st->enf & CS_ENFS_BLOCK)
		ev->xflags |= CS_EVX_BLOCKED;
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

#endif /* CS_EVENT_BPF_H */
