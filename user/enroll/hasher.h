/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Hash variants on a second thread. Digesting and fingerprinting 12 hex strings per subject
 * was ~40% of enroll's CPU time (10M subjects: ~20 s of ~60), so the main thread only copies
 * each email's and phone's normalised strings into a batch and hands full batches to a worker,
 * which fingerprints one batch while the main thread reads the next rows. Results are appended
 * to the entries after the plain ones (order does not matter: all are sorted at the end).
 */
#ifndef CS_HASHER_H
#define CS_HASHER_H

#include <pthread.h>

#include "cs_abi.h"
#include "enroll/enroll.h"
#include "fpdb/fpfile.h"

#define HASH_BATCH 16384 /* values per hand-over */

struct hash_job {
	__u32 subject;
	__u32 off; /* of its strings in the batch text */
	__u8 field;
	__u8 nstr;
	__u16 len[2];
};

struct hash_batch {
	struct hash_job *job;
	unsigned njob;
	size_t job_cap;
	char *text;
	size_t ntext, text_cap;
	/* results */
	struct fp_entry *ent;
	__u64 *pre;
	size_t nent, ent_cap, pre_cap;
	__u32 min_len, max_len;
	int err;
};

struct hasher {
	const struct cs_key *key;
	struct digests *d;
	struct hash_batch b[2];
	struct hash_batch *fill; /* the main thread's */
	struct hash_batch *busy; /* handed over, not merged yet; NULL when none */
	pthread_t thread;
	/*
	 * 1: the second thread runs. It starts with the first full batch: a smaller enrollment
	 * is hashed on the main thread, as it is when no thread can start (no_thread).
	 */
	int threaded, no_thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int todo, done, quit;
};

struct enroll;

struct hasher *hasher_new(const struct cs_key *key);
int hasher_add(struct hasher *h, __u32 subject, int field, const struct norm_out *norm);
int hasher_wait(struct hasher *h, struct enroll *e);
int hasher_submit(struct hasher *h, struct enroll *e, int last);
void hasher_free(struct hasher *h);

#endif
