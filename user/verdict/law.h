/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Jurisdiction profiles of spec §7 (run --law pipl|gdpr, --jurisdiction CC): the age below which
 * a subject is a minor, and when a destination country makes a disclosure a transfer abroad.
 * docs/law.md is the table a compliance officer checks these against.
 */
#ifndef CS_LAW_H
#define CS_LAW_H

#include <linux/types.h>

enum law {
	LAW_PIPL, /* PIPL: minors under 14 (art. 31), abroad = outside the jurisdiction (art. 38) */
	LAW_GDPR, /* GDPR: children under 16 (art. 8), abroad = outside the EEA without an
		   * adequacy decision (arts. 44-49) */
};

struct law_profile {
	enum law law;
	char jurisdiction[3]; /* ISO 3166-1 alpha-2 where the monitored host's controller is */
	int minor_age;	      /* under this age (completed years) a subject is a minor */
};

/*
 * The profile of name ("pipl" or "gdpr") for jurisdiction cc (NULL: CN for pipl, DE for
 * gdpr). -EINVAL after printing why: an unknown law, a code that is not ISO 3166-1 alpha-2, or
 * (gdpr) a jurisdiction outside the EEA.
 */
int law_profile_init(struct law_profile *p, const char *name, const char *cc);

/* "pipl" or "gdpr". */
const char *law_name(enum law l);

/*
 * Whether sending to a recipient processing data in country dest is a transfer abroad under p:
 * 1 or 0; -1 when dest is unknown (NULL or "").
 */
int law_cross_border(const struct law_profile *p, const char *dest);

/* 1 when cc is in the European Economic Area (EU members, Iceland, Liechtenstein, Norway). */
int law_in_eea(const char *cc);

#endif
