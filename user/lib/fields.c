// SPDX-License-Identifier: GPL-2.0-only
#include <stdio.h>
#include <string.h>

#include "lib/fields.h"

static const char *const names[CS_F_MAX] = {
    [CS_F_PHONE] = "phone",
    [CS_F_EMAIL] = "email",
    [CS_F_NATIONAL_ID] = "national_id",
    [CS_F_BANK_CARD] = "bank_card",
    [CS_F_PASSPORT] = "passport",
    [CS_F_USERNAME] = "username",
    [CS_F_NAME] = "name",
    [CS_F_BIRTHDATE] = "birthdate",
    [CS_F_ADDRESS] = "address",
};

int field_parse(const char *name)
{
	for (int i = 1; i < CS_F_MAX; i++)
		if (!strcmp(name, names[i]))
			return i;
	return 0;
}

const char *field_name(int field)
{
	if (field <= 0 || field >= CS_F_MAX)
		return "?";
	return names[field];
}

const int field_order[CS_F_MAX - 1] = {CS_F_ADDRESS,  CS_F_BANK_CARD, CS_F_BIRTHDATE,
				       CS_F_EMAIL,    CS_F_NAME,      CS_F_NATIONAL_ID,
				       CS_F_PASSPORT, CS_F_PHONE,     CS_F_USERNAME};

char *fields_join(__u32 mask, const char *sep, char *buf, size_t len)
{
	size_t n = 0;

	if (!len)
		return buf;
	buf[0] = 0;
	for (unsigned i = 0; i < CS_F_MAX - 1; i++) {
		const char *name = names[field_order[i]];
		size_t want = (n ? strlen(sep) : 0) + strlen(name);

		if (!(mask & FIELD_BIT(field_order[i])))
			continue;
		if (n + want >= len)
			break;
		n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? sep : "", name);
	}
	return buf;
}
