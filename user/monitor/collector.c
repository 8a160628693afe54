// SPDX-License-Identifier: GPL-2.0-only
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "monitor/collector.h"
#include "monitor/summary.h"
#include "monitor/enforce.h"
#include "verdict/consent.h"
#include "verdict/consent_pg.h"
#include "decode/cscan.h"
#include "decode/deep.h"
#include "monitor/exechold.h"
#include "fpdb/fpfile.h"
#include "http/h2flow.h"
#include "output/dedup.h"
#include "output/journal.h"
#include "monitor/metrics.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "monitor/procinfo.h"
#include "monitor/dns.h"
#include "output/outfile.h"
#include "output/sdjournal.h"
#include "monitor/tls.h"

/* The findings file's buffered lines out (-o journal: sent as they come, no file). */
static void flush_findings(struct collector *c)
{
	if (c->out.f)
		fflush(c->out.f);
}

/* Records handled per ring_buffer__consume() call before the loop looks at its other fds. */
#define RB_BATCH 4096

/*
 * A finding to the writers: every verdict to the journal, unconsented ones (all with --all) to
 * the findings file. Findings reach them here only, from on_finding or, merged, from the dedup
 * table (dedup.h).
 */
static int emit_finding(const struct cs_event *ev, const struct finding *f, const char *host,
			__s64 t_ns, const struct proc_view *pv, void *ctx)
{
	struct collector *c = ctx;

	/* the journal keeps every finding, whatever the verdict and --all */
	journal_add(c->journal, ev, f, host, t_ns, pv);
	if (f->verdict != V_UNCONSENTED && !c->report_all)
		return 0;
	c->corr.stats.reported++;
	return output_write(&c->out, ev, f, host, t_ns, pv);
}

static int on_finding(const struct cs_event *ev, const struct finding *f, const char *host,
		      __s64 t_ns, void *ctx)
{
	struct collector *c = ctx;
	struct proc_view pv = {0};
	struct finding first;
	char cid[80];
	int r;

	if (f->verdict <= V_EXEMPT)
		c->found[f->verdict][f->rcpt ? f->rcpt->kind : RK_UNKNOWN]++;
	c->blocked += finding_blocked(f);
	if (f->verdict != V_UNCONSENTED && !c->report_all && !c->journal)
		return 0;
	pv.exe = procinfo_exe(c->pi, ev->pid, ev->tid, (const char *)ev->comm);
	pv.cgroup = procinfo_cgroup(c->pi, ev->cgroup_id);
	pv.container_id = procinfo_container_id(pv.cgroup, cid, sizeof(cid));
	pv.pod = procinfo_cgroup_pod(c->pi, ev->cgroup_id, c->pods_dir ? c->pods_dir : PODS_DIR);
	if (!c->dedup)
		return emit_finding(ev, f, host, t_ns, &pv, c);
	/* --dedup: a repeat waits for its window's end; the first of a key goes out now */
	r = dedup_add(c->dedup, ev, f, host, t_ns, &pv);
	if (r <= 0)
		return r;
	first = *f;
	first.count = 1;
	first.first_ns = first.last_ns = t_ns;
	return emit_finding(ev, &first, host, t_ns, &pv, c);
}

int collector_handle(struct collector *c, const void *data, size_t len)
{
	const struct cs_event *ev = data;
	int err;

	if (len < sizeof(*ev)) {
		pr_warn("short ring buffer record (%zu bytes), ignored", len);
		return 0;
	}
	/* the send's cs_hits and cs_deep records came before it in the same ring (deep.h) */
	deep_complete(c->deep, ev, &c->msg);
	err =
	    correlate_message(&c->corr, &c->msg, (__s64)ev->ts_ns + c->mono_to_real, on_finding, c);
	if (err < 0) {
		c->err = err;
		return err;
	}
	return 0;
}

/*
 * An event. A flood of events keeps ring_buffer__consume() busy for as long as it lasts: after
 * RB_BATCH records stop it (a negative return, the record is consumed) so the loop sees signals.
 */
static int rb_cb(void *ctx, void *data, size_t len)
{
	struct collector *c = ctx;
	int err = 0;

	/* a send's bytes to decode (cs_deep), a batch of its hits (cs_hits) or its event: told
	 * apart by size */
	if (len == sizeof(struct cs_deep))
		deep_add(c->deep, data, len);
	else if (len == sizeof(struct cs_hits))
		deep_add_hits(c->deep, data, len);
	else
		err = collector_handle(c, data, len);

	if (err < 0)
		return err;
	return ++c->batch >= RB_BATCH ? -EAGAIN : 0;
}

/* run --block: an address a DNS answer gave for a recipient's host goes to the kernel. */
static void enforce_learn(void *arg, int family, const void *addr, const char *name, __u32 ttl)
{
	struct collector *c = arg;

	enforce_dns(c->enf, family, addr, name, ttl, (__u64)clock_ns(CLOCK_MONOTONIC));
}

/* A DNS answer: learn address -> name (CLOCK_MONOTONIC, like the events' timestamps). */
static int dns_cb(void *ctx, void *data, size_t len)
{
	struct collector *c = ctx;
	const struct cs_dns *d = data;

	if (len >= sizeof(*d) && d->len <= CS_DNS_MAX)
		dns_cache_add_message(c->dns, d->data, d->len,
				      (__u64)clock_ns(CLOCK_MONOTONIC) / 1000000000ULL);
	return 0;
}

/*
 * A process exec'd a file the exec probe did not know: probe it for TLS functions (once per
 * file), then continue the process if the probe held it.
 */
static int exec_cb(void *ctx, void *data, size_t len)
{
	struct collector *c = ctx;
	const struct cs_exec *n = data;
	__s64 t0, t1;

	if (len < sizeof(*n) || !c->loader->tls)
		return 0;
	t0 = clock_ns(CLOCK_MONOTONIC);
	tls_probe_exec(c->loader->tls, n);
	t1 = clock_ns(CLOCK_MONOTONIC);
	if (n->flags & CS_EXEC_HELD)
		exechold_release(c->eh, n);
	pr_debug("exec: pid %u%s: notice read after %.2f ms, probed in %.2f ms", n->pid,
		 n->flags & CS_EXEC_HELD ? " (held)" : "", (t0 - (__s64)n->ts_ns) / 1e6,
		 (t1 - t0) / 1e6);
	return 0;
}

/* systemd readiness (sd_notify protocol) without linking libsystemd. */
static void notify_ready(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t n;
	int fd;

	if (!path || !*path || (path[0] != '/' && path[0] != '@'))
		return;
	n = strlen(path);
	if (n >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, path, n);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = 0;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	sendto(fd, "READY=1", 7, 0, (struct sockaddr *)&sa,
	       offsetof(struct sockaddr_un, sun_path) + n);
	close(fd);
}

/* PATH no longer names the file that was loaded (replaced, rewritten or removed). */
static int file_changed(const char *path, const struct stat *was)
{
	struct stat st;

	if (!path || !was->st_ino)
		return 0;
	return stat(path, &st) || st.st_dev != was->st_dev || st.st_ino != was->st_ino ||
	       st.st_size != was->st_size || st.st_mtim.tv_sec != was->st_mtim.tv_sec ||
	       st.st_mtim.tv_nsec != was->st_mtim.tv_nsec;
}

/*
 * The fingerprints and key are loaded once: the kernel's tag table and prefilter are sized,
 * filled and keyed from them at start. A reload that swapped them under running probes could
 * pair a new key with old tags, so a change is refused, named, and counted; the DB loaded at
 * start stays in use, whole.
 */
static void check_db_files(struct collector *c)
{
	int fp = file_changed(c->fp_path, &c->fp_st), key = file_changed(c->key_path, &c->key_st);

	if (!fp && !key)
		return;
	c->db_refused++;
	pr_err("SIGHUP: %s%s%s changed since the monitor loaded it: fingerprints and key are not "
	       "reloaded while running (restart the monitor to load them); still using the %u "
	       "fingerprints of %u subjects loaded at start",
	       fp ? c->fp_path : "", fp && key ? " and " : "", key ? c->key_path : "",
	       c->corr.db->nentries, c->corr.db->nsubjects);
}

int collector_reload(struct collector *c)
{
	struct recipients *r = NULL;
	struct consent_db *db = NULL;
	int err;

	if (c->corr.db)
		check_db_files(c);
	if (!c->consent_path || !c->rcpt_path || !c->consent || !c->rcpts)
		return -EINVAL;
	/* both files must load; either one's error (printed as file:line) keeps the old pair */
	err = recipients_load(&r, c->rcpt_path);
	if (!err && c->pg)
		err = consent_pg_load(c->pg, &db, r);
	else if (!err)
		err = consent_load(&db, c->consent_path, r);
	if (err) {
		recipients_free(r);
		c->reload_errors++;
		pr_err(
		    "SIGHUP: reload failed, still using the consent and recipients loaded before");
		return err;
	}
	consent_free(*c->consent);
	recipients_free(*c->rcpts);
	*c->consent = db;
	*c->rcpts = r;
	c->corr.consent = db;
	c->corr.rcpts = r;
	c->reloads++;
	/* consent a reload grants unblocks now, not at the next tick */
	if (c->enf)
		enforce_sync(c->enf, r, db, clock_ns(CLOCK_REALTIME));
	/* a URL is never printed as given: it may hold a password */
	fprintf(stderr, "consentry: SIGHUP: reloaded %s (%lu consent rows) and %s\n",
		c->pg ? consent_pg_name(c->pg) : c->consent_path, consent_count(db), c->rcpt_path);
	return 0;
}

/*
 * The consent source's NOTIFY, or its return after an outage: the table is read again and
 * replaces the one in use only when it loaded whole (recipients stay as they are), like SIGHUP.
 */
static void consent_pg_event(struct collector *c)
{
	enum consent_pg_event ev = consent_pg_run(c->pg);
	const char *why = ev == CONSENT_PG_NOTIFY ? "NOTIFY" : "reconnected";
	struct consent_db *db = NULL;

	if (ev == CONSENT_PG_NONE)
		return;
	if (consent_pg_load(c->pg, &db, *c->rcpts)) {
		c->reload_errors++;
		pr_err("%s: reload failed, still using the consent loaded before", why);
		return;
	}
	consent_free(*c->consent);
	*c->consent = db;
	c->corr.consent = db;
	c->reloads++;
	if (c->enf)
		enforce_sync(c->enf, *c->rcpts, db, clock_ns(CLOCK_REALTIME));
	fprintf(stderr, "consentry: %s: reloaded %s (%lu consent rows)\n", why,
		consent_pg_name(c->pg), consent_count(db));
}

/* What to do when a mapped fingerprint file changed under the monitor (--fp-memory mapped). */
#define FP_CHANGED_HINT                                                                            \
	"its lookups can no longer be trusted; stopping, restart to load it again (enroll -o "     \
	"replaces the file safely)"

/* What an epoll event of the loop is about (its data.u32). */
enum loop_src {
	LOOP_RING = 1, /* the ring buffers: events, DNS answers, exec notices */
	LOOP_SIGNAL,   /* signalfd: SIGINT, SIGTERM stop; SIGHUP reloads */
	LOOP_TIMER,    /* timerfd: flush the findings every second */
	LOOP_FP_FILE,  /* inotify: the mapped fingerprint file was written to */
	LOOP_WATCHDOG, /* the exec hold's watchdog exited */
	LOOP_METRICS,  /* --metrics: a scrape (libmicrohttpd's epoll fd) */
	LOOP_CONSENT,  /* -c postgresql://: a NOTIFY, a lost connection, a reconnect's progress */
	LOOP_NSRC = LOOP_CONSENT,
};

/* Watch fd for input, tagged src. 0 or -errno (printed: the loop would miss it). */
static int loop_add(int efd, int fd, enum loop_src src, const char *what)
{
	struct epoll_event e = {.events = EPOLLIN, .data.u32 = src};

	if (epoll_ctl(efd, EPOLL_CTL_ADD, fd, &e)) {
		pr_err("cannot watch %s (epoll_ctl): %s", what, strerror(errno));
		return -errno;
	}
	return 0;
}

int collector_run(struct collector *c)
{
	struct ring_buffer *rb = NULL;
	struct epoll_event ev[LOOP_NSRC];
	struct itimerspec its = {.it_interval = {1, 0}, .it_value = {1, 0}};
	sigset_t mask;
	int efd = -1, sfd = -1, tfd = -1, ifd = -1, err = 0, stop = 0;

	c->mono_to_real = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC);
	/* message ids "<instance>-<seq>": seq restarts with every run, the instance does not */
	if (!c->corr.instance && getrandom(&c->corr.instance, sizeof(c->corr.instance), 0) < 0)
		c->corr.instance = (__u32)(c->mono_to_real ^ getpid());
	/*
	 * A background job of a non-interactive shell starts with SIGINT ignored; an ignored
	 * signal is discarded before signalfd can see it, so reset the dispositions first.
	 */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);

	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	efd = epoll_create1(EPOLL_CLOEXEC);
	/* DNS answers first: a name must be known before the events of its connection */
	c->dns = dns_cache_new();
	c->corr.dns = c->dns;
	if (c->dns && c->enf)
		dns_cache_on_learn(c->dns, enforce_learn, c);
	rb = c->dns ? ring_buffer__new(loader_dns_fd(c->loader), dns_cb, c, NULL) : NULL;
	/*
	 * Exec notices before events: a process may be held until its notice is handled, and
	 * ring_buffer__consume() stops at the first ring whose callback asks it to (a flood of
	 * events, RB_BATCH), so a ring after the events could wait behind them.
	 */
	if (rb && c->loader->tls && ring_buffer__add(rb, loader_execs_fd(c->loader), exec_cb, c))
		errno = ENOMEM, ring_buffer__free(rb), rb = NULL;
	if (rb && ring_buffer__add(rb, loader_ringbuf_fd(c->loader), rb_cb, c))
		errno = ENOMEM, ring_buffer__free(rb), rb = NULL;
	if (c->dedup_s) {
		c->dedup_keys = c->dedup_keys ? c->dedup_keys : DEDUP_MAX_KEYS;
		c->dedup = dedup_new(c->dedup_s, c->dedup_keys, emit_finding, c);
		if (!c->dedup) {
			err = -errno;
			pr_err("--dedup: cannot make its table: %s", strerror(errno));
			goto out;
		}
	}
	c->deep = deep_new(c->key, c->corr.db, NULL);
	if (c->deep && c->scan_collector) {
		/* the kernel's first-pass settings (loader.c), the DB's window and prefilter */
		struct live_cfg lc = {
		    .key = c->key,
		    .pre = c->corr.db->pre,
		    .pre_log2 = c->corr.db->pre_log2,
		    .min_len = c->corr.db->nentries ? c->corr.db->min_len : 0xffffffff,
		    .max_len = c->corr.db->nentries ? c->corr.db->max_len : 0,
		    .skip_len = c->loader->skip_len,
		    .strong_min = c->loader->strong_min,
		};

		if (deep_scan_in_collector(c->deep, &lc))
			deep_free(c->deep), c->deep = NULL;
	}
	if (!c->deep)
		rb = (ring_buffer__free(rb), NULL);
	if (sfd < 0 || tfd < 0 || efd < 0 || !rb) {
		err = -errno;
		pr_err("cannot set up the event loop: %s", strerror(errno));
		goto out;
	}
	if (timerfd_settime(tfd, 0, &its, NULL)) {
		err = -errno;
		pr_err("cannot start the flush timer: %s", strerror(errno));
		goto out;
	}
	err = loop_add(efd, ring_buffer__epoll_fd(rb), LOOP_RING, "the ring buffers");
	if (!err)
		err = loop_add(efd, sfd, LOOP_SIGNAL, "signals");
	if (!err)
		err = loop_add(efd, tfd, LOOP_TIMER, "the flush timer");
	if (err)
		goto out;
	/*
	 * A mapped DB is read from its file: a write to that file under the monitor (cp over it,
	 * truncate) changes what the lookups read. enroll -o renames a new file into place, which
	 * leaves the mapped one alone.
	 */
	if (c->corr.db->map && c->fp_path) {
		ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (ifd < 0 || inotify_add_watch(ifd, c->fp_path, IN_MODIFY) < 0) {
			err = -errno;
			pr_err("cannot watch %s: %s", c->fp_path, strerror(errno));
			goto out;
		}
		err = loop_add(efd, ifd, LOOP_FP_FILE, c->fp_path);
		if (err)
			goto out;
	}
	/* the exec hold's watchdog: without it no process may be held */
	if (exechold_watchdog_fd(c->eh) >= 0) {
		err = loop_add(efd, exechold_watchdog_fd(c->eh), LOOP_WATCHDOG,
			       "the exec hold's watchdog");
		if (err)
			goto out;
	}
	/* --metrics: scrapes are served here, between batches of events */
	if (c->metrics) {
		err = loop_add(efd, metrics_fd(c->metrics), LOOP_METRICS, "the metrics server");
		if (err)
			goto out;
	}
	if (c->pg) {
		err = loop_add(efd, consent_pg_fd(c->pg), LOOP_CONSENT, "the consent database");
		if (err)
			goto out;
	}

	/* new executables are held from "ready" on */
	exechold_renew(c->eh);
	fprintf(
	    stderr,
	    "consentry: ready: %u probes attached (capture: %s), %u fingerprints of %u subjects "
	    "(%s)\n",
	    c->loader->nprogs, loader_capture_name(c->loader), c->corr.db->nentries,
	    c->corr.db->nsubjects, c->corr.db->map ? "mapped from the file" : "compact in memory");
	notify_ready();

	while (!stop) {
		int n;

		/* coming round the loop is what keeps the exec hold on (exechold.h lease) */
		exechold_renew(c->eh);
		/* --scan-in collector: the kernel hands every send over without waking us (a
		 * wake-up per send costs the sender more than its copy): read the ring every ms */
		n = epoll_wait(efd, ev, LOOP_NSRC, c->scan_collector ? 1 : -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		if (!n && c->scan_collector) {
			c->batch = 0;
			ring_buffer__consume(rb);
			flush_findings(c);
		}
		for (int i = 0; i < n; i++) {
			switch ((enum loop_src)ev[i].data.u32) {
			case LOOP_RING:
				c->batch = 0;
				ring_buffer__consume(rb);
				flush_findings(c);
				break;
			case LOOP_SIGNAL: {
				struct signalfd_siginfo si;

				while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
					if (si.ssi_signo != SIGHUP) {
						stop = 1;
						continue;
					}
					/* logrotate's postrotate: the next lines go to
					 * the path's file, a moved journal starts anew */
					flush_findings(c);
					if (c->of)
						outfile_reopen(c->of, 0);
					collector_reload(c);
					journal_reopen(c->journal);
				}
				break;
			}
			case LOOP_TIMER: {
				__u64 ticks;

				if (read(tfd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
					pr_debug("timerfd: %s", strerror(errno));
				/* --dedup: windows that ended write their merged findings */
				if (c->dedup) {
					int e = dedup_expire(c->dedup, clock_ns(CLOCK_MONOTONIC) +
									   c->mono_to_real);

					c->err = e ? e : c->err;
				}
				flush_findings(c);
				/* --block: the lease, consent windows that opened or closed */
				enforce_tick(c->enf, clock_ns(CLOCK_REALTIME),
					     (__u64)clock_ns(CLOCK_MONOTONIC));
				/* a kill -9 loses at most this second's findings */
				journal_commit(c->journal);
				metrics_run(c->metrics); /* idle connections time out */
				/* the consent database's reconnect backoff */
				if (c->pg)
					consent_pg_event(c);
				break;
			}
			case LOOP_FP_FILE:
				pr_err("%s was written to under the monitor, which reads it in "
				       "place: %s",
				       c->fp_path, FP_CHANGED_HINT);
				err = -EIO;
				stop = 1;
				break;
			case LOOP_WATCHDOG:
				/* it is gone: its fd stays readable (EOF), stop watching it */
				if (epoll_ctl(efd, EPOLL_CTL_DEL, exechold_watchdog_fd(c->eh),
					      NULL))
					pr_debug("epoll_ctl(DEL, watchdog): %s", strerror(errno));
				exechold_watchdog_exited(c->eh);
				break;
			case LOOP_METRICS:
				metrics_run(c->metrics);
				break;
			case LOOP_CONSENT:
				consent_pg_event(c);
				break;
			}
		}
		if (c->err) {
			err = c->err;
			pr_err("cannot write findings: %s", strerror(-err));
			break;
		}
		if (fpdb_failed(c->corr.db)) {
			/* the lookups of the batch that faulted failed: say so, stop */
			err = -EIO;
			pr_err("a read of %s faulted: it was truncated under the monitor, which "
			       "reads it in place: %s",
			       c->fp_path ? c->fp_path : "the fingerprint file", FP_CHANGED_HINT);
			break;
		}
	}
	/*
	 * Drain what the probes submitted before we stop (bounded: a flood may go on); no new
	 * holds meanwhile, and then every process still held is continued.
	 */
	exechold_pause(c->eh);
	for (int i = 0; i < 64; i++) {
		c->batch = 0;
		if (ring_buffer__consume(rb) != -EAGAIN)
			break;
	}
	exechold_stop(c->eh);
	/* --dedup: every open window ends now, its repeats written */
	if (c->dedup) {
		int e = dedup_flush(c->dedup);

		err = err ? err : e;
	}
	flush_findings(c);
	journal_commit(c->journal);
out:
	if (c->loader->skel)
		collector_summary(c);
	ring_buffer__free(rb);
	deep_free(c->deep);
	c->deep = NULL;
	msg_release(&c->msg);
	correlate_release(&c->corr);
	dedup_free(c->dedup);
	c->dedup = NULL;
	dns_cache_free(c->dns);
	c->dns = NULL;
	c->corr.dns = NULL;
	if (efd >= 0)
		close(efd);
	if (ifd >= 0)
		close(ifd);
	if (sfd >= 0)
		close(sfd);
	if (tfd >= 0)
		close(tfd);
	return err;
}
