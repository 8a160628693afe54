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
/* cgroup path relative to the v2 root ("/system.slice/x.service"); NULL when unknown. */
const char *procinfo_cgroup(struct procinfo *pi, __u64 cgroup_id);
/* 64-hex container id found in a cgroup path (docker, containerd, cri-o, podman), else NULL. */
const char *procinfo_container_id(const char *cgroup_path, char *buf, size_t len);

#endif
