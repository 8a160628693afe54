/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Event -> findings: confirm each kernel hit against the fingerprint DB, group by subject, apply
 * the weak-field rule, resolve the recipient and decide the consent verdict (spec §4, §6).
 */
#ifndef CS_CORRELATE_H
#define CS_CORRELATE_H

#include "cs_abi.h"
#include "verdict/recipients.h"

struct fpdb;
struct consent_db;

enum verdict {
	V_UNCONSENTED,
	V_CONSENTED,
	V_EXEMPT,
};

#define FINDING_MAX_IDS 8
/* Fingerprints listed per finding (evidence.fingerprints); a subject's others are counted. */
#define FINDING_MAX_FPS CS_MAX_HITS

struct msg;

struct finding {
	const char *subject;
	__u32 fields;	   /* FIELD_BIT mask of disclosed fields */
	__u32 unconsented; /* FIELD_BIT mask of disclosed fields no consent covers */
	enum verdict verdict;
	const struct recipient *rcpt; /* NULL: unknown recipient */
	const char *consent_ids[FINDING_MAX_IDS];
	unsigned nids;
	__u64 fps[FINDING_MAX_FPS];
	unsigned nfps;
	__u32 first_off; /* offset of the earliest hit of this subject in the send */
	__u32 encodings; /* CS_ENC_* (encodings.h) of the hits of this subject */
	/* the message: its id (shared by all its findings) and how many subjects it disclosed */
	char msg_id[32];
	unsigned msg_subjects;
	const struct msg *msg;
	/*
	 * run --dedup (output/dedup.h): the disclosures this finding stands for (1: the first of
	 * its key, written at once; more: repeats merged) and the first and last of their times,
	 * Unix ns. 0: no --dedup, the finding stands for itself (writers omit the three).
	 */
	__u64 count;
	__s64 first_ns, last_ns;
};

struct correlate_stats {
	__u64 events;
	__u64 hits;
	__u64
	    unconfirmed; /* kernel tag hits the exact table rejected (prefilter false positives) */
	__u64 findings;
	__u64 reported;
	__u64 oom; /* messages cut short: no memory for their subjects (counted, not guessed) */
};

struct dns_cache;
struct geoip;
struct fp_entry;
struct subj_acc;

struct correlator {
	const struct fpdb *db;
	const struct recipients *rcpts;
	const struct consent_db *consent;
	const struct dns_cache *dns; /* may be NULL */
	const struct geoip *geoip;   /* --geoip: country of unknown recipients, may be NULL */
	__u32 instance;		     /* message ids: "<instance>-<seq>", unique across runs */
	struct correlate_stats stats;
	/* scratch kept across messages (grown, never shrunk; correlate_release frees it) */
	struct fp_entry *ent;
	size_t nent_cap;
	__u32 *hit_ent; /* per distinct hit: first index into ent, then count */
	size_t hit_cap;
	struct subj_acc *subj;
	size_t subj_cap;
	__u32 *slot; /* subject index -> subj[] + 1, open addressing */
	size_t slot_cap, slot_used;
};

typedef int (*finding_fn)(const struct cs_event *ev, const struct finding *f, const char *host,
			  __s64 t_ns, void *ctx);

/*
 * Turn one message into findings (one per subject with a strong field, any number) and call fn
 * for each. t_ns is the message's wall-clock time. The hits of m are sorted and merged
 * (msg_unique). Returns the number of findings or a negative errno returned by fn.
 */
int correlate_message(struct correlator *c, struct msg *m, __s64 t_ns, finding_fn fn, void *ctx);

/* The same for an event alone (its own hits, none decoded): tests and simple callers. */
int correlate_event(struct correlator *c, const struct cs_event *ev, __s64 t_ns, finding_fn fn,
		    void *ctx);

void correlate_release(struct correlator *c);

/* Strip the port (and IPv6 brackets) from an HTTP Host value and lower-case it, in place. */
void host_strip_port(char *h);

/* Normalise an event's destination: family and a pointer to 4 or 16 address bytes
 * (IPv4-mapped IPv6 becomes IPv4). */
int event_family(const struct cs_event *ev, const __u8 **addr);

#endif
