#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# A Go net/http client (crypto/tls, built here from stdlib only) POSTs JSON over HTTPS,
# channel "go-tls". The binary is named to the monitor with --tls-lib.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
# shellcheck source-path=SCRIPTDIR source=lib/tls.sh
source "$(dirname "$0")/lib/tls.sh"
e2e_setup
tls_setup
tls_go_build
monitor_start --tls-lib "$TLS_GO_BIN"
tls_go '{"order":{"buyer_phone":"15898760002"}}'
tls_wait_requests 1
wait_findings 1
monitor_stop
tls_expect_one u002 '["phone"]' cs-gotls go-tls "$TLS_PID"
expect_no_raw_values
