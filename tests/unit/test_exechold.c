// SPDX-License-Identifier: GPL-2.0-only
/*
 * Exec hold bookkeeping: /proc/PID/stat parsing, the kernel's file names, the watchdog's queue,
 * hold times, and who continues a held process (exechold_release_one) against real child
 * processes, stopped or not, with a table standing in for the kernel's held map.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "monitor/exechold.h"

static void test_parse_stat(void **state)
{
	/* a comm with spaces and parentheses; fields 22 (starttime) and 31 (signal) */
	const char *line =
	    "4242 (a) (b c) T 1 4242 4242 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 "
	    "123456 1000 10 18446744073709551615 1 1 0 0 0 262144 0 0 0 0 0 0 17 1 0 0 "
	    "0 0 0\n";
	struct exechold_proc p;

	(void)state;
	assert_int_equal(exechold_parse_stat(line, &p), 0);
	assert_int_equal(p.state, 'T');
	assert_int_equal(p.start_ticks, 123456);
	assert_int_equal(p.sigpnd, 262144); /* 1 << 18: SIGSTOP */
	assert_true(exechold_is_stopped(&p));
	p.state = 'R';
	assert_true(exechold_is_stopped(&p)); /* the SIGSTOP is still pending */
	p.sigpnd = 0;
	assert_false(exechold_is_stopped(&p));
	p.state = 't';
	assert_true(exechold_is_stopped(&p));

	assert_int_equal(exechold_parse_stat("4242 (x) S 1 2 3", &p), -EINVAL); /* cut short */
	assert_int_equal(exechold_parse_stat("4242 x S 1 2 3", &p), -EINVAL);	/* no comm */
	assert_int_equal(exechold_parse_stat("", &p), -EINVAL);
	assert_int_equal(exechold_parse_stat("1 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 "
					     "abc 1 1 1 1 1 0 0 0 0 0 0 0",
					     &p),
			 -EINVAL); /* starttime not a number */
}

static void test_read_stat_self(void **state)
{
	struct exechold_proc p;

	(void)state;
	assert_int_equal(exechold_read_stat(getpid(), &p), 0);
	assert_int_equal(p.state, 'R');
	assert_true(p.start_ticks > 0);
	assert_int_equal(exechold_read_stat(0x3fffffff, &p), -ENOENT);
}

static void test_key_of(void **state)
{
	struct stat st = {.st_dev = makedev(254, 3), .st_ino = 1234567};
	struct cs_exe_key k;

	(void)state;
	exechold_key_of(&st, 0xdeadbeef, &k);
	assert_int_equal(k.dev, (254u << 20) | 3);
	assert_int_equal(k.ino, 1234567);
	assert_int_equal(k.gen, 0xdeadbeef);
	st.st_dev = makedev(0, 300); /* minor numbers above 255 */
	exechold_key_of(&st, 0, &k);
	assert_int_equal(k.dev, 300);
	assert_int_equal(exechold_ticks(1234567890ULL * (1000000000ULL / sysconf(_SC_CLK_TCK))),
			 1234567890ULL);
}

static void test_queue(void **state)
{
	struct exechold_queue q = {0};
	unsigned next = 0;

	(void)state;
	assert_null(exechold_queue_peek(&q));
	exechold_queue_pop(&q); /* empty: nothing happens */
	/* interleaved pushes and pops wrap around and grow the ring, order kept */
	for (unsigned i = 0; i < 300; i++) {
		struct cs_hold h = {.key = {.pid = i}, .ts_ns = 1000 + i};

		assert_int_equal(exechold_queue_push(&q, &h), 0);
		if (i % 3 == 2) {
			assert_int_equal(exechold_queue_peek(&q)->key.pid, next);
			exechold_queue_pop(&q);
			next++;
		}
	}
	assert_int_equal(q.len, 200);
	while (exechold_queue_peek(&q)) {
		assert_int_equal(exechold_queue_peek(&q)->key.pid, next);
		assert_int_equal(exechold_queue_peek(&q)->ts_ns, 1000 + next);
		exechold_queue_pop(&q);
		next++;
	}
	assert_int_equal(next, 300);
	exechold_queue_release(&q);
}

static void test_stats_time(void **state)
{
	struct exechold_stats st = {0};

	(void)state;
	exechold_stats_time(&st, 3000000);
	exechold_stats_time(&st, 9000000);
	exechold_stats_time(&st, 1000000);
	assert_int_equal(st.nsamples, 3);
	assert_int_equal(st.time_sum_ns, 13000000);
	assert_int_equal(st.time_max_ns, 9000000);
}

/* A table standing in for the kernel's map "exec_held": one entry. */
struct table {
	struct cs_hold_key k;
	__u64 ts;
	int present;
	int del_fails; /* the other side deletes it first */
};

static int tbl_lookup(void *ctx, const struct cs_hold_key *k, __u64 *ts)
{
	struct table *t = ctx;

	if (!t->present || memcmp(k, &t->k, sizeof(*k)))
		return -ENOENT;
	*ts = t->ts;
	return 0;
}

static int tbl_del(void *ctx, const struct cs_hold_key *k)
{
	struct table *t = ctx;

	if (!t->present || memcmp(k, &t->k, sizeof(*k)) || t->del_fails) {
		t->present = 0;
		return -ENOENT;
	}
	t->present = 0;
	return 0;
}

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* A child that stops itself (SIGSTOP), as a held process would be; returns once stopped. */
static pid_t stopped_child(void)
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		raise(SIGSTOP);
		_exit(7);
	}
	assert_int_equal(waitpid(pid, &status, WUNTRACED), pid);
	assert_true(WIFSTOPPED(status));
	return pid;
}

/* A child that runs (sleeps) until killed. */
static pid_t running_child(void)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		for (;;)
			pause();
	}
	return pid;
}

/* The held-map entry of pid, as tp_exec makes it (start time in ns, hold age in ns). */
static void held(struct table *t, pid_t pid, __u64 age_ns)
{
	struct exechold_proc p;

	/* /proc may not show a fresh child at once: its stat is there after fork returns */
	assert_int_equal(exechold_read_stat(pid, &p), 0);
	memset(t, 0, sizeof(*t));
	t->k.pid = pid;
	t->k.start_ns = p.start_ticks * (1000000000ULL / sysconf(_SC_CLK_TCK)) + 1;
	t->ts = now_ns() - age_ns;
	t->present = 1;
}

static char state_of(pid_t pid)
{
	struct exechold_proc p;

	return exechold_read_stat(pid, &p) ? '-' : p.state;
}

static void test_release_stopped(void **state)
{
	struct table t;
	struct exechold_map m = {tbl_lookup, tbl_del, &t};
	struct exechold_stats st = {0};
	pid_t pid = stopped_child();
	int status;

	(void)state;
	held(&t, pid, 5000000);
	assert_int_equal(exechold_release_one(&m, &t.k, EXECHOLD_PROBED, 1, &st),
			 EXECHOLD_CONTINUED);
	assert_false(t.present);
	/* it runs on and exits */
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 7);
	assert_int_equal(st.probed, 1);
	assert_int_equal(st.nsamples, 1);
	assert_true(st.time_max_ns >= 5000000);
	/* released once: a second release finds nothing */
	assert_int_equal(exechold_release_one(&m, &t.k, EXECHOLD_BOUND, 0, &st), EXECHOLD_ABSENT);
	assert_int_equal(st.bound, 0);
}

static void test_release_not_ours(void **state)
{
	struct table t;
	struct exechold_map m = {tbl_lookup, tbl_del, &t};
	struct exechold_stats st = {0};
	struct cs_hold_key other;
	pid_t pid = stopped_child();

	(void)state;
	/* not in the map: not continued */
	held(&t, pid, 0);
	t.present = 0;
	assert_int_equal(exechold_release_one(&m, &t.k, EXECHOLD_PROBED, 1, &st), EXECHOLD_ABSENT);
	assert_int_equal(state_of(pid), 'T');
	/* the entry of another process with this pid (a start time 1 s off): not continued,
	 * and not this entry either */
	held(&t, pid, 0);
	other = t.k;
	other.start_ns += 1000000000ULL;
	assert_int_equal(exechold_release_one(&m, &other, EXECHOLD_PROBED, 1, &st),
			 EXECHOLD_ABSENT);
	assert_true(t.present);
	/* an entry whose pid is now another process (start time differs): dropped, no signal */
	t.k.start_ns += 1000000000ULL;
	assert_int_equal(exechold_release_one(&m, &t.k, EXECHOLD_BOUND, 0, &st), EXECHOLD_GONE);
	assert_false(t.present);
	assert_int_equal(state_of(pid), 'T');
	assert_int_equal(st.gone, 1);
	/* the other side deletes first: no second SIGCONT from us */
	held(&t, pid, 0);
	t.del_fails = 1;
	assert_int_equal(exechold_release_one(&m, &t.k, EXECHOLD_PROBED, 1, &st), EXECHOLD_ABSENT);
	assert_int_equal(state_of(pid), 'T');
	assert_int_equal(st.probed + st.bound, 0);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static void test_release_running(void **state)
{
	struct table t;
	struct exechold_map m = {tbl_lookup, tbl_del, &t};
	struct exechold_stats st = {0};
	pid_t pid = running_child();

	(void)state;
	/* young and not stopped: its stop may be on the way, left held (may_leave) */
	held(&t, pid, 0);
	assert_int_equal(exechold_release_one(&m, &t.k, EXECHOLD_PROBED, 1, &st), EXECHOLD_LEFT);
	assert_true(t.present);
	/* old and not stopped: someone else continued it; dropped, no signal sent */
	held(&t, pid, 1000000000ULL);
	assert_int_equal(exechold_release_one(&m, &t.k, EXECHOLD_BOUND, 0, &st), EXECHOLD_RUNNING);
	assert_false(t.present);
	assert_int_equal(st.running, 1);
	assert_int_equal(st.nsamples, 0);
	/* gone meanwhile */
	held(&t, pid, 0);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	assert_int_equal(exechold_release_one(&m, &t.k, EXECHOLD_SHUTDOWN, 0, &st), EXECHOLD_GONE);
	assert_false(t.present);
	assert_int_equal(st.gone, 1);
	assert_int_equal(st.shutdown, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_stat),	     cmocka_unit_test(test_read_stat_self),
	    cmocka_unit_test(test_key_of),	     cmocka_unit_test(test_queue),
	    cmocka_unit_test(test_stats_time),	     cmocka_unit_test(test_release_stopped),
	    cmocka_unit_test(test_release_not_ours), cmocka_unit_test(test_release_running),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
