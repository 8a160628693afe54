/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What a send is, from its first bytes: a TLS record (ciphertext), an HTTP/1 request (its Host
 * header and request line copied for the event), the HTTP/2 client preface (the flow is handed to
 * the collector), a TLS ClientHello (its server_name copied as the flow's host).
 */
#ifndef CS_HOST_BPF_H
#define CS_HOST_BPF_H

#include "lib/uread.bpf.h"
#include "lib/enforce.bpf.h"

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
		if (cfg_block)
			cs_enf_hosth();
	}
	return 0;
}

/*
 * HTTP/1 request in st->chunk[0..n): copy its request line (up to CR or LF, at most CS_REQ_LEN
 * bytes) for the finding's message.http; the collector replaces registered values in its path.
 * A byte loop, run once per request send over its first line only.
 */
__noinline int cs_http_reqline(__u32 n)
{
	struct cs_state *st = state_get();
	__u32 i;

	if (!st)
		return 0;
	/* the tail too: the event carries the whole array */
	__builtin_memset(st->req, 0, sizeof(st->req));
	for (i = 0; i < CS_REQ_LEN; i++) {
		__u8 c;

		if (i >= n)
			break;
		c = st->chunk[i];
		if (c == '\r' || c == '\n')
			break;
		st->req[i] = c;
	}
	st->req_len = i;
	st->flags |= CS_EV_REQ;
	return 0;
}

/* The HTTP/2 client connection preface "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" at p (24 bytes). */
static __always_inline int cs_h2_preface(const __u8 *p)
{
	const __u64 *w = (const __u64 *)p;

	/* little-endian words of the preface */
	return w[0] == 0x5448202a20495250ULL && w[1] == 0x0a0d302e322f5054ULL &&
	       w[2] == 0x0a0d0a0d4d530a0dULL;
}

/*
 * First chunk of a send: a send that starts with the client preface starts an HTTP/2 flow
 * (again, if the socket had one). Every later send of the flow is handed over whole
 * (deep_left), since its header blocks can only be decoded in order from the first one (the
 * HPACK dynamic table); cs_carry_end keeps the mark and the flow's byte offset in the carry
 * entry, cs_carry_begin finds them there. Costs non-HTTP/2 traffic one compare per send.
 */
__noinline int cs_h2_begin(__u32 n)
{
	struct cs_state *st = state_get();

	/* a global function: the two outcomes do not double the paths of the chunk callback
	 * after it (inlined, this test cost the verifier 120k instructions in tp_scan) */
	if (st && n >= 24 && cs_h2_preface(st->chunk)) {
		st->flags |= CS_EV_H2;
		st->h2_off = 0;
		st->deep_left = CS_DEEP_FLOW_BUDGET;
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
	if (!cs_preloaded(st, ubuf, n) && cs_read(st, st->chunk, n, ubuf))
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
		if (cfg_block) {
			/* the send is a handshake: its own host field is free to hash from */
			__builtin_memcpy(st->host, h.name, sizeof(st->host));
			cs_enf_hosth();
		}
		return 1;
	}
	return 0;
}

/* Bytes at ubuf start a TLS record (sendmmsg's messages, which are not preloaded). */
static __always_inline int starts_with_tls_record(__u64 ubuf, __u64 len)
{
	__u8 h[3];

	return len >= 5 && !bpf_probe_read_user(h, sizeof(h), (void *)ubuf) && cs_tls_header(h);
}

#endif /* CS_HOST_BPF_H */
