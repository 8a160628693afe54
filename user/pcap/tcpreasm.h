/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * TCP reassembly for `consentry scan-pcap`: segments of a capture become each direction's byte
 * stream in sequence order, the two directions of a connection kept apart. A segment that
 * continues a direction's stream is handed to the caller at once (one call per segment, or per
 * contiguous run it completes); one ahead of it waits, sorted, until the gap before it fills.
 * Bytes seen before (retransmits, overlaps) are dropped: the first copy wins, also among the
 * segments waiting. What is never seen is a gap: counted, reported to the caller (a value cannot
 * be joined across it), and the stream goes on after it once the bound of waiting bytes is
 * reached (per direction and for the whole table) or the connection ends. Nothing is dropped
 * silently: every byte is delivered, a duplicate, or counted lost.
 *
 * Which side is which: the connection's initiator (the sender of a SYN without ACK, the receiver
 * of a SYN-ACK) is side 0; with no handshake in the capture, the side with the ephemeral port
 * (the other's is below 1024, else the higher one; the first sender on a tie).
 */
#ifndef CS_TCPREASM_H
#define CS_TCPREASM_H

#include <stddef.h>
#include <linux/types.h>

/* TCP header flags (the byte at offset 13) */
#define TCPF_FIN 0x01
#define TCPF_SYN 0x02
#define TCPF_RST 0x04
#define TCPF_ACK 0x10

/* Bytes waiting out of order per direction, and in the whole table, before a gap is given up. */
#define TCP_OOO_MAX_DEFAULT	  (1u << 20)
#define TCP_OOO_TABLE_MAX_DEFAULT (256u << 20)

struct tcp_seg;

/* One direction of a connection. */
struct tcp_half {
	__u32 next; /* sequence number of the next byte expected */
	__u8 started, fin;
	__u32 ooo_bytes;     /* bytes waiting in ooo */
	struct tcp_seg *ooo; /* segments ahead of next, sorted, never overlapping */
	__u64 delivered;     /* bytes handed to the caller */
};

struct tcp_conn {
	__u64 id; /* unique per connection of the table, from 1 */
	int v6;
	__u8 addr[2][16]; /* [0] the initiator, [1] the responder (IPv4: first 4 bytes) */
	__u16 port[2];	  /* host byte order */
	int midway;	  /* no SYN seen: the capture began inside the connection */
	struct tcp_half half[2];
	void *user; /* the caller's user_size bytes, zeroed at creation */
	/* the table's */
	struct tcp_conn *hnext;
	__u32 syn_seq;
	__u8 have_syn, closed;
};

/* One TCP segment of a capture (addresses point to 4 or 16 bytes). */
struct tcp_pkt {
	__s64 ts_ns;
	int v6;
	const __u8 *saddr, *daddr;
	__u16 sport, dport; /* host byte order */
	__u32 seq;
	__u8 flags; /* TCPF_* */
	const __u8 *data;
	__u32 len;
};

struct tcp_ops {
	/* In-order bytes of direction dir (0: initiator to responder); ts: the packet that
	 * completed them. */
	void (*data)(struct tcp_conn *c, int dir, const __u8 *p, __u32 n, __s64 ts_ns, void *ctx);
	/* bytes of direction dir never seen: the stream goes on after them */
	void (*gap)(struct tcp_conn *c, int dir, __u64 bytes, void *ctx);
	/* the connection ends (FIN both ways, RST, a new SYN on its ports, or the capture's end);
	 * its remaining bytes were delivered before */
	void (*close)(struct tcp_conn *c, void *ctx);
};

struct tcp_stats {
	__u64 conns, midway;   /* connections, those without a SYN in the capture */
	__u64 segments;	       /* segments with payload */
	__u64 delivered[2];    /* bytes handed over per direction */
	__u64 ignored;	       /* bytes of directions not followed (dirs) */
	__u64 duplicate;       /* bytes seen before: retransmits and overlaps (first copy wins) */
	__u64 ooo_segments;    /* segments that arrived ahead of a gap */
	__u64 gap_bytes, gaps; /* bytes never seen, in how many gaps */
	__u64 bound_gaps;      /* of those gaps, given up at the waiting bound */
	__u64 nomem_bytes;     /* bytes not kept: no memory (counted as a gap when skipped) */
	__u64 ooo_peak;	       /* most bytes waiting at once in the table */
};

struct tcp_table;

/*
 * dirs: bit 0 follows initiator-to-responder bytes, bit 1 the other way (a direction not
 * followed is counted, not buffered). ooo_max, table_max: 0 for the defaults. NULL + errno.
 */
struct tcp_table *tcp_table_new(const struct tcp_ops *ops, void *ctx, size_t user_size,
				unsigned dirs, __u32 ooo_max, __u64 table_max);
/* Every connection still open is ended (its waiting bytes delivered after their gaps), freed. */
void tcp_table_free(struct tcp_table *t);
/* One segment. 0, or -ENOMEM when a new connection could not be made (counted, not followed). */
int tcp_table_add(struct tcp_table *t, const struct tcp_pkt *p);
/* End every open connection now (the capture's end). */
void tcp_table_flush(struct tcp_table *t);
const struct tcp_stats *tcp_table_stats(const struct tcp_table *t);

#endif
