// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "verdict/law.h"
#include "lib/iso3166.h"
#include "lib/log.h"

/* Sorted for bsearch: the 27 EU member states, then IS, LI, NO (EEA agreement). */
static const char eea[][3] = {
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE",
    "IS", "IT", "LI", "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK",
};

/*
 * Countries with a European Commission adequacy decision for all transfers (GDPR art. 45),
 * sorted. The United States' decision (EU-US Data Privacy Framework) covers only certified
 * organisations, and Canada's only commercial organisations under PIPEDA: neither can be told
 * from an address, so the US is not listed and CA is (its decision covers the common case).
 * docs/law.md dates this list; review it when the Commission adds or withdraws a decision.
 */
static const char adequate[][3] = {
    "AD", "AR", "CA", "CH", "FO", "GB", "GG", "IL", "IM", "JE", "JP", "KR", "NZ", "UY",
};

static int cc_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

static int in_list(const char *cc, const char (*list)[3], size_t n)
{
	return cc && bsearch(cc, list, n, sizeof(list[0]), cc_cmp) != NULL;
}

int law_in_eea(const char *cc)
{
	return in_list(cc, eea, sizeof(eea) / sizeof(eea[0]));
}

const char *law_name(enum law l)
{
	return l == LAW_GDPR ? "gdpr" : "pipl";
}

int law_profile_init(struct law_profile *p, const char *name, const char *cc)
{
	memset(p, 0, sizeof(*p));
	if (!name || !strcmp(name, "pipl")) {
		p->law = LAW_PIPL;
		p->minor_age = 14;
		cc = cc ? cc : "CN";
	} else if (!strcmp(name, "gdpr")) {
		p->law = LAW_GDPR;
		/* art. 8: 16, which member states may lower to 13; 16 is the strict reading */
		p->minor_age = 16;
		cc = cc ? cc : "DE";
	} else {
		pr_err("--law: unknown law '%s' (expected pipl or gdpr)", name);
		return -EINVAL;
	}
	if (!iso3166_valid(cc)) {
		pr_err(
		    "--jurisdiction: '%s' is not an ISO 3166-1 alpha-2 country code (e.g. CN, DE)",
		    cc);
		return -EINVAL;
	}
	if (p->law == LAW_GDPR && !law_in_eea(cc)) {
		pr_err("--jurisdiction %s: not in the EEA, which --law gdpr is the law of", cc);
		return -EINVAL;
	}
	memcpy(p->jurisdiction, cc, 2);
	return 0;
}

int law_cross_border(const struct law_profile *p, const char *dest)
{
	if (!dest || !dest[0])
		return -1;
	if (p->law == LAW_GDPR)
		return !law_in_eea(dest) &&
		       !in_list(dest, adequate, sizeof(adequate) / sizeof(adequate[0]));
	return strcmp(dest, p->jurisdiction) != 0;
}
