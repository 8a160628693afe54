/* SPDX-License-Identifier: GPL-2.0-only */
/* The loaded recipients table's layout, for recipients.c and its walks (rcpt_walk.c) only. */
#ifndef CS_RECIPIENTS_INT_H
#define CS_RECIPIENTS_INT_H

#include <stddef.h>

#include <linux/types.h>

#include "verdict/recipients.h"

struct rcpt_ent {
	struct recipient pub;
	unsigned long line; /* first row naming it */
};

/* One row of the file: what its selectors resolve to besides the recipient. */
struct rrow {
	__u32 rcpt;
	char country[3]; /* ISO 3166-1 alpha-2, "" when the row names none */
	char *purpose;	 /* NULL when the row names none */
	unsigned long line;
};

/* One node of a binary trie over address bits; index 0 is the root and never a child. */
struct trie_node {
	__u32 child[2];
	__s32 row; /* -1: no prefix ends here */
};

struct trie {
	struct trie_node *n;
	size_t len, cap;
};

struct ipport {
	__u8 v6;
	__u8 addr[16]; /* IPv4 in the first 4 bytes, rest zero */
	__u16 port;
	__u32 row;
};

/*
 * Exact host or the suffix of a *.domain selector (without "*."), lower case, and the path
 * prefix after it (NULL: any path).
 */
struct hostsel {
	char *name;
	char *path;
	size_t plen;
	__u32 row;
};

struct hostset {
	struct hostsel *v;
	size_t len, cap;
};

struct recipients {
	struct rcpt_ent *rc;
	size_t nrc, caprc;
	struct rrow *rows;
	size_t nrows, caprows;
	__u32 *byname; /* open addressing, rcpt index + 1, 0 = empty */
	size_t nslots;
	struct trie t4, t6;
	struct ipport *ipp;
	size_t nipp, capipp;
	struct hostset hosts, wild;
};

#endif
