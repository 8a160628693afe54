#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# curl POSTs JSON over HTTPS (libssl.so.3, SSL_write) to api.partner.example, whose address
# is in no recipient selector: the plaintext is scanned before encryption, the Host header
# resolves the recipient (*.partner.example, third party, no consent), and the ciphertext
# on the socket is not reported a second time.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
# shellcheck source-path=SCRIPTDIR source=lib/tls.sh
source "$(dirname "$0")/lib/tls.sh"
e2e_setup
tls_setup
monitor_start
tls_curl '{"event":"signup","user":{"mobile":"13955550005"}}'
tls_wait_requests 1
wait_findings 1
monitor_stop
tls_expect_one u005 '["phone"]' curl openssl "$TLS_PID"
expect_no_raw_values
