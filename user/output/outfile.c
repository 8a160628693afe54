// SPDX-License-Identifier: GPL-2.0-only
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "output/outfile.h"
#include "lib/log.h"

#define OUT_BUFSZ (64u << 10)

struct outfile {
	char *path; /* NULL: stdout, never reopened */
	int fd;
	int is_reg;	/* a regular file: a line written in part can be cut off again */
	int failing;	/* a write failed and was logged; cleared by the next good write */
	int reopen_err; /* the path could not be opened again; logged once */
	FILE *f;
	char *pend; /* bytes stdio handed over, up to the last complete line written */
	size_t len, cap;
	struct outfile_stats st;
};

static __u64 count_lines(const char *p, size_t n)
{
	const char *end = p + n;
	__u64 k = 0;

	while (p < end && (p = memchr(p, '\n', (size_t)(end - p)))) {
		k++;
		p++;
	}
	return k;
}

const char *outfile_name(const struct outfile *o)
{
	return o->path ? o->path : "stdout";
}

/* lost lines could not be written (err): counted; the first of a run of failures is logged */
static void lose_lines(struct outfile *o, __u64 lost, int err)
{
	o->st.lost += lost;
	if (o->failing)
		return;
	o->failing = 1;
	o->st.episodes++;
	pr_err("cannot write findings to %s: %s; the monitor goes on and counts the findings it "
	       "cannot write (summary: findings lost)",
	       outfile_name(o), strerror(err));
}

/* Write n bytes of whole lines; what cannot be written is counted lost, never half a line. */
static void write_lines(struct outfile *o, const char *p, size_t n)
{
	size_t done = 0, full;
	int err = 0;

	while (done < n) {
		ssize_t w = write(o->fd, p + done, n - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			err = w < 0 ? errno : EIO;
			break;
		}
		done += (size_t)w;
	}
	if (!err) {
		o->st.lines += count_lines(p, n);
		if (o->failing)
			pr_info("findings are written to %s again (%" PRIu64 " lost so far)",
				outfile_name(o), (uint64_t)o->st.lost);
		o->failing = 0;
		return;
	}
	o->st.errors++;
	/* the lines written whole stay; a line cut by the error is taken off the file again */
	for (full = done; full && p[full - 1] != '\n'; full--)
		;
	o->st.lines += count_lines(p, full);
	if (done > full && o->is_reg) {
		off_t end = lseek(o->fd, 0, SEEK_CUR);

		if (end >= (off_t)(done - full) && !ftruncate(o->fd, end - (off_t)(done - full)))
			o->st.truncated++;
	}
	lose_lines(o, count_lines(p + full, n - full), err);
}

/* The open file has no name left (removed, and its path could not be opened again). */
static int fd_unlinked(int fd)
{
	struct stat st;

	return !fstat(fd, &st) && st.st_nlink == 0;
}

static ssize_t cookie_write(void *cookie, const char *buf, size_t size)
{
	struct outfile *o = cookie;
	size_t k;

	if (o->len + size > o->cap) {
		size_t cap = o->cap ? o->cap : OUT_BUFSZ;
		char *p;

		while (cap < o->len + size)
			cap *= 2;
		p = realloc(o->pend, cap);
		if (!p) {
			/* no memory to hold them: these lines are lost, and counted */
			o->st.lost += count_lines(buf, size);
			return (ssize_t)size;
		}
		o->pend = p;
		o->cap = cap;
	}
	memcpy(o->pend + o->len, buf, size);
	o->len += size;
	for (k = o->len; k && o->pend[k - 1] != '\n'; k--)
		;
	if (!k)
		return (ssize_t)size;
	/*
	 * A file moved away or removed gets the next lines at its path again; lines for a
	 * removed file whose path cannot be opened again would be read by nobody: lost.
	 */
	if (outfile_reopen(o, 0) < 0 && fd_unlinked(o->fd))
		lose_lines(o, count_lines(o->pend, k), ENOENT);
	else
		write_lines(o, o->pend, k);
	memmove(o->pend, o->pend + k, o->len - k);
	o->len -= k;
	/* never an error to stdio: a failing disk must not stop the monitor */
	return (ssize_t)size;
}

static int cookie_close(void *cookie)
{
	struct outfile *o = cookie;

	if (o->len) /* an unfinished last line: not a finding, dropped */
		o->len = 0;
	if (o->path && o->fd >= 0)
		close(o->fd);
	o->fd = -1;
	return 0;
}

static int open_path(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
}

static int fd_is_reg(int fd)
{
	struct stat st;

	return !fstat(fd, &st) && S_ISREG(st.st_mode);
}

int outfile_reopen(struct outfile *o, int force)
{
	struct stat cur, at;
	int fd;

	if (!o->path)
		return 0;
	if (!force && !fstat(o->fd, &cur) && cur.st_nlink > 0 && !stat(o->path, &at) &&
	    at.st_dev == cur.st_dev && at.st_ino == cur.st_ino)
		return 0;
	fd = open_path(o->path);
	if (fd < 0) {
		int err = errno;

		if (!o->reopen_err)
			pr_err(
			    "findings file %s was moved or removed and cannot be opened again: "
			    "%s; findings go to the file opened before while it has a name, else "
			    "they are counted lost",
			    o->path, strerror(err));
		o->reopen_err = 1;
		return -err;
	}
	close(o->fd);
	o->fd = fd;
	o->is_reg = fd_is_reg(fd);
	o->reopen_err = 0;
	o->st.reopens++;
	pr_info("findings file %s was moved or removed: opened it again", o->path);
	return 0;
}

struct outfile *outfile_open(const char *path)
{
	static const cookie_io_functions_t io = {.write = cookie_write, .close = cookie_close};
	struct outfile *o = calloc(1, sizeof(*o));
	int err;

	if (!o)
		return NULL;
	o->fd = STDOUT_FILENO;
	if (path) {
		o->path = strdup(path);
		o->fd = o->path ? open_path(path) : -1;
		if (o->fd < 0)
			goto fail;
	}
	o->is_reg = fd_is_reg(o->fd);
	o->f = fopencookie(o, "w", io);
	if (!o->f || setvbuf(o->f, NULL, _IOFBF, OUT_BUFSZ))
		goto fail;
	return o;
fail:
	err = errno;
	if (o->f)
		fclose(o->f);
	else if (o->path && o->fd >= 0)
		close(o->fd);
	free(o->path);
	free(o);
	errno = err;
	return NULL;
}

FILE *outfile_stream(struct outfile *o)
{
	return o->f;
}

const struct outfile_stats *outfile_stats(const struct outfile *o)
{
	return &o->st;
}

void outfile_close(struct outfile *o)
{
	if (!o)
		return;
	fclose(o->f);
	free(o->pend);
	free(o->path);
	free(o);
}
