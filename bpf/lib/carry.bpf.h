/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Tokens carried across sends: a value split over two sends of a flow is hashed whole. At the
 * first chunk of a send the flow's open tokens (the carry map) are continued over its first bytes
 * (cs_carry_begin); at the end of a send its open tokens are kept for the next (cs_carry_end).
 */
#ifndef CS_CARRY_BPF_H
#define CS_CARRY_BPF_H

#include "lib/token.bpf.h"

/* Bytes of a send the carried tokens are continued over (a split value's second part), in steps
 * of CS_CARRY_STEP: the pass stops once the carried tokens have ended, mostly after one step. */
#define CS_CARRY_SPAN 64
#define CS_CARRY_STEP 8

/*
 * First chunk of a send (n bytes in st->chunk): if the flow's last send ended inside a token,
 * continue that token over the first bytes with a copy of the old state, so a value split
 * across sends is hashed whole; tokens carried over start at CS_HIT_SPLIT. The send's own
 * tokeniser still starts fresh, so nothing it would find is lost.
 */
__noinline int cs_carry_begin(__u32 n)
{
	struct cs_state *st = state_get();
	struct cs_carry *cy;
	__u32 m, i, *hint;

	if (!st)
		return 0;
	st->carry |= CS_CARRY_LOOKED;
	hint = carry_hint_get(st->peer.flow);
	if (hint && !*hint)
		return 0;
	cy = bpf_map_lookup_elem(&carry, &st->peer.flow);
	if (!cy)
		return 0;
	st->carry |= CS_CARRY_FOUND;
	st->deep_left = cy->deep_left;
	if (cy->h2) {
		/* an HTTP/2 flow: every send is handed over (see cs_h2_begin) */
		st->flags |= CS_EV_H2;
		st->h2_off = cy->h2_off;
		st->deep_left = CS_DEEP_FLOW_BUDGET;
	}
	if (cy->scan.w_state == CS_WS_NONE && cy->scan.d_state == CS_DS_NONE) {
		if (!cy->deep_left && !cy->h2) {
			st->carry |= CS_CARRY_EMPTY;
			if (++cy->idle >= CS_CARRY_IDLE_MAX)
				st->carry |= CS_CARRY_STALE;
		}
		return 0;
	}
	__builtin_memcpy(&st->cscan, &cy->scan, sizeof(st->cscan));
	st->cscan.w_start = CS_HIT_SPLIT;
	st->cscan.d_start = CS_HIT_SPLIT;
	st->cscan.w_end = 0;
	st->cscan.d_end = 0;
	st->cscan.w_rstart = 0;
	st->cscan.esc_pos = 0xfffffff0u;
	st->cscan.esc_start = 0xffffffffu;
	st->cscan.trig = 0;
	st->cscan._pad = 0;
	cnt_add(CS_CNT_CARRIED, 1);
	m = n < CS_CARRY_SPAN ? n : CS_CARRY_SPAN;
	for (i = 0; i < CS_CARRY_SPAN / CS_CARRY_STEP; i++) {
		__u32 off = i * CS_CARRY_STEP;

		if (off >= m)
			break;
		cs_scan_chunk_step(off, m - off < CS_CARRY_STEP ? m - off : CS_CARRY_STEP, 0, 1);
		st->cover = m - off < CS_CARRY_STEP ? m : off + CS_CARRY_STEP;
		/* every carried token has ended (open ones, if any, started in this send) */
		if ((st->cscan.w_state == CS_WS_NONE || st->cscan.w_start != CS_HIT_SPLIT) &&
		    (st->cscan.d_state == CS_DS_NONE || st->cscan.d_start != CS_HIT_SPLIT))
			break;
	}
	if (st->cover < n)
		cs_flush(1);
	else
		st->carry |= CS_CARRY_OPEN;
	return 0;
}

/*
 * Before the flush: keep the flow's open tokens for its next send (when the whole send was
 * scanned), and its deep hand-over budget. An entry the flow has is rewritten in place, and
 * emptied when there is nothing to keep; it is deleted only once CS_CARRY_IDLE_MAX sends in a
 * row found it empty: an LRU map allocates an element on every update and frees one on every
 * delete, which cost a stream of small sends (some ending inside a token, some not) more than
 * the rest of its carry handling.
 */
__noinline int cs_carry_end(void)
{
	struct cs_state *st = state_get();
	struct cs_carry cy = {}, *old;
	struct cs_scan *s;
	__u32 left, *hint;

	if (!st || !(st->carry & CS_CARRY_LOOKED))
		return 0;
	left = st->deep_left > st->inspected ? st->deep_left - st->inspected : 0;
	if (st->scan.trig & CS_TRIG_CE)
		left = CS_DEEP_FLOW_BUDGET;
	if (st->flags & CS_EV_H2) {
		/* every send of an HTTP/2 flow is handed over: no budget, the mark and offset */
		left = 0;
		cy.h2 = 1;
		/* a retried send's bytes were handed over with the call that first had them */
		cy.h2_off = st->h2_off + st->total - st->retried;
	}
	/* the carried tokens covered the whole send: they are still the open ones */
	s = (st->carry & CS_CARRY_OPEN) && st->cover == st->inspected ? &st->cscan : &st->scan;
	if (st->total == st->inspected && (s->w_state != CS_WS_NONE || s->d_state != CS_DS_NONE)) {
		__builtin_memcpy(&cy.scan, s, sizeof(cy.scan));
	} else if (!left && !cy.h2) {
		if (!(st->carry & CS_CARRY_FOUND))
			return 0;
		if (!(st->carry & CS_CARRY_EMPTY)) {
			old = bpf_map_lookup_elem(&carry, &st->peer.flow);
			if (old) {
				old->scan.w_state = CS_WS_NONE;
				old->scan.d_state = CS_DS_NONE;
				old->deep_left = 0;
				old->idle = 0;
			}
		} else if ((st->carry & CS_CARRY_STALE) &&
			   !bpf_map_delete_elem(&carry, &st->peer.flow) &&
			   (hint = carry_hint_get(st->peer.flow))) {
			/* found empty by CS_CARRY_IDLE_MAX sends in a row: the flow stopped
			 * carrying, so its entry goes and its hint slot can fall back to 0 */
			__sync_fetch_and_add(hint, -1);
		}
		return 0;
	}
	cy.deep_left = left;
	if ((st->carry & CS_CARRY_FOUND) && (old = bpf_map_lookup_elem(&carry, &st->peer.flow))) {
		__builtin_memcpy(old, &cy, sizeof(cy));
		return 0;
	}
	/* count before the entry exists, so a send on another CPU never skips it */
	if (!(st->carry & CS_CARRY_FOUND) && (hint = carry_hint_get(st->peer.flow)))
		__sync_fetch_and_add(hint, 1);
	bpf_map_update_elem(&carry, &st->peer.flow, &cy, BPF_ANY);
	return 0;
}

#endif /* CS_CARRY_BPF_H */
