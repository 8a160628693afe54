// SPDX-License-Identifier: GPL-2.0-only
/*
 * Loader of the issue-5 prototype (bpf/skmsg.bpf.c) for scripts/skmsg-compare, scripts/bench (the
 * tracepoint tax) and tests/e2e/skmsg_scan.sh; not part of consentry. make builds it into
 * $O/skmsg-loader.
 *
 *   skmsg-loader MODE [options]
 *     tp          attach the empty sys_enter_write/sendto tracepoint programs
 *     scan        sockops on the cgroup + the scanning sk_msg verdict on the sockhash
 *     empty       sockops on the cgroup + the empty sk_msg verdict
 *     stats       attach nothing; hold BPF_ENABLE_STATS (run-time statistics of every BPF
 *                 program of the host) until stopped, without touching the sysctl
 *   --cgroup DIR        cgroup v2 directory for the sockops program (scan, empty)
 *   --fp FILE --key K   fill the prefilter and tag table from a consentry fingerprint file
 *   --scan-limit N      bytes scanned per message (default 16384)
 *   --adopt PID:FD      add an existing socket of another process to the sockhash
 *                       (pidfd_getfd + map update; the cookie is the key), repeatable
 *   --record-last       keep the identity of the last sender (coverage checks)
 *   --stats             hold BPF_ENABLE_STATS while running
 *
 * Prints "ready" on stdout once attached; SIGINT/SIGTERM detach everything and print one line
 * "counters name=value ..." (summed over CPUs), one "prog NAME id N run_time_ns N run_cnt N" line
 * per attached program and, with --record-last, one "last ..." line. SIGUSR1 prints the counters
 * without stopping. Exit 0, 1 on failure, 2 on usage errors.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cs_abi.h"
#include "cs_hash.h"
#include "fpfile.h"
#include "keyfile.h"
#include "tagtable.h"
#include "skmsg.skel.h"

#ifndef SO_COOKIE
#define SO_COOKIE 57
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

/* Must match enum skm_counter in bpf/skmsg.bpf.c. */
static const char *const cnt_names[] = {
    "msgs",	 "bytes", "scanned", "tokens",	   "hits",	 "pull_fail",
    "read_fail", "tls",	  "added",   "empty_msgs", "sk_storage",
};
#define NCNT (sizeof(cnt_names) / sizeof(cnt_names[0]))

#define MAX_ADOPT 16

/* Must match struct skm_last in bpf/skmsg.bpf.c (BPF-side types are not in the skeleton). */
struct skm_last {
	__u64 pid_tgid;
	__u64 uid_gid;
	__u64 cgroup_id;
	__u32 family;
	__u32 remote_ip4;
	__u32 remote_ip6[4];
	__u32 remote_port;
	__u32 size;
	__u64 cookie;
};
_Static_assert(sizeof(struct skm_last) == 64, "skm_last size");

/* Must match struct skm_flow in bpf/skmsg.bpf.c. */
struct skm_flow {
	__u64 cookie;
	__u64 bytes;
	__u64 msgs;
};

struct opts {
	const char *mode, *cgroup, *fp, *key;
	__u32 scan_limit;
	int record_last, stats;
	int nadopt;
	int adopt_pid[MAX_ADOPT], adopt_fd[MAX_ADOPT];
};

static void usage_exit(const char *why)
{
	fprintf(stderr,
		"skmsg-loader: %s\nusage: skmsg-loader tp|scan|empty|stats [--cgroup DIR] "
		"[--fp FILE --key FILE] [--scan-limit N] [--adopt PID:FD]... [--record-last] "
		"[--stats]\n",
		why);
	exit(2);
}

static void print_counters(struct skmsg_bpf *skel, const char *tag)
{
	int ncpu = libbpf_num_possible_cpus();
	struct {
		__u64 c[NCNT];
	} *v = calloc(ncpu > 0 ? ncpu : 1, sizeof(*v));
	__u64 sum[NCNT] = {0};
	__u32 zero = 0;

	if (!v || ncpu <= 0 ||
	    bpf_map_lookup_elem(bpf_map__fd(skel->maps.skm_counters), &zero, v)) {
		fprintf(stderr, "skmsg-loader: cannot read counters: %s\n", strerror(errno));
		free(v);
		return;
	}
	for (int c = 0; c < ncpu; c++)
		for (unsigned i = 0; i < NCNT; i++)
			sum[i] += v[c].c[i];
	printf("%s", tag);
	for (unsigned i = 0; i < NCNT; i++)
		printf(" %s=%llu", cnt_names[i], (unsigned long long)sum[i]);
	printf("\n");
	fflush(stdout);
	free(v);
}

static void print_prog(struct bpf_program *p)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (bpf_program__fd(p) < 0 || bpf_obj_get_info_by_fd(bpf_program__fd(p), &info, &len))
		return;
	printf("prog %s id %u run_time_ns %llu run_cnt %llu\n", bpf_program__name(p), info.id,
	       (unsigned long long)info.run_time_ns, (unsigned long long)info.run_cnt);
}

static void print_last(struct skmsg_bpf *skel)
{
	struct skm_last l;
	__u32 zero = 0;
	char a[INET6_ADDRSTRLEN] = "-";

	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.skm_last), &zero, &l))
		return;
	if (l.family == AF_INET)
		inet_ntop(AF_INET, &l.remote_ip4, a, sizeof(a));
	else if (l.family == AF_INET6)
		inet_ntop(AF_INET6, l.remote_ip6, a, sizeof(a));
	printf("last tgid=%u tid=%u uid=%u gid=%u cgroup_id=%llu family=%u remote=%s port=%u "
	       "size=%u cookie=%llu\n",
	       (__u32)(l.pid_tgid >> 32), (__u32)l.pid_tgid, (__u32)l.uid_gid,
	       (__u32)(l.uid_gid >> 32), (unsigned long long)l.cgroup_id, l.family, a,
	       ntohs((__u16)(l.remote_port >> 16)), l.size, (unsigned long long)l.cookie);
}

/*
 * Add socket FD of process PID to the sockhash under its cookie, and store the cookie in its
 * socket-local storage (what the sockops program does for new connections).
 */
static int adopt(int map_fd, int flows_fd, int pid, int fd)
{
	struct skm_flow fl = {};
	__u64 cookie = 0, val;
	socklen_t cl = sizeof(cookie);
	int pidfd, sfd, err = 0;

	pidfd = syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		return -errno;
	sfd = syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	if (sfd < 0) {
		err = -errno;
		close(pidfd);
		return err;
	}
	if (getsockopt(sfd, SOL_SOCKET, SO_COOKIE, &cookie, &cl))
		err = -errno;
	val = sfd;
	fl.cookie = cookie;
	/* socket-local storage is keyed by a socket fd from userspace */
	if (!err && bpf_map_update_elem(flows_fd, &sfd, &fl, BPF_ANY))
		err = -errno;
	if (!err && bpf_map_update_elem(map_fd, &cookie, &val, BPF_ANY))
		err = -errno;
	printf("adopt pid=%d fd=%d cookie=%llu %s\n", pid, fd, (unsigned long long)cookie,
	       err ? strerror(-err) : "ok");
	/* the map holds its own reference to the socket */
	close(sfd);
	close(pidfd);
	return err;
}

static void parse(int argc, char **argv, struct opts *o)
{
	memset(o, 0, sizeof(*o));
	o->scan_limit = 16 * 1024; /* the prototype scans a prefix of each message */
	if (argc < 2)
		usage_exit("missing mode");
	o->mode = argv[1];
	if (strcmp(o->mode, "tp") && strcmp(o->mode, "scan") && strcmp(o->mode, "empty") &&
	    strcmp(o->mode, "stats"))
		usage_exit("unknown mode");
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--record-last")) {
			o->record_last = 1;
			continue;
		}
		if (!strcmp(a, "--stats")) {
			o->stats = 1;
			continue;
		}
		if (!v)
			usage_exit("option needs a value");
		i++;
		if (!strcmp(a, "--cgroup")) {
			o->cgroup = v;
		} else if (!strcmp(a, "--fp")) {
			o->fp = v;
		} else if (!strcmp(a, "--key")) {
			o->key = v;
		} else if (!strcmp(a, "--scan-limit")) {
			char *e;
			unsigned long n = strtoul(v, &e, 10);

			if (*e || !n || n > 1024 * 1024)
				usage_exit("--scan-limit: 1..1048576");
			o->scan_limit = n;
		} else if (!strcmp(a, "--adopt")) {
			if (o->nadopt == MAX_ADOPT || sscanf(v, "%d:%d", &o->adopt_pid[o->nadopt],
							     &o->adopt_fd[o->nadopt]) != 2)
				usage_exit("--adopt PID:FD");
			o->nadopt++;
		} else {
			usage_exit("unknown option");
		}
	}
	if (!!o->fp != !!o->key)
		usage_exit("--fp and --key go together");
	if ((!strcmp(o->mode, "scan") || !strcmp(o->mode, "empty")) && !o->cgroup)
		usage_exit("scan and empty need --cgroup");
}

int main(int argc, char **argv)
{
	struct skmsg_bpf *skel = NULL;
	struct bpf_link *links[3] = {};
	struct bpf_program *verdict = NULL, *shown[4] = {};
	struct fpdb db = {0};
	struct cs_key key = {};
	struct opts o;
	void *m;
	sigset_t set;
	int err = 1, cg = -1, stats_fd = -1, sig, nshown = 0, attached = 0;
	__u32 nb = 1;

	parse(argc, argv, &o);
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* a background job of a script starts with SIGINT ignored: reset before sigwait */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGUSR1, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);

	if (o.stats || !strcmp(o.mode, "stats")) {
		stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
		if (stats_fd < 0) {
			fprintf(stderr, "skmsg-loader: BPF_ENABLE_STATS: %s\n",
				strerror(-stats_fd));
			goto out;
		}
	}
	if (!strcmp(o.mode, "stats")) {
		printf("ready\n");
		sigwait(&set, &sig);
		err = 0;
		goto out;
	}
	/* the monitor's own readers of the key and fingerprint files (they print what is wrong) */
	if (o.fp && (keyfile_load(o.key, &key, 0) || fpdb_load(&db, o.fp, &key)))
		goto out;
	if (o.fp)
		nb = tagtable_nbuckets(tagtable_count_db(&db));
	skel = skmsg_bpf__open();
	if (!skel) {
		fprintf(stderr, "skmsg-loader: open: %s\n", strerror(errno));
		goto out;
	}
	skel->rodata->cfg_scan_limit = o.scan_limit;
	skel->rodata->cfg_record_last = o.record_last;
	if (o.fp) {
		skel->rodata->cfg_min_len = db.nentries ? db.min_len : 0xffffffff;
		skel->rodata->cfg_max_len = db.nentries ? db.max_len : 0;
		skel->rodata->cfg_tag_buckets = nb;
		skel->rodata->cfg_pre_shift = 64 - db.pre_log2;
		skel->rodata->cfg_k0 = key.k0;
		skel->rodata->cfg_k1 = key.k1;
		skel->rodata->cfg_seed = key.seed;
		skel->rodata->cfg_ce = key.ce;
		bpf_map__set_max_entries(skel->maps.pre, 1u << (db.pre_log2 - 6));
	} else {
		/*
		 * No fingerprints: a random key, a 4096-bit prefilter of zeroes (tokens are only
		 * tokenised) and a token-length window like that of real data: with the open window
		 * [1, 2^32) the byte loop does not verify (over the 1M-instruction limit).
		 */
		if (getrandom(&key, sizeof(key), 0) != sizeof(key)) {
			fprintf(stderr, "skmsg-loader: getrandom: %s\n", strerror(errno));
			goto out;
		}
		skel->rodata->cfg_k0 = key.k0;
		skel->rodata->cfg_k1 = key.k1;
		skel->rodata->cfg_seed = key.seed;
		skel->rodata->cfg_ce = cs_acc_str(key.seed, "content-encoding");
		skel->rodata->cfg_pre_shift = 64 - CS_PRE_LOG2_MIN;
		skel->rodata->cfg_min_len = 4;
		skel->rodata->cfg_max_len = 64;
		bpf_map__set_max_entries(skel->maps.pre, 1u << (CS_PRE_LOG2_MIN - 6));
	}
	bpf_map__set_max_entries(skel->maps.tags, nb);
	/* load only what the mode attaches (the tracepoints would otherwise be verified too) */
	bpf_program__set_autoload(skel->progs.skm_tp_write, !strcmp(o.mode, "tp"));
	bpf_program__set_autoload(skel->progs.skm_tp_sendto, !strcmp(o.mode, "tp"));
	bpf_program__set_autoload(skel->progs.skm_scan, !strcmp(o.mode, "scan"));
	bpf_program__set_autoload(skel->progs.skm_empty, !strcmp(o.mode, "empty"));
	bpf_program__set_autoload(skel->progs.skm_sockops, strcmp(o.mode, "tp") != 0);
	if (skmsg_bpf__load(skel)) {
		fprintf(stderr, "skmsg-loader: load: %s\n", strerror(errno));
		goto out;
	}
	if (o.fp) {
		size_t tl = (size_t)nb * sizeof(struct cs_bucket), pl = (1ull << db.pre_log2) / 8;
		int e;

		m = mmap(NULL, tl, PROT_READ | PROT_WRITE, MAP_SHARED, bpf_map__fd(skel->maps.tags),
			 0);
		if (m == MAP_FAILED) {
			fprintf(stderr, "skmsg-loader: mmap tags: %s\n", strerror(errno));
			goto out;
		}
		e = tagtable_fill_db(m, nb, &db, 0x9e3779b97f4a7c15ULL);
		munmap(m, tl);
		if (e) {
			fprintf(stderr, "skmsg-loader: the tag table of %u buckets is full\n", nb);
			goto out;
		}
		m = mmap(NULL, pl, PROT_READ | PROT_WRITE, MAP_SHARED, bpf_map__fd(skel->maps.pre),
			 0);
		if (m == MAP_FAILED) {
			fprintf(stderr, "skmsg-loader: mmap pre: %s\n", strerror(errno));
			goto out;
		}
		memcpy(m, db.pre, pl);
		munmap(m, pl);
	}

	if (!strcmp(o.mode, "tp")) {
		links[0] = bpf_program__attach(skel->progs.skm_tp_write);
		links[1] = links[0] ? bpf_program__attach(skel->progs.skm_tp_sendto) : NULL;
		if (!links[0] || !links[1]) {
			fprintf(stderr, "skmsg-loader: attach tracepoints: %s\n", strerror(errno));
			goto out;
		}
		shown[nshown++] = skel->progs.skm_tp_write;
		shown[nshown++] = skel->progs.skm_tp_sendto;
	} else {
		verdict = !strcmp(o.mode, "scan") ? skel->progs.skm_scan : skel->progs.skm_empty;
		/* verdict first, so no socket enters the map without it */
		if (bpf_prog_attach(bpf_program__fd(verdict), bpf_map__fd(skel->maps.socks),
				    BPF_SK_MSG_VERDICT, 0)) {
			fprintf(stderr, "skmsg-loader: attach sk_msg: %s\n", strerror(errno));
			goto out;
		}
		attached = 1;
		cg = open(o.cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (cg < 0) {
			fprintf(stderr, "skmsg-loader: %s: %s\n", o.cgroup, strerror(errno));
			goto out;
		}
		/* a BPF link: detached when this process exits, whatever happens */
		links[2] = bpf_program__attach_cgroup(skel->progs.skm_sockops, cg);
		if (!links[2]) {
			fprintf(stderr, "skmsg-loader: attach sockops to %s: %s\n", o.cgroup,
				strerror(errno));
			goto out;
		}
		for (int i = 0; i < o.nadopt; i++)
			adopt(bpf_map__fd(skel->maps.socks), bpf_map__fd(skel->maps.skm_flows),
			      o.adopt_pid[i], o.adopt_fd[i]);
		shown[nshown++] = verdict;
		shown[nshown++] = skel->progs.skm_sockops;
	}
	printf("ready\n");
	for (;;) {
		if (sigwait(&set, &sig))
			continue;
		if (sig != SIGUSR1)
			break;
		print_counters(skel, "counters");
	}
	for (int i = 0; i < nshown; i++)
		print_prog(shown[i]);
	if (strcmp(o.mode, "tp"))
		print_counters(skel, "counters");
	if (o.record_last)
		print_last(skel);
	err = 0;
out:
	for (int i = 0; i < 3; i++)
		bpf_link__destroy(links[i]);
	if (skel && attached) {
		/* empty the sockhash (sockets get their own proto back), then detach the verdict */
		__u64 k, next;
		int mfd = bpf_map__fd(skel->maps.socks);

		while (!bpf_map_get_next_key(mfd, NULL, &next)) {
			k = next;
			if (bpf_map_delete_elem(mfd, &k))
				break;
		}
		bpf_prog_detach2(bpf_program__fd(verdict), mfd, BPF_SK_MSG_VERDICT);
	}
	if (cg >= 0)
		close(cg);
	skmsg_bpf__destroy(skel);
	if (stats_fd >= 0)
		close(stats_fd);
	fpdb_release(&db);
	return err;
}
