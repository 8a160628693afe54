/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The input files `run`, `check` and `scan-pcap` take: -f FINGERPRINTS -k KEYFILE -c consent.csv
 * -R recipients.csv, loaded in that order (the key first: it checks the fingerprint file), then the
 * optional --geoip FILE.mmdb.
 */
#ifndef CS_INPUTS_H
#define CS_INPUTS_H

#include "cs_abi.h"
#include "fpdb/fpfile.h"
#include "verdict/law.h"

struct recipients;
struct consent_db;
struct geoip;
struct consent_pg;

struct inputs {
	const char *fp_path, *key_path, *consent_path, *rcpt_path;
	const char *geoip_path; /* --geoip, may be NULL */
	struct cs_key key;
	struct fpdb db;
	struct recipients *rcpts;
	struct consent_db *consent;
	struct geoip *geoip;		     /* NULL without --geoip */
	struct consent_pg *pg;		     /* -c postgresql://...: the connection, or NULL */
	enum fpdb_form form;		     /* --fp-memory */
	const char *law_name, *jurisdiction; /* --law, --jurisdiction (NULL: defaults) */
	struct law_profile law;		     /* made of them by inputs_load */
};

/* getopt values of the long-only options inputs_opt takes: above the commands' own
 * long-option values (256...) */
enum { INPUTS_OPT_GEOIP = 0x1000, INPUTS_OPT_LAW, INPUTS_OPT_JURISDICTION };

/* getopt_long entries of -f -k -c -R --geoip --law --jurisdiction (inputs_opt takes them) */
/* clang-format off */
#define INPUTS_LONGOPTS                                                                            \
	{"fingerprints", required_argument, NULL, 'f'},                                            \
	{"key", required_argument, NULL, 'k'},                                                     \
	{"consent", required_argument, NULL, 'c'},                                                 \
	{"recipients", required_argument, NULL, 'R'},                                              \
	{"geoip", required_argument, NULL, INPUTS_OPT_GEOIP},                                      \
	{"law", required_argument, NULL, INPUTS_OPT_LAW},                                          \
	{"jurisdiction", required_argument, NULL, INPUTS_OPT_JURISDICTION}
/* clang-format on */
/* and their help lines */
#define INPUTS_USAGE                                                                               \
	"  -f, --fingerprints FILE  fingerprint file from `consentry enroll`\n"                    \
	"  -k, --key FILE           key file used by enroll (mode 0600)\n"                         \
	"  -c, --consent FILE|URL   consent.csv, or postgresql://... (a table, ?table=NAME)\n"     \
	"  -R, --recipients FILE    recipients.csv\n" INPUTS_GEOIP_USAGE INPUTS_LAW_USAGE
/* --geoip's help lines alone */
#define INPUTS_GEOIP_USAGE                                                                         \
	"      --geoip FILE.mmdb    MaxMind DB (GeoLite2/GeoIP2 Country or City): the country\n"   \
	"                           of destinations no recipients.csv row names\n"
/* --law and --jurisdiction */
#define INPUTS_LAW_USAGE                                                                           \
	"      --law LAW            pipl (default): minors under 14, abroad = outside the\n"       \
	"                           jurisdiction; gdpr: children under 16, abroad = outside\n"     \
	"                           the EEA and its adequacy decisions (docs/law.md)\n"            \
	"      --jurisdiction CC    ISO 3166-1 country of the controller (default CN; with\n"      \
	"                           --law gdpr an EEA member, default DE)\n"

/*
 * The law profile, then all inputs, or the first error (printed, as file:line where it has one).
 * 0 or -errno. A -c URL is connected to (in->pg) and its table read.
 */
int inputs_load(struct inputs *in);
/* getopt's opt (optarg) when it is one of -f -k -c -R --geoip: 1, else 0. */
int inputs_opt(struct inputs *in, int opt);
void inputs_release(struct inputs *in);
/* Exit code for a load error: input problems are 2, anything else 1. */
int inputs_exit_code(int err);

#endif
