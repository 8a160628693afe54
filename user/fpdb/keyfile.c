// SPDX-License-Identifier: GPL-2.0-only
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fpdb/keyfile.h"
#include "lib/fileio.h"
#include "lib/log.h"
#include "lib/util.h"

#include "cs_hash.h"

static int random_bytes(void *buf, size_t n)
{
	char *p = buf;

	while (n) {
		ssize_t r = getrandom(p, n, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Returns 0, -EEXIST when someone else created the file first, or another -errno. */
static int keyfile_create(const char *path)
{
	unsigned char raw[KEYFILE_SIZE];
	int fd, err;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = -errno;
		if (err != -EEXIST)
			pr_err("%s: cannot create key file: %s", path, strerror(-err));
		return err;
	}
	err = random_bytes(raw, sizeof(raw));
	if (err) {
		pr_err("%s: getrandom: %s", path, strerror(-err));
		goto out;
	}
	err = write_all(fd, raw, sizeof(raw));
	if (!err && fsync(fd))
		err = -errno;
	if (err) {
		pr_err("%s: cannot write key file: %s", path, strerror(-err));
		goto out;
	}
	err = fsync_dir_of(path);
	if (err)
		pr_warn("%s: cannot sync directory: %s", path, strerror(-err));
	err = 0;
	pr_info("%s: created new key file (32 random bytes, mode 0600)", path);
out:
	explicit_bzero(raw, sizeof(raw));
	close(fd);
	if (err)
		unlink(path);
	return err;
}

static __u64 le64_at(const unsigned char *p)
{
	__u64 v;

	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

int keyfile_load(const char *path, struct cs_key *key, int create)
{
	unsigned char raw[KEYFILE_SIZE];
	struct stat st;
	size_t got = 0;
	int fd, err;

	memset(key, 0, sizeof(*key));
	fd = input_open(path, &st);
	if (fd == -ENOENT && create) {
		err = keyfile_create(path);
		if (err && err != -EEXIST)
			return err;
		fd = input_open(path, &st);
	}
	if (fd < 0) {
		input_open_err(path, "key", fd);
		return fd;
	}
	err = input_check_owner(path, &st, "key");
	if (err)
		goto out;
	if (st.st_mode & 077) {
		err = -EPERM;
		pr_err("%s: key file mode %04o gives access to group or others, run chmod 600 %s",
		       path, (unsigned)(st.st_mode & 07777), path);
		goto out;
	}
	if (st.st_size != KEYFILE_SIZE) {
		err = -EINVAL;
		pr_err("%s: expected 32 bytes, found %lld", path, (long long)st.st_size);
		goto out;
	}
	while (got < sizeof(raw)) {
		ssize_t r = read(fd, raw + got, sizeof(raw) - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			err = r < 0 ? -errno : -EINVAL;
			pr_err("%s: cannot read key file: %s", path,
			       r < 0 ? strerror(-err) : "expected 32 bytes");
			goto out;
		}
		got += (size_t)r;
	}
	key->k0 = le64_at(raw);
	key->k1 = le64_at(raw + 8);
	key->seed = le64_at(raw + 16);
	key->k3 = le64_at(raw + 24);
	key->ce = cs_acc_str(key->seed, "content-encoding");
	err = 0;
out:
	explicit_bzero(raw, sizeof(raw));
	close(fd);
	return err;
}

__u64 keyfile_kcv(const struct cs_key *key)
{
	return cs_sip24_2w(key->k3, key->k0 ^ key->k1 ^ key->seed, 0x6372746e65736e6fULL,
			   0x3176766b63ULL);
}
