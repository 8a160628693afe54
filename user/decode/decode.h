/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Decoders for renderings the kernel scanner cannot see in the raw bytes: gzip/deflate bodies,
 * base64/base64url runs, percent-encoding, JSON \u escapes and HTML entities. The collector
 * hands a send's bytes (in memory only) to dec_message() and rescans every decoded layer with
 * the same scanner core. Output is bounded per message (max_out over all layers) and in depth.
 */
#ifndef CS_DECODE_H
#define CS_DECODE_H

#include <stddef.h>
#include <linux/types.h>

/* a bulk export of 10,000 subjects is ~1 MB; 64 MiB bounds a zip bomb's memory */
#define DEC_MAX_OUT_DEFAULT   (64 * 1024 * 1024)
#define DEC_MAX_DEPTH_DEFAULT 4
/* Hard ceiling for max_depth (recursion depth of the decoder). */
#define DEC_MAX_DEPTH 16

struct dec_limits {
	size_t max_out; /* decoded bytes per message over all layers (zip-bomb cut), e.g. 1 MiB */
	unsigned max_depth; /* nested layers, e.g. 4 */
};

struct dec_stats {
	__u64 messages, layers, bytes_out;
	__u64 bytes_cut; /* compressed/encoded input not decoded because a limit was reached */
	__u64 errors;	 /* corrupt streams */
};

/*
 * One decoded layer: buf[0..n) are the bytes to scan; enc the CS_ENC_* bits of the path from
 * the raw message to this layer.
 */
typedef void (*dec_layer_fn)(const __u8 *buf, size_t n, unsigned enc, void *ctx);

struct dec_flow; /* per-flow state: a gzip/deflate body continued across sends */

/* NULL + errno on allocation failure. */
struct dec_flow *dec_flow_new(void);
void dec_flow_free(struct dec_flow *fl);
/* 1 when the flow holds an unfinished compressed body that the next send continues. */
int dec_flow_pending(const struct dec_flow *fl);

/*
 * Decode one send's bytes msg[0..n) (fl may be NULL: no state across sends). fn is called for
 * every decoded layer (never for the raw message itself), recursively up to max_depth. Returns
 * the number of layers. lim NULL means the defaults above; st may be NULL.
 */
int dec_message(struct dec_flow *fl, const __u8 *msg, size_t n, const struct dec_limits *lim,
		dec_layer_fn fn, void *ctx, struct dec_stats *st);

/*
 * The next n bytes of a body whose Content-Encoding is known (coding: CS_ENC_GZIP or
 * CS_ENC_DEFLATE), e.g. an HTTP/2 stream's DATA: inflated through fl's stream (made at the
 * first call; fl holds one body), the output handed to fn and decoded further as in
 * dec_message; max_out applies per call. Once the stream ended, failed or hit the limit the
 * rest is ignored. Returns the number of layers.
 */
int dec_body(struct dec_flow *fl, unsigned coding, const __u8 *p, size_t n,
	     const struct dec_limits *lim, dec_layer_fn fn, void *ctx, struct dec_stats *st);

#endif
