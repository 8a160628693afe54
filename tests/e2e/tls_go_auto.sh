#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# Go executables are found without --tls-lib: one already running when the monitor starts
# (from the maps of running processes), then one started while it runs (from the exec
# tracepoint), which sends 1 s after it started. One go-tls finding each.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
# shellcheck source-path=SCRIPTDIR source=lib/tls.sh
source "$(dirname "$0")/lib/tls.sh"
e2e_setup
tls_setup
tls_go_build

# Running before the monitor starts; sends once told to.
tls_go_start '{"order":{"buyer_phone":"15898760002"}}' fifo
early=$TLS_PID
monitor_start
tls_go_release
tls_go_wait
tls_wait_requests 1
wait_findings 1
monitor_stop
tls_expect_one u002 '["phone"]' cs-gotls go-tls "$early"

# Started while the monitor runs.
monitor_start
tls_go_start '{"order":{"buyer_email":"wang.fang@example.net"}}' 1s
late=$TLS_PID
tls_go_wait
tls_wait_requests 2
wait_findings 1
monitor_stop
tls_expect_one u003 '["email"]' cs-gotls go-tls "$late"
expect_no_raw_values
