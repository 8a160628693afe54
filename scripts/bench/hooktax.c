// SPDX-License-Identifier: GPL-2.0-only
/*
 * Loader of bpf/hooktax.bpf.c for scripts/bench (its "tax" modes); not part of consentry. make
 * builds it into $O/hooktax.
 *
 *   hooktax sockets [--cgroup DIR]   sockops + sockhash + empty sk_msg verdict, empty
 *                                    cgroup_skb/egress, on DIR (default: the cgroup v2 root)
 *   hooktax tracepoints              empty sys_enter_write/writev/sendto/sendmsg/sendmmsg/
 *                                    sendfile64/splice tracepoints
 *
 * Prints "ready" on stdout once everything is attached; SIGINT or SIGTERM detach everything and
 * exit 0 (1 on failure, 2 on usage errors). Nothing outlives the process, even on SIGKILL: the
 * cgroup programs and tracepoints are held by BPF links (file descriptors of this process), and
 * the sk_msg verdict is attached to the sockhash, which is freed with its sockets released when
 * the last reference goes (this process's map fd and the sockops program, held by its link).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "hooktax.skel.h"

#define MAX_LINKS 8 /* the seven tracepoints */

static int usage(const char *why)
{
	fprintf(stderr,
		"hooktax: %s\nusage: hooktax sockets [--cgroup DIR] | hooktax tracepoints\n", why);
	return 2;
}

/* DIR if given, else the first cgroup v2 mount of the usual two (hybrid hosts: unified). */
static int cgroup_open(const char *dir)
{
	static const char *const roots[] = {"/sys/fs/cgroup/unified", "/sys/fs/cgroup"};
	struct statfs sfs;
	int fd;

	for (unsigned i = 0; !dir && i < sizeof(roots) / sizeof(roots[0]); i++)
		if (!statfs(roots[i], &sfs) && sfs.f_type == CGROUP2_SUPER_MAGIC)
			dir = roots[i];
	if (!dir) {
		fprintf(stderr, "hooktax: no cgroup v2 mount at %s or %s\n", roots[0], roots[1]);
		return -1;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		fprintf(stderr, "hooktax: %s: %s\n", dir, strerror(errno));
	return fd;
}

int main(int argc, char **argv)
{
	struct hooktax_bpf *skel = NULL;
	struct bpf_link *links[MAX_LINKS] = {};
	struct bpf_program *p;
	const char *cgdir = NULL;
	int sockets, nlinks = 0, cg = -1, err = 1, sig;
	sigset_t set;

	if (argc < 2)
		return usage("missing mode");
	sockets = !strcmp(argv[1], "sockets");
	if (!sockets && strcmp(argv[1], "tracepoints"))
		return usage("mode must be sockets or tracepoints");
	if (argc == 4 && sockets && !strcmp(argv[2], "--cgroup"))
		cgdir = argv[3];
	else if (argc != 2)
		return usage("unexpected arguments");
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* a background job of a script starts with SIGINT ignored: reset before sigwait */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);

	skel = hooktax_bpf__open();
	if (!skel) {
		fprintf(stderr, "hooktax: open: %s\n", strerror(errno));
		goto out;
	}
	/* load only the mode's programs: the others would be verified for nothing */
	bpf_object__for_each_program(p, skel->obj)
	{
		enum bpf_prog_type t = bpf_program__type(p);

		bpf_program__set_autoload(p, sockets == (t != BPF_PROG_TYPE_TRACEPOINT));
	}
	bpf_map__set_autocreate(skel->maps.tax_socks, sockets);
	if (hooktax_bpf__load(skel)) {
		fprintf(stderr, "hooktax: load: %s\n", strerror(errno));
		goto out;
	}
	if (sockets) {
		cg = cgroup_open(cgdir);
		if (cg < 0)
			goto out;
		/* verdict first, so no socket enters the map without it */
		if (bpf_prog_attach(bpf_program__fd(skel->progs.tax_msg),
				    bpf_map__fd(skel->maps.tax_socks), BPF_SK_MSG_VERDICT, 0)) {
			fprintf(stderr, "hooktax: attach sk_msg verdict: %s\n", strerror(errno));
			goto out;
		}
		links[nlinks++] = bpf_program__attach_cgroup(skel->progs.tax_sockops, cg);
		if (links[0])
			links[nlinks++] = bpf_program__attach_cgroup(skel->progs.tax_egress, cg);
		if (!links[nlinks - 1]) {
			fprintf(stderr, "hooktax: attach %s to the cgroup: %s\n",
				nlinks == 1 ? "sockops" : "cgroup_skb/egress", strerror(errno));
			goto out;
		}
	} else {
		bpf_object__for_each_program(p, skel->obj)
		{
			struct bpf_link *l = NULL;

			if (!bpf_program__autoload(p))
				continue;
			errno = E2BIG;
			if (nlinks < MAX_LINKS)
				l = bpf_program__attach(p);
			if (!l) {
				fprintf(stderr, "hooktax: attach %s: %s\n", bpf_program__name(p),
					strerror(errno));
				goto out;
			}
			links[nlinks++] = l;
		}
	}
	printf("ready\n");
	while (sigwait(&set, &sig))
		;
	err = 0;
out:
	while (nlinks > 0)
		bpf_link__destroy(links[--nlinks]);
	if (cg >= 0)
		close(cg);
	/* closes the sockhash: freed with the sockops program, its sockets released */
	hooktax_bpf__destroy(skel);
	return err;
}
