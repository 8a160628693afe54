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

/* One word of an enumerated option and the value it stands for. */
struct cli_word {
	const char *name;
	int value;
};

/*
 * *out = the value of word s among words[0..n); else prints "OPT: expected a, b or c, got 's'"
 * and returns -EINVAL. PARSE_WORD takes the count from an array.
 */
int parse_word(const char *opt, const char *s, const struct cli_word *words, unsigned n, int *out);
#define PARSE_WORD(opt, s, words, out)                                                             \
	parse_word(opt, s, words, sizeof(words) / sizeof((words)[0]), out)

#endif
