/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The input files `run`, `check` and `scan-pcap` take: -f FINGERPRINTS -k KEYFILE -c consent.csv
 * -R recipients.csv, loaded in that order (the key first: it checks the fingerprint file).
 */
#ifndef CS_INPUTS_H
#define CS_INPUTS_H

#include "cs_abi.h"
#include "fpdb/fpfile.h"

struct recipients;
struct consent_db;
struct consent_pg;

struct inputs {
	const char *fp_path, *key_path, *consent_path, *rcpt_path;
	struct cs_key key;
	struct fpdb db;
	struct recipients *rcpts;
	struct consent_db *consent;
	struct consent_pg *pg; /* -c postgresql://...: the connection (consent_pg.h); or NULL */
	enum fpdb_form form;   /* --fp-memory */
};

/* getopt_long entries of -f -k -c -R (inputs_opt takes them) */
/* clang-format off */
#define INPUTS_LONGOPTS                                                                            \
	{"fingerprints", required_argument, NULL, 'f'},                                            \
	{"key", required_argument, NULL, 'k'},                                                     \
	{"consent", required_argument, NULL, 'c'},                                                 \
	{"recipients", required_argument, NULL, 'R'}
/* clang-format on */
/* and their help lines */
#define INPUTS_USAGE                                                                               \
	"  -f, --fingerprints FILE  fingerprint file from `consentry enroll`\n"                    \
	"  -k, --key FILE           key file used by enroll (mode 0600)\n"                         \
	"  -c, --consent FILE|URL   consent.csv, or postgresql://... (a table, ?table=NAME)\n"     \
	"  -R, --recipients FILE    recipients.csv\n"

/*
 * All four, or the first error (printed, as file:line where it has one). 0 or -errno. A -c URL
 * is connected to (in->pg) and its table read.
 */
int inputs_load(struct inputs *in);
/* getopt's opt (optarg) when it is one of -f -k -c -R: 1, else 0. */
int inputs_opt(struct inputs *in, int opt);
void inputs_release(struct inputs *in);
/* Exit code for a load error: input problems are 2, anything else 1. */
int inputs_exit_code(int err);

#endif
