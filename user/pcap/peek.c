// SPDX-License-Identifier: GPL-2.0-only
#include <string.h>

#include "pcap/peek.h"

int peek_http_request(const __u8 *p, __u32 n)
{
	static const char *const m[] = {"GET ", "POST", "PUT ", "HEAD", "DELE", "PATC", "OPTI"};

	if (n < 4)
		return 0;
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		if (!memcmp(p, m[i], 4))
			return 1;
	return 0;
}

__u32 peek_http_host(const __u8 *p, __u32 n, char host[CS_HOST_LEN])
{
	__u32 start = 0, i;

	/* as cs_http_host: "\nHost:" (any case) in the first chunk, the value up to CR, LF,
	 * space or NUL, at most CS_HOST_LEN - 1 bytes, not past the chunk */
	if (n > CS_CHUNK)
		n = CS_CHUNK;
	for (__u32 j = 2; j + 4 <= n && j < CS_CHUNK - 4; j++) {
		if (p[j - 2] == '\n' && (p[j - 1] | 0x20) == 'h' && (p[j] | 0x20) == 'o' &&
		    (p[j + 1] | 0x20) == 's' && (p[j + 2] | 0x20) == 't' && p[j + 3] == ':') {
			start = j + 4;
			break;
		}
	}
	if (!start || start >= n)
		return 0;
	start += p[start] == ' ';
	for (i = 0; i < CS_HOST_LEN - 1 && start + i < n; i++) {
		__u8 c = p[start + i];

		if (c == '\r' || c == '\n' || c == ' ' || c == 0)
			break;
		host[i] = (char)c;
	}
	host[i] = 0;
	return i;
}

__u32 peek_request_line(const __u8 *p, __u32 n, __u8 req[CS_REQ_LEN])
{
	__u32 i;

	memset(req, 0, CS_REQ_LEN);
	for (i = 0; i < CS_REQ_LEN && i < n && p[i] != '\r' && p[i] != '\n'; i++)
		req[i] = p[i];
	return i;
}

int peek_h2_preface(const __u8 *p, __u32 n)
{
	static const char pre[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

	return n >= 24 && !memcmp(p, pre, 24);
}

int peek_tls_record(const __u8 *p, __u32 n)
{
	return n >= 5 && p[0] >= 0x14 && p[0] <= 0x17 && p[1] == 3 && p[2] <= 4;
}

static __u32 be16at(const __u8 *p, __u32 off)
{
	return (__u32)p[off] << 8 | p[off + 1];
}

int peek_sni(const __u8 *p, __u32 n, char host[CS_HOST_LEN])
{
	__u32 off, end;

	/* a handshake record holding a ClientHello, then as cs_sni: session id, cipher suites,
	 * compression methods, the extensions */
	if (n < 48 || p[0] != 0x16 || p[5] != 0x01)
		return 0;
	off = 43; /* record (5) + handshake header (4) + version (2) + random (32) */
	off += 1 + p[off];
	if (off + 2 > n)
		return 0;
	off += 2 + be16at(p, off);
	if (off + 1 > n)
		return 0;
	off += 1 + p[off];
	if (off + 2 > n)
		return 0;
	end = off + 2 + be16at(p, off);
	if (end > n)
		end = n;
	off += 2;
	while (off + 4 <= end) {
		__u32 type = be16at(p, off), elen = be16at(p, off + 2), nlen;

		off += 4;
		if (type != 0) {
			off += elen;
			continue;
		}
		/* server_name: list length (2), name type (1) = host_name, name length (2) */
		if (off + 5 > end || p[off + 2] != 0)
			return 0;
		nlen = be16at(p, off + 3);
		off += 5;
		if (!nlen || off + nlen > end)
			return 0;
		if (nlen > CS_HOST_LEN - 1)
			nlen = CS_HOST_LEN - 1;
		memcpy(host, p + off, nlen);
		host[nlen] = 0;
		return 1;
	}
	return 0;
}
