/* SPDX-License-Identifier: GPL-2.0-only */
/* Subcommands of the consentry binary; each returns the process exit code. */
#ifndef CS_CLI_H
#define CS_CLI_H

#include <linux/types.h>

int cmd_enroll(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_findings(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_scan_pcap(int argc, char **argv);

/* Range-checked number option; prints "OPT: expected ..." and returns -EINVAL. */
int parse_u32(const char *opt, const char *s, __u32 lo, __u32 hi, __u32 *out);

#endif
