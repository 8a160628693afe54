// SPDX-License-Identifier: GPL-2.0-only
/*
 * Issue 5 prototype, not loaded by `consentry run`: scan TCP payloads in an sk_msg verdict
 * program instead of at syscall entry, to measure the two paths side by side
 * (scripts/skmsg-compare, README "sk_msg versus syscall tracepoints").
 *
 * A cgroup sockops program puts every established TCP socket of the cgroup into a sockhash; the
 * sk_msg verdict program attached to that sockhash runs once per sendmsg (write, writev, send,
 * sendmsg, each message of sendmmsg, sendfile/splice) in the sender's context, sees the whole
 * message, and runs the shared scanner core (include/cs_scan.h) over it: the same tokeniser,
 * prefilter bitmap and tag table as bpf/lib/scan.bpf.h, without the event/carry/host logic.
 * Shared: include/ and the matching stage bpf/lib/match.bpf.h (bpf/lib/maps.bpf.h would bring
 * the monitor's ring buffers and state).
 *
 * Also here: empty sys_enter_write/sendto tracepoint programs (the fixed cost of any syscall
 * tracepoint) and an empty sk_msg verdict (the cost of the sk_msg send path itself).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "cs_abi.h"
#include "lib/match.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define SKM_AF_INET  2
#define SKM_AF_INET6 10
#define SK_PASS_RC   1 /* enum sk_action SK_PASS */

/* Set by the loader before load (rodata); same meaning as in bpf/lib/maps.bpf.h. */
/* the prototype scans a prefix of each message (the monitor scans whole sends) */
const volatile __u32 cfg_scan_limit = 16 * 1024;
const volatile __u8 cfg_record_last = 0; /* coverage checks: keep the last sender's identity */

/* Counters (per-CPU array, one __u64 per index), read by the loader. */
enum skm_counter {
	SKM_MSGS,	/* sk_msg verdict runs (scan program) */
	SKM_BYTES,	/* msg->size summed */
	SKM_SCANNED,	/* bytes run through the scanner */
	SKM_TOKENS,	/* tokens that passed the length window and the prefilter */
	SKM_HITS,	/* tag-table hits */
	SKM_PULL_FAIL,	/* bpf_msg_pull_data refused: message not scanned */
	SKM_READ_FAIL,	/* bpf_probe_read_kernel of pulled data failed */
	SKM_TLS,	/* messages starting with a TLS record header (ciphertext) */
	SKM_ADDED,	/* sockets the sockops program added to the sockhash */
	SKM_EMPTY_MSGS, /* runs of the empty verdict program */
	SKM_SK_STORAGE, /* messages whose socket-local storage could be had */
	SKM_CNT_MAX,
};

struct skm_counters {
	__u64 c[SKM_CNT_MAX];
};

/* Last message seen (only with cfg_record_last): proves the sender's context is available. */
struct skm_last {
	__u64 pid_tgid;
	__u64 uid_gid;
	__u64 cgroup_id;
	__u32 family;
	__u32 remote_ip4; /* network byte order */
	__u32 remote_ip6[4];
	__u32 remote_port; /* network byte order, in the high 16 bits (as the kernel fills it) */
	__u32 size;
	__u64 cookie; /* the socket's cookie, from its local storage (0: none stored) */
};

/* Per-CPU scratch: tokeniser state and the chunk being scanned (as struct cs_state does). */
struct skm_state {
	struct cs_scan scan;
	__u8 chunk[CS_CHUNK];
};

/*
 * Per-socket flow record (socket-local storage): where the monitor's per-flow state (carried
 * tokens, Host, flow id) would live. sk_msg may not call bpf_get_socket_cookie, so the sockops
 * program (or the loader, for adopted sockets) stores the cookie here for it.
 */
struct skm_flow {
	__u64 cookie;
	__u64 bytes;
	__u64 msgs;
};

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, 65536);
	__type(key, __u64); /* socket cookie */
	__type(value, __u64);
} socks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct skm_state);
} skm_state SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct skm_counters);
} skm_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct skm_last);
} skm_last SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct skm_flow);
} skm_flows SEC(".maps");

static __always_inline struct skm_state *state_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&skm_state, &zero);
}

static __always_inline void cnt_add(enum skm_counter i, __u64 v)
{
	__u32 zero = 0;
	struct skm_counters *c = bpf_map_lookup_elem(&skm_counters, &zero);

	if (c && i < SKM_CNT_MAX)
		c->c[i] += v;
}

__noinline int skm_token(__u64 acc, __u32 len);

/* The length window and prefilter test of bpf/lib/match.bpf.h, then the tag table. */
#define CS_ON_TOKEN(ctx, acc, len, start, end) CS_PRE_PASS(acc, len, skm_token(acc, len))
#include "cs_scan.h"

/* A candidate token: SipHash and the two buckets, as cs_token in bpf/lib/scan.bpf.h (match.bpf.h).
 */
__noinline int skm_token(__u64 acc, __u32 len)
{
	struct cs_key k;
	__u64 fp;

	cs_key_get(&k);
	cnt_add(SKM_TOKENS, 1);
	fp = cs_fp(&k, acc, len);
	if (cs_tag_lookup(fp)) {
		cnt_add(SKM_HITS, 1);
		return 1;
	}
	return 0;
}

/* The tokeniser over chunk[off..off+n), n <= CS_STEP: a global function, verified once. */
__noinline int skm_step(__u32 off, __u32 n, __u32 pos)
{
	struct skm_state *st = state_get();
	struct cs_key k;

	if (!st)
		return 0;
	cs_key_get(&k);
	off &= CS_CHUNK - CS_STEP;
	cs_scan_step(&st->scan, &k, st->chunk + off, n, pos + off, NULL);
	return 0;
}

__noinline int skm_flush(void)
{
	struct skm_state *st = state_get();
	struct cs_key k;

	if (!st)
		return 0;
	cs_key_get(&k);
	cs_scan_flush(&st->scan, &k, NULL);
	return 0;
}

struct chunk_ctx {
	__u64 base; /* kernel address of the pulled message bytes */
	__u32 len;
	__u32 off;
};

static long chunk_cb(__u32 i, void *data)
{
	struct chunk_ctx *c = data;
	struct skm_state *st = state_get();
	__u32 n, pos;

	if (!st || c->off >= c->len)
		return 1;
	n = cs_chunk_len(c->len, c->off);
	/* the bytes are kernel memory (sk_msg pages): a copy, not a user read that can fault */
	if (bpf_probe_read_kernel(st->chunk, n, (void *)(c->base + c->off))) {
		cnt_add(SKM_READ_FAIL, 1);
		return 1;
	}
	pos = st->scan.pos;
	for (i = 0; i < CS_CHUNK / CS_STEP; i++) {
		__u32 off = i * CS_STEP;

		if (off >= n)
			break;
		skm_step(off, n - off < CS_STEP ? n - off : CS_STEP, pos);
	}
	st->scan.pos = pos + n;
	c->off += n;
	return c->off >= c->len;
}

/* Who sent the last message, and where (coverage checks); never its bytes. */
static __always_inline void record_last(struct sk_msg_md *msg, const struct skm_flow *fl)
{
	__u32 zero = 0;
	struct skm_last *l = bpf_map_lookup_elem(&skm_last, &zero);

	if (!l)
		return;
	l->pid_tgid = bpf_get_current_pid_tgid();
	l->uid_gid = bpf_get_current_uid_gid();
	l->cgroup_id = bpf_get_current_cgroup_id();
	l->family = msg->family;
	l->remote_ip4 = msg->remote_ip4;
	l->remote_ip6[0] = msg->remote_ip6[0];
	l->remote_ip6[1] = msg->remote_ip6[1];
	l->remote_ip6[2] = msg->remote_ip6[2];
	l->remote_ip6[3] = msg->remote_ip6[3];
	l->remote_port = msg->remote_port;
	l->size = msg->size;
	l->cookie = fl ? fl->cookie : 0;
}

/*
 * sk_msg verdict on the sockhash: one run per sendmsg of a TCP socket in the map, before the
 * bytes are queued. Makes the first cfg_scan_limit bytes linear (bpf_msg_pull_data copies only
 * when they span pages), copies them in CS_CHUNK pieces and scans them. Returns SK_PASS always:
 * the prototype only observes.
 */
SEC("sk_msg")
int skm_scan(struct sk_msg_md *msg)
{
	struct chunk_ctx c = {};
	struct skm_state *st = state_get();
	struct skm_flow *fl;
	__u32 size = msg->size, n;
	__u8 *p, *end;

	if (!st)
		return SK_PASS_RC;
	cnt_add(SKM_MSGS, 1);
	cnt_add(SKM_BYTES, size);
	/* per-flow state without a map lookup by key: socket-local storage */
	fl = msg->sk ? bpf_sk_storage_get(&skm_flows, msg->sk, NULL, BPF_SK_STORAGE_GET_F_CREATE)
		     : NULL;
	if (fl) {
		fl->bytes += size;
		fl->msgs++;
		cnt_add(SKM_SK_STORAGE, 1);
	}
	n = size < cfg_scan_limit ? size : cfg_scan_limit;
	if (!n)
		return SK_PASS_RC;
	if (bpf_msg_pull_data(msg, 0, n, 0)) {
		cnt_add(SKM_PULL_FAIL, 1);
		return SK_PASS_RC;
	}
	p = msg->data;
	end = msg->data_end;
	if (p + 5 <= end && p[0] >= 0x14 && p[0] <= 0x17 && p[1] == 3 && p[2] <= 4)
		cnt_add(SKM_TLS, 1);
	if (cfg_record_last)
		record_last(msg, fl);
	if (p + n > end) { /* the pull made [0, n) linear: not expected */
		cnt_add(SKM_PULL_FAIL, 1);
		return SK_PASS_RC;
	}
	cs_scan_reset(&st->scan);
	c.base = (__u64)(long)p;
	c.len = n;
	bpf_loop((n + CS_CHUNK - 1) / CS_CHUNK, chunk_cb, &c, 0);
	skm_flush();
	cnt_add(SKM_SCANNED, c.off);
	return SK_PASS_RC;
}

/* sk_msg verdict that does nothing: what the sk_msg send path costs by itself. */
SEC("sk_msg")
int skm_empty(struct sk_msg_md *msg)
{
	(void)msg;
	cnt_add(SKM_EMPTY_MSGS, 1);
	return SK_PASS_RC;
}

/*
 * cgroup sockops: an active or passive TCP connection of the cgroup is established: add its
 * socket to the sockhash (key: socket cookie), so the verdict program sees its sends. Sockets
 * leave the map when they close. Returns 1 (no effect on the connection).
 */
SEC("sockops")
int skm_sockops(struct bpf_sock_ops *skops)
{
	struct skm_flow *fl;
	struct bpf_sock *sk;
	__u64 key;

	if (skops->op != BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB &&
	    skops->op != BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB)
		return 1;
	if (skops->family != SKM_AF_INET && skops->family != SKM_AF_INET6)
		return 1;
	key = bpf_get_socket_cookie(skops);
	/* one load of skops->sk: the verifier tracks the NULL test on that register only */
	sk = skops->sk;
	if (sk) {
		fl = bpf_sk_storage_get(&skm_flows, sk, NULL, BPF_SK_STORAGE_GET_F_CREATE);
		if (fl)
			fl->cookie = key;
	}
	if (!bpf_sock_hash_update(skops, &socks, &key, BPF_ANY))
		cnt_add(SKM_ADDED, 1);
	return 1;
}

/* Empty syscall tracepoints: attaching one puts every syscall of the host on the slow path. */
SEC("tracepoint/syscalls/sys_enter_write")
int skm_tp_write(void *ctx)
{
	(void)ctx;
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_sendto")
int skm_tp_sendto(void *ctx)
{
	(void)ctx;
	return 0;
}
