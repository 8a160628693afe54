// SPDX-License-Identifier: GPL-2.0-only
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>

#include "monitor/procinfo.h"
#include "lib/timeutil.h"

#define EXE_SLOTS 256
#define CG_SLOTS  4096
/* a pod whose log directory was not there yet is looked for again after this long */
#define POD_RETRY_NS (10 * 1000000000LL)
/* without CAP_DAC_READ_SEARCH an unknown cgroup id costs a walk of the tree: one a second */
#define CG_WALK_NS (1000000000LL)
/* the kernfs file handle type (include/linux/exportfs.h): the handle is the 64-bit cgroup id */
#define CG_FILEID_KERNFS 0xfe

struct exe_slot {
	__u32 pid;
	int valid;
	char comm[16]; /* the task's name when read: an exec in the same pid changes it */
	char *path;    /* as long as it is: 256 slots of PATH_MAX would be 1 MiB */
};

enum pod_state { POD_UNKNOWN, POD_NONE, POD_NAMED, POD_UNNAMED };

struct cg_slot {
	__u64 id;
	char *path;
	/* its pod, looked up once (a scan of the pods directory): POD_UNNAMED is retried */
	enum pod_state pod_state;
	struct pod_info *pod;
	__s64 pod_at; /* CLOCK_MONOTONIC ns of the lookup */
};

struct procinfo {
	struct exe_slot exe[EXE_SLOTS];
	struct cg_slot *cg; /* open addressing by id */
	unsigned cg_used;
	int cg_byhandle; /* 0 after open_by_handle_at() was refused: walk instead */
	int rootfd;	 /* the cgroup v2 root, the mount open_by_handle_at() resolves in */
	__s64 walk_at;	 /* CLOCK_MONOTONIC ns of the last walk, 0: none yet */
	char root[PATH_MAX];
	size_t rootlen;
	__u64 exe_unknown;
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
	pi->rootfd = pi->rootlen ? open(pi->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	pi->cg_byhandle = 1;
	return pi;
}

void procinfo_free(struct procinfo *pi)
{
	if (!pi)
		return;
	for (unsigned i = 0; i < CG_SLOTS; i++) {
		free(pi->cg[i].path);
		free(pi->cg[i].pod);
	}
	for (unsigned i = 0; i < EXE_SLOTS; i++)
		free(pi->exe[i].path);
	free(pi->cg);
	if (pi->rootfd >= 0)
		close(pi->rootfd);
	free(pi);
}

/* The task's name now ("" when gone), as /proc/PID/task/TID/comm has it, without the LF. */
static void task_comm(__u32 pid, __u32 tid, char *buf, size_t len)
{
	char path[64];
	FILE *f;

	buf[0] = 0;
	snprintf(path, sizeof(path), "/proc/%u/task/%u/comm", pid, tid);
	f = fopen(path, "re");
	if (!f)
		return;
	if (!fgets(buf, (int)len, f))
		buf[0] = 0;
	fclose(f);
	buf[strcspn(buf, "\n")] = 0;
}

const char *procinfo_exe(struct procinfo *pi, __u32 pid, __u32 tid, const char *comm)
{
	struct exe_slot *s = &pi->exe[pid % EXE_SLOTS];
	char link[64], before[32], after[32], path[PATH_MAX];
	ssize_t n;

	/*
	 * A pid is reused only after wrap-around, but a process that execs keeps its pid: the
	 * task name the event carries tells a cached entry of the program before the exec.
	 */
	if (s->valid && s->pid == pid && !strncmp(s->comm, comm, sizeof(s->comm)))
		return s->path;
	s->valid = 0;
	/*
	 * The sender may have exec'd since its send (a shell that sends, then execs a program):
	 * /proc then shows the new program. Its name is read before and after the link; unless
	 * both are the event's, the executable is not the sender's and stays unknown.
	 */
	task_comm(pid, tid, before, sizeof(before));
	snprintf(link, sizeof(link), "/proc/%u/exe", pid);
	n = readlink(link, path, sizeof(path) - 1);
	task_comm(pid, tid, after, sizeof(after));
	if (n <= 0 || strncmp(before, comm, 16) || strncmp(after, comm, 16)) {
		/* gone or another program before we looked: counted, reported as null */
		pi->exe_unknown++;
		return NULL;
	}
	path[n] = 0;
	free(s->path);
	s->path = strdup(path);
	if (!s->path) {
		pi->exe_unknown++;
		return NULL;
	}
	s->pid = pid;
	strncpy(s->comm, comm, sizeof(s->comm));
	s->valid = 1;
	return s->path;
}

__u64 procinfo_exe_unknown(const struct procinfo *pi)
{
	return pi ? pi->exe_unknown : 0;
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

/* Forgets every cached cgroup (the table filled up: most are gone by then). */
static void cg_clear(struct procinfo *pi)
{
	for (unsigned i = 0; i < CG_SLOTS; i++) {
		free(pi->cg[i].path);
		free(pi->cg[i].pod);
	}
	memset(pi->cg, 0, CG_SLOTS * sizeof(*pi->cg));
	pi->cg_used = 0;
}

/* Caches path (below the root) for id; a table 3/4 full starts over (with clear) or takes no
 * more. */
static void cg_put(struct procinfo *pi, __u64 id, const char *rel, int clear)
{
	struct cg_slot *s;

	if (pi->cg_used >= CG_SLOTS / 4 * 3) {
		if (!clear)
			return;
		cg_clear(pi);
	}
	s = cg_slot(pi, id);
	if (!s || s->path)
		return;
	s->path = strdup(*rel ? rel : "/");
	if (!s->path)
		return;
	s->id = id;
	pi->cg_used++;
}

/*
 * The path of cgroup id from the kernel: the id is the cgroup directory's kernfs file handle.
 * 1 found, 0 the cgroup is gone, -1 refused (no CAP_DAC_READ_SEARCH, or an older kernel).
 */
static int cg_byhandle(struct procinfo *pi, __u64 id)
{
	union {
		struct file_handle fh;
		char buf[sizeof(struct file_handle) + sizeof(__u64)];
	} h;
	char link[64], path[PATH_MAX];
	int fd, ret = -1;
	ssize_t n;

	if (pi->rootfd < 0)
		return -1;
	h.fh.handle_bytes = sizeof(__u64);
	h.fh.handle_type = CG_FILEID_KERNFS;
	memcpy(h.fh.f_handle, &id, sizeof(id));
	fd = open_by_handle_at(pi->rootfd, &h.fh, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		ret = errno == ESTALE || errno == ENOENT ? 0 : -1;
	} else {
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		n = readlink(link, path, sizeof(path) - 1);
		if (n > 0 && (size_t)n >= pi->rootlen && !strncmp(path, pi->root, pi->rootlen)) {
			path[n] = 0;
			cg_put(pi, id, path + pi->rootlen, 1);
			ret = 1;
		}
		close(fd);
	}
	return ret;
}

static struct procinfo *walk_pi;

static int walk_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)ftw;
	if (flag == FTW_D)
		cg_put(walk_pi, st->st_ino, path + walk_pi->rootlen, 0);
	return 0;
}

const char *procinfo_cgroup(struct procinfo *pi, __u64 id)
{
	struct cg_slot *s;
	__s64 now;
	int r;

	if (!pi->rootlen)
		return NULL;
	s = cg_slot(pi, id);
	if (s && s->path)
		return s->path;
	/* unknown id: a cgroup new since it was last looked for, or one already gone */
	if (pi->cg_byhandle) {
		r = cg_byhandle(pi, id);
		if (r >= 0) {
			s = r ? cg_slot(pi, id) : NULL;
			return s && s->path ? s->path : NULL;
		}
		pi->cg_byhandle = 0;
	}
	now = clock_ns(CLOCK_MONOTONIC);
	if (pi->walk_at && now - pi->walk_at < CG_WALK_NS)
		return NULL;
	pi->walk_at = now;
	if (pi->cg_used >= CG_SLOTS / 4 * 3)
		cg_clear(pi);
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

const struct pod_info *procinfo_cgroup_pod(struct procinfo *pi, __u64 id, const char *pods_dir)
{
	const char *path = procinfo_cgroup(pi, id);
	struct cg_slot *s = path ? cg_slot(pi, id) : NULL;
	struct pod_info pod;
	__s64 now;

	if (!s)
		return NULL;
	now = clock_ns(CLOCK_MONOTONIC);
	if (s->pod_state == POD_NONE || s->pod_state == POD_NAMED ||
	    (s->pod_state == POD_UNNAMED && now - s->pod_at < POD_RETRY_NS))
		return s->pod;
	s->pod_at = now;
	if (!procinfo_pod(path, pods_dir, &pod)) {
		s->pod_state = POD_NONE;
		return NULL;
	}
	if (!s->pod)
		s->pod = malloc(sizeof(*s->pod));
	if (!s->pod) {
		/* not cached: the next finding looks again */
		s->pod_state = POD_UNKNOWN;
		return NULL;
	}
	*s->pod = pod;
	s->pod_state = pod.name[0] ? POD_NAMED : POD_UNNAMED;
	return s->pod;
}
