// SPDX-License-Identifier: GPL-2.0-only
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "monitor/loader.h"
#include "fpdb/tagtable.h"
#include "monitor/tls.h"
#include "lib/log.h"
#include "lib/fields.h"
#include "fpdb/fpfile.h"
#include "monitor/adopt.h"
#include "monitor/enforce.h"
#include "decode/livescan.h"
#include "consentry.skel.h"

#include "cs_hash.h"

#define TRACEFS "/sys/kernel/tracing"

static char vlog[64 << 20];

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* large enough for libbpf's BTF and verifier logs, which come as one message */
	static char buf[1 << 20];
	size_t n;

	if (level == LIBBPF_DEBUG && log_get_level() < LOG_DEBUG)
		return 0;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n && buf[n - 1] == '\n')
		buf[--n] = 0;
	log_msg(level == LIBBPF_WARN ? LOG_WARN : LOG_DEBUG, "libbpf: %s", buf);
	return 0;
}

/* Effective capabilities allow loading tracing BPF programs (root, or CAP_BPF + CAP_PERFMON). */
static int has_bpf_caps(void)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2] = {};
	__u64 eff;

	if (syscall(SYS_capget, &h, d))
		return geteuid() == 0;
	eff = d[0].effective | ((__u64)d[1].effective << 32);
	if (eff & (1ULL << CAP_SYS_ADMIN))
		return 1;
	return (eff & (1ULL << CAP_BPF)) && (eff & (1ULL << CAP_PERFMON));
}

static int tracefs_ready(void)
{
	return access(TRACEFS "/events/syscalls", F_OK) == 0 ||
	       access("/sys/kernel/debug/tracing/events/syscalls", F_OK) == 0;
}

/*
 * Mount what we need in a mount namespace of our own, a slave of the host's (mounts made there
 * later still show here): the mount goes with the process, even one killed with SIGKILL, and
 * none of ours shows on the host. Where that fails the mount is made on the host's, as before.
 */
static void enter_private_mounts(void)
{
	int self = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);

	if (self < 0)
		return;
	if (unshare(CLONE_NEWNS)) {
		pr_debug("unshare(CLONE_NEWNS): %s", strerror(errno));
	} else if (mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL)) {
		/* still a peer of the host's mounts: back to them rather than leak through */
		pr_debug("mount namespace as a slave: %s", strerror(errno));
		if (setns(self, CLONE_NEWNS))
			pr_warn("cannot return to the host's mount namespace: %s", strerror(errno));
	}
	close(self);
}

int loader_preflight(struct bpf_loader *l)
{
	if (!has_bpf_caps()) {
		pr_err(
		    "consentry run needs root, or at least CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN "
		    "(consentry(8), NOTES) to load BPF programs");
		return -EPERM;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		pr_err("kernel BTF (/sys/kernel/btf/vmlinux) is missing: consentry needs a kernel "
		       "built with CONFIG_DEBUG_INFO_BTF=y (Linux >= 6.1)");
		return -ENOENT;
	}
	if (!tracefs_ready()) {
		enter_private_mounts();
		if (mount("tracefs", TRACEFS, "tracefs", 0, NULL) || !tracefs_ready()) {
			pr_err("tracefs is not mounted and mounting it at %s failed: %s", TRACEFS,
			       strerror(errno));
			return -ENOENT;
		}
		l->mounted_tracefs = 1;
		pr_debug("mounted tracefs at %s", TRACEFS);
	}
	return 0;
}

/* The cgroup v2 root, for programs that must see every socket of the host. */
static int cgroup_root_fd(void)
{
	static const char *const roots[] = {"/sys/fs/cgroup/unified", "/sys/fs/cgroup"};
	struct statfs sfs;

	for (unsigned i = 0; i < sizeof(roots) / sizeof(roots[0]); i++)
		if (!statfs(roots[i], &sfs) && sfs.f_type == CGROUP2_SUPER_MAGIC)
			return open(roots[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	errno = ENOENT;
	return -1;
}

int cgroup_id_of(const char *path, __u64 *id, int *level)
{
	static const char *const roots[] = {"/sys/fs/cgroup/unified", "/sys/fs/cgroup"};
	char buf[4096], real[PATH_MAX], rroot[PATH_MAX];
	struct statfs sfs;
	struct stat st;

	for (unsigned i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		const char *p = path;

		if (statfs(roots[i], &sfs) || sfs.f_type != CGROUP2_SUPER_MAGIC)
			continue;
		if (strncmp(path, roots[i], strlen(roots[i]))) {
			snprintf(buf, sizeof(buf), "%s/%s", roots[i], path);
			p = buf;
		}
		if (statfs(p, &sfs) || sfs.f_type != CGROUP2_SUPER_MAGIC || stat(p, &st) ||
		    !S_ISDIR(st.st_mode) || !realpath(p, real) || !realpath(roots[i], rroot))
			continue;
		/* level = path components below the cgroup2 root (the root is level 0) */
		*level = 0;
		for (const char *c = real + strlen(rroot); *c; c++)
			if (*c == '/' && c[1])
				(*level)++;
		*id = st.st_ino;
		return 0;
	}
	return -ENOENT;
}

/* Instructions the verifier processed for a loaded program (0 if unknown). */
static __u32 prog_verified(const struct bpf_program *prog)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len))
		return 0;
	return info.verified_insns;
}

/* The most instructions one loaded program of obj took (its name in *name); each printed to out
 * unless it is NULL. */
static __u32 verified_max(struct bpf_object *obj, FILE *out, const char **name)
{
	struct bpf_program *prog;
	__u32 max = 0, v;

	*name = "";
	bpf_object__for_each_program(prog, obj)
	{
		if (bpf_program__fd(prog) < 0)
			continue;
		v = prog_verified(prog);
		if (out)
			fprintf(out, "verifier: %-20s %u insns processed\n",
				bpf_program__name(prog), v);
		if (v > max) {
			max = v;
			*name = bpf_program__name(prog);
		}
	}
	return max;
}

__u32 loader_verified_max(const struct bpf_loader *l, const char **name)
{
	if (!l->skel) {
		*name = "";
		return 0;
	}
	return verified_max(l->skel->obj, NULL, name);
}

/*
 * The socket hooks (bpf/lib/sockhook.bpf.h): the sk_msg verdict on the sockhash first (a socket
 * takes the map's programs when it is added), then sockops and the UDP egress hook on the cgroup
 * v2 root, then the TCP sockets established before (user/monitor/adopt.c). 0 or -errno.
 */
static int attach_sockets(struct bpf_loader *l, const struct loader_opts *o)
{
	struct consentry_bpf *skel = l->skel;
	struct adopt_stats as = {};
	int cg, err;

	if (bpf_prog_attach(bpf_program__fd(skel->progs.sk_send), bpf_map__fd(skel->maps.socks),
			    BPF_SK_MSG_VERDICT, 0)) {
		err = -errno;
		pr_warn("capture: cannot attach the sk_msg program: %s", strerror(errno));
		return err;
	}
	l->sk_msg_attached = 1;
	cg = cgroup_root_fd();
	if (cg < 0) {
		err = -errno;
		pr_warn("capture: no cgroup v2 hierarchy for the socket hooks: %s",
			strerror(errno));
		return err;
	}
	l->sockops_link = bpf_program__attach_cgroup(skel->progs.sk_ops, cg);
	err = l->sockops_link ? 0 : -errno;
	if (!err) {
		l->skb_link = bpf_program__attach_cgroup(skel->progs.skb_send, cg);
		err = l->skb_link ? 0 : -errno;
	}
	close(cg);
	if (err) {
		pr_warn("capture: cannot attach the cgroup socket hooks: %s", strerror(-err));
		return err;
	}
	err = adopt_sockets(bpf_map__fd(skel->maps.socks), o->include_loopback, getpid(), &as);
	if (err) {
		pr_warn("capture: cannot adopt the TCP connections open before the start: %s",
			strerror(-err));
		return err;
	}
	l->adopted = as;
	pr_info("capture: socket hooks; %u established TCP connections adopted (%u loopback left "
		"out, %u failed)",
		as.adopted, as.loopback, as.failed);
	return 0;
}

static void release_bpf(struct bpf_loader *l);

/*
 * 1 if the running kernel has kfunc name (its BTF has the function), so the BPF code may take
 * the path that calls it. CONSENTRY_FORCE_FALLBACKS=1 says no to all: the paths for the oldest
 * supported kernel (6.1) are then the ones loaded and run (tests).
 */
static int kernel_has_kfunc(const char *name)
{
	const char *force = getenv("CONSENTRY_FORCE_FALLBACKS");
	struct btf *btf;
	int found;

	if (force && !strcmp(force, "1"))
		return 0;
	btf = btf__load_vmlinux_btf();
	if (!btf)
		return 0;
	found = btf__find_by_name_kind(btf, name, BTF_KIND_FUNC) > 0;
	btf__free(btf);
	return found;
}

/*
 * --block: the enforce tables sized, the host hash's secret bases drawn; without it, every
 * enforce map at its smallest. 0, or -1 (printed) when no random bytes can be had.
 */
static int enforce_config(struct bpf_loader *l, const struct loader_opts *o, int sockets)
{
	struct consentry_bpf *skel = l->skel;
	int on = o->block && sockets;
	__u64 b[2] = {0};

	skel->rodata->cfg_block = (__u8)(on ? o->block : CS_BLOCK_OFF);
	bpf_map__set_max_entries(skel->maps.enf_fp, on && o->block_fps ? o->block_fps : 1);
	/* room for reloads that add consent: twice the pairs of now, at least 64k */
	bpf_map__set_max_entries(skel->maps.enf_consent,
				 on ? (o->block_pairs > 32768 ? 2 * o->block_pairs : 65536) : 1);
	if (!on) {
		struct bpf_map *m[] = {skel->maps.enf_ipport, skel->maps.enf_net,
				       skel->maps.enf_host,   skel->maps.enf_dns,
				       skel->maps.flow_hosth, skel->maps.enf_blocked};

		for (unsigned i = 0; i < sizeof(m) / sizeof(m[0]); i++)
			bpf_map__set_max_entries(m[i], 1);
		return 0;
	}
	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
		pr_err("--block: no random bytes for the host hash: %s", strerror(errno));
		return -1;
	}
	/* bases in [2, 2^31 - 1) */
	l->host_b1 = 2 + b[0] % (CS_HOSTH_P - 2);
	l->host_b2 = 2 + b[1] % (CS_HOSTH_P - 2);
	skel->rodata->cfg_host_b1 = l->host_b1;
	skel->rodata->cfg_host_b2 = l->host_b2;
	return 0;
}

static int start_capture(struct bpf_loader *l, const struct loader_opts *o, int sockets,
			 int *sock_fail)
{
	struct consentry_bpf *skel;
	struct live_cfg lc;
	size_t nfp;
	int err;

	if (!o->db->pre || o->db->pre_log2 < CS_PRE_LOG2_MIN || o->db->pre_log2 > CS_PRE_LOG2_MAX) {
		pr_err("fingerprint DB has no prefilter");
		return -EINVAL;
	}
	libbpf_set_print(libbpf_print);
	if (getenv("CONSENTRY_VERIFIER_LOG")) {
		/* full verifier log and stats to stderr, for debugging the BPF side */
		struct bpf_object_open_opts oo = {
		    .sz = sizeof(oo),
		    .kernel_log_buf = vlog,
		    .kernel_log_size = sizeof(vlog),
		    .kernel_log_level = getenv("CONSENTRY_VERIFIER_LOG")[0] == '2' ? 4 : 1 | 4,
		};

		skel = consentry_bpf__open_opts(&oo);
	} else {
		skel = consentry_bpf__open();
	}
	if (!skel) {
		err = -errno;
		pr_err("cannot open the BPF object: %s", strerror(errno));
		return err;
	}
	l->skel = skel;

	/* one tag per distinct fp, weak only if all its entries are; filled in place after load */
	nfp = tagtable_count_db(o->db);
	l->nbuckets = tagtable_nbuckets(nfp);

	skel->rodata->cfg_scan_limit = o->scan_limit;
	skel->rodata->cfg_min_len = o->db->nentries ? o->db->min_len : 0xffffffff;
	skel->rodata->cfg_max_len = o->db->nentries ? o->db->max_len : 0;
	/* runs too short for a strong token are not tokenised (the collector's scan: the same) */
	live_cfg_init(&lc, o->key, o->db, o->scan_all);
	l->skip_len = lc.skip_len;
	l->strong_min = lc.strong_min;
	skel->rodata->cfg_skip_len = l->skip_len;
	/* the anchor test only shortens the runs the skipping leaves (cs_abi.h CS_ANCHOR_LONG) */
	skel->rodata->cfg_anchor_digits = l->skip_len ? o->db->anchor_digits : 0;
	skel->rodata->cfg_strong_min = l->strong_min;
	skel->rodata->cfg_scan_collector = !!o->scan_collector;
	skel->rodata->cfg_tag_buckets = l->nbuckets;
	skel->rodata->cfg_pre_shift = 64 - o->db->pre_log2;
	skel->rodata->cfg_self_tgid = getpid();
	skel->rodata->cfg_include_loopback = !!o->include_loopback;
	skel->rodata->cfg_scope_pid = o->npids > 0;
	skel->rodata->cfg_scope_cgroup = o->ncgroups > 0;
	skel->rodata->cfg_k0 = o->key->k0;
	skel->rodata->cfg_k1 = o->key->k1;
	skel->rodata->cfg_seed = o->key->seed;
	skel->rodata->cfg_ce = o->key->ce;
	/* kernel >= 6.2: typed loads through bpf_rdonly_cast in fd_to_peer (sock.bpf.h) */
	skel->rodata->cfg_rdonly_cast = (__u8)kernel_has_kfunc("bpf_rdonly_cast");
	pr_debug("fd -> socket: %s", skel->rodata->cfg_rdonly_cast
					 ? "typed loads (bpf_rdonly_cast)"
					 : "bpf_probe_read_kernel (no bpf_rdonly_cast)");
	bpf_map__set_max_entries(skel->maps.tags, l->nbuckets);
	bpf_map__set_max_entries(skel->maps.pre, (1u << (o->db->pre_log2 - 6)));
	/* tail-call target only, see bpf/consentry.bpf.c */
	bpf_program__set_autoattach(skel->progs.tp_scan, false);
	/* attached to the cgroup v2 root below */
	bpf_program__set_autoattach(skel->progs.skb_dns, false);
	/* one capture design loaded: socket hooks or syscall tracepoints */
	{
		struct bpf_program *tp[] = {skel->progs.tp_write,    skel->progs.tp_sendto,
					    skel->progs.tp_writev,   skel->progs.tp_sendmsg,
					    skel->progs.tp_sendmmsg, skel->progs.tp_sendfile,
					    skel->progs.tp_splice,   skel->progs.tp_scan};
		struct bpf_program *sk[] = {skel->progs.sk_send, skel->progs.sk_ops,
					    skel->progs.skb_send};

		for (unsigned i = 0; i < sizeof(tp) / sizeof(tp[0]); i++)
			bpf_program__set_autoload(tp[i], !sockets);
		for (unsigned i = 0; i < sizeof(sk) / sizeof(sk[0]); i++) {
			bpf_program__set_autoload(sk[i], sockets);
			bpf_program__set_autoattach(sk[i], false);
		}
		/* unused maps at their smallest */
		bpf_map__set_max_entries(skel->maps.socks, sockets ? CS_SOCKS_MAX : 1);
		bpf_map__set_max_entries(skel->maps.dgram,
					 sockets ? (__u32)libbpf_num_possible_cpus() : 1);
	}
	/* uprobes are attached per file by user/monitor/tls.c */
	{
		struct bpf_program *up[] = {
		    skel->progs.up_ssl_write,	 skel->progs.up_ssl_write_ex,
		    skel->progs.up_gnutls_send,	 skel->progs.up_nss_write,
		    skel->progs.up_go_tls_write, skel->progs.up_tls_free,
		    skel->progs.up_go_tls_close, skel->progs.up_scan};

		for (unsigned i = 0; i < sizeof(up) / sizeof(up[0]); i++) {
			bpf_program__set_autoattach(up[i], false);
			bpf_program__set_autoload(up[i], o->tls);
		}
		bpf_program__set_autoload(skel->progs.tp_exec, o->tls);
	}
	if (enforce_config(l, o, sockets)) {
		err = -EIO;
		goto out;
	}
	skel->rodata->cfg_tls = !!o->tls;
	skel->rodata->cfg_exec_hold = o->tls ? o->exec_hold : CS_HOLD_OFF;
	skel->rodata->cfg_decode = !!o->decode;
	if (o->ringbuf_bytes)
		bpf_map__set_max_entries(skel->maps.events, o->ringbuf_bytes);

	err = consentry_bpf__load(skel);
	if (getenv("CONSENTRY_VERIFIER_LOG")) {
		const char *name;

		fputs(vlog, stderr);
		/* the log above is the last program's; the verifier's work per program: */
		verified_max(skel->obj, stderr, &name);
	}
	if (err) {
		if (sockets) {
			*sock_fail = 1;
			pr_warn(
			    "capture: cannot load the socket hook programs (run with -v for the "
			    "verifier log): %s",
			    strerror(-err));
		} else {
			pr_err(
			    "cannot load the BPF programs (run with -v for the verifier log): %s",
			    strerror(-err));
		}
		goto out;
	}

	l->tags_len = (size_t)l->nbuckets * sizeof(struct cs_bucket);
	l->tags = mmap(NULL, l->tags_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		       bpf_map__fd(skel->maps.tags), 0);
	if (l->tags == MAP_FAILED) {
		l->tags = NULL;
		err = -errno;
		pr_err("cannot map the tag table: %s", strerror(errno));
		goto out;
	}
	/*
	 * Filled in place, no second copy (1 GiB at 10M subjects with hash variants). Cuckoo
	 * insertion at <= 90% load practically never fails; a failure is retried with other
	 * random moves.
	 */
	for (int attempt = 0; attempt < 4; attempt++) {
		if (attempt)
			memset(l->tags, 0, l->tags_len);
		err =
		    tagtable_fill_db(l->tags, l->nbuckets, o->db, 0x9e3779b97f4a7c15ULL + attempt);
		if (!err || fpdb_failed(o->db))
			break;
	}
	/* the walks stop early if the mapped file was truncated under them */
	if (fpdb_failed(o->db)) {
		err = -EIO;
		pr_err("fingerprint file changed while loading (filling the tag table)");
		goto out;
	}
	if (err) {
		pr_err("cannot fit %zu fingerprints into the tag table (%u buckets)", nfp,
		       l->nbuckets);
		goto out;
	}
	/* nothing reads the table here again: keep the kernel's copy only */
	munmap(l->tags, l->tags_len);
	l->tags = NULL;
	l->pre_len = ((size_t)1 << o->db->pre_log2) / 8;
	l->pre = mmap(NULL, l->pre_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		      bpf_map__fd(skel->maps.pre), 0);
	if (l->pre == MAP_FAILED) {
		l->pre = NULL;
		err = -errno;
		pr_err("cannot map the prefilter: %s", strerror(errno));
		goto out;
	}
	memcpy(l->pre, o->db->pre, l->pre_len);
	if (mprotect(l->pre, l->pre_len, PROT_READ))
		pr_debug("cannot make the prefilter mapping read-only: %s", strerror(errno));

	for (unsigned i = 0; i < o->npids; i++) {
		__u8 one = 1;

		err = bpf_map_update_elem(bpf_map__fd(skel->maps.scope_pids), &o->pids[i], &one, 0);
		if (err) {
			err = -errno;
			pr_err("cannot add pid %u to the scope: %s", o->pids[i], strerror(errno));
			goto out;
		}
	}
	for (unsigned i = 0; i < o->ncgroups; i++) {
		__u8 one = 1;

		err = bpf_map_update_elem(bpf_map__fd(skel->maps.scope_cgroups), &o->cgroups[i],
					  &one, 0);
		if (err) {
			err = -errno;
			pr_err("cannot add a cgroup to the scope: %s", strerror(errno));
			goto out;
		}
	}

	{
		__u32 zero = 0;
		int pfd = bpf_program__fd(skel->progs.tp_scan);

		err = sockets ? 0
			      : bpf_map_update_elem(bpf_map__fd(skel->maps.progs), &zero, &pfd, 0);
		if (!err && o->tls) {
			pfd = bpf_program__fd(skel->progs.up_scan);
			err = bpf_map_update_elem(bpf_map__fd(skel->maps.up_progs), &zero, &pfd, 0);
		}
		if (err) {
			err = -errno;
			pr_err("cannot install the scan program: %s", strerror(errno));
			goto out;
		}
	}
	err = consentry_bpf__attach(skel);
	if (err) {
		pr_err("cannot attach the tracepoints: %s", strerror(-err));
		goto out;
	}
	l->capture = sockets ? CS_CAPTURE_SOCKETS : CS_CAPTURE_TRACEPOINTS;
	if (sockets) {
		err = attach_sockets(l, o);
		if (err) {
			*sock_fail = 1;
			goto out;
		}
	}
	l->nprogs = 0;
	{
		struct bpf_program *p;

		bpf_object__for_each_program(p, skel->obj)
		{
			struct bpf_prog_info info = {};
			__u32 len = sizeof(info);

			if (bpf_program__autoload(p) && p != skel->progs.tp_scan &&
			    strncmp(bpf_program__name(p), "up_", 3) && p != skel->progs.skb_dns)
				l->nprogs++;
			if (!bpf_obj_get_info_by_fd(bpf_program__fd(p), &info, &len))
				pr_debug("program %s: %u instructions verified",
					 bpf_program__name(p), info.verified_insns);
		}
	}
	{
		int cg = cgroup_root_fd();

		l->dns_link = cg >= 0 ? bpf_program__attach_cgroup(skel->progs.skb_dns, cg) : NULL;
		if (!l->dns_link)
			pr_warn(
			    "dns: cannot watch DNS answers (cgroup v2 ingress): %s; host selectors "
			    "apply to HTTP Host and TLS SNI only",
			    strerror(errno));
		if (cg >= 0)
			close(cg);
	}
	if (o->tls) {
		l->tls = tls_new(skel);
		if (!l->tls) {
			err = -ENOMEM;
			goto out;
		}
		for (unsigned i = 0; i < o->ntls_libs; i++)
			if (tls_probe_file(l->tls, o->tls_libs[i], "--tls-lib") <= 0)
				pr_warn("tls: --tls-lib %s: no supported TLS write function found",
					o->tls_libs[i]);
		tls_probe_running(l->tls);
		pr_info("tls: %u files probed (%u uprobes)", tls_nfiles(l->tls),
			tls_nlinks(l->tls));
	}
out:
	if (err) {
		release_bpf(l);
		return err;
	}
	/*
	 * Started: the DB's readers (the userspace decode stage) use the kernel's copy of the
	 * prefilter from now on. Not before: a start that fails (--capture auto tries again)
	 * leaves the DB as it was.
	 */
	fpdb_pre_share(o->db, l->pre);
	l->db = o->db;
	return 0;
}

/*
 * --capture auto: the socket hooks, else (they cannot load or attach here) the syscall
 * tracepoints; errors that are not the socket hooks' are not tried again.
 */
int loader_start(struct bpf_loader *l, const struct loader_opts *o)
{
	int sock_fail = 0, err;

	if (o->capture != CS_CAPTURE_TRACEPOINTS) {
		err = start_capture(l, o, 1, &sock_fail);
		if (!err || o->capture == CS_CAPTURE_SOCKETS || !sock_fail)
			return err;
		if (o->block) {
			pr_err("--block: the socket hooks cannot be used here, and the syscall "
			       "tracepoints cannot refuse a send: not starting");
			return err;
		}
		pr_warn("capture: the socket hooks cannot be used here: falling back to syscall "
			"tracepoints (every syscall of the host pays for them)");
	}
	return start_capture(l, o, 0, &sock_fail);
}

void loader_enforce_maps(const struct bpf_loader *l, struct enforce_maps *m)
{
	struct consentry_bpf *s = l->skel;

	m->fp = bpf_map__fd(s->maps.enf_fp);
	m->consent = bpf_map__fd(s->maps.enf_consent);
	m->ipport = bpf_map__fd(s->maps.enf_ipport);
	m->net = bpf_map__fd(s->maps.enf_net);
	m->host = bpf_map__fd(s->maps.enf_host);
	m->dns = bpf_map__fd(s->maps.enf_dns);
	m->deadline = &s->bss->enf_deadline;
}

const char *loader_capture_name(const struct bpf_loader *l)
{
	return l->capture == CS_CAPTURE_SOCKETS ? "sockets" : "tracepoints";
}

/* Everything loader_start set up but the tracefs mount (loader_preflight's). */
static void release_bpf(struct bpf_loader *l)
{
	tls_free(l->tls);
	l->tls = NULL;
	bpf_link__destroy(l->skb_link);
	l->skb_link = NULL;
	bpf_link__destroy(l->sockops_link);
	l->sockops_link = NULL;
	if (l->sk_msg_attached && l->skel)
		bpf_prog_detach2(bpf_program__fd(l->skel->progs.sk_send),
				 bpf_map__fd(l->skel->maps.socks), BPF_SK_MSG_VERDICT);
	l->sk_msg_attached = 0;
	bpf_link__destroy(l->dns_link);
	l->dns_link = NULL;
	if (l->tags)
		munmap(l->tags, l->tags_len);
	l->tags = NULL;
	/* the DB's prefilter was the kernel's copy (a started loader's): gone with it */
	if (l->db)
		fpdb_pre_unshare(l->db, l->pre);
	l->db = NULL;
	if (l->pre)
		munmap(l->pre, l->pre_len);
	l->pre = NULL;
	consentry_bpf__destroy(l->skel);
	l->skel = NULL;
}

void loader_release(struct bpf_loader *l)
{
	release_bpf(l);
	if (l->mounted_tracefs) {
		umount2(TRACEFS, MNT_DETACH);
		l->mounted_tracefs = 0;
	}
}

int loader_ringbuf_fd(const struct bpf_loader *l)
{
	return bpf_map__fd(l->skel->maps.events);
}

int loader_dns_fd(const struct bpf_loader *l)
{
	return bpf_map__fd(l->skel->maps.dns);
}

int loader_execs_fd(const struct bpf_loader *l)
{
	return bpf_map__fd(l->skel->maps.execs);
}

void loader_exec_hold_fds(const struct bpf_loader *l, int *held, int *holds, int *lease)
{
	*held = bpf_map__fd(l->skel->maps.exec_held);
	*holds = bpf_map__fd(l->skel->maps.exec_holds);
	*lease = bpf_map__fd(l->skel->maps.exec_lease);
}

int loader_flows_fd(const struct bpf_loader *l)
{
	return bpf_map__fd(l->skel->maps.flows);
}

int loader_counters(const struct bpf_loader *l, __u64 *out)
{
	int ncpu = libbpf_num_possible_cpus();
	struct cs_counters {
		__u64 c[CS_CNT_MAX];
	} * v;
	__u32 zero = 0;
	int err = 0;

	memset(out, 0, sizeof(__u64) * CS_CNT_MAX);
	if (ncpu <= 0)
		return -EINVAL;
	v = calloc(ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(bpf_map__fd(l->skel->maps.counters), &zero, v)) {
		err = -errno;
		goto out;
	}
	for (int c = 0; c < ncpu; c++)
		for (int i = 0; i < CS_CNT_MAX; i++)
			out[i] += v[c].c[i];
out:
	free(v);
	return err;
}

__u64 loader_prog_misses(const struct bpf_loader *l)
{
	struct bpf_program *p;
	__u64 n = 0;

	bpf_object__for_each_program(p, l->skel->obj)
	{
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(p);

		if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len))
			n += info.recursion_misses;
	}
	return n;
}
