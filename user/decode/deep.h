/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Deep inspection in the collector: the bytes of sends the kernel flagged (cs_scan.trig: base64
 * runs, JSON/HTML escapes, gzip magic, Content-Encoding) arrive as cs_deep records before their
 * event. They are reassembled per send, decoded (decode.h), every decoded layer is rescanned
 * with the scanner core, and the fingerprints found are added to the event's hits with how they
 * were encoded. The sends of an HTTP/2 flow (CS_EV_H2) go to h2flow.h instead: frames
 * followed across sends, header blocks decoded. The message also gets its HTTP request
 * (msg.http: from the request line the kernel copied, CS_EV_REQ, or the HTTP/2 pseudo-headers)
 * and an HTTP/2 :authority (msg.host). The bytes stay in memory, are never written out, and are
 * freed at once.
 */
#ifndef CS_DEEP_H
#define CS_DEEP_H

#include "cs_abi.h"
#include "decode/decode.h"

struct fpdb;
struct msg;
struct deep;

struct deep_stats {
	__u64 sends;   /* events with hand-over bytes */
	__u64 bytes;   /* bytes reassembled */
	__u64 lost;    /* bytes announced by an event but not received (ring full, overwritten) */
	__u64 orphans; /* records whose event never came */
	__u64 hits;    /* fingerprints found in decoded layers */
	__u64
	    hit_records; /* cs_hits records: batches of a send with more hits than an event holds */
	__u64 hits_lost; /* hits not kept: no memory (counted, never guessed) */
	struct dec_stats dec;
};

/* key and db must outlive the returned object. NULL + errno on allocation failure. */
struct deep *deep_new(const struct cs_key *key, const struct fpdb *db,
		      const struct dec_limits *lim);
void deep_free(struct deep *d);

struct live_cfg;
/* --scan-in collector: scan the sends marked CS_EVX_CSCAN with cfg (cscan.h). 0 or -ENOMEM. */
int deep_scan_in_collector(struct deep *d, const struct live_cfg *cfg);
struct cscan_stats;
/* Its counters; NULL when sends are scanned in the kernel. */
const struct cscan_stats *deep_cscan_stats(const struct deep *d);

/* One cs_deep record of the events ring (len bytes as received). */
void deep_add(struct deep *d, const void *rec, size_t len);

/*
 * A whole send's bytes at once, as its cs_deep records would bring them (`scan-pcap`: no
 * ring). 0, or -EINVAL for seq 0 or more than CS_DEEP_SEND_MAX bytes.
 */
int deep_add_bytes(struct deep *d, __u64 seq, const __u8 *buf, __u32 n);

/* One cs_hits record of the events ring: a batch of hits of the send with that seq. */
void deep_add_hits(struct deep *d, const void *rec, size_t len);

/*
 * The message of ev, into out (reset first): the hit batches of its cs_hits records, ev's own
 * hits and, for CS_EV_DEEP, the hits of its decoded bytes (with their CS_ENC_* bits). The
 * send's records are released.
 */
void deep_complete(struct deep *d, const struct cs_event *ev, struct msg *out);

const struct deep_stats *deep_stats(const struct deep *d);

struct h2flows_stats;
/* The HTTP/2 flows' counters (flows, header blocks, desyncs: h2flow.h). */
const struct h2flows_stats *deep_h2_stats(const struct deep *d);

#endif
