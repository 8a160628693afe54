/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The 32-byte fingerprint key file (spec §3): bytes 0..7 -> k0, 8..15 -> k1, 16..23 -> seed,
 * 24..31 -> k3, each little-endian. Whoever holds it can test guesses against a fingerprint
 * file, so it must be readable by its owner only.
 */
#ifndef CS_KEYFILE_H
#define CS_KEYFILE_H

#include <linux/types.h>

#include "cs_abi.h"

struct cs_key;

#define KEYFILE_SIZE 32

/*
 * Load the key from path. With create != 0 a missing file is created (O_EXCL, mode 0600, 32
 * bytes from getrandom(), fsync'ed) first. Returns 0; -EPERM if the file is accessible by group
 * or others; -EINVAL if it is not a regular file of exactly 32 bytes; other -errno on I/O
 * errors. Every error is logged with the path.
 */
int keyfile_load(const char *path, struct cs_key *key, int create);

/*
 * Key check value, stored in fingerprint files to detect a wrong key file:
 * SipHash-2-4 keyed with (k3, k0 ^ k1 ^ seed) over the fixed 16-byte domain string
 * "onsentrc" "ckvv1" (little-endian words). Fingerprints use the key (k0, k1) and never k3,
 * so the KCV is a separate PRF output that does not help to recover a registered value.
 */
__u64 keyfile_kcv(const struct cs_key *key);

#endif
