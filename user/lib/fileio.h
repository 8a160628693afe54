/* SPDX-License-Identifier: GPL-2.0-only */
/* Durable file writes shared by the key file and the fingerprint file writers. */
#ifndef CS_FILEIO_H
#define CS_FILEIO_H

#include <stddef.h>

/* write(2) all n bytes of buf to fd, again after EINTR and short writes. 0 or -errno. */
int write_all(int fd, const void *buf, size_t n);
/*
 * fsync the directory that holds path, so that a file just created or renamed into it stays
 * after a crash. 0 or -errno (-ENAMETOOLONG: path longer than PATH_MAX).
 */
int fsync_dir_of(const char *path);

#endif
