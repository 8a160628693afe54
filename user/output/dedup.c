// SPDX-License-Identifier: GPL-2.0-only
/*
 * run --dedup: repeats of a finding merged into one (dedup.h). A hash table of open windows,
 * chained, and a list of them in the order they opened: windows all last the same time, so the
 * oldest is the first to end and the one closed when the table is full.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_hash.h"
#include "monitor/message.h"
#include "monitor/procinfo.h"
#include "output/dedup.h"

#define NS_PER_S 1000000000LL
/* what a merged finding keeps of its event: everything before the request line and the hits,
 * the only payload bytes the event holds */
#define EV_HEAD offsetof(struct cs_event, req)
/* subject (<= 128 bytes), then the recipient's name or the destination's address and host */
#define KEY_MAX 512

/* The first repeat of a window: what its merged finding is written from. */
struct dd_snap {
	__u8 ev_head[EV_HEAD];
	struct finding f; /* its pointers point into this snapshot */
	struct recipient rcpt;
	struct msg msg;
	struct msg_http http;
	struct proc_view pv;
	struct pod_info pod;
	const char *host;
	char strs[]; /* subject, recipient name, consent ids, host, exe, cgroup, container id */
};

struct dd_entry {
	struct dd_entry *hnext;	      /* hash chain */
	struct dd_entry *prev, *next; /* the windows in the order they opened */
	__u64 hash;
	__s64 open_ns;		 /* the first finding's time: the window is [open, open + window) */
	__s64 first_ns, last_ns; /* of the repeats */
	__u64 count;		 /* repeats absorbed */
	__u32 fields, unconsented;
	enum verdict verdict;
	int blocked;	      /* finding_blocked: a refused send never merges with a sent one */
	int known;	      /* a recipients.csv name in key, else the destination */
	struct dd_snap *snap; /* NULL: no repeat yet */
	size_t keylen;
	char key[];
};

struct dedup {
	__s64 window_ns;
	unsigned max_keys, n;
	struct dd_entry **buckets;
	size_t mask;
	struct dd_entry *oldest, *newest;
	dedup_emit_fn emit;
	void *ctx;
	struct dedup_stats st;
};

struct dedup *dedup_new(unsigned window_s, unsigned max_keys, dedup_emit_fn emit, void *ctx)
{
	struct dedup *d;
	size_t nb = 16;

	if (!window_s || !max_keys || !emit) {
		errno = EINVAL;
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	while (nb < max_keys)
		nb <<= 1;
	d->buckets = calloc(nb, sizeof(*d->buckets));
	if (!d->buckets) {
		free(d);
		return NULL;
	}
	d->mask = nb - 1;
	d->window_ns = (__s64)window_s * NS_PER_S;
	d->max_keys = max_keys;
	d->emit = emit;
	d->ctx = ctx;
	return d;
}

/* The key's text: subject NUL, then the recipient's name, or the destination "ip host". */
static size_t key_make(char *buf, const struct cs_event *ev, const struct finding *f,
		       const char *host)
{
	char ip[INET6_ADDRSTRLEN];
	int n;

	if (f->rcpt) {
		n = snprintf(buf, KEY_MAX, "%s%c%s", f->subject ? f->subject : "", 0,
			     f->rcpt->name);
	} else {
		event_addr_str(ev, ip, sizeof(ip));
		n = snprintf(buf, KEY_MAX, "%s%c%s %s", f->subject ? f->subject : "", 0, ip,
			     host ? host : "");
	}
	return n < 0 || n >= KEY_MAX ? 0 : (size_t)n;
}

static __u64 key_hash(const char *key, size_t len, const struct finding *f)
{
	__u64 h = cs_fnv_mem(CS_FNV_OFFSET, key, len);

	h ^= ((__u64)f->fields << 32 | f->unconsented) * 0x9e3779b97f4a7c15ULL;
	h ^= (__u64)f->verdict << 2 | (__u64)finding_blocked(f) << 1 | !!f->rcpt;
	return h ^ h >> 29;
}

static struct dd_entry *lookup(const struct dedup *d, __u64 h, const char *key, size_t len,
			       const struct finding *f)
{
	for (struct dd_entry *e = d->buckets[h & d->mask]; e; e = e->hnext)
		if (e->hash == h && e->keylen == len && e->fields == f->fields &&
		    e->unconsented == f->unconsented && e->verdict == f->verdict &&
		    e->blocked == finding_blocked(f) && e->known == !!f->rcpt &&
		    !memcmp(e->key, key, len))
			return e;
	return NULL;
}

/* Copy s to *p (advanced), or NULL. */
static const char *keep(char **p, const char *s)
{
	size_t n;
	char *at = *p;

	if (!s)
		return NULL;
	n = strlen(s) + 1;
	memcpy(at, s, n);
	*p += n;
	return at;
}

/* What the merged finding of a window is written from: a copy that outlives the message, a
 * consent or recipients reload and the process. NULL: no memory. */
static struct dd_snap *snap_new(const struct cs_event *ev, const struct finding *f,
				const char *host, const struct proc_view *pv)
{
	const char *strs[6 + FINDING_MAX_IDS] = {
	    f->subject,		 f->rcpt ? f->rcpt->name : NULL, host,
	    pv ? pv->exe : NULL, pv ? pv->cgroup : NULL,	 pv ? pv->container_id : NULL};
	unsigned nids = f->nids < FINDING_MAX_IDS ? f->nids : FINDING_MAX_IDS;
	size_t len = 0;
	struct dd_snap *s;
	char *p;

	for (unsigned i = 0; i < nids; i++)
		strs[6 + i] = f->consent_ids[i];
	for (unsigned i = 0; i < 6 + nids; i++)
		len += strs[i] ? strlen(strs[i]) + 1 : 0;
	s = calloc(1, sizeof(*s) + len);
	if (!s)
		return NULL;
	p = s->strs;
	memcpy(s->ev_head, ev, EV_HEAD);
	s->f = *f;
	s->f.subject = keep(&p, f->subject);
	if (f->rcpt) {
		s->rcpt.kind = f->rcpt->kind;
		s->rcpt.name = keep(&p, f->rcpt->name);
		s->f.rcpt = &s->rcpt;
	}
	s->host = keep(&p, host);
	if (pv) {
		s->pv.exe = keep(&p, pv->exe);
		s->pv.cgroup = keep(&p, pv->cgroup);
		s->pv.container_id = keep(&p, pv->container_id);
		if (pv->pod) {
			s->pod = *pv->pod;
			s->pv.pod = &s->pod;
		}
	}
	s->f.nids = nids;
	memset(s->f.consent_ids, 0, sizeof(s->f.consent_ids));
	for (unsigned i = 0; i < nids; i++)
		s->f.consent_ids[i] = keep(&p, f->consent_ids[i]);
	/* of the message, the writers read only the HTTP request and the event (its action:
	 * entry_close points msg.ev at the event it rebuilds from ev_head) */
	s->f.msg = &s->msg;
	if (f->msg && f->msg->http) {
		s->http = *f->msg->http;
		s->msg.http = &s->http;
	}
	return s;
}

/* Remove e from the table and the list, free it. */
static void entry_drop(struct dedup *d, struct dd_entry *e)
{
	struct dd_entry **pp = &d->buckets[e->hash & d->mask];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	if (e->prev)
		e->prev->next = e->next;
	else
		d->oldest = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		d->newest = e->prev;
	d->n--;
	free(e->snap);
	free(e);
}

/* End e's window: its merged finding, if it had repeats, then gone. 0 or the emit's error. */
static int entry_close(struct dedup *d, struct dd_entry *e)
{
	int err = 0;

	if (e->snap) {
		struct dd_snap *s = e->snap;
		struct cs_event ev;
		struct finding f = s->f;

		memset(&ev, 0, sizeof(ev));
		memcpy(&ev, s->ev_head, EV_HEAD);
		/* the request line and hits were not kept: none, the event says */
		ev.nhits = 0;
		ev.req_len = 0;
		ev.flags &= (__u8)~CS_EV_REQ;
		f.count = e->count;
		f.first_ns = e->first_ns;
		f.last_ns = e->last_ns;
		s->msg.ev = &ev;
		d->st.merged++;
		err = d->emit(&ev, &f, s->host, e->first_ns, &s->pv, d->ctx);
	}
	entry_drop(d, e);
	return err;
}

int dedup_expire(struct dedup *d, __s64 now_ns)
{
	int err = 0;

	while (d->oldest && d->oldest->open_ns <= now_ns - d->window_ns && !err)
		err = entry_close(d, d->oldest);
	return err;
}

int dedup_flush(struct dedup *d)
{
	int err = 0, e;

	while (d->oldest) {
		e = entry_close(d, d->oldest);
		err = err ? err : e;
	}
	return err;
}

int dedup_add(struct dedup *d, const struct cs_event *ev, const struct finding *f, const char *host,
	      __s64 t_ns, const struct proc_view *pv)
{
	char key[KEY_MAX];
	size_t len;
	struct dd_entry *e;
	__u64 h;
	int err;

	err = dedup_expire(d, t_ns);
	if (err)
		return err;
	len = key_make(key, ev, f, host);
	if (!len) {
		d->st.untracked++;
		return 1;
	}
	h = key_hash(key, len, f);
	e = lookup(d, h, key, len, f);
	/* events of two CPUs may come a little out of order: a window may have ended by t_ns
	 * without being the oldest */
	if (e && t_ns >= e->open_ns + d->window_ns) {
		err = entry_close(d, e);
		if (err)
			return err;
		e = NULL;
	}
	if (e) {
		if (!e->snap) {
			e->snap = snap_new(ev, f, host, pv);
			if (!e->snap) {
				d->st.untracked++;
				return 1;
			}
			e->first_ns = e->last_ns = t_ns;
		}
		e->count++;
		e->first_ns = t_ns < e->first_ns ? t_ns : e->first_ns;
		e->last_ns = t_ns > e->last_ns ? t_ns : e->last_ns;
		d->st.absorbed++;
		return 0;
	}
	if (d->n >= d->max_keys) {
		/* full: the oldest window ends early, its repeats written now */
		d->st.early++;
		d->st.early_merged += d->oldest->snap != NULL;
		err = entry_close(d, d->oldest);
		if (err)
			return err;
	}
	e = calloc(1, sizeof(*e) + len);
	if (!e) {
		d->st.untracked++;
		return 1;
	}
	memcpy(e->key, key, len);
	e->keylen = len;
	e->hash = h;
	e->open_ns = t_ns;
	e->fields = f->fields;
	e->unconsented = f->unconsented;
	e->verdict = f->verdict;
	e->blocked = finding_blocked(f);
	e->known = !!f->rcpt;
	e->hnext = d->buckets[h & d->mask];
	d->buckets[h & d->mask] = e;
	e->prev = d->newest;
	if (d->newest)
		d->newest->next = e;
	else
		d->oldest = e;
	d->newest = e;
	d->n++;
	d->st.windows++;
	return 1;
}

const struct dedup_stats *dedup_stats(const struct dedup *d)
{
	return &d->st;
}

unsigned dedup_open(const struct dedup *d)
{
	return d ? d->n : 0;
}

void dedup_free(struct dedup *d)
{
	if (!d)
		return;
	while (d->oldest)
		entry_drop(d, d->oldest);
	free(d->buckets);
	free(d);
}
