// SPDX-License-Identifier: GPL-2.0-only
/*
 * The hook tax, for scripts/bench (loaded by scripts/bench/hooktax.c, not by `consentry run`): the
 * hooks each capture of the monitor attaches, with programs that do nothing. What a workload
 * loses with these attached is what the capture costs before it does any work.
 *
 *   sockets      sockops on the cgroup v2 root adding every established TCP socket to a
 *                sockhash, an empty sk_msg verdict on that sockhash, an empty cgroup_skb/egress
 *   tracepoints  empty sys_enter_* tracepoints of the sends the monitor's fallback watches
 *                (attaching any one puts every syscall of the host on the slow path)
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

#define TAX_AF_INET  2
#define TAX_AF_INET6 10
#define TAX_SK_PASS  1 /* enum sk_action SK_PASS */

/* Sockets whose sends run the verdict program; a socket leaves the map when it closes. */
struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, 65536);
	__type(key, __u64); /* socket cookie */
	__type(value, __u64);
} tax_socks SEC(".maps");

/*
 * cgroup sockops: an active or passive TCP connection is established: add its socket to the
 * sockhash, as the monitor's sockets capture does. Returns 1 (no effect on the connection).
 */
SEC("sockops")
int tax_sockops(struct bpf_sock_ops *skops)
{
	__u64 key;

	if (skops->op != BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB &&
	    skops->op != BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB)
		return 1;
	if (skops->family != TAX_AF_INET && skops->family != TAX_AF_INET6)
		return 1;
	key = bpf_get_socket_cookie(skops);
	bpf_sock_hash_update(skops, &tax_socks, &key, BPF_ANY);
	return 1;
}

/* sk_msg verdict on the sockhash, one run per sendmsg of a socket in it: SK_PASS, nothing else. */
SEC("sk_msg")
int tax_msg(struct sk_msg_md *msg)
{
	(void)msg;
	return TAX_SK_PASS;
}

/* cgroup_skb/egress, one run per packet leaving a socket of the host: 1 lets it go. */
SEC("cgroup_skb/egress")
int tax_egress(struct __sk_buff *skb)
{
	(void)skb;
	return 1;
}

/* Syscall tracepoints (return value ignored by the kernel). */
#define TAX_TP(name)                                                                               \
	SEC("tracepoint/syscalls/sys_enter_" #name)                                                \
	int tax_##name(void *ctx)                                                                  \
	{                                                                                          \
		(void)ctx;                                                                         \
		return 0;                                                                          \
	}

TAX_TP(write)
TAX_TP(writev)
TAX_TP(sendto)
TAX_TP(sendmsg)
TAX_TP(sendmmsg)
TAX_TP(sendfile64)
TAX_TP(splice)
