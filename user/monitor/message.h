/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One outbound message (a send, or a TLS library write) as the collector assembles it from the
 * ring: the batches of hits the kernel handed over before the event (cs_hits), the hits found in
 * its decoded bytes (cs_deep, deep.h) and the event's own, in any number. correlate.c turns a
 * message into one finding per subject; they share the message's id.
 */
#ifndef CS_MESSAGE_H
#define CS_MESSAGE_H

#include <stddef.h>
#include "cs_abi.h"

/* One fingerprint found in the message. */
struct msg_hit {
	__u64 fp;
	__u32 start; /* byte offset in the message (CS_HIT_SPLIT: carried from the flow's last send)
		      */
	__u32 end;
	__u32 enc; /* CS_ENC_* (encodings.h) of a hit found by decoding; 0 for the kernel's */
	__u32 _pad;
};

/* Bytes kept of an HTTP request target after redaction (a longer one is cut, marked "..."). */
#define MSG_PATH_MAX 256

/* The HTTP request the message carries, if any (finding message.http). */
struct msg_http {
	char version[4]; /* "1.1" or "2" */
	char method[16];
	char path[MSG_PATH_MAX]; /* every registered value replaced by {field} */
};

struct msg {
	const struct cs_event *ev; /* metadata (process, destination, sizes) */
	struct msg_hit *hits;
	size_t nhits, cap;
	/* a destination host the decoders found (HTTP/2 :authority), else NULL: ev->host */
	const char *host;
	const struct msg_http *http; /* NULL: not an HTTP request */
};

/* Empty m for ev, keeping its storage. */
void msg_reset(struct msg *m, const struct cs_event *ev);
/* Append a hit; 0 or -ENOMEM (the hit is not kept: the caller counts it). */
int msg_add(struct msg *m, __u64 fp, __u32 start, __u32 end, __u32 enc);
/* Append n hits of the kernel (enc 0). */
int msg_add_kernel(struct msg *m, const struct cs_hit *h, size_t n);
void msg_release(struct msg *m);

/*
 * Sort the hits by fingerprint and merge repeats (a fingerprint may come in several batches or
 * layers): the earliest offset, every encoding. Returns the distinct count (m->nhits).
 */
size_t msg_unique(struct msg *m);

#endif
