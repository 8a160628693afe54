// SPDX-License-Identifier: GPL-2.0-only
/* The FPDB_MAPPED form of a fingerprint DB: the mapping, its SIGBUS guard, page dropping. */
#define _GNU_SOURCE /* asprintf, mkostemp */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "fpdb/fpfile.h"
#include "fpdb/fpdb_int.h"
#include "cs_hash.h"
#include "fpdb/keyfile.h"
#include "lib/fileio.h"
#include "lib/log.h"
#include "lib/util.h"

/*
 * A mapped DB trusts its file once loaded. If the file is truncated under the running monitor
 * (cp over it rewrites it in place; enroll's rename does not), a read of a page past the new end
 * raises SIGBUS. Every reader of a mapping runs inside MAP_GUARD: the handler jumps out of a
 * fault inside that mapping, the reader returns its failure value with errno EIO, and
 * fpdb_failed() tells the caller from then on. A SIGBUS anywhere else gets the default action.
 */
__thread sigjmp_buf *fpdb_guard_env;
__thread const struct fpdb_map *fpdb_guard_map;
static struct sigaction guard_prev; /* the disposition before ours, for other faults */

static void map_sigbus(int sig, siginfo_t *si, void *uc)
{
	const struct fpdb_map *m = fpdb_guard_map;
	const unsigned char *a = si->si_addr;

	(void)uc;
	if (fpdb_guard_env && m && a >= m->base && a < m->base + m->len)
		siglongjmp(*fpdb_guard_env, 1);
	/* not a read of ours: on return it faults again, under the disposition before ours */
	sigaction(sig, &guard_prev, NULL);
}

/* At each mapped load (whoever set a SIGBUS handler since, ours goes back on top). */
int map_guard_install(void)
{
	struct sigaction sa = {.sa_sigaction = map_sigbus, .sa_flags = SA_SIGINFO | SA_NODEFER};
	struct sigaction old;

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, &old))
		return -errno;
	if (!(old.sa_flags & SA_SIGINFO) || old.sa_sigaction != map_sigbus)
		guard_prev = old;
	return 0;
}

int fpdb_failed(const struct fpdb *db)
{
	return db->map && db->map->failed;
}

/*
 * Unmap the pages of [from, to) of the mapping from this process: they stay in the page cache
 * (a later lookup maps them again) but no longer count in its resident set, so walking a 3 GB
 * file does not make the collector 3 GB. Only pages wholly read are passed.
 */
void map_drop(const void *from, const void *to)
{
	uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t a = (uintptr_t)from & ~(pg - 1), b = (uintptr_t)to & ~(pg - 1);

	if (b > a)
		madvise((void *)a, b - a, MADV_DONTNEED);
}

/* All of the mapping: fault-around maps up to 64 KiB next to each page read, not only it. */
void map_drop_all(const struct fpdb_map *m)
{
	uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);

	madvise((void *)m->base, (m->len + pg - 1) & ~(pg - 1), MADV_DONTNEED);
}

__u64 map_bucket(const struct fpdb_map *m, __u64 fp)
{
	return m->dir_bits ? fp >> (64 - m->dir_bits) : 0;
}

void map_free(struct fpdb_map *m)
{
	if (!m)
		return;
	if (m->base)
		munmap((void *)m->base, m->len);
	for (unsigned i = 0; i < FPDB_LOOKUP_RING; i++)
		free(m->ring[i].e);
	free(m->dir);
	free(m);
}

/*
 * The subject record at offset r of a subjects region of size bytes (u16 length, then the id):
 * its length into *len; or what is wrong with it.
 */
const char *subject_record(const unsigned char *b, __u64 size, __u64 r, __u32 *len)
{
	if (r > size || size - r < 2)
		return "subject table shorter than nsubjects";
	*len = b[r] | (__u32)b[r + 1] << 8;
	if (!*len || *len > FP_SUBJECT_MAX)
		return "bad subject id length";
	if (size - r - 2 < *len)
		return "subject table shorter than nsubjects";
	if (memchr(b + r + 2, '\0', *len))
		return "NUL byte in subject id";
	return NULL;
}
