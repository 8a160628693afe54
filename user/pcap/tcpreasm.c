// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cs_hash.h"
#include "pcap/tcpreasm.h"

/* A segment waiting for the gap before it: payload bytes, wiped when freed. */
struct tcp_seg {
	struct tcp_seg *next;
	__u32 seq, len;
	__s64 ts_ns;
	__u8 data[];
};

struct tcp_table {
	struct tcp_ops ops;
	void *ctx;
	size_t user_size;
	unsigned dirs;
	__u32 ooo_max;
	__u64 table_max, ooo_total;
	struct tcp_conn **bucket;
	size_t nbucket, nconn; /* nbucket: a power of two */
	__u64 next_id;
	struct tcp_stats st;
};

/* a - b in sequence space (RFC 1982): negative when a comes before b */
static __s32 seq_diff(__u32 a, __u32 b)
{
	return (__s32)(a - b);
}

struct tcp_table *tcp_table_new(const struct tcp_ops *ops, void *ctx, size_t user_size,
				unsigned dirs, __u32 ooo_max, __u64 table_max)
{
	struct tcp_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->ops = *ops;
	t->ctx = ctx;
	t->user_size = user_size;
	t->dirs = dirs;
	t->ooo_max = ooo_max ? ooo_max : TCP_OOO_MAX_DEFAULT;
	t->table_max = table_max ? table_max : TCP_OOO_TABLE_MAX_DEFAULT;
	t->nbucket = 1024;
	t->bucket = calloc(t->nbucket, sizeof(*t->bucket));
	if (!t->bucket) {
		free(t);
		return NULL;
	}
	return t;
}

static void seg_free(struct tcp_table *t, struct tcp_seg *s)
{
	t->ooo_total -= s->len;
	explicit_bzero(s->data, s->len);
	free(s);
}

/* Hand over what waits at or before h->next (trimmed to what is new), in order. */
static void drain(struct tcp_table *t, struct tcp_conn *c, int dir, __s64 ts_ns)
{
	struct tcp_half *h = &c->half[dir];

	while (h->ooo && seq_diff(h->ooo->seq, h->next) <= 0) {
		struct tcp_seg *s = h->ooo;
		__u32 old = (__u32)-seq_diff(s->seq, h->next);

		h->ooo = s->next;
		h->ooo_bytes -= s->len;
		if (old < s->len) {
			t->ops.data(c, dir, s->data + old, s->len - old,
				    ts_ns > s->ts_ns ? ts_ns : s->ts_ns, t->ctx);
			h->next += s->len - old;
			h->delivered += s->len - old;
			t->st.delivered[dir] += s->len - old;
		}
		t->st.duplicate += old < s->len ? old : s->len;
		seg_free(t, s);
	}
}

/* Give up the gap before the first waiting segment: count it, tell the caller, go on. */
static void skip_gap(struct tcp_table *t, struct tcp_conn *c, int dir)
{
	struct tcp_half *h = &c->half[dir];
	__u32 gap;

	if (!h->ooo)
		return;
	gap = (__u32)seq_diff(h->ooo->seq, h->next);
	t->st.gaps++;
	t->st.gap_bytes += gap;
	if (t->ops.gap)
		t->ops.gap(c, dir, gap, t->ctx);
	h->next = h->ooo->seq;
	drain(t, c, dir, h->ooo->ts_ns);
}

/* Keep [seq, seq + len) of p: a new segment inserted at *pp (sorted). 0 or -ENOMEM. */
static int keep(struct tcp_table *t, struct tcp_half *h, struct tcp_seg **pp, __u32 seq,
		const __u8 *p, __u32 len, __s64 ts_ns)
{
	struct tcp_seg *s = malloc(sizeof(*s) + len);

	if (!s) {
		t->st.nomem_bytes += len;
		return -ENOMEM;
	}
	s->seq = seq;
	s->len = len;
	s->ts_ns = ts_ns;
	memcpy(s->data, p, len);
	s->next = *pp;
	*pp = s;
	h->ooo_bytes += len;
	t->ooo_total += len;
	if (t->ooo_total > t->st.ooo_peak)
		t->st.ooo_peak = t->ooo_total;
	return 0;
}

/*
 * A segment ahead of h->next: the parts no waiting segment holds yet are kept (the first copy
 * wins), the rest counted as duplicates.
 */
static void insert(struct tcp_table *t, struct tcp_half *h, __u32 seq, const __u8 *p, __u32 len,
		   __s64 ts_ns)
{
	struct tcp_seg **pp = &h->ooo;
	__u32 end = seq + len;

	while (seq_diff(seq, end) < 0) {
		struct tcp_seg *s = *pp;
		__u32 stop = end;

		/* the waiting segments that end before seq are passed */
		if (s && seq_diff(s->seq + s->len, seq) <= 0) {
			pp = &s->next;
			continue;
		}
		if (s && seq_diff(s->seq, seq) <= 0) {
			/* s holds seq already: skip what it covers */
			__u32 cov = seq_diff(s->seq + s->len, end) < 0 ? s->seq + s->len : end;

			t->st.duplicate += cov - seq;
			p += cov - seq;
			seq = cov;
			pp = &s->next;
			continue;
		}
		if (s && seq_diff(s->seq, end) < 0)
			stop = s->seq;
		if (keep(t, h, pp, seq, p, stop - seq, ts_ns))
			return;
		pp = &(*pp)->next;
		p += stop - seq;
		seq = stop;
	}
}

static void half_add(struct tcp_table *t, struct tcp_conn *c, int dir, const struct tcp_pkt *pk)
{
	struct tcp_half *h = &c->half[dir];
	__u32 seq = pk->seq, len = pk->len;
	const __u8 *p = pk->data;
	__s32 d;

	if (pk->flags & TCPF_SYN) {
		seq++; /* the SYN takes one sequence number; data after it (TFO) follows */
		if (!h->started) {
			h->next = seq;
			h->started = 1;
		}
	}
	if (pk->flags & TCPF_FIN)
		h->fin = 1;
	if (!len)
		return;
	t->st.segments++;
	if (!(t->dirs & (1u << dir))) {
		t->st.ignored += len;
		return;
	}
	if (!h->started) {
		/* no SYN: the stream is followed from the first bytes seen */
		h->next = seq;
		h->started = 1;
	}
	d = seq_diff(seq, h->next);
	if (d < 0) {
		__u32 old = (__u32)-d;

		t->st.duplicate += old < len ? old : len;
		if (old >= len)
			return;
		p += old;
		len -= old;
		seq = h->next;
	}
	/*
	 * Ahead of the stream, or beside segments waiting: kept where no earlier copy is (an
	 * in-order segment that overlaps a waiting one must not replace its bytes), and what is
	 * in order now handed over.
	 */
	if (seq != h->next || h->ooo) {
		t->st.ooo_segments += seq != h->next;
		insert(t, h, seq, p, len, pk->ts_ns);
		drain(t, c, dir, pk->ts_ns);
		/* the bounds: the gap is given up, what waits after it goes on */
		while (h->ooo && (h->ooo_bytes > t->ooo_max || t->ooo_total > t->table_max)) {
			t->st.bound_gaps++;
			skip_gap(t, c, dir);
		}
		return;
	}
	t->ops.data(c, dir, p, len, pk->ts_ns, t->ctx);
	h->next += len;
	h->delivered += len;
	t->st.delivered[dir] += len;
	drain(t, c, dir, pk->ts_ns);
}

static __u64 ep_hash(const __u8 *a, __u16 pa, const __u8 *b, __u16 pb, int v6)
{
	__u64 h = CS_FNV_OFFSET;
	unsigned n = v6 ? 16 : 4;

	for (unsigned i = 0; i < n; i++) /* FNV-1a steps, direction-free: a and b XORed */
		h = (h ^ (a[i] ^ b[i])) * CS_FNV_PRIME;
	return (h ^ (pa ^ pb) ^ ((__u64)v6 << 20)) * 0x9e3779b97f4a7c15ULL;
}

/* Side of c that sent p: 0 or 1, -1 when p is not c's. */
static int side_of(const struct tcp_conn *c, const struct tcp_pkt *p)
{
	unsigned n = p->v6 ? 16 : 4;

	if (c->v6 != p->v6)
		return -1;
	for (int s = 0; s < 2; s++)
		if (c->port[s] == p->sport && c->port[!s] == p->dport &&
		    !memcmp(c->addr[s], p->saddr, n) && !memcmp(c->addr[!s], p->daddr, n))
			return s;
	return -1;
}

static struct tcp_conn **slot_of(struct tcp_table *t, const struct tcp_pkt *p, int *side)
{
	__u64 h = ep_hash(p->saddr, p->sport, p->daddr, p->dport, p->v6);
	struct tcp_conn **pp = &t->bucket[h & (t->nbucket - 1)];

	for (; *pp; pp = &(*pp)->hnext) {
		*side = side_of(*pp, p);
		if (*side >= 0)
			return pp;
	}
	return pp;
}

static void grow(struct tcp_table *t)
{
	size_t n = t->nbucket * 2;
	struct tcp_conn **b = calloc(n, sizeof(*b));

	if (!b)
		return; /* longer chains, still correct */
	for (size_t i = 0; i < t->nbucket; i++) {
		while (t->bucket[i]) {
			struct tcp_conn *c = t->bucket[i];
			__u64 h = ep_hash(c->addr[0], c->port[0], c->addr[1], c->port[1], c->v6);

			t->bucket[i] = c->hnext;
			c->hnext = b[h & (n - 1)];
			b[h & (n - 1)] = c;
		}
	}
	free(t->bucket);
	t->bucket = b;
	t->nbucket = n;
}

/* 1 when the sender of p started the connection (tcpreasm.h: which side is which). */
static int sender_initiates(const struct tcp_pkt *p)
{
	if ((p->flags & (TCPF_SYN | TCPF_ACK)) == TCPF_SYN)
		return 1;
	if ((p->flags & (TCPF_SYN | TCPF_ACK)) == (TCPF_SYN | TCPF_ACK))
		return 0;
	if ((p->sport < 1024) != (p->dport < 1024))
		return p->dport < 1024;
	return p->sport >= p->dport;
}

static struct tcp_conn *conn_new(struct tcp_table *t, const struct tcp_pkt *p)
{
	struct tcp_conn *c = calloc(1, sizeof(*c) + t->user_size);
	int s = sender_initiates(p) ? 0 : 1;
	unsigned n = p->v6 ? 16 : 4;

	if (!c)
		return NULL;
	c->id = ++t->next_id;
	c->v6 = p->v6;
	memcpy(c->addr[s], p->saddr, n);
	memcpy(c->addr[!s], p->daddr, n);
	c->port[s] = p->sport;
	c->port[!s] = p->dport;
	c->user = t->user_size ? (void *)(c + 1) : NULL;
	c->midway = !(p->flags & TCPF_SYN);
	t->st.conns++;
	t->st.midway += c->midway;
	return c;
}

/* End c: what waits is handed over after its gaps, then the caller's close. Not freed. */
static void conn_end(struct tcp_table *t, struct tcp_conn *c)
{
	if (c->closed)
		return;
	for (int dir = 0; dir < 2; dir++)
		while (c->half[dir].ooo)
			skip_gap(t, c, dir);
	c->closed = 1;
	if (t->ops.close)
		t->ops.close(c, t->ctx);
}

static void conn_free(struct tcp_table *t, struct tcp_conn *c)
{
	if (t->user_size)
		explicit_bzero(c->user, t->user_size);
	free(c);
}

int tcp_table_add(struct tcp_table *t, const struct tcp_pkt *p)
{
	int side = -1;
	struct tcp_conn **pp = slot_of(t, p, &side), *c = *pp;

	/* a new SYN on the ports of an old connection: the old one is over */
	if (c && (p->flags & (TCPF_SYN | TCPF_ACK)) == TCPF_SYN &&
	    (!c->have_syn || c->syn_seq != p->seq)) {
		*pp = c->hnext;
		t->nconn--;
		conn_end(t, c);
		conn_free(t, c);
		c = NULL;
	}
	if (!c) {
		/* a connection starts with a SYN or bytes: an ACK, FIN or RST after its end (or
		 * of one the capture did not see) makes none */
		if ((p->flags & TCPF_RST) || (!p->len && !(p->flags & TCPF_SYN)))
			return 0;
		c = conn_new(t, p);
		if (!c) {
			t->st.nomem_bytes += p->len;
			return -ENOMEM;
		}
		if (++t->nconn > t->nbucket)
			grow(t);
		pp = slot_of(t, p, &side);
		c->hnext = *pp;
		*pp = c;
		side = side_of(c, p);
	}
	if ((p->flags & (TCPF_SYN | TCPF_ACK)) == TCPF_SYN) {
		c->have_syn = 1;
		c->syn_seq = p->seq;
	}
	half_add(t, c, side, p);
	if ((p->flags & TCPF_RST) || (c->half[0].fin && c->half[1].fin)) {
		*pp = c->hnext;
		t->nconn--;
		conn_end(t, c);
		conn_free(t, c);
	}
	return 0;
}

void tcp_table_flush(struct tcp_table *t)
{
	for (size_t i = 0; i < t->nbucket; i++) {
		while (t->bucket[i]) {
			struct tcp_conn *c = t->bucket[i];

			t->bucket[i] = c->hnext;
			conn_end(t, c);
			conn_free(t, c);
		}
	}
	t->nconn = 0;
}

void tcp_table_free(struct tcp_table *t)
{
	if (!t)
		return;
	tcp_table_flush(t);
	free(t->bucket);
	free(t);
}

const struct tcp_stats *tcp_table_stats(const struct tcp_table *t)
{
	return &t->st;
}
