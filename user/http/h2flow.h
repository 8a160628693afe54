/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * HTTP/2 flows in the collector. The kernel hands over every send of a flow whose bytes began
 * with the client preface (event flag CS_EV_H2, with the send's offset in the flow); here each
 * flow's frames are followed across sends (h2.h), every decoded header field (name and value)
 * and the DATA of every stream are tokenised with the scanner core, DATA joined per stream (a
 * value cut across frames or sends is whole), compressed DATA (content-encoding gzip/deflate)
 * inflated, other renderings decoded as in deep inspection (decode.h). What a send says about
 * its request (:method, :path, :authority) comes back for message.http and the recipient.
 *
 * A flow whose bytes can no longer be followed is desynced, counted by cause and left alone
 * until its next preface (never guessed): a gap (a send not handed over: ring buffer full,
 * bytes over the scan limit, an event lost), a framing error, a header block that does not
 * decode, or a flow met mid-way (its state was dropped). Payload bytes held here (header
 * blocks inside the inflater, a request path until it is redacted) are zeroed when released.
 */
#ifndef CS_H2FLOW_H
#define CS_H2FLOW_H

#include "cs_abi.h"
#include "decode/decode.h"
#include "http/httpmsg.h"
#include "decode/scan.h"

struct fpdb;
struct h2flows;

/*
 * A token the fingerprint DB knows, found in a decoded header field (enc has CS_ENC_HPACK) or in
 * a stream's DATA (enc 0, or the CS_ENC_* of the decoded layer). Offsets are not the send's.
 */
typedef void (*h2_token_fn)(const struct scan_token *t, unsigned enc, void *ctx);

/* What a send said about its request. */
struct h2_send {
	/*
	 * req is set: the first request whose header block ended in the send, else the request
	 * of the first stream whose DATA the send carries
	 */
	int has_req;
	struct msg_http req;
	char authority[CS_HOST_LEN]; /* that request's :authority, "" if none */
};

struct h2flows_stats {
	__u64 flows;	       /* connections followed from their preface */
	__u64 sends, bytes;    /* sends decoded and their bytes */
	__u64 blocks, fields;  /* header blocks decoded, header fields in them */
	__u64 data_bytes;      /* DATA payload bytes scanned */
	__u64 hits;	       /* tokens the DB knows found in header fields or DATA */
	__u64 desync_gap;      /* flows desynced by bytes not handed over */
	__u64 desync_proto;    /* ... by a framing error */
	__u64 desync_hpack;    /* ... by a header block that does not decode */
	__u64 desync_unseen;   /* sends of a flow whose state is gone (or was never seen) */
	__u64 bytes_skipped;   /* bytes of desynced flows, not decoded */
	__u64 flows_evicted;   /* flows dropped: more followed at once than the table holds */
	__u64 streams_evicted; /* streams dropped: more open at once on a flow */
	__u64 path_cut;	       /* :path values longer than kept for message.http */
	struct dec_stats dec;  /* decoded layers of header values and DATA */
};

/* key and db must outlive the table; lim NULL: decode.h defaults. NULL + errno. */
struct h2flows *h2flows_new(const struct cs_key *key, const struct fpdb *db,
			    const struct dec_limits *lim);
void h2flows_free(struct h2flows *t);

/*
 * One send of an HTTP/2 flow: buf[0..have) its bytes as handed over, total the bytes it sent,
 * off its offset in the flow (0: it starts with the preface, a new connection). Tokens go to
 * fn, the request to *out (zeroed first). Returns 0, or 1 when the flow is desynced (nothing
 * of this send decoded, or only the bytes before the failure).
 */
int h2flows_send(struct h2flows *t, __u64 flow, __u64 off, const __u8 *buf, size_t have,
		 __u64 total, h2_token_fn fn, void *ctx, struct h2_send *out);

const struct h2flows_stats *h2flows_stats(const struct h2flows *t);

#endif
