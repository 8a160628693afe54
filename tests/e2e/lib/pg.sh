# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
# A PostgreSQL server the test owns (Debian's postgresql package): a cluster made by initdb as
# user postgres in its own temporary directory, trust authentication, listening only on a unix
# socket in that directory. Stopped (immediate) and removed at exit. Sourced by the tests that
# need it, after common.sh.

PG_ROOT=
PG_DATA=
PG_SOCK=
PG_DB=consentry

pg_bin() {
	local d
	d=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)
	[[ -n "$d" && -x "$d/initdb" ]] || fail "PostgreSQL server binaries not found (scripts/setup installs postgresql)"
	echo "$d"
}

pg_ctl_as() {
	runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DATA" "$@"
}

pg_cleanup() {
	[[ -n "$PG_ROOT" ]] || return 0
	[[ -f "$PG_DATA/postmaster.pid" ]] && pg_ctl_as stop -m immediate -w -t 10 >/dev/null 2>&1
	rm -rf "$PG_ROOT"
	PG_ROOT=
}

pg_dump_log() {
	[[ -n "$PG_ROOT" && -f "$PG_ROOT/server.log" ]] || return 0
	echo "--- PostgreSQL server log ($PG_ROOT/server.log):" >&2
	tail -n 30 "$PG_ROOT/server.log" >&2
}

# pg_start: a new cluster with database $PG_DB, or (after pg_stop) the same one again.
pg_start() {
	if [[ -z "$PG_ROOT" ]]; then
		PG_BIN=$(pg_bin)
		id postgres >/dev/null 2>&1 || fail "no user postgres (the postgresql package makes it)"
		PG_ROOT=$(mktemp -d /tmp/cs-pg.XXXXXX)
		CLEANUP_FNS+=(pg_cleanup)
		DUMP_FNS+=(pg_dump_log)
		PG_DATA=$PG_ROOT/data
		PG_SOCK=$PG_ROOT/sock
		mkdir -p "$PG_SOCK"
		chown -R postgres: "$PG_ROOT"
		chmod 0755 "$PG_ROOT"
		runuser -u postgres -- "$PG_BIN/initdb" -D "$PG_DATA" -A trust -U postgres -E UTF8 \
			--no-sync >"$PG_ROOT/initdb.log" 2>&1 || fail "initdb failed: $(cat "$PG_ROOT/initdb.log")"
	fi
	pg_ctl_as start -w -t 30 -l "$PG_ROOT/server.log" \
		-o "-c listen_addresses='' -c unix_socket_directories='$PG_SOCK' -c fsync=off" \
		>/dev/null || fail "the PostgreSQL server did not start: $(tail -n 20 "$PG_ROOT/server.log")"
	if ! pg_psql postgres -c "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'" | grep -q 1; then
		pg_psql postgres -c "CREATE DATABASE $PG_DB" >/dev/null
	fi
}

# pg_stop: fast shutdown (clients are disconnected).
pg_stop() {
	pg_ctl_as stop -m fast -w -t 30 >/dev/null || fail "pg_ctl stop failed"
}

# pg_psql [DB] [psql args...]: psql over the socket, as postgres, stopping at the first error.
pg_psql() {
	local db=$PG_DB
	if [[ "${1:-}" != -* && -n "${1:-}" ]]; then
		db=$1
		shift
	fi
	PGCONNECT_TIMEOUT=10 timeout -k 5 30 "$PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 \
		-h "$PG_SOCK" -U postgres -d "$db" "$@" || fail "psql failed or took over 30 s: $*"
}

# pg_single SQL: run SQL with the server stopped, in single-user mode (no socket: no client
# can connect meanwhile).
pg_single() {
	echo "$1" | timeout -k 5 30 runuser -u postgres -- "$PG_BIN/postgres" --single -D "$PG_DATA" \
		"$PG_DB" >"$PG_ROOT/single.log" 2>&1 ||
		fail "single-user postgres failed or took over 30 s: $(cat "$PG_ROOT/single.log")"
	grep -q ERROR "$PG_ROOT/single.log" && fail "single-user postgres: $(cat "$PG_ROOT/single.log")"
	return 0
}

# pg_url [PARAMS]: the URL of $PG_DB over the socket (the host is the socket directory,
# percent-encoded), with a password that trust authentication ignores: it must never be printed.
PG_PASSWORD=s3cret-Pw
pg_url() {
	local host=${PG_SOCK//\//%2F}
	echo "postgresql://postgres:$PG_PASSWORD@$host/$PG_DB${1:+?$1}"
}
