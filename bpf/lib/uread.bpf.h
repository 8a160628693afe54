/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Reading a send's bytes into the per-CPU state: user memory (syscall paths, TLS plaintext) or
 * kernel memory (socket hooks) by probe reads, and the first chunk of a send read once
 * (cs_preload) for every first-chunk test (whether it is a TLS record: cs_tls_header).
 */
#ifndef CS_UREAD_BPF_H
#define CS_UREAD_BPF_H

#include "lib/maps.bpf.h"

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

#endif /* CS_UREAD_BPF_H */
