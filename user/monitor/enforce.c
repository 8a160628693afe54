// SPDX-License-Identifier: GPL-2.0-only
/* run --block: the kernel's enforce tables and lease (see enforce.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <bpf/bpf.h>

#include "cs_abi.h"
#include "cs_hash.h"
#include "fpdb/fpfile.h"
#include "lib/fields.h"
#include "lib/log.h"
#include "lib/util.h"
#include "monitor/enforce.h"
#include "verdict/consent.h"
#include "verdict/law.h"
#include "verdict/recipients.h"

/* A strong fingerprint of one subject's value. */
struct sent {
	__u64 fp;
	__u32 subject;
	__u32 field;
};

/* A subject id's hash (FNV-1a 64) and its index: subject ids of consent rows to the DB's. */
struct sidx {
	__u64 h;
	__u32 subject;
};

/* A key (zero-padded) and value of one of the kernel's selector or consent tables. */
#define KV_KEY 24
struct kv {
	__u8 k[KV_KEY];
	struct cs_enf_rcpt v;
};

struct kvset {
	struct kv *v;
	size_t len, cap;
};

enum { KEPT_CONSENT, KEPT_IPPORT, KEPT_NET, KEPT_HOST, KEPT_N };

struct dnsent {
	struct cs_enf_addr a;
	struct cs_enf_rcpt v;
	__u64 expires; /* CLOCK_MONOTONIC ns */
	char *name;    /* the name asked for: resolved again after a reload */
};

struct enforce {
	struct enforce_maps m;
	struct enforce_cfg cfg;
	struct sent *ents; /* sorted by subject */
	size_t nents;
	struct sidx *subs; /* sorted by h */
	size_t nsubs;
	/*
	 * What the consent, IP:port, CIDR and host maps hold, as last synced (sorted): a sync
	 * writes only the difference. kept_ok 0 (at start, after a failed sync): not known, the
	 * sync writes everything and walks the map for stale keys. enforce_dns looks host
	 * names up in kept[KEPT_HOST].
	 */
	struct kvset kept[KEPT_N];
	int kept_ok[KEPT_N];
	struct dnsent *dns;
	size_t ndns, capdns;
	/*
	 * Recipient numbers the kernel sees, stable across reloads (a reload that reorders
	 * recipients.csv must not renumber them under the other tables): names[id], and id_of[i]
	 * for recipient i of the table being synced.
	 */
	char **names;
	size_t nnames, capnames;
	__u32 *id_of;
	const struct recipients *r; /* as last synced */
	const struct consent_db *c;
	__s64 next_change; /* consent_next_change at the last sync */
	int trusted;	   /* the last sync succeeded: the lease may be renewed */
	struct enforce_stats st;
};

static int sent_cmp(const void *a, const void *b)
{
	const struct sent *x = a, *y = b;

	if (x->subject != y->subject)
		return x->subject < y->subject ? -1 : 1;
	return x->fp < y->fp ? -1 : x->fp > y->fp;
}

static int sidx_cmp(const void *a, const void *b)
{
	const struct sidx *x = a, *y = b;

	return x->h < y->h ? -1 : x->h > y->h;
}

static int kv_cmp(const void *a, const void *b)
{
	return memcmp(((const struct kv *)a)->k, ((const struct kv *)b)->k, KV_KEY);
}

static int kv_add(struct kvset *s, const void *k, size_t ksz, struct cs_enf_rcpt v)
{
	int err = grow_array((void **)&s->v, &s->cap, s->len + 1, sizeof(*s->v), 64);

	if (err)
		return err;
	memset(&s->v[s->len], 0, sizeof(s->v[s->len]));
	memcpy(s->v[s->len].k, k, ksz);
	s->v[s->len].v = v;
	s->len++;
	return 0;
}

static void kv_sort(struct kvset *s)
{
	if (s->len)
		qsort(s->v, s->len, sizeof(*s->v), kv_cmp);
}

/* Write entry x of a kvset into map fd (vsz 0: the value is one byte 1). */
static int kv_write(int fd, const struct kv *x, size_t vsz)
{
	__u8 one = 1;

	if (fd >= 0 && bpf_map_update_elem(fd, x->k, vsz ? (const void *)&x->v : &one, 0))
		return -errno;
	return 0;
}

static int kv_erase(int fd, const struct kv *x)
{
	if (fd >= 0 && bpf_map_delete_elem(fd, x->k) && errno != ENOENT)
		return -errno;
	return 0;
}

/* Not knowing what fd holds: every entry of want written, then the map walked for stale keys. */
static int map_sync_all(struct enforce *e, int fd, const struct kvset *want, size_t ksz, size_t vsz)
{
	struct kvset stale = {0};
	struct kv cur = {0}, next = {0};
	int err = 0, first = 1;

	for (size_t i = 0; i < want->len && !err; i++, e->st.writes++)
		err = kv_write(fd, &want->v[i], vsz);
	while (!err && fd >= 0 && !bpf_map_get_next_key(fd, first ? NULL : cur.k, next.k)) {
		first = 0;
		cur = next;
		if (!want->len || !bsearch(&cur, want->v, want->len, sizeof(*want->v), kv_cmp))
			err = kv_add(&stale, cur.k, ksz, cur.v);
		memset(&next, 0, sizeof(next));
	}
	for (size_t i = 0; !err && i < stale.len; i++, e->st.writes++)
		err = kv_erase(fd, &stale.v[i]);
	free(stale.v);
	return err;
}

/*
 * Make map fd hold exactly *want (sorted) and take it over as e->kept[t]: new and changed
 * entries written first, then the ones gone deleted, so an entry that stays is never missing.
 * With kept[t] known only the difference is written: O(change) map calls per sync, not
 * O(table). 0 or -errno (kept[t] is then unknown; want stays the caller's).
 */
static int map_sync(struct enforce *e, int t, int fd, struct kvset *want, size_t ksz, size_t vsz)
{
	struct kvset *have = &e->kept[t];
	int err = 0;

	if (!e->kept_ok[t]) {
		err = map_sync_all(e, fd, want, ksz, vsz);
	} else {
		size_t i = 0, j = 0;

		/* both sorted by key: a merge */
		while (!err && i < want->len) {
			int c = j < have->len ? kv_cmp(&want->v[i], &have->v[j]) : -1;

			if (c > 0) {
				j++;
				continue;
			}
			if (c < 0 || memcmp(&want->v[i].v, &have->v[j].v, sizeof(want->v[i].v))) {
				err = kv_write(fd, &want->v[i], vsz);
				e->st.writes++;
			}
			i++;
			j += c == 0;
		}
		for (i = 0, j = 0; !err && j < have->len; j++) {
			while (i < want->len && kv_cmp(&want->v[i], &have->v[j]) < 0)
				i++;
			if (i == want->len || kv_cmp(&want->v[i], &have->v[j])) {
				err = kv_erase(fd, &have->v[j]);
				e->st.writes++;
			}
		}
	}
	e->kept_ok[t] = !err;
	if (err)
		return err;
	free(have->v);
	*have = *want;
	memset(want, 0, sizeof(*want));
	return 0;
}

static int ents_build(struct enforce *e)
{
	struct fpdb_iter it;
	struct fp_entry fe;
	size_t cap = 0;
	__u64 last = 0;
	__u8 one = 1;
	int err;

	fpdb_iter_init(&it, e->cfg.db);
	while (fpdb_iter_next(&it, &fe)) {
		if (field_is_weak(fe.field))
			continue;
		err = grow_array((void **)&e->ents, &cap, e->nents + 1, sizeof(*e->ents), 1024);
		if (err)
			return err;
		e->ents[e->nents++] =
		    (struct sent){.fp = fe.fp, .subject = fe.subject, .field = fe.field};
		/* the iterator gives the entries of one fingerprint one after another */
		if (e->nents > 1 && fe.fp == last)
			continue;
		last = fe.fp;
		e->st.fps++;
		if (e->m.fp >= 0 && bpf_map_update_elem(e->m.fp, &fe.fp, &one, 0)) {
			err = -errno;
			pr_err("--block: cannot fill the kernel's fingerprint table (%zu in): %s",
			       e->nents, strerror(errno));
			return err;
		}
	}
	if (fpdb_failed(e->cfg.db))
		return -EIO;
	if (e->nents)
		qsort(e->ents, e->nents, sizeof(*e->ents), sent_cmp);
	/* one id hash per subject with strong values */
	e->subs = calloc(e->nents ? e->nents : 1, sizeof(*e->subs));
	if (!e->subs)
		return -ENOMEM;
	for (size_t i = 0; i < e->nents; i++)
		if (!i || e->ents[i].subject != e->ents[i - 1].subject)
			e->subs[e->nsubs++] = (struct sidx){
			    .h = cs_acc_str(CS_FNV_OFFSET,
					    fpdb_subject(e->cfg.db, e->ents[i].subject)),
			    .subject = e->ents[i].subject};
	if (e->nsubs)
		qsort(e->subs, e->nsubs, sizeof(*e->subs), sidx_cmp);
	return 0;
}

/* The DB's index of subject id s, or -1 when it has no strong value. */
static long subject_of(const struct enforce *e, const char *s)
{
	struct sidx key = {.h = cs_acc_str(CS_FNV_OFFSET, s)};
	const struct sidx *p =
	    e->nsubs ? bsearch(&key, e->subs, e->nsubs, sizeof(*p), sidx_cmp) : NULL;

	if (!p)
		return -1;
	while (p > e->subs && p[-1].h == key.h)
		p--;
	for (; p < e->subs + e->nsubs && p->h == key.h; p++)
		if (!strcmp(fpdb_subject(e->cfg.db, p->subject), s))
			return p->subject;
	return -1;
}

/* The strong entries of subject: [*first, return) in e->ents. */
static size_t ents_of(const struct enforce *e, __u32 subject, size_t *first)
{
	size_t lo = 0, hi = e->nents;

	LOWER_BOUND(lo, hi, mid, e->ents[mid].subject < subject);
	*first = lo;
	while (hi < e->nents && e->ents[hi].subject == subject)
		hi++;
	return hi;
}

struct pair_walk {
	const struct enforce *e;
	const struct recipients *r;
	const struct consent_db *c;
	__s64 now;
	struct kvset out;
};

/* id_of for r: each recipient's number by name, new names numbered after the known ones. */
static int ids_assign(struct enforce *e, const struct recipients *r)
{
	size_t n = recipients_count(r);
	__u32 *ids = calloc(n ? n : 1, sizeof(*ids));

	if (!ids)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const char *name = recipients_at(r, i)->name;
		size_t k;

		for (k = 0; k < e->nnames && strcmp(e->names[k], name); k++)
			;
		if (k == e->nnames) {
			if (grow_array((void **)&e->names, &e->capnames, e->nnames + 1,
				       sizeof(*e->names), 16) ||
			    !(e->names[k] = strdup(name))) {
				free(ids);
				return -ENOMEM;
			}
			e->nnames++;
		}
		ids[i] = (__u32)k;
	}
	free(e->id_of);
	e->id_of = ids;
	return 0;
}

static int pair_one(const char *subject, const char *recipient, void *arg)
{
	struct pair_walk *w = arg;
	const struct enforce *e = w->e;
	const struct recipient *rc = recipients_find(w->r, recipient);
	struct consent_need need = {0};
	size_t first, end;
	__u32 fields = 0, covered;
	const char *country;
	long s;
	int err;

	/* first parties and processors need no consent: the kernel never asks */
	if (!rc || rc->kind != RK_THIRD_PARTY)
		return 0;
	s = subject_of(e, subject);
	if (s < 0)
		return 0;
	end = ents_of(e, (__u32)s, &first);
	for (size_t i = first; i < end; i++)
		fields |= FIELD_BIT(e->ents[i].field);
	need.sensitive = fields & e->cfg.db->sensitive;
	need.minor = e->cfg.law && is_minor(e->cfg.db, (__u32)s, w->now, e->cfg.law->minor_age);
	country = recipients_country(w->r, recipients_index(w->r, rc));
	need.cross_border = e->cfg.law && country && law_cross_border(e->cfg.law, country) == 1;
	covered =
	    consent_check(w->c, subject, recipient, fields, w->now, &need, NULL, NULL, NULL, 0);
	for (size_t i = first; i < end; i++) {
		struct cs_enf_pair p = {.fp = e->ents[i].fp,
					.rid = e->id_of[recipients_index(w->r, rc)]};

		if (!(covered & FIELD_BIT(e->ents[i].field)))
			continue;
		err = kv_add(&w->out, &p, sizeof(p), (struct cs_enf_rcpt){0});
		if (err)
			return err;
	}
	return 0;
}

int enforce_pairs(const struct enforce *e, const struct recipients *r, const struct consent_db *c,
		  __s64 now_ns, struct cs_enf_pair **out, size_t *n)
{
	struct pair_walk w = {.e = e, .r = r, .c = c, .now = now_ns};
	struct cs_enf_pair *p;
	size_t k = 0;
	int err = consent_walk_pairs(c, pair_one, &w);

	*out = NULL;
	*n = 0;
	if (err) {
		free(w.out.v);
		return err;
	}
	kv_sort(&w.out);
	p = calloc(w.out.len ? w.out.len : 1, sizeof(*p));
	if (!p) {
		free(w.out.v);
		return -ENOMEM;
	}
	for (size_t i = 0; i < w.out.len; i++)
		if (!i || kv_cmp(&w.out.v[i], &w.out.v[i - 1]))
			memcpy(&p[k++], w.out.v[i].k, sizeof(*p));
	free(w.out.v);
	*out = p;
	*n = k;
	return 0;
}

struct sel_walk {
	const struct enforce *e;
	const struct recipients *r;
	struct kvset ipport, net, host;
};

static struct cs_enf_rcpt rcpt_val(const struct enforce *e, const struct recipients *r, size_t i)
{
	const struct recipient *rc = recipients_at(r, i);

	return (struct cs_enf_rcpt){
	    .rid = e->id_of[i], .flags = rc && rc->kind != RK_THIRD_PARTY ? CS_ENF_R_EXEMPT : 0};
}

static int sel_one(const struct rsel *s, void *arg)
{
	struct sel_walk *w = arg;
	struct cs_enf_rcpt v = rcpt_val(w->e, w->r, s->rcpt);

	switch (s->type) {
	case RSEL_NET: {
		struct cs_enf_net k = {.prefixlen = 8 + s->plen, .v6 = (__u8)s->v6};

		memcpy(k.addr, s->addr, 16);
		return kv_add(&w->net, &k, sizeof(k), v);
	}
	case RSEL_IPPORT: {
		struct cs_enf_addr k = {.port = s->port, .v6 = (__u8)s->v6};

		memcpy(k.addr, s->addr, 16);
		return kv_add(&w->ipport, &k, sizeof(k), v);
	}
	case RSEL_HOST:
	case RSEL_WILD: {
		__u64 k = cs_host_hash(w->e->cfg.b1, w->e->cfg.b2, s->host, (__u32)strlen(s->host));

		if (s->type == RSEL_WILD)
			k |= CS_ENF_WILD;
		return kv_add(&w->host, &k, sizeof(k), v);
	}
	}
	return 0;
}

/*
 * Hosts: one entry per name. A name several recipients share (told apart by path prefixes,
 * which the kernel does not see) stays a known destination that is never checked for consent.
 */
static void hosts_merge(struct enforce *e, struct kvset *h)
{
	size_t k = 0;

	kv_sort(h);
	e->st.host_shared = 0;
	for (size_t i = 0; i < h->len; i++) {
		if (k && !kv_cmp(&h->v[k - 1], &h->v[i])) {
			if (h->v[k - 1].v.rid != h->v[i].v.rid &&
			    !(h->v[k - 1].v.flags & CS_ENF_R_NOCHECK)) {
				h->v[k - 1].v.flags |= CS_ENF_R_NOCHECK;
				e->st.host_shared++;
			}
			continue;
		}
		h->v[k++] = h->v[i];
	}
	h->len = k;
}

static const struct kv *host_find(const struct enforce *e, const char *name);

static __s64 next_midnight(__s64 t_ns)
{
	const __s64 day = 86400LL * 1000000000LL;

	return (t_ns / day + 1) * day;
}

/* After a sync: each DNS address takes its name's recipient under the new selectors, if any. */
static void dns_resolve_again(struct enforce *e)
{
	size_t k = 0;

	for (size_t i = 0; i < e->ndns; i++) {
		const struct kv *hit = host_find(e, e->dns[i].name);

		if (!hit ||
		    (e->m.dns >= 0 && bpf_map_update_elem(e->m.dns, &e->dns[i].a, &hit->v, 0))) {
			bpf_map_delete_elem(e->m.dns, &e->dns[i].a);
			free(e->dns[i].name);
			continue;
		}
		e->dns[i].v = hit->v;
		e->dns[k++] = e->dns[i];
	}
	e->ndns = k;
	e->st.dns = k;
}

static void lease_set(struct enforce *e, __u64 until)
{
	if (e->m.deadline)
		__atomic_store_n(e->m.deadline, until, __ATOMIC_RELEASE);
}

int enforce_sync(struct enforce *e, const struct recipients *r, const struct consent_db *c,
		 __s64 now_ns)
{
	struct sel_walk w = {.e = e, .r = r};
	struct cs_enf_pair *pairs = NULL;
	struct kvset ps = {0};
	size_t np = 0;
	int err;

	e->st.syncs++;
	/* what the next tick syncs to if this one fails: the caller frees the old tables */
	e->r = r;
	e->c = c;
	err = ids_assign(e, r);
	if (!err)
		err = recipients_walk(r, sel_one, &w);
	if (!err)
		err = enforce_pairs(e, r, c, now_ns, &pairs, &np);
	for (size_t i = 0; !err && i < np; i++)
		err = kv_add(&ps, &pairs[i], sizeof(pairs[i]), (struct cs_enf_rcpt){0});
	free(pairs);
	if (!err) {
		kv_sort(&w.ipport);
		kv_sort(&w.net);
		hosts_merge(e, &w.host);
		/* consent first: a pair a reload adds unblocks before anything else changes */
		err = map_sync(e, KEPT_CONSENT, e->m.consent, &ps, sizeof(struct cs_enf_pair), 0);
		if (!err)
			err = map_sync(e, KEPT_IPPORT, e->m.ipport, &w.ipport,
				       sizeof(struct cs_enf_addr), sizeof(struct cs_enf_rcpt));
		if (!err)
			err = map_sync(e, KEPT_NET, e->m.net, &w.net, sizeof(struct cs_enf_net),
				       sizeof(struct cs_enf_rcpt));
		if (!err)
			err = map_sync(e, KEPT_HOST, e->m.host, &w.host, sizeof(__u64),
				       sizeof(struct cs_enf_rcpt));
	}
	free(ps.v);
	free(w.ipport.v);
	free(w.net.v);
	free(w.host.v);
	if (err) {
		e->st.sync_errors++;
		lease_set(e, 0);
		/* said once; the ticks retry every second */
		if (e->trusted)
			pr_err("--block: cannot update the kernel's tables: %s; nothing is refused "
			       "until they are",
			       strerror(-err));
		e->trusted = 0;
		return err;
	}
	e->st.pairs = np;
	e->st.selectors = e->kept[KEPT_IPPORT].len + e->kept[KEPT_NET].len + e->kept[KEPT_HOST].len;
	/* a subject's age (minors need guardian=yes) changes at UTC midnights */
	e->next_change = consent_next_change(c, now_ns);
	if (e->next_change > next_midnight(now_ns))
		e->next_change = next_midnight(now_ns);
	e->trusted = 1;
	dns_resolve_again(e);
	return 0;
}

int enforce_start(struct enforce **out, const struct enforce_maps *m, const struct enforce_cfg *cfg,
		  const struct recipients *r, const struct consent_db *c, __s64 now_ns)
{
	struct enforce *e = calloc(1, sizeof(*e));
	int err;

	*out = NULL;
	if (!e)
		return -ENOMEM;
	e->m = *m;
	e->cfg = *cfg;
	e->trusted = 1; /* a failing first sync is said */
	lease_set(e, 0);
	err = ents_build(e);
	if (!err)
		err = enforce_sync(e, r, c, now_ns);
	if (err) {
		enforce_stop(e);
		return err;
	}
	*out = e;
	return 0;
}

void enforce_tick(struct enforce *e, __s64 now_ns, __u64 mono_ns)
{
	size_t k = 0;

	if (!e)
		return;
	if (now_ns >= e->next_change || !e->trusted)
		enforce_sync(e, e->r, e->c, now_ns);
	for (size_t i = 0; i < e->ndns; i++) {
		if (e->dns[i].expires <= mono_ns) {
			bpf_map_delete_elem(e->m.dns, &e->dns[i].a);
			free(e->dns[i].name);
			continue;
		}
		e->dns[k++] = e->dns[i];
	}
	e->ndns = k;
	e->st.dns = k;
	if (e->trusted)
		lease_set(e, mono_ns + CS_ENF_LEASE_NS);
}

/* The kernel's host lookup of name over the host map as synced: exact, then the longest suffix. */
static const struct kv *host_find(const struct enforce *e, const char *name)
{
	const struct kvset *hosts = &e->kept[KEPT_HOST];
	size_t n = strlen(name);
	struct kv key = {0};
	const struct kv *hit;
	__u64 h;

	if (n && name[n - 1] == '.')
		n--;
	h = cs_host_hash(e->cfg.b1, e->cfg.b2, name, (__u32)n);
	memcpy(key.k, &h, sizeof(h));
	hit = hosts->len ? bsearch(&key, hosts->v, hosts->len, sizeof(key), kv_cmp) : NULL;
	for (size_t i = 0; !hit && i < n; i++) {
		if (name[i] != '.')
			continue;
		h = cs_host_hash(e->cfg.b1, e->cfg.b2, name + i + 1, (__u32)(n - i - 1)) |
		    CS_ENF_WILD;
		memcpy(key.k, &h, sizeof(h));
		hit = hosts->len ? bsearch(&key, hosts->v, hosts->len, sizeof(key), kv_cmp) : NULL;
	}
	return hit;
}

long enforce_dns(struct enforce *e, int family, const void *addr, const char *name, __u32 ttl_s,
		 __u64 mono_ns)
{
	const struct kv *hit;
	struct dnsent d = {0};
	size_t i;

	if (!e || !name || (family != AF_INET && family != AF_INET6))
		return -1;
	hit = host_find(e, name);
	if (!hit)
		return -1;
	memcpy(d.a.addr, addr, family == AF_INET ? 4 : 16);
	d.a.v6 = family == AF_INET6;
	d.v = hit->v;
	d.expires = mono_ns + (__u64)(ttl_s < 60 ? 60 : ttl_s) * 1000000000ULL;
	d.name = strdup(name);
	if (!d.name)
		return -1;
	for (i = 0; i < e->ndns; i++)
		if (!memcmp(&e->dns[i].a, &d.a, sizeof(d.a)))
			break;
	if (i == e->ndns) {
		if (grow_array((void **)&e->dns, &e->capdns, e->ndns + 1, sizeof(*e->dns), 64)) {
			free(d.name);
			return -1;
		}
		e->ndns++;
	} else {
		free(e->dns[i].name);
	}
	e->dns[i] = d;
	if (e->m.dns >= 0 && bpf_map_update_elem(e->m.dns, &d.a, &d.v, 0)) {
		pr_debug("--block: DNS address not kept: %s", strerror(errno));
		free(d.name);
		e->dns[i] = e->dns[--e->ndns];
		e->st.dns = e->ndns;
		return -1;
	}
	e->st.dns = e->ndns;
	return d.v.rid;
}

void enforce_get_stats(const struct enforce *e, struct enforce_stats *st)
{
	*st = e ? e->st : (struct enforce_stats){0};
}

void enforce_stop(struct enforce *e)
{
	if (!e)
		return;
	lease_set(e, 0);
	free(e->ents);
	free(e->subs);
	for (int t = 0; t < KEPT_N; t++)
		free(e->kept[t].v);
	for (size_t i = 0; i < e->ndns; i++)
		free(e->dns[i].name);
	free(e->dns);
	for (size_t i = 0; i < e->nnames; i++)
		free(e->names[i]);
	free(e->names);
	free(e->id_of);
	free(e);
}
