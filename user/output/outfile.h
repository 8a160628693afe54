/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The findings file (-o, or stdout): a stdio stream that never fails, so a full disk or a
 * broken pipe does not stop the monitor. Whole lines only reach the file: a line that cannot
 * be written (ENOSPC, EIO, EPIPE...) is counted as lost, a line written in part is cut off
 * again, and the error is logged once per episode. A file moved away or removed under the
 * monitor is noticed before the next write (inode changed, or no link left) and the path is
 * opened again; SIGHUP reopens it too (logrotate's postrotate).
 */
#ifndef CS_OUTFILE_H
#define CS_OUTFILE_H

#include <stdio.h>
#include <linux/types.h>

struct outfile_stats {
	__u64 lines;	 /* findings written whole */
	__u64 lost;	 /* findings not written (write errors) */
	__u64 errors;	 /* failed write calls */
	__u64 episodes;	 /* runs of failures, each logged once */
	__u64 reopens;	 /* the path opened again (moved, removed, SIGHUP) */
	__u64 truncated; /* partly written lines cut off again */
};

struct outfile;

/* Open PATH for appending (created 0666 & ~umask), or wrap stdout when PATH is NULL. */
struct outfile *outfile_open(const char *path);
/* The stream to write findings to (full buffering; flush it to write). */
FILE *outfile_stream(struct outfile *o);
/* Open the path again if it no longer names the open file (force: in any case). 0 or -errno. */
int outfile_reopen(struct outfile *o, int force);
const struct outfile_stats *outfile_stats(const struct outfile *o);
const char *outfile_name(const struct outfile *o);
/* Flushes and closes; accepts NULL. */
void outfile_close(struct outfile *o);

#endif
