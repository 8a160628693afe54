// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cs_scan_def.h"
#include "decode/cscan.h"
#include "fpdb/fpfile.h"
#include "monitor/message.h"

/* Flows whose open tokens or decoding budget are kept (direct-mapped: a collision forgets). */
#define CSCAN_FLOWS 4096
/* Bytes of a send the carried tokens are continued over, in steps (scan.bpf.h CS_CARRY_*). */
#define CSCAN_CARRY_SPAN 64
#define CSCAN_CARRY_STEP 8

struct cflow {
	__u64 flow;
	__u32 deep_left; /* flow bytes still to decode after a Content-Encoding header */
	__u8 used, open; /* open: carry holds tokens the flow's last send left open */
	struct cs_scan carry;
};

struct cscan {
	struct live_cfg cfg;
	const struct fpdb *db;
	struct live_buf lb;
	struct cscan_stats st;
	struct cflow flows[CSCAN_FLOWS];
};

struct cscan *cscan_new(const struct live_cfg *cfg, const struct fpdb *db)
{
	struct cscan *cs = calloc(1, sizeof(*cs));

	if (!cs)
		return NULL;
	cs->cfg = *cfg;
	cs->db = db;
	return cs;
}

void cscan_free(struct cscan *cs)
{
	if (!cs)
		return;
	live_buf_release(&cs->lb);
	/* open tokens are accumulators, not bytes, but they are of payloads */
	explicit_bzero(cs->flows, sizeof(cs->flows));
	free(cs);
}

const struct cscan_stats *cscan_stats(const struct cscan *cs)
{
	return &cs->st;
}

struct sink {
	struct cscan *cs;
	struct msg *m;
	__u32 nstrong; /* hits of a strong field (the kernel's strong tags) */
	int again;     /* tokens seen a second time (the rescan): not counted */
};

/* A token that passed the prefilter: kept if the DB knows its fingerprint. */
static void on_hit(const struct scan_token *t, void *ctx)
{
	struct sink *k = ctx;
	const struct fpdb *db = k->cs->db;
	__u32 first, n = fpdb_find(db, t->fp, &first);

	k->cs->st.tokens += !k->again;
	if (!n)
		return;
	k->cs->st.hits += !k->again;
	for (__u32 i = 0; i < n && !k->nstrong; i++) {
		struct fp_entry e;

		fpdb_entry(db, first + i, &e);
		if (e.field < CS_F_FIRST_WEAK)
			k->nstrong++;
	}
	if (msg_add(k->m, t->fp, t->start, t->end, 0))
		k->cs->st.hits_lost++;
}

static int scan_open(const struct cs_scan *s)
{
	return s->w_state != CS_WS_NONE || s->d_state != CS_DS_NONE;
}

/*
 * cs_carry_begin: the flow's open tokens, continued over the first bytes with a copy of their
 * state (tokens carried over start at CS_HIT_SPLIT). Returns the bytes covered; *open says the
 * carried tokens are still open after all n.
 */
static __u32 carry_begin(struct cscan *cs, struct cflow *f, struct cs_scan *cy, const __u8 *buf,
			 __u32 n, struct sink *k, int *open)
{
	__u32 m = n < CSCAN_CARRY_SPAN ? n : CSCAN_CARRY_SPAN, cover = 0;

	*open = 0;
	if (!f->open || !n)
		return 0;
	*cy = f->carry;
	cy->w_start = CS_HIT_SPLIT;
	cy->d_start = CS_HIT_SPLIT;
	cy->w_end = 0;
	cy->d_end = 0;
	cy->w_rstart = 0;
	cy->esc_pos = 0xfffffff0u;
	cy->esc_start = 0xffffffffu;
	cy->trig = 0;
	cs->st.carried++;
	for (__u32 off = 0; off < m; off += CSCAN_CARRY_STEP) {
		__u32 step = m - off < CSCAN_CARRY_STEP ? m - off : CSCAN_CARRY_STEP;

		live_step(&cs->cfg, cy, buf + off, step, off, cs->cfg.min_len, on_hit, k);
		cover = off + step;
		/* every carried token has ended (open ones, if any, started in this send) */
		if ((cy->w_state == CS_WS_NONE || cy->w_start != CS_HIT_SPLIT) &&
		    (cy->d_state == CS_DS_NONE || cy->d_start != CS_HIT_SPLIT))
			break;
	}
	if (cover < n)
		live_flush(&cs->cfg, cy, cs->cfg.min_len, on_hit, k);
	else
		*open = 1;
	return cover;
}

int cscan_send(struct cscan *cs, const struct cs_event *ev, const __u8 *buf, __u32 n,
	       struct msg *out)
{
	const struct live_cfg *c = &cs->cfg;
	struct cflow *f = &cs->flows[(ev->flow ^ (ev->flow >> 29)) % CSCAN_FLOWS];
	struct sink k = {.cs = cs, .m = out};
	__u32 inspected = ev->bytes_inspected, skipped = 0, cover, deep_left, left;
	int h2 = !!(ev->flags & CS_EV_H2), open, deep;
	struct cs_scan s, cy;
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!f->used || f->flow != ev->flow) {
		memset(f, 0, sizeof(*f));
		f->flow = ev->flow;
		f->used = 1;
	}
	/* an HTTP/2 flow is handed over whole (cs_h2_begin) */
	deep_left = h2 ? CS_DEEP_FLOW_BUDGET : f->deep_left;
	cover = carry_begin(cs, f, &cy, buf, n, &k, &open);
	live_reset(&s);
	live_scan(c, &cs->lb, &s, buf, n, on_hit, &k, &skipped);
	cs->st.sends++;
	cs->st.bytes += n;
	cs->st.skipped += skipped;
	/*
	 * cs_scan_done: when runs were skipped (or weak lengths left out), a send with a strong
	 * hit or one to decode is tokenised again whole, every length looked up; an HTTP/2 send's
	 * content is all tokenised decoded (h2flow.h). The open tokens may hold the hit: flushed on
	 * a copy first.
	 */
	if ((skipped || c->strong_min) && !h2) {
		int again = k.nstrong || deep_left || (s.trig & CS_TRIG_ALL);

		k.again = 1;
		if (!again) {
			struct cs_scan fs = s;

			live_flush(c, &fs, c->min_len, on_hit, &k);
			again = k.nstrong || (fs.trig & CS_TRIG_ALL);
		}
		if (again) {
			unsigned wide = s.trig & CS_TRIG_WIDE;

			live_reset(&s);
			s.trig = wide;
			live_step(c, &s, buf, n, 0, c->min_len, on_hit, &k);
			s.pos = n;
			cs->st.rescans++;
		}
		k.again = 0;
	}
	/* cs_carry_end: the flow's budget, and its open tokens when the whole send was here */
	left = deep_left > inspected ? deep_left - inspected : 0;
	if (s.trig & CS_TRIG_CE)
		left = CS_DEEP_FLOW_BUDGET;
	f->deep_left = h2 ? 0 : left;
	f->open = 0;
	if (n == inspected && ev->bytes_total == inspected) {
		const struct cs_scan *src = open && cover == inspected ? &cy : &s;

		if (scan_open(src)) {
			f->carry = *src;
			f->open = 1;
		}
	}
	/* cs_send_end: the open tokens, then the hand-over decision */
	live_flush(c, &s, c->min_len, on_hit, &k);
	if (open)
		live_flush(c, &cy, c->min_len, on_hit, &k);
	deep = inspected && ((s.trig & CS_TRIG_ALL) || deep_left);
	explicit_bzero(&cy, sizeof(cy));
	explicit_bzero(&s, sizeof(s));
	cs->st.decoded += deep;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cs->st.ns += (__u64)(t1.tv_sec - t0.tv_sec) * 1000000000ULL + t1.tv_nsec - t0.tv_nsec;
	return deep;
}
