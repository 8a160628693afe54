// SPDX-License-Identifier: GPL-2.0-only
/*
 * TCP reassembly of `consentry scan-pcap` (user/pcap/tcpreasm.c): segments out of order,
 * retransmitted and overlapping (the first copy wins, also over a later in-order segment), a
 * gap (counted, reported, the stream goes on after it), the two directions kept apart, the
 * out-of-order bound, and which side started a connection seen without its handshake.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "pcap/tcpreasm.h"

static const __u8 cli[4] = {10, 0, 0, 1}, srv[4] = {10, 0, 0, 2};

struct sink {
	char dir[2][256];
	size_t n[2];
	unsigned calls[2];
	__u64 gap[2];
	unsigned gaps[2];
	unsigned closed;
	__s64 last_ts;
	__u64 last_id;
};

static void on_data(struct tcp_conn *c, int dir, const __u8 *p, __u32 n, __s64 ts_ns, void *ctx)
{
	struct sink *k = ctx;

	assert_true(k->n[dir] + n < sizeof(k->dir[dir]));
	memcpy(k->dir[dir] + k->n[dir], p, n);
	k->n[dir] += n;
	k->dir[dir][k->n[dir]] = 0;
	k->calls[dir]++;
	k->last_ts = ts_ns;
	k->last_id = c->id;
}

static void on_gap(struct tcp_conn *c, int dir, __u64 bytes, void *ctx)
{
	struct sink *k = ctx;

	(void)c;
	k->gap[dir] += bytes;
	k->gaps[dir]++;
}

static void on_close(struct tcp_conn *c, void *ctx)
{
	struct sink *k = ctx;

	(void)c;
	k->closed++;
}

static const struct tcp_ops ops = {.data = on_data, .gap = on_gap, .close = on_close};

/* A segment from the client (to_srv) or the server, payload s (NULL: none). */
static void seg(struct tcp_table *t, int to_srv, __u32 seq, __u8 flags, const char *s, __s64 ts)
{
	struct tcp_pkt p = {
	    .ts_ns = ts,
	    .saddr = to_srv ? cli : srv,
	    .daddr = to_srv ? srv : cli,
	    .sport = to_srv ? 40000 : 80,
	    .dport = to_srv ? 80 : 40000,
	    .seq = seq,
	    .flags = flags,
	    .data = (const __u8 *)s,
	    .len = s ? (__u32)strlen(s) : 0,
	};

	assert_int_equal(tcp_table_add(t, &p), 0);
}

/* Stream "0123456789ABCDEFGHIJ" from sequence 1001 (the SYN at 1000). */
#define ISN 1000u

static void test_order_overlap_gap(void **state)
{
	struct sink k = {0};
	struct tcp_table *t = tcp_table_new(&ops, &k, 0, 3, 0, 0);
	const struct tcp_stats *st;

	(void)state;
	assert_non_null(t);
	seg(t, 1, ISN, TCPF_SYN, NULL, 1);
	seg(t, 0, 7000, TCPF_SYN | TCPF_ACK, NULL, 2);
	/* ahead of a gap: waits */
	seg(t, 1, ISN + 1 + 10, TCPF_ACK, "ABCDE", 3);
	assert_int_equal(k.n[0], 0);
	seg(t, 1, ISN + 1, TCPF_ACK, "01234", 4);
	assert_string_equal(k.dir[0], "01234");
	/* a retransmit: nothing new */
	seg(t, 1, ISN + 1, TCPF_ACK, "01234", 5);
	assert_string_equal(k.dir[0], "01234");
	/* the server's bytes, apart */
	seg(t, 0, 7001, TCPF_ACK, "HTTP/1.1 200", 6);
	/* in order from 5 but overlapping the waiting "AB" with other bytes: the first copy
	 * wins, then what waited is handed over (the packet that completed it: ts 7) */
	seg(t, 1, ISN + 1 + 3, TCPF_ACK, "3456789xy", 7);
	assert_string_equal(k.dir[0], "0123456789ABCDE");
	assert_int_equal(k.last_ts, 7);
	/* a gap of 2 ("FG"), then "HIJ": waits until the connection ends */
	seg(t, 1, ISN + 1 + 17, TCPF_ACK, "HIJ", 8);
	assert_string_equal(k.dir[0], "0123456789ABCDE");
	assert_int_equal(k.gaps[0], 0);
	seg(t, 1, ISN + 1 + 20, TCPF_ACK | TCPF_FIN, NULL, 9);
	seg(t, 0, 7013, TCPF_ACK | TCPF_FIN, NULL, 10);
	assert_int_equal(k.closed, 1);
	assert_string_equal(k.dir[0], "0123456789ABCDEHIJ");
	assert_int_equal(k.gap[0], 2);
	assert_int_equal(k.gaps[0], 1);
	assert_string_equal(k.dir[1], "HTTP/1.1 200");
	assert_int_equal(k.gaps[1], 0);
	st = tcp_table_stats(t);
	assert_int_equal(st->conns, 1);
	assert_int_equal(st->midway, 0);
	assert_int_equal(st->delivered[0], 18);
	assert_int_equal(st->delivered[1], 12);
	/* the retransmit (5), the overlap before the stream's end (2: "34") and over the
	 * waiting segment (2: "xy") */
	assert_int_equal(st->duplicate, 9);
	assert_int_equal(st->gap_bytes, 2);
	assert_int_equal(st->gaps, 1);
	assert_int_equal(st->bound_gaps, 0);
	tcp_table_free(t);
}

/* Two connections between the same hosts, other client ports: never mixed. */
static void test_two_conns_and_dirs(void **state)
{
	struct sink k = {0};
	struct tcp_table *t = tcp_table_new(&ops, &k, 0, 1, 0, 0);
	struct tcp_pkt p = {
	    .saddr = cli, .daddr = srv, .sport = 40001, .dport = 80, .seq = 50, .flags = TCPF_SYN};

	(void)state;
	assert_non_null(t);
	seg(t, 1, ISN, TCPF_SYN, NULL, 1);
	assert_int_equal(tcp_table_add(t, &p), 0);
	p.seq = 51;
	p.flags = TCPF_ACK;
	p.data = (const __u8 *)"other";
	p.len = 5;
	assert_int_equal(tcp_table_add(t, &p), 0);
	seg(t, 1, ISN + 1, TCPF_ACK, "first", 2);
	/* the server's direction is not followed (dirs 1): counted only */
	seg(t, 0, 9, TCPF_ACK, "response", 3);
	assert_string_equal(k.dir[0], "otherfirst");
	assert_int_equal(k.calls[0], 2);
	assert_int_equal(k.n[1], 0);
	assert_int_equal(tcp_table_stats(t)->ignored, 8);
	assert_int_equal(tcp_table_stats(t)->conns, 2);
	tcp_table_free(t);
	assert_int_equal(k.closed, 2);
}

/* More waiting than the bound: the gap is given up, the stream goes on. */
static void test_bound(void **state)
{
	struct sink k = {0};
	struct tcp_table *t = tcp_table_new(&ops, &k, 0, 3, 8, 0);

	(void)state;
	assert_non_null(t);
	seg(t, 1, ISN, TCPF_SYN, NULL, 1);
	seg(t, 1, ISN + 1, TCPF_ACK, "abc", 2);
	seg(t, 1, ISN + 1 + 5, TCPF_ACK, "fghij", 3); /* 5 waiting: under the bound */
	assert_string_equal(k.dir[0], "abc");
	seg(t, 1, ISN + 1 + 10, TCPF_ACK, "klmn", 4); /* 9 waiting: over it */
	assert_string_equal(k.dir[0], "abcfghijklmn");
	assert_int_equal(k.gap[0], 2);
	assert_int_equal(tcp_table_stats(t)->bound_gaps, 1);
	/* the missing bytes come late: old now, dropped */
	seg(t, 1, ISN + 1 + 3, TCPF_ACK, "de", 5);
	assert_string_equal(k.dir[0], "abcfghijklmn");
	assert_int_equal(tcp_table_stats(t)->duplicate, 2);
	tcp_table_free(t);
}

/* No handshake in the capture: the side with the ephemeral port is the initiator. */
static void test_midway(void **state)
{
	struct sink k = {0};
	struct tcp_table *t = tcp_table_new(&ops, &k, 0, 3, 0, 0);

	(void)state;
	assert_non_null(t);
	/* the server's bytes first (port 80 to 40000) */
	seg(t, 0, 5, TCPF_ACK, "resp", 1);
	seg(t, 1, 900, TCPF_ACK, "req", 2);
	assert_string_equal(k.dir[0], "req");
	assert_string_equal(k.dir[1], "resp");
	assert_int_equal(tcp_table_stats(t)->midway, 1);
	/* a RST ends it */
	seg(t, 1, 903, TCPF_RST, NULL, 3);
	assert_int_equal(k.closed, 1);
	/* a new SYN on the same ports is a new connection */
	seg(t, 1, 100, TCPF_SYN, NULL, 4);
	seg(t, 1, 101, TCPF_ACK, "again", 5);
	assert_string_equal(k.dir[0], "reqagain");
	assert_int_equal(tcp_table_stats(t)->conns, 2);
	assert_int_equal(k.last_id, 2);
	tcp_table_free(t);
}

/* Sequence numbers that wrap past 2^32 inside the stream. */
static void test_wrap(void **state)
{
	struct sink k = {0};
	struct tcp_table *t = tcp_table_new(&ops, &k, 0, 1, 0, 0);

	(void)state;
	assert_non_null(t);
	seg(t, 1, 0xfffffffdu, TCPF_SYN, NULL, 1);
	seg(t, 1, 0x00000001u, TCPF_ACK, "cdef", 2); /* ahead: waits */
	seg(t, 1, 0xfffffffeu, TCPF_ACK, "ab", 3);
	assert_string_equal(k.dir[0], "ab");
	seg(t, 1, 0x00000000u, TCPF_ACK, "X", 4); /* the missing byte */
	assert_string_equal(k.dir[0], "abXcdef");
	tcp_table_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_order_overlap_gap),
	    cmocka_unit_test(test_two_conns_and_dirs),
	    cmocka_unit_test(test_bound),
	    cmocka_unit_test(test_midway),
	    cmocka_unit_test(test_wrap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
