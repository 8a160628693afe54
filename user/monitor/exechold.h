/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Exec hold, the userspace side (the BPF side is bpf/lib/exechold.bpf.h). The exec probe stops a
 * process that exec'd a file the collector has not examined yet; the collector continues it once
 * the file's TLS uprobes are attached (exechold_release). A watchdog process, forked before
 * anything is loaded, continues whatever is still held EXECHOLD_BOUND_MS after its exec, and
 * everything held when the collector stops or dies, so no hold outlives the bound or the monitor.
 *
 * Who continues a process: whoever deletes its entry from the kernel's map "exec_held" (the
 * collector or the watchdog; one of them wins) sends the one SIGCONT, through a pidfd, after
 * checking that the pid is still the process that was held (its start time) and that it is
 * stopped. A process that is not stopped any more (someone else continued it) gets no signal.
 *
 * What a hold looks like from outside (side effects, by design or not avoidable):
 * - Only the first exec of each file not examined yet is held (~1 ms for a small executable,
 *   25-40 ms for the 95 MiB node); an exec of a known file costs one hash lookup.
 * - The held process is stopped (state T) for that long: its parent gets SIGCHLD twice
 *   (CLD_STOPPED, CLD_CONTINUED), and a parent that waits with WUNTRACED sees a stop and a
 *   continue. Scripts, systemd, and the subprocess APIs of Go, Python and node wait without it.
 * - su, runuser, sudo, doas, pkexec, nsenter and unshare --fork stop themselves when their child
 *   stops, and go on only when continued: their children are not held (known by the parent's
 *   name). Another parent that does the same stays stopped until someone continues it.
 * - A job-control shell does: it would report a foreground job "Stopped", take the terminal
 *   back and leave the job running in the background. Jobs in a terminal's foreground are
 *   therefore not held (--exec-hold all holds them too); commands such a job runs are.
 * - A traced process (strace -f, gdb) is not held: the tracer would see the SIGSTOP first
 *   and, passing it on after our SIGCONT, stop the process for good.
 * - A SIGSTOP someone sends the process during its hold is undone by our SIGCONT (the two
 *   cannot be told apart); a SIGCONT someone sends ends the hold early.
 * - Two monitors with the hold on, on one host: the first to release a process lets it run.
 * - pid 1 and kernel threads cannot be stopped (bpf_send_signal refuses): counted as failed.
 * - The bound holds as long as the watchdog lives. After kill -9 of the collector the watchdog
 *   hears of it when the kernel closes the collector's files, after detaching its probes (0.4
 *   to 0.6 s here); the bound applies meanwhile. If the collector and the watchdog are killed
 *   at once (SIGKILL to the whole service), a process held at that instant stays stopped until
 *   someone sends it SIGCONT.
 */
#ifndef CS_EXECHOLD_H
#define CS_EXECHOLD_H

#include <sys/types.h>
#include <sys/stat.h>
#include "cs_abi.h"

/*
 * The bound of a hold. The collector needs ~1 ms for a small executable and 25-40 ms for the
 * 95 MiB /usr/bin/node (its symbol table); the bound leaves room for a busy machine, and is what
 * a new executable waits at most when the collector is stopped or stuck. Tests may change it
 * with CONSENTRY_EXEC_HOLD_MS.
 */
#define EXECHOLD_BOUND_MS 200
/*
 * The lease the collector extends at every turn of its loop (which wakes at least every second):
 * a collector that has not come round for this long makes no new holds.
 */
#define EXECHOLD_LEASE_MS 3000

/* How holds ended; shared by the collector and the watchdog (updated atomically). */
struct exechold_stats {
	__u64 probed;	   /* continued by the collector, the file probed */
	__u64 bound;	   /* continued by the watchdog at the bound */
	__u64 shutdown;	   /* continued because the monitor stopped */
	__u64 orphaned;	   /* continued by the watchdog after the collector died */
	__u64 gone;	   /* the process had exited while held: nothing to continue */
	__u64 running;	   /* not stopped when released (continued by someone else): no signal */
	__u64 nsamples;	   /* hold times measured (the processes continued) */
	__u64 time_sum_ns; /* from the exec to the SIGCONT */
	__u64 time_max_ns;
};

enum exechold_how {
	EXECHOLD_PROBED,
	EXECHOLD_BOUND,
	EXECHOLD_SHUTDOWN,
	EXECHOLD_ORPHANED,
};

/* What exechold_release_one did. */
enum exechold_outcome {
	EXECHOLD_ABSENT,    /* not held (any more): released by the other side, or never */
	EXECHOLD_LEFT,	    /* not stopped yet, left held for the watchdog (may_leave only) */
	EXECHOLD_CONTINUED, /* SIGCONT sent */
	EXECHOLD_GONE,	    /* the process is gone (or its pid is another process's now) */
	EXECHOLD_RUNNING,   /* it was not stopped any more: entry dropped, no signal */
};

/* The map of held processes, behind two operations (a BPF map, or a table in the unit test). */
struct exechold_map {
	int (*lookup)(void *ctx, const struct cs_hold_key *k, __u64 *ts_ns); /* 0 or -ENOENT */
	int (*del)(void *ctx, const struct cs_hold_key *k); /* 0: this caller removed it */
	void *ctx;
};

/*
 * Release the hold k if it is still in m: continue the process when it is the one held and
 * stopped. With may_leave, a process not stopped yet is waited for ~2 ms and else left held (its
 * SIGSTOP may still be on its way); without, the entry is dropped. Counts into st.
 */
enum exechold_outcome exechold_release_one(const struct exechold_map *m,
					   const struct cs_hold_key *k, enum exechold_how how,
					   int may_leave, struct exechold_stats *st);

/* /proc/PID/stat, the fields we need. */
struct exechold_proc {
	char state;	   /* R S D T t Z X ... */
	__u64 start_ticks; /* starttime, in clock ticks since boot */
	__u64 sigpnd;	   /* signals pending for the thread (bit n - 1: signal n) */
};

/* Parse the text of /proc/PID/stat (the command name may hold spaces and parentheses). */
int exechold_parse_stat(const char *buf, struct exechold_proc *p);
/* Read /proc/PID/stat: 0, -ENOENT when the process is gone, -EINVAL when unreadable. */
int exechold_read_stat(pid_t pid, struct exechold_proc *p);
/* A start time in ns (task->start_boottime) in /proc's clock ticks. */
__u64 exechold_ticks(__u64 ns);
/* Stopped by a signal (T) or under a tracer (t), or about to: a SIGSTOP is pending. */
int exechold_is_stopped(const struct exechold_proc *p);
/* The kernel's name of a file (stat() and its i_generation from FS_IOC_GETVERSION). */
void exechold_key_of(const struct stat *st, __u32 gen, struct cs_exe_key *k);
/* Account one hold time (atomically: the stats may be shared with the watchdog). */
void exechold_stats_time(struct exechold_stats *st, __u64 ns);

/* Holds by deadline, in hold order (the bound is the same for all): the watchdog's queue. */
struct exechold_queue {
	struct cs_hold *v;
	unsigned head, len, cap;
};

int exechold_queue_push(struct exechold_queue *q, const struct cs_hold *h);
/* The oldest hold, or NULL. */
const struct cs_hold *exechold_queue_peek(const struct exechold_queue *q);
void exechold_queue_pop(struct exechold_queue *q);
void exechold_queue_release(struct exechold_queue *q);

struct exechold;

/*
 * May we continue any process (CAP_KILL)? Without it a process of another user that the probe
 * stopped could not be continued: the hold must stay off.
 */
int exechold_can_continue(void);

/*
 * Fork the watchdog (before anything big is loaded: it keeps the memory it was forked with).
 * bound_ms: the bound. NULL + errno on failure.
 */
struct exechold *exechold_new(__u32 bound_ms);
/*
 * Hand the watchdog the kernel's held map, holds ring buffer and lease map (fds) once loaded,
 * and wait until it watches them. Holds start at the first exechold_renew after this.
 * 0 or -errno (holds then never start).
 */
int exechold_attach(struct exechold *eh, int held_fd, int holds_fd, int lease_fd);
/* The collector is responsive: extend the lease. */
void exechold_renew(struct exechold *eh);
/* Notice n (held) is handled, its file probed: continue the process. */
void exechold_release(struct exechold *eh, const struct cs_exec *n);
/* No new holds from now on (the lease is zeroed). */
void exechold_pause(struct exechold *eh);
/* Pause, and continue every process still held. */
void exechold_stop(struct exechold *eh);
/* A pidfd readable when the watchdog exits (-1 if there is none), for the collector's loop. */
int exechold_watchdog_fd(const struct exechold *eh);
/* The watchdog exited: reap it, hold no more, release what is held. */
void exechold_watchdog_exited(struct exechold *eh);
const struct exechold_stats *exechold_stats(const struct exechold *eh);
__u32 exechold_bound_ms(const struct exechold *eh);
/* Stop, release everything, end the watchdog and wait for it. NULL is fine. */
void exechold_free(struct exechold *eh);

#endif
