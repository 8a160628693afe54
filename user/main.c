// SPDX-License-Identifier: GPL-2.0-only
/* consentry: one binary, subcommands. Exit 0 ok, 1 runtime failure, 2 usage or input error. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: consentry <command> [options]\n\n"
		   "commands:\n"
		   "  enroll   build the fingerprint file from registrations.csv\n"
		   "  run      monitor outbound traffic and report unconsented disclosures\n"
		   "  check    validate fingerprints, key, consent.csv and recipients.csv\n\n"
		   "`consentry <command> --help` shows the options of a command.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "enroll"))
		return cmd_enroll(argc - 1, argv + 1);
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(argv[1], "check"))
		return cmd_check(argc - 1, argv + 1);
	fprintf(stderr, "consentry: error: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
