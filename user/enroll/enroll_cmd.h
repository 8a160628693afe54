/* SPDX-License-Identifier: GPL-2.0-only */
/* The state of one `consentry enroll` run, shared by enroll_cmd.c and its hash thread. */
#ifndef CS_ENROLL_CMD_H
#define CS_ENROLL_CMD_H

#include <stddef.h>

#include "cs_abi.h"
#include "fpdb/fpfile.h"

struct hasher;

struct colmap {
	char *col;
	int field;
	int used;
};

struct enroll {
	const char *reg_path;
	const char *key_path;
	const char *out_path;
	int country_code;
	int no_hashes;	    /* --no-hashes: no hex digest variants */
	__u32 sensitive;    /* --sensitive: FIELD_BIT mask added to the base set */
	int sensitive_none; /* --sensitive none: the base set is empty, not the default */
	struct hasher *hs;  /* NULL with --no-hashes */
	struct colmap *maps;
	unsigned nmaps;

	unsigned ncols;
	int *col_field; /* per column: enum cs_field, 0 for subject_id */
	char **colname; /* per column, for messages: "phone" or "mobile (phone)" */
	unsigned subject_col;

	struct cs_key key;

	/* subjects: ids in one arena, NUL-terminated, soff[i] = offset of id i */
	char *arena;
	size_t arena_len, arena_cap;
	size_t *soff;
	__u32 *sline; /* line of the row that registered subject i */
	__u32 nsub;
	size_t sub_cap;
	__u32 *slots; /* hash set: subject index + 1, 0 = empty */
	__u32 slot_mask;

	struct fp_entry *ent;
	size_t nent, ent_cap;
	__u64 *pre; /* cs_pre() of ent[i]'s token, same index until sorting */
	size_t pre_cap;
	__u32 min_len, max_len;
	__u32 strong_min_len, flags; /* fpdb.strong_min_len, FPDB_F_* */
	__u32 anchor_digits;	     /* fpdb.anchor_digits */

	/* birth dates (days since 1970-01-01) of subjects with a valid birthdate, raw until written
	 */
	struct fpdb_birth *births;
	size_t nbirths, births_cap;
	__u32 nminors; /* of them under FPDB_BIRTH_AGE on the enrollment day */

	unsigned long values[CS_F_MAX];
	unsigned long rejected;
};

#endif
