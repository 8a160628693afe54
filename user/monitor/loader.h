/* SPDX-License-Identifier: GPL-2.0-only */
/* Open, configure, load and attach the BPF object; fill the tag table; detach on release. */
#ifndef CS_LOADER_H
#define CS_LOADER_H

#include <stddef.h>
#include "cs_abi.h"
#include "monitor/adopt.h"

struct fpdb;
struct consentry_bpf;

struct loader_opts {
	const struct cs_key *key;
	struct fpdb *db; /* its prefilter is handed over to the kernel's copy (fpdb_pre_share) */
	__u32 scan_limit;
	int include_loopback;
	const __u32 *pids;
	unsigned npids;
	const __u64 *cgroups; /* cgroup v2 ids */
	unsigned ncgroups;
	__u32 ringbuf_bytes;
	int tls;		     /* probe TLS libraries (--tls auto) */
	int exec_hold;		     /* enum cs_exec_hold: stop new executables until probed */
	int decode;		     /* hand flagged sends to the collector (--decode auto) */
	int scan_all;		     /* --scan-all: tokenise every byte, skip no short run */
	int capture;		     /* enum cs_capture */
	int scan_collector;	     /* --scan-in collector: the collector tokenises (cscan.h) */
	const char *const *tls_libs; /* --tls-lib paths */
	unsigned ntls_libs;
	int block;	   /* enum cs_block (socket hooks only; no fallback with it) */
	__u32 block_fps;   /* enforce tables' sizes: strong fingerprints, */
	__u32 block_pairs; /* (fingerprint, recipient) consent pairs */
};

struct bpf_loader {
	struct consentry_bpf *skel;
	void *tags;
	size_t tags_len;
	void *pre; /* the kernel's prefilter, mapped read-only: db->pre points here */
	size_t pre_len;
	struct fpdb *db;
	__u32 nbuckets;
	/* the first pass's settings given to the kernel (its cfg_skip_len, cfg_strong_min) */
	__u32 skip_len, strong_min;
	int mounted_tracefs;
	unsigned nprogs;
	struct tls *tls;	   /* NULL with --tls off */
	struct bpf_link *dns_link; /* DNS answers (cgroup_skb ingress), NULL if unavailable */
	int capture;		   /* enum cs_capture in use: sockets or tracepoints */
	struct bpf_link *sockops_link, *skb_link; /* socket hooks on the cgroup v2 root */
	int sk_msg_attached;			  /* sk_send on the sockhash */
	struct adopt_stats adopted;		  /* connections open before the start */
	__u64 host_b1, host_b2;			  /* --block: cs_host_hash bases given */
};

/* Checks privileges, BTF and tracefs (mounting it when missing). 0 or -errno (message printed). */
int loader_preflight(struct bpf_loader *l);
/* Open, set rodata and map sizes, load, fill maps, attach. 0 or -errno (message printed). */
int loader_start(struct bpf_loader *l, const struct loader_opts *o);
/* The most instructions the verifier processed for one loaded program (its name in *name): the
 * kernel refuses a program at 1M. */
__u32 loader_verified_max(const struct bpf_loader *l, const char **name);
/* "sockets" or "tracepoints": the capture loader_start chose. */
const char *loader_capture_name(const struct bpf_loader *l);
/* Detach and unload everything; safe on a partly started or zeroed loader. */
void loader_release(struct bpf_loader *l);

int loader_ringbuf_fd(const struct bpf_loader *l);
/* Sum of the per-CPU counters into out[CS_CNT_MAX]. */
int loader_counters(const struct bpf_loader *l, __u64 *out);
/* Sum of recursion misses of all programs (runs the kernel skipped). */
__u64 loader_prog_misses(const struct bpf_loader *l);
int loader_flows_fd(const struct bpf_loader *l);
int loader_execs_fd(const struct bpf_loader *l);
/* The exec hold's maps: held processes, the watchdog's ring buffer, the collector's lease. */
void loader_exec_hold_fds(const struct bpf_loader *l, int *held, int *holds, int *lease);
int loader_dns_fd(const struct bpf_loader *l);
struct enforce_maps;
/* --block: the enforce tables' fds and the lease word (monitor/enforce.h). */
void loader_enforce_maps(const struct bpf_loader *l, struct enforce_maps *m);

/*
 * cgroup v2 id and depth (root = 0) of a path, absolute or relative to the cgroup2 mount.
 * 0 or -ENOENT.
 */
int cgroup_id_of(const char *path, __u64 *id, int *level);

#endif
