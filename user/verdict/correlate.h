/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Event -> findings: confirm each kernel hit against the fingerprint DB, group by subject, apply
 * the weak-field rule, resolve the recipient and decide the consent verdict (spec §4, §6).
 */
#ifndef CS_CORRELATE_H
#define CS_CORRELATE_H

#include "cs_abi.h"
#include "monitor/message.h"
#include "verdict/law.h"
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

struct finding {
	const char *subject;
	__u32 fields;	   /* FIELD_BIT mask of disclosed fields */
	__u32 unconsented; /* FIELD_BIT mask of disclosed fields no consent covers */
	enum verdict verdict;
	const struct recipient *rcpt; /* NULL: unknown recipient */
	/* spec §7 */
	const char *purpose; /* the disclosure's purpose (its recipients row), NULL: none */
	char country[3];     /* destination country (recipients row, else --geoip), "": unknown */
	int cross_border;    /* 1, 0, or -1 when the country is unknown */
	__u32 sensitive;     /* FIELD_BIT mask of the disclosed fields that are sensitive */
	int minor;	     /* the subject was a minor at the time */
	__u32 violations;    /* CV_* (consent.h): empty unless the verdict is unconsented */
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
	struct law_profile law;	     /* --law, --jurisdiction (zero: pipl, CN; correlate_init) */
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

/*
 * The finding's action (spec §4): 1 "blocked", the kernel refused the send it came from
 * (run --block, CS_EVX_BLOCKED), else 0 "reported". The writers, the journal, --dedup and the
 * metrics all ask here.
 */
static inline int finding_blocked(const struct finding *f)
{
	return f->msg && f->msg->ev && (f->msg->ev->xflags & CS_EVX_BLOCKED);
}

/* A message's destination as the verdict sees it (correlate_dest). */
struct verdict_dest {
	struct rcpt_match m; /* recipient and the matched row's purpose and country */
	char country[3];     /* m's country, else --geoip's for an unknown recipient; "" unknown */
	int cross_border;    /* law_cross_border() of country: 1, 0, -1 unknown */
};

/*
 * Resolve a destination (address, port, host, HTTP request path; as recipients_match) into d,
 * once a message: every subject of the message shares it.
 */
void correlate_dest(const struct correlator *c, struct verdict_dest *d, int family,
		    const __u8 *addr, __u16 port, const char *host, const char *path);

/*
 * The verdict of spec §6-7 for one subject's disclosure of f->fields to d at t_ns: fills
 * f->verdict, unconsented, violations, consent_ids, purpose, country, cross_border, sensitive
 * and minor (f->subject, fields and rcpt must be set; subject is the fingerprint DB's index of
 * f->subject). Exposed for the verdict table of tests/unit.
 */
void correlate_verdict(const struct correlator *c, struct finding *f, __u32 subject,
		       const struct verdict_dest *d, __s64 t_ns);

/* Strip the port (and IPv6 brackets) from an HTTP Host value and lower-case it, in place. */
void host_strip_port(char *h);
/* Normalise an event's destination: family and a pointer to 4 or 16 address bytes
 * (IPv4-mapped IPv6 becomes IPv4). */
int event_family(const struct cs_event *ev, const __u8 **addr);

#endif
