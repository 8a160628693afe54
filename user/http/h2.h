/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * HTTP/2 frames of one connection, client to server, as the client sent them (RFC 9113): the
 * bytes come in pieces cut anywhere (a frame may span sends), from the connection preface on.
 * Header blocks (HEADERS + CONTINUATION) are decoded with libnghttp2's HPACK inflater, which
 * keeps the connection's dynamic table and decodes Huffman strings; DATA payloads are passed on
 * as they arrive, padding removed. Nothing is buffered beyond a frame header and the few bytes
 * of a control frame; a header field is held by the inflater until it is complete (nghttp2
 * refuses one over 64 KiB). Memory the inflater frees is zeroed first (it held payload bytes).
 *
 * A protocol error (a preface that does not match, a frame that breaks the framing rules, a
 * header block that does not decode) leaves the connection failed: every later feed returns the
 * same error and decodes nothing, since the dynamic table can no longer be trusted.
 */
#ifndef CS_H2_H
#define CS_H2_H

#include <stddef.h>
#include <linux/types.h>

#define H2_PREFACE     "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define H2_PREFACE_LEN 24

/*
 * Largest dynamic table the inflater accepts. The client's encoder may use up to what the
 * server advertised in its SETTINGS_HEADER_TABLE_SIZE (a frame we never see: it travels the
 * other way) and announces every size it uses with a dynamic table size update in a header
 * block, which the inflater applies. So the inflater allows any size up to this bound (4096 by
 * default in nghttp2, Go and browsers; 64 KiB at most in practice); a larger update is refused
 * (the connection fails, counted) rather than letting a peer make us hold megabytes.
 */
#define H2_TABLE_MAX (64 * 1024)

struct h2_conn;

/* Callbacks; any may be NULL. Pointers are valid during the call only. */
struct h2_ops {
	/* One decoded header field of the block open on stream. */
	void (*header)(void *ctx, __u32 stream, const __u8 *name, size_t nlen, const __u8 *value,
		       size_t vlen);
	/* The block ended (END_HEADERS); end_stream: its HEADERS frame carried END_STREAM. */
	void (*headers_end)(void *ctx, __u32 stream, int end_stream);
	/* Bytes of a DATA frame's payload (padding removed), in order, as they arrive. */
	void (*data)(void *ctx, __u32 stream, const __u8 *p, size_t n);
	/* The client ended the stream (END_STREAM on DATA) or reset it (RST_STREAM). */
	void (*stream_end)(void *ctx, __u32 stream, int reset);
};

struct h2_stats {
	__u64 frames;	  /* frames completed */
	__u64 blocks;	  /* header blocks decoded */
	__u64 fields;	  /* header fields emitted */
	__u64 data_bytes; /* DATA payload bytes passed on */
	__u64 bytes;	  /* bytes fed */
};

/* A connection whose next byte is the client preface. NULL + errno (ENOMEM). */
struct h2_conn *h2_conn_new(void);
void h2_conn_free(struct h2_conn *c);

/*
 * The next n bytes the client sent. Returns 0, or the connection's error (it stays failed):
 * -EPROTO (preface or framing), -EBADMSG (a header block does not decode, or a dynamic table
 * size update over H2_TABLE_MAX), -ENOMEM.
 */
int h2_conn_feed(struct h2_conn *c, const __u8 *p, size_t n, const struct h2_ops *ops, void *ctx);

/* 0 or the error that failed the connection. */
int h2_conn_error(const struct h2_conn *c);
/* A text for an error of h2_conn_feed (for the summary). */
const char *h2_strerror(int err);
const struct h2_stats *h2_conn_stats(const struct h2_conn *c);

/* Stream whose header block is open (awaiting CONTINUATION), else 0. */
__u32 h2_conn_open_block(const struct h2_conn *c);

#endif
