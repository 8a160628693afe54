// SPDX-License-Identifier: GPL-2.0-only
/*
 * adopt_sockets() test (root). It runs in a PID namespace of its own with its own /proc: the walk
 * sees only the test and its children, so every count is exact and no socket of the host goes
 * into the test's sockhash. Per address: a child holds both ends of an established TCP
 * connection, the listener and a connected UDP socket, and a child of it shares them all (a
 * socket shared by fork is examined once); the test process holds a connection of
 * its own (adopt_sockets must leave `self` out); the sockhash must then hold exactly the
 * established ends, under the cookies the child reports, and only when their peer is not
 * loopback or loopback is included. A second call adopts nothing and counts them as present.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <cmocka.h>
#include <bpf/bpf.h>

#include "monitor/adopt.h"

#ifndef SO_COOKIE
#define SO_COOKIE 57
#endif

struct tcase {
	int family;
	const char *ip; /* NULL: the first non-loopback address of the host */
	int loopback;	/* the peer is loopback */
	struct sockaddr_storage addr;
	socklen_t alen;
	int map_fd;
	pid_t holder;
	int own[3]; /* the test's own connection: listener, connected, accepted */
};

/* cookies of the holder's sockets */
struct held {
	__u64 conn, acc, lsn, udp;
};

static __u64 cookie_of(int fd)
{
	socklen_t len = sizeof(__u64);
	__u64 c = 0;

	return getsockopt(fd, SOL_SOCKET, SO_COOKIE, &c, &len) ? 0 : c;
}

/* A listener on addr (port chosen by the kernel), a connection to it and its accepted end:
 * fd[0..2]. 0 or -errno. */
static int tcp_pair(const struct tcase *tc, int fd[3])
{
	struct sockaddr_storage sa = tc->addr;
	socklen_t len = tc->alen;
	int off = 0;

	fd[0] = socket(tc->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	fd[1] = socket(tc->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd[0] < 0 || fd[1] < 0)
		return -errno;
	/* an IPv6 listener takes v4-mapped addresses only when not V6ONLY */
	if (tc->family == AF_INET6 &&
	    setsockopt(fd[0], IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)))
		return -errno;
	if (bind(fd[0], (struct sockaddr *)&sa, len) || listen(fd[0], 4) ||
	    getsockname(fd[0], (struct sockaddr *)&sa, &len) ||
	    connect(fd[1], (struct sockaddr *)&sa, len))
		return -errno;
	fd[2] = accept4(fd[0], NULL, NULL, SOCK_CLOEXEC);
	return fd[2] < 0 ? -errno : 0;
}

/* The holder child: make the sockets, send their cookies over wfd, wait to be killed. */
static void hold(const struct tcase *tc, int wfd)
{
	struct sockaddr_storage sa;
	socklen_t len = sizeof(sa);
	struct held h;
	int fd[3], u;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	setpgid(0, 0);
	if (tcp_pair(tc, fd) || getsockname(fd[0], (struct sockaddr *)&sa, &len))
		_exit(2);
	u = socket(tc->family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (u < 0 || connect(u, (struct sockaddr *)&sa, len))
		_exit(3);
	h = (struct held){cookie_of(fd[1]), cookie_of(fd[2]), cookie_of(fd[0]), cookie_of(u)};
	/* a child sharing every socket (a fork): they must be examined once */
	if (fork() == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			pause();
	}
	if (!h.conn || !h.acc || !h.lsn || !h.udp ||
	    write(wfd, &h, sizeof(h)) != (ssize_t)sizeof(h))
		_exit(4);
	for (;;)
		pause();
}

/* The first address of the family on an interface that is up, not loopback, not link-local. */
static int find_remote(struct tcase *tc)
{
	struct ifaddrs *ifa, *i;
	int found = 0;

	if (getifaddrs(&ifa))
		return 0;
	for (i = ifa; i && !found; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != tc->family ||
		    !(i->ifa_flags & IFF_UP))
			continue;
		if (tc->family == AF_INET) {
			const struct sockaddr_in *in = (const struct sockaddr_in *)i->ifa_addr;

			found = (ntohl(in->sin_addr.s_addr) >> 24) != 127;
		} else {
			const struct in6_addr *a = &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;

			found = !IN6_IS_ADDR_LOOPBACK(a) && !IN6_IS_ADDR_LINKLOCAL(a) &&
				!IN6_IS_ADDR_V4MAPPED(a);
		}
		if (found) {
			memset(&tc->addr, 0, sizeof(tc->addr));
			memcpy(&tc->addr, i->ifa_addr,
			       tc->family == AF_INET ? sizeof(struct sockaddr_in)
						     : sizeof(struct sockaddr_in6));
		}
	}
	freeifaddrs(ifa);
	return found;
}

/* The case's address in tc->addr (port 0); 0 when the host has none usable. */
static int case_addr(struct tcase *tc)
{
	struct sockaddr_in *in = (struct sockaddr_in *)&tc->addr;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&tc->addr;
	int fd, ok;

	memset(&tc->addr, 0, sizeof(tc->addr));
	tc->addr.ss_family = tc->family;
	tc->alen = tc->family == AF_INET ? sizeof(*in) : sizeof(*in6);
	if (!tc->ip && !find_remote(tc))
		return 0;
	if (tc->ip &&
	    inet_pton(tc->family, tc->ip,
		      tc->family == AF_INET ? (void *)&in->sin_addr : (void *)&in6->sin6_addr) != 1)
		return 0;
	in6->sin6_scope_id = 0;
	if (tc->family == AF_INET)
		in->sin_port = 0;
	else
		in6->sin6_port = 0;
	/* a tentative (DAD) or absent address cannot be bound */
	fd = socket(tc->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ok = fd >= 0 && !bind(fd, (struct sockaddr *)&tc->addr, tc->alen);
	if (fd >= 0)
		close(fd);
	return ok;
}

static int setup(void **state)
{
	struct tcase *tc = *state;

	tc->holder = -1;
	tc->own[0] = tc->own[1] = tc->own[2] = -1;
	tc->map_fd = bpf_map_create(BPF_MAP_TYPE_SOCKHASH, NULL, 8, 8, 1024, NULL);
	if (tc->map_fd < 0) {
		print_error("sockhash: %s\n", strerror(-tc->map_fd));
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	struct tcase *tc = *state;

	if (tc->holder > 0) {
		/* the holder and its child (its process group), reaped: this is pid 1, the child
		 * comes back to it */
		kill(-tc->holder, SIGKILL);
		while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
			;
		tc->holder = -1;
	}
	for (int i = 0; i < 3; i++)
		if (tc->own[i] >= 0)
			close(tc->own[i]);
	close(tc->map_fd);
	return 0;
}

/* 1: in the map (the lookup gives the cookie back), 0: not, -errno */
static int in_map(int map_fd, __u64 cookie)
{
	__u64 v = 0;
	int err = bpf_map_lookup_elem(map_fd, &cookie, &v);

	if (err)
		return err == -ENOENT ? 0 : err;
	return v == cookie ? 1 : -EINVAL;
}

static void adopt_expect(int map_fd, int include_loopback, const struct adopt_stats *want,
			 const char *what)
{
	struct adopt_stats st;

	assert_int_equal(adopt_sockets(map_fd, include_loopback, getpid(), &st), 0);
	if (memcmp(&st, want, sizeof(st))) {
		print_error("%s: sockets %u adopted %u present %u loopback %u not_established %u "
			    "failed %u, expected %u %u %u %u %u %u\n",
			    what, st.sockets, st.adopted, st.present, st.loopback,
			    st.not_established, st.failed, want->sockets, want->adopted,
			    want->present, want->loopback, want->not_established, want->failed);
		fail();
	}
}

static void test_adopt(void **state)
{
	struct tcase *tc = *state;
	struct held h;
	int p[2], in;
	ssize_t n;

	if (!case_addr(tc)) {
		print_message("SKIP: no usable %s address on this host\n",
			      tc->family == AF_INET ? "IPv4" : "IPv6");
		skip();
	}
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	fflush(NULL);
	tc->holder = fork();
	assert_true(tc->holder >= 0);
	if (!tc->holder) {
		close(p[0]);
		hold(tc, p[1]);
	}
	close(p[1]);
	n = read(p[0], &h, sizeof(h));
	close(p[0]);
	assert_int_equal(n, sizeof(h));
	/* after the fork: the holder must not share these */
	assert_int_equal(tcp_pair(tc, tc->own), 0);

	/* holder: listener (not established), two established ends; its UDP socket is not TCP
	 * and the test's own three sockets are not looked at */
	in = !tc->loopback;
	adopt_expect(
	    tc->map_fd, 0,
	    &(struct adopt_stats){
		.sockets = 3, .adopted = in ? 2 : 0, .loopback = in ? 0 : 2, .not_established = 1},
	    "without loopback");
	assert_int_equal(in_map(tc->map_fd, h.conn), in);
	assert_int_equal(in_map(tc->map_fd, h.acc), in);

	adopt_expect(
	    tc->map_fd, 1,
	    &(struct adopt_stats){
		.sockets = 3, .adopted = in ? 0 : 2, .present = in ? 2 : 0, .not_established = 1},
	    "with loopback");
	assert_int_equal(in_map(tc->map_fd, h.conn), 1);
	assert_int_equal(in_map(tc->map_fd, h.acc), 1);
	assert_int_equal(in_map(tc->map_fd, h.lsn), 0);
	assert_int_equal(in_map(tc->map_fd, h.udp), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(in_map(tc->map_fd, cookie_of(tc->own[i])), 0);

	adopt_expect(tc->map_fd, 1,
		     &(struct adopt_stats){.sockets = 3, .present = 2, .not_established = 1},
		     "again");
}

int main(void)
{
	static struct tcase v4 = {.family = AF_INET, .ip = "127.0.0.1", .loopback = 1},
			    v6 = {.family = AF_INET6, .ip = "::1", .loopback = 1},
			    mapped = {.family = AF_INET6, .ip = "::ffff:127.0.0.1", .loopback = 1},
			    r4 = {.family = AF_INET}, r6 = {.family = AF_INET6};
	const struct CMUnitTest tests[] = {
	    {"adopt_loopback_127.0.0.1", test_adopt, setup, teardown, &v4},
	    {"adopt_loopback_::1", test_adopt, setup, teardown, &v6},
	    {"adopt_loopback_::ffff:127.0.0.1", test_adopt, setup, teardown, &mapped},
	    {"adopt_remote_ipv4", test_adopt, setup, teardown, &r4},
	    {"adopt_remote_ipv6", test_adopt, setup, teardown, &r6},
	};
	int status;
	pid_t pid;

	if (geteuid() != 0) {
		printf("SKIP: needs root\n");
		return 77;
	}
	/* a PID namespace and a /proc of its own; a private mount namespace keeps that /proc from
	 * the host */
	if (unshare(CLONE_NEWNS | CLONE_NEWPID)) {
		printf("SKIP: unshare(CLONE_NEWNS | CLONE_NEWPID): %s\n", strerror(errno));
		return 77;
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) {
		fprintf(stderr, "mount --make-rprivate /: %s\n", strerror(errno));
		return 1;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "fork: %s\n", strerror(errno));
		return 1;
	}
	if (!pid) {
		/* pid 1 of the namespace: when it exits, the kernel kills whatever is left in it */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL)) {
			fprintf(stderr, "mount proc: %s\n", strerror(errno));
			_exit(1);
		}
		exit(cmocka_run_group_tests(tests, NULL, NULL));
	}
	if (waitpid(pid, &status, 0) < 0)
		return 1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
