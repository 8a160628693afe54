/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Event -> findings: confirm each kernel hit against the fingerprint DB, group by subject, apply
 * the weak-field rule, resolve the recipient and decide the consent verdict (spec §4, §6).
 */
#ifndef CS_CORRELATE_H
#define CS_CORRELATE_H

#include "cs_abi.h"
#include "recipients.h"

struct fpdb;
struct consent_db;

enum verdict {
	V_UNCONSENTED,
	V_CONSENTED,
	V_EXEMPT,
};

#define FINDING_MAX_IDS 8

struct finding {
	const char *subject;
	__u32 fields;	   /* FIELD_BIT mask of disclosed fields */
	__u32 unconsented; /* FIELD_BIT mask of disclosed fields no consent covers */
	enum verdict verdict;
	const struct recipient *rcpt; /* NULL: unknown recipient */
	const char *consent_ids[FINDING_MAX_IDS];
	unsigned nids;
	__u64 fps[CS_MAX_HITS];
	unsigned nfps;
	__u32 first_off; /* offset of the earliest hit of this subject in the send */
	__u32 encodings; /* CS_ENC_* (encodings.h) of the hits of this subject */
};

struct correlate_stats {
	__u64 events;
	__u64 hits;
	__u64
	    unconfirmed; /* kernel tag hits the exact table rejected (prefilter false positives) */
	__u64 findings;
	__u64 reported;
};

struct dns_cache;

struct correlator {
	const struct fpdb *db;
	const struct recipients *rcpts;
	const struct consent_db *consent;
	const struct dns_cache *dns; /* may be NULL */
	struct correlate_stats stats;
};

typedef int (*finding_fn)(const struct cs_event *ev, const struct finding *f, const char *host,
			  __s64 t_ns, void *ctx);

/*
 * Turn one event into findings (one per subject with a strong field) and call fn for each.
 * t_ns is the event's wall-clock time; enc (may be NULL) the CS_ENC_* bits of each of ev's hits
 * found by decoding (deep.h). Returns the number of findings or a negative errno returned by fn.
 */
int correlate_event(struct correlator *c, const struct cs_event *ev, const __u32 *enc, __s64 t_ns,
		    finding_fn fn, void *ctx);

/* Strip the port (and IPv6 brackets) from an HTTP Host value and lower-case it, in place. */
void host_strip_port(char *h);

/* Normalise an event's destination: family and a pointer to 4 or 16 address bytes
 * (IPv4-mapped IPv6 becomes IPv4). */
int event_family(const struct cs_event *ev, const __u8 **addr);

#endif
