// SPDX-License-Identifier: GPL-2.0-only
/* The summary the monitor prints to stderr when it stops (collector_summary). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <bpf/bpf.h>

#include "monitor/collector.h"
#include "monitor/summary.h"
#include "monitor/enforce.h"
#include "verdict/consent.h"
#include "verdict/consent_pg.h"
#include "decode/cscan.h"
#include "decode/deep.h"
#include "monitor/exechold.h"
#include "fpdb/fpfile.h"
#include "http/h2flow.h"
#include "output/dedup.h"
#include "output/journal.h"
#include "monitor/metrics.h"
#include "lib/log.h"
#include "monitor/procinfo.h"
#include "output/outfile.h"
#include "output/sdjournal.h"
#include "monitor/tls.h"

static void print_flows(const struct collector *c)
{
	int fd = loader_flows_fd(c->loader);
	__u64 key, next, *prev = NULL;
	struct cs_flow fl;
	unsigned shown = 0, total = 0;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &fl) || !fl.bytes_uninspected)
			continue;
		total++;
		if (shown < 10) {
			char ip[INET6_ADDRSTRLEN], comm[17];

			inet_ntop(fl.v6 ? AF_INET6 : AF_INET, fl.daddr, ip, sizeof(ip));
			memcpy(comm, fl.comm, 16);
			comm[16] = 0;
			/* the name is the process's to choose: escaped like in text findings */
			fputs("  flow ", stderr);
			text_str(stderr, comm);
			fprintf(stderr,
				" pid %u -> %s%s%s:%u/%s: %" PRIu64 " of %" PRIu64
				" bytes uninspected\n",
				fl.pid, fl.v6 ? "[" : "", ip, fl.v6 ? "]" : "", fl.dport,
				fl.proto == 17 ? "udp" : "tcp", (uint64_t)fl.bytes_uninspected,
				(uint64_t)fl.bytes_sent);
			shown++;
		}
	}
	if (total > shown)
		fprintf(stderr, "  ... %u more flows with uninspected bytes\n", total - shown);
}

/* New executables: notices, holds and how they ended (exechold.h). */
static void print_exec_summary(const struct collector *c, const __u64 *cnt)
{
	const struct exechold_stats *h = exechold_stats(c->eh);

	fprintf(stderr,
		"  exec notices          %" PRIu64
		" (executables not examined yet; lost, ring full %" PRIu64 ")\n",
		(uint64_t)cnt[CS_CNT_EXEC_NOTICES], (uint64_t)cnt[CS_CNT_EXEC_DROPS]);
	if (!h) {
		fprintf(stderr, "  exec holds            0 (--exec-hold off)\n");
		return;
	}
	fprintf(stderr,
		"  exec holds            %" PRIu64 " (not held: collector not responsive %" PRIu64
		", terminal jobs %" PRIu64 ", traced %" PRIu64 ", under su/sudo/runuser %" PRIu64
		", failed %" PRIu64 ")\n"
		"  exec releases         %" PRIu64 " (after probing %" PRIu64
		", at the %u ms bound %" PRIu64 ", at shutdown %" PRIu64
		"; exited while held %" PRIu64 ", running already %" PRIu64 ")\n"
		"  exec hold time        max %.2f ms, mean %.2f ms\n",
		(uint64_t)cnt[CS_CNT_EXEC_HELD], (uint64_t)cnt[CS_CNT_EXEC_STALE],
		(uint64_t)cnt[CS_CNT_EXEC_TTY], (uint64_t)cnt[CS_CNT_EXEC_TRACED],
		(uint64_t)cnt[CS_CNT_EXEC_FORWARDER], (uint64_t)cnt[CS_CNT_EXEC_FAILED],
		(uint64_t)(h->probed + h->bound + h->shutdown + h->orphaned), (uint64_t)h->probed,
		exechold_bound_ms(c->eh), (uint64_t)h->bound, (uint64_t)h->shutdown,
		(uint64_t)h->gone, (uint64_t)h->running, h->time_max_ns / 1e6,
		h->nsamples ? (double)h->time_sum_ns / h->nsamples / 1e6 : 0.0);
}

/* run --block: what the kernel refused, and its tables. */
static void enforce_summary(const struct collector *c, const __u64 *cnt)
{
	struct enforce_stats e;

	enforce_get_stats(c->enf, &e);
	fprintf(
	    stderr,
	    "  blocked               %" PRIu64 " (to an unknown recipient %" PRIu64
	    "; later sends on a cut socket %" PRIu64 "; not blocked, lease run out %" PRIu64 ")\n"
	    "  block tables          %" PRIu64 " fingerprints, %" PRIu64 " consent pairs, %" PRIu64
	    " selectors, %" PRIu64 " DNS addresses (hosts shared by path %" PRIu64
	    "; updates %" PRIu64 ", failed %" PRIu64 "; entries written %" PRIu64 ")\n",
	    (uint64_t)cnt[CS_CNT_BLOCKED], (uint64_t)cnt[CS_CNT_BLOCKED_UNKNOWN],
	    (uint64_t)cnt[CS_CNT_BLOCKED_AFTER], (uint64_t)cnt[CS_CNT_BLOCK_OPEN], (uint64_t)e.fps,
	    (uint64_t)e.pairs, (uint64_t)e.selectors, (uint64_t)e.dns, (uint64_t)e.host_shared,
	    (uint64_t)e.syncs, (uint64_t)e.sync_errors, (uint64_t)e.writes);
}

void collector_summary(const struct collector *c)
{
	__u64 cnt[CS_CNT_MAX];
	const struct correlate_stats *s = &c->corr.stats;
	const struct cscan_stats *cs = c->deep ? deep_cscan_stats(c->deep) : NULL;

	if (loader_counters(c->loader, cnt))
		memset(cnt, 0, sizeof(cnt));
	/* --scan-in collector: what the kernel would count of the tokeniser is counted here */
	if (cs) {
		cnt[CS_CNT_CARRIED] += cs->carried;
		cnt[CS_CNT_SKIPPED] += cs->skipped;
		cnt[CS_CNT_RESCANS] += cs->rescans;
		cnt[CS_CNT_TOKENS] += cs->tokens;
		cnt[CS_CNT_HITS] += cs->hits;
	}
	fprintf(stderr,
		"consentry: summary\n"
		"  sends                 %" PRIu64 "\n"
		"  bytes sent            %" PRIu64 "\n"
		"  bytes inspected       %" PRIu64 " (and %" PRIu64
		" of retried sends, scanned with their first call)\n"
		"  bytes uninspected     %" PRIu64 " (sendfile/splice %" PRIu64
		", unreadable sends %" PRIu64 ")\n"
		"  skipped               loopback %" PRIu64 ", tls records %" PRIu64
		", out of scope %" PRIu64 "\n"
		"  tokens hashed         %" PRIu64 "\n"
		"  bytes not tokenised   %" PRIu64 " (runs too short for a strong value; %" PRIu64
		" sends tokenised again whole, %" PRIu64 " bytes of them unreadable again)\n"
		"  hits                  %" PRIu64 " (distinct per batch; unconfirmed %" PRIu64
		", lost with the ring full %" PRIu64 "; %" PRIu64 " batches of bulk sends)\n"
		"  events                %" PRIu64 "\n"
		"  findings              %" PRIu64 " (reported %" PRIu64 ")\n"
		"  ringbuf drops         %" PRIu64 "\n"
		"  probe runs missed     %" PRIu64 "\n"
		"  tls writes            %" PRIu64 " (scanned %" PRIu64
		", not sent to a scanned socket "
		"%" PRIu64 "), files probed %u\n"
		"  dns answers           %" PRIu64 " (lost %" PRIu64 ")\n"
		"  carried sends         %" PRIu64
		" (continued a token the flow's last send left open)\n"
		"  reloads               %u (failed %u)\n",
		(uint64_t)cnt[CS_CNT_SENDS], (uint64_t)cnt[CS_CNT_BYTES_SENT],
		(uint64_t)cnt[CS_CNT_BYTES_INSPECTED], (uint64_t)cnt[CS_CNT_RETRIED],
		(uint64_t)cnt[CS_CNT_BYTES_UNINSPECTED], (uint64_t)cnt[CS_CNT_SENDFILE_BYTES],
		(uint64_t)cnt[CS_CNT_READ_FAIL], (uint64_t)cnt[CS_CNT_LOOPBACK],
		(uint64_t)cnt[CS_CNT_TLS_SKIPPED], (uint64_t)cnt[CS_CNT_OUT_OF_SCOPE],
		(uint64_t)cnt[CS_CNT_TOKENS], (uint64_t)cnt[CS_CNT_SKIPPED],
		(uint64_t)cnt[CS_CNT_RESCANS], (uint64_t)cnt[CS_CNT_RESCAN_UNREAD],
		(uint64_t)cnt[CS_CNT_HITS], (uint64_t)s->unconfirmed,
		(uint64_t)cnt[CS_CNT_HITS_OVERFLOW], (uint64_t)cnt[CS_CNT_HIT_RECORDS],
		(uint64_t)cnt[CS_CNT_EVENTS], (uint64_t)s->findings, (uint64_t)s->reported,
		(uint64_t)cnt[CS_CNT_RB_DROPS], (uint64_t)loader_prog_misses(c->loader),
		(uint64_t)cnt[CS_CNT_TLS_WRITES],
		(uint64_t)(cnt[CS_CNT_TLS_CLAIMED] + cnt[CS_CNT_TLS_CACHED]),
		(uint64_t)cnt[CS_CNT_TLS_LOST], tls_nfiles(c->loader->tls),
		(uint64_t)cnt[CS_CNT_DNS_ANSWERS], (uint64_t)cnt[CS_CNT_DNS_DROPS],
		(uint64_t)cnt[CS_CNT_CARRIED], c->reloads, c->reload_errors);
	if (c->enf)
		enforce_summary(c, cnt);
	if (c->of) {
		const struct outfile_stats *o = outfile_stats(c->of);

		fprintf(stderr,
			"  findings lost         %" PRIu64 " (not written to %s: %" PRIu64
			" write errors in %" PRIu64 " episodes; %" PRIu64 " written, %" PRIu64
			" reopened)\n",
			(uint64_t)o->lost, outfile_name(c->of), (uint64_t)o->errors,
			(uint64_t)o->episodes, (uint64_t)o->lines, (uint64_t)o->reopens);
	}
	if (c->out.sdj) {
		const struct sdjournal_stats *sj = sdjournal_stats(c->out.sdj);

		fprintf(stderr,
			"  findings lost         %" PRIu64 " (not sent to the systemd journal: "
			"journald not reachable in %" PRIu64 " episodes; %" PRIu64 " sent)\n",
			(uint64_t)sj->lost, (uint64_t)sj->episodes, (uint64_t)sj->sent);
	}
	fprintf(
	    stderr,
	    "  exe unknown           %" PRIu64
	    " (findings whose sender exited or exec'd before its executable was read: exe null)\n",
	    (uint64_t)procinfo_exe_unknown(c->pi));
	if (c->pg) {
		const struct consent_pg_stats *ps = consent_pg_stats(c->pg);

		fprintf(stderr,
			"  consent source        %s %s: outages %u, reconnects %u (the last good "
			"table kept meanwhile)\n",
			consent_pg_name(c->pg), ps->up ? "up" : "down", ps->outages,
			ps->reconnects);
	}
	fprintf(stderr,
		"  db changes refused    %u (fingerprint or key file changed, SIGHUP: not "
		"reloaded)\n",
		c->db_refused);
	if (c->loader->capture == CS_CAPTURE_SOCKETS)
		fprintf(
		    stderr,
		    "  socket hooks          %" PRIu64
		    " TCP sockets added (refused: map full or under another sk_msg program %" PRIu64
		    ", their bytes counted uninspected; %u adopted at start); %" PRIu64
		    " bytes queued without a verdict, scanned at egress (lost %" PRIu64
		    "); %" PRIu64 " messages not made linear\n",
		    (uint64_t)cnt[CS_CNT_SOCKS_ADDED], (uint64_t)cnt[CS_CNT_SOCKS_FULL],
		    c->loader->adopted.adopted, (uint64_t)cnt[CS_CNT_UNVERDICT_BYTES],
		    (uint64_t)cnt[CS_CNT_UNVERDICT_LOST], (uint64_t)cnt[CS_CNT_PULL_FAIL]);
	if (c->journal) {
		struct journal_stats js;

		journal_get_stats(c->journal, &js);
		fprintf(stderr,
			"  journal               %" PRIu64 " findings written, %" PRIu64
			" lost (%" PRIu64 " failed writes: disk full or database locked)\n",
			(uint64_t)js.written, (uint64_t)js.lost, (uint64_t)js.errors);
	}
	if (c->dedup) {
		const struct dedup_stats *d = dedup_stats(c->dedup);

		fprintf(stderr,
			"  dedup                 %" PRIu64 " repeats merged into %" PRIu64
			" findings (--dedup %u s; %" PRIu64 " windows, %" PRIu64
			" closed early with the table of %u full, %" PRIu64
			" of them with repeats; %" PRIu64 " written unmerged, no memory)\n",
			(uint64_t)d->absorbed, (uint64_t)d->merged, c->dedup_s,
			(uint64_t)d->windows, (uint64_t)d->early, c->dedup_keys,
			(uint64_t)d->early_merged, (uint64_t)d->untracked);
	}
	if (c->loader->tls)
		print_exec_summary(c, cnt);
	if (c->deep) {
		const struct deep_stats *d = deep_stats(c->deep);

		fprintf(stderr,
			"  deep sends            %" PRIu64 " (%" PRIu64
			" bytes handed over, %" PRIu64 " not: ring full %" PRIu64 ", lost %" PRIu64
			"; %" PRIu64 " sends whose event never came)\n"
			"  decoded               %" PRIu64 " layers, %" PRIu64
			" bytes (cut at the limit %" PRIu64 ", corrupt streams %" PRIu64
			"), %" PRIu64 " hits there; no memory: %" PRIu64 " hits lost, %" PRIu64
			" messages not correlated\n"
			"  not decoded           %" PRIu64 " sends (--decode off)\n",
			(uint64_t)cnt[CS_CNT_DEEP_SENDS], (uint64_t)cnt[CS_CNT_DEEP_BYTES],
			(uint64_t)(cnt[CS_CNT_DEEP_DROPS] + d->lost),
			(uint64_t)cnt[CS_CNT_DEEP_DROPS], (uint64_t)d->lost, (uint64_t)d->orphans,
			(uint64_t)d->dec.layers, (uint64_t)d->dec.bytes_out,
			(uint64_t)d->dec.bytes_cut, (uint64_t)d->dec.errors, (uint64_t)d->hits,
			(uint64_t)d->hits_lost, (uint64_t)s->oom,
			(uint64_t)cnt[CS_CNT_NOT_DECODED]);
	}
	if (cs)
		fprintf(stderr,
			"  collector scan        %" PRIu64 " sends, %" PRIu64
			" bytes (--scan-in collector; %" PRIu64
			" of them to decode), %.3f s, %.2f ns per byte; %" PRIu64
			" hits lost, no memory\n",
			(uint64_t)cs->sends, (uint64_t)cs->bytes, (uint64_t)cs->decoded,
			cs->ns / 1e9, cs->bytes ? (double)cs->ns / cs->bytes : 0.0,
			(uint64_t)cs->hits_lost);
	if (c->deep) {
		const struct h2flows_stats *h = deep_h2_stats(c->deep);

		fprintf(
		    stderr,
		    "  http/2 flows          %" PRIu64 " (%" PRIu64 " sends, %" PRIu64
		    " bytes decoded; %" PRIu64 " flows and %" PRIu64
		    " streams dropped from full tables)\n"
		    "  http/2 header blocks  %" PRIu64 " (%" PRIu64 " fields; DATA %" PRIu64
		    " bytes; %" PRIu64 " hits in them)\n"
		    "  http/2 desyncs        %" PRIu64 " (bytes not handed over %" PRIu64
		    ", framing errors %" PRIu64 ", header blocks not decodable %" PRIu64
		    ", flows met mid-way %" PRIu64 "; %" PRIu64 " bytes not decoded)\n",
		    (uint64_t)h->flows, (uint64_t)h->sends, (uint64_t)h->bytes,
		    (uint64_t)h->flows_evicted, (uint64_t)h->streams_evicted, (uint64_t)h->blocks,
		    (uint64_t)h->fields, (uint64_t)h->data_bytes, (uint64_t)h->hits,
		    (uint64_t)(h->desync_gap + h->desync_proto + h->desync_hpack +
			       h->desync_unseen),
		    (uint64_t)h->desync_gap, (uint64_t)h->desync_proto, (uint64_t)h->desync_hpack,
		    (uint64_t)h->desync_unseen, (uint64_t)h->bytes_skipped);
	}
	print_flows(c);
}
