/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Adopt established TCP sockets into the sockhash: the sockops program adds the sockets that
 * become ESTABLISHED while it is attached; the ones established before the monitor started are
 * found here, through /proc/PID/fd and pidfd_getfd(), and added from userspace.
 */
#ifndef CS_ADOPT_H
#define CS_ADOPT_H

#include <sys/types.h>

/*
 * Counts of one adopt_sockets() call. Every TCP socket examined ends in exactly one of adopted,
 * present, loopback, not_established or failed; failed also counts socket fds that could not be
 * taken at all (their kind unknown) and /proc/PID/fd directories refused, so it is not a subset
 * of sockets.
 */
struct adopt_stats {
	unsigned sockets;	  /* TCP inet sockets examined (distinct cookies) */
	unsigned adopted;	  /* added to the sockhash */
	unsigned present;	  /* already in it (EEXIST): added by sockops or an earlier call */
	unsigned loopback;	  /* left out: peer is loopback (127/8, ::1, ::ffff:127/104) and
				     !include_loopback */
	unsigned not_established; /* listening, connecting, closing, never connected ... */
	unsigned failed; /* pidfd_open/pidfd_getfd/map update refused (EPERM, map full...), one per
			    attempt */
};

/*
 * Add the ESTABLISHED TCP (IPv4/IPv6) sockets held by running processes (every /proc/PID/fd
 * entry that is a socket), except those of `self`, to the sockhash map sockhash_fd (key: the
 * socket cookie, __u64; value: __u64) under their SO_COOKIE, BPF_NOEXIST. Works across network
 * namespaces. /proc must be the proc of the caller's PID namespace (pids go to pidfd_open()).
 * Returns 0 (counts in *st) or -errno when /proc cannot be read at all (-EXDEV: /proc belongs to
 * another PID namespace).
 */
int adopt_sockets(int sockhash_fd, int include_loopback, pid_t self, struct adopt_stats *st);

#endif
