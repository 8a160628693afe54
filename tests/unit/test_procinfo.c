// SPDX-License-Identifier: GPL-2.0-only
/*
 * Kubernetes pods from cgroup paths: the cgroupfs and systemd drivers' layouts with containerd,
 * CRI-O and docker scopes, look-alikes that are not pods, and the namespace and name from a
 * synthetic /var/log/pods; the cgroup path of a cgroup id (this process's own cgroup), and an id
 * of no cgroup.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "monitor/procinfo.h"

#define UID  "0b7e5c6a-3d2f-4f8e-9a1b-2c3d4e5f6a7b"
#define UIDU "0b7e5c6a_3d2f_4f8e_9a1b_2c3d4e5f6a7b"
#define CID  "4a1f0c2b3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8"

static void test_pod_layouts(void **state)
{
	static const char *const paths[] = {
	    "/kubepods/burstable/pod" UID "/" CID,
	    "/kubepods/pod" UID "/" CID,
	    "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UIDU
	    ".slice/cri-containerd-" CID ".scope",
	    "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UIDU
	    ".slice/crio-" CID ".scope",
	    "/kubepods.slice/kubepods-pod" UIDU ".slice/docker-" CID ".scope",
	};
	struct pod_info pod;
	char cid[80];

	(void)state;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		assert_int_equal(procinfo_pod(paths[i], NULL, &pod), 1);
		assert_string_equal(pod.uid, UID);
		assert_string_equal(pod.ns, "");
		assert_string_equal(procinfo_container_id(paths[i], cid, sizeof(cid)), CID);
	}
	/* not pods: no UID, a short one, upper case, a "pod" inside a word, the host */
	assert_int_equal(procinfo_pod("/system.slice/podman.service", NULL, &pod), 0);
	assert_int_equal(procinfo_pod("/kubepods/burstable/pod0b7e5c6a-3d2f-4f8e-9a1b", NULL, &pod),
			 0);
	assert_int_equal(
	    procinfo_pod("/kubepods/pod0B7E5C6A-3D2F-4F8E-9A1B-2C3D4E5F6A7B", NULL, &pod), 0);
	assert_int_equal(procinfo_pod("/user.slice/ipod" UID, NULL, &pod), 0);
	assert_int_equal(procinfo_pod("/", NULL, &pod), 0);
	assert_int_equal(procinfo_pod(NULL, NULL, &pod), 0);
}

static void test_pod_names(void **state)
{
	char dir[] = "/tmp/cs_pods_XXXXXX", sub[256];
	struct pod_info pod;

	(void)state;
	assert_non_null(mkdtemp(dir));
	/* another pod, a near miss of the UID, then the pod */
	snprintf(sub, sizeof(sub),
		 "%s/kube-system_coredns-5d78c9869d-abcde_11111111-2222-3333-4444-555555555555",
		 dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	snprintf(sub, sizeof(sub), "%s/default_web_x%s", dir, UID);
	assert_int_equal(mkdir(sub, 0700), 0);
	snprintf(sub, sizeof(sub), "%s/payments_api-7f9c8d6b5-q2w3e_%s", dir, UID);
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(procinfo_pod("/kubepods/burstable/pod" UID "/" CID, dir, &pod), 1);
	assert_string_equal(pod.uid, UID);
	assert_string_equal(pod.ns, "payments");
	assert_string_equal(pod.name, "api-7f9c8d6b5-q2w3e");
	/* no directory for it: the UID alone */
	rmdir(sub);
	assert_int_equal(procinfo_pod("/kubepods/pod" UID "/" CID, dir, &pod), 1);
	assert_string_equal(pod.ns, "");
	assert_string_equal(pod.name, "");
	snprintf(sub, sizeof(sub), "%s/default_web_x%s", dir, UID);
	rmdir(sub);
	snprintf(sub, sizeof(sub),
		 "%s/kube-system_coredns-5d78c9869d-abcde_11111111-2222-3333-4444-555555555555",
		 dir);
	rmdir(sub);
	assert_int_equal(rmdir(dir), 0);
}

/* The cgroup v2 path of this process ("0::/path" in /proc/self/cgroup), "" if none. */
static void own_cgroup(char *buf, size_t len)
{
	char line[4096];
	FILE *f = fopen("/proc/self/cgroup", "re");

	buf[0] = 0;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "0::", 3)) {
			line[strcspn(line, "\n")] = 0;
			snprintf(buf, len, "%s", line + 3);
		}
	fclose(f);
}

/*
 * procinfo_cgroup: this process's cgroup id (the inode of its directory) gives its path, from
 * the kernel by file handle as root or from a walk of the tree otherwise, and from the cache
 * the second time; an id of no cgroup gives NULL, twice (the second time without a walk).
 */
static void test_cgroup_path(void **state)
{
	static const char *const roots[] = {"/sys/fs/cgroup/unified", "/sys/fs/cgroup"};
	struct procinfo *pi = procinfo_new();
	char own[4096], dir[4200];
	struct stat st = {0};
	const char *p;

	(void)state;
	assert_non_null(pi);
	own_cgroup(own, sizeof(own));
	for (unsigned i = 0; i < 2 && !st.st_ino; i++) {
		snprintf(dir, sizeof(dir), "%s%s", roots[i], own);
		if (!own[0] || stat(dir, &st) || !S_ISDIR(st.st_mode))
			st.st_ino = 0;
	}
	if (!st.st_ino) {
		procinfo_free(pi);
		skip();
	}
	p = procinfo_cgroup(pi, st.st_ino);
	assert_non_null(p);
	assert_string_equal(p, own);
	assert_ptr_equal(procinfo_cgroup(pi, st.st_ino), p);
	assert_null(procinfo_cgroup(pi, 0x7fffffff00000001ULL));
	assert_null(procinfo_cgroup(pi, 0x7fffffff00000001ULL));
	procinfo_free(pi);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pod_layouts),
	    cmocka_unit_test(test_pod_names),
	    cmocka_unit_test(test_cgroup_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
