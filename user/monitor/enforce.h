/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * run --block: the kernel's enforce tables (bpf/lib/enforce.bpf.h) kept in step with the loaded
 * fingerprints, recipients and consent, and the lease that keeps the kernel refusing. What the
 * kernel is given: every enrolled strong fingerprint; each recipient selector with the
 * recipient's number and flags (exempt, no consent check); addresses DNS answers give for host
 * selectors, until their TTL; and the (fingerprint, recipient) pairs a consent row covers now
 * by spec §6-7 (the purpose aside: the kernel does not see it). The pairs are computed again at
 * every reload and when the clock passes a row's granted_at, expires_at or withdrawn_at.
 */
#ifndef CS_ENFORCE_H
#define CS_ENFORCE_H

#include <linux/types.h>

struct fpdb;
struct recipients;
struct consent_db;
struct law_profile;
struct enforce;

/*
 * The kernel side: map fds and the lease word (the BPF object's enf_deadline, mapped). Tests
 * pass fds of -1 and no deadline: the tables are computed, nothing is written.
 */
struct enforce_maps {
	int fp, consent, ipport, net, host, dns;
	volatile __u64 *deadline;
};

struct enforce_cfg {
	int mode; /* enum cs_block */
	const struct fpdb *db;
	const struct law_profile *law;
	__u64 b1, b2; /* cs_host_hash bases of the kernel (rodata) */
};

struct enforce_stats {
	__u64 fps, pairs, selectors, dns; /* entries in the kernel's tables now */
	__u64 syncs, sync_errors;	  /* table updates, and those that failed */
	__u64 writes; /* entries the syncs wrote or deleted (a sync writes only what changed) */
	__u64 host_shared; /* hosts several recipients share by path: never blocked for consent */
};

/*
 * The strong fingerprints into the kernel, then enforce_sync. 0, -ENOMEM, or -errno of a map
 * update (printed); on error nothing is left allocated.
 */
int enforce_start(struct enforce **out, const struct enforce_maps *m, const struct enforce_cfg *cfg,
		  const struct recipients *r, const struct consent_db *c, __s64 now_ns);
/*
 * Make the kernel's selector and consent tables those of r and c at now_ns (new entries first,
 * then the stale ones deleted: a pair that stays is never missing meanwhile). 0 or -errno
 * (printed; the lease is then withdrawn, so the kernel refuses nothing on tables it cannot
 * trust until a sync succeeds).
 */
int enforce_sync(struct enforce *e, const struct recipients *r, const struct consent_db *c,
		 __s64 now_ns);
/*
 * Once a second: recompute the pairs if now_ns passed a consent row's time, drop DNS addresses
 * past their TTL, renew the lease (mono_ns: CLOCK_MONOTONIC).
 */
void enforce_tick(struct enforce *e, __s64 now_ns, __u64 mono_ns);
/*
 * A DNS answer: addr (4 or 16 bytes) is name's for ttl_s; kept if name is a host selector's.
 * Returns the recipient number it was kept for, or -1.
 */
long enforce_dns(struct enforce *e, int family, const void *addr, const char *name, __u32 ttl_s,
		 __u64 mono_ns);
void enforce_get_stats(const struct enforce *e, struct enforce_stats *st);
/* Withdraw the lease (the kernel refuses nothing from now on) and free e. NULL is fine. */
void enforce_stop(struct enforce *e);

/* The pairs of c at now_ns, sorted by their bytes (memcmp), each once: enforce_sync's. */
struct cs_enf_pair;
int enforce_pairs(const struct enforce *e, const struct recipients *r, const struct consent_db *c,
		  __s64 now_ns, struct cs_enf_pair **out, size_t *n);

#endif
