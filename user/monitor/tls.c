// SPDX-License-Identifier: GPL-2.0-only
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <linux/fs.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "consentry.skel.h"
#include "monitor/exechold.h"
#include "lib/log.h"
#include "monitor/tls.h"
#include "lib/util.h"

static const char *const fn_channel[TLS_FN_MAX] = {
    [TLS_FN_SSL_WRITE] = "openssl",  [TLS_FN_SSL_WRITE_EX] = "openssl",
    [TLS_FN_GNUTLS_SEND] = "gnutls", [TLS_FN_PR_WRITE] = "nss",
    [TLS_FN_PR_SEND] = "nss",	     [TLS_FN_GO_WRITE] = "go-tls",
    [TLS_FN_SSL_FREE] = "openssl",   [TLS_FN_GNUTLS_DEINIT] = "gnutls",
    [TLS_FN_PR_CLOSE] = "nss",	     [TLS_FN_GO_CLOSE] = "go-tls",
};

/* Libraries worth probing even before a process maps them. */
static const char *const lib_globs[] = {
    "/lib/*-linux-gnu/libssl.so.*",    "/usr/lib/*-linux-gnu/libssl.so.*",
    "/lib/*-linux-gnu/libgnutls.so.*", "/usr/lib/*-linux-gnu/libgnutls.so.*",
    "/lib/*-linux-gnu/libnspr4.so",    "/usr/lib/*-linux-gnu/libnspr4.so",
    "/usr/lib64/libssl.so.*",	       "/usr/lib64/libgnutls.so.*",
    "/usr/lib64/libnspr4.so",
};

/*
 * A file examined: device, inode and i_generation (0 where the file system does not tell it), so
 * that a new file which reuses a deleted one's inode number is examined again.
 */
struct seen {
	dev_t dev;
	ino_t ino;
	__u32 gen;
};

struct tls {
	struct consentry_bpf *skel;
	struct seen *seen;
	unsigned nseen, seen_cap;
	struct bpf_link **links;
	unsigned nlinks, links_cap;
	unsigned nfiles; /* files probed */
	int known_fd;	 /* map exec_known: executables the exec probe leaves alone */
};

static struct bpf_program *fn_prog(struct tls *t, int fn)
{
	switch (fn) {
	case TLS_FN_SSL_WRITE:
		return t->skel->progs.up_ssl_write;
	case TLS_FN_SSL_WRITE_EX:
		return t->skel->progs.up_ssl_write_ex;
	case TLS_FN_GNUTLS_SEND:
		return t->skel->progs.up_gnutls_send;
	case TLS_FN_PR_WRITE:
	case TLS_FN_PR_SEND:
		return t->skel->progs.up_nss_write;
	case TLS_FN_SSL_FREE:
	case TLS_FN_GNUTLS_DEINIT:
	case TLS_FN_PR_CLOSE:
		return t->skel->progs.up_tls_free;
	case TLS_FN_GO_CLOSE:
		return t->skel->progs.up_go_tls_close;
	default:
		return t->skel->progs.up_go_tls_write;
	}
}

struct tls *tls_new(struct consentry_bpf *skel)
{
	struct tls *t = calloc(1, sizeof(*t));

	if (t) {
		t->skel = skel;
		t->known_fd = bpf_map__fd(skel->maps.exec_known);
	}
	return t;
}

void tls_free(struct tls *t)
{
	if (!t)
		return;
	for (unsigned i = 0; i < t->nlinks; i++)
		bpf_link__destroy(t->links[i]);
	free(t->links);
	free(t->seen);
	free(t);
}

static int seen_add(struct tls *t, const struct stat *st, __u32 gen)
{
	for (unsigned i = 0; i < t->nseen; i++)
		if (t->seen[i].dev == st->st_dev && t->seen[i].ino == st->st_ino &&
		    t->seen[i].gen == gen)
			return 0;
	if (t->nseen == t->seen_cap) {
		unsigned cap = t->seen_cap ? t->seen_cap * 2 : 64;
		struct seen *n = realloc(t->seen, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		t->seen = n;
		t->seen_cap = cap;
	}
	t->seen[t->nseen++] = (struct seen){st->st_dev, st->st_ino, gen};
	return 1;
}

/* The file's i_generation (FS_IOC_GETVERSION: ext4, btrfs...); 0 and *known = 0 elsewhere. */
static __u32 file_gen(const char *path, int *known)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY), gen = 0;

	*known = fd >= 0 && !ioctl(fd, FS_IOC_GETVERSION, &gen);
	if (fd >= 0)
		close(fd);
	return *known ? (__u32)gen : 0;
}

/* Tell the exec probe that this executable is examined: no notice, no hold from now on. */
static void known_add(struct tls *t, const struct cs_exe_key *k)
{
	__u8 one = 1;

	if (t->known_fd >= 0 && bpf_map_update_elem(t->known_fd, k, &one, BPF_ANY))
		pr_debug("tls: cannot record an examined executable: %s", strerror(errno));
}

static int link_add(struct tls *t, struct bpf_link *l)
{
	if (t->nlinks == t->links_cap) {
		unsigned cap = t->links_cap ? t->links_cap * 2 : 16;
		struct bpf_link **n = realloc(t->links, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		t->links = n;
		t->links_cap = cap;
	}
	t->links[t->nlinks++] = l;
	return 0;
}

/* Look at a new file's symbols and attach the uprobes; the number attached, or -errno. */
static int attach_file(struct tls *t, const char *path, const char *reason)
{
	struct tls_elf el;
	char fns[256] = "", real[PATH_MAX];
	size_t used = 0;
	int nattached = 0;

	if (tls_elf_scan(path, &el))
		return 0;
	if (el.go_stripped) {
		if (!realpath(path, real))
			snprintf(real, sizeof(real), "%s", path);
		pr_warn("tls: %s is a Go executable without a symbol table: its TLS writes are "
			"not inspected",
			real);
		return 0;
	}
	if (!el.off[TLS_FN_SSL_WRITE] && !el.off[TLS_FN_SSL_WRITE_EX] &&
	    !el.off[TLS_FN_GNUTLS_SEND] && !el.off[TLS_FN_PR_WRITE] && !el.off[TLS_FN_PR_SEND] &&
	    !el.off[TLS_FN_GO_WRITE])
		return 0;
	for (int f = 0; f < TLS_FN_MAX; f++) {
		struct bpf_link *l;

		if (!el.off[f])
			continue;
		l = bpf_program__attach_uprobe(fn_prog(t, f), false, -1, path, el.off[f]);
		if (!l) {
			pr_warn("tls: cannot probe %s in %s: %s", tls_fn_name(f), path,
				strerror(errno));
			continue;
		}
		if (link_add(t, l)) {
			bpf_link__destroy(l);
			return -ENOMEM;
		}
		nattached++;
		used += snprintf(fns + used, used < sizeof(fns) ? sizeof(fns) - used : 0, "%s%s",
				 used ? ", " : "", tls_fn_name(f));
		if (used >= sizeof(fns))
			used = sizeof(fns) - 1;
	}
	if (nattached) {
		t->nfiles++;
		if (!realpath(path, real))
			snprintf(real, sizeof(real), "%s", path);
		pr_info("tls: probing %s (%s: %s)%s%s", real,
			fn_channel[el.off[TLS_FN_GO_WRITE]	? TLS_FN_GO_WRITE
				   : el.off[TLS_FN_GNUTLS_SEND] ? TLS_FN_GNUTLS_SEND
				   : el.off[TLS_FN_PR_WRITE]	? TLS_FN_PR_WRITE
								: TLS_FN_SSL_WRITE],
			fns, reason ? ", " : "", reason ? reason : "");
	}
	return nattached;
}

/*
 * Examine path once per file; then, its uprobes attached, mark it known to the exec probe
 * (kkey: the kernel's name of the file; else derived from stat() where its generation is known).
 */
static int probe_file(struct tls *t, const char *path, const char *reason,
		      const struct cs_exe_key *kkey)
{
	struct cs_exe_key key;
	int gen_known, ret;
	__u32 gen;
	struct stat st;

	if (stat(path, &st) || !S_ISREG(st.st_mode))
		return -ENOENT;
	gen = file_gen(path, &gen_known);
	ret = seen_add(t, &st, gen);
	if (ret < 0)
		return ret;
	if (ret > 0)
		ret = attach_file(t, path, reason);
	if (ret < 0)
		return ret;
	/*
	 * Only now: an exec of this file that the probe lets through unheld must find its
	 * uprobes in place. A stat() name that is not the kernel's (overlayfs, btrfs subvolumes)
	 * only costs one hold at the file's first exec.
	 */
	if (kkey) {
		known_add(t, kkey);
	} else if (gen_known) {
		exechold_key_of(&st, gen, &key);
		known_add(t, &key);
	}
	return ret;
}

int tls_probe_file(struct tls *t, const char *path, const char *reason)
{
	return probe_file(t, path, reason, NULL);
}

static int tls_lib_name(const char *path)
{
	const char *b = strrchr(path, '/');

	b = b ? b + 1 : path;
	return !strncmp(b, "libssl.so", 9) || !strncmp(b, "libgnutls.so", 12) ||
	       !strncmp(b, "libnspr4.so", 11);
}

static void probe_pid(struct tls *t, const char *pid)
{
	char path[PATH_MAX + 64], line[PATH_MAX + 256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/exe", pid);
	tls_probe_file(t, path, "running executable");
	snprintf(path, sizeof(path), "/proc/%s/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char perms[8], *file = strchr(line, '/');
		size_t n;

		if (!file || sscanf(line, "%*s %7s", perms) != 1 || perms[2] != 'x')
			continue;
		n = strlen(file);
		if (n && file[n - 1] == '\n')
			file[n - 1] = 0;
		if (!tls_lib_name(file))
			continue;
		/* the path as the process sees it (its root may be a container's) */
		snprintf(path, sizeof(path), "/proc/%s/root%s", pid, file);
		tls_probe_file(t, path, "mapped by a running process");
	}
	fclose(f);
}

void tls_probe_running(struct tls *t)
{
	DIR *d = opendir("/proc");
	struct dirent *de;

	for (unsigned i = 0; i < sizeof(lib_globs) / sizeof(lib_globs[0]); i++) {
		glob_t g;

		if (glob(lib_globs[i], 0, NULL, &g))
			continue;
		for (size_t j = 0; j < g.gl_pathc; j++)
			tls_probe_file(t, g.gl_pathv[j], "system library");
		globfree(&g);
	}
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		if ((pid_t)atoi(de->d_name) == getpid())
			continue;
		probe_pid(t, de->d_name);
	}
	closedir(d);
}

int tls_probe_exec(struct tls *t, const struct cs_exec *n)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%u/exe", n->pid);
	return probe_file(t, path, "new executable", n->key.ino ? &n->key : NULL);
}

unsigned tls_nfiles(const struct tls *t)
{
	return t ? t->nfiles : 0;
}

unsigned tls_nlinks(const struct tls *t)
{
	return t ? t->nlinks : 0;
}
