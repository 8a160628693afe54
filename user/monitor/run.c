// SPDX-License-Identifier: GPL-2.0-only
/* `consentry run` and `consentry check`: load inputs, then monitor or validate. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sys/stat.h>

#include "cli.h"
#include "monitor/enforce.h"
#include "monitor/collector.h"
#include "verdict/consent.h"
#include "monitor/exechold.h"
#include "fpdb/fpfile.h"
#include "output/dedup.h"
#include "output/journal.h"
#include "fpdb/keyfile.h"
#include "monitor/loader.h"
#include "monitor/metrics.h"
#include "lib/log.h"
#include "output/outfile.h"
#include "output/sdjournal.h"
#include "monitor/procinfo.h"
#include "verdict/recipients.h"
#include "monitor/inputs.h"
#include "lib/util.h"
#include "lib/fields.h"
#include "lib/timeutil.h"

static const struct cli_word auto_off[] = {{"auto", 1}, {"off", 0}};
static const struct cli_word block_words[] = {
    {"unknown", CS_BLOCK_UNKNOWN}, {"unconsented", CS_BLOCK_UNCONSENTED}, {"off", CS_BLOCK_OFF}};
static const struct cli_word capture_words[] = {{"auto", CS_CAPTURE_AUTO},
						{"sockets", CS_CAPTURE_SOCKETS},
						{"tracepoints", CS_CAPTURE_TRACEPOINTS}};
static const struct cli_word hold_words[] = {
    {"on", CS_HOLD_ON}, {"all", CS_HOLD_ALL}, {"off", CS_HOLD_OFF}};
static const struct cli_word scan_in_words[] = {{"kernel", 0}, {"collector", 1}};
static const struct cli_word form_words[] = {
    {"auto", FPDB_AUTO}, {"compact", FPDB_COMPACT}, {"mapped", FPDB_MAPPED}};

static void run_usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: consentry run -f FINGERPRINTS -k KEYFILE -c consent.csv -R recipients.csv\n"
	    "                     [options]\n"
	    "Monitor outbound traffic until SIGINT/SIGTERM and report disclosures of enrolled\n"
	    "data to recipients without consent. SIGHUP reloads consent.csv and recipients.csv\n"
	    "(a file with an error is reported and the tables loaded before stay in use) and\n"
	    "reopens a moved findings file; a changed fingerprint or key file is not reloaded\n"
	    "(named and counted; restart to load it).\n\n" INPUTS_USAGE
	    "  -o, --output FILE        findings file (default stdout); appended, opened again\n"
	    "                           when moved or removed; the word journal: each finding\n"
	    "                           to the systemd journal with CONSENTRY_* fields (a file\n"
	    "                           named journal: -o ./journal)\n"
	    "      --format FMT         jsonl | ocsf | text (default jsonl; text on a TTY)\n"
	    "      --all                also report consented and exempt disclosures\n"
	    "      --include-loopback   also scan sends to loopback addresses\n"
	    "      --pid PID            only processes with this pid (repeatable)\n"
	    "      --cgroup PATH        only this cgroup v2 and its descendants (repeatable)\n"
	    "      --scan-limit BYTES   cap the bytes scanned per send (the rest is counted\n"
	    "                           uninspected); default 0: whole sends of any size\n"
	    "      --scan-all           tokenise every byte; by default runs of letters, digits\n"
	    "                           and punctuation too short to hold a strong value are\n"
	    "                           skipped (and tokenised after all in a send with a hit)\n"
	    "      --capture MODE       which hooks see plaintext sends: sockets (cgroup sockops\n"
	    "                           + sk_msg for TCP, cgroup_skb egress for UDP; nothing\n"
	    "                           runs for other syscalls), tracepoints (syscall entry;\n"
	    "                           every syscall of the host pays), auto (sockets, else\n"
	    "                           tracepoints where the socket hooks cannot load; default)\n"
	    "      --tls MODE           auto: also scan TLS plaintext of OpenSSL, GnuTLS, NSS and\n"
	    "                           Go crypto/tls (uprobes; default); off: syscalls only\n"
	    "      --tls-lib PATH       also probe this library or executable (repeatable)\n"
	    "      --exec-hold MODE     on: a process that runs an executable not examined yet\n"
	    "                           is stopped at exec until its TLS functions are probed,\n"
	    "                           at most %u ms, so its first TLS write is seen (default\n"
	    "                           with --tls auto); all: also jobs a shell started in a\n"
	    "                           terminal's foreground (the shell reports them as\n"
	    "                           stopped); off: never (--tls off implies it)\n"
	    "      --decode MODE        auto: sends holding base64, escapes or compressed bodies\n"
	    "                           go to the collector (in memory) to be decoded and\n"
	    "                           rescanned (default); off: payload bytes never leave the\n"
	    "                           kernel, such sends are counted as not decoded\n"
	    "      --scan-in WHERE      kernel: every send is tokenised in the kernel (default);\n"
	    "                           collector: the kernel copies every send's bytes to the\n"
	    "                           collector (in memory, wiped after), which tokenises them\n"
	    "                           on its own CPU with the same scanner, SIMD-assisted:\n"
	    "                           same findings; needs --decode auto\n"
	    "      --fp-memory FORM     how the collector holds the fingerprint DB: compact (in\n"
	    "                           memory, ~8 bytes a fingerprint), mapped (read in place\n"
	    "                           from the file's page cache; ~0.03 bytes resident a\n"
	    "                           fingerprint) or auto (mapped from %u fingerprints on;\n"
	    "                           default)\n"
	    "      --journal PATH       also write every finding, whatever its verdict, to the\n"
	    "                           SQLite journal PATH (created if missing; query it with\n"
	    "                           consentry findings / report)\n"
	    "      --metrics ADDR:PORT  serve Prometheus metrics at http://ADDR:PORT/metrics\n"
	    "                           (127.0.0.1:9464, [::1]:9464, :9464 for every address)\n"
	    "      --dedup SECONDS      merge repeats of a finding (same subject, recipient,\n"
	    "                           fields and verdict): the first is written at once, the\n"
	    "                           repeats of the next SECONDS (1-%u) as one finding with\n"
	    "                           count, first_time and last_time when they end\n"
	    "      --block MODE         enforce: the kernel refuses a send holding a registered\n"
	    "                           strong value to a destination no recipient matches\n"
	    "                           (unknown), or also to a third party without consent\n"
	    "                           now (unconsented); off: audit only (default). Needs\n"
	    "                           the socket hooks (not --capture tracepoints)\n"
	    "  -v, --verbose            debug logs (libbpf and verifier output)\n"
	    "  -h, --help               this text\n",
	    (unsigned)EXECHOLD_BOUND_MS, FPDB_MAP_AUTO, DEDUP_MAX_SECONDS);
}

enum {
	OPT_FORMAT = 256,
	OPT_ALL,
	OPT_LOOPBACK,
	OPT_PID,
	OPT_CGROUP,
	OPT_SCAN_LIMIT,
	OPT_TLS,
	OPT_TLS_LIB,
	OPT_DECODE,
	OPT_SCAN_ALL,
	OPT_FP_MEMORY,
	OPT_EXEC_HOLD,
	OPT_CAPTURE,
	OPT_SCAN_IN,
	OPT_JOURNAL,
	OPT_METRICS,
	OPT_DEDUP,
	OPT_BLOCK,
};

/* A size for the kernel's consent pairs: rows times a subject's mean fingerprints, capped. */
static __u32 enforce_pairs_hint(const struct inputs *in)
{
	__u64 per = in->db.nsubjects ? in->db.nentries / in->db.nsubjects + 1 : 1;
	__u64 n = (__u64)consent_count(in->consent) * per;

	return n > (1u << 24) ? 1u << 24 : (__u32)n;
}

/* run --block: the kernel's tables filled and the lease taken. 0 or -errno (printed). */
static int block_start(struct collector *col, struct bpf_loader *ld, const struct inputs *in,
		       int mode)
{
	struct enforce_maps m;
	struct enforce_cfg cfg = {
	    .mode = mode, .db = &in->db, .law = &in->law, .b1 = ld->host_b1, .b2 = ld->host_b2};
	int err;

	loader_enforce_maps(ld, &m);
	err = enforce_start(&col->enf, &m, &cfg, in->rcpts, in->consent, clock_ns(CLOCK_REALTIME));
	if (err)
		return err;
	enforce_tick(col->enf, clock_ns(CLOCK_REALTIME), (__u64)clock_ns(CLOCK_MONOTONIC));
	return 0;
}

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
	    INPUTS_LONGOPTS,
	    {"output", required_argument, NULL, 'o'},
	    {"format", required_argument, NULL, OPT_FORMAT},
	    {"all", no_argument, NULL, OPT_ALL},
	    {"include-loopback", no_argument, NULL, OPT_LOOPBACK},
	    {"pid", required_argument, NULL, OPT_PID},
	    {"cgroup", required_argument, NULL, OPT_CGROUP},
	    {"scan-limit", required_argument, NULL, OPT_SCAN_LIMIT},
	    {"tls", required_argument, NULL, OPT_TLS},
	    {"tls-lib", required_argument, NULL, OPT_TLS_LIB},
	    {"decode", required_argument, NULL, OPT_DECODE},
	    {"scan-all", no_argument, NULL, OPT_SCAN_ALL},
	    {"fp-memory", required_argument, NULL, OPT_FP_MEMORY},
	    {"exec-hold", required_argument, NULL, OPT_EXEC_HOLD},
	    {"capture", required_argument, NULL, OPT_CAPTURE},
	    {"scan-in", required_argument, NULL, OPT_SCAN_IN},
	    {"journal", required_argument, NULL, OPT_JOURNAL},
	    {"metrics", required_argument, NULL, OPT_METRICS},
	    {"dedup", required_argument, NULL, OPT_DEDUP},
	    {"block", required_argument, NULL, OPT_BLOCK},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct inputs in = {0};
	struct bpf_loader ld = {0};
	struct loader_opts lo = {
	    .scan_limit = CS_SCAN_LIMIT_DEFAULT, .tls = 1, .decode = 1, .exec_hold = CS_HOLD_ON};
	__u32 hold_ms = EXECHOLD_BOUND_MS;
	const char *env;
	const char *tls_libs[CS_SCOPE_MAX];
	struct collector col = {0};
	__u32 pids[CS_SCOPE_MAX];
	__u64 cgroups[CS_SCOPE_MAX];
	const char *out_path = NULL, *fmt = NULL, *journal_path = NULL, *metrics_addr = NULL;
	unsigned npids = 0, ncg = 0;
	int opt, err, rc = 0, level, no_kill;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "f:k:c:R:o:vh", opts, NULL)) != -1) {
		if (inputs_opt(&in, opt))
			continue;
		switch (opt) {
		case 'o':
			out_path = optarg;
			break;
		case OPT_JOURNAL:
			journal_path = optarg;
			break;
		case OPT_METRICS:
			metrics_addr = optarg;
			break;
		case OPT_DEDUP:
			if (parse_u32("--dedup", optarg, 1, DEDUP_MAX_SECONDS, &col.dedup_s))
				return 2;
			break;
		case OPT_FORMAT:
			fmt = optarg;
			break;
		case OPT_ALL:
			col.report_all = 1;
			break;
		case OPT_LOOPBACK:
			lo.include_loopback = 1;
			break;
		case OPT_PID:
			if (npids == CS_SCOPE_MAX) {
				pr_err("--pid: at most %d pids", CS_SCOPE_MAX);
				return 2;
			}
			if (parse_u32("--pid", optarg, 1, INT_MAX, &pids[npids]))
				return 2;
			npids++;
			break;
		case OPT_CGROUP:
			if (ncg == CS_SCOPE_MAX) {
				pr_err("--cgroup: at most %d cgroups", CS_SCOPE_MAX);
				return 2;
			}
			if (cgroup_id_of(optarg, &cgroups[ncg], &level)) {
				pr_err("--cgroup: '%s' is not a cgroup v2 directory", optarg);
				return 2;
			}
			if (level >= CS_MAX_CGROUP_LEVEL) {
				pr_err("--cgroup: '%s' is %d levels deep, at most %d are supported",
				       optarg, level, CS_MAX_CGROUP_LEVEL - 1);
				return 2;
			}
			ncg++;
			break;
		case OPT_DECODE:
			if (PARSE_WORD("--decode", optarg, auto_off, &lo.decode))
				return 2;
			break;
		case OPT_BLOCK:
			if (PARSE_WORD("--block", optarg, block_words, &lo.block))
				return 2;
			break;
		case OPT_CAPTURE:
			if (PARSE_WORD("--capture", optarg, capture_words, &lo.capture))
				return 2;
			break;
		case OPT_TLS:
			if (PARSE_WORD("--tls", optarg, auto_off, &lo.tls))
				return 2;
			break;
		case OPT_EXEC_HOLD:
			if (PARSE_WORD("--exec-hold", optarg, hold_words, &lo.exec_hold))
				return 2;
			break;
		case OPT_TLS_LIB:
			if (lo.ntls_libs == CS_SCOPE_MAX) {
				pr_err("--tls-lib: at most %d paths", CS_SCOPE_MAX);
				return 2;
			}
			{
				/* a regular file we can read: a FIFO would hang the scan */
				struct stat st;
				int fd = input_open(optarg, &st);

				if (fd < 0) {
					input_open_err(optarg, "--tls-lib", fd);
					return 2;
				}
				close(fd);
			}
			tls_libs[lo.ntls_libs++] = optarg;
			break;
		case OPT_SCAN_LIMIT:
			if (parse_u32("--scan-limit", optarg, 0, CS_SCAN_LIMIT_MAX, &lo.scan_limit))
				return 2;
			break;
		case OPT_SCAN_ALL:
			lo.scan_all = 1;
			break;
		case OPT_SCAN_IN:
			if (PARSE_WORD("--scan-in", optarg, scan_in_words, &lo.scan_collector))
				return 2;
			break;
		case OPT_FP_MEMORY: {
			int form;

			if (PARSE_WORD("--fp-memory", optarg, form_words, &form))
				return 2;
			in.form = (enum fpdb_form)form;
			break;
		}
		case 'v':
			log_set_level(LOG_DEBUG);
			break;
		case 'h':
			run_usage(stdout);
			return 0;
		default:
			run_usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		pr_err("unexpected argument '%s'", argv[optind]);
		return 2;
	}
	/* the collector can only scan bytes the kernel hands over */
	if (lo.scan_collector && !lo.decode) {
		pr_err("--scan-in collector: the collector scans the bytes of every send, which "
		       "--decode off keeps in the kernel; use --scan-in kernel with --decode off");
		return 2;
	}
	/* the kernel refuses a send in the socket hooks, before its bytes leave */
	if (lo.block && lo.capture == CS_CAPTURE_TRACEPOINTS) {
		pr_err("--block: the syscall tracepoints only watch a send, they cannot refuse it; "
		       "use --capture sockets (or auto)");
		return 2;
	}
	if (lo.block && lo.scan_collector) {
		pr_err("--block: with --scan-in collector the kernel tokenises nothing and cannot "
		       "decide; use --scan-in kernel");
		return 2;
	}
	/* test only: the kubelet's pod log directories elsewhere than /var/log/pods */
	col.pods_dir = getenv("CONSENTRY_PODS_DIR");
	/* test only: another bound for the exec hold (the tests hold a process for seconds) */
	env = getenv("CONSENTRY_EXEC_HOLD_MS");
	if (env && parse_u32("CONSENTRY_EXEC_HOLD_MS", env, 100, 60000, &hold_ms))
		return 2;
	/* test only: a small ring buffer fills (tests/e2e/fault_ring_full.sh); a power of 2 */
	env = getenv("CONSENTRY_RINGBUF_BYTES");
	if (env) {
		if (parse_u32("CONSENTRY_RINGBUF_BYTES", env, 1u << 14, 1u << 30,
			      &lo.ringbuf_bytes))
			return 2;
		if (lo.ringbuf_bytes & (lo.ringbuf_bytes - 1)) {
			pr_err("CONSENTRY_RINGBUF_BYTES: expected a power of 2, got %u",
			       lo.ringbuf_bytes);
			return 2;
		}
	}
	col.out.fmt = isatty(STDOUT_FILENO) && !out_path ? FMT_TEXT : FMT_JSONL;
	if (fmt && output_format_parse(fmt, &col.out.fmt)) {
		pr_err("--format: expected jsonl, ocsf or text, got '%s'", fmt);
		return 2;
	}
	/* the literal word: a file of that name is -o ./journal */
	if (out_path && !strcmp(out_path, SDJOURNAL_OUTPUT)) {
		if (col.out.fmt != FMT_JSONL) {
			pr_err("--format %s: -o journal writes entries with fields, the jsonl line "
			       "in CONSENTRY_JSON; for a file named journal use -o ./journal",
			       fmt ? fmt : "text");
			return 2;
		}
	}

	/*
	 * The exec hold's watchdog is forked now, before the fingerprint DB is loaded: a child
	 * keeps the memory it was forked with, and this one outlives us if we die.
	 */
	if (!lo.tls)
		lo.exec_hold = CS_HOLD_OFF;
	/* a process of another user that the probe stopped could not be continued */
	/*
	 * The key, and the sends the collector decodes, are in this process's memory: no core
	 * dump of it, and no ptrace by processes of the same uid without CAP_SYS_PTRACE.
	 */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0))
		pr_warn("prctl(PR_SET_DUMPABLE, 0): %s", strerror(errno));
	no_kill = lo.exec_hold != CS_HOLD_OFF && !exechold_can_continue();
	if (no_kill)
		lo.exec_hold = CS_HOLD_OFF;
	if (lo.exec_hold != CS_HOLD_OFF) {
		col.eh = exechold_new(hold_ms);
		if (!col.eh) {
			pr_warn("exec hold: cannot start its watchdog: %s; new executables are not "
				"held",
				strerror(errno));
			lo.exec_hold = CS_HOLD_OFF;
		}
	}
	/* before loading: a SIGHUP then tells whether either file changed since (collector.h) */
	if (in.fp_path)
		stat(in.fp_path, &col.fp_st);
	if (in.key_path)
		stat(in.key_path, &col.key_st);
	err = inputs_load(&in);
	if (err) {
		rc = inputs_exit_code(err);
		goto out;
	}
	err = loader_preflight(&ld);
	if (err) {
		rc = 1;
		goto out;
	}
	if (no_kill)
		pr_warn("exec hold: without CAP_KILL the processes it stops could not be "
			"continued; new executables are not held");
	if (out_path && !strcmp(out_path, SDJOURNAL_OUTPUT)) {
		/* -o journal: no findings file, out.f stays NULL (sdjournal.h) */
		col.out.sdj = sdjournal_new();
		if (!col.out.sdj) {
			pr_err("-o journal: %s", strerror(errno));
			rc = 1;
			goto out;
		}
	} else if ((col.of = outfile_open(out_path))) {
		col.out.f = outfile_stream(col.of);
	} else {
		pr_err("cannot open %s: %s", out_path ? out_path : "stdout", strerror(errno));
		rc = 2;
		goto out;
	}
	if (journal_path && journal_open(&col.journal, journal_path)) {
		rc = 2;
		goto out;
	}
	if (metrics_addr && metrics_start(&col.metrics, metrics_addr, &col)) {
		rc = 2;
		goto out;
	}
	col.pi = procinfo_new();
	if (!col.pi) {
		rc = 1;
		goto out;
	}
	lo.key = &in.key;
	lo.tls_libs = tls_libs;
	lo.db = &in.db;
	lo.pids = pids;
	lo.npids = npids;
	lo.cgroups = cgroups;
	lo.ncgroups = ncg;
	if (lo.block) {
		/* fingerprints bound the strong ones; the pair table grows on demand */
		lo.block_fps = in.db.nentries;
		lo.block_pairs = enforce_pairs_hint(&in);
	}
	err = loader_start(&ld, &lo);
	if (err) {
		rc = 1;
		goto out;
	}
	if (lo.block && block_start(&col, &ld, &in, lo.block)) {
		rc = 1;
		goto out;
	}
	if (col.eh) {
		int held, holds, lease;

		loader_exec_hold_fds(&ld, &held, &holds, &lease);
		err = exechold_attach(col.eh, held, holds, lease);
		if (err)
			pr_warn(
			    "exec hold: cannot hand the held processes to the watchdog: %s; new "
			    "executables are not held",
			    strerror(-err));
	}
	col.loader = &ld;
	col.scan_collector = lo.scan_collector;
	col.corr.db = &in.db;
	col.key = &in.key;
	col.corr.rcpts = in.rcpts;
	col.corr.consent = in.consent;
	col.corr.geoip = in.geoip;
	col.corr.law = in.law;
	col.consent_path = in.consent_path;
	col.fp_path = in.fp_path;
	col.key_path = in.key_path;
	col.rcpt_path = in.rcpt_path;
	col.consent = &in.consent;
	col.pg = in.pg;
	col.rcpts = &in.rcpts;
	err = collector_run(&col);
	rc = err ? 1 : 0;
out:
	/* the lease withdrawn first: nothing stays refused by tables nobody keeps */
	enforce_stop(col.enf);
	loader_release(&ld);
	/* after the probes are gone: continues any process held meanwhile, ends the watchdog */
	exechold_free(col.eh);
	procinfo_free(col.pi);
	outfile_close(col.of);
	sdjournal_free(col.out.sdj);
	metrics_stop(col.metrics);
	journal_close(col.journal);
	inputs_release(&in);
	return rc;
}

/* Which rules of spec §7 the consent file can express, and under which law profile. */
static void check_rules(const struct inputs *in)
{
	static const struct {
		__u32 bit;
		const char *col, *rule;
	} r[] = {
	    {CR_SEPARATE, "separate", "separate consent for sensitive fields"},
	    {CR_GUARDIAN, "guardian", "a guardian's consent for minors"},
	    {CR_CROSS_BORDER, "cross_border", "consent to transfers abroad"},
	};
	__u32 rules = consent_rules(in->consent);
	char fields[160];

	printf("law: %s, jurisdiction %s, minors under %d; sensitive fields: %s\n",
	       law_name(in->law.law), in->law.jurisdiction, in->law.minor_age,
	       in->db.sensitive ? fields_join(in->db.sensitive, ",", fields, sizeof(fields))
				: "none");
	for (unsigned i = 0; i < sizeof(r) / sizeof(r[0]); i++)
		if (!(rules & r[i].bit))
			printf("note: %s has no %s column: %s is not checked\n", in->consent_path,
			       r[i].col, r[i].rule);
}

static void check_usage(FILE *f)
{
	fprintf(f, "usage: consentry check -f FINGERPRINTS -k KEYFILE -c consent.csv -R "
		   "recipients.csv\n"
		   "                      [--geoip FILE.mmdb]\n"
		   "Validate the input files and the fingerprint/key pair; exit 0 when all are "
		   "valid, 2 otherwise.\n");
}

int cmd_check(int argc, char **argv)
{
	static const struct option opts[] = {
	    INPUTS_LONGOPTS,
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct inputs in = {0};
	unsigned long dead;
	int opt, err;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "f:k:c:R:vh", opts, NULL)) != -1) {
		if (inputs_opt(&in, opt))
			continue;
		switch (opt) {
		case 'v':
			log_set_level(LOG_DEBUG);
			break;
		case 'h':
			check_usage(stdout);
			return 0;
		default:
			check_usage(stderr);
			return 2;
		}
	}
	err = inputs_load(&in);
	if (err) {
		inputs_release(&in);
		return inputs_exit_code(err);
	}
	check_rules(&in);
	/* loaded, but rows that can never cover a disclosure are what check is for */
	dead = consent_dead(in.consent);
	if (dead)
		fprintf(stderr,
			"consentry: check: %lu consent rows can never cover a disclosure (named "
			"above with file:line)\n",
			dead);
	else
		printf("ok: %u subjects, %u fingerprints, %lu consent rows\n", in.db.nsubjects,
		       in.db.nentries, consent_count(in.consent));
	inputs_release(&in);
	return dead ? 2 : 0;
}
