#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# /usr/bin/python3 urllib POSTs JSON over HTTPS (libssl.so.3, SSL_write_ex). http.client
# writes the request head and the body in two SSL_write_ex calls, so the Host header of the
# first write must name the recipient of the data in the second.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
# shellcheck source-path=SCRIPTDIR source=lib/tls.sh
source "$(dirname "$0")/lib/tls.sh"
e2e_setup
tls_setup
monitor_start
tls_python '{"newsletter":true,"contact":{"email":"li.na@example.org"}}'
tls_wait_requests 1
wait_findings 1
monitor_stop
tls_expect_one u002 '["email"]' python3 openssl "$TLS_PID"
expect_no_raw_values
