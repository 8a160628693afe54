// SPDX-License-Identifier: GPL-2.0-only
/* The enroll command's hash thread (hasher.h). */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "enroll/enroll_cmd.h"
#include "enroll/hasher.h"
#include "lib/log.h"
#include "lib/util.h"

static void hash_batch_run(struct hasher *h, struct hash_batch *b)
{
	struct value_fps v;
	struct norm_out norm;

	b->nent = 0;
	b->err = 0;
	b->min_len = UINT32_MAX;
	b->max_len = 0;
	for (unsigned i = 0; i < b->njob && !b->err; i++) {
		const struct hash_job *j = &b->job[i];

		norm.n = j->nstr;
		for (unsigned k = 0, off = j->off; k < j->nstr; off += j->len[k++]) {
			norm.s[k] = b->text + off;
			norm.len[k] = j->len[k];
		}
		v.n = 0;
		b->err = value_hash_fingerprints(h->key, h->d, j->field, &norm, &v);
		if (!b->err)
			b->err = grow_array((void **)&b->ent, &b->ent_cap, b->nent + v.n,
					    sizeof(*b->ent), 4096);
		if (!b->err)
			b->err = grow_array((void **)&b->pre, &b->pre_cap, b->nent + v.n,
					    sizeof(*b->pre), 4096);
		for (unsigned k = 0; k < v.n && !b->err; k++) {
			b->ent[b->nent] = (struct fp_entry){.fp = v.fp[k],
							    .subject = j->subject,
							    .field = j->field,
							    .nparts = 1,
							    .variant = v.variant[k]};
			b->pre[b->nent++] = v.pre[k];
			if (v.len[k] < b->min_len)
				b->min_len = v.len[k];
			if (v.len[k] > b->max_len)
				b->max_len = v.len[k];
		}
	}
	/* registered values: not kept longer than needed (explicit_bzero takes no NULL) */
	if (b->text)
		explicit_bzero(b->text, b->ntext);
}

static void *hasher_main(void *arg)
{
	struct hasher *h = arg;

	pthread_mutex_lock(&h->mu);
	for (;;) {
		while (!h->todo && !h->quit)
			pthread_cond_wait(&h->cv, &h->mu);
		if (!h->todo)
			break;
		h->todo = 0;
		pthread_mutex_unlock(&h->mu);
		hash_batch_run(h, h->busy);
		pthread_mutex_lock(&h->mu);
		h->done = 1;
		pthread_cond_broadcast(&h->cv);
	}
	pthread_mutex_unlock(&h->mu);
	return NULL;
}

/* NULL (errno set, logged) on failure. */
struct hasher *hasher_new(const struct cs_key *key)
{
	struct hasher *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->key = key;
	h->d = digests_new();
	if (!h->d) {
		free(h);
		return NULL;
	}
	h->fill = &h->b[0];
	/* prove the direct hex fingerprint against the scanner here, not on the worker */
	digests_check(key, h->d);
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->cv, NULL);
	return h;
}

/* Start the second thread once; on failure batches run inline (said once). */
static void hasher_start(struct hasher *h)
{
	if (h->threaded || h->no_thread)
		return;
	h->threaded = !pthread_create(&h->thread, NULL, hasher_main, h);
	h->no_thread = !h->threaded;
	if (h->no_thread)
		pr_warn("enroll: no second thread, hash variants computed inline");
}

/* Queue the hash variants of one normalised email or phone of subject. 0 or -ENOMEM. */
int hasher_add(struct hasher *h, __u32 subject, int field, const struct norm_out *norm)
{
	struct hash_batch *b = h->fill;
	unsigned nstr = field == CS_F_PHONE ? 2 : 1;
	size_t need = b->ntext;
	int err;

	if ((field != CS_F_EMAIL && field != CS_F_PHONE) || norm->n < nstr)
		return 0;
	for (unsigned k = 0; k < nstr; k++)
		need += norm->len[k];
	err = grow_array((void **)&b->text, &b->text_cap, need, 1, 1 << 12);
	if (!err)
		err = grow_array((void **)&b->job, &b->job_cap, b->njob + 1, sizeof(*b->job), 256);
	if (err)
		return err;
	b->job[b->njob] = (struct hash_job){
	    .subject = subject, .off = (__u32)b->ntext, .field = (__u8)field, .nstr = (__u8)nstr};
	for (unsigned k = 0; k < nstr; k++) {
		memcpy(b->text + b->ntext, norm->s[k], norm->len[k]);
		b->ntext += norm->len[k];
		b->job[b->njob].len[k] = (__u16)norm->len[k];
	}
	b->njob++;
	return 0;
}

/* Wait for the batch handed over, merge its entries into e. 0, -ENOMEM, -E2BIG or -EIO. */
int hasher_wait(struct hasher *h, struct enroll *e)
{
	struct hash_batch *b = h->busy;
	int err;

	if (!b)
		return 0;
	if (h->threaded) {
		pthread_mutex_lock(&h->mu);
		while (!h->done)
			pthread_cond_wait(&h->cv, &h->mu);
		h->done = 0;
		pthread_mutex_unlock(&h->mu);
	}
	h->busy = NULL;
	err = b->err;
	if (!err && e->nent + b->nent > UINT32_MAX)
		err = -E2BIG;
	if (!err)
		err = grow_array((void **)&e->ent, &e->ent_cap, e->nent + b->nent, sizeof(*e->ent),
				 4096);
	if (!err)
		err = grow_array((void **)&e->pre, &e->pre_cap, e->nent + b->nent, sizeof(*e->pre),
				 4096);
	if (err)
		return err;
	memcpy(e->ent + e->nent, b->ent, b->nent * sizeof(*b->ent));
	memcpy(e->pre + e->nent, b->pre, b->nent * sizeof(*b->pre));
	e->nent += b->nent;
	if (b->nent && b->min_len < e->min_len)
		e->min_len = b->min_len;
	if (b->nent && b->max_len > e->max_len)
		e->max_len = b->max_len;
	/* hash variants are of emails and phones: strong, lower-case hex */
	if (b->nent && b->min_len < e->strong_min_len)
		e->strong_min_len = b->min_len;
	b->njob = 0;
	b->ntext = 0;
	b->nent = 0;
	return 0;
}

/*
 * Hand the filled batch over (after merging the previous one) and start filling the other. last:
 * no batch follows (the second thread is not started for it).
 */
int hasher_submit(struct hasher *h, struct enroll *e, int last)
{
	int err = hasher_wait(h, e);

	if (err || !h->fill->njob)
		return err;
	h->busy = h->fill;
	h->fill = h->fill == &h->b[0] ? &h->b[1] : &h->b[0];
	if (!last)
		hasher_start(h);
	if (!h->threaded) {
		hash_batch_run(h, h->busy);
		return 0;
	}
	pthread_mutex_lock(&h->mu);
	h->todo = 1;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
	return 0;
}

void hasher_free(struct hasher *h)
{
	if (!h)
		return;
	if (h->threaded) {
		pthread_mutex_lock(&h->mu);
		while (h->busy && !h->done)
			pthread_cond_wait(&h->cv, &h->mu);
		h->quit = 1;
		pthread_cond_broadcast(&h->cv);
		pthread_mutex_unlock(&h->mu);
		pthread_join(h->thread, NULL);
	}
	pthread_mutex_destroy(&h->mu);
	pthread_cond_destroy(&h->cv);
	for (int i = 0; i < 2; i++) {
		/* a batch never filled has no text: explicit_bzero(NULL, 0) is undefined */
		if (h->b[i].text)
			explicit_bzero(h->b[i].text, h->b[i].text_cap);
		free(h->b[i].text);
		free(h->b[i].job);
		free(h->b[i].ent);
		free(h->b[i].pre);
	}
	digests_free(h->d);
	free(h);
}
