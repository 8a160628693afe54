// SPDX-License-Identifier: GPL-2.0-only
/*
 * Exec hold: release the processes the exec probe stopped (see exechold.h). The watchdog is a
 * child process forked before the fingerprint DB and the BPF object are loaded (so it shares no
 * big memory with the collector) and handed the three maps it needs over a socket once they
 * exist. The socket also tells it that the collector stopped ('q') or died (end of file).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <linux/capability.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "monitor/exechold.h"
#include "lib/log.h"
#include "lib/timeutil.h"

/*
 * A process is released once it is stopped or its SIGSTOP is pending (a task that waits for a
 * CPU acts on it later, and a SIGCONT meanwhile cancels it). A hold younger than this whose
 * process shows neither may still have its SIGSTOP on the way (bpf_send_signal_thread() from
 * the tracepoint queues it through irq_work, normally done before execve returns): it is waited
 * for briefly, then left held. An older one was continued by someone else. The bound must be
 * well above it (CONSENTRY_EXEC_HOLD_MS >= 100).
 */
#define YOUNG_NS     (50 * 1000000ULL)
#define STOP_WAIT_US 100
#define STOP_WAITS   20
/* How long exechold_free waits for the watchdog beyond the bound before it kills it. */
#define WATCHDOG_GRACE_MS 2000

/* pidfds through syscall(): glibc wraps them only from 2.36 */
static int pidfd_open_pid(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static int pidfd_signal(int pidfd, int sig)
{
	return syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) ? -errno : 0;
}

int exechold_parse_stat(const char *buf, struct exechold_proc *p)
{
	/* "pid (comm) S ppid ...": comm may hold anything, the last ')' ends it */
	const char *q = strrchr(buf, ')');
	unsigned long long v;
	char *end;

	if (!q || q[1] != ' ' || !q[2] || q[2] == ' ')
		return -EINVAL;
	p->state = q[2];
	q += 3;
	/* fields 4 (ppid) .. 31 (signal), space-separated; 22 is starttime */
	for (int field = 4; field <= 31; field++) {
		if (*q != ' ')
			return -EINVAL;
		q++;
		if (field == 22 || field == 31) {
			errno = 0;
			v = strtoull(q, &end, 10);
			if (errno || end == q || (*end && *end != ' ' && *end != '\n'))
				return -EINVAL;
			if (field == 22)
				p->start_ticks = v;
			else
				p->sigpnd = v;
		}
		while (*q && *q != ' ')
			q++;
	}
	return 0;
}

int exechold_read_stat(pid_t pid, struct exechold_proc *p)
{
	char path[32], buf[1024];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ESRCH ? -ENOENT : -EINVAL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -ENOENT; /* ESRCH: it exited between open and read */
	buf[n] = 0;
	return exechold_parse_stat(buf, p);
}

__u64 exechold_ticks(__u64 ns)
{
	static long hz;

	if (!hz) {
		hz = sysconf(_SC_CLK_TCK);
		if (hz <= 0)
			hz = 100;
	}
	/* as the kernel's nsec_to_clock_t() */
	return ns / (1000000000ULL / (__u64)hz);
}

int exechold_is_stopped(const struct exechold_proc *p)
{
	/* a SIGSTOP not acted on yet counts: SIGCONT drops it from the pending set */
	return p->state == 'T' || p->state == 't' || (p->sigpnd & (1ULL << (SIGSTOP - 1)));
}

void exechold_key_of(const struct stat *st, __u32 gen, struct cs_exe_key *k)
{
	/* the kernel's dev_t (MKDEV) is major << 20 | minor; st_dev is the userspace encoding */
	k->dev = (__u32)((major(st->st_dev) << 20) | (minor(st->st_dev) & 0xfffff));
	k->ino = st->st_ino;
	k->gen = gen;
}

void exechold_stats_time(struct exechold_stats *st, __u64 ns)
{
	__u64 max = __atomic_load_n(&st->time_max_ns, __ATOMIC_RELAXED);

	__atomic_fetch_add(&st->nsamples, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&st->time_sum_ns, ns, __ATOMIC_RELAXED);
	while (ns > max && !__atomic_compare_exchange_n(&st->time_max_ns, &max, ns, 0,
							__ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

/* Is pid still the process that was held, and alive? 0, or -ENOENT. */
static int proc_check(const struct cs_hold_key *k, struct exechold_proc *p)
{
	int err = exechold_read_stat(k->pid, p);

	if (err)
		return -ENOENT;
	if (p->state == 'Z' || p->state == 'X' || p->start_ticks != exechold_ticks(k->start_ns))
		return -ENOENT;
	return 0;
}

static void count(struct exechold_stats *st, enum exechold_how how)
{
	__u64 *c = how == EXECHOLD_PROBED     ? &st->probed
		   : how == EXECHOLD_BOUND    ? &st->bound
		   : how == EXECHOLD_SHUTDOWN ? &st->shutdown
					      : &st->orphaned;

	__atomic_fetch_add(c, 1, __ATOMIC_RELAXED);
}

enum exechold_outcome exechold_release_one(const struct exechold_map *m,
					   const struct cs_hold_key *k, enum exechold_how how,
					   int may_leave, struct exechold_stats *st)
{
	enum exechold_outcome out;
	struct exechold_proc p = {0};
	__u64 ts;
	int pidfd, err;

	if (m->lookup(m->ctx, k, &ts))
		return EXECHOLD_ABSENT;
	/*
	 * The pidfd first: when the stat read after it still shows the held process (same start
	 * time), the pidfd refers to that process, and a SIGCONT through it cannot reach another
	 * process that reused the pid.
	 */
	pidfd = pidfd_open_pid((pid_t)k->pid);
	err = pidfd < 0 ? -ENOENT : proc_check(k, &p);
	for (int i = 0; !err && !exechold_is_stopped(&p) && i < STOP_WAITS &&
			(__u64)clock_ns(CLOCK_MONOTONIC) - ts < YOUNG_NS;
	     i++) {
		usleep(STOP_WAIT_US);
		err = proc_check(k, &p);
	}
	if (err) {
		out = EXECHOLD_GONE;
	} else if (exechold_is_stopped(&p)) {
		out = EXECHOLD_CONTINUED;
	} else if (may_leave && (__u64)clock_ns(CLOCK_MONOTONIC) - ts < YOUNG_NS) {
		out = EXECHOLD_LEFT;
		goto out;
	} else {
		out = EXECHOLD_RUNNING;
	}
	/* whoever deletes the entry releases the process: the other side may have been first */
	if (m->del(m->ctx, k)) {
		out = EXECHOLD_ABSENT;
		goto out;
	}
	if (out == EXECHOLD_CONTINUED && (err = pidfd_signal(pidfd, SIGCONT))) {
		/* exechold_can_continue() was checked: only a process that just exited */
		if (err != -ESRCH)
			pr_err("exec hold: cannot continue pid %u: %s", k->pid, strerror(-err));
		out = EXECHOLD_GONE;
	}
	switch (out) {
	case EXECHOLD_CONTINUED: {
		__u64 now = (__u64)clock_ns(CLOCK_MONOTONIC);

		count(st, how);
		exechold_stats_time(st, now > ts ? now - ts : 0);
		pr_debug("exec hold: pid %u continued after %.3f ms", k->pid,
			 (double)(now > ts ? now - ts : 0) / 1e6);
		break;
	}
	case EXECHOLD_GONE:
		__atomic_fetch_add(&st->gone, 1, __ATOMIC_RELAXED);
		break;
	default:
		__atomic_fetch_add(&st->running, 1, __ATOMIC_RELAXED);
		break;
	}
out:
	if (pidfd >= 0)
		close(pidfd);
	return out;
}

int exechold_queue_push(struct exechold_queue *q, const struct cs_hold *h)
{
	if (q->len == q->cap) {
		unsigned cap = q->cap ? q->cap * 2 : 64;
		struct cs_hold *v = malloc(cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		for (unsigned i = 0; i < q->len; i++)
			v[i] = q->v[(q->head + i) % q->cap];
		free(q->v);
		q->v = v;
		q->head = 0;
		q->cap = cap;
	}
	q->v[(q->head + q->len) % q->cap] = *h;
	q->len++;
	return 0;
}

const struct cs_hold *exechold_queue_peek(const struct exechold_queue *q)
{
	return q->len ? &q->v[q->head] : NULL;
}

void exechold_queue_pop(struct exechold_queue *q)
{
	if (!q->len)
		return;
	q->head = (q->head + 1) % q->cap;
	q->len--;
}

void exechold_queue_release(struct exechold_queue *q)
{
	free(q->v);
	memset(q, 0, sizeof(*q));
}

/* The kernel's map of held processes. */
static int bpf_held_lookup(void *ctx, const struct cs_hold_key *k, __u64 *ts_ns)
{
	return bpf_map_lookup_elem(*(int *)ctx, k, ts_ns) ? -ENOENT : 0;
}

static int bpf_held_del(void *ctx, const struct cs_hold_key *k)
{
	return bpf_map_delete_elem(*(int *)ctx, k) ? -errno : 0;
}

/*
 * Release every process in the held map. Returns how many entries are left (held, but not
 * stopped yet: may_leave).
 */
static unsigned sweep(int *held_fd, enum exechold_how how, int may_leave, struct exechold_stats *st)
{
	struct exechold_map m = {bpf_held_lookup, bpf_held_del, held_fd};
	struct cs_hold_key *keys, prev, next;
	unsigned n = 0, left = 0;

	keys = calloc(CS_HELD_MAX, sizeof(*keys));
	if (!keys)
		return 0;
	/* keys first: deleting while walking would restart the walk */
	while (n < CS_HELD_MAX && !bpf_map_get_next_key(*held_fd, n ? &prev : NULL, &next)) {
		keys[n++] = next;
		prev = next;
	}
	for (unsigned i = 0; i < n; i++)
		if (exechold_release_one(&m, &keys[i], how, may_leave, st) == EXECHOLD_LEFT)
			left++;
	free(keys);
	return left;
}

/* ---- the watchdog (child process) ---- */

struct watchdog {
	struct exechold_stats *st;
	__u64 *lease;
	int held_fd;
	__u64 bound_ns;
	struct exechold_queue q;
};

/* Release at the bound what the collector has not released yet. */
static void watchdog_expire(struct watchdog *w, const struct cs_hold *h)
{
	struct exechold_map m = {bpf_held_lookup, bpf_held_del, &w->held_fd};

	if (exechold_release_one(&m, &h->key, EXECHOLD_BOUND, 0, w->st) != EXECHOLD_CONTINUED)
		return;
	/* the collector is slow or stuck: no new holds until it comes round its loop again */
	__atomic_store_n(w->lease, 0, __ATOMIC_RELAXED);
	pr_info("exec hold: pid %u continued at the %llu ms bound (the collector was late)",
		h->key.pid, (unsigned long long)(w->bound_ns / 1000000));
}

/* A hold began (ring buffer exec_holds). */
static int watchdog_hold(void *ctx, void *data, size_t len)
{
	struct watchdog *w = ctx;
	const struct cs_hold *h = data;

	if (len < sizeof(*h))
		return 0;
	/* no room to wait for it: release it now rather than risk an unbounded hold */
	if (exechold_queue_push(&w->q, h))
		watchdog_expire(w, h);
	return 0;
}

/* Receive the three map fds (held, holds, lease). 0, or -errno (end of file: -EPIPE). */
static int recv_fds(int sock, int fds[3])
{
	char byte, cbuf[CMSG_SPACE(3 * sizeof(int))];
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	struct msghdr msg = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *c;
	ssize_t n;

	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return n ? -errno : -EPIPE;
	c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(3 * sizeof(int)))
		return -EPROTO;
	memcpy(fds, CMSG_DATA(c), 3 * sizeof(int));
	return 0;
}

/* ms until the oldest hold's deadline, -1 without holds. */
static int watchdog_timeout(const struct watchdog *w)
{
	const struct cs_hold *h = exechold_queue_peek(&w->q);
	__u64 now = (__u64)clock_ns(CLOCK_MONOTONIC), due;

	if (!h)
		return -1;
	due = h->ts_ns + w->bound_ns;
	return due <= now ? 0 : (int)((due - now + 999999) / 1000000);
}

static void watchdog_due(struct watchdog *w)
{
	const struct cs_hold *h;
	__u64 now = (__u64)clock_ns(CLOCK_MONOTONIC);

	while ((h = exechold_queue_peek(&w->q)) && h->ts_ns + w->bound_ns <= now) {
		struct cs_hold copy = *h;

		exechold_queue_pop(&w->q);
		watchdog_expire(w, &copy);
	}
}

static void watchdog_main(int sock, struct exechold_stats *st, __u32 bound_ms)
{
	static const int ignored[] = {SIGINT,  SIGTERM, SIGHUP,	 SIGQUIT, SIGPIPE,
				      SIGTSTP, SIGTTIN, SIGTTOU, SIGUSR1, SIGUSR2};
	struct watchdog w = {.st = st, .bound_ns = (__u64)bound_ms * 1000000ULL};
	struct epoll_event e = {.events = EPOLLIN}, ev[2];
	struct ring_buffer *rb = NULL;
	int fds[3], ep, devnull, collector_gone = 0, quit = 0;
	enum exechold_how how;
	__u64 released, until;
	sigset_t none;

	/* nothing of the collector's but the socket and stderr: no BPF link, fd or file */
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull >= 0) {
		dup2(devnull, STDIN_FILENO);
		dup2(devnull, STDOUT_FILENO);
	}
	if (sock > 3)
		close_range(3, sock - 1, 0);
	close_range(sock + 1, ~0U, 0);
	prctl(PR_SET_NAME, "consentry-hold");
	/*
	 * It outlives the collector to release what it held: a signal for the monitor (Ctrl-C to
	 * the terminal's process group, kill of the service) must not end it first. It ends when
	 * the collector says so or is gone.
	 */
	for (unsigned i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
		signal(ignored[i], SIG_IGN);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	if (recv_fds(sock, fds))
		_exit(0); /* the collector stopped before loading anything */
	w.held_fd = fds[0];
	w.lease = mmap(NULL, sizeof(__u64), PROT_READ | PROT_WRITE, MAP_SHARED, fds[2], 0);
	rb = ring_buffer__new(fds[1], watchdog_hold, &w, NULL);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (w.lease == MAP_FAILED || !rb || ep < 0) {
		pr_err("exec hold watchdog: cannot set up: %s", strerror(errno));
		_exit(1);
	}
	e.data.u32 = 1;
	epoll_ctl(ep, EPOLL_CTL_ADD, ring_buffer__epoll_fd(rb), &e);
	e.data.u32 = 2;
	epoll_ctl(ep, EPOLL_CTL_ADD, sock, &e);
	if (write(sock, "r", 1) != 1)
		_exit(0);

	while (!quit) {
		int n = epoll_wait(ep, ev, 2, watchdog_timeout(&w));

		if (n < 0 && errno != EINTR)
			break;
		/* holds first: a hold must be queued before the collector's end is handled */
		ring_buffer__consume(rb);
		for (int i = 0; i < n; i++) {
			char c = 0;
			ssize_t r;

			if (ev[i].data.u32 != 2)
				continue;
			r = read(sock, &c, 1);
			if (r == 1 && c == 'q') {
				quit = 1;
			} else if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
				quit = 1;
				collector_gone = 1;
			}
		}
		watchdog_due(&w);
	}
	how = collector_gone ? EXECHOLD_ORPHANED : EXECHOLD_SHUTDOWN;
	/*
	 * The collector is gone or stopping: its probes are (being) detached, so no new holds.
	 * Continue every stopped process; one whose stop is still on its way (young) is retried
	 * until it has landed or the hold is old enough to tell it was continued by someone else.
	 */
	ring_buffer__consume(rb);
	released = st->orphaned;
	until = (__u64)clock_ns(CLOCK_MONOTONIC) + w.bound_ns;
	while (sweep(&w.held_fd, how, 1, st) && (__u64)clock_ns(CLOCK_MONOTONIC) < until)
		poll(NULL, 0, 5);
	sweep(&w.held_fd, how, 0, st);
	if (collector_gone)
		pr_warn("exec hold watchdog: the collector is gone; continued %llu held "
			"process(es)",
			(unsigned long long)(st->orphaned - released));
	ring_buffer__free(rb);
	exechold_queue_release(&w.q);
	_exit(0);
}

/* ---- the collector's side ---- */

int exechold_can_continue(void)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2] = {0};

	if (syscall(SYS_capget, &h, d))
		return geteuid() == 0;
	return !!(d[CAP_KILL / 32].effective & (1u << (CAP_KILL % 32)));
}

struct exechold {
	pid_t wd_pid;
	int wd_pidfd; /* readable when the watchdog exits */
	int sock;     /* to the watchdog */
	int held_fd;  /* our own copy: sweeps after the BPF object is gone */
	__u64 *lease;
	struct exechold_stats *st; /* shared with the watchdog */
	__u32 bound_ms;
	int active; /* holds may start: the watchdog watches them */
};

struct exechold *exechold_new(__u32 bound_ms)
{
	struct exechold *eh = calloc(1, sizeof(*eh));
	int sv[2], err;
	pid_t pid;

	if (!eh)
		return NULL;
	eh->wd_pidfd = eh->sock = eh->held_fd = -1;
	eh->lease = MAP_FAILED;
	eh->bound_ms = bound_ms;
	eh->st =
	    mmap(NULL, sizeof(*eh->st), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (eh->st == MAP_FAILED) {
		err = errno;
		free(eh);
		errno = err;
		return NULL;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		goto fail;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		err = errno;
		close(sv[0]);
		close(sv[1]);
		errno = err;
		goto fail;
	}
	if (pid == 0) {
		close(sv[0]);
		watchdog_main(sv[1], eh->st, bound_ms);
		_exit(0);
	}
	close(sv[1]);
	eh->sock = sv[0];
	eh->wd_pid = pid;
	/* our own child: its pid cannot be reused before we reap it */
	eh->wd_pidfd = pidfd_open_pid(pid);
	return eh;
fail:
	err = errno;
	exechold_free(eh);
	errno = err;
	return NULL;
}

int exechold_attach(struct exechold *eh, int held_fd, int holds_fd, int lease_fd)
{
	char byte = 'f', cbuf[CMSG_SPACE(3 * sizeof(int))] = {0};
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	struct msghdr msg = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	struct pollfd pfd = {.fd = eh->sock, .events = POLLIN};
	int fds[3] = {held_fd, holds_fd, lease_fd};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	int err;

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(c), fds, sizeof(fds));
	if (sendmsg(eh->sock, &msg, MSG_NOSIGNAL) != 1)
		return -errno;
	/* the watchdog answers once it watches the holds ring buffer */
	if (poll(&pfd, 1, 2000) != 1 || read(eh->sock, &byte, 1) != 1 || byte != 'r')
		return -ETIMEDOUT;
	eh->held_fd = fcntl(held_fd, F_DUPFD_CLOEXEC, 3);
	eh->lease = mmap(NULL, sizeof(__u64), PROT_READ | PROT_WRITE, MAP_SHARED, lease_fd, 0);
	if (eh->held_fd < 0 || eh->lease == MAP_FAILED) {
		err = -errno;
		if (eh->lease != MAP_FAILED)
			munmap(eh->lease, sizeof(__u64));
		eh->lease = MAP_FAILED;
		return err;
	}
	eh->active = 1;
	return 0;
}

void exechold_renew(struct exechold *eh)
{
	if (eh && eh->active)
		__atomic_store_n(eh->lease,
				 (__u64)clock_ns(CLOCK_MONOTONIC) + EXECHOLD_LEASE_MS * 1000000ULL,
				 __ATOMIC_RELAXED);
}

void exechold_release(struct exechold *eh, const struct cs_exec *n)
{
	struct cs_hold_key k = {.pid = n->pid, .start_ns = n->start_ns};
	struct exechold_map m;

	if (!eh || eh->held_fd < 0)
		return;
	m = (struct exechold_map){bpf_held_lookup, bpf_held_del, &eh->held_fd};
	/* a process whose stop has not landed yet is left to the watchdog */
	exechold_release_one(&m, &k, EXECHOLD_PROBED, eh->wd_pid > 0, eh->st);
}

void exechold_pause(struct exechold *eh)
{
	if (!eh || eh->lease == MAP_FAILED)
		return;
	eh->active = 0;
	__atomic_store_n(eh->lease, 0, __ATOMIC_RELAXED);
}

void exechold_stop(struct exechold *eh)
{
	__u64 until;

	if (!eh || eh->held_fd < 0)
		return;
	exechold_pause(eh);
	if (eh->wd_pid > 0) {
		/* a stop not landed yet is in the watchdog's queue: it finishes those */
		sweep(&eh->held_fd, EXECHOLD_SHUTDOWN, 1, eh->st);
		return;
	}
	/* no watchdog: wait out the young holds here */
	until = (__u64)clock_ns(CLOCK_MONOTONIC) + YOUNG_NS;
	while (sweep(&eh->held_fd, EXECHOLD_SHUTDOWN, 1, eh->st) &&
	       (__u64)clock_ns(CLOCK_MONOTONIC) < until)
		usleep(1000);
	sweep(&eh->held_fd, EXECHOLD_SHUTDOWN, 0, eh->st);
}

int exechold_watchdog_fd(const struct exechold *eh)
{
	return eh && eh->wd_pid > 0 ? eh->wd_pidfd : -1;
}

void exechold_watchdog_exited(struct exechold *eh)
{
	int status = 0;

	if (!eh || eh->wd_pid <= 0)
		return;
	if (waitpid(eh->wd_pid, &status, WNOHANG) != eh->wd_pid)
		return;
	pr_warn("exec hold: the watchdog (pid %d) %s %d: new executables are no longer held",
		(int)eh->wd_pid, WIFSIGNALED(status) ? "was killed by signal" : "exited with",
		WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	eh->wd_pid = 0;
	close(eh->wd_pidfd);
	eh->wd_pidfd = -1;
	exechold_stop(eh);
}

const struct exechold_stats *exechold_stats(const struct exechold *eh)
{
	return eh ? eh->st : NULL;
}

__u32 exechold_bound_ms(const struct exechold *eh)
{
	return eh ? eh->bound_ms : 0;
}

void exechold_free(struct exechold *eh)
{
	if (!eh)
		return;
	exechold_stop(eh);
	if (eh->sock >= 0) {
		/* the watchdog sweeps once more (holds of programs still running while we
		 * detached) and finishes any young hold, then exits */
		if (send(eh->sock, "q", 1, MSG_NOSIGNAL) != 1)
			pr_debug("exec hold: cannot tell the watchdog to stop: %s",
				 strerror(errno));
		close(eh->sock);
	}
	if (eh->wd_pid > 0) {
		struct pollfd pfd = {.fd = eh->wd_pidfd, .events = POLLIN};

		if (eh->wd_pidfd >= 0)
			poll(&pfd, 1, (int)eh->bound_ms + WATCHDOG_GRACE_MS);
		if (waitpid(eh->wd_pid, NULL, WNOHANG) != eh->wd_pid) {
			pr_warn("exec hold: the watchdog (pid %d) did not stop, killing it",
				(int)eh->wd_pid);
			kill(eh->wd_pid, SIGKILL);
			waitpid(eh->wd_pid, NULL, 0);
		}
	}
	if (eh->wd_pidfd >= 0)
		close(eh->wd_pidfd);
	if (eh->held_fd >= 0)
		close(eh->held_fd);
	if (eh->lease != MAP_FAILED)
		munmap(eh->lease, sizeof(__u64));
	munmap(eh->st, sizeof(*eh->st));
	free(eh);
}
