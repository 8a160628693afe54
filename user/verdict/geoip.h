/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * `--geoip FILE.mmdb` (spec §7): the country of a destination no recipients.csv row names, from a
 * MaxMind DB file (GeoLite2/GeoIP2 Country or City, DB-IP and other files of that layout) read
 * through libmaxminddb, memory-mapped.
 */
#ifndef CS_GEOIP_H
#define CS_GEOIP_H

struct geoip;

/*
 * Open the MaxMind DB at path and check it holds countries (country.iso_code or
 * registered_country.iso_code in its first records). 0 and *out set; on error *out is NULL and
 * the reason is printed naming path: -ENOENT, -EACCES... when it cannot be opened, -EINVAL when
 * it is not a regular file, not a MaxMind DB or has no country data (all input errors, exit 2),
 * -ENOMEM.
 */
int geoip_open(struct geoip **out, const char *path);

/*
 * Country of addr: family AF_INET (4 bytes) or AF_INET6 (16 bytes), network byte order; an
 * IPv4-mapped IPv6 address is looked up as IPv4. Writes the code, upper case and NUL-terminated,
 * into cc and returns 1; 0 when the file has no network holding addr or no usable code for it.
 * country.iso_code is taken, else registered_country.iso_code (the country the network is
 * registered to, all some networks have); a value that is not two ASCII letters counts as
 * absent. The code is not checked against the ISO list (lib/iso3166.h): databases use XK for
 * Kosovo, a user-assigned code, and a destination there is still not in the jurisdiction.
 */
int geoip_country(const struct geoip *g, int family, const void *addr, char cc[3]);

void geoip_free(struct geoip *g);

#endif
