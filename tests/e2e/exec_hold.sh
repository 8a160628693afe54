#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The exec hold never outlives its bound or the monitor. A new executable (a fresh copy of
# /bin/true) is started while the collector is SIGSTOPped, so nothing but the watchdog can
# release it:
# 1. default bound: it is continued at the 200 ms bound (it takes >= 150 ms, not seconds), the
#    summary counts it, and the log names it;
# 2. bound 10 s, then kill -9 of the collector: the watchdog continues it at once (well before
#    the bound), says so and exits; no BPF program or map of the monitor or the watchdog is
#    left;
# 3. bound 10 s, then SIGINT (and SIGCONT): the monitor exits 0 and the process has run, long
#    before the bound;
# 4. bound 10 s, on a terminal (script(1)): a job that an interactive shell with job control
#    starts in the foreground is not held (the shell would report it stopped), a command that
#    a non-interactive shell runs there is; nor is a process traced by strace -f, nor a child
#    of runuser or unshare --fork, which stop themselves when their child stops (held, it would
#    run at the bound and they would stay stopped for good).
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
e2e_setup --no-ns
command -v bpftool >/dev/null || fail "bpftool not installed"
mkdir -p "$WORK/bin"
# The new executables, copied before any monitor runs: a cp while a monitor runs is itself a new
# exec to hold, and one still held when the test stops the collector would wait for the bound.
for f in new-bound new-kill new-int new-tty-job new-traced new-runuser new-unshare; do
	cp /bin/true "$WORK/bin/$f"
done
cp /bin/sleep "$WORK/bin/ttycmd$$"

# pid_of COMM: the pid of the process named COMM (builtins only, as stat_state).
pid_of() {
	local f c
	for f in /proc/[0-9]*/comm; do
		read -r c 2>/dev/null <"$f" || continue
		[[ "$c" == "$1" ]] || continue
		f=${f#/proc/}
		echo "${f%/comm}"
		return 0
	done
	return 1
}
# held_run NAME: start the new copy of /bin/true NAME with the collector stopped; $NEW_PID,
# $NEW_T0.
held_run() {
	kill -STOP "$MON_PID"
	NEW_T0=$EPOCHREALTIME
	"$WORK/bin/$1" &
	NEW_PID=$!
	track_pid "$NEW_PID"
}
# wait_running PID T0: wait (up to 10 s) until PID is no longer stopped; prints ms since T0.
wait_running() {
	local i
	for ((i = 0; i < 2000; i++)); do
		[[ "$(stat_state "$1")" == T ]] || break
		sleep 0.005
	done
	elapsed_ms "$2"
}
# bpf_ids PID...: "prog:ID" and "map:ID" of every BPF program and map the processes hold
# (fds and links, from fdinfo; other monitors may load and unload theirs meanwhile).
bpf_ids() {
	local p
	for p in "$@"; do
		cat /proc/"$p"/fdinfo/* 2>/dev/null || true # fds come and go
	done | awk '$1 == "prog_id:" { print "prog:" $2 } $1 == "map_id:" { print "map:" $2 }' |
		sort -u
}
# expect_bpf_gone IDS: none of IDS (bpf_ids) is loaded any more (5 s for RCU).
expect_bpf_gone() {
	local left i
	for ((i = 0; i < 50; i++)); do
		left=$(comm -12 <(echo "$1") <({
			bpftool -j prog list | jq -r '.[] | "prog:\(.id)"'
			bpftool -j map list | jq -r '.[] | "map:\(.id)"'
		} | sort -u))
		[[ -z "$left" ]] && return 0
		sleep 0.1
	done
	fail "BPF objects of the monitor left after exit: $(echo "$left" | tr '\n' ' ')"
}

# 1. The bound.
monitor_start
held_run new-bound
wait "$NEW_PID" || fail "new-bound failed"
ms=$(elapsed_ms "$NEW_T0")
kill -CONT "$MON_PID"
((ms >= 150 && ms < 2000)) || fail "new-bound ran for $ms ms with the collector stopped, expected ~200 ms"
monitor_stop
grep -a -q "exec hold: pid $NEW_PID continued at the 200 ms bound" "$MONLOG" ||
	fail "the log does not name pid $NEW_PID as continued at the bound"
line=$(grep -a "exec releases" "$MONLOG")
[[ "$line" =~ at\ the\ 200\ ms\ bound\ ([0-9]+) ]] || fail "summary line not understood: $line"
((BASH_REMATCH[1] >= 1)) || fail "summary does not count the release at the bound: $line"
info "ok: held $ms ms with the collector stopped, continued at the 200 ms bound"

# 2. kill -9 of the collector while a process is held.
CONSENTRY_EXEC_HOLD_MS=10000 monitor_start
wd=$(pgrep -P "$MON_PID" -x consentry-hold) || fail "no watchdog (consentry-hold) under pid $MON_PID"
ids=$(bpf_ids "$MON_PID" "$wd")
[[ "$ids" == *prog:* && "$ids" == *map:* ]] || fail "no BPF fds found in fdinfo of $MON_PID, $wd"
held_run new-kill
sleep 0.5
st=$(stat_state "$NEW_PID")
[[ "$st" == T ]] || {
	kill -CONT "$MON_PID"
	fail "new-kill not held while the collector is stopped (state $st)"
}
t0=$EPOCHREALTIME
kill -KILL "$MON_PID"
ms=$(wait_running "$NEW_PID" "$t0")
wait "$MON_PID" 2>/dev/null || true
MON_PID=
wait "$NEW_PID" || fail "new-kill failed after the collector was killed"
((ms < 2000)) || fail "new-kill ran $ms ms after the collector was killed (bound 10 s)"
for ((i = 0; i < 50; i++)); do
	kill -0 "$wd" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$wd" 2>/dev/null && fail "the watchdog (pid $wd) is still running after the collector died"
grep -a -q -E "exec hold watchdog: the collector is gone; continued [1-9][0-9]* held process" \
	"$MONLOG" || fail "the watchdog did not report the release"
expect_bpf_gone "$ids"
info "ok: held until kill -9 of the collector, then continued by the watchdog $ms ms later"

# 3. SIGINT while a process is held.
CONSENTRY_EXEC_HOLD_MS=10000 monitor_start
wd=$(pgrep -P "$MON_PID" -x consentry-hold) || fail "no watchdog (consentry-hold) under pid $MON_PID"
ids=$(bpf_ids "$MON_PID" "$wd")
held_run new-int
sleep 0.5
st=$(stat_state "$NEW_PID")
[[ "$st" == T ]] || {
	kill -CONT "$MON_PID"
	fail "new-int not held while the collector is stopped (state $st)"
}
t0=$EPOCHREALTIME
kill -INT "$MON_PID"
kill -CONT "$MON_PID"
ms=$(wait_running "$NEW_PID" "$t0")
CS_SETTLE=0 monitor_stop INT
wait "$NEW_PID" || fail "new-int failed"
((ms < 5000)) || fail "new-int ran $ms ms after SIGINT (bound 10 s)"
kill -0 "$wd" 2>/dev/null && fail "the watchdog (pid $wd) outlived the monitor"
[[ "$(summary_value "exec holds")" -ge 1 ]] || fail "summary counts no hold"
expect_bpf_gone "$ids"
info "ok: a process held at SIGINT ran $ms ms later; the monitor and its watchdog exited"

# 4. Terminals: job-control shells' foreground jobs are left alone, their commands' children not.
command -v script >/dev/null || fail "script (util-linux) not installed"
CONSENTRY_EXEC_HOLD_MS=10000 monitor_start
script -q -c "bash --norc -i -c 'set -m; /bin/true'" /dev/null </dev/null >/dev/null 2>&1 ||
	fail "script(1) with an interactive bash failed"
sleep 0.5 # the collector examines script, bash, true before it is stopped
kill -STOP "$MON_PID"
t0=$EPOCHREALTIME
script -q -c "bash --norc -i -c 'set -m; $WORK/bin/new-tty-job'" /dev/null </dev/null \
	>"$WORK/tty-job.out" 2>&1 || {
	kill -CONT "$MON_PID"
	fail "the terminal job failed: $(cat "$WORK/tty-job.out")"
}
ms=$(elapsed_ms "$t0")
((ms < 2000)) || {
	kill -CONT "$MON_PID"
	fail "a foreground job of a job-control shell was held ($ms ms)"
}
script -q -c "bash --norc -c '$WORK/bin/ttycmd$$ 0; true'" /dev/null </dev/null \
	>"$WORK/tty-cmd.out" 2>&1 &
tty_pid=$!
track_pid "$tty_pid"
sleep 0.5
cmd_pid=$(pid_of "ttycmd$$") || {
	kill -CONT "$MON_PID"
	fail "no ttycmd$$ process: $(cat "$WORK/tty-cmd.out")"
}
st=$(stat_state "$cmd_pid")
kill -CONT "$MON_PID"
[[ "$st" == T ]] || fail "a non-interactive shell's command on a terminal was not held (state $st)"
wait "$tty_pid" || fail "the terminal command failed: $(cat "$WORK/tty-cmd.out")"
if command -v strace >/dev/null; then
	strace -f -o /dev/null /bin/true || fail "strace does not run"
	sleep 0.5
	kill -STOP "$MON_PID"
	t0=$EPOCHREALTIME
	strace -f -o /dev/null "$WORK/bin/new-traced" || {
		kill -CONT "$MON_PID"
		fail "new-traced failed under strace"
	}
	ms_traced=$(elapsed_ms "$t0")
	kill -CONT "$MON_PID"
	((ms_traced < 2000)) || fail "a traced process was held ($ms_traced ms)"
fi
# parents that forward their child's stop: known by the collector first, then a new child each
runuser -u root -- /bin/true || fail "runuser does not run"
unshare --fork /bin/true || fail "unshare --fork does not run"
sleep 0.5
kill -STOP "$MON_PID"
t0=$EPOCHREALTIME
rc=0
timeout 20 runuser -u root -- "$WORK/bin/new-runuser" || rc=$?
timeout 20 unshare --fork "$WORK/bin/new-unshare" || rc=$?
ms_fwd=$(elapsed_ms "$t0")
kill -CONT "$MON_PID"
((rc == 0)) || fail "runuser or unshare --fork did not finish (exit $rc)"
((ms_fwd < 2000)) || fail "children of runuser and unshare --fork were held ($ms_fwd ms)"
monitor_stop
line=$(grep -a "exec holds" "$MONLOG")
[[ "$line" =~ under\ su/sudo/runuser\ ([0-9]+) ]] || fail "summary line not understood: $line"
((BASH_REMATCH[1] >= 2)) || fail "summary counts no child of a stop-forwarding parent: $line"
[[ "$line" =~ terminal\ jobs\ ([0-9]+),\ traced\ ([0-9]+) ]] || fail "summary line not understood: $line"
((BASH_REMATCH[1] >= 1)) || fail "summary counts no terminal job: $line"
if command -v strace >/dev/null; then
	((BASH_REMATCH[2] >= 1)) || fail "summary counts no traced process: $line"
	info "ok: a process traced by strace -f ran unheld ($ms_traced ms)"
else
	info "skipped the traced process: strace not installed"
fi
info "ok: a terminal's foreground job ran unheld ($ms ms), a shell command on it was held"
info "ok: children of runuser and unshare --fork ran unheld ($ms_fwd ms for both)"

