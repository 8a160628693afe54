/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers shared by the libFuzzer harnesses (tests/fuzz/fuzz_*.c): a fixed key, input handed over
 * as a file (a memfd named by /proc/self/fd/N: the loaders take paths), a quiet log, and the
 * property check that stops the run.
 */
#ifndef CS_FUZZ_H
#define CS_FUZZ_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memfd_create; the harnesses are built with -D_GNU_SOURCE */
#endif
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cs_abi.h"
#include "cs_hash.h"
#include "lib/csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* The key every harness and mkcorpus use: bytes 0..31 (mkcorpus writes the same key file). */
static inline void fuzz_key(struct cs_key *k)
{
	k->k0 = 0x0706050403020100ULL;
	k->k1 = 0x0f0e0d0c0b0a0908ULL;
	k->seed = 0x1716151413121110ULL;
	k->k3 = 0x1f1e1d1c1b1a1918ULL;
	k->ce = cs_acc_str(k->seed, "content-encoding");
}

/*
 * A property the harness checks failed: say which on the original stderr (the fuzzer's and the
 * sanitizers' output) and trap, so libFuzzer keeps the input as a crash.
 */
#define FUZZ_CHECK(cond, ...)                                                                      \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			dprintf(2, "fuzz property violated at %s:%d: %s: ", __FILE__, __LINE__,    \
				#cond);                                                            \
			dprintf(2, __VA_ARGS__);                                                   \
			dprintf(2, "\n");                                                          \
			__builtin_trap();                                                          \
		}                                                                                  \
	} while (0)

/*
 * The loaders' messages (every rejected input logs one) go to /dev/null: the stdio stream is
 * replaced, file descriptor 2 stays for libFuzzer and the sanitizer reports.
 */
static inline void fuzz_quiet(void)
{
	FILE *f = getenv("FUZZ_VERBOSE") ? NULL : fopen("/dev/null", "w");

	if (f)
		stderr = f;
}

/* An in-memory file; path names it. Reused by every input of a run. */
struct fuzz_file {
	int fd;
	char path[64];
};

static inline void fuzz_file_init(struct fuzz_file *f, const char *name)
{
	f->fd = memfd_create(name, MFD_CLOEXEC);
	if (f->fd < 0) {
		dprintf(2, "memfd_create: %s\n", strerror(errno));
		abort();
	}
	/* a memfd is made 0777: the key and fingerprint loaders refuse what others may write */
	if (fchmod(f->fd, 0600)) {
		dprintf(2, "fchmod memfd: %s\n", strerror(errno));
		abort();
	}
	snprintf(f->path, sizeof(f->path), "/proc/self/fd/%d", f->fd);
}

/* Make the file hold exactly p[0..n). */
static inline void fuzz_file_set(struct fuzz_file *f, const void *p, size_t n)
{
	if (ftruncate(f->fd, 0) || (n && pwrite(f->fd, p, n, 0) != (ssize_t)n)) {
		dprintf(2, "memfd write: %s\n", strerror(errno));
		abort();
	}
}

/* The loaders' messages silenced and an in-memory file for the input: a harness's set-up. */
static inline void fuzz_setup_file(struct fuzz_file *f, const char *name)
{
	fuzz_quiet();
	fuzz_file_init(f, name);
}

/* Index of the column named name in the current record (a header), -1 if none. */
static inline int fuzz_csv_column(const struct csv_reader *r, const char *name)
{
	for (unsigned i = 0; i < csv_nfields(r); i++)
		if (!strcmp(csv_field(r, i), name))
			return (int)i;
	return -1;
}

/* The input read as a description, a byte at a time: 0 once it is used up. */
struct fuzz_rd {
	const uint8_t *p;
	size_t n;
};

static inline uint8_t fuzz_take(struct fuzz_rd *r)
{
	if (!r->n)
		return 0;
	r->n--;
	return *r->p++;
}

#endif
