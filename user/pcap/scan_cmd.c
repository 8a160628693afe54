// SPDX-License-Identifier: GPL-2.0-only
/* `consentry scan-pcap`: the options, the inputs, one capture through pcapscan.h. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "lib/log.h"
#include "monitor/inputs.h"
#include "output/outfile.h"
#include "output/output.h"
#include "pcap/pcapscan.h"

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: consentry scan-pcap -f FINGERPRINTS -k KEYFILE -c consent.csv -R "
	    "recipients.csv\n"
	    "                           [options] CAPTURE\n"
	    "Scan a pcap or pcapng capture taken elsewhere (tcpdump -w, Wireshark) as the live\n"
	    "monitor scans a host's sends: the same scanner, decoders, HTTP/2, recipients (Host,\n"
	    "TLS SNI and DNS answers found in the capture) and consent. TCP streams are\n"
	    "reassembled; each connection's initiator-to-responder bytes and UDP datagrams other\n"
	    "than responses are scanned. Findings have channel \"pcap\", the packet's time and\n"
	    "no process; a summary of what was and was not inspected goes to stderr.\n\n"
	    "  -f, --fingerprints FILE  fingerprint file from `consentry enroll`\n"
	    "  -k, --key FILE           key file used by enroll (mode 0600)\n"
	    "  -c, --consent FILE       consent.csv\n"
	    "  -R, --recipients FILE    recipients.csv\n" INPUTS_GEOIP_USAGE
	    "  -o, --output FILE        findings file (default stdout); appended\n"
	    "      --format FMT         jsonl | ocsf | text (default jsonl; text on a TTY)\n"
	    "      --all                also report consented and exempt disclosures\n"
	    "      --scan-all           tokenise every byte (see run --scan-all)\n"
	    "  -v, --verbose            debug logs\n"
	    "  -h, --help               this text\n"
	    "Exit status: 0 ok, 1 runtime failure, 2 usage or input error (a file that is not\n"
	    "a capture, a truncated capture, a link type not handled).\n");
}

enum {
	OPT_FORMAT = 256,
	OPT_ALL,
	OPT_SCAN_ALL,
};

int cmd_scan_pcap(int argc, char **argv)
{
	static const struct option opts[] = {
	    INPUTS_LONGOPTS,
	    {"output", required_argument, NULL, 'o'},
	    {"format", required_argument, NULL, OPT_FORMAT},
	    {"all", no_argument, NULL, OPT_ALL},
	    {"scan-all", no_argument, NULL, OPT_SCAN_ALL},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct inputs in = {0};
	struct pcapscan_cfg cfg = {0};
	struct output out = {0};
	struct outfile *of = NULL;
	const char *out_path = NULL, *fmt = NULL, *capture;
	int opt, err, rc;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "f:k:c:R:o:vh", opts, NULL)) != -1) {
		if (inputs_opt(&in, opt))
			continue;
		switch (opt) {
		case 'o':
			out_path = optarg;
			break;
		case OPT_FORMAT:
			fmt = optarg;
			break;
		case OPT_ALL:
			cfg.report_all = 1;
			break;
		case OPT_SCAN_ALL:
			cfg.scan_all = 1;
			break;
		case 'v':
			log_set_level(LOG_DEBUG);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		pr_err(optind < argc ? "scan-pcap: one CAPTURE file, got %d arguments"
				     : "scan-pcap: the CAPTURE file is missing (%d arguments)",
		       argc - optind);
		usage(stderr);
		return 2;
	}
	capture = argv[optind];
	out.fmt = isatty(STDOUT_FILENO) && !out_path ? FMT_TEXT : FMT_JSONL;
	if (fmt && output_format_parse(fmt, &out.fmt)) {
		pr_err("--format: expected jsonl, ocsf or text, got '%s'", fmt);
		return 2;
	}
	err = inputs_load(&in);
	if (err) {
		rc = inputs_exit_code(err);
		goto out;
	}
	of = outfile_open(out_path);
	if (!of) {
		pr_err("cannot open %s: %s", out_path ? out_path : "stdout", strerror(errno));
		rc = 2;
		goto out;
	}
	out.f = outfile_stream(of);
	cfg.key = &in.key;
	cfg.db = &in.db;
	cfg.rcpts = in.rcpts;
	cfg.consent = in.consent;
	cfg.geoip = in.geoip;
	cfg.law = &in.law;
	cfg.out = &out;
	err = pcapscan_file(&cfg, capture);
	rc = !err ? 0 : err == -EINVAL ? 2 : 1;
out:
	outfile_close(of);
	inputs_release(&in);
	return rc;
}
