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
#include "monitor/tls_elf.h"

struct consentry_bpf;
struct tls;

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
