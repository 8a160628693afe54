/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * TLS write functions in an ELF file: which of them a library or executable exports, and their
 * file offsets for uprobes. Apart from tls.c so that it needs no BPF skeleton (unit tests, fuzz).
 */
#ifndef CS_TLS_ELF_H
#define CS_TLS_ELF_H

#include "cs_abi.h"

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
/* The symbol name of f (enum tls_fn). */
const char *tls_fn_name(int f);

#endif
