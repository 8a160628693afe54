// SPDX-License-Identifier: GPL-2.0-only
/*
 * TCP reassembly of scan-pcap (user/pcap/tcpreasm.c). The input describes one connection: a
 * SYN with an initial sequence number, then segments of one reference stream (offset and length
 * from the input, any order, overlapping, repeated), sometimes a segment of the other direction
 * or a RST, and a small out-of-order bound. Properties: every byte handed over is the reference
 * byte at its offset (offsets advance by what is handed over and by the gaps reported, nothing
 * is handed over twice), and when the connection has ended, handed-over bytes plus gaps reach
 * exactly the furthest byte sent before its end.
 */
#include "fuzz.h"

#include "pcap/tcpreasm.h"

#define REF_LEN 4096

static __u8 ref[REF_LEN];

struct track {
	__u64 pos; /* stream offset of the next byte handed over (or skipped as a gap) */
	int ended; /* the connection's close came */
	__u64 ended_at;
};

static void on_data(struct tcp_conn *c, int dir, const __u8 *p, __u32 n, __s64 ts, void *ctx)
{
	struct track *t = ctx;

	(void)c;
	(void)ts;
	if (dir)
		return;
	FUZZ_CHECK(!t->ended, "bytes after the close");
	FUZZ_CHECK(t->pos + n <= REF_LEN, "handed over past the stream: %llu + %u",
		   (unsigned long long)t->pos, n);
	FUZZ_CHECK(!memcmp(p, ref + t->pos, n), "bytes at %llu differ from the stream",
		   (unsigned long long)t->pos);
	t->pos += n;
}

static void on_gap(struct tcp_conn *c, int dir, __u64 bytes, void *ctx)
{
	struct track *t = ctx;

	(void)c;
	if (!dir)
		t->pos += bytes;
}

static void on_close(struct tcp_conn *c, void *ctx)
{
	struct track *t = ctx;

	(void)c;
	t->ended = 1;
	t->ended_at = t->pos;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	for (unsigned i = 0; i < REF_LEN; i++)
		ref[i] = (__u8)(i * 131 + (i >> 8));
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct tcp_ops ops = {.data = on_data, .gap = on_gap, .close = on_close};
	static const __u8 cli[4] = {10, 0, 0, 1}, srv[4] = {10, 0, 0, 2};
	struct track t = {0};
	struct tcp_table *tab;
	struct tcp_pkt p = {.saddr = cli, .daddr = srv, .sport = 40000, .dport = 80};
	__u32 isn, bound;
	__u64 furthest = 0;

	if (size < 5)
		return 0;
	isn = (__u32)data[0] << 24 | (__u32)data[1] << 16 | (__u32)data[2] << 8 | data[3];
	bound = 16 + data[4] * 8u;
	tab = tcp_table_new(&ops, &t, 0, 1, bound, 0);
	if (!tab)
		return 0;
	p.seq = isn;
	p.flags = TCPF_SYN;
	tcp_table_add(tab, &p);
	/* 4 bytes a segment: offset (12 bits), length (0-255), kind */
	for (size_t i = 5; i + 4 <= size && !t.ended; i += 4) {
		__u32 off = ((__u32)data[i] << 8 | data[i + 1]) & (REF_LEN - 1), len = data[i + 2];
		__u8 kind = data[i + 3];

		if (off + len > REF_LEN)
			len = REF_LEN - off;
		p.saddr = cli, p.daddr = srv, p.sport = 40000, p.dport = 80;
		p.seq = isn + 1 + off;
		p.flags = TCPF_ACK;
		p.data = ref + off;
		p.len = len;
		if (kind == 0xff) {
			/* the server's bytes: another direction, not followed */
			p.saddr = srv, p.daddr = cli, p.sport = 80, p.dport = 40000;
			p.seq = off;
		} else if (kind == 0xfe) {
			p.flags = TCPF_RST;
			p.len = 0;
		} else if (len && off + len > furthest) {
			furthest = off + len;
		}
		tcp_table_add(tab, &p);
	}
	tcp_table_free(tab);
	FUZZ_CHECK(t.ended, "no close");
	FUZZ_CHECK(t.ended_at == furthest, "ended at %llu, the stream went to %llu",
		   (unsigned long long)t.ended_at, (unsigned long long)furthest);
	return 0;
}
