/* SPDX-License-Identifier: GPL-2.0-only */
/* Process enrichment: executable path by pid, cgroup v2 path and container id by cgroup id. */
#ifndef CS_PROCINFO_H
#define CS_PROCINFO_H

#include <stddef.h>
#include <linux/types.h>

struct procinfo;

struct procinfo *procinfo_new(void);
void procinfo_free(struct procinfo *pi);
/*
 * Executable of process pid whose thread tid, named comm (up to 16 bytes), sent; cached by pid
 * and name (an exec keeps the pid). NULL when unknown: the process exited, or exec'd another
 * program, before this look-up (counted).
 */
const char *procinfo_exe(struct procinfo *pi, __u32 pid, __u32 tid, const char *comm);
/* Look-ups that found no executable of the sender (gone, or another program by now). */
__u64 procinfo_exe_unknown(const struct procinfo *pi);
/*
 * cgroup path relative to the v2 root ("/system.slice/x.service"); NULL when unknown. An id not
 * cached is resolved through its kernfs file handle (open_by_handle_at, CAP_DAC_READ_SEARCH),
 * else by a walk of the tree at most once a second. The path is valid until the next call.
 */
const char *procinfo_cgroup(struct procinfo *pi, __u64 cgroup_id);
/* 64-hex container id found in a cgroup path (docker, containerd, cri-o, podman), else NULL. */
const char *procinfo_container_id(const char *cgroup_path, char *buf, size_t len);

/* A Kubernetes pod: its UID from the cgroup path, namespace and name from the kubelet's logs. */
struct pod_info {
	char uid[37];
	char ns[64];	/* "" when unknown */
	char name[254]; /* "" when unknown */
};

/* The kubelet's pod log directories: NAMESPACE_NAME_UID each. */
#define PODS_DIR "/var/log/pods"

/*
 * The pod of a cgroup path: "kubepods/burstable/pod<UID>/..." (cgroupfs driver) or
 * "kubepods-burstable-pod<UID with '_'>.slice/..." (systemd driver; containerd "cri-containerd-",
 * CRI-O "crio-" and docker "docker-" scopes alike); namespace and name from the directory of
 * pods_dir (PODS_DIR, NULL: not looked up) whose name ends in "_<UID>". 1 if a pod UID was
 * found (*pod filled), else 0.
 */
int procinfo_pod(const char *cgroup_path, const char *pods_dir, struct pod_info *pod);
/*
 * The pod of cgroup id, procinfo_pod() of its path cached with the cgroup: looked up once per
 * cgroup, again after 10 s while the pod's log directory is missing. NULL: not in a pod.
 */
const struct pod_info *procinfo_cgroup_pod(struct procinfo *pi, __u64 cgroup_id,
					   const char *pods_dir);

#endif
