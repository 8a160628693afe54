// SPDX-License-Identifier: GPL-2.0-only
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <netinet/in.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "cs_hash.h"
#include "decode/cscan.h"
#include "decode/deep.h"
#include "decode/livescan.h"
#include "fpdb/fpfile.h"
#include "http/h2flow.h"
#include "lib/log.h"
#include "monitor/dns.h"
#include "monitor/message.h"
#include "output/output.h"
#include "pcap/pcapread.h"
#include "pcap/pcapscan.h"
#include "lib/timeutil.h"
#include "pcap/peek.h"
#include "pcap/tcpreasm.h"
#include "verdict/correlate.h"

/* UDP flows are named by a hash of their addresses and ports, TCP ones by a count: apart. */
#define UDP_FLOW_BIT (1ULL << 63)

struct pscan_stats {
	__u64 sends, bytes;	      /* sends scanned and their bytes */
	__u64 tls_conns, tls_bytes;   /* TLS connections: ciphertext, not scanned */
	__u64 udp_sends, udp_replies; /* datagrams scanned; datagrams taken as responses */
	__u64 reply_bytes;	      /* bytes of those responses, not scanned */
	__u64 dns_answers, dns_learnt;
	__u64 found[3][4]; /* findings by verdict and recipient kind */
	__u64 reported;
};

struct pscan {
	const struct pcapscan_cfg *cfg;
	struct correlator corr;
	struct deep *deep;
	struct dns_cache *dns;
	struct tcp_table *tcp;
	struct msg msg;
	struct cs_event ev;
	__u64 seq, next_flow;
	int err; /* the first error writing findings */
	struct pscan_stats st;
};

/* What the kernel keeps per flow (flow_host, carry: HTTP/2), kept per connection here. */
struct pconn {
	__u64 flow; /* 0: no bytes yet; a new one after a gap (nothing carried across it) */
	__u64 h2_off;
	char host[CS_HOST_LEN];
	__u8 seen, tls, h2;
};

static int on_finding(const struct cs_event *ev, const struct finding *f, const char *host,
		      __s64 t_ns, void *ctx)
{
	struct pscan *ps = ctx;
	struct proc_view pv = {0}; /* a capture names no process */

	if (f->verdict <= V_EXEMPT)
		ps->st.found[f->verdict][f->rcpt ? f->rcpt->kind : RK_UNKNOWN]++;
	if (f->verdict != V_UNCONSENTED && !ps->cfg->report_all)
		return 0;
	ps->st.reported++;
	return output_write(ps->cfg->out, ev, f, host, t_ns, &pv);
}

/* The event of a send to daddr:dport (v6: 16 bytes, else 4), everything else cleared. */
static struct cs_event *event_begin(struct pscan *ps, __s64 ts_ns, __u64 flow, int v6,
				    const __u8 *daddr, __u16 dport, __u8 proto, __u32 n)
{
	struct cs_event *ev = &ps->ev;

	memset(ev, 0, offsetof(struct cs_event, hits));
	ev->ts_ns = (__u64)ts_ns;
	ev->flow = flow;
	ev->bytes_total = n;
	ev->bytes_inspected = n;
	memcpy(ev->daddr, daddr, v6 ? 16 : 4);
	ev->dport = dport;
	ev->channel = CS_CH_PCAP;
	ev->proto = proto;
	ev->flags = CS_EV_DEEP | (v6 ? CS_EV_ADDR_V6 : 0);
	ev->seq = ++ps->seq;
	ev->deep_len = n;
	ev->xflags = CS_EVX_CSCAN;
	return ev;
}

/* The send's bytes to the collector's path: scan, decode, correlate, write. */
static void event_finish(struct pscan *ps, struct cs_event *ev, const __u8 *p, __u32 n)
{
	int err;

	ps->st.sends++;
	ps->st.bytes += n;
	deep_add_bytes(ps->deep, ev->seq, p, n);
	deep_complete(ps->deep, ev, &ps->msg);
	err = correlate_message(&ps->corr, &ps->msg, (__s64)ev->ts_ns, on_finding, ps);
	if (err < 0 && !ps->err)
		ps->err = err;
}

/* One send of a connection's initiator: what the kernel reads from its first bytes, then scan. */
static void tcp_send(struct pscan *ps, struct tcp_conn *c, struct pconn *pc, const __u8 *p, __u32 n,
		     __s64 ts_ns)
{
	struct cs_event *ev;

	if (!pc->flow)
		pc->flow = ++ps->next_flow;
	ev = event_begin(ps, ts_ns, pc->flow, c->v6, c->addr[1], c->port[1], IPPROTO_TCP, n);
	if (peek_http_request(p, n)) {
		char host[CS_HOST_LEN];

		if (peek_http_host(p, n, host))
			memcpy(pc->host, host, sizeof(host));
		ev->req_len = (__u16)peek_request_line(p, n, ev->req);
		ev->flags |= CS_EV_REQ;
	}
	/* the Host (or SNI) last seen on the connection, as the kernel's flow_host */
	if (pc->host[0]) {
		memcpy(ev->host, pc->host, sizeof(ev->host));
		ev->flags |= CS_EV_HOST;
	}
	if (peek_h2_preface(p, n)) {
		pc->h2 = 1;
		pc->h2_off = 0;
	}
	if (pc->h2) {
		ev->flags |= CS_EV_H2;
		ev->h2_off = pc->h2_off;
		ev->h2_len = n;
		pc->h2_off += n;
	}
	event_finish(ps, ev, p, n);
}

static void tcp_data(struct tcp_conn *c, int dir, const __u8 *p, __u32 n, __s64 ts_ns, void *ctx)
{
	struct pscan *ps = ctx;
	struct pconn *pc = c->user;

	if (dir)
		return; /* only the initiator's direction is followed (tcp_table_new) */
	if (!pc->seen) {
		pc->seen = 1;
		/* a TLS connection: its host from the ClientHello, its bytes not readable */
		if (peek_tls_record(p, n)) {
			pc->tls = 1;
			ps->st.tls_conns++;
			peek_sni(p, n, pc->host);
		}
	}
	if (pc->tls) {
		ps->st.tls_bytes += n;
		return;
	}
	for (__u32 off = 0; off < n; off += PCAPSCAN_SEND_MAX)
		tcp_send(ps, c, pc, p + off,
			 n - off < PCAPSCAN_SEND_MAX ? n - off : PCAPSCAN_SEND_MAX, ts_ns);
}

/* Bytes never seen: no token may be carried across them, an HTTP/2 flow cannot go on. */
static void tcp_gap(struct tcp_conn *c, int dir, __u64 bytes, void *ctx)
{
	struct pconn *pc = c->user;

	(void)ctx;
	if (dir || !pc->flow)
		return;
	pc->flow = 0;
	pc->h2_off += bytes;
}

static __u64 udp_flow(const struct l4pkt *p)
{
	__u64 h = CS_FNV_OFFSET;
	unsigned n = p->v6 ? 16 : 4;

	for (unsigned i = 0; i < n; i++) /* FNV-1a steps over both addresses at once */
		h = (h ^ p->saddr[i] ^ ((__u64)p->daddr[i] << 8)) * CS_FNV_PRIME;
	h = (h ^ p->sport ^ ((__u64)p->dport << 16)) * CS_FNV_PRIME;
	return h | UDP_FLOW_BIT;
}

/*
 * A datagram: a DNS answer (from port 53) teaches the cache; one from a well-known port to a
 * higher one is a response (not what a host sends out); every other one is a send.
 */
static void udp_packet(struct pscan *ps, const struct l4pkt *p)
{
	struct cs_event *ev;

	if (p->sport == 53) {
		int n = dns_cache_add_message(ps->dns, p->data, p->len,
					      (__u64)p->ts_ns / 1000000000ULL);

		ps->st.dns_answers++;
		ps->st.dns_learnt += n > 0 ? (__u64)n : 0;
	}
	if (p->sport < 1024 && p->dport >= 1024) {
		ps->st.udp_replies++;
		ps->st.reply_bytes += p->len;
		return;
	}
	if (!p->len)
		return;
	ps->st.udp_sends++;
	ev = event_begin(ps, p->ts_ns, udp_flow(p), p->v6, p->daddr, p->dport, IPPROTO_UDP, p->len);
	event_finish(ps, ev, p->data, p->len);
}

static int on_packet(const struct l4pkt *p, void *ctx)
{
	struct pscan *ps = ctx;

	if (p->proto == IPPROTO_UDP) {
		udp_packet(ps, p);
	} else {
		struct tcp_pkt t = {.ts_ns = p->ts_ns,
				    .v6 = p->v6,
				    .saddr = p->saddr,
				    .daddr = p->daddr,
				    .sport = p->sport,
				    .dport = p->dport,
				    .seq = p->seq,
				    .flags = p->flags,
				    .data = p->data,
				    .len = p->len};

		tcp_table_add(ps->tcp, &t);
	}
	return ps->err;
}

static void print_summary(const struct pscan *ps, const char *path, const struct pcapread *r,
			  double secs, __u64 fsize)
{
	const struct pcapread_stats *rs = pcapread_stats(r);
	const struct tcp_stats *ts = tcp_table_stats(ps->tcp);
	const struct deep_stats *d = deep_stats(ps->deep);
	const struct cscan_stats *cs = deep_cscan_stats(ps->deep);
	const struct h2flows_stats *h = deep_h2_stats(ps->deep);
	__u64 unseen = ts->gap_bytes + rs->frag_bytes + rs->cut_bytes + ps->st.tls_bytes;

	fprintf(
	    stderr,
	    "consentry: scan-pcap summary (%s, link type %s)\n"
	    "  packets               %" PRIu64 " (%" PRIu64 " bytes; not IP %" PRIu64
	    ", not TCP/UDP %" PRIu64 ", malformed %" PRIu64 ")\n"
	    "  tcp connections       %" PRIu64 " (%" PRIu64 " met mid-way: no SYN), %" PRIu64
	    " tls (%" PRIu64 " bytes of ciphertext, not readable)\n"
	    "  tcp segments          %" PRIu64 " with payload (%" PRIu64 " out of order; %" PRIu64
	    " bytes seen again: retransmits and overlaps, the first copy kept)\n"
	    "  sends scanned         %" PRIu64 " (%" PRIu64 " bytes; %" PRIu64
	    " udp datagrams): initiator to responder\n"
	    "  not scanned           %" PRIu64 " bytes responder to initiator, %" PRIu64
	    " bytes of %" PRIu64 " udp responses\n"
	    "  bytes uninspected     %" PRIu64 " (tcp gaps %" PRIu64 " in %" PRIu64 ", %" PRIu64
	    " of them given up at the out-of-order bound, %" PRIu64
	    " bytes no memory; ip fragments %" PRIu64 " bytes in %" PRIu64
	    " packets; cut by the snap length %" PRIu64 " bytes; tls %" PRIu64 ")\n"
	    "  dns answers           %" PRIu64 " (%" PRIu64 " addresses learnt)\n"
	    "  hits                  %" PRIu64 " (tokens hashed %" PRIu64 ", unconfirmed %" PRIu64
	    "); decoded %" PRIu64 " layers, %" PRIu64 " hits there\n"
	    "  http/2 flows          %" PRIu64 " (%" PRIu64 " header blocks; desyncs %" PRIu64 ")\n"
	    "  findings              %" PRIu64 " (reported %" PRIu64 "; unconsented %" PRIu64
	    ", consented %" PRIu64 ", exempt %" PRIu64 ")\n"
	    "  time                  %.3f s, %.1f MB/s of capture\n",
	    path, pcapread_linktype(r), (uint64_t)rs->packets, (uint64_t)rs->bytes,
	    (uint64_t)rs->not_ip, (uint64_t)rs->other_proto, (uint64_t)rs->malformed,
	    (uint64_t)ts->conns, (uint64_t)ts->midway, (uint64_t)ps->st.tls_conns,
	    (uint64_t)ps->st.tls_bytes, (uint64_t)ts->segments, (uint64_t)ts->ooo_segments,
	    (uint64_t)ts->duplicate, (uint64_t)ps->st.sends, (uint64_t)ps->st.bytes,
	    (uint64_t)ps->st.udp_sends, (uint64_t)ts->ignored, (uint64_t)ps->st.reply_bytes,
	    (uint64_t)ps->st.udp_replies, (uint64_t)unseen, (uint64_t)ts->gap_bytes,
	    (uint64_t)ts->gaps, (uint64_t)ts->bound_gaps, (uint64_t)ts->nomem_bytes,
	    (uint64_t)rs->frag_bytes, (uint64_t)rs->frag_packets, (uint64_t)rs->cut_bytes,
	    (uint64_t)ps->st.tls_bytes, (uint64_t)ps->st.dns_answers, (uint64_t)ps->st.dns_learnt,
	    (uint64_t)ps->corr.stats.hits, (uint64_t)(cs ? cs->tokens : 0),
	    (uint64_t)ps->corr.stats.unconfirmed, (uint64_t)d->dec.layers, (uint64_t)d->hits,
	    (uint64_t)h->flows, (uint64_t)h->blocks,
	    (uint64_t)(h->desync_gap + h->desync_proto + h->desync_hpack + h->desync_unseen),
	    (uint64_t)ps->corr.stats.findings, (uint64_t)ps->st.reported,
	    (uint64_t)(ps->st.found[V_UNCONSENTED][0] + ps->st.found[V_UNCONSENTED][1] +
		       ps->st.found[V_UNCONSENTED][2] + ps->st.found[V_UNCONSENTED][3]),
	    (uint64_t)(ps->st.found[V_CONSENTED][0] + ps->st.found[V_CONSENTED][1] +
		       ps->st.found[V_CONSENTED][2] + ps->st.found[V_CONSENTED][3]),
	    (uint64_t)(ps->st.found[V_EXEMPT][0] + ps->st.found[V_EXEMPT][1] +
		       ps->st.found[V_EXEMPT][2] + ps->st.found[V_EXEMPT][3]),
	    secs, secs > 0 ? fsize / secs / 1e6 : 0.0);
}

int pcapscan_file(const struct pcapscan_cfg *cfg, const char *path)
{
	static const struct tcp_ops ops = {.data = tcp_data, .gap = tcp_gap};
	struct pscan *ps = calloc(1, sizeof(*ps));
	struct pcapread *r = NULL;
	struct live_cfg lc;
	struct stat st;
	__s64 t0 = clock_ns(CLOCK_MONOTONIC);
	int err = -ENOMEM;

	if (!ps)
		return -ENOMEM;
	ps->cfg = cfg;
	ps->corr.db = cfg->db;
	ps->corr.rcpts = cfg->rcpts;
	ps->corr.consent = cfg->consent;
	ps->corr.geoip = cfg->geoip;
	if (cfg->law)
		ps->corr.law = *cfg->law;
	if (getrandom(&ps->corr.instance, sizeof(ps->corr.instance), 0) < 0)
		ps->corr.instance = (__u32)time(NULL);
	live_cfg_init(&lc, cfg->key, cfg->db, cfg->scan_all);
	ps->dns = dns_cache_new();
	ps->deep = deep_new(cfg->key, cfg->db, NULL);
	/* only the initiator's bytes are followed: what the live monitor sees leave a host */
	ps->tcp = tcp_table_new(&ops, ps, sizeof(struct pconn), 1, 0, 0);
	if (!ps->dns || !ps->deep || !ps->tcp || deep_scan_in_collector(ps->deep, &lc)) {
		pr_err("scan-pcap: no memory");
		goto out;
	}
	ps->corr.dns = ps->dns;
	r = pcapread_open(path);
	if (!r) {
		err = -EINVAL;
		goto out;
	}
	err = pcapread_run(r, on_packet, ps);
	/* the capture's end ends every connection: what waits after a gap is scanned too */
	tcp_table_flush(ps->tcp);
	if (!ps->err && fflush(cfg->out->f))
		ps->err = -EIO;
	if (ps->err) {
		pr_err("cannot write findings: %s", strerror(-ps->err));
		err = ps->err;
	}
	print_summary(ps, path, r, (double)(clock_ns(CLOCK_MONOTONIC) - t0) / 1e9,
		      stat(path, &st) ? 0 : (__u64)st.st_size);
out:
	pcapread_close(r);
	tcp_table_free(ps->tcp);
	deep_free(ps->deep);
	msg_release(&ps->msg);
	correlate_release(&ps->corr);
	dns_cache_free(ps->dns);
	free(ps);
	return err;
}
