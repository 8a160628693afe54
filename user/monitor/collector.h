/* SPDX-License-Identifier: GPL-2.0-only */
/* The collector: one epoll loop over the ring buffer, a signalfd and a timerfd. */
#ifndef CS_COLLECTOR_H
#define CS_COLLECTOR_H

#include <sys/stat.h>

#include "verdict/correlate.h"
#include "monitor/loader.h"
#include "monitor/message.h"
#include "output/output.h"
#include "monitor/procinfo.h"

struct procinfo;
struct deep;
struct exechold;
struct outfile;
struct ring_buffer;
struct dedup;
struct consent_pg;
struct enforce;

struct collector {
	struct bpf_loader *loader;
	struct correlator corr;
	struct output out;
	struct procinfo *pi;
	struct dns_cache *dns;
	struct deep *deep;	 /* assembles messages, decodes the bytes handed over (deep.h) */
	struct msg msg;		 /* the message being reported (storage reused) */
	struct exechold *eh;	 /* releases held new executables (exechold.h); NULL: no holds */
	struct journal *journal; /* --journal: every finding, any verdict (journal.h); or NULL */
	struct metrics *metrics; /* --metrics: the /metrics server (metrics.h); or NULL */
	/* --dedup SECONDS: repeats merged (output/dedup.h); 0 / NULL: every finding written */
	unsigned dedup_s, dedup_keys; /* dedup_keys 0: DEDUP_MAX_KEYS */
	struct dedup *dedup;
	__u64 found[3][4]; /* findings by verdict and recipient kind (enum verdict, rcpt_kind) */
	__u64 blocked;	   /* findings of sends the kernel refused (finding_blocked) */
	/* the kubelet's pod log directories (procinfo_cgroup_pod); NULL: PODS_DIR */
	const char *pods_dir;
	const struct cs_key *key;
	int report_all;	    /* --all: also consented and exempt */
	int scan_collector; /* --scan-in collector: sends are tokenised here (cscan.h) */
	__s64 mono_to_real; /* add to CLOCK_MONOTONIC ns to get CLOCK_REALTIME ns */
	int err;
	unsigned batch; /* records handled in this ring_buffer__consume() call */
	/*
	 * SIGHUP reloads consent.csv and recipients.csv from these paths (NULL: no reload). The
	 * tables live in *consent and *rcpts, owned by the caller: a reload frees the old ones and
	 * stores the new ones there; a file with an error leaves both as they were.
	 */
	const char *consent_path, *rcpt_path;
	/* the fingerprint file: a mapped DB's is watched, a write to it stops the monitor */
	const char *fp_path;
	struct consent_db **consent;
	struct recipients **rcpts;
	/* -c postgresql://...: consent_path's rows come from there, reloaded on NOTIFY too; or NULL
	 */
	struct consent_pg *pg;
	unsigned reloads, reload_errors;
	/*
	 * The fingerprint and key files as they were when loaded: the BPF maps are sized and
	 * keyed at load, so a SIGHUP after either changed says the DB is not reloaded (the one
	 * loaded keeps working) and counts it.
	 */
	const char *key_path;
	struct stat fp_st, key_st;
	unsigned db_refused;
	struct outfile *of;  /* the findings file (outfile.h); NULL: out.f is written as is */
	struct enforce *enf; /* run --block: the kernel's tables (enforce.h); NULL: audit */
};

/* Run until SIGINT/SIGTERM; prints the summary to stderr. 0 or -errno. */
int collector_run(struct collector *c);
/* Reload consent and recipients (SIGHUP); 0, or the load error with the old tables kept. */
int collector_reload(struct collector *c);
/* Handle one raw ring-buffer record (exposed for tests). */
int collector_handle(struct collector *c, const void *data, size_t len);

#endif
