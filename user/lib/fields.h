/* SPDX-License-Identifier: GPL-2.0-only */
/* Field type names of registrations.csv and consent.csv (spec §3). */
#ifndef CS_FIELDS_H
#define CS_FIELDS_H

#include <stddef.h>

#include "cs_abi.h"

/* Returns the enum cs_field for a column/type name, or 0 if unknown. */
int field_parse(const char *name);
/* Name of a field type ("phone"), "?" for an invalid value. */
const char *field_name(int field);
static inline int field_is_weak(int field)
{
	return field >= CS_F_FIRST_WEAK;
}
#define FIELD_BIT(f) (1u << (f))
#define FIELD_ALL    (((1u << CS_F_MAX) - 1) & ~1u)

/* The field types in the order findings list them: alphabetical, as the spec's example. */
extern const int field_order[CS_F_MAX - 1];
/*
 * The names of mask's field types in field_order, sep between, into buf[0..len) (cut short if
 * it does not fit); "" for an empty mask. Returns buf.
 */
char *fields_join(__u32 mask, const char *sep, char *buf, size_t len);

#endif
