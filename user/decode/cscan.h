/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * `run --scan-in collector`: the kernel copies every send's bytes into the ring (cs_deep records,
 * event flag CS_EVX_CSCAN) and tokenises nothing; the collector does here, per send, what
 * bpf/lib/scan.bpf.h would have done: continue the flow's open tokens over the first bytes
 * (cs_carry_begin), the first pass over the runs that may hold a strong token (livescan.h), the
 * whole-send rescan for weak fields (cs_scan_done), the flow's decoding budget after a
 * Content-Encoding header (cs_carry_end) and the hand-over decision (cs_send_end). So the hits,
 * the decoded layers and the findings are those of `--scan-in kernel`.
 */
#ifndef CS_CSCAN_H
#define CS_CSCAN_H

#include "cs_abi.h"
#include "decode/livescan.h"

struct fpdb;
struct msg;
struct cscan;

struct cscan_stats {
	__u64 sends;	 /* sends scanned here */
	__u64 bytes;	 /* their bytes (as handed over) */
	__u64 skipped;	 /* bytes the first pass left out (runs too short for a strong value) */
	__u64 rescans;	 /* sends tokenised again whole (weak fields beside a strong hit) */
	__u64 carried;	 /* sends that continued a token the flow's last send left open */
	__u64 decoded;	 /* sends the kernel would have handed over to decode (CS_TRIG_*) */
	__u64 tokens;	 /* tokens that passed the prefilter, not again in a rescan */
	__u64 hits;	 /* of those, fingerprints the DB knows (each time, not distinct) */
	__u64 hits_lost; /* hits not kept: no memory */
	__u64 ns;	 /* CLOCK_MONOTONIC time spent scanning */
};

/* cfg (copied; its key must outlive the object) and db must outlive it. NULL + errno. */
struct cscan *cscan_new(const struct live_cfg *cfg, const struct fpdb *db);
void cscan_free(struct cscan *cs);

/*
 * The send of ev, its bytes buf[0..n) (n < ev->bytes_inspected when some were not handed over):
 * its hits go into out (enc 0, offsets in the send, CS_HIT_SPLIT for carried tokens), as the
 * kernel's would. Returns 1 when the kernel would have handed the send over for decoding.
 */
int cscan_send(struct cscan *cs, const struct cs_event *ev, const __u8 *buf, __u32 n,
	       struct msg *out);
const struct cscan_stats *cscan_stats(const struct cscan *cs);

#endif
