/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * TLS plaintext probes: find TLS libraries and executables (running processes' maps, the
 * system library directories, --tls-lib, and every new executable seen by the exec probe),
 * and attach the BPF uprobes to their write functions, once per file (by device and inode).
 */
#ifndef CS_TLS_H
#define CS_TLS_H

#include <sys/types.h>
#include "cs_abi.h"

struct consentry_bpf;
struct tls;

/* Write functions a file may export, by channel. */
enum tls_fn {
	TLS_FN_SSL_WRITE,
	TLS_FN_SSL_WRITE_EX,
	TLS_FN_GNUTLS_SEND,
	TLS_FN_PR_WRITE,
	TLS_FN_PR_SEND,
	TLS_FN_GO_WRITE,
	/* frees of connection objects: their socket is forgotten */
	TLS_FN_SSL_FREE,
	TLS_FN_GNUTLS_DEINIT,
	TLS_FN_PR_CLOSE,
	TLS_FN_GO_CLOSE,
	TLS_FN_MAX,
};

/* Result of looking at one ELF file. */
struct tls_elf {
	__u64 off[TLS_FN_MAX]; /* file offset of each function, 0 = absent */
	int is_go;	       /* a Go executable (.gopclntab / .go.buildinfo) */
	int go_stripped;       /* Go executable without a symbol table */
};

/*
 * Scan path's symbol tables. 0 (even when nothing is found), or -errno for unreadable files
 * (-EINVAL: not a regular file, e.g. a FIFO, which is never waited on).
 */
int tls_elf_scan(const char *path, struct tls_elf *out);

struct tls *tls_new(struct consentry_bpf *skel);
void tls_free(struct tls *t); /* detaches every uprobe */
/* Probe path if it has a supported TLS write function (once per inode). reason for -v logs. */
int tls_probe_file(struct tls *t, const char *path, const char *reason);
/* Libraries and executables of running processes, and the system library directories. */
void tls_probe_running(struct tls *t);
/*
 * A process just exec'd a file the exec probe did not know (notice n): probe the file if it is
 * new, and mark it known. 0 or the uprobes attached; -errno (e.g. the process is gone).
 */
int tls_probe_exec(struct tls *t, const struct cs_exec *n);
unsigned tls_nfiles(const struct tls *t);
unsigned tls_nlinks(const struct tls *t);

#endif
