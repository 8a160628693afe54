#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2119 # tls_go_build takes optional args
# A self-test of the HTTPS harness (lib/tls.sh) without the monitor: every client reaches the
# server with SNI and Host $TLS_HOST, the server reads each whole body, the waiting clients send
# only when told to, and a raw message with SNI is logged as such.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
# shellcheck source-path=SCRIPTDIR source=lib/tls.sh
source "$(dirname "$0")/lib/tls.sh"
e2e_setup
tls_setup
tls_selftest_body='{"selftest":"harness","n":1}'
tls_selftest_n=0
tls_selftest_check() {
	local want="req $TLS_PORT from $NS_V4.1 sni $TLS_HOST host $TLS_HOST:$TLS_PORT"
	want+=" method POST path $TLS_PATH body ${#tls_selftest_body}"
	tls_selftest_n=$((tls_selftest_n + 1))
	tls_wait_requests "$tls_selftest_n"
	got=$(grep '^req ' "$TLS_LOG" | sed -n "${tls_selftest_n}p")
	[[ "$got" == "$want" ]] || fail "$1: server logged '$got', expected '$want'"
	info "ok: $1 (pid $TLS_PID)"
}
for c in curl python pyraw wget node go; do
	case $c in
	wget | node | go)
		cmd=$c pkg=$c
		[[ $c == node ]] && pkg=nodejs
		[[ $c == go ]] && pkg=golang-go
		if ! command -v "$cmd" >/dev/null; then
			[[ "${CI:-}" == true ]] && fail "$cmd not installed (Debian package $pkg)"
			info "skipped $c: $cmd not installed (apt-get install $pkg)"
			continue
		fi
		[[ $c == go ]] && tls_go_build
		;;
	esac
	"tls_$c" "$tls_selftest_body"
	tls_selftest_check "$c"
done
tls_pyraw_start "$tls_selftest_body"
sleep 0.2
(($(tls_requests) == tls_selftest_n)) || fail "pre-connected client sent before told to"
tls_pyraw_send
tls_selftest_check "pre-connected python"
tls_pyraw_finish
if command -v go >/dev/null; then
	tls_go_start "$tls_selftest_body" fifo
	sleep 0.2
	(($(tls_requests) == tls_selftest_n)) || fail "waiting Go client sent before told to"
	tls_go_release
	tls_go_wait
	tls_selftest_check "waiting go"
fi
tls_pyraw_msg "events.$TLS_DOMAIN" "$tls_selftest_body"
tls_wait_requests $((tls_selftest_n + 1))
want="raw $TLS_PORT from $NS_V4.1 sni events.$TLS_DOMAIN bytes $((${#tls_selftest_body} + 1))"
[[ "$(tail -n 2 "$TLS_LOG" | grep '^raw ')" == "$want" ]] ||
	fail "raw message: server logged '$(tail -n 2 "$TLS_LOG")', expected '$want'"
info "ok: raw message with SNI"
info "ok: HTTPS harness works"
