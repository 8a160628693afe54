// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "correlate.h"
#include "dns.h"
#include "consent.h"
#include "fields.h"
#include "encodings.h"
#include "fpfile.h"

#define MAX_SUBJECTS 64

struct subj_acc {
	__u32 subject;
	__u32 strong; /* FIELD_BIT mask */
	__u32 weak;   /* weak fields with every part seen */
	__u8 parts[CS_F_MAX];
	__u64 fps[CS_MAX_HITS];
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

static struct subj_acc *subj_get(struct subj_acc *s, unsigned *n, __u32 subject, int create)
{
	for (unsigned i = 0; i < *n; i++)
		if (s[i].subject == subject)
			return &s[i];
	if (!create || *n == MAX_SUBJECTS)
		return NULL;
	memset(&s[*n], 0, sizeof(s[*n]));
	s[*n].subject = subject;
	s[*n].first_off = 0xffffffff;
	return &s[(*n)++];
}

static void subj_add_fp(struct subj_acc *a, __u64 fp, __u32 off, __u32 enc)
{
	a->enc |= enc;
	for (unsigned i = 0; i < a->nfps; i++)
		if (a->fps[i] == fp)
			return;
	if (a->nfps < CS_MAX_HITS)
		a->fps[a->nfps++] = fp;
	if (off < a->first_off)
		a->first_off = off;
}

/* How hit h of ev was encoded: decoded layers, carried across sends, hash variant of e. */
static __u32 hit_enc(const struct cs_event *ev, const __u32 *enc, unsigned h,
		     const struct fp_entry *e)
{
	return (enc ? enc[h] : 0) | ((ev->hits[h].start & CS_HIT_SPLIT) ? CS_ENC_SPLIT : 0) |
	       fp_variant_enc(e->variant);
}

int correlate_event(struct correlator *c, const struct cs_event *ev, const __u32 *enc, __s64 t_ns,
		    finding_fn fn, void *ctx)
{
	struct subj_acc subj[MAX_SUBJECTS];
	struct {
		const struct fp_entry *e;
		__u32 n;
	} look[CS_MAX_HITS] = {0};
	unsigned nsubj = 0, nhits = ev->nhits > CS_MAX_HITS ? CS_MAX_HITS : ev->nhits;
	const struct recipient *rcpt;
	const char *host = (ev->flags & CS_EV_HOST) ? (const char *)ev->host : NULL;
	char hostbuf[CS_HOST_LEN];
	const __u8 *addr;
	int family, nfound = 0;

	c->stats.events++;
	c->stats.hits += nhits;
	/* pass 1: strong fields create subjects (each hit is looked up once, kept for pass 2) */
	for (unsigned h = 0; h < nhits; h++) {
		__u32 n;
		const struct fp_entry *e = fpdb_lookup(c->db, ev->hits[h].fp, &n);

		look[h].e = e;
		look[h].n = n;
		if (!e) {
			c->stats.unconfirmed++;
			continue;
		}
		for (__u32 i = 0; i < n; i++) {
			struct subj_acc *a;

			if (field_is_weak(e[i].field))
				continue;
			a = subj_get(subj, &nsubj, e[i].subject, 1);
			if (!a)
				break;
			a->strong |= FIELD_BIT(e[i].field);
			subj_add_fp(a, e[i].fp, ev->hits[h].start & ~CS_HIT_SPLIT,
				    hit_enc(ev, enc, h, &e[i]));
		}
	}
	if (!nsubj)
		return 0;
	/* pass 2: weak parts count only for subjects already present */
	for (unsigned h = 0; h < nhits; h++) {
		const struct fp_entry *e = look[h].e;
		__u32 n = look[h].n;

		for (__u32 i = 0; e && i < n; i++) {
			struct subj_acc *a;

			if (!field_is_weak(e[i].field))
				continue;
			a = subj_get(subj, &nsubj, e[i].subject, 0);
			if (!a)
				continue;
			if (++a->parts[e[i].field] >= e[i].nparts)
				a->weak |= FIELD_BIT(e[i].field);
			subj_add_fp(a, e[i].fp, ev->hits[h].start & ~CS_HIT_SPLIT,
				    hit_enc(ev, enc, h, &e[i]));
		}
	}

	family = event_family(ev, &addr);
	if (host) {
		memcpy(hostbuf, host, sizeof(hostbuf));
		hostbuf[sizeof(hostbuf) - 1] = 0;
		host_strip_port(hostbuf);
		host = hostbuf[0] ? hostbuf : NULL;
	}
	/* no Host header or SNI: the name the host's DNS answers gave this address */
	if (!host && c->dns)
		host = dns_cache_lookup(c->dns, family, addr, ev->ts_ns / 1000000000ULL);
	rcpt = recipients_resolve(c->rcpts, family, addr, ev->dport, host);

	for (unsigned s = 0; s < nsubj; s++) {
		struct finding f = {0};
		int err;

		/* cppcheck-suppress uninitvar ; subj[0..nsubj) were filled by subj_get() */
		f.subject = fpdb_subject(c->db, subj[s].subject);
		f.fields = subj[s].strong | subj[s].weak;
		f.rcpt = rcpt;
		memcpy(f.fps, subj[s].fps, sizeof(f.fps[0]) * subj[s].nfps);
		f.nfps = subj[s].nfps;
		f.first_off = subj[s].first_off;
		f.encodings = subj[s].enc;
		if (rcpt && (rcpt->kind == RK_FIRST_PARTY || rcpt->kind == RK_PROCESSOR)) {
			f.verdict = V_EXEMPT;
		} else {
			__u32 cov = 0;

			if (rcpt)
				cov =
				    consent_covered(c->consent, f.subject, rcpt->name, f.fields,
						    t_ns, f.consent_ids, &f.nids, FINDING_MAX_IDS);
			f.unconsented = f.fields & ~cov;
			f.verdict = f.unconsented ? V_UNCONSENTED : V_CONSENTED;
		}
		c->stats.findings++;
		nfound++;
		err = fn(ev, &f, host, t_ns, ctx);
		if (err < 0)
			return err;
	}
	return nfound;
}
