// SPDX-License-Identifier: GPL-2.0-only
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>

#include "procinfo.h"

#define EXE_SLOTS 256
#define CG_SLOTS  4096

struct exe_slot {
	__u32 pid;
	int valid;
	char path[PATH_MAX];
};

struct cg_slot {
	__u64 id;
	char *path;
};

struct procinfo {
	struct exe_slot exe[EXE_SLOTS];
	struct cg_slot *cg; /* open addressing by id */
	char root[PATH_MAX];
	size_t rootlen;
};

struct procinfo *procinfo_new(void)
{
	static const char *const roots[] = {"/sys/fs/cgroup/unified", "/sys/fs/cgroup"};
	struct procinfo *pi = calloc(1, sizeof(*pi));
	struct statfs sfs;

	if (!pi)
		return NULL;
	pi->cg = calloc(CG_SLOTS, sizeof(*pi->cg));
	if (!pi->cg) {
		free(pi);
		return NULL;
	}
	for (unsigned i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		if (!statfs(roots[i], &sfs) && sfs.f_type == CGROUP2_SUPER_MAGIC) {
			snprintf(pi->root, sizeof(pi->root), "%s", roots[i]);
			break;
		}
	}
	pi->rootlen = strlen(pi->root);
	return pi;
}

void procinfo_free(struct procinfo *pi)
{
	if (!pi)
		return;
	for (unsigned i = 0; i < CG_SLOTS; i++)
		free(pi->cg[i].path);
	free(pi->cg);
	free(pi);
}

const char *procinfo_exe(struct procinfo *pi, __u32 pid)
{
	struct exe_slot *s = &pi->exe[pid % EXE_SLOTS];
	char link[64];
	ssize_t n;

	/* A pid is reused only after wrap-around; the cache keeps it for the collector's run. */
	if (s->valid && s->pid == pid)
		return s->path;
	snprintf(link, sizeof(link), "/proc/%u/exe", pid);
	n = readlink(link, s->path, sizeof(s->path) - 1);
	if (n <= 0) {
		s->valid = 0;
		return NULL;
	}
	s->path[n] = 0;
	s->pid = pid;
	s->valid = 1;
	return s->path;
}

static struct cg_slot *cg_slot(struct procinfo *pi, __u64 id)
{
	unsigned h = (unsigned)((id * 0x9e3779b97f4a7c15ULL) >> 52) % CG_SLOTS;

	for (unsigned i = 0; i < CG_SLOTS; i++) {
		struct cg_slot *s = &pi->cg[(h + i) % CG_SLOTS];

		if (!s->path || s->id == id)
			return s;
	}
	return NULL;
}

static struct procinfo *walk_pi;

static int walk_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	struct cg_slot *s;
	const char *rel;

	(void)ftw;
	if (flag != FTW_D)
		return 0;
	s = cg_slot(walk_pi, st->st_ino);
	if (!s || s->path)
		return 0;
	rel = path + walk_pi->rootlen;
	s->id = st->st_ino;
	s->path = strdup(*rel ? rel : "/");
	return 0;
}

const char *procinfo_cgroup(struct procinfo *pi, __u64 id)
{
	struct cg_slot *s;

	if (!pi->rootlen)
		return NULL;
	s = cg_slot(pi, id);
	if (s && s->path)
		return s->path;
	/* unknown id: the cgroup is new since the last walk */
	walk_pi = pi;
	nftw(pi->root, walk_cb, 32, FTW_PHYS | FTW_MOUNT);
	s = cg_slot(pi, id);
	return s && s->path ? s->path : NULL;
}

const char *procinfo_container_id(const char *path, char *buf, size_t len)
{
	size_t run = 0;

	if (!path || len < 65)
		return NULL;
	for (const char *p = path;; p++) {
		if (*p && isxdigit((unsigned char)*p) && !isupper((unsigned char)*p)) {
			run++;
			continue;
		}
		if (run == 64) {
			memcpy(buf, p - 64, 64);
			buf[64] = 0;
			return buf;
		}
		run = 0;
		if (!*p)
			return NULL;
	}
}

/* A pod UID at p: 8-4-4-4-12 lower-case hex, '-' or '_' (systemd slice names) between. */
static int pod_uid_at(const char *p, char out[37])
{
	static const int groups[] = {8, 4, 4, 4, 12};
	char uid[37];
	int n = 0;

	for (int g = 0; g < 5; g++) {
		for (int i = 0; i < groups[g]; i++, p++) {
			if (!isxdigit((unsigned char)*p) || isupper((unsigned char)*p))
				return 0;
			uid[n++] = *p;
		}
		if (g < 4) {
			if (*p != '-' && *p != '_')
				return 0;
			uid[n++] = '-';
			p++;
		}
	}
	uid[n] = 0;
	/* the UID ends there: the cgroup name ends, or a slice suffix follows */
	if (*p && *p != '/' && *p != '.')
		return 0;
	memcpy(out, uid, sizeof(uid));
	return 1;
}

int procinfo_pod(const char *cgroup_path, const char *pods_dir, struct pod_info *pod)
{
	memset(pod, 0, sizeof(*pod));
	if (!cgroup_path)
		return 0;
	/* "pod<UID>" (cgroupfs driver) or "-pod<UID_with_underscores>.slice" (systemd driver) */
	for (const char *p = strstr(cgroup_path, "pod"); p; p = strstr(p + 3, "pod"))
		if ((p == cgroup_path || p[-1] == '/' || p[-1] == '-') &&
		    pod_uid_at(p + 3, pod->uid))
			break;
	if (!pod->uid[0])
		return 0;
	/* the kubelet's log directory NAMESPACE_NAME_UID names the pod */
	if (pods_dir) {
		DIR *d = opendir(pods_dir);
		struct dirent *e;

		while (d && (e = readdir(d))) {
			size_t n = strlen(e->d_name), u = strlen(pod->uid);
			const char *us = strchr(e->d_name, '_');

			if (n <= u + 3 || strcmp(e->d_name + n - u, pod->uid) ||
			    e->d_name[n - u - 1] != '_' || !us || us >= e->d_name + n - u - 1)
				continue;
			snprintf(pod->ns, sizeof(pod->ns), "%.*s", (int)(us - e->d_name),
				 e->d_name);
			snprintf(pod->name, sizeof(pod->name), "%.*s",
				 (int)(n - u - 1 - (size_t)(us + 1 - e->d_name)), us + 1);
			break;
		}
		if (d)
			closedir(d);
	}
	return 1;
}
