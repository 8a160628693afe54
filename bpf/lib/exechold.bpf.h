/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Exec hold: a process that exec'd a file the collector has not examined yet is stopped before
 * its first user instruction, until the collector has read the file's symbols and attached the
 * TLS uprobes (user/monitor/exechold.c releases it). Without the hold, a short-lived client of a
 * static TLS stack (Go, node) often finishes its first TLS write before the uprobes arrive.
 */
#ifndef CS_EXECHOLD_BPF_H
#define CS_EXECHOLD_BPF_H

#include "lib/maps.bpf.h"

#define CS_SIGSTOP 19

const volatile __u8 cfg_exec_hold = CS_HOLD_OFF; /* enum cs_exec_hold */

/* Executables the collector examined, with or without TLS functions: no notice, never held. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, CS_EXEC_KNOWN_MAX);
	__type(key, struct cs_exe_key);
	__type(value, __u8);
} exec_known SEC(".maps");

/*
 * Processes stopped by tp_exec and not released yet (value: bpf_ktime_get_ns() of the hold). The
 * collector and its watchdog both release; whoever deletes the entry sends the SIGCONT, so a
 * process is continued once, and only if we stopped it.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CS_HELD_MAX);
	__type(key, struct cs_hold_key);
	__type(value, __u64);
} exec_held SEC(".maps");

/* One record per hold for the watchdog, which releases what is still held at the bound. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} exec_holds SEC(".maps");

/*
 * The collector's lease (CLOCK_MONOTONIC ns, mmap'ed by the collector and the watchdog): holds
 * start only before it. The collector extends it at every turn of its loop, the watchdog zeroes
 * it when a hold ran into the bound: a stopped, wedged or dead collector makes no new holds.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u64);
} exec_lease SEC(".maps");

/* The file the current task runs, as the kernel names it (zero if it has none). */
static __always_inline void exe_key(struct task_struct *task, struct cs_exe_key *k)
{
	/* BTF pointer loads: a NULL on the way reads as 0 instead of faulting */
	struct inode *inode = task->mm->exe_file->f_inode;

	k->ino = inode->i_ino;
	k->dev = inode->i_sb->s_dev;
	k->gen = inode->i_generation;
}

/*
 * A job that a job-control shell started in the foreground of a terminal: the shell waits for
 * it with WUNTRACED, so a stop, however short, shows as "Stopped" and the shell takes the
 * terminal back (the job then runs on in the background). Such a task is in its terminal's
 * foreground process group, and its parent is not (the shell made the group). The same test
 * covers a session leader on a terminal that a terminal program started (script(1) stops
 * itself when its child stops, tmux continues it at once). A script's children share their
 * parent's group: the script waits without WUNTRACED, they can be held.
 */
/* older kernels kept the foreground group in tty->pgrp (tty_struct had no ctrl yet) */
struct tty_struct___old {
	struct pid *pgrp;
};

static __always_inline int terminal_job(struct task_struct *task)
{
	struct signal_struct *sig = task->signal;
	struct tty_struct *tty = sig->tty;
	struct pid *pgrp = sig->pids[PIDTYPE_PGID], *fg;

	if (!tty)
		return 0;
	if (bpf_core_field_exists(tty->ctrl))
		fg = tty->ctrl.pgrp;
	else
		fg = BPF_CORE_READ((struct tty_struct___old *)tty, pgrp);
	if (fg != pgrp)
		return 0;
	return task->real_parent->signal->pids[PIDTYPE_PGID] != pgrp;
}

/* comm is name (a string literal of fewer than TASK_COMM_LEN bytes) */
static __always_inline int comm_is(const char *comm, const char *name, int len)
{
#pragma unroll
	for (int i = 0; i <= len; i++)
		if (comm[i] != name[i])
			return 0;
	return 1;
}
#define COMM_IS(c, lit) comm_is(c, lit, sizeof(lit) - 1)

/*
 * A parent that forwards its child's stops: su, runuser, sudo, doas and pkexec, and nsenter and
 * unshare --fork, wait with WUNTRACED and, when the child stops, stop themselves to pass the job
 * control on; they go on only when continued, and then continue the child. Our SIGCONT reaches
 * the child, not them: the parent would stay stopped for good (and a job-control shell above it
 * would report the job stopped). Their children are not held. Known by name: a parent that
 * forwards stops and is not in this list stays stopped (exechold.h).
 */
static __always_inline int stop_forwarder(struct task_struct *task)
{
	char c[TASK_COMM_LEN];

	if (bpf_probe_read_kernel(c, sizeof(c), task->real_parent->comm))
		return 0;
	return COMM_IS(c, "su") || COMM_IS(c, "runuser") || COMM_IS(c, "sudo") ||
	       COMM_IS(c, "doas") || COMM_IS(c, "pkexec") || COMM_IS(c, "nsenter") ||
	       COMM_IS(c, "unshare");
}

/*
 * Stop the current task (it has just exec'd the file of notice n) until released. 1 when held.
 * From this tracepoint (preemption off) bpf_send_signal_thread() queues the SIGSTOP through
 * irq_work, which runs as soon as the program returns (a self-IPI): the signal is pending before
 * execve returns to user mode, and the task stops before its first instruction (a stop signal
 * stops the whole process; after exec it has one thread). Sent to the thread rather than the
 * process, it shows in /proc/PID/stat's pending set, which the collector reads to know the stop
 * is on its way: a SIGCONT then cancels a SIGSTOP the task has not acted on yet.
 */
static __always_inline int exec_hold(struct task_struct *task, const struct cs_exec *n)
{
	struct cs_hold_key hk = {.pid = n->pid, .start_ns = n->start_ns};
	struct cs_hold *r;
	__u32 zero = 0;
	__u64 *lease;

	lease = bpf_map_lookup_elem(&exec_lease, &zero);
	if (!lease || n->ts_ns >= *lease) {
		cnt_add(CS_CNT_EXEC_STALE, 1);
		return 0;
	}
	if (cfg_exec_hold != CS_HOLD_ALL && terminal_job(task)) {
		cnt_add(CS_CNT_EXEC_TTY, 1);
		return 0;
	}
	if (stop_forwarder(task)) {
		cnt_add(CS_CNT_EXEC_FORWARDER, 1);
		return 0;
	}
	/*
	 * Under strace -f or gdb the SIGSTOP goes to the tracer first; passed on after our
	 * SIGCONT, it would stop the process for good.
	 */
	if (task->ptrace) {
		cnt_add(CS_CNT_EXEC_TRACED, 1);
		return 0;
	}
	/* the watchdog's record first: a hold it does not know of could last forever */
	r = bpf_ringbuf_reserve(&exec_holds, sizeof(*r), 0);
	if (!r)
		goto fail;
	if (bpf_map_update_elem(&exec_held, &hk, &n->ts_ns, BPF_ANY))
		goto discard;
	if (bpf_send_signal_thread(CS_SIGSTOP)) {
		bpf_map_delete_elem(&exec_held, &hk);
		goto discard;
	}
	r->key = hk;
	r->ts_ns = n->ts_ns;
	bpf_ringbuf_submit(r, 0);
	cnt_add(CS_CNT_EXEC_HELD, 1);
	return 1;
discard:
	bpf_ringbuf_discard(r, 0);
fail:
	cnt_add(CS_CNT_EXEC_FAILED, 1);
	return 0;
}

#endif
