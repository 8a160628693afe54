/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Socket-hook capture (run --capture sockets, the default): no syscall tracepoint, so nothing of
 * ours runs for a syscall that does not send to a watched socket.
 *
 * - TCP: a cgroup sockops program (on the cgroup v2 root) puts every established TCP socket with a
 *   non-loopback peer into the sockhash `socks`; the sk_msg verdict program attached to that map
 *   runs once per message the socket is handed (write, writev, send*, sendmmsg, sendfile, splice,
 *   io_uring sends), in the sender's context, before the bytes are queued, and scans them. The
 *   collector adds sockets established before it started (user/monitor/adopt.c).
 * - UDP: a cgroup_skb egress program scans each datagram; for a UDP send it runs inside the
 *   sender's sendmsg, so the current task is the sender.
 * - TLS: a ciphertext message claims the plaintext its thread's probed library write call holds
 *   (tls_take), as the syscall path does.
 * Every program returns "pass" (the monitor only observes), except under run --block, where
 * sk_send and the UDP egress path refuse what bpf/lib/enforce.bpf.h decides.
 */
#ifndef CS_SOCKHOOK_BPF_H
#define CS_SOCKHOOK_BPF_H

#define CS_SK_PASS  1 /* enum sk_action SK_PASS */
#define CS_SKB_PASS 1 /* cgroup_skb: let the packet go */
#define CS_SK_DROP  0 /* run --block: the sender's sendmsg fails (EACCES) */
#define CS_SKB_DROP 0

/* Sockets whose sends the sk_msg program sees; key: socket cookie. */
struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, CS_SOCKS_MAX);
	__type(key, __u64);
	__type(value, __u64);
} socks SEC(".maps");

/*
 * Ranges of a socket's bytes queued without a verdict behind a later verdicted message: a slow
 * receiver can hold several at once (each failed push under a full send buffer makes one).
 */
#define CS_HOLES 4

struct cs_hole {
	__u32 start, end;
};

/*
 * Per socket (socket-local storage: no lookup by key on the send path): its flow id and, for TCP,
 * which bytes a verdict saw. The kernel can queue a message without running the sk_msg program:
 * after a push that failed (a non-blocking socket with a full send buffer), the socket's next
 * message is sent under the stale verdict. Those bytes are caught by sequence number in the
 * egress hook (skb_send) and scanned there, attributed to the socket's last sender.
 */
struct cs_sk {
	__u64 flow;
	__u32 seen_end; /* TCP: sequence number after the last byte a verdict (or skb_send) saw */
	/* [start, end): queued without a verdict before seen_end, not yet sent */
	struct cs_hole hole[CS_HOLES];
	__u16 seq_set;	   /* seen_end is valid */
	__u16 refused;	   /* not under the sk_msg hook (sockhash full, or another program's) */
	struct cs_who who; /* the last sender */
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct cs_sk);
} sk_flow SEC(".maps");

/* Flow ids of the socket hooks: a counter, with the top bit set (never 0, never reused). */
__u64 sk_flow_seq;

/*
 * A UDP datagram's payload, copied out of the packet (it may be paged) for the scanner: one
 * slot per CPU, indexed by CPU (the loader sets max_entries to the number of CPUs): per-CPU
 * array values are capped at 32 KiB.
 */
struct cs_dgram {
	__u8 data[CS_DGRAM_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cs_dgram);
} dgram SEC(".maps");

static __always_inline struct cs_sk *sk_get(struct bpf_sock *sk)
{
	struct cs_sk *s =
	    sk ? bpf_sk_storage_get(&sk_flow, sk, NULL, BPF_SK_STORAGE_GET_F_CREATE) : NULL;

	if (s && !s->flow)
		s->flow = (1ULL << 63) | (__sync_fetch_and_add(&sk_flow_seq, 1) + 1);
	return s;
}

/* The current task as a sender. */
static __always_inline void who_current(struct cs_who *w)
{
	__u64 id = bpf_get_current_pid_tgid();

	w->pid = id >> 32;
	w->tid = (__u32)id;
	id = bpf_get_current_uid_gid();
	w->uid = (__u32)id;
	w->gid = id >> 32;
	w->cgroup = bpf_get_current_cgroup_id();
	bpf_get_current_comm(w->comm, sizeof(w->comm));
}

/* Sequence numbers compare modulo 2^32. */
static __always_inline int seq_before(__u32 a, __u32 b)
{
	return (__s32)(a - b) < 0;
}

/*
 * A verdict on a TCP message of size bytes: it starts at the socket's write_seq (everything
 * before it is queued). Bytes between the last seen byte and this message were queued without
 * a verdict: kept as a hole for skb_send (with CS_HOLES open already, counted and dropped).
 */
static __always_inline void sk_seq_verdict(struct cs_sk *s, struct bpf_sock *sk, __u32 size)
{
	struct tcp_sock *tp = sk ? bpf_skc_to_tcp_sock(sk) : NULL;
	__u32 start;
	__u64 id;

	if (!tp)
		return;
	start = tp->write_seq;
	if (s->seq_set && seq_before(s->seen_end, start)) {
		int i, put = 0;

		for (i = 0; i < CS_HOLES; i++) {
			if (s->hole[i].start == s->hole[i].end) {
				s->hole[i].start = s->seen_end;
				s->hole[i].end = start;
				put = 1;
				break;
			}
		}
		if (!put)
			cnt_add(CS_CNT_UNVERDICT_LOST, start - s->seen_end);
	}
	s->seen_end = start + size;
	s->seq_set = 1;
	/* the sender is taken again only when another thread sends (4 helper calls, ~60 ns) */
	id = bpf_get_current_pid_tgid();
	if (s->who.tid != (__u32)id || s->who.pid != id >> 32)
		who_current(&s->who);
}

/* The peer from an address in network order (v6: 4 words), port in host order. */
static __always_inline void sk_set_peer(struct cs_peer *p, int v6, __u32 ip4, const __u32 *ip6,
					__u16 dport, __u8 proto)
{
	__builtin_memset(p->daddr, 0, sizeof(p->daddr));
	if (v6) {
		__builtin_memcpy(p->daddr, ip6, 16);
	} else {
		*(__u32 *)p->daddr = ip4;
	}
	p->v6 = v6;
	p->dport = dport;
	p->proto = proto;
}

/*
 * Scope, loopback and the send state, once the peer is in st->peer: 1 when the send is to be
 * scanned (the bytes are kernel memory).
 */
static __always_inline int sk_begin(struct cs_state *st, __u32 channel)
{
	struct cs_counters *cnt = counters_get();

	if (!scope_pass(cnt))
		return 0;
	if (!cfg_include_loopback && peer_is_loopback(&st->peer)) {
		cnt->c[CS_CNT_LOOPBACK]++;
		return 0;
	}
	send_begin(); /* leaves the peer alone */
	st->kmem = 1;
	st->channel = channel;
	if (cfg_block)
		st->enf |= CS_ENFS_CAN;
	return 1;
}

/*
 * A packet pointer as a number the scanner's functions take: stored into the map value and
 * read back (the verifier types what a map value holds as a number; a pointer passed as an
 * argument would be refused).
 */
static __always_inline __u64 sk_addr(struct cs_state *st, const void *p)
{
	st->req_a0 = (__u64)(long)p;
	return *(volatile __u64 *)&st->req_a0;
}

/* Scan kernel bytes [p, p + n) as one send and report it. */
static __always_inline void sk_scan(struct cs_state *st, __u64 p, __u32 n)
{
	cs_scan_user(p, n);
	cs_scan_done();
	cs_send_end(0);
}

/*
 * sk_msg verdict on `socks`: one run per message handed to a watched TCP socket. The first chunk
 * is made linear to test for a TLS record; a plaintext message is made linear whole
 * (bpf_msg_pull_data copies only when it spans the message's pages) and scanned; a TLS record
 * claims its thread's plaintext. A message that cannot be made linear is counted uninspected.
 */
SEC("sk_msg")
int sk_send(struct sk_msg_md *msg)
{
	struct cs_state *st = state_get();
	__u32 size = msg->size, n, ip6[4] = {}, rip4, rport, lport;
	struct cs_sk *s;
	__u64 buf, len;
	void *p, *end;
	int v6;

	if (!st || !size)
		return CS_SK_PASS;
	v6 = msg->family == CS_AF_INET6;
	if (v6) {
		ip6[0] = msg->remote_ip6[0];
		ip6[1] = msg->remote_ip6[1];
		ip6[2] = msg->remote_ip6[2];
		ip6[3] = msg->remote_ip6[3];
	}
	rip4 = msg->remote_ip4;
	rport = msg->remote_port;
	lport = msg->local_port;
	sk_set_peer(&st->peer, v6, rip4, ip6, bpf_ntohs(rport >> 16), CS_IPPROTO_TCP);
	s = sk_get(msg->sk);
	/* no memory for the storage: the 4-tuple's hash */
	st->peer.flow = s ? s->flow : ((__u64)rport << 32) ^ lport ^ rip4 ^ ip6[3];
	if (cfg_block && cs_enf_flow_blocked(st->peer.flow))
		return CS_SK_DROP;
	if (!sk_begin(st, CS_CH_SK_MSG))
		return CS_SK_PASS;
	if (s)
		sk_seq_verdict(s, msg->sk, size);
	n = size < CS_CHUNK ? size : CS_CHUNK;
	if (bpf_msg_pull_data(msg, 0, n, 0))
		goto unread;
	p = (void *)(long)msg->data;
	end = (void *)(long)msg->data_end;
	if (p + 5 <= end && cs_tls_header(p)) {
		buf = sk_addr(st, p);
		cs_preload(st, buf, n);
		cs_sni(buf, n);
		if (tls_take(st, &buf, &len))
			sk_scan(st, buf, len);
		else
			tls_unclaimed(st, buf, size, 0);
		return (st->enf & CS_ENFS_BLOCK) ? CS_SK_DROP : CS_SK_PASS;
	}
	if (size > n) {
		if (bpf_msg_pull_data(msg, 0, size, 0))
			goto unread;
		p = (void *)(long)msg->data;
		end = (void *)(long)msg->data_end;
	}
	if (p + size > end)
		goto unread;
	sk_scan(st, sk_addr(st, p), size);
	return (st->enf & CS_ENFS_BLOCK) ? CS_SK_DROP : CS_SK_PASS;
unread:
	/* no memory for a linear copy (or not the bytes we asked for): counted, per flow */
	cnt_add(CS_CNT_PULL_FAIL, 1);
	st->total = size;
	st->flags |= CS_EV_READ_FAIL;
	cs_send_end(0);
	return CS_SK_PASS;
}

static __always_inline int ip4_loopback(__u32 ip4)
{
	return (bpf_ntohl(ip4) >> 24) == 127;
}

/*
 * cgroup sockops: an active or passive TCP connection is established; a socket with a peer that
 * is not loopback (or any, with --include-loopback) goes into `socks`, so its sends are seen.
 * Sockets leave the map when they close. Returns 1 (no effect on the connection).
 */
SEC("sockops")
int sk_ops(struct bpf_sock_ops *skops)
{
	__u32 op = skops->op, family = skops->family;
	struct bpf_sock *sk;
	struct cs_sk *s;
	__u64 key;

	if (op != BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB && op != BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB)
		return 1;
	if (family != CS_AF_INET && family != CS_AF_INET6)
		return 1;
	if (!cfg_include_loopback) {
		if (family == CS_AF_INET && ip4_loopback(skops->remote_ip4))
			return 1;
		if (family == CS_AF_INET6) {
			__u32 w0 = skops->remote_ip6[0], w1 = skops->remote_ip6[1],
			      w2 = skops->remote_ip6[2], w3 = skops->remote_ip6[3];

			if (!w0 && !w1 &&
			    ((!w2 && w3 == bpf_htonl(1)) ||
			     (w2 == bpf_htonl(0xffff) && ip4_loopback(w3))))
				return 1;
		}
	}
	key = bpf_get_socket_cookie(skops);
	if (!bpf_sock_hash_update(skops, &socks, &key, BPF_NOEXIST)) {
		cnt_add(CS_CNT_SOCKS_ADDED, 1);
		return 1;
	}
	/*
	 * Refused: the map is full, or the socket is under another sk_msg program already (one
	 * per socket). Its bytes are counted uninspected at egress (skb_tcp), never silent.
	 */
	cnt_add(CS_CNT_SOCKS_FULL, 1);
	sk = skops->sk;
	s = sk ? bpf_sk_storage_get(&sk_flow, sk, NULL, BPF_SK_STORAGE_GET_F_CREATE) : NULL;
	if (s)
		s->refused = 1;
	return 1;
}

/*
 * Copy [off, off + len) of the packet into this CPU's slot; returns the bytes copied. A global
 * function: its loop is verified once, not on every path that reaches it.
 */
__noinline int skb_copy(struct __sk_buff *skb, __u32 off, __u32 len)
{
	__u32 i, got = 0, cpu = bpf_get_smp_processor_id();
	struct cs_dgram *d = bpf_map_lookup_elem(&dgram, &cpu);

	if (!skb || !d)
		return 0;
	/* CS_CHUNK at a time: bpf_skb_load_bytes wants a bounded length */
	for (i = 0; i < CS_DGRAM_MAX / CS_CHUNK; i++) {
		__u32 at = i * CS_CHUNK, n;

		if (at >= len)
			break;
		n = len - at < CS_CHUNK ? len - at : CS_CHUNK;
		n = ((n - 1) & (CS_CHUNK - 1)) + 1;
		if (bpf_skb_load_bytes(skb, off + at, d->data + at, n))
			break;
		got = at + n;
	}
	return got;
}

/* Scan [off, off + len) of the packet as one send (st set up); the rest is uninspected. */
static __always_inline void skb_scan(struct __sk_buff *skb, struct cs_state *st, __u32 off,
				     __u32 len)
{
	__u32 cpu = bpf_get_smp_processor_id(), got;
	struct cs_dgram *d = bpf_map_lookup_elem(&dgram, &cpu);

	if (!d)
		return;
	got = skb_copy(skb, off, len);
	st->total = len - got;
	if (got < len) {
		st->flags |= CS_EV_READ_FAIL;
		cnt_add(CS_CNT_READ_FAIL, 1);
	}
	sk_scan(st, sk_addr(st, d->data), got);
}

/*
 * A segment of a socket the sk_msg hook refused: its new bytes are counted uninspected for the
 * flow (the current task stands for the sender: usually the sender, in its sendmsg).
 */
static __always_inline void skb_refused(struct cs_state *st, struct cs_sk *s, __u32 seq, __u32 end,
					const __u8 *h)
{
	if (s->seq_set && !seq_before(s->seen_end, end))
		return; /* a retransmission */
	if (!s->flow)
		s->flow = (1ULL << 63) | (__sync_fetch_and_add(&sk_flow_seq, 1) + 1);
	s->seen_end = end;
	s->seq_set = 1;
	if (!in_scope(bpf_get_current_pid_tgid() >> 32))
		return;
	send_begin();
	st->peer.dport = (__u16)h[2] << 8 | h[3];
	st->peer.proto = CS_IPPROTO_TCP;
	st->peer.flow = s->flow;
	st->channel = CS_CH_SKB;
	st->total = end - seq;
	cs_send_end(0);
}

/*
 * A TCP segment of a socket under the sk_msg hook: the part of it no verdict saw (past seen_end,
 * or in the hole) is to be scanned here, as a send of the socket's last sender. Retransmissions
 * and verdicted bytes cost one storage lookup and two compares. Returns the bytes to scan (at
 * *off in the packet), st set up; 0 for none.
 */
static __always_inline __u32 skb_tcp(struct __sk_buff *skb, struct cs_state *st, __u32 *off)
{
	struct bpf_sock *sk = skb->sk;
	__u32 seq, end, from, to, hlen;
	struct cs_sk *s;
	__u8 h[14];

	sk = sk ? bpf_sk_fullsock(sk) : NULL;
	s = sk ? bpf_sk_storage_get(&sk_flow, sk, NULL, 0) : NULL;
	if (!s || !(s->seq_set || s->refused) || bpf_skb_load_bytes(skb, *off, h, sizeof(h)))
		return 0;
	hlen = *off + (h[12] >> 4) * 4;
	if (skb->len <= hlen)
		return 0;
	seq = (__u32)h[4] << 24 | (__u32)h[5] << 16 | (__u32)h[6] << 8 | h[7];
	end = seq + (skb->len - hlen);
	if (s->refused) {
		skb_refused(st, s, seq, end, h);
		return 0;
	}
	if (seq_before(s->seen_end, end)) {
		from = seq_before(seq, s->seen_end) ? s->seen_end : seq;
		to = end;
		s->seen_end = end;
	} else {
		struct cs_hole *h = NULL;
		int i;

		/* the first open hole the segment reaches into (segments go out in order) */
		for (i = 0; i < CS_HOLES; i++) {
			if (s->hole[i].start != s->hole[i].end && seq_before(seq, s->hole[i].end) &&
			    seq_before(s->hole[i].start, end)) {
				h = &s->hole[i];
				break;
			}
		}
		if (!h)
			return 0;
		from = seq_before(seq, h->start) ? h->start : seq;
		to = seq_before(end, h->end) ? end : h->end;
		/* segments go out in order: the hole closes from its start (a retransmission from
		 * inside it is scanned again, never lost) */
		if (from == h->start)
			h->start = to;
	}
	/* a flow whose TLS plaintext the uprobes inspect: its ciphertext is not scanned */
	if (bpf_map_lookup_elem(&tls_flows, &s->flow))
		return 0;
	send_begin();
	cnt_add(CS_CNT_UNVERDICT_BYTES, to - from);
	st->peer.dport = (__u16)h[2] << 8 | h[3];
	st->peer.proto = CS_IPPROTO_TCP;
	st->peer.flow = s->flow;
	__builtin_memcpy(&st->who, &s->who, sizeof(st->who));
	st->who_set = 1;
	st->kmem = 1;
	st->channel = CS_CH_SKB;
	*off = hlen + (from - seq);
	return to - from;
}

/* A UDP datagram: scope and loopback as for sk_msg. Returns the payload's length (at *off). */
static __always_inline __u32 skb_udp(struct __sk_buff *skb, struct cs_state *st, __u32 *off)
{
	struct bpf_sock *sk = skb->sk;
	struct cs_sk *s;
	__u8 b[2];

	if (bpf_skb_load_bytes(skb, *off + 2, b, 2) || skb->len <= *off + 8)
		return 0;
	st->peer.dport = (__u16)b[0] << 8 | b[1];
	st->peer.proto = CS_IPPROTO_UDP;
	sk = sk ? bpf_sk_fullsock(sk) : NULL;
	s = sk_get(sk);
	st->peer.flow = s ? s->flow : ((__u64)st->peer.dport << 32) ^ *(__u64 *)st->peer.daddr;
	if (!sk_begin(st, CS_CH_SKB))
		return 0;
	*off += 8;
	return skb->len - *off;
}

/*
 * cgroup_skb egress on the cgroup v2 root: every packet the host sends passes here. UDP
 * datagrams (not loopback, unless --include-loopback) are copied out and scanned; for a UDP send
 * this runs in the sender's sendmsg, so the current task is the sender. TCP segments are looked
 * at only for bytes the sk_msg program did not see (skb_tcp). IPv6 packets behind extension
 * headers are not parsed. Returns 1: every packet goes.
 */
SEC("cgroup_skb/egress")
int skb_send(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	struct cs_state *st;
	__u32 off, len;
	__u8 proto;

	/* the fast exit for everything but TCP and UDP, from the linear header (no helper call) */
	if (skb->family == CS_AF_INET) {
		if (data + 20 > data_end)
			return CS_SKB_PASS;
		proto = ((__u8 *)data)[9];
		off = (((__u8 *)data)[0] & 0xf) * 4;
	} else if (skb->family == CS_AF_INET6) {
		if (data + 40 > data_end)
			return CS_SKB_PASS;
		proto = ((__u8 *)data)[6];
		off = 40;
	} else {
		return CS_SKB_PASS;
	}
	if (proto != CS_IPPROTO_TCP && proto != CS_IPPROTO_UDP)
		return CS_SKB_PASS;
	st = state_get();
	if (!st)
		return CS_SKB_PASS;
	__builtin_memset(st->peer.daddr, 0, sizeof(st->peer.daddr));
	st->peer.v6 = skb->family == CS_AF_INET6;
	if (st->peer.v6 && data + 40 <= data_end)
		__builtin_memcpy(st->peer.daddr, data + 24, 16);
	else if (data + 20 <= data_end)
		*(__u32 *)st->peer.daddr = *(__u32 *)(data + 16);
	len = proto == CS_IPPROTO_TCP ? skb_tcp(skb, st, &off) : skb_udp(skb, st, &off);
	if (len) {
		skb_scan(skb, st, off, len);
		/* a UDP datagram (skb_tcp's bytes are never refusable: CS_ENFS_CAN unset) */
		if (st->enf & CS_ENFS_BLOCK)
			return CS_SKB_DROP;
	}
	return CS_SKB_PASS;
}

#endif
