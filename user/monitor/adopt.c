// SPDX-License-Identifier: GPL-2.0-only
/*
 * Adopt established TCP sockets (see adopt.h): walk /proc/PID/fd, take every socket fd with
 * pidfd_getfd() (works whatever network namespace the socket lives in: no /proc/net parsing),
 * keep the ESTABLISHED TCP ones and add them to the sockhash under their cookie.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/types.h>
#include <bpf/bpf.h>

#include "monitor/adopt.h"
#include "lib/log.h"

/* pidfds through syscall(): glibc wraps them only from 2.36; the numbers are the same on all
 * architectures */
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif
#ifndef SO_COOKIE
#define SO_COOKIE 57
#endif

#define SEEN_FIRST 256 /* slots of the inode set at the start; a power of two */

/* Socket inodes taken during one walk (a socket shared by fork is examined once): open
 * addressing, a power-of-two table at most half full, 0 is the empty slot (sockfs never hands
 * out inode 0). */
struct ino_set {
	__u64 *slot;
	size_t cap, n;
};

static size_t ino_hash(__u64 ino, size_t cap)
{
	return (size_t)((ino * 0x9e3779b97f4a7c15ULL) >> 32) & (cap - 1);
}

static int ino_set_has(const struct ino_set *s, __u64 ino)
{
	if (!s->cap || !ino)
		return 0;
	for (size_t i = ino_hash(ino, s->cap); s->slot[i]; i = (i + 1) & (s->cap - 1))
		if (s->slot[i] == ino)
			return 1;
	return 0;
}

static void ino_set_put(__u64 *slot, size_t cap, __u64 ino)
{
	size_t i = ino_hash(ino, cap);

	while (slot[i] && slot[i] != ino)
		i = (i + 1) & (cap - 1);
	slot[i] = ino;
}

/* 1 added, 0 there already, -ENOMEM */
static int ino_set_add(struct ino_set *s, __u64 ino)
{
	if (ino_set_has(s, ino))
		return 0;
	if ((s->n + 1) * 2 > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : SEEN_FIRST;
		__u64 *slot = calloc(cap, sizeof(*slot));

		if (!slot)
			return -ENOMEM;
		for (size_t i = 0; i < s->cap; i++)
			if (s->slot[i])
				ino_set_put(slot, cap, s->slot[i]);
		free(s->slot);
		s->slot = slot;
		s->cap = cap;
	}
	if (ino)
		ino_set_put(s->slot, s->cap, ino);
	s->n++;
	return 1;
}

struct walk {
	int map_fd;
	int include_loopback;
	struct ino_set seen;
	struct adopt_stats *st;
};

/* A /proc entry name as a pid or fd number: decimal digits only, else -1. */
static int parse_num(const char *s)
{
	long v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
		if (v > 0x7fffffff)
			return -1;
	}
	return (int)v;
}

static int peer_is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;

		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	if (ss->ss_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;

		return IN6_IS_ADDR_LOOPBACK(a) ||
		       (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return 0;
}

/* "addr port" of a peer, for the debug log */
static const char *peer_str(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &in->sin_addr, a, sizeof(a));
		port = ntohs(in->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof(a));
		port = ntohs(in6->sin6_port);
	}
	snprintf(buf, len, "%s port %u", a, port);
	return buf;
}

static int sockopt_int(int fd, int level, int name)
{
	socklen_t len = sizeof(int);
	int v;

	return getsockopt(fd, level, name, &v, &len) ? -1 : v;
}

/* fd: our copy of the target's fd tfd of process pid (a socket when it was listed). */
static void adopt_fd(struct walk *w, pid_t pid, int tfd, int fd)
{
	struct adopt_stats *st = w->st;
	struct sockaddr_storage peer;
	socklen_t len = sizeof(peer);
	struct tcp_info ti;
	__u64 cookie, val = (__u64)fd;
	char ps[INET6_ADDRSTRLEN + 16];
	struct stat sb;
	int dom, err;

	/* the inode of what was taken: tfd may have been closed and reused since the readlink */
	if (fstat(fd, &sb) || !S_ISSOCK(sb.st_mode))
		return;
	/* without memory, sockets are examined again: EEXIST from the map keeps that harmless */
	if (ino_set_add(&w->seen, sb.st_ino) == 0)
		return;
	dom = sockopt_int(fd, SOL_SOCKET, SO_DOMAIN);
	if ((dom != AF_INET && dom != AF_INET6) ||
	    sockopt_int(fd, SOL_SOCKET, SO_PROTOCOL) != IPPROTO_TCP)
		return;
	st->sockets++;

	len = sizeof(ti);
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len)) {
		pr_debug("adopt: pid %d fd %d: TCP_INFO: %s", pid, tfd, strerror(errno));
		st->failed++;
		return;
	}
	len = sizeof(peer);
	/* ENOTCONN: closed since TCP_INFO */
	if (ti.tcpi_state != TCP_ESTABLISHED || getpeername(fd, (struct sockaddr *)&peer, &len)) {
		st->not_established++;
		return;
	}
	if (!w->include_loopback && peer_is_loopback(&peer)) {
		st->loopback++;
		return;
	}
	len = sizeof(cookie);
	if (getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &len)) {
		pr_debug("adopt: pid %d fd %d: SO_COOKIE: %s", pid, tfd, strerror(errno));
		st->failed++;
		return;
	}
	/* the sockhash takes the socket behind the fd (value: the fd, as __u64), not the fd */
	err = bpf_map_update_elem(w->map_fd, &cookie, &val, BPF_NOEXIST);
	switch (err) {
	case 0:
		st->adopted++;
		pr_debug("adopt: pid %d fd %d peer %s cookie %llu", pid, tfd,
			 peer_str(&peer, ps, sizeof(ps)), (unsigned long long)cookie);
		break;
	case -EEXIST:
		st->present++;
		break;
	case -EOPNOTSUPP:
		/* the sockhash takes only ESTABLISHED (or LISTEN) TCP sockets: it left that state
		 * since TCP_INFO */
		st->not_established++;
		break;
	default:
		pr_debug("adopt: pid %d fd %d peer %s: map update: %s", pid, tfd,
			 peer_str(&peer, ps, sizeof(ps)), strerror(-err));
		st->failed++;
	}
}

static void adopt_process(struct walk *w, pid_t pid)
{
	int dfd, pidfd = -1, pidfd_err = 0;
	char path[64], link[64];
	struct dirent *de;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		/* ENOENT: gone since the /proc listing; EACCES/EPERM: a refusal */
		if (errno != ENOENT && errno != ESRCH) {
			pr_debug("adopt: %s: %s", path, strerror(errno));
			w->st->failed++;
		}
		return;
	}
	dir = fdopendir(dfd);
	if (!dir) {
		close(dfd);
		return;
	}
	while ((de = readdir(dir))) {
		int tfd = parse_num(de->d_name), fd;
		unsigned long long ino;
		ssize_t n;

		if (tfd < 0)
			continue;
		n = readlinkat(dirfd(dir), de->d_name, link, sizeof(link) - 1);
		if (n < 0)
			continue; /* closed meanwhile */
		link[n] = '\0';
		if (sscanf(link, "socket:[%llu]", &ino) != 1 || ino_set_has(&w->seen, ino))
			continue;
		/* one pidfd per process, opened at its first socket */
		if (pidfd < 0 && !pidfd_err) {
			pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
			if (pidfd < 0)
				pidfd_err = errno;
		}
		if (pidfd_err == ESRCH)
			break; /* exited */
		if (pidfd_err) {
			pr_debug("adopt: pidfd_open %d: %s", (int)pid, strerror(pidfd_err));
			w->st->failed++;
			continue;
		}
		fd = (int)syscall(SYS_pidfd_getfd, pidfd, tfd, 0);
		if (fd < 0) {
			if (errno == ESRCH)
				break; /* exited */
			if (errno == EBADF)
				continue; /* fd closed since the readlink */
			pr_debug("adopt: pidfd_getfd pid %d fd %d: %s", (int)pid, tfd,
				 strerror(errno));
			w->st->failed++;
			continue;
		}
		adopt_fd(w, pid, tfd, fd);
		close(fd);
	}
	closedir(dir);
	if (pidfd >= 0)
		close(pidfd);
}

int adopt_sockets(int sockhash_fd, int include_loopback, pid_t self, struct adopt_stats *st)
{
	struct walk w = {.map_fd = sockhash_fd, .include_loopback = include_loopback, .st = st};
	struct dirent *de;
	char buf[32];
	ssize_t n;
	DIR *dir;
	int err = 0;

	memset(st, 0, sizeof(*st));
	/* pids read from /proc go to pidfd_open(), which takes them in the caller's PID namespace:
	 * a /proc of another namespace would name other processes */
	n = readlink("/proc/self", buf, sizeof(buf) - 1);
	if (n < 0) {
		err = -errno;
		pr_warn("adopt: /proc/self: %s", strerror(errno));
		return err;
	}
	buf[n] = '\0';
	if (parse_num(buf) != (int)getpid()) {
		pr_warn(
		    "adopt: /proc belongs to another PID namespace (/proc/self is %s, pid %d): %s",
		    buf, (int)getpid(), strerror(EXDEV));
		return -EXDEV;
	}
	dir = opendir("/proc");
	if (!dir) {
		err = -errno;
		pr_warn("adopt: /proc: %s", strerror(errno));
		return err;
	}
	while ((de = readdir(dir))) {
		int pid = parse_num(de->d_name);

		if (pid > 0 && pid != (int)self)
			adopt_process(&w, pid);
	}
	closedir(dir);
	free(w.seen.slot);
	return err;
}
