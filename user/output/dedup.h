/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * `run --dedup SECONDS`: repeats of a finding merged into one. A key is (subject, recipient,
 * fields, verdict, unconsented fields and action); the recipient of an unknown destination is
 * its address and host. The first finding of a key is written at once and opens the key's window of
 * SECONDS; repeats inside it are absorbed; when the window ends (the collector's tick, or
 * shutdown) one merged finding stands for them: count = the repeats, first and last time = the
 * first and last repeat's, the rest (process, destination, message, evidence) the first
 * repeat's. A key without repeats writes nothing more. So the counts of a key's findings add up
 * to its disclosures. A different key is never merged: a new subject, recipient, field,
 * verdict or action (a blocked send beside sent ones) is written at once. The table holds max_keys
 * windows; when it is full the oldest window is closed early (its merged finding written then,
 * never dropped) and counted. What it keeps of a finding holds no payload byte (the event's request
 * line and hits are not kept).
 */
#ifndef CS_DEDUP_H
#define CS_DEDUP_H

#include <linux/types.h>

#include "output/output.h"
#include "verdict/correlate.h"

#define DEDUP_MAX_SECONDS 86400u /* --dedup bound: a day */
#define DEDUP_MAX_KEYS	  16384u /* windows open at once (about 1.5 KiB each with repeats) */

struct dedup;

struct dedup_stats {
	__u64 windows;	    /* keys seen: findings written at once */
	__u64 absorbed;	    /* repeats merged into a later finding */
	__u64 merged;	    /* merged findings written */
	__u64 early;	    /* windows closed before their end: the table was full */
	__u64 early_merged; /* of them, windows with repeats: merged finding written early */
	__u64 untracked;    /* no memory for a window or a repeat: written at once, unmerged */
};

/* Where merged findings go (the collector's writers): 0 or a negative errno. */
typedef int (*dedup_emit_fn)(const struct cs_event *ev, const struct finding *f, const char *host,
			     __s64 t_ns, const struct proc_view *pv, void *ctx);

/* A table for windows of window_s seconds, at most max_keys at once; NULL + errno. */
struct dedup *dedup_new(unsigned window_s, unsigned max_keys, dedup_emit_fn emit, void *ctx);
void dedup_free(struct dedup *d);
/*
 * A finding at t_ns (Unix ns). Windows ended by t_ns are closed first (their merged findings
 * emitted). Returns 1: write f now (the first of its key, or not tracked), 0: absorbed, or the
 * negative errno of an emit.
 */
int dedup_add(struct dedup *d, const struct cs_event *ev, const struct finding *f, const char *host,
	      __s64 t_ns, const struct proc_view *pv);
/* Close the windows ended by now_ns (the tick). 0 or the first emit error. */
int dedup_expire(struct dedup *d, __s64 now_ns);
/* Close every window (shutdown). 0 or the first emit error (the others are still closed). */
int dedup_flush(struct dedup *d);
const struct dedup_stats *dedup_stats(const struct dedup *d);
/* Windows open now. */
unsigned dedup_open(const struct dedup *d);

#endif
