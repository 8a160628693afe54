/* SPDX-License-Identifier: GPL-2.0-only */
/* Userspace build of the scanner core (include/cs_scan.h): same tokens, same fingerprints. */
#ifndef CS_USER_SCAN_H
#define CS_USER_SCAN_H

#include <stddef.h>
#include "cs_abi.h"

struct cs_key;

struct scan_token {
	__u64 acc;
	__u64 fp;
	__u32 len;   /* normalised length */
	__u32 start; /* raw byte offsets [start, end) */
	__u32 end;
};

typedef void (*scan_token_fn)(const struct scan_token *tok, void *ctx);

/*
 * Tokenise and fingerprint buf[0..n) as one message; fn is called for every token. Returns the
 * CS_TRIG_* bits the message raised (what the kernel would hand to the collector to decode).
 */
unsigned scan_message(const struct cs_key *key, const void *buf, size_t n, scan_token_fn fn,
		      void *ctx);

/*
 * One message scanned in pieces as they arrive (an HTTP/2 body in DATA frames): tokens run on
 * across pieces, offsets count from the message's first byte.
 */
struct scan_stream {
	struct cs_scan s;
};

void scan_stream_init(struct scan_stream *st);
/* The next n bytes; returns the CS_TRIG_* bits raised so far. */
unsigned scan_stream_feed(struct scan_stream *st, const struct cs_key *key, const void *buf,
			  size_t n, scan_token_fn fn, void *ctx);
/* End of the message: the open tokens are emitted. Returns the CS_TRIG_* bits. */
unsigned scan_stream_end(struct scan_stream *st, const struct cs_key *key, scan_token_fn fn,
			 void *ctx);
/*
 * Offset of the first byte of the earliest token still open (one the next bytes may continue),
 * or the bytes fed so far when none is.
 */
__u32 scan_stream_open(const struct scan_stream *st);

#endif
