// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "verdict/correlate.h"
#include "monitor/dns.h"
#include "verdict/consent.h"
#include "lib/fields.h"
#include "lib/encodings.h"
#include "fpdb/fpfile.h"
#include "monitor/message.h"
#include "verdict/geoip.h"

/* What one message disclosed of one subject. */
struct subj_acc {
	__u32 subject;
	__u32 strong; /* FIELD_BIT mask */
	__u32 weak;   /* weak fields with every part seen */
	__u8 parts[CS_F_MAX];
	__u64 fps[FINDING_MAX_FPS];
	unsigned nfps;
	__u32 first_off;
	__u32 enc;
};

int event_family(const struct cs_event *ev, const __u8 **addr)
{
	static const __u8 mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	if (!(ev->flags & CS_EV_ADDR_V6)) {
		*addr = ev->daddr;
		return AF_INET;
	}
	if (!memcmp(ev->daddr, mapped, sizeof(mapped))) {
		*addr = ev->daddr + 12;
		return AF_INET;
	}
	*addr = ev->daddr;
	return AF_INET6;
}

/* "name:443" -> "name", "[2001:db8::1]:443" -> "2001:db8::1", lower-cased (an HTTP Host value). */
void host_strip_port(char *h)
{
	char *colon = strrchr(h, ':');
	size_t n;

	if (h[0] == '[') {
		char *close = strchr(h, ']');

		if (close) {
			n = close - h - 1;
			memmove(h, h + 1, n);
			h[n] = 0;
		}
	} else if (colon && colon == strchr(h, ':')) {
		*colon = 0;
	}
	for (char *p = h; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p |= 0x20;
}

/* Grow *p (elements of size sz) to hold at least want; 0 or -ENOMEM. */
static int grow(void *p, size_t *cap, size_t want, size_t sz)
{
	size_t n = *cap ? *cap : 64;
	void *q;

	if (want <= *cap)
		return 0;
	while (n < want)
		n *= 2;
	q = realloc(*(void **)p, n * sz);
	if (!q)
		return -ENOMEM;
	*(void **)p = q;
	*cap = n;
	return 0;
}

/* Subjects of one message: a table indexed by a hash of the subject index (load <= 1/2). */
static __u32 slot_of(__u32 subject, size_t cap)
{
	return (__u32)((subject * 0x9e3779b97f4a7c15ULL) >> 32) & (cap - 1);
}

static struct subj_acc *subj_get(struct correlator *c, unsigned *n, __u32 subject, int create)
{
	__u32 i = slot_of(subject, c->slot_used);

	for (; c->slot[i]; i = (i + 1) & (c->slot_used - 1))
		if (c->subj[c->slot[i] - 1].subject == subject)
			return &c->subj[c->slot[i] - 1];
	if (!create)
		return NULL;
	memset(&c->subj[*n], 0, sizeof(c->subj[*n]));
	c->subj[*n].subject = subject;
	c->subj[*n].first_off = 0xffffffff;
	c->slot[i] = ++*n;
	return &c->subj[*n - 1];
}

static void subj_add_fp(struct subj_acc *a, __u64 fp, __u32 off, __u32 enc)
{
	a->enc |= enc;
	for (unsigned i = 0; i < a->nfps; i++)
		if (a->fps[i] == fp)
			return;
	if (a->nfps < FINDING_MAX_FPS)
		a->fps[a->nfps++] = fp;
	if (off < a->first_off)
		a->first_off = off;
}

/* How hit h was encoded: decoded layers, carried across sends, hash variant of e. */
static __u32 hit_enc(const struct msg_hit *h, const struct fp_entry *e)
{
	return h->enc | ((h->start & CS_HIT_SPLIT) ? CS_ENC_SPLIT : 0) | fp_variant_enc(e->variant);
}

/*
 * Pass 0: every distinct hit looked up once, its entries copied (a loaded DB keeps a lookup's
 * result only for the next FPDB_LOOKUP_RING lookups). hit_ent[2h], [2h + 1]: first, count.
 */
static int resolve_hits(struct correlator *c, const struct msg *m)
{
	size_t used = 0;

	if (grow(&c->hit_ent, &c->hit_cap, 2 * m->nhits + 2, sizeof(*c->hit_ent)))
		return -ENOMEM;
	for (size_t h = 0; h < m->nhits; h++) {
		__u32 n;
		const struct fp_entry *e = fpdb_lookup(c->db, m->hits[h].fp, &n);

		c->hit_ent[2 * h] = (__u32)used;
		c->hit_ent[2 * h + 1] = 0;
		if (!e) {
			c->stats.unconfirmed++;
			continue;
		}
		if (grow(&c->ent, &c->nent_cap, used + n, sizeof(*c->ent)))
			return -ENOMEM;
		memcpy(c->ent + used, e, n * sizeof(*e));
		c->hit_ent[2 * h + 1] = n;
		used += n;
	}
	return 0;
}

/*
 * Pass 1 (strong: subjects are created) or 2 (weak parts count only for subjects already
 * there). Returns the subject count.
 */
static unsigned gather(struct correlator *c, const struct msg *m, int weak, unsigned nsubj)
{
	for (size_t h = 0; h < m->nhits; h++) {
		__u32 n = c->hit_ent[2 * h + 1];
		__u32 off = m->hits[h].start & ~CS_HIT_SPLIT;
		const struct fp_entry *e;

		/* an unconfirmed hit has no entries, and c->ent is NULL until one has (NULL + 0) */
		if (!n)
			continue;
		e = c->ent + c->hit_ent[2 * h];
		for (__u32 i = 0; i < n; i++) {
			struct subj_acc *a;

			if (field_is_weak(e[i].field) != weak)
				continue;
			a = subj_get(c, &nsubj, e[i].subject, !weak);
			if (!a)
				continue;
			if (!weak)
				a->strong |= FIELD_BIT(e[i].field);
			else if (++a->parts[e[i].field] >= e[i].nparts)
				a->weak |= FIELD_BIT(e[i].field);
			subj_add_fp(a, e[i].fp, off, hit_enc(&m->hits[h], &e[i]));
		}
	}
	return nsubj;
}

/* Room for every subject the message's entries may name (at most one per entry). */
static int subjects_room(struct correlator *c, const struct msg *m)
{
	size_t want = 0, cap;

	for (size_t h = 0; h < m->nhits; h++)
		want += c->hit_ent[2 * h + 1];
	if (grow(&c->subj, &c->subj_cap, want + 1, sizeof(*c->subj)))
		return -ENOMEM;
	for (cap = 16; cap < 2 * (want + 1); cap *= 2)
		;
	if (cap > c->slot_cap) {
		__u32 *s = realloc(c->slot, cap * sizeof(*s));

		if (!s)
			return -ENOMEM;
		c->slot = s;
		c->slot_cap = cap;
	}
	/* a table sized for this message: a small one after a bulk one clears little */
	c->slot_used = cap;
	memset(c->slot, 0, cap * sizeof(*c->slot));
	return 0;
}

void correlate_release(struct correlator *c)
{
	free(c->ent);
	free(c->hit_ent);
	free(c->subj);
	free(c->slot);
	c->ent = NULL;
	c->hit_ent = c->slot = NULL;
	c->subj = NULL;
	c->nent_cap = c->hit_cap = c->subj_cap = c->slot_cap = 0;
}

int correlate_event(struct correlator *c, const struct cs_event *ev, __s64 t_ns, finding_fn fn,
		    void *ctx)
{
	struct msg m = {0};
	int err;

	msg_reset(&m, ev);
	err = msg_add_kernel(&m, ev->hits, ev->nhits > CS_MAX_HITS ? CS_MAX_HITS : ev->nhits);
	if (!err)
		err = correlate_message(c, &m, t_ns, fn, ctx);
	msg_release(&m);
	return err;
}

/* A correlator nobody gave a profile (tests, tools): PIPL in CN, the spec's default. */
static const struct law_profile *law_of(const struct correlator *c)
{
	static const struct law_profile pipl_cn = {
	    .law = LAW_PIPL, .jurisdiction = "CN", .minor_age = 14};

	return c->law.minor_age ? &c->law : &pipl_cn;
}

void correlate_dest(const struct correlator *c, struct verdict_dest *d, int family,
		    const __u8 *addr, __u16 port, const char *host, const char *path)
{
	recipients_match(c->rcpts, family, addr, port, host, path, &d->m);
	memcpy(d->country, d->m.country, sizeof(d->country));
	/* --geoip places only unknown recipients: a known one is where its row says */
	if (!d->m.rcpt && c->geoip && addr)
		geoip_country(c->geoip, family, addr, d->country);
	d->cross_border = law_cross_border(law_of(c), d->country);
}

void correlate_verdict(const struct correlator *c, struct finding *f, __u32 subject,
		       const struct verdict_dest *d, __s64 t_ns)
{
	const struct recipient *rcpt = d->m.rcpt;
	struct consent_need need = {0};
	__u32 cov;

	f->purpose = d->m.purpose;
	memcpy(f->country, d->country, sizeof(f->country));
	f->cross_border = d->cross_border;
	f->sensitive = f->fields & c->db->sensitive;
	f->minor = is_minor(c->db, subject, t_ns, law_of(c)->minor_age);
	f->nids = 0;
	f->violations = 0;
	f->unconsented = 0;
	if (rcpt && (rcpt->kind == RK_FIRST_PARTY || rcpt->kind == RK_PROCESSOR)) {
		f->verdict = V_EXEMPT;
		return;
	}
	need.purpose = d->m.purpose;
	need.sensitive = f->sensitive;
	need.minor = f->minor;
	need.cross_border = f->cross_border == 1;
	cov = consent_check(c->consent, f->subject, rcpt ? rcpt->name : NULL, f->fields, t_ns,
			    &need, &f->violations, f->consent_ids, &f->nids, FINDING_MAX_IDS);
	f->unconsented = f->fields & ~cov;
	f->verdict = f->unconsented ? V_UNCONSENTED : V_CONSENTED;
}

int correlate_message(struct correlator *c, struct msg *m, __s64 t_ns, finding_fn fn, void *ctx)
{
	const struct cs_event *ev = m->ev;
	struct verdict_dest dest;
	const char *host = m->host;
	char hostbuf[CS_HOST_LEN], msg_id[32];
	const __u8 *addr;
	unsigned nsubj = 0;
	int family, nfound = 0;

	c->stats.events++;
	msg_unique(m);
	c->stats.hits += m->nhits;
	if (resolve_hits(c, m) || subjects_room(c, m)) {
		c->stats.oom++;
		return 0;
	}
	nsubj = gather(c, m, 0, 0);
	if (!nsubj)
		return 0;
	gather(c, m, 1, nsubj);

	family = event_family(ev, &addr);
	if (!host && (ev->flags & CS_EV_HOST)) {
		memcpy(hostbuf, ev->host, sizeof(hostbuf));
		hostbuf[sizeof(hostbuf) - 1] = 0;
		host_strip_port(hostbuf);
		host = hostbuf[0] ? hostbuf : NULL;
	}
	/* no Host header or SNI: the name the host's DNS answers gave this address */
	if (!host && c->dns)
		host = dns_cache_lookup(c->dns, family, addr, ev->ts_ns / 1000000000ULL);
	/* the destination's recipient, country and abroad-ness: once a message, not a subject */
	correlate_dest(c, &dest, family, addr, ev->dport, host, m->http ? m->http->path : NULL);
	snprintf(msg_id, sizeof(msg_id), "%08x-%llu", c->instance, (unsigned long long)ev->seq);

	for (unsigned s = 0; s < nsubj; s++) {
		const struct subj_acc *a = &c->subj[s];
		struct finding f = {0};
		int err;

		f.subject = fpdb_subject(c->db, a->subject);
		f.fields = a->strong | a->weak;
		f.rcpt = dest.m.rcpt;
		memcpy(f.fps, a->fps, sizeof(f.fps[0]) * a->nfps);
		f.nfps = a->nfps;
		f.first_off = a->first_off;
		f.encodings = a->enc;
		memcpy(f.msg_id, msg_id, sizeof(f.msg_id));
		f.msg_subjects = nsubj;
		f.msg = m;
		correlate_verdict(c, &f, a->subject, &dest, t_ns);
		c->stats.findings++;
		nfound++;
		err = fn(ev, &f, host, t_ns, ctx);
		if (err < 0)
			return err;
	}
	return nfound;
}
