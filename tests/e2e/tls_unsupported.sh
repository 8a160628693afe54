#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# A TLS stack consentry cannot probe is reported, never silent: a Go client stripped of its
# symbol table (go build -ldflags="-s -w") sends a registered value over HTTPS. No finding can
# be made; the monitor names the executable as not inspected and the summary lists the flow's
# application-data bytes as uninspected.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
# shellcheck source-path=SCRIPTDIR source=lib/tls.sh
source "$(dirname "$0")/lib/tls.sh"
e2e_setup
tls_setup
BIN="$WORK/go-stripped/cs-gostrip"
tls_go_build "$BIN" -ldflags="-s -w"
monitor_start --tls-lib "$BIN"
grep -q "cs-gostrip is a Go executable without a symbol table" "$MONLOG" ||
	fail "the monitor did not report the stripped Go executable as not inspected"
tls_run cs-gostrip "${TLS_IN_HOSTS[@]}" "$BIN" "$(tls_url)" "$TLS_CA" \
	"$(tls_body_file '{"phone":"13712340001"}')"
tls_wait_requests 1
monitor_stop
expect_findings 0
line=$(grep -E "flow cs-gostrip pid $TLS_PID -> $IP_PEER:$TLS_PORT/tcp: [0-9]+ of [0-9]+ bytes uninspected" \
	"$MONLOG") || fail "summary lists no uninspected flow for the stripped client"
if ! [[ "$line" =~ :\ ([1-9][0-9]*)\ of ]]; then
	fail "uninspected byte count is zero: $line"
fi
info "ok: $line"
expect_no_raw_values
