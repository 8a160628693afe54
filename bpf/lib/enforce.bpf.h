/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * run --block (enforce mode): the kernel refuses a send that carries an enrolled strong value
 * (the exact 64-bit keyed fingerprint, not the 32-bit tag) to a destination no recipient matches
 * (--block unknown), or also to a third party the subject has no consent for now (--block
 * unconsented). The collector keeps the tables (user/monitor/enforce.c) and renews a lease;
 * without it the kernel stops refusing (fail-open). Never refused: loopback, DNS (port 53), the
 * monitor itself (never scanned), and TCP bytes that no sk_msg verdict saw (refused is only what
 * has not left). Design: docs/decisions/0015-enforce-in-the-send-hook.md.
 */
#ifndef CS_ENFORCE_BPF_H
#define CS_ENFORCE_BPF_H

#include "lib/maps.bpf.h"
#include "lib/sock.bpf.h"

/* Set by the loader before load (rodata). */
const volatile __u8 cfg_block = CS_BLOCK_OFF;	       /* enum cs_block */
const volatile __u64 cfg_host_b1 = 2, cfg_host_b2 = 3; /* cs_host_hash bases, secret per run */

/* The collector's lease (CLOCK_MONOTONIC ns): refuse nothing at or after it. Written by mmap. */
__u64 enf_deadline;

/* cs_state.enf */
#define CS_ENFS_CAN	 1u   /* the hook refuses this send itself (sk_msg, UDP egress) */
#define CS_ENFS_MARK	 2u   /* a TLS write: refused by marking its socket (enf_blocked) */
#define CS_ENFS_HH	 4u   /* st->hh holds this send's host */
#define CS_ENFS_RESOLVED 8u   /* the destination was looked up */
#define CS_ENFS_KNOWN	 16u  /* ... and matched a recipient (st->enf_r) */
#define CS_ENFS_STRONG	 32u  /* an exact strong fingerprint was found */
#define CS_ENFS_UNCONS	 64u  /* ... one the recipient has no consent for (unconsented) */
#define CS_ENFS_BLOCK	 128u /* refused */

/* Every enrolled strong fingerprint (the tag table's hits are 32-bit: not enough to refuse). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* memory as filled: nothing in audit mode */
	__uint(max_entries, 1);		      /* sized by the loader */
	__type(key, __u64);
	__type(value, __u8);
} enf_fp SEC(".maps");

/* (fingerprint, recipient) pairs some consent row covers now, by the rules of spec §6-7. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* memory as filled: nothing in audit mode */
	__uint(max_entries, 1);		      /* sized by the loader */
	__type(key, struct cs_enf_pair);
	__type(value, __u8);
} enf_consent SEC(".maps");

/* Recipient selectors: IP:port, then CIDR/IP (longest prefix), then host, then DNS answers. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* memory as filled: nothing in audit mode */
	__uint(max_entries, 4096);
	__type(key, struct cs_enf_addr);
	__type(value, struct cs_enf_rcpt);
} enf_ipport SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 16384);
	__type(key, struct cs_enf_net);
	__type(value, struct cs_enf_rcpt);
} enf_net SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* memory as filled: nothing in audit mode */
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct cs_enf_rcpt);
} enf_host SEC(".maps");

/* Addresses DNS answers gave for a recipient's host selector (until their TTL). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* memory as filled: nothing in audit mode */
	__uint(max_entries, 65536);
	__type(key, struct cs_enf_addr);
	__type(value, struct cs_enf_rcpt);
} enf_dns SEC(".maps");

/* A flow's last host, hashed (a body sent apart from its headers, TLS writes after the SNI). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, CS_FLOWS_MAX);
	__type(key, __u64);
	__type(value, struct cs_enf_hosts);
} flow_hosth SEC(".maps");

/*
 * Flows a block cut (value: bpf_ktime_get_ns() of the block): their later sends are refused
 * too, as the peer would read a stream with a hole (a TLS record missing breaks the session).
 * Bit 0 (CS_ENF_CUT_OWN): a TLS write was refused by this mark and its own ciphertext has not
 * come yet; that send is the block already counted, not a later one.
 */
#define CS_ENF_CUT_OWN 1ull
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, CS_FLOWS_MAX);
	__type(key, __u64);
	__type(value, __u64);
} enf_blocked SEC(".maps");

static __always_inline int enf_lease_ok(void)
{
	return bpf_ktime_get_ns() < *(volatile __u64 *)&enf_deadline;
}

/*
 * Hash st->host (up to a ':' port or the end, one trailing dot dropped) into st->hh and keep it
 * as the flow's. A global function: its byte loop is verified once.
 */
__noinline int cs_enf_hosth(void)
{
	struct cs_state *st = state_get();
	__u64 h1 = 0, h2 = 0, p1 = 1, p2 = 1, c;
	__u32 i, j, n = 0, k;

	if (!st || !cfg_block)
		return 0;
	for (i = 0; i < CS_HOST_LEN; i++) {
		c = st->host[i];
		if (!c || c == ':')
			break;
		n++;
	}
	if (n && st->host[(n - 1) & (CS_HOST_LEN - 1)] == '.')
		n--;
	/*
	 * The length and the suffix count go through the map value: the verifier does not track
	 * a value it loads, so the byte loop is walked once, not once per length and dot count.
	 */
	st->hh.n = n;
	n = *(volatile __u32 *)&st->hh.n;
	if (n > CS_HOST_LEN)
		return 0;
	st->hh.n = 0;
	for (i = 0; i < CS_HOST_LEN; i++) {
		if (i >= n)
			break;
		j = (n - 1 - i) & (CS_HOST_LEN - 1);
		c = cs_host_lower(st->host[j]);
		h1 = (h1 + c * p1) % CS_HOSTH_P;
		h2 = (h2 + c * p2) % CS_HOSTH_P;
		p1 = p1 * cfg_host_b1 % CS_HOSTH_P;
		p2 = p2 * cfg_host_b2 % CS_HOSTH_P;
		/* the suffix after a dot: what a *.domain selector names */
		if (j && st->host[(j - 1) & (CS_HOST_LEN - 1)] == '.') {
			k = *(volatile __u32 *)&st->hh.n;
			if (k < CS_ENF_HOSTH - 1) {
				st->hh.h[(k + 1) & (CS_ENF_HOSTH - 1)] =
				    (h1 << 32 | h2) | CS_ENF_WILD;
				st->hh.n = k + 1;
			}
		}
	}
	st->hh.h[0] = h1 << 32 | h2;
	/* h[0] and the suffixes: n counts both */
	st->hh.n = n ? st->hh.n + 1 : 0;
	st->hh.cut = n >= CS_HOST_LEN - 2;
	st->enf |= CS_ENFS_HH;
	bpf_map_update_elem(&flow_hosth, &st->peer.flow, &st->hh, BPF_ANY);
	return 0;
}

/* The recipient of st->peer and the send's (or the flow's) host, in the order of spec §6. */
static __always_inline void cs_enf_resolve(struct cs_state *st)
{
	struct cs_enf_addr *a = &st->enf_k.a;
	struct cs_enf_rcpt *r;
	struct cs_enf_hosts *hh = NULL;
	const __u32 *w = (const __u32 *)st->peer.daddr;
	__u32 i;

	st->enf |= CS_ENFS_RESOLVED;
	__builtin_memset(a, 0, sizeof(*a));
	if (st->peer.v6 && !w[0] && !w[1] && w[2] == bpf_htonl(0xffff)) {
		*(__u32 *)a->addr = w[3]; /* IPv4-mapped: matched as IPv4 */
	} else {
		__builtin_memcpy(a->addr, st->peer.daddr, 16);
		a->v6 = st->peer.v6;
	}
	a->port = st->peer.dport;
	r = bpf_map_lookup_elem(&enf_ipport, a);
	if (!r) {
		st->enf_k.net.prefixlen = 8 + (a->v6 ? 128 : 32);
		st->enf_k.net.v6 = a->v6;
		__builtin_memcpy(st->enf_k.net.addr, a->addr, 16);
		r = bpf_map_lookup_elem(&enf_net, &st->enf_k.net);
	}
	if (!r) {
		hh = (st->enf & CS_ENFS_HH) ? &st->hh
					    : bpf_map_lookup_elem(&flow_hosth, &st->peer.flow);
		if (hh && hh->n) {
			/* the exact name, then the longest suffix first */
			r = bpf_map_lookup_elem(&enf_host, &hh->h[0]);
			for (i = CS_ENF_HOSTH - 1; i > 0 && !r; i--)
				if (i < hh->n)
					r = bpf_map_lookup_elem(&enf_host, &hh->h[i]);
		}
	}
	if (!r) {
		a->port = 0;
		r = bpf_map_lookup_elem(&enf_dns, a);
	}
	if (r) {
		st->enf |= CS_ENFS_KNOWN;
		st->enf_r = *r;
	} else if (hh && hh->cut) {
		/* a host name longer than the kernel keeps: it may be a recipient's (fail-open) */
		st->enf |= CS_ENFS_KNOWN;
		st->enf_r.rid = ~0u;
		st->enf_r.flags = CS_ENF_R_NOCHECK;
	}
}

/*
 * A strong tag hit (cs_token): an exact enrolled fingerprint makes the send refusable; under
 * --block unconsented, one the recipient has no (fp, recipient) consent pair for decides it.
 */
static __always_inline void cs_enf_hit(struct cs_state *st, __u64 fp)
{
	if (!(st->enf & (CS_ENFS_CAN | CS_ENFS_MARK)) || !bpf_map_lookup_elem(&enf_fp, &fp))
		return;
	st->enf |= CS_ENFS_STRONG;
	if (!(st->enf & CS_ENFS_RESOLVED))
		cs_enf_resolve(st);
	if (cfg_block != CS_BLOCK_UNCONSENTED || !(st->enf & CS_ENFS_KNOWN) ||
	    (st->enf & CS_ENFS_UNCONS) || (st->enf_r.flags & (CS_ENF_R_EXEMPT | CS_ENF_R_NOCHECK)))
		return;
	st->enf_k.pair.fp = fp;
	st->enf_k.pair.rid = st->enf_r.rid;
	st->enf_k.pair._pad = 0;
	if (!bpf_map_lookup_elem(&enf_consent, &st->enf_k.pair))
		st->enf |= CS_ENFS_UNCONS;
}

/* The send's verdict, once every token is in (cs_send_end): sets CS_ENFS_BLOCK to refuse it. */
static __always_inline void cs_enf_decide(struct cs_state *st, struct cs_counters *cnt)
{
	__u64 now;

	if (!cfg_block || !(st->enf & CS_ENFS_STRONG))
		return;
	if ((st->enf & CS_ENFS_KNOWN) && !(st->enf & CS_ENFS_UNCONS))
		return;
	if (peer_is_loopback(&st->peer) || st->peer.dport == 53)
		return;
	if (!enf_lease_ok()) {
		cnt->c[CS_CNT_BLOCK_OPEN]++;
		return;
	}
	st->enf |= CS_ENFS_BLOCK;
	cnt->c[CS_CNT_BLOCKED]++;
	if (!(st->enf & CS_ENFS_KNOWN))
		cnt->c[CS_CNT_BLOCKED_UNKNOWN]++;
	if (st->peer.proto == CS_IPPROTO_TCP) {
		now = bpf_ktime_get_ns() & ~CS_ENF_CUT_OWN;
		if (st->enf & CS_ENFS_MARK)
			now |= CS_ENF_CUT_OWN;
		bpf_map_update_elem(&enf_blocked, &st->peer.flow, &now, BPF_ANY);
	}
}

/*
 * A send on a flow a block cut: refused too while the lease holds. The first send after a TLS
 * write's mark is that write's ciphertext (counted as blocked at the mark). tcp_bpf keeps a
 * socket's drop verdict, so later sends fail before this program runs, on the kernels measured
 * (docs/enforce.md); the count here is of those a kernel that runs it again shows.
 */
static __always_inline int cs_enf_flow_blocked(__u64 flow)
{
	__u64 *at;

	if (!cfg_block)
		return 0;
	at = bpf_map_lookup_elem(&enf_blocked, &flow);
	if (!at)
		return 0;
	if (!enf_lease_ok()) {
		cnt_add(CS_CNT_BLOCK_OPEN, 1);
		return 0;
	}
	if (*at & CS_ENF_CUT_OWN)
		*at &= ~CS_ENF_CUT_OWN; /* a race of two sends here can only miscount one of them */
	else
		cnt_add(CS_CNT_BLOCKED_AFTER, 1);
	return 1;
}

#endif /* CS_ENFORCE_BPF_H */
