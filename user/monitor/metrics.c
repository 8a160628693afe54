// SPDX-License-Identifier: GPL-2.0-only
/* Prometheus exposition of the collector's counters (metrics.h), served by libmicrohttpd. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <microhttpd.h>

#include "monitor/collector.h"
#include "consentry.skel.h"
#include "decode/deep.h"
#include "output/dedup.h"
#include "output/journal.h"
#include "output/outfile.h"
#include "output/sdjournal.h"
#include "monitor/loader.h"
#include "lib/log.h"
#include "monitor/metrics.h"
#include "verdict/recipients.h"
#include "verdict/consent_pg.h"

struct metrics {
	struct MHD_Daemon *d;
	const struct collector *c;
	int lfd;
};

/* One counter (or gauge) with its HELP and TYPE lines. */
static void metric(FILE *f, const char *name, const char *type, const char *help, __u64 v)
{
	fprintf(f, "# HELP consentry_%s %s\n# TYPE consentry_%s %s\nconsentry_%s %" PRIu64 "\n",
		name, help, name, type, name, (uint64_t)v);
}

static void header(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP consentry_%s %s\n# TYPE consentry_%s %s\n", name, help, name, type);
}

/* Per program: ns per call over the programs' lifetime, when kernel.bpf_stats_enabled is on. */
static void prog_gauges(FILE *f, const struct bpf_loader *l)
{
	struct bpf_program *p;
	int on = 0, fd;
	FILE *s = fopen("/proc/sys/kernel/bpf_stats_enabled", "re");

	if (s) {
		on = fgetc(s) == '1';
		fclose(s);
	}
	metric(f, "bpf_stats_enabled", "gauge",
	       "kernel.bpf_stats_enabled: 1 when the per-program times below are measured", on);
	if (!on || !l->skel)
		return;
	header(f, "bpf_prog_ns_per_call", "gauge",
	       "Mean run time of each loaded BPF program per call since it was loaded (bpf_stats)");
	bpf_object__for_each_program(p, l->skel->obj)
	{
		struct bpf_prog_info info = {0};
		__u32 len = sizeof(info);

		fd = bpf_program__fd(p);
		if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len) || !info.run_cnt)
			continue;
		fprintf(f, "consentry_bpf_prog_ns_per_call{program=\"%s\"} %.1f\n",
			bpf_program__name(p), (double)info.run_time_ns / (double)info.run_cnt);
	}
}

void metrics_write(FILE *f, const struct collector *c)
{
	static const char *const verdicts[] = {"unconsented", "consented", "exempt"};
	static const enum rcpt_kind kinds[] = {RK_UNKNOWN, RK_FIRST_PARTY, RK_PROCESSOR,
					       RK_THIRD_PARTY};
	__u64 cnt[CS_CNT_MAX];
	struct journal_stats js;

	if (!c->loader || loader_counters(c->loader, cnt))
		memset(cnt, 0, sizeof(cnt));
	metric(f, "sends_total", "counter", "Egress sends scanned", cnt[CS_CNT_SENDS]);
	metric(f, "bytes_sent_total", "counter", "Bytes handed to egress sends",
	       cnt[CS_CNT_BYTES_SENT]);
	metric(f, "bytes_inspected_total", "counter", "Bytes scanned", cnt[CS_CNT_BYTES_INSPECTED]);
	header(f, "bytes_uninspected_total", "counter",
	       "Bytes of egress sends not scanned, by reason (other: over --scan-limit, a refused "
	       "socket, a message not made linear)");
	{
		__u64 sf = cnt[CS_CNT_SENDFILE_BYTES], all = cnt[CS_CNT_BYTES_UNINSPECTED];

		fprintf(f,
			"consentry_bytes_uninspected_total{reason=\"sendfile_splice\"} %" PRIu64
			"\n"
			"consentry_bytes_uninspected_total{reason=\"other\"} %" PRIu64 "\n",
			(uint64_t)sf, (uint64_t)(all > sf ? all - sf : 0));
	}
	metric(f, "unreadable_sends_total", "counter",
	       "Sends whose user memory was not readable at entry (their bytes are uninspected)",
	       cnt[CS_CNT_READ_FAIL]);
	metric(f, "unverdicted_bytes_lost_total", "counter",
	       "TCP bytes queued without a verdict and not scanned at egress either",
	       cnt[CS_CNT_UNVERDICT_LOST]);
	header(f, "sends_blocked_total", "counter",
	       "run --block: sends the kernel refused, by why (unknown recipient, no consent, a "
	       "socket an earlier block cut)");
	fprintf(f,
		"consentry_sends_blocked_total{reason=\"unknown_recipient\"} %" PRIu64 "\n"
		"consentry_sends_blocked_total{reason=\"unconsented\"} %" PRIu64 "\n"
		"consentry_sends_blocked_total{reason=\"cut_socket\"} %" PRIu64 "\n",
		(uint64_t)cnt[CS_CNT_BLOCKED_UNKNOWN],
		(uint64_t)(cnt[CS_CNT_BLOCKED] - cnt[CS_CNT_BLOCKED_UNKNOWN]),
		(uint64_t)cnt[CS_CNT_BLOCKED_AFTER]);
	metric(f, "block_lease_expired_total", "counter",
	       "run --block: sends not refused because the collector's lease had run out",
	       cnt[CS_CNT_BLOCK_OPEN]);
	metric(f, "hits_total", "counter", "Kernel fingerprint hits, distinct per send",
	       cnt[CS_CNT_HITS]);
	metric(f, "hits_lost_total", "counter", "Hits lost with the ring buffer full",
	       cnt[CS_CNT_HITS_OVERFLOW]);
	header(f, "findings_total", "counter", "Findings by verdict and recipient kind");
	for (unsigned v = 0; v < 3; v++)
		for (unsigned k = 0; k < 4; k++)
			fprintf(f,
				"consentry_findings_total{verdict=\"%s\",recipient_kind=\"%s\"} "
				"%" PRIu64 "\n",
				verdicts[v], rcpt_kind_name(kinds[k]),
				(uint64_t)c->found[v][kinds[k]]);
	metric(f, "findings_blocked_total", "counter",
	       "Findings of sends the kernel refused (run --block): action blocked", c->blocked);
	metric(f, "findings_reported_total", "counter",
	       "Findings written to the output (unconsented, or all with --all)",
	       c->corr.stats.reported);
	{
		__u64 lost = c->of ? outfile_stats(c->of)->lost : 0;

		if (c->out.sdj)
			lost = sdjournal_stats(c->out.sdj)->lost;
		metric(f, "findings_lost_total", "counter",
		       "Findings not written by -o: write errors of the file, or the systemd "
		       "journal not reachable (-o journal)",
		       lost);
	}
	metric(f, "ringbuf_drops_total", "counter", "Events lost: the ring buffer was full",
	       cnt[CS_CNT_RB_DROPS]);
	metric(f, "handover_bytes_lost_total", "counter",
	       "Bytes of sends to be decoded that did not reach the collector (ring full, lost)",
	       cnt[CS_CNT_DEEP_DROPS] + (c->deep ? deep_stats(c->deep)->lost : 0));
	metric(f, "reloads_total", "counter", "SIGHUP reloads of consent and recipients",
	       c->reloads);
	metric(f, "reload_failures_total", "counter", "Reloads refused (the old tables kept)",
	       c->reload_errors);
	if (c->pg) {
		const struct consent_pg_stats *ps = consent_pg_stats(c->pg);

		metric(
		    f, "consent_source_up", "gauge",
		    "-c postgresql://: 1 while the consent database is connected and listened to",
		    (__u64)ps->up);
		metric(f, "consent_source_outages_total", "counter",
		       "-c postgresql://: connections to the consent database lost (the last good "
		       "table kept meanwhile)",
		       ps->outages);
	}
	journal_get_stats(c->journal, &js);
	metric(f, "journal_written_total", "counter", "Findings committed to the journal",
	       js.written);
	metric(f, "journal_lost_total", "counter",
	       "Findings the journal lost (a failed write or commit)", js.lost);
	metric(f, "journal_errors_total", "counter", "Failed journal writes or commits", js.errors);
	{
		static const struct dedup_stats none;
		const struct dedup_stats *d = c->dedup ? dedup_stats(c->dedup) : &none;

		metric(f, "dedup_repeats_merged_total", "counter",
		       "run --dedup: repeats absorbed into merged findings", d->absorbed);
		metric(f, "dedup_merged_findings_total", "counter",
		       "run --dedup: merged findings written when their window ended", d->merged);
		metric(
		    f, "dedup_early_closes_total", "counter",
		    "run --dedup: windows closed before their end, the table full (their repeats "
		    "written then)",
		    d->early);
		metric(f, "dedup_windows_open", "gauge", "run --dedup: windows open now",
		       dedup_open(c->dedup));
	}
	if (c->loader)
		prog_gauges(f, c->loader);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *data,
			      size_t *data_len, void **state)
{
	struct metrics *m = cls;
	struct MHD_Response *r;
	char *body = NULL;
	size_t len = 0;
	enum MHD_Result ret;
	unsigned code = MHD_HTTP_OK;
	FILE *f;

	(void)version;
	(void)data;
	(void)data_len;
	(void)state;
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return MHD_NO;
	f = open_memstream(&body, &len);
	if (!f)
		return MHD_NO;
	if (!strcmp(url, "/metrics")) {
		metrics_write(f, m->c);
	} else {
		fputs("consentry: the metrics are at /metrics\n", f);
		code = MHD_HTTP_NOT_FOUND;
	}
	if (fclose(f)) {
		free(body);
		return MHD_NO;
	}
	r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	ret = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	return ret;
}

/* "host:port", "[v6]:port" or ":port" to a socket address. 0 or -EINVAL. */
static int parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	char *end;
	unsigned long port;
	size_t hl;

	if (!colon)
		return -EINVAL;
	port = strtoul(colon + 1, &end, 10);
	if (!colon[1] || *end || port == 0 || port > 65535)
		return -EINVAL;
	hl = (size_t)(colon - s);
	if (hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hl);
	host[hl] = 0;
	memset(ss, 0, sizeof(*ss));
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		host[hl - 1] = 0;
		if (inet_pton(AF_INET6, host + 1, &a->sin6_addr) != 1)
			return -EINVAL;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((__u16)port);
		*len = sizeof(*a);
		return 0;
	}
	{
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		if (hl && inet_pton(AF_INET, host, &a->sin_addr) != 1)
			return -EINVAL;
		a->sin_family = AF_INET;
		a->sin_port = htons((__u16)port);
		*len = sizeof(*a);
	}
	return 0;
}

int metrics_start(struct metrics **out, const char *addr_port, struct collector *c)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	struct metrics *m;
	int one = 1, err;

	*out = NULL;
	if (parse_addr(addr_port, &ss, &sl)) {
		pr_err(
		    "--metrics: expected ADDR:PORT (127.0.0.1:9464, [::1]:9464 or :9464), got '%s'",
		    addr_port);
		return -EINVAL;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->c = c;
	m->lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (m->lfd < 0 || setsockopt(m->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(m->lfd, (struct sockaddr *)&ss, sl) || listen(m->lfd, 16)) {
		err = -errno;
		pr_err("--metrics %s: %s", addr_port, strerror(errno));
		goto fail;
	}
	/* no thread of its own: its epoll fd is watched by the collector's loop */
	m->d = MHD_start_daemon(MHD_USE_EPOLL, 0, NULL, NULL, handle, m, MHD_OPTION_LISTEN_SOCKET,
				m->lfd, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)16, MHD_OPTION_END);
	if (!m->d) {
		err = -EIO;
		pr_err("--metrics %s: cannot start the HTTP server", addr_port);
		goto fail;
	}
	*out = m;
	return 0;
fail:
	if (m->lfd >= 0)
		close(m->lfd);
	free(m);
	return err;
}

int metrics_fd(const struct metrics *m)
{
	const union MHD_DaemonInfo *i = MHD_get_daemon_info(m->d, MHD_DAEMON_INFO_EPOLL_FD);

	return i ? i->epoll_fd : -1;
}

void metrics_run(struct metrics *m)
{
	if (m)
		MHD_run(m->d);
}

void metrics_stop(struct metrics *m)
{
	if (!m)
		return;
	MHD_stop_daemon(m->d);
	close(m->lfd);
	free(m);
}
