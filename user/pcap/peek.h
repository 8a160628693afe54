/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What a send is, from its first bytes, in userspace: what bpf/lib/host.bpf.h finds in the
 * kernel for the live monitor, the same way, for `consentry scan-pcap`: an HTTP/1 request (its
 * Host header, searched in the first CS_CHUNK bytes, and its request line), the HTTP/2 client
 * preface, a TLS record and a ClientHello's server_name (SNI).
 */
#ifndef CS_PEEK_H
#define CS_PEEK_H

#include "cs_abi.h"

/* p[0..n) starts with an HTTP/1 request method the kernel knows (GET, POST, PUT, ...). */
int peek_http_request(const __u8 *p, __u32 n);
/* The Host header's value into host[CS_HOST_LEN] (NUL-terminated); its length, 0: none. */
__u32 peek_http_host(const __u8 *p, __u32 n, char host[CS_HOST_LEN]);
/* The request line (to CR or LF, at most CS_REQ_LEN bytes) into req; its length. */
__u32 peek_request_line(const __u8 *p, __u32 n, __u8 req[CS_REQ_LEN]);
/* p starts with the HTTP/2 client connection preface. */
int peek_h2_preface(const __u8 *p, __u32 n);
/* p starts with a TLS record header (ciphertext, or a handshake). */
int peek_tls_record(const __u8 *p, __u32 n);
/* A TLS ClientHello's server_name into host[CS_HOST_LEN] (cut there); 1, or 0: none. */
int peek_sni(const __u8 *p, __u32 n, char host[CS_HOST_LEN]);

#endif
