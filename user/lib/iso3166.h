/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ISO 3166-1 alpha-2 country codes: the 249 officially assigned ones (the list of Debian's
 * iso-codes and tzdata's iso3166.tab, which agree). User-assigned (XK, used by some GeoIP
 * databases for Kosovo), exceptionally reserved (UK, EU), transitionally reserved and deleted
 * codes are not in it.
 */
#ifndef CS_ISO3166_H
#define CS_ISO3166_H

/* Number of assigned codes in the table. */
#define ISO3166_NCODES 249

/*
 * 1 when cc is exactly two upper-case letters forming an assigned code, else 0 (NULL, another
 * length, lower case: "de" is refused so a file says what it means; callers may upper-case
 * first to be lenient and then print the code as ISO writes it).
 */
int iso3166_valid(const char *cc);

#endif
