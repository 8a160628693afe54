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

#endif
