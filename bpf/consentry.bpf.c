// SPDX-License-Identifier: GPL-2.0-only
/*
 * consentry's BPF object. Plaintext sends are captured one of two ways (run --capture, the
 * loader loads one set): socket hooks (lib/sockhook.bpf.h: sockops + sk_msg for TCP, cgroup_skb
 * egress for UDP; every send path, sendfile and splice included), or, where those cannot load,
 * the syscall tracepoints below: what a process hands to a TCP/UDP socket with write, writev,
 * sendto, sendmsg, sendmmsg (send() is sendto() on x86_64), at syscall entry; sendfile/splice to
 * a socket are counted as uninspected bytes there. TLS library uprobes, exec notices and DNS
 * answers serve both. Every program observes only: it never changes what is sent.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_tracing.h>

#include "cs_abi.h"
#include "lib/maps.bpf.h"
#include "lib/sock.bpf.h"
#include "lib/scan.bpf.h"
#include "lib/exechold.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* --pid/--cgroup scope: in scope when either list matches (or neither is set). */
static __always_inline int in_scope(__u32 tgid)
{
	int i;

	if (tgid == cfg_self_tgid)
		return 0;
	if (!cfg_scope_pid && !cfg_scope_cgroup)
		return 1;
	if (cfg_scope_pid && bpf_map_lookup_elem(&scope_pids, &tgid))
		return 1;
	if (cfg_scope_cgroup) {
		for (i = 0; i < CS_MAX_CGROUP_LEVEL; i++) {
			__u64 id = bpf_get_current_ancestor_cgroup_id(i);

			if (!id)
				break;
			if (bpf_map_lookup_elem(&scope_cgroups, &id))
				return 1;
		}
	}
	return 0;
}

/* A send reached a capture hook: counted, and 1 when its process is in scope. */
static __always_inline int scope_pass(struct cs_counters *cnt)
{
	if (!cnt)
		return 0;
	cnt->c[CS_CNT_CALLS]++;
	if (!in_scope(bpf_get_current_pid_tgid() >> 32)) {
		cnt->c[CS_CNT_OUT_OF_SCOPE]++;
		return 0;
	}
	return 1;
}

/*
 * Common prologue: scope, fd -> egress socket, destination. With uaddr (sendto/sendmsg) an
 * explicit destination overrides the socket's. Resets the per-CPU send state. Returns 1 when
 * the send is to be scanned.
 */
__noinline int cs_egress_begin(__u32 fd, __u64 uaddr, __u32 alen)
{
	struct cs_counters *cnt = counters_get();
	struct cs_state *st;

	if (!scope_pass(cnt))
		return 0;
	/* the send state is reset only once this is known to be an egress send */
	st = state_get();
	if (!st)
		return 0;
	if (!fd_to_peer(fd, &st->peer)) {
		cnt->c[CS_CNT_NOT_SOCKET]++;
		return 0;
	}
	/* an explicit destination counts for UDP (and TCP Fast Open on an unconnected socket) */
	if (uaddr && (st->peer.proto == CS_IPPROTO_UDP || peer_is_unset(&st->peer)))
		peer_from_sockaddr(uaddr, alen, &st->peer);
	if (peer_is_unset(&st->peer)) {
		cnt->c[CS_CNT_NOT_SOCKET]++;
		return 0;
	}
	if (!cfg_include_loopback && peer_is_loopback(&st->peer)) {
		cnt->c[CS_CNT_LOOPBACK]++;
		return 0;
	}
	send_begin();
	return 1;
}

static __always_inline int tls_skip(__u64 ubuf, __u64 len)
{
	if (!starts_with_tls_record(ubuf, len))
		return 0;
	cnt_add(CS_CNT_TLS_SKIPPED, 1);
	return 1;
}

struct iov_walk {
	__u64 uiov;
	__u64 count;
};

static long iov_cb(__u32 i, void *data)
{
	struct iov_walk *w = data;
	struct iovec iov;

	if (i >= w->count)
		return 1;
	if (bpf_probe_read_user(&iov, sizeof(iov), (void *)(w->uiov + i * sizeof(iov))))
		return 1; /* the segments left are not in st->total: the syscall fails (EFAULT) */
	cs_scan_user((__u64)iov.iov_base, iov.iov_len);
	return 0;
}

/*
 * Scan the iovec array of writev/sendmsg, every segment (UIO_MAXIOV at most): the first
 * CS_MAX_IOV are remembered for a rescan or a hand-over (st->segs, lib/deep.bpf.h), later ones
 * are scanned but not handed over (counted).
 */
__noinline int cs_scan_iov(__u64 uiov, __u64 iovcnt, __u32 path)
{
	struct iov_walk w = {.uiov = uiov,
			     .count = iovcnt < CS_UIO_MAXIOV ? iovcnt : CS_UIO_MAXIOV};

	bpf_loop(w.count, iov_cb, &w, 0);
	cs_scan_done();
	cs_send_end(path);
	return 0;
}

/*
 * The segments of a sendmmsg message past CS_MAX_MMSG_IOV are not scanned: their bytes go into
 * the send's total, so they count as uninspected (for the flow too) like any bytes left out. A
 * function of its own: verified once, whichever segment the scan loop stopped at.
 */
__noinline int cs_iov_rest(__u64 uiov, __u64 n)
{
	struct cs_state *st = state_get();
	struct iovec iov;
	__u32 i;

	if (!st)
		return 0;
	for (i = 0; i < CS_UIO_MAXIOV - CS_MAX_MMSG_IOV; i++) {
		if (i >= n)
			break;
		if (bpf_probe_read_user(&iov, sizeof(iov), (void *)(uiov + i * sizeof(iov))))
			break; /* the syscall fails (EFAULT) */
		st->total += iov.iov_len;
	}
	return 0;
}

/*
 * The same for a message of sendmmsg, without the bpf_loop frame (that path is one call
 * deeper): CS_MAX_MMSG_IOV segments, the bytes of later ones counted as uninspected.
 */
__noinline int cs_scan_iov_mmsg(__u64 uiov, __u64 iovcnt, __u32 path)
{
	struct cs_state *st = state_get();
	struct iovec iov;
	__u32 i;

	if (!st)
		return 0;
	for (i = 0; i < CS_MAX_MMSG_IOV; i++) {
		if (i >= iovcnt)
			break;
		if (bpf_probe_read_user(&iov, sizeof(iov), (void *)(uiov + i * sizeof(iov))))
			break;
		cs_scan_user((__u64)iov.iov_base, iov.iov_len);
	}
	if (iovcnt > CS_MAX_MMSG_IOV) {
		cnt_add(CS_CNT_MSGS_UNINSPECTED, 1);
		cs_iov_rest(uiov + CS_MAX_MMSG_IOV * sizeof(iov), iovcnt - CS_MAX_MMSG_IOV);
	}
	cs_scan_done();
	cs_send_end(path);
	return 0;
}

/* One struct user_msghdr at umsg (a message of sendmmsg). */
__noinline int cs_msg(__u32 fd, __u64 umsg, __u32 path)
{
	struct user_msghdr mh;
	struct iovec iov;

	if (bpf_probe_read_user(&mh, sizeof(mh), (void *)umsg))
		return 0;
	if (!cs_egress_begin(fd, (__u64)mh.msg_name, mh.msg_namelen))
		return 0;
	/* writev/sendmsg test their first segment before the tail call; sendmmsg here */
	if (mh.msg_iovlen && !bpf_probe_read_user(&iov, sizeof(iov), mh.msg_iov) &&
	    tls_skip((__u64)iov.iov_base, iov.iov_len))
		return 0;
	cs_scan_iov_mmsg((__u64)mh.msg_iov, mh.msg_iovlen, path);
	return 0;
}

/*
 * The scanner runs in one program, reached by tail call from every entry program with the
 * request in the per-CPU state: its code is verified once (a scanner copy in each of five
 * programs took ~0.6-1.1 s of verification each) and the entry programs stay small.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} progs SEC(".maps");

static __always_inline void to_scan(void *ctx, struct cs_state *st, __u32 kind, __u64 a0, __u64 a1,
				    __u32 fd, __u32 path)
{
	st->req_kind = kind;
	st->req_a0 = a0;
	st->req_a1 = a1;
	st->req_fd = fd;
	st->req_path = path;
	bpf_tail_call(ctx, &progs, 0);
	/* only reached when the scan program is missing (never installed): nothing was scanned */
	cnt_add(CS_CNT_BYTES_UNINSPECTED, kind == CS_REQ_BUF ? a1 : 0);
	cnt_add(CS_CNT_READ_FAIL, 1);
}

/* Tail-call target: scans st->req (not attached to any hook by itself). */
SEC("tracepoint")
int tp_scan(void *ctx)
{
	struct cs_state *st = state_get();

	(void)ctx;
	if (!st)
		return 0;
	switch (st->req_kind) {
	case CS_REQ_BUF:
		cs_scan_user(st->req_a0, st->req_a1);
		cs_scan_done();
		cs_send_end(st->req_path);
		break;
	case CS_REQ_IOV:
		cs_scan_iov(st->req_a0, st->req_a1, st->req_path);
		break;
	case CS_REQ_MMSG: {
		/*
		 * Each message of sendmmsg is its own send: one finding per subject per message. A
		 * plain loop: a bpf_loop callback frame would pass the verifier's 8 frames on the
		 * deepest path (lib/token.bpf.h cs_token).
		 */
		__u32 i;

		/* st->req is read again after each call (cs_msg leaves it alone): fewer values
		 * live across calls keep this frame small (tail calls limit the combined stack) */
		for (i = 0; i < CS_MAX_MMSG; i++) {
			if (i >= st->req_a1)
				break;
			cs_msg(st->req_fd, st->req_a0 + i * sizeof(struct mmsghdr), CS_P_SENDMMSG);
		}
		if (st->req_a1 <= CS_MAX_MMSG)
			break;
		/* the next CS_MAX_MMSG messages in this program again; 32 tail calls after the
		 * entry program's cover UIO_MAXIOV */
		if (st->req_a1 > CS_UIO_MAXIOV)
			st->req_a1 = CS_UIO_MAXIOV;
		st->req_a0 += CS_MAX_MMSG * sizeof(struct mmsghdr);
		st->req_a1 -= CS_MAX_MMSG;
		bpf_tail_call(ctx, &progs, 0);
		/* the tail call limit: the rest is counted */
		cnt_add(CS_CNT_MSGS_UNINSPECTED, st->req_a1);
		break;
	}
	}
	return 0;
}

/*
 * A ciphertext send (its first bytes are a TLS record header) from a thread inside a probed TLS
 * write call: take that call's plaintext for this socket (st->peer), to be scanned instead.
 * Later writes on the same connection object are scanned by the uprobe at once (tls_conn).
 * Returns 0 when there is nothing to claim.
 */
static __always_inline int tls_take(struct cs_state *st, __u64 *buf, __u64 *len)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct cs_tls_key key = {};
	struct cs_tls_pending *p;

	if (!cfg_tls)
		return 0;
	p = bpf_map_lookup_elem(&tls_pending, &id);
	if (!p)
		return 0;
	*buf = p->buf;
	*len = p->len;
	st->channel = p->channel;
	key.tgid = id >> 32;
	key.conn = p->conn;
	bpf_map_delete_elem(&tls_pending, &id);
	cnt_add(CS_CNT_TLS_CLAIMED, 1);
	if (key.conn)
		bpf_map_update_elem(&tls_conn, &key, &st->peer, BPF_ANY);
	tls_flow_mark(st->peer.flow);
	st->pre.len = 0; /* the chunk holds ciphertext */
	st->kmem = 0;	 /* the plaintext is in the caller's memory */
	return 1;
}

/* tls_take, then scan the plaintext in tp_scan (the tail call does not return). */
static __always_inline int tls_claim(void *ctx, struct cs_state *st, __u32 path)
{
	__u64 buf, len;

	if (!tls_take(st, &buf, &len))
		return 0;
	to_scan(ctx, st, CS_REQ_BUF, buf, len, 0, path);
	return 1;
}

/*
 * A TLS record nobody claimed. Application data on a flow whose plaintext was never seen (a TLS
 * stack we do not probe, or --tls off) is counted as uninspected for that flow, so the summary
 * names the process and peer; handshake records, and records of flows whose plaintext is
 * scanned through the uprobes, are not.
 */
static __always_inline void tls_unclaimed(struct cs_state *st, __u64 buf, __u64 len, __u32 path)
{
	__u8 type = 0;

	cnt_add(CS_CNT_TLS_SKIPPED, 1);
	if (cs_preloaded(st, buf, 1))
		type = st->chunk[0];
	else if (bpf_probe_read_user(&type, 1, (void *)buf))
		return;
	if (type != 0x17 || bpf_map_lookup_elem(&tls_flows, &st->peer.flow))
		return;
	st->total = len;
	cs_send_end(path);
}

/* Egress send of one user buffer (write, sendto). */
static __always_inline int send_buf(void *ctx, __u64 buf, __u64 len, __u32 path)
{
	struct cs_state *st = state_get();

	if (!st)
		return 0;
	if (cs_preload(st, buf, len)) {
		cs_sni(buf, len);
		if (!tls_claim(ctx, st, path))
			tls_unclaimed(st, buf, len, path);
		return 0;
	}
	to_scan(ctx, st, CS_REQ_BUF, buf, len, 0, path);
	return 0;
}

/* Egress send of an iovec array (writev, sendmsg): the TLS test looks at the first segment. */
static __always_inline int send_iov(void *ctx, __u64 uiov, __u64 iovcnt, __u32 path)
{
	struct cs_state *st = state_get();
	struct iovec iov;

	if (!st)
		return 0;
	if (iovcnt && !bpf_probe_read_user(&iov, sizeof(iov), (void *)uiov) && iov.iov_len &&
	    cs_preload(st, (__u64)iov.iov_base, iov.iov_len)) {
		cs_sni((__u64)iov.iov_base, iov.iov_len);
		if (!tls_claim(ctx, st, path))
			tls_unclaimed(st, (__u64)iov.iov_base, iov.iov_len, path);
		return 0;
	}
	to_scan(ctx, st, CS_REQ_IOV, uiov, iovcnt, 0, path);
	return 0;
}

#include "lib/sockhook.bpf.h"

SEC("tracepoint/syscalls/sys_enter_write")
int tp_write(struct trace_event_raw_sys_enter *ctx)
{
	__u64 buf = ctx->args[1], len = ctx->args[2];

	if (len && cs_egress_begin(ctx->args[0], 0, 0))
		send_buf(ctx, buf, len, CS_P_WRITE);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_sendto")
int tp_sendto(struct trace_event_raw_sys_enter *ctx)
{
	__u64 buf = ctx->args[1], len = ctx->args[2];

	if (len && cs_egress_begin(ctx->args[0], ctx->args[4], ctx->args[5]))
		send_buf(ctx, buf, len, CS_P_SENDTO);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_writev")
int tp_writev(struct trace_event_raw_sys_enter *ctx)
{
	if (cs_egress_begin(ctx->args[0], 0, 0))
		send_iov(ctx, ctx->args[1], ctx->args[2], CS_P_WRITEV);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_sendmsg")
int tp_sendmsg(struct trace_event_raw_sys_enter *ctx)
{
	struct user_msghdr mh;

	if (bpf_probe_read_user(&mh, sizeof(mh), (void *)ctx->args[1]))
		return 0;
	if (cs_egress_begin(ctx->args[0], (__u64)mh.msg_name, mh.msg_namelen))
		send_iov(ctx, (__u64)mh.msg_iov, mh.msg_iovlen, CS_P_SENDMSG);
	return 0;
}

/* Exec notices for the collector (struct cs_exec), to probe new TLS executables. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} execs SEC(".maps");

/*
 * sched/sched_process_exec: the current task has just exec'd a file, and runs none of its
 * instructions before returning from execve. A file the collector examined already (exec_known:
 * one lookup, the common case) is left alone. Otherwise the collector gets a notice to examine
 * it and, with --exec-hold, the task is stopped until the collector has attached the file's TLS
 * uprobes, so even its first TLS write is seen (lib/exechold.bpf.h). A notice that finds the
 * ring buffer full is counted and nothing is held. Returns 0 (ignored by the kernel).
 */
SEC("tracepoint/sched/sched_process_exec")
int tp_exec(void *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct cs_exe_key key = {};
	struct cs_exec *n;

	(void)ctx;
	if (!cfg_tls)
		return 0;
	exe_key(task, &key);
	if (key.ino && bpf_map_lookup_elem(&exec_known, &key))
		return 0;
	n = bpf_ringbuf_reserve(&execs, sizeof(*n), 0);
	if (!n) {
		cnt_add(CS_CNT_EXEC_DROPS, 1);
		return 0;
	}
	n->ts_ns = bpf_ktime_get_ns();
	n->start_ns = task->start_boottime;
	n->key = key;
	n->pid = tgid;
	n->flags = 0;
	if (cfg_exec_hold != CS_HOLD_OFF && in_scope(tgid) && exec_hold(task, n))
		n->flags = CS_EXEC_HELD;
	cnt_add(CS_CNT_EXEC_NOTICES, 1);
	bpf_ringbuf_submit(n, 0);
	return 0;
}

/* DNS responses for the collector's IP -> name cache (host selectors of recipients.csv). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} dns SEC(".maps");

/*
 * cgroup_skb/ingress on the cgroup v2 root: copy the payload of UDP packets from port 53 (DNS
 * answers to any process of the host) to the collector. Returns 1: every packet is allowed.
 */
SEC("cgroup_skb/ingress")
int skb_dns(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	__u32 off, plen;
	struct cs_dns *d;
	__u16 sport;
	__u8 proto;

	/*
	 * Fast exit for everything but UDP, read straight from the linear header (no helper
	 * call): this program runs for every packet the host receives.
	 */
	if (skb->family == CS_AF_INET && data + 20 <= data_end &&
	    ((__u8 *)data)[9] != CS_IPPROTO_UDP)
		return 1;
	if (skb->family == CS_AF_INET6 && data + 40 <= data_end &&
	    ((__u8 *)data)[6] != CS_IPPROTO_UDP)
		return 1;
	if (skb->family == CS_AF_INET) {
		__u8 vihl;

		if (bpf_skb_load_bytes(skb, 0, &vihl, 1) || bpf_skb_load_bytes(skb, 9, &proto, 1))
			return 1;
		off = (vihl & 0xf) * 4;
	} else if (skb->family == CS_AF_INET6) {
		/* extension headers are not followed: DNS answers do not carry them */
		if (bpf_skb_load_bytes(skb, 6, &proto, 1))
			return 1;
		off = 40;
	} else {
		return 1;
	}
	if (proto != CS_IPPROTO_UDP || bpf_skb_load_bytes(skb, off, &sport, 2) ||
	    sport != bpf_htons(53) || skb->len < off + 8 + 12)
		return 1;
	off += 8;
	plen = skb->len - off;
	if (plen > CS_DNS_MAX)
		plen = CS_DNS_MAX;
	d = bpf_ringbuf_reserve(&dns, sizeof(*d), 0);
	if (!d) {
		cnt_add(CS_CNT_DNS_DROPS, 1);
		return 1;
	}
	/* the verifier-friendly clamp to [1, CS_DNS_MAX] */
	plen = ((plen - 1) & (CS_DNS_MAX - 1)) + 1;
	if (bpf_skb_load_bytes(skb, off, d->data, plen)) {
		bpf_ringbuf_discard(d, 0);
		return 1;
	}
	d->len = plen;
	bpf_ringbuf_submit(d, 0);
	cnt_add(CS_CNT_DNS_ANSWERS, 1);
	return 1;
}

/* Tail-call target of the uprobes: scans the plaintext of a write whose socket is known. */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} up_progs SEC(".maps");

SEC("uprobe")
int up_scan(struct pt_regs *ctx)
{
	struct cs_state *st = state_get();

	(void)ctx;
	if (!st)
		return 0;
	cs_scan_user(st->req_a0, st->req_a1);
	cs_scan_done();
	cs_send_end(st->req_path);
	return 0;
}

/*
 * TLS library write entry points (uprobes, attached by user/monitor/tls.c to each library or
 * executable that has them). A write on a connection object whose socket is known is scanned
 * at once (tail call to up_scan); otherwise (buffer, length) waits for this thread's ciphertext
 * send to claim it. Return values are ignored by the kernel.
 */
static __always_inline int tls_record(void *ctx, __u64 conn, __u64 buf, __s64 len, __u32 channel)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct cs_tls_pending p = {.buf = buf, .len = len, .conn = conn, .channel = channel};
	struct cs_tls_key key = {.tgid = id >> 32, .conn = conn};
	struct cs_peer *peer;
	struct cs_state *st;

	if (len <= 0 || !buf || !in_scope(id >> 32))
		return 0;
	cnt_add(CS_CNT_TLS_WRITES, 1);
	peer = conn ? bpf_map_lookup_elem(&tls_conn, &key) : NULL;
	if (peer) {
		st = send_begin();
		if (st) {
			__builtin_memcpy(&st->peer, peer, sizeof(st->peer));
			tls_flow_mark(st->peer.flow);
			st->channel = channel;
			if (cfg_block)
				st->enf |= CS_ENFS_MARK;
			st->req_a0 = buf;
			st->req_a1 = len;
			st->req_path = 0;
			cnt_add(CS_CNT_TLS_CACHED, 1);
			bpf_tail_call(ctx, &up_progs, 0);
		}
		/* no scan program: fall back to the claim by the ciphertext send */
	}
	p.ts_ns = bpf_ktime_get_ns();
	/* an older unclaimed write of this thread never reached a socket we scan */
	if (bpf_map_lookup_elem(&tls_pending, &id))
		cnt_add(CS_CNT_TLS_LOST, 1);
	bpf_map_update_elem(&tls_pending, &id, &p, BPF_ANY);
	return 0;
}

/* The library freed a connection object: forget its socket (the address may be reused). */
static __always_inline int tls_forget(__u64 conn)
{
	struct cs_tls_key key = {.tgid = bpf_get_current_pid_tgid() >> 32, .conn = conn};

	if (conn)
		bpf_map_delete_elem(&tls_conn, &key);
	return 0;
}

/* SSL_free(SSL *), gnutls_deinit(session), PR_Close(PRFileDesc *) */
SEC("uprobe")
int BPF_KPROBE(up_tls_free, void *conn)
{
	return tls_forget((__u64)conn);
}

/* Go crypto/tls.(*Conn).Close: receiver in RAX (arm64: R0) */
SEC("uprobe")
int up_go_tls_close(struct pt_regs *ctx)
{
#if defined(__TARGET_ARCH_x86)
	return tls_forget(ctx->ax);
#elif defined(__TARGET_ARCH_arm64)
	return tls_forget(ctx->regs[0]);
#else
	return 0;
#endif
}

/* OpenSSL/BoringSSL SSL_write(SSL *, const void *buf, int num) */
SEC("uprobe")
int BPF_KPROBE(up_ssl_write, void *ssl, const void *buf, int num)
{
	return tls_record(ctx, (__u64)ssl, (__u64)buf, num, CS_CH_OPENSSL);
}

/* OpenSSL SSL_write_ex(SSL *, const void *buf, size_t num, size_t *written) */
SEC("uprobe")
int BPF_KPROBE(up_ssl_write_ex, void *ssl, const void *buf, size_t num)
{
	return tls_record(ctx, (__u64)ssl, (__u64)buf, (__s64)num, CS_CH_OPENSSL);
}

/* GnuTLS gnutls_record_send(gnutls_session_t, const void *data, size_t size) */
SEC("uprobe")
int BPF_KPROBE(up_gnutls_send, void *session, const void *data, size_t size)
{
	return tls_record(ctx, (__u64)session, (__u64)data, (__s64)size, CS_CH_GNUTLS);
}

/* NSPR PR_Write(PRFileDesc *, const void *buf, PRInt32 amount) and PR_Send(fd, buf, amount, ...) */
SEC("uprobe")
int BPF_KPROBE(up_nss_write, void *fd, const void *buf, int amount)
{
	return tls_record(ctx, (__u64)fd, (__u64)buf, amount, CS_CH_NSS);
}

/*
 * Go crypto/tls.(*Conn).Write(b []byte) with the register ABI (Go >= 1.17, amd64): receiver in
 * RAX, the slice's pointer and length in RBX and RCX.
 */
SEC("uprobe")
int up_go_tls_write(struct pt_regs *ctx)
{
#if defined(__TARGET_ARCH_x86)
	return tls_record(ctx, ctx->ax, ctx->bx, (__s64)ctx->cx, CS_CH_GO_TLS);
#elif defined(__TARGET_ARCH_arm64)
	/* arm64 Go ABI: receiver in R0, slice pointer and length in R1, R2 */
	return tls_record(ctx, ctx->regs[0], ctx->regs[1], (__s64)ctx->regs[2], CS_CH_GO_TLS);
#else
	return 0;
#endif
}

SEC("tracepoint/syscalls/sys_enter_sendmmsg")
int tp_sendmmsg(struct trace_event_raw_sys_enter *ctx)
{
	struct cs_state *st = state_get();

	if (st && ctx->args[2])
		to_scan(ctx, st, CS_REQ_MMSG, ctx->args[1], ctx->args[2], ctx->args[0],
			CS_P_SENDMMSG);
	return 0;
}

/* sendfile/splice into a socket: bytes move kernel-side, never scanned; count them. */
static __always_inline void count_unscanned(__u32 fd, __u64 len)
{
	struct cs_state *st;

	if (!len || !cs_egress_begin(fd, 0, 0))
		return;
	st = state_get();
	if (!st)
		return;
	st->total = len;
	cnt_add(CS_CNT_SENDFILE_BYTES, len);
	cs_send_end(0);
}

SEC("tracepoint/syscalls/sys_enter_sendfile64")
int tp_sendfile(struct trace_event_raw_sys_enter *ctx)
{
	count_unscanned(ctx->args[0], ctx->args[3]);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_splice")
int tp_splice(struct trace_event_raw_sys_enter *ctx)
{
	count_unscanned(ctx->args[2], ctx->args[4]);
	return 0;
}
