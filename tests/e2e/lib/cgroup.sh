# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
# cgroup v2 directories for a test (made, removed at exit) and senders run inside them.
# Sourced by common.sh.

# need_cgroup2: CG_ROOT = the cgroup v2 mount (the unified hierarchy first); without one the
# test skips (fails under CI=true).
# cg_rmdir DIR: remove one cgroup v2 directory (its children gone already), moving any process
# left in it to the root first; retried for 5 s. Returns 1 if it is still there.
cg_rmdir() {
	local d=$1 p i
	for ((i = 0; i < 50; i++)); do
		[[ -d "$d" ]] || return 0
		while read -r p; do
			[[ -n "$p" ]] && echo "$p" >"$CG_ROOT/cgroup.procs" 2>/dev/null
		done <"$d/cgroup.procs"
		rmdir "$d" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "# warning: could not remove $d" >&2
	return 1
}

# cg_mkdir REL...: make the cgroup v2 directories $CG_ROOT/REL in order (need_cgroup2 first;
# a parent before its children), each removed at exit once the test's processes are gone,
# children first (cg_remove_all does it earlier).
cg_mkdir() {
	local rel
	[[ -n "${CG_ROOT:-}" ]] || need_cgroup2
	for rel in "$@"; do
		mkdir "$CG_ROOT/${rel#/}" || fail "cannot create $CG_ROOT/${rel#/}"
		CG_TEMP=("$CG_ROOT/${rel#/}" "${CG_TEMP[@]}")
	done
}

# cg_remove_all: remove every cgroup of cg_mkdir now (children first); fail if one remains.
cg_remove_all() {
	local d
	for d in "${CG_TEMP[@]}"; do
		cg_rmdir "$d"
		[[ ! -d "$d" ]] || fail "could not remove $d"
	done
	CG_TEMP=()
}

# cg_run DIR CMD...: run CMD in the background inside the cgroup directory DIR (the subshell
# joins it, then execs CMD, which keeps the PID); its PID in CG_PID, killed at exit.
cg_run() {
	local dir=$1
	shift
	(
		echo "$BASHPID" >"$dir/cgroup.procs" || exit 99
		exec "$@"
	) &
	CG_PID=$!
	track_pid "$CG_PID"
}

# cg_temp NAME: cg_mkdir NAME; its path in CG.
cg_temp() {
	cg_mkdir "$1"
	# shellcheck disable=SC2034 # CG is for the caller
	CG=$CG_ROOT/$1
}

need_cgroup2() {
	local r
	CG_ROOT=
	for r in /sys/fs/cgroup/unified /sys/fs/cgroup; do
		if [[ "$(stat -f -c %T "$r" 2>/dev/null)" == cgroup2fs ]]; then
			CG_ROOT=$r
			return 0
		fi
	done
	[[ "${CI:-}" == true ]] && { echo "FAIL: $E2E_NAME: no cgroup v2 mount" >&2; exit 1; }
	echo "SKIP: no cgroup v2 mount"
	exit 77
}
