// SPDX-License-Identifier: GPL-2.0-only
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
