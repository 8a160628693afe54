/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A capture file read with libpcap (pcap or pcapng; pcap_open_offline tells them apart), its
 * packets taken apart down to TCP segments and UDP datagrams over IPv4 or IPv6. Link types:
 * Ethernet (with up to two VLAN tags), Linux cooked capture v1 and v2 (tcpdump -i any), raw
 * IP and BSD loopback. IP fragments are not reassembled: their bytes are counted uninspected,
 * as are packets cut short by the capture's snap length.
 */
#ifndef CS_PCAPREAD_H
#define CS_PCAPREAD_H

#include <linux/types.h>

struct pcapread;

/* One TCP segment or UDP datagram (addresses point to 4 or 16 bytes). */
struct l4pkt {
	__s64 ts_ns; /* the packet's time, ns since the epoch */
	int v6;
	__u8 proto; /* IPPROTO_TCP or IPPROTO_UDP */
	const __u8 *saddr, *daddr;
	__u16 sport, dport; /* host byte order */
	__u32 seq;	    /* TCP */
	__u8 flags;	    /* TCP header flags */
	const __u8 *data;   /* the payload */
	__u32 len;
};

struct pcapread_stats {
	__u64 packets, bytes;		/* packets read, their captured bytes */
	__u64 not_ip;			/* frames that are not IPv4/IPv6 (ARP, ...) */
	__u64 other_proto;		/* IP packets that are not TCP or UDP (ICMP, ...) */
	__u64 malformed;		/* headers that do not hold together */
	__u64 frag_packets, frag_bytes; /* IP fragments: not reassembled, payload uninspected */
	__u64 cut_packets, cut_bytes;	/* cut by the snap length: payload bytes missing */
};

typedef int (*l4pkt_fn)(const struct l4pkt *p, void *ctx);

/*
 * Open path. NULL when it cannot be read, is not a pcap/pcapng capture or has a link type
 * not handled: the reason is printed (the file and what was expected).
 */
struct pcapread *pcapread_open(const char *path);
void pcapread_close(struct pcapread *r);
/* The link type's name ("EN10MB", "LINUX_SLL2", ...). */
const char *pcapread_linktype(const struct pcapread *r);
/*
 * Every packet to fn, in file order. 0 at the end of the file; -EINVAL when the file is
 * truncated or corrupt (printed, packets before it were handed over); fn's negative value.
 */
int pcapread_run(struct pcapread *r, l4pkt_fn fn, void *ctx);
const struct pcapread_stats *pcapread_stats(const struct pcapread *r);

#endif
