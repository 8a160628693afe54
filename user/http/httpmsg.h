/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The HTTP request a finding's message belongs to, as a responder may see it (finding
 * message.http): version, method and the request path with every registered value replaced by
 * its field name in braces, e.g. "/users/{phone}/profile?mail={email}". A raw registered value
 * never comes out: the path is tokenised with the scanner core (as sent, and percent-decoded),
 * every token the fingerprint DB knows is replaced, a path cut short (by the kernel's copy or
 * by the length bound here) is cut back to before any token still open at the cut and ends in
 * "...", and bytes outside printable ASCII, '{', '}' and '%' of the raw text are written as
 * %XX (so the result is printable ASCII and braces only ever mark a field).
 */
#ifndef CS_HTTPMSG_H
#define CS_HTTPMSG_H

#include <stddef.h>
#include <linux/types.h>

#include "monitor/message.h"

struct cs_key;
struct fpdb;

/* Bytes of a redacted path, without its NUL (a longer one is cut and ends in "..."). */
#define HTTP_PATH_MAX (MSG_PATH_MAX - 1)
/* Bytes of a method ("?" when longer or not a token) */
#define HTTP_METHOD_MAX ((int)sizeof(((struct msg_http *)0)->method) - 1)

/*
 * Redact path[0..n) into out[0..cap) (NUL-terminated, cap >= 8). cut: path is the beginning of
 * a longer one. Returns the length written.
 */
size_t http_path_redact(const struct cs_key *key, const struct fpdb *db, const __u8 *path, size_t n,
			int cut, char *out, size_t cap);

/*
 * An HTTP/1 request line (without CR LF) as the kernel copied it, maybe cut short:
 * "METHOD SP request-target SP HTTP/1.x". 0 and *req filled, or -EINVAL when line is no
 * request line.
 */
int http1_request(const struct cs_key *key, const struct fpdb *db, const __u8 *line, size_t n,
		  struct msg_http *req);

/* An HTTP/2 request from its :method and :path (path_cut: only its beginning was kept). */
int http2_request(const struct cs_key *key, const struct fpdb *db, const __u8 *method, size_t mlen,
		  const __u8 *path, size_t plen, int path_cut, struct msg_http *req);

#endif
