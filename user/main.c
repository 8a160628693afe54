// SPDX-License-Identifier: GPL-2.0-only
/* consentry: one binary, subcommands. Exit 0 ok, 1 runtime failure, 2 usage or input error. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: consentry <command> [options]\n\n"
		   "commands:\n"
		   "  enroll   build the fingerprint file from registrations.csv\n"
		   "  run      monitor outbound traffic and report unconsented disclosures\n"
		   "  check    validate fingerprints, key, consent.csv and recipients.csv\n"
		   "  findings query the findings journal (run --journal)\n"
		   "  report   breach-notification report from the journal: CSV and HTML\n"
		   "  scan-pcap scan a pcap/pcapng capture as the monitor scans live traffic\n"
		   "  bench    overhead and capacity benchmark, monitor off vs on (root; runs\n"
		   "           scripts/bench/bench of the source tree, or $CONSENTRY_BENCH)\n\n"
		   "`consentry <command> --help` shows the options of a command.\n");
}

/*
 * The benchmark is a script (iperf3, wrk, Go helpers, gnuplot), not code in this binary: run the
 * one named by CONSENTRY_BENCH, else the one of the source tree this binary was built in
 * (<tree>/.output/consentry -> <tree>/scripts/bench/bench). The script benchmarks this binary
 * (CONSENTRY) unless told otherwise.
 */
static int cmd_bench(char **argv)
{
	static const char *const rel[] = {"/scripts/bench/bench", "/../scripts/bench/bench"};
	const char *env = getenv("CONSENTRY_BENCH");
	char exe[PATH_MAX], path[PATH_MAX + 32] = "";
	ssize_t n;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0) {
		fprintf(stderr, "consentry: bench: /proc/self/exe: %s\n", strerror(errno));
		return 1;
	}
	exe[n] = 0;
	if (env && *env) {
		snprintf(path, sizeof(path), "%s", env);
	} else {
		char dir[PATH_MAX], *slash;

		snprintf(dir, sizeof(dir), "%s", exe);
		slash = strrchr(dir, '/');
		if (slash)
			*slash = 0;
		for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
			snprintf(path, sizeof(path), "%s%s", dir, rel[i]);
			if (!access(path, X_OK))
				break;
		}
	}
	if (access(path, X_OK)) {
		fprintf(stderr,
			"consentry: bench: no benchmark script at %s: %s\n"
			"consentry: bench: it lives in the source tree (scripts/bench); "
			"set CONSENTRY_BENCH=path/to/scripts/bench/bench\n",
			path, strerror(errno));
		return 1;
	}
	setenv("CONSENTRY", exe, 0);
	argv[0] = path;
	execv(path, argv);
	fprintf(stderr, "consentry: bench: cannot run %s: %s\n", path, strerror(errno));
	return 1;
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
	if (!strcmp(argv[1], "findings"))
		return cmd_findings(argc - 1, argv + 1);
	if (!strcmp(argv[1], "report"))
		return cmd_report(argc - 1, argv + 1);
	if (!strcmp(argv[1], "scan-pcap"))
		return cmd_scan_pcap(argc - 1, argv + 1);
	if (!strcmp(argv[1], "bench"))
		return cmd_bench(argv + 1);
	fprintf(stderr, "consentry: error: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
