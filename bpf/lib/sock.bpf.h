/* SPDX-License-Identifier: GPL-2.0-only */
/* fd -> socket -> peer, and sockaddr parsing, for the syscall send paths. */
#ifndef CS_SOCK_BPF_H
#define CS_SOCK_BPF_H

#include "lib/maps.bpf.h"

#define CS_AF_INET     2
#define CS_AF_INET6    10
#define CS_S_IFMT      00170000
#define CS_S_IFSOCK    0140000
#define CS_IPPROTO_TCP 6
#define CS_IPPROTO_UDP 17

/*
 * Typed view of a kernel pointer we only hold as a number (read-only, faults are caught). A kfunc
 * of kernel 6.2; the floor is 6.1, so it is weak: where the kernel lacks it libbpf leaves the
 * call unresolved and the loader clears cfg_rdonly_cast, which makes the call dead code the
 * verifier removes (6.1 accepts an unresolved kfunc call that is never reached), and
 * fd_to_peer reads through bpf_probe_read_kernel instead.
 */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;
/* Set by the loader when the kernel has bpf_rdonly_cast (CONSENTRY_FORCE_FALLBACKS=1: never). */
const volatile __u8 cfg_rdonly_cast = 0;

static __always_inline int peer_is_loopback(const struct cs_peer *p)
{
	const __u32 *w = (const __u32 *)p->daddr;

	if (!p->v6)
		return p->daddr[0] == 127;
	/* ::1 */
	if (w[0] == 0 && w[1] == 0 && w[2] == 0 && w[3] == bpf_htonl(1))
		return 1;
	/* ::ffff:127.0.0.0/104 */
	return w[0] == 0 && w[1] == 0 && w[2] == bpf_htonl(0xffff) && p->daddr[12] == 127;
}

static __always_inline int peer_is_unset(const struct cs_peer *p)
{
	const __u32 *w = (const __u32 *)p->daddr;

	return (w[0] | w[1] | w[2] | w[3]) == 0 || p->dport == 0;
}

/*
 * Resolve fd of the current task to a TCP/UDP inet socket and fill st->peer from the socket's
 * connected peer. Walks task->files->fdt->fd[fd] through BTF pointers: typed loads only, the fd
 * slot (variable index) through a cast (docs/bench.md, "fd -> socket": the measurement).
 * Returns 1 for an inet TCP/UDP socket, 0 otherwise.
 */
/* What fd_to_peer needs of a socket file, read one way or the other. */
struct sock_view {
	__u64 ino;
	struct sock *sk;
	__u16 family, proto;
	__be16 dport;
	__be32 daddr;
};

/* Through bpf_rdonly_cast: typed loads (kernel >= 6.2). 1 when slot holds a socket file. */
static __always_inline int sock_view_cast(__u64 slot, __u64 *fp, struct sock_view *v)
{
	struct socket *sock;
	struct file *f;
	struct sock *sk;

	/* the slot read as the first 8 bytes of a stable kernel struct: a fault-safe typed load,
	 * not a helper call (~25 ns less on every write, socket or not) */
	*fp = ((struct timespec64 *)bpf_rdonly_cast((void *)slot,
						    bpf_core_type_id_kernel(struct timespec64)))
		  ->tv_sec;
	if (!*fp)
		return 0;
	f = bpf_rdonly_cast((void *)*fp, bpf_core_type_id_kernel(struct file));
	if ((f->f_inode->i_mode & CS_S_IFMT) != CS_S_IFSOCK)
		return 0;
	v->ino = f->f_inode->i_ino;
	sock = bpf_rdonly_cast(f->private_data, bpf_core_type_id_kernel(struct socket));
	sk = sock->sk;
	if (!sk)
		return 0;
	v->sk = sk;
	v->family = sk->__sk_common.skc_family;
	v->proto = sk->sk_protocol;
	v->dport = sk->__sk_common.skc_dport;
	v->daddr = sk->__sk_common.skc_daddr;
	return 1;
}

/* The same through bpf_probe_read_kernel (CO-RE), for kernels without the kfunc (6.1). */
static __always_inline int sock_view_read(__u64 slot, __u64 *fp, struct sock_view *v)
{
	struct file *f;
	struct socket *sock;
	struct sock *sk;

	if (bpf_probe_read_kernel(fp, sizeof(*fp), (void *)slot) || !*fp)
		return 0;
	f = (struct file *)*fp;
	if ((BPF_CORE_READ(f, f_inode, i_mode) & CS_S_IFMT) != CS_S_IFSOCK)
		return 0;
	v->ino = BPF_CORE_READ(f, f_inode, i_ino);
	sock = BPF_CORE_READ(f, private_data);
	sk = sock ? BPF_CORE_READ(sock, sk) : NULL;
	if (!sk)
		return 0;
	v->sk = sk;
	v->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	v->proto = BPF_CORE_READ(sk, sk_protocol);
	v->dport = BPF_CORE_READ(sk, __sk_common.skc_dport);
	v->daddr = BPF_CORE_READ(sk, __sk_common.skc_daddr);
	return 1;
}

static __always_inline int fd_to_peer(__u32 fd, struct cs_peer *peer)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct sock_view v = {};
	struct fdtable *fdt;
	__u64 slot, fp = 0;
	int ok;

	fdt = task->files->fdt;
	if (fd >= fdt->max_fds)
		return 0;
	slot = (__u64)fdt->fd + (__u64)fd * sizeof(void *);
	/* cfg_rdonly_cast is read-only data: the branch not taken is never verified */
	if (cfg_rdonly_cast)
		ok = sock_view_cast(slot, &fp, &v);
	else
		ok = sock_view_read(slot, &fp, &v);
	if (!ok)
		return 0;
	if ((v.family != CS_AF_INET && v.family != CS_AF_INET6) ||
	    (v.proto != CS_IPPROTO_TCP && v.proto != CS_IPPROTO_UDP))
		return 0;
	/*
	 * The flow id: the file's address, which a new socket may reuse once this one is closed,
	 * with the socket's inode number (a new one for every socket, until it wraps at 2^32) over
	 * its top half, so per-flow entries (carried tokens, Host, coverage) never pass to the next
	 * socket. The local port would not do: an unbound UDP socket has none until its first
	 * send returns, so fresh sockets that reused a file shared their carried tokens.
	 */
	peer->flow = fp ^ (v.ino << 32);
	peer->proto = v.proto;
	peer->dport = bpf_ntohs(v.dport);
	__builtin_memset(peer->daddr, 0, sizeof(peer->daddr));
	if (v.family == CS_AF_INET) {
		peer->v6 = 0;
		*(__u32 *)peer->daddr = v.daddr;
	} else {
		peer->v6 = 1;
		bpf_probe_read_kernel(peer->daddr, 16, &v.sk->__sk_common.skc_v6_daddr);
	}
	return 1;
}

/* Destination from a user sockaddr (sendto/sendmsg on unconnected UDP). 1 if one was read. */
static __always_inline int peer_from_sockaddr(__u64 uaddr, __u32 alen, struct cs_peer *peer)
{
	struct sockaddr_in6 sa6 = {};

	if (!uaddr || alen < sizeof(struct sockaddr_in))
		return 0;
	if (alen > sizeof(sa6))
		alen = sizeof(sa6);
	if (bpf_probe_read_user(&sa6, sizeof(struct sockaddr_in), (void *)uaddr))
		return 0;
	if (sa6.sin6_family == CS_AF_INET) {
		struct sockaddr_in *sa = (struct sockaddr_in *)&sa6;

		__builtin_memset(peer->daddr, 0, sizeof(peer->daddr));
		*(__u32 *)peer->daddr = sa->sin_addr.s_addr;
		peer->dport = bpf_ntohs(sa->sin_port);
		peer->v6 = 0;
		return 1;
	}
	if (sa6.sin6_family == CS_AF_INET6 && alen >= sizeof(sa6)) {
		if (bpf_probe_read_user(&sa6, sizeof(sa6), (void *)uaddr))
			return 0;
		__builtin_memcpy(peer->daddr, &sa6.sin6_addr, 16);
		peer->dport = bpf_ntohs(sa6.sin6_port);
		peer->v6 = 1;
		return 1;
	}
	return 0;
}

#endif
