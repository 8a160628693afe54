#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# /usr/bin/node https.request POSTs JSON: OpenSSL linked statically into the node binary
# (nodesource builds; Debian's nodejs uses libssl.so.3), channel "openssl" either way.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
# shellcheck source-path=SCRIPTDIR source=lib/tls.sh
source "$(dirname "$0")/lib/tls.sh"
e2e_setup
tls_setup
tls_need node nodejs
monitor_start
tls_node '{"profile":{"phone":"+86 137-1234-0001","mail":"Zhang.Wei@example.com"}}'
tls_wait_requests 1
wait_findings 1
monitor_stop
tls_expect_one u001 '["email", "phone"]' node openssl "$TLS_PID"
expect_no_raw_values
