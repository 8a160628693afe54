// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <pcap/pcap.h>

#include "lib/log.h"
#include "pcap/pcapread.h"

#define ETH_P_IPV4 0x0800
#define ETH_P_IPV6 0x86dd

struct pcapread {
	pcap_t *p;
	const char *path;
	int dlt;
	struct pcapread_stats st;
};

static const int linktypes[] = {DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW,
				DLT_IPV4,   DLT_IPV6,	   DLT_NULL,	   DLT_LOOP};

struct pcapread *pcapread_open(const char *path)
{
	char err[PCAP_ERRBUF_SIZE] = "";
	struct pcapread *r = calloc(1, sizeof(*r));
	size_t i;

	if (!r)
		return NULL;
	r->path = path;
	/* ns timestamps whatever the file holds (a pcap in us is scaled up) */
	r->p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, err);
	if (!r->p) {
		pr_err("%s: cannot read it as a pcap or pcapng capture: %s", path, err);
		free(r);
		return NULL;
	}
	r->dlt = pcap_datalink(r->p);
	for (i = 0; i < sizeof(linktypes) / sizeof(linktypes[0]); i++)
		if (linktypes[i] == r->dlt)
			return r;
	pr_err("%s: link type %d (%s) not supported; expected Ethernet, Linux cooked capture "
	       "(SLL, SLL2), raw IP or BSD loopback",
	       path, r->dlt, pcap_datalink_val_to_name(r->dlt) ?: "unknown");
	pcapread_close(r);
	return NULL;
}

void pcapread_close(struct pcapread *r)
{
	if (!r)
		return;
	if (r->p)
		pcap_close(r->p);
	free(r);
}

const char *pcapread_linktype(const struct pcapread *r)
{
	return pcap_datalink_val_to_name(r->dlt) ?: "?";
}

const struct pcapread_stats *pcapread_stats(const struct pcapread *r)
{
	return &r->st;
}

static __u16 be16(const __u8 *p)
{
	return (__u16)(p[0] << 8 | p[1]);
}

static __u32 be32(const __u8 *p)
{
	return (__u32)p[0] << 24 | (__u32)p[1] << 16 | (__u32)p[2] << 8 | p[3];
}

/*
 * The network-layer protocol (ETH_P_*) and offset of the link type's frame; 0 for a frame
 * that carries no IP (or is too short). Raw IP: the version nibble decides.
 */
static __u16 link_strip(int dlt, const __u8 *f, __u32 n, __u32 *off)
{
	__u16 proto;

	switch (dlt) {
	case DLT_EN10MB:
		if (n < 14)
			return 0;
		proto = be16(f + 12);
		*off = 14;
		/* 802.1Q and 802.1ad tags, at most two */
		for (int i = 0; i < 2 && (proto == 0x8100 || proto == 0x88a8); i++) {
			if (n < *off + 4)
				return 0;
			proto = be16(f + *off + 2);
			*off += 4;
		}
		return proto;
	case DLT_LINUX_SLL:
		*off = 16;
		return n < 16 ? 0 : be16(f + 14);
	case DLT_LINUX_SLL2:
		*off = 20;
		return n < 20 ? 0 : be16(f);
	case DLT_NULL:
	case DLT_LOOP:
		/* a 4-byte address family: the writer's byte order (NULL), network order (LOOP) */
		*off = 4;
		break;
	default: /* DLT_RAW, DLT_IPV4, DLT_IPV6 */
		*off = 0;
		break;
	}
	if (n <= *off)
		return 0;
	switch (f[*off] >> 4) {
	case 4:
		return ETH_P_IPV4;
	case 6:
		return ETH_P_IPV6;
	}
	return 0;
}

/* IPv6 extension headers passed over to reach the transport header. */
static int ipv6_ext(__u8 nh)
{
	return nh == 0 || nh == 43 || nh == 60; /* hop-by-hop, routing, destination options */
}

/*
 * The IP packet at ip[0..n) (n: the bytes captured) into pk: 1, 0 when it carries nothing to
 * scan (counted), -1 when its headers do not hold together.
 */
static int ip_parse(struct pcapread *r, const __u8 *ip, __u32 n, struct l4pkt *pk)
{
	__u32 hl, tot;
	__u8 proto;

	if (n >= 20 && ip[0] >> 4 == 4) {
		hl = (ip[0] & 15) * 4u;
		tot = be16(ip + 2);
		if (hl < 20 || tot < hl || n < hl)
			return -1;
		/* MF set or an offset: a fragment */
		if (be16(ip + 6) & 0x3fff) {
			r->st.frag_packets++;
			r->st.frag_bytes += tot - hl;
			return 0;
		}
		pk->v6 = 0;
		pk->saddr = ip + 12;
		pk->daddr = ip + 16;
		proto = ip[9];
	} else if (n >= 40 && ip[0] >> 4 == 6) {
		tot = 40 + be16(ip + 4);
		proto = ip[6];
		hl = 40;
		while (ipv6_ext(proto)) {
			if (n < hl + 8)
				return -1;
			proto = ip[hl];
			hl += 8 + ip[hl + 1] * 8u;
		}
		if (proto == 44) { /* fragment header */
			r->st.frag_packets++;
			r->st.frag_bytes += tot > hl ? tot - hl : 0;
			return 0;
		}
		if (tot < hl || n < hl)
			return -1;
		pk->v6 = 1;
		pk->saddr = ip + 8;
		pk->daddr = ip + 24;
	} else {
		return -1;
	}
	/* Ethernet pads short frames: the IP length says where the packet ends */
	if (tot > n) {
		r->st.cut_packets++;
		r->st.cut_bytes += tot - n;
	} else {
		n = tot;
	}
	pk->proto = proto;
	ip += hl;
	n -= hl;
	if (proto == IPPROTO_TCP) {
		__u32 th = n >= 20 ? (ip[12] >> 4) * 4u : 0;

		if (th < 20 || n < th)
			return -1;
		pk->sport = be16(ip);
		pk->dport = be16(ip + 2);
		pk->seq = be32(ip + 4);
		pk->flags = ip[13];
		pk->data = ip + th;
		pk->len = n - th;
		return 1;
	}
	if (proto == IPPROTO_UDP) {
		if (n < 8)
			return -1;
		pk->sport = be16(ip);
		pk->dport = be16(ip + 2);
		pk->seq = 0;
		pk->flags = 0;
		pk->data = ip + 8;
		pk->len = n - 8;
		return 1;
	}
	r->st.other_proto++;
	return 0;
}

int pcapread_run(struct pcapread *r, l4pkt_fn fn, void *ctx)
{
	struct pcap_pkthdr *h;
	const __u8 *f;
	int rc;

	while ((rc = pcap_next_ex(r->p, &h, &f)) == 1) {
		struct l4pkt pk = {0};
		__u32 off = 0;
		__u16 proto;
		int err;

		r->st.packets++;
		r->st.bytes += h->caplen;
		pk.ts_ns = (__s64)h->ts.tv_sec * 1000000000LL + h->ts.tv_usec;
		proto = link_strip(r->dlt, f, h->caplen, &off);
		if (proto != ETH_P_IPV4 && proto != ETH_P_IPV6) {
			r->st.not_ip++;
			continue;
		}
		err = ip_parse(r, f + off, h->caplen - off, &pk);
		if (err < 0) {
			r->st.malformed++;
			continue;
		}
		if (!err)
			continue;
		err = fn(&pk, ctx);
		if (err < 0)
			return err;
	}
	if (rc == PCAP_ERROR) {
		pr_err("%s: the capture is truncated or corrupt after %llu packets: %s", r->path,
		       (unsigned long long)r->st.packets, pcap_geterr(r->p));
		return -EINVAL;
	}
	return 0;
}
